//! [`DefinitionStore`] on SQLite (migration V14): the `metric_definitions` table, audited, its
//! changes raising the table's version like any write (query_cache.rs).

use rusqlite::OptionalExtension;

use super::SqliteStore;
use super::auth::append;
use super::query_cache::raise_versions;
use crate::definitions::{DefinitionStore, StoredDefinition};
use crate::{Actor, Error};

impl DefinitionStore for SqliteStore {
    fn metric_definitions(&self) -> Result<Vec<StoredDefinition>, Error> {
        let conn = self.auth_conn();
        let mut stmt = conn.prepare_cached(
            "SELECT name, definition, updated_at, updated_by FROM metric_definitions ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredDefinition {
                name: r.get(0)?,
                definition: r.get(1)?,
                updated_at: r.get(2)?,
                updated_by: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn put_metric_definition(
        &self,
        actor: &Actor,
        name: &str,
        definition: &str,
        at: i64,
    ) -> Result<bool, Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let before: Option<String> = tx
            .query_row("SELECT definition FROM metric_definitions WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        tx.execute(
            "INSERT INTO metric_definitions (name, definition, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (name, definition, at, &actor.user),
        )?;
        let action = if before.is_some() { "metric.edit" } else { "metric.add" };
        append(
            &tx,
            actor,
            action,
            "metric_definitions",
            name,
            before.as_deref(),
            Some(definition),
        )?;
        raise_versions(&tx, ["metric_definitions"])?;
        tx.commit()?;
        Ok(before.is_none())
    }

    fn delete_metric_definition(&self, actor: &Actor, name: &str) -> Result<(), Error> {
        let mut conn = self.auth_conn();
        let tx = conn.transaction()?;
        let before: Option<String> = tx
            .query_row("SELECT definition FROM metric_definitions WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(before) = before else { return Err(Error::NotFound) };
        tx.execute("DELETE FROM metric_definitions WHERE name = ?1", [name])?;
        append(&tx, actor, "metric.delete", "metric_definitions", name, Some(&before), None)?;
        raise_versions(&tx, ["metric_definitions"])?;
        tx.commit()?;
        Ok(())
    }

    fn event_kinds(&self) -> Result<Vec<String>, Error> {
        let conn = self.auth_conn();
        // Through the (kind, occurred_at, …) index: one step per kind, not a scan of the events.
        let mut stmt = conn.prepare_cached("SELECT DISTINCT kind FROM events ORDER BY kind")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn catalog_version(&self) -> Result<i64, Error> {
        let conn = self.auth_conn();
        Ok(conn.query_row(
            "SELECT coalesce(sum(version), 0) FROM table_versions
             WHERE name IN ('metric_definitions', 'events')",
            [],
            |r| r.get(0),
        )?)
    }
}
