//! The metrics engine (issue: metrics engine). Not written yet.
