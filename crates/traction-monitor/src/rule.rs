//! Alert rules (spec: monitoring.md, Alert rules): their kinds, checked when added.
//!
//! A rule's definition is kept as JSON by the store; [`RuleSpec`] is its one reading. Checking
//! happens here, once, before anything is stored: an unknown target, metric, scope, team or user,
//! channel, a bad window, operator or duration — each refused with what to write instead.

use serde::{Deserialize, Serialize};
use traction_domain::time::Micros;
use traction_kpi::pace::Behaviour;
use traction_kpi::scope::Scope;
use traction_kpi::service::Kpis;
use traction_store::monitor::Rule;
use traction_store::{Actor, MonitorStore};

use crate::Error;
use crate::duration::parse_seconds;
use crate::error::ValueError;

/// How bad a KPI's status must be for a `kpi` rule to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    AtRisk,
    OffTrack,
}

impl Level {
    pub fn parse(text: &str) -> Result<Level, ValueError> {
        match text.trim() {
            "at_risk" | "at-risk" => Ok(Level::AtRisk),
            "off_track" | "off-track" => Ok(Level::OffTrack),
            _ => Err(ValueError::Level { text: text.to_string() }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::AtRisk => "at_risk",
            Level::OffTrack => "off_track",
        }
    }

    /// Whether a KPI status (by name) is at this level or worse. Statuses that are not about
    /// pace (`achieved`, `missed` once the period is over, `not_enough_data`, …) never alert.
    pub fn holds(self, status: &str) -> bool {
        match self {
            Level::AtRisk => matches!(status, "at_risk" | "off_track"),
            Level::OffTrack => status == "off_track",
        }
    }
}

/// A threshold's trailing window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// This many seconds before the evaluation instant.
    Trailing(i64),
    /// The current calendar month to date, in the workspace zone.
    Period,
}

impl Window {
    pub fn parse(text: &str) -> Result<Window, ValueError> {
        match text.trim() {
            "period" => Ok(Window::Period),
            "1h" => Ok(Window::Trailing(3600)),
            "1d" => Ok(Window::Trailing(86_400)),
            "7d" => Ok(Window::Trailing(7 * 86_400)),
            "30d" => Ok(Window::Trailing(30 * 86_400)),
            _ => Err(ValueError::Window { text: text.to_string() }),
        }
    }

    pub fn name(self) -> String {
        match self {
            Window::Period => "period".into(),
            Window::Trailing(secs) => crate::duration::format_seconds(secs),
        }
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn parse(text: &str) -> Result<Op, ValueError> {
        match text.trim() {
            "<" | "lt" => Ok(Op::Lt),
            "<=" | "le" => Ok(Op::Le),
            ">" | "gt" => Ok(Op::Gt),
            ">=" | "ge" => Ok(Op::Ge),
            _ => Err(ValueError::Op { text: text.to_string() }),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
        }
    }
}

/// A rule's definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleSpec {
    /// A target's status at or worse than a level: one target, or every current one.
    Kpi { target: Option<String>, level: Level },
    /// A metric over a trailing window compared with a value, for a scope.
    Threshold {
        metric: String,
        scope: String,
        window: Window,
        op: Op,
        value: f64,
        #[serde(default)]
        min_sample: Option<i64>,
        /// One instance per value of this dimension (`None`: one for the scope).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An open lead with no first response more than `minutes` after it came in.
    LeadSla { minutes: i64 },
    /// A metric's last complete day outside its forecast interval at `level`.
    Anomaly { metric: String, scope: String, level: f64 },
}

impl RuleSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            RuleSpec::Kpi { .. } => "kpi",
            RuleSpec::Threshold { .. } => "threshold",
            RuleSpec::LeadSla { .. } => "lead_sla",
            RuleSpec::Anomaly { .. } => "anomaly",
        }
    }

    pub fn of(rule: &Rule) -> Result<RuleSpec, Error> {
        serde_json::from_str(&rule.spec).map_err(|e| {
            Error::invalid(format!("rule {:?} has an unreadable definition: {e}", rule.id))
        })
    }

    /// The condition in words, as the notification body's `condition`.
    pub fn condition(&self, for_secs: i64) -> String {
        let base = match self {
            RuleSpec::Kpi { level, .. } => format!("status {} or worse", level.name()),
            RuleSpec::Threshold { metric, window, op, value, by, .. } => {
                let per = by.as_ref().map_or_else(String::new, |dim| format!(" per {dim}"));
                format!("{metric}{per} over {} {} {value}", window.name(), op.symbol())
            }
            RuleSpec::LeadSla { minutes } => format!("no first response after {minutes} min"),
            RuleSpec::Anomaly { metric, level, .. } => {
                format!(
                    "{metric} for the last complete day outside its {:.0}% forecast interval",
                    level * 100.0
                )
            }
        };
        if for_secs > 0 {
            format!("{base} for {}", crate::duration::format_seconds(for_secs))
        } else {
            base
        }
    }
}

