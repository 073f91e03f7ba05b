//! The order list and an order's page, with its lines.

use traction_store::shop::OrderLines;

use super::*;

pub async fn orders(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, _| orders_page(state, &req, &params)).await
}

pub async fn order(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| order_page(state, &req, &params, &id)).await
}

/// Names of the customers of some records, looked up once each.
fn account_names<'a>(
    store: &dyn Backend,
    records: impl Iterator<Item = &'a Record>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for r in records {
        let id = text(r, "account_id");
        if id.is_empty() || out.contains_key(id) {
            continue;
        }
        if let Some(a) = store.get(Entity::Accounts, &[Value::Text(id.to_string())])? {
            out.insert(id.to_string(), text(&a, "name").to_string());
        }
    }
    Ok(out)
}

/// The totals of some orders by id, from the store (the stored total, else the sum of the
/// lines).
pub(super) fn order_totals(
    store: &dyn Backend,
    orders: &[Record],
) -> Result<BTreeMap<String, i64>> {
    let ids: Vec<&str> = orders.iter().map(|o| text(o, "id")).collect();
    Ok(store.order_totals(&ids)?.into_iter().collect())
}

fn orders_page(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(
        params,
        &["status", "channel", "customer", "from", "to", "before", "limit"],
        "the order list",
    )?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let limit = limit_param(params)?;
    let status = enum_param(params, "status", ORDER_STATUSES)?;
    let channel = category_param(params, "channel");
    let customer = ref_param(store, params, "customer", Entity::Accounts)?;
    let (from, to) = date_range(params)?;
    let cursor = before_param(params, Entity::Orders, "placed_at")?;

    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = &status {
        filters.push(("status", Value::Text(s.clone())));
    }
    if let Some(c) = &channel {
        filters.push(("channel", Value::Text(c.clone())));
    }
    if let Some(c) = &customer {
        filters.push(("account_id", Value::Text(c.clone())));
    }
    let (lo, hi) = day_span(from, to, &ws)?;
    let range = if from.is_some() || to.is_some() {
        vec![
            Predicate::compare("placed_at", CmpOp::Ge, Value::Instant(lo)),
            Predicate::compare("placed_at", CmpOp::Lt, Value::Instant(hi)),
        ]
    } else {
        Vec::new()
    };
    let condition = read_scope(req, Entity::Orders).and(range);
    let mut rows = store.recent(
        Entity::Orders,
        "placed_at",
        &ListQuery {
            filters: &filters,
            condition: condition.as_ref(),
            after: cursor.as_deref(),
            limit: limit + 1,
        },
    )?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/orders", params, ("before", &before_value(&rows[limit - 1], "placed_at")))
    });
    let customers = account_names(store, rows.iter())?;
    let totals = order_totals(store, &rows)?;
    let any = filtered(params, &["status", "channel", "customer", "from", "to"]);
    let none_yet = rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Orders)? == 0;
    let customer_name =
        customer.as_ref().and_then(|c| customers.get(c).cloned().or_else(|| Some(c.clone())));

    let body = html! {
        div.page-head {
            h1 { "Orders" }
            p.sub {
                "Newest first"
                @if let (Some(c), Some(n)) = (&customer, &customer_name) { " · from " a href=(link("/customers", c)) { (n) } }
            }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/orders" {
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "Any" }
                @for s in ORDER_STATUSES { option value=(s) selected[status.as_deref() == Some(*s)] { (s) } }
            }
            label for="channel" { "Channel" }
            input type="text" id="channel" name="channel" value=[channel.as_deref()] size="10";
            label for="from" { "From" }
            input type="date" id="from" name="from" value=[from.map(|d| d.to_string())];
            label for="to" { "To" }
            input type="date" id="to" name="to" value=[to.map(|d| d.to_string())];
            @if let Some(c) = &customer { input type="hidden" name="customer" value=(c); }
            button type="submit" { "Show" }
            @if any { a href="/orders" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No orders yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No orders match these filters — change or clear them.", Some(("/orders", "Show all orders"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Customer" } th scope="col" { "Channel" }
                        th scope="col" { "Owner" } th scope="col" { "Status" } th.num scope="col" { "Total" }
                    } }
                    tbody {
                        @for o in &rows {
                            @let account = text(o, "account_id");
                            tr {
                                th scope="row" { a href=(link("/orders", text(o, "id"))) { (text(o, "id")) } }
                                td { (when(&ws, o, "placed_at")) }
                                td { a href=(link("/customers", account)) { (customers.get(account).map_or(account, |n| n.as_str())) } }
                                td { @if text(o, "channel").is_empty() { "–" } @else { a.filter href=(filter_link("/orders", params, &[("channel", text(o, "channel"))])) title="Only this channel" { (text(o, "channel")) } } }
                                td { (or_dash(names.user(text(o, "owner_id")))) }
                                td { a.filter href=(filter_link("/orders", params, &[("status", text(o, "status"))])) title="Only this status" { (tag(text(o, "status"))) } }
                                td.num { (minor(&ws, totals.get(text(o, "id")).copied())) }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Orders", Nav::Customers, body))
}

fn order_page(state: &AppState, req: &Req, params: &Params, id: &str) -> Result<Markup> {
    allow(params, &[], "an order's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let order = find(store, Entity::Orders, id)?;
    check_visible(store, req, &order, Entity::Orders, id)?;
    let OrderLines { lines, total: computed } = store.order_lines(id)?;
    let total = order_totals(store, std::slice::from_ref(&order))?.get(id).copied();
    let account = text(&order, "account_id");
    let customer = store.get(Entity::Accounts, &[Value::Text(account.to_string())])?;
    let customer_name = customer.as_ref().map_or(account, |c| text(c, "name"));
    let stored = order.get("total").as_int();
    let title = format!("Order {id}");

    let body = html! {
        div.page-head {
            h1 { (title) }
            p.sub { a href="/orders" { "Orders" } " · " a href=(link("/customers", account)) { (customer_name) } }
        }
        section.card aria-labelledby="facts-h" {
            h2 #facts-h { "Facts" }
            dl.facts {
                dt { "Customer" } dd { a href=(link("/customers", account)) { (customer_name) } }
                dt { "Placed" } dd { (when(&ws, &order, "placed_at")) }
                dt { "Status" } dd { (tag(text(&order, "status"))) }
                dt { "Channel" } dd { (or_dash(text(&order, "channel"))) }
                dt { "Owner" } dd { (or_dash(names.user(text(&order, "owner_id")))) }
                dt { "Promised for" } dd { (day_of(&ws, &order, "promised_on")) }
                dt { "Fulfilled" } dd { (when(&ws, &order, "fulfilled_at")) }
                dt { "Total" } dd.num { (minor(&ws, total)) }
            }
        }
        section.card aria-labelledby="lines-h" {
            h2 #lines-h { "Lines" }
            @if lines.is_empty() {
                p.sub { "This order has no lines" @if stored.is_some() { "; its total was given as a whole" } "." }
            } @else {
                div.scroll { table {
                    thead { tr {
                        th.num scope="col" { "#" } th scope="col" { "Product" } th.num scope="col" { "Quantity" }
                        th.num scope="col" { "Unit price" } th.num scope="col" { "Discount" } th.num scope="col" { "Amount" }
                    } }
                    tbody {
                        @for l in &lines {
                            tr {
                                td.num { (l.line) }
                                th scope="row" { a href=(link("/products", &l.product_id)) { (l.product_name.as_deref().unwrap_or(&l.product_id)) } }
                                td.num { (ws.fmt.count(l.quantity as f64)) }
                                td.num { (minor(&ws, Some(l.unit_price))) }
                                td.num { (minor(&ws, Some(l.discount))) }
                                td.num { (minor(&ws, Some(l.amount))) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="5" { "Total of the lines" }
                        td.num { strong { (minor(&ws, Some(computed))) } }
                    } }
                } }
                @if stored.is_some_and(|s| s != computed) {
                    p.error-text { "The order's stored total (" (minor(&ws, stored)) ") differs from its lines." }
                }
            }
        }
    };
    Ok(layout::page(req, &title, Nav::Customers, body))
}
