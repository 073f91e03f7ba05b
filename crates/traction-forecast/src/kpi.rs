//! The KPI forecast (spec: monitoring.md, KPI forecast): where an accumulating target lands —
//! the actual to date plus the forecast of the rest of the period in working time of the
//! scope's calendar; for deal metrics (`revenue_won`, `deals_won`) combined with the open
//! pipeline weighted by the win rates learned from stage history.
//!
//! [`Source`] is the KPI layer's `MetricSource` with forecasts: the metrics engine for
//! everything else, and [`rest_in_working_time`] (pure) over the model's daily forecast. Daily
//! forecasts and the pipeline are computed once per metric and scope for one answer (a week,
//! a month and a quarter target of the same metric share them). Each daily forecast comes with
//! its backtest (how far to trust it), made with it once a day and kept beside it in the
//! forecast history, so later answers that day read both back.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use traction_domain::time::Micros;
use traction_kpi::Calendar;
use traction_kpi::engine::Engine;
use traction_kpi::pace::Behaviour;
use traction_kpi::scope::Scope;
use traction_kpi::service::{
    Actual, AnomalyRequest, Band, DayCheck, Error as KpiError, ForecastRequest, Forecasts,
    MetricRequest, MetricSource,
};
use traction_kpi::split::Seasonality;
use traction_metrics::buckets::Buckets;
use traction_metrics::{Catalog, Grain};
use traction_store::Backend;
use traction_store::forecast::{ForecastPoint, StoredForecast};

use crate::backtest::{Backtest, backtest};
use crate::model::{Step, forecast, model_name};
use crate::pipeline::{Data, PipelineForecast, compute_until, load};
use crate::series::{future, history};
use crate::service::{from_kept, kept as keep};

/// One forecast day.
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    pub start: Micros,
    pub end: Micros,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// The forecast of `[from, end)` in working time: each day's forecast times the share of the
/// day's working time that falls in the range (0 on a day off or a holiday; the part after
/// `from` on the day holding it). The interval is the sum of the days' bounds (as if their
/// errors moved together: wider, never narrower, than the truth for independent days).
pub fn rest_in_working_time(days: &[Day], calendar: &Calendar, from: Micros, end: Micros) -> Band {
    let mut band = Band { value: 0.0, low: 0.0, high: 0.0, backtest: None };
    for day in days {
        let whole = calendar.working_seconds(day.start, day.end);
        if whole == 0 {
            continue;
        }
        let part = calendar.working_seconds(day.start.max(from), day.end.min(end));
        let share = part as f64 / whole as f64;
        band.value += day.value * share;
        band.low += day.low * share;
        band.high += day.high * share;
    }
    band
}

/// A deal metric's expectation from the open pipeline: amounts (major units) for
/// `revenue_won`, deals for `deals_won`, each weighted by its stage's historical win rate (the
/// configured probability where the stage has no closed history).
pub fn pipeline_expectation(metric: &str, pipeline: &PipelineForecast) -> Option<f64> {
    match metric {
        "revenue_won" => Some(pipeline.total_historical() / pipeline.minor_per_major as f64),
        "deals_won" => Some(
            pipeline
                .rows
                .iter()
                .map(|r| r.deals.len() as f64 * r.historical_win_rate().unwrap_or(r.probability))
                .sum(),
        ),
        _ => None,
    }
}

/// Combines the model's rest of the period with the pipeline's expectation: their mean (a
/// simple combination of two forecasts), the interval spanning both; the model's backtest stays
/// with it.
pub fn combine(model: Band, pipeline: f64) -> Band {
    Band {
        value: (model.value + pipeline) / 2.0,
        low: model.low.min(pipeline),
        high: model.high.max(pipeline),
        backtest: model.backtest,
    }
}

/// The interval at `level` a day after `history` is expected in (`None`: too short a history
/// for a forecast); a day outside it is an anomaly.
pub fn anomaly_check(history: &[f64], level: f64) -> Result<Option<(f64, f64)>, crate::Error> {
    if history.len() < Step::Day.min_history() {
        return Ok(None);
    }
    let points = forecast(history, Step::Day, 1, level)?;
    Ok(Some((points.low[0], points.high[0])))
}

