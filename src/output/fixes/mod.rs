//! Paste-ready fixes in the input's own syntax, and `check --fix-diff`: a unified diff that
//! `git apply` takes.
//!
//! What a diff can change:
//! - The server's shutdown: the shutdown delay (E3 - E2) and the grace period before SIGKILL,
//!   which GL001 and GL004 ask to raise. They are written where the server was read: a scenario
//!   file's `[server]` (`shutdown_delay = "4m31s"`), or a kube-apiserver static pod
//!   (`- --shutdown-delay-duration=4m31s`, `terminationGracePeriodSeconds: 331`). A value the input
//!   wrote is replaced in place; a value it left to the default is added beside what is there
//!   (under `[server]`, after `- kube-apiserver`, under `spec:`). A server named by a built-in
//!   profile has no file to change: its findings keep their `help:` text only.
//! - A workload's preStop sleep and grace period (GL030/GL041 of its Kubernetes paths, GL004):
//!   the number of a `sleep N` / `seconds: N` replaced, or `lifecycle.preStop.sleep` added. A
//!   preStop that is not a plain sleep is changed only when it is a shell script
//!   (`["sh", "-c", "<script>"]`, `/bin/sh`, `bash`, flow or block style): the `sleep N` the script
//!   starts with gets the new number, or `sleep N; ` is put in front of the script. Any other hook
//!   is left alone and its findings say so (`fix: not in --fix-diff`).
//! - The load balancer's own check, where it was read (HAProxy lines, the annotations of a
//!   Kubernetes Service in YAML, a scenario file's `[[lb]]` table): GL003 (an HTTP(S) check of the
//!   server's readiness path, HTTPS for a kube-apiserver; a success matcher of 200-399),
//!   GL001/GL002 when the printed fix is a check setting (the server has no file to change: the
//!   first "detect faster" alternative graceline prints), GL006 (connection termination off, with
//!   an unhealthy draining interval that covers the drain). Each is checked on the model first:
//!   the load balancer rebuilt with the new settings (as `--set` does) and judged again must be
//!   clean of the rules it fixes, else nothing is written for them. In an haproxy.cfg: the
//!   `inter`/`fall`/`fastinter` token replaced (on the `server` or `default-server` line that set
//!   it) or added to the `server` line, `option httpchk GET /readyz` added after the
//!   `backend`/`listen` line (with `check-ssl verify none` on the `server` line for HTTPS), the
//!   `option httpchk` URI or the `http-check expect` rule replaced. In a Service: the annotation
//!   the value was read from rewritten, or a new one added under `metadata.annotations` (AWS
//!   `service.beta.kubernetes.io/aws-load-balancer-healthcheck-*` and `-target-group-attributes`,
//!   Azure `service.beta.kubernetes.io/azure-load-balancer-health-probe-*` or
//!   `port_<port>_health-probe_*` for a Service with several ports). In a scenario file's
//!   `[[lb]]` table (any provider): the key's value replaced where the table writes it (the
//!   indentation and a trailing comment kept), else `key = value` added after the table's
//!   `profile =` line, typed as the scenario reader takes it (`interval = "5s"`,
//!   `unhealthy_threshold = 2`, `protocol = "https"`, `path = "/readyz"`,
//!   `matcher = "200-399"`, `connection_termination = false`; the provider's own keys such as
//!   `fall` or `check_interval` alike). GCP Services carry no health-check annotations and
//!   Terraform is not written: their findings keep their `help:` text. A GKE BackendConfig's
//!   `healthCheck` is not written either: it is the other way a NEG endpoint leaves (an
//!   alternative of a Kubernetes path, `paths::build`), so its findings are the path's
//!   GL030/GL041, fixed by the pod's preStop; no load-balancer row with GL001/GL002/GL003 is ever
//!   built from it.
//!
//! The server's two settings added under one `[server]` make one edit, as several findings on
//! one line do; an edit of the load balancer never touches a line a server edit changes. Files
//! are read through [`lines_of`] and their syntax told by [`syntax_of`] only.
//!
//! This module plans and assembles; one submodule per part writes: `server` (a server's
//! shutdown), `pod` (a workload's preStop and grace period), `lb` (which check settings change,
//! judged again on the model), and the check's syntaxes `haproxy`, `service` (annotations) and
//! `lb_table` (a scenario file's `[[lb]]`).

