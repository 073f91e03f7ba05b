//! The customer list and a customer's page.

use super::orders::order_totals;
use super::*;

pub async fn customers(
    State(state): State<AppState>,
    req: Req,
    params: Params,
) -> Result<Response> {
    respond(state, move |state, now| customers_page(state, &req, &params, now)).await
}

pub async fn customer(
    State(state): State<AppState>,
    req: Req,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, now| customer_page(state, &req, &params, &id, now)).await
}

fn customers_page(state: &AppState, req: &Req, params: &Params, now: Micros) -> Result<Markup> {
    allow(
        params,
        &["segment", "region", "owner", "q", "before", "limit", "sort", "skip"],
        "the customer list",
    )?;
    // `sort=revenue`: highest revenue of all time first (the catalog's `revenue` by account);
    // otherwise newest first.
    let by_revenue = match params.get("sort").map(str::trim) {
        None | Some("" | "newest") => false,
        Some("revenue") => true,
        Some(other) => {
            return Err(WebError::bad(format!(
                "sort: {other:?} is not an order of the list: use newest or revenue"
            )));
        }
    };
    let skip: usize = match params.get("skip") {
        None => 0,
        Some(t) => t.trim().parse().map_err(|_| {
            WebError::bad(format!("skip: {t:?} is not a count of customers to skip"))
        })?,
    };
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let limit = limit_param(params)?;
    let segment = category_param(params, "segment");
    let region = category_param(params, "region");
    let owner = ref_param(store, params, "owner", Entity::Users)?;
    let search = params.get("q").map(|q| q.trim().to_lowercase());
    let cursor = before_param(params, Entity::Accounts, "created_at")?;

    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = &segment {
        filters.push(("segment", Value::Text(s.clone())));
    }
    if let Some(r) = &region {
        filters.push(("region", Value::Text(r.clone())));
    }
    if let Some(o) = &owner {
        filters.push(("owner_id", Value::Text(o.clone())));
    }
    let named =
        search.iter().map(|q| Predicate::Contains { field: "name".into(), text: q.clone() });
    let condition = read_scope(req, Entity::Accounts).and(named.collect());
    let (rows, next) = if by_revenue {
        let visible = |a: &Record| -> Result<bool> {
            let matches = |key: &str, want: &Option<String>| {
                want.as_ref().is_none_or(|w| a.get(key).as_text() == Some(w.as_str()))
            };
            let named = search.as_ref().is_none_or(|q| {
                a.get("name").as_text().is_some_and(|n| n.to_lowercase().contains(q.as_str()))
            });
            let readable = match req.principal.as_deref() {
                Some(p) => traction_server::auth::authz::visible(p, store, a)?,
                None => true,
            };
            Ok(matches("segment", &segment)
                && matches("region", &region)
                && matches("owner_id", &owner)
                && named
                && readable)
        };
        let mut ranking: Vec<(String, f64)> =
            figures_by(state, "revenue", "account", Filter::everything(), now)?
                .unwrap_or_default()
                .into_iter()
                .collect();
        // Highest first; equal revenue by id, so pages are stable.
        ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut rows = Vec::new();
        let mut seen = 0;
        for (id, _) in &ranking {
            let Some(a) = store.get(Entity::Accounts, &[Value::Text(id.clone())])? else {
                continue;
            };
            if !visible(&a)? {
                continue;
            }
            seen += 1;
            if seen > skip {
                rows.push(a);
            }
            if rows.len() > limit {
                break;
            }
        }
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            let mut parts: Vec<String> = params
                .0
                .iter()
                .filter(|(k, v)| k != "skip" && !v.trim().is_empty())
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            parts.push(format!("skip={}", skip + limit));
            format!("/customers?{}", parts.join("&"))
        });
        (rows, next)
    } else {
        let mut rows = store.recent(
            Entity::Accounts,
            "created_at",
            &ListQuery {
                filters: &filters,
                condition: condition.as_ref(),
                after: cursor.as_deref(),
                limit: limit + 1,
            },
        )?;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            page_link(
                "/customers",
                params,
                ("before", &before_value(&rows[limit - 1], "created_at")),
            )
        });
        (rows, next)
    };

    // Per customer: orders and revenue of all time (the catalog's definitions: cancelled and
    // returned orders left out), and the latest order of any status.
    let order_scope = read_scope(req, Entity::Orders);
    let mut figures = Vec::with_capacity(rows.len());
    for a in &rows {
        let id = text(a, "id");
        let filter = Filter::text_is("account_id", id);
        let orders = figure(state, "orders", filter.clone(), (0, END_OF_TIME), now)?;
        let revenue = figure(state, "revenue", filter, (0, END_OF_TIME), now)?;
        let last = store.recent(
            Entity::Orders,
            "placed_at",
            &ListQuery {
                filters: &[("account_id", Value::Text(id.to_string()))],
                condition: order_scope.condition(),
                after: None,
                limit: 1,
            },
        )?;
        figures.push((orders, revenue, last.first().and_then(|o| instant(o, "placed_at"))));
    }
    let any = filtered(params, &["segment", "region", "owner", "q"]);
    let none_yet =
        rows.is_empty() && !any && cursor.is_none() && store.count(Entity::Accounts)? == 0;

    let body = html! {
        div.page-head {
            h1 { "Customers" }
            (super::edit::new_button(req, Entity::Accounts))
            " " (super::edit::new_button(req, Entity::Contacts))
            p.sub {
                @if by_revenue { "Highest revenue first (customers with a counted order)" } @else { "Newest customers first" }
                " · orders and revenue of all time, cancelled and returned orders left out"
            }
        }
        (super::views::save_form(req))
        form.filters method="get" action="/customers" role="search" {
            label for="q" { "Name" }
            input type="search" id="q" name="q" value=[params.get("q")] placeholder="Search by name";
            label for="segment" { "Segment" }
            input type="text" id="segment" name="segment" value=[segment.as_deref()] size="10";
            label for="region" { "Region" }
            input type="text" id="region" name="region" value=[region.as_deref()] size="10";
            label for="owner" { "Owner" }
            select id="owner" name="owner" {
                option value="" { "Anyone" }
                (names.people_options(owner.as_deref(), false))
            }
            label for="sort" { "Order" }
            select id="sort" name="sort" {
                option value="newest" selected[!by_revenue] { "Newest first" }
                option value="revenue" selected[by_revenue] { "Highest revenue first" }
            }
            button type="submit" { "Show" }
            @if any { a href="/customers" { "Clear" } }
        }
        @if none_yet {
            (layout::empty("No customers yet — import accounts on the Import page.", Some(("/import", "Import data"))))
        } @else if rows.is_empty() {
            (layout::empty("No customers match these filters — change or clear them.", Some(("/customers", "Show all customers"))))
        } @else {
            div.card.scroll {
                table {
                    thead { tr {
                        th scope="col" { "Customer" } th scope="col" { "Segment" } th scope="col" { "Region" } th scope="col" { "Owner" }
                        th.num scope="col" { "Orders" } th.num scope="col" { "Revenue" } th.num scope="col" { "Last order" }
                    } }
                    tbody {
                        @for (a, (orders, revenue, last)) in rows.iter().zip(&figures) {
                            tr {
                                th scope="row" { a href=(link("/customers", text(a, "id"))) { (text(a, "name")) } }
                                td { (or_dash(text(a, "segment"))) }
                                td { (or_dash(text(a, "region"))) }
                                td { (or_dash(names.user(text(a, "owner_id")))) }
                                td.num { (ws.fmt.value(Unit::Count, orders.or(Some(0.0)))) }
                                td.num { (ws.fmt.value(Unit::Money, revenue.or(Some(0.0)))) }
                                td.num { (last.map_or_else(|| "–".to_string(), |t| ws.day(t))) }
                            }
                        }
                    }
                }
            }
            (pager(next))
        }
    };
    Ok(layout::page(req, "Customers", Nav::Customers, body))
}

