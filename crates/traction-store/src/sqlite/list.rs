//! Listing a page of records: equality filters, keyset pagination in key order.
//!
//! The HTTP API pages through an entity with a cursor that is the last key it returned
//! (keyset pagination), not an offset: records added while a client pages never shift what it
//! has not seen yet, and each page is an index range scan however deep the client is.

use rusqlite::Connection;
use traction_domain::schema::Entity;

use super::{Param, column_list, read_record, table};
use crate::{Error, ListQuery, Record};

/// The records of `entity` that match `query`, in key order.
pub(crate) fn list(
    conn: &Connection,
    entity: Entity,
    query: &ListQuery<'_>,
) -> Result<Vec<Record>, Error> {
    // Anonymous `?` placeholders throughout, bound in the order the conditions are written, so
    // a compiled condition's own `?`s slot in without renumbering.
    let mut conditions = Vec::new();
    let mut params: Vec<Param<'_>> = Vec::new();
    for (name, value) in query.filters {
        // Field names come from the schema, never from the caller's text.
        let Some(field) = entity.field(name) else {
            return Err(Error::Invalid(vec![crate::Problem {
                tag: None,
                field: (*name).to_string(),
                message: format!("{entity} has no field {name:?}"),
            }]));
        };
        params.push(Param(value));
        // `IS` rather than `=`, so a null filter value matches absent values.
        conditions.push(format!("{} IS ?", field.name));
    }
    if let Some(condition) = &query.condition {
        conditions.push(format!("({})", condition.sql));
        params.extend(condition.params.iter().map(Param));
    }
    let key = entity.key();
    if let Some(after) = query.after {
        if after.len() != key.len() {
            return Err(Error::Invalid(vec![crate::Problem {
                tag: None,
                field: "cursor".into(),
                message: format!("a {entity} cursor holds {} values", key.len()),
            }]));
        }
        params.extend(after.iter().map(Param));
        // A row-value comparison: (a, b) > (?, ?) follows the order of the primary key index.
        let placeholders = vec!["?"; key.len()].join(", ");
        conditions.push(format!("({}) > ({placeholders})", key.join(", ")));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {} FROM {}{where_clause} ORDER BY {} LIMIT {}",
        column_list(entity),
        table(entity),
        key.join(", "),
        query.limit
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
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
                    condition: Some(crate::Condition {
                        sql: "visitors < ?",
                        params: &[Value::Int(5)],
                    }),
                    after: Some(&after),
                    limit: 10,
                },
            )
            .unwrap();
        // ads rows: 2026-01-01 (7 visitors, and before the cursor) and 2026-01-03 (1 visitor).
        assert_eq!(keys(&found), ["2026-01-03/ads"]);
    }
}
