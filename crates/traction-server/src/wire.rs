//! The JSON shapes of spec/interfaces.md and monitoring.md for what the metrics engine and the KPI
//! layer answer: the catalog, a metric result, the funnel, an explanation, targets, KPI status,
//! breakdown, leaderboard and the period report; and the forecasts (a forecast with its backtest,
//! past forecasts against what happened, the pipeline forecast). Used by the HTTP API, by the command line's
//! `--format json` and by scheduled reports, so they cannot differ; the core crates return typed
//! values and know nothing of JSON.
//!
//! Each shape is a `Serialize` struct converted by hand from the core's value. The functions
//! return a `serde_json::Value`, whose object keys are sorted: the bytes written are the same
//! whatever the order of the fields here, and a metric row's dimensions (named by the query) sit
//! among its fixed fields in that order too.
//!
//! Numbers: the metrics engine's figures are written as integers when whole ([`Num`]); the KPI
//! figures as JSON numbers as they are (`27000.0`). Both write `null` for a missing or non-finite
//! figure.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::{Value as Json, json};
use traction_domain::time::{Micros, format_instant};
use traction_kpi::report::Report;
use traction_kpi::service::{BreakdownRow, KpiRow, LeaderRow, Target};
use traction_metrics::explain::Explanation;
use traction_metrics::{Catalog, DimValue, FunnelResult, MetricResult, Stretch};

/// A figure of the metrics engine: whole numbers as integers, others as they are, `null` when
/// missing or not finite.
#[derive(Clone, Copy, Debug)]
pub struct Num(pub Option<f64>);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => {
                serializer.serialize_i64(v as i64)
            }
            Some(v) if v.is_finite() => serializer.serialize_f64(v),
            _ => serializer.serialize_none(),
        }
    }
}

/// A figure written as the metrics engine writes it ([`Num`], `whole`) or as it is (the report's
/// funnel, like its other figures).
#[derive(Clone, Copy, Debug)]
struct Figure {
    value: Option<f64>,
    whole: bool,
}

impl Serialize for Figure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.whole, self.value) {
            (true, v) => Num(v).serialize(serializer),
            (false, Some(v)) if v.is_finite() => serializer.serialize_f64(v),
            (false, _) => serializer.serialize_none(),
        }
    }
}

/// A dimension's value: an integer, a text or `null`.
struct Dim<'a>(&'a DimValue);

impl Serialize for Dim<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            DimValue::Int(n) => serializer.serialize_i64(*n),
            DimValue::Text(s) => serializer.serialize_str(s),
            DimValue::Null => serializer.serialize_none(),
        }
    }
}

/// The shape as a JSON value (sorted keys). Serialising these structs cannot fail: their keys
/// are strings and their numbers are checked.
fn value<T: Serialize>(shape: &T) -> Json {
    serde_json::to_value(shape).unwrap_or(Json::Null)
}

#[derive(Serialize)]
struct CatalogBody<'a> {
    items: Vec<CatalogItem<'a>>,
}

#[derive(Serialize)]
struct CatalogItem<'a> {
    name: &'a str,
    label: &'a str,
    unit: &'static str,
    better: &'static str,
    indicator: &'static str,
    kind: &'static str,
    target: &'static str,
    description: &'a str,
    /// The metric's driver tree, where it has one: the factors `traction explain` splits its
    /// change among (1, or −1 for the denominator of a ratio: `win_rate` = `deals_won` × 1 /
    /// `deals_closed`). No key where there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    drivers: Vec<DriverItem>,
}

#[derive(Serialize)]
struct DriverItem {
    metric: String,
    exponent: i32,
}

/// The catalog: `{"items": [{name, label, unit, better, indicator, kind, target,
/// description[, drivers]}]}`.
pub fn catalog(catalog: &Catalog) -> Json {
    let items = catalog
        .metrics()
        .iter()
        .map(|m| CatalogItem {
            drivers: traction_metrics::explain::driver_tree(m)
                .into_iter()
                .map(|(metric, exponent)| DriverItem { metric, exponent })
                .collect(),
            name: &m.name,
            label: &m.label,
            unit: m.unit.name(),
            better: m.better.name(),
            indicator: m.indicator.name(),
            kind: m.kind.name(),
            target: m.target.name(),
            description: &m.description,
        })
        .collect();
    value(&CatalogBody { items })
}

