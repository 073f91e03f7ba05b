//! `traction channel|alert|silence|notifications`: monitoring from the command line (spec:
//! monitoring.md, Command line and API).
//!
//! `alert eval [--at T]` evaluates every rule once, commits the transitions with their
//! notifications, prints the transitions, then delivers what is due (lingering up to ten
//! seconds for quick retries); the server does the same every minute.

use std::io::Write;
use std::time::Duration;

use traction_domain::time::{Micros, format_instant, parse_instant};
use traction_kpi::engine::Engine;
use traction_kpi::service::Kpis;
use traction_monitor::channel::{ChannelConfig, ChannelInput};
use traction_monitor::deliver::{Deliverer, SmtpSettings};
use traction_monitor::rule::RuleInput;
use traction_monitor::schedule::ReportError;
use traction_store::monitor::{NewNotification, NotificationQuery, Silence};
use traction_store::{Actor, Backend, Store};

use super::{Context, Failure, Result, wall_clock};
use crate::output::{Format, Table};

/// How long `alert eval` and `channel test` wait for retries that fall due soon.
const LINGER: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct ChannelArgs {
    #[command(subcommand)]
    pub action: ChannelAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum ChannelAction {
    /// Add a channel: a webhook, email addresses, a user's or a team's list in the app.
    Add {
        /// The channel's id (letters, digits, '-', '_', '.').
        #[arg(long)]
        id: String,
        /// POST notifications as JSON to this URL (Slack- and Teams-compatible: `text`).
        #[arg(long)]
        webhook: Option<String>,
        /// Sign webhook bodies: X-Traction-Signature: sha256=HMAC-SHA256(secret, body).
        #[arg(long)]
        secret: Option<String>,
        /// Email these addresses (comma-separated); needs the smtp_url and smtp_from settings.
        #[arg(long)]
        email: Option<String>,
        /// The notification list of this user in the app.
        #[arg(long)]
        user: Option<String>,
        /// The notification list of each member of this team in the app.
        #[arg(long)]
        team: Option<String>,
    },
    /// List the channels (secrets are never shown).
    List,
    /// Delete a channel no rule uses.
    Delete { id: String },
    /// Send a test notification now and say whether it arrived.
    Test { id: String },
}

#[derive(Debug, clap::Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub action: AlertAction,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, global = true, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum AlertAction {
    /// Add an alert rule.
    Add(Box<AlertAddArgs>),
    /// List the rules.
    List,
    /// Delete a rule (its history stays).
    Delete { id: String },
    /// The instances of every rule and their states.
    Status {
        /// Only instances in this state: firing, pending, resolved or inactive.
        #[arg(long)]
        state: Option<String>,
    },
    /// Every change of state, oldest first.
    History {
        /// From this instant or date.
        #[arg(long)]
        from: Option<String>,
        /// Up to (not including) this instant or date.
        #[arg(long)]
        to: Option<String>,
    },
    /// Evaluate every rule once at --at (default now), deliver, print the transitions.
    Eval,
}

