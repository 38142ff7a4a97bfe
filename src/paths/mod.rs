//! Kubernetes paths: the ways a request reaches a pod or kube-apiserver other than a load
//! balancer's own health checks. When a pod is deleted, endpoint withdrawal (EndpointSlice → every
//! consumer: kube-proxy, cloud LB controllers, ingress controllers) and the pod's own shutdown
//! (preStop, SIGTERM) start at the same instant; a path is the chain of stages from that instant
//! until its consumer stops sending new connections. New connections reach a closed port when the
//! app stops listening before the slowest stage is over.
//!
//! One module per path family: [`kube_proxy`] (ClusterIP, NodePort, LB nodes with
//! `externalTrafficPolicy: Cluster`), [`local_traffic`] (`externalTrafficPolicy: Local` +
//! healthCheckNodePort + the LB's health-check model), [`lb_controller`] (AWS Load Balancer
//! Controller ip targets), [`ingress`] (GKE NEG, ingress-nginx), [`apiserver_service`] (the
//! `kubernetes` Service). Stage figures with their sources live in `profiles/kubernetes-paths.toml`
//! ([`figures`]); [`build`] matches Services to workloads; [`sample`] draws stage durations for
//! `simulate`.
//!
//! Time origin: the pod's deletion (t = 0, the grace-period clock starts). Tie rule: a consumer
//! that stops sending at the very instant the app stops listening fails, like GL001 (a connection
//! sent just before that instant is still in flight when the listener closes).

pub mod added;
pub mod apiserver_service;
pub mod build;
pub mod cilium;
pub mod dns;
pub mod gateway;
pub mod ingress;
pub mod kube_proxy;
pub mod kubelet;
pub mod lb_controller;
pub mod local_traffic;
pub mod mesh;
pub mod metallb;
pub mod readiness;
pub mod sample;

use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::scenario::k8s::Prestop;
pub use crate::scenario::k8s::Target;
pub use crate::scenario::path_figures as figures;
pub use crate::scenario::path_settings as settings;
use crate::time::Micros;
pub use figures::Stage;
use serde::Serialize;

/// The families of paths graceline models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathKind {
    /// ClusterIP / NodePort / LB nodes (eTP Cluster) via kube-proxy on every node.
    KubeProxy,
    /// `externalTrafficPolicy: Local`: healthCheckNodePort, then the LB's health checks.
    LocalTraffic,
    /// AWS Load Balancer Controller with ip targets.
    LbController,
    /// GKE container-native load balancing (NEG).
    GkeNeg,
    /// ingress-nginx.
    IngressNginx,
    /// kube-apiserver's own `kubernetes` Service.
    KubernetesService,
    /// Gateway API implemented by Envoy Gateway ([`gateway`]).
    GatewayEnvoyGateway,
    /// Gateway API implemented by Contour.
    GatewayContour,
    /// Gateway API implemented by Istio.
    GatewayIstio,
    /// Gateway API implemented by GKE's Gateway controller (NEG).
    GatewayGke,
    /// Istio sidecar clients, fed by istiod's EDS ([`mesh`]).
    IstioMesh,
    /// Cilium's eBPF kube-proxy replacement ([`cilium`]).
    Cilium,
    /// A headless Service resolved through CoreDNS ([`dns`]).
    HeadlessDns,
    /// MetalLB layer 2 with `externalTrafficPolicy: Local` ([`metallb`]).
    #[serde(rename = "metallb-l2")]
    MetalLbL2,
    /// MetalLB BGP with `externalTrafficPolicy: Local`.
    #[serde(rename = "metallb-bgp")]
    MetalLbBgp,
}

impl PathKind {
    /// The name in output.
    pub fn name(self) -> &'static str {
        match self {
            PathKind::KubeProxy => "kube-proxy",
            PathKind::LocalTraffic => "local-traffic",
            PathKind::LbController => "lb-controller",
            PathKind::GkeNeg => "gke-neg",
            PathKind::IngressNginx => "ingress-nginx",
            PathKind::KubernetesService => "kubernetes-service",
            PathKind::GatewayEnvoyGateway => "gateway-envoy-gateway",
            PathKind::GatewayContour => "gateway-contour",
            PathKind::GatewayIstio => "gateway-istio",
            PathKind::GatewayGke => "gateway-gke",
            PathKind::IstioMesh => "istio-mesh",
            PathKind::Cilium => "cilium",
            PathKind::HeadlessDns => "headless-dns",
            PathKind::MetalLbL2 => "metallb-l2",
            PathKind::MetalLbBgp => "metallb-bgp",
        }
    }
}

