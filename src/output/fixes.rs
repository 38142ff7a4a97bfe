//! Paste-ready fixes in the input's own syntax, and `check --fix-diff`: a unified diff that
//! `git apply` takes.
//!
//! What a diff can change is the server's shutdown: the shutdown delay (E3 - E2) and the grace
//! period before SIGKILL, which GL001 and GL004 ask to raise. They are written where the server
//! was read: a scenario file's `[server]` (`shutdown_delay = "4m31s"`), or a kube-apiserver
//! static pod (`- --shutdown-delay-duration=4m31s`, `terminationGracePeriodSeconds: 331`). A
//! value the input wrote is replaced in place; a value it left to the default is added beside
//! what is there (under `[server]`, after `- kube-apiserver`, under `spec:`). A server named by a
//! built-in profile has no file to change: its findings keep their `help:` text only.

use crate::analysis::findings::Rule;
use crate::analysis::outcome::Outcome;
use crate::error::Loc;
use crate::time::Micros;
use crate::timeline::ServerSpec;
use std::collections::BTreeMap;

/// What a fix needs of a scenario: its name, its server and where each server setting was read.
#[derive(Debug, Clone)]
pub struct ServerOf {
    /// Scenario name.
    pub name: String,
    /// Its server.
    pub server: ServerSpec,
    /// Where each server setting was read.
    pub locs: BTreeMap<&'static str, Loc>,
}

impl ServerOf {
    /// The server part of every scenario of the groups (the load balancers are left behind).
    pub fn of(groups: &[crate::scenario::group::Group]) -> Vec<ServerOf> {
        groups
            .iter()
            .flat_map(|g| &g.scenarios)
            .map(|s| ServerOf {
                name: s.name.clone(),
                server: s.server.clone(),
                locs: s.server_locs.clone(),
            })
            .collect()
    }
}

/// One change to one line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The file, as findings name it (relative to the working directory).
    pub file: String,
    /// 1-based line the edit replaces, or after which it inserts.
    pub line: usize,
    /// True: insert `text` as a new line after `line`; false: replace line `line` by `text`.
    pub insert: bool,
    /// The new line, indentation included.
    pub text: String,
    /// The scenario whose findings it fixes.
    pub scenario: String,
}

impl Edit {
    /// Where the fix goes, then the line to paste (never wrapped): `fix: replace line 7 of
    /// FILE with:` and the text.
    pub fn paste(&self) -> String {
        let what = if self.insert { "add after line" } else { "replace line" };
        format!("fix: {what} {} of {}:\n{}", self.line, self.file, self.text)
    }
}

/// Whether a rule's fix is the server's shutdown (the values a diff can write).
pub fn fixes_rule(rule: Rule) -> bool {
    matches!(rule, Rule::GL001 | Rule::GL004)
}

/// Whether a Kubernetes path's finding is fixed by the pod's preStop sleep and grace period.
pub fn fixes_path_rule(rule: Rule) -> bool {
    matches!(rule, Rule::GL030 | Rule::GL041 | Rule::GL004)
}

/// The key path edits are filed under (`Edit::scenario`): the workload.
pub fn path_key(target: &crate::scenario::k8s::Target) -> String {
    format!("path:{}:{}", target.file, target.name)
}

