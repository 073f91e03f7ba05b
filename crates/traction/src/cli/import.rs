//! `traction import ENTITY FILE [--format csv|ndjson]`.

use std::fs::File;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use traction_domain::Entity;
use traction_import::{ImportFailure, ImportOptions};

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The entity the file holds (teams, users, accounts, contacts, campaigns, pipelines, stages,
    /// deals, stage_changes, leads, activities, products, orders, order_lines,
    /// inventory_movements, costs, web_visits, email_events, surveys, targets).
    pub entity: String,
    /// The file: .csv, or .ndjson/.jsonl (one JSON object a line).
    pub file: PathBuf,
    /// How many errors to list before stopping.
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
    /// A definitions file adding to or overriding the built-in catalog (targets may name its
    /// metrics; each target is checked against the catalog).
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let entity = Entity::parse(&args.entity).map_err(Failure::Input)?;
    // `--format` names the file's format here; without it, the extension does.
    let format = match ctx.global.format.as_deref() {
        Some(text) => traction_import::Format::parse(text).map_err(Failure::Input)?,
        None => traction_import::Format::from_path(&args.file).ok_or_else(|| {
            Failure::Input(format!(
                "cannot tell the format of {} from its name: use a .csv, .ndjson or .jsonl file, or pass --format csv|ndjson",
                args.file.display()
            ))
        })?,
    };
    let file = File::open(&args.file)
        .map_err(|e| Failure::Input(format!("cannot open {}: {e}", args.file.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = ctx.store()?;
    let now = ctx.now(&store)?;
    let file_name = args
        .file
        .file_name()
        .map_or_else(|| args.file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let options = ImportOptions { file_name, format, max_errors: args.max_errors, now };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(format!("importing {entity}"));
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let catalog = super::metric::load_catalog(args.metrics.as_deref())?;
    let currency = traction_store::Store::workspace(&store)?.currency;
    let engine = traction_kpi::engine::Engine { store: &store, catalog: &catalog };
    // spec: kpis.md, Targets: the same check of a target as `target set`, the API and the web.
    let check = |record: &traction_domain::Record| {
        traction_kpi::check::check_target(&engine, record, currency)
    };
    let result =
        traction_import::import_checked(&store, entity, file, &options, &check, &mut |bytes| {
            bar.set_position(bytes);
        });
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            let s = &report.summary;
            eprintln!(
                "imported {} {entity} rows from {}: {} new, {} updated, {} unchanged ({:.1}s, {:.0} rows/s)",
                report.rows,
                options.file_name,
                s.created,
                s.updated,
                s.unchanged,
                secs,
                report.rows as f64 / secs.max(1e-9)
            );
            Ok(())
        }
        Err(ImportFailure::Invalid { errors, total }) => {
            for e in &errors {
                eprintln!("{e}");
            }
            let more = total.saturating_sub(errors.len());
            let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            Err(Failure::Input(format!(
                "{total} error{} in {}{more}: nothing was imported; fix the lines above and import the file again",
                if total == 1 { "" } else { "s" },
                options.file_name
            )))
        }
        Err(ImportFailure::Io(message)) => Err(Failure::Runtime(message)),
    }
}
