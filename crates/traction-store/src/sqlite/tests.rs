use jiff::tz::TimeZone;
use traction_domain::record::parse_field;
use traction_domain::settings::Key;
use traction_domain::{Currency, Entity, ParseContext, Record, Value};

use super::SqliteStore;
use crate::{AuditStore, AuthStore, Error, Operations, PutOutcome, Store, ViewStore};

fn ctx() -> ParseContext {
    ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: 1_700_000_000_000_000 }
}

/// A record from `field=value` pairs, parsed as an import would.
fn rec(entity: Entity, pairs: &str) -> Record {
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
            parse_field(f, raw, &ctx()).unwrap_or_else(|e| panic!("{}: {e}", f.name))
        })
        .collect();
    Record { entity, values }
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

fn put_all(store: &SqliteStore, records: Vec<Record>) -> Result<crate::Summary, Error> {
    let mut w = store.writer()?;
    for (idx, r) in records.into_iter().enumerate() {
        w.put(idx as u64 + 2, r)?;
    }
    w.commit()
}

fn problems(err: Error) -> Vec<String> {
    match err {
        Error::Invalid(ps) => {
            ps.into_iter().map(|p| format!("{}: {}", p.field, p.message)).collect()
        }
        other => panic!("expected invalid, got {other}"),
    }
}

fn pipeline() -> Vec<Record> {
    vec![
        rec(Entity::Teams, "id=t1;name=North"),
        rec(Entity::Users, "id=u1;name=Ann;team_id=t1"),
        rec(Entity::Pipelines, "id=p1;name=Sales"),
        rec(Entity::Stages, "id=s1;pipeline_id=p1;name=Qualified;position=1"),
        rec(Entity::Stages, "id=won;pipeline_id=p1;name=Won;position=2;kind=won"),
        rec(Entity::Stages, "id=lost;pipeline_id=p1;name=Lost;position=3;kind=lost"),
    ]
}

#[test]
fn deal_status_is_derived_from_its_stage() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    put_all(
        &store,
        vec![rec(
            Entity::Deals,
            "id=d1;pipeline_id=p1;stage_id=won;owner_id=u1;amount=10;created_at=2026-01-01;closed_at=2026-01-05",
        )],
    )
    .unwrap();
    let deal = store.get(Entity::Deals, &[Value::Text("d1".into())]).unwrap().unwrap();
    assert_eq!(deal.get("status"), &Value::Text("won".into()));
    assert_eq!(deal.get("amount"), &Value::Int(1000));
}

#[test]
fn deal_contradictions_are_refused() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let err = put_all(
        &store,
        vec![rec(
            Entity::Deals,
            "id=d1;pipeline_id=p1;stage_id=won;owner_id=u1;amount=10;created_at=2026-01-01;status=open",
        )],
    )
    .unwrap_err();
    let ps = problems(err);
    assert!(ps.iter().any(|p| p.starts_with("status: \"open\" contradicts")), "{ps:?}");
    assert!(ps.iter().any(|p| p.starts_with("closed_at: is missing: a won deal")), "{ps:?}");
    let err = put_all(
        &store,
        vec![rec(
            Entity::Deals,
            "id=d2;pipeline_id=p1;stage_id=s1;owner_id=nobody;amount=10;created_at=2026-01-05;closed_at=2026-01-01",
        )],
    )
    .unwrap_err();
    let ps = problems(err);
    assert!(ps.contains(&"owner_id: \"nobody\": no such user".to_string()), "{ps:?}");
    assert!(ps.iter().any(|p| p.contains("before created_at")), "{ps:?}");
    assert!(ps.iter().any(|p| p.contains("is set but stage \"s1\" is open")), "{ps:?}");
    assert_eq!(store.count(Entity::Deals).unwrap(), 0);
}

#[test]
fn a_pipeline_has_one_won_and_a_lost_stage() {
    let (_dir, store) = store();
    let mut records = pipeline();
    records.push(rec(Entity::Stages, "id=won2;pipeline_id=p1;name=Won again;position=4;kind=won"));
    let ps = problems(put_all(&store, records).unwrap_err());
    assert!(ps.iter().any(|p| p.contains("has 2 won stages")), "{ps:?}");
    assert_eq!(store.count(Entity::Stages).unwrap(), 0, "nothing is stored");
    // A pipeline without stages is fine; with stages but no lost one it is not.
    put_all(&store, vec![rec(Entity::Pipelines, "id=p2;name=Empty")]).unwrap();
    let ps = problems(
        put_all(
            &store,
            vec![rec(Entity::Stages, "id=x;pipeline_id=p2;name=W;position=1;kind=won")],
        )
        .unwrap_err(),
    );
    assert!(ps.iter().any(|p| p.contains("no lost stage")), "{ps:?}");
}

#[test]
fn teams_may_refer_forward_but_not_in_a_cycle() {
    let (_dir, store) = store();
    put_all(
        &store,
        vec![rec(Entity::Teams, "id=a;name=A;parent_id=b"), rec(Entity::Teams, "id=b;name=B")],
    )
    .unwrap();
    let ps =
        problems(put_all(&store, vec![rec(Entity::Teams, "id=b;name=B;parent_id=a")]).unwrap_err());
    assert!(ps.iter().any(|p| p.contains("cycle")), "{ps:?}");
    let ps = problems(
        put_all(&store, vec![rec(Entity::Teams, "id=c;name=C;parent_id=zz")]).unwrap_err(),
    );
    assert_eq!(ps, vec!["parent_id: \"zz\": no such team"]);
}

#[test]
fn upserts_report_what_changed() {
    let (_dir, store) = store();
    let s = put_all(&store, pipeline()).unwrap();
    assert_eq!((s.created, s.updated, s.unchanged), (6, 0, 0));
    let s = put_all(&store, pipeline()).unwrap();
    assert_eq!((s.created, s.updated, s.unchanged), (0, 0, 6));
    let mut w = store.writer().unwrap();
    let out = w.put(2, rec(Entity::Teams, "id=t1;name=North team")).unwrap();
    assert_eq!(out, PutOutcome::Updated);
    w.commit().unwrap();
}

fn shop() -> Vec<Record> {
    vec![
        rec(Entity::Accounts, "id=a1;name=Bakery;created_at=2026-01-01"),
        rec(Entity::Products, "id=p1;name=Bread;unit_price=3.50;opening_stock=10"),
    ]
}

#[test]
fn order_totals_are_checked_against_lines_and_lines_move_stock() {
    let (_dir, store) = store();
    put_all(&store, shop()).unwrap();
    // The order comes before its lines, with a total that the lines must match.
    put_all(
        &store,
        vec![rec(Entity::Orders, "id=o1;account_id=a1;placed_at=2026-02-01;total=7.00")],
    )
    .unwrap();
    let ps = problems(
        put_all(
            &store,
            vec![rec(
                Entity::OrderLines,
                "order_id=o1;line=1;product_id=p1;quantity=3;unit_price=3.50",
            )],
        )
        .unwrap_err(),
    );
    assert!(ps[0].contains("has total 7.00 but its lines add up to 10.50"), "{ps:?}");
    put_all(
        &store,
        vec![rec(
            Entity::OrderLines,
            "order_id=o1;line=1;product_id=p1;quantity=2;unit_price=3.50",
        )],
    )
    .unwrap();
    let movement =
        store.get(Entity::InventoryMovements, &[Value::Text("sale-o1-1".into())]).unwrap();
    let movement = movement.expect("a sale movement");
    assert_eq!(movement.get("delta"), &Value::Int(-2));
    assert_eq!(movement.get("reason"), &Value::Text("sale".into()));
    // Cancelling the order takes its sale movement away.
    put_all(
        &store,
        vec![rec(
            Entity::Orders,
            "id=o1;account_id=a1;placed_at=2026-02-01;total=7.00;status=cancelled",
        )],
    )
    .unwrap();
    assert_eq!(store.count(Entity::InventoryMovements).unwrap(), 0);
}

