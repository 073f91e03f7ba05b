//! Query results kept until the data they were read from changes.
//!
//! Every write transaction raises, before it commits, the version of each table it wrote
//! (`table_versions`, migration V7; the writer knows its tables). A cached result remembers the
//! versions of the tables its SQL names, read in the same read transaction as the rows, so the
//! pair is one consistent snapshot; it is served again while none of those versions has moved.
//! After a deal is won, a dashboard recomputes the figures over deals and reads those over
//! activities, leads and orders from here. Writes by another process (`traction import`) go
//! through the same writer and raise the same versions.
//!
//! A query depends on every table whose name appears in its text as a word: more than it reads
//! at worst (a column named like a table), never fewer, since SQL names every table it reads.
//!
//! The large tables also have versions per time slice (migration V8): 30-day slices of
//! `activities.occurred_at`, `leads.created_at`, `deals.created_at`, `deals.closed_at` and
//! `orders.placed_at`, raised for the old and the new value of every row a write touches (the
//! writer notes the rows it inserts, triggers the rows updated or deleted). A query
//! that its caller declares [`Ranged`] — it names the table once and reads only its rows with the
//! field in `[lo, hi)` — depends on the slices of that range instead of the whole table, so a
//! call logged today keeps last year's figures over activities.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ToSql};

use super::sql_value;
use crate::{Error, Ranged, Rows};

/// At most this many values are kept in all (a value is a few dozen bytes).
const CAPACITY: usize = 1_000_000;
/// A result larger than this is not kept: it would push out many small ones.
const LARGEST: usize = 100_000;

struct Entry {
    /// (table, version) for every table the query names.
    versions: Vec<(String, i64)>,
    rows: Arc<Rows>,
    last_used: u64,
}

/// The cache of one store.
#[derive(Default)]
pub(crate) struct QueryCache {
    inner: Mutex<Inner>,
    /// Off: every query is read afresh (`TRACTION_QUERY_CACHE=off`, for measuring).
    off: bool,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    size: usize,
    clock: u64,
    /// The tables of the database, read once.
    tables: Vec<String>,
}

impl QueryCache {
    /// Drops every kept result (memory given back when the server is idle).
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.entries = HashMap::new();
        inner.size = 0;
    }

    /// A cache, unless the environment turns it off (`TRACTION_QUERY_CACHE=off`).
    pub(crate) fn from_env() -> QueryCache {
        let off = std::env::var("TRACTION_QUERY_CACHE")
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "off" | "0" | "false" | "no"));
        QueryCache { off, ..QueryCache::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rows of `sql` with `params`, from the cache when the tables it names have not changed
    /// since, else read on `conn` (and kept).
    pub(crate) fn query<P: ToSql + std::fmt::Debug>(
        &self,
        conn: &Connection,
        sql: &str,
        params: &[P],
        ranged: Option<&Ranged>,
    ) -> Result<Arc<Rows>, Error> {
        if self.off {
            return Ok(Arc::new(read_all(conn, sql, params)?));
        }
        let key = format!("{sql}\u{0}{params:?}\u{0}{ranged:?}");
        // The range stands for the table only when the query names it once.
        let slices = ranged
            .filter(|r| {
                sql.match_indices(r.table.as_str())
                    .filter(|(at, _)| word_at(sql, *at, &r.table))
                    .count()
                    == 1
            })
            .and_then(|r| Some((r.table.clone(), r.slices()?)));
        if self.lock().tables.is_empty() {
            let tables = all_tables(conn)?;
            self.lock().tables = tables;
        }
        // One read transaction: the versions and the rows are of the same snapshot.
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let current = read_versions(conn)?;
            let version_of = |t: &str| current.get(t).copied().unwrap_or(0);
            {
                let mut inner = self.lock();
                inner.clock += 1;
                let clock = inner.clock;
                if let Some(entry) = inner.entries.get_mut(&key)
                    && entry.versions.iter().all(|(t, v)| version_of(t) == *v)
                {
                    entry.last_used = clock;
                    return Ok(entry.rows.clone());
                }
            }
            let rows = Arc::new(read_all(conn, sql, params)?);
            let mut inner = self.lock();
            let mut versions: Vec<(String, i64)> = Vec::new();
            for table in inner.tables.iter().filter(|t| names(sql, t)) {
                match &slices {
                    Some((sliced, names)) if sliced == table => {
                        versions.extend(names.iter().map(|n| (n.clone(), version_of(n))));
                    }
                    _ => versions.push((table.clone(), version_of(table))),
                }
            }
            inner.insert(key, versions, rows.clone());
            Ok(rows)
        })();
        conn.execute_batch("COMMIT")?;
        result
    }
}

