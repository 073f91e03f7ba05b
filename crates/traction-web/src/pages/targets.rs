//! Targets: the list with where each stands now, a form to create and edit one (the metric from
//! the catalog, the scope, the period, the value, how it spreads), and a target's page with its
//! breakdown by week, day or hour, overall or per head — the figures of
//! `traction target breakdown` and `GET /api/v1/kpis/{id}/breakdown`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_domain::{Entity, Value};
use traction_kpi::engine::Engine;
use traction_kpi::pace::Behaviour;
use traction_kpi::period::{Grain as KGrain, PeriodKind, period_range};
use traction_kpi::service::{Kpis, MetricRequest, MetricSource, Target};
use traction_metrics::Grain;
use traction_server::AppState;
use traction_store::Store;

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::forms::{self, FieldErrors, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, encode, respond};

/// Targets per page of the list.
const PER_PAGE: usize = 50;

/// The statuses a list can be filtered by, as `status=` takes them.
const STATUSES: &[&str] =
    &["on_track", "at_risk", "off_track", "achieved", "not_started", "not_enough_data"];

/// Which targets the list shows: `scope=`, `period=` (the kind), `when=` (now, past,
/// upcoming), `status=` and `page=`; each empty or absent means all.
struct ListFilter {
    scope: Option<traction_kpi::scope::Scope>,
    period: Option<PeriodKind>,
    when: Option<&'static str>,
    status: Option<&'static str>,
    page: usize,
}

impl ListFilter {
    fn read(params: &Params, req: &Req) -> Result<ListFilter> {
        const KNOWN: &[&str] = &["scope", "period", "when", "status", "page", "at"];
        if let Some((k, _)) = params.0.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
            return Err(WebError::bad(format!(
                "unknown parameter {k:?}: the targets list takes {}",
                KNOWN.join(", ")
            )));
        }
        let given = |k: &str| params.get(k).filter(|v| !v.is_empty());
        let scope = match given("scope") {
            None => None,
            Some(_) => Some(scope_param(params, req)?),
        };
        let period = given("period")
            .map(|p| PeriodKind::parse(p).map_err(|e| WebError::bad(format!("period: {e}"))))
            .transpose()?;
        let when = given("when")
            .map(|w| {
                ["now", "past", "upcoming"].into_iter().find(|x| *x == w).ok_or_else(|| {
                    WebError::bad(format!("when: {w:?} is not one of now, past, upcoming"))
                })
            })
            .transpose()?;
        let status = given("status")
            .map(|v| {
                STATUSES.iter().copied().find(|x| *x == v).ok_or_else(|| {
                    WebError::bad(format!("status: {v:?} is not one of {}", STATUSES.join(", ")))
                })
            })
            .transpose()?;
        let page = match given("page") {
            None => 1,
            Some(p) => p.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                WebError::bad(format!("page: {p:?} is not a page number (1, 2, …)"))
            })?,
        };
        Ok(ListFilter { scope, period, when, status, page })
    }

    /// Whether a target (its period `[start, end)`) passes the filters other than status.
    fn keeps(&self, target: &Target, (start, end): (Micros, Micros), at: Micros) -> bool {
        self.scope.as_ref().is_none_or(|s| *s == target.scope)
            && self.period.is_none_or(|p| p == target.period)
            && match self.when {
                Some("now") => start <= at && at < end,
                Some("past") => end <= at,
                Some("upcoming") => at < start,
                _ => true,
            }
    }

    /// The list's URL with these filters on page `page`.
    fn link(&self, page: usize) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.scope {
            parts.push(format!("scope={}", encode(&scope_value(s))));
        }
        if let Some(p) = self.period {
            parts.push(format!("period={}", period_name(p)));
        }
        if let Some(w) = self.when {
            parts.push(format!("when={w}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={s}"));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { "/targets".into() } else { format!("/targets?{}", parts.join("&")) }
    }
}