#[test]
fn deletes_are_refused_while_referred_to() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let mut w = store.writer().unwrap();
    let err = w.delete(Entity::Pipelines, &[Value::Text("p1".into())]).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert!(err.to_string().contains("3 stages (by pipeline_id)"), "{err}");
    drop(w);
    let mut w = store.writer().unwrap();
    let err = w.delete(Entity::Teams, &[Value::Text("t1".into())]).unwrap_err();
    assert!(err.to_string().contains("1 users (by team_id)"), "{err}");
    w.delete(Entity::Users, &[Value::Text("u1".into())]).unwrap();
    w.delete(Entity::Teams, &[Value::Text("t1".into())]).unwrap();
    assert!(matches!(w.delete(Entity::Teams, &[Value::Text("t1".into())]), Err(Error::NotFound)));
    w.commit().unwrap();
    assert_eq!(store.count(Entity::Users).unwrap(), 0);
}

#[test]
fn settings_have_defaults_and_team_overrides() {
    let (_dir, store) = store();
    assert_eq!(store.setting(Key::WorkDays, None).unwrap().value, "mon,tue,wed,thu,fri");
    put_all(
        &store,
        vec![
            rec(Entity::Teams, "id=shop;name=Shop"),
            rec(Entity::Teams, "id=sat;name=Sat;parent_id=shop"),
        ],
    )
    .unwrap();
    store.set_setting(Key::WorkDays, Some("shop"), "tue,wed,thu,fri,sat").unwrap();
    let inherited = store.setting(Key::WorkDays, Some("sat")).unwrap();
    assert_eq!(inherited.value, "tue,wed,thu,fri,sat");
    assert_eq!(inherited.source.as_deref(), Some("shop"));
    assert!(store.set_setting(Key::Timezone, Some("shop"), "UTC").is_err());
    assert!(store.set_setting(Key::WorkDays, Some("nope"), "mon").is_err());
    store.set_setting(Key::Timezone, None, "Europe/London").unwrap();
    assert_eq!(store.workspace().unwrap().zone_name, "Europe/London");
}

#[test]
fn currency_decimals_cannot_change_under_stored_amounts() {
    let (_dir, store) = store();
    store.set_setting(Key::Currency, None, "eur").unwrap();
    put_all(&store, shop()).unwrap();
    let err = store.set_setting(Key::Currency, None, "JPY").unwrap_err();
    assert!(err.to_string().contains("set the currency before importing"), "{err}");
    // Issue 24.5: the same decimals do not make a change of currency harmless: GBP amounts
    // relabelled as EUR would be wrong by the exchange rate. Refused, and nothing changes.
    let err = store.set_setting(Key::Currency, None, "GBP").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("amounts are stored in EUR"), "{message}");
    assert!(message.contains("would relabel them without converting"), "{message}");
    assert_eq!(store.workspace().unwrap().currency.code(), "EUR");
    // Setting the same currency again is no change, and allowed.
    store.set_setting(Key::Currency, None, "EUR").unwrap();
}

#[test]
fn the_currency_can_change_while_no_amount_is_stored() {
    let (_dir, store) = store();
    store.set_setting(Key::Currency, None, "GBP").unwrap();
    store.set_setting(Key::Currency, None, "JPY").unwrap();
    assert_eq!(store.workspace().unwrap().currency.code(), "JPY");
}

#[test]
fn an_older_database_upgrades_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::migrate_to(&mut conn, 1).unwrap();
        conn.execute("INSERT INTO teams (id, name) VALUES ('t1', 'Old team')", []).unwrap();
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'activities_occurred_at'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 0);
    }
    let store = SqliteStore::open(&path).unwrap();
    let version: u32 =
        store.with_reader(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0))).unwrap();
    assert_eq!(version, super::LATEST_VERSION);
    let index: i64 = store
        .with_reader(|c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'activities_occurred_at'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(index, 1);
    let team = store.get(Entity::Teams, &[Value::Text("t1".into())]).unwrap().unwrap();
    assert_eq!(team.get("name"), &Value::Text("Old team".into()));
}

#[test]
fn every_field_has_its_column() {
    let (_dir, store) = store();
    for entity in Entity::ALL {
        let columns: Vec<String> = store.with_reader(|c| {
            let mut stmt = c.prepare(&format!("PRAGMA table_info({})", entity.name())).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(1)).unwrap().map(Result::unwrap).collect()
        });
        for field in entity.fields() {
            assert!(
                columns.contains(&field.name.to_string()),
                "{entity}.{} has no column",
                field.name
            );
        }
    }
}

