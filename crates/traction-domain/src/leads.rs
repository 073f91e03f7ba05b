//! What answers a lead (data-model.md, leads): the one rule, applied by the store's writer to
//! every activity written — from a page, the API, an import or the command line alike.
//!
//! A lead is answered by the first activity that reaches the person: a call, an e-mail, a
//! meeting, a demo or a social message, made by us (outbound), that concerns the lead
//! (`lead_id`), happened (not planned for later) and not before the lead came in. Notes, tasks,
//! proposals and events do not reach anyone, and an inbound message is the lead writing to us.
//! The lead's `first_response_at` becomes the activity's time when it had none, and a `new`
//! lead becomes `contacted`, so it leaves the waiting list at once. A lead already answered
//! keeps its first answer; a qualified, disqualified or converted lead keeps its status.

use crate::record::{Record, Value};
use crate::schema::Entity;
use crate::time::Micros;

/// The kinds of activity that answer a lead.
pub const ANSWERING_KINDS: &[&str] = &["call", "email", "meeting", "demo", "social"];

/// The lead an activity answers and when, if it answers one: `(lead_id, occurred_at)`.
/// `now` is the time of the write (a later activity is planned, not done).
pub fn answers(activity: &Record, now: Micros) -> Option<(String, Micros)> {
    if activity.entity != Entity::Activities {
        return None;
    }
    let kind = activity.get("kind").as_text()?;
    let lead = activity.get("lead_id").as_text()?;
    let at = activity.get("occurred_at").as_instant()?;
    let outbound = activity.get("direction").as_text().is_none_or(|d| d == "outbound");
    (ANSWERING_KINDS.contains(&kind) && outbound && at <= now).then(|| (lead.to_string(), at))
}

/// The lead as answered at `at`, when that changes it: `None` when it already has a first
/// response or `at` is before it came in.
pub fn answered(lead: &Record, at: Micros) -> Option<Record> {
    if !lead.get("first_response_at").is_null() {
        return None;
    }
    if lead.get("created_at").as_instant().is_some_and(|created| at < created) {
        return None;
    }
    let mut out = lead.clone();
    out.set("first_response_at", Value::Instant(at));
    if lead.get("status").as_text() == Some("new") {
        out.set("status", Value::Text("contacted".into()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(entity: Entity, pairs: &[(&str, Value)]) -> Record {
        let mut r = Record { entity, values: vec![Value::Null; entity.fields().len()] };
        for (k, v) in pairs {
            r.set(k, v.clone());
        }
        r
    }

    fn call(kind: &str, direction: &str, at: Micros) -> Record {
        rec(
            Entity::Activities,
            &[
                ("id", Value::Text("a1".into())),
                ("kind", Value::Text(kind.into())),
                ("direction", Value::Text(direction.into())),
                ("occurred_at", Value::Instant(at)),
                ("lead_id", Value::Text("l1".into())),
            ],
        )
    }

    #[test]
    fn outbound_contact_that_happened_answers_a_lead() {
        assert_eq!(answers(&call("call", "outbound", 100), 200), Some(("l1".into(), 100)));
        assert_eq!(answers(&call("email", "outbound", 200), 200), Some(("l1".into(), 200)));
        // Planned, inbound, or not reaching anyone: no answer.
        assert_eq!(answers(&call("call", "outbound", 300), 200), None);
        assert_eq!(answers(&call("email", "inbound", 100), 200), None);
        assert_eq!(answers(&call("note", "outbound", 100), 200), None);
        assert_eq!(answers(&call("task", "outbound", 100), 200), None);
        let mut no_lead = call("call", "outbound", 100);
        no_lead.set("lead_id", Value::Null);
        assert_eq!(answers(&no_lead, 200), None);
    }

    #[test]
    fn the_first_answer_is_kept_and_a_new_lead_becomes_contacted() {
        let lead = |status: &str, first: Value| {
            rec(
                Entity::Leads,
                &[
                    ("id", Value::Text("l1".into())),
                    ("created_at", Value::Instant(50)),
                    ("status", Value::Text(status.into())),
                    ("first_response_at", first),
                ],
            )
        };
        let done = answered(&lead("new", Value::Null), 100).unwrap();
        assert_eq!(done.get("first_response_at"), &Value::Instant(100));
        assert_eq!(done.get("status").as_text(), Some("contacted"));
        // A qualified lead answered for the first time keeps its status.
        let q = answered(&lead("qualified", Value::Null), 100).unwrap();
        assert_eq!(q.get("status").as_text(), Some("qualified"));
        assert!(answered(&lead("contacted", Value::Instant(80)), 100).is_none());
        // Before it came in: not an answer to it.
        assert!(answered(&lead("new", Value::Null), 40).is_none());
    }
}
