//! The period report a manager can send on (spec: interfaces.md, Report; kpis.md): KPIs with their
//! status, the key leading and lagging metrics with the previous period and the same period a year
//! earlier, the funnel, and the leaderboard — as JSON, Markdown, CSV or printable HTML with charts.

use std::fmt::Write as _;

use serde_json::{Value as Json, json};
use traction_domain::time::{Micros, format_instant};
use traction_metrics::catalog::{Indicator, Unit};
use traction_metrics::{Catalog, Compare, FunnelQuery, FunnelRow, Grain, Query};
use traction_store::SqliteStore;

use crate::engine::{Engine, owner_filter};
use crate::scope::Scope;
use crate::service::{Error, KpiRow, Kpis, LeaderRow};

/// The metrics a report shows, leading first, when the catalog has them.
const KEY_METRICS: &[&str] = &[
    "leads_created",
    "lead_response_time",
    "leads_answered_within_hour_rate",
    "deals_created",
    "calls_made",
    "meetings_booked",
    "demos_given",
    "open_pipeline_value",
    "deals_won",
    "revenue_won",
    "win_rate",
    "average_deal_size",
    "sales_cycle_days",
    "revenue",
    "new_customers",
];

/// One metric line of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricLine {
    pub metric: String,
    pub label: String,
    pub unit: Unit,
    pub indicator: Indicator,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub year_ago: Option<f64>,
}

/// A report's content.
#[derive(Clone, Debug)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub scope: Scope,
    pub at: Micros,
    pub kpis: Vec<KpiRow>,
    pub metrics: Vec<MetricLine>,
    pub funnel: Vec<FunnelRow>,
    /// The leaderboard of the scope's first team or company target, if it has one.
    pub leaderboard: Option<(String, Vec<LeaderRow>)>,
    /// Revenue won per week of the range, for the chart (label, value).
    pub trend: Vec<(String, f64)>,
    /// Metrics left out, with why (e.g. their records have no owner, so a team scope cannot apply).
    pub notes: Vec<String>,
}

/// Assembles the report of `[from, to)` (local dates as text for display) for a scope.
pub fn build(
    store: &SqliteStore,
    catalog: &Catalog,
    scope: Scope,
    from: (Micros, String),
    to: (Micros, String),
    now: Micros,
) -> Result<Report, Error> {
    let engine = Engine { store, catalog };
    let kpis = Kpis { store, metrics: &engine };
    let org = kpis.org()?;
    let owners = org.owners(&scope);
    let filter = owners.as_deref().map(owner_filter);
    // KPIs as they stand at the end of the range, or now if the range is not over.
    let at = to.0.min(now);
    let zone = traction_store::Store::workspace(store)?.zone;
    // The key metrics (about forty queries) on a second thread, beside the KPIs, the funnel and
    // the leaderboard: the store's read connections serve both side by side.
    let (key, rest) = std::thread::scope(|threads| {
        let key =
            threads.spawn(|| key_metrics(store, catalog, filter.as_ref(), from.0, to.0, at, &zone));
        let rest = (|| {
            // The targets of the scope whose period overlaps the range.
            let kpi_rows = kpis.status_where(at, |target, (start, end)| {
                target.scope == scope && start < to.0 && end > from.0
            })?;
            let rest =
                rest_of_report(&kpis, store, catalog, &filter, &from, &to, at, &zone, &kpi_rows)?;
            Ok::<_, Error>((kpi_rows, rest))
        })();
        (key.join(), rest)
    });
    let (metrics, mut notes) = key.map_err(|_| Error::Invalid("the key metrics failed".into()))?;
    let (kpi_rows, (funnel, leaderboard, trend, more_notes)) = rest?;
    notes.extend(more_notes);
    Ok(Report {
        from: from.1,
        to: to.1,
        scope,
        at,
        kpis: kpi_rows,
        metrics,
        funnel,
        leaderboard,
        trend,
        notes,
    })
}

