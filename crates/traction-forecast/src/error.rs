//! Why a forecast could not be made, as values: the request at fault with what it held, the
//! metric that is missing, the model's own error, or the store's and the metrics engine's
//! errors wrapped as they came. Text is made only by `Display`, where the error is shown.

use traction_kpi::scope::Scope;
use traction_kpi::service::Error as KpiError;

use crate::model::Step;

/// The error of a model that failed, wrapped as it came.
pub type ModelSource = Box<dyn std::error::Error + Send + Sync>;

/// Why a forecast could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong: the message says how to fix it.
    #[error(transparent)]
    Input(#[from] Input),
    /// No metric of that name.
    #[error("no metric named {metric:?}: see `traction metrics list` for the catalog")]
    UnknownMetric { metric: String },
    /// The model could not be fitted to this history.
    #[error("the forecast model failed: {0}")]
    Model(#[from] ModelError),
    /// The metrics engine refused or failed (its own error says why).
    #[error(transparent)]
    Metrics(#[from] traction_metrics::Error),
    /// The store failed, or was busy.
    #[error("{}", store_message(.0))]
    Store(#[from] traction_store::Error),
    /// The workspace's teams and users could not be read.
    #[error("database error: {0}")]
    Org(#[source] KpiError),
}

/// What a caller does about an [`Error`]: the variants grouped by who must act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The asker fixes the request.
    Input,
    /// The asker names a metric that exists.
    NotFound,
    /// The asker retries later or asks for less.
    Busy,
    /// The model or the database failed: the operator looks.
    Failure,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input(_) => ErrorKind::Input,
            Error::UnknownMetric { .. } => ErrorKind::NotFound,
            Error::Metrics(e) => match e.kind() {
                traction_metrics::ErrorKind::Input => ErrorKind::Input,
                traction_metrics::ErrorKind::NotFound => ErrorKind::NotFound,
                traction_metrics::ErrorKind::Busy => ErrorKind::Busy,
                traction_metrics::ErrorKind::Storage => ErrorKind::Failure,
            },
            Error::Store(traction_store::Error::Busy(_)) => ErrorKind::Busy,
            Error::Model(_) | Error::Store(_) | Error::Org(_) => ErrorKind::Failure,
        }
    }
}

/// A busy store's own message (what to do); any other failure of the store as a database
/// error.
fn store_message(e: &traction_store::Error) -> String {
    match e {
        traction_store::Error::Busy(message) => message.clone(),
        e => format!("database error: {e}"),
    }
}

/// What is wrong with a forecast request, with what it held.
#[derive(Debug, thiserror::Error)]
pub enum Input {
    /// The metric does not add up over buckets (a ratio, an average, a level).
    #[error(
        "{metric} is a {kind} metric ({unit}): a time-series forecast adds buckets up, so it needs an \
         additive metric (a count or a sum, such as revenue_won, orders or calls_made); \
         forecast the parts of a ratio one by one"
    )]
    NotAdditive { metric: String, kind: &'static str, unit: &'static str },
    /// The instant to forecast from has no bucket (out of the calendar's range).
    #[error("the instant to forecast from is out of range")]
    ForecastFromOutOfRange { at: i64 },
    /// The instant has no local date in the workspace's zone, or no date a year before.
    #[error("the instant is out of range")]
    InstantOutOfRange { at: i64 },
    /// A pipeline forecast's period is neither a month nor a quarter.
    #[error("period: {text:?} is not month or quarter")]
    Period { text: String },
    /// The period holding a date has no first or last day in the calendar.
    #[error("{0}")]
    PeriodDates(#[source] jiff::Error),
    /// The scope's text does not read as a scope.
    #[error("scope: {0}")]
    Scope(#[source] traction_kpi::ValueError),
    #[error("scope: no team {id:?}: see `traction user list` for teams")]
    NoTeam { id: String },
    #[error("scope: no user {id:?}")]
    NoUser { id: String },
    #[error("grain: {text:?} cannot be forecast: use day or week")]
    Grain { text: String },
    #[error("horizon: {text:?} is not a number of {}s from 1 to {max}", step.name())]
    Horizon { text: String, step: Step, max: usize },
    #[error(
        "level: {text:?} is not a level between 0 and 1 (exclusive): write 0.8 for an 80% interval"
    )]
    Level { text: String },
    /// Too little history to fit the model: `buckets` complete buckets, the first labelled
    /// `since`.
    #[error(
        "{metric} for {scope} has {}: a forecast needs at least 8 weeks ({}); wait until there \
         is more, or import older records",
        history_held(*step, *buckets, since.as_deref()),
        match step { Step::Day => "56 days", Step::Week => "8 weeks" }
    )]
    ShortHistory { metric: String, scope: Scope, step: Step, buckets: usize, since: Option<String> },
}

/// How much history a series holds, in words.
fn history_held(step: Step, buckets: usize, since: Option<&str>) -> String {
    match since {
        None => "no history at all".to_string(),
        Some(first) => format!(
            "{buckets} complete {}{} of history (since {first})",
            step.name(),
            if buckets == 1 { "" } else { "s" },
        ),
    }
}

/// Why the model gave no forecast.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the history holds a value that is not a number")]
    NotANumber,
    /// Fitting the model (`AutoETS` or `MSTL`) failed.
    #[error("fitting {model}: {source}")]
    Fit { model: &'static str, source: ModelSource },
    /// The fitted model could not forecast.
    #[error("forecasting: {0}")]
    Predict(#[source] ModelSource),
    #[error("the model gave no finite forecast for this history (is it constant or too sparse?)")]
    NotFinite,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages people read, written out as they were before the variants were typed.
    #[test]
    fn typed_errors_read_as_before_and_say_who_acts() {
        let cases: Vec<(Error, &str, ErrorKind)> = vec![
            (
                Input::Horizon { text: "0".into(), step: Step::Week, max: 26 }.into(),
                "horizon: \"0\" is not a number of weeks from 1 to 26",
                ErrorKind::Input,
            ),
            (
                Input::ShortHistory {
                    metric: "orders".into(),
                    scope: Scope::Company,
                    step: Step::Day,
                    buckets: 1,
                    since: Some("2026-11-22".into()),
                }
                .into(),
                "orders for company has 1 complete day of history (since 2026-11-22): a forecast \
                 needs at least 8 weeks (56 days); wait until there is more, or import older records",
                ErrorKind::Input,
            ),
            (
                Input::ShortHistory {
                    metric: "orders".into(),
                    scope: Scope::Company,
                    step: Step::Week,
                    buckets: 0,
                    since: None,
                }
                .into(),
                "orders for company has no history at all: a forecast needs at least 8 weeks \
                 (8 weeks); wait until there is more, or import older records",
                ErrorKind::Input,
            ),
            (
                Error::UnknownMetric { metric: "nope".into() },
                "no metric named \"nope\": see `traction metrics list` for the catalog",
                ErrorKind::NotFound,
            ),
            (
                ModelError::NotANumber.into(),
                "the forecast model failed: the history holds a value that is not a number",
                ErrorKind::Failure,
            ),
            (
                traction_store::Error::Busy("the database is busy: retry".into()).into(),
                "the database is busy: retry",
                ErrorKind::Busy,
            ),
            (
                traction_store::Error::NotFound.into(),
                "database error: no such record",
                ErrorKind::Failure,
            ),
            (traction_metrics::Error::Busy("too slow".into()).into(), "too slow", ErrorKind::Busy),
        ];
        for (e, message, kind) in cases {
            assert_eq!((e.to_string().as_str(), e.kind()), (message, kind));
        }
    }
}
