//! Bad requests generated from the OpenAPI document (issue 25, point 9; spec: quality.md,
//! Reliability): the test reads the server's own `/api/v1/openapi.json` and, for every operation
//! it lists, sends what a careless or hostile client would — unknown, ill-typed, out-of-range
//! and missing fields, huge numbers, bad ids, bad and repeated query parameters, wrong content
//! types, empty, malformed and deeply nested bodies — as each role and without credentials.
//!
//! Every answer must be below 500; every refusal must be the JSON error of interfaces.md with a
//! message; a refusal of a bad field must name it (or the field the body gets wrong first, such as
//! a missing required one); and a refusal must change nothing (the
//! records of every entity, the audit log and the tokens are as before).

use std::collections::BTreeMap;

use reqwest::{Client, Method};
use serde_json::{Value as Json, json};
use traction_domain::Entity;
use traction_store::AuditQuery;

use crate::helpers::{TestApp, add_user};

/// What a refusal must leave as it was: every entity's count, the last audit row, the tokens.
fn fingerprint(app: &TestApp) -> (Vec<u64>, Option<i64>, usize) {
    let counts = Entity::ALL.iter().map(|e| app.store.count(*e).unwrap()).collect();
    let query =
        AuditQuery { from: None, to: None, entity: None, actor: None, before_seq: None, limit: 1 };
    let last_audit = app.store.audit_log(&query).unwrap().first().map(|entry| entry.seq);
    (counts, last_audit, app.store.tokens(None).unwrap().len())
}

/// One generated request.
struct Case {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Option<String>,
    /// A field the request gets wrong: a refusal must name it.
    field: Option<String>,
}

/// The properties of a schema (following `$ref` and the first of `oneOf`), with their types.
fn properties(doc: &Json, schema: &Json) -> BTreeMap<String, Json> {
    let mut schema = schema.clone();
    for _ in 0..4 {
        if let Some(first) = schema["oneOf"].get(0) {
            schema = first.clone();
        } else if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap();
            schema = doc["components"]["schemas"][name].clone();
        } else {
            break;
        }
    }
    schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Values of the wrong type or out of range for a property of this schema, as JSON text.
fn wrong_values(schema: &Json) -> Vec<&'static str> {
    let types: Vec<&str> = match &schema["type"] {
        Json::String(t) => vec![t.as_str()],
        Json::Array(list) => list.iter().filter_map(Json::as_str).collect(),
        _ => vec![],
    };
    let mut out = vec!["{\"nested\": [1, 2]}"];
    if types.contains(&"integer") || types.contains(&"number") {
        out.extend(["\"twelve\"", "1e400", "123456789012345678901234567890", "-9.5e18"]);
    } else if types.contains(&"boolean") {
        out.extend(["\"maybe\"", "2"]);
    } else if schema["format"] == "date-time" || schema["format"] == "date" {
        out.extend(["\"2026-13-45\"", "\"2026-02-29T25:61:00Z\"", "99999999999"]);
    } else if schema.get("enum").is_some() {
        out.extend(["\"no-such-choice\"", "7"]);
    } else {
        out.extend(["12345", "[\"a\"]"]);
    }
    out
}

const BAD_IDS: &[&str] = &["no-such-id", "%00", "a%2F..%2Fb", "%F0%9F%92%A9", "%27%3B--", "-1"];
const BAD_QUERY_VALUES: &[&str] =
    &["", "-1", "99999999999999999999999", "abc", "%00", "2026-13-45", "%E2%80%AE"];

