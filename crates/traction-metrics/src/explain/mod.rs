//! Explaining a change (spec: monitoring.md, Explaining a change): why a metric's value over
//! `[from, to)` differs from the value over the range it is compared with.
//!
//! Three splits, each summing exactly to `change` = value − previous:
//! - segments of an additive metric (a count or a sum, or sums and differences of them): each
//!   segment's own change, a segment present in one range only included;
//! - segments of a ratio whose parts add up: per segment a rate effect and a mix effect, the
//!   symmetric split ([`rate_mix`]);
//! - drivers: a metric that is the product of others (`drivers = […]` in its definition), or a
//!   ratio of two metrics (numerator × 1/denominator), split among its factors by the symmetric
//!   (Shapley) split ([`shapley`]); what the product does not account for (a tree that is not
//!   exact) is reported as the driver `other`.
//!
//! Every figure comes from the engine's query interface ([`crate::run`]), two queries per
//! figure (the range and the compared range); this module reads no database itself. The
//! arithmetic is pure and tested on hand-worked cases. Money is split in minor units: where a
//! split is fractional the contributions are rounded to the minor unit by the largest remainder
//! ([`largest_remainder`]), so they still sum exactly to the change; other units keep their
//! fractions. [`sentence`] is the one sentence the dashboard, the report and the anomaly alert
//! show.

mod sentence;

use std::collections::BTreeMap;

use traction_domain::time::Micros;
use traction_store::Backend;

pub use sentence::{Sentence, figure, sentence};

use crate::buckets::Grain;
use crate::catalog::{Agg, Better, Catalog, Kind, Metric, Part, Unit};
use crate::eval::{MetricResult, local_text, run_in};
use crate::expr::{BinOp, ExprKind};
use crate::plan::{Compare, Query, compared_range};
use crate::sql::DimValue;
use crate::{Error, Input};

/// What to explain: a metric over `[from, to)` against the range `compare` takes.
#[derive(Clone, Debug)]
pub struct ExplainQuery {
    pub metric: String,
    pub from: Micros,
    pub to: Micros,
    pub compare: Compare,
    /// Split into segments along this dimension.
    pub by: Option<String>,
    /// A `where` filter (and a scope's owners).
    pub filter: crate::Filter,
    /// The clock: a range in progress is compared like for like (the same stretch of the
    /// compared range).
    pub at: Micros,
}

/// One factor's share of a change.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverPart {
    /// The factor's metric, or `other` for what the product of the factors does not account for.
    pub metric: String,
    pub label: String,
    /// The factor's own unit (its value and previous are in it).
    pub unit: Unit,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// In the explained metric's unit.
    pub contribution: f64,
}

/// One segment's share of a change.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPart {
    pub key: DimValue,
    /// The segment's value (for a ratio, its rate) in the range and the compared range.
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub contribution: f64,
    /// Ratios only: the rate effect and the mix effect (they sum to the contribution).
    pub rate_effect: Option<f64>,
    pub mix_effect: Option<f64>,
}

/// Why a metric moved.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub metric: String,
    pub label: String,
    pub unit: Unit,
    pub better: Better,
    pub from: Micros,
    pub to: Micros,
    pub from_text: String,
    pub to_text: String,
    pub compare: Compare,
    /// The compared range `[from, to)`, and as text.
    pub compared: (Micros, Micros),
    pub compared_text: (String, String),
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// value − previous; `None` when either is.
    pub change: Option<f64>,
    pub drivers: Vec<DriverPart>,
    pub by: Option<String>,
    /// Sorted by absolute contribution, largest first.
    pub segments: Vec<SegmentPart>,
    /// Whether segments carry rate and mix effects.
    pub ratio: bool,
}

/// How a metric splits into segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Counts and sums: each segment's own change.
    Additive,
    /// A ratio whose numerator and denominator add up over segments: rate and mix.
    Ratio,
    /// Neither: no split by segment.
    Other,
}

/// The factors of a metric's driver tree: each factor's metric and its power (1, or −1 for the
/// denominator of a ratio). Declared `drivers` first; else a ratio of two metrics.
pub fn driver_tree(metric: &Metric) -> Vec<(String, i32)> {
    if !metric.drivers.is_empty() {
        return metric.drivers.iter().map(|d| (d.clone(), 1)).collect();
    }
    match &metric.kind {
        Kind::Ratio { numerator: Part::Metric(n), denominator: Part::Metric(d) } => {
            vec![(n.clone(), 1), (d.clone(), -1)]
        }
        _ => Vec::new(),
    }
}

