//! The HTTP API (issue: HTTP API). Not written yet.
