//! Customers, orders and costs: the part of catalog part two the engine already expresses
//! (metrics.md, Customers, orders and products; Costs, efficiency and satisfaction).

use crate::fixture::{Fx, close};

/// March 2026 (UTC). Products pr1 at 10.00. Orders:
/// o1 a1 placed, total from its lines: 2 × 10.00 = 20.00;
/// o2 a1 fulfilled, total 35.50 given (no lines);
/// o3 a2 placed, total 100.00;
/// o4 a2 cancelled, 999.00 — excluded;
/// o5 a2 returned, 50.00 — excluded;
/// o6 a1 in April, 7.00 — outside the range.
fn fx() -> Fx {
    let fx = Fx::new("UTC");
    fx.import("products", "id,name,unit_price\npr1,Beans,10.00\n");
    fx.import(
        "orders",
        "id,account_id,placed_at,status,total,owner_id\n\
         o1,a1,2026-03-02 10:00,placed,,u1\n\
         o2,a1,2026-03-09 10:00,fulfilled,35.50,u1\n\
         o3,a2,2026-03-10 10:00,placed,100.00,u2\n\
         o4,a2,2026-03-11 10:00,cancelled,999.00,u2\n\
         o5,a2,2026-03-12 10:00,returned,50.00,u2\n\
         o6,a1,2026-04-02 10:00,placed,7.00,u1\n",
    );
    fx.import("order_lines", "order_id,line,product_id,quantity,unit_price\no1,1,pr1,2,10.00\n");
    fx.import(
        "costs",
        "id,incurred_on,category,amount\n\
         c1,2026-03-01,marketing,40.00\nc2,2026-03-15,sales,60.00\nc3,2026-03-20,overhead,25.25\n\
         c4,2026-03-31,service,10.00\nc5,2026-04-01,marketing,1000.00\n",
    );
    fx
}

const MAR: (&str, &str) = ("2026-03-01", "2026-04-01");

#[test]
fn orders_and_customers() {
    let fx = fx();
    // Counted orders: o1 (20.00), o2 (35.50), o3 (100.00) → revenue 155.50, 3 orders, 2 customers.
    assert_eq!(fx.value("revenue", MAR.0, MAR.1), Some(155.5));
    assert_eq!(fx.value("orders", MAR.0, MAR.1), Some(3.0));
    assert_eq!(fx.value("active_customers", MAR.0, MAR.1), Some(2.0));
    close(fx.value("average_order_value", MAR.0, MAR.1), 155.5 / 3.0);
    close(fx.value("revenue_per_customer", MAR.0, MAR.1), 155.5 / 2.0);
    close(fx.value("orders_per_customer", MAR.0, MAR.1), 1.5);
}

#[test]
fn costs_and_cash() {
    let fx = fx();
    // March costs: 40 + 60 + 25.25 + 10 = 135.25; sales and marketing 100; overhead 25.25.
    assert_eq!(fx.value("costs", MAR.0, MAR.1), Some(135.25));
    assert_eq!(fx.value("sales_marketing_costs", MAR.0, MAR.1), Some(100.0));
    assert_eq!(fx.value("overheads", MAR.0, MAR.1), Some(25.25));
    // No deals won in March: total revenue = revenue 155.50; net cash flow 155.50 − 135.25.
    close(fx.value("total_revenue", MAR.0, MAR.1), 155.5);
    close(fx.value("net_cash_flow", MAR.0, MAR.1), 155.5 - 135.25);
}
