-- Version 16: the whole backtest kept with a forecast (spec: monitoring.md, Forecasts: the
-- backtest is shown wherever the forecast is, KPI tiles and reports included). A KPI's daily
-- forecast is made once a day per metric and scope and read back afterwards; keeping its
-- backtest beside it means a page shows how far to trust it without rerunning eight folds of
-- the model per view.
--
-- `backtest_folds` NULL: no backtest was kept with the forecast (those kept before this version
-- have `wape` and `baseline_wape` alone, and are read as having none). The figures are fractions
-- (0.12 is 12%), NULL where undefined (every actual 0).
-- Never edit this file once released: add a new version instead.

ALTER TABLE forecasts ADD COLUMN backtest_folds INTEGER;
ALTER TABLE forecasts ADD COLUMN backtest_horizon INTEGER;   -- buckets forecast per fold
ALTER TABLE forecasts ADD COLUMN mape REAL;
ALTER TABLE forecasts ADD COLUMN mase REAL;
