-- Version 2: indexes for the questions Traction asks most.
-- * time fields that metrics place records by, so a range reads only its rows;
-- * reference fields that are looked up from the parent (a deal's history, an order's movements,
--   a message's events, and the checks made before a delete).
CREATE INDEX leads_created_at ON leads (created_at);
CREATE INDEX leads_deal_id ON leads (deal_id);
CREATE INDEX deals_created_at ON deals (created_at);
CREATE INDEX deals_closed_at ON deals (closed_at);
CREATE INDEX deals_stage_id ON deals (stage_id);
CREATE INDEX stage_changes_stage_id ON stage_changes (stage_id);
CREATE INDEX activities_occurred_at ON activities (occurred_at);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE INDEX orders_account_id ON orders (account_id);
CREATE INDEX order_lines_product_id ON order_lines (product_id);
CREATE INDEX inventory_movements_product ON inventory_movements (product_id, occurred_at);
CREATE INDEX inventory_movements_order_id ON inventory_movements (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX email_events_message_id ON email_events (message_id);
CREATE INDEX email_events_occurred_at ON email_events (occurred_at);
CREATE INDEX costs_incurred_on ON costs (incurred_on);
CREATE INDEX surveys_answered_at ON surveys (answered_at);
CREATE INDEX users_team_id ON users (team_id);
