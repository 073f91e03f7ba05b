//! Why a text is not a value: the one error of the domain's parsers.
//!
//! Each variant holds the text it refused and what it was held against, so a caller can act on
//! the kind (match a variant) and show the message (`Display`: what is wrong and how to fix it),
//! never parse the message. Where the text came from (file, line, column, field) is the caller's
//! to add: the import wraps it with its location, the API with the field.

use jiff::civil::DateTime;

use crate::money::{Currency, MAX_MINOR, format_minor};
use crate::record::{MAX_INT, NUMBER_DECIMALS};

const SMTP_HINT: &str = "write smtp://host:port (plain), smtp+starttls://host:port or smtps://host:port, with user:password@ before the host if the server needs it";

/// Why a text is not a value of the domain (a field, a setting, a name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A required field has no value.
    #[error("is required and is missing")]
    Missing,
    #[error("{text:?} is not an id: ids are 1 to 128 characters long")]
    IdLength { text: String },
    #[error("{text:?} is not an id: ids are printable ASCII without spaces (found {found:?})")]
    IdCharacter { text: String, found: char },
    /// A word outside an enumerated field's values.
    #[error("{text:?} is not allowed: use one of {}", allowed.join(", "))]
    NotAllowed { text: String, allowed: &'static [&'static str] },
    /// Digits beyond what an `i64` holds.
    #[error("{text:?} is too large: whole numbers up to {MAX_INT} either way are accepted")]
    WholeTextTooLarge { text: String },
    #[error("{value} is too large: whole numbers up to {MAX_INT} either way are accepted")]
    WholeTooLarge { value: i64 },
    #[error("{text:?} is not a whole number: write it without decimals")]
    NotWholeHasDecimals { text: String },
    #[error("{text:?} is not a whole number")]
    NotWhole { text: String },
    #[error("{value} is too small: the least allowed is {min}")]
    TooSmall { value: i64, min: i64 },
    #[error("{text:?} is not a boolean: use true/false, 1/0 or yes/no")]
    NotBool { text: String },
    #[error("{text:?} is not a number: write a decimal such as 0.25")]
    NotFraction { text: String },
    #[error("{text} is out of range: it must be between 0 and 1")]
    FractionOutOfRange { text: String },
    #[error("{text:?} is not a number: write a plain decimal such as 84000 or 0.25")]
    NotDecimal { text: String },
    #[error("{text:?} has {decimals} decimals: at most {NUMBER_DECIMALS} are kept, so round it")]
    TooManyDecimals { text: String, decimals: usize },
    #[error("{text:?} is not a number")]
    NotNumber { text: String },
    #[error("{text} is too large: numbers up to {MAX_INT} either way are accepted")]
    NumberTooLarge { text: String },
    #[error(
        "{text:?} is not a kind: use letters, digits, spaces or underscores (found {found:?}), e.g. meals_served"
    )]
    KindCharacter { text: String, found: char },
    #[error("{text:?} is not a kind: write a name such as meals_served")]
    KindEmpty { text: String },
    #[error("{text:?} is too long for a kind: use at most 64 characters")]
    KindTooLong { text: String },
    #[error(
        "{text:?} is not a currency code: use a three-letter ISO 4217 code such as USD, EUR or GBP"
    )]
    NotCurrency { text: String },
    #[error(
        "{text:?} is not an amount: write a plain decimal number in {currency} such as 1234.50 (no thousands separators or symbols)"
    )]
    NotAmount { text: String, currency: Currency },
    #[error(
        "{text:?} has more decimals than {currency} allows ({}): amounts are stored exactly, so round it in the source",
        currency.exponent()
    )]
    AmountDecimals { text: String, currency: Currency },
    /// More digits than an `i64` of minor units holds.
    #[error("{text:?} is too large an amount")]
    AmountOverflow { text: String },
    #[error(
        "{text:?} is too large an amount: amounts up to {} {currency} are accepted",
        format_minor(MAX_MINOR, *currency)
    )]
    AmountTooLarge { text: String, currency: Currency },
    #[error(
        "{name:?} is not a known time zone: use an IANA name such as Europe/London or America/New_York"
    )]
    UnknownZone { name: String },
    #[error(
        "{text:?} is not a timestamp: write 2026-03-04T09:15:00Z, 2026-03-04T10:15:00+01:00, 2026-03-04 09:15 (local time) or 2026-03-04 (local midnight)"
    )]
    NotTimestamp { text: String },
    /// A local time the zone cannot place (out of the representable range).
    #[error("{datetime} cannot be placed in the time zone: {reason}")]
    NotPlaceable { datetime: DateTime, reason: String },
    #[error("{text:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-04")]
    NotDate { text: String },
    #[error("{text:?} is not an entity: use one of {}", crate::Entity::names().join(", "))]
    UnknownEntity { text: String },
    #[error("{text:?} is not a setting: use one of {}", setting_names())]
    UnknownSetting { text: String },
    #[error("smtp_url is not a URL: {SMTP_HINT}")]
    SmtpNotUrl,
    #[error("smtp_url scheme {scheme:?} is not one Traction speaks: {SMTP_HINT}")]
    SmtpScheme { scheme: String },
    #[error("smtp_url port {port:?} is not a number: {SMTP_HINT}")]
    SmtpPort { port: String },
    #[error("smtp_url has no host: {SMTP_HINT}")]
    SmtpNoHost,
    #[error(
        "{text:?} is not an email address: write alerts@example.com or \"Traction <alerts@example.com>\""
    )]
    NotEmailAddress { text: String },
    #[error("{text:?} is not a kind of business: use one of {}", business_names())]
    UnknownBusiness { text: String },
    #[error(
        "{text:?} is not a metric name: write names such as revenue,orders separated by commas"
    )]
    NotMetricName { text: String },
    #[error("{text:?} is not a weekday: use mon, tue, wed, thu, fri, sat, sun")]
    NotWeekday { text: String },
    #[error("work_days needs at least one day, e.g. mon,tue,wed,thu,fri")]
    NoWorkDays,
    #[error("{text:?} is not a range of working hours: write it as 09:00-17:00")]
    NotWorkHours { text: String },
    #[error("{text:?}: working hours must end after they start")]
    WorkHoursOrder { text: String },
}

