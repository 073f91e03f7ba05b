//! Today and this hour: for the signed-in rep (or any person, team or the company), each
//! amount target that runs today broken down to the hour — the hourly target beside the hourly
//! actual, cumulated, so "are we on pace right now" is one glance. A person's share of a team or
//! company target is their per-head share (kpis.md, Breakdown).

use axum::extract::State;
use axum::response::Response;
use jiff::ToSpan;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_kpi::engine::Engine;
use traction_kpi::pace::Behaviour;
use traction_kpi::period::{Grain as KGrain, period_range};
use traction_kpi::scope::Scope;
use traction_kpi::service::{Kpis, MetricRequest, MetricSource, Target};
use traction_metrics::Grain;
use traction_server::AppState;

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| build(state, &req, &params, now)).await
}

/// The scope Today opens on without `scope=`: what the reader answers for. An admin watches the
/// company, a manager (or a viewer of a team) their team, a rep themselves.
fn default_scope(user: &crate::User) -> Scope {
    match (user.role.as_str(), &user.team) {
        ("admin", _) => Scope::Company,
        ("manager" | "viewer", Some(team)) => Scope::Team(team.clone()),
        ("manager" | "viewer", None) => Scope::Company,
        _ => Scope::User(user.id.clone()),
    }
}

/// The day Today shows, in the workspace zone, as `[start, end)`.
struct Day {
    date: jiff::civil::Date,
    start: Micros,
    end: Micros,
}

/// What every target's section of the page shares: the reads, the reader's workspace, the
/// scope shown (and whose records it counts), the day and the instant.
struct Sections<'a> {
    state: &'a AppState,
    kpis: &'a Kpis<'a>,
    names: &'a Names,
    ws: &'a Ws,
    scope: &'a Scope,
    owners: Option<Vec<String>>,
    day: &'a Day,
    at: Micros,
}

fn build(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let at = at_param(params, &ws.zone, now)?;
    let scope = match (params.get("scope"), &req.user) {
        (None, Some(u)) => default_scope(u),
        _ => scope_param(params, req)?,
    };
    let engine = Engine { store, catalog: &state.catalog };
    let kpis = Kpis { store, metrics: &engine };
    let date = ws.today(at);
    let day = Day {
        date,
        start: sod(date, &ws.zone)?,
        end: sod(date.checked_add(1.day()).map_err(|e| WebError::bad(e.to_string()))?, &ws.zone)?,
    };
    let org = kpis.org()?;
    let shared = Sections {
        state,
        kpis: &kpis,
        names: &names,
        ws: &ws,
        scope: &scope,
        owners: org.owners(&scope),
        day: &day,
        at,
    };
    let mut sections = Vec::new();
    for (target, per_head) in &applicable_targets(&kpis, &engine, &org, &scope, &day, &ws)? {
        sections.push(target_section(&shared, target, *per_head)?);
    }
    let body = html! {
        div.page-head {
            h1 { "Today" }
            p.sub { (names.scope(&scope)) " · " (date.strftime("%A %-d %B")) " · as of " (ws.when(at)) }
            form.filters method="get" action="/today" {
                label for="scope" { "Scope" }
                (scope_select(&names, &scope, req.user.is_some()))
                button type="submit" { "Show" }
            }
        }
        (super::work::my_tasks(store, req, &ws, now, day.end.max(now))?)
        @if sections.is_empty() {
            (layout::empty(&format!("No amount targets run today for {} — set a monthly or weekly target to see hourly pace here.", names.scope(&scope)), Some(("/targets/new", "Set a target"))))
        }
        @for s in &sections { (s) }
    };
    Ok(layout::page(req, "Today", Nav::Today, body))
}

/// The amount targets running on the day that apply to the scope: its own, or (for a person) a
/// team or company target they are a head of, taken per head (`true`). One per metric: the
/// scope's own before a share of a larger one.
fn applicable_targets(
    kpis: &Kpis<'_>,
    engine: &Engine<'_>,
    org: &traction_kpi::scope::Org,
    scope: &Scope,
    day: &Day,
    ws: &Ws,
) -> Result<Vec<(Target, bool)>> {
    let mut applicable: Vec<(Target, bool)> = Vec::new();
    for t in kpis.targets()? {
        let (s, e) = period_range(t.period, t.starts_on, &ws.zone).map_err(WebError::bad)?;
        if !(s < day.end && e > day.start) {
            continue;
        }
        if !matches!(engine.behaviour(&t.metric), Ok(Behaviour::Accumulating)) {
            continue;
        }
        if t.scope == *scope {
            applicable.push((t, false));
        } else if let Scope::User(u) = scope
            && (t.scope != Scope::Company || applicable.iter().all(|(x, _)| x.metric != t.metric))
            && org.heads(&t.scope).contains(u)
            && !matches!(t.scope, Scope::User(_))
        {
            applicable.push((t, true));
        }
    }
    applicable.sort_by(|a, b| a.0.metric.cmp(&b.0.metric).then(a.1.cmp(&b.1)));
    applicable.dedup_by(|b, a| a.0.metric == b.0.metric);
    Ok(applicable)
}

