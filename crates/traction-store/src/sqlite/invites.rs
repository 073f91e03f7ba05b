//! One-time sign-in links (migration V11): an admin invites a person with a link that signs
//! them in once, to set their password. The store keeps the link's secret only as a hash; a
//! link is used at most once and never after it expires, and the use is decided in one
//! statement, so two clicks at the same moment cannot both sign in.

use rusqlite::OptionalExtension;

use super::SqliteStore;
use super::auth::append;
use crate::{Actor, Error};

impl SqliteStore {
    // The [`crate::AuthStore`] methods of sign-in links (`auth.rs` calls them).

    pub(super) fn insert_sign_in_link(
        &self,
        id_hash: &str,
        user_id: &str,
        at: i64,
        expires_at: i64,
        actor: &Actor,
    ) -> Result<(), Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let exists = tx.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?.exists([user_id])?;
        if !exists {
            return Err(Error::NotFound);
        }
        tx.prepare_cached(
            "INSERT INTO sign_in_links (id_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((id_hash, user_id, at, expires_at))?;
        append(&tx, actor, "sign_in_link.create", "credentials", user_id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn find_sign_in_link(
        &self,
        id_hash: &str,
        at: i64,
    ) -> Result<Option<String>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached(
                "SELECT user_id FROM sign_in_links
                 WHERE id_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            )?
            .query_row((id_hash, at), |r| r.get(0))
            .optional()?)
    }

    pub(super) fn take_sign_in_link(
        &self,
        id_hash: &str,
        at: i64,
    ) -> Result<Option<String>, Error> {
        let conn = self.auth_conn();
        Ok(conn
            .prepare_cached(
                "UPDATE sign_in_links SET used_at = ?2
                 WHERE id_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                 RETURNING user_id",
            )?
            .query_row((id_hash, at), |r| r.get(0))
            .optional()?)
    }
}
