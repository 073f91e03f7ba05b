//! Traction's web application (spec: interfaces.md, Web application; web-design.md): pages
//! rendered by the server with maud, SVG charts drawn by the server (`chart.rs`), one small
//! script for live updates and drag and drop (`assets/app.js`), one stylesheet — both compiled
//! into the binary. Pages work without the script; it only adds.
//!
//! [`router`] is handed to `traction_server::app_with`, so every page sits behind the server's
//! middleware (sign-in, security headers, compression, request logs) like the API does.
//!
//! Data flow: a page handler reads its query string (the URL holds the state: scope, period,
//! filters), then on the blocking pool asks the store, the metrics engine and the KPI service —
//! the same calls the API and the CLI make — and renders. Writes (log an activity, move a deal,
//! set a target, import) go through the store's writer like every other write and are announced
//! on the server's event stream, which is what keeps other open pages live.
//!
//! - `fmt`, `chart` (from `traction-render`, shared with the report): numbers for people in the
//!   reader's locale; line/bar charts, sparklines, pace bars, funnel, heatmap — SVG with titles
//!   and a table for every chart.
//! - `layout.rs`: the page shell (navigation, theme, the live indicator).
//! - `pages/`: one module per page.

mod cache;
mod forms;
mod layout;
mod pages;

pub use traction_render::{chart, fmt};

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use traction_server::AppState;

pub use layout::Nav;

/// Every page and asset of the web application.
pub fn router() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/", get(dashboard::page))
        .route("/today", get(today::page))
        .route("/pipeline", get(pipeline::page))
        .route("/pipeline/move", post(pipeline::move_deal))
        .route("/leads", get(leads::page))
        .route("/leads/{id}", get(work::lead))
        .route("/leads/{id}/{step}", post(work::lead_step))
        .route("/deals", get(deals::list))
        .route("/deals/{id}", get(work::deal))
        .route("/views", get(views::list).post(views::save))
        .route("/views/{id}/delete", post(views::delete))
        .route("/contacts/{id}", get(work::contact))
        .route("/tasks/{id}/done", post(work::task_done))
        .route("/search", get(search::page))
        .route("/pipelines", post(pipelines::create))
        .route("/pipelines/new", get(pipelines::form))
        .route("/records/{entity}", post(edit::save))
        .route("/records/{entity}/new", get(edit::new_form))
        .route("/records/{entity}/{id}/edit", get(edit::edit_form))
        .route("/records/{entity}/{id}/delete", get(edit::delete_form).post(edit::delete))
        .route("/log", get(activity::form).post(activity::submit))
        .route("/explore", get(explorer::page))
        .route("/forecast/pipeline", get(forecast::pipeline))
        .route("/forecast/history", get(forecast::history))
        .route("/explore.csv", get(explorer::csv))
        .route("/targets", get(targets::list).post(targets::save))
        .route("/targets/new", get(targets::form_new))
        .route("/targets/{id}", get(targets::detail))
        .route("/targets/{id}/edit", get(targets::form_edit))
        .route("/targets/{id}/delete", get(targets::confirm_delete).post(targets::delete))
        .route(
            "/import",
            get(import::form)
                .post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/import/progress", get(import::progress))
        .route("/settings", get(settings::page).post(settings::save))
        .route("/setup", get(setup::page).post(setup::save_workspace))
        .route("/setup/goals", post(setup::save_goals))
        .route("/setup/demo", post(setup_demo::load))
        .route("/settings/users/{id}/sign-in", get(people::form))
        .route("/settings/users/{id}/invite", post(people::invite))
        .route("/settings/users/{id}/password", post(people::set_password))
        .route("/settings/tokens", post(tokens::create_token))
        .route("/settings/tokens/revoke", post(tokens::revoke_token))
        .route("/customers", get(records::customers))
        .route("/customers/{id}", get(records::customer))
        .route("/orders", get(records::orders))
        .route("/orders/{id}", get(records::order))
        .route("/products", get(records::products))
        .route("/products/{id}", get(records::product))
        .route("/campaigns", get(records::campaigns))
        .route("/campaigns/{id}", get(records::campaign))
        .route("/costs", get(records::costs))
        .route("/events", get(events::list))
        .route("/metrics", get(definitions::list).post(definitions::save))
        .route("/metrics/new", get(definitions::new_form))
        .route("/metrics/check", post(definitions::check_json))
        .route("/metrics/{name}/edit", get(definitions::edit_form))
        .route("/metrics/{name}/delete", post(definitions::delete))
        .route("/alerts", get(alerts::page))
        .route("/alerts/rules", post(alerts::save_rule))
        .route("/alerts/rules/new", get(alerts::new_rule))
        .route("/alerts/rules/{id}/edit", get(alerts::edit_rule))
        .route("/alerts/schedules", post(alerts::save_schedule))
        .route("/alerts/schedules/new", get(alerts::new_schedule))
        .route("/alerts/schedules/{id}/edit", get(alerts::edit_schedule))
        .route("/alerts/silences", post(alerts::silence))
        .route("/notifications", get(alerts::notifications))
        .route("/notifications/count", get(alerts::unread))
        .route("/notifications/read", post(alerts::mark_all_read))
        .route("/notifications/{id}/read", post(alerts::mark_read))
        .route("/assets/{file}", get(assets))
        .route("/favicon.ico", get(favicon))
}

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/favicon.svg");

