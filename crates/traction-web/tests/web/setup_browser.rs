//! Issue 20.6: the start-small setup walked in a real headless browser (Chromium through
//! chromedriver) from an empty database to a dashboard with a target, a metric of the user's
//! own and its pace: sign in, choose the zone, currency and kind of business, the metrics and a
//! first target with its timeline, type the first events, define a metric in the /metrics form
//! (its mistake shown at the field as it is typed), set a target on it, then read both targets'
//! tiles on the dashboard, with the figures worked out by hand from the events typed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use traction_domain::Entity;

use crate::app::{App, PASSWORD};
use crate::webdriver::{self, Driver, Session};

/// The dashboard at Friday 20 November 2026, 17:00 London (UTC+0 in November): the end of the
/// fifteenth of November's 21 working days (Mon–Fri 09:00–17:00; the 1st is a Sunday), so 120 of
/// its 168 working hours have passed and a month's target expects 5/7 of its value by then.
const DASHBOARD: &str = "/?period=month&at=2026-11-20T17:00:00Z";

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn no_console_errors(s: &Session, what: &str) {
    let errors = s.console_errors().await;
    assert!(errors.is_empty(), "{what}: console errors: {errors:#?}");
}

async fn fill(s: &Session, css: &str, text: &str) {
    let el = s.find(css).await;
    s.type_into(&el, text).await;
}

async fn click(s: &Session, css: &str) {
    let el = s.find(css).await;
    s.click(&el).await;
}

/// The text of the first element matching `css` (empty when none does).
async fn text_of(s: &Session, css: &str) -> String {
    match s.try_find(css).await {
        Some(el) => s.text(&el).await,
        None => String::new(),
    }
}

