//! The pages of the records people work in (interfaces.md, Web application): a deal, a lead and
//! a contact, each with its fields, the next step, the related records and a timeline — stage
//! changes, activities (notes are activities of kind `note`), e-mail events and the audit log's
//! entries for the record, newest first. A customer's page is in `records/customers.rs`.
//!
//! Every list on these pages is read through an index on the record it belongs to (migration
//! V10), newest first and bounded, so a page costs the same at any scale. A record the caller
//! may not read is answered as if it did not exist, and related records are filtered by the
//! caller's read scope as every list is.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{Backend, ListQuery};

use super::records::{
    allow, check_visible, day_of, find, link, money_field, or_dash, read_scope, tag, when,
};
use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, encode, respond};

/// How many entries of each kind a timeline reads (the newest).
const TIMELINE: usize = 50;
/// How many related records of each kind a page lists.
const RELATED: usize = 20;

pub async fn deal(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| deal_page(state, &req, &params, &id, now)).await
}

pub async fn lead(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| lead_page(state, &req, &params, &id, now, None)).await
}

pub async fn contact(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| contact_page(state, &req, &params, &id, now)).await
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// One entry of a record's timeline.
struct Entry {
    at: Micros,
    /// `stage`, `activity`, `email`, `note`, `change`: a class and a word for people.
    kind: &'static str,
    body: Markup,
}

/// Up to `limit` records of `entity` whose `field` is `id`, newest first by `time`, within the
/// caller's read scope.
fn related(
    store: &dyn Backend,
    req: &Req,
    entity: Entity,
    field: &str,
    id: &str,
    time: &str,
    limit: usize,
) -> Result<Vec<Record>> {
    let filters = [(field, Value::Text(id.to_string()))];
    let scope = read_scope(req, entity);
    Ok(store.recent(
        entity,
        time,
        &ListQuery { filters: &filters, condition: scope.condition(), after: None, limit },
    )?)
}

/// A record by id when it exists (a dangling or empty reference is `None`).
fn get(store: &dyn Backend, entity: Entity, id: &str) -> Result<Option<Record>> {
    if id.is_empty() {
        return Ok(None);
    }
    Ok(store.get(entity, &[Value::Text(id.to_string())])?)
}

/// A record's name, or its id when it has none.
fn name_or_id(r: &Record) -> &str {
    match text(r, "name") {
        "" => text(r, "id"),
        n => n,
    }
}

/// A link to a related record, by name, or a dash when there is none.
fn ref_link(store: &dyn Backend, entity: Entity, base: &str, id: &str) -> Result<Markup> {
    Ok(match get(store, entity, id)? {
        Some(r) => html! { a href=(link(base, id)) { (name_or_id(&r)) } },
        None if id.is_empty() => html! { "–" },
        None => html! { (id) },
    })
}

/// What a lead is called: its person and company (`Carol Contact · Acme`), else its id.
pub fn lead_label(store: &dyn Backend, lead: &Record) -> Result<String> {
    let person = get(store, Entity::Contacts, text(lead, "contact_id"))?;
    let company = get(store, Entity::Accounts, text(lead, "account_id"))?;
    let parts: Vec<&str> =
        [person.as_ref(), company.as_ref()].into_iter().flatten().map(name_or_id).collect();
    Ok(if parts.is_empty() { format!("Lead {}", text(lead, "id")) } else { parts.join(" · ") })
}

/// Activities as timeline entries (a note is its text, the rest kind, outcome and subject).
fn activity_entries(acts: &[Record], names: &Names, out: &mut Vec<Entry>) {
    for a in acts {
        let Some(at) = instant(a, "occurred_at") else { continue };
        let kind = text(a, "kind");
        let who = names.user(text(a, "owner_id"));
        let body = if kind == "task" {
            let done = matches!(a.get("done"), Value::Bool(true));
            html! {
                strong { "Task" } " for " (who) ": " (or_dash(text(a, "subject")))
                " · " (if done { "done" } else { "open" })
            }
        } else if kind == "note" {
            html! { strong { "Note" } " by " (who) ": " (or_dash(text(a, "subject"))) }
        } else {
            html! {
                strong { (capitalised(kind)) }
                @if text(a, "direction") == "inbound" { " (inbound)" }
                " by " (who)
                @if !text(a, "outcome").is_empty() { " · " (text(a, "outcome").replace('_', " ")) }
                @if !text(a, "subject").is_empty() { " · " (text(a, "subject")) }
            }
        };
        out.push(Entry { at, kind: if kind == "note" { "note" } else { "activity" }, body });
    }
}

