//! The monitoring endpoints (spec: monitoring.md, Command line and API): `channels`,
//! `alert-rules`, `alerts` (instances with their state), `alert-history`, `silences` and
//! `notifications` (the caller's own, and `POST /notifications/{id}/read`).
//!
//! Rules, channels and silences are checked and stored by `traction-monitor`, as the command
//! line does, and audited as the caller. Admins manage all of them; a manager only within the
//! teams they manage (a rule on a target or scope of those teams, a channel to one of their
//! people or teams); the route table (`authz::route_roles`) keeps reps and viewers to reading.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use traction_domain::time::{format_instant, parse_instant};
use traction_kpi::engine::Engine;
use traction_kpi::scope::Scope;
use traction_kpi::service::Kpis;
use traction_monitor::channel::{ChannelConfig, ChannelInput};
use traction_monitor::rule::{RuleInput, RuleSpec};
use traction_monitor::schedule::ReportError;
use traction_store::monitor::{NotificationQuery, Silence};
use traction_store::{Actor, MonitorStore};

use super::records::{BodyBytes, IdPath, Params};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Detail, Result};

/// A monitoring error as the API's; a refusal names the body field at fault when the monitor
/// crate says which (a typed field, never read back from the message).
pub fn monitor_error(e: traction_monitor::Error) -> ApiError {
    match e {
        traction_monitor::Error::Invalid { field, message } => {
            let details = field.map(|f| vec![Detail::field(f, message.clone())]);
            ApiError::invalid(message, details.unwrap_or_default())
        }
        traction_monitor::Error::NotFound(m) => ApiError::NotFound(m),
        // A figure a rule needs that cannot be computed is the rule's fault, as it always was.
        e @ traction_monitor::Error::Kpi(_) => ApiError::invalid(e.to_string(), Vec::new()),
        traction_monitor::Error::Store(e) => e.into(),
    }
}

fn body<T: for<'de> Deserialize<'de>>(bytes: BodyBytes) -> Result<T> {
    let bytes = bytes.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
    crate::error::from_json(&bytes)
}

fn no_params(p: Params, allowed: &[&str]) -> Result<Vec<(String, String)>> {
    let Query(list) = p?;
    if let Some((name, _)) = list.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter {name:?}{}",
            if allowed.is_empty() {
                String::new()
            } else {
                format!(": use {}", allowed.join(", "))
            }
        )));
    }
    Ok(list)
}

fn actor(principal: &Principal, now: i64) -> Actor {
    Actor { user: principal.user_id.clone(), at: Some(now) }
}

/// Whether a manager manages a scope: a team of theirs or one of their people. Admins (and
/// managers without a team) manage everything.
fn manages(principal: &Principal, scope: &Scope) -> bool {
    match (principal.teams(), scope) {
        (None, _) => true,
        (Some(_), Scope::Company) => false,
        (Some(teams), Scope::Team(t)) => teams.contains(t),
        (Some(_), Scope::User(u)) => principal.owners().is_some_and(|o| o.contains(u)),
    }
}

fn outside(what: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "{what} is outside the teams you manage: ask an admin, or choose one of your teams"
    ))
}

fn channel_json(channel: &traction_store::monitor::Channel) -> Json_ {
    let config = ChannelConfig::of(channel).map(|c| c.public()).unwrap_or(Json_::Null);
    json!({"id": channel.id, "kind": channel.kind, "config": config,
           "created_at": format_instant(channel.created_at), "created_by": channel.created_by})
}

