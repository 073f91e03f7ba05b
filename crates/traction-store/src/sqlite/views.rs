//! Saved views (migration V11): a list page with its filters, saved under a name by one user.
//! The store keeps the page's path and query as text it does not read; the web application
//! checks it is one of its list pages before saving and before opening.

use super::SqliteStore;
use crate::{Error, MAX_VIEW_NAME, SavedView, ViewStore};

impl ViewStore for SqliteStore {
    fn saved_views(&self, user: &str) -> Result<Vec<SavedView>, Error> {
        let conn = self.auth_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, path, created_at FROM saved_views WHERE user_id = ?1
             ORDER BY name COLLATE NOCASE, id",
        )?;
        let rows = stmt.query_map([user], |r| {
            Ok(SavedView { id: r.get(0)?, name: r.get(1)?, path: r.get(2)?, created_at: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn save_view(&self, user: &str, name: &str, path: &str, at: i64) -> Result<(i64, bool), Error> {
        let name = name.trim();
        let problem = |message: String| {
            Error::Invalid(vec![crate::Problem { tag: None, field: "name".into(), message }])
        };
        if name.is_empty() {
            return Err(problem("give the view a name, such as \"My open deals\"".into()));
        }
        if name.chars().count() > MAX_VIEW_NAME {
            return Err(problem(format!("a view's name has at most {MAX_VIEW_NAME} characters")));
        }
        let conn = self.auth_conn();
        let exists: bool =
            conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?.exists([user])?;
        if !exists {
            return Err(Error::NotFound);
        }
        let old: Option<i64> = conn
            .prepare_cached("SELECT id FROM saved_views WHERE user_id = ?1 AND name = ?2")?
            .query_row((user, name), |r| r.get(0))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        if let Some(id) = old {
            conn.prepare_cached("UPDATE saved_views SET path = ?2, created_at = ?3 WHERE id = ?1")?
                .execute((id, path, at))?;
            return Ok((id, true));
        }
        conn.prepare_cached(
            "INSERT INTO saved_views (user_id, name, path, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((user, name, path, at))?;
        Ok((conn.last_insert_rowid(), false))
    }

    fn delete_view(&self, user: &str, id: i64) -> Result<(), Error> {
        let conn = self.auth_conn();
        let n = conn
            .prepare_cached("DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2")?
            .execute((id, user))?;
        if n == 0 { Err(Error::NotFound) } else { Ok(()) }
    }
}
