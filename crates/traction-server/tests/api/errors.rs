//! Every failure answers the error body of interfaces.md with a fitting status, and changes
//! nothing. Malformed requests are 4xx, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};
use traction_domain::Entity;
use traction_server::Config;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_error_has_its_status_code_and_shape() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let teams = app.count(Entity::Teams);

    // 400: the body is not JSON, or not an object.
    let details = app
        .raw(
            Method::POST,
            "/api/v1/teams",
            Some("application/json"),
            "{\"id\": \"x\",\n\"name\": }",
        )
        .await
        .error(400, "bad_request")
        .clone();
    assert_eq!(details[0]["line"], 2, "the JSON error says where: {details:?}");
    app.raw(Method::POST, "/api/v1/teams", None, "\"a string\"").await.error(400, "bad_request");
    app.raw(Method::POST, "/api/v1/teams", None, "").await.error(400, "bad_request");
    app.raw(Method::POST, "/api/v1/teams", None, "[]").await.error(400, "bad_request");
    app.raw(Method::PUT, "/api/v1/teams/t1", None, "[{\"name\": \"x\"}]")
        .await
        .error(400, "bad_request");
    let twice = app
        .raw(Method::POST, "/api/v1/teams", None, "{\"id\": \"x\", \"id\": \"y\", \"name\": \"n\"}")
        .await;
    twice.error(400, "bad_request");
    // 400: bad query parameters.
    app.get("/api/v1/teams?limit=0").await.error(400, "bad_request");
    app.get("/api/v1/teams?limit=ten").await.error(400, "bad_request");
    app.get("/api/v1/teams?cursor=zz").await.error(400, "bad_request");
    app.get("/api/v1/teams?cursor=5b5d").await.error(400, "bad_request");
    let unknown_filter = app.get("/api/v1/teams?colour=red").await;
    assert_eq!(unknown_filter.error(400, "bad_request")[0]["field"], "colour");
    let bad_value = app.get("/api/v1/users?active=maybe").await;
    assert_eq!(bad_value.error(400, "bad_request")[0]["field"], "active");
    let bad_where = app.get("/api/v1/deals?where=amount%20%3E").await;
    assert_eq!(bad_where.error(400, "bad_request")[0]["field"], "where");
    app.get("/api/v1/deals?where=colour%20%3D%20'red'").await.error(400, "bad_request");
    // A where that is not true or false.
    app.get("/api/v1/deals?where=amount%20%2B%201").await.error(400, "bad_request");
    app.delete("/api/v1/web_visits?day=2026-01-01").await.error(400, "bad_request");
    app.delete("/api/v1/web_visits?day=yesterday&source=web").await.error(400, "bad_request");

    // 404: unknown entity, record, endpoint.
    let unknown_entity = app.get("/api/v1/dealz").await;
    unknown_entity.error(404, "not_found");
    assert!(
        unknown_entity.body["error"]["message"].as_str().unwrap().contains("deals"),
        "names the entities"
    );
    app.get("/api/v1/teams/nope").await.error(404, "not_found");
    app.patch("/api/v1/teams/nope", &json!({"name": "x"})).await.error(404, "not_found");
    app.delete("/api/v1/teams/nope").await.error(404, "not_found");
    app.get("/api/v1/web_visits/2026-01-01").await.error(404, "not_found");
    app.get("/nowhere").await.error(404, "not_found");

    // 405: a method the path does not have.
    let wrong_method = app.call(Method::PUT, "/api/v1/teams", None).await;
    wrong_method.error(405, "method_not_allowed");
    assert!(wrong_method.body["error"]["message"].as_str().unwrap().contains("GET, POST"));

    // 409: a record others refer to.
    let refused = app.delete("/api/v1/teams/t1").await;
    refused.error(409, "conflict");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("users"));

    // 415: an import body of no known format.
    app.raw(Method::POST, "/api/v1/teams/import", None, "id,name\n")
        .await
        .error(415, "unsupported_media_type");
    app.raw(Method::POST, "/api/v1/teams/import", Some("application/pdf"), "x")
        .await
        .error(415, "unsupported_media_type");
    app.raw(Method::POST, "/api/v1/teams/import?format=xlsx", None, "x")
        .await
        .error(400, "bad_request");

    // 422: records that break the data model, with each field named.
    let invalid = app
        .post("/api/v1/deals", &json!({"id": "d1", "pipeline_id": "p1", "stage_id": "won", "owner_id": "nobody",
                                        "amount": "lots", "created_at": "2026-01-01", "colour": "red"}))
        .await;
    let details = invalid.error(422, "invalid_record");
    let fields: Vec<&str> = details.iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["amount", "colour"], "parse problems come first: {details:?}");
    let invalid = app
        .post(
            "/api/v1/deals",
            &json!({"id": "d1", "pipeline_id": "p1", "stage_id": "won", "owner_id": "nobody",
                                        "amount": 5, "created_at": "2026-01-01"}),
        )
        .await;
    let details = invalid.error(422, "invalid_record");
    let fields: Vec<&str> = details.iter().map(|d| d["field"].as_str().unwrap()).collect();
    // The store's checks: the owner does not exist, a won deal needs closed_at.
    assert_eq!(fields, ["owner_id", "closed_at"], "{details:?}");
    let type_error = app.post("/api/v1/teams", &json!({"id": "x", "name": 5})).await;
    assert_eq!(type_error.error(422, "invalid_record")[0]["field"], "name");
    let id_mismatch = app.put("/api/v1/teams/t1", &json!({"id": "t9", "name": "x"})).await;
    assert_eq!(id_mismatch.error(422, "invalid_record")[0]["field"], "id");
    // 422 from an import: line and column.
    let import = app
        .raw(
            Method::POST,
            "/api/v1/teams/import",
            Some("text/csv"),
            "id,name,parent_id\nt7,Seven,\nt8,Eight,ghost\n",
        )
        .await;
    let details = import.error(422, "invalid_record");
    assert_eq!(
        details[0],
        json!({"line": 3, "column": "parent_id", "problem": "\"ghost\": no such team"})
    );

    assert_eq!(app.count(Entity::Teams), teams, "no bad request changed anything");
    assert_eq!(app.count(Entity::Deals), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn_with(Config {
        max_body_bytes: 1024,
        max_import_bytes: 2048,
        ..Config::default()
    })
    .await;
    let big = json!({"id": "t1", "name": "x".repeat(2000)});
    app.post("/api/v1/teams", &big).await.error(413, "payload_too_large");
    let mut csv = String::from("id,name\n");
    for i in 0..200 {
        csv.push_str(&format!("t{i},Team {i}\n"));
    }
    app.raw(Method::POST, "/api/v1/teams/import", Some("text/csv"), csv)
        .await
        .error(413, "payload_too_large");
    assert_eq!(app.count(Entity::Teams), 0);
}

