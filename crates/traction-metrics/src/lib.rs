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
pub mod filter;
pub mod funnel;
#[cfg(test)]
mod fuzz;
pub mod input;
pub mod params;
pub mod plan;
pub mod source;
mod sql;

pub use buckets::Grain;
pub use catalog::{Catalog, Diagnostic, Diagnostics, Metric};
pub use eval::{
    MetricResult, Row, Stretch, local_text, quantile, relative_change, run, run_compared, run_in,
    trimmed_mean, workspace_env,
};
pub use expr::compile::Env;
pub use filter::{Filter, FilterError, Origin};
pub use funnel::{FunnelQuery, FunnelResult, FunnelRow, funnel, funnel_in};
pub use input::Input;
pub use plan::{Compare, Query, parse_by};
pub use sql::DimValue;

/// Why a query could not be answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The query is wrong (unknown dimension, bad parameter, empty range): fix the input.
    #[error(transparent)]
    Input(#[from] Input),
    /// The `where` does not parse, or names what the metric's records do not have.
    #[error("where: {0}")]
    Where(FilterError),
    /// No metric of that name; `hint` names close ones or where the catalog is listed.
    #[error("no metric named {name:?}: {hint}")]
    UnknownMetric { name: String, hint: String },
    /// No such pipeline (or other record a query names).
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error("database error: {0}")]
    Storage(String),
    /// The query ran past the time limit, or the database was busy: retry later or ask less.
    #[error("{0}")]
    Busy(String),
}

/// What a caller does about an [`Error`]: the variants grouped by who must act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The asker fixes the query.
    Input,
    /// The asker names something that exists.
    NotFound,
    /// The asker retries later or asks less.
    Busy,
    /// The operator looks at the database.
    Storage,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input(_) | Error::Where(_) => ErrorKind::Input,
            Error::UnknownMetric { .. } | Error::NotFound(_) => ErrorKind::NotFound,
            Error::Busy(_) => ErrorKind::Busy,
            Error::Storage(_) => ErrorKind::Storage,
        }
    }
}

impl From<FilterError> for Error {
    fn from(e: FilterError) -> Error {
        Error::Where(e)
    }
}

impl From<traction_store::Error> for Error {
    fn from(e: traction_store::Error) -> Error {
        match e {
            traction_store::Error::Busy(m) => Error::Busy(m),
            e => Error::Storage(e.to_string()),
        }
    }
}
