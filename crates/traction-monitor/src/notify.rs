//! The notification body (spec: monitoring.md, Notification body) and who receives it.
//!
//! One body serves every channel: the webhook posts it as it is; email and the app show its
//! `text` and `summary`. `text` is one line a person can read, so a Slack- or Teams-compatible
//! incoming webhook shows it without any mapping.

use traction_domain::time::{Micros, format_instant};
use traction_kpi::scope::Org;
use traction_store::monitor::{Channel, Instance, NewNotification, Rule};

use crate::channel::ChannelConfig;
use crate::rule::RuleSpec;

/// An alert notification's content.
#[derive(Clone, Debug)]
pub struct AlertNotice<'a> {
    pub rule: &'a Rule,
    pub spec: &'a RuleSpec,
    pub instance: &'a Instance,
    /// `firing` or `resolved`.
    pub state: &'a str,
    pub at: Micros,
    /// When the condition began to hold.
    pub since: Option<Micros>,
}

impl AlertNotice<'_> {
    /// The one line: state, rule, what happened, since when.
    pub fn text(&self) -> String {
        let head = if self.state == "firing" { "FIRING" } else { "RESOLVED" };
        let mut line = format!("[{head}] {}: {}", self.rule.id, self.instance.summary);
        if let Some(since) = self.since {
            line.push_str(&format!(" (since {})", format_instant(since)));
        }
        line.replace(['\n', '\r'], " ")
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "alert",
            "rule": self.rule.id,
            "key": self.instance.key,
            "state": self.state,
            "at": format_instant(self.at),
            "since": self.since.map(format_instant),
            "value": self.instance.value,
            "condition": self.spec.condition(self.rule.for_secs),
            "summary": self.instance.summary,
            "url": self.instance.url,
            "text": self.text(),
        })
    }
}

/// The users an in-app channel reaches: its user, or the active members of its team (and the
/// teams below it).
pub fn in_app_users(config: &ChannelConfig, org: &Org) -> Vec<String> {
    match config {
        ChannelConfig::InApp { user: Some(u), .. } => vec![u.clone()],
        ChannelConfig::InApp { team: Some(t), .. } => {
            let teams = org.subtree(t);
            org.users
                .iter()
                .filter(|u| u.active && u.team.as_ref().is_some_and(|t| teams.contains(t)))
                .map(|u| u.id.clone())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// `base` addressed: one notification per channel of the rule (in-app channels: one per user
/// they reach), plus one in the app for `extra_user` (a lead's owner), no user twice.
pub fn addressed(
    base: &NewNotification,
    channels: &[Channel],
    org: &Org,
    extra_user: Option<&str>,
) -> Vec<NewNotification> {
    let mut out = Vec::new();
    let mut users: Vec<String> = Vec::new();
    for channel in channels {
        let Ok(config) = ChannelConfig::of(channel) else { continue };
        match config {
            ChannelConfig::InApp { .. } => {
                for user in in_app_users(&config, org) {
                    if !users.contains(&user) {
                        users.push(user);
                    }
                }
            }
            _ => out.push(NewNotification { channel_id: Some(channel.id.clone()), ..base.clone() }),
        }
    }
    if let Some(user) = extra_user
        && !users.iter().any(|u| u == user)
    {
        users.push(user.to_string());
    }
    for user in users {
        out.push(NewNotification { user_id: Some(user), ..base.clone() });
    }
    out
}
