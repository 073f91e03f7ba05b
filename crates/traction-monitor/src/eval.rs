//! One evaluation at an instant (spec: monitoring.md, Alert rules and Evaluation).
//!
//! For each rule made at or before the instant: its conditions now, one per key (a target, a
//! scope, a lead); then each instance's step through `inactive → pending → firing → resolved`
//! ([`step`], a pure function); then what people must be told, which silences may hold. Every
//! change and the notifications it causes are committed in one store transaction, so a restart
//! neither forgets a firing alert nor notifies it again; an instance another evaluator changed
//! in the meantime keeps that evaluator's outcome.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use traction_domain::time::{Micros, format_instant, start_of_day, to_zoned};
use traction_domain::{Entity, Record, Value};
use traction_kpi::Calendar;
use traction_kpi::scope::{Org, Scope};
use traction_kpi::service::{Actual, AnomalyRequest, DayCheck, Kpis, MetricRequest};
use traction_store::monitor::{
    Channel, Evaluation, Instance, InstanceUpdate, NewNotification, Rule, Silence,
};
use traction_store::{ListQuery, MonitorStore, Store};

use crate::Error;
use crate::notify::{AlertNotice, addressed};
use crate::rule::RuleSpec;

/// What an evaluation reads and writes.
pub struct Context<'a> {
    pub monitor: &'a dyn MonitorStore,
    pub data: &'a dyn Store,
    pub kpis: &'a Kpis<'a>,
}

/// A condition as seen at the evaluation instant, for one key.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub key: String,
    pub holds: bool,
    pub value: Option<f64>,
    pub summary: String,
    pub url: String,
    /// Who hears of it in the app besides the rule's channels.
    pub owner: Option<String>,
    /// The team whose calendar counts `for` (`None`: the workspace's).
    pub calendar_team: Option<String>,
}

/// One change of state, as `alert eval` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub rule_id: String,
    pub key: String,
    pub from: String,
    pub to: String,
    pub value: Option<f64>,
    pub summary: String,
}

/// What an evaluation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub at: Micros,
    pub changes: Vec<Change>,
    /// Notifications written (to channels and to users' lists).
    pub notifications: usize,
    /// Rules that could not be evaluated (a target or metric gone): rule id and why. Their
    /// instances keep their states.
    pub errors: Vec<(String, String)>,
}

/// An instance's next state, and what people must be told of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stepped {
    pub instance: Instance,
    /// `(from, to)` when the state changed.
    pub transition: Option<(String, String)>,
    /// `firing` or `resolved` when a notification is due now, with the `since` it reports.
    pub notify: Option<(String, Option<Micros>)>,
}

/// One instance's step at `at`. `working_seconds(from, to)` counts the scope's working time;
/// `silenced` says a silence holds its notifications now.
pub fn step(
    prev: Option<&Instance>,
    cond: &Condition,
    rule: &Rule,
    at: Micros,
    working_seconds: &dyn Fn(Micros, Micros) -> i64,
    silenced: bool,
) -> Stepped {
    let prev_state = prev.map_or("inactive", |p| p.state.as_str());
    let prev_since = prev.and_then(|p| p.since);
    let mut next = Instance {
        rule_id: rule.id.clone(),
        key: cond.key.clone(),
        state: prev_state.into(),
        since: prev_since,
        fired_at: prev.and_then(|p| p.fired_at),
        notified: prev.map_or(String::new(), |p| p.notified.clone()),
        value: cond.value.or(prev.and_then(|p| p.value)),
        summary: if cond.summary.is_empty() {
            prev.map_or(String::new(), |p| p.summary.clone())
        } else {
            cond.summary.clone()
        },
        url: if cond.url.is_empty() {
            prev.map_or(String::new(), |p| p.url.clone())
        } else {
            cond.url.clone()
        },
        owner_id: cond.owner.clone().or(prev.and_then(|p| p.owner_id.clone())),
        updated_at: at,
    };
    if cond.holds {
        let since = match prev_state {
            "pending" | "firing" => prev_since.unwrap_or(at),
            _ => at,
        };
        next.since = Some(since);
        if prev_state == "firing" {
            next.state = "firing".into();
        } else if rule.for_secs <= 0 || working_seconds(since, at) >= rule.for_secs {
            next.state = "firing".into();
            next.fired_at = Some(at);
        } else {
            next.state = "pending".into();
        }
    } else {
        next.since = None;
        next.state = match prev_state {
            "firing" => "resolved",
            "pending" => "inactive",
            other => other,
        }
        .into();
    }
    // What people were last told decides what they must hear now; a silence only delays it.
    let mut notify = None;
    if !silenced {
        if next.state == "firing" && next.notified != "firing" {
            notify = Some(("firing".to_string(), next.since));
            next.notified = "firing".into();
        } else if next.state != "firing" && next.notified == "firing" {
            notify = Some(("resolved".to_string(), prev_since.or(next.since)));
            next.notified = "resolved".into();
        }
    }
    let transition =
        (next.state != prev_state).then(|| (prev_state.to_string(), next.state.clone()));
    Stepped { instance: next, transition, notify }
}

