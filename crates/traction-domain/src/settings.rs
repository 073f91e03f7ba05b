//! Workspace settings: their keys, value formats and defaults (spec: interfaces.md, Settings).
//!
//! Settings are stored as normalised text by the store; this module parses and normalises them,
//! so a stored value is always valid.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

use crate::Error;
use crate::money::Currency;
use crate::time::{parse_date, parse_zone};

/// Checks `smtp://host:port`, `smtp+starttls://host:port` or `smtps://host:port` (an optional
/// `user:password@` before the host); empty turns email off.
fn normalise_smtp_url(value: &str) -> Result<String, Error> {
    let url = value.trim();
    if url.is_empty() {
        return Ok(String::new());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::SmtpNotUrl);
    };
    if !matches!(scheme, "smtp" | "smtp+starttls" | "smtps") {
        return Err(Error::SmtpScheme { scheme: scheme.to_string() });
    }
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h).trim_end_matches('/');
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) => {
            port.parse::<u16>().map_err(|_| Error::SmtpPort { port: port.to_string() })?;
            host
        }
        None => host_port,
    };
    if host.is_empty() || host.contains('/') {
        return Err(Error::SmtpNoHost);
    }
    Ok(url.to_string())
}

/// `revenue, orders,revenue` → `revenue,orders`: metric names (lower-case letters, digits and
/// `_`), no repeats, order kept. Whether each exists is checked where the catalog is known.
fn normalise_metric_list(value: &str) -> Result<String, Error> {
    let mut names: Vec<String> = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = part.to_ascii_lowercase();
        let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(Error::NotMetricName { text: part.to_string() });
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names.join(","))
}

/// A settings key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Timezone,
    Currency,
    WorkDays,
    WorkHours,
    Holidays,
    /// Where email goes out (monitoring.md, Channels); may hold a password, never shown.
    SmtpUrl,
    SmtpFrom,
    /// The kind of business chosen in the setup (`shop`, `b2b`, `social_enterprise`); empty
    /// until the setup has run. It picks the metrics the setup suggests.
    Business,
    /// The metrics the dashboard shows first, in order (comma-separated catalog names).
    DashboardMetrics,
}

/// The kinds of business the setup knows: the stored name and how it reads.
pub const BUSINESSES: [(&str, &str); 3] = [
    ("shop", "Shop (orders from customers)"),
    ("b2b", "B2B sales team (leads and deals)"),
    ("social_enterprise", "Social enterprise (impact beside sales)"),
];

