//! Sign-in, sessions, API tokens, authorisation, CSRF, security headers and the audit log's
//! HTTP side (spec: quality.md, Security; interfaces.md, HTTP API; docs/security.md).
//!
//! # How a request is let in
//!
//! [`middleware`] wraps the whole application (API and pages) in one place, `lib.rs`'s
//! `app_with`. For every request it:
//!
//! 1. resolves the caller from `Authorization: Bearer <token>` (an API token) or the
//!    `traction_session` cookie (a web session), checking expiry and that the user is active;
//! 2. lets public paths through without credentials: `GET /api/v1/health`, `GET|POST /login`,
//!    the mailing tools' signed event webhooks `GET|HEAD|POST /api/v1/hooks/email/{provider}`
//!    and static files under `/assets/`; anything else without a caller answers 401 (API, the
//!    error body) or `303 See Other` to `/login?next=<path-and-query>` (pages);
//! 3. for cookie sessions, on every method but GET, HEAD and OPTIONS, requires the session's CSRF
//!    token in the `x-csrf-token` header, a `_csrf` field of an `application/x-www-form-urlencoded`
//!    body, or a `_csrf` query parameter (for multipart uploads); bearer requests need none;
//! 4. applies the route-level table of [`authz::route_roles`] to API routes (403 when the role
//!    may not call the endpoint at all);
//! 5. puts the [`Principal`] into the request's extensions, for the [`CurrentUser`] extractor;
//! 6. sets the security headers on every response (CSP, nosniff, frame denial, referrer policy).
//!
//! # For handlers (API and web pages)
//!
//! - Take `CurrentUser(principal): CurrentUser` as an argument: it is the signed-in caller
//!   (`user_id`, `name`, `role`, `team_id`, [`Principal::teams`], [`Principal::owners`],
//!   [`Principal::csrf_token`] for forms — put it in a hidden `_csrf` field).
//! - Write through the shared functions that take `&Principal` (`api::records::create`,
//!   `patch`, `replace`, `delete_one`, `api::deals::move_deal`, `api::import::import`): they
//!   write through [`authz::Guarded`], which checks every record and audits every change as the
//!   caller's. Read single records through `api::records::get_one` (404 outside the scope) and
//!   lists through `api::records::list` (filtered to the scope).
//!
//! Module map: `secret` (tokens, hashes, Argon2id), `authz` (the rules), `limit` (sign-in rate
//! limits), `login` (the sign-in page, sign-in and sign-out), `api` (users' passwords, tokens,
//! the audit log).

pub mod api;
pub mod authz;
pub mod invite;
pub mod limit;
pub mod login;
pub mod secret;
mod wire;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_store::{Backend, Store};

use crate::AppState;
use crate::error::ApiError;

pub(crate) use wire::utf8_query;
pub use wire::{NotUtf8, cookie, form_encode, form_fields, set_cookie};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "traction_session";
/// The header a script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field (or query parameter) a page sends the CSRF token in.
pub const CSRF_FIELD: &str = "_csrf";
/// The largest form body read to find its CSRF token.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

const MICROS_PER_SEC: i64 = 1_000_000;
/// A session ends after this long without a request…
pub const SESSION_IDLE: Micros = 12 * 3600 * MICROS_PER_SEC;
/// …and after this long in any case.
pub const SESSION_MAX: Micros = 7 * 24 * 3600 * MICROS_PER_SEC;
/// How stale a session's `last_seen_at` may be before a request updates it.
const TOUCH_EVERY: Micros = 5 * 60 * MICROS_PER_SEC;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Sign-in state kept in memory: the rate limits of sign-in attempts.
#[derive(Debug, Default)]
pub struct AuthState {
    pub limiter: limit::Limiter,
}

/// The routes of signing in and out: `GET|POST /login`, `POST /logout`, and an invitation's
/// one-time sign-in link, `GET|POST /welcome/{secret}`.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/login", get(login::get_login).post(login::post_login))
        .route("/logout", post(login::post_logout))
        .route("/welcome/{secret}", get(invite::get_welcome).post(invite::post_welcome))
}

