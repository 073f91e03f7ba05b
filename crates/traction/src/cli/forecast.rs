//! `traction forecast METRIC`, `traction forecast history METRIC` and
//! `traction forecast pipeline` (spec: monitoring.md, Forecasts).
//!
//! Flags become a `traction_forecast::service::Request` here, once; the forecast crate does the
//! rest. A forecast printed is a forecast shown: it is kept in the forecast history.

use std::io::Write;
use std::path::PathBuf;

use traction_forecast::ErrorKind;
use traction_forecast::pipeline::Period;
use traction_forecast::service::{self, Request};
use traction_kpi::scope::Scope;
use traction_metrics::Catalog;
use traction_store::Backend;

use super::metric::load_catalog;
use super::{Context, Failure, Result};
use crate::output::{Format, Table, human_number};

/// `traction forecast METRIC [--scope S] [--grain day|week] [--horizon N] [--level 0.8]`,
/// `traction forecast history METRIC […]`, `traction forecast pipeline [--period month|quarter]`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A metric to forecast (a count or a sum: see `traction metrics list`), or `history`
    /// followed by a metric (past forecasts against what happened), or `pipeline` (open deals
    /// per stage, weighted by configured and historical win rates).
    pub what: String,
    /// The metric, after `history`.
    pub metric: Option<String>,
    /// company (default), team:ID or user:ID.
    #[arg(long)]
    pub scope: Option<String>,
    /// day (default) or week.
    #[arg(long)]
    pub grain: Option<String>,
    /// Buckets ahead, from the one holding --at (default 14 days or 8 weeks).
    #[arg(long)]
    pub horizon: Option<String>,
    /// The interval's level, between 0 and 1 (default 0.8).
    #[arg(long)]
    pub level: Option<String>,
    /// history: forecasts made in this many days before --at (default 90).
    #[arg(long, default_value_t = 90)]
    pub days: i64,
    /// pipeline: month (default) or quarter holding --at.
    #[arg(long)]
    pub period: Option<String>,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<PathBuf>,
}

pub fn forecast_error(e: traction_forecast::Error) -> Failure {
    match e.kind() {
        ErrorKind::Input | ErrorKind::NotFound => Failure::Input(e.to_string()),
        ErrorKind::Busy | ErrorKind::Failure => Failure::Runtime(e.to_string()),
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |p| format!("{:.1}%", p * 100.0))
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let format = ctx.format()?;
    let catalog = load_catalog(args.metrics.as_deref())?;
    let store = ctx.store()?;
    let at = ctx.now(&*store)?;
    match args.what.as_str() {
        "pipeline" => pipeline(&*store, &catalog, &args, at, format),
        "history" => {
            let Some(metric) = args.metric.as_deref() else {
                return Err(Failure::Input(
                    "forecast history needs a metric: traction forecast history METRIC".into(),
                ));
            };
            let request = request(metric, &args, at)?;
            if args.days < 1 {
                return Err(Failure::Input("--days must be at least 1".into()));
            }
            let past =
                service::past(&*store, &catalog, &request, args.days).map_err(forecast_error)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if format == Format::Json {
                writeln!(out, "{}", traction_server::wire::forecast_past(&past))?;
            } else {
                let human = format == Format::Table;
                let mut table =
                    Table::new(&["made_at", "period", "value", "low", "high", "actual", "inside"]);
                for (idx, numeric) in table.numeric.iter_mut().enumerate() {
                    *numeric = (2..6).contains(&idx);
                }
                let number = |x: f64| if human { human_number(x) } else { x.to_string() };
                for r in &past.rows {
                    table.rows.push(vec![
                        r.made_text.clone(),
                        r.period.clone(),
                        number(r.value),
                        number(r.low),
                        number(r.high),
                        r.actual.map(number).unwrap_or_default(),
                        match r.actual {
                            None => String::new(),
                            Some(a) => (a >= r.low && a <= r.high).to_string(),
                        },
                    ]);
                }
                if human {
                    table.write_text(&mut out)?;
                } else {
                    table.write_csv(&mut out)?;
                }
            }
            out.flush()?;
            Ok(())
        }
        metric => {
            if args.metric.is_some() {
                return Err(Failure::Input(format!(
                    "forecast takes one metric; {:?} is one too many (did you mean `traction forecast history {metric}`?)",
                    args.metric.unwrap_or_default()
                )));
            }
            let request = request(metric, &args, at)?;
            let made = service::show(&*store, &catalog, &request).map_err(forecast_error)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match format {
                Format::Json => writeln!(out, "{}", traction_server::wire::forecast(&made))?,
                Format::Csv | Format::Table => {
                    let human = format == Format::Table;
                    let mut table = Table::new(&["period", "value", "low", "high"]);
                    for (idx, numeric) in table.numeric.iter_mut().enumerate() {
                        *numeric = idx > 0;
                    }
                    let number = |x: f64| if human { human_number(x) } else { x.to_string() };
                    for r in &made.rows {
                        table.rows.push(vec![
                            r.period.clone(),
                            number(r.value),
                            number(r.low),
                            number(r.high),
                        ]);
                    }
                    if human {
                        table.write_text(&mut out)?;
                        writeln!(
                            out,
                            "\n{} at {:.0}%, from {} {}s of history since {}",
                            made.model,
                            made.level * 100.0,
                            made.history_buckets,
                            made.step.name(),
                            made.history_from
                        )?;
                        match &made.backtest {
                            Some(b) => writeln!(
                                out,
                                "backtest: {} folds of {} {}s: MAPE {}, WAPE {}, MASE {}; seasonal naive WAPE {}",
                                b.folds,
                                b.horizon,
                                made.step.name(),
                                percent(b.mape),
                                percent(b.wape),
                                b.mase.map_or_else(|| "–".to_string(), |m| format!("{m:.2}")),
                                percent(b.baseline_wape)
                            )?,
                            None => writeln!(out, "backtest: the history is too short for one")?,
                        }
                    } else {
                        table.write_csv(&mut out)?;
                    }
                }
            }
            out.flush()?;
            Ok(())
        }
    }
}

