//! The Alerts page (monitoring.md: rules, what is firing now, history, silences; schedules),
//! its forms (a rule, a schedule, a silence) and the notification list behind the bell.
//!
//! Everything is read from and written through `traction-monitor` and the store's
//! `MonitorStore`, with the same checks as the API (`traction_server::api::monitor::may_watch`,
//! `check_managed`, `own_schedule`, `may_change`): admins and managers write (a manager within
//! their teams), reps see the alerts about themselves, viewers read. A refused or bad form is
//! shown again with each problem at its field, and nothing is stored.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::time::parse_instant;
use traction_kpi::engine::Engine;
use traction_kpi::service::Kpis;
use traction_monitor::rule::{RuleInput, RuleSpec};
use traction_monitor::schedule::ScheduleInput;
use traction_server::AppState;
use traction_server::api::monitor as api;
use traction_store::MonitorStore;
use traction_store::monitor::{Instance, NotificationQuery, Rule, Silence};

use super::Ws;
use crate::forms::{self, FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, encode, respond};

/// Whether the reader may write rules, schedules and silences (the API's route roles).
fn writes(req: &Req) -> bool {
    req.user.as_ref().is_some_and(|u| u.role == "admin" || u.role == "manager")
}

/// Whether an instance is about the reader: a rep sees the alerts on their own leads, their
/// own `user:` scope, or a threshold's group that is them.
fn about(req: &Req, it: &Instance) -> bool {
    match req.user.as_ref() {
        Some(u) if u.role == "rep" => {
            it.owner_id.as_deref() == Some(u.id.as_str())
                || it.key == u.id
                || it.key == format!("user:{}", u.id)
        }
        _ => true,
    }
}