#[derive(Serialize)]
struct MetricBody<'a> {
    metric: &'a str,
    unit: &'static str,
    better: &'static str,
    from: &'a str,
    to: &'a str,
    grain: &'static str,
    by: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<&'static str>,
    rows: Vec<MetricRow<'a>>,
}

#[derive(Serialize)]
struct MetricRow<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<&'a str>,
    #[serde(flatten)]
    dims: BTreeMap<&'a str, Dim<'a>>,
    value: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    numerator: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    denominator: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compared_from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compared_to: Option<&'a str>,
}

/// A metric's answer (interfaces.md): `{"metric", "unit", "better", "from", "to", "grain",
/// "by", ["compare",] "rows": [{["period",] <dims>, "value", ["numerator", "denominator"],
/// ["previous", "change", ["compared_from", "compared_to"]]}]}`.
pub fn metric_result(result: &MetricResult) -> Json {
    let rows = result
        .rows
        .iter()
        .map(|row| {
            let ratio = |x: Option<f64>| result.ratio.then_some(Num(x));
            let compared = |x: Option<f64>| result.compare.is_some().then_some(Num(x));
            let stretch = row.compared.as_ref().filter(|_| result.compare.is_some());
            MetricRow {
                period: row.period.as_deref(),
                dims: result.by.iter().map(String::as_str).zip(row.dims.iter().map(Dim)).collect(),
                value: Num(row.value),
                numerator: ratio(row.numerator),
                denominator: ratio(row.denominator),
                previous: compared(row.previous),
                change: compared(row.change),
                compared_from: stretch.map(|c| c.from_text.as_str()),
                compared_to: stretch.map(|c| c.to_text.as_str()),
            }
        })
        .collect();
    value(&MetricBody {
        metric: &result.metric,
        unit: result.unit.name(),
        better: result.better.name(),
        from: &result.from,
        to: &result.to,
        grain: result.grain.name(),
        by: &result.by,
        compare: result.compare.map(|c| c.name()),
        rows,
    })
}

#[derive(Serialize)]
struct FunnelBody<'a> {
    from: &'a str,
    to: &'a str,
    rows: Vec<FunnelRowBody<'a>>,
}

#[derive(Serialize)]
struct FunnelRowBody<'a> {
    pipeline: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipeline_name: Option<&'a str>,
    stage: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_name: Option<&'a str>,
    position: i64,
    reached: u64,
    conversion_to_next: Figure,
    leakage: Figure,
}

/// The funnel's rows; with `names` (the report) the names beside the ids, and the rates as they
/// are rather than whole numbers as integers.
fn funnel_rows<'a>(
    rows: &'a [traction_metrics::FunnelRow],
    names: Option<&'a traction_kpi::report::Names>,
) -> Vec<FunnelRowBody<'a>> {
    let whole = names.is_none();
    rows.iter()
        .map(|r| FunnelRowBody {
            pipeline: &r.pipeline,
            pipeline_name: names.map(|n| n.pipeline(&r.pipeline)),
            stage: &r.stage,
            stage_name: names.map(|n| n.stage(&r.stage)),
            position: r.position,
            reached: r.reached,
            conversion_to_next: Figure { value: r.conversion_to_next, whole },
            leakage: Figure { value: r.leakage, whole },
        })
        .collect()
}

/// The funnel (interfaces.md): `{"from", "to", "rows": [{"pipeline", "stage", "position",
/// "reached", "conversion_to_next", "leakage"}]}`.
pub fn funnel(result: &FunnelResult) -> Json {
    value(&FunnelBody { from: &result.from, to: &result.to, rows: funnel_rows(&result.rows, None) })
}