/// When a path's first stage starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// At the pod's deletion, in parallel with preStop.
    Deletion,
    /// At SIGTERM (kube-apiserver's pre-shutdown hook), after any preStop.
    Sigterm,
}

/// One path: a chain of stages from its start until its consumer sends no new connection.
#[derive(Debug, Clone)]
pub struct Path {
    /// Family.
    pub kind: PathKind,
    /// Name in reports, e.g. `default/web:80 ClusterIP`.
    pub name: String,
    /// The Service (`namespace/name`).
    pub service: String,
    /// Where the Service (or the apiserver container) is declared.
    pub loc: Loc,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// When the first stage starts.
    pub start: Start,
    /// kube-apiserver: the first stage is the pre-shutdown hook and the listener closes only after
    /// both it and `--shutdown-delay-duration` are over.
    pub listener_waits_for_first_stage: bool,
    /// The endpoint is never withdrawn before the pod is gone (`--endpoint-reconciler-type=none`,
    /// publishNotReadyAddresses, a TCP check of the healthCheckNodePort): why.
    pub never_withdrawn: Option<String>,
    /// What else a user should know (keep-alive clients, deregistration delay, fallbacks).
    pub notes: Vec<String>,
    /// The cloud load balancers this path is the way out of (their rows in the load-balancer
    /// table carry its verdict).
    pub lbs: Vec<String>,
    /// A second, independent way the consumer stops sending (the LB's own health check of an ip
    /// target next to the controller's deregistration): the earlier of the two ends the path.
    pub alternative: Option<Alternative>,
}

/// Another chain of stages that also ends a path; whichever finishes first counts.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// What it is, in words.
    pub label: String,
    /// Its stages, from the path's start.
    pub stages: Vec<Stage>,
}

fn sum_lo(stages: &[Stage]) -> Micros {
    stages.iter().fold(Micros::ZERO, |a, s| a + s.lo)
}

fn sum_hi(stages: &[Stage]) -> Micros {
    stages.iter().fold(Micros::ZERO, |a, s| a + s.hi)
}

/// The stage whose tail reaches furthest beyond its typical top (the first of equals).
fn largest_tail(stages: &[Stage]) -> Option<&Stage> {
    stages
        .iter()
        .filter(|s| s.tail_hi() > s.hi)
        .fold(None, |m: Option<&Stage>, s| match m {
            Some(x) if x.tail_hi() - x.hi >= s.tail_hi() - s.hi => Some(x),
            _ => Some(s),
        })
}

/// A chain's worst case in the tail tier: one stage at the top of its tail (the one reaching
/// furthest), the others at their typical tops. Tails are rare and independent; every stage at
/// its tail at once would describe no shutdown anyone observed.
fn sum_tail(stages: &[Stage]) -> Micros {
    sum_hi(stages) + largest_tail(stages).map_or(Micros::ZERO, |s| s.tail_hi() - s.hi)
}

impl Path {
    /// The shortest time to the end: the sum of the stages' lower ends (the earlier chain's when
    /// there is an alternative).
    pub fn best(&self) -> Micros {
        let own = sum_lo(&self.stages);
        self.alternative.as_ref().map_or(own, |a| own.min(sum_lo(&a.stages)))
    }

    /// The worst case: the sum of the stages' upper ends (with an alternative, the earlier of the
    /// two chains' worst cases: the chains are independent, so both can be at their worst).
    pub fn worst(&self) -> Micros {
        let own = sum_hi(&self.stages);
        self.alternative.as_ref().map_or(own, |a| own.min(sum_hi(&a.stages)))
    }

    /// The worst case of the tail tier: the stage whose tail reaches furthest at the top of it.
    pub fn worst_tail(&self) -> Micros {
        let own = sum_tail(&self.stages);
        self.alternative.as_ref().map_or(own, |a| own.min(sum_tail(&a.stages)))
    }

