//! The KPI endpoints over data written through the API: the worked example of kpis.md (revenue
//! won 84,000 for a team of 4 reps in November 2026, Mon–Fri 09:00–17:00).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

pub(crate) async fn team_with_target(app: &TestApp) {
    app.create("teams", json!({"id": "north", "name": "North"})).await;
    let rep = |id: &str| json!({"id": id, "name": id, "team_id": "north", "role": "rep", "created_at": "2026-01-01"});
    app.create("users", json!([rep("u1"), rep("u2"), rep("u3"), rep("u4")])).await;
    app.create("pipelines", json!({"id": "p1", "name": "Sales"})).await;
    app.create(
        "stages",
        json!([
            {"id": "q", "pipeline_id": "p1", "name": "Qualified", "position": 1},
            {"id": "w", "pipeline_id": "p1", "name": "Won", "position": 2, "kind": "won"},
            {"id": "l", "pipeline_id": "p1", "name": "Lost", "position": 3, "kind": "lost"}
        ]),
    )
    .await;
    app.create(
        "deals",
        json!({"id": "d1", "pipeline_id": "p1", "stage_id": "w", "owner_id": "u1", "amount": "27000.00",
               "created_at": "2026-10-01", "closed_at": "2026-11-03T10:00:00Z"}),
    )
    .await;
    app.create(
        "targets",
        json!({"id": "t-1", "metric": "revenue_won", "scope": "team:north", "period": "month",
               "starts_on": "2026-11-01", "value": "84000"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdown_status_leaderboard_and_report() {
    let app = TestApp::spawn().await;
    team_with_target(&app).await;
    // 4,000 a working day for the team; 1,000 per rep.
    let days = app.get("/api/v1/kpis/t-1/breakdown?grain=day").await;
    assert_eq!(days.status, StatusCode::OK, "{:#}", days.body);
    assert_eq!(days.body["rows"][1], json!({"period": "2026-11-02", "value": 4000.0}));
    let heads = app.get("/api/v1/kpis/t-1/breakdown?grain=day&per_head=true").await;
    assert_eq!(
        heads.body["rows"][4],
        json!({"period": "2026-11-02", "user": "u1", "value": 1000.0})
    );
    // At 11 November 13:00 UTC, 60 of 168 working hours are gone: expected 30,000, actual 27,000.
    let status = app.get("/api/v1/kpis?at=2026-11-11T13:00:00Z").await;
    assert_eq!(status.status, StatusCode::OK, "{:#}", status.body);
    let row = &status.body["rows"][0];
    assert_eq!((row["actual"].as_f64(), row["expected"].as_f64()), (Some(27000.0), Some(30000.0)));
    assert_eq!(row["status"], "on_track");
    let board = app.get("/api/v1/kpis/t-1/leaderboard?at=2026-11-11T13:00:00Z").await;
    assert_eq!(board.body["rows"][0]["user"], "u1");
    assert_eq!(board.body["rows"][0]["band"], "over");
    let report = app
        .get(
            "/api/v1/report?from=2026-11-01&to=2026-12-01&scope=team:north&at=2026-11-11T13:00:00Z",
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{:#}", report.body);
    assert_eq!(report.body["kpis"][0]["target"], "t-1");
    let won = report.body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "revenue_won")
        .unwrap();
    assert_eq!(won["value"], 27000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_kpi_requests_are_4xx() {
    let app = TestApp::spawn().await;
    team_with_target(&app).await;
    let unknown = app.get("/api/v1/kpis/t-9/breakdown").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let grain = app.get("/api/v1/kpis/t-1/breakdown?grain=fortnight").await;
    assert_eq!(grain.status, StatusCode::BAD_REQUEST);
    assert!(grain.body["error"]["message"].as_str().unwrap().contains("week, day or hour"));
    let typo = app.get("/api/v1/kpis?scop=company").await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    let range = app.get("/api/v1/report?from=2026-12-01&to=2026-11-01").await;
    assert_eq!(range.status, StatusCode::BAD_REQUEST);
    let format = app.get("/api/v1/report?from=2026-11-01&to=2026-12-01&format=pdf").await;
    assert_eq!(format.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_on_an_unknown_metric_is_refused() {
    let app = TestApp::spawn().await;
    team_with_target(&app).await;
    let bad = json!({"id": "t-2", "metric": "revenue_wonn", "scope": "company", "period": "month",
                     "starts_on": "2026-11-01", "value": "1"});
    let answer = app.post("/api/v1/targets", &bad).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", answer.body);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"revenue_wonn\" is not a metric")
    );
    let patched = app.patch("/api/v1/targets/t-1", &json!({"metric": "nope"})).await;
    assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count(traction_domain::Entity::Targets), 1, "nothing was stored");
}
