//! Create, edit and delete records in the browser: one form for every entity people type
//! (deals, leads, accounts, contacts, activities, products, campaigns, costs), driven by the
//! schema table (`traction_domain::schema`) — a field's type chooses its input, its description
//! is the hint, a required field is marked. Every save goes through the signed-in user's
//! guarded store, with the checks and the audit of the API; each problem is shown next to its
//! field with what was typed kept. A delete asks for confirmation, and a record still referred
//! to is not deleted: the page says by what.
//!
//! - `GET /records/{entity}/new` (query values preset fields: `?deal_id=d1&kind=note`)
//! - `GET /records/{entity}/{id}/edit`
//! - `POST /records/{entity}` saves (`_mode=create|edit`)
//! - `GET|POST /records/{entity}/{id}/delete` asks, then deletes

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::record::format_value;
use traction_domain::schema::{Field, FieldType};
use traction_domain::time::to_zoned;
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::Store;

use super::*;
use crate::forms::{self, FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, encode, respond};

/// The entities people do not type in this form, and where they come from instead. Every other
/// entity of the schema (`traction_domain::schema`) has the form — one added later too — with
/// users, teams, pipelines and stages for admins only (the guarded store refuses everyone else
/// with the reason).
const NOT_IN_FORM: &[(Entity, &str)] = &[
    (Entity::Targets, "targets have their own form: open Targets, then New target"),
    (
        Entity::StageChanges,
        "a deal's stage changes are recorded when it moves: move it on the board, or edit its stage",
    ),
    (Entity::Orders, "orders come from the shop: import them on the Import page"),
    (Entity::OrderLines, "order lines come with their orders: import them on the Import page"),
    (
        Entity::InventoryMovements,
        "stock movements follow orders, or are imported on the Import page",
    ),
    (Entity::WebVisits, "web visits come from the site's analytics: import them"),
    (Entity::EmailEvents, "e-mail events come from the mailing tool: import them or use its hook"),
    (Entity::Surveys, "survey answers come from the survey tool: import them"),
];

/// Fields a form does not offer: derived by the store from others (a deal's status from its
/// stage's kind).
fn derived(entity: Entity, field: &str) -> bool {
    matches!((entity, field), (Entity::Deals, "status"))
}

fn editable(name: &str) -> Result<Entity> {
    let entity = Entity::parse(name).map_err(|e| WebError::not_found(e.to_string()))?;
    match NOT_IN_FORM.iter().find(|(e, _)| *e == entity) {
        None => Ok(entity),
        Some((_, instead)) => Err(WebError::not_found(format!(
            "{} are not typed in this form: {instead}",
            entity.name()
        ))),
    }
}

/// A thing of `entity`, for headings: `deal`, `lead`, `customer`, ….
pub fn noun(entity: Entity) -> &'static str {
    match entity {
        Entity::Deals => "deal",
        Entity::Leads => "lead",
        Entity::Accounts => "customer",
        Entity::Contacts => "contact",
        Entity::Activities => "activity",
        Entity::Products => "product",
        Entity::Campaigns => "campaign",
        Entity::Costs => "cost",
        Entity::Events => "event",
        Entity::Users => "user",
        Entity::Teams => "team",
        Entity::Pipelines => "pipeline",
        Entity::Stages => "stage",
        _ => "record",
    }
}

/// A record's own page, where a save goes back to.
pub fn record_path(entity: Entity, id: &str) -> String {
    let id = encode(id);
    match entity {
        Entity::Deals => format!("/deals/{id}"),
        Entity::Leads => format!("/leads/{id}"),
        Entity::Accounts => format!("/customers/{id}"),
        Entity::Contacts => format!("/contacts/{id}"),
        Entity::Products => format!("/products/{id}"),
        Entity::Campaigns => format!("/campaigns/{id}"),
        Entity::Costs => "/costs".to_string(),
        Entity::Events => "/events".to_string(),
        Entity::Activities => "/today".to_string(),
        Entity::Users | Entity::Teams => "/settings".to_string(),
        Entity::Pipelines => format!("/pipeline?pipeline={id}"),
        Entity::Stages => "/pipeline".to_string(),
        _ => "/".to_string(),
    }
}

