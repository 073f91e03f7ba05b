//! URL and cookie text, read and written through well-kept crates rather than by hand.
//!
//! One rule for every decoder in the application (the URL Standard's, as browsers apply it):
//! form bodies and query strings are `application/x-www-form-urlencoded`, where `+` is a space
//! and `%XX` a byte ([`form_fields`], through `form_urlencoded`); paths and other URL parts are
//! percent-encoded only, where `+` stays a plus (axum's `Path` extractor, `percent-encoding`). A
//! `%` not followed by two hex digits stays as it is. The decoded text must be UTF-8: anything
//! else is refused with [`NotUtf8`] (a 400 with a message), never replaced with U+FFFD, so a
//! field is never silently altered.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::ApiError;

/// A form body or query string whose text is not UTF-8 once its `%XX` escapes are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotUtf8;

impl std::fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("is not UTF-8 once its %XX escapes are decoded: send the text as UTF-8")
    }
}

impl std::error::Error for NotUtf8 {}

/// The fields of a form body or a query string, decoded, in their order.
pub fn form_fields(text: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    // The fields are split at the ASCII bytes `&` and `=`, which no escape can span and no
    // UTF-8 sequence contains, so the decoded whole is UTF-8 exactly when every decoded field
    // is. Checking the whole first keeps `form_urlencoded`'s lossy decoding from ever applying.
    if percent_encoding::percent_decode(text).decode_utf8().is_err() {
        return Err(NotUtf8);
    }
    Ok(form_urlencoded::parse(text).into_owned().collect())
}

/// Refuses an API request whose query string is not UTF-8 once decoded (a 400 in the API's error
/// shape), so axum's `Query`, which would put U+FFFD in its place, never sees one.
pub(crate) async fn utf8_query(req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query()
        && let Err(e) = form_fields(query.as_bytes())
    {
        return ApiError::bad_request(format!("the query string {e}")).into_response();
    }
    next.run(req).await
}

/// What [`form_encode`] writes as it is: the URL Standard's unreserved characters, and `/` so a
/// local path stays readable in `/login?next=…`.
const QUERY_VALUE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encoding for a query parameter's value (a space is `%20`).
pub fn form_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// A cookie's value from the request's `Cookie` headers (the first of that name).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|it| it.name() == name)
        .map(|it| it.value().to_string())
}

/// A `Set-Cookie` value: `name=value` for `path`, kept `max_age` seconds (0 deletes it),
/// HttpOnly, with `same_site`, and Secure when `secure` (the server is behind TLS).
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
    same_site: SameSite,
) -> HeaderValue {
    let it = Cookie::build((name, value))
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .build();
    HeaderValue::from_str(&it.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(String, String)> {
        form_fields(text.as_bytes()).unwrap()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn forms_and_queries_decode_plus_as_a_space_and_escapes_as_bytes() {
        assert_eq!(
            fields("a=1&_csrf=x%2By+z&c"),
            vec![pair("a", "1"), pair("_csrf", "x+y z"), pair("c", "")]
        );
        assert_eq!(
            fields("where=owner_id+%3D+%27u1%27&&empty=&n%C3%A4me=J%C3%BCrgen"),
            vec![pair("where", "owner_id = 'u1'"), pair("empty", ""), pair("näme", "Jürgen")]
        );
        // A `%` that starts no escape is kept, as browsers keep it.
        assert_eq!(fields("a=%zz%4&b=100%"), vec![pair("a", "%zz%4"), pair("b", "100%")]);
        // An `=` inside a value is part of it.
        assert_eq!(fields("next=/deals?a=1"), vec![pair("next", "/deals?a=1")]);
    }

    #[test]
    fn text_that_is_not_utf8_once_decoded_is_refused() {
        assert_eq!(form_fields(b"a=%ff"), Err(NotUtf8));
        assert_eq!(form_fields(b"a=1&b=%C3"), Err(NotUtf8));
        assert_eq!(form_fields(b"%ff=1"), Err(NotUtf8));
        assert_eq!(form_fields(b"a=\xff"), Err(NotUtf8));
        // A two-byte character split over two fields is two broken fields.
        assert_eq!(form_fields(b"a=%C3&%A4"), Err(NotUtf8));
        assert!(NotUtf8.to_string().contains("UTF-8"));
    }

    #[test]
    fn query_values_encode_everything_but_unreserved_characters_and_slashes() {
        assert_eq!(form_encode("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
        assert_eq!(form_encode("x+y~z_-.ä"), "x%2By~z_-.%C3%A4");
        assert_eq!(fields(&format!("v={}", form_encode("a+b c%"))), vec![pair("v", "a+b c%")]);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; traction_session=abc; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c= 3 ;broken; d=4"));
        assert_eq!(cookie(&headers, "traction_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c").as_deref(), Some("3"));
        assert_eq!(cookie(&headers, "d").as_deref(), Some("4"));
        assert_eq!(cookie(&headers, "e"), None);
        assert_eq!(cookie(&HeaderMap::new(), "a"), None);
    }

    /// The attributes of a `Set-Cookie` value, in a fixed order, for comparing.
    fn attributes(value: &HeaderValue) -> Vec<String> {
        let mut parts: Vec<String> =
            value.to_str().unwrap().split("; ").map(str::to_string).collect();
        parts[1..].sort();
        parts
    }

    #[test]
    fn set_cookie_carries_every_attribute() {
        let value = set_cookie("traction_session", "abc", "/", 604800, false, SameSite::Lax);
        assert_eq!(
            attributes(&value),
            ["traction_session=abc", "HttpOnly", "Max-Age=604800", "Path=/", "SameSite=Lax"]
        );
        let value = set_cookie("traction_login", "", "/login", 0, true, SameSite::Strict);
        assert_eq!(
            attributes(&value),
            [
                "traction_login=",
                "HttpOnly",
                "Max-Age=0",
                "Path=/login",
                "SameSite=Strict",
                "Secure"
            ]
        );
    }
}
