//! The metric endpoints: the catalog, one metric, the funnel — over data written through the API.

use reqwest::StatusCode;
use serde_json::{Value as Json, json};

use crate::helpers::{HOUR, T0, TestApp};

/// Five deals of pipeline p1 created in February 2026 (stages s1 → s2 → won; lost is no step):
/// d1 moves s1 → won at T0 (2 March); d2 is created in s2; d3 moves s1 → lost at T0; d4 stays in
/// s1; d5 is created won, closed 15 February.
async fn deals(app: &TestApp) {
    app.seed_sales().await;
    let deal = |id: &str, stage: &str, closed: Option<&str>| {
        json!({"id": id, "pipeline_id": "p1", "stage_id": stage, "owner_id": "u1", "amount": 100,
               "created_at": "2026-02-02T10:00:00Z", "closed_at": closed})
    };
    app.create(
        "deals",
        json!([
            deal("d1", "s1", None),
            deal("d2", "s2", None),
            deal("d3", "s1", None),
            deal("d4", "s1", None),
            deal("d5", "won", Some("2026-02-15T12:00:00Z"))
        ]),
    )
    .await;
    for (id, stage) in [("d1", "won"), ("d3", "lost")] {
        let moved =
            app.post(&format!("/api/v1/deals/{id}/move"), &json!({"stage_id": stage})).await;
        assert_eq!(moved.status, StatusCode::OK, "{:#}", moved.body);
    }
    // Queries run an hour after the moves.
    app.set_now(T0 + HOUR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_lists_the_metrics() {
    let app = TestApp::spawn().await;
    let catalog = app.get("/api/v1/metrics").await;
    assert_eq!(catalog.status, StatusCode::OK);
    let items = catalog.body["items"].as_array().unwrap();
    let won = items.iter().find(|m| m["name"] == "deals_won").expect("deals_won is built in");
    assert_eq!(won["indicator"], "lagging");
    assert_eq!(won["unit"], "count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_counts_what_the_api_wrote() {
    let app = TestApp::spawn().await;
    deals(&app).await;
    let answer =
        app.get("/api/v1/metrics/deals_won?from=2026-02-01&to=2026-04-01&grain=month").await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["metric"], "deals_won");
    // d5 closed in February, d1 in March (its move at T0); d3 was lost.
    let rows: Vec<(String, f64)> = answer.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["period"].as_str().unwrap().to_string(), r["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(rows, [("2026-02-01".to_string(), 1.0), ("2026-03-01".to_string(), 1.0)]);
    // With a where, over the whole range: amount >= 100 keeps both won deals, > 100 neither.
    let both = app
        .get("/api/v1/metrics/deals_won?from=2026-02-01&to=2026-04-01&where=amount%20%3E%3D%20100")
        .await;
    assert_eq!(both.body["rows"][0]["value"].as_f64(), Some(2.0), "{:#}", both.body);
    let none = app
        .get("/api/v1/metrics/deals_won?from=2026-02-01&to=2026-04-01&where=amount%20%3E%20100")
        .await;
    assert_eq!(none.body["rows"], json!([]), "{:#}", none.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funnel_follows_the_stage_history() {
    let app = TestApp::spawn().await;
    deals(&app).await;
    let answer = app.get("/api/v1/funnel?pipeline=p1&from=2026-02-01&to=2026-03-01").await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let rows = answer.body["rows"].as_array().unwrap();
    let reached: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| (r["stage"].as_str().unwrap(), r["reached"].as_i64().unwrap()))
        .collect();
    // Reached = entered the stage or a later one: s1 all five; s2 d1, d2, d5 (won is later than
    // every open stage); won d1 and d5.
    assert_eq!(reached, [("s1", 5), ("s2", 3), ("won", 2)]);
    assert_eq!(rows[0]["conversion_to_next"].as_f64(), Some(0.6));
    let second: f64 = rows[1]["conversion_to_next"].as_f64().unwrap();
    assert!((second - 2.0 / 3.0).abs() < 1e-12, "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_mistakes_are_client_errors() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/metrics/nope?from=2026-01-01&to=2026-02-01").await.error(404, "not_found");
    let missing = app.get("/api/v1/metrics/deals_won?from=2026-01-01").await;
    missing.error(400, "bad_request");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("to"));
    app.get("/api/v1/metrics/deals_won?from=2026-01-01&to=2026-02-01&colour=red")
        .await
        .error(400, "bad_request");
    app.get("/api/v1/metrics/deals_won?from=2026-01-01&to=2026-02-01&by=shoe_size")
        .await
        .error(400, "bad_request");
    app.get("/api/v1/funnel?from=2026-01-01").await.error(400, "bad_request");
    let _: Json = app.get("/api/v1/funnel?from=2026-01-01&to=2026-02-01&pipeline=nope").await.body;
}

/// Issue 22.1: `compare=previous|yoy` on a period in progress takes the same stretch of the
/// compared period and says which; the report compares the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_a_period_in_progress_is_compared_like_for_like() {
    let app = TestApp::spawn().await;
    let lead = |id: &str, at: &str| json!({"id": id, "created_at": at, "source": "web"});
    // 3 leads in December so far; 2 in 1 November → 3 November 15:00 (n3 is at 15:00 and n4
    // later in November); 1 in 1 December 2025 → 3 December 2025 15:00 (y2 is after).
    app.create(
        "leads",
        json!([
            lead("n1", "2026-11-01T09:00:00Z"),
            lead("n2", "2026-11-03T14:59:00Z"),
            lead("n3", "2026-11-03T15:00:00Z"),
            lead("n4", "2026-11-20T10:00:00Z"),
            lead("d1", "2026-12-01T10:00:00Z"),
            lead("d2", "2026-12-02T11:00:00Z"),
            lead("d3", "2026-12-03T09:00:00Z"),
            lead("y1", "2025-12-02T10:00:00Z"),
            lead("y2", "2025-12-03T16:00:00Z")
        ]),
    )
    .await;
    let at = "2026-12-03T15:00:00Z";
    for (compare, previous, from, to) in [
        ("previous", 2, "2026-11-01", "2026-11-03T15:00:00+00:00"),
        ("yoy", 1, "2025-12-01", "2025-12-03T15:00:00+00:00"),
    ] {
        for grain in ["month", "all"] {
            let answer = app
                .get(&format!(
                    "/api/v1/metrics/leads_created?from=2026-12-01&to=2027-01-01&grain={grain}&compare={compare}&at={at}"
                ))
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
            let row = &answer.body["rows"][0];
            assert_eq!(
                (&row["value"], &row["previous"], &row["compared_from"], &row["compared_to"]),
                (&json!(3), &json!(previous), &json!(from), &json!(to)),
                "{compare} at grain {grain}: {:#}",
                answer.body
            );
            assert_eq!(row["change"].as_f64(), Some(3.0 / previous as f64 - 1.0));
        }
    }
    let report = app.get(&format!("/api/v1/report?from=2026-12-01&to=2027-01-01&at={at}")).await;
    assert_eq!(report.status, StatusCode::OK, "{:#}", report.body);
    let leads = report.body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "leads_created")
        .expect("leads created in the report");
    assert_eq!(
        (&leads["value"], &leads["previous"], &leads["year_ago"]),
        (&json!(3.0), &json!(2.0), &json!(1.0))
    );
    assert_eq!(
        report.body["compared"]["previous"],
        json!({"from": "2026-11-01", "to": "2026-11-03T15:00:00+00:00", "label": "1–3 Nov 2026 until 15:00"})
    );
    assert_eq!(report.body["compared"]["year_ago"]["label"], "1–3 Dec 2025 until 15:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_splits_a_change_along_drivers_and_segments() {
    let app = TestApp::spawn().await;
    deals(&app).await;
    // Win rate, March against February: February d5 won of 1 closed (1.0); March d1 won and d3
    // lost (0.5): −0.5. Along won × 1/closed: won 1 → 1 adds 0; closed 1 → 2 adds
    // (1/2 − 1) × (1 + 1) / 2 = −0.5. By owner (u1 alone): rate effect (0.5 − 1) × (1 + 1) / 2 =
    // −0.5, mix 0.
    let answer = app
        .get("/api/v1/explain/win_rate?from=2026-03-01&to=2026-04-01&compare=prev&by=owner&at=2026-05-01")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let body = &answer.body;
    assert_eq!(
        body["compare"],
        json!({"kind": "previous", "from": "2026-02-01", "to": "2026-03-01"})
    );
    assert_eq!((body["value"].as_f64(), body["previous"].as_f64()), (Some(0.5), Some(1.0)));
    assert_eq!(body["change"].as_f64(), Some(-0.5));
    let drivers = body["drivers"].as_array().unwrap();
    assert_eq!(drivers[0]["metric"], "deals_won");
    assert_eq!(drivers[0]["contribution"].as_f64(), Some(0.0));
    assert_eq!(drivers[1]["metric"], "deals_closed");
    assert_eq!(drivers[1]["contribution"].as_f64(), Some(-0.5));
    assert_eq!(
        body["segments"],
        json!([{"owner": "u1", "value": 0.5, "previous": 1, "contribution": -0.5,
                "rate_effect": -0.5, "mix_effect": 0}])
    );
    // Bad inputs: an unknown dimension, comparison and metric.
    for (url, status, says) in [
        ("/api/v1/explain/win_rate?from=2026-03-01&to=2026-04-01&by=colour", 400, "colour"),
        (
            "/api/v1/explain/win_rate?from=2026-03-01&to=2026-04-01&compare=sideways",
            400,
            "sideways",
        ),
        ("/api/v1/explain/win_rate?from=2026-03-01&to=2026-04-01&scope=galaxy", 400, "galaxy"),
        ("/api/v1/explain/nope?from=2026-03-01&to=2026-04-01", 404, "nope"),
        ("/api/v1/explain/win_rate?from=2026-03-01", 400, "to is required"),
    ] {
        let answer = app.get(url).await;
        assert_eq!(answer.status.as_u16(), status, "{url}: {:#}", answer.body);
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{url}: {message}");
    }
}
