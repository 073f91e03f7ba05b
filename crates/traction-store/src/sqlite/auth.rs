//! Sign-in data and the audit log on the SQLite store: credentials (password hashes), sessions,
//! API tokens, and the audit rows every write leaves (migration V4).
//!
//! The SQLite side of [`crate::AuthStore`] and [`crate::AuditStore`] (`crate::auth` has the
//! traits and the types). Sessions and tokens are read and written on a connection of their own, so signing a request
//! in never waits behind a long metric query on the read connection.

use rusqlite::{Connection, OptionalExtension};
use traction_domain::money::Currency;
use traction_domain::record::{display_value, format_real};
use traction_domain::schema::FieldType;
use traction_domain::time::{Micros, format_instant};
use traction_domain::{Record, Value};

use super::SqliteStore;
use crate::{Actor, Error};
use crate::{ApiToken, AuditEntry, AuditQuery, AuditStore, AuthStore, Session};

/// `CAST(… AS INTEGER)`: the database's clock in microseconds, for writes without a clock given.
const NOW_SQL: &str = "CAST(unixepoch('subsec') * 1000000 AS INTEGER)";

/// Ends every sign-in of a user: deletes their sessions and revokes their API tokens (at `at`,
/// else now). For good: nothing brings them back.
pub(crate) fn end_sign_ins(
    conn: &Connection,
    user_id: &str,
    at: Option<Micros>,
) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([user_id])?;
    // Without a clock given, the database's own (as every write here without one).
    conn.prepare_cached(&format!(
        "UPDATE api_tokens SET revoked_at = COALESCE(?2, {NOW_SQL}) \
         WHERE user_id = ?1 AND revoked_at IS NULL"
    ))?
    .execute((user_id, at))?;
    Ok(())
}

/// Appends one audit row on `conn` (inside the caller's transaction).
pub(crate) fn append(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    entity: &str,
    key: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), Error> {
    // Built once: an import appends a row per record.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "INSERT INTO audit_log (at, actor, action, entity, record_key, before, after)
             VALUES (coalesce(?1, {NOW_SQL}), ?2, ?3, ?4, ?5, ?6, ?7)"
        )
    });
    conn.prepare_cached(&SQL)?.execute((
        actor.at,
        &actor.user,
        action,
        entity,
        key,
        before,
        after,
    ))?;
    Ok(())
}

