//! `traction hook add|list|remove`: the mailing tools' event hooks (importers.md, email hooks;
//! docs/email-hooks.md). A hook's secret is kept for checking requests only: `list` never shows
//! it, and the audit log names the hook and its URL without it.

use std::io::Write;

use traction_domain::time::format_instant;
use traction_import::email_hooks::Provider;
use traction_store::Actor;
use traction_store::hooks::EmailHook;

use super::{Context, Failure, Result};
use crate::output::{Format, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Accept a mailing tool's events at /api/v1/hooks/email/PROVIDER, checked with its secret.
    Add {
        /// `mandrill` (Mailchimp Transactional) or `sendgrid`.
        provider: String,
        /// Mandrill: the webhook's key; SendGrid: the Signed Event Webhook's verification key.
        #[arg(long, conflicts_with = "secret_file")]
        secret: Option<String>,
        /// Read the secret from this file instead (keeps it out of the shell's history).
        #[arg(long, value_name = "FILE")]
        secret_file: Option<std::path::PathBuf>,
        /// Mandrill only: the exact URL set in Mandrill, which its signature covers
        /// (https://HOST/api/v1/hooks/email/mandrill).
        #[arg(long)]
        url: Option<String>,
    },
    /// List the hooks (secrets are never shown).
    List,
    /// Stop accepting a mailing tool's events.
    Remove { provider: String },
}

fn actor() -> Actor {
    Actor { user: "cli".into(), at: None }
}

fn provider_of(name: &str) -> Result<Provider> {
    Provider::parse(name).map_err(Failure::input)
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    match args.action {
        Action::Add { provider, secret, secret_file, url } => {
            let provider = provider_of(&provider)?;
            let secret = match (secret, secret_file) {
                (Some(secret), _) => secret,
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .map_err(|e| Failure::Input(format!("--secret-file {}: {e}", path.display())))?
                    .trim()
                    .to_string(),
                (None, None) => {
                    return Err(Failure::Input(format!(
                        "give the {} hook's secret with --secret or --secret-file",
                        provider.name()
                    )));
                }
            };
            let url = url.unwrap_or_default().trim().to_string();
            provider.check_settings(&secret, &url).map_err(Failure::input)?;
            let hook = EmailHook {
                provider: provider.name().to_string(),
                secret,
                url,
                created_at: ctx.now(&*store)?,
                created_by: "cli".into(),
            };
            store.add_email_hook(&hook, &actor())?;
            println!("{}", hook.provider);
            Ok(())
        }
        Action::List => {
            let mut table = Table::new(&["provider", "path", "url", "created_at"]);
            let mut json = Vec::new();
            for hook in store.email_hooks()? {
                let path = format!("/api/v1/hooks/email/{}", hook.provider);
                table.rows.push(vec![
                    hook.provider.clone(),
                    path.clone(),
                    hook.url.clone(),
                    format_instant(hook.created_at),
                ]);
                json.push(serde_json::json!({
                    "provider": hook.provider, "path": path, "url": hook.url,
                    "created_at": format_instant(hook.created_at), "created_by": hook.created_by,
                }));
            }
            let mut out = std::io::stdout().lock();
            match ctx.format()? {
                Format::Json => writeln!(out, "{}", serde_json::json!({ "hooks": json }))?,
                Format::Csv => table.write_csv(&mut out)?,
                Format::Table => table.write_text(&mut out)?,
            }
            Ok(())
        }
        Action::Remove { provider } => {
            let provider = provider_of(&provider)?;
            store.delete_email_hook(provider.name(), &actor()).map_err(|e| match e {
                traction_store::Error::NotFound => {
                    Failure::Input(format!("there is no {} hook", provider.name()))
                }
                other => other.into(),
            })
        }
    }
}
