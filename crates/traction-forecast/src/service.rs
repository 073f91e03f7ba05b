//! A metric's forecast end to end: the request as domain values, the history from the metrics
//! engine, the model and its backtest, the answer in the JSON shape of monitoring.md, and the
//! forecast kept in the store's history.

use jiff::tz::TimeZone;
use traction_domain::time::Micros;
use traction_kpi::scope::Scope;
use traction_metrics::{Catalog, local_text};
use traction_store::Backend;
use traction_store::forecast::{ForecastPoint, KeptBacktest, StoredForecast};

use crate::backtest::{Backtest, backtest};
use crate::model::{Step, forecast, model_name};
use crate::series::{check_additive, future, history};
use crate::{Error, Input};

/// The default interval level (spec: monitoring.md, `--level 0.8`).
pub const DEFAULT_LEVEL: f64 = 0.8;

/// A forecast request, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub metric: String,
    pub scope: Scope,
    pub step: Step,
    pub horizon: usize,
    pub level: f64,
    pub at: Micros,
}

impl Request {
    /// Reads the text parameters of the command line and the API (`None`: the default).
    pub fn parse(
        metric: &str,
        scope: Option<&str>,
        grain: Option<&str>,
        horizon: Option<&str>,
        level: Option<&str>,
        at: Micros,
    ) -> Result<Request, Error> {
        let scope = match scope {
            None => Scope::Company,
            Some(text) => Scope::parse(text).map_err(Input::Scope)?,
        };
        let step = match grain.map(str::trim) {
            None | Some("day") => Step::Day,
            Some("week") => Step::Week,
            Some(other) => {
                return Err(Input::Grain { text: other.to_string() }.into());
            }
        };
        let max = max_horizon(step);
        let horizon = match horizon {
            None => default_horizon(step),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    return Err(Input::Horizon { text: text.to_string(), step, max }.into());
                }
            },
        };
        let level = match level {
            None => DEFAULT_LEVEL,
            Some(text) => match text.trim().parse::<f64>() {
                Ok(x) if x > 0.0 && x < 1.0 => x,
                _ => {
                    return Err(Input::Level { text: text.to_string() }.into());
                }
            },
        };
        Ok(Request { metric: metric.trim().to_string(), scope, step, horizon, level, at })
    }
}

/// Two weeks of days, eight weeks of weeks.
pub fn default_horizon(step: Step) -> usize {
    match step {
        Step::Day => 14,
        Step::Week => 8,
    }
}

/// A year ahead at most.
pub fn max_horizon(step: Step) -> usize {
    match step {
        Step::Day => 366,
        Step::Week => 53,
    }
}

/// One forecast bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub period: String,
    pub start: Micros,
    pub end: Micros,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A forecast with its backtest.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub metric: String,
    pub scope: String,
    pub step: Step,
    pub at: Micros,
    pub at_text: String,
    pub level: f64,
    pub model: String,
    /// The first bucket of history used and how many there are.
    pub history_from: String,
    pub history_buckets: usize,
    pub rows: Vec<Row>,
    /// `None` when the history is too short for eight folds of even one bucket.
    pub backtest: Option<Backtest>,
}

impl Forecast {
    fn stored(&self) -> StoredForecast {
        StoredForecast {
            metric: self.metric.clone(),
            scope: self.scope.clone(),
            grain: self.step.name().to_string(),
            made_at: self.at,
            level: self.level,
            model: self.model.clone(),
            backtest: self.backtest.as_ref().map(kept),
            points: self
                .rows
                .iter()
                .map(|r| ForecastPoint {
                    start: r.start,
                    end: r.end,
                    period: r.period.clone(),
                    value: r.value,
                    low: r.low,
                    high: r.high,
                })
                .collect(),
        }
    }
}

/// A backtest as the forecast history keeps it.
pub fn kept(b: &Backtest) -> KeptBacktest {
    KeptBacktest {
        folds: b.folds as u32,
        horizon: b.horizon as u32,
        mape: b.mape,
        wape: b.wape,
        mase: b.mase,
        baseline_wape: b.baseline_wape,
    }
}

/// A kept backtest read back.
pub fn from_kept(b: &KeptBacktest) -> Backtest {
    Backtest {
        folds: b.folds as usize,
        horizon: b.horizon as usize,
        mape: b.mape,
        wape: b.wape,
        mase: b.mase,
        baseline_wape: b.baseline_wape,
    }
}