/// Whether a step changed anything worth writing.
fn changed(prev: Option<&Instance>, next: &Instance) -> bool {
    match prev {
        None => next.state != "inactive",
        Some(p) => {
            p.state != next.state
                || p.since != next.since
                || p.notified != next.notified
                || p.value != next.value
                || p.summary != next.summary
                || p.owner_id != next.owner_id
        }
    }
}

/// Evaluates every rule at `at` and commits the outcome, its notifications made at `now` (the
/// wall clock, for delivery). Refused when `at` is before the latest evaluation.
pub fn evaluate(ctx: &Context<'_>, at: Micros, now: Micros) -> Result<Outcome, Error> {
    if let Some(last) = ctx.monitor.last_evaluation()?
        && at < last
    {
        return Err(Error::invalid(format!(
            "an evaluation at {} is before the latest one at {}: evaluations go forward in time",
            format_instant(at),
            format_instant(last)
        )));
    }
    let rules = ctx.monitor.rules()?;
    let mut instances: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for it in ctx.monitor.instances(None)? {
        instances.entry(it.rule_id.clone()).or_default().push(it);
    }
    let silences = ctx.monitor.silences()?;
    let channels: HashMap<String, Channel> =
        ctx.monitor.channels()?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let org = ctx.kpis.org()?;
    let mut calendars: HashMap<Option<String>, Calendar> = HashMap::new();
    let mut outcome = Outcome { at, ..Outcome::default() };
    let mut updates = Vec::new();
    for rule in rules.iter().filter(|r| r.created_at <= at) {
        let spec = match RuleSpec::of(rule) {
            Ok(spec) => spec,
            Err(e) => {
                outcome.errors.push((rule.id.clone(), e.to_string()));
                continue;
            }
        };
        let known = instances.remove(&rule.id).unwrap_or_default();
        let conditions = match conditions(ctx, &org, rule, &spec, &known, at) {
            Ok(c) => c,
            Err(e) => {
                outcome.errors.push((rule.id.clone(), e.to_string()));
                continue;
            }
        };
        let rule_channels: Vec<Channel> =
            rule.channels.iter().filter_map(|id| channels.get(id).cloned()).collect();
        let mut by_key: BTreeMap<String, Condition> =
            conditions.into_iter().map(|c| (c.key.clone(), c)).collect();
        // An instance whose key is no longer seen (a target whose period ended, a lead gone)
        // no longer holds.
        for it in &known {
            by_key.entry(it.key.clone()).or_insert_with(|| Condition {
                key: it.key.clone(),
                holds: false,
                value: None,
                summary: String::new(),
                url: String::new(),
                owner: None,
                calendar_team: None,
            });
        }
        let known: HashMap<&str, &Instance> = known.iter().map(|i| (i.key.as_str(), i)).collect();
        for (key, cond) in &by_key {
            let prev = known.get(key.as_str()).copied();
            let calendar = match calendars.get(&cond.calendar_team) {
                Some(c) => c.clone(),
                None => {
                    let c = ctx.kpis.calendar(cond.calendar_team.as_deref())?;
                    calendars.insert(cond.calendar_team.clone(), c.clone());
                    c
                }
            };
            let working = |from: Micros, to: Micros| calendar.working_seconds(from, to);
            let silenced = silences.iter().any(|s: &Silence| s.holds(&rule.id, key, at));
            let stepped = step(prev, cond, rule, at, &working, silenced);
            if !changed(prev, &stepped.instance) {
                continue;
            }
            let mut notifications: Vec<NewNotification> = Vec::new();
            if let Some((state, since)) = &stepped.notify {
                let notice = AlertNotice {
                    rule,
                    spec: &spec,
                    instance: &stepped.instance,
                    state,
                    at,
                    since: *since,
                };
                let base = NewNotification {
                    kind: "alert".into(),
                    rule_id: Some(rule.id.clone()),
                    key: Some(key.clone()),
                    state: Some(state.clone()),
                    at,
                    channel_id: None,
                    user_id: None,
                    body: notice.body().to_string(),
                    text: notice.text(),
                };
                notifications =
                    addressed(&base, &rule_channels, &org, stepped.instance.owner_id.as_deref());
            }
            updates.push(InstanceUpdate {
                read_version: prev.map(|p| p.updated_at),
                instance: stepped.instance,
                transition: stepped.transition,
                notifications,
            });
        }
    }
    let applied = ctx.monitor.commit_evaluation(&Evaluation { at, now, updates })?;
    for update in applied {
        outcome.notifications += update.notifications.len();
        if let Some((from, to)) = update.transition {
            outcome.changes.push(Change {
                rule_id: update.instance.rule_id,
                key: update.instance.key,
                from,
                to,
                value: update.instance.value,
                summary: update.instance.summary,
            });
        }
    }
    Ok(outcome)
}

