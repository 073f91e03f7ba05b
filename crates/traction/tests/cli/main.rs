//! Integration tests of the real `traction` binary: each test runs it on a fresh database file.
//!
//! If you add a command, add a module here (one test binary for the crate keeps linking cheap).

mod auth;
mod crash;
mod demo;
mod durability;
mod faults;
mod forecast;

mod hook;
mod import;
mod kpi;
mod mapping;
mod metric;
mod monitor;
mod own_goals;
mod util;
