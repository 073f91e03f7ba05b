//! The dashboard (interfaces.md, Web application): KPI tiles (value, target, pace bar, status,
//! change vs the previous period, sparkline against the expected line, projection), the scope and
//! period selectors, leading and lagging metrics side by side, the leaderboard, the funnel, the
//! trends of the last 90 days with the previous year behind them, and when the team sells.
//!
//! Everything is computed by the KPI service and the metrics engine — the same figures as
//! `traction kpi status`, `traction report` and the API.

use axum::extract::State;
use axum::response::Response;
use jiff::ToSpan;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_kpi::engine::Engine;
use traction_kpi::pace::Behaviour;
use traction_kpi::period::{Grain as KGrain, PeriodKind, period_range};
use traction_kpi::report::Report;
use traction_kpi::scope::{Org, Scope};
use traction_kpi::service::{KpiRow, Kpis, MetricRequest};
use traction_metrics::catalog::{Indicator, Unit};
use traction_metrics::{Compare, DimValue, Filter, Grain, Query};
use traction_server::AppState;
use traction_store::Backend;

use super::*;
use crate::chart::{self, Chart, Series, Style};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, encode, render};

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    crate::respond(state, move |state, now| {
        // An empty workspace opens the start-small setup instead (issue 20.4).
        if let Some(setup) = super::setup::gate(state, &req)? {
            return Ok(setup);
        }
        // The figures are computed once per change of the data (or half a minute of the
        // clock) and served from the cache in between: see cache.rs.
        let version = state.store.change_counter()?;
        let key = format!(
            "dashboard|{}|{:?}|{:?}|{}",
            req.path,
            req.locale,
            req.user.as_ref().map(|u| (&u.id, &u.team)),
            state.config.catalog.is_some()
        );
        let body =
            crate::cache::get_or_compute(&key, version, now, params.get("at").is_some(), || {
                Ok(build_body(state, &req, &params, now)?.into_string())
            })?;
        Ok(render(layout::page(&req, "Dashboard", Nav::Dashboard, maud::PreEscaped(body))))
    })
    .await
}

/// The explorer's URL for a metric over a range and scope.
pub fn explore_link(metric: &str, scope: &Scope, from: &str, to: &str, grain: &str) -> String {
    format!(
        "/explore?metric={}&scope={}&from={}&to={}&grain={grain}",
        encode(metric),
        encode(&scope.to_string()),
        encode(from),
        encode(to)
    )
}

