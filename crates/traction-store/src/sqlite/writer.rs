//! One write transaction on the SQLite store.
//!
//! `put` checks what one record needs from the stored data (its references exist, a deal's stage
//! fits its pipeline and fixes its status) and upserts it; the rules that span records are checked
//! in `commit`, on the data as it then stands (spec: data-model.md, Rules that span records).
//!
//! A bulk writer ([`SqliteWriter::begin_bulk`], the imports') runs its transaction with SQLite's
//! foreign-key enforcement off: the connection's `PRAGMA foreign_keys` is set off before `BEGIN`
//! (it cannot change inside a transaction) and on again when the writer ends — committed, rolled
//! back, failed or dropped while a panic unwinds (`Drop`, before the connection's lock is let
//! go, so no other write ever runs on it with enforcement off). Nothing is lost by it: every
//! foreign key SQLite would enforce on what such a transaction writes is already checked here:
//! - each `REFERENCES` of an entity table is a `FieldType::Ref` field of the schema (the test
//!   `every_foreign_key_is_a_reference_field_the_writer_checks` pins it), and `check` looks up
//!   every non-empty `Ref` of every record put, against the stored rows and the ids put earlier
//!   in the transaction (`known` only ever holds ids seen stored or put here), with the same
//!   message per field and line as before (`"x": no such lead`); references to the record's own
//!   entity (a team's parent) are looked up again at commit (`pending_refs`);
//! - nothing can leave a stored reference dangling: a bulk writer refuses `delete`, and an update
//!   never rewrites a key column (`EntitySql`);
//! - what the transaction derives refers only to checked records (sale movements take the product
//!   of a checked order line, a lead's answer is put through `check`), and the audit log,
//!   `customer_stats` and the cache versions have no foreign keys.
//!
//! So no set-based check is needed before `COMMIT`; SQLite's deferred enforcement looked up the
//! same parents a second time per row (about a third of an activities import's time).

use std::collections::{HashMap, HashSet};
use traction_domain::money::{Currency, format_minor};
use traction_domain::record::check_record;
use traction_domain::schema::{Entity, FieldType};
use traction_domain::{Record, Value};

use super::auth;
use super::{Held, Param, column_list, key_condition, table, workspace_of};
use crate::{Actor, Change, ChangeKind, Error, Problem, PutOutcome, Summary, Writer};

/// The SQL of one entity's writes, built once per transaction.
struct EntitySql {
    insert: String,
    update: String,
}

