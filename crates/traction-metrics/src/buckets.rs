//! Buckets of time cut in the workspace zone, and the zone's offsets as SQL
//! (spec: metrics.md, Query semantics; interfaces.md, `period`).
//!
//! Bucket boundaries are computed here as instants with jiff, so a local day is 23 or 25 hours
//! long on the days clocks change and an hour bucket is a real hour (the repeated hour of the
//! autumn change is two buckets, labelled with their offsets). SQL then only compares integers:
//! hours are uniform in UTC, days and weeks are uniform in "local microseconds" (UTC plus the
//! zone's offset, which is piecewise constant and written as a small `CASE` over the zone's
//! transitions in the range), and months, quarters and years are found by a balanced `CASE` over
//! their boundary instants.

use std::fmt::Write;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use traction_domain::time::{Micros, local_to_micros, start_of_day};

use crate::{Error, Input};

pub const HOUR_US: i64 = 3_600_000_000;
pub const DAY_US: i64 = 86_400_000_000;

/// The size of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Hour,
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
    Quarter,
    Year,
    /// The whole range as one bucket.
    All,
}

impl Grain {
    pub const ALL: [Grain; 7] = [
        Grain::Hour,
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Year,
        Grain::All,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Hour => "hour",
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::All => "all",
        }
    }

    pub fn parse(text: &str) -> Result<Grain, Input> {
        let wanted = text.trim().to_ascii_lowercase();
        Grain::ALL
            .into_iter()
            .find(|g| g.name() == wanted)
            .ok_or_else(|| Input::Grain { text: text.to_string() })
    }

    /// The first day of the bucket holding a date (grains of a day or more).
    fn floor(self, date: Date) -> Date {
        match self {
            Grain::Week => date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .unwrap_or(date),
            Grain::Month => date.first_of_month(),
            Grain::Quarter => {
                let month = (date.month() - 1) / 3 * 3 + 1;
                Date::new(date.year(), month, 1).unwrap_or(date)
            }
            Grain::Year => Date::new(date.year(), 1, 1).unwrap_or(date),
            _ => date,
        }
    }

    fn next(self, date: Date) -> Option<Date> {
        match self {
            Grain::Day => date.checked_add(1.day()).ok(),
            Grain::Week => date.checked_add(7.days()).ok(),
            Grain::Month => date.checked_add(1.month()).ok(),
            Grain::Quarter => date.checked_add(3.months()).ok(),
            Grain::Year => date.checked_add(1.year()).ok(),
            _ => None,
        }
    }
}

/// One bucket: its full calendar extent (not cut by the range) and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: Micros,
    pub end: Micros,
    /// `period` of interfaces.md; `None` for grain `all`.
    pub label: Option<String>,
    /// The local first day (grains of a day or more).
    pub date: Option<Date>,
}

/// The buckets that cover a range `[lo, hi)`, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets {
    pub grain: Grain,
    pub lo: Micros,
    pub hi: Micros,
    pub list: Vec<Bucket>,
}

/// The most buckets one query may have: more is a mistake (an hourly grain over decades).
pub const MAX_BUCKETS: usize = 100_000;

fn local_date(micros: Micros, zone: &TimeZone) -> Result<DateTime, Error> {
    let ts = Timestamp::from_microsecond(micros)
        .map_err(|_| Error::from(Input::OutOfRange { micros }))?;
    Ok(ts.to_zoned(zone.clone()).datetime())
}

fn sod(date: Date, zone: &TimeZone) -> Result<Micros, Error> {
    start_of_day(date, zone).map_err(|e| Error::from(Input::Local(e)))
}

impl Buckets {
    /// Cuts `[lo, hi)` into buckets of `grain` in `zone`.
    pub fn new(grain: Grain, lo: Micros, hi: Micros, zone: &TimeZone) -> Result<Buckets, Error> {
        let mut list = Vec::new();
        match grain {
            Grain::All => list.push(Bucket { start: lo, end: hi, label: None, date: None }),
            Grain::Hour => {
                // The local hour holding `lo`, then real hours: uniform in UTC.
                let offset = i64::from(zone.to_offset(timestamp(lo)?).seconds()) * 1_000_000;
                let local = lo + offset;
                let mut start = local - local.rem_euclid(HOUR_US) - offset;
                while start < hi {
                    if list.len() >= MAX_BUCKETS {
                        return Err(too_many());
                    }
                    list.push(Bucket {
                        start,
                        end: start + HOUR_US,
                        label: Some(hour_label(start, zone)?),
                        date: None,
                    });
                    start += HOUR_US;
                }
            }
            _ => {
                let mut date = grain.floor(local_date(lo, zone)?.date());
                let mut start = sod(date, zone)?;
                while start < hi {
                    if list.len() >= MAX_BUCKETS {
                        return Err(too_many());
                    }
                    let next =
                        grain.next(date).ok_or_else(|| Error::from(Input::RangePastCalendar))?;
                    let end = sod(next, zone)?;
                    list.push(Bucket {
                        start,
                        end,
                        label: Some(date.to_string()),
                        date: Some(date),
                    });
                    date = next;
                    start = end;
                }
            }
        }
        Ok(Buckets { grain, lo, hi, list })
    }

