//! Fixes of a load balancer's own check: which settings change (judged again on the model
//! before anything is written) and, per syntax, the ops that write them.

use super::*;

/// Where a load balancer's settings are written, when a diff can write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LbSyntax {
    /// `server`, `default-server` and `option httpchk` lines of an haproxy.cfg.
    Haproxy,
    /// The annotations of a Kubernetes Service (AWS, Azure) in YAML.
    Service,
    /// The keys of a scenario file's `[[lb]]` table (any provider).
    Scenario,
}

/// The syntax a load balancer's settings were read in, from what the model says of it (its
/// profile, its Service) and its file's syntax.
pub(super) fn lb_syntax(lb: &LbSpec, texts: &Texts) -> Option<LbSyntax> {
    if !writable(&lb.loc.file) {
        return None;
    }
    // A scenario file locates a load balancer at its `[[lb]]` header (whatever its provider).
    if syntax_of(&lb.loc.file, texts) == Syntax::Toml {
        let header = texts.line(&lb.loc.file, lb.loc.line)?;
        return (lb.service.is_none() && header.trim_start().starts_with("[[lb]]")).then_some(LbSyntax::Scenario);
    }
    if syntax_of(&lb.loc.file, texts) == Syntax::Haproxy {
        return Some(LbSyntax::Haproxy);
    }
    (lb.service.is_some()
        && lb.provider.service_annotations().is_some()
        && syntax_of(&lb.loc.file, texts) == Syntax::Yaml)
        .then_some(LbSyntax::Service)
}

/// A file a diff can change (not a built-in profile, not standard input).
pub(super) fn writable(file: &str) -> bool {
    !file.starts_with("builtin:") && file != crate::error::STDIN_NAME
}

/// One setting a load balancer's fix changes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
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
pub(super) const CODES: &str = "200-399";

/// `v` in `slot`, at the location of the value it replaces (else the load balancer's).
pub(super) fn set<T>(slot: &mut Option<Located<T>>, value: T, lb: &LbSpec) {
    let loc = slot.as_ref().map_or_else(|| lb.loc.clone(), |l| l.loc.clone());
    *slot = Some(Located {
        value,
        loc,
        from_profile: false,
    });
}

/// [`set`] for one of the provider's own settings (`inter`, `probe_threshold`, ...).
pub(super) fn set_own<T: OwnType>(s: &mut LbSettings, key: &'static str, value: T, lb: &LbSpec) {
    let mut slot = s.own_as::<T>(key);
    set(&mut slot, value, lb);
    if let Some(v) = slot {
        s.set_own(key, v);
    }
}

/// The changes that fix `r`'s load-balancer findings, each with its rule, kept only when the
/// load balancer rebuilt with them and judged again is clean of that rule; with that report.
pub(super) fn judge_fix(sc: &Scenario, lb: &LbSpec, r: &LbReport, server_file: bool) -> Option<Fix> {
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
pub(super) struct Fix {
    /// Each change with the rule it fixes.
    changes: Vec<(Rule, Change)>,
    /// A rule the changes fix besides their own.
    also: Option<Rule>,
    /// The shutdown delay and grace period the load balancer asks for, judged again with the
    /// changes.
    after: (Option<Micros>, Option<Micros>),
}

/// The changes of one printed alternative (`fall = 2`, `interval = 5s (timeout 5s)`).
pub(super) fn alternative_changes(
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
pub(super) fn apply(s: &mut crate::provider::LbSettings, c: &Change, lb: &LbSpec) {
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
pub(super) fn loc_of(s: &crate::provider::LbSettings, key: &str) -> Option<(Loc, bool)> {
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
pub(super) type Judged<'o> = BTreeMap<(&'o str, &'o str), (Option<Micros>, Option<Micros>)>;

/// The edits of every load balancer whose GL001/GL002/GL003/GL006 findings a change of its own
/// check fixes, and those load balancers judged again with the fix (keyed by scenario and LB).
pub(super) fn lb_edits<'o>(scenarios: &[ServerOf], o: &'o Outcome, texts: &Texts) -> (Vec<Edit>, Judged<'o>) {
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

/// The ops that write `changes` in the load balancer's own syntax; a rule one of whose changes
/// cannot be written gets none.
pub(super) fn write_changes(
    lb: &LbSpec,
    lines: &[String],
    changes: &[(Rule, Change)],
    texts: &Texts,
) -> Vec<(Rule, Op)> {
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
