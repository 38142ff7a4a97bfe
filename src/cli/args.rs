//! Raw command-line flags (clap); resolved into options by the command modules.

use crate::input::{Cloud, InputKind};
use crate::output::{Format, PlainFormat};
use crate::time::Micros;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;
use std::path::PathBuf;

/// graceline: does the load balancer stop routing to a shutting-down server before it stops listening?
#[derive(Debug, Parser)]
#[command(
    name = "graceline",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  graceline check\n      ./graceline.toml; without one, a teaching matrix\n  graceline check haproxy.cfg kube-apiserver.yaml\n      findings at the lines of your own files\n  graceline check . --format sarif > graceline.sarif\n      a whole repository, for code scanning\n  graceline man check\n      the manual page of a command (EXIT STATUS, EXAMPLES, ENVIRONMENT, FILES)"
)]
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
    /// Write the fingerprints of today's findings as a baseline (JSON) to standard output; `check
    /// --baseline FILE` then fails only on new findings.
    Baseline(BaselineArgs),
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
    /// Monte Carlo: percentiles of the time from /readyz failing until no new request is routed
    /// (detection plus propagation) over random phases, latencies, jitter and failure modes.
    Simulate(SimulateArgs),
    /// The smallest shutdown delay that passes, and the least-load provider-valid check settings that pass.
    Recommend(RecommendArgs),
    /// List every rule, or explain one (what, why, an example that raises it, the fix, sources).
    Rules(RulesArgs),
    /// Print a static shell completion script (bash, zsh, fish, powershell, elvish) to standard
    /// output; `COMPLETE=bash graceline` prints one that also completes profile and `--lb` names.
    Completions(CompletionsArgs),
    /// Print a manual page (roff): graceline(1), or one subcommand's (`graceline man check`).
    Man(ManArgs),
}

