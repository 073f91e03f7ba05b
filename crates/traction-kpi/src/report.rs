//! The period report a manager can send on (spec: interfaces.md, Report; kpis.md): KPIs with their
//! status, the key leading and lagging metrics with the previous period and the same period a year
//! earlier, the funnel, and the leaderboard — as JSON, Markdown, CSV or printable HTML with charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value as Json, json};
use traction_domain::time::{Micros, format_instant};
use traction_metrics::catalog::{Indicator, Unit};
use traction_metrics::{Catalog, Compare, Filter, FunnelQuery, FunnelRow, Grain, Query, Stretch};
use traction_store::{SqliteStore, Store};

use crate::engine::Engine;
use crate::scope::Scope;
use crate::service::{Error, KpiRow, Kpis, LeaderRow, MetricSource};

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
    "costs",
    "net_cash_flow",
    "customer_acquisition_cost",
    "nps",
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

/// Why a key metric moved against the previous period, in one sentence (spec: monitoring.md,
/// Explaining a change), and the segment that contributed most (for a link to its records).
#[derive(Clone, Debug, PartialEq)]
pub struct Why {
    pub text: String,
    /// The dimension and value of the biggest contributor, when the change was split by one.
    pub segment: Option<(String, traction_metrics::DimValue)>,
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
    /// Why each key metric moved against the previous period, by metric name (metrics that did
    /// not move, or cannot be explained for the scope, have none).
    pub why: BTreeMap<String, Why>,
    /// Metrics left out, with why (e.g. their records have no owner, so a team scope cannot apply).
    pub notes: Vec<String>,
    /// What the key metrics are compared with: the previous period and a year earlier, whole, or
    /// for a range in progress the same stretch of them (spec: web-design.md, like for like).
    pub compared: Compared,
    /// Names of the reps, teams, stages and pipelines the report mentions.
    pub names: Names,
    /// The label and unit of each KPI's metric, by metric name.
    pub kpi_metrics: BTreeMap<String, (String, Unit)>,
    /// The range for people: `December 2026`, `1–11 Nov 2026` (the end is exclusive).
    pub range_label: String,
}

/// The stretches the key metrics are compared with, each with a label for people.
#[derive(Clone, Debug, Default)]
pub struct Compared {
    pub previous: Option<(Stretch, String)>,
    pub year_ago: Option<(Stretch, String)>,
}

/// Display names: id → name for users, teams, stages and pipelines (the id where there is none).
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub users: BTreeMap<String, String>,
    pub teams: BTreeMap<String, String>,
    pub stages: BTreeMap<String, String>,
    pub pipelines: BTreeMap<String, String>,
}

impl Names {
    pub fn load(store: &SqliteStore) -> Result<Names, Error> {
        use traction_domain::Entity;
        let of = |entity: Entity| -> Result<BTreeMap<String, String>, Error> {
            let mut out = BTreeMap::new();
            store.scan(entity, &mut |r| {
                let id = r.get("id").as_text().unwrap_or("").to_string();
                let name = r.get("name").as_text().map_or_else(|| id.clone(), str::to_string);
                out.insert(id, name);
                Ok(())
            })?;
            Ok(out)
        };
        Ok(Names {
            users: of(Entity::Users)?,
            teams: of(Entity::Teams)?,
            stages: of(Entity::Stages)?,
            pipelines: of(Entity::Pipelines)?,
        })
    }

    fn name<'a>(map: &'a BTreeMap<String, String>, id: &'a str) -> &'a str {
        map.get(id).map_or(id, String::as_str)
    }

    pub fn user<'a>(&'a self, id: &'a str) -> &'a str {
        Names::name(&self.users, id)
    }

    pub fn stage<'a>(&'a self, id: &'a str) -> &'a str {
        Names::name(&self.stages, id)
    }

    pub fn pipeline<'a>(&'a self, id: &'a str) -> &'a str {
        Names::name(&self.pipelines, id)
    }

    /// `Company`, `North team`, `Ann Smith`.
    pub fn scope(&self, scope: &Scope) -> String {
        match scope {
            Scope::Company => "Company".into(),
            Scope::Team(id) => format!("{} team", Names::name(&self.teams, id)),
            Scope::User(id) => self.user(id).to_string(),
        }
    }
}