/// One target's hours on the day: its hourly targets (the scope's, or the reader's per-head
/// share), the actuals by hour up to `at`, and the day's pace from the KPI engine — drawn as a
/// chart and a table.
fn target_section(shared: &Sections<'_>, t: &Target, per_head: bool) -> Result<Markup> {
    let Sections { state, kpis, names, ws, scope, day, at, .. } = *shared;
    let (unit, _, label) = unit_of(&state.catalog, &t.metric);
    let prefix = day.date.to_string();
    let who = match scope {
        Scope::User(u) => Some(u.clone()),
        _ => None,
    };
    let mut hourly: Vec<(String, f64)> = kpis
        .breakdown(&t.id, KGrain::Hour, per_head, at)?
        .into_iter()
        .filter(|r| r.period.starts_with(&prefix))
        .filter(|r| !per_head || r.user.as_ref() == who.as_ref())
        .map(|r| (r.period, r.value))
        .collect();
    hourly.dedup_by(|b, a| a.0 == b.0);
    let actual = values_by_period(
        state.store.as_ref(),
        &state.catalog,
        &MetricRequest::new(
            &t.metric,
            shared.owners.as_deref(),
            (day.start, at.clamp(day.start, day.end)),
            at,
        ),
        Grain::Hour,
    )?;
    let current_label = traction_kpi::period::buckets(KGrain::Hour, day.start, day.end, &ws.zone)
        .map_err(WebError::bad)?
        .into_iter()
        .find(|b| b.start <= at && at < b.end)
        .map(|b| b.label);
    let pace = traction_kpi::today::day_pace(&hourly, &actual, current_label.as_deref());
    let chart = Chart {
        title: format!("{label} by hour today"),
        unit,
        labels: pace.hours.iter().map(|h| h.period.clone()).collect(),
        series: vec![
            Series {
                name: "actual".into(),
                values: pace.hours.iter().map(|h| Some(h.actual)).collect(),
                style: Style::Main(0),
            },
            Series {
                name: "hourly target".into(),
                values: pace.hours.iter().map(|h| Some(h.target)).collect(),
                style: Style::Target,
            },
        ],
        bars: true,
        wide: true,
    };
    Ok(html! {
        section.card id={"today-" (t.id)} data-live {
            h2 { (label) }
            p.sub {
                (if per_head { "a per-head share of " } else { "" }) (names.scope(&t.scope)) "'s " (period_name(t.period)) " target · "
                (ws.fmt.value(unit, Some(pace.so_far))) " today against " (ws.fmt.value(unit, Some(pace.expected_now))) " expected by this hour, "
                (ws.fmt.value(unit, Some(pace.day_target))) " for the day · "
                (status_badge(pace.status))
            }
            @if pace.hours.is_empty() {
                (layout::empty("No working hours today in this target's calendar.", None))
            } @else {
                (chart::chart(&chart, &ws.fmt))
                div.scroll {
                    table {
                        thead { tr { th scope="col" { "Hour" } th.num scope="col" { "Target" } th.num scope="col" { "Actual" } th.num scope="col" { "Target so far" } th.num scope="col" { "Actual so far" } } }
                        tbody {
                            @for h in &pace.hours {
                                @let now_hour = current_label.as_deref() == Some(h.period.as_str());
                                tr aria-current=[now_hour.then_some("time")] {
                                    th scope="row" { (chart::short_label(&h.period)) @if now_hour { " (now)" } }
                                    td.num { (ws.fmt.value(unit, Some(h.target))) }
                                    td.num { @if h.past { (ws.fmt.value(unit, Some(h.actual))) } @else { "–" } }
                                    td.num { (ws.fmt.value(unit, Some(h.target_so_far))) }
                                    td.num { @if h.past { (ws.fmt.value(unit, Some(h.actual_so_far))) } @else { "–" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}
