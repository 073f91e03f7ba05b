//! The whole of what a storage backend offers, as one trait object ([`Backend`]), and the one
//! place that picks the backend for a database location ([`open`]).
//!
//! Everything above the store — the command line, the server, the web pages, the metrics engine,
//! KPIs, monitoring, forecasts, imports and the demo — holds an `Arc<dyn Backend>` (or borrows a
//! `&dyn Backend`) and never names the backend's type. A second backend implements the same
//! traits and is chosen here; nothing above changes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use traction_domain::{Entity, Record};

use crate::{
    Actor, AuditStore, AuthStore, DefinitionStore, Error, ForecastStore, HookStore, LeadStore,
    MonitorStore, ShopStore, SqlReader, SqliteStore, Store, ViewStore, Writer,
};

/// What the processes need of the backend itself, beside the data: who writes, how long a read
/// may take, memory, change notices, and checks.
pub trait Operations: Send + Sync {
    /// Sets who [`Store::writer`] writes as in the audit log: `cli` for the command line,
    /// `system` by default; `None` turns the audit of plain writers off (the demo generator's
    /// bulk load, which leaves one summary row instead).
    fn set_default_actor(&self, actor: Option<Actor>);

    /// A write transaction whose changes are audited as `actor`'s (`None`: not audited).
    fn writer_as(&self, actor: Option<&Actor>) -> Result<Box<dyn Writer + '_>, Error>;

    /// Limits how long one analytical read ([`SqlReader`]) may take: past it the read is
    /// stopped and fails with [`Error::Busy`]. `None` (the default): no limit. The server sets
    /// one; the command line does not.
    fn set_read_time_limit(&self, limit: Option<Duration>);

    /// Gives memory back while the server is idle (kept query results, connection caches). The
    /// next reads are slower until the caches are warm again.
    fn release_memory(&self);

    /// A number that changes whenever anyone — this process or another, such as `traction
    /// import` — commits a change to the data. For caches of figures and the event stream's
    /// watcher; only equality means anything.
    fn change_counter(&self) -> Result<i64, Error>;

    /// The backend's own check of the whole database: `Ok` when it finds nothing wrong, else
    /// what it found. For recovery checks after a crash.
    fn integrity_check(&self) -> Result<(), Error>;

    /// Where the data is, for people and for telling two stores apart (a file's path).
    fn location(&self) -> String;
}

/// Finding records by what people type in a search box.
pub trait SearchStore: Send + Sync {
    /// Up to `limit` records of `entity` whose `field` starts with `prefix`, ignoring the case
    /// of ASCII letters, in the order of that field. [`Error::Invalid`] for a field that is not
    /// searchable ([`crate::SEARCHABLE`]); an empty prefix finds nothing.
    fn search_prefix(
        &self,
        entity: Entity,
        field: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Record>, Error>;
}

/// Everything a backend stores and does, as one trait object.
pub trait Backend:
    Store
    + DefinitionStore
    + MonitorStore
    + ShopStore
    + LeadStore
    + HookStore
    + ForecastStore
    + AuthStore
    + AuditStore
    + ViewStore
    + SearchStore
    + Operations
    + SqlReader
{
}

impl<T> Backend for T where
    T: Store
        + DefinitionStore
        + MonitorStore
        + ShopStore
        + LeadStore
        + HookStore
        + ForecastStore
        + AuthStore
        + AuditStore
        + ViewStore
        + SearchStore
        + Operations
        + SqlReader
{
}

/// Opens the database at `location`, creating it and bringing its schema up to date when
/// needed. The one place that picks a backend: today every location is a SQLite file; a
/// `postgres://` address is refused with a message saying so.
pub fn open(location: &Path) -> Result<Arc<dyn Backend>, Error> {
    let text = location.to_string_lossy();
    if ["postgres://", "postgresql://"].iter().any(|scheme| text.starts_with(scheme)) {
        return Err(Error::Storage(format!(
            "{} is a PostgreSQL address, and this version of Traction stores its data in a SQLite file only: pass a file path to --db",
            redacted(&text)
        )));
    }
    Ok(Arc::new(SqliteStore::open(location)?))
}

/// A database address without its password (`postgres://user:…@host/db`).
fn redacted(address: &str) -> String {
    let Some((scheme, rest)) = address.split_once("://") else { return address.to_string() };
    match rest.split_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:…@{host}")
        }
        None => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_address_is_refused_without_showing_its_password() {
        let err = open(Path::new("postgres://ann:s3cret@db.example/traction")).err().unwrap();
        let message = err.to_string();
        assert!(message.contains("postgres://ann:…@db.example/traction"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("SQLite file"), "{message}");
    }

    #[test]
    fn a_path_opens_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = open(&path).unwrap();
        assert_eq!(store.location(), path.display().to_string());
        assert_eq!(store.dialect(), crate::Dialect::Sqlite);
        assert_eq!(store.count(Entity::Deals).unwrap(), 0);
        assert!(path.exists());
    }
}
