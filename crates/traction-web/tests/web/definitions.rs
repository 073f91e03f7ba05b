//! The metric form (issue 20, point 2): a definition typed in its fields, checked by the one
//! checker with each problem at its field (the script's check and the plain post alike), previewed
//! on stored events, saved, then refused when a target uses it.

use serde_json::{Value, json};

use crate::app::App;
use crate::pages::post_form;

/// The fields of `big_lunches`: lunch services of 60 meals or more.
fn fields<'a>(unit: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "big_lunches"),
        ("label", "Big lunches"),
        ("kind", "aggregate"),
        ("source", "events"),
        ("time", "occurred_at"),
        ("measure", "count"),
        ("filter", "kind = 'web_lunch' and quantity >= 60"),
        ("unit", unit),
        ("better", "higher"),
        ("description", "Lunch services of 60 meals or more."),
        ("action", action),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_is_checked_at_its_fields_previewed_saved_and_guarded() {
    let app = App::spawn().await;
    let api = app.api();
    // Four lunches of a kind of their own: 70 and 80 meals in the week of 16 November, 50 (too
    // small) that week too, 65 on Monday 23 November (the clock's day) at 10:00 UTC.
    for (id, at, q) in [
        ("wl1", "2026-11-16T11:00:00Z", 70),
        ("wl2", "2026-11-17T11:00:00Z", 50),
        ("wl3", "2026-11-18T11:00:00Z", 80),
        ("wl4", "2026-11-23T10:00:00Z", 65),
    ] {
        let r = api
            .post(app.url("/api/v1/events"))
            .json(&json!({"id": id, "kind": "web_lunch", "occurred_at": at, "quantity": q,
                          "owner_id": "web-admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let page = api.get(app.url("/metrics/new")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("name=\"filter\"") && page.contains("data-check=\"/metrics/check\""));

    // As the script checks while typing: a unit that is not one, at the unit field.
    let r = post_form(&app, "/metrics/check", &fields("lunches", "")).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{answer}");
    assert_eq!(problems[0]["field"], "unit");
    assert!(problems[0]["problem"].as_str().unwrap().contains("lunches"));
    // A filter on a field events do not have, and a bad unit: both, each at its field.
    let mut bad = fields("lunches", "");
    bad[6] = ("filter", "meals >= 60");
    let answer: Value = post_form(&app, "/metrics/check", &bad).await.json().await.unwrap();
    let at: Vec<&str> = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(at.contains(&"unit") && at.contains(&"filter"), "{answer}");

    // Without the script: saving shows the problem at its field, keeps the input, stores nothing.
    let r = post_form(&app, "/metrics", &fields("lunches", "save")).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("value=\"kind = &#39;web_lunch&#39; and quantity &gt;= 60\"")
            || body.contains("value=\"kind = 'web_lunch' and quantity &gt;= 60\""),
        "the filter typed is kept"
    );
    let unit_error = body.split("data-for=\"unit\">").nth(1).unwrap();
    assert!(unit_error.starts_with("unit") || unit_error.contains("lunches"), "at the unit field");
    assert!(app.store.metric_definitions().unwrap().is_empty());

    // A good one: the preview by week counts the big lunches — 70 and 80 in the week of 16
    // November (2), 65 in the week of 23 November (1).
    let answer: Value =
        post_form(&app, "/metrics/check", &fields("count", "")).await.json().await.unwrap();
    assert_eq!(answer["problems"], json!([]));
    let preview = answer["preview"].as_str().unwrap();
    // Weeks without a big lunch have no row.
    let rows: Vec<Vec<&str>> = preview
        .split("<tr><td>")
        .skip(1)
        .map(|row| row.split("</td>").map(|c| c.rsplit('>').next().unwrap()).take(2).collect())
        .collect();
    assert_eq!(rows, vec![vec!["2026-11-16", "2"], vec!["2026-11-23", "1"]], "{preview}");
    // "Check and preview" without the script shows the same and stores nothing.
    let r = post_form(&app, "/metrics", &fields("count", "check")).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("By week"));
    assert!(app.store.metric_definitions().unwrap().is_empty());

    // Saved: stored, audited as the caller, and a metric the API knows at once.
    let r = post_form(&app, "/metrics", &fields("count", "save")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let stored = app.store.metric_definitions().unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].definition.contains("filter = \"kind = 'web_lunch' and quantity >= 60\""));
    let list = api.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("big_lunches") && list.contains("/metrics/big_lunches/edit"));
    // A second "new" one of the same name is refused at the name.
    let r = post_form(&app, "/metrics", &fields("count", "save")).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .split("data-for=\"name\">")
            .nth(1)
            .unwrap()
            .contains("already have")
    );

    // The edit form holds the stored definition; once a target uses it, a change is refused
    // with the target named, and so is deleting it.
    let edit = api.get(app.url("/metrics/big_lunches/edit")).send().await.unwrap();
    assert_eq!(edit.status(), 200);
    assert!(edit.text().await.unwrap().contains("value=\"Big lunches\""));
    let r = api
        .post(app.url("/api/v1/targets"))
        .json(&json!({"id": "t-lunch", "metric": "big_lunches", "scope": "user:web-admin",
                      "period": "month", "starts_on": "2026-11-01", "value": "10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let mut changed = fields("count", "save");
    changed[1] = ("label", "Large lunches");
    changed.push(("editing", "big_lunches"));
    let r = post_form(&app, "/metrics", &changed).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("used by target t-lunch"));
    let r = post_form(&app, "/metrics/big_lunches/delete", &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("used by target t-lunch"));
    assert_eq!(app.store.metric_definitions().unwrap()[0].definition, stored[0].definition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_managers_and_admins_define_metrics() {
    let app = App::spawn().await;
    crate::app::add_user(&*app.store, "def-rep", "Rae Rep", "rep", None);
    let actor = traction_store::Actor { user: "cli".into(), at: Some(crate::app::NOW) };
    let (_, token) = traction_server::auth::api::issue_token(
        app.store.as_ref(),
        "def-rep",
        "tests",
        crate::app::NOW,
        &actor,
    )
    .unwrap();
    let rep = reqwest::Client::new();
    for (method, path) in
        [("GET", "/metrics/new"), ("POST", "/metrics"), ("POST", "/metrics/check")]
    {
        let r = rep
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=x&unit=count")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method} {path}");
    }
    // Everyone reads the list.
    let r = rep.get(app.url("/metrics")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("/metrics/new"));
}
