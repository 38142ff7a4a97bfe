//! Command line: raw flags (`args`), resolved options and the commands that run them.

pub mod args;

use crate::analysis::{analyze_all, explain::explain, findings::Severity};
use crate::input;
use crate::output::{exporter, Format};
use crate::profiles::{self, Profile};
use crate::scenario::{self, Scenario};
use anyhow::{anyhow, bail, Context, Result};
pub use args::{CheckArgs, Cli, Command, ExplainArgs, FailOn, InputArgs, ProfilesArgs};
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
            input: (&a.input).into(),
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
    }
}

fn load_all(inputs: &Inputs, opts: &input::Options) -> Result<Vec<Scenario>> {
    match inputs {
        Inputs::BuiltinMatrix => Ok(scenario::builtin_matrix()),
        Inputs::Files(paths) => input::load(paths, opts),
    }
}

/// `graceline check`.
pub fn check(o: &CheckOptions, out: &mut dyn Write) -> Result<Exit> {
    let scenarios = load_all(&o.inputs, &o.input)?;
    let reports = analyze_all(&scenarios);
    let text = exporter(o.format).render(&reports);
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
