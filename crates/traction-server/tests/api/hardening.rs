//! Issue 25: under load, faults and hostile input the server keeps answering, loses nothing and
//! leaks nothing.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use traction_server::Config;
use traction_server::admission::Limits;

use crate::helpers::{TestApp, add_user};

/// Fails (rather than hangs) when a request waits for ever: a liveness bound, not a timing.
async fn promptly<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} never answered"))
}

/// Holds every analytical read connection of the store until the returned sender is dropped.
fn saturate_readers(
    app: &TestApp,
) -> (std::sync::mpsc::Sender<()>, Vec<std::thread::JoinHandle<()>>) {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let mut threads = Vec::new();
    for _ in 0..4 {
        let store = app.sqlite.clone();
        let (held_tx, release_rx) = (held_tx.clone(), release_rx.clone());
        threads.push(std::thread::spawn(move || {
            store.with_reader(|_conn| {
                held_tx.send(()).unwrap();
                // Every holder wakes when the sender is dropped.
                let _ = release_rx.lock().unwrap().recv();
            });
        }));
    }
    for _ in 0..4 {
        held_rx.recv().unwrap();
    }
    (release_tx, threads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_reads_neither_stall_sign_in_and_writes_nor_run_unadmitted() {
    let app = Arc::new(
        TestApp::spawn_with(Config {
            heavy: Limits {
                concurrency: 1,
                per_user: 1,
                queue_wait: Duration::from_millis(200),
                time_limit: Duration::from_secs(120),
            },
            ..Config::default()
        })
        .await,
    );
    app.seed_sales().await;
    let viewer = add_user(&*app.store, "viewer", "viewer", Some("t1"));
    crate::auth::set_password(&app, "u1", "correct horse battery");
    // Every analytical connection is busy (as under heavy metric queries).
    let (release, holders) = saturate_readers(&app);
    let metric = "/api/v1/metrics/activities?from=2026-03-01&to=2026-04-01&grain=day";
    // Two heavy requests of the admin at once: one runs (and waits for a reader), the other
    // is refused at once with 429, whichever came second.
    let spawn_metric = || {
        let app = app.clone();
        tokio::spawn(async move { app.get(metric).await })
    };
    let (one, two) = (spawn_metric(), spawn_metric());
    let (refused, first) = promptly("a second heavy request", async {
        loop {
            if one.is_finished() {
                break (one.await.unwrap(), two);
            }
            if two.is_finished() {
                break (two.await.unwrap(), one);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    refused.error(429, "too_many_requests");
    // Another user's heavy request waits its turn, then 503 with Retry-After.
    let res = promptly(
        "the viewer's heavy request",
        app.anonymous.get(app.url(metric)).bearer_auth(&viewer).send(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("retry-after").is_some());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    // Meanwhile a token check, a record read, a sign-in and a write answer.
    let listed = promptly(
        "a token check",
        app.anonymous.get(app.url("/api/v1/users/viewer")).bearer_auth(&viewer).send(),
    )
    .await
    .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let (cookie, _) =
        promptly("a sign-in", crate::auth::sign_in(&app, "u1", "correct horse battery"))
            .await
            .unwrap_or_else(|_| panic!("the sign-in failed"));
    assert!(cookie.starts_with("traction_session="));
    let written = promptly(
        "a write",
        app.post(
            "/api/v1/activities",
            &json!({"id": "call-1", "kind": "call", "owner_id": "u1",
                    "occurred_at": "2026-03-02T10:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(written.status, StatusCode::CREATED, "{:#}", written.body);
    // Once the readers are free, the admitted request answers, and sees the write.
    drop(release);
    for holder in holders {
        holder.join().unwrap();
    }
    let first = promptly("the first heavy request", first).await.unwrap();
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_and_quantities_past_the_bounds_are_refused_at_write() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let deal = |id: &str, amount: &str| {
        json!({"id": id, "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1",
               "amount": amount, "created_at": "2026-03-01T00:00:00Z"})
    };
    // 5·10^16 dollars is 5·10^18 cents, past the bound of 10^15 minor units.
    let refused = app.post("/api/v1/deals", &deal("d-huge", "50000000000000000")).await;
    let details = refused.error(422, "invalid_record");
    assert_eq!(details[0]["field"], "amount", "{:#}", refused.body);
    assert!(details[0]["problem"].as_str().unwrap().contains("too large"), "{:#}", refused.body);
    // The largest amount itself is accepted: 10^15 cents = 10,000,000,000,000.00.
    app.create("deals", deal("d-max", "10000000000000.00")).await;
    app.create("products", json!({"id": "p-1", "name": "Beans", "unit_price": "12.00"})).await;
    app.create(
        "orders",
        json!({"id": "o1", "account_id": "a1", "placed_at": "2026-03-02T10:00:00Z"}),
    )
    .await;
    let line = |n: i64, quantity: &str, price: &str| {
        json!({"order_id": "o1", "line": n, "product_id": "p-1", "quantity": quantity,
               "unit_price": price})
    };
    for (quantity, price, field) in [
        ("9223372036854775807", "1.00", "quantity"),
        ("9223372036854775808", "1.00", "quantity"),
        ("1000000001", "1.00", "quantity"),
        ("1", "92233720368547758.00", "unit_price"),
        // Each within bounds, but the line's total (10^9 × 10^13 cents) is not.
        ("1000000000", "100000000000.00", "quantity"),
    ] {
        let answer = app.post("/api/v1/order_lines", &line(1, quantity, price)).await;
        let details = answer.error(422, "invalid_record");
        assert_eq!(details[0]["field"], field, "{quantity} × {price}: {:#}", answer.body);
    }
    // Lines each at the bound, adding up past it: refused at commit, nothing stored.
    let lines: Vec<_> = (1..=3).map(|n| line(n, "1", "10000000000000.00")).collect();
    let answer = app.post("/api/v1/order_lines", &json!(lines)).await;
    let details = answer.error(422, "invalid_record");
    assert!(
        details[0]["problem"].as_str().unwrap().contains("add up to more"),
        "{:#}",
        answer.body
    );
    assert_eq!(app.count(traction_domain::Entity::OrderLines), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sums_past_the_integer_range_do_not_break_a_metric() {
    use traction_domain::{Entity, Record, Value};
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    // 9,300 open deals at the largest amount (10^15 cents each) add up to 9.3·10^18 cents,
    // past i64::MAX (≈ 9.22·10^18): SQLite's SUM stopped with "integer overflow" (a 500).
    let n_deals = 9_300_i64;
    let ctx = traction_domain::ParseContext {
        zone: jiff::tz::TimeZone::UTC,
        currency: traction_domain::Currency::USD,
        now: crate::helpers::T0,
    };
    let mut writer = app.store.writer().unwrap();
    for idx in 0..n_deals {
        let mut values = vec![Value::Null; Entity::Deals.fields().len()];
        let mut set = |name: &str, value: Value| {
            values[Entity::Deals.field_index(name).unwrap()] = value;
        };
        set("id", Value::Text(format!("d{idx}")));
        set("pipeline_id", Value::Text("p1".into()));
        set("stage_id", Value::Text("s1".into()));
        set("owner_id", Value::Text("u1".into()));
        set("amount", Value::Int(traction_domain::money::MAX_MINOR));
        set("created_at", Value::Instant(crate::helpers::T0 - 1000 * crate::helpers::HOUR));
        // The other fields at their defaults, as an import leaves them.
        for (field, value) in Entity::Deals.fields().iter().zip(values.iter_mut()) {
            if value.is_null() {
                *value = traction_domain::record::parse_field(field, "", &ctx).unwrap();
            }
        }
        writer.put(idx as u64, Record { entity: Entity::Deals, values }).unwrap();
    }
    writer.commit().unwrap();
    let answer = app.get("/api/v1/metrics/open_pipeline_value?from=2026-01-01&to=2026-02-01").await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let value = answer.body["rows"][0]["value"].as_f64().unwrap();
    // 9,300 × 10^13 dollars, to the precision of a float.
    let expected = 9.3e16;
    assert!((value - expected).abs() / expected < 1e-9, "{value} != {expected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_or_changing_their_role_or_password_ends_their_sign_ins_for_good() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let tokens: Vec<String> = ["ann", "bob", "cy"]
        .iter()
        .map(|id| {
            let token = add_user(&*app.store, id, "rep", Some("t1"));
            crate::auth::set_password(&app, id, "correct horse battery");
            token
        })
        .collect();
    let mut cookies = Vec::new();
    for id in ["ann", "bob", "cy"] {
        let (cookie, _) = crate::auth::sign_in(&app, id, "correct horse battery")
            .await
            .unwrap_or_else(|_| panic!("{id} signs in"));
        cookies.push(cookie);
    }
    let by_token = |token: &str| {
        let req = app.anonymous.get(app.url("/api/v1/deals")).bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    let by_cookie = |cookie: &str| {
        let req = app.anonymous.get(app.url("/api/v1/deals")).header("cookie", cookie);
        async move { req.send().await.unwrap().status() }
    };
    for idx in 0..3 {
        assert_eq!(by_token(&tokens[idx]).await, StatusCode::OK);
        assert_eq!(by_cookie(&cookies[idx]).await, StatusCode::OK);
    }
    // ann disabled, then enabled again: her old cookie and token stay dead.
    for active in [false, true] {
        let answer = app.patch("/api/v1/users/ann", &json!({"active": active})).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    }
    assert_eq!(by_token(&tokens[0]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(by_cookie(&cookies[0]).await, StatusCode::UNAUTHORIZED);
    // bob made a manager and back: the same.
    for role in ["manager", "rep"] {
        let answer = app.patch("/api/v1/users/bob", &json!({"role": role})).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    }
    assert_eq!(by_token(&tokens[1]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(by_cookie(&cookies[1]).await, StatusCode::UNAUTHORIZED);
    // cy's password changed by an admin: the same.
    let answer =
        app.post("/api/v1/users/cy/password", &json!({"password": "another long password"})).await;
    assert!(answer.status.is_success(), "{:#}", answer.body);
    assert_eq!(by_token(&tokens[2]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(by_cookie(&cookies[2]).await, StatusCode::UNAUTHORIZED);
    // A change of another field (the name) ends nothing; new sign-ins work.
    let (fresh, _) = crate::auth::sign_in(&app, "ann", "correct horse battery")
        .await
        .unwrap_or_else(|_| panic!("ann signs in again"));
    let answer = app.patch("/api/v1/users/ann", &json!({"name": "Ann B."})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(by_cookie(&fresh).await, StatusCode::OK);
}

/// The answer with every mention of `id` replaced, to compare two answers about two ids.
fn without(answer: &crate::helpers::Answer, id: &str) -> (u16, String) {
    (answer.status.as_u16(), answer.body.to_string().replace(id, "<id>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_outside_ones_scope_are_refused_exactly_like_missing_ones() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    app.create("teams", json!({"id": "t2", "name": "South"})).await;
    let ann = add_user(&*app.store, "ann", "rep", Some("t1"));
    add_user(&*app.store, "zed", "rep", Some("t2"));
    // zed's records, in another team.
    app.create(
        "accounts",
        json!({"id": "acc-z", "name": "Zeta", "owner_id": "zed",
                                 "created_at": "2026-01-05T10:00:00Z"}),
    )
    .await;
    app.create(
        "contacts",
        json!({"id": "con-z", "name": "Zoe", "owner_id": "zed",
                                 "account_id": "acc-z", "created_at": "2026-01-05T10:00:00Z"}),
    )
    .await;
    app.create(
        "deals",
        json!({"id": "deal-z", "pipeline_id": "p1", "stage_id": "s1",
                              "owner_id": "zed", "amount": "777.00",
                              "created_at": "2026-01-06T00:00:00Z"}),
    )
    .await;
    app.create(
        "leads",
        json!({"id": "lead-z", "owner_id": "zed", "source": "web",
                              "created_at": "2026-01-06T00:00:00Z"}),
    )
    .await;
    let stage_changes = app.count(traction_domain::Entity::StageChanges);
    let as_ann = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        let req = app.anonymous.request(method, app.url(path)).bearer_auth(&ann).json(&body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            crate::helpers::Answer { status, body: serde_json::from_str(&text).unwrap_or_default() }
        }
    };
    for (field, hidden) in [
        ("deal_id", "deal-z"),
        ("lead_id", "lead-z"),
        ("account_id", "acc-z"),
        ("contact_id", "con-z"),
    ] {
        let activity = |id: &str| {
            json!({"id": format!("act-{field}"), "kind": "call", "owner_id": "ann",
                   "occurred_at": "2026-03-02T10:00:00Z", field: id})
        };
        let refused = as_ann(reqwest::Method::POST, "/api/v1/activities", activity(hidden)).await;
        let missing = as_ann(reqwest::Method::POST, "/api/v1/activities", activity("nope")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {:#}", refused.body);
        assert_eq!(without(&refused, hidden), without(&missing, "nope"), "{field}");
    }
    // A lead at another team's account, likewise.
    let lead = |account: &str| {
        json!({"id": "lead-a", "owner_id": "ann", "source": "web", "account_id": account,
               "created_at": "2026-03-02T10:00:00Z"})
    };
    let refused = as_ann(reqwest::Method::POST, "/api/v1/leads", lead("acc-z")).await;
    let missing = as_ann(reqwest::Method::POST, "/api/v1/leads", lead("nope")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without(&refused, "acc-z"), without(&missing, "nope"));
    // A stage change of another team's deal: as for a missing deal (was 403 against 422).
    let change = |deal: &str| json!({"deal_id": deal, "stage_id": "s2", "changed_at": "2026-03-02T10:00:00Z"});
    let refused = as_ann(reqwest::Method::POST, "/api/v1/stage_changes", change("deal-z")).await;
    let missing = as_ann(reqwest::Method::POST, "/api/v1/stage_changes", change("nope")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", refused.body);
    assert_eq!(without(&refused, "deal-z"), without(&missing, "nope"));
    assert_eq!(app.count(traction_domain::Entity::Activities), 0);
    assert_eq!(app.count(traction_domain::Entity::Leads), 1);
    assert_eq!(app.count(traction_domain::Entity::StageChanges), stage_changes);

    // Metrics: a filter naming another team's deal finds nothing of it for ann; the admin,
    // with no scope, sees its 777.00. Unfiltered, the figure stays company-wide.
    let pipeline = "/api/v1/metrics/open_pipeline_value?from=2026-02-01&to=2026-03-01";
    let filtered = format!("{pipeline}&where=id%20%3D%20%27deal-z%27");
    let value = |answer: &crate::helpers::Answer| answer.body["rows"][0]["value"].as_f64();
    let for_ann = as_ann(reqwest::Method::GET, &filtered, json!(null)).await;
    assert_eq!(for_ann.status, StatusCode::OK, "{:#}", for_ann.body);
    assert_ne!(value(&for_ann), Some(777.0), "{:#}", for_ann.body);
    assert_eq!(value(&for_ann).unwrap_or(0.0), 0.0, "{:#}", for_ann.body);
    let for_admin = app.get(&filtered).await;
    assert_eq!(value(&for_admin), Some(777.0), "{:#}", for_admin.body);
    let unfiltered = as_ann(reqwest::Method::GET, pipeline, json!(null)).await;
    assert_eq!(value(&unfiltered), Some(777.0), "{:#}", unfiltered.body);
    // Grouped by deal: only ann's own deals (none) appear.
    let by_deal = as_ann(reqwest::Method::GET, &format!("{pipeline}&by=id"), json!(null)).await;
    assert!(!by_deal.body.to_string().contains("deal-z"), "{:#}", by_deal.body);
}

/// Reads from a raw connection until the server closes it; returns what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    promptly("the server closing the connection", stream.read_to_end(&mut out)).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_oversized_connections_are_let_go() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let app = TestApp::spawn_with(Config {
        max_body_bytes: 1024,
        connections: traction_server::ConnectionLimits {
            header_timeout: Duration::from_millis(500),
            body_timeout: Duration::from_millis(500),
        },
        ..Config::default()
    })
    .await;
    // A connection that never sends anything is closed.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    assert_eq!(read_to_close(&mut idle).await, "");
    // A request head that never ends is closed (with at most a 408).
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let sent = read_to_close(&mut partial).await;
    assert!(sent.is_empty() || sent.starts_with("HTTP/1.1 408"), "{sent}");
    // A kept-alive connection is answered, then closed once idle.
    let mut kept = TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let sent = read_to_close(&mut kept).await;
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    // A declared body of 1 GiB is refused at once, without waiting for it, and the connection
    // is closed.
    let mut big = TcpStream::connect(app.addr).await.unwrap();
    big.write_all(
        format!(
            "POST /api/v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n",
            app.admin_token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let sent = read_to_close(&mut big).await;
    assert!(sent.starts_with("HTTP/1.1 413"), "{sent}");
    assert!(sent.to_ascii_lowercase().contains("connection: close"), "{sent}");
    assert!(sent.contains("payload_too_large"), "{sent}");
    // An error answered to a request with a body says it closes the connection.
    let res = app
        .client
        .post(app.url("/api/v1/teams"))
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["connection"], "close");
    // A good request keeps its connection.
    let res = app.client.get(app.url("/api/v1/health")).send().await.unwrap();
    assert!(res.headers().get("connection").is_none_or(|v| v != "close"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_form_post_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    add_user(&*app.store, "vera", "viewer", Some("t1"));
    crate::auth::set_password(&app, "vera", "correct horse battery");
    let (cookie, csrf) = crate::auth::sign_in(&app, "vera", "correct horse battery")
        .await
        .unwrap_or_else(|_| panic!("vera signs in"));
    for path in ["/log", "/pipeline/move", "/targets", "/import", "/settings"] {
        // A form that would not even validate: the answer is the refusal, not its problems.
        let res = app
            .anonymous
            .post(app.url(path))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("kind=nonsense&occurred_at=yesterday-ish")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("a viewer reads only"), "{path}");
    }
    assert_eq!(app.count(traction_domain::Entity::Activities), 0);
}
