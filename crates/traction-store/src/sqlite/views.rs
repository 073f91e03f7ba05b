//! Saved views (migration V11): a list page with its filters, saved under a name by one user.
//! The store keeps the page's path and query as text it does not read; the web application
//! checks it is one of its list pages before saving and before opening.

use super::SqliteStore;
use crate::Error;

/// One saved view of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The list page's path and query (`/deals?owner=u1&status=open`).
    pub path: String,
    pub created_at: i64,
}

/// The longest name a view may have, in characters.
pub const MAX_VIEW_NAME: usize = 80;

impl SqliteStore {
    /// A user's saved views, by name.
    pub fn saved_views(&self, user: &str) -> Result<Vec<SavedView>, Error> {
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

    /// Saves a view for `user` under `name` (trimmed; 1 to [`MAX_VIEW_NAME`] characters); a
    /// view of that name is replaced. Answers the view's id and whether it replaced one.
    /// [`Error::Invalid`] for an empty or too long name, [`Error::NotFound`] for no such user.
    pub fn save_view(
        &self,
        user: &str,
        name: &str,
        path: &str,
        at: i64,
    ) -> Result<(i64, bool), Error> {
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

    /// Deletes one of `user`'s views; [`Error::NotFound`] when they have no view `id` (another
    /// user's view is not theirs to delete, and is not told apart from none).
    pub fn delete_view(&self, user: &str, id: i64) -> Result<(), Error> {
        let conn = self.auth_conn();
        let n = conn
            .prepare_cached("DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2")?
            .execute((id, user))?;
        if n == 0 { Err(Error::NotFound) } else { Ok(()) }
    }
}