/// The dashboard's content (inside the page shell), escaped by maud when it was built.
fn build_body(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    for (key, _) in &params.0 {
        if !["scope", "period", "at"].contains(&key.as_str()) {
            return Err(crate::WebError::bad(format!(
                "unknown parameter {key:?}: the dashboard takes scope, period and at"
            )));
        }
    }
    let store = state.store.as_ref();
    let catalog = state.catalog.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    // Without a scope, a team member sees their team (reps read their team's dashboard);
    // anyone else the company.
    let scope = match (params.get("scope"), req.user.as_ref().and_then(|u| u.team.clone())) {
        (None, Some(team)) => Scope::Team(team),
        _ => scope_param(params, req)?,
    };
    let kind = period_param(params)?;
    let at = at_param(params, &ws.zone, now)?;
    let (first, start, end, period_label) = current_period(kind, at, &ws.zone)?;
    let last_day = ws.today(end - 1);
    let engine = Engine { store, catalog };
    let kpis = Kpis { store, metrics: &engine };
    let org = kpis.org()?;
    let owners = org.owners(&scope);
    // The trends and the heatmap read on a thread of their own, beside the report and the
    // tiles (the store serves reads on several connections at once).
    let (report_part, side) = std::thread::scope(|threads| {
        let side = threads.spawn(|| -> Result<_> {
            Ok((
                trends(store, catalog, owners.as_deref(), &ws, at)?,
                heatmap(store, catalog, owners.as_deref(), &ws, at)?,
            ))
        });
        let report_part = (|| -> Result<_> {
            // With forecasts: each accumulating tile says where its target is forecast to land,
            // with the backtest of the model behind it (the day's forecasts are made once and
            // kept, so later renders read them back).
            let report = traction_server::report::build(
                &*state.store,
                catalog,
                &traction_forecast::kpi::Source::new(store, catalog)
                    .with_backtests_at_most(traction_forecast::kpi::REQUEST_BACKTESTS),
                scope.clone(),
                (start, first.to_string()),
                (end, last_day.to_string()),
                at,
            )?;
            // KPIs whose alert fires now are marked (monitoring.md: the dashboard marks them).
            let firing = super::alerts::firing_targets(store)?;
            // The metrics chosen in the setup (setting `dashboard_metrics`) come first, in
            // their order; the sort is stable, so the rest keep the report's order.
            let chosen =
                store.setting(traction_domain::settings::Key::DashboardMetrics, None)?.value;
            let rank =
                |metric: &str| chosen.split(',').position(|m| m == metric).unwrap_or(usize::MAX);
            let mut rows: Vec<&KpiRow> = report.kpis.iter().collect();
            rows.sort_by_key(|row| rank(&row.target.metric));
            let board = Board {
                store,
                kpis: &kpis,
                engine: &engine,
                org: &org,
                names: &names,
                ws: &ws,
                at,
            };
            let mut tiles = Vec::new();
            for row in rows {
                let tile = tile(&board, row)?;
                tiles.push(match firing.contains(&row.target.id) {
                    true => html! {
                        div.kpi-firing {
                            a.alert-mark href="/alerts" title="An alert on this KPI is firing" { "Alert firing" }
                            (tile)
                        }
                    },
                    false => tile,
                });
            }
            Ok((report, tiles))
        })();
        (report_part, side.join())
    });
    let (report, tiles) = report_part?;
    let (trends, heat) =
        side.map_err(|_| crate::WebError::internal("the dashboard's trends failed"))??;
    let scope_name = names.scope(&scope);
    let range_to =
        last_day.checked_add(1.day()).map_err(|e| crate::WebError::bad(e.to_string()))?;
    let span = ((start, end), (first.to_string(), range_to.to_string()));
    let chosen = chosen_card(&engine, &report, owners.as_deref(), &ws, &scope, &span, at)?;

    let cards = Cards {
        report: &report,
        ws: &ws,
        catalog,
        scope: &scope,
        from: first.to_string(),
        to: range_to.to_string(),
    };
    let body = html! {
        div.page-head {
            h1 { "Dashboard" }
            p.sub { (scope_name) " · " (period_label) " · as of " (ws.when(at)) }
            form.filters method="get" action="/" {
                label for="scope" { "Scope" }
                (scope_select(&names, &scope, req.user.is_some()))
                label for="period" { "Period" }
                select name="period" id="period" {
                    @for k in [PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
                        option value=(period_name(k)) selected[k == kind] { "This " (period_name(k)) }
                    }
                }
                @if let Some(a) = params.get("at") { input type="hidden" name="at" value=(a); }
                button type="submit" { "Show" }
            }
        }
        (chosen)
        section aria-labelledby="kpis-h" {
            h2 #kpis-h .visually-hidden { "KPIs" }
            @if tiles.is_empty() {
                (layout::empty(&format!("No targets for {scope_name} in this {} yet — set one to see pace, status and projection here.", period_name(kind)), Some(("/targets/new", "Set a target"))))
            } @else {
                div.tiles #tiles data-live { @for t in &tiles { (t) } }
            }
        }
        div.grid2 #metrics data-live {
            (metric_card(&cards, "Leading", "What the team does now", Indicator::Leading))
            (metric_card(&cards, "Lagging", "What it has brought in", Indicator::Lagging))
        }
        (report_links(&scope, &first.to_string(), &range_to.to_string(), params.get("at")))
        div.grid2 {
            section.card #leaderboard data-live aria-labelledby="lb-h" {
                h2 #lb-h { "Leaderboard" }
                (leaderboard(&report, &names, &ws, catalog))
            }
            section.card #funnel data-live aria-labelledby="fn-h" {
                h2 #fn-h { "Funnel" } p.sub { "Deals created this " (period_name(kind)) " by the furthest stage reached" }
                @if report.funnel.is_empty() {
                    (layout::empty("No deals were created in this period yet.", None))
                } @else {
                    (chart::funnel(&report.funnel.iter().map(|r| chart::FunnelStage {
                        name: names.stage(&r.stage).to_string(),
                        reached: r.reached,
                        conversion: r.conversion_to_next,
                        leakage: r.leakage,
                    }).collect::<Vec<_>>(), &ws.fmt))
                }
            }
        }
        section.card #trends data-live aria-labelledby="tr-h" {
            h2 #tr-h { "Last 90 days" } p.sub { "Daily, with the same days a year earlier in grey" }
            div.grid3 { @for t in &trends { div { h3 { (t.0) } (t.1) } } }
        }
        section.card #when data-live aria-labelledby="wh-h" {
            h2 #wh-h { "When do we sell" } p.sub { "Deals won by weekday and hour, last 90 days" }
            (heat)
        }
        @for note in &report.notes { p.small { "Note: " (note) "." } }
    };
    Ok(body)
}

