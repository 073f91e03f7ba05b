//! Rendering for people, at the edges: what the command line, the server (the report endpoint and
//! scheduled deliveries) and the web pages write out. The core crates (`traction-metrics`,
//! `traction-kpi`) answer typed values; this crate turns them into text, HTML and SVG.
//!
//! - [`report`]: the period report as Markdown, CSV and a printable HTML page.
//! - [`chart`]: every chart as SVG (line, bar, sparkline, pace bar, funnel, heatmap), for the web
//!   pages and the report alike.
//! - [`fmt`]: numbers for people in the reader's locale (money, rates, durations).
//!
//! It knows no HTTP, no store and no terminal: every function takes values and returns text.

pub mod chart;
pub mod fmt;
pub mod report;
