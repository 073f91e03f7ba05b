//! Mailchimp Transactional (Mandrill) event webhooks.
//!
//! Mandrill POSTs `application/x-www-form-urlencoded` with one parameter, `mandrill_events`, a
//! JSON array of events: `{"event": "send"|"open"|…, "ts": <unix seconds>, "_id": <message id>,
//! "msg": {"email", "_id", "metadata", "tags", …}}`; sync events (`{"type": "blacklist"|…}`)
//! have no `event`. `X-Mandrill-Signature` is base64(HMAC-SHA1(webhook key, URL followed by
//! each POST parameter's name and value, in name order)).

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::Value as Json;

use super::{Batch, Event, HookError, Kind, Request, form_pairs, id_from, seconds_of, text_of};

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The kind a Mandrill event becomes, or `None` for kinds Traction does not keep (deferral,
/// spam, reject and the rest).
fn kind_of(event: &str) -> Option<Kind> {
    Some(match event {
        "send" => Kind::Sent,
        "delivered" => Kind::Delivered,
        "open" => Kind::Opened,
        "click" => Kind::Clicked,
        "hard_bounce" | "soft_bounce" => Kind::Bounced,
        "unsub" => Kind::Unsubscribed,
        "inbound" => Kind::Replied,
        _ => return None,
    })
}

pub(super) fn parse(key: &str, url: &str, request: &Request<'_>) -> Result<Batch, HookError> {
    let pairs = form_pairs(request.body).map_err(|e| {
        HookError::Malformed(format!(
            "the body is not a form (application/x-www-form-urlencoded) as Mandrill sends: {e}"
        ))
    })?;
    check_signature(key, url, &pairs, request.signature)?;
    let Some((_, events)) = pairs.iter().find(|(name, _)| name == "mandrill_events") else {
        return Err(HookError::Malformed(
            "the form has no mandrill_events parameter: Mandrill sends its events in it".into(),
        ));
    };
    let events: Vec<Json> = serde_json::from_str(events).map_err(|e| {
        HookError::Malformed(format!("mandrill_events is not a JSON array of events: {e}"))
    })?;
    let mut batch = Batch { received: events.len() as u64, ..Batch::default() };
    for (idx, event) in events.iter().enumerate() {
        let Some(name) = event.get("event").and_then(Json::as_str) else {
            match event.get("type").and_then(Json::as_str) {
                Some(sync) => batch.skip(&format!("sync {sync}")),
                None => batch.invalid.push(format!("event {idx}: has no \"event\" field")),
            }
            continue;
        };
        let Some(kind) = kind_of(name) else {
            batch.skip(name);
            continue;
        };
        let msg = event.get("msg");
        let field = |name: &str| msg.and_then(|m| m.get(name));
        let (email, message_id) = if kind == Kind::Replied {
            // An inbound message: from the person, about the message it answers when its
            // headers say so.
            let reply_to = field("headers")
                .and_then(|h| h.get("In-Reply-To"))
                .and_then(Json::as_str)
                .map(|s| s.trim().trim_start_matches('<').trim_end_matches('>').to_string());
            (text_of(field("from_email")), reply_to.or_else(|| text_of(event.get("_id"))))
        } else {
            (text_of(field("email")), text_of(event.get("_id")).or_else(|| text_of(field("_id"))))
        };
        let at = seconds_of(event.get("ts")).or_else(|| seconds_of(field("ts")));
        let (Some(email), Some(message_id), Some(at)) = (email, message_id, at) else {
            batch.invalid.push(format!(
                "event {idx} ({name}): needs the message's \"_id\", \"ts\" and the recipient's address"
            ));
            continue;
        };
        let campaign = field("metadata").and_then(|m| text_of(m.get("campaign_id")));
        let id = id_from(&["mandrill", &message_id, name, &at.to_string()]);
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

/// Checks `X-Mandrill-Signature` over the URL and the sorted parameters.
fn check_signature(
    key: &str,
    url: &str,
    pairs: &[(String, String)],
    signature: Option<&str>,
) -> Result<(), HookError> {
    let Some(signature) = signature else {
        return Err(HookError::BadSignature(
            "the request has no X-Mandrill-Signature header: only Mandrill's signed requests are read".into(),
        ));
    };
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| HookError::BadSignature("X-Mandrill-Signature is not base64".into()))?;
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = HmacSha1::new_from_slice(key.as_bytes())
        .map_err(|_| HookError::BadSignature("the hook's key cannot be used".into()))?;
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.verify_slice(&given).map_err(|_| {
        HookError::BadSignature(
            "X-Mandrill-Signature does not match: check the hook's key and that its URL is exactly the one set in Mandrill".into(),
        )
    })
}
