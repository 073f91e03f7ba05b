//! [`ForecastStore`] on SQLite (migrations V12 and V16).

use rusqlite::OptionalExtension;
use traction_domain::time::Micros;

use super::SqliteStore;
use crate::Error;
use crate::forecast::{ForecastPoint, ForecastStore, KeptBacktest, StoredForecast};

const HOUR_US: i64 = 3_600_000_000;

fn read_points(conn: &rusqlite::Connection, id: i64) -> Result<Vec<ForecastPoint>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT start, end_at, period, value, low, high FROM forecast_points \
         WHERE forecast_id = ?1 ORDER BY start",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(ForecastPoint {
            start: r.get(0)?,
            end: r.get(1)?,
            period: r.get(2)?,
            value: r.get(3)?,
            low: r.get(4)?,
            high: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The backtest in the six columns from `first` on (folds, horizon, mape, wape, mase,
/// baseline_wape); none where no folds were kept (forecasts kept before V16).
fn read_backtest(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<KeptBacktest>> {
    let (Some(folds), Some(horizon)) =
        (r.get::<_, Option<u32>>(first)?, r.get::<_, Option<u32>>(first + 1)?)
    else {
        return Ok(None);
    };
    Ok(Some(KeptBacktest {
        folds,
        horizon,
        mape: r.get(first + 2)?,
        wape: r.get(first + 3)?,
        mase: r.get(first + 4)?,
        baseline_wape: r.get(first + 5)?,
    }))
}

impl ForecastStore for SqliteStore {
    fn record_forecast(&self, forecast: &StoredForecast) -> Result<bool, Error> {
        let made_hour = forecast.made_at.div_euclid(HOUR_US) * HOUR_US;
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let kept: Option<(i64, f64, String, Option<KeptBacktest>)> = tx
            .prepare_cached(
                "SELECT id, level, model, backtest_folds, backtest_horizon, mape, wape, mase, \
                 baseline_wape FROM forecasts \
                 WHERE metric = ?1 AND scope = ?2 AND grain = ?3 AND made_hour = ?4",
            )?
            .query_row((&forecast.metric, &forecast.scope, &forecast.grain, made_hour), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, read_backtest(r, 3)?))
            })
            .optional()?;
        if let Some((id, level, model, backtest)) = &kept {
            if *level == forecast.level
                && *model == forecast.model
                && *backtest == forecast.backtest
                && read_points(&tx, *id)? == forecast.points
            {
                // The same forecast: nothing to write (and no commit for pages to see).
                return Ok(false);
            }
            tx.execute("DELETE FROM forecast_points WHERE forecast_id = ?1", [id])?;
            tx.execute("DELETE FROM forecasts WHERE id = ?1", [id])?;
        }
        let backtest = forecast.backtest;
        tx.execute(
            "INSERT INTO forecasts (metric, scope, grain, made_at, made_hour, level, model, wape, \
             baseline_wape, backtest_folds, backtest_horizon, mape, mase) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                forecast.metric,
                forecast.scope,
                forecast.grain,
                forecast.made_at,
                made_hour,
                forecast.level,
                forecast.model,
                backtest.and_then(|b| b.wape),
                backtest.and_then(|b| b.baseline_wape),
                backtest.map(|b| b.folds),
                backtest.map(|b| b.horizon),
                backtest.and_then(|b| b.mape),
                backtest.and_then(|b| b.mase)
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO forecast_points (forecast_id, start, end_at, period, value, low, high) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for p in &forecast.points {
                stmt.execute(rusqlite::params![
                    id, p.start, p.end, p.period, p.value, p.low, p.high
                ])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    fn forecasts(
        &self,
        metric: &str,
        scope: &str,
        grain: &str,
        from: Micros,
        to: Micros,
    ) -> Result<Vec<StoredForecast>, Error> {
        let conn = self.light_reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, made_at, level, model, backtest_folds, backtest_horizon, mape, wape, \
             mase, baseline_wape FROM forecasts \
             WHERE metric = ?1 AND scope = ?2 AND grain = ?3 AND made_at >= ?4 AND made_at < ?5 \
             ORDER BY made_at",
        )?;
        let heads = stmt
            .query_map((metric, scope, grain, from, to), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, String>(3)?,
                    read_backtest(r, 4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(heads.len());
        for (id, made_at, level, model, backtest) in heads {
            out.push(StoredForecast {
                metric: metric.to_string(),
                scope: scope.to_string(),
                grain: grain.to_string(),
                made_at,
                level,
                model,
                backtest,
                points: read_points(&conn, id)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forecast(made_at: Micros, value: f64) -> StoredForecast {
        StoredForecast {
            metric: "orders".into(),
            scope: "company".into(),
            grain: "day".into(),
            made_at,
            level: 0.8,
            model: "m".into(),
            backtest: None,
            points: vec![ForecastPoint {
                start: 10,
                end: 20,
                period: "2026-11-02".into(),
                value,
                low: value - 1.0,
                high: value + 1.0,
            }],
        }
    }

    #[test]
    fn one_forecast_is_kept_per_hour_and_the_same_one_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        assert!(store.record_forecast(&forecast(HOUR_US, 5.0)).unwrap());
        // The same forecast later in the hour: nothing written.
        assert!(!store.record_forecast(&forecast(HOUR_US + 60_000_000, 5.0)).unwrap());
        // A different one in the same hour replaces it.
        assert!(store.record_forecast(&forecast(HOUR_US + 120_000_000, 6.0)).unwrap());
        // The next hour adds one.
        assert!(store.record_forecast(&forecast(2 * HOUR_US, 6.0)).unwrap());
        let kept = store.forecasts("orders", "company", "day", 0, 10 * HOUR_US).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].made_at, kept[0].points[0].value), (HOUR_US + 120_000_000, 6.0));
        assert_eq!(kept[1].made_at, 2 * HOUR_US);
        assert!(store.forecasts("orders", "team:x", "day", 0, 10 * HOUR_US).unwrap().is_empty());
    }

    /// Issue 16: a forecast's backtest is kept with it and read back whole; the same points
    /// with a backtest where the kept one had none are a different forecast (written).
    #[test]
    fn a_backtest_is_kept_with_its_forecast() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        assert!(store.record_forecast(&forecast(HOUR_US, 5.0)).unwrap());
        let backtest = KeptBacktest {
            folds: 8,
            horizon: 6,
            mape: Some(0.25),
            wape: Some(0.125),
            mase: None,
            baseline_wape: Some(0.5),
        };
        let with = StoredForecast { backtest: Some(backtest), ..forecast(HOUR_US + 1, 5.0) };
        assert!(store.record_forecast(&with).unwrap());
        assert!(!store.record_forecast(&with).unwrap());
        let kept = store.forecasts("orders", "company", "day", 0, 10 * HOUR_US).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].backtest, Some(backtest));
    }
}
