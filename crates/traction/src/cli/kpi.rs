//! `traction kpi status|breakdown|leaderboard`: targets against actuals, broken down to the hour
//! per head (spec: kpis.md; JSON shapes: interfaces.md).

use std::io::Write;

use traction_kpi::period::{Grain, PeriodKind};
use traction_kpi::scope::Scope;
use traction_kpi::service::{Kpis, Selection};

use super::{Context, Failure, Result};
use crate::output::{Format, Table, human_number};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, global = true, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// The figures at an instant (default now) of the targets whose period contains it: actual,
    /// expected, pace, status, projected, required rate per working hour (per head and for the
    /// scope), gap. A target that cannot be computed shows its error in its row.
    Status {
        /// Only the targets of this scope (company, team:ID or user:ID).
        #[arg(long)]
        scope: Option<String>,
        /// Every target, whatever its period (finished ones show achieved or missed).
        #[arg(long)]
        all: bool,
        /// Only targets of this period kind: week, month, quarter or year.
        #[arg(long)]
        period: Option<String>,
        /// Only the targets whose period starts on this day, finished or not (e.g. 2026-10-01
        /// for October and the fourth quarter).
        #[arg(long = "starts-on", value_name = "DATE")]
        starts_on: Option<String>,
    },
    /// A target broken down by week, day or hour, for its scope or per head.
    Breakdown {
        /// The target's id.
        target: String,
        /// week, day or hour.
        #[arg(long, default_value = "day")]
        grain: String,
        /// One row per period and head (the reps of the scope, each with their share).
        #[arg(long = "per-head")]
        per_head: bool,
    },
    /// The heads of a team or company target, ranked by pace.
    Leaderboard {
        /// The target's id.
        target: String,
    },
}

