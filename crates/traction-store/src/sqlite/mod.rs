//! The embedded store: one SQLite file, in WAL mode, with foreign keys on and full fsync on
//! commit, so an acknowledged write survives a crash or a power cut.

pub(crate) mod auth;
pub mod customers;
mod definitions;
mod forecast;
mod group;

pub(crate) mod hooks;
mod invites;
mod leads;
mod list;
mod migrations;
mod monitor;
mod predicate;
mod query_cache;
pub mod search;
mod shop;
pub mod views;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use traction_domain::money::Currency;
use traction_domain::schema::{Entity, FieldType};
use traction_domain::settings::{Key, Workspace};
use traction_domain::time::parse_zone;
use traction_domain::{Record, Value};

use crate::{
    Actor, Dialect, Error, ListQuery, Operations, Ranged, Rows, Setting, SqlReader, SqlValue,
    Store, Writer,
};

/// How long a connection waits for another's write to finish before it gives up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
use migrations::{LATEST_VERSION, migrate_to};

/// How many connections serve the metrics engine's reads: requests (and the parts of one
/// dashboard) read side by side.
const READERS: usize = 4;
/// How many connections serve the store's own reads (a record, a list, the users and teams a
/// sign-in needs, the checks of a write): never the ones analytical queries hold.
const LIGHT_READERS: usize = 2;

/// The SQLite store. Cheap to share between threads: connections sit behind a mutex each, one
/// for writes, a few for the metrics engine's analytical reads, two for the store's own reads
/// (records, sign-in's users and teams, a write's checks), one for sign-in data and the audit
/// log (`auth.rs`) and one that watches the data version. A long analytical read holds up
/// neither a write (WAL lets them overlap) nor a sign-in nor another read.
pub struct SqliteStore {
    path: PathBuf,
    write: Mutex<Connection>,
    /// The metrics engine's connections ([`SqliteStore::with_reader`], `query_cached`).
    read: Vec<Mutex<Connection>>,
    /// When each analytical connection was taken (ms since `epoch`; 0: free), for the time limit.
    read_started: Vec<Arc<AtomicU64>>,
    /// The longest an analytical read may hold its connection (ms; 0: no limit).
    read_limit_ms: Arc<AtomicU64>,
    epoch: std::time::Instant,
    /// The store's own reads.
    light: Vec<Mutex<Connection>>,
    /// Where the next read starts looking for a free connection.
    next_read: AtomicUsize,
    /// Only reads `PRAGMA data_version`, so it never waits on a long read.
    version: Mutex<Connection>,
    /// Results of the metrics engine's queries, until a table they read changes.
    cache: query_cache::QueryCache,
    auth: Mutex<Connection>,
    /// Who [`Store::writer`] writes as in the audit log (`None`: writes are not audited).
    default_actor: Mutex<Option<Actor>>,
    /// Writes waiting to share a commit (group.rs).
    group: Mutex<group::Queue>,
    /// What stands in `write` while a batch holds its connection (group.rs).
    spare: Mutex<Option<Connection>>,
    /// Tells this store from others in the process, for the batch a thread leads.
    id: u64,
}

/// A connection in use: one of a pool's, or the write connection of the batch the current
/// thread leads (group.rs), which this store's reads and writers on that thread go through.
pub(crate) enum Held<'a> {
    Pool(MutexGuard<'a, Connection>),
    Batch(std::rc::Rc<Connection>),
}

impl std::ops::Deref for Held<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Held::Pool(guard) => guard,
            Held::Batch(conn) => conn,
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

