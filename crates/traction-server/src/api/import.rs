//! `POST /api/v1/{entity}/import`: a CSV or NDJSON body through the same atomic importer as
//! `traction import` (spec: interfaces.md, HTTP API; data-model.md, Import is atomic).
//!
//! The body is streamed into the importer, which runs on the blocking pool and reads through a
//! small channel, so a large file is never held in memory whole. The format is the body's
//! `Content-Type` (`text/csv`; `application/x-ndjson`, `application/jsonl`), or `?format=csv|ndjson`.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::mpsc;
use traction_domain::Entity;
use traction_import::{Format, ImportFailure, ImportOptions};

use super::records::{Params, write};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Detail, Result};

/// How many errors an import reports (counting goes on past it).
const MAX_ERRORS: usize = 100;

#[derive(Serialize)]
struct Imported {
    entity: &'static str,
    rows: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    /// Whether nothing was stored.
    dry_run: bool,
    /// Per entity written (a mapping may feed several).
    entities: Vec<EntityCounts>,
}

#[derive(Serialize)]
struct EntityCounts {
    entity: &'static str,
    created: u64,
    updated: u64,
    unchanged: u64,
    skipped: u64,
}

/// The import's parameters besides the format: a preset mapping and the dry run.
struct Plan {
    mapping: Option<traction_import::mapping::Mapping>,
    dry_run: bool,
}

fn plan_of(entity: Entity, params: &[(String, String)]) -> Result<Plan> {
    let mut plan = Plan { mapping: None, dry_run: false };
    for (key, value) in params {
        match key.as_str() {
            "format" => {}
            "dry_run" => {
                plan.dry_run = match value.trim().to_ascii_lowercase().as_str() {
                    "" | "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        let e = format!("dry_run={value:?}: write dry_run=true or dry_run=false");
                        return Err(ApiError::BadRequest {
                            message: e.clone(),
                            details: vec![Detail::field("dry_run", e)],
                        });
                    }
                }
            }
            "from" | "mapping" => {
                let preset = if key == "from" {
                    traction_import::presets::for_entity(value, entity)
                        .map_err(|e| field_error(key, e))
                } else {
                    traction_import::presets::by_name(value).ok_or_else(|| {
                        let names: Vec<&str> =
                            traction_import::presets::PRESETS.iter().map(|p| p.name).collect();
                        let problem = format!(
                            "no preset mapping is called {value:?}: use one of {}",
                            names.join(", ")
                        );
                        field_error(key, problem)
                    })
                };
                let preset = preset?;
                let mapping = preset.mapping().map_err(|e| ApiError::Internal(e.join("; ")))?;
                if !mapping.targets.iter().any(|t| t.entity == entity) {
                    return Err(ApiError::bad_request(format!(
                        "the preset {} gives {}, not {entity}: import it as one of those",
                        preset.name,
                        mapping
                            .targets
                            .iter()
                            .map(|t| t.entity.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                plan.mapping = Some(mapping);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other:?} is not a parameter of an import: use format=csv|ndjson, from=hubspot|salesforce|pipedrive, mapping=PRESET or dry_run=true"
                )));
            }
        }
    }
    Ok(plan)
}

/// A 400 about one query parameter.
fn field_error(key: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest {
        message: problem.to_string(),
        details: vec![Detail::field(key, problem)],
    }
}

fn format_of(headers: &HeaderMap, params: &[(String, String)]) -> Result<Format> {
    if let Some((_, name)) = params.iter().find(|(k, _)| k == "format") {
        return Format::parse(name).map_err(|e| field_error("format", e));
    }
    if params.iter().any(|(k, _)| k == "from" || k == "mapping") {
        // A mapped body is delimited text whatever its Content-Type says.
        return Ok(Format::Csv);
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("text/csv") => Ok(Format::Csv),
        Some(
            "application/x-ndjson" | "application/ndjson" | "application/jsonl"
            | "application/jsonlines" | "application/x-jsonlines",
        ) => Ok(Format::Ndjson),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "an import body is CSV (Content-Type: text/csv) or NDJSON (application/x-ndjson), not {other}; or name it with ?format=csv|ndjson"
        ))),
        None => Err(ApiError::UnsupportedMediaType(
            "say what the body is: Content-Type text/csv or application/x-ndjson, or ?format=csv|ndjson".into(),
        )),
    }
}

