//! Instants, dates and the workspace time zone.
//!
//! Facts happen at instants, stored as microseconds since the Unix epoch in UTC. Text without an
//! offset is read in the workspace zone (spec: data-model.md, Timestamps): a local time in a
//! daylight-saving gap moves forward by the length of the gap, and a local time that occurs twice
//! means its first occurrence. That is exactly jiff's (and Temporal's) "compatible" rule.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::Error;

/// An instant as stored: microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Parses an IANA time zone name (`Europe/London`, `UTC`) from the bundled database.
pub fn parse_zone(name: &str) -> Result<TimeZone, Error> {
    let name = name.trim();
    TimeZone::get(name).map_err(|_| Error::UnknownZone { name: name.to_string() })
}

/// Parses a timestamp in any accepted form into an instant.
pub fn parse_instant(text: &str, zone: &TimeZone) -> Result<Micros, Error> {
    let s = text.trim();
    let hint = || Error::NotTimestamp { text: text.to_string() };
    // The date is the first ten bytes, which must be whole characters (a non-ASCII character
    // across byte 10 is refused, not sliced through).
    if s.len() < 10 || !s.is_char_boundary(10) {
        return Err(hint());
    }
    let date = parse_date_strict(&s[..10]).map_err(|_| hint())?;
    let rest = &s[10..];
    if rest.is_empty() {
        return local_to_micros(date.to_datetime(Time::midnight()), zone);
    }
    let sep = rest.as_bytes()[0];
    if !matches!(sep, b'T' | b't' | b' ') {
        return Err(hint());
    }
    let rest = &rest[1..];
    // Split the clock time from an optional offset.
    let offset_at = rest.find(['Z', 'z', '+', '-']);
    let (clock, offset) = match offset_at {
        Some(idx) => (&rest[..idx], Some(&rest[idx..])),
        None => (rest, None),
    };
    let (time, sub_micros) = parse_clock(clock).ok_or_else(hint)?;
    let datetime = date.to_datetime(time);
    let whole = match offset {
        None => local_to_micros(datetime, zone)?,
        Some(offset) => {
            let offset_seconds = parse_offset(offset).ok_or_else(hint)?;
            let off = jiff::tz::Offset::from_seconds(offset_seconds).map_err(|_| hint())?;
            let ts = off.to_timestamp(datetime).map_err(|_| hint())?;
            ts.as_microsecond()
        }
    };
    Ok(whole + sub_micros)
}

/// `HH:MM[:SS[.fraction]]` → the time (whole seconds) and the fraction in microseconds.
fn parse_clock(clock: &str) -> Option<(Time, i64)> {
    let b = clock.as_bytes();
    let two = |i: usize| -> Option<i8> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as i8)
    };
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let hour = two(0)?;
    let minute = two(3)?;
    let mut second = 0;
    let mut micros = 0i64;
    if b.len() > 5 {
        if b[5] != b':' || b.len() < 8 {
            return None;
        }
        second = two(6)?;
        if b.len() > 8 {
            if b[8] != b'.' && b[8] != b',' {
                return None;
            }
            let frac = &clock[9..];
            if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            // Microsecond precision is what is stored; finer digits must be zeros.
            if frac.len() > 6 && frac[6..].bytes().any(|c| c != b'0') {
                return None;
            }
            let six: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            micros = six.parse().ok()?;
        }
    }
    let time = Time::new(hour, minute, second, 0).ok()?;
    Some((time, micros))
}

/// `Z`, `+HH:MM`, `-HH:MM` or `+HHMM` → seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    if text.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// A local date-time in `zone` → the instant, with the gap-forward, first-occurrence rule.
pub fn local_to_micros(datetime: DateTime, zone: &TimeZone) -> Result<Micros, Error> {
    let zoned = zone
        .to_ambiguous_zoned(datetime)
        .compatible()
        .map_err(|e| Error::NotPlaceable { datetime, reason: e.to_string() })?;
    Ok(zoned.timestamp().as_microsecond())
}

/// The first instant of a local day (01:00 on a day whose midnight is skipped).
pub fn start_of_day(date: Date, zone: &TimeZone) -> Result<Micros, Error> {
    local_to_micros(date.to_datetime(Time::midnight()), zone)
}

/// Parses `YYYY-MM-DD` exactly (no other forms of date are accepted).
pub fn parse_date(text: &str) -> Result<Date, Error> {
    parse_date_strict(text.trim()).map_err(|_| Error::NotDate { text: text.to_string() })
}

fn parse_date_strict(s: &str) -> Result<Date, ()> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(());
    }
    let digits = |r: std::ops::Range<usize>| -> Result<i32, ()> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(());
        }
        part.parse().map_err(|_| ())
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    Date::new(year as i16, month as i8, day as i8).map_err(|_| ())
}