impl EntitySql {
    fn new(entity: Entity) -> EntitySql {
        let fields = entity.fields();
        let placeholders: Vec<String> = (1..=fields.len()).map(|i| format!("?{i}")).collect();
        let keys = entity.key();
        let key_cond = keys
            .iter()
            .map(|k| format!("{k} = ?{}", entity.field_index(k).unwrap_or(0) + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        // The key is not set again: naming a parent key in an UPDATE makes SQLite look for child
        // rows referring to it (a scan of every table without an index on its reference).
        let others: Vec<(usize, &str)> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !keys.contains(&f.name))
            .map(|(idx, f)| (idx + 1, f.name))
            .collect();
        let differs = others
            .iter()
            .map(|(n, name)| format!("{name} IS NOT ?{n}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let update = if others.is_empty() {
            // Every field is the key: an existing record cannot differ.
            format!("UPDATE {} SET {k} = {k} WHERE 0", table(entity), k = keys[0])
        } else {
            format!(
                "UPDATE {} SET ({}) = ({}) WHERE {key_cond} AND ({differs})",
                table(entity),
                others.iter().map(|(_, name)| *name).collect::<Vec<_>>().join(", "),
                others.iter().map(|(n, _)| format!("?{n}")).collect::<Vec<_>>().join(", ")
            )
        };
        // A new record costs one statement (the insert); an existing one a second (the update,
        // which changes the row only when a value differs, so `changes()` tells unchanged rows).
        EntitySql {
            insert: format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
                table(entity),
                column_list(entity),
                placeholders.join(", "),
                keys.join(", ")
            ),
            update,
        }
    }
}

pub(crate) struct SqliteWriter<'a> {
    conn: Held<'a>,
    open: bool,
    /// A savepoint of a batch's transaction (group.rs), not a transaction of its own.
    nested: bool,
    currency: Currency,
    summary: Summary,
    sql: HashMap<Entity, EntitySql>,
    /// Ids known to exist, per entity: saves a lookup per reference on large imports.
    known: HashMap<Entity, HashSet<String>>,
    /// A stage's kind and pipeline, by stage id.
    stages: HashMap<String, (String, String)>,
    /// References to the record's own entity (a team's parent), checked at commit since the
    /// record referred to may come later in the same batch.
    pending_refs: Vec<(u64, Entity, &'static str, String)>,
    touched_pipelines: HashMap<String, u64>,
    touched_stages: HashMap<String, u64>,
    touched_teams: HashMap<String, u64>,
    any_order_touched: bool,
    /// The tables this transaction writes, whose versions it raises (query_cache.rs).
    tables: std::collections::BTreeSet<&'static str>,
    /// The time slices of the records it inserts (updates and deletes are noted by triggers).
    slices: std::collections::BTreeSet<(&'static str, &'static str, i64)>,
    /// Whether each entity (by discriminant) is the target of some reference field.
    referenced: [bool; Entity::ALL.len()],
    /// Who the changes are audited as; `None`: not audited.
    actor: Option<Actor>,
    /// Leads answered by activities of this transaction: the earliest answer and its tag
    /// (`traction_domain::leads`), applied at commit.
    answered_leads: HashMap<String, (i64, u64)>,
    /// The database's clock, read once, for writes without the actor's time.
    db_now: Option<i64>,
    /// Whether this transaction records deals' stage history itself
    /// ([`Writer::record_stage_history`]).
    stage_history: bool,
    /// Stages deals entered through this transaction's puts: (deal, stage, when, tag), recorded
    /// as stage changes at commit unless the transaction put a stage change for that deal.
    entered_stages: Vec<(String, Value, Value, u64)>,
    /// Deals whose stage changes this transaction put itself.
    deals_with_history: HashSet<String>,
    /// A bulk writer: foreign-key enforcement off for the transaction, deletes refused.
    bulk: bool,
}

impl<'a> SqliteWriter<'a> {
    pub(crate) fn begin(conn: Held<'a>, actor: Option<Actor>) -> Result<SqliteWriter<'a>, Error> {
        SqliteWriter::begin_with(conn, actor, false)
    }

    /// A writer for a bulk import: SQLite's foreign-key enforcement is off until it ends (see the
    /// module's documentation for why every reference is still checked). Never a savepoint of a
    /// grouped batch (imports commit on their own).
    pub(crate) fn begin_bulk(
        conn: Held<'a>,
        actor: Option<Actor>,
    ) -> Result<SqliteWriter<'a>, Error> {
        SqliteWriter::begin_with(conn, actor, true)
    }