    /// The index of the bucket holding an instant.
    pub fn find(&self, micros: Micros) -> Option<usize> {
        let idx = self.list.partition_point(|b| b.start <= micros);
        (idx > 0 && micros < self.list[idx - 1].end).then(|| idx - 1)
    }
}

fn too_many() -> Error {
    Error::from(Input::TooManyBuckets { max: MAX_BUCKETS })
}

fn timestamp(micros: Micros) -> Result<Timestamp, Error> {
    Timestamp::from_microsecond(micros).map_err(|_| Error::from(Input::OutOfRange { micros }))
}

/// `YYYY-MM-DDTHH:00`, with the offset when that local hour happens twice.
fn hour_label(start: Micros, zone: &TimeZone) -> Result<String, Error> {
    let zoned = timestamp(start)?.to_zoned(zone.clone());
    let dt = zoned.datetime();
    let mut label = format!("{}T{:02}:00", dt.date(), dt.hour());
    let hour_start = dt.with().minute(0).second(0).subsec_nanosecond(0).build().unwrap_or(dt);
    if let AmbiguousOffset::Fold { .. } = zone.to_ambiguous_timestamp(hour_start).offset() {
        let seconds = zoned.offset().seconds();
        let sign = if seconds < 0 { '-' } else { '+' };
        let abs = seconds.unsigned_abs();
        let _ = write!(label, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60);
    }
    Ok(label)
}

/// A local date-time shifted by whole calendar units (for `yoy`): `2028-02-29` a year back is
/// `2027-02-28`, as jiff (and Temporal) constrain the day.
pub fn shift_years(micros: Micros, years: i64, zone: &TimeZone) -> Result<Micros, Error> {
    let dt = local_date(micros, zone)?;
    let shifted =
        dt.checked_add(years.years()).map_err(|_| Error::from(Input::ComparisonPastCalendar))?;
    local_to_micros(shifted, zone).map_err(|e| Error::from(Input::Local(e)))
}

/// A local midnight `months` months away, when `micros` is a local midnight on the 1st.
pub fn month_aligned(micros: Micros, zone: &TimeZone) -> Result<Option<Date>, Error> {
    let dt = local_date(micros, zone)?;
    let date = dt.date();
    Ok((date.day() == 1 && dt.time() == Time::midnight() && sod(date, zone)? == micros)
        .then_some(date))
}

/// The first date whose local midnight is at or after an instant: a date field `d` lies in
/// `[a, b)` exactly when `first_date(a) <= d < first_date(b)`.
pub fn first_date(micros: Micros, zone: &TimeZone) -> Result<Date, Error> {
    let date = local_date(micros, zone)?.date();
    if sod(date, zone)? >= micros {
        Ok(date)
    } else {
        date.checked_add(1.day()).map_err(|_| Error::from(Input::RangePastCalendar))
    }
}

/// Days since 1970-01-01 of a date.
pub fn epoch_day(date: Date) -> i64 {
    let epoch = Date::new(1970, 1, 1).unwrap_or(date);
    i64::from(date.since(epoch).map(|s| s.get_days()).unwrap_or(0))
}

/// The date of a count of days since 1970-01-01.
pub fn date_of_epoch_day(days: i64) -> Option<Date> {
    Date::new(1970, 1, 1).ok()?.checked_add(days.days()).ok()
}

