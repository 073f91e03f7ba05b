//! Why a text or a stored value is not a KPI value: a period, grain, split or scope that is not
//! one, a target record that cannot be read, working-time settings that do not parse.
//!
//! Each variant holds the value at fault; its message is the sentence people read (the API, the
//! web forms and the command line show it as it is, after naming the field).

use jiff::civil::Date;

use crate::period::PeriodKind;

/// Why a value is not a KPI value.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ValueError {
    /// Not `week`, `month`, `quarter` or `year`.
    #[error("{text:?} is not a period: use week, month, quarter or year")]
    Period { text: String },
    /// Not `week`, `day` or `hour`.
    #[error("{text:?} is not a breakdown grain: use week, day or hour")]
    Grain { text: String },
    /// Not `calendar`, `even` or `seasonal`.
    #[error("{text:?} is not a split: use calendar, even or seasonal")]
    Split { text: String },
    /// Not `company`, `team:ID` or `user:ID` (the text as trimmed).
    #[error("{text:?} is not a scope: write company, team:ID or user:ID")]
    Scope { text: String },
    /// A stored target without its `starts_on` date.
    #[error("a target needs starts_on")]
    NoStartsOn,
    /// A stored target whose value is not a number.
    #[error("target value {text:?} is not a number")]
    TargetValue { text: String },
    /// The period of `kind` starting on `starts_on` ends past the calendar.
    #[error("{source}")]
    PeriodEnd {
        kind: PeriodKind,
        starts_on: Date,
        #[source]
        source: jiff::Error,
    },
    /// The 12 weeks of history a seasonal split reads, before the period starting on
    /// `starts_on`, begin before the calendar does.
    #[error("{source}")]
    SeasonalHistory {
        starts_on: Date,
        #[source]
        source: jiff::Error,
    },
    /// A working-time setting or a day's start in the zone (the domain says which and why).
    #[error(transparent)]
    Domain(#[from] traction_domain::Error),
}
