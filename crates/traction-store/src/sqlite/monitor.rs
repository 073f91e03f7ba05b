//! [`MonitorStore`] on SQLite (migration V9): writes on the write connection (one transaction
//! each, with their audit rows), reads on the read pool.

use rusqlite::{Connection, OptionalExtension, Row};
use traction_domain::time::Micros;

use super::SqliteStore;
use super::auth::{append, push_json_string};
use crate::monitor::{
    Attempt, Channel, Evaluation, Instance, InstanceUpdate, MonitorStore, NewNotification,
    Notification, NotificationQuery, Outcome, Rule, Schedule, Silence, Transition,
};
use crate::{Actor, Error, Problem};

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid(vec![Problem { tag: None, field: field.into(), message }])
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn json_object(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (idx, (k, v)) in pairs.iter().enumerate() {
        if idx > 0 {
            out.push(',');
        }
        push_json_string(&mut out, k);
        out.push(':');
        push_json_string(&mut out, v);
    }
    out.push('}');
    out
}

const CHANNEL_COLUMNS: &str = "id, kind, config, created_at, created_by";

fn read_channel(row: &Row<'_>) -> rusqlite::Result<Channel> {
    Ok(Channel {
        id: row.get(0)?,
        kind: row.get(1)?,
        config: row.get(2)?,
        created_at: row.get(3)?,
        created_by: row.get(4)?,
    })
}

const RULE_COLUMNS: &str = "id, kind, spec, channels, for_secs, created_at, created_by";

fn read_rule(row: &Row<'_>) -> rusqlite::Result<Rule> {
    let channels: String = row.get(3)?;
    Ok(Rule {
        id: row.get(0)?,
        kind: row.get(1)?,
        spec: row.get(2)?,
        channels: channels.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
        for_secs: row.get(4)?,
        created_at: row.get(5)?,
        created_by: row.get(6)?,
    })
}

const INSTANCE_COLUMNS: &str =
    "rule_id, key, state, since, fired_at, notified, value, summary, url, owner_id, updated_at";

fn read_instance(row: &Row<'_>) -> rusqlite::Result<Instance> {
    Ok(Instance {
        rule_id: row.get(0)?,
        key: row.get(1)?,
        state: row.get(2)?,
        since: row.get(3)?,
        fired_at: row.get(4)?,
        notified: row.get(5)?,
        value: row.get(6)?,
        summary: row.get(7)?,
        url: row.get(8)?,
        owner_id: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

const SILENCE_COLUMNS: &str =
    "id, rule_id, key, starts_at, ends_at, comment, created_at, created_by";

fn read_silence(row: &Row<'_>) -> rusqlite::Result<Silence> {
    Ok(Silence {
        id: row.get(0)?,
        rule_id: row.get(1)?,
        key: row.get(2)?,
        starts_at: row.get(3)?,
        ends_at: row.get(4)?,
        comment: row.get(5)?,
        created_at: row.get(6)?,
        created_by: row.get(7)?,
    })
}

const NOTIFICATION_COLUMNS: &str = "id, kind, rule_id, key, state, at, channel_id, user_id, body, \
     text, status, attempts, next_at, last_error, created_at, delivered_at, read_at";

fn read_notification(row: &Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: row.get(0)?,
        kind: row.get(1)?,
        rule_id: row.get(2)?,
        key: row.get(3)?,
        state: row.get(4)?,
        at: row.get(5)?,
        channel_id: row.get(6)?,
        user_id: row.get(7)?,
        body: row.get(8)?,
        text: row.get(9)?,
        status: row.get(10)?,
        attempts: row.get(11)?,
        next_at: row.get(12)?,
        last_error: row.get(13)?,
        created_at: row.get(14)?,
        delivered_at: row.get(15)?,
        read_at: row.get(16)?,
    })
}

fn insert_notification(
    conn: &Connection,
    note: &NewNotification,
    now: Micros,
) -> Result<i64, Error> {
    // A user's list is delivered when written; a channel's notification waits for delivery.
    let (status, next_at, delivered_at) = if note.user_id.is_some() {
        ("delivered", None, Some(now))
    } else {
        ("pending", Some(now), None)
    };
    conn.prepare_cached(
        "INSERT INTO notifications (kind, rule_id, key, state, at, channel_id, user_id, body, text,
                                    status, next_at, created_at, delivered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(rusqlite::params![
        note.kind,
        note.rule_id,
        note.key,
        note.state,
        note.at,
        note.channel_id,
        note.user_id,
        note.body,
        note.text,
        status,
        next_at,
        now,
        delivered_at
    ])?;
    Ok(conn.last_insert_rowid())
}

impl SqliteStore {
    fn read_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        read: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, Error> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, read)?;
        Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
    }
}

