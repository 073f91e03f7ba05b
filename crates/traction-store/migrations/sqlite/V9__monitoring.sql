-- Version 9: monitoring (spec: monitoring.md): notification channels, alert rules, the state of
-- each rule's instances and the history of their transitions, silences, and notifications with
-- every delivery attempt.
--
-- The store does not interpret a channel's settings or a rule's definition: the monitoring crate
-- writes them as JSON text and reads them back. What the store does keep is the bookkeeping that
-- makes "exactly one notification per firing and per resolution" hold across restarts and
-- servers: an instance row is changed only by a writer that read its current version
-- (`updated_at`), and an evaluation that would go back in time is refused against `monitor_clock`.
-- Notifications are an outbox: written in the same transaction as the transition that caused
-- them, then delivered (and retried) from here, so a crash between the two loses nothing.
-- Never edit this file once released: add a new version instead.

CREATE TABLE channels (
    id         TEXT NOT NULL PRIMARY KEY,
    kind       TEXT NOT NULL,          -- webhook, email, in_app
    config     TEXT NOT NULL,          -- JSON, written and read by traction-monitor
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE alert_rules (
    id         TEXT NOT NULL PRIMARY KEY,
    kind       TEXT NOT NULL,          -- kpi, threshold, lead_sla
    spec       TEXT NOT NULL,          -- JSON, written and read by traction-monitor
    channels   TEXT NOT NULL,          -- comma-separated channel ids, checked when written
    for_secs   INTEGER NOT NULL,       -- working seconds the condition must hold before firing
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- One row per rule and key (a target id, a `by` value, a lead id). `since` is when the condition
-- began to hold (NULL while it does not); `notified` the last state people were told of
-- ('' none yet, 'firing', 'resolved'), so a notification held by a silence is sent when it ends.
CREATE TABLE alert_instances (
    rule_id    TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    state      TEXT NOT NULL,          -- inactive, pending, firing, resolved
    since      INTEGER,
    fired_at   INTEGER,
    notified   TEXT NOT NULL DEFAULT '',
    value      REAL,
    summary    TEXT NOT NULL DEFAULT '',
    url        TEXT NOT NULL DEFAULT '',
    owner_id   TEXT,                   -- who else hears of it in the app (a lead's owner)
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, key)
) WITHOUT ROWID;

-- Every change of state, kept after its rule is deleted (as the audit log is).
CREATE TABLE alert_transitions (
    seq        INTEGER PRIMARY KEY,
    rule_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    value      REAL,
    summary    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_transitions_at ON alert_transitions (at);

CREATE TABLE silences (
    id         TEXT NOT NULL PRIMARY KEY,
    rule_id    TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    key        TEXT,                   -- NULL: every instance of the rule
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- The instant of the latest evaluation: one row.
CREATE TABLE monitor_clock (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_at INTEGER NOT NULL
);

-- A notification to one channel (webhook, email) or one user's list in the app (`user_id`).
-- status: pending (to deliver; `next_at` is when to try next), delivered, failed (24 h of
-- attempts passed). In-app notifications are delivered when written; `read_at` marks them read.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,        -- alert, report, test
    rule_id      TEXT,
    key          TEXT,
    state        TEXT,                 -- firing, resolved (alerts)
    at           INTEGER NOT NULL,     -- the instant of what it reports
    channel_id   TEXT,
    user_id      TEXT,
    body         TEXT NOT NULL,        -- the JSON body (monitoring.md, Notification body)
    text         TEXT NOT NULL,        -- its one line for people
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    read_at      INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_at);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE delivery_attempts (
    seq             INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL,
    at              INTEGER NOT NULL,
    ok              INTEGER NOT NULL,
    error           TEXT
);
CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id);

-- Scheduled reports: a report of a scope sent to channels at a local time on working days.
CREATE TABLE schedules (
    id         TEXT NOT NULL PRIMARY KEY,
    every      TEXT NOT NULL,          -- day, week, month
    time       TEXT NOT NULL,          -- HH:MM, workspace zone
    scope      TEXT NOT NULL,          -- company, team:ID, user:ID
    channels   TEXT NOT NULL,          -- comma-separated channel ids
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL           -- whose rights the report is computed with
);

-- Each due instant of a schedule, once: sent, or missed (a server that was down sends only the
-- latest missed one). The primary key makes "exactly once" hold across restarts and servers.
CREATE TABLE schedule_runs (
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL,
    status      TEXT NOT NULL,         -- sent, missed
    done_at     INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, due_at)
) WITHOUT ROWID;
