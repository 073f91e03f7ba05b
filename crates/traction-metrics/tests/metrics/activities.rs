//! Activities (metrics.md).

use crate::fixture::{Fx, close};

/// March 2026 (UTC). Calls: a1 outbound connected (u1), a2 outbound no_answer (u1), a3 outbound
/// booked (u2), a4 inbound connected (u2, not a call made). Emails: a5 outbound, a6 inbound.
/// Meetings: a7 held, a8 no_show, a9 without outcome. a10 demo, a11 proposal, a12 event,
/// a13 social, a14 task marked done, a18 a task with neither a done flag nor a due time (done, by
/// data-model.md's default). Not activities done: a15 a note, a16 a task marked not done, a17 a
/// task due later without a done flag (open, as on the Today page).
pub const ACTIVITIES: &str = "\
id,kind,occurred_at,owner_id,direction,outcome,done,due_at
a1,call,2026-03-02 09:00,u1,outbound,connected,,
a2,call,2026-03-02 10:00,u1,outbound,no_answer,,
a3,call,2026-03-03 11:00,u2,outbound,Booked,,
a4,call,2026-03-03 12:00,u2,inbound,connected,,
a5,email,2026-03-04 09:00,u1,outbound,,,
a6,email,2026-03-04 10:00,u1,inbound,replied,,
a7,meeting,2026-03-05 09:00,u1,outbound,held,,
a8,meeting,2026-03-05 14:00,u2,outbound,no_show,,
a9,meeting,2026-03-06 09:00,u2,outbound,,,
a10,demo,2026-03-06 11:00,u1,outbound,,,
a11,proposal,2026-03-09 09:00,u1,outbound,,,
a12,event,2026-03-10 18:00,u2,outbound,,,
a13,social,2026-03-11 12:00,u2,outbound,,,
a14,task,2026-03-12 12:00,u1,outbound,,true,
a15,note,2026-03-12 13:00,u1,outbound,,,
a16,task,2026-03-13 09:00,u1,outbound,,false,
a17,task,2026-03-13 10:00,u1,outbound,,,2026-03-20 09:00
a18,task,2026-03-13 11:00,u1,outbound,,,
";

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("activities", ACTIVITIES);
    fx
}

#[test]
fn every_activity_count() {
    let fx = fx();
    for (metric, want) in [
        ("activities", 15.0), // a1–a14 and a18, not the note a15 nor the open tasks a16, a17
        ("calls_made", 3.0),  // a1, a2, a3
        ("successful_calls", 2.0), // a1 connected, a3 booked
        ("emails_sent", 1.0), // a5
        ("meetings_booked", 3.0), // a7, a8, a9
        ("meetings_held", 2.0), // a7, and a9 with no outcome
        ("demos_given", 1.0),
        ("proposals_sent", 1.0),
        ("events_attended", 1.0),
        ("social_connections", 1.0),
    ] {
        let got = fx.value(metric, MAR.0, MAR.1);
        assert_eq!(got, Some(want), "{metric}");
    }
    close(fx.value("call_success_rate", MAR.0, MAR.1), 2.0 / 3.0);
}

#[test]
fn call_success_by_owner_and_team() {
    let fx = fx();
    // u1: a1 of a1, a2 → 0.5; u2: a3 of a3 → 1.
    assert_eq!(
        fx.by("call_success_rate", MAR.0, MAR.1, &["owner"]),
        [("u1".into(), Some(0.5)), ("u2".into(), Some(1.0))]
    );
    assert_eq!(
        fx.by("calls_made", MAR.0, MAR.1, &["team"]),
        [("t1".into(), Some(2.0)), ("t2".into(), Some(1.0))]
    );
    // By outcome of every activity: nulls sort last.
    let by_outcome = fx.by("meetings_booked", MAR.0, MAR.1, &["outcome"]);
    assert_eq!(
        by_outcome,
        [("held".into(), Some(1.0)), ("no_show".into(), Some(1.0)), ("".into(), Some(1.0))]
    );
}

#[test]
fn weekday_and_hour_of_day() {
    let fx = fx();
    // Calls made: Monday 2 March 09:00 and 10:00, Tuesday 3 March 11:00.
    assert_eq!(
        fx.by("calls_made", MAR.0, MAR.1, &["weekday"]),
        [("1".into(), Some(2.0)), ("2".into(), Some(1.0))]
    );
    assert_eq!(
        fx.by("calls_made", MAR.0, MAR.1, &["hour_of_day"]),
        [("9".into(), Some(1.0)), ("10".into(), Some(1.0)), ("11".into(), Some(1.0))]
    );
}