/// A user's role (data-model.md, users).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Manager,
    Rep,
    Viewer,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "rep" => Some(Role::Rep),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
            Role::Viewer => "viewer",
        }
    }
}

/// How the caller signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A web session: the hash of its id, and its CSRF token.
    Session { id_hash: String, csrf_token: String },
    /// An API token, by its public id.
    Token { id: String },
}

/// The signed-in caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub team_id: Option<String>,
    teams: Option<Vec<String>>,
    owners: Option<Vec<String>>,
    pub via: Via,
}

impl Principal {
    /// The teams within reach: the user's own team and its sub-teams; `None` for everything (an
    /// admin, or a manager or viewer who belongs to no team).
    pub fn teams(&self) -> Option<&[String]> {
        self.teams.as_deref()
    }

    /// The users whose records the caller reads (the members of [`Principal::teams`], and the
    /// caller); `None` for everyone's.
    pub fn owners(&self) -> Option<&[String]> {
        self.owners.as_deref()
    }

    /// The CSRF token that forms and scripts of this session send back; `None` for API tokens.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf_token, .. } => Some(csrf_token),
            Via::Token { .. } => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The principal of a stored user (an active one), with the team scope read from the store.
    pub fn of_user(store: &dyn Store, user: &Record, via: Via) -> Result<Principal, ApiError> {
        let user_id = user.get("id").as_text().unwrap_or("").to_string();
        let role = Role::parse(user.get("role").as_text().unwrap_or("")).unwrap_or(Role::Viewer);
        let team_id = user.get("team_id").as_text().map(str::to_string);
        let (teams, owners) = match (role, &team_id) {
            (Role::Admin, _) => (None, None),
            (_, Some(team)) => {
                let teams = team_and_subteams(store, team)?;
                let mut owners = vec![user_id.clone()];
                store.scan(Entity::Users, &mut |u| {
                    if let Some(t) = u.get("team_id").as_text()
                        && teams.iter().any(|x| x == t)
                        && let Some(id) = u.get("id").as_text()
                        && id != user_id
                    {
                        owners.push(id.to_string());
                    }
                    Ok(())
                })?;
                (Some(teams), Some(owners))
            }
            // A rep in no team sees their own records; a manager or viewer in no team, all.
            (Role::Rep, None) => (Some(Vec::new()), Some(vec![user_id.clone()])),
            (_, None) => (None, None),
        };
        Ok(Principal {
            user_id,
            name: user.get("name").as_text().unwrap_or("").to_string(),
            role,
            team_id,
            teams,
            owners,
            via,
        })
    }

    /// Who this caller is in the audit log, at `at`.
    pub fn actor(&self, at: Micros) -> traction_store::Actor {
        traction_store::Actor { user: self.user_id.clone(), at: Some(at) }
    }
}

/// A team and every team below it.
fn team_and_subteams(store: &dyn Store, team: &str) -> Result<Vec<String>, ApiError> {
    let mut parents: Vec<(String, Option<String>)> = Vec::new();
    store.scan(Entity::Teams, &mut |t| {
        let id = t.get("id").as_text().unwrap_or("").to_string();
        parents.push((id, t.get("parent_id").as_text().map(str::to_string)));
        Ok(())
    })?;
    let mut out = vec![team.to_string()];
    let mut idx = 0;
    while idx < out.len() {
        let current = out[idx].clone();
        for (id, parent) in &parents {
            if parent.as_deref() == Some(current.as_str()) && !out.contains(id) {
                out.push(id.clone());
            }
        }
        idx += 1;
    }
    Ok(out)
}

/// `users` → `user`, for messages.
pub(crate) fn singular(entity: Entity) -> &'static str {
    let name = entity.name();
    match name {
        "activities" => "activity",
        "stage_changes" => "stage change",
        "order_lines" => "order line",
        "inventory_movements" => "inventory movement",
        "web_visits" => "web visit",
        "email_events" => "email event",
        _ => name.strip_suffix('s').unwrap_or(name),
    }
}

/// The signed-in caller, for handlers: `CurrentUser(principal): CurrentUser`.
///
/// The middleware has already refused requests without credentials, so this fails only on a
/// route that is public (then it answers 401).
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .map(CurrentUser)
            .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Arc<Principal>>().cloned().map(CurrentUser))
    }
}

