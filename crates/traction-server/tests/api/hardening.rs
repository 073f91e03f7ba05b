//! Issue 25: under load, faults and hostile input the server keeps answering, loses nothing and
//! leaks nothing.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use traction_server::Config;
use traction_server::admission::Limits;

use crate::helpers::{TestApp, add_user};

/// Fails (rather than hangs) when a request waits for ever: a liveness bound, not a timing.
async fn promptly<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} never answered"))
}

/// Holds every analytical read connection of the store until the returned sender is dropped.
fn saturate_readers(
    app: &TestApp,
) -> (std::sync::mpsc::Sender<()>, Vec<std::thread::JoinHandle<()>>) {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let mut threads = Vec::new();
    for _ in 0..4 {
        let store = app.store.clone();
        let (held_tx, release_rx) = (held_tx.clone(), release_rx.clone());
        threads.push(std::thread::spawn(move || {
            store.with_reader(|_conn| {
                held_tx.send(()).unwrap();
                // Every holder wakes when the sender is dropped.
                let _ = release_rx.lock().unwrap().recv();
            });
        }));
    }
    for _ in 0..4 {
        held_rx.recv().unwrap();
    }
    (release_tx, threads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_reads_neither_stall_sign_in_and_writes_nor_run_unadmitted() {
    let app = Arc::new(
        TestApp::spawn_with(Config {
            heavy: Limits {
                concurrency: 1,
                per_user: 1,
                queue_wait: Duration::from_millis(200),
                time_limit: Duration::from_secs(120),
            },
            ..Config::default()
        })
        .await,
    );
    app.seed_sales().await;
    let viewer = add_user(&app.store, "viewer", "viewer", Some("t1"));
    crate::auth::set_password(&app, "u1", "correct horse battery");
    // Every analytical connection is busy (as under heavy metric queries).
    let (release, holders) = saturate_readers(&app);
    let metric = "/api/v1/metrics/activities?from=2026-03-01&to=2026-04-01&grain=day";
    let first = {
        let app = app.clone();
        tokio::spawn(async move { app.get(metric).await })
    };
    // The admin's second heavy request is refused at once while the first runs: 429.
    let mut refused = None;
    for _ in 0..200 {
        let answer = promptly("a second heavy request", app.get(metric)).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("the admin's second heavy request is refused with 429");
    refused.error(429, "too_many_requests");
    // Another user's heavy request waits its turn, then 503 with Retry-After.
    let res = promptly(
        "the viewer's heavy request",
        app.anonymous.get(app.url(metric)).bearer_auth(&viewer).send(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("retry-after").is_some());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    // Meanwhile a token check, a record read, a sign-in and a write answer.
    let listed = promptly(
        "a token check",
        app.anonymous.get(app.url("/api/v1/users/viewer")).bearer_auth(&viewer).send(),
    )
    .await
    .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let (cookie, _) =
        promptly("a sign-in", crate::auth::sign_in(&app, "u1", "correct horse battery"))
            .await
            .unwrap_or_else(|_| panic!("the sign-in failed"));
    assert!(cookie.starts_with("traction_session="));
    let written = promptly(
        "a write",
        app.post(
            "/api/v1/activities",
            &json!({"id": "call-1", "kind": "call", "owner_id": "u1",
                    "occurred_at": "2026-03-02T10:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(written.status, StatusCode::CREATED, "{:#}", written.body);
    // Once the readers are free, the admitted request answers, and sees the write.
    drop(release);
    for holder in holders {
        holder.join().unwrap();
    }
    let first = promptly("the first heavy request", first).await.unwrap();
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
}
