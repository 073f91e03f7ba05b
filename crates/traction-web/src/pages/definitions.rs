//! Metrics of your own (issue 20; docs/own-goals.md): the workspace's stored definitions listed,
//! and written in a form of a definition's fields, checked by the one checker
//! (`traction_kpi::definitions`, as `traction metrics add` and the API), each problem shown at its
//! field, previewed on the stored data before saving. The script checks as the user types by
//! posting the form to `/metrics/check` (debounced); without it, "Check and preview" posts the
//! form and the page comes back with the problems and the preview, keeping what was typed.
//!
//! The form's fields become the TOML of one `[metric.NAME]` table; keys the form has no field
//! for (a percentile's `p`, a cohort's `success`, …) are written in "More keys" as TOML lines,
//! so every definition the checker accepts can be written and edited here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_kpi::definitions::{self, Refusal};
use traction_metrics::{Grain, Query};
use traction_server::AppState;
use traction_store::Actor;

use super::Ws;
use crate::forms::{FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Req, Result, WebError, respond};

/// The form's fields, in order: (key, label, hint).
const FIELDS: &[(&str, &str, &str)] = &[
    ("label", "Label", "What people read: \"Big lunches\"."),
    ("kind", "Kind", "aggregate, ratio, derived, cohort or snapshot."),
    ("source", "Source", "aggregate: the entity counted, e.g. events, orders, deals."),
    ("time", "Time field", "aggregate: the field that places a row in time, e.g. occurred_at."),
    ("measure", "Measure", "aggregate: count, count_distinct, sum, avg, min, max, median, …"),
    ("of", "Of", "aggregate: the expression measured (not for count), e.g. quantity."),
    ("filter", "Filter", "Which rows count, e.g. kind = 'meals_served' and quantity >= 60."),
    ("numerator", "Numerator", "ratio: the metric on top."),
    ("denominator", "Denominator", "ratio: the metric below."),
    ("expr", "Expression", "derived: arithmetic over metrics, e.g. revenue - cost."),
    ("unit", "Unit", "count, money, ratio, percent, seconds, days or score."),
    ("better", "Better", "higher or lower."),
    ("description", "Description", "One sentence on what it measures and why it matters."),
];

/// Who may define metrics: admins and managers (as the API's `MANAGERS`).
fn may_define(req: &Req) -> bool {
    req.user.as_ref().is_some_and(|u| u.role == "admin" || u.role == "manager")
}

