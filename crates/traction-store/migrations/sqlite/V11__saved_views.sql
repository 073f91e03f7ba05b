-- Version 11: saved views, one-time sign-in links and the activities of an account.
--
-- A saved view is a list page with its filters (the page's path and query, as the URL holds them),
-- under a name its user chose. Views are a person's own: each belongs to one user, is listed and
-- opened only by them, and a name is used once per user (saving under it again replaces the
-- filters). Deleting the user deletes their views.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- An account's page shows its activities (notes and tasks included) newest first.
CREATE INDEX activities_account ON activities (account_id, occurred_at);

-- One-time sign-in links (an admin invites someone): the link's secret is stored only as its
-- SHA-256, like a session's. A link signs its person in once, to set a password: it is used at
-- most once (`used_at`) and not after `expires_at`.
CREATE TABLE sign_in_links (
    id_hash    TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX sign_in_links_user ON sign_in_links (user_id);
