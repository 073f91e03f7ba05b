//! The one error type of the HTTP API, and the one table from error to status code.
//!
//! Every failure answers `{"error": {"code", "message", "details": [...]}}` (spec:
//! interfaces.md, HTTP API, Errors). [`ApiError::status`] is the single table code → status, in
//! the manner of meilisearch's error codes. Internal errors are logged with the request's span
//! and answered opaquely: no database message ever reaches a client.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use traction_store::Problem;

/// Where in the request a problem is: a field of a record, a line and column of an import, or
/// the position of a record in an array body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// The position of the record in an array body (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub problem: String,
}

impl Detail {
    /// A problem with one field (or the record as a whole when `field` is empty).
    pub fn field(field: &str, problem: impl std::fmt::Display) -> Detail {
        Detail {
            field: (!field.is_empty()).then(|| field.to_string()),
            problem: problem.to_string(),
            ..Detail::default()
        }
    }

    /// The same detail, about the record at `index` of an array body.
    pub fn at(mut self, index: Option<usize>) -> Detail {
        self.index = index;
        self
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// 400 `bad_request`: the request cannot be read (malformed JSON, a bad query parameter).
    BadRequest { message: String, details: Vec<Detail> },
    /// 401 `unauthorized`: no valid credentials (a session cookie or a bearer token).
    Unauthorized(String),
    /// 403 `forbidden`: signed in, but the role may not do this (or a missing CSRF token).
    Forbidden(String),
    /// 404 `not_found`: no such record, entity or endpoint (or a record outside one's scope).
    NotFound(String),
    /// 405 `method_not_allowed`.
    MethodNotAllowed(String),
    /// 409 `conflict`: the change conflicts with stored data (others refer to the record).
    Conflict(String),
    /// 413 `payload_too_large`.
    PayloadTooLarge(String),
    /// 415 `unsupported_media_type`: an import body that is neither CSV nor NDJSON.
    UnsupportedMediaType(String),
    /// 429 `too_many_requests`: too many sign-in attempts; retry after the given seconds.
    TooManyRequests { message: String, retry_after_secs: u64 },
    /// 422 `invalid_record`: the records break the data model's rules; nothing was stored.
    Invalid { message: String, details: Vec<Detail> },
    /// 503 `unavailable`: the server is too busy for this now (heavy reads queued too long, a
    /// query past its time limit); retry after the given seconds.
    Unavailable { message: String, retry_after_secs: u64 },
    /// 500 `internal`: logged, answered without the cause.
    Internal(String),
}

/// A secret that cannot be made (or a password that cannot be hashed) is the server's fault: a
/// 500 with the cause logged. Where a password is the caller's to fix, the handler checks it
/// first (`secret::check_password`) and answers 422.
impl From<crate::auth::secret::Error> for ApiError {
    fn from(e: crate::auth::secret::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { message: message.into(), details: Vec::new() }
    }

    pub fn invalid(message: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError::Invalid { message: message.into(), details }
    }

    /// The server is too busy: retry in a few seconds.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError::Unavailable { message: message.into(), retry_after_secs: 5 }
    }

