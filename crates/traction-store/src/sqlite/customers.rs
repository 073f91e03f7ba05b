//! Customers kept up to date at write time (migration V5): `customer_stats` holds one row per
//! account that has bought — a counted order or a won deal — with its first and last purchase,
//! its counts and its revenue over its whole history. Triggers put the accounts a write touches
//! in `customer_stats_dirty`; [`refresh`] recomputes them, in the writer's transaction just before
//! it commits and when the store opens a file, so readers always see an exact table.
//!
//! The metrics engine reads the table as of an instant `at`: a customer whose last purchase is no
//! later than `at` has the same row then as now; the few others (purchases dated after `at`) are
//! recomputed from their history by the query (see traction-metrics, `source.rs`).

use rusqlite::Connection;

use crate::Error;

/// Orders that count as sales (spec: metrics.md, "cancelled or returned are excluded
/// everywhere"), as SQL over the orders table's own columns.
pub const COUNTED_ORDER: &str = "status NOT IN ('cancelled', 'returned')";

/// Every purchase: counted orders (`k` = 0) and won deals with an account (`k` = 1), as
/// `(account_id, first_at, k, value)` where `first_at` is when it was made and `value` its amount
/// in minor units. `until` keeps those made at or before an instant; `only` is a further
/// condition on both (`AND account_id IN (…)`), or empty.
pub fn purchases_sql(until: Option<i64>, only: &str) -> String {
    let (orders_until, deals_until) = match until {
        Some(at) => (format!(" AND placed_at <= {at}"), format!(" AND closed_at <= {at}")),
        None => (String::new(), " AND closed_at IS NOT NULL".to_string()),
    };
    format!(
        "SELECT account_id, placed_at AS first_at, 0 AS k, amount AS value FROM orders \
         WHERE {COUNTED_ORDER}{orders_until}{only} \
         UNION ALL SELECT account_id, closed_at, 1, amount FROM deals \
         WHERE status = 'won' AND account_id IS NOT NULL{deals_until}{only}"
    )
}

/// The columns of one customer grouped from [`purchases_sql`]'s rows, in the order of
/// `customer_stats` after `account_id`: first purchase, last purchase, first order, first won
/// deal, orders, won deals, order revenue, deal revenue.
pub const CUSTOMER_COLUMNS: &str = "MIN(first_at) AS first_purchase_at, \
     MAX(first_at) AS last_purchase_at, \
     MIN(CASE WHEN k = 0 THEN first_at END) AS first_order_at, \
     MIN(CASE WHEN k = 1 THEN first_at END) AS first_won_at, \
     SUM(CASE WHEN k = 0 THEN 1 ELSE 0 END) AS orders, \
     SUM(CASE WHEN k = 1 THEN 1 ELSE 0 END) AS won_deals, \
     CAST(TOTAL(CASE WHEN k = 0 THEN value ELSE 0 END) AS INTEGER) AS order_revenue, \
     CAST(TOTAL(CASE WHEN k = 1 THEN value ELSE 0 END) AS INTEGER) AS deal_revenue";

/// Recomputes the customers of the accounts marked dirty, and clears the marks. One grouped
/// statement over those accounts' purchases, read through the account indexes. Tells whether
/// there was anything to do.
pub(crate) fn refresh(conn: &Connection) -> Result<bool, Error> {
    let dirty: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM customer_stats_dirty)", [], |r| r.get(0))?;
    if !dirty {
        return Ok(false);
    }
    let only = " AND account_id IN (SELECT account_id FROM customer_stats_dirty)";
    conn.execute_batch(&format!(
        "DELETE FROM customer_stats WHERE account_id IN (SELECT account_id FROM customer_stats_dirty);
         INSERT INTO customer_stats (account_id, first_purchase_at, last_purchase_at, first_order_at,
             first_won_at, orders, won_deals, order_revenue, deal_revenue)
         SELECT account_id, {CUSTOMER_COLUMNS} FROM ({}) GROUP BY account_id;
         DELETE FROM customer_stats_dirty;",
        purchases_sql(None, only)
    ))?;
    Ok(true)
}
