//! One input pipeline for every analysing command (`check`, `explain`, `simulate`, `recommend`,
//! `timeline`, `report`): raw [`InputArgs`] are resolved once into [`InputOptions`], which load
//! the inputs into scenarios (the resolved model) and narrow them to the `--lb` selection.

use super::args::InputArgs;
use super::PROJECT_FILE;
use crate::input;
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
}

/// What to tell a user who gave a command nothing to read.
pub fn nothing_to_read(command: &str) -> String {
    format!(
        "nothing to {command}: pass the files to read (haproxy.cfg, Kubernetes Service YAML, `terraform show -json` output, kube-apiserver manifests, scenario files; `-` reads standard input with --input-kind) or run it where a {PROJECT_FILE} is"
    )
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
        Ok(InputOptions {
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
            },
        })
    }

    /// Loads the inputs into scenarios narrowed to `--lb`; with nothing to read, an error that says
    /// what `command` needs.
    pub fn load(&self, command: &str) -> Result<Vec<Scenario>> {
        match &self.sources {
            Sources::Nothing => bail!(nothing_to_read(command)),
            Sources::Files(paths) => select(input::load(paths, &self.input)?, &self.input.lb_patterns),
        }
    }
}

/// Keeps the load balancers whose name matches one of `patterns` (all when empty) and the
/// scenarios that still have one; an error when nothing matches.
pub fn select(scenarios: Vec<Scenario>, patterns: &[String]) -> Result<Vec<Scenario>> {
    if patterns.is_empty() {
        return Ok(scenarios);
    }
    let globs = patterns
        .iter()
        .map(|p| glob::Pattern::new(p).map_err(|e| anyhow!("--lb {p}: not a valid glob pattern: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = scenarios
        .iter()
        .flat_map(|s| s.lbs.iter().map(|l| l.name.clone()))
        .collect();
    let picked: Vec<Scenario> = scenarios
        .into_iter()
        .filter_map(|mut s| {
            s.lbs.retain(|l| globs.iter().any(|g| g.matches(&l.name)));
            (!s.lbs.is_empty()).then_some(s)
        })
        .collect();
    if picked.is_empty() {
        const SHOWN: usize = 20;
        let mut list = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if names.len() > SHOWN {
            list.push_str(&format!(" and {} more", names.len() - SHOWN));
        }
        bail!(
            "no load balancer matches --lb {}; the inputs have: {}",
            patterns.join(" --lb "),
            if list.is_empty() { "none".to_string() } else { list }
        );
    }
    Ok(picked)
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
        let haproxy = select(all.clone(), &["haproxy*".to_string()]).unwrap();
        assert!(n(&haproxy) > 0 && n(&haproxy) < total);
        assert!(haproxy
            .iter()
            .flat_map(|s| &s.lbs)
            .all(|l| l.name.starts_with("haproxy")));
        assert_eq!(n(&select(all.clone(), &[]).unwrap()), total);
        let e = select(all, &["nope".to_string()]).unwrap_err().to_string();
        assert!(e.contains("no load balancer matches --lb nope"), "{e}");
    }
}
