//! The forecast endpoints (monitoring.md, Forecasts): a metric's forecast with its backtest,
//! its kept history, the pipeline forecast, bad requests and the scope rule.

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

use crate::helpers::{TestApp, add_user};

/// Ten weeks of calls by u1 from Monday 5 January 2026: 3 a weekday, 1 on Saturdays.
async fn calls(app: &TestApp) {
    app.seed_sales().await;
    let mut rows = Vec::new();
    let start = jiff::civil::date(2026, 1, 5);
    for d in 0..70i64 {
        let date = start.checked_add(jiff::Span::new().days(d)).unwrap();
        let n = match d % 7 {
            0..=4 => 3,
            5 => 1,
            _ => 0,
        };
        for k in 0..n {
            rows.push(json!({"id": format!("c{d}-{k}"), "kind": "call", "owner_id": "u1",
                             "occurred_at": format!("{date}T1{k}:00:00Z")}));
        }
    }
    app.create("activities", Json::Array(rows)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forecast_its_history_and_the_pipeline_over_http() {
    let app = TestApp::spawn().await;
    calls(&app).await;
    // Monday 16 March: 70 complete days of history.
    let at = "2026-03-16T12:00:00Z";
    let made = app.get(&format!("/api/v1/forecast/calls_made?at={at}&horizon=3&level=0.9")).await;
    assert_eq!(made.status, StatusCode::OK, "{:#}", made.body);
    assert_eq!(made.body["history"], json!({"from": "2026-01-05", "buckets": 70}));
    assert_eq!(made.body["level"], 0.9);
    let periods: Vec<&str> = made.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-03-16", "2026-03-17", "2026-03-18"]);
    // A weekday of 3 calls: forecast near 3.
    let monday = made.body["rows"][0]["value"].as_f64().unwrap();
    assert!((monday - 3.0).abs() < 0.5, "{monday}");
    assert_eq!(made.body["backtest"]["folds"], 8);
    assert_eq!(made.body["backtest"]["baseline"], "seasonal_naive");

    // Kept: the history shows it against what happened (16 March complete by the 18th).
    let past = app.get("/api/v1/forecast/calls_made/history?at=2026-03-18T00:00:00Z").await;
    assert_eq!(past.status, StatusCode::OK, "{:#}", past.body);
    let rows = past.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    // No calls were recorded after 15 March: the 16th and 17th happened with 0.
    assert_eq!((rows[0]["actual"].as_f64(), rows[1]["actual"].as_f64()), (Some(0.0), Some(0.0)));
    assert_eq!(rows[0]["inside"], false);
    assert!(rows[2]["actual"].is_null());

    let pipeline = app.get(&format!("/api/v1/forecast/pipeline?at={at}&period=quarter")).await;
    assert_eq!(pipeline.status, StatusCode::OK, "{:#}", pipeline.body);
    assert_eq!(pipeline.body["from"], "2026-01-01");
    assert_eq!(pipeline.body["to"], "2026-04-01");
    // p1's and p2's open stages, in order.
    assert_eq!(pipeline.body["rows"].as_array().unwrap().len(), 3);

    // Bad requests: a 400 or 404 in the error shape, nothing kept.
    for (path, status, code) in [
        ("/api/v1/forecast/call_success_rate", 400, "bad_request"),
        ("/api/v1/forecast/nope", 404, "not_found"),
        ("/api/v1/forecast/calls_made?level=2", 400, "bad_request"),
        ("/api/v1/forecast/calls_made?grain=month", 400, "bad_request"),
        ("/api/v1/forecast/calls_made?horizon=x", 400, "bad_request"),
        ("/api/v1/forecast/calls_made?hoizon=3", 400, "bad_request"),
        ("/api/v1/forecast/calls_made?at=2026-01-20", 400, "bad_request"),
        ("/api/v1/forecast/pipeline?period=year", 400, "bad_request"),
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status.as_u16(), status, "{path}: {:#}", answer.body);
        answer.error(status, code);
    }
    let too_short = app.get("/api/v1/forecast/calls_made?at=2026-01-20").await;
    assert!(too_short.body["error"]["message"].as_str().unwrap().contains("15 complete days"));

    // A rep of another team may forecast the company, not team t1.
    let rep = add_user(&*app.store, "r9", "rep", None);
    let ask = |path: String| {
        let req = app.anonymous.request(Method::GET, app.url(&path)).bearer_auth(rep.clone());
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(ask(format!("/api/v1/forecast/calls_made?at={at}")).await, StatusCode::OK);
    assert_eq!(
        ask(format!("/api/v1/forecast/calls_made?at={at}&scope=team:t1")).await,
        StatusCode::FORBIDDEN
    );
}

/// Issue 16: every KPI forecast comes with its backtest, made once a day and kept; a request
/// makes at most `REQUEST_BACKTESTS` (3) of them, so the first list of the day of many targets
/// answers in time, and the next request makes the rest. Four metric-and-scope pairs here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_forecasts_get_their_backtests_a_few_per_request() {
    let app = TestApp::spawn().await;
    calls(&app).await;
    for (id, metric, scope) in [
        ("t1", "calls_made", "company"),
        ("t2", "calls_made", "user:u1"),
        ("t3", "activities", "company"),
        ("t4", "activities", "user:u1"),
    ] {
        let r = app
            .post(
                "/api/v1/targets",
                &json!({"id": id, "metric": metric, "scope": scope, "period": "month",
                        "starts_on": "2026-03-01", "value": "100"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    let backtests = |body: &Json| -> Vec<Json> {
        body["rows"].as_array().unwrap().iter().map(|r| r["forecast"]["backtest"].clone()).collect()
    };
    let first = app.get("/api/v1/kpis?at=2026-03-16T12:00:00Z").await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    let made = backtests(&first.body);
    assert_eq!(made.len(), 4);
    assert!(first.body["rows"].as_array().unwrap().iter().all(|r| r["forecast"].is_object()));
    assert_eq!(made.iter().filter(|b| b.is_object()).count(), 3, "{made:?}");
    // 70 days of history: folds of (70 − 56) / 8 = 1 day.
    assert!(made.iter().filter(|b| b.is_object()).all(|b| b["folds"] == 8 && b["horizon"] == 1));
    let second = app.get("/api/v1/kpis?at=2026-03-16T12:30:00Z").await;
    let all = backtests(&second.body);
    assert!(all.iter().all(Json::is_object), "{all:?}");
    // Those made first are read back as they were kept.
    for (was, now) in made.iter().zip(&all) {
        if was.is_object() {
            assert_eq!(was, now);
        }
    }
}
