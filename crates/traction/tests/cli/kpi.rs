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
