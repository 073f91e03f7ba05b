//! Running a query: plan, compile each scan to SQL, run them, and combine the slots into the
//! metric's rows ([`MetricResult`]), with the comparison when one is asked for.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::tz::TimeZone;
use traction_domain::Currency;
use traction_domain::time::Micros;
use traction_store::Backend;

use crate::Error;
use crate::buckets::{Buckets, Grain, shift_years};
use crate::catalog::{Agg, Better, Catalog, Unit};
use crate::expr::compile::Env;
use crate::expr::{BinOp, Expr, ExprKind};
use crate::plan::{
    Compare, Node, Plan, Query, Scan, compared_range, compared_stretch, compared_whole_range, plan,
};
use crate::sql::{DimValue, Key, ScanRows, SlotValue, run_scan, statement};

/// One row of a metric's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The bucket's label (`None` for grain `all`).
    pub period: Option<String>,
    /// The bucket's first instant (cut by the range).
    pub start: Micros,
    /// One value per `by` dimension.
    pub dims: Vec<DimValue>,
    pub value: Option<f64>,
    /// Ratios: the parts.
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// With a comparison: the compared bucket's value, and value / previous − 1.
    pub previous: Option<f64>,
    pub change: Option<f64>,
    /// With a comparison: the stretch `[from, to)` the compared value was read over — the whole
    /// compared bucket, or for a bucket in progress the same stretch of it.
    pub compared: Option<Stretch>,
}

/// A stretch of time `[from, to)` a value was read over, with its bounds as the JSON writes them
/// (a local date at midnight, else the local date-time with its offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub from: Micros,
    pub to: Micros,
    pub from_text: String,
    pub to_text: String,
}

impl Stretch {
    pub fn new(from: Micros, to: Micros, zone: &TimeZone) -> Stretch {
        Stretch { from, to, from_text: local_text(from, zone), to_text: local_text(to, zone) }
    }
}

/// A metric's answer to a query (interfaces.md, JSON shapes).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricResult {
    pub metric: String,
    pub unit: Unit,
    pub better: Better,
    pub from: String,
    pub to: String,
    pub grain: Grain,
    pub by: Vec<String>,
    pub compare: Option<Compare>,
    /// Whether rows carry a numerator and a denominator.
    pub ratio: bool,
    pub rows: Vec<Row>,
}

/// A computed cell.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Cell {
    value: Option<f64>,
    numerator: Option<f64>,
    denominator: Option<f64>,
}

/// What a query needs of the workspace (its zone and currency), read once per request: a front
/// end that reads the query's dates in the zone passes the same value to [`run_in`].
pub fn workspace_env(store: &dyn Backend) -> Result<Env, Error> {
    let workspace = store.workspace()?;
    Ok(Env { zone: workspace.zone, currency: workspace.currency })
}

/// Answers a metric query from the SQLite store.
pub fn run(store: &dyn Backend, catalog: &Catalog, query: &Query) -> Result<MetricResult, Error> {
    run_in(store, catalog, query, &workspace_env(store)?)
}

/// Answers a metric query in a workspace already read ([`workspace_env`]).
pub fn run_in(
    store: &dyn Backend,
    catalog: &Catalog,
    query: &Query,
    env: &Env,
) -> Result<MetricResult, Error> {
    let buckets = Buckets::new(query.grain, query.from, query.to, &env.zone)?;
    let main = plan(catalog, query, buckets)?;
    let (cells, _) = evaluate(store, &main, env)?;

    let compared = match query.compare {
        None => None,
        Some(compare) => Some(compare_cells(store, catalog, query, &main, compare, env)?),
    };

    let mut rows: Vec<Row> = cells
        .into_iter()
        .map(|((bucket_idx, dims), cell)| {
            let bucket = &main.buckets.list[bucket_idx];
            // A compared bucket without a row had no data: counts and sums there are 0.
            let (previous, compared_span) = match &compared {
                None => (None, None),
                Some(c) => c.previous(bucket_idx, &dims),
            };
            let change = match (cell.value, previous) {
                (Some(v), Some(p)) => relative_change(v, p),
                _ => None,
            };
            Row {
                period: bucket.label.clone(),
                start: bucket.start.max(main.buckets.lo),
                dims,
                value: cell.value,
                numerator: cell.numerator,
                denominator: cell.denominator,
                previous,
                change,
                compared: compared_span.map(|(lo, hi)| Stretch::new(lo, hi, &env.zone)),
            }
        })
        .collect();
    // spec: interfaces.md — rows sorted by period, then by the dimension values.
    rows.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.dims.cmp(&b.dims)));

    Ok(MetricResult {
        metric: main.metric.name.clone(),
        unit: main.metric.unit,
        better: main.metric.better,
        from: local_text(query.from, &env.zone),
        to: local_text(query.to, &env.zone),
        grain: query.grain,
        by: query.by.clone(),
        compare: query.compare,
        ratio: main.is_ratio(),
        rows,
    })
}

