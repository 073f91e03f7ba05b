//! The JSON API under `/api/v1` (spec: interfaces.md, HTTP API).
//!
//! [`operations::OPERATIONS`] is the one table of what the API serves, each operation described
//! once: [`api_router`] builds the routes from it, `auth::authz::route_roles` reads who may call
//! each, and `openapi.rs` documents it, so the OpenAPI document cannot drift from the router
//! (ripgrep's `defs.rs` idea: one list drives the code and its documentation). Record routes are
//! rows made per entity from the schema (`Entity::ALL`), so an entity added to the data model
//! gets its routes and its documentation with no code here.
//!
//! Authentication wraps the application as a whole, in one place (`auth::middleware`, applied in
//! `lib.rs`).

pub mod deals;
pub mod definitions;
pub mod filter;
pub mod forecast;

pub mod hooks;
pub mod import;
pub mod kpis;
pub mod metrics;
pub mod monitor;
pub mod operations;
pub mod records;
pub mod types;

use axum::Json;
use axum::Router;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use traction_domain::Entity;

use crate::AppState;
use crate::error::ApiError;
use operations::endpoints;
use records::Params;

/// The API's routes, relative to `/api/v1`: the one router an authentication layer wraps.
pub fn api_router() -> Router<AppState> {
    let mut router = Router::new();
    for endpoint in endpoints() {
        router = router.route(&endpoint.path(), endpoint.route());
    }
    router.fallback(unknown_endpoint).method_not_allowed_fallback(method_not_allowed)
}

/// Whether `GET /events` asks for the list of the events entity rather than the live stream:
/// a query (`limit`, `cursor`, `where`, a field) or an `Accept` naming JSON but not
/// `text/event-stream`. Anything else (an `EventSource`, a bare request) gets the stream, as
/// before the entity existed.
fn wants_event_list(headers: &HeaderMap, params: &Params) -> bool {
    let accept =
        headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if accept.contains("text/event-stream") {
        return false;
    }
    let has_query = match params {
        Ok(query) => !query.0.is_empty(),
        Err(_) => true,
    };
    has_query || accept.contains("application/json")
}

async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

async fn events(state: AppState, principal: Option<crate::auth::CurrentUser>) -> Response {
    match principal {
        // A caller who reads only some records hears only of those (authz::visible): a change
        // to a record outside their scope is not announced, a deletion without its id.
        Some(crate::auth::CurrentUser(p)) if p.owners().is_some() => {
            let store = state.store.clone();
            state.events.stream_filtered(move |announcement| {
                crate::auth::authz::announce_to(&p, store.as_ref(), announcement)
            })
        }
        Some(crate::auth::CurrentUser(p)) => {
            state.events.stream(Some(p.user_id.clone())).into_response()
        }
        None => state.events.stream(None).into_response(),
    }
}

pub(crate) async fn unknown_endpoint(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    let path = uri.path();
    let segment = path.trim_start_matches("/api/v1/").split('/').next().unwrap_or("");
    let hint = match Entity::parse(segment) {
        Err(e) if !segment.is_empty() => format!(": {e}"),
        _ => ": see /api/v1/openapi.json for the endpoints".to_string(),
    };
    ApiError::NotFound(format!("no endpoint {method} {path}{hint}"))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    let path = uri.path().to_string();
    let allowed: Vec<String> = endpoints()
        .iter()
        .filter(|e| matches_path(&format!("/api/v1{}", e.path()), &path))
        .map(|e| e.method().to_string())
        .collect();
    ApiError::MethodNotAllowed(format!(
        "{method} is not allowed on {path}: use {}",
        allowed.join(", ")
    ))
}

/// Whether a concrete path fits a route pattern with `{…}` segments.
pub(crate) fn matches_path(pattern: &str, path: &str) -> bool {
    let a: Vec<&str> = pattern.split('/').collect();
    let b: Vec<&str> = path.split('/').collect();
    a.len() == b.len() && a.iter().zip(&b).all(|(p, s)| p.starts_with('{') || p == s)
}
