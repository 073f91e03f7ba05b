//! The deal list (`/deals`): every deal the caller may read, newest first, filtered by clicking
//! rather than typing — a click on an owner, a stage, a status or a source in the table keeps
//! only those deals, a click on a date range (this month, last 30 days, this quarter) keeps the
//! deals created in it, and each filter in force shows as a chip that removes it. The board
//! (`/pipeline`) shows open deals by stage; this list shows all of them, won and lost too.
//!
//! The filters are exact matches the store answers from its indexes; the date range is read as
//! a window of the store's newest-first order (`Store::recent` from the range's end), so a list
//! never scans for it. The URL holds every filter, so a view can be saved and shared.

use axum::extract::State;
use axum::response::Response;
use jiff::ToSpan;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::ListQuery;

use super::records::{
    allow, before_param, before_value, date_range, day_span, filter_link, filtered, limit_param,
    link, money_field, or_dash, page_link, pager, read_scope, tag, when,
};
use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

/// The filters of the list, in the order their chips show.
const FILTERS: &[(&str, &str)] = &[
    ("owner", "Owner"),
    ("stage", "Stage"),
    ("status", "Status"),
    ("source", "Source"),
    ("from", "From"),
    ("to", "To"),
];

const STATUSES: &[&str] = &["open", "won", "lost"];

pub async fn list(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| build(state, &req, &params, now)).await
}

/// This list's URL with `key` set to `value` (a click filter), others kept, paging dropped.
pub fn with_filter(params: &Params, key: &str, value: &str) -> String {
    filter_link("/deals", params, &[(key, value)])
}

fn with_filters(params: &Params, set: &[(&str, &str)]) -> String {
    filter_link("/deals", params, set)
}