/// A rule's conditions at `at`, one per key.
fn conditions(
    ctx: &Context<'_>,
    org: &Org,
    rule: &Rule,
    spec: &RuleSpec,
    known: &[Instance],
    at: Micros,
) -> Result<Vec<Condition>, Error> {
    match spec {
        RuleSpec::Kpi { target, level } => {
            let zone_check =
                |t: &traction_kpi::service::Target, (start, end): (Micros, Micros)| match target {
                    Some(id) => &t.id == id,
                    None => start <= at && at < end,
                };
            let rows = ctx.kpis.status_where(at, zone_check)?;
            if let Some(id) = target
                && rows.is_empty()
            {
                return Err(Error::at("target", format!("target {id:?} no longer exists")));
            }
            Ok(rows
                .iter()
                .map(|row| {
                    let status = row.figures.status.name();
                    let pace = row.figures.pace;
                    let pace_text = pace.map_or_else(String::new, |p| {
                        format!(": {:.0}% of expected pace", p * 100.0)
                    });
                    Condition {
                        key: row.target.id.clone(),
                        holds: level.holds(status),
                        value: pace,
                        summary: format!(
                            "{} {} is {}{pace_text}",
                            row.target.scope,
                            row.target.metric,
                            status.replace('_', " ")
                        ),
                        url: format!("/targets/{}", row.target.id),
                        owner: None,
                        calendar_team: org.calendar_team(&row.target.scope),
                    }
                })
                .collect())
        }
        RuleSpec::Threshold { metric, scope, window, op, value, min_sample, by } => {
            let scope = Scope::parse(scope).map_err(|e| Error::at("scope", e))?;
            let owners = org.owners(&scope);
            let from = match window {
                crate::rule::Window::Trailing(secs) => at - secs * 1_000_000,
                crate::rule::Window::Period => month_start(ctx, at)?,
            };
            let request = MetricRequest::new(metric, owners.as_deref(), (from, at), at);
            let condition = |key: String, what: String, actual: &Actual, url: String| {
                let enough = match (min_sample, actual.sample) {
                    (Some(n), Some(sample)) => sample >= *n as f64,
                    _ => true,
                };
                let holds = enough && actual.value.is_some_and(|v| op.holds(v, *value));
                let shown = actual.value.map_or_else(|| "no value".to_string(), |v| format!("{v}"));
                Condition {
                    key,
                    holds,
                    value: actual.value,
                    summary: format!(
                        "{metric} for {what} over {} is {shown} (alert when {} {value})",
                        window.name(),
                        op.symbol()
                    ),
                    url,
                    owner: None,
                    calendar_team: org.calendar_team(&scope),
                }
            };
            match by {
                None => {
                    let actual = ctx.kpis.metrics.actual(&request)?;
                    let url = format!("/explore?metric={metric}");
                    Ok(vec![condition(scope.to_string(), scope.to_string(), &actual, url)])
                }
                // One instance per value of the dimension seen in the window (spec: monitoring.md,
                // threshold `by`); a value no longer seen resolves like any key not seen.
                Some(dim) => {
                    let groups = ctx.kpis.metrics.actual_by(&request, dim)?;
                    Ok(groups
                        .into_iter()
                        .map(|(group, actual)| {
                            let shown = if group.is_empty() { "(none)" } else { group.as_str() };
                            let what = format!("{scope}, {dim} {shown}");
                            let url = format!("/explore?metric={metric}&by={dim}");
                            condition(shown.to_string(), what, &actual, url)
                        })
                        .collect())
                }
            }
        }
        RuleSpec::LeadSla { minutes } => lead_conditions(ctx, org, rule, *minutes, known, at),
        RuleSpec::Anomaly { metric, scope, level } => {
            let scope = Scope::parse(scope).map_err(|e| Error::at("scope", e))?;
            let owners = org.owners(&scope);
            // A source that makes no forecasts can check nothing, like one without history.
            let checked = match ctx.kpis.metrics.forecasts() {
                Some(f) => {
                    let request =
                        AnomalyRequest { metric, owners: owners.as_deref(), at, level: *level };
                    f.last_day_against_forecast(&request)?
                }
                None => None,
            };
            let Some(DayCheck { day, value, low, high }) = checked else {
                return Err(Error::at(
                    "metric",
                    format!(
                        "{metric} for {scope} cannot be forecast yet (a forecast needs at least 8 weeks of daily history; `traction forecast {metric}` says how much there is)"
                    ),
                ));
            };
            let holds = value < low || value > high;
            let side = if value < low {
                "below"
            } else if value > high {
                "above"
            } else {
                "inside"
            };
            let mut summary = format!(
                "{metric} for {scope} on {day} was {value}, {side} its {:.0}% forecast interval {low:.1}–{high:.1}",
                level * 100.0
            );
            // The explanation of the change (monitoring.md), only when it fires: it costs a few
            // metric queries.
            if holds
                && let Some(forecasts) = ctx.kpis.metrics.forecasts()
                && let Some(why) = forecasts.explain_last_day(metric, &scope, at)?
            {
                summary.push_str(". ");
                summary.push_str(&why);
            }
            Ok(vec![Condition {
                key: scope.to_string(),
                holds,
                value: Some(value),
                summary,
                url: format!("/explore?metric={metric}"),
                owner: None,
                calendar_team: org.calendar_team(&scope),
            }])
        }
    }
}

