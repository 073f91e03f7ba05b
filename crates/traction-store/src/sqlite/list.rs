//! Listing a page of records: equality filters, keyset pagination in key order — or newest first
//! by a time field.
//!
//! The HTTP API pages through an entity with a cursor that is the last key it returned
//! (keyset pagination), not an offset: records added while a client pages never shift what it
//! has not seen yet, and each page is an index range scan however deep the client is.

use rusqlite::Connection;
use traction_domain::schema::{Entity, FieldType};

use super::{Param, column_list, read_record, table};
use crate::{Error, ListQuery, Record, Value};

/// The records of `entity` that match `query`, in key order.
pub(crate) fn list(
    conn: &Connection,
    entity: Entity,
    query: &ListQuery<'_>,
) -> Result<Vec<Record>, Error> {
    // Anonymous `?` placeholders throughout, bound in the order the conditions are written, so
    // a compiled condition's own `?`s slot in without renumbering.
    let (mut conditions, mut params) = matching(entity, query)?;
    let key = entity.key();
    if let Some(after) = query.after {
        if after.len() != key.len() {
            return Err(invalid("cursor", format!("a {entity} cursor holds {} values", key.len())));
        }
        params.extend(after.iter().cloned());
        // A row-value comparison: (a, b) > (?, ?) follows the order of the primary key index.
        let placeholders = vec!["?"; key.len()].join(", ");
        conditions.push(format!("({}) > ({placeholders})", key.join(", ")));
    }
    let order = key.join(", ");
    select(conn, entity, &conditions, &params, &order, query.limit)
}

/// The records of `entity` that match `query`, newest first by `time_field` (ties in reverse key
/// order, records without a time last). A cursor (`query.after`) is the previous page's last
/// record as its time value followed by its key values; the page starts strictly after it.
pub(crate) fn recent(
    conn: &Connection,
    entity: Entity,
    time_field: &str,
    query: &ListQuery<'_>,
) -> Result<Vec<Record>, Error> {
    // The time field comes from the schema, never from the caller's text.
    let field = entity
        .field(time_field)
        .filter(|f| matches!(f.ty, FieldType::Timestamp | FieldType::Date))
        .ok_or_else(|| {
            invalid(time_field, format!("{entity} has no timestamp or date field {time_field:?}"))
        })?;
    let time = field.name;
    let (mut conditions, mut params) = matching(entity, query)?;
    let key = entity.key();
    if let Some(after) = query.after {
        if after.len() != key.len() + 1 {
            return Err(invalid(
                "cursor",
                format!("a {entity} cursor holds {} values: {time}, then the key", key.len() + 1),
            ));
        }
        let key_places = vec!["?"; key.len()].join(", ");
        let keys = key.join(", ");
        if after[0].is_null() {
            // Among the records without a time, by key descending.
            params.extend(after[1..].iter().cloned());
            conditions.push(format!("({time} IS NULL AND ({keys}) < ({key_places}))"));
        } else {
            params.extend(after.iter().cloned());
            conditions.push(format!("(({time}, {keys}) < (?, {key_places}) OR {time} IS NULL)"));
        }
    }
    let order = std::iter::once(format!("{time} IS NULL, {time} DESC"))
        .chain(key.iter().map(|k| format!("{k} DESC")))
        .collect::<Vec<_>>()
        .join(", ");
    select(conn, entity, &conditions, &params, &order, query.limit)
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid(vec![crate::Problem { tag: None, field: field.to_string(), message }])
}

/// The conditions and parameters of a query's filters and condition.
fn matching(entity: Entity, query: &ListQuery<'_>) -> Result<(Vec<String>, Vec<Value>), Error> {
    let mut conditions = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    for (name, value) in query.filters {
        // Field names come from the schema, never from the caller's text.
        let Some(field) = entity.field(name) else {
            return Err(invalid(name, format!("{entity} has no field {name:?}")));
        };
        params.push(value.clone());
        // `IS` rather than `=`, so a null filter value matches absent values.
        conditions.push(format!("{} IS ?", field.name));
    }
    if let Some(condition) = query.condition {
        let (sql, values) = super::predicate::compile(entity, condition)?;
        conditions.push(format!("({sql})"));
        params.extend(values);
    }
    Ok((conditions, params))
}

