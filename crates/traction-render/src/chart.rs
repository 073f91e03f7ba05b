//! Charts drawn by the server as SVG (web-design.md, Charts): line and bar charts with few round
//! ticks, the unit in the axis title, faint gridlines, the previous year as a thin grey line
//! behind the current one, the target dashed; sparklines, pace bars, the funnel and the weekday ×
//! hour heatmap. Every data point carries a `<title>` with its exact value and bucket, and every
//! chart comes with a text equivalent (a table in a `<details>`), so nothing is only a picture.
//!
//! Colours are CSS classes (`s0`…`s5`, `prev`, `target`, `status-…`), so the light and dark
//! themes restyle the charts and the content security policy needs no inline styles.

use maud::{Markup, html};
use traction_metrics::catalog::Unit;

use crate::fmt::Fmt;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A current series; the index picks its colour.
    Main(usize),
    /// The same series a year (or a period) earlier: thin and grey, drawn behind.
    Previous,
    /// A target or expected line: dashed.
    Target,
}

/// One line of a chart: a value (or a gap) per bucket.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub style: Style,
}

/// A line or bar chart over labelled buckets.
#[derive(Clone, Debug)]
pub struct Chart {
    /// What the chart shows, for screen readers and the table caption.
    pub title: String,
    pub unit: Unit,
    /// One label per bucket (`2026-11-03`, `2026-11`, `2026-11-03T14:00`).
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// Bars instead of lines for the main series (counts per bucket read better as bars).
    pub bars: bool,
    /// Drawn for a whole page width (the explorer, a target, today) rather than a card: twice
    /// as wide, so the text keeps its size; on a phone it scrolls sideways.
    pub wide: bool,
}

const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 24.0;

/// Round ticks from 0 (or the minimum, when negative) to at least `max`: 1, 2 or 5 × 10ⁿ apart.
pub fn nice_ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    let (lo, hi) = (min.min(0.0), max.max(0.0));
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![0.0, 1.0];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut i = 0.0;
    // Ticks from the first at or below `lo` to the first at or above `hi`.
    loop {
        let t = start + i * step;
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        if t >= hi - step * 1e-9 || ticks.len() > 50 {
            break;
        }
        i += 1.0;
    }
    ticks
}

/// A bucket label shortened for an axis: `2026-11-03` → `3 Nov`, `2026-11` → `Nov 26`,
/// `…T14:00` → `14:00`.
pub fn short_label(label: &str) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if let Some((_, time)) = label.split_once('T') {
        return time.get(..5).unwrap_or(time).to_string();
    }
    let parts: Vec<&str> = label.split('-').collect();
    let month = |m: &str| m.parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match parts.as_slice() {
        [_, m, d] if d.len() == 2 => match month(m) {
            Some(name) => format!("{} {name}", d.trim_start_matches('0')),
            None => label.to_string(),
        },
        [y, m] if m.len() == 2 => match month(m) {
            Some(name) => format!("{name} {}", y.get(2..).unwrap_or(y)),
            None => label.to_string(),
        },
        _ => label.to_string(),
    }
}

/// Where each day starts among hourly labels (`…T09:00`) spanning more than one day; empty
/// otherwise.
fn day_starts(labels: &[String]) -> Vec<usize> {
    if !labels.iter().all(|l| l.contains('T')) {
        return Vec::new();
    }
    let day = |l: &String| l.split('T').next().unwrap_or("").to_string();
    let starts: Vec<usize> =
        (0..labels.len()).filter(|i| *i == 0 || day(&labels[i - 1]) != day(&labels[*i])).collect();
    if starts.len() > 1 { starts } else { Vec::new() }
}

/// The x axis's labels (index, text): every `every`-th bucket; hours over several days are
/// labelled by their date at the first hour of each day (every few days when there are many).
fn x_labels(labels: &[String], every: usize) -> Vec<(usize, String)> {
    let starts = day_starts(labels);
    if !starts.is_empty() {
        let max = (labels.len() / every.max(1)).max(1);
        let step = starts.len().div_ceil(max).max(1);
        return starts
            .into_iter()
            .step_by(step)
            .map(|i| (i, short_label(labels[i].split('T').next().unwrap_or(""))))
            .collect();
    }
    labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, l)| (i, short_label(l)))
        .collect()
}

