//! Leads waiting for an answer: every new lead not yet answered, newest first, a page at a time
//! (`after=` the last lead of the page before), with the time since it came in; those past the
//! response SLA (one hour by default — the `leads answered within an hour` metric's line;
//! `sla=MINUTES` changes it) are highlighted. The counts (waiting, past the SLA, older) and the
//! page are the store's `LeadStore::waiting_leads`. The response figures of the last 30 days sit
//! on top.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::Entity;
use traction_domain::time::Micros;
use traction_metrics::{Filter, Grain, Query};
use traction_server::AppState;
use traction_store::WaitingQuery;

use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

/// Unanswered leads older than this are counted apart: likely forgotten rather than waiting.
const WAITING_DAYS: i64 = 30;

/// Waiting leads on one page.
const PAGE: usize = 100;

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| build(state, &req, &params, now)).await
}

fn build(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let at = at_param(params, &ws.zone, now)?;
    let sla_min: i64 = match params.get("sla") {
        None => 60,
        Some(t) => t.trim().parse().ok().filter(|m| (1..=10_080).contains(m)).ok_or_else(|| {
            WebError::bad(format!("sla: {t:?} is not a number of minutes from 1 to 10080"))
        })?,
    };
    let owner = params.get("owner").map(str::to_string);
    let source = params.get("source").map(|s| s.trim().to_ascii_lowercase());
    let after = match params.get("after") {
        None => None,
        Some(t) => Some(cursor(t).ok_or_else(|| {
            WebError::bad(format!("after: {t:?} is not a place in the list of leads"))
        })?),
    };
    let cutoff = at - WAITING_DAYS * 86_400_000_000;
    let sla = sla_min * 60_000_000;
    // The counts and the page come from the store: the page only shows them.
    let waiting = store.waiting_leads(&WaitingQuery {
        at,
        since: cutoff,
        sla,
        owner: owner.as_deref(),
        source: source.as_deref(),
        after: after.as_ref().map(|(c, id)| (*c, id.as_str())),
        limit: PAGE,
    })?;
    let next = match (waiting.more, waiting.page.last()) {
        (true, Some(last)) => {
            let place =
                format!("{}:{}", instant(last, "created_at").unwrap_or(0), text(last, "id"));
            Some(link(params, Some(&place)))
        }
        _ => None,
    };

    // The last 30 days' response figures for the same people.
    let mut figures = Vec::new();
    for metric in ["leads_created", "lead_response_time", "leads_answered_within_hour_rate"] {
        if let Some(def) = state.catalog.get(metric) {
            let mut q = Query::new(metric, cutoff, at, Grain::All, at);
            if let Some(o) = &owner {
                q.filter =
                    std::mem::take(&mut q.filter).and(Filter::owner_in(std::slice::from_ref(o)));
            }
            if let Some(s) = &source {
                q.filter = std::mem::take(&mut q.filter).and(Filter::text_is("source", s));
            }
            let value = traction_metrics::run(store, &state.catalog, &q)?
                .rows
                .first()
                .and_then(|r| r.value);
            figures.push((def.label.clone(), ws.fmt.value(def.unit, value)));
        }
    }
    let body = html! {
        div.page-head {
            h1 { "Leads" }
            (super::edit::new_button(req, Entity::Leads))
            p.sub { (waiting.waiting) " waiting for an answer · " (waiting.past_sla) " past the " (sla_min) "-minute SLA" }
            (super::views::save_form(req))
            form.filters method="get" action="/leads" {
                label for="owner" { "Owner" }
                select name="owner" id="owner" {
                    option value="" { "Everyone" }
                    (names.people_options(owner.as_deref(), false))
                }
                label for="source" { "Source" }
                select name="source" id="source" {
                    option value="" { "All" }
                    @for s in &waiting.sources { option value=(s) selected[source.as_deref() == Some(s.as_str())] { (s) } }
                }
                label for="sla" { "SLA (min)" }
                input type="number" name="sla" id="sla" min="1" max="10080" value=(sla_min) size="5";
                button type="submit" { "Show" }
            }
        }
        section.card #lead-figures data-live aria-label="Last 30 days" {
            h2 { "Last 30 days" }
            dl.facts { @for (k, v) in &figures { dt { (k) } dd { (v) } } }
        }
        section.card #waiting data-live aria-labelledby="w-h" {
            h2 #w-h { "Waiting for an answer" }
            @if waiting.waiting == 0 {
                (layout::empty("No lead is waiting — every lead of the last 30 days has been answered.", None))
            } @else if waiting.page.is_empty() {
                p { "No more leads wait. " a href=(link(params, None)) { "Back to the newest" } }
            } @else {
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Came in" } th.num scope="col" { "Waiting" } th scope="col" { "Source" } th scope="col" { "Owner" } th scope="col" { "Lead (person · company)" } th scope="col" {} } }
                        tbody {
                            @for l in &waiting.page {
                                @let created = instant(l, "created_at").unwrap_or(at);
                                @let late = at - created > sla;
                                tr.sla-breach[late] {
                                    td { (ws.when(created)) }
                                    td.num { (ws.fmt.duration((at - created) as f64 / 1e6)) @if late { " " span.tag.bad { "over SLA" } } }
                                    // A click on a source or an owner filters the list by it.
                                    td { a href={"/leads?source=" (crate::encode(text(l, "source")))} title="Only this source" { (text(l, "source")) } }
                                    td { @if text(l, "owner_id").is_empty() { "–" } @else { a href={"/leads?owner=" (crate::encode(text(l, "owner_id")))} title="Only this owner" { (names.user(text(l, "owner_id"))) } } }
                                    td { a href={"/leads/" (crate::encode(text(l, "id")))} { (super::work::lead_label(store, l)?) } }
                                    td { a href={"/log?lead_id=" (crate::encode(text(l, "id")))} { "Log a reply" } }
                                }
                            }
                        }
                    }
                }
                @if waiting.waiting > waiting.page.len() as u64 {
                    nav.pager aria-label="Pages of waiting leads" {
                        p.small { "Showing " (waiting.page.len()) " of " (waiting.waiting) ", newest first." }
                        @if after.is_some() { a href=(link(params, None)) { "← Newest" } " " }
                        @if let Some(href) = &next { a href=(href) rel="next" { "Next page →" } }
                    }
                }
            }
            @if waiting.older > 0 { p.small { (waiting.older) " older leads (over " (WAITING_DAYS) " days) were never answered." } }
        }
    };
    Ok(layout::page(req, "Leads", Nav::Leads, body))
}

/// A place in the list, `CREATED_AT:ID` (the `after` parameter): the last lead of the page
/// before.
fn cursor(text: &str) -> Option<(Micros, String)> {
    let (created_at, id) = text.split_once(':')?;
    if id.is_empty() {
        return None;
    }
    Some((created_at.parse().ok()?, id.to_string()))
}

/// The leads page with the same filters, from `after` (`None`: the first page).
fn link(params: &Params, after: Option<&str>) -> String {
    let mut pairs = params.without(&["after"]);
    pairs.retain(|(_, v)| !v.trim().is_empty());
    pairs.extend(after.map(|a| ("after".to_string(), a.to_string())));
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", crate::encode(k), crate::encode(v))).collect();
    if query.is_empty() { "/leads".to_string() } else { format!("/leads?{}", query.join("&")) }
}
