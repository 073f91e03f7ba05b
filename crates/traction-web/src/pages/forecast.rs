//! Forecast pages (spec: monitoring.md, Forecasts; docs/forecasts.md): the pipeline forecast
//! per stage with the deals behind each figure one click away (`/forecast/pipeline`), and a
//! metric's past forecasts against what happened (`/forecast/history?metric=…`). Figures come
//! from `traction-forecast`, as the API's and the command line's do.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_forecast::ErrorKind;
use traction_forecast::pipeline::Period;
use traction_forecast::service::{self, Request};
use traction_kpi::scope::Scope;
use traction_metrics::catalog::Unit;
use traction_server::AppState;

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

fn forecast_error(e: traction_forecast::Error) -> WebError {
    match e.kind() {
        ErrorKind::Input | ErrorKind::NotFound => WebError::bad(e.to_string()),
        ErrorKind::Busy | ErrorKind::Failure => WebError::internal(e.to_string()),
    }
}

/// A team or user scope beyond the reader's reach is refused, as in the API.
fn check_reach(state: &AppState, req: &Req, scope: &Scope) -> Result<()> {
    let Some(reach) = req.principal.as_deref().and_then(|p| p.owners()) else { return Ok(()) };
    if *scope == Scope::Company {
        return Ok(());
    }
    let owners = service::owners(&*state.store, &state.catalog, scope).map_err(forecast_error)?;
    if owners.unwrap_or_default().iter().all(|o| reach.contains(o)) {
        Ok(())
    } else {
        Err(WebError::bad("you may see forecasts of the company or of your own scope only"))
    }
}

pub async fn pipeline(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| pipeline_page(state, &req, &params, now)).await
}

fn pipeline_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let at = at_param(params, &ws.zone, now)?;
    let scope = scope_param(params, req)?;
    check_reach(state, req, &scope)?;
    let period = match params.get("period") {
        None => Period::Month,
        Some(text) => Period::parse(text).map_err(forecast_error)?,
    };
    let made =
        service::pipeline(store, &state.catalog, &scope, period, at).map_err(forecast_error)?;
    let money = |minor: f64| ws.fmt.value(Unit::Money, Some(minor / made.minor_per_major as f64));
    let rate = |x: Option<f64>| ws.fmt.value(Unit::Ratio, x);
    let body = html! {
        div.page-head {
            h1 { "Pipeline forecast" }
            p.sub { "Open deals expected to close " (made.from) " – " (made.to.yesterday().unwrap_or(made.to)) " (overdue ones included) · as of " (ws.when(at)) }
            nav { a href={"?period=month&scope=" (scope)} { "Month" } " · " a href={"?period=quarter&scope=" (scope)} { "Quarter" } }
        }
        section.card data-live {
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Stage" } th.num scope="col" { "Deals" } th.num scope="col" { "Amount" }
                        th.num scope="col" { "Configured" } th.num scope="col" { "Historical" }
                        th.num scope="col" { "Weighted (configured)" } th.num scope="col" { "Weighted (historical)" }
                    } }
                    tbody {
                        @for r in &made.rows {
                            tr {
                                th scope="row" { (r.stage) }
                                td.num { (r.deals.len()) }
                                td.num { (money(r.amount as f64)) }
                                td.num { (rate(Some(r.probability))) }
                                td.num { (rate(r.historical_win_rate())) " (" (r.won + r.lost) " closed)" }
                                td.num { (money(r.weighted_configured)) }
                                td.num { @match r.weighted_historical { Some(w) => (money(w)), None => "–" } }
                            }
                            @if !r.deals.is_empty() {
                                tr { td colspan="7" {
                                    details { summary { "The " (r.deals.len()) " deal(s) behind " (r.stage) }
                                        ul { @for id in &r.deals { li { a href={"/deals/" (id)} { (id) } } } }
                                    }
                                } }
                            }
                        }
                        tr {
                            th scope="row" { "Total" }
                            td.num { (made.deal_count()) }
                            td.num { (money(made.total_amount() as f64)) }
                            td {} td {}
                            td.num { (money(made.total_configured())) }
                            td.num { (money(made.total_historical())) }
                        }
                    }
                }
            }
            p.sub { (made.without_close_date) " open deal(s) have no expected close date and count in no period." }
        }
    };
    Ok(layout::page(req, "Pipeline forecast", Nav::Pipeline, body))
}

pub async fn history(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| history_page(state, &req, &params, now)).await
}

fn history_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let at = at_param(params, &ws.zone, now)?;
    let scope = scope_param(params, req)?;
    check_reach(state, req, &scope)?;
    let metric = params.get("metric").unwrap_or("revenue");
    let request =
        Request::parse(metric, Some(&scope.to_string()), params.get("grain"), None, None, at)
            .map_err(forecast_error)?;
    let past = service::past(store, &state.catalog, &request, 90).map_err(forecast_error)?;
    let unit = state.catalog.get(metric).map_or(Unit::Count, |m| m.unit);
    // Per bucket: the latest forecast made before it started, against what happened.
    let mut buckets: Vec<(String, f64, f64, f64, Option<f64>)> = Vec::new();
    for row in &past.rows {
        if row.made_at > row.start {
            continue;
        }
        match buckets.last_mut() {
            Some(last) if last.0 == row.period => {
                *last = (row.period.clone(), row.value, row.low, row.high, row.actual);
            }
            _ => buckets.push((row.period.clone(), row.value, row.low, row.high, row.actual)),
        }
    }
    let inside = buckets.iter().filter(|b| b.4.is_some_and(|a| a >= b.2 && a <= b.3)).count();
    let complete = buckets.iter().filter(|b| b.4.is_some()).count();
    let chart = Chart {
        title: format!("{metric}: past forecasts against what happened"),
        unit,
        labels: buckets.iter().map(|b| b.0.clone()).collect(),
        series: vec![
            Series {
                name: "actual".into(),
                values: buckets.iter().map(|b| b.4).collect(),
                style: Style::Main(0),
            },
            Series {
                name: "forecast".into(),
                values: buckets.iter().map(|b| Some(b.1)).collect(),
                style: Style::Target,
            },
            Series {
                name: "low".into(),
                values: buckets.iter().map(|b| Some(b.2)).collect(),
                style: Style::Previous,
            },
            Series {
                name: "high".into(),
                values: buckets.iter().map(|b| Some(b.3)).collect(),
                style: Style::Previous,
            },
        ],
        bars: false,
        wide: true,
    };
    let body = html! {
        div.page-head {
            h1 { "Forecast history: " (metric) }
            p.sub { "Each bucket's latest forecast made before it began, over the last 90 days · " (inside) " of " (complete) " complete buckets inside the interval" }
        }
        section.card data-live {
            @if buckets.is_empty() {
                (layout::empty("No forecast of this metric has been shown yet: forecasts are kept when they are shown (traction forecast, the API, KPI rows).", None))
            } @else {
                (chart::chart(&chart, &ws.fmt))
                div.scroll { table {
                    thead { tr { th scope="col" { "Period" } th.num scope="col" { "Forecast" } th.num scope="col" { "Low" } th.num scope="col" { "High" } th.num scope="col" { "Actual" } } }
                    tbody { @for b in &buckets { tr {
                        th scope="row" { (b.0) }
                        td.num { (ws.fmt.value(unit, Some(b.1))) } td.num { (ws.fmt.value(unit, Some(b.2))) }
                        td.num { (ws.fmt.value(unit, Some(b.3))) } td.num { (ws.fmt.value(unit, b.4)) }
                    } } }
                } }
            }
        }
    };
    Ok(layout::page(req, "Forecast history", Nav::Explore, body))
}