fn class_of(style: Style) -> String {
    match style {
        Style::Main(i) => format!("s{}", i % 6),
        Style::Previous => "prev".into(),
        Style::Target => "target".into(),
    }
}

/// The chart as SVG, followed by its data as a table for screen readers and keyboards.
pub fn chart(c: &Chart, f: &Fmt) -> Markup {
    let n = c.labels.len();
    let all = c.series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let (min, max) = all.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let ticks = nice_ticks(min, if max > min { max } else { min + 1.0 }, 4);
    let (y0, y1) = (ticks[0], *ticks.last().unwrap_or(&1.0));
    let (width, height) = if c.wide { (2.0 * W, 1.3 * H) } else { (W, H) };
    let plot_w = width - LEFT - RIGHT;
    let plot_h = height - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - (v - y0) / (y1 - y0).max(1e-12) * plot_h;
    let slot = plot_w / n.max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    // At most 6 x labels, evenly spread.
    let every = n.div_ceil(if c.wide { 12 } else { 6 }).max(1);
    let mains: Vec<&Series> =
        c.series.iter().filter(|s| matches!(s.style, Style::Main(_))).collect();
    let bar_w = (slot * 0.8 / mains.len().max(1) as f64).max(1.0);
    let summary = summary_text(c, f);
    html! {
        figure.chart {
            svg.wide[c.wide] viewBox={"0 0 " (width) " " (height)} role="img" aria-label=(summary) preserveAspectRatio="xMidYMid meet" {
                title { (c.title) }
                text.axis-title x="0" y="10" { (unit_title(c.unit, f)) }
                @for (t, label) in ticks.iter().zip(f.axis_labels(c.unit, &ticks)) {
                    line.grid x1=(LEFT) x2=(width - RIGHT) y1=(fx(y(*t))) y2=(fx(y(*t))) {}
                    text.tick x=(LEFT - 4.0) y=(fx(y(*t) + 3.5)) text-anchor="end" { (label) }
                }
                line.axis x1=(LEFT) x2=(width - RIGHT) y1=(fx(y(0.0f64.max(y0)))) y2=(fx(y(0.0f64.max(y0)))) {}
                @for (i, text) in x_labels(&c.labels, every) {
                    text.tick x=(fx(x(i))) y=(height - 6.0) text-anchor="middle" { (text) }
                }
                // Hours over several days: a faint line where each day starts.
                @for i in day_starts(&c.labels).into_iter().filter(|i| *i > 0) {
                    line.grid x1=(fx(x(i) - slot / 2.0)) x2=(fx(x(i) - slot / 2.0)) y1=(TOP) y2=(fx(height - BOTTOM)) {}
                }
                // Previous and target lines behind the current series.
                @for s in c.series.iter().filter(|s| !matches!(s.style, Style::Main(_))) {
                    (polyline(s, &x, &y, &class_of(s.style)))
                }
                @if c.bars {
                    @for (k, s) in mains.iter().enumerate() {
                        @for (i, v) in s.values.iter().enumerate() {
                            @if let Some(v) = v {
                                rect class={"bar " (class_of(s.style))}
                                    x=(fx(x(i) - slot * 0.4 + bar_w * k as f64)) y=(fx(y(v.max(0.0))))
                                    width=(fx(bar_w)) height=(fx((y(0.0f64.max(y0)) - y(v.max(0.0))).abs().max(0.5))) {
                                    title { (point_title(&s.name, &c.labels[i], c.unit, Some(*v), f)) }
                                }
                            }
                        }
                    }
                } @else {
                    @for s in &mains {
                        (polyline(s, &x, &y, &class_of(s.style)))
                    }
                }
                // Hover and focus targets: one per bucket, titled with every series' value.
                @for (i, label) in c.labels.iter().enumerate() {
                    rect.hit x=(fx(x(i) - slot / 2.0)) y=(TOP) width=(fx(slot)) height=(fx(plot_h)) {
                        title {
                            (label)
                            @for s in &c.series {
                                "\n" (s.name) ": " (f.value(c.unit, s.values.get(i).copied().flatten()))
                            }
                        }
                    }
                }
            }
            @if c.series.len() > 1 {
                figcaption.legend {
                    @for s in &c.series {
                        span class={"key " (class_of(s.style))} { (s.name) }
                    }
                }
            }
            (data_table(c, f))
        }
    }
}

fn fx(v: f64) -> String {
    format!("{v:.1}")
}

