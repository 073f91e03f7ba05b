//! Explaining a change (spec: monitoring.md, Explaining a change) against hand-worked cases:
//! segment contributions, rate and mix, driver trees of two and three factors, the rounding of
//! money, and bad inputs.

use traction_metrics::Filter;
use traction_metrics::explain::{ExplainQuery, Explanation, explain};
use traction_metrics::{Catalog, Compare, DimValue, Error};

use crate::fixture::{Fx, close};

/// Orders (UTC). February: o1 a1 web 100.00, o2 a1 web 50.00 → revenue 150.00, 2 orders, one
/// customer, AOV 75.00. March: o3 a1 web 120.00, o4 a2 shop 90.00, o5 a2 shop 60.00 → revenue
/// 270.00, 3 orders, two customers, AOV 90.00. April: 10.00, 10.00, 10.01 (a1); May: 10.00,
/// 10.00 (a1).
fn shop() -> Fx {
    let fx = Fx::new("UTC");
    fx.import(
        "orders",
        "id,account_id,placed_at,status,total,channel\n\
         o1,a1,2026-02-10 10:00,placed,100.00,web\n\
         o2,a1,2026-02-15 10:00,placed,50.00,web\n\
         o3,a1,2026-03-02 10:00,placed,120.00,web\n\
         o4,a2,2026-03-09 10:00,placed,90.00,shop\n\
         o5,a2,2026-03-10 10:00,placed,60.00,shop\n\
         o6,a1,2026-04-02 10:00,placed,10.00,web\n\
         o7,a1,2026-04-03 10:00,placed,10.00,web\n\
         o8,a1,2026-04-04 10:00,placed,10.01,web\n\
         o9,a1,2026-05-02 10:00,placed,10.00,web\n\
         o10,a1,2026-05-03 10:00,placed,10.00,web\n",
    );
    fx
}

/// Closed deals, all created 5 January. February: u1 1 won (100) and 1 lost; u2 1 won (100) and
/// 3 lost → win rate 2/6. March: u1 3 won (150, 150, 200) and 3 lost; u2 1 won (300) and 3
/// lost → 4/10. Each rep's own win rate is the same in both months (u1 0.5, u2 0.25): only the
/// mix moved.
fn deals() -> Fx {
    let fx = Fx::new("UTC");
    fx.import(
        "deals",
        "id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n\
         d1,p1,won,u1,100,2026-01-05,2026-02-10\n\
         d2,p1,lost,u1,100,2026-01-05,2026-02-10\n\
         d3,p1,won,u2,100,2026-01-05,2026-02-11\n\
         d4,p1,lost,u2,100,2026-01-05,2026-02-11\n\
         d5,p1,lost,u2,100,2026-01-05,2026-02-11\n\
         d6,p1,lost,u2,100,2026-01-05,2026-02-11\n\
         d7,p1,won,u1,150,2026-01-05,2026-03-10\n\
         d8,p1,won,u1,150,2026-01-05,2026-03-10\n\
         d9,p1,won,u1,200,2026-01-05,2026-03-10\n\
         d10,p1,lost,u1,100,2026-01-05,2026-03-10\n\
         d11,p1,lost,u1,100,2026-01-05,2026-03-10\n\
         d12,p1,lost,u1,100,2026-01-05,2026-03-10\n\
         d13,p1,won,u2,300,2026-01-05,2026-03-11\n\
         d14,p1,lost,u2,100,2026-01-05,2026-03-11\n\
         d15,p1,lost,u2,100,2026-01-05,2026-03-11\n\
         d16,p1,lost,u2,100,2026-01-05,2026-03-11\n",
    );
    fx
}

fn ask(
    fx: &Fx,
    catalog: &Catalog,
    metric: &str,
    month: (&str, &str),
    by: Option<&str>,
) -> Result<Explanation, Error> {
    let query = ExplainQuery {
        metric: metric.into(),
        from: fx.at(month.0),
        to: fx.at(month.1),
        compare: Compare::Previous,
        by: by.map(str::to_string),
        filter: Filter::default(),
        at: fx.at("2030-01-01"),
    };
    explain(&*fx.store, catalog, &query)
}

fn driver(e: &Explanation, name: &str) -> f64 {
    e.drivers
        .iter()
        .find(|d| d.metric == name)
        .unwrap_or_else(|| panic!("{name}: {e:?}"))
        .contribution
}

fn segment<'e>(e: &'e Explanation, key: &str) -> &'e traction_metrics::explain::SegmentPart {
    e.segments
        .iter()
        .find(|s| s.key == DimValue::Text(key.into()))
        .unwrap_or_else(|| panic!("{key}: {e:?}"))
}

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

