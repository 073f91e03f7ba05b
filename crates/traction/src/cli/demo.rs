//! `traction demo [--seed N] [--scale s|m|l] [--at T] [--add]`: fills the database with
//! realistic generated data (spec: interfaces.md, Command line; docs/demo-data.md).
//!
//! The clock (`--at`, default now) is the end of the two years of history, so the same seed,
//! scale and `--at` give the same rows.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use traction_demo::{DemoOptions, Scale};
use traction_domain::Entity;
use traction_domain::settings::Key;

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The seed: the same seed, scale and --at give the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How much data: s (≈100k rows), m (≈1M) or l (≈10M).
    #[arg(long, default_value = "s", value_parser = Scale::parse)]
    pub scale: Scale,
    /// Add to a database that already has data (ids are prefixed with the seed: d1-…).
    #[arg(long)]
    pub add: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    // On an empty database the demo sets its own time zone: set it first, so that a local `--at`
    // (`2026-07-01`) is read in the zone the data will be bucketed in.
    let mut empty = true;
    for entity in Entity::ALL {
        empty &= store.count(entity)? == 0;
    }
    if empty {
        store.set_setting(Key::Timezone, None, traction_demo::DEMO_TIMEZONE)?;
    }
    let at = ctx.now(&*store)?;
    let options = DemoOptions { seed: args.seed, scale: args.scale, at, add: args.add };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(args.scale.approx_rows());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/~{human_len} rows {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(format!("demo data, scale {}", args.scale));
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let mut rows = [0u64; Entity::ALL.len()];
    // The generated bulk load is audited as one row, not row by row (docs/security.md).
    store.set_default_actor(None);
    let result = traction_demo::generate(&*store, &options, &mut |entity, n| {
        if let Some(idx) = Entity::ALL.iter().position(|e| *e == entity) {
            rows[idx] = n;
        }
        bar.set_position(rows.iter().sum());
    });
    bar.finish_and_clear();
    store.set_default_actor(Some(traction_store::Actor { user: "cli".into(), at: None }));
    let summary = result.map_err(|e| match e {
        traction_store::Error::Conflict(message) => Failure::Input(message),
        traction_store::Error::Invalid(_) => Failure::Runtime(format!(
            "the demo generator made a row the store refused (a bug): {e}"
        )),
        other => Failure::from(other),
    })?;
    audit_demo(&*store, args.seed, &args.scale.to_string(), summary.total())?;
    for (entity, n) in &summary.rows {
        if *n > 0 {
            eprintln!("{:>20} {n:>10}", entity.name());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "demo data (seed {}, scale {}): {} rows in {:.1}s ({:.0} rows/s) into {}",
        args.seed,
        args.scale,
        summary.total(),
        secs,
        summary.total() as f64 / secs.max(1e-9),
        ctx.global.db.display()
    );
    Ok(())
}

/// The one audit row of a demo load: what was generated, by whom (`cli`).
pub fn audit_demo(
    store: &dyn traction_store::Backend,
    seed: u64,
    scale: &str,
    rows: u64,
) -> Result<()> {
    let actor = traction_store::Actor { user: "cli".into(), at: None };
    let after = serde_json::json!({"seed": seed, "scale": scale, "rows": rows}).to_string();
    store.audit(&actor, "demo.generate", "all", &format!("seed {seed}"), None, Some(&after))?;
    Ok(())
}
