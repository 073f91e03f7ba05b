//! Import and export of records as CSV and NDJSON (spec: data-model.md, Conventions).
//!
//! [`import`] streams a file into one store transaction: every cell is parsed into a domain value
//! once, every record goes through the store's checks, and every error is collected with its
//! file, line, column and value (up to a cap). Any error and nothing is stored; no error and the
//! whole file is committed at once. [`export`] writes an entity in the same format, so an export
//! imports back to the same data.
//!
//! This crate does no terminal IO: progress goes to a callback.

mod compute;
mod csv_in;
pub mod email_hooks;
mod export;
mod mapped_in;
pub mod mapping;
mod ndjson_in;
pub mod presets;

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use traction_domain::record::{Record, Value, parse_field};
use traction_domain::schema::Entity;
use traction_domain::time::Micros;
use traction_domain::{Currency, Field, ParseContext};
use traction_store::{Error as StoreError, PutOutcome, Store, Summary};

pub use export::{export, export_where};

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// Parses `csv`, `ndjson` or `jsonl`.
    pub fn parse(text: &str) -> Result<Format, UnknownFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "ndjson" | "jsonl" | "json" => Ok(Format::Ndjson),
            _ => Err(UnknownFormat(text.to_string())),
        }
    }

    /// The format a file's extension names (`.csv`; `.ndjson` or `.jsonl`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// A file format that is neither CSV nor NDJSON: the text given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a file format: use csv or ndjson")]
pub struct UnknownFormat(pub String);

/// One error in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// The physical line where the record starts (the CSV header is line 1).
    pub line: u64,
    /// The column (field name) at fault, if one is.
    pub column: Option<String>,
    /// The text found there, if it is known.
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for InputError {
    /// `deals.csv:3: owner_id "nobody": no such user`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match &self.column {
            Some(column) if self.message.starts_with('"') => write!(f, "{column} {}", self.message),
            Some(column) => write!(f, "{column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportFailure {
    /// The file has errors: the first `errors` of them (sorted by line), and how many in all.
    Invalid { errors: Vec<InputError>, total: usize },
    /// The file could not be read (the reader's error: a cut connection, an OS error).
    Read(String),
    /// The database failed.
    Io(String),
}

impl fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportFailure::Invalid { errors, total } => {
                for e in errors {
                    writeln!(f, "{e}")?;
                }
                if *total > errors.len() {
                    writeln!(f, "… and {} more errors", total - errors.len())?;
                }
                write!(
                    f,
                    "{total} error{} found: nothing was imported",
                    if *total == 1 { "" } else { "s" }
                )
            }
            ImportFailure::Read(message) => write!(f, "cannot read the file: {message}"),
            ImportFailure::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ImportFailure {}

/// How an import runs.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The file's name, as errors name it.
    pub file_name: String,
    pub format: Format,
    /// Errors kept for the report; counting goes on past it.
    pub max_errors: usize,
    /// The clock, for fields that default to now.
    pub now: Micros,
}

/// What a committed import did (or, for a dry run, would do).
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The data rows of the file.
    pub rows: u64,
    /// The records written (through a mapping, one row may give several).
    pub records: u64,
    pub summary: Summary,
    /// Per entity written, in import order: what was (or would be) created, updated, unchanged.
    pub by_entity: Vec<EntityCounts>,
    /// Whether nothing was stored (a dry run).
    pub dry_run: bool,
    /// A dry run's first records, as they would be stored (at most [`PREVIEW_RECORDS`]).
    pub preview: Vec<Record>,
}

/// How many records a dry run keeps for a preview.
pub const PREVIEW_RECORDS: usize = 12;

/// What an import did to one entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityCounts {
    pub entity: Option<Entity>,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows the mapping skips (e.g. Pipedrive's deleted deals).
    pub skipped: u64,
}

impl EntityCounts {
    /// `deals: 3 created, 1 updated, 0 unchanged, 2 skipped`.
    pub fn line(&self) -> String {
        let name = self.entity.map_or("records", |e| e.name());
        let mut out = format!(
            "{name}: {} created, {} updated, {} unchanged",
            self.created, self.updated, self.unchanged
        );
        if self.skipped > 0 {
            out.push_str(&format!(", {} skipped", self.skipped));
        }
        out
    }
}

