//! The API of sign-in data: a user's password (`POST /api/v1/users/{id}/password`), API tokens
//! (`GET|POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`) and the audit log
//! (`GET /api/v1/audit`). Users themselves are records (`/api/v1/users`), changed by admins.
//!
//! Everyone manages their own password and tokens; an admin manages anyone's. Someone else's
//! token answers 404 to a non-admin, as if it did not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json_, json};
use traction_domain::time::{format_instant, parse_instant};
use traction_store::{ApiToken, AuditQuery};

use super::{Principal, secret};
use crate::AppState;
use crate::api::records::{BodyBytes, IdPath, Params};
use crate::error::{ApiError, Detail, Result};

/// A JSON object body as a map.
fn object(body: BodyBytes) -> Result<serde_json::Map<String, Json_>> {
    let bytes = body?;
    match serde_json::from_slice::<Json_>(&bytes) {
        Ok(Json_::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("the body is not JSON: {e}"))),
    }
}

fn string_field(map: &serde_json::Map<String, Json_>, name: &str) -> Result<Option<String>> {
    match map.get(name) {
        None | Some(Json_::Null) => Ok(None),
        Some(Json_::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(
            format!("{name} must be a string"),
            vec![Detail::field(name, "must be a string")],
        )),
    }
}

fn only_fields(map: &serde_json::Map<String, Json_>, allowed: &[&str]) -> Result<()> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::invalid(
                format!("{key} is not a field here: send {}", allowed.join(", ")),
                vec![Detail::field(key, format!("is not a field: use {}", allowed.join(", ")))],
            ));
        }
    }
    Ok(())
}

/// `POST /api/v1/users/{id}/password {"password", "current_password"}`: sets a password. A user
/// sets their own (giving the current one, if they have one); an admin sets anyone's. Every
/// session of the user ends.
pub async fn set_password(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
    body: BodyBytes,
) -> Result<Response> {
    let Path(id) = id?;
    let map = object(body)?;
    only_fields(&map, &["password", "current_password"])?;
    let Some(password) = string_field(&map, "password")? else {
        return Err(ApiError::invalid(
            "password is missing",
            vec![Detail::field("password", "is required and is missing")],
        ));
    };
    let current = string_field(&map, "current_password")?;
    let own = principal.user_id == id;
    if !own && !principal.is_admin() {
        return Err(ApiError::NotFound(format!("no users record has id {id:?}")));
    }
    secret::check_password(&password)
        .map_err(|e| ApiError::invalid(e.to_string(), vec![Detail::field("password", e)]))?;
    let now = (state.clock)();
    let store = state.store.clone();
    let actor = principal.actor(now);
    let need_current = own && !principal.is_admin();
    tokio::task::spawn_blocking(move || -> Result<()> {
        if need_current && let Some(stored) = store.password_hash(&id)? {
            let ok = current.as_deref().is_some_and(|c| secret::verify_password(c, &stored));
            if !ok {
                return Err(ApiError::Forbidden(
                    "current_password is missing or wrong: give your current password to set a new one".into(),
                ));
            }
        }
        let hash = secret::hash_password(&password)?;
        match store.set_password(&id, &hash, &actor, now) {
            Err(traction_store::Error::NotFound) => {
                Err(ApiError::NotFound(format!("no users record has id {id:?}")))
            }
            other => Ok(other?),
        }
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn token_json(token: &ApiToken) -> Json_ {
    json!({
        "id": token.id,
        "user": token.user_id,
        "name": token.name,
        "created_at": format_instant(token.created_at),
        "last_used_at": token.last_used_at.map(format_instant),
        "revoked_at": token.revoked_at.map(format_instant),
    })
}

/// `GET /api/v1/tokens[?user=ID]`: one's own tokens (an admin: everyone's, or one user's).
pub async fn list_tokens(
    state: AppState,
    principal: Arc<Principal>,
    params: Params,
) -> Result<Response> {
    let axum::extract::Query(params) = params?;
    let mut user = None;
    for (key, value) in params {
        match key.as_str() {
            "user" => user = Some(value),
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other:?} is not a parameter of the token list: the only one is user"
                )));
            }
        }
    }
    let user = if principal.is_admin() { user } else { Some(principal.user_id.clone()) };
    let store = state.store.clone();
    let tokens = tokio::task::spawn_blocking(move || store.tokens(user.as_deref())).await??;
    let items: Vec<Json_> = tokens.iter().map(token_json).collect();
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

