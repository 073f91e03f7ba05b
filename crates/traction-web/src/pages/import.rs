//! Import a file from the browser: choose what it holds, upload a CSV or NDJSON file, and see
//! either what was stored or every error by line and column — in which case nothing was stored
//! (imports are atomic). The same importer as `traction import` and `POST /api/v1/{entity}/import`.
//! The form posts as multipart with the CSRF token in the query string, so it works with no script.
//!
//! Progress of a large file: with the script, the page posts the form itself and shows the
//! upload's progress (the browser's upload events), then the import's — the page names the
//! upload with a `progress` id in the query, the importer's progress callback records the bytes
//! read, and the page polls `GET /import/progress?id=…` (the caller's own jobs only) until the
//! answer arrives. Without the script the form posts as before.
//!
//! A large file streams: the upload is written to an anonymous temporary file chunk by chunk as
//! it arrives, then the importer reads it from there — the server never holds the whole file.
//! Spooled rather than piped straight into the importer because the form sends the file before
//! `source`, `dry_run` and `format`, which the import needs before it reads a byte (and the
//! header guess reads the file's start before the import reads it again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Json;
use axum::extract::{Multipart, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::Entity;
use traction_domain::record::display_value;
use traction_import::presets::{self, PRESETS};
use traction_import::{EntityCounts, Format, ImportFailure, ImportOptions};
use traction_server::AppState;

use crate::forms;
use crate::layout::{self, Nav};
use crate::{Req, Result, WebError, blocking, render};

/// The largest upload the page takes (the whole multipart body); larger files go through the
/// command line or the API. The page streams what it takes: see [`Spooled`].
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;
const MAX_ERRORS: usize = 200;

/// An import in progress: bytes of the file read by the importer, of `total`.
#[derive(Default)]
struct Job {
    read: AtomicU64,
    total: AtomicU64,
}

/// The imports in progress, by user and the id the page chose.
type Jobs = Mutex<HashMap<(String, String), Arc<Job>>>;

fn jobs() -> &'static Jobs {
    static JOBS: OnceLock<Jobs> = OnceLock::new();
    JOBS.get_or_init(Default::default)
}

/// The `progress` id of a query string: 1 to 64 letters, digits and dashes, else none.
fn progress_id(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let id = pair.strip_prefix("progress=")?;
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then(|| id.to_string())
    })
}

/// Keeps a job registered while its import runs; unregisters it however the import ends.
struct JobGuard {
    key: (String, String),
    job: Arc<Job>,
}

impl JobGuard {
    fn start(user: &str, id: String, total: u64) -> JobGuard {
        let job = Arc::new(Job::default());
        job.total.store(total, Ordering::Relaxed);
        let key = (user.to_string(), id);
        jobs().lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), job.clone());
        JobGuard { key, job }
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        jobs().lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

/// `GET /import/progress?id=…`: how far the caller's import with that id has read its file:
/// `{"running": true, "read", "total"}` in bytes; `{"running": false}` when there is none (the
/// upload has not arrived yet, or the import has finished) — not an error, as the page asks
/// before and after.
pub async fn progress(req: Req, RawQuery(query): RawQuery) -> Result<Response> {
    let id = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("id=")))
        .unwrap_or("")
        .to_string();
    let user = req.principal.as_deref().map(|p| p.user_id.clone()).unwrap_or_default();
    let job = jobs().lock().unwrap_or_else(|p| p.into_inner()).get(&(user, id)).cloned();
    match job {
        Some(job) => Ok(Json(serde_json::json!({
            "running": true,
            "read": job.read.load(Ordering::Relaxed),
            "total": job.total.load(Ordering::Relaxed),
        }))
        .into_response()),
        None => Ok(Json(serde_json::json!({"running": false})).into_response()),
    }
}

pub async fn form(req: Req) -> Result<Response> {
    Ok(render(page(&req, None, None)))
}

enum Outcome {
    Stored {
        entity: Entity,
        file: String,
        rows: u64,
        created: u64,
        updated: u64,
        unchanged: u64,
    },
    /// A dry run: what the import would do, and its first records as they would be stored.
    Checked {
        file: String,
        rows: u64,
        read_as: Option<String>,
        by_entity: Vec<EntityCounts>,
        preview: Vec<traction_domain::record::Record>,
    },
    Refused {
        entity: Entity,
        file: String,
        errors: Vec<traction_import::InputError>,
        total: usize,
    },
}