fn unit_title(unit: Unit, f: &Fmt) -> String {
    match unit {
        Unit::Money => format!("{} ({})", "amount", f.currency.code()),
        Unit::Ratio | Unit::Percent => "percent".into(),
        Unit::Seconds => "duration".into(),
        Unit::Days => "days".into(),
        Unit::Months => "months".into(),
        Unit::Score => "score".into(),
        Unit::Count => "count".into(),
    }
}

fn point_title(series: &str, label: &str, unit: Unit, v: Option<f64>, f: &Fmt) -> String {
    format!("{series} · {label}: {}", f.value(unit, v))
}

fn polyline(s: &Series, x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64, class: &str) -> Markup {
    // Gaps split the line into runs.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in s.values.iter().enumerate() {
        match v {
            Some(v) => runs.last_mut().map(|r| r.push((x(i), y(*v)))).unwrap_or_default(),
            None => runs.push(Vec::new()),
        }
    }
    html! {
        @for run in runs.iter().filter(|r| !r.is_empty()) {
            @if run.len() == 1 {
                circle class={"dot " (class)} cx=(fx(run[0].0)) cy=(fx(run[0].1)) r="2.5" {}
            } @else {
                polyline class={"line " (class)} points=(run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect::<Vec<_>>().join(" ")) {}
            }
        }
    }
}

fn summary_text(c: &Chart, f: &Fmt) -> String {
    let main = c.series.iter().find(|s| matches!(s.style, Style::Main(_)));
    let Some(main) = main else { return c.title.clone() };
    let values: Vec<f64> = main.values.iter().flatten().copied().collect();
    if values.is_empty() {
        return format!("{}: no data", c.title);
    }
    let last = main.values.iter().rev().flatten().next().copied();
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{}: {} buckets from {} to {}; latest {}, highest {}",
        c.title,
        c.labels.len(),
        c.labels.first().map_or("", |s| s.as_str()),
        c.labels.last().map_or("", |s| s.as_str()),
        f.value(c.unit, last),
        f.value(c.unit, Some(max))
    )
}

