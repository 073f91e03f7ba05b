//! Planning: a [`Query`] over a checked [`Catalog`] becomes a [`Plan`] — which rows of which
//! sources are read ([`Scan`]s), which aggregates each computes ([`Slot`]s), into which buckets,
//! and how the aggregates combine into the metric's value ([`Node`]).
//!
//! The plan is logical and knows no SQL: the SQLite stage (`sql.rs`) turns each scan into one
//! statement, and a rollup store or a PostgreSQL backend can answer the same scans later. Slots
//! are the additive parts (counts, sums) wherever the aggregation allows it — an average is a
//! sum and a count, divided only when the value is computed — so pre-aggregated rollups can
//! answer them; only order statistics (median, percentile, trimmed mean) need the values.

use traction_domain::time::Micros;

use crate::buckets::{Buckets, Grain};
use crate::catalog::{Agg, Catalog, Kind, Measure, Metric, Part};
use crate::expr::Expr;
use crate::filter::Filter;
use crate::source::Source;
use crate::{Error, Input};

/// Compare each bucket with another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The bucket before (for grain `all`: the span of the same length before `from`).
    Previous,
    /// The same bucket a year earlier.
    Yoy,
}

impl Compare {
    pub fn parse(text: &str) -> Result<Compare, Input> {
        match text.trim().to_ascii_lowercase().as_str() {
            "previous" => Ok(Compare::Previous),
            "yoy" => Ok(Compare::Yoy),
            _ => Err(Input::Compare { text: text.to_string() }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compare::Previous => "previous",
            Compare::Yoy => "yoy",
        }
    }
}

/// A metric query (spec: metrics.md, Query semantics).
#[derive(Clone, Debug)]
pub struct Query {
    pub metric: String,
    /// Start of the range, inclusive.
    pub from: Micros,
    /// End of the range, exclusive.
    pub to: Micros,
    pub grain: Grain,
    /// Dimensions to group by.
    pub by: Vec<String>,
    /// The `where` filter: parsed where a person wrote it, built by code otherwise.
    pub filter: Filter,
    pub compare: Option<Compare>,
    /// The clock: snapshots and cohort outcomes are as of this instant.
    pub at: Micros,
}

impl Query {
    /// A query of one metric over a range, by one grain, with nothing else.
    pub fn new(metric: &str, from: Micros, to: Micros, grain: Grain, at: Micros) -> Query {
        Query {
            metric: metric.to_string(),
            from,
            to,
            grain,
            by: Vec::new(),
            filter: Filter::default(),
            compare: None,
            at,
        }
    }
}

/// Splits `owner,team` into dimension names.
pub fn parse_by(text: &str) -> Vec<String> {
    text.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
}

/// How a scan places rows in time.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// By a time field, in `[lo, hi)`.
    Field(String),
    /// As of one instant per bucket: rows with `start` before it and `end` null or not before
    /// (no `start`: a state source, every row at every instant).
    Snapshot { start: Option<String>, end: Option<String> },
    /// Distinct values of `of` by a time field, in the bucket before each bucket and in the
    /// bucket itself (the retention kind).
    Retention { time: String, of: Expr, filter: Option<Expr> },
}

/// What a slot of a retention scan counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retained {
    /// Values seen in the previous bucket.
    Before,
    /// … and seen again in this one.
    Kept,
    /// … and not seen again.
    Lost,
}

/// One aggregate a scan computes, per bucket and dimension values.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub agg: Agg,
    pub of: Option<Expr>,
    pub filter: Option<Expr>,
    /// Cohorts: the row counts only if this instant is set and not after `at`.
    pub done_by: Option<String>,
    /// Weighted by the stage probability of the deal at the snapshot instant.
    pub weighted: bool,
    /// The aggregated expression is money (minor units).
    pub money: bool,
    /// Retention scans: what the slot counts.
    pub retained: Option<Retained>,
}

/// Rows of one source, grouped by bucket and dimensions, computing some slots.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    pub source: Source,
    pub placement: Placement,
    /// Order statistics: the scan returns values, not aggregates.
    pub values: bool,
    /// Rows are placed this many buckets earlier than the bucket they answer for
    /// (`previous(metric)` in a derived metric).
    pub lag: usize,
    pub slots: Vec<Slot>,
}

/// How slots combine into a value.
#[derive(Clone, Debug)]
pub enum Node {
    Slot {
        scan: usize,
        slot: usize,
    },
    Ratio(Box<Node>, Box<Node>),
    /// Arithmetic over named parts; `previous(m)` is the part named `previous:m`.
    Derived(Expr, Vec<(String, Node)>),
}

