//! The JSON API under `/api/v1` (spec: interfaces.md, HTTP API).
//!
//! [`endpoints`] is the one table of what the API serves: [`api_router`] builds the routes from
//! it and `openapi.rs` documents it, so the OpenAPI document cannot drift from the router
//! (ripgrep's `defs.rs` idea: one list drives the code and its documentation). Record routes are
//! made per entity from the schema (`Entity::ALL`), so an entity added to the data model gets
//! its routes and its documentation with no code here.
//!
//! Authentication wraps the application as a whole, in one place (`auth::middleware`, applied in
//! `lib.rs`); the route-level rights of each operation are `auth::authz::route_roles`.

pub mod deals;
pub mod definitions;
pub mod filter;
pub mod forecast;

pub mod hooks;
pub mod import;
pub mod kpis;
pub mod metrics;
pub mod monitor;
pub mod records;
pub mod types;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use serde_json::json;
use traction_domain::Entity;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::ApiError;
use records::{BodyBytes, IdPath, Params};

/// What an endpoint does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Health,
    OpenApi,
    Events,
    List(Entity),
    Create(Entity),
    /// Delete a keyed entity's record by its key fields given as query parameters.
    DeleteByKey(Entity),
    Get(Entity),
    Replace(Entity),
    Patch(Entity),
    Delete(Entity),
    Import(Entity),
    MoveDeal,
    /// The metric catalog.
    Catalog,
    /// One metric over a range.
    Metric,
    Funnel,
    Kpis,
    Breakdown,
    Leaderboard,
    Report,
    /// Set a user's password.
    Password,
    ListTokens,
    CreateToken,
    RevokeToken,
    /// The audit log.
    Audit,
    /// Monitoring (monitoring.md): channels, alert rules, their instances and history, silences,
    /// the caller's notifications.
    Channels,
    CreateChannel,
    DeleteChannel,
    AlertRules,
    CreateAlertRule,
    DeleteAlertRule,
    Alerts,
    AlertHistory,
    Silences,
    CreateSilence,
    DeleteSilence,
    Notifications,
    ReadNotification,
    /// Why a metric moved (monitoring.md, Explaining a change).
    Explain,
    /// Metrics defined in the app (definitions.rs).
    Definitions,
    CheckDefinition,
    CreateDefinition,
    ReplaceDefinition,
    DeleteDefinition,
    /// Scheduled reports (monitoring.md, Scheduled reports).
    Schedules,
    CreateSchedule,
    UpdateSchedule,
    DeleteSchedule,
    RunSchedule,
    /// Forecasts (monitoring.md, Forecasts): a metric's, its kept history, the pipeline's.
    Forecast,
    ForecastHistory,
    ForecastPipeline,

    /// A mailing tool's event webhook (public: the provider's signature lets it in).
    EmailHook,
    /// Whether a provider's hook is configured (public; Mandrill checks a URL before saving it).
    EmailHookCheck,
}

/// One method on one path.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub method: Method,
    /// The path below `/api/v1`, with `{id}` for the record id.
    pub path: String,
    pub op: Op,
}