/// The chart's numbers as a table, folded away under the chart.
fn data_table(c: &Chart, f: &Fmt) -> Markup {
    html! {
        details.data {
            summary { "Table" }
            div.scroll {
                table {
                    caption.visually-hidden { (c.title) }
                    thead { tr { th scope="col" { "Period" } @for s in &c.series { th.num scope="col" { (s.name) } } } }
                    tbody {
                        @for (i, label) in c.labels.iter().enumerate() {
                            tr {
                                th scope="row" { (label) }
                                @for s in &c.series { td.num { (f.value(c.unit, s.values.get(i).copied().flatten())) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A sparkline of the period so far (`actual`, cumulative for amounts) against the expected
/// line, over the whole period's `slots` so the line stops where today is.
pub fn sparkline(actual: &[f64], expected: &[f64], slots: usize, label: &str) -> Markup {
    let (w, h) = (120.0, 32.0);
    let max = actual.iter().chain(expected).copied().fold(0.0f64, f64::max).max(1e-9);
    let n = slots.max(actual.len()).max(expected.len()).max(2);
    let px = |i: usize| i as f64 / (n - 1) as f64 * (w - 2.0) + 1.0;
    let py = |v: f64| h - 2.0 - v / max * (h - 4.0);
    let points = |vs: &[f64]| {
        vs.iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg.spark viewBox={"0 0 " (w) " " (h)} preserveAspectRatio="none" role="img" aria-label=(label) {
            @if expected.len() > 1 { polyline.line.target points=(points(expected)) {} }
            @if actual.len() > 1 { polyline.line.s0 points=(points(actual)) {} }
            @if let Some(last) = actual.last() {
                circle.dot.s0 cx=(fx(px(actual.len() - 1))) cy=(fx(py(*last))) r="2" {}
            }
        }
    }
}

/// Actual against target with a tick at the expected position; `status` colours the bar.
pub fn pace_bar(actual: f64, expected: f64, target: f64, status: &str, label: &str) -> Markup {
    // A target that cannot be computed has no expected figure: no tick.
    let expected = if expected.is_finite() { expected } else { 0.0 };
    let scale = target.max(actual).max(expected).max(1e-9);
    let w = |x: f64| (x / scale * 200.0).clamp(0.0, 200.0);
    html! {
        svg.pace viewBox="0 0 200 10" preserveAspectRatio="none" role="img" aria-label=(label) {
            rect.track width="200" height="10" rx="3" {}
            rect class={"fill status-" (status)} width=(fx(w(actual))) height="10" rx="3" {}
            line.tick x1=(fx(w(expected))) x2=(fx(w(expected))) y1="0" y2="10" {}
        }
    }
}

/// One stage of the funnel chart.
pub struct FunnelStage {
    pub name: String,
    pub reached: u64,
    pub conversion: Option<f64>,
    pub leakage: Option<f64>,
}

/// The longest funnel bar: 110 for the stage name, then the bar, then up to 204 for
/// `1,234,567 · 100.0% → · largest leak` at about 5.6 per character of the 10 px font.
const FUNNEL_BAR: f64 = 160.0;

/// Horizontal bars per stage with the count and the conversion to the next stage; the largest
/// leak is marked.
pub fn funnel(stages: &[FunnelStage], f: &Fmt) -> Markup {
    let max = stages.iter().map(|s| s.reached).max().unwrap_or(1).max(1) as f64;
    let worst = stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.leakage.map(|l| (i, l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    let row_h = 26.0;
    let height = stages.len() as f64 * row_h + 4.0;
    html! {
        figure.chart {
            svg.funnel viewBox={"0 0 " (W) " " (height)} role="img" aria-label="Funnel: deals reaching each stage" {
                @for (i, s) in stages.iter().enumerate() {
                    @let y = i as f64 * row_h + 2.0;
                    // Bars up to FUNNEL_BAR wide leave room for the count, the conversion
                    // and the leak mark inside the card (W).
                    @let bw = (s.reached as f64 / max * FUNNEL_BAR).max(1.0);
                    text.tick x="0" y=(fx(y + 15.0)) { (s.name) }
                    rect class={"bar " (if worst == Some(i) { "leak" } else { "s0" })} x="110" y=(fx(y)) width=(fx(bw)) height="20" rx="2" {
                        title { (s.name) ": " (f.count(s.reached as f64)) " reached" @if let Some(c) = s.conversion { ", " (f.percent(c)) " go on" } }
                    }
                    text.val x=(fx(116.0 + bw)) y=(fx(y + 15.0)) {
                        (f.count(s.reached as f64))
                        @if let Some(c) = s.conversion { " · " (f.percent(c)) " →" }
                        @if worst == Some(i) { " · largest leak" }
                    }
                }
            }
            details.data {
                summary { "Table" }
                table {
                    thead { tr { th scope="col" { "Stage" } th.num scope="col" { "Reached" } th.num scope="col" { "To next" } th.num scope="col" { "Leak" } } }
                    tbody {
                        @for (i, s) in stages.iter().enumerate() {
                            tr {
                                th scope="row" { (s.name) @if worst == Some(i) { " (largest leak)" } }
                                td.num { (f.count(s.reached as f64)) }
                                td.num { (s.conversion.map_or("–".into(), |c| f.percent(c))) }
                                td.num { (s.leakage.map_or("–".into(), |c| f.percent(c))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A weekday × hour heatmap ("when do we sell"): `cells[weekday][hour]`, Monday first.
pub fn heatmap(title: &str, cells: &[[f64; 24]; 7], unit: Unit, f: &Fmt) -> Markup {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let max = cells.iter().flatten().copied().fold(0.0f64, f64::max).max(1e-9);
    let (cw, ch, left, top) = (17.5, 16.0, 34.0, 14.0);
    html! {
        figure.chart {
            svg.heat viewBox={"0 0 " (fx(left + cw * 24.0)) " " (fx(top + ch * 7.0))} role="img" aria-label=(title) {
                title { (title) }
                @for h in (0..24).step_by(3) {
                    text.tick x=(fx(left + cw * h as f64 + cw / 2.0)) y="10" text-anchor="middle" { (format!("{h:02}")) }
                }
                @for (d, row) in cells.iter().enumerate() {
                    text.tick x="0" y=(fx(top + ch * d as f64 + 11.0)) { (DAYS[d]) }
                    @for (h, v) in row.iter().enumerate() {
                        // Five steps of intensity, as classes (the theme picks the colours).
                        @let level = if *v <= 0.0 { 0 } else { ((v / max) * 4.0).ceil() as usize };
                        rect class={"cell l" (level)} x=(fx(left + cw * h as f64)) y=(fx(top + ch * d as f64)) width=(fx(cw - 1.5)) height=(fx(ch - 1.5)) rx="2" {
                            title { (DAYS[d]) " " (format!("{h:02}:00")) ": " (f.value(unit, Some(*v))) }
                        }
                    }
                }
            }
            details.data {
                summary { "Table" }
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Day" } @for h in 0..24 { th.num scope="col" { (format!("{h:02}")) } } } }
                        tbody {
                            @for (d, row) in cells.iter().enumerate() {
                                tr { th scope="row" { (DAYS[d]) } @for v in row { td.num { (f.value(unit, Some(*v))) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::Locale;
    use traction_domain::money::Currency;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 84_000.0, 4),
            vec![0.0, 25_000.0, 50_000.0, 75_000.0, 100_000.0]
        );
        assert_eq!(nice_ticks(0.0, 7.0, 4), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(0.0, 0.42, 4), vec![0.0, 0.2, 0.4, 0.6000000000000001]);
        assert_eq!(nice_ticks(-3.0, 5.0, 4), vec![-4.0, -2.0, 0.0, 2.0, 4.0, 6.0]);
        assert_eq!(nice_ticks(0.0, 0.0, 4), vec![0.0, 1.0]);
    }

    /// Issue 22.7: the funnel's leak label stays inside its card (the SVG's width).
    #[test]
    fn the_funnel_labels_fit_inside_the_chart() {
        let longest = "1,234,567 · 100.0% → · largest leak";
        let end = 116.0 + FUNNEL_BAR + longest.chars().count() as f64 * 5.6;
        assert!(end <= W, "the label ends at {end}, the chart at {W}");
    }

    /// Issue 22.6: hours over several days carry their dates on the axis (one hourly chart
    /// of a target's working hours), a single day its times.
    #[test]
    fn hours_over_days_are_labelled_by_date() {
        fn hours(day: &str) -> Vec<String> {
            (9..17).map(|h| format!("{day}T{h:02}:00")).collect()
        }
        let labels: Vec<String> =
            [hours("2026-11-02"), hours("2026-11-03"), hours("2026-11-04")].concat();
        assert_eq!(day_starts(&labels), vec![0, 8, 16]);
        assert_eq!(
            x_labels(&labels, 2),
            vec![(0, "2 Nov".to_string()), (8, "3 Nov".to_string()), (16, "4 Nov".to_string())]
        );
        // Many days: every few days, still dates.
        let month: Vec<String> = (1..=30).flat_map(|d| hours(&format!("2026-11-{d:02}"))).collect();
        let shown = x_labels(&month, month.len().div_ceil(12));
        assert!(shown.len() <= 12 && shown.len() >= 6, "{shown:?}");
        assert!(shown.iter().all(|(_, t)| t.ends_with(" Nov")), "{shown:?}");
        // One day: its hours.
        let today = hours("2026-11-02");
        assert_eq!(x_labels(&today, 2)[1], (2, "11:00".to_string()));
    }

    #[test]
    fn labels_shorten() {
        assert_eq!(short_label("2026-11-03"), "3 Nov");
        assert_eq!(short_label("2026-11"), "Nov 26");
        assert_eq!(short_label("2026-11-03T14:00"), "14:00");
        assert_eq!(short_label("2026"), "2026");
    }

    #[test]
    fn every_point_has_a_title_and_the_chart_a_table() {
        let f = Fmt { locale: Locale::EN, currency: Currency::parse("GBP").unwrap() };
        let c = Chart {
            title: "Revenue <won>".into(),
            unit: Unit::Money,
            labels: vec!["2026-11-01".into(), "2026-11-02".into()],
            series: vec![
                Series {
                    name: "2026".into(),
                    values: vec![Some(1200.0), None],
                    style: Style::Main(0),
                },
                Series {
                    name: "a year earlier".into(),
                    values: vec![Some(800.0), Some(10.0)],
                    style: Style::Previous,
                },
            ],
            bars: false,
            wide: false,
        };
        let svg = chart(&c, &f).into_string();
        assert!(svg.contains("2026-11-01\n2026: £1,200\na year earlier: £800.00"), "{svg}");
        assert!(svg.contains("2026: –"), "a gap is shown as a dash: {svg}");
        assert!(svg.contains("Revenue &lt;won&gt;"), "text is escaped: {svg}");
        assert!(svg.contains("<details class=\"data\">"), "{svg}");
    }
}
