-- Version 7: a version per table, raised by every write transaction that touches the table (the
-- store's writer does it before it commits). Readers keep query results until a table the query
-- reads changes version: after a deal is moved, a dashboard recomputes the figures over deals
-- and keeps those over activities, leads and orders. A table with no row here is at version 0.
CREATE TABLE table_versions (
    name    TEXT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;
