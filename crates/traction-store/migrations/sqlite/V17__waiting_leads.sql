-- Version 17: the leads waiting for a first answer (the leads page: how many, how many past the
-- SLA, one page of them newest first), read from a partial index that holds those leads alone.
-- A workspace keeps every lead it ever had, and few of them wait: the index stays small, and
-- the counts and the page read it without touching the table (but for the page's own rows).
-- The queries of `sqlite/leads.rs` repeat this index's condition word for word, so SQLite
-- can use it.
-- Never edit this file once released: add a new version instead.

CREATE INDEX leads_waiting ON leads (created_at, id, owner_id, source)
    WHERE status = 'new' AND first_response_at IS NULL;