/// Whether a path needs no credentials.
fn is_public(method: &Method, path: &str) -> bool {
    (path == "/api/v1/health" && (method == Method::GET || method == Method::HEAD))
        // Mailing tools' event webhooks: signed by the provider, checked by the handler.
        || (path.starts_with("/api/v1/hooks/email/")
            && matches!(*method, Method::GET | Method::HEAD | Method::POST))
        || path == "/login"
        || path.starts_with("/welcome/")
        || path.starts_with("/assets/")
        || path == "/favicon.ico"
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// A local path to go back to after signing in: absolute, on this site, without a scheme or an
/// authority, or `/` when it is anything else (no open redirect).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2048;
    if ok { next.to_string() } else { "/".to_string() }
}

/// The bearer token of an `Authorization` header: `Some(Ok(token))`, `Some(Err(()))` for a
/// malformed header, `None` when there is none.
fn bearer(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = value.to_str().map_err(|_| ()).ok()?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Some(Err(()));
    }
    Some(Ok(token.trim().to_string()))
}

/// Who a request comes from, if anyone: `Err` when credentials were given and are not valid
/// (the message says why, without telling a stranger which part was wrong).
fn resolve(
    store: &dyn Backend,
    headers: &HeaderMap,
    now: Micros,
) -> Result<Option<Principal>, ApiError> {
    let invalid = || {
        ApiError::Unauthorized(
        "the bearer token is not valid: it may be mistyped, revoked, or its user disabled; create a new one with `traction token create` or POST /api/v1/tokens".into(),
    )
    };
    if let Some(given) = bearer(headers) {
        let Ok(token) = given else { return Err(invalid()) };
        let Some(stored) = store.token_by_hash(&secret::token_hash(&token))? else {
            return Err(invalid());
        };
        if stored.revoked_at.is_some() {
            return Err(invalid());
        }
        let Some(user) = active_user(store, &stored.user_id)? else { return Err(invalid()) };
        if stored.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY) {
            let _ = store.touch_token(&stored.id, now);
        }
        return Principal::of_user(store, &user, Via::Token { id: stored.id }).map(Some);
    }
    let Some(session_id) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let id_hash = secret::token_hash(&session_id);
    let Some(session) = store.session(&id_hash)? else { return Ok(None) };
    if now - session.created_at > SESSION_MAX || now - session.last_seen_at > SESSION_IDLE {
        let _ = store.delete_session(&id_hash);
        return Ok(None);
    }
    let Some(user) = active_user(store, &session.user_id)? else { return Ok(None) };
    if now - session.last_seen_at > TOUCH_EVERY {
        let _ = store.touch_session(&id_hash, now);
    }
    let via = Via::Session { id_hash, csrf_token: session.csrf_token };
    Principal::of_user(store, &user, via).map(Some)
}

/// A user who may sign in: stored and active.
pub(crate) fn active_user(store: &dyn Backend, id: &str) -> Result<Option<Record>, ApiError> {
    let user = store.get(Entity::Users, &[Value::Text(id.to_string())])?;
    Ok(user.filter(|u| !matches!(u.get("active"), Value::Bool(false))))
}

