//! Traction's HTTP server: the JSON API under `/api/v1`, sign-in, and the middleware that wraps
//! them and the web application's pages.
//!
//! Start with [`app_with`]: it builds the whole router from [`api::api_router`] (the API,
//! generated per entity from the data model), the pages it is handed (the `traction-web` crate's
//! router, which depends on this crate, so the binary hands it in) and the middleware (request
//! ids, request logs, gzip, body limits, sign-in). [`app`] is the same without pages, which the
//! crate's own tests serve. [`serve`] runs it on a listener until a shutdown signal, then lets
//! in-flight requests finish; [`run_with`] is what `traction serve` calls.
//!
//! - `api/`: the endpoint table, the record handlers, import, the deal move, the JSON shapes.
//! - `events.rs`: Server-Sent Events fed by every commit.
//! - `openapi.rs`: the OpenAPI document, generated from the endpoint table and the schema.
//! - `error.rs`: the one error type and its code → status table.
//!
//! The store is synchronous (SQLite): handlers call it on tokio's blocking pool. This crate
//! knows HTTP and JSON; nothing below it does.

pub mod admission;
pub mod api;
pub mod auth;
pub mod catalog;
pub mod error;
pub mod events;
mod limits;
pub mod openapi;
pub mod os;
pub mod report;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use traction_domain::time::Micros;
use traction_metrics::Catalog;
use traction_store::Backend;

pub use api::api_router;
pub use events::Events;

/// The clock requests read "now" from (created_at defaults, stage moves): the wall clock in
/// production, a fixed or stepping clock in tests.
pub type Clock = Arc<dyn Fn() -> Micros + Send + Sync>;

/// Limits and settings of the server.
#[derive(Clone, Debug)]
pub struct Config {
    /// The largest JSON body (records created or changed in one request).
    pub max_body_bytes: usize,
    /// The largest import body.
    pub max_import_bytes: u64,
    /// The metric catalog (`traction serve --metrics FILE`: the built-in one with the user's
    /// definitions over it); `None` for the built-in catalog.
    pub catalog: Option<Catalog>,
    /// The text of the `--metrics` file, layered over the workspace's own definitions. Unless
    /// `catalog` is given (and this is not), the catalog follows the definitions and event
    /// kinds stored (catalog.rs).
    pub metrics_file: Option<String>,
    /// Mark the session cookie `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// How heavy work (metric queries, dashboards, KPIs, reports) is admitted (admission.rs).
    pub heavy: admission::Limits,
    /// How long connections may be slow or idle.
    pub connections: ConnectionLimits,
}

/// Time limits of a connection: a client that is slow or silent is let go.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// The whole head of a request must arrive within this, from when the server starts waiting
    /// for it: a new connection, and a kept-alive one between requests (so this is also how
    /// long an idle connection stays open).
    pub header_timeout: Duration,
    /// A request body that sends nothing for this long is cut off (408).
    pub body_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_body_bytes: 8 * 1024 * 1024,
            max_import_bytes: 1024 * 1024 * 1024,
            catalog: None,
            metrics_file: None,
            secure_cookies: false,
            heavy: admission::Limits::default(),
            connections: ConnectionLimits::default(),
        }
    }
}

/// What every handler shares.
///
/// The store is the SQLite store itself rather than `dyn Store`: record endpoints use it through
/// the `Store` trait, but the metrics engine compiles SQL for SQLite and needs the connection.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Backend>,
    pub events: Events,
    pub clock: Clock,
    pub config: Arc<Config>,
    /// The metric catalog the metric endpoints answer from, kept current (catalog.rs).
    pub catalog: Arc<catalog::LiveCatalog>,
    /// Sign-in state kept in memory (the rate limits).
    pub auth: Arc<auth::AuthState>,
    /// Heavy requests running, per user and in all.
    pub admission: Arc<admission::Admission>,
}

impl AppState {
    /// The state of a server on `store` with the configured (else the built-in) metric catalog,
    /// and the handle that ends its event streams at shutdown.
    pub fn new(
        store: Arc<dyn Backend>,
        clock: Clock,
        config: Config,
    ) -> (AppState, events::Shutdown) {
        let (events, stop_events) = Events::new();
        let catalog = Arc::new(match (&config.metrics_file, &config.catalog) {
            (None, Some(fixed)) => catalog::LiveCatalog::fixed(fixed.clone()),
            (file, _) => catalog::LiveCatalog::following(file.clone()),
        });
        // The first request would do it; doing it here makes a bad stored definition visible
        // in the log at start.
        if let Ok(Some(left_out)) = catalog.refresh(store.as_ref(), std::time::Instant::now(), true)
        {
            tracing::warn!(
                "stored metric definitions left out because they no longer check: {left_out}"
            );
        }
        let auth = Arc::new(auth::AuthState::default());
        let admission = Arc::new(admission::Admission::new(config.heavy.clone()));
        // A query of a heavy request is interrupted when the request is out of time.
        store.set_read_time_limit(Some(config.heavy.time_limit));
        let state =
            AppState { store, events, clock, config: Arc::new(config), catalog, auth, admission };
        (state, stop_events)
    }
}

