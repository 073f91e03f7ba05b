//! Target periods and the buckets they break down into.
//!
//! A target's period starts at the first instant of its `starts_on` day in the workspace zone and
//! lasts one week, month, quarter or year. Buckets are calendar buckets cut in the zone (a day is a
//! local day, also when it has 23 or 25 hours), labelled as metric periods are (spec:
//! interfaces.md, JSON shapes): `YYYY-MM-DD` for days and longer (weeks by their Monday, even where
//! the range starts mid-week), `YYYY-MM-DDTHH:00` for hours, with the offset added to the hour that
//! occurs twice when clocks go back.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, ToSpan};
use traction_domain::time::{Micros, start_of_day};

use crate::error::ValueError;

/// The length of a target's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub fn parse(text: &str) -> Result<PeriodKind, ValueError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "week" => Ok(PeriodKind::Week),
            "month" => Ok(PeriodKind::Month),
            "quarter" => Ok(PeriodKind::Quarter),
            "year" => Ok(PeriodKind::Year),
            _ => Err(ValueError::Period { text: text.to_string() }),
        }
    }

    pub fn span(self) -> Span {
        match self {
            PeriodKind::Week => 1.week(),
            PeriodKind::Month => 1.month(),
            PeriodKind::Quarter => 3.months(),
            PeriodKind::Year => 1.year(),
        }
    }
}

/// The instants `[start, end)` of the period of this kind starting on `starts_on`.
pub fn period_range(
    kind: PeriodKind,
    starts_on: Date,
    zone: &TimeZone,
) -> Result<(Micros, Micros), ValueError> {
    let end_date = starts_on.checked_add(kind.span()).map_err(|source| ValueError::PeriodEnd {
        kind,
        starts_on,
        source,
    })?;
    Ok((start_of_day(starts_on, zone)?, start_of_day(end_date, zone)?))
}

/// A breakdown grain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Hour,
    Day,
    Week,
}

impl Grain {
    pub fn parse(text: &str) -> Result<Grain, ValueError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hour" => Ok(Grain::Hour),
            "day" => Ok(Grain::Day),
            "week" => Ok(Grain::Week),
            _ => Err(ValueError::Grain { text: text.to_string() }),
        }
    }
}

/// One bucket: its calendar start and end as instants, and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: Micros,
    pub end: Micros,
    pub label: String,
}

/// The buckets of `grain` that overlap `[from, to)`, in order. The first may start before
/// `from` and the last end after `to`: they are whole calendar buckets. They are the metrics
/// engine's buckets, so a breakdown and a metric query label the same hour the same way.
pub fn buckets(
    grain: Grain,
    from: Micros,
    to: Micros,
    zone: &TimeZone,
) -> Result<Vec<Bucket>, traction_metrics::Error> {
    use traction_metrics::buckets::Buckets;
    let grain = match grain {
        Grain::Hour => traction_metrics::Grain::Hour,
        Grain::Day => traction_metrics::Grain::Day,
        Grain::Week => traction_metrics::Grain::Week,
    };
    if to <= from {
        return Ok(Vec::new());
    }
    let cut = Buckets::new(grain, from, to, zone)?;
    Ok(cut
        .list
        .into_iter()
        .map(|b| Bucket { start: b.start, end: b.end, label: b.label.unwrap_or_default() })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use traction_domain::time::{format_instant, parse_zone};

    #[test]
    fn periods_are_local_calendar_ranges() {
        let zone = parse_zone("Europe/London").unwrap();
        let (s, e) = period_range(PeriodKind::Month, Date::constant(2026, 10, 1), &zone).unwrap();
        assert_eq!(format_instant(s), "2026-09-30T23:00:00Z");
        assert_eq!(format_instant(e), "2026-11-01T00:00:00Z");
        let (s, e) =
            period_range(PeriodKind::Quarter, Date::constant(2026, 11, 1), &TimeZone::UTC).unwrap();
        assert_eq!(
            (format_instant(s).as_str(), format_instant(e).as_str()),
            ("2026-11-01T00:00:00Z", "2027-02-01T00:00:00Z")
        );
    }

    #[test]
    fn weeks_are_labelled_by_their_monday_even_when_the_range_starts_mid_week() {
        let zone = TimeZone::UTC;
        let (s, e) = period_range(PeriodKind::Month, Date::constant(2026, 10, 1), &zone).unwrap();
        let weeks = buckets(Grain::Week, s, e, &zone).unwrap();
        let labels: Vec<&str> = weeks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26"]);
    }

    #[test]
    fn the_repeated_hour_is_two_buckets_labelled_with_offsets() {
        let zone = parse_zone("Europe/London").unwrap();
        let s = start_of_day(Date::constant(2026, 10, 25), &zone).unwrap();
        let e = start_of_day(Date::constant(2026, 10, 26), &zone).unwrap();
        let hours = buckets(Grain::Hour, s, e, &zone).unwrap();
        assert_eq!(hours.len(), 25);
        assert_eq!(hours[0].label, "2026-10-25T00:00");
        assert_eq!(hours[1].label, "2026-10-25T01:00+01:00");
        assert_eq!(hours[2].label, "2026-10-25T01:00+00:00");
        assert_eq!(hours[3].label, "2026-10-25T02:00");
        let days = buckets(Grain::Day, s, e, &zone).unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].end - days[0].start, 25 * 3_600_000_000);
    }
}