/// The client's address (the connection's peer), for rate limits.
pub fn client_address<B>(req: &axum::http::Request<B>) -> String {
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Sets the security headers on a response.
pub fn security_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

/// The answer to a request that needs a sign-in and has none.
fn sign_in_first(api: bool, path_and_query: &str) -> Response {
    if api {
        return ApiError::Unauthorized(
            "sign in first: send Authorization: Bearer <token> (create one with `traction token create --user ID`)".into(),
        )
        .into_response();
    }
    let next = safe_next(path_and_query);
    let location = if next == "/" {
        "/login".to_string()
    } else {
        format!("/login?next={}", form_encode(&next))
    };
    redirect(&location)
}

/// `303 See Other` to a local path.
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A refusal for a missing or wrong CSRF token.
/// The pages a viewer may post to: signing out, their own API tokens and their own saved views.
fn viewer_may_post(path: &str) -> bool {
    matches!(path, "/logout" | "/settings/tokens" | "/settings/tokens/revoke" | "/views")
        || path
            .strip_prefix("/views/")
            .and_then(|rest| rest.strip_suffix("/delete"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn csrf_refused(api: bool) -> Response {
    let message = "the CSRF token is missing or wrong: reload the page and try again (scripts: send the x-csrf-token header, or use a bearer token)";
    if api {
        ApiError::Forbidden(message.into()).into_response()
    } else {
        (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message)
            .into_response()
    }
}

/// The API operation a request calls, if it is one.
fn api_op(method: &Method, path: &str) -> Option<crate::api::operations::Endpoint> {
    let rest = path.strip_prefix("/api/v1")?;
    let method = if method == Method::HEAD { Method::GET } else { method.clone() };
    crate::api::operations::endpoints()
        .into_iter()
        .find(|e| e.method() == method && crate::api::matches_path(&e.path(), rest))
}

/// The one authentication and authorisation layer (see the module docs).
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = guard(state, req, next).await;
    security_headers(response.headers_mut());
    response
}

async fn guard(state: AppState, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let path_and_query =
        req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
    let api = is_api(&path);
    let now = (state.clock)();
    let store = state.store.clone();
    let headers = req.headers().clone();
    let resolved = tokio::task::spawn_blocking(move || resolve(&*store, &headers, now))
        .await
        .map_err(ApiError::from);
    let principal = match resolved {
        Ok(Ok(p)) => p,
        Ok(Err(e)) | Err(e) => {
            if is_public(&method, &path) {
                None
            } else if api || matches!(e, ApiError::Internal(_)) {
                return e.into_response();
            } else {
                return sign_in_first(false, &path_and_query);
            }
        }
    };
    if is_public(&method, &path) {
        if let Some(p) = principal {
            req.extensions_mut().insert(Arc::new(p));
        }
        return next.run(req).await;
    }
    let Some(principal) = principal else { return sign_in_first(api, &path_and_query) };
    // A viewer's form post that would change data is refused before anything of it is read or
    // validated (their own tokens and signing out stay theirs).
    if !api
        && principal.role == Role::Viewer
        && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !viewer_may_post(&path)
    {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "a viewer reads only: ask an admin for a role that may change data",
        )
            .into_response();
    }
    if let Some(csrf) = principal.csrf_token()
        && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let (checked, ok) = check_csrf(req, csrf).await;
        if !ok {
            return csrf_refused(api);
        }
        req = checked;
    }
    if api && let Some(op) = api_op(&method, &path) {
        let roles = authz::route_roles(&op);
        if !roles.contains(&principal.role) {
            let allowed: Vec<&str> = roles.iter().map(|r| r.name()).collect();
            return ApiError::Forbidden(format!(
                "a {} may not {method} {path}: it needs the role {}",
                principal.role.name(),
                allowed.join(" or ")
            ))
            .into_response();
        }
    }
    req.extensions_mut().insert(Arc::new(principal));
    next.run(req).await
}

/// Looks for the session's CSRF token in the header, the query string, or a form body (which is
/// read, bounded, and put back for the handler). Returns the request and whether it matched.
async fn check_csrf(req: Request, expected: &str) -> (Request, bool) {
    let matches = |given: &str| secret::constant_time_eq(given, expected);
    if let Some(given) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let ok = matches(given);
        return (req, ok);
    }
    if let Some(query) = req.uri().query()
        && let Some((_, given)) = form_fields(query.as_bytes())
            .ok()
            .and_then(|f| f.into_iter().find(|(k, _)| k == CSRF_FIELD))
    {
        let ok = matches(&given);
        return (req, ok);
    }
    let is_form =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return (req, false);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (Request::from_parts(parts, Body::empty()), false);
    };
    // A body that does not decode carries no token (the handler would refuse it anyway).
    let ok = form_fields(&bytes)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .is_some_and(|(_, given)| matches(&given));
    (Request::from_parts(parts, Body::from(bytes)), ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_or_home() {
        assert_eq!(safe_next("/deals?x=1"), "/deals?x=1");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("javascript:alert(1)"), "/");
        assert_eq!(safe_next("/a\nb"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
