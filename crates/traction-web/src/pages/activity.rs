//! Log an activity in a few taps (interfaces.md: "a call, email or meeting logged in a few
//! taps"): the kind and the outcome are large choice chips, the owner defaults to the signed-in
//! user and the time to now, so on a phone it is kind → outcome → Save. The rest (direction,
//! duration, subject, the deal or lead it was about, another time) is optional, below.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::time::format_instant;
use traction_domain::{Entity, Value};
use traction_server::AppState;
use traction_store::ListQuery;

use super::*;
use crate::forms::{self, FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

const KINDS: &[(&str, &str)] = &[
    ("call", "Call"),
    ("email", "Email"),
    ("meeting", "Meeting"),
    ("demo", "Demo"),
    ("proposal", "Proposal"),
];
const MORE_KINDS: &[&str] = &["event", "social", "task", "note"];
const OUTCOMES: &[(&str, &str)] = &[
    ("connected", "Connected"),
    ("no_answer", "No answer"),
    ("voicemail", "Voicemail"),
    ("booked", "Booked a meeting"),
    ("held", "Held"),
    ("replied", "Replied"),
    ("positive", "Positive"),
    ("negative", "Negative"),
];

pub async fn form(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let notice = match params.get("logged") {
            Some(id) => store.get(Entity::Activities, &[Value::Text(id.to_string())])?.map(|a| {
                let ws = Ws::load(&*state.store, &req).ok();
                let when = ws
                    .as_ref()
                    .and_then(|w| instant(&a, "occurred_at").map(|t| w.when(t)))
                    .unwrap_or_default();
                format!("{} logged at {when}. Log another below.", capitalise(text(&a, "kind")))
            }),
            None => None,
        };
        // A link may preset the lead or deal (the leads page's "Log a reply").
        let values = Form(
            params
                .0
                .iter()
                .filter(|(k, _)| ["lead_id", "deal_id", "contact_id", "kind"].contains(&k.as_str()))
                .cloned()
                .collect(),
        );
        page(state, &req, &values, &Vec::new(), notice)
    })
    .await
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

