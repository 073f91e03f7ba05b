//! Mailing tools push their events in (importers.md, email hooks): the event webhooks of
//! Mailchimp Transactional (Mandrill) and SendGrid, as they send them.
//!
//! A request is checked with the provider's own scheme against the hook's secret ([`parse`]:
//! Mandrill's HMAC-SHA1 over the URL and the sorted POST parameters, SendGrid's ECDSA P-256 over
//! the timestamp and the body), read into [`Event`]s, and [`store`]d as `email_events` records
//! through one writer, matched to a lead and a contact by address. Events of kinds Traction
//! does not keep are counted and skipped; a request that cannot be read is [`HookError::Malformed`],
//! a bad or missing signature [`HookError::BadSignature`]. An event's id is derived from the
//! provider's own ids, so a batch delivered twice (providers retry) stores each event once.

mod mandrill;
mod sendgrid;

use std::collections::BTreeMap;

use traction_domain::record::{Record, check_record, parse_field};
use traction_domain::schema::Entity;
use traction_domain::settings::Workspace;
use traction_domain::time::Micros;
use traction_domain::{ParseContext, Value};
use traction_store::hooks::HookStore;
use traction_store::{Error as StoreError, PutOutcome, Store, Summary, Writer};

/// A mailing tool whose event webhook Traction reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Mailchimp Transactional, formerly Mandrill.
    Mandrill,
    SendGrid,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Mandrill, Provider::SendGrid];

    /// `mandrill` (or `mailchimp`) and `sendgrid`, in any case.
    pub fn parse(name: &str) -> Result<Provider, SettingsError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "mandrill" | "mailchimp" => Ok(Provider::Mandrill),
            "sendgrid" => Ok(Provider::SendGrid),
            _ => Err(SettingsError::UnknownProvider { name: name.to_string() }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Mandrill => "mandrill",
            Provider::SendGrid => "sendgrid",
        }
    }

    /// Checks a hook's settings before they are kept: Mandrill needs its webhook key and the
    /// exact URL it posts to (both are signed); SendGrid its verification key (base64 DER of a
    /// P-256 public key, as its settings page shows it) and no URL.
    pub fn check_settings(self, secret: &str, url: &str) -> Result<(), SettingsError> {
        match self {
            Provider::Mandrill => {
                if secret.trim().is_empty() {
                    return Err(SettingsError::MandrillNoSecret);
                }
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                    return Err(SettingsError::MandrillUrl { url: url.to_string() });
                }
                Ok(())
            }
            Provider::SendGrid => {
                if !url.is_empty() {
                    return Err(SettingsError::SendGridUrl);
                }
                sendgrid::verifying_key(secret).map(|_| ())
            }
        }
    }
}

/// Why a provider's name or a hook's settings are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{name:?} is not a mailing tool Traction reads events from: use mandrill or sendgrid")]
    UnknownProvider { name: String },
    #[error(
        "a Mandrill hook needs its webhook key (--secret): copy it from the webhook's settings in Mailchimp Transactional"
    )]
    MandrillNoSecret,
    #[error(
        "a Mandrill hook needs the exact URL Mandrill posts to, which it signs (--url https://…/api/v1/hooks/email/mandrill); got {url:?}"
    )]
    MandrillUrl { url: String },
    #[error("a SendGrid hook takes no --url: its signature covers the timestamp and the body only")]
    SendGridUrl,
    #[error(
        "the SendGrid verification key is not base64: copy it from Mail Settings › Signed Event Webhook"
    )]
    KeyNotBase64,
    #[error(
        "the SendGrid verification key is not a P-256 public key: copy it from Mail Settings › Signed Event Webhook"
    )]
    KeyNotP256,
}

