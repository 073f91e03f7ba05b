//! Refusals made before a request is read: a declared body over the limit is a 413 at once
//! (never awaited), and an error answered to a request that sent a body closes the connection
//! (`Connection: close`), since the body may be left unread on it.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Whether a path takes an import body (the larger limit).
fn is_import(path: &str) -> bool {
    path == "/import" || (path.starts_with("/api/v1/") && path.ends_with("/import"))
}

pub(crate) async fn early_refusals(
    (max_body, max_import): (usize, u64),
    req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let has_body =
        declared.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING);
    let limit = if is_import(req.uri().path()) { max_import } else { max_body as u64 };
    if let Some(n) = declared
        && n > limit
    {
        let mut response = ApiError::PayloadTooLarge(format!(
            "the request body is {n} bytes, over the limit of {limit}: send less per request (records in smaller batches, or a file split in parts)"
        ))
        .into_response();
        close(&mut response);
        return response;
    }
    let mut response = next.run(req).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        close(&mut response);
    }
    response
}

fn close(response: &mut Response) {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn imports_take_the_import_limit() {
        assert!(super::is_import("/api/v1/deals/import"));
        assert!(super::is_import("/import"));
        assert!(!super::is_import("/api/v1/deals"));
        assert!(!super::is_import("/imports/x"));
    }
}
