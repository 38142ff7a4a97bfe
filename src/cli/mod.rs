//! Command line: raw flags (`args`), resolved options and the commands that run them.

pub mod args;

use crate::analysis::{analyze_all, explain::explain, findings::Severity};
use crate::backend;
use crate::input;
use crate::output::chart::{render_timeline, ImageFormat};
use crate::output::{exporter, ExportContext, Format};
use crate::profiles::{self, Profile};
use crate::scenario::{self, Scenario};
use anyhow::{anyhow, bail, Context, Result};
pub use args::{
    BackendArgs, CalibrateArgs, CheckArgs, Cli, Command, ExplainArgs, FailOn, InputArgs, ProfilesArgs,
    ReadyzFailureArg, RecommendArgs, ReportArgs, SimulateArgs, TimelineArgs,
};
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

/// Project file `check` reads when no path is given.
pub const PROJECT_FILE: &str = "graceline.toml";

/// Where `check` takes its scenarios from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inputs {
    /// These files.
    Files(Vec<PathBuf>),
    /// The built-in matrix of every LB profile against every server profile.
    BuiltinMatrix,
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
    /// How inputs are read.
    pub input: input::Options,
}

impl From<&InputArgs> for input::Options {
    fn from(a: &InputArgs) -> Self {
        input::Options {
            kind: a.input_kind,
            server: a.server.clone(),
            cloud: a.cloud,
            allow_empty: a.allow_empty,
            lb_patterns: Vec::new(),
            haproxy_env: a.haproxy_env.clone(),
            haproxy_version: a.haproxy_version.clone(),
            haproxy_join: a.haproxy_join,
        }
    }
}

impl CheckOptions {
    /// Resolves raw flags; with no path, `./graceline.toml` if present, else the built-in matrix.
    pub fn from_args(a: &CheckArgs, cwd: &Path) -> Self {
        let inputs = if !a.paths.is_empty() {
            Inputs::Files(a.paths.clone())
        } else if cwd.join(PROJECT_FILE).is_file() {
            Inputs::Files(vec![PathBuf::from(PROJECT_FILE)])
        } else {
            Inputs::BuiltinMatrix
        };
        let fail_on = (!a.no_fail).then_some(match a.fail_on {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Note => Severity::Note,
        });
        CheckOptions {
            inputs,
            format: a.format,
            fail_on,
            input: input::Options {
                lb_patterns: a.lb.clone(),
                ..(&a.input).into()
            },
        }
    }
}