/// The users whose records a scope counts (`None`: everyone).
pub fn owners(
    store: &dyn Backend,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<Option<Vec<String>>, Error> {
    if *scope == Scope::Company {
        return Ok(None);
    }
    let engine = traction_kpi::engine::Engine { store, catalog };
    let kpis = traction_kpi::service::Kpis { store, metrics: &engine };
    let org = kpis.org().map_err(Error::Org)?;
    match scope {
        Scope::Team(id) if !org.parents.contains_key(id) => {
            Err(Input::NoTeam { id: id.clone() }.into())
        }
        Scope::User(id) if !org.users.iter().any(|u| &u.id == id) => {
            Err(Input::NoUser { id: id.clone() }.into())
        }
        _ => Ok(org.owners(scope)),
    }
}

/// Makes a forecast (not kept: see [`show`]).
pub fn make(store: &dyn Backend, catalog: &Catalog, request: &Request) -> Result<Forecast, Error> {
    check_additive(catalog, &request.metric)?;
    let zone: TimeZone = store.workspace()?.zone;
    let owners = owners(store, catalog, &request.scope)?;
    let step = request.step;
    let past =
        history(store, catalog, &request.metric, owners.as_deref(), step, request.at, &zone)?;
    let n = past.values.len();
    if n < step.min_history() {
        return Err(Input::ShortHistory {
            metric: request.metric.clone(),
            scope: request.scope.clone(),
            step,
            buckets: n,
            since: past.buckets.first().map(|first| first.label.clone().unwrap_or_default()),
        }
        .into());
    }
    let points = forecast(&past.values, step, request.horizon, request.level)?;
    let buckets = future(step, &past.current, request.horizon, &zone)?;
    let rows = buckets
        .iter()
        .enumerate()
        .map(|(idx, b)| Row {
            period: b.label.clone().unwrap_or_default(),
            start: b.start,
            end: b.end,
            value: points.value[idx],
            low: points.low[idx],
            high: points.high[idx],
        })
        .collect();
    Ok(Forecast {
        metric: request.metric.clone(),
        scope: request.scope.to_string(),
        step,
        at: request.at,
        at_text: at_text(request.at),
        level: request.level,
        model: model_name(step, n),
        history_from: past.buckets[0].label.clone().unwrap_or_default(),
        history_buckets: n,
        rows,
        backtest: backtest(&past.values, step, request.horizon)?,
    })
}

/// Makes a forecast that is shown, and keeps it in the history (spec: every forecast that is
/// shown is stored).
pub fn show(store: &dyn Backend, catalog: &Catalog, request: &Request) -> Result<Forecast, Error> {
    let made = make(store, catalog, request)?;
    store.record_forecast(&made.stored())?;
    Ok(made)
}

fn at_text(at: Micros) -> String {
    jiff::Timestamp::from_microsecond(at).map(|t| t.to_string()).unwrap_or_else(|_| at.to_string())
}

/// One past forecast of a bucket against what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub made_at: Micros,
    pub made_text: String,
    pub period: String,
    pub start: Micros,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The metric over the bucket, once the bucket is complete as of `at`.
    pub actual: Option<f64>,
}

/// Past forecasts of a metric (made in the `days` before `at`) against what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Past {
    pub metric: String,
    pub scope: String,
    pub step: Step,
    pub rows: Vec<HistoryRow>,
}

/// The forecasts kept for `request`'s metric, scope and grain, made in the `days` before its
/// `at`, each bucket with what happened (the metric over it, once complete).
pub fn past(
    store: &dyn Backend,
    catalog: &Catalog,
    request: &Request,
    days: i64,
) -> Result<Past, Error> {
    check_additive(catalog, &request.metric)?;
    let zone = store.workspace()?.zone;
    let owners = owners(store, catalog, &request.scope)?;
    let scope = request.scope.to_string();
    let from = request.at - days * 86_400_000_000;
    let kept =
        store.forecasts(&request.metric, &scope, request.step.name(), from, request.at + 1)?;
    let mut rows = Vec::new();
    let mut starts: Vec<(Micros, Micros)> = Vec::new();
    for f in &kept {
        for p in &f.points {
            starts.push((p.start, p.end));
            rows.push(HistoryRow {
                made_at: f.made_at,
                made_text: local_text(f.made_at, &zone),
                period: p.period.clone(),
                start: p.start,
                value: p.value,
                low: p.low,
                high: p.high,
                actual: None,
            });
        }
    }
    // What happened: the metric over every complete bucket forecast, in one query.
    let complete: Vec<(Micros, Micros)> =
        starts.iter().copied().filter(|(_, end)| *end <= request.at).collect();
    if let (Some(lo), Some(hi)) =
        (complete.iter().map(|b| b.0).min(), complete.iter().map(|b| b.1).max())
    {
        let mut query = traction_metrics::Query::new(
            &request.metric,
            lo,
            hi,
            crate::series::grain(request.step),
            request.at,
        );
        query.filter =
            owners.as_deref().map(traction_metrics::Filter::owner_in).unwrap_or_default();
        let result = traction_metrics::run(store, catalog, &query)?;
        for row in &mut rows {
            if complete.iter().any(|(s, _)| *s == row.start) {
                let value: f64 = result
                    .rows
                    .iter()
                    .filter(|r| r.start == row.start)
                    .filter_map(|r| r.value)
                    .sum();
                row.actual = Some(value);
            }
        }
    }
    rows.sort_by(|a, b| a.start.cmp(&b.start).then(a.made_at.cmp(&b.made_at)));
    Ok(Past { metric: request.metric.clone(), scope, step: request.step, rows })
}

/// The pipeline forecast of a scope for the month or quarter holding `at`.
pub fn pipeline(
    store: &dyn Backend,
    catalog: &Catalog,
    scope: &Scope,
    period: crate::pipeline::Period,
    at: Micros,
) -> Result<crate::pipeline::PipelineForecast, Error> {
    let workspace = store.workspace()?;
    let owners = owners(store, catalog, scope)?;
    let data = crate::pipeline::load(store)?;
    crate::pipeline::compute(
        &data,
        owners.as_deref(),
        period,
        at,
        &workspace.zone,
        workspace.currency.minor_per_major(),
        &scope.to_string(),
    )
}