#[derive(Serialize)]
struct ExplanationBody<'a> {
    metric: &'a str,
    label: &'a str,
    unit: &'static str,
    better: &'static str,
    from: &'a str,
    to: &'a str,
    compare: ComparedBody<'a>,
    value: Num,
    previous: Num,
    change: Num,
    drivers: Vec<DriverBody<'a>>,
    by: Option<&'a str>,
    segments: Vec<SegmentBody<'a>>,
}

#[derive(Serialize)]
struct ComparedBody<'a> {
    kind: &'static str,
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct DriverBody<'a> {
    metric: &'a str,
    label: &'a str,
    unit: &'static str,
    value: Num,
    previous: Num,
    contribution: Num,
}

#[derive(Serialize)]
struct SegmentBody<'a> {
    #[serde(flatten)]
    key: BTreeMap<&'a str, Dim<'a>>,
    value: Num,
    previous: Num,
    contribution: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_effect: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mix_effect: Option<Num>,
}

/// Why a metric moved (monitoring.md): `{"metric", "label", "unit", "better", "from", "to",
/// "compare": {"kind", "from", "to"}, "value", "previous", "change", "drivers": [{"metric",
/// "label", "unit", "value", "previous", "contribution"}], "by", "segments": [{"<dim>", "value",
/// "previous", "contribution", ["rate_effect", "mix_effect"]}]}`; money in major units.
pub fn explanation(e: &Explanation) -> Json {
    let dim = e.by.as_deref().unwrap_or_default();
    let drivers = e
        .drivers
        .iter()
        .map(|d| DriverBody {
            metric: &d.metric,
            label: &d.label,
            unit: d.unit.name(),
            value: Num(d.value),
            previous: Num(d.previous),
            contribution: Num(Some(d.contribution)),
        })
        .collect();
    let segments = e
        .segments
        .iter()
        .map(|s| SegmentBody {
            key: BTreeMap::from([(dim, Dim(&s.key))]),
            value: Num(s.value),
            previous: Num(s.previous),
            contribution: Num(Some(s.contribution)),
            rate_effect: e.ratio.then_some(Num(s.rate_effect)),
            mix_effect: e.ratio.then_some(Num(s.mix_effect)),
        })
        .collect();
    value(&ExplanationBody {
        metric: &e.metric,
        label: &e.label,
        unit: e.unit.name(),
        better: e.better.name(),
        from: &e.from_text,
        to: &e.to_text,
        compare: ComparedBody {
            kind: e.compare.name(),
            from: &e.compared_text.0,
            to: &e.compared_text.1,
        },
        value: Num(e.value),
        previous: Num(e.previous),
        change: Num(e.change),
        drivers,
        by: e.by.as_deref(),
        segments,
    })
}

#[derive(Serialize)]
struct TargetBody<'a> {
    id: &'a str,
    metric: &'a str,
    scope: String,
    period: String,
    starts_on: String,
    value: f64,
    split: String,
    at_risk: f64,
    off_track: f64,
    min_sample: Option<i64>,
}

/// A target as a JSON object of its fields.
pub fn target(t: &Target) -> Json {
    value(&TargetBody {
        id: &t.id,
        metric: &t.metric,
        scope: t.scope.to_string(),
        period: format!("{:?}", t.period).to_lowercase(),
        starts_on: t.starts_on.to_string(),
        value: t.value,
        split: format!("{:?}", t.split).to_lowercase(),
        at_risk: t.at_risk,
        off_track: t.off_track,
        min_sample: t.min_sample,
    })
}

#[derive(Serialize)]
struct StatusBody<'a> {
    at: String,
    rows: Vec<KpiRowBody<'a>>,
}

#[derive(Serialize)]
struct KpiRowBody<'a> {
    target: &'a str,
    metric: &'a str,
    scope: String,
    period: String,
    starts_on: String,
    target_value: f64,
    actual: Option<f64>,
    expected: Option<f64>,
    pace: Option<f64>,
    status: &'static str,
    projected: Option<f64>,
    required_rate: Option<f64>,
    required_rate_scope: Option<f64>,
    heads: usize,
    gap: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<IntervalBody>,
    /// spec: monitoring.md, KPI forecast; `projected` stays the run rate.
    forecast: Option<BandBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// The report's name of the KPI, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct IntervalBody {
    low: f64,
    high: f64,
}

