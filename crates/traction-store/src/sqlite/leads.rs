//! [`LeadStore`] on SQLite: the waiting leads counted and paged from the partial index
//! `leads_waiting` (V17).

use traction_domain::{Entity, Value};

use super::{SqliteStore, list};
use crate::Error;
use crate::leads::{LeadStore, WaitingLeads, WaitingQuery};

/// What makes a lead wait, word for word the condition of the index `leads_waiting`, so that
/// SQLite reads that index.
const WAITING: &str = "status = 'new' AND first_response_at IS NULL";

/// The counts: `?1` since, `?2` at, `?3` at − sla, `?4` the owner or null, `?5` the source or
/// null.
fn counts_sql() -> String {
    format!(
        "SELECT coalesce(sum(created_at >= ?1), 0),
                coalesce(sum(created_at >= ?1 AND created_at < ?3), 0),
                coalesce(sum(created_at < ?1), 0)
         FROM leads
         WHERE {WAITING} AND created_at <= ?2
           AND (?4 IS NULL OR owner_id = ?4) AND (?5 IS NULL OR source = ?5)"
    )
}

/// The sources of the waiting leads: `?1` at, `?2` the owner or null.
fn sources_sql() -> String {
    format!(
        "SELECT DISTINCT source FROM leads
         WHERE {WAITING} AND created_at <= ?1 AND (?2 IS NULL OR owner_id = ?2)
         ORDER BY source"
    )
}