/// The compared side of a query: the cells of the compared whole buckets, and for a bucket that
/// holds the clock (a period in progress) the cells of the same stretch of its compared bucket.
struct Compared {
    /// Cells of the compared whole buckets, keyed by (compared bucket index, dimension values).
    cells: BTreeMap<Key, Cell>,
    /// The cell of a key without data (counts and sums 0, the rest null).
    empty: Cell,
    /// For each bucket of the main plan: the compared stretch, and where its cells are.
    spans: Vec<Option<(Micros, Micros, Side)>>,
    /// Cells of the like-for-like stretch (bucket index 0).
    stretch: BTreeMap<Key, Cell>,
}

/// Where a bucket's compared cells are.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// A whole compared bucket, by its index.
    Whole(usize),
    /// The like-for-like stretch of a period in progress.
    Stretch,
}

impl Compared {
    /// The compared value of a bucket's row and the stretch it was read over.
    fn previous(
        &self,
        bucket_idx: usize,
        dims: &[DimValue],
    ) -> (Option<f64>, Option<(Micros, Micros)>) {
        let Some((lo, hi, side)) = self.spans[bucket_idx] else { return (None, None) };
        let (map, idx) = match side {
            Side::Whole(idx) => (&self.cells, idx),
            Side::Stretch => (&self.stretch, 0),
        };
        let cell = map.get(&(idx, dims.to_vec())).unwrap_or(&self.empty);
        (cell.value, Some((lo, hi)))
    }
}

