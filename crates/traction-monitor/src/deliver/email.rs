//! Email over SMTP with lettre (rustls, no OpenSSL): plain, STARTTLS or TLS from `smtp_url`.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maud::{PreEscaped, html};
use traction_store::monitor::Notification;

use super::SmtpSettings;

/// Builds the transport `smtp_url` describes.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        format!("smtp_url is not a URL ({e}): write smtp://host:port, smtp+starttls://host:port or smtps://host:port")
    })?;
    let host = parsed.host_str().ok_or("smtp_url has no host")?.to_string();
    let builder = match parsed.scheme() {
        "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(parsed.port().unwrap_or(25)),
        "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
            .map_err(|e| format!("smtp_url: {e}"))?
            .port(parsed.port().unwrap_or(587)),
        "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
            .map_err(|e| format!("smtp_url: {e}"))?
            .port(parsed.port().unwrap_or(465)),
        other => {
            return Err(format!(
                "smtp_url scheme {other:?}: write smtp:// (plain), smtp+starttls:// or smtps://"
            ));
        }
    };
    let builder = builder.timeout(Some(super::WEBHOOK_TIMEOUT));
    let builder = if parsed.username().is_empty() {
        builder
    } else {
        let decode = |s: &str| percent_decode(s);
        builder.credentials(Credentials::new(
            decode(parsed.username()),
            decode(parsed.password().unwrap_or("")),
        ))
    };
    Ok(builder.build())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%'
            && idx + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[idx + 1..idx + 3], 16)
        {
            out.push(b);
            idx += 3;
            continue;
        }
        out.push(bytes[idx]);
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
pub async fn send(smtp: &SmtpSettings, to: &[String], note: &Notification) -> Result<(), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("smtp_from {:?} is not an address: {e}", smtp.from))?;
    let mut builder = Message::builder().from(from).subject(subject(note));
    for address in to {
        let mailbox: Mailbox =
            address.parse().map_err(|e| format!("{address:?} is not an address: {e}"))?;
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
        let csv_type = ContentType::parse("text/csv; charset=utf-8").map_err(|e| e.to_string())?;
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
        builder.multipart(parts).map_err(|e| format!("cannot build the email: {e}"))?
    } else {
        let summary = body["summary"].as_str().unwrap_or(&note.text);
        let html = alert_html(&note.text, summary);
        builder
            .multipart(MultiPart::alternative_plain_html(note.text.clone(), html))
            .map_err(|e| format!("cannot build the email: {e}"))?
    };
    let transport = transport(&smtp.url)?;
    transport.send(message).await.map_err(|e| format!("SMTP: {e}"))?;
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