/// Formats an instant as RFC 3339 in UTC (`2026-03-04T09:15:00Z`, fraction only when present).
pub fn format_instant(micros: Micros) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => ts.to_string(),
        Err(_) => micros.to_string(),
    }
}

/// The instant as a zoned date-time in `zone`.
pub fn to_zoned(micros: Micros, zone: &TimeZone) -> Option<Zoned> {
    Some(Timestamp::from_microsecond(micros).ok()?.to_zoned(zone.clone()))
}

/// An instant from a jiff timestamp.
pub fn micros_of(ts: Timestamp) -> Micros {
    ts.as_microsecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25 (found by the query-parameter fuzzing): a character of several bytes across
    /// the tenth byte was sliced through, a panic (a 500 for `?from=` or a record's timestamp).
    #[test]
    fn issue_25_a_wide_character_where_the_date_ends_is_refused_not_a_panic() {
        for text in ["{/ዀ{Ⱥ𐤿kౝ", "2026-03-0é", "2026-03-04é10:00", "ééééé"] {
            let err = parse_instant(text, &TimeZone::UTC).unwrap_err().to_string();
            assert!(err.contains("is not a timestamp"), "{text}: {err}");
        }
    }

    fn utc(text: &str) -> String {
        format_instant(parse_instant(text, &TimeZone::UTC).unwrap())
    }

    fn in_zone(text: &str, zone: &str) -> String {
        format_instant(parse_instant(text, &parse_zone(zone).unwrap()).unwrap())
    }

    #[test]
    fn every_accepted_form_parses() {
        assert_eq!(utc("2026-03-04T09:15:00Z"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04 09:15:00Z"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04T10:15:00+01:00"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04T04:15:00-05:00"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04 09:15:00"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04T09:15"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04 09:15"), "2026-03-04T09:15:00Z");
        assert_eq!(utc("2026-03-04"), "2026-03-04T00:00:00Z");
        assert_eq!(utc("2026-03-04T09:15:00.25Z"), "2026-03-04T09:15:00.25Z");
        assert_eq!(utc("2026-03-04 09:15:07.123456"), "2026-03-04T09:15:07.123456Z");
    }

    #[test]
    fn local_forms_are_read_in_the_workspace_zone() {
        assert_eq!(in_zone("2026-03-04 09:15", "Europe/London"), "2026-03-04T09:15:00Z");
        assert_eq!(in_zone("2026-07-04 09:15", "Europe/London"), "2026-07-04T08:15:00Z");
        assert_eq!(in_zone("2026-07-04", "America/New_York"), "2026-07-04T04:00:00Z");
        // An explicit offset wins over the zone.
        assert_eq!(in_zone("2026-07-04T09:15:00Z", "America/New_York"), "2026-07-04T09:15:00Z");
    }

    #[test]
    fn gaps_move_forward_and_folds_take_the_first_occurrence() {
        // Europe/London springs forward at 01:00 on 2026-03-29: 01:30 does not exist.
        assert_eq!(in_zone("2026-03-29 01:30", "Europe/London"), "2026-03-29T01:30:00Z");
        // It falls back at 02:00 BST on 2026-10-25: 01:30 happens twice, first at +01:00.
        assert_eq!(in_zone("2026-10-25 01:30", "Europe/London"), "2026-10-25T00:30:00Z");
        // America/Havana skips midnight on 2026-03-08: a bare date means 01:00 that day.
        assert_eq!(in_zone("2026-03-08", "America/Havana"), "2026-03-08T05:00:00Z");
    }

    #[test]
    fn malformed_timestamps_are_refused_with_the_accepted_forms() {
        for bad in [
            "",
            "yesterday",
            "04/03/2026",
            "2026-3-4",
            "2026-02-30",
            "2026-03-04T25:00",
            "2026-03-04T09",
            "2026-03-04X09:15",
            "2026-03-04T09:15:00+1",
            "2026-03-04T09:15:00.1234567Z",
        ] {
            let err = parse_instant(bad, &TimeZone::UTC).unwrap_err().to_string();
            assert!(err.contains("is not a timestamp"), "{bad:?}: {err}");
        }
        // Zero digits past microseconds are not extra precision.
        assert_eq!(utc("2026-03-04T09:15:00.1234560Z"), "2026-03-04T09:15:00.123456Z");
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2026-03-04").unwrap().to_string(), "2026-03-04");
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2028-02-29").is_ok());
        assert!(parse_date("3/4/2026").unwrap_err().to_string().contains("YYYY-MM-DD"));
    }

    #[test]
    fn zones_are_checked() {
        assert!(parse_zone("Europe/London").is_ok());
        assert!(parse_zone("Mars/Olympus").unwrap_err().to_string().contains("IANA"));
    }
}