/// The funnel, the leaderboard of the scope's first team or company target, and revenue won per
/// week, with notes on what was left out.
#[allow(clippy::too_many_arguments)]
fn rest_of_report(
    kpis: &Kpis<'_>,
    store: &SqliteStore,
    catalog: &Catalog,
    filter: &Option<String>,
    from: &(Micros, String),
    to: &(Micros, String),
    at: Micros,
    zone: &jiff::tz::TimeZone,
    kpi_rows: &[KpiRow],
) -> Result<Rest, Error> {
    let mut notes = Vec::new();
    let funnel = traction_metrics::funnel(
        store,
        &FunnelQuery { pipeline: None, from: from.0, to: to.0, filter: filter.clone(), at },
    )
    .map(|f| f.rows)
    .unwrap_or_else(|e| {
        notes.push(format!("the funnel is left out: {e}"));
        Vec::new()
    });
    let board_target =
        kpi_rows.iter().find(|r| r.error.is_none() && !matches!(r.target.scope, Scope::User(_)));
    let leaderboard = match board_target {
        Some(r) => Some((r.target.id.clone(), kpis.leaderboard(&r.target.id, at)?)),
        None => None,
    };
    let trend = if catalog.get("revenue_won").is_some() {
        let mut query = Query::new("revenue_won", from.0, to.0, Grain::Week, at);
        query.filter = filter.clone();
        // Every week of the range, those without a won deal as 0.
        let values: std::collections::BTreeMap<String, f64> =
            traction_metrics::run(store, catalog, &query)
                .map(|r| {
                    r.rows
                        .iter()
                        .map(|row| {
                            (row.period.clone().unwrap_or_default(), row.value.unwrap_or(0.0))
                        })
                        .collect()
                })
                .unwrap_or_default();
        crate::period::buckets(crate::period::Grain::Week, from.0, to.0, zone)
            .map_err(Error::Invalid)?
            .into_iter()
            .map(|b| {
                let value = values.get(&b.label).copied().unwrap_or(0.0);
                (b.label, value)
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok((funnel, leaderboard, trend, notes))
}

/// The funnel, the leaderboard and the weekly trend, with notes.
type Rest = (Vec<FunnelRow>, Option<(String, Vec<LeaderRow>)>, Vec<(String, f64)>, Vec<String>);

/// The key metrics over `[from, to)` with the previous period and the same range a year
/// earlier; a metric that cannot be computed for the scope is left out with a note.
fn key_metrics(
    store: &SqliteStore,
    catalog: &Catalog,
    filter: Option<&String>,
    from: Micros,
    to: Micros,
    at: Micros,
    zone: &jiff::tz::TimeZone,
) -> (Vec<MetricLine>, Vec<String>) {
    let engine = Engine { store, catalog };
    let filter = filter.cloned();
    let mut metrics = Vec::new();
    let mut notes = Vec::new();
    for name in KEY_METRICS {
        let Some(metric) = catalog.get(name) else { continue };
        let value_of = |compare: Option<Compare>| -> Result<(Option<f64>, Option<f64>), String> {
            let mut query = Query::new(name, from, to, Grain::All, at);
            query.filter = filter.clone();
            query.compare = compare;
            let result =
                traction_metrics::run(store, catalog, &query).map_err(|e| e.to_string())?;
            Ok(result.rows.first().map_or((None, None), |r| (r.value, r.previous)))
        };
        let (value, previous) = match value_of(Some(Compare::Previous)) {
            Ok(v) => v,
            Err(e) => {
                notes.push(format!("{name} is left out: {e}"));
                continue;
            }
        };
        // The same range a year earlier, as the engine's `compare=yoy` computes it for grain
        // `all` (the range shifted by a year, the same clock), without computing this period's
        // value a third time.
        let year_ago = (|| -> Result<Option<f64>, String> {
            let shift = |t: Micros| {
                traction_metrics::buckets::shift_years(t, -1, zone).map_err(|e| e.to_string())
            };
            let mut query = Query::new(name, shift(from)?, shift(to)?, Grain::All, at);
            query.filter = filter.clone();
            let result =
                traction_metrics::run(store, catalog, &query).map_err(|e| e.to_string())?;
            Ok(result.rows.first().and_then(|r| r.value))
        })()
        .unwrap_or(None);
        // A count or a sum over an empty range is 0, not missing; an average of nothing is.
        let accumulating = matches!(
            crate::service::MetricSource::behaviour(&engine, name),
            Ok(crate::pace::Behaviour::Accumulating)
        );
        let zero = |v: Option<f64>| if accumulating { v.or(Some(0.0)) } else { v };
        metrics.push(MetricLine {
            metric: name.to_string(),
            label: metric.label.clone(),
            unit: metric.unit,
            indicator: metric.indicator,
            value: zero(value),
            previous: zero(previous),
            year_ago: zero(year_ago),
        });
    }
    (metrics, notes)
}

fn number(x: Option<f64>) -> Json {
    match x {
        Some(v) if v.is_finite() => json!(v),
        _ => Json::Null,
    }
}

impl Report {
    /// `{"from", "to", "scope", "kpis", "metrics", "funnel", "leaderboard"}` (interfaces.md).
    pub fn to_json(&self) -> Json {
        let kpis = crate::json::status(self.at, &self.kpis)["rows"].clone();
        let metrics: Vec<Json> = self
            .metrics
            .iter()
            .map(|m| {
                json!({
                    "metric": m.metric, "indicator": m.indicator.name(), "value": number(m.value),
                    "previous": number(m.previous), "year_ago": number(m.year_ago),
                })
            })
            .collect();
        let funnel: Vec<Json> = self
            .funnel
            .iter()
            .map(|r| {
                json!({
                    "pipeline": r.pipeline, "stage": r.stage, "position": r.position, "reached": r.reached,
                    "conversion_to_next": number(r.conversion_to_next), "leakage": number(r.leakage),
                })
            })
            .collect();
        let leaderboard = match &self.leaderboard {
            Some((target, rows)) => crate::json::leaderboard(target, self.at, rows)["rows"].clone(),
            None => json!([]),
        };
        json!({
            "from": self.from, "to": self.to, "scope": self.scope.to_string(),
            "kpis": kpis, "metrics": metrics, "funnel": funnel, "leaderboard": leaderboard,
        })
    }

    /// The metrics table as CSV.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("metric,indicator,value,previous,year_ago\n");
        let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        for m in &self.metrics {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                m.metric,
                m.indicator.name(),
                cell(m.value),
                cell(m.previous),
                cell(m.year_ago)
            );
        }
        out
    }

    /// Markdown for e-mail or a wiki.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Sales report · {} · {} to {}\n", self.scope, self.from, self.to);
        let _ = writeln!(out, "Figures as of {}.\n", format_instant(self.at));
        out.push_str("## KPIs\n\n");
        if self.kpis.is_empty() {
            out.push_str("No targets for this scope yet.\n\n");
        } else {
            out.push_str("| target | metric | target value | actual | expected | pace | status | projected |\n");
            out.push_str("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |\n");
            for k in &self.kpis {
                let f = &k.figures;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} {} | {} |",
                    k.target.id,
                    k.target.metric,
                    human(Some(k.target.value)),
                    human(f.actual),
                    human(Some(f.expected)),
                    pct(f.pace),
                    status_symbol(f.status.name()),
                    f.status.name().replace('_', " "),
                    human(f.projected)
                );
            }
            out.push('\n');
            // A target that cannot be computed (status error) says why, under the table.
            for message in kpi_errors(&self.kpis) {
                let _ = writeln!(out, "- ⚠ {message}");
            }
            if !kpi_errors(&self.kpis).is_empty() {
                out.push('\n');
            }
        }
        for (title, indicator) in
            [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)]
        {
            let _ = writeln!(out, "## {title}\n");
            out.push_str("| metric | value | previous period | change | a year ago | change |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
            for m in self.metrics.iter().filter(|m| m.indicator == indicator) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    m.label,
                    display(m.unit, m.value),
                    display(m.unit, m.previous),
                    change(m.value, m.previous),
                    display(m.unit, m.year_ago),
                    change(m.value, m.year_ago)
                );
            }
            out.push('\n');
        }
        out.push_str("## Funnel\n\n");
        if self.funnel.is_empty() {
            out.push_str("No deals were created in the range.\n\n");
        } else {
            out.push_str("| pipeline | stage | reached | conversion to next | leakage |\n| --- | --- | ---: | ---: | ---: |\n");
            for r in &self.funnel {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    r.pipeline,
                    r.stage,
                    r.reached,
                    pct(r.conversion_to_next),
                    pct(r.leakage)
                );
            }
            out.push('\n');
        }
        if let Some((target, rows)) = &self.leaderboard {
            let _ = writeln!(out, "## Leaderboard ({target})\n");
            out.push_str("| rank | rep | target | actual | pace | band |\n| ---: | --- | ---: | ---: | ---: | --- |\n");
            for r in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.rank,
                    r.user,
                    human(Some(r.target_value)),
                    human(r.figures.actual),
                    pct(r.figures.pace),
                    r.band
                );
            }
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "_Note: {note}._");
        }
        out
    }

    /// A self-contained, printable HTML page with SVG charts.
    pub fn to_html(&self) -> String {
        let mut body = String::new();
        let _ = write!(
            body,
            "<header><h1>Sales report</h1><p>{} · {} to {} · figures as of {}</p></header>",
            esc(&self.scope.to_string()),
            esc(&self.from),
            esc(&self.to),
            esc(&format_instant(self.at))
        );
        body.push_str("<section><h2>KPIs</h2>");
        if self.kpis.is_empty() {
            body.push_str("<p>No targets for this scope yet.</p>");
        } else {
            body.push_str("<div class=tiles>");
            for k in &self.kpis {
                let f = &k.figures;
                let status = f.status.name();
                let _ = write!(
                    body,
                    "<article class=\"tile {status}\"><h3>{} · {} · {}</h3><p class=value>{}</p><p>target {} · expected {}</p>{}<p class=status>{} {}</p><p class=small>projected {}</p></article>",
                    esc(&k.target.metric),
                    esc(&k.target.scope.to_string()),
                    k.target.starts_on,
                    human(f.actual),
                    human(Some(k.target.value)),
                    human(Some(f.expected)),
                    pace_bar(f.actual.unwrap_or(0.0), f.expected, k.target.value),
                    status_symbol(status),
                    status.replace('_', " "),
                    human(f.projected)
                );
            }
            body.push_str("</div>");
            for message in kpi_errors(&self.kpis) {
                let _ = write!(body, "<p class=small>⚠ {}</p>", esc(message));
            }
        }
        body.push_str("</section>");
        for (title, indicator) in
            [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)]
        {
            let _ = write!(
                body,
                "<section><h2>{title}</h2><table><thead><tr><th>metric</th><th>value</th><th>previous period</th><th>change</th><th>a year ago</th><th>change</th></tr></thead><tbody>"
            );
            for m in self.metrics.iter().filter(|m| m.indicator == indicator) {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&m.label),
                    display(m.unit, m.value),
                    display(m.unit, m.previous),
                    change(m.value, m.previous),
                    display(m.unit, m.year_ago),
                    change(m.value, m.year_ago)
                );
            }
            body.push_str("</tbody></table></section>");
        }
        if !self.trend.is_empty() {
            body.push_str("<section><h2>Revenue won by week</h2>");
            body.push_str(&bar_chart(&self.trend));
            body.push_str("</section>");
        }
        body.push_str("<section><h2>Funnel</h2>");
        if self.funnel.is_empty() {
            body.push_str("<p>No deals were created in the range.</p>");
        } else {
            body.push_str(&funnel_chart(&self.funnel));
        }
        body.push_str("</section>");
        if let Some((target, rows)) = &self.leaderboard {
            let _ = write!(
                body,
                "<section><h2>Leaderboard · {}</h2><table class=board><thead><tr><th>rank</th><th>rep</th><th>target</th><th>actual</th><th>pace</th><th>band</th></tr></thead><tbody>",
                esc(target)
            );
            for r in rows {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    r.rank,
                    esc(&r.user),
                    human(Some(r.target_value)),
                    human(r.figures.actual),
                    pct(r.figures.pace),
                    r.band
                );
            }
            body.push_str("</tbody></table></section>");
        }
        for note in &self.notes {
            let _ = write!(body, "<p class=small>Note: {}.</p>", esc(note));
        }
        format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>Sales report {} {}–{}</title><style>{CSS}</style></head><body>{body}</body></html>\n",
            esc(&self.scope.to_string()),
            esc(&self.from),
            esc(&self.to)
        )
    }
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;max-width:60rem;margin:2rem auto;padding:0 1rem;font-variant-numeric:tabular-nums}\
h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;margin-top:2rem}header p{color:#57606a;margin:.25rem 0 0}\
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;text-align:right;border-bottom:1px solid #eaeef2}th:first-child,td:first-child{text-align:left}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem}.tile{padding:.9rem;border-radius:.5rem;background:#f6f8fa}\
.board td:nth-child(2),.board th:nth-child(2){text-align:left}.tile h3{margin:0;font-size:.9rem;color:#57606a}.value{font-size:1.6rem;margin:.3rem 0}.tile p{margin:.2rem 0}.small{font-size:.8rem;color:#57606a}\
.on_track .status,.achieved .status{color:#1a7f37}.at_risk .status{color:#9a6700}.off_track .status{color:#cf222e}\
svg text{font-size:11px;fill:#57606a}@media print{body{margin:0}section{break-inside:avoid}}";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Why the targets that cannot be computed (status `error`) have no figures, one line each.
fn kpi_errors(kpis: &[KpiRow]) -> Vec<&str> {
    kpis.iter().filter_map(|k| k.error.as_deref()).collect()
}

fn status_symbol(status: &str) -> &'static str {
    match status {
        "on_track" | "achieved" => "▲",
        "at_risk" => "●",
        "off_track" | "missed" => "▼",
        "error" => "⚠",
        _ => "○",
    }
}

/// Actual against the target, with a tick at the expected position.
fn pace_bar(actual: f64, expected: f64, target: f64) -> String {
    // A target that cannot be computed has no expected figure: no tick.
    let expected = if expected.is_finite() { expected } else { 0.0 };
    let scale = target.max(actual).max(expected).max(1e-9);
    let w = |x: f64| (x / scale * 200.0).clamp(0.0, 200.0);
    format!(
        "<svg width=200 height=14 role=img aria-label=\"actual {} of target {}, expected {}\"><rect width=200 height=14 fill=#eaeef2 rx=3></rect><rect width={:.1} height=14 fill=#0969da rx=3></rect><line x1={:.1} x2={:.1} y1=0 y2=14 stroke=#1f2328 stroke-width=2></line></svg>",
        human(Some(actual)),
        human(Some(target)),
        human(Some(expected)),
        w(actual),
        w(expected),
        w(expected)
    )
}

fn bar_chart(points: &[(String, f64)]) -> String {
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9);
    let (width, height, left, bottom) = (640.0, 200.0, 70.0, 30.0);
    let bar = (width - left) / points.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {height}\" width=100% role=img aria-label=\"revenue won by week\"><line x1={left} x2={width} y1={} y2={} stroke=#d0d7de></line><text x=0 y=12>{}</text><text x=0 y={}>0</text>",
        height - bottom,
        height - bottom,
        human(Some(max)),
        height - bottom
    );
    for (idx, (label, value)) in points.iter().enumerate() {
        let h = value / max * (height - bottom - 10.0);
        let x = left + idx as f64 * bar;
        let _ = write!(
            svg,
            "<rect x={:.1} y={:.1} width={:.1} height={:.1} fill=#0969da><title>week of {}: {}</title></rect>",
            x + 1.0,
            height - bottom - h,
            (bar - 2.0).max(1.0),
            h,
            esc(label),
            human(Some(*value))
        );
        if idx % (points.len() / 6 + 1) == 0 {
            let _ = write!(
                svg,
                "<text x={:.1} y={}>{}</text>",
                x,
                height - 10.0,
                esc(label.get(5..).unwrap_or(label))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn funnel_chart(rows: &[FunnelRow]) -> String {
    let max = rows.iter().map(|r| r.reached).max().unwrap_or(1).max(1) as f64;
    let worst = rows
        .iter()
        .filter_map(|r| r.leakage.map(|l| (r.stage.clone(), l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(s, _)| s);
    let mut svg = format!(
        "<svg viewBox=\"0 0 640 {}\" width=100% role=img aria-label=\"funnel\">",
        rows.len() * 28 + 4
    );
    for (idx, r) in rows.iter().enumerate() {
        let y = idx as f64 * 28.0 + 2.0;
        let w = r.reached as f64 / max * 380.0;
        let leak = if worst.as_deref() == Some(r.stage.as_str()) { " · largest leak" } else { "" };
        let _ = write!(
            svg,
            "<text x=0 y={:.1}>{}</text><rect x=140 y={:.1} width={:.1} height=20 fill=#0969da><title>{}: {} reached</title></rect><text x={:.1} y={:.1}>{} · {} to next{}</text>",
            y + 14.0,
            esc(&r.stage),
            y,
            w.max(1.0),
            esc(&r.stage),
            r.reached,
            146.0 + w,
            y + 14.0,
            r.reached,
            pct(r.conversion_to_next),
            leak
        );
    }
    svg.push_str("</svg>");
    svg
}

fn human(x: Option<f64>) -> String {
    traction_domain::money::human_number(x)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |p| format!("{:.1}%", p * 100.0))
}

/// A value for people in its unit.
fn display(unit: Unit, x: Option<f64>) -> String {
    match (unit, x) {
        (_, None) => "–".to_string(),
        (Unit::Ratio, Some(v)) => pct(Some(v)),
        (Unit::Seconds, Some(v)) if v >= 3600.0 => format!("{:.1} h", v / 3600.0),
        (Unit::Seconds, Some(v)) => format!("{:.0} min", v / 60.0),
        (Unit::Days, Some(v)) => format!("{v:.1} days"),
        (_, v) => human(v),
    }
}

fn change(now: Option<f64>, then: Option<f64>) -> String {
    match (now, then) {
        (Some(a), Some(b)) if b != 0.0 => {
            let c = a / b - 1.0;
            format!("{} {:.1}%", if c >= 0.0 { "▲" } else { "▼" }, c.abs() * 100.0)
        }
        _ => "–".to_string(),
    }
}
