//! Command line: raw flags (`args`), resolved options and the commands that run them.

pub mod args;
pub mod complete;
pub mod inputs;
pub mod manual;
pub mod paths;
pub mod rules;

use crate::analysis::outcome::{self, Outcome};
use crate::analysis::{explain::explain, findings::Severity};
use crate::backend;
use crate::output::chart::ImageFormat;
use crate::output::term::Term;
use crate::output::{exporter, ExportContext, Format, SourceRoot};
use crate::profiles::{self, Profile};
use crate::scenario::group::Group;
use crate::scenario::sources::Texts;
use crate::scenario::{self, Scenario};
use anyhow::{anyhow, bail, Context, Result};
pub use args::{
    BackendArgs, BaselineArgs, CalibrateArgs, CheckArgs, Cli, Command, ExplainArgs, FailOn, InputArgs, ProfilesArgs,
    ReadyzFailureArg, RecommendArgs, ReportArgs, SimulateArgs, TimelineArgs,
};
pub use inputs::{InputOptions, Sources};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit-code contract: 0 clean, 1 findings at or above `--fail-on`, 2 usage, input or I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No finding at or above the threshold.
    Clean = 0,
    /// Findings at or above the threshold.
    Findings = 1,
    /// Usage, input or I/O error.
    Error = 2,
}

/// Project file every analysing command reads when no path is given.
pub const PROJECT_FILE: &str = "graceline.toml";

/// Where `check` takes its scenarios from.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// The inputs the user named (or `./graceline.toml`).
    Given(InputOptions),
    /// Nothing to read, table format: the built-in teaching matrix (with the error tier of
    /// `--propagation`, if given).
    BuiltinMatrix(Option<crate::provider::tiers::PropagationTier>),
    /// Nothing to read but `--server`: every built-in LB profile against that server.
    ServerMatrix(InputOptions),
}

/// `check` options resolved from raw flags and the working directory.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Scenario sources.
    pub inputs: Inputs,
    /// Output format.
    pub format: Format,
    /// Lowest severity that makes the exit code 1; `None` never fails.
    pub fail_on: Option<Severity>,
    /// Only the findings.
    pub quiet: bool,
    /// Terminal width and colour.
    pub term: Term,
    /// Findings this baseline holds are suppressed (`--baseline FILE`).
    pub baseline: Option<PathBuf>,
    /// `--set` overrides (applied to the built-in matrices too).
    pub sets: Vec<crate::scenario::overrides::Set>,
    /// `--fix-diff`: print the fixes as a unified diff instead of the findings.
    pub fix_diff: bool,
}

impl CheckOptions {
    /// Resolves raw flags; with nothing to read, the built-in matrix in the table format and an
    /// error in the machine formats (a CI job must never lint a demo).
    pub fn from_args(a: &CheckArgs, cwd: &Path, term: Term) -> Result<Self> {
        let given = InputOptions::from_cli_arguments(&a.input, cwd)?;
        let sets = given.sets.clone();
        let inputs = match (&given.sources, a.format) {
            (Sources::Nothing, _) if given.input.server.is_some() => Inputs::ServerMatrix(given),
            (Sources::Nothing, Format::Table) => Inputs::BuiltinMatrix(given.input.propagation_tier),
            (Sources::Nothing, f) => bail!(
                "{} (--format {} never checks the built-in demo matrix)",
                inputs::nothing_to_read("check"),
                f.name()
            ),
            _ => Inputs::Given(given),
        };
        if a.fix_diff && !matches!(inputs, Inputs::Given(_)) {
            bail!("--fix-diff changes your files: {}", inputs::nothing_to_read("fix"));
        }
        let fail_on = (!a.no_fail).then_some(match a.fail_on {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Note => Severity::Note,
        });
        Ok(CheckOptions {
            inputs,
            format: a.format,
            fail_on,
            quiet: a.quiet,
            term,
            baseline: a.baseline.clone(),
            sets,
            fix_diff: a.fix_diff,
        })
    }
}

fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the working directory")
}

/// Loads what a command's input flags name (one pipeline for every analysing command).
fn load_inputs(a: &InputArgs, command: &str) -> Result<Vec<Group>> {
    InputOptions::from_cli_arguments(a, &cwd()?)?.load(command)
}

fn line_of(lb: &crate::scenario::LbSpec) -> String {
    format!("{} ({})", lb.name, lb.profile)
}

