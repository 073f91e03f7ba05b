//! The test harness: the real server on a loopback port with a fresh database file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value as Json, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use traction_server::{AppState, Config, Events};
use traction_store::Backend;

/// 2026-03-02T09:00:00Z, a Monday: the clock every test starts at.
pub const T0: i64 = 1_772_442_000_000_000;
/// One hour in microseconds.
pub const HOUR: i64 = 3_600_000_000;

pub struct TestApp {
    pub addr: SocketAddr,
    /// A client that sends the admin's bearer token with every request.
    pub client: Client,
    /// A client without credentials.
    pub anonymous: Client,
    /// The admin's API token (user `admin`, made directly in the store at spawn).
    pub admin_token: String,
    pub store: Arc<dyn Backend>,
    /// The same store as its SQLite type, for the white-box tests of its connection pool
    /// (hardening.rs); every other test goes through `store`.
    pub sqlite: Arc<traction_store::SqliteStore>,
    pub events: Events,
    now: Arc<AtomicI64>,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<std::io::Result<()>>>,
    pub dir: tempfile::TempDir,
}

/// A response: status and JSON body (null when the body is empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Json,
}

impl Answer {
    /// Asserts the error shape of interfaces.md and returns the details.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> &Vec<Json> {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "{:#}", self.body);
        let message = error["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "an error needs a message: {:#}", self.body);
        let details = error["details"].as_array().expect("details is an array");
        for detail in details {
            assert!(detail["problem"].is_string(), "each detail names its problem: {detail}");
        }
        details
    }
}

pub fn install_crypto() {
    // reqwest is built without a default TLS provider; install ring once (no TLS is used on
    // loopback, but the client builder asks for a provider).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Config::default()).await
    }

    pub async fn spawn_with(config: Config) -> TestApp {
        install_crypto();
        let dir = tempfile::tempdir().unwrap();
        let sqlite =
            Arc::new(traction_store::SqliteStore::open(&dir.path().join("traction.db")).unwrap());
        let store: Arc<dyn Backend> = sqlite.clone();
        // The first admin, as `traction user add --role admin` makes it, and a token for it: the
        // tests call the API as this admin unless they say otherwise.
        let admin_token = add_user(&*store, "admin", "admin", None);
        let now = Arc::new(AtomicI64::new(T0));
        let clock_now = now.clone();
        let clock: traction_server::Clock = Arc::new(move || clock_now.load(Ordering::SeqCst));
        let (state, stop_events) = AppState::new(store.clone(), clock, config);
        let events = state.events.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(traction_server::serve(
            listener,
            state,
            async move {
                let _ = rx.await;
            },
            stop_events,
        ));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {admin_token}").parse().unwrap(),
        );
        TestApp {
            sqlite,
            addr,
            client: Client::builder().default_headers(headers).build().unwrap(),
            anonymous: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            admin_token,
            store,
            events,
            now,
            shutdown: Some(tx),
            server: Some(server),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set_now(&self, micros: i64) {
        self.now.store(micros, Ordering::SeqCst);
    }

    /// Starts the graceful shutdown.
    pub fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<&Json>) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Json::Null) }
    }

    /// Sends a body as it is, with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Json::Null) }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Json) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Json) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates records and asserts they were stored.
    pub async fn create(&self, entity: &str, body: Json) -> Json {
        let answer = self.post(&format!("/api/v1/{entity}"), &body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{entity}: {:#}", answer.body);
        answer.body
    }

    /// Every record of an entity, through the API's pages.
    pub async fn all(&self, entity: &str, query: &str) -> Vec<Json> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/{entity}?limit=1000{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
            items.extend(page.body["items"].as_array().unwrap().iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    pub fn count(&self, entity: traction_domain::Entity) -> u64 {
        self.store.count(entity).unwrap()
    }

    /// A team, two users, an account, and a pipeline with two open stages, a won and a lost one;
    /// a second pipeline with its own stages.
    pub async fn seed_sales(&self) {
        self.create("teams", json!({"id": "t1", "name": "North"})).await;
        self.create(
            "users",
            json!([
                {"id": "u1", "name": "Ann", "team_id": "t1", "created_at": "2026-01-01T00:00:00Z"},
                {"id": "u2", "name": "Bob", "team_id": "t1", "created_at": "2026-01-01T00:00:00Z"}
            ]),
        )
        .await;
        self.create(
            "accounts",
            json!({"id": "a1", "name": "Acme", "owner_id": "u1", "created_at": "2026-01-05T10:00:00Z"}),
        )
        .await;
        self.create(
            "pipelines",
            json!([{"id": "p1", "name": "Sales"}, {"id": "p2", "name": "Renewals"}]),
        )
        .await;
        self.create(
            "stages",
            json!([
                {"id": "s1", "pipeline_id": "p1", "name": "Qualified", "position": 1},
                {"id": "s2", "pipeline_id": "p1", "name": "Proposal", "position": 2},
                {"id": "won", "pipeline_id": "p1", "name": "Won", "position": 3, "kind": "won"},
                {"id": "lost", "pipeline_id": "p1", "name": "Lost", "position": 4, "kind": "lost"},
                {"id": "r1", "pipeline_id": "p2", "name": "Due", "position": 1},
                {"id": "r-won", "pipeline_id": "p2", "name": "Renewed", "position": 2, "kind": "won"},
                {"id": "r-lost", "pipeline_id": "p2", "name": "Churned", "position": 3, "kind": "lost"}
            ]),
        )
        .await;
    }
}

/// Adds a user straight to the store (as the command line does) with an API token; returns the
/// token.
pub fn add_user(store: &dyn Backend, id: &str, role: &str, team: Option<&str>) -> String {
    use traction_domain::{Entity, Record, Value};
    let actor = traction_store::Actor { user: "cli".into(), at: Some(T0 - HOUR) };
    let mut writer = store.writer_as(Some(&actor)).unwrap();
    let mut values = vec![Value::Null; Entity::Users.fields().len()];
    let mut set = |name: &str, value: Value| {
        values[Entity::Users.field_index(name).unwrap()] = value;
    };
    set("id", Value::Text(id.into()));
    set("name", Value::Text(format!("User {id}")));
    set("role", Value::Text(role.into()));
    set("active", Value::Bool(true));
    set("created_at", Value::Instant(T0 - 1000 * HOUR));
    if let Some(team) = team {
        set("team_id", Value::Text(team.into()));
    }
    writer.put(0, Record { entity: Entity::Users, values }).unwrap();
    writer.commit().unwrap();
    let (_, token) =
        traction_server::auth::api::issue_token(store, id, "tests", T0, &actor).unwrap();
    token
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shut_down();
    }
}
