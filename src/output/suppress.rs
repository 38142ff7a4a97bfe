//! Suppressions and baselines, as checkov, kube-linter and ruff users expect them:
//!
//! - inline, in the input's own comments: `# graceline:ignore GL007 reason` in an haproxy.cfg,
//!   YAML or TOML file, on the finding's line or alone on the line(s) just above it;
//! - on a Kubernetes object: the annotation `graceline.io/ignore: "GL003: reason"` (several
//!   entries separated by `;`) covers the findings located inside that object;
//! - `[[ignore]]` entries of graceline.toml (rule, optional subject glob, reason, optional
//!   `expires` date: from the day after, the entry stops suppressing and says so);
//! - a baseline (`graceline baseline > FILE`, then `check --baseline FILE`): findings whose
//!   fingerprints it holds are suppressed, so only new ones fail.
//!
//! A suppressed finding is taken out of the outcome (so it never counts toward the exit code)
//! and reported beside it with its reason: SARIF `suppressions` (kind `inSource` or
//! `external`), JSON `suppressed`, a line in the table. A suppression that matches nothing is
//! said, naming its line.

use super::SourceRoot;
use crate::analysis::findings::Finding;
use crate::analysis::outcome::Outcome;
use crate::error::Loc;
use crate::scenario::sources::{BaselineDoc, BaselineEntry, Ignore, InlineSuppression};
use serde::Serialize;
use std::cell::Cell;
use std::collections::HashSet;

pub use crate::scenario::sources::Baseline;

pub use crate::scenario::sources::{ANNOTATION, MARKER};

/// Where a suppression lives (SARIF `suppression.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// In the input itself (a comment, an annotation).
    InSource,
    /// Outside it (graceline.toml `[[ignore]]`, a baseline).
    External,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// In the input or outside it.
    pub kind: Kind,
    /// The reason given.
    pub justification: String,
    /// Where it was given (`file:line:column`, or `baseline FILE`).
    pub origin: String,
}

/// A finding taken out of the outcome, with what it was about and why; identical findings (same
/// rule, place, evidence and suppression) about several subjects are one, naming them all.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The finding (its message names every subject of the group).
    pub finding: Finding,
    /// What it is about (load balancers, `server NAME`, a path, an object).
    pub subjects: Vec<String>,
    /// One fingerprint per subject (as in SARIF and the baseline).
    pub fingerprints: Vec<String>,
    /// Why it is suppressed.
    pub suppression: Suppression,
}

impl Suppressed {
    /// The subjects said once (`backend/cp1, cp2, cp3`).
    pub fn subject(&self) -> String {
        let names: Vec<&str> = self.subjects.iter().map(String::as_str).collect();
        super::join_names(&names)
    }
}

impl Baseline {
    /// The baseline document of every finding of `o`, one entry per fingerprint.
    pub fn document(o: &Outcome, root: &SourceRoot) -> String {
        let mut findings = Vec::new();
        for x in super::reported(o) {
            let names = x.subjects();
            for (i, fp) in x.fingerprints(root).into_iter().enumerate() {
                findings.push(BaselineEntry {
                    fingerprint: fp,
                    rule: x.finding.rule.id().to_string(),
                    subject: names.get(i).cloned().unwrap_or_else(|| x.subject_name()),
                    file: root.display(&x.finding.loc.file),
                    line: x.finding.loc.line,
                });
            }
        }
        findings.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let doc = BaselineDoc {
            tool: "graceline".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            findings,
        };
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
        s.push('\n');
        s
    }
}

/// Every suppression of a run, and which of them matched.
#[derive(Debug, Default)]
pub struct Suppressions {
    in_source: Vec<(InlineSuppression, Cell<bool>)>,
    ignores: Vec<(Ignore, Cell<bool>, bool)>,
    baseline: Option<Baseline>,
    baseline_used: std::cell::RefCell<HashSet<String>>,
}

