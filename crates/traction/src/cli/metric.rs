//! `traction metric NAME …`, `traction metrics list|check`, `traction funnel …`
//! (spec: interfaces.md, Command line; metrics.md, Query semantics).
//!
//! Flags become a `traction_metrics::Query` here, once: dates and timestamps are read in the
//! workspace zone, grains and comparisons are parsed, and the engine does the rest. Tables are
//! for people (money with thousands separators, rates as percentages); JSON and CSV carry the
//! full-precision values.

use std::io::Write;
use std::path::{Path, PathBuf};
use traction_domain::money::grouped;

use traction_domain::Currency;
use traction_domain::time::parse_instant;
use traction_metrics::catalog::Unit;
use traction_metrics::{
    Catalog, Compare, FunnelQuery, FunnelResult, Grain, MetricResult, Query, parse_by,
};
use traction_store::Backend;

use super::{Context, Failure, Result};
use crate::output::{Format, Table};

/// `traction metric NAME --from D --to D [--grain G] [--by DIM[,DIM]] [--where EXPR]
/// [--compare previous|yoy]`.
#[derive(Debug, clap::Args)]
pub struct MetricArgs {
    /// The metric (see `traction metrics list`).
    pub name: String,
    /// Start of the range, inclusive: a date or a timestamp, local to the workspace zone.
    #[arg(long)]
    pub from: String,
    /// End of the range, exclusive.
    #[arg(long)]
    pub to: String,
    /// hour, day, week, month, quarter, year or all.
    #[arg(long, default_value = "all")]
    pub grain: String,
    /// Dimensions to group by, comma-separated (owner,team,source,…; weekday, hour_of_day).
    #[arg(long, value_name = "DIM[,DIM]")]
    pub by: Option<String>,
    /// A filter in the expression language, e.g. "amount >= 1000 and source = 'web'".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Add the value of the bucket before (previous) or a year before (yoy), and the change.
    #[arg(long)]
    pub compare: Option<String>,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<PathBuf>,
}

/// `traction metrics list` and `traction metrics check FILE`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub action: MetricsAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum MetricsAction {
    /// The catalog: every metric with its label, unit, better direction and indicator.
    List {
        /// A definitions file adding to or overriding the built-in catalog.
        #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
        metrics: Option<PathBuf>,
    },
    /// Validate a definitions file: every problem of every definition, in one run.
    Check {
        /// The definitions file (TOML, see docs/metrics.md).
        file: PathBuf,
    },
    /// Store a metric of your own in the workspace: FILE holds one [metric.NAME] table, checked
    /// first as `metrics check` does; every later command and a running server know it.
    Add {
        /// The definition (TOML; `-` reads standard input).
        file: PathBuf,
        /// A definitions file the metric may build on (as `--metrics` elsewhere).
        #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
        metrics: Option<PathBuf>,
    },
    /// Replace the definition of a metric of your own (refused while targets or alert rules
    /// use it).
    Edit {
        /// The new definition (TOML; `-` reads standard input).
        file: PathBuf,
        #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
        metrics: Option<PathBuf>,
    },
    /// Delete a metric of your own (refused while targets or alert rules use it).
    Delete {
        /// The metric's name.
        name: String,
    },
}

/// `traction funnel [--pipeline ID] --from D --to D [--where EXPR]`.
#[derive(Debug, clap::Args)]
pub struct FunnelArgs {
    /// Only this pipeline (default: every pipeline).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Deals created from this date or timestamp (inclusive).
    #[arg(long)]
    pub from: String,
    /// … up to this one (exclusive).
    #[arg(long)]
    pub to: String,
    /// A filter on deals in the expression language.
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
}

/// The engine's error as the command's: what the user fixes is bad input (exit 2).
pub fn engine_error(e: traction_metrics::Error) -> Failure {
    use traction_metrics::ErrorKind;
    match e {
        traction_metrics::Error::Storage(m) | traction_metrics::Error::Busy(m) => {
            Failure::Runtime(m)
        }
        e => match e.kind() {
            ErrorKind::Input | ErrorKind::NotFound => Failure::Input(e.to_string()),
            ErrorKind::Busy | ErrorKind::Storage => Failure::Runtime(e.to_string()),
        },
    }
}