/// A customer's related records, newest first, as far as the reader may see them: at most
/// [`RELATED`] of each are shown, one more is read to know there are more.
struct Related {
    orders: Vec<Record>,
    deals: Vec<Record>,
    contacts: Vec<Record>,
    surveys: Vec<Record>,
}

impl Related {
    fn load(store: &dyn Backend, req: &Req, id: &str) -> Result<Related> {
        let by_account = [("account_id", Value::Text(id.to_string()))];
        let newest = |entity: Entity, time: &str| -> Result<Vec<Record>> {
            let scope = read_scope(req, entity);
            Ok(store.recent(
                entity,
                time,
                &ListQuery {
                    filters: &by_account,
                    condition: scope.condition(),
                    after: None,
                    limit: RELATED + 1,
                },
            )?)
        };
        Ok(Related {
            orders: newest(Entity::Orders, "placed_at")?,
            deals: newest(Entity::Deals, "created_at")?,
            contacts: newest(Entity::Contacts, "created_at")?,
            surveys: newest(Entity::Surveys, "answered_at")?,
        })
    }
}

/// The shown part of a list of related records.
fn shown(list: &[Record]) -> &[Record] {
    &list[..list.len().min(RELATED)]
}

/// A customer's figures of all time and of the last twelve months, from the metrics engine
/// (the catalog's definitions), and the totals of the orders shown, from the store.
struct Figures {
    revenue: Option<f64>,
    orders: Option<f64>,
    revenue_won: Option<f64>,
    buckets: Buckets,
    monthly: BTreeMap<String, f64>,
    order_totals: BTreeMap<String, i64>,
}

