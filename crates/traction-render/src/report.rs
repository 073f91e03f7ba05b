//! The period report for people (spec: interfaces.md, Report): Markdown for e-mail or a wiki, CSV
//! of the metrics table, and a self-contained printable HTML page with SVG charts. The report's
//! content is `traction_kpi::report::Report`; this is only how it is written out.

use std::fmt::Write as _;

use maud::{PreEscaped, html};
use traction_domain::time::format_instant;
use traction_kpi::report::{Names, Report, Why};
use traction_kpi::service::KpiRow;
use traction_metrics::catalog::{Indicator, Unit};
use traction_metrics::{FunnelRow, Stretch};

use crate::chart::{self, Chart, FunnelStage, Series, Style};
use crate::fmt::{Fmt, Locale};

/// The metrics table as CSV: values as the JSON gives them (rates as fractions, money in
/// major units), with the label and the stretches compared.
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "metric,label,indicator,unit,value,previous,year_ago,previous_from,previous_to,year_ago_from,year_ago_to\n",
    );
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let bounds = |c: &Option<(Stretch, String)>| match c {
        Some((s, _)) => format!("{},{}", s.from_text, s.to_text),
        None => ",".to_string(),
    };
    let (previous, year_ago) =
        (bounds(&report.compared.previous), bounds(&report.compared.year_ago));
    for m in &report.metrics {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{previous},{year_ago}",
            m.metric,
            csv_text(&m.label),
            m.indicator.name(),
            m.unit.name(),
            cell(m.value),
            cell(m.previous),
            cell(m.year_ago)
        );
    }
    out
}

/// A KPI's figure in its metric's unit (rates as percentages).
fn kpi_value(report: &Report, k: &KpiRow, x: Option<f64>) -> String {
    display(report.kpi_metrics.get(&k.target.metric).map_or(Unit::Count, |m| m.1), x)
}

/// A KPI's forecast for people, `41,200 (38,000–44,100)`, and its backtest in one line
/// (spec: monitoring.md, the backtest is shown wherever the forecast is).
fn kpi_forecast(report: &Report, k: &KpiRow) -> (String, Option<String>) {
    match &k.forecast {
        Some(f) => (
            format!(
                "{} ({}–{})",
                kpi_value(report, k, Some(f.value)),
                kpi_value(report, k, Some(f.low)),
                kpi_value(report, k, Some(f.high))
            ),
            f.backtest.map(|b| b.summary("day")),
        ),
        None => ("–".to_string(), None),
    }
}

/// The column heads of the comparisons: `vs 1–3 Nov 2026 until 15:00`.
fn compared_heads(report: &Report) -> (String, String) {
    let head = |c: &Option<(Stretch, String)>, fallback: &str| match c {
        Some((_, label)) => format!("vs {label}"),
        None => fallback.to_string(),
    };
    (
        head(&report.compared.previous, "vs previous period"),
        head(&report.compared.year_ago, "vs a year ago"),
    )
}

/// What the funnel counts.
fn funnel_caption(report: &Report) -> String {
    format!(
        "Deals created in {}, by the furthest stage they reached (a deal that skipped a stage counts as having reached it); conversion is to the next stage.",
        report.range_label
    )
}

/// The leaderboard's heading: the target it ranks the reps of.
fn board_title(report: &Report, target: &str) -> String {
    report
        .kpis
        .iter()
        .find(|k| k.target.id == target)
        .map_or_else(|| target.to_string(), |k| report.kpi_name(k))
}

