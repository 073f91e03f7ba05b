//! `traction export ENTITY [--where EXPR] [--format csv|ndjson]`.

use std::io::Write;

use traction_domain::Entity;

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The entity to export (deals, leads, activities, …).
    pub entity: String,
    /// Only the records matching this condition, in the expression language (as `where=` of
    /// the API's lists): `--where "status = 'won' and amount > 1000"`.
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let entity = Entity::parse(&args.entity)?;
    // The records come out in the import format: CSV unless NDJSON (json) is asked for.
    let format = match ctx.global.format.as_deref() {
        None => traction_import::Format::Csv,
        Some(text) => traction_import::Format::parse(text).map_err(Failure::input)?,
    };
    let store = ctx.store()?;
    let compiled = match &args.filter {
        None => None,
        Some(text) => {
            let workspace = store.workspace()?;
            let parse_ctx = traction_domain::ParseContext {
                zone: workspace.zone,
                currency: workspace.currency,
                now: 0,
            };
            let predicate = traction_server::api::filter::compile_where(entity, text, &parse_ctx)
                .map_err(|e| match e {
                traction_server::error::ApiError::BadRequest { message, .. } => {
                    Failure::Input(format!("--{message}"))
                }
                other => Failure::Runtime(format!("{other:?}")),
            })?;
            Some(predicate)
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    traction_import::export_where(&*store, entity, format, compiled.as_ref(), &mut out).map_err(
        |e| match e {
            traction_store::Error::Storage(m) if m.contains("Broken pipe") => Failure::BrokenPipe,
            other => Failure::from(other),
        },
    )?;
    out.flush()?;
    Ok(())
}