/// Every endpoint of the API, in the order they are documented.
pub fn endpoints() -> Vec<Endpoint> {
    let mut out = Vec::new();
    let mut add = |method: Method, path: String, op: Op| out.push(Endpoint { method, path, op });
    add(Method::GET, "/health".into(), Op::Health);
    add(Method::GET, "/openapi.json".into(), Op::OpenApi);
    for entity in Entity::ALL {
        let base = format!("/{}", entity.name());
        // `GET /events` is both the live stream of interfaces.md and the list of the events
        // entity: one route, told apart by `Accept: text/event-stream` (what every EventSource
        // sends), documented once.
        if entity == Entity::Events {
            add(Method::GET, base.clone(), Op::Events);
        } else {
            add(Method::GET, base.clone(), Op::List(entity));
        }
        add(Method::POST, base.clone(), Op::Create(entity));
        add(Method::POST, format!("{base}/import"), Op::Import(entity));
        if entity.has_id() {
            let one = format!("{base}/{{id}}");
            add(Method::GET, one.clone(), Op::Get(entity));
            add(Method::PUT, one.clone(), Op::Replace(entity));
            add(Method::PATCH, one.clone(), Op::Patch(entity));
            add(Method::DELETE, one, Op::Delete(entity));
        } else {
            add(Method::DELETE, base, Op::DeleteByKey(entity));
        }
    }
    add(Method::POST, "/deals/{id}/move".into(), Op::MoveDeal);
    add(Method::GET, "/metrics".into(), Op::Catalog);
    add(Method::GET, "/metrics/{name}".into(), Op::Metric);
    add(Method::GET, "/funnel".into(), Op::Funnel);
    add(Method::GET, "/explain/{name}".into(), Op::Explain);
    add(Method::GET, "/kpis".into(), Op::Kpis);
    add(Method::GET, "/kpis/{id}/breakdown".into(), Op::Breakdown);
    add(Method::GET, "/kpis/{id}/leaderboard".into(), Op::Leaderboard);
    add(Method::GET, "/report".into(), Op::Report);
    add(Method::GET, "/forecast/pipeline".into(), Op::ForecastPipeline);
    add(Method::GET, "/forecast/{name}".into(), Op::Forecast);
    add(Method::GET, "/forecast/{name}/history".into(), Op::ForecastHistory);
    add(Method::POST, "/users/{id}/password".into(), Op::Password);
    add(Method::GET, "/tokens".into(), Op::ListTokens);
    add(Method::POST, "/tokens".into(), Op::CreateToken);
    add(Method::DELETE, "/tokens/{id}".into(), Op::RevokeToken);
    add(Method::GET, "/audit".into(), Op::Audit);
    add(Method::GET, "/channels".into(), Op::Channels);
    add(Method::POST, "/channels".into(), Op::CreateChannel);
    add(Method::DELETE, "/channels/{id}".into(), Op::DeleteChannel);
    add(Method::GET, "/alert-rules".into(), Op::AlertRules);
    add(Method::POST, "/alert-rules".into(), Op::CreateAlertRule);
    add(Method::DELETE, "/alert-rules/{id}".into(), Op::DeleteAlertRule);
    add(Method::GET, "/alerts".into(), Op::Alerts);
    add(Method::GET, "/alert-history".into(), Op::AlertHistory);
    add(Method::GET, "/silences".into(), Op::Silences);
    add(Method::POST, "/silences".into(), Op::CreateSilence);
    add(Method::DELETE, "/silences/{id}".into(), Op::DeleteSilence);
    add(Method::GET, "/notifications".into(), Op::Notifications);
    add(Method::POST, "/notifications/{id}/read".into(), Op::ReadNotification);
    add(Method::GET, "/metric-definitions".into(), Op::Definitions);
    add(Method::POST, "/metric-definitions".into(), Op::CreateDefinition);
    add(Method::POST, "/metric-definitions/check".into(), Op::CheckDefinition);
    add(Method::PUT, "/metric-definitions/{id}".into(), Op::ReplaceDefinition);
    add(Method::DELETE, "/metric-definitions/{id}".into(), Op::DeleteDefinition);
    add(Method::GET, "/schedules".into(), Op::Schedules);
    add(Method::POST, "/schedules".into(), Op::CreateSchedule);
    add(Method::PATCH, "/schedules/{id}".into(), Op::UpdateSchedule);
    add(Method::DELETE, "/schedules/{id}".into(), Op::DeleteSchedule);
    add(Method::POST, "/schedules/{id}/run".into(), Op::RunSchedule);

    add(Method::GET, "/hooks/email/{id}".into(), Op::EmailHookCheck);
    add(Method::POST, "/hooks/email/{id}".into(), Op::EmailHook);
    out
}

fn filter(method: &Method) -> MethodFilter {
    match *method {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        _ => MethodFilter::DELETE,
    }
}