fn open_connection(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::Storage(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer; synchronous=FULL: a commit is on disk when it returns.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;",
    )
    .map_err(|e| Error::Storage(format!("cannot use {} as a database: {e}", path.display())))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// One of the metrics engine's connections: its own page cache, and a progress handler that
/// interrupts a read that has held the connection past the limit (checked every few thousand
/// steps of the statement).
fn open_analytical(
    path: &Path,
    started: &Arc<AtomicU64>,
    read_limit_ms: &Arc<AtomicU64>,
    epoch: std::time::Instant,
) -> Result<Connection, Error> {
    let conn = open_connection(path)?;
    // Each reader caches its own pages: a quarter of one connection's share each.
    conn.execute_batch("PRAGMA cache_size = -16384;")?;
    let (seen, limit) = (started.clone(), read_limit_ms.clone());
    conn.progress_handler(
        4096,
        Some(move || {
            let (since, limit) = (seen.load(Ordering::Relaxed), limit.load(Ordering::Relaxed));
            since != 0 && limit != 0 && elapsed_ms(epoch) > since + limit
        }),
    )?;
    Ok(conn)
}

/// A connection for the store's own reads, sign-in data or the data version: a small cache.
fn open_small(path: &Path) -> Result<Connection, Error> {
    let conn = open_connection(path)?;
    conn.execute_batch("PRAGMA cache_size = -4096;")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        let mut write = open_connection(path)?;
        migrations::migrate(&mut write)?;
        // Customers a migration (or an interrupted refresh) left to compute.
        let tx = write.transaction()?;
        customers::refresh(&tx)?;
        tx.commit()?;
        let epoch = std::time::Instant::now();
        let read_limit_ms = Arc::new(AtomicU64::new(0));
        let mut read = Vec::with_capacity(READERS);
        let mut read_started = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let started = Arc::new(AtomicU64::new(0));
            let conn = open_analytical(path, &started, &read_limit_ms, epoch)?;
            read.push(Mutex::new(conn));
            read_started.push(started);
        }
        let light = (0..LIGHT_READERS)
            .map(|_| open_small(path).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        let auth = open_small(path)?;
        let version = open_small(path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            write: Mutex::new(write),
            read,
            read_started,
            read_limit_ms,
            epoch,
            light,
            next_read: AtomicUsize::new(0),
            version: Mutex::new(version),
            cache: query_cache::QueryCache::from_env(),
            auth: Mutex::new(auth),
            default_actor: Mutex::new(Some(Actor::system())),
            group: Mutex::new(group::Queue::default()),
            spare: Mutex::new(None),
            id: {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Ordering::Relaxed)
            },
        })
    }

    /// A free analytical read connection, or the first to come free; its clock starts.
    fn reader(&self) -> AnalyticalReader<'_> {
        let (idx, conn) = first_free(&self.read, &self.next_read);
        let started = &self.read_started[idx];
        started.store(elapsed_ms(self.epoch).max(1), Ordering::Relaxed);
        AnalyticalReader { conn, started }
    }

    /// A free connection for the store's own reads (never one an analytical read holds); on a
    /// thread leading a batch of grouped writes, the batch's connection, so a write reads what
    /// the writes before it in the batch left (group.rs).
    fn light_reader(&self) -> Held<'_> {
        match group::batch_connection(self.id) {
            Some(conn) => Held::Batch(conn),
            None => Held::Pool(first_free(&self.light, &self.next_read).1),
        }
    }

    /// The write connection, for writes that are not grouped. A grouped write's work goes
    /// through `writer_as` (a savepoint of its batch); if it reached for the write connection
    /// itself (a write of its own beside the batch), its thread, which holds this lock for the
    /// batch, would wait for itself forever: that is refused with an error instead.
    fn writer_conn(&self) -> Result<MutexGuard<'_, Connection>, Error> {
        if group::batch_connection(self.id).is_some() {
            return Err(group::outside_batch());
        }
        let mut conn = self.write.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            self.reopen_writable(&mut conn);
        }
        Ok(conn)
    }

    /// The store was opened on a file it could not write (a read-only file or folder): every
    /// connection is read-only, and so is the WAL index they share within the process. Once
    /// the file can be written again, every connection is closed and opened afresh, so writes
    /// recover without a restart. Connections in use are not waited for (a reader may be
    /// waiting for the writer): the next write tries again.
    fn reopen_writable(&self, write: &mut Connection) {
        use std::sync::TryLockError;
        if std::fs::OpenOptions::new().write(true).open(&self.path).is_err() {
            return;
        }
        fn take(m: &Mutex<Connection>) -> Option<MutexGuard<'_, Connection>> {
            match m.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        }
        let mut others = Vec::new();
        for m in self.read.iter().chain(&self.light).chain([&self.auth, &self.version]) {
            match take(m) {
                Some(guard) => others.push(guard),
                None => return,
            }
        }
        // Close them all first (the read-only WAL index goes with the last), then reopen.
        let placeholder = || Connection::open_in_memory().ok();
        let Some(mut closed) = placeholder() else { return };
        std::mem::swap(write, &mut closed);
        drop(closed);
        for guard in &mut others {
            let Some(mut closed) = placeholder() else { return };
            std::mem::swap(&mut **guard, &mut closed);
            drop(closed);
        }
        let mut fresh = || -> Result<(), Error> {
            *write = open_connection(&self.path)?;
            let n_read = self.read.len();
            for (idx, guard) in others.iter_mut().enumerate() {
                **guard = if idx < n_read {
                    open_analytical(
                        &self.path,
                        &self.read_started[idx],
                        &self.read_limit_ms,
                        self.epoch,
                    )?
                } else {
                    open_small(&self.path)?
                };
            }
            Ok(())
        };
        // On failure the placeholders answer with errors until the next attempt.
        let _ = fresh();
    }

    /// The rows of a read-only query, kept until a table it names is written (query_cache.rs).
    pub(crate) fn cached_rows<P: ToSql + std::fmt::Debug>(
        &self,
        sql: &str,
        params: &[P],
        ranged: Option<&Ranged>,
    ) -> Result<std::sync::Arc<Rows>, Error> {
        self.cache.query(&self.reader(), sql, params, ranged)
    }

    /// Runs a closure on one of the analytical read connections, holding it meanwhile: for the
    /// store's searches and for white-box tests of the pool (callers read through [`SqlReader`]).
    pub fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.reader())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn elapsed_ms(epoch: std::time::Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The first of `pool` to come free (rather than waiting on one in particular, which a long read
/// may hold while others come free), with its index. A thread holds one of a pool at a time: a
/// read inside a scan's visit could wait for ever once every connection is held so.
fn first_free<'a>(
    pool: &'a [Mutex<Connection>],
    next: &AtomicUsize,
) -> (usize, MutexGuard<'a, Connection>) {
    use std::sync::TryLockError;
    let n = pool.len();
    let start = next.fetch_add(1, Ordering::Relaxed);
    let mut pause = Duration::from_micros(20);
    loop {
        for i in 0..n {
            let idx = (start + i) % n;
            match pool[idx].try_lock() {
                Ok(conn) => return (idx, conn),
                Err(TryLockError::Poisoned(poisoned)) => return (idx, poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
}

/// An analytical read connection, timed from when it was taken until it is given back.
struct AnalyticalReader<'a> {
    conn: MutexGuard<'a, Connection>,
    started: &'a AtomicU64,
}

impl std::ops::Deref for AnalyticalReader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for AnalyticalReader<'_> {
    fn drop(&mut self) {
        self.started.store(0, Ordering::Relaxed);
        // A read interrupted inside its transaction leaves it open: end it, so the connection
        // does not keep an old snapshot.
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// The table of an entity.
pub(crate) fn table(entity: Entity) -> &'static str {
    entity.name()
}

/// `a, b, c`: an entity's columns in field order.
pub(crate) fn column_list(entity: Entity) -> String {
    entity.fields().iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// `a = ?1 AND b = ?2`: the key condition, numbered from `first`.
pub(crate) fn key_condition(entity: Entity, first: usize) -> String {
    entity
        .key()
        .iter()
        .enumerate()
        .map(|(idx, k)| format!("{k} = ?{}", first + idx))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A domain value as an SQL parameter, in the storage conventions of the V1 migration.
pub(crate) struct Param<'a>(pub(crate) &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Int(n) | Value::Instant(n) => ToSqlOutput::Owned((*n).into()),
            Value::Real(x) => ToSqlOutput::Owned((*x).into()),
            Value::Bool(b) => ToSqlOutput::Owned(i64::from(*b).into()),
            Value::Date(d) => ToSqlOutput::Owned(d.to_string().into()),
        })
    }
}

/// Reads column `idx` as a value of the field's type.
pub(crate) fn read_value(ty: FieldType, value: ValueRef<'_>) -> Result<Value, Error> {
    let bad = || Error::Storage(format!("unexpected stored value {value:?} for a {ty:?} field"));
    Ok(match (ty, value) {
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Int { .. } | FieldType::Money, ValueRef::Integer(n)) => Value::Int(n),
        (FieldType::Timestamp, ValueRef::Integer(n)) => Value::Instant(n),
        (FieldType::Bool, ValueRef::Integer(n)) => Value::Bool(n != 0),
        (FieldType::Fraction | FieldType::Number, ValueRef::Real(x)) => Value::Real(x),
        (FieldType::Fraction | FieldType::Number, ValueRef::Integer(n)) => Value::Real(n as f64),
        (FieldType::Date, ValueRef::Text(t)) => {
            let text = std::str::from_utf8(t).map_err(|_| bad())?;
            Value::Date(traction_domain::time::parse_date(text).map_err(|_| bad())?)
        }
        (_, ValueRef::Text(t)) => {
            Value::Text(std::str::from_utf8(t).map_err(|_| bad())?.to_string())
        }
        _ => return Err(bad()),
    })
}

pub(crate) fn read_record(entity: Entity, row: &rusqlite::Row<'_>) -> Result<Record, Error> {
    let fields = entity.fields();
    let mut values = Vec::with_capacity(fields.len());
    for (idx, field) in fields.iter().enumerate() {
        values.push(read_value(field.ty, row.get_ref(idx)?)?);
    }
    Ok(Record { entity, values })
}

fn stored_setting(conn: &Connection, key: Key, team: &str) -> Result<Option<String>, Error> {
    let mut stmt =
        conn.prepare_cached("SELECT value FROM settings WHERE key = ?1 AND team_id = ?2")?;
    let mut rows = stmt.query((key.name(), team))?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}

fn team_exists(conn: &Connection, team: &str) -> Result<bool, Error> {
    let mut stmt = conn.prepare_cached("SELECT parent_id FROM teams WHERE id = ?1")?;
    Ok(stmt.exists([team])?)
}

fn resolve_setting(conn: &Connection, key: Key, team: Option<&str>) -> Result<Setting, Error> {
    if let Some(team) = team {
        if !team_exists(conn, team)? {
            return Err(Error::Invalid(vec![Problem::team(team)]));
        }
        if key.per_team() {
            // The override in force is the team's own, else the nearest parent's.
            let mut current = Some(team.to_string());
            let mut seen = std::collections::HashSet::new();
            while let Some(t) = current {
                if !seen.insert(t.clone()) {
                    break;
                }
                if let Some(value) = stored_setting(conn, key, &t)? {
                    return Ok(Setting { value, source: Some(t) });
                }
                let mut stmt = conn.prepare_cached("SELECT parent_id FROM teams WHERE id = ?1")?;
                current =
                    stmt.query_row([&t], |row| row.get::<_, Option<String>>(0)).ok().flatten();
            }
        }
    }
    Ok(match stored_setting(conn, key, "")? {
        Some(value) => Setting { value, source: Some(String::new()) },
        None => Setting { value: key.default_value().to_string(), source: None },
    })
}

use crate::Problem;

impl Problem {
    fn team(team: &str) -> Problem {
        Problem { tag: None, field: "team".into(), message: format!("no such team {team:?}") }
    }
}

/// Reads the workspace settings from a connection.
pub(crate) fn workspace_of(conn: &Connection) -> Result<Workspace, Error> {
    let zone_name = resolve_setting(conn, Key::Timezone, None)?.value;
    // A stored setting was normalised when it was set: one that no longer reads is damage.
    let damaged = |e: traction_domain::Error| Error::Storage(e.to_string());
    let zone = parse_zone(&zone_name).map_err(damaged)?;
    let currency =
        Currency::parse(&resolve_setting(conn, Key::Currency, None)?.value).map_err(damaged)?;
    Ok(Workspace { zone, zone_name, currency })
}

/// Entities with money fields, checked before the currency changes (targets too: a target on a
/// money metric is an amount).
const MONEY_TABLES: &[&str] = &["deals", "products", "orders", "order_lines", "campaigns", "costs"];

impl Store for SqliteStore {
    fn workspace(&self) -> Result<Workspace, Error> {
        workspace_of(&self.light_reader())
    }

    fn setting(&self, key: Key, team: Option<&str>) -> Result<Setting, Error> {
        resolve_setting(&self.light_reader(), key, team)
    }

    fn set_setting(&self, key: Key, team: Option<&str>, value: &str) -> Result<String, Error> {
        let invalid = |message: String| {
            Error::Invalid(vec![Problem { tag: None, field: key.name().into(), message }])
        };
        let normalised = key.normalise(value).map_err(|e| invalid(e.to_string()))?;
        let conn = self.writer_conn()?;
        if let Some(team) = team {
            if !key.per_team() {
                return Err(invalid(format!(
                    "{} is a workspace setting: it cannot be set per team (only work_days, work_hours and holidays can)",
                    key.name()
                )));
            }
            if !team_exists(&conn, team)? {
                return Err(Error::Invalid(vec![Problem::team(team)]));
            }
        }
        if key == Key::Currency {
            let current = workspace_of(&conn)?.currency;
            let new = Currency::parse(&normalised).map_err(|e| invalid(e.to_string()))?;
            // One currency per workspace (issue 24.5): a change of code once amounts are stored
            // would relabel them without converting, so it is refused, whatever the decimals.
            if new.code() != current.code() {
                let mut holding = Vec::new();
                for table in MONEY_TABLES.iter().chain(&["targets"]) {
                    let any: bool = conn.query_row(
                        &format!("SELECT EXISTS (SELECT 1 FROM {table})"),
                        [],
                        |r| r.get(0),
                    )?;
                    if any {
                        holding.push(*table);
                    }
                }
                if !holding.is_empty() {
                    return Err(invalid(format!(
                        "amounts are stored in {} ({}) and changing the currency to {} would relabel them without converting them: a workspace keeps one currency, so set the currency before importing data with amounts (or keep {} and convert the amounts before importing them)",
                        current.code(),
                        holding.join(", "),
                        new.code(),
                        current.code()
                    )));
                }
            }
        }
        let before = stored_setting(&conn, key, team.unwrap_or(""))?;
        if before.as_deref() == Some(normalised.as_str()) {
            return Ok(normalised);
        }
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO settings (key, team_id, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (key, team_id) DO UPDATE SET value = excluded.value",
            (key.name(), team.unwrap_or(""), &normalised),
        )?;
        query_cache::raise_versions(&tx, ["settings"])?;
        let actor = self.default_actor.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(actor) = actor {
            let json = |v: &str| {
                let mut out = String::from("{\"value\":");
                auth::push_json_string(&mut out, v);
                out.push('}');
                out
            };
            let record_key = match team {
                Some(team) => format!("{}/{team}", key.name()),
                None => key.name().to_string(),
            };
            auth::append(
                &tx,
                &actor,
                "set",
                "settings",
                &record_key,
                // A password in the value never reaches the audit log.
                before.as_deref().map(|v| json(&key.shown(v))).as_deref(),
                Some(&json(&key.shown(&normalised))),
            )?;
        }
        tx.commit()?;
        Ok(normalised)
    }

    fn writer(&self) -> Result<Box<dyn Writer + '_>, Error> {
        let actor = self.default_actor.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.writer_as(actor.as_ref())
    }

    fn write_grouped(&self, work: crate::GroupedWrite) -> Result<(), Error> {
        self.submit_grouped(work)
    }

    fn bulk_writer(&self) -> Result<Box<dyn Writer + '_>, Error> {
        let actor = self.default_actor.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let conn = Held::Pool(self.writer_conn()?);
        Ok(Box::new(writer::SqliteWriter::begin_bulk(conn, actor)?))
    }

    fn get(&self, entity: Entity, key: &[Value]) -> Result<Option<Record>, Error> {
        let conn = self.light_reader();
        get_record(&conn, entity, key)
    }

    fn scan(
        &self,
        entity: Entity,
        visit: &mut dyn FnMut(Record) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let conn = self.light_reader();
        // One read transaction, so the scan sees one consistent state (a batch's connection is
        // in one already).
        let own = matches!(conn, Held::Pool(_));
        if own {
            conn.execute_batch("BEGIN")?;
        }
        let res = (|| {
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {}",
                column_list(entity),
                table(entity),
                entity.key().join(", ")
            );
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                visit(read_record(entity, row)?)?;
            }
            Ok(())
        })();
        if own {
            conn.execute_batch("COMMIT")?;
        }
        res
    }

    fn list(&self, entity: Entity, query: &ListQuery<'_>) -> Result<Vec<Record>, Error> {
        list::list(&self.light_reader(), entity, query)
    }

    fn recent(
        &self,
        entity: Entity,
        time_field: &str,
        query: &ListQuery<'_>,
    ) -> Result<Vec<Record>, Error> {
        list::recent(&self.light_reader(), entity, time_field, query)
    }

    fn stock_on_hand(&self, product_ids: &[&str]) -> Result<Vec<(String, i64)>, Error> {
        list::stock_on_hand(&self.light_reader(), product_ids)
    }

    fn count(&self, entity: Entity) -> Result<u64, Error> {
        let conn = self.light_reader();
        let n: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {}", table(entity)), [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn backup(&self, dest: &Path) -> Result<(), Error> {
        if dest.exists() {
            return Err(Error::Conflict(format!(
                "{} already exists: name a new file for the backup",
                dest.display()
            )));
        }
        // The copy is written beside the destination under a name that says it is unfinished,
        // and renamed into place only once it is complete, checked and on disk: a backup killed
        // part way leaves no file at the name asked for, only `FILE.partial`, which the next
        // backup to that name replaces.
        let partial = partial_backup_path(dest);
        match std::fs::remove_file(&partial) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Storage(format!("cannot remove {}: {e}", partial.display())));
            }
        }
        let res = self.backup_to(&partial).and_then(|()| {
            std::fs::rename(&partial, dest).map_err(|e| {
                Error::Storage(format!("cannot move the backup into {}: {e}", dest.display()))
            })?;
            // The rename itself is made durable by syncing the folder.
            if let Some(Ok(dir)) =
                dest.parent().filter(|d| !d.as_os_str().is_empty()).map(std::fs::File::open)
            {
                let _ = dir.sync_all();
            }
            Ok(())
        });
        if res.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        res
    }
}