/// `GET /targets`: every target, filtered by scope, period, when and status, newest period
/// first, a page at a time, each with its actual, what was expected by now, a pace bar and its
/// status.
pub async fn list(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| {
        let store = state.store.as_ref();
        let ws = Ws::load(store, &req)?;
        let names = Names::load(store)?;
        let at = at_param(&params, &ws.zone, now)?;
        let filter = ListFilter::read(&params, &req)?;
        let engine = Engine { store, catalog: &state.catalog };
        let kpis = Kpis { store, metrics: &engine };
        let all = kpis.targets()?;
        let total = all.len();
        let mut targets = Vec::new();
        for t in all {
            let range = period_range(t.period, t.starts_on, &ws.zone).map_err(WebError::bad)?;
            if filter.keeps(&t, range, at) {
                targets.push(t);
            }
        }
        // Current and future periods first, newest first.
        targets.sort_by(|a, b| b.starts_on.cmp(&a.starts_on).then_with(|| a.id.cmp(&b.id)));
        // Figures for the page shown; with a status filter, for every target it filters.
        let figures_of = |ids: std::collections::HashSet<&str>| -> Result<BTreeMap<String, traction_kpi::service::KpiRow>> {
            Ok(kpis
                .status_where(at, |t, _| ids.contains(t.id.as_str()))?
                .into_iter()
                .map(|r| (r.target.id.clone(), r))
                .collect())
        };
        let mut figures = if filter.status.is_some() {
            figures_of(targets.iter().map(|t| t.id.as_str()).collect())?
        } else {
            BTreeMap::new()
        };
        if let Some(status) = filter.status {
            targets.retain(|t| figures.get(&t.id).is_some_and(|r| r.figures.status.name() == status));
        }
        let pages = targets.len().div_ceil(PER_PAGE).max(1);
        if filter.page > pages {
            return Err(WebError::bad(format!(
                "page: there are {pages} pages of these targets; page {} is past the last",
                filter.page
            )));
        }
        let shown = &targets[(filter.page - 1) * PER_PAGE..(filter.page * PER_PAGE).min(targets.len())];
        if filter.status.is_none() {
            figures = figures_of(shown.iter().map(|t| t.id.as_str()).collect())?;
        }
        let filtered = filter.scope.is_some() || filter.period.is_some() || filter.when.is_some() || filter.status.is_some();
        let selected_scope = filter.scope.as_ref().map(scope_value).unwrap_or_default();
        let body = html! {
            div.page-head {
                h1 { "Targets" }
                p.sub {
                    @if filtered { (targets.len()) " of " (total) " targets" } @else { (total) " targets" }
                    @if pages > 1 { " · page " (filter.page) " of " (pages) }
                }
                a.button href="/targets/new" { "New target" }
            }
            @if total > 0 {
                form.filters.card method="get" action="/targets" {
                    label for="scope" { "Scope" }
                    select name="scope" id="scope" data-auto {
                        option value="" { "Any" }
                        option value="company" selected[selected_scope == "company"] { "Company" }
                        @if !names.teams.is_empty() {
                            optgroup label="Teams" {
                                @for (id, name) in &names.teams {
                                    @let v = format!("team:{id}");
                                    option value=(v) selected[selected_scope == v] { (name) }
                                }
                            }
                        }
                        optgroup label="People" {
                            @for p in names.people.iter().filter(|p| p.can_own() || selected_scope == format!("user:{}", p.id)) {
                                @let v = format!("user:{}", p.id);
                                option value=(v) selected[selected_scope == v] { (names.person_label(p)) }
                            }
                        }
                    }
                    label for="period" { "Period" }
                    select name="period" id="period" data-auto {
                        option value="" { "Any" }
                        @for k in [PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
                            option value=(period_name(k)) selected[filter.period == Some(k)] { (period_name(k)) }
                        }
                    }
                    label for="when" { "When" }
                    select name="when" id="when" data-auto {
                        option value="" { "Any time" }
                        @for (v, l) in [("now", "running now"), ("past", "past"), ("upcoming", "upcoming")] {
                            option value=(v) selected[filter.when == Some(v)] { (l) }
                        }
                    }
                    label for="status" { "Status" }
                    select name="status" id="status" data-auto {
                        option value="" { "Any" }
                        @for v in STATUSES {
                            option value=(v) selected[filter.status == Some(*v)] { (status_parts(v).1) }
                        }
                    }
                    button type="submit" { "Show" }
                    @if filtered { a href="/targets" { "Clear" } }
                }
            }
            @if total == 0 {
                (layout::empty("No targets yet — set one for this month to see pace, status and projection on the dashboard.", Some(("/targets/new", "Set a target"))))
            } @else if targets.is_empty() {
                (layout::empty("No target matches these filters — clear one to see more.", Some(("/targets", "Show every target"))))
            } @else {
                section.card #targets data-live {
                    div.scroll {
                        table.targets {
                            thead { tr {
                                th scope="col" { "Metric" } th scope="col" { "Scope" } th scope="col" { "Period" }
                                th.num scope="col" { "Target" } th.num scope="col" { "Actual" } th.num scope="col" { "Expected by now" }
                                th scope="col" { "Pace" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Edit" } }
                            } }
                            tbody {
                                @for t in shown {
                                    @let (unit, _, label) = unit_of(&state.catalog, &t.metric);
                                    @let row = figures.get(&t.id);
                                    tr {
                                        th scope="row" { a href={"/targets/" (encode(&t.id))} { (label) } }
                                        td { (names.scope(&t.scope)) }
                                        td { (period_label(t.period, t.starts_on)) }
                                        td.num { (ws.fmt.value(unit, Some(t.value))) }
                                        @if let Some(r) = row {
                                            td.num { (ws.fmt.value(unit, r.figures.actual)) }
                                            td.num { (ws.fmt.value(unit, Some(r.figures.expected))) }
                                            td.pacecell {
                                                (chart::pace_bar(r.figures.actual.unwrap_or(0.0), r.figures.expected, t.value, r.figures.status.name(), &format!("{label} pace")))
                                                span.num { (r.figures.pace.map_or("–".into(), |p| ws.fmt.percent(p))) }
                                            }
                                            td { (status_badge(r.figures.status.name())) }
                                        } @else {
                                            td.num { "–" } td.num { "–" } td {} td {}
                                        }
                                        td { a href={"/targets/" (encode(&t.id)) "/edit"} { "Edit" } }
                                    }
                                }
                            }
                        }
                    }
                    @if pages > 1 {
                        nav.pager aria-label="Pages" {
                            @if filter.page > 1 { a href=(filter.link(filter.page - 1)) rel="prev" { "← Previous" } }
                            span.small { "Page " (filter.page) " of " (pages) }
                            @if filter.page < pages { a href=(filter.link(filter.page + 1)) rel="next" { "Next →" } }
                        }
                    }
                }
            }
        };
        Ok(layout::page(&req, "Targets", Nav::Targets, body))
    })
    .await
}

