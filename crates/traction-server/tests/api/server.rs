//! The server as a whole: the OpenAPI document against the router, the home page, health, and
//! a graceful shutdown that lets an in-flight request finish.

use std::time::Duration;

use bytes_stream::chunks;
use reqwest::{Method, StatusCode};
use serde_json::json;
use traction_domain::Entity;
use traction_store::{SqliteStore, Store};

use crate::helpers::TestApp;

/// A request body that arrives in pieces, when the test says so.
mod bytes_stream {
    use tokio::sync::mpsc;

    pub fn chunks() -> (mpsc::Sender<String>, reqwest::Body) {
        let (tx, rx) = mpsc::channel::<String>(4);
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        let stream = tokio_stream::StreamExt::map(stream, Ok::<_, std::io::Error>);
        (tx, reqwest::Body::wrap_stream(stream))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    // Every entity has its list route; keyed ones have no /{id} route.
    for entity in Entity::ALL {
        assert!(paths.contains_key(&format!("/api/v1/{entity}")), "{entity}");
        assert_eq!(
            paths.contains_key(&format!("/api/v1/{entity}/{{id}}")),
            entity.has_id(),
            "{entity}"
        );
    }
    let mut checked = 0;
    for (path, item) in paths {
        if path.ends_with("/events") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = app.raw(method.clone(), &path.replace("{id}", "nope"), None, "{}").await;
            // Served: whatever the answer, it is not "no such endpoint" nor "method not allowed".
            let code = answer.body["error"]["code"].as_str().unwrap_or("");
            let message = answer.body["error"]["message"].as_str().unwrap_or("");
            assert!(
                !(code == "not_found" && message.starts_with("no endpoint"))
                    && code != "method_not_allowed",
                "{method} {path} is documented but not served: {}",
                answer.body
            );
            checked += 1;
        }
    }
    // 3 general endpoints; per entity list, create, import, and get/put/patch/delete (17 with
    // an id) or delete by key (3 keyed); the move; catalog, metric, funnel; KPI status,
    // breakdown, leaderboard and report; a user's password, tokens listed, created and revoked,
    // the audit log; monitoring's 13 (channels, rules and silences listed, added, deleted;
    // alerts, history, notifications and marking one read); forecasts' 3 (a metric's, its
    // history, the pipeline's): events skipped.
    assert_eq!(checked, 3 + 17 * 7 + 3 * 4 + 1 + 3 + 4 + 5 + 13 + 3 - 1);
    let events = app.client.get(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_says_what_this_is_and_links_the_api() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Traction"));
    assert!(page.contains("href=\"/api/v1/openapi.json\""));
    assert_eq!(app.get("/api/v1/health").await.body, json!({"status": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_import_finish_and_closes_the_database() {
    let mut app = TestApp::spawn().await;
    // An open event stream must not keep the server from stopping.
    let events = app.client.get(app.url("/api/v1/events")).send().await.unwrap();
    let (tx, body) = chunks();
    let request = app
        .client
        .post(app.url("/api/v1/teams/import"))
        .header("content-type", "text/csv")
        .body(body)
        .send();
    let request = tokio::spawn(request);
    tx.send("id,name\nt1,North\n".into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The request started before the shutdown, so it is completed.
    tx.send("t2,South\n".into()).await.unwrap();
    drop(tx);
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let server = app.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once its requests are done")
        .unwrap()
        .unwrap();
    drop(events);
    // New connections are refused once it has stopped.
    assert!(app.client.get(app.url("/api/v1/health")).send().await.is_err());
    // Both rows are durable in the file.
    let path = app.dir.path().join("traction.db");
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.count(Entity::Teams).unwrap(), 2);
}
