//! The record pages (customers, orders, products, campaigns, costs) over a small hand-made
//! dataset, through the real server: every figure below is worked out by hand.

use std::sync::Arc;

use jiff::tz::TimeZone;
use traction_domain::record::parse_field;
use traction_domain::settings::Key;
use traction_domain::{Currency, Entity, ParseContext, Record};
use traction_server::{AppState, Clock, Config};

/// The server's clock: Sunday 15 March 2026, 12:00 UTC.
pub(crate) const NOW: i64 = 1_773_576_000_000_000;

pub(crate) struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let res = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// A page that must answer 200.
    pub(crate) async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

/// A record from `field=value` pairs (`;`-separated), parsed as an import would.
pub(crate) fn rec(entity: Entity, pairs: &str) -> Record {
    let ctx =
        ParseContext { zone: TimeZone::UTC, currency: Currency::parse("GBP").unwrap(), now: NOW };
    let given: Vec<(&str, &str)> = pairs
        .split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.split_once('=').unwrap())
        .collect();
    let values = entity
        .fields()
        .iter()
        .map(|f| {
            let raw = given.iter().find(|(n, _)| n.trim() == f.name).map_or("", |(_, v)| *v);
            parse_field(f, raw, &ctx).unwrap_or_else(|e| panic!("{entity} {}: {e}", f.name))
        })
        .collect();
    Record { entity, values }
}

fn dataset() -> Vec<Record> {
    use Entity::*;
    vec![
        rec(Teams, "id=t1;name=North"),
        rec(Users, "id=u1;name=Ann Owner;team_id=t1"),
        rec(Users, "id=u2;name=Bob Seller;team_id=t1"),
        rec(
            Accounts,
            "id=a1;name=Acme <script>alert(1)</script> Ltd;segment=SMB;region=north;owner_id=u1;created_at=2026-01-05",
        ),
        rec(
            Accounts,
            "id=a2;name=Globex;segment=enterprise;region=south;owner_id=u2;created_at=2026-02-01",
        ),
        rec(
            Contacts,
            "id=ct1;name=Carol Contact;email=carol@example.com;account_id=a1;created_at=2026-01-06",
        ),
        rec(
            Products,
            "id=p1;sku=W-1;name=Widget;category=tools;unit_price=3.50;unit_cost=1.40;opening_stock=10;reorder_level=5",
        ),
        rec(
            Products,
            "id=p2;sku=G-1;name=Gadget;category=gizmos;unit_price=10.00;unit_cost=6.00;opening_stock=3;reorder_level=5",
        ),
        // o1: 2 × £3.50 + 1 × £10.00 − £1.00 = £16.00, no total given.
        rec(
            Orders,
            "id=o1;account_id=a1;placed_at=2026-03-02T10:00:00Z;channel=web;owner_id=u1;status=placed",
        ),
        rec(OrderLines, "order_id=o1;line=1;product_id=p1;quantity=2;unit_price=3.50"),
        rec(
            OrderLines,
            "order_id=o1;line=2;product_id=p2;quantity=1;unit_price=10.00;discount=1.00",
        ),
        // o2: 1 × £3.50, fulfilled.
        rec(
            Orders,
            "id=o2;account_id=a1;placed_at=2026-03-10T09:00:00Z;channel=store;status=fulfilled;total=3.50",
        ),
        rec(OrderLines, "order_id=o2;line=1;product_id=p1;quantity=1;unit_price=3.50"),
        // o3: cancelled, so neither revenue nor a stock movement.
        rec(
            Orders,
            "id=o3;account_id=a2;placed_at=2026-02-15T12:00:00Z;channel=web;status=cancelled",
        ),
        rec(OrderLines, "order_id=o3;line=1;product_id=p2;quantity=1;unit_price=10.00"),
        rec(
            Campaigns,
            "id=c1;name=Spring <b>push</b>;channel=email;started_on=2026-01-01;ended_on=2026-03-31;budget=500",
        ),
        rec(Campaigns, "id=c2;name=Trade fair;channel=event;started_on=2026-02-01;budget=300"),
        rec(
            Costs,
            "id=k1;incurred_on=2026-01-10;category=marketing;amount=120;campaign_id=c1;note=Ads <em>round one</em>",
        ),
        rec(Costs, "id=k2;incurred_on=2026-02-10;category=marketing;amount=80;campaign_id=c1"),
        rec(Costs, "id=k3;incurred_on=2026-02-20;category=overhead;amount=1000"),
        rec(Leads, "id=l1;created_at=2026-01-12;source=email;campaign_id=c1;status=new"),
        rec(
            Leads,
            "id=l2;created_at=2026-01-13;source=email;campaign_id=c1;status=qualified;qualified_at=2026-01-14",
        ),
        rec(Leads, "id=l3;created_at=2026-02-03;source=event;campaign_id=c2;status=new"),
        rec(Pipelines, "id=pl;name=Sales"),
        rec(Stages, "id=s1;pipeline_id=pl;name=Talking;position=1"),
        rec(Stages, "id=sw;pipeline_id=pl;name=Won;position=2;kind=won"),
        rec(Stages, "id=sl;pipeline_id=pl;name=Lost;position=3;kind=lost"),
        rec(
            Deals,
            "id=d1;name=Acme renewal;pipeline_id=pl;stage_id=sw;account_id=a1;owner_id=u1;amount=2000;created_at=2026-02-01;closed_at=2026-03-05T10:00:00Z;campaign_id=c1",
        ),
        rec(
            Activities,
            "id=act1;kind=call;occurred_at=2026-03-03T11:00:00Z;owner_id=u1;account_id=a1;subject=Follow <i>up</i>;outcome=connected",
        ),
        rec(Surveys, "id=sv1;kind=nps;score=9;answered_at=2026-03-04T08:00:00Z;account_id=a1"),
    ]
}

