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
