//! Command line: raw flags (`args`), resolved options and the commands that run them.

pub mod args;
pub mod inputs;
pub mod paths;

use crate::analysis::{analyze_all, analyze_all_consuming, explain::explain, findings::Severity};
use crate::backend;
use crate::output::chart::ImageFormat;
use crate::output::term::Term;
use crate::output::{exporter, fails, ExportContext, Format, SourceRoot};
use crate::profiles::{self, Profile};
use crate::scenario::{self, Scenario};
use anyhow::{anyhow, bail, Context, Result};
pub use args::{
    BackendArgs, CalibrateArgs, CheckArgs, Cli, Command, ExplainArgs, FailOn, InputArgs, ProfilesArgs,
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
    /// Nothing to read, table format: the built-in teaching matrix.
    BuiltinMatrix,
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
}

impl CheckOptions {
    /// Resolves raw flags; with nothing to read, the built-in matrix in the table format and an
    /// error in the machine formats (a CI job must never lint a demo).
    pub fn from_args(a: &CheckArgs, cwd: &Path, term: Term) -> Result<Self> {
        let given = InputOptions::from_cli_arguments(&a.input, cwd)?;
        let inputs = match (&given.sources, a.format) {
            (Sources::Nothing, _) if given.input.server.is_some() => Inputs::ServerMatrix(given),
            (Sources::Nothing, Format::Table) => Inputs::BuiltinMatrix,
            (Sources::Nothing, f) => bail!(
                "{} (--format {} never checks the built-in demo matrix)",
                inputs::nothing_to_read("check"),
                f.name()
            ),
            _ => Inputs::Given(given),
        };
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
        })
    }
}

fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the working directory")
}

/// Loads what a command's input flags name (one pipeline for every analysing command).
fn load_inputs(a: &InputArgs, command: &str) -> Result<Vec<Scenario>> {
    InputOptions::from_cli_arguments(a, &cwd()?)?.load(command)
}

/// Runs a parsed command line, writing the result to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    match cli.command {
        Command::Check(a) => check(&CheckOptions::from_args(&a, &cwd()?, Term::detect(cli.color))?, out),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "graceline", out);
            Ok(Exit::Clean)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(out)
                .context("cannot write the manual page")?;
            Ok(Exit::Clean)
        }
        Command::Explain(a) => explain_cmd(&a, out),
        Command::Profiles(a) => profiles_cmd(&a, out),
        Command::Backend(a) => backend_cmd(&a, out),
        Command::Calibrate(a) => crate::calibrate::run(&a, out),
        Command::Timeline(a) => timeline_cmd(&a, out),
        Command::Report(a) => report_cmd(&a, out),
        Command::Simulate(a) => simulate_cmd(&a, out),
        Command::Recommend(a) => recommend_cmd(&a, out),
    }
}

/// `graceline simulate`: Monte Carlo per LB, with a progress bar on stderr (a terminal only) once a
/// run has taken a second.
fn simulate_cmd(a: &SimulateArgs, out: &mut dyn Write) -> Result<Exit> {
    use crate::analysis::montecarlo::{LbDistribution, SimulateOptions};
    use crate::analysis::streaming::{distribution, passes};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    let scenarios = load_inputs(&a.input, "simulate")?;
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
    let sections: Vec<(&Scenario, Vec<(usize, LbDistribution)>)> = scenarios
        .iter()
        .map(|sc| {
            let dists = (0..sc.lbs.len())
                .map(|i| (i, distribution(sc, i, &opts, &progress)))
                .collect::<Vec<(usize, LbDistribution)>>();
            (sc, dists)
        })
        .collect();
    pb.finish_and_clear();
    let text = crate::output::simulate::render(&sections, a.format);
    let text = paths::simulate(&a.input, &scenarios, text, a.trials, a.seed, a.format)?;
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

/// `graceline recommend`.
fn recommend_cmd(a: &RecommendArgs, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = load_inputs(&a.input, "recommend")?;
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
                .map(|lb| (lb.family, crate::analysis::recommend::recommend_with(sc, lb, &opts)))
                .collect();
            (sc, recs)
        })
        .collect();
    let text = crate::output::recommend::render(&sections, a.format);
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

