//! `traction config get|set KEY [VALUE] [--team ID]`.

use std::io::Write;

use traction_domain::settings::Key;

use super::{Context, Result};
use crate::output::{Format, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// A definitions file whose metrics `dashboard_metrics` may name (as the server is given).
    #[arg(long, global = true, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Show a setting's value in force (or every setting, without KEY).
    Get {
        /// timezone, currency, work_days, work_hours or holidays.
        key: Option<String>,
        /// Show the value in force for this team (calendar keys may be overridden per team).
        #[arg(long, value_name = "ID")]
        team: Option<String>,
    },
    /// Change a setting: timezone (Europe/London), currency (GBP), work_days (mon,tue,wed,thu,fri),
    /// work_hours (09:00-17:00), holidays (2026-12-25,2026-12-26), business (shop, b2b,
    /// social_enterprise), dashboard_metrics (metric names of the catalog: revenue,orders).
    Set {
        key: String,
        value: String,
        /// Override a calendar key (work_days, work_hours, holidays) for this team and its sub-teams.
        #[arg(long, value_name = "ID")]
        team: Option<String>,
    },
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let mut out = std::io::stdout().lock();
    match args.action {
        Action::Get { key, team } => {
            let keys = match key {
                Some(k) => vec![Key::parse(&k)?],
                None => Key::ALL.to_vec(),
            };
            let mut rows = Vec::new();
            for key in keys {
                let setting = store.setting(key, team.as_deref())?;
                let source = match setting.source.as_deref() {
                    None => "default".to_string(),
                    Some("") => "workspace".to_string(),
                    Some(t) => format!("team:{t}"),
                };
                rows.push((key.name(), key.shown(&setting.value), source));
            }
            match ctx.format()? {
                Format::Json => {
                    let items: Vec<_> = rows
                        .iter()
                        .map(|(k, v, s)| serde_json::json!({"key": k, "value": v, "source": s}))
                        .collect();
                    writeln!(out, "{}", serde_json::json!({ "items": items }))?;
                }
                Format::Table if rows.len() == 1 => writeln!(out, "{}", rows[0].1)?,
                format => {
                    let mut table = Table::new(&["key", "value", "source"]);
                    table.rows =
                        rows.into_iter().map(|(k, v, s)| vec![k.to_string(), v, s]).collect();
                    if format == Format::Csv {
                        table.write_csv(&mut out)?;
                    } else {
                        table.write_text(&mut out)?;
                    }
                }
            }
        }
        Action::Set { key, value, team } => {
            let key = Key::parse(&key)?;
            if key == Key::DashboardMetrics {
                // Names are checked against the workspace's catalog: built-in, the event kinds',
                // the stored definitions and the --metrics file.
                let names = key
                    .normalise(&value)
                    .map_err(|e| super::Failure::Input(format!("dashboard_metrics: {e}")))?;
                let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
                traction_metrics::catalog::workspace::check_names(&catalog, &names)
                    .map_err(|e| super::Failure::Input(format!("dashboard_metrics: {e}")))?;
            }
            let stored = store.set_setting(key, team.as_deref(), &value)?;
            let scope = team.map_or(String::new(), |t| format!(" for team {t}"));
            eprintln!("{} set to {:?}{scope}", key.name(), key.shown(&stored));
        }
    }
    Ok(())
}
