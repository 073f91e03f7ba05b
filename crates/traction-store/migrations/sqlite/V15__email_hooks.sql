-- Version 12: mailing tools push their events in (importers.md, email hooks). One hook per
-- provider (`mandrill`, `sendgrid`) with what checks its requests: Mandrill's webhook key and the
-- URL it posts to (both signed), SendGrid's verification public key. The secret is kept for
-- checking only; nothing reads it back out to a person.
-- Never edit this file once released: add a new version instead.

CREATE TABLE email_hooks (
    provider   TEXT NOT NULL PRIMARY KEY,
    secret     TEXT NOT NULL,
    url        TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- An event names its recipient by address: the contact is found by `contacts_email_search`
-- (V10), the contact's leads by `leads_contact` (V10); nothing more is needed.
