//! Channels: where notifications go (spec: monitoring.md, Channels).
//!
//! A channel's settings are kept as JSON by the store; [`ChannelConfig`] is their one reading.
//! A webhook's secret is stored (it signs every body) but never shown: [`ChannelConfig::public`]
//! is what listings, the API and the audit log see.

use serde::{Deserialize, Serialize};
use traction_domain::time::Micros;
use traction_store::monitor::Channel;
use traction_store::{Actor, MonitorStore, Store};

use crate::Error;

/// A channel's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// An HTTP POST of the JSON body; signed when there is a secret.
    Webhook {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    /// SMTP to these addresses (server from the `smtp_url` and `smtp_from` settings).
    Email { to: Vec<String> },
    /// The app's notification list of one user, or of each member of a team.
    InApp {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<String>,
    },
}

/// What `channel add` is given.
#[derive(Clone, Debug, Default)]
pub struct ChannelInput {
    pub id: String,
    pub webhook: Option<String>,
    pub secret: Option<String>,
    pub email: Option<String>,
    pub user: Option<String>,
    pub team: Option<String>,
}

impl ChannelConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Webhook { .. } => "webhook",
            ChannelConfig::Email { .. } => "email",
            ChannelConfig::InApp { .. } => "in_app",
        }
    }

    /// Reads the stored settings of a channel.
    pub fn of(channel: &Channel) -> Result<ChannelConfig, Error> {
        serde_json::from_str(&channel.config).map_err(|e| {
            Error::invalid(format!("channel {:?} has unreadable settings: {e}", channel.id))
        })
    }

    /// The settings as shown to people: the secret replaced by whether there is one.
    pub fn public(&self) -> serde_json::Value {
        match self {
            ChannelConfig::Webhook { url, secret } => {
                serde_json::json!({"kind": "webhook", "url": url, "signed": secret.is_some()})
            }
            other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
        }
    }

    /// One line for a listing: the URL, the addresses, the user or the team.
    pub fn destination(&self) -> String {
        match self {
            ChannelConfig::Webhook { url, secret } => {
                if secret.is_some() {
                    format!("{url} (signed)")
                } else {
                    url.clone()
                }
            }
            ChannelConfig::Email { to } => to.join(", "),
            ChannelConfig::InApp { user: Some(u), .. } => format!("user:{u}"),
            ChannelConfig::InApp { team: Some(t), .. } => format!("team:{t}"),
            ChannelConfig::InApp { .. } => String::new(),
        }
    }
}

fn check_id(what: &str, id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::at(
            "id",
            format!("{what} id {id:?} is not valid: use 1 to 64 letters, digits, '-', '_' or '.'"),
        ))
    }
}

pub(crate) fn check_rule_id(id: &str) -> Result<(), Error> {
    check_id("rule", id)
}

pub(crate) fn check_silence_id(id: &str) -> Result<(), Error> {
    check_id("silence", id)
}

fn check_address(address: &str) -> Result<(), Error> {
    let ok = address.parse::<lettre::Address>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(Error::at(
            "email",
            format!(
                "--email: {address:?} is not an email address: write name@example.com (several separated by commas)"
            ),
        ))
    }
}

/// Checks `input` and builds the channel's settings: exactly one destination, a URL that is
/// http(s), addresses that parse, a user or team that exists.
pub fn parse(input: &ChannelInput, data: &dyn Store) -> Result<ChannelConfig, Error> {
    check_id("channel", &input.id)?;
    let given = [&input.webhook, &input.email, &input.user, &input.team]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if given != 1 {
        return Err(Error::invalid(
            "a channel has exactly one destination: --webhook URL, --email ADDR[,ADDR…], --user ID or --team ID".into(),
        ));
    }
    if input.secret.is_some() && input.webhook.is_none() {
        return Err(Error::at("secret", "--secret signs a webhook: give it with --webhook URL"));
    }
    if let Some(url) = &input.webhook {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            Error::at(
                "webhook",
                format!("--webhook {url:?} is not a URL ({e}): write https://host/path"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::at(
                "webhook",
                format!("--webhook {url:?} must be an http:// or https:// URL with a host"),
            ));
        }
        if input.secret.as_deref() == Some("") {
            return Err(Error::at(
                "secret",
                "--secret is empty: give the shared secret, or leave it out",
            ));
        }
        return Ok(ChannelConfig::Webhook { url: url.clone(), secret: input.secret.clone() });
    }
    if let Some(list) = &input.email {
        let to: Vec<String> =
            list.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
        if to.is_empty() {
            return Err(Error::at("email", "--email needs at least one address"));
        }
        for address in &to {
            check_address(address)?;
        }
        return Ok(ChannelConfig::Email { to });
    }
    use traction_domain::{Entity, Value};
    if let Some(user) = &input.user {
        if data.get(Entity::Users, &[Value::Text(user.clone())])?.is_none() {
            return Err(Error::at(
                "user",
                format!("--user: no such user {user:?} (`traction user list` shows them)"),
            ));
        }
        return Ok(ChannelConfig::InApp { user: Some(user.clone()), team: None });
    }
    let team = input.team.clone().unwrap_or_default();
    if data.get(Entity::Teams, &[Value::Text(team.clone())])?.is_none() {
        return Err(Error::at("team", format!("--team: no such team {team:?}")));
    }
    Ok(ChannelConfig::InApp { user: None, team: Some(team) })
}

/// Checks and stores a new channel; the audit log gets its public settings.
pub fn add(
    monitor: &dyn MonitorStore,
    data: &dyn Store,
    input: &ChannelInput,
    actor: &Actor,
    now: Micros,
) -> Result<Channel, Error> {
    let config = parse(input, data)?;
    let channel = Channel {
        id: input.id.clone(),
        kind: config.kind().into(),
        config: serde_json::to_string(&config).map_err(|e| Error::invalid(e.to_string()))?,
        created_at: now,
        created_by: actor.user.clone(),
    };
    monitor.add_channel(&channel, &config.public().to_string(), actor)?;
    Ok(channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_secret_is_never_public() {
        let config = ChannelConfig::Webhook {
            url: "https://hooks.example.com/x".into(),
            secret: Some("s3cret".into()),
        };
        let shown = config.public().to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("\"signed\":true"));
        assert!(!config.destination().contains("s3cret"));
    }
}