pub async fn form_new(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, now| {
        let ws = Ws::load(&*state.store, &req)?;
        let (first, ..) = current_period(PeriodKind::Month, now, &ws.zone)?;
        let values = Form(vec![
            ("period".into(), "month".into()),
            ("starts_on".into(), first.to_string()),
            ("split".into(), "calendar".into()),
            ("at_risk".into(), "0.9".into()),
            ("off_track".into(), "0.75".into()),
        ]);
        form_page(state, &req, &values, &Vec::new(), false)
    })
    .await
}

pub async fn form_edit(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let record = store
            .get(Entity::Targets, &[Value::Text(id.clone())])?
            .ok_or_else(|| WebError::not_found(format!("no target has id {id:?}")))?;
        let currency = store.workspace()?.currency;
        let share = record
            .get("metric")
            .as_text()
            .and_then(|m| state.catalog.get(m))
            .is_some_and(traction_kpi::check::is_share);
        let values = Form(
            Entity::Targets
                .fields()
                .iter()
                .map(|f| {
                    let text =
                        traction_domain::record::format_value(f, record.get(f.name), currency);
                    // The form takes a rate in percent (docs/kpis.md): 0.25 is shown as 25.
                    let text = match f.name {
                        "value" if share => {
                            traction_kpi::check::fraction_to_percent(&text).unwrap_or(text)
                        }
                        _ => text,
                    };
                    (f.name.to_string(), text)
                })
                .collect(),
        );
        form_page(state, &req, &values, &Vec::new(), true)
    })
    .await
}

