//! The record pages (interfaces.md, Web application: customers & orders, products & stock,
//! campaigns & costs): lists with filters and one page per record. Read-only.
//!
//! Lists come from the store in pages — newest first by the entity's time field
//! ([`Store::recent`]) or in key order ([`Store::list`]) — with the filters in the URL and a
//! "next page" link that carries a cursor (`before=TIME~ID`, or `after=ID` in key order), so a
//! page never shifts while records are added. Figures (revenue, orders, costs, leads and revenue
//! won per campaign) come from the metrics engine, the same definitions the API and the CLI use.

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
use traction_store::{Condition, ListQuery, SqliteStore, Store};

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, blocking, encode, render};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// How many related records a record page shows of each kind.
const RELATED: usize = 20;
/// The end of "all time" for figures (2100-01-01): records are never placed later.
pub(super) const END_OF_TIME: Micros = 4_102_444_800_000_000;

pub async fn customers(
    State(state): State<AppState>,
    req: Req,
    params: Params,
) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(customers_page(&state, &req, &params, now)?))).await
}

pub async fn customer(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(customer_page(&state, &req, &params, &id, now)?))).await
}

pub async fn orders(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    blocking(move || Ok(render(orders_page(&state, &req, &params)?))).await
}

pub async fn order(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    blocking(move || Ok(render(order_page(&state, &req, &params, &id)?))).await
}

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
    store: &SqliteStore,
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
    sql: Option<String>,
    params: Vec<Value>,
}

impl ReadScope {
    pub(super) fn condition(&self) -> Option<Condition<'_>> {
        self.sql.as_deref().map(|sql| Condition { sql, params: &self.params })
    }

    /// This scope and further conditions, as one.
    pub(super) fn and(&self, mut sql: Vec<String>, mut params: Vec<Value>) -> (String, Vec<Value>) {
        if let Some(s) = &self.sql {
            sql.push(format!("({s})"));
            params.extend(self.params.iter().cloned());
        }
        (sql.join(" AND "), params)
    }
}

pub(super) fn read_scope(req: &Req, entity: Entity) -> ReadScope {
    let owners = req.principal.as_deref().and_then(|p| p.owners()).map(<[String]>::to_vec);
    let sql = owners.as_ref().and_then(|o| traction_store::owner_condition(entity, o.len()));
    let params = match (&owners, &sql) {
        (Some(o), Some(_)) => o.iter().map(|id| Value::Text(id.clone())).collect(),
        _ => Vec::new(),
    };
    ReadScope { owners, sql, params }
}

/// A record the caller may not read is answered as if it did not exist.
pub(super) fn check_visible(
    store: &SqliteStore,
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
        Some(m) => ws.fmt.money(m as f64 / ws.workspace.currency.minor_per_major() as f64),
        None => "–".into(),
    }
}

pub(super) fn money_field(ws: &Ws, r: &Record, field: &str) -> String {
    money(r, field, ws).map_or_else(|| "–".into(), |x| ws.fmt.money(x))
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
    Ok(traction_metrics::run(&state.store, &state.catalog, &q)?.rows.first().and_then(|r| r.value))
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
    for row in traction_metrics::run(&state.store, &state.catalog, &q)?.rows {
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

/// Names of the customers of some records, looked up once each.
fn account_names<'a>(
    store: &SqliteStore,
    records: impl Iterator<Item = &'a Record>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for r in records {
        let id = text(r, "account_id");
        if id.is_empty() || out.contains_key(id) {
            continue;
        }
        if let Some(a) = store.get(Entity::Accounts, &[Value::Text(id.to_string())])? {
            out.insert(id.to_string(), text(&a, "name").to_string());
        }
    }
    Ok(out)
}

/// One record by id, or a 404 page that says what was asked for.
pub(super) fn find(store: &SqliteStore, entity: Entity, id: &str) -> Result<Record> {
    store
        .get(entity, &[Value::Text(id.to_string())])?
        .ok_or_else(|| WebError::not_found(format!("There is no {} {id:?}.", singular(entity))))
}

/// An order's lines and the total they add up to (quantity × unit price − discount each).
fn order_lines(store: &SqliteStore, order_id: &str) -> Result<(Vec<Record>, i64)> {
    let filters = [("order_id", Value::Text(order_id.to_string()))];
    let mut lines = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let page = store.list(
            Entity::OrderLines,
            &ListQuery { filters: &filters, condition: None, after: after.as_deref(), limit: 1000 },
        )?;
        let done = page.len() < 1000;
        after = page.last().map(|r| vec![r.get("order_id").clone(), r.get("line").clone()]);
        lines.extend(page);
        if done {
            break;
        }
    }
    let total = lines.iter().map(line_amount).sum();
    Ok((lines, total))
}

fn line_amount(line: &Record) -> i64 {
    let q = line.get("quantity").as_int().unwrap_or(0);
    let p = line.get("unit_price").as_int().unwrap_or(0);
    let d = line.get("discount").as_int().unwrap_or(0);
    q * p - d
}

/// An order's total: the stored one, else the sum of its lines.
fn order_total(store: &SqliteStore, order: &Record) -> Result<i64> {
    match order.get("total").as_int() {
        Some(t) => Ok(t),
        None => Ok(order_lines(store, text(order, "id"))?.1),
    }
}

// ---------------------------------------------------------------------------------------------
// Customers

