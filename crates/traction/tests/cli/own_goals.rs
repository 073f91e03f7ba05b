//! Tracking your own goals (issue 20; docs/own-goals.md): events, the metrics of their kinds,
//! metrics defined in the app, and targets on them with breakdown, pace and leaderboard — on a
//! kitchen team of two volunteers' coordinators in November 2026 (Mon–Fri 09:00–17:00, UTC).

use serde_json::Value;

use crate::util::Env;

fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&env.ok(&all)).unwrap()
}

/// A kitchen team with two reps (the heads) and a manager; meals served on five days.
fn kitchen() -> Env {
    let env = Env::new();
    let files = [
        ("teams", "id,name\nkitchen,Community kitchen\n"),
        (
            "users",
            "id,name,team_id,role,created_at\nana,Ana,kitchen,rep,2026-01-01\nben,Ben,kitchen,rep,2026-01-01\n\
             mia,Mia,kitchen,manager,2026-01-01\n",
        ),
        // Week of Monday 2 November: Ana 60 + 70, Ben 50; Monday 9 November: Ana 80, Ben 40.
        // A volunteer shift and a donation do not count as meals. One meal row after the
        // instant of the status (16 November) counts only in the month.
        (
            "events",
            "id,kind,occurred_at,quantity,amount,owner_id,team_id\n\
             e1,Meals Served,2026-11-02 13:00,60,,ana,kitchen\n\
             e2,meals served,2026-11-04 13:00,70,,ana,kitchen\n\
             e3,MEALS_SERVED,2026-11-05 13:00,50,,ben,kitchen\n\
             e4,meals_served,2026-11-09 13:00,80,,ana,kitchen\n\
             e5,meals_served,2026-11-10 13:00,40,,ben,kitchen\n\
             e6,volunteer_hours,2026-11-10 09:00,3.5,,ben,kitchen\n\
             e7,cash_in,2026-11-10 11:00,,25.50,mia,kitchen\n\
             e8,meals_served,2026-11-20 13:00,90,,ana,kitchen\n",
        ),
    ];
    for (entity, text) in files {
        let path = env.file(&format!("{entity}.csv"), text);
        env.ok(&["import", entity, path.to_str().unwrap()]);
    }
    env
}

#[test]
fn an_event_kind_is_a_metric_with_its_label_and_unit() {
    let env = kitchen();
    let list = json(&env, &["metrics", "list"]);
    let items = list["items"].as_array().unwrap();
    let find =
        |name: &str| items.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(find("meals_served")["label"], "Meals served");
    assert_eq!(find("meals_served")["unit"], "count");
    assert_eq!(find("cash_in")["unit"], "money");
    assert_eq!(find("event_quantity")["unit"], "count");
    // By week: 60 + 70 + 50 = 180 in the week of 2 November, 80 + 40 = 120 in the next, 90 in
    // the week of 16 November.
    let weeks = json(
        &env,
        &[
            "metric",
            "meals_served",
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-01",
            "--grain",
            "week",
        ],
    );
    let values: Vec<(String, f64)> = weeks["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["period"].as_str().unwrap().to_string(), r["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        values,
        [
            ("2026-11-02".to_string(), 180.0),
            ("2026-11-09".to_string(), 120.0),
            ("2026-11-16".to_string(), 90.0)
        ]
    );
    // Every kind at once: 5 + 1 + 1 + 1 events by kind; quantities 390 meals, 3.5 hours, and
    // the donation's quantity 1 (the default).
    let by_kind = json(
        &env,
        &["metric", "event_quantity", "--from", "2026-11-01", "--to", "2026-12-01", "--by", "kind"],
    );
    let kinds: Vec<(String, f64)> = by_kind["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap().to_string(), r["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("cash_in".to_string(), 1.0),
            ("meals_served".to_string(), 390.0),
            ("volunteer_hours".to_string(), 3.5)
        ]
    );
    let cash = json(&env, &["metric", "cash_in", "--from", "2026-11-01", "--to", "2026-12-01"]);
    assert_eq!(cash["rows"][0]["value"], 25.5);
}

