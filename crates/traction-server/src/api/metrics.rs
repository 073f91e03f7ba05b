//! The metric endpoints over the metrics engine (spec: interfaces.md, HTTP API and JSON shapes):
//! `GET /api/v1/metrics` (the catalog), `GET /api/v1/metrics/{name}?from&to&grain&by&where&compare&at`
//! `GET /api/v1/funnel?pipeline&from&to&where&at` and
//! `GET /api/v1/explain/{name}?from&to&compare&by&where&scope&at`.
//!
//! The query parameters are read by `traction_metrics::params`, the same reading every front
//! end uses; the answers are the engine's JSON shapes, unchanged. `at` defaults to the request's
//! clock.
//!
//! Figures are readable across teams, but a caller with a read scope may not use them to single
//! out records they cannot read (docs/security.md, "Metrics and scope"): a `where` filter, or a
//! group-by on a record's id or on a joined record's field, restricts the figure to the records
//! of their scope; a metric whose records have no owner cannot be so restricted and is refused.

use axum::Json;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use super::records::{IdPath, Params};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Detail, Result};

/// The engine's error as the API's, by kind (never by reading its text).
pub(super) fn engine_error(e: traction_metrics::Error) -> ApiError {
    use traction_metrics::ErrorKind;
    match (e.kind(), e) {
        (_, traction_metrics::Error::Storage(message)) => ApiError::Internal(message),
        (ErrorKind::Input, e) => {
            let message = e.to_string();
            ApiError::BadRequest {
                details: vec![Detail { problem: message.clone(), ..Detail::default() }],
                message,
            }
        }
        (ErrorKind::NotFound, e) => ApiError::NotFound(e.to_string()),
        (ErrorKind::Busy, e) => ApiError::busy(e.to_string()),
        (ErrorKind::Storage, e) => ApiError::Internal(e.to_string()),
    }
}

pub(crate) async fn catalog(state: AppState) -> Response {
    Json(crate::wire::catalog(&state.catalog)).into_response()
}

/// Whether a group-by dimension tells records apart: an id, a reference to a record with an
/// owner, or a field of a joined record.
fn identifies(dimension: &str) -> bool {
    const OWNED_REFS: &[&str] =
        &["id", "account_id", "contact_id", "lead_id", "deal_id", "order_id", "activity_id"];
    let name = dimension.trim();
    name.contains('.') || OWNED_REFS.contains(&name)
}

/// Whether a query could single out records: it has a `where` filter, or groups by a
/// dimension that tells records apart (the web explorer asks too).
pub fn singles_out(filter: &traction_metrics::Filter, by: &[String]) -> bool {
    !filter.is_everything() || by.iter().any(|d| identifies(d))
}

/// The caller's scope added to a query's filter when the query could single out records
/// (see the module docs); `false` when nothing was added.
fn restrict(principal: &Principal, filter: &mut traction_metrics::Filter, by: &[String]) -> bool {
    let Some(owners) = principal.owners() else { return false };
    if !singles_out(filter, by) {
        return false;
    }
    *filter = std::mem::take(filter).and(traction_metrics::Filter::owner_in(owners));
    true
}

/// An engine error of a restricted query: a metric whose records have no owner is refused (the
/// scope's condition, which `restrict` built, is the one that does not apply).
fn restricted_error(principal: &Principal, e: traction_metrics::Error) -> ApiError {
    match &e {
        traction_metrics::Error::Where(traction_metrics::FilterError {
            origin: traction_metrics::Origin::Built,
            ..
        }) => ApiError::Forbidden(format!(
            "a {} may filter a metric, or group it by record, only over the records they may read, and this metric's records have no owner: drop the where (and the group-by on ids), or ask a manager or admin in no team",
            principal.role.name()
        )),
        _ => engine_error(e),
    }
}

