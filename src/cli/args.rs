//! Raw command-line flags (clap); resolved into options by the command modules.

use crate::input::{Cloud, InputKind};
use crate::output::{Format, PlainFormat};
use crate::time::Micros;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// graceline: does the load balancer stop routing to a shutting-down server before it stops listening?
#[derive(Debug, Parser)]
#[command(name = "graceline", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Colour verdicts and severities: on a terminal (auto; NO_COLOR turns it off), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always (also into a pipe).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// The output's colour mode for this flag.
    pub fn mode(self) -> crate::output::term::ColorMode {
        use crate::output::term::ColorMode;
        match self {
            ColorChoice::Auto => ColorMode::Auto,
            ColorChoice::Always => ColorMode::Always,
            ColorChoice::Never => ColorMode::Never,
        }
    }
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
    /// Serve HTTP like a shutting-down kube-apiserver, logging every event and probe as JSON lines.
    Backend(BackendArgs),
    /// Compare detection times measured in a backend log (and an HAProxy log) with the model.
    Calibrate(CalibrateArgs),
    /// Draw the worst-case shutdown timeline (server phases, every probe, routing) as SVG or PNG.
    Timeline(TimelineArgs),
    /// Write a capacity-planning report (report.md and timeline charts) into a directory.
    Report(ReportArgs),
    /// Monte Carlo: percentiles of the detection time over random phases, latencies, jitter and failure modes.
    Simulate(SimulateArgs),
    /// The smallest shutdown delay that passes, and the least-load provider-valid check settings that pass.
    Recommend(RecommendArgs),
    /// List every rule, or explain one (what, why, an example that raises it, the fix, sources).
    Rules(RulesArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to standard output.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to standard output.
    Man,
}

/// Flags of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// What to read (the same inputs as `check`).
    #[command(flatten)]
    pub input: InputArgs,
    /// Trials per load balancer.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=crate::analysis::montecarlo::MAX_TRIALS))]
    pub trials: u64,
    /// Random seed: the same seed gives bit-identical output on any number of threads.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlainFormat::Table)]
    pub format: PlainFormat,
}

/// Flags of `recommend`.
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// What to read (the same inputs as `check`).
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlainFormat::Table)]
    pub format: PlainFormat,
    /// Also propose an unhealthy threshold of 1 with a probe timeout of 2 s or less (one slow probe
    /// then takes a healthy server out).
    #[arg(long)]
    pub allow_single_failure: bool,
    /// Propose no unhealthy threshold below this.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub min_threshold: u32,
}

/// What every analysing command reads (`check`, `explain`, `simulate`, `recommend`, `timeline`,
/// `report`): raw flags, resolved by [`crate::cli::inputs::InputOptions::from_cli_arguments`].
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Inputs: haproxy.cfg, Kubernetes Service YAML, `terraform show -json` output, kube-apiserver
    /// manifests, scenario files or a graceline.toml project file; `-` reads standard input.
    /// Default: ./graceline.toml.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only the load balancers whose name matches this glob (`backend/*`, `default/api-*`);
    /// repeatable; replaces the default selection (the LBs that send traffic to the server's port).
    #[arg(long, value_name = "PATTERN")]
    pub lb: Vec<String>,
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
    /// Set an environment variable for haproxy.cfg ("${VAR}", defined(VAR)), over the process
    /// environment; repeatable.
    #[arg(long, value_name = "VAR=VALUE", value_parser = env_pair)]
    pub haproxy_env: Vec<(String, String)>,
    /// HAProxy version that reads the haproxy.cfg inputs: decides `.if version_atleast(...)` and
    /// whether `timeout check` below `inter` is exact (2.8.16, 3.0.12, 3.2.1 and later) [default:
    /// an haproxy image tag among the inputs, else 2.8.0].
    #[arg(long, value_name = "VERSION", value_parser = haproxy_version)]
    pub haproxy_version: Option<String>,
    /// Read all haproxy.cfg inputs as one configuration, in the order given (as `haproxy -f A -f B`);
    /// a directory is always one configuration (its *.cfg files in name order, as `-f dir/`).
    #[arg(long)]
    pub haproxy_join: bool,
    /// The tier of the propagation evidence that decides the verdict: typical (the tail warns,
    /// GL020) or tail (zero risk) [default: propagation_tier in graceline.toml or the scenario,
    /// else typical].
    #[arg(long, value_enum, value_name = "TIER")]
    pub propagation: Option<PropagationChoice>,
    /// What ends the pods of the Kubernetes paths (over `[paths] termination`): a deletion, or a
    /// termination the kubelet starts on its own.
    #[arg(long, value_enum)]
    pub termination: Option<crate::scenario::path_settings::Termination>,
    /// What programs Services on the nodes (over `[paths] dataplane` and a Cilium ConfigMap).
    #[arg(long, value_enum)]
    pub dataplane: Option<crate::scenario::path_settings::Dataplane>,
}

/// `--propagation`: which tier of the propagation evidence is the error tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PropagationChoice {
    /// Corroborated field reports (the default).
    Typical,
    /// The largest credible field observation.
    Tail,
}

impl PropagationChoice {
    /// The tier it names.
    pub fn tier(self) -> crate::provider::tiers::PropagationTier {
        match self {
            PropagationChoice::Typical => crate::provider::tiers::PropagationTier::Typical,
            PropagationChoice::Tail => crate::provider::tiers::PropagationTier::Tail,
        }
    }
}

