-- Version 14: forecast history (spec: monitoring.md, Forecasts): every forecast that is shown,
-- with the instant it was made, so past forecasts can be set against what happened.
--
-- One forecast per metric, scope, grain and hour it was made: a later one in the same hour
-- replaces it (a dashboard refreshed every minute keeps one, not sixty). The store writes a
-- forecast only when it differs from the one kept for that hour, so showing the same forecast
-- again commits nothing (and moves no data version, which pages watch).
-- Never edit this file once released: add a new version instead.

CREATE TABLE forecasts (
    id            INTEGER NOT NULL PRIMARY KEY,
    metric        TEXT NOT NULL,
    scope         TEXT NOT NULL,      -- company, team:ID, user:ID
    grain         TEXT NOT NULL,      -- day, week
    made_at       INTEGER NOT NULL,   -- microseconds UTC: the instant the forecast was made as of
    made_hour     INTEGER NOT NULL,   -- made_at rounded down to the hour (UTC)
    level         REAL NOT NULL,
    model         TEXT NOT NULL,
    wape          REAL,               -- the backtest's, when there was one
    baseline_wape REAL,
    UNIQUE (metric, scope, grain, made_hour)
);

-- The forecast's buckets; figures are in the metric's unit (money in major units), as shown.
CREATE TABLE forecast_points (
    forecast_id INTEGER NOT NULL REFERENCES forecasts (id) DEFERRABLE INITIALLY DEFERRED,
    start       INTEGER NOT NULL,     -- the bucket's first instant, microseconds UTC
    end_at      INTEGER NOT NULL,
    period      TEXT NOT NULL,        -- the bucket's label (YYYY-MM-DD)
    value       REAL NOT NULL,
    low         REAL NOT NULL,
    high        REAL NOT NULL,
    PRIMARY KEY (forecast_id, start)
) WITHOUT ROWID;

CREATE INDEX forecasts_by_metric ON forecasts (metric, scope, grain, made_at);
