//! One module per page, and what several pages share: names of people, teams and stages, the
//! current period, KPI tiles and status words.

pub mod activity;
pub mod alerts;
pub mod dashboard;
pub mod deals;
pub mod definitions;
pub mod edit;
pub mod events;
pub mod explorer;
pub mod forecast;
pub mod import;
pub mod leads;
pub mod people;
pub mod pipeline;
pub mod pipelines;
pub mod records;
pub mod search;
pub mod settings;
pub mod setup;
pub mod setup_demo;
pub mod targets;
pub mod today;
pub mod tokens;
pub mod views;
pub mod work;

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use traction_domain::settings::Workspace;
use traction_domain::time::{Micros, parse_instant, start_of_day, to_zoned};
use traction_domain::{Entity, Record, Value};
use traction_kpi::period::PeriodKind;
use traction_kpi::scope::Scope;
use traction_kpi::service::MetricRequest;
use traction_metrics::Catalog;
use traction_metrics::catalog::{Better, Unit};
use traction_store::{Backend, ListQuery};

use crate::fmt::Fmt;
use crate::{Params, Req, Result, WebError};

/// What a page's rendering needs from the workspace: formatting and the zone.
pub struct Ws {
    pub fmt: Fmt,
    pub zone: TimeZone,
    pub workspace: Workspace,
}

impl Ws {
    pub fn load(store: &dyn Backend, req: &Req) -> Result<Ws> {
        let workspace = store.workspace()?;
        Ok(Ws {
            fmt: Fmt { locale: req.locale, currency: workspace.currency },
            zone: workspace.zone.clone(),
            workspace,
        })
    }

    /// An amount in minor units shown in the workspace currency (the figure computed in
    /// integers elsewhere; only the display divides).
    pub fn money_minor(&self, minor: i64) -> String {
        self.fmt.money(minor as f64 / self.workspace.currency.minor_per_major() as f64)
    }

    /// A local date-time for people: `Mon 23 Nov 14:05`.
    pub fn when(&self, micros: Micros) -> String {
        to_zoned(micros, &self.zone)
            .map_or_else(String::new, |z| z.strftime("%a %-d %b %H:%M").to_string())
    }

    /// A local date: `23 Nov 2026`.
    pub fn day(&self, micros: Micros) -> String {
        to_zoned(micros, &self.zone)
            .map_or_else(String::new, |z| z.strftime("%-d %b %Y").to_string())
    }

    pub fn today(&self, now: Micros) -> Date {
        to_zoned(now, &self.zone).map_or(Date::constant(1970, 1, 1), |z| z.date())
    }
}

/// `at` from the query (a date or an instant), else now.
pub fn at_param(params: &Params, zone: &TimeZone, now: Micros) -> Result<Micros> {
    match params.get("at") {
        Some(text) => parse_instant(text, zone).map_err(|e| WebError::bad(format!("at: {e}"))),
        None => Ok(now),
    }
}

/// Display names of users, teams, stages, pipelines, accounts and campaigns (small tables).
#[derive(Default)]
pub struct Names {
    pub users: BTreeMap<String, String>,
    pub teams: BTreeMap<String, String>,
    pub stages: BTreeMap<String, String>,
    /// Every user, by name (then id), for lists of people.
    pub people: Vec<Person>,
}

/// A user as lists of people need them.
pub struct Person {
    pub id: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub team: String,
}

impl Person {
    /// Whether records can be given to them: active and not a viewer (who owns nothing).
    pub fn can_own(&self) -> bool {
        self.active && self.role != "viewer"
    }
}

