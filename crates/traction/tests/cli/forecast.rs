//! `traction forecast METRIC`, `forecast history METRIC` and `forecast pipeline` through the
//! binary (spec: monitoring.md, Forecasts).

use crate::util::Env;

/// Calls per weekday, Monday first: a known weekly pattern.
const PATTERN: [i64; 7] = [6, 8, 7, 9, 5, 1, 0];

/// The calls on day `d` after Monday 5 January 2026: the pattern plus one more a day per week
/// (a trend).
fn calls(d: i64) -> i64 {
    PATTERN[(d % 7) as usize] + d / 7
}

/// A rep and `days` days of calls from Monday 5 January 2026 (UTC, the default zone).
fn env(days: i64) -> Env {
    let env = Env::new();
    env.ok(&["import", "users", env.file("users.csv", "id,name\nu1,Ann\n").to_str().unwrap()]);
    let mut csv = String::from("id,kind,occurred_at,owner_id\n");
    let start = jiff::civil::date(2026, 1, 5);
    for d in 0..days {
        let date = start.checked_add(jiff::Span::new().days(d)).unwrap();
        for n in 0..calls(d) {
            csv.push_str(&format!("a{d}-{n},call,{date}T{:02}:00:00Z,u1\n", 9 + n % 8));
        }
    }
    env.ok(&["import", "activities", env.file("activities.csv", &csv).to_str().unwrap()]);
    env
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_daily_forecast_with_its_backtest_beats_seasonal_naive() {
    // 16 weeks: 5 January – 26 April 2026; the forecast is made on Monday 27 April at noon.
    let env = env(112);
    let out = json(&env.ok(&[
        "forecast",
        "calls_made",
        "--at",
        "2026-04-27T12:00:00Z",
        "--horizon",
        "7",
        "--level",
        "0.95",
        "--format",
        "json",
    ]));
    assert_eq!(out["metric"], "calls_made");
    assert_eq!(out["grain"], "day");
    assert_eq!(out["level"], 0.95);
    assert_eq!(out["history"], serde_json::json!({"from": "2026-01-05", "buckets": 112}));
    let rows = out["rows"].as_array().unwrap();
    let periods: Vec<&str> = rows.iter().map(|r| r["period"].as_str().unwrap()).collect();
    assert_eq!(
        periods,
        [
            "2026-04-27",
            "2026-04-28",
            "2026-04-29",
            "2026-04-30",
            "2026-05-01",
            "2026-05-02",
            "2026-05-03"
        ]
    );
    // Week 16 (d = 112…118): Monday 6 + 16 = 22, Thursday 9 + 16 = 25, Sunday 0 + 16. The
    // forecast is near each (this series has no noise, so the interval is narrow: its
    // coverage is tested on a noisy series in the forecast crate).
    for (idx, row) in rows.iter().enumerate() {
        let expected = calls(112 + idx as i64) as f64;
        let (value, low, high) = (
            row["value"].as_f64().unwrap(),
            row["low"].as_f64().unwrap(),
            row["high"].as_f64().unwrap(),
        );
        assert!((value - expected).abs() <= 3.0, "day {idx}: {value} against {expected}");
        assert!(low <= value && value <= high, "day {idx}: {value} outside [{low}, {high}]");
        assert!(low >= 0.0, "a count never goes below zero");
    }
    let backtest = &out["backtest"];
    assert_eq!((backtest["folds"].as_i64(), backtest["horizon"].as_i64()), (Some(8), Some(7)));
    assert_eq!(backtest["baseline"], "seasonal_naive");
    let (wape, baseline) =
        (backtest["wape"].as_f64().unwrap(), backtest["baseline_wape"].as_f64().unwrap());
    // Seasonal naive misses the trend by one call a day a week later: 7 of about 140 calls
    // a week, about 5%; the model follows the trend.
    assert!(baseline > 0.03, "{backtest}");
    assert!(wape < baseline, "the model ({wape}) must beat seasonal naive ({baseline})");
    assert!(backtest["mape"].is_number() && backtest["mase"].is_number());

    // The table shows the same rows and says how far to trust them.
    let table = env.ok(&[
        "forecast",
        "calls_made",
        "--at",
        "2026-04-27T12:00:00Z",
        "--horizon",
        "7",
        "--format",
        "table",
    ]);
    assert!(
        table.contains("2026-05-03") && table.contains("backtest: 8 folds of 7 days"),
        "{table}"
    );
}

#[test]
fn shown_forecasts_are_kept_and_set_against_what_happened() {
    let env = env(126);
    // Forecast on Monday 13 April (day 98) for 7 days; shown, so kept.
    env.ok(&[
        "forecast",
        "calls_made",
        "--at",
        "2026-04-13T08:00:00Z",
        "--horizon",
        "7",
        "--format",
        "json",
    ]);
    // Shown again in the same hour: still one kept.
    env.ok(&[
        "forecast",
        "calls_made",
        "--at",
        "2026-04-13T08:30:00Z",
        "--horizon",
        "7",
        "--format",
        "json",
    ]);
    let past = json(&env.ok(&[
        "forecast",
        "history",
        "calls_made",
        "--at",
        "2026-04-17T12:00:00Z",
        "--format",
        "json",
    ]));
    let rows = past["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "{past}");
    // 13–16 April are complete by the 17th at noon: their actuals are the calls of days
    // 98–101 (14 week: Monday 6 + 14 = 20, 22, 21, 23); the 17th is not complete yet.
    let actuals: Vec<Option<i64>> =
        rows.iter().map(|r| r["actual"].as_f64().map(|a| a as i64)).collect();
    assert_eq!(actuals, [Some(20), Some(22), Some(21), Some(23), None, None, None]);
    assert_eq!(rows[0]["period"], "2026-04-13");
    // The same forecast shown again wrote nothing: the first showing is kept.
    assert_eq!(rows[0]["made_at"], "2026-04-13T08:00:00+00:00");
    assert!(rows[0]["inside"].is_boolean() && rows[4]["inside"].is_null());
    // Another scope has no history.
    let none = json(&env.ok(&[
        "forecast",
        "history",
        "calls_made",
        "--scope",
        "user:u1",
        "--at",
        "2026-04-17",
    ]));
    assert_eq!(none["rows"], serde_json::json!([]));
}

#[test]
fn bad_forecast_requests_are_clear_errors() {
    let env = env(35);
    let cases: &[(&[&str], &str)] = &[
        // 5 weeks of history: too short, and the error says how much there is.
        (
            &["forecast", "calls_made", "--at", "2026-02-09T12:00:00Z"],
            "has 35 complete days of history (since 2026-01-05): a forecast needs at least 8 weeks",
        ),
        (&["forecast", "call_success_rate", "--at", "2026-02-09"], "needs an additive metric"),
        (&["forecast", "no_such_metric"], "no metric named \"no_such_metric\""),
        (
            &["forecast", "calls_made", "--level", "1.5"],
            "--level: \"1.5\" is not a level between 0 and 1",
        ),
        (
            &["forecast", "calls_made", "--grain", "month"],
            "--grain: \"month\" cannot be forecast: use day or week",
        ),
        (
            &["forecast", "calls_made", "--horizon", "0"],
            "--horizon: \"0\" is not a number of days from 1 to 366",
        ),
        (&["forecast", "calls_made", "--scope", "team:nowhere"], "no team \"nowhere\""),
        (&["forecast", "history"], "forecast history needs a metric"),
        (&["forecast", "pipeline", "--period", "year"], "\"year\" is not month or quarter"),
    ];
    for (args, message) in cases {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    // Nothing was kept by a refused forecast.
    let past = json(&env.ok(&["forecast", "history", "calls_made", "--format", "json"]));
    assert_eq!(past["rows"], serde_json::json!([]));
}

#[test]
fn the_pipeline_forecast_weighs_open_deals_by_configured_and_historical_rates() {
    let env = Env::new();
    let files = [
        ("users", "id,name\nu1,Ann\nu2,Bob\n"),
        ("pipelines", "id,name\np1,Sales\n"),
        (
            "stages",
            "id,pipeline_id,name,position,kind,probability\n\
             s1,p1,Qualified,1,open,0.2\ns2,p1,Proposal,2,open,\nwon,p1,Won,3,won,\nlost,p1,Lost,4,lost,\n",
        ),
        // Open in November 2026: d1 (s1, 1,000, closes 20 Nov), d2 (s2, 4,000, 25 Nov),
        // d3 (s2, 2,000, overdue since 20 Oct: counts), d4 (s2, 9,000, December: does not),
        // d5 (s1, no close date). Closed in the 12 months before: d6 won and d7 lost, both
        // through s1 and s2; d8 lost from s1 only; d9 won in 2024 (too old).
        (
            "deals",
            "id,pipeline_id,stage_id,owner_id,amount,created_at,expected_close_on,closed_at\n\
             d1,p1,s1,u1,1000,2026-10-01,2026-11-20,\n\
             d2,p1,s2,u1,4000,2026-10-01,2026-11-25,\n\
             d3,p1,s2,u2,2000,2026-09-01,2026-10-20,\n\
             d4,p1,s2,u1,9000,2026-10-01,2026-12-10,\n\
             d5,p1,s1,u1,500,2026-10-01,,\n\
             d6,p1,won,u1,100,2026-03-01,,2026-05-01\n\
             d7,p1,lost,u1,100,2026-03-01,,2026-06-01\n\
             d8,p1,lost,u2,100,2026-03-01,,2026-06-01\n\
             d9,p1,won,u2,100,2024-03-01,,2024-05-01\n",
        ),
        (
            "stage_changes",
            "deal_id,stage_id,changed_at\n\
             d6,s1,2026-03-01\nd6,s2,2026-04-01\nd6,won,2026-05-01\n\
             d7,s1,2026-03-01\nd7,s2,2026-04-01\nd7,lost,2026-06-01\n\
             d8,s1,2026-03-01\nd8,lost,2026-06-01\n\
             d9,s1,2024-03-01\nd9,s2,2024-04-01\nd9,won,2024-05-01\n",
        ),
    ];
    for (entity, csv) in files {
        let path = env.file(&format!("{entity}.csv"), csv);
        env.ok(&["import", entity, path.to_str().unwrap()]);
    }
    let out = json(&env.ok(&[
        "forecast",
        "pipeline",
        "--at",
        "2026-11-10T12:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(
        (out["from"].as_str(), out["to"].as_str()),
        (Some("2026-11-01"), Some("2026-12-01"))
    );
    let rows = out["rows"].as_array().unwrap();
    // s1: d1 (1,000) at 0.2 → 200; historical: d6 won, d7 and d8 lost → 1/3 → 333.33….
    assert_eq!(rows[0]["deal_ids"], serde_json::json!(["d1"]));
    assert_eq!(rows[0]["amount"], 1000.0);
    assert_eq!(rows[0]["probability"], 0.2);
    assert!((rows[0]["historical_win_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert!((rows[0]["weighted_historical"].as_f64().unwrap() - 1000.0 / 3.0).abs() < 1e-9);
    // s2: d2 + d3 = 6,000; no probability given: the 2nd of 2 open stages, 2/3 → 4,000;
    // historical: d6 won, d7 lost → 1/2 → 3,000.
    assert_eq!(rows[1]["deal_ids"], serde_json::json!(["d2", "d3"]));
    assert_eq!(rows[1]["amount"], 6000.0);
    assert!((rows[1]["weighted_configured"].as_f64().unwrap() - 4000.0).abs() < 1e-9);
    assert_eq!(rows[1]["historical_win_rate"], 0.5);
    assert_eq!(rows[1]["weighted_historical"], 3000.0);
    assert_eq!(out["total"]["amount"], 7000.0);
    assert!((out["total"]["weighted_configured"].as_f64().unwrap() - 4200.0).abs() < 1e-9);
    assert!(
        (out["total"]["weighted_historical"].as_f64().unwrap() - (3000.0 + 1000.0 / 3.0)).abs()
            < 1e-9
    );
    assert_eq!(out["without_close_date"], 1);
    // Bob's scope: d3 only.
    let bob = json(&env.ok(&[
        "forecast",
        "pipeline",
        "--scope",
        "user:u2",
        "--at",
        "2026-11-10T12:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(bob["total"]["amount"], 2000.0);
}

#[test]
fn a_kpi_row_carries_the_forecast_of_where_it_lands() {
    // 16 weeks of calls to Sunday 26 April; an April target on calls, asked on Monday 27 at
    // 12:00 (Mon–Fri 09:00–17:00, the default calendar).
    let env = env(112);
    env.ok(&[
        "target",
        "set",
        "--id",
        "t-calls",
        "--metric",
        "calls_made",
        "--scope",
        "company",
        "--period",
        "month",
        "--starts-on",
        "2026-04-01",
        "--value",
        "600",
    ]);
    let status =
        json(&env.ok(&["kpi", "status", "--at", "2026-04-27T12:00:00Z", "--format", "json"]));
    let row = &status["rows"][0];
    // Actual: the calls of 1–26 April (days 86–111); the series stops there, so none yet on
    // Monday 27.
    let actual: i64 = (86..112).map(calls).sum::<i64>();
    assert_eq!(row["actual"].as_f64(), Some(actual as f64));
    // The rest in working time: Monday from noon (5 of 8 working hours of 22 calls), and
    // Tuesday 28 (24), Wednesday 29 (23), Thursday 30 (25) in full: about 85.75.
    let forecast = &row["forecast"];
    let (value, low, high) = (
        forecast["value"].as_f64().unwrap(),
        forecast["low"].as_f64().unwrap(),
        forecast["high"].as_f64().unwrap(),
    );
    let expected = actual as f64 + 22.0 * 5.0 / 8.0 + 24.0 + 23.0 + 25.0;
    assert!((value - expected).abs() < 4.0, "{value} against {expected}");
    assert!(low <= value && value <= high);
    // `projected` stays the run rate, a different figure.
    assert!(row["projected"].is_number() && row["projected"] != forecast["value"]);
    // The daily forecast behind it was shown, so it is kept.
    let past =
        json(&env.ok(&["forecast", "history", "calls_made", "--at", "2026-04-27T13:00:00Z"]));
    assert!(!past["rows"].as_array().unwrap().is_empty());
}

/// Issue 16 point 2: a KPI's forecast carries its backtest — in the JSON, the table and the
/// report. Worked by hand: the daily forecast covers Monday 27 April to Saturday 2 May (the 4
/// days to the period's end and two over: 6), and 112 days of history hold 8 folds of up to
/// (112 − 56) / 8 = 7 days, so the folds are 6 days: days 64–111. Seasonal naive forecasts each
/// day as the same weekday a week before, which the trend makes exactly 1 call short every day:
/// its WAPE is 48 / (the calls of days 64–111).
#[test]
fn a_kpi_forecast_comes_with_its_backtest_in_json_table_and_report() {
    let env = env(112);
    env.ok(&[
        "target",
        "set",
        "--id",
        "t-calls",
        "--metric",
        "calls_made",
        "--scope",
        "company",
        "--period",
        "month",
        "--starts-on",
        "2026-04-01",
        "--value",
        "600",
    ]);
    let at = "2026-04-27T12:00:00Z";
    let status = json(&env.ok(&["kpi", "status", "--at", at, "--format", "json"]));
    let backtest = &status["rows"][0]["forecast"]["backtest"];
    assert_eq!((backtest["folds"].as_u64(), backtest["horizon"].as_u64()), (Some(8), Some(6)));
    assert_eq!(backtest["baseline"], "seasonal_naive");
    let naive = 48.0 / (64..112).map(calls).sum::<i64>() as f64;
    let baseline = backtest["baseline_wape"].as_f64().unwrap();
    assert!((baseline - naive).abs() < 1e-12, "{baseline} against {naive}");
    // The model follows the trend, so it beats seasonal naive.
    assert!(backtest["wape"].as_f64().unwrap() < naive, "{backtest}");
    // Read back from the forecast kept today: the same figures, not rerun differently.
    let again =
        json(&env.ok(&["kpi", "status", "--at", "2026-04-27T15:00:00Z", "--format", "json"]));
    assert_eq!(&again["rows"][0]["forecast"]["backtest"], backtest);
    // The table shows the forecast and its backtest (WAPE, and seasonal naive's in brackets).
    let naive_text = format!("({:.1}%)", naive * 100.0);
    let table = env.ok(&["kpi", "status", "--at", at, "--format", "table"]);
    assert!(table.contains("forecast (80%)") && table.contains("backtest wape (naive)"), "{table}");
    assert!(table.contains(&naive_text), "{table}");
    // The report, in Markdown and HTML: the forecast beside the run rate, and its backtest.
    let report = |format: &str| {
        env.ok(&[
            "report",
            "--from",
            "2026-04-01",
            "--to",
            "2026-05-01",
            "--at",
            at,
            "--format",
            format,
        ])
    };
    let md = report("md");
    assert!(md.contains("| projected (run rate) | forecast (80%) |"), "{md}");
    let trust = format!("seasonal naive {:.1}%), 8 folds of 6 days", naive * 100.0);
    assert!(md.contains("forecast backtest: off by") && md.contains(&trust), "{md}");
    let html = report("html");
    assert!(html.contains("forecast ") && html.contains(&trust), "{html}");
    let report_json = json(&report("json"));
    assert_eq!(&report_json["kpis"][0]["forecast"]["backtest"], backtest);
}

#[test]
fn an_anomaly_rule_fires_on_a_day_outside_its_forecast_interval() {
    // 16 weeks of calls to Sunday 26 April, and 60 more calls that Sunday (usually 0 + 15).
    let env = env(112);
    let mut csv = String::from("id,kind,occurred_at,owner_id\n");
    for n in 0..60 {
        csv.push_str(&format!("spike{n},call,2026-04-26T10:{:02}:00Z,u1\n", n));
    }
    env.ok(&["import", "activities", env.file("spike.csv", &csv).to_str().unwrap()]);
    env.ok(&["channel", "add", "--id", "me", "--user", "u1"]);
    env.ok(&[
        "alert",
        "add",
        "--id",
        "calls",
        "--kind",
        "anomaly",
        "--metric",
        "calls_made",
        "--channel",
        "me",
        "--at",
        "2026-04-26T08:00:00Z",
    ]);
    // Monday 27 April: the last complete day is Sunday 26th, 75 calls against about 15.
    let out = json(&env.ok(&["alert", "eval", "--at", "2026-04-27T08:00:00Z", "--format", "json"]));
    let text = out.to_string();
    assert!(text.contains("firing"), "{text}");
    assert!(text.contains("on 2026-04-26 was 75, above its 80% forecast interval"), "{text}");
    // The notification carries why it moved (monitoring.md): against Saturday 25 April's 16 calls
    // (pattern 1 + 15 weeks), 75 − 16 = +59, all of it Ann's.
    let notes = env.ok(&["notifications", "--format", "json"]);
    assert!(notes.contains("Calls made +59"), "{notes}");
    assert!(notes.contains("Ann"), "{notes}");
}
