//! The pages of the records people work in — a deal, a lead, a contact — over a small hand-made
//! dataset through the real server: fields, next step, related records and the timeline (stage
//! changes, activities, notes, e-mail events, audit entries), and who may see them.

use std::sync::Arc;

use traction_domain::settings::Key;
use traction_domain::{Entity, Record, Value};
use traction_server::{AppState, Clock, Config};
use traction_store::{Actor, Backend};

use super::records::{NOW, rec};

struct Server {
    base: String,
    admin: reqwest::Client,
    /// Bob, a rep of another team than Ann's.
    rep: reqwest::Client,
    /// Cy, a rep of Ann's team: reads her records, changes none.
    teammate: reqwest::Client,
    viewer: reqwest::Client,
    store: Arc<dyn Backend>,
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
    async fn get_as(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let res = client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    async fn post_as(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", traction_web::encode(k), traction_web::encode(v)))
            .collect();
        let res = client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map_or(String::new(), |l| l.to_str().unwrap().to_string());
        (status, location, res.text().await.unwrap())
    }

    /// A client signed in as `user` (with an API token), that does not follow redirects.
    fn client(&self, user: &str) -> reqwest::Client {
        let cli = Actor { user: "cli".into(), at: Some(NOW) };
        let (_, token) =
            traction_server::auth::api::issue_token(&*self.store, user, "tests", NOW, &cli)
                .unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn get(&self, entity: Entity, id: &str) -> Option<Record> {
        self.store.get(entity, &[Value::Text(id.into())]).unwrap()
    }

    fn count(&self, entity: Entity) -> usize {
        let mut n = 0;
        self.store
            .scan(entity, &mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        n
    }

    /// A page the admin reads, which must answer 200.
    async fn page(&self, path: &str) -> String {
        let (status, body) = self.get_as(&self.admin, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

fn dataset() -> Vec<Record> {
    use Entity::*;
    vec![
        rec(Teams, "id=t1;name=North"),
        rec(Users, "id=u1;name=Ann Owner;team_id=t1;role=rep"),
        rec(Teams, "id=t2;name=South"),
        // A rep reads their team's records: Bob, in another team, does not read Ann's.
        rec(Users, "id=u2;name=Bob Seller;team_id=t2;role=rep"),
        rec(Users, "id=u3;name=Cy Teammate;team_id=t1;role=rep"),
        rec(Users, "id=u4;name=Vi Viewer;team_id=t1;role=viewer"),
        rec(Accounts, "id=a1;name=Acme Ltd;owner_id=u1;created_at=2026-01-05"),
        rec(
            Contacts,
            "id=ct1;name=Carol Contact;email=carol@example.com;phone=+44 1;account_id=a1;owner_id=u1;created_at=2026-01-06",
        ),
        rec(Pipelines, "id=pl;name=Sales"),
        rec(Stages, "id=s1;pipeline_id=pl;name=Talking;position=1"),
        rec(Stages, "id=s2;pipeline_id=pl;name=Proposal;position=2"),
        rec(Stages, "id=sw;pipeline_id=pl;name=Won;position=3;kind=won"),
        rec(Stages, "id=sl;pipeline_id=pl;name=Lost;position=4;kind=lost"),
        rec(
            Deals,
            "id=d1;name=Acme renewal;pipeline_id=pl;stage_id=s2;account_id=a1;owner_id=u1;amount=2000;created_at=2026-02-01T09:00:00Z;expected_close_on=2026-03-01",
        ),
        rec(
            Deals,
            "id=d2;name=Bob's deal;pipeline_id=pl;stage_id=s1;owner_id=u2;amount=500;created_at=2026-02-02",
        ),
        rec(StageChanges, "deal_id=d1;stage_id=s1;changed_at=2026-02-01T09:00:00Z"),
        rec(StageChanges, "deal_id=d1;stage_id=s2;changed_at=2026-02-10T10:00:00Z;changed_by=u1"),
        rec(
            Activities,
            "id=act1;kind=call;occurred_at=2026-03-03T11:00:00Z;owner_id=u1;deal_id=d1;outcome=connected;subject=Pricing",
        ),
        rec(
            Activities,
            "id=act2;kind=note;occurred_at=2026-03-04T08:00:00Z;owner_id=u1;deal_id=d1;contact_id=ct1;subject=Wants a <b>discount</b>",
        ),
        // Planned (after now, 15 March 12:00): the deal's next step.
        rec(
            Activities,
            "id=act3;kind=meeting;occurred_at=2026-03-20T10:00:00Z;owner_id=u1;deal_id=d1;subject=Contract review",
        ),
        // A later planned one, which is not the next step.
        rec(
            Activities,
            "id=act4;kind=call;occurred_at=2026-03-25T10:00:00Z;owner_id=u1;deal_id=d1;subject=Later call",
        ),
        // Ann's tasks (now: 15 March 12:00): one overdue, one due this afternoon, one next
        // week, one done.
        rec(
            Activities,
            "id=t1;kind=task;occurred_at=2026-03-10T09:00:00Z;due_at=2026-03-14T09:00:00Z;owner_id=u1;deal_id=d1;subject=Send the proposal",
        ),
        rec(
            Activities,
            "id=t2;kind=task;occurred_at=2026-03-10T09:00:00Z;due_at=2026-03-15T16:00:00Z;owner_id=u1;subject=Call Carol back",
        ),
        rec(
            Activities,
            "id=t3;kind=task;occurred_at=2026-03-10T09:00:00Z;due_at=2026-03-20T09:00:00Z;owner_id=u1;subject=Next week's check",
        ),
        rec(
            Activities,
            "id=t4;kind=task;occurred_at=2026-03-10T09:00:00Z;due_at=2026-03-13T09:00:00Z;owner_id=u1;done=true;subject=Already done",
        ),
        rec(
            Leads,
            "id=l1;created_at=2026-01-12T10:00:00Z;source=web;owner_id=u1;account_id=a1;contact_id=ct1;status=converted;first_response_at=2026-01-12T10:30:00Z;qualified_at=2026-01-20T10:00:00Z;converted_at=2026-02-01T09:00:00Z;deal_id=d1",
        ),
        // Waiting since 11:00 (an hour before now).
        rec(Leads, "id=l2;created_at=2026-03-15T11:00:00Z;source=event;owner_id=u1;contact_id=ct1"),
        rec(Leads, "id=l3;created_at=2026-03-15T10:00:00Z;source=web;owner_id=u2"),
        rec(
            EmailEvents,
            "id=e1;message_id=m-77;kind=opened;occurred_at=2026-01-13T08:00:00Z;lead_id=l1;contact_id=ct1",
        ),
    ]
}

async fn spawn() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = traction_store::open(&dir.path().join("traction.db")).unwrap();
    store.set_setting(Key::Currency, None, "GBP").unwrap();
    let mut w = store.writer().unwrap();
    for (tag, r) in dataset().into_iter().enumerate() {
        w.put(tag as u64, r).unwrap();
    }
    let mut admin = rec(Entity::Users, "id=admin;name=Ada Admin;role=admin");
    admin.set("created_at", Value::Instant(NOW));
    w.put(0, admin).unwrap();
    w.commit().unwrap();
    // Ann raises the deal's amount from 2,000 to 2,500: an audited change under her name.
    let ann = Actor { user: "u1".into(), at: Some(NOW - 3_600_000_000) };
    let mut d1 = store.get(Entity::Deals, &[Value::Text("d1".into())]).unwrap().unwrap();
    d1.set("amount", Value::Int(250_000));
    let mut w = store.writer_as(Some(&ann)).unwrap();
    w.put(0, d1).unwrap();
    w.commit().unwrap();

    let cli = Actor { user: "cli".into(), at: Some(NOW) };
    let client = |user: &str| {
        let (_, token) =
            traction_server::auth::api::issue_token(&*store, user, "tests", NOW, &cli).unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let (admin, rep, teammate, viewer) =
        (client("admin"), client("u2"), client("u3"), client("u4"));
    let clock: Clock = Arc::new(|| NOW);
    let (state, stop_events) = AppState::new(store.clone(), clock, Config::default());
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
    Server { base, admin, rep, teammate, viewer, store, _dir: dir, stop: Some(stop) }
}

/// The text of the section with `id`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let from = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}: {html}"));
    let rest = &html[from..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_deal_page_has_its_fields_next_step_related_records_and_timeline() {
    let s = spawn().await;
    let page = s.page("/deals/d1").await;
    assert!(page.contains("<h1>Acme renewal</h1>"), "{page}");
    // The amount after Ann's change: £2,500 (from 1,000 up, whole units).
    assert!(page.contains("£2,500"), "{page}");
    assert!(page.contains("Proposal") && page.contains("Ann Owner"), "{page}");
    assert!(page.contains("href=\"/customers/a1\">Acme Ltd</a>"), "{page}");
    // Expected on 1 March, still open on 15 March: overdue.
    assert!(page.contains("overdue"), "{page}");
    // The next step is the earliest planned activity, not the later one.
    let next = section(&page, "next-h");
    assert!(next.contains("Meeting") && next.contains("Contract review"), "{next}");
    assert!(!next.contains("Later call"), "{next}");
    assert!(next.contains("href=\"/leads/l1\">Carol Contact · Acme Ltd</a>"), "{next}");
    assert!(next.contains("href=\"/contacts/ct1\">Carol Contact</a>"), "{next}");

    let tl = section(&page, "timeline");
    for needle in [
        "Moved to Talking",
        "Moved to Proposal</strong> by Ann Owner",
        "Call</strong> by Ann Owner · connected · Pricing",
        "Note</strong> by Ann Owner: Wants a &lt;b&gt;discount&lt;/b&gt;",
        "E-mail opened</strong> · message m-77",
        "Changed</strong> by Ann Owner: amount: 2000",
        "Created</strong> by the system",
    ] {
        assert!(tl.contains(needle), "{needle:?} missing from {tl}");
    }
    assert!(!tl.contains("<b>discount"), "user text is escaped");
    // Newest first: the planned meeting (20 Mar) before the call (3 Mar) before the stage
    // change (10 Feb).
    let (meeting, call, moved) = (
        tl.find("Contract review").unwrap(),
        tl.find("Pricing").unwrap(),
        tl.find("Moved to Proposal").unwrap(),
    );
    assert!(meeting < call && call < moved, "{tl}");
    assert!(tl.contains("planned"), "a future activity is marked planned: {tl}");
}

#[tokio::test]
async fn a_lead_page_shows_who_it_is_how_fast_it_was_answered_and_what_is_next() {
    let s = spawn().await;
    let page = s.page("/leads/l1").await;
    assert!(page.contains("<h1>Carol Contact · Acme Ltd</h1>"), "{page}");
    // Came in 10:00, answered 10:30.
    assert!(page.contains("after 30 min"), "{page}");
    assert!(page.contains("href=\"/deals/d1\">Acme renewal</a>"), "{page}");
    assert!(section(&page, "timeline").contains("E-mail opened"), "{page}");

    // l2 came in at 11:00 and is unanswered at 12:00: its next step is to answer it.
    let page = s.page("/leads/l2").await;
    let next = section(&page, "next-h");
    assert!(next.contains("Answer it") && next.contains("60 min"), "{next}");
    assert!(next.contains("href=\"/log?lead_id=l2\""), "{next}");
}

#[tokio::test]
async fn a_contact_page_lists_their_leads_deals_and_timeline() {
    let s = spawn().await;
    let page = s.page("/contacts/ct1").await;
    assert!(page.contains("<h1>Carol Contact</h1>"), "{page}");
    assert!(page.contains("mailto:carol@example.com"), "{page}");
    assert!(page.contains("href=\"/leads/l1\"") && page.contains("href=\"/leads/l2\""), "{page}");
    assert!(page.contains("href=\"/deals/d1\">Acme renewal</a>"), "{page}");
    let tl = section(&page, "timeline");
    assert!(tl.contains("Note</strong> by Ann Owner") && tl.contains("E-mail opened"), "{tl}");
    // Logging from a contact's page presets the person.
    let log = s.page("/log?contact_id=ct1").await;
    assert!(log.contains("name=\"contact_id\" value=\"ct1\""), "{log}");
}

#[tokio::test]
async fn names_on_the_board_and_the_leads_list_are_links() {
    let s = spawn().await;
    let board = s.page("/pipeline").await;
    assert!(board.contains("href=\"/deals/d1\">Acme renewal</a>"), "{board}");
    let leads = s.page("/leads").await;
    // The waiting list names the person and company, not the id; l3 has neither.
    assert!(leads.contains("href=\"/leads/l2\">Carol Contact</a>"), "{leads}");
    assert!(leads.contains("href=\"/leads/l3\">Lead l3</a>"), "{leads}");
    // A click on an owner or a source filters the list.
    assert!(leads.contains("href=\"/leads?owner=u1\""), "{leads}");
    assert!(leads.contains("href=\"/leads?source=event\""), "{leads}");
    let anns = s.page("/leads?owner=u1").await;
    assert!(anns.contains("/leads/l2\"") && !anns.contains("/leads/l3\""), "{anns}");
}

#[tokio::test]
async fn record_pages_answer_unknown_records_and_other_reps_records_as_not_found() {
    let s = spawn().await;
    for path in ["/deals/nope", "/leads/nope", "/contacts/nope"] {
        let (status, _) = s.get_as(&s.admin, path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = s.get_as(&s.admin, "/deals/d1?x=1").await;
    assert_eq!(status, 400, "an unknown parameter is refused");
    // Bob (a rep) sees his own deal and lead, not Ann's.
    assert_eq!(s.get_as(&s.rep, "/deals/d2").await.0, 200);
    assert_eq!(s.get_as(&s.rep, "/leads/l3").await.0, 200);
    assert_eq!(s.get_as(&s.rep, "/deals/d1").await.0, 404);
    assert_eq!(s.get_as(&s.rep, "/leads/l1").await.0, 404);
    assert_eq!(s.get_as(&s.rep, "/contacts/ct1").await.0, 404);
}

/// The deal form's fields for a new deal of Ann's, with `amount`.
fn new_deal(amount: &str) -> Vec<(&str, &str)> {
    vec![
        ("_mode", "create"),
        ("name", "Globex pilot"),
        ("pipeline_id", "pl"),
        ("stage_id", "s1"),
        ("owner_id", "u1"),
        ("amount", amount),
        ("expected_close_on", "2026-04-30"),
    ]
}

#[tokio::test]
async fn a_deal_created_in_the_form_is_stored_audited_and_shown() {
    let s = spawn().await;
    let form = s.page("/records/deals/new").await;
    // Schema-driven: the stage is chosen by pipeline › name, the owner among people, the
    // derived status is not offered.
    assert!(form.contains("Sales › Proposal"), "{form}");
    assert!(form.contains("name=\"amount\""), "{form}");
    assert!(!form.contains("name=\"status\""), "{form}");
    let before = s.count(Entity::Deals);
    let (status, location, body) =
        s.post_as(&s.admin, "/records/deals", &new_deal("1234.50")).await;
    assert_eq!(status, 303, "{body}");
    let id = location.strip_prefix("/deals/").expect("back to the deal's page").to_string();
    assert_eq!(s.count(Entity::Deals), before + 1);
    let deal = s.get(Entity::Deals, &id).unwrap();
    // £1,234.50 is 123,450 pence; an open stage makes it open.
    assert_eq!(deal.get("amount"), &Value::Int(123_450));
    assert_eq!(deal.get("status").as_text(), Some("open"));
    assert_eq!(deal.get("created_at"), &Value::Instant(NOW));
    let page = s.page(&location).await;
    assert!(page.contains("<h1>Globex pilot</h1>") && page.contains("£1,234"), "{page}");
    assert!(section(&page, "timeline").contains("Created</strong> by Ada Admin"), "{page}");
}

#[tokio::test]
async fn a_bad_form_stores_nothing_and_shows_each_problem_at_its_field_with_the_input_kept() {
    let s = spawn().await;
    let before = s.count(Entity::Deals);
    let mut fields = new_deal("12,x");
    fields.retain(|(k, _)| *k != "stage_id");
    fields.push(("expected_close_on", "30/04/2026"));
    fields.retain(|(k, v)| !(*k == "expected_close_on" && *v == "2026-04-30"));
    let (status, _, page) = s.post_as(&s.admin, "/records/deals", &fields).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(s.count(Entity::Deals), before, "nothing stored");
    let at = |field: &str| -> String {
        let from = page.find(&format!("data-for=\"{field}\"")).unwrap_or_else(|| panic!("{field}"));
        let rest = &page[from..];
        rest[..rest.find("</p>").unwrap()].to_string()
    };
    assert!(at("amount").contains("12,x"), "{}", at("amount"));
    assert!(at("stage_id").contains("required"), "{}", at("stage_id"));
    assert!(at("expected_close_on").contains("30/04/2026"), "{}", at("expected_close_on"));
    // What was typed is kept.
    assert!(page.contains("value=\"12,x\"") && page.contains("value=\"Globex pilot\""), "{page}");
}

#[tokio::test]
async fn editing_changes_only_what_was_changed() {
    let s = spawn().await;
    let form = s.page("/records/deals/d1/edit").await;
    assert!(form.contains("value=\"2500.00\""), "the amount in pounds: {form}");
    assert!(form.contains("value=\"2026-02-01 09:00:00\""), "created_at in local time: {form}");
    let before = s.get(Entity::Deals, "d1").unwrap();
    // The form as the browser sends it back, with the name changed.
    let mut fields: Vec<(String, String)> = Vec::new();
    for f in Entity::Deals.fields() {
        if f.name == "status" {
            continue;
        }
        let marker = format!("name=\"{}\"", f.name);
        let Some(at) = form.find(&marker) else { continue };
        let tag_start = form[..at].rfind('<').unwrap();
        let tag = &form[tag_start..];
        let value = if tag.starts_with("<select") {
            let close = tag.find("</select>").unwrap();
            let inner = &tag[..close];
            inner.find("selected").map_or(String::new(), |sel| {
                let opt = inner[..sel].rfind("value=\"").unwrap() + 7;
                inner[opt..opt + inner[opt..].find('"').unwrap()].to_string()
            })
        } else {
            let v = tag.find("value=\"").unwrap() + 7;
            tag[v..v + tag[v..].find('"').unwrap()].to_string()
        };
        let value = if f.name == "name" { "Acme renewal 2027".to_string() } else { value };
        fields.push((f.name.to_string(), value));
    }
    fields.push(("_mode".into(), "edit".into()));
    fields.push(("_id".into(), "d1".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, location, body) = s.post_as(&s.admin, "/records/deals", &pairs).await;
    assert_eq!((status, location.as_str()), (303, "/deals/d1"), "{body}");
    let after = s.get(Entity::Deals, "d1").unwrap();
    assert_eq!(after.get("name").as_text(), Some("Acme renewal 2027"));
    for f in Entity::Deals.fields().iter().filter(|f| f.name != "name") {
        assert_eq!(after.get(f.name), before.get(f.name), "{} is unchanged", f.name);
    }
    let page = s.page("/deals/d1").await;
    assert!(
        section(&page, "timeline")
            .contains("Changed</strong> by Ada Admin: name: Acme renewal → Acme renewal 2027"),
        "{page}"
    );
}

#[tokio::test]
async fn a_delete_asks_first_and_is_refused_with_the_reason_while_referred_to() {
    let s = spawn().await;
    let ask = s.page("/records/accounts/a1/delete").await;
    assert!(
        ask.contains("cannot be undone") && ask.contains("action=\"/records/accounts/a1/delete\""),
        "{ask}"
    );
    // Acme is the customer of 1 deal, 1 contact and 1 lead.
    let (status, _, page) = s.post_as(&s.admin, "/records/accounts/a1/delete", &[]).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Not deleted") && page.contains("refer to it"), "{page}");
    assert!(page.contains("1 deals") || page.contains("1 deal"), "{page}");
    assert!(s.get(Entity::Accounts, "a1").is_some());
    // An activity nothing refers to goes.
    let (status, location, _) = s.post_as(&s.admin, "/records/activities/act4/delete", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/log"));
    assert!(s.get(Entity::Activities, "act4").is_none());
}

#[tokio::test]
async fn a_refusal_says_why_and_keeps_the_input_and_a_viewer_sees_no_write_control() {
    let s = spawn().await;
    // Cy reads Ann's deal (same team) but may not change it: 403 with the reason, the form kept.
    let (status, _) = s.get_as(&s.teammate, "/deals/d1").await;
    assert_eq!(status, 200);
    let mut fields = new_deal("999");
    fields.retain(|(k, _)| *k != "_mode");
    fields.extend([("_mode", "edit"), ("_id", "d1"), ("id", "d1")]);
    let (status, _, page) = s.post_as(&s.teammate, "/records/deals", &fields).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("is not yours: a rep changes only the records they own"), "{page}");
    assert!(page.contains("value=\"999\""), "the input is kept: {page}");
    assert!(page.contains("aria-label=\"Sections\""), "with the navigation: {page}");
    assert_eq!(s.get(Entity::Deals, "d1").unwrap().get("amount"), &Value::Int(250_000));
    // Bob cannot see it at all: not found.
    let (status, _, _) = s.post_as(&s.rep, "/records/deals", &fields).await;
    assert_eq!(status, 404);

    // The admin sees the write controls; the viewer none.
    for (client, shown) in [(&s.admin, true), (&s.viewer, false)] {
        for (path, control) in [
            ("/deals/d1", "/records/deals/d1/edit"),
            ("/deals/d1", "Add note"),
            ("/leads/l1", "/records/leads/l1/delete"),
            ("/contacts/ct1", "/records/contacts/ct1/edit"),
            ("/customers/a1", "/records/accounts/a1/edit"),
            ("/pipeline", "/records/deals/new"),
            ("/leads", "/records/leads/new"),
            ("/customers", "/records/accounts/new"),
            // The board's Move and drag handle, Import and Log activity in the top bar.
            ("/pipeline", "class=\"mv\""),
            ("/pipeline", "class=\"handle\""),
            ("/pipeline", "href=\"/import\""),
            ("/pipeline", "href=\"/log\""),
        ] {
            let (status, page) = s.get_as(client, path).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(page.contains(control), shown, "{path}: {control}");
        }
    }
}

#[tokio::test]
async fn a_note_on_a_deal_is_preset_and_shows_on_its_timeline() {
    let s = spawn().await;
    let form = s.page("/records/activities/new?kind=note&deal_id=d1&back=/deals/d1").await;
    assert!(form.contains("<option value=\"note\" selected>"), "{form}");
    assert!(form.contains("value=\"d1\""), "{form}");
    // The time is now (15 March 12:00 UTC, the workspace zone) unless changed.
    assert!(form.contains("value=\"2026-03-15 12:00:00\""), "{form}");
    let (status, location, body) = s
        .post_as(
            &s.admin,
            "/records/activities",
            &[
                ("_mode", "create"),
                ("kind", "note"),
                ("occurred_at", "2026-03-15 12:00"),
                ("owner_id", "u1"),
                ("deal_id", "d1"),
                ("subject", "Budget approved"),
                ("back", "/deals/d1"),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/deals/d1"), "{body}");
    let page = s.page("/deals/d1").await;
    assert!(
        section(&page, "timeline").contains("Note</strong> by Ann Owner: Budget approved"),
        "{page}"
    );
}

#[tokio::test]
async fn a_reply_logged_in_the_page_or_the_api_clears_a_waiting_lead() {
    let s = spawn().await;
    let waiting = s.page("/leads").await;
    assert!(waiting.contains("href=\"/leads/l2\"") && waiting.contains("href=\"/leads/l3\""));
    // Ann calls l2 back from the log form (now: 12:00, an hour after it came in).
    let ann = {
        let cli = Actor { user: "cli".into(), at: Some(NOW) };
        let (_, token) =
            traction_server::auth::api::issue_token(&*s.store, "u1", "tests", NOW, &cli).unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let (status, _, body) = s
        .post_as(
            &ann,
            "/log",
            &[("kind", "call"), ("outcome", "connected"), ("owner_id", "u1"), ("lead_id", "l2")],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let l2 = s.get(Entity::Leads, "l2").unwrap();
    assert_eq!(l2.get("first_response_at"), &Value::Instant(NOW));
    assert_eq!(l2.get("status").as_text(), Some("contacted"));
    let page = s.page("/leads/l2").await;
    assert!(page.contains("after 60 min"), "answered an hour after it came in: {page}");

    // Bob e-mails l3 through the API at 11:30, 90 minutes after it came in.
    let res = s
        .rep
        .post(format!("{}/api/v1/activities", s.base))
        .json(&serde_json::json!({"id": "api-1", "kind": "email", "occurred_at": "2026-03-15T11:30:00Z", "owner_id": "u2", "lead_id": "l3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    let l3 = s.get(Entity::Leads, "l3").unwrap();
    // 2026-03-15T11:30:00Z is NOW − 30 minutes.
    assert_eq!(l3.get("first_response_at"), &Value::Instant(NOW - 30 * 60_000_000));
    assert_eq!(l3.get("status").as_text(), Some("contacted"));

    let waiting = s.page("/leads").await;
    assert!(!waiting.contains("href=\"/leads/l2\""), "l2 left the queue: {waiting}");
    assert!(!waiting.contains("href=\"/leads/l3\""), "l3 left the queue: {waiting}");
}

#[tokio::test]
async fn a_lead_is_qualified_converted_or_disqualified_in_one_step() {
    let s = spawn().await;
    let ann = s.client("u1");
    let page = s.get_as(&ann, "/leads/l2").await.1;
    for step in ["qualify", "convert", "disqualify"] {
        assert!(page.contains(&format!("action=\"/leads/l2/{step}\"")), "{step}: {page}");
    }
    // Cy reads Ann's lead, may not change it: 403 with the reason.
    let (status, _, page) = s.post_as(&s.teammate, "/leads/l2/qualify", &[]).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("is not yours"), "{page}");
    // Qualify.
    let (status, location, _) = s.post_as(&ann, "/leads/l2/qualify", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/leads/l2"));
    let l2 = s.get(Entity::Leads, "l2").unwrap();
    assert_eq!(l2.get("status").as_text(), Some("qualified"));
    assert_eq!(l2.get("qualified_at"), &Value::Instant(NOW));

    // Convert without an amount: refused at the form, nothing stored.
    let deals = s.count(Entity::Deals);
    let (status, _, page) = s.post_as(&ann, "/leads/l2/convert", &[("amount", "")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("amount is required"), "{page}");
    let (status, _, page) = s.post_as(&ann, "/leads/l2/convert", &[("amount", "15x")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("value=\"15x\""), "the input is kept: {page}");
    assert_eq!(s.count(Entity::Deals), deals);
    // Convert: the deal is created in the first open stage for the lead's owner, and linked.
    let (status, location, body) =
        s.post_as(&ann, "/leads/l2/convert", &[("amount", "1500")]).await;
    assert_eq!(status, 303, "{body}");
    let deal_id = location.strip_prefix("/deals/").unwrap().to_string();
    let deal = s.get(Entity::Deals, &deal_id).unwrap();
    assert_eq!(deal.get("amount"), &Value::Int(150_000));
    assert_eq!(deal.get("stage_id").as_text(), Some("s1"));
    assert_eq!(deal.get("owner_id").as_text(), Some("u1"));
    assert_eq!(deal.get("name").as_text(), Some("Carol Contact"));
    assert_eq!(deal.get("source").as_text(), Some("event"));
    let l2 = s.get(Entity::Leads, "l2").unwrap();
    assert_eq!(l2.get("status").as_text(), Some("converted"));
    assert_eq!(l2.get("converted_at"), &Value::Instant(NOW));
    assert_eq!(l2.get("deal_id").as_text(), Some(deal_id.as_str()));
    let page = s.page(&location).await;
    assert!(page.contains("href=\"/leads/l2\""), "the deal links its lead: {page}");
    assert!(section(&page, "timeline").contains("Moved to Talking"), "its first stage: {page}");
    // A converted lead offers no more steps.
    assert!(!s.page("/leads/l2").await.contains("action=\"/leads/l2/convert\""));

    // Bob disqualifies his lead: a reason is required.
    let (status, _, page) = s.post_as(&s.rep, "/leads/l3/disqualify", &[("reason", " ")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("say why"), "{page}");
    let (status, _, _) =
        s.post_as(&s.rep, "/leads/l3/disqualify", &[("reason", "No budget")]).await;
    assert_eq!(status, 303);
    let l3 = s.get(Entity::Leads, "l3").unwrap();
    assert_eq!(l3.get("status").as_text(), Some("disqualified"));
    assert_eq!(l3.get("disqualified_reason").as_text(), Some("no_budget"));

    // Not theirs: Ann does not see Bob's lead (404); Cy sees Ann's but may not change it (403).
    let (status, _, _) = s.post_as(&ann, "/leads/l3/qualify", &[]).await;
    assert_eq!(status, 404);
    // A step on a closed lead says why.
    let (status, _, page) = s.post_as(&ann, "/leads/l1/qualify", &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("this lead is already converted"), "{page}");
}

#[tokio::test]
async fn follow_ups_show_on_their_owners_today_page_overdue_visibly_until_done() {
    let s = spawn().await;
    let ann = s.client("u1");
    let today = s.get_as(&ann, "/today").await.1;
    let tasks = section(&today, "tasks");
    assert!(tasks.contains("2 due by the end of today · 1 overdue"), "{tasks}");
    assert!(tasks.contains("Send the proposal") && tasks.contains("Call Carol back"), "{tasks}");
    assert!(!tasks.contains("Next week") && !tasks.contains("Already done"), "{tasks}");
    // The overdue one first, marked, with the deal it is about.
    let overdue =
        &tasks[tasks.find("Send the proposal").unwrap()..tasks.find("Call Carol back").unwrap()];
    assert!(overdue.contains("overdue") && overdue.contains("href=\"/deals/d1\""), "{overdue}");
    // Bob's Today page does not list Ann's tasks.
    let bob = s.get_as(&s.rep, "/today").await.1;
    assert!(!bob.contains("Send the proposal"), "{bob}");

    // A follow-up added in the form, due later today, joins the list.
    let (status, _, body) = s
        .post_as(
            &ann,
            "/records/activities",
            &[
                ("_mode", "create"),
                ("kind", "task"),
                ("occurred_at", "2026-03-15 12:00"),
                ("due_at", "2026-03-15 17:30"),
                ("owner_id", "u1"),
                ("lead_id", "l2"),
                ("subject", "Follow up the event lead"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    // A task answers nobody: l2 is still waiting.
    assert!(s.get(Entity::Leads, "l2").unwrap().get("first_response_at").is_null());
    let tasks = s.get_as(&ann, "/today").await.1;
    assert!(section(&tasks, "tasks").contains("Follow up the event lead"), "{tasks}");
    assert!(section(&tasks, "tasks").contains("3 due by the end of today"), "{tasks}");

    // Done: it leaves the list; Bob cannot mark Ann's task done.
    let (status, _, _) = s.post_as(&s.rep, "/tasks/t1/done", &[]).await;
    assert_eq!(status, 404);
    let (status, location, _) = s.post_as(&ann, "/tasks/t1/done", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/today"));
    assert_eq!(s.get(Entity::Activities, "t1").unwrap().get("done"), &Value::Bool(true));
    let tasks = s.get_as(&ann, "/today").await.1;
    assert!(!section(&tasks, "tasks").contains("Send the proposal"), "{tasks}");
    let (status, _, _) = s.post_as(&ann, "/tasks/act1/done", &[]).await;
    assert_eq!(status, 400, "a call is not a task");
}

#[tokio::test]
async fn search_finds_records_by_the_start_of_a_name_an_email_or_an_id_within_the_read_scope() {
    let s = spawn().await;
    // Every page has the box.
    for path in ["/", "/pipeline", "/deals/d1", "/leads"] {
        assert!(s.page(path).await.contains("action=\"/search\""), "{path}");
    }
    let page = s.page("/search?q=carol%40EXAMPLE").await;
    assert!(section(&page, "found-contacts").contains("href=\"/contacts/ct1\">Carol Contact</a>"));
    // Her leads come with her.
    assert!(section(&page, "found-leads").contains("href=\"/leads/l1\""), "{page}");
    // A company brings its deals, contacts and leads; any case.
    let page = s.page("/search?q=aCmE").await;
    assert!(section(&page, "found-customers").contains("href=\"/customers/a1\">Acme Ltd</a>"));
    assert!(section(&page, "found-deals").contains("href=\"/deals/d1\">Acme renewal</a>"));
    assert!(section(&page, "found-contacts").contains("/contacts/ct1"));
    // By id.
    let page = s.page("/search?q=d2").await;
    assert!(section(&page, "found-deals").contains("href=\"/deals/d2\""), "{page}");
    // Only the start matches: "renewal" is inside a name, not at its start.
    let page = s.page("/search?q=renewal").await;
    assert!(page.contains("0 found") && !page.contains("found-deals"), "{page}");
    // Bob, in another team, does not find Ann's records.
    let (_, page) = s.get_as(&s.rep, "/search?q=acme").await;
    assert!(page.contains("0 found"), "{page}");
    let (_, page) = s.get_as(&s.rep, "/search?q=bob").await;
    assert!(section(&page, "found-deals").contains("/deals/d2"), "his own deal: {page}");
    // Bad requests.
    assert_eq!(s.get_as(&s.admin, &format!("/search?q={}", "x".repeat(201))).await.0, 400);
    assert_eq!(s.get_as(&s.admin, "/search?q=a&x=1").await.0, 400);
}

#[tokio::test]
async fn an_admin_builds_a_pipeline_with_its_stages_in_one_form() {
    let s = spawn().await;
    assert!(s.page("/pipeline").await.contains("href=\"/pipelines/new\""));
    let form = s.page("/pipelines/new").await;
    assert!(form.contains("name=\"stages\""), "{form}");
    let fields = [
        ("name", "Renewals"),
        ("stages", "Due | 0.2\r\n\r\nTalking\r\nSigned off | 0.9"),
        ("won", "Renewed"),
        ("lost", "Churned"),
    ];
    // A rep may not: only an admin changes pipelines.
    let (status, _, page) = s.post_as(&s.rep, "/pipelines", &fields).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("value=\"Renewals\""), "the input is kept: {page}");
    // A bad chance: nothing stored, the line named.
    let pipelines = s.count(Entity::Pipelines);
    let (status, _, page) =
        s.post_as(&s.admin, "/pipelines", &[("name", "X"), ("stages", "A | 1.5")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("line 1: &quot;1.5&quot; is not a chance from 0 to 1"), "{page}");
    assert_eq!(s.count(Entity::Pipelines), pipelines);

    let (status, location, body) = s.post_as(&s.admin, "/pipelines", &fields).await;
    assert_eq!(status, 303, "{body}");
    let id = location.strip_prefix("/pipeline?pipeline=").unwrap().to_string();
    assert_eq!(s.get(Entity::Pipelines, &id).unwrap().get("name").as_text(), Some("Renewals"));
    let mut stages: Vec<(i64, String, String, Value)> = Vec::new();
    s.store
        .scan(Entity::Stages, &mut |r| {
            if r.get("pipeline_id").as_text() == Some(id.as_str()) {
                stages.push((
                    r.get("position").as_int().unwrap(),
                    r.get("name").as_text().unwrap().to_string(),
                    r.get("kind").as_text().unwrap().to_string(),
                    r.get("probability").clone(),
                ));
            }
            Ok(())
        })
        .unwrap();
    stages.sort_by_key(|s| s.0);
    let expected = [
        (1, "Due", "open", Value::Real(0.2)),
        (2, "Talking", "open", Value::Null),
        (3, "Signed off", "open", Value::Real(0.9)),
        (4, "Renewed", "won", Value::Null),
        (5, "Churned", "lost", Value::Null),
    ];
    assert_eq!(stages.len(), expected.len(), "{stages:?}");
    for (got, want) in stages.iter().zip(expected) {
        assert_eq!(
            (got.0, got.1.as_str(), got.2.as_str(), &got.3),
            (want.0, want.1, want.2, &want.3)
        );
    }
    let board = s.page(&location).await;
    assert!(board.contains("Signed off") && board.contains("Churned"), "{board}");
}

#[tokio::test]
async fn an_admin_adds_and_disables_people_and_teams_in_the_form_and_nobody_else_may() {
    let s = spawn().await;
    let settings = s.page("/settings").await;
    assert!(
        settings.contains("href=\"/records/users/new\"")
            && settings.contains("href=\"/records/users/u3/edit\"")
    );
    let user = [
        ("_mode", "create"),
        ("id", "zoe"),
        ("name", "Zoe New"),
        ("role", "rep"),
        ("team_id", "t1"),
    ];
    // A rep may not.
    let (status, _, page) = s.post_as(&s.rep, "/records/users", &user).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("only an admin changes users"), "{page}");
    // A user's id is chosen, not generated.
    let (status, _, page) = s
        .post_as(
            &s.admin,
            "/records/users",
            &user[1..]
                .iter()
                .filter(|(k, _)| *k != "id")
                .copied()
                .chain([("_mode", "create")])
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("choose the id the person signs in with"), "{page}");
    let (status, location, body) = s.post_as(&s.admin, "/records/users", &user).await;
    assert_eq!((status, location.as_str()), (303, "/settings"), "{body}");
    let zoe = s.get(Entity::Users, "zoe").unwrap();
    assert_eq!(
        (zoe.get("role").as_text(), zoe.get("team_id").as_text()),
        (Some("rep"), Some("t1"))
    );
    // Disable Cy: only the active field changes.
    let (status, _, body) = s
        .post_as(
            &s.admin,
            "/records/users",
            &[("_mode", "edit"), ("_id", "u3"), ("id", "u3"), ("active", "false")],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let cy = s.get(Entity::Users, "u3").unwrap();
    assert_eq!(cy.get("active"), &Value::Bool(false));
    assert_eq!(cy.get("name").as_text(), Some("Cy Teammate"));
    // A team.
    let (status, _, body) = s
        .post_as(&s.admin, "/records/teams", &[("_mode", "create"), ("id", "t9"), ("name", "West")])
        .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(s.get(Entity::Teams, "t9").unwrap().get("name").as_text(), Some("West"));
}

/// The stage changes of deal `id`, as (stage, changed_at, changed_by), oldest first.
fn history(s: &Server, id: &str) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    s.store
        .scan(Entity::StageChanges, &mut |r| {
            if r.get("deal_id").as_text() == Some(id) {
                let stage = r.get("stage_id").as_text().unwrap().to_string();
                out.push((stage, r.get("changed_at").clone(), r.get("changed_by").clone()));
            }
            Ok(())
        })
        .unwrap();
    out.sort_by_key(|(_, at, _)| match at {
        Value::Instant(t) => *t,
        _ => i64::MIN,
    });
    out
}

// Issue 21: the deal stage-change rule lives in the store's writer, so the edit form and the
// API's writes keep it alike: a change of stage is recorded once, now, by the one who made it.
#[tokio::test]
async fn a_stage_changed_in_the_form_or_the_api_is_recorded_once_by_who_changed_it() {
    let s = spawn().await;
    let ann = s.client("u1");
    let before = history(&s, "d1").len();
    assert_eq!(before, 2, "s1 and s2 from the dataset");
    let edit = [("_mode", "edit"), ("_id", "d1"), ("id", "d1"), ("stage_id", "s1")];
    let (status, location, body) = s.post_as(&ann, "/records/deals", &edit).await;
    assert_eq!((status, location.as_str()), (303, "/deals/d1"), "{body}");
    let by_ann = Value::Text("u1".into());
    assert_eq!(
        history(&s, "d1").last().unwrap(),
        &("s1".into(), Value::Instant(NOW), by_ann.clone())
    );
    assert_eq!(history(&s, "d1").len(), before + 1);
    // Saving again without a change of stage records nothing.
    let (status, _, _) = s.post_as(&ann, "/records/deals", &edit).await;
    assert_eq!(status, 303);
    assert_eq!(history(&s, "d1").len(), before + 1);
    // The API's PATCH: the same rule.
    let res = ann
        .patch(format!("{}/api/v1/deals/d1", s.base))
        .header("content-type", "application/json")
        .body(r#"{"stage_id": "s2"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
    // The clock stands at NOW: the API's change has the same instant but another stage.
    let h = history(&s, "d1");
    assert_eq!(h.len(), before + 2);
    assert!(h.contains(&("s2".into(), Value::Instant(NOW), by_ann.clone())), "{h:?}");
    // A deal created in the form enters its stage at its creation time, by its creator.
    let new = [
        ("_mode", "create"),
        ("name", "Fresh"),
        ("pipeline_id", "pl"),
        ("stage_id", "s1"),
        ("owner_id", "u1"),
        ("amount", "100"),
    ];
    let (status, location, body) = s.post_as(&ann, "/records/deals", &new).await;
    assert_eq!(status, 303, "{body}");
    let id = location.strip_prefix("/deals/").unwrap();
    assert_eq!(history(&s, id), [("s1".to_string(), Value::Instant(NOW), by_ann)]);
}

#[tokio::test]
async fn an_account_page_has_its_timeline_next_step_notes_and_linked_deals_and_contacts() {
    let s = spawn().await;
    let ann = s.client("u1");
    // A note on the account, from its page's "Add note" (preset with account_id).
    let page = s.get_as(&ann, "/customers/a1").await.1;
    assert!(page.contains("/records/activities/new?kind=note&amp;account_id=a1"), "{page}");
    let note = [
        ("_mode", "create"),
        ("kind", "note"),
        ("account_id", "a1"),
        ("owner_id", "u1"),
        ("occurred_at", "2026-03-15 11:30"),
        ("subject", "Budget moves to April"),
    ];
    let (status, location, body) = s.post_as(&ann, "/records/activities", &note).await;
    assert_eq!((status, location.as_str()), (303, "/customers/a1"), "{body}");
    let page = s.get_as(&ann, "/customers/a1").await.1;
    assert!(page.contains("href=\"/deals/d1\""), "the deal is a link: {page}");
    assert!(page.contains("href=\"/contacts/ct1\""), "the contact is a link: {page}");
    let timeline = section(&page, "timeline");
    assert!(timeline.contains("Note</strong> by Ann Owner: Budget moves to April"), "{timeline}");
    // The stage changes of its deals (d1 entered Talking, then Proposal, by Ann).
    assert!(
        timeline.contains("Acme renewal</a> entered <strong>Proposal</strong> · Ann Owner"),
        "{timeline}"
    );
    assert!(timeline.contains("Acme renewal</a> entered <strong>Talking</strong>"), "{timeline}");
    // The e-mails of its contacts.
    assert!(timeline.contains("message m-77"), "{timeline}");
    // Nothing planned with the account itself yet.
    assert!(page.contains("Nothing planned."), "{page}");
}

#[tokio::test]
async fn the_deal_list_filters_by_clicking_and_keeps_to_the_read_scope() {
    let s = spawn().await;
    let page = s.page("/deals").await;
    assert!(page.contains("href=\"/deals/d1\"") && page.contains("href=\"/deals/d2\""), "{page}");
    // Each owner, stage, status and source is a link that filters.
    for link in ["/deals?stage=s2", "/deals?owner=u2", "/deals?status=open"] {
        assert!(page.contains(&format!("href=\"{link}\"")), "{link}: {page}");
    }
    let only = |page: &str, want: &[&str]| {
        for id in ["d1", "d2"] {
            assert_eq!(
                page.contains(&format!("href=\"/deals/{id}\"")),
                want.contains(&id),
                "{id}: {page}"
            );
        }
    };
    only(&s.page("/deals?stage=s2").await, &["d1"]);
    only(&s.page("/deals?owner=u2").await, &["d2"]);
    // Filters add up; a chip removes one.
    let both = s.page("/deals?owner=u2&status=open").await;
    only(&both, &["d2"]);
    assert!(both.contains("href=\"/deals?status=open\""), "removing the owner: {both}");
    let none = s.page("/deals?owner=u1&stage=s1").await;
    only(&none, &[]);
    assert!(none.contains("No deals match these filters"), "{none}");
    // A date range of created days, both included: d2 was created on 2 February, d1 on the 1st.
    only(&s.page("/deals?from=2026-02-02&to=2026-02-02").await, &["d2"]);
    only(&s.page("/deals?from=2026-02-01&to=2026-02-01").await, &["d1"]);
    only(&s.page("/deals?to=2026-02-01").await, &["d1"]);
    // Quick ranges are links (now is 15 March 2026).
    assert!(page.contains("href=\"/deals?from=2026-03-01&amp;to=2026-03-15\""), "{page}");
    // Bad filters say what is wrong.
    for bad in
        ["/deals?status=maybe", "/deals?owner=nobody", "/deals?from=2026-03-02&to=2026-03-01"]
    {
        let (status, body) = s.get_as(&s.admin, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // Bob reads only his own deals.
    only(&s.get_as(&s.rep, "/deals").await.1, &["d2"]);
    // Other lists filter by clicking too.
    let orders = s.page("/orders").await;
    assert_eq!(s.get_as(&s.admin, "/orders?status=fulfilled").await.0, 200, "{orders}");
}

#[tokio::test]
async fn saved_views_are_named_listed_opened_and_deleted_by_their_user_only() {
    let s = spawn().await;
    let ann = s.client("u1");
    let list = s.get_as(&ann, "/deals?owner=u1").await.1;
    assert!(list.contains("action=\"/views\""), "a list offers to save its view: {list}");
    assert!(list.contains("name=\"path\" value=\"/deals?owner=u1\""), "{list}");
    let (status, location, _) =
        s.post_as(&ann, "/views", &[("name", "My deals"), ("path", "/deals?owner=u1")]).await;
    assert_eq!((status, location.as_str()), (303, "/deals?owner=u1"));
    let views = s.get_as(&ann, "/views").await.1;
    assert!(views.contains("href=\"/deals?owner=u1\">My deals</a>"), "{views}");
    // Bob sees none of Ann's views and cannot delete them.
    let bobs = s.get_as(&s.rep, "/views").await.1;
    assert!(!bobs.contains("My deals"), "{bobs}");
    let id = s.store.saved_views("u1").unwrap()[0].id;
    let (status, _, _) = s.post_as(&s.rep, &format!("/views/{id}/delete"), &[]).await;
    assert_eq!(status, 404);
    // Bad input: no name, or a page that is not a list, is refused and saves nothing.
    let (status, _, page) = s.post_as(&ann, "/views", &[("name", " "), ("path", "/deals")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("give the view a name"), "{page}");
    let (status, _, _) =
        s.post_as(&ann, "/views", &[("name", "x"), ("path", "https://evil.example/deals")]).await;
    assert_eq!(status, 400);
    let (status, _, _) = s.post_as(&ann, "/views", &[("name", "x"), ("path", "/settings")]).await;
    assert_eq!(status, 400);
    assert_eq!(s.store.saved_views("u1").unwrap().len(), 1);
    // A viewer keeps views of their own too (they change no data).
    let (status, _, body) =
        s.post_as(&s.viewer, "/views", &[("name", "Team deals"), ("path", "/deals")]).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(s.store.saved_views("u4").unwrap().len(), 1);
    // Ann deletes hers.
    let (status, location, _) = s.post_as(&ann, &format!("/views/{id}/delete"), &[]).await;
    assert_eq!((status, location.as_str()), (303, "/views"));
    assert!(s.store.saved_views("u1").unwrap().is_empty());
}

// Issue 21 point 5: an admin invites a person with a one-time sign-in link, or sets a password.
#[tokio::test]
async fn an_invitation_link_signs_its_person_in_once_to_set_a_password() {
    let s = spawn().await;
    let settings = s.page("/settings").await;
    assert!(settings.contains("href=\"/settings/users/u3/sign-in\""), "{settings}");
    // Nobody but an admin invites or sets passwords; a rep does not even see the link.
    let ann = s.client("u1");
    assert!(!s.get_as(&ann, "/settings").await.1.contains("/sign-in\""));
    let (status, _, page) = s.post_as(&ann, "/settings/users/u3/invite", &[]).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("only an admin invites people"), "{page}");
    // The admin makes a link: shown once, whole.
    let (status, _, page) = s.post_as(&s.admin, "/settings/users/u3/invite", &[]).await;
    assert_eq!(status, 200, "{page}");
    let at = page.find("/welcome/").expect("a link");
    let path: String = page[at..].chars().take_while(|c| *c != '"' && *c != '<').collect();
    let anonymous =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!("{}{path}", s.base);
    let res = anonymous.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Welcome, Cy Teammate"));
    let post = |fields: &'static str| {
        anonymous
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(fields)
            .send()
    };
    // A bad password is refused and keeps the link usable.
    let res = post("password=short&confirm=short").await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("too short"));
    let res = post("password=a+long+enough+one&confirm=another+long+one").await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(s.store.password_hash("u3").unwrap().is_none());
    // The right one: the password is set and the person is signed in (a session cookie).
    let res = post("password=a+long+enough+one&confirm=a+long+enough+one").await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("traction_session="), "{cookie}");
    let hash = s.store.password_hash("u3").unwrap().unwrap();
    assert!(traction_server::auth::secret::verify_password("a long enough one", &hash));
    let session = cookie.split(';').next().unwrap().to_string();
    let res =
        anonymous.get(format!("{}/today", s.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "signed in by the link");
    // Used once: the link is gone.
    assert_eq!(anonymous.get(&url).send().await.unwrap().status().as_u16(), 410);
    assert_eq!(
        post("password=a+long+enough+one&confirm=a+long+enough+one")
            .await
            .unwrap()
            .status()
            .as_u16(),
        410
    );
    // A made-up link is no better.
    let res = anonymous.get(format!("{}/welcome/made-up", s.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 410);

    // Setting a password: checked like the command line's, then stored.
    let (status, _, page) = s
        .post_as(
            &s.admin,
            "/settings/users/u2/password",
            &[("password", "tiny"), ("confirm", "tiny")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("too short"), "{page}");
    let (status, location, _) = s
        .post_as(
            &s.admin,
            "/settings/users/u2/password",
            &[("password", "bob's fine password"), ("confirm", "bob's fine password")],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/settings?saved=password"));
    let hash = s.store.password_hash("u2").unwrap().unwrap();
    assert!(traction_server::auth::secret::verify_password("bob's fine password", &hash));
}

#[test]
fn an_expired_invitation_cannot_be_used() {
    let dir = tempfile::tempdir().unwrap();
    let store = traction_store::open(&dir.path().join("t.db")).unwrap();
    let mut w = store.writer().unwrap();
    w.put(0, rec(Entity::Users, "id=u1;name=Ann")).unwrap();
    w.commit().unwrap();
    let admin = Actor { user: "admin".into(), at: Some(NOW) };
    let path =
        traction_server::auth::invite::issue_sign_in_link(&*store, "u1", NOW, &admin).unwrap();
    let secret = path.strip_prefix("/welcome/").unwrap();
    let hash = traction_server::auth::secret::token_hash(secret);
    let week = traction_server::auth::invite::LINK_VALID;
    assert_eq!(store.sign_in_link(&hash, NOW + week - 1).unwrap().as_deref(), Some("u1"));
    assert_eq!(store.use_sign_in_link(&hash, NOW + week).unwrap(), None);
}

// Issue 21 point 5: an admin renames a pipeline, adds, reorders and edits stages from the board,
// with the store's checks; nobody else is offered it.
#[tokio::test]
async fn an_admin_edits_stages_from_the_board_with_the_store_checks() {
    let s = spawn().await;
    let board = s.page("/pipeline?pipeline=pl").await;
    let back = "back=%2Fpipeline%3Fpipeline%3Dpl";
    for link in [
        format!("/records/pipelines/pl/edit?{back}"),
        format!("/records/stages/new?pipeline_id=pl&amp;{back}"),
        format!("/records/stages/s2/edit?{back}"),
    ] {
        assert!(board.contains(&format!("href=\"{link}\"")), "{link}: {board}");
    }
    let ann = s.client("u1");
    assert!(!s.get_as(&ann, "/pipeline?pipeline=pl").await.1.contains("Edit stage"));
    // The edit form keeps where to go back to.
    let form = s.page("/records/stages/s2/edit?back=%2Fpipeline%3Fpipeline%3Dpl").await;
    assert!(form.contains("name=\"back\" value=\"/pipeline?pipeline=pl\""), "{form}");
    // Reorder and re-weight a stage: saved, back on the board.
    let edit = [
        ("_mode", "edit"),
        ("_id", "s2"),
        ("id", "s2"),
        ("position", "0"),
        ("probability", "0.7"),
        ("back", "/pipeline?pipeline=pl"),
    ];
    let (status, location, body) = s.post_as(&s.admin, "/records/stages", &edit).await;
    assert_eq!((status, location.as_str()), (303, "/pipeline?pipeline=pl"), "{body}");
    let s2 = s.get(Entity::Stages, "s2").unwrap();
    assert_eq!(s2.get("position").as_int(), Some(0));
    // A pipeline left without a won stage is refused, with the reason, and nothing changes.
    let edit = [("_mode", "edit"), ("_id", "sw"), ("id", "sw"), ("kind", "open")];
    let (status, _, page) = s.post_as(&s.admin, "/records/stages", &edit).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("won"), "{page}");
    assert_eq!(s.get(Entity::Stages, "sw").unwrap().get("kind").as_text(), Some("won"));
    // A rep may not.
    let (status, _, page) = s
        .post_as(
            &ann,
            "/records/stages",
            &[("_mode", "edit"), ("_id", "s1"), ("id", "s1"), ("name", "X")],
        )
        .await;
    assert_eq!(status, 403, "{page}");
}