/// Why a hook request is refused.
#[derive(Debug)]
pub enum HookError {
    /// The signature is missing or does not match the hook's secret (HTTP 401).
    BadSignature(String),
    /// The request cannot be read as the provider sends it (HTTP 400).
    Malformed(String),
    /// The store failed.
    Store(StoreError),
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookError::BadSignature(m) | HookError::Malformed(m) => f.write_str(m),
            HookError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for HookError {
    fn from(e: StoreError) -> HookError {
        HookError::Store(e)
    }
}

/// A request as the server received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub body: &'a [u8],
    /// The provider's signature header (`X-Mandrill-Signature`,
    /// `X-Twilio-Email-Event-Webhook-Signature`).
    pub signature: Option<&'a str>,
    /// SendGrid's `X-Twilio-Email-Event-Webhook-Timestamp`.
    pub timestamp: Option<&'a str>,
}

/// The kinds of `email_events` (data-model.md) a provider event may become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sent,
    Delivered,
    Opened,
    Clicked,
    Replied,
    Bounced,
    Unsubscribed,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sent => "sent",
            Kind::Delivered => "delivered",
            Kind::Opened => "opened",
            Kind::Clicked => "clicked",
            Kind::Replied => "replied",
            Kind::Bounced => "bounced",
            Kind::Unsubscribed => "unsubscribed",
        }
    }
}

/// One provider event Traction keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The record's id, derived from the provider's ids.
    pub id: String,
    pub message_id: String,
    pub kind: Kind,
    /// Unix seconds.
    pub at_secs: i64,
    /// The recipient's address.
    pub email: String,
    /// A campaign id the sender attached (Mandrill metadata, SendGrid custom argument
    /// `campaign_id`).
    pub campaign: Option<String>,
}

/// What a request held.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    /// Events of kinds Traction does not keep, by the provider's name for them.
    pub skipped: BTreeMap<String, u64>,
    /// Events that lack what an event needs (a message id, a time, an address), with why.
    pub invalid: Vec<String>,
    /// How many events the request held.
    pub received: u64,
}

impl Batch {
    fn skip(&mut self, kind: &str) {
        *self.skipped.entry(kind.to_string()).or_insert(0) += 1;
    }
}

/// Checks a request's signature against the hook and reads its events.
pub fn parse(
    provider: Provider,
    secret: &str,
    url: &str,
    request: &Request<'_>,
) -> Result<Batch, HookError> {
    match provider {
        Provider::Mandrill => mandrill::parse(secret, url, request),
        Provider::SendGrid => sendgrid::parse(secret, request),
    }
}

/// What storing a batch did.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub received: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Stored events whose address is a lead's or a contact's.
    pub matched: u64,
    /// Stored events whose address is nobody's (kept, without a lead or contact).
    pub unmatched: u64,
    pub skipped: BTreeMap<String, u64>,
    pub invalid: Vec<String>,
}

