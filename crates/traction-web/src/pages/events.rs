//! The events list (data-model.md, events): what a social enterprise counts beside its sales —
//! meals served, volunteer hours, CO2 saved — newest first, filtered by kind, team and dates,
//! with the total quantity of what is shown from the metrics engine (`event_quantity`).
//! Events are created and edited in the schema-driven form (`/records/events/new`).

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{CmpOp, ListQuery, Predicate};

use super::records::{
    allow, before_param, before_value, date_range, filtered, limit_param, page_link, pager,
    read_scope, ref_param, when,
};
use super::*;
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

pub async fn list(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, _| events_page(state, &req, &params)).await
}

fn events_page(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(params, &["kind", "team", "from", "to", "before", "limit"], "the event list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let kind = match params.get("kind").filter(|k| !k.trim().is_empty()) {
        None => None,
        Some(k) => Some(
            traction_domain::record::normalise_kind(k)
                .map_err(|e| WebError::bad(format!("kind: {e}")))?,
        ),
    };
    let team = ref_param(store, params, "team", Entity::Teams)?;
    let (from, to) = date_range(params)?;
    let cursor = before_param(params, Entity::Events, "occurred_at")?;
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(k) = &kind {
        filters.push(("kind", Value::Text(k.clone())));
    }
    if let Some(t) = &team {
        filters.push(("team_id", Value::Text(t.clone())));
    }
    let mut range = Vec::new();
    if let Some(f) = from {
        range.push(Predicate::compare("occurred_at", CmpOp::Ge, Value::Instant(sod(f, &ws.zone)?)));
    }
    if let Some(t) = to {
        let next = t.tomorrow().map_err(|e| WebError::bad(format!("to: {e}")))?;
        range.push(Predicate::compare(
            "occurred_at",
            CmpOp::Lt,
            Value::Instant(sod(next, &ws.zone)?),
        ));
    }
    let condition = read_scope(req, Entity::Events).and(range);
    let mut rows = store.recent(
        Entity::Events,
        "occurred_at",
        &ListQuery {
            filters: &filters,
            condition: condition.as_ref(),
            after: cursor.as_deref(),
            limit: limit + 1,
        },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/events", params, ("before", &before_value(&rows[limit - 1], "occurred_at")))
    });
    let teams = names_of(store, Entity::Teams)?;
    let names = Names::load(store)?;
    let any = filtered(params, &["kind", "team", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Events)? == 0;
    let body = html! {
        div.page-head {
            h1 { "Events" }
            (super::edit::new_button(req, Entity::Events))
            p.sub { "What you count beside sales — meals served, hours given, CO2 saved. Newest first." }
        }
        form.filters method="get" action="/events" {
            label for="kind" { "Kind" }
            input type="text" id="kind" name="kind" value=[kind.as_deref()] placeholder="meals_served";
            label for="team" { "Team" }
            select id="team" name="team" {
                option value="" { "Any" }
                @for (id, name) in &teams { option value=(id) selected[team.as_deref() == Some(id.as_str())] { (name) } }
            }
            label for="from" { "From" }
            input type="date" id="from" name="from" value=[from.map(|d| d.to_string())];
            label for="to" { "To" }
            input type="date" id="to" name="to" value=[to.map(|d| d.to_string())];
            button type="submit" { "Show" }
            @if any { a href="/events" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No events yet — add one, or import a file of them on the Import page.", Some(("/records/events/new", "Add an event"))))
        } @else if rows.is_empty() {
            (layout::empty("No events match these filters — change or clear them.", Some(("/events", "Show all events"))))
        } @else {
            div.card { (event_table(&ws, &names, &teams, &rows)) }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Events", Nav::Events, body))
}

fn event_table(
    ws: &Ws,
    names: &Names,
    teams: &std::collections::BTreeMap<String, String>,
    rows: &[Record],
) -> Markup {
    let quantity = |r: &Record| match r.get("quantity") {
        Value::Real(x) => quantity_text(ws, *x),
        _ => "–".into(),
    };
    html! {
        table {
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Kind" } th.num scope="col" { "Quantity" }
                th.num scope="col" { "Amount" } th scope="col" { "Owner" } th scope="col" { "Team" }
                th scope="col" { "Note" } th scope="col" { span.visually-hidden { "Actions" } }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { (when(ws, r, "occurred_at")) }
                        td { a href={ "/events?kind=" (crate::encode(text(r, "kind"))) } { (text(r, "kind")) } }
                        td.num { (quantity(r)) }
                        td.num { (super::records::money_field(ws, r, "amount")) }
                        td { (super::records::or_dash(names.user(text(r, "owner_id")))) }
                        td { (super::records::or_dash(teams.get(text(r, "team_id")).map_or("", String::as_str))) }
                        td { (super::records::or_dash(text(r, "note"))) }
                        td { a href={ "/records/events/" (crate::encode(text(r, "id"))) "/edit" } { "Edit" } }
                    }
                }
            }
        }
    }
}

/// A quantity with as many decimals as it has (up to the six stored), in the reader's locale.
fn quantity_text(ws: &Ws, x: f64) -> String {
    let decimals = (0..traction_domain::record::NUMBER_DECIMALS)
        .find(|d| {
            let scale = 10f64.powi(*d as i32);
            ((x * scale).round() / scale - x).abs() < 1e-9
        })
        .unwrap_or(traction_domain::record::NUMBER_DECIMALS);
    ws.fmt.locale.number(x, decimals)
}