fn nav_of(entity: Entity) -> Nav {
    match entity {
        Entity::Deals => Nav::Pipeline,
        Entity::Leads => Nav::Leads,
        Entity::Activities => Nav::Log,
        Entity::Products => Nav::Products,
        Entity::Campaigns | Entity::Costs => Nav::Campaigns,
        Entity::Events => Nav::Events,
        Entity::Users | Entity::Teams => Nav::Settings,
        Entity::Pipelines | Entity::Stages => Nav::Pipeline,
        _ => Nav::Customers,
    }
}

/// Whether the signed-in user may write records at all (a viewer may not): pages show no
/// New, Edit or Delete to those who may not use them.
pub fn can_write(req: &Req) -> bool {
    req.user.as_ref().is_none_or(|u| u.role != "viewer")
}

pub async fn new_form(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(entity): Path<String>,
) -> Result<Response> {
    let entity = editable(&entity)?;
    respond(state, move |state, now| {
        let mut values = Form(params.0.clone());
        let ws = Ws::load(state.store.as_ref(), &req)?;
        // A new record is the signed-in user's, and an activity happens now, unless preset.
        for f in entity.fields() {
            if values.get(f.name).is_some() {
                continue;
            }
            match f.ty {
                FieldType::Ref(Entity::Users) if f.name == "owner_id" && can_write(&req) => {
                    if let Some(u) = &req.user {
                        values.0.push((f.name.into(), u.id.clone()));
                    }
                }
                FieldType::Timestamp if f.required && f.name != "created_at" => {
                    values.0.push((f.name.into(), input_text(f, &Value::Instant(now), &ws)))
                }
                _ => {}
            }
        }
        form_page(state, &req, entity, None, &values, &Vec::new(), None)
    })
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path((entity, id)): Path<(String, String)>,
) -> Result<Response> {
    let entity = editable(&entity)?;
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let record = visible_record(state, &req, entity, &id)?;
        let ws = Ws::load(store, &req)?;
        let mut values = Form(
            entity
                .fields()
                .iter()
                .map(|f| (f.name.to_string(), input_text(f, record.get(f.name), &ws)))
                .collect(),
        );
        // Where a save goes back to (the board a stage was edited from), when it is this site's.
        if let Some(back) = params.get("back").filter(|b| forms::is_local_path(b)) {
            values.0.push(("back".into(), back.to_string()));
        }
        form_page(state, &req, entity, Some(&id), &values, &Vec::new(), None)
    })
    .await
}

/// The record, or 404 when it does not exist or the caller may not read it.
fn visible_record(state: &AppState, req: &Req, entity: Entity, id: &str) -> Result<Record> {
    let store = state.store.as_ref();
    let record = store.get(entity, &[Value::Text(id.to_string())])?;
    match record {
        Some(r)
            if req.principal.as_deref().is_none_or(|p| {
                traction_server::auth::authz::visible(p, store, &r).unwrap_or(false)
            }) =>
        {
            Ok(r)
        }
        _ => Err(WebError::not_found(format!("There is no {} {id:?}.", noun(entity)))),
    }
}

/// A stored value as the form shows it: money in major units, times in the workspace's zone.
fn input_text(field: &Field, value: &Value, ws: &Ws) -> String {
    match (field.ty, value) {
        (FieldType::Timestamp, Value::Instant(t)) => to_zoned(*t, &ws.zone).map_or_else(
            || format_value(field, value, ws.workspace.currency),
            |z| z.strftime("%Y-%m-%d %H:%M:%S%.f").to_string(),
        ),
        _ => format_value(field, value, ws.workspace.currency),
    }
}