/// The edits that give a workload the preStop sleep and grace period its failing paths ask for:
/// the number of an existing `sleep N` / `seconds: N` replaced, or a `lifecycle.preStop.sleep`
/// added to the container; `terminationGracePeriodSeconds` replaced, or added to the pod spec.
fn path_edits(o: &Outcome) -> Vec<Edit> {
    use crate::scenario::k8s::Prestop;
    let mut wanted: BTreeMap<String, (&crate::scenario::k8s::Target, Option<Micros>, Option<Micros>)> = BTreeMap::new();
    for p in &o.paths {
        if !p.findings.iter().any(|f| fixes_path_rule(f.rule)) {
            continue;
        }
        let w = wanted.entry(path_key(&p.target)).or_insert((&p.target, None, None));
        w.1 = w.1.max(p.recommended_prestop);
        w.2 = w.2.max(p.recommended_grace);
    }
    let re = regex::Regex::new(r"(sleep\s+|seconds:\s*)(\d+)").expect("a valid regex");
    let mut out = Vec::new();
    for (key, (t, prestop, grace)) in wanted {
        let Some(lines) = lines_of(&t.file) else { continue };
        let edit = |line: usize, insert: bool, text: String| Edit {
            file: t.file.clone(),
            line,
            insert,
            text,
            scenario: key.clone(),
        };
        if let Some(want) = prestop.filter(|p| *p > t.server.prestop_sleep) {
            let secs = ceil_secs(want);
            match &t.prestop {
                Prestop::Sleep { loc, .. } => {
                    let idx = (loc.line as usize).saturating_sub(1);
                    if let Some(at) = lines.get(idx) {
                        if re.is_match(at) {
                            let text = re.replace(at, format!("${{1}}{secs}")).into_owned();
                            out.push(edit(idx + 1, false, text));
                        }
                    }
                }
                Prestop::None => {
                    let idx = (t.container_loc.line as usize).saturating_sub(1);
                    let pad = " ".repeat((t.container_loc.column as usize).saturating_sub(1));
                    out.push(edit(
                        idx + 1,
                        true,
                        format!("{pad}lifecycle:\n{pad}  preStop:\n{pad}    sleep:\n{pad}      seconds: {secs}"),
                    ));
                }
                Prestop::Unknown { .. } => {}
            }
        }
        let now = t.server.termination_grace_period;
        if let Some(want) = grace.filter(|g| *g > now) {
            let idx = (t.grace_loc.line as usize).saturating_sub(1);
            if let Some(at) = lines.get(idx) {
                let text = format!("terminationGracePeriodSeconds: {}", ceil_secs(want));
                if !t.grace_defaulted && at.contains("terminationGracePeriodSeconds:") {
                    out.push(edit(idx + 1, false, format!("{}{text}", indent_of(at))));
                } else if let Some(next) = lines.get(idx + 1) {
                    out.push(edit(idx + 1, true, format!("{}{text}", indent_of(next))));
                }
            }
        }
    }
    out
}

fn lines_of(file: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    Some(text.lines().map(str::to_string).collect())
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Whole seconds, rounded up (terminationGracePeriodSeconds is an integer).
fn ceil_secs(m: Micros) -> i64 {
    (m.0 + 999_999).div_euclid(1_000_000)
}

/// The edits that raise a scenario's shutdown delay to `delay` and its grace period to `grace`.
fn edits_for(sc: &ServerOf, delay: Option<Micros>, grace: Option<Micros>) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut push = |key: &str, value: Micros| {
        let Some(loc) = sc.locs.get(key) else { return };
        if loc.file.starts_with("builtin:") || loc.file == crate::error::STDIN_NAME {
            return;
        }
        let Some(lines) = lines_of(&loc.file) else { return };
        let idx = (loc.line as usize).saturating_sub(1);
        let Some(at) = lines.get(idx) else { return };
        let edit = |line: usize, insert: bool, text: String| Edit {
            file: loc.file.clone(),
            line,
            insert,
            text,
            scenario: sc.name.clone(),
        };
        let yaml = matches!(
            crate::input::registry::family_of_name(&loc.file),
            Some(crate::input::registry::Family::Yaml)
        );
        let e = if yaml {
            match key {
                "shutdown_delay" if at.contains("--shutdown-delay-duration") => {
                    let start = at.find("--shutdown-delay-duration").unwrap_or(0);
                    Some(edit(
                        idx + 1,
                        false,
                        format!("{}--shutdown-delay-duration={value}", &at[..start]),
                    ))
                }
                // The flag is absent: added after the command's first word.
                "shutdown_delay" => lines
                    .iter()
                    .enumerate()
                    .skip(idx)
                    .find(|(_, l)| l.trim() == "- kube-apiserver")
                    .map(|(i, l)| {
                        edit(
                            i + 1,
                            true,
                            format!("{}- --shutdown-delay-duration={value}", indent_of(l)),
                        )
                    }),
                "termination_grace_period" if at.contains("terminationGracePeriodSeconds:") => Some(edit(
                    idx + 1,
                    false,
                    format!("{}terminationGracePeriodSeconds: {}", indent_of(at), ceil_secs(value)),
                )),
                // Absent: the finding points at `spec:`; added as its first field.
                "termination_grace_period" if at.trim_start().starts_with("spec:") => lines.get(idx + 1).map(|next| {
                    edit(
                        idx + 1,
                        true,
                        format!("{}terminationGracePeriodSeconds: {}", indent_of(next), ceil_secs(value)),
                    )
                }),
                _ => None,
            }
        } else if at.trim_start().starts_with(key)
            && at[at.find(key).unwrap_or(0) + key.len()..]
                .trim_start()
                .starts_with('=')
        {
            Some(edit(idx + 1, false, format!("{}{key} = \"{value}\"", indent_of(at))))
        } else {
            // A profile default: added under the file's [server] table, if it has one.
            lines
                .iter()
                .position(|l| l.trim() == "[server]")
                .map(|i| edit(i + 1, true, format!("{key} = \"{value}\"")))
        };
        out.extend(e);
    };
    if let Some(d) = delay.filter(|d| *d > sc.server.shutdown_delay) {
        push("shutdown_delay", d);
    }
    if let Some(g) = grace.filter(|g| *g > sc.server.termination_grace_period) {
        push("termination_grace_period", g);
    }
    out
}

