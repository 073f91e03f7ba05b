//! The SQLite stage: one [`Scan`] of a [`Plan`] becomes one parameterised statement, and its rows
//! become [`ScanRows`].
//!
//! The SQL text is made only of trusted pieces — table and column names from the schema, the
//! checked fields of compiled expressions, and integers computed here (bucket boundaries, zone
//! offsets) — while every value that came from a user (literals of `where` and filters) is a
//! `?` parameter. Grouping by bucket is integer arithmetic or a balanced `CASE` (see
//! `buckets.rs`); aggregates use `FILTER (WHERE …)` so several measures over one source share
//! one pass over its rows.

use std::collections::HashMap;
use std::fmt::Write;

use jiff::tz::TimeZone;
use traction_store::SqlValue;

use crate::buckets::{self, Buckets, DAY_US, Grain, HOUR_US, KeyKind, epoch_day_sql, local_sql};
use crate::catalog::Agg;
use crate::expr::compile::{Env, Fragment, Param, Ty, compile, compile_condition};
use crate::plan::{Placement, Plan, Retained, Scan};
use crate::source::{Join, Placed, Source, SourceScope};
use crate::{Error, Input};

/// A dimension value of a result row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DimValue {
    Int(i64),
    Text(String),
    /// Sorts last.
    Null,
}

/// The key of a result row: the bucket's index and the dimension values.
pub type Key = (usize, Vec<DimValue>);

/// What one slot computed for one key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlotValue {
    /// count, count_distinct, sum, min, max: the value; avg: the sum.
    pub a: Option<f64>,
    /// avg: the count.
    pub b: Option<f64>,
    /// Order statistics: the values.
    pub values: Vec<f64>,
}

/// A scan's answer: per key, one value per slot.
pub type ScanRows = HashMap<Key, Vec<SlotValue>>;

/// An SQL statement with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
    /// How the first column maps to a bucket.
    key: KeyKind,
    /// The buckets the key indexes: the query's, or for a lagged scan the ones as many buckets
    /// earlier (index `i` answers for the query's bucket `i`).
    buckets: Buckets,
    /// When the scan reads an entity's table by an instant field in `[lo, hi)`: what the
    /// store's query cache needs to keep the result while writes touch other times.
    ranged: Option<traction_store::Ranged>,
}

struct Builder {
    sql: String,
    params: Vec<Param>,
}

impl Builder {
    fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    fn fragment(&mut self, f: Fragment) {
        self.sql.push_str(&f.sql);
        self.params.extend(f.params);
    }
}

/// The buckets `lag` buckets before each of the query's: bucket `i` of the result is the one
/// `lag` before the query's bucket `i`, whole (also where `from` cuts into the query's first
/// bucket); for grain `all`, the span before the range as `compare=previous` takes it.
pub fn lagged_buckets(buckets: &Buckets, lag: usize, zone: &TimeZone) -> Result<Buckets, Error> {
    if lag == 0 {
        return Ok(buckets.clone());
    }
    if buckets.grain == Grain::All {
        let (mut lo, mut hi) = (buckets.lo, buckets.hi);
        for _ in 0..lag {
            (lo, hi) = crate::plan::previous_range(lo, hi, zone)?;
        }
        return Buckets::new(Grain::All, lo, hi, zone);
    }
    let n = buckets.list.len();
    let mut start = buckets.list[0].start;
    for _ in 0..lag {
        start = Buckets::new(buckets.grain, start - 1, start, zone)?.list[0].start;
    }
    let mut all = Buckets::new(buckets.grain, start, buckets.list[n - 1].end, zone)?;
    all.hi = all.list[n].start.min(all.hi);
    all.list.truncate(n);
    Ok(all)
}

