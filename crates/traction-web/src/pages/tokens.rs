//! The signed-in user's API tokens on the settings page: create one (shown once, stored only as
//! a hash), see when each was last used, revoke. The same tokens as `traction token` and
//! `/api/v1/tokens`; every creation and revocation is in the audit log.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_server::AppState;

use super::Ws;
use crate::forms::Form;
use crate::{Req, Result, WebError, respond};

pub fn tokens_card(state: &AppState, req: &Req, new_token: Option<&str>) -> Result<Markup> {
    let Some(user) = &req.user else { return Ok(html! {}) };
    let ws = Ws::load(&*state.store, req)?;
    let tokens = state.store.tokens(Some(&user.id))?;
    Ok(html! {
        section.card #tokens aria-labelledby="tok-h" {
            h2 #tok-h { "Your API tokens" }
            p.sub { "For scripts and other tools: send " code { "Authorization: Bearer TOKEN" } ". A token acts as you, with your role." }
            @if let Some(t) = new_token {
                div.notice role="status" {
                    p { "Your new token — copy it now, it is shown only this once:" }
                    p { code.token { (t) } }
                }
            }
            @if !tokens.is_empty() {
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } } }
                        tbody {
                            @for t in &tokens {
                                tr {
                                    td { (if t.name.is_empty() { t.id.as_str() } else { t.name.as_str() }) }
                                    td { (ws.when(t.created_at)) }
                                    td { (t.last_used_at.map_or("never".to_string(), |u| ws.when(u))) }
                                    td {
                                        @if let Some(r) = t.revoked_at { span.tag { "revoked " (ws.when(r)) } }
                                        @else {
                                            form method="post" action="/settings/tokens/revoke" {
                                                @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
                                                input type="hidden" name="id" value=(t.id);
                                                button.secondary type="submit" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.filters method="post" action="/settings/tokens" {
                @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
                label for="token-name" { "Name" }
                input type="text" name="name" id="token-name" maxlength="100" placeholder="e.g. nightly import" required;
                button type="submit" { "Create token" }
            }
        }
    })
}

/// `POST /settings/tokens` (`name`): a new token for the signed-in user, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    req: Req,
    body: Bytes,
) -> Result<Response> {
    let form = Form::parse(&body)?;
    let name: String = form.get("name").unwrap_or("").chars().take(100).collect();
    respond(state, move |state, now| {
        let principal = req.principal()?;
        let (_, token) = traction_server::auth::api::issue_token(
            &*state.store,
            &principal.user_id,
            &name,
            now,
            &principal.actor(now),
        )
        .map_err(crate::forms::api_error)?;
        super::settings::page_with_token(state, &req, &token)
    })
    .await
}

/// `POST /settings/tokens/revoke` (`id`): revokes one of the signed-in user's own tokens.
pub async fn revoke_token(
    State(state): State<AppState>,
    req: Req,
    body: Bytes,
) -> Result<Response> {
    let form = Form::parse(&body)?;
    let id = form.get("id").unwrap_or("").to_string();
    respond(state, move |state, now| {
        let principal = req.principal()?;
        // Only one's own tokens from this page; another's is as if it did not exist.
        match state.store.token(&id)? {
            Some(t) if t.user_id == principal.user_id => {
                state.store.revoke_token(&id, now, &principal.actor(now))?;
                Ok(crate::forms::see_other("/settings#tokens"))
            }
            _ => Err(WebError::not_found(format!("no token has id {id:?}"))),
        }
    })
    .await
}
