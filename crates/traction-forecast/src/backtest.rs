//! Rolling-origin backtests (spec: monitoring.md, Forecasts): how far to trust a forecast.
//!
//! The last `FOLDS` stretches of `horizon` buckets of the history are each forecast from the
//! buckets before them, by the model and by the seasonal-naive baseline (each bucket as the
//! same bucket one season before the origin). The errors over all folds give MAPE, WAPE and
//! MASE for the model and WAPE for the baseline; a model worth showing has a WAPE below the
//! baseline's.

use crate::Error;
use crate::model::{Step, forecast};

/// Folds of a backtest.
pub const FOLDS: usize = 8;

/// A backtest's figures: the KPI layer's type, so a KPI row's forecast carries the same figures
/// `traction forecast` shows.
pub use traction_kpi::service::Backtest;

/// The least training history a fold is fitted on: the model's own minimum.
fn min_training(step: Step) -> usize {
    step.min_history()
}

/// The seasonal-naive forecast of `horizon` buckets after `training`.
pub fn seasonal_naive(training: &[f64], period: usize, horizon: usize) -> Vec<f64> {
    let n = training.len();
    (0..horizon).map(|h| training[n - period + h % period]).collect()
}

/// Backtests the model on `history` for forecasts of `horizon` buckets. The fold horizon is
/// shortened when the history cannot hold `FOLDS` folds of `horizon` after the least training
/// history; `Ok(None)` when it cannot hold even one bucket per fold.
pub fn backtest(history: &[f64], step: Step, horizon: usize) -> Result<Option<Backtest>, Error> {
    let n = history.len();
    let room = n.saturating_sub(min_training(step)) / FOLDS;
    let horizon = horizon.min(room);
    if horizon == 0 {
        return Ok(None);
    }
    let mut abs_error = 0.0;
    let mut abs_actual = 0.0;
    let mut naive_abs_error = 0.0;
    let mut pct_sum = 0.0;
    let mut pct_count = 0usize;
    let mut mase_sum = 0.0;
    let mut mase_count = 0usize;
    for fold in 0..FOLDS {
        let origin = n - (FOLDS - fold) * horizon;
        let training = &history[..origin];
        let actual = &history[origin..origin + horizon];
        // Level does not matter for point errors; 0.8 keeps the interval work small.
        let predicted = forecast(training, step, horizon, 0.8)?;
        let period = step.naive_period(training.len()).min(training.len());
        let naive = seasonal_naive(training, period, horizon);
        let mut fold_error = 0.0;
        for idx in 0..horizon {
            let error = (predicted.value[idx] - actual[idx]).abs();
            fold_error += error;
            abs_error += error;
            abs_actual += actual[idx].abs();
            naive_abs_error += (naive[idx] - actual[idx]).abs();
            if actual[idx] != 0.0 {
                pct_sum += error / actual[idx].abs();
                pct_count += 1;
            }
        }
        let scale_terms: Vec<f64> =
            (period..training.len()).map(|t| (training[t] - training[t - period]).abs()).collect();
        let scale = scale_terms.iter().sum::<f64>() / scale_terms.len().max(1) as f64;
        if scale > 0.0 {
            mase_sum += fold_error / horizon as f64 / scale;
            mase_count += 1;
        }
    }
    let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
    Ok(Some(Backtest {
        folds: FOLDS,
        horizon,
        mape: ratio(pct_sum, pct_count as f64),
        wape: ratio(abs_error, abs_actual),
        mase: ratio(mase_sum, mase_count as f64),
        baseline_wape: ratio(naive_abs_error, abs_actual),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let training = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        // Period 7: the last season is 3..9; horizon 9 wraps around it.
        assert_eq!(
            seasonal_naive(&training, 7, 9),
            vec![3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 3.0, 4.0]
        );
    }

    #[test]
    fn folds_are_shortened_to_fit_the_history() {
        // 56 + 8 × 3 = 80 days: room for 8 folds of 3 days, not of 7.
        let history: Vec<f64> = (0..80).map(|t| 10.0 + (t % 7) as f64).collect();
        let figures = backtest(&history, Step::Day, 7).unwrap().unwrap();
        assert_eq!((figures.folds, figures.horizon), (8, 3));
        // 60 days: no room for a fold after 56 days of training.
        assert_eq!(backtest(&history[..60], Step::Day, 7).unwrap(), None);
    }

    #[test]
    fn errors_are_measured_against_the_actuals() {
        // A pure weekly pattern: seasonal naive is exact, so its WAPE is 0, and the model
        // (which finds the same pattern) is near it.
        let history: Vec<f64> =
            (0..140).map(|t| [5.0, 8.0, 6.0, 9.0, 7.0, 1.0, 0.0][t % 7]).collect();
        let figures = backtest(&history, Step::Day, 7).unwrap().unwrap();
        assert_eq!(figures.baseline_wape, Some(0.0));
        assert!(figures.wape.unwrap() < 0.05, "{figures:?}");
    }
}
