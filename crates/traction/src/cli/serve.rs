//! `traction serve [--listen ADDR] [--demo]`. Owned by the HTTP API work.

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Context, _args: Args) -> Result<()> {
    Err(Failure::Runtime("the server is not built yet".into()))
}
