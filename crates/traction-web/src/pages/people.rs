//! How a person signs in, for admins (Settings → a person → *Sign-in*): invite them with a
//! one-time sign-in link (shown once; it lets them choose a password and signs them in, once,
//! within seven days — `traction_server::auth::invite`), or set a password for them, with the
//! same check as `traction user passwd`. Everyone else is refused with the reason.
//!
//! - `GET /settings/users/{id}/sign-in`
//! - `POST /settings/users/{id}/invite`
//! - `POST /settings/users/{id}/password` (`password`, `confirm`)

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;

use super::text;
use crate::forms::{self, Form};
use crate::layout::{self, Nav};
use crate::{Req, Result, WebError, encode, respond};

/// The admin, or a refusal that says why.
fn admin(req: &Req) -> Result<&traction_server::auth::Principal> {
    let principal = req.principal()?;
    if principal.is_admin() {
        Ok(principal)
    } else {
        Err(WebError {
            status: StatusCode::FORBIDDEN,
            message: "only an admin invites people and sets their passwords".into(),
        })
    }
}

fn user(state: &AppState, id: &str) -> Result<Record> {
    state
        .store
        .get(Entity::Users, &[Value::Text(id.to_string())])?
        .ok_or_else(|| WebError::not_found(format!("There is no user {id:?}.")))
}

fn page(
    req: &Req,
    person: &Record,
    link: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let id = text(person, "id");
    let name = match text(person, "name") {
        "" => id,
        n => n,
    };
    let disabled = matches!(person.get("active"), Value::Bool(false));
    let base = format!("/settings/users/{}", encode(id));
    let title = format!("Sign-in for {name}");
    let body = html! {
        div.page-head {
            h1 { (title) }
            p.sub { a href="/settings" { "Settings" } " · " (text(person, "role")) " · signs in as " code { (id) } }
        }
        @if disabled { p.notice.bad role="alert" { (name) " is disabled: a link or a password lets them in only once they are active again (Edit → active)." } }
        @if let Some(link) = link {
            div.notice role="status" #sign-in-link {
                p { "Send " (name) " this link — it is shown only now. It works once, for seven days: they choose a password and are signed in." }
                p { a href=(link) { code.token { (link) } } }
            }
        }
        @if let Some(p) = problem { p.notice.bad role="alert" { "Not saved: " (p) } }
        div.grid2 {
            form.card method="post" action={(base) "/invite"} {
                h2 { "Invite with a sign-in link" }
                @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
                p.sub { "A one-time link to choose a password. Making a new one leaves earlier links working until they are used or expire." }
                button type="submit" { "Make a sign-in link" }
            }
            form.card method="post" action={(base) "/password"} {
                h2 { "Set a password" }
                @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
                div.field {
                    label for="password" { "New password" }
                    input type="password" id="password" name="password" autocomplete="new-password" required;
                    p.hint { "At least " (traction_server::auth::secret::MIN_PASSWORD_CHARS) " characters. A changed password signs them out everywhere." }
                }
                div.field {
                    label for="confirm" { "The same again" }
                    input type="password" id="confirm" name="confirm" autocomplete="new-password" required;
                }
                button type="submit" { "Set password" }
            }
        }
    };
    (status, layout::page(req, &title, Nav::Settings, body)).into_response()
}

pub async fn form(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        admin(&req)?;
        let person = user(state, &id)?;
        Ok(page(&req, &person, None, None, StatusCode::OK))
    })
    .await
}

pub async fn invite(
    State(state): State<AppState>,
    req: Req,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| {
        let principal = admin(&req)?;
        let person = user(state, &id)?;
        let path = traction_server::auth::invite::issue_sign_in_link(
            &*state.store,
            &id,
            now,
            &principal.actor(now),
        )
        .map_err(|e| WebError::internal(format!("{e:?}")))?;
        // The whole address, as the person will open it: this server as the admin reached it.
        let link = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) => {
                let scheme = if state.config.secure_cookies { "https" } else { "http" };
                format!("{scheme}://{host}{path}")
            }
            None => path,
        };
        Ok(page(&req, &person, Some(&link), None, StatusCode::OK))
    })
    .await
}

pub async fn set_password(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let form = Form::parse(&body)?;
    let password = form.get("password").unwrap_or("").to_string();
    let confirm = form.get("confirm").unwrap_or("").to_string();
    respond(state, move |state, now| {
        let principal = admin(&req)?;
        let person = user(state, &id)?;
        let refuse = |message: &str| {
            Ok(page(&req, &person, None, Some(message), StatusCode::UNPROCESSABLE_ENTITY))
        };
        if password != confirm {
            return refuse("the two passwords differ: type the same one twice");
        }
        let hash = match traction_server::auth::secret::hash_password(&password) {
            Ok(hash) => hash,
            Err(e) => return refuse(&e.to_string()),
        };
        state.store.set_password(&id, &hash, &principal.actor(now), now)?;
        Ok(forms::see_other("/settings?saved=password"))
    })
    .await
}

/// The Sign-in link beside a person on Settings (admins only).
pub fn link(req: &Req, id: &str, name: &str) -> Markup {
    html! {
        @if req.user.as_ref().is_some_and(|u| u.role == "admin") {
            " " a href={"/settings/users/" (encode(id)) "/sign-in"} aria-label={"Sign-in for " (name)} { "Sign-in" }
        }
    }
}
