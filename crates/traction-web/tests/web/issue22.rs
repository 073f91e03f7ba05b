//! Issue 22 (points 4–8): the web app's defaults, lists and polish, over HTTP. The browser
//! checks of the same points (many tabs live, the board's widths, no page wider than a phone)
//! are in `browser.rs`.

use traction_domain::{Entity, Record};

use crate::app::{App, NOW};

/// The users of the store.
fn users(app: &App) -> Vec<Record> {
    let mut out = Vec::new();
    app.store
        .scan(Entity::Users, &mut |u| {
            out.push(u);
            Ok(())
        })
        .unwrap();
    out
}

fn text<'a>(r: &'a Record, field: &str) -> &'a str {
    r.get(field).as_text().unwrap_or("")
}

/// A client that signs in as `user` with a fresh API token.
fn client_as(app: &App, user: &str) -> reqwest::Client {
    let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
    let (_, token) =
        traction_server::auth::api::issue_token(&*app.store, user, "tests", NOW, &actor).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(client: &reqwest::Client, app: &App, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The text of the first `<p class="sub">` (a page's scope line).
fn sub_line(body: &str) -> String {
    let start = body.find("<p class=\"sub\">").expect("a sub line") + "<p class=\"sub\">".len();
    body[start..start + body[start..].find("</p>").unwrap()].to_string()
}

/// 22.8: Today opens on the company for an admin, the team for a manager, oneself for a rep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn today_opens_on_what_the_reader_answers_for() {
    let app = App::spawn().await;
    let all = users(&app);
    let manager = all
        .iter()
        .find(|u| text(u, "role") == "manager" && !text(u, "team_id").is_empty())
        .expect("the demo has a manager of a team");
    let team_id = text(manager, "team_id");
    let team = app.get(Entity::Teams, team_id).unwrap();
    let rep = all.iter().find(|u| text(u, "role") == "rep").expect("the demo has reps");

    let admin = page(&app.api(), &app, "/today").await;
    assert!(sub_line(&admin).starts_with("Company · "), "admin: {}", sub_line(&admin));
    let managers = page(&client_as(&app, text(manager, "id")), &app, "/today").await;
    assert!(
        sub_line(&managers).starts_with(&format!("{} · ", text(&team, "name"))),
        "manager of {team_id}: {}",
        sub_line(&managers)
    );
    let reps = page(&client_as(&app, text(rep, "id")), &app, "/today").await;
    assert!(
        sub_line(&reps).starts_with(&format!("{} · ", text(rep, "name"))),
        "rep: {}",
        sub_line(&reps)
    );
    // A scope in the URL still wins.
    let chosen = page(&client_as(&app, text(manager, "id")), &app, "/today?scope=company").await;
    assert!(sub_line(&chosen).starts_with("Company · "), "{}", sub_line(&chosen));
}

/// 22.7: the explorer's table and CSV have every bucket of the range, an empty one of a count
/// as a zero row, as its chart has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorers_table_and_csv_have_empty_buckets_as_zero_rows() {
    let app = App::spawn().await;
    // A deal won in November (Europe/London is on UTC then, so its UTC date is its local date).
    let mut deal = None;
    app.store
        .scan(Entity::Deals, &mut |d| {
            let november = 1_793_491_200_000_000..NOW;
            if deal.is_none()
                && d.get("status").as_text() == Some("won")
                && d.get("closed_at").as_instant().is_some_and(|c| november.contains(&c))
            {
                deal = Some(d);
            }
            Ok(())
        })
        .unwrap();
    let deal = deal.expect("a deal won in November");
    let id = text(&deal, "id").to_string();
    let closed = deal.get("closed_at").as_instant().unwrap();
    let day =
        jiff::Timestamp::from_microsecond(closed).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = day.checked_sub(jiff::Span::new().days(3)).unwrap();
    let to = day.checked_add(jiff::Span::new().days(4)).unwrap();
    let query = format!(
        "metric=deals_won&from={from}&to={to}&grain=day&where={}",
        traction_web::encode(&format!("id = '{id}'"))
    );
    // Seven days: three empty, the day it was won, three empty.
    let expected: Vec<String> = (0..7)
        .map(|i| {
            let d = from.checked_add(jiff::Span::new().days(i)).unwrap();
            format!("{d},{}", if d == day { 1 } else { 0 })
        })
        .collect();
    let csv = app.api().get(app.url(&format!("/explore.csv?{query}"))).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "period,value");
    assert_eq!(lines[1..], expected.iter().map(String::as_str).collect::<Vec<_>>()[..], "{csv}");

    let body = page(&app.api(), &app, &format!("/explore?{query}")).await;
    let table = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 7, "{table}");
    assert!(body.contains("7 rows"), "the count of rows says so too");
    // The axis of these small values (0 and 1 a day): ticks 0.25 apart, each shown exactly.
    let ticks: Vec<&str> =
        body.split("text-anchor=\"end\">").skip(1).map(|t| &t[..t.find('<').unwrap()]).collect();
    assert_eq!(ticks, ["0", "0.25", "0.50", "0.75", "1.00"], "distinct, readable ticks");
}