/// A stretch `[from, to)` for people: `1–3 Nov 2026 until 15:00`, `28 Oct – 3 Nov 2026`,
/// `November 2026` for a whole month; the end is exclusive, so a stretch to a midnight ends the
/// day before.
pub fn stretch_label(from: Micros, to: Micros, zone: &jiff::tz::TimeZone) -> String {
    use traction_domain::time::to_zoned;
    let (Some(a), Some(b)) = (to_zoned(from, zone), to_zoned(to, zone)) else {
        return format!("{from}–{to}");
    };
    let midnight = |z: &jiff::Zoned| z.time() == jiff::civil::Time::midnight();
    let last =
        if midnight(&b) && to > from { b.date().yesterday().unwrap_or(b.date()) } else { b.date() };
    let first = a.date();
    // A whole calendar month.
    if midnight(&a) && midnight(&b) && first.day() == 1 && last == first.last_of_month() {
        return first.strftime("%B %Y").to_string();
    }
    let mut out = if first == last {
        first.strftime("%-d %b %Y").to_string()
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        format!("{}–{}", first.day(), last.strftime("%-d %b %Y"))
    } else if first.year() == last.year() {
        format!("{} – {}", first.strftime("%-d %b"), last.strftime("%-d %b %Y"))
    } else {
        format!("{} – {}", first.strftime("%-d %b %Y"), last.strftime("%-d %b %Y"))
    };
    if !midnight(&a) {
        out.push_str(&format!(" from {}", a.strftime("%H:%M")));
    }
    if !midnight(&b) {
        out.push_str(&format!(" until {}", b.strftime("%H:%M")));
    }
    out
}

/// What a KPI's period is called: `November 2026`, `week of 2 Nov 2026`, `Q4 2026`, `2026`.
pub fn period_text(kind: crate::period::PeriodKind, starts_on: jiff::civil::Date) -> String {
    use crate::period::PeriodKind;
    match kind {
        PeriodKind::Week => format!("week of {}", starts_on.strftime("%-d %b %Y")),
        PeriodKind::Month => starts_on.strftime("%B %Y").to_string(),
        PeriodKind::Quarter => format!("Q{} {}", (starts_on.month() - 1) / 3 + 1, starts_on.year()),
        PeriodKind::Year => starts_on.year().to_string(),
    }
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
    build_with(store, catalog, &engine, scope, from, to, now)
}