    /// True when some stage has a tail beyond its typical range.
    pub fn has_tail(&self) -> bool {
        self.worst_tail() > self.worst()
    }

    /// The stage at the top of its tail in the tail tier's worst case.
    pub fn tail_stage(&self) -> Option<&Stage> {
        let own = sum_tail(&self.stages);
        match &self.alternative {
            Some(a) if sum_tail(&a.stages) < own => largest_tail(&a.stages),
            _ => largest_tail(&self.stages),
        }
    }

    /// The chain that bounds the worst case: the path's own stages, or the alternative's.
    pub fn binding_stages(&self) -> &[Stage] {
        match &self.alternative {
            Some(a) if sum_hi(&a.stages) < sum_hi(&self.stages) => &a.stages,
            _ => &self.stages,
        }
    }

    /// The stage with the largest upper end in the binding chain (the first of equals).
    pub fn slowest(&self) -> Option<&Stage> {
        self.binding_stages().iter().fold(None, |m: Option<&Stage>, s| match m {
            Some(x) if x.hi >= s.hi => Some(x),
            _ => Some(s),
        })
    }
}

/// Verdict of one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathVerdict {
    /// The last consumer stops sending at least the minimum margin before the app stops listening.
    Pass,
    /// It stops before, with less than the margin.
    Warn,
    /// New connections can reach a closed port.
    Fail,
}

/// The answer for one target × path.
#[derive(Debug, Clone)]
pub struct PathReport {
    /// The pod side.
    pub target: Target,
    /// The path.
    pub path: Path,
    /// SIGTERM (after preStop).
    pub sigterm: Micros,
    /// When the app stops listening in the worst case (from the deletion).
    pub stop_listening: Micros,
    /// SIGKILL.
    pub kill: Micros,
    /// Worst case from the deletion until the last consumer stops sending (`None`: never).
    pub last_send_worst: Option<Micros>,
    /// Best case.
    pub last_send_best: Micros,
    /// `stop_listening - last_send_worst` (`None`: never withdrawn).
    pub margin: Option<Micros>,
    /// Minimum margin for a pass.
    pub min_margin: Micros,
    /// The smallest whole-second preStop sleep that passes with the margin (`None` when a preStop
    /// cannot help: the path starts at SIGTERM, or never ends).
    pub recommended_prestop: Option<Micros>,
    /// The terminationGracePeriodSeconds the recommended preStop then needs.
    pub recommended_grace: Option<Micros>,
    /// kube-apiserver: the smallest whole-second `--shutdown-delay-duration` that passes.
    pub recommended_shutdown_delay: Option<Micros>,
    /// The tail tier, when a stage's evidence reaches beyond its typical range.
    pub tail: Option<Tail>,
    /// Findings about this path, most severe first.
    pub findings: Vec<Finding>,
    /// Verdict.
    pub verdict: PathVerdict,
}

/// A path's figures in the tail tier (every stage at the top of its tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// When the last consumer stops sending, from the path's time origin (the deletion).
    pub last_send: Micros,
    /// When the app stops listening in that case.
    pub stop_listening: Micros,
    /// `stop_listening - last_send`.
    pub margin: Micros,
    /// The preStop that covers the tail.
    pub recommended_prestop: Option<Micros>,
    /// The grace period that preStop needs.
    pub recommended_grace: Option<Micros>,
    /// kube-apiserver: the delay that covers the tail.
    pub recommended_shutdown_delay: Option<Micros>,
}

/// Whole seconds at or above `m` (never negative).
pub fn ceil_secs(m: Micros) -> Micros {
    if m.0 <= 0 {
        return Micros::ZERO;
    }
    Micros::from_secs((m.0 + 999_999) / 1_000_000)
}

/// When the app stops listening, given the first stage's duration `hook` (used only when the
/// listener waits for it) and a preStop of `prestop`.
pub fn stop_listening(t: &Target, path: &Path, prestop: Micros, hook: Micros) -> Micros {
    let mut s = t.server.clone();
    s.prestop_sleep = prestop;
    let tl = s.timeline();
    let app = if path.listener_waits_for_first_stage {
        // The listener waits for the hook at most its timeout: a hook that times out has removed
        // nothing, and the endpoint goes only when its lease expires (the stage's tail).
        let waited = hook.min(figures::figures().stage("apiserver-hook-timeout").hi);
        (tl.e1 + t.app_delay().max(waited)).min(tl.kill)
    } else {
        tl.e3
    };
    // An istio-proxy sidecar that exits first closes the pod's inbound port before the app (mesh).
    t.istio_proxy.as_ref().map_or(app, |sc| app.min(sc.exit))
}

