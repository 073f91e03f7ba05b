//! `traction import`, `export`, `config` and `backup` through the real binary.

use crate::util::Env;

#[test]
fn a_bad_file_exits_2_names_line_and_column_and_stores_nothing() {
    let env = Env::new();
    let teams = env.file("teams.csv", "id,name\nt1,North\n");
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    let users = env.file("users.csv", "id,name,team_id,role\nu1,Ann,t1,boss\nu2,Bob,t9,rep\n");
    let run = env.run(&["import", "users", users.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("users.csv:3: team_id \"t9\": no such team"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "users.csv:2: role \"boss\" is not allowed: use one of admin, manager, rep, viewer"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was imported"), "{}", run.stderr);
    assert_eq!(env.ok(&["export", "users"]), "id,name,email,role,team_id,active,created_at\n");
}

#[test]
fn import_export_and_config_work_end_to_end() {
    let env = Env::new();
    env.ok(&["config", "set", "timezone", "America/New_York"]);
    assert_eq!(
        env.ok(&["config", "get", "timezone", "--format", "table"]).trim(),
        "America/New_York"
    );
    let teams = env.file("teams.ndjson", "{\"id\":\"t1\",\"name\":\"North\"}\n");
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    // A local time is read in the workspace zone: 09:00 in New York in July is 13:00 UTC.
    let users = env.file("users.csv", "id,name,team_id,created_at\nu1,Ann,t1,2026-07-01 09:00\n");
    env.ok(&["import", "users", users.to_str().unwrap()]);
    let exported = env.ok(&["export", "users", "--format", "ndjson"]);
    assert_eq!(
        exported,
        "{\"id\":\"u1\",\"name\":\"Ann\",\"email\":null,\"role\":\"rep\",\"team_id\":\"t1\",\"active\":true,\"created_at\":\"2026-07-01T13:00:00Z\"}\n"
    );
    let run = env.run(&["config", "set", "work_hours", "17:00-09:00"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("must end after they start"), "{}", run.stderr);
    let copy = env.dir.path().join("copy.db");
    env.ok(&["backup", copy.to_str().unwrap()]);
    assert_eq!(
        crate::util::run_in(&copy, &["export", "teams"]).stdout,
        "id,name,parent_id\nt1,North,\n"
    );
}

#[test]
fn usage_errors_exit_2_without_a_backtrace() {
    let env = Env::new();
    let run = env.run(&["import", "dealz", "x.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("\"dealz\" is not an entity: use one of teams, users"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
    let run = env.run(&["import", "deals", "missing.csv"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot open missing.csv"), "{}", run.stderr);
}

#[test]
fn export_where_writes_only_the_matching_records_in_the_import_format() {
    let env = Env::new();
    let teams = env.file(
        "teams.csv",
        "id,name,parent_id\nt1,North,\nt2,South,\nt3,North-East,t1\nt4,West,t1\n",
    );
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    // By hand: the teams under t1, in key order.
    let out = env.ok(&["export", "teams", "--where", "parent_id = 't1'"]);
    assert_eq!(out, "id,name,parent_id\nt3,North-East,t1\nt4,West,t1\n");
    let out = env.ok(&[
        "export",
        "teams",
        "--where",
        "name = 'South' or id = 't1'",
        "--format",
        "ndjson",
    ]);
    assert_eq!(
        out,
        "{\"id\":\"t1\",\"name\":\"North\",\"parent_id\":null}\n{\"id\":\"t2\",\"name\":\"South\",\"parent_id\":null}\n"
    );
    // Nothing matches: the header only.
    assert_eq!(env.ok(&["export", "teams", "--where", "name = 'Nowhere'"]), "id,name,parent_id\n");
    // A mistake is bad input (exit 2) that says where it is.
    let bad = env.run(&["export", "teams", "--where", "colour = 'red'"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--where") && bad.stderr.contains("colour"), "{}", bad.stderr);
}

#[test]
fn events_import_with_their_kinds_normalised_and_export_back_the_same() {
    let env = Env::new();
    let teams = env.file("teams.csv", "id,name\nkitchen,Community kitchen\n");
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    let events = env.file(
        "events.csv",
        "id,kind,occurred_at,quantity,amount,team_id,note\n\
         e1,Meals Served,2026-03-02 13:00,64,,kitchen,lunch\n\
         e2,VOLUNTEER-hours,2026-03-02 09:00,2.75,,kitchen,\n\
         e3,cash_in,2026-03-03,,40.50,kitchen,donation\n",
    );
    env.ok(&["import", "events", events.to_str().unwrap()]);
    let exported = env.ok(&["export", "events"]);
    assert_eq!(
        exported,
        "id,kind,occurred_at,quantity,amount,owner_id,team_id,account_id,campaign_id,note\n\
         e1,meals_served,2026-03-02T13:00:00Z,64,,,kitchen,,,lunch\n\
         e2,volunteer_hours,2026-03-02T09:00:00Z,2.75,,,kitchen,,,\n\
         e3,cash_in,2026-03-03T00:00:00Z,1,40.50,,kitchen,,,donation\n"
    );
    // Re-importing the export changes nothing.
    let again = env.file("again.csv", &exported);
    env.ok(&["import", "events", again.to_str().unwrap()]);
    assert_eq!(env.ok(&["export", "events"]), exported);
    // A bad kind and a quantity with too many decimals are named by line and column.
    let bad = env.file(
        "bad.csv",
        "id,kind,occurred_at,quantity\ne4,meals/served,2026-03-04,1\ne5,meals,2026-03-04,0.1234567\n",
    );
    let run = env.run(&["import", "events", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.csv:2: kind \"meals/served\""), "{}", run.stderr);
    assert!(run.stderr.contains("bad.csv:3: quantity"), "{}", run.stderr);
    assert_eq!(env.ok(&["export", "events"]), exported);
}