#[test]
fn backup_is_a_consistent_copy_while_writes_go_on() {
    let (dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let store = std::sync::Arc::new(store);
    let writer_store = store.clone();
    let writes = std::thread::spawn(move || {
        for i in 0..200 {
            put_all(&writer_store, vec![rec(Entity::Teams, &format!("id=w{i};name=W{i}"))])
                .unwrap();
        }
    });
    let dest = dir.path().join("copy.db");
    store.backup(&dest).unwrap();
    writes.join().unwrap();
    let copy = SqliteStore::open(&dest).unwrap();
    let teams = copy.count(Entity::Teams).unwrap();
    assert!((1..=201).contains(&teams), "{teams}");
    assert_eq!(copy.count(Entity::Stages).unwrap(), 3);
    assert!(store.backup(&dest).is_err(), "an existing file is not overwritten");
}

/// Issue 25: a backup is complete at its name or absent; an unfinished one (a process killed
/// part way) is only ever `FILE.partial`, which the next backup to that name replaces.
#[test]
fn an_unfinished_backup_is_marked_partial_and_replaced_by_the_next() {
    let (dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let dest = dir.path().join("nightly.db");
    let partial = dir.path().join("nightly.db.partial");
    assert_eq!(crate::partial_backup_path(&dest), partial);
    // What a killed backup leaves: a file of garbage under the partial name.
    std::fs::write(&partial, b"half a copy").unwrap();
    store.backup(&dest).unwrap();
    assert!(!partial.exists(), "the partial file is gone once the backup is in place");
    let copy = SqliteStore::open(&dest).unwrap();
    copy.integrity_check().unwrap();
    assert_eq!(copy.count(Entity::Stages).unwrap(), 3);
    store.integrity_check().unwrap();
}

#[test]
fn the_data_version_moves_with_every_commit_from_any_connection() {
    let (dir, store) = store();
    let v0 = store.change_counter().unwrap();
    assert_eq!(store.change_counter().unwrap(), v0, "reading changes nothing");
    put_all(&store, vec![rec(Entity::Teams, "id=t1;name=North")]).unwrap();
    let v1 = store.change_counter().unwrap();
    assert_ne!(v1, v0, "a commit of this store's writer");
    // Another process's commit (another connection to the same file).
    let other = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    put_all(&other, vec![rec(Entity::Teams, "id=t2;name=South")]).unwrap();
    assert_ne!(store.change_counter().unwrap(), v1, "a commit of another connection");
    // A write that fails changes nothing.
    let v2 = store.change_counter().unwrap();
    assert!(put_all(&store, vec![rec(Entity::Teams, "id=t3;name=X;parent_id=nope")]).is_err());
    assert_eq!(store.change_counter().unwrap(), v2);
}

/// The customers table as the writer keeps it: (account, first purchase, last purchase, orders,
/// won deals, order revenue, deal revenue), in minor units.
fn customers(store: &SqliteStore) -> Vec<(String, i64, i64, i64, i64, i64, i64)> {
    store.with_reader(|conn| {
        let mut stmt = conn
            .prepare(
                "SELECT account_id, first_purchase_at, last_purchase_at, orders, won_deals,
                        order_revenue, deal_revenue FROM customer_stats ORDER BY account_id",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    })
}

#[test]
fn customers_follow_every_write_of_their_orders_and_won_deals() {
    let (_dir, store) = store();
    let mut setup = pipeline();
    setup.push(rec(Entity::Accounts, "id=a1;name=Bakery;created_at=2026-01-01"));
    setup.push(rec(Entity::Accounts, "id=a2;name=Cafe;created_at=2026-01-01"));
    put_all(&store, setup).unwrap();
    let day = |d: &str| traction_domain::time::parse_date(d).unwrap();
    let at = |d: &str| traction_domain::time::start_of_day(day(d), &TimeZone::UTC).unwrap();
    // Two orders of a1 (one cancelled, which does not count), a won deal of a2, an open deal.
    put_all(
        &store,
        vec![
            rec(Entity::Orders, "id=o1;account_id=a1;placed_at=2026-02-01;total=7.00"),
            rec(Entity::Orders, "id=o2;account_id=a1;placed_at=2026-03-01;total=3.00"),
            rec(Entity::Orders, "id=o3;account_id=a1;placed_at=2026-01-15;total=9.00;status=cancelled"),
            rec(
                Entity::Deals,
                "id=d1;pipeline_id=p1;stage_id=won;owner_id=u1;account_id=a2;amount=50;created_at=2026-01-01;closed_at=2026-01-20",
            ),
            rec(
                Entity::Deals,
                "id=d2;pipeline_id=p1;stage_id=s1;owner_id=u1;account_id=a1;amount=80;created_at=2026-01-01",
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        customers(&store),
        [
            ("a1".into(), at("2026-02-01"), at("2026-03-01"), 2, 0, 1000, 0),
            ("a2".into(), at("2026-01-20"), at("2026-01-20"), 0, 1, 0, 5000),
        ]
    );
    // The open deal is won earlier than a1's first order: it becomes the first purchase.
    put_all(
        &store,
        vec![rec(
            Entity::Deals,
            "id=d2;pipeline_id=p1;stage_id=won;owner_id=u1;account_id=a1;amount=80;created_at=2026-01-01;closed_at=2026-01-10",
        )],
    )
    .unwrap();
    assert_eq!(
        customers(&store)[0],
        ("a1".into(), at("2026-01-10"), at("2026-03-01"), 2, 1, 1000, 8000)
    );
    // a2's deal moves to a1; o2 is returned; the deal is deleted after all.
    put_all(
        &store,
        vec![
            rec(
                Entity::Deals,
                "id=d1;pipeline_id=p1;stage_id=won;owner_id=u1;account_id=a1;amount=50;created_at=2026-01-01;closed_at=2026-01-20",
            ),
            rec(Entity::Orders, "id=o2;account_id=a1;placed_at=2026-03-01;total=3.00;status=returned"),
        ],
    )
    .unwrap();
    assert_eq!(
        customers(&store),
        [("a1".into(), at("2026-01-10"), at("2026-02-01"), 1, 2, 700, 13000)]
    );
    let mut w = store.writer().unwrap();
    w.delete(Entity::Deals, &[Value::Text("d2".into())]).unwrap();
    w.delete(Entity::Deals, &[Value::Text("d1".into())]).unwrap();
    w.commit().unwrap();
    assert_eq!(
        customers(&store),
        [("a1".into(), at("2026-02-01"), at("2026-02-01"), 1, 0, 700, 0)]
    );
    // A write that is rolled back leaves the table as it was.
    let mut w = store.writer().unwrap();
    w.put(2, rec(Entity::Orders, "id=o9;account_id=a2;placed_at=2026-01-01;total=1.00")).unwrap();
    drop(w);
    assert_eq!(customers(&store).len(), 1);
}

#[test]
fn cached_query_results_last_until_a_table_they_read_is_written() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let users = "SELECT count(*) FROM users";
    let stages = "SELECT count(*) FROM stages WHERE kind = ?1";
    let first = store.cached_rows(users, &["x"; 0], None).unwrap();
    assert_eq!(first.values, [crate::SqlValue::Integer(1)]);
    // Asked again with nothing written: the same rows, not read again.
    assert!(std::sync::Arc::ptr_eq(&first, &store.cached_rows(users, &["x"; 0], None).unwrap()));
    let won = store.cached_rows(stages, &["won"], None).unwrap();
    // A write to users: the users query is read again; the stages query is still good.
    put_all(&store, vec![rec(Entity::Users, "id=u2;name=Bo;team_id=t1")]).unwrap();
    let second = store.cached_rows(users, &["x"; 0], None).unwrap();
    assert_eq!(second.values, [crate::SqlValue::Integer(2)]);
    assert!(std::sync::Arc::ptr_eq(&won, &store.cached_rows(stages, &["won"], None).unwrap()));
    // Other parameters are another query.
    assert_eq!(
        store.cached_rows(stages, &["lost"], None).unwrap().values,
        [crate::SqlValue::Integer(1)]
    );
    // A write by another store on the same file (another process) is seen too.
    let other = SqliteStore::open(store.path()).unwrap();
    put_all(&other, vec![rec(Entity::Users, "id=u3;name=Cy;team_id=t1")]).unwrap();
    assert_eq!(
        store.cached_rows(users, &["x"; 0], None).unwrap().values,
        [crate::SqlValue::Integer(3)]
    );
}

#[test]
fn a_query_over_a_time_range_lasts_while_writes_touch_other_times() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let call = |id: &str, day: &str| {
        rec(Entity::Activities, &format!("id={id};kind=call;occurred_at={day};owner_id=u1"))
    };
    put_all(&store, vec![call("a1", "2025-03-10"), call("a2", "2025-03-12")]).unwrap();
    let day = |d: &str| {
        traction_domain::time::start_of_day(
            traction_domain::time::parse_date(d).unwrap(),
            &TimeZone::UTC,
        )
        .unwrap()
    };
    let (lo, hi) = (day("2025-03-01"), day("2025-04-01"));
    let sql = format!(
        "SELECT count(*) FROM activities t WHERE t.occurred_at >= {lo} AND t.occurred_at < {hi}"
    );
    let ranged = crate::Ranged { table: "activities".into(), field: "occurred_at".into(), lo, hi };
    let count = |store: &SqliteStore| store.cached_rows(&sql, &["x"; 0], Some(&ranged)).unwrap();
    let march = count(&store);
    assert_eq!(march.values, [crate::SqlValue::Integer(2)]);
    // A call a year later: March 2025's count is kept (its slices did not move).
    put_all(&store, vec![call("a3", "2026-03-10")]).unwrap();
    assert!(std::sync::Arc::ptr_eq(&march, &count(&store)));
    // Without the range, the same query depends on the whole table and is read again.
    let whole = store.cached_rows(&sql, &["x"; 0], None).unwrap();
    put_all(&store, vec![call("a4", "2026-03-11")]).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&whole, &store.cached_rows(&sql, &["x"; 0], None).unwrap()));
    assert!(std::sync::Arc::ptr_eq(&march, &count(&store)));
    // A call in March 2025: read again.
    put_all(&store, vec![call("a5", "2025-03-20")]).unwrap();
    assert_eq!(count(&store).values, [crate::SqlValue::Integer(3)]);
    // A March 2025 call moved to 2026 (its old time is in the range) and one deleted.
    put_all(&store, vec![call("a1", "2026-01-05")]).unwrap();
    assert_eq!(count(&store).values, [crate::SqlValue::Integer(2)]);
    let mut w = store.writer().unwrap();
    w.delete(Entity::Activities, &[Value::Text("a2".into())]).unwrap();
    w.commit().unwrap();
    assert_eq!(count(&store).values, [crate::SqlValue::Integer(1)]);
    // A 2026 call moved into March 2025 (its new time is).
    put_all(&store, vec![call("a3", "2025-03-01")]).unwrap();
    assert_eq!(count(&store).values, [crate::SqlValue::Integer(2)]);
}

#[test]
fn reads_run_side_by_side_on_the_pool() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    // More readers than connections, each scanning and looking up: every one gets its answer.
    std::thread::scope(|threads| {
        for _ in 0..8 {
            threads.spawn(|| {
                for _ in 0..20 {
                    let mut stages = Vec::new();
                    store
                        .scan(Entity::Stages, &mut |stage| {
                            stages.push(stage);
                            Ok(())
                        })
                        .unwrap();
                    assert_eq!(stages.len(), 3);
                    for stage in stages {
                        let key = [stage.get("pipeline_id").clone()];
                        assert!(store.get(Entity::Pipelines, &key).unwrap().is_some());
                    }
                }
            });
        }
    });
}

// Issue 25: analytical reads are timed and interrupted; the store's own reads never wait on them.

#[test]
fn an_analytical_read_past_the_time_limit_is_interrupted_as_busy() {
    let (_dir, store) = store();
    store.set_read_time_limit(Some(std::time::Duration::from_millis(50)));
    let endless =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let res = store.with_reader(|conn| conn.query_row(endless, [], |r| r.get::<_, i64>(0)));
    let err = Error::from(res.unwrap_err());
    assert!(matches!(err, Error::Busy(_)), "{err:?}");
    assert!(err.to_string().contains("time limit"), "{err}");
    // The connection is usable again, and a short read is not cut.
    let n: i64 =
        store.with_reader(|conn| conn.query_row("SELECT 41 + 1", [], |r| r.get(0))).unwrap();
    assert_eq!(n, 42);
    let cached = store.cached_rows::<i64>(endless, &[], None).unwrap_err();
    assert!(matches!(cached, Error::Busy(_)), "{cached:?}");
}

#[test]
fn store_reads_and_writes_do_not_wait_on_held_analytical_readers() {
    let (_dir, store) = store();
    let store = std::sync::Arc::new(store);
    put_all(&store, vec![rec(Entity::Teams, "id=t1;name=North")]).unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(release_rx));
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let holders: Vec<_> = (0..super::READERS)
        .map(|_| {
            let (store, held_tx, release_rx) = (store.clone(), held_tx.clone(), release_rx.clone());
            std::thread::spawn(move || {
                store.with_reader(|_| {
                    held_tx.send(()).unwrap();
                    let _ = release_rx.lock().unwrap().recv();
                })
            })
        })
        .collect();
    for _ in 0..super::READERS {
        held_rx.recv().unwrap();
    }
    // With every analytical connection held: a get, a scan, settings, a write, the version.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let worker = {
        let store = store.clone();
        std::thread::spawn(move || {
            let team = store.get(Entity::Teams, &[Value::Text("t1".into())]).unwrap();
            let mut n = 0;
            store
                .scan(Entity::Teams, &mut |_| {
                    n += 1;
                    Ok(())
                })
                .unwrap();
            store.workspace().unwrap();
            put_all(&store, vec![rec(Entity::Teams, "id=t2;name=South")]).unwrap();
            store.change_counter().unwrap();
            done_tx.send((team.is_some(), n)).unwrap();
        })
    };
    let (found, n) = done_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("store reads and writes waited on the analytical readers");
    assert!(found);
    assert_eq!(n, 1);
    worker.join().unwrap();
    drop(release_tx);
    for h in holders {
        h.join().unwrap();
    }
    assert_eq!(store.count(Entity::Teams).unwrap(), 2);
}