impl LeadStore for SqliteStore {
    fn waiting_leads(&self, query: &WaitingQuery<'_>) -> Result<WaitingLeads, Error> {
        let conn = self.light_reader();
        // Past the SLA: at − created_at > sla, that is created_at < at − sla.
        let late_before = query.at.saturating_sub(query.sla);
        let (waiting, past_sla, older): (i64, i64, i64) =
            conn.prepare_cached(&counts_sql())?.query_row(
                rusqlite::params![query.since, query.at, late_before, query.owner, query.source],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        let sources = conn
            .prepare_cached(&sources_sql())?
            .query_map(rusqlite::params![query.at, query.owner], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;

        let mut values = vec![Value::Instant(query.since), Value::Instant(query.at)];
        let mut conditions =
            vec![WAITING.to_string(), "created_at >= ?".into(), "created_at <= ?".into()];
        if let Some(owner) = query.owner {
            values.push(Value::Text(owner.to_string()));
            conditions.push("owner_id = ?".into());
        }
        if let Some(source) = query.source {
            values.push(Value::Text(source.to_string()));
            conditions.push("source = ?".into());
        }
        if let Some((created_at, id)) = query.after {
            values.extend([Value::Instant(created_at), Value::Text(id.to_string())]);
            conditions.push("(created_at, id) < (?, ?)".into());
        }
        let mut page = list::select(
            &conn,
            Entity::Leads,
            &conditions,
            &values,
            "created_at DESC, id DESC",
            query.limit.saturating_add(1),
        )?;
        let more = page.len() > query.limit;
        page.truncate(query.limit);
        Ok(WaitingLeads {
            waiting: waiting as u64,
            past_sla: past_sla as u64,
            older: older as u64,
            sources,
            page,
            more,
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use traction_domain::record::parse_field;
    use traction_domain::{Currency, Entity, ParseContext, Record};

    use super::*;
    use crate::Store;

    /// 2026-11-23T12:00:00Z.
    const AT: i64 = 1_795_435_200_000_000;
    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;

    fn rec(entity: Entity, pairs: &[(&str, &str)]) -> Record {
        let ctx = ParseContext { zone: TimeZone::UTC, currency: Currency::USD, now: AT };
        let values = entity
            .fields()
            .iter()
            .map(|f| {
                let raw = pairs.iter().find(|(n, _)| *n == f.name).map_or("", |(_, v)| *v);
                parse_field(f, raw, &ctx).unwrap_or_else(|e| panic!("{}: {e}", f.name))
            })
            .collect();
        Record { entity, values }
    }

    fn lead(id: &str, owner: &str, source: &str, created: &str, more: &[(&str, &str)]) -> Record {
        let mut pairs =
            vec![("id", id), ("owner_id", owner), ("source", source), ("created_at", created)];
        pairs.extend_from_slice(more);
        rec(Entity::Leads, &pairs)
    }

    /// The leads of the hand-worked example, around 2026-11-23T12:00:00Z with a 60-minute SLA
    /// and a 30-day window (since 2026-10-24T12:00:00Z).
    fn example() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let mut w = store.writer().unwrap();
        let records = vec![
            rec(Entity::Users, &[("id", "u1"), ("name", "Ann")]),
            rec(Entity::Users, &[("id", "u2"), ("name", "Bob")]),
            // Exactly one SLA old: within it.
            lead("l1", "u1", "web", "2026-11-23T11:00:00Z", &[]),
            // One second more: past it.
            lead("l2", "u1", "web", "2026-11-23T10:59:59Z", &[]),
            lead("l3", "u2", "referral", "2026-11-23T11:30:00Z", &[]),
            lead("l4", "u2", "web", "2026-11-01T08:00:00Z", &[]),
            // Before the window: older.
            lead("l5", "u1", "web", "2026-10-01T08:00:00Z", &[]),
            // Answered, or no longer new: not waiting.
            lead(
                "l6",
                "u1",
                "web",
                "2026-11-23T09:00:00Z",
                &[("first_response_at", "2026-11-23T09:10:00Z")],
            ),
            lead("l7", "u1", "web", "2026-11-23T09:00:00Z", &[("status", "disqualified")]),
            // After the instant asked about: not waiting yet.
            lead("l8", "u1", "event", "2026-11-23T12:30:00Z", &[]),
            // Nobody's, at the very start of the window: counted, and past the SLA.
            lead("l9", "", "web", "2026-10-24T12:00:00Z", &[]),
        ];
        for (idx, r) in records.into_iter().enumerate() {
            w.put(idx as u64, r).unwrap();
        }
        w.commit().unwrap();
        (dir, store)
    }

    fn query<'a>(owner: Option<&'a str>, source: Option<&'a str>) -> WaitingQuery<'a> {
        WaitingQuery {
            at: AT,
            since: AT - 30 * DAY,
            sla: HOUR,
            owner,
            source,
            after: None,
            limit: 10,
        }
    }

    fn ids(leads: &WaitingLeads) -> Vec<&str> {
        leads.page.iter().map(|r| r.get("id").as_text().unwrap()).collect()
    }

    #[test]
    fn waiting_leads_are_counted_and_listed_by_owner_and_source() {
        let (_dir, store) = example();
        let all = store.waiting_leads(&query(None, None)).unwrap();
        assert_eq!((all.waiting, all.past_sla, all.older), (5, 3, 1));
        assert_eq!(ids(&all), ["l3", "l1", "l2", "l4", "l9"]);
        assert_eq!(all.sources, ["referral", "web"]);
        assert!(!all.more);

        let ann = store.waiting_leads(&query(Some("u1"), None)).unwrap();
        assert_eq!((ann.waiting, ann.past_sla, ann.older), (2, 1, 1));
        assert_eq!(ids(&ann), ["l1", "l2"]);
        assert_eq!(ann.sources, ["web"]);

        let bob = store.waiting_leads(&query(Some("u2"), None)).unwrap();
        assert_eq!((bob.waiting, bob.past_sla, bob.older), (2, 1, 0));
        assert_eq!(ids(&bob), ["l3", "l4"]);

        let web = store.waiting_leads(&query(None, Some("web"))).unwrap();
        assert_eq!((web.waiting, web.past_sla, web.older), (4, 3, 1));
        assert_eq!(ids(&web), ["l1", "l2", "l4", "l9"]);

        // A 59-minute SLA puts l1 (60 minutes) past it too; two hours leaves l2 within it.
        let strict =
            store.waiting_leads(&WaitingQuery { sla: HOUR - 60_000_000, ..query(None, None) });
        assert_eq!(strict.unwrap().past_sla, 4);
        let loose = store.waiting_leads(&WaitingQuery { sla: 2 * HOUR, ..query(None, None) });
        assert_eq!(loose.unwrap().past_sla, 2);
    }

    #[test]
    fn waiting_leads_come_a_page_at_a_time() {
        let (_dir, store) = example();
        let page = |after: Option<(i64, &str)>| {
            store.waiting_leads(&WaitingQuery { after, limit: 2, ..query(None, None) }).unwrap()
        };
        let first = page(None);
        assert_eq!((ids(&first), first.more, first.waiting), (vec!["l3", "l1"], true, 5));
        let l1 = AT - HOUR;
        let second = page(Some((l1, "l1")));
        assert_eq!((ids(&second), second.more), (vec!["l2", "l4"], true));
        let l4 = AT - 22 * DAY - 4 * HOUR;
        let third = page(Some((l4, "l4")));
        assert_eq!((ids(&third), third.more), (vec!["l9"], false));
    }

    #[test]
    fn waiting_leads_are_read_from_their_index() {
        let (_dir, store) = example();
        let page_sql = format!(
            "SELECT * FROM leads WHERE {WAITING} AND created_at >= ? AND created_at <= ?
               AND owner_id = ? AND (created_at, id) < (?, ?)
             ORDER BY created_at DESC, id DESC LIMIT 3"
        );
        for sql in [counts_sql(), sources_sql(), page_sql] {
            let plan: String = store.with_reader(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let unbound = vec![rusqlite::types::Null; stmt.parameter_count()];
                let rows: Vec<String> = stmt
                    .query_map(rusqlite::params_from_iter(unbound), |r| r.get::<_, String>(3))
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                rows.join("; ")
            });
            assert!(plan.contains("INDEX leads_waiting"), "{sql}: {plan}");
            assert!(!plan.contains("SCAN leads "), "{sql}: {plan}");
        }
    }
}