#[test]
fn a_target_on_meals_served_breaks_down_paces_and_ranks() {
    let env = kitchen();
    let id = env.ok(&[
        "target",
        "set",
        "--metric",
        "meals_served",
        "--scope",
        "team:kitchen",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "2100",
    ]);
    assert_eq!(id.trim(), "t-1");
    // November 2026: 21 working days, 168 hours. 2,100 meals → 100 a working day, 12.5 an
    // hour; the week of 2 November (5 days) 500; per head (Ana and Ben; the manager is no head)
    // 250 that week.
    let weeks = json(&env, &["kpi", "breakdown", "t-1", "--grain", "week"]);
    assert_eq!(weeks["rows"][1]["period"], "2026-11-02");
    assert_eq!(weeks["rows"][1]["value"], 500.0);
    let per_head = json(&env, &["kpi", "breakdown", "t-1", "--grain", "week", "--per-head"]);
    let ana = per_head["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-11-02" && r["user"] == "ana")
        .unwrap()
        .clone();
    assert_eq!(ana["value"], 250.0);
    // Monday 16 November 09:00: 10 working days gone → expected 1,000; actual 180 + 120 = 300
    // (the 20 November meals are later) → pace 0.3, off track. Projected: 300 / 80 h × 168 h =
    // 630; gap 1,470; required 1,800 / 88 h / 2 heads.
    let status = json(&env, &["kpi", "status", "--at", "2026-11-16T09:00:00Z"]);
    let row = &status["rows"][0];
    assert_eq!(row["metric"], "meals_served");
    assert_eq!(row["actual"], 300.0);
    assert_eq!(row["expected"], 1000.0);
    assert_eq!(row["pace"], 0.3);
    assert_eq!(row["status"], "off_track");
    assert_eq!(row["projected"], 630.0);
    assert_eq!(row["gap"], 1470.0);
    assert!((row["required_rate"].as_f64().unwrap() - 1800.0 / 88.0 / 2.0).abs() < 1e-9);
    // Each head's share is 1,050, expected 500 by then: Ana 210 (pace 0.42), Ben 90 (0.18).
    let board = json(&env, &["kpi", "leaderboard", "t-1", "--at", "2026-11-16T09:00:00Z"]);
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["user"].as_str(), rows[0]["actual"].as_f64()), (Some("ana"), Some(210.0)));
    assert_eq!(rows[0]["expected"], 500.0);
    assert!((rows[0]["pace"].as_f64().unwrap() - 0.42).abs() < 1e-12);
    assert_eq!((rows[1]["user"].as_str(), rows[1]["actual"].as_f64()), (Some("ben"), Some(90.0)));
}

