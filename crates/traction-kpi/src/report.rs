//! The period report a manager can send on (spec: interfaces.md, Report; kpis.md): KPIs with their
//! status, the key leading and lagging metrics with the previous period and the same period a year
//! earlier, the funnel, and the leaderboard. This is the report's content; `traction-render`
//! writes it out as Markdown, CSV and HTML.

use std::collections::BTreeMap;

use traction_domain::time::Micros;
use traction_metrics::catalog::{Indicator, Unit};
use traction_metrics::{Catalog, Compare, Filter, FunnelQuery, FunnelRow, Grain, Query, Stretch};
use traction_store::Backend;

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
    /// The workspace's currency, for money written with its symbol (the HTML report's charts).
    pub currency: traction_domain::money::Currency,
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
    pub fn load(store: &dyn Backend) -> Result<Names, Error> {
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

/// Assembles the report of `[from, to)` (local dates as text for display) for a scope, one part
/// after the other, with the KPIs' figures from `metrics` (the forecast crate's source adds the
/// KPI forecasts). A caller that wants the parts side by side uses [`Parts`] itself.
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
    let (key, why, standing) =
        (parts.key_metrics(), parts.why(KEY_METRICS), parts.standing(metrics));
    Ok(parts.finish(key, why, standing?))
}

/// What a report is made of, loaded once: the scope's owners, the zone, the names. Its three
/// parts — the key metrics, why they moved, and the standing (KPIs, funnel, leaderboard, trend) —
/// are computed separately, each a few dozen queries, so that the caller (the command line, the
/// server, a page) may run them side by side on threads of its own (the store's read connections
/// serve them in parallel); [`Parts::finish`] puts them together. Nothing here spawns a thread.
pub struct Parts<'a> {
    store: &'a dyn Backend,
    catalog: &'a Catalog,
    scope: Scope,
    from: (Micros, String),
    to: (Micros, String),
    /// KPIs as they stand at the end of the range, or now if the range is not over.
    at: Micros,
    filter: Filter,
    zone: jiff::tz::TimeZone,
    currency: traction_domain::money::Currency,
    names: Names,
}

/// The key metrics with their comparisons, and notes on those left out.
pub struct KeyMetrics {
    lines: Vec<MetricLine>,
    notes: Vec<String>,
}

/// The KPIs of the scope, and the funnel, the leaderboard and the weekly trend, with notes.
pub struct Standing {
    kpis: Vec<KpiRow>,
    rest: Rest,
}

impl<'a> Parts<'a> {
    pub fn new(
        store: &'a dyn Backend,
        catalog: &'a Catalog,
        scope: Scope,
        from: (Micros, String),
        to: (Micros, String),
        now: Micros,
    ) -> Result<Parts<'a>, Error> {
        let engine = Engine { store, catalog };
        let org = Kpis { store, metrics: &engine }.org()?;
        let filter = org.owners(&scope).as_deref().map(Filter::owner_in).unwrap_or_default();
        let workspace = traction_store::Store::workspace(store)?;
        let (zone, currency) = (workspace.zone, workspace.currency);
        let names = Names::load(store)?;
        let at = to.0.min(now);
        Ok(Parts { store, catalog, scope, from, to, at, filter, zone, currency, names })
    }

    /// The names of the key metrics a report explains, for splitting [`Parts::why`] among threads.
    pub fn key_metric_names() -> &'static [&'static str] {
        KEY_METRICS
    }

    /// The key metrics (about forty queries).
    pub fn key_metrics(&self) -> KeyMetrics {
        let (from, to) = (self.from.0, self.to.0);
        let (lines, notes) = key_metrics(self.store, self.catalog, &self.filter, from, to, self.at);
        KeyMetrics { lines, notes }
    }

    /// Why each of `metrics` moved (a few more queries per metric).
    pub fn why(&self, metrics: &[&str]) -> BTreeMap<String, Why> {
        let range = (self.from.0, self.to.0);
        explain_key_metrics(
            self.store,
            self.catalog,
            &self.scope,
            range,
            self.at,
            &self.names,
            metrics,
        )
    }

    /// The targets of the scope whose period overlaps the range, with their figures from
    /// `metrics`; the funnel, the leaderboard and the trend.
    pub fn standing(&self, metrics: &dyn MetricSource) -> Result<Standing, Error> {
        let kpis = Kpis { store: self.store, metrics };
        let (scope, from, to) = (&self.scope, self.from.0, self.to.0);
        let kpi_rows = kpis.status_where(self.at, |target, (start, end)| {
            &target.scope == scope && start < to && end > from
        })?;
        let part = Part {
            store: self.store,
            catalog: self.catalog,
            filter: &self.filter,
            from: &self.from,
            to: &self.to,
            at: self.at,
            zone: &self.zone,
        };
        let rest = rest_of_report(&kpis, &part, &kpi_rows)?;
        Ok(Standing { kpis: kpi_rows, rest })
    }

    /// The report from its parts.
    pub fn finish(self, key: KeyMetrics, why: BTreeMap<String, Why>, standing: Standing) -> Report {
        let Parts { catalog, scope, from, to, at, zone, currency, names, .. } = self;
        let KeyMetrics { lines: metrics, mut notes } = key;
        let Standing { kpis: kpi_rows, rest: (funnel, leaderboard, trend, more_notes) } = standing;
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
        Report {
            range_label: stretch_label(from.0, to.0, &zone),
            currency,
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
        }
    }
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
        crate::period::buckets(crate::period::Grain::Week, from.0, to.0, zone)?
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
    store: &'a dyn Backend,
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
    store: &dyn Backend,
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
    store: &dyn Backend,
    catalog: &Catalog,
    scope: &Scope,
    range: (Micros, Micros),
    at: Micros,
    names: &Names,
    metrics: &[&str],
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
    metrics.iter().filter_map(|n| explain_one(n)).collect()
}

impl Report {
    /// What a KPI is, for people: `Revenue won · North team · November 2026`.
    pub fn kpi_name(&self, k: &KpiRow) -> String {
        let t = &k.target;
        let label = self.kpi_metrics.get(&t.metric).map_or(t.metric.as_str(), |m| m.0.as_str());
        format!("{label} · {} · {}", self.names.scope(&t.scope), period_text(t.period, t.starts_on))
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