/// E-mail events as timeline entries.
fn email_entries(events: &[Record], out: &mut Vec<Entry>) {
    for e in events {
        let Some(at) = instant(e, "occurred_at") else { continue };
        out.push(Entry {
            at,
            kind: "email",
            body: html! { strong { "E-mail " (text(e, "kind")) } " · message " (text(e, "message_id")) },
        });
    }
}

/// The audit log's entries for a record: who created, changed (which fields) or deleted it.
fn audit_entries(
    store: &dyn Backend,
    entity: Entity,
    id: &str,
    names: &Names,
    out: &mut Vec<Entry>,
) -> Result<()> {
    for row in store.audit_of(entity.name(), id, TIMELINE)? {
        let who = match row.actor.as_str() {
            "cli" => "the command line",
            "system" => "the system",
            actor => names.user(actor),
        };
        let changed = changed_fields(row.before.as_deref(), row.after.as_deref());
        let body = match row.action.as_str() {
            "create" => html! { strong { "Created" } " by " (who) },
            "delete" => html! { strong { "Deleted" } " by " (who) },
            "update" if changed.is_empty() => {
                html! { strong { "Saved" } " by " (who) " (no change)" }
            }
            "update" => html! { strong { "Changed" } " by " (who) ": " (changed.join(", ")) },
            other => html! { strong { (other) } " by " (who) },
        };
        out.push(Entry { at: row.at, kind: "change", body });
    }
    Ok(())
}

/// The fields whose values differ between two audit JSON objects, as `field: old → new`.
fn changed_fields(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    let parse = |t: Option<&str>| -> serde_json::Map<String, serde_json::Value> {
        t.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    };
    let (before, after) = (parse(before), parse(after));
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "–".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| format!("{k}: {} → {}", show(before.get(k)), show(after.get(k))))
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The timeline, newest first.
fn timeline(mut entries: Vec<Entry>, ws: &Ws, now: Micros) -> Markup {
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    html! {
        section.card #timeline data-live aria-labelledby="timeline-h" {
            h2 #timeline-h { "Timeline" }
            @if entries.is_empty() {
                p.sub { "Nothing has happened here yet." }
            } @else {
                ol.timeline {
                    @for e in &entries {
                        li class={"tl tl-" (e.kind)} {
                            time { (ws.when(e.at)) }
                            @if e.at > now { " " span.tag { "planned" } }
                            " " (e.body)
                        }
                    }
                }
                @if entries.len() >= TIMELINE {
                    p.small { "The latest " (TIMELINE) " of each kind are shown." }
                }
            }
        }
    }
}