/// Builds the statement of one scan.
pub fn statement(plan: &Plan, scan: &Scan, env: &Env) -> Result<Statement, Error> {
    if let Placement::Retention { time, of, filter } = &scan.placement {
        return retention_statement(plan, scan, time, of, filter.as_ref(), env);
    }
    let source = scan.source;
    let buckets = lagged_buckets(&plan.buckets, scan.lag, &env.zone)?;
    let placed = match &scan.placement {
        Placement::Field(field) => Placed::Field {
            field: field.clone(),
            is_date: field_ty(scan, field)? == Ty::Date,
            buckets: buckets.clone(),
            zone: env.zone.clone(),
        },
        _ => Placed::Unbucketed,
    };
    let scope = SourceScope::placed(source, placed);
    // Compile every expression first, so the joins they need are known.
    let filter_sql = plan.filter.compile(&scope, env).map_err(|err| where_error(plan, err))?;
    let (slot_filters, slot_ofs) = compile_slots(plan, scan, &scope, env)?;
    let mut joins: Vec<Join> = scope.joins.borrow().clone();
    let dim_sql = dimension_sql(plan, scan, &buckets, env, &mut joins)?;

    let mut b = Builder { sql: String::new(), params: Vec::new() };
    let weighted = scan.slots.iter().any(|s| s.weighted);
    if weighted {
        // Win probability per stage (spec: data-model.md, stages.probability): the stage's own,
        // else won = 1, lost = 0, and the k-th of a pipeline's n open stages by position
        // k / (n + 1) — "linear by position" (docs/metrics.md).
        b.push(
            "WITH sp AS (SELECT id, COALESCE(probability, CASE kind WHEN 'won' THEN 1.0 \
             WHEN 'lost' THEN 0.0 ELSE CAST(ROW_NUMBER() OVER (PARTITION BY pipeline_id, kind \
             ORDER BY position, id) AS REAL) / (COUNT(*) OVER (PARTITION BY pipeline_id, kind) + 1) \
             END) AS p FROM stages) ",
        );
    }
    let (key_sql, key_kind) = match &scan.placement {
        Placement::Field(field) => key_sql(field, scan, &buckets, env)?,
        _ => ("b.k".to_string(), KeyKind::Index),
    };
    b.push("SELECT ");
    b.push(&key_sql);
    for d in &dim_sql {
        b.push(", ");
        b.push(d);
    }
    // When every slot has the same filter, the WHERE clause below already applies it: the
    // aggregates need no FILTER of their own, and each row is tested once. Not for snapshots: a
    // state at an instant exists whenever its records do, so a count of none is a 0, not a
    // missing row (no product below its reorder level).
    let snapshot = matches!(scan.placement, Placement::Snapshot { .. });
    let shared_filter =
        !snapshot && slot_filters.iter().all(|f| f.is_some() && *f == slot_filters[0]);
    push_aggregates(&mut b, scan, &slot_filters, &slot_ofs, shared_filter)?;
    b.push(" FROM ");
    let range = match &scan.placement {
        Placement::Field(_) => Some((buckets.lo, buckets.hi)),
        _ => None,
    };
    b.push(&source.from_sql(plan.at, range));
    b.push(&source.joins_sql(&joins, plan.at));
    let mut conds: Vec<Fragment> = Vec::new();
    match &scan.placement {
        Placement::Field(field) => {
            conds.push(Fragment { sql: range_sql(field, scan, &buckets, env)?, params: vec![] })
        }
        Placement::Retention { .. } => {}
        Placement::Snapshot { start, end } => {
            b.push(&snapshot_join(plan, start.as_deref(), end.as_deref()));
        }
    }
    if let Some(f) = filter_sql {
        conds.push(f);
    }
    if let Some(any) = any_slot_condition(&slot_filters, shared_filter, snapshot) {
        conds.push(any);
    }
    for (idx, c) in conds.into_iter().enumerate() {
        b.push(if idx == 0 { " WHERE (" } else { " AND (" });
        b.fragment(c);
        b.push(")");
    }
    if !scan.values {
        b.push(" GROUP BY 1");
        for idx in 0..plan.dims.len() {
            let _ = write!(b.sql, ", {}", idx + 2);
        }
    }
    let ranged = match (&scan.placement, source) {
        (Placement::Field(field), Source::Entity(entity))
            if field_ty(scan, field)? == Ty::Timestamp =>
        {
            Some(traction_store::Ranged {
                table: entity.name().to_string(),
                field: field.clone(),
                lo: buckets.lo,
                hi: buckets.hi,
            })
        }
        _ => None,
    };
    Ok(Statement { sql: b.sql, params: b.params, key: key_kind, buckets, ranged })
}

