//! Raw command-line flags (clap); resolved into options by the command modules.

use crate::input::{Cloud, InputKind};
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
}

/// How inputs are read (shared by `check` and `explain`).
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Read every path as this kind instead of detecting it from its name and content.
    #[arg(long, value_enum)]
    pub input_kind: Option<InputKind>,
    /// The server behind the load balancers: a built-in server profile, a scenario file (its
    /// [server]) or a kube-apiserver manifest; default: a manifest among the inputs, else kube-apiserver.
    #[arg(long, value_name = "NAME|PATH")]
    pub server: Option<String>,
    /// Cloud of Kubernetes Services that carry no cloud-specific annotation.
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// An input (or glob) without any load-balancer-to-server pair is not an error.
    #[arg(long)]
    pub allow_empty: bool,
}

/// Flags of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Inputs: haproxy.cfg, Kubernetes Service YAML, `terraform show -json` output, kube-apiserver
    /// manifests, scenario files or a graceline.toml project file; default: ./graceline.toml, else
    /// the built-in matrix of every profile.
    pub paths: Vec<PathBuf>,
    /// How inputs are read.
    #[command(flatten)]
    pub input: InputArgs,
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
    /// Scenario file or any input `check` reads.
    pub path: PathBuf,
    /// How inputs are read.
    #[command(flatten)]
    pub input: InputArgs,
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
