//! `traction import ENTITY FILE [--format csv|ndjson] [--mapping MAP.toml | --from TOOL] [--dry-run]`
//! and `traction import salesforce DIR`.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use traction_domain::Entity;
use traction_import::mapping::Mapping;
use traction_import::presets::{self, PRESETS};
use traction_import::{ImportFailure, ImportOptions, ImportReport};
use traction_store::Backend;

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The entity the file holds (teams, users, accounts, contacts, campaigns, pipelines, stages,
    /// deals, stage_changes, leads, activities, products, orders, order_lines,
    /// inventory_movements, costs, web_visits, email_events, surveys, targets); or `salesforce`
    /// with a folder of Salesforce object exports.
    pub entity: String,
    /// The file: .csv, or .ndjson/.jsonl (one JSON object a line); a folder for `salesforce`.
    pub file: PathBuf,
    /// How many errors to list before stopping.
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
    /// Read the file through this mapping (TOML): another tool's columns, dates and names.
    #[arg(long, conflicts_with = "from")]
    pub mapping: Option<PathBuf>,
    /// Read the file through a preset mapping: hubspot, salesforce or pipedrive.
    #[arg(long)]
    pub from: Option<String>,
    /// Read and check everything, report what would be created, updated and left unchanged,
    /// and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A definitions file adding to or overriding the built-in catalog (targets may name its
    /// metrics; each target is checked against the catalog).
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    if args.entity.trim().eq_ignore_ascii_case("salesforce") {
        return salesforce_folder(ctx, &args);
    }
    let entity = Entity::parse(&args.entity)?;
    let mapping = match (&args.mapping, &args.from) {
        (Some(path), _) => Some(super::mapping::read_mapping(path)?),
        (None, Some(tool)) => {
            let preset = presets::for_entity(tool, entity).map_err(Failure::input)?;
            Some(preset.mapping().map_err(|e| Failure::Runtime(e.join("\n")))?)
        }
        (None, None) => None,
    };
    if let Some(m) = &mapping
        && !m.targets.iter().any(|t| t.entity == entity)
    {
        return Err(Failure::Input(format!(
            "the mapping {} gives {}, not {entity}: import the file as one of those",
            m.name,
            m.targets.iter().map(|t| t.entity.name()).collect::<Vec<_>>().join(", ")
        )));
    }
    // `--format` names the file's format here; without it, the extension does. A mapped file is
    // read as delimited text whatever its name.
    let format = match ctx.global.format.as_deref() {
        Some(text) => traction_import::Format::parse(text).map_err(Failure::input)?,
        None => match traction_import::Format::from_path(&args.file) {
            Some(f) => f,
            None if mapping.is_some() => traction_import::Format::Csv,
            None => {
                return Err(Failure::Input(format!(
                    "cannot tell the format of {} from its name: use a .csv, .ndjson or .jsonl file, or pass --format csv|ndjson",
                    args.file.display()
                )));
            }
        },
    };
    let store = ctx.store()?;
    import_one(ctx, &*store, entity, &args.file, format, mapping.as_ref(), &args)
}