impl Names {
    pub fn load(store: &dyn Backend) -> Result<Names> {
        let mut people = Vec::new();
        store.scan(Entity::Users, &mut |r: Record| {
            let id = text(&r, "id").to_string();
            people.push(Person {
                name: r.get("name").as_text().map_or_else(|| id.clone(), str::to_string),
                id,
                role: text(&r, "role").to_string(),
                active: !matches!(r.get("active"), Value::Bool(false)),
                team: text(&r, "team_id").to_string(),
            });
            Ok(())
        })?;
        people.sort_by(|a, b| {
            a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id))
        });
        Ok(Names {
            users: people.iter().map(|p| (p.id.clone(), p.name.clone())).collect(),
            teams: names_of(store, Entity::Teams)?,
            stages: names_of(store, Entity::Stages)?,
            people,
        })
    }

    /// A person's name in a list, told apart from another of the same name by their team (and
    /// their id when the team is the same too): `Sam Lee · North`, `Sam Lee · North · u-17`.
    pub fn person_label(&self, person: &Person) -> String {
        let same: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(&person.name) && p.id != person.id)
            .collect();
        let mut label = person.name.clone();
        if !same.is_empty() {
            let team = self.teams.get(&person.team).map_or("no team", String::as_str);
            label.push_str(" · ");
            label.push_str(team);
            if same.iter().any(|p| p.team == person.team) {
                label.push_str(" · ");
                label.push_str(&person.id);
            }
        }
        if !person.active {
            label.push_str(" (inactive)");
        }
        label
    }

    /// The `<option>`s of a list of people, each once, by name. `owners_only`: only those who
    /// can be given records (for a form that writes); otherwise those who may own records, and
    /// inactive people last — their records can still be filtered by. The selected person is
    /// always listed.
    pub fn people_options(&self, selected: Option<&str>, owners_only: bool) -> Markup {
        let listed = |p: &&Person| {
            selected == Some(p.id.as_str()) || (p.role != "viewer" && (p.active || !owners_only))
        };
        let mut shown: Vec<(bool, String, &Person)> = self
            .people
            .iter()
            .filter(listed)
            .map(|p| (!p.active, self.person_label(p), p))
            .collect();
        shown.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase()))
        });
        html! {
            @for (_, label, p) in &shown {
                option value=(p.id) selected[selected == Some(p.id.as_str())] { (label) }
            }
        }
    }

    pub fn user<'a>(&'a self, id: &'a str) -> &'a str {
        self.users.get(id).map_or(id, |s| s.as_str())
    }

    pub fn stage<'a>(&'a self, id: &'a str) -> &'a str {
        self.stages.get(id).map_or(id, |s| s.as_str())
    }

    /// `Company`, `North team`, `Ada Lovelace`.
    pub fn scope(&self, scope: &Scope) -> String {
        match scope {
            Scope::Company => "Company".into(),
            Scope::Team(id) => {
                self.teams.get(id).map_or_else(|| format!("team {id}"), |n| n.clone())
            }
            Scope::User(id) => self.user(id).to_string(),
        }
    }
}

/// Display names of the records of a small entity: id → name (the id when it has none).
pub fn names_of(store: &dyn Backend, entity: Entity) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    store.scan(entity, &mut |r: Record| {
        let id = r.get("id").as_text().unwrap_or("").to_string();
        let name = r.get("name").as_text().map_or_else(|| id.clone(), str::to_string);
        out.insert(id, name);
        Ok(())
    })?;
    Ok(out)
}

/// A metric's value per bucket label of `grain` over the request's range, for its owners'
/// records (`None`: everyone), as of its clock: what a chart of actuals needs.
pub fn values_by_period(
    store: &dyn Backend,
    catalog: &Catalog,
    request: &MetricRequest<'_>,
    grain: traction_metrics::Grain,
) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    if request.is_empty() {
        return Ok(out);
    }
    let MetricRequest { metric, owners, from, to, at } = *request;
    let mut q = traction_metrics::Query::new(metric, from, to, grain, at);
    q.filter = owners.map(traction_metrics::Filter::owner_in).unwrap_or_default();
    for r in traction_metrics::run(store, catalog, &q)?.rows {
        if let (Some(p), Some(v)) = (r.period, r.value) {
            out.insert(p, v);
        }
    }
    Ok(out)
}

/// The scope of a page: `scope=company|team:ID|user:ID|me` (default company).
pub fn scope_param(params: &Params, req: &Req) -> Result<Scope> {
    match params.get("scope") {
        None => Ok(Scope::Company),
        Some("me") => match &req.user {
            Some(u) => Ok(Scope::User(u.id.clone())),
            None => Err(WebError::bad(
                "scope=me needs a signed-in user: use company, team:ID or user:ID",
            )),
        },
        Some(text) => Scope::parse(text).map_err(|e| WebError::bad(format!("scope: {e}"))),
    }
}

/// The scope as a query value.
pub fn scope_value(scope: &Scope) -> String {
    scope.to_string()
}

/// The period of `kind` that contains `at`: its first day, `[start, end)` and a label.
pub fn current_period(
    kind: PeriodKind,
    at: Micros,
    zone: &TimeZone,
) -> Result<(Date, Micros, Micros, String)> {
    let day =
        to_zoned(at, zone).map(|z| z.date()).ok_or_else(|| WebError::bad("at is out of range"))?;
    let first = match kind {
        PeriodKind::Week => day.checked_sub((day.weekday().to_monday_zero_offset() as i64).days()),
        PeriodKind::Month => Ok(day.first_of_month()),
        PeriodKind::Quarter => Date::new(day.year(), ((day.month() - 1) / 3) * 3 + 1, 1),
        PeriodKind::Year => Date::new(day.year(), 1, 1),
    }
    .map_err(|e| WebError::bad(e.to_string()))?;
    let (start, end) =
        traction_kpi::period::period_range(kind, first, zone).map_err(WebError::bad)?;
    Ok((first, start, end, period_label(kind, first)))
}