pub async fn save(
    State(state): State<AppState>,
    req: Req,
    Path(entity): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let entity = editable(&entity)?;
    let form = Form::parse(&body)?;
    let r = req.clone();
    let editing = form.get("_mode") == Some("edit");
    let form_values = Form(form.0.clone());
    let outcome = crate::compute(state.clone(), move |st, now| {
        let store = st.store.as_ref();
        let principal = r.principal()?;
        let ctx = forms::context(store, now)?;
        let id = match form.get("id") {
            Some(id) => id.to_string(),
            // A user's id is what they sign in with: chosen, not generated.
            None if entity == Entity::Users => {
                return Ok(Err(vec![(
                    "id".to_string(),
                    "choose the id the person signs in with, such as ada".to_string(),
                )]));
            }
            None if editing => {
                return Err(WebError::bad("the form has no id: open the record's Edit again"));
            }
            None => traction_server::api::records::generated_id(entity, now),
        };
        let mut values =
            Form(form.0.iter().filter(|(k, _)| !derived(entity, k)).cloned().collect());
        let ws = Ws::load(store, &r)?;
        if editing {
            // A field the form does not send keeps its stored value (an empty one is cleared).
            let stored = visible_record(st, &r, entity, &id)?;
            for f in entity.fields() {
                if !derived(entity, f.name) && !values.0.iter().any(|(k, _)| k == f.name) {
                    values.0.push((f.name.into(), input_text(f, stored.get(f.name), &ws)));
                }
            }
        } else if store.get(entity, &[Value::Text(id.clone())])?.is_some() {
            return Ok(Err(vec![(
                "id".to_string(),
                format!(
                    "{id:?} is taken by another {}: choose another id, or leave it empty",
                    noun(entity)
                ),
            )]));
        }
        // A new record is created now.
        if !editing && values.get("created_at").is_none() && entity.field("created_at").is_some() {
            values.0.retain(|(k, _)| k != "created_at");
            values.0.push(("created_at".into(), input_text(&CREATED, &Value::Instant(now), &ws)));
        }
        values.0.retain(|(k, _)| k != "id");
        values.0.push(("id".into(), id.clone()));
        let record = match forms::record_from_form(entity, &values, Some(&id), &ctx) {
            Ok(record) => record,
            Err(errors) => return Ok(Err(errors)),
        };
        // An activity goes back to the record it is about.
        let home = [
            ("deal_id", Entity::Deals),
            ("lead_id", Entity::Leads),
            ("contact_id", Entity::Contacts),
            ("account_id", Entity::Accounts),
        ]
        .into_iter()
        .filter(|_| entity == Entity::Activities)
        .find_map(|(f, e)| record.get(f).as_text().map(|about| record_path(e, about)))
        .unwrap_or_else(|| record_path(entity, &id));
        Ok(forms::write_as(st, principal, now, vec![record])?.map(|summary| (home, summary)))
    })
    .await;
    let (errors, general) = match outcome {
        Ok(Ok((home, summary))) => {
            forms::announce(&state, &summary, entity);
            let to = forms::back_to(&form_values, &home);
            return Ok(forms::see_other(&to));
        }
        Ok(Err(errors)) => (errors, None),
        // A refusal the user can act on (not theirs to change, not found) keeps the form.
        Err(e) if e.status.is_client_error() => (Vec::new(), Some((e.status, e.message))),
        Err(e) => return Err(e),
    };
    let status = general.as_ref().map_or(StatusCode::UNPROCESSABLE_ENTITY, |(s, _)| *s);
    let message = general.map(|(_, m)| m);
    let id = form_values.get("_id").map(str::to_string);
    let markup = crate::compute(state, move |state, _| {
        form_page(state, &req, entity, id.as_deref(), &form_values, &errors, message)
    })
    .await?;
    Ok((status, markup).into_response())
}