/// A value that is wrong for most fields.
fn garbage() -> Vec<Json> {
    vec![
        json!(null),
        json!(-1),
        json!(1.5e300),
        json!("\u{0}"),
        json!([1]),
        json!({"a": 1}),
        json!(true),
        json!("x".repeat(70_000)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bad_requests_never_cause_a_500() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let doc = app.get("/api/v1/openapi.json").await.body;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.ends_with("/events") {
            continue;
        }
        let concrete = path.replace("{id}", "t1");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut bodies: Vec<String> =
                vec!["".into(), "{".into(), "[1,2]".into(), "\u{feff}{}".into(), "nul".into()];
            // Import bodies are not JSON; an early answer to a large one may cut its upload short.
            let writes_record =
                (method == Method::POST || method == Method::PATCH || method == Method::PUT)
                    && !path.ends_with("/import");
            if let Some(entity) = path.split('/').nth(3).and_then(|e| Entity::parse(e).ok())
                && writes_record
            {
                for field in entity.fields() {
                    for value in garbage() {
                        // Every field of the entity with a wrong value, the rest missing.
                        bodies.push(json!({field.name: value}).to_string());
                    }
                }
            }
            for body in bodies {
                let query = if method == Method::GET || method == Method::DELETE {
                    "?limit=-3&cursor=%00&day=&x=1"
                } else {
                    ""
                };
                let answer = app
                    .raw(
                        method.clone(),
                        &format!("{concrete}{query}"),
                        Some("application/json"),
                        body.clone(),
                    )
                    .await;
                assert!(
                    answer.status.is_client_error() || answer.status.is_success(),
                    "{method} {concrete} {body:.80} answered {}: {:#}",
                    answer.status,
                    answer.body
                );
                if !answer.status.is_success() {
                    answer.error(
                        answer.status.as_u16(),
                        answer.body["error"]["code"].as_str().unwrap_or("?"),
                    );
                }
            }
        }
    }
    // Some generated bodies are valid (any text is a name): those succeed. The server is still up.
    assert_eq!(StatusCode::OK, app.get("/api/v1/health").await.status);
}