/// A JSON string literal.
pub(crate) fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    // Most texts need no escape: copied whole (an import writes one per field of every record).
    if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(text);
        out.push('"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A record's fields (those whose index `keep` accepts, and that are set) as a compact JSON
/// object: text, dates and instants as strings, numbers and money as numbers, booleans as such.
pub(crate) fn record_json(
    record: &Record,
    currency: Currency,
    keep: impl Fn(usize) -> bool,
) -> String {
    let mut out = String::from("{");
    for (idx, field) in record.entity.fields().iter().enumerate() {
        let value = &record.values[idx];
        if !keep(idx) || value.is_null() {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        push_json_string(&mut out, field.name);
        out.push(':');
        match (field.ty, value) {
            (FieldType::Money, Value::Int(minor)) => {
                out.push_str(&traction_domain::money::format_minor(*minor, currency))
            }
            (_, Value::Int(n)) => out.push_str(&n.to_string()),
            (_, Value::Real(x)) if x.is_finite() => out.push_str(&format_real(*x)),
            (_, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            (_, Value::Instant(micros)) => push_json_string(&mut out, &format_instant(*micros)),
            (_, Value::Text(text)) => push_json_string(&mut out, text),
            (_, other) => push_json_string(&mut out, &display_value(other)),
        }
    }
    out.push('}');
    out
}

impl SqliteStore {
    pub(crate) fn auth_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.auth.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl AuthStore for SqliteStore {
    fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        actor: &Actor,
        at: Micros,
    ) -> Result<(), Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let exists = tx.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?.exists([user_id])?;
        if !exists {
            return Err(Error::NotFound);
        }
        let had =
            tx.prepare_cached("SELECT 1 FROM credentials WHERE user_id = ?1")?.exists([user_id])?;
        tx.execute(
            "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,
                                                 changed_at = excluded.changed_at",
            (user_id, password_hash, at),
        )?;
        // A changed password signs every session and token out: whoever knew the old one (or
        // holds a token made while it was known) is out too. A first password ends nothing.
        if had {
            end_sign_ins(&tx, user_id, Some(at))?;
        }
        let action = if had { "password.change" } else { "password.set" };
        append(&tx, actor, action, "credentials", user_id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn password_hash(&self, user_id: &str) -> Result<Option<String>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?)
    }

    fn create_session(&self, id_hash: &str, session: &Session) -> Result<(), Error> {
        let conn = self.auth_conn();
        conn.prepare_cached(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute((
            id_hash,
            &session.user_id,
            &session.csrf_token,
            session.created_at,
            session.last_seen_at,
        ))?;
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<Session>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached(
                "SELECT user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = ?1",
            )?
            .query_row([id_hash], |r| {
                Ok(Session {
                    user_id: r.get(0)?,
                    csrf_token: r.get(1)?,
                    created_at: r.get(2)?,
                    last_seen_at: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn touch_session(&self, id_hash: &str, at: Micros) -> Result<(), Error> {
        let conn = self.auth_conn();
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let res = conn
            .prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1")
            .and_then(|mut stmt| stmt.execute((id_hash, at)));
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        res?;
        Ok(())
    }

    fn delete_session(&self, id_hash: &str) -> Result<(), Error> {
        let conn = self.auth_conn();
        conn.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")?.execute([id_hash])?;
        Ok(())
    }

    fn expire_sessions(&self, created_before: Micros, seen_before: Micros) -> Result<u64, Error> {
        let conn = self.auth_conn();
        let n = conn
            .prepare_cached("DELETE FROM sessions WHERE created_at < ?1 OR last_seen_at < ?2")?
            .execute((created_before, seen_before))?;
        Ok(n as u64)
    }

    fn create_token(&self, token: &ApiToken, token_hash: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let exists =
            tx.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?.exists([&token.user_id])?;
        if !exists {
            return Err(Error::NotFound);
        }
        tx.execute(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            (&token.id, &token.user_id, &token.name, token_hash, token.created_at),
        )?;
        let mut after = String::from("{\"user_id\":");
        push_json_string(&mut after, &token.user_id);
        after.push_str(",\"name\":");
        push_json_string(&mut after, &token.name);
        after.push('}');
        append(&tx, actor, "token.create", "api_tokens", &token.id, None, Some(&after))?;
        tx.commit()?;
        Ok(())
    }

    fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached(&format!("{TOKEN_SELECT} WHERE token_hash = ?1"))?
            .query_row([token_hash], token_row)
            .optional()?)
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached(&format!("{TOKEN_SELECT} WHERE id = ?1"))?
            .query_row([id], token_row)
            .optional()?)
    }

    fn touch_token(&self, id: &str, at: Micros) -> Result<(), Error> {
        let conn = self.auth_conn();
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let res = conn
            .prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute((id, at)));
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        res?;
        Ok(())
    }

    fn tokens(&self, user_id: Option<&str>) -> Result<Vec<ApiToken>, Error> {
        let conn = self.auth_conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{TOKEN_SELECT} WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([user_id], token_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn revoke_token(&self, id: &str, at: Micros, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let revoked: Option<Option<Micros>> = tx
            .prepare_cached("SELECT revoked_at FROM api_tokens WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match revoked {
            None => return Err(Error::NotFound),
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        tx.execute("UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1", (id, at))?;
        append(&tx, actor, "token.revoke", "api_tokens", id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn create_sign_in_link(
        &self,
        id_hash: &str,
        user_id: &str,
        at: Micros,
        expires_at: Micros,
        actor: &Actor,
    ) -> Result<(), Error> {
        self.insert_sign_in_link(id_hash, user_id, at, expires_at, actor)
    }

    fn sign_in_link(&self, id_hash: &str, at: Micros) -> Result<Option<String>, Error> {
        self.find_sign_in_link(id_hash, at)
    }

    fn use_sign_in_link(&self, id_hash: &str, at: Micros) -> Result<Option<String>, Error> {
        self.take_sign_in_link(id_hash, at)
    }
}

impl AuditStore for SqliteStore {
    fn audit(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        key: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), Error> {
        let conn = self.auth_conn();
        append(&conn, actor, action, entity, key, before, after)
    }

    fn audit_of(&self, entity: &str, key: &str, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let conn = self.auth_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, record_key, before, after FROM audit_log
             WHERE entity = ?1 AND record_key = ?2 ORDER BY seq DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map((entity, key, limit as i64), audit_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, Error> {
        let conn = self.auth_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, record_key, before, after FROM audit_log
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2)
               AND (?3 IS NULL OR entity = ?3) AND (?4 IS NULL OR actor = ?4)
               AND (?5 IS NULL OR seq < ?5)
             ORDER BY seq DESC LIMIT ?6",
        )?;
        let rows = stmt.query_map(
            (
                query.from,
                query.to,
                query.entity.as_deref(),
                query.actor.as_deref(),
                query.before_seq,
                query.limit as i64,
            ),
            audit_row,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        entity: r.get(4)?,
        key: r.get(5)?,
        before: r.get(6)?,
        after: r.get(7)?,
    })
}

const TOKEN_SELECT: &str =
    "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}