#[test]
fn a_result_too_large_for_memory_is_refused_and_memory_is_given_back_when_idle() {
    let (_dir, store) = store();
    let rows = |n: usize| {
        format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT x FROM c"
        )
    };
    let max = super::query_cache::MAX_RESULT_VALUES;
    let err = store.cached_rows::<i64>(&rows(max + 1), &[], None).unwrap_err();
    assert!(matches!(&err, Error::Busy(m) if m.contains("too large")), "{err:?}");
    let small = store.cached_rows::<i64>(&rows(3), &[], None).unwrap();
    assert_eq!(small.len(), 3);
    store.release_memory();
    let again = store.cached_rows::<i64>(&rows(3), &[], None).unwrap();
    assert_eq!(*again, *small);
    assert!(!std::sync::Arc::ptr_eq(&again, &small), "the kept result was dropped");
}

#[test]
fn an_outbound_call_answers_its_lead_once_in_the_same_transaction() {
    let (_dir, store) = store();
    put_all(
        &store,
        vec![
            rec(Entity::Users, "id=u1;name=Ann"),
            rec(Entity::Leads, "id=l1;created_at=2023-11-01T10:00:00Z;source=web;owner_id=u1"),
            rec(Entity::Leads, "id=l2;created_at=2023-11-01T10:00:00Z;source=web;owner_id=u1"),
        ],
    )
    .unwrap();
    let actor = crate::Actor { user: "u1".into(), at: Some(1_699_000_000_000_000) };
    let put_as = |records: Vec<Record>| {
        let mut w = store.writer_as(Some(&actor)).unwrap();
        for r in records {
            w.put(1, r).unwrap();
        }
        w.commit().unwrap()
    };
    // An inbound e-mail and a note do not answer l1; an outbound call does, at its time (the
    // earlier of two calls in one write); a call planned after the write answers nothing.
    put_as(vec![
        rec(
            Entity::Activities,
            "id=a0;kind=email;direction=inbound;occurred_at=2023-11-01T10:05:00Z;owner_id=u1;lead_id=l1",
        ),
        rec(
            Entity::Activities,
            "id=a1;kind=note;occurred_at=2023-11-01T10:06:00Z;owner_id=u1;lead_id=l1",
        ),
        rec(
            Entity::Activities,
            "id=a3;kind=call;occurred_at=2023-11-01T10:40:00Z;owner_id=u1;lead_id=l1",
        ),
        rec(
            Entity::Activities,
            "id=a2;kind=call;occurred_at=2023-11-01T10:30:00Z;owner_id=u1;lead_id=l1",
        ),
        // 1,699,000,000 s is 2023-11-03T08:26:40Z: this one is planned.
        rec(
            Entity::Activities,
            "id=a4;kind=call;occurred_at=2023-11-04T09:00:00Z;owner_id=u1;lead_id=l2",
        ),
    ]);
    let lead = |id: &str| store.get(Entity::Leads, &[Value::Text(id.into())]).unwrap().unwrap();
    let l1 = lead("l1");
    assert_eq!(
        l1.get("first_response_at"),
        rec(Entity::Leads, "id=x;created_at=2023-11-01T10:30:00Z;source=w").get("created_at")
    );
    assert_eq!(l1.get("status").as_text(), Some("contacted"));
    assert!(lead("l2").get("first_response_at").is_null());
    assert_eq!(lead("l2").get("status").as_text(), Some("new"));
    // A later e-mail keeps the first answer.
    put_as(vec![rec(
        Entity::Activities,
        "id=a5;kind=email;occurred_at=2023-11-02T10:00:00Z;owner_id=u1;lead_id=l1",
    )]);
    assert_eq!(lead("l1").get("first_response_at"), l1.get("first_response_at"));
    // The change to the lead is audited as the one who logged the call.
    let audit = store.audit_of("leads", "l1", 10).unwrap();
    assert_eq!(audit[0].actor, "u1");
    assert_eq!(audit[0].action, "update");
}