#[derive(Serialize)]
struct BandBody {
    value: f64,
    low: f64,
    high: f64,
    /// How far to trust it (spec: monitoring.md, the backtest is shown wherever the forecast
    /// is); `null` when no model was needed or none was made for this request.
    backtest: Option<BacktestBody>,
}

/// A forecast's backtest: `{"folds", "horizon", "mape", "wape", "mase", "baseline":
/// "seasonal_naive", "baseline_wape"}`, as `traction forecast` gives it.
#[derive(Serialize)]
struct BacktestBody {
    folds: usize,
    horizon: usize,
    mape: Option<f64>,
    wape: Option<f64>,
    mase: Option<f64>,
    baseline: &'static str,
    baseline_wape: Option<f64>,
}

fn backtest(b: &traction_kpi::service::Backtest) -> BacktestBody {
    BacktestBody {
        folds: b.folds,
        horizon: b.horizon,
        mape: b.mape,
        wape: b.wape,
        mase: b.mase,
        baseline: "seasonal_naive",
        baseline_wape: b.baseline_wape,
    }
}

fn kpi_row(r: &KpiRow) -> KpiRowBody<'_> {
    let (t, f) = (&r.target, &r.figures);
    KpiRowBody {
        target: &t.id,
        metric: &t.metric,
        scope: t.scope.to_string(),
        period: format!("{:?}", t.period).to_lowercase(),
        starts_on: t.starts_on.to_string(),
        target_value: t.value,
        actual: f.actual,
        expected: Some(f.expected),
        pace: f.pace,
        status: f.status.name(),
        projected: f.projected,
        required_rate: f.required_rate,
        required_rate_scope: f.required_rate_scope,
        heads: f.heads,
        gap: f.gap,
        interval: r.interval.map(|(low, high)| IntervalBody { low, high }),
        forecast: r.forecast.as_ref().map(|b| BandBody {
            value: b.value,
            low: b.low,
            high: b.high,
            backtest: b.backtest.as_ref().map(backtest),
        }),
        error: r.error.as_deref(),
        name: None,
    }
}

/// KPI status: `{"at", "rows": [KPI rows]}`.
pub fn status(at: Micros, rows: &[KpiRow]) -> Json {
    value(&StatusBody { at: format_instant(at), rows: rows.iter().map(kpi_row).collect() })
}

#[derive(Serialize)]
struct BreakdownBody<'a> {
    target: &'a str,
    grain: &'a str,
    rows: Vec<BreakdownRowBody<'a>>,
}

#[derive(Serialize)]
struct BreakdownRowBody<'a> {
    period: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    value: f64,
}

/// A target's breakdown: `{"target", "grain", "rows": [{"period", ["user",] "value"}]}`.
pub fn breakdown(target: &str, grain: &str, rows: &[BreakdownRow]) -> Json {
    let rows = rows
        .iter()
        .map(|r| BreakdownRowBody { period: &r.period, user: r.user.as_deref(), value: r.value })
        .collect();
    value(&BreakdownBody { target, grain, rows })
}

#[derive(Serialize)]
struct LeaderboardBody<'a> {
    target: &'a str,
    at: String,
    rows: Vec<LeaderRowBody<'a>>,
}

#[derive(Serialize)]
struct LeaderRowBody<'a> {
    rank: usize,
    user: &'a str,
    /// The report's name of the rep, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    target_value: f64,
    actual: Option<f64>,
    expected: f64,
    pace: Option<f64>,
    band: &'static str,
}

fn leader_row(r: &LeaderRow) -> LeaderRowBody<'_> {
    LeaderRowBody {
        rank: r.rank,
        user: &r.user,
        user_name: None,
        target_value: r.target_value,
        actual: r.figures.actual,
        expected: r.figures.expected,
        pace: r.figures.pace,
        band: r.band,
    }
}

/// A target's leaderboard: `{"target", "at", "rows": [{"rank", "user", "target_value",
/// "actual", "expected", "pace", "band"}]}`.
pub fn leaderboard(target: &str, at: Micros, rows: &[LeaderRow]) -> Json {
    value(&LeaderboardBody {
        target,
        at: format_instant(at),
        rows: rows.iter().map(leader_row).collect(),
    })
}