/// Posts a form as the admin (API token: no CSRF token needed).
async fn post_form(app: &App, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: Vec<String> =
        fields.iter().map(|(k, v)| format!("{k}={}", traction_web::encode(v))).collect();
    let r = app
        .api()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The `<option>`s (value, text) of the select named `name` in a page.
fn options(body: &str, name: &str) -> Vec<(String, String)> {
    let start = body.find(&format!("<select name=\"{name}\"")).expect("the select");
    let select = &body[start..start + body[start..].find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let value = o[..o.find('"').unwrap()].to_string();
            let text = o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()].to_string();
            (value, text)
        })
        .collect()
}

/// 22.7: people are listed once, by name, two of the same name told apart (by team, then id);
/// inactive people and viewers are not offered as owners, and a form that names one anyway
/// is refused; a filter still lists the inactive (their records remain), marked so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_listed_once_told_apart_and_only_owners_offered() {
    let app = App::spawn().await;
    let mut teams = Vec::new();
    app.store
        .scan(Entity::Teams, &mut |t| {
            teams.push((text(&t, "id").to_string(), text(&t, "name").to_string()));
            Ok(())
        })
        .unwrap();
    let ((a, a_name), (b, b_name)) = (teams[0].clone(), teams[1].clone());
    crate::app::add_user(&*app.store, "p-sam1", "Sam Lee", "rep", Some(&a));
    crate::app::add_user(&*app.store, "p-sam2", "Sam Lee", "rep", Some(&b));
    crate::app::add_user(&*app.store, "p-sam3", "Sam Lee", "rep", Some(&a));
    crate::app::add_user(&*app.store, "p-gone", "Gone Person", "rep", Some(&a));
    crate::app::add_user(&*app.store, "p-view", "Vera Viewer", "viewer", Some(&a));
    let mut gone = app.get(Entity::Users, "p-gone").unwrap();
    gone.values[Entity::Users.field_index("active").unwrap()] = traction_domain::Value::Bool(false);
    let mut writer = app.store.writer().unwrap();
    writer.put(0, gone).unwrap();
    writer.commit().unwrap();

    let log = page(&app.api(), &app, "/log").await;
    let owners = options(&log, "owner_id");
    let mut ids: Vec<&str> = owners.iter().map(|(v, _)| v.as_str()).collect();
    let listed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), listed, "each person once: {owners:?}");
    let label = |id: &str| owners.iter().find(|(v, _)| v == id).map(|(_, t)| t.clone());
    assert_eq!(label("p-sam1").as_deref(), Some(format!("Sam Lee · {a_name} · p-sam1").as_str()));
    assert_eq!(label("p-sam2").as_deref(), Some(format!("Sam Lee · {b_name}").as_str()));
    assert_eq!(label("p-sam3").as_deref(), Some(format!("Sam Lee · {a_name} · p-sam3").as_str()));
    assert_eq!(label("p-gone"), None, "an inactive person is not offered as owner");
    assert_eq!(label("p-view"), None, "a viewer is not offered as owner");
    // By name: the list is in alphabetical order.
    let names: Vec<String> = owners.iter().map(|(_, t)| t.to_lowercase()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // A filter lists the inactive person last, marked, and no viewer.
    let leads = page(&app.api(), &app, "/leads").await;
    let filter = options(&leads, "owner");
    assert_eq!(
        filter.last().map(|(v, t)| (v.as_str(), t.as_str())),
        Some(("p-gone", "Gone Person (inactive)"))
    );
    assert!(filter.iter().all(|(v, _)| v != "p-view"));

    // Naming them anyway is refused, and nothing is stored.
    let before = app.count(Entity::Activities);
    let (status, body) = post_form(&app, "/log", &[("kind", "call"), ("owner_id", "p-gone")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("Gone Person is inactive"), "{body}");
    let (status, body) = post_form(&app, "/log", &[("kind", "call"), ("owner_id", "p-view")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("Vera Viewer is a viewer"), "{body}");
    assert_eq!(app.count(Entity::Activities), before);
}

/// 22.7: a time years ahead (a slip of the year) is asked to be confirmed before it is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_years_ahead_is_asked_to_be_confirmed() {
    let app = App::spawn().await;
    let before = app.count(Entity::Activities);
    let fields = [("kind", "call"), ("owner_id", "web-admin"), ("occurred_at", "2062-11-23T10:00")];
    let (status, body) = post_form(&app, "/log", &fields).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("more than a year from now (36 years ahead)"), "{body}");
    assert!(body.contains("name=\"confirm_future\""), "the page offers to confirm");
    assert_eq!(app.count(Entity::Activities), before, "nothing stored");
    // Next month needs no confirmation; 2062 confirmed is stored.
    let (status, body) = post_form(
        &app,
        "/log",
        &[("kind", "call"), ("owner_id", "web-admin"), ("occurred_at", "2026-12-20T10:00")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_future", "1"));
    let (status, body) = post_form(&app, "/log", &confirmed).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(app.count(Entity::Activities), before + 2);
}

/// 22.7: the web pages' errors speak of the page's fields, not of command-line flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_fields_not_command_line_flags() {
    let app = App::spawn().await;
    let body =
        page(&app.api(), &app, "/explore?metric=deals_won&from=2026-11-10&to=2026-11-10").await;
    assert!(body.contains("the start (from) must be before the end (to)"), "{body}");
    assert!(!body.contains("--from") && !body.contains("--to"), "a flag in: {body}");
}

/// The ids of the targets listed in a page of the targets list, in order.
fn listed_targets(body: &str) -> Vec<String> {
    let Some(start) = body.find("<tbody>") else { return Vec::new() };
    let rows = &body[start..body.find("</tbody>").unwrap()];
    rows.split("<tr>")
        .skip(1)
        .map(|row| {
            let from = row.find("href=\"/targets/").unwrap() + "href=\"/targets/".len();
            row[from..from + row[from..].find('"').unwrap()].to_string()
        })
        .collect()
}

/// Every page of a filtered list, followed by its Next links: the ids, and every row checked
/// for an actual, an expected value, a pace bar and a status.
async fn all_pages(app: &App, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = Some(first.to_string());
    while let Some(p) = path {
        let body = page(&app.api(), app, &p).await;
        let start = body.find("<tbody>").map_or(0, |s| s);
        let rows = &body[start..body.find("</tbody>").unwrap_or(start)];
        for row in rows.split("<tr>").skip(1) {
            assert!(row.contains("<svg class=\"pace\""), "a pace bar: {row}");
            assert!(row.contains("class=\"status status-"), "a status: {row}");
            assert_eq!(
                row.matches("<td class=\"num\">").count(),
                3,
                "target, actual, expected: {row}"
            );
        }
        let page_ids = listed_targets(&body);
        assert!(page_ids.len() <= 50, "{p}: {} rows", page_ids.len());
        ids.extend(page_ids);
        path = body.find("rel=\"next\"").map(|at| {
            let href = body[..at].rfind("href=\"").unwrap() + "href=\"".len();
            body[href..href + body[href..].find('"').unwrap()].replace("&amp;", "&")
        });
    }
    ids
}

/// 22.6: the targets list filters by scope, period, when and status, pages through all of
/// them, and shows each target's actual, expected and pace bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_targets_list_filters_and_pages_through_every_target() {
    let app = App::spawn().await;
    let mut stored: Vec<(String, String, String)> = Vec::new();
    app.store
        .scan(Entity::Targets, &mut |t| {
            stored.push((
                text(&t, "id").to_string(),
                text(&t, "scope").to_string(),
                text(&t, "period").to_string(),
            ));
            Ok(())
        })
        .unwrap();
    assert!(stored.len() > 50, "the demo has more targets than a page: {}", stored.len());
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let expect = |keep: &dyn Fn(&(String, String, String)) -> bool| {
        sorted(stored.iter().filter(|t| keep(t)).map(|t| t.0.clone()).collect())
    };

    // Every target, a page at a time.
    let first = page(&app.api(), &app, "/targets").await;
    let pages = stored.len().div_ceil(50);
    assert!(
        first.contains(&format!("{} targets · page 1 of {pages}", stored.len())),
        "{}",
        sub_line(&first)
    );
    let every = all_pages(&app, "/targets").await;
    assert_eq!(every.len(), stored.len(), "no target twice, none left out");
    assert_eq!(sorted(every), expect(&|_| true));

    // By scope and by period.
    assert_eq!(
        sorted(all_pages(&app, "/targets?scope=company").await),
        expect(&|t| t.1 == "company")
    );
    let team_scope = stored.iter().find(|t| t.1.starts_with("team:")).unwrap().1.clone();
    assert_eq!(
        sorted(all_pages(&app, &format!("/targets?scope={team_scope}")).await),
        expect(&|t| t.1 == team_scope)
    );
    assert_eq!(
        sorted(all_pages(&app, "/targets?period=week&scope=company").await),
        expect(&|t| t.1 == "company" && t.2 == "week")
    );

    // By status: every row listed has it.
    for status in ["achieved", "off_track"] {
        let body = page(&app.api(), &app, &format!("/targets?status={status}&period=month")).await;
        let rows = listed_targets(&body);
        assert!(!rows.is_empty(), "the demo has {status} monthly targets");
        let tbody = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
        assert_eq!(tbody.matches(&format!("class=\"status status-{status}\"")).count(), rows.len());
        assert_eq!(tbody.matches("class=\"status status-").count(), rows.len());
    }

    // Bad filters are 400 pages naming the field.
    for (path, field) in [
        ("/targets?status=great", "status"),
        ("/targets?period=fortnight", "period"),
        ("/targets?page=0", "page"),
        ("/targets?page=999", "page"),
        ("/targets?colour=red", "colour"),
    ] {
        let r = app.api().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert!(r.text().await.unwrap().contains(field), "{path}");
    }
}

