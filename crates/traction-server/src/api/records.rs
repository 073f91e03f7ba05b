//! The record endpoints every entity has: list, get, create, replace, patch, delete, delete by
//! key (spec: interfaces.md, HTTP API).
//!
//! The store is synchronous, so every call runs on tokio's blocking pool. Writes read the stored
//! record they build on (PATCH, a deal's stage) only after opening the write transaction, which
//! holds the database's write lock: two PATCHes of one record can never lose each other's change.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use traction_domain::record::parse_field;
use traction_domain::time::Micros;
use traction_domain::{Currency, Entity, FieldType, ParseContext, Record, Value};
use traction_store::{ListQuery, Store, Summary, Writer};

use super::types::{Body, JsonObject, RecordJson, parse_body, record_from_json};
use crate::AppState;
use crate::auth::Principal;
use crate::auth::authz::{Denied, Guarded, visible};
use crate::error::{ApiError, Detail, Result};

/// The query string as name/value pairs, in order.
pub type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;
/// An id from the path.
pub type IdPath = Result<Path<String>, PathRejection>;
/// A request body.
pub type BodyBytes = Result<Bytes, BytesRejection>;

/// The default page size, and the largest (a larger `limit` is clamped, not refused).
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// The parse context of a write: the workspace's zone and currency, and the request's clock.
pub(crate) fn parse_context(store: &dyn Store, now: Micros) -> Result<ParseContext> {
    let workspace = store.workspace()?;
    Ok(ParseContext { zone: workspace.zone, currency: workspace.currency, now })
}

/// Records as they are answered: with a product's derived stock on hand.
pub(crate) struct Answer {
    pub records: Vec<Record>,
    pub stock: Vec<Option<i64>>,
    pub currency: Currency,
}

impl Answer {
    pub(crate) fn load(store: &dyn Store, records: Vec<Record>) -> Result<Answer> {
        let currency = store.workspace()?.currency;
        let mut stock = vec![None; records.len()];
        if records.first().is_some_and(|r| r.entity == Entity::Products) {
            let ids: Vec<&str> = records.iter().filter_map(|r| r.get("id").as_text()).collect();
            let found = store.stock_on_hand(&ids)?;
            for (slot, record) in stock.iter_mut().zip(&records) {
                let id = record.get("id").as_text().unwrap_or("");
                *slot = found.iter().find(|(p, _)| p == id).map(|(_, n)| *n);
            }
        }
        Ok(Answer { records, stock, currency })
    }

    pub(crate) fn items(&self) -> Vec<RecordJson<'_>> {
        self.records
            .iter()
            .zip(&self.stock)
            .map(|(record, stock)| RecordJson {
                record,
                currency: self.currency,
                stock_on_hand: *stock,
            })
            .collect()
    }
}

/// Runs a closure on the store in the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&dyn Store, Micros) -> Result<T> + Send + 'static,
) -> Result<T> {
    let store = state.store.clone();
    let now = (state.clock)();
    tokio::task::spawn_blocking(move || work(&*store as &dyn Store, now)).await?
}

/// Runs a write in the blocking pool as `principal` and announces its changes once it has
/// committed.
///
/// The work gets the store as [`Guarded`]: every writer it opens checks each record against the
/// caller's rights and audits each change as theirs. A refused record makes the whole request a
/// 403 (or a 404 when the record is outside the caller's read scope), and nothing is stored.
pub async fn write<T: Send + 'static>(
    state: &AppState,
    principal: &Principal,
    touched: Entity,
    work: impl FnOnce(&dyn Store, Micros) -> Result<(T, Summary)> + Send + 'static,
) -> Result<T> {
    let store = state.store.clone();
    let now = (state.clock)();
    let principal = principal.clone();
    let (out, summary) = tokio::task::spawn_blocking(move || {
        let guarded = Guarded::new(&*store, &principal, now);
        let res = work(&guarded, now);
        match (res, guarded.denied()) {
            (Err(_), Some(Denied::Hidden { entity, key })) => {
                Err(ApiError::NotFound(format!("no {entity} record has id {key:?}")))
            }
            (Err(_), Some(Denied::Forbidden(message))) => Err(ApiError::Forbidden(message)),
            (res, _) => res,
        }
    })
    .await??;
    state.events.publish(&summary, touched);
    Ok(out)
}

