//! `traction demo`: fills an empty database, refuses a full one, and says how to fix bad flags.

use super::util::Env;

#[test]
fn demo_fills_an_empty_database_and_refuses_a_full_one() {
    let env = Env::new();
    let run = env.run(&["demo", "--seed", "5", "--at", "2026-11-23T12:00:00Z"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("demo data (seed 5, scale s)"), "{}", run.stderr);
    assert!(run.stderr.contains("stage_changes"), "{}", run.stderr);
    // Ids carry the seed; times are in the zone the demo set (Europe/London).
    let deals = env.ok(&["export", "deals"]);
    assert!(deals.lines().nth(1).is_some_and(|l| l.starts_with("d5-deal-")), "{deals}");
    let zone = env.ok(&["config", "get", "timezone", "--format", "csv"]);
    assert!(zone.contains("Europe/London"), "{zone}");
    // The kitchen's monthly meals target is a KPI beside the sales ones (docs/demo-data.md), with
    // its pace: 23 November is in its month.
    let kpis: serde_json::Value = serde_json::from_str(&env.ok(&[
        "kpi",
        "status",
        "--at",
        "2026-11-23T12:00:00Z",
        "--format",
        "json",
    ]))
    .unwrap();
    let meals: Vec<&serde_json::Value> = kpis["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{kpis}"))
        .iter()
        .filter(|k| k["metric"] == "meals_served")
        .collect();
    assert_eq!(meals.len(), 1, "{kpis}");
    assert_eq!(meals[0]["scope"], "team:d5-team-kitchen", "{kpis}");
    assert!(meals[0]["pace"].as_f64().is_some_and(|p| p > 0.0), "{kpis}");

    let again = env.run(&["demo", "--seed", "6", "--at", "2026-11-23T12:00:00Z"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("--add"), "{}", again.stderr);
    let same = env.run(&["demo", "--seed", "5", "--add"]);
    assert_eq!(same.code, 2, "{}", same.stderr);
    assert!(same.stderr.contains("another --seed"), "{}", same.stderr);
}

#[test]
fn a_bad_scale_lists_the_scales() {
    let env = Env::new();
    let run = env.run(&["demo", "--scale", "xl"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("s (≈100k rows), m (≈1M) or l (≈10M)"), "{}", run.stderr);
}

#[test]
fn a_local_at_is_read_in_the_demo_time_zone() {
    // On an empty database the demo sets Europe/London before reading --at, so the date
    // 2026-07-01 means local midnight in summer time: 2026-06-30T23:00:00Z. No lead is later.
    let env = Env::new();
    env.ok(&["demo", "--at", "2026-07-01"]);
    let leads = env.ok(&["export", "leads"]);
    let last = leads.lines().skip(1).filter_map(|l| l.split(',').nth(1)).max().unwrap().to_string();
    assert!(last.as_str() < "2026-06-30T23:00:00Z", "{last}");
    assert!(last.as_str() > "2026-06-29", "{last}");
}

/// Runs `traction serve --demo` on a free port until its stderr has a line containing `until`,
/// then stops it; returns what it printed.
fn serve_demo_until(env: &Env, until: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_traction"))
        .arg("--db")
        .arg(env.db())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--at", "2026-11-23T12:00:00Z"])
        .env_remove("TRACTION_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen_at: Option<std::time::Instant> = None;
    loop {
        // After the line come the people, one per role, the viewer last: read until the viewer's
        // line (a fixed pause was too short on a loaded machine), or give up 30 s after the line.
        let wait = match seen_at {
            Some(t) if t.elapsed() > std::time::Duration::from_secs(30) => break,
            Some(_) => std::time::Duration::from_millis(200),
            None => deadline.saturating_duration_since(std::time::Instant::now()),
        };
        match rx.recv_timeout(wait) {
            Ok(line) => {
                if line.contains(until) && seen_at.is_none() {
                    seen_at = Some(std::time::Instant::now());
                }
                let viewer = seen_at.is_some() && line.split_whitespace().next() == Some("viewer");
                printed.push_str(&line);
                printed.push('\n');
                if viewer {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if seen_at.is_some() => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(printed.contains(until), "serve --demo never said {until:?}: {printed}");
    printed
}

/// Issue 22.8: the demo's passwords are shown once; a restarted `serve --demo` says who can
/// sign in and how to set a new password, naming the same people.
#[test]
fn issue_22_a_restarted_demo_server_says_how_to_sign_in_again() {
    let env = Env::new();
    let first = serve_demo_until(&env, "sign in at /login");
    let people: Vec<(String, String)> = first
        .lines()
        .skip_while(|l| !l.contains("sign in at /login"))
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let role = words.next()?.to_string();
            let id = words.next()?.to_string();
            words.next()?; // the password
            ["admin", "manager", "rep", "viewer"].contains(&role.as_str()).then_some((role, id))
        })
        .collect();
    assert_eq!(people.len(), 4, "one of each role: {first}");

    let again = serve_demo_until(&env, "--password-stdin");
    let admin = &people.iter().find(|(role, _)| role == "admin").unwrap().1;
    assert!(again.contains(&format!("user passwd {admin} --password-stdin")), "{again}");
    assert!(again.contains("serving it as it is"), "{again}");
    assert!(again.contains("the passwords were shown only when the demo was made"), "{again}");
    for (role, id) in &people {
        assert!(
            again.lines().any(|l| l.split_whitespace().eq([role.as_str(), id.as_str()])),
            "{role} {id} is listed: {again}"
        );
    }
}