pub(crate) async fn spawn(records: Vec<Record>) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = traction_store::open(&dir.path().join("traction.db")).unwrap();
    store.set_setting(Key::Currency, None, "GBP").unwrap();
    let mut w = store.writer().unwrap();
    for (tag, r) in records.into_iter().enumerate() {
        w.put(tag as u64, r).unwrap();
    }
    let mut admin = rec(Entity::Users, "id=admin;name=Ada Admin;role=admin");
    admin.set("created_at", traction_domain::Value::Instant(NOW));
    w.put(0, admin).unwrap();
    w.commit().unwrap();
    // Pages are behind sign-in: the admin's API token opens them (admins see every record).
    let actor = traction_store::Actor { user: "cli".into(), at: Some(NOW) };
    let (_, token) =
        traction_server::auth::api::issue_token(&*store, "admin", "tests", NOW, &actor).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let client = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let clock: Clock = Arc::new(|| NOW);
    let (state, stop_events) = AppState::new(store, clock, Config::default());
    let app = traction_server::app_with(state, traction_web::router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        drop(stop_events);
    });
    Server { base, client, _dir: dir, stop: Some(stop) }
}

/// The text between `start` and the next `end` after it (a table row, a section).
pub(crate) fn slice<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start:?} not in the page"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The "next page" link of a list.
pub(crate) fn next_page(html: &str) -> String {
    let pager = slice(html, "<nav class=\"pager\"", "</nav>");
    let href = &pager[pager.find("href=\"").unwrap() + 6..];
    href[..href.find('"').unwrap()].replace("&amp;", "&")
}

/// The row of a table that mentions `needle`.
fn row<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the page"));
    let start = html[..at].rfind("<tr").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    &html[start..end]
}