fn customers_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(
        params,
        &["segment", "region", "owner", "q", "before", "limit", "sort", "skip"],
        "the customer list",
    )?;
    // `sort=revenue`: highest revenue of all time first (the catalog's `revenue` by account);
    // otherwise newest first.
    let by_revenue = match params.get("sort").map(str::trim) {
        None | Some("" | "newest") => false,
        Some("revenue") => true,
        Some(other) => {
            return Err(WebError::bad(format!(
                "sort: {other:?} is not an order of the list: use newest or revenue"
            )));
        }
    };
    let skip: usize = match params.get("skip") {
        None => 0,
        Some(t) => t.trim().parse().map_err(|_| {
            WebError::bad(format!("skip: {t:?} is not a count of customers to skip"))
        })?,
    };
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let limit = limit_param(params)?;
    let segment = category_param(params, "segment");
    let region = category_param(params, "region");
    let owner = ref_param(store, params, "owner", Entity::Users)?;
    let search = params.get("q").map(|q| q.trim().to_lowercase());
    let cursor = before_param(params, Entity::Accounts, "created_at")?;

    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = &segment {
        filters.push(("segment", Value::Text(s.clone())));
    }
    if let Some(r) = &region {
        filters.push(("region", Value::Text(r.clone())));
    }
    if let Some(o) = &owner {
        filters.push(("owner_id", Value::Text(o.clone())));
    }
    // A fixed condition; the searched text is only ever a parameter.
    let (sql, sql_params) = match &search {
        Some(q) => read_scope(req, Entity::Accounts)
            .and(vec!["instr(lower(name), ?) > 0".into()], vec![Value::Text(q.clone())]),
        None => read_scope(req, Entity::Accounts).and(Vec::new(), Vec::new()),
    };
    let condition = (!sql.is_empty()).then_some(Condition { sql: &sql, params: &sql_params });
    let (rows, next) = if by_revenue {
        let visible = |a: &Record| -> Result<bool> {
            let matches = |key: &str, want: &Option<String>| {
                want.as_ref().is_none_or(|w| a.get(key).as_text() == Some(w.as_str()))
            };
            let named = search.as_ref().is_none_or(|q| {
                a.get("name").as_text().is_some_and(|n| n.to_lowercase().contains(q.as_str()))
            });
            let readable = match req.principal.as_deref() {
                Some(p) => traction_server::auth::authz::visible(p, store, a)?,
                None => true,
            };
            Ok(matches("segment", &segment)
                && matches("region", &region)
                && matches("owner_id", &owner)
                && named
                && readable)
        };
        let mut ranking: Vec<(String, f64)> =
            figures_by(state, "revenue", "account", Filter::everything(), now)?
                .unwrap_or_default()
                .into_iter()
                .collect();
        // Highest first; equal revenue by id, so pages are stable.
        ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut rows = Vec::new();
        let mut seen = 0;
        for (id, _) in &ranking {
            let Some(a) = store.get(Entity::Accounts, &[Value::Text(id.clone())])? else {
                continue;
            };
            if !visible(&a)? {
                continue;
            }
            seen += 1;
            if seen > skip {
                rows.push(a);
            }
            if rows.len() > limit {
                break;
            }
        }
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            let mut parts: Vec<String> = params
                .0
                .iter()
                .filter(|(k, v)| k != "skip" && !v.trim().is_empty())
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            parts.push(format!("skip={}", skip + limit));
            format!("/customers?{}", parts.join("&"))
        });
        (rows, next)
    } else {
        let mut rows = store.recent(
            Entity::Accounts,
            "created_at",
            &ListQuery { filters: &filters, condition, after: cursor.as_deref(), limit: limit + 1 },
        )?;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            page_link(
                "/customers",
                params,
                ("before", &before_value(&rows[limit - 1], "created_at")),
            )
        });
        (rows, next)
    };

    // Per customer: orders and revenue of all time (the catalog's definitions: cancelled and
    // returned orders left out), and the latest order of any status.
    let order_scope = read_scope(req, Entity::Orders);
    let mut figures = Vec::with_capacity(rows.len());
    for a in &rows {
        let id = text(a, "id");
        let filter = Filter::text_is("account_id", id);
        let orders = figure(state, "orders", filter.clone(), (0, END_OF_TIME), now)?;
        let revenue = figure(state, "revenue", filter, (0, END_OF_TIME), now)?;
        let last = store.recent(
            Entity::Orders,
            "placed_at",
            &ListQuery {
                filters: &[("account_id", Value::Text(id.to_string()))],
                condition: order_scope.condition(),
                after: None,
                limit: 1,
            },
        )?;
        figures.push((orders, revenue, last.first().and_then(|o| instant(o, "placed_at"))));
    }
    let any = filtered(params, &["segment", "region", "owner", "q"]);
    let none_yet =
        rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Accounts)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Customers" }
            (super::edit::new_button(req, Entity::Accounts))
            " " (super::edit::new_button(req, Entity::Contacts))
            p.sub {
                @if by_revenue { "Highest revenue first (customers with a counted order)" } @else { "Newest customers first" }
                " · orders and revenue of all time, cancelled and returned orders left out"
            }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/customers" role="search" {
            label for="q" { "Name" }
            input type="search" id="q" name="q" value=[params.get("q")] placeholder="Search by name";
            label for="segment" { "Segment" }
            input type="text" id="segment" name="segment" value=[segment.as_deref()] size="10";
            label for="region" { "Region" }
            input type="text" id="region" name="region" value=[region.as_deref()] size="10";
            label for="owner" { "Owner" }
            select id="owner" name="owner" {
                option value="" { "Anyone" }
                (names.people_options(owner.as_deref(), false))
            }
            label for="sort" { "Order" }
            select id="sort" name="sort" {
                option value="newest" selected[!by_revenue] { "Newest first" }
                option value="revenue" selected[by_revenue] { "Highest revenue first" }
            }
            button type="submit" { "Show" }
            @if any { a href="/customers" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No customers yet — import accounts on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No customers match these filters — change or clear them.", Some(("/customers", "Show all customers"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Customer" } th scope="col" { "Segment" } th scope="col" { "Region" } th scope="col" { "Owner" }
                        th.num scope="col" { "Orders" } th.num scope="col" { "Revenue" } th.num scope="col" { "Last order" }
                    } }
                    tbody {
                        @for (a, (orders, revenue, last)) in rows.iter().zip(&figures) {
                            tr {
                                th scope="row" { a href=(link("/customers", text(a, "id"))) { (text(a, "name")) } }
                                td { (or_dash(text(a, "segment"))) }
                                td { (or_dash(text(a, "region"))) }
                                td { (or_dash(names.user(text(a, "owner_id")))) }
                                td.num { (ws.fmt.value(Unit::Count, orders.or(Some(0.0)))) }
                                td.num { (ws.fmt.value(Unit::Money, revenue.or(Some(0.0)))) }
                                td.num { (last.map_or_else(|| "–".to_string(), |t| ws.day(t))) }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Customers", Nav::Customers, body))
}

fn customer_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a customer's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let account = find(store, Entity::Accounts, id)?;
    check_visible(store, req, &account, Entity::Accounts, id)?;
    let by_account = [("account_id", Value::Text(id.to_string()))];
    let newest = |entity: Entity, time: &str| -> Result<Vec<Record>> {
        let scope = read_scope(req, entity);
        Ok(store.recent(
            entity,
            time,
            &ListQuery {
                filters: &by_account,
                condition: scope.condition(),
                after: None,
                limit: RELATED + 1,
            },
        )?)
    };
    let orders = newest(Entity::Orders, "placed_at")?;
    let deals = newest(Entity::Deals, "created_at")?;
    let contacts = newest(Entity::Contacts, "created_at")?;
    let surveys = newest(Entity::Surveys, "answered_at")?;
    let (next_step, timeline) = super::work::account_work(
        state,
        req,
        id,
        &deals[..deals.len().min(RELATED)],
        &contacts[..contacts.len().min(RELATED)],
        now,
    )?;
    let filter = Filter::text_is("account_id", id);
    let revenue = figure(state, "revenue", filter.clone(), (0, END_OF_TIME), now)?;
    let order_count = figure(state, "orders", filter.clone(), (0, END_OF_TIME), now)?;
    let revenue_won = figure(state, "revenue_won", filter.clone(), (0, END_OF_TIME), now)?;

    let (from, to, buckets) = last_months(&ws, now)?;
    let mut monthly = BTreeMap::new();
    if state.catalog.get("revenue").is_some() {
        let mut q = Query::new("revenue", from, to, Grain::Month, now);
        q.filter = filter;
        for row in traction_metrics::run(store, &state.catalog, &q)?.rows {
            if let (Some(p), Some(v)) = (row.period, row.value) {
                monthly.insert(p, v);
            }
        }
    }
    let mut order_totals = Vec::new();
    for o in orders.iter().take(RELATED) {
        order_totals.push(order_total(store, o)?);
    }
    let name = text(&account, "name");
    let more = |list: &[Record], href: Option<String>| -> Markup {
        html! {
            @if list.len() > RELATED {
                p.small { "The latest " (RELATED) " are shown." @if let Some(h) = href { " " a href=(h) { "See all" } } }
            }
        }
    };

    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/customers" { "Customers" } " · customer since " (day_of(&ws, &account, "created_at")) }
            (super::edit::actions(req, Entity::Accounts, id, Some("account_id")))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Facts" }
                dl.facts {
                    dt { "Segment" } dd { (or_dash(text(&account, "segment"))) }
                    dt { "Industry" } dd { (or_dash(text(&account, "industry"))) }
                    dt { "Region" } dd { (or_dash(text(&account, "region"))) }
                    dt { "Owner" } dd { (or_dash(names.user(text(&account, "owner_id")))) }
                    dt { "Orders" } dd.num { (ws.fmt.value(Unit::Count, order_count.or(Some(0.0)))) }
                    dt { "Revenue from orders" } dd.num { (ws.fmt.value(Unit::Money, revenue.or(Some(0.0)))) }
                    dt { "Revenue won from deals" } dd.num { (ws.fmt.value(Unit::Money, revenue_won.or(Some(0.0)))) }
                }
                p.small { "All time; cancelled and returned orders are left out." }
            }
            section.card aria-labelledby="rev-h" {
                h2 #rev-h { "Revenue per month" }
                p.sub { "Orders of the last twelve months" }
                (month_chart(&format!("Revenue per month from {name}"), Unit::Money, &buckets, &monthly, &ws))
            }
        }
        section.card aria-labelledby="orders-h" {
            h2 #orders-h { "Orders" }
            @if orders.is_empty() {
                p.sub { "No orders from this customer yet." }
            } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Channel" } th scope="col" { "Status" } th.num scope="col" { "Total" } } }
                    tbody {
                        @for (o, total) in orders.iter().zip(&order_totals) {
                            tr {
                                th scope="row" { a href=(link("/orders", text(o, "id"))) { (text(o, "id")) } }
                                td { (when(&ws, o, "placed_at")) }
                                td { (or_dash(text(o, "channel"))) }
                                td { (tag(text(o, "status"))) }
                                td.num { (minor(&ws, Some(*total))) }
                            }
                        }
                    }
                } }
                (more(&orders, Some(format!("/orders?customer={}", encode(id)))))
            }
        }
        div.grid2 {
            section.card aria-labelledby="deals-h" {
                h2 #deals-h { "Deals" }
                @if deals.is_empty() { p.sub { "No deals with this customer." } } @else {
                    div.scroll { table {
                        thead { tr { th scope="col" { "Deal" } th scope="col" { "Stage" } th scope="col" { "Status" } th scope="col" { "Owner" } th.num scope="col" { "Amount" } } }
                        tbody {
                            @for d in deals.iter().take(RELATED) {
                                tr {
                                    th scope="row" { a href=(link("/deals", text(d, "id"))) { (or_dash(d.get("name").as_text().unwrap_or(text(d, "id")))) } }
                                    td { (names.stage(text(d, "stage_id"))) }
                                    td { (tag(text(d, "status"))) }
                                    td { (or_dash(names.user(text(d, "owner_id")))) }
                                    td.num { (money_field(&ws, d, "amount")) }
                                }
                            }
                        }
                    } }
                    (more(&deals, None))
                }
            }
            section.card aria-labelledby="contacts-h" {
                h2 #contacts-h { "Contacts" }
                @if super::edit::can_write(req) {
                    p.actions { a.button href={"/records/contacts/new?account_id=" (encode(id)) "&back=" (encode(&link("/customers", id)))} { "New contact" } }
                }
                @if contacts.is_empty() { p.sub { "No contacts at this customer." } } @else {
                    div.scroll { table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Phone" } } }
                        tbody {
                            @for c in contacts.iter().take(RELATED) {
                                tr {
                                    th scope="row" { a href=(link("/contacts", text(c, "id"))) { (or_dash(text(c, "name"))) } }
                                    td { @if let Some(e) = c.get("email").as_text() { a href={"mailto:" (e)} { (e) } } @else { "–" } }
                                    td { (or_dash(text(c, "phone"))) }
                                }
                            }
                        }
                    } }
                    (more(&contacts, None))
                }
            }
        }
        div.grid2 {
            (next_step)
            section.card aria-labelledby="surveys-h" {
                h2 #surveys-h { "Surveys" }
                @if surveys.is_empty() { p.sub { "No survey answers from this customer." } } @else {
                    div.scroll { table {
                        thead { tr { th scope="col" { "Answered" } th scope="col" { "Kind" } th.num scope="col" { "Score" } } }
                        tbody {
                            @for s in surveys.iter().take(RELATED) {
                                tr {
                                    td { (when(&ws, s, "answered_at")) }
                                    td { (text(s, "kind").to_uppercase()) }
                                    td.num { (s.get("score").as_int().map_or_else(|| "–".into(), |n| n.to_string())) }
                                }
                            }
                        }
                    } }
                    (more(&surveys, None))
                }
            }
        }
        (timeline)
    };
    Ok(layout::page(req, name, Nav::Customers, body))
}

