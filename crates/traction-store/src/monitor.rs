//! What monitoring keeps (spec: monitoring.md): channels, alert rules, the state of their
//! instances and its history, silences, notifications and their delivery attempts.
//!
//! The [`MonitorStore`] trait is the only way in; the SQLite store implements it
//! (`sqlite/monitor.rs`, migration V9). The store does not interpret a channel's settings or a
//! rule's definition (JSON text of the monitoring crate); it keeps the bookkeeping that makes
//! every notification happen exactly once: an evaluation is committed in one transaction with
//! the notifications it causes (an outbox), an instance is only changed by a writer that saw its
//! current version, and an evaluation before the latest one is refused.

use traction_domain::time::Micros;

use crate::{Actor, Error};

/// A destination for notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    /// `webhook`, `email` or `in_app`.
    pub kind: String,
    /// The channel's settings as JSON text (the monitoring crate's; may hold a secret).
    pub config: String,
    pub created_at: Micros,
    pub created_by: String,
}

/// An alert rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    /// `kpi`, `threshold` or `lead_sla`.
    pub kind: String,
    /// The rule's definition as JSON text (the monitoring crate's).
    pub spec: String,
    /// The channels it notifies (each exists when the rule is written).
    pub channels: Vec<String>,
    /// Working seconds the condition must hold before the instance fires.
    pub for_secs: i64,
    pub created_at: Micros,
    pub created_by: String,
}

/// The state of one instance of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub rule_id: String,
    pub key: String,
    /// `inactive`, `pending`, `firing` or `resolved`.
    pub state: String,
    /// When the condition began to hold (`None` while it does not).
    pub since: Option<Micros>,
    pub fired_at: Option<Micros>,
    /// The last state people were told of: empty, `firing` or `resolved`.
    pub notified: String,
    /// The figure that tripped the condition (or the last one seen).
    pub value: Option<f64>,
    pub summary: String,
    pub url: String,
    /// A user who hears of the instance in the app besides the rule's channels (a lead's owner).
    pub owner_id: Option<String>,
    /// When it was last written: the version a writer must have read to change it.
    pub updated_at: Micros,
}

/// One change of an instance's state.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub seq: i64,
    pub rule_id: String,
    pub key: String,
    pub from: String,
    pub to: String,
    pub at: Micros,
    pub value: Option<f64>,
    pub summary: String,
}

/// A silence: notifications of a rule's instances (one key, or all) held over `[starts_at,
/// ends_at)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Silence {
    pub id: String,
    pub rule_id: String,
    pub key: Option<String>,
    pub starts_at: Micros,
    pub ends_at: Micros,
    pub comment: String,
    pub created_at: Micros,
    pub created_by: String,
}

impl Silence {
    /// Whether the silence holds the notifications of `rule_id`/`key` at `at`.
    pub fn holds(&self, rule_id: &str, key: &str, at: Micros) -> bool {
        self.rule_id == rule_id
            && self.key.as_deref().is_none_or(|k| k == key)
            && self.starts_at <= at
            && at < self.ends_at
    }
}

/// A notification to write: to a channel, or to a user's list in the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    /// `alert`, `report` or `test`.
    pub kind: String,
    pub rule_id: Option<String>,
    pub key: Option<String>,
    pub state: Option<String>,
    pub at: Micros,
    /// Exactly one of `channel_id` and `user_id` is set.
    pub channel_id: Option<String>,
    pub user_id: Option<String>,
    pub body: String,
    pub text: String,
}

/// A stored notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub rule_id: Option<String>,
    pub key: Option<String>,
    pub state: Option<String>,
    pub at: Micros,
    pub channel_id: Option<String>,
    pub user_id: Option<String>,
    pub body: String,
    pub text: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_at: Option<Micros>,
    pub last_error: Option<String>,
    pub created_at: Micros,
    pub delivered_at: Option<Micros>,
    pub read_at: Option<Micros>,
}

/// One try at delivering a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub notification_id: i64,
    pub channel_id: String,
    pub at: Micros,
    pub ok: bool,
    pub error: Option<String>,
}

/// What became of a notification after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again at this instant.
    Retry(Micros),
    /// 24 hours of attempts passed: given up, with the last error kept.
    Failed,
}

/// One instance's change in an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceUpdate {
    /// The version the evaluator read (`None`: it saw no row). A stored row of another version
    /// means another evaluator got there first: the update is skipped.
    pub read_version: Option<Micros>,
    pub instance: Instance,
    /// `(from, to)` when the state changed.
    pub transition: Option<(String, String)>,
    pub notifications: Vec<NewNotification>,
}

/// An evaluation's results, committed together.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The instant evaluated (the data as of then).
    pub at: Micros,
    /// The wall clock when it is committed: when its notifications were made, for delivery
    /// and its 24 hours of retries (`at` may be a past instant given to `alert eval --at`).
    pub now: Micros,
    pub updates: Vec<InstanceUpdate>,
}

/// Which notifications to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct NotificationQuery {
    pub user_id: Option<String>,
    pub unread_only: bool,
    pub channel_id: Option<String>,
    pub limit: usize,
}

/// A scheduled report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub id: String,
    /// `day`, `week` or `month`.
    pub every: String,
    /// `HH:MM` in the workspace zone.
    pub time: String,
    pub scope: String,
    pub channels: Vec<String>,
    pub created_at: Micros,
    /// Whose rights the report is computed with.
    pub created_by: String,
}