/// Runs a single write as `principal` in the store's group commit ([`Store::write_grouped`]) and
/// announces its changes once they are durable: as [`write`], but a request that arrives while
/// others are being written shares their commit (one fsync for all) instead of waiting for a
/// commit of its own (docs/operations.md, Durability). The work runs on the thread that leads
/// the commit, inside a savepoint of the shared transaction: its store reads see the writes of
/// the requests before it, and its failure undoes only its own writes. It is answered only
/// after the commit: `Ok` means the write is on disk.
///
/// For the record and deal writes, which are short; an import streams its body and keeps
/// [`write`], a commit of its own.
pub async fn write_grouped<T: Send + 'static>(
    state: &AppState,
    principal: &Principal,
    touched: Entity,
    work: impl FnOnce(&dyn Store, Micros) -> Result<(T, Summary)> + Send + 'static,
) -> Result<T> {
    let store = state.store.clone();
    let now = (state.clock)();
    let principal = principal.clone();
    let (out, summary) = tokio::task::spawn_blocking(move || {
        let answer = Arc::new(Mutex::new(None));
        let (slot, inner) = (answer.clone(), store.clone());
        let committed = store.write_grouped(Box::new(move || {
            let guarded = Guarded::new(&*inner, &principal, now);
            let res = work(&guarded, now);
            let res = match (res, guarded.denied()) {
                (Err(_), Some(Denied::Hidden { entity, key })) => {
                    Err(ApiError::NotFound(format!("no {entity} record has id {key:?}")))
                }
                (Err(_), Some(Denied::Forbidden(message))) => Err(ApiError::Forbidden(message)),
                (res, _) => res,
            };
            let ok = res.is_ok();
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(res);
            ok
        }));
        let res = answer.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (res, committed) {
            // Refused: its own answer (its writes were undone, whatever the commit did).
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(done)), Ok(())) => Ok(done),
            // Not on disk (a full disk: 503), or never run.
            (_, Err(e)) => Err(e.into()),
            (None, Ok(())) => Err(ApiError::Internal("a grouped write did not run".into())),
        }
    })
    .await??;
    state.events.publish(&summary, touched);
    Ok(out)
}

/// The caller's read scope of an entity as a list condition (`None`: everything).
fn scope_condition(principal: &Principal, entity: Entity) -> Option<traction_store::Predicate> {
    traction_store::owner_predicate(entity, principal.owners()?)
}

// ---- list -------------------------------------------------------------------------------------

#[derive(Serialize)]
struct Page<'a> {
    items: Vec<RecordJson<'a>>,
    next_cursor: Option<String>,
}

