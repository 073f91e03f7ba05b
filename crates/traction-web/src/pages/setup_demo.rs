//! The setup's third way in (issue 20.4): an admin fills an empty workspace with the demo data
//! (`traction_demo`, the generator behind `traction demo`) from the browser. `POST /setup/demo`
//! (the CSRF check is the server's, as for every form) loads seed 1 at scale S with the history
//! ending at the request's clock, then answers a result page with what was stored.
//!
//! Decisions (docs/own-goals.md, Start small):
//! - only while nothing but targets is stored (the setup's first target may be there; people,
//!   teams and pipelines do not count), else 409 and nothing is written;
//! - the time zone and currency chosen in step 1 stay: the generator's own (Europe/London, GBP)
//!   are for an empty database on the command line; here its amounts follow the workspace
//!   currency's decimals, its days the chosen zone;
//! - one audit row, `demo.generate` by the admin, as the command line leaves one by `cli`: the
//!   generated rows themselves are not audited one by one;
//! - one load at a time per database: a second request while one runs is told so (409).

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use traction_domain::settings::{Key, Workspace};
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{Actor, Backend, Error, ListQuery, Setting, Store, Writer};

use crate::layout::{self, Nav};
use crate::{Req, Result, WebError, render};

/// The seed and scale the setup loads: the story at human size (docs/demo-data.md).
const SEED: u64 = 1;
const SCALE: traction_demo::Scale = traction_demo::Scale::S;

/// The databases a demo load is running on (one at a time each).
static LOADING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Holds a database's place in [`LOADING`] while its load runs.
struct Loading(String);

impl Loading {
    fn begin(location: String) -> Option<Loading> {
        let mut running = LOADING.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains(&location) {
            return None;
        }
        running.push(location.clone());
        Some(Loading(location))
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        LOADING.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| *p != self.0);
    }
}

/// The store as the generator sees it from the setup: its writes are not audited row by row
/// (the load leaves one summary row), and the workspace's time zone and currency are kept.
struct SetupStore<'a>(&'a dyn Backend);

impl Store for SetupStore<'_> {
    fn workspace(&self) -> std::result::Result<Workspace, Error> {
        self.0.workspace()
    }
    fn setting(&self, key: Key, team: Option<&str>) -> std::result::Result<Setting, Error> {
        self.0.setting(key, team)
    }
    fn set_setting(
        &self,
        key: Key,
        team: Option<&str>,
        value: &str,
    ) -> std::result::Result<String, Error> {
        match key {
            Key::Timezone | Key::Currency => Ok(self.0.setting(key, team)?.value),
            _ => self.0.set_setting(key, team, value),
        }
    }
    fn writer(&self) -> std::result::Result<Box<dyn Writer + '_>, Error> {
        self.0.writer_as(None)
    }
    fn get(&self, entity: Entity, key: &[Value]) -> std::result::Result<Option<Record>, Error> {
        self.0.get(entity, key)
    }
    fn scan(
        &self,
        entity: Entity,
        visit: &mut dyn FnMut(Record) -> std::result::Result<(), Error>,
    ) -> std::result::Result<(), Error> {
        self.0.scan(entity, visit)
    }
    fn list(
        &self,
        entity: Entity,
        query: &ListQuery<'_>,
    ) -> std::result::Result<Vec<Record>, Error> {
        self.0.list(entity, query)
    }
    fn recent(
        &self,
        entity: Entity,
        time_field: &str,
        query: &ListQuery<'_>,
    ) -> std::result::Result<Vec<Record>, Error> {
        self.0.recent(entity, time_field, query)
    }
    fn stock_on_hand(
        &self,
        product_ids: &[&str],
    ) -> std::result::Result<Vec<(String, i64)>, Error> {
        self.0.stock_on_hand(product_ids)
    }
    fn count(&self, entity: Entity) -> std::result::Result<u64, Error> {
        self.0.count(entity)
    }
    fn backup(&self, dest: &Path) -> std::result::Result<(), Error> {
        self.0.backup(dest)
    }
}

fn conflict(message: impl Into<String>) -> WebError {
    WebError { status: StatusCode::CONFLICT, message: message.into() }
}

/// `POST /setup/demo`: loads the demo data into an empty workspace and shows what was stored.
pub async fn load(State(state): State<AppState>, req: Req) -> Result<Response> {
    crate::respond(state, move |state, at| {
        let principal = req.principal()?;
        if !principal.is_admin() {
            return Err(WebError {
                status: StatusCode::FORBIDDEN,
                message: "only an admin loads the demo data".into(),
            });
        }
        let store = state.store.as_ref();
        let Some(_loading) = Loading::begin(store.location()) else {
            return Err(conflict(
                "the demo data is being loaded already: wait a few seconds, then open the dashboard",
            ));
        };
        if !super::setup::only_targets(store)? {
            return Err(conflict(
                "the workspace already has records: the demo data goes only into an empty workspace (targets aside); use a new database to try the demo, or import your data",
            ));
        }
        let options =
            traction_demo::DemoOptions { seed: SEED, scale: SCALE, at, add: true };
        let started = Instant::now();
        let summary = traction_demo::generate(&SetupStore(store), &options, &mut |_, _| {})
            .map_err(|e| match e {
                Error::Conflict(message) => conflict(message),
                other => WebError::internal(format!("the demo data could not be stored: {other}")),
            })?;
        let actor = Actor { user: principal.user_id.clone(), at: Some(at) };
        let after = format!(
            r#"{{"seed":{SEED},"scale":"{}","rows":{}}}"#,
            SCALE.name(),
            summary.total()
        );
        store.audit(&actor, "demo.generate", "all", &format!("seed {SEED}"), None, Some(&after))?;
        let seconds = started.elapsed().as_secs_f64();
        let workspace = store.workspace()?;
        let chosen = store.setting(Key::DashboardMetrics, None)?.value;
        let number = |n: u64| req.locale.number(n as f64, 0);
        let body = html! {
            div.page-head {
                h1 { "Demo data loaded" }
                p.sub {
                    (number(summary.total())) " records of a coffee company and the community kitchen it runs, two years ending now, stored in "
                    (req.locale.number(seconds, 1)) " s. The time zone (" (workspace.zone.iana_name().unwrap_or("UTC"))
                    ") and currency (" (workspace.currency.code()) ") stay as you chose them."
                }
            }
            p.notice.good role="status" {
                "The dashboard now shows "
                @if chosen.is_empty() { "the demo's targets" } @else { "your metrics (" (chosen.replace(',', ", ")) ") first, then the demo's targets" }
                "."
            }
            section.card {
                h2 { "What was stored" }
                table {
                    thead { tr { th { "Records" } th.num { "Rows" } } }
                    tbody {
                        @for (entity, n) in summary.rows.iter().filter(|(_, n)| *n > 0) {
                            tr { td { (entity.name()) } td.num { (number(*n)) } }
                        }
                    }
                }
            }
            p.actions {
                a.button href="/" { "Go to the dashboard" }
                " " a href="/targets" { "See the targets" }
            }
        };
        Ok(render(layout::page(&req, "Demo data loaded", Nav::Dashboard, body)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_load_at_a_time_per_database() {
        let (a, b) = (|| "/nowhere/a.db".to_string(), || "/nowhere/b.db".to_string());
        let first = Loading::begin(a()).expect("the first load of a starts");
        assert!(Loading::begin(a()).is_none(), "a second load of a waits for the first");
        let other = Loading::begin(b()).expect("another database loads beside it");
        drop(first);
        assert!(Loading::begin(a()).is_some(), "a loads again once the first is done");
        drop(other);
    }
}
