//! The product list (stock on hand, what to reorder) and a product's page.

use traction_store::shop::ProductStock;

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

/// Each product's stock on hand, reorder flag and margin, from the store, by id.
fn stocks(store: &dyn Backend, products: &[Record]) -> Result<BTreeMap<String, ProductStock>> {
    let ids: Vec<&str> = products.iter().map(|p| text(p, "id")).collect();
    Ok(store.product_stock(&ids)?.into_iter().map(|s| (s.id.clone(), s)).collect())
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
    let mut rows: Vec<(Record, ProductStock)> = Vec::new();
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
        let mut stock = stocks(store, &page)?;
        for p in page {
            let Some(s) = stock.remove(text(&p, "id")) else { continue };
            if !only_low || s.to_reorder {
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
                                td.num { (stock.margin.map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                                td.num { (ws.fmt.count(stock.on_hand as f64)) }
                                td.num { (p.get("reorder_level").as_int().map_or_else(|| "–".into(), |n| ws.fmt.count(n as f64))) }
                                td { @if stock.to_reorder { (tag("reorder")) } }
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
    let stock = stocks(store, std::slice::from_ref(&product))?
        .remove(id)
        .ok_or_else(|| WebError::not_found(format!("There is no product {id:?}.")))?;
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

    // Units sold per month: the catalog's units_sold (lines of placed and fulfilled orders).
    let (from, to, buckets) = last_months(&ws, now)?;
    let filter = Filter::text_is("product_id", id);
    let sold = per_month(state, "units_sold", filter, (from, to), now)?;
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
                    dt { "Margin" } dd.num { (stock.margin.map_or_else(|| "–".into(), |m| ws.fmt.percent(m))) }
                    dt { "Opening stock" } dd.num { (ws.fmt.count(product.get("opening_stock").as_int().unwrap_or(0) as f64)) }
                    dt { "Stock on hand" } dd.num { (ws.fmt.count(stock.on_hand as f64)) @if stock.to_reorder { " " (tag("reorder")) } }
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