/// The request body as a blocking reader fed from the async side.
struct ChannelReader {
    rx: mpsc::Receiver<std::result::Result<Bytes, axum::Error>>,
    chunk: Bytes,
    read: u64,
    limit: u64,
    too_large: Arc<AtomicBool>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!(
                        "cannot read the request body: {e}"
                    )));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        self.read += n as u64;
        if self.read > self.limit {
            self.too_large.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("the body is larger than the import limit"));
        }
        Ok(n)
    }
}

/// `POST /api/v1/{entity}/import`, as `principal`: every row is checked against the caller's
/// rights (a refused row makes the whole import a 403, nothing stored) and audited as theirs.
pub async fn import(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let Query(params) = params?;
    let plan = plan_of(entity, &params)?;
    let format = format_of(&headers, &params)?;
    let (tx, rx) = mpsc::channel(8);
    // The async side pulls the body and hands chunks over; it stops when the reader goes away.
    tokio::spawn(async move {
        let mut body = body.into_data_stream();
        use tokio_stream::StreamExt;
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let too_large = Arc::new(AtomicBool::new(false));
    let limit = state.config.max_import_bytes;
    let reader =
        ChannelReader { rx, chunk: Bytes::new(), read: 0, limit, too_large: too_large.clone() };
    let (sqlite, catalog) = (state.store.clone(), state.catalog.clone());
    let report = write(&state, principal, entity, move |store, now| {
        let options = ImportOptions {
            file_name: format!("{entity} import"),
            format,
            max_errors: MAX_ERRORS,
            now,
        };
        // spec: kpis.md, Targets: imported targets get the same check as the API's own, through
        // a mapping and in a dry run too.
        let currency = store.workspace()?.currency;
        let engine = traction_kpi::engine::Engine { store: &*sqlite, catalog: &catalog };
        let check = |record: &traction_domain::Record| {
            traction_kpi::check::check_target(&engine, record, currency)
        };
        let result = match &plan.mapping {
            Some(m) => traction_import::import_mapped(
                store,
                m,
                reader,
                &options,
                &check,
                plan.dry_run,
                &mut |_| {},
            ),
            None if plan.dry_run => {
                traction_import::dry_run(store, entity, reader, &options, &check, &mut |_| {})
            }
            None => traction_import::import_checked(
                store,
                entity,
                reader,
                &options,
                &check,
                &mut |_| {},
            ),
        };
        match result {
            Ok(report) => {
                // A dry run changed nothing: there is nothing to announce.
                let summary =
                    if report.dry_run { Default::default() } else { report.summary.clone() };
                Ok((report, summary))
            }
            Err(_) if too_large.load(Ordering::Relaxed) => Err(ApiError::PayloadTooLarge(format!(
                "the import is larger than {limit} bytes: split the file"
            ))),
            Err(ImportFailure::Invalid { errors, total }) => {
                let details: Vec<Detail> = errors
                    .iter()
                    .map(|e| Detail {
                        line: Some(e.line),
                        column: e.column.clone(),
                        problem: e.message.clone(),
                        ..Detail::default()
                    })
                    .collect();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                let message = if total == 1 {
                    format!("{first}; nothing was imported")
                } else {
                    format!("{total} errors, the first: {first}; nothing was imported")
                };
                Err(ApiError::invalid(message, details))
            }
            // The body could not be read (a cut connection): the request's fault.
            Err(failure @ ImportFailure::Read(_)) => {
                Err(ApiError::bad_request(failure.to_string()))
            }
            Err(ImportFailure::Io(message)) => Err(ApiError::Internal(message)),
        }
    })
    .await?;
    Ok(Json(Imported {
        entity: entity.name(),
        rows: report.rows,
        created: report.summary.created,
        updated: report.summary.updated,
        unchanged: report.summary.unchanged,
        dry_run: report.dry_run,
        entities: report
            .by_entity
            .iter()
            .filter_map(|c| {
                Some(EntityCounts {
                    entity: c.entity?.name(),
                    created: c.created,
                    updated: c.updated,
                    unchanged: c.unchanged,
                    skipped: c.skipped,
                })
            })
            .collect(),
    })
    .into_response())
}