/// Today's date (UTC) as (year, month, day), from the system clock.
pub fn today() -> (i32, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        i32::try_from(y).unwrap_or(i32::MAX),
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

impl Suppressions {
    /// The run's suppressions: those written in the inputs (read with them), the project's
    /// `[[ignore]]` entries and the baseline.
    pub fn collect(
        in_source: Vec<InlineSuppression>,
        ignores: Vec<Ignore>,
        baseline: Option<Baseline>,
    ) -> Suppressions {
        let today = today();
        Suppressions {
            in_source: in_source.into_iter().map(|s| (s, Cell::new(false))).collect(),
            ignores: ignores
                .into_iter()
                .map(|i| {
                    let live = i.expires.is_none_or(|d| today <= d);
                    (i, Cell::new(false), live)
                })
                .collect(),
            baseline,
            baseline_used: Default::default(),
        }
    }

    /// Why `f` (about `names`, with fingerprint `fp`) is suppressed, if it is.
    fn decide(&self, f: &Finding, names: &[&str], fp: &str) -> Option<Suppression> {
        let rule = f.rule.id();
        for (s, used) in &self.in_source {
            if s.loc.file == f.loc.file
                && (s.lines.0..=s.lines.1).contains(&f.loc.line)
                && s.rules.iter().any(|r| r == rule)
            {
                used.set(true);
                return Some(Suppression {
                    kind: Kind::InSource,
                    justification: s.reason.clone(),
                    origin: s.loc.to_string(),
                });
            }
        }
        for (i, used, live) in &self.ignores {
            let subject =
                i.lb.as_ref()
                    .is_none_or(|g| glob::Pattern::new(g).is_ok_and(|p| names.iter().any(|n| p.matches(n))));
            if i.rule == rule && subject {
                used.set(true);
                if *live {
                    return Some(Suppression {
                        kind: Kind::External,
                        justification: i.reason.clone(),
                        origin: i.loc.to_string(),
                    });
                }
            }
        }
        if let Some(b) = self.baseline.as_ref().filter(|b| b.fingerprints.contains(fp)) {
            self.baseline_used.borrow_mut().insert(fp.to_string());
            return Some(Suppression {
                kind: Kind::External,
                justification: format!("in the baseline {}", b.file),
                origin: format!("baseline {}", b.file),
            });
        }
        None
    }

    /// Takes every suppressed finding out of `o` (so it never counts toward the exit code) and
    /// returns them with their reasons.
    pub fn apply(&self, o: &mut Outcome, root: &SourceRoot) -> Vec<Suppressed> {
        let mut out: Vec<Suppressed> = Vec::new();
        // (rule, place, evidence, origin) -> index in `out`.
        let mut groups: std::collections::HashMap<(crate::analysis::findings::Rule, Loc, String, String), usize> =
            Default::default();
        let mut take = |f: &Finding, names: Vec<&str>, subject: String, fp: String| -> bool {
            let Some(s) = self.decide(f, &names, &fp) else {
                return true;
            };
            let evidence = f
                .message
                .strip_prefix(&format!("{subject}: "))
                .unwrap_or(&f.message)
                .to_string();
            let key = (f.rule, f.loc.clone(), evidence.clone(), s.origin.clone());
            match groups.get(&key) {
                Some(&i) => {
                    let g = &mut out[i];
                    if !g.fingerprints.contains(&fp) {
                        g.fingerprints.push(fp);
                        g.subjects.push(subject);
                        if g.finding.message != evidence {
                            g.finding.message = format!("{}: {evidence}", g.subject());
                        }
                    }
                }
                None => {
                    groups.insert(key, out.len());
                    out.push(Suppressed {
                        finding: f.clone(),
                        subjects: vec![subject],
                        fingerprints: vec![fp],
                        suppression: s,
                    });
                }
            }
            false
        };
        for r in &mut o.lbs {
            let (lb, scenario, server) = (r.lb.clone(), r.scenario.clone(), r.server.clone());
            r.findings.retain(|f| {
                let (fp, subject) = if f.rule.server_level() {
                    (
                        format!("{}:{}:{}", f.rule.id(), root.display(&f.loc.file), server),
                        format!("server {server}"),
                    )
                } else {
                    (format!("{}:{scenario}:{lb}:{server}", f.rule.id()), lb.clone())
                };
                take(f, vec![lb.as_str(), server.as_str()], subject, fp)
            });
        }
        for r in &mut o.paths {
            let (target, path) = (r.target.name.clone(), r.path.name.clone());
            r.findings.retain(|f| {
                let fp = format!("{}:{target}|{path}", f.rule.id());
                take(f, vec![target.as_str(), path.as_str()], format!("{target}|{path}"), fp)
            });
        }
        o.general
            .retain(|(s, f)| take(f, vec![s.as_str()], s.clone(), format!("{}:{s}", f.rule.id())));
        out
    }

    /// What did not work: suppressions that matched no finding (naming their line), comments and
    /// annotations without a rule, expired `[[ignore]]` entries, baseline entries whose findings
    /// are gone.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (s, used) in &self.in_source {
            if s.rules.is_empty() {
                out.push(format!(
                    "{}: this {} names no rule (write `{MARKER} GL001 reason`, or `{ANNOTATION}: \"GL001: reason\"`); it suppresses nothing",
                    s.loc, s.what
                ));
            } else if !used.get() {
                out.push(format!(
                    "{}: `{MARKER} {}` matches no finding (it covers {}); remove it",
                    s.loc,
                    s.rules.join(","),
                    if s.lines.0 == s.lines.1 {
                        format!("line {}", s.lines.0)
                    } else {
                        format!("lines {}-{}", s.lines.0, s.lines.1)
                    }
                ));
            }
        }
        for (i, used, live) in &self.ignores {
            let what = match &i.lb {
                Some(lb) => format!("[[ignore]] {} for {lb}", i.rule),
                None => format!("[[ignore]] {}", i.rule),
            };
            if !live {
                let (y, m, d) = i.expires.unwrap_or_default();
                out.push(format!(
                    "{}: {what} expired on {y:04}-{m:02}-{d:02}: it no longer suppresses{}",
                    i.loc,
                    if used.get() {
                        " (its findings are reported again)"
                    } else {
                        ""
                    }
                ));
            } else if !used.get() {
                out.push(format!("{}: {what} matches no finding; remove it", i.loc));
            }
        }
        if let Some(b) = &self.baseline {
            let used = self.baseline_used.borrow();
            let gone = b.fingerprints.iter().filter(|f| !used.contains(*f)).count();
            if gone > 0 {
                out.push(format!(
                    "{}: {gone} baseline entr{} match no finding any more (fixed?); write it again with `graceline baseline > {}`",
                    b.file,
                    if gone == 1 { "y does" } else { "ies do" },
                    b.file
                ));
            }
        }
        out
    }
}

/// The suppressed findings as the table prints them: one line each, with the reason and where it
/// was given.
pub fn table_lines(suppressed: &[Suppressed]) -> String {
    suppressed
        .iter()
        .map(|s| {
            let f = &s.finding;
            let why = if s.suppression.justification.is_empty() {
                "no reason given"
            } else {
                s.suppression.justification.as_str()
            };
            format!(
                "  {}[{}] {} at {}: {why} ({})",
                f.severity,
                f.rule.id(),
                s.subject(),
                f.loc,
                s.suppression.origin
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