/// The next step of a record: the earliest planned activity (one dated after now), else what
/// to do, with a link to log it.
fn next_step(acts: &[Record], ws: &Ws, names: &Names, now: Micros, log_href: &str) -> Markup {
    let planned = acts
        .iter()
        .filter(|a| instant(a, "occurred_at").is_some_and(|t| t > now))
        .min_by_key(|a| instant(a, "occurred_at"));
    html! {
        @match planned {
            Some(a) => p #next-step {
                strong { (capitalised(text(a, "kind"))) }
                " on " (when(ws, a, "occurred_at")) " · " (names.user(text(a, "owner_id")))
                @if !text(a, "subject").is_empty() { " · " (text(a, "subject")) }
            },
            None => p #next-step { "Nothing planned. " a href=(log_href) { "Log an activity" } },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A deal

fn deal_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a deal's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let deal = find(store, Entity::Deals, id)?;
    check_visible(store, req, &deal, Entity::Deals, id)?;
    let name = name_or_id(&deal).to_string();
    let account_id = text(&deal, "account_id");
    let pipeline = get(store, Entity::Pipelines, text(&deal, "pipeline_id"))?;

    let acts = related(store, req, Entity::Activities, "deal_id", id, "occurred_at", TIMELINE)?;
    let leads = related(store, req, Entity::Leads, "deal_id", id, "created_at", RELATED)?;
    let (contacts, orders) = if account_id.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            related(store, req, Entity::Contacts, "account_id", account_id, "created_at", RELATED)?,
            related(store, req, Entity::Orders, "account_id", account_id, "placed_at", RELATED)?,
        )
    };
    let mut entries = Vec::new();
    let moves = store.list(
        Entity::StageChanges,
        &ListQuery {
            filters: &[("deal_id", Value::Text(id.to_string()))],
            condition: None,
            after: None,
            limit: 500,
        },
    )?;
    for m in &moves {
        if let Some(at) = instant(m, "changed_at") {
            let by = text(m, "changed_by");
            entries.push(Entry {
                at,
                kind: "stage",
                body: html! {
                    strong { "Moved to " (names.stage(text(m, "stage_id"))) }
                    @if !by.is_empty() { " by " (names.user(by)) }
                },
            });
        }
    }
    activity_entries(&acts, &names, &mut entries);
    for l in &leads {
        let lead_emails = related(
            store,
            req,
            Entity::EmailEvents,
            "lead_id",
            text(l, "id"),
            "occurred_at",
            TIMELINE,
        )?;
        email_entries(&lead_emails, &mut entries);
    }
    audit_entries(store, Entity::Deals, id, &names, &mut entries)?;

    let status = text(&deal, "status");
    let today = ws.today(now);
    let late_close =
        status == "open" && matches!(deal.get("expected_close_on"), Value::Date(d) if *d < today);
    let log_href = format!("/log?deal_id={}", encode(id));
    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub {
                a href="/pipeline" { "Pipeline" }
                @if let Some(p) = &pipeline { " · " (text(p, "name")) }
                " · " (names.stage(text(&deal, "stage_id"))) " · " (tag(status))
            }
            p.actions { a.button href=(log_href) { "Log activity" } }
            (super::edit::actions(req, Entity::Deals, id, Some("deal_id")))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Deal" }
                dl.facts {
                    dt { "Amount" } dd.num { (money_field(&ws, &deal, "amount")) }
                    dt { "Stage" } dd { (names.stage(text(&deal, "stage_id"))) }
                    dt { "Status" } dd { (tag(status)) }
                    dt { "Owner" } dd { (or_dash(names.user(text(&deal, "owner_id")))) }
                    dt { "Customer" } dd { (ref_link(store, Entity::Accounts, "/customers", account_id)?) }
                    dt { "Created" } dd { (when(&ws, &deal, "created_at")) }
                    dt { "Expected to close" } dd {
                        (day_of(&ws, &deal, "expected_close_on"))
                        @if late_close { " " span.tag.bad { "overdue" } }
                    }
                    @if instant(&deal, "closed_at").is_some() {
                        dt { "Closed" } dd { (when(&ws, &deal, "closed_at")) }
                    }
                    @if !text(&deal, "lost_reason").is_empty() { dt { "Lost because" } dd { (text(&deal, "lost_reason").replace('_', " ")) } }
                    @if !text(&deal, "competitor").is_empty() { dt { "Competitor" } dd { (text(&deal, "competitor")) } }
                    dt { "Source" } dd { (or_dash(text(&deal, "source"))) }
                    dt { "Campaign" } dd { (ref_link(store, Entity::Campaigns, "/campaigns", text(&deal, "campaign_id"))?) }
                    dt { "Type" } dd { (text(&deal, "deal_type").replace('_', " ")) }
                    @if let Some(m) = deal.get("contract_months").as_int() { dt { "Contract" } dd { (m) " months" } }
                }
            }
            section.card aria-labelledby="next-h" {
                h2 #next-h { "Next step" }
                (next_step(&acts, &ws, &names, now, &log_href))
                h2 { "Lead" }
                @if leads.is_empty() { p.sub { "Not from a lead." } } @else {
                    ul.plain { @for l in &leads { li { a href=(link("/leads", text(l, "id"))) { (lead_label(store, l)?) } " · " (tag(text(l, "status"))) } } }
                }
                h2 { "Contacts" }
                @if contacts.is_empty() { p.sub { "No contacts at this customer." } } @else {
                    ul.plain { @for c in &contacts { li { a href=(link("/contacts", text(c, "id"))) { (text(c, "name")) } @if let Some(e) = c.get("email").as_text() { " · " (e) } } } }
                }
                h2 { "Orders" }
                @if orders.is_empty() { p.sub { "No orders from this customer." } } @else {
                    ul.plain { @for o in &orders { li { a href=(link("/orders", text(o, "id"))) { (text(o, "id")) } " · " (day_of(&ws, o, "placed_at")) " · " (tag(text(o, "status"))) } } }
                }
            }
        }
        (timeline(entries, &ws, now))
    };
    Ok(layout::page(req, &name, Nav::Pipeline, body))
}

// ---------------------------------------------------------------------------------------------
// A lead

