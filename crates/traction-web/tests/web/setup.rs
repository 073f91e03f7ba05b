//! Issue 20.4, "start small": an empty workspace opens a short setup instead of an empty
//! dashboard; the choices are workspace settings, the first target goes through the target
//! checks, and the dashboard then shows the chosen metrics first with the target's pace.

use traction_domain::Entity;
use traction_domain::settings::Key;

use crate::app::App;
use crate::pages::post_form;

/// The dashboard for November 2026 as of the tests' clock, Monday 23 November 2026 15:00 UTC.
const DASHBOARD: &str = "/?period=month&at=2026-11-23T15:00:00Z";

fn setting(app: &App, key: Key) -> String {
    app.store.setting(key, None).unwrap().value
}

async fn get(app: &App, path: &str) -> reqwest::Response {
    app.api().get(app.url(path)).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_the_setup_walks_an_empty_workspace_to_a_dashboard_with_a_target() {
    let app = App::spawn_empty().await;
    // The dashboard of an empty workspace sends the admin to the setup.
    let r = get(&app, "/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/setup");
    let page = get(&app, "/setup").await.text().await.unwrap();
    assert!(page.contains(r#"name="timezone""#) && page.contains("social_enterprise"), "{page}");

    // Step 1: a bad zone and a missing kind of business are refused, nothing is saved.
    let r = post_form(&app, "/setup", &[("timezone", "Mars/Base"), ("currency", "GBP")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("choose the kind of business"), "{page}");
    assert!(page.contains("Mars/Base"), "{page}");
    assert_eq!(setting(&app, Key::Timezone), "UTC");
    assert_eq!(setting(&app, Key::Currency), "USD");
    let r = post_form(
        &app,
        "/setup",
        &[("timezone", "Europe/London"), ("currency", "gbp"), ("business", "social_enterprise")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/setup?step=2");
    assert_eq!(setting(&app, Key::Timezone), "Europe/London");
    assert_eq!(setting(&app, Key::Currency), "GBP");
    assert_eq!(setting(&app, Key::Business), "social_enterprise");

    // Step 2 suggests the social enterprise's five metrics, event-based ones among them.
    let page = get(&app, "/setup?step=2").await.text().await.unwrap();
    assert_eq!(page.matches(r#"type="checkbox" name="metrics""#).count(), 5, "{page}");
    for metric in ["event_quantity", "event_count", "revenue", "costs", "net_cash_flow"] {
        assert!(page.contains(&format!(r#"value="{metric}""#)), "{metric}: {page}");
    }
    // Nothing ticked, an unknown metric, or a target the target checks refuse: nothing stored.
    let target = |metrics: &[&'static str], value: &'static str| {
        let mut fields: Vec<(&str, &str)> = metrics.iter().map(|m| ("metrics", *m)).collect();
        fields.extend([
            ("target_metric", "revenue"),
            ("period", "month"),
            ("starts_on", "2026-11-01"),
            ("value", value),
        ]);
        fields
    };
    for (fields, expect) in [
        (target(&[], "1000"), "tick at least one metric to follow"),
        (target(&["meals_served"], "1000"), "&quot;meals_served&quot; is not a metric"),
        (target(&["revenue"], "-5"), "must be above 0"),
        (target(&["revenue"], "1000.125"), "more decimals than GBP has (2)"),
    ] {
        let r = post_form(&app, "/setup/goals", &fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(expect), "{expect}: {page}");
    }
    assert_eq!(app.count(Entity::Targets), 0);
    assert_eq!(setting(&app, Key::DashboardMetrics), "");
    let r = post_form(&app, "/setup/goals", &target(&["event_count", "revenue"], "1000")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/setup?step=3");
    assert_eq!(setting(&app, Key::DashboardMetrics), "event_count,revenue");
    assert_eq!(app.count(Entity::Targets), 1);
    let mut stored = Vec::new();
    app.store
        .scan(Entity::Targets, &mut |t| {
            stored.push((
                t.get("metric").as_text().unwrap().to_string(),
                t.get("scope").as_text().unwrap().to_string(),
                t.get("period").as_text().unwrap().to_string(),
            ));
            Ok(())
        })
        .unwrap();
    assert_eq!(stored, [("revenue".to_string(), "company".to_string(), "month".to_string())]);

    // Step 3: the ways in, the demo data offered while nothing but the target is stored.
    let page = get(&app, "/setup?step=3").await.text().await.unwrap();
    for link in [r#"href="/import""#, r#"href="/records/events/new""#, "traction demo"] {
        assert!(page.contains(link), "{link}: {page}");
    }

    // A second target, on a metric not chosen.
    let r = post_form(
        &app,
        "/targets",
        &[("metric", "orders"), ("scope", "company"), ("period", "month")]
            .into_iter()
            .chain([("starts_on", "2026-11-01"), ("value", "40")])
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(r.status(), 303);
    // The dashboard now opens, with the pace worked by hand:
    // the calendar split spreads a target uniformly over working time (Mon–Fri 09:00–17:00).
    // November 2026 (the 1st is a Sunday) has 21 working days, 168 hours; by Monday 23 November
    // 15:00 London (UTC+0) the 15 days of 2–20 November and 6 hours of the 23rd have passed,
    // 126 hours: 1,000 × 126 / 168 = £750.00 expected, of which nothing has come in; the
    // orders target expects 40 × 0.75 = 30.
    // (The instant is given, `at`, so the page is this test's own in the dashboard's cache,
    // which other tests' servers in this process share.)
    let r = get(&app, DASHBOARD).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let revenue = page.find("Revenue · ").expect("a revenue tile");
    let orders = page.find("Orders · ").expect("an orders tile");
    assert!(revenue < orders, "{page}");
    assert!(page.contains("£0.00 of target £1,000, expected £750.00 by now"), "{page}");
    assert!(page.contains("0 of target 40, expected 30 by now"), "{page}");
    // Above the tiles, "Your metrics" lists the chosen ones in their order, targeted or not:
    // no event and no order yet, so 0 events and £0.00.
    let card = page.find(r#"id="chosen""#).expect("the chosen metrics' card");
    let events = page.find(r#"data-metric="event_count""#).expect("event_count's row");
    let revenue_row = page.find(r#"data-metric="revenue""#).expect("revenue's row");
    assert!(card < events && events < revenue_row && revenue_row < revenue, "{page}");
    let row = |at: usize| &page[at..at + page[at..].find("</tr>").unwrap()];
    assert!(row(events).contains(">0<") && row(events).contains("Set a target"), "{page}");
    assert!(row(revenue_row).contains("£0.00") && row(revenue_row).contains("tile below"));

    // Changeable later: the Settings page shows the choices and checks the metric names.
    let page = get(&app, "/settings").await.text().await.unwrap();
    assert!(page.contains(r#"value="event_count,revenue""#), "{page}");
    let r = post_form(&app, "/settings", &[("dashboard_metrics", "revenue,nope")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(setting(&app, Key::DashboardMetrics), "event_count,revenue");
    // Choosing orders before revenue there puts the orders tile first, though its target was
    // set after the revenue one (the report's own order).
    let r = post_form(&app, "/settings", &[("dashboard_metrics", "Orders, revenue")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(setting(&app, Key::DashboardMetrics), "orders,revenue");
    let page = get(&app, DASHBOARD).await.text().await.unwrap();
    let revenue = page.find("Revenue · ").expect("a revenue tile");
    let orders = page.find("Orders · ").expect("an orders tile");
    assert!(orders < revenue, "{page}");
}

/// Anyone but an admin sees a sentence instead of the setup, and may not run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_a_rep_on_an_empty_workspace_is_told_an_admin_sets_it_up() {
    let app = App::spawn_empty().await;
    crate::app::add_user(&*app.store, "rep-1", "Rita Rep", "rep", None);
    let actor = traction_store::Actor { user: "cli".into(), at: Some(crate::app::NOW) };
    let (_, token) = traction_server::auth::api::issue_token(
        &*app.store,
        "rep-1",
        "tests",
        crate::app::NOW,
        &actor,
    )
    .unwrap();
    let rep =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = rep.get(app.url("/")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("an admin chooses the time zone"), "{page}");
    let r = rep.get(app.url("/setup")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(setting(&app, Key::Business), "");
}

/// Step 3's third way in: the demo data, loaded by an admin into an empty workspace (the setup's
/// target aside), once, audited as one row, with the zone and currency of step 1 kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_the_setup_loads_the_demo_data_into_an_empty_workspace() {
    let app = App::spawn_empty().await;
    let r = post_form(
        &app,
        "/setup",
        &[("timezone", "Europe/Paris"), ("currency", "EUR"), ("business", "social_enterprise")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        "/setup/goals",
        &[("metrics", "event_quantity"), ("metrics", "revenue"), ("value", "")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = get(&app, "/setup?step=3").await.text().await.unwrap();
    assert!(page.contains(r#"action="/setup/demo""#), "{page}");

    // Anyone but an admin is refused, and nothing is stored.
    crate::app::add_user(&*app.store, "rep-1", "Rita Rep", "rep", None);
    let actor = traction_store::Actor { user: "cli".into(), at: Some(crate::app::NOW) };
    let (_, rep_token) = traction_server::auth::api::issue_token(
        &*app.store,
        "rep-1",
        "tests",
        crate::app::NOW,
        &actor,
    )
    .unwrap();
    let r = reqwest::Client::new()
        .post(app.url("/setup/demo"))
        .bearer_auth(&rep_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count(Entity::Events), 0);

    let r = post_form(&app, "/setup/demo", &[]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Demo data loaded"), "{page}");
    // The page counts what was stored: the kitchen's events among the rest.
    let events = app.count(Entity::Events);
    assert!(events > 1_000, "{events}");
    let events_row = format!("<td>events</td><td class=\"num\">{}</td>", fmt_count(events));
    assert!(page.contains(&events_row), "{events_row}: {page}");
    assert!(app.count(Entity::Deals) > 100 && app.count(Entity::Orders) > 1_000);
    assert!(page.contains("your metrics (event_quantity, revenue) first"), "{page}");
    // Step 1's choices stay (the command line's demo would set Europe/London and GBP).
    assert_eq!(setting(&app, Key::Timezone), "Europe/Paris");
    assert_eq!(setting(&app, Key::Currency), "EUR");
    // One audit row by the admin, not one per generated row.
    let log = app
        .store
        .audit_log(&traction_store::AuditQuery { limit: 1_000, ..Default::default() })
        .unwrap();
    let demo: Vec<_> = log.iter().filter(|e| e.action == "demo.generate").collect();
    assert_eq!(demo.len(), 1, "{log:?}");
    assert_eq!(demo[0].actor, "web-admin");
    assert!(log.len() < 50, "{}", log.len());

    // Once is enough: a second load is refused and changes nothing, and step 3 no longer offers it.
    let r = post_form(&app, "/setup/demo", &[]).await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(page.contains("goes only into an empty workspace"), "{page}");
    assert_eq!(app.count(Entity::Events), events);
    let page = get(&app, "/setup?step=3").await.text().await.unwrap();
    assert!(!page.contains(r#"action="/setup/demo""#), "{page}");

    // The dashboard opens (no setup) with the chosen metrics first, the demo's figures in them.
    let r = get(&app, "/?period=month&at=2026-11-23T14:30:00Z").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let card = page.find(r#"id="chosen""#).expect("the chosen metrics' card");
    let quantity = page.find(r#"data-metric="event_quantity""#).expect("event_quantity's row");
    let revenue = page.find(r#"data-metric="revenue""#).expect("revenue's row");
    assert!(card < quantity && quantity < revenue, "{page}");
}

/// 12345 → "12,345", as the pages write counts (English locale).
fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, c) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
