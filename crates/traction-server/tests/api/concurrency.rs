//! Several tasks writing at once: no errors, no lost writes.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use traction_domain::Entity;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_lose_nothing() {
    let app = Arc::new(TestApp::spawn().await);
    app.seed_sales().await;
    let tasks = 8;
    let per_task = 25;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                let answer = app
                    .post(
                        "/api/v1/activities",
                        &json!({"id": format!("a{task}-{i:02}"), "kind": "call", "owner_id": "u1",
                                "occurred_at": "2026-03-02T10:00:00Z"}),
                    )
                    .await;
                assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
                // Interleave patches of one shared record: each must land.
                let answer =
                    app.patch("/api/v1/teams/t1", &json!({"name": format!("T{task}-{i}")})).await;
                assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(app.count(Entity::Activities), (tasks * per_task) as u64);
    let listed = app.all("activities", "").await;
    for task in 0..tasks {
        for i in 0..per_task {
            let id = format!("a{task}-{i:02}");
            assert!(listed.iter().any(|a| a["id"] == id.as_str()), "{id} was lost");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_moves_of_one_deal_each_leave_a_history_row() {
    let app = Arc::new(TestApp::spawn().await);
    app.seed_sales().await;
    app.create(
        "deals",
        json!({"id": "d1", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1", "amount": 5,
               "created_at": "2026-03-01T00:00:00Z"}),
    )
    .await;
    let mut handles = Vec::new();
    for (n, stage) in ["s2", "won", "lost", "s1"].into_iter().enumerate() {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            // A distinct clock per move keeps each history key distinct.
            app.set_now(crate::helpers::T0 + n as i64);
            app.post("/api/v1/deals/d1/move", &json!({"stage_id": stage})).await
        }));
    }
    let mut moved = 0;
    for handle in handles {
        let answer = handle.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        if !answer.body["stage_change"].is_null() {
            moved += 1;
        }
    }
    // The first stage (at creation) plus one row per move that changed the stage.
    assert_eq!(app.all("stage_changes", "&deal_id=d1").await.len(), 1 + moved);
    // Whatever order they ran in, the deal's status agrees with its stage.
    let deal = app.get("/api/v1/deals/d1").await.body;
    let stage = deal["stage_id"].as_str().unwrap();
    let expected = match stage {
        "won" => "won",
        "lost" => "lost",
        _ => "open",
    };
    assert_eq!(deal["status"], expected);
    assert_eq!(deal["closed_at"].is_null(), expected == "open");
}

/// Issue 17.5: single writes arriving together share one commit (group commit), yet each
/// request gets its own answer — 201 for the valid ones, 422 or 403 for the others — and exactly
/// the valid ones are stored, each with its audit row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_writers_each_get_their_own_answer() {
    let app = Arc::new(TestApp::spawn().await);
    app.seed_sales().await;
    let token = crate::helpers::add_user(&*app.store, "rep1", "rep", Some("t1"));
    let audited_before = activity_audit_rows(&app);
    let (tasks, per_task) = (8, 12);
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (app, token) = (app.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..per_task {
                let id = format!("g{task}-{i:02}");
                // One request in four is valid; the others fail each in its own way.
                let (body, expected) = match (task + i) % 4 {
                    0 => (
                        json!({"id": id, "kind": "call", "owner_id": "rep1",
                                 "occurred_at": "2026-03-02T10:00:00Z"}),
                        201,
                    ),
                    1 => (
                        json!({"id": id, "kind": "telegram", "owner_id": "rep1",
                                 "occurred_at": "2026-03-02T10:00:00Z"}),
                        422,
                    ),
                    2 => (
                        json!({"id": id, "kind": "call", "owner_id": "u1",
                                 "occurred_at": "2026-03-02T10:00:00Z"}),
                        403,
                    ),
                    _ => (
                        json!({"id": id, "kind": "call", "owner_id": "rep1",
                                 "account_id": "no-such-account",
                                 "occurred_at": "2026-03-02T10:00:00Z"}),
                        422,
                    ),
                };
                let res = app
                    .anonymous
                    .post(app.url("/api/v1/activities"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let answer: serde_json::Value = res.json().await.unwrap_or_default();
                answers.push((id, expected, status, answer));
            }
            answers
        }));
    }
    let mut valid = Vec::new();
    for handle in handles {
        for (id, expected, status, answer) in handle.await.unwrap() {
            assert_eq!(status, expected, "{id}: {answer:#}");
            match expected {
                201 => {
                    assert_eq!(answer["id"], id.as_str(), "answered with its own record");
                    valid.push(id);
                }
                403 => assert!(
                    answer["error"]["message"].as_str().unwrap().contains("owner_id"),
                    "{id}: {answer:#}"
                ),
                _ => {
                    let message = answer["error"]["message"].as_str().unwrap().to_string();
                    assert!(
                        message.contains("telegram") || message.contains("no-such-account"),
                        "{id}: its own problem, not another request's: {message}"
                    );
                }
            }
        }
    }
    // 96 requests, one in four valid.
    assert_eq!(valid.len(), 24);
    valid.sort();
    let mut stored: Vec<String> = app
        .all("activities", "")
        .await
        .iter()
        .filter_map(|a| a["id"].as_str().filter(|id| id.starts_with('g')).map(str::to_string))
        .collect();
    stored.sort();
    assert_eq!(stored, valid);
    assert_eq!(activity_audit_rows(&app) - audited_before, 24);
}

fn activity_audit_rows(app: &TestApp) -> usize {
    let query = traction_store::AuditQuery {
        entity: Some("activities".into()),
        limit: 100_000,
        ..Default::default()
    };
    app.store.audit_log(&query).unwrap().len()
}