fn page(req: &Req, outcome: Option<&Outcome>, selected: Option<Entity>) -> Markup {
    let action = match &req.csrf {
        Some(token) => format!("/import?_csrf={}", crate::encode(token)),
        None => "/import".to_string(),
    };
    let body = html! {
        div.page-head { h1 { "Import" } p.sub { "A file imports whole or not at all: if any line has an error, nothing is stored and every error is listed by line and column." } }
        @match outcome {
            Some(Outcome::Stored { entity, file, rows, created, updated, unchanged }) => {
                p.notice role="status" { "Imported " (file) " into " (entity.name()) ": " (rows) " rows — " (created) " new, " (updated) " updated, " (unchanged) " unchanged." }
            }
            Some(Outcome::Checked { file, rows, read_as, by_entity, preview }) => {
                section.card role="status" aria-labelledby="dry-h" {
                    h2 #dry-h { "Dry run of " (file) ": " (rows) " rows, no errors — nothing was stored" }
                    @if let Some(read_as) = read_as { p.small { "Read as " (read_as) "." } }
                    ul { @for c in by_entity { li { (c.line()) } } }
                    @if !preview.is_empty() {
                        h3 { "The first records, as they would be stored" }
                        div.scroll {
                            table.preview {
                                thead { tr { th scope="col" { "Entity" } th scope="col" { "Fields" } } }
                                tbody {
                                    @for r in preview {
                                        tr {
                                            td { (r.entity.name()) }
                                            td {
                                                @for (f, v) in r.entity.fields().iter().zip(&r.values) {
                                                    @if !v.is_null() { code { (f.name) "=" (display_value(v)) } " " }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p.small { "Upload it again without “Dry run” to import it." }
                }
            }
            Some(Outcome::Refused { entity, file, errors, total }) => {
                section.card role="alert" aria-labelledby="err-h" {
                    h2 #err-h { (total) " error" (if *total == 1 { "" } else { "s" }) " in " (file) " — nothing was stored in " (entity.name()) }
                    div.scroll {
                        table.errors {
                            thead { tr { th.num scope="col" { "Line" } th scope="col" { "Column" } th scope="col" { "Value" } th scope="col" { "Problem" } } }
                            tbody {
                                @for e in errors {
                                    tr {
                                        td.num { (e.line) }
                                        td { (e.column.clone().unwrap_or_default()) }
                                        td { code { (e.value.clone().unwrap_or_default()) } }
                                        td { (e.message) }
                                    }
                                }
                            }
                        }
                    }
                    @if *total > errors.len() { p.small { "… and " (total - errors.len()) " more." } }
                    p.small { "Fix the file and upload it again. See the field reference in the docs (docs/fields.md) for every field's format." }
                }
            }
            None => {}
        }
        form.card #import-form method="post" action=(action) enctype="multipart/form-data" data-progress {
            div.field {
                label for="entity" { "The file holds" }
                select name="entity" id="entity" required {
                    @for e in Entity::ALL {
                        option value=(e.name()) selected[Some(e) == selected] { (e.name().replace('_', " ")) }
                    }
                }
                span.hint { "Import in the order of references: teams and users, accounts, pipelines and stages, then deals, activities, orders…" }
            }
            div.field {
                label for="file" { "File (CSV with a header row, or NDJSON)" }
                input type="file" name="file" id="file" required accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson";
            }
            div.field {
                label for="source" { "Made by" }
                select name="source" id="source" {
                    option value="" { "Traction (its own column names)" }
                    option value="auto" { "another tool: guess from the header" }
                    @for p in PRESETS {
                        option value=(p.name) { (p.tool) " " (p.entity.name()) " export (" (p.name) ")" }
                    }
                }
                span.hint { "Exports of HubSpot, Salesforce and Pipedrive import as they are through a preset (docs/import-mappings.md)." }
            }
            div.field {
                label { input type="checkbox" name="dry_run" value="true"; " Dry run: check and preview, store nothing" }
            }
            div.field {
                label for="format" { "Format" }
                select name="format" id="format" {
                    option value="" { "from the file name" }
                    option value="csv" { "CSV" }
                    option value="ndjson" { "NDJSON" }
                }
            }
            button type="submit" { "Import" }
            div #import-progress hidden role="status" aria-live="polite" {
                progress #import-bar max="100" {}
                span #import-step {}
            }
        }
    };
    layout::page(req, "Import", Nav::Import, body)
}

/// `POST /import` (multipart: `entity`, `file`, optional `format`).
pub async fn upload(
    State(state): State<AppState>,
    req: Req,
    RawQuery(query): RawQuery,
    mut multipart: Multipart,
) -> Result<Response> {
    let progress_id = progress_id(query.as_deref());
    let mut entity: Option<Entity> = None;
    let mut format: Option<Format> = None;
    let mut source = String::new();
    let mut dry_run = false;
    let mut file: Option<(String, Spooled)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::bad(format!("the upload cannot be read: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "entity" => {
                let text = field.text().await.map_err(|e| WebError::bad(format!("entity: {e}")))?;
                entity = Some(
                    Entity::parse(text.trim())
                        .map_err(|e| WebError::bad(format!("entity: {e}")))?,
                );
            }
            "format" => {
                let text = field.text().await.map_err(|e| WebError::bad(format!("format: {e}")))?;
                if !text.trim().is_empty() {
                    format = Some(Format::parse(&text).map_err(WebError::bad)?);
                }
            }
            "source" => {
                source = field.text().await.map_err(|e| WebError::bad(format!("source: {e}")))?;
            }
            "dry_run" => {
                let text =
                    field.text().await.map_err(|e| WebError::bad(format!("dry_run: {e}")))?;
                dry_run = matches!(text.trim(), "true" | "on" | "1");
            }
            "file" => {
                let file_name = field.file_name().unwrap_or("upload").to_string();
                file = Some((file_name, spool(field).await?));
            }
            _ => {}
        }
    }
    let (file_name, spooled) =
        file.ok_or_else(|| WebError::bad("file is missing: choose a file to import"))?;
    // Another tool's export: the preset chosen, or the one its header fits best.
    let preset = match source.trim() {
        "" => None,
        "auto" => {
            let head = spooled.head(64 * 1024).await?;
            let guessed = presets::guess_from_bytes(&head);
            let (best, _) = guessed.first().ok_or_else(|| {
                WebError::bad("the file's header fits none of the presets (HubSpot, Salesforce, Pipedrive): choose one, or import it with a mapping file from the command line")
            })?;
            Some(*best)
        }
        name => Some(
            presets::by_name(name)
                .ok_or_else(|| WebError::bad(format!("source: no preset is called {name:?}")))?,
        ),
    };
    let entity = match preset {
        Some(p) => p.entity,
        None => {
            entity.ok_or_else(|| WebError::bad("entity is missing: choose what the file holds"))?
        }
    };
    let mapping = match preset {
        Some(p) => Some(p.mapping().map_err(|e| WebError::bad(e.join("; ")))?),
        None => None,
    };
    let read_as = preset.map(|p| {
        if source.trim() == "auto" {
            format!("{} (guessed from the header)", p.name)
        } else {
            p.name.to_string()
        }
    });
    let format = format
        .or_else(|| Format::from_path(std::path::Path::new(&file_name)))
        .unwrap_or(Format::Csv);
    let name = file_name.clone();
    let principal = req.principal.clone();
    let outcome = crate::compute(state.clone(), move |st, now| {
        let principal = principal.as_deref().ok_or_else(|| WebError::bad("sign in to import"))?;
        let guard = progress_id.map(|id| JobGuard::start(&principal.user_id, id, spooled.size));
        let job = guard.as_ref().map(|g| g.job.clone());
        let mut on_progress = |read: u64| {
            if let Some(job) = &job {
                job.read.store(read, Ordering::Relaxed);
            }
        };
        let guarded = forms::guarded(st, principal, now);
        let options =
            ImportOptions { file_name: name.clone(), format, max_errors: MAX_ERRORS, now };
        // spec: kpis.md, Targets: imported targets get the same check as the target form,
        // through a preset and in a dry run too.
        let currency = traction_store::Store::workspace(st.store.as_ref())?.currency;
        let engine = traction_kpi::engine::Engine { store: &*st.store, catalog: &st.catalog };
        let check = |record: &traction_domain::Record| {
            traction_kpi::check::check_target(&engine, record, currency)
        };
        let input = spooled.reader()?;
        let result = match &mapping {
            Some(m) => traction_import::import_mapped(
                &guarded,
                m,
                input,
                &options,
                &check,
                dry_run,
                &mut on_progress,
            ),
            None if dry_run => traction_import::dry_run(
                &guarded,
                entity,
                input,
                &options,
                &check,
                &mut on_progress,
            ),
            None => traction_import::import_checked(
                &guarded,
                entity,
                input,
                &options,
                &check,
                &mut on_progress,
            ),
        };
        drop(guard);
        match result {
            Ok(report) if report.dry_run => Ok((
                Outcome::Checked {
                    file: name,
                    rows: report.rows,
                    read_as,
                    by_entity: report.by_entity,
                    preview: report.preview,
                },
                None,
            )),
            Ok(report) => Ok((
                Outcome::Stored {
                    entity,
                    file: name,
                    rows: report.rows,
                    created: report.summary.created,
                    updated: report.summary.updated,
                    unchanged: report.summary.unchanged,
                },
                Some(report.summary),
            )),
            Err(ImportFailure::Invalid { errors, total }) => {
                Ok((Outcome::Refused { entity, file: name, errors, total }, None))
            }
            Err(failure @ (ImportFailure::Io(_) | ImportFailure::Read(_))) => {
                Err(WebError::bad(failure))
            }
        }
    })
    .await?;
    if let (_, Some(summary)) = &outcome {
        forms::announce(&state, summary, entity);
    }
    let status = match outcome.0 {
        Outcome::Stored { .. } | Outcome::Checked { .. } => StatusCode::OK,
        Outcome::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, page(&req, Some(&outcome.0), Some(entity))).into_response())
}

/// An uploaded file, written to an anonymous temporary file as its parts arrive: the server
/// holds one chunk of it in memory, never the whole file. The file has no name on disk and
/// is gone when this is dropped — however the request ends.
struct Spooled {
    file: std::fs::File,
    size: u64,
}

/// Writes the multipart field's body to a temporary file, chunk by chunk. The multipart body
/// is still bounded by [`MAX_UPLOAD`] (a larger one is refused as it arrives).
async fn spool(mut field: axum::extract::multipart::Field<'_>) -> Result<Spooled> {
    use tokio::io::AsyncWriteExt;
    let file = tempfile::tempfile()
        .map_err(|e| WebError::internal(format!("no temporary file for the upload: {e}")))?;
    let writer = file
        .try_clone()
        .map_err(|e| WebError::internal(format!("no temporary file for the upload: {e}")))?;
    let mut writer = tokio::io::BufWriter::new(tokio::fs::File::from_std(writer));
    let mut size = 0u64;
    while let Some(chunk) =
        field.chunk().await.map_err(|e| WebError::bad(format!("the file cannot be read: {e}")))?
    {
        size += chunk.len() as u64;
        writer
            .write_all(&chunk)
            .await
            .map_err(|e| WebError::internal(format!("the upload cannot be written: {e}")))?;
    }
    writer
        .flush()
        .await
        .map_err(|e| WebError::internal(format!("the upload cannot be written: {e}")))?;
    Ok(Spooled { file, size })
}

impl Spooled {
    /// The first `n` bytes (fewer if the file is shorter), for the header guess.
    async fn head(&self, n: usize) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self
            .file
            .try_clone()
            .map_err(|e| WebError::internal(format!("the upload cannot be read back: {e}")))?;
        blocking(move || {
            let err = |e: std::io::Error| {
                WebError::internal(format!("the upload cannot be read back: {e}"))
            };
            file.seek(SeekFrom::Start(0)).map_err(err)?;
            let mut head = Vec::with_capacity(n);
            file.take(n as u64).read_to_end(&mut head).map_err(err)?;
            Ok(head)
        })
        .await
    }

    /// The whole file from its start, buffered, for the importer (on the blocking pool).
    fn reader(mut self) -> Result<std::io::BufReader<std::fs::File>> {
        use std::io::{Seek, SeekFrom};
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| WebError::internal(format!("the upload cannot be read back: {e}")))?;
        Ok(std::io::BufReader::with_capacity(256 * 1024, self.file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// The header guess reads the file's start, then the importer still reads it whole from
    /// its first byte.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_spooled_upload_reads_its_head_then_whole_from_the_start() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"day,source,visitors\n2026-01-01,web,3\n").unwrap();
        let spooled = Spooled { file, size: 37 };
        assert_eq!(spooled.head(10).await.unwrap(), b"day,source");
        assert_eq!(spooled.head(1000).await.unwrap().len(), 37, "a short file: all of it");
        let mut whole = String::new();
        spooled.reader().unwrap().read_to_string(&mut whole).unwrap();
        assert_eq!(whole, "day,source,visitors\n2026-01-01,web,3\n");
    }
}