// ---------------------------------------------------------------------------------------------
// Orders

fn orders_page(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(
        params,
        &["status", "channel", "customer", "from", "to", "before", "limit"],
        "the order list",
    )?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let limit = limit_param(params)?;
    let status = enum_param(params, "status", ORDER_STATUSES)?;
    let channel = category_param(params, "channel");
    let customer = ref_param(store, params, "customer", Entity::Accounts)?;
    let (from, to) = date_range(params)?;
    let cursor = before_param(params, Entity::Orders, "placed_at")?;

    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = &status {
        filters.push(("status", Value::Text(s.clone())));
    }
    if let Some(c) = &channel {
        filters.push(("channel", Value::Text(c.clone())));
    }
    if let Some(c) = &customer {
        filters.push(("account_id", Value::Text(c.clone())));
    }
    let (lo, hi) = day_span(from, to, &ws)?;
    let (sql, sql_params) = if from.is_some() || to.is_some() {
        read_scope(req, Entity::Orders).and(
            vec!["placed_at >= ? AND placed_at < ?".into()],
            vec![Value::Instant(lo), Value::Instant(hi)],
        )
    } else {
        read_scope(req, Entity::Orders).and(Vec::new(), Vec::new())
    };
    let condition = (!sql.is_empty()).then_some(Condition { sql: &sql, params: &sql_params });
    let mut rows = store.recent(
        Entity::Orders,
        "placed_at",
        &ListQuery { filters: &filters, condition, after: cursor.as_deref(), limit: limit + 1 },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/orders", params, ("before", &before_value(&rows[limit - 1], "placed_at")))
    });
    let customers = account_names(store, rows.iter())?;
    let mut totals = Vec::with_capacity(rows.len());
    for o in &rows {
        totals.push(order_total(store, o)?);
    }
    let any = filtered(params, &["status", "channel", "customer", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Orders)? == 0;
    let customer_name =
        customer.as_ref().and_then(|c| customers.get(c).cloned().or_else(|| Some(c.clone())));

    let body = html! {
        div.page-head {
            h1 { "Orders" }
            p.sub {
                "Newest first"
                @if let (Some(c), Some(n)) = (&customer, &customer_name) { " · from " a href=(link("/customers", c)) { (n) } }
            }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/orders" {
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "Any" }
                @for s in ORDER_STATUSES { option value=(s) selected[status.as_deref() == Some(*s)] { (s) } }
            }
            label for="channel" { "Channel" }
            input type="text" id="channel" name="channel" value=[channel.as_deref()] size="10";
            label for="from" { "From" }
            input type="date" id="from" name="from" value=[from.map(|d| d.to_string())];
            label for="to" { "To" }
            input type="date" id="to" name="to" value=[to.map(|d| d.to_string())];
            @if let Some(c) = &customer { input type="hidden" name="customer" value=(c); }
            button type="submit" { "Show" }
            @if any { a href="/orders" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No orders yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No orders match these filters — change or clear them.", Some(("/orders", "Show all orders"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Customer" } th scope="col" { "Channel" }
                        th scope="col" { "Owner" } th scope="col" { "Status" } th.num scope="col" { "Total" }
                    } }
                    tbody {
                        @for (o, total) in rows.iter().zip(&totals) {
                            @let account = text(o, "account_id");
                            tr {
                                th scope="row" { a href=(link("/orders", text(o, "id"))) { (text(o, "id")) } }
                                td { (when(&ws, o, "placed_at")) }
                                td { a href=(link("/customers", account)) { (customers.get(account).map_or(account, |n| n.as_str())) } }
                                td { @if text(o, "channel").is_empty() { "–" } @else { a.filter href=(filter_link("/orders", params, &[("channel", text(o, "channel"))])) title="Only this channel" { (text(o, "channel")) } } }
                                td { (or_dash(names.user(text(o, "owner_id")))) }
                                td { a.filter href=(filter_link("/orders", params, &[("status", text(o, "status"))])) title="Only this status" { (tag(text(o, "status"))) } }
                                td.num { (minor(&ws, Some(*total))) }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Orders", Nav::Customers, body))
}

fn order_page(state: &AppState, req: &Req, params: &Params, id: &str) -> Result<Markup> {
    allow(params, &[], "an order's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let order = find(store, Entity::Orders, id)?;
    check_visible(store, req, &order, Entity::Orders, id)?;
    let (lines, computed) = order_lines(store, id)?;
    let mut products = BTreeMap::new();
    for l in &lines {
        let pid = text(l, "product_id");
        if !products.contains_key(pid) {
            let name = store
                .get(Entity::Products, &[Value::Text(pid.to_string())])?
                .map_or_else(|| pid.to_string(), |p| text(&p, "name").to_string());
            products.insert(pid.to_string(), name);
        }
    }
    let account = text(&order, "account_id");
    let customer = store.get(Entity::Accounts, &[Value::Text(account.to_string())])?;
    let customer_name = customer.as_ref().map_or(account, |c| text(c, "name"));
    let stored = order.get("total").as_int();
    let title = format!("Order {id}");

    let body = html! {
        div.page-head {
            h1 { (title) }
            p.sub { a href="/orders" { "Orders" } " · " a href=(link("/customers", account)) { (customer_name) } }
        }
        section.card aria-labelledby="facts-h" {
            h2 #facts-h { "Facts" }
            dl.facts {
                dt { "Customer" } dd { a href=(link("/customers", account)) { (customer_name) } }
                dt { "Placed" } dd { (when(&ws, &order, "placed_at")) }
                dt { "Status" } dd { (tag(text(&order, "status"))) }
                dt { "Channel" } dd { (or_dash(text(&order, "channel"))) }
                dt { "Owner" } dd { (or_dash(names.user(text(&order, "owner_id")))) }
                dt { "Promised for" } dd { (day_of(&ws, &order, "promised_on")) }
                dt { "Fulfilled" } dd { (when(&ws, &order, "fulfilled_at")) }
                dt { "Total" } dd.num { (minor(&ws, Some(stored.unwrap_or(computed)))) }
            }
        }
        section.card aria-labelledby="lines-h" {
            h2 #lines-h { "Lines" }
            @if lines.is_empty() {
                p.sub { "This order has no lines" @if stored.is_some() { "; its total was given as a whole" } "." }
            } @else {
                div.scroll { table {
                    thead { tr {
                        th.num scope="col" { "#" } th scope="col" { "Product" } th.num scope="col" { "Quantity" }
                        th.num scope="col" { "Unit price" } th.num scope="col" { "Discount" } th.num scope="col" { "Amount" }
                    } }
                    tbody {
                        @for l in &lines {
                            @let pid = text(l, "product_id");
                            tr {
                                td.num { (l.get("line").as_int().unwrap_or(0)) }
                                th scope="row" { a href=(link("/products", pid)) { (products.get(pid).map_or(pid, |n| n.as_str())) } }
                                td.num { (ws.fmt.count(l.get("quantity").as_int().unwrap_or(0) as f64)) }
                                td.num { (minor(&ws, l.get("unit_price").as_int())) }
                                td.num { (minor(&ws, Some(l.get("discount").as_int().unwrap_or(0)))) }
                                td.num { (minor(&ws, Some(line_amount(l)))) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="5" { "Total of the lines" }
                        td.num { strong { (minor(&ws, Some(computed))) } }
                    } }
                } }
                @if stored.is_some_and(|s| s != computed) {
                    p.error-text { "The order's stored total (" (minor(&ws, stored)) ") differs from its lines." }
                }
            }
        }
    };
    Ok(layout::page(req, &title, Nav::Customers, body))
}

// ---------------------------------------------------------------------------------------------
// Products

pub async fn products(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    blocking(move || Ok(render(products_page(&state, &req, &params)?))).await
}

pub async fn product(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(product_page(&state, &req, &params, &id, now)?))).await
}

/// Whether a product needs reordering: stock at or below its reorder level.
fn low(product: &Record, stock: i64) -> bool {
    product.get("reorder_level").as_int().is_some_and(|level| stock <= level)
}

/// The gross margin of a price and a cost, as a ratio of the price.
fn margin(product: &Record) -> Option<f64> {
    let price = product.get("unit_price").as_int()?;
    let cost = product.get("unit_cost").as_int()?;
    (price != 0).then(|| (price - cost) as f64 / price as f64)
}

fn stocks(store: &SqliteStore, products: &[Record]) -> Result<BTreeMap<String, i64>> {
    let ids: Vec<&str> = products.iter().map(|p| text(p, "id")).collect();
    Ok(store.stock_on_hand(&ids)?.into_iter().collect())
}

fn products_page(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(params, &["category", "low", "after", "limit"], "the product list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let category = category_param(params, "category");
    let only_low = match params.get("low") {
        None | Some("0") => false,
        Some("1") => true,
        Some(t) => {
            return Err(WebError::bad(format!(
                "low: {t:?} is not 1 (only products to reorder) or 0"
            )));
        }
    };
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(c) = &category {
        filters.push(("category", Value::Text(c.clone())));
    }
    // In key order; with `low=1`, read on until a page's worth is at or below its reorder level.
    let mut after: Option<Vec<Value>> =
        params.get("after").map(|id| vec![Value::Text(id.to_string())]);
    let mut rows: Vec<(Record, i64)> = Vec::new();
    loop {
        let batch = if only_low { 500 } else { limit + 1 };
        let page = store.list(
            Entity::Products,
            &ListQuery {
                filters: &filters,
                condition: None,
                after: after.as_deref(),
                limit: batch,
            },
        )?;
        let done = page.len() < batch;
        after = page.last().map(|r| vec![r.get("id").clone()]);
        let stock = stocks(store, &page)?;
        for p in page {
            let s = stock.get(text(&p, "id")).copied().unwrap_or(0);
            if !only_low || low(&p, s) {
                rows.push((p, s));
            }
        }
        if done || rows.len() > limit || !only_low {
            break;
        }
    }
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/products", params, ("after", text(&rows[limit - 1].0, "id")))
    });
    let any = filtered(params, &["category", "low"]);
    let none_yet = rows.is_empty()
        && !any
        && params.get("after").is_none()
        && store.count(Entity::Products)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Products" }
            (super::edit::new_button(req, Entity::Products))
            p.sub { "Stock on hand is the opening stock plus every movement; " span.tag.bad { "reorder" } " marks stock at or below the reorder level" }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/products" {
            label for="category" { "Category" }
            input type="text" id="category" name="category" value=[category.as_deref()] size="12";
            label { input type="checkbox" name="low" value="1" checked[only_low]; " Only to reorder" }
            button type="submit" { "Show" }
            @if any { a href="/products" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No products yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty(if only_low { "Nothing to reorder: every product is above its reorder level." } else { "No products match these filters — change or clear them." }, Some(("/products", "Show all products"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Product" } th scope="col" { "SKU" } th scope="col" { "Category" }
                        th.num scope="col" { "Price" } th.num scope="col" { "Cost" } th.num scope="col" { "Margin" }
                        th.num scope="col" { "On hand" } th.num scope="col" { "Reorder at" } th scope="col" { span.visually-hidden { "Flag" } }
                    } }
                    tbody {
                        @for (p, stock) in &rows {
                            tr {
                                th scope="row" { a href=(link("/products", text(p, "id"))) { (text(p, "name")) } }
                                td { (or_dash(text(p, "sku"))) }
                                td { @if text(p, "category").is_empty() { "–" } @else { a.filter href=(filter_link("/products", params, &[("category", text(p, "category"))])) title="Only this category" { (text(p, "category")) } } }
                                td.num { (money_field(&ws, p, "unit_price")) }
                                td.num { (money_field(&ws, p, "unit_cost")) }
                                td.num { (margin(p).map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                                td.num { (ws.fmt.count(*stock as f64)) }
                                td.num { (p.get("reorder_level").as_int().map_or_else(|| "–".into(), |n| ws.fmt.count(n as f64))) }
                                td { @if low(p, *stock) { (tag("reorder")) } }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Products", Nav::Products, body))
}

fn product_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &["before"], "a product's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let product = find(store, Entity::Products, id)?;
    let stock = stocks(store, std::slice::from_ref(&product))?.get(id).copied().unwrap_or(0);
    let cursor = before_param(params, Entity::InventoryMovements, "occurred_at")?;
    let by_product = [("product_id", Value::Text(id.to_string()))];
    let mut moves = store.recent(
        Entity::InventoryMovements,
        "occurred_at",
        &ListQuery {
            filters: &by_product,
            condition: None,
            after: cursor.as_deref(),
            limit: DEFAULT_LIMIT + 1,
        },
    )?;
    let next = (moves.len() > DEFAULT_LIMIT).then(|| {
        moves.truncate(DEFAULT_LIMIT);
        page_link(
            &link("/products", id),
            params,
            ("before", &before_value(&moves[DEFAULT_LIMIT - 1], "occurred_at")),
        )
    });

    // Units sold per month: the sale movements (one per line of a placed or fulfilled order).
    let (from, to, buckets) = last_months(&ws, now)?;
    let sale_filters =
        [("product_id", Value::Text(id.to_string())), ("reason", Value::Text("sale".into()))];
    let span = [Value::Instant(from), Value::Instant(to)];
    let mut sold: BTreeMap<String, f64> = BTreeMap::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let page = store.recent(
            Entity::InventoryMovements,
            "occurred_at",
            &ListQuery {
                filters: &sale_filters,
                condition: Some(Condition {
                    sql: "occurred_at >= ? AND occurred_at < ?",
                    params: &span,
                }),
                after: after.as_deref(),
                limit: 1000,
            },
        )?;
        let done = page.len() < 1000;
        after = page.last().map(|m| vec![m.get("occurred_at").clone(), m.get("id").clone()]);
        for m in &page {
            if let Some(b) = instant(m, "occurred_at").and_then(|t| buckets.find(t)) {
                let label = buckets.list[b].label.clone().unwrap_or_default();
                *sold.entry(label).or_default() += -(m.get("delta").as_int().unwrap_or(0) as f64);
            }
        }
        if done {
            break;
        }
    }
    let name = text(&product, "name");

    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/products" { "Products" } @if !text(&product, "sku").is_empty() { " · SKU " (text(&product, "sku")) } }
            (super::edit::actions(req, Entity::Products, text(&product, "id"), None))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Facts" }
                dl.facts {
                    dt { "Category" } dd { (or_dash(text(&product, "category"))) }
                    dt { "Price" } dd.num { (money_field(&ws, &product, "unit_price")) }
                    dt { "Cost" } dd.num { (money_field(&ws, &product, "unit_cost")) }
                    dt { "Margin" } dd.num { (margin(&product).map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                    dt { "Opening stock" } dd.num { (ws.fmt.count(product.get("opening_stock").as_int().unwrap_or(0) as f64)) }
                    dt { "Stock on hand" } dd.num { (ws.fmt.count(stock as f64)) @if low(&product, stock) { " " (tag("reorder")) } }
                    dt { "Reorder level" } dd.num { (product.get("reorder_level").as_int().map_or_else(|| "–".into(), |n| ws.fmt.count(n as f64))) }
                }
            }
            section.card aria-labelledby="sold-h" {
                h2 #sold-h { "Units sold per month" }
                p.sub { "Lines of placed and fulfilled orders, last twelve months" }
                (month_chart(&format!("Units of {name} sold per month"), Unit::Count, &buckets, &sold, &ws))
            }
        }
        section.card aria-labelledby="moves-h" {
            h2 #moves-h { "Stock movements" }
            @if moves.is_empty() {
                p.sub { "No movements yet: the stock on hand is the opening stock." }
            } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Reason" } th.num scope="col" { "Units" } th scope="col" { "Movement" } } }
                    tbody {
                        @for m in &moves {
                            @let delta = m.get("delta").as_int().unwrap_or(0);
                            tr {
                                td { (when(&ws, m, "occurred_at")) }
                                td { (tag(text(m, "reason"))) }
                                td.num { (if delta > 0 { format!("+{delta}") } else { format!("−{}", delta.unsigned_abs()) }) }
                                td { (text(m, "id")) }
                            }
                        }
                    }
                } }
                (pager(next))
            }
        }
    };
    Ok(layout::page(req, name, Nav::Products, body))
}

// ---------------------------------------------------------------------------------------------
// Campaigns and costs

pub async fn campaigns(
    State(state): State<AppState>,
    req: Req,
    params: Params,
) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(campaigns_page(&state, &req, &params, now)?))).await
}

