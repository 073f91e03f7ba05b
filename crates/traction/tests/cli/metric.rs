//! `traction metric`, `traction metrics list|check` and `traction funnel` through the binary.

use crate::util::Env;

/// Two reps, a pipeline and five deals closed in March 2026 (UTC): won d1 1,000 (u1),
/// d2 3,000 (u1), d3 10,000 (u2); lost d4 2,000 (u2), d5 500 (u2).
fn env() -> Env {
    let env = Env::new();
    let files = [
        ("teams", "id,name\nt1,North\n"),
        ("users", "id,name,team_id,created_at\nu1,Ann,t1,2026-01-01\nu2,Bob,t1,2026-01-01\n"),
        ("pipelines", "id,name\np1,Sales\n"),
        (
            "stages",
            "id,pipeline_id,name,position,kind\ns1,p1,Start,1,open\ns2,p1,Demo,2,open\nwon,p1,Won,3,won\nlost,p1,Lost,4,lost\n",
        ),
        (
            "deals",
            "id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n\
             d1,p1,won,u1,1000,2026-02-01,2026-03-02\n\
             d2,p1,won,u1,3000,2026-02-01,2026-03-03\n\
             d3,p1,won,u2,10000,2026-03-01,2026-03-04\n\
             d4,p1,lost,u2,2000,2026-03-01,2026-03-05\n\
             d5,p1,lost,u2,500,2026-03-01,2026-04-05\n",
        ),
    ];
    for (entity, csv) in files {
        let path = env.file(&format!("{entity}.csv"), csv);
        env.ok(&["import", entity, path.to_str().unwrap()]);
    }
    env
}

#[test]
fn a_metric_as_json_table_and_csv() {
    let env = env();
    let args =
        ["metric", "win_rate", "--from", "2026-03-01", "--to", "2026-04-01", "--grain", "month"];
    let json: serde_json::Value = serde_json::from_str(
        &env.ok(&[&args[..], &["--format", "json", "--by", "owner"]].concat()),
    )
    .unwrap();
    // u1 won both of their 2 closed deals; u2 won 1 of 2 (d5 closed in April).
    assert_eq!(
        json["rows"][0],
        serde_json::json!({"period": "2026-03-01", "owner": "u1", "value": 1, "numerator": 2, "denominator": 2})
    );
    assert_eq!(json["rows"][1]["value"], 0.5);
    let table = env.ok(&[&args[..], &["--format", "table"]].concat());
    // 3 of 4 closed in March.
    assert!(table.contains("75.0%"), "{table}");
    let csv = env.ok(&[
        "metric",
        "revenue_won",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--format",
        "csv",
    ]);
    assert_eq!(csv, "value\n14000\n");
    let table = env.ok(&[
        "metric",
        "revenue_won",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--format",
        "table",
    ]);
    assert!(table.contains("14,000.00 USD"), "{table}");
}

