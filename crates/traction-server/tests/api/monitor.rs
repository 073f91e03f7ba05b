//! The monitoring endpoints: channels, alert rules, alerts, history, silences and one's own
//! notifications, with their role checks, manager scopes, bad input and audit.

use reqwest::Method;
use serde_json::{Value as Json, json};
use traction_store::monitor::NewNotification;

use crate::helpers::{Answer, HOUR, T0, TestApp, add_user};

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
    let manager = add_user(&*app.store, "m1", "manager", Some("north"));
    let rep = add_user(&*app.store, "r1", "rep", Some("north"));
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
    // The refusal names the body field at fault, as the monitor crate types it.
    assert_eq!(bad.body["error"]["details"][0]["field"], "webhook", "{:#}", bad.body);
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
    assert_eq!(refused.body["error"]["details"][0]["field"], "metric", "{:#}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("a count or a sum"));
    let unknown = json!({"id": "u", "kind": "threshold", "metric": "nope", "op": "<", "value": 1, "channels": ["hook"]});
    let unknown = app.post("/api/v1/alert-rules", &unknown).await;
    unknown.error(422, "invalid_record");
    assert_eq!(unknown.body["error"]["details"][0]["field"], "metric", "{:#}", unknown.body);
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

/// Runs the schedules due at or before `at` as the server does (every one due), with a report
/// that names its range, so the test sees which were sent, refused or missed.
fn run_schedules(app: &TestApp, at: i64) -> traction_monitor::schedule::RunOutcome {
    use traction_monitor::schedule::{ReportContent, RunContext, run};
    let catalog = traction_metrics::Catalog::builtin();
    let engine = traction_kpi::engine::Engine { store: &*app.store, catalog: &catalog };
    let kpis = traction_kpi::service::Kpis { store: app.store.as_ref(), metrics: &engine };
    let org = kpis.org().unwrap();
    let calendar = |team: Option<&str>| kpis.calendar(team).map_err(traction_monitor::Error::from);
    let report = |_: &traction_store::monitor::Schedule,
                  from: jiff::civil::Date,
                  to: jiff::civil::Date,
                  _: i64| {
        Ok(ReportContent {
            json: json!({"from": from.to_string(), "to": to.to_string()}),
            text: "# Report".into(),
            html: String::new(),
            csv: String::new(),
        })
    };
    let context =
        RunContext { monitor: app.store.as_ref(), org: &org, calendar: &calendar, report: &report };
    run(&context, at, at, false).unwrap()
}

#[tokio::test]
async fn schedules_are_managed_in_the_api_and_reports_keep_their_makers_rights() {
    let app = TestApp::spawn().await;
    let (manager, rep) = org(&app).await;
    // T0 is Monday 2 March 2026, 09:00 UTC (the workspace zone): schedules made now.
    let north_app = json!({"id": "north-app", "team": "north"});
    assert_eq!(app.post("/api/v1/channels", &north_app).await.status, 201);
    // Bad input: each refused naming the problem, nothing stored.
    for (body, words) in [
        (
            json!({"id": "d", "every": "hourly", "time": "08:00", "channels": ["north-app"]}),
            "day, week or month",
        ),
        (json!({"id": "d", "every": "day", "time": "25:00", "channels": ["north-app"]}), "HH:MM"),
        (json!({"id": "d", "every": "day", "time": "08:00", "channels": ["nope"]}), "nope"),
        (json!({"id": "d", "every": "day", "time": "08:00", "channels": []}), "--channel"),
        (
            json!({"id": "d", "every": "day", "time": "08:00", "scope": "team:nowhere", "channels": ["north-app"]}),
            "team:nowhere",
        ),
        (
            json!({"id": "d", "every": "day", "time": "08:00", "scope": "region:x", "channels": ["north-app"]}),
            "scope",
        ),
    ] {
        let answer = app.post("/api/v1/schedules", &body).await;
        let details = answer.error(422, "invalid_record");
        let message = answer.body.to_string();
        assert!(message.contains(words), "{words}: {message} {details:?}");
    }
    let unknown_field = json!({"id": "d", "every": "day", "time": "08:00", "channels": ["north-app"], "owner": "x"});
    app.post("/api/v1/schedules", &unknown_field).await.error(400, "bad_request");
    assert_eq!(app.get("/api/v1/schedules").await.body["items"], json!([]));
    // Role checks: a rep reads but does not manage; a manager only their own teams.
    let daily = json!({"id": "north-daily", "every": "day", "time": "08:00", "scope": "team:north",
                       "channels": ["north-app"]});
    call_as(&app, &rep, Method::POST, "/api/v1/schedules", Some(&daily))
        .await
        .error(403, "forbidden");
    for scope in ["team:south", "company"] {
        let mut other = daily.clone();
        other["scope"] = json!(scope);
        call_as(&app, &manager, Method::POST, "/api/v1/schedules", Some(&other))
            .await
            .error(403, "forbidden");
    }
    let created = call_as(&app, &manager, Method::POST, "/api/v1/schedules", Some(&daily)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["created_by"], "m1");
    assert_eq!(created.body["problem"], Json::Null);
    assert_eq!(call_as(&app, &rep, Method::GET, "/api/v1/schedules", None).await.status, 200);
    // An update: the time changes, the maker stays; audited with before and after.
    let patch = json!({"time": "07:30"});
    let updated =
        call_as(&app, &manager, Method::PATCH, "/api/v1/schedules/north-daily", Some(&patch)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        (updated.body["time"].as_str(), updated.body["created_by"].as_str()),
        (Some("07:30"), Some("m1"))
    );
    let audit = app.get("/api/v1/audit?entity=schedules").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "create"], "{}", audit.body);
    call_as(&app, &rep, Method::PATCH, "/api/v1/schedules/north-daily", Some(&patch))
        .await
        .error(403, "forbidden");
    app.patch("/api/v1/schedules/nope", &patch).await.error(404, "not_found");
    // Tuesday 3 March 07:30: the report of Monday goes to the two people of north.
    let tuesday = T0 + 24 * HOUR - 90 * 60 * 1_000_000;
    let outcome = run_schedules(&app, tuesday);
    assert_eq!(outcome.sent.len(), 1, "{outcome:?}");
    assert_eq!(outcome.sent[0].1.from.to_string(), "2026-03-02");
    let m1_notes = call_as(&app, &manager, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(m1_notes.body["unread"], 1, "{}", m1_notes.body);
    // The month to date of a daily report: 1 March through Monday 2 March.
    let body = &m1_notes.body["items"][0]["body"];
    assert_eq!(body["month_to_date"]["from"], "2026-03-01", "{body}");
    assert_eq!(body["month_to_date"]["to"], "2026-03-03", "{body}");
    // The manager moves to south: the north report would show more than they may read, so it
    // is not sent; the schedule says why, and the manager is told in the app.
    let moved = app.patch("/api/v1/users/m1", &json!({"team_id": "south"})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let listed = app.get("/api/v1/schedules").await;
    let problem = listed.body["items"][0]["problem"].as_str().unwrap_or("").to_string();
    assert!(problem.contains("may not read team:north"), "{}", listed.body);
    let wednesday = tuesday + 24 * HOUR;
    let outcome = run_schedules(&app, wednesday);
    assert_eq!((outcome.sent.len(), outcome.refused.len()), (0, 1), "{outcome:?}");
    let r1_notes = call_as(&app, &rep, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(r1_notes.body["unread"], 1, "the rep got Monday's report only: {}", r1_notes.body);
    let m1_notes = call_as(&app, &manager, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(m1_notes.body["unread"], 2, "{}", m1_notes.body);
    let note = m1_notes.body["items"][0]["text"].as_str().unwrap();
    assert!(note.contains("was not sent") && note.contains("team:north"), "{note}");
    let listed = app.get("/api/v1/schedules").await;
    assert_eq!(listed.body["items"][0]["last_run"]["status"], "refused");
    // Sending now is refused for the same reason.
    app.post("/api/v1/schedules/north-daily/run", &json!({})).await.error(422, "invalid_record");
    // Back in north but disabled: still not sent.
    app.patch("/api/v1/users/m1", &json!({"team_id": "north", "active": false})).await;
    let thursday = wednesday + 24 * HOUR;
    let outcome = run_schedules(&app, thursday);
    assert_eq!(outcome.refused.len(), 1, "{outcome:?}");
    assert!(outcome.refused[0].2.contains("disabled"), "{outcome:?}");
    // Enabled again (disabling ended their sign-ins, so an admin acts below): Friday's report
    // (covering Thursday) goes, and sending now works.
    app.patch("/api/v1/users/m1", &json!({"active": true})).await;
    let outcome = run_schedules(&app, thursday + 24 * HOUR);
    assert_eq!(outcome.sent.len(), 1, "{outcome:?}");
    assert_eq!(outcome.sent[0].1.from.to_string(), "2026-03-05");
    app.set_now(thursday + 24 * HOUR);
    let now = app.post("/api/v1/schedules/north-daily/run", &json!({})).await;
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(
        (now.body["from"].as_str(), now.body["notifications"].as_u64()),
        (Some("2026-03-05"), Some(2))
    );
    // Deleting: a rep may not; an admin may.
    call_as(&app, &rep, Method::DELETE, "/api/v1/schedules/north-daily", None)
        .await
        .error(403, "forbidden");
    let deleted = app.delete("/api/v1/schedules/north-daily").await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.get("/api/v1/schedules").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_threshold_rule_by_a_dimension_is_checked_and_listed_in_the_api() {
    let app = TestApp::spawn().await;
    org(&app).await;
    let channel = json!({"id": "me", "user": "m1"});
    assert_eq!(app.post("/api/v1/channels", &channel).await.status, 201);
    let rule = |by: &str| {
        json!({"id": "big", "kind": "threshold", "metric": "revenue_won", "scope": "team:north",
               "window": "30d", "op": ">=", "value": 10000, "by": by, "channels": ["me"]})
    };
    // A dimension that does not apply names those that do; an empty one says what to write.
    let bad = app.post("/api/v1/alert-rules", &rule("colour")).await;
    bad.error(422, "invalid_record");
    assert!(bad.body.to_string().contains("the dimensions that do are"), "{}", bad.body);
    app.post("/api/v1/alert-rules", &rule(" ")).await.error(422, "invalid_record");
    assert_eq!(app.get("/api/v1/alert-rules").await.body["items"], json!([]));
    let made = app.post("/api/v1/alert-rules", &rule("owner")).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["definition"]["by"], "owner");
    assert_eq!(made.body["condition"], "revenue_won per owner over 30d >= 10000");
}
