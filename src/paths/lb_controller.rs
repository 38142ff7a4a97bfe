//! AWS Load Balancer Controller with ip targets: the controller drops a terminating endpoint on
//! its next reconcile and calls DeregisterTargets; the NLB (or ALB) data plane keeps sending new
//! connections for a while after that (field reports: about 120 s, up to 180 s), whatever the
//! deregistration delay. Instance targets go through kube-proxy instead ([`super::kube_proxy`]).

use super::figures::{figures, Stage};
use super::kube_proxy::endpointslice_stages;
use super::{Alternative, Path, PathKind, Start};
use crate::analysis::exact::extremes_with;
use crate::error::Loc;
use crate::scenario::k8s::Target;
use crate::scenario::LbSpec;
use crate::time::Micros;

/// Which load balancer the controller drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lb {
    /// A Service of type LoadBalancer (NLB).
    Nlb,
    /// An Ingress of class alb (ALB).
    Alb,
}

/// The deregistration path of ip targets. `deregistration_delay` is the target group attribute
/// (read from the annotation, else AWS's 300 s default, said in the notes).
pub fn path(
    service: &str,
    name: &str,
    loc: Loc,
    lb: Lb,
    deregistration_delay: Option<Micros>,
    readiness_gate: Option<bool>,
) -> Path {
    let f = figures();
    let mut stages = endpointslice_stages();
    stages.push(f.stage("endpointslice-watch"));
    stages.push(f.stage("lbc-reconcile"));
    stages.push(f.stage("deregister-targets-api"));
    stages.push(f.stage(match lb {
        Lb::Nlb => "nlb-deregistration-lag",
        Lb::Alb => "alb-deregistration-lag",
    }));
    let delay = match deregistration_delay {
        Some(d) => format!("deregistration_delay.timeout_seconds = {d}"),
        None => "deregistration_delay 300s (AWS default, assumed: no target-group-attributes annotation)".to_string(),
    };
    let end = match lb {
        Lb::Nlb => "the NLB resets them at the delay's end",
        Lb::Alb => "the ALB closes them at the delay's end",
    };
    let mut notes = vec![format!(
        "{delay}: in-flight connections may drain that long after deregistration; it does not stop new connections sooner (the lag stage does); the pod must keep serving them or {end}"
    )];
    notes.push(match readiness_gate {
        Some(true) => "pod readiness gate injected (its Namespace has elbv2.k8s.aws/pod-readiness-gate-inject=enabled): it paces the rollout (new targets healthy before old pods go); it does not delay deregistration of the old pod".to_string(),
        Some(false) => "no pod readiness gate (its Namespace lacks the label elbv2.k8s.aws/pod-readiness-gate-inject=enabled): a rollout may delete old pods before new targets are healthy".to_string(),
        None => "pod readiness gate unknown: the pods' Namespace is not among the inputs (the label elbv2.k8s.aws/pod-readiness-gate-inject=enabled on it injects the gate, which paces rollouts)".to_string(),
    });
    Path {
        kind: PathKind::LbController,
        name: format!(
            "{name} via AWS Load Balancer Controller ({} ip targets)",
            match lb {
                Lb::Nlb => "NLB",
                Lb::Alb => "ALB",
            }
        ),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        lbs: Vec::new(),
        alternative: None,
        notes,
    }
}

/// The other way an ip target leaves the load balancer: its own health check of the pod notices
/// the readiness failure (the LB's provider model against the pod's shutdown, detection plus
/// propagation) after the pod's preStop and readiness delay.
pub fn health_check_of_pod(t: &Target, lb: &LbSpec) -> Alternative {
    let s = &t.server;
    let until_e2 = s.prestop_sleep + s.readyz_fail_after;
    let lat = lb.latency_range(s);
    let ext = extremes_with(s, &lb.model, lat);
    let sees = s.readyz_failure.concrete().iter().all(|&m| lb.model.view.sees(m));
    Alternative {
        label: format!(
            "{} ({}) health check of the pod{}",
            lb.name,
            lb.profile,
            if sees {
                ""
            } else {
                " (blind to readiness: it fails only once the pod stops listening)"
            }
        ),
        stages: vec![
            Stage::computed(
                "until-readiness-fails",
                "preStop and the app's readiness delay until the check can fail (E2)".to_string(),
                until_e2,
                until_e2,
                crate::profiles::Evidence::Documented,
                "the pod spec (preStop, terminationGracePeriodSeconds) and the app's shutdown profile".to_string(),
            ),
            with_lb_tail(
                Stage::computed(
                    "lb-health-check",
                    format!("{} marks the pod down, + propagation {}", lb.name, lb.model.propagation),
                    ext.best.time,
                    ext.worst.time,
                    propagation_evidence(lb),
                    format!(
                        "graceline's {} model with the Service's settings (src/provider, profiles/{}.toml)",
                        lb.profile, lb.profile
                    ),
                ),
                lb,
            ),
        ],
    }
}

/// A load balancer's health-check stage with the tail of its propagation evidence as the stage's
/// tail (GL040), when the tail reaches beyond the propagation the model carries (the error tier).
pub fn with_lb_tail(mut stage: Stage, lb: &LbSpec) -> Stage {
    let resolved = crate::analysis::tiers::resolve_lb(lb);
    let tail = crate::provider::tiers::pick(&resolved, crate::provider::tiers::Tier::Tail);
    let extra = tail.figure.range.hi - lb.model.propagation.hi;
    if tail.tier == crate::provider::tiers::Tier::Tail && extra > crate::time::Micros::ZERO {
        stage.tail = Some(stage.hi + extra);
        stage.tail_source = Some(format!(
            "{}'s propagation in the tail of the evidence, {} instead of {}{}: {}{}",
            lb.name,
            tail.figure.range,
            lb.model.propagation,
            tail.why.as_ref().map_or_else(String::new, |w| format!(" ({w})")),
            tail.figure.cite,
            tail.figure
                .caveats
                .as_ref()
                .map_or_else(String::new, |c| format!("; caveats: {c}"))
        ));
    }
    stage
}

/// The evidence of a health-check stage: its propagation's (field for the NLB, none where no
/// figure exists), or the provider's code when the user measured it or it has none to add.
pub fn propagation_evidence(lb: &LbSpec) -> crate::profiles::Evidence {
    let user = lb.settings.propagation_delay.as_ref().is_some_and(|p| !p.from_profile);
    if user || lb.model.propagation.is_zero() && lb.propagation_note.is_none() {
        crate::profiles::Evidence::Code
    } else {
        lb.propagation_evidence
    }
}
