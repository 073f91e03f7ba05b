//! The metric explorer: any metric × range × grain × group-by × filter × comparison, as a chart
//! and a table, with a CSV download of exactly what is shown. The URL holds the whole query, so
//! a view can be bookmarked and shared; the parameters are those of
//! `GET /api/v1/metrics/{name}` (read by the same function), plus `scope`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_kpi::engine::Engine;
use traction_kpi::pace::Behaviour;
use traction_kpi::service::{Kpis, MetricSource};
use traction_metrics::buckets::Buckets;
use traction_metrics::catalog::Kind;
use traction_metrics::{Filter, Grain, MetricResult};
use traction_server::AppState;

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, encode, respond};

/// A group's total (for ranking) and its values and compared values by period.
type Group = (f64, BTreeMap<String, (Option<f64>, Option<f64>)>);

const GRAINS: &[&str] = &["hour", "day", "week", "month", "quarter", "year", "all"];

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| build(state, &req, &params, now)).await
}

pub async fn csv(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| {
        let q = Explore::read(state, &req, &params, now)?;
        let result = q.run(state)?;
        let engine = Engine { store: state.store.as_ref(), catalog: &state.catalog };
        let additive = matches!(engine.behaviour(&q.metric), Ok(Behaviour::Accumulating));
        let result = q.every_bucket(result, additive)?;
        let name = format!("{}.csv", q.metric);
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            to_csv(&result),
        )
            .into_response())
    })
    .await
}

/// The explorer's query, with the defaults filled in (the last 90 days by week).
struct Explore {
    metric: String,
    from: String,
    to: String,
    grain: String,
    by: String,
    filter: String,
    compare: String,
    scope: traction_kpi::scope::Scope,
    zone: jiff::tz::TimeZone,
    at: Micros,
    /// Who asks: a filtered or record-grouped query is kept to their read scope.
    reader: Option<std::sync::Arc<traction_server::auth::Principal>>,
}

impl Explore {
    fn read(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Explore> {
        const KNOWN: &[&str] =
            &["metric", "from", "to", "grain", "by", "where", "compare", "scope", "at"];
        if let Some((k, _)) = params.0.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
            return Err(WebError::bad(format!(
                "unknown parameter {k:?}: the explorer takes {}",
                KNOWN.join(", ")
            )));
        }
        let ws = traction_store::Store::workspace(state.store.as_ref())?;
        let at = at_param(params, &ws.zone, now)?;
        let today = traction_domain::time::to_zoned(at, &ws.zone)
            .map(|z| z.date())
            .ok_or_else(|| WebError::bad("at is out of range"))?;
        let day = |d: jiff::civil::Date| d.to_string();
        let metric = params.get("metric").unwrap_or("revenue_won").to_string();
        if state.catalog.get(&metric).is_none() {
            return Err(WebError::bad(format!(
                "metric: {metric:?} is not in the catalog; choose one from the list"
            )));
        }
        Ok(Explore {
            metric,
            from: params
                .get("from")
                .map_or_else(|| day(today.checked_sub(89.days()).unwrap_or(today)), str::to_string),
            to: params
                .get("to")
                .map_or_else(|| day(today.checked_add(1.day()).unwrap_or(today)), str::to_string),
            grain: params.get("grain").unwrap_or("week").to_ascii_lowercase(),
            by: params.get("by").unwrap_or("").to_string(),
            filter: params.get("where").unwrap_or("").to_string(),
            compare: params.get("compare").unwrap_or("").to_string(),
            scope: scope_param(params, req)?,
            zone: ws.zone,
            at,
            reader: req.principal.clone(),
        })
    }