/// A period for people: `week of 23 Nov 2026`, `November 2026`, `Q4 2026`, `2026`.
pub fn period_label(kind: PeriodKind, first: Date) -> String {
    match kind {
        PeriodKind::Week => format!("week of {}", first.strftime("%-d %b %Y")),
        PeriodKind::Month => first.strftime("%B %Y").to_string(),
        PeriodKind::Quarter => format!("Q{} {}", (first.month() - 1) / 3 + 1, first.year()),
        PeriodKind::Year => first.year().to_string(),
    }
}

/// The period kind of `period=week|month|quarter|year` (default month).
pub fn period_param(params: &Params) -> Result<PeriodKind> {
    params.get("period").map_or(Ok(PeriodKind::Month), |p| {
        PeriodKind::parse(p).map_err(|e| WebError::bad(format!("period: {e}")))
    })
}

pub fn period_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

/// A status as a symbol, a word and a class — colour is never the only signal.
pub fn status_parts(status: &str) -> (&'static str, &'static str) {
    match status {
        "on_track" => ("▲", "on track"),
        "achieved" => ("✓", "achieved"),
        "at_risk" => ("●", "at risk"),
        "off_track" => ("▼", "off track"),
        "missed" => ("✗", "missed"),
        "error" => ("⚠", "cannot be computed"),
        "not_started" => ("○", "not started"),
        _ => ("○", "not enough data"),
    }
}

pub fn status_badge(status: &str) -> Markup {
    let (symbol, word) = status_parts(status);
    html! { span class={"status status-" (status)} { span aria-hidden="true" { (symbol) } " " (word) } }
}

/// A change against an earlier value, coloured by whether it is good for this metric.
pub fn change_badge(
    fmt: &Fmt,
    better: Better,
    now: Option<f64>,
    then: Option<f64>,
    what: &str,
) -> Markup {
    match fmt.change(now, then) {
        Some((up, text)) => {
            let good = up == (better == Better::Higher);
            html! { span class={"change " (if good { "good" } else { "bad" })} title={"change " (what)} { (text) } }
        }
        None => html! { span.change.none { "–" } },
    }
}

/// The unit and direction of a metric (count and higher when unknown).
pub fn unit_of(catalog: &Catalog, metric: &str) -> (Unit, Better, String) {
    catalog.get(metric).map_or((Unit::Count, Better::Higher, metric.to_string()), |m| {
        (m.unit, m.better, m.label.clone())
    })
}

/// Up to `limit` records of an entity matching `filters`, in key order.
pub fn list(
    store: &dyn Backend,
    entity: Entity,
    filters: &[(&str, Value)],
    limit: usize,
) -> Result<Vec<Record>> {
    Ok(store.list(entity, &ListQuery { filters, condition: None, after: None, limit })?)
}

/// A record's text field, or empty.
pub fn text<'a>(r: &'a Record, field: &str) -> &'a str {
    r.get(field).as_text().unwrap_or("")
}

pub fn instant(r: &Record, field: &str) -> Option<Micros> {
    match r.get(field) {
        Value::Instant(t) => Some(*t),
        _ => None,
    }
}

/// The local start of `date`.
pub fn sod(date: Date, zone: &TimeZone) -> Result<Micros> {
    start_of_day(date, zone).map_err(WebError::bad)
}

/// A `<select>` of scopes: company, each team, each active user.
pub fn scope_select(names: &Names, selected: &Scope, with_me: bool) -> Markup {
    let current = scope_value(selected);
    html! {
        select name="scope" id="scope" {
            option value="company" selected[current == "company"] { "Company" }
            @if with_me { option value="me" { "Me" } }
            @if !names.teams.is_empty() {
                optgroup label="Teams" {
                    @for (id, name) in &names.teams {
                        @let v = format!("team:{id}");
                        option value=(v) selected[current == v] { (name) }
                    }
                }
            }
            optgroup label="People" {
                @for p in names.people.iter().filter(|p| p.can_own() || current == format!("user:{}", p.id)) {
                    @let v = format!("user:{}", p.id);
                    option value=(v) selected[current == v] { (names.person_label(p)) }
                }
            }
        }
    }
}