#[test]
fn revenue_splits_by_segment_and_along_orders_and_average_order_value() {
    let fx = shop();
    let e = ask(&fx, &fx.catalog, "revenue", MAR, Some("channel")).unwrap();
    // 150.00 → 270.00: +120.00.
    assert_eq!((e.value, e.previous, e.change), (Some(270.0), Some(150.0), Some(120.0)));
    assert_eq!(e.compared_text, ("2026-02-01".to_string(), "2026-03-01".to_string()));
    // Segments: web 150 → 120 (−30), shop only in March 0 → 150 (+150); largest first.
    assert_eq!(e.segments.len(), 2);
    assert_eq!(e.segments[0].key, DimValue::Text("shop".into()));
    assert_eq!((e.segments[0].previous, e.segments[0].value), (Some(0.0), Some(150.0)));
    assert_eq!(e.segments[0].contribution, 150.0);
    assert_eq!(segment(&e, "web").contribution, -30.0);
    // Drivers, in cents: orders 2 → 3: 1 × (7,500 + 9,000) / 2 = 8,250 → 82.50; AOV 75 → 90:
    // 1,500 × (2 + 3) / 2 = 3,750 → 37.50.
    assert_eq!(e.drivers.len(), 2, "{:?}", e.drivers);
    assert_eq!(driver(&e, "orders"), 82.5);
    assert_eq!(driver(&e, "average_order_value"), 37.5);
    let sum: f64 = e.drivers.iter().map(|d| d.contribution).sum();
    assert_eq!(sum, 120.0);
}

#[test]
fn a_fractional_money_split_is_rounded_to_the_cent_and_still_sums_exactly() {
    let fx = shop();
    let e = ask(&fx, &fx.catalog, "revenue", ("2026-05-01", "2026-06-01"), None).unwrap();
    // April 30.01 (3 orders, AOV 1,000.33… cents) → May 20.00 (2 orders, AOV 1,000 cents):
    // −1,001 cents. Orders: −1 × (1,000.333 + 1,000) / 2 = −1,000.1667; AOV: −0.3333 × 5 / 2 =
    // −0.8333. By the largest remainder: −1,000 and −1 cents.
    assert_eq!(e.change, Some(-10.01));
    assert_eq!(driver(&e, "orders"), -10.0);
    assert_eq!(driver(&e, "average_order_value"), -0.01);
}

#[test]
fn three_drivers_declared_in_a_definition_split_over_the_six_orders() {
    let fx = shop();
    let catalog = Catalog::load(
        "[metric.shop_revenue]\nkind = \"derived\"\nexpr = \"revenue\"\nunit = \"money\"\nbetter = \"higher\"\n\
         drivers = [\"active_customers\", \"orders_per_customer\", \"average_order_value\"]\n",
    )
    .unwrap();
    let e = ask(&fx, &catalog, "shop_revenue", MAR, None).unwrap();
    // Customers C 1 → 2, orders per customer P 2 → 1.5, AOV V 7,500 → 9,000 cents; 15,000 →
    // 27,000 cents. Each factor's change times the others, weighted 1/3 (others before),
    // 1/6, 1/6 (one other moved first), 1/3 (both after):
    // C: 1 × (15,000/3 + 11,250/6 + 18,000/6 + 13,500/3) = 14,375;
    // P: −0.5 × (7,500/3 + 15,000/6 + 9,000/6 + 18,000/3) = −6,250;
    // V: 1,500 × (2/3 + 4/6 + 1.5/6 + 3/3) = 3,875. Sum 12,000 = +120.00.
    assert_eq!(e.change, Some(120.0));
    assert_eq!(e.drivers.len(), 3, "{:?}", e.drivers);
    assert_eq!(driver(&e, "active_customers"), 143.75);
    assert_eq!(driver(&e, "orders_per_customer"), -62.5);
    assert_eq!(driver(&e, "average_order_value"), 38.75);
}

#[test]
fn a_win_rate_whose_mix_moved_has_no_rate_effect() {
    let fx = deals();
    let e = explain_win_rate(&fx);
    // 2/6 → 4/10: +1/15. u1: weight 2/6 → 6/10, rate 0.5 both: mix (0.6 − 1/3) × 0.5 = 2/15;
    // u2: weight 4/6 → 4/10, rate 0.25 both: mix (0.4 − 2/3) × 0.25 = −1/15.
    close(e.change, 1.0 / 15.0);
    assert!(e.ratio);
    let (u1, u2) = (user(&e, "u1"), user(&e, "u2"));
    assert_eq!(u1.rate_effect, Some(0.0));
    assert_eq!(u2.rate_effect, Some(0.0));
    close(u1.mix_effect, 2.0 / 15.0);
    close(u2.mix_effect, -1.0 / 15.0);
    close(Some(u1.contribution + u2.contribution), 1.0 / 15.0);
    assert_eq!((u1.previous, u1.value), (Some(0.5), Some(0.5)));
    // Along its tree won × 1/closed: won 2 → 4: 2 × (1/6 + 1/10) / 2 = 4/15; closed 6 → 10:
    // (1/10 − 1/6) × (2 + 4) / 2 = −1/5.
    close(Some(driver(&e, "deals_won")), 4.0 / 15.0);
    close(Some(driver(&e, "deals_closed")), -0.2);
}