    fn run(&self, state: &AppState) -> Result<MetricResult> {
        let store = state.store.as_ref();
        let engine = Engine { store, catalog: &state.catalog };
        let org = Kpis { store, metrics: &engine }.org()?;
        let owners = org.owners(&self.scope);
        let pairs: Vec<(String, String)> = [
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("grain", self.grain.clone()),
            ("by", self.by.clone()),
            ("where", self.filter.clone()),
            ("compare", self.compare.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut query =
            traction_metrics::params::metric_query(&self.metric, &pairs, &self.zone, self.at)?;
        query.at = self.at;
        if let Some(o) = owners.as_deref() {
            query.filter = std::mem::take(&mut query.filter).and(Filter::owner_in(o));
        }
        // A figure may not single out records the reader cannot read (docs/security.md): a
        // filtered or record-grouped query is kept to the reader's scope.
        if let Some(owners) = self.reader.as_ref().and_then(|r| r.owners())
            && traction_server::api::metrics::singles_out(&query.filter, &query.by)
        {
            query.filter = std::mem::take(&mut query.filter).and(Filter::owner_in(owners));
        }
        Ok(traction_metrics::run(store, &state.catalog, &query)?)
    }

    /// The result with a row for every bucket of the range in every group, as the chart shows
    /// them: an empty bucket of a count or a sum is a zero; of a rate, an average or a level it
    /// has no value (a gap in the chart, an empty cell). Rows in bucket order, groups in the
    /// order the engine answered them.
    fn every_bucket(&self, mut result: MetricResult, additive: bool) -> Result<MetricResult> {
        if result.grain == Grain::All {
            return Ok(result);
        }
        let from = traction_domain::time::parse_instant(&self.from, &self.zone)
            .map_err(|e| WebError::bad(format!("from: {e}")))?;
        let to = traction_domain::time::parse_instant(&self.to, &self.zone)
            .map_err(|e| WebError::bad(format!("to: {e}")))?;
        let buckets = Buckets::new(result.grain, from, to, &self.zone)?;
        let mut groups: Vec<Vec<traction_metrics::DimValue>> = Vec::new();
        let mut rows: BTreeMap<(String, Vec<traction_metrics::DimValue>), traction_metrics::Row> =
            BTreeMap::new();
        for r in result.rows.drain(..) {
            if !groups.contains(&r.dims) {
                groups.push(r.dims.clone());
            }
            rows.insert((r.period.clone().unwrap_or_default(), r.dims.clone()), r);
        }
        if groups.is_empty() && result.by.is_empty() {
            groups.push(Vec::new());
        }
        let zero = if additive { Some(0.0) } else { None };
        for b in &buckets.list {
            let label = b.label.clone().unwrap_or_default();
            for dims in &groups {
                let row = rows.remove(&(label.clone(), dims.clone())).unwrap_or_else(|| {
                    traction_metrics::Row {
                        period: Some(label.clone()),
                        start: b.start.max(from),
                        dims: dims.clone(),
                        value: zero,
                        numerator: result.ratio.then_some(0.0),
                        denominator: result.ratio.then_some(0.0),
                        previous: None,
                        change: None,
                        compared: None,
                    }
                });
                result.rows.push(row);
            }
        }
        // Rows outside the buckets (none expected) are kept, after the others.
        result.rows.extend(rows.into_values());
        Ok(result)
    }

    fn query_string(&self) -> String {
        let mut parts = vec![
            format!("metric={}", encode(&self.metric)),
            format!("from={}", encode(&self.from)),
            format!("to={}", encode(&self.to)),
            format!("grain={}", encode(&self.grain)),
            format!("scope={}", encode(&self.scope.to_string())),
        ];
        for (k, v) in [("by", &self.by), ("where", &self.filter), ("compare", &self.compare)] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", encode(v)));
            }
        }
        parts.join("&")
    }
}