/// Markdown for e-mail or a wiki.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Sales report · {} · {}\n",
        md(&report.names.scope(&report.scope)),
        md(&report.range_label)
    );
    let _ = writeln!(out, "Figures as of {}.\n", format_instant(report.at));
    out.push_str("## KPIs\n\n");
    if report.kpis.is_empty() {
        out.push_str("No targets for this scope yet.\n\n");
    } else {
        out.push_str(
            "| KPI | target | actual | expected | pace | status | projected (run rate) | forecast (80%) |\n",
        );
        out.push_str("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |\n");
        for k in &report.kpis {
            let f = &k.figures;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} {} | {} | {} |",
                md(&report.kpi_name(k)),
                kpi_value(report, k, Some(k.target.value)),
                kpi_value(report, k, f.actual),
                kpi_value(report, k, Some(f.expected)),
                pct(f.pace),
                status_symbol(f.status.name()),
                f.status.name().replace('_', " "),
                kpi_value(report, k, f.projected),
                kpi_forecast(report, k).0
            );
        }
        out.push('\n');
        // How far to trust each forecast: its backtest, under the table.
        let trust: Vec<(String, String)> = report
            .kpis
            .iter()
            .filter_map(|k| Some((report.kpi_name(k), kpi_forecast(report, k).1?)))
            .collect();
        for (name, line) in &trust {
            let _ = writeln!(out, "- {} forecast {}", md(name), md(line));
        }
        if !trust.is_empty() {
            out.push('\n');
        }
        // A target that cannot be computed (status error) says why, under the table.
        for message in kpi_errors(&report.kpis) {
            let _ = writeln!(out, "- ⚠ {message}");
        }
        if !kpi_errors(&report.kpis).is_empty() {
            out.push('\n');
        }
    }
    let (vs_previous, vs_year) = compared_heads(report);
    for (title, indicator) in
        [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)]
    {
        let _ = writeln!(out, "## {title}\n");
        let _ = writeln!(
            out,
            "| metric | value | {vs_previous} | change | {vs_year} | change |\n| --- | ---: | ---: | ---: | ---: | ---: |"
        );
        for m in report.metrics.iter().filter(|m| m.indicator == indicator) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md(&m.label),
                display(m.unit, m.value),
                display(m.unit, m.previous),
                change(m.value, m.previous),
                display(m.unit, m.year_ago),
                change(m.value, m.year_ago)
            );
        }
        out.push('\n');
        // Why they moved: one sentence per metric (spec: monitoring.md).
        let why: Vec<&Why> = report
            .metrics
            .iter()
            .filter(|m| m.indicator == indicator)
            .filter_map(|m| report.why.get(&m.metric))
            .collect();
        for w in &why {
            let _ = writeln!(out, "- {}", md(&w.text));
        }
        if !why.is_empty() {
            out.push('\n');
        }
    }
    out.push_str("## Funnel\n\n");
    if report.funnel.is_empty() {
        out.push_str("No deals were created in the range.\n\n");
    } else {
        let _ = writeln!(out, "{}\n", funnel_caption(report));
        out.push_str("| pipeline | stage | deals reached | conversion to next | leakage |\n| --- | --- | ---: | ---: | ---: |\n");
        for r in &report.funnel {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md(report.names.pipeline(&r.pipeline)),
                md(report.names.stage(&r.stage)),
                r.reached,
                pct(r.conversion_to_next),
                pct(r.leakage)
            );
        }
        out.push('\n');
    }
    if let Some((target, rows)) = &report.leaderboard {
        let _ = writeln!(out, "## Leaderboard · {}\n", md(&board_title(report, target)));
        let k = report.kpis.iter().find(|k| &k.target.id == target);
        let value = |x: Option<f64>| match k {
            Some(k) => kpi_value(report, k, x),
            None => human(x),
        };
        out.push_str("| rank | rep | target | actual | pace | band |\n| ---: | --- | ---: | ---: | ---: | --- |\n");
        for r in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r.rank,
                md(report.names.user(&r.user)),
                value(Some(r.target_value)),
                value(r.figures.actual),
                pct(r.figures.pace),
                r.band
            );
        }
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "_Note: {}._", md(note));
    }
    out
}

