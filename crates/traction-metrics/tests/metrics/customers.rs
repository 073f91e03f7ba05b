//! Catalog part two against one hand-worked fixture (metrics.md, Customers, orders and products;
//! Costs, efficiency and satisfaction): six customers over the first quarter of 2026 — one who
//! returns (a1), ones who churn (a2, a3), one who first buys through a won deal and orders later
//! (a5), one who only has a deal (a6) — a cancelled and a returned order, a product without cost
//! and a campaign with no revenue. Every expected value is worked out by hand in the comments.

use traction_metrics::Filter;
use traction_metrics::{Catalog, Grain, Query, run};

use crate::fixture::{Fx, close};

/// Zone UTC. Accounts a1 smb (base), a2 enterprise (base), a3 smb, a4 enterprise, a5 smb, a6 smb.
///
/// Products: pA 10.00, cost 4.00, opening stock 100, reorder level 20; pB 50.00, no cost, opening
/// 5, reorder level 10; pC 20.00, cost 15.00, opening 0, no reorder level.
///
/// | order | account | placed (10:00) | status | lines | amount | promised | fulfilled |
/// | o1 | a1 | 5 Jan | fulfilled | pA 3 × 10 | 30 | 8 Jan | 7 Jan (on time) |
/// | o2 | a2 | 10 Jan | placed | pB 1 × 50 | 50 | 12 Jan | — (not on time) |
/// | o3 | a3 | 20 Jan | fulfilled | pA 2 × 10 − 2 | 18 | 22 Jan | 23 Jan (late) |
/// | o4 | a1 | 3 Feb | fulfilled | pC 1 × 20 | 20 | 5 Feb | 5 Feb 23:30 (on time) |
/// | o5 | a1 | 17 Feb | placed | pA 5 × 10 | 50 | | |
/// | o6 | a3 | 10 Feb | cancelled | pA 10 × 10 | 100 | 11 Feb | |
/// | o7 | a4 | 12 Feb | placed | pB 2 × 50 | 100 | | |
/// | o8 | a2 | 20 Feb | returned | pC 1 × 20 | 20 | | |
/// | o9 | a4 | 2 Mar | placed | pA 1 × 10 | 10 | | |
/// | o10 | a5 | 5 Mar | placed | (total given) | 40 | | |
/// | o11 | a1 | 9 Mar | placed | pA 4 × 10 | 40 | | |
///
/// Won deals: d1 a2 1,000 closed 15 Feb (campaign cm1); d3 a5 300 closed 25 Feb; d2 a6 500
/// closed 20 Mar. Restock: pB +10 on 25 Feb.
///
/// Costs: 10 Jan marketing 300 (cm1); 20 Jan sales 150; 5 Feb marketing 200 (cm2, a campaign
/// with no revenue); 10 Feb service 34; 1 Mar overhead 100; 10 Mar marketing 60 (cm1); 15 Mar
/// service 27.
///
/// Surveys: Feb nps 10, 10, 3; Mar nps 10, 9, 8, 7, 6, 0; Mar csat 5, 4, 3, 1.
pub fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import(
        "accounts",
        "id,name,segment,created_at\na3,Cafe,smb,2025-06-01\na4,Dept,enterprise,2025-06-01\n\
         a5,Shop,smb,2025-06-01\na6,Stall,smb,2025-06-01\n",
    );
    fx.import(
        "products",
        "id,name,unit_price,unit_cost,opening_stock,reorder_level\n\
         pA,Beans,10.00,4.00,100,20\npB,Grinder,50.00,,5,10\npC,Mug,20.00,15.00,,\n",
    );
    fx.import(
        "orders",
        "id,account_id,placed_at,status,total,promised_on,fulfilled_at,owner_id\n\
         o1,a1,2026-01-05 10:00,fulfilled,,2026-01-08,2026-01-07 09:00,u1\n\
         o2,a2,2026-01-10 10:00,placed,,2026-01-12,,u2\n\
         o3,a3,2026-01-20 10:00,fulfilled,,2026-01-22,2026-01-23 09:00,u1\n\
         o4,a1,2026-02-03 10:00,fulfilled,,2026-02-05,2026-02-05 23:30,u1\n\
         o5,a1,2026-02-17 10:00,placed,,,,u1\n\
         o6,a3,2026-02-10 10:00,cancelled,,2026-02-11,,u1\n\
         o7,a4,2026-02-12 10:00,placed,,,,u2\n\
         o8,a2,2026-02-20 10:00,returned,,,,u2\n\
         o9,a4,2026-03-02 10:00,placed,,,,u2\n\
         o10,a5,2026-03-05 10:00,placed,40.00,,,u1\n\
         o11,a1,2026-03-09 10:00,placed,,,,u1\n",
    );
    fx.import(
        "order_lines",
        "order_id,line,product_id,quantity,unit_price,discount\n\
         o1,1,pA,3,10.00,\no2,1,pB,1,50.00,\no3,1,pA,2,10.00,2.00\no4,1,pC,1,20.00,\n\
         o5,1,pA,5,10.00,\no6,1,pA,10,10.00,\no7,1,pB,2,50.00,\no8,1,pC,1,20.00,\n\
         o9,1,pA,1,10.00,\no11,1,pA,4,10.00,\n",
    );
    fx.import(
        "inventory_movements",
        "id,product_id,delta,reason,occurred_at\nm1,pB,10,restock,2026-02-25 08:00\n",
    );
    fx.import("campaigns", "id,name,channel\ncm1,Spring mail,email\ncm2,Fair,event\n");
    fx.import(
        "deals",
        "id,pipeline_id,stage_id,owner_id,account_id,amount,created_at,closed_at,campaign_id\n\
         d1,p1,won,u1,a2,1000,2026-01-15,2026-02-15,cm1\n\
         d2,p1,won,u1,a6,500,2026-03-01,2026-03-20,\n\
         d3,p1,won,u2,a5,300,2026-02-01,2026-02-25,\n",
    );
    fx.import(
        "costs",
        "id,incurred_on,category,amount,campaign_id,team_id,owner_id\n\
         c1,2026-01-10,marketing,300.00,cm1,t1,u1\nc2,2026-01-20,sales,150.00,,t1,u1\n\
         c3,2026-02-05,marketing,200.00,cm2,t2,u2\nc4,2026-02-10,service,34.00,,t2,u2\n\
         c5,2026-03-15,service,27.00,,t2,u2\nc6,2026-03-01,overhead,100.00,,,\n\
         c7,2026-03-10,marketing,60.00,cm1,t1,u1\n",
    );
    fx.import(
        "surveys",
        "id,kind,score,answered_at\n\
         v1,nps,10,2026-02-02\nv2,nps,10,2026-02-03\nv3,nps,3,2026-02-04\n\
         v4,nps,10,2026-03-02\nv5,nps,9,2026-03-03\nv6,nps,8,2026-03-04\n\
         v7,nps,7,2026-03-05\nv8,nps,6,2026-03-06\nv9,nps,0,2026-03-07\n\
         w1,csat,5,2026-03-02\nw2,csat,4,2026-03-03\nw3,csat,3,2026-03-04\nw4,csat,1,2026-03-05\n",
    );
    fx
}

