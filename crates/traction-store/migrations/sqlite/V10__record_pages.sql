-- Version 10: what a record's page asks (the web application's deal, lead, contact and customer
-- pages): the activities, e-mail events, leads and contacts of one record, newest first, and the
-- audit log of one record. Without these a record page would read the whole table.
CREATE INDEX activities_deal ON activities (deal_id, occurred_at);
CREATE INDEX activities_lead ON activities (lead_id, occurred_at);
CREATE INDEX activities_contact ON activities (contact_id, occurred_at);
CREATE INDEX email_events_lead ON email_events (lead_id, occurred_at);
CREATE INDEX email_events_contact ON email_events (contact_id, occurred_at);
CREATE INDEX leads_contact ON leads (contact_id, created_at);
CREATE INDEX contacts_account ON contacts (account_id, created_at);
CREATE INDEX deals_account ON deals (account_id, created_at);
CREATE INDEX audit_log_record ON audit_log (entity, record_key, seq);

-- Tasks and follow-ups: activities of kind `task` with a due time and a done flag; a person's open
-- tasks (the Today page) are read by owner, kind and due time.
ALTER TABLE activities ADD COLUMN due_at INTEGER;
ALTER TABLE activities ADD COLUMN done INTEGER;
CREATE INDEX activities_tasks ON activities (owner_id, kind, due_at);

-- Search from every page (the start of a name, an e-mail or an id, in any case): a
-- case-insensitive index on each searched field, and the leads of a company.
CREATE INDEX deals_name_search ON deals (name COLLATE NOCASE);
CREATE INDEX deals_id_search ON deals (id COLLATE NOCASE);
CREATE INDEX accounts_name_search ON accounts (name COLLATE NOCASE);
CREATE INDEX accounts_id_search ON accounts (id COLLATE NOCASE);
CREATE INDEX contacts_name_search ON contacts (name COLLATE NOCASE);
CREATE INDEX contacts_email_search ON contacts (email COLLATE NOCASE);
CREATE INDEX contacts_id_search ON contacts (id COLLATE NOCASE);
CREATE INDEX leads_id_search ON leads (id COLLATE NOCASE);
CREATE INDEX leads_account ON leads (account_id, created_at);
