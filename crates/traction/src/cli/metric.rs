//! `traction metric …`, `traction metrics list|check`, `traction funnel …`. Owned by the
//! metrics-engine work.

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct MetricArgs {}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {}

#[derive(Debug, clap::Args)]
pub struct FunnelArgs {}

pub fn run_metric(_ctx: &Context, _args: MetricArgs) -> Result<()> {
    Err(Failure::Runtime("the metrics engine is not built yet".into()))
}

pub fn run_metrics(_ctx: &Context, _args: MetricsArgs) -> Result<()> {
    Err(Failure::Runtime("the metrics engine is not built yet".into()))
}

pub fn run_funnel(_ctx: &Context, _args: FunnelArgs) -> Result<()> {
    Err(Failure::Runtime("the metrics engine is not built yet".into()))
}
