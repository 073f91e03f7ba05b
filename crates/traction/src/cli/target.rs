//! `traction target set|list|delete`: targets on metrics, for the company, a team or a user
//! (spec: kpis.md, Targets).

use std::io::Write;

use traction_domain::record::parse_field;
use traction_domain::{Entity, ParseContext, Record, Value};
use traction_kpi::engine::Engine;
use traction_kpi::scope::Scope;
use traction_kpi::service::Kpis;

use super::{Context, Failure, Result};
use crate::output::{Format, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// A definitions file adding to or overriding the built-in catalog (targets may name its metrics).
    #[arg(long, global = true, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a target, or change the target with that id (flags not given keep their values).
    Set(Box<SetArgs>),
    /// List the targets.
    List {
        /// Only the targets of this scope (company, team:ID or user:ID).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Delete a target.
    Delete {
        /// The target's id.
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The target's id (default: the next free t-N).
    #[arg(long)]
    pub id: Option<String>,
    /// The metric (see `traction metrics list`).
    #[arg(long)]
    pub metric: Option<String>,
    /// company, team:ID or user:ID.
    #[arg(long)]
    pub scope: Option<String>,
    /// week, month, quarter or year.
    #[arg(long)]
    pub period: Option<String>,
    /// The first day of the period (a Monday for weeks, the 1st for months).
    #[arg(long = "starts-on", value_name = "DATE")]
    pub starts_on: Option<String>,
    /// The amount to reach (counts, sums: in the metric's unit, money in major units, above 0)
    /// or the level to hold (rates as fractions between 0 and 1, 0.3 for 30%).
    #[arg(long, allow_hyphen_values = true)]
    pub value: Option<String>,
    /// How the value spreads over the period: calendar (default), even or seasonal.
    #[arg(long)]
    pub split: Option<String>,
    /// Pace below which the target is at risk (default 0.9).
    #[arg(long = "at-risk", value_name = "X")]
    pub at_risk: Option<String>,
    /// Pace below which it is off track (default 0.75).
    #[arg(long = "off-track", value_name = "Y")]
    pub off_track: Option<String>,
    /// For level metrics: the number of observations needed to judge.
    #[arg(long = "min-sample", value_name = "N")]
    pub min_sample: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let catalog = super::metric::workspace_catalog(&*store, args.metrics.as_deref())?;
    let engine = Engine { store: &*store, catalog: &catalog };
    let kpis = Kpis { store: &*store, metrics: &engine };
    let mut out = std::io::stdout().lock();
    match args.action {
        Action::Set(set) => {
            let target = set_target(ctx, &*store, &engine, *set)?;
            eprintln!("target {target} saved");
            writeln!(out, "{target}")?;
        }
        Action::List { scope } => {
            let scope = scope
                .map(|s| Scope::parse(&s).map_err(|e| Failure::Input(e.to_string())))
                .transpose()?;
            let targets: Vec<_> = kpis
                .targets()
                .map_err(|e| Failure::Runtime(e.to_string()))?
                .into_iter()
                .filter(|t| scope.as_ref().is_none_or(|s| *s == t.scope))
                .collect();
            match ctx.format()? {
                Format::Json => {
                    let items: Vec<_> = targets.iter().map(traction_server::wire::target).collect();
                    writeln!(out, "{}", serde_json::json!({ "items": items }))?;
                }
                format => {
                    let mut table = Table::new(&[
                        "id",
                        "metric",
                        "scope",
                        "period",
                        "starts_on",
                        "value",
                        "split",
                        "at_risk",
                        "off_track",
                    ]);
                    table.numeric =
                        vec![false, false, false, false, false, true, false, true, true];
                    for t in &targets {
                        table.rows.push(vec![
                            t.id.clone(),
                            t.metric.clone(),
                            t.scope.to_string(),
                            format!("{:?}", t.period).to_lowercase(),
                            t.starts_on.to_string(),
                            t.value.to_string(),
                            format!("{:?}", t.split).to_lowercase(),
                            t.at_risk.to_string(),
                            t.off_track.to_string(),
                        ]);
                    }
                    if format == Format::Csv {
                        table.write_csv(&mut out)?;
                    } else if targets.is_empty() {
                        eprintln!(
                            "no targets yet: set one with `traction target set --metric revenue_won --scope company --period month --starts-on 2026-12-01 --value 50000`"
                        );
                    } else {
                        table.write_text(&mut out)?;
                    }
                }
            }
        }
        Action::Delete { id } => {
            let mut writer = store.writer()?;
            writer.delete(Entity::Targets, &[Value::Text(id.clone())]).map_err(|e| match e {
                traction_store::Error::NotFound => Failure::Input(format!("no such target {id:?}")),
                other => other.into(),
            })?;
            writer.commit()?;
            eprintln!("target {id} deleted");
        }
    }
    Ok(())
}

/// Builds the target record from the flags (over the stored one, when changing) and writes it.
fn set_target(
    ctx: &Context,
    store: &dyn traction_store::Backend,
    engine: &Engine<'_>,
    set: SetArgs,
) -> Result<String> {
    let workspace = store.workspace()?;
    let now = ctx.now(store)?;
    let parse_ctx = ParseContext { zone: workspace.zone, currency: workspace.currency, now };
    let existing = match &set.id {
        Some(id) => store.get(Entity::Targets, &[Value::Text(id.clone())])?,
        None => None,
    };
    let id = match set.id.clone() {
        Some(id) => id,
        None => next_id(store)?,
    };
    let mut record = existing.unwrap_or_else(|| Record {
        entity: Entity::Targets,
        values: vec![Value::Null; Entity::Targets.fields().len()],
    });
    let given = [
        ("id", Some(id.clone())),
        ("metric", set.metric),
        ("scope", set.scope),
        ("period", set.period),
        ("starts_on", set.starts_on),
        ("value", set.value),
        ("split", set.split),
        ("at_risk", set.at_risk),
        ("off_track", set.off_track),
        ("min_sample", set.min_sample),
    ];
    let mut problems = Vec::new();
    for (name, text) in given {
        let field = Entity::Targets.field(name).expect("a target field");
        let flag = format!("--{}", name.replace('_', "-"));
        match (&text, record.get(name).is_null()) {
            (Some(text), _) => match parse_field(field, text, &parse_ctx) {
                Ok(v) => record.set(name, v),
                Err(e) => problems.push(format!("{flag}: {e}")),
            },
            (None, true) => match parse_field(field, "", &parse_ctx) {
                Ok(v) => record.set(name, v),
                Err(_) => problems.push(format!("{flag} is required for a new target")),
            },
            (None, false) => {}
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems.join("; ")));
    }
    // spec: kpis.md, Targets: the one check every way of writing a target shares.
    let problems: Vec<String> =
        traction_kpi::check::check_target(engine, &record, workspace.currency)
            .into_iter()
            .map(|p| format!("--{}: {}", p.field.replace('_', "-"), p.message))
            .collect();
    if !problems.is_empty() {
        return Err(Failure::Input(problems.join("; ")));
    }
    let mut writer = store.writer()?;
    writer.put(0, record)?;
    writer.commit()?;
    Ok(id)
}

/// The next free id of the form `t-N`.
fn next_id(store: &dyn traction_store::Backend) -> Result<String> {
    let mut max = 0u64;
    store.scan(Entity::Targets, &mut |r| {
        if let Some(n) = r
            .get("id")
            .as_text()
            .and_then(|id| id.strip_prefix("t-"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            max = max.max(n);
        }
        Ok(())
    })?;
    Ok(format!("t-{}", max + 1))
}