use super::{Reported, Subject};
use crate::analysis::findings::{Rule, Severity};
use crate::analysis::outcome::Outcome;
use crate::analysis::LbReport;
use crate::error::Loc;
use crate::provider::{LbSettings, Located, OwnType, Protocol};
use crate::scenario::sources::{self, Texts};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::ServerSpec;
use std::collections::{BTreeMap, HashMap};

mod haproxy;
mod lb;
mod lb_table;
mod pod;
mod server;
mod service;

use haproxy::*;
use lb::*;
use lb_table::*;
use pod::*;
use server::*;
use service::*;

/// What a fix needs of a scenario: its name, its server and where each server setting was read.
#[derive(Debug, Clone)]
pub struct ServerOf {
    /// Scenario name.
    pub name: String,
    /// Its server.
    pub server: ServerSpec,
    /// Where each server setting was read.
    pub locs: BTreeMap<&'static str, Loc>,
    /// The scenario holding only its load balancers whose settings a diff can write (HAProxy
    /// lines, Service annotations in YAML, scenario `[[lb]]` tables), to judge them again with the
    /// fix; `None` without any.
    pub editable: Option<Box<Scenario>>,
}

impl ServerOf {
    /// The server part of every scenario of the groups (the load balancers are left behind).
    pub fn of(groups: &[crate::scenario::group::Group], texts: &Texts) -> Vec<ServerOf> {
        groups
            .iter()
            .flat_map(|g| &g.scenarios)
            .map(|s| ServerOf {
                name: s.name.clone(),
                server: s.server.clone(),
                locs: s.server_locs.clone(),
                editable: s.lbs.iter().any(|lb| lb_syntax(lb, texts).is_some()).then(|| {
                    let mut c = s.clone();
                    c.lbs.retain(|lb| lb_syntax(lb, texts).is_some());
                    Box::new(c)
                }),
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
    /// The new line, indentation included (several lines for an insert); for an edit that is not
    /// written, why.
    pub text: String,
    /// The scenario (or `path:` workload key) whose server findings it fixes; empty for an edit
    /// of a load balancer's check.
    pub scenario: String,
    /// The load balancers' findings it fixes: ([`lb_key`], rule) pairs.
    pub fixes: Vec<(String, Rule)>,
    /// False: a fix the diff cannot write (said beside the finding, left out of the diff).
    pub written: bool,
}

impl Edit {
    /// An edit of a server or workload setting, filed under `key`.
    fn new(file: &str, line: usize, insert: bool, text: String, key: &str) -> Edit {
        Edit {
            file: file.to_string(),
            line,
            insert,
            text,
            scenario: key.to_string(),
            fixes: Vec::new(),
            written: true,
        }
    }

    /// Where the fix goes, then the line to paste (never wrapped): `fix: replace line 7 of
    /// FILE with:` and the text; for a fix the diff cannot write, why.
    pub fn paste(&self) -> String {
        if !self.written {
            return format!(
                "fix: not in --fix-diff (line {} of {}): {}",
                self.line, self.file, self.text
            );
        }
        let what = if self.insert { "add after line" } else { "replace line" };
        format!("fix: {what} {} of {}:\n{}", self.line, self.file, self.text)
    }
}

/// The key a load balancer's check edits are filed under ([`Edit::fixes`]).
pub fn lb_key(scenario: &str, lb: &str) -> String {
    format!("lb:{scenario}\u{1f}{lb}")
}

/// Whether a load balancer's finding can be fixed in its check settings (GL001/GL002 when the
/// server has no file to change, GL003, GL006).
pub fn fixes_lb_rule(rule: Rule) -> bool {
    matches!(rule, Rule::GL001 | Rule::GL002 | Rule::GL003 | Rule::GL006)
}

/// Every planned edit, indexed by what it fixes, so a finding finds its edits without a scan
/// (50 000 findings against as many edits).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The edits, in the order they were planned.
    pub edits: Vec<Edit>,
    /// Edits by the server or workload key they are filed under.
    by_key: HashMap<String, Vec<usize>>,
    /// Edits by the (load balancer key, rule) they fix.
    by_lb: HashMap<(String, Rule), Vec<usize>>,
}

impl Plan {
    /// The edits, indexed.
    pub fn new(edits: Vec<Edit>) -> Plan {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_lb: HashMap<(String, Rule), Vec<usize>> = HashMap::new();
        for (i, e) in edits.iter().enumerate() {
            if !e.scenario.is_empty() {
                by_key.entry(e.scenario.clone()).or_default().push(i);
            }
            for f in &e.fixes {
                by_lb.entry(f.clone()).or_default().push(i);
            }
        }
        Plan { edits, by_key, by_lb }
    }

    fn keyed(&self, key: &str) -> impl Iterator<Item = &Edit> {
        self.by_key.get(key).into_iter().flatten().map(|&i| &self.edits[i])
    }
}

/// The edits that fix one reported finding, in the order they were planned: the server's, the
/// workload's, or those of every load balancer the finding names. The one source of the `fix:`
/// lines in the table and of `fix` in JSON.
pub fn for_finding<'e>(plan: &'e Plan, x: &Reported) -> Vec<&'e Edit> {
    let rule = x.finding.rule;
    let mut out: Vec<&Edit> = Vec::new();
    match &x.subject {
        Subject::Lb { report, lbs } => {
            if fixes_rule(rule) {
                out.extend(plan.keyed(&report.scenario));
            }
            if fixes_lb_rule(rule) {
                for lb in lbs {
                    let at = plan.by_lb.get(&(lb_key(&report.scenario, lb), rule));
                    for e in at.into_iter().flatten().map(|&i| &plan.edits[i]) {
                        if !out.iter().any(|o| std::ptr::eq(*o, e)) {
                            out.push(e);
                        }
                    }
                }
            }
        }
        Subject::Path(p) if fixes_path_rule(rule) => out.extend(plan.keyed(&path_key(&p.target))),
        _ => {}
    }
    out
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

/// The syntax of an input file, as far as fixes need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// Kubernetes YAML (manifests, workloads, Services).
    Yaml,
    /// An haproxy.cfg.
    Haproxy,
    /// TOML: scenario files (and graceline.toml).
    Toml,
    /// Anything else (JSON, nginx).
    Other,
}