    fn begin_with(
        conn: Held<'a>,
        actor: Option<Actor>,
        bulk: bool,
    ) -> Result<SqliteWriter<'a>, Error> {
        let currency = workspace_of(&conn)?.currency;
        let nested = matches!(conn, Held::Batch(_));
        if !nested {
            // Outside a transaction, so it takes effect; an ordinary writer sets it on again in
            // case anything left it off. (Inside a grouped batch's transaction it could not
            // change, and the batch's connection is an ordinary writer's.)
            conn.execute_batch(if bulk {
                "PRAGMA foreign_keys = OFF;"
            } else {
                "PRAGMA foreign_keys = ON;"
            })?;
        }
        let mut writer = SqliteWriter {
            conn,
            open: false,
            nested,
            currency,
            summary: Summary::default(),
            sql: HashMap::new(),
            known: HashMap::new(),
            stages: HashMap::new(),
            pending_refs: Vec::new(),
            touched_pipelines: HashMap::new(),
            touched_stages: HashMap::new(),
            touched_teams: HashMap::new(),
            any_order_touched: false,
            tables: std::collections::BTreeSet::new(),
            slices: std::collections::BTreeSet::new(),
            referenced: Entity::ALL.map(is_referenced),
            actor,
            answered_leads: HashMap::new(),
            db_now: None,
            stage_history: false,
            entered_stages: Vec::new(),
            deals_with_history: HashSet::new(),
            bulk: bulk && !nested,
        };
        // On failure the writer is dropped: rolled back (once open), foreign keys on again.
        writer.conn.execute_batch(if nested { "SAVEPOINT writer" } else { "BEGIN IMMEDIATE" })?;
        writer.open = true;
        writer.conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS touched_orders (id TEXT PRIMARY KEY, tag INTEGER NOT NULL);
             DELETE FROM touched_orders;",
        )?;
        Ok(writer)
    }

    /// The write's time: the actor's clock, else the database's (as the audit log). Read once
    /// per transaction: a large import asks for it once.
    fn write_time(&mut self) -> Result<i64, Error> {
        Ok(match (self.actor.as_ref().and_then(|a| a.at), self.db_now) {
            (Some(at), _) | (None, Some(at)) => at,
            (None, None) => {
                let at: i64 = self.conn.query_row(
                    "SELECT CAST(unixepoch('subsec') * 1000000 AS INTEGER)",
                    [],
                    |r| r.get(0),
                )?;
                self.db_now = Some(at);
                at
            }
        })
    }

    /// Notes the stage a deal enters by this put, when the transaction records stage history
    /// (data-model.md, stage_changes): a new deal enters its stage at its `created_at`, a deal
    /// whose stage changes enters the new one at the write's time.
    fn note_stage_entered(&mut self, tag: u64, deal: &Record) -> Result<(), Error> {
        let id = deal.get("id").as_text().unwrap_or("").to_string();
        let before = super::get_record(&self.conn, Entity::Deals, &[deal.get("id").clone()])?;
        let at = match before {
            None => deal.get("created_at").clone(),
            Some(b) if b.get("stage_id") != deal.get("stage_id") => {
                Value::Instant(self.write_time()?)
            }
            Some(_) => return Ok(()),
        };
        self.entered_stages.push((id, deal.get("stage_id").clone(), at, tag));
        Ok(())
    }

    /// The stage changes noted by [`Self::note_stage_entered`], moved by the actor when the
    /// actor is a user (a command-line or system write names nobody).
    fn record_entered_stages(&mut self) -> Result<(), Error> {
        let by = match self.actor.as_ref().map(|a| a.user.clone()) {
            Some(user) if self.exists(Entity::Users, &user)? => Value::Text(user),
            _ => Value::Null,
        };
        for (deal, stage, at, tag) in std::mem::take(&mut self.entered_stages) {
            if self.deals_with_history.contains(&deal) {
                continue;
            }
            let change = Record {
                entity: Entity::StageChanges,
                values: vec![Value::Text(deal), stage, at, by.clone()],
            };
            self.put(tag, change)?;
        }
        Ok(())
    }

    fn exists(&mut self, entity: Entity, id: &str) -> Result<bool, Error> {
        if self.known.get(&entity).is_some_and(|ids| ids.contains(id)) {
            return Ok(true);
        }
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", table(entity)))?;
        let found = stmt.exists([id])?;
        if found {
            self.known.entry(entity).or_default().insert(id.to_string());
        }
        Ok(found)
    }

    fn stage(&mut self, id: &str) -> Result<Option<(String, String)>, Error> {
        if let Some(stage) = self.stages.get(id) {
            return Ok(Some(stage.clone()));
        }
        let mut stmt =
            self.conn.prepare_cached("SELECT kind, pipeline_id FROM stages WHERE id = ?1")?;
        let mut rows = stmt.query([id])?;
        let found = match rows.next()? {
            Some(row) => Some((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            None => None,
        };
        if let Some(stage) = &found {
            self.stages.insert(id.to_string(), stage.clone());
        }
        Ok(found)
    }

    fn touch_order(&mut self, id: &str, tag: u64) -> Result<(), Error> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO touched_orders (id, tag) VALUES (?1, ?2)")?;
        stmt.execute((id, tag as i64))?;
        self.any_order_touched = true;
        Ok(())
    }

    /// Checks the references and the record-level rules; returns the problems found.
    fn check(&mut self, tag: u64, record: &mut Record) -> Result<Vec<Problem>, Error> {
        let entity = record.entity;
        let mut problems: Vec<Problem> =
            check_record(record).into_iter().map(Problem::from).collect();
        for (idx, field) in entity.fields().iter().enumerate() {
            if field.required && record.values[idx].is_null() {
                problems.push(Problem {
                    tag: None,
                    field: field.name.into(),
                    message: "is required and is missing".into(),
                });
            }
            let FieldType::Ref(target) = field.ty else { continue };
            let Value::Text(id) = &record.values[idx] else { continue };
            if target == entity {
                if record.get("id").as_text() != Some(id) && !self.exists(target, id)? {
                    self.pending_refs.push((tag, target, field.name, id.clone()));
                }
            } else if !self.exists(target, id)? {
                problems.push(Problem {
                    tag: None,
                    field: field.name.into(),
                    message: format!("{id:?}: no such {}", singular(target)),
                });
            }
        }
        match entity {
            Entity::Deals => self.check_deal(record, &mut problems)?,
            Entity::Targets => {
                let scope = record.get("scope").as_text().unwrap_or("").to_string();
                let scoped = if let Some(team) = scope.strip_prefix("team:") {
                    Some((Entity::Teams, team))
                } else {
                    scope.strip_prefix("user:").map(|user| (Entity::Users, user))
                };
                if let Some((target, id)) = scoped
                    && !self.exists(target, id)?
                {
                    problems.push(Problem {
                        tag: None,
                        field: "scope".into(),
                        message: format!("{scope:?}: no such {}", singular(target)),
                    });
                }
            }
            _ => {}
        }
        Ok(problems)
    }

    /// One target per metric, scope and period start (spec: kpis.md, Targets): a second one is a
    /// conflict, seen also against targets written earlier in this transaction.
    fn check_target_unique(&mut self, record: &Record) -> Result<(), Error> {
        let text = |name: &str| record.get(name).as_text().unwrap_or("").to_string();
        let Value::Date(starts_on) = record.get("starts_on") else { return Ok(()) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM targets WHERE metric = ?1 AND scope = ?2 AND period = ?3 \
             AND starts_on = ?4 AND id <> ?5 LIMIT 1",
        )?;
        let (metric, scope, period) = (text("metric"), text("scope"), text("period"));
        let mut rows = stmt.query((&metric, &scope, &period, starts_on.to_string(), text("id")))?;
        if let Some(row) = rows.next()? {
            let other: String = row.get(0)?;
            return Err(Error::Conflict(format!(
                "target {other:?} is already set on {metric} for {scope}, the {period} starting {starts_on}: change that one (its id is {other}) or delete it first"
            )));
        }
        Ok(())
    }

    /// A deal's status follows its stage's kind, and `closed_at` follows its status.
    fn check_deal(
        &mut self,
        record: &mut Record,
        problems: &mut Vec<Problem>,
    ) -> Result<(), Error> {
        let Some(stage_id) = record.get("stage_id").as_text().map(str::to_string) else {
            return Ok(());
        };
        let Some((kind, pipeline)) = self.stage(&stage_id)? else { return Ok(()) };
        let mut problem = |field: &str, message: String| {
            problems.push(Problem { tag: None, field: field.into(), message });
        };
        if let Some(deal_pipeline) = record.get("pipeline_id").as_text()
            && deal_pipeline != pipeline
        {
            problem(
                "stage_id",
                format!(
                    "{stage_id:?} is a stage of pipeline {pipeline:?}, not of {deal_pipeline:?}"
                ),
            );
        }
        if let Some(given) = record.get("status").as_text()
            && given != kind
        {
            problem(
                "status",
                format!(
                    "{given:?} contradicts the stage: {stage_id:?} is a {kind} stage, so the status is {kind} (leave status empty to derive it)"
                ),
            );
        }
        let closed_at = !record.get("closed_at").is_null();
        if kind != "open" && !closed_at {
            problem(
                "closed_at",
                format!("is missing: a {kind} deal needs closed_at, the time it was {kind}"),
            );
        }
        if kind == "open" && closed_at {
            problem(
                "closed_at",
                format!(
                    "is set but stage {stage_id:?} is open: clear closed_at or put the deal in a won or lost stage"
                ),
            );
        }
        record.set("status", Value::Text(kind));
        Ok(())
    }

    /// Inserts or updates a record; with an audit, writes its row in the same transaction (a
    /// create: the record; an update: the changed fields before and after).
    fn upsert(&mut self, record: &Record) -> Result<PutOutcome, Error> {
        let entity = record.entity;
        let sql = self.sql.entry(entity).or_insert_with(|| EntitySql::new(entity));
        let params: Vec<Param<'_>> = record.values.iter().map(Param).collect();
        let inserted = self
            .conn
            .prepare_cached(&sql.insert)?
            .execute(rusqlite::params_from_iter(params.iter()))?;
        if inserted == 1 {
            if let Some(actor) = &self.actor {
                let after = auth::record_json(record, self.currency, |_| true);
                let key = record.key_text();
                auth::append(&self.conn, actor, "create", entity.name(), &key, None, Some(&after))?;
            }
            return Ok(PutOutcome::Created);
        }
        let before = match &self.actor {
            Some(_) => {
                let key: Vec<Value> = entity.key().iter().map(|k| record.get(k).clone()).collect();
                super::get_record(&self.conn, entity, &key)?
            }
            _ if entity == Entity::Users => {
                let key: Vec<Value> = entity.key().iter().map(|k| record.get(k).clone()).collect();
                super::get_record(&self.conn, entity, &key)?
            }
            _ => None,
        };
        let updated = self
            .conn
            .prepare_cached(&sql.update)?
            .execute(rusqlite::params_from_iter(params.iter()))?;
        if updated == 0 {
            return Ok(PutOutcome::Unchanged);
        }
        if entity == Entity::Users
            && let Some(before) = &before
        {
            self.end_sign_ins_if_needed(before, record)?;
        }
        if let (Some(actor), Some(before)) = (&self.actor, before) {
            let changed = |idx: usize| before.values[idx] != record.values[idx];
            let old = auth::record_json(&before, self.currency, changed);
            let new = auth::record_json(record, self.currency, changed);
            let key = record.key_text();
            auth::append(&self.conn, actor, "update", entity.name(), &key, Some(&old), Some(&new))?;
        }
        Ok(PutOutcome::Updated)
    }

    /// A user disabled or given another role is signed out everywhere for good: their sessions
    /// are deleted and their API tokens revoked, in the write's transaction, so enabling them
    /// again (or the old role coming back) revives nothing.
    fn end_sign_ins_if_needed(&self, before: &Record, after: &Record) -> Result<(), Error> {
        let disabled = matches!(after.get("active"), Value::Bool(false))
            && !matches!(before.get("active"), Value::Bool(false));
        let new_role = before.get("role") != after.get("role");
        if !(disabled || new_role) {
            return Ok(());
        }
        let user = after.get("id").as_text().unwrap_or("");
        super::auth::end_sign_ins(&self.conn, user, self.actor.as_ref().and_then(|a| a.at))
    }

    /// Records that refer to `entity`'s record `id`, as `(entity, count)` (counts capped at 1000).
    fn referrers(&self, entity: Entity, id: &str) -> Result<Vec<(String, i64)>, Error> {
        let mut found = Vec::new();
        for other in Entity::ALL {
            for field in other.fields() {
                if field.ty != FieldType::Ref(entity) {
                    continue;
                }
                let sql = format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} = ?1 LIMIT 1000)",
                    table(other),
                    field.name
                );
                let n: i64 = self.conn.prepare_cached(&sql)?.query_row([id], |r| r.get(0))?;
                if n > 0 {
                    found.push((format!("{} (by {})", other.name(), field.name), n));
                }
            }
        }
        let scope_prefix = match entity {
            Entity::Teams => Some("team:"),
            Entity::Users => Some("user:"),
            _ => None,
        };
        if let Some(prefix) = scope_prefix {
            let n: i64 = self
                .conn
                .prepare_cached("SELECT count(*) FROM targets WHERE scope = ?1")?
                .query_row([format!("{prefix}{id}")], |r| r.get(0))?;
            if n > 0 {
                found.push(("targets (by scope)".to_string(), n));
            }
        }
        Ok(found)
    }

    fn commit_checks(&mut self) -> Result<Vec<Problem>, Error> {
        let mut problems = Vec::new();
        // References to records of the same entity that came later in the batch.
        for (tag, entity, field, id) in std::mem::take(&mut self.pending_refs) {
            if !self.exists(entity, &id)? {
                problems.push(Problem::tagged(
                    tag,
                    field,
                    format!("{id:?}: no such {}", singular(entity)),
                ));
            }
        }
        // Teams form a tree: no team is its own ancestor.
        for (team, tag) in std::mem::take(&mut self.touched_teams) {
            let mut current = team.clone();
            for _ in 0..10_000 {
                let parent: Option<String> = self
                    .conn
                    .prepare_cached("SELECT parent_id FROM teams WHERE id = ?1")?
                    .query_row([&current], |r| r.get(0))
                    .ok()
                    .flatten();
                match parent {
                    Some(p) if p == team => {
                        problems.push(Problem::tagged(
                            tag,
                            "parent_id",
                            format!("makes a cycle: team {team:?} would be its own ancestor"),
                        ));
                        break;
                    }
                    Some(p) => current = p,
                    None => break,
                }
            }
        }
        // Each pipeline with stages has exactly one won stage and at least one lost stage.
        for (pipeline, tag) in std::mem::take(&mut self.touched_pipelines) {
            let (won, lost, all): (i64, i64, i64) = self.conn.prepare_cached(
                "SELECT coalesce(sum(kind = 'won'), 0), coalesce(sum(kind = 'lost'), 0), count(*)
                 FROM stages WHERE pipeline_id = ?1",
            )?
            .query_row([&pipeline], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            if all == 0 {
                continue;
            }
            if won != 1 {
                problems.push(Problem::tagged(
                    tag,
                    "kind",
                    format!("pipeline {pipeline:?} has {won} won stages: a pipeline has exactly one won stage"),
                ));
            }
            if lost < 1 {
                problems.push(Problem::tagged(
                    tag,
                    "kind",
                    format!(
                        "pipeline {pipeline:?} has no lost stage: a pipeline needs at least one"
                    ),
                ));
            }
        }
        // Deals follow their stage: a stage whose kind or pipeline changed carries its deals along.
        for (stage, tag) in std::mem::take(&mut self.touched_stages) {
            let updated = self
                .conn
                .prepare_cached(
                    "UPDATE deals SET status = (SELECT kind FROM stages WHERE id = ?1)
                 WHERE stage_id = ?1 AND status IS NOT (SELECT kind FROM stages WHERE id = ?1)",
                )?
                .execute([&stage])?;
            if updated == 0 {
                continue;
            }
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id, s.kind, d.closed_at IS NULL, d.pipeline_id = s.pipeline_id
                 FROM deals d JOIN stages s ON s.id = d.stage_id
                 WHERE d.stage_id = ?1
                   AND ((s.kind != 'open') = (d.closed_at IS NULL) OR d.pipeline_id != s.pipeline_id)
                 LIMIT 5",
            )?;
            let bad: Vec<(String, String, bool, bool)> = stmt
                .query_map([&stage], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?;
            for (deal, kind, no_closed_at, same_pipeline) in bad {
                let message = if !same_pipeline {
                    format!("deal {deal:?} is in this stage but in another pipeline")
                } else if no_closed_at {
                    format!(
                        "makes deal {deal:?} {kind}, but it has no closed_at: close the deal first"
                    )
                } else {
                    format!(
                        "makes deal {deal:?} open, but it has closed_at set: reopen the deal first"
                    )
                };
                problems.push(Problem::tagged(tag, "kind", message));
            }
        }
        if self.any_order_touched {
            self.check_orders(&mut problems)?;
        }
        Ok(problems)
    }

    /// An order's total against its lines, its derived amount, and its sale movements.
    fn check_orders(&mut self, problems: &mut Vec<Problem>) -> Result<(), Error> {
        // Each line is bounded, but many may add up past what an amount holds: found with
        // floating sums (TOTAL never overflows) before the exact ones are taken.
        let amount = crate::line_amount_sql("");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT t.id, t.tag FROM touched_orders t
             JOIN (SELECT order_id, TOTAL({amount}) AS sum FROM order_lines
                   WHERE order_id IN (SELECT id FROM touched_orders) GROUP BY order_id) s
               ON s.order_id = t.id
             WHERE abs(s.sum) > ?1
             ORDER BY t.tag LIMIT 1000"
        ))?;
        let too_large: Vec<(String, i64)> = stmt
            .query_map([traction_domain::money::MAX_MINOR], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        for (order, tag) in too_large {
            problems.push(Problem::tagged(
                tag as u64,
                "total",
                format!(
                    "the lines of order {order:?} add up to more than the largest amount stored ({}): check their quantities and prices",
                    format_minor(traction_domain::money::MAX_MINOR, self.currency)
                ),
            ));
        }
        if !problems.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT t.id, t.tag, o.total, s.sum FROM touched_orders t
             JOIN orders o ON o.id = t.id
             JOIN (SELECT order_id, sum({amount}) AS sum FROM order_lines
                   WHERE order_id IN (SELECT id FROM touched_orders) GROUP BY order_id) s
               ON s.order_id = t.id
             WHERE o.total IS NOT NULL AND o.total != s.sum
             ORDER BY t.tag LIMIT 1000"
        ))?;
        let mismatches: Vec<(String, i64, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        for (order, tag, total, sum) in mismatches {
            problems.push(Problem::tagged(
                tag as u64,
                "total",
                format!(
                    "order {order:?} has total {} but its lines add up to {}: correct the total or the lines (or leave the total empty)",
                    format_minor(total, self.currency),
                    format_minor(sum, self.currency)
                ),
            ));
        }
        if !problems.is_empty() {
            return Ok(());
        }
        self.conn.execute_batch(&format!(
            "UPDATE orders SET amount = coalesce(total,
                 (SELECT sum({amount}) FROM order_lines WHERE order_id = orders.id), 0)
             WHERE id IN (SELECT id FROM touched_orders);
             DELETE FROM inventory_movements WHERE order_id IN (SELECT id FROM touched_orders);
             INSERT INTO inventory_movements (id, product_id, delta, reason, occurred_at, order_id)
             SELECT 'sale-' || l.order_id || '-' || l.line, l.product_id, -l.quantity, 'sale',
                    o.placed_at, o.id
             FROM order_lines l JOIN orders o ON o.id = l.order_id
             WHERE o.id IN (SELECT id FROM touched_orders) AND o.status IN ('placed', 'fulfilled')
             ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, delta = excluded.delta,
                 reason = excluded.reason, occurred_at = excluded.occurred_at,
                 order_id = excluded.order_id;"
        ))?;
        Ok(())
    }
}