/// The form: every field of the entity but the derived ones, each with its problem.
fn form_page(
    state: &AppState,
    req: &Req,
    entity: Entity,
    editing: Option<&str>,
    values: &Form,
    errors: &FieldErrors,
    refused: Option<String>,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let names = Names::load(store)?;
    let small = |e: Entity| -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = names_of(store, e)?.into_iter().collect();
        out.sort_by_key(|a| a.1.to_lowercase());
        Ok(out)
    };
    let pipelines = small(Entity::Pipelines)?;
    let pipeline_names: std::collections::BTreeMap<String, String> =
        pipelines.iter().cloned().collect();
    let mut stages = list(store, Entity::Stages, &[], 10_000)?;
    stages.sort_by_key(|s| (text(s, "pipeline_id").to_string(), s.get("position").as_int()));
    let campaigns = small(Entity::Campaigns)?;
    let teams = small(Entity::Teams)?;
    let title = match editing {
        Some(id) => format!("Edit {} {id}", noun(entity)),
        None => format!("New {}", noun(entity)),
    };
    let error_of = |field: &str| -> String {
        errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let shown: Vec<&Field> = entity
        .fields()
        .iter()
        .filter(|f| !derived(entity, f.name))
        .filter(|f| !(editing.is_none() && f.name == "created_at"))
        .collect();
    let general: Vec<&(String, String)> =
        errors.iter().filter(|(f, _)| !shown.iter().any(|s| s.name == f)).collect();
    let back = values.get("back").filter(|b| forms::is_local_path(b));
    let body = html! {
        div.page-head { h1 { (title) } }
        @if let Some(message) = &refused { p.notice.bad role="alert" { "Not saved: " (message) } }
        @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        @for (f, m) in &general { p.error-text { @if !f.is_empty() { (f) ": " } (m) } }
        form.card.record-form method="post" action={"/records/" (entity.name())} {
            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
            input type="hidden" name="_mode" value=(if editing.is_some() { "edit" } else { "create" });
            @if let Some(id) = editing { input type="hidden" name="_id" value=(id); }
            @if let Some(b) = back { input type="hidden" name="back" value=(b); }
            @for f in &shown {
                @let value = values.get(f.name).unwrap_or("");
                @let problem = error_of(f.name);
                @let input_id = format!("f-{}", f.name);
                div.field {
                    label for=(input_id) {
                        (f.name.replace('_', " "))
                        @if f.required && !(f.name == "id" && editing.is_none()) { " *" }
                    }
                    @if f.name == "id" && editing.is_some() {
                        input type="text" name="id" id=(input_id) value=(value) readonly;
                    } @else {
                        @match f.ty {
                            FieldType::Enum(allowed) => select name=(f.name) id=(input_id) aria-invalid=[(!problem.is_empty()).then_some("true")] {
                                @if !f.required { option value="" { "–" } }
                                @for a in allowed { option value=(a) selected[value == *a] { (a.replace('_', " ")) } }
                            },
                            FieldType::Ref(Entity::Users) => select name=(f.name) id=(input_id) {
                                @if !f.required || value.is_empty() { option value="" { "–" } }
                                (names.people_options(if value.is_empty() { None } else { Some(value) }, true))
                            },
                            FieldType::Ref(Entity::Stages) => select name=(f.name) id=(input_id) {
                                @if !f.required { option value="" { "–" } }
                                @for s in &stages {
                                    @let sid = text(s, "id");
                                    option value=(sid) selected[value == sid] {
                                        (pipeline_names.get(text(s, "pipeline_id")).map_or("", String::as_str)) " › " (text(s, "name"))
                                    }
                                }
                            },
                            FieldType::Ref(e @ (Entity::Pipelines | Entity::Campaigns | Entity::Teams)) => {
                                @let options = match e { Entity::Pipelines => &pipelines, Entity::Campaigns => &campaigns, _ => &teams };
                                select name=(f.name) id=(input_id) {
                                    @if !f.required || value.is_empty() { option value="" { "–" } }
                                    @for (oid, oname) in options { option value=(oid) selected[value == oid] { (oname) } }
                                }
                            },
                            FieldType::Bool => select name=(f.name) id=(input_id) {
                                option value="" { "–" }
                                option value="true" selected[value == "true"] { "yes" }
                                option value="false" selected[value == "false"] { "no" }
                            },
                            _ => input type="text" name=(f.name) id=(input_id) value=(value)
                                inputmode=[matches!(f.ty, FieldType::Money | FieldType::Int { .. } | FieldType::Fraction | FieldType::Decimal | FieldType::Number).then_some("decimal")]
                                placeholder=[placeholder(f.ty)]
                                aria-invalid=[(!problem.is_empty()).then_some("true")];
                        }
                    }
                    p.hint { (f.doc) @if f.name == "id" && editing.is_none() { " (leave empty for a new id)" } }
                    p.error-text data-for=(f.name) role=[(!problem.is_empty()).then_some("alert")] { (problem) }
                }
            }
            button type="submit" { "Save" }
            " "
            @if let Some(id) = editing {
                a href=(record_path(entity, id)) { "Cancel" }
            }
        }
    };
    Ok(layout::page(req, &title, nav_of(entity), body))
}

/// How a creation time is written into a form.
const CREATED: Field = Field {
    name: "created_at",
    ty: FieldType::Timestamp,
    required: true,
    default: traction_domain::schema::Default::None,
    doc: "",
};

