//! Where a KPI stands at an instant: expected, pace, status, projection, required rate, gap
//! (spec: kpis.md, Pace, status, projection).

use traction_domain::time::Micros;

use crate::calendar::Calendar;
use crate::split::Weights;

/// A KPI's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    NotStarted,
    NotEnoughData,
    OnTrack,
    AtRisk,
    OffTrack,
    Achieved,
    /// The period has ended and the target was not achieved.
    Missed,
    /// The target cannot be computed (its metric was removed, or its scope was): the row says
    /// why, and the other targets still answer.
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::NotEnoughData => "not_enough_data",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::Achieved => "achieved",
            Status::Missed => "missed",
            Status::Error => "error",
        }
    }
}

/// Whether a metric's target is an amount to reach or a level to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Counts and sums: the target spreads over the period.
    Accumulating,
    /// Ratios, averages, medians, scores: the target is a level; `higher_is_better` gives its
    /// direction.
    Level { higher_is_better: bool },
}

/// What the pace computation needs.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub behaviour: Behaviour,
    pub target: f64,
    /// The metric over `[period start, at)` for the scope; `None` when it has no value (a rate
    /// with no observations).
    pub actual: Option<f64>,
    /// For level metrics: whether there are enough observations to judge.
    pub enough_data: bool,
    pub weights: &'a Weights,
    pub period: (Micros, Micros),
    pub at: Micros,
    /// The scope's calendar, for the working hours left.
    pub calendar: &'a Calendar,
    /// Heads of the scope (1 for a user scope).
    pub heads: usize,
    pub at_risk: f64,
    pub off_track: f64,
    /// For accumulating metrics where less is better (costs, deals lost): the target is a
    /// budget, a ceiling not to pass. Pace is expected / actual, passing the target is off track
    /// (missed once the period ends), staying within it to the end is achieved, and there is no
    /// required rate. Ignored for levels, which carry their own direction.
    pub budget: bool,
}

/// The figures of a KPI row.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    pub actual: Option<f64>,
    pub expected: f64,
    pub pace: Option<f64>,
    pub status: Status,
    pub projected: Option<f64>,
    /// Per working hour per head (spec: kpis.md, required_rate).
    pub required_rate: Option<f64>,
    /// Per working hour for the whole scope (the team, the company; a user scope: the same as
    /// `required_rate`): what the hourly breakdown of the remaining target shows.
    pub required_rate_scope: Option<f64>,
    /// The heads the per-head figure divides among.
    pub heads: usize,
    pub gap: Option<f64>,
}

impl Figures {
    /// The figures of a target that cannot be computed: nothing known, status `error`.
    pub fn unavailable() -> Figures {
        Figures {
            actual: None,
            expected: f64::NAN,
            pace: None,
            status: Status::Error,
            projected: None,
            required_rate: None,
            required_rate_scope: None,
            heads: 0,
            gap: None,
        }
    }
}

