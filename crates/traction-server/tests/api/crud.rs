//! Every entity through every record endpoint, from one table of hand-written cases.

use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use traction_domain::Entity;

use crate::helpers::TestApp;

/// One entity's case: a record to create, what the server must answer for some of its fields
/// (normalised by the data model's rules), and a patch with the field it changes.
struct Case {
    entity: &'static str,
    record: Json,
    expected: Json,
    patch: Json,
    patched: (&'static str, Json),
}

/// The cases, in import order (references first); they rely on `TestApp::seed_sales`.
fn cases() -> Vec<Case> {
    vec![
        Case {
            entity: "teams",
            record: json!({"id": "x-team", "name": "South", "parent_id": "t1"}),
            expected: json!({"parent_id": "t1"}),
            patch: json!({"name": "South West"}),
            patched: ("name", json!("South West")),
        },
        Case {
            entity: "users",
            record: json!({"id": "x-user", "name": "Cy", "email": "cy@example.com", "role": "Manager",
                           "team_id": "t1", "created_at": "2026-02-01T08:00:00Z"}),
            // Enums are lower-cased; active defaults to true.
            expected: json!({"role": "manager", "active": true}),
            patch: json!({"active": false}),
            patched: ("active", json!(false)),
        },
        Case {
            entity: "accounts",
            record: json!({"id": "x-acc", "name": "Globex", "segment": "SMB", "created_at": "2026-02-01"}),
            // A bare date is the first instant of that day in the workspace zone (UTC here).
            expected: json!({"segment": "smb", "created_at": "2026-02-01T00:00:00Z"}),
            patch: json!({"region": "EMEA"}),
            patched: ("region", json!("emea")),
        },
        Case {
            entity: "contacts",
            record: json!({"id": "x-con", "name": "Dee", "account_id": "x-acc",
                           "created_at": "2026-02-02T11:00:00+01:00"}),
            expected: json!({"created_at": "2026-02-02T10:00:00Z"}),
            patch: json!({"phone": "+44 20 7946 0000"}),
            patched: ("phone", json!("+44 20 7946 0000")),
        },
        Case {
            entity: "campaigns",
            record: json!({"id": "x-camp", "name": "Spring", "channel": "Email", "budget": "2500.00",
                           "started_on": "2026-03-01"}),
            expected: json!({"channel": "email", "budget": 2500.0, "started_on": "2026-03-01"}),
            patch: json!({"ended_on": "2026-03-31"}),
            patched: ("ended_on", json!("2026-03-31")),
        },
        Case {
            entity: "pipelines",
            record: json!({"id": "x-pipe", "name": "Partners"}),
            expected: json!({"name": "Partners"}),
            patch: json!({"name": "Partner deals"}),
            patched: ("name", json!("Partner deals")),
        },
        Case {
            entity: "stages",
            record: json!({"id": "x-stage", "pipeline_id": "p1", "name": "Demo", "position": 5,
                           "probability": 0.5}),
            expected: json!({"kind": "open", "probability": 0.5}),
            patch: json!({"probability": "0.25"}),
            patched: ("probability", json!(0.25)),
        },
        Case {
            entity: "deals",
            record: json!({"id": "x-deal", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1",
                           "account_id": "x-acc", "amount": 1234.50,
                           "created_at": "2026-02-03T09:00:00Z"}),
            // The status is derived from the stage's kind.
            expected: json!({"amount": 1234.5, "status": "open", "deal_type": "new_business"}),
            patch: json!({"amount": "99.99"}),
            patched: ("amount", json!(99.99)),
        },
        Case {
            entity: "stage_changes",
            record: json!({"deal_id": "x-deal", "stage_id": "s2", "changed_at": "2026-02-04T09:00:00Z",
                           "changed_by": "u2"}),
            expected: json!({"changed_by": "u2"}),
            patch: Json::Null,
            patched: ("", Json::Null),
        },
        Case {
            entity: "leads",
            record: json!({"id": "x-lead", "created_at": "2026-02-01T09:00:00Z", "source": "Web ",
                           "owner_id": "u1"}),
            expected: json!({"source": "web", "status": "new"}),
            patch: json!({"first_response_at": "2026-02-01T09:30:00Z", "status": "contacted"}),
            patched: ("first_response_at", json!("2026-02-01T09:30:00Z")),
        },
        Case {
            entity: "activities",
            record: json!({"id": "x-act", "kind": "call", "occurred_at": "2026-02-05T11:00:00Z",
                           "owner_id": "u1", "deal_id": "x-deal", "duration_s": 300}),
            expected: json!({"direction": "outbound", "duration_s": 300}),
            patch: json!({"outcome": "Connected"}),
            patched: ("outcome", json!("connected")),
        },
        Case {
            entity: "products",
            record: json!({"id": "x-prod", "name": "Widget", "unit_price": "19.99", "opening_stock": 10}),
            expected: json!({"unit_price": 19.99, "stock_on_hand": 10}),
            patch: json!({"reorder_level": 3}),
            patched: ("reorder_level", json!(3)),
        },
        Case {
            entity: "orders",
            record: json!({"id": "x-ord", "account_id": "x-acc", "placed_at": "2026-02-06T12:00:00Z",
                           "total": "39.98"}),
            expected: json!({"status": "placed", "total": 39.98}),
            patch: json!({"channel": "Web"}),
            patched: ("channel", json!("web")),
        },
        Case {
            entity: "order_lines",
            // 2 × 19.99 = 39.98, the order's total.
            record: json!({"order_id": "x-ord", "line": 1, "product_id": "x-prod", "quantity": 2,
                           "unit_price": 19.99}),
            expected: json!({"discount": 0.0}),
            patch: Json::Null,
            patched: ("", Json::Null),
        },
        Case {
            entity: "inventory_movements",
            record: json!({"id": "x-mov", "product_id": "x-prod", "delta": 5, "reason": "restock",
                           "occurred_at": "2026-02-07T08:00:00Z"}),
            expected: json!({"delta": 5}),
            patch: json!({"delta": 6}),
            patched: ("delta", json!(6)),
        },
        Case {
            entity: "costs",
            record: json!({"id": "x-cost", "incurred_on": "2026-02-08", "category": "marketing",
                           "amount": 500, "campaign_id": "x-camp"}),
            expected: json!({"amount": 500.0}),
            patch: json!({"note": "flyers"}),
            patched: ("note", json!("flyers")),
        },
        Case {
            entity: "web_visits",
            record: json!({"day": "2026-02-09", "source": "Ads", "visitors": 42}),
            expected: json!({"source": "ads"}),
            patch: Json::Null,
            patched: ("", Json::Null),
        },
        Case {
            entity: "email_events",
            record: json!({"id": "x-email", "message_id": "m-1", "kind": "opened",
                           "occurred_at": "2026-02-10T10:00:00Z", "lead_id": "x-lead"}),
            expected: json!({"kind": "opened"}),
            patch: json!({"campaign_id": "x-camp"}),
            patched: ("campaign_id", json!("x-camp")),
        },
        Case {
            entity: "surveys",
            record: json!({"id": "x-survey", "kind": "nps", "score": 9,
                           "answered_at": "2026-02-11T10:00:00Z", "account_id": "x-acc"}),
            expected: json!({"score": 9}),
            patch: json!({"score": 10}),
            patched: ("score", json!(10)),
        },
        Case {
            entity: "events",
            // A kind with capitals and spaces is stored normalised; quantity defaults to 1.
            record: json!({"id": "x-event", "kind": " Meals Served ", "occurred_at": "2026-02-12T12:00:00Z",
                           "owner_id": "u1", "team_id": "t1", "amount": "12.50"}),
            expected: json!({"kind": "meals_served", "quantity": 1.0, "amount": 12.5}),
            patch: json!({"quantity": "2.25"}),
            patched: ("quantity", json!(2.25)),
        },
        Case {
            entity: "targets",
            record: json!({"id": "x-target", "metric": "revenue_won", "scope": "team:t1", "period": "month",
                           "starts_on": "2026-03-01", "value": "84000.50"}),
            expected: json!({"value": 84000.5, "split": "calendar", "at_risk": 0.9, "off_track": 0.75}),
            patch: json!({"value": 90000}),
            patched: ("value", json!(90000)),
        },
    ]
}

#[track_caller]
fn assert_fields(entity: &str, got: &Json, expected: &Json) {
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&got[field], value, "{entity}.{field} in {got:#}");
    }
}