/// Where a backup to `dest` is written until it is complete: `dest` with `.partial` added.
pub fn partial_backup_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".partial");
    dest.with_file_name(name)
}

impl SqliteStore {
    /// Copies the database into `dest` (a new file): a consistent snapshot, checked, with no
    /// WAL beside it, synced to disk.
    fn backup_to(&self, dest: &Path) -> Result<(), Error> {
        // A connection of its own, so writers through this store are not held up by the copy;
        // one step copies every page inside one read transaction: a consistent snapshot.
        let src = open_connection(&self.path)?;
        let mut dst = Connection::open(dest)
            .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dest.display())))?;
        {
            use rusqlite::backup::StepResult;
            let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    _ => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
        // The copy is a self-contained file: no WAL beside it.
        dst.execute_batch("PRAGMA journal_mode = DELETE;")?;
        let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(Error::Storage(format!("the backup failed its integrity check: {check}")));
        }
        drop(dst);
        std::fs::File::open(dest)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::Storage(format!("cannot sync {}: {e}", dest.display())))
    }
}

/// What the processes need of the SQLite file beside the data (see [`Operations`]).
impl Operations for SqliteStore {
    fn set_default_actor(&self, actor: Option<Actor>) {
        *self.default_actor.lock().unwrap_or_else(|p| p.into_inner()) = actor;
    }