/// A lead's page; `problem` is a refused step (`qualify`, `convert`, `disqualify`) and why, shown
/// at its form with what was typed.
fn lead_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
    problem: Option<(&str, &str, &crate::forms::Form)>,
) -> Result<Markup> {
    allow(params, &[], "a lead's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let lead = find(store, Entity::Leads, id)?;
    check_visible(store, req, &lead, Entity::Leads, id)?;
    let title = lead_label(store, &lead)?;
    let acts = related(store, req, Entity::Activities, "lead_id", id, "occurred_at", TIMELINE)?;
    let emails = related(store, req, Entity::EmailEvents, "lead_id", id, "occurred_at", TIMELINE)?;
    let mut entries = Vec::new();
    activity_entries(&acts, &names, &mut entries);
    email_entries(&emails, &mut entries);
    audit_entries(store, Entity::Leads, id, &names, &mut entries)?;

    let created = instant(&lead, "created_at");
    let answered = instant(&lead, "first_response_at");
    let status = text(&lead, "status");
    let waiting = answered.is_none() && status == "new";
    let log_href = format!("/log?lead_id={}", encode(id));
    let body = html! {
        div.page-head {
            h1 { (title) }
            p.sub {
                a href="/leads" { "Leads" } " · came in " (when(&ws, &lead, "created_at"))
                " via " (or_dash(text(&lead, "source"))) " · " (tag(status))
            }
            @if let Some((step, message, _)) = problem {
                p.notice.bad role="alert" { "Could not " (step) " this lead: " (message) }
            }
            p.actions { a.button href=(log_href) { (if waiting { "Log a reply" } else { "Log activity" }) } }
            (super::edit::actions(req, Entity::Leads, id, Some("lead_id")))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Lead" }
                dl.facts {
                    dt { "Status" } dd { (tag(status)) }
                    dt { "Source" } dd { (or_dash(text(&lead, "source"))) }
                    dt { "Owner" } dd { (or_dash(names.user(text(&lead, "owner_id")))) }
                    dt { "Person" } dd { (ref_link(store, Entity::Contacts, "/contacts", text(&lead, "contact_id"))?) }
                    dt { "Company" } dd { (ref_link(store, Entity::Accounts, "/customers", text(&lead, "account_id"))?) }
                    dt { "Campaign" } dd { (ref_link(store, Entity::Campaigns, "/campaigns", text(&lead, "campaign_id"))?) }
                    dt { "Came in" } dd { (when(&ws, &lead, "created_at")) }
                    dt { "First answer" } dd {
                        @match (created, answered) {
                            (Some(c), Some(a)) => { (ws.when(a)) " · after " (ws.fmt.duration((a - c).max(0) as f64 / 1e6)) },
                            _ => "not yet",
                        }
                    }
                    @if instant(&lead, "qualified_at").is_some() { dt { "Qualified" } dd { (when(&ws, &lead, "qualified_at")) } }
                    @if instant(&lead, "converted_at").is_some() { dt { "Converted" } dd { (when(&ws, &lead, "converted_at")) } }
                    @if !text(&lead, "deal_id").is_empty() { dt { "Deal" } dd { (ref_link(store, Entity::Deals, "/deals", text(&lead, "deal_id"))?) } }
                    @if !text(&lead, "disqualified_reason").is_empty() { dt { "Disqualified because" } dd { (text(&lead, "disqualified_reason").replace('_', " ")) } }
                }
            }
            section.card aria-labelledby="next-h" {
                h2 #next-h { "Next step" }
                @if waiting {
                    @let since = created.map_or(0, |c| (now - c).max(0));
                    p #next-step {
                        strong { "Answer it" } " — waiting for " (ws.fmt.duration(since as f64 / 1e6)) ". "
                        a href=(log_href) { "Log a reply" }
                    }
                } @else {
                    (next_step(&acts, &ws, &names, now, &log_href))
                }
                @if super::edit::can_write(req) && !matches!(status, "converted" | "disqualified") {
                    (lead_steps(store, req, id, status, problem)?)
                }
            }
        }
        (timeline(entries, &ws, now))
    };
    Ok(layout::page(req, &title, Nav::Leads, body))
}

/// Reasons offered when disqualifying (any other word may be typed).
const DISQUALIFY_REASONS: &[&str] =
    &["no_response", "no_budget", "not_a_fit", "competitor", "duplicate", "spam"];