fn setting_names() -> String {
    crate::settings::Key::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

fn business_names() -> String {
    crate::settings::BUSINESSES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;
    use crate::record::{ParseContext, parse_field};
    use crate::settings::Key;

    fn ctx() -> ParseContext {
        ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: 0 }
    }

    /// A caller reads what is wrong from the variant (the text refused, the bound), not from
    /// the message; the message is the one people have always read.
    #[test]
    fn refusals_carry_the_text_and_keep_their_message() {
        let deals = crate::Entity::Deals;
        let amount = deals.field("amount").unwrap();
        let err = parse_field(amount, "12.345", &ctx()).unwrap_err();
        assert_eq!(err, Error::AmountDecimals { text: "12.345".into(), currency: Currency::USD });
        assert_eq!(
            err.to_string(),
            "\"12.345\" has more decimals than USD allows (2): amounts are stored exactly, so round it in the source"
        );
        let quantity = crate::Entity::OrderLines.field("quantity").unwrap();
        let err = parse_field(quantity, "0", &ctx()).unwrap_err();
        assert_eq!(err, Error::TooSmall { value: 0, min: 1 });
        assert_eq!(err.to_string(), "0 is too small: the least allowed is 1");
        assert_eq!(parse_field(amount, " ", &ctx()), Err(Error::Missing));
        let err = Key::parse("tz").unwrap_err();
        assert_eq!(err, Error::UnknownSetting { text: "tz".into() });
        assert_eq!(
            err.to_string(),
            "\"tz\" is not a setting: use one of timezone, currency, work_days, work_hours, holidays, smtp_url, smtp_from, business, dashboard_metrics"
        );
        let err = Key::SmtpUrl.normalise("smtp://mail.example.com:port").unwrap_err();
        assert_eq!(err, Error::SmtpPort { port: "port".into() });
        assert!(
            err.to_string().starts_with("smtp_url port \"port\" is not a number: write smtp://")
        );
        let err = Currency::parse("dollars").unwrap_err();
        assert_eq!(err, Error::NotCurrency { text: "dollars".into() });
    }
}