/// A self-contained, printable HTML page with SVG charts: the pace bars, the weekly trend and
/// the funnel are the web pages' ([`crate::chart`]), dressed by the page's own stylesheet.
pub fn html(report: &Report) -> String {
    let scope_name = report.names.scope(&report.scope);
    let fmt = Fmt { locale: Locale::EN, currency: report.currency };
    let (vs_previous, vs_year) = compared_heads(report);
    let page = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { "Sales report · " (scope_name) " · " (report.range_label) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Sales report" }
                    p { (scope_name) " · " (report.range_label) " · figures as of " (format_instant(report.at)) }
                }
                section {
                    h2 { "KPIs" }
                    @if report.kpis.is_empty() {
                        p { "No targets for this scope yet." }
                    } @else {
                        div.tiles {
                            @for k in &report.kpis {
                                @let f = &k.figures;
                                @let status = f.status.name();
                                article class={ "tile " (status) } {
                                    h3 { (report.kpi_name(k)) }
                                    p.value { (kpi_value(report, k, f.actual)) }
                                    p { "target " (kpi_value(report, k, Some(k.target.value))) " · expected " (kpi_value(report, k, Some(f.expected))) }
                                    (chart::pace_bar(f.actual.unwrap_or(0.0), f.expected, k.target.value, status, &pace_label(report, k)))
                                    p.status { (status_symbol(status)) " " (status.replace('_', " ")) }
                                    p.small { "projected " (kpi_value(report, k, f.projected)) " (run rate)" }
                                    @if k.forecast.is_some() {
                                        @let (figure, trust) = kpi_forecast(report, k);
                                        p.small { "forecast " (figure) " (80%)" }
                                        @if let Some(trust) = trust {
                                            p.small { (trust) }
                                        }
                                    }
                                }
                            }
                        }
                        @for message in kpi_errors(&report.kpis) {
                            p.small { "⚠ " (message) }
                        }
                    }
                }
                @for (title, indicator) in [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)] {
                    section {
                        h2 { (title) }
                        table {
                            thead { tr { th { "metric" } th { "value" } th { (vs_previous) } th { "change" } th { (vs_year) } th { "change" } } }
                            tbody {
                                @for m in report.metrics.iter().filter(|m| m.indicator == indicator) {
                                    tr {
                                        td { (m.label) }
                                        td { (display(m.unit, m.value)) }
                                        td { (display(m.unit, m.previous)) }
                                        td { (change(m.value, m.previous)) }
                                        td { (display(m.unit, m.year_ago)) }
                                        td { (change(m.value, m.year_ago)) }
                                    }
                                }
                            }
                        }
                        @let why: Vec<&Why> = report
                            .metrics
                            .iter()
                            .filter(|m| m.indicator == indicator)
                            .filter_map(|m| report.why.get(&m.metric))
                            .collect();
                        @if !why.is_empty() {
                            ul.why { @for w in why { li { (w.text) } } }
                        }
                    }
                }
                @if !report.trend.is_empty() {
                    section {
                        h2 { "Revenue won by week" }
                        (chart::chart(&trend_chart(&report.trend), &fmt))
                    }
                }
                section {
                    h2 { "Funnel" }
                    @if report.funnel.is_empty() {
                        p { "No deals were created in the range." }
                    } @else {
                        p.small { (funnel_caption(report)) }
                        (chart::funnel(&funnel_stages(&report.funnel, &report.names), &fmt))
                    }
                }
                @if let Some((target, rows)) = &report.leaderboard {
                    @let k = report.kpis.iter().find(|k| &k.target.id == target);
                    @let value = |x: Option<f64>| match k {
                        Some(k) => kpi_value(report, k, x),
                        None => human(x),
                    };
                    section {
                        h2 { "Leaderboard · " (board_title(report, target)) }
                        table.board {
                            thead { tr { th { "rank" } th { "rep" } th { "target" } th { "actual" } th { "pace" } th { "band" } } }
                            tbody {
                                @for r in rows {
                                    tr {
                                        td { (r.rank) }
                                        td { (report.names.user(&r.user)) }
                                        td { (value(Some(r.target_value))) }
                                        td { (value(r.figures.actual)) }
                                        td { (pct(r.figures.pace)) }
                                        td { (r.band) }
                                    }
                                }
                            }
                        }
                    }
                }
                @for note in &report.notes {
                    p.small { "Note: " (note) "." }
                }
            }
        }
        "\n"
    };
    page.into_string()
}