impl Figures {
    fn load(
        state: &AppState,
        ws: &Ws,
        id: &str,
        orders: &[Record],
        now: Micros,
    ) -> Result<Figures> {
        let filter = Filter::text_is("account_id", id);
        let all_time = (0, END_OF_TIME);
        let (from, to, buckets) = last_months(ws, now)?;
        Ok(Figures {
            revenue: figure(state, "revenue", filter.clone(), all_time, now)?,
            orders: figure(state, "orders", filter.clone(), all_time, now)?,
            revenue_won: figure(state, "revenue_won", filter.clone(), all_time, now)?,
            buckets,
            monthly: per_month(state, "revenue", filter, (from, to), now)?,
            order_totals: order_totals(state.store.as_ref(), shown(orders))?,
        })
    }
}

fn customer_page(
    state: &AppState,
    req: &Req,
    params: &Params,
    id: &str,
    now: Micros,
) -> Result<Markup> {
    allow(params, &[], "a customer's page")?;
    let store = state.store.as_ref();
    let ws = Ws::load(store, req)?;
    let names = Names::load(store)?;
    let account = find(store, Entity::Accounts, id)?;
    check_visible(store, req, &account, Entity::Accounts, id)?;
    let related = Related::load(store, req, id)?;
    let (next_step, timeline) = super::work::account_work(
        state,
        req,
        id,
        shown(&related.deals),
        shown(&related.contacts),
        now,
    )?;
    let figures = Figures::load(state, &ws, id, &related.orders, now)?;
    let name = text(&account, "name");
    let body = html! {
        div.page-head {
            h1 { (name) }
            p.sub { a href="/customers" { "Customers" } " · customer since " (day_of(&ws, &account, "created_at")) }
            (super::edit::actions(req, Entity::Accounts, id, Some("account_id")))
        }
        div.grid2 {
            (facts_section(&ws, &names, &account, &figures))
            section.card aria-labelledby="rev-h" {
                h2 #rev-h { "Revenue per month" }
                p.sub { "Orders of the last twelve months" }
                (month_chart(&format!("Revenue per month from {name}"), Unit::Money, &figures.buckets, &figures.monthly, &ws))
            }
        }
        (orders_section(&ws, id, &related.orders, &figures.order_totals))
        div.grid2 {
            (deals_section(&ws, &names, &related.deals))
            (contacts_section(req, id, &related.contacts))
        }
        div.grid2 {
            (next_step)
            (surveys_section(&ws, &related.surveys))
        }
        (timeline)
    };
    Ok(layout::page(req, name, Nav::Customers, body))
}

/// "The latest N are shown", with a link to all when there is one.
fn more(list: &[Record], href: Option<String>) -> Markup {
    html! {
        @if list.len() > RELATED {
            p.small { "The latest " (RELATED) " are shown." @if let Some(h) = href { " " a href=(h) { "See all" } } }
        }
    }
}