/// The key of a record in storage form, for a cursor.
fn cursor_of(record: &Record) -> String {
    let parts: Vec<serde_json::Value> = record
        .entity
        .key()
        .iter()
        .map(|k| match record.get(k) {
            Value::Int(n) | Value::Instant(n) => serde_json::Value::from(*n),
            other => serde_json::Value::from(traction_domain::record::display_value(other)),
        })
        .collect();
    // Hex of the JSON array of key values: URL-safe without escaping, and opaque enough that
    // clients pass it back rather than build it.
    let text = serde_json::Value::Array(parts).to_string();
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_cursor(entity: Entity, cursor: &str) -> Result<Vec<Value>> {
    let bad = || {
        ApiError::bad_request(format!(
            "cursor {cursor:?} is not a {entity} cursor from this server: pass next_cursor as it was given"
        ))
    };
    if !cursor.len().is_multiple_of(2) || cursor.len() > 4096 {
        return Err(bad());
    }
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    let parts: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let key = entity.key();
    if parts.len() != key.len() {
        return Err(bad());
    }
    key.iter()
        .zip(parts)
        .map(|(name, part)| {
            let field = entity.field(name).ok_or_else(bad)?;
            Ok(match (field.ty, part) {
                (FieldType::Timestamp, serde_json::Value::Number(n)) => {
                    Value::Instant(n.as_i64().ok_or_else(bad)?)
                }
                (FieldType::Int { .. }, serde_json::Value::Number(n)) => {
                    Value::Int(n.as_i64().ok_or_else(bad)?)
                }
                (FieldType::Date, serde_json::Value::String(s)) => {
                    Value::Date(traction_domain::time::parse_date(&s).map_err(|_| bad())?)
                }
                (
                    FieldType::Id | FieldType::Ref(_) | FieldType::Text | FieldType::Category,
                    serde_json::Value::String(s),
                ) => Value::Text(s),
                _ => return Err(bad()),
            })
        })
        .collect()
}

/// Query parameters as field filters: each parsed like an import cell; an empty value matches
/// an absent field.
fn filters(
    entity: Entity,
    params: &[(String, String)],
    ctx: &ParseContext,
    reserved: &[&str],
) -> Result<Vec<(&'static str, Value)>> {
    let mut out = Vec::new();
    let mut details = Vec::new();
    for (name, raw) in params {
        if reserved.contains(&name.as_str()) {
            continue;
        }
        let Some(field) = entity.field(name) else {
            let known: Vec<&str> = entity.fields().iter().map(|f| f.name).collect();
            details.push(Detail::field(
                name,
                format!(
                    "is not a field of {entity}: filter on {}{}",
                    known.join(", "),
                    if reserved.is_empty() {
                        String::new()
                    } else {
                        format!(", or use {}", reserved.join(", "))
                    }
                ),
            ));
            continue;
        };
        if raw.trim().is_empty() {
            out.push((field.name, Value::Null));
            continue;
        }
        match parse_field(field, raw, ctx) {
            Ok(value) => out.push((field.name, value)),
            Err(problem) => details.push(Detail::field(field.name, problem)),
        }
    }
    if details.is_empty() {
        Ok(out)
    } else {
        let message = format!("bad query parameter {}", details[0].field.as_deref().unwrap_or(""));
        Err(ApiError::BadRequest { message, details })
    }
}

fn limit_of(params: &[(String, String)]) -> Result<usize> {
    match params.iter().find(|(k, _)| k == "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some((_, raw)) => match raw.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok((n.min(MAX_LIMIT as u64)) as usize),
            _ => Err(ApiError::BadRequest {
                message: format!("limit {raw:?} is not a whole number of at least 1"),
                details: vec![Detail::field(
                    "limit",
                    "must be a whole number from 1 (at most 1000 are given)",
                )],
            }),
        },
    }
}

/// `GET /api/v1/{entity}`: a page of the records the caller may read.
pub async fn list(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    params: Params,
) -> Result<Response> {
    let scope = scope_condition(principal, entity);
    let Query(params) = params?;
    let limit = limit_of(&params)?;
    let cursor = params.iter().find(|(k, _)| k == "cursor").map(|(_, v)| v.clone());
    let after = match cursor.as_deref() {
        Some(c) if !c.is_empty() => Some(parse_cursor(entity, c)?),
        _ => None,
    };
    let page = blocking(&state, move |store, now| {
        let ctx = parse_context(store, now)?;
        let filters = filters(entity, &params, &ctx, &["limit", "cursor", "where"])?;
        let condition = match params.iter().find(|(k, _)| k == "where") {
            Some((_, text)) if !text.trim().is_empty() => {
                Some(super::filter::compile_where(entity, text, &ctx)?)
            }
            _ => None,
        };
        // Records outside the caller's read scope are left out, as if they did not exist.
        let condition = traction_store::Predicate::all(condition.into_iter().chain(scope));
        // One more than asked tells whether another page follows.
        let mut records = store.list(
            entity,
            &ListQuery {
                filters: &filters,
                condition: condition.as_ref(),
                after: after.as_deref(),
                limit: limit + 1,
            },
        )?;
        let more = records.len() > limit;
        records.truncate(limit);
        let next = if more { records.last().map(cursor_of) } else { None };
        Ok((Answer::load(store, records)?, next))
    })
    .await?;
    let (answer, next_cursor) = page;
    Ok(Json(Page { items: answer.items(), next_cursor }).into_response())
}

// ---- get ----------------------------------------------------------------------------------------

fn not_found(entity: Entity, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {entity} record has id {id:?}"))
}