/// True for a stage that lasts until a moment of the pod's own shutdown, so it grows one for one
/// with the preStop (E2, the exit, the PLEG relist after the exit).
pub fn follows_prestop(s: &Stage) -> bool {
    matches!(s.id.as_str(), "until-readiness-fails" | "until-exit" | "pleg-relist")
}

/// The smallest preStop with which a path started at the deletion passes with `min_margin`, in
/// the typical tier or the tail tier; `None` when no preStop does. Each chain is solved on its
/// own: a chain of fixed stages needs preStop + app delay >= its worst + margin; a chain that
/// waits for the pod's own shutdown (the LB's health check of an ip target waits for E2) moves
/// with the preStop, so a longer one never helps it: it passes at any preStop or at none. The
/// path ends with the earlier chain, so the smaller of the chains' answers is the preStop needed.
fn prestop_needed(t: &Target, path: &Path, tail: bool, min_margin: Micros) -> Option<Micros> {
    let sum = |st: &[Stage]| if tail { sum_tail(st) } else { sum_hi(st) };
    let need = |st: &[Stage]| -> Option<Micros> {
        let w = sum(st);
        if st.iter().any(follows_prestop) {
            let after_prestop = w - t.server.prestop_sleep;
            (after_prestop + min_margin <= t.app_delay()).then_some(Micros::ZERO)
        } else {
            Some(ceil_secs(w + min_margin - t.app_delay()))
        }
    };
    let own = need(&path.stages);
    let alt = path.alternative.as_ref().and_then(|a| need(&a.stages));
    own.into_iter().chain(alt).min()
}

/// The preStop (from the deletion) or the delay (from SIGTERM) that makes the path pass with
/// `min_margin` in the typical tier or the tail tier: (preStop, grace, delay).
fn needed(t: &Target, path: &Path, tail: bool, min_margin: Micros) -> (Option<Micros>, Option<Micros>, Option<Micros>) {
    let w = if tail { path.worst_tail() } else { path.worst() };
    match path.start {
        Start::Deletion => {
            // stop = preStop + app delay (grace raised as needed) >= worst + margin; the grace
            // period lets the app drain after it (one drain formula: analysis::full_drain).
            let Some(p) = prestop_needed(t, path, tail, min_margin) else {
                return (None, None, None);
            };
            let with = crate::timeline::ServerSpec {
                prestop_sleep: p,
                ..t.server.clone()
            };
            (
                Some(p),
                Some(ceil_secs(crate::analysis::rules::grace::full_drain(&with))),
                None,
            )
        }
        // stop = SIGTERM + max(delay, hook) >= SIGTERM + path worst + margin.
        Start::Sigterm => (None, None, Some(ceil_secs(w + min_margin - t.server.readyz_fail_after))),
    }
}

/// The fix in words for a (preStop, grace, delay) triple.
fn fix_words(rec: (Option<Micros>, Option<Micros>, Option<Micros>)) -> String {
    match rec {
        (Some(p), Some(g), _) => format!(
            "fix: preStop sleep >= {}s (terminationGracePeriodSeconds >= {}s)",
            p.0 / 1_000_000,
            g.0 / 1_000_000
        ),
        (_, _, Some(d)) => format!("fix: --shutdown-delay-duration >= {}s (a preStop sleep does not help: the endpoint is removed only from SIGTERM on)", d.0 / 1_000_000),
        _ => String::new(),
    }
}