pub(crate) async fn list_channels(state: AppState, p: Params) -> Result<Response> {
    no_params(p, &[])?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        Ok(store.channels()?.iter().map(channel_json).collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewChannel {
    id: String,
    webhook: Option<String>,
    secret: Option<String>,
    email: Option<String>,
    user: Option<String>,
    team: Option<String>,
}

pub(crate) async fn create_channel(
    state: AppState,
    principal: Arc<Principal>,
    b: BodyBytes,
) -> Result<Response> {
    let new: NewChannel = body(b)?;
    let (store, now) = (state.store.clone(), (state.clock)());
    let created = tokio::task::spawn_blocking(move || -> Result<Json_> {
        if let Some(team) = &new.team
            && !manages(&principal, &Scope::Team(team.clone()))
        {
            return Err(outside(&format!("team {team}")));
        }
        if let Some(user) = &new.user
            && !manages(&principal, &Scope::User(user.clone()))
        {
            return Err(outside(&format!("user {user}")));
        }
        let input = ChannelInput {
            id: new.id,
            webhook: new.webhook,
            secret: new.secret,
            email: new.email,
            user: new.user,
            team: new.team,
        };
        let channel = traction_monitor::channel::add(
            store.as_ref(),
            store.as_ref(),
            &input,
            &actor(&principal, now),
            now,
        )
        .map_err(monitor_error)?;
        Ok(channel_json(&channel))
    })
    .await??;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(crate) async fn delete_channel(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let (store, now) = (state.store.clone(), (state.clock)());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let channel = store
            .channel(&id)?
            .ok_or_else(|| ApiError::NotFound(format!("no such channel {id:?}")))?;
        if principal.teams().is_some() && channel.created_by != principal.user_id {
            return Err(outside(&format!("channel {id}, made by {},", channel.created_by)));
        }
        store.delete_channel(&id, &actor(&principal, now))?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn rule_json(rule: &traction_store::monitor::Rule) -> Json_ {
    let spec = RuleSpec::of(rule).ok();
    json!({
        "id": rule.id, "kind": rule.kind,
        "condition": spec.as_ref().map(|s| s.condition(rule.for_secs)),
        "definition": spec.as_ref().and_then(|s| serde_json::to_value(s).ok()),
        "for": traction_monitor::duration::format_seconds(rule.for_secs),
        "channels": rule.channels, "created_at": format_instant(rule.created_at),
        "created_by": rule.created_by,
    })
}

pub(crate) async fn list_rules(state: AppState, p: Params) -> Result<Response> {
    no_params(p, &[])?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        Ok(store.rules()?.iter().map(rule_json).collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

/// A number or its text, as `value` may be sent either way.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(serde_json::Number),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRule {
    id: String,
    kind: String,
    target: Option<String>,
    targets: Option<String>,
    status: Option<String>,
    metric: Option<String>,
    scope: Option<String>,
    window: Option<String>,
    op: Option<String>,
    value: Option<NumberOrText>,
    by: Option<String>,
    min_sample: Option<i64>,
    minutes: Option<i64>,
    level: Option<String>,
    #[serde(rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
}

pub(crate) async fn create_rule(
    state: AppState,
    principal: Arc<Principal>,
    b: BodyBytes,
) -> Result<Response> {
    let new: NewRule = body(b)?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let created = tokio::task::spawn_blocking(move || -> Result<Json_> {
        let engine = Engine { store: &*store, catalog: &catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let input = RuleInput {
            id: new.id,
            kind: new.kind,
            target: new.target,
            targets: new.targets,
            status: new.status,
            metric: new.metric,
            scope: new.scope,
            window: new.window,
            op: new.op,
            value: new.value.map(|v| match v {
                NumberOrText::Number(n) => n.to_string(),
                NumberOrText::Text(t) => t,
            }),
            by: new.by,
            min_sample: new.min_sample,
            minutes: new.minutes,
            level: new.level,
            for_: new.for_,
            channels: new.channels,
        };
        may_watch(&principal, &kpis, &input)?;
        let rule = traction_monitor::rule::add(
            store.as_ref(),
            &kpis,
            &input,
            &actor(&principal, now),
            now,
        )
        .map_err(monitor_error)?;
        Ok(rule_json(&rule))
    })
    .await??;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Whether the caller may make (or change) a rule so: admins any; a manager only one that
/// watches their teams (a target or scope of theirs; not every target or every lead). The web
/// app's form asks the same.
pub fn may_watch(principal: &Principal, kpis: &Kpis<'_>, input: &RuleInput) -> Result<()> {
    if principal.teams().is_none() {
        return Ok(());
    }
    let (spec, _) = traction_monitor::rule::parse(input, kpis).map_err(monitor_error)?;
    match &spec {
        RuleSpec::Kpi { target: Some(id), .. } => {
            let target = kpis.target(id).map_err(|e| ApiError::invalid(e.to_string(), vec![]))?;
            if !manages(principal, &target.scope) {
                return Err(outside(&format!("target {id} ({})", target.scope)));
            }
        }
        RuleSpec::Threshold { scope, .. } | RuleSpec::Anomaly { scope, .. } => {
            let scope =
                Scope::parse(scope).map_err(|e| ApiError::invalid(e.to_string(), vec![]))?;
            if !manages(principal, &scope) {
                return Err(outside(&format!("scope {scope}")));
            }
        }
        RuleSpec::Kpi { target: None, .. } | RuleSpec::LeadSla { .. } => {
            return Err(outside("a rule over every target or every lead"));
        }
    }
    Ok(())
}

/// Whether the caller may change or silence a rule: admins any, a manager the ones they made.
pub fn may_change(principal: &Principal, rule: &traction_store::monitor::Rule) -> Result<()> {
    if principal.teams().is_some() && rule.created_by != principal.user_id {
        return Err(outside(&format!("rule {}, made by {},", rule.id, rule.created_by)));
    }
    Ok(())
}

pub(crate) async fn delete_rule(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let (store, now) = (state.store.clone(), (state.clock)());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let rule =
            store.rule(&id)?.ok_or_else(|| ApiError::NotFound(format!("no such rule {id:?}")))?;
        if principal.teams().is_some() && rule.created_by != principal.user_id {
            return Err(outside(&format!("rule {id}, made by {},", rule.created_by)));
        }
        store.delete_rule(&id, &actor(&principal, now))?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn alerts(state: AppState, p: Params) -> Result<Response> {
    let list = no_params(p, &["state", "rule"])?;
    let get = |name: &str| list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let (state_filter, rule) = (get("state"), get("rule"));
    if let Some(s) = &state_filter
        && !["firing", "pending", "resolved", "inactive"].contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "state {s:?}: use firing, pending, resolved or inactive"
        )));
    }
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        Ok(store
            .instances(rule.as_deref())?
            .into_iter()
            .filter(|it| state_filter.as_ref().is_none_or(|s| *s == it.state))
            .map(|it| {
                json!({"rule": it.rule_id, "key": it.key, "state": it.state,
                       "since": it.since.map(format_instant), "fired_at": it.fired_at.map(format_instant),
                       "value": it.value, "summary": it.summary, "url": it.url})
            })
            .collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

pub(crate) async fn history(state: AppState, p: Params) -> Result<Response> {
    let list = no_params(p, &["from", "to"])?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        let zone = store.workspace()?.zone;
        let time = |name: &str| -> Result<Option<i64>> {
            list.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| {
                    parse_instant(v, &zone)
                        .map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
                })
                .transpose()
        };
        let (from, to) = (time("from")?, time("to")?);
        Ok(store
            .transitions(from, to)?
            .into_iter()
            .map(|t| {
                json!({"at": format_instant(t.at), "rule": t.rule_id, "key": t.key,
                       "from": t.from, "to": t.to, "value": t.value, "summary": t.summary})
            })
            .collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

fn silence_json(s: &Silence) -> Json_ {
    json!({"id": s.id, "rule": s.rule_id, "key": s.key, "from": format_instant(s.starts_at),
           "until": format_instant(s.ends_at), "comment": s.comment, "created_by": s.created_by})
}

pub(crate) async fn list_silences(state: AppState, p: Params) -> Result<Response> {
    no_params(p, &[])?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        Ok(store.silences()?.iter().map(silence_json).collect())
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSilence {
    id: Option<String>,
    rule: String,
    key: Option<String>,
    from: Option<String>,
    until: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn create_silence(
    state: AppState,
    principal: Arc<Principal>,
    b: BodyBytes,
) -> Result<Response> {
    let new: NewSilence = body(b)?;
    let (store, now) = (state.store.clone(), (state.clock)());
    let created = tokio::task::spawn_blocking(move || -> Result<Json_> {
        let zone = store.workspace()?.zone;
        let time = |name: &str, v: &str| {
            parse_instant(v, &zone).map_err(|e| {
                let m = format!("{name}: {e}");
                ApiError::invalid(m.clone(), vec![Detail::field(name, m)])
            })
        };
        let starts_at = match &new.from {
            Some(v) => time("from", v)?,
            None => now,
        };
        let ends_at = time("until", &new.until)?;
        let rule = store.rule(&new.rule)?.ok_or_else(|| {
            let m = format!("no such rule {:?}", new.rule);
            ApiError::invalid(m.clone(), vec![Detail::field("rule", m)])
        })?;
        if principal.teams().is_some() && rule.created_by != principal.user_id {
            return Err(outside(&format!("rule {}, made by {},", rule.id, rule.created_by)));
        }
        let existing = store.silences()?;
        let id = new.id.unwrap_or_else(|| {
            let mut n = existing.len() + 1;
            while existing.iter().any(|s| s.id == format!("s-{n}")) {
                n += 1;
            }
            format!("s-{n}")
        });
        let silence = Silence {
            id,
            rule_id: new.rule,
            key: new.key,
            starts_at,
            ends_at,
            comment: new.comment,
            created_at: now,
            created_by: principal.user_id.clone(),
        };
        traction_monitor::silence::add(store.as_ref(), &silence, &actor(&principal, now))
            .map_err(monitor_error)?;
        Ok(silence_json(&silence))
    })
    .await??;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(crate) async fn delete_silence(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let (store, now) = (state.store.clone(), (state.clock)());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let silence = store
            .silences()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("no such silence {id:?}")))?;
        if principal.teams().is_some() && silence.created_by != principal.user_id {
            return Err(outside(&format!("silence {id}, made by {},", silence.created_by)));
        }
        store.delete_silence(&id, &actor(&principal, now))?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn notifications(
    state: AppState,
    principal: Arc<Principal>,
    p: Params,
) -> Result<Response> {
    let list = no_params(p, &["unread", "limit"])?;
    let get = |name: &str| list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let unread_only = match get("unread").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!("unread {other:?}: use true or false")));
        }
    };
    let limit = match get("limit") {
        None => 100,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit {v:?}: a whole number 1 to 1000"
                )));
            }
        },
    };
    let store = state.store.clone();
    let (items, unread) = tokio::task::spawn_blocking(move || -> Result<(Vec<Json_>, usize)> {
        let query = NotificationQuery {
            user_id: Some(principal.user_id.clone()),
            unread_only,
            channel_id: None,
            limit,
        };
        let items = store
            .notifications(&query)?
            .into_iter()
            .map(|n| {
                json!({"id": n.id, "kind": n.kind, "rule": n.rule_id, "key": n.key, "state": n.state,
                       "at": format_instant(n.at), "text": n.text,
                       "body": serde_json::from_str::<Json_>(&n.body).unwrap_or_default(),
                       "read": n.read_at.is_some()})
            })
            .collect();
        let unread = store
            .notifications(&NotificationQuery {
                user_id: Some(principal.user_id.clone()),
                unread_only: true,
                channel_id: None,
                limit: 1000,
            })?
            .len();
        Ok((items, unread))
    })
    .await??;
    Ok(Json(json!({"items": items, "unread": unread, "next_cursor": null})).into_response())
}

