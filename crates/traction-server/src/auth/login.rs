//! The sign-in page (`GET /login`), signing in (`POST /login`) and out (`POST /logout`).
//!
//! The page is HTML written with maud (every piece of text escaped) that links `/assets/app.css`, so the web
//! application's stylesheet dresses it. The form carries a sign-in CSRF token that must equal
//! the `traction_login` cookie set with the page (a double-submit token: another site cannot
//! sign a browser into an account of its choosing). A successful sign-in starts a session: a
//! random id in the `traction_session` cookie (HttpOnly, SameSite=Lax, Secure when the server
//! is told it is behind TLS), stored only as its SHA-256, with its own CSRF token.

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::SameSite;
use maud::{Markup, PreEscaped, html};
use traction_domain::Entity;

use super::limit::{PER_ACCOUNT, PER_ADDRESS};
use super::{
    CSRF_FIELD, CurrentUser, SESSION_COOKIE, SESSION_MAX, Via, redirect, safe_next, secret,
    set_cookie,
};
use crate::AppState;

/// The cookie holding the sign-in form's CSRF token.
pub const LOGIN_COOKIE: &str = "traction_login";
const MAX_LOGIN_FORM: usize = 16 * 1024;

/// The page around a sign-in form or an invitation's: `<title>{title} · Traction</title>`, the
/// app's stylesheet, the box with the product's name and `heading` above `body`. maud escapes
/// every piece of text (the web pages' producer; the server cannot use their layout, which sits
/// above it).
pub(super) fn shell(title: &str, heading: &str, body: Markup) -> String {
    html! {
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Traction" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body.login { main.login-box { h1 { "Traction" } h2 { (heading) } (body) } }
        }
        "\n"
    }
    .into_string()
}

/// A message the form could not accept, read out by screen readers.
pub(super) fn error_message(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { p.error role="alert" { (m) } } }
}

fn page(csrf: &str, next: &str, user: &str, message: Option<&str>) -> String {
    let body = html! {
        (error_message(message))
        form method="post" action="/login" {
            input type="hidden" name=(CSRF_FIELD) value=(csrf);
            input type="hidden" name="next" value=(next);
            label for="user" { "User id or e-mail" }
            input id="user" name="user" autocomplete="username" required autofocus value=(user);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
    };
    shell("Sign in", "Sign in", body)
}

/// A sign-in page with a fresh sign-in token.
fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    user: &str,
    message: Option<&str>,
) -> Response {
    let csrf = match secret::new_token() {
        Ok(t) => t,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        page(&csrf, next, user, message),
    )
        .into_response();
    let secure = state.config.secure_cookies;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &csrf, "/login", 3600, secure, SameSite::Strict),
    );
    response
}

/// `GET /login[?next=/path]`.
pub(crate) async fn get_login(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    RawQuery(query): RawQuery,
) -> Response {
    // A query that does not decode names no page to go back to.
    let params = super::form_fields(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let next = safe_next(params.iter().find(|(k, _)| k == "next").map_or("/", |(_, v)| v));
    if user.is_some() {
        return redirect(&next);
    }
    login_page(&state, StatusCode::OK, &next, "", None)
}

/// `POST /login` with `user`, `password`, `next` and the sign-in token.
pub(crate) async fn post_login(State(state): State<AppState>, req: Request) -> Response {
    let address = super::client_address(&req);
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), MAX_LOGIN_FORM).await {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };
    let Ok(fields) = super::form_fields(&body) else {
        let message = "The sign-in form was not sent as UTF-8 text. Please sign in again.";
        return login_page(&state, StatusCode::BAD_REQUEST, "/", "", Some(message));
    };
    let field = |name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let next = safe_next(&field("next"));
    let login = field("user").trim().to_string();
    let password = field("password");
    let cookie_token = super::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if cookie_token.is_empty() || !secret::constant_time_eq(&cookie_token, &field(CSRF_FIELD)) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            &login,
            Some("The sign-in form had expired. Please sign in again."),
        );
    }
    let now = (state.clock)();
    let account_key = format!("account:{}", login.to_lowercase());
    let address_key = format!("address:{address}");
    let limiter = &state.auth.limiter;
    let blocked = limiter
        .blocked(&account_key, PER_ACCOUNT, now)
        .into_iter()
        .chain(limiter.blocked(&address_key, PER_ADDRESS, now))
        .max();
    if let Some(secs) = blocked {
        let minutes = secs.div_ceil(60);
        let mut response = login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &login,
            Some(&format!(
                "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )),
        );
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return response;
    }
    let store = state.store.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<_, traction_store::Error> {
        let user = find_user(&*store, &login)?;
        let stored = match &user {
            Some(id) => store.password_hash(id)?,
            None => None,
        };
        // Unknown users and users without a password cost the same hash, so the time taken
        // does not tell which accounts exist.
        let hash = stored.as_deref().unwrap_or_else(|| secret::decoy_hash());
        let ok = secret::verify_password(&password, hash) && stored.is_some();
        Ok(if ok { user } else { None })
    })
    .await;
    let user_id = match checked {
        Ok(Ok(found)) => found,
        // Whatever the store's trouble, a sign-in that cannot be checked is a 500.
        Ok(Err(e)) => return crate::error::ApiError::Internal(e.to_string()).into_response(),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let login = field("user").trim().to_string();
    let Some(user_id) = user_id else {
        limiter.fail(&account_key, now);
        limiter.fail(&address_key, now);
        return login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &next,
            &login,
            Some("Wrong user or password, or the account is disabled."),
        );
    };
    limiter.clear(&account_key);
    match start_session(&state, &user_id, now) {
        Ok(session_id) => {
            let mut response = redirect(&next);
            let secure = state.config.secure_cookies;
            let max_age = SESSION_MAX / 1_000_000;
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session_id, "/", max_age, secure, SameSite::Lax),
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, "", "/login", 0, secure, SameSite::Strict),
            );
            response
        }
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

