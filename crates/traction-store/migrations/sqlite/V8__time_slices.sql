-- Version 8: versions per time slice of the large tables, beside the versions per table (V7).
-- A query that reads a table only within a range of one of these time fields depends on the
-- slices of 30 days (2,592,000,000,000 microseconds, counted from 1970) the range covers, not on
-- the whole table: a call logged today leaves cached figures over last year's activities valid.
-- Triggers note the slices an update or a delete touches (the old and the new value of each
-- tracked field); the writer notes those of the records it inserts (a trigger per inserted row
-- would slow a large import by a quarter), and raises their versions in table_versions as
-- `table.field@slice` before it commits.
CREATE TABLE slices_touched (
    name  TEXT NOT NULL,
    slice INTEGER NOT NULL,
    PRIMARY KEY (name, slice)
) WITHOUT ROWID;

CREATE TRIGGER activities_slices_update AFTER UPDATE ON activities
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('activities.occurred_at', OLD.occurred_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('activities.occurred_at', NEW.occurred_at / 2592000000000);
END;
CREATE TRIGGER activities_slices_delete AFTER DELETE ON activities
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('activities.occurred_at', OLD.occurred_at / 2592000000000);
END;
CREATE TRIGGER leads_slices_update AFTER UPDATE ON leads
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('leads.created_at', OLD.created_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('leads.created_at', NEW.created_at / 2592000000000);
END;
CREATE TRIGGER leads_slices_delete AFTER DELETE ON leads
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('leads.created_at', OLD.created_at / 2592000000000);
END;
CREATE TRIGGER deals_slices_update AFTER UPDATE ON deals
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.created_at', OLD.created_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.closed_at', OLD.closed_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.created_at', NEW.created_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.closed_at', NEW.closed_at / 2592000000000);
END;
CREATE TRIGGER deals_slices_delete AFTER DELETE ON deals
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.created_at', OLD.created_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('deals.closed_at', OLD.closed_at / 2592000000000);
END;
CREATE TRIGGER orders_slices_update AFTER UPDATE ON orders
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('orders.placed_at', OLD.placed_at / 2592000000000);
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('orders.placed_at', NEW.placed_at / 2592000000000);
END;
CREATE TRIGGER orders_slices_delete AFTER DELETE ON orders
BEGIN
    INSERT OR IGNORE INTO slices_touched (name, slice) VALUES ('orders.placed_at', OLD.placed_at / 2592000000000);
END;
