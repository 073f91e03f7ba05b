//! The monitoring endpoints: channels, alert rules, alerts, history, silences and one's own
//! notifications, with their role checks, manager scopes, bad input and audit.

use reqwest::Method;
use serde_json::{Value as Json, json};
use traction_store::MonitorStore;
use traction_store::monitor::NewNotification;

use crate::helpers::{Answer, T0, TestApp, add_user};

async fn call_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Json>,
) -> Answer {
    let mut req = app.anonymous.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Json::Null) }
}

/// Teams north and south; a manager of north, a rep in north.
async fn org(app: &TestApp) -> (String, String) {
    app.create("teams", json!({"id": "north", "name": "North"})).await;
    app.create("teams", json!({"id": "south", "name": "South"})).await;
    let manager = add_user(&app.store, "m1", "manager", Some("north"));
    let rep = add_user(&app.store, "r1", "rep", Some("north"));
    (manager, rep)
}

#[tokio::test]
async fn channels_rules_and_silences_are_managed_with_role_and_scope_checks() {
    let app = TestApp::spawn().await;
    let (manager, rep) = org(&app).await;
    // An admin adds a signed webhook: the secret is stored, never shown.
    let hook =
        json!({"id": "hook", "webhook": "https://hooks.example.com/x", "secret": "s3cret-value"});
    let created = app.post("/api/v1/channels", &hook).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["config"],
        json!({"kind": "webhook", "url": "https://hooks.example.com/x", "signed": true})
    );
    let listed = app.get("/api/v1/channels").await;
    assert!(!listed.body.to_string().contains("s3cret-value"));
    let audit = app.get("/api/v1/audit?entity=channels").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.body);
    assert!(!audit.body.to_string().contains("s3cret-value"), "{}", audit.body);
    // The same id again is a conflict; a bad URL is refused with what to write.
    app.post("/api/v1/channels", &hook).await.error(409, "conflict");
    let bad = app.post("/api/v1/channels", &json!({"id": "x", "webhook": "mailto:a@b.c"})).await;
    bad.error(422, "invalid_record");
    // A rep reads but does not manage.
    assert_eq!(call_as(&app, &rep, Method::GET, "/api/v1/channels", None).await.status, 200);
    call_as(
        &app,
        &rep,
        Method::POST,
        "/api/v1/channels",
        Some(&json!({"id": "mine", "user": "r1"})),
    )
    .await
    .error(403, "forbidden");
    // A manager manages within their team only.
    let theirs = json!({"id": "north-app", "team": "north"});
    assert_eq!(
        call_as(&app, &manager, Method::POST, "/api/v1/channels", Some(&theirs)).await.status,
        201
    );
    call_as(
        &app,
        &manager,
        Method::POST,
        "/api/v1/channels",
        Some(&json!({"id": "s", "team": "south"})),
    )
    .await
    .error(403, "forbidden");
    let rule = |scope: &str| {
        json!({"id": format!("low-{}", scope.replace(':', "-")), "kind": "threshold", "metric": "revenue_won",
               "scope": scope, "window": "7d", "op": "<", "value": 1000, "channels": ["north-app"]})
    };
    let ok =
        call_as(&app, &manager, Method::POST, "/api/v1/alert-rules", Some(&rule("team:north")))
            .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["condition"], "revenue_won over 7d < 1000");
    call_as(&app, &manager, Method::POST, "/api/v1/alert-rules", Some(&rule("team:south")))
        .await
        .error(403, "forbidden");
    // Bad rules: named problems, nothing stored.
    let anomaly = json!({"id": "a", "kind": "anomaly", "metric": "win_rate", "channels": ["hook"]});
    let refused = app.post("/api/v1/alert-rules", &anomaly).await;
    refused.error(422, "invalid_record");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("a count or a sum"));
    let unknown = json!({"id": "u", "kind": "threshold", "metric": "nope", "op": "<", "value": 1, "channels": ["hook"]});
    app.post("/api/v1/alert-rules", &unknown).await.error(422, "invalid_record");
    let no_channel = json!({"id": "c", "kind": "lead_sla", "minutes": 60, "channels": ["nope"]});
    app.post("/api/v1/alert-rules", &no_channel).await.error(422, "invalid_record");
    let typo =
        json!({"id": "t", "kind": "lead_sla", "minutes": 60, "channels": ["hook"], "minuts": 5});
    app.post("/api/v1/alert-rules", &typo).await.error(400, "bad_request");
    let rules = app.get("/api/v1/alert-rules").await;
    assert_eq!(rules.body["items"].as_array().unwrap().len(), 1, "{}", rules.body);
    // Silences on one's own rule; alerts and history read by everyone.
    let silence =
        json!({"rule": "low-team-north", "until": "2026-03-03T09:00:00Z", "comment": "offsite"});
    let s = call_as(&app, &manager, Method::POST, "/api/v1/silences", Some(&silence)).await;
    assert_eq!(s.status, 201, "{}", s.body);
    assert_eq!(s.body["id"], "s-1");
    let backwards = json!({"rule": "low-team-north", "until": "2026-03-01T09:00:00Z"});
    app.post("/api/v1/silences", &backwards).await.error(422, "invalid_record");
    for path in ["/api/v1/alerts", "/api/v1/alert-history", "/api/v1/silences"] {
        assert_eq!(call_as(&app, &rep, Method::GET, path, None).await.status, 200, "{path}");
    }
    app.get("/api/v1/alerts?state=burning").await.error(400, "bad_request");
    // A channel in use cannot go; the rule first.
    app.delete("/api/v1/channels/north-app").await.error(409, "conflict");
    assert_eq!(app.delete("/api/v1/alert-rules/low-team-north").await.status, 204);
    assert_eq!(app.delete("/api/v1/channels/north-app").await.status, 204);
}

#[tokio::test]
async fn everyone_reads_and_marks_their_own_notifications_only() {
    let app = TestApp::spawn().await;
    let (manager, rep) = org(&app).await;
    let note = |user: &str, text: &str| NewNotification {
        kind: "alert".into(),
        rule_id: Some("pace".into()),
        key: Some("t-1".into()),
        state: Some("firing".into()),
        at: T0,
        channel_id: None,
        user_id: Some(user.into()),
        body: json!({"text": text}).to_string(),
        text: text.into(),
    };
    let ids = app
        .store
        .add_notifications(&[note("r1", "one"), note("r1", "two"), note("m1", "three")], T0)
        .unwrap();
    let mine = call_as(&app, &rep, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["unread"], 2);
    let texts: Vec<&str> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["two", "one"]);
    let path = format!("/api/v1/notifications/{}/read", ids[0]);
    assert_eq!(call_as(&app, &rep, Method::POST, &path, None).await.status, 204);
    let unread = call_as(&app, &rep, Method::GET, "/api/v1/notifications?unread=true", None).await;
    assert_eq!(unread.body["unread"], 1);
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 1);
    // Someone else's notification is as if it did not exist.
    let theirs = format!("/api/v1/notifications/{}/read", ids[2]);
    call_as(&app, &rep, Method::POST, &theirs, None).await.error(404, "not_found");
    let manager_list = call_as(&app, &manager, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(manager_list.body["unread"], 1);
    call_as(&app, &rep, Method::POST, "/api/v1/notifications/abc/read", None)
        .await
        .error(400, "bad_request");
}
