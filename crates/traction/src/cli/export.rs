//! `traction export ENTITY [--format csv|ndjson]`.

use std::io::Write;

use traction_domain::Entity;

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The entity to export (deals, leads, activities, …).
    pub entity: String,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let entity = Entity::parse(&args.entity).map_err(Failure::Input)?;
    // The records come out in the import format: CSV unless NDJSON (json) is asked for.
    let format = match ctx.global.format.as_deref() {
        None => traction_import::Format::Csv,
        Some(text) => traction_import::Format::parse(text).map_err(Failure::Input)?,
    };
    let store = ctx.store()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    traction_import::export(&store, entity, format, &mut out).map_err(|e| match e {
        traction_store::Error::Storage(m) if m.contains("Broken pipe") => Failure::BrokenPipe,
        other => Failure::from(other),
    })?;
    out.flush()?;
    Ok(())
}