/// The largest cell accepted, in bytes: anything bigger is a mistake in the file, not data.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// Imports one file of `entity` records into the store, atomically.
///
/// Parsing runs on a thread of its own and hands batches of records to this thread, which writes
/// them: on a machine with two cores the two halves of the work overlap.
pub fn import(
    store: &dyn Store,
    entity: Entity,
    input: impl Read + Send,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    import_checked(store, entity, input, options, &no_check, progress)
}

/// A record check the store cannot make by itself, run on every record before it is written
/// (the KPI crate's check of a target against the metric catalog).
pub type RecordCheck<'a> =
    &'a dyn Fn(&traction_domain::Record) -> Vec<traction_domain::FieldProblem>;

/// The check of [`import`]: none beyond the store's own.
fn no_check(_: &Record) -> Vec<traction_domain::FieldProblem> {
    Vec::new()
}

/// [`import`], with `check` run on every parsed record: its problems are errors of the row, as
/// the store's own are.
pub fn import_checked(
    store: &dyn Store,
    entity: Entity,
    input: impl Read + Send,
    options: &ImportOptions,
    check: RecordCheck<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    let parts = vec![Part { plan: Plan::Plain(options.format), input, file_name: None }];
    run(store, entity, parts, options, check, false, progress)
}

/// Reads and checks a file as [`import_checked`] does, and reports what it would do, storing
/// nothing.
pub fn dry_run(
    store: &dyn Store,
    entity: Entity,
    input: impl Read + Send,
    options: &ImportOptions,
    check: RecordCheck<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    let parts = vec![Part { plan: Plan::Plain(options.format), input, file_name: None }];
    run(store, entity, parts, options, check, true, progress)
}

/// Imports a file in another tool's layout through a mapping (spec: importers.md): the records
/// of every entity the mapping feeds, in one transaction, each record through `check`. With
/// `dry_run`, stores nothing.
pub fn import_mapped(
    store: &dyn Store,
    mapping: &mapping::Mapping,
    input: impl Read + Send,
    options: &ImportOptions,
    check: RecordCheck<'_>,
    dry_run: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    let first = mapping.targets.first().map_or(Entity::Deals, |t| t.entity);
    let parts = vec![Part { plan: Plan::Mapped(mapping), input, file_name: None }];
    run(store, first, parts, options, check, dry_run, progress)
}

/// One file of a multi-file import: its mapping, its contents and its name.
pub struct MappedFile<'m, R> {
    pub mapping: &'m mapping::Mapping,
    pub input: R,
    pub file_name: String,
}

/// Imports several files through their mappings in one transaction (a Salesforce export's
/// object files, references first): all of them or nothing, and a dry run sees each file's
/// records when checking the next. Errors name each file.
pub fn import_mapped_files<R: Read + Send>(
    store: &dyn Store,
    files: Vec<MappedFile<'_, R>>,
    options: &ImportOptions,
    check: RecordCheck<'_>,
    dry_run: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    let first =
        files.first().and_then(|f| f.mapping.targets.first()).map_or(Entity::Deals, |t| t.entity);
    let parts = files
        .into_iter()
        .map(|f| Part {
            plan: Plan::Mapped(f.mapping),
            input: f.input,
            file_name: Some(f.file_name),
        })
        .collect();
    run(store, first, parts, options, check, dry_run, progress)
}

/// One input of [`run`].
struct Part<'m, R> {
    plan: Plan<'m>,
    input: R,
    /// The file's name, when it is not `options.file_name`.
    file_name: Option<String>,
}

/// A record's tag is its file's index shifted by this, plus its line.
const TAG_FILE_SHIFT: u32 = 40;

#[derive(Clone, Copy)]
enum PlanKind {
    Plain,
    Mapped,
}

/// How the rows of a file are read.
enum Plan<'m> {
    Plain(Format),
    Mapped(&'m mapping::Mapping),
}

