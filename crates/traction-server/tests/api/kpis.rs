//! The KPI endpoints over data written through the API: the worked example of kpis.md (revenue
//! won 84,000 for a team of 4 reps in November 2026, Mon–Fri 09:00–17:00).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

async fn team_with_target(app: &TestApp) {
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

/// Issue 22.3: a target's value must make sense for its metric, in every way a target is
/// written (create, replace, patch, import), and one target per metric, scope and period start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_3_target_values_are_checked_and_a_duplicate_is_a_conflict() {
    let app = TestApp::spawn().await;
    team_with_target(&app).await;
    let target = |id: &str, metric: &str, value: &str| {
        json!({"id": id, "metric": metric, "scope": "team:north", "period": "month",
               "starts_on": "2026-12-01", "value": value})
    };
    for (metric, value, expect) in [
        ("revenue_won", "-5000", "must be above 0"),
        ("revenue_won", "0", "must be above 0"),
        ("revenue_won", "100.125", "more decimals than USD has (2)"),
        ("win_rate", "25", "for 25% write 0.25"),
        ("win_rate", "1.5", "between 0 and 1"),
        ("customer_retention_rate", "0.6", "no pace can judge it"),
    ] {
        let answer = app.post("/api/v1/targets", &target("t-2", metric, value)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{metric} {value}");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expect), "{metric} {value}: {message}");
        let put = app.put("/api/v1/targets/t-2", &target("t-2", metric, value)).await;
        assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY, "PUT {metric} {value}");
    }
    let patched = app.patch("/api/v1/targets/t-1", &json!({"value": "-1"})).await;
    assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", patched.body);
    assert_eq!(app.count(traction_domain::Entity::Targets), 1, "nothing was stored");
    // A share as a fraction is fine; a second target on November's revenue_won for the team is
    // a conflict that names the first.
    let ok = app.post("/api/v1/targets", &target("t-2", "win_rate", "0.25")).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:#}", ok.body);
    let mut again = target("t-3", "revenue_won", "90000");
    again["starts_on"] = json!("2026-11-01");
    let conflict = app.post("/api/v1/targets", &again).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{:#}", conflict.body);
    assert!(conflict.body["error"]["message"].as_str().unwrap().contains("\"t-1\""));
    // The same check on an import: the line is named and nothing is stored.
    let csv = "id,metric,scope,period,starts_on,value\nt-7,revenue_won,company,month,2027-01-01,5\n\
               t-8,win_rate,company,month,2027-01-01,30\n";
    let import = app
        .raw(reqwest::Method::POST, "/api/v1/targets/import", Some("text/csv"), csv.to_string())
        .await;
    assert_eq!(import.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", import.body);
    assert!(import.body.to_string().contains("for 30% write 0.3"), "{:#}", import.body);
    assert_eq!(app.count(traction_domain::Entity::Targets), 2);
}

/// Issues 24.1, 24.3 and 24.4 through the API: the default status is the targets whose period
/// contains `at`; `all`, `period` and `starts_on` select the rest; a finished period is missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_24_kpis_select_current_targets_and_judge_finished_periods() {
    let app = TestApp::spawn().await;
    team_with_target(&app).await;
    app.create(
        "targets",
        json!({"id": "t-oct", "metric": "deals_won", "scope": "team:north", "period": "month",
               "starts_on": "2026-10-01", "value": "3"}),
    )
    .await;
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["target"].as_str().unwrap().into())
            .collect()
    };
    let now = app.get("/api/v1/kpis?at=2026-11-11T13:00:00Z").await;
    assert_eq!(ids(&now.body), ["t-1"]);
    let all = app.get("/api/v1/kpis?at=2026-11-11T13:00:00Z&all=true").await;
    assert_eq!(ids(&all.body), ["t-1", "t-oct"]);
    // October ended with no deal won of 3: missed, with its final figure.
    let october = app.get("/api/v1/kpis?at=2026-11-11T13:00:00Z&starts_on=2026-10-01").await;
    assert_eq!(ids(&october.body), ["t-oct"]);
    assert_eq!(october.body["rows"][0]["status"], "missed");
    assert_eq!(october.body["rows"][0]["actual"], 0.0);
    // The needed rates: 57,000 left (84,000 − 27,000) over 108 working hours, 4 reps.
    let row = &now.body["rows"][0];
    assert!((row["required_rate_scope"].as_f64().unwrap() - 57_000.0 / 108.0).abs() < 1e-9);
    assert!((row["required_rate"].as_f64().unwrap() - 57_000.0 / 108.0 / 4.0).abs() < 1e-9);
    assert_eq!(row["heads"], 4);
    for bad in ["all=maybe", "period=fortnight", "starts_on=November"] {
        let answer = app.get(&format!("/api/v1/kpis?{bad}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