/// Every scenario of the groups (the load balancers and what shuts down behind them).
fn scenarios_of(groups: &[Group]) -> Vec<Scenario> {
    groups.iter().flat_map(|g| g.scenarios.iter().cloned()).collect()
}

/// What a load balancer that checks the node is, in one line: its health check says nothing about
/// one pod's shutdown, so the commands that work on the health check say this instead.
fn via_path(lb: &crate::scenario::LbSpec) -> Option<String> {
    lb.check.is_node().then(|| {
        format!(
            "{} ({}): checks {}; the pod leaves it through a Kubernetes path, shown with the paths",
            lb.name,
            lb.profile,
            lb.check.describe()
        )
    })
}

/// Runs a parsed command line, writing the result to `out`; exit 2 when a walked directory held
/// a file that could not be read (reported on stderr, the rest judged and written).
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    inputs::take_bad_inputs();
    let exit = run_command(cli, out)?;
    match inputs::take_bad_inputs() {
        0 => Ok(exit),
        n => {
            eprintln!(
                "error: {n} input file{} could not be read (above); the others were judged",
                if n == 1 { "" } else { "s" }
            );
            Ok(Exit::Error)
        }
    }
}

fn run_command(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    match cli.command {
        Command::Check(a) => check(
            &CheckOptions::from_args(&a, &cwd()?, Term::detect(cli.color.mode()))?,
            out,
        ),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "graceline", out);
            Ok(Exit::Clean)
        }
        Command::Man(a) => {
            match &a.output_dir {
                Some(dir) => {
                    for f in manual::write_all(dir)? {
                        writeln!(out, "{}", f.display())?;
                    }
                }
                None => manual::render(a.command.as_deref(), out)?,
            }
            Ok(Exit::Clean)
        }
        Command::Baseline(a) => {
            let i = InputOptions::from_cli_arguments(&a.input, &cwd()?)?;
            let mut j = judge(&i, "write a baseline of", None, false)?;
            for a in &j.overrides {
                eprintln!("{a}");
            }
            let root = SourceRoot::current();
            j.suppressions.apply(&mut j.outcome, &root);
            out.write_all(crate::output::suppress::Baseline::document(&j.outcome, &root).as_bytes())?;
            Ok(Exit::Clean)
        }
        Command::Explain(a) => explain_cmd(&a, out),
        Command::Profiles(a) => profiles_cmd(&a, out),
        Command::Rules(a) => rules::run(&a, &Term::detect(cli.color.mode()), out),
        Command::Backend(a) => backend_cmd(&a, out),
        Command::Calibrate(a) => calibrate_cmd(&a, Term::detect(cli.color.mode()), out),
        Command::Timeline(a) => timeline_cmd(&a, out),
        Command::Report(a) => report_cmd(&a, out),
        Command::Simulate(a) => simulate_cmd(&a, out),
        Command::Recommend(a) => recommend_cmd(&a, out),
    }
}

/// `graceline calibrate`: exit 1 when a measurement falls outside the model's range.
fn calibrate_cmd(a: &CalibrateArgs, term: Term, out: &mut dyn Write) -> Result<Exit> {
    if let Some(family) = &a.path {
        // A whole Kubernetes path measured end to end (calibrate::paths).
        let opts = crate::calibrate::paths::PathCalibrateOptions {
            log: a.log.clone(),
            family: family.clone(),
            prestop: a.prestop,
            tolerance: a.tolerance,
            format: a.format,
        };
        let found = crate::calibrate::paths::run(&opts, out)?;
        return Ok(if found.outside > 0 { Exit::Findings } else { Exit::Clean });
    }
    let opts = crate::calibrate::CalibrateOptions {
        log: a.log.clone(),
        scenario: a
            .scenario
            .clone()
            .ok_or_else(|| anyhow::anyhow!("calibrate needs --scenario (or --path for a Kubernetes path)"))?,
        lb: a.lb.clone(),
        server: a.server.clone(),
        haproxy_log: a.haproxy_log.clone(),
        haproxy_server: a.haproxy_server.clone(),
        tolerance: a.tolerance,
        format: a.format,
        sets: a
            .set
            .iter()
            .map(|s| crate::scenario::overrides::parse(s))
            .collect::<Result<Vec<_>>>()?,
        term,
    };
    let found = crate::calibrate::run(&opts, out)?;
    Ok(if found.outside > 0 { Exit::Findings } else { Exit::Clean })
}

