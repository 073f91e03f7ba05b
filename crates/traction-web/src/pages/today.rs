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
use crate::{Params, Req, Result, WebError, blocking, render};

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    let now = (state.clock)();
    blocking(move || Ok(render(build(&state, &req, &params, now)?))).await
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
    let org = kpis.org()?;
    let today = ws.today(at);
    let day_start = sod(today, &ws.zone)?;
    let day_end =
        sod(today.checked_add(1.day()).map_err(|e| WebError::bad(e.to_string()))?, &ws.zone)?;
    let prefix = today.to_string();

    // The amount targets running today that apply to the scope: its own, or (for a person) a
    // team or company target they are a head of, taken per head.
    let mut applicable: Vec<(Target, bool)> = Vec::new();
    for t in kpis.targets()? {
        let (s, e) = period_range(t.period, t.starts_on, &ws.zone).map_err(WebError::bad)?;
        if !(s < day_end && e > day_start) {
            continue;
        }
        if !matches!(engine.behaviour(&t.metric), Ok(Behaviour::Accumulating)) {
            continue;
        }
        if t.scope == scope {
            applicable.push((t, false));
        } else if let Scope::User(u) = &scope
            && (t.scope != Scope::Company || applicable.iter().all(|(x, _)| x.metric != t.metric))
            && org.heads(&t.scope).contains(u)
            && !matches!(t.scope, Scope::User(_))
        {
            applicable.push((t, true));
        }
    }
    // One target per metric: the scope's own before a share of a larger one.
    applicable.sort_by(|a, b| a.0.metric.cmp(&b.0.metric).then(a.1.cmp(&b.1)));
    applicable.dedup_by(|b, a| a.0.metric == b.0.metric);

    let owners: Option<Vec<String>> = org.owners(&scope);
    let until = at.clamp(day_start, day_end);
    let mut sections = Vec::new();
    for (t, per_head) in &applicable {
        let (unit, _, label) = unit_of(&state.catalog, &t.metric);
        let rows = kpis.breakdown(&t.id, KGrain::Hour, *per_head, at)?;
        let who = match &scope {
            Scope::User(u) => Some(u.clone()),
            _ => None,
        };
        let mut hourly: Vec<(String, f64)> = rows
            .into_iter()
            .filter(|r| r.period.starts_with(&prefix))
            .filter(|r| !*per_head || r.user.as_ref() == who.as_ref())
            .map(|r| (r.period, r.value))
            .collect();
        hourly.dedup_by(|b, a| a.0 == b.0);
        let actual = values_by_period(
            store,
            &state.catalog,
            &MetricRequest::new(&t.metric, owners.as_deref(), (day_start, until), at),
            Grain::Hour,
        )?;
        // Only the hours with a target or an actual (the working day, and any sale outside it).
        let hours: Vec<&(String, f64)> =
            hourly.iter().filter(|(p, v)| *v > 0.0 || actual.contains_key(p)).collect();
        let (mut cum_t, mut cum_a) = (0.0, 0.0);
        let mut table = Vec::new();
        let current_label =
            traction_kpi::period::buckets(KGrain::Hour, day_start, day_end, &ws.zone)
                .map_err(WebError::bad)?
                .into_iter()
                .find(|b| b.start <= at && at < b.end)
                .map(|b| b.label);
        let mut expected_now = 0.0;
        for (p, v) in &hours {
            cum_t += v;
            let a = actual.get(p).copied().unwrap_or(0.0);
            cum_a += a;
            let past = current_label.as_ref().is_none_or(|c| p <= c);
            if past {
                expected_now = cum_t;
            }
            table.push((p.clone(), *v, a, cum_t, cum_a, past));
        }
        let so_far: f64 = actual.values().sum();
        let chart = Chart {
            title: format!("{label} by hour today"),
            unit,
            labels: hours.iter().map(|(p, _)| p.clone()).collect(),
            series: vec![
                Series {
                    name: "actual".into(),
                    values: hours
                        .iter()
                        .map(|(p, _)| Some(actual.get(p).copied().unwrap_or(0.0)))
                        .collect(),
                    style: Style::Main(0),
                },
                Series {
                    name: "hourly target".into(),
                    values: hours.iter().map(|(_, v)| Some(*v)).collect(),
                    style: Style::Target,
                },
            ],
            bars: true,
            wide: true,
        };
        let status = if expected_now <= 0.0 {
            "not_started"
        } else if so_far >= expected_now {
            "on_track"
        } else if so_far >= 0.9 * expected_now {
            "at_risk"
        } else {
            "off_track"
        };
        sections.push(html! {
            section.card id={"today-" (t.id)} data-live {
                h2 { (label) }
                p.sub {
                    (if *per_head { "a per-head share of " } else { "" }) (names.scope(&t.scope)) "'s " (period_name(t.period)) " target · "
                    (ws.fmt.value(unit, Some(so_far))) " today against " (ws.fmt.value(unit, Some(expected_now))) " expected by this hour, "
                    (ws.fmt.value(unit, Some(cum_t))) " for the day · "
                    (status_badge(status))
                }
                @if hours.is_empty() {
                    (layout::empty("No working hours today in this target's calendar.", None))
                } @else {
                    (chart::chart(&chart, &ws.fmt))
                    div.scroll {
                        table {
                            thead { tr { th scope="col" { "Hour" } th.num scope="col" { "Target" } th.num scope="col" { "Actual" } th.num scope="col" { "Target so far" } th.num scope="col" { "Actual so far" } } }
                            tbody {
                                @for (p, v, a, ct, ca, past) in &table {
                                    tr aria-current=[(current_label.as_ref() == Some(p)).then_some("time")] {
                                        th scope="row" { (chart::short_label(p)) @if current_label.as_ref() == Some(p) { " (now)" } }
                                        td.num { (ws.fmt.value(unit, Some(*v))) }
                                        td.num { @if *past { (ws.fmt.value(unit, Some(*a))) } @else { "–" } }
                                        td.num { (ws.fmt.value(unit, Some(*ct))) }
                                        td.num { @if *past { (ws.fmt.value(unit, Some(*ca))) } @else { "–" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
    }
    let body = html! {
        div.page-head {
            h1 { "Today" }
            p.sub { (names.scope(&scope)) " · " (today.strftime("%A %-d %B")) " · as of " (ws.when(at)) }
            form.filters method="get" action="/today" {
                label for="scope" { "Scope" }
                (scope_select(&names, &scope, req.user.is_some()))
                button type="submit" { "Show" }
            }
        }
        (super::work::my_tasks(store, req, &ws, now, day_end.max(now))?)
        @if sections.is_empty() {
            (layout::empty(&format!("No amount targets run today for {} — set a monthly or weekly target to see hourly pace here.", names.scope(&scope)), Some(("/targets/new", "Set a target"))))
        }
        @for s in &sections { (s) }
    };
    Ok(layout::page(req, "Today", Nav::Today, body))
}