/// The syntax of `file`, as its reader told it (the one place fixes tell a file's syntax).
fn syntax_of(file: &str, texts: &Texts) -> Syntax {
    match texts.get(file).and_then(|f| f.syntax) {
        Some(sources::Syntax::Yaml) => Syntax::Yaml,
        Some(sources::Syntax::Haproxy) => Syntax::Haproxy,
        Some(sources::Syntax::Toml) => Syntax::Toml,
        _ => Syntax::Other,
    }
}

/// The lines of an input file, from the text read once (the one place fixes take file text).
fn lines_of(file: &str, texts: &Texts) -> Option<Vec<String>> {
    Some(texts.get(file)?.text.lines().map(str::to_string).collect())
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Whole seconds, rounded up (terminationGracePeriodSeconds is an integer).
fn ceil_secs(m: Micros) -> i64 {
    (m.0 + 999_999).div_euclid(1_000_000)
}

/// The edits that fix the GL001 and GL004 findings of the outcome (per scenario, the largest
/// shutdown delay and grace period its failing load balancers ask for, as judged once their own
/// check is fixed), the GL030/GL041 findings of its Kubernetes paths (per workload, the preStop
/// sleep and grace period), then the GL001/GL002/GL003/GL006 findings fixed in a load balancer's
/// own check.
pub fn plan(scenarios: &[ServerOf], o: &Outcome, texts: &Texts) -> Plan {
    let (lb_out, judged_again) = lb_edits(scenarios, o, texts);
    // Per scenario: the delay its failing LBs ask for, and whether SIGKILL cuts the drain.
    let mut wanted: BTreeMap<&str, (Option<Micros>, Option<Micros>, bool)> = BTreeMap::new();
    for r in &o.lbs {
        if !r.findings.iter().any(|f| fixes_rule(f.rule)) {
            continue;
        }
        // A check made to see readiness: the delay it needs from then on.
        let (delay, grace) = judged_again
            .get(&(r.scenario.as_str(), r.lb.as_str()))
            .copied()
            .unwrap_or((r.recommended_shutdown_delay, r.recommended_termination_grace_period));
        let w = wanted.entry(r.scenario.as_str()).or_default();
        w.0 = w.0.max(delay);
        w.1 = w.1.max(grace);
        w.2 |= r.findings.iter().any(|f| f.rule == Rule::GL004);
    }
    let mut out: Vec<Edit> = Vec::new();
    // Where the edits so far go (file, line, insert, written): each place is changed once.
    let mut places: std::collections::HashSet<(String, usize, bool, bool)> = std::collections::HashSet::new();
    let mut add = |e: Edit, out: &mut Vec<Edit>| {
        if places.insert((e.file.clone(), e.line, e.insert, e.written)) {
            out.push(e);
        }
    };
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
        // Scenarios sharing a server file (one manifest, several LBs) ask once.
        for e in edits_for(sc, *d, grace, texts) {
            add(e, &mut out);
        }
    }
    for e in path_edits(o, texts) {
        add(e, &mut out);
    }
    // A line a server or workload edit rewrites is not rewritten again for the load balancer.
    for e in lb_out {
        add(e, &mut out);
    }
    Plan::new(out)
}

