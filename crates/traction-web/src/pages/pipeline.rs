//! The pipeline board: open deals as columns by stage with the count, total and weighted total
//! per stage; won and lost as drop targets. Deals move by drag and drop (the script, pointer
//! events, so touch works too) or by keyboard and without script: every card has a stage list
//! and a Move button. Both post to `/pipeline/move`, which moves the deal exactly as
//! `POST /api/v1/deals/{id}/move` does.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use traction_domain::time::Micros;
use traction_domain::{Entity, Record, Value};
use traction_server::AppState;
use traction_store::{ListQuery, Store};

use super::*;
use crate::forms::{self, Form};
use crate::layout::{self, Nav};
use crate::{Params, Req, Result, WebError, respond};

/// Cards shown per column (the largest first); the totals count every deal.
const CARDS: usize = 25;

struct Stage {
    id: String,
    name: String,
    kind: String,
    probability: f64,
}

pub async fn page(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| build(state, &req, &params, now)).await
}

/// The stages of a pipeline in board order: open stages by position, then won, then lost. A
/// stage without a probability takes the linear default of data-model.md (by position among
/// the open stages; won 1, lost 0), as the pipeline forecast resolves it
/// (`traction_forecast::pipeline::configured_probabilities`, the one definition).
fn stages_of(store: &dyn Store, pipeline: &str) -> Result<Vec<Stage>> {
    let mut rows: Vec<Record> = store.list(
        Entity::Stages,
        &ListQuery {
            filters: &[("pipeline_id", Value::Text(pipeline.to_string()))],
            condition: None,
            after: None,
            limit: 1000,
        },
    )?;
    rows.sort_by(|a, b| {
        let key = |r: &Record| (r.get("position").as_int().unwrap_or(0), text(r, "id").to_string());
        key(a).cmp(&key(b))
    });
    let stages: Vec<_> = rows.iter().map(traction_forecast::pipeline::Stage::from_record).collect();
    let probabilities = traction_forecast::pipeline::configured_probabilities(&stages);
    let mut out = Vec::new();
    for kind in ["open", "won", "lost"] {
        for s in stages.iter().filter(|s| s.kind == kind) {
            out.push(Stage {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind.clone(),
                probability: probabilities.get(&s.id).copied().unwrap_or(0.0),
            });
        }
    }
    Ok(out)
}

