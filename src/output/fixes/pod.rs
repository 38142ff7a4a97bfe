//! Fixes of a workload's pods: the preStop sleep (a plain `sleep`, or the `sleep N` a shell
//! script starts with) and `terminationGracePeriodSeconds` its Kubernetes paths ask for.

use super::*;

/// The edits that give a workload the preStop sleep and grace period its failing paths ask for:
/// the number of an existing `sleep N` / `seconds: N` replaced, or a `lifecycle.preStop.sleep`
/// added to the container; `terminationGracePeriodSeconds` replaced, or added to the pod spec.
pub(super) fn path_edits(o: &Outcome, texts: &Texts) -> Vec<Edit> {
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
    // Many workloads may live in one manifest: its lines are taken once.
    let mut files: HashMap<&str, Option<Vec<String>>> = HashMap::new();
    for (key, (t, prestop, grace)) in wanted {
        let Some(lines) = files
            .entry(t.file.as_str())
            .or_insert_with(|| lines_of(&t.file, texts))
            .as_deref()
        else {
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
                    match script_sleep(lines, idx, secs) {
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
pub(super) const SHELL: &str = r#"["']?(?:/usr)?(?:/bin/)?(?:sh|bash|ash|dash|zsh)["']?"#;

/// The line of an exec preStop `["sh", "-c", "<script>"]` (flow style on line `idx`, or block
/// style: `- sh`, `- -c`, `- <script>` from line `idx` on) rewritten so the script sleeps `secs`
/// first: the number of the `sleep N` it starts with replaced, else `sleep N; ` put in front.
/// `None` for any other hook (or a script written as a block scalar).
pub(super) fn script_sleep(lines: &[String], idx: usize, secs: i64) -> Option<(usize, String)> {
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
