"""The benchmark's queries: a catalog metric as Traction is asked for it, and the same figure as
DuckDB SQL written by hand from the definitions in spec/metrics.md. Each SQL returns the bucket
label (and the dimension value, if any) followed by the value, one row per bucket that has data.
The session time zone is the workspace's, so date_trunc cuts local buckets as Traction does."""


def ts(col):
    return f"{col}::TIMESTAMPTZ"


def in_range(col):
    return f"{ts(col)} >= '{{from}}'::TIMESTAMPTZ AND {ts(col)} < '{{to}}'::TIMESTAMPTZ"


def bucket(grain, col):
    return f"strftime(date_trunc('{grain}', {ts(col)}), '%Y-%m-%d')"


YEAR = {"from": "2025-11-01", "to": "2026-11-01"}

QUERIES = [
    dict(name="leads_created by month, 12 months", metric="leads_created", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'created_at')} p, count(*) FROM leads WHERE {in_range('created_at')} GROUP BY p ORDER BY p"),
    dict(name="deals_won by month and owner", metric="deals_won", grain="month", by="owner", **YEAR,
         sql=f"SELECT {bucket('month', 'closed_at')} p, owner_id, count(*) FROM deals WHERE status = 'won' AND {in_range('closed_at')} GROUP BY p, owner_id ORDER BY p, owner_id"),
    dict(name="win_rate by quarter", metric="win_rate", grain="quarter", **YEAR,
         sql=f"SELECT {bucket('quarter', 'closed_at')} p, avg(CASE WHEN status = 'won' THEN 1.0 ELSE 0.0 END) FROM deals WHERE status IN ('won', 'lost') AND {in_range('closed_at')} GROUP BY p ORDER BY p"),
    dict(name="revenue_won by month", metric="revenue_won", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'closed_at')} p, sum(amount) FROM deals WHERE status = 'won' AND {in_range('closed_at')} GROUP BY p ORDER BY p"),
    dict(name="average_deal_size by month", metric="average_deal_size", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'closed_at')} p, avg(amount) FROM deals WHERE status = 'won' AND {in_range('closed_at')} GROUP BY p ORDER BY p"),
    dict(name="lead_response_time (median) by month", metric="lead_response_time", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'created_at')} p, quantile_cont(epoch({ts('first_response_at')}) - epoch({ts('created_at')}), 0.5) FROM leads WHERE first_response_at IS NOT NULL AND {in_range('created_at')} GROUP BY p ORDER BY p"),
    dict(name="lead_conversion_rate (cohort) by month", metric="lead_conversion_rate", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'created_at')} p, avg(CASE WHEN converted_at IS NOT NULL AND {ts('converted_at')} <= '{{at}}'::TIMESTAMPTZ THEN 1.0 ELSE 0.0 END) FROM leads WHERE {in_range('created_at')} GROUP BY p ORDER BY p"),
    dict(name="sales_cycle_days_median by month", metric="sales_cycle_days_median", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'closed_at')} p, quantile_cont((epoch({ts('closed_at')}) - epoch({ts('created_at')})) / 86400, 0.5) FROM deals WHERE status = 'won' AND {in_range('closed_at')} GROUP BY p ORDER BY p"),
    dict(name="calls_made by week and owner, 26 weeks", metric="calls_made", grain="week", by="owner",
         **{"from": "2026-05-04", "to": "2026-11-02"},
         sql=f"SELECT {bucket('week', 'occurred_at')} p, owner_id, count(*) FROM activities WHERE kind = 'call' AND direction = 'outbound' AND {in_range('occurred_at')} GROUP BY p, owner_id ORDER BY p, owner_id"),
    dict(name="activities by day, 90 days", metric="activities", grain="day",
         **{"from": "2026-08-01", "to": "2026-10-30"},
         sql=f"SELECT {bucket('day', 'occurred_at')} p, count(*) FROM activities WHERE {in_range('occurred_at')} GROUP BY p ORDER BY p"),
]