/// The KPI layer's error as the command's: what the user fixes is bad input (exit 2).
pub fn kpi_error(e: traction_kpi::service::Error) -> Failure {
    match e {
        traction_kpi::service::Error::Invalid(m) | traction_kpi::service::Error::NotFound(m) => {
            Failure::Input(m)
        }
        traction_kpi::service::Error::Metrics(e) => super::metric::engine_error(e),
        e
        @ (traction_kpi::service::Error::Value(_) | traction_kpi::service::Error::Forecast(_)) => {
            Failure::Input(e.to_string())
        }
        traction_kpi::service::Error::Store(e) => e.into(),
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), human_number)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |p| format!("{:.1}%", p * 100.0))
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let at = ctx.now(&*store)?;
    let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    // The engine with forecasts: KPI rows carry where each target is forecast to land.
    let engine = traction_forecast::kpi::Source::new(&*store, &catalog);
    let kpis = Kpis { store: &*store, metrics: &engine };
    let format = ctx.format()?;
    let mut out = std::io::stdout().lock();
    match args.action {
        Action::Status { scope, all, period, starts_on } => {
            let selection = Selection {
                scope: scope
                    .map(|s| Scope::parse(&s).map_err(|e| Failure::Input(format!("--scope: {e}"))))
                    .transpose()?,
                all,
                period: period
                    .map(|p| {
                        PeriodKind::parse(&p).map_err(|e| Failure::Input(format!("--period: {e}")))
                    })
                    .transpose()?,
                starts_on: starts_on
                    .map(|d| {
                        d.trim().parse::<jiff::civil::Date>().map_err(|_| {
                            Failure::Input(format!(
                                "--starts-on: {d:?} is not a date: write YYYY-MM-DD"
                            ))
                        })
                    })
                    .transpose()?,
            };
            let rows = kpis.status(at, &selection).map_err(kpi_error)?;
            // A target that cannot be computed says why, beside the others' figures.
            for message in rows.iter().filter_map(|r| r.error.as_deref()) {
                eprintln!("{message}");
            }
            if format == Format::Json {
                writeln!(out, "{}", traction_server::wire::status(at, &rows))?;
                return Ok(());
            }
            let mut table = Table::new(&[
                "target",
                "metric",
                "scope",
                "starts_on",
                "target_value",
                "actual",
                "expected",
                "pace",
                "status",
                "projected",
                "forecast (80%)",
                "backtest wape (naive)",
                "required/h/head",
                "required/h/scope",
                "gap",
            ]);
            table.numeric = vec![
                false, false, false, false, true, true, true, true, false, true, true, true, true,
                true, true,
            ];
            for r in &rows {
                let f = &r.figures;
                table.rows.push(vec![
                    r.target.id.clone(),
                    r.target.metric.clone(),
                    r.target.scope.to_string(),
                    r.target.starts_on.to_string(),
                    human_number(r.target.value),
                    opt(f.actual),
                    human_number(f.expected),
                    percent(f.pace),
                    f.status.name().replace('_', " "),
                    opt(f.projected),
                    // Where it is forecast to land, and how far to trust the model behind it
                    // (spec: monitoring.md: the backtest is shown with every forecast).
                    r.forecast.map_or_else(
                        || "–".to_string(),
                        |b| {
                            format!(
                                "{} ({}–{})",
                                human_number(b.value),
                                human_number(b.low),
                                human_number(b.high)
                            )
                        },
                    ),
                    r.forecast.and_then(|b| b.backtest).map_or_else(
                        || "–".to_string(),
                        |b| format!("{} ({})", percent(b.wape), percent(b.baseline_wape)),
                    ),
                    opt(f.required_rate),
                    opt(f.required_rate_scope),
                    opt(f.gap),
                ]);
            }
            if format == Format::Csv {
                table.write_csv(&mut out)?;
            } else if rows.is_empty() {
                eprintln!(
                    "no targets to show: `--all` lists every target, or set one with `traction target set …` (see `traction target set --help`)"
                );
            } else {
                table.write_text(&mut out)?;
            }
        }
        Action::Breakdown { target, grain, per_head } => {
            let g = Grain::parse(&grain).map_err(|e| Failure::Input(e.to_string()))?;
            let rows = kpis.breakdown(&target, g, per_head, at).map_err(kpi_error)?;
            if format == Format::Json {
                writeln!(
                    out,
                    "{}",
                    traction_server::wire::breakdown(&target, &grain.to_ascii_lowercase(), &rows)
                )?;
                return Ok(());
            }
            let mut table = if per_head {
                Table::new(&["period", "user", "value"])
            } else {
                Table::new(&["period", "value"])
            };
            table.numeric = if per_head { vec![false, false, true] } else { vec![false, true] };
            for r in &rows {
                let value =
                    if format == Format::Csv { r.value.to_string() } else { human_number(r.value) };
                table.rows.push(match &r.user {
                    Some(u) => vec![r.period.clone(), u.clone(), value],
                    None => vec![r.period.clone(), value],
                });
            }
            if format == Format::Csv {
                table.write_csv(&mut out)?
            } else {
                table.write_text(&mut out)?
            }
        }
        Action::Leaderboard { target } => {
            let rows = kpis.leaderboard(&target, at).map_err(kpi_error)?;
            if format == Format::Json {
                writeln!(out, "{}", traction_server::wire::leaderboard(&target, at, &rows))?;
                return Ok(());
            }
            let mut table =
                Table::new(&["rank", "user", "target_value", "actual", "expected", "pace", "band"]);
            table.numeric = vec![true, false, true, true, true, true, false];
            for r in &rows {
                table.rows.push(vec![
                    r.rank.to_string(),
                    r.user.clone(),
                    human_number(r.target_value),
                    opt(r.figures.actual),
                    human_number(r.figures.expected),
                    percent(r.figures.pace),
                    r.band.to_string(),
                ]);
            }
            if format == Format::Csv {
                table.write_csv(&mut out)?
            } else {
                table.write_text(&mut out)?
            }
        }
    }
    Ok(())
}