#[test]
fn a_metric_of_your_own_is_stored_checked_used_and_protected() {
    let env = kitchen();
    // Every problem at its place, in one run, and nothing stored.
    let bad = env.file(
        "bad.toml",
        "[metric.big_lunches]\nlabel = \"Big lunches\"\nkind = \"aggregate\"\nsource = \"events\"\n\
         time = \"occurred_at\"\nmeasure = \"count\"\nfilter = \"kind = 'meals_served' and quantiti >= 60\"\n\
         unit = \"lunches\"\nbetter = \"higher\"\n",
    );
    let run = env.run(&["metrics", "add", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad.toml: metric.big_lunches:"), "{}", run.stderr);
    assert!(run.stderr.contains("unit \"lunches\" is not a unit"), "{}", run.stderr);
    assert!(run.stderr.contains("quantiti"), "{}", run.stderr);
    let list = json(&env, &["metrics", "list"]);
    assert!(!list["items"].as_array().unwrap().iter().any(|m| m["name"] == "big_lunches"));
    // A built-in name is refused.
    let clash = env.file("clash.toml", "[metric.orders]\nlabel = \"x\"\nkind = \"derived\"\nexpr = \"1\"\nunit = \"count\"\nbetter = \"higher\"\n");
    let run = env.run(&["metrics", "add", clash.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("orders is a built-in metric"), "{}", run.stderr);
    // A good one: lunches of 60 meals or more (e1 60, e2 70, e4 80, e8 90 → 4 in November).
    let good = env.file(
        "good.toml",
        "[metric.big_lunches]\nlabel = \"Big lunches\"\nkind = \"aggregate\"\nsource = \"events\"\n\
         time = \"occurred_at\"\nmeasure = \"count\"\nfilter = \"kind = 'meals_served' and quantity >= 60\"\n\
         unit = \"count\"\nbetter = \"higher\"\ndescription = \"Lunch services of 60 meals or more.\"\n",
    );
    env.ok(&["metrics", "add", good.to_str().unwrap()]);
    let month =
        json(&env, &["metric", "big_lunches", "--from", "2026-11-01", "--to", "2026-12-01"]);
    assert_eq!(month["rows"][0]["value"], 4.0);
    // Adding it again is refused: edit it instead.
    let again = env.run(&["metrics", "add", good.to_str().unwrap()]);
    assert!(again.stderr.contains("edit it"), "{}", again.stderr);
    // A target on it; then changing or deleting the metric is refused with the list of users.
    let id = env.ok(&[
        "target",
        "set",
        "--metric",
        "big_lunches",
        "--scope",
        "company",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "15",
    ]);
    let changed = env
        .file("changed.toml", &std::fs::read_to_string(&good).unwrap().replace(">= 60", ">= 70"));
    let run = env.run(&["metrics", "edit", changed.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("big_lunches is used by target {}", id.trim())),
        "{}",
        run.stderr
    );
    let run = env.run(&["metrics", "delete", "big_lunches"]);
    assert!(run.stderr.contains(&format!("used by target {}", id.trim())), "{}", run.stderr);
    // Once the target is gone, the metric changes and goes; a target on it is then refused.
    env.ok(&["target", "delete", id.trim()]);
    env.ok(&["metrics", "edit", changed.to_str().unwrap()]);
    let month =
        json(&env, &["metric", "big_lunches", "--from", "2026-11-01", "--to", "2026-12-01"]);
    assert_eq!(month["rows"][0]["value"], 3.0);
    env.ok(&["metrics", "delete", "big_lunches"]);
    let run = env.run(&[
        "target",
        "set",
        "--metric",
        "big_lunches",
        "--scope",
        "company",
        "--period",
        "month",
        "--starts-on",
        "2026-11-01",
        "--value",
        "15",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("big_lunches"), "{}", run.stderr);
    // Every change is in the audit log.
    let audit = env.ok(&["audit", "--entity", "metric_definitions", "--format", "json"]);
    for action in ["metric.add", "metric.edit", "metric.delete"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}

#[test]
fn dashboard_metrics_must_name_metrics_of_the_workspace() {
    let env = kitchen();
    // Every unknown name is listed in one error, with a hint; nothing is stored.
    let run = env.run(&["config", "set", "dashboard_metrics", "revenu,meals_served,lunches"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("dashboard_metrics: \"revenu\", \"lunches\" are not metrics"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("traction metrics list"), "{}", run.stderr);
    assert_eq!(env.ok(&["config", "get", "dashboard_metrics", "--format", "table"]).trim(), "");
    // Built-in names, an event kind's metric and a metric defined in the workspace are metrics.
    let own = env.file(
        "own.toml",
        "[metric.big_lunches]\nlabel = \"Big lunches\"\nkind = \"aggregate\"\nsource = \"events\"\n\
         time = \"occurred_at\"\nmeasure = \"count\"\nfilter = \"quantity >= 60\"\nunit = \"count\"\nbetter = \"higher\"\n",
    );
    env.ok(&["metrics", "add", own.to_str().unwrap()]);
    env.ok(&["config", "set", "dashboard_metrics", "meals_served, big_lunches,revenue"]);
    assert_eq!(
        env.ok(&["config", "get", "dashboard_metrics", "--format", "table"]).trim(),
        "meals_served,big_lunches,revenue"
    );
    // A metric of a --metrics file counts when the file is given, not otherwise.
    let file = env.file(
        "file.toml",
        "[metric.kitchen_days]\nlabel = \"Kitchen days\"\nkind = \"aggregate\"\nsource = \"events\"\n\
         time = \"occurred_at\"\nmeasure = \"count\"\nunit = \"count\"\nbetter = \"higher\"\n",
    );
    let without = env.run(&["config", "set", "dashboard_metrics", "kitchen_days"]);
    assert_eq!(without.code, 2, "{}", without.stderr);
    assert!(without.stderr.contains("\"kitchen_days\" is not a metric"), "{}", without.stderr);
    let path = file.to_str().unwrap();
    env.ok(&["config", "set", "dashboard_metrics", "kitchen_days", "--metrics", path]);
}

#[test]
fn a_metric_another_definition_names_is_not_deleted_from_under_it() {
    let env = kitchen();
    let lunches = env.file(
        "lunches.toml",
        "[metric.big_lunches]\nlabel = \"Big lunches\"\nkind = \"aggregate\"\nsource = \"events\"\n\
         time = \"occurred_at\"\nmeasure = \"count\"\nfilter = \"kind = 'meals_served' and quantity >= 60\"\n\
         unit = \"count\"\nbetter = \"higher\"\n",
    );
    let share = env.file(
        "share.toml",
        "[metric.lunch_share]\nlabel = \"Share of big lunches\"\nkind = \"derived\"\n\
         expr = \"big_lunches / meals_served\"\nunit = \"ratio\"\nbetter = \"higher\"\n",
    );
    env.ok(&["metrics", "add", lunches.to_str().unwrap()]);
    env.ok(&["metrics", "add", share.to_str().unwrap()]);
    // Deleting big_lunches would drop lunch_share from the catalog: refused, with the user.
    let run = env.run(&["metrics", "delete", "big_lunches"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("metric big_lunches is used by metric lunch_share"),
        "{}",
        run.stderr
    );
    let list = json(&env, &["metrics", "list"]);
    let names: Vec<&str> =
        list["items"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert!(names.contains(&"big_lunches") && names.contains(&"lunch_share"), "{names:?}");
    // Once the user is gone, the delete goes through.
    env.ok(&["metrics", "delete", "lunch_share"]);
    env.ok(&["metrics", "delete", "big_lunches"]);
}