/// Whether a metric's values add up over segments: counts and sums, and sums and differences
/// of such metrics. Additivity is inferred from the aggregation (spec: metrics.md).
pub fn is_additive(catalog: &Catalog, metric: &Metric) -> bool {
    fn expr_additive(catalog: &Catalog, e: &crate::expr::Expr, depth: usize) -> bool {
        match &e.kind {
            ExprKind::Name(n) => {
                catalog.get(n).is_some_and(|m| depth < 32 && additive(catalog, m, depth + 1))
            }
            ExprKind::Neg(inner) => expr_additive(catalog, inner, depth + 1),
            ExprKind::Binary(BinOp::Add | BinOp::Sub, l, r) => {
                expr_additive(catalog, l, depth + 1) && expr_additive(catalog, r, depth + 1)
            }
            _ => false,
        }
    }
    fn additive(catalog: &Catalog, metric: &Metric, depth: usize) -> bool {
        match &metric.kind {
            Kind::Aggregate(m) => m.agg.is_additive(),
            Kind::Derived(e) => expr_additive(catalog, e, depth),
            _ => false,
        }
    }
    additive(catalog, metric, 0)
}

fn shape(catalog: &Catalog, metric: &Metric) -> Shape {
    if is_additive(catalog, metric) {
        return Shape::Additive;
    }
    let part_adds = |part: &Part| match part {
        Part::Metric(name) => catalog.get(name).is_some_and(|m| is_additive(catalog, m)),
        Part::Measure(m) => matches!(m.agg, Agg::Count | Agg::Sum),
    };
    match &metric.kind {
        Kind::Ratio { numerator, denominator }
            if part_adds(numerator) && part_adds(denominator) =>
        {
            Shape::Ratio
        }
        _ => Shape::Other,
    }
}

