//! SendGrid (Twilio) Event Webhook.
//!
//! SendGrid POSTs a JSON array of events: `{"email", "timestamp": <unix seconds>, "event":
//! "processed"|"delivered"|"open"|…, "sg_event_id", "sg_message_id", <custom arguments>}`. The
//! Signed Event Webhook adds `X-Twilio-Email-Event-Webhook-Signature` (base64 of a DER ECDSA
//! P-256 / SHA-256 signature) over the `X-Twilio-Email-Event-Webhook-Timestamp` header's text
//! followed by the raw body; the verification key is the base64 DER public key SendGrid shows.

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde_json::Value as Json;

use super::{Batch, Event, HookError, Kind, Request, id_from, seconds_of, text_of};

/// The kind a SendGrid event becomes, or `None` for kinds Traction does not keep (dropped,
/// deferred, spamreport, group_resubscribe and the rest).
fn kind_of(event: &str) -> Option<Kind> {
    Some(match event {
        "processed" => Kind::Sent,
        "delivered" => Kind::Delivered,
        "open" => Kind::Opened,
        "click" => Kind::Clicked,
        "bounce" => Kind::Bounced,
        "unsubscribe" | "group_unsubscribe" => Kind::Unsubscribed,
        _ => return None,
    })
}

/// The verification key from its base64 DER text (PEM armour and line breaks allowed).
pub(super) fn verifying_key(text: &str) -> Result<VerifyingKey, super::SettingsError> {
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| super::SettingsError::KeyNotBase64)?;
    VerifyingKey::from_public_key_der(&der).map_err(|_| super::SettingsError::KeyNotP256)
}

pub(super) fn parse(key: &str, request: &Request<'_>) -> Result<Batch, HookError> {
    check_signature(key, request)?;
    let events: Vec<Json> = serde_json::from_slice(request.body).map_err(|e| {
        HookError::Malformed(format!(
            "the body is not a JSON array of events as SendGrid sends: {e}"
        ))
    })?;
    let mut batch = Batch { received: events.len() as u64, ..Batch::default() };
    for (idx, event) in events.iter().enumerate() {
        let Some(name) = event.get("event").and_then(Json::as_str) else {
            batch.invalid.push(format!("event {idx}: has no \"event\" field"));
            continue;
        };
        let Some(kind) = kind_of(name) else {
            batch.skip(name);
            continue;
        };
        let email = text_of(event.get("email"));
        let message_id = text_of(event.get("sg_message_id"));
        let at = seconds_of(event.get("timestamp"));
        let (Some(email), Some(message_id), Some(at)) = (email, message_id, at) else {
            batch.invalid.push(format!(
                "event {idx} ({name}): needs \"sg_message_id\", \"timestamp\" and \"email\""
            ));
            continue;
        };
        let id = match text_of(event.get("sg_event_id")) {
            Some(event_id) => id_from(&["sendgrid", &event_id]),
            None => id_from(&["sendgrid", &message_id, name, &at.to_string()]),
        };
        let campaign = text_of(event.get("campaign_id"));
        batch.events.push(Event {
            id,
            message_id: id_from(&[&message_id]),
            kind,
            at_secs: at,
            email,
            campaign,
        });
    }
    Ok(batch)
}

fn check_signature(key: &str, request: &Request<'_>) -> Result<(), HookError> {
    let (Some(signature), Some(timestamp)) = (request.signature, request.timestamp) else {
        return Err(HookError::BadSignature(
            "the request lacks X-Twilio-Email-Event-Webhook-Signature or -Timestamp: turn on the Signed Event Webhook in SendGrid".into(),
        ));
    };
    let key = verifying_key(key).map_err(|e| HookError::BadSignature(e.to_string()))?;
    let der = base64::engine::general_purpose::STANDARD.decode(signature.trim()).map_err(|_| {
        HookError::BadSignature("X-Twilio-Email-Event-Webhook-Signature is not base64".into())
    })?;
    let signature = Signature::from_der(&der).map_err(|_| {
        HookError::BadSignature(
            "X-Twilio-Email-Event-Webhook-Signature is not a DER ECDSA signature".into(),
        )
    })?;
    let mut signed = Vec::with_capacity(timestamp.len() + request.body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(request.body);
    key.verify(&signed, &signature).map_err(|_| {
        HookError::BadSignature(
            "the SendGrid signature does not match: check the hook's verification key".into(),
        )
    })
}