/// SQL for the zone's offset in microseconds at the instant `column`, valid for `[lo, hi)`:
/// a constant, or a `CASE` over the transitions in the range.
pub fn offset_sql(column: &str, lo: Micros, hi: Micros, zone: &TimeZone) -> Result<String, Error> {
    let first = i64::from(zone.to_offset(timestamp(lo)?).seconds()) * 1_000_000;
    let mut sql = String::new();
    let mut current = first;
    let mut n = 0;
    for transition in zone.following(timestamp(lo)?) {
        let at = transition.timestamp().as_microsecond();
        if at >= hi {
            break;
        }
        if n == 0 {
            sql.push_str("CASE");
        }
        let _ = write!(sql, " WHEN {column} < {at} THEN {current}");
        current = i64::from(transition.offset().seconds()) * 1_000_000;
        n += 1;
        if n > 10_000 {
            break;
        }
    }
    if n == 0 {
        return Ok(first.to_string());
    }
    let _ = write!(sql, " ELSE {current} END");
    Ok(sql)
}

/// SQL for the zone's offset in microseconds at any instant `column` from 1970 to 2100: a
/// constant for zones without transitions, else a balanced `CASE` over the transitions (for
/// `date(t)`, whose argument may lie anywhere in time). `column` must be trusted SQL without
/// parameters: it is repeated.
pub fn any_offset_sql(column: &str, zone: &TimeZone) -> String {
    traction_store::zone_offset_sql(column, zone)
}

/// How a key column maps to a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The bucket's index.
    Index,
    /// Days since the epoch (a date field at hour grain): the bucket holding that local midnight.
    EpochDay,
}

const EPOCH_DAY: &str = "CAST(julianday({}) - 2440587.5 AS INTEGER)";

/// Days since 1970-01-01 of a `YYYY-MM-DD` column.
pub fn epoch_day_sql(column: &str) -> String {
    EPOCH_DAY.replace("{}", column)
}

/// Local microseconds (UTC plus the zone's offset) of a timestamp column.
pub fn local_sql(column: &str, buckets: &Buckets, zone: &TimeZone) -> Result<String, Error> {
    let offset = offset_sql(column, buckets.lo, buckets.hi, zone)?;
    Ok(format!("({column} + {offset})"))
}

/// The SQL giving the bucket key of a timestamp (or, `is_date`, a `YYYY-MM-DD` date) column that
/// lies in `[buckets.lo, buckets.hi)`.
pub fn key_sql(
    column: &str,
    is_date: bool,
    buckets: &Buckets,
    zone: &TimeZone,
) -> Result<(String, KeyKind), Error> {
    let first = &buckets.list[0];
    Ok(match buckets.grain {
        Grain::All => ("0".to_string(), KeyKind::Index),
        Grain::Hour if is_date => (epoch_day_sql(column), KeyKind::EpochDay),
        Grain::Hour => (format!("(({column} - {}) / {HOUR_US})", first.start), KeyKind::Index),
        Grain::Day | Grain::Week => {
            let len = if buckets.grain == Grain::Day { DAY_US } else { 7 * DAY_US };
            let anchor = first.date.map(epoch_day).unwrap_or(0) * DAY_US;
            let local = if is_date {
                format!("({} * {DAY_US})", epoch_day_sql(column))
            } else {
                local_sql(column, buckets, zone)?
            };
            (format!("(({local} - {anchor}) / {len})"), KeyKind::Index)
        }
        Grain::Month | Grain::Quarter | Grain::Year => {
            let starts: Vec<String> = if is_date {
                buckets
                    .list
                    .iter()
                    .map(|b| format!("'{}'", b.date.map(|d| d.to_string()).unwrap_or_default()))
                    .collect()
            } else {
                buckets.list.iter().map(|b| b.start.to_string()).collect()
            };
            (search_sql(column, &starts), KeyKind::Index)
        }
    })
}

/// `column >= lo AND column < hi`, for instants or (`is_date`) dates.
pub fn range_sql(
    column: &str,
    is_date: bool,
    lo: Micros,
    hi: Micros,
    zone: &TimeZone,
) -> Result<String, Error> {
    Ok(if is_date {
        format!(
            "{column} >= '{}' AND {column} < '{}'",
            first_date(lo, zone)?,
            first_date(hi, zone)?
        )
    } else {
        format!("{column} >= {lo} AND {column} < {hi}")
    })
}