/// The SQL of each dimension the query groups by (a source's own, with the join it needs, or a
/// time dimension).
fn dimension_sql(
    plan: &Plan,
    scan: &Scan,
    buckets: &Buckets,
    env: &Env,
    joins: &mut Vec<Join>,
) -> Result<Vec<String>, Error> {
    let mut dim_sql = Vec::new();
    for name in &plan.dims {
        match scan.source.dim(name) {
            Some(dim) => {
                if let Some(j) = dim.join {
                    joins.push(j);
                }
                dim_sql.push(dim.sql.to_string());
            }
            None => dim_sql.push(time_dim_sql(name, scan, buckets, env)?),
        }
    }
    Ok(dim_sql)
}

/// A metric's own expression (`of`, `filter`) that does not compile for this query.
fn input(part: &'static str, message: String) -> Error {
    Error::from(Input::Expression { part, message })
}

/// Per slot, its condition and its `of` expression, each when it has one.
type SlotSql = (Vec<Option<Fragment>>, Vec<Option<Fragment>>);

/// Each slot's own condition (its filter, and for a cohort's outcome `done_by` by the clock) and
/// its `of` expression, compiled for the scan's scope.
fn compile_slots(
    plan: &Plan,
    scan: &Scan,
    scope: &SourceScope,
    env: &Env,
) -> Result<SlotSql, Error> {
    let mut slot_filters = Vec::new();
    let mut slot_ofs = Vec::new();
    for slot in &scan.slots {
        let mut conds = Vec::new();
        if let Some(f) = &slot.filter {
            conds.push(compile_condition(f, scope, env).map_err(|e| input("filter", e.message))?);
        }
        if let Some(done) = &slot.done_by {
            conds.push(Fragment {
                sql: format!("(t.{done} IS NOT NULL AND t.{done} <= {})", plan.at),
                params: vec![],
            });
        }
        let cond = conds.into_iter().reduce(|a, b| {
            let mut params = a.params;
            params.extend(b.params);
            Fragment { sql: format!("({}) AND ({})", a.sql, b.sql), params }
        });
        slot_filters.push(cond);
        let of = match &slot.of {
            None => None,
            Some(e) => {
                let c = compile(e, scope, env).map_err(|e| input("of", e.message))?;
                Some(c.fragment)
            }
        };
        slot_ofs.push(of);
    }
    Ok((slot_filters, slot_ofs))
}

/// The select list's aggregates, one (or two, for an average) per slot: each with its own
/// `FILTER` unless the filter is shared by all and applied in the `WHERE`; a values scan selects
/// each row's value instead.
fn push_aggregates(
    b: &mut Builder,
    scan: &Scan,
    slot_filters: &[Option<Fragment>],
    slot_ofs: &[Option<Fragment>],
    shared_filter: bool,
) -> Result<(), Error> {
    for (idx, slot) in scan.slots.iter().enumerate() {
        let filter = if shared_filter { None } else { slot_filters[idx].clone() };
        let of = slot_ofs[idx].clone();
        let mut weighted_of = of.clone();
        if slot.weighted {
            weighted_of = weighted_of.map(|f| Fragment {
                sql: format!(
                    "({}) * COALESCE((SELECT sp.p FROM sp WHERE sp.id = COALESCE((SELECT sc.stage_id \
                     FROM stage_changes sc WHERE sc.deal_id = t.id AND sc.changed_at <= b.s \
                     ORDER BY sc.changed_at DESC LIMIT 1), t.stage_id)), 0)",
                    f.sql
                ),
                params: f.params,
            });
        }
        let filtered = |b: &mut Builder, call: &str, arg: Option<Fragment>| {
            b.push(", ");
            b.push(call);
            b.push("(");
            match arg {
                Some(a) => b.fragment(a),
                None => b.push("*"),
            }
            b.push(")");
            if let Some(f) = filter.clone() {
                b.push(" FILTER (WHERE ");
                b.fragment(f);
                b.push(")");
            }
        };
        // SQLite's SUM stops with "integer overflow" past i64; TOTAL adds in floating point
        // and never does (the figures are read as f64 anyway). NULL when nothing was added, as
        // SUM answers.
        let sum = |b: &mut Builder, arg: Option<Fragment>| {
            let Some(arg) = arg else { return filtered(b, "SUM", None) };
            b.push(", CASE WHEN COUNT(");
            b.fragment(arg.clone());
            b.push(")");
            if let Some(f) = filter.clone() {
                b.push(" FILTER (WHERE ");
                b.fragment(f);
                b.push(")");
            }
            b.push(" > 0 THEN TOTAL(");
            b.fragment(arg);
            b.push(")");
            if let Some(f) = filter.clone() {
                b.push(" FILTER (WHERE ");
                b.fragment(f);
                b.push(")");
            }
            b.push(" END");
        };
        if scan.values {
            b.push(", CASE WHEN ");
            match filter.clone() {
                Some(f) => b.fragment(f),
                None => b.push("1"),
            }
            b.push(" THEN ");
            match of {
                Some(f) => b.fragment(f),
                None => b.push("1"),
            }
            b.push(" END");
            continue;
        }
        match slot.agg {
            Agg::Count => filtered(b, "COUNT", None),
            Agg::CountDistinct => {
                b.push(", COUNT(DISTINCT ");
                if let Some(a) = of {
                    b.fragment(a);
                }
                b.push(")");
                if let Some(f) = filter.clone() {
                    b.push(" FILTER (WHERE ");
                    b.fragment(f);
                    b.push(")");
                }
            }
            Agg::Sum => sum(b, weighted_of),
            Agg::Avg => {
                sum(b, weighted_of.clone());
                filtered(b, "COUNT", weighted_of);
            }
            Agg::Min => filtered(b, "MIN", of),
            Agg::Max => filtered(b, "MAX", of),
            Agg::Median | Agg::Percentile(_) | Agg::TrimmedMean => {
                return Err(Input::OrderStatisticInAggregate.into());
            }
        }
    }
    Ok(())
}

