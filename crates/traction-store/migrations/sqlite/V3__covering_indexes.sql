-- Version 3: covering indexes for the slices asked most often.
-- * Activity metrics filter on kind, direction and outcome and group by owner: with those columns in
--   the time index, a range of activities is answered from the index alone (about half the time of
--   reading the rows at a million activities).
-- * Stock on hand sums the movements of a product: with delta in the index, no row is read.
DROP INDEX activities_occurred_at;
CREATE INDEX activities_occurred_at ON activities (occurred_at, kind, direction, outcome, owner_id);
DROP INDEX inventory_movements_product;
CREATE INDEX inventory_movements_product ON inventory_movements (product_id, occurred_at, delta);
