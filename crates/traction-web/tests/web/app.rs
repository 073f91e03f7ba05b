//! A running server for the web tests: a database file filled with the demo data (seed 1,
//! scale S, up to a fixed instant), a clock that starts at that instant, an admin and a rep who can
//! sign in with a password, and an API token for writing "from elsewhere".

use std::net::SocketAddr;
use std::sync::Arc;

use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_server::{AppState, Clock, Config};
use traction_store::Backend;

/// The demo's end and the server's clock: Monday 23 November 2026, 15:00 UTC.
pub const NOW: Micros = 1_795_446_000_000_000;
pub const PASSWORD: &str = "correct horse battery staple";

pub struct App {
    pub addr: SocketAddr,
    pub store: Arc<dyn Backend>,
    pub token: String,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server over a fresh database with the demo data, an admin (`web-admin`) and a rep
    /// (the demo's first rep) with the password [`PASSWORD`].
    pub async fn spawn() -> App {
        App::spawn_with(true).await
    }

    /// The server over an empty workspace: no data, only the admin (`web-admin`) with the
    /// password [`PASSWORD`].
    pub async fn spawn_empty() -> App {
        App::spawn_with(false).await
    }

    async fn spawn_with(demo: bool) -> App {
        // reqwest is built without a default crypto provider (no C builds): install ring's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let store = traction_store::open(&dir.path().join("traction.db")).unwrap();
        let s = store.clone();
        let token = tokio::task::spawn_blocking(move || {
            if demo {
                traction_demo::generate(
                    s.as_ref(),
                    &traction_demo::DemoOptions {
                        seed: 1,
                        scale: traction_demo::Scale::S,
                        at: NOW,
                        add: false,
                    },
                    &mut |_, _| {},
                )
                .unwrap();
            }
            add_user(&*s, "web-admin", "Wendy Admin", "admin", None);
            let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
            let hash = traction_server::auth::secret::hash_password(PASSWORD).unwrap();
            s.set_password("web-admin", &hash, &actor, NOW).unwrap();
            let (_, token) =
                traction_server::auth::api::issue_token(&*s, "web-admin", "tests", NOW, &actor)
                    .unwrap();
            token
        })
        .await
        .unwrap();
        // The clock starts at NOW and runs: a change made "now" falls inside `[period start,
        // now)` a moment later, as it does for real.
        let started = std::time::Instant::now();
        let clock: Clock = Arc::new(move || NOW + started.elapsed().as_micros() as Micros);
        let (state, stop_events) = AppState::new(store.clone(), clock, Config::default());
        state.events.watch_database(store.clone(), std::time::Duration::from_millis(200));
        let app = traction_server::app_with(state, traction_web::router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = traction_server::serve_app(
                listener,
                app,
                async move {
                    let _ = stopped.await;
                },
                stop_events,
            )
            .await;
        });
        App { addr, store, token, dir, stop: Some(stop) }
    }

    /// A client that sends the admin's API token.
    pub fn api(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {}", self.token).parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn count(&self, entity: Entity) -> u64 {
        self.store.count(entity).unwrap()
    }

    /// The first open deal (in key order) and the won stage of its pipeline.
    pub fn open_deal_and_won_stage(&self) -> (String, String) {
        let mut open = None;
        self.store
            .scan(Entity::Deals, &mut |d| {
                if open.is_none() && d.get("status").as_text() == Some("open") {
                    open = Some(d);
                }
                Ok(())
            })
            .unwrap();
        let deal = open.expect("an open deal");
        let pipeline = deal.get("pipeline_id").as_text().unwrap().to_string();
        let mut won = None;
        self.store
            .scan(Entity::Stages, &mut |s| {
                if s.get("pipeline_id").as_text() == Some(pipeline.as_str())
                    && s.get("kind").as_text() == Some("won")
                {
                    won = Some(s.get("id").as_text().unwrap().to_string());
                }
                Ok(())
            })
            .unwrap();
        (deal.get("id").as_text().unwrap().to_string(), won.expect("a won stage"))
    }

    pub fn get(&self, entity: Entity, id: &str) -> Option<Record> {
        self.store.get(entity, &[Value::Text(id.into())]).unwrap()
    }
}

/// Adds a user straight to the store, as `traction user add` does.
pub fn add_user(store: &dyn Backend, id: &str, name: &str, role: &str, team: Option<&str>) {
    let mut values = vec![Value::Null; Entity::Users.fields().len()];
    let mut set =
        |field: &str, value: Value| values[Entity::Users.field_index(field).unwrap()] = value;
    set("id", Value::Text(id.into()));
    set("name", Value::Text(name.into()));
    set("role", Value::Text(role.into()));
    set("active", Value::Bool(true));
    set("created_at", Value::Instant(NOW - 86_400_000_000));
    if let Some(team) = team {
        set("team_id", Value::Text(team.into()));
    }
    let mut writer = store.writer().unwrap();
    writer.put(0, Record { entity: Entity::Users, values }).unwrap();
    writer.commit().unwrap();
}
