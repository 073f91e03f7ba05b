//! Metrics defined in the app (issue 20): a definition checked as it is typed, stored through
//! the API, answered by the metric endpoint at once (no restart), used by a target and an alert
//! rule, and then protected from changes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

const BIG_LUNCHES: &str = "[metric.big_lunches]\nlabel = \"Big lunches\"\nkind = \"aggregate\"\n\
    source = \"events\"\ntime = \"occurred_at\"\nmeasure = \"count\"\n\
    filter = \"kind = 'meals_served' and quantity >= 60\"\nunit = \"count\"\nbetter = \"higher\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_made_in_the_app_is_checked_used_and_protected() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    app.post(
        "/api/v1/events",
        &json!([
            {"id": "e1", "kind": "meals_served", "occurred_at": "2026-03-02T13:00:00Z", "quantity": 60, "owner_id": "u1"},
            {"id": "e2", "kind": "meals_served", "occurred_at": "2026-03-03T13:00:00Z", "quantity": 45, "owner_id": "u1"},
            {"id": "e3", "kind": "meals_served", "occurred_at": "2026-03-04T13:00:00Z", "quantity": 75, "owner_id": "u2"}
        ]),
    )
    .await;
    // Checked as typed: every problem at its field, nothing stored.
    let typo = BIG_LUNCHES
        .replace("quantity >=", "quantiti >=")
        .replace("\"count\"\nbetter", "\"lunches\"\nbetter");
    let checked = app.post("/api/v1/metric-definitions/check", &json!({"definition": typo})).await;
    assert_eq!(checked.status, StatusCode::OK, "{:#}", checked.body);
    assert_eq!(checked.body["name"], "big_lunches");
    let fields: Vec<&str> = checked.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"unit") && fields.contains(&"filter"), "{:#}", checked.body);
    // A preview on the stored data before saving: 60 and 75 are big lunches, 45 is not.
    let preview = app
        .post(
            "/api/v1/metric-definitions/check",
            &json!({"definition": BIG_LUNCHES, "from": "2026-03-01", "to": "2026-04-01"}),
        )
        .await;
    assert_eq!(preview.body["problems"], json!([]));
    assert_eq!(preview.body["preview"]["rows"][0]["value"], 2.0);
    let refused = app.post("/api/v1/metric-definitions", &json!({"definition": typo})).await;
    assert!(refused.error(422, "invalid_record").len() >= 2);
    assert_eq!(app.get("/api/v1/metric-definitions").await.body["items"], json!([]));
    // Stored, and answered at once by the metric endpoint and listed in the catalog.
    let created = app.post("/api/v1/metric-definitions", &json!({"definition": BIG_LUNCHES})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(created.body["metric"]["label"], "Big lunches");
    let month = app.get("/api/v1/metrics/big_lunches?from=2026-03-01&to=2026-04-01").await;
    assert_eq!(month.status, StatusCode::OK, "{:#}", month.body);
    assert_eq!(month.body["rows"][0]["value"], 2.0);
    let catalog = app.get("/api/v1/metrics").await;
    assert!(catalog.body["items"].as_array().unwrap().iter().any(|m| m["name"] == "big_lunches"));
    // The kind's own metric is there too: 60 + 45 + 75 meals.
    let meals = app.get("/api/v1/metrics/meals_served?from=2026-03-01&to=2026-04-01").await;
    assert_eq!(meals.body["rows"][0]["value"], 180.0);
    // A built-in name is a conflict.
    let builtin = app
        .post(
            "/api/v1/metric-definitions",
            &json!({"definition": BIG_LUNCHES.replace("big_lunches", "orders")}),
        )
        .await;
    builtin.error(409, "conflict");
    // Used by a target and an alert rule: a change or a deletion is refused with the list.
    let target = app
        .post(
            "/api/v1/targets",
            &json!({"id": "t-lunch", "metric": "big_lunches", "scope": "company", "period": "month",
                    "starts_on": "2026-03-01", "value": 20}),
        )
        .await;
    assert_eq!(target.status, StatusCode::CREATED, "{:#}", target.body);
    app.post("/api/v1/channels", &json!({"id": "hook", "webhook": "http://127.0.0.1:9/hook"}))
        .await;
    let rule = app
        .post(
            "/api/v1/alert-rules",
            &json!({"id": "few-lunches", "kind": "threshold", "metric": "big_lunches", "scope": "company",
                    "window": "7d", "op": "<", "value": 1, "channels": ["hook"]}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{:#}", rule.body);
    let changed = BIG_LUNCHES.replace(">= 60", ">= 70");
    let edit =
        app.put("/api/v1/metric-definitions/big_lunches", &json!({"definition": changed})).await;
    edit.error(409, "conflict");
    let message = edit.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("target t-lunch") && message.contains("alert rule few-lunches"),
        "{message}"
    );
    app.delete("/api/v1/metric-definitions/big_lunches").await.error(409, "conflict");
    // A target on a metric that does not exist is refused.
    let unknown = app
        .post(
            "/api/v1/targets",
            &json!({"metric": "small_lunches", "scope": "company", "period": "month",
                    "starts_on": "2026-03-01", "value": 20}),
        )
        .await;
    assert!(unknown.status.is_client_error(), "{:#}", unknown.body);
    // Freed, it changes (70 and more: one lunch) and goes; all of it audited.
    assert_eq!(app.delete("/api/v1/alert-rules/few-lunches").await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete("/api/v1/targets/t-lunch").await.status, StatusCode::NO_CONTENT);
    let edit =
        app.put("/api/v1/metric-definitions/big_lunches", &json!({"definition": changed})).await;
    assert_eq!(edit.status, StatusCode::OK, "{:#}", edit.body);
    let month = app.get("/api/v1/metrics/big_lunches?from=2026-03-01&to=2026-04-01").await;
    assert_eq!(month.body["rows"][0]["value"], 1.0);
    assert_eq!(
        app.delete("/api/v1/metric-definitions/big_lunches").await.status,
        StatusCode::NO_CONTENT
    );
    app.get("/api/v1/metrics/big_lunches?from=2026-03-01&to=2026-04-01")
        .await
        .error(404, "not_found");
    let audit = app.get("/api/v1/audit?entity=metric_definitions").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["metric.delete", "metric.edit", "metric.add"], "{:#}", audit.body);
}
