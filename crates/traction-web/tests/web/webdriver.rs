//! The browser tests' WebDriver helpers, on fantoccini (the W3C protocol over plain HTTP to a
//! local chromedriver; built without TLS, so no OpenSSL), driving Debian's Chromium headless —
//! navigate, find, click, type, run a script, drag with the pointer, read the console, take
//! screenshots. The tests call these functions, not fantoccini, so the names stay few and the
//! failures say what was looked for.
//!
//! Chromium and chromedriver are installed by `.ci/run`. Without them the browser tests say so
//! and pass, unless `TRACTION_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// chromedriver, started on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    base: String,
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
        // Ready when its status says so (a session is asked for only then).
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
        Driver { child, base }
    }

    pub async fn session(&self, browser: &str, width: u32, height: u32) -> Session {
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
                         format!("--window-size={width},{height}")]
            }
        });
        let Value::Object(caps) = caps else { unreachable!("the capabilities are an object") };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.base)
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}"));
        Session { client }
    }
}

/// One browser window.
pub struct Session {
    client: Client,
}

/// An element's W3C reference id, as the tests hand it to scripts
/// (`{"element-6066-11e4-a52e-4f735466cecf": el}`).
pub type El = String;

/// chromedriver's browser log (`POST /session/{id}/se/log`), which the W3C protocol lacks.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}

/// A command's failure, as the test's panic.
fn fail<T>(what: &str) -> impl FnOnce(fantoccini::error::CmdError) -> T + '_ {
    move |e| panic!("WebDriver {what}: {e}")
}

impl Session {
    /// fantoccini's handle on the element `el`.
    fn element(&self, el: &El) -> Element {
        Element::from_element_id(self.client.clone(), ElementRef::from(el.clone()))
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(fail("goto"));
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.map(String::from).unwrap_or_default()
    }

    pub async fn try_find(&self, css: &str) -> Option<El> {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => Some(el.element_id().into()),
            Err(e) if e.is_no_such_element() => None,
            Err(e) => panic!("WebDriver find {css:?}: {e}"),
        }
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
                let source = self.client.source().await.unwrap_or_default();
                let end = source.char_indices().nth(3000).map_or(source.len(), |(idx, _)| idx);
                panic!("no element matches {css:?} on {}: {}", self.url().await, &source[..end]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, el: &El) {
        self.element(el).click().await.unwrap_or_else(fail("click"));
    }

    pub async fn type_into(&self, el: &El, text: &str) {
        let el = self.element(el);
        el.clear().await.unwrap_or_else(fail("clear"));
        el.send_keys(text).await.unwrap_or_else(fail("type"));
    }

    /// Sets a file input's file (by path on this machine).
    pub async fn upload(&self, el: &El, path: &str) {
        self.element(el).send_keys(path).await.unwrap_or_else(fail("upload"));
    }

    pub async fn text(&self, el: &El) -> String {
        self.element(el).text().await.unwrap_or_else(fail("text"))
    }

    /// Runs `script` with `args` (a JSON array) and answers what it returns.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        let args = match args {
            Value::Array(args) => args,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        self.client.execute(script, args).await.unwrap_or_else(fail("script"))
    }

    async fn perform(&self, mouse: MouseActions) {
        self.client.perform_actions(mouse).await.unwrap_or_else(fail("actions"));
        let _ = self.client.release_actions().await;
    }

    /// Drags `from` to `to` with a mouse: press, move in steps, release.
    pub async fn drag(&self, from: &El, to: &El) {
        let at = |el: &El, ms: u64, x: f64, y: f64| PointerAction::MoveToElement {
            element: self.element(el),
            duration: Some(Duration::from_millis(ms)),
            x,
            y,
        };
        let mut mouse = MouseActions::new("mouse".into())
            .then(at(from, 0, 0.0, 0.0))
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
        for step in 1..=5 {
            mouse = mouse.then(at(from, 50, f64::from(step * 10), f64::from(step * 5)));
        }
        mouse =
            mouse.then(at(to, 100, 0.0, 0.0)).then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.perform(mouse).await;
    }

    /// Drags `from` to the bottom edge of the screen, holds it there for `hold` (the page
    /// scrolls along), then on to `to` and drops it: how a column below the screen is reached.
    pub async fn drag_past_edge(&self, from: &El, to: &El, viewport_height: u32, hold: Duration) {
        let at = |el: &El, ms: u64, offset: f64| PointerAction::MoveToElement {
            element: self.element(el),
            duration: Some(Duration::from_millis(ms)),
            x: offset,
            y: offset,
        };
        let mouse = MouseActions::new("mouse".into())
            .then(at(from, 0, 0.0))
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(at(from, 100, 10.0))
            .then(PointerAction::MoveTo {
                duration: Some(Duration::from_millis(200)),
                x: 100.0,
                y: f64::from(viewport_height.saturating_sub(20)),
            })
            .then(PointerAction::Pause { duration: hold })
            .then(at(to, 200, 0.0))
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.perform(mouse).await;
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> Vec<Value> {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap_or_else(fail("console"));
        entries.as_array().cloned().unwrap_or_default()
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
        self.client.set_window_size(width, height).await.unwrap_or_else(fail("window size"));
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
        self.client.screenshot().await.unwrap_or_else(fail("screenshot"))
    }

    /// Opens a new tab and returns its handle (the session stays on the current one).
    pub async fn new_tab(&self) -> String {
        let tab = self.client.new_window(true).await.unwrap_or_else(fail("new tab"));
        String::from(tab.handle)
    }

    /// Makes the tab with `handle` the one the commands go to.
    pub async fn switch_to(&self, handle: &str) {
        let handle = WindowHandle::try_from(handle).expect("a window handle");
        self.client.switch_to_window(handle).await.unwrap_or_else(fail("switch tab"));
    }

    /// How long a navigation may take before `goto` fails.
    pub async fn page_load_timeout(&self, timeout: Duration) {
        let timeouts = TimeoutConfiguration::new(None, Some(timeout), None);
        self.client.update_timeouts(timeouts).await.unwrap_or_else(fail("timeouts"));
    }

    pub async fn close(&self) {
        let _ = self.client.clone().close().await;
    }
}