/// Issue 25: when idle the store closes and reopens its free connections to give their memory
/// back; the reopened ones write, read and keep the analytical time limit.
#[test]
fn connections_reopened_when_idle_keep_working_and_keep_the_time_limit() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let teams = store.count(Entity::Teams).unwrap();
    store.release_memory();
    put_all(&store, vec![rec(Entity::Teams, "id=t-after;name=After")]).unwrap();
    assert_eq!(store.count(Entity::Teams).unwrap(), teams + 1);
    store.set_read_time_limit(Some(std::time::Duration::from_millis(50)));
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) \
                SELECT count(*) FROM c";
    for _ in 0..4 {
        // Each of the four analytical connections in turn.
        let err = store.cached_rows::<i64>(slow, &[], None).unwrap_err();
        assert!(matches!(&err, Error::Busy(m) if m.contains("time limit")), "{err:?}");
    }
}

/// The stage changes of deal `id`, as (stage, changed_at, changed_by), oldest first.
fn history(store: &SqliteStore, id: &str) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    store
        .scan(Entity::StageChanges, &mut |r| {
            if r.get("deal_id").as_text() == Some(id) {
                let stage = r.get("stage_id").as_text().unwrap_or("").to_string();
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

// spec: data-model.md, stage_changes. One rule for the API and the web: a writer that records
// stage history adds the first stage at created_at and a move at the write's time, by the actor.
#[test]
fn a_writer_recording_stage_history_records_creation_and_moves_once() {
    let (_dir, store) = store();
    put_all(&store, pipeline()).unwrap();
    let t =
        |text: &str| rec(Entity::StageChanges, &format!("deal_id=x;stage_id=x;changed_at={text}"));
    let at = |text: &str| t(text).get("changed_at").clone();
    let deal = |stage: &str| {
        rec(
            Entity::Deals,
            &format!(
                "id=d1;pipeline_id=p1;stage_id={stage};owner_id=u1;amount=10;created_at=2026-01-01T09:00:00Z"
            ),
        )
    };
    // 2026-01-02T10:00:00Z is 1,767,348,000 s.
    let actor = crate::Actor { user: "u1".into(), at: Some(1_767_348_000_000_000) };
    let write = |records: Vec<Record>, recording: bool| {
        let mut w = store.writer_as(Some(&actor)).unwrap();
        if recording {
            w.record_stage_history();
        }
        for r in records {
            w.put(1, r).unwrap();
        }
        w.commit().unwrap()
    };
    write(vec![deal("s1")], true);
    let by = Value::Text("u1".into());
    assert_eq!(history(&store, "d1"), vec![("s1".into(), at("2026-01-01T09:00:00Z"), by.clone())]);
    // Saving the deal unchanged, or with another field changed, records nothing.
    write(vec![deal("s1")], true);
    assert_eq!(history(&store, "d1").len(), 1);
    // A move is entered at the write's time.
    let mut won = deal("won");
    won.set("closed_at", at("2026-01-02T10:00:00Z"));
    write(vec![won], true);
    assert_eq!(
        history(&store, "d1"),
        vec![
            ("s1".into(), at("2026-01-01T09:00:00Z"), by.clone()),
            ("won".into(), at("2026-01-02T10:00:00Z"), by.clone()),
        ]
    );
    // A transaction that brings its own stage change for the deal gets none added.
    write(
        vec![
            deal("s1"),
            rec(Entity::StageChanges, "deal_id=d1;stage_id=s1;changed_at=2026-01-02T11:00:00Z"),
        ],
        true,
    );
    assert_eq!(history(&store, "d1").len(), 3);
    // An import (a writer that does not record history) records none.
    let mut d2 = deal("s1");
    d2.set("id", Value::Text("d2".into()));
    write(vec![d2], false);
    assert!(history(&store, "d2").is_empty());
}

#[test]
fn saved_views_are_each_users_own() {
    let (_dir, store) = store();
    put_all(
        &store,
        vec![rec(Entity::Users, "id=u1;name=Ann"), rec(Entity::Users, "id=u2;name=Bob")],
    )
    .unwrap();
    let (mine, replaced) = store.save_view("u1", " Open deals ", "/deals?status=open", 1).unwrap();
    assert!(!replaced);
    store.save_view("u2", "Open deals", "/deals?status=open&owner=u2", 1).unwrap();
    store.save_view("u1", "big", "/deals?stage=s1", 2).unwrap();
    // Saving under a name again replaces that view's filters.
    assert_eq!(store.save_view("u1", "Open deals", "/deals?status=won", 3).unwrap(), (mine, true));
    let names = |user: &str| -> Vec<(String, String)> {
        store.saved_views(user).unwrap().into_iter().map(|v| (v.name, v.path)).collect()
    };
    assert_eq!(
        names("u1"),
        [
            ("big".into(), "/deals?stage=s1".into()),
            ("Open deals".into(), "/deals?status=won".into())
        ]
    );
    assert_eq!(
        names("u2"),
        [("Open deals".to_string(), "/deals?status=open&owner=u2".to_string())]
    );
    // Another user's view cannot be deleted by its id; one's own can.
    assert!(matches!(store.delete_view("u2", mine), Err(Error::NotFound)));
    store.delete_view("u1", mine).unwrap();
    assert_eq!(names("u1").len(), 1);
    assert_eq!(names("u2").len(), 1);
    // Names: not empty, not too long; users: existing.
    assert_eq!(problems(store.save_view("u1", "  ", "/deals", 4).unwrap_err()).len(), 1);
    assert!(store.save_view("u1", &"x".repeat(81), "/deals", 4).is_err());
    assert!(matches!(store.save_view("nobody", "v", "/deals", 4), Err(Error::NotFound)));
}

#[test]
fn a_sign_in_link_is_used_once_and_never_after_it_expires() {
    let (_dir, store) = store();
    put_all(&store, vec![rec(Entity::Users, "id=u1;name=Ann")]).unwrap();
    let admin = crate::Actor { user: "admin".into(), at: Some(100) };
    store.create_sign_in_link("h1", "u1", 100, 1_000, &admin).unwrap();
    store.create_sign_in_link("h2", "u1", 100, 1_000, &admin).unwrap();
    assert!(matches!(
        store.create_sign_in_link("h3", "nobody", 100, 1_000, &admin),
        Err(Error::NotFound)
    ));
    assert_eq!(store.sign_in_link("h1", 500).unwrap().as_deref(), Some("u1"));
    assert_eq!(store.sign_in_link("nope", 500).unwrap(), None);
    // Used once: a second use, or a look, finds nothing.
    assert_eq!(store.use_sign_in_link("h1", 500).unwrap().as_deref(), Some("u1"));
    assert_eq!(store.use_sign_in_link("h1", 501).unwrap(), None);
    assert_eq!(store.sign_in_link("h1", 501).unwrap(), None);
    // Expired at 1,000: not at or after it.
    assert_eq!(store.use_sign_in_link("h2", 1_000).unwrap(), None);
    // Its creation is audited.
    let audit = store.audit_of("credentials", "u1", 10).unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].action, "sign_in_link.create");
    assert_eq!(audit[0].actor, "admin");
}

/// The order line-amount rule as SQL (`line_amount_sql`) gives the Rust rule's answers
/// (`traction_domain::orders::line_amount`) on the edge cases: a discount on the whole line, zero,
/// a credit, a negative price, the largest amount and values where a float would round. The
/// expected figures are worked by hand, so a change to either side shows here.
#[test]
fn the_line_amount_rule_is_the_same_in_sql_and_in_rust() {
    use traction_domain::money::MAX_MINOR;
    use traction_domain::orders::line_amount;
    let cases: &[(i64, i64, i64, i64)] = &[
        (2, 350, 50, 650),
        (3, 199, 0, 597),
        (4, 1_000, 100, 3_900),
        (1, 0, 0, 0),
        (1, 100, 100, 0),
        (1, 100, 150, -50),
        (2, -500, 0, -1_000),
        (1_000_000_000, 1_000_000, 0, MAX_MINOR),
        (1_000_000_000, 1_000_000, 1, 999_999_999_999_999),
        (7, 142_857_142_857_142, 0, 999_999_999_999_994),
        (1, -MAX_MINOR, 0, -MAX_MINOR),
    ];
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for table in ["", "l"] {
        let from = if table.is_empty() { "" } else { " l" };
        let sql = format!(
            "SELECT {} FROM (SELECT ?1 AS quantity, ?2 AS unit_price, ?3 AS discount){from}",
            crate::line_amount_sql(table)
        );
        for &(quantity, unit_price, discount, expected) in cases {
            let from_sql: i64 = conn
                .query_row(&sql, [quantity, unit_price, discount], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let case = (quantity, unit_price, discount);
            assert_eq!(from_sql, expected, "SQL, table {table:?}, {case:?}");
            assert_eq!(
                line_amount(quantity, unit_price, discount),
                i128::from(expected),
                "{case:?}"
            );
        }
    }
}

/// The record pages' figures, worked by hand: line amounts and order totals, stock on hand
/// with the reorder flag and margin, a campaign's budget against its costs.
#[test]
fn shop_figures_are_computed_by_the_store() {
    use crate::shop::{CampaignBudget, OrderLine, ShopStore};
    let (_dir, store) = store();
    put_all(
        &store,
        vec![
            rec(Entity::Accounts, "id=a1;name=Acme;created_at=2026-01-01"),
            rec(
                Entity::Products,
                "id=p1;name=Widget;unit_price=3.50;unit_cost=1.40;opening_stock=10;reorder_level=7",
            ),
            rec(Entity::Products, "id=p2;name=Gadget;unit_price=0;unit_cost=1.00;opening_stock=2"),
            rec(Entity::Products, "id=p3;name=Spare;unit_price=2.00"),
            // o1: lines only (2 × 3.50 − 0.50 = 6.50, 1 × 0 = 0); o2: a total and no lines;
            // o3: no total and no lines.
            rec(Entity::Orders, "id=o1;account_id=a1;placed_at=2026-02-01"),
            rec(Entity::OrderLines, "order_id=o1;line=2;product_id=p2;quantity=1;unit_price=0"),
            rec(
                Entity::OrderLines,
                "order_id=o1;line=1;product_id=p1;quantity=2;unit_price=3.50;discount=0.50",
            ),
            rec(Entity::Orders, "id=o2;account_id=a1;placed_at=2026-02-02;total=12.00"),
            rec(Entity::Orders, "id=o3;account_id=a1;placed_at=2026-02-03;status=cancelled"),
            rec(Entity::Campaigns, "id=c1;name=Spring;channel=email;budget=500"),
            rec(Entity::Campaigns, "id=c2;name=Word of mouth;channel=social"),
            rec(
                Entity::Costs,
                "id=k1;incurred_on=2026-01-05;category=marketing;amount=120.25;campaign_id=c1",
            ),
            rec(
                Entity::Costs,
                "id=k2;incurred_on=2026-02-05;category=marketing;amount=79.75;campaign_id=c1",
            ),
            rec(Entity::Costs, "id=k3;incurred_on=2026-02-05;category=other;amount=1000"),
        ],
    )
    .unwrap();

    let o1 = store.order_lines("o1").unwrap();
    assert_eq!(
        o1.lines[0],
        OrderLine {
            line: 1,
            product_id: "p1".into(),
            product_name: Some("Widget".into()),
            quantity: 2,
            unit_price: 350,
            discount: 50,
            amount: 650,
        }
    );
    assert_eq!((o1.lines[1].line, o1.lines[1].amount), (2, 0));
    assert_eq!(o1.total, 650);
    assert_eq!(store.order_lines("o2").unwrap().total, 0);
    assert!(store.order_lines("nope").unwrap().lines.is_empty());
    // The stored total when given, else the lines' sum, else 0; unknown ids left out.
    assert_eq!(
        store.order_totals(&["o1", "o2", "o3", "nope"]).unwrap(),
        [("o1".to_string(), 650), ("o2".to_string(), 1_200), ("o3".to_string(), 0)]
    );

    // p1: 10 − 2 sold (o1 is placed) = 8, above its level 7; margin (3.50 − 1.40) / 3.50 = 0.6.
    // p2: 2 − 1 = 1 with no level: never to reorder; a zero price has no margin.
    // p3: no cost, no margin.
    let stock = store.product_stock(&["p1", "p2", "p3", "nope"]).unwrap();
    assert_eq!(stock.len(), 3);
    assert_eq!((stock[0].on_hand, stock[0].to_reorder), (8, false));
    assert!((stock[0].margin.unwrap() - 0.6).abs() < 1e-12);
    assert_eq!((stock[1].on_hand, stock[1].to_reorder, stock[1].margin), (1, false, None));
    assert_eq!(stock[2].margin, None);
    // Selling one more of p1 brings it to 7: at the level, to reorder.
    put_all(
        &store,
        vec![
            rec(Entity::Orders, "id=o4;account_id=a1;placed_at=2026-02-04"),
            rec(Entity::OrderLines, "order_id=o4;line=1;product_id=p1;quantity=1;unit_price=3.50"),
        ],
    )
    .unwrap();
    let p1 = &store.product_stock(&["p1"]).unwrap()[0];
    assert_eq!((p1.on_hand, p1.to_reorder), (7, true));

    // c1: 500.00 − (120.25 + 79.75) = 300.00 left; c2 has no budget; k3 is no campaign's.
    assert_eq!(
        store.campaign_budget("c1").unwrap(),
        Some(CampaignBudget { budget: Some(50_000), spent: 20_000, left: Some(30_000) })
    );
    assert_eq!(
        store.campaign_budget("c2").unwrap(),
        Some(CampaignBudget { budget: None, spent: 0, left: None })
    );
    assert_eq!(store.campaign_budget("nope").unwrap(), None);
}

/// The line-amount rule has one Rust home (`traction_domain::orders`) and one SQL home
/// (`line_amount_sql`): no other source file of the workspace writes a line's quantity times its
/// price again (issue 23: it was written four times).
#[test]
fn the_line_amount_rule_is_written_nowhere_else() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "the workspace's sources were not found");
    let this_file = std::path::Path::new(file!()).file_name().unwrap();
    let written: Vec<String> = files
        .iter()
        .filter(|f| !(f.ends_with("sqlite/tests.rs") && f.file_name() == Some(this_file)))
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap().replace(' ', "");
            ["quantity*unit_price", "quantity*l.unit_price", "l.quantity*l.unit_price"]
                .iter()
                .any(|p| text.contains(p))
                .then(|| f.display().to_string())
        })
        .collect();
    assert!(written.is_empty(), "the line-amount rule written again in {written:?}");
}

