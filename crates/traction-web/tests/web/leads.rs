//! The leads page over a hand-made set of leads: the counts (waiting, past the SLA, older) are
//! the store's, worked out by hand below, and the list comes a page at a time.

use traction_domain::Entity;

use super::records::{NOW, next_page, rec, slice, spawn};

const MINUTE: i64 = 60_000_000;

/// Ann's 103 web leads `w000`…`w102`, `w{i}` in 10 + i minutes before the clock, so those with
/// i > 50 are past the 60-minute SLA (52 of them) and `w050`, exactly 60 minutes old, is not;
/// Bob's event lead of two days ago (past it too); Bob's lead of 40 days ago (older); an answered
/// lead and a qualified one, not waiting.
fn leads() -> Vec<traction_domain::Record> {
    let instant = |micros: i64| jiff::Timestamp::from_microsecond(micros).unwrap().to_string();
    let mut records = vec![
        rec(Entity::Users, "id=u1;name=Ann"),
        rec(Entity::Users, "id=u2;name=Bob"),
        rec(
            Entity::Leads,
            &format!(
                "id=b1;owner_id=u2;source=event;created_at={}",
                instant(NOW - 2 * 1440 * MINUTE)
            ),
        ),
        rec(
            Entity::Leads,
            &format!(
                "id=old1;owner_id=u2;source=web;created_at={}",
                instant(NOW - 40 * 1440 * MINUTE)
            ),
        ),
        rec(
            Entity::Leads,
            &format!(
                "id=ans;owner_id=u1;source=web;created_at={};first_response_at={}",
                instant(NOW - 90 * MINUTE),
                instant(NOW - 80 * MINUTE)
            ),
        ),
        rec(
            Entity::Leads,
            &format!(
                "id=q1;owner_id=u1;source=web;status=qualified;created_at={}",
                instant(NOW - 90 * MINUTE)
            ),
        ),
    ];
    for i in 0..103 {
        let created = instant(NOW - (10 + i) * MINUTE);
        records.push(rec(
            Entity::Leads,
            &format!("id=w{i:03};owner_id=u1;source=web;created_at={created}"),
        ));
    }
    records
}

fn lead_ids(html: &str) -> Vec<String> {
    let list = slice(html, "id=\"waiting\"", "</section>");
    list.match_indices("href=\"/leads/")
        .map(|(at, _)| {
            let rest = &list[at + 13..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_leads_page_shows_the_stores_counts_and_one_page_at_a_time() {
    let s = spawn(leads()).await;
    let first = s.page("/leads").await;
    assert!(
        first.contains("104 waiting for an answer · 53 past the 60-minute SLA"),
        "{}",
        slice(&first, "class=\"sub\"", "</p>")
    );
    assert!(first.contains("1 older leads (over 30 days) were never answered."), "{first}");
    let ids = lead_ids(&first);
    let expected: Vec<String> = (0..100).map(|i| format!("w{i:03}")).collect();
    assert_eq!(ids, expected);
    // w050 waits exactly the SLA: not over it; w051 is.
    let over = |html: &str, id: &str| {
        let at = html.find(&format!("href=\"/leads/{id}\"")).unwrap();
        let start = html[..at].rfind("<tr").unwrap();
        html[start..at].contains("sla-breach")
    };
    assert!(!over(&first, "w050") && over(&first, "w051"));
    assert!(first.contains("Showing 100 of 104, newest first."), "{first}");

    let next = next_page(&first);
    // The place after w099, 109 minutes before the clock.
    assert_eq!(next, format!("/leads?after={}:w099", NOW - 109 * MINUTE));
    let second = s.page(&next).await;
    assert_eq!(lead_ids(&second), ["w100", "w101", "w102", "b1"]);
    assert!(second.contains("104 waiting for an answer · 53 past the 60-minute SLA"));
    assert!(!second.contains("rel=\"next\""), "the last page has no next page");

    // One owner's leads, and a stricter SLA: the filters stay in the next page's link.
    let bob = s.page("/leads?owner=u2").await;
    assert!(bob.contains("1 waiting for an answer · 1 past the 60-minute SLA"), "{bob}");
    assert_eq!(lead_ids(&bob), ["b1"]);
    let strict = s.page("/leads?owner=u1&sla=30").await;
    // Past 30 minutes: 10 + i > 30, i from 21 to 102.
    assert!(strict.contains("103 waiting for an answer · 82 past the 30-minute SLA"), "{strict}");
    assert!(next_page(&strict).starts_with("/leads?owner=u1&sla=30&after="), "{strict}");

    let (status, body) = s.get("/leads?after=yesterday").await;
    assert_eq!(status, 400, "{body}");
}
