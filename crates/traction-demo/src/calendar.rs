//! The demo's two years of days, placed in the workspace time zone.
//!
//! Every generated instant is "day N of the window, at this local time of day": the calendar
//! keeps, per local day, the UTC instant of its local midnight as seen from noon's offset, so a
//! local time of day becomes an instant with one addition. Daylight-saving changes happen in the
//! small hours (01:00–02:00 in Europe/London), outside the hours the demo places anything in
//! bulk, so noon's offset is the right one for the whole working day.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use traction_domain::time::Micros;

pub const SECOND: Micros = 1_000_000;
pub const HOUR: Micros = 3600 * SECOND;
pub const DAY: Micros = 24 * HOUR;

/// How many days of history the demo covers, ending on the day of `at`.
pub const HISTORY_DAYS: usize = 730;

#[derive(Clone, Debug)]
pub struct Day {
    pub date: Date,
    /// The instant of local 00:00 at noon's UTC offset (see the module docs).
    pub base: Micros,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i8,
    /// 1 … 366.
    pub day_of_year: i16,
    /// A public holiday on which the office is closed (25–26 December, 1 January).
    pub holiday: bool,
}

impl Day {
    pub fn is_workday(&self) -> bool {
        self.weekday <= 5 && !self.holiday
    }
}

#[derive(Clone, Debug)]
pub struct Calendar {
    pub days: Vec<Day>,
    /// The end of the history: nothing is generated after it.
    pub at: Micros,
}

/// Working hours of the demo business (local time).
const OPEN_H: i64 = 9;
const CLOSE_H: i64 = 17;

/// Why the demo's days cannot be laid out before `--at`.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("--at is out of range: {0}")]
    OutOfRange(jiff::Error),
    #[error("--at is too early for two years of history: {0}")]
    TooEarly(jiff::Error),
    /// A day's noon that the zone cannot place.
    #[error("{date} cannot be placed in the time zone: {source}")]
    NotPlaceable { date: jiff::civil::Date, source: jiff::Error },
    /// The day after the last representable date.
    #[error("{0}")]
    PastTheCalendar(jiff::Error),
}