/// One change of one line of one file; the changes of a line are merged into one edit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Op {
    file: String,
    /// 1-based.
    line: usize,
    kind: OpKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OpKind {
    /// Replace from character column `col` (1-based) to the end of the line.
    Tail { col: usize, text: String },
    /// Replace the whitespace-delimited token at character column `col`.
    Token { col: usize, text: String },
    /// Replace the TOML value (a one-line string, or a bare number, boolean or date) at character
    /// column `col`; what follows it (a `# comment`) stays.
    Value { col: usize, text: String },
    /// Replace the first `from` of the line by `to`.
    Sub { from: String, to: String },
    /// Add `text` at the end of the line, before a `#` comment; inside a closing quote when
    /// `quoted`.
    Append { text: String, quoted: bool },
    /// A new line after this one.
    Insert { text: String },
}

fn op(file: &str, line: usize, kind: OpKind) -> Op {
    Op {
        file: file.to_string(),
        line,
        kind,
    }
}

/// Byte index of 1-based character column `col` in `line` (its end past the last character).
fn byte_at(line: &str, col: usize) -> usize {
    line.char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i)
}

/// The ops of one line applied to it: replacements right to left, then additions in order.
fn apply_ops(line: &str, ops: &[&OpKind]) -> String {
    let mut out = line.to_string();
    let mut cols: Vec<&OpKind> = ops
        .iter()
        .copied()
        .filter(|k| matches!(k, OpKind::Tail { .. } | OpKind::Token { .. } | OpKind::Value { .. }))
        .collect();
    cols.sort_by_key(|k| match k {
        OpKind::Tail { col, .. } | OpKind::Token { col, .. } | OpKind::Value { col, .. } => std::cmp::Reverse(*col),
        _ => std::cmp::Reverse(0),
    });
    cols.dedup();
    for k in cols {
        match k {
            OpKind::Tail { col, text } => {
                let at = byte_at(&out, *col);
                out.replace_range(at.., text);
            }
            OpKind::Token { col, text } => {
                let at = byte_at(&out, *col);
                let end = out[at..].find(char::is_whitespace).map_or(out.len(), |e| at + e);
                out.replace_range(at..end, text);
            }
            OpKind::Value { col, text } => {
                let at = byte_at(&out, *col);
                let end = toml_value_len(&out[at..]).map_or(out.len(), |n| at + n);
                out.replace_range(at..end, text);
            }
            _ => {}
        }
    }
    for k in ops {
        match k {
            OpKind::Sub { from, to } => out = out.replacen(from.as_str(), to, 1),
            OpKind::Append { text, quoted } => {
                // Before a `#` comment that follows whitespace.
                let comment = out
                    .char_indices()
                    .find(|&(i, c)| c == '#' && out[..i].ends_with(char::is_whitespace))
                    .map_or(out.len(), |(i, _)| i);
                let mut at = out[..comment].trim_end().len();
                if *quoted && out[..at].ends_with(['"', '\'']) {
                    at -= 1;
                }
                out.insert_str(at, text);
            }
            _ => {}
        }
    }
    out
}