/// 22.6: a target's hourly breakdown has the working hours only, under their day, and its
/// chart's axis has dates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_breakdown_has_working_hours_by_day_with_dates() {
    let app = App::spawn().await;
    // A company target of November spread over the calendar (weekdays 9–17 in the demo).
    let body = page(&app.api(), &app, "/targets?scope=company&period=month").await;
    let ids = listed_targets(&body);
    let mut target = None;
    for id in ids {
        let t = app.get(Entity::Targets, &id).unwrap();
        let starts_on = match t.get("starts_on") {
            traction_domain::Value::Date(d) => d.to_string(),
            _ => String::new(),
        };
        if starts_on == "2026-11-01" && text(&t, "split") != "even" {
            target = Some(id);
            break;
        }
    }
    let id = target.expect("a company target for November split by the calendar");
    let body = page(&app.api(), &app, &format!("/targets/{id}?grain=hour")).await;
    // The breakdown's own table, after the chart's data table.
    let tbody = &body[body.rfind("<tbody>").unwrap()..body.rfind("</tbody>").unwrap()];
    // The workspace's work hours: none before 9:00 or from 17:00 (Europe/London).
    let hours: Vec<&str> =
        tbody.split("<th scope=\"row\">").skip(1).map(|h| &h[..h.find('<').unwrap()]).collect();
    assert!(!hours.is_empty());
    let shown_hours: std::collections::BTreeSet<&str> = hours.iter().copied().collect();
    assert!(shown_hours.iter().all(|h| ("09:00".."17:00").contains(h)), "{shown_hours:?}");
    // Under day headings: the 21 weekdays of November 2026 (no holiday in it).
    let days = tbody.matches("scope=\"rowgroup\"").count();
    assert_eq!(days, 21, "one heading per working day");
    assert!(tbody.contains("Mon 2 Nov 2026") && !tbody.contains("Sun 1 Nov 2026"), "{tbody}");
    // The chart's axis names dates, not just hours.
    let svg = &body[body.find("<svg class=\"wide\"").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.contains(">2 Nov<") || svg.contains(">3 Nov<"), "dates on the axis: {svg}");
}
