//! Issue 22 (points 4–8): the web app's defaults, lists and polish, over HTTP. The browser
//! checks of the same points (many tabs live, the board's widths, no page wider than a phone)
//! are in `browser.rs`.

use traction_domain::{Entity, Record};
use traction_store::Store;

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
        traction_server::auth::api::issue_token(&app.store, user, "tests", NOW, &actor).unwrap();
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
}
