//! From the model's bindings to paths. Every Service port bound to its pod opens the kube-proxy
//! path (ClusterIP and NodePort clients, and a cloud load balancer that checks the node under
//! `externalTrafficPolicy: Cluster`); a load balancer with `Local` opens the healthCheckNodePort
//! path; AWS Load Balancer Controller ip targets open the deregistration path, with the load
//! balancer's own health check of the pod as the other way out; a NEG annotation the NEG path.
//! Ingress backends open their controller's path, and every kube-apiserver pod its `kubernetes`
//! Service path. What the model could not bind is said (GL033), never skipped.

use super::{
    apiserver_service, ingress, kube_proxy, lb_controller, local_traffic, target_findings, Path, PathsAnalysis,
};
use crate::analysis::findings::{Finding, Rule};
use crate::scenario::group::Group;
use crate::scenario::k8s::{CheckTarget, ProxyMode, Reconciler, Target};
use crate::scenario::LbSpec;

/// Judges every path the group's bindings open.
pub fn judge(g: &Group) -> PathsAnalysis {
    let mut out = PathsAnalysis {
        assumptions: g.notes.clone(),
        ..PathsAnalysis::default()
    };
    for u in &g.unjudged {
        out.general.push((
            u.subject.clone(),
            Finding::new(
                Rule::GL033,
                u.loc.clone(),
                format!("{}: {}; it cannot be judged", u.subject, u.why),
            ),
        ));
    }
    let mode = g.objects.proxy_mode.as_ref().map_or(ProxyMode::Iptables, |(m, _)| *m);
    let lb = |name: &str| -> Option<&LbSpec> { g.lbs().find(|l| l.name == name) };
    let mut judged: Vec<(Target, Path)> = Vec::new();
    for b in &g.bindings {
        let label = format!("{}:{} {}", b.service, b.port, b.ty);
        let t = &b.target;
        let mut kp = kube_proxy::path(&b.service, &label, b.service_loc.clone(), mode);
        // A load balancer that checks the node under Cluster policy reaches the pod through
        // kube-proxy: this path is its way out.
        kp.lbs = b
            .lbs
            .iter()
            .filter(|(_, c)| matches!(c, CheckTarget::NodePort | CheckTarget::KubeProxyHealthz))
            .map(|(n, _)| n.clone())
            .collect();
        judged.push((t.clone(), kp));
        for (name, check) in &b.lbs {
            let Some(spec) = lb(name) else { continue };
            match check {
                CheckTarget::HealthCheckNodePort => judged.push((
                    t.clone(),
                    local_traffic::path(&b.service, &label, b.service_loc.clone(), mode, spec),
                )),
                CheckTarget::Pod => {
                    let mut p = lb_controller::path(
                        &b.service,
                        &label,
                        b.service_loc.clone(),
                        lb_controller::Lb::Nlb,
                        b.deregistration_delay,
                        readiness_gate(g, t),
                    );
                    p.lbs = vec![name.clone()];
                    p.alternative = Some(lb_controller::health_check_of_pod(t, spec));
                    judged.push((t.clone(), p));
                }
                _ => {}
            }
        }
        if b.neg {
            judged.push((t.clone(), ingress::neg_path(&b.service, &label, b.service_loc.clone())));
        }
    }
    for ib in &g.ingresses {
        let label = format!("{} -> {}", ib.ingress, ib.service);
        let path = match ib.class.as_str() {
            "nginx" => ingress::nginx_path(&ib.service, &label, ib.loc.clone()),
            "alb" if ib.ip_targets => {
                lb_controller::path(&ib.service, &label, ib.loc.clone(), lb_controller::Lb::Alb, None, false)
            }
            "alb" => kube_proxy::path(
                &ib.service,
                &format!("{label} (ALB instance targets)"),
                ib.loc.clone(),
                mode,
            ),
            "gce" | "gce-internal" => ingress::neg_path(&ib.service, &label, ib.loc.clone()),
            other => {
                let why = format!(
                    "{}: ingress class \"{other}\" is not one graceline models (nginx, alb, gce); it cannot be judged",
                    ib.ingress
                );
                if !out.general.iter().any(|(_, f)| f.message == why) {
                    out.general
                        .push((ib.ingress.clone(), Finding::new(Rule::GL033, ib.loc.clone(), why)));
                }
                continue;
            }
        };
        if ib.class.starts_with("gce") && !ib.neg {
            let note = format!(
                "{}: GKE Ingress assumed container-native (NEG, the default on VPC-native clusters) for {}",
                ib.ingress, ib.service
            );
            if !out.assumptions.contains(&note) {
                out.assumptions.push(note);
            }
        }
        judged.push((ib.target.clone(), path));
    }
    for a in &g.objects.apiservers {
        let t = Target::apiserver(a);
        let loc = a.reconciler_loc.clone().unwrap_or_else(|| a.container_loc.clone());
        if a.reconciler_loc.is_none() {
            out.assumptions.push(format!(
                "{}: --endpoint-reconciler-type not set: lease (the default since 1.11)",
                a.server.origin
            ));
        }
        judged.push((t, apiserver_service::path(&a.server.pod, loc, a.reconciler, mode)));
        if a.reconciler == Reconciler::Lease {
            out.general.push((
                a.server.pod.clone(),
                Finding::new(
                    Rule::GL035,
                    a.container_loc.clone(),
                    format!(
                        "{}: if this kube-apiserver crashes instead of shutting down, it stays in the `kubernetes` endpoints for up to {} (lease TTL + a peer's reconcile) and in-cluster clients get refused connections meanwhile",
                        a.server.pod,
                        apiserver_service::crash_window()
                    ),
                ),
            ));
        }
    }
    // Issue 16's families: Gateway API, Istio, headless DNS, MetalLB, Cilium (paths::added).
    super::added::extend(g, &mut judged, &mut out);
    let mut seen: Vec<String> = Vec::new();
    for (t, p) in judged {
        let key = format!("{}/{}", t.name, t.container);
        if !seen.contains(&key) {
            seen.push(key);
            for f in target_findings(&t)
                .into_iter()
                .chain(super::added::target_findings(g, &t))
            {
                out.general.push((t.name.clone(), f));
            }
        }
        out.reports.push(super::added::judge(g, &t, p));
    }
    out
}

/// Whether the AWS Load Balancer Controller injects a pod readiness gate for the target's pods:
/// a label on the pod template that names the controller's gate (elbv2.k8s.aws).
fn readiness_gate(g: &Group, t: &Target) -> bool {
    g.objects
        .workloads
        .iter()
        .find(|w| w.name == t.name)
        .is_some_and(|w| w.labels.keys().any(|k| k.starts_with("elbv2.k8s.aws")))
}