/// The API and sign-in without the web pages (what the server crate's own tests serve); see
/// [`app_with`].
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The whole application: `/api/v1/…`, the web pages `pages` (the `traction-web` crate's router,
/// which depends on this crate and so is handed in by the binary), and the middleware that wraps
/// both — every cross-cutting layer (authentication included) belongs here, in one place.
pub fn app_with(state: AppState, pages: Router<AppState>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let max_body = state.config.max_body_bytes;
    let body_timeout = state.config.connections.body_timeout;
    let early_limits = (state.config.max_body_bytes, state.config.max_import_bytes);
    let api = api_router()
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(auth::utf8_query));
    // Authentication and authorisation wrap the API and the pages alike, in this one place.
    let guard = axum::middleware::from_fn_with_state(state.clone(), auth::middleware);
    // Inside authentication: heavy work is admitted per user and in all.
    let admit = axum::middleware::from_fn_with_state(state.clone(), admission::middleware);
    // The catalog follows definitions and event kinds written by any process.
    let follow = axum::middleware::from_fn_with_state(state.clone(), catalog_middleware);
    Router::new()
        .nest("/api/v1", api)
        .merge(pages)
        .merge(auth::router())
        .fallback(api::unknown_endpoint)
        .with_state(state)
        .layer(admit)
        .layer(follow)
        .layer(guard)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .layer(axum::middleware::from_fn(move |req, next| {
            limits::early_refusals(early_limits, req, next)
        }))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn catalog_middleware(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let store = state.store.clone();
    let catalog = state.catalog.clone();
    let now = std::time::Instant::now();
    // A cheap read most of the time (one row of table versions, at most every 250 ms).
    let _ = tokio::task::spawn_blocking(move || {
        if let Err(e) = catalog.refresh(store.as_ref(), now, false) {
            tracing::warn!("the metric catalog could not be reloaded: {e}");
        }
    })
    .await;
    next.run(req).await
}

/// A handler that panicked (a bug) answers the internal error, logged with the panic message.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let cause = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a handler panicked".to_string());
    axum::response::IntoResponse::into_response(error::ApiError::Internal(format!(
        "panic: {cause}"
    )))
}

/// Serves `app` on `listener` until `shutdown` completes; then stops the event streams, lets
/// in-flight requests finish and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    stop_events: events::Shutdown,
) -> std::io::Result<()> {
    let limits = state.config.connections;
    serve_app_with(listener, app(state), shutdown, stop_events, limits).await
}

/// Serves an application built by [`app`] or [`app_with`] (see [`serve`]), with the default
/// connection limits.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    stop_events: events::Shutdown,
) -> std::io::Result<()> {
    serve_app_with(listener, app, shutdown, stop_events, ConnectionLimits::default()).await
}

/// Serves `app` over HTTP/1.1 on `listener`: each connection with the header timeout of
/// `limits` (idle keep-alive connections included); at `shutdown`, stops accepting, ends the
/// event streams, lets in-flight requests finish and closes idle connections.
pub async fn serve_app_with(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    stop_events: events::Shutdown,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: wait a little, keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            // The peer's address reaches handlers (sign-in rate limits per address).
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                _ = async { let _ = stop.wait_for(|stopped| *stopped).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    // Event streams never end by themselves: end them so the shutdown can complete.
    stop_events.trigger();
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Why the server could not run.
#[derive(Debug)]
pub enum RunError {
    /// The address could not be listened on (in use, not permitted).
    Listen(String),
    /// The runtime or the server failed.
    Io(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Listen(m) | RunError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: one readable line per event.
    Text,
    /// For log collectors: one JSON object per line, the span's fields included.
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, UnknownLogFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(UnknownLogFormat(text.to_string())),
        }
    }
}

/// A log format that is neither `text` nor `json`: the text given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a log format: use text or json")]
pub struct UnknownLogFormat(pub String);

/// Sets up logging to stderr: `RUST_LOG` if set, else info (a line per request).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => {
            builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init()
        }
    };
}

/// Runs the server with the web pages `pages` on `listen` until SIGINT or SIGTERM (what
/// `traction serve` does, with the web app's router). The store is dropped, closing the
/// database cleanly, only after the last request has finished.
pub fn run_with(
    store: Arc<dyn Backend>,
    listen: SocketAddr,
    clock: Clock,
    config: Config,
    pages: Router<AppState>,
) -> Result<(), RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Io(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| RunError::Listen(format!("cannot listen on {listen}: {e}")))?;
        let local = listener.local_addr().map_err(|e| RunError::Io(e.to_string()))?;
        tracing::info!(address = %local, "listening: the API is at http://{local}/api/v1/");
        let limits = config.connections;
        let (state, stop_events) = AppState::new(store, clock, config);
        // Commits by other processes (a `traction import` into this file) reach open pages too.
        state.events.watch_database(state.store.clone(), Duration::from_millis(500));
        // Memory is given back when nobody has asked for figures for a while.
        tokio::spawn(admission::release_when_idle(state.clone()));
        serve_app_with(listener, app_with(state, pages), shutdown_signal(), stop_events, limits)
            .await
            .map_err(|e| RunError::Io(format!("the server failed: {e}")))
    })?;
    // Blocking tasks (a write that was running) finish before the runtime is gone.
    runtime.shutdown_timeout(Duration::from_secs(30));
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_an_opaque_internal_error() {
        let response = panic_response(Box::new("index out of bounds".to_string()));
        assert_eq!(response.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        // The cause is logged, never sent.
        assert!(!body.to_string().contains("index out of bounds"), "{body}");
    }
}