/// Judges one path of one target with the required minimum margin.
pub fn analyze(t: &Target, path: &Path, min_margin: Micros) -> PathReport {
    let tl = t.server.timeline();
    let start = match path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => tl.e1,
    };
    let hook_hi = if path.listener_waits_for_first_stage {
        path.stages.first().map_or(Micros::ZERO, |s| s.hi)
    } else {
        Micros::ZERO
    };
    let stop = stop_listening(t, path, t.server.prestop_sleep, hook_hi);
    let worst = path.never_withdrawn.is_none().then(|| start + path.worst());
    let best = start + path.best();
    let margin = worst.map(|w| stop - w);
    let loc = t.finding_loc();
    let mut findings = Vec::new();
    let (rec_pre, rec_grace, rec_delay) = worst.map_or((None, None, None), |_| needed(t, path, false, min_margin));
    let fix = fix_words((rec_pre, rec_grace, rec_delay));
    // The tail tier: the stage whose tail reaches furthest at the top of it; a warning of its own
    // (GL040), with the fix that covers it.
    let tail = (path.never_withdrawn.is_none() && path.has_tail()).then(|| {
        let hook_tail = match (path.listener_waits_for_first_stage, path.stages.first()) {
            (true, Some(first)) if path.tail_stage().is_some_and(|s| s.id == first.id) => first.tail_hi(),
            (true, Some(first)) => first.hi,
            _ => Micros::ZERO,
        };
        let stop_tail = stop_listening(t, path, t.server.prestop_sleep, hook_tail);
        let w = start + path.worst_tail();
        let rec = needed(t, path, true, min_margin);
        Tail {
            last_send: w,
            stop_listening: stop_tail,
            margin: stop_tail - w,
            recommended_prestop: rec.0,
            recommended_grace: rec.1,
            recommended_shutdown_delay: rec.2,
        }
    });
    let slowest = path
        .slowest()
        .map(|s| {
            format!(
                "slowest stage: {} ({}, up to {}{})",
                s.id,
                s.label,
                s.hi,
                if s.unverified { ", unverified figure" } else { "" }
            )
        })
        .unwrap_or_default();
    let own = if t.apiserver {
        format!(
            "SIGTERM at {} + max(--shutdown-delay-duration {}, hook {})",
            tl.e1,
            t.app_delay(),
            hook_hi
        )
    } else {
        format!("preStop {} + the app's own delay {}", tl.e1, t.app_delay())
    };
    match (worst, margin) {
        (Some(w), Some(m)) if m <= Micros::ZERO => findings.push(Finding::new(
            Rule::GL030,
            loc.clone(),
            format!(
                "{} via {} ({}): worst case {} from {} until the last consumer stops sending new connections ({slowest}), but the app stops listening at {} ({own}); new connections can reach a closed port for up to {}; {fix}",
                t.name,
                path.kind.name(),
                path.name,
                w,
                if path.start == Start::Deletion { "the pod's deletion" } else { "SIGTERM" },
                stop,
                w - stop
            ),
        )),
        (Some(w), Some(m)) if m < min_margin => findings.push(Finding::new(
            Rule::GL031,
            loc.clone(),
            format!(
                "{} via {} ({}): margin {} (app stops listening at {}, last consumer stops sending at {} worst case; {slowest}) is below the minimum {}; {fix}",
                t.name,
                path.kind.name(),
                path.name,
                m,
                stop,
                w,
                min_margin
            ),
        )),
        _ => {}
    }
    if let Some(x) = tail
        .as_ref()
        .filter(|x| x.margin < min_margin && margin.is_some_and(|m| m >= min_margin))
    {
        let sources: Vec<String> = path
            .tail_stage()
            .map(|s| {
                format!(
                    "{} up to {} instead of {}: {}",
                    s.id,
                    s.tail_hi(),
                    s.hi,
                    s.tail_source.as_deref().unwrap_or_default()
                )
            })
            .into_iter()
            .collect();
        findings.push(Finding::new(
            Rule::GL040,
            loc.clone(),
            format!(
                "{} via {} ({}): in the tail of the evidence ({}) the last consumer stops sending at {}, {} the app stops listening at {}; {} (covers the tail)",
                t.name,
                path.kind.name(),
                path.name,
                sources.join("; "),
                x.last_send,
                if x.margin <= Micros::ZERO { "after" } else { "too close before" },
                x.stop_listening,
                fix_words((x.recommended_prestop, x.recommended_grace, x.recommended_shutdown_delay))
            ),
        ));
    }
    if let Some(why) = &path.never_withdrawn {
        findings.push(Finding::new(
            if path.kind == PathKind::KubernetesService {
                Rule::GL032
            } else {
                Rule::GL041
            },
            path.loc.clone(),
            format!("{} via {} ({}): {why}", t.name, path.kind.name(), path.name),
        ));
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    let verdict = if findings
        .iter()
        .any(|f| f.severity == crate::analysis::findings::Severity::Error)
    {
        PathVerdict::Fail
    } else if findings
        .iter()
        .any(|f| f.severity == crate::analysis::findings::Severity::Warning)
    {
        PathVerdict::Warn
    } else {
        PathVerdict::Pass
    };
    PathReport {
        target: t.clone(),
        path: path.clone(),
        sigterm: tl.e1,
        stop_listening: stop,
        kill: tl.kill,
        last_send_worst: worst,
        last_send_best: best,
        margin,
        min_margin,
        recommended_prestop: rec_pre,
        recommended_grace: rec_grace,
        recommended_shutdown_delay: rec_delay,
        tail,
        findings,
        verdict,
    }
}