/// Explains a metric's change between `[from, to)` and the compared range, through the engine.
pub fn explain(
    store: &dyn Backend,
    catalog: &Catalog,
    query: &ExplainQuery,
) -> Result<Explanation, Error> {
    let metric = catalog.get(&query.metric).ok_or_else(|| {
        Error::NotFound(format!(
            "{:?} is not a metric: `traction metrics list` shows the catalog",
            query.metric
        ))
    })?;
    if matches!(metric.kind, Kind::Funnel) {
        return Err(Input::FunnelExplained { metric: metric.name.clone() }.into());
    }
    if query.from >= query.to {
        return Err(Input::EmptyRange.into());
    }
    // The workspace is read once for every figure the explanation asks for.
    let env = crate::eval::workspace_env(store)?;
    let zone = env.zone.clone();
    let scale = env.currency.minor_per_major() as f64;
    let ((lo, hi), _) = compared_range(query.from, query.to, query.at, query.compare, &zone)?;
    if query.from >= query.at {
        let (from, at) = (local_text(query.from, &zone), local_text(query.at, &zone));
        return Err(Input::NotYet { from, at }.into());
    }
    if lo >= hi || (lo < query.to && query.from < hi) {
        return Err(Input::Overlap {
            from: local_text(query.from, &zone),
            to: local_text(query.to, &zone),
            compare: query.compare.name(),
            other_from: local_text(lo, &zone),
            other_to: local_text(hi, &zone),
        }
        .into());
    }
    let shape = shape(catalog, metric);
    if let Some(dim) = &query.by
        && shape == Shape::Other
    {
        return Err(Input::ExplainByShape { metric: metric.name.clone(), dim: dim.clone() }.into());
    }
    let money = metric.unit == Unit::Money;
    // Figures in work units: money in minor units, so sums and splits of it are exact.
    let work = |unit: Unit, v: Option<f64>| match unit {
        Unit::Money => v.map(|v| (v * scale).round()),
        _ => v,
    };
    // Factors are scaled but not rounded: an average's fraction of a cent matters in a product.
    let scaled = |unit: Unit, v: Option<f64>| match unit {
        Unit::Money => v.map(|v| v * scale),
        _ => v,
    };
    let ask =
        |name: &str, from: Micros, to: Micros, by: &[String]| -> Result<MetricResult, Error> {
            let q = Query {
                metric: name.to_string(),
                from,
                to,
                grain: Grain::All,
                by: by.to_vec(),
                filter: query.filter.clone(),
                compare: None,
                at: query.at,
            };
            run_in(store, catalog, &q, &env)
        };

    let by: Vec<String> = query.by.iter().cloned().collect();
    let (now, then) =
        (ask(&metric.name, query.from, query.to, &by)?, ask(&metric.name, lo, hi, &by)?);

    let mut segments = Vec::new();
    let (value, previous) = if by.is_empty() {
        (
            work(metric.unit, total_of(catalog, metric, &now)),
            work(metric.unit, total_of(catalog, metric, &then)),
        )
    } else {
        let (v, p, parts) = split_segments(shape, &now, &then, |v| work(metric.unit, v));
        segments = parts;
        (v, p)
    };
    let change = match (value, previous) {
        (Some(v), Some(p)) => Some(v - p),
        _ => None,
    };

    // Drivers: the factors' values over both ranges, through the same queries.
    let mut drivers = Vec::new();
    let tree = driver_tree(metric);
    if let Some(change) = change
        && !tree.is_empty()
    {
        let mut factors = Vec::new();
        let mut facts = Vec::new();
        for (name, power) in &tree {
            let Some(m) = catalog.get(name) else {
                return Err(Input::UnknownDriver {
                    metric: metric.name.clone(),
                    driver: name.to_string(),
                }
                .into());
            };
            let v1 = scaled(m.unit, total_of(catalog, m, &ask(name, query.from, query.to, &[])?));
            let v0 = scaled(m.unit, total_of(catalog, m, &ask(name, lo, hi, &[])?));
            facts.push((m, v1, v0));
            // A factor missing in one range (an average of nothing) is taken as unchanged.
            let (f0, f1) = match (v0, v1) {
                (Some(a), Some(b)) => (a, b),
                (Some(a), None) => (a, a),
                (None, Some(b)) => (b, b),
                (None, None) => (f64::NAN, f64::NAN),
            };
            let pow = |x: f64| if *power < 0 { 1.0 / x } else { x };
            factors.push((pow(f0), pow(f1)));
        }
        // Money factors multiply in minor units: scale the product back to the metric's unit
        // (a ratio of two money metrics cancels them).
        let mut factor_scale = 1.0;
        for ((m, _, _), (_, power)) in facts.iter().zip(&tree) {
            if m.unit == Unit::Money {
                factor_scale *= scale.powi(*power);
            }
        }
        let k = if money { scale / factor_scale } else { 1.0 / factor_scale };
        if factors.iter().all(|(a, b)| a.is_finite() && b.is_finite()) {
            let mut parts: Vec<f64> = shapley(&factors).into_iter().map(|c| c * k).collect();
            let p0: f64 = factors.iter().map(|f| f.0).product::<f64>() * k;
            let p1: f64 = factors.iter().map(|f| f.1).product::<f64>() * k;
            // What the product does not account for (a tree that is not exact).
            let rest = change - parts.iter().sum::<f64>();
            let tolerance = if money { 0.5 } else { 1e-9 * (1.0 + change.abs()) };
            let other = rest.abs() > tolerance;
            if other {
                parts.push(rest);
            } else {
                // Floating-point dust goes to the first factor, so the parts sum to the change.
                parts[0] += rest;
            }
            if money {
                parts = exact_money(&parts, change);
            }
            for ((m, v1, v0), contribution) in facts.iter().zip(&parts) {
                drivers.push(DriverPart {
                    metric: m.name.clone(),
                    label: m.label.clone(),
                    unit: m.unit,
                    value: out(m.unit, *v1, scale),
                    previous: out(m.unit, *v0, scale),
                    contribution: out(metric.unit, Some(*contribution), scale).unwrap_or(0.0),
                });
            }
            if other {
                drivers.push(DriverPart {
                    metric: "other".into(),
                    label: "Not accounted for by the drivers".into(),
                    unit: metric.unit,
                    value: out(metric.unit, value.map(|v| v - p1), scale),
                    previous: out(metric.unit, previous.map(|p| p - p0), scale),
                    contribution: out(metric.unit, parts.last().copied(), scale).unwrap_or(0.0),
                });
            }
        }
    }

    let segments = segments
        .into_iter()
        .map(|s: SegmentPart| SegmentPart {
            value: out(metric.unit, s.value, scale),
            previous: out(metric.unit, s.previous, scale),
            contribution: out(metric.unit, Some(s.contribution), scale).unwrap_or(0.0),
            rate_effect: s.rate_effect.and_then(|x| out(metric.unit, Some(x), scale)),
            mix_effect: s.mix_effect.and_then(|x| out(metric.unit, Some(x), scale)),
            key: s.key,
        })
        .collect();
    Ok(Explanation {
        metric: metric.name.clone(),
        label: metric.label.clone(),
        unit: metric.unit,
        better: metric.better,
        from: query.from,
        to: query.to,
        from_text: local_text(query.from, &zone),
        to_text: local_text(query.to, &zone),
        compare: query.compare,
        compared: (lo, hi),
        compared_text: (local_text(lo, &zone), local_text(hi, &zone)),
        value: out(metric.unit, value, scale),
        previous: out(metric.unit, previous, scale),
        change: out(metric.unit, change, scale),
        drivers,
        by: query.by.clone(),
        segments,
        ratio: shape == Shape::Ratio && query.by.is_some(),
    })
}