fn form_page(
    state: &AppState,
    req: &Req,
    values: &Form,
    errors: &FieldErrors,
    editing: bool,
) -> Result<Markup> {
    let names = Names::load(&*state.store)?;
    let scope = values
        .get("scope")
        .map(traction_kpi::scope::Scope::parse)
        .and_then(|s| s.ok())
        .unwrap_or(traction_kpi::scope::Scope::Company);
    let err = |field: &str| {
        errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let metrics: Vec<_> = state
        .catalog
        .metrics()
        .iter()
        .filter(|m| m.target != traction_metrics::catalog::TargetKind::None)
        .collect();
    let metric = values.get("metric").unwrap_or("revenue_won");
    let title = if editing { "Edit target" } else { "New target" };
    let body = html! {
        div.page-head { h1 { (title) } }
        @if !errors.is_empty() { p.notice.bad role="alert" { "Nothing was saved: fix the fields marked below." } }
        @for (f, m) in errors.iter().filter(|(f, _)| f.is_empty() || f == "id") { p.error-text { (f) " " (m) } }
        form.card method="post" action="/targets" data-validate {
            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
            @if editing { input type="hidden" name="id" value=[values.get("id")]; }
            div.field {
                label for="metric" { "Metric" }
                select name="metric" id="metric" required {
                    @for m in &metrics { option value=(m.name) selected[m.name == metric] { (m.label) " (" (m.unit.name()) ")" } }
                }
                p.error-text data-for="metric" { (err("metric")) }
            }
            div.field {
                label for="scope" { "Scope" }
                (scope_select(&names, &scope, false))
                p.error-text data-for="scope" { (err("scope")) }
            }
            div.field {
                label for="period" { "Period" }
                select name="period" id="period" {
                    @for k in ["week", "month", "quarter", "year"] { option value=(k) selected[values.get("period") == Some(k)] { (k) } }
                }
            }
            div.field {
                label for="starts_on" { "Starts on" }
                input type="date" name="starts_on" id="starts_on" required value=[values.get("starts_on")];
                span.hint { "The first day of the period (a Monday for a week, the 1st for a month)." }
                p.error-text data-for="starts_on" { (err("starts_on")) }
                @if err("starts_on").starts_with(super::activity::FAR_AHEAD_TEXT) {
                    label.confirm { input type="checkbox" name="confirm_future" value="1"; " Yes, this date" }
                }
            }
            div.field {
                label for="value" { "Target value" }
                input type="number" name="value" id="value" required step="any" inputmode="decimal" value=[values.get("value")];
                span.hint { "An amount to reach for counts and sums, above 0 (money in major units, within the currency's decimals); a level to hold for rates, averages and times. A rate is entered in percent: 25 for 25%. Times in the metric's unit." }
                p.error-text data-for="value" { (err("value")) }
            }
            div.field {
                label for="split" { "Spread over the period" }
                select name="split" id="split" {
                    option value="calendar" selected[values.get("split") == Some("calendar")] { "by working hours (calendar)" }
                    option value="even" selected[values.get("split") == Some("even")] { "evenly over every hour" }
                    option value="seasonal" selected[values.get("split") == Some("seasonal")] { "like past weeks (seasonal)" }
                }
            }
            div.field {
                label for="at_risk" { "At risk below pace" }
                input type="number" name="at_risk" id="at_risk" step="0.01" min="0" max="1" value=[values.get("at_risk")];
                p.error-text data-for="at_risk" { (err("at_risk")) }
            }
            div.field {
                label for="off_track" { "Off track below pace" }
                input type="number" name="off_track" id="off_track" step="0.01" min="0" max="1" value=[values.get("off_track")];
                p.error-text data-for="off_track" { (err("off_track")) }
            }
            button type="submit" { "Save target" }
        }
    };
    Ok(layout::page(req, title, Nav::Targets, body))
}

/// `POST /targets`: creates (no id) or replaces (id) a target; the metric must be in the catalog.
pub async fn save(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    let editing = form.get("id").is_some();
    respond(state, move |st, now| match save_target(st, req.principal.as_deref(), form, now)? {
        Ok((id, summary)) => {
            forms::announce(st, &summary, Entity::Targets);
            Ok(forms::see_other(&format!("/targets/{}", encode(&id))))
        }
        Err((errors, form)) => {
            let markup = form_page(st, &req, &form, &errors, editing)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
        }
    })
    .await
}

/// What a refused target form comes back with: the problems by field, and the form as sent.
type Refused = (FieldErrors, Form);

/// Checks the target form and writes the target as the caller: its id and what was written, or
/// the problems to show on the form.
fn save_target(
    st: &AppState,
    principal: Option<&traction_server::auth::Principal>,
    form: Form,
    now: Micros,
) -> Result<std::result::Result<(String, traction_store::Summary), Refused>> {
    let store = st.store.as_ref();
    let ctx = forms::context(store, now)?;
    let id = form.get("id").map_or_else(
        || traction_server::api::records::generated_id(Entity::Targets, now),
        str::to_string,
    );
    let mut errors: FieldErrors = Vec::new();
    // A rate is entered in percent and stored as the fraction (docs/kpis.md): 25 → 0.25.
    let share = form
        .get("metric")
        .and_then(|m| st.catalog.get(m))
        .is_some_and(traction_kpi::check::is_share);
    let mut parsed = Form(form.0.clone());
    if share && let Some(text) = form.get("value") {
        match traction_kpi::check::percent_to_fraction(text) {
            Some(fraction) => {
                parsed.0.retain(|(k, _)| k != "value");
                parsed.0.push(("value".into(), fraction));
            }
            None => errors.push((
                "value".into(),
                format!("{text:?} is not a number: enter a percentage such as 25"),
            )),
        }
    }
    let record = match forms::record_from_form(Entity::Targets, &parsed, Some(&id), &ctx) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    // spec: kpis.md, Targets: the one check the command line, the API and imports use too.
    if let Some(r) = &record {
        let engine = Engine { store, catalog: &st.catalog };
        for p in traction_kpi::check::check_target(&engine, r, ctx.currency) {
            let message = match (share, p.field.as_str()) {
                (true, "value") => format!(
                    "{}% is not a rate: enter a percentage from 0 to 100",
                    form.get("value").unwrap_or("")
                ),
                _ => p.message,
            };
            errors.push((p.field, message));
        }
    }
    // A period starting more than a year ahead is most likely a typing slip (2062 for 2026):
    // asked to be confirmed, as the log form asks of an activity's time.
    if let Some(r) = &record
        && let Value::Date(start) = r.get("starts_on")
        && form.get("confirm_future").is_none()
        && start
            .to_zoned(ctx.zone.clone())
            .is_ok_and(|z| z.timestamp().as_microsecond() > now + super::activity::FAR_AHEAD)
    {
        errors.push((
            "starts_on".into(),
            format!(
                "{} ({start}): check the year, or tick “Yes, this date” and save again",
                super::activity::FAR_AHEAD_TEXT
            ),
        ));
    }
    if let Some(s) = form.get("scope")
        && let Err(e) = traction_kpi::scope::Scope::parse(s)
    {
        errors.push(("scope".into(), e.to_string()));
    }
    if let Some(r) = &record
        && let Err(e) = Target::from_record(r)
    {
        errors.push(("value".into(), e.to_string()));
    }
    let Some(record) = record.filter(|_| errors.is_empty()) else {
        return Ok(Err((errors, form)));
    };
    let principal = principal.ok_or_else(|| WebError::bad("sign in to set a target"))?;
    Ok(forms::write_as(st, principal, now, vec![record])?
        .map(|summary| (id, summary))
        .map_err(|e| (e, form)))
}

/// What a target still needs per working hour, saying whose rate it is (issue 22.2): for a team
/// or the company, the scope's rate and each head's ("£753 per working hour for the team · £188
/// per head"), the figures the hourly breakdown shows; for a user, theirs. `None` when nothing
/// more is needed or no working hour remains.
pub fn needed_rate(
    fmt: &crate::fmt::Fmt,
    unit: traction_metrics::catalog::Unit,
    scope: &traction_kpi::scope::Scope,
    f: &traction_kpi::pace::Figures,
) -> Option<String> {
    use traction_kpi::scope::Scope;
    let scope_rate = f.required_rate_scope.filter(|r| *r > 0.0)?;
    if f.status.name() == "achieved" {
        return None;
    }
    let whose = match scope {
        Scope::User(_) => {
            return Some(format!("needs {} per working hour", fmt.value(unit, Some(scope_rate))));
        }
        Scope::Team(_) => "for the team",
        Scope::Company => "for the company",
    };
    let per_head = match f.required_rate {
        Some(r) => format!(
            " · {} per head ({} {})",
            fmt.value(unit, Some(r)),
            f.heads,
            if f.heads == 1 { "rep" } else { "reps" }
        ),
        None => " · no reps to share it".to_string(),
    };
    Some(format!("needs {} per working hour {whose}{per_head}", fmt.value(unit, Some(scope_rate))))
}

/// The tile of a target that cannot be computed: its name and why.
pub fn error_tile(names: &Names, t: &Target, message: &str) -> Markup {
    html! {
        article class="tile status-error" id={"kpi-" (t.id)} {
            a.tile-link href={"/targets/" (encode(&t.id))} {
                h3 { (t.metric) " · " (names.scope(&t.scope)) " · " (t.starts_on) }
                p.meta { (status_badge("error")) }
                p.small role="alert" { (message) }
            }
        }
    }
}

/// Whether the caller may change targets at all (managers their teams', admins all); the store's
/// guard decides for each target, this only hides buttons that would be refused.
fn may_manage_targets(req: &Req) -> bool {
    use traction_server::auth::Role;
    req.principal.as_deref().is_some_and(|p| matches!(p.role, Role::Admin | Role::Manager))
}

/// `GET /targets/{id}/delete`: asks to confirm, naming what goes.
pub async fn confirm_delete(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        let store = state.store.as_ref();
        let names = Names::load(store)?;
        let engine = Engine { store, catalog: &state.catalog };
        let target = Kpis { store, metrics: &engine }.target(&id)?;
        let label = state.catalog.get(&target.metric).map_or(target.metric.clone(), |m| m.label.clone());
        let body = html! {
            div.page-head { h1 { "Delete target?" } }
            section.card {
                p { "Delete the target on " strong { (label) } " for " (names.scope(&target.scope)) ", " (period_name(target.period)) " from " (target.starts_on) "? Its figures go from the dashboard and the reports; the records it measured stay. This cannot be undone." }
                form method="post" action={"/targets/" (encode(&id)) "/delete"} {
                    @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                    button.danger type="submit" { "Delete target" }
                    " "
                    a.button.secondary href={"/targets/" (encode(&id))} { "Cancel" }
                }
            }
        };
        Ok(layout::page(&req, "Delete target", Nav::Targets, body))
    })
    .await
}

