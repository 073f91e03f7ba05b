//! Settings: the workspace's time zone, currency and business calendar (work days, work hours,
//! holidays) — the keys of `traction config` — with each team's calendar overrides shown; the
//! people and their roles. Saving runs each value through the same checks as `traction config
//! set` (a currency with other decimals is refused once amounts are stored).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::Entity;
use traction_domain::settings::Key;
use traction_server::AppState;
use traction_store::Store;

use super::*;
use crate::forms::{FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Req, Result};

fn help(key: Key) -> &'static str {
    match key {
        Key::Timezone => "An IANA zone such as Europe/London: days, weeks and hours are cut in it.",
        Key::Currency => "An ISO 4217 code such as GBP: every amount is in it.",
        Key::WorkDays => "Days that count for pace, e.g. mon,tue,wed,thu,fri.",
        Key::WorkHours => "Working hours of a day, e.g. 09:00-17:00.",
        Key::Holidays => "Days off, comma-separated dates, e.g. 2026-12-25,2026-12-26.",
        Key::SmtpUrl => {
            "Email alerts go out through this server, e.g. smtps://user:password@mail.example.com:465 (the password is never shown)."
        }
        Key::SmtpFrom => "The sender of email alerts, e.g. alerts@example.com.",
        Key::Business => {
            "The kind of business the setup suggested metrics for: shop, b2b or social_enterprise."
        }
        Key::DashboardMetrics => {
            "Metrics the dashboard shows first, in order, e.g. revenue,orders (catalog names)."
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    req: Req,
    params: crate::Params,
) -> Result<Response> {
    let saved = params.get("saved").is_some();
    crate::respond(state, move |state, _| build(state, &req, &Vec::new(), None, saved, None)).await
}

/// The settings page showing a token just made (once).
pub fn page_with_token(state: &AppState, req: &Req, token: &str) -> Result<Markup> {
    build(state, req, &Vec::new(), None, false, Some(token))
}

fn build(
    state: &AppState,
    req: &Req,
    errors: &FieldErrors,
    values: Option<&Form>,
    saved: bool,
    new_token: Option<&str>,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let names = Names::load(store)?;
    let mut current = Vec::new();
    for key in Key::ALL {
        let setting = store.setting(key, None)?;
        // A password in smtp_url is never shown; saving the masked text keeps the stored one.
        current.push((key, key.shown(&setting.value)));
    }
    let mut overrides = Vec::new();
    for (team, team_name) in &names.teams {
        for key in Key::ALL.into_iter().filter(|k| k.per_team()) {
            let s = store.setting(key, Some(team))?;
            if s.source.as_deref() == Some(team.as_str()) {
                overrides.push((team_name.clone(), key.name(), s.value));
            }
        }
    }
    let users = list(store, Entity::Users, &[], 1000)?;
    let tokens = super::tokens::tokens_card(state, req, new_token)?;
    let err = |k: &str| {
        errors.iter().filter(|(f, _)| f == k).map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ")
    };
    let body = html! {
        div.page-head { h1 { "Settings" } p.sub { a href="/metrics" { "Metrics of your own" } " — define, check and preview metrics beside the built-in catalog." } }
        @if saved { p.notice role="status" { "Settings saved." } }
        @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        div.grid2 {
            form.card method="post" action="/settings" data-validate {
                h2 { "Workspace and calendar" }
                @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                @for (key, value) in &current {
                    div.field {
                        label for=(key.name()) { (key.name().replace('_', " ")) }
                        input type="text" name=(key.name()) id=(key.name()) value=(values.and_then(|v| v.get(key.name())).unwrap_or(value));
                        span.hint { (help(*key)) }
                        p.error-text data-for=(key.name()) { (err(key.name())) }
                    }
                }
                button type="submit" { "Save settings" }
            }
            section.card {
                h2 { "Team calendars" }
                @if overrides.is_empty() {
                    p.sub { "Every team follows the workspace calendar. A team's own work days, hours or holidays are set with " code { "traction config set --team TEAM KEY VALUE" } "." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Team" } th scope="col" { "Setting" } th scope="col" { "Value" } } }
                        tbody { @for (t, k, v) in &overrides { tr { td { (t) } td { (k) } td { (v) } } } }
                    }
                }
                h2 { "People" }
                @if req.user.as_ref().is_some_and(|u| u.role == "admin") {
                    p.actions {
                        a.button href="/records/users/new" { "New user" } " "
                        a.button href="/records/teams/new" { "New team" }
                    }
                }
                p.sub { "An admin invites a person with a one-time sign-in link, or sets their password, under " em { "Sign-in" } " beside them (or with " code { "traction user" } "); your API tokens are below." }
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Team" } th scope="col" { "Active" } } }
                        tbody {
                            @for u in &users {
                                tr {
                                    td {
                                        (text(u, "name"))
                                        @if req.user.as_ref().is_some_and(|a| a.role == "admin") {
                                            " " a href={"/records/users/" (crate::encode(text(u, "id"))) "/edit"} aria-label={"Edit " (text(u, "name"))} { "Edit" }
                                            (super::people::link(req, text(u, "id"), text(u, "name")))
                                        }
                                    }
                                    td { (text(u, "role")) }
                                    td { (names.teams.get(text(u, "team_id")).cloned().unwrap_or_default()) }
                                    td { (if matches!(u.get("active"), traction_domain::Value::Bool(false)) { "no" } else { "yes" }) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! { (body) (tokens) };
    Ok(layout::page(req, "Settings", Nav::Settings, body))
}

/// The dashboard's metrics must be in the catalog (built-in, file or defined in the app).
pub(crate) fn known_metrics(
    state: &AppState,
    key: Key,
    value: String,
) -> std::result::Result<String, SettingProblem> {
    if key != Key::DashboardMetrics {
        return Ok(value);
    }
    traction_metrics::catalog::workspace::check_names(&state.catalog, &value)
        .map_err(SettingProblem::UnknownMetrics)?;
    Ok(value)
}

/// Why a value typed for a setting is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingProblem {
    /// Not a value of the setting's format.
    #[error(transparent)]
    Value(#[from] traction_domain::Error),
    /// Names that are not metrics of the workspace, listed together with a hint.
    #[error("{0}")]
    UnknownMetrics(traction_metrics::catalog::workspace::UnknownNames),
    /// The setup's step two with nothing ticked.
    #[error("tick at least one metric to follow")]
    NoMetric,
}

/// `POST /settings`: every changed key is checked first; if any is wrong nothing is saved.
pub async fn save(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    crate::respond(state, move |st, now| {
        let store = st.store.as_ref();
        let principal = req.principal()?;
        if !principal.is_admin() {
            return Err(crate::WebError {
                status: StatusCode::FORBIDDEN,
                message: "only an admin changes settings".into(),
            });
        }
        let guarded = crate::forms::guarded(st, principal, now);
        let mut changes = Vec::new();
        let mut errors: FieldErrors = Vec::new();
        for key in Key::ALL {
            let Some(value) = form.get(key.name()) else { continue };
            let current = store.setting(key, None)?.value;
            match key
                .normalise(value)
                .map_err(SettingProblem::from)
                .and_then(|v| known_metrics(st, key, v))
            {
                Ok(v) if v == current || (key.is_secret() && v == key.shown(&current)) => {}
                Ok(v) => changes.push((key, v)),
                Err(e) => errors.push((key.name().to_string(), e.to_string())),
            }
        }
        if errors.is_empty() {
            for (key, value) in &changes {
                if let Err(e) = guarded.set_setting(*key, None, value) {
                    errors.push((key.name().to_string(), e.to_string()));
                    break;
                }
            }
        }
        if errors.is_empty() {
            Ok(crate::forms::see_other("/settings?saved=1"))
        } else {
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                build(st, &req, &errors, Some(&form), false, None)?,
            )
                .into_response())
        }
    })
    .await
}