/// Monitoring's storage.
pub trait MonitorStore: Send + Sync {
    /// Adds a channel ([`Error::Conflict`] when the id is taken), audited with `audit` as the
    /// record's text (the caller leaves secrets out of it).
    fn add_channel(&self, channel: &Channel, audit: &str, actor: &Actor) -> Result<(), Error>;
    fn channels(&self) -> Result<Vec<Channel>, Error>;
    fn channel(&self, id: &str) -> Result<Option<Channel>, Error>;
    /// Deletes a channel; refused while a rule notifies it.
    fn delete_channel(&self, id: &str, actor: &Actor) -> Result<(), Error>;

    /// Adds a rule ([`Error::Conflict`] when the id is taken; [`Error::Invalid`] when a channel
    /// does not exist).
    fn add_rule(&self, rule: &Rule, actor: &Actor) -> Result<(), Error>;
    fn rules(&self) -> Result<Vec<Rule>, Error>;
    /// Changes a rule's definition, channels and `for` (its id, kind, maker and creation stay;
    /// its instances keep their states, so a firing one resolves only when its condition stops).
    fn update_rule(&self, rule: &Rule, actor: &Actor) -> Result<(), Error>;
    fn rule(&self, id: &str) -> Result<Option<Rule>, Error>;
    /// Deletes a rule with its instances and silences (its history stays).
    fn delete_rule(&self, id: &str, actor: &Actor) -> Result<(), Error>;

    /// The instances of every rule (or of one).
    fn instances(&self, rule_id: Option<&str>) -> Result<Vec<Instance>, Error>;
    /// Transitions with `from <= at < to`, oldest first.
    fn transitions(
        &self,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<Vec<Transition>, Error>;
    /// The instant of the latest committed evaluation.
    fn last_evaluation(&self) -> Result<Option<Micros>, Error>;
    /// Commits an evaluation: instance states, transitions and the notifications they cause,
    /// all or nothing. [`Error::Conflict`] when `at` is before the latest evaluation. Returns the
    /// updates applied (those whose instance had not been changed by another evaluator).
    fn commit_evaluation(&self, evaluation: &Evaluation) -> Result<Vec<InstanceUpdate>, Error>;

    fn add_silence(&self, silence: &Silence, actor: &Actor) -> Result<(), Error>;
    fn silences(&self) -> Result<Vec<Silence>, Error>;
    fn delete_silence(&self, id: &str, actor: &Actor) -> Result<(), Error>;

    /// Writes notifications outside an evaluation (a channel test, a report): to channels as
    /// pending, to users as delivered. Returns their ids.
    fn add_notifications(&self, notes: &[NewNotification], now: Micros) -> Result<Vec<i64>, Error>;
    /// Claims the pending channel notifications due at `now` (at most `limit`): each is moved to
    /// `now + lease` first, so another process does not deliver it at the same time.
    fn claim_due(
        &self,
        now: Micros,
        lease: Micros,
        limit: usize,
    ) -> Result<Vec<Notification>, Error>;
    /// Records an attempt and what became of the notification.
    fn record_attempt(&self, attempt: &Attempt, outcome: Outcome) -> Result<(), Error>;
    fn notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>, Error>;
    fn notification(&self, id: i64) -> Result<Option<Notification>, Error>;
    /// Marks a user's notification read; [`Error::NotFound`] when it is not theirs.
    fn mark_read(&self, id: i64, user_id: &str, at: Micros) -> Result<(), Error>;
    /// Marks every notification of a user read; how many were unread.
    fn mark_all_read(&self, user_id: &str, at: Micros) -> Result<usize, Error>;
    /// How many of a user's notifications in the app are unread.
    fn unread_count(&self, user_id: &str) -> Result<usize, Error>;
    /// The users with notifications in the app made after the notification `after_id`, and the
    /// latest notification id (for the live stream's `notification` events).
    fn notified_since(&self, after_id: i64) -> Result<(i64, Vec<String>), Error>;
    fn attempts(&self, notification_id: i64) -> Result<Vec<Attempt>, Error>;

    /// Adds a schedule ([`Error::Conflict`] when the id is taken; [`Error::Invalid`] when a
    /// channel does not exist).
    fn add_schedule(&self, schedule: &Schedule, actor: &Actor) -> Result<(), Error>;
    fn schedules(&self) -> Result<Vec<Schedule>, Error>;
    /// Changes a schedule's `every`, `time`, `scope` and `channels` (its maker and creation
    /// instant stay); [`Error::NotFound`] when there is none, [`Error::Invalid`] for a channel.
    fn update_schedule(&self, schedule: &Schedule, actor: &Actor) -> Result<(), Error>;
    fn delete_schedule(&self, id: &str, actor: &Actor) -> Result<(), Error>;
    /// The due instants of a schedule already done, with `sent`, `missed` or `refused`.
    fn schedule_runs(&self, schedule_id: &str) -> Result<Vec<(Micros, String)>, Error>;
    /// Records a due instant as done (`sent` with its notifications, `missed`, or
    /// `refused` with the note to its maker), once: `false`
    /// when it was already recorded (by another process), and then nothing is written.
    fn record_run(
        &self,
        schedule_id: &str,
        due_at: Micros,
        status: &str,
        notifications: &[NewNotification],
        now: Micros,
    ) -> Result<bool, Error>;
}
