//! Targets as issues 22 and 24 fixed them, through the API: values checked against their
//! metric, one target per metric, scope and period start, the KPI selection (current targets by
//! default, `all`, `period`, `starts_on`), finished periods achieved or missed, and the needed
//! rates for the scope and per head.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::kpis::team_with_target;

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