#[tokio::test]
async fn customers_list_figures_filters_and_escaping() {
    let s = spawn(dataset()).await;
    let page = s.page("/customers").await;
    assert!(page.contains("Acme &lt;script&gt;alert(1)&lt;/script&gt; Ltd"), "{page}");
    assert!(!page.contains("<script>alert"), "user text is escaped");
    assert!(page.contains("Globex"));
    // Acme: o1 (£16.00) and o2 (£3.50); Globex's only order is cancelled.
    let acme = row(&page, "Acme");
    assert!(acme.contains(">2<"), "{acme}");
    assert!(acme.contains("£19.50"), "{acme}");
    assert!(acme.contains("10 Mar 2026"), "last order: {acme}");
    assert!(acme.contains("Ann Owner") && acme.contains("smb") && acme.contains("north"), "{acme}");
    let globex = row(&page, "Globex");
    assert!(globex.contains("£0.00") && globex.contains(">0<"), "{globex}");
    // Newest customers first.
    assert!(page.find("Globex").unwrap() < page.find("Acme").unwrap());
    assert!(page.contains("form class=\"filters\""), "a filter form");

    let enterprise = s.page("/customers?segment=Enterprise").await;
    assert!(enterprise.contains("Globex") && !enterprise.contains("Acme"));
    assert!(enterprise.contains("value=\"enterprise\""), "the filter stays in the form");
    let searched = s.page("/customers?q=acm").await;
    assert!(searched.contains("Acme") && !searched.contains("Globex"));
    let owned = s.page("/customers?owner=u2&region=south").await;
    assert!(owned.contains("Globex") && !owned.contains("Acme"));
    let none = s.page("/customers?region=west").await;
    assert!(none.contains("No customers match"), "{none}");

    // One per page: a next page link carries on where the first stopped.
    let first = s.page("/customers?limit=1").await;
    assert!(first.contains("Globex") && !first.contains("Acme"));
    let href = next_page(&first);
    assert!(href.starts_with("/customers?limit=1&before="), "{href}");
    let second = s.page(&href).await;
    assert!(second.contains("Acme") && !second.contains("Globex"), "{href}");

    for bad in [
        "/customers?owner=nobody",
        "/customers?limit=0",
        "/customers?limit=x",
        "/customers?before=zzz",
        "/customers?colour=red",
    ] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn a_customer_page_shows_facts_orders_deals_contacts_activities_and_surveys() {
    let s = spawn(dataset()).await;
    let page = s.page("/customers/a1").await;
    assert!(page.contains("<h1>Acme &lt;script&gt;alert(1)&lt;/script&gt; Ltd</h1>"), "{page}");
    // Newest order first, with its total.
    let orders = slice(&page, "id=\"orders-h\"", "</section>");
    assert!(orders.find("o2").unwrap() < orders.find("o1").unwrap(), "{orders}");
    assert!(row(orders, "/orders/o1").contains("£16.00"));
    assert!(page.contains("Acme renewal") && page.contains("£2,000"), "the won deal");
    assert!(page.contains("Carol Contact") && page.contains("mailto:carol@example.com"));
    assert!(page.contains("Follow &lt;i&gt;up&lt;/i&gt;"), "activity subject escaped");
    assert!(page.contains("NPS") && row(&page, "NPS").contains(">9<"));
    assert!(page.contains("£19.50"), "revenue of all time");
    // The revenue chart: March 2026 holds both orders.
    assert!(page.contains("<svg"), "a chart");
    assert!(page.contains("2026-03"), "the month's label in the chart's table");

    assert_eq!(s.get("/customers/nobody").await.0, 404);
    assert_eq!(s.get("/customers/a1?x=1").await.0, 400);
    // The empty state for a customer without anything.
    let globex = s.page("/customers/a2").await;
    assert!(globex.contains("No deals with this customer"));
}

#[tokio::test]
async fn orders_list_and_order_page() {
    let s = spawn(dataset()).await;
    let page = s.page("/orders").await;
    let (o1, o2, o3) = (
        page.find("/orders/o1").unwrap(),
        page.find("/orders/o2").unwrap(),
        page.find("/orders/o3").unwrap(),
    );
    assert!(o2 < o1 && o1 < o3, "newest first");
    assert!(row(&page, "/orders/o1").contains("£16.00"));
    assert!(
        row(&page, "/orders/o1").contains("Acme &lt;script&gt;"),
        "the customer's name, escaped"
    );
    assert!(row(&page, "/orders/o3").contains("class=\"tag bad\""), "a cancelled order is tagged");
    assert!(row(&page, "/orders/o2").contains("fulfilled"));

    let cancelled = s.page("/orders?status=cancelled").await;
    assert!(cancelled.contains("/orders/o3") && !cancelled.contains("/orders/o1"));
    let march = s.page("/orders?from=2026-03-01&to=2026-03-05").await;
    assert!(
        march.contains("/orders/o1")
            && !march.contains("/orders/o2")
            && !march.contains("/orders/o3")
    );
    assert!(march.contains("value=\"2026-03-01\""), "the range stays in the form");
    let web = s.page("/orders?channel=WEB").await;
    assert!(
        web.contains("/orders/o1") && web.contains("/orders/o3") && !web.contains("/orders/o2")
    );
    let globex = s.page("/orders?customer=a2").await;
    assert!(globex.contains("/orders/o3") && !globex.contains("/orders/o1"));
    let none = s.page("/orders?status=returned").await;
    assert!(none.contains("No orders match"));

    let first = s.page("/orders?limit=2").await;
    assert!(
        first.contains("/orders/o2")
            && first.contains("/orders/o1")
            && !first.contains("/orders/o3")
    );
    let href = next_page(&first);
    assert!(href.starts_with("/orders?limit=2&before="), "{href}");
    let second = s.page(&href).await;
    assert!(second.contains("/orders/o3") && !second.contains("/orders/o1"), "{href}");

    for bad in [
        "/orders?status=lost",
        "/orders?from=2026-13-01",
        "/orders?from=2026-03-05&to=2026-03-01",
        "/orders?customer=zz",
        "/orders?limit=201",
    ] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }

    let order = s.page("/orders/o1").await;
    assert!(order.contains("Widget") && order.contains("Gadget"));
    let widget = row(&order, ">Widget<");
    assert!(
        widget.contains(">2<") && widget.contains("£3.50") && widget.contains("£7.00"),
        "{widget}"
    );
    let gadget = row(&order, ">Gadget<");
    assert!(
        gadget.contains("£10.00") && gadget.contains("£1.00") && gadget.contains("£9.00"),
        "{gadget}"
    );
    assert!(row(&order, "Total of the lines").contains("£16.00"));
    assert_eq!(s.get("/orders/nope").await.0, 404);
}

