-- Version 5: customers kept up to date at write time.
-- A customer is an account with a counted order (not cancelled or returned) or a won deal; its
-- first purchase decides when it became one (metrics.md, Customers, orders and products).
-- Metrics over customers read `customer_stats` (one row per customer: first and last purchase,
-- counts and revenue over its whole history) instead of grouping every order and won deal per
-- query. Triggers mark the accounts whose purchases a write changes; the writer recomputes them
-- before it commits (and the store on open), so outside a write transaction the table is exact.

-- Won deals of an account, for the recomputation of one customer.
CREATE INDEX deals_account_id ON deals (account_id);

CREATE TABLE customer_stats (
    account_id        TEXT NOT NULL PRIMARY KEY,
    first_purchase_at INTEGER NOT NULL,
    last_purchase_at  INTEGER NOT NULL,
    first_order_at    INTEGER,
    first_won_at      INTEGER,
    orders            INTEGER NOT NULL,
    won_deals         INTEGER NOT NULL,
    order_revenue     INTEGER,
    deal_revenue      INTEGER
) WITHOUT ROWID;
CREATE INDEX customer_stats_first_purchase_at ON customer_stats (first_purchase_at, last_purchase_at);
-- The customers with a purchase after a clock in the past: few when the clock is recent.
CREATE INDEX customer_stats_last_purchase_at ON customer_stats (last_purchase_at, first_purchase_at);

-- Accounts whose customer_stats row is out of date: empty outside a write transaction.
CREATE TABLE customer_stats_dirty (account_id TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;

CREATE TRIGGER orders_customer_insert AFTER INSERT ON orders
WHEN NEW.status NOT IN ('cancelled', 'returned')
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (NEW.account_id);
END;
CREATE TRIGGER orders_customer_update AFTER UPDATE OF account_id, placed_at, status, amount ON orders
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (OLD.account_id);
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (NEW.account_id);
END;
CREATE TRIGGER orders_customer_delete AFTER DELETE ON orders
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (OLD.account_id);
END;

CREATE TRIGGER deals_customer_insert AFTER INSERT ON deals
WHEN NEW.status = 'won' AND NEW.account_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (NEW.account_id);
END;
CREATE TRIGGER deals_customer_update AFTER UPDATE OF account_id, status, closed_at, amount ON deals
WHEN OLD.status = 'won' OR NEW.status = 'won'
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id)
        SELECT OLD.account_id WHERE OLD.account_id IS NOT NULL;
    INSERT OR IGNORE INTO customer_stats_dirty (account_id)
        SELECT NEW.account_id WHERE NEW.account_id IS NOT NULL;
END;
CREATE TRIGGER deals_customer_delete AFTER DELETE ON deals
WHEN OLD.status = 'won' AND OLD.account_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO customer_stats_dirty (account_id) VALUES (OLD.account_id);
END;

-- Every existing customer is computed when the store opens the upgraded file.
INSERT OR IGNORE INTO customer_stats_dirty (account_id)
    SELECT account_id FROM orders WHERE status NOT IN ('cancelled', 'returned')
    UNION SELECT account_id FROM deals WHERE status = 'won' AND account_id IS NOT NULL;