/// A snapshot's join: one instant per bucket (its end cut to the range, or the clock if
/// earlier) and the records alive at it.
fn snapshot_join(plan: &Plan, start: Option<&str>, end: Option<&str>) -> String {
    // One instant per bucket: its end cut to the range, or the clock if earlier; buckets
    // that start at or after the clock have no state yet.
    let mut values = String::new();
    for (idx, bucket) in plan.buckets.list.iter().enumerate() {
        if bucket.start.max(plan.buckets.lo) >= plan.at {
            continue;
        }
        let instant = bucket.end.min(plan.buckets.hi).min(plan.at);
        if !values.is_empty() {
            values.push_str(", ");
        }
        let _ = write!(values, "({idx}, {instant})");
    }
    if values.is_empty() {
        values.push_str("(0, NULL)");
    }
    // A record counts from its start on, until its end if it has one; a state source's
    // rows are computed as of each instant.
    let on = match (start, end) {
        (Some(start), Some(end)) => {
            format!("t.{start} < b.s AND (t.{end} IS NULL OR t.{end} >= b.s)")
        }
        (Some(start), None) => format!("t.{start} < b.s"),
        _ => "b.s IS NOT NULL".to_string(),
    };
    format!(" JOIN (SELECT column1 AS k, column2 AS s FROM (VALUES {values})) b ON {on}")
}

/// Only rows that some slot counts, so that a group exists only where there is data: the slots'
/// conditions joined by OR, when every slot has one (not for snapshots).
fn any_slot_condition(
    slot_filters: &[Option<Fragment>],
    shared_filter: bool,
    snapshot: bool,
) -> Option<Fragment> {
    let mut any: Vec<Fragment> = slot_filters.iter().flatten().cloned().collect();
    if shared_filter {
        any.truncate(1);
    }
    if !snapshot && !any.is_empty() && (shared_filter || any.len() == slot_filters.len()) {
        let mut sql = String::new();
        let mut params = Vec::new();
        for (idx, f) in any.into_iter().enumerate() {
            if idx > 0 {
                sql.push_str(" OR ");
            }
            let _ = write!(sql, "({})", f.sql);
            params.extend(f.params);
        }
        return Some(Fragment { sql, params });
    }
    None
}