pub(crate) fn select(
    conn: &Connection,
    entity: Entity,
    conditions: &[String],
    params: &[Value],
    order: &str,
    limit: usize,
) -> Result<Vec<Record>, Error> {
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {} FROM {}{where_clause} ORDER BY {order} LIMIT {limit}",
        column_list(entity),
        table(entity),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(Param)))?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(read_record(entity, row)?);
    }
    Ok(records)
}

/// Each product's stock on hand: its opening stock plus the sum of its movements (data-model.md,
/// products). Products not found are left out.
pub(crate) fn stock_on_hand(
    conn: &Connection,
    product_ids: &[&str],
) -> Result<Vec<(String, i64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, coalesce(p.opening_stock, 0)
             + coalesce((SELECT sum(delta) FROM inventory_movements m WHERE m.product_id = p.id), 0)
         FROM products p WHERE p.id = ?1",
    )?;
    let mut out = Vec::with_capacity(product_ids.len());
    for id in product_ids {
        let mut rows = stmt.query([id])?;
        if let Some(row) = rows.next()? {
            out.push((row.get(0)?, row.get(1)?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use traction_domain::{Entity, Value};

    use crate::sqlite::SqliteStore;
    use crate::{ListQuery, Store};

    fn store_with_visits() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let mut w = store.writer().unwrap();
        for (day, source, visitors) in [
            ("2026-01-02", "web", 5),
            ("2026-01-01", "web", 3),
            ("2026-01-01", "ads", 7),
            ("2026-01-03", "ads", 1),
        ] {
            let values = vec![
                Value::Date(day.parse().unwrap()),
                Value::Text(source.into()),
                Value::Int(visitors),
            ];
            w.put(0, traction_domain::Record { entity: Entity::WebVisits, values }).unwrap();
        }
        w.commit().unwrap();
        (dir, store)
    }

    fn keys(records: &[traction_domain::Record]) -> Vec<String> {
        records.iter().map(|r| r.key_text()).collect()
    }

    #[test]
    fn pages_follow_the_key_order_and_resume_after_the_cursor() {
        let (_dir, store) = store_with_visits();
        let first = store
            .list(
                Entity::WebVisits,
                &ListQuery { filters: &[], condition: None, after: None, limit: 2 },
            )
            .unwrap();
        assert_eq!(keys(&first), ["2026-01-01/ads", "2026-01-01/web"]);
        let last_key = [first[1].get("day").clone(), first[1].get("source").clone()];
        let second = store
            .list(
                Entity::WebVisits,
                &ListQuery { filters: &[], condition: None, after: Some(&last_key), limit: 2 },
            )
            .unwrap();
        assert_eq!(keys(&second), ["2026-01-02/web", "2026-01-03/ads"]);
    }

    #[test]
    fn filters_match_by_equality_and_null_matches_absent() {
        let (_dir, store) = store_with_visits();
        let ads = store
            .list(
                Entity::WebVisits,
                &ListQuery {
                    filters: &[("source", Value::Text("ads".into()))],
                    condition: None,
                    after: None,
                    limit: 10,
                },
            )
            .unwrap();
        assert_eq!(keys(&ads), ["2026-01-01/ads", "2026-01-03/ads"]);
        let none = store
            .list(
                Entity::Teams,
                &ListQuery {
                    filters: &[("parent_id", Value::Null)],
                    condition: None,
                    after: None,
                    limit: 10,
                },
            )
            .unwrap();
        assert!(none.is_empty());
        let err = store
            .list(
                Entity::Teams,
                &ListQuery {
                    filters: &[("nope", Value::Null)],
                    condition: None,
                    after: None,
                    limit: 10,
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("no field \"nope\""), "{err}");
    }

    #[test]
    fn a_condition_binds_between_filters_and_cursor() {
        let (_dir, store) = store_with_visits();
        let after = [Value::Date("2026-01-01".parse().unwrap()), Value::Text("web".into())];
        let found = store
            .list(
                Entity::WebVisits,
                &ListQuery {
                    filters: &[("source", Value::Text("ads".into()))],
                    condition: Some(&crate::Predicate::compare(
                        "visitors",
                        crate::CmpOp::Lt,
                        Value::Int(5),
                    )),
                    after: Some(&after),
                    limit: 10,
                },
            )
            .unwrap();
        // ads rows: 2026-01-01 (7 visitors, and before the cursor) and 2026-01-03 (1 visitor).
        assert_eq!(keys(&found), ["2026-01-03/ads"]);
    }

    #[test]
    fn recent_is_newest_first_with_ties_by_key_and_resumes_after_the_cursor() {
        let (_dir, store) = store_with_visits();
        let q = |filters, after, limit| ListQuery { filters, condition: None, after, limit };
        let all = store.recent(Entity::WebVisits, "day", &q(&[], None, 10)).unwrap();
        assert_eq!(
            keys(&all),
            ["2026-01-03/ads", "2026-01-02/web", "2026-01-01/web", "2026-01-01/ads"]
        );
        // A page ending inside a tie resumes with the rest of the tie.
        let first = store.recent(Entity::WebVisits, "day", &q(&[], None, 3)).unwrap();
        let last = &first[2];
        let cursor = [last.get("day").clone(), last.get("day").clone(), last.get("source").clone()];
        let second = store.recent(Entity::WebVisits, "day", &q(&[], Some(&cursor), 3)).unwrap();
        assert_eq!(keys(&second), ["2026-01-01/ads"]);
        let filters = [("source", Value::Text("ads".into()))];
        let ads = store.recent(Entity::WebVisits, "day", &q(&filters, None, 10)).unwrap();
        assert_eq!(keys(&ads), ["2026-01-03/ads", "2026-01-01/ads"]);
        // Only timestamp and date fields order a list; the name is checked against the schema.
        for bad in ["source", "day; DROP TABLE web_visits", "nope"] {
            let err = store.recent(Entity::WebVisits, bad, &q(&[], None, 10)).unwrap_err();
            assert!(err.to_string().contains("no timestamp or date field"), "{err}");
        }
        let short = [Value::Null];
        assert!(store.recent(Entity::WebVisits, "day", &q(&[], Some(&short), 10)).is_err());
    }

    #[test]
    fn recent_puts_records_without_a_time_last_and_pages_through_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let mut w = store.writer().unwrap();
        let hour = 3_600_000_000;
        for (id, qualified) in [("a", Some(2)), ("b", None), ("c", Some(1)), ("d", None)] {
            let mut r = traction_domain::Record {
                entity: Entity::Leads,
                values: vec![Value::Null; Entity::Leads.fields().len()],
            };
            r.set("id", Value::Text(id.into()));
            r.set("created_at", Value::Instant(0));
            r.set("source", Value::Text("web".into()));
            r.set("status", Value::Text("new".into()));
            r.set("qualified_at", qualified.map_or(Value::Null, |h| Value::Instant(h * hour)));
            w.put(0, r).unwrap();
        }
        w.commit().unwrap();
        let ids = |rs: &[traction_domain::Record]| -> Vec<String> {
            rs.iter().map(|r| r.get("id").as_text().unwrap().to_string()).collect()
        };
        let all = store
            .recent(
                Entity::Leads,
                "qualified_at",
                &ListQuery { filters: &[], condition: None, after: None, limit: 10 },
            )
            .unwrap();
        assert_eq!(ids(&all), ["a", "c", "d", "b"]);
        let mut seen = Vec::new();
        let mut cursor: Option<Vec<Value>> = None;
        loop {
            let page = store
                .recent(
                    Entity::Leads,
                    "qualified_at",
                    &ListQuery {
                        filters: &[],
                        condition: None,
                        after: cursor.as_deref(),
                        limit: 1,
                    },
                )
                .unwrap();
            let Some(last) = page.last() else { break };
            seen.push(last.get("id").as_text().unwrap().to_string());
            cursor = Some(vec![last.get("qualified_at").clone(), last.get("id").clone()]);
        }
        assert_eq!(seen, ["a", "c", "d", "b"], "paging one at a time visits every record once");
    }
}
