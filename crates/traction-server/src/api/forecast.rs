//! The forecast endpoints (spec: monitoring.md, Forecasts): `GET /api/v1/forecast/{metric}`,
//! `GET /api/v1/forecast/{metric}/history` and `GET /api/v1/forecast/pipeline`, over
//! `traction-forecast` (the same calls as `traction forecast`).
//!
//! Scope follows the metric queries' rule (docs/security.md, "Metrics and scope"): company-wide
//! figures are readable by everyone; a forecast for a team or a user singles out records, so a
//! caller with a read scope may ask only for teams and users within it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use traction_forecast::ErrorKind;
use traction_forecast::pipeline::Period;
use traction_forecast::service::{self, Request};
use traction_kpi::scope::Scope;

use super::kpis::{at_of, bad, get, params};
use super::records::{IdPath, Params};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Result};

fn forecast_error(e: traction_forecast::Error) -> ApiError {
    match e.kind() {
        ErrorKind::Input => bad(e.to_string()),
        ErrorKind::NotFound => ApiError::NotFound(e.to_string()),
        ErrorKind::Busy => ApiError::busy(e.to_string()),
        ErrorKind::Failure => ApiError::Internal(e.to_string()),
    }
}

/// Refuses a scope outside the caller's reach.
fn check_scope(
    principal: &Principal,
    store: &dyn traction_store::Backend,
    catalog: &traction_metrics::Catalog,
    scope: &Scope,
) -> Result<()> {
    let Some(reach) = principal.owners() else { return Ok(()) };
    if *scope == Scope::Company {
        return Ok(());
    }
    let owners = service::owners(store, catalog, scope).map_err(forecast_error)?;
    let inside = owners.unwrap_or_default().iter().all(|o| reach.contains(o));
    if !inside {
        return Err(ApiError::Forbidden(format!(
            "a {} may forecast a team or a user only within the records they may read: ask for company, or a scope of your own team",
            principal.role.name()
        )));
    }
    Ok(())
}

fn request(list: &[(String, String)], metric: &str, at: i64) -> Result<Request> {
    Request::parse(
        metric,
        get(list, "scope"),
        get(list, "grain"),
        get(list, "horizon"),
        get(list, "level"),
        at,
    )
    .map_err(forecast_error)
}

pub(crate) async fn forecast(
    state: AppState,
    principal: Arc<Principal>,
    metric: IdPath,
    p: Params,
) -> Result<Response> {
    let Path(metric) = metric?;
    let Query(list) = p?;
    let list = params(list, &["scope", "grain", "horizon", "level", "at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        let request = request(&list, &metric, at)?;
        check_scope(&principal, &*store, &catalog, &request.scope)?;
        Ok(crate::wire::forecast(
            &service::show(&*store, &catalog, &request).map_err(forecast_error)?,
        ))
    })
    .await??;
    Ok(Json(json).into_response())
}

pub(crate) async fn history(
    state: AppState,
    principal: Arc<Principal>,
    metric: IdPath,
    p: Params,
) -> Result<Response> {
    let Path(metric) = metric?;
    let Query(list) = p?;
    let list = params(list, &["scope", "grain", "days", "at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        let request = request(&list, &metric, at)?;
        check_scope(&principal, &*store, &catalog, &request.scope)?;
        let days = match get(&list, "days") {
            None => 90,
            Some(text) => {
                text.trim().parse::<i64>().ok().filter(|d| (1..=3660).contains(d)).ok_or_else(
                    || bad(format!("days: {text:?} is not a number of days from 1 to 3660")),
                )?
            }
        };
        let past = service::past(&*store, &catalog, &request, days).map_err(forecast_error)?;
        Ok(crate::wire::forecast_past(&past))
    })
    .await??;
    Ok(Json(json).into_response())
}

pub(crate) async fn pipeline(
    state: AppState,
    principal: Arc<Principal>,
    p: Params,
) -> Result<Response> {
    let Query(list) = p?;
    let list = params(list, &["scope", "period", "at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        let scope = match get(&list, "scope") {
            None => Scope::Company,
            Some(text) => Scope::parse(text).map_err(|e| bad(format!("scope: {e}")))?,
        };
        let period = match get(&list, "period") {
            None => Period::Month,
            Some(text) => Period::parse(text).map_err(forecast_error)?,
        };
        check_scope(&principal, &*store, &catalog, &scope)?;
        let made =
            service::pipeline(&*store, &catalog, &scope, period, at).map_err(forecast_error)?;
        Ok(crate::wire::pipeline_forecast(&made))
    })
    .await??;
    Ok(Json(json).into_response())
}