/// The text of every dashboard tile whose heading starts with `label`.
async fn tile(s: &Session, label: &str) -> String {
    let texts = s
        .script(
            "return [...document.querySelectorAll('article.tile')].filter(t => t.querySelector('h3').textContent.startsWith(arguments[0])).map(t => t.innerText).join('\\n---\\n')",
            json!([label]),
        )
        .await;
    texts.as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue_20_the_setup_in_a_real_browser_from_an_empty_database_to_a_target_on_pace() {
    let Some((driver_path, browser)) = webdriver::available() else { return };
    let app = App::spawn_empty().await;
    assert_eq!(app.count(Entity::Events) + app.count(Entity::Targets), 0);
    let driver = Driver::start(&driver_path).await;
    let s = driver.session(&browser, 1280, 900).await;

    // Sign in; the empty workspace's dashboard sends the admin to the setup.
    s.goto(&app.url("/")).await;
    fill(&s, "#user", "web-admin").await;
    fill(&s, "#password", PASSWORD).await;
    click(&s, "main form button[type=submit]").await;
    s.wait_for("input#timezone", Duration::from_secs(20)).await;
    assert!(s.url().await.ends_with("/setup"), "{}", s.url().await);
    no_console_errors(&s, "setup step 1").await;

    // Step 1: the time zone, the currency and the kind of business.
    fill(&s, "input#timezone", "Europe/London").await;
    fill(&s, "input#currency", "eur").await;
    click(&s, "input[name=business][value=social_enterprise]").await;
    click(&s, "form[action='/setup'] button[type=submit]").await;
    s.wait_for("form[action='/setup/goals']", Duration::from_secs(10)).await;
    assert_eq!(app.store.workspace().unwrap().currency.code(), "EUR");

    // Step 2: the five suggestions come ticked; keep the impact and the trading income, and
    // set a first target: 420 of event_quantity for the month starting on 1 November (the
    // timeline's defaults: a month, from the first of the current one).
    for metric in ["event_count", "costs", "net_cash_flow"] {
        click(&s, &format!("input[name=metrics][value={metric}]")).await;
    }
    click(&s, "select#target_metric option[value=event_quantity]").await;
    click(&s, "select#period option[value=month]").await;
    let starts_on = s.find("input#starts_on").await;
    let starts_on = s
        .script(
            "return arguments[0].value",
            json!([{ "element-6066-11e4-a52e-4f735466cecf": starts_on }]),
        )
        .await;
    assert_eq!(starts_on, Value::from("2026-11-01"));
    fill(&s, "input#value", "420").await;
    click(&s, "form[action='/setup/goals'] button[type=submit]").await;
    s.wait_for("a[href='/records/events/new']", Duration::from_secs(10)).await;
    no_console_errors(&s, "setup step 3").await;
    assert_eq!(app.count(Entity::Targets), 1);

    // Step 3: type the first events. Kinds are written as people write them and stored
    // normalised: three lunch services of 64, 55 and 72 meals and one tally of 80 volunteer
    // hours.
    click(&s, "a[href='/records/events/new']").await;
    let events = [
        ("Meals Served", "2026-11-02 13:00", "64"),
        ("meals-served", "2026-11-09 13:00", "55"),
        (" MEALS_SERVED ", "2026-11-16 13:00", "72"),
        ("Volunteer Hours", "2026-11-16 09:00", "80"),
    ];
    for (n, (kind, at, quantity)) in events.iter().enumerate() {
        if n > 0 {
            s.goto(&app.url("/records/events/new")).await;
        }
        fill(&s, "input#f-kind", kind).await;
        fill(&s, "input#f-occurred_at", at).await;
        fill(&s, "input#f-quantity", quantity).await;
        click(&s, "form.record-form button[type=submit]").await;
        wait_until("the event to be stored", Duration::from_secs(10), async || {
            app.count(Entity::Events) == n as u64 + 1
        })
        .await;
    }
    let mut kinds = Vec::new();
    app.store
        .scan(Entity::Events, &mut |e| {
            kinds.push(e.get("kind").as_text().unwrap_or("").to_string());
            Ok(())
        })
        .unwrap();
    kinds.sort();
    assert_eq!(kinds, ["meals_served", "meals_served", "meals_served", "volunteer_hours"]);

    // A metric of one's own, in the /metrics form: lunch services of 60 meals or more. A unit
    // that is not one is shown at its field as it is typed, and goes once it is fixed.
    s.goto(&app.url("/metrics/new")).await;
    for (field, value) in [
        ("name", "big_lunches"),
        ("label", "Big lunches"),
        ("kind", "aggregate"),
        ("source", "events"),
        ("time", "occurred_at"),
        ("measure", "count"),
        ("filter", "kind = 'meals_served' and quantity >= 60"),
        ("better", "higher"),
        ("unit", "lunches"),
    ] {
        fill(&s, &format!("#metric-form input#{field}"), value).await;
    }
    wait_until("the unit's problem at its field", Duration::from_secs(10), async || {
        text_of(&s, "p.error-text[data-for=unit]").await.contains("not a unit")
    })
    .await;
    fill(&s, "#metric-form input#unit", "count").await;
    wait_until("the unit's problem to go", Duration::from_secs(10), async || {
        text_of(&s, "p.error-text[data-for=unit]").await.is_empty()
    })
    .await;
    no_console_errors(&s, "the metric form").await;
    click(&s, "#metric-form button[name=action][value=save]").await;
    wait_until("the definition to be stored", Duration::from_secs(10), async || {
        app.store.metric_definitions().unwrap().iter().any(|d| d.name == "big_lunches")
    })
    .await;

    // A target on it: 14 big lunches in November, for the company. The target form lists the
    // new metric once the server's catalog has picked it up (within a quarter of a second).
    let mut listed = false;
    for _ in 0..50 {
        s.goto(&app.url("/targets/new")).await;
        s.find("select#metric").await;
        if s.try_find("select#metric option[value=big_lunches]").await.is_some() {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed, "the target form never listed big_lunches");
    click(&s, "select#metric option[value=big_lunches]").await;
    click(&s, "select#scope option[value=company]").await;
    click(&s, "select#period option[value=month]").await;
    fill(&s, "input#value", "14").await;
    click(&s, "form[action='/targets'] button[type=submit]").await;
    wait_until("the second target", Duration::from_secs(10), async || {
        app.count(Entity::Targets) == 2
    })
    .await;

    // The dashboard, at Friday 20 November 17:00, worked by hand:
    // - big_lunches counts the lunch services of 60 meals or more: 64 (2 Nov) and 72 (16 Nov),
    //   not 55 (9 Nov), nor the 80 volunteer hours (another kind): 2. Expected 14 × 120/168 =
    //   10, so the pace is 2 / 10 = 20.0%, off track (below 0.75).
    // - event_quantity sums every event's quantity: 64 + 55 + 72 + 80 = 271 of 420, expected
    //   420 × 120/168 = 300; pace 271 / 300 = 90.3%, on track (at 0.9 or above).
    s.goto(&app.url(DASHBOARD)).await;
    s.wait_for("article.tile", Duration::from_secs(20)).await;
    no_console_errors(&s, "the dashboard").await;
    let own = tile(&s, "Big lunches").await;
    assert!(own.contains("of 14 · expected 10 by now"), "{own}");
    assert!(own.lines().any(|l| l.trim() == "2"), "{own}");
    assert!(own.contains("pace 20.0%"), "{own}");
    assert!(own.to_lowercase().contains("off track"), "{own}");
    let impact = tile(&s, "Event quantity").await;
    assert!(impact.contains("of 420 · expected 300 by now"), "{impact}");
    assert!(impact.lines().any(|l| l.trim() == "271"), "{impact}");
    assert!(impact.contains("pace 90.3%"), "{impact}");
    assert!(impact.to_lowercase().contains("on track"), "{impact}");
    // "Your metrics" lists the two chosen in the setup, in their order, above the tiles.
    let chosen = text_of(&s, "#chosen").await;
    let (quantity, revenue) = (chosen.find("Event quantity"), chosen.find("Revenue"));
    assert!(quantity.is_some() && revenue.is_some() && quantity < revenue, "{chosen}");
    s.close().await;
}

/// Issue 20.4 in the browser: the setup's "Load the demo data" (a form with the session's CSRF
/// token, as every form) fills the empty workspace and says what it stored; the dashboard then
/// opens on the demo's figures instead of the setup.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue_20_the_setup_loads_the_demo_data_in_a_real_browser() {
    let Some((driver_path, browser)) = webdriver::available() else { return };
    let app = App::spawn_empty().await;
    let driver = Driver::start(&driver_path).await;
    let s = driver.session(&browser, 1280, 900).await;
    s.goto(&app.url("/setup?step=3")).await;
    fill(&s, "#user", "web-admin").await;
    fill(&s, "#password", PASSWORD).await;
    click(&s, "main form button[type=submit]").await;
    s.wait_for("form[action='/setup/demo'] button", Duration::from_secs(20)).await;
    click(&s, "form[action='/setup/demo'] button").await;
    s.wait_for("main h1", Duration::from_secs(60)).await;
    wait_until("the result page", Duration::from_secs(60), async || {
        text_of(&s, "main h1").await == "Demo data loaded"
    })
    .await;
    no_console_errors(&s, "the demo's result page").await;
    let events = app.count(Entity::Events);
    assert!(events > 1_000, "{events}");
    let page = text_of(&s, "main").await;
    assert!(page.contains("events"), "{page}");
    click(&s, "main a[href='/']").await;
    s.wait_for("article.tile", Duration::from_secs(30)).await;
    assert!(!s.url().await.contains("/setup"), "{}", s.url().await);
    s.close().await;
}