fn page(
    state: &AppState,
    req: &Req,
    values: &Form,
    errors: &FieldErrors,
    notice: Option<String>,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let names = Names::load(store)?;
    let open_deals = store.list(
        Entity::Deals,
        &ListQuery {
            filters: &[("status", Value::Text("open".into()))],
            condition: None,
            after: None,
            limit: 500,
        },
    )?;
    let owner_default = values
        .get("owner_id")
        .map(str::to_string)
        .or_else(|| req.user.as_ref().map(|u| u.id.clone()));
    let kind = values.get("kind").unwrap_or("call");
    let outcome = values.get("outcome").unwrap_or("");
    let error_of = |field: &str| {
        errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let general: Vec<&(String, String)> = errors
        .iter()
        .filter(|(f, _)| {
            ![
                "kind",
                "outcome",
                "owner_id",
                "occurred_at",
                "duration_s",
                "deal_id",
                "lead_id",
                "subject",
                "direction",
            ]
            .contains(&f.as_str())
        })
        .collect();
    let body = html! {
        div.page-head { h1 { "Log activity" } }
        @if let Some(n) = &notice { p.notice role="status" { (n) } }
        @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        @for (f, m) in &general { p.error-text { (f) ": " (m) } }
        form.card method="post" action="/log" data-validate {
            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
            // A contact's page presets the person it concerns.
            @if let Some(contact) = values.get("contact_id") { input type="hidden" name="contact_id" value=(contact); }
            fieldset.choices {
                legend { "What" }
                @for (value, label) in KINDS {
                    label { input type="radio" name="kind" value=(value) checked[kind == *value] required; span { (label) } }
                }
                @for value in MORE_KINDS {
                    label { input type="radio" name="kind" value=(value) checked[kind == *value]; span { (capitalise(value)) } }
                }
            }
            (field_error("kind", &error_of("kind")))
            fieldset.choices {
                legend { "Outcome" }
                @for (value, label) in OUTCOMES {
                    label { input type="radio" name="outcome" value=(value) checked[outcome == *value]; span { (label) } }
                }
            }
            (field_error("outcome", &error_of("outcome")))
            div.field {
                label for="owner_id" { "Who" }
                select name="owner_id" id="owner_id" required {
                    @if owner_default.is_none() { option value="" { "Choose a person" } }
                    (names.people_options(owner_default.as_deref(), true))
                }
                (field_error("owner_id", &error_of("owner_id")))
            }
            button type="submit" { "Save" }
            // Open when one of its fields has an error or a value, so nothing is hidden.
            details open[errors.iter().any(|(f, _)| f != "kind" && f != "outcome" && f != "owner_id")
                || ["deal_id", "lead_id", "direction", "duration_min", "subject", "occurred_at"].iter().any(|k| values.get(k).is_some_and(|v| !v.is_empty()))] {
                summary { "More: deal, lead, duration, subject, time" }
                div.field {
                    label for="deal_id" { "Deal" }
                    select name="deal_id" id="deal_id" {
                        option value="" { "None" }
                        @for d in &open_deals {
                            @let id = text(d, "id");
                            option value=(id) selected[values.get("deal_id") == Some(id)] { (if text(d, "name").is_empty() { id } else { text(d, "name") }) }
                        }
                    }
                    (field_error("deal_id", &error_of("deal_id")))
                }
                div.field {
                    label for="lead_id" { "Lead id" }
                    input type="text" name="lead_id" id="lead_id" value=[values.get("lead_id")] maxlength="128";
                    (field_error("lead_id", &error_of("lead_id")))
                }
                div.field {
                    label for="direction" { "Direction" }
                    select name="direction" id="direction" {
                        option value="outbound" selected[values.get("direction") != Some("inbound")] { "Outbound" }
                        option value="inbound" selected[values.get("direction") == Some("inbound")] { "Inbound" }
                    }
                }
                div.field {
                    label for="duration_min" { "Duration (minutes)" }
                    input type="number" name="duration_min" id="duration_min" min="0" max="1440" step="1" inputmode="numeric" value=[values.get("duration_min")];
                    (field_error("duration_min", &error_of("duration_s")))
                }
                div.field {
                    label for="subject" { "Subject" }
                    input type="text" name="subject" id="subject" value=[values.get("subject")] maxlength="500";
                }
                div.field {
                    label for="occurred_at" { "When (leave empty for now)" }
                    input type="datetime-local" name="occurred_at" id="occurred_at" value=[values.get("occurred_at")];
                    (field_error("occurred_at", &error_of("occurred_at")))
                    @if error_of("occurred_at").starts_with(FAR_AHEAD_TEXT) {
                        label.confirm { input type="checkbox" name="confirm_future" value="1"; " Yes, this date" }
                    }
                }
                button type="submit" { "Save" }
            }
        }
    };
    Ok(layout::page(req, "Log activity", Nav::Log, body))
}

fn field_error(field: &str, message: &str) -> Markup {
    html! { p.error-text data-for=(field) role=[(!message.is_empty()).then_some("alert")] { (message) } }
}

/// How far ahead an activity's time is taken without asking: a year.
pub(crate) const FAR_AHEAD: Micros = 366 * 86_400_000_000;
pub(crate) const FAR_AHEAD_TEXT: &str = "this is more than a year from now";

/// `POST /log`: stores the activity and comes back to the form with a confirmation.
pub async fn submit(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    let principal = req.principal.clone();
    let outcome = crate::compute(state.clone(), move |st, now| {
        let store = st.store.as_ref();
        let ctx = forms::context(store, now)?;
        // The form's own fields → the record's: minutes to seconds, empty time = now, the
        // datetime-local value (`2026-11-23T14:05`) read in the workspace zone.
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut errors: FieldErrors = Vec::new();
        for (k, v) in &form.0 {
            match k.as_str() {
                "duration_min" if !v.trim().is_empty() => match v.trim().parse::<u32>() {
                    Ok(m) if m <= 1440 => {
                        pairs.push(("duration_s".into(), (u64::from(m) * 60).to_string()))
                    }
                    _ => errors.push((
                        "duration_s".into(),
                        format!("{v:?} is not a whole number of minutes from 0 to 1440"),
                    )),
                },
                "kind" | "outcome" | "owner_id" | "deal_id" | "lead_id" | "contact_id"
                | "direction" | "subject" | "occurred_at" => pairs.push((k.clone(), v.clone())),
                "confirm_future" => {}
                _ => {}
            }
        }
        let mut record_form = Form(pairs);
        if record_form.get("occurred_at").is_none() {
            record_form.0.retain(|(k, _)| k != "occurred_at");
            record_form.0.push(("occurred_at".into(), format_instant(now)));
        }
        let id = traction_server::api::records::generated_id(Entity::Activities, now);
        let record =
            match forms::record_from_form(Entity::Activities, &record_form, Some(&id), &ctx) {
                Ok(r) if errors.is_empty() => r,
                Ok(_) => return Ok(Err(errors)),
                Err(mut e) => {
                    e.extend(errors);
                    return Ok(Err(e));
                }
            };
        // Activities are given to people who can own them: not to a viewer or someone disabled.
        if let Some(owner) = record.get("owner_id").as_text()
            && let Some(user) = store.get(Entity::Users, &[Value::Text(owner.to_string())])?
        {
            let name = user.get("name").as_text().unwrap_or(owner);
            if matches!(user.get("active"), Value::Bool(false)) {
                errors.push((
                    "owner_id".into(),
                    format!("{name} is inactive: choose someone who still works here"),
                ));
            } else if user.get("role").as_text() == Some("viewer") {
                errors.push((
                    "owner_id".into(),
                    format!("{name} is a viewer and owns no activities: choose someone else"),
                ));
            }
        }
        // A time more than a year ahead is most likely a typing slip: asked to be confirmed.
        if let Some(at) = record.get("occurred_at").as_instant()
            && at > now + FAR_AHEAD
            && form.get("confirm_future").is_none()
        {
            let years = (at - now) as f64 / (365.25 * 86_400e6);
            errors.push((
                "occurred_at".into(),
                format!(
                    "{FAR_AHEAD_TEXT} ({years:.0} years ahead): check the year, or tick “Yes, this date” and save again"
                ),
            ));
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let principal =
            principal.as_deref().ok_or_else(|| WebError::bad("sign in to log an activity"))?;
        Ok(forms::write_as(st, principal, now, vec![record])?.map(|summary| (id, summary)))
    })
    .await?;
    match outcome {
        Ok((id, summary)) => {
            forms::announce(&state, &summary, Entity::Activities);
            Ok(forms::see_other(&format!("/log?logged={}", crate::encode(&id))))
        }
        Err(errors) => {
            let values = Form::parse(&body)?;
            let markup =
                crate::compute(state, move |st, _| page(st, &req, &values, &errors, None)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
        }
    }
}