/// The active user a sign-in names, by id or (case-insensitively) by e-mail.
fn find_user(
    store: &dyn traction_store::Backend,
    login: &str,
) -> Result<Option<String>, traction_store::Error> {
    if login.is_empty() {
        return Ok(None);
    }
    let mut found = None;
    let wanted = login.to_lowercase();
    store.scan(Entity::Users, &mut |user| {
        let id = user.get("id").as_text().unwrap_or("");
        let email = user.get("email").as_text().unwrap_or("");
        let active = !matches!(user.get("active"), traction_domain::Value::Bool(false));
        if active
            && (id == login || (!email.is_empty() && email.to_lowercase() == wanted))
            && found.is_none()
        {
            found = Some(id.to_string());
        }
        Ok(())
    })?;
    Ok(found)
}

/// Why a session could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Secret(#[from] secret::Error),
    #[error(transparent)]
    Store(#[from] traction_store::Error),
    /// The session was not found right after it was stored.
    #[error("the session vanished")]
    Vanished,
}

/// A session that cannot be started is the server's fault: a 500 with the cause logged.
impl From<SessionError> for crate::error::ApiError {
    fn from(e: SessionError) -> Self {
        crate::error::ApiError::Internal(e.to_string())
    }
}

/// Stores a new session for a user; returns its id (the cookie's value).
pub(super) fn start_session(
    state: &AppState,
    user_id: &str,
    now: i64,
) -> Result<String, SessionError> {
    let id = secret::new_token()?;
    let csrf = secret::new_token()?;
    let session = traction_store::Session {
        user_id: user_id.to_string(),
        csrf_token: csrf,
        created_at: now,
        last_seen_at: now,
    };
    state.store.create_session(&secret::token_hash(&id), &session)?;
    // Sessions past their time are removed as new ones begin.
    let _ = state.store.expire_sessions(now - SESSION_MAX, now - super::SESSION_IDLE);
    Ok(id)
}

/// `POST /logout`: ends the session (CSRF-checked by the middleware) and goes to the sign-in page.
pub(crate) async fn post_logout(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Response {
    if let Via::Session { id_hash, .. } = &principal.via {
        let store = state.store.clone();
        let id_hash = id_hash.clone();
        let _ = tokio::task::spawn_blocking(move || store.delete_session(&id_hash)).await;
    }
    let mut response = redirect("/login");
    let secure = state.config.secure_cookies;
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", "/", 0, secure, SameSite::Lax));
    response
}

/// Signs a user in for a test or a tool that drives the server in-process: the session id and
/// its CSRF token.
pub fn session_for(state: &AppState, user_id: &str) -> Result<(String, String), SessionError> {
    let now = (state.clock)();
    let id = start_session(state, user_id, now)?;
    let session = state.store.session(&secret::token_hash(&id))?.ok_or(SessionError::Vanished)?;
    Ok((id, session.csrf_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the page echoes (the user typed, the page to go on to, a message) is escaped: a
    /// quote cannot close an attribute, a tag cannot open.
    #[test]
    fn the_sign_in_page_escapes_what_it_echoes() {
        let html =
            page("tok", "/deals?a=1&b=2", "\"><script>alert(1)</script>", Some("<b>no</b> & more"));
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        );
        assert!(html.contains("<title>Sign in · Traction</title>"), "{html}");
        assert!(html.contains("<input type=\"hidden\" name=\"_csrf\" value=\"tok\">"), "{html}");
        assert!(html.contains("name=\"next\" value=\"/deals?a=1&amp;b=2\""), "{html}");
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"error\" role=\"alert\">&lt;b&gt;no&lt;/b&gt; &amp; more</p>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.ends_with("</main></body></html>\n"), "{html}");
    }
}