pub async fn campaign(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(campaign_page(&state, &req, &params, &id, now)?))).await
}

pub async fn costs(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(costs_page(&state, &req, &params, now)?))).await
}

fn dates(ws: &Ws, c: &Record) -> String {
    let _ = ws;
    let d = |f: &str| match c.get(f) {
        Value::Date(d) => Some(d.strftime("%-d %b %Y").to_string()),
        _ => None,
    };
    match (d("started_on"), d("ended_on")) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        (Some(a), None) => format!("from {a}"),
        (None, Some(b)) => format!("until {b}"),
        (None, None) => "–".into(),
    }
}

fn campaigns_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(params, &["channel", "after", "limit"], "the campaign list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let channel = category_param(params, "channel");
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(c) = &channel {
        filters.push(("channel", Value::Text(c.clone())));
    }
    let after = params.get("after").map(|id| vec![Value::Text(id.to_string())]);
    let mut rows = store.list(
        Entity::Campaigns,
        &ListQuery {
            filters: &filters,
            condition: None,
            after: after.as_deref(),
            limit: limit + 1,
        },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/campaigns", params, ("after", text(&rows[limit - 1], "id")))
    });
    // One query per figure, by campaign, over all time.
    let spent = figures_by(state, "costs", "campaign", Filter::everything(), now)?;
    let leads = figures_by(state, "leads_created", "campaign", Filter::everything(), now)?;
    let won = figures_by(state, "revenue_won", "campaign", Filter::everything(), now)?;
    let roi = figures_by(state, "campaign_roi", "campaign", Filter::everything(), now)?;
    let roi_unit = state.catalog.get("campaign_roi").map_or(Unit::Ratio, |m| m.unit);
    let any = filtered(params, &["channel"]);
    let none_yet =
        rows.is_empty() && !any && after.is_none() && store.count(Entity::Campaigns)? == 0;
    let cell = |figures: &Option<BTreeMap<String, f64>>, id: &str, unit: Unit| -> String {
        match figures {
            Some(f) => ws.fmt.value(
                unit,
                f.get(id).copied().or(if unit == Unit::Ratio { None } else { Some(0.0) }),
            ),
            None => "–".into(),
        }
    };

    let body = html! {
        div.page-head {
            h1 { "Campaigns" }
            (super::edit::new_button(req, Entity::Campaigns))
            p.sub { "Costs, leads and revenue won attributed to each campaign, all time · " a href="/costs" { "All costs" } }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/campaigns" {
            label for="channel" { "Channel" }
            input type="text" id="channel" name="channel" value=[channel.as_deref()] size="12";
            button type="submit" { "Show" }
            @if any { a href="/campaigns" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No campaigns yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No campaigns match these filters — change or clear them.", Some(("/campaigns", "Show all campaigns"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Campaign" } th scope="col" { "Channel" } th scope="col" { "Dates" }
                        th.num scope="col" { "Budget" } th.num scope="col" { "Spent" } th.num scope="col" { "Leads" } th.num scope="col" { "Revenue won" }
                        @if roi.is_some() { th.num scope="col" { "ROI" } }
                    } }
                    tbody {
                        @for c in &rows {
                            @let id = text(c, "id");
                            tr {
                                th scope="row" { a href=(link("/campaigns", id)) { (text(c, "name")) } }
                                td { a.filter href=(filter_link("/campaigns", params, &[("channel", text(c, "channel"))])) title="Only this channel" { (text(c, "channel")) } }
                                td { (dates(&ws, c)) }
                                td.num { (money_field(&ws, c, "budget")) }
                                td.num { (cell(&spent, id, Unit::Money)) }
                                td.num { (cell(&leads, id, Unit::Count)) }
                                td.num { (cell(&won, id, Unit::Money)) }
                                @if roi.is_some() { td.num { (cell(&roi, id, roi_unit)) } }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Campaigns", Nav::Campaigns, body))
}

fn campaign_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a campaign's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let campaign = find(store, Entity::Campaigns, id)?;
    let filter = Filter::text_is("campaign_id", id);
    let spent = figure(state, "costs", filter.clone(), (0, END_OF_TIME), now)?;
    let won = figure(state, "revenue_won", filter.clone(), (0, END_OF_TIME), now)?;
    let roi = figure(state, "campaign_roi", filter.clone(), (0, END_OF_TIME), now)?;
    let by_status = figures_by(state, "leads_created", "status", filter, now)?.unwrap_or_default();
    let by_campaign = [("campaign_id", Value::Text(id.to_string()))];
    let scope = read_scope(req, Entity::Costs);
    let costs = store.recent(
        Entity::Costs,
        "incurred_on",
        &ListQuery {
            filters: &by_campaign,
            condition: scope.condition(),
            after: None,
            limit: DEFAULT_LIMIT + 1,
        },
    )?;
    let budget = campaign.get("budget").as_int();
    let spent_minor =
        spent.map(|s| (s * ws.workspace.currency.minor_per_major() as f64).round() as i64);
    let name = text(&campaign, "name");
    let leads_total: f64 = by_status.values().sum();

    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/campaigns" { "Campaigns" } " · " (text(&campaign, "channel")) " · " (dates(&ws, &campaign)) }
            (super::edit::actions(req, Entity::Campaigns, text(&campaign, "id"), None))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Facts" }
                dl.facts {
                    dt { "Channel" } dd { (text(&campaign, "channel")) }
                    dt { "Dates" } dd { (dates(&ws, &campaign)) }
                    dt { "Budget" } dd.num { (minor(&ws, budget)) }
                    dt { "Spent" } dd.num { (ws.fmt.value(Unit::Money, spent.or(Some(0.0)))) }
                    @if let (Some(b), Some(s)) = (budget, spent_minor) {
                        dt { "Left" } dd.num { (minor(&ws, Some(b - s))) @if s > b { " " (tag("over budget")) } }
                    }
                    dt { "Leads" } dd.num { (ws.fmt.count(leads_total)) }
                    dt { "Revenue won" } dd.num { (ws.fmt.value(Unit::Money, won.or(Some(0.0)))) }
                    @if state.catalog.get("campaign_roi").is_some() {
                        dt { "ROI" } dd.num { (ws.fmt.value(state.catalog.get("campaign_roi").map_or(Unit::Ratio, |m| m.unit), roi)) }
                    }
                }
            }
            section.card aria-labelledby="leads-h" {
                h2 #leads-h { "Leads by status" }
                @if by_status.is_empty() { p.sub { "No leads attributed to this campaign yet." } } @else {
                    table {
                        thead { tr { th scope="col" { "Status" } th.num scope="col" { "Leads" } } }
                        tbody {
                            @for (status, n) in &by_status {
                                tr { th scope="row" { (tag(status)) } td.num { (ws.fmt.count(*n)) } }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="costs-h" {
            h2 #costs-h { "Costs" }
            @if costs.is_empty() { p.sub { "No costs recorded against this campaign." } } @else {
                (cost_table(&ws, &costs[..costs.len().min(DEFAULT_LIMIT)], &BTreeMap::new(), false))
                @if costs.len() > DEFAULT_LIMIT {
                    p.small { "The latest " (DEFAULT_LIMIT) " are shown. " a href={"/costs?campaign=" (encode(id))} { "See all" } }
                }
            }
        }
    };
    Ok(layout::page(req, name, Nav::Campaigns, body))
}

fn cost_table(
    ws: &Ws,
    costs: &[Record],
    campaigns: &BTreeMap<String, String>,
    with_campaign: bool,
) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { "Incurred" } th scope="col" { "Category" }
                @if with_campaign { th scope="col" { "Campaign" } }
                th scope="col" { "Note" } th.num scope="col" { "Amount" }
            } }
            tbody {
                @for c in costs {
                    @let campaign = text(c, "campaign_id");
                    tr {
                        td { (day_of(ws, c, "incurred_on")) }
                        td { a.filter href=(filter_link("/costs", &Params(Vec::new()), &[("category", text(c, "category"))])) title="Only this category" { (tag(text(c, "category"))) } }
                        @if with_campaign {
                            td { @if campaign.is_empty() { "–" } @else { a href=(link("/campaigns", campaign)) { (campaigns.get(campaign).map_or(campaign, |n| n.as_str())) } } }
                        }
                        td { (or_dash(text(c, "note"))) }
                        td.num { (money_field(ws, c, "amount")) }
                    }
                }
            }
        } }
    }
}