fn compare_cells(
    store: &dyn Backend,
    catalog: &Catalog,
    query: &Query,
    main: &Plan,
    compare: Compare,
    env: &Env,
) -> Result<Compared, Error> {
    let zone = &env.zone;
    let list = &main.buckets.list;
    let (first, last) = (&list[0], &list[list.len() - 1]);
    // The compared buckets are whole calendar buckets: the one before, or a year before.
    let (lo, hi, targets): (Micros, Micros, Vec<Micros>) = match (query.grain, compare) {
        (Grain::All, _) => {
            let (lo, hi) = compared_whole_range(query.from, query.to, compare, zone)?;
            (lo, hi, vec![lo])
        }
        (grain, Compare::Previous) => {
            let before = Buckets::new(grain, first.start - 1, first.start, zone)?;
            let lo = before.list[0].start;
            let targets =
                std::iter::once(lo).chain(list[..list.len() - 1].iter().map(|b| b.start)).collect();
            (lo, last.start, targets)
        }
        (_, Compare::Yoy) => {
            let targets: Vec<Micros> =
                list.iter().map(|b| shift_years(b.start, -1, zone)).collect::<Result<_, _>>()?;
            // Whole buckets: a year before a Monday is not a Monday, so widen to the buckets
            // holding the shifted starts.
            let around =
                Buckets::new(query.grain, targets[0], targets[targets.len() - 1] + 1, zone)?;
            let lo = around.list[0].start;
            let hi = around.list[around.list.len() - 1].end;
            (lo, hi, targets)
        }
    };
    let buckets = Buckets::new(query.grain, lo, hi, zone)?;
    let map: Vec<Option<usize>> = if query.grain == Grain::All {
        vec![Some(0)]
    } else {
        targets.iter().map(|t| buckets.find(*t)).collect()
    };
    // Each bucket's compared stretch: the whole compared bucket, or for the bucket in progress
    // the same stretch of it (spec: web-design.md, comparisons are like for like).
    let mut spans = Vec::with_capacity(list.len());
    let mut in_progress = None;
    for (bucket, other) in list.iter().zip(&map) {
        let Some(other) = *other else {
            spans.push(None);
            continue;
        };
        let whole = &buckets.list[other];
        let ((s_lo, s_hi), partial) = compared_stretch(
            (bucket.start, bucket.end),
            (query.from, query.to),
            query.at,
            (whole.start.max(buckets.lo), whole.end.min(buckets.hi)),
            zone,
        )?;
        if partial {
            in_progress = Some((s_lo, s_hi));
            spans.push(Some((s_lo, s_hi, Side::Stretch)));
        } else {
            spans.push(Some((s_lo, s_hi, Side::Whole(other))));
        }
    }
    let other_query = Query { from: lo, to: hi, compare: None, ..query.clone() };
    let other = plan(catalog, &other_query, buckets)?;
    let (cells, empty) = evaluate(store, &other, env)?;
    // The stretch of a period in progress lies inside one compared bucket, so it is one bucket
    // of the query's grain, cut by its range.
    let stretch = match in_progress {
        Some((s_lo, s_hi)) if s_lo < s_hi => {
            let stretch_query = Query { from: s_lo, to: s_hi, compare: None, ..query.clone() };
            let buckets = Buckets::new(query.grain, s_lo, s_hi, zone)?;
            let stretch_plan = plan(catalog, &stretch_query, buckets)?;
            evaluate(store, &stretch_plan, env)?.0
        }
        _ => BTreeMap::new(),
    };
    Ok(Compared { cells, empty, spans, stretch })
}

/// The compared side alone of a grain-`all` query without dimensions: the value over the
/// stretch `compare` takes ([`compared_range`]: the whole range before or a year before, or for
/// a range in progress the same stretch of it) and that stretch. For a report or a tile that
/// has the value already and needs only what it is compared with.
pub fn run_compared(
    store: &dyn Backend,
    catalog: &Catalog,
    query: &Query,
    compare: Compare,
) -> Result<(Option<f64>, (Micros, Micros)), Error> {
    let env = workspace_env(store)?;
    let ((lo, hi), _) = compared_range(query.from, query.to, query.at, compare, &env.zone)?;
    let whole = Query { grain: Grain::All, by: Vec::new(), compare: None, ..query.clone() };
    if lo >= hi {
        // Nothing has elapsed yet: the value of no rows (a count of 0, an average of nothing).
        let buckets = Buckets::new(Grain::All, query.from, query.to, &env.zone)?;
        let main = plan(catalog, &whole, buckets)?;
        return Ok((empty_cell(&main, &env).value, (lo, hi)));
    }
    let buckets = Buckets::new(Grain::All, lo, hi, &env.zone)?;
    let other = plan(catalog, &Query { from: lo, to: hi, ..whole }, buckets)?;
    let (cells, empty) = evaluate(store, &other, &env)?;
    Ok((cells.get(&(0, Vec::new())).unwrap_or(&empty).value, (lo, hi)))
}

/// The cell of a key without data, without reading anything.
fn empty_cell(plan: &Plan, env: &Env) -> Cell {
    let results: Vec<ScanRows> = plan.scans.iter().map(|_| ScanRows::new()).collect();
    let ctx = Ctx { plan, results: &results, currency: env.currency };
    ctx.cell(&plan.root, &(usize::MAX, Vec::new()))
}

