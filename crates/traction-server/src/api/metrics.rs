//! The metric endpoints over the metrics engine (spec: interfaces.md, HTTP API and JSON shapes):
//! `GET /api/v1/metrics` (the catalog), `GET /api/v1/metrics/{name}?from&to&grain&by&where&compare&at`
//! and `GET /api/v1/funnel?pipeline&from&to&where&at`.
//!
//! The query parameters are read by `traction_metrics::params`, the same reading every front
//! end uses; the answers are the engine's JSON shapes, unchanged. `at` defaults to the request's
//! clock.

use axum::Json;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};

use super::records::{IdPath, Params};
use crate::AppState;
use crate::error::{ApiError, Detail, Result};

fn engine_error(e: traction_metrics::Error) -> ApiError {
    match e {
        traction_metrics::Error::Input(message) => ApiError::BadRequest {
            details: vec![Detail { problem: message.clone(), ..Detail::default() }],
            message,
        },
        traction_metrics::Error::NotFound(message) => ApiError::NotFound(message),
        traction_metrics::Error::Storage(message) => ApiError::Internal(message),
        traction_metrics::Error::Busy(message) => ApiError::busy(message),
    }
}

pub(crate) async fn catalog(state: AppState) -> Response {
    Json(state.catalog.to_json()).into_response()
}

pub(crate) async fn metric(state: AppState, name: IdPath, params: Params) -> Result<Response> {
    let Path(name) = name?;
    let Query(params) = params?;
    let catalog = state.catalog.clone();
    let sqlite = state.store.clone();
    let now = (state.clock)();
    let result = tokio::task::spawn_blocking(move || {
        let zone = sqlite.workspace_zone()?;
        let query = traction_metrics::params::metric_query(&name, &params, &zone, now)
            .map_err(engine_error)?;
        traction_metrics::run(&sqlite, &catalog, &query).map_err(engine_error)
    })
    .await??;
    Ok(Json(result.to_json()).into_response())
}

pub(crate) async fn funnel(state: AppState, params: Params) -> Result<Response> {
    let Query(params) = params?;
    let sqlite = state.store.clone();
    let now = (state.clock)();
    let result = tokio::task::spawn_blocking(move || {
        let zone = sqlite.workspace_zone()?;
        let query =
            traction_metrics::params::funnel_query(&params, &zone, now).map_err(engine_error)?;
        traction_metrics::funnel(&sqlite, &query).map_err(engine_error)
    })
    .await??;
    Ok(Json(result.to_json()).into_response())
}

/// The workspace's zone, for reading the query's dates.
trait WorkspaceZone {
    fn workspace_zone(&self) -> Result<jiff::tz::TimeZone>;
}

impl WorkspaceZone for traction_store::SqliteStore {
    fn workspace_zone(&self) -> Result<jiff::tz::TimeZone> {
        use traction_store::Store;
        Ok(self.workspace()?.zone)
    }
}