/// The handler of one endpoint.
fn handler(endpoint: &Endpoint) -> MethodRouter<AppState> {
    let f = filter(&endpoint.method);
    match endpoint.op {
        Op::Health => on(f, health),
        Op::OpenApi => on(f, openapi),
        Op::Events => on(
            f,
            |State(s): State<AppState>,
             principal: Option<CurrentUser>,
             headers: HeaderMap,
             p: Params| async move {
                match principal {
                    Some(CurrentUser(u)) if wants_event_list(&headers, &p) => {
                        records::list(s, &u, Entity::Events, p).await.into_response()
                    }
                    principal => events(s, principal).await,
                }
            },
        ),
        Op::List(e) => on(
            f,
            move |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| async move {
                records::list(s, &u, e, p).await
            },
        ),
        Op::Create(e) => on(
            f,
            move |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| async move {
                records::create(s, &u, e, b).await
            },
        ),
        Op::DeleteByKey(e) => on(
            f,
            move |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| async move {
                records::delete_by_key(s, &u, e, p).await
            },
        ),
        Op::Get(e) => on(
            f,
            move |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| async move {
                records::get_one(s, &u, e, id).await
            },
        ),
        Op::Replace(e) => on(
            f,
            move |State(s): State<AppState>,
                  CurrentUser(u): CurrentUser,
                  id: IdPath,
                  b: BodyBytes| async move { records::replace(s, &u, e, id, b).await },
        ),
        Op::Patch(e) => on(
            f,
            move |State(s): State<AppState>,
                  CurrentUser(u): CurrentUser,
                  id: IdPath,
                  b: BodyBytes| async move { records::patch(s, &u, e, id, b).await },
        ),
        Op::Delete(e) => on(
            f,
            move |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| async move {
                records::delete_one(s, &u, e, id).await
            },
        ),
        Op::Import(e) => on(
            f,
            move |State(s): State<AppState>,
                  CurrentUser(u): CurrentUser,
                  p: Params,
                  h: HeaderMap,
                  b: Body| async move { import::import(s, &u, e, p, h, b).await },
        ),
        Op::MoveDeal => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath, b: BodyBytes| async move {
                deals::move_deal(s, &u, id, b).await
            },
        ),
        Op::Password => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath, b: BodyBytes| {
                auth::api::set_password(s, u, id, b)
            },
        ),
        Op::ListTokens => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                auth::api::list_tokens(s, u, p)
            })
        }
        Op::CreateToken => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                auth::api::create_token(s, u, b)
            })
        }
        Op::RevokeToken => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                auth::api::revoke_token(s, u, id)
            })
        }
        Op::Audit => on(f, |State(s): State<AppState>, p: Params| auth::api::audit(s, p)),
        Op::Catalog => on(f, |State(s): State<AppState>| metrics::catalog(s)),
        Op::Metric => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, name: IdPath, p: Params| {
                metrics::metric(s, u, name, p)
            },
        ),
        Op::Funnel => on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
            metrics::funnel(s, u, p)
        }),
        Op::Explain => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, name: IdPath, p: Params| {
                metrics::explain(s, u, name, p)
            },
        ),
        Op::Kpis => on(f, |State(s): State<AppState>, p: Params| kpis::status(s, p)),
        Op::Breakdown => {
            on(f, |State(s): State<AppState>, id: IdPath, p: Params| kpis::breakdown(s, id, p))
        }
        Op::Leaderboard => {
            on(f, |State(s): State<AppState>, id: IdPath, p: Params| kpis::leaderboard(s, id, p))
        }
        Op::Report => on(f, |State(s): State<AppState>, p: Params| kpis::report(s, p)),
        Op::Forecast => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, name: IdPath, p: Params| {
                forecast::forecast(s, u, name, p)
            },
        ),
        Op::ForecastHistory => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, name: IdPath, p: Params| {
                forecast::history(s, u, name, p)
            },
        ),
        Op::ForecastPipeline => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                forecast::pipeline(s, u, p)
            })
        }
        Op::Channels => on(f, |State(s): State<AppState>, p: Params| monitor::list_channels(s, p)),
        Op::CreateChannel => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_channel(s, u, b)
            })
        }
        Op::DeleteChannel => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_channel(s, u, id)
            })
        }
        Op::AlertRules => on(f, |State(s): State<AppState>, p: Params| monitor::list_rules(s, p)),
        Op::CreateAlertRule => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_rule(s, u, b)
            })
        }
        Op::DeleteAlertRule => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_rule(s, u, id)
            })
        }
        Op::Alerts => on(f, |State(s): State<AppState>, p: Params| monitor::alerts(s, p)),
        Op::AlertHistory => on(f, |State(s): State<AppState>, p: Params| monitor::history(s, p)),
        Op::Silences => on(f, |State(s): State<AppState>, p: Params| monitor::list_silences(s, p)),
        Op::CreateSilence => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_silence(s, u, b)
            })
        }
        Op::DeleteSilence => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_silence(s, u, id)
            })
        }
        Op::Notifications => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, p: Params| {
                monitor::notifications(s, u, p)
            })
        }
        Op::Definitions => on(f, |State(s): State<AppState>, p: Params| definitions::list(s, p)),
        Op::CheckDefinition => {
            on(f, |State(s): State<AppState>, b: BodyBytes| definitions::check(s, b))
        }
        Op::CreateDefinition => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                definitions::create(s, u, b)
            })
        }
        Op::ReplaceDefinition => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath, b: BodyBytes| {
                definitions::replace(s, u, id, b)
            },
        ),
        Op::DeleteDefinition => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                definitions::delete(s, u, id)
            })
        }
        Op::Schedules => {
            on(f, |State(s): State<AppState>, p: Params| monitor::list_schedules(s, p))
        }
        Op::CreateSchedule => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, b: BodyBytes| {
                monitor::create_schedule(s, u, b)
            })
        }
        Op::UpdateSchedule => on(
            f,
            |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath, b: BodyBytes| {
                monitor::update_schedule(s, u, id, b)
            },
        ),
        Op::DeleteSchedule => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::delete_schedule(s, u, id)
            })
        }
        Op::RunSchedule => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::run_schedule(s, u, id)
            })
        }
        Op::ReadNotification => {
            on(f, |State(s): State<AppState>, CurrentUser(u): CurrentUser, id: IdPath| {
                monitor::read_notification(s, u, id)
            })
        }
        Op::EmailHookCheck => {
            on(f, |State(s): State<AppState>, id: IdPath| hooks::check_hook(s, id))
        }
        Op::EmailHook => {
            on(f, |State(s): State<AppState>, id: IdPath, h: HeaderMap, b: BodyBytes| {
                hooks::receive(s, id, h, b)
            })
        }
    }
}

/// The API's routes, relative to `/api/v1`: the one router an authentication layer wraps.
pub fn api_router() -> Router<AppState> {
    let mut router = Router::new();
    for endpoint in endpoints() {
        router = router.route(&endpoint.path, handler(&endpoint));
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
        .filter(|e| matches_path(&format!("/api/v1{}", e.path), &path))
        .map(|e| e.method.to_string())
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
