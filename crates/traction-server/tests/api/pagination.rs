//! Listing: key order, cursors, limits, filters, and paging while others insert.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value as Json, json};

use crate::helpers::TestApp;

fn ids(items: &[Json]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

async fn import_teams(app: &TestApp, ids: impl Iterator<Item = String>) {
    let mut csv = String::from("id,name\n");
    for id in ids {
        csv.push_str(&format!("{id},Team {id}\n"));
    }
    let answer =
        app.raw(reqwest::Method::POST, "/api/v1/teams/import", Some("text/csv"), csv).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_the_key_order_once() {
    let app = TestApp::spawn().await;
    import_teams(&app, (0..25).map(|i| format!("t{i:02}"))).await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/teams?limit=10".to_string();
    let mut pages = 0;
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        pages += 1;
        seen.extend(ids(page.body["items"].as_array().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/teams?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    // 25 records in pages of 10: 10, 10, 5.
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("t{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_defaults_to_100_and_is_clamped_to_1000() {
    let app = TestApp::spawn().await;
    import_teams(&app, (0..1005).map(|i| format!("t{i:04}"))).await;
    let default = app.get("/api/v1/teams").await;
    assert_eq!(default.body["items"].as_array().unwrap().len(), 100);
    let clamped = app.get("/api/v1/teams?limit=5000").await;
    assert_eq!(clamped.status, StatusCode::OK);
    let items = clamped.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1000);
    assert_eq!(items[999]["id"], "t0999");
    let rest = app
        .get(&format!(
            "/api/v1/teams?limit=5000&cursor={}",
            clamped.body["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        ids(rest.body["items"].as_array().unwrap()),
        ["t1000", "t1001", "t1002", "t1003", "t1004"]
    );
    assert_eq!(rest.body["next_cursor"], Json::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_are_equalities_on_fields() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    app.create("teams", json!({"id": "t2", "name": "South", "parent_id": "t1"})).await;
    let children = app.all("teams", "&parent_id=t1").await;
    assert_eq!(ids(&children), ["t2"]);
    // An empty value matches an absent field.
    let roots = app.all("teams", "&parent_id=").await;
    assert_eq!(ids(&roots), ["t1"]);
    let open = app.all("stages", "&pipeline_id=p1&kind=open").await;
    assert_eq!(ids(&open), ["s1", "s2"]);
    // Values are read as an import reads them: enums are lower-cased.
    let won = app.all("stages", "&kind=WON").await;
    assert_eq!(ids(&won), ["r-won", "won"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_entities_page_by_their_whole_key() {
    let app = TestApp::spawn().await;
    let visits: Vec<Json> =
        ["2026-01-02/web", "2026-01-01/web", "2026-01-01/ads", "2026-01-03/ads"]
            .iter()
            .map(|k| {
                let (day, source) = k.split_once('/').unwrap();
                json!({"day": day, "source": source, "visitors": 1})
            })
            .collect();
    app.create("web_visits", Json::Array(visits)).await;
    let first = app.get("/api/v1/web_visits?limit=3").await;
    let keys = |items: &Json| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{}/{}", v["day"].as_str().unwrap(), v["source"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(keys(&first.body["items"]), ["2026-01-01/ads", "2026-01-01/web", "2026-01-02/web"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/web_visits?limit=3&cursor={cursor}")).await;
    assert_eq!(keys(&second.body["items"]), ["2026-01-03/ads"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_while_records_are_added_sees_every_existing_record_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    // Existing records at even numbers; the writer adds odd ones, before and after the pager.
    import_teams(&app, (0..400).step_by(2).map(|i| format!("t{i:04}"))).await;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in (1..400).step_by(2).rev() {
                app.create("teams", json!({"id": format!("t{i:04}"), "name": "late"})).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/teams?limit=7&cursor={c}"),
            None => "/api/v1/teams?limit=7".to_string(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(ids(page.body["items"].as_array().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    writer.await.unwrap();
    // Strictly increasing: nothing twice, nothing out of order.
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "pages overlap or go back");
    // Every record that existed before paging began is there.
    let seen: HashSet<String> = seen.into_iter().collect();
    for i in (0..400).step_by(2) {
        assert!(seen.contains(&format!("t{i:04}")), "t{i:04} was skipped");
    }
    assert_eq!(app.all("teams", "").await.len(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_filters_in_the_expression_language() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let deals: Vec<Json> = [
        ("d1", "s1", "50"),
        ("d2", "s1", "150.00"),
        ("d3", "s2", "250"),
        ("d4", "s1", "1000"),
    ]
    .iter()
    .map(|(id, stage, amount)| {
        json!({"id": id, "pipeline_id": "p1", "stage_id": stage, "owner_id": "u1", "amount": amount,
                   "created_at": "2026-02-01T00:00:00Z"})
    })
    .collect();
    app.create("deals", Json::Array(deals)).await;
    // amount ≥ 150 in stage s1: d2 (150) and d4 (1000); d3 is in s2, d1 is below.
    let found =
        app.all("deals", "&where=amount%20%3E%3D%20150%20and%20stage_id%20%3D%20's1'").await;
    assert_eq!(ids(&found), ["d2", "d4"]);
    // With an equality filter and pages of one: the same two, one page each.
    let first = app.get("/api/v1/deals?limit=1&owner_id=u1&where=amount%20%3E%3D%20150%20and%20stage_id%20%3D%20's1'").await;
    assert_eq!(ids(first.body["items"].as_array().unwrap()), ["d2"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/api/v1/deals?limit=1&owner_id=u1&where=amount%20%3E%3D%20150%20and%20stage_id%20%3D%20's1'&cursor={cursor}"))
        .await;
    assert_eq!(ids(second.body["items"].as_array().unwrap()), ["d4"]);
}
