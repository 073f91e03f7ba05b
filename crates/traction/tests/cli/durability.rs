//! A killed import leaves the database as it was before the import (all or nothing), and every
//! import that was acknowledged is still there (spec: quality.md, Reliability).

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::Env;

#[test]
fn an_import_killed_midway_stores_nothing_and_loses_nothing_acknowledged() {
    let env = Env::new();
    let teams = env.file("teams.csv", "id,name\nt1,North\n");
    env.ok(&["import", "teams", teams.to_str().unwrap()]);
    let users = env.file("users.csv", "id,name,team_id,created_at\nu1,Ann,t1,2026-01-01\n");
    env.ok(&["import", "users", users.to_str().unwrap()]);
    let mut csv = String::from("id,kind,occurred_at,owner_id\n");
    for i in 0..300_000 {
        csv.push_str(&format!("a{i},call,2026-01-02T10:00:00Z,u1\n"));
    }
    let activities = env.file("activities.csv", &csv);
    // Kill the import at several moments; each time the table must hold all or none of the rows.
    for delay_ms in [5u64, 40, 150, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_traction"))
            .arg("--db")
            .arg(env.db())
            .args(["import", "activities", activities.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix: no chance to clean up.
        let status = child.wait().unwrap();
        let rows = env.ok(&["export", "activities"]).lines().count() - 1;
        if status.success() {
            assert_eq!(rows, 300_000, "a finished import is complete");
        } else {
            assert!(rows == 0 || rows == 300_000, "a killed import left {rows} rows");
        }
        // The acknowledged imports before it are intact.
        assert_eq!(env.ok(&["export", "users"]).lines().count(), 2);
        assert_eq!(env.ok(&["export", "teams"]).lines().count(), 2);
    }
}