/// What every KPI tile of one dashboard reads: the store, the KPI service over the engine, the
/// organisation and its names, the workspace, and the clock.
#[derive(Clone, Copy)]
struct Board<'a> {
    store: &'a dyn Backend,
    kpis: &'a Kpis<'a>,
    engine: &'a Engine<'a>,
    org: &'a Org,
    names: &'a Names,
    ws: &'a Ws,
    at: Micros,
}

/// One KPI tile (web-design.md, KPI tile anatomy).
fn tile(board: &Board<'_>, row: &KpiRow) -> Result<Markup> {
    let Board { store, kpis, engine, org, names, ws, at } = *board;
    let t = &row.target;
    let f = &row.figures;
    // A target that cannot be computed shows why in its own tile; the others still answer.
    if let Some(message) = &row.error {
        return Ok(super::targets::error_tile(names, t, message));
    }
    let (unit, better, label) = unit_of(engine.catalog, &t.metric);
    let fmt = &ws.fmt;
    let (pstart, pend) =
        period_range(t.period, t.starts_on, &ws.zone).map_err(crate::WebError::bad)?;
    let until = at.clamp(pstart, pend);
    let owners = org.owners(&t.scope);
    let accumulating = matches!(row.behaviour, Behaviour::Accumulating);

    // The sparkline: the metric by day so far against the expected line.
    let days = traction_kpi::period::buckets(KGrain::Day, pstart, pend, &ws.zone)
        .map_err(crate::WebError::bad)?;
    let by_day = values_by_period(
        store,
        engine.catalog,
        &MetricRequest::new(&t.metric, owners.as_deref(), (pstart, until), at),
        Grain::Day,
    )?;
    // The lines are the kpi crate's (pace.rs): the running total or the carried level.
    let actual_line = traction_kpi::pace::actual_line(&days, &by_day, until, row.behaviour);
    let per_day = match accumulating {
        true => kpis.breakdown(&t.id, KGrain::Day, false, at)?,
        false => Vec::new(),
    };
    let expected_line = traction_kpi::pace::expected_line(
        per_day.iter().map(|r| r.value),
        t.value,
        days.len(),
        row.behaviour,
    );

    // The change against the same stretch of the previous period, as the metrics engine's
    // `compare=previous` takes it (spec: web-design.md, like for like): for the period in
    // progress 1 November → 3 November 15:00 against 1 December → now.
    let (previous, compared_label) = if at > pstart {
        let mut q = Query::new(&t.metric, pstart, pend, Grain::All, at);
        q.filter = owners.as_deref().map(Filter::owner_in).unwrap_or_default();
        // A comparison that cannot be made leaves the tile without a change, not the page broken.
        match traction_metrics::run_compared(store, engine.catalog, &q, Compare::Previous) {
            Ok((value, (lo, hi))) => (
                value.or(if accumulating { Some(0.0) } else { None }),
                Some(traction_kpi::report::stretch_label(lo, hi, &ws.zone)),
            ),
            Err(_) => (None, None),
        }
    } else {
        (None, None)
    };
    let actual = f.actual.or(if accumulating { Some(0.0) } else { None });
    let status = f.status.name();
    let scope_name = names.scope(&t.scope);
    let period_text = match t.period {
        PeriodKind::Week => format!("week of {}", t.starts_on.strftime("%-d %b")),
        PeriodKind::Month => t.starts_on.strftime("%B").to_string(),
        PeriodKind::Quarter => {
            format!("Q{} {}", (t.starts_on.month() - 1) / 3 + 1, t.starts_on.year())
        }
        PeriodKind::Year => t.starts_on.year().to_string(),
    };
    let end_day =
        ws.today(pend - 1).checked_add(1.day()).map_err(|e| crate::WebError::bad(e.to_string()))?;
    let href =
        dashboard_explore(&t.metric, &t.scope, &t.starts_on.to_string(), &end_day.to_string());
    let pace_label = format!(
        "{} of target {}, expected {} by now",
        fmt.value(unit, actual),
        fmt.value(unit, Some(t.value)),
        fmt.value(unit, Some(f.expected))
    );
    Ok(html! {
        article class={"tile status-" (status)} id={"kpi-" (t.id)} {
            a.tile-link href=(href) {
                h3 { (label) " · " (scope_name) " · " (period_text) }
                p.value { (fmt.value(unit, actual)) }
                p.target {
                    @if accumulating {
                        "of " (fmt.value(unit, Some(t.value))) " · expected " (fmt.value(unit, Some(f.expected))) " by now"
                    } @else {
                        "target " (if better == traction_metrics::catalog::Better::Higher { "≥ " } else { "≤ " }) (fmt.value(unit, Some(t.value)))
                        @if let Some((lo, hi)) = row.interval { " · likely " (fmt.value(unit, Some(lo))) "–" (fmt.value(unit, Some(hi))) }
                    }
                }
                (chart::pace_bar(actual.unwrap_or(0.0), f.expected, t.value, status, &pace_label))
                p.meta {
                    (status_badge(status))
                    " "
                    (change_badge(fmt, better, actual, previous, &compared_label.as_ref().map_or_else(|| "against the previous period".to_string(), |l| format!("against {l}"))))
                    @if let Some(l) = &compared_label { span.vs { " vs " (l) } }
                    @if let Some(p) = f.pace { span.pace-pct title="actual ÷ expected" { " pace " (fmt.percent(p)) } }
                }
                (chart::sparkline(&actual_line, &expected_line, days.len(), &format!("{label} so far against the expected line")))
                @if accumulating {
                    p.small {
                        "Projected (run rate) " (fmt.value(unit, f.projected)) " of " (fmt.value(unit, Some(t.value)))
                        @if let Some(needs) = super::targets::needed_rate(fmt, unit, &t.scope, f) { " · " (needs) }
                    }
                    // The model's forecast beside the run rate, and how far to trust it
                    // (spec: monitoring.md, KPI forecast; the backtest is shown with it).
                    @if let Some(fc) = &row.forecast {
                        p.small.forecast {
                            "Forecast " (fmt.value(unit, Some(fc.value))) " (" (fmt.value(unit, Some(fc.low))) "–" (fmt.value(unit, Some(fc.high))) ", 80%)"
                        }
                        @if let Some(b) = &fc.backtest { p.small.trust { (b.summary("day")) } }
                    }
                }
            }
        }
    })
}

