//! The period report assembled with its parts side by side, for the report endpoint, scheduled
//! reports (here and in the command line's evaluator) and `traction report`. `traction-kpi` says
//! what the parts are and computes each on the calling thread; the threads are spawned here, at
//! the edge, where the caller decides how much of the machine a request may use.

use traction_domain::time::Micros;
use traction_kpi::report::{Parts, Report};
use traction_kpi::scope::Scope;
use traction_kpi::service::{Error, MetricSource};
use traction_metrics::Catalog;
use traction_store::Backend;

/// The report of `[from, to)` (local dates as text for display) for a scope, with the KPIs'
/// figures from `metrics`: the key metrics (about forty queries) on one thread, why they moved
/// (a few more queries per metric) on two more, each half of the metrics, and the KPIs, funnel,
/// leaderboard and trend on the calling thread; the store's read connections serve them side by
/// side. A part that panics fails the key metrics or leaves the sentences out, never the process.
pub fn build(
    store: &dyn Backend,
    catalog: &Catalog,
    metrics: &dyn MetricSource,
    scope: Scope,
    from: (Micros, String),
    to: (Micros, String),
    now: Micros,
) -> Result<Report, Error> {
    let parts = Parts::new(store, catalog, scope, from, to, now)?;
    let names = Parts::key_metric_names();
    let (first, second) = names.split_at(names.len() / 2);
    let (key, why, standing) = std::thread::scope(|threads| {
        let key = threads.spawn(|| parts.key_metrics());
        let why_first = threads.spawn(|| parts.why(first));
        let why_second = threads.spawn(|| parts.why(second));
        let standing = parts.standing(metrics);
        let mut why = why_first.join().unwrap_or_default();
        why.extend(why_second.join().unwrap_or_default());
        (key.join(), why, standing)
    });
    let key = key.map_err(|_| Error::Invalid("the key metrics failed".into()))?;
    Ok(parts.finish(key, why, standing?))
}