#[test]
fn where_and_compare_on_the_command_line() {
    let env = env();
    let out = env.ok(&[
        "metric",
        "deals_won",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--where",
        "amount >= 2000",
        "--compare",
        "previous",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Only d2 (3,000) and d3 (10,000); nothing was won in February, so no change. March is
    // over, so the whole of February is compared.
    assert_eq!(
        json["rows"],
        serde_json::json!([{"value": 2, "previous": 0, "change": null,
            "compared_from": "2026-02-01", "compared_to": "2026-03-01"}])
    );
}

#[test]
fn bad_input_exits_2_with_one_clear_sentence() {
    let env = env();
    let run = env.run(&[
        "metric",
        "win_rate",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--by",
        "kind",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("\"kind\" does not apply to win_rate; the dimensions that do are owner"),
        "{}",
        run.stderr
    );
    let run = env.run(&[
        "metric",
        "win_rate",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--where",
        "ownr = 'u1'",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("where: 1:1: unknown field \"ownr\" on deals"), "{}", run.stderr);
    let run = env.run(&["metric", "win_rate", "--from", "March", "--to", "2026-04-01"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--from: \"March\" is not a timestamp"), "{}", run.stderr);
    let run = env.run(&["metric", "nope", "--from", "2026-03-01", "--to", "2026-04-01"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no metric named \"nope\""), "{}", run.stderr);
}

#[test]
fn the_catalog_and_checking_a_definitions_file() {
    let env = env();
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["metrics", "list", "--format", "json"])).unwrap();
    let win_rate =
        json["items"].as_array().unwrap().iter().find(|m| m["name"] == "win_rate").unwrap();
    assert_eq!(win_rate["indicator"], "lagging");
    assert_eq!(win_rate["kind"], "ratio");
    let good = env.file(
        "good.toml",
        "[metric.big_wins]\nlabel = 'Big wins'\nkind = 'aggregate'\nsource = 'deals'\ntime = 'closed_at'\nmeasure = 'count'\nfilter = \"status = 'won' and amount >= 5000\"\nunit = 'count'\nbetter = 'higher'\n",
    );
    let run = env.run(&["metrics", "check", good.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("1 definition valid (1 new, 0 overriding"), "{}", run.stderr);
    // The user's metric runs with --metrics: d3 is the only win of 5,000 or more.
    let out = env.ok(&[
        "metric",
        "big_wins",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
        "--metrics",
        good.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(out, "value\n1\n");
    let bad = env.file(
        "bad.toml",
        "[metric.x]\nkind = 'ratio'\nnumerator = 'deals_wn'\ndenominator = 'deals_closed'\nunit = 'ratio'\nbetter = 'up'\n",
    );
    let run = env.run(&["metrics", "check", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("bad.toml: metric.x: better \"up\" is not a direction: use higher or lower"),
        "{}",
        run.stderr
    );
    // The server refuses the same file before it listens.
    let run = env.run(&["serve", "--listen", "127.0.0.1:0", "--metrics", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("metric.x: better \"up\""), "{}", run.stderr);
}

#[test]
fn the_funnel_on_the_command_line() {
    let env = env();
    let out = env.ok(&["funnel", "--from", "2026-02-01", "--to", "2026-04-01", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    // No histories: each deal entered its current stage. Won d1–d3 reached every step; the lost
    // ones reached none (lost is not a step). Start 3, Demo 3, Won 3.
    let reached: Vec<i64> =
        json["rows"].as_array().unwrap().iter().map(|r| r["reached"].as_i64().unwrap()).collect();
    assert_eq!(reached, [3, 3, 3]);
    assert_eq!(json["rows"][0]["conversion_to_next"], 1);
}

/// `traction explain`: April against March. April adds d6 won 6,000 (u1) and d7 won 2,000 (u2).
#[test]
fn explain_splits_a_change_in_table_json_and_csv() {
    let env = env();
    let more = env.file(
        "more.csv",
        "id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n\
         d6,p1,won,u1,6000,2026-03-01,2026-04-10\n\
         d7,p1,won,u2,2000,2026-03-01,2026-04-12\n",
    );
    env.ok(&["import", "deals", more.to_str().unwrap()]);
    let args = [
        "explain",
        "revenue_won",
        "--from",
        "2026-04-01",
        "--to",
        "2026-05-01",
        "--compare",
        "prev",
        "--by",
        "owner",
        "--at",
        "2026-06-01",
    ];
    // March 14,000 (3 won, average 4,666.67) → April 8,000 (2 won, average 4,000): −6,000.
    // Deals won: −1 × (4,666.67 + 4,000) / 2 = −4,333.33…; average: −666.67 × (3 + 2) / 2 =
    // −1,666.67 (cents rounded by the largest remainder: −433,333 and −166,667, sum −600,000).
    // By owner: u1 4,000 → 6,000 (+2,000), u2 10,000 → 2,000 (−8,000).
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&[&args[..], &["--format", "json"]].concat())).unwrap();
    assert_eq!(json["change"], -6000);
    assert_eq!(json["compare"]["from"], "2026-03-01");
    assert_eq!(json["drivers"][0]["metric"], "deals_won");
    assert_eq!(json["drivers"][0]["contribution"], -4333.33);
    assert_eq!(json["drivers"][1]["contribution"], -1666.67);
    assert_eq!(
        json["segments"][0],
        serde_json::json!({"owner": "u2", "value": 2000, "previous": 10000, "contribution": -8000})
    );
    assert_eq!(json["segments"][1]["contribution"], 2000);
    let table = env.ok(&[&args[..], &["--format", "table"]].concat());
    assert!(
        table.starts_with(
            "Revenue won (bookings) −$6,000 (−42.9%) against March 2026: fewer deals won (−$4,333; 3 → 2) and lower average deal size (−$1,667; $4,667 → $4,000); most in owner Bob (−$8,000)."
        ),
        "{table}"
    );
    let csv = env.ok(&[&args[..], &["--format", "csv"]].concat());
    assert!(csv.starts_with("part,name,previous,value,contribution\n"), "{csv}");
    assert!(csv.contains("driver,deals_won,3,2,-4333.33\n"), "{csv}");
    assert!(csv.contains("owner,u1,4000,6000,2000\n"), "{csv}");
    // For one rep: u1 March 4,000 (2 won, average 2,000) → April 6,000 (1 won, average 6,000):
    // +2,000 = deals won −1 × (2,000 + 6,000) / 2 = −4,000 and average +4,000 × (2 + 1) / 2 =
    // +6,000.
    let scoped: serde_json::Value = serde_json::from_str(&env.ok(
        &[&args[..6], &["--scope", "user:u1", "--at", "2026-06-01", "--format", "json"]].concat(),
    ))
    .unwrap();
    assert_eq!(
        (&scoped["previous"], &scoped["value"]),
        (&serde_json::json!(4000), &serde_json::json!(6000))
    );
    assert_eq!(scoped["drivers"][0]["contribution"], -4000);
    assert_eq!(scoped["drivers"][1]["contribution"], 6000);
    // The report says the same sentence under the lagging metrics.
    let report = env.ok(&[
        "report",
        "--from",
        "2026-04-01",
        "--to",
        "2026-05-01",
        "--format",
        "md",
        "--at",
        "2026-06-01",
    ]);
    assert!(
        report.contains(
            "\n- Revenue won (bookings) −$6,000 (−42.9%) against March 2026: fewer deals won (−$4,333; 3 → 2) and lower average deal size"
        ),
        "{report}"
    );
    // Bad input: an unknown dimension, two dimensions, an unknown comparison — exit 2.
    for (extra, says) in [
        (&["--by", "colour"][..], "\"colour\" does not apply to revenue_won"),
        (&["--by", "owner,team"][..], "one dimension at a time"),
        (&["--compare", "sideways"][..], "sideways"),
    ] {
        let mut bad = args[..6].to_vec();
        bad.extend_from_slice(extra);
        bad.extend_from_slice(&["--at", "2026-06-01"]);
        let run = env.run(&bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{bad:?}: {}", run.stderr);
    }
}