/// A planned query.
#[derive(Clone, Debug)]
pub struct Plan {
    pub metric: Metric,
    pub dims: Vec<String>,
    pub buckets: Buckets,
    pub filter: Filter,
    pub at: Micros,
    pub scans: Vec<Scan>,
    pub root: Node,
}

impl Plan {
    /// Whether the value is a ratio with a numerator and a denominator to show.
    pub fn is_ratio(&self) -> bool {
        matches!(self.root, Node::Ratio(..))
    }
}

/// Plans a query: checks the metric and the dimensions, and lays out the scans. The filter was
/// parsed where it was written; its types are checked when it is compiled against each source.
pub fn plan(catalog: &Catalog, query: &Query, buckets: Buckets) -> Result<Plan, Error> {
    let metric = find_metric(catalog, &query.metric)?;
    if metric.kind == Kind::Funnel {
        return Err(Input::FunnelAsSeries { metric: metric.name.clone() }.into());
    }
    if query.from >= query.to {
        return Err(Input::EmptyRange.into());
    }
    let applicable = catalog.dims(metric);
    for (idx, dim) in query.by.iter().enumerate() {
        if !applicable.contains(&dim.as_str()) {
            let input = match one_sided(catalog, metric, dim) {
                Some(reason) => Input::ByOneSided { dim: dim.clone(), reason },
                None => Input::ByNotApplicable {
                    dim: dim.clone(),
                    metric: metric.name.clone(),
                    applicable: applicable.clone(),
                },
            };
            return Err(input.into());
        }
        if query.by[..idx].contains(dim) {
            return Err(Input::ByTwice { dim: dim.clone() }.into());
        }
    }
    let mut planner = Planner { catalog, scans: Vec::new(), lag: 0 };
    let root = planner.node(metric, 0)?;
    Ok(Plan {
        metric: metric.clone(),
        dims: query.by.clone(),
        buckets,
        filter: query.filter.clone(),
        at: query.at,
        scans: planner.scans,
        root,
    })
}

/// When a dimension applies to some parts of a ratio or derived metric and not to others (costs
/// have a `category`, new customers do not), says which — rather than guessing how the other
/// side would be cut.
fn one_sided(catalog: &Catalog, metric: &Metric, dim: &str) -> Option<String> {
    let parts: Vec<(String, Vec<&'static str>)> = match &metric.kind {
        Kind::Ratio { numerator, denominator } => [numerator, denominator]
            .into_iter()
            .map(|part| match part {
                Part::Metric(name) => {
                    let dims = catalog.get(name).map(|m| catalog.dims(m)).unwrap_or_default();
                    (name.clone(), dims)
                }
                Part::Measure(m) => {
                    let mut dims: Vec<&'static str> =
                        m.source.dims().iter().map(|d| d.name).collect();
                    dims.extend(crate::source::TIME_DIMS);
                    (format!("its measure over {}", m.source.name()), dims)
                }
            })
            .collect(),
        Kind::Derived(e) => {
            let mut seen = Vec::new();
            for (_, name, _) in derived_parts(e) {
                if !seen.iter().any(|(n, _): &(String, Vec<&str>)| n == name) {
                    let dims = catalog.get(name).map(|m| catalog.dims(m)).unwrap_or_default();
                    seen.push((name.to_string(), dims));
                }
            }
            seen
        }
        _ => return None,
    };
    let (with, without): (Vec<_>, Vec<_>) = parts.iter().partition(|(_, dims)| dims.contains(&dim));
    if with.is_empty() {
        return None;
    }
    let names = |list: &[&(String, Vec<&str>)]| {
        list.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    };
    let shared = catalog.dims(metric);
    Ok::<String, ()>(format!(
        "by: {dim:?} applies to only part of {}: {} can be cut by it but {} cannot, so the two sides \
         would not describe the same records; the dimensions all its parts share are {}",
        metric.name,
        names(&with),
        names(&without),
        if shared.is_empty() { "none".to_string() } else { shared.join(", ") }
    ))
    .ok()
}

/// The metric of that name, or an error that lists close names.
pub fn find_metric<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c Metric, Error> {
    catalog.get(name).ok_or_else(|| {
        let close: Vec<&str> = catalog
            .metrics()
            .iter()
            .map(|m| m.name.as_str())
            .filter(|m| m.contains(name) || name.contains(*m))
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            "`traction metrics list` shows the catalog".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        Error::UnknownMetric { name: name.to_string(), hint }
    })
}

struct Planner<'c> {
    catalog: &'c Catalog,
    scans: Vec<Scan>,
    /// Buckets back of what is being planned (inside `previous()`).
    lag: usize,
}