/// The `--where` as written, parsed once here.
pub fn where_filter(text: Option<&str>) -> Result<traction_metrics::Filter> {
    traction_metrics::Filter::parse(text.unwrap_or_default())
        .map_err(|e| engine_error(traction_metrics::Error::Where(e)))
}

/// The built-in catalog, with a user's definitions file over it when one is given.
pub fn load_catalog(file: Option<&Path>) -> Result<Catalog> {
    let Some(path) = file else { return Ok(Catalog::builtin()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
    Catalog::load(&text).map_err(|d| {
        let lines: Vec<String> = d.0.iter().map(|d| format!("{}: {d}", path.display())).collect();
        Failure::Input(lines.join("\n"))
    })
}

/// The workspace's catalog: the built-in metrics, its event kinds' metrics, its own stored
/// definitions, then the definitions file when one is given (docs/own-goals.md, Precedence).
pub fn workspace_catalog(store: &dyn Backend, file: Option<&Path>) -> Result<Catalog> {
    let text = file
        .map(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))
        })
        .transpose()?;
    match traction_metrics::catalog::workspace::load(store, text.as_deref()) {
        Ok(loaded) => {
            if !loaded.left_out.0.is_empty() {
                eprintln!(
                    "warning: metrics of yours left out because they no longer check:\n{}",
                    loaded.left_out
                );
            }
            Ok(loaded.catalog)
        }
        Err(Err(e)) => Err(e.into()),
        Err(Ok(d)) => {
            let name = file.map_or(String::new(), |p| format!("{}: ", p.display()));
            let lines: Vec<String> = d.0.iter().map(|d| format!("{name}{d}")).collect();
            Err(Failure::Input(lines.join("\n")))
        }
    }
}

/// A flag's date or timestamp, read in the workspace's zone.
fn instant(flag: &str, text: &str, zone: &jiff::tz::TimeZone) -> Result<i64> {
    parse_instant(text, zone).map_err(|e| Failure::Input(format!("--{flag}: {e}")))
}

