//! Sign-in, roles and the audit log against the real server (spec: quality.md, Security).
//!
//! - `every_route_answers_each_role_as_the_table_says`: the role × endpoint table, driven over
//!   every documented operation; each refused request is a 403 (401 without credentials) and
//!   leaves the stored data exactly as it was.
//! - record-level rules: a rep's own records, a manager's team scope, 404 outside the scope.
//! - tokens (revocation, disabled users), sessions (sign-in, expiry, sign-out), CSRF, rate limits,
//!   security headers, and an audit entry for each kind of change.

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};
use traction_domain::Entity;

use crate::helpers::{Answer, HOUR, T0, TestApp, add_user};

/// The people of the tests, by role: (id, role, team). `t1a` is a sub-team of `t1`.
const PEOPLE: &[(&str, &str, &str)] = &[
    ("mgr", "manager", "t1"),
    ("rep", "rep", "t1a"),
    ("rep2", "rep", "t1"),
    ("other", "rep", "t2"),
    ("viewer", "viewer", "t1"),
];

struct World {
    app: TestApp,
    tokens: Vec<(String, String)>,
}

impl World {
    fn token(&self, user: &str) -> &str {
        if user == "admin" {
            return &self.app.admin_token;
        }
        &self.tokens.iter().find(|(u, _)| u == user).unwrap().1
    }

    async fn call_as(&self, user: &str, method: Method, path: &str, body: Option<&Json>) -> Answer {
        let mut req =
            self.app.anonymous.request(method, self.app.url(path)).bearer_auth(self.token(user));
        if let Some(body) = body {
            req = req.json(body);
        }
        answer(req.send().await.unwrap()).await
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let text = res.text().await.unwrap();
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Json::Null) }
}

/// Teams t1 > t1a and t2; the people; an account and a deal for each rep; a pipeline.
async fn world() -> World {
    let app = TestApp::spawn().await;
    app.create(
        "teams",
        json!([{"id": "t1", "name": "North"}, {"id": "t1a", "name": "North-East", "parent_id": "t1"},
               {"id": "t2", "name": "South"}]),
    )
    .await;
    let mut tokens = Vec::new();
    for (id, role, team) in PEOPLE {
        tokens.push((id.to_string(), add_user(&*app.store, id, role, Some(team))));
    }
    app.create("pipelines", json!({"id": "p1", "name": "Sales"})).await;
    app.create(
        "stages",
        json!([
            {"id": "s1", "pipeline_id": "p1", "name": "Qualified", "position": 1},
            {"id": "s2", "pipeline_id": "p1", "name": "Proposal", "position": 2},
            {"id": "won", "pipeline_id": "p1", "name": "Won", "position": 3, "kind": "won"},
            {"id": "lost", "pipeline_id": "p1", "name": "Lost", "position": 4, "kind": "lost"}
        ]),
    )
    .await;
    let mut deals = Vec::new();
    let mut accounts = Vec::new();
    for owner in ["rep", "rep2", "other"] {
        accounts.push(json!({"id": format!("a-{owner}"), "name": owner, "owner_id": owner,
            "created_at": "2026-01-05T10:00:00Z"}));
        deals.push(json!({"id": format!("d-{owner}"), "pipeline_id": "p1", "stage_id": "s1",
            "owner_id": owner, "amount": "100.00", "created_at": "2026-02-01T10:00:00Z"}));
    }
    app.create("accounts", Json::Array(accounts)).await;
    app.create("deals", Json::Array(deals)).await;
    World { app, tokens }
}

/// Everything stored, as text: compared before and after each refused request.
fn snapshot(app: &TestApp) -> String {
    let mut out = String::new();
    for entity in Entity::ALL {
        app.store
            .scan(entity, &mut |r| {
                out.push_str(&format!("{entity} {:?}\n", r.values));
                Ok(())
            })
            .unwrap();
    }
    for token in app.store.tokens(None).unwrap() {
        out.push_str(&format!("{token:?}\n"));
    }
    let audit = app
        .store
        .audit_log(&traction_store::AuditQuery { limit: 100_000, ..Default::default() })
        .unwrap();
    out.push_str(&format!("audit rows {}\n", audit.len()));
    out
}

