//! The KPI endpoints (spec: interfaces.md, HTTP API; kpis.md):
//! `GET /api/v1/kpis?at&scope&all&period&starts_on`,
//! `GET /api/v1/kpis/{target}/breakdown?grain&per_head`, `GET /api/v1/kpis/{target}/leaderboard?at`
//! and `GET /api/v1/report?from&to&scope&format`. The answers are the KPI crate's JSON shapes, the
//! same the command line prints. `at` defaults to the request's clock.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use traction_domain::time::{Micros, parse_date, parse_instant, start_of_day};
use traction_kpi::engine::Engine;
use traction_kpi::period::{Grain, PeriodKind};
use traction_kpi::scope::Scope;
use traction_kpi::service::{Error as KpiError, Kpis, Selection};

use super::records::{IdPath, Params};
use crate::AppState;
use crate::error::{ApiError, Detail, Result};

pub(super) fn kpi_error(e: KpiError) -> ApiError {
    match e {
        KpiError::Invalid(message) => bad(message),
        e @ KpiError::Value(_) => bad(e.to_string()),
        KpiError::NotFound(message) => ApiError::NotFound(message),
        KpiError::Metrics(e) => super::metrics::engine_error(e),
        // A forecast that could not be made is refused like a bad request, as it always was.
        e @ KpiError::Forecast(_) => bad(e.to_string()),
        KpiError::Store(e) => e.into(),
    }
}

pub(super) fn bad(message: String) -> ApiError {
    ApiError::BadRequest {
        details: vec![Detail { problem: message.clone(), ..Detail::default() }],
        message,
    }
}

/// The value of a query parameter; unknown parameters are refused, so a typo is not ignored.
pub(super) fn params(
    list: Vec<(String, String)>,
    allowed: &[&str],
) -> Result<Vec<(String, String)>> {
    if let Some((name, _)) = list.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        return Err(bad(format!("unknown query parameter {name:?}: use {}", allowed.join(", "))));
    }
    Ok(list)
}

pub(super) fn get<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A boolean query parameter: absent is false, `?name` alone is true.
fn boolean(list: &[(String, String)], name: &str) -> Result<bool> {
    match get(list, name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") | Some("") => Ok(true),
        Some(other) => Err(bad(format!("{name}: {other:?} is not a boolean: use true or false"))),
    }
}

pub(super) fn at_of(
    list: &[(String, String)],
    zone: &jiff::tz::TimeZone,
    now: Micros,
) -> Result<Micros> {
    match get(list, "at") {
        Some(text) => parse_instant(text, zone).map_err(|e| bad(format!("at: {e}"))),
        None => Ok(now),
    }
}

pub(crate) async fn status(state: AppState, p: Params) -> Result<Response> {
    let Query(list) = p?;
    let list = params(list, &["at", "scope", "all", "period", "starts_on"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        fn field<E: std::fmt::Display>(name: &'static str) -> impl Fn(E) -> ApiError {
            move |e| bad(format!("{name}: {e}"))
        }
        let selection = Selection {
            scope: get(&list, "scope").map(Scope::parse).transpose().map_err(field("scope"))?,
            all: boolean(&list, "all")?,
            period: get(&list, "period")
                .map(PeriodKind::parse)
                .transpose()
                .map_err(field("period"))?,
            starts_on: get(&list, "starts_on")
                .map(parse_date)
                .transpose()
                .map_err(field("starts_on"))?,
        };
        // A request makes a few backtests at most; the rest show once a later one made them.
        let engine = traction_forecast::kpi::Source::new(&*store, &catalog)
            .with_backtests_at_most(traction_forecast::kpi::REQUEST_BACKTESTS);
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let rows = kpis.status(at, &selection).map_err(kpi_error)?;
        Ok(crate::wire::status(at, &rows))
    })
    .await??;
    Ok(Json(json).into_response())
}

pub(crate) async fn breakdown(state: AppState, id: IdPath, p: Params) -> Result<Response> {
    let Path(id) = id?;
    let Query(list) = p?;
    let list = params(list, &["grain", "per_head", "at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        let grain_text = get(&list, "grain").unwrap_or("day").to_ascii_lowercase();
        let grain = Grain::parse(&grain_text).map_err(|e| bad(format!("grain: {e}")))?;
        let per_head = boolean(&list, "per_head")?;
        let engine = Engine { store: &*store, catalog: &catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let rows = kpis.breakdown(&id, grain, per_head, at).map_err(kpi_error)?;
        Ok(crate::wire::breakdown(&id, &grain_text, &rows))
    })
    .await??;
    Ok(Json(json).into_response())
}

pub(crate) async fn leaderboard(state: AppState, id: IdPath, p: Params) -> Result<Response> {
    let Path(id) = id?;
    let Query(list) = p?;
    let list = params(list, &["at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let json = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let zone = store.workspace()?.zone;
        let at = at_of(&list, &zone, now)?;
        let engine = Engine { store: &*store, catalog: &catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let rows = kpis.leaderboard(&id, at).map_err(kpi_error)?;
        Ok(crate::wire::leaderboard(&id, at, &rows))
    })
    .await??;
    Ok(Json(json).into_response())
}

pub(crate) async fn report(state: AppState, p: Params) -> Result<Response> {
    let Query(list) = p?;
    let list = params(list, &["from", "to", "scope", "format", "at"])?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let (body, content_type) =
        tokio::task::spawn_blocking(move || -> Result<(String, &'static str)> {
            let zone = store.workspace()?.zone;
            let now = at_of(&list, &zone, now)?;
            let day = |name: &str| -> Result<(Micros, String)> {
                let text = get(&list, name)
                    .ok_or_else(|| bad(format!("{name} is required: a date, YYYY-MM-DD")))?;
                let date = parse_date(text).map_err(|e| bad(format!("{name}: {e}")))?;
                let start = start_of_day(date, &zone).map_err(|e| bad(e.to_string()))?;
                Ok((start, date.to_string()))
            };
            let (from, to) = (day("from")?, day("to")?);
            if to.0 <= from.0 {
                return Err(bad("to must be after from (the range is [from, to))".into()));
            }
            let scope = Scope::parse(get(&list, "scope").unwrap_or("company"))
                .map_err(|e| bad(e.to_string()))?;
            let report = crate::report::build(
                &*store,
                &catalog,
                &traction_forecast::kpi::Source::new(&*store, &catalog)
                    .with_backtests_at_most(traction_forecast::kpi::REQUEST_BACKTESTS),
                scope,
                from,
                to,
                now,
            )
            .map_err(kpi_error)?;
            Ok(match get(&list, "format").unwrap_or("json") {
                "json" => (crate::wire::report(&report).to_string(), "application/json"),
                "md" | "markdown" => {
                    (traction_render::report::markdown(&report), "text/markdown; charset=utf-8")
                }
                "html" => (traction_render::report::html(&report), "text/html; charset=utf-8"),
                "csv" => (traction_render::report::csv(&report), "text/csv; charset=utf-8"),
                other => {
                    return Err(bad(format!(
                        "format: {other:?} is not a report format: use json, md, html or csv"
                    )));
                }
            })
        })
        .await??;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