/// Links to the period report of the dashboard's scope and period (interfaces.md, Report), in
/// each of its formats: the same figures, to print or send on.
fn report_links(scope: &Scope, from: &str, to: &str, at: Option<&str>) -> Markup {
    let href = |format: &str| {
        let mut url = format!(
            "/api/v1/report?from={}&to={}&scope={}&format={format}",
            encode(from),
            encode(to),
            encode(&scope.to_string())
        );
        if let Some(at) = at {
            url.push_str(&format!("&at={}", encode(at)));
        }
        url
    };
    let file = |ext: &str| format!("report-{from}-{to}.{ext}");
    html! {
        p.report-links #report-links {
            "Report of this period: "
            a href=(href("html")) target="_blank" rel="noopener" { "view (HTML)" } " · "
            a href=(href("md")) download=(file("md")) { "Markdown" } " · "
            a href=(href("csv")) download=(file("csv")) { "CSV" } " · "
            a href=(href("json")) download=(file("json")) { "JSON" }
        }
    }
}

fn dashboard_explore(metric: &str, scope: &Scope, from: &str, to: &str) -> String {
    explore_link(metric, scope, from, to, "day")
}

/// The metrics chosen in the setup (setting `dashboard_metrics`), first on the dashboard: each
/// one's value this period, and whether a target follows it here (its tile comes first below).
fn chosen_card(
    engine: &Engine<'_>,
    report: &Report,
    owners: Option<&[String]>,
    ws: &Ws,
    scope: &Scope,
    ((start, end), (from, to)): &((Micros, Micros), (String, String)),
    at: Micros,
) -> Result<Markup> {
    let (store, catalog) = (engine.store, engine.catalog);
    let chosen = store.setting(traction_domain::settings::Key::DashboardMetrics, None)?.value;
    let mut rows = Vec::new();
    for name in chosen.split(',').filter(|m| !m.is_empty()) {
        // A metric deleted since it was chosen is skipped, not an error on the dashboard.
        let Some(metric) = catalog.get(name) else { continue };
        let mut query = Query::new(name, *start, *end, Grain::All, at);
        query.filter = owners.map(Filter::owner_in).unwrap_or_default();
        // A count or a sum over nothing is 0; an average of nothing has no value.
        let accumulating = matches!(
            traction_kpi::service::MetricSource::behaviour(engine, name),
            Ok(Behaviour::Accumulating)
        );
        let value = traction_metrics::run(store, catalog, &query).ok().map(|r| {
            let v = r.rows.first().and_then(|row| row.value);
            if accumulating { v.or(Some(0.0)) } else { v }
        });
        let targeted = report.kpis.iter().any(|k| k.target.metric == name);
        rows.push((name, metric.label.clone(), metric.unit, value, targeted));
    }
    if rows.is_empty() {
        return Ok(html! {});
    }
    Ok(html! {
        section.card #chosen aria-labelledby="chosen-h" {
            h2 #chosen-h { "Your metrics" }
            p.sub { "Chosen in the setup; change them on the " a href="/settings" { "Settings" } " page." }
            table.metrics {
                thead { tr { th scope="col" { "Metric" } th.num scope="col" { "This period" } th scope="col" { "Target" } } }
                tbody {
                    @for (name, label, unit, value, targeted) in &rows {
                        tr data-metric=(name) {
                            th scope="row" { a href=(explore_link(name, scope, from, to, "day")) { (label) } }
                            td.num { @match value { Some(v) => (ws.fmt.value(*unit, *v)), None => span title="this metric cannot be computed for this scope" { "–" } } }
                            td { @if *targeted { "its pace is in the tile below" } @else { a href="/targets/new" { "Set a target" } } }
                        }
                    }
                }
            }
        }
    })
}

