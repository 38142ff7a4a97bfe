//! One input pipeline for every analysing command (`check`, `explain`, `simulate`, `recommend`,
//! `timeline`, `report`): raw [`InputArgs`] are resolved once into [`InputOptions`], which load
//! the inputs into the model (groups of scenarios and Kubernetes bindings) and narrow them to the
//! `--lb` selection.

use super::args::InputArgs;
use super::PROJECT_FILE;
use crate::input;
use crate::scenario::group::Group;
use crate::scenario::Scenario;
use anyhow::{anyhow, bail, Result};
use std::path::{Path, PathBuf};

/// Where a command's scenarios come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// These paths (`-` is standard input), or `./graceline.toml`.
    Files(Vec<PathBuf>),
    /// No path and no `./graceline.toml`.
    Nothing,
}

/// Inputs resolved from raw flags and the working directory.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// What to read.
    pub sources: Sources,
    /// How to read it (kind, server, cloud, `--lb` patterns).
    pub input: input::Options,
    /// `--set` overrides, applied to the loaded model.
    pub sets: Vec<crate::scenario::overrides::Set>,
}

/// What to tell a user who gave a command nothing to read.
pub fn nothing_to_read(command: &str) -> String {
    format!(
        "nothing to {command}: pass the files to read (haproxy.cfg, Kubernetes Service YAML, `terraform show -json` output, kube-apiserver manifests, scenario files; `-` reads standard input with --input-kind) or run it where a {PROJECT_FILE} is"
    )
}

/// Every rule id of the rule table, for the readers' `[[ignore]]` validation.
pub fn rule_ids() -> Vec<&'static str> {
    crate::analysis::findings::RULES
        .iter()
        .chain(crate::analysis::findings::PATH_RULES.iter())
        .map(|r| r.id())
        .collect()
}

impl InputOptions {
    /// Resolves raw flags: the paths given, else `./graceline.toml` if `cwd` has one, else nothing.
    /// Refuses `-` twice and `--lb` patterns that are not valid globs.
    pub fn from_cli_arguments(a: &InputArgs, cwd: &Path) -> Result<Self> {
        if a.paths.iter().filter(|p| input::is_stdin(p)).count() > 1 {
            bail!("`-` (standard input) is given more than once; it can be read only once");
        }
        for p in &a.lb {
            glob::Pattern::new(p).map_err(|e| anyhow!("--lb {p}: not a valid glob pattern: {e}"))?;
        }
        let sources = if !a.paths.is_empty() {
            Sources::Files(a.paths.clone())
        } else if cwd.join(PROJECT_FILE).is_file() {
            Sources::Files(vec![PathBuf::from(PROJECT_FILE)])
        } else {
            Sources::Nothing
        };
        let sets = a
            .set
            .iter()
            .map(|s| crate::scenario::overrides::parse(s))
            .collect::<Result<Vec<_>>>()?;
        Ok(InputOptions {
            sets,
            sources,
            input: input::Options {
                kind: a.input_kind,
                server: a.server.clone(),
                cloud: a.cloud,
                allow_empty: a.allow_empty,
                lb_patterns: a.lb.clone(),
                haproxy_env: a.haproxy_env.clone(),
                haproxy_version: a.haproxy_version.clone(),
                haproxy_join: a.haproxy_join,
                propagation_tier: a.propagation.map(|p| p.tier()),
                termination: a.termination,
                dataplane: a.dataplane,
                walk: input::walk::WalkOptions {
                    max_depth: a.max_depth.map(|d| d as usize),
                    exclude: a.exclude.clone(),
                },
                rule_ids: rule_ids(),
            },
        })
    }

    /// Loads the inputs into the model narrowed to `--lb`; with nothing to read, an error that
    /// says what `command` needs.
    /// Every override applied is said on stderr (the check formats list them in the output).
    pub fn load(&self, command: &str) -> Result<Vec<Group>> {
        let loaded = self.load_all(command)?;
        for a in &loaded.overrides {
            eprintln!("{a}");
        }
        Ok(loaded.groups)
    }

    /// [`Self::load`], with the files read and the project files' `[[ignore]]` entries.
    pub fn load_all(&self, command: &str) -> Result<input::Loaded> {
        match &self.sources {
            Sources::Nothing => bail!(nothing_to_read(command)),
            Sources::Files(paths) => {
                let mut loaded = input::load_all(paths, &self.input)?;
                for e in &loaded.bad {
                    eprintln!("error: {e}");
                }
                note_bad_inputs(loaded.bad.len());
                let judged = loaded
                    .groups
                    .iter()
                    .any(|g| !g.scenarios.is_empty() || !g.bindings.is_empty() || !g.ingresses.is_empty());
                if !loaded.bad.is_empty() && !judged {
                    take_bad_inputs();
                    bail!(
                        "{} input file(s) could not be read (above) and nothing else was left to judge",
                        loaded.bad.len()
                    );
                }
                loaded.groups = select(loaded.groups, &self.input.lb_patterns)?;
                loaded.overrides = apply_sets(&self.sets, &mut loaded.groups)?;
                Ok(loaded)
            }
        }
    }
}

/// Applies `--set` to every scenario of the groups and to the pods of their Kubernetes paths.
pub fn apply_sets(
    sets: &[crate::scenario::overrides::Set],
    groups: &mut [Group],
) -> Result<Vec<crate::scenario::overrides::Applied>> {
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let mut scenarios: Vec<&mut Scenario> = Vec::new();
    let mut pods = crate::scenario::overrides::Pods::default();
    for g in groups.iter_mut() {
        let (s, p) = g.scenarios_and_pods_mut();
        scenarios.extend(s);
        pods.targets.extend(p.targets);
        pods.apiservers.extend(p.apiservers);
    }
    crate::scenario::overrides::apply(sets, &mut scenarios, &mut pods)
}