const Q1: (&str, &str) = ("2026-01-01", "2026-04-01");

/// `(period, value)` of a monthly series over the first quarter.
fn monthly(fx: &Fx, metric: &str) -> Vec<(String, Option<f64>)> {
    fx.series(metric, Q1.0, Q1.1, Grain::Month)
}

#[track_caller]
fn series_close(got: Vec<(String, Option<f64>)>, want: &[(&str, Option<f64>)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((period, value), (want_period, want_value)) in got.iter().zip(want) {
        assert_eq!(period, want_period, "{got:?}");
        match want_value {
            Some(w) => close(*value, *w),
            None => assert_eq!(*value, None, "{period}: {got:?}"),
        }
    }
}

#[test]
fn revenue_orders_and_active_customers_by_month() {
    let fx = fx();
    // Jan o1 30 + o2 50 + o3 18 = 98; Feb o4 20 + o5 50 + o7 100 = 170 (o6 cancelled and o8
    // returned left out); Mar o9 10 + o10 40 + o11 40 = 90.
    series_close(
        monthly(&fx, "revenue"),
        &[("2026-01-01", Some(98.0)), ("2026-02-01", Some(170.0)), ("2026-03-01", Some(90.0))],
    );
    // Active: Jan a1 a2 a3; Feb a1 a4 (a3's only order is cancelled, a2's returned); Mar a4 a5 a1.
    series_close(
        monthly(&fx, "active_customers"),
        &[("2026-01-01", Some(3.0)), ("2026-02-01", Some(2.0)), ("2026-03-01", Some(3.0))],
    );
}

#[test]
fn new_customers_by_first_purchase() {
    let fx = fx();
    // First purchases: a1 5 Jan, a2 10 Jan, a3 20 Jan (orders); a4 12 Feb (order); a5 25 Feb
    // (won deal d3, before its first order on 5 Mar); a6 20 Mar (won deal only).
    series_close(
        monthly(&fx, "new_customers"),
        &[("2026-01-01", Some(3.0)), ("2026-02-01", Some(2.0)), ("2026-03-01", Some(1.0))],
    );
    assert_eq!(fx.value("new_customers", Q1.0, Q1.1), Some(6.0));
    // The first purchase comes from every record up to the clock, not only the range: in March
    // alone, a1 (first bought in January) is not new.
    assert_eq!(fx.value("new_customers", "2026-03-01", "2026-04-01"), Some(1.0));
    // At a clock of 1 March, a6 has bought nothing yet.
    assert_eq!(fx.value_at("new_customers", Q1.0, Q1.1, "2026-03-01"), Some(5.0));
    // By segment over the quarter: smb a1 a3 a5 a6, enterprise a2 a4.
    assert_eq!(
        fx.by("new_customers", Q1.0, Q1.1, &["segment"]),
        [("enterprise".to_string(), Some(2.0)), ("smb".to_string(), Some(4.0))]
    );
}

#[test]
fn new_customer_revenue_share_and_spend() {
    let fx = fx();
    // Jan: every order is from a customer who first bought in January: 98.
    // Feb: a4's o7 (100); a1 first bought in January. Mar: nobody's first purchase is in March
    // except a6, who has no order; a5's first purchase was the February deal: no such order, so
    // no row (like any aggregate with nothing to count).
    series_close(
        monthly(&fx, "new_customer_revenue"),
        &[("2026-01-01", Some(98.0)), ("2026-02-01", Some(100.0))],
    );
    // Over the quarter as one bucket, every customer is new: all revenue, 358.
    close(fx.value("new_customer_revenue", Q1.0, Q1.1), 358.0);
    series_close(
        monthly(&fx, "new_customer_revenue_share"),
        &[
            ("2026-01-01", Some(1.0)),
            ("2026-02-01", Some(100.0 / 170.0)),
            ("2026-03-01", Some(0.0)),
        ],
    );
    // Spend per new customer with an order in the bucket: Jan 98 / 3; Feb 100 / 1 (a4; a5 is
    // new in February but orders in March); March has no order of a new customer: no row.
    series_close(
        monthly(&fx, "average_spend_new_customer"),
        &[("2026-01-01", Some(98.0 / 3.0)), ("2026-02-01", Some(100.0))],
    );
}

#[test]
fn returning_and_repeat_customers() {
    let fx = fx();
    // Had a counted order before the bucket: Jan nobody (0 / 3); Feb a1 of a1 a4 (1 / 2); Mar a4
    // and a1 of a4 a5 a1 — a5's earlier purchase is a deal, not an order (2 / 3).
    series_close(
        monthly(&fx, "returning_customer_rate"),
        &[("2026-01-01", Some(0.0)), ("2026-02-01", Some(0.5)), ("2026-03-01", Some(2.0 / 3.0))],
    );
    // Two or more counted orders in the bucket: Feb a1 (o4, o5) of 2; a3's cancelled o6 does not
    // make a3 active at all.
    series_close(
        monthly(&fx, "repeat_purchase_rate"),
        &[("2026-01-01", Some(0.0)), ("2026-02-01", Some(0.5)), ("2026-03-01", Some(0.0))],
    );
    // Over the quarter: a1 (4 orders) and a4 (2) of 5 active customers repeat; nobody had an
    // order before the quarter.
    close(fx.value("repeat_purchase_rate", Q1.0, Q1.1), 0.4);
    close(fx.value("returning_customer_rate", Q1.0, Q1.1), 0.0);
}

#[test]
fn churn_and_retention_between_consecutive_months() {
    let fx = fx();
    // January has no previous month with customers: no row. February: of a1 a2 a3 (January),
    // only a1 ordered again (a2's February order was returned, a3's cancelled): churn 2/3.
    // March: a1 and a4 (February) both ordered again: 0. April: none of a4 a5 a1 did: 1.
    let churn = fx.series("customer_churn_rate", "2026-01-01", "2026-05-01", Grain::Month);
    series_close(
        churn,
        &[("2026-02-01", Some(2.0 / 3.0)), ("2026-03-01", Some(0.0)), ("2026-04-01", Some(1.0))],
    );
    let retention = fx.series("customer_retention_rate", "2026-01-01", "2026-05-01", Grain::Month);
    series_close(
        retention,
        &[("2026-02-01", Some(1.0 / 3.0)), ("2026-03-01", Some(1.0)), ("2026-04-01", Some(0.0))],
    );
    // The previous bucket comes from every record: March alone still compares with February.
    let res = fx.run(&fx.query("customer_churn_rate", "2026-03-01", "2026-04-01", Grain::Month));
    assert_eq!(
        (res.rows.len(), res.rows[0].numerator, res.rows[0].denominator),
        (1, Some(0.0), Some(2.0))
    );
    // By segment, February: smb a1 a3 → a1 stays (1/2 lost); enterprise a2 → lost (1/1).
    let mut q = fx.query("customer_churn_rate", "2026-02-01", "2026-03-01", Grain::Month);
    q.by = vec!["segment".into()];
    let rows: Vec<(String, Option<f64>)> =
        fx.run(&q).rows.iter().map(|r| (r.dims[0].text(), r.value)).collect();
    assert_eq!(rows, [("enterprise".to_string(), Some(1.0)), ("smb".to_string(), Some(0.5))]);
    // Grain all has no previous bucket to compare with: a clear error.
    let q = fx.query("customer_churn_rate", Q1.0, Q1.1, Grain::All);
    let err = run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string();
    assert!(err.contains("grain other than all"), "{err}");
}

#[test]
fn lifetime_value_realised_and_predicted() {
    let fx = fx();
    // Lifetime revenue up to the clock: a1 30 + 20 + 50 + 40 = 140; a2 50 + deal 1,000 = 1,050
    // (the returned o8 left out); a3 18 (o6 cancelled); a4 100 + 10 = 110; a5 deal 300 + 40 =
    // 340; a6 deal 500. By first purchase: Jan (140 + 1050 + 18) / 3; Feb (110 + 340) / 2; Mar 500.
    series_close(
        monthly(&fx, "customer_lifetime_value"),
        &[
            ("2026-01-01", Some(1208.0 / 3.0)),
            ("2026-02-01", Some(225.0)),
            ("2026-03-01", Some(500.0)),
        ],
    );
    // At a clock of 16 February: a1 has 30 + 20, a2 50 + 1,000, a3 18: January's is 1,118 / 3.
    let mut q = fx.query("customer_lifetime_value", "2026-01-01", "2026-02-01", Grain::Month);
    q.at = fx.at("2026-02-16");
    close(fx.run(&q).rows[0].value, 1118.0 / 3.0);
    // Predicted, February: revenue per customer 170 / 2 = 85, gross margin 0.5 (below), churn
    // 2/3: 85 × 0.5 / (2/3) = 63.75. March: churn 0, so null. January: no churn row, null.
    series_close(
        monthly(&fx, "predicted_customer_lifetime_value"),
        &[("2026-01-01", None), ("2026-02-01", Some(63.75)), ("2026-03-01", None)],
    );
}

#[test]
fn margins_units_and_fulfilment() {
    let fx = fx();
    // Lines of counted orders with a product cost (pB has none and is left out of both):
    // Jan o1 30 − 3 × 4 = 18, o3 18 − 2 × 4 = 10: 28 / 48. Feb o4 20 − 15 = 5, o5 50 − 20 = 30:
    // 35 / 70. Mar o9 10 − 4 = 6, o11 40 − 16 = 24: 30 / 50 (o10 has no lines).
    series_close(
        monthly(&fx, "gross_margin_rate"),
        &[("2026-01-01", Some(28.0 / 48.0)), ("2026-02-01", Some(0.5)), ("2026-03-01", Some(0.6))],
    );
    close(fx.value("gross_margin_rate", Q1.0, Q1.1), 93.0 / 168.0);
    // Units: Jan 3 + 1 + 2; Feb 1 + 5 + 2 (o6's 10 and o8's 1 left out); Mar 1 + 4.
    series_close(
        monthly(&fx, "units_sold"),
        &[("2026-01-01", Some(6.0)), ("2026-02-01", Some(8.0)), ("2026-03-01", Some(5.0))],
    );
    assert_eq!(
        fx.by("units_sold", Q1.0, Q1.1, &["product"]),
        [
            ("pA".to_string(), Some(15.0)),
            ("pB".to_string(), Some(3.0)),
            ("pC".to_string(), Some(1.0))
        ]
    );
    // Promised: o1 on time, o2 never fulfilled, o3 a day late, o4 fulfilled at 23:30 on its
    // promised day (on time); o6 is cancelled and left out. Jan 1/3, Feb 1/1, quarter 2/4.
    series_close(
        monthly(&fx, "order_fulfillment_rate"),
        &[("2026-01-01", Some(1.0 / 3.0)), ("2026-02-01", Some(1.0))],
    );
    close(fx.value("order_fulfillment_rate", Q1.0, Q1.1), 0.5);
}

#[test]
fn fulfilment_compares_the_local_date() {
    // In New York (UTC−5 in February), fulfilled at 03:00Z on 6 Feb is 22:00 on 5 Feb: on time
    // for a promise of 5 Feb. Placed at 10:00 local on 3 Feb.
    let fx = Fx::new("America/New_York");
    fx.import(
        "orders",
        "id,account_id,placed_at,status,total,promised_on,fulfilled_at\n\
         n1,a1,2026-02-03 10:00,fulfilled,5.00,2026-02-05,2026-02-06T03:00:00Z\n\
         n2,a1,2026-02-03 11:00,fulfilled,5.00,2026-02-05,2026-02-06T05:30:00Z\n",
    );
    // n2 is fulfilled at 00:30 local on 6 Feb: late. 1 of 2.
    close(fx.value("order_fulfillment_rate", "2026-02-01", "2026-03-01"), 0.5);
}

#[test]
fn stock_snapshots() {
    let fx = fx();
    // Sale movements come from the lines of placed and fulfilled orders, at placed_at.
    // End of Jan: pA 100 − 3 − 2 = 95, pB 5 − 1 = 4, pC 0: 99. End of Feb: pA 95 − 5 = 90,
    // pB 4 − 2 + 10 = 12, pC −1: 101. End of Mar: pA 90 − 1 − 4 = 85, pB 12, pC −1: 96.
    series_close(
        monthly(&fx, "stock_on_hand"),
        &[("2026-01-01", Some(99.0)), ("2026-02-01", Some(101.0)), ("2026-03-01", Some(96.0))],
    );
    // At a clock of 5 March: March's snapshot is taken then (pA 90 − 1 = 89): 100.
    let mut q = fx.query("stock_on_hand", Q1.0, Q1.1, Grain::Month);
    q.at = fx.at("2026-03-05");
    let values: Vec<Option<f64>> = fx.run(&q).rows.iter().map(|r| r.value).collect();
    assert_eq!(values, [Some(99.0), Some(101.0), Some(100.0)]);
    assert_eq!(
        fx.by("stock_on_hand", Q1.0, Q1.1, &["product"]),
        [
            ("pA".to_string(), Some(85.0)),
            ("pB".to_string(), Some(12.0)),
            ("pC".to_string(), Some(-1.0))
        ]
    );
    // At or below the reorder level: end of Jan pB (4 ≤ 10); end of Feb and Mar none (pB 12 >
    // 10; pC has no level) — a count of 0, not a missing row.
    series_close(
        monthly(&fx, "products_below_reorder_level"),
        &[("2026-01-01", Some(1.0)), ("2026-02-01", Some(0.0)), ("2026-03-01", Some(0.0))],
    );
    // Days of inventory at 1 Apr: units in counted orders placed in [2 Mar, 1 Apr): o9 1 + o11
    // 4 = 5 (all pA), 5 / 30 a day. All products: 96 / (5/30) = 576; pA 85 / (5/30) = 510; pB
    // and pC sold nothing: null.
    close(fx.value("days_of_inventory", Q1.0, Q1.1), 576.0);
    assert_eq!(
        fx.by("days_of_inventory", Q1.0, Q1.1, &["product"])
            .into_iter()
            .map(|(p, v)| (p, v.map(|x| (x * 1e6).round() / 1e6)))
            .collect::<Vec<_>>(),
        [("pA".to_string(), Some(510.0)), ("pB".to_string(), None), ("pC".to_string(), None)]
    );
    // At 1 Mar: units placed in [30 Jan, 1 Mar) of counted orders: o4 1 + o5 5 + o7 2 = 8;
    // stock 101: 101 / (8/30) = 378.75.
    close(fx.value("days_of_inventory", "2026-02-01", "2026-03-01"), 378.75);
}

#[test]
fn acquisition_cost_and_efficiency() {
    let fx = fx();
    // Sales and marketing costs: Jan 300 + 150, Feb 200, Mar 60; new customers 3, 2, 1.
    series_close(
        monthly(&fx, "customer_acquisition_cost"),
        &[("2026-01-01", Some(150.0)), ("2026-02-01", Some(100.0)), ("2026-03-01", Some(60.0))],
    );
    close(fx.value("customer_acquisition_cost", Q1.0, Q1.1), 710.0 / 6.0);
    // Average deal size / CAC: Jan no won deal (null); Feb (1,000 + 300) / 2 = 650 over 100;
    // Mar 500 / 60; quarter 600 / (710 / 6).
    series_close(
        monthly(&fx, "sales_to_cost_ratio"),
        &[("2026-01-01", None), ("2026-02-01", Some(6.5)), ("2026-03-01", Some(500.0 / 60.0))],
    );
    close(fx.value("sales_to_cost_ratio", Q1.0, Q1.1), 3600.0 / 710.0);
    // Service costs per active customer: Jan 0 / 3, Feb 34 / 2, Mar 27 / 3; quarter 61 / 5.
    series_close(
        monthly(&fx, "cost_to_serve"),
        &[("2026-01-01", Some(0.0)), ("2026-02-01", Some(17.0)), ("2026-03-01", Some(9.0))],
    );
    close(fx.value("cost_to_serve", Q1.0, Q1.1), 12.2);
    // Net cash flow over the quarter: revenue 358 + won 1,800 − costs 871.
    close(fx.value("net_cash_flow", Q1.0, Q1.1), 358.0 + 1800.0 - 871.0);
}

#[test]
fn campaign_roi_by_campaign() {
    let fx = fx();
    // cm1: won 1,000 (d1), costs 300 + 60 = 360: 640 / 360. cm2: no revenue, costs 200: −1.
    let rows = fx.by("campaign_roi", Q1.0, Q1.1, &["campaign"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "cm1");
    close(rows[0].1, 640.0 / 360.0);
    assert_eq!(rows[1], ("cm2".to_string(), Some(-1.0)));
    // All campaigns together: (1,000 − 560) / 560.
    close(fx.value("campaign_roi", Q1.0, Q1.1), 440.0 / 560.0);
}

#[test]
fn growth_against_the_bucket_before() {
    let fx = fx();
    // Revenue: December had none (null), then 170 / 98 − 1 and 90 / 170 − 1.
    series_close(
        monthly(&fx, "revenue_growth"),
        &[
            ("2026-01-01", None),
            ("2026-02-01", Some(170.0 / 98.0 - 1.0)),
            ("2026-03-01", Some(90.0 / 170.0 - 1.0)),
        ],
    );
    // The bucket before comes from every record: February alone still looks back to January.
    close(fx.value("revenue_growth", "2026-02-01", "2026-03-01"), 170.0 / 98.0 - 1.0);
    // Grain all: the two months Feb–Mar (260) against Dec–Jan (98).
    close(fx.value("revenue_growth", "2026-02-01", "2026-04-01"), 260.0 / 98.0 - 1.0);
    // Bookings: nothing won in December or January (no row for January); February 1,300 against
    // January's 0 is null; March 500 / 1,300 − 1; April nothing against 500: −1.
    series_close(
        fx.series("bookings_growth", "2026-01-01", "2026-05-01", Grain::Month),
        &[
            ("2026-02-01", None),
            ("2026-03-01", Some(500.0 / 1300.0 - 1.0)),
            ("2026-04-01", Some(-1.0)),
        ],
    );
}

#[test]
fn nps_and_csat() {
    let fx = fx();
    // Feb: promoters 2 (10, 10), detractors 1 (3) of 3: 100 / 3. Mar: promoters 2 (10, 9),
    // detractors 2 (6, 0), passives 8 and 7, of 6: 0.
    series_close(
        fx.series("nps", "2026-02-01", "2026-04-01", Grain::Month),
        &[("2026-02-01", Some(100.0 / 3.0)), ("2026-03-01", Some(0.0))],
    );
    // CSAT, March: 5 and 4 of 5, 4, 3, 1: 50.
    close(fx.value("csat", Q1.0, Q1.1), 50.0);
}

#[test]
fn one_sided_dimensions_and_filters_are_refused_clearly() {
    let fx = fx();
    // Costs have a category, new customers do not: CAC by category would divide cut costs by
    // all new customers. Refused, naming the sides.
    let mut q = fx.query("customer_acquisition_cost", Q1.0, Q1.1, Grain::All);
    q.by = vec!["category".into()];
    let err = run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string();
    assert!(
        err.contains("sales_marketing_costs can be cut by it but new_customers cannot"),
        "{err}"
    );
    // A dimension both sides have works: by team, costs by their own team (t1 450 + 60, t2 200),
    // new customers by their account owner's team — no account has an owner here, so no team.
    q.by = vec!["team".into()];
    let rows = run(&*fx.store, &fx.catalog, &q).unwrap().rows;
    let by_team: Vec<(String, Option<f64>)> =
        rows.iter().map(|r| (r.dims[0].text(), r.value)).collect();
    assert_eq!(
        by_team,
        [("t1".to_string(), None), ("t2".to_string(), None), (String::new(), Some(0.0))]
    );
    // A where naming a field only one side has says so.
    let mut q = fx.query("customer_acquisition_cost", Q1.0, Q1.1, Grain::All);
    q.filter = Filter::parse("category = 'marketing'").unwrap();
    let err = run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string();
    assert!(err.contains("reads costs and customers"), "{err}");
}

#[test]
fn bucket_functions_in_a_where() {
    let fx = fx();
    // Deals won in the month they were created: Feb d3 (created 1 Feb); Mar d2. d1 was created
    // in January and won in February: before its bucket.
    let mut q = fx.query("deals_won", Q1.0, Q1.1, Grain::Month);
    q.filter = Filter::parse("in_bucket(created_at)").unwrap();
    let rows: Vec<_> =
        fx.run(&q).rows.iter().map(|r| (r.period.clone().unwrap(), r.value)).collect();
    assert_eq!(
        rows,
        [("2026-02-01".to_string(), Some(1.0)), ("2026-03-01".to_string(), Some(1.0))]
    );
    q.filter = Filter::parse("before_bucket(created_at)").unwrap();
    let rows: Vec<_> =
        fx.run(&q).rows.iter().map(|r| (r.period.clone().unwrap(), r.value)).collect();
    assert_eq!(rows, [("2026-02-01".to_string(), Some(1.0))]);
    // A snapshot has no bucket of its records to compare with.
    let mut q = fx.query("open_deals", Q1.0, Q1.1, Grain::Month);
    q.filter = Filter::parse("in_bucket(created_at)").unwrap();
    let err = run(&*fx.store, &fx.catalog, &q).unwrap_err().to_string();
    assert!(err.contains("in_bucket(): only a metric whose records are placed"), "{err}");
}

#[test]
fn user_definitions_use_the_extensions() {
    let fx = fx();
    let catalog = Catalog::load(
        r#"
[metric.accounts_total]
kind = "snapshot"
source = "accounts"
start = "created_at"
measure = "count"
unit = "count"
better = "higher"

[metric.product_retention]
kind = "retention"
source = "order_lines"
time = "placed_at"
of = "product_id"
filter = "status not in ('cancelled', 'returned')"
unit = "ratio"
better = "higher"

[metric.big_order_share]
kind = "aggregate"
source = "orders"
time = "placed_at"
measure = "avg"
of = "if(amount >= 50, 1, 0)"
filter = "status not in ('cancelled', 'returned')"
unit = "ratio"
better = "higher"

[metric.revenue_two_back]
kind = "derived"
expr = "previous(revenue_growth)"
unit = "ratio"
better = "higher"
"#,
    )
    .unwrap();
    let at = fx.at("2030-01-01");
    let value = |metric: &str, from: &str, to: &str, grain: Grain| -> Vec<Option<f64>> {
        let q = Query::new(metric, fx.at(from), fx.at(to), grain, at);
        run(&*fx.store, &catalog, &q).unwrap().rows.iter().map(|r| r.value).collect()
    };
    // Accounts never end: a1 a2 (2025-01-01) and a3–a6 (2025-06-01) by the end of 2025.
    assert_eq!(value("accounts_total", "2025-03-01", "2026-01-01", Grain::All), [Some(6.0)]);
    // Products sold in January (pA, pB) sold again in February? pA (o5) and pB (o7): 1; February
    // (pC, pA, pB) in March: only pA: 1/3.
    let retained = value("product_retention", "2026-02-01", "2026-04-01", Grain::Month);
    assert_eq!(retained.len(), 2);
    close(retained[0], 1.0);
    close(retained[1], 1.0 / 3.0);
    // Orders of 50 or more: Jan o2 (1 of 3), Q1 o2, o5, o7 of 9.
    close(value("big_order_share", Q1.0, Q1.1, Grain::All)[0], 3.0 / 9.0);
    // previous() of a metric that itself looks back: March's value is February's growth.
    let two_back = value("revenue_two_back", "2026-03-01", "2026-04-01", Grain::Month);
    close(two_back[0], 170.0 / 98.0 - 1.0);
}
