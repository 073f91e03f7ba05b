//! Delivery (spec: monitoring.md, Channels): what is due goes out, every attempt is recorded,
//! and what fails is retried with exponential backoff (1 s, 2 s, 4 s, … at most an hour apart)
//! until 24 hours after the notification was made; then it is marked failed with its last error.
//!
//! A webhook is an HTTP POST of the JSON body, with `X-Traction-Signature: sha256=<hex of
//! HMAC-SHA256(secret, body)>` when the channel has a secret; a 2xx answer within 10 s is
//! delivery. Email goes over SMTP ([`SmtpSettings`]): the body's text as the plain part and a
//! small HTML rendering of it. Delivery reads the clock through the function it is given (the
//! attempts are real events), never the wall clock directly.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use traction_domain::time::Micros;
use traction_store::MonitorStore;
use traction_store::monitor::{Attempt, Notification, Outcome};

use crate::Error;
use crate::channel::ChannelConfig;

mod error;
pub use error::DeliveryError;

/// How long a webhook may take to answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a notification is retried.
pub const RETRY_FOR: Micros = 24 * 3600 * 1_000_000;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Micros = 3600 * 1_000_000;
/// How long a claimed notification is kept from other deliverers while it is being sent.
const LEASE: Micros = 60 * 1_000_000;

/// The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s, … at most an hour.
pub fn backoff(attempts: i64) -> Micros {
    let exp = attempts.clamp(1, 40) - 1;
    (1_000_000i64.saturating_mul(1i64 << exp.min(32))).min(MAX_BACKOFF)
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable_hmac());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// HMAC takes keys of any length; this cannot happen.
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(b"").expect("HMAC accepts any key length")
}

/// Where email goes out: the `smtp_url` and `smtp_from` settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port` (plain), `smtp+starttls://host:port`, `smtps://host:port`, with an
    /// optional `user:password@`.
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact_url(&self.url))
            .field("from", &self.from)
            .finish()
    }
}

/// The URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.to_string(),
    }
}

/// What a delivery run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Sends notifications; owns a small runtime of its own, so the command line and the server's
/// background thread call it the same way.
pub struct Deliverer {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    smtp: Option<SmtpSettings>,
}

impl Deliverer {
    pub fn new(smtp: Option<SmtpSettings>) -> Result<Deliverer, DeliveryError> {
        // reqwest is built without a default crypto provider: ring is ours (no C beyond it).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DeliveryError::Runtime)?;
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .user_agent("Traction")
            .build()
            .map_err(DeliveryError::Client)?;
        Ok(Deliverer { runtime, client, smtp })
    }

    /// Delivers every notification due at `clock()`; then, while retries fall due within
    /// `linger`, waits for them and tries again (the command line's `alert eval` lingers a few
    /// seconds so a brief outage of a receiver does not wait for the next run).
    pub fn run(
        &self,
        monitor: &dyn MonitorStore,
        clock: &dyn Fn() -> Micros,
        linger: Duration,
    ) -> Result<Report, Error> {
        let started = clock();
        let mut report = Report::default();
        loop {
            let now = clock();
            let due = monitor.claim_due(now, LEASE, 100)?;
            let mut next_retry: Option<Micros> = None;
            for note in &due {
                match self.deliver_one(monitor, note, clock)? {
                    Outcome::Delivered => report.delivered += 1,
                    Outcome::Failed => report.failed += 1,
                    Outcome::Retry(at) => {
                        next_retry = Some(next_retry.map_or(at, |n: Micros| n.min(at)));
                    }
                }
            }
            let deadline = started + linger.as_micros() as Micros;
            match next_retry {
                Some(at) if at <= deadline => {
                    let wait = (at - clock()).max(0);
                    std::thread::sleep(Duration::from_micros(wait as u64));
                }
                Some(_) => {
                    report.retrying += 1;
                    return Ok(report);
                }
                None if due.len() == 100 => {}
                None => return Ok(report),
            }
        }
    }

    /// One attempt at one notification, recorded.
    fn deliver_one(
        &self,
        monitor: &dyn MonitorStore,
        note: &Notification,
        clock: &dyn Fn() -> Micros,
    ) -> Result<Outcome, Error> {
        let channel_id = note.channel_id.clone().unwrap_or_default();
        let result = match monitor.channel(&channel_id)? {
            None => Err(DeliveryError::ChannelDeleted { channel: channel_id.clone() }),
            Some(channel) => match ChannelConfig::of(&channel) {
                Err(e) => Err(DeliveryError::Channel(Box::new(e))),
                Ok(config) => self.send(&config, note),
            },
        };
        let now = clock();
        let attempts = note.attempts + 1;
        let outcome = match &result {
            Ok(()) => Outcome::Delivered,
            Err(_) if now - note.created_at >= RETRY_FOR => Outcome::Failed,
            Err(_) => Outcome::Retry((now + backoff(attempts)).min(note.created_at + RETRY_FOR)),
        };
        let attempt = Attempt {
            notification_id: note.id,
            channel_id,
            at: now,
            ok: result.is_ok(),
            error: result.err().map(|e| e.to_string()),
        };
        monitor.record_attempt(&attempt, outcome)?;
        Ok(outcome)
    }

    /// Sends a notification's body on a channel (no record kept: see [`Deliverer::run`]).
    pub fn send(&self, config: &ChannelConfig, note: &Notification) -> Result<(), DeliveryError> {
        match config {
            ChannelConfig::Webhook { url, secret } => {
                self.runtime.block_on(self.post(url, secret.as_deref(), note.body.as_bytes()))
            }
            ChannelConfig::Email { to } => match &self.smtp {
                None => Err(DeliveryError::EmailNotSetUp),
                Some(smtp) => self.runtime.block_on(crate::deliver::email::send(smtp, to, note)),
            },
            ChannelConfig::InApp { .. } => Ok(()),
        }
    }

    async fn post(
        &self,
        url: &str,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<(), DeliveryError> {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(secret) = secret {
            request = request.header("X-Traction-Signature", signature(secret, body));
        }
        let response = request.send().await.map_err(|source| {
            if source.is_timeout() {
                DeliveryError::Timeout { url: url.to_string() }
            } else {
                DeliveryError::Unreachable { url: url.to_string(), source }
            }
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Status { url: url.to_string(), status })
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub mod email;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), 1_000_000);
        assert_eq!(backoff(2), 2_000_000);
        assert_eq!(backoff(3), 4_000_000);
        assert_eq!(backoff(12), 2048 * 1_000_000);
        assert_eq!(backoff(13), MAX_BACKOFF);
        assert_eq!(backoff(100), MAX_BACKOFF);
    }

    #[test]
    fn signature_is_the_hmac_of_rfc_4231_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_password_in_the_smtp_url_is_never_shown() {
        let shown = redact_url("smtps://mailer:hunter2@mail.example.com:465");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mailer"));
    }
}