/// The level of a KPI forecast's interval.
pub const KPI_LEVEL: f64 = 0.8;

type Key = (String, Option<Vec<String>>, Micros);
/// A daily forecast and its backtest (`None`: too short a history for a forecast).
type Daily = Option<(Vec<Day>, Option<Backtest>)>;

/// Backtests a request of the server makes at most (each is eight fits of the model); the
/// forecasts beyond it show theirs once a later request has made it.
pub const REQUEST_BACKTESTS: usize = 3;

/// A daily forecast wanted: a metric for a scope (its owners' records) from the day holding
/// `at` through the day holding `end − 1`.
#[derive(Clone, Copy)]
struct Wanted<'a> {
    metric: &'a str,
    scope: &'a Scope,
    owners: Option<&'a [String]>,
    at: Micros,
    end: Micros,
}

/// The KPI layer's metric source with forecasts.
pub struct Source<'a> {
    pub engine: Engine<'a>,
    daily: RefCell<HashMap<Key, Daily>>,
    pipeline: RefCell<Option<Data>>,
    /// Backtests this source may still make (each is kept, so later answers read it back).
    backtests_left: Cell<usize>,
}

impl<'a> Source<'a> {
    /// A source that backtests every daily forecast it makes (the command line, reports sent
    /// on a schedule, the alert evaluator).
    pub fn new(store: &'a dyn Backend, catalog: &'a Catalog) -> Source<'a> {
        Source {
            engine: Engine { store, catalog },
            daily: RefCell::new(HashMap::new()),
            pipeline: RefCell::new(None),
            backtests_left: Cell::new(usize::MAX),
        }
    }

    /// A source that makes at most `n` backtests (a request must answer in time: the first
    /// list of the day of many targets would otherwise fit the model nine times per metric and
    /// scope). A forecast whose backtest is not made yet shows none, and the next answer that
    /// may makes it; backtests already kept are always read back.
    pub fn with_backtests_at_most(self, n: usize) -> Source<'a> {
        self.backtests_left.set(n);
        self
    }

    /// Whether one more backtest may be made by this source (counting it).
    fn may_backtest(&self) -> bool {
        let left = self.backtests_left.get();
        if left == 0 {
            return false;
        }
        self.backtests_left.set(left.saturating_sub(1));
        true
    }

    /// The daily forecast from the day holding `at` through the day holding `end − 1`, with its
    /// backtest, or `None` when the history is too short (or the model fails: the KPI row stays
    /// without).
    fn days(&self, wanted: &Wanted<'_>) -> Result<Daily, KpiError> {
        let Wanted { metric, owners, at, end, .. } = *wanted;
        let store = self.engine.store;
        let zone = store.workspace()?.zone;
        let today = Buckets::new(Grain::Day, at, at + 1, &zone)?;
        let Some(today) = today.list.into_iter().next() else { return Ok(None) };
        let key: Key = (metric.to_string(), owners.map(<[String]>::to_vec), today.start);
        let cached = self.daily.borrow().get(&key).cloned();
        let days = match cached {
            Some(days)
                if days.as_ref().is_none_or(|(d, _)| d.last().is_some_and(|l| l.end >= end)) =>
            {
                days
            }
            _ => {
                let days = self.kept_or_made(wanted, today.start, &zone)?;
                self.daily.borrow_mut().insert(key, days.clone());
                days
            }
        };
        Ok(days.map(|(list, backtest)| {
            (list.into_iter().filter(|d| d.start < end).collect(), backtest)
        }))
    }

    /// The daily forecast made today for the metric and scope, with its backtest: from the
    /// forecast history when one made today covers the period (the model reads complete days
    /// only, so a forecast made earlier today is the one it would make now; one kept without
    /// its backtest gets it made now, if this source may, and kept), else made now, backtested
    /// over folds of as many days as it covers, and kept.
    fn kept_or_made(
        &self,
        wanted: &Wanted<'_>,
        today: Micros,
        zone: &jiff::tz::TimeZone,
    ) -> Result<Daily, KpiError> {
        let Wanted { metric, scope, owners, at, end } = *wanted;
        let store = self.engine.store;
        let scope_text = scope.to_string();
        let kept = store.forecasts(metric, &scope_text, "day", today, at + 1)?;
        // The latest covering the period, one with its backtest first.
        let covers = |f: &&StoredForecast| {
            f.level == KPI_LEVEL
                && f.points.first().is_some_and(|p| p.start == today)
                && f.points.last().is_some_and(|p| p.end >= end)
        };
        let usable = kept
            .iter()
            .rev()
            .filter(covers)
            .find(|f| f.backtest.is_some())
            .or_else(|| kept.iter().rev().find(covers));
        if let Some(f) = usable {
            let days = f
                .points
                .iter()
                .map(|p| Day {
                    start: p.start,
                    end: p.end,
                    value: p.value,
                    low: p.low,
                    high: p.high,
                })
                .collect();
            if let Some(b) = &f.backtest {
                return Ok(Some((days, Some(from_kept(b)))));
            }
            // Kept without its backtest (a request that had made enough): make it now if this
            // answer may, over folds of as many days as the forecast covers, and keep it.
            if !self.may_backtest() {
                return Ok(Some((days, None)));
            }
            let past = history(store, self.engine.catalog, metric, owners, Step::Day, at, zone)
                .map_err(forecast_error)?;
            let trust = backtest(&past.values, Step::Day, f.points.len()).ok().flatten();
            if trust.is_some() {
                let with = StoredForecast {
                    made_at: at,
                    backtest: trust.as_ref().map(keep),
                    ..(*f).clone()
                };
                store.record_forecast(&with)?;
            }
            return Ok(Some((days, trust)));
        }
        let past = history(store, self.engine.catalog, metric, owners, Step::Day, at, zone)
            .map_err(forecast_error)?;
        if past.values.len() < Step::Day.min_history() {
            return Ok(None);
        }
        // Days from the one holding `at` to the period's end (a day over for clock changes).
        let horizon = ((end - past.current.start).max(0) / 86_400_000_000 + 2) as usize;
        let buckets = future(Step::Day, &past.current, horizon, zone).map_err(forecast_error)?;
        let Ok(points) = forecast(&past.values, Step::Day, horizon, KPI_LEVEL) else {
            return Ok(None);
        };
        // How far to trust it: folds of as many days as it covers (shortened to fit the
        // history), made once with it and kept beside it.
        let trust = if self.may_backtest() {
            backtest(&past.values, Step::Day, horizon).ok().flatten()
        } else {
            None
        };
        let days: Vec<Day> = buckets
            .iter()
            .enumerate()
            .map(|(idx, b)| Day {
                start: b.start,
                end: b.end,
                value: points.value[idx],
                low: points.low[idx],
                high: points.high[idx],
            })
            .collect();
        // A KPI forecast is shown: keep it (spec: every forecast that is shown is stored).
        let stored = StoredForecast {
            metric: metric.to_string(),
            scope: scope_text,
            grain: "day".into(),
            made_at: at,
            level: KPI_LEVEL,
            model: model_name(Step::Day, past.values.len()),
            backtest: trust.as_ref().map(keep),
            points: buckets
                .iter()
                .zip(&days)
                .map(|(b, d)| ForecastPoint {
                    start: d.start,
                    end: d.end,
                    period: b.label.clone().unwrap_or_default(),
                    value: d.value,
                    low: d.low,
                    high: d.high,
                })
                .collect(),
        };
        store.record_forecast(&stored)?;
        Ok(Some((days, trust)))
    }

    fn pipeline_for(
        &self,
        metric: &str,
        owners: Option<&[String]>,
        at: Micros,
        end: Micros,
    ) -> Result<Option<f64>, KpiError> {
        if !matches!(metric, "revenue_won" | "deals_won") {
            return Ok(None);
        }
        let store = self.engine.store;
        let workspace = store.workspace()?;
        if self.pipeline.borrow().is_none() {
            *self.pipeline.borrow_mut() = Some(load(store).map_err(forecast_error)?);
        }
        let data = self.pipeline.borrow();
        let Some(data) = data.as_ref() else { return Ok(None) };
        let zone = &workspace.zone;
        let date = |t: Micros| traction_domain::time::to_zoned(t, zone).map(|z| z.date());
        // Deals expected before the day after the period's last instant.
        let (Some(from), Some(last)) = (date(at), date(end - 1)) else { return Ok(None) };
        let to = last.tomorrow().map_err(|e| KpiError::Forecast(Box::new(e)))?;
        let made = compute_until(
            data,
            owners,
            ("rest", from, to),
            at,
            zone,
            workspace.currency.minor_per_major(),
            "",
        )
        .map_err(forecast_error)?;
        Ok(pipeline_expectation(metric, &made))
    }
}