/// Who may call an operation, written out here from docs/security.md (not from the server's
/// table, so the two are checked against each other).
fn expected_roles(method: &str, path: &str) -> &'static [&'static str] {
    const ALL: &[&str] = &["admin", "manager", "rep", "viewer"];
    const WRITERS: &[&str] = &["admin", "manager", "rep"];
    const MANAGERS: &[&str] = &["admin", "manager"];
    const ADMINS: &[&str] = &["admin"];
    let rest = path.trim_start_matches("/api/v1/");
    let first = rest.split('/').next().unwrap();
    if path == "/api/v1/audit" {
        return ADMINS;
    }
    if method == "get" || first == "tokens" || rest.ends_with("/password") {
        return ALL;
    }
    // Monitoring: everyone marks their own notifications read; managers manage the rest.
    if first == "notifications" || first == "hooks" {
        return ALL;
    }
    match first {
        "channels" | "alert-rules" | "silences" | "schedules" | "metric-definitions" => MANAGERS,
        "accounts" | "contacts" | "leads" | "deals" | "activities" | "orders" | "costs"
        | "email_events" | "events" | "stage_changes" | "order_lines" => WRITERS,
        "targets" => MANAGERS,
        _ => ADMINS,
    }
}

/// An id of a stored record of the entity a path names, so a refused write names real data.
fn real_id(path: &str) -> &'static str {
    match path.trim_start_matches("/api/v1/").split('/').next().unwrap() {
        "users" => "rep",
        "teams" => "t1",
        "accounts" => "a-rep",
        "deals" => "d-rep",
        "pipelines" => "p1",
        "stages" => "s1",
        "tokens" => "tok-nope",
        _ => "nope",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_table_says() {
    let w = world().await;
    let doc = w.app.get("/api/v1/openapi.json").await;
    let paths = doc.body["paths"].as_object().unwrap().clone();
    let mut checked = 0;
    for (path, item) in &paths {
        if path.ends_with("/events") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let http = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let allowed = expected_roles(method, path);
            // Without credentials: 401, except health.
            let concrete = path.replace("{id}", real_id(path)).replace("{name}", "revenue_won");
            let before = snapshot(&w.app);
            let res = w
                .app
                .anonymous
                .request(http.clone(), w.app.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let anonymous = answer(res).await;
            if path == "/api/v1/health" {
                assert_eq!(anonymous.status, StatusCode::OK);
            } else if path.starts_with("/api/v1/hooks/") {
                // Public: the mailing tool's signature is the credential (an unknown provider
                // here is a 404), and nothing changes without it.
                assert!(
                    anonymous.status != StatusCode::UNAUTHORIZED
                        && !anonymous.status.is_server_error(),
                    "{method} {path}: {:#}",
                    anonymous.body
                );
                assert_eq!(snapshot(&w.app), before, "{method} {path} without credentials");
            } else {
                anonymous.error(401, "unauthorized");
                assert_eq!(snapshot(&w.app), before, "{method} {path} without credentials");
            }
            for role in ["admin", "manager", "rep", "viewer"] {
                let user = match role {
                    "manager" => "mgr",
                    r => r,
                };
                let may = allowed.contains(&role);
                // A refused request names real records; an allowed one names none, so the
                // table leaves the data as it found it.
                let target = if may && method != "get" && method != "post" {
                    path.replace("{id}", "nope")
                } else {
                    concrete.clone()
                };
                let before = snapshot(&w.app);
                let res = w
                    .app
                    .anonymous
                    .request(http.clone(), w.app.url(&target))
                    .bearer_auth(w.token(user))
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                let got = answer(res).await;
                if may {
                    assert!(
                        got.status != StatusCode::FORBIDDEN
                            && got.status != StatusCode::UNAUTHORIZED
                            && !got.status.is_server_error(),
                        "{role} may {method} {path}: {} {:#}",
                        got.status,
                        got.body
                    );
                } else {
                    got.error(403, "forbidden");
                    assert_eq!(snapshot(&w.app), before, "{role} {method} {path} changed data");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 4 * 140, "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_creates_and_changes_only_their_own_records() {
    // rep2 (team t1) sees the records of t1 and its sub-team t1a, where rep works.
    let w = world().await;
    let activity = |owner: &str| {
        json!({"id": format!("act-{owner}"), "kind": "call", "occurred_at": "2026-03-01T10:00:00Z",
               "owner_id": owner, "deal_id": "d-rep2"})
    };
    let made = w.call_as("rep2", Method::POST, "/api/v1/activities", Some(&activity("rep2"))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:#}", made.body);
    let before = snapshot(&w.app);
    let refused =
        w.call_as("rep2", Method::POST, "/api/v1/activities", Some(&activity("rep"))).await;
    refused.error(403, "forbidden");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("owner_id"));
    // A teammate's deal is visible but not theirs: 403. Another team's: 404, word for word as
    // a deal that does not exist.
    let patch = json!({"name": "mine now"});
    w.call_as("rep2", Method::PATCH, "/api/v1/deals/d-rep", Some(&patch))
        .await
        .error(403, "forbidden");
    let hidden = w.call_as("rep2", Method::PATCH, "/api/v1/deals/d-other", Some(&patch)).await;
    let missing = w.call_as("rep2", Method::PATCH, "/api/v1/deals/d-none", Some(&patch)).await;
    hidden.error(404, "not_found");
    missing.error(404, "not_found");
    assert_eq!(
        hidden.body["error"]["message"].as_str().unwrap().replace("d-other", "X"),
        missing.body["error"]["message"].as_str().unwrap().replace("d-none", "X")
    );
    // Taking a teammate's deal over by putting it whole is refused too.
    let takeover = json!({"pipeline_id": "p1", "stage_id": "s1", "owner_id": "rep2",
        "amount": "1.00", "created_at": "2026-02-01T10:00:00Z"});
    w.call_as("rep2", Method::PUT, "/api/v1/deals/d-rep", Some(&takeover))
        .await
        .error(403, "forbidden");
    w.call_as("rep2", Method::PUT, "/api/v1/deals/d-other", Some(&takeover))
        .await
        .error(404, "not_found");
    w.call_as("rep2", Method::DELETE, "/api/v1/accounts/a-rep", None).await.error(403, "forbidden");
    w.call_as("rep2", Method::DELETE, "/api/v1/accounts/a-other", None)
        .await
        .error(404, "not_found");
    let mv = json!({"stage_id": "s2"});
    w.call_as("rep2", Method::POST, "/api/v1/deals/d-rep/move", Some(&mv))
        .await
        .error(403, "forbidden");
    w.call_as("rep2", Method::POST, "/api/v1/deals/d-other/move", Some(&mv))
        .await
        .error(404, "not_found");
    w.call_as("rep2", Method::GET, "/api/v1/deals/d-other", None).await.error(404, "not_found");
    // An import with one row that is not theirs stores nothing.
    let csv = "id,kind,occurred_at,owner_id\nact-a,call,2026-03-01T10:00:00Z,rep\nact-b,call,2026-03-01T11:00:00Z,rep2\n";
    let res = w
        .app
        .anonymous
        .post(w.app.url("/api/v1/activities/import"))
        .bearer_auth(w.token("rep2"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    answer(res).await.error(403, "forbidden");
    assert_eq!(snapshot(&w.app), before, "refused requests changed nothing");
    // Their own: allowed.
    let ok = w.call_as("rep2", Method::PATCH, "/api/v1/deals/d-rep2", Some(&patch)).await;
    assert_eq!(ok.status, StatusCode::OK, "{:#}", ok.body);
    let moved = w.call_as("rep2", Method::POST, "/api/v1/deals/d-rep2/move", Some(&mv)).await;
    assert_eq!(moved.status, StatusCode::OK, "{:#}", moved.body);
    assert_eq!(moved.body["stage_change"]["changed_by"], "rep2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_scoped_to_the_team_and_managers_change_their_teams_records() {
    let w = world().await;
    let ids = |a: &Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    // The rep of t1a sees their team (t1a) only; rep2 of t1 sees t1 and t1a; admin everything.
    assert_eq!(ids(&w.call_as("rep", Method::GET, "/api/v1/deals", None).await), ["d-rep"]);
    assert_eq!(
        ids(&w.call_as("rep2", Method::GET, "/api/v1/deals", None).await),
        ["d-rep", "d-rep2"]
    );
    assert_eq!(
        ids(&w.call_as("viewer", Method::GET, "/api/v1/deals?where=amount%20%3E%200", None).await),
        ["d-rep", "d-rep2"]
    );
    assert_eq!(
        ids(&w.call_as("admin", Method::GET, "/api/v1/deals", None).await),
        ["d-other", "d-rep", "d-rep2"]
    );
    // Stage changes follow their deal.
    assert_eq!(
        w.call_as("rep", Method::GET, "/api/v1/stage_changes", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The manager of t1 changes the deals of t1 and its sub-team, not t2's.
    let patch = json!({"amount": "250.00"});
    assert_eq!(
        w.call_as("mgr", Method::PATCH, "/api/v1/deals/d-rep", Some(&patch)).await.status,
        StatusCode::OK
    );
    w.call_as("mgr", Method::PATCH, "/api/v1/deals/d-other", Some(&patch))
        .await
        .error(404, "not_found");
    // …and may not hand a deal to someone outside the team.
    w.call_as("mgr", Method::PATCH, "/api/v1/deals/d-rep", Some(&json!({"owner_id": "other"})))
        .await
        .error(403, "forbidden");
    // Targets: their team's, not another's nor the company's.
    let target = |scope: &str| {
        json!({"metric": "revenue_won", "scope": scope, "period": "month",
        "starts_on": "2026-03-01", "value": "1000"})
    };
    let ok = w.call_as("mgr", Method::POST, "/api/v1/targets", Some(&target("team:t1a"))).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:#}", ok.body);
    let before = snapshot(&w.app);
    w.call_as("mgr", Method::POST, "/api/v1/targets", Some(&target("team:t2")))
        .await
        .error(403, "forbidden");
    w.call_as("mgr", Method::POST, "/api/v1/targets", Some(&target("company")))
        .await
        .error(403, "forbidden");
    w.call_as("rep", Method::POST, "/api/v1/targets", Some(&target("user:rep")))
        .await
        .error(403, "forbidden");
    assert_eq!(snapshot(&w.app), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_and_disabled_users_are_refused() {
    let w = world().await;
    let made =
        w.call_as("rep", Method::POST, "/api/v1/tokens", Some(&json!({"name": "script"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:#}", made.body);
    let token = made.body["token"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();
    // Only the hash is stored.
    let listed = w.call_as("rep", Method::GET, "/api/v1/tokens", None).await;
    assert!(!listed.body.to_string().contains(&token));
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let with =
        |t: &str| w.app.anonymous.get(w.app.url("/api/v1/deals")).bearer_auth(t.to_string()).send();
    assert_eq!(with(&token).await.unwrap().status(), StatusCode::OK);
    // Someone else's token is not there for a rep.
    let admin_tokens = w.app.store.tokens(Some("admin")).unwrap();
    let path = format!("/api/v1/tokens/{}", admin_tokens[0].id);
    w.call_as("rep", Method::DELETE, &path, None).await.error(404, "not_found");
    assert_eq!(
        w.call_as("rep", Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    let refused = answer(with(&token).await.unwrap()).await;
    refused.error(401, "unauthorized");
    assert_eq!(with("made-up").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // A disabled user's other tokens stop working at once.
    let rep_token = w.token("rep").to_string();
    assert_eq!(with(&rep_token).await.unwrap().status(), StatusCode::OK);
    let off = w.app.patch("/api/v1/users/rep", &json!({"active": false})).await;
    assert_eq!(off.status, StatusCode::OK, "{:#}", off.body);
    assert_eq!(with(&rep_token).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// Signs in through the form; returns the session cookie and its CSRF token.
pub(crate) async fn sign_in(
    app: &TestApp,
    user: &str,
    password: &str,
) -> Result<(String, String), reqwest::Response> {
    let page = app.anonymous.get(app.url("/login?next=/deals")).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("traction_login="))
        .unwrap();
    let login_token =
        cookie.trim_start_matches("traction_login=").split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("name=\"_csrf\" value=\"{login_token}\"")), "{html}");
    assert!(html.contains("/assets/app.css"));
    let res = app
        .anonymous
        .post(app.url("/login"))
        .header("cookie", format!("traction_login={login_token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("user", user),
            ("password", password),
            ("next", "/deals"),
            ("_csrf", &login_token),
        ]))
        .send()
        .await
        .unwrap();
    if res.status() != StatusCode::SEE_OTHER {
        return Err(res);
    }
    assert_eq!(res.headers()["location"], "/deals");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("traction_session="))
        .unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let session =
        set.trim_start_matches("traction_session=").split(';').next().unwrap().to_string();
    let stored = app
        .store
        .session(&traction_server::auth::secret::token_hash(&session))
        .unwrap()
        .expect("the session is stored under its hash");
    Ok((format!("traction_session={session}"), stored.csrf_token))
}

/// An `application/x-www-form-urlencoded` body.
fn form_body(fields: &[(&str, &str)]) -> String {
    use traction_server::auth::form_encode;
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn set_password(app: &TestApp, user: &str, password: &str) {
    let hash = traction_server::auth::secret::hash_password(password).unwrap();
    let actor = traction_store::Actor { user: "cli".into(), at: Some(T0) };
    app.store.set_password(user, &hash, &actor, T0).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signs_in_needs_its_csrf_token_and_expires() {
    let w = world().await;
    let app = &w.app;
    set_password(app, "rep", "correct horse battery");
    let wrong = sign_in(app, "rep", "wrong password!!").await.unwrap_err();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (cookie, csrf) = sign_in(app, "rep", "correct horse battery").await.unwrap();
    let get = |path: &str| app.anonymous.get(app.url(path)).header("cookie", cookie.clone()).send();
    assert_eq!(get("/api/v1/deals").await.unwrap().status(), StatusCode::OK);
    // A write without the token is refused and changes nothing; with it, it goes through.
    let activity =
        json!({"kind": "call", "occurred_at": "2026-03-01T10:00:00Z", "owner_id": "rep"});
    let post = |header: Option<&str>, query: &str| {
        let mut req = app
            .anonymous
            .post(app.url(&format!("/api/v1/activities{query}")))
            .header("cookie", cookie.clone())
            .json(&activity);
        if let Some(h) = header {
            req = req.header("x-csrf-token", h);
        }
        req.send()
    };
    let before = snapshot(app);
    answer(post(None, "").await.unwrap()).await.error(403, "forbidden");
    answer(post(Some("not-the-token"), "").await.unwrap()).await.error(403, "forbidden");
    assert_eq!(snapshot(app), before);
    assert_eq!(post(Some(&csrf), "").await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(post(None, &format!("?_csrf={csrf}")).await.unwrap().status(), StatusCode::CREATED);
    // Idle for more than 12 hours: signed out (the API says 401, a page sends to /login).
    app.set_now(T0 + 13 * HOUR);
    assert_eq!(get("/api/v1/deals").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let page = get("/deals?stage=s1").await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login?next=/deals%3Fstage%3Ds1");
    // A fresh session used every 11 hours still ends after 7 days.
    let (cookie, csrf) = sign_in(app, "rep", "correct horse battery").await.unwrap();
    let get = |path: &str| app.anonymous.get(app.url(path)).header("cookie", cookie.clone()).send();
    let mut t = T0 + 13 * HOUR;
    while t < T0 + 13 * HOUR + 7 * 24 * HOUR - 11 * HOUR {
        t += 11 * HOUR;
        app.set_now(t);
        assert_eq!(
            get("/api/v1/deals").await.unwrap().status(),
            StatusCode::OK,
            "at +{}h",
            (t - T0) / HOUR
        );
    }
    app.set_now(T0 + 13 * HOUR + 7 * 24 * HOUR + HOUR);
    assert_eq!(get("/api/v1/deals").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Sign-out with the form field: the session is gone.
    app.set_now(T0 + 20 * 24 * HOUR);
    let (cookie, csrf2) = sign_in(app, "rep", "correct horse battery").await.unwrap();
    assert_ne!(csrf, csrf2);
    let out = app
        .anonymous
        .post(app.url("/logout"))
        .header("cookie", cookie.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("_csrf", csrf2.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after =
        app.anonymous.get(app.url("/api/v1/deals")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_per_account_and_per_address() {
    let w = world().await;
    let app = &w.app;
    set_password(app, "rep", "correct horse battery");
    for _ in 0..5 {
        assert_eq!(
            sign_in(app, "rep", "wrong password!!").await.unwrap_err().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The right password is refused too while the account is locked, with the time to wait.
    let locked = sign_in(app, "rep", "correct horse battery").await.unwrap_err();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.headers()["retry-after"], "900");
    assert!(locked.text().await.unwrap().contains("Too many failed sign-in attempts"));
    app.set_now(T0 + HOUR / 4);
    assert!(sign_in(app, "rep", "correct horse battery").await.is_ok());
    // Per address: 20 failures over any accounts lock out the address.
    app.set_now(T0 + 2 * HOUR);
    for n in 0..20 {
        let res = sign_in(app, &format!("nobody-{n}"), "wrong password!!").await.unwrap_err();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = sign_in(app, "rep", "correct horse battery").await.unwrap_err();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_to_sign_in_and_next_stays_on_this_site() {
    let app = TestApp::spawn().await;
    let home = app.anonymous.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/login");
    set_password(&app, "admin", "correct horse battery");
    let page = app.anonymous.get(app.url("/login")).send().await.unwrap();
    let cookie =
        page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let token = cookie.trim_start_matches("traction_login=").to_string();
    for (next, location) in
        [("//evil.example/x", "/"), ("https://evil.example", "/"), ("/deals?a=1", "/deals?a=1")]
    {
        let res = app
            .anonymous
            .post(app.url("/login"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("user", "admin"),
                ("password", "correct horse battery"),
                ("next", next),
                ("_csrf", &token),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], location, "next={next}");
    }
    // Without the sign-in token (another site posting the form): refused.
    let res = app
        .anonymous
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("user", "admin"),
            ("password", "correct horse battery"),
            ("_csrf", "x"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for (client, path) in [
        (&app.client, "/api/v1/deals"),
        (&app.anonymous, "/api/v1/deals"),
        (&app.anonymous, "/api/v1/health"),
        (&app.anonymous, "/login"),
        (&app.anonymous, "/"),
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert!(
            h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
}

/// The audit rows, oldest first, as (user, action, entity, id, before, after).
async fn audit(app: &TestApp, query: &str) -> Vec<Json> {
    let page = app.get(&format!("/api/v1/audit?limit=1000{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
    let mut items = page.body["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_change_is_audited_with_who_when_before_and_after() {
    let w = world().await;
    let app = &w.app;
    app.set_now(T0 + HOUR);
    let since = "&from=2026-03-02T09:30:00Z";
    // Update: only the fields that changed, before and after.
    w.call_as("rep", Method::PATCH, "/api/v1/deals/d-rep", Some(&json!({"amount": "120.50"})))
        .await;
    // Create, move (a deal update and a stage change), delete, import, password, tokens.
    let made = w.call_as("rep", Method::POST, "/api/v1/activities",
        Some(&json!({"id": "act-1", "kind": "call", "occurred_at": "2026-03-01T10:00:00Z", "owner_id": "rep"}))).await;
    assert_eq!(made.status, StatusCode::CREATED);
    w.call_as("rep", Method::POST, "/api/v1/deals/d-rep/move", Some(&json!({"stage_id": "s2"})))
        .await;
    assert_eq!(
        w.call_as("rep", Method::DELETE, "/api/v1/activities/act-1", None).await.status,
        StatusCode::NO_CONTENT
    );
    let res = app
        .client
        .post(app.url("/api/v1/teams/import"))
        .header("content-type", "text/csv")
        .body("id,name\nt9,West\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let pw = w
        .call_as(
            "rep",
            Method::POST,
            "/api/v1/users/rep/password",
            Some(&json!({"password": "a new long password"})),
        )
        .await;
    assert_eq!(pw.status, StatusCode::NO_CONTENT, "{:#}", pw.body);
    let tok = w.call_as("rep", Method::POST, "/api/v1/tokens", Some(&json!({"name": "ci"}))).await;
    let tok_id = tok.body["id"].as_str().unwrap().to_string();
    w.call_as("rep", Method::DELETE, &format!("/api/v1/tokens/{tok_id}"), None).await;
    let rows = audit(app, since).await;
    let brief: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            (s("user"), s("action"), s("entity"), s("id"))
        })
        .collect();
    let expect = |user: &str, action: &str, entity: &str, id: &str| {
        (user.to_string(), action.to_string(), entity.to_string(), id.to_string())
    };
    assert_eq!(
        brief,
        vec![
            expect("rep", "update", "deals", "d-rep"),
            expect("rep", "create", "activities", "act-1"),
            expect("rep", "update", "deals", "d-rep"),
            expect("rep", "create", "stage_changes", "d-rep/s2/2026-03-02T10:00:00Z"),
            expect("rep", "delete", "activities", "act-1"),
            expect("admin", "create", "teams", "t9"),
            expect("rep", "password.set", "credentials", "rep"),
            expect("rep", "token.create", "api_tokens", &tok_id),
            expect("rep", "token.revoke", "api_tokens", &tok_id),
        ]
    );
    assert_eq!(rows[0]["at"], "2026-03-02T10:00:00Z");
    assert_eq!(rows[0]["before"], json!({"amount": 100.00}));
    assert_eq!(rows[0]["after"], json!({"amount": 120.50}));
    assert_eq!(rows[1]["before"], Json::Null);
    assert_eq!(rows[1]["after"]["owner_id"], "rep");
    assert_eq!(rows[2]["before"]["stage_id"], "s1");
    assert_eq!(rows[2]["after"]["stage_id"], "s2");
    assert_eq!(rows[4]["before"]["kind"], "call");
    assert_eq!(rows[4]["after"], Json::Null);
    // No secret is ever written to the log.
    let all = serde_json::to_string(&rows).unwrap();
    assert!(!all.contains("a new long password") && !all.contains("argon2"));
    // Filters, and only admins read it.
    assert_eq!(audit(app, &format!("{since}&entity=deals&user=rep")).await.len(), 2);
    w.call_as("mgr", Method::GET, "/api/v1/audit", None).await.error(403, "forbidden");
}

/// A rep's filtered metric is kept to their records by a condition the server adds (a typed
/// filter, not text): their own mistakes are told at their own column, and a metric whose
/// records have no owner is refused as forbidden, told apart by the error's origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_where_is_added_as_a_condition_and_refused_on_ownerless_records() {
    let w = world().await;
    let url = |metric: &str, filter: &str| {
        format!("/api/v1/metrics/{metric}?from=2026-01-01&to=2026-03-01&where={filter}")
    };
    // Three deals of 100.00 were created; the rep of t1a reads their team's one, the admin all.
    let count = |a: &Answer| a.body["rows"][0]["value"].as_f64();
    let rep = w.call_as("rep", Method::GET, &url("deals_created", "amount%20%3E%200"), None).await;
    assert_eq!(rep.status, StatusCode::OK, "{:#}", rep.body);
    assert_eq!(count(&rep), Some(1.0), "{:#}", rep.body);
    let admin =
        w.call_as("admin", Method::GET, &url("deals_created", "amount%20%3E%200"), None).await;
    assert_eq!(count(&admin), Some(3.0), "{:#}", admin.body);
    // The rep's own mistake: column 16 of what they wrote ("amount > 0 and ownr = 'x'").
    let typo = w
        .call_as(
            "rep",
            Method::GET,
            &url("deals_created", "amount%20%3E%200%20and%20ownr%20%3D%20'x'"),
            None,
        )
        .await;
    typo.error(400, "bad_request");
    let message = typo.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("where: 1:16: unknown field \"ownr\" on deals"), "{message}");
    // Web visits have no owner: the scope cannot be added, so the figure is refused.
    let visits =
        w.call_as("rep", Method::GET, &url("web_visitors", "visitors%20%3E%200"), None).await;
    visits.error(403, "forbidden");
    assert!(
        visits.body["error"]["message"].as_str().unwrap().contains("records have no owner"),
        "{:#}",
        visits.body
    );
}