fn build(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let q = Explore::read(state, req, params, now)?;
    let def = state.catalog.get(&q.metric).ok_or_else(|| WebError::bad("no such metric"))?;
    let dims = state.catalog.dims(def);
    // A query the engine refuses (a dimension that does not apply, a bad filter) is shown with
    // the form, so it can be fixed in place.
    let engine = Engine { store, catalog: &state.catalog };
    let additive = matches!(engine.behaviour(&q.metric), Ok(Behaviour::Accumulating));
    // The table, the chart and the CSV all have every bucket of the range.
    let outcome = q.run(state).and_then(|r| {
        let any = !r.rows.is_empty();
        q.every_bucket(r, additive).map(|r| (r, any))
    });
    let metrics: Vec<_> =
        state.catalog.metrics().iter().filter(|m| !matches!(m.kind, Kind::Funnel)).collect();
    let body = html! {
        div.page-head { h1 { "Explore" } p.sub { (def.label) " · " (def.description) } }
        form.card.filters method="get" action="/explore" {
            label for="metric" { "Metric" }
            select name="metric" id="metric" {
                @for m in &metrics { option value=(m.name) selected[m.name == q.metric] { (m.label) } }
            }
            label for="from" { "From" } input type="date" name="from" id="from" value=(q.from) required;
            label for="to" { "To" } input type="date" name="to" id="to" value=(q.to) required;
            label for="grain" { "By" }
            select name="grain" id="grain" { @for g in GRAINS { option value=(g) selected[*g == q.grain] { (g) } } }
            label for="by" { "Group by" }
            select name="by" id="by" {
                option value="" { "nothing" }
                @for d in &dims { option value=(d) selected[*d == q.by] { (d.replace('_', " ")) } }
            }
            label for="scope" { "Scope" }
            (scope_select(&names, &q.scope, req.user.is_some()))
            label for="compare" { "Compare" }
            select name="compare" id="compare" {
                option value="" { "no comparison" }
                option value="previous" selected[q.compare == "previous"] { "previous period" }
                option value="yoy" selected[q.compare == "yoy"] { "a year earlier" }
            }
            label for="where" { "Filter" }
            input type="text" name="where" id="where" value=(q.filter) placeholder="e.g. source = 'web' and amount > 1000" size="34";
            button type="submit" { "Run" }
        }
        @match &outcome {
            Err(e) => { p.notice.bad role="alert" { (e.message) } }
            Ok((result, any)) => {
                section.card #result data-live {
                    p.small {
                        a.button.secondary href={"/explore.csv?" (q.query_string())} download { "Download CSV" }
                        " " (result.rows.len()) " rows"
                    }
                    @if !any {
                        (layout::empty("No records match in this range — widen the range or loosen the filter.", None))
                    } @else {
                        (result_chart(&q, result, &ws, &names, additive)?)
                        (result_table(result, &ws, &names))
                    }
                }
            }
        }
    };
    Ok(layout::page(req, &format!("Explore {}", def.label), Nav::Explore, body))
}

/// A display name for a dimension value (people and teams by name).
fn dim_text(names: &Names, v: &traction_metrics::DimValue) -> String {
    let t = v.text();
    if t.is_empty() {
        return "(none)".into();
    }
    names
        .users
        .get(&t)
        .or_else(|| names.teams.get(&t))
        .or_else(|| names.stages.get(&t))
        .cloned()
        .unwrap_or(t)
}

fn result_chart(
    q: &Explore,
    result: &MetricResult,
    ws: &Ws,
    names: &Names,
    additive: bool,
) -> Result<Markup> {
    if result.grain == Grain::All {
        // One value per group: bars.
        let labels: Vec<String> = result
            .rows
            .iter()
            .map(|r| r.dims.iter().map(|d| dim_text(names, d)).collect::<Vec<_>>().join(" · "))
            .collect();
        let labels = if labels.iter().all(|l| l.is_empty()) {
            vec!["all".to_string(); labels.len()]
        } else {
            labels
        };
        let chart = Chart {
            title: result.metric.clone(),
            unit: result.unit,
            labels,
            series: vec![Series {
                name: result.metric.clone(),
                values: result.rows.iter().map(|r| r.value).collect(),
                style: Style::Main(0),
            }],
            bars: true,
            wide: true,
        };
        return Ok(chart::chart(&chart, &ws.fmt));
    }
    // Every bucket of the range, so gaps show as gaps (or zeros for counts and sums).
    let from = traction_domain::time::parse_instant(&q.from, &q.zone).map_err(WebError::bad)?;
    let to = traction_domain::time::parse_instant(&q.to, &q.zone).map_err(WebError::bad)?;
    let buckets = Buckets::new(result.grain, from, to, &q.zone)?;
    let labels: Vec<String> =
        buckets.list.iter().map(|b| b.label.clone().unwrap_or_default()).collect();
    // One series per group, the six largest; the comparison as grey lines.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for r in &result.rows {
        let key = r.dims.iter().map(|d| dim_text(names, d)).collect::<Vec<_>>().join(" · ");
        let entry = groups.entry(key).or_default();
        entry.0 += r.value.unwrap_or(0.0).abs();
        entry.1.insert(r.period.clone().unwrap_or_default(), (r.value, r.previous));
    }
    let mut order: Vec<(&String, &Group)> = groups.iter().collect();
    order.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    let gap = if additive { Some(0.0) } else { None };
    let mut series = Vec::new();
    for (i, (name, (_, values))) in order.iter().take(6).enumerate() {
        let shown = if name.is_empty() { result.metric.clone() } else { (*name).clone() };
        if result.compare.is_some() && i == 0 {
            series.push(Series {
                name: format!("{shown} (compared)"),
                values: labels.iter().map(|l| values.get(l).map_or(gap, |v| v.1)).collect(),
                style: Style::Previous,
            });
        }
        series.push(Series {
            name: shown,
            values: labels.iter().map(|l| values.get(l).map_or(gap, |v| v.0)).collect(),
            style: Style::Main(i),
        });
    }
    let chart = Chart {
        title: result.metric.clone(),
        unit: result.unit,
        labels,
        series,
        bars: false,
        wide: true,
    };
    Ok(chart::chart(&chart, &ws.fmt))
}