/// Every figure is the metrics engine's: this source adds forecasts only.
impl MetricSource for Source<'_> {
    fn behaviour(&self, metric: &str) -> Result<Behaviour, KpiError> {
        self.engine.behaviour(metric)
    }

    fn min_sample(&self, metric: &str) -> i64 {
        self.engine.min_sample(metric)
    }

    fn lower_is_better(&self, metric: &str) -> bool {
        self.engine.lower_is_better(metric)
    }

    fn actual(&self, request: &MetricRequest<'_>) -> Result<Actual, KpiError> {
        self.engine.actual(request)
    }

    fn check_by(&self, metric: &str, by: &str) -> Result<(), KpiError> {
        self.engine.check_by(metric, by)
    }

    fn actual_by(
        &self,
        request: &MetricRequest<'_>,
        by: &str,
    ) -> Result<Vec<(String, Actual)>, KpiError> {
        self.engine.actual_by(request, by)
    }

    fn seasonality(&self, request: &MetricRequest<'_>) -> Result<Seasonality, KpiError> {
        self.engine.seasonality(request)
    }

    fn forecasts(&self) -> Option<&dyn Forecasts> {
        Some(self)
    }
}

impl Forecasts for Source<'_> {
    fn explain_last_day(
        &self,
        metric: &str,
        scope: &Scope,
        at: Micros,
    ) -> Result<Option<String>, KpiError> {
        let store = self.engine.store;
        let zone = store.workspace()?.zone;
        let Some(day) = last_complete_day(at, &zone)? else { return Ok(None) };
        // Against the day before, as the dashboard's sentences compare a bucket with the one
        // before; a metric that cannot be split says nothing rather than failing the alert.
        let change = traction_kpi::explain::Change {
            metric,
            range: (day.start, day.end),
            compare: traction_metrics::Compare::Previous,
            scope,
            at,
        };
        match traction_kpi::explain::why(store, self.engine.catalog, &change) {
            Ok((_, sentence)) => Ok(Some(sentence.text)),
            Err(_) => Ok(None),
        }
    }

    fn last_day_against_forecast(
        &self,
        request: &AnomalyRequest<'_>,
    ) -> Result<Option<DayCheck>, KpiError> {
        let AnomalyRequest { metric, owners, at, level } = *request;
        let store = self.engine.store;
        let zone = store.workspace()?.zone;
        let today = Buckets::new(Grain::Day, at, at + 1, &zone)?;
        let Some(today) = today.list.into_iter().next() else { return Ok(None) };
        // The last complete day is the one before the day holding `at`: forecast it from the
        // days before it, as of its start.
        let past =
            history(store, self.engine.catalog, metric, owners, Step::Day, today.start - 1, &zone)
                .map_err(forecast_error)?;
        let Some((low, high)) = anomaly_check(&past.values, level).map_err(forecast_error)? else {
            return Ok(None);
        };
        let day = MetricRequest::new(metric, owners, (past.current.start, past.current.end), at);
        let value = self.engine.actual(&day)?.value.unwrap_or(0.0);
        Ok(Some(DayCheck { day: past.current.label.clone().unwrap_or_default(), value, low, high }))
    }

    fn forecast(&self, request: &ForecastRequest<'_>) -> Result<Option<Band>, KpiError> {
        let ForecastRequest { target, owners, calendar, period: (start, end), at, actual } =
            *request;
        let metric = target.metric.as_str();
        let wanted = Wanted { metric, scope: &target.scope, owners, at, end };
        let Some((days, trust)) = self.days(&wanted)? else {
            return Ok(None);
        };
        let model =
            Band { backtest: trust, ..rest_in_working_time(&days, calendar, at.max(start), end) };
        let rest = match self.pipeline_for(metric, owners, at, end)? {
            Some(pipeline) => combine(model, pipeline),
            None => model,
        };
        Ok(Some(Band {
            value: actual + rest.value,
            low: actual + rest.low,
            high: actual + rest.high,
            backtest: rest.backtest,
        }))
    }
}

