//! Rendering for people, at the edges: what the command line, the server (the report endpoint and
//! scheduled deliveries) and the web pages write out. The core crates (`traction-metrics`,
//! `traction-kpi`) answer typed values; this crate turns them into text, HTML and SVG.
//!
//! - [`report`]: the period report as Markdown, CSV and a printable HTML page.
//!
//! It knows no HTTP, no store and no terminal: every function takes values and returns text.

pub mod report;