impl Key {
    pub const ALL: [Key; 9] = [
        Key::Timezone,
        Key::Currency,
        Key::WorkDays,
        Key::WorkHours,
        Key::Holidays,
        Key::SmtpUrl,
        Key::SmtpFrom,
        Key::Business,
        Key::DashboardMetrics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::Timezone => "timezone",
            Key::Currency => "currency",
            Key::WorkDays => "work_days",
            Key::WorkHours => "work_hours",
            Key::Holidays => "holidays",
            Key::SmtpUrl => "smtp_url",
            Key::SmtpFrom => "smtp_from",
            Key::Business => "business",
            Key::DashboardMetrics => "dashboard_metrics",
        }
    }

    pub fn parse(text: &str) -> Result<Key, Error> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Key::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| Error::UnknownSetting { text: text.to_string() })
    }

    /// Whether a team may override the key (the business calendar keys).
    pub fn per_team(self) -> bool {
        matches!(self, Key::WorkDays | Key::WorkHours | Key::Holidays)
    }

    /// The value in force when nothing is set.
    pub fn default_value(self) -> &'static str {
        match self {
            Key::Timezone => "UTC",
            Key::Currency => "USD",
            Key::WorkDays => "mon,tue,wed,thu,fri",
            Key::WorkHours => "09:00-17:00",
            Key::Holidays => "",
            Key::SmtpUrl => "",
            Key::SmtpFrom => "",
            Key::Business => "",
            Key::DashboardMetrics => "",
        }
    }

    /// Checks a value and returns its normalised text.
    pub fn normalise(self, value: &str) -> Result<String, Error> {
        match self {
            Key::Timezone => {
                let name = value.trim();
                parse_zone(name)?;
                Ok(name.to_string())
            }
            Key::Currency => Ok(Currency::parse(value)?.code().to_string()),
            Key::WorkDays => Ok(format_work_days(&parse_work_days(value)?)),
            Key::WorkHours => {
                let (start, end) = parse_work_hours(value)?;
                Ok(format!("{}-{}", start.strftime("%H:%M"), end.strftime("%H:%M")))
            }
            Key::Holidays => {
                let dates = parse_holidays(value)?;
                Ok(dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","))
            }
            Key::SmtpUrl => normalise_smtp_url(value),
            Key::Business => {
                let wanted = value.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                if wanted.is_empty() || BUSINESSES.iter().any(|(name, _)| *name == wanted) {
                    Ok(wanted)
                } else {
                    Err(Error::UnknownBusiness { text: value.trim().to_string() })
                }
            }
            Key::DashboardMetrics => normalise_metric_list(value),
            Key::SmtpFrom => {
                let from = value.trim();
                let ok = from.is_empty()
                    || from.split_once('@').is_some_and(|(user, host)| {
                        !user.is_empty()
                            && host.contains('.')
                            && !from.contains(char::is_whitespace)
                    })
                    || (from.contains('<') && from.ends_with('>') && from.contains('@'));
                if ok {
                    Ok(from.to_string())
                } else {
                    Err(Error::NotEmailAddress { text: from.to_string() })
                }
            }
        }
    }

    /// Whether the value may hold a secret (the SMTP password).
    pub fn is_secret(self) -> bool {
        self == Key::SmtpUrl
    }

    /// The value as shown to people (`config get`, the API, the audit log): a password in
    /// `smtp_url` replaced by `***`.
    pub fn shown(self, value: &str) -> String {
        if !self.is_secret() {
            return value.to_string();
        }
        match value.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    let masked = if userinfo.contains(':') {
                        format!("{user}:***")
                    } else {
                        user.to_string()
                    };
                    format!("{scheme}://{masked}@{host}")
                }
                None => value.to_string(),
            },
            None => value.to_string(),
        }
    }
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// `mon,tue,wed` (full names accepted too) → weekdays in week order, no repeats.
pub fn parse_work_days(text: &str) -> Result<Vec<Weekday>, Error> {
    let mut days = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        let day = WEEKDAYS
            .iter()
            .find(|(short, _)| {
                lower.len() >= 3 && lower.starts_with(short) && short.starts_with(&lower[..3])
            })
            .map(|(_, d)| *d)
            .ok_or_else(|| Error::NotWeekday { text: part.to_string() })?;
        if !days.contains(&day) {
            days.push(day);
        }
    }
    if days.is_empty() {
        return Err(Error::NoWorkDays);
    }
    days.sort_by_key(|d| d.to_monday_one_offset());
    Ok(days)
}

pub fn format_work_days(days: &[Weekday]) -> String {
    days.iter()
        .map(|d| WEEKDAYS.iter().find(|(_, w)| w == d).map_or("?", |(s, _)| *s))
        .collect::<Vec<_>>()
        .join(",")
}

/// `09:00-17:00` → (start, end); the end is exclusive and after the start (`24:00` is allowed as
/// an end, meaning midnight).
pub fn parse_work_hours(text: &str) -> Result<(Time, Time), Error> {
    let hint = || Error::NotWorkHours { text: text.to_string() };
    let (a, b) = text.trim().split_once('-').ok_or_else(hint)?;
    let parse = |s: &str| -> Result<Time, Error> {
        let s = s.trim();
        if s == "24:00" {
            return Ok(Time::MAX);
        }
        let (h, m) = s.split_once(':').ok_or_else(hint)?;
        let h: i8 = h.parse().map_err(|_| hint())?;
        let m: i8 = m.parse().map_err(|_| hint())?;
        Time::new(h, m, 0, 0).map_err(|_| hint())
    };
    let (start, end) = (parse(a)?, parse(b)?);
    if end <= start {
        return Err(Error::WorkHoursOrder { text: text.to_string() });
    }
    let end = if end == Time::MAX { Time::MAX } else { end };
    Ok((start, end))
}

