//! The web pages. For now one placeholder home page: the web application is a later issue, and
//! this page says so rather than pretend to be a dashboard.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Traction</title></head><body>",
        "<h1>Traction</h1>",
        "<p>This is a Traction server: sales tracking and sales-metrics monitoring. ",
        "The web application is not built yet; the data is available through the JSON API.</p>",
        "<ul>",
        "<li><a href=\"/api/v1/openapi.json\">API description (OpenAPI)</a></li>",
        "<li><a href=\"/api/v1/health\">Health check</a></li>",
        "<li>Live changes: <code>GET /api/v1/events</code> (Server-Sent Events)</li>",
        "</ul></body></html>\n"
    ))
}