fn result_table(result: &MetricResult, ws: &Ws, names: &Names) -> Markup {
    let show_period = result.grain != Grain::All;
    html! {
        div.scroll {
            table {
                thead {
                    tr {
                        @if show_period { th scope="col" { "Period" } }
                        @for d in &result.by { th scope="col" { (d.replace('_', " ")) } }
                        th.num scope="col" { "Value" }
                        @if result.ratio { th.num scope="col" { "Numerator" } th.num scope="col" { "Denominator" } }
                        @if result.compare.is_some() { th.num scope="col" { "Compared" } th.num scope="col" { "Change" } }
                    }
                }
                tbody {
                    @for r in &result.rows {
                        tr {
                            @if show_period { th scope="row" { (r.period.clone().unwrap_or_default()) } }
                            @for d in &r.dims { td { (dim_text(names, d)) } }
                            td.num { (ws.fmt.value(result.unit, r.value)) }
                            @if result.ratio { td.num { (ws.fmt.count(r.numerator.unwrap_or(0.0))) } td.num { (ws.fmt.count(r.denominator.unwrap_or(0.0))) } }
                            @if result.compare.is_some() {
                                // Which stretch was compared (like for like while the bucket is in progress).
                                td.num title=[r.compared.as_ref().map(|c| format!("compared with {}", traction_kpi::report::stretch_label(c.from, c.to, &ws.zone)))] { (ws.fmt.value(result.unit, r.previous)) }
                                td.num { (r.change.map_or("–".into(), |c| ws.fmt.percent(c))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The result as CSV: `period`, the dimensions, `value` (and numerator/denominator, previous/
/// change) — the columns of `traction metric --format csv`.
pub fn to_csv(result: &MetricResult) -> String {
    fn cell(text: &str) -> String {
        // A cell a spreadsheet would run as a formula is shown as text.
        let text = traction_domain::record::spreadsheet_safe(text);
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    }
    let num = |x: Option<f64>| x.filter(|v| v.is_finite()).map_or(String::new(), |v| v.to_string());
    let mut header = vec!["period".to_string()];
    header.extend(result.by.iter().cloned());
    header.push("value".into());
    if result.ratio {
        header.extend(["numerator".into(), "denominator".into()]);
    }
    if result.compare.is_some() {
        header.extend([
            "previous".into(),
            "change".into(),
            "compared_from".into(),
            "compared_to".into(),
        ]);
    }
    let mut out = header.join(",") + "\n";
    for r in &result.rows {
        let mut row = vec![cell(r.period.as_deref().unwrap_or(""))];
        row.extend(r.dims.iter().map(|d| cell(&d.text())));
        row.push(num(r.value));
        if result.ratio {
            row.extend([num(r.numerator), num(r.denominator)]);
        }
        if result.compare.is_some() {
            row.extend([num(r.previous), num(r.change)]);
            let (from, to) = r
                .compared
                .as_ref()
                .map_or_else(Default::default, |c| (c.from_text.clone(), c.to_text.clone()));
            row.extend([from, to]);
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}