/// `2026-12-25,2026-12-26` → sorted distinct dates; empty text is no holidays.
pub fn parse_holidays(text: &str) -> Result<Vec<Date>, Error> {
    let mut dates = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        dates.push(parse_date(part)?);
    }
    dates.sort();
    dates.dedup();
    Ok(dates)
}

/// The workspace settings in force, parsed.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub zone: TimeZone,
    pub zone_name: String,
    pub currency: Currency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_and_dashboard_metrics_are_checked_and_normalised() {
        assert_eq!(Key::Business.normalise(" Social enterprise ").unwrap(), "social_enterprise");
        assert_eq!(Key::Business.normalise("").unwrap(), "");
        let e = Key::Business.normalise("charity").unwrap_err().to_string();
        assert!(e.contains("shop, b2b, social_enterprise"), "{e}");
        assert_eq!(
            Key::DashboardMetrics.normalise(" Revenue, orders ,revenue,").unwrap(),
            "revenue,orders"
        );
        let e = Key::DashboardMetrics.normalise("revenue;orders").unwrap_err().to_string();
        assert!(e.contains("\"revenue;orders\" is not a metric name"), "{e}");
        assert_eq!(Key::parse("dashboard-metrics").unwrap(), Key::DashboardMetrics);
    }

    #[test]
    fn smtp_urls_are_checked_and_their_password_never_shown() {
        let url = "smtps://mailer:hunter2@mail.example.com:465";
        assert_eq!(Key::SmtpUrl.normalise(url).unwrap(), url);
        assert_eq!(Key::SmtpUrl.shown(url), "smtps://mailer:***@mail.example.com:465");
        assert_eq!(Key::SmtpUrl.shown("smtp://relay:25"), "smtp://relay:25");
        assert_eq!(Key::SmtpUrl.normalise("").unwrap(), "");
        for bad in ["http://mail.example.com", "smtp://", "mail.example.com", "smtps://host:port"] {
            assert!(Key::SmtpUrl.normalise(bad).is_err(), "{bad}");
        }
        assert!(Key::SmtpFrom.normalise("alerts@example.com").is_ok());
        assert!(Key::SmtpFrom.normalise("Traction <alerts@example.com>").is_ok());
        assert!(Key::SmtpFrom.normalise("alerts").is_err());
        assert_eq!(Key::Holidays.shown("2026-12-25"), "2026-12-25");
    }

    #[test]
    fn values_normalise() {
        assert_eq!(Key::WorkDays.normalise("Fri, mon,tue ,Wednesday").unwrap(), "mon,tue,wed,fri");
        assert_eq!(Key::WorkHours.normalise("9:00-17:30").unwrap(), "09:00-17:30");
        assert_eq!(
            Key::Holidays.normalise("2026-12-26,2026-12-25").unwrap(),
            "2026-12-25,2026-12-26"
        );
        assert_eq!(Key::Currency.normalise("gbp").unwrap(), "GBP");
        assert_eq!(Key::Timezone.normalise(" Europe/London ").unwrap(), "Europe/London");
        assert_eq!(Key::Holidays.normalise("").unwrap(), "");
    }

    #[test]
    fn bad_values_say_how_to_write_them() {
        assert!(Key::WorkDays.normalise("funday").unwrap_err().to_string().contains("mon, tue"));
        assert!(
            Key::WorkHours.normalise("17:00-09:00").unwrap_err().to_string().contains("end after")
        );
        assert!(
            Key::WorkHours
                .normalise("nine to five")
                .unwrap_err()
                .to_string()
                .contains("09:00-17:00")
        );
        assert!(
            Key::Holidays.normalise("25/12/2026").unwrap_err().to_string().contains("YYYY-MM-DD")
        );
        assert!(Key::parse("tz").unwrap_err().to_string().contains("timezone"));
    }
}
