//! Why a notification could not be sent, or delivery could not start: each variant holds what
//! was tried (the URL, the address, the setting) and the cause; its message is what an attempt
//! records and what `traction alert eval` and the Alerts page show.

/// `smtp_url` as parsed by the URL crate reqwest uses.
type UrlError = <reqwest::Url as std::str::FromStr>::Err;

/// Why delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The deliverer's own runtime could not start.
    #[error("cannot start the delivery runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The notification's channel is gone.
    #[error("the channel {channel:?} was deleted")]
    ChannelDeleted { channel: String },
    /// The channel's stored settings cannot be read.
    #[error(transparent)]
    Channel(Box<crate::Error>),
    /// An email channel, but no SMTP settings.
    #[error(
        "email is not set up: set smtp_url and smtp_from (`traction config set smtp_url smtps://user:password@host:465`)"
    )]
    EmailNotSetUp,
    /// A webhook gave no answer within [`super::WEBHOOK_TIMEOUT`].
    #[error("no answer from {url} within 10 s")]
    Timeout { url: String },
    /// A webhook could not be reached (the causes, outermost first).
    #[error("cannot reach {url}: {}", super::error_chain(.source))]
    Unreachable { url: String, source: reqwest::Error },
    /// A webhook answered other than 2xx.
    #[error("{url} answered {status}")]
    Status { url: String, status: reqwest::StatusCode },
    /// `smtp_url` is not a URL.
    #[error(
        "smtp_url is not a URL ({source}): write smtp://host:port, smtp+starttls://host:port or smtps://host:port"
    )]
    SmtpUrl { source: UrlError },
    /// `smtp_url` names no host.
    #[error("smtp_url has no host")]
    SmtpNoHost,
    /// `smtp_url`'s scheme is none of the three.
    #[error("smtp_url scheme {scheme:?}: write smtp:// (plain), smtp+starttls:// or smtps://")]
    SmtpScheme { scheme: String },
    /// The TLS relay for `smtp_url` could not be set up.
    #[error("smtp_url: {0}")]
    SmtpRelay(#[source] lettre::transport::smtp::Error),
    /// `smtp_url`'s user name or password is not UTF-8 once decoded.
    #[error(
        "smtp_url's {what} is not UTF-8 once its %XX escapes are decoded: write each byte outside ASCII as %XX of its UTF-8"
    )]
    SmtpCredential { what: &'static str },
    /// `smtp_from` is not an address.
    #[error("smtp_from {from:?} is not an address: {source}")]
    From { from: String, source: lettre::address::AddressError },
    /// A recipient is not an address.
    #[error("{address:?} is not an address: {source}")]
    To { address: String, source: lettre::address::AddressError },
    /// The attachment's content type (a constant) did not parse.
    #[error("{0}")]
    ContentType(#[source] lettre::message::header::ContentTypeErr),
    /// The message could not be put together.
    #[error("cannot build the email: {0}")]
    Build(#[source] lettre::error::Error),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
}
