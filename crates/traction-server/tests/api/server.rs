//! The server as a whole: the OpenAPI document against the router, `/` without the web pages,
//! health, URL decoding, and a graceful shutdown that lets an in-flight request finish.

use std::time::Duration;

use bytes_stream::chunks;
use reqwest::{Method, StatusCode};
use serde_json::json;
use traction_domain::Entity;

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
    // an id) or delete by key (3 keyed); the move; catalog, metric, funnel, explain; KPI status,
    // breakdown, leaderboard and report; a user's password, tokens listed, created and revoked,
    // the audit log; monitoring's 18 (channels, rules and silences listed, added, deleted;
    // alerts, history, notifications and marking one read; schedules listed, added, changed,
    // deleted and run). The events entity's list shares
    // `GET /events` with the stream (one route less); both methods on `/events` are skipped.
    // Metrics defined in the app: listed, checked, added, replaced, deleted (5); forecasts: a
    // metric's, its history, the pipeline's (3); the email hook and its check (2).
    assert_eq!(checked, 3 + 18 * 7 - 1 + 3 * 4 + 1 + 4 + 4 + 5 + 18 + 5 + 3 + 2 - 2);
    let events = app.client.get(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
}

/// The server crate alone serves the API and sign-in; the pages are the web crate's router,
/// which `traction serve` hands in (traction-web's tests cover `/` there). Without them, `/`
/// answers in the API's error shape and points at the API's description.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_web_pages_home_points_to_the_api_description() {
    let app = TestApp::spawn().await;
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::NOT_FOUND);
    let message = home.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("/api/v1/openapi.json"), "{message}");
    assert_eq!(app.get("/api/v1/health").await.body, json!({"status": "ok"}));
}

/// Issue 23: one decoding rule. A query string is form-encoded (`+` is a space); a path is only
/// percent-encoded (`+` stays a plus); text that is not UTF-8 once decoded is a 400 that says
/// so, never a silent U+FFFD, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plus_is_a_space_in_a_query_and_a_plus_in_a_path_and_bad_utf8_is_refused() {
    let app = TestApp::spawn().await;
    let made = app.put("/api/v1/teams/a+b", &json!({"name": "North East"})).await;
    assert!(made.status.is_success(), "{:#}", made.body);
    for path in ["/api/v1/teams/a+b", "/api/v1/teams/a%2Bb"] {
        let team = app.get(path).await;
        assert_eq!(team.status, StatusCode::OK, "{path}");
        assert_eq!(team.body["id"], "a+b", "{path}");
    }
    // `name = 'North East'`, written with `+` for the spaces as a browser's form would.
    let listed = app.get("/api/v1/teams?where=name+%3D+%27North+East%27").await;
    assert_eq!(listed.status, StatusCode::OK, "{:#}", listed.body);
    let ids: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["a+b"]);
    let teams = app.store.count(Entity::Teams).unwrap();
    for path in ["/api/v1/teams?where=name+%3D+%27%ff%27", "/api/v1/teams?%C3=1"] {
        let refused = app.get(path).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("the query string is not UTF-8"), "{path}: {message}");
    }
    let refused = app
        .client
        .post(app.url("/api/v1/teams?name=%ff"))
        .json(&json!({"id": "t2", "name": "South"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.count(Entity::Teams).unwrap(), teams);
    // The sign-in form: a 400 page that says what is wrong (it was a 403 "expired" before).
    let page = app
        .anonymous
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=%ff&password=x&_csrf=y")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("not sent as UTF-8"));
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
    let reopened = traction_store::open(&path).unwrap();
    assert_eq!(reopened.count(Entity::Teams).unwrap(), 2);
}
