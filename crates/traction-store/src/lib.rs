//! Traction's storage: the [`Store`] interface and its embedded SQLite implementation.
//!
//! Callers speak in domain values ([`Record`], [`Entity`], settings keys), never in SQL: the
//! interface is cut by entity and by need (write a batch of records atomically, read one record,
//! scan an entity in key order, back up), so a PostgreSQL store can implement the same trait
//! later without touching its callers.
//!
//! Writes go through a [`Writer`], one transaction: `put` validates a record against the stored
//! data (references, a deal's stage) and upserts it; `commit` checks the rules that span records
//! (one won stage per pipeline, an order's total against its lines), derives what is derived
//! (deal status, sale movements) and commits — or reports every problem and changes nothing.

pub mod auth;
mod backend;
pub mod definitions;
pub mod forecast;
pub mod hooks;
pub mod leads;
pub mod monitor;
mod predicate;
mod reader;
pub mod shop;
mod sqlite;

use std::fmt;
use std::path::Path;

use traction_domain::record::FieldProblem;
use traction_domain::settings::{Key, Workspace};
use traction_domain::{Entity, Record, Value};

pub use auth::{
    ApiToken, AuditEntry, AuditQuery, AuditStore, AuthStore, MAX_VIEW_NAME, SavedView, Session,
    ViewStore,
};
pub use backend::{Backend, Operations, SearchStore, open};
pub use definitions::{DefinitionStore, StoredDefinition};
pub use forecast::ForecastStore;
pub use hooks::HookStore;
pub use leads::{LeadStore, WaitingLeads, WaitingQuery};
pub use monitor::MonitorStore;
pub use predicate::{ArithOp, CmpOp, Predicate, Term, owner_predicate};
pub use reader::{Dialect, Ranged, Rows, SqlReader, SqlValue};
pub use shop::ShopStore;
pub use sqlite::SqliteStore;
pub use sqlite::customers;
pub use sqlite::partial_backup_path;
pub use sqlite::search::SEARCHABLE;

/// Who makes a change, for the audit log: a user id, or `cli` / `system`; and when (`None`: the
/// database's clock at the write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub at: Option<i64>,
}

impl Actor {
    /// Changes made by Traction itself (migrations of data, a writer nobody named).
    pub fn system() -> Actor {
        Actor { user: "system".into(), at: None }
    }
}

/// A problem found while writing: which record (the caller's tag, e.g. a file line), which field,
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The tag given to [`Writer::put`] for the record at fault, when there is one.
    pub tag: Option<u64>,
    /// The field at fault; empty when the record as a whole is.
    pub field: String,
    pub message: String,
}

impl Problem {
    fn tagged(tag: u64, field: &str, message: impl Into<String>) -> Problem {
        Problem { tag: Some(tag), field: field.to_string(), message: message.into() }
    }
}

impl From<FieldProblem> for Problem {
    fn from(p: FieldProblem) -> Problem {
        Problem { tag: None, field: p.field, message: p.message }
    }
}

/// Why a store operation failed.
#[derive(Debug)]
pub enum Error {
    /// The input breaks the data model's rules; nothing was changed.
    Invalid(Vec<Problem>),
    /// The operation conflicts with stored data (a delete of a record others refer to).
    Conflict(String),
    /// The record does not exist.
    NotFound,
    /// The database could not be opened, read or written.
    Storage(String),
    /// The read ran past its time limit and was interrupted, the database stayed locked, or
    /// the disk cannot take a write now (full, read-only, an I/O error): nothing changed; retry
    /// later or ask for less (the message says which).
    Busy(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(problems) => {
                let parts: Vec<String> = problems
                    .iter()
                    .map(|p| {
                        if p.field.is_empty() {
                            p.message.clone()
                        } else {
                            format!("{}: {}", p.field, p.message)
                        }
                    })
                    .collect();
                f.write_str(&parts.join("; "))
            }
            Error::Conflict(message) => f.write_str(message),
            Error::NotFound => f.write_str("no such record"),
            Error::Storage(message) => write!(f, "database error: {message}"),
            Error::Busy(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => Error::Busy(
                "the query ran past the server's time limit and was stopped: ask for a shorter range, a coarser grain or fewer groups, or retry later".into(),
            ),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Error::Busy("the database is busy: retry in a moment".into())
            }
            // The machine's state, not a bug: the change was rolled back, reads go on, and the
            // next write after the cause is fixed succeeds (issue 25).
            Some(rusqlite::ErrorCode::DiskFull) => Error::Busy(
                "the disk holding the database is full: nothing was written; free some space and retry (reads still work)".into(),
            ),
            Some(rusqlite::ErrorCode::ReadOnly) => Error::Busy(
                "the database file cannot be written (it or its folder is read-only): nothing was written; make it writable for the server's user and retry (reads still work)".into(),
            ),
            Some(rusqlite::ErrorCode::SystemIoFailure) => Error::Busy(format!(
                "the database file could not be read or written ({e}): nothing was written; check the disk (full, read-only or failing) and retry"
            )),
            _ => Error::Storage(e.to_string()),
        }
    }
}