/// `GET /api/v1/{entity}/{id}`: one record; 404 when it is outside the caller's read scope.
pub async fn get_one(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let principal = principal.clone();
    let answer = blocking(&state, move |store, _| {
        let record = store
            .get(entity, &[Value::Text(id.clone())])?
            .filter(|r| visible(&principal, store, r).unwrap_or(false))
            .ok_or_else(|| not_found(entity, &id))?;
        Answer::load(store, vec![record])
    })
    .await?;
    Ok(Json(&answer.items()[0]).into_response())
}

// ---- create -------------------------------------------------------------------------------------

/// A fresh id for a record created without one: the entity's name and 16 hex digits.
pub fn generated_id(entity: Entity, now: Micros) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // std's RandomState is seeded from the OS once per process and varied per instance; mixed
    // with the clock and a counter, two ids never repeat within a process and are unguessable
    // enough to not collide across restarts.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i64(now);
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{}-{:016x}", entity.name(), hasher.finish())
}

/// A target is checked against the server's catalog (spec: kpis.md, Targets) by the KPI crate's
/// one check, here where the catalog is known: a metric no target can be judged on, a value that
/// makes no sense for it (−5,000, 0, three decimals of GBP, a win rate of 25), is refused rather
/// than failing later in every KPI answer.
fn target_problems(
    sqlite: &dyn traction_store::Backend,
    catalog: &traction_metrics::Catalog,
    record: &Record,
    currency: traction_domain::Currency,
) -> Vec<Detail> {
    let engine = traction_kpi::engine::Engine { store: sqlite, catalog };
    traction_kpi::check::check_target(&engine, record, currency)
        .into_iter()
        .map(|p| Detail::field(&p.field, p.message))
        .collect()
}

/// Puts one record built from JSON. The writer records a deal's stage history
/// ([`Writer::record_stage_history`]).
fn put_record(writer: &mut dyn Writer, index: Option<usize>, record: Record) -> Result<Record> {
    let tag = index.unwrap_or(0) as u64;
    match writer.put(tag, record.clone()) {
        Ok(_) => Ok(record),
        Err(traction_store::Error::Invalid(problems)) => {
            Err(ApiError::from_problems(problems, index))
        }
        Err(e) => Err(e.into()),
    }
}

fn commit(writer: Box<dyn Writer + '_>) -> Result<Summary> {
    match writer.commit() {
        Ok(summary) => Ok(summary),
        Err(traction_store::Error::Invalid(problems)) => {
            Err(ApiError::from_problems(problems, None))
        }
        Err(e) => Err(e.into()),
    }
}

/// The stored form of records just written, in the order given.
fn reload(store: &dyn Store, written: &[Record]) -> Result<Vec<Record>> {
    written
        .iter()
        .map(|r| {
            let key: Vec<Value> = r.entity.key().iter().map(|k| r.get(k).clone()).collect();
            Ok(store.get(r.entity, &key)?.unwrap_or_else(|| r.clone()))
        })
        .collect()
}

#[derive(Serialize)]
struct Items<'a> {
    items: Vec<RecordJson<'a>>,
}

/// `POST /api/v1/{entity}`: creates (or upserts) one record or an array of them, as `principal`.
pub async fn create(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    body: BodyBytes,
) -> Result<Response> {
    let bytes = body?;
    let body = parse_body(&bytes, true)?;
    let (objects, many): (Vec<JsonObject>, bool) = match body {
        Body::One(object) => (vec![object], false),
        Body::Many(objects) => (objects, true),
    };
    if objects.is_empty() {
        return Err(ApiError::bad_request("the array is empty: send at least one record"));
    }
    let catalog = state.catalog.clone();
    let sqlite = state.store.clone();
    let (answer, created) = write_grouped(&state, principal, entity, move |store, now| {
        let ctx = parse_context(store, now)?;
        let mut records = Vec::with_capacity(objects.len());
        let mut details = Vec::new();
        for (idx, object) in objects.iter().enumerate() {
            let index = many.then_some(idx);
            let new_id = entity.has_id().then(|| generated_id(entity, now));
            match record_from_json(entity, object, None, new_id.as_deref(), &ctx) {
                Ok(record) => records.push(record),
                Err(found) => details.extend(found.into_iter().map(|d| d.at(index))),
            }
        }
        for (idx, record) in records.iter().enumerate() {
            for detail in target_problems(&*sqlite, &catalog, record, ctx.currency) {
                details.push(detail.at(many.then_some(idx)));
            }
        }
        if !details.is_empty() {
            return Err(ApiError::invalid(first_message(&details), details));
        }
        let mut writer = store.writer()?;
        writer.record_stage_history();
        let mut written = Vec::with_capacity(records.len());
        for (idx, record) in records.into_iter().enumerate() {
            written.push(put_record(&mut *writer, many.then_some(idx), record)?);
        }
        let summary = commit(writer)?;
        let created = summary.created > 0;
        let answer = Answer::load(store, reload(store, &written)?)?;
        Ok(((answer, created), summary))
    })
    .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let items = answer.items();
    if many {
        Ok((status, Json(Items { items })).into_response())
    } else {
        Ok((status, Json(&items[0])).into_response())
    }
}