impl SqliteWriter<'_> {
    /// What `commit` does before it commits: the derived lead answers, then the rules that span
    /// records, every problem at once.
    fn final_checks(&mut self) -> Result<(), Error> {
        self.record_entered_stages()?;
        // Leads answered by this transaction's activities (in the same transaction and audit).
        for (lead, (at, tag)) in std::mem::take(&mut self.answered_leads) {
            let stored = super::get_record(&self.conn, Entity::Leads, &[Value::Text(lead)])?;
            if let Some(answered) = stored.and_then(|l| traction_domain::leads::answered(&l, at)) {
                self.put(tag, answered)?;
            }
        }
        let mut problems = self.commit_checks()?;
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.tag);
            return Err(Error::Invalid(problems));
        }
        Ok(())
    }
}

impl Writer for SqliteWriter<'_> {
    fn put(&mut self, tag: u64, mut record: Record) -> Result<PutOutcome, Error> {
        let entity = record.entity;
        if record.values.len() != entity.fields().len() {
            return Err(Error::Storage(format!(
                "a {} record has the wrong number of fields",
                entity
            )));
        }
        let problems = self.check(tag, &mut record)?;
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        if entity == Entity::Targets {
            self.check_target_unique(&record)?;
        }
        let text = |name: &str| record.get(name).as_text().unwrap_or("").to_string();
        match entity {
            Entity::Stages => {
                // A stage moved to another pipeline leaves its old pipeline to be checked too.
                let old = super::get_record(&self.conn, entity, &[record.get("id").clone()])?;
                if let Some(old) = old {
                    let old_pipeline = old.get("pipeline_id").as_text().unwrap_or("").to_string();
                    self.touched_pipelines.entry(old_pipeline).or_insert(tag);
                }
                self.touched_pipelines.entry(text("pipeline_id")).or_insert(tag);
                self.touched_stages.entry(text("id")).or_insert(tag);
                self.stages.remove(&text("id"));
            }
            Entity::Teams => {
                self.touched_teams.entry(text("id")).or_insert(tag);
            }
            Entity::Orders => self.touch_order(&text("id"), tag)?,
            Entity::OrderLines => self.touch_order(&text("order_id"), tag)?,
            Entity::Deals if self.stage_history => self.note_stage_entered(tag, &record)?,
            Entity::StageChanges => {
                self.deals_with_history.insert(text("deal_id"));
            }
            Entity::Activities => {
                let now = self.write_time()?;
                if let Some((lead, at)) = traction_domain::leads::answers(&record, now) {
                    let entry = self.answered_leads.entry(lead).or_insert((at, tag));
                    if at < entry.0 {
                        *entry = (at, tag);
                    }
                }
            }
            _ => {}
        }
        self.tables.insert(table(entity));
        let outcome = self.upsert(&record)?;
        if outcome == PutOutcome::Created {
            for (t, field) in crate::reader::SLICED.iter().filter(|(t, _)| *t == table(entity)) {
                if let Value::Instant(at) = record.get(field) {
                    self.slices.insert((t, field, at / crate::reader::SLICE));
                }
            }
        }
        if entity.has_id() && self.referenced[entity as usize] {
            self.known.entry(entity).or_default().insert(text("id"));
        }
        let kind = match outcome {
            PutOutcome::Created => {
                self.summary.created += 1;
                Some(ChangeKind::Created)
            }
            PutOutcome::Updated => {
                self.summary.updated += 1;
                Some(ChangeKind::Updated)
            }
            PutOutcome::Unchanged => {
                self.summary.unchanged += 1;
                None
            }
        };
        if let Some(kind) = kind {
            if self.summary.changes.len() < Summary::MAX_CHANGES {
                self.summary.record(Change { entity, key: record.key_text(), kind });
            } else {
                // Past what is kept: no key text built (a large import makes many).
                self.summary.truncated = true;
            }
        }
        Ok(outcome)
    }

    fn delete(&mut self, entity: Entity, key: &[Value]) -> Result<(), Error> {
        if self.bulk {
            // Without foreign-key enforcement a delete would skip the cascades (sign-in data).
            return Err(Error::Storage(
                "a bulk import's writer does not delete records: use an ordinary writer".into(),
            ));
        }
        let Some(record) = super::get_record(&self.conn, entity, key)? else {
            return Err(Error::NotFound);
        };
        if entity.has_id() {
            let id = record.get("id").as_text().unwrap_or("").to_string();
            let referrers = self.referrers(entity, &id)?;
            if !referrers.is_empty() {
                let list: Vec<String> =
                    referrers.iter().map(|(what, n)| format!("{n} {what}")).collect();
                return Err(Error::Conflict(format!(
                    "{} {id:?} cannot be deleted: {} refer to it; delete or change those first",
                    singular(entity),
                    list.join(", ")
                )));
            }
        }
        match entity {
            Entity::Stages => {
                let pipeline = record.get("pipeline_id").as_text().unwrap_or("").to_string();
                self.touched_pipelines.entry(pipeline).or_insert(0);
            }
            Entity::OrderLines | Entity::Orders => {
                let field = if entity == Entity::Orders { "id" } else { "order_id" };
                let order = record.get(field).as_text().unwrap_or("").to_string();
                self.touch_order(&order, 0)?;
            }
            Entity::Teams => {
                let id = record.get("id").as_text().unwrap_or("").to_string();
                self.conn.execute("DELETE FROM settings WHERE team_id = ?1", [&id])?;
                self.tables.insert("settings");
            }
            _ => {}
        }
        self.tables.insert(table(entity));
        let sql = format!("DELETE FROM {} WHERE {}", table(entity), key_condition(entity, 1));
        let params: Vec<Param<'_>> = key.iter().map(Param).collect();
        self.conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(params.iter()))?;
        if let Some(actor) = &self.actor {
            let before = auth::record_json(&record, self.currency, |_| true);
            let key = record.key_text();
            auth::append(&self.conn, actor, "delete", entity.name(), &key, Some(&before), None)?;
        }
        self.known.clear();
        self.stages.clear();
        self.summary.deleted += 1;
        self.summary.record(Change { entity, key: record.key_text(), kind: ChangeKind::Deleted });
        Ok(())
    }

    fn record_stage_history(&mut self) {
        self.stage_history = true;
    }

    fn rehearse(mut self: Box<Self>) -> Result<(), Error> {
        // Dropped afterwards: the transaction rolls back.
        self.final_checks()
    }

    fn commit(mut self: Box<Self>) -> Result<Summary, Error> {
        self.final_checks()?;
        // The customers whose purchases changed, recomputed in the same transaction.
        if super::customers::refresh(&self.conn)? {
            self.tables.insert("customer_stats");
        }
        if self.any_order_touched {
            // Orders derive their amount and their sale movements.
            self.tables.insert("orders");
            self.tables.insert("inventory_movements");
        }
        super::query_cache::note_slices(&self.conn, &self.slices)?;
        super::query_cache::raise_versions(&self.conn, self.tables.iter().copied())?;
        self.conn.execute_batch(if self.nested { "RELEASE writer" } else { "COMMIT" })?;
        self.open = false;
        Ok(std::mem::take(&mut self.summary))
    }
}