    /// On a thread leading a batch of grouped writes ([`Store::write_grouped`]), it is a
    /// savepoint of the batch's transaction.
    fn writer_as(&self, actor: Option<&Actor>) -> Result<Box<dyn Writer + '_>, Error> {
        let conn = match group::batch_connection(self.id) {
            Some(conn) => Held::Batch(conn),
            None => Held::Pool(self.writer_conn()?),
        };
        Ok(Box::new(writer::SqliteWriter::begin(conn, actor.cloned())?))
    }

    fn set_read_time_limit(&self, limit: Option<Duration>) {
        let ms = limit.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1));
        self.read_limit_ms.store(ms, Ordering::Relaxed);
    }

    fn release_memory(&self) {
        self.cache.clear();
        if let Ok(mut conn) = self.write.try_lock()
            && let Ok(fresh) = open_connection(&self.path)
        {
            *conn = fresh;
        }
        for (idx, conn) in self.read.iter().enumerate() {
            if let Ok(mut conn) = conn.try_lock() {
                let fresh = open_analytical(
                    &self.path,
                    &self.read_started[idx],
                    &self.read_limit_ms,
                    self.epoch,
                );
                if let Ok(fresh) = fresh {
                    *conn = fresh;
                }
            }
        }
        for conn in &self.light {
            if let Ok(mut conn) = conn.try_lock()
                && let Ok(fresh) = open_small(&self.path)
            {
                *conn = fresh;
            }
        }
    }

    /// SQLite's `data_version` as seen by a connection that never writes: it moves whenever any
    /// connection — this process's writer, or another process — commits to the file.
    fn change_counter(&self) -> Result<i64, Error> {
        // Always the same connection (each counts on its own), one that never writes.
        let conn = self.version.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`.
    fn integrity_check(&self) -> Result<(), Error> {
        let conn = self.light_reader();
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let found: Vec<String> =
            stmt.query_map([], |r| r.get(0))?.collect::<Result<_, rusqlite::Error>>()?;
        if found == ["ok"] {
            Ok(())
        } else {
            Err(Error::Storage(format!(
                "the database failed its integrity check: {}",
                found.join("; ")
            )))
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

impl SqlReader for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Rows, Error> {
        let params: Vec<SqlParam<'_>> = params.iter().map(SqlParam).collect();
        query_cache::read_all(&self.reader(), sql, &params)
    }

    fn query_cached(
        &self,
        sql: &str,
        params: &[SqlValue],
        ranged: Option<&Ranged>,
    ) -> Result<std::sync::Arc<Rows>, Error> {
        let params: Vec<SqlParam<'_>> = params.iter().map(SqlParam).collect();
        self.cached_rows(sql, &params, ranged)
    }
}

/// A query value as an SQLite parameter.
#[derive(Debug)]
pub(crate) struct SqlParam<'a>(pub(crate) &'a SqlValue);

impl ToSql for SqlParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Integer(n) => ValueRef::Integer(*n),
            SqlValue::Real(x) => ValueRef::Real(*x),
            SqlValue::Text(s) => ValueRef::Text(s.as_bytes()),
            SqlValue::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A value SQLite read, as a query value.
pub(crate) fn sql_value(value: ValueRef<'_>) -> Result<SqlValue, Error> {
    Ok(match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(n) => SqlValue::Integer(n),
        ValueRef::Real(x) => SqlValue::Real(x),
        ValueRef::Text(t) => SqlValue::Text(
            std::str::from_utf8(t)
                .map_err(|e| Error::Storage(format!("stored text is not UTF-8: {e}")))?
                .to_string(),
        ),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
    })
}

pub(crate) fn get_record(
    conn: &Connection,
    entity: Entity,
    key: &[Value],
) -> Result<Option<Record>, Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {}",
        column_list(entity),
        table(entity),
        key_condition(entity, 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let params: Vec<Param<'_>> = key.iter().map(Param).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    match rows.next()? {
        Some(row) => Ok(Some(read_record(entity, row)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