#[derive(Serialize)]
struct ReportBody<'a> {
    from: &'a str,
    to: &'a str,
    scope: String,
    scope_name: String,
    compared: ReportCompared<'a>,
    kpis: Vec<KpiRowBody<'a>>,
    metrics: Vec<ReportMetric<'a>>,
    funnel: Vec<FunnelRowBody<'a>>,
    leaderboard: Vec<LeaderRowBody<'a>>,
}

#[derive(Serialize)]
struct ReportCompared<'a> {
    previous: Option<StretchBody<'a>>,
    year_ago: Option<StretchBody<'a>>,
}

#[derive(Serialize)]
struct StretchBody<'a> {
    from: &'a str,
    to: &'a str,
    label: &'a str,
}

#[derive(Serialize)]
struct ReportMetric<'a> {
    metric: &'a str,
    label: &'a str,
    unit: &'static str,
    indicator: &'static str,
    value: Option<f64>,
    previous: Option<f64>,
    year_ago: Option<f64>,
    why: Option<&'a str>,
}

fn stretch(compared: &Option<(Stretch, String)>) -> Option<StretchBody<'_>> {
    compared.as_ref().map(|(s, label)| StretchBody { from: &s.from_text, to: &s.to_text, label })
}

/// The period report: `{"from", "to", "scope", "kpis", "metrics", "funnel", "leaderboard"}`
/// (interfaces.md), with names beside the ids for people (`scope_name`, a KPI's `name`, a
/// metric's `label`, `pipeline_name`, `stage_name`, `user_name`) and the stretches the metrics
/// are compared with (`compared`).
pub fn report(report: &Report) -> Json {
    let kpis = report
        .kpis
        .iter()
        .map(|k| KpiRowBody { name: Some(report.kpi_name(k)), ..kpi_row(k) })
        .collect();
    let metrics = report
        .metrics
        .iter()
        .map(|m| ReportMetric {
            metric: &m.metric,
            label: &m.label,
            unit: m.unit.name(),
            indicator: m.indicator.name(),
            value: m.value,
            previous: m.previous,
            year_ago: m.year_ago,
            why: report.why.get(&m.metric).map(|w| w.text.as_str()),
        })
        .collect();
    let leaderboard = match &report.leaderboard {
        Some((_, rows)) => rows
            .iter()
            .map(|r| LeaderRowBody { user_name: Some(report.names.user(&r.user)), ..leader_row(r) })
            .collect(),
        None => Vec::new(),
    };
    value(&ReportBody {
        from: &report.from,
        to: &report.to,
        scope: report.scope.to_string(),
        scope_name: report.names.scope(&report.scope),
        compared: ReportCompared {
            previous: stretch(&report.compared.previous),
            year_ago: stretch(&report.compared.year_ago),
        },
        kpis,
        metrics,
        funnel: funnel_rows(&report.funnel, Some(&report.names)),
        leaderboard,
    })
}

/// A forecast with its backtest: the JSON shape of monitoring.md, Forecasts.
pub fn forecast(f: &traction_forecast::service::Forecast) -> Json {
    let rows: Vec<Json> = f
        .rows
        .iter()
        .map(|r| json!({"period": r.period, "value": r.value, "low": r.low, "high": r.high}))
        .collect();
    json!({
        "metric": f.metric,
        "scope": f.scope,
        "grain": f.step.name(),
        "at": f.at_text,
        "level": f.level,
        "model": f.model,
        "history": {"from": f.history_from, "buckets": f.history_buckets},
        "rows": rows,
        "backtest": f.backtest.as_ref().map(forecast_backtest),
    })
}

/// A forecast's backtest, `{"folds", "horizon", "mape", "wape", "mase", "baseline",
/// "baseline_wape"}`: the shape of the KPI rows' forecasts too. Undefined figures are `null`.
fn forecast_backtest(b: &traction_forecast::backtest::Backtest) -> Json {
    let number = |x: Option<f64>| x.filter(|v| v.is_finite()).map_or(Json::Null, |v| json!(v));
    json!({
        "folds": b.folds,
        "horizon": b.horizon,
        "mape": number(b.mape),
        "wape": number(b.wape),
        "mase": number(b.mase),
        "baseline": "seasonal_naive",
        "baseline_wape": number(b.baseline_wape),
    })
}

