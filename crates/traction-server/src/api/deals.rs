//! `POST /api/v1/deals/{id}/move {"stage_id": …}`: a deal changes stage (spec: interfaces.md,
//! HTTP API; data-model.md, deals and stage_changes).
//!
//! One write transaction records a `stage_changes` row at the server's clock and sets the deal's
//! stage. Moving into a won or lost stage closes the deal (`closed_at` = now, so the store derives
//! the status from the stage); moving back into an open stage reopens it (`closed_at` cleared),
//! which is a stage change like any other. Moving a deal to the stage it is in changes nothing,
//! so a retried request is harmless.

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_store::{Store, Summary};

use super::records::{Answer, BodyBytes, IdPath, write_grouped};
use super::types::{Body, RecordJson, parse_body};
use crate::AppState;
use crate::auth::Principal;
use crate::auth::authz::visible;
use crate::error::{ApiError, Detail, Result};

#[derive(Serialize)]
struct Moved<'a> {
    deal: RecordJson<'a>,
    /// The stage change recorded, or null when the deal was already in that stage.
    stage_change: Option<RecordJson<'a>>,
}

/// Moves a deal to a stage as `principal` (a rep: only their own deals).
pub async fn move_deal(
    state: AppState,
    principal: &Principal,
    id: IdPath,
    body: BodyBytes,
) -> Result<Response> {
    let Path(id) = id?;
    let bytes = body?;
    let Body::One(object) = parse_body(&bytes, false)? else {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    };
    let mut stage_id = None;
    // Every field that is not one of a move's, named at once.
    let unknown: Vec<&str> =
        object.0.iter().map(|(key, _)| key.as_str()).filter(|key| *key != "stage_id").collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            format!(
                "{} {} not a field of a move: send {{\"stage_id\": \"…\"}}",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" }
            ),
            unknown
                .iter()
                .map(|key| Detail::field(key, "is not a field of a move: only stage_id is"))
                .collect(),
        ));
    }
    for (key, raw) in &object.0 {
        match key.as_str() {
            "stage_id" => match serde_json::from_str::<String>(raw.get()) {
                Ok(s) if !s.trim().is_empty() => stage_id = Some(s.trim().to_string()),
                _ => {
                    return Err(ApiError::invalid(
                        "stage_id must be a stage's id string",
                        vec![Detail::field("stage_id", "must be a stage's id string")],
                    ));
                }
            },
            other => {
                return Err(ApiError::invalid(
                    format!("{other} is not a field of a move: send {{\"stage_id\": \"…\"}}"),
                    vec![Detail::field(other, "is not a field of a move: only stage_id is")],
                ));
            }
        }
    }
    let Some(stage_id) = stage_id else {
        return Err(ApiError::invalid(
            "stage_id is missing: send {\"stage_id\": \"…\"}",
            vec![Detail::field("stage_id", "is required and is missing")],
        ));
    };
    let caller = principal.clone();
    let (answer, change) = write_grouped(&state, principal, Entity::Deals, move |store, now| {
        let (deal, change, summary) = move_deal_at(store, &caller, &id, &stage_id, now)?;
        Ok(((Answer::load(store, vec![deal])?, change), summary))
    })
    .await?;
    let items = answer.items();
    let stage_change = change.as_ref().map(|record| RecordJson {
        record,
        currency: answer.currency,
        stock_on_hand: None,
    });
    let deal = items.into_iter().next().ok_or_else(|| ApiError::Internal("no deal".into()))?;
    Ok(Json(Moved { deal, stage_change }).into_response())
}

/// Moves deal `id` to stage `stage_id` at `now` in one transaction: records the stage change,
/// closes the deal on a won or lost stage and reopens it on an open one; moving to the current
/// stage changes nothing. Answers the deal as stored, the stage change recorded (if any) and the
/// commit's summary (for the event stream). The API and the web pages both move deals with it,
/// the API inside [`super::records::write_grouped`] (which audits the move as the caller's).
///
/// `principal` may move the deal only if they may change it (a rep: their own deals; a manager:
/// their team's): a deal outside their read scope answers 404, one they see but may not change
/// 403, before anything is written.
pub fn move_deal_at(
    store: &dyn Store,
    principal: &Principal,
    id: &str,
    stage_id: &str,
    now: Micros,
) -> Result<(Record, Option<Record>, Summary)> {
    let (id, stage_id) = (id.to_string(), stage_id.to_string());
    let mut writer = store.writer()?;
    // The store's writer records the stage change (one rule for every write path).
    writer.record_stage_history();
    let mut deal = store
        .get(Entity::Deals, &[Value::Text(id.clone())])?
        .filter(|d| visible(principal, store, d).unwrap_or(false))
        .ok_or_else(|| ApiError::NotFound(format!("no deals record has id {id:?}")))?;
    crate::auth::authz::check_write(principal, store, Entity::Deals, Some(&deal), Some(&deal))?
        .map_err(|denied| match denied {
            crate::auth::authz::Denied::Forbidden(message) => ApiError::Forbidden(message),
            crate::auth::authz::Denied::Hidden { .. } => {
                ApiError::NotFound(format!("no deals record has id {id:?}"))
            }
        })?;
    let stage = store.get(Entity::Stages, &[Value::Text(stage_id.clone())])?.ok_or_else(|| {
        ApiError::invalid(
            format!("stage_id: {stage_id:?}: no such stage"),
            vec![Detail::field("stage_id", format!("{stage_id:?}: no such stage"))],
        )
    })?;
    if deal.get("stage_id").as_text() == Some(stage_id.as_str()) {
        let summary = writer.commit()?;
        return Ok((deal, None, summary));
    }
    let closing = stage.get("kind").as_text() != Some("open");
    let was_closed = !deal.get("closed_at").is_null();
    deal.set("stage_id", Value::Text(stage_id.clone()));
    // The store derives the status from the stage; a won deal moved to lost closes anew.
    deal.set("status", Value::Null);
    if closing {
        deal.set("closed_at", Value::Instant(now));
    } else if was_closed {
        deal.set("closed_at", Value::Null);
    }
    let invalid = |e: traction_store::Error| match e {
        traction_store::Error::Invalid(problems) => ApiError::from_problems(problems, None),
        other => other.into(),
    };
    writer.put(0, deal).map_err(invalid)?;
    let summary = writer.commit().map_err(invalid)?;
    let deal = store
        .get(Entity::Deals, &[Value::Text(id.clone())])?
        .ok_or_else(|| ApiError::Internal(format!("deal {id:?} vanished after its move")))?;
    // The change just recorded: the latest entry of this deal into this stage.
    let filters = [("deal_id", Value::Text(id)), ("stage_id", Value::Text(stage_id))];
    let query =
        traction_store::ListQuery { filters: &filters, condition: None, after: None, limit: 1 };
    let change = store.recent(Entity::StageChanges, "changed_at", &query)?.into_iter().next();
    Ok((deal, change, summary))
}