# ── Catalog part two: customers, orders, products, costs, satisfaction ─────────────────────────
# Written from spec/metrics.md, independently of Traction's SQL. Money is read as DECIMAL so sums
# are exact; an order's value is its total, else the sum of its lines; cancelled and returned
# orders are left out everywhere. The range is whole months, so "the bucket as cut by the range"
# is the calendar month.

COUNTED = "status NOT IN ('cancelled', 'returned')"
MONEY = "DECIMAL(18, 2)"
ORD = f"""ord AS (
  SELECT o.*, COALESCE(o.total::{MONEY},
    (SELECT sum(l.quantity * l.unit_price::{MONEY} - coalesce(l.discount::{MONEY}, 0)) FROM order_lines l WHERE l.order_id = o.id),
    0) AS amt
  FROM orders o WHERE o.{COUNTED})"""
# Customers as of the clock: first purchase (first counted order or won deal) and lifetime revenue.
CUST = f"""{ORD},
purchases AS (
  SELECT account_id, {ts('placed_at')} AS t, amt AS v FROM ord WHERE {ts('placed_at')} <= '{{at}}'::TIMESTAMPTZ
  UNION ALL
  SELECT account_id, {ts('closed_at')}, amount::{MONEY} FROM deals
  WHERE status = 'won' AND account_id IS NOT NULL AND {ts('closed_at')} <= '{{at}}'::TIMESTAMPTZ),
cust AS (SELECT account_id, min(t) AS first_at, sum(v) AS lifetime FROM purchases GROUP BY account_id)"""
LINES = f"""lines AS (
  SELECT l.quantity, l.quantity * l.unit_price::{MONEY} - coalesce(l.discount::{MONEY}, 0) AS amt,
         p.unit_cost::{MONEY} AS unit_cost, l.product_id, o.placed_at
  FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN products p ON p.id = l.product_id
  WHERE o.{COUNTED})"""
M = "'month'"


def month_of(col):
    return f"date_trunc({M}, {ts(col)})"


# Month instants of the range for snapshots: the end of each month, or the clock if earlier.
INSTANTS = """months AS (
  SELECT strftime(d, '%Y-%m-%d') AS p, strftime(d, '%Y-%m-%d')::TIMESTAMPTZ AS s0,
         least(strftime(d + INTERVAL 1 MONTH, '%Y-%m-%d')::TIMESTAMPTZ, '{to}'::TIMESTAMPTZ, '{at}'::TIMESTAMPTZ) AS s
  FROM (SELECT unnest(generate_series('{from}'::DATE, '{to}'::DATE - INTERVAL 1 DAY, INTERVAL 1 MONTH)) AS d)
  WHERE strftime(d, '%Y-%m-%d')::TIMESTAMPTZ < '{at}'::TIMESTAMPTZ),
stock AS (
  SELECT m.p, m.s, pr.id, pr.reorder_level,
         coalesce(pr.opening_stock, 0) + coalesce((SELECT sum(delta) FROM inventory_movements mv
           WHERE mv.product_id = pr.id AND mv.occurred_at::TIMESTAMPTZ < m.s), 0) AS on_hand
  FROM months m, products pr)"""


def per_month(a, b, expr, join="FULL OUTER JOIN"):
    """Two monthly aggregates `a(p, x)` and `b(p, y)` combined per month where either has a row."""
    return f"SELECT coalesce(a.p, b.p) AS p, {expr} FROM {a} a {join} {b} b ON a.p = b.p ORDER BY 1"