fn state_badge(state: &str) -> Markup {
    html! { span class={"badge alert-" (state)} { (state) } }
}

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    if let Some((k, _)) = params.0.first() {
        return Err(WebError::bad(format!("unknown parameter {k:?}: the Alerts page takes none")));
    }
    respond(state, move |state, now| {
        let store = state.store.as_ref();
        let ws = Ws::load(store, &req)?;
        let rules = store.rules()?;
        let instances: Vec<Instance> =
            store.instances(None)?.into_iter().filter(|it| about(&req, it)).collect();
        let month = 31 * 86_400_000_000;
        let mut history = store.transitions(Some(now - month), None)?;
        history.retain(|t| {
            instances.iter().any(|it| it.rule_id == t.rule_id && it.key == t.key)
                || req.user.as_ref().is_none_or(|u| u.role != "rep")
        });
        history.reverse();
        history.truncate(50);
        let silences = store.silences()?;
        let schedules = store.schedules()?;
        let write = writes(&req);
        let active: Vec<&Instance> =
            instances.iter().filter(|it| it.state == "firing" || it.state == "pending").collect();
        let body = html! {
            div.page-head {
                h1 { "Alerts" }
                p.sub { "What is watched, what fires now, and who is told. Evaluated every minute." }
                @if write {
                    p { a.button href="/alerts/rules/new" { "New rule" } " " a.button href="/alerts/schedules/new" { "New schedule" } }
                }
            }
            section #firing data-live {
                h2 { "Firing now" }
                @if active.is_empty() {
                    p.empty { "Nothing is firing." }
                } @else {
                    table {
                        thead { tr { th { "Rule" } th { "Key" } th { "State" } th { "Since" } th { "What" } @if write { th { "Silence" } } } }
                        tbody {
                            @for it in &active {
                                tr id={"alert-" (it.rule_id) "-" (it.key)} {
                                    td { (it.rule_id) }
                                    td { (it.key) }
                                    td { (state_badge(&it.state)) }
                                    td { (it.since.map(|s| ws.when(s)).unwrap_or_default()) }
                                    td { a href=(it.url) { (it.summary) } }
                                    @if write {
                                        td {
                                            form.inline method="post" action="/alerts/silences" {
                                                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                                                input type="hidden" name="rule" value=(it.rule_id);
                                                input type="hidden" name="key" value=(it.key);
                                                label { "for " select name="hours" { option value="1" { "1 hour" } option value="4" selected { "4 hours" } option value="24" { "1 day" } option value="168" { "1 week" } } }
                                                button type="submit" { "Silence" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section #rules {
                h2 { "Rules" }
                @if rules.is_empty() {
                    p.empty { "No rules yet." @if write { " " a href="/alerts/rules/new" { "Add the first" } } }
                } @else {
                    table {
                        thead { tr { th { "Rule" } th { "Kind" } th { "Condition" } th { "Channels" } th { "Made by" } @if write { th {} } } }
                        tbody {
                            @for r in &rules {
                                tr {
                                    td { (r.id) }
                                    td { (r.kind) }
                                    td { (RuleSpec::of(r).map(|s| s.condition(r.for_secs)).unwrap_or_default()) }
                                    td { (r.channels.join(", ")) }
                                    td { (r.created_by) }
                                    @if write { td { a href={"/alerts/rules/" (encode(&r.id)) "/edit"} { "Edit" } } }
                                }
                            }
                        }
                    }
                }
            }
            section #history data-live {
                h2 { "History" }
                @if history.is_empty() { p.empty { "No changes of state in the last month." } } @else {
                    table {
                        thead { tr { th { "When" } th { "Rule" } th { "Key" } th { "From" } th { "To" } th { "What" } } }
                        tbody {
                            @for t in &history {
                                tr { td { (ws.when(t.at)) } td { (t.rule_id) } td { (t.key) } td { (t.from) } td { (state_badge(&t.to)) } td { (t.summary) } }
                            }
                        }
                    }
                }
            }
            section #silences {
                h2 { "Silences" }
                @if silences.is_empty() { p.empty { "No silences." } } @else {
                    table {
                        thead { tr { th { "Rule" } th { "Key" } th { "From" } th { "Until" } th { "Comment" } th { "By" } } }
                        tbody {
                            @for s in &silences {
                                tr {
                                    td { (s.rule_id) } td { (s.key.clone().unwrap_or_else(|| "every key".into())) }
                                    td { (ws.when(s.starts_at)) } td { (ws.when(s.ends_at)) }
                                    td { (s.comment) } td { (s.created_by) }
                                }
                            }
                        }
                    }
                }
            }
            section #schedules {
                h2 { "Scheduled reports" }
                @if schedules.is_empty() { p.empty { "No scheduled reports." } } @else {
                    table {
                        thead { tr { th { "Schedule" } th { "Every" } th { "At" } th { "Scope" } th { "Channels" } th { "Made by" } @if write { th {} } } }
                        tbody {
                            @for s in &schedules {
                                tr {
                                    td { (s.id) } td { (s.every) } td { (s.time) } td { (s.scope) }
                                    td { (s.channels.join(", ")) } td { (s.created_by) }
                                    @if write { td { a href={"/alerts/schedules/" (encode(&s.id)) "/edit"} { "Edit" } } }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok(layout::page(&req, "Alerts", Nav::Alerts, body))
    })
    .await
}

/// A monitoring refusal shown at the form field it is about: the monitor crate's typed field
/// (the form names both kinds of kpi rule's target `target`); a refusal of the store (a rule's
/// channel that does not exist) carries none yet, so its flag is read from the message.
fn monitor_problem(e: traction_monitor::Error) -> FieldErrors {
    let message = e.to_string();
    let field = match e.field() {
        Some("targets") => "target".to_string(),
        Some(field) => field.to_string(),
        None => field_of(&message),
    };
    vec![(field, message)]
}

/// The field a refusal of the API's checks (who may watch what) is about, from the flag it
/// names (`--scope: …` → `scope`); the monitor crate's own refusals carry their field.
fn field_of(message: &str) -> String {
    const FIELDS: &[(&str, &str)] = &[
        ("--min-sample", "min_sample"),
        ("--targets", "target"),
        ("--target", "target"),
        ("--status", "status"),
        ("--metric", "metric"),
        ("--level", "level"),
        ("--scope", "scope"),
        ("--window", "window"),
        ("--op", "op"),
        ("--value", "value"),
        ("--by", "by"),
        ("--minutes", "minutes"),
        ("--for", "for"),
        ("--kind", "kind"),
        ("--every", "every"),
        ("--time", "time"),
        ("--channel", "channels"),
        ("channel", "channels"),
        ("rule id", "id"),
        ("schedule id", "id"),
        ("not a metric", "metric"),
        ("threshold rule needs --", ""),
        ("does not apply to", "by"),
        ("scope", "scope"),
    ];
    let first = FIELDS
        .iter()
        .filter_map(|(needle, field)| message.find(needle).map(|at| (at, *field)))
        .min_by_key(|(at, _)| *at);
    match first {
        Some((_, "")) => {
            let rest = message.split("needs --").nth(1).unwrap_or("");
            rest.split([' ', ',']).next().unwrap_or("").replace('-', "_")
        }
        Some((_, field)) => field.to_string(),
        None => String::new(),
    }
}

fn text_input(name: &str, label: &str, value: &str, hint: &str, errors: &FieldErrors) -> Markup {
    let err: Vec<&str> =
        errors.iter().filter(|(f, _)| f == name).map(|(_, m)| m.as_str()).collect();
    html! {
        div.field {
            label for=(name) { (label) }
            input type="text" id=(name) name=(name) value=(value) aria-invalid=[(!err.is_empty()).then_some("true")];
            @if !hint.is_empty() { p.small { (hint) } }
            p.error-text data-for=(name) { (err.join("; ")) }
        }
    }
}

fn select(name: &str, label: &str, value: &str, options: &[&str], errors: &FieldErrors) -> Markup {
    let err: Vec<&str> =
        errors.iter().filter(|(f, _)| f == name).map(|(_, m)| m.as_str()).collect();
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                @for o in options { option value=(o) selected[*o == value] { (if o.is_empty() { "—" } else { o }) } }
            }
            p.error-text data-for=(name) { (err.join("; ")) }
        }
    }
}

fn channel_boxes(
    store: &dyn MonitorStore,
    chosen: &[String],
    errors: &FieldErrors,
) -> Result<Markup> {
    let err: Vec<&str> =
        errors.iter().filter(|(f, _)| f == "channels").map(|(_, m)| m.as_str()).collect();
    let channels = store.channels()?;
    Ok(html! {
        fieldset.field {
            legend { "Channels" }
            @if channels.is_empty() { p.small { "No channels yet: add one with `traction channel add` or POST /api/v1/channels." } }
            @for c in &channels {
                label.check { input type="checkbox" name="channels" value=(c.id) checked[chosen.contains(&c.id)]; " " (c.id) " (" (c.kind) ")" }
            }
            p.error-text data-for="channels" { (err.join("; ")) }
        }
    })
}

fn form_values(form: &Form, name: &str) -> Vec<String> {
    form.0
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn rule_input(form: &Form) -> Result<RuleInput, FieldErrors> {
    let text = |k: &str| form.get(k).map(str::to_string);
    let number = |k: &str| -> Result<Option<i64>, FieldErrors> {
        form.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| vec![(k.to_string(), format!("{v:?} is not a whole number"))])
            })
            .transpose()
    };
    Ok(RuleInput {
        id: form.get("id").unwrap_or("").to_string(),
        kind: form.get("kind").unwrap_or("").to_string(),
        target: text("target").filter(|t| t != "current"),
        targets: text("target").filter(|t| t == "current"),
        status: text("status"),
        metric: text("metric"),
        scope: text("scope"),
        window: text("window"),
        op: text("op"),
        value: text("value"),
        by: text("by"),
        min_sample: number("min_sample")?,
        minutes: number("minutes")?,
        level: text("level"),
        for_: text("for"),
        channels: form_values(form, "channels"),
    })
}

/// The rule form, new or editing, with the values given and the problems at their fields.
fn rule_form(
    req: &Req,
    store: &dyn MonitorStore,
    form: &Form,
    editing: bool,
    errors: &FieldErrors,
) -> Result<Markup> {
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let general: Vec<&str> =
        errors.iter().filter(|(f, _)| f.is_empty()).map(|(_, m)| m.as_str()).collect();
    Ok(html! {
        div.page-head { h1 { @if editing { "Edit rule " (v("id")) } @else { "New alert rule" } } }
        @for m in &general { p.error-text role="alert" { (m) } }
        form.card method="post" action="/alerts/rules" data-validate {
            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
            @if editing {
                input type="hidden" name="editing" value="1";
                input type="hidden" name="id" value=(v("id"));
                input type="hidden" name="kind" value=(v("kind"));
            } @else {
                (text_input("id", "Id", &v("id"), "letters, digits, '-', '_' or '.'", errors))
                (select("kind", "Kind", &v("kind"), &["kpi", "threshold", "lead_sla", "anomaly"], errors))
            }
            (text_input("target", "Target (kpi)", &v("target"), "a target id, or current for every target whose period is running", errors))
            (select("status", "At or worse than (kpi)", &v("status"), &["", "at_risk", "off_track"], errors))
            (text_input("metric", "Metric (threshold, anomaly)", &v("metric"), "", errors))
            (text_input("scope", "Scope (threshold, anomaly)", &v("scope"), "company, team:ID or user:ID", errors))
            (text_input("level", "Interval level (anomaly)", &v("level"), "0.8 by default: a day outside the 80% forecast interval fires", errors))
            (select("window", "Window (threshold)", &v("window"), &["", "1h", "1d", "7d", "30d", "period"], errors))
            (select("op", "Comparison (threshold)", &v("op"), &["", "<", "<=", ">", ">="], errors))
            (text_input("value", "Value (threshold)", &v("value"), "rates as fractions, money in major units", errors))
            (text_input("by", "By (threshold)", &v("by"), "a dimension: one alert per value, such as owner or source", errors))
            (text_input("min_sample", "Minimum sample (threshold)", &v("min_sample"), "", errors))
            (text_input("minutes", "Minutes (lead_sla)", &v("minutes"), "", errors))
            (text_input("for", "For", &v("for"), "working time the condition must hold: 30m, 2h; empty fires at once", errors))
            (channel_boxes(store, &form_values(form, "channels"), errors)?)
            button type="submit" { @if editing { "Save rule" } @else { "Add rule" } }
            " " a href="/alerts" { "Cancel" }
        }
    })
}

pub async fn new_rule(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, _| {
        let body = rule_form(&req, state.store.as_ref(), &Form(Vec::new()), false, &Vec::new())?;
        Ok(layout::page(&req, "New alert rule", Nav::Alerts, body))
    })
    .await
}

/// A stored rule's definition as the form's fields.
fn rule_as_form(rule: &Rule) -> Form {
    let mut f = vec![("id".to_string(), rule.id.clone()), ("kind".into(), rule.kind.clone())];
    if rule.for_secs > 0 {
        f.push(("for".into(), traction_monitor::duration::format_seconds(rule.for_secs)));
    }
    match RuleSpec::of(rule) {
        Ok(RuleSpec::Kpi { target, level }) => {
            f.push(("target".into(), target.unwrap_or_else(|| "current".into())));
            f.push(("status".into(), level.name().into()));
        }
        Ok(RuleSpec::Threshold { metric, scope, window, op, value, min_sample, by }) => {
            f.push(("metric".into(), metric));
            f.push(("scope".into(), scope));
            f.push(("window".into(), window.name()));
            f.push(("op".into(), op.symbol().into()));
            f.push(("value".into(), value.to_string()));
            if let Some(n) = min_sample {
                f.push(("min_sample".into(), n.to_string()));
            }
            if let Some(by) = by {
                f.push(("by".into(), by));
            }
        }
        Ok(RuleSpec::LeadSla { minutes }) => f.push(("minutes".into(), minutes.to_string())),
        Ok(RuleSpec::Anomaly { metric, scope, level }) => {
            f.push(("metric".into(), metric));
            f.push(("scope".into(), scope));
            f.push(("level".into(), level.to_string()));
        }
        Err(_) => {}
    }
    for c in &rule.channels {
        f.push(("channels".into(), c.clone()));
    }
    Form(f)
}

pub async fn edit_rule(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let rule =
            store.rule(&id)?.ok_or_else(|| WebError::not_found(format!("no rule {id:?}")))?;
        let body = rule_form(&req, store, &rule_as_form(&rule), true, &Vec::new())?;
        Ok(layout::page(&req, "Edit rule", Nav::Alerts, body))
    })
    .await
}

pub async fn save_rule(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    respond(state, move |state, now| {
        let principal = req.principal()?.clone();
        if !writes(&req) {
            return Err(WebError {
                status: axum::http::StatusCode::FORBIDDEN,
                message: "only admins and managers change alert rules".into(),
            });
        }
        let store = &state.store;
        let editing = form.get("editing").is_some();
        let engine = Engine { store: store.as_ref(), catalog: &state.catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let outcome: std::result::Result<(), FieldErrors> = (|| {
            let input = rule_input(&form)?;
            let problem = |m: String| vec![(field_of(&m), m)];
            let api_problem = |e: traction_server::error::ApiError| {
                let message = forms::api_error(e).message;
                vec![(field_of(&message), message)]
            };
            api::may_watch(&principal, &kpis, &input).map_err(api_problem)?;
            let actor = principal.actor(now);
            if editing {
                let existing = store
                    .rule(&input.id)
                    .map_err(|e| problem(e.to_string()))?
                    .ok_or_else(|| problem(format!("no rule {:?}", input.id)))?;
                api::may_change(&principal, &existing).map_err(api_problem)?;
                traction_monitor::rule::update(store.as_ref(), &kpis, &existing, &input, &actor)
                    .map_err(monitor_problem)?;
            } else {
                traction_monitor::rule::add(store.as_ref(), &kpis, &input, &actor, now)
                    .map_err(monitor_problem)?;
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => Ok(forms::see_other("/alerts")),
            Err(errors) => {
                let body = rule_form(&req, store.as_ref(), &form, editing, &errors)?;
                let page = layout::page(&req, "Alert rule", Nav::Alerts, body);
                Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
        }
    })
    .await
}

fn schedule_form(
    req: &Req,
    store: &dyn MonitorStore,
    form: &Form,
    editing: bool,
    errors: &FieldErrors,
) -> Result<Markup> {
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let general: Vec<&str> =
        errors.iter().filter(|(f, _)| f.is_empty()).map(|(_, m)| m.as_str()).collect();
    Ok(html! {
        div.page-head { h1 { @if editing { "Edit schedule " (v("id")) } @else { "New scheduled report" } } }
        @for m in &general { p.error-text role="alert" { (m) } }
        form.card method="post" action="/alerts/schedules" data-validate {
            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
            @if editing {
                input type="hidden" name="editing" value="1";
                input type="hidden" name="id" value=(v("id"));
            } @else {
                (text_input("id", "Id", &v("id"), "letters, digits, '-', '_' or '.'", errors))
            }
            (select("every", "Every", &v("every"), &["day", "week", "month"], errors))
            (text_input("time", "At", &v("time"), "HH:MM in the workspace's time zone, on working days", errors))
            (text_input("scope", "Scope", &v("scope"), "company, team:ID or user:ID; the report has your rights", errors))
            (channel_boxes(store, &form_values(form, "channels"), errors)?)
            button type="submit" { @if editing { "Save schedule" } @else { "Add schedule" } }
            " " a href="/alerts" { "Cancel" }
        }
    })
}

pub async fn new_schedule(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, _| {
        let body =
            schedule_form(&req, state.store.as_ref(), &Form(Vec::new()), false, &Vec::new())?;
        Ok(layout::page(&req, "New scheduled report", Nav::Alerts, body))
    })
    .await
}

pub async fn edit_schedule(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let s = store
            .schedules()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| WebError::not_found(format!("no schedule {id:?}")))?;
        let mut f = vec![
            ("id".to_string(), s.id.clone()),
            ("every".into(), s.every.clone()),
            ("time".into(), s.time.clone()),
            ("scope".into(), s.scope.clone()),
        ];
        f.extend(s.channels.iter().map(|c| ("channels".to_string(), c.clone())));
        let body = schedule_form(&req, store, &Form(f), true, &Vec::new())?;
        Ok(layout::page(&req, "Edit schedule", Nav::Alerts, body))
    })
    .await
}

pub async fn save_schedule(
    State(state): State<AppState>,
    req: Req,
    body: Bytes,
) -> Result<Response> {
    let form = Form::parse(&body)?;
    respond(state, move |state, now| {
        let principal = req.principal()?.clone();
        if !writes(&req) {
            return Err(WebError {
                status: axum::http::StatusCode::FORBIDDEN,
                message: "only admins and managers change scheduled reports".into(),
            });
        }
        let store = &state.store;
        let editing = form.get("editing").is_some();
        let engine = Engine { store: store.as_ref(), catalog: &state.catalog };
        let kpis = Kpis { store: store.as_ref(), metrics: &engine };
        let outcome: std::result::Result<(), FieldErrors> = (|| {
            let problem = |m: String| vec![(field_of(&m), m)];
            let api_problem = |e: traction_server::error::ApiError| {
                let message = forms::api_error(e).message;
                vec![(field_of(&message), message)]
            };
            let input = ScheduleInput {
                id: form.get("id").unwrap_or("").to_string(),
                every: form.get("every").unwrap_or("").to_string(),
                time: form.get("time").unwrap_or("").to_string(),
                scope: form.get("scope").map(str::to_string),
                channels: form_values(&form, "channels"),
            };
            api::check_managed(&principal, input.scope.as_deref()).map_err(api_problem)?;
            let org = kpis.org().map_err(|e| problem(e.to_string()))?;
            let actor = principal.actor(now);
            if editing {
                let existing = api::own_schedule(store.as_ref(), &principal, &input.id)
                    .map_err(api_problem)?;
                traction_monitor::schedule::update(store.as_ref(), &org, &existing, &input, &actor)
                    .map_err(monitor_problem)?;
            } else {
                traction_monitor::schedule::add(store.as_ref(), &org, &input, &actor, now)
                    .map_err(monitor_problem)?;
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => Ok(forms::see_other("/alerts")),
            Err(errors) => {
                let body = schedule_form(&req, store.as_ref(), &form, editing, &errors)?;
                let page = layout::page(&req, "Scheduled report", Nav::Alerts, body);
                Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
        }
    })
    .await
}

/// Silences one firing instance for some hours, from the Firing now table.
pub async fn silence(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    respond(state, move |state, now| {
        let principal = req.principal()?.clone();
        if !writes(&req) {
            return Err(WebError {
                status: axum::http::StatusCode::FORBIDDEN,
                message: "only admins and managers silence alerts".into(),
            });
        }
        let store = state.store.as_ref();
        let rule_id = form.get("rule").ok_or_else(|| WebError::bad("rule is required"))?;
        let rule =
            store.rule(rule_id)?.ok_or_else(|| WebError::bad(format!("no rule {rule_id:?}")))?;
        api::may_change(&principal, &rule).map_err(forms::api_error)?;
        let hours: i64 = match form.get("hours").map(str::parse::<i64>) {
            Some(Ok(h)) if (1..=24 * 31).contains(&h) => h,
            _ => return Err(WebError::bad("hours: a whole number of hours, 1 to 744")),
        };
        let until = match form.get("until") {
            Some(text) => {
                let zone = Ws::load(store, &req)?.zone;
                parse_instant(text, &zone).map_err(|e| WebError::bad(format!("until: {e}")))?
            }
            None => now + hours * 3_600_000_000,
        };
        let existing = store.silences()?;
        let mut n = existing.len() + 1;
        while existing.iter().any(|s| s.id == format!("s-{n}")) {
            n += 1;
        }
        let silence = Silence {
            id: format!("s-{n}"),
            rule_id: rule.id.clone(),
            key: form.get("key").map(str::to_string),
            starts_at: now,
            ends_at: until,
            comment: form.get("comment").unwrap_or("silenced from the Alerts page").to_string(),
            created_at: now,
            created_by: principal.user_id.clone(),
        };
        traction_monitor::silence::add(store, &silence, &principal.actor(now))
            .map_err(|e| WebError::bad(e.to_string()))?;
        Ok(forms::see_other("/alerts"))
    })
    .await
}

/// The reader's notifications in the app, newest first, with mark as read.
pub async fn notifications(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let ws = Ws::load(store, &req)?;
        let user = req.principal()?.user_id.clone();
        let list = store.notifications(&NotificationQuery {
            user_id: Some(user),
            unread_only: false,
            channel_id: None,
            limit: 100,
        })?;
        let unread = list.iter().filter(|n| n.read_at.is_none()).count();
        let body = html! {
            div.page-head {
                h1 { "Notifications" }
                p.sub { (unread) " unread" }
                @if unread > 0 {
                    form.inline method="post" action="/notifications/read" {
                        @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                        button type="submit" { "Mark all read" }
                    }
                }
            }
            section #notifications data-live {
                @if list.is_empty() { p.empty { "No notifications yet. Alerts and reports sent to you in the app show here." } }
                ul.notes {
                    @for n in &list {
                        li class=(if n.read_at.is_none() { "unread" } else { "read" }) id={"note-" (n.id)} {
                            span.when { (ws.when(n.at)) } " "
                            @if let Some(s) = &n.state { (state_badge(s)) " " }
                            span.text { (n.text) }
                            @if n.read_at.is_none() {
                                form.inline method="post" action={"/notifications/" (n.id) "/read"} {
                                    @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                                    button.link type="submit" { "Mark read" }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok(layout::page(&req, "Notifications", Nav::Alerts, body))
    })
    .await
}

/// Marks one notification of the reader read, and tells their other pages (the bell counts
/// down).
pub async fn mark_read(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<i64>,
) -> Result<Response> {
    mark(state, req, Some(id)).await
}

/// Marks every notification of the reader read.
pub async fn mark_all_read(State(state): State<AppState>, req: Req) -> Result<Response> {
    mark(state, req, None).await
}

async fn mark(state: AppState, req: Req, id: Option<i64>) -> Result<Response> {
    let who = req.principal()?.user_id.clone();
    respond(state, move |st, now| {
        match id {
            Some(n) => st.store.mark_read(n, &who, now).map_err(|e| match e {
                traction_store::Error::NotFound => {
                    WebError::not_found(format!("no notification {n} of yours"))
                }
                other => other.into(),
            })?,
            None => {
                st.store.mark_all_read(&who, now)?;
            }
        }
        st.events.notified(&who);
        Ok(forms::see_other("/notifications"))
    })
    .await
}

/// The reader's unread count, for the bell's live update: `{"unread": N}`.
pub async fn unread(State(state): State<AppState>, req: Req) -> Result<Response> {
    let user = req.principal()?.user_id.clone();
    respond(state, move |state, _| {
        let n = state.store.unread_count(&user)?;
        Ok(axum::Json(serde_json::json!({"unread": n})))
    })
    .await
}

/// The targets whose kpi alert is firing now, for the dashboard's marks.
pub fn firing_targets(store: &dyn MonitorStore) -> Result<std::collections::BTreeSet<String>> {
    let kpi_rules: Vec<String> =
        store.rules()?.into_iter().filter(|r| r.kind == "kpi").map(|r| r.id).collect();
    Ok(store
        .instances(None)?
        .into_iter()
        .filter(|it| it.state == "firing" && kpi_rules.contains(&it.rule_id))
        .map(|it| it.key)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monitoring_error_is_shown_at_the_field_it_names() {
        assert_eq!(field_of("--for: \"2 hours\" is not a duration"), "for");
        assert_eq!(field_of("--scope: team:x does not exist"), "scope");
        assert_eq!(
            field_of("\"nope\" is not a metric: `traction metrics list` shows the catalog"),
            "metric"
        );
        assert_eq!(field_of("a threshold rule needs --op (<, <=, >, >=)"), "op");
        assert_eq!(
            field_of(
                "--by \"colour\" does not apply to revenue_won; the dimensions that do are owner"
            ),
            "by"
        );
        assert_eq!(field_of("no such channel \"x\""), "channels");
        assert_eq!(field_of("--time \"25:00\": write HH:MM, such as 08:00"), "time");
        assert_eq!(field_of("something else"), "");
    }
}
