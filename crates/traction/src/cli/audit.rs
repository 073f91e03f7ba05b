//! `traction audit [--from D] [--to D] [--entity E] [--user ID] [--limit N]`: the audit log,
//! newest first (spec: interfaces.md, Command line).

use std::io::Write;

use traction_store::AuditQuery;

use super::{Context, Failure, Result};
use crate::output::{Format, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// From this instant or date (in the workspace zone).
    #[arg(long)]
    pub from: Option<String>,
    /// Before this instant or date.
    #[arg(long)]
    pub to: Option<String>,
    /// Only changes of this entity (or settings, credentials, api_tokens).
    #[arg(long)]
    pub entity: Option<String>,
    /// Only changes by this user (or cli, system).
    #[arg(long)]
    pub user: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let zone = store.workspace()?.zone;
    let time = |flag: &str, text: &Option<String>| -> Result<Option<i64>> {
        text.as_deref()
            .map(|t| {
                traction_domain::time::parse_instant(t, &zone)
                    .map_err(|e| Failure::Input(format!("--{flag}: {e}")))
            })
            .transpose()
    };
    let query = AuditQuery {
        from: time("from", &args.from)?,
        to: time("to", &args.to)?,
        entity: args.entity.clone(),
        actor: args.user.clone(),
        before_seq: None,
        limit: args.limit.max(1),
    };
    let rows = store.audit_log(&query)?;
    let mut out = std::io::stdout().lock();
    match ctx.format()? {
        Format::Json => {
            let items: Vec<serde_json::Value> =
                rows.iter().map(traction_server::auth::api::audit_json).collect();
            writeln!(out, "{}", serde_json::Value::Array(items))?;
        }
        format => {
            let mut table =
                Table::new(&["at", "user", "action", "entity", "id", "before", "after"]);
            for r in &rows {
                table.rows.push(vec![
                    traction_domain::time::format_instant(r.at),
                    r.actor.clone(),
                    r.action.clone(),
                    r.entity.clone(),
                    r.key.clone(),
                    r.before.clone().unwrap_or_default(),
                    r.after.clone().unwrap_or_default(),
                ]);
            }
            if format == Format::Csv {
                table.write_csv(&mut out)?;
            } else if rows.is_empty() {
                eprintln!("no changes recorded for this selection");
            } else {
                table.write_text(&mut out)?;
            }
        }
    }
    Ok(())
}