/// `graceline check`.
pub fn check(o: &CheckOptions, out: &mut dyn Write) -> Result<Exit> {
    let mut scenarios = match &o.inputs {
        Inputs::BuiltinMatrix => scenario::teaching::teaching_matrix(),
        Inputs::ServerMatrix(i) => match crate::input::named_server(&i.input)? {
            Some(named) => scenario::builtin_matrix_for(&named)?,
            None => Vec::new(),
        },
        Inputs::Given(i) => i.load("check")?,
    };
    if matches!(o.inputs, Inputs::BuiltinMatrix) && !o.quiet {
        let reports = analyze_all(&scenarios);
        let text = crate::output::teach::render(&scenarios, &reports, &o.term);
        out.write_all(text.as_bytes()).context("cannot write the output")?;
        return Ok(if fails(&reports, o.fail_on) {
            Exit::Findings
        } else {
            Exit::Clean
        });
    }
    let k8s_paths = match &o.inputs {
        Inputs::Given(i) => paths::analyze(i, &scenarios)?,
        _ => crate::paths::PathsAnalysis::default(),
    };
    let ctx = ExportContext {
        fail_on: o.fail_on,
        root: SourceRoot::current(),
        term: o.term,
        quiet: o.quiet,
        skipped: scenarios
            .iter()
            .flat_map(|s| s.skipped.iter().map(|k| (s.name.clone(), k.clone())))
            .collect(),
    };
    // The load balancers are not needed once judged: a large haproxy.cfg never holds all of
    // them and all of their reports at once.
    let reports = analyze_all_consuming(&mut scenarios);
    drop(scenarios);
    let mut out = std::io::BufWriter::new(out);
    let exporter = exporter(o.format);
    if crate::output::paths::adds_to_check(&k8s_paths) {
        let text = exporter.render(&reports, &ctx);
        let text = crate::output::paths::merge_check(o.format, text, !reports.is_empty(), &k8s_paths, &ctx);
        out.write_all(text.as_bytes()).context("cannot write the output")?;
    } else {
        exporter
            .write(&reports, &ctx, &mut out)
            .context("cannot write the output")?;
    }
    out.flush().context("cannot write the output")?;
    Ok(
        if fails(&reports, o.fail_on) || crate::output::paths::fails(&k8s_paths, o.fail_on) {
            Exit::Findings
        } else {
            Exit::Clean
        },
    )
}

fn explain_cmd(a: &ExplainArgs, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = load_inputs(&a.input, "explain")?;
    let chosen: Vec<_> = scenarios
        .iter()
        .flat_map(|sc| sc.lbs.iter().map(move |lb| (sc, lb)))
        .collect();
    for (i, (sc, lb)) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(72))?;
        }
        out.write_all(explain(sc, lb)?.as_bytes())?;
    }
    paths::explain(&a.input, &scenarios, !chosen.is_empty(), out)?;
    Ok(Exit::Clean)
}

fn report_cmd(a: &ReportArgs, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = load_inputs(&a.input, "report on")?;
    let opts = crate::output::report::ReportOptions {
        trials: a.trials,
        seed: a.seed,
    };
    for f in crate::output::report::write_report(&scenarios, &a.output_dir, &opts)? {
        writeln!(out, "wrote {}", f.display())?;
    }
    for f in paths::report(&a.input, &scenarios, &a.output_dir, a.trials, a.seed)? {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(Exit::Clean)
}

fn timeline_cmd(a: &TimelineArgs, out: &mut dyn Write) -> Result<Exit> {
    let format = ImageFormat::from_path(&a.output)?;
    crate::output::chart::check_scale(format, a.scale, &a.output)?;
    let mut scenarios = load_inputs(&a.input, "draw")?;
    // Kubernetes paths alone: their lanes are the picture.
    if scenarios.iter().all(|s| s.lbs.is_empty()) && paths::timeline(&a.input, &scenarios, &a.output, a.scale, out)? {
        return Ok(Exit::Clean);
    }
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
    let (server, lanes) = crate::analysis::walk::walk(sc, None)?;
    crate::output::chart::write(&server, &lanes, format, a.scale, &a.output)?;
    writeln!(out, "wrote {}", a.output.display())?;
    // With load balancers too, the paths' lanes go next to it as `<name>-paths.svg`.
    paths::timeline(&a.input, &scenarios, &a.output, a.scale, out)?;
    Ok(Exit::Clean)
}

fn profiles_cmd(a: &ProfilesArgs, out: &mut dyn Write) -> Result<Exit> {
    match &a.name {
        Some(name) if name == crate::paths::figures::NAME => {
            out.write_all(crate::paths::figures::TEXT.as_bytes())?;
        }
        Some(name) => {
            let Some(b) = profiles::find(name) else {
                let all: Vec<_> = profiles::BUILTIN.iter().map(|b| b.name).collect();
                bail!("unknown profile \"{name}\"; built-in: {}", all.join(", "));
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
                crate::paths::figures::NAME
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
