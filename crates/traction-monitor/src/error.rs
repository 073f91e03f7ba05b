//! Why a text is not a monitoring value: a duration, a status level, a window, a comparison, how
//! often or at what time a schedule sends.
//!
//! Each variant holds the text at fault; its message is the sentence people read, naming the
//! command line's flag as the rule and schedule docs do. [`crate::Error::at`] names the field.

/// Why a text is not a monitoring value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a number and a unit (`30m`, `2h`, `1d`, a sum such as `1h30m`), nor `0`.
    #[error(
        "{text:?} is not a duration: write a number and a unit, such as 30m, 2h or 1d (s, m, h, d), or 0"
    )]
    Duration { text: String },
    /// Not `at_risk` or `off_track`.
    #[error("--status {text:?}: write at_risk or off_track")]
    Level { text: String },
    /// Not a threshold's window.
    #[error("--window {text:?}: write 1h, 1d, 7d, 30d or period")]
    Window { text: String },
    /// Not a comparison.
    #[error("--op {text:?}: write <, <=, > or >= (or lt, le, gt, ge)")]
    Op { text: String },
    /// Not how often a schedule sends.
    #[error("--every {text:?}: write day, week or month")]
    Every { text: String },
    /// Not a time of day.
    #[error("--time {text:?}: write HH:MM, such as 08:00")]
    Time { text: String },
}
