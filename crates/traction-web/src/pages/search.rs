//! Search from every page (the box in the top bar): deals, leads, customers and contacts whose
//! name, e-mail or id starts with what was typed, in any case, and — for a company found — its
//! deals, contacts and leads; a person found brings their leads. Every lookup reads an index
//! (`SearchStore::search_prefix` and the reference indexes of migration V10), never a scan, and
//! records outside the caller's read scope are left out.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{Backend, ListQuery};

use super::records::{allow, link, money_field, or_dash, tag};
use super::work::lead_label;
use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

/// How many records of each kind a search shows.
const SHOWN: usize = 20;

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, _| build(state, &req, &params)).await
}

/// Records found, by kind, each once, in the caller's read scope.
#[derive(Default)]
struct Found {
    deals: Vec<Record>,
    leads: Vec<Record>,
    accounts: Vec<Record>,
    contacts: Vec<Record>,
}

fn add(list: &mut Vec<Record>, r: Record, store: &dyn Backend, req: &Req) -> Result<()> {
    if list.len() >= SHOWN || list.iter().any(|x| x.get("id") == r.get("id")) {
        return Ok(());
    }
    if let Some(p) = req.principal.as_deref()
        && !traction_server::auth::authz::visible(p, store, &r)?
    {
        return Ok(());
    }
    list.push(r);
    Ok(())
}

fn find_all(store: &dyn Backend, req: &Req, q: &str) -> Result<Found> {
    let mut found = Found::default();
    let by = |entity: Entity, field: &str| store.search_prefix(entity, field, q, SHOWN);
    let referring = |entity: Entity, field: &'static str, id: &Value, time: &str| {
        store.recent(
            entity,
            time,
            &ListQuery {
                filters: &[(field, id.clone())],
                condition: None,
                after: None,
                limit: SHOWN,
            },
        )
    };
    for field in ["name", "id"] {
        for r in by(Entity::Accounts, field)? {
            add(&mut found.accounts, r, store, req)?;
        }
        for r in by(Entity::Deals, field)? {
            add(&mut found.deals, r, store, req)?;
        }
    }
    for field in ["name", "email", "id"] {
        for r in by(Entity::Contacts, field)? {
            add(&mut found.contacts, r, store, req)?;
        }
    }
    for r in by(Entity::Leads, "id")? {
        add(&mut found.leads, r, store, req)?;
    }
    // A company found brings its deals, contacts and leads; a person their leads.
    for a in found.accounts.clone() {
        let id = a.get("id");
        for r in referring(Entity::Deals, "account_id", id, "created_at")? {
            add(&mut found.deals, r, store, req)?;
        }
        for r in referring(Entity::Contacts, "account_id", id, "created_at")? {
            add(&mut found.contacts, r, store, req)?;
        }
        for r in referring(Entity::Leads, "account_id", id, "created_at")? {
            add(&mut found.leads, r, store, req)?;
        }
    }
    for c in found.contacts.clone() {
        for r in referring(Entity::Leads, "contact_id", c.get("id"), "created_at")? {
            add(&mut found.leads, r, store, req)?;
        }
    }
    Ok(found)
}

fn build(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(params, &["q"], "search")?;
    let store = state.store.as_ref();
    let q = params.get("q").map(str::trim).unwrap_or("");
    if q.chars().count() > 200 {
        return Err(WebError::bad("q: a search is at most 200 characters"));
    }
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let found = if q.is_empty() { Found::default() } else { find_all(store, req, q)? };
    let total = found.deals.len() + found.leads.len() + found.accounts.len() + found.contacts.len();
    let body = html! {
        div.page-head {
            h1 { "Search" }
            form.filters method="get" action="/search" role="search" {
                label for="search-q" { "Name, e-mail, company or id" }
                input type="search" name="q" id="search-q" value=(q) maxlength="200";
                button type="submit" { "Search" }
            }
            @if !q.is_empty() {
                p.sub #search-summary { (total) " found for “" (q) "” — names, e-mails and ids that start with it" }
            }
        }
        @if !q.is_empty() && total == 0 {
            (layout::empty("Nothing starts with that. Try the start of a name, an e-mail address or an id.", None))
        }
        @if !found.contacts.is_empty() {
            section.card #found-contacts { h2 { "Contacts" }
                ul.plain { @for c in &found.contacts { li {
                    a href=(link("/contacts", text(c, "id"))) { (text(c, "name")) }
                    @if let Some(e) = c.get("email").as_text() { " · " (e) }
                } } }
            }
        }
        @if !found.accounts.is_empty() {
            section.card #found-customers { h2 { "Customers" }
                ul.plain { @for a in &found.accounts { li { a href=(link("/customers", text(a, "id"))) { (text(a, "name")) } } } }
            }
        }
        @if !found.deals.is_empty() {
            section.card #found-deals { h2 { "Deals" }
                ul.plain { @for d in &found.deals { li {
                    a href=(link("/deals", text(d, "id"))) { (or_dash(d.get("name").as_text().unwrap_or(text(d, "id")))) }
                    " · " (names.stage(text(d, "stage_id"))) " · " (money_field(&ws, d, "amount")) " · " (names.user(text(d, "owner_id")))
                } } }
            }
        }
        @if !found.leads.is_empty() {
            section.card #found-leads { h2 { "Leads" }
                ul.plain { @for l in &found.leads { li {
                    a href=(link("/leads", text(l, "id"))) { (lead_label(store, l)?) }
                    " · " (tag(text(l, "status")))
                } } }
            }
        }
    };
    Ok(layout::page(req, "Search", Nav::Search, body))
}
