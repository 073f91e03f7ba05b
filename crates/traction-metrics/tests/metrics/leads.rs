//! Leads and lead generation (metrics.md).

use crate::fixture::{Fx, close};

/// Leads of March 2026 (UTC):
/// l1 web, answered after 1,800 s, qualified 3 Mar, converted 10 Mar;
/// l2 web, answered after 7,200 s, qualified 5 Mar;
/// l3 referral, answered after exactly 3,600 s;
/// l4 email, never answered.
/// Outside March: l5 (1 Apr, converted 20 Apr) and l6 (27 Feb, qualified 1 Mar).
const LEADS: &str = "\
id,created_at,source,owner_id,status,first_response_at,qualified_at,converted_at
l1,2026-03-02 09:00,web,u1,converted,2026-03-02 09:30,2026-03-03,2026-03-10
l2,2026-03-03 10:00,Web,u1,qualified,2026-03-03 12:00,2026-03-05,
l3,2026-03-04 11:00,referral,u2,contacted,2026-03-04 12:00,,
l4,2026-03-05 12:00,email,u2,new,,,
l5,2026-04-01 09:00,web,u1,converted,2026-04-01 09:10,2026-04-02,2026-04-20
l6,2026-02-27 08:00,web,u1,qualified,2026-02-27 09:00,2026-03-01,
";

fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("leads", LEADS);
    // March: 100 web visitors on the 1st and 60 from search on the 15th; April's 999 are outside.
    fx.import(
        "web_visits",
        "day,source,visitors\n2026-03-01,web,100\n2026-03-15,search,60\n2026-04-01,web,999\n",
    );
    fx.import("contacts", "id,name,created_at\nc1,Cy,2026-03-05 10:00\nc2,Di,2026-02-01\n");
    fx
}

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

#[test]
fn leads_created_and_qualified() {
    let fx = fx();
    // l1–l4 were created in March.
    close(fx.value("leads_created", MAR.0, MAR.1), 4.0);
    // Placed by qualified_at: l6 (1 Mar), l1 (3 Mar), l2 (5 Mar).
    close(fx.value("qualified_leads", MAR.0, MAR.1), 3.0);
    close(fx.value("contacts_added", MAR.0, MAR.1), 1.0);
}

#[test]
fn response_times_leave_out_unanswered_leads() {
    let fx = fx();
    // Responses of 1,800, 7,200 and 3,600 s: median 3,600, mean 12,600 / 3 = 4,200.
    close(fx.value("lead_response_time", MAR.0, MAR.1), 3600.0);
    close(fx.value("lead_response_time_avg", MAR.0, MAR.1), 4200.0);
    // Within the hour (≤ 3,600 s): l1 and l3 of the 4 leads; l4, unanswered, counts as not within.
    close(fx.value("leads_answered_within_hour_rate", MAR.0, MAR.1), 0.5);
}

#[test]
fn conversion_and_qualification_are_cohorts_up_to_the_clock() {
    let fx = fx();
    // Of l1–l4, l1 converted: 1 / 4; l1 and l2 qualified: 2 / 4.
    close(fx.value("lead_conversion_rate", MAR.0, MAR.1), 0.25);
    close(fx.value("lead_qualification_rate", MAR.0, MAR.1), 0.5);
    // April's one lead converted on 20 April: not yet on the 15th, by then on 1 May.
    close(fx.value_at("lead_conversion_rate", "2026-04-01", "2026-05-01", "2026-04-15"), 0.0);
    close(fx.value_at("lead_conversion_rate", "2026-04-01", "2026-05-01", "2026-05-01"), 1.0);
}

#[test]
fn the_seeds_example_150_leads_30_converted_is_0_2() {
    let fx = Fx::new("UTC");
    let mut csv = String::from("id,created_at,source,status,converted_at\n");
    for n in 0..150 {
        let day = 1 + n % 28;
        if n < 30 {
            csv.push_str(&format!(
                "x{n},2026-05-{day:02} 10:00,web,converted,2026-05-{day:02} 15:00\n"
            ));
        } else {
            csv.push_str(&format!("x{n},2026-05-{day:02} 10:00,web,new,\n"));
        }
    }
    fx.import("leads", &csv);
    close(fx.value("lead_conversion_rate", "2026-05-01", "2026-06-01"), 0.2);
    let res = fx.run(&fx.query(
        "lead_conversion_rate",
        "2026-05-01",
        "2026-06-01",
        traction_metrics::Grain::Month,
    ));
    assert_eq!((res.rows[0].numerator, res.rows[0].denominator), (Some(30.0), Some(150.0)));
}

#[test]
fn visitors_and_the_visitor_to_lead_rate() {
    let fx = fx();
    close(fx.value("web_visitors", MAR.0, MAR.1), 160.0);
    // Web leads l1 and l2 ("Web" is stored lower-cased) over 160 visitors of all sources.
    close(fx.value("visitor_to_lead_rate", MAR.0, MAR.1), 2.0 / 160.0);
    // By day: 2 March has a web lead and no visits — a zero denominator gives null, not an error.
    let res = fx.run(&fx.query(
        "visitor_to_lead_rate",
        "2026-03-01",
        "2026-03-03",
        traction_metrics::Grain::Day,
    ));
    let rows: Vec<_> = res
        .rows
        .iter()
        .map(|r| (r.period.clone().unwrap(), r.value, r.numerator, r.denominator))
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-03-01".to_string(), Some(0.0), Some(0.0), Some(100.0)),
            ("2026-03-02".to_string(), None, Some(1.0), Some(0.0)),
        ]
    );
}

#[test]
fn leads_by_source_and_owner() {
    let fx = fx();
    assert_eq!(
        fx.by("leads_created", MAR.0, MAR.1, &["source"]),
        [("email".into(), Some(1.0)), ("referral".into(), Some(1.0)), ("web".into(), Some(2.0))]
    );
    // u1 owns l1 and l2 (team t1), u2 owns l3 and l4 (team t2).
    assert_eq!(
        fx.by("leads_created", MAR.0, MAR.1, &["team", "owner"]),
        [("t1/u1".into(), Some(2.0)), ("t2/u2".into(), Some(2.0))]
    );
}