/// The query string selecting a keyed record by its key fields.
fn key_query(entity: Entity, record: &Json) -> String {
    entity
        .key()
        .iter()
        .map(|k| {
            format!("{k}={}", record[*k].as_str().map_or(record[*k].to_string(), str::to_string))
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entity_is_created_read_listed_replaced_patched_and_deleted() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    let cases = cases();
    assert_eq!(cases.len(), Entity::ALL.len(), "one case per entity");
    let mut created = Vec::new();
    for case in &cases {
        let entity = Entity::parse(case.entity).unwrap();
        let answer = app.create(case.entity, case.record.clone()).await;
        assert_fields(case.entity, &answer, &case.expected);
        // Listed, found by a filter on its first key field.
        let first_key = entity.key()[0];
        let value = case.record[first_key]
            .as_str()
            .map_or(case.record[first_key].to_string(), str::to_string);
        let listed = app.all(case.entity, &format!("&{first_key}={value}")).await;
        assert!(listed.contains(&answer), "{} lists {answer:#}: {listed:#?}", case.entity);
        if entity.has_id() {
            let path = format!("/api/v1/{}/{}", case.entity, case.record["id"].as_str().unwrap());
            let got = app.get(&path).await;
            assert_eq!(got.status, StatusCode::OK);
            assert_eq!(got.body, answer, "GET answers what POST stored");
            let patched = app.patch(&path, &case.patch).await;
            assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);
            assert_eq!(patched.body[case.patched.0], case.patched.1, "{} patch", case.entity);
            // A PUT of the original body replaces the record: the patched field is back.
            let replaced = app.put(&path, &case.record).await;
            assert_eq!(replaced.status, StatusCode::OK, "{:#}", replaced.body);
            assert_eq!(replaced.body, answer, "{} PUT restores the original", case.entity);
        }
        created.push((entity, answer));
    }

    // Stock on hand: 10 opening, 2 sold by the order line, 5 restocked.
    let product = app.get("/api/v1/products/x-prod").await;
    assert_eq!(product.body["stock_on_hand"], 13);
    // The deal created through the API has its first stage recorded at created_at.
    let history = app.all("stage_changes", "&deal_id=x-deal").await;
    let entered: Vec<(&str, &str)> = history
        .iter()
        .map(|c| (c["stage_id"].as_str().unwrap(), c["changed_at"].as_str().unwrap()))
        .collect();
    assert_eq!(entered, [("s1", "2026-02-03T09:00:00Z"), ("s2", "2026-02-04T09:00:00Z")]);

    // Deleted in reverse order, so nothing refers to a record when it goes.
    for (entity, record) in created.iter().rev() {
        let name = entity.name();
        if entity.has_id() {
            let path = format!("/api/v1/{name}/{}", record["id"].as_str().unwrap());
            if *entity == Entity::Deals {
                // Its first stage change still refers to it.
                let refused = app.delete(&path).await;
                let details = refused.error(409, "conflict");
                assert!(details.is_empty());
                assert!(
                    refused.body["error"]["message"].as_str().unwrap().contains("stage_changes")
                );
                let first = app
                    .delete("/api/v1/stage_changes?deal_id=x-deal&stage_id=s1&changed_at=2026-02-03T09:00:00Z")
                    .await;
                assert_eq!(first.status, StatusCode::NO_CONTENT, "{:#}", first.body);
            }
            let deleted = app.delete(&path).await;
            assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{name}: {:#}", deleted.body);
            app.get(&path).await.error(404, "not_found");
        } else {
            let path = format!("/api/v1/{name}?{}", key_query(*entity, record));
            let deleted = app.delete(&path).await;
            assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{name}: {:#}", deleted.body);
            app.delete(&path).await.error(404, "not_found");
        }
    }
    // Only the seed is left.
    assert_eq!(app.count(Entity::Deals), 0);
    assert_eq!(app.count(Entity::StageChanges), 0);
    assert_eq!(app.count(Entity::InventoryMovements), 0);
    assert_eq!(app.count(Entity::Stages), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_creates_a_record_under_the_id_of_the_path() {
    let app = TestApp::spawn().await;
    let created = app.put("/api/v1/teams/t9", &json!({"name": "Nine"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(created.body, json!({"id": "t9", "name": "Nine", "parent_id": null}));
    let replaced = app.put("/api/v1/teams/t9", &json!({"name": "Nine"})).await;
    assert_eq!(replaced.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_created_without_an_id_get_one() {
    let app = TestApp::spawn().await;
    let first = app.create("teams", json!({"name": "East"})).await;
    let second = app.create("teams", json!({"name": "West", "id": null})).await;
    let (a, b) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    assert!(a.starts_with("teams-") && b.starts_with("teams-"), "{a} {b}");
    assert_ne!(a, b);
    assert_eq!(app.get(&format!("/api/v1/teams/{a}")).await.body["name"], "East");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_is_stored_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let bad = app
        .post(
            "/api/v1/teams",
            &json!([{"id": "a", "name": "A"}, {"id": "b"}, {"id": "c", "name": "C", "parent_id": "nope"}]),
        )
        .await;
    let details = bad.error(422, "invalid_record");
    // Every problem found, each with its record's place in the array.
    assert_eq!(
        details[0],
        json!({"index": 1, "field": "name", "problem": "is required and is missing"})
    );
    assert_eq!(app.count(Entity::Teams), 0, "nothing was stored");
    let ok = app
        .post(
            "/api/v1/teams",
            &json!([{"id": "a", "name": "A"}, {"id": "b", "name": "B", "parent_id": "a"}]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body["items"].as_array().unwrap().len(), 2);
    // Posting the same records again changes nothing and says so with 200.
    let again = app.post("/api/v1/teams", &json!([{"id": "a", "name": "A"}])).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_is_exact_in_and_out() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    // 0.1 and 0.2 are inexact in binary; stored as cents they add up exactly.
    for (id, amount) in [("d1", json!(0.1)), ("d2", json!("0.20")), ("d3", json!(19999999.99))] {
        app.create(
            "deals",
            json!({"id": id, "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1", "amount": amount,
                   "created_at": "2026-02-01T00:00:00Z"}),
        )
        .await;
    }
    assert_eq!(app.get("/api/v1/deals/d1").await.body["amount"], json!(0.1));
    assert_eq!(app.get("/api/v1/deals/d2").await.body["amount"], json!(0.2));
    assert_eq!(app.get("/api/v1/deals/d3").await.body["amount"], json!(19999999.99));
    // A filter on money reads the amount the same way.
    let found = app.all("deals", "&amount=0.20").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], "d2");
    let too_fine = app
        .post(
            "/api/v1/deals",
            &json!({"id": "d4", "pipeline_id": "p1", "stage_id": "s1", "owner_id": "u1",
                    "amount": 1.005, "created_at": "2026-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(too_fine.error(422, "invalid_record")[0]["field"], "amount");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_takes_csv_and_ndjson_bodies() {
    let app = TestApp::spawn().await;
    let csv = "id,name,parent_id\nt1,North,\nt2,North East,t1\n";
    let answer =
        app.raw(reqwest::Method::POST, "/api/v1/teams/import", Some("text/csv"), csv).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(
        answer.body,
        json!({"entity": "teams", "rows": 2, "created": 2, "updated": 0, "unchanged": 0,
            "dry_run": false,
            "entities": [{"entity": "teams", "created": 2, "updated": 0, "unchanged": 0, "skipped": 0}]})
    );
    let ndjson = "{\"id\": \"t2\", \"name\": \"North-East\", \"parent_id\": \"t1\"}\n{\"id\": \"t3\", \"name\": \"South\"}\n";
    let answer =
        app.raw(reqwest::Method::POST, "/api/v1/teams/import?format=ndjson", None, ndjson).await;
    assert_eq!(
        answer.body,
        json!({"entity": "teams", "rows": 2, "created": 1, "updated": 1, "unchanged": 0,
            "dry_run": false,
            "entities": [{"entity": "teams", "created": 1, "updated": 1, "unchanged": 0, "skipped": 0}]})
    );
    assert_eq!(app.get("/api/v1/teams/t2").await.body["name"], "North-East");
}

#[tokio::test]
async fn import_reads_a_preset_mapping_and_dry_runs() {
    let app = TestApp::spawn().await;
    let csv = "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Status,Deal - Pipeline,Deal - Stage,Deal - Owner,Deal - Organization,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Expected close date,Deal - Lost reason
7,Acme,100,USD,open,Sales,Lead In,Ann Lee,Acme,2026-01-05 10:00:00,,,,
8,Gone,5,USD,deleted,Sales,Lead In,Ann Lee,Acme,2026-01-05 10:00:00,,,,
";
    let dry = app
        .raw(reqwest::Method::POST, "/api/v1/deals/import?from=pipedrive&dry_run=true", None, csv)
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{:#}", dry.body);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(dry.body["rows"], 2);
    // One user, one account, one pipeline with Won, Lost and Lead In, one deal, one skipped.
    let deals =
        json!({"entity": "deals", "created": 1, "updated": 0, "unchanged": 0, "skipped": 1});
    let stages =
        json!({"entity": "stages", "created": 3, "updated": 0, "unchanged": 0, "skipped": 0});
    let entities = dry.body["entities"].as_array().unwrap();
    assert!(entities.contains(&deals) && entities.contains(&stages), "{:#}", dry.body);
    assert_eq!(app.get("/api/v1/deals").await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/users").await.body["items"].as_array().unwrap().len(), 1);
    let done = app
        .raw(reqwest::Method::POST, "/api/v1/deals/import?mapping=pipedrive-deals", None, csv)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:#}", done.body);
    assert_eq!(app.get("/api/v1/deals/pd-deal-7").await.body["amount"], json!(100.0));
    let bad = app.raw(reqwest::Method::POST, "/api/v1/deals/import?from=zoho", None, csv).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:#}", bad.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_lists_the_entity_with_a_query_or_json_and_streams_otherwise() {
    let app = TestApp::spawn().await;
    app.seed_sales().await;
    app.create(
        "events",
        json!({"id": "e1", "kind": "Volunteer Hours", "occurred_at": "2026-02-12T09:00:00Z",
               "quantity": 3.5, "owner_id": "u1"}),
    )
    .await;
    // A query asks for the list.
    let listed = app.get("/api/v1/events?limit=10").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["kind"], "volunteer_hours");
    assert_eq!(listed.body["items"][0]["quantity"], 3.5);
    // So does `Accept: application/json` without a query.
    let json_list = app
        .client
        .get(app.url("/api/v1/events"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json_list.headers()["content-type"], "application/json");
    let body: Json = json_list.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    // What an EventSource sends gets the stream.
    let stream = app
        .client
        .get(app.url("/api/v1/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // A filter on the kind is read like the stored value.
    let by_kind = app.all("events", "&where=kind%20%3D%20%27Volunteer%20Hours%27").await;
    assert_eq!(by_kind.len(), 1);
    // A kind that cannot be one is refused at its field, and nothing is stored.
    let bad = app
        .post(
            "/api/v1/events",
            &json!({"kind": "meals/served", "occurred_at": "2026-02-12T09:00:00Z", "quantity": "1.1234567"}),
        )
        .await;
    let details = bad.error(422, "invalid_record");
    let fields: Vec<&str> = details.iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "quantity"], "{details:#?}");
    assert_eq!(app.count(Entity::Events), 1);
}

/// Issue 19 point 3: over HTTP, a dry run refuses what the commit would (a pipeline without a
/// won stage, a rule the store checks at commit), and a mapped import whose owner matches two
/// users is refused by line and column — in the dry run and the import alike, nothing stored.
#[tokio::test]
async fn dry_runs_and_mapped_imports_over_http_refuse_what_the_import_would() {
    let app = TestApp::spawn().await;
    app.create("pipelines", json!({"id": "p1", "name": "Sales"})).await;
    let stages = "id,pipeline_id,name,kind,position\nopen,p1,Open,open,1\nlost,p1,Lost,lost,2\n";
    for query in ["?dry_run=true", ""] {
        let answer = app
            .raw(
                reqwest::Method::POST,
                &format!("/api/v1/stages/import{query}"),
                Some("text/csv"),
                stages,
            )
            .await;
        let details = answer.error(422, "invalid_record");
        assert!(answer.body.to_string().contains("0 won stages"), "{query}: {:#}", answer.body);
        assert!(details.iter().any(|d| d["line"].is_number()), "{query}: {:#}", answer.body);
    }
    assert_eq!(app.count(traction_domain::Entity::Stages), 0);

    crate::helpers::add_user(&*app.store, "ann1", "rep", None);
    crate::helpers::add_user(&*app.store, "ann2", "rep", None);
    app.patch("/api/v1/users/ann1", &json!({"name": "Ann Lee"})).await;
    app.patch("/api/v1/users/ann2", &json!({"name": "Ann Lee"})).await;
    let csv = "Record ID,Deal Name,Pipeline,Deal Stage,Amount,Close Date,Create Date,Deal owner,Associated Company,Deal Type
101,Acme expansion,Sales Pipeline,Closed Won,12000,2026-02-10 15:00,2026-01-02 09:30,Ann Lee,Acme,Existing Business
";
    for query in ["&dry_run=true", ""] {
        let answer = app
            .raw(
                reqwest::Method::POST,
                &format!("/api/v1/deals/import?from=hubspot{query}"),
                None,
                csv,
            )
            .await;
        let details = answer.error(422, "invalid_record");
        let text = answer.body.to_string();
        assert!(text.contains("ann1") && text.contains("ann2"), "{query}: {text}");
        assert!(details.iter().any(|d| d["line"] == 2), "{query}: {text}");
    }
    assert_eq!(app.count(traction_domain::Entity::Deals), 0);
}
