//! Versioned schema migrations.
//!
//! The database's `user_version` is the number of migrations applied. Opening a database applies
//! the missing ones in order, each in its own transaction, so a file made by an older Traction
//! upgrades in place and a failed upgrade leaves it as it was. Migrations are never edited once
//! released; a change of schema is a new file.

use rusqlite::Connection;

use crate::Error;

/// The migrations, in order: version n is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("entities", include_str!("../../migrations/sqlite/V1__entities.sql")),
    ("indexes", include_str!("../../migrations/sqlite/V2__indexes.sql")),
    ("covering indexes", include_str!("../../migrations/sqlite/V3__covering_indexes.sql")),
    ("sign-in and audit log", include_str!("../../migrations/sqlite/V4__auth.sql")),
    ("customers kept up to date", include_str!("../../migrations/sqlite/V5__customers.sql")),
    ("dashboard indexes", include_str!("../../migrations/sqlite/V6__dashboard_indexes.sql")),
    ("table versions", include_str!("../../migrations/sqlite/V7__table_versions.sql")),
    ("time slice versions", include_str!("../../migrations/sqlite/V8__time_slices.sql")),
    ("monitoring", include_str!("../../migrations/sqlite/V9__monitoring.sql")),
    ("record page indexes", include_str!("../../migrations/sqlite/V10__record_pages.sql")),
    ("saved views", include_str!("../../migrations/sqlite/V11__saved_views.sql")),
    ("forecast history", include_str!("../../migrations/sqlite/V12__forecasts.sql")),
    ("events", include_str!("../../migrations/sqlite/V13__events.sql")),
    ("metric definitions", include_str!("../../migrations/sqlite/V14__metric_definitions.sql")),
    ("email hooks", include_str!("../../migrations/sqlite/V15__email_hooks.sql")),
    ("forecast backtests", include_str!("../../migrations/sqlite/V16__forecast_backtests.sql")),
    ("waiting leads", include_str!("../../migrations/sqlite/V17__waiting_leads.sql")),
];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

fn version(conn: &Connection) -> Result<u32, Error> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to the latest version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), Error> {
    migrate_to(conn, LATEST_VERSION)
}

/// Applies migrations up to `target` (tests use it to make an older database).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), Error> {
    let current = version(conn)?;
    if current > LATEST_VERSION {
        return Err(Error::Storage(format!(
            "the database has schema version {current}, newer than this Traction knows ({LATEST_VERSION}): upgrade Traction"
        )));
    }
    for (idx, (name, sql)) in
        MIGRATIONS.iter().enumerate().take(target as usize).skip(current as usize)
    {
        let next = idx as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| Error::Storage(format!("migration {next} ({name}) failed: {e}")))?;
        tx.pragma_update(None, "user_version", next)?;
        tx.commit()?;
    }
    Ok(())
}
