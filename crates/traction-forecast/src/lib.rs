//! Forecasts (spec: monitoring.md, Forecasts): where a metric is heading, and how far to trust it.
//!
//! - [`model`]: the time-series model (MSTL with an AutoETS trend, from Grafana's `augurs`);
//!   pure, over a slice of bucket values.
//! - [`backtest`]: rolling-origin backtests of that model against the seasonal-naive baseline
//!   (MAPE, WAPE, MASE); pure.
//! - [`kpi`]: the `forecast` field of KPI rows (a `MetricSource` with forecasts).
//! - [`pipeline`]: open deals per stage weighted by configured and historical win rates.
//! - [`series`]: a metric's history as bucket values, through the metrics engine's public API.
//! - [`service`]: a forecast request end to end, its JSON, and the forecast history kept in the
//!   store (`ForecastStore`, no SQL here).
//!
//! Start at [`service::show`] (a forecast people see, kept) or [`model::forecast`] (the model).

pub mod backtest;
pub mod kpi;
pub mod model;
pub mod pipeline;
pub mod series;
pub mod service;

use std::fmt;

/// Why a forecast could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The request is wrong (unknown or non-additive metric, too short a history, a bad level):
    /// the message says how to fix it.
    Input(String),
    /// No such metric.
    NotFound(String),
    /// The model could not be fitted to this history.
    Model(String),
    /// The database failed, or was busy.
    Storage(String),
    Busy(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) | Error::NotFound(m) | Error::Busy(m) => f.write_str(m),
            Error::Model(m) => write!(f, "the forecast model failed: {m}"),
            Error::Storage(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<traction_metrics::Error> for Error {
    fn from(e: traction_metrics::Error) -> Error {
        match e {
            e @ traction_metrics::Error::Input(_) => Error::Input(e.to_string()),
            e @ traction_metrics::Error::Where(_) => Error::Input(e.to_string()),
            traction_metrics::Error::NotFound(m) => Error::NotFound(m),
            e @ traction_metrics::Error::UnknownMetric { .. } => Error::NotFound(e.to_string()),
            traction_metrics::Error::Storage(m) => Error::Storage(m),
            traction_metrics::Error::Busy(m) => Error::Busy(m),
        }
    }
}

impl From<traction_store::Error> for Error {
    fn from(e: traction_store::Error) -> Error {
        match e {
            traction_store::Error::Busy(m) => Error::Busy(m),
            e => Error::Storage(e.to_string()),
        }
    }
}