/// Computes a KPI's figures at `input.at`.
pub fn figures(input: &Input<'_>) -> Figures {
    let (start, end) = input.period;
    let at = input.at.clamp(start, end);
    let total = input.weights.total();
    let elapsed = input.weights.between(start, at);
    let not_started =
        input.weights.first_instant().is_none_or(|first| input.at <= first) && elapsed <= 0.0;
    match input.behaviour {
        Behaviour::Accumulating => {
            let actual = input.actual.unwrap_or(0.0);
            let expected = if total > 0.0 { input.target * elapsed / total } else { 0.0 };
            let projected =
                (elapsed > 0.0).then(|| actual + (total - elapsed) * (actual / elapsed));
            if input.budget {
                return budget_figures(input, actual, expected, projected, not_started, end);
            }
            let pace = (expected > 0.0).then(|| actual / expected);
            let status = if actual >= input.target && input.target > 0.0 {
                Status::Achieved
            } else if input.at >= end {
                // spec: kpis.md, status: the period is over and the target was not reached, by
                // however little (97.8% is missed) — also a period that had no working time.
                Status::Missed
            } else if not_started {
                Status::NotStarted
            } else {
                band(pace, input.at_risk, input.off_track)
            };
            let hours_left = input.calendar.working_seconds(at, end) as f64 / 3600.0;
            let required_rate_scope = if actual >= input.target {
                Some(0.0)
            } else if hours_left <= 0.0 {
                None
            } else {
                Some((input.target - actual) / hours_left)
            };
            let required_rate = if actual >= input.target {
                Some(0.0)
            } else if input.heads == 0 {
                None
            } else {
                required_rate_scope.map(|r| r / input.heads as f64)
            };
            Figures {
                actual: Some(actual),
                expected,
                pace,
                status,
                projected,
                required_rate,
                required_rate_scope,
                heads: input.heads,
                gap: projected.map(|p| input.target - p),
            }
        }
        Behaviour::Level { higher_is_better } => {
            let expected = input.target;
            let pace = input.actual.and_then(|actual| {
                let (num, den) =
                    if higher_is_better { (actual, expected) } else { (expected, actual) };
                (den != 0.0).then(|| num / den)
            });
            let good_side = input.actual.is_some_and(|actual| {
                if higher_is_better { actual >= expected } else { actual <= expected }
            });
            let judged = input.enough_data && input.actual.is_some();
            let status = if input.at >= end && judged {
                // spec: kpis.md, status: after the period a level is judged on its final figure.
                if good_side { Status::Achieved } else { Status::Missed }
            } else if not_started {
                Status::NotStarted
            } else if !judged {
                Status::NotEnoughData
            } else {
                band(pace, input.at_risk, input.off_track)
            };
            Figures {
                actual: input.actual,
                expected,
                pace,
                status,
                projected: input.actual,
                required_rate: None,
                required_rate_scope: None,
                heads: input.heads,
                gap: input.actual.map(|a| input.target - a),
            }
        }
    }
}

/// An amount target on a metric where less is better: a budget (see [`Input::budget`]).
fn budget_figures(
    input: &Input<'_>,
    actual: f64,
    expected: f64,
    projected: Option<f64>,
    not_started: bool,
    end: Micros,
) -> Figures {
    let pace = if actual > 0.0 { Some(expected / actual) } else { None };
    let over = actual > input.target;
    let status = if over && input.at >= end {
        Status::Missed
    } else if over {
        Status::OffTrack
    } else if input.at >= end {
        Status::Achieved
    } else if not_started {
        Status::NotStarted
    } else if actual <= 0.0 {
        // Nothing spent yet is within any budget.
        Status::OnTrack
    } else {
        band(pace, input.at_risk, input.off_track)
    };
    Figures {
        actual: Some(actual),
        expected,
        pace,
        status,
        projected,
        required_rate: None,
        required_rate_scope: None,
        heads: input.heads,
        gap: projected.map(|p| input.target - p),
    }
}

fn band(pace: Option<f64>, at_risk: f64, off_track: f64) -> Status {
    match pace {
        Some(p) if p >= at_risk => Status::OnTrack,
        Some(p) if p >= off_track => Status::AtRisk,
        Some(_) => Status::OffTrack,
        None => Status::NotStarted,
    }
}

/// The leaderboard band of a pace: under (< 0.9), maintaining (0.9–1.1), over (> 1.1).
pub fn leaderboard_band(pace: Option<f64>) -> &'static str {
    match pace {
        Some(p) if p > 1.1 => "over",
        Some(p) if p >= 0.9 => "maintaining",
        _ => "under",
    }
}