fn first_message(details: &[Detail]) -> String {
    let first = &details[0];
    let place = match (first.index, &first.field) {
        (Some(i), Some(f)) => format!("record {i}, {f}: "),
        (Some(i), None) => format!("record {i}: "),
        (None, Some(f)) => format!("{f}: "),
        (None, None) => String::new(),
    };
    if details.len() == 1 {
        format!("{place}{}", first.problem)
    } else {
        format!(
            "{} problems, the first: {place}{}; nothing was stored",
            details.len(),
            first.problem
        )
    }
}

// ---- replace and patch ----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Update {
    Replace,
    Patch,
}

async fn update(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    id: IdPath,
    body: BodyBytes,
    how: Update,
) -> Result<Response> {
    let Path(id) = id?;
    let bytes = body?;
    let Body::One(object) = parse_body(&bytes, false)? else {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    };
    let catalog = state.catalog.clone();
    let sqlite = state.store.clone();
    let caller = principal.clone();
    let (answer, created) = write_grouped(&state, principal, entity, move |store, now| {
        let ctx = parse_context(store, now)?;
        // The write lock first, then the stored record: no other write can come between.
        let mut writer = store.writer()?;
        writer.record_stage_history();
        let stored = store.get(entity, &[Value::Text(id.clone())])?;
        // A record outside the caller's read scope is answered as if it did not exist, before
        // anything about the body can tell otherwise.
        if let Some(record) = &stored
            && !visible(&caller, store, record)?
        {
            return Err(not_found(entity, &id));
        }
        let existed = stored.is_some();
        let base = match (how, stored) {
            (Update::Patch, Some(record)) => Some(record),
            (Update::Patch, None) => return Err(not_found(entity, &id)),
            // PUT replaces a record, or creates it under the id the client chose.
            (Update::Replace, _) => None,
        };
        let mut record = record_from_json(entity, &object, base, Some(&id), &ctx)
            .map_err(|details| ApiError::invalid(first_message(&details), details))?;
        match record.get("id") {
            Value::Null => record.set("id", Value::Text(id.clone())),
            Value::Text(given) if *given == id => {}
            other => {
                let given = traction_domain::record::display_value(other);
                return Err(ApiError::invalid(
                    format!("id: the body's id {given:?} differs from the path's {id:?}"),
                    vec![Detail::field("id", format!("{given:?} differs from the id in the path, {id:?}: ids cannot be changed"))],
                ));
            }
        }
        // A deal's derived status follows its new stage unless the client states it.
        if entity == Entity::Deals && how == Update::Patch && !object.0.iter().any(|(k, _)| k == "status") {
            record.set("status", Value::Null);
        }
        let details = target_problems(&*sqlite, &catalog, &record, ctx.currency);
        if !details.is_empty() {
            return Err(ApiError::invalid(first_message(&details), details));
        }
        let written = put_record(&mut *writer, None, record)?;
        let summary = commit(writer)?;
        let answer = Answer::load(store, reload(store, &[written])?)?;
        let created = !existed;
        Ok(((answer, created), summary))
    })
    .await?;
    // A PUT that made a new record says so, as a POST does.
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(&answer.items()[0])).into_response())
}

/// `PUT /api/v1/{entity}/{id}`: replaces (or creates) a record, as `principal`.
pub async fn replace(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    id: IdPath,
    body: BodyBytes,
) -> Result<Response> {
    update(state, principal, entity, id, body, Update::Replace).await
}

