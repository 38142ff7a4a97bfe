//! One outcome per run: every load balancer's report, every Kubernetes path's report, findings
//! about workloads and Services as a whole, what was skipped and what was assumed. Analysis runs
//! once and yields this value; every output renders it and computes no verdict of its own.
//!
//! A Kubernetes Service's load balancer and the paths of the pods behind it are one result: when
//! the load balancer checks the node (instance targets or GCP under `externalTrafficPolicy:
//! Cluster`: kube-proxy's path; `Local`: the healthCheckNodePort path) or deregisters ip targets
//! (the controller's path, raced by its own health check of the pod), its row carries that path's
//! figures and verdict, measured like the path from the pod's deletion.

use super::findings::{Finding, Rule, Severity};
use super::rules::{self, reset, route};
use super::{analyze, LbReport, TimesFrom, Verdict};
use crate::paths::{PathKind, PathReport, PathVerdict, PathsAnalysis};
use crate::scenario::group::Group;
use crate::scenario::k8s::CheckTarget;
use crate::scenario::{LbSpec, Scenario, SkippedLb};
use serde::Serialize;

/// Everything one run found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// One report per (server or pod, load balancer).
    pub lbs: Vec<LbReport>,
    /// One report per (pod, Kubernetes path).
    pub paths: Vec<PathReport>,
    /// Findings about workloads, Services and Ingresses as a whole: `(subject, finding)`.
    pub general: Vec<(String, Finding)>,
    /// Load balancers read but not judged: `(scenario, skipped)`.
    pub skipped: Vec<(String, SkippedLb)>,
    /// What was assumed rather than read about the Kubernetes objects, one line each.
    pub assumptions: Vec<String>,
}

impl Outcome {
    /// Every finding once: the load balancers', the paths', then the general ones.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.lbs
            .iter()
            .flat_map(|r| &r.findings)
            .chain(self.paths.iter().flat_map(|r| &r.findings))
            .chain(self.general.iter().map(|(_, f)| f))
    }

    /// True when a finding reaches `fail_on` (exit code 1).
    pub fn fails(&self, fail_on: Option<Severity>) -> bool {
        fail_on.is_some_and(|min| self.findings().any(|f| f.severity >= min))
    }

    /// The Kubernetes side of the outcome (paths, general findings, assumptions).
    pub fn paths_analysis(&self) -> PathsAnalysis {
        PathsAnalysis {
            reports: self.paths.clone(),
            general: self.general.clone(),
            assumptions: self.assumptions.clone(),
        }
    }

    /// True when the run judged nothing at all.
    pub fn is_empty(&self) -> bool {
        self.lbs.is_empty() && self.paths.is_empty() && self.general.is_empty()
    }
}

/// The Kubernetes path a load balancer's row takes its verdict from.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// The path's name (as in the paths table).
    pub path: String,
    /// Its family.
    pub kind: PathKind,
    /// What the load balancer checks.
    pub check: CheckTarget,
    /// The path never stops sending before the pod is gone (its worst case is no figure).
    pub never: bool,
}

/// Judges every group once: paths first (they read the load balancers' models), then each load
/// balancer, which is dropped once judged so a large input never holds every LB and every
/// report at once.
pub fn run(groups: Vec<Group>) -> Outcome {
    let mut out = Outcome::default();
    for mut g in groups {
        let k = crate::paths::build::judge(&g);
        let first_path = out.paths.len();
        out.paths.extend(k.reports);
        for (s, f) in k.general {
            if !out
                .general
                .iter()
                .any(|(_, x)| x.rule == f.rule && x.loc == f.loc && x.message == f.message)
            {
                out.general.push((s, f));
            }
        }
        for a in k.assumptions {
            if !out.assumptions.contains(&a) {
                out.assumptions.push(a);
            }
        }
        for sc in &mut g.scenarios {
            out.skipped
                .extend(sc.skipped.iter().map(|k| (sc.name.clone(), k.clone())));
            let mut lbs = std::mem::take(&mut sc.lbs);
            lbs.reverse();
            while let Some(lb) = lbs.pop() {
                if lbs.len() < lbs.capacity() / 2 {
                    lbs.shrink_to_fit();
                }
                let report = analyze(sc, &lb);
                let path = route_of(sc, &lb, &out.paths[first_path..]).map(|i| first_path + i);
                out.lbs.push(match path {
                    Some(i) => {
                        let row = with_route(report, &lb, &out.paths[i]);
                        lift(&mut out.paths[i], &row);
                        row
                    }
                    None => without_route(report, &lb),
                });
            }
        }
    }
    // A server's grace-period finding is said once: by its load balancers when they judge it.
    let lb_locs: Vec<_> = out
        .lbs
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.rule == Rule::GL004)
        .map(|f| f.loc.clone())
        .collect();
    out.general
        .retain(|(_, f)| !(f.rule == Rule::GL004 && lb_locs.contains(&f.loc)));
    out
}