/// The statement of a retention scan: the distinct values of `of` (with the dimensions) in the
/// bucket before each bucket (`p`, whole calendar buckets) and in the bucket itself (`c`, cut by
/// the range), matched on value, dimensions and bucket; per bucket the count of `p`, and of `p`
/// matched (kept) or not (lost).
fn retention_statement(
    plan: &Plan,
    scan: &Scan,
    time: &str,
    of: &crate::expr::Expr,
    filter: Option<&crate::expr::Expr>,
    env: &Env,
) -> Result<Statement, Error> {
    if plan.buckets.grain == Grain::All {
        return Err(Input::NeedsGrain { metric: plan.metric.name.clone() }.into());
    }
    let source = scan.source;
    let is_date = field_ty(scan, time)? == Ty::Date;
    if is_date && plan.buckets.grain == Grain::Hour {
        return Err(Input::PlacedByDate {
            metric: plan.metric.name.clone(),
            entity: source.name().to_string(),
            field: time.to_string(),
        }
        .into());
    }
    let before = lagged_buckets(&plan.buckets, 1, &env.zone)?;
    let side = |buckets: &Buckets, b: &mut Builder| -> Result<(), Error> {
        let scope = SourceScope::placed(
            source,
            Placed::Field {
                field: time.to_string(),
                is_date,
                buckets: buckets.clone(),
                zone: env.zone.clone(),
            },
        );
        let value = compile(of, &scope, env).map_err(|e| input("of", e.message))?;
        let mut conds =
            vec![Fragment { sql: range_sql(time, scan, buckets, env)?, params: vec![] }];
        if let Some(f) = filter {
            conds.push(compile_condition(f, &scope, env).map_err(|e| input("filter", e.message))?);
        }
        if let Some(c) = plan.filter.compile(&scope, env).map_err(|err| where_error(plan, err))? {
            conds.push(c);
        }
        let mut joins: Vec<Join> = scope.joins.borrow().clone();
        let mut dims = String::new();
        for (idx, name) in plan.dims.iter().enumerate() {
            let dim = source.dim(name).ok_or_else(|| {
                Error::from(Input::ByNotInScan {
                    dim: name.to_string(),
                    metric: plan.metric.name.clone(),
                })
            })?;
            if let Some(j) = dim.join {
                joins.push(j);
            }
            let _ = write!(dims, ", {} AS d{idx}", dim.sql);
        }
        let (key, _) = key_sql(time, scan, buckets, env)?;
        b.push(&format!("(SELECT DISTINCT {key} AS b{dims}, "));
        b.fragment(value.fragment);
        b.push(" AS v FROM ");
        b.push(&source.from_sql(plan.at, Some((buckets.lo, buckets.hi))));
        b.push(&source.joins_sql(&joins, plan.at));
        for (idx, c) in conds.into_iter().enumerate() {
            b.push(if idx == 0 { " WHERE (" } else { " AND (" });
            b.fragment(c);
            b.push(")");
        }
        b.push(")");
        Ok(())
    };
    let mut b = Builder { sql: String::new(), params: Vec::new() };
    b.push("SELECT p.b");
    for idx in 0..plan.dims.len() {
        let _ = write!(b.sql, ", p.d{idx}");
    }
    for slot in &scan.slots {
        b.push(match slot.retained {
            Some(Retained::Kept) => ", COUNT(c.v)",
            Some(Retained::Lost) => ", COUNT(*) - COUNT(c.v)",
            _ => ", COUNT(*)",
        });
    }
    b.push(" FROM ");
    side(&before, &mut b)?;
    b.push(" p LEFT JOIN ");
    side(&plan.buckets, &mut b)?;
    b.push(" c ON c.b = p.b AND c.v = p.v");
    for idx in 0..plan.dims.len() {
        let _ = write!(b.sql, " AND c.d{idx} IS p.d{idx}");
    }
    b.push(" WHERE p.v IS NOT NULL GROUP BY 1");
    for idx in 0..plan.dims.len() {
        let _ = write!(b.sql, ", {}", idx + 2);
    }
    Ok(Statement {
        sql: b.sql,
        params: b.params,
        key: KeyKind::Index,
        buckets: plan.buckets.clone(),
        ranged: None,
    })
}

/// A `where` that does not compile against a scan's source; when the metric reads several
/// sources, the message says the filter must apply to all of them.
fn where_error(plan: &Plan, mut err: crate::filter::FilterError) -> Error {
    let mut sources: Vec<&str> = plan.scans.iter().map(|s| s.source.name()).collect();
    sources.dedup();
    sources.sort_unstable();
    sources.dedup();
    err.note = if sources.len() > 1 {
        format!(
            " ({} reads {}: a where applies to every one of them, so it may name only what they all have)",
            plan.metric.name,
            sources.join(" and ")
        )
    } else {
        String::new()
    };
    Error::Where(err)
}