fn request(metric: &str, args: &Args, at: i64) -> Result<Request> {
    Request::parse(
        metric,
        args.scope.as_deref(),
        args.grain.as_deref(),
        args.horizon.as_deref(),
        args.level.as_deref(),
        at,
    )
    // A parameter's name in the request's error is its flag's here.
    .map_err(|e| match e {
        traction_forecast::Error::Input(input) => Failure::Input(format!("--{input}")),
        e => forecast_error(e),
    })
}

fn pipeline(
    store: &dyn Backend,
    catalog: &Catalog,
    args: &Args,
    at: i64,
    format: Format,
) -> Result<()> {
    let scope = match args.scope.as_deref() {
        None => Scope::Company,
        Some(text) => Scope::parse(text).map_err(|e| Failure::Input(format!("--scope: {e}")))?,
    };
    let period = match args.period.as_deref() {
        None => Period::Month,
        Some(text) => Period::parse(text).map_err(|e| Failure::Input(format!("--{e}")))?,
    };
    let made = service::pipeline(store, catalog, &scope, period, at).map_err(forecast_error)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == Format::Json {
        writeln!(out, "{}", traction_server::wire::pipeline_forecast(&made))?;
        out.flush()?;
        return Ok(());
    }
    let human = format == Format::Table;
    let major = |minor: f64| minor / made.minor_per_major as f64;
    let number = |x: f64| if human { human_number(x) } else { x.to_string() };
    let rate = |x: Option<f64>| match (x, human) {
        (None, true) => "–".to_string(),
        (None, false) => String::new(),
        (Some(p), true) => format!("{:.1}%", p * 100.0),
        (Some(p), false) => p.to_string(),
    };
    let mut table = Table::new(&[
        "pipeline",
        "stage",
        "deals",
        "amount",
        "probability",
        "historical",
        "closed",
        "weighted_configured",
        "weighted_historical",
    ]);
    for (idx, numeric) in table.numeric.iter_mut().enumerate() {
        *numeric = idx >= 2;
    }
    for r in &made.rows {
        table.rows.push(vec![
            r.pipeline_id.clone(),
            r.stage.clone(),
            r.deals.len().to_string(),
            number(major(r.amount as f64)),
            rate(Some(r.probability)),
            rate(r.historical_win_rate()),
            (r.won + r.lost).to_string(),
            number(major(r.weighted_configured)),
            r.weighted_historical.map(|w| number(major(w))).unwrap_or_else(|| rate(None)),
        ]);
    }
    table.rows.push(vec![
        "total".into(),
        String::new(),
        made.rows.iter().map(|r| r.deals.len()).sum::<usize>().to_string(),
        number(major(made.total_amount() as f64)),
        String::new(),
        String::new(),
        String::new(),
        number(major(made.total_configured())),
        number(major(made.total_historical())),
    ]);
    if human {
        table.write_text(&mut out)?;
        writeln!(
            out,
            "\nopen deals expected to close in the {} {} – {} (overdue ones included); {} open deal(s) have no expected close date",
            made.period,
            made.from,
            made.to.yesterday().unwrap_or(made.to),
            made.without_close_date
        )?;
    } else {
        table.write_csv(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
