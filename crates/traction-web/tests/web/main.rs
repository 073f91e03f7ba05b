//! The web application's tests: the real server (the API, the sign-in middleware and these
//! pages, as `traction serve` runs them) on 127.0.0.1:0 over a real database file; pages read
//! over HTTP and, in `browser.rs`, driven in headless Chromium.

mod alerts;
mod app;
mod browser;
mod definitions;
mod events;
mod forecast;
mod issue22;
mod leads;
mod pages;
mod records;
mod setup;
mod setup_browser;
mod targets;
mod webdriver;
mod work;