/// Issue 17.5: writes that queue together share one commit, yet each keeps its own answer: the
/// valid ones are stored, each invalid one is refused with its own problem and leaves nothing.
#[test]
fn grouped_writes_answer_each_request_and_store_exactly_the_valid_ones() {
    use std::sync::{Arc, Mutex};
    let (_dir, store) = store();
    put_all(&store, vec![rec(Entity::Teams, "id=t1;name=North")]).unwrap();
    let store = Arc::new(store);
    // 24 requests from 24 threads at once: every third names a team that does not exist.
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let answer = Arc::new(Mutex::new(None));
                let slot = answer.clone();
                let inner = store.clone();
                let team = if i % 3 == 0 { "nowhere" } else { "t1" };
                let committed = store.write_grouped(Box::new(move || {
                    let res = inner.writer().and_then(|mut w| {
                        w.put(0, rec(Entity::Users, &format!("id=u{i};name=U{i};team_id={team}")))?;
                        w.commit()
                    });
                    let ok = res.is_ok();
                    *slot.lock().unwrap() = Some(res.map(|s| s.created));
                    ok
                }));
                let own = answer.lock().unwrap().take().expect("the work ran");
                (i, committed.is_ok(), own)
            })
        })
        .collect();
    for thread in threads {
        let (i, committed, own) = thread.join().unwrap();
        assert!(committed, "request {i}: the shared commit went through");
        if i % 3 == 0 {
            assert_eq!(problems(own.unwrap_err()), ["team_id: \"nowhere\": no such team"], "{i}");
        } else {
            assert_eq!(own.unwrap(), 1, "request {i} created its user");
        }
    }
    let mut ids = Vec::new();
    store
        .scan(Entity::Users, &mut |r| {
            ids.push(r.get("id").as_text().unwrap().to_string());
            Ok(())
        })
        .unwrap();
    let mut expected: Vec<String> =
        (0..24).filter(|i| i % 3 != 0).map(|i| format!("u{i}")).collect();
    expected.sort();
    assert_eq!(ids, expected);
    // Each stored user has its audit row; the refused ones have none.
    assert_eq!(audit_rows(&store, "users"), 16);
}