#[tokio::test]
async fn empty_lists_say_what_to_do_next() {
    let s = spawn(Vec::new()).await;
    for (path, text) in [
        ("/customers", "No customers yet"),
        ("/orders", "No orders yet"),
        ("/products", "No products yet"),
        ("/campaigns", "No campaigns yet"),
        ("/costs", "No costs yet"),
    ] {
        let page = s.page(path).await;
        assert!(page.contains(text) && page.contains("href=\"/import\""), "{path}: {page}");
    }
}

#[tokio::test]
async fn products_stock_margin_reorder_and_movements() {
    let s = spawn(dataset()).await;
    let page = s.page("/products").await;
    // Widget: 10 opening − 2 (o1) − 1 (o2) = 7, above its level 5; margin (3.50 − 1.40) / 3.50.
    let widget = row(&page, ">Widget<");
    assert!(
        widget.contains(">7<")
            && widget.contains("60.0%")
            && widget.contains("£3.50")
            && widget.contains("W-1"),
        "{widget}"
    );
    assert!(!widget.contains("reorder"), "{widget}");
    // Gadget: 3 − 1 (o1; o3 is cancelled and moves nothing) = 2, at or below 5.
    let gadget = row(&page, ">Gadget<");
    assert!(
        gadget.contains(">2<") && gadget.contains("40.0%") && gadget.contains(">reorder<"),
        "{gadget}"
    );

    let low = s.page("/products?low=1").await;
    assert!(low.contains(">Gadget<") && !low.contains(">Widget<"));
    assert!(low.contains("checked"), "the checkbox stays ticked");
    let tools = s.page("/products?category=Tools").await;
    assert!(tools.contains(">Widget<") && !tools.contains(">Gadget<"));
    let one = s.page("/products?limit=1").await;
    let href = next_page(&one);
    assert!(s.page(&href).await.contains(">Gadget<"), "{href}");
    for bad in ["/products?low=yes", "/products?limit=-1", "/products?sort=name"] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }

    let p1 = s.page("/products/p1").await;
    let moves = slice(&p1, "id=\"moves-h\"", "</section>");
    assert!(moves.contains("sale-o1-1") && moves.contains("sale-o2-1"), "{moves}");
    assert!(moves.find("sale-o2-1").unwrap() < moves.find("sale-o1-1").unwrap(), "newest first");
    assert!(row(moves, "sale-o1-1").contains("−2"));
    assert!(p1.contains("Units sold per month") && p1.contains("<svg"));
    // March 2026: 3 units sold, in the chart's table.
    let march = row(&p1, "scope=\"row\">2026-03");
    assert!(march.contains(">3<"), "{march}");
    assert_eq!(s.get("/products/nope").await.0, 404);
}