/// What `alert add` is given, as text (the command line's and the API's flags).
#[derive(Clone, Debug, Default)]
pub struct RuleInput {
    pub id: String,
    pub kind: String,
    pub target: Option<String>,
    pub targets: Option<String>,
    pub status: Option<String>,
    pub metric: Option<String>,
    pub scope: Option<String>,
    pub window: Option<String>,
    pub op: Option<String>,
    pub value: Option<String>,
    pub by: Option<String>,
    pub min_sample: Option<i64>,
    pub minutes: Option<i64>,
    pub level: Option<String>,
    pub for_: Option<String>,
    pub channels: Vec<String>,
}

fn refuse_flags(kind: &str, given: &[(&str, bool)]) -> Result<(), Error> {
    let extra: Vec<&str> = given.iter().filter(|(_, set)| *set).map(|(name, _)| *name).collect();
    if extra.is_empty() {
        Ok(())
    } else {
        let verb = if extra.len() == 1 { "does" } else { "do" };
        Err(Error::invalid(format!(
            "{} {verb} not apply to a {kind} rule: leave it out",
            extra.join(", ")
        )))
    }
}

/// Checks `input` against the data (targets, metrics, scopes) and builds the rule's definition.
pub fn parse(input: &RuleInput, kpis: &Kpis<'_>) -> Result<(RuleSpec, i64), Error> {
    crate::channel::check_rule_id(&input.id)?;
    let for_secs = match &input.for_ {
        Some(text) => parse_seconds(text).map_err(|e| Error::at("for", format!("--for: {e}")))?,
        None => 0,
    };
    let spec = match input.kind.as_str() {
        "kpi" => {
            refuse_flags(
                "kpi",
                &[
                    ("--metric", input.metric.is_some()),
                    ("--window", input.window.is_some()),
                    ("--op", input.op.is_some()),
                    ("--value", input.value.is_some()),
                    ("--minutes", input.minutes.is_some()),
                    ("--by", input.by.is_some()),
                    ("--min-sample", input.min_sample.is_some()),
                    ("--level", input.level.is_some()),
                ],
            )?;
            let level = Level::parse(input.status.as_deref().unwrap_or("at_risk"))
                .map_err(|e| Error::at("status", e))?;
            let target = match (&input.target, input.targets.as_deref()) {
                (Some(_), Some(_)) => {
                    return Err(Error::at(
                        "target",
                        "give --target ID or --targets current, not both",
                    ));
                }
                (Some(id), None) => {
                    kpis.target(id).map_err(|_| {
                        Error::at("target", format!(
                            "--target: no such target {id:?} (`traction target list` shows them)"
                        ))
                    })?;
                    Some(id.clone())
                }
                (None, Some("current")) => None,
                (None, Some(other)) => {
                    return Err(Error::at(
                        "targets",
                        format!(
                            "--targets {other:?}: the only choice is `current` (every target whose period contains the evaluation instant)"
                        ),
                    ));
                }
                (None, None) => {
                    return Err(Error::at(
                        "target",
                        "a kpi rule watches --target ID or --targets current",
                    ));
                }
            };
            RuleSpec::Kpi { target, level }
        }
        "threshold" => {
            refuse_flags(
                "threshold",
                &[
                    ("--target", input.target.is_some()),
                    ("--targets", input.targets.is_some()),
                    ("--status", input.status.is_some()),
                    ("--minutes", input.minutes.is_some()),
                    ("--level", input.level.is_some()),
                ],
            )?;
            let metric = input
                .metric
                .clone()
                .ok_or_else(|| Error::at("metric", "a threshold rule needs --metric M"))?;
            kpis.metrics.behaviour(&metric).map_err(|e| Error::of_field("metric", e))?;
            let by = match input.by.as_deref().map(str::trim) {
                None => None,
                Some("") => {
                    return Err(Error::at(
                        "by",
                        "--by is empty: name a dimension (such as source or owner) or leave it out",
                    ));
                }
                Some(dim) => {
                    kpis.metrics.check_by(&metric, dim).map_err(|e| Error::of_field("by", e))?;
                    Some(dim.to_string())
                }
            };
            let scope_text = input.scope.clone().unwrap_or_else(|| "company".into());
            let scope = Scope::parse(&scope_text)
                .map_err(|e| Error::at("scope", format!("--scope: {e}")))?;
            check_scope(kpis, &scope)?;
            let window = Window::parse(input.window.as_deref().unwrap_or("period"))
                .map_err(|e| Error::at("window", e))?;
            let op =
                Op::parse(input.op.as_deref().ok_or_else(|| {
                    Error::at("op", "a threshold rule needs --op (<, <=, >, >=)")
                })?)
                .map_err(|e| Error::at("op", e))?;
            let value_text = input
                .value
                .as_deref()
                .ok_or_else(|| Error::at("value", "a threshold rule needs --value V"))?;
            let value: f64 =
                value_text.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(
                    || Error::at("value", format!("--value {value_text:?} is not a number")),
                )?;
            if let Some(n) = input.min_sample
                && n < 0
            {
                return Err(Error::at("min_sample", "--min-sample must be 0 or more"));
            }
            RuleSpec::Threshold {
                metric,
                scope: scope.to_string(),
                window,
                op,
                value,
                min_sample: input.min_sample,
                by,
            }
        }
        "lead_sla" => {
            refuse_flags(
                "lead_sla",
                &[
                    ("--target", input.target.is_some()),
                    ("--targets", input.targets.is_some()),
                    ("--metric", input.metric.is_some()),
                    ("--window", input.window.is_some()),
                    ("--op", input.op.is_some()),
                    ("--value", input.value.is_some()),
                    ("--by", input.by.is_some()),
                    ("--status", input.status.is_some()),
                    ("--scope", input.scope.is_some()),
                    ("--min-sample", input.min_sample.is_some()),
                    ("--level", input.level.is_some()),
                ],
            )?;
            let minutes = input
                .minutes
                .ok_or_else(|| Error::at("minutes", "a lead_sla rule needs --minutes N"))?;
            if minutes <= 0 {
                return Err(Error::at(
                    "minutes",
                    format!("--minutes {minutes}: give a number of minutes above 0"),
                ));
            }
            RuleSpec::LeadSla { minutes }
        }
        "anomaly" => {
            refuse_flags(
                "anomaly",
                &[
                    ("--target", input.target.is_some()),
                    ("--targets", input.targets.is_some()),
                    ("--window", input.window.is_some()),
                    ("--op", input.op.is_some()),
                    ("--value", input.value.is_some()),
                    ("--by", input.by.is_some()),
                    ("--status", input.status.is_some()),
                    ("--min-sample", input.min_sample.is_some()),
                    ("--minutes", input.minutes.is_some()),
                ],
            )?;
            let metric = input
                .metric
                .clone()
                .ok_or_else(|| Error::at("metric", "an anomaly rule needs --metric M"))?;
            // A day's forecast adds buckets up: counts and sums only (spec: Forecasts).
            if kpis.metrics.behaviour(&metric).map_err(|e| Error::of_field("metric", e))?
                != Behaviour::Accumulating
            {
                return Err(Error::at(
                    "metric",
                    format!(
                        "--metric {metric}: an anomaly rule watches a count or a sum (its daily values are forecast); for a ratio or an average use a threshold rule"
                    ),
                ));
            }
            let scope_text = input.scope.clone().unwrap_or_else(|| "company".into());
            let scope = Scope::parse(&scope_text)
                .map_err(|e| Error::at("scope", format!("--scope: {e}")))?;
            check_scope(kpis, &scope)?;
            let level = match input.level.as_deref() {
                None => 0.8,
                Some(text) => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| *x > 0.0 && *x < 1.0)
                    .ok_or_else(|| {
                        Error::at(
                            "level",
                            format!("--level {text:?}: give a level between 0 and 1, such as 0.8"),
                        )
                    })?,
            };
            RuleSpec::Anomaly { metric, scope: scope.to_string(), level }
        }
        other => {
            return Err(Error::at(
                "kind",
                format!("--kind {other:?}: write kpi, threshold, lead_sla or anomaly"),
            ));
        }
    };
    Ok((spec, for_secs))
}