/// `POST /api/v1/tokens {"name", "user_id"}`: a new token, shown this once. `user_id` (another
/// user's) is for admins; it defaults to the caller.
pub async fn create_token(
    state: AppState,
    principal: Arc<Principal>,
    body: BodyBytes,
) -> Result<Response> {
    let map = object(body)?;
    only_fields(&map, &["name", "user_id"])?;
    let name = string_field(&map, "name")?.unwrap_or_default();
    if name.chars().count() > 200 {
        return Err(ApiError::invalid(
            "name is too long",
            vec![Detail::field("name", "must be at most 200 characters")],
        ));
    }
    let user_id = string_field(&map, "user_id")?.unwrap_or_else(|| principal.user_id.clone());
    if user_id != principal.user_id && !principal.is_admin() {
        return Err(ApiError::Forbidden(
            "only an admin creates tokens for other users: leave user_id out to create your own"
                .into(),
        ));
    }
    let now = (state.clock)();
    let actor = principal.actor(now);
    let store = state.store.clone();
    let (token, secret_text) =
        tokio::task::spawn_blocking(move || -> Result<(ApiToken, String)> {
            let (token, secret_text) = issue_token(&*store, &user_id, &name, now, &actor)?;
            Ok((token, secret_text))
        })
        .await??;
    let mut body = token_json(&token);
    body["token"] = json!(secret_text);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Makes and stores a token for a user (the command line's `token create` too): the stored
/// record and the token, which exists nowhere else.
pub fn issue_token(
    store: &dyn traction_store::Backend,
    user_id: &str,
    name: &str,
    now: i64,
    actor: &traction_store::Actor,
) -> Result<(ApiToken, String)> {
    let secret_text = secret::new_token()?;
    let id_bytes = secret::random_bytes::<8>()?;
    let id = format!("tok-{}", id_bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let token = ApiToken {
        id,
        user_id: user_id.to_string(),
        name: name.to_string(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    match store.create_token(&token, &secret::token_hash(&secret_text), actor) {
        Err(traction_store::Error::NotFound) => Err(ApiError::invalid(
            format!("user_id: {user_id:?}: no such user"),
            vec![Detail::field("user_id", format!("{user_id:?}: no such user"))],
        )),
        other => other.map_err(ApiError::from),
    }?;
    Ok((token, secret_text))
}

/// `DELETE /api/v1/tokens/{id}`: revokes a token (one's own; an admin, anyone's).
pub async fn revoke_token(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let now = (state.clock)();
    let actor = principal.actor(now);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let hidden = || ApiError::NotFound(format!("no token has id {id:?}"));
        let token = store.token(&id)?.ok_or_else(hidden)?;
        if token.user_id != principal.user_id && !principal.is_admin() {
            return Err(hidden());
        }
        store.revoke_token(&id, now, &actor)?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/audit[?from&to&entity&user&limit&cursor]`: the audit log, newest first.
pub async fn audit(state: AppState, params: Params) -> Result<Response> {
    let axum::extract::Query(params) = params?;
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || -> Result<(Vec<Json_>, Option<String>)> {
        let zone = store.workspace()?.zone;
        let mut query = AuditQuery { limit: crate::api::records::DEFAULT_LIMIT, ..AuditQuery::default() };
        let time = |name: &str, text: &str| {
            parse_instant(text, &zone).map_err(|e| ApiError::BadRequest {
                message: format!("{name}: {e}"),
                details: vec![Detail::field(name, e)],
            })
        };
        for (key, value) in &params {
            match key.as_str() {
                "from" => query.from = Some(time("from", value)?),
                "to" => query.to = Some(time("to", value)?),
                "entity" => query.entity = Some(value.clone()),
                "user" => query.actor = Some(value.clone()),
                "limit" => {
                    query.limit = match value.trim().parse::<usize>() {
                        Ok(n) if n >= 1 => n.min(crate::api::records::MAX_LIMIT),
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "limit {value:?} is not a whole number of at least 1"
                            )));
                        }
                    }
                }
                "cursor" => {
                    query.before_seq = Some(value.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format!(
                            "cursor {value:?} is not an audit cursor: pass next_cursor as it was given"
                        ))
                    })?)
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "{other:?} is not a parameter of the audit log: use from, to, entity, user, limit, cursor"
                    )));
                }
            }
        }
        let limit = query.limit;
        query.limit += 1;
        let mut rows = store.audit_log(&query)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(|r| r.seq.to_string()) } else { None };
        Ok((rows.iter().map(audit_json).collect(), next))
    })
    .await??;
    let (items, next_cursor) = page;
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})).into_response())
}

/// One audit row in the shape of interfaces.md: `{"at", "user", "action", "entity", "id",
/// "before", "after"}`.
pub fn audit_json(entry: &traction_store::AuditEntry) -> Json_ {
    let parse = |text: &Option<String>| {
        text.as_deref().map(|t| serde_json::from_str::<Json_>(t).unwrap_or(json!(t)))
    };
    json!({
        "at": format_instant(entry.at),
        "user": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "id": entry.key,
        "before": parse(&entry.before),
        "after": parse(&entry.after),
    })
}