/// Findings about a target as a whole (once per workload, not per path): GL004 when preStop +
/// the app's delay + its drain outlast the grace period, GL034 for a preStop that is not a sleep.
pub fn target_findings(t: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    let s = &t.server;
    let needed = crate::analysis::rules::grace::full_drain(s);
    let tl = s.timeline();
    let hook = if t.sidecar {
        format!(
            "the app containers' exit and the sidecar's own preStop ({}: a native sidecar is stopped after the app containers)",
            s.prestop_sleep
        )
    } else {
        format!("the preStop hook ({})", s.prestop_sleep)
    };
    if s.prestop_sleep >= s.termination_grace_period {
        // The kubelet cuts the hook at the grace period, sends SIGTERM, SIGKILL 2 s later.
        out.push(Finding::new(
            Rule::GL004,
            t.grace_loc.clone(),
            format!(
                "{}: {hook} outlasts terminationGracePeriodSeconds {}{}: the kubelet cuts it at {}, sends SIGTERM then and SIGKILL {} later (pkg/kubelet/kuberuntime/kuberuntime_container.go), so the app gets {} of the {} its delay and drain need; raise terminationGracePeriodSeconds to at least {needed}",
                t.name,
                s.termination_grace_period,
                if t.grace_defaulted { " (the default)" } else { "" },
                tl.e1,
                tl.kill - tl.e1,
                tl.kill - tl.e1,
                needed - s.prestop_sleep,
            ),
        ));
    } else if tl.kill < needed {
        out.push(Finding::new(
            Rule::GL004,
            t.grace_loc.clone(),
            format!(
                "{}: terminationGracePeriodSeconds {}{} < preStop {} + the app's delay {} + drain {} = {}; SIGKILL cuts the drain {} early",
                t.name,
                s.termination_grace_period,
                if t.grace_defaulted { " (the default)" } else { "" },
                s.prestop_sleep,
                t.app_delay(),
                needed - s.prestop_sleep - t.app_delay(),
                needed,
                needed - tl.kill
            ),
        ));
    }
    if let Prestop::Unknown { what, assumed, loc } = &t.prestop {
        out.push(Finding::new(
            Rule::GL034,
            loc.clone(),
            format!(
                "{}: the preStop hook ({what}) is not a plain sleep, so its duration is unknown; assumed {assumed} (state it with lifecycle.preStop.sleep.seconds or `sleep N`)",
                t.name
            ),
        ));
    }
    out
}

/// Everything the Kubernetes paths of a run found.
#[derive(Debug, Clone, Default)]
pub struct PathsAnalysis {
    /// One report per target × path.
    pub reports: Vec<PathReport>,
    /// Findings about workloads and Services as a whole: `(subject, finding)`.
    pub general: Vec<(String, Finding)>,
    /// What graceline assumed rather than read, one line each.
    pub assumptions: Vec<String>,
}

