//! Every catalog metric against small fixtures whose expected values are worked out
//! by hand in each test (spec: quality.md, Tests), plus the query semantics' edge cases.
//!
//! Fixtures are CSV text imported through `traction_import::import`, like a user's files.

mod activities;
mod customers;
mod deals;
mod docs;
mod email;
mod explain;
mod fixture;
mod funnel;
mod gaps;
mod leads;
mod orders;
mod queries;