impl Drop for SqliteWriter<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch(if self.nested {
                "ROLLBACK TO writer; RELEASE writer"
            } else {
                "ROLLBACK"
            });
        }
        if self.bulk {
            // Outside the transaction now, so it takes effect (the next ordinary writer sets it
            // again in any case).
            let _ = self.conn.execute_batch("PRAGMA foreign_keys = ON;");
        }
    }
}

/// Whether any field of any entity refers to `entity` (only then is it worth remembering ids).
fn is_referenced(entity: Entity) -> bool {
    Entity::ALL.iter().any(|e| e.fields().iter().any(|f| f.ty == FieldType::Ref(entity)))
}

/// `users` → `user`, for messages.
pub(crate) fn singular(entity: Entity) -> &'static str {
    match entity {
        Entity::Users => "user",
        Entity::Teams => "team",
        Entity::Accounts => "account",
        Entity::Contacts => "contact",
        Entity::Leads => "lead",
        Entity::Pipelines => "pipeline",
        Entity::Stages => "stage",
        Entity::Deals => "deal",
        Entity::StageChanges => "stage change",
        Entity::Activities => "activity",
        Entity::Products => "product",
        Entity::Orders => "order",
        Entity::OrderLines => "order line",
        Entity::InventoryMovements => "inventory movement",
        Entity::Campaigns => "campaign",
        Entity::Costs => "cost",
        Entity::WebVisits => "web visit",
        Entity::EmailEvents => "email event",
        Entity::Surveys => "survey",
        Entity::Events => "event",
        Entity::Targets => "target",
    }
}
