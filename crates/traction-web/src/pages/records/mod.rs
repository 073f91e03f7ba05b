//! The record pages (interfaces.md, Web application: customers & orders, products & stock,
//! campaigns & costs): lists with filters and one page per record. Read-only.
//!
//! Lists come from the store in pages — newest first by the entity's time field
//! ([`Store::recent`]) or in key order ([`Store::list`]) — with the filters in the URL and a
//! "next page" link that carries a cursor (`before=TIME~ID`, or `after=ID` in key order), so a
//! page never shifts while records are added. Figures (revenue, orders, costs, leads and revenue
//! won per campaign) come from the metrics engine, the same definitions the API and the CLI use.

mod campaigns;
mod customers;
mod orders;
mod products;

pub use campaigns::{campaign, campaigns, costs};
pub use customers::{customer, customers};
pub use orders::{order, orders};
pub use products::{product, products};

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use jiff::ToSpan;
use jiff::civil::Date;
use maud::{Markup, html};
use traction_domain::schema::{COST_CATEGORIES, FieldType, ORDER_STATUSES};
use traction_domain::time::{Micros, parse_date};
use traction_domain::{Entity, Record, Value};
use traction_metrics::buckets::Buckets;
use traction_metrics::catalog::Unit;
use traction_metrics::{DimValue, Filter, Grain, Query};
use traction_server::AppState;
use traction_store::{Backend, CmpOp, ListQuery, Predicate};

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, encode, respond};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// How many related records a record page shows of each kind.
const RELATED: usize = 20;
/// The end of "all time" for figures (2100-01-01): records are never placed later.
pub(super) const END_OF_TIME: Micros = 4_102_444_800_000_000;

// ---------------------------------------------------------------------------------------------
// Parameters

/// Refuses parameters a page does not take (a typo would otherwise silently show everything).
pub(super) fn allow(params: &Params, allowed: &[&str], page: &str) -> Result<()> {
    for (key, _) in &params.0 {
        if !allowed.contains(&key.as_str()) {
            return Err(WebError::bad(format!(
                "unknown parameter {key:?}: {page} takes {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// `limit=N`: 1 to 200, 50 when absent.
pub(super) fn limit_param(params: &Params) -> Result<usize> {
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => t.trim().parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            WebError::bad(format!("limit: {t:?} is not a number from 1 to {MAX_LIMIT}"))
        }),
    }
}

/// A date parameter (`YYYY-MM-DD`).
fn date_param(params: &Params, key: &str) -> Result<Option<Date>> {
    params
        .get(key)
        .map(|t| parse_date(t.trim()).map_err(|e| WebError::bad(format!("{key}: {e}"))))
        .transpose()
}

/// `from` and `to` (both days included); `to` before `from` is a mistake worth saying.
pub(super) fn date_range(params: &Params) -> Result<(Option<Date>, Option<Date>)> {
    let from = date_param(params, "from")?;
    let to = date_param(params, "to")?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(WebError::bad(format!("to ({t}) is before from ({f})")));
    }
    Ok((from, to))
}

/// A free-text category filter, normalised as stored (trimmed, lower-cased).
fn category_param(params: &Params, key: &str) -> Option<String> {
    params.get(key).map(|t| t.trim().to_lowercase())
}

/// An enum filter: one of `allowed`.
fn enum_param(params: &Params, key: &str, allowed: &[&str]) -> Result<Option<String>> {
    match params.get(key) {
        None => Ok(None),
        Some(t) => {
            let v = t.trim().to_lowercase();
            if allowed.contains(&v.as_str()) {
                Ok(Some(v))
            } else {
                Err(WebError::bad(format!("{key}: {t:?} is not one of {}", allowed.join(", "))))
            }
        }
    }
}

/// A reference filter: the id of an existing record of `entity`.
pub(super) fn ref_param(
    store: &dyn Backend,
    params: &Params,
    key: &str,
    entity: Entity,
) -> Result<Option<String>> {
    match params.get(key) {
        None => Ok(None),
        Some(id) => match store.get(entity, &[Value::Text(id.to_string())])? {
            Some(_) => Ok(Some(id.to_string())),
            None => Err(WebError::bad(format!("{key}: there is no {} {id:?}", singular(entity)))),
        },
    }
}

pub(super) fn singular(entity: Entity) -> &'static str {
    match entity {
        Entity::Accounts => "customer",
        Entity::Users => "user",
        Entity::Campaigns => "campaign",
        Entity::Products => "product",
        Entity::Orders => "order",
        Entity::Deals => "deal",
        Entity::Leads => "lead",
        Entity::Contacts => "contact",
        _ => "record",
    }
}

/// The cursor of a newest-first list: `before=TIME~ID`, TIME being microseconds for a
/// timestamp field and `YYYY-MM-DD` for a date field.
pub(super) fn before_param(
    params: &Params,
    entity: Entity,
    time_field: &str,
) -> Result<Option<Vec<Value>>> {
    let Some(text) = params.get("before") else { return Ok(None) };
    let bad = || WebError::bad("before: not a page cursor — follow the “Next page” link instead");
    let (time, id) = text.split_once('~').ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    let ty = entity.field(time_field).map(|f| f.ty);
    let time = match (time, ty) {
        ("", _) => Value::Null,
        (t, Some(FieldType::Date)) => Value::Date(parse_date(t).map_err(|_| bad())?),
        (t, _) => Value::Instant(t.parse().map_err(|_| bad())?),
    };
    Ok(Some(vec![time, Value::Text(id.to_string())]))
}

/// The cursor of `record` for the next page of a newest-first list.
pub(super) fn before_value(record: &Record, time_field: &str) -> String {
    let time = match record.get(time_field) {
        Value::Instant(t) => t.to_string(),
        Value::Date(d) => d.to_string(),
        _ => String::new(),
    };
    format!("{time}~{}", text(record, "id"))
}

/// The page's URL with the cursor replaced.
pub(super) fn page_link(path: &str, params: &Params, cursor: (&str, &str)) -> String {
    let mut parts: Vec<String> = params
        .0
        .iter()
        .filter(|(k, v)| k != "before" && k != "after" && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    parts.push(format!("{}={}", cursor.0, encode(cursor.1)));
    format!("{path}?{}", parts.join("&"))
}

/// A list's URL with the filters `set` (an empty value removes one), the others kept and the
/// paging dropped: what a click on a value in a list leads to.
pub(super) fn filter_link(path: &str, params: &Params, set: &[(&str, &str)]) -> String {
    let mut parts: Vec<String> = params
        .0
        .iter()
        .filter(|(k, v)| {
            !v.trim().is_empty()
                && k != "before"
                && k != "after"
                && k != "skip"
                && !set.iter().any(|(s, _)| s == k)
        })
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    parts.extend(
        set.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))),
    );
    if parts.is_empty() { path.to_string() } else { format!("{path}?{}", parts.join("&")) }
}