/// What the metric cards show: the report's key metrics, in the workspace's formats, with
/// links into the explorer for the scope over `[from, to]`.
struct Cards<'a> {
    report: &'a Report,
    ws: &'a Ws,
    catalog: &'a traction_metrics::Catalog,
    scope: &'a Scope,
    from: String,
    to: String,
}

fn metric_card(cards: &Cards<'_>, title: &str, sub: &str, indicator: Indicator) -> Markup {
    let Cards { report, ws, catalog, scope, .. } = *cards;
    let (from, to) = (cards.from.as_str(), cards.to.as_str());
    let rows: Vec<_> = report.metrics.iter().filter(|m| m.indicator == indicator).collect();
    // The heads say which stretches are compared (spec: web-design.md): `vs 1–3 Nov 2026 until
    // 15:00` while the period is in progress.
    let vs = |c: &Option<(traction_metrics::Stretch, String)>, fallback: &str| {
        c.as_ref().map_or_else(|| fallback.to_string(), |(_, label)| format!("vs {label}"))
    };
    let vs_previous = vs(&report.compared.previous, "vs previous");
    let vs_year = vs(&report.compared.year_ago, "vs a year ago");
    html! {
        section.card aria-label={(title) " metrics"} {
            h2 { (title) } p.sub { (sub) }
            table.metrics {
                thead { tr { th scope="col" { "Metric" } th.num scope="col" { "This period" } th.num scope="col" { (vs_previous) } th.num.hide-phone scope="col" { (vs_year) } } }
                tbody {
                    @for m in rows {
                        @let better = catalog.get(&m.metric).map_or(traction_metrics::catalog::Better::Higher, |d| d.better);
                        tr {
                            th scope="row" { a href=(explore_link(&m.metric, scope, from, to, "day")) { (m.label) } }
                            td.num { (ws.fmt.value(m.unit, m.value)) }
                            td.num { (change_badge(&ws.fmt, better, m.value, m.previous, &vs_previous.replacen("vs", "against", 1))) }
                            td.num.hide-phone { (change_badge(&ws.fmt, better, m.value, m.year_ago, &vs_year.replacen("vs", "against", 1))) }
                        }
                    }
                }
            }
            // Why they moved: one sentence each, linking to the records behind the biggest
            // contributor (spec: monitoring.md, Explaining a change).
            @let whys: Vec<_> = report.metrics.iter().filter(|m| m.indicator == indicator).filter_map(|m| report.why.get(&m.metric).map(|w| (m, w))).collect();
            @if !whys.is_empty() {
                ul.why aria-label="Why they moved" {
                    @for (m, w) in whys {
                        li {
                            (w.text) " "
                            a href=(records_link(catalog, &m.metric, w, scope, from, to)) { "See the records" }
                        }
                    }
                }
            }
        }
    }
}