/// [`build`] with the KPIs' figures from `metrics` (the forecast crate's source adds the KPI
/// forecasts).
pub fn build_with(
    store: &SqliteStore,
    catalog: &Catalog,
    metrics: &dyn MetricSource,
    scope: Scope,
    from: (Micros, String),
    to: (Micros, String),
    now: Micros,
) -> Result<Report, Error> {
    let kpis = Kpis { store, metrics };
    let org = kpis.org()?;
    let owners = org.owners(&scope);
    let filter = owners.as_deref().map(Filter::owner_in).unwrap_or_default();
    // KPIs as they stand at the end of the range, or now if the range is not over.
    let at = to.0.min(now);
    let zone = traction_store::Store::workspace(store)?.zone;
    // The key metrics (about forty queries) on a second thread, beside the KPIs, the funnel and
    // the leaderboard: the store's read connections serve both side by side.
    let names = Names::load(store)?;
    let (key, rest, why) = std::thread::scope(|threads| {
        let key = threads.spawn(|| key_metrics(store, catalog, &filter, from.0, to.0, at));
        // The sentences on a third thread: each explanation is a few more queries per metric.
        let why = threads
            .spawn(|| explain_key_metrics(store, catalog, &scope, (from.0, to.0), at, &names));
        let rest = (|| {
            // The targets of the scope whose period overlaps the range.
            let kpi_rows = kpis.status_where(at, |target, (start, end)| {
                target.scope == scope && start < to.0 && end > from.0
            })?;
            let part =
                Part { store, catalog, filter: &filter, from: &from, to: &to, at, zone: &zone };
            let rest = rest_of_report(&kpis, &part, &kpi_rows)?;
            Ok::<_, Error>((kpi_rows, rest))
        })();
        (key.join(), rest, why.join())
    });
    let why = why.unwrap_or_default();
    let (metrics, mut notes) = key.map_err(|_| Error::Invalid("the key metrics failed".into()))?;
    let (kpi_rows, (funnel, leaderboard, trend, more_notes)) = rest?;
    notes.extend(more_notes);
    let stretch = |compare: Compare| {
        traction_metrics::plan::compared_range(from.0, to.0, at, compare, &zone)
            .ok()
            .map(|((lo, hi), _)| (Stretch::new(lo, hi, &zone), stretch_label(lo, hi, &zone)))
    };
    let compared =
        Compared { previous: stretch(Compare::Previous), year_ago: stretch(Compare::Yoy) };
    let kpi_metrics = kpi_rows
        .iter()
        .filter_map(|k| {
            let m = catalog.get(&k.target.metric)?;
            Some((m.name.clone(), (m.label.clone(), m.unit)))
        })
        .collect();
    Ok(Report {
        range_label: stretch_label(from.0, to.0, &zone),
        compared,
        names,
        kpi_metrics,
        why,
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
fn rest_of_report(kpis: &Kpis<'_>, part: &Part<'_>, kpi_rows: &[KpiRow]) -> Result<Rest, Error> {
    let Part { store, catalog, filter, from, to, at, zone } = *part;
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

/// What each part of a report reads: the store and the catalog, the scope's filter, the range
/// (instants with their labels) and the clock, in the workspace zone.
#[derive(Clone, Copy)]
struct Part<'a> {
    store: &'a SqliteStore,
    catalog: &'a Catalog,
    filter: &'a Filter,
    from: &'a (Micros, String),
    to: &'a (Micros, String),
    at: Micros,
    zone: &'a jiff::tz::TimeZone,
}

/// The funnel, the leaderboard and the weekly trend, with notes.
type Rest = (Vec<FunnelRow>, Option<(String, Vec<LeaderRow>)>, Vec<(String, f64)>, Vec<String>);

/// The key metrics over `[from, to)` with the previous period and the same range a year
/// earlier; a metric that cannot be computed for the scope is left out with a note.
fn key_metrics(
    store: &SqliteStore,
    catalog: &Catalog,
    filter: &Filter,
    from: Micros,
    to: Micros,
    at: Micros,
) -> (Vec<MetricLine>, Vec<String>) {
    let engine = Engine { store, catalog };
    let mut metrics = Vec::new();
    let mut notes = Vec::new();
    for name in KEY_METRICS {
        let Some(metric) = catalog.get(name) else { continue };
        let mut query = Query::new(name, from, to, Grain::All, at);
        query.filter = filter.clone();
        let value = match traction_metrics::run(store, catalog, &query) {
            Ok(result) => result.rows.first().and_then(|r| r.value),
            Err(e) => {
                notes.push(format!("{name} is left out: {e}"));
                continue;
            }
        };
        // The previous period and a year earlier as the engine's `compare` takes them: whole,
        // or for a range in progress the same stretch of them (spec: web-design.md).
        let compared = |compare: Compare| {
            traction_metrics::run_compared(store, catalog, &query, compare)
                .ok()
                .and_then(|(value, _)| value)
        };
        let (previous, year_ago) = (compared(Compare::Previous), compared(Compare::Yoy));
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

/// The one sentence of each key metric that moved against the previous period, split along its
/// drivers and the first dimension of `explain::SENTENCE_DIMS` that applies. A metric that cannot
/// be explained (no data, a scope its records cannot follow) has no sentence.
fn explain_key_metrics(
    store: &SqliteStore,
    catalog: &Catalog,
    scope: &Scope,
    range: (Micros, Micros),
    at: Micros,
    names: &Names,
) -> BTreeMap<String, Why> {
    let explain_one = |name: &str| -> Option<(String, Why)> {
        let metric = catalog.get(name)?;
        // Only what has something to say beyond the figures shown: drivers or segments.
        let has_tree = !traction_metrics::explain::driver_tree(metric).is_empty();
        if !has_tree && crate::explain::sentence_dim(catalog, name).is_none() {
            return None;
        }
        let change =
            crate::explain::Change { metric: name, range, compare: Compare::Previous, scope, at };
        let (explanation, said) = crate::explain::why_named(store, catalog, &change, names).ok()?;
        explanation
            .change
            .is_some_and(|c| c != 0.0)
            .then(|| (name.to_string(), Why { text: said.text, segment: said.segment }))
    };
    // Two threads, each half of the metrics: the store's read pool serves them side by side.
    let (first, second) = KEY_METRICS.split_at(KEY_METRICS.len() / 2);
    let mut out = BTreeMap::new();
    std::thread::scope(|threads| {
        let other =
            threads.spawn(|| second.iter().filter_map(|n| explain_one(n)).collect::<Vec<_>>());
        out.extend(first.iter().filter_map(|n| explain_one(n)));
        if let Ok(rest) = other.join() {
            out.extend(rest);
        }
    });
    out
}

fn number(x: Option<f64>) -> Json {
    match x {
        Some(v) if v.is_finite() => json!(v),
        _ => Json::Null,
    }
}

impl Report {
    /// `{"from", "to", "scope", "kpis", "metrics", "funnel", "leaderboard"}` (interfaces.md), with
    /// names beside the ids for people (`name`, `label`, `stage_name`, `user_name`) and the
    /// stretches the metrics are compared with (`compared`).
    pub fn to_json(&self) -> Json {
        let mut kpis = crate::json::status(self.at, &self.kpis)["rows"].clone();
        if let Json::Array(rows) = &mut kpis {
            for row in rows.iter_mut() {
                let k = self.kpis.iter().find(|k| row["target"] == k.target.id.as_str());
                if let Some(k) = k {
                    row["name"] = json!(self.kpi_name(k));
                }
            }
        }
        let metrics: Vec<Json> = self
            .metrics
            .iter()
            .map(|m| {
                json!({
                    "metric": m.metric, "label": m.label, "unit": m.unit.name(),
                    "indicator": m.indicator.name(), "value": number(m.value),
                    "previous": number(m.previous), "year_ago": number(m.year_ago),
                    "why": self.why.get(&m.metric).map(|w| w.text.clone()),
                })
            })
            .collect();
        let funnel: Vec<Json> = self
            .funnel
            .iter()
            .map(|r| {
                json!({
                    "pipeline": r.pipeline, "pipeline_name": self.names.pipeline(&r.pipeline),
                    "stage": r.stage, "stage_name": self.names.stage(&r.stage),
                    "position": r.position, "reached": r.reached,
                    "conversion_to_next": number(r.conversion_to_next), "leakage": number(r.leakage),
                })
            })
            .collect();
        let mut leaderboard = match &self.leaderboard {
            Some((target, rows)) => crate::json::leaderboard(target, self.at, rows)["rows"].clone(),
            None => json!([]),
        };
        if let Json::Array(rows) = &mut leaderboard {
            for row in rows.iter_mut() {
                let name = row["user"].as_str().map(|id| self.names.user(id).to_string());
                row["user_name"] = json!(name);
            }
        }
        let stretch = |c: &Option<(Stretch, String)>| match c {
            Some((s, label)) => json!({"from": s.from_text, "to": s.to_text, "label": label}),
            None => Json::Null,
        };
        json!({
            "from": self.from, "to": self.to, "scope": self.scope.to_string(),
            "scope_name": self.names.scope(&self.scope),
            "compared": {"previous": stretch(&self.compared.previous), "year_ago": stretch(&self.compared.year_ago)},
            "kpis": kpis, "metrics": metrics, "funnel": funnel, "leaderboard": leaderboard,
        })
    }

    /// The metrics table as CSV: values as the JSON gives them (rates as fractions, money in
    /// major units), with the label and the stretches compared.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "metric,label,indicator,unit,value,previous,year_ago,previous_from,previous_to,year_ago_from,year_ago_to\n",
        );
        let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        let bounds = |c: &Option<(Stretch, String)>| match c {
            Some((s, _)) => format!("{},{}", s.from_text, s.to_text),
            None => ",".to_string(),
        };
        let (previous, year_ago) =
            (bounds(&self.compared.previous), bounds(&self.compared.year_ago));
        for m in &self.metrics {
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

    /// What a KPI is, for people: `Revenue won · North team · November 2026`.
    pub fn kpi_name(&self, k: &KpiRow) -> String {
        let t = &k.target;
        let label = self.kpi_metrics.get(&t.metric).map_or(t.metric.as_str(), |m| m.0.as_str());
        format!("{label} · {} · {}", self.names.scope(&t.scope), period_text(t.period, t.starts_on))
    }

    /// A KPI's figure in its metric's unit (rates as percentages).
    fn kpi_value(&self, k: &KpiRow, x: Option<f64>) -> String {
        display(self.kpi_metrics.get(&k.target.metric).map_or(Unit::Count, |m| m.1), x)
    }

    /// The column heads of the comparisons: `vs 1–3 Nov 2026 until 15:00`.
    fn compared_heads(&self) -> (String, String) {
        let head = |c: &Option<(Stretch, String)>, fallback: &str| match c {
            Some((_, label)) => format!("vs {label}"),
            None => fallback.to_string(),
        };
        (
            head(&self.compared.previous, "vs previous period"),
            head(&self.compared.year_ago, "vs a year ago"),
        )
    }

    /// What the funnel counts.
    fn funnel_caption(&self) -> String {
        format!(
            "Deals created in {}, by the furthest stage they reached (a deal that skipped a stage counts as having reached it); conversion is to the next stage.",
            self.range_label
        )
    }

    /// The leaderboard's heading: the target it ranks the reps of.
    fn board_title(&self, target: &str) -> String {
        self.kpis
            .iter()
            .find(|k| k.target.id == target)
            .map_or_else(|| target.to_string(), |k| self.kpi_name(k))
    }

    /// Markdown for e-mail or a wiki.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Sales report · {} · {}\n",
            md(&self.names.scope(&self.scope)),
            md(&self.range_label)
        );
        let _ = writeln!(out, "Figures as of {}.\n", format_instant(self.at));
        out.push_str("## KPIs\n\n");
        if self.kpis.is_empty() {
            out.push_str("No targets for this scope yet.\n\n");
        } else {
            out.push_str("| KPI | target | actual | expected | pace | status | projected |\n");
            out.push_str("| --- | ---: | ---: | ---: | ---: | --- | ---: |\n");
            for k in &self.kpis {
                let f = &k.figures;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} {} | {} |",
                    md(&self.kpi_name(k)),
                    self.kpi_value(k, Some(k.target.value)),
                    self.kpi_value(k, f.actual),
                    self.kpi_value(k, Some(f.expected)),
                    pct(f.pace),
                    status_symbol(f.status.name()),
                    f.status.name().replace('_', " "),
                    self.kpi_value(k, f.projected)
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
        let (vs_previous, vs_year) = self.compared_heads();
        for (title, indicator) in
            [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)]
        {
            let _ = writeln!(out, "## {title}\n");
            let _ = writeln!(
                out,
                "| metric | value | {vs_previous} | change | {vs_year} | change |\n| --- | ---: | ---: | ---: | ---: | ---: |"
            );
            for m in self.metrics.iter().filter(|m| m.indicator == indicator) {
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
            let why: Vec<&Why> = self
                .metrics
                .iter()
                .filter(|m| m.indicator == indicator)
                .filter_map(|m| self.why.get(&m.metric))
                .collect();
            for w in &why {
                let _ = writeln!(out, "- {}", md(&w.text));
            }
            if !why.is_empty() {
                out.push('\n');
            }
        }
        out.push_str("## Funnel\n\n");
        if self.funnel.is_empty() {
            out.push_str("No deals were created in the range.\n\n");
        } else {
            let _ = writeln!(out, "{}\n", self.funnel_caption());
            out.push_str("| pipeline | stage | deals reached | conversion to next | leakage |\n| --- | --- | ---: | ---: | ---: |\n");
            for r in &self.funnel {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md(self.names.pipeline(&r.pipeline)),
                    md(self.names.stage(&r.stage)),
                    r.reached,
                    pct(r.conversion_to_next),
                    pct(r.leakage)
                );
            }
            out.push('\n');
        }
        if let Some((target, rows)) = &self.leaderboard {
            let _ = writeln!(out, "## Leaderboard · {}\n", md(&self.board_title(target)));
            let k = self.kpis.iter().find(|k| &k.target.id == target);
            let value = |x: Option<f64>| match k {
                Some(k) => self.kpi_value(k, x),
                None => human(x),
            };
            out.push_str("| rank | rep | target | actual | pace | band |\n| ---: | --- | ---: | ---: | ---: | --- |\n");
            for r in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.rank,
                    md(self.names.user(&r.user)),
                    value(Some(r.target_value)),
                    value(r.figures.actual),
                    pct(r.figures.pace),
                    r.band
                );
            }
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "_Note: {}._", md(note));
        }
        out
    }

    /// A self-contained, printable HTML page with SVG charts.
    pub fn to_html(&self) -> String {
        let mut body = String::new();
        let scope_name = self.names.scope(&self.scope);
        let _ = write!(
            body,
            "<header><h1>Sales report</h1><p>{} · {} · figures as of {}</p></header>",
            esc(&scope_name),
            esc(&self.range_label),
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
                    "<article class=\"tile {status}\"><h3>{}</h3><p class=value>{}</p><p>target {} · expected {}</p>{}<p class=status>{} {}</p><p class=small>projected {}</p></article>",
                    esc(&self.kpi_name(k)),
                    esc(&self.kpi_value(k, f.actual)),
                    esc(&self.kpi_value(k, Some(k.target.value))),
                    esc(&self.kpi_value(k, Some(f.expected))),
                    pace_bar(f.actual.unwrap_or(0.0), f.expected, k.target.value),
                    status_symbol(status),
                    status.replace('_', " "),
                    esc(&self.kpi_value(k, f.projected))
                );
            }
            body.push_str("</div>");
            for message in kpi_errors(&self.kpis) {
                let _ = write!(body, "<p class=small>⚠ {}</p>", esc(message));
            }
        }
        body.push_str("</section>");
        let (vs_previous, vs_year) = self.compared_heads();
        for (title, indicator) in
            [("Leading metrics", Indicator::Leading), ("Lagging metrics", Indicator::Lagging)]
        {
            let _ = write!(
                body,
                "<section><h2>{title}</h2><table><thead><tr><th>metric</th><th>value</th><th>{}</th><th>change</th><th>{}</th><th>change</th></tr></thead><tbody>",
                esc(&vs_previous),
                esc(&vs_year)
            );
            for m in self.metrics.iter().filter(|m| m.indicator == indicator) {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&m.label),
                    esc(&display(m.unit, m.value)),
                    esc(&display(m.unit, m.previous)),
                    change(m.value, m.previous),
                    esc(&display(m.unit, m.year_ago)),
                    change(m.value, m.year_ago)
                );
            }
            body.push_str("</tbody></table>");
            let why: Vec<&Why> = self
                .metrics
                .iter()
                .filter(|m| m.indicator == indicator)
                .filter_map(|m| self.why.get(&m.metric))
                .collect();
            if !why.is_empty() {
                body.push_str("<ul class=why>");
                for w in why {
                    let _ = write!(body, "<li>{}</li>", esc(&w.text));
                }
                body.push_str("</ul>");
            }
            body.push_str("</section>");
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
            let _ = write!(body, "<p class=small>{}</p>", esc(&self.funnel_caption()));
            body.push_str(&funnel_chart(&self.funnel, &self.names));
        }
        body.push_str("</section>");
        if let Some((target, rows)) = &self.leaderboard {
            let k = self.kpis.iter().find(|k| &k.target.id == target);
            let value = |x: Option<f64>| match k {
                Some(k) => self.kpi_value(k, x),
                None => human(x),
            };
            let _ = write!(
                body,
                "<section><h2>Leaderboard · {}</h2><table class=board><thead><tr><th>rank</th><th>rep</th><th>target</th><th>actual</th><th>pace</th><th>band</th></tr></thead><tbody>",
                esc(&self.board_title(target))
            );
            for r in rows {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    r.rank,
                    esc(self.names.user(&r.user)),
                    esc(&value(Some(r.target_value))),
                    esc(&value(r.figures.actual)),
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
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>Sales report · {} · {}</title><style>{CSS}</style></head><body>{body}</body></html>\n",
            esc(&scope_name),
            esc(&self.range_label)
        )
    }
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