/// Whether any of `keys` is set (to tell "nothing matches" from "nothing yet").
pub(super) fn filtered(params: &Params, keys: &[&str]) -> bool {
    keys.iter().any(|k| params.get(k).is_some())
}

/// The `[from, to)` instants of inclusive local days (all time where open).
pub(super) fn day_span(from: Option<Date>, to: Option<Date>, ws: &Ws) -> Result<(Micros, Micros)> {
    let lo = from.map(|d| sod(d, &ws.zone)).transpose()?.unwrap_or(0);
    let hi = match to {
        Some(d) => {
            sod(d.checked_add(1.day()).map_err(|e| WebError::bad(format!("to: {e}")))?, &ws.zone)?
        }
        None => END_OF_TIME,
    };
    Ok((lo, hi))
}

/// What the caller may read of an owned entity (authz: a rep their own records, a manager
/// their teams'; `owners` is `None` for everything), as a condition for the store.
pub(super) struct ReadScope {
    owners: Option<Vec<String>>,
    predicate: Option<Predicate>,
}

impl ReadScope {
    pub(super) fn condition(&self) -> Option<&Predicate> {
        self.predicate.as_ref()
    }

    /// This scope and further conditions, as one (`None`: no condition at all).
    pub(super) fn and(&self, more: Vec<Predicate>) -> Option<Predicate> {
        Predicate::all(more.into_iter().chain(self.predicate.clone()))
    }
}

pub(super) fn read_scope(req: &Req, entity: Entity) -> ReadScope {
    let owners = req.principal.as_deref().and_then(|p| p.owners()).map(<[String]>::to_vec);
    let predicate = owners.as_deref().and_then(|o| traction_store::owner_predicate(entity, o));
    ReadScope { owners, predicate }
}

/// A record the caller may not read is answered as if it did not exist.
pub(super) fn check_visible(
    store: &dyn Backend,
    req: &Req,
    record: &Record,
    entity: Entity,
    id: &str,
) -> Result<()> {
    if let Some(p) = req.principal.as_deref()
        && !traction_server::auth::authz::visible(p, store, record)?
    {
        return Err(WebError::not_found(format!("There is no {} {id:?}.", singular(entity))));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Display

pub(super) fn link(base: &str, id: &str) -> String {
    format!("{base}/{}", encode(id))
}

/// Minor units as money for people.
pub(super) fn minor(ws: &Ws, value: Option<i64>) -> String {
    match value {
        Some(m) => ws.money_minor(m),
        None => "–".into(),
    }
}

pub(super) fn money_field(ws: &Ws, r: &Record, field: &str) -> String {
    minor(ws, r.get(field).as_int())
}

pub(super) fn when(ws: &Ws, r: &Record, field: &str) -> String {
    instant(r, field).map_or_else(|| "–".into(), |t| ws.when(t))
}

pub(super) fn day_of(ws: &Ws, r: &Record, field: &str) -> String {
    match r.get(field) {
        Value::Instant(t) => ws.day(*t),
        Value::Date(d) => d.strftime("%-d %b %Y").to_string(),
        _ => "–".into(),
    }
}

pub(super) fn or_dash(s: &str) -> &str {
    if s.is_empty() { "–" } else { s }
}

/// A status as a tag: good and bad outcomes coloured, and always the word.
pub(super) fn tag(status: &str) -> Markup {
    let class = match status {
        "fulfilled" | "won" | "converted" | "qualified" | "restock" => "tag good",
        "cancelled" | "returned" | "lost" | "disqualified" | "reorder" => "tag bad",
        _ => "tag",
    };
    html! { span class=(class) { (or_dash(status)) } }
}

/// The "next page" link, when there is one.
pub(super) fn pager(next: Option<String>) -> Markup {
    html! {
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a href=(href) rel="next" { "Next page →" } }
        }
    }
}