fn costs_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(params, &["category", "campaign", "from", "to", "before", "limit"], "the cost list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let category = enum_param(params, "category", COST_CATEGORIES)?;
    let campaign = ref_param(store, params, "campaign", Entity::Campaigns)?;
    let (from, to) = date_range(params)?;
    let cursor = before_param(params, Entity::Costs, "incurred_on")?;
    let mut filters: Vec<(&str, Value)> = Vec::new();
    let mut expr = Filter::everything();
    if let Some(c) = &category {
        filters.push(("category", Value::Text(c.clone())));
        expr = expr.and(Filter::text_is("category", c));
    }
    if let Some(c) = &campaign {
        filters.push(("campaign_id", Value::Text(c.clone())));
        expr = expr.and(Filter::text_is("campaign_id", c));
    }
    let scope = read_scope(req, Entity::Costs);
    let mut sql = Vec::new();
    let mut sql_params = Vec::new();
    if let Some(f) = from {
        sql.push("incurred_on >= ?".to_string());
        sql_params.push(Value::Date(f));
    }
    if let Some(t) = to {
        sql.push("incurred_on <= ?".to_string());
        sql_params.push(Value::Date(t));
    }
    let (sql, sql_params) = scope.and(sql, sql_params);
    let condition = (!sql.is_empty()).then_some(Condition { sql: &sql, params: &sql_params });
    let mut rows = store.recent(
        Entity::Costs,
        "incurred_on",
        &ListQuery { filters: &filters, condition, after: cursor.as_deref(), limit: limit + 1 },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/costs", params, ("before", &before_value(&rows[limit - 1], "incurred_on")))
    });
    // The total of every matching cost (not just this page), from the metrics engine.
    if let Some(owners) = &scope.owners {
        expr = expr.and(Filter::owner_in_or_unowned(owners));
    }
    let total = figure(state, "costs", expr, day_span(from, to, &ws)?, now)?;
    let campaigns = names_of(store, Entity::Campaigns)?;
    let any = filtered(params, &["category", "campaign", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Costs)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Costs" }
            (super::edit::new_button(req, Entity::Costs))
            p.sub { "Newest first" }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/costs" {
            label for="category" { "Category" }
            select id="category" name="category" {
                option value="" { "Any" }
                @for c in COST_CATEGORIES { option value=(c) selected[category.as_deref() == Some(*c)] { (c) } }
            }
            label for="campaign" { "Campaign" }
            select id="campaign" name="campaign" {
                option value="" { "Any" }
                @for (id, name) in &campaigns { option value=(id) selected[campaign.as_deref() == Some(id.as_str())] { (name) } }
            }
            label for="from" { "From" }
            input type="date" id="from" name="from" value=[from.map(|d| d.to_string())];
            label for="to" { "To" }
            input type="date" id="to" name="to" value=[to.map(|d| d.to_string())];
            button type="submit" { "Show" }
            @if any { a href="/costs" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No costs yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else {
            p.total { "Total " @if any { "of these costs" } @else { "of all costs" } ": " strong #costs-total { (ws.fmt.value(Unit::Money, total.or(Some(0.0)))) } }
            @if rows.is_empty() {
                (layout::empty("No costs match these filters — change or clear them.", Some(("/costs", "Show all costs"))))
            } @else {
                div.card { (cost_table(&ws, &rows, &campaigns, true)) }
                (pager(next))
            }
        }
    };
    Ok(layout::page(req, "Costs", Nav::Campaigns, body))
}
