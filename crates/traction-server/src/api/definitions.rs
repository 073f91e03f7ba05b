//! Metrics defined in the app (issue 20; docs/own-goals.md): the workspace's own definitions,
//! listed, checked (with a preview on real data), added, changed and deleted — through
//! `traction_kpi::definitions`, the same check and the same refusals as `traction metrics
//! add|edit|delete`. Writes are audited as the caller; the server's catalog picks them up at
//! once (catalog.rs).

use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use traction_domain::time::{format_instant, parse_instant};
use traction_kpi::definitions::{self, Refusal};
use traction_metrics::{Grain, Query};
use traction_store::Actor;

use super::records::{BodyBytes, IdPath, Params};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Detail, Result};

/// The keys of a definition, to place a problem at its field.
const KEYS: &[&str] = &[
    "label",
    "kind",
    "source",
    "time",
    "measure",
    "of",
    "p",
    "filter",
    "numerator",
    "denominator",
    "expr",
    "success",
    "success_time",
    "start",
    "end",
    "weight",
    "outcome",
    "unit",
    "better",
    "target",
    "indicator",
    "description",
];

/// A checker message (`metric.NAME: unit "x" is not a unit: …`) as a detail at its field.
pub fn detail(message: &str) -> Detail {
    let text = message
        .split_once(": ")
        .filter(|(d, _)| d.starts_with("metric.") || *d == "definition")
        .map_or(message, |(_, rest)| rest);
    let first = text.split([' ', ':']).next().unwrap_or("");
    let field = if KEYS.contains(&first) { first.to_string() } else { "definition".to_string() };
    Detail { field: Some(field), problem: text.to_string(), ..Detail::default() }
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Invalid(problems) => ApiError::invalid(
            "the definition does not check: nothing was stored",
            problems.iter().map(|p| detail(p)).collect(),
        ),
        Refusal::Name(m) => ApiError::Conflict(m),
        Refusal::InUse { .. } => ApiError::Conflict(r.to_string()),
        Refusal::NotFound(m) => ApiError::NotFound(m),
        Refusal::Storage(m) => ApiError::Internal(m),
    }
}

fn body<T: for<'de> Deserialize<'de>>(bytes: BodyBytes) -> Result<T> {
    let bytes = bytes.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
    // The field at fault is named in the error's details, as every typed body's is.
    crate::error::from_json(&bytes)
}

fn actor(principal: &Principal, now: i64) -> Actor {
    Actor { user: principal.user_id.clone(), at: Some(now) }
}

pub(crate) async fn list(state: AppState, p: Params) -> Result<Response> {
    let axum::extract::Query(params) = p?;
    if let Some((name, _)) = params.first() {
        return Err(ApiError::bad_request(format!(
            "unknown parameter {name:?}: this list takes none"
        )));
    }
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        Ok(store
            .metric_definitions()?
            .into_iter()
            .map(|d| {
                json!({"name": d.name, "definition": d.definition,
                       "updated_at": format_instant(d.updated_at), "updated_by": d.updated_by})
            })
            .collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDefinition {
    /// The TOML of one `[metric.NAME]` table.
    definition: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    definition: String,
    /// Whether it replaces a metric of the same name (an edit).
    #[serde(default)]
    editing: bool,
    /// A preview on real data: `[from, to)` and a grain.
    from: Option<String>,
    to: Option<String>,
    grain: Option<String>,
}

/// Checks a definition as it is typed: `{"name", "problems": [{field, problem}], "preview"}`,
/// always 200 for a readable body (the problems are the answer), never storing anything.
pub(crate) async fn check(state: AppState, b: BodyBytes) -> Result<Response> {
    let input: CheckBody = body(b)?;
    let (store, now) = (state.store.clone(), (state.clock)());
    let file = state.config.metrics_file.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<Json_> {
        let checked =
            definitions::check(store.as_ref(), file.as_deref(), &input.definition, input.editing);
        let (name, catalog) = match checked {
            Ok(ok) => ok,
            Err(Refusal::Storage(m)) => return Err(ApiError::Internal(m)),
            Err(other) => {
                let problems: Vec<Detail> = match &other {
                    Refusal::Invalid(list) => list.iter().map(|p| detail(p)).collect(),
                    r => vec![detail(&r.to_string())],
                };
                let name = definitions::defined_name(&input.definition).ok();
                return Ok(json!({"name": name, "problems": problems, "preview": null}));
            }
        };
        let preview = match (&input.from, &input.to) {
            (Some(from), Some(to)) => {
                let zone = store.workspace()?.zone;
                let read = |flag: &str, text: &str| {
                    parse_instant(text, &zone)
                        .map_err(|e| ApiError::bad_request(format!("{flag}: {e}")))
                };
                let grain = Grain::parse(input.grain.as_deref().unwrap_or("all"))
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                let query = Query {
                    metric: name.clone(),
                    from: read("from", from)?,
                    to: read("to", to)?,
                    grain,
                    by: Vec::new(),
                    filter: traction_metrics::Filter::default(),
                    compare: None,
                    at: now,
                };
                match traction_metrics::run(store.as_ref(), &catalog, &query) {
                    Ok(result) => crate::wire::metric_result(&result),
                    Err(e) => json!({"error": e.to_string()}),
                }
            }
            _ => Json_::Null,
        };
        Ok(json!({"name": name, "problems": [], "preview": preview}))
    })
    .await??;
    Ok(Json(answer).into_response())
}

pub(crate) async fn create(
    state: AppState,
    principal: Arc<Principal>,
    b: BodyBytes,
) -> Result<Response> {
    let input: NewDefinition = body(b)?;
    save(state, principal, input.definition, None)
        .await
        .map(|j| (StatusCode::CREATED, j).into_response())
}

pub(crate) async fn replace(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
    b: BodyBytes,
) -> Result<Response> {
    let Path(name) = id?;
    let input: NewDefinition = body(b)?;
    save(state, principal, input.definition, Some(name)).await.map(IntoResponse::into_response)
}

async fn save(
    state: AppState,
    principal: Arc<Principal>,
    text: String,
    editing: Option<String>,
) -> Result<Json<Json_>> {
    let (store, now) = (state.store.clone(), (state.clock)());
    let file = state.config.metrics_file.clone();
    let catalog = state.catalog.clone();
    let saved = tokio::task::spawn_blocking(move || -> Result<Json_> {
        if let Some(path_name) = &editing {
            let name = definitions::defined_name(&text).map_err(refusal)?;
            if &name != path_name {
                return Err(ApiError::bad_request(format!(
                    "the definition is of metric {name}, not {path_name}: rename by adding the new one and deleting the old"
                )));
            }
        }
        let name = definitions::save(
            store.as_ref(),
            &actor(&principal, now),
            file.as_deref(),
            &text,
            editing.is_some(),
            now,
        )
        .map_err(refusal)?;
        // Known to the next request at once, not after the next periodic check.
        catalog.refresh(store.as_ref(), std::time::Instant::now(), true)?;
        let metric = catalog.get(&name).map(|m| {
            json!({"name": m.name, "label": m.label, "unit": m.unit.name(), "better": m.better.name(),
                   "kind": m.kind.name(), "description": m.description})
        });
        Ok(json!({"name": name, "definition": text.trim(), "metric": metric}))
    })
    .await??;
    Ok(Json(saved))
}

pub(crate) async fn delete(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(name) = id?;
    let (store, now) = (state.store.clone(), (state.clock)());
    let catalog = state.catalog.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        definitions::delete(store.as_ref(), &actor(&principal, now), &name).map_err(refusal)?;
        catalog.refresh(store.as_ref(), std::time::Instant::now(), true)?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