fn build(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(
        params,
        &["owner", "stage", "status", "source", "from", "to", "before", "limit"],
        "the deal list",
    )?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let limit = limit_param(params)?;
    let owner = params.get("owner").map(|o| o.trim().to_string()).filter(|o| !o.is_empty());
    if let Some(o) = &owner
        && !names.users.contains_key(o)
    {
        return Err(WebError::bad(format!("owner: there is no user {o:?}; pick one in the list")));
    }
    let stage = params.get("stage").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(s) = &stage
        && !names.stages.contains_key(s)
    {
        return Err(WebError::bad(format!(
            "stage: there is no stage {s:?}; pick one on the board"
        )));
    }
    let status = match params.get("status").map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s.is_empty() => None,
        Some(s) if STATUSES.contains(&s.as_str()) => Some(s),
        Some(s) => {
            return Err(WebError::bad(format!("status: {s:?} is not one of open, won, lost")));
        }
        None => None,
    };
    let source =
        params.get("source").map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    let (from, to) = date_range(params)?;
    let (lo, hi) = day_span(from, to, &ws)?;
    let cursor = before_param(params, Entity::Deals, "created_at")?;

    let mut filters: Vec<(&str, Value)> = Vec::new();
    for (field, value) in
        [("owner_id", &owner), ("stage_id", &stage), ("status", &status), ("source", &source)]
    {
        if let Some(v) = value {
            filters.push((field, Value::Text(v.clone())));
        }
    }
    // The range's end is where the newest-first window starts (ties at `hi` are outside it).
    let end = [Value::Instant(hi), Value::Text(String::new())];
    let start = cursor.as_deref().or(to.is_some().then_some(&end[..]));
    let scope = read_scope(req, Entity::Deals);
    let mut rows = store.recent(
        Entity::Deals,
        "created_at",
        &ListQuery {
            filters: &filters,
            condition: scope.condition(),
            after: start,
            limit: limit + 1,
        },
    )?;
    // Past the range's start the window ends.
    let before_start = rows.iter().position(|d| instant(d, "created_at").is_none_or(|t| t < lo));
    let ended = before_start.is_some();
    if let Some(idx) = before_start {
        rows.truncate(idx);
    }
    let next = (!ended && rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/deals", params, ("before", &before_value(&rows[limit - 1], "created_at")))
    });
    let accounts = names_of(store, Entity::Accounts)?;
    let any = filtered(params, &["owner", "stage", "status", "source", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Deals)? == 0;

    let today = ws.today(now);
    let month_start = today.first_of_month();
    let quarter_start = jiff::civil::date(today.year(), ((today.month() - 1) / 3) * 3 + 1, 1);
    let ranges = [
        ("This month", month_start, today),
        ("Last 30 days", today.checked_sub(29.days()).unwrap_or(today), today),
        ("This quarter", quarter_start, today),
    ];
    let chip_value = |key: &str, value: &str| -> String {
        match key {
            "owner" => names.user(value).to_string(),
            "stage" => names.stage(value).to_string(),
            _ => value.to_string(),
        }
    };

    let body = html! {
        div.page-head {
            h1 { "Deals" }
            (super::edit::new_button(req, Entity::Deals))
            p.sub { "Newest first · click an owner, stage, status or source to keep only those · " a href="/pipeline" { "the board" } }
        }
        nav.filters aria-label="Created" {
            "Created: "
            @for (label, f, t) in &ranges {
                @let href = with_filters(params, &[("from", &f.to_string()), ("to", &t.to_string())]);
                @let on = from == Some(*f) && to == Some(*t);
                a.chip.on[on] href=(href) aria-current=[on.then_some("true")] { (label) }
                " "
            }
        }
        @if any {
            p.chips #active-filters {
                @for (key, label) in FILTERS {
                    @if let Some(v) = params.get(key).filter(|v| !v.trim().is_empty()) {
                        a.chip.on href=(with_filter(params, key, "")) title="Remove this filter" {
                            (label) ": " (chip_value(key, v)) " ×"
                        }
                        " "
                    }
                }
                a href="/deals" { "Clear all" }
            }
        }
        (super::views::save_form(req))
        @if none_yet {
            (layout::empty("No deals yet — create one, or import them on the Import page.", Some(("/records/deals/new", "New deal"))))
        } @else if rows.is_empty() {
            (layout::empty("No deals match these filters — remove one or clear them.", Some(("/deals", "Show all deals"))))
        } @else {
            div.card.scroll #deal-list {
                table {
                    thead { tr {
                        th scope="col" { "Deal" } th scope="col" { "Customer" } th scope="col" { "Stage" }
                        th scope="col" { "Status" } th scope="col" { "Owner" } th scope="col" { "Source" }
                        th scope="col" { "Created" } th.num scope="col" { "Amount" }
                    } }
                    tbody {
                        @for d in &rows { (row(params, d, &names, &accounts, &ws)) }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Deals", Nav::Pipeline, body))
}

fn row(
    params: &Params,
    d: &Record,
    names: &Names,
    accounts: &BTreeMap<String, String>,
    ws: &Ws,
) -> Markup {
    let (owner, stage, status, source) =
        (text(d, "owner_id"), text(d, "stage_id"), text(d, "status"), text(d, "source"));
    let account = text(d, "account_id");
    let name = match text(d, "name") {
        "" => text(d, "id"),
        n => n,
    };
    html! {
        tr {
            th scope="row" { a href=(link("/deals", text(d, "id"))) { (name) } }
            td { @if account.is_empty() { "–" } @else { a href=(link("/customers", account)) { (accounts.get(account).map_or(account, String::as_str)) } } }
            td { a.filter href=(with_filter(params, "stage", stage)) title="Only this stage" { (names.stage(stage)) } }
            td { a.filter href=(with_filter(params, "status", status)) title="Only this status" { (tag(status)) } }
            td { @if owner.is_empty() { "–" } @else { a.filter href=(with_filter(params, "owner", owner)) title="Only this owner" { (names.user(owner)) } } }
            td { @if source.is_empty() { "–" } @else { a.filter href=(with_filter(params, "source", source)) title="Only this source" { (or_dash(source)) } } }
            td { (when(ws, d, "created_at")) }
            td.num { (money_field(ws, d, "amount")) }
        }
    }
}
