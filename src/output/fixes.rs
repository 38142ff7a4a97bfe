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

/// The edits that give a workload the preStop sleep and grace period its failing paths ask for:
/// the number of an existing `sleep N` / `seconds: N` replaced, or a `lifecycle.preStop.sleep`
/// added to the container; `terminationGracePeriodSeconds` replaced, or added to the pod spec.
fn path_edits(o: &Outcome, texts: &Texts) -> Vec<Edit> {
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
        let Some(lines) = lines_of(&t.file, texts) else {
            continue;
        };
        let edit = |line: usize, insert: bool, text: String| Edit::new(&t.file, line, insert, text, &key);
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
                Prestop::Unknown { loc, .. } => {
                    let idx = (loc.line as usize).saturating_sub(1);
                    match script_sleep(&lines, idx, secs) {
                        Some((i, text)) => out.push(edit(i + 1, false, text)),
                        None => out.push(Edit {
                            written: false,
                            ..edit(
                                idx + 1,
                                false,
                                format!("the preStop hook is not a shell script (`[\"sh\", \"-c\", \"...\"]`) the diff can change: make it sleep {secs}s first (`sleep {secs}` or lifecycle.preStop.sleep.seconds: {secs})"),
                            )
                        }),
                    }
                }
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

/// The shells whose `-c` script a preStop fix may change.
const SHELL: &str = r#"["']?(?:/usr)?(?:/bin/)?(?:sh|bash|ash|dash|zsh)["']?"#;

/// The line of an exec preStop `["sh", "-c", "<script>"]` (flow style on line `idx`, or block
/// style: `- sh`, `- -c`, `- <script>` from line `idx` on) rewritten so the script sleeps `secs`
/// first: the number of the `sleep N` it starts with replaced, else `sleep N; ` put in front.
/// `None` for any other hook (or a script written as a block scalar).
fn script_sleep(lines: &[String], idx: usize, secs: i64) -> Option<(usize, String)> {
    let flow = regex::Regex::new(&format!(r#"^(.*\[\s*{SHELL}\s*,\s*["']?-c["']?\s*,\s*["'])(.*)$"#)).ok()?;
    let start = |rest: &str| -> String {
        let lead = regex::Regex::new(r"^(\s*(?:exec\s+)?sleep\s+)(\d+)").expect("a valid regex");
        if lead.is_match(rest) {
            lead.replace(rest, format!("${{1}}{secs}")).into_owned()
        } else {
            format!("sleep {secs}; {rest}")
        }
    };
    let at = lines.get(idx)?;
    if let Some(c) = flow.captures(at) {
        return Some((idx, format!("{}{}", &c[1], start(&c[2]))));
    }
    // Block style: the sequence starts on this line or the next (after `command:`).
    let first = if at.trim_end().ends_with("command:") {
        idx + 1
    } else {
        idx
    };
    let item = |i: usize, re: &str| {
        lines
            .get(i)
            .is_some_and(|l| regex::Regex::new(&format!(r"^\s*-\s+{re}\s*$")).is_ok_and(|r| r.is_match(l)))
    };
    if !(item(first, SHELL) && item(first + 1, r#"["']?-c["']?"#)) {
        return None;
    }
    let script = regex::Regex::new(r#"^(\s*-\s+["']?)(.*)$"#).ok()?;
    let l = lines.get(first + 2)?;
    let c = script.captures(l)?;
    if c[2].starts_with(['|', '>']) {
        return None;
    }
    Some((first + 2, format!("{}{}", &c[1], start(&c[2]))))
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

/// The edits that raise a scenario's shutdown delay to `delay` and its grace period to `grace`.
fn edits_for(sc: &ServerOf, delay: Option<Micros>, grace: Option<Micros>, texts: &Texts) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut push = |key: &str, value: Micros| {
        let Some(loc) = sc.locs.get(key) else { return };
        if loc.file.starts_with("builtin:") || loc.file == crate::error::STDIN_NAME {
            return;
        }
        let Some(lines) = lines_of(&loc.file, texts) else {
            return;
        };
        let idx = (loc.line as usize).saturating_sub(1);
        let Some(at) = lines.get(idx) else { return };
        let edit = |line: usize, insert: bool, text: String| Edit::new(&loc.file, line, insert, text, &sc.name);
        let e = if syntax_of(&loc.file, texts) == Syntax::Yaml {
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
    // Both added under `[server]`: one edit (each place is changed once).
    let mut merged: Vec<Edit> = Vec::new();
    for e in out {
        match merged
            .iter_mut()
            .find(|m| m.insert && e.insert && m.file == e.file && m.line == e.line)
        {
            Some(m) => {
                m.text.push('\n');
                m.text.push_str(&e.text);
            }
            None => merged.push(e),
        }
    }
    merged
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

/// Where a load balancer's settings are written, when a diff can write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LbSyntax {
    /// `server`, `default-server` and `option httpchk` lines of an haproxy.cfg.
    Haproxy,
    /// The annotations of a Kubernetes Service (AWS, Azure) in YAML.
    Service,
    /// The keys of a scenario file's `[[lb]]` table (any provider).
    Scenario,
}

/// The syntax a load balancer's settings were read in, from what the model says of it (its
/// profile, its Service) and its file's syntax.
fn lb_syntax(lb: &LbSpec, texts: &Texts) -> Option<LbSyntax> {
    if !writable(&lb.loc.file) {
        return None;
    }
    // A scenario file locates a load balancer at its `[[lb]]` header (whatever its provider).
    if syntax_of(&lb.loc.file, texts) == Syntax::Toml {
        let header = texts.line(&lb.loc.file, lb.loc.line)?;
        return (lb.service.is_none() && header.trim_start().starts_with("[[lb]]")).then_some(LbSyntax::Scenario);
    }
    match lb.profile.as_str() {
        "haproxy" => Some(LbSyntax::Haproxy),
        "aws-nlb" | "aws-clb" | "azure-lb"
            if lb.service.is_some() && syntax_of(&lb.loc.file, texts) == Syntax::Yaml =>
        {
            Some(LbSyntax::Service)
        }
        _ => None,
    }
}

/// A file a diff can change (not a built-in profile, not standard input).
fn writable(file: &str) -> bool {
    !file.starts_with("builtin:") && file != crate::error::STDIN_NAME
}

/// One setting a load balancer's fix changes.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    /// The check's protocol.
    Protocol(Protocol),
    /// The check's request path.
    Path(String),
    /// A success matcher of 200-399.
    Matcher,
    /// An interval setting (`interval`, `check_interval`, `inter`, `fastinter`).
    Interval(&'static str, Micros),
    /// The check timeout.
    Timeout(Micros),
    /// A threshold setting (`unhealthy_threshold`, `probe_threshold`, `fall`).
    Threshold(&'static str, u32),
    /// Connection termination off, with this unhealthy draining interval in seconds.
    NoReset(i64),
}

/// The success codes a fixed matcher accepts: 2xx and 3xx, never the 500 of a failing readyz.
const CODES: &str = "200-399";

/// `v` in `slot`, at the location of the value it replaces (else the load balancer's).
fn set<T>(slot: &mut Option<Located<T>>, value: T, lb: &LbSpec) {
    let loc = slot.as_ref().map_or_else(|| lb.loc.clone(), |l| l.loc.clone());
    *slot = Some(Located {
        value,
        loc,
        from_profile: false,
    });
}

/// [`set`] for one of the provider's own settings (`inter`, `probe_threshold`, ...).
fn set_own<T: OwnType>(s: &mut LbSettings, key: &'static str, value: T, lb: &LbSpec) {
    let mut slot = s.own_as::<T>(key);
    set(&mut slot, value, lb);
    if let Some(v) = slot {
        s.set_own(key, v);
    }
}

/// The changes that fix `r`'s load-balancer findings, each with its rule, kept only when the
/// load balancer rebuilt with them and judged again is clean of that rule; with that report.
fn judge_fix(sc: &Scenario, lb: &LbSpec, r: &LbReport, server_file: bool) -> Option<Fix> {
    let has = |rule: Rule| {
        r.findings
            .iter()
            .any(|f| f.rule == rule && (rule != Rule::GL003 || f.severity == Severity::Error))
    };
    let mut s = lb.settings.clone();
    let mut changes = Vec::new();
    if has(Rule::GL003) {
        if !lb.model.view.sees_readiness {
            let was = crate::provider::protocol_of(&s);
            // kube-apiserver serves TLS only; an application pod is taken to serve plain HTTP.
            let want = match was {
                Protocol::Tcp if sc.server.profile.starts_with("kube-apiserver") => Protocol::Https,
                Protocol::Tcp => Protocol::Http,
                p => p,
            };
            if want != was {
                set(&mut s.protocol, want, lb);
                changes.push((Rule::GL003, Change::Protocol(want)));
            }
            let rp = sc.server.readiness_path.clone();
            if s.path.as_ref().is_none_or(|p| p.value != rp) {
                set(&mut s.path, rp.clone(), lb);
                changes.push((Rule::GL003, Change::Path(rp)));
            }
        } else if s.matcher.as_ref().is_some_and(|m| m.value.accepts_failing_readyz()) {
            let m = crate::provider::matcher::Matcher::parse_codes(CODES).ok()?;
            set(&mut s.matcher, m, lb);
            changes.push((Rule::GL003, Change::Matcher));
        }
    }
    if has(Rule::GL006) {
        set_own(&mut s, "connection_termination", false, lb);
        let drain = ceil_secs(r.timeline.e5 - r.timeline.e2).max(0);
        changes.push((Rule::GL006, Change::NoReset(drain)));
    }
    let rebuilt = |s: &crate::provider::LbSettings| crate::scenario::rebuild_lb(lb, s.clone(), &sc.server).ok();
    let slow = |r: &LbReport| r.findings.iter().any(|f| matches!(f.rule, Rule::GL001 | Rule::GL002));
    let cur = rebuilt(&s)?;
    let mut after = crate::analysis::analyze(sc, &cur);
    let detect_rule = if has(Rule::GL001) { Rule::GL001 } else { Rule::GL002 };
    if r.route.is_none() && has(detect_rule) && !server_file && slow(&after) {
        // The first "detect faster" alternative the finding prints that passes.
        let printed: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.rule == detect_rule)
            .map(|f| f.message.as_str())
            .collect();
        for a in crate::analysis::recommend::alternatives(sc, &cur) {
            // Only an alternative the finding prints.
            let words = format!("{} = {} (worst case", a.key, a.value);
            if !printed.iter().any(|m| m.contains(&words)) {
                continue;
            }
            let Some(cs) = alternative_changes(&s, &a) else {
                continue;
            };
            let mut s2 = s.clone();
            for c in &cs {
                apply(&mut s2, c, lb);
            }
            let Some(lb2) = rebuilt(&s2) else { continue };
            let r2 = crate::analysis::analyze(sc, &lb2);
            if !slow(&r2) {
                after = r2;
                changes.extend(cs.into_iter().map(|c| (detect_rule, c)));
                break;
            }
        }
    }
    let fixed = |rule: Rule| match rule {
        Rule::GL003 => !after
            .findings
            .iter()
            .any(|f| f.rule == Rule::GL003 && f.severity == Severity::Error),
        Rule::GL001 | Rule::GL002 => !slow(&after),
        other => !after.findings.iter().any(|f| f.rule == other),
    };
    let all = changes.len();
    changes.retain(|(rule, _)| fixed(*rule));
    // GL001/GL002 gone with the check's other fixes alone (a blind check made to see readiness):
    // the same edits fix them.
    // The server's new delay (when it has a file) is then judged against the fixed check, so
    // GL001 needs both when the fix changes what the server needs (not, say, GL006's alone).
    let needs = |x: &LbReport| (x.recommended_shutdown_delay, x.recommended_termination_grace_period);
    let also = (has(detect_rule)
        && !changes.is_empty()
        && changes.len() == all
        && !changes.iter().any(|(r, _)| *r == detect_rule)
        && (!slow(&after) || (server_file && r.route.is_none() && needs(&after) != needs(r))))
    .then_some(detect_rule);
    Some(Fix {
        changes,
        also,
        after: (
            after.recommended_shutdown_delay,
            after.recommended_termination_grace_period,
        ),
    })
}

/// What fixes one load balancer's findings in its own check.
#[derive(Clone)]
struct Fix {
    /// Each change with the rule it fixes.
    changes: Vec<(Rule, Change)>,
    /// A rule the changes fix besides their own.
    also: Option<Rule>,
    /// The shutdown delay and grace period the load balancer asks for, judged again with the
    /// changes.
    after: (Option<Micros>, Option<Micros>),
}

/// The changes of one printed alternative (`fall = 2`, `interval = 5s (timeout 5s)`).
fn alternative_changes(
    s: &crate::provider::LbSettings,
    a: &crate::analysis::recommend::Alternative,
) -> Option<Vec<Change>> {
    let mut words = a.value.split_whitespace();
    let first = words.next()?;
    match a.key {
        "unhealthy_threshold" | "probe_threshold" | "fall" => Some(vec![Change::Threshold(a.key, first.parse().ok()?)]),
        "interval" | "check_interval" | "inter" | "fastinter" => {
            let mut out = vec![Change::Interval(a.key, Micros::parse(first).ok()?)];
            // `(timeout 5s)`: written too when the input set another timeout.
            let rest: Vec<&str> = words.collect();
            if let ["(timeout", t] = rest.as_slice() {
                let t = Micros::parse(t.trim_end_matches(')')).ok()?;
                if s.timeout.as_ref().is_some_and(|x| !x.from_profile && x.value != t) {
                    out.push(Change::Timeout(t));
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// `c` made in the settings.
fn apply(s: &mut crate::provider::LbSettings, c: &Change, lb: &LbSpec) {
    match c {
        Change::Protocol(p) => set(&mut s.protocol, *p, lb),
        Change::Path(p) => set(&mut s.path, p.clone(), lb),
        Change::Matcher => {
            if let Ok(m) = crate::provider::matcher::Matcher::parse_codes(CODES) {
                set(&mut s.matcher, m, lb);
            }
        }
        Change::Interval("interval", v) => set(&mut s.interval, *v, lb),
        Change::Interval(key, v) => set_own(s, key, *v, lb),
        Change::Timeout(v) => set(&mut s.timeout, *v, lb),
        Change::Threshold("unhealthy_threshold", n) => set(&mut s.unhealthy_threshold, *n, lb),
        Change::Threshold(key, n) => set_own(s, key, *n, lb),
        Change::NoReset(_) => set_own(s, "connection_termination", false, lb),
    }
}

/// Where the input gave a setting, and whether that was the profile's default.
fn loc_of(s: &crate::provider::LbSettings, key: &str) -> Option<(Loc, bool)> {
    fn at<T>(v: &Option<Located<T>>) -> Option<(Loc, bool)> {
        v.as_ref().map(|l| (l.loc.clone(), l.from_profile))
    }
    match key {
        "protocol" => at(&s.protocol),
        "path" => at(&s.path),
        "matcher" => at(&s.matcher),
        "interval" => at(&s.interval),
        "timeout" => at(&s.timeout),
        "unhealthy_threshold" => at(&s.unhealthy_threshold),
        own => s.own.get(own).map(|l| (l.loc.clone(), l.from_profile)),
    }
}

/// Load balancers judged again with their check fixed: (scenario, LB) -> the shutdown delay and
/// grace period they ask for then.
type Judged<'o> = BTreeMap<(&'o str, &'o str), (Option<Micros>, Option<Micros>)>;

/// The edits of every load balancer whose GL001/GL002/GL003/GL006 findings a change of its own
/// check fixes, and those load balancers judged again with the fix (keyed by scenario and LB).
fn lb_edits<'o>(scenarios: &[ServerOf], o: &'o Outcome, texts: &Texts) -> (Vec<Edit>, Judged<'o>) {
    let mut by_name: BTreeMap<(&str, &str), (&ServerOf, &Scenario, &LbSpec)> = BTreeMap::new();
    for sof in scenarios {
        if let Some(sc) = sof.editable.as_deref() {
            for lb in &sc.lbs {
                by_name.insert((sof.name.as_str(), lb.name.as_str()), (sof, sc, lb));
            }
        }
    }
    let mut ops: Vec<(Op, String, Rule)> = Vec::new();
    let mut again = BTreeMap::new();
    let mut files: BTreeMap<&str, Option<Vec<String>>> = BTreeMap::new();
    let mut memo: HashMap<String, Option<Fix>> = HashMap::new();
    let mut server_files: BTreeMap<&str, bool> = BTreeMap::new();
    let without_locs =
        regex::Regex::new(r#"loc: Loc \{ file: "(?:[^"\\]|\\.)*", line: \d+, column: \d+ \}"#).expect("a valid regex");
    for r in &o.lbs {
        if !r.findings.iter().any(|f| fixes_lb_rule(f.rule)) {
            continue;
        }
        let Some((sof, sc, lb)) = by_name.get(&(r.scenario.as_str(), r.lb.as_str())) else {
            continue;
        };
        // Whether the server's own fix can be written (a file that holds its delay).
        let server_file = *server_files.entry(sof.name.as_str()).or_insert_with(|| {
            let longer = sof.server.shutdown_delay + Micros::from_secs(1);
            !edits_for(sof, Some(longer), None, texts).is_empty()
        });
        // Load balancers alike but for their names and places (the servers of one backend) are
        // judged once.
        let memo_key = format!(
            "{}|{server_file}|{}|{:?}|{:?}|{}|{}|{:?}",
            sc.name,
            lb.profile,
            lb.check,
            lb.latency,
            without_locs.replace_all(&format!("{:?}", lb.settings), ""),
            r.route.is_none(),
            r.findings
                .iter()
                .map(|f| (f.rule, f.severity, f.message.replace(&r.lb, "")))
                .collect::<Vec<_>>()
        );
        let fix = memo
            .entry(memo_key)
            .or_insert_with(|| judge_fix(sc, lb, r, server_file))
            .clone();
        let Some(fix) = fix else {
            continue;
        };
        let key = lb_key(&r.scenario, &r.lb);
        let lines = files
            .entry(lb.loc.file.as_str())
            .or_insert_with(|| lines_of(&lb.loc.file, texts));
        let Some(lines) = lines.as_deref() else { continue };
        let written = write_changes(lb, lines, &fix.changes, texts);
        let complete = fix.changes.iter().all(|(r, _)| written.iter().any(|(w, _)| w == r));
        for (rule, op) in written {
            if let Some(also) = fix.also.filter(|_| complete) {
                ops.push((op.clone(), key.clone(), also));
            }
            ops.push((op, key.clone(), rule));
        }
        if r.route.is_none() {
            again.insert((r.scenario.as_str(), r.lb.as_str()), fix.after);
        }
    }
    (assemble(ops, texts), again)
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

/// The ops that write `changes` in the load balancer's own syntax; a rule one of whose changes
/// cannot be written gets none.
fn write_changes(lb: &LbSpec, lines: &[String], changes: &[(Rule, Change)], texts: &Texts) -> Vec<(Rule, Op)> {
    let Some(syntax) = lb_syntax(lb, texts) else {
        return Vec::new();
    };
    let all: Vec<&Change> = changes.iter().map(|(_, c)| c).collect();
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for (rule, c) in changes {
        let ops = match syntax {
            LbSyntax::Haproxy => haproxy_ops(lb, lines, c, &all),
            LbSyntax::Service => service_ops(lb, lines, c),
            LbSyntax::Scenario => toml_ops(lb, lines, c),
        };
        match ops {
            Some(ops) => out.extend(ops.into_iter().map(|o| (*rule, o))),
            None => failed.push(*rule),
        }
    }
    out.retain(|(r, _)| !failed.contains(r));
    out
}

/// The whitespace-delimited token starting at character column `col` of `line`.
fn token_at(line: &str, col: usize) -> Option<&str> {
    let start = line.char_indices().nth(col.checked_sub(1)?)?.0;
    line[start..].split_whitespace().next()
}

/// An HAProxy time: whole seconds as `5s`, else milliseconds.
fn haproxy_time(v: Micros) -> Option<String> {
    if v.0 % 1_000_000 == 0 {
        Some(format!("{}s", v.0 / 1_000_000))
    } else if v.0 % 1_000 == 0 {
        Some(format!("{}ms", v.0 / 1_000))
    } else {
        None
    }
}

/// Keywords that open an HAProxy section (manual section 3 onwards).
const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "resolvers",
    "peers",
    "userlist",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "crt-store",
    "traces",
];

fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

/// The 1-based line of the `backend`/`listen` header of `section` above 1-based `line`.
fn section_header(lines: &[String], line: usize, section: &str) -> Option<usize> {
    let i = (0..line.saturating_sub(1))
        .rev()
        .find(|&i| SECTIONS.contains(&first_word(&lines[i])))?;
    let mut words = lines[i].split_whitespace();
    let kind = words.next()?;
    (matches!(kind, "backend" | "listen") && words.next() == Some(section)).then_some(i + 1)
}

/// Whether the section from 1-based `header` already chooses its check type (another `option`
/// check, `http-check` or `tcp-check` rules), which an added `option httpchk` would fight.
fn chooses_check(lines: &[String], header: usize) -> bool {
    lines
        .iter()
        .skip(header)
        .take_while(|l| !SECTIONS.contains(&first_word(l)))
        .any(|l| {
            let mut w = l.split_whitespace();
            match (w.next(), w.next()) {
                (Some("http-check" | "tcp-check"), _) => true,
                (Some("option"), Some(o)) => {
                    o == "httpchk" || o == "tcp-check" || o.ends_with("-chk") || o.ends_with("-check") || o == "smtpchk"
                }
                _ => false,
            }
        })
}

/// A change of an HAProxy load balancer in its configuration's syntax.
fn haproxy_ops(lb: &LbSpec, lines: &[String], c: &Change, all: &[&Change]) -> Option<Vec<Op>> {
    let s = &lb.settings;
    let file = lb.loc.file.as_str();
    let server = lb.loc.line as usize;
    let server_words: Vec<&str> = lines
        .get(server.checked_sub(1)?)?
        .split('#')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tcp = crate::provider::protocol_of(s) == Protocol::Tcp;
    match c {
        Change::Protocol(p) => {
            let mut ops = Vec::new();
            if tcp {
                let path = all.iter().find_map(|c| match c {
                    Change::Path(p) => Some(p.clone()),
                    _ => None,
                })?;
                let (section, _) = lb.name.rsplit_once('/')?;
                let header = section_header(lines, server, section)?;
                if chooses_check(lines, header) {
                    return None;
                }
                let indent = lines
                    .get(header)
                    .map(|l| indent_of(l))
                    .filter(|i| !i.is_empty())
                    .unwrap_or("    ");
                ops.push(op(
                    file,
                    header,
                    OpKind::Insert {
                        text: format!("{indent}option httpchk GET {path}"),
                    },
                ));
            }
            if *p == Protocol::Https && !server_words.iter().any(|w| *w == "ssl" || *w == "check-ssl") {
                // A check over TLS verifies the certificate unless told not to; HAProxy refuses a
                // server that verifies without a CA file.
                let text = if server_words.contains(&"verify") {
                    " check-ssl"
                } else {
                    " check-ssl verify none"
                };
                ops.push(op(
                    file,
                    server,
                    OpKind::Append {
                        text: text.to_string(),
                        quoted: false,
                    },
                ));
            }
            Some(ops)
        }
        // Written with the `option httpchk` a TCP check gets.
        Change::Path(_) if tcp => Some(Vec::new()),
        Change::Path(p) => {
            // Read from another file of the configuration (`-f A -f B`): not rewritten here.
            let (loc, _) = loc_of(s, "path").filter(|(l, _)| l.file == lb.loc.file)?;
            let line = lines.get((loc.line as usize).checked_sub(1)?)?;
            let words: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
            let append = |text: String| {
                Some(vec![op(
                    &loc.file,
                    loc.line as usize,
                    OpKind::Append { text, quoted: false },
                )])
            };
            match words.as_slice() {
                ["option", "httpchk"] => append(format!(" GET {p}")),
                ["http-check", "send", rest @ ..] if !rest.contains(&"uri") => append(format!(" uri {p}")),
                _ => {
                    let tok = token_at(line, loc.column as usize)?;
                    (tok != "option" && tok != "http-check").then(|| {
                        vec![op(
                            &loc.file,
                            loc.line as usize,
                            OpKind::Token {
                                col: loc.column as usize,
                                text: p.clone(),
                            },
                        )]
                    })
                }
            }
        }
        Change::Matcher => {
            let (loc, _) = loc_of(s, "matcher").filter(|(l, _)| l.file == lb.loc.file)?;
            let line = lines.get((loc.line as usize).checked_sub(1)?)?;
            (first_word(line) == "http-check").then(|| {
                vec![op(
                    &loc.file,
                    loc.line as usize,
                    OpKind::Tail {
                        col: loc.column as usize,
                        text: format!("status {CODES}"),
                    },
                )]
            })
        }
        Change::Interval(key, v) => haproxy_value(lb, key, haproxy_time(*v)?),
        Change::Threshold(key, n) => haproxy_value(lb, key, n.to_string()),
        Change::Timeout(_) | Change::NoReset(_) => None,
    }
}

/// An HAProxy server keyword's value: the token replaced where the input wrote it (the server or
/// its `default-server` line), else the keyword added to the server line.
fn haproxy_value(lb: &LbSpec, key: &str, value: String) -> Option<Vec<Op>> {
    Some(vec![match loc_of(&lb.settings, key) {
        Some((loc, false)) => op(
            &loc.file,
            loc.line as usize,
            OpKind::Token {
                col: loc.column as usize,
                text: value,
            },
        ),
        _ => op(
            &lb.loc.file,
            lb.loc.line as usize,
            OpKind::Append {
                text: format!(" {key} {value}"),
                quoted: false,
            },
        ),
    }])
}

/// Annotation prefixes (module doc of the Service reader for their meaning).
const AWS_ANN: &str = "service.beta.kubernetes.io/aws-load-balancer-";
const ANN: &str = "service.beta.kubernetes.io/";
/// AWS target-group attributes (aws-load-balancer-controller docs/guide/service/annotations.md;
/// docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html).
const CONNECTION_TERMINATION: &str = "target_health_state.unhealthy.connection_termination.enabled";
const DRAINING_INTERVAL: &str = "target_health_state.unhealthy.draining_interval_seconds";

/// A change of a Service's load balancer as its annotation.
fn service_ops(lb: &LbSpec, lines: &[String], c: &Change) -> Option<Vec<Op>> {
    let aws = lb.profile.starts_with("aws-");
    let quoted = |n: i64| format!("\"{n}\"");
    let (field, suffix, value) = match c {
        Change::Protocol(p) => {
            let v = match (p, aws) {
                (Protocol::Https, true) => "HTTPS",
                (Protocol::Http, true) => "HTTP",
                (Protocol::Https, false) => "Https",
                (Protocol::Http, false) => "Http",
                _ => return None,
            };
            (
                "protocol",
                if aws { "healthcheck-protocol" } else { "protocol" },
                v.to_string(),
            )
        }
        Change::Path(p) => ("path", if aws { "healthcheck-path" } else { "request-path" }, p.clone()),
        Change::Matcher if aws => ("matcher", "healthcheck-success-codes", CODES.to_string()),
        Change::Interval("interval", v) if v.0 % 1_000_000 == 0 => (
            "interval",
            if aws { "healthcheck-interval" } else { "interval" },
            quoted(v.0 / 1_000_000),
        ),
        Change::Timeout(v) if aws && v.0 % 1_000_000 == 0 => {
            ("timeout", "healthcheck-timeout", quoted(v.0 / 1_000_000))
        }
        Change::Threshold("unhealthy_threshold", n) if aws => (
            "unhealthy_threshold",
            "healthcheck-unhealthy-threshold",
            quoted(i64::from(*n)),
        ),
        Change::Threshold("probe_threshold", n) if !aws => ("probe_threshold", "num-of-probe", quoted(i64::from(*n))),
        Change::NoReset(drain) if aws => return no_reset_ops(lb, lines, *drain),
        _ => return None,
    };
    let key = if aws {
        format!("{AWS_ANN}{suffix}")
    } else {
        match lb.name.rsplit_once(':') {
            Some((_, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{ANN}port_{port}_health-probe_{suffix}")
            }
            _ => format!("{ANN}azure-load-balancer-health-probe-{suffix}"),
        }
    };
    // The annotation the value was read from, rewritten in place.
    if let Some((loc, false)) = loc_of(&lb.settings, field) {
        let line = lines.get((loc.line as usize).checked_sub(1)?)?;
        if loc.file == lb.loc.file && line.trim_start().starts_with(ANN) {
            return Some(vec![op(
                &loc.file,
                loc.line as usize,
                OpKind::Tail {
                    col: loc.column as usize,
                    text: value,
                },
            )]);
        }
        // Read from elsewhere (a port's appProtocol): only a port's own annotation overrides it.
        if !key.contains("/port_") {
            return None;
        }
    }
    annotation_ops(lb, lines, &key, &value)
}

/// The metadata of the Service whose `name:` is on 1-based `line`: its indentation and the
/// 0-based range of its lines.
fn metadata_block(lines: &[String], line: usize) -> Option<(String, std::ops::Range<usize>)> {
    let idx = line.checked_sub(1)?;
    let name = lines.get(idx)?;
    if !name.trim_start().starts_with("name:") {
        return None;
    }
    let ind = indent_of(name).to_string();
    let inside = |l: &String| l.trim().is_empty() || l.trim_start().starts_with('#') || indent_of(l).len() >= ind.len();
    let start = (0..idx).rev().take_while(|&i| inside(&lines[i])).last().unwrap_or(idx);
    let end = (idx..lines.len())
        .take_while(|&i| inside(&lines[i]))
        .last()
        .map_or(idx + 1, |i| i + 1);
    Some((ind, start..end))
}

/// `key: value` as an annotation of the Service: the line of that key rewritten if it is there,
/// else added under `metadata.annotations` (which is added too when the Service has none).
fn annotation_ops(lb: &LbSpec, lines: &[String], key: &str, value: &str) -> Option<Vec<Op>> {
    let file = lb.loc.file.as_str();
    let (ind, block) = metadata_block(lines, lb.loc.line as usize)?;
    let prefix = format!("{key}:");
    if let Some(i) = block.clone().find(|&i| lines[i].trim_start().starts_with(&prefix)) {
        let col = lines[i].chars().count() - lines[i].trim_start().chars().count() + prefix.chars().count() + 1;
        return Some(vec![op(
            file,
            i + 1,
            OpKind::Tail {
                col,
                text: format!(" {value}"),
            },
        )]);
    }
    let anns = block
        .clone()
        .find(|&i| indent_of(&lines[i]) == ind && lines[i].trim_start().starts_with("annotations:"));
    match anns {
        Some(i) => {
            if !lines[i].trim_start()["annotations:".len()..].trim().is_empty() {
                // Flow style (`annotations: {...}`): not rewritten.
                return None;
            }
            let child = lines
                .iter()
                .skip(i + 1)
                .find(|l| !l.trim().is_empty())
                .map(|l| indent_of(l).to_string())
                .filter(|c| c.len() > ind.len())
                .unwrap_or_else(|| format!("{ind}  "));
            Some(vec![op(
                file,
                i + 1,
                OpKind::Insert {
                    text: format!("{child}{key}: {value}"),
                },
            )])
        }
        None => {
            let at = lb.loc.line as usize;
            Some(vec![
                op(
                    file,
                    at,
                    OpKind::Insert {
                        text: format!("{ind}annotations:"),
                    },
                ),
                op(
                    file,
                    at,
                    OpKind::Insert {
                        text: format!("{ind}  {key}: {value}"),
                    },
                ),
            ])
        }
    }
}

/// GL006 in a Service: connection termination off in the target-group attributes, with an
/// unhealthy draining interval of `drain` seconds (unless one is there).
fn no_reset_ops(lb: &LbSpec, lines: &[String], drain: i64) -> Option<Vec<Op>> {
    let key = format!("{AWS_ANN}target-group-attributes");
    let off = format!("{CONNECTION_TERMINATION}=false");
    let draining = format!("{DRAINING_INTERVAL}={drain}");
    if let Some((loc, false)) = loc_of(&lb.settings, "connection_termination") {
        let line = lines.get((loc.line as usize).checked_sub(1)?)?;
        let on = format!("{CONNECTION_TERMINATION}=true");
        if !line.contains(&on) {
            return None;
        }
        let mut ops = vec![op(&loc.file, loc.line as usize, OpKind::Sub { from: on, to: off })];
        if !line.contains(DRAINING_INTERVAL) {
            ops.push(op(
                &loc.file,
                loc.line as usize,
                OpKind::Append {
                    text: format!(",{draining}"),
                    quoted: true,
                },
            ));
        }
        return Some(ops);
    }
    let (_, block) = metadata_block(lines, lb.loc.line as usize)?;
    let prefix = format!("{key}:");
    match block.clone().find(|&i| lines[i].trim_start().starts_with(&prefix)) {
        Some(i) => {
            let extra = if lines[i].contains(DRAINING_INTERVAL) {
                String::new()
            } else {
                format!(",{draining}")
            };
            Some(vec![op(
                &lb.loc.file,
                i + 1,
                OpKind::Append {
                    text: format!(",{off}{extra}"),
                    quoted: true,
                },
            )])
        }
        None => annotation_ops(lb, lines, &key, &format!("{off},{draining}")),
    }
}

/// A change of a scenario file's load balancer as a key of its `[[lb]]` table, typed as the
/// scenario reader takes it (`scenario::resolve_lb`: durations as strings like `"5s"`, counts as
/// integers, `protocol` lowercase, `matcher` in ELBv2's code syntax, `provider::matcher`): the
/// value replaced where the table writes the key (its indentation and comment kept), else
/// `key = value` added after the table's `profile =` line.
fn toml_ops(lb: &LbSpec, lines: &[String], c: &Change) -> Option<Vec<Op>> {
    let duration = |v: &Micros| (Micros::parse(&v.to_string()).ok() == Some(*v)).then(|| toml_string(&v.to_string()));
    let (key, value) = match c {
        Change::Protocol(p) => (
            "protocol",
            toml_string(match p {
                Protocol::Tcp => "tcp",
                Protocol::Http => "http",
                Protocol::Https => "https",
            }),
        ),
        Change::Path(p) => ("path", toml_string(p)),
        Change::Matcher => ("matcher", toml_string(CODES)),
        Change::Interval(key, v) => (*key, duration(v)?),
        Change::Timeout(v) => ("timeout", duration(v)?),
        Change::Threshold(key, n) => (*key, n.to_string()),
        // The model's setting (the draining interval is no `[[lb]]` key: the drain is the server's).
        Change::NoReset(_) => ("connection_termination", "false".to_string()),
    };
    let file = lb.loc.file.as_str();
    let header = (lb.loc.line as usize).checked_sub(1)?;
    if !lines.get(header)?.trim_start().starts_with("[[lb]]") {
        return None;
    }
    // The table runs until the next table header (a `[lb.latency]` sub-table too).
    let end = (header + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let writes = |i: usize, k: &str| {
        lines[i]
            .trim_start()
            .strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    if let Some(i) = (header + 1..end).find(|&i| writes(i, key)) {
        let line = &lines[i];
        let eq = line.find('=')? + 1;
        let start = eq + (line[eq..].len() - line[eq..].trim_start().len());
        toml_value_len(&line[start..])?;
        return Some(vec![op(
            file,
            i + 1,
            OpKind::Value {
                col: line[..start].chars().count() + 1,
                text: value,
            },
        )]);
    }
    let at = (header + 1..end).find(|&i| writes(i, "profile"))?;
    Some(vec![op(
        file,
        at + 1,
        OpKind::Insert {
            text: format!("{}{key} = {value}", indent_of(&lines[at])),
        },
    )])
}

/// `text` as a TOML basic string, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The length in bytes of the TOML value `s` starts with: a one-line basic or literal string, or
/// a bare number, boolean or date; `None` for a multi-line string, an array or an inline table.
fn toml_value_len(s: &str) -> Option<usize> {
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        return None;
    }
    match s.chars().next()? {
        '"' => {
            let mut escaped = false;
            for (i, c) in s.char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => return Some(i + 1),
                    _ => {}
                }
            }
            None
        }
        '\'' => s[1..].find('\'').map(|i| i + 2),
        '[' | '{' => None,
        _ => {
            let n = s
                .find(|c: char| c.is_whitespace() || matches!(c, '#' | ',' | ']' | '}'))
                .unwrap_or(s.len());
            (n > 0).then_some(n)
        }
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