/// Runs a parsed command line, writing the result to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    match cli.command {
        Command::Check(a) => {
            let cwd = std::env::current_dir().context("cannot read the working directory")?;
            check(&CheckOptions::from_args(&a, &cwd), out)
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

/// Indices of the LBs a command runs on: all, or the one named by `--lb`.
fn pick_lbs(sc: &Scenario, name: Option<&str>) -> Result<Vec<usize>> {
    match name {
        None => Ok((0..sc.lbs.len()).collect()),
        Some(name) => sc
            .lbs
            .iter()
            .position(|l| l.name == name)
            .map(|i| vec![i])
            .ok_or_else(|| {
                let names: Vec<_> = sc.lbs.iter().map(|l| l.name.as_str()).collect();
                anyhow!(
                    "{}: no load balancer named \"{name}\"; the scenario has: {}",
                    sc.file,
                    names.join(", ")
                )
            }),
    }
}

/// `graceline simulate`: Monte Carlo per LB, with a progress bar on stderr (a terminal only) once a
/// run has taken a second.
fn simulate_cmd(a: &SimulateArgs, out: &mut dyn Write) -> Result<Exit> {
    use crate::analysis::montecarlo::{sample, LbDistribution, SimulateOptions};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    let sc = scenario::load_file(&a.path)?;
    let picked = pick_lbs(&sc, a.lb.as_deref())?;
    let opts = SimulateOptions {
        trials: a.trials,
        seed: a.seed,
    };
    let pb = ProgressBar::with_draw_target(Some(a.trials * picked.len() as u64), ProgressDrawTarget::hidden());
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
    let dists: Vec<(usize, LbDistribution)> = picked
        .iter()
        .map(|&i| {
            let mut s = sample(&sc, i, &opts, &progress);
            (i, LbDistribution::from_samples(&sc, &sc.lbs[i], &mut s, &opts))
        })
        .collect();
    pb.finish_and_clear();
    let text = crate::output::simulate::render(&sc, &dists, a.format);
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

/// `graceline recommend`.
fn recommend_cmd(a: &RecommendArgs, out: &mut dyn Write) -> Result<Exit> {
    let sc = scenario::load_file(&a.path)?;
    let picked = pick_lbs(&sc, a.lb.as_deref())?;
    let recs: Vec<_> = picked
        .iter()
        .map(|&i| {
            let lb = &sc.lbs[i];
            (lb.family, crate::analysis::recommend::recommend(&sc, lb))
        })
        .collect();
    let text = crate::output::recommend::render(&sc, &recs, a.format);
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Exit::Clean)
}

fn load_all(inputs: &Inputs, opts: &input::Options) -> Result<Vec<Scenario>> {
    match inputs {
        Inputs::BuiltinMatrix => match input::named_server(opts)? {
            Some(named) => Ok(scenario::builtin_matrix_for(&named)?),
            None => Ok(scenario::builtin_matrix()),
        },
        Inputs::Files(paths) => input::load(paths, opts),
    }
}

/// `graceline check`.
pub fn check(o: &CheckOptions, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = load_all(&o.inputs, &o.input)?;
    let reports = analyze_all(&scenarios);
    let skipped = scenarios
        .iter()
        .flat_map(|s| s.skipped.iter().map(|k| (s.name.clone(), k.clone())))
        .collect();
    let ctx = ExportContext {
        fail_on: o.fail_on,
        skipped,
    };
    let text = exporter(o.format).render(&reports, &ctx);
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    let failing = o
        .fail_on
        .is_some_and(|min| reports.iter().flat_map(|r| &r.findings).any(|f| f.severity >= min));
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}

fn explain_cmd(a: &ExplainArgs, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = input::load(std::slice::from_ref(&a.path), &(&a.input).into())?;
    let all: Vec<_> = scenarios
        .iter()
        .flat_map(|sc| sc.lbs.iter().map(move |lb| (sc, lb)))
        .collect();
    let chosen: Vec<_> = match &a.lb {
        Some(name) => {
            let found: Vec<_> = all.iter().filter(|(_, l)| &l.name == name).copied().collect();
            if found.is_empty() {
                let names: Vec<_> = all.iter().map(|(_, l)| l.name.as_str()).collect();
                return Err(anyhow!(
                    "{}: no load balancer named \"{name}\"; the input has: {}",
                    a.path.display(),
                    names.join(", ")
                ));
            }
            found
        }
        None => all,
    };
    for (i, (sc, lb)) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(72))?;
        }
        out.write_all(explain(sc, lb)?.as_bytes())?;
    }
    Ok(Exit::Clean)
}

fn report_cmd(a: &ReportArgs, out: &mut dyn Write) -> Result<Exit> {
    let scenarios: Vec<Scenario> = a.paths.iter().map(|p| scenario::load_file(p)).collect::<Result<_>>()?;
    let opts = crate::output::report::ReportOptions {
        trials: a.trials,
        seed: a.seed,
    };
    for f in crate::output::report::write_report(&scenarios, &a.output_dir, &opts)? {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(Exit::Clean)
}

fn timeline_cmd(a: &TimelineArgs, out: &mut dyn Write) -> Result<Exit> {
    let format = ImageFormat::from_path(&a.output)?;
    let sc = scenario::load_file(&a.path)?;
    render_timeline(&sc, a.lb.as_deref(), format, &a.output)?;
    writeln!(out, "wrote {}", a.output.display())?;
    Ok(Exit::Clean)
}

fn profiles_cmd(a: &ProfilesArgs, out: &mut dyn Write) -> Result<Exit> {
    match &a.name {
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
