//! A small WebDriver client (W3C protocol over HTTP, through reqwest) driving Debian's Chromium
//! headless through chromedriver — enough for the browser tests: navigate, find, click, type,
//! run a script, drag with the pointer, read the console, take screenshots.
//!
//! Chromium and chromedriver are installed by `.ci/run`. Without them the browser tests say so
//! and pass, unless `TRACTION_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver, started on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    for name in names {
        for dir in path.split(':') {
            let candidate = std::path::Path::new(dir).join(name);
            if candidate.is_file() {
                return Some(candidate.to_string_lossy().into_owned());
            }
        }
    }
    None
}

/// chromedriver and Chromium, or why the browser tests cannot run.
pub fn programs() -> Result<(String, String), String> {
    let driver = find_program(&["chromedriver"])
        .ok_or("chromedriver is not installed (apt-get install chromium-driver)")?;
    let browser = find_program(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("Chromium is not installed (apt-get install chromium)")?;
    Ok((driver, browser))
}

/// `None` (after saying why) when the browser is missing and not required.
pub fn available() -> Option<(String, String)> {
    match programs() {
        Ok(p) => Some(p),
        Err(why) => {
            if std::env::var("TRACTION_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("the browser tests need a browser: {why}");
            }
            eprintln!("SKIPPED: browser tests: {why}; .ci/run installs it");
            None
        }
    }
}

impl Driver {
    pub async fn start(driver: &str) -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, base, http }
    }

    pub async fn session(&self, browser: &str, width: u32, height: u32) -> Session {
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": browser,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
                             format!("--window-size={width},{height}")]
                }
            }}
        });
        let r: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Session { base: format!("{}/session/{id}", self.base), http: self.http.clone() }
    }
}

/// One browser window.
pub struct Session {
    base: String,
    http: reqwest::Client,
}

pub type El = String;

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = r["value"].get("error") {
            panic!("WebDriver {path}: {err}: {}", r["value"]["message"]);
        }
        r["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or("").to_string()
    }

    pub async fn try_find(&self, css: &str) -> Option<El> {
        let r: Value = self
            .http
            .post(format!("{}/element", self.base))
            .json(&json!({ "using": "css selector", "value": css }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["value"][ELEMENT].as_str().map(str::to_string)
    }

    pub async fn find(&self, css: &str) -> El {
        self.wait_for(css, Duration::from_secs(10)).await
    }

    pub async fn wait_for(&self, css: &str, timeout: Duration) -> El {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(el) = self.try_find(css).await {
                return el;
            }
            if Instant::now() >= deadline {
                let source = self.get("/source").await;
                let source = source.as_str().unwrap_or("");
                panic!(
                    "no element matches {css:?} on {}: {}",
                    self.url().await,
                    &source[..source.len().min(3000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, el: &El) {
        self.post(&format!("/element/{el}/click"), json!({})).await;
    }

    pub async fn type_into(&self, el: &El, text: &str) {
        self.post(&format!("/element/{el}/clear"), json!({})).await;
        self.post(&format!("/element/{el}/value"), json!({ "text": text })).await;
    }

    /// Sets a file input's file (by path on this machine).
    pub async fn upload(&self, el: &El, path: &str) {
        self.post(&format!("/element/{el}/value"), json!({ "text": path })).await;
    }

    pub async fn text(&self, el: &El) -> String {
        self.get(&format!("/element/{el}/text")).await.as_str().unwrap_or("").to_string()
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Drags `from` to `to` with a mouse: press, move in steps, release.
    pub async fn drag(&self, from: &El, to: &El) {
        let origin = |el: &El| json!({ ELEMENT: el });
        let mut actions = vec![
            json!({ "type": "pointerMove", "duration": 0, "origin": origin(from), "x": 0, "y": 0 }),
            json!({ "type": "pointerDown", "button": 0 }),
        ];
        for step in 1..=5 {
            actions.push(json!({ "type": "pointerMove", "duration": 50, "origin": origin(from), "x": step * 10, "y": step * 5 }));
        }
        actions.push(
            json!({ "type": "pointerMove", "duration": 100, "origin": origin(to), "x": 0, "y": 0 }),
        );
        actions.push(json!({ "type": "pointerUp", "button": 0 }));
        self.post("/actions", json!({ "actions": [{ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": actions }] })).await;
        let _ = self.call(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Drags `from` to the bottom edge of the screen, holds it there for `hold` (the page
    /// scrolls along), then on to `to` and drops it: how a column below the screen is reached.
    pub async fn drag_past_edge(&self, from: &El, to: &El, viewport_height: u32, hold: Duration) {
        let origin = |el: &El| json!({ ELEMENT: el });
        let actions = vec![
            json!({ "type": "pointerMove", "duration": 0, "origin": origin(from), "x": 0, "y": 0 }),
            json!({ "type": "pointerDown", "button": 0 }),
            json!({ "type": "pointerMove", "duration": 100, "origin": origin(from), "x": 10, "y": 10 }),
            json!({ "type": "pointerMove", "duration": 200, "origin": "viewport", "x": 100, "y": viewport_height.saturating_sub(20) }),
            json!({ "type": "pause", "duration": hold.as_millis() as u64 }),
            json!({ "type": "pointerMove", "duration": 200, "origin": origin(to), "x": 0, "y": 0 }),
            json!({ "type": "pointerUp", "button": 0 }),
        ];
        self.post("/actions", json!({ "actions": [{ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": actions }] })).await;
        let _ = self.call(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> Vec<Value> {
        let r: Value = self
            .http
            .post(format!("{}/se/log", self.base))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["value"].as_array().cloned().unwrap_or_default()
    }

    /// Console errors (level SEVERE), e.g. a script error or a blocked resource.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub async fn set_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// A PNG of the viewport; `full` resizes the window to the page's height first.
    pub async fn screenshot(&self, width: u32, full: bool) -> Vec<u8> {
        if full {
            let h = self
                .script("return document.documentElement.scrollHeight", json!([]))
                .await
                .as_u64()
                .unwrap_or(900) as u32;
            self.set_size(width, h.clamp(400, 6000) + 120).await;
        }
        let b64 = self.get("/screenshot").await.as_str().unwrap_or("").to_string();
        decode_base64(&b64)
    }

    /// Opens a new tab and returns its handle (the session stays on the current one).
    pub async fn new_tab(&self) -> String {
        let r = self.post("/window/new", json!({ "type": "tab" })).await;
        r["handle"].as_str().unwrap().to_string()
    }

    /// Makes the tab with `handle` the one the commands go to.
    pub async fn switch_to(&self, handle: &str) {
        self.post("/window", json!({ "handle": handle })).await;
    }

    /// How long a navigation may take before `goto` fails.
    pub async fn page_load_timeout(&self, timeout: Duration) {
        self.post("/timeouts", json!({ "pageLoad": timeout.as_millis() as u64 })).await;
    }

    pub async fn close(&self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}