/// The ops merged into edits: one per changed line (every op of that line applied to it), one
/// per line new lines follow (their texts once each, in order).
fn assemble(ops: Vec<(Op, String, Rule)>, texts: &Texts) -> Vec<Edit> {
    // (file, line, insert) -> its ops, each with the LB key and rule it fixes.
    type Group = ((String, usize, bool), Vec<(OpKind, String, Rule)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut at: HashMap<(String, usize, bool), usize> = HashMap::new();
    for (o, key, rule) in ops {
        let g = (o.file, o.line, matches!(o.kind, OpKind::Insert { .. }));
        match at.get(&g) {
            Some(&i) => groups[i].1.push((o.kind, key, rule)),
            None => {
                at.insert(g.clone(), groups.len());
                groups.push((g, vec![(o.kind, key, rule)]));
            }
        }
    }
    let mut files: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let mut out = Vec::new();
    for ((file, line, insert), v) in groups {
        let mut fixes: Vec<(String, Rule)> = Vec::new();
        for (_, key, rule) in &v {
            if !fixes.contains(&(key.clone(), *rule)) {
                fixes.push((key.clone(), *rule));
            }
        }
        let text = if insert {
            let mut texts: Vec<&str> = Vec::new();
            for (k, _, _) in &v {
                if let OpKind::Insert { text } = k {
                    if !texts.contains(&text.as_str()) {
                        texts.push(text);
                    }
                }
            }
            texts.join("\n")
        } else {
            let lines = files.entry(file.clone()).or_insert_with(|| lines_of(&file, texts));
            let Some(old) = lines.as_ref().and_then(|l| l.get(line.saturating_sub(1))) else {
                continue;
            };
            let kinds: Vec<&OpKind> = v.iter().map(|(k, _, _)| k).collect();
            let mut uniq: Vec<&OpKind> = Vec::new();
            for k in kinds {
                if !uniq.contains(&k) {
                    uniq.push(k);
                }
            }
            let new = apply_ops(old, &uniq);
            if new == *old {
                continue;
            }
            new
        };
        out.push(Edit {
            file,
            line,
            insert,
            text,
            scenario: String::new(),
            fixes,
            written: true,
        });
    }
    out
}

/// A unified diff (`--- a/FILE` / `+++ b/FILE`, three lines of context) of every edit, files in
/// name order, over the files' texts as read; empty when there is nothing to change.
pub fn diff(edits: &[Edit], texts: &Texts) -> std::io::Result<String> {
    let mut files: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
    for e in edits.iter().filter(|e| e.written) {
        files.entry(e.file.as_str()).or_default().push(e);
    }
    let mut out = String::new();
    for (file, es) in files {
        let old: &str = &texts
            .get(file)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{file}: not among the inputs read"),
                )
            })?
            .text;
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
        let d = similar::TextDiff::from_lines(old, new.as_str());
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

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    /// An Azure Service's load balancer as the Service reader locates it: named at line 4, the
    /// interval read from line 7, the probe count the controller's default.
    fn azure(name: &str) -> LbSpec {
        let sc = crate::scenario::load_str(
            "t.toml",
            &format!("[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nname = \"{name}\"\nprofile = \"azure-lb\"\n"),
        )
        .unwrap();
        let mut lb = sc.lbs[0].clone();
        let at = |line: u32, column: u32| Loc {
            file: "svc.yaml".into(),
            line,
            column,
        };
        lb.loc = at(4, 9);
        lb.service = Some("ns/api".into());
        lb.settings.interval = Some(Located {
            value: Micros::from_secs(15),
            loc: at(7, 75),
            from_profile: false,
        });
        if let Some(p) = lb.settings.own.get_mut("probe_threshold") {
            p.from_profile = true;
        }
        lb
    }

    const AZURE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: ns\n  annotations:\n    service.beta.kubernetes.io/azure-load-balancer-health-probe-interval: \"15\"\nspec:\n  type: LoadBalancer\n";

    #[test]
    fn azure_annotations_are_rewritten_in_place_or_added() {
        let text = lines(AZURE);
        let lb = azure("ns/api");
        // Read from line 7: its value rewritten.
        let ops = service_ops(&lb, &text, &Change::Interval("interval", Micros::from_secs(5))).unwrap();
        assert_eq!(
            apply_ops(&text[6], &[&ops[0].kind]),
            "    service.beta.kubernetes.io/azure-load-balancer-health-probe-interval: \"5\""
        );
        // The controller's default: a new annotation under metadata.annotations.
        let ops = service_ops(&lb, &text, &Change::Threshold("probe_threshold", 2)).unwrap();
        assert_eq!(
            ops,
            [op(
                "svc.yaml",
                6,
                OpKind::Insert {
                    text: "    service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe: \"2\"".into()
                }
            )]
        );
        // A Service with several ports: that port's own annotation.
        let ops = service_ops(&azure("ns/api:6443"), &text, &Change::Protocol(Protocol::Https)).unwrap();
        assert!(
            matches!(&ops[0].kind, OpKind::Insert { text } if text == "    service.beta.kubernetes.io/port_6443_health-probe_protocol: Https"),
            "{ops:?}"
        );
        // No annotations at all: the block is added after the name.
        let bare = lines(&AZURE.replace(
            "  annotations:\n    service.beta.kubernetes.io/azure-load-balancer-health-probe-interval: \"15\"\n",
            "",
        ));
        let ops = service_ops(&lb, &bare, &Change::Path("/readyz".into())).unwrap();
        let texts: Vec<&OpKind> = ops.iter().map(|o| &o.kind).collect();
        assert_eq!(
            texts,
            [
                &OpKind::Insert {
                    text: "  annotations:".into()
                },
                &OpKind::Insert {
                    text: "    service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path: /readyz"
                        .into()
                }
            ]
        );
    }

    #[test]
    fn ops_of_one_line_merge_right_to_left() {
        let line = "  server cp1 10.0.0.1:6443 check inter 10s fall 5 # api";
        let inter = OpKind::Token {
            col: 40,
            text: "2s".into(),
        };
        let fall = OpKind::Token {
            col: 49,
            text: "3".into(),
        };
        let ssl = OpKind::Append {
            text: " check-ssl verify none".into(),
            quoted: false,
        };
        assert_eq!(
            apply_ops(line, &[&inter, &fall, &ssl]),
            "  server cp1 10.0.0.1:6443 check inter 2s fall 3 check-ssl verify none # api"
        );
        let attrs = OpKind::Append {
            text: ",b=2".into(),
            quoted: true,
        };
        assert_eq!(apply_ops("    k: \"a=1\"", &[&attrs]), "    k: \"a=1,b=2\"");
        assert_eq!(haproxy_time(Micros::from_millis(11_200)).as_deref(), Some("11200ms"));
        assert_eq!(haproxy_time(Micros::from_secs(2)).as_deref(), Some("2s"));
    }

    /// The second `[[lb]]` of a scenario file, as the scenario reader locates it.
    const SCENARIO: &str = "name = \"s\"\n\n[[lb]]\nname = \"a\"\nprofile = \"aws-nlb\"\n\n[[lb]]\n  name = \"b\"\n  profile = \"aws-nlb\" # NLB\n  interval = \"30s\"   # slow\n  protocol = 'tcp'\n  unhealthy_threshold = 3\n[lb.latency]\ndistribution = \"uniform\"\nmin = \"10ms\"\nmax = \"20ms\"\n";

    fn scenario_lb() -> LbSpec {
        let sc = crate::scenario::load_str("s.toml", SCENARIO).unwrap();
        sc.lbs[1].clone()
    }

    #[test]
    fn a_scenario_lb_table_gets_its_keys_replaced_in_place_or_added() {
        let text = lines(SCENARIO);
        let lb = scenario_lb();
        assert_eq!(lb.loc.line, 7);
        let one = |c: Change| {
            let ops = toml_ops(&lb, &text, &c).unwrap();
            assert_eq!(ops.len(), 1, "{ops:?}");
            let o = ops.into_iter().next().unwrap();
            let new = match &o.kind {
                OpKind::Insert { text } => text.clone(),
                k => apply_ops(&text[o.line - 1], &[k]),
            };
            (o.line, matches!(o.kind, OpKind::Insert { .. }), new)
        };
        // Written: the value replaced, the indentation and the comment kept.
        assert_eq!(
            one(Change::Interval("interval", Micros::from_secs(5))),
            (10, false, "  interval = \"5s\"   # slow".to_string())
        );
        assert_eq!(
            one(Change::Protocol(Protocol::Https)),
            (11, false, "  protocol = \"https\"".to_string())
        );
        assert_eq!(
            one(Change::Threshold("unhealthy_threshold", 2)),
            (12, false, "  unhealthy_threshold = 2".to_string())
        );
        // The profile's: added after the table's `profile =` line, never in the other table.
        assert_eq!(
            one(Change::Path("/readyz".into())),
            (9, true, "  path = \"/readyz\"".to_string())
        );
        assert_eq!(one(Change::Matcher), (9, true, "  matcher = \"200-399\"".to_string()));
        assert_eq!(
            one(Change::NoReset(30)),
            (9, true, "  connection_termination = false".to_string())
        );
        assert_eq!(
            one(Change::Timeout(Micros::from_millis(2_500))),
            (9, true, "  timeout = \"2.5s\"".to_string())
        );
        // An added key and a replaced one are read back as the change.
        let mut fixed = text.clone();
        fixed[9] = one(Change::Interval("interval", Micros::from_secs(5))).2;
        fixed.insert(9, one(Change::Path("/readyz".into())).2);
        let again = crate::scenario::load_str("s.toml", &fixed.join("\n")).unwrap();
        let s = &again.lbs[1].settings;
        assert_eq!(s.interval.as_ref().unwrap().value, Micros::from_secs(5));
        assert_eq!(s.path.as_ref().unwrap().value, "/readyz");
        assert!(again.lbs[0].settings.path.as_ref().is_none_or(|p| p.from_profile));
    }

    #[test]
    fn toml_values_end_before_their_comment() {
        assert_eq!(toml_value_len("\"a\\\"b\" # c"), Some(6));
        assert_eq!(toml_value_len("'x#y' # c"), Some(5));
        assert_eq!(toml_value_len("3# c"), Some(1));
        assert_eq!(toml_value_len("true"), Some(4));
        assert_eq!(toml_value_len("\"\"\"long\"\"\""), None);
        assert_eq!(toml_value_len("[1, 2]"), None);
        assert_eq!(toml_string("/readyz"), "\"/readyz\"");
        assert_eq!(toml_string("/a\"b"), "'/a\"b'");
    }

    #[test]
    fn a_shell_script_gets_its_sleep_first() {
        let flow = lines("          command: [\"sh\", \"-c\", \"sleep 5 && nginx -s quit\"]");
        assert_eq!(
            script_sleep(&flow, 0, 9),
            Some((
                0,
                "          command: [\"sh\", \"-c\", \"sleep 9 && nginx -s quit\"]".into()
            ))
        );
        let block = lines("          command:\n          - /bin/bash\n          - -c\n          - nginx -s quit");
        assert_eq!(
            script_sleep(&block, 0, 9),
            Some((3, "          - sleep 9; nginx -s quit".into()))
        );
        let other = lines("          command: [\"/drain\", \"--wait\"]");
        assert_eq!(script_sleep(&other, 0, 9), None);
        let literal =
            lines("          command:\n          - sh\n          - -c\n          - |\n            nginx -s quit");
        assert_eq!(script_sleep(&literal, 0, 9), None);
    }
}