impl PathsAnalysis {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.general.is_empty()
    }

    /// Every finding (paths first, then the general ones).
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.reports
            .iter()
            .flat_map(|r| &r.findings)
            .chain(self.general.iter().map(|(_, f)| f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{server_from_profile, ServerSource};

    pub(crate) fn app(prestop: u32, grace: u32) -> Target {
        let at = Loc {
            file: "d.yaml".into(),
            line: 1,
            column: 1,
        };
        let (mut server, _) = server_from_profile("app-stops-at-sigterm", &at).unwrap();
        server.prestop_sleep = Micros::from_secs(prestop.into());
        server.termination_grace_period = Micros::from_secs(grace.into());
        Target {
            kind: "Deployment".into(),
            name: "default/web".into(),
            file: "d.yaml".into(),
            container: "web".into(),
            container_loc: at.clone(),
            grace_loc: at.clone(),
            grace_defaulted: false,
            prestop: if prestop > 0 {
                Prestop::Sleep {
                    duration: Micros::from_secs(prestop.into()),
                    loc: at.clone(),
                }
            } else {
                Prestop::None
            },
            server,
            server_source: ServerSource {
                origin: "builtin:app-stops-at-sigterm".into(),
                assumed: true,
                reason: "test".into(),
            },
            delay_loc: None,
            apiserver: false,
            readiness: None,
            probe: None,
            sidecar: false,
            istio_proxy: None,
        }
    }

    #[test]
    fn clusterip_without_prestop_fails_and_the_recommendation_passes() {
        // kube-proxy iptables chain: 1 + 0 + 1 + 1 + 1 = 4 s worst; app stops at 0 s -> margin -4 s.
        let at = Loc {
            file: "s.yaml".into(),
            line: 1,
            column: 1,
        };
        let path = kube_proxy::path(
            "default/web",
            "ClusterIP :80",
            at,
            crate::scenario::k8s::ProxyMode::Iptables,
        );
        let r = analyze(&app(0, 30), &path, Micros::from_secs(5));
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(4)));
        assert_eq!(r.margin, Some(Micros::from_secs(-4)));
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.findings[0].rule, Rule::GL030);
        // 4 s + 5 s margin = 9 s; grace 9 + 0 + 25 s drain = 34 s.
        assert_eq!(r.recommended_prestop, Some(Micros::from_secs(9)));
        assert_eq!(r.recommended_grace, Some(Micros::from_secs(34)));
        // The typical fix clears the typical findings; the tail tier (the stage reaching furthest,
        // a stale cache's 1 + 2 + 4 s of retries: 4 + 7 = 11 s) is a warning of its own that names
        // its fix: 11 + 5 = 16 s of preStop, 16 + 25 = 41 s of grace.
        let r = analyze(&app(9, 34), &path, Micros::from_secs(5));
        assert_eq!(r.verdict, PathVerdict::Warn);
        assert_eq!(r.findings.iter().map(|f| f.rule).collect::<Vec<_>>(), [Rule::GL040]);
        let tail = r.tail.unwrap();
        assert_eq!(tail.last_send, Micros::from_secs(11));
        assert_eq!(tail.recommended_prestop, Some(Micros::from_secs(16)));
        assert_eq!(tail.recommended_grace, Some(Micros::from_secs(41)));
        assert!(
            r.findings[0].message.contains("fix: preStop sleep >= 16s"),
            "{:?}",
            r.findings
        );
        assert_eq!(
            analyze(&app(16, 41), &path, Micros::from_secs(5)).verdict,
            PathVerdict::Pass
        );
        assert_eq!(
            analyze(&app(15, 41), &path, Micros::from_secs(5)).verdict,
            PathVerdict::Warn
        );
        let r = analyze(&app(8, 34), &path, Micros::from_secs(5));
        assert_eq!(r.verdict, PathVerdict::Warn);
        assert_eq!(r.findings[0].rule, Rule::GL031);
        // Equality fails (tie rule): preStop 4 s stops listening exactly when kube-proxy is done.
        assert_eq!(
            analyze(&app(4, 34), &path, Micros::from_secs(5)).verdict,
            PathVerdict::Fail
        );
    }

    #[test]
    fn grace_period_findings_and_ceil() {
        assert!(target_findings(&app(10, 30)).iter().any(|f| f.rule == Rule::GL004));
        assert!(target_findings(&app(5, 30)).is_empty());
        assert_eq!(ceil_secs(Micros(1)), Micros::from_secs(1));
        assert_eq!(ceil_secs(Micros::from_secs(-3)), Micros::ZERO);
        assert_eq!(ceil_secs(Micros::from_secs(7)), Micros::from_secs(7));
    }
}