NEW_IN_BUCKET = f"{month_of('o.placed_at')} = date_trunc({M}, c.first_at)"
REVENUE_M = f"(SELECT {bucket('month', 'placed_at')} p, sum(amt) x FROM ord WHERE {in_range('placed_at')} GROUP BY p)"
ACTIVE_M = f"(SELECT {bucket('month', 'placed_at')} p, count(DISTINCT account_id) y FROM ord WHERE {in_range('placed_at')} GROUP BY p)"
NEW_M = f"(SELECT strftime(date_trunc({M}, first_at), '%Y-%m-%d') p, count(*) y FROM cust WHERE first_at >= '{{from}}'::TIMESTAMPTZ AND first_at < '{{to}}'::TIMESTAMPTZ GROUP BY p)"
SM_COSTS_M = f"(SELECT strftime(date_trunc({M}, incurred_on::DATE), '%Y-%m-%d') p, sum(amount::{MONEY}) x FROM costs WHERE category IN ('sales', 'marketing') AND incurred_on::DATE >= '{{from}}'::DATE AND incurred_on::DATE < '{{to}}'::DATE GROUP BY p)"
WON_M = f"(SELECT {bucket('month', 'closed_at')} p, sum(amount::{MONEY}) x, avg(amount::{MONEY}) a FROM deals WHERE status = 'won' AND {in_range('closed_at')} GROUP BY p)"
ACT = f"act AS (SELECT DISTINCT {month_of('placed_at')} m, account_id FROM ord)"
CHURN = f"""WITH {ORD}, {ACT}
SELECT strftime(p.m + INTERVAL 1 MONTH, '%Y-%m-%d') q, avg(CASE WHEN c.account_id IS NULL THEN {{lost}} ELSE 1.0 - {{lost}} END)
FROM act p LEFT JOIN act c ON c.account_id = p.account_id AND c.m = p.m + INTERVAL 1 MONTH
WHERE p.m + INTERVAL 1 MONTH >= '{{from}}'::TIMESTAMPTZ AND p.m + INTERVAL 1 MONTH < '{{to}}'::TIMESTAMPTZ
GROUP BY q ORDER BY q"""
REVENUE_PREV = f"(SELECT strftime({month_of('placed_at')} + INTERVAL 1 MONTH, '%Y-%m-%d') p, sum(amt) y FROM ord WHERE {ts('placed_at')} >= '{{from}}'::TIMESTAMPTZ - INTERVAL 1 MONTH AND {ts('placed_at')} < '{{to}}'::TIMESTAMPTZ - INTERVAL 1 MONTH GROUP BY p)"
WON_PREV = f"(SELECT strftime({month_of('closed_at')} + INTERVAL 1 MONTH, '%Y-%m-%d') p, sum(amount::{MONEY}) y FROM deals WHERE status = 'won' AND {ts('closed_at')} >= '{{from}}'::TIMESTAMPTZ - INTERVAL 1 MONTH AND {ts('closed_at')} < '{{to}}'::TIMESTAMPTZ - INTERVAL 1 MONTH GROUP BY p)"
MARGIN_M = f"(SELECT {bucket('month', 'placed_at')} p, sum(amt - quantity * unit_cost) / sum(amt) y FROM lines WHERE unit_cost IS NOT NULL AND {in_range('placed_at')} GROUP BY p)"

