//! Monitoring (spec: monitoring.md): alert rules watched over time, notifications carried to
//! people on channels.
//!
//! - [`channel`]: the kinds of channel (`webhook`, `email`, `in_app`) and their settings.
//! - [`rule`]: the kinds of rule (`kpi`, `threshold`, `lead_sla`), checked when added.
//! - [`eval`]: one evaluation at an instant: each rule's conditions, the state machine
//!   `inactive → pending → firing → resolved` with `for` in working time, silences, and the
//!   notifications each transition causes — committed in one store transaction.
//! - [`notify`]: the notification body and its one line of text.
//! - [`deliver`]: sending what is due (webhook with an HMAC signature, email over SMTP), with
//!   retries and exponential backoff for 24 hours, every attempt recorded.
//!
//! What is stored goes through [`traction_store::MonitorStore`]; figures come from the KPI
//! service and the metrics engine through [`traction_kpi::service::MetricSource`]. Nothing here
//! reads the wall clock: evaluations take their instant, delivery takes a clock function.

pub mod channel;
pub mod deliver;
pub mod duration;
pub mod error;
pub mod eval;
pub mod notify;
pub mod rule;
pub mod schedule;
pub mod silence;

pub use error::ValueError;

/// Why a monitoring operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is at fault (unknown target, metric, channel; a bad duration): nothing changed.
    /// `field` is the field of the rule, channel, schedule or silence at fault, as the API's
    /// bodies, the CLI's flags (`min_sample` is `--min-sample`) and the web forms name it, when
    /// the mistake is in one.
    #[error("{message}")]
    Invalid { field: Option<&'static str>, message: String },
    /// No such rule, channel, silence or notification.
    #[error("{0}")]
    NotFound(String),
    /// A figure a rule needs could not be computed, or its metric cannot be watched so (the
    /// KPI layer's own error says which and why).
    #[error(transparent)]
    Kpi(traction_kpi::service::Error),
    /// The store refused or failed.
    #[error("{0}")]
    Store(#[from] traction_store::Error),
}

impl Error {
    /// The input is at fault in `field`.
    pub fn at(field: &'static str, message: impl std::fmt::Display) -> Error {
        Error::Invalid { field: Some(field), message: message.to_string() }
    }

    /// The input is at fault, in no one field.
    pub fn invalid(message: String) -> Error {
        Error::Invalid { field: None, message }
    }

    /// The KPI layer's refusal of what `field` names (an unknown metric, a dimension that does
    /// not apply) as a refusal of that field; its other errors as they are.
    pub fn of_field(field: &'static str, e: traction_kpi::service::Error) -> Error {
        match e {
            traction_kpi::service::Error::Invalid(message) => Error::at(field, message),
            e => e.into(),
        }
    }

    /// The field an input error is about, when it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } => *field,
            _ => None,
        }
    }
}

impl From<traction_kpi::service::Error> for Error {
    fn from(e: traction_kpi::service::Error) -> Error {
        match e {
            traction_kpi::service::Error::Invalid(m) => Error::invalid(m),
            traction_kpi::service::Error::Value(e) => Error::invalid(e.to_string()),
            traction_kpi::service::Error::NotFound(m) => Error::NotFound(m),
            traction_kpi::service::Error::Store(e) => Error::Store(e),
            e => Error::Kpi(e),
        }
    }
}
