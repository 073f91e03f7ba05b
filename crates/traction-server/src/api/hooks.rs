//! `POST /api/v1/hooks/email/{provider}`: a mailing tool's event webhook (importers.md, email
//! hooks; docs/email-hooks.md).
//!
//! The route is public — mailing tools send no Traction credentials — and the provider's
//! signature, checked against the hook's secret (`traction hook add`), is what lets a request
//! in: a missing or wrong signature answers 401, a provider with no hook 404, a body that is not
//! what the provider sends 400. The events are stored by `traction_import::email_hooks`,
//! written as `hook:<provider>` in the audit log. `GET` on the same path answers 200 when the
//! hook is configured (Mandrill checks a URL with a HEAD request before it saves it).

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use traction_domain::Entity;
use traction_import::email_hooks::{self, HookError, Provider};
use traction_store::Actor;

use super::records::{BodyBytes, IdPath};
use crate::AppState;
use crate::error::{ApiError, Result};

fn provider_of(path: IdPath) -> Result<Provider> {
    let name = path?.0;
    Provider::parse(&name).map_err(|e| ApiError::NotFound(e.to_string()))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn not_configured(provider: Provider) -> ApiError {
    ApiError::NotFound(format!(
        "no {} hook is configured: an admin adds it with `traction hook add {}`",
        provider.name(),
        provider.name()
    ))
}

/// `GET /api/v1/hooks/email/{provider}`: 200 when the provider's hook is configured.
pub async fn check_hook(state: AppState, path: IdPath) -> Result<Response> {
    let provider = provider_of(path)?;
    let store = state.store.clone();
    let hook = tokio::task::spawn_blocking(move || store.email_hook(provider.name())).await??;
    match hook {
        Some(_) => {
            Ok(Json(json!({"provider": provider.name(), "configured": true})).into_response())
        }
        None => Err(not_configured(provider)),
    }
}

/// `POST /api/v1/hooks/email/{provider}`: checks the signature and stores the events.
pub async fn receive(
    state: AppState,
    path: IdPath,
    headers: HeaderMap,
    body: BodyBytes,
) -> Result<Response> {
    let provider = provider_of(path)?;
    let body = body?;
    let (signature, timestamp) = match provider {
        Provider::Mandrill => (header(&headers, "x-mandrill-signature"), None),
        Provider::SendGrid => (
            header(&headers, "x-twilio-email-event-webhook-signature"),
            header(&headers, "x-twilio-email-event-webhook-timestamp"),
        ),
    };
    let (signature, timestamp) = (signature.map(str::to_string), timestamp.map(str::to_string));
    let store = state.store.clone();
    let now = (state.clock)();
    let (received, summary) = tokio::task::spawn_blocking(move || -> Result<_> {
        let Some(hook) = store.email_hook(provider.name())? else {
            return Err(not_configured(provider));
        };
        let request = email_hooks::Request {
            body: &body,
            signature: signature.as_deref(),
            timestamp: timestamp.as_deref(),
        };
        let batch =
            email_hooks::parse(provider, &hook.secret, &hook.url, &request).map_err(hook_error)?;
        let actor = Actor { user: format!("hook:{}", provider.name()), at: Some(now) };
        let writer = store.writer_as(Some(&actor))?;
        email_hooks::store(store.as_ref(), store.as_ref(), writer, batch, now).map_err(hook_error)
    })
    .await??;
    state.events.publish(&summary, Entity::EmailEvents);
    Ok(Json(json!({
        "provider": provider.name(),
        "received": received.received,
        "created": received.created,
        "updated": received.updated,
        "unchanged": received.unchanged,
        "matched": received.matched,
        "unmatched": received.unmatched,
        "skipped": received.skipped,
        "invalid": received.invalid,
    }))
    .into_response())
}

fn hook_error(e: HookError) -> ApiError {
    match e {
        HookError::BadSignature(message) => ApiError::Unauthorized(message),
        HookError::Malformed(message) => ApiError::bad_request(message),
        HookError::Store(e) => e.into(),
    }
}