fn facts_section(ws: &Ws, names: &Names, account: &Record, figures: &Figures) -> Markup {
    html! {
        section.card aria-labelledby="facts-h" {
            h2 #facts-h { "Facts" }
            dl.facts {
                dt { "Segment" } dd { (or_dash(text(account, "segment"))) }
                dt { "Industry" } dd { (or_dash(text(account, "industry"))) }
                dt { "Region" } dd { (or_dash(text(account, "region"))) }
                dt { "Owner" } dd { (or_dash(names.user(text(account, "owner_id")))) }
                dt { "Orders" } dd.num { (ws.fmt.value(Unit::Count, figures.orders.or(Some(0.0)))) }
                dt { "Revenue from orders" } dd.num { (ws.fmt.value(Unit::Money, figures.revenue.or(Some(0.0)))) }
                dt { "Revenue won from deals" } dd.num { (ws.fmt.value(Unit::Money, figures.revenue_won.or(Some(0.0)))) }
            }
            p.small { "All time; cancelled and returned orders are left out." }
        }
    }
}

fn orders_section(ws: &Ws, id: &str, orders: &[Record], totals: &BTreeMap<String, i64>) -> Markup {
    html! {
        section.card aria-labelledby="orders-h" {
            h2 #orders-h { "Orders" }
            @if orders.is_empty() {
                p.sub { "No orders from this customer yet." }
            } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Channel" } th scope="col" { "Status" } th.num scope="col" { "Total" } } }
                    tbody {
                        @for o in shown(orders) {
                            tr {
                                th scope="row" { a href=(link("/orders", text(o, "id"))) { (text(o, "id")) } }
                                td { (when(ws, o, "placed_at")) }
                                td { (or_dash(text(o, "channel"))) }
                                td { (tag(text(o, "status"))) }
                                td.num { (minor(ws, totals.get(text(o, "id")).copied())) }
                            }
                        }
                    }
                } }
                (more(orders, Some(format!("/orders?customer={}", encode(id)))))
            }
        }
    }
}

fn deals_section(ws: &Ws, names: &Names, deals: &[Record]) -> Markup {
    html! {
        section.card aria-labelledby="deals-h" {
            h2 #deals-h { "Deals" }
            @if deals.is_empty() { p.sub { "No deals with this customer." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Deal" } th scope="col" { "Stage" } th scope="col" { "Status" } th scope="col" { "Owner" } th.num scope="col" { "Amount" } } }
                    tbody {
                        @for d in shown(deals) {
                            tr {
                                th scope="row" { a href=(link("/deals", text(d, "id"))) { (or_dash(d.get("name").as_text().unwrap_or(text(d, "id")))) } }
                                td { (names.stage(text(d, "stage_id"))) }
                                td { (tag(text(d, "status"))) }
                                td { (or_dash(names.user(text(d, "owner_id")))) }
                                td.num { (money_field(ws, d, "amount")) }
                            }
                        }
                    }
                } }
                (more(deals, None))
            }
        }
    }
}

fn contacts_section(req: &Req, id: &str, contacts: &[Record]) -> Markup {
    html! {
        section.card aria-labelledby="contacts-h" {
            h2 #contacts-h { "Contacts" }
            @if super::edit::can_write(req) {
                p.actions { a.button href={"/records/contacts/new?account_id=" (encode(id)) "&back=" (encode(&link("/customers", id)))} { "New contact" } }
            }
            @if contacts.is_empty() { p.sub { "No contacts at this customer." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Phone" } } }
                    tbody {
                        @for c in shown(contacts) {
                            tr {
                                th scope="row" { a href=(link("/contacts", text(c, "id"))) { (or_dash(text(c, "name"))) } }
                                td { @if let Some(e) = c.get("email").as_text() { a href={"mailto:" (e)} { (e) } } @else { "–" } }
                                td { (or_dash(text(c, "phone"))) }
                            }
                        }
                    }
                } }
                (more(contacts, None))
            }
        }
    }
}

fn surveys_section(ws: &Ws, surveys: &[Record]) -> Markup {
    html! {
        section.card aria-labelledby="surveys-h" {
            h2 #surveys-h { "Surveys" }
            @if surveys.is_empty() { p.sub { "No survey answers from this customer." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Answered" } th scope="col" { "Kind" } th.num scope="col" { "Score" } } }
                    tbody {
                        @for s in shown(surveys) {
                            tr {
                                td { (when(ws, s, "answered_at")) }
                                td { (text(s, "kind").to_uppercase()) }
                                td.num { (s.get("score").as_int().map_or_else(|| "–".into(), |n| n.to_string())) }
                            }
                        }
                    }
                } }
                (more(surveys, None))
            }
        }
    }
}
