//! Raw command-line flags (clap); resolved into options by the command modules.

use crate::output::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// graceline: does the load balancer stop routing to a shutting-down server before it stops listening?
#[derive(Debug, Parser)]
#[command(name = "graceline", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenarios: exact worst case per load balancer and findings (exit 0 clean, 1 findings, 2 error).
    Check(CheckArgs),
    /// Walk through the worst-case probe sequence event by event.
    Explain(ExplainArgs),
    /// List the built-in profiles, or print one with its sources.
    Profiles(ProfilesArgs),
    /// Monte Carlo: percentiles of the detection time over random phases, latencies, jitter and failure modes.
    Simulate(SimulateArgs),
    /// The smallest shutdown delay that passes, and the least-load provider-valid check settings that pass.
    Recommend(RecommendArgs),
}

/// Flags of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file.
    pub path: PathBuf,
    /// Trials per load balancer.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=crate::analysis::montecarlo::MAX_TRIALS))]
    pub trials: u64,
    /// Random seed: the same seed gives bit-identical output on any number of threads.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only this load balancer (by name).
    #[arg(long)]
    pub lb: Option<String>,
}

/// Flags of `recommend`.
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// Scenario file.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only this load balancer (by name).
    #[arg(long)]
    pub lb: Option<String>,
}

/// Flags of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files; default: ./graceline.toml, else the built-in matrix of every profile.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report only: exit 0 whatever the findings.
    #[arg(long)]
    pub no_fail: bool,
}

/// Severity threshold for a failing exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Note,
}

/// Flags of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Scenario file.
    pub path: PathBuf,
    /// Only this load balancer (by name).
    #[arg(long)]
    pub lb: Option<String>,
}

/// Flags of `profiles`.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print this profile as TOML.
    pub name: Option<String>,
}
