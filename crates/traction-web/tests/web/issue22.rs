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
