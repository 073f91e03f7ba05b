//! The campaign list, a campaign's page and the cost list.

use super::*;

pub async fn campaigns(
    State(state): State<AppState>,
    req: Req,
    params: Params,
) -> Result<Response> {
    respond(state, move |state, now| campaigns_page(state, &req, &params, now)).await
}

pub async fn campaign(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| campaign_page(state, &req, &params, &id, now)).await
}

pub async fn costs(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, now| costs_page(state, &req, &params, now)).await
}

fn dates(ws: &Ws, c: &Record) -> String {
    let _ = ws;
    let d = |f: &str| match c.get(f) {
        Value::Date(d) => Some(d.strftime("%-d %b %Y").to_string()),
        _ => None,
    };
    match (d("started_on"), d("ended_on")) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        (Some(a), None) => format!("from {a}"),
        (None, Some(b)) => format!("until {b}"),
        (None, None) => "–".into(),
    }
}

fn campaigns_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(params, &["channel", "after", "limit"], "the campaign list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let channel = category_param(params, "channel");
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(c) = &channel {
        filters.push(("channel", Value::Text(c.clone())));
    }
    let after = params.get("after").map(|id| vec![Value::Text(id.to_string())]);
    let mut rows = store.list(
        Entity::Campaigns,
        &ListQuery {
            filters: &filters,
            condition: None,
            after: after.as_deref(),
            limit: limit + 1,
        },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/campaigns", params, ("after", text(&rows[limit - 1], "id")))
    });
    // One query per figure, by campaign, over all time.
    let spent = figures_by(state, "costs", "campaign", Filter::everything(), now)?;
    let leads = figures_by(state, "leads_created", "campaign", Filter::everything(), now)?;
    let won = figures_by(state, "revenue_won", "campaign", Filter::everything(), now)?;
    let roi = figures_by(state, "campaign_roi", "campaign", Filter::everything(), now)?;
    let roi_unit = state.catalog.get("campaign_roi").map_or(Unit::Ratio, |m| m.unit);
    let any = filtered(params, &["channel"]);
    let none_yet =
        rows.is_empty() && !any && after.is_none() && store.count(Entity::Campaigns)? == 0;
    let cell = |figures: &Option<BTreeMap<String, f64>>, id: &str, unit: Unit| -> String {
        match figures {
            Some(f) => ws.fmt.value(
                unit,
                f.get(id).copied().or(if unit == Unit::Ratio { None } else { Some(0.0) }),
            ),
            None => "–".into(),
        }
    };

    let body = html! {
        div.page-head {
            h1 { "Campaigns" }
            (super::edit::new_button(req, Entity::Campaigns))
            p.sub { "Costs, leads and revenue won attributed to each campaign, all time · " a href="/costs" { "All costs" } }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/campaigns" {
            label for="channel" { "Channel" }
            input type="text" id="channel" name="channel" value=[channel.as_deref()] size="12";
            button type="submit" { "Show" }
            @if any { a href="/campaigns" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No campaigns yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No campaigns match these filters — change or clear them.", Some(("/campaigns", "Show all campaigns"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Campaign" } th scope="col" { "Channel" } th scope="col" { "Dates" }
                        th.num scope="col" { "Budget" } th.num scope="col" { "Spent" } th.num scope="col" { "Leads" } th.num scope="col" { "Revenue won" }
                        @if roi.is_some() { th.num scope="col" { "ROI" } }
                    } }
                    tbody {
                        @for c in &rows {
                            @let id = text(c, "id");
                            tr {
                                th scope="row" { a href=(link("/campaigns", id)) { (text(c, "name")) } }
                                td { a.filter href=(filter_link("/campaigns", params, &[("channel", text(c, "channel"))])) title="Only this channel" { (text(c, "channel")) } }
                                td { (dates(&ws, c)) }
                                td.num { (money_field(&ws, c, "budget")) }
                                td.num { (cell(&spent, id, Unit::Money)) }
                                td.num { (cell(&leads, id, Unit::Count)) }
                                td.num { (cell(&won, id, Unit::Money)) }
                                @if roi.is_some() { td.num { (cell(&roi, id, roi_unit)) } }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Campaigns", Nav::Campaigns, body))
}

fn campaign_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a campaign's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let campaign = find(store, Entity::Campaigns, id)?;
    let filter = Filter::text_is("campaign_id", id);
    let spent = figure(state, "costs", filter.clone(), (0, END_OF_TIME), now)?;
    let won = figure(state, "revenue_won", filter.clone(), (0, END_OF_TIME), now)?;
    let roi = figure(state, "campaign_roi", filter.clone(), (0, END_OF_TIME), now)?;
    let leads = figure(state, "leads_created", filter.clone(), (0, END_OF_TIME), now)?;
    let by_status = figures_by(state, "leads_created", "status", filter, now)?.unwrap_or_default();
    let by_campaign = [("campaign_id", Value::Text(id.to_string()))];
    let scope = read_scope(req, Entity::Costs);
    let costs = store.recent(
        Entity::Costs,
        "incurred_on",
        &ListQuery {
            filters: &by_campaign,
            condition: scope.condition(),
            after: None,
            limit: DEFAULT_LIMIT + 1,
        },
    )?;
    let budget = store.campaign_budget(id)?;
    let name = text(&campaign, "name");

    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/campaigns" { "Campaigns" } " · " (text(&campaign, "channel")) " · " (dates(&ws, &campaign)) }
            (super::edit::actions(req, Entity::Campaigns, text(&campaign, "id"), None))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Facts" }
                dl.facts {
                    dt { "Channel" } dd { (text(&campaign, "channel")) }
                    dt { "Dates" } dd { (dates(&ws, &campaign)) }
                    dt { "Budget" } dd.num { (minor(&ws, budget.as_ref().and_then(|b| b.budget))) }
                    dt { "Spent" } dd.num { (ws.fmt.value(Unit::Money, spent.or(Some(0.0)))) }
                    @if let (Some(left), Some(_)) = (budget.as_ref().and_then(|b| b.left), spent) {
                        dt { "Left" } dd.num { (minor(&ws, Some(left))) @if left < 0 { " " (tag("over budget")) } }
                    }
                    dt { "Leads" } dd.num { (ws.fmt.value(Unit::Count, leads.or(Some(0.0)))) }
                    dt { "Revenue won" } dd.num { (ws.fmt.value(Unit::Money, won.or(Some(0.0)))) }
                    @if state.catalog.get("campaign_roi").is_some() {
                        dt { "ROI" } dd.num { (ws.fmt.value(state.catalog.get("campaign_roi").map_or(Unit::Ratio, |m| m.unit), roi)) }
                    }
                }
            }
            section.card aria-labelledby="leads-h" {
                h2 #leads-h { "Leads by status" }
                @if by_status.is_empty() { p.sub { "No leads attributed to this campaign yet." } } @else {
                    table {
                        thead { tr { th scope="col" { "Status" } th.num scope="col" { "Leads" } } }
                        tbody {
                            @for (status, n) in &by_status {
                                tr { th scope="row" { (tag(status)) } td.num { (ws.fmt.count(*n)) } }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="costs-h" {
            h2 #costs-h { "Costs" }
            @if costs.is_empty() { p.sub { "No costs recorded against this campaign." } } @else {
                (cost_table(&ws, &costs[..costs.len().min(DEFAULT_LIMIT)], &BTreeMap::new(), false))
                @if costs.len() > DEFAULT_LIMIT {
                    p.small { "The latest " (DEFAULT_LIMIT) " are shown. " a href={"/costs?campaign=" (encode(id))} { "See all" } }
                }
            }
        }
    };
    Ok(layout::page(req, name, Nav::Campaigns, body))
}

fn cost_table(
    ws: &Ws,
    costs: &[Record],
    campaigns: &BTreeMap<String, String>,
    with_campaign: bool,
) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { "Incurred" } th scope="col" { "Category" }
                @if with_campaign { th scope="col" { "Campaign" } }
                th scope="col" { "Note" } th.num scope="col" { "Amount" }
            } }
            tbody {
                @for c in costs {
                    @let campaign = text(c, "campaign_id");
                    tr {
                        td { (day_of(ws, c, "incurred_on")) }
                        td { a.filter href=(filter_link("/costs", &Params(Vec::new()), &[("category", text(c, "category"))])) title="Only this category" { (tag(text(c, "category"))) } }
                        @if with_campaign {
                            td { @if campaign.is_empty() { "–" } @else { a href=(link("/campaigns", campaign)) { (campaigns.get(campaign).map_or(campaign, |n| n.as_str())) } } }
                        }
                        td { (or_dash(text(c, "note"))) }
                        td.num { (money_field(ws, c, "amount")) }
                    }
                }
            }
        } }
    }
}

