//! The Alerts page, its forms, the notification list behind the bell, and the dashboard's mark
//! on a KPI whose alert fires (monitoring.md; issue 15 point 4), over HTTP.

use serde_json::json;

use crate::app::{App, NOW, add_user};
use crate::pages::post_form;

/// Evaluates every rule at `at`, as the server's evaluator does each minute.
pub(crate) fn evaluate(app: &App, at: i64) -> traction_monitor::eval::Outcome {
    let catalog = traction_metrics::Catalog::builtin();
    let engine = traction_kpi::engine::Engine { store: &*app.store, catalog: &catalog };
    let kpis = traction_kpi::service::Kpis { store: app.store.as_ref(), metrics: &engine };
    let context = traction_monitor::eval::Context {
        monitor: app.store.as_ref(),
        data: app.store.as_ref(),
        kpis: &kpis,
    };
    traction_monitor::eval::evaluate(&context, at, at).unwrap()
}

/// A client with a bearer token of a new user of `role`.
fn client_of(app: &App, id: &str, role: &str) -> reqwest::Client {
    add_user(&*app.store, id, id, role, None);
    let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
    let (_, token) =
        traction_server::auth::api::issue_token(&*app.store, id, "tests", NOW, &actor).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn text(client: &reqwest::Client, app: &App, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The error shown under a form's field `name`.
fn field_error(page: &str, name: &str) -> String {
    let marker = format!("data-for=\"{name}\">");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no field {name} in {page}"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find("</p>").unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_page_makes_rules_and_schedules_silences_and_marks_what_fires() {
    let app = App::spawn().await;
    let api = app.api();
    // An in-app channel to the admin, and a target no one can meet: the admin sells nothing,
    // so on 23 November their November revenue (0) is off track.
    let r = api
        .post(app.url("/api/v1/channels"))
        .json(&json!({"id": "me", "user": "web-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = api
        .post(app.url("/api/v1/targets"))
        .json(&json!({"id": "t-admin", "metric": "revenue_won", "scope": "user:web-admin",
                      "period": "month", "starts_on": "2026-11-01", "value": "100000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    for page in ["/alerts", "/alerts/rules/new", "/alerts/schedules/new", "/notifications"] {
        let (status, body) = text(&api, &app, page).await;
        assert_eq!(status, 200, "{page}: {body}");
        assert!(!body.contains(" style=\""), "{page} has an inline style");
    }
    // Bad input: each problem at its field, nothing stored.
    let rule = |extra: &[(&'static str, &'static str)]| {
        let mut fields =
            vec![("id", "pace"), ("kind", "kpi"), ("target", "t-admin"), ("channels", "me")];
        fields.extend_from_slice(extra);
        fields
    };
    for (fields, field, words) in [
        (rule(&[("for", "2 hours")]), "for", "not a duration"),
        (
            vec![("id", "pace"), ("kind", "kpi"), ("target", "t-nope"), ("channels", "me")],
            "target",
            "no such target",
        ),
        (
            vec![
                ("id", "big"),
                ("kind", "threshold"),
                ("metric", "nope"),
                ("op", "<"),
                ("value", "1"),
                ("channels", "me"),
            ],
            "metric",
            "not a metric",
        ),
        (
            vec![
                ("id", "big"),
                ("kind", "threshold"),
                ("metric", "revenue_won"),
                ("by", "colour"),
                ("op", "<"),
                ("value", "1"),
                ("channels", "me"),
            ],
            "by",
            "the dimensions that do are",
        ),
        (
            vec![
                ("id", "big"),
                ("kind", "threshold"),
                ("metric", "revenue_won"),
                ("scope", "team:nowhere"),
                ("op", "<"),
                ("value", "1"),
                ("channels", "me"),
            ],
            "scope",
            "does not exist",
        ),
        (
            vec![("id", "pace"), ("kind", "kpi"), ("target", "t-admin"), ("channels", "nope")],
            "channels",
            "no such channel",
        ),
    ] {
        let r = post_form(&app, "/alerts/rules", &fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let page = r.text().await.unwrap();
        let shown = field_error(&page, field);
        assert!(shown.contains(words), "{field}: {shown:?} should say {words:?}");
    }
    assert!(app.store.rules().unwrap().is_empty(), "nothing half-created");
    // A good rule, then an edit of it (a `for` added): stored, the page lists it.
    let r = post_form(&app, "/alerts/rules", &rule(&[])).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let mut edit = rule(&[("editing", "1"), ("for", "0m")]);
    edit.retain(|(k, _)| *k != "kind");
    edit.push(("kind", "kpi"));
    let r = post_form(&app, "/alerts/rules", &edit).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, edit_page) = text(&api, &app, "/alerts/rules/pace/edit").await;
    assert!(edit_page.contains("value=\"t-admin\""), "{edit_page}");
    // A schedule from its form; a bad time is shown at its field.
    let schedule = [("id", "daily"), ("every", "day"), ("time", "25:00"), ("channels", "me")];
    let r = post_form(&app, "/alerts/schedules", &schedule).await;
    assert_eq!(r.status(), 422);
    assert!(field_error(&r.text().await.unwrap(), "time").contains("HH:MM"));
    let schedule = [("id", "daily"), ("every", "day"), ("time", "08:00"), ("channels", "me")];
    assert_eq!(post_form(&app, "/alerts/schedules", &schedule).await.status(), 303);
    assert_eq!(app.store.schedules().unwrap().len(), 1);

    // The evaluator fires the rule: the page shows it under Firing now with a Silence form, the
    // dashboard marks the KPI, and the bell counts one.
    let outcome = evaluate(&app, NOW + 300_000_000);
    assert_eq!(outcome.changes.len(), 1, "{outcome:?}");
    let (_, alerts) = text(&api, &app, "/alerts").await;
    assert!(alerts.contains("id=\"alert-pace-t-admin\""), "{alerts}");
    assert!(alerts.contains("action=\"/alerts/silences\""));
    let (_, dashboard) = text(&api, &app, "/?scope=user:web-admin").await;
    let mark = dashboard.find("Alert firing").expect("the KPI is marked");
    let tile = dashboard.find("id=\"kpi-t-admin\"").unwrap();
    assert!(mark < tile && tile - mark < 200, "the mark sits on the tile");
    let (_, company) = text(&api, &app, "/?scope=company").await;
    assert!(!company.contains("Alert firing"), "the company's tiles fire nothing");
    let (_, list) = text(&api, &app, "/notifications").await;
    assert!(list.contains("class=\"count\" id=\"bell-count\">1<"), "{list}");
    assert!(list.contains("[FIRING] pace"), "{list}");
    // Silencing it from the page.
    let r = post_form(
        &app,
        "/alerts/silences",
        &[("rule", "pace"), ("key", "t-admin"), ("hours", "4")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let silences = app.store.silences().unwrap();
    assert_eq!(
        (silences.len(), silences[0].ends_at - silences[0].starts_at),
        (1, 4 * 3_600_000_000)
    );
    // Reading it: the bell falls to none.
    let id = app
        .store
        .notifications(&traction_store::monitor::NotificationQuery {
            user_id: Some("web-admin".into()),
            unread_only: true,
            channel_id: None,
            limit: 10,
        })
        .unwrap()[0]
        .id;
    let r = post_form(&app, &format!("/notifications/{id}/read"), &[]).await;
    assert_eq!(r.status(), 303);
    let (_, list) = text(&api, &app, "/notifications").await;
    assert!(list.contains("class=\"count\" id=\"bell-count\" hidden>0<"), "{list}");
    let (_, count) = text(&api, &app, "/notifications/count").await;
    assert_eq!(count, "{\"unread\":0}");
    assert_eq!(post_form(&app, "/notifications/999999/read", &[]).await.status(), 404);

    // A rep sees the page without forms and may not post them; a viewer likewise.
    for (id, role) in [("rita", "rep"), ("vera", "viewer")] {
        let client = client_of(&app, id, role);
        let (status, page) = text(&client, &app, "/alerts").await;
        assert_eq!(status, 200);
        assert!(
            !page.contains("New rule") && !page.contains("action=\"/alerts/silences\""),
            "{role}"
        );
        // The firing alert is the admin's target: a rep does not see it as theirs.
        if role == "rep" {
            assert!(!page.contains("id=\"alert-pace-t-admin\""), "{page}");
        }
        let r = client
            .post(app.url("/alerts/rules"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("id=x&kind=kpi&target=t-admin&channels=me")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role}");
    }
    assert_eq!(app.store.rules().unwrap().len(), 1);
}