/// A metric over `[from, to)` with a filter, as one value; `None` when the catalog lacks it.
fn figure(
    state: &AppState,
    metric: &str,
    filter: Filter,
    (from, to): (Micros, Micros),
    at: Micros,
) -> Result<Option<f64>> {
    if state.catalog.get(metric).is_none() {
        return Ok(None);
    }
    let mut q = Query::new(metric, from, to, Grain::All, at);
    q.filter = filter;
    Ok(traction_metrics::run(&*state.store, &state.catalog, &q)?.rows.first().and_then(|r| r.value))
}

/// A metric over all time by one dimension whose values are ids: id → value.
fn figures_by(
    state: &AppState,
    metric: &str,
    dim: &str,
    filter: Filter,
    at: Micros,
) -> Result<Option<BTreeMap<String, f64>>> {
    if state.catalog.get(metric).is_none() {
        return Ok(None);
    }
    let mut q = Query::new(metric, 0, END_OF_TIME, Grain::All, at);
    q.by = vec![dim.to_string()];
    q.filter = filter;
    let mut out = BTreeMap::new();
    for row in traction_metrics::run(&*state.store, &state.catalog, &q)?.rows {
        let key = match row.dims.first() {
            Some(DimValue::Text(t)) => t.clone(),
            Some(DimValue::Int(n)) => n.to_string(),
            _ => String::new(),
        };
        if let Some(v) = row.value {
            out.insert(key, v);
        }
    }
    Ok(Some(out))
}

/// A metric over `[from, to)` by month with a filter: bucket label → value (empty when the
/// catalog lacks the metric).
fn per_month(
    state: &AppState,
    metric: &str,
    filter: Filter,
    (from, to): (Micros, Micros),
    at: Micros,
) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    if state.catalog.get(metric).is_none() {
        return Ok(out);
    }
    let mut q = Query::new(metric, from, to, Grain::Month, at);
    q.filter = filter;
    for row in traction_metrics::run(&*state.store, &state.catalog, &q)?.rows {
        if let (Some(period), Some(value)) = (row.period, row.value) {
            out.insert(period, value);
        }
    }
    Ok(out)
}

/// The last twelve months up to the one holding `at`: `[start, end)` and the buckets.
fn last_months(ws: &Ws, at: Micros) -> Result<(Micros, Micros, Buckets)> {
    let first_this = ws.today(at).first_of_month();
    let from = first_this.checked_sub(11.months()).map_err(|e| WebError::bad(e.to_string()))?;
    let to = first_this.checked_add(1.month()).map_err(|e| WebError::bad(e.to_string()))?;
    let (from, to) = (sod(from, &ws.zone)?, sod(to, &ws.zone)?);
    Ok((from, to, Buckets::new(Grain::Month, from, to, &ws.zone)?))
}

/// A bar chart of one value per month.
fn month_chart(
    title: &str,
    unit: Unit,
    buckets: &Buckets,
    values: &BTreeMap<String, f64>,
    ws: &Ws,
) -> Markup {
    let labels: Vec<String> =
        buckets.list.iter().map(|b| b.label.clone().unwrap_or_default()).collect();
    let chart = Chart {
        title: title.to_string(),
        unit,
        labels: labels.clone(),
        series: vec![Series {
            name: title.to_string(),
            values: labels.iter().map(|l| Some(values.get(l).copied().unwrap_or(0.0))).collect(),
            style: Style::Main(0),
        }],
        bars: true,
        wide: false,
    };
    chart::chart(&chart, &ws.fmt)
}

/// One record by id, or a 404 page that says what was asked for.
pub(super) fn find(store: &dyn Backend, entity: Entity, id: &str) -> Result<Record> {
    store
        .get(entity, &[Value::Text(id.to_string())])?
        .ok_or_else(|| WebError::not_found(format!("There is no {} {id:?}.", singular(entity))))
}
