//! Metrics defined in the app (spec: metrics.md, Definition format): definitions kept in the
//! database beside the built-in catalog and the `--metrics` file.
//!
//! [`DefinitionStore`] is the only way in; the SQLite store implements it (migration V14). A
//! definition is kept as the TOML text of one `[metric.NAME]` table, which the store does not
//! read: the metrics crate checks it before it is written and layers the stored texts over the
//! built-in catalog. Every change is audited in the same transaction, and raises a version that
//! [`DefinitionStore::catalog_version`] reports, so a server notices new definitions (and new
//! event kinds, which bring their own metrics) written by any process without a restart.

use crate::{Actor, Error};

/// One stored definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDefinition {
    pub name: String,
    /// The TOML text of one `[metric.NAME]` table.
    pub definition: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// Storage of the workspace's own metric definitions.
pub trait DefinitionStore: Send + Sync {
    /// Every stored definition, by name.
    fn metric_definitions(&self) -> Result<Vec<StoredDefinition>, Error>;

    /// Creates or replaces the definition of `name` (audited as `metric.add` or `metric.edit`,
    /// with the texts before and after). Answers whether it was created.
    fn put_metric_definition(
        &self,
        actor: &Actor,
        name: &str,
        definition: &str,
        at: i64,
    ) -> Result<bool, Error>;

    /// Deletes the definition of `name` (audited as `metric.delete`); [`Error::NotFound`] when
    /// there is none.
    fn delete_metric_definition(&self, actor: &Actor, name: &str) -> Result<(), Error>;

    /// The distinct kinds of the stored events, sorted.
    fn event_kinds(&self) -> Result<Vec<String>, Error>;

    /// A value that changes whenever the stored definitions or the events change (so whenever
    /// the workspace's catalog may have changed), from any process.
    fn catalog_version(&self) -> Result<i64, Error>;
}