/// Where the records behind a sentence's biggest contributor are: the list of orders or leads
/// filtered to it when there is one, else the explorer split by the same dimension against the
/// previous period.
fn records_link(
    catalog: &traction_metrics::Catalog,
    metric: &str,
    why: &traction_kpi::report::Why,
    scope: &Scope,
    from: &str,
    to: &str,
) -> String {
    use traction_domain::Entity;
    use traction_metrics::source::Source;
    let Some((dim, key)) = &why.segment else {
        return format!("{}&compare=previous", explore_link(metric, scope, from, to, "day"));
    };
    let key = key.text();
    // The list pages take inclusive days; the range ends the day before `to`.
    let last = jiff::civil::Date::strptime("%Y-%m-%d", to)
        .ok()
        .and_then(|d| d.yesterday().ok())
        .map_or_else(|| to.to_string(), |d| d.to_string());
    match (metric_source(catalog, metric, 0), dim.as_str()) {
        (Some(Source::Entity(Entity::Orders)), "channel") => {
            format!("/orders?channel={}&from={}&to={}", encode(&key), encode(from), encode(&last))
        }
        (Some(Source::Entity(Entity::Leads)), "owner" | "source") => {
            format!("/leads?{dim}={}", encode(&key))
        }
        _ => format!(
            "{}&by={}&compare=previous",
            explore_link(metric, scope, from, to, "all"),
            encode(dim)
        ),
    }
}

/// The source a metric counts (a ratio's numerator's).
fn metric_source(
    catalog: &traction_metrics::Catalog,
    metric: &str,
    depth: usize,
) -> Option<traction_metrics::source::Source> {
    use traction_metrics::catalog::{Kind, Part};
    match &catalog.get(metric)?.kind {
        Kind::Aggregate(m) => Some(m.source),
        Kind::Ratio { numerator: Part::Measure(m), .. } => Some(m.source),
        Kind::Ratio { numerator: Part::Metric(n), .. } if depth < 8 => {
            metric_source(catalog, n, depth + 1)
        }
        _ => None,
    }
}

fn leaderboard(
    report: &Report,
    names: &Names,
    ws: &Ws,
    catalog: &traction_metrics::Catalog,
) -> Markup {
    let Some((target, rows)) = &report.leaderboard else {
        return layout::empty(
            "The leaderboard ranks the reps of a team or company target — set one to see who is on pace.",
            Some(("/targets/new", "Set a target")),
        );
    };
    let metric = report
        .kpis
        .iter()
        .find(|k| &k.target.id == target)
        .map(|k| k.target.metric.clone())
        .unwrap_or_default();
    let (unit, _, label) = unit_of(catalog, &metric);
    html! {
        p.sub { (label) " · target " a href={"/targets/" (encode(target))} { (target) } }
        div.scroll {
            table.board {
                thead { tr { th.num scope="col" { "#" } th scope="col" { "Rep" } th.num scope="col" { "Actual" } th.num scope="col" { "Target" } th scope="col" { "Pace" } th scope="col" { "Band" } } }
                tbody {
                    @for r in rows {
                        @let status = r.figures.status.name();
                        tr {
                            td.num { (r.rank) }
                            th scope="row" { (names.user(&r.user)) }
                            td.num { (ws.fmt.value(unit, r.figures.actual.or(Some(0.0)))) }
                            td.num { (ws.fmt.value(unit, Some(r.target_value))) }
                            td.pacecell {
                                (chart::pace_bar(r.figures.actual.unwrap_or(0.0), r.figures.expected, r.target_value, status, &format!("{} pace", names.user(&r.user))))
                                span.num { (r.figures.pace.map_or("–".into(), |p| ws.fmt.percent(p))) }
                            }
                            td { span class={"band band-" (r.band)} { (r.band) } }
                        }
                    }
                }
            }
        }
    }
}