/// Runs a plan's scans and combines them into cells; also gives the cell of a key without data.
fn evaluate(
    store: &dyn Backend,
    plan: &Plan,
    env: &Env,
) -> Result<(BTreeMap<Key, Cell>, Cell), Error> {
    let statements =
        plan.scans.iter().map(|scan| statement(plan, scan, env)).collect::<Result<Vec<_>, _>>()?;
    let results: Vec<ScanRows> = plan
        .scans
        .iter()
        .zip(&statements)
        .map(|(scan, st)| run_scan(store, plan, scan, st, &env.zone))
        .collect::<Result<Vec<_>, _>>()?;
    // A row for every key where some scan found data.
    let keys: BTreeSet<&Key> = results.iter().flat_map(|r| r.keys()).collect();
    let ctx = Ctx { plan, results: &results, currency: env.currency };
    let cells = keys.into_iter().map(|key| (key.clone(), ctx.cell(&plan.root, key))).collect();
    let empty = ctx.cell(&plan.root, &(usize::MAX, Vec::new()));
    Ok((cells, empty))
}

struct Ctx<'a> {
    plan: &'a Plan,
    results: &'a [ScanRows],
    currency: Currency,
}

impl Ctx<'_> {
    fn cell(&self, node: &Node, key: &Key) -> Cell {
        match node {
            Node::Slot { scan, slot } => {
                let s: &Scan = &self.plan.scans[*scan];
                let def = &s.slots[*slot];
                let got = self.results[*scan].get(key).map(|v| &v[*slot]);
                let empty = SlotValue::default();
                let value = slot_value(def.agg, got.unwrap_or(&empty));
                let scale = if def.money { self.currency.minor_per_major() as f64 } else { 1.0 };
                Cell { value: value.map(|v| v / scale), ..Cell::default() }
            }
            Node::Ratio(n, d) => {
                let n = self.cell(n, key).value;
                let d = self.cell(d, key).value;
                Cell { value: divide(n, d), numerator: n, denominator: d }
            }
            Node::Derived(expr, parts) => {
                let values: HashMap<&str, Option<f64>> = parts
                    .iter()
                    .map(|(name, node)| (name.as_str(), self.cell(node, key).value))
                    .collect();
                Cell { value: arithmetic(expr, &values), ..Cell::default() }
            }
        }
    }
}

/// The value of one slot: counts and sums are 0 where nothing matched (they add up), the rest
/// are null.
fn slot_value(agg: Agg, got: &SlotValue) -> Option<f64> {
    match agg {
        Agg::Count | Agg::CountDistinct | Agg::Sum => Some(got.a.unwrap_or(0.0)),
        Agg::Avg => divide(got.a, got.b),
        Agg::Min | Agg::Max => got.a,
        Agg::Median => quantile(&got.values, 0.5),
        Agg::Percentile(p) => quantile(&got.values, p),
        Agg::TrimmedMean => trimmed_mean(&got.values),
    }
}

/// n / d, null when either is null or d is 0 (spec: metrics.md, never NaN or an error).
fn divide(n: Option<f64>, d: Option<f64>) -> Option<f64> {
    match (n, d) {
        (Some(n), Some(d)) if d != 0.0 => Some(n / d),
        _ => None,
    }
}

