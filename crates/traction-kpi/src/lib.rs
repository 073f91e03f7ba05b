//! KPIs: metrics bound to targets (spec: kpis.md).
//!
//! Pure functions over values, no IO: the caller brings the calendar (from the settings), the
//! target, the heads of its scope (from the store) and the actual value (from the metrics engine).
//!
//! - [`calendar`]: working time (days, hours, holidays, zone) as intervals of instants.
//! - [`period`]: a target's period as an instant range, and the buckets (week, day, hour) it
//!   breaks down into, labelled as metric periods are.
//! - [`split`]: how a target's value spreads over its period (`calendar`, `even`, `seasonal`).
//! - [`breakdown`]: the target of every week, day or hour, for the scope and per head.
//! - [`pace`]: actual against expected at an instant: pace, status, projection, required rate.

pub mod breakdown;
pub mod calendar;
pub mod pace;
pub mod period;
pub mod split;

pub use calendar::Calendar;
pub use split::Weights;