/// Qualify, convert to a deal, disqualify: one form and one click each.
fn lead_steps(
    store: &dyn Backend,
    req: &Req,
    id: &str,
    status: &str,
    problem: Option<(&str, &str, &crate::forms::Form)>,
) -> Result<Markup> {
    let pipelines = list(store, Entity::Pipelines, &[], 1000)?;
    let error = |step: &str| problem.filter(|(s, _, _)| *s == step).map(|(_, m, _)| m.to_string());
    let typed = |step: &str, field: &str| {
        problem
            .filter(|(s, _, _)| *s == step)
            .and_then(|(_, _, f)| f.get(field).map(str::to_string))
    };
    let action = |step: &str| format!("/leads/{}/{step}", encode(id));
    let csrf = req.csrf.as_deref();
    Ok(html! {
        h2 { "Move it on" }
        div.lead-steps {
            @if status != "qualified" {
                form method="post" action=(action("qualify")) {
                    @if let Some(t) = csrf { input type="hidden" name="_csrf" value=(t); }
                    button type="submit" { "Qualify" }
                    @if let Some(e) = error("qualify") { p.error-text role="alert" { (e) } }
                }
            }
            form method="post" action=(action("convert")) {
                @if let Some(t) = csrf { input type="hidden" name="_csrf" value=(t); }
                label for="convert-amount" { "Deal amount" }
                input type="text" name="amount" id="convert-amount" inputmode="decimal" required
                    value=[typed("convert", "amount")] placeholder="1250.00";
                @if pipelines.len() > 1 {
                    label for="convert-pipeline" { "Pipeline" }
                    select name="pipeline_id" id="convert-pipeline" {
                        @for p in &pipelines {
                            option value=(text(p, "id")) selected[typed("convert", "pipeline_id").as_deref() == Some(text(p, "id"))] { (text(p, "name")) }
                        }
                    }
                }
                button type="submit" { "Convert to a deal" }
                @if let Some(e) = error("convert") { p.error-text role="alert" data-for="amount" { (e) } }
            }
            form method="post" action=(action("disqualify")) {
                @if let Some(t) = csrf { input type="hidden" name="_csrf" value=(t); }
                label for="dq-reason" { "Reason" }
                input type="text" name="reason" id="dq-reason" list="dq-reasons" required
                    value=[typed("disqualify", "reason")];
                datalist #dq-reasons { @for r in DISQUALIFY_REASONS { option value=(r) {} } }
                button type="submit" { "Disqualify" }
                @if let Some(e) = error("disqualify") { p.error-text role="alert" data-for="reason" { (e) } }
            }
        }
    })
}