    /// The table: each error's status and stable code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_record"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Every code with its status, for the OpenAPI document.
    pub const CODES: &[(u16, &'static str)] = &[
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (409, "conflict"),
        (413, "payload_too_large"),
        (415, "unsupported_media_type"),
        (422, "invalid_record"),
        (429, "too_many_requests"),
        (500, "internal"),
        (503, "unavailable"),
    ];

    /// Store problems as an error: field problems of one record, or of the record at `index`.
    pub fn from_problems(problems: Vec<Problem>, index: Option<usize>) -> ApiError {
        let details: Vec<Detail> = problems
            .into_iter()
            .map(|p| {
                let index = p.tag.map(|t| t as usize).or(index);
                Detail::field(&p.field, p.message).at(index)
            })
            .collect();
        let message = summary_message(&details);
        ApiError::invalid(message, details)
    }
}

/// `amount: "x" is not a number` for one problem, `3 problems: …` for several.
fn summary_message(details: &[Detail]) -> String {
    let describe = |d: &Detail| match &d.field {
        Some(field) => format!("{field}: {}", d.problem),
        None => d.problem.clone(),
    };
    match details {
        [] => "the record is invalid".to_string(),
        [one] => describe(one),
        [first, ..] => {
            format!(
                "{} problems, the first: {}; nothing was stored",
                details.len(),
                describe(first)
            )
        }
    }
}

impl From<traction_store::Error> for ApiError {
    fn from(e: traction_store::Error) -> ApiError {
        match e {
            traction_store::Error::Invalid(problems) => ApiError::from_problems(problems, None),
            traction_store::Error::Conflict(message) => ApiError::Conflict(message),
            traction_store::Error::NotFound => ApiError::NotFound("no such record".into()),
            traction_store::Error::Storage(message) => ApiError::Internal(message),
            traction_store::Error::Busy(message) => ApiError::busy(message),
        }
    }
}

/// A typed JSON body (the monitoring endpoints' rules, channels and silences): a mistake is a
/// 400 that names the field at fault by its path (`channels[0].kind`), in the message and in
/// `details`, so a client can tell which of its fields to fix.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: std::result::Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if parsed.is_ok() {
        de.end().map_err(|e| {
            ApiError::bad_request(format!("the body is not the JSON expected: {e}"))
        })?;
    }
    parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        // serde's own words, without the position (given once, in the message).
        let problem = inner.to_string();
        let problem = problem.split(" at line ").next().unwrap_or(&problem).to_string();
        if path == "." || path.is_empty() {
            // At the top: a missing or unknown field is named by serde in its own words.
            let field = problem
                .split('`')
                .nth(1)
                .filter(|_| problem.contains("field"))
                .unwrap_or("")
                .to_string();
            ApiError::BadRequest {
                message: format!("the body is not the JSON expected: {inner}"),
                details: vec![Detail::field(&field, problem)],
            }
        } else {
            ApiError::BadRequest {
                message: format!("the body is not the JSON expected: {path}: {inner}"),
                details: vec![Detail::field(&path, problem)],
            }
        }
    })
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> ApiError {
        ApiError::bad_request(format!("bad path: {}", e.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad_request(format!("bad query string: {}", e.body_text()))
    }
}

impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(
                "the request body is too large: send fewer records per request, or use the import endpoint"
                    .into(),
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {}", e.body_text()))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs, .. }
            | ApiError::Unavailable { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        };
        let (message, details) = match self {
            ApiError::BadRequest { message, details } | ApiError::Invalid { message, details } => {
                (message, details)
            }
            ApiError::NotFound(message)
            | ApiError::Unauthorized(message)
            | ApiError::Forbidden(message)
            | ApiError::TooManyRequests { message, .. }
            | ApiError::Unavailable { message, .. }
            | ApiError::MethodNotAllowed(message)
            | ApiError::Conflict(message)
            | ApiError::PayloadTooLarge(message)
            | ApiError::UnsupportedMediaType(message) => (message, Vec::new()),
            ApiError::Internal(cause) => {
                // Logged inside the request's span (method, path, request id); the client only
                // learns that it was not its fault.
                tracing::error!(%cause, "internal error");
                ("an internal error occurred; it has been logged".to_string(), Vec::new())
            }
        };
        let body = json!({"error": {"code": code, "message": message, "details": details}});
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"traction\""),
            );
        }
        if let Some(secs) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_statuses() {
        let cases = [
            (traction_store::Error::Invalid(vec![]), 422),
            (traction_store::Error::Conflict("x".into()), 409),
            (traction_store::Error::NotFound, 404),
            (traction_store::Error::Storage("disk".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::from(err).status().0.as_u16(), status);
        }
    }

    #[test]
    fn every_variant_is_in_the_code_table() {
        let all = [
            ApiError::bad_request("x"),
            ApiError::Unauthorized("x".into()),
            ApiError::Forbidden("x".into()),
            ApiError::TooManyRequests { message: "x".into(), retry_after_secs: 1 },
            ApiError::NotFound("x".into()),
            ApiError::MethodNotAllowed("x".into()),
            ApiError::Conflict("x".into()),
            ApiError::PayloadTooLarge("x".into()),
            ApiError::UnsupportedMediaType("x".into()),
            ApiError::invalid("x", vec![]),
            ApiError::Internal("x".into()),
        ];
        for err in all {
            let (status, code) = err.status();
            assert!(ApiError::CODES.contains(&(status.as_u16(), code)), "{code}");
        }
    }

    #[test]
    fn problems_keep_their_record_index() {
        let problems = vec![
            Problem { tag: Some(2), field: "amount".into(), message: "bad".into() },
            Problem { tag: None, field: String::new(), message: "whole".into() },
        ];
        let ApiError::Invalid { message, details } = ApiError::from_problems(problems, Some(0))
        else {
            panic!("expected invalid")
        };
        assert_eq!(details[0].index, Some(2));
        assert_eq!(details[0].field.as_deref(), Some("amount"));
        assert_eq!(details[1].index, Some(0));
        assert_eq!(details[1].field, None);
        assert_eq!(message, "2 problems, the first: amount: bad; nothing was stored");
    }
}
