//! The pages over HTTP (no browser): sign-in required, every page answers, bad parameters are
//! 400 pages, form posts write exactly what they say (and nothing when refused), and figures
//! match an independent computation over the stored records.

use traction_domain::{Entity, Value};

use crate::app::{App, NOW};

const PAGES: &[&str] = &[
    "/",
    "/?scope=company&period=week",
    "/?period=quarter",
    "/today",
    "/today?scope=company",
    "/pipeline",
    "/leads",
    "/log",
    "/explore",
    "/explore?metric=win_rate&grain=month&by=owner&compare=yoy&from=2026-01-01&to=2026-11-24",
    "/explore?metric=deals_created&grain=all&by=source",
    "/targets",
    "/metrics",
    "/metrics/new",
    "/targets/new",
    "/import",
    "/settings",
    "/forecast/pipeline",
    "/forecast/pipeline?period=quarter",
    "/forecast/history?metric=orders",
];

/// The pipeline forecast links every deal behind a figure; a forecast shown through the API is
/// kept and drawn against what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecast_pages_show_the_deals_behind_the_pipeline_and_past_forecasts() {
    let app = App::spawn().await;
    let api = app.api();
    let page = api.get(app.url("/forecast/pipeline?period=quarter")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Pipeline forecast") && body.contains("Weighted (historical)"), "{body}");
    assert!(body.contains("href=\"/deals/"), "the deals behind each figure are one click away");
    // A forecast made a week ago is kept; its complete days are drawn against what happened.
    let week_ago = NOW - 7 * 86_400_000_000;
    let at = jiff::Timestamp::from_microsecond(week_ago).unwrap().to_string();
    let made = api
        .get(app.url(&format!("/api/v1/forecast/orders?horizon=5&at={at}")))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 200, "{}", made.text().await.unwrap());
    let history = api.get(app.url("/forecast/history?metric=orders")).send().await.unwrap();
    assert_eq!(history.status(), 200);
    let body = history.text().await.unwrap();
    assert!(
        body.contains("complete buckets inside the interval") && body.contains("<svg"),
        "{body}"
    );
    let bad = api.get(app.url("/forecast/history?metric=win_rate")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    // A target's page says where it is forecast to land, beside the run rate.
    let kpis: serde_json::Value =
        api.get(app.url("/api/v1/kpis")).send().await.unwrap().json().await.unwrap();
    let row = kpis["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["forecast"].is_object())
        .expect("a current accumulating target has a forecast");
    let id = row["target"].as_str().unwrap();
    let page = api.get(app.url(&format!("/targets/{id}"))).send().await.unwrap();
    let body = page.text().await.unwrap();
    assert!(body.contains("<dt>Forecast</dt>") && body.contains("past forecasts"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_sign_in_and_answer_for_a_signed_in_user() {
    let app = App::spawn().await;
    let anonymous =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anonymous.get(app.url("/pipeline?owner=x")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=/pipeline%3Fowner%3Dx");
    // Assets are public (the sign-in page uses the stylesheet).
    let css = anonymous.get(app.url("/assets/app.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    let api = app.api();
    for page in PAGES {
        let r = api.get(app.url(page)).send().await.unwrap();
        let status = r.status();
        let csp = r.headers().get("content-security-policy").cloned();
        let body = r.text().await.unwrap();
        assert_eq!(status, 200, "{page}: {body}");
        assert!(body.contains("<h1>"), "{page} has a heading");
        assert!(csp.is_some(), "{page} has a content security policy");
        // No inline style or script: the policy allows neither.
        assert!(!body.contains(" style=\""), "{page} has an inline style");
        assert!(!body.contains("<script>"), "{page} has an inline script");
        assert!(body.len() < 400_000, "{page} is {} bytes", body.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_pages_and_missing_records_404() {
    let app = App::spawn().await;
    let api = app.api();
    for (page, status, says) in [
        ("/?period=decade", 400, "period"),
        ("/?scope=galaxy", 400, "scope"),
        ("/?colour=red", 400, "unknown parameter"),
        ("/explore?metric=happiness", 400, "not in the catalog"),
        ("/explore?metric=deals_won&by=warehouse", 200, "warehouse"),
        ("/explore?metric=deals_won&where=amount+%3E%3E+3", 200, "where"),
        ("/explore?metric=deals_won&from=yesterday-ish", 200, "from"),
        ("/targets/no-such-target", 404, "no-such-target"),
        ("/leads?sla=-5", 400, "sla"),
        ("/pipeline?pipeline=nope", 400, "pipeline"),
        ("/today?at=2026-13-45", 400, "at"),
        ("/assets/evil.js", 404, "no asset"),
    ] {
        let r = api.get(app.url(page)).send().await.unwrap();
        assert_eq!(r.status(), status, "{page}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{page} says {says:?}: {body}");
    }
}

/// Revenue won this month, summed from the stored deals (not through the metrics engine).
fn revenue_won_in_november(app: &App) -> i64 {
    // 1 November 2026 00:00 in London (GMT) is 00:00 UTC.
    revenue_won_between(app, 1_793_491_200_000_000, NOW)
}

fn revenue_won_between(app: &App, start: i64, end: i64) -> i64 {
    let mut total = 0;
    app.store
        .scan(Entity::Deals, &mut |d| {
            if d.get("status").as_text() == Some("won")
                && let Some(closed) = d.get("closed_at").as_instant()
                && (start..end).contains(&closed)
            {
                total += d.get("amount").as_int().unwrap_or(0);
            }
            Ok(())
        })
        .unwrap();
    total
}

fn pounds(minor: i64) -> String {
    let whole = (minor / 100).to_string();
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("£{out}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_stored_figures() {
    let app = App::spawn().await;
    let body = app.api().get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let won = revenue_won_in_november(&app);
    assert!(won > 100_000, "the demo has won deals this month");
    assert!(
        body.contains(&format!("<p class=\"value\">{}</p>", pounds(won))),
        "revenue won {} on the dashboard",
        pounds(won)
    );
    // Leading and lagging side by side, the leaderboard, the funnel, the trends.
    for part in ["Leading", "Lagging", "Leaderboard", "Funnel", "Last 90 days", "When do we sell"] {
        assert!(body.contains(part), "{part}");
    }
}

/// Issue 16 (explaining a change): the dashboard says in one sentence why each key metric moved,
/// against the same stretch of the month before, with a link to the records behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_says_why_revenue_won_moved() {
    let app = App::spawn().await;
    let body = app.api().get(app.url("/")).send().await.unwrap().text().await.unwrap();
    // 1 November to the clock (23 November 15:00 GMT) against 1 October 00:00 BST (30 September
    // 23:00 UTC) to 23 October 15:00 BST (14:00 UTC).
    let november = revenue_won_in_november(&app);
    let october = revenue_won_between(&app, 1_790_809_200_000_000, 1_792_764_000_000_000);
    let change = november - october;
    assert!(change.abs() >= 100_000, "the demo's bookings moved by at least £1,000");
    let whole = format!("{:.0}", (change.abs() as f64) / 100.0);
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if change < 0 { "−" } else { "+" };
    let start = format!("Revenue won (bookings) {sign}£{grouped} (");
    assert!(body.contains("<ul class=\"why\""), "a list of why the metrics moved");
    let at = body.find(&start).unwrap_or_else(|| panic!("{start} on the dashboard"));
    let sentence = &body[at..at + body[at..].find("</li>").unwrap()];
    assert!(sentence.contains("against 1–23 Oct 2026 until 15:00: "), "{sentence}");
    // Split along its drivers, and a link to the records.
    assert!(
        sentence.contains("deals won (") && sentence.contains("average deal size ("),
        "{sentence}"
    );
    assert!(sentence.contains("See the records</a>"), "{sentence}");
}

pub(crate) async fn post_form(app: &App, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", traction_web::encode(k), traction_web::encode(v)))
        .collect();
    app.api()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_an_activity_stores_it_and_a_bad_one_stores_nothing() {
    let app = App::spawn().await;
    let before = app.count(Entity::Activities);
    let r = post_form(
        &app,
        "/log",
        &[
            ("kind", "call"),
            ("outcome", "connected"),
            ("owner_id", "web-admin"),
            ("duration_min", "7"),
            ("subject", "Follow-up <b>"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/log?logged=activities-"), "{to}");
    assert_eq!(app.count(Entity::Activities), before + 1);
    let id = to.trim_start_matches("/log?logged=");
    let a = app.get(Entity::Activities, id).unwrap();
    assert_eq!(a.get("kind").as_text(), Some("call"));
    assert_eq!(a.get("owner_id").as_text(), Some("web-admin"));
    assert_eq!(a.get("duration_s").as_int(), Some(420));
    let at = a.get("occurred_at").as_instant().unwrap();
    assert!((NOW..NOW + 60_000_000).contains(&at), "empty time is now");
    let page = app.api().get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Call logged at Mon 23 Nov 15:00"), "{page}");

    for (fields, field) in [
        (vec![("kind", "telepathy"), ("owner_id", "web-admin")], "kind"),
        (vec![("kind", "call"), ("owner_id", "nobody")], "owner_id"),
        (
            vec![("kind", "call"), ("owner_id", "web-admin"), ("duration_min", "lots")],
            "duration_min",
        ),
        (
            vec![("kind", "call"), ("owner_id", "web-admin"), ("occurred_at", "2026-02-30T10:00")],
            "occurred_at",
        ),
    ] {
        let r = post_form(&app, "/log", &fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("Nothing was saved"), "{page}");
        assert!(
            page.contains(&format!("data-for=\"{field}\" role=\"alert\"")),
            "the error sits by {field}: {page}"
        );
        assert_eq!(app.count(Entity::Activities), before + 1, "nothing stored for {fields:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_deal_on_the_board_records_the_stage_change() {
    let app = App::spawn().await;
    let (id, won_stage) = app.open_deal_and_won_stage();
    let changes = app.count(Entity::StageChanges);
    let r = post_form(
        &app,
        "/pipeline/move",
        &[("deal", &id), ("stage", &won_stage), ("back", "/pipeline?owner=")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/pipeline?owner=#deal-{id}"), "back at the card");
    let moved = app.get(Entity::Deals, &id).unwrap();
    assert_eq!(moved.get("status").as_text(), Some("won"));
    assert!(
        moved.get("closed_at").as_instant().is_some_and(|c| (NOW..NOW + 60_000_000).contains(&c)),
        "closed now"
    );
    assert_eq!(app.count(Entity::StageChanges), changes + 1);
    // An open redirect is refused: back goes to the board.
    let r = post_form(
        &app,
        "/pipeline/move",
        &[("deal", &id), ("stage", &won_stage), ("back", "//evil.example/")],
    )
    .await;
    assert_eq!(r.headers()["location"], format!("/pipeline#deal-{id}"));
    // A stage that does not exist changes nothing.
    let r = post_form(&app, "/pipeline/move", &[("deal", &id), ("stage", "nowhere")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        app.get(Entity::Deals, &id).unwrap().get("stage_id").as_text(),
        Some(won_stage.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_set_on_the_page_is_stored_and_shown() {
    let app = App::spawn().await;
    let before = app.count(Entity::Targets);
    let fields = [
        ("metric", "calls_made"),
        ("scope", "company"),
        ("period", "month"),
        ("starts_on", "2026-11-01"),
        ("value", "1234"),
        ("split", "calendar"),
        ("at_risk", "0.9"),
        ("off_track", "0.75"),
    ];
    let r = post_form(&app, "/targets", &fields).await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(app.count(Entity::Targets), before + 1);
    let id = to.trim_start_matches("/targets/");
    let t = app.get(Entity::Targets, id).unwrap();
    assert_eq!(t.get("metric").as_text(), Some("calls_made"));
    let page = app
        .api()
        .get(app.url(&format!("{to}?grain=week")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Calls made · Company"), "{page}");
    assert!(page.contains("1,234"), "{page}");
    // An unknown metric is refused next to the field, and nothing is stored.
    let mut bad = fields.to_vec();
    bad[0] = ("metric", "happiness");
    let r = post_form(&app, "/targets", &bad).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("&quot;happiness&quot; is not a metric of the catalog")
    );
    assert_eq!(app.count(Entity::Targets), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_an_error_shows_it_by_line_and_stores_nothing() {
    let app = App::spawn().await;
    let before = app.count(Entity::Teams);
    let file = "id,name,parent_id\nt-new-1,North,\nt-new-2,South,no-such-team\n";
    let form = reqwest::multipart::Form::new().text("entity", "teams").part(
        "file",
        reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("teams.csv"),
    );
    let r = app.api().post(app.url("/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("1 error in teams.csv — nothing was stored in teams"), "{page}");
    assert!(
        page.contains("<td class=\"num\">3</td><td>parent_id</td>"),
        "line 3, column parent_id: {page}"
    );
    assert_eq!(app.count(Entity::Teams), before);
    let good = "id,name,parent_id\nt-new-1,North,\n";
    let form = reqwest::multipart::Form::new().text("entity", "teams").part(
        "file",
        reqwest::multipart::Part::bytes(good.as_bytes().to_vec()).file_name("teams.csv"),
    );
    let r = app.api().post(app.url("/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("1 rows — 1 new, 0 updated, 0 unchanged"));
    assert_eq!(app.count(Entity::Teams), before + 1);
    assert_eq!(
        app.get(Entity::Teams, "t-new-1").unwrap().get("name"),
        &Value::Text("North".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_another_tool_is_guessed_previewed_then_imported() {
    let app = App::spawn().await;
    let before = app.count(Entity::Deals);
    let file = "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Status,Deal - Pipeline,Deal - Stage,Deal - Owner,Deal - Organization,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Expected close date,Deal - Lost reason\n\
        901,Web preview deal,250,,open,Web Pipe,Lead In,Pat Web,Webco,2026-01-05 10:00:00,,,,\n";
    let upload = |dry: bool| {
        let mut form =
            reqwest::multipart::Form::new().text("entity", "teams").text("source", "auto");
        if dry {
            form = form.text("dry_run", "true");
        }
        form.part(
            "file",
            reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("deals.csv"),
        )
    };
    let r = app.api().post(app.url("/import")).multipart(upload(true)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Read as pipedrive-deals (guessed from the header)"), "{page}");
    assert!(page.contains("deals: 1 created, 0 updated, 0 unchanged"), "{page}");
    assert!(page.contains("<code>name=Web preview deal</code>"), "{page}");
    assert_eq!(app.count(Entity::Deals), before);
    let r = app.api().post(app.url("/import")).multipart(upload(false)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.count(Entity::Deals), before + 1);
    assert_eq!(
        app.get(Entity::Deals, "pd-deal-901").unwrap().get("name"),
        &Value::Text("Web preview deal".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_downloads_what_it_shows_as_csv() {
    let app = App::spawn().await;
    let r = app
        .api()
        .get(app.url("/explore.csv?metric=deals_won&from=2026-11-01&to=2026-11-24&grain=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("deals_won.csv"));
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("period,value"));
    // Deals won in November, counted from the stored deals.
    let start = 1_793_491_200_000_000;
    let mut won = 0;
    app.store
        .scan(Entity::Deals, &mut |d| {
            if d.get("status").as_text() == Some("won")
                && d.get("closed_at").as_instant().is_some_and(|c| (start..NOW).contains(&c))
            {
                won += 1;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(lines.next(), Some(format!(",{won}").as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_is_escaped() {
    let app = App::spawn().await;
    let r = app
        .api()
        .patch(app.url("/api/v1/users/web-admin"))
        .json(&serde_json::json!({"name": "<script>alert(1)</script>"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let page = app.api().get(app.url("/settings")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert(1)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_token_is_made_on_the_settings_page_shown_once_and_revoked_there() {
    let app = App::spawn().await;
    let r = post_form(&app, "/settings/tokens", &[("name", "nightly import")]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let start = page.find("<code class=\"token\">").expect("the token is shown")
        + "<code class=\"token\">".len();
    let token = &page[start..start + page[start..].find('<').unwrap()];
    assert_eq!(token.len(), 43, "32 random bytes in base64url: {token}");
    let with = |t: &str| {
        let t = t.to_string();
        let client = reqwest::Client::new();
        let url = app.url("/api/v1/users?limit=1");
        async move { client.get(url).bearer_auth(t).send().await.unwrap().status() }
    };
    assert_eq!(with(token).await, 200);
    // Shown once: the settings page lists it by name, never the token again.
    let again = app.api().get(app.url("/settings")).send().await.unwrap().text().await.unwrap();
    assert!(again.contains("nightly import") && !again.contains(token));
    let stored = app.store.tokens(Some("web-admin")).unwrap();
    let id = stored.iter().find(|t| t.name == "nightly import").unwrap().id.clone();
    let r = post_form(&app, "/settings/tokens/revoke", &[("id", &id)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(with(token).await, 401, "a revoked token no longer works");
    // Someone else's token (or none) is not found, and nothing changes.
    let r = post_form(&app, "/settings/tokens/revoke", &[("id", "tok-0000000000000000")]).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_by_another_process_reaches_open_pages_as_a_reload() {
    let app = App::spawn().await;
    let mut events = app.api().get(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    // Another connection to the same file, as `traction import` in another process would be.
    let path = app.dir.path().join("traction.db");
    tokio::task::spawn_blocking(move || {
        let other = traction_store::open(&path).unwrap();
        let mut values = vec![Value::Null; Entity::Teams.fields().len()];
        values[Entity::Teams.field_index("id").unwrap()] = Value::Text("t-elsewhere".into());
        values[Entity::Teams.field_index("name").unwrap()] = Value::Text("Elsewhere".into());
        let mut w = other.writer().unwrap();
        w.put(0, traction_domain::Record { entity: Entity::Teams, values }).unwrap();
        w.commit().unwrap();
    })
    .await
    .unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("event: reload") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a reload within 5 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // Asked again, the server reads the new data.
    let r = app.api().get(app.url("/api/v1/teams/t-elsewhere")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_writes_only_their_own_records_from_the_pages() {
    let app = App::spawn().await;
    // A rep of the demo's first team, with a token (as `traction token create` makes it).
    let mut rep = None;
    app.store
        .scan(Entity::Users, &mut |u| {
            if rep.is_none()
                && u.get("role").as_text() == Some("rep")
                && u.get("team_id").as_text().is_some()
            {
                rep = Some(u.get("id").as_text().unwrap().to_string());
            }
            Ok(())
        })
        .unwrap();
    let rep = rep.expect("the demo has reps");
    let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
    let (_, token) =
        traction_server::auth::api::issue_token(&*app.store, &rep, "tests", NOW, &actor).unwrap();
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |fields: Vec<(&'static str, String)>| {
        let body: Vec<String> =
            fields.iter().map(|(k, v)| format!("{k}={}", traction_web::encode(v))).collect();
        client
            .post(app.url("/log"))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
    };
    let before = app.count(Entity::Activities);
    let r = post(vec![("kind", "call".into()), ("owner_id", "web-admin".into())]).await.unwrap();
    assert_eq!(r.status(), 403, "a rep logs no activity for someone else");
    assert_eq!(app.count(Entity::Activities), before);
    let r = post(vec![("kind", "call".into()), ("owner_id", rep.clone())]).await.unwrap();
    assert_eq!(r.status(), 303, "their own");
    assert_eq!(app.count(Entity::Activities), before + 1);
    // Settings are for admins.
    let r = client
        .post(app.url("/settings"))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("currency=EUR")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.workspace().unwrap().currency.code(), "GBP");
}

/// Leads created, counted from the stored leads (not through the metrics engine), in `[lo, hi)`.
fn leads_created(app: &App, lo: i64, hi: i64) -> i64 {
    let mut n = 0;
    app.store
        .scan(Entity::Leads, &mut |l| {
            if l.get("created_at").as_instant().is_some_and(|t| (lo..hi).contains(&t)) {
                n += 1;
            }
            Ok(())
        })
        .unwrap();
    n
}

/// Issue 22.1: on Monday 23 November 2026 at 15:00 the month so far is compared with 1 October
/// 00:00 → 23 October 15:00 (London, on summer time until 25 October), not with the whole of
/// October, and the table says so; a year ago is 1 → 23 November 2025 15:00.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_the_dashboard_compares_the_month_so_far_like_for_like() {
    let app = App::spawn().await;
    let body = app.api().get(app.url("/?period=month")).send().await.unwrap().text().await.unwrap();
    // 1 November 00:00 GMT; 1 October 00:00 BST is 30 September 23:00 UTC; 23 October 15:00
    // BST is 14:00 UTC; 1 November 2025 00:00 GMT; 23 November 2025 15:00 GMT.
    let nov = leads_created(&app, 1_793_491_200_000_000, NOW);
    let oct = leads_created(&app, 1_790_809_200_000_000, 1_792_764_000_000_000);
    let year_ago = leads_created(&app, 1_761_955_200_000_000, 1_763_910_000_000_000);
    let whole_oct = leads_created(&app, 1_790_809_200_000_000, 1_793_491_200_000_000);
    assert!(oct > 0 && year_ago > 0 && whole_oct > oct, "the demo has leads then");
    let change = |a: i64, b: i64| {
        let c = a as f64 / b as f64 - 1.0;
        format!("{} {:.1}%", if c >= 0.0 { "▲" } else { "▼" }, c.abs() * 100.0)
    };
    let vs_previous = "vs 1–23 Oct 2026 until 15:00";
    let vs_year = "vs 1–23 Nov 2025 until 15:00";
    assert!(body.contains(vs_previous) && body.contains(vs_year), "the heads name the stretches");
    let row_start = body.find(">Leads created</a>").expect("a leads created row");
    let row = &body[row_start..row_start + body[row_start..].find("</tr>").unwrap()];
    assert!(
        row.contains(&format!(
            "title=\"change against 1–23 Oct 2026 until 15:00\">{}<",
            change(nov, oct)
        )),
        "leads created {nov} against {oct} in 1–23 October: {row}"
    );
    assert!(
        row.contains(&format!(
            "title=\"change against 1–23 Nov 2025 until 15:00\">{}<",
            change(nov, year_ago)
        )),
        "leads created {nov} against {year_ago} a year ago: {row}"
    );
    // The revenue won tile: this month's won deals against those won 1 October → 23 October
    // 15:00, summed from the stored deals.
    let won_in = |lo: i64, hi: i64| {
        let mut total = 0;
        app.store
            .scan(Entity::Deals, &mut |d| {
                if d.get("status").as_text() == Some("won")
                    && d.get("closed_at").as_instant().is_some_and(|t| (lo..hi).contains(&t))
                {
                    total += d.get("amount").as_int().unwrap_or(0);
                }
                Ok(())
            })
            .unwrap();
        total
    };
    let won_oct = won_in(1_790_809_200_000_000, 1_792_764_000_000_000);
    let tile_start = body
        .find(&format!("<p class=\"value\">{}</p>", pounds(revenue_won_in_november(&app))))
        .expect("the revenue won tile");
    let tile = &body[tile_start..tile_start + body[tile_start..].find("</article>").unwrap()];
    assert!(
        tile.contains(&format!(
            "title=\"change against 1–23 Oct 2026 until 15:00\">{}<",
            change(revenue_won_in_november(&app), won_oct)
        )) && tile.contains("vs 1–23 Oct 2026 until 15:00"),
        "revenue won against {won_oct} in 1–23 October: {tile}"
    );
    // The report of the same scope and period is linked in each of its formats.
    for format in ["html", "md", "csv", "json"] {
        let link = format!(
            "/api/v1/report?from=2026-11-01&amp;to=2026-12-01&amp;scope=company&amp;format={format}"
        );
        assert!(body.contains(&link), "a link to the {format} report");
    }
    // The linked report answers, and compares as the dashboard does.
    let html = app
        .api()
        .get(app.url("/api/v1/report?from=2026-11-01&to=2026-12-01&scope=company&format=html"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sales report") && html.contains(vs_previous), "{html}");
}

/// Issue 25: the explorer may not single out a record its reader cannot read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_keeps_a_filtered_query_to_the_readers_scope() {
    let app = App::spawn().await;
    // A rep in no team reads only their own records (they own none).
    crate::app::add_user(&*app.store, "iso", "Iso Rep", "rep", None);
    let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
    let (_, token) =
        traction_server::auth::api::issue_token(&*app.store, "iso", "tests", NOW, &actor).unwrap();
    // Someone else's open deal with an amount.
    let mut deal = None;
    app.store
        .scan(Entity::Deals, &mut |d| {
            if deal.is_none()
                && d.get("status").as_text() == Some("open")
                && d.get("amount").as_int().is_some_and(|a| a > 0)
            {
                deal = d.get("id").as_text().map(str::to_string);
            }
            Ok(())
        })
        .unwrap();
    let deal = deal.expect("the demo has open deals");
    let path = format!(
        "/explore.csv?metric=open_pipeline_value&grain=all&from=2020-01-01&to=2026-11-24&where={}",
        traction_server::auth::form_encode(&format!("id = '{deal}'"))
    );
    let value = |csv: &str| -> f64 {
        let row = csv.lines().nth(1).unwrap_or("");
        row.rsplit(',').next().unwrap_or("").parse().unwrap_or(0.0)
    };
    let admin = app.api().get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(value(&admin) > 0.0, "the admin sees the deal's amount: {admin}");
    let rep = reqwest::Client::new()
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(value(&rep), 0.0, "the rep learns nothing of it: {rep}");
}

/// Issue 19 point 4: the import page follows a large file: an upload named with a `progress`
/// id is found at `/import/progress?id=…` while it imports — the bytes of the file read, of its
/// size — and is gone once the page has answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_reports_its_progress_while_it_runs() {
    let app = App::spawn().await;
    // 60,000 web visits (2,000 days × 30 sources), about 1.9 MB.
    let mut file = String::from("day,source,visitors\n");
    let start = jiff::civil::date(2001, 1, 1);
    for d in 0..2000 {
        let day = start.checked_add(jiff::Span::new().days(d)).unwrap();
        for s in 0..30 {
            file.push_str(&format!("{day},progress-src-{s},{}\n", (d + s) % 97));
        }
    }
    let size = file.len() as u64;
    let form = reqwest::multipart::Form::new()
        .text("entity", "web_visits")
        .part("file", reqwest::multipart::Part::bytes(file.into_bytes()).file_name("visits.csv"));
    let client = app.api();
    let upload = tokio::spawn({
        let client = client.clone();
        let url = app.url("/import?progress=big-1");
        async move { client.post(url).multipart(form).send().await.unwrap() }
    });
    let mut seen: Vec<(u64, u64)> = Vec::new();
    while !upload.is_finished() {
        let r = client.get(app.url("/import/progress?id=big-1")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let p: serde_json::Value = r.json().await.unwrap();
        if p["running"] == true {
            seen.push((p["read"].as_u64().unwrap(), p["total"].as_u64().unwrap()));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let answer = upload.await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("60000 rows — 60000 new"));
    assert!(seen.iter().any(|(read, _)| *read > 0), "the import was never seen reading: {seen:?}");
    assert!(seen.iter().all(|(read, total)| *total == size && *read <= size), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "what is read only grows: {seen:?}");
    // Finished: no longer in progress; another id was never there.
    for id in ["big-1", "other"] {
        let r = client.get(app.url(&format!("/import/progress?id={id}"))).send().await.unwrap();
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({"running": false})
        );
    }
}

/// Issue 19 point 6: a large file streams through the page (spooled to a temporary file as it
/// arrives, never held whole): a dry run of 150,000 web visits (about 4.2 MB) stores nothing and
/// counts them all, a bad value on the very last line is found by line and column with nothing
/// stored, and the import stores every row with the figures worked out by hand. The file part
/// comes before `dry_run` in the body, as the page's form sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_streams_through_the_page_with_its_figures() {
    let app = App::spawn_empty().await;
    // 3,000 days × 50 sources; visitors = (day number mod 100) + source number.
    let (days, sources) = (3000i64, 50u64);
    let mut file = String::from("day,source,visitors\n");
    let start = jiff::civil::date(2001, 1, 1);
    for d in 0..days {
        let day = start.checked_add(jiff::Span::new().days(d)).unwrap();
        for s in 0..sources {
            file.push_str(&format!("{day},big-upload-{s:02},{}\n", d as u64 % 100 + s));
        }
    }
    assert!(file.len() > 4_000_000, "a large file: {} bytes", file.len());
    let client = app.api();
    let post = |body: String, dry: bool| {
        let client = client.clone();
        let url = app.url("/import");
        async move {
            let mut form = reqwest::multipart::Form::new().text("entity", "web_visits").part(
                "file",
                reqwest::multipart::Part::bytes(body.into_bytes()).file_name("visits.csv"),
            );
            if dry {
                form = form.text("dry_run", "true");
            }
            client.post(url).multipart(form).send().await.unwrap()
        }
    };
    // 150,000 rows.
    let r = post(file.clone(), true).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Dry run of visits.csv: 150000 rows, no errors"), "{page}");
    assert!(page.contains("web_visits: 150000 created, 0 updated, 0 unchanged"), "{page}");
    assert_eq!(app.count(Entity::WebVisits), 0, "a dry run stores nothing");
    // One bad value on the last line: 1 header + 150,000 rows, so line 150,002.
    let bad = format!("{file}2001-01-01,big-upload-xx,many\n");
    let r = post(bad, false).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("1 error in visits.csv — nothing was stored in web_visits"), "{page}");
    assert!(page.contains("<td class=\"num\">150002</td><td>visitors</td>"), "{page}");
    assert_eq!(app.count(Entity::WebVisits), 0, "nothing stored on error");
    // The import.
    let r = post(file, false).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("150000 rows — 150000 new, 0 updated, 0 unchanged"), "{page}");
    assert_eq!(app.count(Entity::WebVisits), 150_000);
    // Visitors: each source sees Σ(d mod 100) over 3,000 days = 30 × (0+…+99) = 30 × 4,950 =
    // 148,500; the sources add 3,000 × (0+…+49) = 3,000 × 1,225 = 3,675,000. In all
    // 50 × 148,500 + 3,675,000 = 11,100,000. Source 07 alone: 148,500 + 3,000 × 7 = 169,500.
    let (mut total, mut seven, mut rows_seven) = (0i64, 0i64, 0u64);
    app.store
        .scan(Entity::WebVisits, &mut |v| {
            let n = match v.get("visitors") {
                Value::Int(n) => *n,
                other => panic!("visitors is a whole number: {other:?}"),
            };
            total += n;
            if v.get("source").as_text() == Some("big-upload-07") {
                seven += n;
                rows_seven += 1;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(total, 11_100_000);
    assert_eq!((seven, rows_seven), (169_500, 3000));
}

/// Issue 23: a page's query string and a form body decode by the server's one rule (`+` is a
/// space), and text that is not UTF-8 once decoded is a 400 page that says so, storing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_or_form_that_is_not_utf8_is_a_400_page_that_says_so() {
    let app = App::spawn().await;
    let r = app.api().get(app.url("/deals?owner=%ff")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("the query string is not UTF-8"), "{page}");
    let before = app.count(Entity::Activities);
    let r = app
        .api()
        .post(app.url("/log"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("kind=call&outcome=connected&owner_id=web-admin&notes=%C3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("the form is not UTF-8"), "{page}");
    assert_eq!(app.count(Entity::Activities), before);
}
