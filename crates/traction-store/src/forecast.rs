//! What forecasting keeps (spec: monitoring.md, Forecasts): every forecast that is shown, with
//! the instant it was made (migration V12). The [`ForecastStore`] trait is the only way in.

use traction_domain::time::Micros;

use crate::Error;

/// One bucket of a kept forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastPoint {
    pub start: Micros,
    pub end: Micros,
    pub period: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A forecast as it was shown.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredForecast {
    pub metric: String,
    /// `company`, `team:ID` or `user:ID`.
    pub scope: String,
    /// `day` or `week`.
    pub grain: String,
    pub made_at: Micros,
    pub level: f64,
    pub model: String,
    /// The backtest shown with it (`None`: none was kept).
    pub backtest: Option<KeptBacktest>,
    pub points: Vec<ForecastPoint>,
}

/// A kept forecast's backtest (migration V16): fractions, `None` where undefined.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeptBacktest {
    pub folds: u32,
    /// Buckets forecast per fold.
    pub horizon: u32,
    pub mape: Option<f64>,
    pub wape: Option<f64>,
    pub mase: Option<f64>,
    pub baseline_wape: Option<f64>,
}

pub trait ForecastStore {
    /// Keeps a forecast. One is kept per metric, scope, grain and hour it was made: a later one
    /// in the same hour replaces it; the same forecast again writes nothing. Returns whether
    /// anything was written.
    fn record_forecast(&self, forecast: &StoredForecast) -> Result<bool, Error>;

    /// The kept forecasts of a metric for a scope and grain made in `[from, to)`, oldest first.
    fn forecasts(
        &self,
        metric: &str,
        scope: &str,
        grain: &str,
        from: Micros,
        to: Micros,
    ) -> Result<Vec<StoredForecast>, Error>;
}