pub(crate) async fn read_notification(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let n: i64 = id.parse().map_err(|_| {
        ApiError::bad_request(format!("{id:?} is not a notification id (a number)"))
    })?;
    let (store, now) = (state.store.clone(), (state.clock)());
    let (events, user) = (state.events.clone(), principal.user_id.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        store.mark_read(n, &principal.user_id, now).map_err(|e| match e {
            traction_store::Error::NotFound => {
                ApiError::NotFound(format!("no notification {n} of yours"))
            }
            other => other.into(),
        })
    })
    .await??;
    // The reader's other pages: the bell counts down.
    events.notified(&user);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn schedule_json(
    store: &dyn MonitorStore,
    schedule: &traction_store::monitor::Schedule,
    org: &traction_kpi::scope::Org,
) -> Result<Json_> {
    let last_run = store
        .schedule_runs(&schedule.id)?
        .pop()
        .map(|(due, status)| json!({"due": format_instant(due), "status": status}));
    Ok(json!({
        "id": schedule.id, "every": schedule.every, "time": schedule.time, "scope": schedule.scope,
        "channels": schedule.channels, "created_at": format_instant(schedule.created_at),
        "created_by": schedule.created_by, "last_run": last_run,
        "problem": traction_monitor::schedule::problem(schedule, org),
    }))
}