impl Inner {
    fn insert(&mut self, key: String, versions: Vec<(String, i64)>, rows: Arc<Rows>) {
        let size = rows.values.len() + 1;
        if size > LARGEST {
            return;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.size -= old.rows.values.len() + 1;
        }
        if self.size + size > CAPACITY {
            // Drop the least recently used half.
            let mut ages: Vec<u64> = self.entries.values().map(|e| e.last_used).collect();
            ages.sort_unstable();
            let cut = ages.get(ages.len() / 2).copied().unwrap_or(u64::MAX);
            self.entries.retain(|_, e| e.last_used >= cut);
            self.size = self.entries.values().map(|e| e.rows.values.len() + 1).sum();
        }
        self.size += size;
        self.entries.insert(key, Entry { versions, rows, last_used: self.clock });
    }
}

/// Whether `sql` names `table` as a whole word.
fn names(sql: &str, table: &str) -> bool {
    sql.match_indices(table).any(|(at, _)| word_at(sql, at, table))
}

/// Whether `table`, found at byte `at` of `sql`, is a whole word there.
fn word_at(sql: &str, at: usize, table: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = sql[..at].chars().next_back();
    let after = sql[at + table.len()..].chars().next();
    !before.is_some_and(word) && !after.is_some_and(word)
}

fn all_tables(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

fn read_versions(conn: &Connection) -> Result<HashMap<String, i64>, Error> {
    let mut stmt = conn.prepare_cached("SELECT name, version FROM table_versions")?;
    let versions = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(versions)
}

/// The most values one query may bring into memory (about 250 MB): past it the query fails as
/// [`Error::Busy`] rather than take the server's memory (a median over every record of a large
/// table by many groups, say).
pub const MAX_RESULT_VALUES: usize = 8_000_000;

pub(crate) fn read_all<P: ToSql>(
    conn: &Connection,
    sql: &str,
    params: &[P],
) -> Result<Rows, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut values = Vec::new();
    while let Some(row) = rows.next()? {
        if values.len() + columns > MAX_RESULT_VALUES {
            return Err(Error::Busy(format!(
                "the query's result is too large to compute here (over {MAX_RESULT_VALUES} values): ask for a shorter range, a coarser grain or fewer groups"
            )));
        }
        for idx in 0..columns {
            values.push(sql_value(row.get_ref(idx)?)?);
        }
    }
    Ok(Rows { columns, values })
}

/// Notes the time slices of inserted records, as the triggers do for updates and deletes.
pub(crate) fn note_slices(
    conn: &Connection,
    slices: &std::collections::BTreeSet<(&str, &str, i64)>,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO slices_touched (name, slice) VALUES (?1 || '.' || ?2, ?3)",
    )?;
    for (table, field, slice) in slices {
        stmt.execute((table, field, slice))?;
    }
    Ok(())
}

/// Raises the version of each of `tables`, and of every time slice the triggers noted, inside
/// the caller's write transaction.
pub(crate) fn raise_versions<'a>(
    conn: &Connection,
    tables: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO table_versions (name, version) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET version = version + 1",
    )?;
    for table in tables {
        stmt.execute([table])?;
    }
    let touched: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM slices_touched)", [], |r| r.get(0))?;
    if !touched {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO table_versions (name, version)
         SELECT name || '@' || slice, 1 FROM slices_touched WHERE true
         ON CONFLICT (name) DO UPDATE SET version = version + 1",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM slices_touched")?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn a_table_is_named_as_a_whole_word() {
        assert!(names("SELECT 1 FROM deals t", "deals"));
        assert!(names("SELECT 1 FROM (SELECT * FROM orders) t", "orders"));
        assert!(!names("SELECT 1 FROM deals_x t", "deals"));
        assert!(!names("SELECT s.won_deals FROM customer_stats s", "deals"));
        assert!(names("SELECT s.orders FROM customer_stats s", "orders"), "over-naming is safe");
    }
}