impl Planner<'_> {
    fn slot(&mut self, source: Source, placement: Placement, slot: Slot) -> Node {
        let values = slot.agg.needs_values();
        let lag = self.lag;
        let scan = match self.scans.iter().position(|s| {
            s.source == source && s.placement == placement && s.values == values && s.lag == lag
        }) {
            Some(idx) => idx,
            None => {
                self.scans.push(Scan { source, placement, values, lag, slots: Vec::new() });
                self.scans.len() - 1
            }
        };
        let slots = &mut self.scans[scan].slots;
        let slot = match slots.iter().position(|s| *s == slot) {
            Some(idx) => idx,
            None => {
                slots.push(slot);
                slots.len() - 1
            }
        };
        Node::Slot { scan, slot }
    }

    fn measure(&mut self, m: &Measure) -> Node {
        let slot = Slot {
            agg: m.agg,
            of: m.of.clone(),
            filter: m.filter.clone(),
            done_by: None,
            weighted: false,
            money: m.of_ty == Some(crate::expr::compile::Ty::Money) && m.agg != Agg::CountDistinct,
            retained: None,
        };
        self.slot(m.source, Placement::Field(m.time.clone()), slot)
    }

    fn part(&mut self, part: &Part, depth: usize) -> Result<Node, Error> {
        match part {
            Part::Measure(m) => Ok(self.measure(m)),
            Part::Metric(name) => {
                let metric = find_metric(self.catalog, name)?;
                self.node(metric, depth + 1)
            }
        }
    }

    fn node(&mut self, metric: &Metric, depth: usize) -> Result<Node, Error> {
        if depth > 32 {
            return Err(Input::TooDeep { metric: metric.name.clone() }.into());
        }
        match &metric.kind {
            Kind::Aggregate(m) => Ok(self.measure(m)),
            Kind::Ratio { numerator, denominator } => {
                let n = self.part(numerator, depth)?;
                let d = self.part(denominator, depth)?;
                Ok(Node::Ratio(Box::new(n), Box::new(d)))
            }
            Kind::Cohort { source, time, success, success_time } => {
                let placement = Placement::Field(time.clone());
                let count = |filter: Option<Expr>, done_by: Option<String>| Slot {
                    agg: Agg::Count,
                    of: None,
                    filter,
                    done_by,
                    weighted: false,
                    money: false,
                    retained: None,
                };
                let n = self.slot(
                    *source,
                    placement.clone(),
                    count(Some(success.clone()), success_time.clone()),
                );
                let d = self.slot(*source, placement, count(None, None));
                Ok(Node::Ratio(Box::new(n), Box::new(d)))
            }
            Kind::Snapshot { source, start, end, agg, of, of_ty, filter, weighted } => {
                if self.lag > 0 {
                    return Err(Input::PreviousOfSnapshot { metric: metric.name.clone() }.into());
                }
                let slot = Slot {
                    agg: *agg,
                    of: of.clone(),
                    filter: filter.clone(),
                    done_by: None,
                    weighted: *weighted,
                    money: *of_ty == Some(crate::expr::compile::Ty::Money),
                    retained: None,
                };
                Ok(self.slot(
                    *source,
                    Placement::Snapshot { start: start.clone(), end: end.clone() },
                    slot,
                ))
            }
            Kind::Retention { source, time, of, filter, lost } => {
                if self.lag > 0 {
                    return Err(Input::PreviousOfRetention { metric: metric.name.clone() }.into());
                }
                let placement = Placement::Retention {
                    time: time.clone(),
                    of: of.clone(),
                    filter: filter.clone(),
                };
                let count = |role| Slot {
                    agg: Agg::Count,
                    of: None,
                    filter: None,
                    done_by: None,
                    weighted: false,
                    money: false,
                    retained: Some(role),
                };
                let outcome = if *lost { Retained::Lost } else { Retained::Kept };
                let n = self.slot(*source, placement.clone(), count(outcome));
                let d = self.slot(*source, placement, count(Retained::Before));
                Ok(Node::Ratio(Box::new(n), Box::new(d)))
            }
            Kind::Derived(e) => {
                let mut parts = Vec::new();
                for (key, name, lagged) in derived_parts(e) {
                    if parts.iter().any(|(n, _): &(String, Node)| *n == key) {
                        continue;
                    }
                    let metric = find_metric(self.catalog, name)?;
                    if lagged {
                        self.lag += 1;
                    }
                    let node = self.node(metric, depth + 1);
                    if lagged {
                        self.lag -= 1;
                    }
                    parts.push((key, node?));
                }
                Ok(Node::Derived(e.clone(), parts))
            }
            Kind::Funnel => Err(Input::FunnelInMetric { metric: metric.name.clone() }.into()),
        }
    }
}

