//! The funnel (metrics.md): the seeds' example and deals that skip stages.

use traction_metrics::Filter;
use traction_metrics::{FunnelQuery, funnel};

use crate::fixture::Fx;

/// Pipeline p1 (Start, Discovery, Demo, Won; Lost). Of 20 deals created in March 2026:
/// 3 won (one of them skipped Discovery), 9 reached Demo and were lost, 2 reached Discovery and
/// were lost, 6 are still at Start without any history. One February deal is outside the range.
fn fx() -> Fx {
    let fx = Fx::new("UTC");
    let mut deals = String::from("id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n");
    let mut history = String::from("deal_id,stage_id,changed_at\n");
    let mut add = |id: &str, current: &str, path: &[&str], created: &str| {
        let closed = if matches!(current, "won" | "lost") { "2026-03-28" } else { "" };
        deals.push_str(&format!("{id},p1,{current},u1,100,{created},{closed}\n"));
        for (idx, stage) in path.iter().enumerate() {
            history.push_str(&format!("{id},{stage},2026-03-{:02} 10:00\n", 10 + idx));
        }
    };
    add("w1", "won", &["s1", "s2", "s3", "won"], "2026-03-01");
    add("w2", "won", &["s1", "s2", "s3", "won"], "2026-03-01");
    add("w3", "won", &["s1", "s3", "won"], "2026-03-01");
    for n in 0..9 {
        add(&format!("d{n}"), "lost", &["s1", "s2", "s3", "lost"], "2026-03-02");
    }
    for n in 0..2 {
        add(&format!("q{n}"), "lost", &["s1", "s2", "lost"], "2026-03-03");
    }
    for n in 0..6 {
        add(&format!("o{n}"), "s1", &[], "2026-03-04");
    }
    add("old", "won", &["s1", "s2", "s3", "won"], "2026-02-01");
    fx.import("deals", &deals);
    fx.import("stage_changes", &history);
    fx
}

#[test]
fn the_seeds_funnel_70_60_15_shows_the_leak_at_the_demo() {
    let fx = fx();
    let q = FunnelQuery {
        pipeline: None,
        from: fx.at("2026-03-01"),
        to: fx.at("2026-04-01"),
        filter: Filter::default(),
        at: fx.at("2030-01-01"),
    };
    let res = funnel(&*fx.store, &q).unwrap();
    let rows: Vec<_> = res
        .rows
        .iter()
        .map(|r| (r.stage.as_str(), r.position, r.reached, r.conversion_to_next, r.leakage))
        .collect();
    // Reached: 20 started; 14 reached Discovery or later (70%): 3 won (w3 skipped it but went
    // further), 9 + 2 lost after it; 12 reached Demo (60%); 3 won (15%).
    // Conversions 14/20, 12/14, 3/12; the demo leaks most (0.75).
    let close = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-12);
    assert_eq!(
        rows.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(),
        [("s1", 1, 20), ("s2", 2, 14), ("s3", 3, 12), ("won", 4, 3)]
    );
    assert!(close(rows[0].3, 0.7) && close(rows[0].4, 0.3));
    assert!(close(rows[1].3, 12.0 / 14.0));
    assert!(close(rows[2].3, 0.25) && close(rows[2].4, 0.75));
    assert_eq!((rows[3].3, rows[3].4), (None, None));
    assert_eq!(res.rows[0].pipeline, "p1");
    assert_eq!(res.rows[3].conversion_to_next, None, "written as null");
}

#[test]
fn the_funnel_as_of_an_earlier_clock_and_with_a_filter() {
    let fx = fx();
    // On 11 March at noon the histories had reached their second entry only: w1, w2, the 9 d's
    // and 2 q's were in Discovery (13), w3 in Demo; nobody had won.
    let q = FunnelQuery {
        pipeline: Some("p1".into()),
        from: fx.at("2026-03-01"),
        to: fx.at("2026-04-01"),
        filter: Filter::default(),
        at: fx.at("2026-03-11 12:00"),
    };
    let res = funnel(&*fx.store, &q).unwrap();
    // The six deals without history are at Start. 20 started; Discovery or later: 13 + w3 = 14;
    // Demo or later: w3 only; won: none yet.
    let reached: Vec<u64> = res.rows.iter().map(|r| r.reached).collect();
    assert_eq!(reached, [20, 14, 1, 0]);
    let q = FunnelQuery {
        filter: Filter::parse("id in ('w1', 'w3', 'o1')").unwrap(),
        at: fx.at("2030-01-01"),
        ..q
    };
    let reached: Vec<u64> =
        funnel(&*fx.store, &q).unwrap().rows.iter().map(|r| r.reached).collect();
    assert_eq!(reached, [3, 2, 2, 2]);
    let bad = FunnelQuery { pipeline: Some("nope".into()), ..q };
    assert!(funnel(&*fx.store, &bad).unwrap_err().to_string().contains("no pipeline \"nope\""));
}