/// What a put did to the stored record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Updated,
    Unchanged,
}

/// The kind of a committed change, as announced to listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// One committed change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub entity: Entity,
    /// The record's key as text (`/`-joined for keyed entities).
    pub key: String,
    pub kind: ChangeKind,
}

/// What a committed write did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    /// The changes, in the order made; at most [`Summary::MAX_CHANGES`] are kept.
    pub changes: Vec<Change>,
    /// Whether more changes were made than `changes` holds.
    pub truncated: bool,
}

impl Summary {
    pub const MAX_CHANGES: usize = 10_000;

    fn record(&mut self, change: Change) {
        if self.changes.len() < Summary::MAX_CHANGES {
            self.changes.push(change);
        } else {
            self.truncated = true;
        }
    }
}

/// Which page of an entity's records to list (see [`Store::list`]).
#[derive(Clone, Copy, Debug)]
pub struct ListQuery<'a> {
    /// Field name and value pairs that must all match exactly (`Value::Null` matches absent).
    pub filters: &'a [(&'a str, Value)],
    /// A further condition on the entity's fields (checked against its schema by the store).
    pub condition: Option<&'a Predicate>,
    /// Start after this key (the last key of the previous page), in key order.
    pub after: Option<&'a [Value]>,
    /// At most this many records.
    pub limit: usize,
}

/// A setting's value and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    /// `None`: the built-in default; `Some("")`: the workspace; `Some(team)`: that team's override
    /// (possibly inherited from a parent team).
    pub source: Option<String>,
}

/// One transaction of writes. Dropping it without [`Writer::commit`] changes nothing.
pub trait Writer {
    /// Validates a record against the stored data and upserts it by key. `tag` identifies the
    /// record in problems reported later by `commit` (an import passes the file line).
    fn put(&mut self, tag: u64, record: Record) -> Result<PutOutcome, Error>;

    /// Deletes a record by key; refused with [`Error::Conflict`] while other records refer to it.
    fn delete(&mut self, entity: Entity, key: &[Value]) -> Result<(), Error>;

    /// Makes this transaction record deals' stage history as people make it (data-model.md,
    /// stage_changes): a deal it creates enters its stage at its `created_at`, a deal whose
    /// stage it changes enters the new stage at the write's time (the actor's clock), moved by
    /// the actor when the actor is a user. A deal for which the transaction puts a stage change
    /// itself gets none added. The API's and the web's record writes call this; an import does
    /// not, since it brings its own history (or none).
    fn record_stage_history(&mut self);

    /// Checks the rules that span records, derives what is derived, and commits.
    fn commit(self: Box<Self>) -> Result<Summary, Error>;

    /// Runs every check [`Writer::commit`] runs (a pipeline's won and lost stages, team cycles,
    /// an order's total against its lines, references to records later in the batch), then rolls
    /// everything back: a dry run's answer to what the commit would refuse.
    fn rehearse(self: Box<Self>) -> Result<(), Error>;
}

/// One request's writes for [`Store::write_grouped`]: `true` keeps them, `false` undoes them.
pub type GroupedWrite = Box<dyn FnOnce() -> bool + Send>;

/// The storage interface.
pub trait Store: Send + Sync {
    /// The workspace's time zone and currency.
    fn workspace(&self) -> Result<Workspace, Error>;

    /// A setting's value in force (for a team: its override, its parents', or the workspace's).
    fn setting(&self, key: Key, team: Option<&str>) -> Result<Setting, Error>;

    /// Sets a setting, for the workspace or (calendar keys only) a team. The value is checked and
    /// normalised first.
    fn set_setting(&self, key: Key, team: Option<&str>, value: &str) -> Result<String, Error>;

    /// Starts a write transaction.
    fn writer(&self) -> Result<Box<dyn Writer + '_>, Error>;

    /// Runs `work`, one request's writes made through this store's [`Store::writer`] (and its
    /// reads), and returns once they are durable: group commit, for single writes arriving
    /// together (docs/operations.md, Durability). The work answers `true` to keep what it wrote
    /// and `false` to undo all of it (it failed; its own error is its answer); it runs on
    /// whichever thread leads the commit, so it carries its result out itself.
    ///
    /// `Ok(())`: the work ran, and what it kept is on disk. `Err`: what it kept was not written
    /// (the shared commit failed, such as on a full disk), or it did not run at all.
    ///
    /// The SQLite store runs the works that queue together in one transaction, each in its own
    /// savepoint, with one fsync for all. This default runs the work at once in its own
    /// transactions, on the calling thread.
    fn write_grouped(&self, work: GroupedWrite) -> Result<(), Error> {
        work();
        Ok(())
    }