/// What a KPI's pace bar says to a screen reader: `actual 27,000 of target 84,000, expected
/// 30,000`.
fn pace_label(report: &Report, k: &KpiRow) -> String {
    let f = &k.figures;
    let value = |x: Option<f64>| kpi_value(report, k, x);
    format!(
        "actual {} of target {}, expected {}",
        value(f.actual),
        value(Some(k.target.value)),
        value(Some(f.expected).filter(|e| e.is_finite()))
    )
}

/// Revenue won per week as bars, in the workspace's money.
fn trend_chart(points: &[(String, f64)]) -> Chart {
    Chart {
        title: "Revenue won by week".into(),
        unit: Unit::Money,
        labels: points.iter().map(|(label, _)| label.clone()).collect(),
        series: vec![Series {
            name: "Revenue won".into(),
            values: points.iter().map(|(_, value)| Some(*value)).collect(),
            style: Style::Main(0),
        }],
        bars: true,
        wide: true,
    }
}

/// The funnel's stages by name.
fn funnel_stages(rows: &[FunnelRow], names: &Names) -> Vec<FunnelStage> {
    rows.iter()
        .map(|r| FunnelStage {
            name: names.stage(&r.stage).to_string(),
            reached: r.reached,
            conversion: r.conversion_to_next,
            leakage: r.leakage,
        })
        .collect()
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_text(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Text in a Markdown table cell: pipes escaped, no line breaks.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;max-width:60rem;margin:2rem auto;padding:0 1rem;font-variant-numeric:tabular-nums}\
h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;margin-top:2rem}header p{color:#57606a;margin:.25rem 0 0}\
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;text-align:right;border-bottom:1px solid #eaeef2}th:first-child,td:first-child{text-align:left}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem}.tile{padding:.9rem;border-radius:.5rem;background:#f6f8fa}\
.board td:nth-child(2),.board th:nth-child(2){text-align:left}.tile h3{margin:0;font-size:.9rem;color:#57606a}.value{font-size:1.6rem;margin:.3rem 0}.tile p{margin:.2rem 0}.small{font-size:.8rem;color:#57606a}\
.on_track .status,.achieved .status{color:#1a7f37}.at_risk .status{color:#9a6700}.off_track .status{color:#cf222e}\
svg text{font-size:11px;fill:#57606a}@media print{body{margin:0}section{break-inside:avoid}details.data{display:none}}\
.pace{width:200px;height:14px;display:block}.pace .track{fill:#eaeef2}.pace .tick{stroke:#1f2328;stroke-width:2}.fill{fill:#0969da}\
.fill.status-on_track,.fill.status-achieved{fill:#1a7f37}.fill.status-at_risk{fill:#9a6700}.fill.status-off_track,.fill.status-missed{fill:#cf222e}.fill.status-not_started,.fill.status-not_enough_data{fill:#8c959f}\
figure.chart{margin:0}figure.chart svg{width:100%;height:auto;display:block}svg .grid{stroke:#eaeef2}svg .axis{stroke:#d0d7de}svg .bar.s0{fill:#0969da}svg .bar.leak{fill:#cf222e}svg .val{fill:#1f2328}svg .hit{fill:transparent}\
details.data{margin-top:.4rem;font-size:.85rem}details.data summary{color:#57606a}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

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
        (Some(a), Some(b)) => match traction_metrics::relative_change(a, b) {
            Some(c) => format!("{} {:.1}%", if c >= 0.0 { "▲" } else { "▼" }, c.abs() * 100.0),
            None => "–".to_string(),
        },
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use traction_kpi::report::{Compared, MetricLine};
    use traction_kpi::scope::Scope;
    use traction_kpi::service::LeaderRow;

    use super::*;

    /// A small report of a team in November 2026, as 13:00 UTC on the 11th: one KPI, one leading
    /// and one lagging metric, a two-stage funnel, a one-rep leaderboard, two weeks of trend.
    fn sample() -> Report {
        use traction_kpi::pace::{Behaviour, Figures, Status};
        use traction_kpi::period::PeriodKind;
        use traction_kpi::service::Target;
        let zone = jiff::tz::TimeZone::UTC;
        let at = |t: &str| traction_domain::time::parse_instant(t, &zone).unwrap();
        let map = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let figures = |actual: f64, expected: f64, pace: f64, status: Status| Figures {
            actual: Some(actual),
            expected,
            pace: Some(pace),
            status,
            projected: Some(75_600.0),
            required_rate: None,
            required_rate_scope: None,
            heads: 2,
            gap: None,
        };
        let target = Target {
            id: "t-1".into(),
            metric: "revenue_won".into(),
            scope: Scope::Team("north".into()),
            period: PeriodKind::Month,
            starts_on: jiff::civil::date(2026, 11, 1),
            value: 84_000.0,
            split: traction_kpi::split::Split::Calendar,
            at_risk: 0.9,
            off_track: 0.75,
            min_sample: None,
        };
        let line =
            |metric: &str, label: &str, unit, indicator, values: [Option<f64>; 3]| MetricLine {
                metric: metric.into(),
                label: label.into(),
                unit,
                indicator,
                value: values[0],
                previous: values[1],
                year_ago: values[2],
            };
        let stage = |stage: &str, reached, conversion: Option<f64>| FunnelRow {
            pipeline: "p1".into(),
            stage: stage.into(),
            position: 1,
            reached,
            conversion_to_next: conversion,
            leakage: conversion.map(|c| 1.0 - c),
        };
        let (from, to) = (at("2026-10-01"), at("2026-10-11 13:00"));
        Report {
            from: "2026-11-01".into(),
            to: "2026-12-01".into(),
            scope: Scope::Team("north".into()),
            at: at("2026-11-11 13:00"),
            kpis: vec![KpiRow {
                target: target.clone(),
                figures: figures(27_000.0, 30_000.0, 0.9, Status::AtRisk),
                behaviour: Behaviour::Accumulating,
                interval: None,
                error: None,
                forecast: None,
            }],
            metrics: vec![
                line(
                    "leads_created",
                    "Leads created",
                    Unit::Count,
                    Indicator::Leading,
                    [Some(12.0), Some(10.0), None],
                ),
                line(
                    "win_rate",
                    "Win rate",
                    Unit::Ratio,
                    Indicator::Lagging,
                    [Some(0.5), Some(0.4), Some(0.5)],
                ),
            ],
            funnel: vec![stage("q", 4, Some(0.5)), stage("w", 2, None)],
            leaderboard: Some((
                "t-1".into(),
                vec![LeaderRow {
                    rank: 1,
                    user: "u1".into(),
                    target_value: 42_000.0,
                    figures: figures(27_000.0, 15_000.0, 1.8, Status::OnTrack),
                    band: "ahead",
                }],
            )),
            trend: vec![("2026-10-26".into(), 0.0), ("2026-11-02".into(), 27_000.0)],
            why: BTreeMap::from([(
                "win_rate".to_string(),
                Why { text: "Win rate rose | more deals <won>".into(), segment: None },
            )]),
            notes: vec!["nps is left out: no surveys".into()],
            compared: Compared {
                previous: Some((Stretch::new(from, to, &zone), "1–11 Oct 2026 until 13:00".into())),
                year_ago: None,
            },
            names: Names {
                users: map(&[("u1", "Ann Smith")]),
                teams: map(&[("north", "North")]),
                stages: map(&[("q", "Qualified"), ("w", "Won")]),
                pipelines: map(&[("p1", "Sales")]),
            },
            kpi_metrics: BTreeMap::from([(
                "revenue_won".to_string(),
                ("Revenue won".to_string(), Unit::Money),
            )]),
            range_label: "November 2026".into(),
            currency: traction_domain::money::Currency::USD,
        }
    }

    /// The Markdown, line by line: 27,000 of 84,000 against 30,000 expected is a pace of 90%;
    /// 12 leads against 10 is +20%; a win rate of 0.5 against 0.4 is +25%, against 0.5 +0%;
    /// 2 of 4 deals go on from Qualified (50%, the other 50% leak).
    #[test]
    fn the_markdown_report_is_pinned() {
        let want = "\
# Sales report · North team · November 2026

Figures as of 2026-11-11T13:00:00Z.

## KPIs

| KPI | target | actual | expected | pace | status | projected (run rate) | forecast (80%) |
| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |
| Revenue won · North team · November 2026 | 84,000 | 27,000 | 30,000 | 90.0% | ● at risk | 75,600 | – |

## Leading metrics

| metric | value | vs 1–11 Oct 2026 until 13:00 | change | vs a year ago | change |
| --- | ---: | ---: | ---: | ---: | ---: |
| Leads created | 12 | 10 | ▲ 20.0% | – | – |

## Lagging metrics

| metric | value | vs 1–11 Oct 2026 until 13:00 | change | vs a year ago | change |
| --- | ---: | ---: | ---: | ---: | ---: |
| Win rate | 50.0% | 40.0% | ▲ 25.0% | 50.0% | ▲ 0.0% |

- Win rate rose \\| more deals <won>

## Funnel

Deals created in November 2026, by the furthest stage they reached (a deal that skipped a stage counts as having reached it); conversion is to the next stage.

| pipeline | stage | deals reached | conversion to next | leakage |
| --- | --- | ---: | ---: | ---: |
| Sales | Qualified | 4 | 50.0% | 50.0% |
| Sales | Won | 2 | – | – |

## Leaderboard · Revenue won · North team · November 2026

| rank | rep | target | actual | pace | band |
| ---: | --- | ---: | ---: | ---: | --- |
| 1 | Ann Smith | 42,000 | 27,000 | 180.0% | ahead |

_Note: nps is left out: no surveys._
";
        assert_eq!(markdown(&sample()), want);
    }

    /// The CSV: values as the JSON gives them, the previous stretch's bounds, no year-ago one.
    #[test]
    fn the_csv_report_is_pinned() {
        let want = "\
metric,label,indicator,unit,value,previous,year_ago,previous_from,previous_to,year_ago_from,year_ago_to
leads_created,Leads created,leading,count,12,10,,2026-10-01,2026-10-11T13:00:00+00:00,,
win_rate,Win rate,lagging,ratio,0.5,0.4,0.5,2026-10-01,2026-10-11T13:00:00+00:00,,
";
        assert_eq!(csv(&sample()), want);
    }

    /// The HTML page, in order: the tile's pace bar is 27,000 / 84,000 × 200 = 64.3 wide with
    /// the tick at 30,000 / 84,000 × 200 = 71.4 (the chart module's pace bar, coloured by the
    /// status); the weekly trend is the chart module's bar chart in dollars ($0.00 below 1,000,
    /// whole dollars above); the funnel's bars are 4 / 4 × 160 and 2 / 4 × 160 wide, the first
    /// marked as the largest leak (50%), its labels 6 to the right of the bar.
    #[test]
    fn the_html_report_is_pinned() {
        let metrics_head = "<table><thead><tr><th>metric</th><th>value</th><th>vs 1–11 Oct 2026 until 13:00</th><th>change</th><th>vs a year ago</th><th>change</th></tr></thead><tbody>";
        let parts = [
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Sales report · North team · November 2026</title><style>",
            CSS,
            "</style></head><body>",
            "<header><h1>Sales report</h1><p>North team · November 2026 · figures as of 2026-11-11T13:00:00Z</p></header>",
            "<section><h2>KPIs</h2><div class=\"tiles\">",
            "<article class=\"tile at_risk\"><h3>Revenue won · North team · November 2026</h3><p class=\"value\">27,000</p><p>target 84,000 · expected 30,000</p>",
            "<svg class=\"pace\" viewBox=\"0 0 200 10\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"actual 27,000 of target 84,000, expected 30,000\"><rect class=\"track\" width=\"200\" height=\"10\" rx=\"3\"></rect><rect class=\"fill status-at_risk\" width=\"64.3\" height=\"10\" rx=\"3\"></rect><line class=\"tick\" x1=\"71.4\" x2=\"71.4\" y1=\"0\" y2=\"10\"></line></svg>",
            "<p class=\"status\">● at risk</p><p class=\"small\">projected 75,600 (run rate)</p></article></div></section>",
            "<section><h2>Leading metrics</h2>",
            metrics_head,
            "<tr><td>Leads created</td><td>12</td><td>10</td><td>▲ 20.0%</td><td>–</td><td>–</td></tr></tbody></table></section>",
            "<section><h2>Lagging metrics</h2>",
            metrics_head,
            "<tr><td>Win rate</td><td>50.0%</td><td>40.0%</td><td>▲ 25.0%</td><td>50.0%</td><td>▲ 0.0%</td></tr></tbody></table>",
            "<ul class=\"why\"><li>Win rate rose | more deals &lt;won&gt;</li></ul></section>",
            "<section><h2>Revenue won by week</h2><figure class=\"chart\"><svg class=\"wide\" viewBox=\"0 0 960 260\"",
            "<title>Revenue won by week</title>",
            "<title>Revenue won · 2026-10-26: $0.00</title>",
            "<title>Revenue won · 2026-11-02: $27,000</title>",
            "</figure></section>",
            "<section><h2>Funnel</h2><p class=\"small\">Deals created in November 2026, by the furthest stage they reached (a deal that skipped a stage counts as having reached it); conversion is to the next stage.</p>",
            "<figure class=\"chart\"><svg class=\"funnel\"",
            "<text class=\"tick\" x=\"0\" y=\"17.0\">Qualified</text><rect class=\"bar leak\" x=\"110\" y=\"2.0\" width=\"160.0\" height=\"20\" rx=\"2\"><title>Qualified: 4 reached, 50.0% go on</title></rect><text class=\"val\" x=\"276.0\" y=\"17.0\">4 · 50.0% → · largest leak</text>",
            "<text class=\"tick\" x=\"0\" y=\"43.0\">Won</text><rect class=\"bar s0\" x=\"110\" y=\"28.0\" width=\"80.0\" height=\"20\" rx=\"2\"><title>Won: 2 reached</title></rect><text class=\"val\" x=\"196.0\" y=\"43.0\">2</text>",
            "</figure></section>",
            "<section><h2>Leaderboard · Revenue won · North team · November 2026</h2><table class=\"board\"><thead><tr><th>rank</th><th>rep</th><th>target</th><th>actual</th><th>pace</th><th>band</th></tr></thead><tbody>",
            "<tr><td>1</td><td>Ann Smith</td><td>42,000</td><td>27,000</td><td>180.0%</td><td>ahead</td></tr></tbody></table></section>",
            "<p class=\"small\">Note: nps is left out: no surveys.</p></body></html>\n",
        ];
        let page = html(&sample());
        let mut rest = page.as_str();
        for part in parts {
            let Some(at) = rest.find(part) else {
                panic!("the page has {part:?} next:\n{rest}");
            };
            rest = &rest[at + part.len()..];
        }
        assert!(rest.is_empty(), "the page ends with the note: {rest}");
        assert!(page.starts_with(parts[0]), "{page}");
    }
}
