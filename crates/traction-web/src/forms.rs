//! Form posts: the body read as pairs, records built from form fields exactly as an import cell
//! or an API field is read (`parse_field`, the same defaults), written through the store's writer
//! and announced on the event stream — so a change made on a page reaches every open page, the
//! API's clients and the metrics alike.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use traction_domain::record::{ParseContext, parse_field};
use traction_domain::schema::FieldType;
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{Store, Summary};

use crate::{Result, WebError};

/// A form body's fields (`_csrf` included; it is checked by the server's middleware).
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(body: &Bytes) -> Result<Form> {
        traction_server::auth::form_fields(body)
            .map(Form)
            .map_err(|e| WebError::bad(format!("the form {e}")))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.trim())
    }
}

/// Problems with a form's fields: (field, problem).
pub type FieldErrors = Vec<(String, String)>;

/// A record of `entity` from form fields: fields not given take their defaults, the id is
/// `new_id` when the form has none. Unknown form fields (buttons, `_csrf`, `back`) are ignored.
pub fn record_from_form(
    entity: Entity,
    form: &Form,
    new_id: Option<&str>,
    ctx: &ParseContext,
) -> std::result::Result<Record, FieldErrors> {
    let mut errors = Vec::new();
    let mut record = Record { entity, values: Vec::with_capacity(entity.fields().len()) };
    for field in entity.fields() {
        let given = form.get(field.name);
        let value = match (given, field.ty) {
            (None, FieldType::Id) if new_id.is_some() => {
                Value::Text(new_id.unwrap_or_default().to_string())
            }
            (text, _) => parse_field(field, text.unwrap_or(""), ctx).unwrap_or_else(|problem| {
                errors.push((field.name.to_string(), problem.to_string()));
                Value::Null
            }),
        };
        record.values.push(value);
    }
    if errors.is_empty() { Ok(record) } else { Err(errors) }
}

/// The parse context of a write made now.
pub fn context(store: &dyn Store, now: Micros) -> Result<ParseContext> {
    let ws = store.workspace()?;
    Ok(ParseContext { zone: ws.zone, currency: ws.currency, now })
}

/// Writes records in one transaction; problems come back per field. A deal's stage history is
/// recorded by the store's writer (a new deal enters its stage at `created_at`, a changed stage
/// is entered now, by the signed-in user).
pub fn write(store: &dyn Store, records: Vec<Record>) -> std::result::Result<Summary, WriteError> {
    let mut writer = store.writer().map_err(WriteError::Other)?;
    writer.record_stage_history();
    for (tag, record) in records.into_iter().enumerate() {
        writer.put(tag as u64, record).map_err(split)?;
    }
    writer.commit().map_err(split)
}

/// Why a write failed: the input (shown next to the fields) or the store.
pub enum WriteError {
    Fields(FieldErrors),
    Other(traction_store::Error),
}

/// The store as `principal` writes to it (every record checked against their role and scope,
/// every change audited as theirs), and the refusal, if any, as a page error.
pub fn guarded<'a>(
    state: &'a AppState,
    principal: &'a traction_server::auth::Principal,
    now: Micros,
) -> traction_server::auth::authz::Guarded<'a> {
    traction_server::auth::authz::Guarded::new(&*state.store, principal, now)
}

/// Writes `records` as `principal` at `now` through their guarded store: `Ok(Ok(summary))`
/// when stored, `Ok(Err(problems))` for input to fix next to its fields, `Err` for a refusal
/// (403, or 404 outside the caller's scope) or a failure.
pub fn write_as(
    state: &AppState,
    principal: &traction_server::auth::Principal,
    now: Micros,
    records: Vec<Record>,
) -> Result<std::result::Result<Summary, FieldErrors>> {
    let guarded = guarded(state, principal, now);
    match write(&guarded, records) {
        Ok(summary) => Ok(Ok(summary)),
        Err(_) if guarded.denied().is_some() => {
            Err(denied(&guarded).unwrap_or_else(|| WebError::bad("refused")))
        }
        Err(WriteError::Fields(e)) => Ok(Err(e)),
        Err(WriteError::Other(e)) => Err(e.into()),
    }
}

/// A refusal of the guarded store as a page error: 404 for a record outside the caller's scope
/// (it does not reveal that it exists), 403 for a change they may not make.
pub fn denied(g: &traction_server::auth::authz::Guarded<'_>) -> Option<WebError> {
    use traction_server::auth::authz::Denied;
    g.denied().map(|d| match d {
        Denied::Hidden { entity, key } => {
            WebError::not_found(format!("no {entity} record has key {key:?}"))
        }
        Denied::Forbidden(message) => WebError { status: StatusCode::FORBIDDEN, message },
    })
}

fn split(e: traction_store::Error) -> WriteError {
    match e {
        traction_store::Error::Invalid(problems) => {
            WriteError::Fields(problems.into_iter().map(|p| (p.field, p.message)).collect())
        }
        // A record that would be a second of its kind (a target on the same metric, scope and
        // period start) is told on the form, which keeps what was typed.
        traction_store::Error::Conflict(message) => {
            WriteError::Fields(vec![(String::new(), message)])
        }
        other => WriteError::Other(other),
    }
}

/// Announces a committed write to every open page and API client.
pub fn announce(state: &AppState, summary: &Summary, entity: Entity) {
    state.events.publish(summary, entity);
}

/// Whether the post came from the page script (which wants a status, not a page).
pub fn from_script(headers: &HeaderMap) -> bool {
    headers.contains_key("x-traction-live")
}

/// Where to go after a post: `back` when it is a local path, else `default`.
pub fn back_to(form: &Form, default: &str) -> String {
    match form.get("back") {
        Some(path) if is_local_path(path) => path.to_string(),
        _ => default.to_string(),
    }
}

/// A path on this server (not `//host` or a scheme): no open redirects.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains("://")
}

/// 303 See Other to `to`.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The answer to a script's post: 204 when done, the message with its status otherwise.
pub fn script_answer(result: Result<()>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (e.status, e.message).into_response(),
    }
}

/// An API error as a page error: the same status, the message with its details.
pub fn api_error(e: traction_server::error::ApiError) -> WebError {
    use traction_server::error::ApiError as E;
    let (status, _) = e.status();
    let message = match e {
        E::BadRequest { message, details } | E::Invalid { message, details } => {
            let mut text = message;
            for d in details.iter().take(10) {
                let place = d.field.clone().or_else(|| d.line.map(|l| format!("line {l}")));
                if let Some(place) = place
                    && !text.contains(&d.problem)
                {
                    text.push_str(&format!("; {place}: {}", d.problem));
                }
            }
            text
        }
        E::TooManyRequests { message, .. } | E::Unavailable { message, .. } => message,
        E::Unauthorized(m)
        | E::Forbidden(m)
        | E::NotFound(m)
        | E::MethodNotAllowed(m)
        | E::Conflict(m)
        | E::PayloadTooLarge(m)
        | E::UnsupportedMediaType(m)
        | E::Internal(m) => m,
    };
    WebError { status, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/pipeline?pipeline=p1"));
        assert!(!is_local_path("//evil.example/x"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil"));
        assert!(!is_local_path("pipeline"));
    }
}