pub fn run_metric(ctx: &Context, args: MetricArgs) -> Result<()> {
    let format = ctx.format()?;
    let grain = Grain::parse(&args.grain).map_err(|e| Failure::Input(format!("--{e}")))?;
    let compare = match args.compare.as_deref() {
        None => None,
        Some(text) => Some(Compare::parse(text).map_err(|e| Failure::Input(format!("--{e}")))?),
    };
    let store = ctx.store()?;
    let catalog = workspace_catalog(&*store, args.metrics.as_deref())?;
    // The workspace is read once: the flags are read in its zone and the query run in it.
    let env = traction_metrics::workspace_env(&*store).map_err(engine_error)?;
    let query = Query {
        metric: args.name,
        from: instant("from", &args.from, &env.zone)?,
        to: instant("to", &args.to, &env.zone)?,
        grain,
        by: args.by.as_deref().map(parse_by).unwrap_or_default(),
        filter: where_filter(args.filter.as_deref())?,
        compare,
        at: ctx.now_in(&env.zone)?,
    };
    let result = traction_metrics::run_in(&*store, &catalog, &query, &env).map_err(engine_error)?;
    let currency = env.currency;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => writeln!(out, "{}", traction_server::wire::metric_result(&result))?,
        Format::Csv => metric_table(&result, currency, false).write_csv(&mut out)?,
        Format::Table => metric_table(&result, currency, true).write_text(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// The rows as a table: for people (`human`) or as full-precision CSV cells.
fn metric_table(result: &MetricResult, currency: Currency, human: bool) -> Table {
    let mut headers: Vec<&str> = Vec::new();
    let with_period = result.grain != Grain::All;
    if with_period {
        headers.push("period");
    }
    headers.extend(result.by.iter().map(String::as_str));
    headers.push("value");
    if result.ratio {
        headers.extend(["numerator", "denominator"]);
    }
    if result.compare.is_some() {
        headers.extend(["previous", "change", "compared_from", "compared_to"]);
    }
    let mut table = Table::new(&headers);
    let first_number = usize::from(with_period) + result.by.len();
    // The compared stretch's bounds are text.
    let last_number = headers.len() - if result.compare.is_some() { 2 } else { 0 };
    for (idx, numeric) in table.numeric.iter_mut().enumerate() {
        *numeric = idx >= first_number && idx < last_number;
    }
    // Ratios' parts are in the unit of what they divide: money for win_rate_by_value, counts
    // for win_rate; shown plainly.
    let value = |x: Option<f64>, unit: Option<Unit>| -> String {
        match x {
            None => {
                if human {
                    "–".into()
                } else {
                    String::new()
                }
            }
            Some(v) if !human => v.to_string(),
            Some(v) => match unit {
                Some(Unit::Money) => money(v, currency),
                Some(Unit::Ratio) => format!("{:.1}%", v * 100.0),
                Some(Unit::Percent) => format!("{}%", grouped(v, 1)),
                Some(Unit::Count) => grouped(v, if v.fract() == 0.0 { 0 } else { 2 }),
                _ => grouped(v, 2),
            },
        }
    };
    for row in &result.rows {
        let mut cells = Vec::new();
        if with_period {
            cells.push(row.period.clone().unwrap_or_default());
        }
        cells.extend(row.dims.iter().map(|d| {
            let text = d.text();
            if text.is_empty() && human { "(none)".to_string() } else { text }
        }));
        cells.push(value(row.value, Some(result.unit)));
        if result.ratio {
            cells.push(value(row.numerator, None));
            cells.push(value(row.denominator, None));
        }
        if result.compare.is_some() {
            cells.push(value(row.previous, Some(result.unit)));
            cells.push(match row.change {
                Some(c) if human => format!("{:+.1}%", c * 100.0),
                other => value(other, None),
            });
            // The stretch compared: whole, or for a period in progress the same part of it.
            let (from, to) = row
                .compared
                .as_ref()
                .map_or_else(Default::default, |c| (c.from_text.clone(), c.to_text.clone()));
            cells.push(from);
            cells.push(to);
        }
        table.rows.push(cells);
    }
    table
}

/// Money in major units with the currency's decimals and thousands separators: `12,500.00 GBP`.
fn money(x: f64, currency: Currency) -> String {
    format!("{} {}", grouped(x, usize::from(currency.exponent())), currency.code())
}

pub fn run_metrics(ctx: &Context, args: MetricsArgs) -> Result<()> {
    match args.action {
        MetricsAction::List { metrics } => {
            let format = ctx.format()?;
            let store = ctx.store()?;
            let catalog = workspace_catalog(&*store, metrics.as_deref())?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if format == Format::Json {
                writeln!(out, "{}", traction_server::wire::catalog(&catalog))?;
                return Ok(());
            }
            let mut headers = vec!["name", "label", "kind", "unit", "better", "indicator"];
            if format == Format::Csv {
                headers.push("description");
            }
            let mut table = Table::new(&headers);
            for m in catalog.metrics() {
                let mut row = vec![
                    m.name.clone(),
                    m.label.clone(),
                    m.kind.name().to_string(),
                    m.unit.name().to_string(),
                    m.better.name().to_string(),
                    m.indicator.name().to_string(),
                ];
                if format == Format::Csv {
                    row.push(m.description.clone());
                }
                table.rows.push(row);
            }
            match format {
                Format::Csv => table.write_csv(&mut out)?,
                _ => table.write_text(&mut out)?,
            }
            out.flush()?;
            Ok(())
        }
        MetricsAction::Add { file, metrics } => {
            save_definition(ctx, &file, metrics.as_deref(), false)
        }
        MetricsAction::Edit { file, metrics } => {
            save_definition(ctx, &file, metrics.as_deref(), true)
        }
        MetricsAction::Delete { name } => {
            let store = ctx.store()?;
            traction_kpi::definitions::delete(&*store, &cli_actor(ctx, &*store)?, &name)
                .map_err(refusal)?;
            eprintln!("metric {name} deleted");
            Ok(())
        }
        MetricsAction::Check { file } => {
            let catalog = load_catalog(Some(&file))?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", file.display())))?;
            // Count the file's own definitions, not the built-in ones under them.
            let own = traction_metrics::catalog::definition_names(&text);
            let builtin = Catalog::builtin();
            let overrides = own.iter().filter(|n| builtin.get(n).is_some()).count();
            eprintln!(
                "{}: {} definition{} valid ({} new, {} overriding built-in metrics); the catalog has {} metrics",
                file.display(),
                own.len(),
                if own.len() == 1 { "" } else { "s" },
                own.len() - overrides,
                overrides,
                catalog.metrics().len()
            );
            Ok(())
        }
    }
}

/// The audit log's actor of a command-line change.
fn cli_actor(ctx: &Context, store: &dyn Backend) -> Result<traction_store::Actor> {
    Ok(traction_store::Actor { user: "cli".into(), at: Some(ctx.now(store)?) })
}

fn refusal(r: traction_kpi::definitions::Refusal) -> Failure {
    match r {
        traction_kpi::definitions::Refusal::Storage(m) => Failure::Runtime(m),
        other => Failure::Input(other.to_string()),
    }
}

fn save_definition(
    ctx: &Context,
    file: &Path,
    metrics: Option<&Path>,
    editing: bool,
) -> Result<()> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::Input(format!("cannot read {}: {e}", file.display())))?
    };
    let file_text = metrics
        .map(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))
        })
        .transpose()?;
    let store = ctx.store()?;
    let actor = cli_actor(ctx, &*store)?;
    let at = ctx.now(&*store)?;
    let name =
        traction_kpi::definitions::save(&*store, &actor, file_text.as_deref(), &text, editing, at)
            .map_err(|r| match r {
                // Problems are named by their place in the file.
                traction_kpi::definitions::Refusal::Invalid(problems) => Failure::Input(
                    problems
                        .iter()
                        .map(|p| format!("{}: {p}", file.display()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                other => refusal(other),
            })?;
    eprintln!("metric {name} {}", if editing { "changed" } else { "added" });
    Ok(())
}

pub fn run_funnel(ctx: &Context, args: FunnelArgs) -> Result<()> {
    let format = ctx.format()?;
    let store = ctx.store()?;
    let env = traction_metrics::workspace_env(&*store).map_err(engine_error)?;
    let query = FunnelQuery {
        pipeline: args.pipeline,
        from: instant("from", &args.from, &env.zone)?,
        to: instant("to", &args.to, &env.zone)?,
        filter: where_filter(args.filter.as_deref())?,
        at: ctx.now_in(&env.zone)?,
    };
    let result = traction_metrics::funnel_in(&*store, &query, &env).map_err(engine_error)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => writeln!(out, "{}", traction_server::wire::funnel(&result))?,
        Format::Csv => funnel_table(&result, false).write_csv(&mut out)?,
        Format::Table => funnel_table(&result, true).write_text(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

fn funnel_table(result: &FunnelResult, human: bool) -> Table {
    let mut table =
        Table::new(&["pipeline", "stage", "position", "reached", "conversion_to_next", "leakage"]);
    table.numeric = vec![false, false, true, true, true, true];
    let rate = |x: Option<f64>| match x {
        None if human => "–".to_string(),
        None => String::new(),
        Some(v) if human => format!("{:.1}%", v * 100.0),
        Some(v) => v.to_string(),
    };
    for row in &result.rows {
        table.rows.push(vec![
            row.pipeline.clone(),
            row.stage.clone(),
            row.position.to_string(),
            if human { grouped(row.reached as f64, 0) } else { row.reached.to_string() },
            rate(row.conversion_to_next),
            rate(row.leakage),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(grouped(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-1500.0, 0), "-1,500");
        assert_eq!(grouped(-0.001, 2), "0.00");
        assert_eq!(money(14000.0, Currency::USD), "14,000.00 USD");
    }
}
