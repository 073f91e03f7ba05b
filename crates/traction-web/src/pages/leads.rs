//! Leads waiting for an answer: every new lead not yet answered, newest first, with the time
//! since it came in; those past the response SLA (one hour by default — the `leads answered
//! within an hour` metric's line; `sla=MINUTES` changes it) are highlighted and counted. The
//! response figures of the last 30 days sit on top.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_metrics::{Filter, Grain, Query};
use traction_server::AppState;
use traction_store::ListQuery;

use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

/// Unanswered leads older than this are listed apart: likely forgotten rather than waiting.
const WAITING_DAYS: i64 = 30;

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
    let mut filters =
        vec![("status", Value::Text("new".into())), ("first_response_at", Value::Null)];
    if let Some(o) = &owner {
        filters.push(("owner_id", Value::Text(o.clone())));
    }
    if let Some(s) = &source {
        filters.push(("source", Value::Text(s.clone())));
    }
    let mut waiting: Vec<Record> = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let page = store.list(
            Entity::Leads,
            &ListQuery { filters: &filters, condition: None, after: after.as_deref(), limit: 5000 },
        )?;
        let done = page.len() < 5000;
        after = page.last().map(|r| vec![r.get("id").clone()]);
        waiting
            .extend(page.into_iter().filter(|l| instant(l, "created_at").is_some_and(|c| c <= at)));
        if done || waiting.len() > 50_000 {
            break;
        }
    }
    waiting.sort_by_key(|l| std::cmp::Reverse(instant(l, "created_at").unwrap_or(0)));
    let cutoff = at - WAITING_DAYS * 86_400_000_000;
    let (recent, old): (Vec<&Record>, Vec<&Record>) =
        waiting.iter().partition(|l| instant(l, "created_at").unwrap_or(0) >= cutoff);
    let sla = sla_min * 60_000_000;
    let breached =
        recent.iter().filter(|l| at - instant(l, "created_at").unwrap_or(at) > sla).count();

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
    let sources: std::collections::BTreeSet<String> =
        waiting.iter().map(|l| text(l, "source").to_string()).collect();
    let body = html! {
        div.page-head {
            h1 { "Leads" }
            (super::edit::new_button(req, Entity::Leads))
            p.sub { (recent.len()) " waiting for an answer · " (breached) " past the " (sla_min) "-minute SLA" }
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
                    @for s in &sources { option value=(s) selected[source.as_deref() == Some(s.as_str())] { (s) } }
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
            @if recent.is_empty() {
                (layout::empty("No lead is waiting — every lead of the last 30 days has been answered.", None))
            } @else {
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Came in" } th.num scope="col" { "Waiting" } th scope="col" { "Source" } th scope="col" { "Owner" } th scope="col" { "Lead (person · company)" } th scope="col" {} } }
                        tbody {
                            @for l in recent.iter().take(300) {
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
                @if recent.len() > 300 { p.small { "Showing the 300 newest of " (recent.len()) "." } }
            }
            @if !old.is_empty() { p.small { (old.len()) " older leads (over " (WAITING_DAYS) " days) were never answered." } }
        }
    };
    Ok(layout::page(req, "Leads", Nav::Leads, body))
}
