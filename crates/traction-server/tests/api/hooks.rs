//! Issue 19 point 7: `POST /api/v1/hooks/email/{provider}` takes the event webhooks of Mandrill
//! and SendGrid as they send them. The payloads have the shapes of the providers' documented
//! examples; the signatures are computed here with the providers' schemes (Mandrill:
//! base64(HMAC-SHA1(key, url + sorted name+value)); SendGrid: ECDSA P-256 / SHA-256 over
//! timestamp + body, DER, base64), not by the server's code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use traction_domain::Entity;
use traction_store::Actor;
use traction_store::hooks::EmailHook;

use crate::helpers::*;

const MANDRILL_KEY: &str = "mk-9fH2_secret";
const MANDRILL_URL: &str = "https://sales.example.com/api/v1/hooks/email/mandrill";

fn mandrill_signature(key: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Percent-encodes a form value (every byte but unreserved ones).
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sendgrid_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).unwrap()
}

fn sendgrid_public_key() -> String {
    let der = sendgrid_key().verifying_key().to_public_key_der().unwrap();
    B64.encode(der.as_bytes())
}

fn sendgrid_signature(key: &SigningKey, timestamp: &str, body: &str) -> String {
    let signed = format!("{timestamp}{body}");
    let signature: Signature = key.sign(signed.as_bytes());
    B64.encode(signature.to_der().as_bytes())
}

/// A contact with a lead (owned by `rep`, from campaign `c-spring`), a contact without a lead.
async fn people(app: &TestApp) {
    add_user(&*app.store, "rep", "rep", None);
    app.create("campaigns", json!({"id": "c-spring", "name": "Spring", "channel": "email"})).await;
    app.create("campaigns", json!({"id": "c-news", "name": "News", "channel": "email"})).await;
    app.create(
        "contacts",
        json!([
            {"id": "ana", "name": "Ana", "email": "Ana.Lima@Example.com", "owner_id": "rep",
             "created_at": "2026-01-05T10:00:00Z"},
            {"id": "bo", "name": "Bo", "email": "bo@example.com", "created_at": "2026-01-06T10:00:00Z"}
        ]),
    )
    .await;
    app.create(
        "leads",
        json!({"id": "lead-ana", "created_at": "2026-01-05T10:00:00Z", "source": "email",
               "campaign_id": "c-spring", "owner_id": "rep", "contact_id": "ana"}),
    )
    .await;
}

fn add_hook(app: &TestApp, provider: &str, secret: &str, url: &str) {
    app.store
        .add_email_hook(
            &EmailHook {
                provider: provider.into(),
                secret: secret.into(),
                url: url.into(),
                created_at: T0,
                created_by: "admin".into(),
            },
            &Actor { user: "admin".into(), at: Some(T0) },
        )
        .unwrap();
}

