//! Email over SMTP with lettre (rustls, no OpenSSL): plain, STARTTLS or TLS from `smtp_url`.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maud::{PreEscaped, html};
use traction_store::monitor::Notification;

use super::{DeliveryError, SmtpSettings};

/// Builds the transport `smtp_url` describes.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let parsed = reqwest::Url::parse(url).map_err(|source| DeliveryError::SmtpUrl { source })?;
    let host = parsed.host_str().ok_or(DeliveryError::SmtpNoHost)?.to_string();
    let builder = match parsed.scheme() {
        "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(parsed.port().unwrap_or(25)),
        "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
            .map_err(DeliveryError::SmtpRelay)?
            .port(parsed.port().unwrap_or(587)),
        "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
            .map_err(DeliveryError::SmtpRelay)?
            .port(parsed.port().unwrap_or(465)),
        other => {
            return Err(DeliveryError::SmtpScheme { scheme: other.to_string() });
        }
    };
    let builder = builder.timeout(Some(super::WEBHOOK_TIMEOUT));
    let builder = match credentials(&parsed)? {
        Some((user, password)) => builder.credentials(Credentials::new(user, password)),
        None => builder,
    };
    Ok(builder.build())
}

/// The user name and password of `smtp_url`, decoded: they are percent-encoded in a URL (a `+`
/// is a plus there, not a space).
fn credentials(url: &reqwest::Url) -> Result<Option<(String, String)>, DeliveryError> {
    if url.username().is_empty() {
        return Ok(None);
    }
    let decode = |part: &str, what: &'static str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| DeliveryError::SmtpCredential { what })
    };
    Ok(Some((
        decode(url.username(), "user name")?,
        decode(url.password().unwrap_or(""), "password")?,
    )))
}

/// An alert's e-mail as HTML: its line in bold, then its summary (maud escapes both).
fn alert_html(text: &str, summary: &str) -> String {
    html! {
        (PreEscaped("<!doctype html>"))
        html { body { p { strong { (text) } } p { (summary) } } }
    }
    .into_string()
}

/// Sends one notification to `to`: its text as the plain part, and an HTML part.
pub async fn send(
    smtp: &SmtpSettings,
    to: &[String],
    note: &Notification,
) -> Result<(), DeliveryError> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|source| DeliveryError::From { from: smtp.from.clone(), source })?;
    let mut builder = Message::builder().from(from).subject(subject(note));
    for address in to {
        let mailbox: Mailbox = address
            .parse()
            .map_err(|source| DeliveryError::To { address: address.clone(), source })?;
        builder = builder.to(mailbox);
    }
    let body: serde_json::Value = serde_json::from_str(&note.body).unwrap_or_default();
    let message = if body["kind"] == "report" {
        // A scheduled report: its HTML as the body, its text as the plain part, the metrics
        // table as a CSV attachment.
        let html = body["html"].as_str().unwrap_or("").to_string();
        let plain = body["plain"].as_str().unwrap_or(&note.text).to_string();
        let csv = body["csv"].as_str().unwrap_or("").to_string();
        let name = format!(
            "report-{}-{}.csv",
            body["schedule"].as_str().unwrap_or("report"),
            body["from"].as_str().unwrap_or("")
        );
        let csv_type =
            ContentType::parse("text/csv; charset=utf-8").map_err(DeliveryError::ContentType)?;
        let attachment = Attachment::new(name).body(csv, csv_type.clone());
        let mut parts = MultiPart::mixed()
            .multipart(MultiPart::alternative_plain_html(plain, html))
            .singlepart(attachment);
        // A daily report's month to date: its own table, beside the day's.
        if let Some(mtd) = body["csv_month_to_date"].as_str() {
            let name = format!(
                "report-{}-{}-month-to-date.csv",
                body["schedule"].as_str().unwrap_or("report"),
                body["month_to_date_from"].as_str().unwrap_or("")
            );
            parts = parts.singlepart(Attachment::new(name).body(mtd.to_string(), csv_type));
        }
        builder.multipart(parts).map_err(DeliveryError::Build)?
    } else {
        let summary = body["summary"].as_str().unwrap_or(&note.text);
        let html = alert_html(&note.text, summary);
        builder
            .multipart(MultiPart::alternative_plain_html(note.text.clone(), html))
            .map_err(DeliveryError::Build)?
    };
    let transport = transport(&smtp.url)?;
    transport.send(message).await.map_err(DeliveryError::Smtp)?;
    Ok(())
}

fn subject(note: &Notification) -> String {
    let mut text = note.text.clone();
    if text.chars().count() > 120 {
        text = text.chars().take(117).collect::<String>() + "…";
    }
    text
}

#[cfg(test)]
mod html_tests {
    use super::alert_html;

    #[test]
    fn an_alert_email_escapes_its_text() {
        assert_eq!(
            alert_html("Revenue <won> & lost", "pace \"low\""),
            "<!doctype html><html><body><p><strong>Revenue &lt;won&gt; &amp; lost</strong></p><p>pace &quot;low&quot;</p></body></html>"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(url: &str) -> Result<Option<(String, String)>, DeliveryError> {
        credentials(&reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn smtp_credentials_are_percent_decoded_with_plus_kept() {
        assert_eq!(creds("smtp://mail.example:2525").unwrap(), None);
        assert_eq!(
            creds("smtp://ann%40example.com:p%2Bw+d%25%C3%A9@mail.example").unwrap(),
            Some(("ann@example.com".to_string(), "p+w+d%é".to_string()))
        );
        assert_eq!(
            creds("smtps://bot@mail.example").unwrap(),
            Some(("bot".to_string(), String::new()))
        );
        let e = creds("smtp://ann:pw%ff@mail.example").unwrap_err().to_string();
        assert!(e.contains("smtp_url's password is not UTF-8"), "{e}");
        assert!(transport("smtp://a%C3:b@mail.example").is_err());
    }
}