/// A balanced `CASE` giving the index of the interval of `value` among sorted `starts`
/// (`starts[0]` is the first; values are at or after it).
pub fn search_sql(value: &str, starts: &[String]) -> String {
    fn go(value: &str, starts: &[String], lo: usize, hi: usize, out: &mut String) {
        if lo == hi {
            let _ = write!(out, "{lo}");
            return;
        }
        let mid = (lo + hi).div_ceil(2);
        let _ = write!(out, "CASE WHEN {value} < {} THEN ", starts[mid]);
        go(value, starts, lo, mid - 1, out);
        out.push_str(" ELSE ");
        go(value, starts, mid, hi, out);
        out.push_str(" END");
    }
    let mut out = String::new();
    if starts.is_empty() {
        out.push('0');
    } else {
        go(value, starts, 0, starts.len() - 1, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use traction_domain::time::{format_instant, parse_instant};

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn at(text: &str) -> Micros {
        parse_instant(text, &london()).unwrap()
    }

    #[test]
    fn days_are_local_days_across_daylight_saving() {
        // 2026-03-29 in London has 23 hours (clocks go forward at 01:00 GMT).
        let b = Buckets::new(Grain::Day, at("2026-03-28"), at("2026-03-31"), &london()).unwrap();
        let lengths: Vec<i64> = b.list.iter().map(|b| (b.end - b.start) / HOUR_US).collect();
        assert_eq!(lengths, [24, 23, 24]);
        assert_eq!(b.list[1].label.as_deref(), Some("2026-03-29"));
        assert_eq!(format_instant(b.list[2].start), "2026-03-29T23:00:00Z");
    }

    #[test]
    fn hours_on_the_short_and_long_days() {
        let spring =
            Buckets::new(Grain::Hour, at("2026-03-29"), at("2026-03-30"), &london()).unwrap();
        assert_eq!(spring.list.len(), 23);
        assert_eq!(spring.list[1].label.as_deref(), Some("2026-03-29T02:00"));
        let autumn =
            Buckets::new(Grain::Hour, at("2026-10-25"), at("2026-10-26"), &london()).unwrap();
        assert_eq!(autumn.list.len(), 25);
        let labels: Vec<&str> =
            autumn.list[..4].iter().map(|b| b.label.as_deref().unwrap()).collect();
        assert_eq!(
            labels,
            [
                "2026-10-25T00:00",
                "2026-10-25T01:00+01:00",
                "2026-10-25T01:00+00:00",
                "2026-10-25T02:00"
            ]
        );
    }

    #[test]
    fn weeks_months_quarters_start_on_their_calendar_start() {
        let labels = |g: Grain, lo: &str, hi: &str| -> Vec<String> {
            Buckets::new(g, at(lo), at(hi), &london())
                .unwrap()
                .list
                .into_iter()
                .map(|b| b.label.unwrap())
                .collect()
        };
        // 2026-10-01 is a Thursday: its ISO week starts on Monday 2026-09-28.
        assert_eq!(
            labels(Grain::Week, "2026-10-01", "2026-10-13"),
            ["2026-09-28", "2026-10-05", "2026-10-12"]
        );
        assert_eq!(labels(Grain::Month, "2026-01-15", "2026-03-01"), ["2026-01-01", "2026-02-01"]);
        assert_eq!(
            labels(Grain::Quarter, "2026-05-15", "2026-07-02"),
            ["2026-04-01", "2026-07-01"]
        );
        assert_eq!(labels(Grain::Year, "2026-05-15", "2026-07-02"), ["2026-01-01"]);
    }

    #[test]
    fn a_year_back_from_a_leap_day_is_the_last_of_february() {
        let z = TimeZone::UTC;
        let leap = parse_instant("2028-02-29", &z).unwrap();
        assert_eq!(format_instant(shift_years(leap, -1, &z).unwrap()), "2027-02-28T00:00:00Z");
    }

    #[test]
    fn offsets_follow_the_transitions_in_the_range() {
        assert_eq!(offset_sql("x", at("2026-01-01"), at("2026-02-01"), &london()).unwrap(), "0");
        // BST starts 2026-03-29T01:00Z = 1774746000 s.
        assert_eq!(
            offset_sql("x", at("2026-03-01"), at("2026-04-01"), &london()).unwrap(),
            "CASE WHEN x < 1774746000000000 THEN 0 ELSE 3600000000 END"
        );
    }

    #[test]
    fn search_finds_the_interval() {
        let starts: Vec<String> = [10, 20, 30].iter().map(|n: &i32| n.to_string()).collect();
        assert_eq!(
            search_sql("v", &starts),
            "CASE WHEN v < 20 THEN 0 ELSE CASE WHEN v < 30 THEN 1 ELSE 2 END END"
        );
        assert_eq!(
            first_date(at("2026-03-29 00:00"), &london()).unwrap().to_string(),
            "2026-03-29"
        );
        assert_eq!(
            first_date(at("2026-03-29 00:30"), &london()).unwrap().to_string(),
            "2026-03-30"
        );
        assert_eq!(epoch_day(Date::new(1970, 1, 2).unwrap()), 1);
    }
}