fn arithmetic(expr: &Expr, values: &HashMap<&str, Option<f64>>) -> Option<f64> {
    match &expr.kind {
        ExprKind::Name(n) => values.get(n.as_str()).copied().flatten(),
        ExprKind::Call { name, args } if name == "previous" => match args.as_slice() {
            [Expr { kind: ExprKind::Name(n), .. }] => {
                values.get(format!("previous:{n}").as_str()).copied().flatten()
            }
            _ => None,
        },
        ExprKind::Number(n) => n.parse().ok(),
        ExprKind::Neg(e) => arithmetic(e, values).map(|v| -v),
        ExprKind::Binary(op, l, r) => {
            let l = arithmetic(l, values)?;
            let r = arithmetic(r, values)?;
            match op {
                BinOp::Add => Some(l + r),
                BinOp::Sub => Some(l - r),
                BinOp::Mul => Some(l * r),
                BinOp::Div => divide(Some(l), Some(r)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `p` quantile by linear interpolation between order statistics (numpy's default,
/// DuckDB's `quantile_cont`): position p·(n−1).
pub fn quantile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(quantile_sorted(&sorted, p))
}

fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let lower = pos.floor() as usize;
    let upper = pos.ceil() as usize;
    let frac = pos - lower as f64;
    sorted[lower] + (sorted[upper] - sorted[lower]) * frac
}

/// The mean of the values inside the Tukey fences [Q1 − 1.5·IQR, Q3 + 1.5·IQR]
/// (spec: metrics.md, average_deal_size_trimmed).
pub fn trimmed_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q1 = quantile_sorted(&sorted, 0.25);
    let q3 = quantile_sorted(&sorted, 0.75);
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let kept: Vec<f64> = sorted.into_iter().filter(|v| *v >= lo && *v <= hi).collect();
    (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
}

/// A range bound as people wrote it: the date at local midnight, else the local date-time with
/// its offset.
pub fn local_text(micros: Micros, zone: &TimeZone) -> String {
    let Some(zoned) = traction_domain::time::to_zoned(micros, zone) else {
        return micros.to_string();
    };
    let date = zoned.date();
    if traction_domain::time::start_of_day(date, zone) == Ok(micros) {
        date.to_string()
    } else {
        zoned.timestamp().display_with_offset(zoned.offset()).to_string()
    }
}

impl DimValue {
    /// The value as text for tables and CSV (empty for null).
    pub fn text(&self) -> String {
        match self {
            DimValue::Int(n) => n.to_string(),
            DimValue::Text(s) => s.clone(),
            DimValue::Null => String::new(),
        }
    }
}

/// Reads all rows of an SQL query (for the funnel and tests).
pub(crate) fn read_rows(
    store: &dyn Backend,
    sql: &str,
    params: &[crate::expr::compile::Param],
) -> Result<Vec<Vec<traction_store::SqlValue>>, Error> {
    let params: Vec<_> = params.iter().map(crate::expr::compile::Param::sql_value).collect();
    let rows = store.query(sql, &params)?;
    Ok(rows.iter().map(<[_]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], 0.5) = 2.5; 0.25 → position 0.75 → 1.75.
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.25), Some(1.75));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_trimmed_mean_drops_values_outside_the_fences() {
        // 10, 12, 14, 16, 100: Q1 = 12, Q3 = 16, IQR = 4, fences [6, 22]: 100 is dropped and the
        // mean of 10, 12, 14, 16 is 13.
        assert_eq!(trimmed_mean(&[10.0, 100.0, 12.0, 14.0, 16.0]), Some(13.0));
        assert_eq!(trimmed_mean(&[5.0, 5.0]), Some(5.0));
    }
}

/// The relative change from `then` to `now`: `now / then − 1` for a positive base, and measured
/// against the base's size for a negative one (`(now − then) / |then|`), so that its sign always
/// says which way the figure moved: a net cash flow going from −30,000 to −46,000 fell (−53%),
/// it did not rise 53%. `None` without a base (zero, or not a finite number).
pub fn relative_change(now: f64, then: f64) -> Option<f64> {
    (then != 0.0 && now.is_finite() && then.is_finite()).then(|| (now - then) / then.abs())
}

#[cfg(test)]
mod change_tests {
    use super::relative_change;

    #[test]
    fn a_change_says_which_way_the_figure_moved() {
        assert_eq!(relative_change(120.0, 100.0), Some(0.2));
        assert_eq!(relative_change(75.0, 100.0), Some(-0.25));
        // From −40 to −50 is a fall of 25% of the base; from −40 to −30 a rise of 25%.
        assert_eq!(relative_change(-50.0, -40.0), Some(-0.25));
        assert_eq!(relative_change(-30.0, -40.0), Some(0.25));
        assert_eq!(relative_change(10.0, -40.0), Some(1.25));
        assert_eq!(relative_change(5.0, 0.0), None);
        assert_eq!(relative_change(f64::NAN, 1.0), None);
    }
}