/// Past forecasts of a metric against what happened (`traction forecast --history`,
/// `GET /forecast/history`).
pub fn forecast_past(p: &traction_forecast::service::Past) -> Json {
    let rows: Vec<Json> = p
        .rows
        .iter()
        .map(|r| {
            json!({"made_at": r.made_text, "period": r.period, "value": r.value, "low": r.low,
                   "high": r.high, "actual": Num(r.actual),
                   "inside": r.actual.map(|a| a >= r.low && a <= r.high)})
        })
        .collect();
    json!({"metric": p.metric, "scope": p.scope, "grain": p.step.name(), "rows": rows})
}

/// The pipeline forecast: open deals per stage weighed by configured and historical win rates,
/// money in major units.
pub fn pipeline_forecast(p: &traction_forecast::pipeline::PipelineForecast) -> Json {
    let rows: Vec<Json> = p
        .rows
        .iter()
        .map(|r| {
            json!({
                "pipeline": r.pipeline_id, "stage": r.stage_id, "stage_name": r.stage,
                "position": r.position, "deals": r.deals.len(), "deal_ids": r.deals,
                "amount": p.major(r.amount as f64),
                "probability": r.probability,
                "historical_win_rate": Num(r.historical_win_rate()),
                "closed_from_stage": r.won + r.lost,
                "weighted_configured": p.major(r.weighted_configured),
                "weighted_historical": Num(r.weighted_historical.map(|w| p.major(w))),
            })
        })
        .collect();
    json!({
        "scope": p.scope,
        "period": p.period,
        "from": p.from.to_string(),
        "to": p.to.to_string(),
        "at": jiff::Timestamp::from_microsecond(p.at).map(|t| t.to_string()).unwrap_or_default(),
        "rows": rows,
        "total": {
            "deals": p.rows.iter().map(|r| r.deals.len()).sum::<usize>(),
            "amount": p.major(p.total_amount() as f64),
            "weighted_configured": p.major(p.total_configured()),
            "weighted_historical": p.major(p.total_historical()),
        },
        "without_close_date": p.without_close_date,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use traction_kpi::pace::{Behaviour, Figures, Status};
    use traction_kpi::scope::Scope;
    use traction_kpi::service::Band;
    use traction_metrics::catalog::{Better, Unit};
    use traction_metrics::{Compare, Grain, Row};

    /// Issue 16: the catalog's JSON carries each metric's driver tree as `traction explain`
    /// splits along it — a definition's own `drivers`, or a ratio's numerator × 1/denominator —
    /// and nothing where there is none.
    #[test]
    fn the_catalog_json_carries_each_metrics_drivers() {
        let catalog = traction_metrics::Catalog::load(
            r#"
[metric.calls_x_rate]
label = "Calls times success"
kind = "derived"
expr = "calls_made * call_success_rate"
unit = "count"
better = "higher"
drivers = ["calls_made", "call_success_rate"]
"#,
        )
        .unwrap();
        let json = super::catalog(&catalog);
        let item = |name: &str| {
            json["items"].as_array().unwrap().iter().find(|m| m["name"] == name).cloned()
        };
        let drivers = |name: &str| item(name).map(|m| m["drivers"].clone());
        let pair = |a: &str, x: i32, b: &str, y: i32| serde_json::json!([{"metric": a, "exponent": x}, {"metric": b, "exponent": y}]);
        assert_eq!(
            drivers("revenue_won"),
            Some(pair("deals_won", 1, "average_deal_size", 1)),
            "built-in drivers"
        );
        assert_eq!(drivers("win_rate"), Some(pair("deals_won", 1, "deals_closed", -1)));
        assert_eq!(drivers("leads_created"), Some(serde_json::Value::Null), "no tree, no key");
        assert!(item("leads_created").unwrap().get("drivers").is_none());
        assert_eq!(
            drivers("calls_x_rate"),
            Some(pair("calls_made", 1, "call_success_rate", 1)),
            "a definition's own drivers"
        );
    }

    use super::*;

    fn row(period: &str, owner: &str, value: f64, parts: (f64, f64)) -> Row {
        Row {
            period: Some(period.into()),
            start: 0,
            dims: vec![DimValue::Text(owner.into())],
            value: Some(value),
            numerator: Some(parts.0),
            denominator: Some(parts.1),
            previous: None,
            change: None,
            compared: None,
        }
    }

    /// A ratio by owner: dimensions among the fields, whole figures as integers (2 of 2 is `1`),
    /// others as they are; with a comparison, the previous value, the change and the stretch.
    #[test]
    fn a_metric_result_has_the_shape_of_interfaces_md() {
        let mut result = MetricResult {
            metric: "win_rate".into(),
            unit: Unit::Ratio,
            better: Better::Higher,
            from: "2026-03-01".into(),
            to: "2026-05-01".into(),
            grain: Grain::Month,
            by: vec!["owner".into()],
            compare: None,
            ratio: true,
            rows: vec![
                row("2026-03-01", "u1", 1.0, (2.0, 2.0)),
                row("2026-03-01", "u2", 0.25, (1.0, 4.0)),
            ],
        };
        let want = json!({
            "metric": "win_rate", "unit": "ratio", "better": "higher",
            "from": "2026-03-01", "to": "2026-05-01", "grain": "month", "by": ["owner"],
            "rows": [
                {"period": "2026-03-01", "owner": "u1", "value": 1, "numerator": 2, "denominator": 2},
                {"period": "2026-03-01", "owner": "u2", "value": 0.25, "numerator": 1, "denominator": 4},
            ]
        });
        assert_eq!(metric_result(&result).to_string(), want.to_string());
        // Compared with the previous month: 0.5 then, +100%; the second row had nothing then.
        result.compare = Some(Compare::Previous);
        result.rows[0].previous = Some(0.5);
        result.rows[0].change = Some(1.0);
        result.rows[0].compared = Some(Stretch {
            from: 0,
            to: 0,
            from_text: "2026-02-01".into(),
            to_text: "2026-03-01".into(),
        });
        let json = metric_result(&result);
        assert_eq!(json["compare"], "previous");
        assert_eq!(
            json["rows"][0].to_string(),
            r#"{"change":1,"compared_from":"2026-02-01","compared_to":"2026-03-01","denominator":2,"numerator":2,"owner":"u1","period":"2026-03-01","previous":0.5,"value":1}"#
        );
        assert_eq!(
            json["rows"][1].to_string(),
            r#"{"change":null,"denominator":4,"numerator":1,"owner":"u2","period":"2026-03-01","previous":null,"value":0.25}"#
        );
    }

    fn figures(actual: Option<f64>, expected: f64, status: Status) -> Figures {
        Figures {
            actual,
            expected,
            pace: actual.map(|a| a / expected),
            status,
            projected: None,
            required_rate: Some(125.0),
            required_rate_scope: Some(500.0),
            heads: 4,
            gap: Some(3000.0),
        }
    }

    fn target(id: &str) -> Target {
        Target {
            id: id.into(),
            metric: "revenue_won".into(),
            scope: Scope::Team("north".into()),
            period: traction_kpi::period::PeriodKind::Month,
            starts_on: jiff::civil::date(2026, 11, 1),
            value: 84_000.0,
            split: traction_kpi::split::Split::Calendar,
            at_risk: 0.9,
            off_track: 0.75,
            min_sample: None,
        }
    }

    /// KPI rows: figures as they are (`27000.0`), a target that cannot be computed has `null`s
    /// and its error, a forecast its band, no interval without a sample.
    #[test]
    fn kpi_status_and_leaderboard_have_the_shapes_of_interfaces_md() {
        let rows = [
            KpiRow {
                target: target("t-1"),
                figures: figures(Some(27_000.0), 30_000.0, Status::AtRisk),
                behaviour: Behaviour::Accumulating,
                interval: None,
                error: None,
                forecast: Some(Band {
                    value: 80_000.0,
                    low: 70_000.0,
                    high: 90_000.0,
                    backtest: None,
                }),
            },
            KpiRow {
                target: target("t-2"),
                figures: Figures::unavailable(),
                behaviour: Behaviour::Accumulating,
                interval: None,
                error: Some("\"x\" is not a metric".into()),
                forecast: None,
            },
        ];
        let at =
            traction_domain::time::parse_instant("2026-11-11T13:00:00Z", &jiff::tz::TimeZone::UTC)
                .unwrap();
        let json = status(at, &rows);
        assert_eq!(
            json.to_string(),
            concat!(
                r#"{"at":"2026-11-11T13:00:00Z","rows":["#,
                r#"{"actual":27000.0,"expected":30000.0,"forecast":{"backtest":null,"high":90000.0,"low":70000.0,"value":80000.0},"gap":3000.0,"heads":4,"metric":"revenue_won","pace":0.9,"period":"month","projected":null,"required_rate":125.0,"required_rate_scope":500.0,"scope":"team:north","starts_on":"2026-11-01","status":"at_risk","target":"t-1","target_value":84000.0},"#,
                r#"{"actual":null,"error":"\"x\" is not a metric","expected":null,"forecast":null,"gap":null,"heads":0,"metric":"revenue_won","pace":null,"period":"month","projected":null,"required_rate":null,"required_rate_scope":null,"scope":"team:north","starts_on":"2026-11-01","status":"error","target":"t-2","target_value":84000.0}"#,
                "]}"
            )
        );
        let board = [LeaderRow {
            rank: 1,
            user: "u1".into(),
            target_value: 21_000.0,
            figures: figures(Some(9_000.0), 7_500.0, Status::OnTrack),
            band: "ahead",
        }];
        assert_eq!(
            leaderboard("t-1", at, &board).to_string(),
            r#"{"at":"2026-11-11T13:00:00Z","rows":[{"actual":9000.0,"band":"ahead","expected":7500.0,"pace":1.2,"rank":1,"target_value":21000.0,"user":"u1"}],"target":"t-1"}"#
        );
        assert_eq!(
            target_json(),
            r#"{"at_risk":0.9,"id":"t-1","metric":"revenue_won","min_sample":null,"off_track":0.75,"period":"month","scope":"team:north","split":"calendar","starts_on":"2026-11-01","value":84000.0}"#
        );
    }

    /// The funnel: whole rates as integers like the metrics engine's figures, the last stage's
    /// conversion and leakage `null`; the report's funnel writes its rates as they are.
    #[test]
    fn the_funnel_writes_whole_rates_as_integers_and_the_last_as_null() {
        let stage = |stage: &str, reached, conversion: Option<f64>| traction_metrics::FunnelRow {
            pipeline: "p1".into(),
            stage: stage.into(),
            position: 1,
            reached,
            conversion_to_next: conversion,
            leakage: conversion.map(|c| 1.0 - c),
        };
        let result = FunnelResult {
            from: "2026-03-01".into(),
            to: "2026-04-01".into(),
            rows: vec![stage("s1", 4, Some(1.0)), stage("won", 4, None)],
        };
        assert_eq!(
            funnel(&result).to_string(),
            concat!(
                r#"{"from":"2026-03-01","rows":["#,
                r#"{"conversion_to_next":1,"leakage":0,"pipeline":"p1","position":1,"reached":4,"stage":"s1"},"#,
                r#"{"conversion_to_next":null,"leakage":null,"pipeline":"p1","position":1,"reached":4,"stage":"won"}"#,
                r#"],"to":"2026-04-01"}"#
            )
        );
        let names = traction_kpi::report::Names::default();
        let rows = serde_json::to_value(funnel_rows(&result.rows, Some(&names))).unwrap();
        assert_eq!(rows[0]["conversion_to_next"].to_string(), "1.0");
        assert_eq!(rows[0]["stage_name"], "s1", "a stage without a name is shown by its id");
    }

    fn target_json() -> String {
        super::target(&target("t-1")).to_string()
    }
}