impl Calendar {
    pub fn new(at: Micros, zone: &TimeZone) -> Result<Calendar, CalendarError> {
        let ts = jiff::Timestamp::from_microsecond(at).map_err(CalendarError::OutOfRange)?;
        let last = ts.to_zoned(zone.clone()).date();
        let first = last
            .checked_sub(jiff::Span::new().days(HISTORY_DAYS as i64 - 1))
            .map_err(CalendarError::TooEarly)?;
        let mut days = Vec::with_capacity(HISTORY_DAYS);
        let mut date = first;
        while date <= last {
            let noon = zone
                .to_ambiguous_zoned(date.to_datetime(Time::constant(12, 0, 0, 0)))
                .compatible()
                .map_err(|source| CalendarError::NotPlaceable { date, source })?;
            let base = noon.timestamp().as_microsecond() - 12 * HOUR;
            let (month, day) = (date.month(), date.day());
            days.push(Day {
                date,
                base,
                weekday: date.weekday().to_monday_one_offset(),
                day_of_year: date.day_of_year(),
                holiday: (month == 12 && (day == 25 || day == 26)) || (month == 1 && day == 1),
            });
            date = date.tomorrow().map_err(CalendarError::PastTheCalendar)?;
        }
        Ok(Calendar { days, at })
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// The instant of a local time of day (seconds after midnight) on day `idx`.
    pub fn instant(&self, idx: usize, secs: i64) -> Micros {
        self.days[idx].base + secs * SECOND
    }

    /// The day an instant falls on, if it is inside the window.
    pub fn day_of(&self, t: Micros) -> Option<usize> {
        let first = self.days.first()?.base;
        if t < first {
            return None;
        }
        // Offsets differ by at most a few hours between days, so the estimate is off by one at most.
        let mut idx = ((t - first) / DAY) as usize;
        idx = idx.min(self.days.len() - 1);
        while idx > 0 && t < self.days[idx].base {
            idx -= 1;
        }
        while idx + 1 < self.days.len() && t >= self.days[idx + 1].base {
            idx += 1;
        }
        Some(idx)
    }

    /// Months since the start of the window (0 for the first month), by local date.
    pub fn month_index(&self, idx: usize) -> usize {
        let first = self.days[0].date;
        let date = self.days[idx].date;
        ((date.year() - first.year()) as i64 * 12 + (date.month() - first.month()) as i64) as usize
    }

    /// The first day of the window's month `m`.
    pub fn month_start(&self, m: usize) -> Date {
        let first = self.days[0].date;
        let months = first.year() as i64 * 12 + first.month() as i64 - 1 + m as i64;
        Date::new((months / 12) as i16, (months % 12 + 1) as i8, 1).unwrap_or(first)
    }

    /// How many calendar months the window touches.
    pub fn months(&self) -> usize {
        self.month_index(self.days.len() - 1) + 1
    }

    /// A local time inside working hours, weighted like an office day: busy late mornings and
    /// mid-afternoons, a lunch dip, a few early and late ones.
    pub fn working_secs(rng: &mut crate::rng::Rng) -> i64 {
        // Hours 8 … 17; weights per hour.
        const WEIGHTS: [f64; 10] = [0.25, 0.9, 1.3, 1.3, 0.7, 0.9, 1.2, 1.15, 0.9, 0.2];
        let hour = 8 + rng.weighted(&WEIGHTS) as i64;
        hour * 3600 + rng.range(0, 3599)
    }

    /// A local time across the whole day, as people shop and browse: low at night, a lunch peak
    /// and a bigger evening peak.
    pub fn any_secs(rng: &mut crate::rng::Rng) -> i64 {
        const WEIGHTS: [f64; 24] = [
            0.3, 0.15, 0.1, 0.08, 0.08, 0.15, 0.4, 0.8, 1.1, 1.2, 1.3, 1.4, 1.6, 1.5, 1.3, 1.2,
            1.2, 1.3, 1.5, 1.8, 1.9, 1.7, 1.1, 0.6,
        ];
        let hour = rng.weighted(&WEIGHTS) as i64;
        hour * 3600 + rng.range(0, 3599)
    }

    /// Moves an instant into working time: kept when it falls in working hours on a workday,
    /// else moved to the next workday's morning. `None` when that is after `at`.
    pub fn to_working(&self, t: Micros, rng: &mut crate::rng::Rng) -> Option<Micros> {
        let mut idx = self.day_of(t)?;
        let secs = (t - self.days[idx].base) / SECOND;
        if self.days[idx].is_workday() && (OPEN_H * 3600..CLOSE_H * 3600).contains(&secs) {
            return (t <= self.at).then_some(t);
        }
        if secs >= OPEN_H * 3600 {
            idx += 1;
        }
        while idx < self.days.len() && !self.days[idx].is_workday() {
            idx += 1;
        }
        if idx >= self.days.len() {
            return None;
        }
        let moved = self.instant(idx, OPEN_H * 3600 + rng.range(0, 5400));
        (moved <= self.at).then_some(moved)
    }

    /// A seasonal factor for a shop: a Christmas peak, a January–February lull.
    pub fn shop_season(&self, idx: usize) -> f64 {
        let doy = f64::from(self.days[idx].day_of_year);
        // Peak around 10 December (day 344); amplitude ±30%, plus a sharp pre-Christmas rush.
        let base = 1.0 + 0.3 * (std::f64::consts::TAU * (doy - 344.0) / 365.25).cos();
        let rush = if (325.0..=358.0).contains(&doy) { 0.35 } else { 0.0 };
        base + rush
    }

    /// Shops sell most at weekends.
    pub fn shop_weekday(&self, idx: usize) -> f64 {
        match self.days[idx].weekday {
            5 => 1.1,
            6 => 1.55,
            7 => 1.35,
            _ => 0.85,
        }
    }

    /// Business buyers work on weekdays, and slow down in August and at year end.
    pub fn b2b_factor(&self, idx: usize) -> f64 {
        let day = &self.days[idx];
        let weekday = if day.holiday {
            0.05
        } else if day.weekday >= 6 {
            0.15
        } else {
            1.0
        };
        let month = day.date.month();
        let season = match month {
            8 => 0.75,
            12 if day.date.day() > 18 => 0.5,
            1 | 9 | 10 => 1.12,
            _ => 1.0,
        };
        weekday * season
    }

    /// Growth of the business: +25% a year, 1.0 at the start of the window.
    pub fn growth(&self, idx: usize) -> f64 {
        1.0 + 0.25 * idx as f64 / 365.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    #[test]
    fn local_times_follow_daylight_saving() {
        // 2026-07-01 12:00Z is in summer (BST, +01:00).
        let at = jiff::Timestamp::from_second(1_782_907_200).unwrap().as_microsecond();
        let cal = Calendar::new(at, &london()).unwrap();
        assert_eq!(cal.len(), HISTORY_DAYS);
        let last = cal.len() - 1;
        assert_eq!(cal.days[last].date, jiff::civil::date(2026, 7, 1));
        // 09:00 BST is 08:00 UTC.
        let nine = cal.instant(last, 9 * 3600);
        assert_eq!(
            jiff::Timestamp::from_microsecond(nine).unwrap().to_string(),
            "2026-07-01T08:00:00Z"
        );
        // In winter 09:00 GMT is 09:00 UTC: 2026-01-15 is 167 days before 1 July.
        let jan = last - 167;
        assert_eq!(cal.days[jan].date, jiff::civil::date(2026, 1, 15));
        let nine = cal.instant(jan, 9 * 3600);
        assert_eq!(
            jiff::Timestamp::from_microsecond(nine).unwrap().to_string(),
            "2026-01-15T09:00:00Z"
        );
        assert_eq!(cal.day_of(nine), Some(jan));
        // 2026-01-15 is a Thursday.
        assert_eq!(cal.days[jan].weekday, 4);
    }

    #[test]
    fn working_time_moves_to_the_next_morning() {
        let at = jiff::Timestamp::from_second(1_782_907_200).unwrap().as_microsecond();
        let cal = Calendar::new(at, &london()).unwrap();
        let mut rng = crate::rng::Rng::new(1, 1);
        // Saturday 2026-06-27 at 20:00 → Monday 2026-06-29 between 09:00 and 10:30.
        let sat = cal.len() - 1 - 4;
        assert_eq!(cal.days[sat].weekday, 6);
        let moved = cal.to_working(cal.instant(sat, 20 * 3600), &mut rng).unwrap();
        let idx = cal.day_of(moved).unwrap();
        assert_eq!(cal.days[idx].weekday, 1);
        let secs = (moved - cal.days[idx].base) / SECOND;
        assert!((9 * 3600..=10 * 3600 + 1800).contains(&secs), "{secs}");
        // Inside working hours it stays put.
        let tue = cal.instant(sat - 4, 11 * 3600);
        assert_eq!(cal.to_working(tue, &mut rng), Some(tue));
        // Nothing is placed after `at`.
        assert_eq!(cal.to_working(at + DAY, &mut rng), None);
    }
}
