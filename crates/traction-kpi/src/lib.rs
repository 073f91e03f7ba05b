//! KPIs: metrics bound to targets (spec: kpis.md).
//!
//! Pure functions over values (all but [`service`], which reads the store): the caller brings the calendar (from the settings), the
//! target, the heads of its scope (from the store) and the actual value (from the metrics engine).
//!
//! - [`calendar`]: working time (days, hours, holidays, zone) as intervals of instants.
//! - [`period`]: a target's period as an instant range, and the buckets (week, day, hour) it
//!   breaks down into, labelled as metric periods are.
//! - [`split`]: how a target's value spreads over its period (`calendar`, `even`, `seasonal`).
//! - [`breakdown`]: the target of every week, day or hour, for the scope and per head.
//! - [`pace`]: actual against expected at an instant: pace, status, projection, required rate.
//! - [`scope`]: who a target is for, whose records it counts, and its heads.
//! - [`today`]: a day's pace by the hour, cumulated, at the current hour.
//! - [`explain`]: why a metric moved, for a scope, and the one sentence that says it.
//! - [`service`]: the above over stored targets, users and settings, with actual values from a
//!   [`service::MetricSource`] (the metrics engine).

pub mod breakdown;
pub mod calendar;
pub mod check;
pub mod definitions;
pub mod engine;
pub mod error;
pub mod explain;
pub mod pace;
pub mod period;
pub mod report;
pub mod scope;
pub mod service;
pub mod split;
pub mod today;

pub use calendar::Calendar;
pub use error::ValueError;
pub use split::Weights;
