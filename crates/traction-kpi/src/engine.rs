//! The metrics engine as the KPI layer's [`MetricSource`]: a KPI's actual value is a metric query
//! over `[period start, at)` at grain `all`, restricted to the scope's owners with a typed
//! filter ([`Filter::owner_in`]: a scope is just another filter, checked like any other).

use traction_metrics::catalog::{Agg, Better, Indicator, Kind, Measure, Metric, TargetKind, Unit};
use traction_metrics::{Catalog, DimValue, Filter, Grain, Query};
use traction_store::Backend;

use crate::pace::Behaviour;
use crate::service::{Actual, Error, Forecasts, MetricRequest, MetricSource};
use crate::split::Seasonality;

/// The metrics engine over a store and a catalog.
pub struct Engine<'a> {
    pub store: &'a dyn Backend,
    pub catalog: &'a Catalog,
}

impl Engine<'_> {
    /// How many rows an average, median or other order statistic rests on: the count of the
    /// measure's rows (same source, time field and filter) over the same range and scope, so a
    /// median response time is judged on its answered leads (kpis.md: minimum sample).
    fn sample(&self, request: &MetricRequest<'_>) -> Result<Option<f64>, Error> {
        let Some(m) = self.catalog.get(request.metric) else { return Ok(None) };
        let Kind::Aggregate(measure) = &m.kind else { return Ok(None) };
        if measure.agg.is_additive() {
            return Ok(None);
        }
        // The count of the measure's rows, built from the checked measure itself.
        let count = Metric {
            name: "kpi_sample".into(),
            label: "sample".into(),
            unit: Unit::Count,
            better: Better::Higher,
            indicator: Indicator::Leading,
            description: "rows of a KPI's measure".into(),
            kind: Kind::Aggregate(Measure {
                source: measure.source,
                time: measure.time.clone(),
                agg: Agg::Count,
                of: None,
                filter: measure.filter.clone(),
                of_ty: None,
            }),
            drivers: Vec::new(),
            target: TargetKind::Accumulating,
        };
        let catalog = Catalog::of_checked(vec![count]);
        let query = query(&MetricRequest { metric: "kpi_sample", ..*request });
        let result = traction_metrics::run(self.store, &catalog, &query)?;
        Ok(Some(result.rows.first().and_then(|r| r.value).unwrap_or(0.0)))
    }
}

/// The metric query a request asks: grain `all`, the owners' records.
fn query(request: &MetricRequest<'_>) -> Query {
    let mut query = Query::new(request.metric, request.from, request.to, Grain::All, request.at);
    query.filter = request.owners.map(Filter::owner_in).unwrap_or_default();
    query
}

/// The unknown metric's error, naming where the catalog is listed.
fn unknown(metric: &str) -> Error {
    Error::Invalid(format!("{metric:?} is not a metric: `traction metrics list` shows the catalog"))
}

/// Why no target can be set on a metric whose kind for targets is `none`.
fn no_target_reason(m: &Metric) -> String {
    match &m.kind {
        Kind::Funnel => format!("{} is a funnel, not a figure a target can be set on", m.name),
        Kind::Retention { .. } => format!(
            "{} compares a period's customers with the period before's, so its figure for a period in progress starts at {} and moves all period: no pace can judge it; set the target on returning_customer_rate or repeat_purchase_rate instead, and follow {} by month with `traction metric {} --grain month`",
            m.name,
            if m.better == Better::Higher { "0" } else { "1" },
            m.name,
            m.name
        ),
        _ => format!(
            "{} reads a metric that compares consecutive periods (or is declared target = \"none\"), so no target can be set on it",
            m.name
        ),
    }
}

impl MetricSource for Engine<'_> {
    fn behaviour(&self, metric: &str) -> Result<Behaviour, Error> {
        let m = self.catalog.get(metric).ok_or_else(|| unknown(metric))?;
        // spec: kpis.md, Targets: every catalog metric says which kind it is.
        Ok(match m.target {
            TargetKind::Accumulating => Behaviour::Accumulating,
            TargetKind::Level => Behaviour::Level { higher_is_better: m.better == Better::Higher },
            TargetKind::None => return Err(Error::Invalid(no_target_reason(m))),
        })
    }

    fn lower_is_better(&self, metric: &str) -> bool {
        self.catalog.get(metric).is_some_and(|m| m.better == Better::Lower)
    }

    fn min_sample(&self, metric: &str) -> i64 {
        match self.catalog.get(metric).map(|m| m.unit) {
            Some(Unit::Score) => 30,
            _ => 20,
        }
    }

    fn actual(&self, request: &MetricRequest<'_>) -> Result<Actual, Error> {
        if request.is_empty() {
            return Ok(Actual::default());
        }
        let result = traction_metrics::run(self.store, self.catalog, &query(request))?;
        let mut actual = match result.rows.first() {
            Some(row) => Actual { value: row.value, sample: row.denominator },
            None => Actual::default(),
        };
        if actual.sample.is_none() {
            actual.sample = self.sample(request)?;
        }
        Ok(actual)
    }

    fn check_by(&self, metric: &str, by: &str) -> Result<(), Error> {
        let m = self.catalog.get(metric).ok_or_else(|| unknown(metric))?;
        let dims = self.catalog.dims(m);
        if dims.contains(&by) {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "--by {by:?} does not apply to {metric}; the dimensions that do are {}",
                dims.join(", ")
            )))
        }
    }

    fn actual_by(
        &self,
        request: &MetricRequest<'_>,
        by: &str,
    ) -> Result<Vec<(String, Actual)>, Error> {
        if request.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = query(request);
        query.by = vec![by.to_string()];
        let result = traction_metrics::run(self.store, self.catalog, &query)?;
        Ok(result
            .rows
            .iter()
            .map(|row| {
                let key = row.dims.first().map(DimValue::text).unwrap_or_default();
                (key, Actual { value: row.value, sample: row.denominator })
            })
            .collect())
    }

    fn seasonality(&self, request: &MetricRequest<'_>) -> Result<Seasonality, Error> {
        let mut shares = [[0.0; 24]; 7];
        if request.is_empty() {
            return Ok(shares);
        }
        let mut query = query(request);
        query.by = vec!["weekday".into(), "hour_of_day".into()];
        let result = traction_metrics::run(self.store, self.catalog, &query)?;
        let mut total = 0.0;
        for row in &result.rows {
            if let ([DimValue::Int(day), DimValue::Int(hour)], Some(v)) =
                (row.dims.as_slice(), row.value)
                && (1..=7).contains(day)
                && (0..24).contains(hour)
                && v > 0.0
            {
                shares[(*day - 1) as usize][*hour as usize] += v;
                total += v;
            }
        }
        if total > 0.0 {
            for cell in shares.iter_mut().flatten() {
                *cell /= total;
            }
        }
        Ok(shares)
    }

    /// The plain engine makes no forecasts (the forecast crate's source does).
    fn forecasts(&self) -> Option<&dyn Forecasts> {
        None
    }
}
