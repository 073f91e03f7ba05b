//! `POST /api/v1/deals/{id}/move`: stage changes, closing, reopening, and the history.

use reqwest::StatusCode;
use serde_json::json;
use traction_domain::Entity;

use crate::helpers::{HOUR, T0, TestApp};

/// 2026-03-02T09:00:00Z plus whole hours, as the API writes instants.
fn at(hours: i64) -> String {
    let micros = T0 + hours * HOUR;
    jiff::Timestamp::from_microsecond(micros).unwrap().to_string()
}

async fn deal(app: &TestApp) {
    app.create(
        "deals",
        json!({"id": "d1", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1", "amount": 500,
               "created_at": "2026-03-01T10:00:00Z"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_are_recorded_and_won_or_lost_stages_close_the_deal() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    deal(&app).await;
    assert_eq!(at(0), "2026-03-02T09:00:00Z");

    app.set_now(T0 + HOUR);
    let moved = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "s2"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{:#}", moved.body);
    assert_eq!(moved.body["deal"]["stage_id"], "s2");
    assert_eq!(moved.body["deal"]["status"], "open");
    assert_eq!(
        moved.body["stage_change"],
        // The move names who made it: the signed-in user.
        json!({"deal_id": "d1", "stage_id": "s2", "changed_at": at(1), "changed_by": "admin"})
    );

    app.set_now(T0 + 2 * HOUR);
    let won = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "won"})).await;
    assert_eq!(won.body["deal"]["status"], "won");
    assert_eq!(won.body["deal"]["closed_at"], at(2));

    // Won, then lost: closed anew at the time of the second move.
    app.set_now(T0 + 3 * HOUR);
    let lost = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "lost"})).await;
    assert_eq!(lost.body["deal"]["status"], "lost");
    assert_eq!(lost.body["deal"]["closed_at"], at(3));

    // Reopening is allowed: back to an open stage, closed_at cleared.
    app.set_now(T0 + 4 * HOUR);
    let reopened = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "s1"})).await;
    assert_eq!(reopened.status, StatusCode::OK, "{:#}", reopened.body);
    assert_eq!(reopened.body["deal"]["status"], "open");
    assert_eq!(reopened.body["deal"]["closed_at"], json!(null));

    // The history: the first stage at created_at (the deal was created through the API), then
    // each move at the server's clock.
    let history = app.all("stage_changes", "&deal_id=d1").await;
    let entered: Vec<(String, String)> = history
        .iter()
        .map(|c| (c["stage_id"].as_str().unwrap().into(), c["changed_at"].as_str().unwrap().into()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("s1", "2026-03-01T10:00:00Z".to_string()),
        ("s2", at(1)),
        ("won", at(2)),
        ("lost", at(3)),
        ("s1", at(4)),
    ]
    .into_iter()
    .map(|(s, t)| (s.to_string(), t))
    .collect();
    let mut sorted = entered.clone();
    sorted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(sorted, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_to_the_current_stage_changes_nothing() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    deal(&app).await;
    let before = app.count(Entity::StageChanges);
    let same = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "s1"})).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.body["stage_change"], json!(null));
    assert_eq!(same.body["deal"]["stage_id"], "s1");
    assert_eq!(app.count(Entity::StageChanges), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_moves_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    deal(&app).await;
    let before = app.count(Entity::StageChanges);

    let other_pipeline = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "r1"})).await;
    let details = other_pipeline.error(422, "invalid_record");
    assert_eq!(details[0]["field"], "stage_id");
    assert!(details[0]["problem"].as_str().unwrap().contains("pipeline"), "{details:?}");

    let unknown_stage = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "nope"})).await;
    assert_eq!(unknown_stage.error(422, "invalid_record")[0]["field"], "stage_id");
    app.post("/api/v1/deals/nope/move", &json!({"stage_id": "s2"})).await.error(404, "not_found");
    let extra = app.post("/api/v1/deals/d1/move", &json!({"stage_id": "s2", "by": "me"})).await;
    assert_eq!(extra.error(422, "invalid_record")[0]["field"], "by");
    app.post("/api/v1/deals/d1/move", &json!({})).await.error(422, "invalid_record");
    app.post("/api/v1/deals/d1/move", &json!({"stage_id": 7})).await.error(422, "invalid_record");
    app.raw(
        reqwest::Method::POST,
        "/api/v1/deals/d1/move",
        Some("application/json"),
        "{\"stage_id\":",
    )
    .await
    .error(400, "bad_request");

    assert_eq!(app.count(Entity::StageChanges), before);
    assert_eq!(app.get("/api/v1/deals/d1").await.body["stage_id"], "s1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_change_through_patch_is_recorded_too() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    deal(&app).await;
    app.set_now(T0 + 5 * HOUR);
    let patched = app.patch("/api/v1/deals/d1", &json!({"stage_id": "s2"})).await;
    assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);
    let history = app.all("stage_changes", "&deal_id=d1&stage_id=s2").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["changed_at"], at(5));
}