/// The stylesheet and the script, with a validator so browsers revalidate cheaply.
async fn assets(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (ICON, "image/svg+xml"),
        _ => return WebError::not_found(format!("no asset {file:?}")).into_response(),
    };
    let etag = format!("\"{:x}\"", fnv(body.as_bytes()));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Browsers ask for `/favicon.ico` on every page (the sign-in page too): the icon, as SVG.
async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "max-age=86400")], ICON)
        .into_response()
}

/// FNV-1a, for asset validators (not security).
fn fnv(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// A page that cannot be shown: a bad parameter (400), a missing record (404), a failure (500).
#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub message: String,
}

impl WebError {
    pub fn bad(message: impl std::fmt::Display) -> WebError {
        WebError { status: StatusCode::BAD_REQUEST, message: message.to_string() }
    }
    pub fn not_found(message: impl std::fmt::Display) -> WebError {
        WebError { status: StatusCode::NOT_FOUND, message: message.to_string() }
    }
    pub fn internal(message: impl std::fmt::Display) -> WebError {
        WebError { status: StatusCode::INTERNAL_SERVER_ERROR, message: message.to_string() }
    }
    /// The server is too busy for this page now (a query past its time limit).
    pub fn busy(message: impl std::fmt::Display) -> WebError {
        WebError { status: StatusCode::SERVICE_UNAVAILABLE, message: message.to_string() }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::BAD_REQUEST => "That request cannot be answered",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            _ => "Something went wrong",
        };
        let message = if self.status.is_server_error() {
            tracing::error!(message = %self.message, "page failed");
            "The server could not build this page; the problem is logged. Try again, or go back to the dashboard.".to_string()
        } else {
            self.message
        };
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Traction" }
                    link rel="stylesheet" href="/assets/app.css";
                }
                body {
                    main.narrow {
                        h1 { (title) }
                        p.error-text { (message) }
                        p { a href="/" { "Back to the dashboard" } }
                    }
                }
            }
        };
        (self.status, body).into_response()
    }
}

impl From<traction_store::Error> for WebError {
    fn from(e: traction_store::Error) -> WebError {
        match e {
            traction_store::Error::Invalid(_) | traction_store::Error::Conflict(_) => {
                WebError::bad(e.to_string())
            }
            traction_store::Error::NotFound => WebError::not_found("no such record"),
            traction_store::Error::Storage(m) => WebError::internal(m),
            traction_store::Error::Busy(m) => WebError::busy(m),
        }
    }
}

impl From<traction_metrics::Error> for WebError {
    fn from(e: traction_metrics::Error) -> WebError {
        use traction_metrics::ErrorKind;
        if let traction_metrics::Error::Storage(m) = e {
            return WebError::internal(m);
        }
        match e.kind() {
            ErrorKind::Input => WebError::bad(e.to_string()),
            ErrorKind::NotFound => WebError::not_found(e.to_string()),
            ErrorKind::Busy => WebError::busy(e.to_string()),
            ErrorKind::Storage => WebError::internal(e.to_string()),
        }
    }
}

impl From<traction_kpi::service::Error> for WebError {
    fn from(e: traction_kpi::service::Error) -> WebError {
        match e {
            traction_kpi::service::Error::Invalid(m) => WebError::bad(m),
            traction_kpi::service::Error::Value(e) => WebError::bad(e),
            traction_kpi::service::Error::NotFound(m) => WebError::not_found(m),
            traction_kpi::service::Error::Metrics(e) => e.into(),
            e @ traction_kpi::service::Error::Forecast(_) => WebError::bad(e.to_string()),
            traction_kpi::service::Error::Store(e) => e.into(),
        }
    }
}

pub type Result<T, E = WebError> = std::result::Result<T, E>;

/// Runs synchronous work on the blocking pool (the store is synchronous). Handlers go through
/// `respond` or `compute`, which read the clock once and hand the state over; this alone is
/// left for work with neither (reading an upload's head back from its spool file).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::internal(format!("a page task failed: {e}")))?
}

/// The one shape of a page handler: the clock read once for the request ("now" enters at the
/// edge), then the page's reads and rendering on the blocking pool with the state, and the
/// answer — a page's markup, a redirect, or a status with a page. A handler is then its
/// extractors and one call: `respond(state, move |state, now| list_page(state, &req, now))`.
pub(crate) async fn respond<R: IntoResponse>(
    state: AppState,
    page: impl FnOnce(&AppState, traction_domain::time::Micros) -> Result<R> + Send + 'static,
) -> Result<Response> {
    compute(state, move |state, now| page(state, now).map(IntoResponse::into_response)).await
}