#[derive(Debug, clap::Args)]
pub struct AlertAddArgs {
    /// The rule's id.
    #[arg(long)]
    pub id: String,
    /// kpi, threshold or lead_sla (anomaly needs forecasts, not made yet).
    #[arg(long)]
    pub kind: String,
    /// kpi: the target to watch.
    #[arg(long)]
    pub target: Option<String>,
    /// kpi: `current`, every target whose period contains the evaluation instant.
    #[arg(long)]
    pub targets: Option<String>,
    /// kpi: at_risk (default; at risk or off track) or off_track.
    #[arg(long)]
    pub status: Option<String>,
    /// threshold: the metric.
    #[arg(long)]
    pub metric: Option<String>,
    /// threshold: company (default), team:ID or user:ID.
    #[arg(long)]
    pub scope: Option<String>,
    /// threshold: 1h, 1d, 7d, 30d or period (the month to date; default).
    #[arg(long)]
    pub window: Option<String>,
    /// threshold: <, <=, > or >=.
    #[arg(long)]
    pub op: Option<String>,
    /// threshold: the value compared with (rates as fractions, money in major units).
    #[arg(long)]
    pub value: Option<String>,
    /// threshold: one instance per value of this dimension (not supported yet).
    #[arg(long)]
    pub by: Option<String>,
    /// threshold: a ratio or average resting on fewer rows than this does not fire.
    #[arg(long = "min-sample")]
    pub min_sample: Option<i64>,
    /// lead_sla: minutes a lead may wait for its first response.
    #[arg(long)]
    pub minutes: Option<i64>,
    /// anomaly: the forecast interval's level.
    #[arg(long)]
    pub level: Option<String>,
    /// How long the condition must hold before firing, in working time (30m, 2h; default 0).
    #[arg(long = "for")]
    pub for_: Option<String>,
    /// The channels to notify (comma-separated or repeated).
    #[arg(long = "channel", required = true)]
    pub channels: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SilenceArgs {
    #[command(subcommand)]
    pub action: SilenceAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum SilenceAction {
    /// Hold a rule's notifications (one instance with --key) for a time.
    Add {
        /// The silence's id (default: the next free s-N).
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        rule: String,
        /// Only this instance (a target id, a scope, a lead id).
        #[arg(long)]
        key: Option<String>,
        /// From this instant (default: now, or --at).
        #[arg(long)]
        from: Option<String>,
        /// Until this instant.
        #[arg(long)]
        until: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    List,
    Delete {
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct NotificationsArgs {
    /// A user's list in the app (default: every notification, on every channel).
    #[arg(long)]
    pub user: Option<String>,
    /// Only unread ones (with --user).
    #[arg(long)]
    pub unread: bool,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

fn monitor_error(e: traction_monitor::Error) -> Failure {
    match e {
        traction_monitor::Error::Invalid { message: m, .. }
        | traction_monitor::Error::NotFound(m) => Failure::Input(m),
        traction_monitor::Error::Kpi(e) => super::kpi::kpi_error(e),
        traction_monitor::Error::Store(e) => e.into(),
    }
}

fn actor() -> Actor {
    Actor { user: "cli".into(), at: None }
}

fn write_table(ctx: &Context, table: &Table, json: serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match ctx.format()? {
        Format::Json => writeln!(out, "{json}")?,
        Format::Csv => table.write_csv(&mut out)?,
        Format::Table => table.write_text(&mut out)?,
    }
    Ok(())
}

/// The SMTP settings, when both are set.
pub fn smtp_settings(store: &dyn Backend) -> Result<Option<SmtpSettings>> {
    use traction_domain::settings::Key;
    let url = store.setting(Key::SmtpUrl, None)?.value;
    let from = store.setting(Key::SmtpFrom, None)?.value;
    Ok((!url.is_empty() && !from.is_empty()).then_some(SmtpSettings { url, from }))
}

fn deliverer(store: &dyn Backend) -> Result<Deliverer> {
    Deliverer::new(smtp_settings(store)?).map_err(|e| Failure::Runtime(e.to_string()))
}

pub fn run_channel(ctx: &Context, args: ChannelArgs) -> Result<()> {
    let store = ctx.store()?;
    match args.action {
        ChannelAction::Add { id, webhook, secret, email, user, team } => {
            let now = ctx.now(&*store)?;
            let input = ChannelInput { id, webhook, secret, email, user, team };
            let channel = traction_monitor::channel::add(&*store, &*store, &input, &actor(), now)
                .map_err(monitor_error)?;
            println!("{}", channel.id);
            Ok(())
        }
        ChannelAction::List => {
            let mut table = Table::new(&["id", "kind", "destination", "created_at"]);
            let mut json = Vec::new();
            for channel in store.channels()? {
                let config = ChannelConfig::of(&channel).map_err(monitor_error)?;
                table.rows.push(vec![
                    channel.id.clone(),
                    channel.kind.clone(),
                    config.destination(),
                    format_instant(channel.created_at),
                ]);
                json.push(serde_json::json!({
                    "id": channel.id, "kind": channel.kind, "config": config.public(),
                    "created_at": format_instant(channel.created_at),
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "channels": json }))
        }
        ChannelAction::Delete { id } => store.delete_channel(&id, &actor()).map_err(|e| match e {
            traction_store::Error::NotFound => Failure::Input(format!("no such channel {id:?}")),
            other => other.into(),
        }),
        ChannelAction::Test { id } => {
            let channel = store.channel(&id)?.ok_or_else(|| {
                Failure::Input(format!(
                    "no such channel {id:?}: `traction channel list` shows them"
                ))
            })?;
            let config = ChannelConfig::of(&channel).map_err(monitor_error)?;
            let now = wall_clock();
            let text = format!("Traction test notification for channel {id}");
            let body = serde_json::json!({
                "kind": "test", "channel": id, "at": format_instant(now), "text": text,
            });
            let base = NewNotification {
                kind: "test".into(),
                rule_id: None,
                key: None,
                state: None,
                at: now,
                channel_id: None,
                user_id: None,
                body: body.to_string(),
                text,
            };
            let kpis_store: &dyn Store = &*store;
            let catalog = traction_metrics::Catalog::builtin();
            let engine = Engine { store: &*store, catalog: &catalog };
            let kpis = Kpis { store: kpis_store, metrics: &engine };
            let org = kpis.org().map_err(|e| Failure::Runtime(e.to_string()))?;
            let notes = traction_monitor::notify::addressed(
                &base,
                std::slice::from_ref(&channel),
                &org,
                None,
            );
            if notes.is_empty() {
                return Err(Failure::Input(format!(
                    "channel {id:?} reaches nobody now ({} has no active members)",
                    config.destination()
                )));
            }
            let ids = store.add_notifications(&notes, now)?;
            if let ChannelConfig::InApp { .. } = config {
                println!("delivered to {} user(s) in the app", ids.len());
                return Ok(());
            }
            deliverer(&*store)?.run(&*store, &wall_clock, LINGER).map_err(monitor_error)?;
            let note = store
                .notification(ids[0])?
                .ok_or_else(|| Failure::Runtime("the test notification vanished".into()))?;
            if note.status == "delivered" {
                println!(
                    "delivered to {} after {} attempt(s)",
                    config.destination(),
                    note.attempts
                );
                Ok(())
            } else {
                Err(Failure::Runtime(format!(
                    "not delivered to {} after {} attempt(s): {} (it stays pending and is retried for 24 h)",
                    config.destination(),
                    note.attempts,
                    note.last_error.unwrap_or_default()
                )))
            }
        }
    }
}

pub fn run_alert(ctx: &Context, args: AlertArgs) -> Result<()> {
    let store = ctx.store()?;
    let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    // With forecasts: anomaly rules compare a day with its forecast interval.
    let engine = traction_forecast::kpi::Source::new(&*store, &catalog);
    let kpis = Kpis { store: &*store, metrics: &engine };
    match args.action {
        AlertAction::Add(add) => {
            let now = ctx.now(&*store)?;
            let input = RuleInput {
                id: add.id,
                kind: add.kind,
                target: add.target,
                targets: add.targets,
                status: add.status,
                metric: add.metric,
                scope: add.scope,
                window: add.window,
                op: add.op,
                value: add.value,
                by: add.by,
                min_sample: add.min_sample,
                minutes: add.minutes,
                level: add.level,
                for_: add.for_,
                channels: add.channels,
            };
            let rule = traction_monitor::rule::add(&*store, &kpis, &input, &actor(), now)
                .map_err(monitor_error)?;
            println!("{}", rule.id);
            Ok(())
        }
        AlertAction::List => {
            let mut table = Table::new(&["id", "kind", "condition", "channels", "created_at"]);
            let mut json = Vec::new();
            for rule in store.rules()? {
                let spec = traction_monitor::rule::RuleSpec::of(&rule).map_err(monitor_error)?;
                let condition = spec.condition(rule.for_secs);
                table.rows.push(vec![
                    rule.id.clone(),
                    rule.kind.clone(),
                    condition.clone(),
                    rule.channels.join(","),
                    format_instant(rule.created_at),
                ]);
                json.push(serde_json::json!({
                    "id": rule.id, "kind": rule.kind, "condition": condition,
                    "definition": serde_json::to_value(&spec).unwrap_or_default(),
                    "for": traction_monitor::duration::format_seconds(rule.for_secs),
                    "channels": rule.channels, "created_at": format_instant(rule.created_at),
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "rules": json }))
        }
        AlertAction::Delete { id } => store.delete_rule(&id, &actor()).map_err(|e| match e {
            traction_store::Error::NotFound => Failure::Input(format!("no such rule {id:?}")),
            other => other.into(),
        }),
        AlertAction::Status { state } => {
            if let Some(s) = &state
                && !["firing", "pending", "resolved", "inactive"].contains(&s.as_str())
            {
                return Err(Failure::Input(format!(
                    "--state {s:?}: write firing, pending, resolved or inactive"
                )));
            }
            let mut table = Table::new(&["rule", "key", "state", "since", "value", "summary"]);
            let mut json = Vec::new();
            for it in store.instances(None)? {
                if state.as_ref().is_some_and(|s| *s != it.state) {
                    continue;
                }
                table.rows.push(vec![
                    it.rule_id.clone(),
                    it.key.clone(),
                    it.state.clone(),
                    it.since.map(format_instant).unwrap_or_default(),
                    it.value.map(|v| v.to_string()).unwrap_or_default(),
                    it.summary.clone(),
                ]);
                json.push(serde_json::json!({
                    "rule": it.rule_id, "key": it.key, "state": it.state,
                    "since": it.since.map(format_instant), "value": it.value,
                    "summary": it.summary, "url": it.url,
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "alerts": json }))
        }
        AlertAction::History { from, to } => {
            let zone = store.workspace()?.zone;
            let parse = |flag: &str, t: Option<String>| -> Result<Option<Micros>> {
                t.map(|t| {
                    parse_instant(&t, &zone).map_err(|e| Failure::Input(format!("--{flag}: {e}")))
                })
                .transpose()
            };
            let (from, to) = (parse("from", from)?, parse("to", to)?);
            let mut table = Table::new(&["at", "rule", "key", "from", "to", "value", "summary"]);
            let mut json = Vec::new();
            for t in store.transitions(from, to)? {
                table.rows.push(vec![
                    format_instant(t.at),
                    t.rule_id.clone(),
                    t.key.clone(),
                    t.from.clone(),
                    t.to.clone(),
                    t.value.map(|v| v.to_string()).unwrap_or_default(),
                    t.summary.clone(),
                ]);
                json.push(serde_json::json!({
                    "at": format_instant(t.at), "rule": t.rule_id, "key": t.key,
                    "from": t.from, "to": t.to, "value": t.value, "summary": t.summary,
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "history": json }))
        }
        AlertAction::Eval => {
            // Run from cron beside a server: the server's pages come first.
            traction_server::os::background_priority();
            let at = ctx.now(&*store)?;
            let context =
                traction_monitor::eval::Context { monitor: &*store, data: &*store, kpis: &kpis };
            let outcome = traction_monitor::eval::evaluate(&context, at, wall_clock())
                .map_err(monitor_error)?;
            let report =
                deliverer(&*store)?.run(&*store, &wall_clock, LINGER).map_err(monitor_error)?;
            for (rule, error) in &outcome.errors {
                eprintln!("warning: rule {rule} was not evaluated: {error}");
            }
            let mut table = Table::new(&["rule", "key", "from", "to", "value", "summary"]);
            for c in &outcome.changes {
                table.rows.push(vec![
                    c.rule_id.clone(),
                    c.key.clone(),
                    c.from.clone(),
                    c.to.clone(),
                    c.value.map(|v| v.to_string()).unwrap_or_default(),
                    c.summary.clone(),
                ]);
            }
            let json = serde_json::json!({
                "at": format_instant(outcome.at),
                "transitions": outcome.changes.iter().map(|c| serde_json::json!({
                    "rule": c.rule_id, "key": c.key, "from": c.from, "to": c.to,
                    "value": c.value, "summary": c.summary,
                })).collect::<Vec<_>>(),
                "notifications": outcome.notifications,
                "delivered": report.delivered,
                "failed": report.failed,
                "errors": outcome.errors.iter().map(|(r, e)| serde_json::json!({"rule": r, "error": e})).collect::<Vec<_>>(),
            });
            if report.retrying > 0 {
                eprintln!(
                    "warning: some notifications could not be delivered yet; they are retried by the next `alert eval` or the server"
                );
            }
            write_table(ctx, &table, json)
        }
    }
}

pub fn run_silence(ctx: &Context, args: SilenceArgs) -> Result<()> {
    let store = ctx.store()?;
    match args.action {
        SilenceAction::Add { id, rule, key, from, until, comment } => {
            let now = ctx.now(&*store)?;
            let zone = store.workspace()?.zone;
            let starts_at = match from {
                Some(t) => {
                    parse_instant(&t, &zone).map_err(|e| Failure::Input(format!("--from: {e}")))?
                }
                None => now,
            };
            let ends_at = parse_instant(&until, &zone)
                .map_err(|e| Failure::Input(format!("--until: {e}")))?;
            if ends_at <= starts_at {
                return Err(Failure::Input(format!(
                    "--until {} is not after the start {}: a silence must end after it starts",
                    format_instant(ends_at),
                    format_instant(starts_at)
                )));
            }
            let existing = store.silences()?;
            let id = match id {
                Some(id) => id,
                None => {
                    let mut n = existing.len() + 1;
                    while existing.iter().any(|s| s.id == format!("s-{n}")) {
                        n += 1;
                    }
                    format!("s-{n}")
                }
            };
            let silence = Silence {
                id: id.clone(),
                rule_id: rule,
                key,
                starts_at,
                ends_at,
                comment,
                created_at: now,
                created_by: "cli".into(),
            };
            traction_monitor::silence::add(&*store, &silence, &actor()).map_err(monitor_error)?;
            println!("{id}");
            Ok(())
        }
        SilenceAction::List => {
            let mut table = Table::new(&["id", "rule", "key", "from", "until", "comment"]);
            let mut json = Vec::new();
            for s in store.silences()? {
                table.rows.push(vec![
                    s.id.clone(),
                    s.rule_id.clone(),
                    s.key.clone().unwrap_or_default(),
                    format_instant(s.starts_at),
                    format_instant(s.ends_at),
                    s.comment.clone(),
                ]);
                json.push(serde_json::json!({
                    "id": s.id, "rule": s.rule_id, "key": s.key,
                    "from": format_instant(s.starts_at), "until": format_instant(s.ends_at),
                    "comment": s.comment,
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "silences": json }))
        }
        SilenceAction::Delete { id } => store.delete_silence(&id, &actor()).map_err(|e| match e {
            traction_store::Error::NotFound => Failure::Input(format!("no such silence {id:?}")),
            other => other.into(),
        }),
    }
}

pub fn run_notifications(ctx: &Context, args: NotificationsArgs) -> Result<()> {
    let store = ctx.store()?;
    if args.unread && args.user.is_none() {
        return Err(Failure::Input("--unread needs --user ID (read marks are per user)".into()));
    }
    let query = NotificationQuery {
        user_id: args.user,
        unread_only: args.unread,
        channel_id: None,
        limit: args.limit,
    };
    let mut table = Table::new(&["id", "at", "to", "status", "attempts", "text"]);
    let mut json = Vec::new();
    for n in store.notifications(&query)? {
        let to = match (&n.channel_id, &n.user_id) {
            (Some(c), _) => format!("channel:{c}"),
            (_, Some(u)) => format!("user:{u}"),
            _ => String::new(),
        };
        let status = if n.user_id.is_some() {
            if n.read_at.is_some() { "read" } else { "unread" }.to_string()
        } else {
            n.status.clone()
        };
        table.rows.push(vec![
            n.id.to_string(),
            format_instant(n.at),
            to.clone(),
            status.clone(),
            n.attempts.to_string(),
            n.text.clone(),
        ]);
        json.push(serde_json::json!({
            "id": n.id, "kind": n.kind, "at": format_instant(n.at), "channel": n.channel_id,
            "user": n.user_id, "status": status, "attempts": n.attempts,
            "last_error": n.last_error, "text": n.text,
            "body": serde_json::from_str::<serde_json::Value>(&n.body).unwrap_or_default(),
        }));
    }
    write_table(ctx, &table, serde_json::json!({ "notifications": json }))
}

/// `traction serve`'s evaluator: a thread of its own at the lowest priority (so pages never wait
/// on it) that evaluates
/// every rule at start and then at each minute, and delivers what is due (retries included).
/// A failed round is logged and the next one tries again.
pub fn spawn_evaluator(store: std::sync::Arc<dyn Backend>, metrics_file: Option<String>) {
    let spawned = std::thread::Builder::new().name("traction-monitor".into()).spawn(move || {
        // The pages come first: this thread takes the cores only when they are idle.
        if !traction_server::os::background_priority() {
            tracing::debug!("the evaluator runs at the normal priority");
        }
        // The hour whose KPI forecasts were last made here (see below).
        let mut warmed_hour: Option<i64> = None;
        loop {
            let now = wall_clock();
            // The workspace's catalog as of this round: metrics defined since start count too.
            let catalog =
                match traction_metrics::catalog::workspace::load(store.as_ref(), metrics_file.as_deref()) {
                    Ok(loaded) => loaded.catalog,
                    Err(_) => traction_metrics::Catalog::builtin(),
                };
            // With forecasts: anomaly rules compare a day with its forecast interval.
    let engine = traction_forecast::kpi::Source::new(&*store, &catalog);
            let kpis = Kpis { store: store.as_ref(), metrics: &engine };
            let context = traction_monitor::eval::Context {
                monitor: store.as_ref(),
                data: store.as_ref(),
                kpis: &kpis,
            };
            match traction_monitor::eval::evaluate(&context, now, now) {
                Ok(outcome) => {
                    for c in &outcome.changes {
                        tracing::info!(rule = %c.rule_id, key = %c.key, from = %c.from, to = %c.to, "alert");
                    }
                    for (rule, error) in &outcome.errors {
                        tracing::warn!(rule = %rule, "rule not evaluated: {error}");
                    }
                }
                Err(e) => tracing::warn!("alert evaluation failed: {e}"),
            }
            // The current KPIs' forecasts with their backtests, once an hour at this thread's low
            // priority: a request to the server makes at most a few backtests (each is eight fits
            // of the model), so the pages read back what is made and kept here (docs/forecasts.md).
            let hour = now.div_euclid(3_600_000_000);
            if warmed_hour != Some(hour) {
                let current = traction_kpi::service::Selection {
                    scope: None,
                    all: false,
                    period: None,
                    starts_on: None,
                };
                match kpis.status(now, &current) {
                    Ok(_) => warmed_hour = Some(hour),
                    Err(e) => tracing::warn!("KPI forecasts not made: {e}"),
                }
            }
            // Reports due now; after a time down, only the latest of each (the others missed).
            match run_schedules(&*store, &catalog, now, true) {
                Ok(outcome) => {
                    for (id, due) in &outcome.sent {
                        tracing::info!(schedule = %id, due = %format_instant(due.at), "report sent");
                    }
                    for (id, error) in &outcome.errors {
                        tracing::warn!(schedule = %id, "report not made: {error}");
                    }
                    for (id, due, why) in &outcome.refused {
                        tracing::warn!(schedule = %id, due = %format_instant(due.at), "report not sent: {why}");
                    }
                }
                Err(e) => tracing::warn!("scheduled reports failed: {e}"),
            }
            // The SMTP settings are read each round, so a change applies without a restart.
            match smtp_settings(&*store).map(Deliverer::new) {
                Ok(Ok(deliverer)) => {
                    if let Err(e) = deliverer.run(store.as_ref(), &wall_clock, Duration::ZERO) {
                        tracing::warn!("delivery failed: {e}");
                    }
                }
                Ok(Err(e)) => tracing::error!("cannot deliver: {e}"),
                Err(e) => tracing::error!("cannot deliver: {e:?}"),
            }
            // Sleep to the next minute boundary.
            let minute = 60_000_000;
            let wait = minute - wall_clock().rem_euclid(minute);
            std::thread::sleep(Duration::from_micros(wait as u64));
        }
    });
    if let Err(e) = spawned {
        eprintln!("warning: monitoring is off: cannot start its thread: {e}");
    }
}

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub action: ScheduleAction,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, global = true, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleAction {
    /// Send the period report of a scope to channels every working day, week or month.
    Add {
        #[arg(long)]
        id: String,
        /// day (each working day, the previous working day), week (first working day of the
        /// week, the previous week) or month (first working day, the previous month).
        #[arg(long)]
        every: String,
        /// HH:MM in the workspace zone.
        #[arg(long)]
        time: String,
        /// company (default), team:ID or user:ID.
        #[arg(long)]
        scope: Option<String>,
        /// The channels (comma-separated or repeated).
        #[arg(long = "channel", required = true)]
        channels: Vec<String>,
    },
    List,
    Delete {
        id: String,
    },
    /// Send every report due at or before --at (default now) not yet sent.
    Run,
}

/// Makes the period report of a schedule for `[from, to)` (the KPI crate's, as `traction
/// report`); the schedule's run has checked its maker may read the scope.
pub fn make_report(
    store: &dyn Backend,
    catalog: &traction_metrics::Catalog,
    schedule: &traction_store::monitor::Schedule,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    at: Micros,
) -> std::result::Result<traction_monitor::schedule::ReportContent, ReportError> {
    let zone = store.workspace()?.zone;
    let day = |date: jiff::civil::Date| {
        traction_domain::time::start_of_day(date, &zone)
            .map(|m| (m, date.to_string()))
            .map_err(|source| ReportError::Day { date, source })
    };
    let scope = traction_kpi::scope::Scope::parse(&schedule.scope)
        .map_err(|source| ReportError::Scope { scope: schedule.scope.clone(), source })?;
    // With the KPI forecasts and their backtests, as `traction report` shows them.
    let forecasts = traction_forecast::kpi::Source::new(store, catalog);
    let report = traction_server::report::build(
        store,
        catalog,
        &forecasts,
        scope,
        day(from)?,
        day(to)?,
        at,
    )?;
    Ok(traction_monitor::schedule::ReportContent {
        json: traction_server::wire::report(&report),
        text: traction_render::report::markdown(&report),
        html: traction_render::report::html(&report),
        csv: traction_render::report::csv(&report),
    })
}

/// Sends the reports due at `at`: all of them, or (the server) only the latest of each.
pub fn run_schedules(
    store: &dyn Backend,
    catalog: &traction_metrics::Catalog,
    at: Micros,
    latest_only: bool,
) -> std::result::Result<traction_monitor::schedule::RunOutcome, traction_monitor::Error> {
    let engine = Engine { store, catalog };
    let kpis = Kpis { store, metrics: &engine };
    let org = kpis.org()?;
    let calendar = |team: Option<&str>| kpis.calendar(team).map_err(traction_monitor::Error::from);
    let report = |s: &traction_store::monitor::Schedule,
                  from: jiff::civil::Date,
                  to: jiff::civil::Date,
                  at: Micros| make_report(store, catalog, s, from, to, at);
    let context = traction_monitor::schedule::RunContext {
        monitor: store,
        org: &org,
        calendar: &calendar,
        report: &report,
    };
    traction_monitor::schedule::run(&context, at, wall_clock(), latest_only)
}

pub fn run_schedule(ctx: &Context, args: ScheduleArgs) -> Result<()> {
    let store = ctx.store()?;
    match args.action {
        ScheduleAction::Add { id, every, time, scope, channels } => {
            let now = ctx.now(&*store)?;
            let catalog = traction_metrics::Catalog::builtin();
            let engine = Engine { store: &*store, catalog: &catalog };
            let kpis = Kpis { store: &*store, metrics: &engine };
            let org = kpis.org().map_err(|e| Failure::Runtime(e.to_string()))?;
            let input =
                traction_monitor::schedule::ScheduleInput { id, every, time, scope, channels };
            let schedule = traction_monitor::schedule::add(&*store, &org, &input, &actor(), now)
                .map_err(monitor_error)?;
            println!("{}", schedule.id);
            Ok(())
        }
        ScheduleAction::List => {
            let catalog = traction_metrics::Catalog::builtin();
            let engine = Engine { store: &*store, catalog: &catalog };
            let org = Kpis { store: &*store, metrics: &engine }
                .org()
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            let mut table = Table::new(&[
                "id",
                "every",
                "time",
                "scope",
                "channels",
                "created_at",
                "created_by",
                "problem",
            ]);
            let mut json = Vec::new();
            for s in store.schedules()? {
                let problem = traction_monitor::schedule::problem(&s, &org);
                table.rows.push(vec![
                    s.id.clone(),
                    s.every.clone(),
                    s.time.clone(),
                    s.scope.clone(),
                    s.channels.join(","),
                    format_instant(s.created_at),
                    s.created_by.clone(),
                    problem.clone().unwrap_or_default(),
                ]);
                json.push(serde_json::json!({
                    "id": s.id, "every": s.every, "time": s.time, "scope": s.scope,
                    "channels": s.channels, "created_at": format_instant(s.created_at),
                    "created_by": s.created_by, "problem": problem,
                }));
            }
            write_table(ctx, &table, serde_json::json!({ "schedules": json }))
        }
        ScheduleAction::Delete { id } => {
            store.delete_schedule(&id, &actor()).map_err(|e| match e {
                traction_store::Error::NotFound => {
                    Failure::Input(format!("no such schedule {id:?}"))
                }
                other => other.into(),
            })
        }
        ScheduleAction::Run => {
            traction_server::os::background_priority();
            let at = ctx.now(&*store)?;
            let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
            let outcome = run_schedules(&*store, &catalog, at, false).map_err(monitor_error)?;
            let report =
                deliverer(&*store)?.run(&*store, &wall_clock, LINGER).map_err(monitor_error)?;
            for (schedule, error) in &outcome.errors {
                eprintln!("warning: schedule {schedule}: the report could not be made: {error}");
            }
            for (schedule, due, why) in &outcome.refused {
                eprintln!(
                    "warning: schedule {schedule}: the report due {} was not sent: {why}",
                    format_instant(due.at)
                );
            }
            let mut table = Table::new(&["schedule", "due", "from", "to"]);
            for (id, due) in &outcome.sent {
                table.rows.push(vec![
                    id.clone(),
                    format_instant(due.at),
                    due.from.to_string(),
                    due.to.to_string(),
                ]);
            }
            let json = serde_json::json!({
                "at": format_instant(at),
                "sent": outcome.sent.iter().map(|(id, d)| serde_json::json!({
                    "schedule": id, "due": format_instant(d.at), "from": d.from.to_string(),
                    "to": d.to.to_string(),
                })).collect::<Vec<_>>(),
                "missed": outcome.missed,
                "refused": outcome.refused.iter().map(|(id, d, why)| serde_json::json!({
                    "schedule": id, "due": format_instant(d.at), "reason": why,
                })).collect::<Vec<_>>(),
                "delivered": report.delivered,
            });
            write_table(ctx, &table, json)
        }
    }
}