/// A grouped write reads what the writes before it in the same batch left: read-modify-write
/// requests (a PATCH) lose none of each other's changes.
#[test]
fn grouped_read_modify_writes_lose_no_update() {
    use std::sync::Arc;
    let (_dir, store) = store();
    put_all(
        &store,
        vec![rec(Entity::Products, "id=p1;name=Bread;unit_price=3.50;opening_stock=0")],
    )
    .unwrap();
    let store = Arc::new(store);
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let inner = store.clone();
                store.write_grouped(Box::new(move || {
                    let key = [Value::Text("p1".into())];
                    let res = inner.writer().and_then(|mut w| {
                        let mut product = inner.get(Entity::Products, &key)?.expect("stored");
                        let Value::Int(n) = *product.get("opening_stock") else { panic!() };
                        product.set("opening_stock", Value::Int(n + 1));
                        w.put(0, product)?;
                        w.commit()
                    });
                    res.is_ok()
                }))
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let product = store.get(Entity::Products, &[Value::Text("p1".into())]).unwrap().unwrap();
    assert_eq!(product.get("opening_stock"), &Value::Int(40));
}

/// A work that fails after its writer committed (or panics) leaves nothing, and the batch goes
/// on; a work's writer dropped without commit leaves nothing either.
#[test]
fn a_failed_grouped_work_is_undone_whole() {
    use std::sync::Arc;
    let (_dir, store) = store();
    let store = Arc::new(store);
    let inner = store.clone();
    // Committed its writer, then failed: the request's savepoint is rolled back.
    store
        .write_grouped(Box::new(move || {
            let mut w = inner.writer().unwrap();
            w.put(0, rec(Entity::Teams, "id=t1;name=North")).unwrap();
            w.commit().unwrap();
            false
        }))
        .unwrap();
    let inner = store.clone();
    let res = store.write_grouped(Box::new(move || {
        let mut w = inner.writer().unwrap();
        w.put(0, rec(Entity::Teams, "id=t2;name=South")).unwrap();
        w.commit().unwrap();
        panic!("a bug in a request");
    }));
    assert!(res.is_ok(), "a panicking work is its own failure");
    let inner = store.clone();
    store
        .write_grouped(Box::new(move || {
            let mut w = inner.writer().unwrap();
            w.put(0, rec(Entity::Teams, "id=t3;name=East")).unwrap();
            drop(w);
            let mut w = inner.writer().unwrap();
            w.put(0, rec(Entity::Teams, "id=t4;name=West")).unwrap();
            w.commit().is_ok()
        }))
        .unwrap();
    let mut ids = Vec::new();
    store
        .scan(Entity::Teams, &mut |r| {
            ids.push(r.get("id").as_text().unwrap().to_string());
            Ok(())
        })
        .unwrap();
    assert_eq!(ids, ["t4"]);
    // The ordinary writer still works after grouped writes, on the same connection.
    put_all(&store, vec![rec(Entity::Teams, "id=t5;name=Far")]).unwrap();
    assert_eq!(store.count(Entity::Teams).unwrap(), 2);
}

fn audit_rows(store: &SqliteStore, entity: &str) -> i64 {
    store.with_reader(|conn| {
        conn.query_row("SELECT count(*) FROM audit_log WHERE entity = ?1", [entity], |r| r.get(0))
            .unwrap()
    })
}

/// Works that queue while a batch runs are run together by the next leader, on its thread, in
/// one transaction.
#[test]
fn writes_queued_behind_a_batch_share_the_next_commit() {
    use std::sync::mpsc::channel;
    use std::sync::{Arc, Mutex};
    let (_dir, store) = store();
    let store = Arc::new(store);
    let (release, wait) = channel::<()>();
    let (started, running) = channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let first = {
        let store = store.clone();
        std::thread::spawn(move || {
            let inner = store.clone();
            store.write_grouped(Box::new(move || {
                // Holds the first batch open until the others have queued.
                started.send(()).unwrap();
                wait.lock().unwrap().recv().unwrap();
                put_all(&inner, vec![rec(Entity::Teams, "id=t0;name=T0")]).is_ok()
            }))
        })
    };
    running.recv().unwrap();
    let ran_on = Arc::new(Mutex::new(Vec::new()));
    let others: Vec<_> = (1..=5)
        .map(|i| {
            let (store, ran_on) = (store.clone(), ran_on.clone());
            std::thread::spawn(move || {
                let inner = store.clone();
                store.write_grouped(Box::new(move || {
                    ran_on.lock().unwrap().push(std::thread::current().id());
                    put_all(&inner, vec![rec(Entity::Teams, &format!("id=t{i};name=T{i}"))]).is_ok()
                }))
            })
        })
        .collect();
    while store.queued() < 5 {
        std::thread::yield_now();
    }
    release.send(()).unwrap();
    first.join().unwrap().unwrap();
    for other in others {
        other.join().unwrap().unwrap();
    }
    let threads = ran_on.lock().unwrap().clone();
    assert_eq!(threads.len(), 5);
    assert!(threads.iter().all(|t| *t == threads[0]), "one leader ran the five: {threads:?}");
    assert_eq!(store.count(Entity::Teams).unwrap(), 6);
}

