//! Traction's metrics engine: metric definitions as data, one small expression language, and
//! one engine that answers any metric query (spec: metrics.md).
//!
//! A query goes through named stages, each with its own representation:
//!
//! ```text
//!  definitions (TOML)          builtin.toml (include_str!) + the user's --metrics FILE
//!        │  catalog::check     parse, type-check every expression, references, cycles;
//!        ▼                     all problems at once, each naming its definition
//!     Catalog ─────────┐
//!                      │  plan::plan      Query (metric, [from, to), grain, by, where,
//!     Query ───────────┤                  compare, at) + Buckets cut in the workspace zone
//!                      ▼
//!                    Plan                 logical, backend-free: Scans (which source, which
//!                      │                  rows, which aggregates) and a Node tree combining them
//!                      │  sql::statement  one parameterised SQLite statement per scan
//!                      ▼                  (no user text ever becomes SQL)
//!                SQL + params
//!                      │  sql::run_scan   rows grouped by (bucket, dimension values)
//!                      ▼
//!                  ScanRows
//!                      │  eval            slots → values (ratios, derived, order statistics),
//!                      ▼                  money to major units, comparison, sorting
//!                MetricResult     typed; the JSON shape of interfaces.md is the server's (`wire`)
//! ```
//!
//! The public surface is small: [`Catalog::builtin`], [`Catalog::load`], [`Query`], [`run`],
//! [`MetricResult`], and [`funnel::funnel`]; [`params`] reads both kinds of query from
//! text parameters (the HTTP API's query strings). The plan is the seam where pre-aggregated
//! rollups and a PostgreSQL backend can answer the same scans later.
//!
//! Modules: [`expr`] (the language: lexer, parser, type checker, SQL fragments), [`source`]
//! (entities and derived sources, their fields and dimensions), [`catalog`] (definitions),
//! [`buckets`] (time buckets and zone offsets), [`plan`], `sql`, `eval`, [`funnel`].

pub mod buckets;
pub mod catalog;
mod eval;
pub mod explain;
pub mod expr;
pub mod funnel;
#[cfg(test)]
mod fuzz;
pub mod params;
pub mod plan;
pub mod source;
mod sql;

use std::fmt;

pub use buckets::Grain;
pub use catalog::{Catalog, Diagnostic, Diagnostics, Metric};
pub use eval::{
    MetricResult, Row, Stretch, local_text, quantile, relative_change, run, run_compared,
    trimmed_mean,
};
pub use funnel::{FunnelQuery, FunnelResult, FunnelRow, funnel};
pub use plan::{Compare, Query, parse_by};
pub use sql::DimValue;

/// Why a query could not be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The query is wrong (unknown dimension, bad `where`, empty range): fix the input.
    Input(String),
    /// No such metric or pipeline.
    NotFound(String),
    /// The database failed.
    Storage(String),
    /// The query ran past the time limit, or the database was busy: retry later or ask less.
    Busy(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) | Error::NotFound(m) => f.write_str(m),
            Error::Storage(m) => write!(f, "database error: {m}"),
            Error::Busy(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<traction_store::Error> for Error {
    fn from(e: traction_store::Error) -> Error {
        match e {
            traction_store::Error::Busy(m) => Error::Busy(m),
            e => Error::Storage(e.to_string()),
        }
    }
}