/// `POST /leads/{id}/{qualify|convert|disqualify}`: one step, written as the signed-in user
/// through their guarded store. Converting creates the deal — in the pipeline's first open
/// stage, for the lead's owner, company, source and campaign — and links both, in one write.
pub async fn lead_step(
    State(state): State<AppState>,
    req: Req,
    Path((id, step)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response> {
    use axum::response::IntoResponse;
    let form = crate::forms::Form::parse(&body)?;
    let r = req.clone();
    let lead_id = id.clone();
    let step_name = step.clone();
    let outcome = crate::compute(state.clone(), move |st, now| {
        let store = st.store.as_ref();
        let lead = find(store, Entity::Leads, &lead_id)?;
        check_visible(store, &r, &lead, Entity::Leads, &lead_id)?;
        let principal = r.principal()?;
        let records = match step_records(store, &lead, &step_name, &form, now, &r)? {
            Ok(records) => records,
            Err(problem) => return Ok(Err((problem.to_string(), form))),
        };
        let target = match step_name.as_str() {
            "convert" => format!("/deals/{}", encode(text(&records[0], "id"))),
            _ => format!("/leads/{}", encode(&lead_id)),
        };
        match crate::forms::write_as(st, principal, now, records)? {
            Ok(summary) => Ok(Ok((summary, target))),
            Err(problems) => {
                let text = problems
                    .iter()
                    .map(|(f, m)| if f.is_empty() { m.clone() } else { format!("{f}: {m}") })
                    .collect::<Vec<_>>()
                    .join("; ");
                Ok(Err((text, form)))
            }
        }
    })
    .await?;
    match outcome {
        Ok((summary, target)) => {
            crate::forms::announce(&state, &summary, Entity::Leads);
            Ok(crate::forms::see_other(&target))
        }
        Err((problem, form)) => {
            let markup = crate::compute(state, move |state, now| {
                lead_page(
                    state,
                    &req,
                    &Params(Vec::new()),
                    &id,
                    now,
                    Some((&step, &problem, &form)),
                )
            })
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
        }
    }
}

/// Why a step on a lead is refused (shown on the lead's page, with the form kept).
#[derive(Debug, thiserror::Error)]
enum StepRefusal {
    #[error("this lead is already {status}")]
    Closed { status: String },
    #[error("say why it is disqualified (no_response, no_budget, not_a_fit, …)")]
    NoReason,
    #[error("the deal's amount is required: write it in major units, such as 1250.00")]
    NoAmount,
    #[error("amount: {0}")]
    Amount(traction_domain::Error),
    #[error("there is no pipeline yet: an admin adds one first")]
    NoPipeline,
    #[error("pipeline {pipeline:?} has no open stage to start the deal in")]
    NoOpenStage { pipeline: String },
}

/// The records a step writes, or the problem with its input.
fn step_records(
    store: &dyn Backend,
    lead: &Record,
    step: &str,
    form: &crate::forms::Form,
    now: Micros,
    req: &Req,
) -> Result<std::result::Result<Vec<Record>, StepRefusal>> {
    let status = text(lead, "status");
    if matches!(status, "converted" | "disqualified") {
        return Ok(Err(StepRefusal::Closed { status: status.to_string() }));
    }
    let mut lead = lead.clone();
    if lead.get("qualified_at").is_null() && step != "disqualify" {
        lead.set("qualified_at", Value::Instant(now));
    }
    match step {
        "qualify" => {
            lead.set("status", Value::Text("qualified".into()));
            Ok(Ok(vec![lead]))
        }
        "disqualify" => {
            let Some(reason) = form.get("reason") else {
                return Ok(Err(StepRefusal::NoReason));
            };
            lead.set("status", Value::Text("disqualified".into()));
            lead.set("disqualified_reason", Value::Text(reason.to_lowercase().replace(' ', "_")));
            Ok(Ok(vec![lead]))
        }
        "convert" => {
            let currency = store.workspace()?.currency;
            let amount = match form.get("amount") {
                None => return Ok(Err(StepRefusal::NoAmount)),
                Some(a) => match traction_domain::money::parse_minor(a, currency) {
                    Ok(m) => m,
                    Err(e) => return Ok(Err(StepRefusal::Amount(e))),
                },
            };
            let pipelines = list(store, Entity::Pipelines, &[], 1000)?;
            let pipeline = match form.get("pipeline_id") {
                Some(p) => p.to_string(),
                None => match pipelines.first() {
                    Some(p) => text(p, "id").to_string(),
                    None => return Ok(Err(StepRefusal::NoPipeline)),
                },
            };
            let mut stages = list(
                store,
                Entity::Stages,
                &[("pipeline_id", Value::Text(pipeline.clone()))],
                1000,
            )?;
            stages.retain(|s| text(s, "kind") == "open");
            stages.sort_by_key(|s| s.get("position").as_int());
            let Some(first) = stages.first() else {
                return Ok(Err(StepRefusal::NoOpenStage { pipeline }));
            };
            let owner = match text(&lead, "owner_id") {
                "" => req.user.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
                o => o.to_string(),
            };
            let deal_id = traction_server::api::records::generated_id(Entity::Deals, now);
            let mut deal = Record {
                entity: Entity::Deals,
                values: vec![Value::Null; Entity::Deals.fields().len()],
            };
            let name = lead_label(store, &lead)?;
            for (field, value) in [
                ("id", Value::Text(deal_id.clone())),
                ("name", Value::Text(name)),
                ("pipeline_id", Value::Text(pipeline)),
                ("stage_id", Value::Text(text(first, "id").to_string())),
                ("owner_id", Value::Text(owner)),
                ("amount", Value::Int(amount)),
                ("created_at", Value::Instant(now)),
                ("deal_type", Value::Text("new_business".into())),
                ("account_id", lead.get("account_id").clone()),
                ("source", lead.get("source").clone()),
                ("campaign_id", lead.get("campaign_id").clone()),
            ] {
                deal.set(field, value);
            }
            lead.set("status", Value::Text("converted".into()));
            lead.set("converted_at", Value::Instant(now));
            lead.set("deal_id", Value::Text(deal_id));
            Ok(Ok(vec![deal, lead]))
        }
        other => Err(crate::WebError::not_found(format!(
            "a lead has no step {other:?}: qualify, convert or disqualify"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// A contact

fn contact_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a contact's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let contact = find(store, Entity::Contacts, id)?;
    check_visible(store, req, &contact, Entity::Contacts, id)?;
    let name = name_or_id(&contact).to_string();
    let account_id = text(&contact, "account_id");
    let acts = related(store, req, Entity::Activities, "contact_id", id, "occurred_at", TIMELINE)?;
    let emails =
        related(store, req, Entity::EmailEvents, "contact_id", id, "occurred_at", TIMELINE)?;
    let leads = related(store, req, Entity::Leads, "contact_id", id, "created_at", RELATED)?;
    let deals = if account_id.is_empty() {
        Vec::new()
    } else {
        related(store, req, Entity::Deals, "account_id", account_id, "created_at", RELATED)?
    };
    let mut entries = Vec::new();
    activity_entries(&acts, &names, &mut entries);
    email_entries(&emails, &mut entries);
    audit_entries(store, Entity::Contacts, id, &names, &mut entries)?;
    let mut stage_names: BTreeMap<&str, &str> = BTreeMap::new();
    for d in &deals {
        stage_names.insert(text(d, "stage_id"), names.stage(text(d, "stage_id")));
    }
    let log_href = format!("/log?contact_id={}", encode(id));
    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/customers" { "Customers" } " · contact" }
            (super::edit::actions(req, Entity::Contacts, id, Some("contact_id")))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Contact" }
                dl.facts {
                    dt { "E-mail" } dd { @if let Some(e) = contact.get("email").as_text() { a href={"mailto:" (e)} { (e) } } @else { "–" } }
                    dt { "Phone" } dd { (or_dash(text(&contact, "phone"))) }
                    dt { "Company" } dd { (ref_link(store, Entity::Accounts, "/customers", account_id)?) }
                    dt { "Owner" } dd { (or_dash(names.user(text(&contact, "owner_id")))) }
                    dt { "Added" } dd { (when(&ws, &contact, "created_at")) }
                }
            }
            section.card aria-labelledby="next-h" {
                h2 #next-h { "Next step" }
                (next_step(&acts, &ws, &names, now, &log_href))
                h2 { "Leads" }
                @if leads.is_empty() { p.sub { "No leads from this person." } } @else {
                    ul.plain { @for l in &leads { li { a href=(link("/leads", text(l, "id"))) { "Lead " (text(l, "id")) } " · " (day_of(&ws, l, "created_at")) " · " (tag(text(l, "status"))) } } }
                }
                h2 { "Deals with the company" }
                @if deals.is_empty() { p.sub { "No deals with this company." } } @else {
                    ul.plain { @for d in &deals { li { a href=(link("/deals", text(d, "id"))) { (name_or_id(d)) } " · " (stage_names.get(text(d, "stage_id")).copied().unwrap_or("")) " · " (money_field(&ws, d, "amount")) } } }
                }
            }
        }
        (timeline(entries, &ws, now))
    };
    Ok(layout::page(req, &name, Nav::Customers, body))
}

// ---------------------------------------------------------------------------------------------
// An account (its page is the customer page, `records/customers.rs`; these are its working parts)

/// An account's next step and timeline: its activities (notes and tasks included), the stage
/// changes of its deals, the e-mails of its contacts and its audit entries, as on a deal's,
/// lead's or contact's page.
pub fn account_work(
    state: &AppState,
    req: &Req,
    id: &str,
    deals: &[Record],
    contacts: &[Record],
    now: Micros,
) -> Result<(Markup, Markup)> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let acts = related(store, req, Entity::Activities, "account_id", id, "occurred_at", TIMELINE)?;
    let mut entries = Vec::new();
    activity_entries(&acts, &names, &mut entries);
    for d in deals {
        let changes = related(
            store,
            req,
            Entity::StageChanges,
            "deal_id",
            text(d, "id"),
            "changed_at",
            RELATED,
        )?;
        for c in &changes {
            let Some(at) = instant(c, "changed_at") else { continue };
            let body = html! {
                a href=(link("/deals", text(d, "id"))) { (name_or_id(d)) }
                " entered " strong { (names.stage(text(c, "stage_id"))) }
                @if !text(c, "changed_by").is_empty() { " · " (names.user(text(c, "changed_by"))) }
            };
            entries.push(Entry { at, kind: "stage", body });
        }
    }
    for c in contacts {
        let emails = related(
            store,
            req,
            Entity::EmailEvents,
            "contact_id",
            text(c, "id"),
            "occurred_at",
            RELATED,
        )?;
        email_entries(&emails, &mut entries);
    }
    audit_entries(store, Entity::Accounts, id, &names, &mut entries)?;
    let log_href = format!("/log?account_id={}", encode(id));
    let next = html! {
        section.card aria-labelledby="next-h" {
            h2 #next-h { "Next step" }
            (next_step(&acts, &ws, &names, now, &log_href))
        }
    };
    Ok((next, timeline(entries, &ws, now)))
}

// ---------------------------------------------------------------------------------------------
// Tasks and follow-ups

/// How many of a person's tasks the Today page reads (by due time, latest first).
const TASKS: usize = 1000;

/// The signed-in user's open tasks due by `until` (today's end), the overdue ones marked, each
/// with Done — what the Today page shows its owner.
pub fn my_tasks(
    store: &dyn Backend,
    req: &Req,
    ws: &Ws,
    now: Micros,
    until: Micros,
) -> Result<Markup> {
    let Some(user) = &req.user else { return Ok(html! {}) };
    let filters =
        [("owner_id", Value::Text(user.id.clone())), ("kind", Value::Text("task".into()))];
    let mut tasks: Vec<Record> = store
        .recent(
            Entity::Activities,
            "due_at",
            &ListQuery { filters: &filters, condition: None, after: None, limit: TASKS },
        )?
        .into_iter()
        .filter(|t| !matches!(t.get("done"), Value::Bool(true)))
        .filter(|t| instant(t, "due_at").is_some_and(|d| d < until))
        .collect();
    tasks.sort_by_key(|t| instant(t, "due_at"));
    let overdue = tasks.iter().filter(|t| instant(t, "due_at").is_some_and(|d| d < now)).count();
    let about = |t: &Record| -> Result<Markup> {
        for (field, entity, base) in [
            ("deal_id", Entity::Deals, "/deals"),
            ("lead_id", Entity::Leads, "/leads"),
            ("contact_id", Entity::Contacts, "/contacts"),
            ("account_id", Entity::Accounts, "/customers"),
        ] {
            let id = text(t, field);
            if let Some(r) = get(store, entity, id)? {
                let label = if entity == Entity::Leads {
                    lead_label(store, &r)?
                } else {
                    name_or_id(&r).to_string()
                };
                return Ok(html! { " · " a href=(link(base, id)) { (label) } });
            }
        }
        Ok(html! {})
    };
    let mut rows = Vec::new();
    for t in &tasks {
        rows.push((t, about(t)?));
    }
    Ok(html! {
        section.card #tasks data-live aria-labelledby="tasks-h" {
            h2 #tasks-h { "My tasks" }
            p.sub { (tasks.len()) " due by the end of today · " (overdue) " overdue" }
            @if tasks.is_empty() {
                p { "Nothing due today. " a href="/records/activities/new?kind=task" { "Add a follow-up" } }
            } @else {
                ul.plain.tasks {
                    @for (t, about) in &rows {
                        @let due = instant(t, "due_at").unwrap_or(now);
                        li.task.overdue[due < now] {
                            form.inline method="post" action={"/tasks/" (encode(text(t, "id"))) "/done"} {
                                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                                button type="submit" aria-label={"Mark done: " (or_dash(text(t, "subject")))} { "Done" }
                            }
                            " " strong { (or_dash(text(t, "subject"))) }
                            " · due " (ws.when(due))
                            @if due < now { " " span.tag.bad { "overdue" } }
                            (about)
                        }
                    }
                }
            }
        }
    })
}

/// `POST /tasks/{id}/done`: marks a task done, as the signed-in user (a rep their own).
pub async fn task_done(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    let summary = crate::compute(state.clone(), move |st, now| {
        let store = st.store.as_ref();
        let mut task = find(store, Entity::Activities, &id)?;
        check_visible(store, &req, &task, Entity::Activities, &id)?;
        if text(&task, "kind") != "task" {
            return Err(crate::WebError::bad(format!(
                "activity {id:?} is a {}, not a task: only tasks are marked done",
                text(&task, "kind")
            )));
        }
        task.set("done", Value::Bool(true));
        let principal = req.principal()?;
        crate::forms::write_as(st, principal, now, vec![task])?.map_err(|problems| {
            crate::WebError::bad(
                problems.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "),
            )
        })
    })
    .await?;
    crate::forms::announce(&state, &summary, Entity::Activities);
    Ok(crate::forms::see_other("/today"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_name_what_differs() {
        let before = r#"{"id":"d1","amount":"100.00","stage_id":"s1","name":"X"}"#;
        let after = r#"{"id":"d1","amount":"250.00","stage_id":"s1","name":null}"#;
        assert_eq!(
            changed_fields(Some(before), Some(after)),
            vec!["amount: 100.00 → 250.00".to_string(), "name: X → –".to_string()]
        );
        assert!(changed_fields(Some(before), Some(before)).is_empty());
        assert_eq!(changed_fields(None, Some(r#"{"a":"1"}"#)), vec!["a: – → 1".to_string()]);
    }
}
