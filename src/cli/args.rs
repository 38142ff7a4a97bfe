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
    /// Draw the worst-case shutdown timeline (server phases, every probe, routing) as SVG or PNG.
    Timeline(TimelineArgs),
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

/// Flags of `timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Scenario file.
    pub path: PathBuf,
    /// Image file to write; its extension (.svg or .png) picks the format.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Only this load balancer (by name); default: every LB of the scenario.
    #[arg(long)]
    pub lb: Option<String>,
}
