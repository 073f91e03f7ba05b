//! The start-small setup (issue 20.4): on an empty workspace the dashboard opens this instead of
//! empty tiles. Step 1 sets the time zone, currency and kind of business (the settings' own
//! checks); step 2 ticks three to five suggested metrics and sets a first target with its
//! timeline (the target form's own checks, `traction_kpi::check`); step 3 is the way in: import,
//! demo data or the record forms. The choices are workspace settings (`business`,
//! `dashboard_metrics`), changeable on the Settings page.

use super::settings::SettingProblem;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::Entity;
use traction_domain::settings::{BUSINESSES, Key};
use traction_server::AppState;
use traction_store::{Backend, Store};

use crate::forms::{FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, render};

/// The records whose presence means the workspace is in use (people, teams and pipelines are
/// made before any sale and do not count).
const DATA: [Entity; 16] = [
    Entity::Accounts,
    Entity::Contacts,
    Entity::Campaigns,
    Entity::Deals,
    Entity::Leads,
    Entity::Activities,
    Entity::Products,
    Entity::Orders,
    Entity::InventoryMovements,
    Entity::Costs,
    Entity::WebVisits,
    Entity::EmailEvents,
    Entity::Surveys,
    Entity::Events,
    Entity::Targets,
    Entity::OrderLines,
];

/// The suggested metrics per kind of business, each with why it matters.
pub fn suggestions(business: &str) -> &'static [(&'static str, &'static str)] {
    match business {
        "shop" => &[
            ("revenue", "What came in: the first number of any shop, month by month."),
            ("orders", "How many times people bought — revenue without the price effect."),
            ("average_order_value", "Raising the basket is often cheaper than finding buyers."),
            ("new_customers", "A shop that stops winning new buyers shrinks with its regulars."),
            ("returning_customer_rate", "Regulars cost nothing to win again: the loyalty gauge."),
        ],
        "b2b" => &[
            ("revenue_won", "The deals closed as won, in money: what the team is paid to bring."),
            ("deals_won", "How many customers signed, whatever their size."),
            ("win_rate", "The share of closed deals won: whether effort turns into sales."),
            ("open_pipeline_value", "Next month's sales are in today's pipeline."),
            ("meetings_booked", "The leading activity: meetings now are deals in weeks."),
        ],
        "social_enterprise" => &[
            (
                "event_quantity",
                "Your impact counted: meals served, people trained, hours given (per event kind).",
            ),
            ("event_count", "How often the work happens: sessions, deliveries, shifts."),
            ("revenue", "Trading income keeps the mission independent of grants."),
            ("costs", "What the work costs, overheads included: the other side of impact."),
            ("net_cash_flow", "Cash in minus cash out: whether the month can be paid for."),
        ],
        _ => &[],
    }
}

/// Whether the workspace is empty and has not been set up: no sales records, events or targets,
/// and no dashboard metrics chosen.
pub fn needed(store: &dyn Backend) -> Result<bool> {
    if !store.setting(Key::DashboardMetrics, None)?.value.is_empty() {
        return Ok(false);
    }
    is_empty(store)
}

