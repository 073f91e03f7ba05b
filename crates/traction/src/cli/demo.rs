//! `traction demo [--seed N] [--scale s|m|l] [--at T] [--add]`. Owned by the demo-data work.

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Context, _args: Args) -> Result<()> {
    Err(Failure::Runtime("demo data is not built yet".into()))
}
