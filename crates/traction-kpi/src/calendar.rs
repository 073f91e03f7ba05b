//! The business calendar: working days, working hours, holidays, in a time zone.
//!
//! Working time is the set of local working hours on working days that are not holidays
//! (spec: kpis.md, Business calendar). Its intervals are instants, so a working day on which the
//! clocks change has the working seconds it really has.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use traction_domain::settings::{parse_holidays, parse_work_days, parse_work_hours};
use traction_domain::time::{Micros, local_to_micros, to_zoned};

use crate::error::ValueError;

/// A business calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub zone: TimeZone,
    pub work_days: Vec<Weekday>,
    /// Start of the working hours, local.
    pub start: Time,
    /// End of the working hours, local and exclusive; `Time::MAX` stands for 24:00.
    pub end: Time,
    pub holidays: Vec<Date>,
}

impl Calendar {
    /// Builds a calendar from the settings' text values (already validated when stored).
    pub fn from_settings(
        zone: TimeZone,
        work_days: &str,
        work_hours: &str,
        holidays: &str,
    ) -> Result<Calendar, ValueError> {
        let (start, end) = parse_work_hours(work_hours)?;
        Ok(Calendar {
            zone,
            work_days: parse_work_days(work_days)?,
            start,
            end,
            holidays: parse_holidays(holidays)?,
        })
    }

    /// Whether `date` is a working day (a work day of the week and not a holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        self.work_days.contains(&date.weekday()) && self.holidays.binary_search(&date).is_err()
    }

    /// The working interval of one day, as instants, if it is a working day.
    pub fn working_interval(&self, date: Date) -> Option<(Micros, Micros)> {
        if !self.is_working_day(date) {
            return None;
        }
        let start = local_to_micros(date.to_datetime(self.start), &self.zone).ok()?;
        let end = if self.end == Time::MAX {
            let next = date.tomorrow().ok()?;
            local_to_micros(next.to_datetime(Time::midnight()), &self.zone).ok()?
        } else {
            local_to_micros(date.to_datetime(self.end), &self.zone).ok()?
        };
        (end > start).then_some((start, end))
    }

    /// The working intervals that overlap `[from, to)`, clipped to it, in order.
    pub fn working_intervals(&self, from: Micros, to: Micros) -> Vec<(Micros, Micros)> {
        let mut out = Vec::new();
        if to <= from {
            return out;
        }
        let (Some(first), Some(last)) = (to_zoned(from, &self.zone), to_zoned(to, &self.zone))
        else {
            return out;
        };
        // A day's working hours may start before `from`'s local date (never after its end), so
        // begin one day early.
        let mut date = first.date().yesterday().unwrap_or(first.date());
        let last_date = last.date();
        while date <= last_date {
            if let Some((start, end)) = self.working_interval(date) {
                let (s, e) = (start.max(from), end.min(to));
                if e > s {
                    out.push((s, e));
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        out
    }

    /// Working seconds in `[from, to)`.
    pub fn working_seconds(&self, from: Micros, to: Micros) -> i64 {
        self.working_intervals(from, to).iter().map(|(s, e)| (e - s) / 1_000_000).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use traction_domain::time::{parse_instant, parse_zone};

    fn at(text: &str, zone: &TimeZone) -> Micros {
        parse_instant(text, zone).unwrap()
    }

    #[test]
    fn november_2026_has_21_working_days_of_8_hours() {
        let cal = Calendar::from_settings(TimeZone::UTC, "mon,tue,wed,thu,fri", "09:00-17:00", "")
            .unwrap();
        let z = &cal.zone;
        let secs = cal.working_seconds(at("2026-11-01", z), at("2026-12-01", z));
        assert_eq!(secs, 168 * 3600);
        let with_holiday = Calendar { holidays: vec![Date::constant(2026, 11, 26)], ..cal.clone() };
        assert_eq!(
            with_holiday.working_seconds(at("2026-11-01", z), at("2026-12-01", z)),
            160 * 3600
        );
        // Mid-day clipping: from 13:30 on Monday 2 November to the end of the day is 3.5 hours.
        assert_eq!(
            cal.working_seconds(at("2026-11-02 13:30", z), at("2026-11-03", z)),
            3 * 3600 + 1800
        );
    }

    #[test]
    fn a_bakery_opening_through_a_clock_change_gets_the_real_hours() {
        // Europe/London springs forward at 01:00 on Sunday 29 March 2026. A shop open 00:00-08:00
        // on Sundays that day has only 7 real hours.
        let zone = parse_zone("Europe/London").unwrap();
        let cal = Calendar::from_settings(zone.clone(), "sun", "00:00-08:00", "").unwrap();
        let secs = cal.working_seconds(at("2026-03-29", &zone), at("2026-03-30", &zone));
        assert_eq!(secs, 7 * 3600);
        // An all-day working hours setting (00:00-24:00) on the autumn change has 25 hours.
        let all_day = Calendar::from_settings(zone.clone(), "sun", "00:00-24:00", "").unwrap();
        let secs = all_day.working_seconds(at("2026-10-25", &zone), at("2026-10-26", &zone));
        assert_eq!(secs, 25 * 3600);
    }
}