/// Flags of `man`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline man check | man -l -\n      read graceline-check(1) now\n  graceline man --output-dir ~/.local/share/man/man1\n      install every page; then: man graceline-check"
)]
pub struct ManArgs {
    /// The subcommand whose page to print (`check`, `simulate`, ...); none: graceline(1).
    #[arg(value_name = "COMMAND", conflicts_with = "output_dir")]
    pub command: Option<String>,
    /// Write every page (graceline.1 and graceline-COMMAND.1) into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// Flags of `completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline completions bash > ~/.local/share/bash-completion/completions/graceline\n      bash (static; `source <(COMPLETE=bash graceline)` also completes profile and --lb names)\n  graceline completions zsh > \"${fpath[1]}/_graceline\"\n      zsh\n  graceline completions fish > ~/.config/fish/completions/graceline.fish\n      fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `simulate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline simulate tests/fixtures/multi-lb.toml\n      percentiles of 1 000 000 random shutdowns per LB\n  graceline simulate tests/fixtures/multi-lb.toml --trials 100000 --seed 7 --format json\n      smaller, reproducible, for scripts\n  graceline simulate haproxy.cfg --set 'lb[*/cp1].inter=2s'\n      what if the check ran every 2 s"
)]
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
#[command(
    after_help = "Examples:\n  graceline recommend tests/fixtures/multi-lb.toml\n      smallest passing shutdown_delay and check settings\n  graceline recommend k8s/services.yaml --cloud aws --format json\n      for scripts"
)]
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
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Inputs: haproxy.cfg, Kubernetes YAML or JSON, `terraform show -json` output, kube-apiserver
    /// manifests, scenario files or a graceline.toml project file; `-` reads standard input. A
    /// directory is walked recursively (honouring .gitignore): the files among those that are
    /// graceline inputs are read, each directory's *.cfg files as one HAProxy configuration; a file
    /// that cannot be read is reported and the rest still judged (exit 2 at the end).
    /// Default: ./graceline.toml.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// What if: change a setting of the loaded model without editing a file, as a scenario file
    /// would write it: `server.shutdown_delay=90s`, `lb[api-*].interval=5s` (a glob on the LB
    /// name), `lb.fall=3` (every LB); repeatable, applied in order, each listed in the output.
    #[arg(long = "set", value_name = "KEY=VALUE", add = ArgValueCompleter::new(super::complete::set))]
    pub set: Vec<String>,
    /// With a directory: read at most this many levels below it (1: its own files only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: Option<u32>,
    /// With a directory: leave out the paths this glob matches, written as a .gitignore line
    /// relative to the directory (`charts/`, `*.json`, `staging/**/svc.yaml`); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Only the load balancers whose name matches this glob (`backend/*`, `default/api-*`);
    /// repeatable; replaces the default selection (the LBs that send traffic to the server's port).
    #[arg(long, value_name = "PATTERN", add = ArgValueCompleter::new(super::complete::lb))]
    pub lb: Vec<String>,
    /// Read every path as this kind instead of detecting it from its name and content.
    #[arg(long, value_enum)]
    pub input_kind: Option<InputKind>,
    /// The server behind the load balancers: a built-in server profile, a scenario file (its
    /// [server]) or a kube-apiserver manifest; default: a manifest among the inputs, else kube-apiserver.
    #[arg(long, value_name = "NAME|PATH", add = ArgValueCompleter::new(super::complete::server))]
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
    /// in a walked directory each directory's *.cfg files are one configuration (name order, as `-f dir/`).
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
#[command(
    after_help = "Examples:\n  graceline check\n      ./graceline.toml; without one, a teaching matrix\n  graceline check tests/fixtures/multi-lb.toml\n      a scenario file\n  graceline check tests/fixtures/inputs/kubeadm-ha/haproxy.cfg tests/fixtures/inputs/kubeadm-ha/kube-apiserver.yaml\n      HAProxy in front of a kubeadm kube-apiserver\n  graceline check . --exclude 'charts/' --max-depth 4\n      a whole repository\n  graceline check k8s/ --format sarif > graceline.sarif\n      for code scanning\n  graceline check haproxy.cfg --set 'lb[*/cp1].inter=2s' --set server.shutdown_delay=30s\n      what if\n  graceline check --baseline .graceline-baseline.json\n      fail only on new findings"
)]
pub struct CheckArgs {
    /// What to read; with nothing to read, the table format shows a teaching matrix of the
    /// built-in profiles.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print a unified diff for `git apply` instead of the findings: the shutdown delay and grace
    /// period where the server was read (scenario [server], kube-apiserver manifest) as GL001/GL004
    /// ask, the preStop sleep and grace period of workloads whose paths fail (GL030/GL041), and
    /// the load balancer's check where it was read (haproxy.cfg lines, Service annotations) for
    /// GL001/GL002/GL003/GL006.
    #[arg(long, conflicts_with_all = ["format", "quiet", "baseline"])]
    pub fix_diff: bool,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report only: exit 0 whatever the findings.
    #[arg(long)]
    pub no_fail: bool,
    /// Print only the findings (table format), one a line: `file:line:col: severity[rule]: headline`.
    #[arg(long, short)]
    pub quiet: bool,
    /// Suppress the findings this baseline holds (written by `graceline baseline > FILE`), so only
    /// new findings fail; they are still listed as suppressed.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// Flags of `baseline`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline baseline > .graceline-baseline.json\n      accept today's findings\n  graceline check --baseline .graceline-baseline.json\n      then only new findings fail"
)]
pub struct BaselineArgs {
    /// What to read (the same inputs as `check`).
    #[command(flatten)]
    pub input: InputArgs,
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
#[command(
    after_help = "Examples:\n  graceline explain tests/fixtures/multi-lb.toml --lb haproxy-healthz\n      one LB's worst-case probe walk"
)]
pub struct ExplainArgs {
    /// What to read (the same inputs as `check`).
    #[command(flatten)]
    pub input: InputArgs,
}