/// `respond` for the handlers with async work after the blocking part (announcing a write,
/// rendering a form again with its errors): the clock read once for the request, then the
/// reads and writes on the blocking pool with the state, and their value handed back to the
/// handler instead of an answer.
pub(crate) async fn compute<T: Send + 'static>(
    state: AppState,
    work: impl FnOnce(&AppState, traction_domain::time::Micros) -> Result<T> + Send + 'static,
) -> Result<T> {
    let now = (state.clock)();
    blocking(move || work(&state, now)).await
}

/// What every page knows of its request: the reader's locale, the path (for the navigation and
/// sign-in redirects) and, once signed in, who is asking.
#[derive(Clone, Debug)]
pub struct Req {
    pub locale: fmt::Locale,
    /// Path and query, as requested.
    pub path: String,
    /// The signed-in user, when sign-in is on.
    pub user: Option<User>,
    /// The session's token for form posts (CSRF protection), when signed in with a session.
    pub csrf: Option<String>,
    /// The caller as the server's sign-in middleware resolved them: writes go through
    /// `Guarded` with it, so a page can do exactly what its user may do through the API.
    pub principal: Option<std::sync::Arc<traction_server::auth::Principal>>,
    /// The signed-in user's unread notifications in the app (the bell), when signed in.
    pub unread: Option<usize>,
}

impl Req {
    /// The signed-in caller; every page but sign-in is behind the middleware, so a page without
    /// one was reached without sign-in (tests of the pages alone) and may only read.
    pub fn principal(&self) -> Result<&traction_server::auth::Principal> {
        self.principal.as_deref().ok_or_else(|| WebError {
            status: StatusCode::UNAUTHORIZED,
            message: "sign in to make changes".into(),
        })
    }
}

/// The signed-in user as the pages need them.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub team: Option<String>,
}

impl FromRequestParts<AppState> for Req {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Req, Self::Rejection> {
        let language = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let principal =
            parts.extensions.get::<std::sync::Arc<traction_server::auth::Principal>>().cloned();
        // The bell's count: one indexed count, read on the blocking pool.
        let unread = match &principal {
            Some(p) => {
                let (store, user) = (state.store.clone(), p.user_id.clone());
                tokio::task::spawn_blocking(move || {
                    traction_store::MonitorStore::unread_count(store.as_ref(), &user).ok()
                })
                .await
                .ok()
                .flatten()
            }
            None => None,
        };
        Ok(Req {
            unread,
            locale: fmt::Locale::from_accept_language(language),
            path: parts.uri.path_and_query().map_or("/".into(), |p| p.as_str().to_string()),
            user: principal.as_ref().map(|p| User {
                id: p.user_id.clone(),
                name: p.name.clone(),
                role: p.role.name().to_string(),
                team: p.team_id.clone(),
            }),
            csrf: principal.as_ref().and_then(|p| p.csrf_token().map(str::to_string)),
            principal,
        })
    }
}

/// A query string as ordered pairs; a malformed one is a 400 page, never a 500.
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Params, WebError> {
        let query = parts.uri.query().unwrap_or("");
        traction_server::auth::form_fields(query.as_bytes())
            .map(Params)
            .map_err(|e| WebError::bad(format!("the query string {e}")))
    }
}

impl Params {
    /// A parameter's value; empty counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.as_str())
    }

    /// The pairs other than `skip`, for handing on to a parser that refuses unknown keys.
    pub fn without(&self, skip: &[&str]) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| !skip.contains(&k.as_str())).cloned().collect()
    }
}

/// What [`encode`] writes as it is: the URL Standard's unreserved characters and `:` (times
/// such as `09:30` stay readable in a link).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

/// Percent-encodes a query value, a space as `+` (form encoding, which every query here is
/// decoded with).
pub fn encode(text: &str) -> String {
    // A `%` itself is written `%25`, so `%20` in the output can only be a space.
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string().replace("%20", "+")
}

/// A page's markup as a response.
pub(crate) fn render(markup: Markup) -> Response {
    markup.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_encode_as_forms_decode_them() {
        assert_eq!(encode("owner_id = 'u1'&x"), "owner_id+%3D+%27u1%27%26x");
        assert_eq!(encode("09:30 ~a_b-c.d"), "09:30+~a_b-c.d");
        assert_eq!(encode("100% + ä/é"), "100%25+%2B+%C3%A4%2F%C3%A9");
        let text = "a+b c%20d&e=f ä";
        let pairs = traction_server::auth::form_fields(format!("v={}", encode(text)).as_bytes());
        assert_eq!(pairs.unwrap(), vec![("v".to_string(), text.to_string())]);
    }
}