/// The parts of a derived expression: `(key, metric, lagged)` — `revenue` for a plain name,
/// `previous:revenue` for `previous(revenue)`.
pub fn derived_parts(e: &Expr) -> Vec<(String, &str, bool)> {
    let mut acc = Vec::new();
    fn go<'e>(e: &'e Expr, acc: &mut Vec<(String, &'e str, bool)>) {
        match &e.kind {
            crate::expr::ExprKind::Name(n) => acc.push((n.clone(), n.as_str(), false)),
            crate::expr::ExprKind::Call { name, args } if name == "previous" => {
                for arg in args {
                    if let crate::expr::ExprKind::Name(n) = &arg.kind {
                        acc.push((format!("previous:{n}"), n.as_str(), true));
                    }
                }
            }
            crate::expr::ExprKind::Neg(inner) => go(inner, acc),
            crate::expr::ExprKind::Binary(_, l, r) => {
                go(l, acc);
                go(r, acc);
            }
            _ => {}
        }
    }
    go(e, &mut acc);
    acc
}

/// The grain-`all` span before a range, for `compare=previous`: whole months when the range is
/// whole months, whole local days when it is whole days (local calendar arithmetic), else the
/// same length of time.
pub fn previous_range(
    from: Micros,
    to: Micros,
    zone: &jiff::tz::TimeZone,
) -> Result<(Micros, Micros), Error> {
    use jiff::ToSpan;
    use traction_domain::time::start_of_day;
    let input = |e: traction_domain::Error| Error::from(Input::Local(e));
    if let (Some(a), Some(b)) =
        (crate::buckets::month_aligned(from, zone)?, crate::buckets::month_aligned(to, zone)?)
    {
        let months = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
            - i64::from(a.month());
        let start = a
            .checked_sub(months.months())
            .map_err(|_| Error::from(Input::ComparisonPastCalendar))?;
        return Ok((start_of_day(start, zone).map_err(input)?, from));
    }
    // Whole local days (a week, say): the same number of days before, so a week across a change
    // of clocks still starts at midnight.
    if let (Some(a), Some(b)) = (local_midnight(from, zone), local_midnight(to, zone)) {
        let days =
            b.since(a).map_err(|e| Error::from(Input::Days { reason: e.to_string() }))?.get_days();
        let start = a
            .checked_sub(i64::from(days).days())
            .map_err(|_| Error::from(Input::ComparisonPastCalendar))?;
        return Ok((start_of_day(start, zone).map_err(input)?, from));
    }
    Ok((from - (to - from), from))
}

/// The local date of an instant that is a local midnight.
fn local_midnight(micros: Micros, zone: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    let date = traction_domain::time::to_zoned(micros, zone)?.date();
    (traction_domain::time::start_of_day(date, zone).ok()? == micros).then_some(date)
}

/// Where an instant `t` of a bucket starting at `start` falls in the bucket `[other_start,
/// other_end)` it is compared with: the same local calendar distance from the start (months, then
/// days, then the time of day; spec: web-design.md, comparisons are like for like), clamped at
/// the end of a shorter bucket. On 3 December at 15:00, the month from 1 December maps onto
/// November as 3 November 15:00; on 31 March at 15:00 onto February as its end, 1 March 00:00.
pub fn same_stretch(
    t: Micros,
    start: Micros,
    other_start: Micros,
    other_end: Micros,
    zone: &jiff::tz::TimeZone,
) -> Result<Micros, Error> {
    use traction_domain::time::{local_to_micros, to_zoned};
    let local = |m: Micros| {
        to_zoned(m, zone)
            .map(|z| z.datetime())
            .ok_or_else(|| Error::from(Input::OutOfRange { micros: m }))
    };
    let past = |_| Error::from(Input::ComparisonPastCalendar);
    let span = local(start)?.until((jiff::Unit::Month, local(t)?)).map_err(past)?;
    let mapped = local(other_start)?.checked_add(span).map_err(past)?;
    Ok(local_to_micros(mapped, zone)
        .map_err(|e| Error::from(Input::Local(e)))?
        .clamp(other_start, other_end))
}

/// The span a grain-`all` range `[from, to)` is compared with, whole: the range before it
/// ([`previous_range`]) or the same dates a year earlier.
pub fn compared_whole_range(
    from: Micros,
    to: Micros,
    compare: Compare,
    zone: &jiff::tz::TimeZone,
) -> Result<(Micros, Micros), Error> {
    match compare {
        Compare::Previous => previous_range(from, to, zone),
        Compare::Yoy => Ok((
            crate::buckets::shift_years(from, -1, zone)?,
            crate::buckets::shift_years(to, -1, zone)?,
        )),
    }
}

