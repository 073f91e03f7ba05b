//! Email campaigns (metrics.md): messages placed by their sent event, each kind counted once.

use crate::fixture::{Fx, close};

/// m1 sent 2 Mar, opened twice, clicked, replied; m2 sent 3 Mar, opened; m3 sent 4 Mar, bounced;
/// m4 sent 5 Mar; m5 sent 27 Feb and opened 1 Mar (a February message); m6 has only an open
/// event (never sent, so never counted).
const EVENTS: &str = "\
id,message_id,kind,occurred_at,campaign_id
e1,m1,sent,2026-03-02 09:00,c1
e2,m1,opened,2026-03-02 10:00,
e3,m1,opened,2026-03-03 10:00,
e4,m1,clicked,2026-03-03 10:01,
e5,m1,replied,2026-03-03 11:00,
e6,m2,sent,2026-03-03 09:00,c1
e7,m2,opened,2026-03-04 09:00,
e8,m3,sent,2026-03-04 09:00,c2
e9,m3,bounced,2026-03-04 09:01,
e10,m4,sent,2026-03-05 09:00,c2
e11,m5,sent,2026-02-27 09:00,c1
e12,m5,opened,2026-03-01 09:00,
e13,m6,opened,2026-03-06 09:00,
";

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("campaigns", "id,name,channel\nc1,Spring,email\nc2,Launch,email\n");
    fx.import("email_events", EVENTS);
    fx
}

#[test]
fn rates_over_delivered_messages() {
    let fx = fx();
    // Sent in March: m1–m4; delivered (not bounced): m1, m2, m4.
    close(fx.value("emails_delivered", MAR.0, MAR.1), 3.0);
    // Opened m1 (twice, counted once) and m2: 2 / 3. Clicked m1: 1 / 3. Replied m1: 1 / 3.
    close(fx.value("email_open_rate", MAR.0, MAR.1), 2.0 / 3.0);
    close(fx.value("email_click_rate", MAR.0, MAR.1), 1.0 / 3.0);
    close(fx.value("email_response_rate", MAR.0, MAR.1), 1.0 / 3.0);
    // Bounced m3 of 4 sent.
    close(fx.value("email_bounce_rate", MAR.0, MAR.1), 0.25);
}

#[test]
fn by_campaign_and_up_to_the_clock() {
    let fx = fx();
    // c1: m1, m2 both opened → 1; c2: m3 bounced, m4 delivered not opened → 0 / 1.
    assert_eq!(
        fx.by("email_open_rate", MAR.0, MAR.1, &["campaign"]),
        [("c1".into(), Some(1.0)), ("c2".into(), Some(0.0))]
    );
    // At 2 March 12:00 only m1 was sent and opened: 1 / 1; its click came later.
    close(fx.value_at("email_open_rate", MAR.0, MAR.1, "2026-03-02 12:00"), 1.0);
    close(fx.value_at("email_click_rate", MAR.0, MAR.1, "2026-03-02 12:00"), 0.0);
}
