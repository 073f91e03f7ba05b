//! Admission of heavy work: metric queries, the funnel, KPIs, reports and the pages that compute
//! them (the dashboard, today, the explorer, a target's page).
//!
//! Heavy requests are admitted fairly: at most `heavy_per_user` of one user's at once (more
//! answer 429 at once, with `Retry-After`) and at most `heavy_concurrency` in all (more wait
//! their turn up to `heavy_queue_wait`, then answer 503 with `Retry-After`). An admitted request
//! runs for at most `heavy_time_limit`: past it the client gets 503 and the store interrupts
//! the query (`Operations::set_read_time_limit`). Everything else — sign-in, record reads and
//! writes, imports, events — is never queued here, and reads through connections of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// The limits of heavy work (see the module docs); part of [`crate::Config`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// Heavy requests running at once, in all.
    pub concurrency: usize,
    /// Heavy requests of one user running at once.
    pub per_user: usize,
    /// How long a heavy request waits for its turn before 503.
    pub queue_wait: Duration,
    /// How long a heavy request may run before 503 (and its query is interrupted).
    pub time_limit: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            concurrency: 4,
            per_user: 2,
            queue_wait: Duration::from_secs(10),
            time_limit: Duration::from_secs(20),
        }
    }
}

/// The admission state of one server.
pub struct Admission {
    limits: Limits,
    overall: Arc<Semaphore>,
    running: Mutex<HashMap<String, usize>>,
    /// When the last heavy request was admitted.
    last_heavy: Mutex<std::time::Instant>,
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        let overall = Arc::new(Semaphore::new(limits.concurrency.max(1)));
        let last_heavy = Mutex::new(std::time::Instant::now());
        Admission { limits, overall, running: Mutex::new(HashMap::new()), last_heavy }
    }

    /// How long since the last heavy request was admitted.
    pub fn idle_for(&self) -> Duration {
        self.last_heavy.lock().unwrap_or_else(|p| p.into_inner()).elapsed()
    }

    fn note_heavy(&self) {
        *self.last_heavy.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
    }

    /// Counts one more heavy request of `user`, unless they already run their share.
    fn enter(self: &Arc<Self>, user: &str) -> Option<UserSlot> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = running.entry(user.to_string()).or_insert(0);
        if *n >= self.limits.per_user.max(1) {
            return None;
        }
        *n += 1;
        Some(UserSlot { admission: self.clone(), user: user.to_string() })
    }
}

/// One running heavy request of a user; counted down when dropped.
struct UserSlot {
    admission: Arc<Admission>,
    user: String,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut running = self.admission.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = running.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.user);
            }
        }
    }
}

/// Whether a request computes figures (and so is admitted here).
pub fn is_heavy(method: &Method, path: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    if let Some(api) = path.strip_prefix("/api/v1/") {
        return api.starts_with("metrics/")
            || api.starts_with("explain/")
            || api == "funnel"
            || api == "kpis"
            || api.starts_with("kpis/")
            || api == "report"
            || api.starts_with("forecast/");
    }
    matches!(
        path,
        "/" | "/today" | "/explore" | "/explore.csv" | "/forecast/pipeline" | "/forecast/history"
    ) || path.strip_prefix("/targets/").is_some_and(|rest| !rest.is_empty() && rest != "new")
}

/// The middleware (inside authentication, so the caller is known).
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_heavy(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let admission = state.admission.clone();
    let limits = admission.limits.clone();
    let user = req.extensions().get::<Arc<Principal>>().map(|p| p.user_id.clone());
    let _slot = match &user {
        Some(user) => match admission.enter(user) {
            Some(slot) => Some(slot),
            None => {
                return refuse(
                    api,
                    ApiError::TooManyRequests {
                        message: format!(
                            "you already have {} metric, KPI or dashboard requests running: wait for them to finish, then retry",
                            limits.per_user.max(1)
                        ),
                        retry_after_secs: 2,
                    },
                );
            }
        },
        None => None,
    };
    let waited =
        tokio::time::timeout(limits.queue_wait, admission.overall.clone().acquire_owned()).await;
    let Ok(Ok(permit)) = waited else {
        return refuse(
            api,
            ApiError::busy(format!(
                "the server is busy computing figures for others (waited {} s for a turn): retry in a few seconds",
                limits.queue_wait.as_secs()
            )),
        );
    };
    admission.note_heavy();
    let res = tokio::time::timeout(limits.time_limit, next.run(req)).await;
    drop(permit);
    match res {
        Ok(response) => response,
        Err(_) => refuse(
            api,
            ApiError::busy(format!(
                "this request ran past the server's time limit of {} s and was stopped: ask for a shorter range, a coarser grain or fewer groups, or retry later",
                limits.time_limit.as_secs()
            )),
        ),
    }
}

/// After this long without heavy work, the server gives memory back (caches dropped).
pub const IDLE_RELEASE: Duration = Duration::from_secs(120);

/// Runs for ever: once the server has computed no figures for [`IDLE_RELEASE`], gives the
/// memory of its caches back (`Operations::release_memory`) and the allocator's free pages to
/// the system (`os::release_freed`), once per idle spell.
pub async fn release_when_idle(state: AppState) {
    let mut released = false;
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let idle = state.admission.idle_for() >= IDLE_RELEASE;
        if idle && !released {
            let store = state.store.clone();
            let returned = tokio::task::spawn_blocking(move || {
                store.release_memory();
                crate::os::release_freed()
            })
            .await
            .unwrap_or(false);
            tracing::debug!(returned, "idle: caches released, freed memory handed back");
        }
        released = idle;
    }
}

/// The refusal: JSON for the API, a short page for the web.
fn refuse(api: bool, error: ApiError) -> Response {
    if api {
        return error.into_response();
    }
    let mut response = error.into_response();
    let status = response.status();
    let retry = response.headers().get(axum::http::header::RETRY_AFTER).cloned();
    let text = match status {
        StatusCode::TOO_MANY_REQUESTS => {
            "You already have several pages computing figures: wait for them, then reload."
        }
        _ => "The server is busy computing figures: reload this page in a few seconds.",
    };
    response = (status, text).into_response();
    if let Some(retry) = retry {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_heavy_records_and_sign_in_are_not() {
        let get = Method::GET;
        for path in [
            "/api/v1/metrics/revenue",
            "/api/v1/funnel",
            "/api/v1/kpis",
            "/api/v1/kpis/t1/breakdown",
            "/api/v1/report",
            "/",
            "/explore",
            "/explore.csv",
            "/targets/t1",
        ] {
            assert!(is_heavy(&get, path), "{path}");
        }
        for path in
            ["/api/v1/metrics", "/api/v1/deals", "/api/v1/deals/d1", "/login", "/targets/new"]
        {
            assert!(!is_heavy(&get, path), "{path}");
        }
        assert!(!is_heavy(&Method::POST, "/api/v1/deals"));
        assert!(!is_heavy(&Method::POST, "/targets/t1"));
    }

    #[test]
    fn a_user_runs_at_most_their_share() {
        let admission = Arc::new(Admission::new(Limits { per_user: 2, ..Limits::default() }));
        let first = admission.enter("ana").expect("first");
        let _second = admission.enter("ana").expect("second");
        assert!(admission.enter("ana").is_none(), "a third of ana's is refused");
        assert!(admission.enter("ben").is_some(), "another user is not held up by ana's");
        drop(first);
        assert!(admission.enter("ana").is_some(), "a finished request frees its slot");
    }
}
