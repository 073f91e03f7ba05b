//! Integration tests of the HTTP API: the real server on a loopback port, a real database file
//! in a temporary folder, a real HTTP client (zero2prod's `tests/api`, one test binary).
//!
//! - `helpers`: `TestApp::spawn()` and one method per verb; the clock is the test's to set.
//! - `crud`: every entity created, read, listed, replaced, patched and deleted.
//! - `pagination`: cursors, filters, limits, and paging while others insert.
//! - `deals`: the move endpoint and the stage history it writes.
//! - `errors`: every error status and its body shape, and that bad requests change nothing.
//! - `events`: Server-Sent Events delivery, dropped clients, slow clients, bulk commits.
//! - `metrics`: the catalog, a metric and the funnel over data written through the API.
//! - `kpis`: breakdown, status, leaderboard and report on the worked example of kpis.md.
//! - `concurrency`: several tasks writing at once, no errors, no lost writes.
//! - `hooks`: the Mandrill and SendGrid event webhooks, signed as they sign them.
//! - `monitor`: channels, alert rules, silences, alerts and one's own notifications.
//! - `server`: the OpenAPI document against the router, graceful shutdown, `/` without pages,
//!   URL decoding (`+` in queries and paths, text that is not UTF-8).
//! - `bad_requests`: issue 25 — bad requests generated from the OpenAPI document, per role.
//! - `hardening`: issue 25 — heavy reads do not stall sign-in and writes, overflow, sessions
//!   ended for good, scope leaks, connection limits.
//! - `auth`: the role × endpoint table, record scopes, tokens, sessions, CSRF, rate limits,
//!   security headers and the audit log.

mod auth;
mod bad_requests;
mod concurrency;
mod crud;
mod deals;
mod definitions;
mod errors;
mod events;
mod forecast;
mod hardening;
mod helpers;
mod hooks;
mod kpis;
mod metrics;
mod monitor;
mod pagination;
mod server;
mod targets;
