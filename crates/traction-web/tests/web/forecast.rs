//! Issue 16: a KPI tile says where its target is forecast to land, beside the run rate, with
//! how far to trust the model behind it; the target's page says the same.

use crate::app::App;

/// Ten calls every weekday (at 10:00–10:09 UTC), none at weekends, from Monday 31 August 2026
/// through Monday 23 November 10:09: a weekly pattern the model carries forward.
fn calls_csv() -> String {
    let mut csv = String::from("id,kind,occurred_at,owner_id\n");
    let mut day = jiff::civil::date(2026, 8, 31);
    while day <= jiff::civil::date(2026, 11, 23) {
        if day.weekday().to_monday_one_offset() <= 5 {
            for n in 0..10 {
                csv.push_str(&format!("c-{day}-{n},call,{day}T10:{n:02}:00Z,web-admin\n"));
            }
        }
        day = day.tomorrow().unwrap();
    }
    csv
}

/// The week of Monday 23 November with a target of 50 calls, seen on Monday at 12:00 (the
/// default calendar: Monday to Friday 09:00–17:00 UTC). Worked by hand:
/// - so far: Monday's 10 calls;
/// - the rest in working time: the model's 10 for Monday times the 5 of 8 working hours left
///   (6.25), and 10 for each of Tuesday to Friday (40); none at the weekend;
/// - forecast: 10 + 6.25 + 40 = 56.25.
///
/// The backtest: 84 complete days of history (31 August – 22 November) hold 8 folds of
/// (84 − 56) / 8 = 3 days; seasonal naive repeats the pattern exactly (WAPE 0.0%).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kpi_tile_shows_its_forecast_and_backtest_beside_the_run_rate() {
    let app = App::spawn_empty().await;
    let api = app.api();
    let r = api
        .post(app.url("/api/v1/activities/import"))
        .header("content-type", "text/csv")
        .body(calls_csv())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = api
        .post(app.url("/api/v1/targets"))
        .json(&serde_json::json!({"id": "t-calls", "metric": "calls_made", "scope": "company",
                                  "period": "week", "starts_on": "2026-11-23", "value": "50"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let at = "2026-11-23T12:00:00Z";

    // The API's KPI row: the hand-worked figure, inside its interval, with its backtest.
    let kpis: serde_json::Value = api
        .get(app.url(&format!("/api/v1/kpis?at={at}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = kpis["rows"].as_array().unwrap().iter().find(|r| r["target"] == "t-calls").unwrap();
    assert_eq!(row["actual"], 10.0);
    let forecast = &row["forecast"];
    let value = forecast["value"].as_f64().unwrap();
    assert!((value - 56.25).abs() < 0.5, "forecast {value}, worked by hand 56.25");
    assert!(
        forecast["low"].as_f64().unwrap() <= value && value <= forecast["high"].as_f64().unwrap()
    );
    assert_eq!(
        (forecast["backtest"]["folds"].as_u64(), forecast["backtest"]["horizon"].as_u64()),
        (Some(8), Some(3))
    );
    assert_eq!(forecast["backtest"]["baseline_wape"], 0.0);
    // The run rate is another figure: 10 calls in 3 of 40 working hours → 10 × 40 / 3.
    let projected = row["projected"].as_f64().unwrap();
    assert!((projected - 400.0 / 3.0).abs() < 1e-9, "{projected}");

    // The dashboard's tile: the same forecast (a count with one decimal), labelled apart from
    // the run rate, with its backtest.
    let page = api.get(app.url(&format!("/?period=week&at={at}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    let tile = &body[body.find("id=\"kpi-t-calls\"").expect("the calls tile")..];
    let tile = &tile[..tile.find("</article>").unwrap()];
    assert!(tile.contains("Projected (run rate) 133.3 of 50"), "{tile}");
    let shown = tile
        .split("Forecast ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("a forecast on the tile");
    assert_eq!(shown, format!("{value:.1}"), "{tile}");
    let shown: f64 = shown.parse().unwrap();
    assert!((shown - 56.25).abs() < 0.5, "{tile}");
    assert!(tile.contains(", 80%)"), "{tile}");
    assert!(tile.contains("(seasonal naive 0.0%), 8 folds of 3 days"), "{tile}");

    // The target's page: the forecast and how far to trust it.
    let page = api.get(app.url(&format!("/targets/t-calls?at={at}"))).send().await.unwrap();
    let body = page.text().await.unwrap();
    assert!(body.contains("<dt>Forecast</dt>") && body.contains("How far to trust it"), "{body}");
    assert!(body.contains("(seasonal naive 0.0%), 8 folds of 3 days"), "{body}");
}