/// The Wilson score interval of a proportion `successes / n` at 95%, so a rate shows how sure it
/// is. `None` when `n` is 0.
pub fn wilson(successes: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let p = successes / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The actual line of a tile's sparkline: one point per elapsed day of the period, from the
/// metric's values by day (keyed by the day buckets' labels). An accumulating KPI's line is
/// the running total (a day without a value adds 0); a level one carries the last value over a
/// day without one and starts at its first value.
pub fn actual_line(
    days: &[crate::period::Bucket],
    by_day: &std::collections::BTreeMap<String, f64>,
    until: Micros,
    behaviour: Behaviour,
) -> Vec<f64> {
    let mut line: Vec<f64> = Vec::new();
    let mut running = 0.0;
    for d in days.iter().filter(|d| d.start < until) {
        let v = by_day.get(&d.label).copied();
        match behaviour {
            Behaviour::Accumulating => {
                running += v.unwrap_or(0.0);
                line.push(running);
            }
            _ => {
                if let Some(v) = v.or(line.last().copied()) {
                    line.push(v);
                }
            }
        }
    }
    line
}

/// The expected line of a tile's sparkline over the `days` of the period: an accumulating
/// KPI's target accumulated over its breakdown by day (what is expected by the end of each
/// day); a level KPI's target itself on every day.
pub fn expected_line(
    per_day: impl IntoIterator<Item = f64>,
    target: f64,
    days: usize,
    behaviour: Behaviour,
) -> Vec<f64> {
    match behaviour {
        Behaviour::Accumulating => per_day
            .into_iter()
            .scan(0.0, |sum, v| {
                *sum += v;
                Some(*sum)
            })
            .collect(),
        _ => vec![target; days],
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::Date;
    use jiff::tz::TimeZone;
    use traction_domain::time::parse_instant;

    use super::*;
    use crate::period::{PeriodKind, period_range};

    fn setup() -> (Calendar, (Micros, Micros), Weights) {
        let cal = Calendar::from_settings(TimeZone::UTC, "mon,tue,wed,thu,fri", "09:00-17:00", "")
            .unwrap();
        let period =
            period_range(PeriodKind::Month, Date::constant(2026, 11, 1), &cal.zone).unwrap();
        let w = Weights::calendar(&cal, period.0, period.1);
        (cal, period, w)
    }

    fn at(text: &str) -> Micros {
        parse_instant(text, &TimeZone::UTC).unwrap()
    }

    fn input<'a>(
        cal: &'a Calendar,
        period: (Micros, Micros),
        w: &'a Weights,
        actual: f64,
        when: &str,
    ) -> Input<'a> {
        Input {
            behaviour: Behaviour::Accumulating,
            target: 84_000.0,
            actual: Some(actual),
            enough_data: true,
            weights: w,
            period,
            at: at(when),
            calendar: cal,
            heads: 4,
            at_risk: 0.9,
            off_track: 0.75,
            budget: false,
        }
    }

    // Mid-period: at Wednesday 11 November 13:00, 7 full working days (2–10 Nov) + 4 hours have
    // passed = 60 hours of 168 → expected 84,000 × 60/168 = 30,000.
    #[test]
    fn pace_mid_period_by_hand() {
        let (cal, period, w) = setup();
        let f = figures(&input(&cal, period, &w, 27_000.0, "2026-11-11T13:00Z"));
        assert_eq!(f.expected, 30_000.0);
        assert_eq!(f.pace, Some(0.9));
        assert_eq!(f.status, Status::OnTrack, "0.9 is the at-risk threshold itself");
        // Run rate 27,000 per 60 hours over the remaining 108 hours: 27,000 + 108 × 450 = 75,600.
        assert_eq!(f.projected, Some(75_600.0));
        assert_eq!(f.gap, Some(8_400.0));
        // 57,000 still to win in 108 working hours by 4 heads: 57,000 / 108 / 4 per head-hour,
        // and 57,000 / 108 per working hour for the team.
        assert_eq!(f.required_rate, Some(57_000.0 / 108.0 / 4.0));
        assert_eq!(f.required_rate_scope, Some(57_000.0 / 108.0));
        assert_eq!(f.heads, 4);
        let slow = figures(&input(&cal, period, &w, 21_000.0, "2026-11-11T13:00Z"));
        assert_eq!(slow.pace, Some(0.7));
        assert_eq!(slow.status, Status::OffTrack);
    }

    #[test]
    fn before_the_first_working_hour_nothing_is_expected() {
        let (cal, period, w) = setup();
        // Sunday 1 November and Monday 2 November 08:59 are before the first working hour.
        for when in ["2026-11-01T12:00Z", "2026-11-02T08:59Z"] {
            let f = figures(&input(&cal, period, &w, 0.0, when));
            assert_eq!(f.expected, 0.0);
            assert_eq!(f.pace, None);
            assert_eq!(f.status, Status::NotStarted);
            assert_eq!(f.projected, None);
            // Before the first hour the whole target remains: 500 per working hour for the
            // team, 125 per rep-hour (kpis.md's worked example).
            assert_eq!(f.required_rate, Some(125.0));
            assert_eq!(f.required_rate_scope, Some(500.0));
        }
    }

    #[test]
    fn after_the_end_the_period_is_judged() {
        let (cal, period, w) = setup();
        let done = figures(&input(&cal, period, &w, 90_000.0, "2026-12-03T10:00Z"));
        assert_eq!(done.status, Status::Achieved);
        assert_eq!(done.required_rate, Some(0.0));
        assert_eq!(done.expected, 84_000.0);
        let missed = figures(&input(&cal, period, &w, 80_000.0, "2026-12-03T10:00Z"));
        assert_eq!(missed.status, Status::Missed);
        assert_eq!(missed.required_rate, None, "no working hour remains");
        assert_eq!(missed.projected, Some(80_000.0));
    }

    #[test]
    fn level_metrics_hold_a_level_in_both_directions() {
        let (cal, period, w) = setup();
        let mut win_rate = input(&cal, period, &w, 0.27, "2026-11-11T13:00Z");
        win_rate.behaviour = Behaviour::Level { higher_is_better: true };
        win_rate.target = 0.3;
        let f = figures(&win_rate);
        assert_eq!(f.expected, 0.3);
        assert!((f.pace.unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(f.status, Status::OnTrack);
        assert_eq!(f.required_rate, None);
        // Response time: lower is better. Target 3,600 s, actual 4,800 s → pace 0.75: at risk.
        let mut response = win_rate.clone();
        response.behaviour = Behaviour::Level { higher_is_better: false };
        response.target = 3_600.0;
        response.actual = Some(4_800.0);
        let f = figures(&response);
        assert_eq!(f.pace, Some(0.75));
        assert_eq!(f.status, Status::AtRisk);
        response.enough_data = false;
        assert_eq!(figures(&response).status, Status::NotEnoughData);
        // At the end, on the good side of the target: achieved.
        response.enough_data = true;
        response.actual = Some(3_000.0);
        response.at = at("2026-12-01T00:00Z");
        assert_eq!(figures(&response).status, Status::Achieved);
    }

    // Issue 24.3: after its period a target says how it ended, with the final figure.
    #[test]
    fn issue_24_3_a_finished_period_is_achieved_or_missed() {
        let (cal, period, w) = setup();
        // 97.8% of 84,000 = 82,152: during the period that is judged by pace (at Wednesday 11
        // November 13:00, 30,000 expected: 82,152 is far ahead, and not yet the target), after
        // it the target is missed, however close.
        let during = figures(&input(&cal, period, &w, 82_152.0, "2026-11-11T13:00Z"));
        assert_eq!(during.status, Status::OnTrack);
        let after = figures(&input(&cal, period, &w, 82_152.0, "2026-12-01T00:00Z"));
        assert_eq!(after.status, Status::Missed);
        assert_eq!(after.actual, Some(82_152.0), "the final figure");
        assert_eq!(after.expected, 84_000.0);
        assert_eq!(after.gap, Some(1_848.0));
        // A level missed: win rate 0.25 against 0.3, judged at the end rather than by band
        // (pace 0.833 would be "at risk" during the period).
        let mut win_rate = input(&cal, period, &w, 0.25, "2026-11-20T12:00Z");
        win_rate.behaviour = Behaviour::Level { higher_is_better: true };
        win_rate.target = 0.3;
        assert_eq!(figures(&win_rate).status, Status::AtRisk);
        win_rate.at = at("2026-12-02T00:00Z");
        assert_eq!(figures(&win_rate).status, Status::Missed);
        win_rate.actual = Some(0.31);
        assert_eq!(figures(&win_rate).status, Status::Achieved);
        // A level on track during the period but on the wrong side at its end is missed too.
        win_rate.actual = Some(0.29);
        assert_eq!(figures(&win_rate).status, Status::Missed);
        // Too few observations to judge stay so after the end (kpis.md: minimum sample).
        win_rate.enough_data = false;
        assert_eq!(figures(&win_rate).status, Status::NotEnoughData);
        // A period without any working time (a week of holidays) that ends short is missed,
        // not "not started".
        let cal = Calendar::from_settings(
            TimeZone::UTC,
            "mon,tue,wed,thu,fri",
            "09:00-17:00",
            "2026-11-02,2026-11-03,2026-11-04,2026-11-05,2026-11-06",
        )
        .unwrap();
        let week = period_range(PeriodKind::Week, Date::constant(2026, 11, 2), &cal.zone).unwrap();
        let none = Weights::calendar(&cal, week.0, week.1);
        let f = figures(&input(&cal, week, &none, 10.0, "2026-11-09T10:00Z"));
        assert_eq!(f.status, Status::Missed);
    }

    // A costs target is a budget: under the expected spend is on pace, over the whole budget is
    // off track at once and missed at the end, within it at the end is achieved.
    #[test]
    fn an_amount_where_less_is_better_is_a_budget() {
        let (cal, period, w) = setup();
        let mut costs = input(&cal, period, &w, 27_000.0, "2026-11-11T13:00Z");
        costs.budget = true;
        // Expected spend by then 30,000; spent 27,000: pace 30,000 / 27,000 ≈ 1.11, on track.
        let f = figures(&costs);
        assert_eq!(f.expected, 30_000.0);
        assert!((f.pace.unwrap() - 30_000.0 / 27_000.0).abs() < 1e-12);
        assert_eq!(f.status, Status::OnTrack);
        assert_eq!(f.required_rate, None);
        // Spent 40,000: pace 0.75, at risk (0.75 is the off-track threshold itself).
        costs.actual = Some(40_000.0);
        assert_eq!(figures(&costs).status, Status::AtRisk);
        // Over the whole budget: off track during the period, missed after it.
        costs.actual = Some(85_000.0);
        assert_eq!(figures(&costs).status, Status::OffTrack);
        costs.at = at("2026-12-01T00:00Z");
        assert_eq!(figures(&costs).status, Status::Missed);
        costs.actual = Some(80_000.0);
        assert_eq!(figures(&costs).status, Status::Achieved);
        // Nothing spent yet is on track.
        costs.at = at("2026-11-11T13:00Z");
        costs.actual = Some(0.0);
        assert_eq!(figures(&costs).status, Status::OnTrack);
    }

    #[test]
    fn bands_and_wilson_interval() {
        assert_eq!(leaderboard_band(Some(0.89)), "under");
        assert_eq!(leaderboard_band(Some(0.9)), "maintaining");
        assert_eq!(leaderboard_band(Some(1.1)), "maintaining");
        assert_eq!(leaderboard_band(Some(1.11)), "over");
        assert_eq!(leaderboard_band(None), "under");
        // 5 of 20: p = 0.25; Wilson 95% interval ≈ [0.1119, 0.4687] (worked with the formula).
        let (lo, hi) = wilson(5.0, 20.0).unwrap();
        assert!((lo - 0.1119).abs() < 1e-4 && (hi - 0.4687).abs() < 1e-4, "{lo} {hi}");
        assert_eq!(wilson(0.0, 0.0), None);
    }

    const LEVEL: Behaviour = Behaviour::Level { higher_is_better: true };

    fn day(start: i64, label: &str) -> crate::period::Bucket {
        crate::period::Bucket { start, end: start + 86_400_000_000, label: label.to_string() }
    }

    #[test]
    fn the_sparkline_lines_accumulate_or_carry_the_level() {
        let d = 86_400_000_000;
        let days = [day(0, "d1"), day(d, "d2"), day(2 * d, "d3"), day(3 * d, "d4")];
        // Sales of 5 on day 1, none on day 2, 7 on day 3; day 4 has not started (until = 3 days).
        let by_day: std::collections::BTreeMap<String, f64> =
            [("d1".to_string(), 5.0), ("d3".to_string(), 7.0)].into();
        // Running total: 5, 5 + 0 = 5, 5 + 7 = 12.
        assert_eq!(
            actual_line(&days, &by_day, 3 * d, Behaviour::Accumulating),
            vec![5.0, 5.0, 12.0]
        );
        // A level: 5, carried over day 2, then 7.
        assert_eq!(actual_line(&days, &by_day, 3 * d, LEVEL), vec![5.0, 5.0, 7.0]);
        // A level without a value on the first day starts at its first value.
        let late: std::collections::BTreeMap<String, f64> = [("d2".to_string(), 3.0)].into();
        assert_eq!(actual_line(&days, &late, 3 * d, LEVEL), vec![3.0, 3.0]);
        // Expected: a target of 100 broken down 10, 20, 30, 40 accumulates to 10, 30, 60, 100.
        assert_eq!(
            expected_line([10.0, 20.0, 30.0, 40.0], 100.0, 4, Behaviour::Accumulating),
            vec![10.0, 30.0, 60.0, 100.0]
        );
        // A level target is the same on every day.
        assert_eq!(expected_line([], 50.0, 3, LEVEL), vec![50.0, 50.0, 50.0]);
    }
}
