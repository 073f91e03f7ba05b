//! `traction user add|list|passwd|disable` and `traction token create|list|revoke`: people who
//! sign in, and API tokens for scripts (spec: interfaces.md, Command line; docs/security.md).
//!
//! These act on the database file directly: whoever may read the file is its admin, so no
//! sign-in is asked. Changes are audited as user `cli`. Passwords are read from stdin
//! (`--password-stdin`), never from an argument (which other users could see in `ps`); a user
//! added without one signs in with API tokens only. There is no default password.

use std::io::{BufRead, Write};

use traction_domain::{Entity, Record, Value};
use traction_server::auth::secret;
use traction_store::{Actor, Backend};

use super::{Context, Failure, Result};
use crate::output::{Format, Table};

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserAction {
    /// Add a user (or update one with this id); with --password-stdin, one who signs in.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// admin, manager, rep or viewer.
        #[arg(long, default_value = "rep")]
        role: String,
        /// The user's team (a manager manages it and its sub-teams).
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users, their roles, and whether they can sign in.
    List,
    /// Set a user's password, read from the first line of stdin; signs their sessions out.
    Passwd {
        id: String,
        /// Accepted for symmetry with `user add`: the password is always read from stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: they can no longer sign in, and their sessions and tokens stop working.
    Disable { id: String },
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenAction {
    /// Create an API token for a user and print it once (only its hash is kept).
    Create {
        #[arg(long)]
        user: String,
        /// A label, to recognise it in `token list`.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by its id (tok-…).
    Revoke { id: String },
}

fn cli_actor(at: i64) -> Actor {
    Actor { user: "cli".into(), at: Some(at) }
}

/// The first line of stdin, without its line ending.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Runtime(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    secret::check_password(&password)?;
    Ok(password)
}

fn set_password(store: &dyn Backend, id: &str, password: &str, at: i64) -> Result<()> {
    let hash = secret::hash_password(password)?;
    store.set_password(id, &hash, &cli_actor(at), at).map_err(|e| match e {
        traction_store::Error::NotFound => Failure::Input(format!("no such user {id:?}")),
        other => other.into(),
    })
}

fn get_user(store: &dyn Backend, id: &str) -> Result<Record> {
    store.get(Entity::Users, &[Value::Text(id.to_string())])?.ok_or_else(|| {
        Failure::Input(format!("no such user {id:?}: `traction user list` shows them"))
    })
}

pub fn run_user(ctx: &Context, args: UserArgs) -> Result<()> {
    let store = ctx.store()?;
    let now = super::wall_clock();
    match args.action {
        UserAction::Add { id, name, role, team, email, password_stdin } => {
            if traction_server::auth::Role::parse(&role).is_none() {
                return Err(Failure::Input(format!(
                    "--role {role:?} is not a role: use admin, manager, rep or viewer"
                )));
            }
            // Read first, so a bad password stores nothing.
            let password = if password_stdin { Some(read_password()?) } else { None };
            let existing = store.get(Entity::Users, &[Value::Text(id.clone())])?;
            let ctx_parse = traction_domain::ParseContext {
                zone: store.workspace()?.zone,
                currency: store.workspace()?.currency,
                now,
            };
            let mut record = match existing {
                Some(r) => r,
                None => Record {
                    entity: Entity::Users,
                    values: vec![Value::Null; Entity::Users.fields().len()],
                },
            };
            let mut set = |name: &str, raw: Option<&str>| -> Result<()> {
                let field =
                    Entity::Users.field(name).ok_or_else(|| Failure::Runtime(name.into()))?;
                let value = match raw {
                    None => Value::Null,
                    Some(raw) => traction_domain::record::parse_field(field, raw, &ctx_parse)
                        .map_err(|e| Failure::Input(format!("--{name}: {e}")))?,
                };
                record.set(name, value);
                Ok(())
            };
            set("id", Some(&id))?;
            set("name", Some(&name))?;
            set("role", Some(&role))?;
            set("team_id", team.as_deref())?;
            if email.is_some() {
                set("email", email.as_deref())?;
            }
            if record.get("created_at").is_null() {
                record.set("created_at", Value::Instant(now));
            }
            if record.get("active").is_null() {
                record.set("active", Value::Bool(true));
            }
            let mut writer = store.writer()?;
            writer.put(0, record)?;
            writer.commit()?;
            if let Some(password) = password {
                set_password(&*store, &id, &password, now)?;
                eprintln!("user {id} ({role}) can sign in with the password given");
            } else {
                eprintln!(
                    "user {id} ({role}) added without a password: set one with `traction user passwd {id} --password-stdin`, or create an API token with `traction token create --user {id}`"
                );
            }
        }
        UserAction::List => {
            let mut users = Vec::new();
            store.scan(Entity::Users, &mut |u| {
                users.push(u);
                Ok(())
            })?;
            let mut rows = Vec::new();
            for u in &users {
                let id = u.get("id").as_text().unwrap_or("").to_string();
                let password = store.password_hash(&id)?.is_some();
                rows.push((u.clone(), password));
            }
            let text = |r: &Record, f: &str| traction_domain::record::display_value(r.get(f));
            let mut out = std::io::stdout().lock();
            match ctx.format()? {
                Format::Json => {
                    let items: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(u, password)| {
                            serde_json::json!({
                                "id": text(u, "id"), "name": text(u, "name"), "email": u.get("email").as_text(),
                                "role": text(u, "role"), "team_id": u.get("team_id").as_text(),
                                "active": !matches!(u.get("active"), Value::Bool(false)),
                                "password": password,
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::Value::Array(items))?;
                }
                format => {
                    let mut table =
                        Table::new(&["id", "name", "role", "team_id", "active", "password"]);
                    for (u, password) in &rows {
                        table.rows.push(vec![
                            text(u, "id"),
                            text(u, "name"),
                            text(u, "role"),
                            text(u, "team_id"),
                            (!matches!(u.get("active"), Value::Bool(false))).to_string(),
                            if *password { "set" } else { "none" }.to_string(),
                        ]);
                    }
                    if format == Format::Csv {
                        table.write_csv(&mut out)?;
                    } else {
                        table.write_text(&mut out)?;
                    }
                }
            }
        }
        UserAction::Passwd { id, password_stdin: _ } => {
            get_user(&*store, &id)?;
            let password = read_password()?;
            set_password(&*store, &id, &password, now)?;
            eprintln!("password of {id} set; their sessions were signed out");
        }
        UserAction::Disable { id } => {
            let mut user = get_user(&*store, &id)?;
            user.set("active", Value::Bool(false));
            let mut writer = store.writer()?;
            writer.put(0, user)?;
            writer.commit()?;
            eprintln!(
                "user {id} disabled: they cannot sign in, and their sessions and tokens no longer work"
            );
        }
    }
    Ok(())
}

fn instant(v: Option<i64>) -> String {
    v.map(traction_domain::time::format_instant).unwrap_or_default()
}

pub fn run_token(ctx: &Context, args: TokenArgs) -> Result<()> {
    let store = ctx.store()?;
    let now = super::wall_clock();
    match args.action {
        TokenAction::Create { user, name } => {
            let (token, text) = traction_server::auth::api::issue_token(
                &*store,
                &user,
                &name,
                now,
                &cli_actor(now),
            )
            .map_err(|e| match e {
                traction_server::error::ApiError::Invalid { .. } => Failure::Input(format!(
                    "no such user {user:?}: `traction user list` shows them"
                )),
                other => Failure::Runtime(format!("{other:?}")),
            })?;
            // Exactly the token on stdout, whatever --format; the notice goes to stderr.
            writeln!(std::io::stdout().lock(), "{text}")?;
            eprintln!(
                "token {} for {user}: shown only now; send it as `Authorization: Bearer <token>`; revoke it with `traction token revoke {}`",
                token.id, token.id
            );
        }
        TokenAction::List { user } => {
            let tokens = store.tokens(user.as_deref())?;
            let mut out = std::io::stdout().lock();
            match ctx.format()? {
                Format::Json => {
                    let items: Vec<serde_json::Value> = tokens
                        .iter()
                        .map(|t| {
                            serde_json::json!({"id": t.id, "user": t.user_id, "name": t.name,
                                "created_at": instant(Some(t.created_at)),
                                "last_used_at": t.last_used_at.map(|v| instant(Some(v))),
                                "revoked_at": t.revoked_at.map(|v| instant(Some(v)))})
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::Value::Array(items))?;
                }
                format => {
                    let mut table = Table::new(&[
                        "id",
                        "user",
                        "name",
                        "created_at",
                        "last_used_at",
                        "revoked_at",
                    ]);
                    for t in &tokens {
                        table.rows.push(vec![
                            t.id.clone(),
                            t.user_id.clone(),
                            t.name.clone(),
                            instant(Some(t.created_at)),
                            instant(t.last_used_at),
                            instant(t.revoked_at),
                        ]);
                    }
                    if format == Format::Csv {
                        table.write_csv(&mut out)?;
                    } else {
                        table.write_text(&mut out)?;
                    }
                }
            }
        }
        TokenAction::Revoke { id } => {
            store.revoke_token(&id, now, &cli_actor(now)).map_err(|e| match e {
                traction_store::Error::NotFound => Failure::Input(format!(
                    "no token has id {id:?}: `traction token list` shows them"
                )),
                other => other.into(),
            })?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}