/// The index in `paths` of this load balancer's way out of the pod, if any.
fn route_of(sc: &Scenario, lb: &LbSpec, paths: &[PathReport]) -> Option<usize> {
    if lb.check == CheckTarget::Server || lb.service.is_none() {
        return None;
    }
    // A workload's scenario: its own path; the group's server: the path of the Service's pods.
    let target = sc.target.as_ref().map(|t| t.name.as_str());
    paths
        .iter()
        .position(|p| target.is_none_or(|t| p.target.name == t) && p.path.lbs.contains(&lb.name))
}

fn verdict_of(findings: &[Finding]) -> Verdict {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Verdict::Fail,
        Some(Severity::Warning) => Verdict::Warn,
        _ => Verdict::Pass,
    }
}

/// One verdict in both tables: the load balancer's own findings (a reset of established
/// connections, a setting out of range) count for its path too, said in the path's notes.
fn lift(p: &mut PathReport, row: &LbReport) {
    let to = match row.verdict {
        Verdict::Pass => PathVerdict::Pass,
        Verdict::Warn => PathVerdict::Warn,
        Verdict::Fail => PathVerdict::Fail,
    };
    if to > p.verdict {
        let rules: Vec<&str> = row
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Note)
            .map(|f| f.rule.id())
            .collect();
        p.path.notes.push(format!(
            "{}'s own findings ({}) make this path {}: see the load-balancer table",
            row.lb,
            rules.join(", "),
            if to == PathVerdict::Fail { "FAIL" } else { "WARN" }
        ));
        p.verdict = to;
    }
}

/// A load balancer's row with the verdict and figures of its Kubernetes path.
fn with_route(mut r: LbReport, lb: &LbSpec, p: &PathReport) -> LbReport {
    r.findings.retain(|f| !route::superseded(f.rule, lb.check));
    if lb.check == CheckTarget::HealthCheckNodePort {
        reset::behind_node(&mut r.findings, lb, p);
    }
    r.findings.push(route::via_path(lb, p));
    rules::sort(&mut r.findings);
    let own = verdict_of(&r.findings);
    let from_path = match p.verdict {
        PathVerdict::Pass => Verdict::Pass,
        PathVerdict::Warn => Verdict::Warn,
        PathVerdict::Fail => Verdict::Fail,
    };
    r.verdict = own.max(from_path);
    let worst = p.last_send_worst.unwrap_or(crate::time::MAX_INPUT);
    r.extremes.worst.time = worst;
    r.extremes.worst.detection = worst;
    r.extremes.best.time = p.last_send_best;
    r.extremes.best.detection = p.last_send_best;
    r.budget = p.stop_listening;
    r.margin = p.margin.unwrap_or(p.stop_listening - worst);
    r.recommended_shutdown_delay = None;
    r.recommended_termination_grace_period = p.recommended_grace;
    r.recommended_fix_binds = None;
    r.recommended_prestop = p.recommended_prestop;
    r.times_from = TimesFrom::PodDeletion;
    // The path's figures replace the load balancer's own, tiers included.
    r.tiers.clear();
    r.route = Some(Route {
        path: p.path.name.clone(),
        kind: p.path.kind,
        check: lb.check,
        never: p.last_send_worst.is_none(),
    });
    r
}

/// A Service's load balancer that checks the node but has no path to leave the pod by (a Service
/// without a selector): its health check says nothing about the pod's shutdown.
fn without_route(mut r: LbReport, lb: &LbSpec) -> LbReport {
    let Some(gl010) = route::without_path(lb) else {
        return r;
    };
    r.findings.retain(|f| !route::superseded(f.rule, lb.check));
    r.findings.push(gl010);
    r.verdict = verdict_of(&r.findings);
    r.recommended_shutdown_delay = None;
    r.recommended_termination_grace_period = None;
    r.recommended_fix_binds = None;
    r.times_from = TimesFrom::NotJudged;
    r.tiers.clear();
    r
}