/// Generic body mistakes for an operation that takes a JSON body.
fn body_cases(method: &Method, path: &str) -> Vec<Case> {
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let bodies: Vec<(Option<&'static str>, String)> = vec![
        (Some("application/json"), String::new()),
        (Some("application/json"), "{".into()),
        (Some("application/json"), "{\"id\": }".into()),
        (Some("application/json"), "null".into()),
        (Some("application/json"), "\"text\"".into()),
        (Some("application/json"), "42".into()),
        (Some("application/json"), deep),
        (Some("application/json"), "{\"a\": 1, \"a\": 2}".into()),
        (Some("application/json"), "\u{feff}{}\u{0}".into()),
        (Some("text/plain"), "{}".into()),
        (Some("application/x-www-form-urlencoded"), "id=x&name=y".into()),
        (None, "{}".into()),
    ];
    bodies
        .into_iter()
        .map(|(content_type, body)| Case {
            method: method.clone(),
            path: path.to_owned(),
            content_type,
            body: Some(body),
            field: None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bad_requests_are_refused_clearly_by_every_operation_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let deal = json!({"id": "d1", "name": "Big", "owner_id": "u1", "pipeline_id": "p1",
                      "stage_id": "s1", "amount": "1000.00", "created_at": "2026-01-10T10:00:00Z"});
    app.create("deals", deal).await;
    let doc = app.get("/api/v1/openapi.json").await.body;
    assert!(doc["paths"].as_object().is_some_and(|p| p.len() > 20), "no OpenAPI paths");

    // The callers: each role and nobody.
    let mut callers: Vec<(&str, Client)> = vec![("admin", app.client.clone())];
    for (id, role) in [("mgr", "manager"), ("rep", "rep"), ("view", "viewer")] {
        let token = add_user(&*app.store, id, role, Some("t1"));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        callers.push((role, Client::builder().default_headers(headers).build().unwrap()));
    }
    callers.push(("anonymous", app.anonymous.clone()));

    // The record properties of each collection, for the bodies of its operations.
    let mut record_props: BTreeMap<String, BTreeMap<String, Json>> = BTreeMap::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if let Some(schema) =
            ops["post"]["requestBody"]["content"]["application/json"].get("schema")
        {
            record_props.insert(path.clone(), properties(&doc, schema));
        }
    }

    let mut cases: Vec<(Case, bool)> = Vec::new(); // (case, sent by every caller)
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path.ends_with("/events") {
            continue; // An endless stream: nothing to answer in full.
        }
        for (method_name, op) in ops.as_object().unwrap() {
            let method = Method::from_bytes(method_name.to_uppercase().as_bytes()).unwrap();
            let params: Vec<&Json> =
                op["parameters"].as_array().map(|p| p.iter().collect()).unwrap_or_default();
            let has_id = path.contains("{id}");
            let has_name = path.contains("{name}");
            // Paths with bad ids (never an existing one: a DELETE or PUT on it would succeed).
            let fill = |id: &str| path.replace("{id}", id).replace("{name}", id);
            let concrete = fill("no-such-id");
            if has_id || has_name {
                for id in BAD_IDS {
                    let long = "x".repeat(3_000);
                    for id in [*id, long.as_str()] {
                        let case = Case {
                            method: method.clone(),
                            path: fill(id),
                            content_type: None,
                            body: None,
                            field: None,
                        };
                        cases.push((case, *id == *BAD_IDS[0]));
                    }
                }
            }
            // Query parameters: each declared one with bad values, an unknown one, one twice.
            let mut query_cases = vec![("zzz_unknown".to_owned(), "1".to_owned())];
            for param in &params {
                if param["in"] == "query" {
                    let name = param["name"].as_str().unwrap().to_owned();
                    for value in BAD_QUERY_VALUES {
                        query_cases.push((name.clone(), (*value).to_owned()));
                    }
                    query_cases.push((name.clone(), format!("1&{name}=2")));
                }
            }
            for (name, value) in query_cases {
                let case = Case {
                    method: method.clone(),
                    path: format!("{concrete}?{name}={value}"),
                    content_type: None,
                    body: None,
                    field: None,
                };
                cases.push((case, name == "zzz_unknown"));
            }
            // Bodies.
            let Some(content) = op["requestBody"]["content"].as_object() else { continue };
            for case in body_cases(&method, &concrete) {
                cases.push((case, true));
            }
            if !content.contains_key("application/json") {
                continue;
            }
            // The record's fields, from the collection this operation writes (PATCH documents a
            // free-form object: its collection's record schema applies).
            let collection = path.trim_end_matches("/{id}").to_owned();
            let props = match record_props.get(&collection) {
                Some(p) if !path.ends_with("/move") => p.clone(),
                _ => properties(&doc, &content["application/json"]["schema"]),
            };
            for (field, schema) in &props {
                if schema["readOnly"] == true {
                    continue;
                }
                for wrong in wrong_values(schema) {
                    let body = format!("{{\"id\": \"fuzz-new\", \"{field}\": {wrong}}}");
                    let body = if field == "id" { format!("{{\"id\": {wrong}}}") } else { body };
                    let case = Case {
                        method: method.clone(),
                        path: concrete.clone(),
                        content_type: Some("application/json"),
                        body: Some(body),
                        field: Some(field.clone()),
                    };
                    cases.push((case, false));
                }
            }
            // A field no record has.
            let case = Case {
                method: method.clone(),
                path: concrete.clone(),
                content_type: Some("application/json"),
                body: Some("{\"id\": \"fuzz-new\", \"no_such_field\": 1}".into()),
                field: Some("no_such_field".into()),
            };
            cases.push((case, true));
        }
    }

    let mut failures = Vec::new();
    let mut sent = 0usize;
    let mut by_status = BTreeMap::new();
    for (case, every_caller) in &cases {
        for (role, client) in &callers {
            // Field by field as the admin (past the role checks) and a rep (the strictest scope).
            if !every_caller && !matches!(*role, "admin" | "rep") {
                continue;
            }
            let before = fingerprint(&app);
            let mut req = client.request(case.method.clone(), app.url(&case.path));
            if let Some(ct) = case.content_type {
                req = req.header("content-type", ct);
            }
            if let Some(body) = &case.body {
                req = req.body(body.clone());
            }
            let res = req.send().await.unwrap();
            sent += 1;
            let status = res.status().as_u16();
            *by_status.entry(status).or_insert(0usize) += 1;
            let text = res.text().await.unwrap();
            let what = format!(
                "{role} {} {} {:?} {:.200}",
                case.method,
                case.path.chars().take(120).collect::<String>(),
                case.content_type,
                case.body.as_deref().unwrap_or("").chars().take(120).collect::<String>()
            );
            if status >= 500 {
                failures.push(format!("{status} for {what}: {text:.300}"));
                continue;
            }
            if status < 400 {
                continue;
            }
            let body: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
            let message = body["error"]["message"].as_str().unwrap_or("");
            if body["error"]["code"].as_str().is_none() || message.is_empty() {
                failures.push(format!("{status} without a JSON error for {what}: {text:.300}"));
                continue;
            }
            // A refused body names the field it sent wrong, or another field the body gets wrong
            // first (a rule without its `kind`, a record without its required fields).
            let names_a_field = body["error"]["details"]
                .as_array()
                .is_some_and(|details| details.iter().any(|d| d["field"].is_string()));
            if let Some(field) = &case.field
                && matches!(status, 400 | 422)
                && !text.contains(field.as_str())
                && !names_a_field
            {
                failures.push(format!("{status} does not name {field:?} for {what}: {text:.300}"));
            }
            if fingerprint(&app) != before {
                failures.push(format!("{status} changed data for {what}"));
            }
        }
    }
    eprintln!("{sent} generated bad requests, answers by status: {by_status:?}");
    assert!(sent > 2_000, "only {sent} requests were generated");
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
