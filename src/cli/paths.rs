//! The Kubernetes paths of a command's inputs (`crate::paths`), next to the load balancers the
//! same inputs hold: one small entry point each command calls.

use super::inputs::{InputOptions, Sources};
use crate::paths::PathsAnalysis;
use crate::scenario::Scenario;
use anyhow::Result;

/// Judges the Kubernetes paths among the inputs; `scenarios` are the load balancers already read.
pub fn analyze(i: &InputOptions, scenarios: &[Scenario]) -> Result<PathsAnalysis> {
    match &i.sources {
        Sources::Files(paths) => crate::paths::build::run(paths, &i.input, scenarios),
        Sources::Nothing => Ok(PathsAnalysis::default()),
    }
}