pub(crate) async fn list_schedules(state: AppState, p: Params) -> Result<Response> {
    no_params(p, &[])?;
    let (store, catalog) = (state.store.clone(), state.catalog.clone());
    let items = tokio::task::spawn_blocking(move || -> Result<Vec<Json_>> {
        let engine = Engine { store: &*store, catalog: &catalog };
        let org = Kpis { store: store.as_ref(), metrics: &engine }.org().map_err(kpi_error)?;
        store.schedules()?.iter().map(|s| schedule_json(store.as_ref(), s, &org)).collect()
    })
    .await??;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

fn kpi_error(e: traction_kpi::service::Error) -> ApiError {
    monitor_error(e.into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    id: Option<String>,
    every: Option<String>,
    time: Option<String>,
    scope: Option<String>,
    channels: Option<Vec<String>>,
}

/// A manager's schedule reports on their own teams and people only.
pub fn check_managed(principal: &Principal, scope: Option<&str>) -> Result<()> {
    if principal.teams().is_none() {
        return Ok(());
    }
    let scope = Scope::parse(scope.unwrap_or("company"))
        .map_err(|e| ApiError::invalid(format!("scope: {e}"), vec![Detail::field("scope", e)]))?;
    if manages(principal, &scope) { Ok(()) } else { Err(outside(&format!("scope {scope}"))) }
}

pub(crate) async fn create_schedule(
    state: AppState,
    principal: Arc<Principal>,
    b: BodyBytes,
) -> Result<Response> {
    let new: ScheduleBody = body(b)?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let created = tokio::task::spawn_blocking(move || -> Result<Json_> {
        let missing = |name: &str, hint: &str| {
            let m = format!("{name} is required: {hint}");
            ApiError::invalid(m.clone(), vec![Detail::field(name, m)])
        };
        let input = traction_monitor::schedule::ScheduleInput {
            id: new.id.ok_or_else(|| missing("id", "1 to 64 letters, digits, '-', '_' or '.'"))?,
            every: new.every.ok_or_else(|| missing("every", "day, week or month"))?,
            time: new.time.ok_or_else(|| missing("time", "HH:MM in the workspace zone"))?,
            scope: new.scope,
            channels: new.channels.unwrap_or_default(),
        };
        check_managed(&principal, input.scope.as_deref())?;
        let engine = Engine { store: &*store, catalog: &catalog };
        let org = Kpis { store: store.as_ref(), metrics: &engine }.org().map_err(kpi_error)?;
        let schedule = traction_monitor::schedule::add(
            store.as_ref(),
            &org,
            &input,
            &actor(&principal, now),
            now,
        )
        .map_err(monitor_error)?;
        schedule_json(store.as_ref(), &schedule, &org)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// The schedule `id`, if the caller may change it: an admin any, a manager their own.
pub fn own_schedule(
    store: &dyn MonitorStore,
    principal: &Principal,
    id: &str,
) -> Result<traction_store::monitor::Schedule> {
    let schedule = store
        .schedules()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no such schedule {id:?}")))?;
    if principal.teams().is_some() && schedule.created_by != principal.user_id {
        return Err(outside(&format!("schedule {id}, made by {},", schedule.created_by)));
    }
    Ok(schedule)
}

pub(crate) async fn update_schedule(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
    b: BodyBytes,
) -> Result<Response> {
    let Path(id) = id?;
    let change: ScheduleBody = body(b)?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let updated = tokio::task::spawn_blocking(move || -> Result<Json_> {
        if change.id.as_ref().is_some_and(|new| *new != id) {
            let m = "id cannot be changed: make a new schedule and delete this one";
            return Err(ApiError::invalid(m, vec![Detail::field("id", m)]));
        }
        let existing = own_schedule(store.as_ref(), &principal, &id)?;
        let input = traction_monitor::schedule::ScheduleInput {
            id: existing.id.clone(),
            every: change.every.unwrap_or_else(|| existing.every.clone()),
            time: change.time.unwrap_or_else(|| existing.time.clone()),
            scope: Some(change.scope.unwrap_or_else(|| existing.scope.clone())),
            channels: change.channels.unwrap_or_else(|| existing.channels.clone()),
        };
        check_managed(&principal, input.scope.as_deref())?;
        let engine = Engine { store: &*store, catalog: &catalog };
        let org = Kpis { store: store.as_ref(), metrics: &engine }.org().map_err(kpi_error)?;
        let schedule = traction_monitor::schedule::update(
            store.as_ref(),
            &org,
            &existing,
            &input,
            &actor(&principal, now),
        )
        .map_err(|e| match e {
            traction_monitor::Error::Store(traction_store::Error::NotFound) => {
                ApiError::NotFound(format!("no such schedule {id:?}"))
            }
            other => monitor_error(other),
        })?;
        schedule_json(store.as_ref(), &schedule, &org)
    })
    .await??;
    Ok(Json(updated).into_response())
}

pub(crate) async fn delete_schedule(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let (store, now) = (state.store.clone(), (state.clock)());
    tokio::task::spawn_blocking(move || -> Result<()> {
        own_schedule(store.as_ref(), &principal, &id)?;
        store.delete_schedule(&id, &actor(&principal, now))?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Sends a schedule's report of its latest period now, with its maker's rights (to try it
/// out): stored as notifications the server's next round delivers, not as a due instant.
pub(crate) async fn run_schedule(
    state: AppState,
    principal: Arc<Principal>,
    id: IdPath,
) -> Result<Response> {
    let Path(id) = id?;
    let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), (state.clock)());
    let sent = tokio::task::spawn_blocking(move || -> Result<Json_> {
        use traction_monitor::schedule::{Every, due_instants};
        let schedule = own_schedule(store.as_ref(), &principal, &id)?;
        let engine = Engine { store: &*store, catalog: &catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let org = kpis.org().map_err(kpi_error)?;
        if let Some(why) = traction_monitor::schedule::problem(&schedule, &org) {
            return Err(ApiError::invalid(format!("the report is not sent: {why}"), vec![]));
        }
        let scope =
            Scope::parse(&schedule.scope).map_err(|e| ApiError::invalid(e.to_string(), vec![]))?;
        let calendar = kpis.calendar(org.calendar_team(&scope).as_deref()).map_err(kpi_error)?;
        let every =
            Every::parse(&schedule.every).map_err(|e| ApiError::invalid(e.to_string(), vec![]))?;
        let time = jiff::civil::Time::strptime("%H:%M", &schedule.time)
            .map_err(|e| ApiError::Internal(format!("schedule {id}: time: {e}")))?;
        // The latest period it covers: looking back over two months finds one for every kind.
        let window = 70 * 86_400 * 1_000_000;
        let due = due_instants(every, time, &calendar, now - window, now)
            .pop()
            .ok_or_else(|| ApiError::invalid("no working day to report on yet", vec![]))?;
        let zone = calendar.zone.clone();
        let report = |s: &traction_store::monitor::Schedule,
                      from: jiff::civil::Date,
                      to: jiff::civil::Date,
                      at: i64| {
            let day = |date: jiff::civil::Date| {
                traction_domain::time::start_of_day(date, &zone)
                    .map(|m| (m, date.to_string()))
                    .map_err(|source| ReportError::Day { date, source })
            };
            let scope = Scope::parse(&s.scope)
                .map_err(|source| ReportError::Scope { scope: s.scope.clone(), source })?;
            // With the KPI forecasts and their backtests, as `traction report` shows them.
            let forecasts = traction_forecast::kpi::Source::new(&*store, &catalog);
            let report = crate::report::build(
                &*store,
                &catalog,
                &forecasts,
                scope,
                day(from)?,
                day(to)?,
                at,
            )?;
            Ok(traction_monitor::schedule::ReportContent {
                json: crate::wire::report(&report),
                text: traction_render::report::markdown(&report),
                html: traction_render::report::html(&report),
                csv: traction_render::report::csv(&report),
            })
        };
        let content = traction_monitor::schedule::due_report(&schedule, &due, now, &report)
            .map_err(|e| match e {
                // Checked above, so only a scope changed meanwhile gets here.
                e @ ReportError::Scope { .. } => ApiError::invalid(e.to_string(), vec![]),
                e @ (ReportError::Day { .. } | ReportError::Kpi(_) | ReportError::Store(_)) => {
                    ApiError::Internal(e.to_string())
                }
            })?;
        let due = traction_monitor::schedule::Due { at: now, ..due };
        let notes = traction_monitor::schedule::addressed(
            &schedule,
            &due,
            &content,
            &store.channels()?,
            &org,
        );
        store.add_notifications(&notes, now)?;
        Ok(json!({"schedule": schedule.id, "from": due.from.to_string(), "to": due.to.to_string(),
                  "notifications": notes.len()}))
    })
    .await??;
    Ok(Json(sent).into_response())
}