    /// Starts a write transaction for a bulk import: it checks and audits every record as
    /// [`Store::writer`]'s does, refuses deletes, and may leave out checks of the backend's that
    /// repeat the writer's own (SQLite: foreign-key enforcement, see `sqlite/writer.rs`).
    fn bulk_writer(&self) -> Result<Box<dyn Writer + '_>, Error> {
        self.writer()
    }

    /// One record by key.
    fn get(&self, entity: Entity, key: &[Value]) -> Result<Option<Record>, Error>;

    /// Every record of an entity, in key order.
    fn scan(
        &self,
        entity: Entity,
        visit: &mut dyn FnMut(Record) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// A page of an entity's records in key order: those matching every filter, after the
    /// cursor key, at most `limit` (keyset pagination, stable while records are added).
    fn list(&self, entity: Entity, query: &ListQuery<'_>) -> Result<Vec<Record>, Error>;

    /// A page of an entity's records newest first by `time_field` (one of its timestamp or date
    /// fields; any other name is [`Error::Invalid`]): those matching every filter and the
    /// condition, at most `limit`; ties in reverse key order, records without a time last. The
    /// cursor (`after`) is the previous page's last record as its time value followed by its key
    /// values.
    fn recent(
        &self,
        entity: Entity,
        time_field: &str,
        query: &ListQuery<'_>,
    ) -> Result<Vec<Record>, Error>;

    /// The derived stock on hand of each product named (opening stock plus movements), as
    /// `(id, stock)`; unknown ids are left out.
    fn stock_on_hand(&self, product_ids: &[&str]) -> Result<Vec<(String, i64)>, Error>;

    /// How many records an entity has.
    fn count(&self, entity: Entity) -> Result<u64, Error>;

    /// A consistent copy of the whole database in a new file, taken while others may write.
    fn backup(&self, dest: &Path) -> Result<(), Error>;
}

/// The order line-amount rule ([`traction_domain::orders::line_amount`]: quantity × unit price
/// − discount, exact) as SQL over an order line's columns, qualified by `table` (`"l"`, or `""`
/// for unqualified columns). Every query that prices a line — the writer's order checks and
/// derived amount, the order lines read for a page, the metrics engine's order-line source —
/// takes it from here; a test pins it to the Rust rule.
pub fn line_amount_sql(table: &str) -> String {
    let col =
        |name: &str| if table.is_empty() { name.to_string() } else { format!("{table}.{name}") };
    format!("{} * {} - {}", col("quantity"), col("unit_price"), col("discount"))
}

/// SQL for a time zone's offset in microseconds at any instant `column` from 1970 to 2100: a
/// constant for zones without transitions, else a balanced `CASE` over the transitions. `column`
/// must be trusted SQL without parameters: it is repeated. The local day of a timestamp in a
/// [`Term::LocalDate`] and the metrics engine's `date(t)` both take it from here.
pub fn zone_offset_sql(column: &str, zone: &jiff::tz::TimeZone) -> String {
    use std::fmt::Write;
    let Ok(start) = jiff::Timestamp::from_second(0) else { return "0".into() };
    let end = 4_102_444_800_000_000i64; // 2100-01-01T00:00:00Z
    let first = i64::from(zone.to_offset(start).seconds()) * 1_000_000;
    let mut starts: Vec<i64> = Vec::new();
    let mut offsets: Vec<i64> = vec![first];
    for transition in zone.following(start) {
        let at = transition.timestamp().as_microsecond();
        if at >= end || starts.len() > 10_000 {
            break;
        }
        starts.push(at);
        offsets.push(i64::from(transition.offset().seconds()) * 1_000_000);
    }
    // offsets[i] holds before starts[i]; offsets[i + 1] from starts[i] on.
    fn go(column: &str, starts: &[i64], offsets: &[i64], lo: usize, hi: usize, out: &mut String) {
        if lo == hi {
            let _ = write!(out, "{}", offsets[lo]);
            return;
        }
        let mid = (lo + hi).div_ceil(2);
        let _ = write!(out, "CASE WHEN {column} < {} THEN ", starts[mid - 1]);
        go(column, starts, offsets, lo, mid - 1, out);
        out.push_str(" ELSE ");
        go(column, starts, offsets, mid, hi, out);
        out.push_str(" END");
    }
    let mut out = String::new();
    go(column, &starts, &offsets, 0, offsets.len() - 1, &mut out);
    out
}