fn field_ty(scan: &Scan, field: &str) -> Result<Ty, Error> {
    scan.source
        .field(field)
        .map(|(ty, _)| ty)
        .ok_or_else(|| Error::from(Input::UnknownTimeField { field: field.to_string() }))
}

/// `t.field >= lo AND t.field < hi`, for instants or dates.
fn range_sql(field: &str, scan: &Scan, buckets: &Buckets, env: &Env) -> Result<String, Error> {
    let is_date = field_ty(scan, field)? == Ty::Date;
    buckets::range_sql(&format!("t.{field}"), is_date, buckets.lo, buckets.hi, &env.zone)
}

/// The SQL giving a row's bucket key.
fn key_sql(
    field: &str,
    scan: &Scan,
    buckets: &Buckets,
    env: &Env,
) -> Result<(String, KeyKind), Error> {
    let is_date = field_ty(scan, field)? == Ty::Date;
    buckets::key_sql(&format!("t.{field}"), is_date, buckets, &env.zone)
}

/// `weekday` (1 = Monday … 7) and `hour_of_day` (0–23) of the scan's time field, local.
fn time_dim_sql(name: &str, scan: &Scan, buckets: &Buckets, env: &Env) -> Result<String, Error> {
    let Placement::Field(field) = &scan.placement else {
        return Err(Input::TimeDimOfSnapshot { dim: name.to_string() }.into());
    };
    let column = format!("t.{field}");
    let is_date = field_ty(scan, field)? == Ty::Date;
    // 1970-01-01 was a Thursday (ISO weekday 4).
    match (name, is_date) {
        ("weekday", true) => Ok(format!("((({}) % 7 + 7 + 3) % 7 + 1)", epoch_day_sql(&column))),
        ("hour_of_day", true) => Ok("0".into()),
        ("weekday", false) => {
            let local = local_sql(&column, buckets, &env.zone)?;
            Ok(format!("((({local} / {DAY_US}) % 7 + 7 + 3) % 7 + 1)"))
        }
        ("hour_of_day", false) => {
            let local = local_sql(&column, buckets, &env.zone)?;
            Ok(format!("((({local} % {DAY_US}) + {DAY_US}) % {DAY_US} / {HOUR_US})"))
        }
        _ => Err(Input::TimeDimNotFor {
            dim: name.to_string(),
            entity: scan.source.name().to_string(),
        }
        .into()),
    }
}

/// Runs a scan's statement and collects its rows by key. The rows come from the store's query
/// cache when no table the statement reads has changed since it last ran.
pub fn run_scan(
    store: &dyn traction_store::Backend,
    plan: &Plan,
    scan: &Scan,
    statement: &Statement,
    zone: &TimeZone,
) -> Result<ScanRows, Error> {
    let started = std::time::Instant::now();
    let params: Vec<SqlValue> = statement.params.iter().map(Param::sql_value).collect();
    let rows = store.query_cached(&statement.sql, &params, statement.ranged.as_ref())?;
    let n_dims = plan.dims.len();
    let buckets = &statement.buckets;
    let mut out: ScanRows = HashMap::new();
    let mut day_cache: HashMap<i64, Option<usize>> = HashMap::new();
    for row in rows.iter() {
        let Some(raw_key) = integer(&row[0]) else { continue };
        let bucket = match statement.key {
            KeyKind::Index => usize::try_from(raw_key).ok().filter(|k| *k < buckets.list.len()),
            KeyKind::EpochDay => *day_cache.entry(raw_key).or_insert_with(|| {
                let date = buckets::date_of_epoch_day(raw_key)?;
                let instant = traction_domain::time::start_of_day(date, zone).ok()?;
                buckets.find(instant)
            }),
        };
        let Some(bucket) = bucket else { continue };
        let mut dims = Vec::with_capacity(n_dims);
        for idx in 0..n_dims {
            dims.push(match &row[idx + 1] {
                SqlValue::Null => DimValue::Null,
                SqlValue::Integer(n) => DimValue::Int(*n),
                SqlValue::Real(x) => DimValue::Text(x.to_string()),
                SqlValue::Text(s) => DimValue::Text(s.clone()),
                SqlValue::Blob(_) => DimValue::Null,
            });
        }
        let entry = out
            .entry((bucket, dims))
            .or_insert_with(|| vec![SlotValue::default(); scan.slots.len()]);
        let mut col = n_dims + 1;
        for (idx, slot) in scan.slots.iter().enumerate() {
            let value = number(&row[col]);
            col += 1;
            if scan.values {
                if let Some(v) = value {
                    entry[idx].values.push(v);
                }
                continue;
            }
            // A key may arrive twice when two local hours share a bucket key: add them up.
            match slot.agg {
                Agg::Avg => {
                    let count = number(&row[col]);
                    col += 1;
                    entry[idx].a = add(entry[idx].a, value);
                    entry[idx].b = add(entry[idx].b, count);
                }
                Agg::Min => entry[idx].a = pick(entry[idx].a, value, f64::min),
                Agg::Max => entry[idx].a = pick(entry[idx].a, value, f64::max),
                _ => entry[idx].a = add(entry[idx].a, value),
            }
        }
    }
    tracing::debug!(
        target: "traction_metrics::sql",
        ms = started.elapsed().as_secs_f64() * 1e3,
        keys = out.len(),
        sql = %statement.sql,
        "scan"
    );
    Ok(out)
}