/// The stored users, accounts, pipelines and stages by name, for references by name.
fn load_names(store: &dyn Store) -> Result<mapping::Names, StoreError> {
    use mapping::Names;
    let mut names = Names::default();
    let text = |r: &Record, f: &str| r.get(f).as_text().unwrap_or("").to_string();
    store.scan(Entity::Users, &mut |r| {
        let id = text(&r, "id");
        names.user_ids.insert(id.clone());
        Names::add(&mut names.users, &text(&r, "name"), &id);
        let email = text(&r, "email");
        if !email.is_empty() {
            Names::add(&mut names.users, &email, &id);
        }
        Ok(())
    })?;
    store.scan(Entity::Accounts, &mut |r| {
        Names::add(&mut names.accounts, &text(&r, "name"), &text(&r, "id"));
        Ok(())
    })?;
    store.scan(Entity::Pipelines, &mut |r| {
        Names::add(&mut names.pipelines, &text(&r, "name"), &text(&r, "id"));
        Ok(())
    })?;
    store.scan(Entity::Stages, &mut |r| {
        let (id, pipeline, kind) = (text(&r, "id"), text(&r, "pipeline_id"), text(&r, "kind"));
        let position = r.get("position").as_int().unwrap_or(0);
        let top = names.positions.entry(pipeline.clone()).or_insert(0);
        *top = (*top).max(position);
        names.kinds.insert(id.clone(), kind.clone());
        names.stages.insert((pipeline, mapping::norm(&text(&r, "name"))), (id, kind));
        Ok(())
    })?;
    Ok(names)
}

