//! Finding records by what people type in a search box: the start of a name, an e-mail address
//! or an id, case-insensitively, through an index on each searched field (migration V10), so a
//! search costs the same on a database of any size. Only the fields below are searchable.

use rusqlite::Connection;
use traction_domain::{Entity, Record};

use super::{SqliteStore, column_list, read_record, table};
use crate::{Error, SearchStore};

/// The fields a search may look in, each with its own case-insensitive index.
pub const SEARCHABLE: &[(Entity, &str)] = &[
    (Entity::Deals, "name"),
    (Entity::Deals, "id"),
    (Entity::Accounts, "name"),
    (Entity::Accounts, "id"),
    (Entity::Contacts, "name"),
    (Entity::Contacts, "email"),
    (Entity::Contacts, "id"),
    (Entity::Leads, "id"),
];

impl SearchStore for SqliteStore {
    fn search_prefix(
        &self,
        entity: Entity,
        field: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        if !SEARCHABLE.contains(&(entity, field)) {
            return Err(Error::Invalid(vec![
                traction_domain::FieldProblem::new(
                    field,
                    format!("{} cannot be searched by {field}", entity.name()),
                )
                .into(),
            ]));
        }
        let prefix = prefix.trim();
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        self.with_reader(|conn| search(conn, entity, field, prefix, limit))
    }
}

fn search(
    conn: &Connection,
    entity: Entity,
    field: &str,
    prefix: &str,
    limit: usize,
) -> Result<Vec<Record>, Error> {
    // `LIKE 'abc%'` with an escape character uses the NOCASE index on the column.
    let escaped: String = prefix
        .chars()
        .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
        .collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {field} LIKE ?1 ESCAPE '\\' ORDER BY {field} COLLATE NOCASE LIMIT ?2",
        column_list(entity),
        table(entity)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query((format!("{escaped}%"), limit as i64))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_record(entity, row)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use traction_domain::Value;

    use super::*;
    use crate::Store;

    #[test]
    fn a_prefix_finds_names_and_emails_in_any_case_through_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let mut w = store.writer().unwrap();
        for (id, name, email) in [
            ("c1", "Carol Contact", "carol@example.com"),
            ("c2", "carl 100%", "CARL@example.com"),
            ("c3", "Dora", "dora@example.com"),
        ] {
            let mut r = Record {
                entity: Entity::Contacts,
                values: vec![Value::Null; Entity::Contacts.fields().len()],
            };
            r.set("id", Value::Text(id.into()));
            r.set("name", Value::Text(name.into()));
            r.set("email", Value::Text(email.into()));
            r.set("created_at", Value::Instant(0));
            w.put(0, r).unwrap();
        }
        w.commit().unwrap();
        let ids = |field: &str, prefix: &str| -> Vec<String> {
            store
                .search_prefix(Entity::Contacts, field, prefix, 10)
                .unwrap()
                .iter()
                .map(|r| r.get("id").as_text().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids("name", "car"), ["c2", "c1"]);
        assert_eq!(ids("email", "carl@"), ["c2"]);
        assert_eq!(ids("name", "carl 100%"), ["c2"], "% is a character, not a wildcard");
        assert_eq!(ids("name", "carl 1000"), Vec::<String>::new());
        assert!(ids("name", " ").is_empty());
        assert!(store.search_prefix(Entity::Contacts, "phone", "1", 10).is_err());
        // Each search reads an index, not the table.
        for (entity, field) in SEARCHABLE {
            let plan: String = store.with_reader(|c| {
                let sql = format!(
                    "EXPLAIN QUERY PLAN SELECT * FROM {} WHERE {field} LIKE 'a%' ESCAPE '\\' ORDER BY {field} COLLATE NOCASE LIMIT 5",
                    table(*entity)
                );
                let mut stmt = c.prepare(&sql).unwrap();
                let rows: Vec<String> =
                    stmt.query_map([], |r| r.get::<_, String>(3)).unwrap().map(|r| r.unwrap()).collect();
                rows.join("; ")
            });
            assert!(
                plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"),
                "{entity} {field}: {plan}"
            );
            assert!(!plan.contains("SCAN"), "{entity} {field}: {plan}");
        }
    }
}