/// `POST /targets/{id}/delete`: deletes the target as the caller (a manager their team's, an
/// admin any; others are refused by the guarded store) and goes back to the list.
pub async fn delete(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |st, now| {
        let principal =
            req.principal.as_deref().ok_or_else(|| WebError::bad("sign in to delete a target"))?;
        let guarded = forms::guarded(st, principal, now);
        let res = (|| {
            let mut writer = guarded.writer()?;
            writer.delete(Entity::Targets, &[Value::Text(id.clone())])?;
            writer.commit()
        })();
        let summary = match res {
            Ok(summary) => summary,
            Err(_) if guarded.denied().is_some() => {
                return Err(forms::denied(&guarded).unwrap_or_else(|| WebError::bad("refused")));
            }
            Err(traction_store::Error::NotFound) => {
                return Err(WebError::not_found(format!("no target has id {id:?}")));
            }
            Err(e) => return Err(e.into()),
        };
        forms::announce(st, &summary, Entity::Targets);
        Ok(forms::see_other("/targets"))
    })
    .await
}

/// A target: where it stands, and its breakdown (`grain=week|day|hour`, `per_head=1`).
pub async fn detail(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response> {
    respond(state, move |state, now| detail_page(state, &req, &id, &params, now)).await
}

fn detail_page(
    state: &AppState,
    req: &Req,
    id: &str,
    params: &Params,
    now: Micros,
) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let at = at_param(params, &ws.zone, now)?;
    // With forecasts: the row's `forecast` says where the target is forecast to land.
    let engine = traction_forecast::kpi::Source::new(store, &state.catalog)
        .with_backtests_at_most(traction_forecast::kpi::REQUEST_BACKTESTS);
    let kpis = Kpis { store, metrics: &engine };
    let target = kpis.target(id)?;
    let grain_text = params.get("grain").unwrap_or("day").to_ascii_lowercase();
    let grain = KGrain::parse(&grain_text).map_err(|e| WebError::bad(format!("grain: {e}")))?;
    let per_head = matches!(params.get("per_head"), Some("1" | "true" | "yes"));
    let (unit, better, label) = unit_of(&state.catalog, &target.metric);
    let row = kpis.status_where(at, |t, _| t.id == target.id)?.into_iter().next();
    // A target that cannot be computed (its metric's definition was removed) says why, and can
    // still be edited or deleted.
    if let Some(message) = row.as_ref().and_then(|r| r.error.as_deref()) {
        let body = html! {
            div.page-head {
                h1 { (target.metric) " · " (names.scope(&target.scope)) }
                p.sub { (period_name(target.period)) " from " (target.starts_on) }
                @if may_manage_targets(req) {
                    a.button.secondary href={"/targets/" (encode(id)) "/edit"} { "Edit" }
                    " "
                    a.button.secondary href={"/targets/" (encode(id)) "/delete"} { "Delete" }
                }
            }
            section.card #standing {
                h2 { "Where it stands" }
                p { (status_badge("error")) }
                p.error-text role="alert" { (message) }
            }
        };
        return Ok(layout::page(req, &format!("Target {}", target.metric), Nav::Targets, body));
    }
    let rows = kpis.breakdown(id, grain, per_head, at)?;
    let accumulating = matches!(engine.behaviour(&target.metric), Ok(Behaviour::Accumulating));
    // Actuals per bucket, for the whole scope (not per head).
    let (start, end) =
        period_range(target.period, target.starts_on, &ws.zone).map_err(WebError::bad)?;
    let org = kpis.org()?;
    let owners = org.owners(&target.scope);
    let until = at.clamp(start, end);
    let g = match grain {
        KGrain::Hour => Grain::Hour,
        KGrain::Day => Grain::Day,
        KGrain::Week => Grain::Week,
    };
    let actual = values_by_period(
        store,
        &state.catalog,
        &MetricRequest::new(&target.metric, owners.as_deref(), (start, until), at),
        g,
    )?;
    let periods: Vec<String> = {
        let mut seen = Vec::new();
        for r in &rows {
            if seen.last() != Some(&r.period) {
                seen.push(r.period.clone());
            }
        }
        seen
    };
    // The target line of an accumulating target: the scope's share per bucket (the kpi crate
    // adds per-head rows up); a level's line is the level itself.
    let overall = traction_kpi::breakdown::totals_by_period(&rows);
    // By the hour, only the working hours (those with a share of the target) and any hour with
    // an actual outside them: a month is then its working days, not 720 mostly empty hours.
    let hourly = grain == KGrain::Hour;
    let periods: Vec<String> = if hourly {
        periods
            .into_iter()
            .filter(|p| {
                actual.contains_key(p) || rows.iter().any(|r| &r.period == p && r.value != 0.0)
            })
            .collect()
    } else {
        periods
    };
    let chart = Chart {
        title: format!("{label}: target and actual by {grain_text}"),
        unit,
        labels: periods.clone(),
        series: vec![
            Series {
                name: "actual".into(),
                values: periods.iter().map(|p| actual.get(p).copied()).collect(),
                style: Style::Main(0),
            },
            Series {
                name: "target".into(),
                values: periods
                    .iter()
                    .map(
                        |p| if accumulating { overall.get(p).copied() } else { Some(target.value) },
                    )
                    .collect(),
                style: Style::Target,
            },
        ],
        bars: accumulating,
        wide: true,
    };
    let heads: Vec<String> = if per_head {
        let mut v: Vec<String> = rows.iter().filter_map(|r| r.user.clone()).collect();
        v.dedup();
        let mut seen = std::collections::BTreeSet::new();
        v.retain(|u| seen.insert(u.clone()));
        v
    } else {
        Vec::new()
    };
    let link = |g: &str, ph: bool| {
        format!("/targets/{}?grain={g}{}", encode(id), if ph { "&per_head=1" } else { "" })
    };
    let body = html! {
        div.page-head {
            h1 { (label) " · " (names.scope(&target.scope)) }
            p.sub { (period_name(target.period)) " from " (target.starts_on) " · target " (ws.fmt.value(unit, Some(target.value))) " · split " (target.split_name()) }
            @if may_manage_targets(req) {
                a.button.secondary href={"/targets/" (encode(id)) "/edit"} { "Edit" }
                " "
                a.button.secondary href={"/targets/" (encode(id)) "/delete"} { "Delete" }
            }
        }
        @if let Some(r) = &row {
            section.card #standing data-live {
                h2 { "Where it stands" }
                dl.facts {
                    dt { "Actual" } dd { (ws.fmt.value(unit, r.figures.actual)) }
                    dt { "Expected by now" } dd { (ws.fmt.value(unit, Some(r.figures.expected))) }
                    dt { "Pace" } dd { (r.figures.pace.map_or("–".into(), |p| ws.fmt.percent(p))) }
                    dt { "Status" } dd { (status_badge(r.figures.status.name())) }
                    @if accumulating {
                        dt { "Projected" } dd { (ws.fmt.value(unit, r.figures.projected)) " (run rate)" }
                        @if let Some(f) = r.forecast {
                            dt { "Forecast" } dd { (ws.fmt.value(unit, Some(f.value))) " (" (ws.fmt.value(unit, Some(f.low))) " – " (ws.fmt.value(unit, Some(f.high))) ", 80%; " a href={"/forecast/history?metric=" (encode(&target.metric)) "&scope=" (encode(&target.scope.to_string()))} { "past forecasts" } ")" }
                            // How far to trust it (spec: monitoring.md, shown with every forecast).
                            @if let Some(b) = f.backtest {
                                dt { "How far to trust it" } dd.trust { (b.summary("day")) }
                            }
                        }
                        dt { "Gap" } dd { (ws.fmt.value(unit, r.figures.gap)) }
                        @if matches!(target.scope, traction_kpi::scope::Scope::User(_)) {
                            dt { "Needed per working hour" } dd { (ws.fmt.value(unit, r.figures.required_rate_scope)) }
                        } @else {
                            dt { "Needed per working hour for the " (if target.scope == traction_kpi::scope::Scope::Company { "company" } else { "team" }) } dd { (ws.fmt.value(unit, r.figures.required_rate_scope)) }
                            dt { "Needed per working hour per head" } dd { (ws.fmt.value(unit, r.figures.required_rate)) " (" (r.figures.heads) " " (if r.figures.heads == 1 { "rep" } else { "reps" }) ")" }
                        }
                    }
                }
                (chart::pace_bar(r.figures.actual.unwrap_or(0.0), r.figures.expected, target.value, r.figures.status.name(), "pace"))
                @let _ = better;
            }
        }
        section.card #breakdown data-live {
            h2 { "Breakdown" }
            nav.filters aria-label="Breakdown grain" {
                @for g in ["week", "day", "hour"] {
                    a.button.secondary[g != grain_text] .button[g == grain_text] href=(link(g, per_head)) aria-current=[(g == grain_text).then_some("true")] { "by " (g) }
                }
                a.button.secondary href=(link(&grain_text, !per_head)) { (if per_head { "overall" } else { "per head" }) }
            }
            (chart::chart(&chart, &ws.fmt))
            div.scroll {
                table {
                    thead {
                        tr {
                            th scope="col" { "Period" }
                            @if per_head { @for u in &heads { th.num scope="col" { (names.user(u)) } } }
                            @else { th.num scope="col" { "Target" } }
                            th.num scope="col" { "Actual" }
                        }
                    }
                    tbody {
                        @for (i, p) in periods.iter().enumerate() {
                            // By the hour, the hours come under their day.
                            @if hourly && (i == 0 || periods[i - 1].split('T').next() != p.split('T').next()) {
                                tr.day { th scope="rowgroup" colspan=(2 + if per_head { heads.len() } else { 1 }) { (day_heading(p)) } }
                            }
                            tr {
                                th scope="row" { @if hourly { (chart::short_label(p)) } @else { (p) } }
                                @if per_head {
                                    @for u in &heads {
                                        td.num { (ws.fmt.value(unit, rows.iter().find(|r| &r.period == p && r.user.as_ref() == Some(u)).map(|r| r.value))) }
                                    }
                                } @else {
                                    td.num { (ws.fmt.value(unit, overall.get(p).copied())) }
                                }
                                td.num { (ws.fmt.value(unit, actual.get(p).copied())) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(req, &format!("Target {label}"), Nav::Targets, body))
}

/// The day of an hourly bucket label for a heading: `2026-11-03T09:00` → `Tue 3 Nov 2026`.
fn day_heading(label: &str) -> String {
    let day = label.split('T').next().unwrap_or(label);
    day.parse::<jiff::civil::Date>()
        .map_or_else(|_| day.to_string(), |d| d.strftime("%a %-d %b %Y").to_string())
}

trait SplitName {
    fn split_name(&self) -> &'static str;
}

impl SplitName for Target {
    fn split_name(&self) -> &'static str {
        match self.split {
            traction_kpi::split::Split::Calendar => "calendar",
            traction_kpi::split::Split::Even => "even",
            traction_kpi::split::Split::Seasonal => "seasonal",
        }
    }
}

#[cfg(test)]
mod tests {
    use traction_domain::Currency;
    use traction_kpi::pace::{Figures, Status};
    use traction_kpi::scope::Scope;
    use traction_metrics::catalog::Unit;

    use super::needed_rate;
    use crate::fmt::{Fmt, Locale};

    fn figures(scope_rate: f64, heads: usize) -> Figures {
        Figures {
            actual: Some(0.0),
            expected: 0.0,
            pace: None,
            status: Status::OnTrack,
            projected: None,
            required_rate: (heads > 0).then(|| scope_rate / heads as f64),
            required_rate_scope: Some(scope_rate),
            heads,
            gap: None,
        }
    }

    // Issue 22.2: the tile says whose rate it gives: the team's, and each head's.
    #[test]
    fn issue_22_2_the_needed_rate_says_whose_it_is() {
        let fmt = Fmt { locale: Locale::EN, currency: Currency::parse("GBP").unwrap() };
        let team = Scope::Team("north".into());
        // 84,000 over 168 working hours for 4 reps: £500 for the team, £125 per head.
        assert_eq!(
            needed_rate(&fmt, Unit::Money, &team, &figures(500.0, 4)).as_deref(),
            Some("needs £500.00 per working hour for the team · £125.00 per head (4 reps)")
        );
        assert_eq!(
            needed_rate(&fmt, Unit::Money, &Scope::Company, &figures(753.0, 4)).as_deref(),
            Some("needs £753.00 per working hour for the company · £188.25 per head (4 reps)")
        );
        assert_eq!(
            needed_rate(&fmt, Unit::Money, &Scope::User("u1".into()), &figures(125.0, 1))
                .as_deref(),
            Some("needs £125.00 per working hour")
        );
        assert_eq!(
            needed_rate(&fmt, Unit::Money, &team, &figures(500.0, 0)).as_deref(),
            Some("needs £500.00 per working hour for the team · no reps to share it")
        );
        assert_eq!(needed_rate(&fmt, Unit::Money, &team, &figures(0.0, 4)), None, "reached");
    }
}