QUERIES += [
    dict(name="new_customers by month", metric="new_customers", grain="month", **YEAR,
         sql=f"WITH {CUST} {NEW_M[1:-1]} ORDER BY p"),
    dict(name="new_customer_revenue by month", metric="new_customer_revenue", grain="month", **YEAR,
         sql=f"WITH {CUST} SELECT {bucket('month', 'o.placed_at')} p, sum(o.amt) FROM ord o JOIN cust c ON c.account_id = o.account_id WHERE {NEW_IN_BUCKET} AND {in_range('o.placed_at')} GROUP BY p ORDER BY p"),
    dict(name="new_customer_revenue_share by month", metric="new_customer_revenue_share", grain="month", **YEAR,
         sql=f"WITH {CUST} SELECT {bucket('month', 'o.placed_at')} p, sum(o.amt) FILTER (WHERE {NEW_IN_BUCKET}) / sum(o.amt) FROM ord o LEFT JOIN cust c ON c.account_id = o.account_id WHERE {in_range('o.placed_at')} GROUP BY p ORDER BY p"),
    dict(name="average_spend_new_customer by month", metric="average_spend_new_customer", grain="month", **YEAR,
         sql=f"WITH {CUST} SELECT {bucket('month', 'o.placed_at')} p, sum(o.amt) / count(DISTINCT o.account_id) FROM ord o JOIN cust c ON c.account_id = o.account_id WHERE {NEW_IN_BUCKET} AND {in_range('o.placed_at')} GROUP BY p ORDER BY p"),
    dict(name="returning_customer_rate by month", metric="returning_customer_rate", grain="month", **YEAR,
         sql=f"WITH {ORD}, firsts AS (SELECT account_id, min({ts('placed_at')}) f FROM ord GROUP BY account_id) SELECT {bucket('month', 'o.placed_at')} p, count(DISTINCT o.account_id) FILTER (WHERE f.f < {month_of('o.placed_at')}) / count(DISTINCT o.account_id) FROM ord o JOIN firsts f ON f.account_id = o.account_id WHERE {in_range('o.placed_at')} GROUP BY p ORDER BY p"),
    dict(name="repeat_purchase_rate by month", metric="repeat_purchase_rate", grain="month", **YEAR,
         sql=f"WITH {ORD} SELECT p, avg(CASE WHEN n >= 2 THEN 1.0 ELSE 0.0 END) FROM (SELECT {bucket('month', 'placed_at')} p, account_id, count(*) n FROM ord WHERE {in_range('placed_at')} GROUP BY p, account_id) GROUP BY p ORDER BY p"),
    dict(name="customer_churn_rate by month", metric="customer_churn_rate", grain="month", **YEAR,
         sql=CHURN.replace("{lost}", "1.0")),
    dict(name="customer_retention_rate by month", metric="customer_retention_rate", grain="month", **YEAR,
         sql=CHURN.replace("{lost}", "0.0")),
    dict(name="customer_lifetime_value by month", metric="customer_lifetime_value", grain="month", **YEAR,
         sql=f"WITH {CUST} SELECT strftime(date_trunc({M}, first_at), '%Y-%m-%d') p, avg(lifetime) FROM cust WHERE first_at >= '{{from}}'::TIMESTAMPTZ AND first_at < '{{to}}'::TIMESTAMPTZ GROUP BY p ORDER BY p"),
    dict(name="gross_margin_rate by month", metric="gross_margin_rate", grain="month", **YEAR,
         sql=f"WITH {LINES} {MARGIN_M[1:-1]} ORDER BY p"),
    dict(name="units_sold by month and product", metric="units_sold", grain="month", by="product", **YEAR,
         sql=f"WITH {LINES} SELECT {bucket('month', 'placed_at')} p, product_id, sum(quantity) FROM lines WHERE {in_range('placed_at')} GROUP BY p, product_id ORDER BY p, product_id"),
    dict(name="order_fulfillment_rate by month", metric="order_fulfillment_rate", grain="month", **YEAR,
         sql=f"WITH {ORD} SELECT {bucket('month', 'placed_at')} p, avg(CASE WHEN fulfilled_at IS NOT NULL AND date_trunc('day', {ts('fulfilled_at')}) <= promised_on::TIMESTAMPTZ THEN 1.0 ELSE 0.0 END) FROM ord WHERE promised_on IS NOT NULL AND {in_range('placed_at')} GROUP BY p ORDER BY p"),
    dict(name="stock_on_hand by month (snapshot)", metric="stock_on_hand", grain="month", **YEAR,
         sql=f"WITH {INSTANTS} SELECT p, sum(on_hand) FROM stock GROUP BY p ORDER BY p"),
    dict(name="products_below_reorder_level by month (snapshot)", metric="products_below_reorder_level", grain="month", **YEAR,
         sql=f"WITH {INSTANTS} SELECT p, count(*) FILTER (WHERE reorder_level IS NOT NULL AND on_hand <= reorder_level) FROM stock GROUP BY p ORDER BY p"),
    dict(name="days_of_inventory by month (snapshot)", metric="days_of_inventory", grain="month", **YEAR,
         sql=f"""WITH {INSTANTS}, {LINES},
sold AS (SELECT m.p, coalesce(sum(l.quantity), 0) / 30 AS daily FROM months m LEFT JOIN lines l
  ON epoch({ts('l.placed_at')}) >= epoch(m.s) - 2592000 AND epoch({ts('l.placed_at')}) < epoch(m.s) GROUP BY m.p)
SELECT s.p, sum(s.on_hand) / nullif(any_value(sold.daily), 0) FROM stock s JOIN sold ON sold.p = s.p GROUP BY s.p ORDER BY s.p"""),
    dict(name="customer_acquisition_cost by month", metric="customer_acquisition_cost", grain="month", **YEAR,
         sql=f"WITH {CUST} " + per_month(SM_COSTS_M, NEW_M, "coalesce(a.x, 0) / nullif(b.y, 0)")),
    dict(name="sales_to_cost_ratio by month", metric="sales_to_cost_ratio", grain="month", **YEAR,
         sql=f"WITH {CUST}, cac AS ({per_month(SM_COSTS_M, NEW_M, 'coalesce(a.x, 0) / nullif(b.y, 0) AS cac')}) "
             f"SELECT coalesce(w.p, c.p) AS q, w.a / nullif(c.cac, 0) FROM {WON_M} w FULL OUTER JOIN cac c ON c.p = w.p ORDER BY q"),
    dict(name="cost_to_serve by month", metric="cost_to_serve", grain="month", **YEAR,
         sql=f"WITH {ORD} " + per_month(f"(SELECT strftime(date_trunc({M}, incurred_on::DATE), '%Y-%m-%d') p, sum(amount::{MONEY}) x FROM costs WHERE category = 'service' AND incurred_on::DATE >= '{{from}}'::DATE AND incurred_on::DATE < '{{to}}'::DATE GROUP BY p)", ACTIVE_M, "coalesce(a.x, 0) / nullif(b.y, 0)")),
    dict(name="campaign_roi by campaign, 12 months", metric="campaign_roi", grain="all", by="campaign", **YEAR,
         sql=f"""SELECT NULL AS p, coalesce(r.c, k.c) AS campaign, (coalesce(r.x, 0) - coalesce(k.y, 0)) / nullif(k.y, 0) FROM
(SELECT campaign_id c, sum(amount::{MONEY}) x FROM deals WHERE status = 'won' AND campaign_id IS NOT NULL AND {in_range('closed_at')} GROUP BY c) r
FULL OUTER JOIN (SELECT campaign_id c, sum(amount::{MONEY}) y FROM costs WHERE campaign_id IS NOT NULL AND incurred_on::DATE >= '{{from}}'::DATE AND incurred_on::DATE < '{{to}}'::DATE GROUP BY c) k
ON k.c = r.c ORDER BY 2"""),
    dict(name="net_cash_flow by month", metric="net_cash_flow", grain="month", **YEAR,
         sql=f"""WITH {ORD}, flows AS (
  SELECT {bucket('month', 'placed_at')} p, amt v FROM ord WHERE {in_range('placed_at')}
  UNION ALL SELECT {bucket('month', 'closed_at')}, amount::{MONEY} FROM deals WHERE status = 'won' AND {in_range('closed_at')}
  UNION ALL SELECT strftime(date_trunc({M}, incurred_on::DATE), '%Y-%m-%d'), -amount::{MONEY} FROM costs WHERE incurred_on::DATE >= '{{from}}'::DATE AND incurred_on::DATE < '{{to}}'::DATE)
SELECT p, sum(v) FROM flows GROUP BY p ORDER BY p"""),
    dict(name="revenue_growth by month", metric="revenue_growth", grain="month", **YEAR,
         sql=f"WITH {ORD} " + per_month(REVENUE_M, REVENUE_PREV, "coalesce(a.x, 0) / nullif(b.y, 0) - 1")),
    dict(name="bookings_growth by month", metric="bookings_growth", grain="month", **YEAR,
         sql=per_month(WON_M, WON_PREV, "coalesce(a.x, 0) / nullif(b.y, 0) - 1")),
    dict(name="nps by month", metric="nps", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'answered_at')} p, 100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*) FROM surveys WHERE kind = 'nps' AND {in_range('answered_at')} GROUP BY p ORDER BY p"),
    dict(name="csat by month", metric="csat", grain="month", **YEAR,
         sql=f"SELECT {bucket('month', 'answered_at')} p, 100.0 * count(*) FILTER (WHERE score >= 4) / count(*) FROM surveys WHERE kind = 'csat' AND {in_range('answered_at')} GROUP BY p ORDER BY p"),
]
