//! `traction explain METRIC --from D --to D [--compare previous|yoy] [--by DIM] [--scope S]`
//! (spec: monitoring.md, Explaining a change): why a metric moved, split so the contributions
//! sum exactly to the change. The table is for people (the sentence first, then the parts);
//! CSV carries the same rows at full precision; JSON is the API's shape.

use std::io::Write;
use std::path::PathBuf;

use traction_domain::Currency;
use traction_domain::time::parse_instant;
use traction_kpi::report::{Names, stretch_label};
use traction_kpi::scope::Scope;
use traction_metrics::catalog::Unit;
use traction_metrics::explain::{ExplainQuery, Explanation, figure, sentence};
use traction_metrics::params::parse_explain_compare;
use traction_metrics::parse_by;

use super::metric::load_catalog;
use super::{Context, Failure, Result};
use crate::output::{Format, Table};

/// `traction explain METRIC --from D --to D [--compare previous|yoy] [--by DIM] [--where EXPR]
/// [--scope S]`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The metric (see `traction metrics list`).
    pub name: String,
    /// Start of the range, inclusive: a date or a timestamp, local to the workspace zone.
    #[arg(long)]
    pub from: String,
    /// End of the range, exclusive.
    #[arg(long)]
    pub to: String,
    /// What to compare with: previous (the range before; also prev) or yoy (a year before).
    #[arg(long, alias = "compared-to", default_value = "previous")]
    pub compare: String,
    /// Split the change along one dimension (owner, region, source, …).
    #[arg(long, value_name = "DIM")]
    pub by: Option<String>,
    /// A filter in the expression language.
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Only the records of this scope's owners: company (default), team:ID or user:ID.
    #[arg(long, default_value = "company")]
    pub scope: String,
    /// A definitions file adding to or overriding the built-in catalog.
    #[arg(long, value_name = "FILE", env = "TRACTION_METRICS")]
    pub metrics: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let format = ctx.format()?;
    let catalog = load_catalog(args.metrics.as_deref())?;
    let compare =
        parse_explain_compare(Some(&args.compare)).map_err(|e| Failure::Input(format!("--{e}")))?;
    let scope = Scope::parse(&args.scope).map_err(|e| Failure::Input(format!("--scope: {e}")))?;
    let by = match args.by.as_deref().map(parse_by) {
        Some(mut dims) if dims.len() == 1 => dims.pop(),
        Some(dims) if dims.len() > 1 => {
            return Err(Failure::Input(format!(
                "--by: explain splits along one dimension at a time, not {}: name one",
                dims.join(", ")
            )));
        }
        _ => None,
    };
    let store = ctx.store()?;
    let workspace = store.workspace()?;
    let instant = |flag: &str, text: &str| {
        parse_instant(text, &workspace.zone).map_err(|e| Failure::Input(format!("--{flag}: {e}")))
    };
    let query = ExplainQuery {
        metric: args.name,
        from: instant("from", &args.from)?,
        to: instant("to", &args.to)?,
        compare,
        by,
        filter: super::metric::where_filter(args.filter.as_deref())?,
        at: ctx.now(&*store)?,
    };
    let explanation = traction_kpi::explain::explain_for(&*store, &catalog, &query, &scope)
        .map_err(super::kpi::kpi_error)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => writeln!(out, "{}", traction_server::wire::explanation(&explanation))?,
        Format::Csv => table(&explanation, workspace.currency, false).write_csv(&mut out)?,
        Format::Table => {
            let names = Names::load(&*store).map_err(|e| Failure::Runtime(e.to_string()))?;
            let against =
                stretch_label(explanation.compared.0, explanation.compared.1, &workspace.zone);
            let name = |dim: &str, key: &traction_metrics::DimValue| {
                traction_kpi::explain::segment_name(&names, dim, key)
            };
            let said = sentence(&explanation, workspace.currency, &against, &name);
            writeln!(out, "{}\n", said.text)?;
            table(&explanation, workspace.currency, true).write_text(&mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// One row for the total, one per driver, one per segment: previous, value, contribution (and
/// for ratios by segment, the rate and mix effects).
fn table(e: &Explanation, currency: Currency, human: bool) -> Table {
    let mut headers = vec!["part", "name", "previous", "value", "contribution"];
    if e.ratio {
        headers.extend(["rate_effect", "mix_effect"]);
    }
    let mut table = Table::new(&headers);
    for (idx, numeric) in table.numeric.iter_mut().enumerate() {
        *numeric = idx >= 2;
    }
    let cell = |unit: Unit, x: Option<f64>| match x {
        None if human => "–".to_string(),
        None => String::new(),
        Some(v) if human => figure(unit, v, currency),
        Some(v) => v.to_string(),
    };
    // Changes of a ratio are in percentage points, not percent.
    let change = |x: Option<f64>| match x {
        Some(v) if human && e.unit == Unit::Ratio => {
            format!(
                "{}{} pts",
                if v >= 0.0 { "+" } else { "" },
                figure(Unit::Score, v * 100.0, currency)
            )
        }
        Some(v) if human && v >= 0.0 => format!("+{}", cell(e.unit, Some(v))),
        other => cell(e.unit, other),
    };
    let mut push = |row: Vec<String>, effects: Option<(Option<f64>, Option<f64>)>| {
        let mut row = row;
        if e.ratio {
            let (rate, mix) = effects.unwrap_or((None, None));
            row.push(if effects.is_some() { change(rate) } else { String::new() });
            row.push(if effects.is_some() { change(mix) } else { String::new() });
        }
        table.rows.push(row);
    };
    push(
        vec![
            "total".into(),
            e.metric.clone(),
            cell(e.unit, e.previous),
            cell(e.unit, e.value),
            change(e.change),
        ],
        None,
    );
    for d in &e.drivers {
        push(
            vec![
                "driver".into(),
                d.metric.clone(),
                cell(d.unit, d.previous),
                cell(d.unit, d.value),
                change(Some(d.contribution)),
            ],
            None,
        );
    }
    let dim = e.by.clone().unwrap_or_default();
    for s in &e.segments {
        let key = s.key.text();
        push(
            vec![
                dim.clone(),
                if key.is_empty() && human { "(none)".into() } else { key },
                cell(e.unit, s.previous),
                cell(e.unit, s.value),
                change(Some(s.contribution)),
            ],
            Some((s.rate_effect, s.mix_effect)),
        );
    }
    table
}