/// A work-unit figure in the metric's output unit: money back to major units.
fn out(unit: Unit, v: Option<f64>, scale: f64) -> Option<f64> {
    match unit {
        Unit::Money => v.map(|v| v / scale),
        _ => v,
    }
}

/// The value of a grain-`all` answer: its one row, or for no rows the value of nothing (0 for
/// counts and sums, else none).
fn total_of(catalog: &Catalog, metric: &Metric, r: &MetricResult) -> Option<f64> {
    r.rows.first().map_or_else(|| empty_value(catalog, metric), |r| r.value)
}

fn empty_value(catalog: &Catalog, metric: &Metric) -> Option<f64> {
    is_additive(catalog, metric).then_some(0.0)
}

/// Money contributions rounded to whole minor units by the largest remainder, so they sum to
/// the change (itself whole minor units).
fn exact_money(parts: &[f64], change: f64) -> Vec<f64> {
    largest_remainder(parts, change.round() as i64).into_iter().map(|n| n as f64).collect()
}

/// The segments of both answers joined by dimension value, with the totals (in work units).
fn split_segments(
    shape: Shape,
    now: &MetricResult,
    then: &MetricResult,
    work: impl Fn(Option<f64>) -> Option<f64>,
) -> (Option<f64>, Option<f64>, Vec<SegmentPart>) {
    // (value, numerator, denominator) per segment and side.
    type Cells = (Option<f64>, Option<f64>, Option<f64>);
    let mut joined: BTreeMap<DimValue, (Cells, Cells)> = BTreeMap::new();
    let none: Cells = (None, None, None);
    for row in &now.rows {
        let key = row.dims.first().cloned().unwrap_or(DimValue::Null);
        joined.entry(key).or_insert((none, none)).0 = (row.value, row.numerator, row.denominator);
    }
    for row in &then.rows {
        let key = row.dims.first().cloned().unwrap_or(DimValue::Null);
        joined.entry(key).or_insert((none, none)).1 = (row.value, row.numerator, row.denominator);
    }
    let mut segments = Vec::new();
    let (value, previous) = match shape {
        Shape::Ratio => {
            // Numerators and denominators in work units; a segment missing in a range has 0 of
            // both there.
            let money_num = now.unit == Unit::Money;
            let num = |v: Option<f64>| {
                if money_num { work(v).unwrap_or(0.0) } else { v.unwrap_or(0.0) }
            };
            let cells: Vec<(DimValue, [f64; 4])> = joined
                .into_iter()
                .map(|(k, (c1, c0))| {
                    (k, [num(c0.1), c0.2.unwrap_or(0.0), num(c1.1), c1.2.unwrap_or(0.0)])
                })
                .collect();
            let quads: Vec<[f64; 4]> = cells.iter().map(|(_, q)| *q).collect();
            let effects = rate_mix(&quads);
            let (n0, d0, n1, d1) = quads.iter().fold((0.0, 0.0, 0.0, 0.0), |acc, q| {
                (acc.0 + q[0], acc.1 + q[1], acc.2 + q[2], acc.3 + q[3])
            });
            let v = (d1 != 0.0).then(|| n1 / d1);
            let p = (d0 != 0.0).then(|| n0 / d0);
            let pieces: Vec<f64> = effects.iter().flat_map(|(r, m)| [*r, *m]).collect();
            let pieces = match (v, p) {
                (Some(v), Some(p)) if money_num => exact_money(&pieces, v.round() - p.round()),
                _ => pieces,
            };
            for ((key, q), pair) in cells.into_iter().zip(pieces.chunks(2)) {
                let rate = |n: f64, d: f64| (d != 0.0).then(|| n / d);
                let comparable = v.is_some() && p.is_some();
                segments.push(SegmentPart {
                    key,
                    value: rate(q[2], q[3]),
                    previous: rate(q[0], q[1]),
                    contribution: if comparable { pair[0] + pair[1] } else { 0.0 },
                    rate_effect: comparable.then_some(pair[0]),
                    mix_effect: comparable.then_some(pair[1]),
                });
            }
            match (money_num, v, p) {
                (true, v, p) => (v.map(f64::round), p.map(f64::round)),
                (false, v, p) => (v, p),
            }
        }
        _ => {
            let (mut v, mut p) = (0.0, 0.0);
            for (key, (c1, c0)) in joined {
                let (a, b) = (work(c1.0).unwrap_or(0.0), work(c0.0).unwrap_or(0.0));
                v += a;
                p += b;
                segments.push(SegmentPart {
                    key,
                    value: Some(a),
                    previous: Some(b),
                    contribution: a - b,
                    rate_effect: None,
                    mix_effect: None,
                });
            }
            (Some(v), Some(p))
        }
    };
    segments.sort_by(|a, b| {
        b.contribution.abs().total_cmp(&a.contribution.abs()).then_with(|| a.key.cmp(&b.key))
    });
    (value, previous, segments)
}

