//! A day's pace by the hour (the Today page): the hourly targets of a day beside the hourly
//! actuals, cumulated, and where the day stands at the current hour. Pure: the caller brings
//! the hourly breakdown of a target ([`crate::breakdown`]) and the actuals by hour (the metrics
//! engine), labelled alike.

use std::collections::BTreeMap;

/// One hour of the day.
#[derive(Clone, Debug, PartialEq)]
pub struct Hour {
    /// The hour's period label.
    pub period: String,
    pub target: f64,
    pub actual: f64,
    pub target_so_far: f64,
    pub actual_so_far: f64,
    /// Whether the hour has begun (at or before the current hour, or every hour when the day is
    /// not today).
    pub past: bool,
}

/// The day at the current hour.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPace {
    /// The hours with a target or an actual (the working day, and any sale outside it).
    pub hours: Vec<Hour>,
    /// The target of the hours begun so far.
    pub expected_now: f64,
    /// Every actual of the day so far, in whichever hour.
    pub so_far: f64,
    /// The target of the whole day.
    pub day_target: f64,
    /// `not_started` (nothing expected yet), `on_track` (at or above expected), `at_risk`
    /// (at least 90% of it) or `off_track`.
    pub status: &'static str,
}

/// Below this share of what is expected by now, the day is off track rather than at risk.
const AT_RISK: f64 = 0.9;

/// The day's pace from its hourly targets (in hour order) and actuals by hour, as of the hour
/// labelled `current` (`None`: the day is over, every hour counts).
pub fn day_pace(
    hourly: &[(String, f64)],
    actual: &BTreeMap<String, f64>,
    current: Option<&str>,
) -> DayPace {
    let (mut target_so_far, mut actual_so_far, mut expected_now) = (0.0, 0.0, 0.0);
    let mut hours = Vec::new();
    for (period, target) in hourly.iter().filter(|(p, v)| *v > 0.0 || actual.contains_key(p)) {
        target_so_far += target;
        let hour_actual = actual.get(period).copied().unwrap_or(0.0);
        actual_so_far += hour_actual;
        let past = current.is_none_or(|c| period.as_str() <= c);
        if past {
            expected_now = target_so_far;
        }
        hours.push(Hour {
            period: period.clone(),
            target: *target,
            actual: hour_actual,
            target_so_far,
            actual_so_far,
            past,
        });
    }
    let so_far: f64 = actual.values().sum();
    let status = if expected_now <= 0.0 {
        "not_started"
    } else if so_far >= expected_now {
        "on_track"
    } else if so_far >= AT_RISK * expected_now {
        "at_risk"
    } else {
        "off_track"
    };
    DayPace { hours, expected_now, so_far, day_target: target_so_far, status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hourly(values: &[(&str, f64)]) -> Vec<(String, f64)> {
        values.iter().map(|(p, v)| (p.to_string(), *v)).collect()
    }

    #[test]
    fn hours_cumulate_and_the_current_hour_sets_what_is_expected() {
        // 08 and 18 have no target and no sale: left out. Targets 100 at 09, 10, 11; sales 80
        // at 09 and 50 at 10; now is 10:xx, so 200 is expected and 130 was sold: 65%.
        let targets =
            hourly(&[("T08", 0.0), ("T09", 100.0), ("T10", 100.0), ("T11", 100.0), ("T18", 0.0)]);
        let actual = BTreeMap::from([("T09".to_string(), 80.0), ("T10".to_string(), 50.0)]);
        let day = day_pace(&targets, &actual, Some("T10"));
        let periods: Vec<&str> = day.hours.iter().map(|h| h.period.as_str()).collect();
        assert_eq!(periods, ["T09", "T10", "T11"]);
        assert_eq!(day.hours[1].target_so_far, 200.0);
        assert_eq!(day.hours[1].actual_so_far, 130.0);
        assert_eq!(day.hours.iter().map(|h| h.past).collect::<Vec<_>>(), [true, true, false]);
        assert_eq!((day.expected_now, day.so_far, day.day_target), (200.0, 130.0, 300.0));
        assert_eq!(day.status, "off_track");
    }

    #[test]
    fn a_sale_outside_the_working_hours_is_shown_and_counted() {
        // A sale of 30 at 07 (no target) shows as an hour; 100 expected by 09, 30 + 65 = 95
        // sold: at least 90%, at risk.
        let targets = hourly(&[("T07", 0.0), ("T09", 100.0), ("T10", 100.0)]);
        let actual = BTreeMap::from([("T07".to_string(), 30.0), ("T09".to_string(), 65.0)]);
        let day = day_pace(&targets, &actual, Some("T09"));
        assert_eq!(day.hours.len(), 3);
        assert_eq!((day.expected_now, day.so_far), (100.0, 95.0));
        assert_eq!(day.status, "at_risk");
    }

    #[test]
    fn before_the_first_target_hour_nothing_is_expected_and_a_past_day_counts_every_hour() {
        let targets = hourly(&[("T09", 100.0), ("T10", 100.0)]);
        let early = day_pace(&targets, &BTreeMap::new(), Some("T08"));
        assert_eq!((early.expected_now, early.status), (0.0, "not_started"));
        let actual = BTreeMap::from([("T10".to_string(), 250.0)]);
        let over = day_pace(&targets, &actual, None);
        assert_eq!((over.expected_now, over.so_far, over.status), (200.0, 250.0, "on_track"));
    }
}