fn costs_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(params, &["category", "campaign", "from", "to", "before", "limit"], "the cost list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let category = enum_param(params, "category", COST_CATEGORIES)?;
    let campaign = ref_param(store, params, "campaign", Entity::Campaigns)?;
    let (from, to) = date_range(params)?;
    let cursor = before_param(params, Entity::Costs, "incurred_on")?;
    let mut filters: Vec<(&str, Value)> = Vec::new();
    let mut expr = Filter::everything();
    if let Some(c) = &category {
        filters.push(("category", Value::Text(c.clone())));
        expr = expr.and(Filter::text_is("category", c));
    }
    if let Some(c) = &campaign {
        filters.push(("campaign_id", Value::Text(c.clone())));
        expr = expr.and(Filter::text_is("campaign_id", c));
    }
    let scope = read_scope(req, Entity::Costs);
    let mut range = Vec::new();
    if let Some(f) = from {
        range.push(Predicate::compare("incurred_on", CmpOp::Ge, Value::Date(f)));
    }
    if let Some(t) = to {
        range.push(Predicate::compare("incurred_on", CmpOp::Le, Value::Date(t)));
    }
    let condition = scope.and(range);
    let mut rows = store.recent(
        Entity::Costs,
        "incurred_on",
        &ListQuery {
            filters: &filters,
            condition: condition.as_ref(),
            after: cursor.as_deref(),
            limit: limit + 1,
        },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/costs", params, ("before", &before_value(&rows[limit - 1], "incurred_on")))
    });
    // The total of every matching cost (not just this page), from the metrics engine.
    if let Some(owners) = &scope.owners {
        expr = expr.and(Filter::owner_in_or_unowned(owners));
    }
    let total = figure(state, "costs", expr, day_span(from, to, &ws)?, now)?;
    let campaigns = names_of(store, Entity::Campaigns)?;
    let any = filtered(params, &["category", "campaign", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Costs)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Costs" }
            (super::edit::new_button(req, Entity::Costs))
            p.sub { "Newest first" }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/costs" {
            label for="category" { "Category" }
            select id="category" name="category" {
                option value="" { "Any" }
                @for c in COST_CATEGORIES { option value=(c) selected[category.as_deref() == Some(*c)] { (c) } }
            }
            label for="campaign" { "Campaign" }
            select id="campaign" name="campaign" {
                option value="" { "Any" }
                @for (id, name) in &campaigns { option value=(id) selected[campaign.as_deref() == Some(id.as_str())] { (name) } }
            }
            label for="from" { "From" }
            input type="date" id="from" name="from" value=[from.map(|d| d.to_string())];
            label for="to" { "To" }
            input type="date" id="to" name="to" value=[to.map(|d| d.to_string())];
            button type="submit" { "Show" }
            @if any { a href="/costs" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No costs yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else {
            p.total { "Total " @if any { "of these costs" } @else { "of all costs" } ": " strong #costs-total { (ws.fmt.value(Unit::Money, total.or(Some(0.0)))) } }
            @if rows.is_empty() {
                (layout::empty("No costs match these filters — change or clear them.", Some(("/costs", "Show all costs"))))
            } @else {
                div.card { (cost_table(&ws, &rows, &campaigns, true)) }
                (pager(next))
            }
        }
    };
    Ok(layout::page(req, "Costs", Nav::Campaigns, body))
}