/// The symmetric (Shapley) split of the change of a product of factors, each given as
/// (before, after): factor i's share is its marginal change averaged over every order in which
/// the factors could change. Two factors: ΔA × (B0 + B1) / 2 and ΔB × (A0 + A1) / 2. The shares
/// sum to ΠAfter − ΠBefore (up to floating point).
pub fn shapley(factors: &[(f64, f64)]) -> Vec<f64> {
    let n = factors.len();
    let mut factorial = vec![1.0_f64; n + 1];
    for k in 1..=n {
        factorial[k] = factorial[k - 1] * k as f64;
    }
    // The product with the factors in `changed` (a bit set) at their new value.
    let product = |changed: usize| -> f64 {
        factors
            .iter()
            .enumerate()
            .map(|(idx, (before, after))| if changed & (1 << idx) != 0 { *after } else { *before })
            .product()
    };
    (0..n)
        .map(|i| {
            let mut share = 0.0;
            for set in 0..(1usize << n) {
                if set & (1 << i) != 0 {
                    continue;
                }
                let size = set.count_ones() as usize;
                let weight = factorial[size] * factorial[n - size - 1] / factorial[n];
                share += weight * (product(set | (1 << i)) - product(set));
            }
            share
        })
        .collect()
}

/// Rate and mix effects of a ratio over segments (spec: monitoring.md): each segment given as
/// [n0, d0, n1, d1] (numerator and denominator in the compared range and in the range). With
/// weights w = d / total d and rates r = n / d (0 without a denominator):
/// rate = (r1 − r0)(w0 + w1)/2, mix = (w1 − w0)(r0 + r1)/2. Over all segments they sum to
/// R1 − R0. With no denominator at all in a range, every effect is 0 (the change is undefined).
pub fn rate_mix(segments: &[[f64; 4]]) -> Vec<(f64, f64)> {
    let d0: f64 = segments.iter().map(|s| s[1]).sum();
    let d1: f64 = segments.iter().map(|s| s[3]).sum();
    if d0 == 0.0 || d1 == 0.0 {
        return vec![(0.0, 0.0); segments.len()];
    }
    let rate = |n: f64, d: f64| if d != 0.0 { n / d } else { 0.0 };
    segments
        .iter()
        .map(|s| {
            let (w0, w1) = (s[1] / d0, s[3] / d1);
            let (r0, r1) = (rate(s[0], s[1]), rate(s[2], s[3]));
            ((r1 - r0) * (w0 + w1) / 2.0, (w1 - w0) * (r0 + r1) / 2.0)
        })
        .collect()
}

/// Rounds each part to an integer so that they sum to `total` exactly (the largest remainder
/// method): every part is rounded down, and the units still missing go to the parts with the
/// largest fractions (or, when the parts overshoot, are taken from the smallest). Ties go to the
/// earlier part.
pub fn largest_remainder(parts: &[f64], total: i64) -> Vec<i64> {
    if parts.is_empty() {
        return Vec::new();
    }
    let mut rounded: Vec<i64> = parts.iter().map(|p| p.floor() as i64).collect();
    let mut missing = total - rounded.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    let frac = |idx: usize| parts[idx] - parts[idx].floor();
    order.sort_by(|a, b| frac(*b).total_cmp(&frac(*a)).then(a.cmp(b)));
    let n = order.len() as i64;
    // Whole rounds first (only when the parts were far from the total), then the remainder.
    let whole = missing.div_euclid(n);
    if whole != 0 {
        for r in &mut rounded {
            *r += whole;
        }
        missing -= whole * n;
    }
    for idx in order.into_iter().take(missing as usize) {
        rounded[idx] += 1;
    }
    rounded
}

#[cfg(test)]
mod tests;