/// The day before the one holding `at`, in the zone (`None` at the edge of time).
fn last_complete_day(
    at: Micros,
    zone: &jiff::tz::TimeZone,
) -> Result<Option<traction_metrics::buckets::Bucket>, KpiError> {
    let today = Buckets::new(Grain::Day, at, at + 1, zone)?;
    let Some(today) = today.list.into_iter().next() else { return Ok(None) };
    let day = Buckets::new(Grain::Day, today.start - 1, today.start, zone)?;
    Ok(day.list.into_iter().next())
}

/// This crate's error as the KPI layer's: a forecast that could not be made.
fn forecast_error(e: crate::Error) -> KpiError {
    KpiError::Forecast(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use traction_domain::time::{parse_instant, parse_zone};

    fn at(text: &str) -> Micros {
        parse_instant(text, &parse_zone("UTC").unwrap()).unwrap()
    }

    /// A KPI forecast worked out by hand for a period with a holiday: the week of Monday 23
    /// November 2026, Mon–Fri 09:00–17:00, Thursday 26th a holiday, asked on Tuesday 24th at
    /// 13:00 with 40 won so far. The model says 10 (8–12) every day.
    /// - Tuesday: 4 of its 8 working hours are left → 10 × 4/8 = 5 (4–6).
    /// - Wednesday 25th: a whole working day → 10 (8–12).
    /// - Thursday 26th: a holiday, no working time → 0.
    /// - Friday 27th: 10 (8–12). Saturday and Sunday: days off → 0.
    ///
    /// Rest 25 (20–30); with the 40 so far: 65 (60–70).
    #[test]
    fn a_kpi_forecast_for_a_week_with_a_holiday() {
        let zone = parse_zone("UTC").unwrap();
        let calendar =
            Calendar::from_settings(zone, "mon,tue,wed,thu,fri", "09:00-17:00", "2026-11-26")
                .unwrap();
        let days: Vec<Day> = (24..=29)
            .map(|d| Day {
                start: at(&format!("2026-11-{d}T00:00:00Z")),
                end: at(&format!("2026-11-{}T00:00:00Z", d + 1)),
                value: 10.0,
                low: 8.0,
                high: 12.0,
            })
            .collect();
        let rest = rest_in_working_time(
            &days,
            &calendar,
            at("2026-11-24T13:00:00Z"),
            at("2026-11-30T00:00:00Z"),
        );
        assert_eq!(rest, Band { value: 25.0, low: 20.0, high: 30.0, backtest: None });
    }

    /// A synthetic series with a weekly pattern: a usual Monday is inside the interval, a
    /// Monday at five times its usual level is outside (an anomaly), and so is an empty one.
    #[test]
    fn a_day_far_from_its_forecast_is_an_anomaly() {
        let pattern = [100.0, 120.0, 110.0, 130.0, 90.0, 20.0, 10.0];
        // 10 weeks ending on a Sunday, with a little deterministic noise.
        let history: Vec<f64> =
            (0..70).map(|t| pattern[t % 7] + [3.0, -2.0, 1.0, -4.0, 2.0][t % 5]).collect();
        let (low, high) = anomaly_check(&history, 0.8).unwrap().unwrap();
        assert!(low < 100.0 && 100.0 < high, "a usual Monday: [{low}, {high}]");
        assert!(500.0 > high && 0.0 < low, "[{low}, {high}]");
        // Too short a history: no check at all.
        assert_eq!(anomaly_check(&history[..50], 0.8).unwrap(), None);
    }

    #[test]
    fn the_pipeline_and_the_model_are_combined_by_their_mean() {
        let model = Band { value: 100.0, low: 80.0, high: 120.0, backtest: None };
        let band = |value, low, high| Band { value, low, high, backtest: None };
        assert_eq!(combine(model, 60.0), band(80.0, 60.0, 120.0));
        assert_eq!(combine(model, 150.0), band(125.0, 80.0, 150.0));
    }
}
