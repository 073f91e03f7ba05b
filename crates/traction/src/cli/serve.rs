//! `traction serve [--listen ADDR] [--demo]`: the HTTP API (and, later, the web application)
//! until SIGINT or SIGTERM (spec: interfaces.md, Command line and HTTP API).
//!
//! The server reads the wall clock for each request ("now" for created_at defaults and stage
//! moves); `--at` does not apply to it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Context, Failure, Result, wall_clock};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address and port to listen on (use 0.0.0.0:PORT to accept other machines).
    #[arg(long, env = "TRACTION_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// Seed demo data into an empty database before serving.
    #[arg(long)]
    pub demo: bool,
    /// How request logs are written to stderr: text or json (RUST_LOG sets the level).
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub log_format: String,
    /// A metric definitions file over the built-in catalog (checked before the server starts).
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
    /// Mark the session cookie Secure: set it when the server is reached over HTTPS (directly
    /// or through a TLS-terminating proxy).
    #[arg(long, env = "TRACTION_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        Failure::Input(format!(
            "--listen {:?} is not an address: write IP:PORT, such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    if ctx.global.at.is_some() && !args.demo {
        return Err(Failure::Input(
            "--at does not apply to serve (the server uses the clock of each request); with --demo it ends the demo history"
                .into(),
        ));
    }
    let log_format = traction_server::LogFormat::parse(&args.log_format)
        .map_err(|e| Failure::Input(format!("--log-format: {e}")))?;
    let store = ctx.store()?;
    // An invalid definitions file stops the server before it listens, with every problem.
    super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    let metrics_file = match &args.metrics {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => None,
    };
    traction_server::init_logging(log_format);
    if args.demo {
        seed_demo(ctx, &*store)?;
    }
    let clock: traction_server::Clock = Arc::new(wall_clock);
    // Alert rules are evaluated every minute and notifications delivered, beside the server.
    super::monitor::spawn_evaluator(store.clone(), metrics_file.clone());
    let config = traction_server::Config {
        // The server's catalog follows the definitions stored by any process (catalog.rs).
        metrics_file,
        secure_cookies: args.secure_cookies,
        ..Default::default()
    };
    traction_server::run_with(store, listen, clock, config, traction_web::router()).map_err(|e| {
        match e {
            traction_server::RunError::Listen(m) => Failure::Input(m),
            traction_server::RunError::Io(m) => Failure::Runtime(m),
        }
    })
}

/// `--demo`: fills an empty (or new) database with the demo data of `traction demo` at its
/// defaults (seed 1, scale s, history ending now or at `--at`); a database with data is served
/// as it is, so restarting with `--demo` never adds a second copy.
fn seed_demo(ctx: &Context, store: &dyn traction_store::Backend) -> Result<()> {
    let mut existing = 0;
    for entity in traction_domain::Entity::ALL {
        existing += store.count(entity)?;
    }
    if existing > 0 {
        eprintln!("--demo: the database already has {existing} records; serving it as it is");
        demo_sign_in_again(ctx, store)?;
        return Ok(());
    }
    let at = ctx.now(store)?;
    let options =
        traction_demo::DemoOptions { seed: 1, scale: traction_demo::Scale::S, at, add: false };
    eprintln!("--demo: generating demo data (seed 1, scale s)");
    // The generated bulk load is audited as one row, not row by row (docs/security.md).
    store.set_default_actor(None);
    let result = traction_demo::generate(store, &options, &mut |_, _| {});
    store.set_default_actor(Some(traction_store::Actor { user: "cli".into(), at: None }));
    let summary = result.map_err(|e| match e {
        traction_store::Error::Invalid(_) => Failure::Runtime(format!(
            "the demo generator made a row the store refused (a bug): {e}"
        )),
        other => Failure::from(other),
    })?;
    eprintln!("--demo: {} rows of demo data stored", summary.total());
    super::demo::audit_demo(store, 1, "s", summary.total())?;
    demo_sign_ins(store)?;
    Ok(())
}