impl MonitorStore for SqliteStore {
    fn add_channel(&self, channel: &Channel, audit: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let res = tx.execute(
            &format!("INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
            (&channel.id, &channel.kind, &channel.config, channel.created_at, &channel.created_by),
        );
        match res {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "there is already a channel {:?}: choose another id or delete it first",
                    channel.id
                )));
            }
            other => {
                other?;
            }
        }
        append(&tx, actor, "create", "channels", &channel.id, None, Some(audit))?;
        tx.commit()?;
        Ok(())
    }

    fn channels(&self) -> Result<Vec<Channel>, Error> {
        self.read_all(
            &format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id"),
            [],
            read_channel,
        )
    }

    fn channel(&self, id: &str) -> Result<Option<Channel>, Error> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1"))?
            .query_row([id], read_channel)
            .optional()?)
    }

    fn delete_channel(&self, id: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let users: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id, channels FROM alert_rules ORDER BY id")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut users = Vec::new();
            for row in rows {
                let (rule, channels) = row?;
                if channels.split(',').any(|c| c == id) {
                    users.push(rule);
                }
            }
            users
        };
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "channel {id:?} is used by the rule(s) {}: delete them or change their channels first",
                users.join(", ")
            )));
        }
        if tx.execute("DELETE FROM channels WHERE id = ?1", [id])? == 0 {
            return Err(Error::NotFound);
        }
        append(&tx, actor, "delete", "channels", id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn add_rule(&self, rule: &Rule, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        check_channels(&tx, &rule.channels, "rule")?;
        let res = tx.execute(
            &format!(
                "INSERT INTO alert_rules ({RULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            (
                &rule.id,
                &rule.kind,
                &rule.spec,
                rule.channels.join(","),
                rule.for_secs,
                rule.created_at,
                &rule.created_by,
            ),
        );
        match res {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "there is already a rule {:?}: choose another id or delete it first",
                    rule.id
                )));
            }
            other => {
                other?;
            }
        }
        let audit = json_object(&[
            ("kind", &rule.kind),
            ("spec", &rule.spec),
            ("channels", &rule.channels.join(",")),
            ("for_secs", &rule.for_secs.to_string()),
        ]);
        append(&tx, actor, "create", "alert_rules", &rule.id, None, Some(&audit))?;
        tx.commit()?;
        Ok(())
    }

    fn update_rule(&self, rule: &Rule, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let before: Option<(String, String, i64)> = tx
            .query_row(
                "SELECT spec, channels, for_secs FROM alert_rules WHERE id = ?1",
                [&rule.id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some(before) = before else { return Err(Error::NotFound) };
        check_channels(&tx, &rule.channels, "rule")?;
        let channels = rule.channels.join(",");
        tx.execute(
            "UPDATE alert_rules SET spec = ?2, channels = ?3, for_secs = ?4 WHERE id = ?1",
            (&rule.id, &rule.spec, &channels, rule.for_secs),
        )?;
        let before = json_object(&[
            ("spec", &before.0),
            ("channels", &before.1),
            ("for_secs", &before.2.to_string()),
        ]);
        let after = json_object(&[
            ("spec", &rule.spec),
            ("channels", &channels),
            ("for_secs", &rule.for_secs.to_string()),
        ]);
        append(&tx, actor, "update", "alert_rules", &rule.id, Some(&before), Some(&after))?;
        tx.commit()?;
        Ok(())
    }

    fn rules(&self) -> Result<Vec<Rule>, Error> {
        self.read_all(&format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id"), [], read_rule)
    }

    fn rule(&self, id: &str) -> Result<Option<Rule>, Error> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(&format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = ?1"))?
            .query_row([id], read_rule)
            .optional()?)
    }

    fn delete_rule(&self, id: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM alert_rules WHERE id = ?1", [id])? == 0 {
            return Err(Error::NotFound);
        }
        append(&tx, actor, "delete", "alert_rules", id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn instances(&self, rule_id: Option<&str>) -> Result<Vec<Instance>, Error> {
        self.read_all(
            &format!(
                "SELECT {INSTANCE_COLUMNS} FROM alert_instances
                 WHERE ?1 IS NULL OR rule_id = ?1 ORDER BY rule_id, key"
            ),
            [rule_id],
            read_instance,
        )
    }

    fn transitions(
        &self,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<Vec<Transition>, Error> {
        self.read_all(
            "SELECT seq, rule_id, key, from_state, to_state, at, value, summary
             FROM alert_transitions
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) ORDER BY at, seq",
            (from, to),
            |row| {
                Ok(Transition {
                    seq: row.get(0)?,
                    rule_id: row.get(1)?,
                    key: row.get(2)?,
                    from: row.get(3)?,
                    to: row.get(4)?,
                    at: row.get(5)?,
                    value: row.get(6)?,
                    summary: row.get(7)?,
                })
            },
        )
    }

    fn last_evaluation(&self) -> Result<Option<Micros>, Error> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached("SELECT last_at FROM monitor_clock WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    fn commit_evaluation(&self, evaluation: &Evaluation) -> Result<Vec<InstanceUpdate>, Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<Micros> = tx
            .prepare_cached("SELECT last_at FROM monitor_clock WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        if let Some(last) = last
            && evaluation.at < last
        {
            return Err(Error::Conflict(format!(
                "an evaluation at {} is before the latest one at {}: evaluations go forward in time",
                traction_domain::time::format_instant(evaluation.at),
                traction_domain::time::format_instant(last)
            )));
        }
        let mut applied = Vec::new();
        for update in &evaluation.updates {
            let it = &update.instance;
            let stored: Option<Micros> = tx
                .prepare_cached(
                    "SELECT updated_at FROM alert_instances WHERE rule_id = ?1 AND key = ?2",
                )?
                .query_row((&it.rule_id, &it.key), |r| r.get(0))
                .optional()?;
            if stored != update.read_version {
                // Another evaluator changed it since it was read: its outcome stands.
                continue;
            }
            let rule_exists = tx
                .prepare_cached("SELECT 1 FROM alert_rules WHERE id = ?1")?
                .exists([&it.rule_id])?;
            if !rule_exists {
                continue;
            }
            tx.prepare_cached(&format!(
                "INSERT INTO alert_instances ({INSTANCE_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (rule_id, key) DO UPDATE SET
                   state = excluded.state, since = excluded.since, fired_at = excluded.fired_at,
                   notified = excluded.notified, value = excluded.value,
                   summary = excluded.summary, url = excluded.url, owner_id = excluded.owner_id,
                   updated_at = excluded.updated_at"
            ))?
            .execute(rusqlite::params![
                it.rule_id,
                it.key,
                it.state,
                it.since,
                it.fired_at,
                it.notified,
                it.value,
                it.summary,
                it.url,
                it.owner_id,
                it.updated_at
            ])?;
            if let Some((from, to)) = &update.transition {
                tx.prepare_cached(
                    "INSERT INTO alert_transitions (rule_id, key, from_state, to_state, at, value, summary)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(rusqlite::params![
                    it.rule_id,
                    it.key,
                    from,
                    to,
                    evaluation.at,
                    it.value,
                    it.summary
                ])?;
            }
            for note in &update.notifications {
                insert_notification(&tx, note, evaluation.now)?;
            }
            applied.push(update.clone());
        }
        tx.execute(
            "INSERT INTO monitor_clock (id, last_at) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
            [evaluation.at],
        )?;
        tx.commit()?;
        Ok(applied)
    }

    fn add_silence(&self, silence: &Silence, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let exists = tx
            .prepare_cached("SELECT 1 FROM alert_rules WHERE id = ?1")?
            .exists([&silence.rule_id])?;
        if !exists {
            return Err(invalid(
                "rule",
                format!("no such rule {:?}: `traction alert list` shows them", silence.rule_id),
            ));
        }
        let res = tx.execute(
            &format!(
                "INSERT INTO silences ({SILENCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            rusqlite::params![
                silence.id,
                silence.rule_id,
                silence.key,
                silence.starts_at,
                silence.ends_at,
                silence.comment,
                silence.created_at,
                silence.created_by
            ],
        );
        match res {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "there is already a silence {:?}",
                    silence.id
                )));
            }
            other => {
                other?;
            }
        }
        let audit = json_object(&[
            ("rule", &silence.rule_id),
            ("key", silence.key.as_deref().unwrap_or("")),
            ("from", &traction_domain::time::format_instant(silence.starts_at)),
            ("until", &traction_domain::time::format_instant(silence.ends_at)),
            ("comment", &silence.comment),
        ]);
        append(&tx, actor, "create", "silences", &silence.id, None, Some(&audit))?;
        tx.commit()?;
        Ok(())
    }

    fn silences(&self) -> Result<Vec<Silence>, Error> {
        self.read_all(
            &format!("SELECT {SILENCE_COLUMNS} FROM silences ORDER BY starts_at, id"),
            [],
            read_silence,
        )
    }

    fn delete_silence(&self, id: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM silences WHERE id = ?1", [id])? == 0 {
            return Err(Error::NotFound);
        }
        append(&tx, actor, "delete", "silences", id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn add_notifications(&self, notes: &[NewNotification], now: Micros) -> Result<Vec<i64>, Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(notes.len());
        for note in notes {
            ids.push(insert_notification(&tx, note, now)?);
        }
        tx.commit()?;
        Ok(ids)
    }

    fn claim_due(
        &self,
        now: Micros,
        lease: Micros,
        limit: usize,
    ) -> Result<Vec<Notification>, Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let due: Vec<Notification> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications
                 WHERE status = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2"
            ))?;
            let rows = stmt.query_map((now, limit as i64), read_notification)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for note in &due {
            tx.prepare_cached("UPDATE notifications SET next_at = ?2 WHERE id = ?1")?
                .execute((note.id, now + lease))?;
        }
        tx.commit()?;
        Ok(due)
    }

    fn record_attempt(&self, attempt: &Attempt, outcome: Outcome) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO delivery_attempts (notification_id, channel_id, at, ok, error)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute((
            attempt.notification_id,
            &attempt.channel_id,
            attempt.at,
            attempt.ok,
            &attempt.error,
        ))?;
        let (status, next_at, delivered_at) = match outcome {
            Outcome::Delivered => ("delivered", None, Some(attempt.at)),
            Outcome::Retry(next) => ("pending", Some(next), None),
            Outcome::Failed => ("failed", None, None),
        };
        tx.prepare_cached(
            "UPDATE notifications SET status = ?2, next_at = ?3, delivered_at = ?4,
                    attempts = attempts + 1, last_error = coalesce(?5, last_error)
             WHERE id = ?1",
        )?
        .execute((
            attempt.notification_id,
            status,
            next_at,
            delivered_at,
            &attempt.error,
        ))?;
        tx.commit()?;
        Ok(())
    }

    fn notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>, Error> {
        let limit = if query.limit == 0 { 100 } else { query.limit } as i64;
        self.read_all(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications
                 WHERE (?1 IS NULL OR user_id = ?1) AND (?2 = 0 OR (user_id IS NOT NULL AND read_at IS NULL))
                   AND (?3 IS NULL OR channel_id = ?3)
                 ORDER BY id DESC LIMIT ?4"
            ),
            (&query.user_id, query.unread_only, &query.channel_id, limit),
            read_notification,
        )
    }

    fn notification(&self, id: i64) -> Result<Option<Notification>, Error> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?1"
            ))?
            .query_row([id], read_notification)
            .optional()?)
    }

    fn mark_read(&self, id: i64, user_id: &str, at: Micros) -> Result<(), Error> {
        let conn = self.writer_conn()?;
        let n = conn.execute(
            "UPDATE notifications SET read_at = coalesce(read_at, ?3) WHERE id = ?1 AND user_id = ?2",
            (id, user_id, at),
        )?;
        if n == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    fn mark_all_read(&self, user_id: &str, at: Micros) -> Result<usize, Error> {
        let conn = self.writer_conn()?;
        Ok(conn.execute(
            "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL",
            (user_id, at),
        )?)
    }

    fn unread_count(&self, user_id: &str) -> Result<usize, Error> {
        let conn = self.reader();
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
            [user_id],
            |row| row.get(0),
        )?;
        Ok(n as usize)
    }

    fn notified_since(&self, after_id: i64) -> Result<(i64, Vec<String>), Error> {
        let conn = self.reader();
        let latest: i64 =
            conn.query_row("SELECT coalesce(max(id), 0) FROM notifications", [], |row| row.get(0))?;
        if latest <= after_id {
            return Ok((latest, Vec::new()));
        }
        let mut stmt = conn.prepare(
            "SELECT DISTINCT user_id FROM notifications WHERE id > ?1 AND user_id IS NOT NULL ORDER BY user_id",
        )?;
        let users = stmt
            .query_map([after_id], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((latest, users))
    }

    fn attempts(&self, notification_id: i64) -> Result<Vec<Attempt>, Error> {
        self.read_all(
            "SELECT notification_id, channel_id, at, ok, error FROM delivery_attempts
             WHERE notification_id = ?1 ORDER BY seq",
            [notification_id],
            |row| {
                Ok(Attempt {
                    notification_id: row.get(0)?,
                    channel_id: row.get(1)?,
                    at: row.get(2)?,
                    ok: row.get(3)?,
                    error: row.get(4)?,
                })
            },
        )
    }

    fn add_schedule(&self, schedule: &Schedule, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        check_channels(&tx, &schedule.channels, "schedule")?;
        let res = tx.execute(
            "INSERT INTO schedules (id, every, time, scope, channels, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (
                &schedule.id,
                &schedule.every,
                &schedule.time,
                &schedule.scope,
                schedule.channels.join(","),
                schedule.created_at,
                &schedule.created_by,
            ),
        );
        match res {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "there is already a schedule {:?}: choose another id or delete it first",
                    schedule.id
                )));
            }
            other => {
                other?;
            }
        }
        let audit = json_object(&[
            ("every", &schedule.every),
            ("time", &schedule.time),
            ("scope", &schedule.scope),
            ("channels", &schedule.channels.join(",")),
        ]);
        append(&tx, actor, "create", "schedules", &schedule.id, None, Some(&audit))?;
        tx.commit()?;
        Ok(())
    }

    fn schedules(&self) -> Result<Vec<Schedule>, Error> {
        self.read_all(
            "SELECT id, every, time, scope, channels, created_at, created_by FROM schedules ORDER BY id",
            [],
            |row| {
                let channels: String = row.get(4)?;
                Ok(Schedule {
                    id: row.get(0)?,
                    every: row.get(1)?,
                    time: row.get(2)?,
                    scope: row.get(3)?,
                    channels: channels.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
                    created_at: row.get(5)?,
                    created_by: row.get(6)?,
                })
            },
        )
    }

    fn update_schedule(&self, schedule: &Schedule, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        let before: Option<(String, String, String, String)> = tx
            .query_row(
                "SELECT every, time, scope, channels FROM schedules WHERE id = ?1",
                [&schedule.id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let Some(before) = before else { return Err(Error::NotFound) };
        check_channels(&tx, &schedule.channels, "schedule")?;
        let channels = schedule.channels.join(",");
        tx.execute(
            "UPDATE schedules SET every = ?2, time = ?3, scope = ?4, channels = ?5 WHERE id = ?1",
            (&schedule.id, &schedule.every, &schedule.time, &schedule.scope, &channels),
        )?;
        let before = json_object(&[
            ("every", &before.0),
            ("time", &before.1),
            ("scope", &before.2),
            ("channels", &before.3),
        ]);
        let after = json_object(&[
            ("every", &schedule.every),
            ("time", &schedule.time),
            ("scope", &schedule.scope),
            ("channels", &channels),
        ]);
        append(&tx, actor, "update", "schedules", &schedule.id, Some(&before), Some(&after))?;
        tx.commit()?;
        Ok(())
    }

    fn delete_schedule(&self, id: &str, actor: &Actor) -> Result<(), Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM schedules WHERE id = ?1", [id])? == 0 {
            return Err(Error::NotFound);
        }
        append(&tx, actor, "delete", "schedules", id, None, None)?;
        tx.commit()?;
        Ok(())
    }

    fn schedule_runs(&self, schedule_id: &str) -> Result<Vec<(Micros, String)>, Error> {
        self.read_all(
            "SELECT due_at, status FROM schedule_runs WHERE schedule_id = ?1 ORDER BY due_at",
            [schedule_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    fn record_run(
        &self,
        schedule_id: &str,
        due_at: Micros,
        status: &str,
        notifications: &[NewNotification],
        now: Micros,
    ) -> Result<bool, Error> {
        let mut conn = self.writer_conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO schedule_runs (schedule_id, due_at, status, done_at)
             VALUES (?1, ?2, ?3, ?4)",
            (schedule_id, due_at, status, now),
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        for note in notifications {
            insert_notification(&tx, note, now)?;
        }
        tx.commit()?;
        Ok(true)
    }
}

/// A rule's or a schedule's channels: at least one, each stored.
fn check_channels(
    tx: &rusqlite::Transaction<'_>,
    channels: &[String],
    owner: &str,
) -> Result<(), Error> {
    if channels.is_empty() {
        return Err(invalid(
            "channel",
            format!("a {owner} needs at least one channel: --channel ID"),
        ));
    }
    for channel in channels {
        let exists =
            tx.prepare_cached("SELECT 1 FROM channels WHERE id = ?1")?.exists([channel])?;
        if !exists {
            return Err(invalid(
                "channel",
                format!("no such channel {channel:?}: `traction channel list` shows them"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{Evaluation, Instance, InstanceUpdate};

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    fn setup(store: &SqliteStore) {
        let actor = Actor::system();
        let channel = Channel {
            id: "hook".into(),
            kind: "webhook".into(),
            config: "{}".into(),
            created_at: 0,
            created_by: "cli".into(),
        };
        store.add_channel(&channel, "{}", &actor).unwrap();
        let rule = Rule {
            id: "r".into(),
            kind: "kpi".into(),
            spec: "{}".into(),
            channels: vec!["hook".into()],
            for_secs: 0,
            created_at: 0,
            created_by: "cli".into(),
        };
        store.add_rule(&rule, &actor).unwrap();
    }

    fn firing(at: Micros, read_version: Option<Micros>) -> InstanceUpdate {
        InstanceUpdate {
            read_version,
            instance: Instance {
                rule_id: "r".into(),
                key: "k".into(),
                state: "firing".into(),
                since: Some(at),
                fired_at: Some(at),
                notified: "firing".into(),
                value: Some(0.5),
                summary: "s".into(),
                url: String::new(),
                owner_id: None,
                updated_at: at,
            },
            transition: Some(("inactive".into(), "firing".into())),
            notifications: vec![NewNotification {
                kind: "alert".into(),
                rule_id: Some("r".into()),
                key: Some("k".into()),
                state: Some("firing".into()),
                at,
                channel_id: Some("hook".into()),
                user_id: None,
                body: "{}".into(),
                text: "t".into(),
            }],
        }
    }

    #[test]
    fn two_evaluators_that_read_the_same_state_notify_once() {
        let (_dir, store) = store();
        setup(&store);
        // Both read "no instance" and both decide it fires: the second finds the row changed.
        let first = store.commit_evaluation(&Evaluation {
            at: 10,
            now: 10,
            updates: vec![firing(10, None)],
        });
        let second = store.commit_evaluation(&Evaluation {
            at: 10,
            now: 10,
            updates: vec![firing(10, None)],
        });
        assert_eq!(first.unwrap().len(), 1);
        assert_eq!(second.unwrap().len(), 0);
        let notes = store.notifications(&NotificationQuery::default()).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(store.transitions(None, None).unwrap().len(), 1);
    }

    #[test]
    fn an_evaluation_back_in_time_is_refused_and_changes_nothing() {
        let (_dir, store) = store();
        setup(&store);
        store.commit_evaluation(&Evaluation { at: 100, now: 100, updates: vec![] }).unwrap();
        let back = store.commit_evaluation(&Evaluation {
            at: 50,
            now: 100,
            updates: vec![firing(50, None)],
        });
        assert!(
            matches!(back, Err(Error::Conflict(ref m)) if m.contains("before the latest")),
            "{back:?}"
        );
        assert!(store.instances(None).unwrap().is_empty());
        assert_eq!(store.last_evaluation().unwrap(), Some(100));
    }

    #[test]
    fn a_due_claim_keeps_a_notification_from_a_second_sender_until_its_lease_ends() {
        let (_dir, store) = store();
        setup(&store);
        store
            .commit_evaluation(&Evaluation { at: 10, now: 10, updates: vec![firing(10, None)] })
            .unwrap();
        assert_eq!(store.claim_due(20, 60, 10).unwrap().len(), 1);
        assert_eq!(store.claim_due(21, 60, 10).unwrap().len(), 0);
        assert_eq!(store.claim_due(80, 60, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_report_due_instant_is_recorded_once() {
        let (_dir, store) = store();
        setup(&store);
        let schedule = Schedule {
            id: "daily".into(),
            every: "day".into(),
            time: "08:00".into(),
            scope: "company".into(),
            channels: vec!["hook".into()],
            created_at: 0,
            created_by: "cli".into(),
        };
        store.add_schedule(&schedule, &Actor::system()).unwrap();
        assert!(store.record_run("daily", 5, "sent", &[], 6).unwrap());
        assert!(!store.record_run("daily", 5, "sent", &[], 7).unwrap());
        assert_eq!(store.schedule_runs("daily").unwrap(), [(5, "sent".to_string())]);
    }
}