/// Accepts an HAProxy version (`2.6`, `2.8.16`, `3.2-dev1`) for `--haproxy-version`.
fn haproxy_version(text: &str) -> Result<String, String> {
    crate::provider::haproxy::parse_version(text)
        .map(|_| text.to_string())
        .ok_or_else(|| crate::input::bad_haproxy_version(text))
}

/// Parses `VAR=VALUE` for `--haproxy-env`.
fn env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(format!(
            "expected VAR=VALUE with VAR made of letters, digits and '_', got \"{text}\""
        )),
    }
}

/// Flags of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What to read; with nothing to read, the table format shows a teaching matrix of the
    /// built-in profiles.
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
    /// Print only the findings (table format), one a line.
    #[arg(long, short)]
    pub quiet: bool,
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
    /// What to read (the same inputs as `check`).
    #[command(flatten)]
    pub input: InputArgs,
}

/// Flags of `rules`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline rules\n  graceline rules GL001\n  graceline rules routes-to-closed-port --format json"
)]
pub struct RulesArgs {
    /// A rule id (GL001) or name (routes-to-closed-port) to explain; none lists every rule.
    pub rule: Option<String>,
    /// Output format (markdown: the README's rule section).
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

/// Output formats of `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    /// Human-readable text.
    Table,
    /// Machine-readable JSON.
    Json,
    /// The README's rule section.
    Markdown,
}

/// Flags of `profiles`.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print this profile as TOML.
    pub name: Option<String>,
}

/// Parses a duration flag like scenario durations (`10s`, `500ms`, `1m30s`).
fn duration(text: &str) -> Result<Micros, String> {
    Micros::parse(text)
}

/// How a failing `/readyz` behaves in `graceline backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadyzFailureArg {
    /// Answer HTTP 500 at once (what kube-apiserver does).
    Error,
    /// Accept and never answer (the probe fails at its timeout).
    Timeout,
}

/// Flags of `backend`.
#[derive(Debug, Args)]
pub struct BackendArgs {
    /// Address to listen on (port 0 picks a free port; the `listening` log event names it).
    #[arg(default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// How `/readyz` fails from E2 on.
    #[arg(long, value_enum, default_value_t = ReadyzFailureArg::Error)]
    pub readyz_failure: ReadyzFailureArg,
    /// E2 - E1: from the shutdown trigger until `/readyz` fails.
    #[arg(long, value_parser = duration, default_value = "0s")]
    pub readyz_fail_after: Micros,
    /// E3 - E2: from `/readyz` failing until the listener closes (--shutdown-delay-duration).
    #[arg(long, value_parser = duration, default_value = "30s")]
    pub shutdown_delay: Micros,
    /// E4 - E3: how long in-flight requests may still finish before the process exits.
    #[arg(long, value_parser = duration, default_value = "60s")]
    pub request_grace: Micros,
    /// Also start the shutdown by itself this long after startup (SIGTERM, SIGINT and
    /// `POST /admin/shutdown` always work).
    #[arg(long, value_parser = duration)]
    pub shutdown_at: Option<Micros>,
    /// Extra latency added to every answered request.
    #[arg(long, value_parser = duration, default_value = "0s")]
    pub response_delay: Micros,
    /// Append the JSON log to this file instead of writing it to stdout.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate generated at start (for localhost, 127.0.0.1,
    /// ::1 and the listen address); plain HTTP without it.
    #[arg(long, conflicts_with = "tls_cert")]
    pub tls: bool,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Flags of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The backend's JSON log (`graceline backend --log FILE`); several runs may be appended.
    pub log: PathBuf,
    /// Scenario whose load balancer the measurements are compared with.
    #[arg(long, required_unless_present = "path")]
    pub scenario: Option<PathBuf>,
    /// Measure a whole Kubernetes path instead (`kube-proxy`, `gateway-istio`, ...): the backend
    /// ran as the pod with a preStop sleep of `--prestop` and steady traffic through the path.
    #[arg(long, value_name = "FAMILY", conflicts_with_all = ["scenario", "haproxy_log", "lb", "server"])]
    pub path: Option<String>,
    /// With `--path`: the pod's preStop sleep (the deletion is SIGTERM minus it).
    #[arg(long, value_parser = duration, requires = "path")]
    pub prestop: Option<Micros>,
    /// Load balancer of the scenario (by name); needed when the scenario has several.
    #[arg(long)]
    pub lb: Option<String>,
    /// HAProxy's own log with microsecond timestamps (`log ... format iso` or `rfc5424`): the
    /// "Server B/S is DOWN" line is then the instant routing stopped.
    #[arg(long)]
    pub haproxy_log: Option<PathBuf>,
    /// With `--haproxy-log`: only DOWN lines of this server (`backend/server`).
    #[arg(long)]
    pub server: Option<String>,
    /// Widen the model's range by this much on both sides before judging a measurement.
    #[arg(long, value_parser = duration, default_value = "10ms")]
    pub tolerance: Micros,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlainFormat::Table)]
    pub format: PlainFormat,
}

/// Flags of `timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// What to read (the same inputs as `check`); the chart draws one scenario's load balancers.
    #[command(flatten)]
    pub input: InputArgs,
    /// Image file to write; its extension (.svg or .png) picks the format.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Pixels per chart pixel of a PNG, for HiDPI screens and print (1 to 4; an SVG takes 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::output::chart::MAX_SCALE)))]
    pub scale: u32,
}

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// What to read (the same inputs as `check`); one section per scenario.
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory for report.md and its charts (created if missing).
    #[arg(long)]
    pub output_dir: PathBuf,
    /// Monte Carlo trials per load balancer.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=crate::analysis::montecarlo::MAX_TRIALS))]
    pub trials: u64,
    /// Random seed: the same seed gives the same report.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