/// A restart of the demo: its passwords were printed once, when it was made, and only their
/// hashes are kept, so say who can sign in and how to give one of them a new password.
fn demo_sign_in_again(ctx: &Context, store: &dyn traction_store::Backend) -> Result<()> {
    let mut can_sign_in: Vec<(String, String)> = Vec::new();
    let mut users = Vec::new();
    store.scan(traction_domain::Entity::Users, &mut |u| {
        users.push(u);
        Ok(())
    })?;
    for u in &users {
        let active = !matches!(u.get("active"), traction_domain::Value::Bool(false));
        let id = u.get("id").as_text().unwrap_or("").to_string();
        if active && store.password_hash(&id)?.is_some() {
            can_sign_in.push((u.get("role").as_text().unwrap_or("").to_string(), id));
        }
    }
    let db = ctx.global.db.display().to_string();
    let db_flag = if db == "traction.db" { String::new() } else { format!(" --db {db}") };
    if can_sign_in.is_empty() {
        eprintln!(
            "--demo: nobody here can sign in yet: add someone with `traction{db_flag} user add --id ID --name NAME --role admin --password-stdin`"
        );
        return Ok(());
    }
    eprintln!(
        "--demo: the passwords were shown only when the demo was made; to sign in again, give one of these people a new password:"
    );
    can_sign_in.sort_by_key(|(role, id)| {
        (["admin", "manager", "rep", "viewer"].iter().position(|r| r == role), id.clone())
    });
    for (role, id) in &can_sign_in {
        eprintln!("  {role:<8} {id}");
    }
    eprintln!(
        "  with: echo 'a new passphrase' | traction{db_flag} user passwd {} --password-stdin",
        can_sign_in[0].1
    );
    Ok(())
}

/// Passwords for four of the demo's people, one per role, generated now and printed this once
/// (only their hashes are kept): there is no default password, even in the demo.
fn demo_sign_ins(store: &dyn traction_store::Backend) -> Result<()> {
    let mut users = Vec::new();
    store.scan(traction_domain::Entity::Users, &mut |u| {
        users.push(u);
        Ok(())
    })?;
    let text = |u: &traction_domain::Record, f: &str| u.get(f).as_text().unwrap_or("").to_string();
    let active = |u: &traction_domain::Record| {
        !matches!(u.get("active"), traction_domain::Value::Bool(false))
    };
    let mut chosen: Vec<(String, String)> = Vec::new();
    for role in ["admin", "manager", "rep"] {
        if let Some(u) = users.iter().find(|u| active(u) && text(u, "role") == role) {
            chosen.push((text(u, "id"), role.to_string()));
        }
    }
    // The demo has no viewer: one of its reps' managers' teams gets a read-only colleague.
    let now = super::wall_clock();
    let team = users.iter().find(|u| text(u, "role") == "manager").map(|u| text(u, "team_id"));
    let viewer = traction_domain::Record {
        entity: traction_domain::Entity::Users,
        values: traction_domain::Entity::Users
            .fields()
            .iter()
            .map(|f| match f.name {
                "id" => traction_domain::Value::Text("demo-viewer".into()),
                "name" => traction_domain::Value::Text("Demo Viewer".into()),
                "role" => traction_domain::Value::Text("viewer".into()),
                "team_id" => team
                    .clone()
                    .filter(|t| !t.is_empty())
                    .map_or(traction_domain::Value::Null, traction_domain::Value::Text),
                "active" => traction_domain::Value::Bool(true),
                "created_at" => traction_domain::Value::Instant(now),
                _ => traction_domain::Value::Null,
            })
            .collect(),
    };
    let mut writer = store.writer()?;
    writer.put(0, viewer)?;
    writer.commit()?;
    chosen.push(("demo-viewer".into(), "viewer".into()));
    eprintln!("--demo: sign in at /login as one of these (the passwords are shown only now):");
    let actor = traction_store::Actor { user: "cli".into(), at: Some(now) };
    for (id, role) in chosen {
        let password = traction_server::auth::secret::generate_password()?;
        let hash = traction_server::auth::secret::hash_password(&password)?;
        store.set_password(&id, &hash, &actor, now)?;
        eprintln!("  {role:<8} {id:<24} {password}");
    }
    Ok(())
}