#[tokio::test]
async fn campaigns_and_costs() {
    let s = spawn(dataset()).await;
    let page = s.page("/campaigns").await;
    assert!(page.contains("Spring &lt;b&gt;push&lt;/b&gt;") && !page.contains("<b>push"));
    // c1: costs 120 + 80, two leads, the won deal d1 (£2,000).
    let c1 = row(&page, "/campaigns/c1");
    assert!(
        c1.contains("£500.00")
            && c1.contains("£200.00")
            && c1.contains(">2<")
            && c1.contains("£2,000"),
        "{c1}"
    );
    let c2 = row(&page, "/campaigns/c2");
    assert!(c2.contains("£300.00") && c2.contains(">1<") && c2.contains("£0.00"), "{c2}");
    let events = s.page("/campaigns?channel=event").await;
    assert!(events.contains("Trade fair") && !events.contains("Spring"));
    assert_eq!(s.get("/campaigns?limit=500").await.0, 400);

    let c1 = s.page("/campaigns/c1").await;
    assert!(c1.contains("Ads &lt;em&gt;round one&lt;/em&gt;"), "the cost's note, escaped");
    let leads = slice(&c1, "id=\"leads-h\"", "</section>");
    assert!(
        row(leads, ">new<").contains(">1<") && row(leads, ">qualified<").contains(">1<"),
        "{leads}"
    );
    let facts = slice(&c1, "<dl class=\"facts\">", "</dl>");
    assert!(slice(facts, ">Left<", "</dd>").contains("£300.00"), "budget 500 − spent 200: {facts}");
    assert_eq!(s.get("/campaigns/nope").await.0, 404);

    let costs = s.page("/costs").await;
    let total = |html: &str| slice(html, "id=\"costs-total\"", "</strong>").to_string();
    assert!(total(&costs).contains("£1,200"), "{}", total(&costs));
    let dates: Vec<usize> = ["20 Feb 2026", "10 Feb 2026", "10 Jan 2026"]
        .iter()
        .map(|d| costs.find(d).unwrap())
        .collect();
    assert!(dates[0] < dates[1] && dates[1] < dates[2], "newest first");
    assert!(total(&s.page("/costs?category=marketing").await).contains("£200.00"));
    assert!(total(&s.page("/costs?campaign=c1").await).contains("£200.00"));
    let feb = s.page("/costs?from=2026-02-01").await;
    assert!(total(&feb).contains("£1,080") && !feb.contains("10 Jan 2026"));
    assert!(total(&s.page("/costs?to=2026-01-31").await).contains("£120.00"));
    let none = s.page("/costs?category=sales").await;
    assert!(none.contains("No costs match") && total(&none).contains("£0.00"));
    let one = s.page("/costs?limit=1").await;
    let href = next_page(&one);
    assert!(s.page(&href).await.contains("10 Feb 2026"), "{href}");
    for bad in [
        "/costs?category=food",
        "/costs?campaign=zz",
        "/costs?from=yesterday",
        "/costs?before=2026-02-20",
    ] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }
}

/// Issue 24.7: the customer list sorts by revenue (the catalog's revenue by account), highest
/// first, pages through, and keeps its filters.
#[tokio::test]
async fn issue_24_customers_sort_by_revenue() {
    use Entity::*;
    let mut records = dataset();
    records.extend([
        rec(
            Accounts,
            "id=a3;name=Initech;segment=smb;region=north;owner_id=u1;created_at=2026-01-01",
        ),
        rec(
            Accounts,
            "id=a4;name=Umbrella;segment=smb;region=south;owner_id=u2;created_at=2026-01-02",
        ),
        rec(
            Orders,
            "id=o4;account_id=a3;placed_at=2026-03-05T10:00:00Z;status=placed;total=100.00",
        ),
        rec(Orders, "id=o5;account_id=a4;placed_at=2026-03-06T10:00:00Z;status=placed;total=40.00"),
        rec(
            Orders,
            "id=o6;account_id=a4;placed_at=2026-03-07T10:00:00Z;status=returned;total=500.00",
        ),
    ]);
    let s = spawn(records).await;
    // Initech £100.00, Umbrella £40.00 (its returned order does not count), Acme £16.00 + £3.50;
    // Globex has no counted order, so it has no place in this order.
    let page = s.page("/customers?sort=revenue").await;
    let at = |name: &str| page.find(name).unwrap_or_else(|| panic!("{name} listed: {page}"));
    assert!(at("Initech") < at("Umbrella") && at("Umbrella") < at("Acme"), "{page}");
    assert!(!page.contains("Globex"), "{page}");
    assert!(row(&page, "Umbrella").contains("£40.00"));
    assert!(page.contains("<option value=\"revenue\" selected"), "the order stays in the form");
    // Newest first is still the default: Globex (February) before Acme, Umbrella, Initech.
    let newest = s.page("/customers").await;
    assert!(newest.find("Globex").unwrap() < newest.find("Initech").unwrap());
    // Two per page, then the rest.
    let first = s.page("/customers?sort=revenue&limit=2").await;
    assert!(first.contains("Initech") && first.contains("Umbrella") && !first.contains("Acme"));
    let href = next_page(&first);
    assert_eq!(href, "/customers?sort=revenue&limit=2&skip=2");
    let second = s.page(&href).await;
    assert!(second.contains("Acme") && !second.contains("Initech"), "{second}");
    // Filters apply: the south region's customers by revenue.
    let south = s.page("/customers?sort=revenue&region=south").await;
    assert!(south.contains("Umbrella") && !south.contains("Initech") && !south.contains("Acme"));
    for bad in ["/customers?sort=size", "/customers?sort=revenue&skip=-1"] {
        assert_eq!(s.get(bad).await.0, 400, "{bad}");
    }
}