thread_local! {
    /// Walked files this run could not read: reported as they are met, the exit code is 2 after
    /// the rest has been judged and written.
    static BAD_INPUTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn note_bad_inputs(n: usize) {
    BAD_INPUTS.with(|c| c.set(c.get() + n));
}

/// How many walked files this thread's run could not read, resetting the count.
pub fn take_bad_inputs() -> usize {
    BAD_INPUTS.with(|c| c.replace(0))
}

/// Keeps the load balancers whose name matches one of `patterns` (all when empty), also in groups
/// whose `select =` chose before; an error when no load balancer and no path is left.
pub fn select(mut groups: Vec<Group>, patterns: &[String]) -> Result<Vec<Group>> {
    if patterns.is_empty() {
        return Ok(groups);
    }
    let globs = compile(patterns)?;
    let names: Vec<String> = groups.iter().flat_map(|g| g.lbs().map(|l| l.name.clone())).collect();
    for g in &mut groups {
        retain(&mut g.scenarios, &globs);
    }
    let paths = groups.iter().any(|g| !g.bindings.is_empty() || !g.ingresses.is_empty());
    if !paths && groups.iter().all(|g| g.scenarios.is_empty()) {
        bail!(no_match(patterns, &names));
    }
    Ok(groups)
}

/// [`select`] on scenarios alone (the built-in matrices): an error when nothing matches.
pub fn select_scenarios(mut scenarios: Vec<Scenario>, patterns: &[String]) -> Result<Vec<Scenario>> {
    if patterns.is_empty() {
        return Ok(scenarios);
    }
    let globs = compile(patterns)?;
    let names: Vec<String> = scenarios
        .iter()
        .flat_map(|s| s.lbs.iter().map(|l| l.name.clone()))
        .collect();
    retain(&mut scenarios, &globs);
    if scenarios.is_empty() {
        bail!(no_match(patterns, &names));
    }
    Ok(scenarios)
}

fn compile(patterns: &[String]) -> Result<Vec<glob::Pattern>> {
    patterns
        .iter()
        .map(|p| glob::Pattern::new(p).map_err(|e| anyhow!("--lb {p}: not a valid glob pattern: {e}")))
        .collect()
}

fn retain(scenarios: &mut Vec<Scenario>, globs: &[glob::Pattern]) {
    for s in scenarios.iter_mut() {
        s.lbs.retain(|l| globs.iter().any(|g| g.matches(&l.name)));
    }
    scenarios.retain(|s| !s.lbs.is_empty());
}

fn no_match(patterns: &[String], names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut list = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    let words: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let options: Vec<&str> = names.iter().map(String::as_str).collect();
    format!(
        "no load balancer matches --lb {}{}; the inputs have: {}",
        patterns.join(" --lb "),
        crate::scenario::words::did_you_mean(&words, &options),
        if list.is_empty() { "none".to_string() } else { list }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(paths: &[&str], lb: &[&str]) -> InputArgs {
        InputArgs {
            paths: paths.iter().map(PathBuf::from).collect(),
            lb: lb.iter().map(|s| s.to_string()).collect(),
            input_kind: None,
            server: None,
            cloud: None,
            allow_empty: false,
            haproxy_env: Vec::new(),
            haproxy_version: None,
            haproxy_join: false,
            propagation: None,
            termination: None,
            dataplane: None,
            max_depth: None,
            exclude: Vec::new(),
            set: Vec::new(),
        }
    }

    #[test]
    fn no_path_reads_the_project_file_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let o = InputOptions::from_cli_arguments(&args(&[], &[]), dir.path()).unwrap();
        assert_eq!(o.sources, Sources::Nothing);
        assert!(o
            .load("simulate")
            .unwrap_err()
            .to_string()
            .contains("nothing to simulate"));
        std::fs::write(dir.path().join(PROJECT_FILE), "").unwrap();
        let o = InputOptions::from_cli_arguments(&args(&[], &[]), dir.path()).unwrap();
        assert_eq!(o.sources, Sources::Files(vec![PathBuf::from(PROJECT_FILE)]));
    }

    #[test]
    fn stdin_twice_and_bad_globs_are_refused() {
        let cwd = Path::new(".");
        assert!(InputOptions::from_cli_arguments(&args(&["-", "-"], &[]), cwd).is_err());
        let e = InputOptions::from_cli_arguments(&args(&["x"], &["a[b"]), cwd).unwrap_err();
        assert!(e.to_string().contains("--lb a[b"), "{e}");
    }

    #[test]
    fn lb_globs_narrow_the_scenarios() {
        let all = crate::scenario::builtin_matrix();
        let n = |v: &[Scenario]| v.iter().map(|s| s.lbs.len()).sum::<usize>();
        let total = n(&all);
        let haproxy = select_scenarios(all.clone(), &["haproxy*".to_string()]).unwrap();
        assert!(n(&haproxy) > 0 && n(&haproxy) < total);
        assert!(haproxy
            .iter()
            .flat_map(|s| &s.lbs)
            .all(|l| l.name.starts_with("haproxy")));
        assert_eq!(n(&select_scenarios(all.clone(), &[]).unwrap()), total);
        let e = select_scenarios(all, &["nope".to_string()]).unwrap_err().to_string();
        assert!(e.contains("no load balancer matches --lb nope"), "{e}");
    }
}