fn require_definer(req: &Req) -> Result<&traction_server::auth::Principal> {
    let principal = req.principal()?;
    if !may_define(req) {
        return Err(WebError {
            status: StatusCode::FORBIDDEN,
            message: "only admins and managers define metrics".into(),
        });
    }
    Ok(principal)
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The TOML of a definition from the form: the name, each field given, then the extra keys.
pub fn definition_text(form: &Form) -> String {
    let name = form.get("name").unwrap_or("");
    let mut out = format!("[metric.{name}]\n");
    for (key, _, _) in FIELDS {
        if let Some(value) = form.get(key) {
            out.push_str(&format!("{key} = {}\n", quoted(value)));
        }
    }
    if let Some(extra) = form.get("extra") {
        out.push_str(extra.trim());
        out.push('\n');
    }
    out
}

/// A stored definition as the form's values (the inverse of [`definition_text`]).
fn form_of(name: &str, text: &str) -> Form {
    let mut pairs = vec![("name".to_string(), name.to_string())];
    let table = toml::from_str::<toml::Table>(text).ok();
    let body = table
        .as_ref()
        .and_then(|t| t.get("metric"))
        .and_then(|m| m.get(name))
        .and_then(|d| d.as_table());
    let mut extra = String::new();
    if let Some(body) = body {
        for (key, value) in body {
            match value.as_str() {
                Some(s) if FIELDS.iter().any(|(k, _, _)| k == key) => {
                    pairs.push((key.clone(), s.to_string()))
                }
                _ => extra.push_str(&format!("{key} = {value}\n")),
            }
        }
    }
    pairs.push(("extra".into(), extra));
    Form(pairs)
}

/// The checker's problems at their fields; a name problem (taken, built in) goes to `name`.
fn problems(refusal: &Refusal) -> FieldErrors {
    let messages: Vec<String> = match refusal {
        Refusal::Invalid(list) => list.clone(),
        other => vec![other.to_string()],
    };
    let mut out = Vec::new();
    for m in messages {
        let d = traction_server::api::definitions::detail(&m);
        let field = d.field.unwrap_or_else(|| "definition".into());
        let field = match (refusal, field.as_str()) {
            (Refusal::Name(_) | Refusal::NotFound(_), _) => "name".to_string(),
            // Keys the form has no field for, and whole-text problems, show at "More keys".
            (_, f) if f != "definition" && !FIELDS.iter().any(|(k, _, _)| *k == f) => {
                "extra".to_string()
            }
            (_, f) => f.to_string(),
        };
        out.push((field, d.problem));
    }
    out
}

/// A preview: the metric by week over the last eight weeks to now.
struct Preview {
    unit: traction_metrics::catalog::Unit,
    rows: Vec<(String, Option<f64>)>,
    error: Option<String>,
}

/// Checks the form's definition; answers the problems, and the preview when it checks.
fn check(
    state: &AppState,
    form: &Form,
    editing: bool,
    now: traction_domain::time::Micros,
) -> Result<(FieldErrors, Option<Preview>)> {
    let store = state.store.as_ref();
    if form.get("name").is_none() {
        return Ok((
            vec![("name".into(), "give the metric a name, e.g. big_lunches".into())],
            None,
        ));
    }
    let text = definition_text(form);
    let file = state.config.metrics_file.as_deref();
    let (name, catalog) = match definitions::check(store, file, &text, editing) {
        Ok(ok) => ok,
        Err(Refusal::Storage(m)) => return Err(WebError::internal(m)),
        Err(r) => return Ok((problems(&r), None)),
    };
    let zone = store.workspace()?.zone;
    let today = super::to_zoned(now, &zone)
        .map(|z| z.date())
        .ok_or_else(|| WebError::internal("the clock is out of range"))?;
    let from = today
        .checked_sub(jiff::Span::new().weeks(8))
        .map_err(|e| WebError::internal(e.to_string()))?;
    let tomorrow = today.tomorrow().map_err(|e| WebError::internal(e.to_string()))?;
    let query = Query {
        metric: name,
        from: super::start_of_day(from, &zone).map_err(WebError::bad)?,
        to: super::start_of_day(tomorrow, &zone).map_err(WebError::bad)?,
        grain: Grain::Week,
        by: Vec::new(),
        filter: traction_metrics::Filter::default(),
        compare: None,
        at: now,
    };
    let unit = catalog
        .get(&query.metric)
        .map(|m| m.unit)
        .unwrap_or(traction_metrics::catalog::Unit::Count);
    let preview = match traction_metrics::run(store, &catalog, &query) {
        Ok(result) => Preview {
            unit,
            rows: result
                .rows
                .into_iter()
                .map(|r| (r.period.unwrap_or_default(), r.value))
                .collect(),
            error: None,
        },
        Err(e) => Preview { unit, rows: Vec::new(), error: Some(e.to_string()) },
    };
    Ok((Vec::new(), Some(preview)))
}

fn preview_markup(ws: &Ws, preview: Option<&Preview>) -> Markup {
    html! {
        div #metric-preview aria-live="polite" {
            @match preview {
                None => p.sub { "The preview shows once the definition checks." },
                Some(Preview { error: Some(e), .. }) => p.error-text { "It checks, but cannot be computed: " (e) },
                Some(p) => {
                    p.sub { "By week, the last eight weeks, on the stored data:" }
                    table {
                        thead { tr { th scope="col" { "Week" } th.num scope="col" { "Value" } } }
                        tbody {
                            @for (period, value) in &p.rows {
                                tr { td { (period) } td.num { (ws.fmt.value(p.unit, *value)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /metrics`: the workspace's own metrics.
pub async fn list(
    State(state): State<AppState>,
    req: Req,
    params: crate::Params,
) -> Result<Response> {
    let saved = params.get("saved").map(str::to_string);
    let deleted = params.get("deleted").map(str::to_string);
    respond(state, move |state, _| {
        let defs = state.store.metric_definitions()?;
        let body = html! {
            div.page-head {
                h1 { "Metrics of your own" }
                @if may_define(&req) { a.button href="/metrics/new" { "New metric" } }
                p.sub { "Beside the built-in catalog: defined here, used in the explorer, targets and alerts like any other." }
            }
            @if let Some(n) = &saved { p.notice role="status" { "Metric " (n) " saved." } }
            @if let Some(n) = &deleted { p.notice role="status" { "Metric " (n) " deleted." } }
            @if defs.is_empty() {
                (layout::empty("No metrics of your own yet.", may_define(&req).then_some(("/metrics/new", "Define one"))))
            } @else {
                div.card { table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Definition" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody { @for d in &defs { tr {
                        td { a href={ "/explore?metric=" (crate::encode(&d.name)) } { (d.name) } }
                        td { pre { (d.definition) } }
                        td { @if may_define(&req) { a href={ "/metrics/" (crate::encode(&d.name)) "/edit" } { "Edit" } } }
                    } } }
                } }
            }
        };
        Ok(layout::page(&req, "Metrics of your own", Nav::Settings, body))
    })
    .await
}

/// The form page: `values` as typed (or stored), the problems at their fields, the preview.
fn form_page(
    state: &AppState,
    req: &Req,
    editing: Option<&str>,
    values: &Form,
    errors: &FieldErrors,
    preview: Option<&Preview>,
    refusal: Option<&str>,
) -> Result<Markup> {
    let ws = Ws::load(state.store.as_ref(), req)?;
    let err = |k: &str| {
        errors.iter().filter(|(f, _)| f == k).map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ")
    };
    let value = |k: &str| values.0.iter().find(|(f, _)| f == k).map_or("", |(_, v)| v.as_str());
    let title = match editing {
        Some(n) => format!("Edit metric {n}"),
        None => "New metric".to_string(),
    };
    let body = html! {
        div.page-head { h1 { (title) } p.sub { "Checked as you type by the same checker as " code { "traction metrics check" } "; nothing is stored until it checks." } }
        @if let Some(r) = refusal { p.notice.bad role="alert" { (r) } }
        @else if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        div.grid2 {
            form.card #metric-form method="post" action="/metrics" data-check="/metrics/check" {
                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                @if let Some(n) = editing { input type="hidden" name="editing" value=(n); }
                div.field {
                    label for="name" { "Name" }
                    @if let Some(n) = editing {
                        input type="text" id="name" name="name" value=(n) readonly;
                    } @else {
                        input type="text" id="name" name="name" value=(value("name")) placeholder="big_lunches" required;
                    }
                    span.hint { "Lower-case letters, digits and underscores; not a built-in metric's name." }
                    p.error-text data-for="name" { (err("name")) }
                }
                @for (key, label, hint) in FIELDS {
                    div.field {
                        label for=(key) { (label) }
                        input type="text" id=(key) name=(key) value=(value(key));
                        span.hint { (hint) }
                        p.error-text data-for=(key) { (err(key)) }
                    }
                }
                div.field {
                    label for="extra" { "More keys (TOML)" }
                    textarea id="extra" name="extra" rows="3" { (value("extra")) }
                    span.hint { "Keys without a field above, one per line, e.g. p = 0.9" }
                    p.error-text data-for="extra" { (err("extra")) }
                    p.error-text data-for="definition" { (err("definition")) }
                }
                p.actions {
                    button type="submit" name="action" value="check" { "Check and preview" } " "
                    button type="submit" name="action" value="save" { "Save metric" }
                }
            }
            section.card {
                h2 { "Preview" }
                (preview_markup(&ws, preview))
                @if let Some(n) = editing {
                    h2 { "Delete" }
                    form method="post" action={ "/metrics/" (crate::encode(n)) "/delete" } {
                        @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                        p.sub { "Refused while targets or alert rules use it; they are listed." }
                        button.danger type="submit" { "Delete " (n) }
                    }
                }
            }
        }
    };
    Ok(layout::page(req, &title, Nav::Settings, body))
}

/// `GET /metrics/new`.
pub async fn new_form(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, _| {
        require_definer(&req)?;
        form_page(state, &req, None, &Form(Vec::new()), &Vec::new(), None, None)
    })
    .await
}

/// `GET /metrics/{name}/edit`: the stored definition in the form, checked and previewed.
pub async fn edit_form(
    State(state): State<AppState>,
    req: Req,
    Path(name): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| {
        require_definer(&req)?;
        let stored = state.store.metric_definitions()?;
        let Some(d) = stored.iter().find(|d| d.name == name) else {
            return Err(WebError::not_found(format!("there is no metric {name} of yours")));
        };
        let values = form_of(&d.name, &d.definition);
        let (errors, preview) = check(state, &values, true, now)?;
        form_page(state, &req, Some(&name), &values, &errors, preview.as_ref(), None)
    })
    .await
}

/// `POST /metrics/check`: the script's check as the user types — `{"problems": [{field,
/// problem}], "preview": "<html>"}`, storing nothing.
pub async fn check_json(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    respond(state, move |state, now| {
        require_definer(&req)?;
        let editing = form.get("editing").is_some();
        let (errors, preview) = check(state, &form, editing, now)?;
        let ws = Ws::load(state.store.as_ref(), &req)?;
        let problems: Vec<_> =
            errors.iter().map(|(f, p)| serde_json::json!({"field": f, "problem": p})).collect();
        Ok(Json(serde_json::json!({
            "problems": problems,
            "preview": preview_markup(&ws, preview.as_ref()).into_string(),
        }))
        .into_response())
    })
    .await
}

/// `POST /metrics`: check and preview (`action=check`) or save; problems come back at the fields
/// with what was typed (422), a refusal (in use, name taken) above the form.
pub async fn save(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    respond(state, move |state, now| {
        let principal = require_definer(&req)?;
        let editing = form.get("editing").map(str::to_string);
        let (errors, preview) = check(state, &form, editing.is_some(), now)?;
        if !errors.is_empty() || form.get("action") == Some("check") {
            let status =
                if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            let page =
                form_page(state, &req, editing.as_deref(), &form, &errors, preview.as_ref(), None)?;
            return Ok((status, page).into_response());
        }
        let actor = Actor { user: principal.user_id.clone(), at: Some(now) };
        let text = definition_text(&form);
        let file = state.config.metrics_file.as_deref();
        match definitions::save(state.store.as_ref(), &actor, file, &text, editing.is_some(), now) {
            Ok(name) => {
                state.catalog.refresh(state.store.as_ref(), std::time::Instant::now(), true)?;
                Ok(crate::forms::see_other(&format!("/metrics?saved={}", crate::encode(&name))))
            }
            Err(Refusal::Storage(m)) => Err(WebError::internal(m)),
            Err(r @ Refusal::InUse { .. }) => {
                let message = r.to_string();
                let page = form_page(
                    state,
                    &req,
                    editing.as_deref(),
                    &form,
                    &Vec::new(),
                    preview.as_ref(),
                    Some(&message),
                )?;
                Ok((StatusCode::CONFLICT, page).into_response())
            }
            Err(r) => {
                let errors = problems(&r);
                let page = form_page(state, &req, editing.as_deref(), &form, &errors, None, None)?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
        }
    })
    .await
}

/// `POST /metrics/{name}/delete`: deleted, or refused with what uses it.
pub async fn delete(
    State(state): State<AppState>,
    req: Req,
    Path(name): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| {
        let principal = require_definer(&req)?;
        let actor = Actor { user: principal.user_id.clone(), at: Some(now) };
        match definitions::delete(state.store.as_ref(), &actor, &name) {
            Ok(()) => {
                state.catalog.refresh(state.store.as_ref(), std::time::Instant::now(), true)?;
                Ok(crate::forms::see_other(&format!("/metrics?deleted={}", crate::encode(&name))))
            }
            Err(Refusal::NotFound(m)) => Err(WebError::not_found(m)),
            Err(Refusal::Storage(m)) => Err(WebError::internal(m)),
            Err(r) => {
                let stored = state.store.metric_definitions()?;
                let text =
                    stored.iter().find(|d| d.name == name).map_or("", |d| d.definition.as_str());
                let values = form_of(&name, text);
                let message = format!("Not deleted: {r}");
                let page = form_page(
                    state,
                    &req,
                    Some(&name),
                    &values,
                    &Vec::new(),
                    None,
                    Some(&message),
                )?;
                Ok((StatusCode::CONFLICT, page).into_response())
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_form_becomes_one_table_and_back() {
        let f = form(&[
            ("name", "big_lunches"),
            ("label", "Big \"lunches\""),
            ("filter", "kind = 'meals_served'"),
            ("unit", ""),
            ("extra", "p = 0.9"),
        ]);
        let text = definition_text(&f);
        assert_eq!(
            text,
            // A text with double quotes is written as a TOML literal string.
            "[metric.big_lunches]\nlabel = 'Big \"lunches\"'\nfilter = \"kind = 'meals_served'\"\np = 0.9\n"
        );
        let back = form_of("big_lunches", &text);
        let get = |k: &str| back.0.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        assert_eq!(get("label").as_deref(), Some("Big \"lunches\""));
        assert_eq!(get("filter").as_deref(), Some("kind = 'meals_served'"));
        assert_eq!(get("extra").as_deref(), Some("p = 0.9\n"));
    }
}
