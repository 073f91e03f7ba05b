-- Version 1: one table per entity of spec/data-model.md, one column per field, named as the field.
--
-- Storage conventions (the store reads and writes these; nothing else does):
-- * ids and other text: TEXT, exactly as parsed (categories and enums already lower-cased);
-- * instants (*_at): INTEGER microseconds since the Unix epoch, UTC;
-- * dates (*_on, day): TEXT 'YYYY-MM-DD' (sorts like the dates);
-- * money: INTEGER minor units of the workspace currency (never REAL);
-- * booleans: INTEGER 0/1; fractions (probabilities, thresholds): REAL;
-- * exact decimals of unknown unit (target values): TEXT.
-- References are deferred foreign keys so that a file may refer forward to a row further down
-- (a team naming its parent team); the store also checks every reference itself, to name the
-- line and column of a bad one.
-- Never edit this file once released: add a new version instead.

CREATE TABLE settings (
    key     TEXT NOT NULL,
    team_id TEXT NOT NULL DEFAULT '',   -- '' = the workspace; otherwise a team override
    value   TEXT NOT NULL,
    PRIMARY KEY (key, team_id)
);

CREATE TABLE teams (
    id        TEXT NOT NULL PRIMARY KEY,
    name      TEXT NOT NULL,
    parent_id TEXT REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE users (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT,
    role       TEXT NOT NULL DEFAULT 'rep',
    team_id    TEXT REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    segment    TEXT,
    industry   TEXT,
    region     TEXT,
    owner_id   TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    created_at INTEGER NOT NULL
);

CREATE TABLE contacts (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    account_id TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    owner_id   TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    created_at INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    started_on TEXT,
    ended_on   TEXT,
    budget     INTEGER
);

CREATE TABLE pipelines (
    id   TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE stages (
    id          TEXT NOT NULL PRIMARY KEY,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id) DEFERRABLE INITIALLY DEFERRED,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    probability REAL,                    -- null: linear by position among the open stages
    kind        TEXT NOT NULL DEFAULT 'open'
);

CREATE TABLE deals (
    id                TEXT NOT NULL PRIMARY KEY,
    name              TEXT,
    pipeline_id       TEXT NOT NULL REFERENCES pipelines (id) DEFERRABLE INITIALLY DEFERRED,
    stage_id          TEXT NOT NULL REFERENCES stages (id) DEFERRABLE INITIALLY DEFERRED,
    account_id        TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    owner_id          TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    amount            INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    expected_close_on TEXT,
    closed_at         INTEGER,
    status            TEXT NOT NULL,     -- derived from the stage's kind, kept in step by the store
    lost_reason       TEXT,
    competitor        TEXT,
    source            TEXT,
    campaign_id       TEXT REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED,
    deal_type         TEXT NOT NULL DEFAULT 'new_business',
    contract_months   INTEGER
);

CREATE TABLE stage_changes (
    deal_id    TEXT NOT NULL REFERENCES deals (id) DEFERRABLE INITIALLY DEFERRED,
    stage_id   TEXT NOT NULL REFERENCES stages (id) DEFERRABLE INITIALLY DEFERRED,
    changed_at INTEGER NOT NULL,
    changed_by TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (deal_id, stage_id, changed_at)
);

CREATE TABLE leads (
    id                  TEXT NOT NULL PRIMARY KEY,
    created_at          INTEGER NOT NULL,
    source              TEXT NOT NULL,
    campaign_id         TEXT REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED,
    owner_id            TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    account_id          TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    contact_id          TEXT REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED,
    status              TEXT NOT NULL DEFAULT 'new',
    first_response_at   INTEGER,
    qualified_at        INTEGER,
    converted_at        INTEGER,
    deal_id             TEXT REFERENCES deals (id) DEFERRABLE INITIALLY DEFERRED,
    disqualified_reason TEXT
);

CREATE TABLE activities (
    id          TEXT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    direction   TEXT NOT NULL DEFAULT 'outbound',
    outcome     TEXT,
    lead_id     TEXT REFERENCES leads (id) DEFERRABLE INITIALLY DEFERRED,
    deal_id     TEXT REFERENCES deals (id) DEFERRABLE INITIALLY DEFERRED,
    contact_id  TEXT REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED,
    account_id  TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    duration_s  INTEGER,
    subject     TEXT
);

CREATE TABLE products (
    id            TEXT NOT NULL PRIMARY KEY,
    sku           TEXT,
    name          TEXT NOT NULL,
    category      TEXT,
    unit_price    INTEGER NOT NULL,
    unit_cost     INTEGER,
    opening_stock INTEGER NOT NULL DEFAULT 0,
    reorder_level INTEGER
);

CREATE TABLE orders (
    id           TEXT NOT NULL PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    placed_at    INTEGER NOT NULL,
    channel      TEXT,
    owner_id     TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    status       TEXT NOT NULL DEFAULT 'placed',
    fulfilled_at INTEGER,
    promised_on  TEXT,
    total        INTEGER,                -- as given; null when it is to be the sum of the lines
    amount       INTEGER NOT NULL DEFAULT 0  -- derived: total when given, else the sum of the lines
);

CREATE TABLE order_lines (
    order_id   TEXT NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    line       INTEGER NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) DEFERRABLE INITIALLY DEFERRED,
    quantity   INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    discount   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line)
);

CREATE TABLE inventory_movements (
    id          TEXT NOT NULL PRIMARY KEY,
    product_id  TEXT NOT NULL REFERENCES products (id) DEFERRABLE INITIALLY DEFERRED,
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    order_id    TEXT                     -- derived: the order whose line made this sale movement
);

CREATE TABLE costs (
    id          TEXT NOT NULL PRIMARY KEY,
    incurred_on TEXT NOT NULL,
    category    TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    campaign_id TEXT REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED,
    team_id     TEXT REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED,
    owner_id    TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    note        TEXT
);

CREATE TABLE web_visits (
    day      TEXT NOT NULL,
    source   TEXT NOT NULL,
    visitors INTEGER NOT NULL,
    PRIMARY KEY (day, source)
);

CREATE TABLE email_events (
    id          TEXT NOT NULL PRIMARY KEY,
    message_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    owner_id    TEXT REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    lead_id     TEXT REFERENCES leads (id) DEFERRABLE INITIALLY DEFERRED,
    contact_id  TEXT REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED,
    campaign_id TEXT REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE surveys (
    id          TEXT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    score       INTEGER NOT NULL,
    answered_at INTEGER NOT NULL,
    account_id  TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    contact_id  TEXT REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE targets (
    id         TEXT NOT NULL PRIMARY KEY,
    metric     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    period     TEXT NOT NULL,
    starts_on  TEXT NOT NULL,
    value      TEXT NOT NULL,            -- exact decimal; its unit is the metric's
    split      TEXT NOT NULL DEFAULT 'calendar',
    at_risk    REAL NOT NULL DEFAULT 0.9,
    off_track  REAL NOT NULL DEFAULT 0.75,
    min_sample INTEGER
);