fn run<R: Read + Send>(
    store: &dyn Store,
    entity: Entity,
    parts: Vec<Part<'_, R>>,
    options: &ImportOptions,
    check: RecordCheck<'_>,
    dry_run: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportFailure> {
    let plan_kind = match parts.first().map(|p| &p.plan) {
        Some(Plan::Mapped(_)) => PlanKind::Mapped,
        _ => PlanKind::Plain,
    };
    // The referenced records by name, loaded once and carried from file to file.
    let mut names = match plan_kind {
        PlanKind::Mapped => load_names(store).map_err(|e| ImportFailure::Io(e.to_string()))?,
        PlanKind::Plain => mapping::Names::default(),
    };
    let file_names: Vec<String> = parts
        .iter()
        .map(|p| p.file_name.clone().unwrap_or_else(|| options.file_name.clone()))
        .collect();
    let workspace = store.workspace().map_err(|e| ImportFailure::Io(e.to_string()))?;
    let ctx = ParseContext { zone: workspace.zone, currency: workspace.currency, now: options.now };
    let mut writer = store.bulk_writer().map_err(|e| ImportFailure::Io(e.to_string()))?;
    let bytes = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut report = Report::new(options);
    for (part_idx, part) in parts.into_iter().enumerate() {
        let part_options =
            ImportOptions { file_name: file_names[part_idx].clone(), ..options.clone() };
        report.file = part_options.file_name.clone();
        // A record's tag says its file and its line, so problems found at commit name both.
        let tag_base = (part_idx as u64) << TAG_FILE_SHIFT;
        let Part { plan, input, .. } = part;
        let names = &mut names;
        let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(8);
        let parsed = std::thread::scope(|scope| {
            let parser = scope.spawn(|| {
                let mut sink = Sink::new(entity, &ctx, &part_options, &stop, tx);
                let counted = CountingReader { inner: input, bytes: &bytes };
                let res = match plan {
                    Plan::Plain(Format::Csv) => csv_in::read(counted, &mut sink),
                    Plan::Plain(Format::Ndjson) => ndjson_in::read(counted, &mut sink),
                    Plan::Mapped(mapping) => mapped_in::read(counted, &mut sink, mapping, names),
                };
                sink.flush();
                res
            });
            for batch in rx {
                for item in batch {
                    match item {
                        Item::Error(e) => report.add(e),
                        Item::Skipped(entity) => report.counts(entity).skipped += 1,
                        Item::SourceRow => report.source_rows += 1,
                        Item::Record(line, record) => {
                            report.rows += 1;
                            if report.full() {
                                continue;
                            }
                            let entity = record.entity;
                            // A check the store cannot make (targets against the catalog).
                            let problems = check(&record);
                            if !problems.is_empty() {
                                for p in problems {
                                    let column = (!p.field.is_empty()).then_some(p.field.clone());
                                    report.add(report.error(line, column, None, p.message));
                                }
                                continue;
                            }
                            if dry_run && report.preview.len() < PREVIEW_RECORDS {
                                report.preview.push(record.clone());
                            }
                            match writer.put(tag_base | line, record) {
                                Ok(outcome) => {
                                    let c = report.counts(entity);
                                    match outcome {
                                        PutOutcome::Created => c.created += 1,
                                        PutOutcome::Updated => c.updated += 1,
                                        PutOutcome::Unchanged => c.unchanged += 1,
                                    }
                                }
                                Err(StoreError::Invalid(problems)) => {
                                    for p in problems {
                                        // The store's messages quote the value at fault.
                                        let column =
                                            (!p.field.is_empty()).then_some(p.field.clone());
                                        report.add(report.error(line, column, None, p.message));
                                    }
                                }
                                // A second target on the same metric, scope and period start.
                                Err(StoreError::Conflict(message)) => {
                                    report.add(report.error(line, None, None, message));
                                }
                                Err(e) => {
                                    stop.store(true, Ordering::Relaxed);
                                    return Err(ImportFailure::Io(e.to_string()));
                                }
                            }
                        }
                    }
                }
                if report.full() {
                    stop.store(true, Ordering::Relaxed);
                }
                progress(bytes.load(Ordering::Relaxed));
            }
            parser
                .join()
                .unwrap_or_else(|_| Err(ImportFailure::Io("the file reader failed".into())))
        });
        parsed?;
    }
    progress(bytes.load(Ordering::Relaxed));
    let mapped = matches!(plan_kind, PlanKind::Mapped);
    let rows = if mapped { report.source_rows } else { report.rows };
    report
        .by_entity
        .sort_by_key(|c| c.entity.and_then(|e| Entity::ALL.iter().position(|x| *x == e)));
    if report.total == 0 && dry_run {
        // The commit's own checks run, then everything rolls back.
        match writer.rehearse() {
            Ok(()) => {
                let mut summary = Summary::default();
                for c in &report.by_entity {
                    summary.created += c.created;
                    summary.updated += c.updated;
                    summary.unchanged += c.unchanged;
                }
                return Ok(ImportReport {
                    rows,
                    records: report.rows,
                    summary,
                    by_entity: report.by_entity,
                    dry_run,
                    preview: report.preview,
                });
            }
            Err(StoreError::Invalid(problems)) => {
                report.add_commit_problems(problems, &file_names);
            }
            Err(e) => return Err(ImportFailure::Io(e.to_string())),
        }
    } else if report.total == 0 {
        match writer.commit() {
            Ok(summary) => {
                return Ok(ImportReport {
                    rows,
                    records: report.rows,
                    summary,
                    by_entity: report.by_entity,
                    dry_run,
                    preview: Vec::new(),
                });
            }
            Err(StoreError::Invalid(problems)) => {
                report.add_commit_problems(problems, &file_names);
            }
            Err(e) => return Err(ImportFailure::Io(e.to_string())),
        }
    }
    report.errors.sort_by_key(|e| e.line);
    Err(ImportFailure::Invalid { errors: report.errors, total: report.total })
}

/// Counts the bytes read, for the progress bar.
struct CountingReader<'a, R> {
    inner: R,
    bytes: &'a AtomicU64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The errors found so far, capped.
struct Report {
    file: String,
    max_errors: usize,
    errors: Vec<InputError>,
    total: usize,
    rows: u64,
    source_rows: u64,
    by_entity: Vec<EntityCounts>,
    preview: Vec<Record>,
}

impl Report {
    fn new(options: &ImportOptions) -> Report {
        Report {
            file: options.file_name.clone(),
            max_errors: options.max_errors.max(1),
            errors: Vec::new(),
            total: 0,
            rows: 0,
            source_rows: 0,
            by_entity: Vec::new(),
            preview: Vec::new(),
        }
    }

    fn counts(&mut self, entity: Entity) -> &mut EntityCounts {
        match self.by_entity.iter().position(|c| c.entity == Some(entity)) {
            Some(idx) => &mut self.by_entity[idx],
            None => {
                self.by_entity
                    .push(EntityCounts { entity: Some(entity), ..EntityCounts::default() });
                self.by_entity.last_mut().expect("just pushed")
            }
        }
    }

    /// The problems `commit` (or its rehearsal) found, each at its file and line.
    fn add_commit_problems(
        &mut self,
        problems: Vec<traction_store::Problem>,
        file_names: &[String],
    ) {
        for p in problems {
            let column = (!p.field.is_empty()).then_some(p.field.clone());
            let tag = p.tag.unwrap_or(0);
            let part = (tag >> TAG_FILE_SHIFT) as usize;
            self.file = file_names.get(part).cloned().unwrap_or_default();
            let line = tag & ((1 << TAG_FILE_SHIFT) - 1);
            let error = self.error(line, column, None, p.message);
            self.add(error);
        }
    }

    fn full(&self) -> bool {
        self.total >= self.max_errors
    }

    fn error(
        &self,
        line: u64,
        column: Option<String>,
        value: Option<String>,
        message: String,
    ) -> InputError {
        InputError {
            file: self.file.clone(),
            line,
            column,
            value: value.map(|v| truncate(&v, 80)),
            message,
        }
    }

    fn add(&mut self, e: InputError) {
        self.total += 1;
        if self.errors.len() < self.max_errors {
            self.errors.push(e);
        }
    }
}

/// What the parser hands to the writer.
pub(crate) enum Item {
    Record(u64, Record),
    Error(InputError),
    /// A row a mapping skips for this entity.
    Skipped(Entity),
    /// A data row read through a mapping (which may give several records, or none).
    SourceRow,
}

/// Where parsed rows go: the parsing side of an import. Rows become records (or errors) and are
/// sent in batches to the writing side.
pub(crate) struct Sink<'s> {
    pub(crate) entity: Entity,
    pub(crate) ctx: &'s ParseContext,
    file: String,
    max_errors: usize,
    errors: usize,
    stop: &'s AtomicBool,
    batch: Vec<Item>,
    tx: mpsc::SyncSender<Vec<Item>>,
    /// What errors call each field of the current entity, when not its name (a mapped import
    /// names the source column: `Deal - Value (amount)`).
    pub(crate) labels: Option<std::sync::Arc<Vec<String>>>,
}

