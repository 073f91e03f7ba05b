//! `GET /api/v1/events`: Server-Sent Events for every committed change.

use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::{Value as Json, json};

use crate::helpers::TestApp;

/// A client reading an event stream.
struct Stream {
    response: Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp) -> Stream {
        Stream::open_with(app, &app.client).await
    }

    async fn open_with(app: &TestApp, client: &reqwest::Client) -> Stream {
        let response = client.get(app.url("/api/v1/events")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut stream = Stream { response, buffer: String::new() };
        // The server greets with a comment once it has subscribed, so no change is missed.
        let first = stream.next_block().await;
        assert_eq!(first, ": connected");
        stream
    }

    /// The next event block (the lines up to a blank line). A guard of a few seconds keeps a
    /// broken server from hanging the test; the latency itself is measured, not asserted
    /// (quality.md: timing belongs in the benchmark).
    async fn next_block(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block = self.buffer[..end].to_string();
                    self.buffer.drain(..end + 2);
                    return block;
                }
                let chunk = self.response.chunk().await.unwrap().expect("the stream ended");
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("no event within 10 s")
    }

    /// The next event's name and data.
    async fn next_event(&mut self) -> (String, Json) {
        loop {
            let block = self.next_block().await;
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v.to_string();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            if !name.is_empty() {
                return (name, serde_json::from_str(&data).unwrap());
            }
        }
    }
}

fn change(entity: &str, id: &str, kind: &str) -> (String, Json) {
    ("change".into(), json!({"entity": entity, "id": id, "kind": kind}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_hears_every_change() {
    let app = TestApp::spawn().await;
    let mut first = Stream::open(&app).await;
    let mut second = Stream::open(&app).await;
    let started = Instant::now();
    app.create("teams", json!({"id": "t1", "name": "North"})).await;
    assert_eq!(first.next_event().await, change("teams", "t1", "created"));
    let latency = started.elapsed();
    assert_eq!(second.next_event().await, change("teams", "t1", "created"));
    eprintln!("SSE: write acknowledged and event received in {latency:?}");
    app.patch("/api/v1/teams/t1", &json!({"name": "Northern"})).await;
    assert_eq!(first.next_event().await, change("teams", "t1", "updated"));
    app.delete("/api/v1/teams/t1").await;
    assert_eq!(first.next_event().await, change("teams", "t1", "deleted"));
    assert_eq!(second.next_event().await, change("teams", "t1", "updated"));
    assert_eq!(second.next_event().await, change("teams", "t1", "deleted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_announces_the_deal_and_its_stage_change() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    app.create(
        "deals",
        json!({"id": "d1", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1", "amount": 5,
               "created_at": "2026-03-01T00:00:00Z"}),
    )
    .await;
    let mut stream = Stream::open(&app).await;
    app.post("/api/v1/deals/d1/move", &json!({"stage_id": "s2"})).await;
    assert_eq!(stream.next_event().await, change("deals", "d1", "updated"));
    // Keyed entities name their key's values joined by '/'.
    assert_eq!(
        stream.next_event().await,
        change("stage_changes", "d1/s2/2026-03-02T09:00:00Z", "created")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_disconnect_are_dropped() {
    let app = TestApp::spawn().await;
    let stream = Stream::open(&app).await;
    assert_eq!(app.events.listeners(), 1);
    drop(stream);
    // The forwarding task notices the closed connection and drops its subscription.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.events.listeners() > 0 {
        assert!(Instant::now() < deadline, "the subscription was never dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_holds_back_no_write() {
    let app = TestApp::spawn().await;
    let mut slow = Stream::open(&app).await;
    // 6 commits of 1000 records: 6000 changes, more than the 4096 the channel keeps for a
    // client plus what the socket buffers, while the slow client reads nothing.
    for batch in 0..6 {
        let teams: Vec<Json> =
            (0..1000).map(|i| json!({"id": format!("t{batch}-{i:04}"), "name": "x"})).collect();
        app.create("teams", Json::Array(teams)).await;
    }
    assert_eq!(app.count(traction_domain::Entity::Teams), 6000);
    // Reading now: the events come in commit order; where the client fell behind (if its
    // socket buffers could not hold them all) it is told to reload rather than silently missing
    // changes.
    let mut expected = (0..6).flat_map(|b| (0..1000).map(move |i| format!("t{b}-{i:04}")));
    loop {
        let (name, data) = slow.next_event().await;
        if name == "reload" {
            assert_eq!(data, json!({"entities": null}));
            break;
        }
        let id = data["id"].as_str().unwrap().to_string();
        assert_eq!(Some(id.clone()), expected.next(), "events in order, none missing");
        if id == "t5-0999" {
            break;
        }
    }
    // The stream goes on with new changes.
    app.create("teams", json!({"id": "later", "name": "x"})).await;
    loop {
        let (name, data) = slow.next_event().await;
        if name == "change" && data["id"] == "later" {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_is_one_reload_event() {
    let app = TestApp::spawn().await;
    let mut stream = Stream::open(&app).await;
    let mut csv = String::from("id,name\n");
    for i in 0..1500 {
        csv.push_str(&format!("t{i},Team\n"));
    }
    let answer =
        app.raw(reqwest::Method::POST, "/api/v1/teams/import", Some("text/csv"), csv).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(stream.next_event().await, ("reload".to_string(), json!({"entities": ["teams"]})));
    app.create("teams", json!({"id": "after", "name": "x"})).await;
    assert_eq!(stream.next_event().await, change("teams", "after", "created"));
}

#[tokio::test]
async fn a_rep_hears_only_of_records_in_their_scope() {
    let app = TestApp::spawn().await;
    app.create("teams", json!({"id": "t1", "name": "North"})).await;
    app.create("teams", json!({"id": "t2", "name": "South"})).await;
    let north = crate::helpers::add_user(&*app.store, "ra", "rep", Some("t1"));
    crate::helpers::add_user(&*app.store, "rb", "rep", Some("t2"));
    let client = reqwest::Client::builder()
        .default_headers(
            [(reqwest::header::AUTHORIZATION, format!("Bearer {north}").parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    let mut stream = Stream::open_with(&app, &client).await;
    let activity = |id: &str, owner: &str| json!({"id": id, "kind": "call", "occurred_at": "2026-03-02T09:00:00Z", "owner_id": owner});
    // Another team's call: not announced to this rep (it would reveal that it exists).
    app.create("activities", activity("a-south", "rb")).await;
    app.create("activities", activity("a-north", "ra")).await;
    assert_eq!(stream.next_event().await, change("activities", "a-north", "created"));
    // A deletion cannot be checked once the record is gone: announced without its id.
    assert_eq!(app.delete("/api/v1/activities/a-south").await.status, 204);
    assert_eq!(
        stream.next_event().await,
        ("change".into(), json!({"entity": "activities", "id": null, "kind": "deleted"}))
    );
}
