//! Targets and KPIs through the real binary, on the worked example of kpis.md: revenue_won
//! 84,000 for a team of 4 reps in November 2026, Mon–Fri 09:00–17:00.

use serde_json::Value;

use crate::util::Env;

pub fn team_of_four() -> Env {
    let env = Env::new();
    let files = [
        ("teams", "id,name\nnorth,North\n"),
        (
            "users",
            "id,name,team_id,role,created_at\nu1,Ann,north,rep,2026-01-01\nu2,Bob,north,rep,2026-01-01\n\
             u3,Cat,north,rep,2026-01-01\nu4,Dan,north,rep,2026-01-01\nm1,Meg,north,manager,2026-01-01\n",
        ),
        ("pipelines", "id,name\np1,Sales\n"),
        (
            "stages",
            "id,pipeline_id,name,position,kind\nq,p1,Qualified,1,open\nw,p1,Won,2,won\nl,p1,Lost,3,lost\n",
        ),
        (
            "deals",
            "id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n\
             d1,p1,w,u1,20000,2026-10-01,2026-11-03 10:00\nd2,p1,w,u2,7000,2026-10-01,2026-11-10 15:00\n\
             d3,p1,l,u3,5000,2026-10-01,2026-11-05 10:00\nd4,p1,w,m1,1000,2026-10-01,2026-10-30 10:00\n",
        ),
    ];
    for (entity, text) in files {
        let path = env.file(&format!("{entity}.csv"), text);
        env.ok(&["import", entity, path.to_str().unwrap()]);
    }
    env
}

fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&env.ok(&all)).unwrap()
}

pub fn set_target(env: &Env) {
    let id = env.ok(&[
        "target",
        "set",
        "--metric",
        "revenue_won",
        "--scope",
        "team:north",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "84000",
    ]);
    assert_eq!(id.trim(), "t-1");
}

