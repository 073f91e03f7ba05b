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
mod error;
pub mod kpi;
pub mod model;
pub mod pipeline;
pub mod series;
pub mod service;

pub use error::{Error, ErrorKind, Input, ModelError, ModelSource};