/// How the columns of a file map onto the entity's fields.
pub(crate) struct Columns {
    /// For each column of the file: the field it fills, or `None` for a `currency` column.
    pub(crate) fields: Vec<Option<usize>>,
    pub(crate) names: Vec<String>,
}

const BATCH: usize = 1024;

impl<'s> Sink<'s> {
    fn new(
        entity: Entity,
        ctx: &'s ParseContext,
        options: &ImportOptions,
        stop: &'s AtomicBool,
        tx: mpsc::SyncSender<Vec<Item>>,
    ) -> Sink<'s> {
        Sink {
            entity,
            ctx,
            file: options.file_name.clone(),
            max_errors: options.max_errors.max(1),
            errors: 0,
            stop,
            batch: Vec::with_capacity(BATCH),
            tx,
            labels: None,
        }
    }

    /// Whether to stop reading: enough errors seen, here or on the writing side.
    pub(crate) fn full(&self) -> bool {
        self.errors >= self.max_errors || self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn push_source_row(&mut self) {
        self.push(Item::SourceRow);
    }

    pub(crate) fn push_skipped(&mut self, entity: Entity) {
        self.push(Item::Skipped(entity));
    }

    fn push(&mut self, item: Item) {
        self.batch.push(item);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            if self.tx.send(batch).is_err() {
                // The writing side has stopped (a database error): nothing more to do.
                self.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn error(
        &mut self,
        line: u64,
        column: Option<&str>,
        value: Option<&str>,
        message: String,
    ) {
        self.errors += 1;
        let e = InputError {
            file: self.file.clone(),
            line,
            column: column.map(str::to_string),
            value: value.map(|v| truncate(v, 80)),
            message,
        };
        self.push(Item::Error(e));
    }

    /// Maps header names onto fields; reports unknown, duplicate and missing columns.
    pub(crate) fn columns(&mut self, line: u64, names: &[String]) -> Option<Columns> {
        let entity = self.entity;
        let mut fields = Vec::with_capacity(names.len());
        let mut unknown = Vec::new();
        let mut seen = vec![false; entity.fields().len()];
        let mut ok = true;
        for name in names {
            let wanted = name.trim().to_ascii_lowercase();
            if wanted == "currency" && entity.has_money() {
                fields.push(None);
                continue;
            }
            match entity.field_index(&wanted) {
                Some(idx) if seen[idx] => {
                    self.error(
                        line,
                        Some(&wanted),
                        None,
                        "appears twice in the header: keep one column of each name".into(),
                    );
                    ok = false;
                    fields.push(None);
                }
                Some(idx) => {
                    seen[idx] = true;
                    fields.push(Some(idx));
                }
                None => {
                    unknown.push(name.clone());
                    fields.push(None);
                }
            }
        }
        if !unknown.is_empty() {
            let known: Vec<&str> = entity.fields().iter().map(|f| f.name).collect();
            self.error(
                line,
                None,
                None,
                format!(
                    "unknown column{} {}: {} has the fields {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", "),
                    entity,
                    known.join(", ")
                ),
            );
            ok = false;
        }
        for (idx, field) in entity.fields().iter().enumerate() {
            if field.required && !seen[idx] {
                self.error(
                    line,
                    Some(field.name),
                    None,
                    format!("is required but the file has no {} column: add it", field.name),
                );
                ok = false;
            }
        }
        ok.then(|| Columns { fields, names: names.to_vec() })
    }

    /// Parses one row (cells in column order) and hands it to the store.
    pub(crate) fn row(
        &mut self,
        line: u64,
        columns: &Columns,
        cells: &[&str],
    ) -> Result<(), ImportFailure> {
        let entity = self.entity;
        let fields: &'static [Field] = entity.fields();
        let mut values: Vec<Option<Value>> = vec![None; fields.len()];
        let mut bad = false;
        for (col, cell) in cells.iter().enumerate() {
            let Some(slot) = columns.fields.get(col) else { continue };
            if cell.len() > MAX_CELL_BYTES {
                let name = columns.names[col].clone();
                self.error(
                    line,
                    Some(&name),
                    None,
                    format!("holds {} bytes: a cell may hold at most {MAX_CELL_BYTES}", cell.len()),
                );
                bad = true;
                continue;
            }
            match slot {
                Some(idx) => match parse_field(&fields[*idx], cell, self.ctx) {
                    Ok(v) => values[*idx] = Some(v),
                    Err(message) => {
                        let label = self
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(*idx).cloned())
                            .unwrap_or_else(|| fields[*idx].name.to_string());
                        self.error(line, Some(&label), Some(cell), message.to_string());
                        values[*idx] = Some(Value::Null);
                        bad = true;
                    }
                },
                None => {
                    let cell = cell.trim();
                    if !cell.is_empty() && !cell.eq_ignore_ascii_case(self.ctx.currency.code()) {
                        self.error(
                            line,
                            Some("currency"),
                            Some(cell),
                            format!(
                                "{cell:?} is not the workspace currency {}: amounts must be in {} (convert them, or change the currency before importing)",
                                self.ctx.currency, self.ctx.currency
                            ),
                        );
                        bad = true;
                    }
                }
            }
        }
        let mut record_values = Vec::with_capacity(fields.len());
        for (idx, value) in values.into_iter().enumerate() {
            match value {
                Some(v) => record_values.push(v),
                None => match parse_field(&fields[idx], "", self.ctx) {
                    Ok(v) => record_values.push(v),
                    Err(message) => {
                        self.error(line, Some(fields[idx].name), None, message.to_string());
                        bad = true;
                        record_values.push(Value::Null);
                    }
                },
            }
        }
        if !bad {
            self.push(Item::Record(line, Record { entity, values: record_values }));
        }
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The currency of exports: the workspace's.
pub(crate) fn currency_of(store: &dyn Store) -> Result<Currency, StoreError> {
    Ok(store.workspace()?.currency)
}

#[cfg(test)]
mod fuzz_mapping;
#[cfg(test)]
mod tests;
