-- Version 15: events, anything else worth counting (data-model.md, events): meals served,
-- volunteer hours, CO2 saved, cash in. `kind` is stored normalised (lower case, underscores), so
-- `Meals Served` and `meals_served` are one kind. `quantity` is a REAL: metrics add it up, and
-- quantities are not money (amounts stay INTEGER minor units like every other amount).
CREATE TABLE events (
    id          TEXT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    quantity    REAL NOT NULL DEFAULT 1,
    amount      INTEGER,
    owner_id    TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    team_id     TEXT REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED,
    account_id  TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    campaign_id TEXT REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED,
    note        TEXT
);

-- Impact metrics read one kind over a range (`kind = 'meals_served'`, by occurred_at); the
-- covering columns let them sum without touching the table.
CREATE INDEX events_kind_occurred_at ON events (kind, occurred_at, quantity, amount, owner_id, team_id);
CREATE INDEX events_occurred_at ON events (occurred_at);
CREATE INDEX events_owner ON events (owner_id, occurred_at);
CREATE INDEX events_team ON events (team_id, occurred_at);
