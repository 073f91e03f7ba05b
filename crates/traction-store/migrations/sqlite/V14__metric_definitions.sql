-- Version 16: metrics defined in the app (metrics.md, Definition format), one row per metric: its
-- name and its definition as the TOML text of one `[metric.NAME]` table, the same text a
-- definitions file holds. The store keeps the text and does not read it; the metrics crate checks
-- it before it is written and layers it over the built-in catalog when a catalog is loaded.
CREATE TABLE metric_definitions (
    name       TEXT NOT NULL PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