#[test]
fn the_worked_example_breaks_down_exactly() {
    let env = team_of_four();
    set_target(&env);
    // 21 working days of 8 hours: 4,000 a day, 500 an hour, 20,000 the week of 2 November.
    let days = json(&env, &["kpi", "breakdown", "t-1", "--grain", "day"]);
    let rows = days["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[0], serde_json::json!({"period": "2026-11-01", "value": 0.0}));
    assert_eq!(rows[1], serde_json::json!({"period": "2026-11-02", "value": 4000.0}));
    let weeks = json(&env, &["kpi", "breakdown", "t-1", "--grain", "week"]);
    assert_eq!(weeks["rows"][1], serde_json::json!({"period": "2026-11-02", "value": 20000.0}));
    let hours = json(&env, &["kpi", "breakdown", "t-1", "--grain", "hour"]);
    let nine = hours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-11-02T09:00")
        .unwrap();
    assert_eq!(nine["value"], 500.0);
    // Per head: the manager is not a head; 1,000 a rep-day, 125 a rep-hour.
    let per_head = json(&env, &["kpi", "breakdown", "t-1", "--grain", "hour", "--per-head"]);
    let ann = per_head["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-11-02T09:00" && r["user"] == "u1")
        .unwrap();
    assert_eq!(ann["value"], 125.0);
    assert_eq!(
        per_head["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["period"] == "2026-11-02T09:00")
            .count(),
        4
    );
    // With 26 November a holiday: 160 hours, 525 an hour.
    env.ok(&["config", "set", "holidays", "2026-11-26"]);
    let hours = json(&env, &["kpi", "breakdown", "t-1", "--grain", "hour"]);
    let nine = hours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-11-02T09:00")
        .unwrap();
    assert_eq!(nine["value"], 525.0);
}

#[test]
fn status_and_leaderboard_mid_month() {
    let env = team_of_four();
    set_target(&env);
    // At Wednesday 11 November 13:00: 60 of 168 working hours gone → expected 30,000. The team
    // won 20,000 (Ann) + 7,000 (Bob) + 0 from the manager in November (her 1,000 was in October)
    // → 27,000, pace 0.9, on track (0.9 is the at-risk threshold). Projected: 27,000 + 108 h ×
    // 450 = 75,600; gap 8,400; required: 57,000 / 108 h / 4 heads.
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    let row = &status["rows"][0];
    assert_eq!(row["target"], "t-1");
    assert_eq!(row["actual"], 27000.0);
    assert_eq!(row["expected"], 30000.0);
    assert_eq!(row["pace"], 0.9);
    assert_eq!(row["status"], "on_track");
    assert_eq!(row["projected"], 75600.0);
    assert_eq!(row["gap"], 8400.0);
    assert!((row["required_rate"].as_f64().unwrap() - 57000.0 / 108.0 / 4.0).abs() < 1e-9);
    // Each rep's share is 21,000; expected by then 21,000 × 60/168 = 7,500.
    let board = json(&env, &["kpi", "leaderboard", "t-1", "--at", "2026-11-11T13:00:00Z"]);
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!((rows[0]["user"].as_str(), rows[0]["band"].as_str()), (Some("u1"), Some("over")));
    assert_eq!(rows[0]["expected"], 7500.0);
    // (Compared with a tolerance: serde_json's default float parsing may be one ulp off.)
    assert!((rows[1]["pace"].as_f64().unwrap() - 7000.0 / 7500.0).abs() < 1e-12);
    assert_eq!(rows[1]["band"], "maintaining");
    assert_eq!(rows[3]["band"], "under");
}

#[test]
fn targets_are_checked_listed_changed_and_deleted() {
    let env = team_of_four();
    let run = env.run(&[
        "target",
        "set",
        "--metric",
        "revenue_wonn",
        "--scope",
        "team:north",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "84000",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"revenue_wonn\" is not a metric"), "{}", run.stderr);
    let run = env.run(&[
        "target",
        "set",
        "--metric",
        "revenue_won",
        "--scope",
        "team:south",
        "--period",
        "month",
        "--starts-on",
        "2026-11-03",
        "--value",
        "1",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"team:south\": no such team"), "{}", run.stderr);
    assert!(run.stderr.contains("does not start a period"), "{}", run.stderr);
    set_target(&env);
    env.ok(&["target", "set", "--id", "t-1", "--value", "90000"]);
    let list = json(&env, &["target", "list"]);
    assert_eq!(list["items"][0]["value"], 90000.0);
    assert_eq!(list["items"][0]["metric"], "revenue_won", "flags not given keep their values");
    env.ok(&["target", "delete", "t-1"]);
    assert_eq!(json(&env, &["target", "list"])["items"], serde_json::json!([]));
    assert_eq!(env.run(&["target", "delete", "t-1"]).code, 2);
}

/// A bakery open Tuesday to Saturday 06:00–14:00 in London, its own calendar on its team, with
/// the clocks going forward on Sunday 29 March 2026 inside the month.
#[test]
fn a_bakery_calendar_across_a_clock_change() {
    let env = Env::new();
    env.ok(&["config", "set", "timezone", "Europe/London"]);
    let teams = env.file("teams.csv", "id,name\nbakery,Bakery\n");
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    let users = env.file("users.csv", "id,name,team_id,role,created_at\nb1,Bea,bakery,rep,2026-01-01\nb2,Ben,bakery,rep,2026-01-01\n");
    env.ok(&["import", "users", users.to_str().unwrap()]);
    env.ok(&["config", "set", "work_days", "tue,wed,thu,fri,sat", "--team", "bakery"]);
    env.ok(&["config", "set", "work_hours", "06:00-14:00", "--team", "bakery"]);
    env.ok(&[
        "target",
        "set",
        "--metric",
        "calls_made",
        "--scope",
        "team:bakery",
        "--period",
        "month",
        "--starts-on",
        "2026-03-01",
        "--value",
        "1680",
    ]);
    // March 2026 has 21 Tuesdays to Saturdays (3–7, 10–14, 17–21, 24–28 and the 31st): 168
    // working hours, so 10 calls an hour and 80 a day for the team, 5 an hour per head.
    let hours = json(&env, &["kpi", "breakdown", "t-1", "--grain", "hour"]);
    let rows = hours["rows"].as_array().unwrap();
    let value = |label: &str| {
        rows.iter().find(|r| r["period"] == label).map(|r| r["value"].as_f64().unwrap())
    };
    // 31 days of 24 hours, less the hour skipped on the 29th.
    assert_eq!(rows.len(), 31 * 24 - 1);
    assert_eq!(value("2026-03-28T06:00"), Some(10.0), "Saturday before the change, GMT");
    assert_eq!(value("2026-03-31T06:00"), Some(10.0), "Tuesday after the change, BST");
    assert_eq!(value("2026-03-31T05:00"), Some(0.0));
    assert_eq!(value("2026-03-29T01:00"), None, "01:00 does not exist that Sunday");
    assert_eq!(value("2026-03-02T09:00"), Some(0.0), "a Monday: closed");
    let days = json(&env, &["kpi", "breakdown", "t-1", "--grain", "day", "--per-head"]);
    let bea_tuesday = days["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-03-31" && r["user"] == "b1")
        .unwrap();
    assert_eq!(bea_tuesday["value"], 40.0);
    // Before the first working hour of the period (Tuesday 3 March 06:00 GMT): not started.
    let status = json(&env, &["kpi", "status", "--at", "2026-03-03 05:59"]);
    assert_eq!(status["rows"][0]["status"], "not_started");
    assert_eq!(status["rows"][0]["expected"], 0.0);
}

/// A seasonal split follows the metric's (weekday, hour) shares over the 12 weeks before.
#[test]
fn a_seasonal_split_follows_the_history() {
    let env = team_of_four();
    // History: in each of the 12 weeks before November 2026 (from Monday 3 August), Ann made
    // 3 calls on Monday at 10:00 and 1 on Friday at 15:00 → shares 3/4 and 1/4.
    let mut csv = String::from("id,kind,occurred_at,owner_id\n");
    let mondays = [
        "2026-08-03",
        "2026-08-10",
        "2026-08-17",
        "2026-08-24",
        "2026-08-31",
        "2026-09-07",
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
    ];
    for (w, monday) in mondays.iter().enumerate() {
        for i in 0..3 {
            csv.push_str(&format!("m{w}-{i},call,{monday}T10:1{i}:00Z,u1\n"));
        }
        let date = jiff::civil::Date::strptime("%Y-%m-%d", monday)
            .unwrap()
            .checked_add(jiff::ToSpan::days(4))
            .unwrap();
        csv.push_str(&format!("f{w},call,{date}T15:30:00Z,u1\n"));
    }
    // A call in the week the period starts in (Monday 26 October to Sunday 1 November) is not
    // one of the 12 complete weeks before it, so it is left out.
    csv.push_str("late,call,2026-10-27T11:00:00Z,u1\n");
    let path = env.file("activities.csv", &csv);
    env.ok(&["import", "activities", path.to_str().unwrap()]);
    env.ok(&[
        "target",
        "set",
        "--metric",
        "calls_made",
        "--scope",
        "team:north",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "400",
        "--split",
        "seasonal",
    ]);
    // November 2026 has 5 Mondays (2, 9, 16, 23, 30) and 4 Fridays. Weight: Mondays 10:00 hours
    // 5 × 3/4 = 3.75, Fridays 15:00 hours 4 × 1/4 = 1 → total 4.75. A Monday 10:00 hour gets
    // 400 × 0.75 / 4.75; a Friday 15:00 hour 400 × 0.25 / 4.75; Tuesday nothing.
    let hours = json(&env, &["kpi", "breakdown", "t-1", "--grain", "hour"]);
    let rows = hours["rows"].as_array().unwrap();
    let value = |label: &str| {
        rows.iter().find(|r| r["period"] == label).unwrap()["value"].as_f64().unwrap()
    };
    assert!((value("2026-11-02T10:00") - 400.0 * 0.75 / 4.75).abs() < 1e-9);
    assert!((value("2026-11-06T15:00") - 400.0 * 0.25 / 4.75).abs() < 1e-9);
    assert_eq!(value("2026-11-03T11:00"), 0.0);
    let total: f64 = rows.iter().map(|r| r["value"].as_f64().unwrap()).sum();
    assert!((total - 400.0).abs() < 1e-9);
}

/// A target on a metric of the user's own definitions file.
#[test]
fn a_target_on_a_custom_metric() {
    let env = team_of_four();
    let defs = env.file(
        "metrics.toml",
        "[metric.big_deals_won]\nlabel = \"Big deals won\"\nkind = \"aggregate\"\nsource = \"deals\"\n\
         time = \"closed_at\"\nmeasure = \"count\"\nfilter = \"status = 'won' and amount >= 10000\"\n\
         unit = \"count\"\nbetter = \"higher\"\nindicator = \"lagging\"\ndescription = \"Won deals of 10,000 or more.\"\n",
    );
    let defs = defs.to_str().unwrap();
    let refused = env.run(&[
        "target",
        "set",
        "--metric",
        "big_deals_won",
        "--scope",
        "team:north",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "21",
    ]);
    assert_eq!(refused.code, 2, "without the file the metric is unknown");
    env.ok(&[
        "target",
        "set",
        "--metrics",
        defs,
        "--metric",
        "big_deals_won",
        "--scope",
        "team:north",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "21",
    ]);
    // One big deal won in November (Ann's 20,000); 21 over 168 hours, 60 gone: expected 7.5.
    let status = json(&env, &["kpi", "status", "--metrics", defs, "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(status["rows"][0]["actual"], 1.0);
    assert_eq!(status["rows"][0]["expected"], 7.5);
}

/// A median response time is judged only on enough answered leads (kpis.md: 20 by default).
#[test]
fn a_level_target_waits_for_enough_data() {
    let env = team_of_four();
    // 19 leads of Ann's answered after 30 minutes in November: below the minimum of 20.
    let mut csv = String::from("id,created_at,source,owner_id,first_response_at\n");
    for i in 0..19 {
        csv.push_str(&format!("l{i},2026-11-02T10:00:00Z,web,u1,2026-11-02T10:30:00Z\n"));
    }
    let path = env.file("leads.csv", &csv);
    env.ok(&["import", "leads", path.to_str().unwrap()]);
    env.ok(&[
        "target",
        "set",
        "--metric",
        "lead_response_time",
        "--scope",
        "user:u1",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "3600",
    ]);
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(status["rows"][0]["actual"], 1800.0);
    assert_eq!(status["rows"][0]["status"], "not_enough_data");
    // The 20th answered lead makes it judgeable: 1,800 s against a 3,600 s target, lower is
    // better → pace 3,600 / 1,800 = 2: on track.
    let more = env.file("more.csv", "id,created_at,source,owner_id,first_response_at\nl19,2026-11-03T10:00:00Z,web,u1,2026-11-03T10:30:00Z\n");
    env.ok(&["import", "leads", more.to_str().unwrap()]);
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(status["rows"][0]["pace"], 2.0);
    assert_eq!(status["rows"][0]["status"], "on_track");
}

fn target_args<'a>(
    metric: &'a str,
    scope: &'a str,
    starts_on: &'a str,
    value: &'a str,
) -> Vec<&'a str> {
    vec![
        "target",
        "set",
        "--metric",
        metric,
        "--scope",
        scope,
        "--period",
        "month",
        "--starts-on",
        starts_on,
        "--value",
        value,
    ]
}

/// Issue 24.1: a target that cannot be computed is refused when set; one that breaks later (its
/// custom metric's definition gone) answers its own error while the others still answer.
#[test]
fn issue_24_1_a_target_that_cannot_be_computed_is_refused_or_errs_alone() {
    let env = team_of_four();
    set_target(&env);
    for metric in ["customer_retention_rate", "customer_churn_rate"] {
        let run = env.run(&target_args(metric, "company", "2026-11-01", "0.5"));
        assert_eq!(run.code, 2, "{metric}: {}", run.stderr);
        assert!(run.stderr.contains("no pace can judge it"), "{}", run.stderr);
        assert!(run.stderr.contains("returning_customer_rate"), "{}", run.stderr);
    }
    // Web visits have no owner: a team target on them could never be computed.
    let run = env.run(&target_args("web_visitors", "team:north", "2026-11-01", "1000"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be computed for this target"), "{}", run.stderr);
    // The same check on an import of targets: the row is named, nothing is stored.
    let file = env.file(
        "targets.csv",
        "id,metric,scope,period,starts_on,value\nt-9,customer_churn_rate,company,month,2026-11-01,0.1\n",
    );
    let run = env.run(&["import", "targets", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no pace can judge it"), "{}", run.stderr);
    assert_eq!(json(&env, &["target", "list"])["items"].as_array().unwrap().len(), 1);

    // A target on a custom metric, read later without its definition.
    let defs = env.file(
        "metrics.toml",
        "[metric.big_deals_won]\nkind = \"aggregate\"\nsource = \"deals\"\ntime = \"closed_at\"\n\
         measure = \"count\"\nfilter = \"status = 'won' and amount >= 10000\"\nunit = \"count\"\n\
         better = \"higher\"\n",
    );
    let mut args = target_args("big_deals_won", "team:north", "2026-11-01", "21");
    args.extend(["--metrics", defs.to_str().unwrap()]);
    env.ok(&args);
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    let rows = status["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["target"], "t-1");
    assert_eq!(rows[0]["actual"], 27000.0, "the other target still answers");
    assert_eq!(rows[0]["status"], "on_track");
    assert_eq!(rows[1]["target"], "t-2");
    assert_eq!(rows[1]["status"], "error");
    assert_eq!(rows[1]["actual"], Value::Null);
    assert!(rows[1]["error"].as_str().unwrap().contains("\"big_deals_won\" is not a metric"));
    // The table says it too, and the report answers.
    let run = env.run(&["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("target t-2: "), "{}", run.stderr);
    let report = env.run(&[
        "report",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--scope",
        "team:north",
        "--at",
        "2026-11-11T13:00:00Z",
        "--format",
        "md",
    ]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(report.stdout.contains("⚠ target t-2: "), "{}", report.stdout);
}

/// Issue 24.2: net cash flow is a sum of money over the period: a monthly target spreads.
#[test]
fn issue_24_2_a_monthly_net_cash_flow_target_spreads_over_the_period() {
    let env = team_of_four();
    env.ok(&target_args("net_cash_flow", "company", "2026-11-01", "150000"));
    // 150,000 over 168 working hours; 60 gone at Wednesday 11 November 13:00: 150,000 × 60/168
    // = 53,571.43. The company's cash in: 20,000 + 7,000 won in November, no orders, no costs.
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    let row = &status["rows"][0];
    assert!((row["expected"].as_f64().unwrap() - 150_000.0 * 60.0 / 168.0).abs() < 1e-6);
    assert_eq!(row["actual"], 27000.0);
    let pace = 27_000.0 / (150_000.0 * 60.0 / 168.0);
    assert!((row["pace"].as_f64().unwrap() - pace).abs() < 1e-9);
    assert_eq!(row["status"], "off_track", "pace 0.504 is below 0.75");
    // Its day breakdown: 150,000 / 21 working days on 2 November, nothing on Sunday 1st.
    let days = json(&env, &["kpi", "breakdown", "t-1", "--grain", "day"]);
    assert_eq!(days["rows"][0]["value"], 0.0);
    assert!((days["rows"][1]["value"].as_f64().unwrap() - 150_000.0 / 21.0).abs() < 1e-6);
    // The catalog says so.
    let catalog = json(&env, &["metrics", "list"]);
    let items = catalog["items"].as_array().unwrap();
    let kind = |name: &str| items.iter().find(|m| m["name"] == name).unwrap()["target"].clone();
    assert_eq!(kind("net_cash_flow"), "accumulating");
    assert_eq!(kind("costs"), "accumulating");
    assert_eq!(kind("win_rate"), "level");
    assert_eq!(kind("customer_churn_rate"), "none");
}

/// Issues 24.3 and 24.4: after November the target ended missed, with its final figure; the
/// default status shows the targets whose period contains `at`, `--all` and `--starts-on` the
/// rest.
#[test]
fn issue_24_3_and_4_a_finished_period_is_missed_and_shown_on_request() {
    let env = team_of_four();
    // 27,000 won in November of a target of 27,607.36: 97.8%.
    env.ok(&target_args("revenue_won", "team:north", "2026-11-01", "27607.36"));
    env.ok(&target_args("revenue_won", "team:north", "2026-10-01", "500"));
    let mut quarter = target_args("deals_won", "team:north", "2026-10-01", "10");
    quarter[7] = "quarter";
    env.ok(&quarter);
    let ids = |v: &Value| -> Vec<String> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["target"].as_str().unwrap().to_string())
            .collect()
    };
    let now = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(ids(&now), ["t-1", "t-3"], "November and the fourth quarter, not October");
    let all = json(&env, &["kpi", "status", "--all", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(ids(&all), ["t-1", "t-2", "t-3"]);
    let months =
        json(&env, &["kpi", "status", "--period", "month", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(ids(&months), ["t-1"]);
    // October is over: 1,000 won (the manager's deal) of 500: achieved.
    let october =
        json(&env, &["kpi", "status", "--starts-on", "2026-10-01", "--at", "2026-11-11T13:00:00Z"]);
    assert_eq!(ids(&october), ["t-2", "t-3"]);
    assert_eq!(october["rows"][0]["status"], "achieved");
    assert_eq!(october["rows"][0]["actual"], 1000.0);
    // On 2 December nothing is current; November ended at 97.8%: missed, not "off track".
    let december =
        json(&env, &["kpi", "status", "--period", "month", "--at", "2026-12-02T10:00:00Z"]);
    assert_eq!(ids(&december), Vec::<String>::new());
    let november =
        json(&env, &["kpi", "status", "--starts-on", "2026-11-01", "--at", "2026-12-02T10:00:00Z"]);
    let row = &november["rows"][0];
    assert_eq!(row["status"], "missed");
    assert_eq!(row["actual"], 27000.0, "the final figure");
    assert_eq!(row["expected"], 27607.36);
    let run = env.run(&["kpi", "status", "--period", "fortnight"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--period"), "{}", run.stderr);
}

/// Issue 22.2: the needed rate for the team beside the per-head one.
#[test]
fn issue_22_2_the_needed_rate_is_given_for_the_scope_and_per_head() {
    let env = team_of_four();
    set_target(&env);
    // Before the month's first working hour the whole 84,000 remains over 168 hours: 500 an
    // hour for the team, the breakdown's hourly figure, and 125 per rep (kpis.md).
    let status = json(&env, &["kpi", "status", "--at", "2026-11-02T08:00:00Z"]);
    let row = &status["rows"][0];
    assert_eq!(row["required_rate_scope"], 500.0);
    assert_eq!(row["required_rate"], 125.0);
    assert_eq!(row["heads"], 4);
    // Mid-month: 57,000 left over 108 hours.
    let status = json(&env, &["kpi", "status", "--at", "2026-11-11T13:00:00Z"]);
    let scope_rate = status["rows"][0]["required_rate_scope"].as_f64().unwrap();
    assert!((scope_rate - 57_000.0 / 108.0).abs() < 1e-9);
}

/// Issue 22.3: a value must make sense for its metric, and one target per metric, scope and
/// period start.
#[test]
fn issue_22_3_target_values_are_checked_and_duplicates_refused() {
    let env = team_of_four();
    let refused = |args: Vec<&str>, expect: &str| {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expect), "{args:?}: {}", run.stderr);
    };
    refused(target_args("revenue_won", "team:north", "2026-11-01", "-5000"), "must be above 0");
    refused(target_args("revenue_won", "team:north", "2026-11-01", "0"), "must be above 0");
    refused(
        target_args("revenue_won", "team:north", "2026-11-01", "100.125"),
        "100.125 has more decimals than USD has (2)",
    );
    refused(target_args("calls_made", "team:north", "2026-11-01", "12.5"), "not a whole number");
    refused(target_args("win_rate", "team:north", "2026-11-01", "25"), "for 25% write 0.25");
    refused(target_args("win_rate", "team:north", "2026-11-01", "-0.1"), "between 0 and 1");
    assert_eq!(json(&env, &["target", "list"])["items"], serde_json::json!([]), "nothing stored");
    env.ok(&target_args("win_rate", "team:north", "2026-11-01", "0.25"));
    env.ok(&target_args("revenue_won", "team:north", "2026-11-01", "100.12"));
    // A second target on revenue_won for the team in November is a conflict, naming the first.
    refused(
        target_args("revenue_won", "team:north", "2026-11-01", "90000"),
        "target \"t-2\" is already set",
    );
    // Changing the first one is not a duplicate of itself.
    env.ok(&["target", "set", "--id", "t-2", "--value", "90000"]);
    // Another scope or period start is another target.
    env.ok(&target_args("revenue_won", "company", "2026-11-01", "90000"));
    env.ok(&target_args("revenue_won", "team:north", "2026-12-01", "90000"));
    // The same duplicate in an import is an error of its line.
    let file = env.file(
        "targets.csv",
        "id,metric,scope,period,starts_on,value\nt-8,revenue_won,company,month,2027-01-01,1\nt-9,revenue_won,company,month,2027-01-01,2\n",
    );
    let run = env.run(&["import", "targets", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("already set"), "{}", run.stderr);
    assert_eq!(json(&env, &["target", "list"])["items"].as_array().unwrap().len(), 4);
}

/// Issue 24.5: the currency cannot change once amounts are stored — not even to one with the
/// same decimals, which would relabel every amount without converting it.
#[test]
fn issue_24_5_the_currency_cannot_change_under_stored_amounts() {
    let env = team_of_four();
    let run = env.run(&["config", "set", "currency", "EUR"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("amounts are stored in USD (deals)"), "{}", run.stderr);
    assert!(run.stderr.contains("would relabel them without converting"), "{}", run.stderr);
    assert!(env.ok(&["config", "get", "currency"]).contains("USD"));
    // A new workspace without amounts takes any currency.
    let fresh = Env::new();
    fresh.ok(&["config", "set", "currency", "EUR"]);
    assert!(fresh.ok(&["config", "get", "currency"]).contains("EUR"));
}