fn placeholder(ty: FieldType) -> Option<&'static str> {
    match ty {
        FieldType::Timestamp => Some("2026-03-04 09:15 (local time)"),
        FieldType::Date => Some("2026-03-04"),
        FieldType::Money => Some("1250.00"),
        FieldType::Fraction => Some("0.25"),
        FieldType::Number => Some("1"),
        FieldType::Kind => Some("meals_served"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Delete

pub async fn delete_form(
    State(state): State<AppState>,
    req: Req,
    Path((entity, id)): Path<(String, String)>,
) -> Result<Response> {
    let entity = editable(&entity)?;
    respond(state, move |state, _| {
        visible_record(state, &req, entity, &id)?;
        Ok(delete_page(&req, entity, &id, None))
    })
    .await
}

fn delete_page(req: &Req, entity: Entity, id: &str, refused: Option<&str>) -> Markup {
    let title = format!("Delete {} {id}?", noun(entity));
    let body = html! {
        div.page-head { h1 { (title) } }
        @if let Some(message) = refused {
            p.notice.bad role="alert" #refused { "Not deleted: " (message) }
            p { a href=(record_path(entity, id)) { "Back to the " (noun(entity)) } }
        } @else {
            p { "This cannot be undone. The deletion is recorded in the audit log under your name." }
            form.card method="post" action={"/records/" (entity.name()) "/" (encode(id)) "/delete"} {
                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                button.danger type="submit" { "Delete" }
                " "
                a href=(record_path(entity, id)) { "Cancel" }
            }
        }
    };
    layout::page(req, &title, nav_of(entity), body)
}

pub async fn delete(
    State(state): State<AppState>,
    req: Req,
    Path((entity, id)): Path<(String, String)>,
) -> Result<Response> {
    let entity = editable(&entity)?;
    let r = req.clone();
    let key = id.clone();
    let outcome = crate::compute(state.clone(), move |st, now| {
        visible_record(st, &r, entity, &key)?;
        let principal = r.principal()?;
        let guarded = forms::guarded(st, principal, now);
        let result = (|| {
            let mut writer = guarded.writer()?;
            writer.delete(entity, &[Value::Text(key.clone())])?;
            writer.commit()
        })();
        match result {
            Ok(summary) => Ok(Ok(summary)),
            Err(_) if guarded.denied().is_some() => {
                Err(forms::denied(&guarded).unwrap_or_else(|| WebError::bad("refused")))
            }
            Err(traction_store::Error::Conflict(m)) => Ok(Err(m)),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match outcome {
        Ok(summary) => {
            forms::announce(&state, &summary, entity);
            let to = match entity {
                Entity::Deals => "/pipeline",
                Entity::Leads => "/leads",
                Entity::Products => "/products",
                Entity::Campaigns => "/campaigns",
                Entity::Costs => "/costs",
                Entity::Activities => "/log",
                _ => "/customers",
            };
            Ok(forms::see_other(to))
        }
        Err(message) => {
            Ok((StatusCode::CONFLICT, delete_page(&req, entity, &id, Some(&message)))
                .into_response())
        }
    }
}

/// A record page's write controls — Edit, Add note, Delete — for those who may write (none
/// for a viewer). `field` is the note's reference to the record (`deal_id`, `lead_id`, …).
pub fn actions(req: &Req, entity: Entity, id: &str, field: Option<&str>) -> Markup {
    let here = record_path(entity, id);
    html! {
        @if can_write(req) {
            p.actions {
                a.button href={"/records/" (entity.name()) "/" (encode(id)) "/edit"} { "Edit" }
                @if let Some(field) = field {
                    " "
                    a.button href={"/records/activities/new?kind=note&" (field) "=" (encode(id)) "&back=" (encode(&here))} { "Add note" }
                }
                " "
                a href={"/records/" (entity.name()) "/" (encode(id)) "/delete"} { "Delete" }
            }
        }
    }
}

/// A list's New button, for those who may write.
pub fn new_button(req: &Req, entity: Entity) -> Markup {
    html! {
        @if can_write(req) {
            a.button.new href={"/records/" (entity.name()) "/new"} { "New " (noun(entity)) }
        }
    }
}
