//! Invitations: a one-time sign-in link an admin gives a person (`/welcome/SECRET`). Opening it
//! shows a form to choose a password; sending it (with a password that passes the same check as
//! `traction user passwd`) uses the link, sets the password and signs the person in. A link is
//! used once, expires after [`LINK_VALID`], and is stored only as a hash; a person who is
//! disabled, or whose link is used or expired, is told to ask an admin for a new one.
//!
//! The pages are public (the secret in the path is the credential, and also stands for the
//! CSRF token: another site cannot know it).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::time::Micros;

use super::login::{error_message, shell, start_session};
use super::{SESSION_COOKIE, SESSION_MAX, redirect, secret};
use crate::AppState;
use crate::error::ApiError;

/// How long an invitation stays usable: seven days.
pub const LINK_VALID: Micros = 7 * 24 * 3600 * 1_000_000;

/// Makes a sign-in link for `user_id` at `now`, as `actor` (an admin): the path to give the
/// person, `/welcome/SECRET`, shown once (only its hash is kept).
pub fn issue_sign_in_link(
    store: &dyn traction_store::Backend,
    user_id: &str,
    now: Micros,
    actor: &traction_store::Actor,
) -> Result<String, ApiError> {
    let token = secret::new_token()?;
    store.create_sign_in_link(
        &secret::token_hash(&token),
        user_id,
        now,
        now + LINK_VALID,
        actor,
    )?;
    Ok(format!("/welcome/{token}"))
}

fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // The secret is in the path: never send it on to another site.
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        shell(title, title, body),
    )
        .into_response()
}

fn gone() -> Response {
    page(
        StatusCode::GONE,
        "This link cannot be used",
        html! {
            p.error role="alert" {
                "This sign-in link was used already, has expired, or its account is disabled. Ask an admin for a new one, or "
                a href="/login" { "sign in" }
                " with your password."
            }
        },
    )
}

fn form(token: &str, name: &str, message: Option<&str>) -> Response {
    let body = html! {
        p { "Welcome, " (name) ". Choose a password to sign in with from now on; this link then stops working." }
        (error_message(message))
        form method="post" action={ "/welcome/" (token) } {
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="new-password" required autofocus;
            label for="confirm" { "The same password again" }
            input id="confirm" name="confirm" type="password" autocomplete="new-password" required;
            button type="submit" { "Set password and sign in" }
        }
    };
    let status = if message.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(status, "Set your password", body)
}

/// The person a link is for, by name, while it is usable and they are active.
fn person(
    state: &AppState,
    token: &str,
    now: Micros,
) -> Result<Option<(String, String)>, ApiError> {
    let Some(user_id) = state.store.sign_in_link(&secret::token_hash(token), now)? else {
        return Ok(None);
    };
    Ok(super::active_user(&*state.store, &user_id)?.map(|user| {
        let name = user.get("name").as_text().unwrap_or(&user_id).to_string();
        (user_id, name)
    }))
}

/// `GET /welcome/{secret}`: the form to choose a password (the link is not used yet).
pub(crate) async fn get_welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let now = (state.clock)();
    let st = state.clone();
    let t = token.clone();
    match tokio::task::spawn_blocking(move || person(&st, &t, now)).await {
        Ok(Ok(Some((_, name)))) => form(&token, &name, None),
        Ok(Ok(None)) => gone(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /welcome/{secret}` with `password` and `confirm`: uses the link, sets the password
/// and signs the person in. A bad password keeps the link usable.
pub(crate) async fn post_welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(fields) = super::form_fields(&body) else {
        return ApiError::bad_request(format!("the form {}", super::NotUtf8)).into_response();
    };
    let field = |name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let (password, confirm) = (field("password"), field("confirm"));
    let now = (state.clock)();
    let st = state.clone();
    let t = token.clone();
    let outcome = tokio::task::spawn_blocking(
        move || -> Result<Result<String, (String, String)>, ApiError> {
            let Some((user_id, name)) = person(&st, &t, now)? else {
                return Ok(Err((String::new(), String::new())));
            };
            if password != confirm {
                return Ok(Err((name, "the two passwords differ: type the same one twice".into())));
            }
            let hash = match secret::hash_password(&password) {
                Ok(hash) => hash,
                Err(e) => return Ok(Err((name, e.to_string()))),
            };
            // Used now, once: a second request with the same link finds it used.
            if st.store.use_sign_in_link(&secret::token_hash(&t), now)?.as_deref() != Some(&user_id)
            {
                return Ok(Err((String::new(), String::new())));
            }
            let actor = traction_store::Actor { user: user_id.clone(), at: Some(now) };
            st.store.set_password(&user_id, &hash, &actor, now)?;
            start_session(&st, &user_id, now).map_err(ApiError::from).map(Ok)
        },
    )
    .await;
    match outcome {
        Ok(Ok(Ok(session_id))) => {
            let mut response = redirect("/");
            let max_age = SESSION_MAX / 1_000_000;
            response.headers_mut().append(
                header::SET_COOKIE,
                super::set_cookie(
                    SESSION_COOKIE,
                    &session_id,
                    "/",
                    max_age,
                    state.config.secure_cookies,
                    cookie::SameSite::Lax,
                ),
            );
            response
        }
        Ok(Ok(Err((name, _)))) if name.is_empty() => gone(),
        Ok(Ok(Err((name, message)))) => form(&token, &name, Some(&message)),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