fn build(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let pipelines = list(store, Entity::Pipelines, &[], 1000)?;
    if pipelines.is_empty() {
        let body = html! {
            div.page-head { h1 { "Pipeline" } }
            @if req.user.as_ref().is_none_or(|u| u.role == "admin") {
                (layout::empty("No pipeline yet — build one here, or import pipelines and stages.", Some(("/pipelines/new", "New pipeline"))))
            } @else {
                (layout::empty("No pipeline yet — an admin builds one (or imports pipelines and stages) before deals can be tracked.", None))
            }
        };
        return Ok(layout::page(req, "Pipeline", Nav::Pipeline, body));
    }
    let pipeline = match params.get("pipeline") {
        Some(id) => pipelines
            .iter()
            .find(|p| text(p, "id") == id)
            .ok_or_else(|| WebError::bad(format!("pipeline: no pipeline has id {id:?}")))?,
        None => &pipelines[0],
    };
    let pipeline_id = text(pipeline, "id").to_string();
    let owner = params.get("owner").map(str::to_string);
    if let Some(o) = &owner
        && !names.users.contains_key(o)
    {
        return Err(WebError::bad(format!("owner: no user has id {o:?}")));
    }
    let stages = stages_of(store, &pipeline_id)?;
    let mut filters = vec![("pipeline_id", Value::Text(pipeline_id.clone()))];
    if let Some(o) = &owner {
        filters.push(("owner_id", Value::Text(o.clone())));
    }
    // Open deals all (they are the board); closed deals of the last 30 days.
    let recent = now - 30 * 86_400_000_000;
    let mut by_stage: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let page = store.list(
            Entity::Deals,
            &ListQuery { filters: &filters, condition: None, after: after.as_deref(), limit: 1000 },
        )?;
        let done = page.len() < 1000;
        after = page.last().map(|r| vec![r.get("id").clone()]);
        for d in page {
            let closed = !d.get("closed_at").is_null();
            if closed && d.get("closed_at").as_instant().is_none_or(|c| c < recent) {
                continue;
            }
            by_stage.entry(text(&d, "stage_id").to_string()).or_default().push(d);
        }
        if done {
            break;
        }
    }
    let back = req.path.clone();
    let mut accounts: BTreeMap<String, String> = BTreeMap::new();
    let movable = super::edit::can_write(req);
    let admin = req.user.as_ref().is_some_and(|u| u.role == "admin");
    let board = Board {
        store,
        stages: &stages,
        names: &names,
        ws: &ws,
        back: &back,
        csrf: req.csrf.as_deref(),
        now,
        movable,
    };
    let body = html! {
        div.page-head {
            h1 { "Pipeline" }
            (super::edit::new_button(req, Entity::Deals))
            @if admin {
                " " a href="/pipelines/new" { "New pipeline" }
                // An admin renames the pipeline, adds stages and edits each (name, position, kind,
                // probability) in the record form, with the store's checks.
                " · " a href={"/records/pipelines/" (crate::encode(&pipeline_id)) "/edit?back=" (crate::encode(&back))} { "Rename pipeline" }
                " · " a href={"/records/stages/new?pipeline_id=" (crate::encode(&pipeline_id)) "&back=" (crate::encode(&back))} { "Add stage" }
            }
            " · " a href="/forecast/pipeline" { "Forecast" }
            p.sub { (text(pipeline, "name")) " · open deals, and deals closed in the last 30 days · " a href="/deals" { "all deals as a list" } }
            (super::views::save_form(req))
            form.filters method="get" action="/pipeline" {
                @if pipelines.len() > 1 {
                    label for="pipeline" { "Pipeline" }
                    select name="pipeline" id="pipeline" data-auto {
                        @for p in &pipelines { option value=(text(p, "id")) selected[text(p, "id") == pipeline_id] { (text(p, "name")) } }
                    }
                } @else { input type="hidden" name="pipeline" value=(pipeline_id); }
                label for="owner" { "Owner" }
                select name="owner" id="owner" data-auto {
                    option value="" { "Everyone" }
                    (names.people_options(owner.as_deref(), false))
                }
                button type="submit" { "Show" }
            }
        }
        @if movable { p.hint { "Drag a card by its handle to another column, or open Move on the card, choose the stage and press Move." } }
        p.notice #board-status role="status" aria-live="polite" hidden {}
        div.board-cols #board data-live {
            @for s in &stages {
                @let deals = by_stage.get(&s.id).map(|v| v.as_slice()).unwrap_or(&[]);
                @let total = traction_forecast::pipeline::column_total(deals.iter().map(minor_amount), s.probability);
                section.col data-stage=(s.id) aria-labelledby={"st-" (s.id)} {
                    header {
                        h2 id={"st-" (s.id)} { (s.name) " " span.tag { (deals.len()) } }
                        @if admin { a.small href={"/records/stages/" (crate::encode(&s.id)) "/edit?back=" (crate::encode(&back))} aria-label={"Edit the stage " (s.name)} { "Edit stage" } }
                        p.small {
                            (ws.money_minor(total.amount))
                            @if s.kind == "open" { " · weighted " (ws.money_minor(total.weighted)) " (" (ws.fmt.percent(s.probability)) ")" }
                            @else { " · last 30 days" }
                        }
                    }
                    ol {
                        @for d in largest(deals).into_iter().take(CARDS) {
                            (card(&board, d, s, &mut accounts))
                        }
                    }
                    @if deals.len() > CARDS { p.small { "+ " (deals.len() - CARDS) " smaller deals" } }
                }
            }
        }
    };
    Ok(layout::page(req, "Pipeline", Nav::Pipeline, body))
}

/// Deals by amount, largest first (ties by id).
fn largest(deals: &[Record]) -> Vec<&Record> {
    let mut v: Vec<&Record> = deals.iter().collect();
    v.sort_by(|a, b| {
        minor_amount(b).cmp(&minor_amount(a)).then_with(|| text(a, "id").cmp(text(b, "id")))
    });
    v
}

/// A deal's amount in minor units (none is 0).
fn minor_amount(d: &Record) -> i64 {
    d.get("amount").as_int().unwrap_or(0)
}

/// What every card of the board reads: the store, the pipeline's stages, names, the
/// workspace, where a move returns to, the form token, the clock, and whether the reader may
/// move deals (a viewer may not: no handle, no Move).
struct Board<'a> {
    store: &'a dyn Store,
    stages: &'a [Stage],
    names: &'a Names,
    ws: &'a Ws,
    back: &'a str,
    csrf: Option<&'a str>,
    now: Micros,
    movable: bool,
}