/// Stores a batch's events through `writer` (committed here; the store's summary is returned
/// for those who announce changes), each matched to the lead and the
/// contact with its address; the owner is the lead's (else the contact's), the campaign the one
/// the sender attached when it exists (else the lead's).
pub fn store(
    store: &dyn Store,
    hooks: &dyn HookStore,
    mut writer: Box<dyn Writer + '_>,
    batch: Batch,
    now: Micros,
) -> Result<(Received, Summary), HookError> {
    let Workspace { zone, currency, .. } = store.workspace()?;
    let ctx = ParseContext { zone, currency, now };
    let mut out = Received {
        received: batch.received,
        skipped: batch.skipped,
        invalid: batch.invalid,
        ..Received::default()
    };
    let mut campaigns: BTreeMap<String, bool> = BTreeMap::new();
    for (idx, event) in batch.events.iter().enumerate() {
        let who = hooks.recipient(&event.email)?;
        let attached = match &event.campaign {
            Some(id) => {
                let known = match campaigns.get(id) {
                    Some(known) => *known,
                    None => {
                        let known = traction_domain::record::check_id(id).is_ok()
                            && store.get(Entity::Campaigns, &[Value::Text(id.clone())])?.is_some();
                        campaigns.insert(id.clone(), known);
                        known
                    }
                };
                known.then(|| id.clone())
            }
            None => None,
        };
        let at = jiff::Timestamp::from_second(event.at_secs).map_err(|_| {
            HookError::Malformed(format!("event {}: {} is not a time", event.id, event.at_secs))
        })?;
        let texts: [(&str, Option<String>); 8] = [
            ("id", Some(event.id.clone())),
            ("message_id", Some(event.message_id.clone())),
            ("kind", Some(event.kind.name().to_string())),
            ("occurred_at", Some(at.to_string())),
            ("owner_id", who.lead_owner.clone().or(who.contact_owner.clone())),
            ("lead_id", who.lead_id.clone()),
            ("contact_id", who.contact_id.clone()),
            ("campaign_id", attached.or(who.lead_campaign.clone())),
        ];
        let mut record = Record { entity: Entity::EmailEvents, values: Vec::new() };
        let mut problems = Vec::new();
        for field in Entity::EmailEvents.fields() {
            let text = texts
                .iter()
                .find(|(name, _)| *name == field.name)
                .and_then(|(_, text)| text.clone())
                .unwrap_or_default();
            match parse_field(field, &text, &ctx) {
                Ok(value) => record.values.push(value),
                Err(e) => {
                    problems.push(format!("{}: {e}", field.name));
                    record.values.push(Value::Null);
                }
            }
        }
        problems.extend(
            check_record(&record).into_iter().map(|p| format!("{}: {}", p.field, p.message)),
        );
        if !problems.is_empty() {
            out.invalid.push(format!("event {}: {}", event.id, problems.join("; ")));
            continue;
        }
        let matched = who.lead_id.is_some() || who.contact_id.is_some();
        match writer.put(idx as u64, record) {
            Ok(outcome) => {
                match outcome {
                    PutOutcome::Created => out.created += 1,
                    PutOutcome::Updated => out.updated += 1,
                    PutOutcome::Unchanged => out.unchanged += 1,
                }
                if matched {
                    out.matched += 1;
                } else {
                    out.unmatched += 1;
                }
            }
            Err(StoreError::Invalid(problems)) => {
                let text: Vec<String> =
                    problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
                out.invalid.push(format!("event {}: {}", event.id, text.join("; ")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let summary = writer.commit()?;
    Ok((out, summary))
}

/// `application/x-www-form-urlencoded` pairs, decoded by the server's rule (`+` is a space,
/// `%XX` a byte, a `%` that starts no escape kept; see traction-server `auth/wire.rs`), and
/// refused when the decoded text is not UTF-8.
fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    // Fields split at ASCII `&` and `=`: the decoded whole is UTF-8 exactly when every field is,
    // so form_urlencoded's lossy decoding never applies.
    if percent_encoding::percent_decode(body).decode_utf8().is_err() {
        return Err("a form value is not UTF-8 once its %XX escapes are decoded".to_string());
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

/// A JSON value's text (a string as it is, a number in decimal), for ids and addresses.
fn text_of(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A JSON value as whole Unix seconds (a number, possibly with a fraction, or its text).
fn seconds_of(value: Option<&serde_json::Value>) -> Option<i64> {
    match value? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.floor() as i64)),
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// An id made of provider text: printable ASCII without spaces (others replaced by `_`), at
/// most 128 characters (longer text is cut and keeps a hash of the whole, so ids stay unique).
fn id_from(parts: &[&str]) -> String {
    let joined = parts.join(":");
    let mut id: String =
        joined.chars().map(|c| if c.is_ascii_graphic() { c } else { '_' }).collect();
    if id.len() > 128 {
        // FNV-1a, 64 bits: stable across builds and platforms.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in joined.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        id.truncate(111);
        id.push_str(&format!(":{hash:016x}"));
    }
    id
}

#[cfg(test)]
mod tests;
