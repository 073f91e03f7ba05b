//! Building a pipeline in the browser (admins): its name and its open stages, one a line (with
//! an optional probability, `Demo | 0.4`), and the names of its won and lost stages — written in
//! one transaction, since a pipeline is valid only with one won and at least one lost stage.
//! The same checks as the command line and the API (the store's), as the signed-in user.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;

use crate::forms::{self, FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Req, Result, render};

pub async fn form(req: Req) -> Result<Response> {
    Ok(render(page(&req, &Form(Vec::new()), &Vec::new(), None)))
}

fn page(req: &Req, values: &Form, errors: &FieldErrors, refused: Option<&str>) -> Markup {
    let error_of = |f: &str| {
        errors
            .iter()
            .filter(|(k, _)| k == f)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let body = html! {
        div.page-head { h1 { "New pipeline" } }
        @if let Some(m) = refused { p.notice.bad role="alert" { "Not saved: " (m) } }
        @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        form.card.record-form method="post" action="/pipelines" {
            @if let Some(t) = &req.csrf { input type="hidden" name="_csrf" value=(t); }
            div.field {
                label for="p-name" { "Name *" }
                input type="text" name="name" id="p-name" value=(values.get("name").unwrap_or("")) required;
                p.error-text data-for="name" { (error_of("name")) }
            }
            div.field {
                label for="p-stages" { "Open stages, in order *" }
                textarea name="stages" id="p-stages" rows="6" placeholder="Qualified | 0.1\nDemo | 0.3\nProposal | 0.6\nNegotiation" {
                    (values.get("stages").unwrap_or(""))
                }
                p.hint { "One a line; after a | the chance (0 to 1) that a deal there is won — left out, it follows the stage's place." }
                p.error-text data-for="stages" { (error_of("stages")) }
            }
            div.field {
                label for="p-won" { "Won stage" }
                input type="text" name="won" id="p-won" value=(values.get("won").unwrap_or("Won"));
            }
            div.field {
                label for="p-lost" { "Lost stage" }
                input type="text" name="lost" id="p-lost" value=(values.get("lost").unwrap_or("Lost"));
            }
            button type="submit" { "Create pipeline" }
        }
    };
    layout::page(req, "New pipeline", Nav::Pipeline, body)
}

/// The pipeline and its stages from the form, or the problems by field.
fn records(form: &Form, now: i64) -> std::result::Result<(String, Vec<Record>), FieldErrors> {
    let mut errors = Vec::new();
    let name = form.get("name").unwrap_or("");
    if name.is_empty() {
        errors.push(("name".into(), "give the pipeline a name".into()));
    }
    let new = |entity: Entity| Record { entity, values: vec![Value::Null; entity.fields().len()] };
    let id = traction_server::api::records::generated_id(Entity::Pipelines, now);
    let mut pipeline = new(Entity::Pipelines);
    pipeline.set("id", Value::Text(id.clone()));
    pipeline.set("name", Value::Text(name.to_string()));
    let mut out = vec![pipeline];
    let lines: Vec<&str> =
        form.get("stages").unwrap_or("").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        errors.push(("stages".into(), "list at least one open stage, one a line".into()));
    }
    let mut stage = |n: usize, name: &str, kind: &str, probability: Option<f64>| {
        let mut s = new(Entity::Stages);
        s.set("id", Value::Text(format!("{id}-s{n}")));
        s.set("pipeline_id", Value::Text(id.clone()));
        s.set("name", Value::Text(name.to_string()));
        s.set("position", Value::Int(n as i64));
        s.set("kind", Value::Text(kind.into()));
        if let Some(p) = probability {
            s.set("probability", Value::Real(p));
        }
        out.push(s);
    };
    for (i, line) in lines.iter().enumerate() {
        let (stage_name, probability) = match line.split_once('|') {
            Some((n, p)) => match p.trim().parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => (n.trim(), Some(x)),
                _ => {
                    errors.push((
                        "stages".into(),
                        format!(
                            "line {}: {:?} is not a chance from 0 to 1, such as 0.4",
                            i + 1,
                            p.trim()
                        ),
                    ));
                    (n.trim(), None)
                }
            },
            None => (*line, None),
        };
        stage(i + 1, stage_name, "open", probability);
    }
    let n = lines.len();
    stage(n + 1, form.get("won").unwrap_or("Won"), "won", None);
    stage(n + 2, form.get("lost").unwrap_or("Lost"), "lost", None);
    if errors.is_empty() { Ok((id, out)) } else { Err(errors) }
}

pub async fn create(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    let r = req.clone();
    let values = Form(form.0.clone());
    let outcome = crate::compute(state.clone(), move |st, now| {
        let principal = r.principal()?;
        let (id, records) = match records(&form, now) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        Ok(forms::write_as(st, principal, now, records)?.map(|summary| (id, summary)))
    })
    .await;
    match outcome {
        Ok(Ok((id, summary))) => {
            forms::announce(&state, &summary, Entity::Pipelines);
            Ok(forms::see_other(&format!("/pipeline?pipeline={}", crate::encode(&id))))
        }
        Ok(Err(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&req, &values, &errors, None))
                .into_response())
        }
        Err(e) if e.status.is_client_error() => {
            Ok((e.status, page(&req, &values, &Vec::new(), Some(&e.message))).into_response())
        }
        Err(e) => Err(e),
    }
}
