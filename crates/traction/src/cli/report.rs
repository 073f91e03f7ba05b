//! `traction report --from D --to D [--scope S] [--format md|html|csv|json]`: a period report a
//! manager can send on.

use std::io::{IsTerminal, Write};

use traction_kpi::scope::Scope;

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// First day of the period (inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Day after the period (exclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// company (default), team:ID or user:ID.
    #[arg(long, default_value = "company")]
    pub scope: String,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let zone = store.workspace()?.zone;
    let day = |flag: &str, text: &str| -> Result<(i64, String)> {
        let date = traction_domain::time::parse_date(text)
            .map_err(|e| Failure::Input(format!("{flag}: {e}")))?;
        let at = traction_domain::time::start_of_day(date, &zone)?;
        Ok((at, date.to_string()))
    };
    let from = day("--from", &args.from)?;
    let to = day("--to", &args.to)?;
    if to.0 <= from.0 {
        return Err(Failure::Input("--to must be after --from (the range is [from, to))".into()));
    }
    let scope = Scope::parse(&args.scope).map_err(|e| Failure::Input(e.to_string()))?;
    let now = ctx.now(&*store)?;
    let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    let report = traction_server::report::build(
        &*store,
        &catalog,
        &traction_forecast::kpi::Source::new(&*store, &catalog),
        scope,
        from,
        to,
        now,
    )
    .map_err(super::kpi::kpi_error)?;
    let format = match ctx.global.format.as_deref() {
        Some(f) => f.to_ascii_lowercase(),
        None if std::io::stdout().is_terminal() => "md".to_string(),
        None => "json".to_string(),
    };
    let text = match format.as_str() {
        "md" | "markdown" => traction_render::report::markdown(&report),
        "html" => traction_render::report::html(&report),
        "csv" => traction_render::report::csv(&report),
        "json" => format!("{}\n", traction_server::wire::report(&report)),
        other => {
            return Err(Failure::Input(format!(
                "--format {other:?}: a report is md, html, csv or json"
            )));
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