/// `graceline simulate`: Monte Carlo per LB, with a progress bar on stderr (a terminal only) once a
/// run has taken a second.
fn simulate_cmd(a: &SimulateArgs, out: &mut dyn Write) -> Result<Exit> {
    use crate::analysis::montecarlo::SimulateOptions;
    use crate::analysis::streaming::{distribution, passes};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    let groups = load_inputs(&a.input, "simulate")?;
    let o = outcome::run(groups.clone());
    let mut scenarios = scenarios_of(&groups);
    let mut via: Vec<String> = Vec::new();
    for sc in &mut scenarios {
        sc.lbs.retain(|lb| match via_path(lb) {
            Some(line) => {
                via.push(line);
                false
            }
            None => true,
        });
    }
    scenarios.retain(|s| !s.lbs.is_empty());
    let opts = SimulateOptions {
        trials: a.trials,
        seed: a.seed,
    };
    let lbs: u64 = scenarios.iter().map(|s| s.lbs.len() as u64).sum();
    let total = a.trials.saturating_mul(lbs).saturating_mul(passes(a.trials));
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    pb.set_style(
        ProgressStyle::with_template("{spinner} simulate {bar:30} {human_pos}/{human_len} trials, eta {eta}")
            .expect("a valid template"),
    );
    let started = std::time::Instant::now();
    let shown = AtomicBool::new(false);
    let terminal = std::io::stderr().is_terminal();
    let progress = |n: u64| {
        pb.inc(n);
        if terminal && started.elapsed().as_secs_f64() >= 1.0 && !shown.swap(true, Ordering::Relaxed) {
            pb.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let sections: Vec<crate::output::simulate::Section> = scenarios
        .iter()
        .map(|sc| {
            let dists = (0..sc.lbs.len())
                .map(|i| {
                    (
                        i,
                        distribution(sc, i, &opts, &progress),
                        crate::analysis::sensitivity::effects(sc, &sc.lbs[i]),
                    )
                })
                .collect::<Vec<_>>();
            (sc, dists)
        })
        .collect();
    pb.finish_and_clear();
    let k = o.paths_analysis();
    let dists: Vec<_> = o
        .paths
        .iter()
        .map(|r| crate::paths::sample::sample(r, a.trials, a.seed))
        .collect();
    let paths = (!o.paths.is_empty()).then_some((&k, dists.as_slice()));
    let mut text = crate::output::simulate::render(&sections, paths, a.format);
    if a.format == crate::output::PlainFormat::Table {
        for line in via {
            text.push_str(&format!("\nnot sampled as a health check: {line}\n"));
        }
    }
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

/// `graceline recommend`.
fn recommend_cmd(a: &RecommendArgs, out: &mut dyn Write) -> Result<Exit> {
    let mut scenarios = scenarios_of(&load_inputs(&a.input, "recommend")?);
    let mut via: Vec<String> = Vec::new();
    for sc in &mut scenarios {
        sc.lbs.retain(|lb| match via_path(lb) {
            Some(line) => {
                via.push(line);
                false
            }
            None => true,
        });
    }
    scenarios.retain(|s| !s.lbs.is_empty());
    let opts = crate::analysis::recommend::RecommendOptions {
        min_threshold: a.min_threshold,
        allow_single_failure: a.allow_single_failure,
    };
    let sections: Vec<_> = scenarios
        .iter()
        .map(|sc| {
            let recs: Vec<_> = sc
                .lbs
                .iter()
                .map(|lb| (lb.provider, crate::analysis::recommend::recommend_with(sc, lb, &opts)))
                .collect();
            (sc, recs)
        })
        .collect();
    let mut text = crate::output::recommend::render(&sections, a.format);
    if a.format == crate::output::PlainFormat::Table {
        for line in via {
            text.push_str(&format!(
                "\nnot tuned here: {line} (graceline check prints its preStop fix)\n"
            ));
        }
    }
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

/// `graceline check`.
pub fn check(o: &CheckOptions, out: &mut dyn Write) -> Result<Exit> {
    let mut groups = match &o.inputs {
        Inputs::BuiltinMatrix(tier) => {
            let mut scenarios = scenario::teaching::teaching_matrix();
            if let Some(t) = tier {
                scenarios.iter_mut().for_each(|s| s.set_propagation_tier(*t));
            }
            vec![Group::of_scenarios(scenarios)]
        }
        Inputs::ServerMatrix(i) => match crate::input::named_server(&i.input)? {
            Some(named) => {
                let mut scenarios = scenario::builtin_matrix_for(&named)?;
                if let Some(t) = i.input.propagation_tier {
                    scenarios.iter_mut().for_each(|s| s.set_propagation_tier(t));
                }
                vec![Group::of_scenarios(scenarios)]
            }
            None => Vec::new(),
        },
        Inputs::Given(i) => return check_given(o, i, out),
    };
    let overrides = inputs::apply_sets(&o.sets, &mut groups)?;
    let teaching = matches!(o.inputs, Inputs::BuiltinMatrix(_)) && !o.quiet;
    let scenarios = if teaching { scenarios_of(&groups) } else { Vec::new() };
    let result = outcome::run(groups);
    if teaching {
        for a in &overrides {
            writeln!(out, "{a}")?;
        }
        let text = crate::output::teach::render(&scenarios, &result, &o.term);
        out.write_all(text.as_bytes()).context("cannot write the output")?;
        // It judged nothing of the user's: a demonstration never fails a run.
        return Ok(Exit::Clean);
    }
    export(
        o,
        result,
        Vec::new(),
        overrides,
        Default::default(),
        Texts::default(),
        out,
    )
}

/// `check` on the user's inputs: suppressions and the baseline taken out, their warnings said.
fn check_given(o: &CheckOptions, i: &InputOptions, out: &mut dyn Write) -> Result<Exit> {
    let baseline = o
        .baseline
        .as_deref()
        .map(crate::input::suppressions::read_baseline)
        .transpose()?;
    let wants_fixes = o.fix_diff || o.format.shows_fixes();
    let Judged {
        outcome: mut result,
        suppressions,
        overrides,
        servers,
        texts,
    } = judge(i, "check", baseline, wants_fixes)?;
    // Planned only when printed: planning judges every fixable load balancer again.
    let fixes = if wants_fixes {
        crate::output::fixes::plan(&servers, &result, &texts)
    } else {
        Default::default()
    };
    if o.fix_diff {
        let text = crate::output::fixes::diff(&fixes.edits, &texts).context("cannot read a file to diff")?;
        if text.is_empty() {
            eprintln!("graceline: nothing to change: no finding whose fix is a setting read from a file (server shutdown, preStop, grace period, HAProxy check, Service annotation, scenario [[lb]] key)");
        }
        out.write_all(text.as_bytes()).context("cannot write the diff")?;
        return Ok(Exit::Clean);
    }
    let suppressed = suppressions.apply(&mut result, &SourceRoot::current());
    for w in suppressions.warnings() {
        eprintln!("warning: {w}");
    }
    if matches!(o.format, crate::output::Format::Junit | crate::output::Format::Github) {
        for a in &overrides {
            eprintln!("{a}");
        }
    }
    export(o, result, suppressed, overrides, fixes, texts, out)
}

/// One judged run of the user's inputs, with what the outputs need of the reading.
struct Judged {
    /// The outcome, before suppressions.
    outcome: Outcome,
    /// The suppressions written in the inputs, the `[[ignore]]` entries and the baseline.
    suppressions: crate::output::suppress::Suppressions,
    /// What `--set` changed.
    overrides: Vec<crate::scenario::overrides::Applied>,
    /// Every scenario's server, for the fixes (none when no fix is wanted).
    servers: Vec<crate::output::fixes::ServerOf>,
    /// The input files' texts as read.
    texts: Texts,
}

/// Loads the inputs once, judges them once and gathers the suppressions read with them; with
/// `fixes`, what planning the fixes needs of the scenarios.
fn judge(
    i: &InputOptions,
    command: &str,
    baseline: Option<crate::output::suppress::Baseline>,
    fixes: bool,
) -> Result<Judged> {
    let loaded = i.load_all(command)?;
    let suppressions = crate::output::suppress::Suppressions::collect(loaded.in_source, loaded.ignores, baseline);
    let servers = if fixes {
        crate::output::fixes::ServerOf::of(&loaded.groups, &loaded.texts)
    } else {
        Vec::new()
    };
    Ok(Judged {
        outcome: outcome::run(loaded.groups),
        suppressions,
        overrides: loaded.overrides,
        servers,
        texts: loaded.texts,
    })
}

/// Writes an outcome in the chosen format; the exit code of what is left after suppressions.
fn export(
    o: &CheckOptions,
    result: Outcome,
    suppressed: Vec<crate::output::suppress::Suppressed>,
    overrides: Vec<crate::scenario::overrides::Applied>,
    fixes: crate::output::fixes::Plan,
    texts: Texts,
    out: &mut dyn Write,
) -> Result<Exit> {
    let ctx = ExportContext {
        overrides,
        fixes,
        texts,
        fail_on: o.fail_on,
        root: SourceRoot::current(),
        term: o.term,
        quiet: o.quiet,
        suppressed,
    };
    let mut out = std::io::BufWriter::new(out);
    exporter(o.format)
        .write(&result, &ctx, &mut out)
        .context("cannot write the output")?;
    out.flush().context("cannot write the output")?;
    Ok(exit_of(&result, o.fail_on))
}

/// The exit code of an outcome: 1 when a finding reaches `--fail-on`.
fn exit_of(o: &Outcome, fail_on: Option<Severity>) -> Exit {
    if o.fails(fail_on) {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

fn explain_cmd(a: &ExplainArgs, out: &mut dyn Write) -> Result<Exit> {
    let groups = load_inputs(&a.input, "explain")?;
    let o = outcome::run(groups.clone());
    let scenarios = scenarios_of(&groups);
    let chosen: Vec<_> = scenarios
        .iter()
        .flat_map(|sc| sc.lbs.iter().map(move |lb| (sc, lb)))
        .collect();
    for (i, (sc, lb)) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(72))?;
        }
        let report = o.lbs.iter().find(|r| r.scenario == sc.name && r.lb == lb.name);
        match (via_path(lb), report) {
            (None, Some(r)) => {
                out.write_all(explain(sc, lb, &crate::analysis::report::walk_report(&o, sc, lb))?.as_bytes())?;
                if let Some(route) = &r.route {
                    writeln!(
                        out,
                        "This health check is one way out of the pod; the row's verdict is the earlier of it and the path {} (walked below).",
                        route.path
                    )?;
                }
            }
            _ => writeln!(out, "{}: {}", sc.name, via_path(lb).unwrap_or_else(|| line_of(lb)))?,
        }
    }
    paths::explain(&o, !chosen.is_empty(), out)?;
    Ok(Exit::Clean)
}

fn report_cmd(a: &ReportArgs, out: &mut dyn Write) -> Result<Exit> {
    let inputs = InputOptions::from_cli_arguments(&a.input, &cwd()?)?;
    let loaded = inputs.load_all("report on")?;
    for a in &loaded.overrides {
        eprintln!("{a}");
    }
    let groups = loaded.groups;
    let named = match &inputs.sources {
        Sources::Files(paths) => paths.clone(),
        Sources::Nothing => Vec::new(),
    };
    let opts = crate::analysis::report::ReportOptions {
        trials: a.trials,
        seed: a.seed,
    };
    let mut report = crate::analysis::report::build(groups, &named, &opts)?;
    report.overrides = loaded.overrides;
    for f in crate::output::report::write(&report, &a.output_dir, a.format)? {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(Exit::Clean)
}

fn timeline_cmd(a: &TimelineArgs, out: &mut dyn Write) -> Result<Exit> {
    let format = ImageFormat::from_path(&a.output)?;
    crate::output::chart::check_scale(format, a.scale, &a.output)?;
    let groups = load_inputs(&a.input, "draw")?;
    let o = outcome::run(groups.clone());
    let mut scenarios = scenarios_of(&groups);
    for sc in &mut scenarios {
        sc.lbs.retain(|lb| via_path(lb).is_none());
    }
    scenarios.retain(|s| !s.lbs.is_empty());
    // Kubernetes paths alone: their lanes are the picture.
    if scenarios.is_empty() && paths::timeline(&o, false, &a.output, a.scale, out)? {
        return Ok(Exit::Clean);
    }
    // Each lane's report, taken from the outcome before scenarios are merged below.
    let reports: Vec<crate::analysis::LbReport> = scenarios
        .iter()
        .flat_map(|sc| sc.lbs.iter().map(|lb| crate::analysis::report::walk_report(&o, sc, lb)))
        .collect();
    // Files checked against the same server (one [[check]], or haproxy.cfg + Service YAML) make one
    // picture: their LBs share the server lane.
    if scenarios.len() > 1
        && scenarios
            .windows(2)
            .all(|w| w[0].server == w[1].server && w[0].min_margin == w[1].min_margin)
    {
        let mut merged = scenarios.remove(0);
        for s in scenarios.drain(..) {
            if s.name != merged.name {
                merged.name = format!("{}, {}", merged.name, s.name);
            }
            merged.lbs.extend(s.lbs);
        }
        scenarios.push(merged);
    }
    let [sc] = scenarios.as_slice() else {
        let names: Vec<_> = scenarios.iter().map(|s| format!("{} ({})", s.name, s.file)).collect();
        bail!(
            "the inputs hold {} scenarios with different servers ({}); a chart draws one server: pass its inputs, or pick load balancers of one with --lb",
            scenarios.len(),
            names.join(", ")
        );
    };
    let (server, lanes) = crate::analysis::walk::walk_reports(sc, &reports)?;
    crate::output::chart::write(&server, &lanes, format, a.scale, &a.output)?;
    writeln!(out, "wrote {}", a.output.display())?;
    // With load balancers too, the paths' lanes go next to it as `<name>-paths.svg`.
    paths::timeline(&o, true, &a.output, a.scale, out)?;
    Ok(Exit::Clean)
}

fn profiles_cmd(a: &ProfilesArgs, out: &mut dyn Write) -> Result<Exit> {
    match &a.name {
        Some(name) if name == crate::scenario::path_figures::NAME => {
            out.write_all(crate::scenario::path_figures::TEXT.as_bytes())?;
        }
        Some(name) => {
            let Some(b) = profiles::find(name) else {
                let mut all: Vec<_> = profiles::BUILTIN.iter().map(|b| b.name).collect();
                all.push(crate::paths::figures::NAME);
                bail!(
                    "unknown profile \"{name}\"{}; built-in: {}",
                    crate::scenario::words::did_you_mean(&[name], &all),
                    all.join(", ")
                );
            };
            out.write_all(b.text.as_bytes())?;
        }
        None => {
            for kind in ["lb", "server"] {
                writeln!(out, "{}:", if kind == "lb" { "Load balancers" } else { "Servers" })?;
                for b in profiles::BUILTIN.iter().filter(|b| b.kind() == kind) {
                    let desc = match b.parse().map_err(|e| anyhow!(e))? {
                        Profile::Lb(p) => p.description,
                        Profile::Server(p) => p.description,
                    };
                    writeln!(out, "  {:<30} {desc}", b.name)?;
                }
            }
            writeln!(out, "\nPrint one with its sources: graceline profiles NAME")?;
            writeln!(
                out,
                "Stages of the Kubernetes paths with their sources: graceline profiles {}",
                crate::scenario::path_figures::NAME
            )?;
        }
    }
    Ok(Exit::Clean)
}

/// Resolves `backend` flags into the backend's configuration.
pub fn backend_config(a: &BackendArgs) -> Result<backend::BackendConfig> {
    let listen = a
        .listen
        .parse()
        .map_err(|e| anyhow!("invalid listen address \"{}\": {e} (use e.g. 127.0.0.1:8080)", a.listen))?;
    let dur = |m: crate::time::Micros| std::time::Duration::from_micros(m.0.unsigned_abs());
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(backend::Tls::from_pem_files(cert, key)?),
        _ if a.tls => Some(backend::Tls::self_signed(listen)?),
        _ => None,
    };
    Ok(backend::BackendConfig {
        listen,
        readyz_failure: match a.readyz_failure {
            ReadyzFailureArg::Error => backend::ReadyzFailure::Error,
            ReadyzFailureArg::Timeout => backend::ReadyzFailure::Timeout,
        },
        readyz_fail_after: dur(a.readyz_fail_after),
        shutdown_delay: dur(a.shutdown_delay),
        request_grace: dur(a.request_grace),
        trigger: a
            .shutdown_at
            .map_or(backend::Trigger::Signal, |m| backend::Trigger::After(dur(m))),
        response_delay: dur(a.response_delay),
        tls,
    })
}

fn backend_cmd(a: &BackendArgs, out: &mut dyn Write) -> Result<Exit> {
    let cfg = backend_config(a)?;
    match &a.log {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("{}: cannot open the log for appending", path.display()))?;
            backend::run(&cfg, &mut file)?;
        }
        None => backend::run(&cfg, out)?,
    }
    Ok(Exit::Clean)
}