/// A grouped work that writes beside its batch instead of through a writer (a hook added on
/// the write connection itself) would wait for its own thread's lock forever: it is refused
/// with an error and undone, the batch's other writes stand, and the store writes afterwards.
#[test]
fn a_grouped_work_writing_beside_its_batch_is_refused_not_deadlocked() {
    use crate::{Actor, HookStore, hooks::EmailHook};
    use std::sync::{Arc, Mutex};
    let (_dir, store) = store();
    let store = Arc::new(store);
    let hook = EmailHook {
        provider: "mandrill".into(),
        secret: "k".into(),
        url: String::new(),
        created_at: 0,
        created_by: "admin".into(),
    };
    let answer = Arc::new(Mutex::new(None));
    let (slot, inner) = (answer.clone(), store.clone());
    let committed = store.write_grouped(Box::new(move || {
        let kept = inner.writer().and_then(|mut w| {
            w.put(0, rec(Entity::Teams, "id=t1;name=North"))?;
            w.commit()
        });
        let beside = inner.add_email_hook(&hook, &Actor::system());
        let ok = kept.is_ok() && beside.is_ok();
        *slot.lock().unwrap() = Some(beside);
        ok
    }));
    assert!(committed.is_ok());
    let beside = answer.lock().unwrap().take().expect("the work ran");
    let Err(Error::Storage(message)) = beside else { panic!("not refused: {beside:?}") };
    assert!(message.contains("outside its own transaction"), "{message}");
    // The work failed, so its team was undone with it; no hook was written.
    assert_eq!(store.get(Entity::Teams, &[Value::Text("t1".into())]).unwrap(), None);
    assert!(store.email_hook("mandrill").unwrap().is_none());
    // The write connection is free again.
    put_all(&store, vec![rec(Entity::Teams, "id=t2;name=South")]).unwrap();
    store
        .add_email_hook(
            &EmailHook {
                provider: "mandrill".into(),
                secret: "k".into(),
                url: String::new(),
                created_at: 0,
                created_by: "admin".into(),
            },
            &Actor::system(),
        )
        .unwrap();
}

#[test]
fn a_read_scope_follows_stage_changes_to_their_deal_and_lines_to_their_order() {
    let (_dir, store) = store();
    let mut records = pipeline();
    records.extend(shop());
    records.push(rec(Entity::Users, "id=u2;name=Bo;team_id=t1"));
    for (deal, owner) in [("d1", "u1"), ("d2", "u2")] {
        records.push(rec(
            Entity::Deals,
            &format!("id={deal};pipeline_id=p1;stage_id=s1;owner_id={owner};amount=10;created_at=2026-01-01"),
        ));
        records.push(rec(
            Entity::StageChanges,
            &format!("deal_id={deal};stage_id=s1;changed_at=2026-01-01"),
        ));
    }
    for (order, owner) in [("o1", "owner_id=u1"), ("o2", ""), ("o3", "owner_id=u2")] {
        records.push(rec(
            Entity::Orders,
            &format!("id={order};account_id=a1;placed_at=2026-02-01;total=3.50;{owner}"),
        ));
        records.push(rec(
            Entity::OrderLines,
            &format!("order_id={order};line=1;product_id=p1;quantity=1;unit_price=3.50"),
        ));
    }
    put_all(&store, records).unwrap();
    let scoped = |entity: Entity, field: &str| -> Vec<String> {
        let scope = crate::owner_predicate(entity, &["u1".to_string()]).unwrap();
        let q = crate::ListQuery { filters: &[], condition: Some(&scope), after: None, limit: 10 };
        store
            .list(entity, &q)
            .unwrap()
            .iter()
            .map(|r| r.get(field).as_text().unwrap().to_string())
            .collect()
    };
    // u1's deal's history only (every deal has an owner).
    assert_eq!(scoped(Entity::StageChanges, "deal_id"), ["d1"]);
    // u1's order's lines and the unowned order's, not u2's.
    assert_eq!(scoped(Entity::OrderLines, "order_id"), ["o1", "o2"]);
    assert_eq!(scoped(Entity::Orders, "id"), ["o1", "o2"]);
}

/// What the bulk writer's missing foreign-key enforcement relies on: SQLite enforces on the
/// entity tables exactly the `Ref` fields of the schema, which the writer checks itself.
#[test]
fn every_foreign_key_is_a_reference_field_the_writer_checks() {
    let (_dir, store) = store();
    let conn = store.write.lock().unwrap();
    for entity in Entity::ALL {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{}')",
                super::table(entity)
            ))
            .unwrap();
        let mut enforced: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        enforced.sort();
        let mut checked: Vec<(String, String)> = entity
            .fields()
            .iter()
            .filter_map(|f| match f.ty {
                traction_domain::schema::FieldType::Ref(target) => {
                    Some((super::table(target).to_string(), f.name.to_string()))
                }
                _ => None,
            })
            .collect();
        checked.sort();
        assert_eq!(enforced, checked, "{entity}");
    }
}

fn foreign_keys_on(store: &SqliteStore) -> bool {
    let conn = store.write.lock().unwrap_or_else(|p| p.into_inner());
    conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0)).unwrap() == 1
}

/// A write on the writer's connection that leaves a dangling reference is refused at commit
/// when foreign keys are enforced there.
fn dangling_write_is_refused(store: &SqliteStore) -> bool {
    let conn = store.write.lock().unwrap_or_else(|p| p.into_inner());
    conn.execute_batch(
        "BEGIN; INSERT INTO teams (id, name, parent_id) VALUES ('tx', 'X', 'none');",
    )
    .unwrap();
    let refused = conn.execute_batch("COMMIT").is_err();
    if refused {
        conn.execute_batch("ROLLBACK").unwrap();
    } else {
        conn.execute_batch("DELETE FROM teams WHERE id = 'tx'").unwrap();
    }
    refused
}

#[test]
fn a_bulk_writer_checks_references_itself_and_foreign_keys_come_back_after_it() {
    let (_dir, store) = store();
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    // Committed: references to records put earlier in the same transaction are fine.
    let mut w = store.bulk_writer().unwrap();
    for (idx, r) in pipeline().into_iter().enumerate() {
        w.put(idx as u64 + 2, r).unwrap();
    }
    w.put(10, rec(Entity::Leads, "id=l1;owner_id=u1;source=web;created_at=2026-01-01T00:00:00Z"))
        .unwrap();
    w.commit().unwrap();
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    assert_eq!(store.count(Entity::Leads).unwrap(), 1);
    // A dangling reference: the same problem as an ordinary writer's, and nothing stored.
    let dangling = || {
        rec(
            Entity::Activities,
            "id=a1;kind=call;owner_id=u1;lead_id=nobody;occurred_at=2026-01-02T00:00:00Z",
        )
    };
    let mut w = store.bulk_writer().unwrap();
    let bulk = problems(w.put(7, dangling()).unwrap_err());
    drop(w);
    let mut w = store.writer().unwrap();
    let ordinary = problems(w.put(7, dangling()).unwrap_err());
    drop(w);
    assert_eq!(bulk, vec!["lead_id: \"nobody\": no such lead".to_string()]);
    assert_eq!(bulk, ordinary);
    assert_eq!(store.count(Entity::Activities).unwrap(), 0);
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    // A forward reference to the record's own entity that never comes: refused at commit.
    let mut w = store.bulk_writer().unwrap();
    w.put(3, rec(Entity::Teams, "id=t2;name=South;parent_id=t9")).unwrap();
    let err = problems(w.commit().unwrap_err());
    assert_eq!(err, vec!["parent_id: \"t9\": no such team".to_string()]);
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    // Rehearsed, and dropped while a panic unwinds.
    let w = store.bulk_writer().unwrap();
    w.rehearse().unwrap();
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _w = store.bulk_writer().unwrap();
        panic!("a bug in the middle of an import");
    }));
    assert!(unwound.is_err());
    assert!(foreign_keys_on(&store) && dangling_write_is_refused(&store));
    // The next ordinary write is checked by SQLite too, and deletes stay with ordinary writers.
    let mut w = store.bulk_writer().unwrap();
    let err = w.delete(Entity::Leads, &[Value::Text("l1".into())]).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err}");
    drop(w);
    assert_eq!(store.count(Entity::Leads).unwrap(), 1);
    assert!(foreign_keys_on(&store));
}

#[test]
fn audit_json_strings_are_escaped_and_plain_ones_copied() {
    let mut out = String::new();
    super::auth::push_json_string(&mut out, "plain é");
    super::auth::push_json_string(&mut out, "a\"b\\c\nd\u{1}");
    assert_eq!(out, "\"plain é\"\"a\\\"b\\\\c\\nd\\u0001\"");
}
