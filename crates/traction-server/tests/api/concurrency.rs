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
