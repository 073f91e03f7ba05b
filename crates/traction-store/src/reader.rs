//! The metrics engine's way to the stored tables: SQL text it compiled itself, run read-only by
//! the backend ([`SqlReader`]), in the backend's [`Dialect`], with values in [`SqlValue`] — no
//! driver type crosses. Only the metrics engine's SQL modules use it; everything else reads
//! through [`crate::Store`] and the other traits in domain terms.

use std::sync::Arc;

use crate::Error;

/// Which SQL a backend speaks. The metrics engine compiles its plans for this dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.45 or later (bundled), the embedded store.
    Sqlite,
}

/// A value read by, or bound into, a query: what SQL stores.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Read-only SQL over the stored tables, for the metrics engine.
pub trait SqlReader: Send + Sync {
    /// The SQL this backend runs.
    fn dialect(&self) -> Dialect;

    /// The rows of a read-only query whose `?` placeholders take `params` in order, on one of the
    /// analytical connections (timed against the read limit, see
    /// [`crate::Operations::set_read_time_limit`]).
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Rows, Error>;

    /// As [`SqlReader::query`], but the rows are kept until a table the SQL names is written:
    /// for the metrics engine, whose queries repeat from one dashboard to the next. `ranged`
    /// says the query reads one table only within a time range (see [`Ranged`]).
    fn query_cached(
        &self,
        sql: &str,
        params: &[SqlValue],
        ranged: Option<&Ranged>,
    ) -> Result<Arc<Rows>, Error>;
}

/// The rows of a query: `columns` values per row, row after row.
#[derive(Debug, Default, PartialEq)]
pub struct Rows {
    pub columns: usize,
    pub values: Vec<SqlValue>,
}

impl Rows {
    /// The rows, each a slice of `columns` values.
    pub fn iter(&self) -> impl Iterator<Item = &[SqlValue]> {
        self.values.chunks(self.columns.max(1))
    }

    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.columns).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The width of a time slice, in microseconds (30 days); a slice is `value / SLICE`, rounded
/// toward zero as SQLite and Rust divide integers.
pub(crate) const SLICE: i64 = 2_592_000_000_000;

/// The time fields with versions per slice (the triggers of migration V8).
pub(crate) const SLICED: &[(&str, &str)] = &[
    ("activities", "occurred_at"),
    ("leads", "created_at"),
    ("deals", "created_at"),
    ("deals", "closed_at"),
    ("orders", "placed_at"),
];

/// A query that names `table` once, in a FROM that keeps only the rows whose `field` (an instant
/// in microseconds) is in `[lo, hi)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranged {
    pub table: String,
    pub field: String,
    pub lo: i64,
    pub hi: i64,
}

impl Ranged {
    /// Whether the table's field has versions per slice.
    pub fn is_sliced(table: &str, field: &str) -> bool {
        SLICED.iter().any(|(t, f)| *t == table && *f == field)
    }

    /// The version names of the slices `[lo, hi)` covers, or `None` when the field has none or
    /// the range covers too many to be worth it.
    pub(crate) fn slices(&self) -> Option<Vec<String>> {
        if !Ranged::is_sliced(&self.table, &self.field) || self.hi <= self.lo {
            return None;
        }
        let (first, last) = (self.lo / SLICE, (self.hi - 1) / SLICE);
        if last - first > 400 {
            return None;
        }
        Some((first..=last).map(|s| format!("{}.{}@{s}", self.table, self.field)).collect())
    }
}
