-- Version 4: sign-in and the audit log (spec: quality.md, Security; interfaces.md, HTTP API).
--
-- Secrets are never stored as given: a password as its Argon2id PHC string, a session id and an
-- API token as the SHA-256 of their 32 random bytes (high-entropy secrets need no slow hash, and
-- a lookup by hash is one index probe). Credentials, sessions and tokens go with their user
-- (ON DELETE CASCADE): a user deleted through the API leaves nothing that still signs in. The
-- audit log names users by id as text, without a reference, so it outlives them.
-- Never edit this file once released: add a new version instead.

CREATE TABLE credentials (
    user_id       TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,   -- $argon2id$v=19$m=…,t=…,p=…$salt$hash
    changed_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT NOT NULL PRIMARY KEY,   -- hex SHA-256 of the cookie's value
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,               -- sent in forms; not a secret from its own user
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT NOT NULL PRIMARY KEY,   -- public name of the token (tok-…), for listing and revoking
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,        -- hex SHA-256 of the token
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One row per change: who (a user id, or `cli`/`system`), when (microseconds UTC), what (the
-- action, the entity and the record's key), and the record before and after as compact JSON
-- objects of the fields in their import-text form. A create has no before, a delete no after; an
-- update keeps only the fields that changed, on both sides.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
