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