fn is_empty(store: &dyn Backend) -> Result<bool> {
    for entity in DATA {
        if store.count(entity)? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn is_admin(req: &Req) -> bool {
    req.user.as_ref().is_some_and(|u| u.role == "admin")
}

/// What the dashboard shows instead of itself while the setup is needed: the setup for an
/// admin, a sentence for anyone else.
pub fn gate(state: &AppState, req: &Req) -> Result<Option<Response>> {
    if !needed(state.store.as_ref())? {
        return Ok(None);
    }
    if is_admin(req) {
        return Ok(Some(crate::forms::see_other("/setup")));
    }
    let body = html! {
        div.page-head { h1 { "Dashboard" } }
        (layout::empty("This workspace has not been set up yet: an admin chooses the time zone, currency, the metrics to follow and a first target, then the dashboard fills in.", None))
    };
    Ok(Some(render(layout::page(req, "Dashboard", Nav::Dashboard, body))))
}

fn forbid() -> WebError {
    WebError {
        status: StatusCode::FORBIDDEN,
        message: "only an admin sets the workspace up".into(),
    }
}

/// `GET /setup?step=1|2|3`.
pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    if !is_admin(&req) {
        return Err(forbid());
    }
    let step = params.get("step").unwrap_or("1").to_string();
    crate::respond(state, move |state, now| {
        Ok(render(match step.as_str() {
            "1" => step_one(state, &req, &Vec::new(), None)?,
            "2" => step_two(state, &req, &Vec::new(), None, now)?,
            "3" => step_three(state, &req)?,
            other => {
                return Err(WebError::bad(format!(
                    "step {other:?} is not a setup step: use 1, 2 or 3"
                )));
            }
        }))
    })
    .await
}

fn frame(req: &Req, step: u8, body: Markup) -> Markup {
    let steps = ["Workspace", "Metrics and a first target", "Your data"];
    let body = html! {
        div.page-head {
            h1 { "Set up Traction" }
            p.sub { "Start small: a few meaningful metrics, one target with a timeline. Everything can be changed later on the " a href="/settings" { "Settings" } " page." }
            ol.steps {
                @for (n, name) in steps.iter().enumerate() {
                    @if n + 1 == usize::from(step) { li aria-current="step" { strong { (name) } } } @else { li { (name) } }
                }
            }
        }
        (body)
    };
    layout::page(req, "Set up", Nav::Dashboard, body)
}

fn err(errors: &FieldErrors, key: &str) -> String {
    errors.iter().filter(|(f, _)| f == key).map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ")
}

fn step_one(
    state: &AppState,
    req: &Req,
    errors: &FieldErrors,
    values: Option<&Form>,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let value = |key: Key| -> Result<String> {
        Ok(match values.and_then(|v| v.get(key.name())) {
            Some(v) => v.to_string(),
            None => store.setting(key, None)?.value,
        })
    };
    let (zone, currency, business) =
        (value(Key::Timezone)?, value(Key::Currency)?, value(Key::Business)?);
    Ok(frame(
        req,
        1,
        html! {
            @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
            form.card method="post" action="/setup" {
                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                div.field {
                    label for="timezone" { "Time zone" }
                    input type="text" name="timezone" id="timezone" required value=(zone);
                    span.hint { "An IANA zone such as Europe/London: days, weeks and months are cut in it." }
                    p.error-text data-for="timezone" { (err(errors, "timezone")) }
                }
                div.field {
                    label for="currency" { "Currency" }
                    input type="text" name="currency" id="currency" required value=(currency);
                    span.hint { "An ISO 4217 code such as GBP: every amount is in it." }
                    p.error-text data-for="currency" { (err(errors, "currency")) }
                }
                fieldset.field {
                    legend { "Your kind of business" }
                    @for (name, label) in BUSINESSES {
                        label { input type="radio" name="business" value=(name) required checked[business == name]; " " (label) }
                    }
                    p.error-text data-for="business" { (err(errors, "business")) }
                }
                button type="submit" { "Next: metrics" }
            }
        },
    ))
}

/// `POST /setup`: step 1, through the settings' checks; nothing is saved if one fails.
pub async fn save_workspace(
    State(state): State<AppState>,
    req: Req,
    body: Bytes,
) -> Result<Response> {
    let form = Form::parse(&body)?;
    crate::respond(state, move |state, now| {
        let principal = req.principal()?;
        if !principal.is_admin() {
            return Err(forbid());
        }
        let store = state.store.as_ref();
        let mut changes = Vec::new();
        let mut errors: FieldErrors = Vec::new();
        for key in [Key::Timezone, Key::Currency, Key::Business] {
            let value = form.get(key.name()).unwrap_or("");
            if key == Key::Business && value.trim().is_empty() {
                errors.push((key.name().into(), "choose the kind of business".into()));
                continue;
            }
            match key.normalise(value) {
                Ok(v) if v == store.setting(key, None)?.value => {}
                Ok(v) => changes.push((key, v)),
                Err(e) => errors.push((key.name().into(), e.to_string())),
            }
        }
        if errors.is_empty() {
            let guarded = crate::forms::guarded(state, principal, now);
            for (key, value) in &changes {
                // A currency change is refused here once amounts are stored.
                if let Err(e) = guarded.set_setting(*key, None, value) {
                    errors.push((key.name().into(), e.to_string()));
                    break;
                }
            }
        }
        if errors.is_empty() {
            return Ok(crate::forms::see_other("/setup?step=2"));
        }
        Ok((StatusCode::UNPROCESSABLE_ENTITY, step_one(state, &req, &errors, Some(&form))?)
            .into_response())
    })
    .await
}

fn step_two(
    state: &AppState,
    req: &Req,
    errors: &FieldErrors,
    values: Option<&Form>,
    now: traction_domain::time::Micros,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let business = store.setting(Key::Business, None)?.value;
    let chosen = store.setting(Key::DashboardMetrics, None)?.value;
    let offered: Vec<_> = suggestions(&business)
        .iter()
        .filter_map(|(name, why)| state.catalog.get(name).map(|m| (*name, m.label.clone(), *why)))
        .collect();
    if offered.is_empty() {
        return Ok(frame(
            req,
            2,
            layout::empty("Choose the kind of business first.", Some(("/setup", "Back to step 1"))),
        ));
    }
    let ticked = |name: &str| match values {
        Some(v) => v.0.iter().any(|(k, m)| k == "metrics" && m == name),
        None => chosen.is_empty() || chosen.split(',').any(|m| m == name),
    };
    let ws = super::Ws::load(store, req)?;
    let today = ws.today(now);
    let first_of_month = today.first_of_month().to_string();
    let get = |k: &str, default: &str| values.and_then(|v| v.get(k)).unwrap_or(default).to_string();
    let (target_metric, period, starts_on, amount) = (
        get("target_metric", offered[0].0),
        get("period", "month"),
        get("starts_on", &first_of_month),
        get("value", ""),
    );
    Ok(frame(
        req,
        2,
        html! {
            @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
            form.card method="post" action="/setup/goals" {
                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                fieldset.field {
                    legend { "Metrics to follow (the dashboard shows them first)" }
                    @for (name, label, why) in &offered {
                        label.choice {
                            input type="checkbox" name="metrics" value=(name) checked[ticked(name)];
                            " " strong { (label) } " — " (why)
                        }
                    }
                    p.error-text data-for="metrics" { (err(errors, "metrics")) }
                }
                h2 { "A first target" }
                p.sub { "One number to reach by a date: Traction breaks it into weeks and days and shows whether you are on pace. Leave the amount empty to set targets later." }
                div.field {
                    label for="target_metric" { "Metric" }
                    select name="target_metric" id="target_metric" {
                        @for (name, label, _) in &offered { option value=(name) selected[target_metric == *name] { (label) } }
                    }
                }
                div.field {
                    label for="period" { "Timeline" }
                    select name="period" id="period" {
                        @for (p, l) in [("week", "A week"), ("month", "A month"), ("quarter", "A quarter"), ("year", "A year")] {
                            option value=(p) selected[period == p] { (l) }
                        }
                    }
                }
                div.field {
                    label for="starts_on" { "Starting on" }
                    input type="date" name="starts_on" id="starts_on" value=(starts_on);
                }
                div.field {
                    label for="value" { "Amount to reach" }
                    input type="number" name="value" id="value" step="any" inputmode="decimal" value=(amount);
                    span.hint { "Money in " (ws.workspace.currency.code()) ", a count, or a rate in percent (25 for 25%)." }
                }
                button type="submit" { "Next: your data" }
            }
        },
    ))
}

/// `POST /setup/goals`: step 2. The ticked metrics are checked, then the first target goes
/// through the target form's own handler (its checks and its error page), and only then are the
/// metrics stored.
pub async fn save_goals(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    if !req.principal()?.is_admin() {
        return Err(forbid());
    }
    let metrics: Vec<String> =
        form.0.iter().filter(|(k, _)| k == "metrics").map(|(_, v)| v.clone()).collect();
    let value = metrics.join(",");
    let checked = Key::DashboardMetrics
        .normalise(&value)
        .map_err(SettingProblem::from)
        .and_then(|v| super::settings::known_metrics(&state, Key::DashboardMetrics, v))
        .and_then(|v| match v.is_empty() {
            true => Err(SettingProblem::NoMetric),
            false => Ok(v),
        });
    let metrics = match checked {
        Ok(v) => v,
        Err(e) => {
            let errors = vec![("metrics".to_string(), e.to_string())];
            let markup =
                crate::compute(state, move |st, now| step_two(st, &req, &errors, Some(&form), now))
                    .await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
        }
    };
    if form.get("value").is_some_and(|v| !v.trim().is_empty()) {
        let mut fields = vec![
            ("metric", form.get("target_metric").unwrap_or("")),
            ("scope", "company"),
            ("period", form.get("period").unwrap_or("month")),
            ("starts_on", form.get("starts_on").unwrap_or("")),
            ("value", form.get("value").unwrap_or("")),
        ];
        if let Some(csrf) = form.get("_csrf") {
            fields.push(("_csrf", csrf));
        }
        let body: Vec<String> =
            fields.iter().map(|(k, v)| format!("{k}={}", crate::encode(v))).collect();
        let res =
            super::targets::save(State(state.clone()), req.clone(), body.join("&").into()).await?;
        if res.status() != StatusCode::SEE_OTHER {
            return Ok(res);
        }
    }
    crate::respond(state, move |state, now| {
        let principal = req.principal()?;
        let guarded = crate::forms::guarded(state, principal, now);
        guarded
            .set_setting(Key::DashboardMetrics, None, &metrics)
            .map_err(|e| WebError::bad(e.to_string()))?;
        Ok(crate::forms::see_other("/setup?step=3"))
    })
    .await
}

fn step_three(state: &AppState, req: &Req) -> Result<Markup> {
    let store = state.store.as_ref();
    let business = store.setting(Key::Business, None)?.value;
    let forms: &[(&str, &str)] = match business.as_str() {
        "shop" => &[("customers", "a customer"), ("products", "a product"), ("orders", "an order")],
        "social_enterprise" => {
            &[("events", "an event"), ("orders", "an order"), ("costs", "a cost")]
        }
        _ => &[("leads", "a lead"), ("accounts", "an account"), ("deals", "a deal")],
    };
    let empty = only_targets(store)?;
    Ok(frame(
        req,
        3,
        html! {
            div.grid2 {
                section.card {
                    h2 { "Import what you have" }
                    p { "CSV or NDJSON files, or exports from HubSpot, Salesforce, Pipedrive and spreadsheets with their mapping presets." }
                    a.button href="/import" { "Import data" }
                }
                section.card {
                    h2 { "Type the first records" }
                    ul { @for (entity, what) in forms { li { a href={"/records/" (entity) "/new"} { "Add " (what) } } } }
                }
                @if empty {
                    section.card #demo {
                        h2 { "Try it with demo data" }
                        p { "Two years of a coffee company's sales and the community kitchen it runs (meals served, volunteer hours, donations), with monthly targets, fill this empty workspace in a few seconds. Your time zone, currency and chosen metrics stay; the demo's records can't be removed one by one, so try it on a workspace you can start again." }
                        form method="post" action="/setup/demo" {
                            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                            button type="submit" { "Load the demo data" }
                        }
                        p.hint { "On the server, " code { "traction demo" } " does the same." }
                    }
                }
            }
            p.actions { a.button href="/" { "Go to the dashboard" } }
        },
    ))
}

/// Whether the only records are targets (the one the setup just made).
pub(crate) fn only_targets(store: &dyn Backend) -> Result<bool> {
    for entity in DATA.into_iter().filter(|e| *e != Entity::Targets) {
        if store.count(entity)? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}