/// The part of a bucket `[start, end)` (cut by the range `[from, to)`) that a comparison
/// measures against the bucket `[other_start, other_end)`: the whole other bucket when the
/// bucket is past or future, and when the clock `at` lies inside it (a period in progress) the
/// same stretch of the other bucket — from the mapped start of the range to the mapped `at`.
/// The flag says whether the stretch is such a like-for-like part.
pub fn compared_stretch(
    (start, end): (Micros, Micros),
    (from, to): (Micros, Micros),
    at: Micros,
    (other_start, other_end): (Micros, Micros),
    zone: &jiff::tz::TimeZone,
) -> Result<((Micros, Micros), bool), Error> {
    let (lo, hi) = (start.max(from), end.min(to));
    if !(lo <= at && at < hi) {
        return Ok(((other_start, other_end), false));
    }
    let s_lo = same_stretch(lo, start, other_start, other_end, zone)?;
    let s_hi = same_stretch(at, start, other_start, other_end, zone)?;
    Ok(((s_lo, s_hi.max(s_lo)), true))
}

/// The stretch a grain-`all` query over `[from, to)` at the clock `at` is compared with (see
/// [`compared_stretch`]), and whether it is a like-for-like part of a period in progress.
pub fn compared_range(
    from: Micros,
    to: Micros,
    at: Micros,
    compare: Compare,
    zone: &jiff::tz::TimeZone,
) -> Result<((Micros, Micros), bool), Error> {
    let whole = compared_whole_range(from, to, compare, zone)?;
    compared_stretch((from, to), (from, to), at, whole, zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, zone: &jiff::tz::TimeZone) -> Micros {
        traction_domain::time::parse_instant(text, zone).unwrap()
    }

    #[test]
    fn the_same_stretch_is_local_calendar_arithmetic() {
        let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
        let z = &london;
        // A quarter in progress: 1 October → 3 December 15:00 is 2 months, 2 days and 15 hours,
        // so the third quarter's stretch ends on 3 September at 15:00.
        let q4 = (at("2026-10-01", z), at("2027-01-01", z));
        let q3 = (at("2026-07-01", z), at("2026-10-01", z));
        let ((lo, hi), partial) =
            compared_stretch(q4, q4, at("2026-12-03 15:00", z), q3, z).unwrap();
        assert!(partial);
        assert_eq!((lo, hi), (q3.0, at("2026-09-03 15:00", z)));
        // Across the change of clocks (25 October): 3 November 15:00 GMT maps onto 3 October
        // 15:00 BST, which is 14:00 UTC — the local time of day, not 24-hour days.
        let nov = (at("2026-11-01", z), at("2026-12-01", z));
        let oct = (at("2026-10-01", z), at("2026-11-01", z));
        let mapped = same_stretch(at("2026-11-03 15:00", z), nov.0, oct.0, oct.1, z).unwrap();
        assert_eq!(mapped, at("2026-10-03T14:00:00Z", z));
        // A past or future bucket is compared whole.
        let ((lo, hi), partial) =
            compared_stretch(oct, oct, at("2026-12-03 15:00", z), (at("2026-09-01", z), oct.0), z)
                .unwrap();
        assert!(!partial);
        assert_eq!((lo, hi), (at("2026-09-01", z), oct.0));
        // The range cuts the bucket: from 2 December, the stretch starts on 2 November.
        let dec = (at("2026-12-01", z), at("2027-01-01", z));
        let ((lo, hi), _) =
            compared_stretch(dec, (at("2026-12-02", z), dec.1), at("2026-12-03 15:00", z), nov, z)
                .unwrap();
        assert_eq!((lo, hi), (at("2026-11-02", z), at("2026-11-03 15:00", z)));
        // At the very start of a period nothing has elapsed: an empty stretch.
        let ((lo, hi), partial) =
            compared_range(dec.0, dec.1, dec.0, Compare::Previous, z).unwrap();
        assert!(partial);
        assert_eq!((lo, hi), (nov.0, nov.0));
        // A week is compared with the seven local days before, also across the change of
        // clocks: the week of Monday 26 October with the week of Monday 19 October from its
        // midnight (BST), not 168 hours earlier (an hour off).
        let week = (at("2026-10-26", z), at("2026-11-02", z));
        assert_eq!(previous_range(week.0, week.1, z).unwrap(), (at("2026-10-19", z), week.0));
    }
}
