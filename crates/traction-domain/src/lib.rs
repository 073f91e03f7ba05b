//! Traction's domain: the values every other crate speaks in.
//!
//! - [`schema`]: the entities of the data model and their fields, as data.
//! - [`record`]: records, values, and parsing one cell of input into a value.
//! - [`money`]: exact money in integer minor units.
//! - [`orders`]: the order line-amount rule.
//! - [`time`]: instants (UTC microseconds), dates, and reading local times in the workspace zone.
//! - [`settings`]: workspace settings and their value formats.
//! - [`error`]: why a text is not a value ([`Error`], with the text and what it was held against).
//!
//! This crate does no IO and knows nothing of SQL, HTTP or the terminal.

pub mod error;
pub mod leads;
pub mod money;
pub mod orders;
pub mod record;
pub mod schema;
pub mod settings;
pub mod time;

pub use error::Error;
pub use money::Currency;
pub use record::{FieldProblem, ParseContext, Record, Value};
pub use schema::{Entity, Field, FieldType};