async fn post_mandrill(app: &TestApp, events: &str, signature: Option<String>) -> Answer {
    let body = format!("mandrill_events={}", form_encode(events));
    let mut req = app
        .anonymous
        .post(app.url("/api/v1/hooks/email/mandrill"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(signature) = signature {
        req = req.header("X-Mandrill-Signature", signature);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    Answer { status, body: serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Json::Null) }
}

async fn post_sendgrid(app: &TestApp, body: &str, signature: &str, timestamp: &str) -> Answer {
    let res = app
        .anonymous
        .post(app.url("/api/v1/hooks/email/sendgrid"))
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Signature", signature)
        .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    Answer { status, body: serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Json::Null) }
}

/// Mandrill's documented event shapes: send, open, click, a bounce, a deferral (not kept), a
/// sync event (not kept).
fn mandrill_events() -> String {
    json!([
        {"event": "send", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001", "ts": 1772445600,
         "msg": {"ts": 1772445600, "subject": "Spring offer", "email": "ana.lima@example.com",
                 "sender": "sales@example.com", "tags": ["spring"], "opens": [], "clicks": [],
                 "state": "sent", "metadata": {"campaign_id": "c-news"},
                 "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001", "_version": "v1"}},
        {"event": "open", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001", "ts": 1772449200,
         "ip": "203.0.113.9", "user_agent": "Mozilla/5.0",
         "msg": {"ts": 1772445600, "email": "ana.lima@example.com", "state": "sent",
                 "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001"}},
        {"event": "click", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001", "ts": 1772449260,
         "url": "https://example.com/offer",
         "msg": {"ts": 1772445600, "email": "ana.lima@example.com", "state": "sent",
                 "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000001"}},
        {"event": "hard_bounce", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000002", "ts": 1772445700,
         "msg": {"ts": 1772445600, "email": "nobody@example.org", "state": "bounced",
                 "bounce_description": "bad_mailbox", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000002"}},
        {"event": "deferral", "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000003", "ts": 1772445800,
         "msg": {"ts": 1772445600, "email": "bo@example.com", "state": "deferred",
                 "_id": "6d1d1b7f0e4c4a4fa1a0c0ffee000003"}},
        {"type": "blacklist", "action": "add", "reject": {"email": "x@example.com"}, "ts": 1772445900}
    ])
    .to_string()
}

#[tokio::test]
async fn mandrill_events_are_stored_matched_by_address_and_unknown_kinds_counted() {
    let app = TestApp::spawn().await;
    people(&app).await;
    add_hook(&app, "mandrill", MANDRILL_KEY, MANDRILL_URL);
    let events = mandrill_events();
    let signature = mandrill_signature(MANDRILL_KEY, MANDRILL_URL, &[("mandrill_events", &events)]);
    let answer = post_mandrill(&app, &events, Some(signature.clone())).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    // 6 events: send, open, click, hard_bounce kept (4); deferral and the sync event skipped.
    assert_eq!(answer.body["received"], 6);
    assert_eq!(answer.body["created"], 4);
    assert_eq!(answer.body["matched"], 3, "Ana's three events, by her address in any case");
    assert_eq!(answer.body["unmatched"], 1, "the bounce to an unknown address is kept, unmatched");
    assert_eq!(answer.body["skipped"], json!({"deferral": 1, "sync blacklist": 1}));

    let stored = app.all("email_events", "").await;
    assert_eq!(stored.len(), 4);
    let of = |kind: &str| stored.iter().find(|e| e["kind"] == kind).unwrap().clone();
    let sent = of("sent");
    assert_eq!(sent["message_id"], "6d1d1b7f0e4c4a4fa1a0c0ffee000001");
    assert_eq!(sent["contact_id"], "ana");
    assert_eq!(sent["lead_id"], "lead-ana");
    assert_eq!(sent["owner_id"], "rep");
    // The campaign the sender attached in the metadata wins over the lead's.
    assert_eq!(sent["campaign_id"], "c-news");
    // 1772445600 = 2026-03-02T10:00:00Z.
    assert_eq!(sent["occurred_at"], "2026-03-02T10:00:00Z");
    let opened = of("opened");
    assert_eq!(opened["occurred_at"], "2026-03-02T11:00:00Z");
    assert_eq!(opened["campaign_id"], "c-spring", "no metadata: the lead's campaign");
    assert_eq!(of("clicked")["lead_id"], "lead-ana");
    let bounced = of("bounced");
    assert!(bounced["contact_id"].is_null() && bounced["lead_id"].is_null());

    // Mandrill retries: the same batch again stores nothing twice.
    let again = post_mandrill(&app, &events, Some(signature)).await;
    assert_eq!(again.status, StatusCode::OK, "{:#}", again.body);
    assert_eq!(again.body["created"], 0);
    assert_eq!(again.body["unchanged"], 4);
    assert_eq!(app.count(Entity::EmailEvents), 4);

    // Written as the hook in the audit log.
    let audit = app.get("/api/v1/audit?entity=email_events").await;
    assert!(audit.body.to_string().contains("hook:mandrill"), "{}", audit.body);
}

#[tokio::test]
async fn a_bad_mandrill_signature_is_401_a_malformed_body_400_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    people(&app).await;
    add_hook(&app, "mandrill", MANDRILL_KEY, MANDRILL_URL);
    let events = mandrill_events();
    // Signed with another key, over another URL, or not at all.
    let wrong_key = mandrill_signature("other", MANDRILL_URL, &[("mandrill_events", &events)]);
    post_mandrill(&app, &events, Some(wrong_key)).await.error(401, "unauthorized");
    let wrong_url = mandrill_signature(
        MANDRILL_KEY,
        "https://evil.example.com/api/v1/hooks/email/mandrill",
        &[("mandrill_events", &events)],
    );
    post_mandrill(&app, &events, Some(wrong_url)).await.error(401, "unauthorized");
    post_mandrill(&app, &events, None).await.error(401, "unauthorized");
    post_mandrill(&app, &events, Some("not base64!".into())).await.error(401, "unauthorized");
    // Signed, but not an array of events.
    let bad = "{\"event\": \"send\"";
    let signature = mandrill_signature(MANDRILL_KEY, MANDRILL_URL, &[("mandrill_events", bad)]);
    let answer = post_mandrill(&app, bad, Some(signature)).await;
    answer.error(400, "bad_request");
    assert!(answer.body.to_string().contains("mandrill_events"), "{}", answer.body);
    // A signed form without mandrill_events.
    let signature = mandrill_signature(MANDRILL_KEY, MANDRILL_URL, &[("other", "1")]);
    let res = app
        .anonymous
        .post(app.url("/api/v1/hooks/email/mandrill"))
        .header("X-Mandrill-Signature", signature)
        .body("other=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count(Entity::EmailEvents), 0);
}

#[tokio::test]
async fn sendgrid_signed_events_are_stored_and_a_bad_signature_is_401() {
    let app = TestApp::spawn().await;
    people(&app).await;
    add_hook(&app, "sendgrid", &sendgrid_public_key(), "");
    // SendGrid's documented event shapes: processed, delivered, open, click, unsubscribe,
    // dropped and spamreport (not kept); a custom argument names the campaign.
    let body = json!([
        {"email": "bo@example.com", "timestamp": 1772445600, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
         "event": "processed", "category": ["spring"], "sg_event_id": "sg_event_id_processed_1",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "campaign_id": "c-spring"},
        {"email": "bo@example.com", "timestamp": 1772445660, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
         "event": "delivered", "category": ["spring"], "sg_event_id": "sg_event_id_delivered_1",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "response": "250 OK"},
        {"email": "BO@example.com", "timestamp": 1772449200, "event": "open", "sg_machine_open": false,
         "useragent": "Mozilla/4.0", "ip": "255.255.255.255", "sg_event_id": "sg_event_id_open_1",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
        {"email": "bo@example.com", "timestamp": 1772449260, "event": "click",
         "url": "http://www.sendgrid.com/", "sg_event_id": "sg_event_id_click_1",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
        {"email": "bo@example.com", "timestamp": 1772452800, "event": "unsubscribe",
         "sg_event_id": "sg_event_id_unsub_1", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
        {"email": "x@example.com", "timestamp": 1772445600, "event": "dropped", "reason": "Bounced Address",
         "sg_event_id": "sg_event_id_dropped_1", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0002.16648.5515E0B88.0"},
        {"email": "x@example.com", "timestamp": 1772445600, "event": "spamreport",
         "sg_event_id": "sg_event_id_spam_1", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0002.16648.5515E0B88.0"}
    ])
    .to_string();
    let timestamp = "1772452900";
    let signature = sendgrid_signature(&sendgrid_key(), timestamp, &body);

    // Signed by another key, over another timestamp, a changed body, or not at all: 401.
    let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
    post_sendgrid(&app, &body, &sendgrid_signature(&other, timestamp, &body), timestamp)
        .await
        .error(401, "unauthorized");
    post_sendgrid(&app, &body, &signature, "1772452901").await.error(401, "unauthorized");
    let changed = body.replace("bo@example.com", "eve@example.com");
    post_sendgrid(&app, &changed, &signature, timestamp).await.error(401, "unauthorized");
    let res = app
        .anonymous
        .post(app.url("/api/v1/hooks/email/sendgrid"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count(Entity::EmailEvents), 0);

    let answer = post_sendgrid(&app, &body, &signature, timestamp).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["received"], 7);
    assert_eq!(answer.body["created"], 5);
    assert_eq!(answer.body["matched"], 5);
    assert_eq!(answer.body["skipped"], json!({"dropped": 1, "spamreport": 1}));
    let stored = app.all("email_events", "").await;
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = stored.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        k.sort();
        k
    };
    assert_eq!(kinds, ["clicked", "delivered", "opened", "sent", "unsubscribed"]);
    for event in &stored {
        assert_eq!(event["contact_id"], "bo", "{event}");
        assert!(event["lead_id"].is_null(), "Bo has no lead: {event}");
        assert_eq!(event["message_id"], "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0");
    }
    let sent = stored.iter().find(|e| e["kind"] == "sent").unwrap();
    assert_eq!(sent["campaign_id"], "c-spring");
    assert!(stored.iter().find(|e| e["kind"] == "opened").unwrap()["campaign_id"].is_null());

    // Signed but not JSON: 400, nothing stored.
    let garbage = "[{\"event\": ";
    let answer = post_sendgrid(
        &app,
        garbage,
        &sendgrid_signature(&sendgrid_key(), timestamp, garbage),
        timestamp,
    )
    .await;
    answer.error(400, "bad_request");
    assert_eq!(app.count(Entity::EmailEvents), 5);
}

#[tokio::test]
async fn a_provider_without_a_hook_is_404_and_an_unknown_provider_too() {
    let app = TestApp::spawn().await;
    let answer = post_mandrill(&app, "[]", Some("x".into())).await;
    let message = answer.body["error"]["message"].as_str().unwrap_or("").to_string();
    answer.error(404, "not_found");
    assert!(message.contains("traction hook add mandrill"), "{message}");
    let res = app.anonymous.get(app.url("/api/v1/hooks/email/mandrill")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .anonymous
        .post(app.url("/api/v1/hooks/email/postmark"))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Once configured, Mandrill's check of the URL (HEAD) answers 200.
    add_hook(&app, "mandrill", MANDRILL_KEY, MANDRILL_URL);
    let res = app.anonymous.head(app.url("/api/v1/hooks/email/mandrill")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Mandrill's test post when a webhook is saved: an empty batch, signed.
    let signature = mandrill_signature(MANDRILL_KEY, MANDRILL_URL, &[("mandrill_events", "[]")]);
    let answer = post_mandrill(&app, "[]", Some(signature)).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["received"], 0);
}