/// The start of the month containing `at`, in the workspace zone.
fn month_start(ctx: &Context<'_>, at: Micros) -> Result<Micros, Error> {
    let zone = ctx.data.workspace()?.zone;
    let zoned = to_zoned(at, &zone).ok_or_else(|| Error::invalid("instant out of range".into()))?;
    start_of_day(zoned.date().first_of_month(), &zone).map_err(|e| Error::invalid(e.to_string()))
}

/// A lead waiting for its first response as of `at`, past `minutes`: the minutes it has waited.
fn lead_waiting(lead: &Record, minutes: i64, at: Micros) -> Option<i64> {
    let Value::Instant(created) = lead.get("created_at") else { return None };
    let as_of = |field: &str| matches!(lead.get(field), Value::Instant(t) if *t <= at);
    if *created > at || as_of("first_response_at") || as_of("converted_at") {
        return None;
    }
    if matches!(lead.get("status").as_text(), Some("disqualified" | "converted")) {
        return None;
    }
    let waited = (at - created) / 60_000_000;
    (at - created > minutes * 60_000_000).then_some(waited)
}

fn lead_conditions(
    ctx: &Context<'_>,
    org: &Org,
    rule: &Rule,
    minutes: i64,
    known: &[Instance],
    at: Micros,
) -> Result<Vec<Condition>, Error> {
    // The rule watches leads whose deadline falls after it was made (a rule evaluates only from
    // when it was made): newest first, back to those created `minutes` before the rule.
    let oldest = rule.created_at - minutes * 60_000_000;
    let mut leads: Vec<Record> = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    'pages: loop {
        let page = ctx.data.recent(
            Entity::Leads,
            "created_at",
            &ListQuery { filters: &[], condition: None, after: after.as_deref(), limit: 500 },
        )?;
        let Some(last) = page.last() else { break };
        after = Some(vec![last.get("created_at").clone(), last.get("id").clone()]);
        let n = page.len();
        for lead in page {
            match lead.get("created_at") {
                Value::Instant(t) if *t < oldest => break 'pages,
                _ => leads.push(lead),
            }
        }
        if n < 500 {
            break;
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    let push = |lead: &Record, out: &mut Vec<Condition>| {
        let id = lead.get("id").as_text().unwrap_or("").to_string();
        let owner = lead.get("owner_id").as_text().map(str::to_string);
        let waited = lead_waiting(lead, minutes, at);
        let team = owner.as_ref().and_then(|o| org.calendar_team(&Scope::User(o.clone())));
        out.push(Condition {
            key: id.clone(),
            holds: waited.is_some(),
            value: waited.map(|w| w as f64),
            summary: match waited {
                Some(w) => {
                    format!("lead {id} has waited {w} min for a first response (SLA {minutes} min)")
                }
                None => format!("lead {id} is answered, converted or disqualified"),
            },
            url: format!("/leads?lead={id}"),
            owner,
            calendar_team: team,
        });
    };
    for lead in &leads {
        let id = lead.get("id").as_text().unwrap_or("").to_string();
        // Only leads that need watching become instances: those waiting, or known ones.
        if lead_waiting(lead, minutes, at).is_some() || known.iter().any(|k| k.key == id) {
            seen.insert(id);
            push(lead, &mut out);
        }
    }
    for it in known.iter().filter(|k| !seen.contains(&k.key)) {
        if let Some(lead) = ctx.data.get(Entity::Leads, &[Value::Text(it.key.clone())])? {
            push(&lead, &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(for_secs: i64) -> Rule {
        Rule {
            id: "r".into(),
            kind: "kpi".into(),
            spec: String::new(),
            channels: vec![],
            for_secs,
            created_at: 0,
            created_by: "cli".into(),
        }
    }

    fn cond(holds: bool) -> Condition {
        Condition {
            key: "k".into(),
            holds,
            value: Some(0.5),
            summary: "s".into(),
            url: String::new(),
            owner: None,
            calendar_team: None,
        }
    }

    /// Every second counts as working time.
    fn wall(from: Micros, to: Micros) -> i64 {
        (to - from) / 1_000_000
    }

    const H: Micros = 3_600_000_000;

    #[test]
    fn for_zero_fires_at_once_and_resolves_once() {
        let r = rule(0);
        let a = step(None, &cond(true), &r, H, &wall, false);
        assert_eq!(a.instance.state, "firing");
        assert_eq!(a.notify, Some(("firing".into(), Some(H))));
        let b = step(Some(&a.instance), &cond(true), &r, 2 * H, &wall, false);
        assert_eq!(b.notify, None);
        assert_eq!(b.transition, None);
        let c = step(Some(&b.instance), &cond(false), &r, 3 * H, &wall, false);
        assert_eq!(c.instance.state, "resolved");
        assert_eq!(c.notify, Some(("resolved".into(), Some(H))));
        let d = step(Some(&c.instance), &cond(false), &r, 4 * H, &wall, false);
        assert_eq!(d.notify, None);
        assert_eq!(d.transition, None);
    }

    #[test]
    fn pending_until_for_has_passed_then_firing() {
        let r = rule(7200);
        let a = step(None, &cond(true), &r, H, &wall, false);
        assert_eq!((a.instance.state.as_str(), a.notify.clone()), ("pending", None));
        let b = step(Some(&a.instance), &cond(true), &r, 2 * H, &wall, false);
        assert_eq!(b.instance.state, "pending");
        let c = step(Some(&b.instance), &cond(true), &r, 3 * H, &wall, false);
        assert_eq!(c.instance.state, "firing");
        assert_eq!(c.notify, Some(("firing".into(), Some(H))));
        // A pending instance whose condition stops goes back to inactive without a word.
        let d = step(Some(&a.instance), &cond(false), &r, 2 * H, &wall, false);
        assert_eq!((d.instance.state.as_str(), d.notify), ("inactive", None));
    }

    #[test]
    fn a_silence_holds_a_firing_until_it_ends_and_drops_one_that_resolved_inside() {
        let r = rule(0);
        let a = step(None, &cond(true), &r, H, &wall, true);
        assert_eq!((a.instance.state.as_str(), a.notify.clone()), ("firing", None));
        // Still firing when the silence ends: told then.
        let b = step(Some(&a.instance), &cond(true), &r, 2 * H, &wall, false);
        assert_eq!(b.notify, Some(("firing".into(), Some(H))));
        // Fired and resolved inside the silence: never told.
        let c = step(Some(&a.instance), &cond(false), &r, 2 * H, &wall, true);
        let d = step(Some(&c.instance), &cond(false), &r, 3 * H, &wall, false);
        assert_eq!((c.notify, d.notify), (None, None));
    }
}