fn number(value: &SqlValue) -> Option<f64> {
    match value {
        SqlValue::Integer(n) => Some(*n as f64),
        SqlValue::Real(x) => Some(*x),
        _ => None,
    }
}

fn integer(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Integer(n) => Some(*n),
        _ => None,
    }
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, None) => x,
        (None, y) => y,
    }
}

fn pick(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::plan::{Query, plan};

    /// The generated SQL, for a reviewer's eye: one pass over deals, the bucket by a balanced
    /// `CASE` over month starts, the owner's team by a join, literals as parameters.
    #[test]
    fn a_ratio_by_month_and_team_is_one_statement() {
        let catalog = Catalog::builtin();
        let zone = TimeZone::UTC;
        // 2026-01-01, 2026-02-01, 2026-03-01 and 2026-04-01 at 00:00Z, in microseconds.
        let (jan, feb, mar, apr) = (
            1_767_225_600_000_000,
            1_769_904_000_000_000i64,
            1_772_323_200_000_000i64,
            1_775_001_600_000_000,
        );
        let mut query = Query::new("win_rate", jan, apr, Grain::Month, apr);
        query.by = vec!["team".into()];
        query.filter = crate::Filter::parse("amount >= 100").unwrap();
        let buckets = Buckets::new(Grain::Month, jan, apr, &zone).unwrap();
        let plan = plan(&catalog, &query, buckets).unwrap();
        assert_eq!(plan.scans.len(), 1);
        let env = Env::default();
        let st = statement(&plan, &plan.scans[0], &env).unwrap();
        assert_eq!(
            st.sql,
            format!(
                "SELECT CASE WHEN t.closed_at < {feb} THEN 0 ELSE CASE WHEN t.closed_at < {mar} THEN 1 ELSE 2 END END, \
                 du.team_id, COUNT(*) FILTER (WHERE (t.status) = (?)), \
                 COUNT(*) FILTER (WHERE (t.status) IN (?, ?)) \
                 FROM deals t LEFT JOIN users du ON du.id = t.owner_id \
                 WHERE (t.closed_at >= {jan} AND t.closed_at < {apr}) AND ((t.amount) >= (?)) \
                 AND (((t.status) = (?)) OR ((t.status) IN (?, ?))) GROUP BY 1, 2"
            )
        );
        // One measure: its filter is the WHERE clause, tested once per row.
        query.metric = "deals_won".into();
        let buckets = Buckets::new(Grain::Month, jan, apr, &zone).unwrap();
        let won = crate::plan::plan(&catalog, &query, buckets).unwrap();
        let sql = statement(&won, &won.scans[0], &env).unwrap().sql;
        assert!(sql.contains(", COUNT(*) FROM deals t") && !sql.contains("FILTER"), "{sql}");
        let text = |s: &str| Param::Text(s.into());
        assert_eq!(
            st.params,
            [
                text("won"),
                text("won"),
                text("lost"),
                Param::Int(10_000),
                text("won"),
                text("won"),
                text("lost")
            ]
        );
    }
}