pub(crate) async fn metric(
    state: AppState,
    principal: Arc<Principal>,
    name: IdPath,
    params: Params,
) -> Result<Response> {
    let Path(name) = name?;
    let Query(params) = params?;
    let catalog = state.catalog.clone();
    let sqlite = state.store.clone();
    let now = (state.clock)();
    let result = tokio::task::spawn_blocking(move || {
        // The workspace is read once: the dates are read in its zone, the query run in it.
        let env = traction_metrics::workspace_env(&*sqlite).map_err(engine_error)?;
        let mut query = traction_metrics::params::metric_query(&name, &params, &env.zone, now)
            .map_err(engine_error)?;
        let restricted = restrict(&principal, &mut query.filter, &query.by);
        traction_metrics::run_in(&*sqlite, &catalog, &query, &env).map_err(|e| match restricted {
            true => restricted_error(&principal, e),
            false => engine_error(e),
        })
    })
    .await??;
    Ok(Json(crate::wire::metric_result(&result)).into_response())
}

/// `GET /api/v1/explain/{metric}?from&to&compare&by&where&scope&at` (spec: monitoring.md,
/// Explaining a change): the same roles and scope rules as a metric query, plus an optional
/// `scope` (company, team:ID, user:ID) whose owners filter the figures.
pub(crate) async fn explain(
    state: AppState,
    principal: Arc<Principal>,
    name: IdPath,
    params: Params,
) -> Result<Response> {
    let Path(name) = name?;
    let Query(params) = params?;
    let catalog = state.catalog.clone();
    let sqlite = state.store.clone();
    let now = (state.clock)();
    let result = tokio::task::spawn_blocking(move || {
        let zone = sqlite.workspace_zone()?;
        let (mut query, scope) =
            traction_metrics::params::explain_query(&name, &params, &zone, now)
                .map_err(engine_error)?;
        let scope = match scope {
            None => traction_kpi::scope::Scope::Company,
            Some(text) => traction_kpi::scope::Scope::parse(&text).map_err(|e| {
                let message = e.to_string();
                ApiError::BadRequest {
                    details: vec![Detail {
                        field: Some("scope".into()),
                        problem: message.clone(),
                        ..Detail::default()
                    }],
                    message: format!("scope: {message}"),
                }
            })?,
        };
        let by: Vec<String> = query.by.iter().cloned().collect();
        let restricted = restrict(&principal, &mut query.filter, &by);
        traction_kpi::explain::explain_for(&*sqlite, &catalog, &query, &scope).map_err(
            |e| match e {
                traction_kpi::service::Error::Metrics(e) if restricted => {
                    restricted_error(&principal, e)
                }
                e => super::kpis::kpi_error(e),
            },
        )
    })
    .await??;
    Ok(Json(crate::wire::explanation(&result)).into_response())
}

pub(crate) async fn funnel(
    state: AppState,
    principal: Arc<Principal>,
    params: Params,
) -> Result<Response> {
    let Query(params) = params?;
    let sqlite = state.store.clone();
    let now = (state.clock)();
    let result = tokio::task::spawn_blocking(move || {
        let env = traction_metrics::workspace_env(&*sqlite).map_err(engine_error)?;
        let mut query = traction_metrics::params::funnel_query(&params, &env.zone, now)
            .map_err(engine_error)?;
        let restricted = restrict(&principal, &mut query.filter, &[]);
        traction_metrics::funnel_in(&*sqlite, &query, &env).map_err(|e| match restricted {
            true => restricted_error(&principal, e),
            false => engine_error(e),
        })
    })
    .await??;
    Ok(Json(crate::wire::funnel(&result)).into_response())
}

/// The workspace's zone, for reading the query's dates.
trait WorkspaceZone {
    fn workspace_zone(&self) -> Result<jiff::tz::TimeZone>;
}

impl WorkspaceZone for dyn traction_store::Backend {
    fn workspace_zone(&self) -> Result<jiff::tz::TimeZone> {
        Ok(self.workspace()?.zone)
    }
}