fn funnel_chart(rows: &[FunnelRow], names: &Names) -> String {
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
        let stage = names.stage(&r.stage);
        let _ = write!(
            svg,
            "<text x=0 y={:.1}>{}</text><rect x=140 y={:.1} width={:.1} height=20 fill=#0969da><title>{}: {} deals reached</title></rect><text x={:.1} y={:.1}>{} deals · {} to next{}</text>",
            y + 14.0,
            esc(stage),
            y,
            w.max(1.0),
            esc(stage),
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
        (Some(a), Some(b)) => match traction_metrics::relative_change(a, b) {
            Some(c) => format!("{} {:.1}%", if c >= 0.0 { "▲" } else { "▼" }, c.abs() * 100.0),
            None => "–".to_string(),
        },
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_read_as_people_write_them() {
        let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
        let at = |t: &str| traction_domain::time::parse_instant(t, &zone).unwrap();
        let label = |a: &str, b: &str| stretch_label(at(a), at(b), &zone);
        assert_eq!(label("2026-11-01", "2026-12-01"), "November 2026");
        assert_eq!(label("2026-11-01", "2026-11-03 15:00"), "1–3 Nov 2026 until 15:00");
        assert_eq!(label("2026-10-26", "2026-11-02"), "26 Oct – 1 Nov 2026");
        assert_eq!(label("2025-12-29", "2026-01-05"), "29 Dec 2025 – 4 Jan 2026");
        assert_eq!(label("2026-12-02", "2026-12-02 15:00"), "2 Dec 2026 until 15:00");
        assert_eq!(
            label("2026-12-03 14:00", "2026-12-03 14:35"),
            "3 Dec 2026 from 14:00 until 14:35"
        );
        assert_eq!(label("2026-11-01", "2026-11-01"), "1 Nov 2026");
    }
}