/// Refuses a scope naming a team or user that does not exist.
pub(crate) fn check_scope(kpis: &Kpis<'_>, scope: &Scope) -> Result<(), Error> {
    let org = kpis.org()?;
    match scope {
        Scope::Company => Ok(()),
        Scope::Team(team) if org.parents.contains_key(team) => Ok(()),
        Scope::User(user) if org.users.iter().any(|u| &u.id == user) => Ok(()),
        other => Err(Error::at("scope", format!("--scope: {other} does not exist"))),
    }
}

/// Checks and stores a new rule, created at `now` (it evaluates from then on).
pub fn add(
    monitor: &dyn MonitorStore,
    kpis: &Kpis<'_>,
    input: &RuleInput,
    actor: &Actor,
    now: Micros,
) -> Result<Rule, Error> {
    let (spec, for_secs) = parse(input, kpis)?;
    let channels = channel_list(&input.channels);
    let rule = Rule {
        id: input.id.clone(),
        kind: spec.kind().into(),
        spec: serde_json::to_string(&spec).map_err(|e| Error::invalid(e.to_string()))?,
        channels,
        for_secs,
        created_at: now,
        created_by: actor.user.clone(),
    };
    monitor.add_rule(&rule, actor)?;
    Ok(rule)
}

/// Checks and stores a change to a rule: its id, kind, maker and creation instant stay (its
/// instances keep their states); `actor` is who changed it (audited).
pub fn update(
    monitor: &dyn MonitorStore,
    kpis: &Kpis<'_>,
    existing: &Rule,
    input: &RuleInput,
    actor: &Actor,
) -> Result<Rule, Error> {
    if input.kind != existing.kind {
        return Err(Error::at(
            "kind",
            format!(
                "a rule's kind cannot change ({} to {}): add a new rule and delete this one",
                existing.kind, input.kind
            ),
        ));
    }
    let (spec, for_secs) = parse(input, kpis)?;
    let rule = Rule {
        spec: serde_json::to_string(&spec).map_err(|e| Error::invalid(e.to_string()))?,
        channels: channel_list(&input.channels),
        for_secs,
        ..existing.clone()
    };
    monitor.update_rule(&rule, actor)?;
    Ok(rule)
}

fn channel_list(given: &[String]) -> Vec<String> {
    let mut channels: Vec<String> = Vec::new();
    for id in given {
        for part in id.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !channels.iter().any(|c| c == part) {
                channels.push(part.to_string());
            }
        }
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_alert_at_or_worse_and_never_on_other_statuses() {
        assert!(Level::AtRisk.holds("at_risk"));
        assert!(Level::AtRisk.holds("off_track"));
        assert!(!Level::OffTrack.holds("at_risk"));
        for status in ["on_track", "achieved", "missed", "not_started", "not_enough_data", "new"] {
            assert!(!Level::AtRisk.holds(status), "{status}");
        }
    }

    #[test]
    fn a_spec_reads_back_as_written() {
        let spec = RuleSpec::Threshold {
            metric: "win_rate".into(),
            scope: "team:north".into(),
            window: Window::Trailing(7 * 86_400),
            op: Op::Lt,
            value: 0.2,
            min_sample: Some(10),
            by: None,
        };
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<RuleSpec>(&text).unwrap(), spec);
        assert_eq!(spec.condition(7200), "win_rate over 7d < 0.2 for 2h");
    }
}
