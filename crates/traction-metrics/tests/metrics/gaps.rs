//! Issue 24.7, the catalog's gaps named by sales practice: accounts ranked by revenue (the
//! `account` dimension), the share of lost deals lost to a competitor, site visitors who became
//! paying customers, and lead origin (inbound/outbound, online/offline) derived from source.

use traction_metrics::Filter;
use traction_metrics::Grain;

use crate::fixture::{Fx, close};

/// Four accounts (a1, a2 from the base), their orders in December 2025 and January 2026, two won
/// deals, site visits, and the leads of January.
fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("accounts", "id,name,created_at\na3,Cafe,2025-06-01\na4,Stall,2025-06-01\n");
    fx.import(
        "orders",
        "id,account_id,placed_at,status,channel,total\n\
         o1,a1,2026-01-05 10:00,placed,web,100.00\n\
         o2,a2,2026-01-10 10:00,placed,store,250.00\n\
         o3,a1,2026-01-20 10:00,placed,web,30.00\n\
         o4,a2,2026-01-21 10:00,cancelled,web,500.00\n\
         o5,a2,2026-01-25 10:00,placed,Web,20.00\n\
         o6,a3,2026-01-28 10:00,placed,web,60.00\n\
         o7,a3,2025-12-10 10:00,placed,store,80.00\n\
         o8,a4,2026-01-29 10:00,cancelled,web,70.00\n",
    );
    fx.import(
        "deals",
        "id,pipeline_id,stage_id,owner_id,account_id,amount,created_at,closed_at,source,competitor\n\
         d1,p1,won,u1,a1,1000.00,2026-01-02,2026-01-15 10:00,web,\n\
         d2,p1,won,u2,a2,200.00,2026-01-03,2026-01-16 10:00,cold_call,\n\
         d3,p1,lost,u1,a1,300.00,2026-01-04,2026-02-03 10:00,referral,Rival Ltd\n\
         d4,p1,lost,u1,a2,300.00,2026-01-04,2026-02-04 10:00,web,\n\
         d5,p1,lost,u2,a3,300.00,2026-01-04,2026-02-05 10:00,email,Other Co\n\
         d6,p1,won,u2,a3,300.00,2026-01-04,2026-02-06 10:00,event,\n",
    );
    fx.import("web_visits", "day,source,visitors\n2026-01-01,web,300\n2026-01-02,search,100\n");
    fx.import(
        "leads",
        "id,created_at,source\n\
         l1,2026-01-05 09:00,web\nl2,2026-01-06 09:00,Web \nl3,2026-01-07 09:00,referral\n\
         l4,2026-01-08 09:00,cold_call\nl5,2026-01-09 09:00,email\nl6,2026-01-10 09:00,event\n\
         l7,2026-01-11 09:00,trade fair\n",
    );
    fx
}

#[test]
fn accounts_rank_by_revenue() {
    let fx = fx();
    // January's counted orders: a1 100 + 30; a2 250 + 20 (o4 is cancelled); a3 60; a4 none
    // counted (o8 is cancelled). Rows come in account order.
    assert_eq!(
        fx.by("revenue", "2026-01-01", "2026-02-01", &["account"]),
        [("a1".into(), Some(130.0)), ("a2".into(), Some(270.0)), ("a3".into(), Some(60.0))]
    );
    // Orders and won deals together: a1 130 + 1,000; a2 270 + 200; a3 60.
    assert_eq!(
        fx.by("total_revenue", "2026-01-01", "2026-02-01", &["account"]),
        [("a1".into(), Some(1130.0)), ("a2".into(), Some(470.0)), ("a3".into(), Some(60.0))]
    );
    // And a where on the account.
    let mut q = fx.query("revenue_won", "2026-01-01", "2026-03-01", Grain::All);
    q.filter = Filter::parse("account = 'a3'").unwrap();
    assert_eq!(fx.run(&q).rows[0].value, Some(300.0));
}

#[test]
fn the_share_of_lost_deals_lost_to_a_competitor() {
    let fx = fx();
    // February: d3, d4, d5 lost, of which d3 (Rival Ltd) and d5 (Other Co) to a competitor.
    close(fx.value("lost_to_competitor_rate", "2026-02-01", "2026-03-01"), 2.0 / 3.0);
    // January lost none: 0 / 0 is null, not 0.
    assert_eq!(fx.value("lost_to_competitor_rate", "2026-01-01", "2026-02-01"), None);
    // By competitor's owner: u1 lost d3 (to Rival) and d4 (to no one): 1/2; u2 lost d5: 1/1.
    assert_eq!(
        fx.by("lost_to_competitor_rate", "2026-02-01", "2026-03-01", &["owner"]),
        [("u1".into(), Some(0.5)), ("u2".into(), Some(1.0))]
    );
}

#[test]
fn site_visitors_who_become_paying_customers() {
    let fx = fx();
    // January: 300 + 100 visitors. New customers with a counted web order in January: a1 (first
    // purchase o1, 5 January, on the web) and a2 (first purchase o2 in the store on 10 January,
    // then o5 on the web; the channel `Web` is read as `web`). Not a3 (first purchase in
    // December) nor a4 (its only order is cancelled). 2 / 400.
    close(fx.value("visitor_to_customer_rate", "2026-01-01", "2026-02-01"), 2.0 / 400.0);
    // By month: December has no row (no visits and no new customer from the site: nothing to
    // count on either side), January 2 / 400.
    let mut q = fx.query("visitor_to_customer_rate", "2025-12-01", "2026-02-01", Grain::Month);
    q.at = fx.at("2026-03-01");
    let rows: Vec<_> = fx.run(&q).rows.into_iter().map(|r| (r.period, r.value)).collect();
    assert_eq!(rows, [(Some("2026-01-01".into()), Some(0.005))]);
}

#[test]
fn lead_origin_is_derived_from_source() {
    let fx = fx();
    // Inbound: web, web (`Web ` trimmed and lower-cased), referral; outbound: cold_call, email,
    // event; `trade fair` is in neither list. Online: web, web, email; offline: referral,
    // cold_call, event.
    assert_eq!(
        fx.by("leads_created", "2026-01-01", "2026-02-01", &["origin"]),
        [
            ("inbound".into(), Some(3.0)),
            ("other".into(), Some(1.0)),
            ("outbound".into(), Some(3.0))
        ]
    );
    assert_eq!(
        fx.by("leads_created", "2026-01-01", "2026-02-01", &["medium"]),
        [("offline".into(), Some(3.0)), ("online".into(), Some(3.0)), ("other".into(), Some(1.0))]
    );
    assert_eq!(fx.value("inbound_leads", "2026-01-01", "2026-02-01"), Some(3.0));
    assert_eq!(fx.value("outbound_leads", "2026-01-01", "2026-02-01"), Some(3.0));
    close(fx.value("inbound_lead_share", "2026-01-01", "2026-02-01"), 3.0 / 7.0);
    close(fx.value("online_lead_share", "2026-01-01", "2026-02-01"), 3.0 / 7.0);
    // Deals carry the same dimensions: won in January, d1 (web, inbound) 1,000 and d2
    // (cold_call, outbound) 200; in February d6 (event, outbound) 300.
    assert_eq!(
        fx.by("revenue_won", "2026-01-01", "2026-03-01", &["origin"]),
        [("inbound".into(), Some(1000.0)), ("outbound".into(), Some(500.0))]
    );
}
