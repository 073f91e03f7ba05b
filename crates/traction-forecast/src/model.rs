//! The time-series model: MSTL decomposition with an AutoETS trend, from Grafana's `augurs`
//! (spec: monitoring.md, Forecasts). Pure: a series of bucket values in, point forecasts and
//! an interval at a level out. Nothing here knows metrics, stores or calendars.

use augurs::ets::AutoETS;
use augurs::ets::trend::AutoETSTrendModel;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Predict};

use crate::{Error, ModelError};

/// The length of the bucket a series is counted in, which fixes its seasonal periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Day,
    Week,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Day => "day",
            Step::Week => "week",
        }
    }

    /// Buckets in 8 weeks: the least history a forecast accepts.
    pub fn min_history(self) -> usize {
        match self {
            Step::Day => 56,
            Step::Week => 8,
        }
    }

    /// The seasonal periods a series of `n` buckets supports: weekly for days; yearly where at
    /// least two full years are there (one year alone cannot tell a season from a trend).
    pub fn periods(self, n: usize) -> Vec<usize> {
        match self {
            Step::Day if n >= 2 * 365 => vec![7, 365],
            Step::Day => vec![7],
            Step::Week if n >= 2 * 52 => vec![52],
            Step::Week => Vec::new(),
        }
    }

    /// The period of the seasonal-naive baseline (and of MASE's scale): a week of days, a year
    /// of weeks where there is one, else the previous bucket.
    pub fn naive_period(self, n: usize) -> usize {
        match self {
            Step::Day => 7,
            Step::Week if n >= 2 * 52 => 52,
            Step::Week => 1,
        }
    }
}

/// A forecast of the buckets after a series: one point and an interval per bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    pub value: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// The model used for a series of `n` buckets, as shown to people.
pub fn model_name(step: Step, n: usize) -> String {
    let periods = step.periods(n);
    if periods.is_empty() {
        "AutoETS (no seasonality)".to_string()
    } else {
        let list: Vec<String> = periods.iter().map(usize::to_string).collect();
        format!("MSTL (periods {}) + AutoETS trend", list.join(", "))
    }
}

/// Forecasts `horizon` buckets after `history` with an interval at `level` (0 < level < 1).
///
/// A series that never goes below zero (counts, revenue) is forecast never below zero either.
pub fn forecast(history: &[f64], step: Step, horizon: usize, level: f64) -> Result<Points, Error> {
    if history.iter().any(|y| !y.is_finite()) {
        return Err(ModelError::NotANumber.into());
    }
    let periods = step.periods(history.len());
    let predicted = if periods.is_empty() {
        let fitted = AutoETS::non_seasonal()
            .fit(history)
            .map_err(|e| ModelError::Fit { model: "AutoETS", source: Box::new(e) })?;
        fitted.predict(horizon, level).map_err(|e| ModelError::Predict(Box::new(e)))?
    } else {
        let trend = AutoETSTrendModel::from(AutoETS::non_seasonal());
        let fitted = MSTLModel::new(periods, trend)
            .fit(history)
            .map_err(|e| ModelError::Fit { model: "MSTL", source: Box::new(e) })?;
        fitted.predict(horizon, level).map_err(|e| ModelError::Predict(Box::new(e)))?
    };
    let value = predicted.point;
    let (mut low, mut high) = match predicted.intervals {
        Some(intervals) => (intervals.lower, intervals.upper),
        None => (value.clone(), value.clone()),
    };
    let mut value = value;
    if value.iter().chain(&low).chain(&high).any(|y| !y.is_finite()) {
        return Err(ModelError::NotFinite.into());
    }
    if history.iter().all(|y| *y >= 0.0) {
        for y in value.iter_mut().chain(low.iter_mut()).chain(high.iter_mut()) {
            *y = y.max(0.0);
        }
    }
    Ok(Points { value, low, high })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A weekly pattern (weekdays busy, weekends quiet) on a rising trend, with a little
    /// deterministic noise.
    pub(crate) fn synthetic(n: usize) -> Vec<f64> {
        let pattern = [100.0, 120.0, 110.0, 130.0, 90.0, 20.0, 10.0];
        let mut state: u64 = 42;
        (0..n)
            .map(|t| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 20.0;
                pattern[t % 7] + 0.5 * t as f64 + noise
            })
            .collect()
    }

    #[test]
    fn a_weekly_pattern_is_carried_into_the_forecast() {
        let history = synthetic(140);
        let points = forecast(&history, Step::Day, 14, 0.95).unwrap();
        assert_eq!(points.value.len(), 14);
        // Day 140 is a weekday of index 0 (busy), day 145 a quiet one (index 5): pattern
        // 100 vs 20 plus trend 70 and 72.5; the forecast keeps them far apart.
        assert!(points.value[0] > points.value[5] + 50.0, "{:?}", points.value);
        for idx in 0..14 {
            assert!(points.low[idx] <= points.value[idx] && points.value[idx] <= points.high[idx]);
        }
    }

    /// The interval's coverage on held-out days is near its level: 80% intervals forecast a
    /// week ahead from 20 origins of a noisy series hold about 80% of what followed.
    #[test]
    fn interval_coverage_on_held_out_days_is_near_the_level() {
        let series = synthetic(280);
        let (mut inside, mut total) = (0, 0);
        for origin in (140..280).step_by(7) {
            let points = forecast(&series[..origin], Step::Day, 7, 0.8).unwrap();
            for h in 0..7 {
                let actual = series[origin + h];
                total += 1;
                if points.low[h] <= actual && actual <= points.high[h] {
                    inside += 1;
                }
            }
        }
        let coverage = inside as f64 / total as f64;
        assert!((0.65..=0.95).contains(&coverage), "80% intervals held {coverage:.2}");
    }

    /// On a series with a weekly pattern and a trend the model beats seasonal naive (which
    /// lags the trend by a week) in a backtest.
    #[test]
    fn the_model_beats_seasonal_naive_on_a_trending_weekly_series() {
        let figures = crate::backtest::backtest(&synthetic(210), Step::Day, 14).unwrap().unwrap();
        assert!(
            figures.wape.unwrap() < figures.baseline_wape.unwrap(),
            "model {figures:?} against seasonal naive"
        );
    }

    #[test]
    fn a_non_negative_history_gets_no_negative_bound() {
        let history: Vec<f64> = (0..70).map(|t| if t % 7 < 5 { 3.0 } else { 0.0 }).collect();
        let points = forecast(&history, Step::Day, 7, 0.95).unwrap();
        assert!(points.low.iter().all(|y| *y >= 0.0), "{:?}", points.low);
    }

    #[test]
    fn yearly_seasonality_needs_two_years() {
        assert_eq!(Step::Day.periods(729), vec![7]);
        assert_eq!(Step::Day.periods(730), vec![7, 365]);
        assert!(Step::Week.periods(103).is_empty());
        assert_eq!(Step::Week.periods(104), vec![52]);
    }
}