/// `PATCH /api/v1/{entity}/{id}`: changes the fields given, as `principal`.
pub async fn patch(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    id: IdPath,
    body: BodyBytes,
) -> Result<Response> {
    update(state, principal, entity, id, body, Update::Patch).await
}

// ---- delete ---------------------------------------------------------------------------------------

async fn delete_key(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    key: Vec<Value>,
    shown: String,
) -> Result<Response> {
    write_grouped(&state, principal, entity, move |store, _| {
        let mut writer = store.writer()?;
        match writer.delete(entity, &key) {
            Ok(()) => {}
            Err(traction_store::Error::NotFound) => {
                return Err(ApiError::NotFound(format!("no {entity} record has key {shown}")));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(((), commit(writer)?))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/{entity}/{id}`, as `principal`.
pub async fn delete_one(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let shown = format!("{id:?}");
    delete_key(state, principal, entity, vec![Value::Text(id)], shown).await
}

/// `DELETE /api/v1/web_visits?day=…&source=…`: keyed entities are deleted by their key fields.
pub async fn delete_by_key(
    state: AppState,
    principal: &Principal,
    entity: Entity,
    params: Params,
) -> Result<Response> {
    let Query(params) = params?;
    let ctx = {
        let now = (state.clock)();
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || parse_context(&*store as &dyn Store, now)).await??
    };
    let mut details = Vec::new();
    let mut key = Vec::new();
    for name in entity.key() {
        let Some(field) = entity.field(name) else { continue };
        match params.iter().find(|(k, _)| k == name) {
            None => details.push(Detail::field(
                name,
                "is part of the key and is missing: give every key field as a query parameter",
            )),
            Some((_, raw)) => match parse_field(field, raw, &ctx) {
                Ok(value) => key.push(value),
                Err(problem) => details.push(Detail::field(name, problem)),
            },
        }
    }
    for (name, _) in &params {
        if !entity.key().contains(&name.as_str()) {
            details.push(Detail::field(
                name,
                format!("is not a key field of {entity}: its key is {}", entity.key().join(", ")),
            ));
        }
    }
    if !details.is_empty() {
        let message =
            format!("a {entity} record is deleted by its key: {}", entity.key().join(", "));
        return Err(ApiError::BadRequest { message, details });
    }
    let shown = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    delete_key(state, principal, entity, key, shown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_gives_back_the_key_it_was_made_from() {
        let record = Record {
            entity: Entity::StageChanges,
            values: vec![
                Value::Text("d-1".into()),
                Value::Text("s/2".into()),
                Value::Instant(1_772_442_000_000_001),
                Value::Null,
            ],
        };
        let cursor = cursor_of(&record);
        assert!(cursor.bytes().all(|b| b.is_ascii_hexdigit()), "URL-safe: {cursor}");
        assert_eq!(
            parse_cursor(Entity::StageChanges, &cursor).unwrap(),
            vec![
                Value::Text("d-1".into()),
                Value::Text("s/2".into()),
                Value::Instant(1_772_442_000_000_001)
            ]
        );
    }

    #[test]
    fn cursors_of_another_shape_are_refused() {
        let team = Record {
            entity: Entity::Teams,
            values: vec![Value::Text("t1".into()), Value::Null, Value::Null],
        };
        let cursor = cursor_of(&team);
        // A teams cursor is not a web_visits cursor, and hex that is not JSON is nothing.
        assert!(parse_cursor(Entity::WebVisits, &cursor).is_err());
        assert!(parse_cursor(Entity::Teams, "7b7d").is_err());
        assert!(parse_cursor(Entity::Teams, "abc").is_err());
        assert!(parse_cursor(Entity::Teams, "zz").is_err());
    }

    #[test]
    fn limits_default_clamp_and_refuse_nonsense() {
        let params = |v: &str| vec![("limit".to_string(), v.to_string())];
        assert_eq!(limit_of(&[]).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit_of(&params("5000")).unwrap(), MAX_LIMIT);
        assert_eq!(limit_of(&params("7")).unwrap(), 7);
        assert!(limit_of(&params("0")).is_err());
        assert!(limit_of(&params("-1")).is_err());
    }
}
