//! `traction backup FILE`.

use std::path::PathBuf;

use super::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new file to write the copy to (it must not exist yet).
    pub file: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> Result<()> {
    let store = ctx.store()?;
    store.backup(&args.file)?;
    eprintln!("backed up {} to {}", ctx.global.db.display(), args.file.display());
    Ok(())
}