fn explain_win_rate(fx: &Fx) -> Explanation {
    ask(fx, &fx.catalog, "win_rate", MAR, Some("owner")).unwrap()
}

fn user<'e>(e: &'e Explanation, id: &str) -> &'e traction_metrics::explain::SegmentPart {
    e.segments.iter().find(|s| s.key.text() == id).unwrap_or_else(|| panic!("{id}: {e:?}"))
}

#[test]
fn revenue_won_splits_into_deals_won_and_average_deal_size() {
    let fx = deals();
    let e = ask(&fx, &fx.catalog, "revenue_won", MAR, Some("owner")).unwrap();
    // 200 → 800 (+600): deals won 2 → 4: 2 × (100 + 200) / 2 = 300; average 100 → 200:
    // 100 × (2 + 4) / 2 = 300. By owner: u1 100 → 500 (+400), u2 100 → 300 (+200).
    assert_eq!(e.change, Some(600.0));
    assert_eq!(driver(&e, "deals_won"), 300.0);
    assert_eq!(driver(&e, "average_deal_size"), 300.0);
    assert_eq!(user(&e, "u1").contribution, 400.0);
    assert_eq!(user(&e, "u2").contribution, 200.0);
    assert_eq!(e.segments[0].key.text(), "u1");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let fx = deals();
    let err = |r: Result<Explanation, Error>| match r {
        Err(Error::Input(m)) => m.to_string(),
        Err(Error::NotFound(m)) => m,
        other => panic!("accepted: {other:?}"),
    };
    let m = err(ask(&fx, &fx.catalog, "win_rate", MAR, Some("colour")));
    assert!(m.contains("\"colour\" does not apply to win_rate"), "{m}");
    let m = err(ask(&fx, &fx.catalog, "nope", MAR, None));
    assert!(m.contains("\"nope\" is not a metric"), "{m}");
    let m = err(ask(&fx, &fx.catalog, "average_deal_size", MAR, Some("owner")));
    assert!(m.contains("does not split by owner"), "{m}");
    // Two years against the year before overlap: not comparable.
    let query = ExplainQuery {
        metric: "deals_won".into(),
        from: fx.at("2024-01-01"),
        to: fx.at("2026-01-01"),
        compare: Compare::Yoy,
        by: None,
        filter: Filter::default(),
        at: fx.at("2030-01-01"),
    };
    let m = err(explain(&*fx.store, &fx.catalog, &query));
    assert!(m.contains("not comparable"), "{m}");
    // A range that has not begun at the clock.
    let query = ExplainQuery { from: fx.at("2031-01-01"), to: fx.at("2031-02-01"), ..query };
    let m = err(explain(&*fx.store, &fx.catalog, &query));
    assert!(m.contains("nothing in it has happened yet"), "{m}");
    // An unknown driver in a definition is refused when the file is loaded.
    let bad = Catalog::load(
        "[metric.x]\nkind = \"derived\"\nexpr = \"revenue\"\nunit = \"money\"\nbetter = \"higher\"\ndrivers = [\"orders\", \"ordres\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("metric.x: drivers: unknown metric \"ordres\""), "{bad}");
}

#[test]
fn what_the_drivers_do_not_account_for_is_the_driver_other() {
    let fx = shop();
    // Revenue is not orders × customers: the product is split, the rest reported as `other`.
    let catalog = Catalog::load(
        "[metric.shop_revenue]\nkind = \"derived\"\nexpr = \"revenue\"\nunit = \"money\"\nbetter = \"higher\"\n\
         drivers = [\"orders\", \"active_customers\"]\n",
    )
    .unwrap();
    let e = ask(&fx, &catalog, "shop_revenue", MAR, None).unwrap();
    // Orders 2 → 3, customers 1 → 2: the product 2 → 6, in the metric's unit (£2 → £6).
    // Orders: 1 × (1 + 2) / 2 = £1.50; customers: 1 × (2 + 3) / 2 = £2.50; the rest of the
    // +£120.00 is £116.00, reported as `other` (270 − 6 = 264 and 150 − 2 = 148).
    assert_eq!(e.change, Some(120.0));
    assert_eq!(e.drivers.len(), 3, "{:?}", e.drivers);
    assert_eq!(driver(&e, "orders"), 1.5);
    assert_eq!(driver(&e, "active_customers"), 2.5);
    assert_eq!(driver(&e, "other"), 116.0);
    let other = e.drivers.iter().find(|d| d.metric == "other").unwrap();
    assert_eq!((other.value, other.previous), (Some(264.0), Some(148.0)));
}
