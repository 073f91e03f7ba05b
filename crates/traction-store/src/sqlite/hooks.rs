//! [`HookStore`] on SQLite (migration V15).

use rusqlite::{OptionalExtension, Row};

use super::SqliteStore;
use super::auth::{append, push_json_string};
use crate::hooks::{EmailHook, HookStore, Recipient};
use crate::{Actor, Error};

const COLUMNS: &str = "provider, secret, url, created_at, created_by";

fn read_hook(row: &Row<'_>) -> rusqlite::Result<EmailHook> {
    Ok(EmailHook {
        provider: row.get(0)?,
        secret: row.get(1)?,
        url: row.get(2)?,
        created_at: row.get(3)?,
        created_by: row.get(4)?,
    })
}

impl HookStore for SqliteStore {
    fn add_email_hook(&self, hook: &EmailHook, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT provider FROM email_hooks WHERE provider = ?1",
                [&hook.provider],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(Error::Conflict(format!(
                "there is already a {} hook: remove it first (traction hook remove {})",
                hook.provider, hook.provider
            )));
        }
        tx.execute(
            &format!("INSERT INTO email_hooks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
            (&hook.provider, &hook.secret, &hook.url, hook.created_at, &hook.created_by),
        )?;
        // The audit row names the hook and its URL, never the secret.
        let mut audit = String::from("{\"provider\":");
        push_json_string(&mut audit, &hook.provider);
        audit.push_str(",\"url\":");
        push_json_string(&mut audit, &hook.url);
        audit.push('}');
        append(&tx, actor, "create", "email_hooks", &hook.provider, None, Some(&audit))?;
        tx.commit()?;
        Ok(())
    }

    fn email_hooks(&self) -> Result<Vec<EmailHook>, Error> {
        let conn = self.light_reader();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM email_hooks ORDER BY provider"))?;
        let rows = stmt.query_map([], read_hook)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn email_hook(&self, provider: &str) -> Result<Option<EmailHook>, Error> {
        let conn = self.light_reader();
        Ok(conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM email_hooks WHERE provider = ?1"))?
            .query_row([provider], read_hook)
            .optional()?)
    }

    fn delete_email_hook(&self, provider: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM email_hooks WHERE provider = ?1", [provider])? == 0 {
            return Err(Error::NotFound);
        }
        append(&tx, actor, "delete", "email_hooks", provider, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn recipient(&self, email: &str) -> Result<Recipient, Error> {
        let email = email.trim();
        let mut out = Recipient::default();
        if email.is_empty() {
            return Ok(out);
        }
        let conn = self.light_reader();
        if let Some((id, owner)) = conn
            .prepare_cached(
                "SELECT id, owner_id FROM contacts WHERE email = ?1 COLLATE NOCASE
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )?
            .query_row([email], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))
            .optional()?
        {
            if let Some((lead, owner, campaign)) = conn
                .prepare_cached(
                    "SELECT id, owner_id, campaign_id FROM leads WHERE contact_id = ?1
                     ORDER BY created_at DESC, id DESC LIMIT 1",
                )?
                .query_row([&id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get(2)?))
                })
                .optional()?
            {
                out.lead_id = Some(lead);
                out.lead_owner = owner;
                out.lead_campaign = campaign;
            }
            out.contact_id = Some(id);
            out.contact_owner = owner;
        }
        Ok(out)
    }
}
