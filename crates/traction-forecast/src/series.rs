//! A metric's history as a series of bucket values, read through the metrics engine's public
//! API (no SQL here): complete buckets of a day or a week in the workspace zone, up to the one
//! holding `at`.

use jiff::tz::TimeZone;
use traction_domain::time::Micros;
use traction_metrics::buckets::{Bucket, Buckets};
use traction_metrics::catalog::TargetKind;
use traction_metrics::{Catalog, Grain, Query};
use traction_store::Backend;

use crate::model::Step;
use crate::{Error, Input};

/// How far back a history is read: three years (enough for yearly seasonality, which needs
/// two, and a bound on the work).
const LOOKBACK_DAYS: i64 = 3 * 365 + 1;
const DAY_US: i64 = 86_400 * 1_000_000;

/// A metric's complete buckets before the one holding `at`, from its first bucket with data.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The buckets, oldest first; `values[i]` is the metric over `buckets[i]`.
    pub buckets: Vec<Bucket>,
    pub values: Vec<f64>,
    /// The bucket holding `at`: the first one forecast.
    pub current: Bucket,
}

pub fn grain(step: Step) -> Grain {
    match step {
        Step::Day => Grain::Day,
        Step::Week => Grain::Week,
    }
}

/// The metric must add up over buckets: a count or a sum (or a sum and difference of them).
pub fn check_additive(catalog: &Catalog, metric: &str) -> Result<(), Error> {
    let Some(m) = catalog.get(metric) else {
        return Err(Error::UnknownMetric { metric: metric.to_string() });
    };
    if m.target != TargetKind::Accumulating {
        return Err(Input::NotAdditive {
            metric: metric.to_string(),
            kind: m.kind.name(),
            unit: m.unit.name(),
        }
        .into());
    }
    Ok(())
}

/// The `horizon` buckets from the one holding `at` on.
pub fn future(
    step: Step,
    current: &Bucket,
    horizon: usize,
    zone: &TimeZone,
) -> Result<Vec<Bucket>, Error> {
    let days = match step {
        Step::Day => 1,
        Step::Week => 7,
    };
    // A day longer per bucket than needed covers clock changes; only `horizon` are kept.
    let span = (horizon as i64 + 1) * (days + 1) * DAY_US;
    let buckets = Buckets::new(grain(step), current.start, current.start + span, zone)?;
    Ok(buckets.list.into_iter().take(horizon).collect())
}

/// Reads the history of `metric` for the records of `owners` (`None`: all) before `at`.
pub fn history(
    store: &dyn Backend,
    catalog: &Catalog,
    metric: &str,
    owners: Option<&[String]>,
    step: Step,
    at: Micros,
    zone: &TimeZone,
) -> Result<History, Error> {
    let holding = Buckets::new(grain(step), at, at + 1, zone)?;
    let current = holding.list.into_iter().next().ok_or(Input::ForecastFromOutOfRange { at })?;
    let end = current.start;
    let all = Buckets::new(grain(step), end - LOOKBACK_DAYS * DAY_US, end, zone)?;
    // The first bucket may start before the lookback: keep only whole ones.
    let lo = end - LOOKBACK_DAYS * DAY_US;
    let buckets: Vec<Bucket> = all.list.into_iter().filter(|b| b.start >= lo).collect();
    let Some(first) = buckets.first() else {
        return Ok(History { buckets, values: Vec::new(), current });
    };
    let mut query = Query::new(metric, first.start, end, grain(step), at);
    query.filter = owners.map(traction_metrics::Filter::owner_in).unwrap_or_default();
    let result = traction_metrics::run(store, catalog, &query)?;
    let mut values = vec![0.0; buckets.len()];
    for row in &result.rows {
        let idx = buckets.partition_point(|b| b.start <= row.start);
        if idx > 0 && row.start < buckets[idx - 1].end {
            values[idx - 1] += row.value.unwrap_or(0.0);
        }
    }
    // Buckets before the first with data are before the metric had any records.
    let skip = values.iter().position(|v| *v != 0.0).unwrap_or(values.len());
    Ok(History { buckets: buckets[skip..].to_vec(), values: values[skip..].to_vec(), current })
}