/// Flags of `rules`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline rules\n      every rule: id, name, severity, one line\n  graceline rules GL001\n      one rule: what, why, an example, the fix, sources\n  graceline rules routes-to-closed-port --format json\n      by name, for scripts"
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
#[command(
    after_help = "Examples:\n  graceline profiles\n      every built-in profile\n  graceline profiles aws-nlb\n      one, as TOML, with the source of every number"
)]
pub struct ProfilesArgs {
    /// Print this profile as TOML.
    #[arg(add = ArgValueCompleter::new(super::complete::any_profile))]
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
#[command(
    after_help = "Examples:\n  graceline backend 127.0.0.1:8080 --shutdown-delay 10s --log backend.log\n      a server to put behind a real LB; SIGTERM starts the shutdown"
)]
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
#[command(
    after_help = "Examples:\n  graceline calibrate backend.log --scenario scenario.toml\n      measured detection against the model\n  graceline calibrate backend.log --scenario scenario.toml --haproxy-log haproxy.log --haproxy-server be/srv\n      with HAProxy's DOWN line"
)]
pub struct CalibrateArgs {
    /// The backend's JSON log (`graceline backend --log FILE`); several runs may be appended.
    pub log: PathBuf,
    /// Scenario whose load balancer the measurements are compared with.
    #[arg(long, required_unless_present = "path")]
    pub scenario: Option<PathBuf>,
    /// Measure a whole Kubernetes path instead (`kube-proxy`, `gateway-istio`, ...): the backend
    /// ran as the pod with a preStop sleep of `--prestop` and steady traffic through the path.
    #[arg(long, value_name = "FAMILY", conflicts_with_all = ["scenario", "haproxy_log", "haproxy_server", "lb", "server"])]
    pub path: Option<String>,
    /// With `--path`: the pod's preStop sleep (the deletion is SIGTERM minus it).
    #[arg(long, value_parser = duration, requires = "path")]
    pub prestop: Option<Micros>,
    /// The scenario's load balancer: a glob on its name, as `--lb` of the other commands (it must
    /// select exactly one); needed when the scenario has several.
    #[arg(long, value_name = "PATTERN", add = ArgValueCompleter::new(super::complete::lb))]
    pub lb: Option<String>,
    /// The server behind the load balancer, as `--server` of the other commands: a built-in
    /// server profile, a scenario file (its [server]) or a kube-apiserver manifest, replacing the
    /// scenario's [server] (the log still gives each shutdown's failure mode and E3 - E2).
    #[arg(long, value_name = "NAME|PATH", add = ArgValueCompleter::new(super::complete::server))]
    pub server: Option<String>,
    /// HAProxy's own log with microsecond timestamps (`log ... format iso` or `rfc5424`): the
    /// "Server B/S is DOWN" line is then the instant routing stopped.
    #[arg(long)]
    pub haproxy_log: Option<PathBuf>,
    /// What if: change a setting of the scenario, as `--set` of the other commands
    /// (`server.shutdown_delay=90s`, `lb[api-*].interval=5s`); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "path", add = ArgValueCompleter::new(super::complete::set))]
    pub set: Vec<String>,
    /// With `--haproxy-log`: only DOWN lines of this HAProxy server (`backend/server`).
    #[arg(long, value_name = "BACKEND/SERVER")]
    pub haproxy_server: Option<String>,
    /// Widen the model's range by this much on both sides before judging a measurement.
    #[arg(long, value_parser = duration, default_value = "10ms")]
    pub tolerance: Micros,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlainFormat::Table)]
    pub format: PlainFormat,
}

/// Flags of `timeline`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  graceline timeline tests/fixtures/multi-lb.toml --lb nlb-external --output nlb.svg\n      one picture of the worst case\n  graceline timeline haproxy.cfg --output cp.png --scale 2\n      PNG for a HiDPI screen"
)]
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
#[command(
    after_help = "Examples:\n  graceline report tests/fixtures/multi-lb.toml --output-dir report/\n      report/report.md with charts"
)]
pub struct ReportArgs {
    /// What to read (the same inputs as `check`); one section per scenario.
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory for the report (created if missing): report.md and its SVG charts, or one
    /// report.html.
    #[arg(long)]
    pub output_dir: PathBuf,
    /// Report format: markdown (report.md with SVG charts beside it) or html (one self-contained
    /// report.html, charts inline, printable).
    #[arg(long, value_enum, default_value_t = crate::output::report::ReportFormat::Markdown)]
    pub format: crate::output::report::ReportFormat,
    /// Monte Carlo trials per load balancer.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=crate::analysis::montecarlo::MAX_TRIALS))]
    pub trials: u64,
    /// Random seed: the same seed gives the same report.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