/// The edits that fix the GL001 and GL004 findings of the outcome (per scenario, the largest
/// shutdown delay and grace period its failing load balancers ask for) and the GL030/GL041
/// findings of its Kubernetes paths (per workload, the preStop sleep and grace period).
pub fn plan(scenarios: &[ServerOf], o: &Outcome) -> Vec<Edit> {
    // Per scenario: the delay its failing LBs ask for, and whether SIGKILL cuts the drain.
    let mut wanted: BTreeMap<&str, (Option<Micros>, Option<Micros>, bool)> = BTreeMap::new();
    for r in &o.lbs {
        if !r.findings.iter().any(|f| fixes_rule(f.rule)) {
            continue;
        }
        let w = wanted.entry(r.scenario.as_str()).or_default();
        w.0 = w.0.max(r.recommended_shutdown_delay);
        w.1 = w.1.max(r.recommended_termination_grace_period);
        w.2 |= r.findings.iter().any(|f| f.rule == Rule::GL004);
    }
    let mut out: Vec<Edit> = Vec::new();
    for sc in scenarios {
        let Some((d, g, kill)) = wanted.get(sc.name.as_str()) else {
            continue;
        };
        // The grace period the (new) delay needs to drain before SIGKILL (GL004's formula).
        let mut after = sc.server.clone();
        after.shutdown_delay = after.shutdown_delay.max(d.unwrap_or(Micros::ZERO));
        let drain = crate::analysis::rules::grace::full_drain(&after);
        let grace = if *kill || drain > sc.server.termination_grace_period {
            Some(g.unwrap_or(Micros::ZERO).max(drain))
        } else {
            *g
        };
        for e in edits_for(sc, *d, grace) {
            // Scenarios sharing a server file (one manifest, several LBs) ask once.
            if !out
                .iter()
                .any(|x| x.file == e.file && x.line == e.line && x.insert == e.insert)
            {
                out.push(e);
            }
        }
    }
    for e in path_edits(o) {
        if !out
            .iter()
            .any(|x| x.file == e.file && x.line == e.line && x.insert == e.insert)
        {
            out.push(e);
        }
    }
    out
}

/// The paste-ready fix lines of a scenario, for its GL001/GL004 findings.
pub fn paste_lines(edits: &[Edit], scenario: &str) -> Vec<String> {
    edits
        .iter()
        .filter(|e| e.scenario == scenario)
        .map(Edit::paste)
        .collect()
}

/// A unified diff (`--- a/FILE` / `+++ b/FILE`, three lines of context) of every edit, files in
/// name order; empty when there is nothing to change.
pub fn diff(edits: &[Edit]) -> std::io::Result<String> {
    let mut files: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
    for e in edits {
        files.entry(e.file.as_str()).or_default().push(e);
    }
    let mut out = String::new();
    for (file, es) in files {
        let old = std::fs::read_to_string(file)?;
        let lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut new = String::new();
        for (i, l) in lines.iter().enumerate() {
            let replaced = es.iter().find(|e| !e.insert && e.line == i + 1);
            match replaced {
                Some(e) => {
                    new.push_str(&e.text);
                    new.push('\n');
                }
                None => new.push_str(l),
            }
            for e in es.iter().filter(|e| e.insert && e.line == i + 1) {
                new.push_str(&e.text);
                new.push('\n');
            }
        }
        let path = file.trim_start_matches("./");
        let d = similar::TextDiff::from_lines(&old, &new);
        out.push_str(
            &d.unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(ceil_secs(Micros::from_secs(331)), 331);
        assert_eq!(ceil_secs(Micros(331_000_001)), 332);
    }
}