/// The local days of the last 90 days up to and including `at`'s: `[from, to)`.
fn last_90_days(ws: &Ws, at: Micros) -> Result<(Micros, Micros)> {
    let today = ws.today(at);
    let day = |d: Result<jiff::civil::Date, jiff::Error>| {
        d.map_err(|e| crate::WebError::bad(e.to_string())).and_then(|d| sod(d, &ws.zone))
    };
    Ok((day(today.checked_sub(89.days()))?, day(today.checked_add(1.day()))?))
}

/// Three daily series over the last 90 days with the same days a year earlier.
fn trends(
    store: &dyn Backend,
    catalog: &traction_metrics::Catalog,
    owners: Option<&[String]>,
    ws: &Ws,
    at: Micros,
) -> Result<Vec<(String, Markup)>> {
    let (from, to) = last_90_days(ws, at)?;
    let days = traction_kpi::period::buckets(KGrain::Day, from, to, &ws.zone)
        .map_err(crate::WebError::bad)?;
    let mut out = Vec::new();
    for (metric, bars) in [("revenue_won", false), ("activities", true), ("leads_created", true)] {
        let Some(def) = catalog.get(metric) else { continue };
        let mut q = Query::new(metric, from, to, Grain::Day, at);
        q.filter = owners.map(Filter::owner_in).unwrap_or_default();
        q.compare = Some(Compare::Yoy);
        let result = match traction_metrics::run(store, catalog, &q) {
            Ok(r) => r,
            // A metric whose records have no owner cannot take a scope: leave it out.
            Err(e) if e.kind() == traction_metrics::ErrorKind::Input => continue,
            Err(e) => return Err(e.into()),
        };
        let mut now_values = std::collections::BTreeMap::new();
        for r in &result.rows {
            if let Some(p) = &r.period {
                now_values.insert(p.clone(), (r.value, r.previous));
            }
        }
        let current: Vec<Option<f64>> = days
            .iter()
            .map(|d| Some(now_values.get(&d.label).and_then(|v| v.0).unwrap_or(0.0)))
            .collect();
        let previous: Vec<Option<f64>> = days
            .iter()
            .map(|d| Some(now_values.get(&d.label).and_then(|v| v.1).unwrap_or(0.0)))
            .collect();
        let chart = Chart {
            title: format!("{} by day, last 90 days", def.label),
            unit: def.unit,
            labels: days.iter().map(|d| d.label.clone()).collect(),
            series: vec![
                Series { name: "a year earlier".into(), values: previous, style: Style::Previous },
                Series { name: "last 90 days".into(), values: current, style: Style::Main(0) },
            ],
            bars,
            wide: false,
        };
        out.push((def.label.clone(), chart::chart(&chart, &ws.fmt)));
    }
    Ok(out)
}

fn heatmap(
    store: &dyn Backend,
    catalog: &traction_metrics::Catalog,
    owners: Option<&[String]>,
    ws: &Ws,
    at: Micros,
) -> Result<Markup> {
    let (from, to) = last_90_days(ws, at)?;
    let mut cells = [[0.0; 24]; 7];
    if catalog.get("deals_won").is_some() {
        let mut q = Query::new("deals_won", from, to, Grain::All, at);
        q.by = vec!["weekday".into(), "hour_of_day".into()];
        q.filter = owners.map(Filter::owner_in).unwrap_or_default();
        for r in traction_metrics::run(store, catalog, &q)?.rows {
            if let [DimValue::Int(d), DimValue::Int(h)] = r.dims.as_slice()
                && (1..=7).contains(d)
                && (0..24).contains(h)
            {
                cells[(*d - 1) as usize][*h as usize] = r.value.unwrap_or(0.0);
            }
        }
    }
    Ok(chart::heatmap("Deals won by weekday and hour", &cells, Unit::Count, &ws.fmt))
}