/// One deal's card in the column of its stage; `accounts` caches account names across cards.
fn card(
    board: &Board<'_>,
    d: &Record,
    current: &Stage,
    accounts: &mut BTreeMap<String, String>,
) -> Markup {
    let Board { store, stages, names, ws, back, csrf, now, movable } = *board;
    let id = text(d, "id");
    let name = match text(d, "name") {
        "" => id,
        n => n,
    };
    let account_id = text(d, "account_id");
    let account = if account_id.is_empty() {
        String::new()
    } else {
        accounts
            .entry(account_id.to_string())
            .or_insert_with(|| {
                store
                    .get(Entity::Accounts, &[Value::Text(account_id.to_string())])
                    .ok()
                    .flatten()
                    .map_or_else(|| account_id.to_string(), |a| text(&a, "name").to_string())
            })
            .clone()
    };
    let age_days = instant(d, "created_at").map(|c| ((now - c) as f64 / 86_400e6).max(0.0));
    let amount = ws.money_minor(minor_amount(d));
    let owner = names.user(text(d, "owner_id"));
    let age = age_days.map(|a| ws.fmt.duration(a * 86_400.0));
    // A compact card: the name on one line, amount and owner on the next (the account and the
    // age in its title and for screen readers); the keyboard way (a stage list and Move) opens
    // from the card's Move, so closed it takes no room.
    let mut whole = format!("{name} · {amount}");
    if !account.is_empty() {
        whole.push_str(&format!(" · {account}"));
    }
    whole.push_str(&format!(" · {owner}"));
    if let Some(a) = &age {
        whole.push_str(&format!(" · {a} old"));
    }
    html! {
        li.deal id={"deal-" (id)} data-deal=(id) data-stage=(current.id) title=(whole) {
            div.line {
                @if movable { span.handle aria-hidden="true" title="Drag to another stage" { "⠿" } }
                span.name { a href={"/deals/" (crate::encode(id))} { (name) } }
            }
            div.line {
                span.facts {
                    span.amount { (amount) } " · " (owner)
                    span.visually-hidden {
                        @if !account.is_empty() { " · " (account) }
                        @if let Some(a) = &age { " · " (a) " old" }
                    }
                }
                @if movable { details.mv {
                    summary aria-label={"Move " (name)} { "Move" }
                    form method="post" action="/pipeline/move" {
                        @if let Some(token) = csrf { input type="hidden" name="_csrf" value=(token); }
                        input type="hidden" name="deal" value=(id);
                        input type="hidden" name="back" value=(back);
                        label.visually-hidden for={"mv-" (id)} { "Stage of " (name) }
                        select name="stage" id={"mv-" (id)} {
                            @for s in stages { option value=(s.id) selected[s.id == current.id] { (s.name) } }
                        }
                        button.secondary type="submit" { "Move" }
                    }
                } }
            }
        }
    }
}

/// `POST /pipeline/move` with `deal`, `stage` (and `back`): moves the deal and returns to the
/// board (a script's post gets 204).
pub async fn move_deal(
    State(state): State<AppState>,
    req: Req,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let script = forms::from_script(&headers);
    let principal = req.principal.clone();
    let result = async {
        let form = Form::parse(&body)?;
        let deal = form
            .get("deal")
            .ok_or_else(|| WebError::bad("deal is missing: name the deal to move"))?
            .to_string();
        let stage = form
            .get("stage")
            .ok_or_else(|| WebError::bad("stage is missing: choose the stage to move to"))?
            .to_string();
        let back = forms::back_to(&form, "/pipeline");
        let moved = deal.clone();
        let summary = crate::compute(state.clone(), move |st, now| {
            let principal =
                principal.as_deref().ok_or_else(|| WebError::bad("sign in to move a deal"))?;
            let guarded = forms::guarded(st, principal, now);
            traction_server::api::deals::move_deal_at(&guarded, principal, &deal, &stage, now)
                .map(|(_, _, summary)| summary)
                .map_err(|e| forms::denied(&guarded).unwrap_or_else(|| forms::api_error(e)))
        })
        .await?;
        forms::announce(&state, &summary, Entity::Deals);
        Ok((back, moved))
    }
    .await;
    if script {
        return forms::script_answer(result.map(|_| ()));
    }
    match result {
        // Back to the board at the moved card.
        Ok((back, deal)) => forms::see_other(&format!("{back}#deal-{deal}")),
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}
