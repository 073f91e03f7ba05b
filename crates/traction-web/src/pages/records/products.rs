//! The product list (stock on hand, what to reorder) and a product's page.

use super::*;

pub async fn products(State(state): State<AppState>, req: Req, params: Params) -> Result<Response> {
    respond(state, move |state, _| products_page(state, &req, &params)).await
}

pub async fn product(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| product_page(state, &req, &params, &id, now)).await
}

/// Whether a product needs reordering: stock at or below its reorder level.
fn low(product: &Record, stock: i64) -> bool {
    product.get("reorder_level").as_int().is_some_and(|level| stock <= level)
}

/// The gross margin of a price and a cost, as a ratio of the price.
fn margin(product: &Record) -> Option<f64> {
    let price = product.get("unit_price").as_int()?;
    let cost = product.get("unit_cost").as_int()?;
    (price != 0).then(|| (price - cost) as f64 / price as f64)
}

fn stocks(store: &SqliteStore, products: &[Record]) -> Result<BTreeMap<String, i64>> {
    let ids: Vec<&str> = products.iter().map(|p| text(p, "id")).collect();
    Ok(store.stock_on_hand(&ids)?.into_iter().collect())
}

fn products_page(state: &AppState, req: &Req, params: &Params) -> Result<Markup> {
    allow(params, &["category", "low", "after", "limit"], "the product list")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let limit = limit_param(params)?;
    let category = category_param(params, "category");
    let only_low = match params.get("low") {
        None | Some("0") => false,
        Some("1") => true,
        Some(t) => {
            return Err(WebError::bad(format!(
                "low: {t:?} is not 1 (only products to reorder) or 0"
            )));
        }
    };
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(c) = &category {
        filters.push(("category", Value::Text(c.clone())));
    }
    // In key order; with `low=1`, read on until a page's worth is at or below its reorder level.
    let mut after: Option<Vec<Value>> =
        params.get("after").map(|id| vec![Value::Text(id.to_string())]);
    let mut rows: Vec<(Record, i64)> = Vec::new();
    loop {
        let batch = if only_low { 500 } else { limit + 1 };
        let page = store.list(
            Entity::Products,
            &ListQuery {
                filters: &filters,
                condition: None,
                after: after.as_deref(),
                limit: batch,
            },
        )?;
        let done = page.len() < batch;
        after = page.last().map(|r| vec![r.get("id").clone()]);
        let stock = stocks(store, &page)?;
        for p in page {
            let s = stock.get(text(&p, "id")).copied().unwrap_or(0);
            if !only_low || low(&p, s) {
                rows.push((p, s));
            }
        }
        if done || rows.len() > limit || !only_low {
            break;
        }
    }
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        page_link("/products", params, ("after", text(&rows[limit - 1].0, "id")))
    });
    let any = filtered(params, &["category", "low"]);
    let none_yet = rows.is_empty()
        && !any
        && params.get("after").is_none()
        && store.count(Entity::Products)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Products" }
            (super::edit::new_button(req, Entity::Products))
            p.sub { "Stock on hand is the opening stock plus every movement; " span.tag.bad { "reorder" } " marks stock at or below the reorder level" }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/products" {
            label for="category" { "Category" }
            input type="text" id="category" name="category" value=[category.as_deref()] size="12";
            label { input type="checkbox" name="low" value="1" checked[only_low]; " Only to reorder" }
            button type="submit" { "Show" }
            @if any { a href="/products" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No products yet — import them on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty(if only_low { "Nothing to reorder: every product is above its reorder level." } else { "No products match these filters — change or clear them." }, Some(("/products", "Show all products"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Product" } th scope="col" { "SKU" } th scope="col" { "Category" }
                        th.num scope="col" { "Price" } th.num scope="col" { "Cost" } th.num scope="col" { "Margin" }
                        th.num scope="col" { "On hand" } th.num scope="col" { "Reorder at" } th scope="col" { span.visually-hidden { "Flag" } }
                    } }
                    tbody {
                        @for (p, stock) in &rows {
                            tr {
                                th scope="row" { a href=(link("/products", text(p, "id"))) { (text(p, "name")) } }
                                td { (or_dash(text(p, "sku"))) }
                                td { @if text(p, "category").is_empty() { "–" } @else { a.filter href=(filter_link("/products", params, &[("category", text(p, "category"))])) title="Only this category" { (text(p, "category")) } } }
                                td.num { (money_field(&ws, p, "unit_price")) }
                                td.num { (money_field(&ws, p, "unit_cost")) }
                                td.num { (margin(p).map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                                td.num { (ws.fmt.count(*stock as f64)) }
                                td.num { (p.get("reorder_level").as_int().map_or_else(|| "–".into(), |n| ws.fmt.count(n as f64))) }
                                td { @if low(p, *stock) { (tag("reorder")) } }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Products", Nav::Products, body))
}

fn product_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &["before"], "a product's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let product = find(store, Entity::Products, id)?;
    let stock = stocks(store, std::slice::from_ref(&product))?.get(id).copied().unwrap_or(0);
    let cursor = before_param(params, Entity::InventoryMovements, "occurred_at")?;
    let by_product = [("product_id", Value::Text(id.to_string()))];
    let mut moves = store.recent(
        Entity::InventoryMovements,
        "occurred_at",
        &ListQuery {
            filters: &by_product,
            condition: None,
            after: cursor.as_deref(),
            limit: DEFAULT_LIMIT + 1,
        },
    )?;
    let next = (moves.len() > DEFAULT_LIMIT).then(|| {
        moves.truncate(DEFAULT_LIMIT);
        page_link(
            &link("/products", id),
            params,
            ("before", &before_value(&moves[DEFAULT_LIMIT - 1], "occurred_at")),
        )
    });

    // Units sold per month: the sale movements (one per line of a placed or fulfilled order).
    let (from, to, buckets) = last_months(&ws, now)?;
    let sale_filters =
        [("product_id", Value::Text(id.to_string())), ("reason", Value::Text("sale".into()))];
    let span = [Value::Instant(from), Value::Instant(to)];
    let mut sold: BTreeMap<String, f64> = BTreeMap::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let page = store.recent(
            Entity::InventoryMovements,
            "occurred_at",
            &ListQuery {
                filters: &sale_filters,
                condition: Some(Condition {
                    sql: "occurred_at >= ? AND occurred_at < ?",
                    params: &span,
                }),
                after: after.as_deref(),
                limit: 1000,
            },
        )?;
        let done = page.len() < 1000;
        after = page.last().map(|m| vec![m.get("occurred_at").clone(), m.get("id").clone()]);
        for m in &page {
            if let Some(b) = instant(m, "occurred_at").and_then(|t| buckets.find(t)) {
                let label = buckets.list[b].label.clone().unwrap_or_default();
                *sold.entry(label).or_default() += -(m.get("delta").as_int().unwrap_or(0) as f64);
            }
        }
        if done {
            break;
        }
    }
    let name = text(&product, "name");

    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/products" { "Products" } @if !text(&product, "sku").is_empty() { " · SKU " (text(&product, "sku")) } }
            (super::edit::actions(req, Entity::Products, text(&product, "id"), None))
        }
        div.grid2 {
            section.card aria-labelledby="facts-h" {
                h2 #facts-h { "Facts" }
                dl.facts {
                    dt { "Category" } dd { (or_dash(text(&product, "category"))) }
                    dt { "Price" } dd.num { (money_field(&ws, &product, "unit_price")) }
                    dt { "Cost" } dd.num { (money_field(&ws, &product, "unit_cost")) }
                    dt { "Margin" } dd.num { (margin(&product).map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                    dt { "Opening stock" } dd.num { (ws.fmt.count(product.get("opening_stock").as_int().unwrap_or(0) as f64)) }
                    dt { "Stock on hand" } dd.num { (ws.fmt.count(stock as f64)) @if low(&product, stock) { " " (tag("reorder")) } }
                    dt { "Reorder level" } dd.num { (product.get("reorder_level").as_int().map_or_else(|| "–".into(), |n| ws.fmt.count(n as f64))) }
                }
            }
            section.card aria-labelledby="sold-h" {
                h2 #sold-h { "Units sold per month" }
                p.sub { "Lines of placed and fulfilled orders, last twelve months" }
                (month_chart(&format!("Units of {name} sold per month"), Unit::Count, &buckets, &sold, &ws))
            }
        }
        section.card aria-labelledby="moves-h" {
            h2 #moves-h { "Stock movements" }
            @if moves.is_empty() {
                p.sub { "No movements yet: the stock on hand is the opening stock." }
            } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Reason" } th.num scope="col" { "Units" } th scope="col" { "Movement" } } }
                    tbody {
                        @for m in &moves {
                            @let delta = m.get("delta").as_int().unwrap_or(0);
                            tr {
                                td { (when(&ws, m, "occurred_at")) }
                                td { (tag(text(m, "reason"))) }
                                td.num { (if delta > 0 { format!("+{delta}") } else { format!("−{}", delta.unsigned_abs()) }) }
                                td { (text(m, "id")) }
                            }
                        }
                    }
                } }
                (pager(next))
            }
        }
    };
    Ok(layout::page(req, name, Nav::Products, body))
}