fn import_one(
    ctx: &Context,
    store: &dyn Backend,
    entity: Entity,
    path: &Path,
    format: traction_import::Format,
    mapping: Option<&Mapping>,
    args: &Args,
) -> Result<()> {
    let file = File::open(path)
        .map_err(|e| Failure::Input(format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let now = ctx.now(store)?;
    let file_name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
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
    // spec: kpis.md, Targets: the same check of a target as `target set`, the API and the web,
    // through a mapping and in a dry run too.
    let catalog = super::metric::workspace_catalog(store, args.metrics.as_deref())?;
    let currency = traction_store::Store::workspace(store)?.currency;
    let engine = traction_kpi::engine::Engine { store, catalog: &catalog };
    let check = |record: &traction_domain::Record| {
        traction_kpi::check::check_target(&engine, record, currency)
    };
    let mut progress = |bytes| bar.set_position(bytes);
    let result = match mapping {
        Some(m) => traction_import::import_mapped(
            store,
            m,
            file,
            &options,
            &check,
            args.dry_run,
            &mut progress,
        ),
        None if args.dry_run => {
            traction_import::dry_run(store, entity, file, &options, &check, &mut progress)
        }
        None => {
            traction_import::import_checked(store, entity, file, &options, &check, &mut progress)
        }
    };
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            print_report(&report, entity, &options.file_name, started.elapsed().as_secs_f64());
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
        Err(failure @ (ImportFailure::Io(_) | ImportFailure::Read(_))) => {
            Err(Failure::Runtime(failure.to_string()))
        }
    }
}

fn print_report(report: &ImportReport, entity: Entity, file: &str, secs: f64) {
    let s = &report.summary;
    if report.dry_run {
        eprintln!(
            "dry run of {file}: {} rows read, no errors; nothing was stored. It would give:",
            report.rows
        );
    } else {
        eprintln!(
            "imported {} {entity} rows from {file}: {} new, {} updated, {} unchanged ({:.1}s, {:.0} rows/s)",
            report.rows,
            s.created,
            s.updated,
            s.unchanged,
            secs,
            report.rows as f64 / secs.max(1e-9)
        );
    }
    if report.dry_run
        || report.by_entity.len() > 1
        || report.by_entity.iter().any(|c| c.skipped > 0)
    {
        for c in &report.by_entity {
            eprintln!("  {}", c.line());
        }
    }
}

/// `traction import salesforce DIR`: every object file the folder holds, references first, in
/// one transaction (all files or nothing; a dry run checks each file against the ones before).
fn salesforce_folder(ctx: &Context, args: &Args) -> Result<()> {
    let dir = &args.file;
    if !dir.is_dir() {
        return Err(Failure::Input(format!(
            "{} is not a folder: `traction import salesforce DIR` takes the folder of a Salesforce export (Account.csv, Opportunity.csv, …)",
            dir.display()
        )));
    }
    let store = ctx.store()?;
    let mut mappings = Vec::new();
    for preset in PRESETS.iter().filter(|p| p.tool == "salesforce") {
        let Some(name) = preset.file else { continue };
        let path = dir.join(name);
        if path.is_file() {
            let mapping = preset.mapping().map_err(|e| Failure::Runtime(e.join("\n")))?;
            mappings.push((mapping, path, name));
        }
    }
    if mappings.is_empty() {
        return Err(Failure::Input(format!(
            "{} holds none of the Salesforce object files {}: export the objects with their API field names (Data Loader or the Bulk API)",
            dir.display(),
            PRESETS.iter().filter_map(|p| p.file).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut files = Vec::new();
    for (mapping, path, name) in &mappings {
        let input = File::open(path)
            .map_err(|e| Failure::Input(format!("cannot open {}: {e}", path.display())))?;
        files.push(traction_import::MappedFile { mapping, input, file_name: name.to_string() });
    }
    let folder = dir.display().to_string();
    let options = ImportOptions {
        file_name: folder.clone(),
        format: traction_import::Format::Csv,
        max_errors: args.max_errors,
        now: ctx.now(&*store)?,
    };
    let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    let currency = traction_store::Store::workspace(&*store)?.currency;
    let engine = traction_kpi::engine::Engine { store: &*store, catalog: &catalog };
    let check = |record: &traction_domain::Record| {
        traction_kpi::check::check_target(&engine, record, currency)
    };
    let started = Instant::now();
    let result = traction_import::import_mapped_files(
        &*store,
        files,
        &options,
        &check,
        args.dry_run,
        &mut |_| {},
    );
    match result {
        Ok(report) => {
            let names: Vec<&str> = mappings.iter().map(|(_, _, n)| *n).collect();
            if report.dry_run {
                eprintln!(
                    "dry run of the Salesforce export in {folder} ({}): {} rows read, no errors; nothing was stored. It would give:",
                    names.join(", "),
                    report.rows
                );
            } else {
                eprintln!(
                    "imported the Salesforce export in {folder} ({}): {} rows, {} new, {} updated, {} unchanged ({:.1}s)",
                    names.join(", "),
                    report.rows,
                    report.summary.created,
                    report.summary.updated,
                    report.summary.unchanged,
                    started.elapsed().as_secs_f64()
                );
            }
            for c in &report.by_entity {
                eprintln!("  {}", c.line());
            }
            Ok(())
        }
        Err(ImportFailure::Invalid { errors, total }) => {
            for e in &errors {
                eprintln!("{e}");
            }
            Err(Failure::Input(format!(
                "{total} error{} in {folder}: nothing was imported; fix the lines above and import the folder again",
                if total == 1 { "" } else { "s" }
            )))
        }
        Err(failure @ (ImportFailure::Io(_) | ImportFailure::Read(_))) => {
            Err(Failure::Runtime(failure.to_string()))
        }
    }
}
