//! From the model's bindings to paths. Every Service port bound to its pod opens the kube-proxy
//! path (ClusterIP and NodePort clients, and a cloud load balancer that checks the node under
//! `externalTrafficPolicy: Cluster`); a load balancer with `Local` opens the healthCheckNodePort
//! path; AWS Load Balancer Controller ip targets open the deregistration path, with the load
//! balancer's own health check of the pod as the other way out; a NEG annotation the NEG path.
//! Ingress backends open their controller's path, and every kube-apiserver pod its `kubernetes`
//! Service path. What the model could not bind is said (GL033), never skipped.

use super::{
    analyze, apiserver_service, ingress, kube_proxy, lb_controller, local_traffic, target_findings, Path,
    PathsAnalysis, Stage,
};
use crate::analysis::findings::{Finding, Rule};
use crate::profiles::Evidence;
use crate::scenario::group::{Group, LastEndpoint};
use crate::scenario::k8s::{CheckTarget, ProxyMode, Target};
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
    // Paths judged again as a single pod's deletion outside a rollout (GL042).
    let mut on_deletion: Vec<(Target, String, Path)> = Vec::new();
    for b in &g.bindings {
        let label = format!("{}:{} {}", b.service, b.port, b.ty);
        let t = &b.target;
        let mut kp = match &b.last {
            LastEndpoint::Always(why) => {
                kube_proxy::last_endpoint_path(&b.service, &label, b.service_loc.clone(), mode, t, why)
            }
            _ => kube_proxy::path(&b.service, &label, b.service_loc.clone(), mode),
        };
        // A load balancer that checks the node under Cluster policy reaches the pod through
        // kube-proxy: this path is its way out.
        kp.lbs = b
            .lbs
            .iter()
            .filter(|(_, c)| matches!(c, CheckTarget::NodePort | CheckTarget::KubeProxyHealthz))
            .map(|(n, _)| n.clone())
            .collect();
        if let LastEndpoint::OnDeletion(why) = &b.last {
            let fallback = kube_proxy::last_endpoint_path(&b.service, &label, b.service_loc.clone(), mode, t, why);
            on_deletion.push((t.clone(), kp.name.clone(), fallback));
        }
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
        // A NEG that a GKE Ingress among the inputs uses is judged once, as that Ingress's path.
        let by_ingress = g
            .ingresses
            .iter()
            .any(|ib| ib.service == b.service && ib.class.starts_with("gce") && ib.target.name == t.name);
        if b.neg && !by_ingress {
            let mut p = ingress::neg_path(&b.service, &label, b.service_loc.clone());
            p.alternative = gclb_check(b.gclb.as_ref(), t, &mut out.assumptions);
            judged.push((t.clone(), p));
        }
    }
    for ib in &g.ingresses {
        let label = format!("{} -> {}", ib.ingress, ib.service);
        let path = match ib.class.as_str() {
            // service-upstream: NGINX sends to the Service's ClusterIP, so kube-proxy withdraws the pod
            // (kubernetes/ingress-nginx docs/user-guide/nginx-configuration/annotations.md).
            "nginx" if ib.service_upstream => kube_proxy::path(
                &ib.service,
                &format!("{label} (ingress-nginx service-upstream)"),
                ib.loc.clone(),
                mode,
            ),
            "nginx" => ingress::nginx_path(&ib.service, &label, ib.loc.clone()),
            "alb" if ib.ip_targets => lb_controller::path(
                &ib.service,
                &label,
                ib.loc.clone(),
                lb_controller::Lb::Alb,
                ib.deregistration_delay,
                readiness_gate(g, &ib.target),
            ),
            "alb" => kube_proxy::path(
                &ib.service,
                &format!("{label} (ALB instance targets)"),
                ib.loc.clone(),
                mode,
            ),
            "gce" | "gce-internal" => {
                let mut p = ingress::neg_path(&ib.service, &label, ib.loc.clone());
                p.alternative = gclb_check(ib.gclb.as_ref(), &ib.target, &mut out.assumptions);
                p
            }
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
        judged.push((
            t,
            apiserver_service::path(&a.server.pod, loc.clone(), a.reconciler, mode),
        ));
        if let Some((rule, message)) = apiserver_service::crash_finding(&a.server.pod, a.reconciler) {
            let at = if rule == Rule::GL035 {
                a.container_loc.clone()
            } else {
                loc
            };
            out.general
                .push((a.server.pod.clone(), Finding::new(rule, at, message)));
        }
    }
    // Issue 16's families: Gateway API, Istio, headless DNS, MetalLB, Cilium (paths::added).
    super::added::extend(g, &mut judged, &mut out);
    // publishNotReadyAddresses keeps a terminating pod's endpoint ready (ready := publishNotReady
    // || (serving && !terminating), staging/src/k8s.io/endpointslice/utils.go podToEndpoint): no
    // consumer of the endpoints stops sending before the pod is gone.
    for b in g.bindings.iter().filter(|b| b.publish_not_ready.is_some()) {
        for (t, p) in judged.iter_mut() {
            if p.service == b.service && t.name == b.target.name {
                p.stages.clear();
                p.alternative = None;
                p.never_withdrawn = Some(format!(
                    "publishNotReadyAddresses: true ({}) keeps the terminating pod's endpoint ready (staging/src/k8s.io/endpointslice/utils.go, podToEndpoint), so every consumer keeps sending to it until the Pod object is deleted, after the app exits; no preStop fixes it: drop publishNotReadyAddresses from Services that serve clients",
                    b.publish_not_ready.as_ref().map_or_else(String::new, ToString::to_string)
                ));
            }
        }
    }
    for (_, p) in judged.iter_mut() {
        configured(p, g);
    }
    for (_, _, p) in on_deletion.iter_mut() {
        configured(p, g);
    }
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
    // A single pod whose rollouts surge a replacement first, deleted or evicted outside a rollout:
    // a warning on its kube-proxy path with the figures of that case.
    for (t, name, fallback) in on_deletion {
        let r = analyze(&t, &fallback, g.min_margin);
        let bad = r.margin.is_none_or(|m| m < g.min_margin);
        let Some(path) = out
            .reports
            .iter_mut()
            .find(|x| x.target.name == t.name && x.path.name == name)
        else {
            continue;
        };
        if !bad {
            continue;
        }
        let after = match (r.last_send_worst, r.margin) {
            (Some(w), Some(m)) if m <= crate::time::Micros::ZERO => {
                format!(
                    "it keeps receiving new connections until {w}, {} after it stops listening at {}",
                    w - r.stop_listening,
                    r.stop_listening
                )
            }
            (Some(w), Some(m)) => format!("the last new connection comes at {w}, only {m} before it stops listening"),
            _ => "it keeps receiving new connections until it exits".to_string(),
        };
        let why = fallback.notes.last().cloned().unwrap_or_default();
        path.findings.push(Finding::new(
            Rule::GL042,
            t.finding_loc(),
            format!(
                "{} via {} ({}): if this single pod is deleted or evicted outside a rollout (a node drain), {why}: {after}; run two replicas or make its readiness probe fail at SIGTERM",
                t.name,
                path.path.kind.name(),
                path.path.name
            ),
        ));
        path.findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
        if path.verdict == super::PathVerdict::Pass {
            path.verdict = super::PathVerdict::Warn;
        }
    }
    out
}

/// The stages the inputs configure, replaced by the values read: kube-proxy's minimum sync period
/// (`KubeProxyConfiguration`) and kube-controller-manager's `--endpointslice-updates-batch-period`.
/// A change arriving within the period waits for it: the stage runs from 0 to the period.
fn configured(p: &mut Path, g: &Group) {
    let set = |stage: &mut Stage, (d, loc): &(crate::time::Micros, crate::error::Loc), what: &str| {
        stage.lo = crate::time::Micros::ZERO;
        stage.hi = *d;
        stage.tail = stage.tail.map(|t| t.max(*d));
        stage.evidence = Evidence::Code;
        stage.unverified = false;
        stage.source = format!("{what} = {d}, read at {loc}");
    };
    for stage in p.stages.iter_mut() {
        match (&g.objects.proxy_min_sync, &g.objects.endpointslice_batch) {
            (Some(v), _) if stage.id.starts_with("kube-proxy-sync-") => set(stage, v, "minSyncPeriod"),
            (_, Some(v)) if stage.id == "endpointslice-batch" => set(stage, v, "--endpointslice-updates-batch-period"),
            _ => {}
        }
    }
}

/// Whether the AWS Load Balancer Controller injects a pod readiness gate into the target's pods:
/// the label `elbv2.k8s.aws/pod-readiness-gate-inject=enabled` on their Namespace
/// (aws-load-balancer-controller docs/deploy/pod_readiness_gate.md); `None` when the Namespace
/// is not among the inputs.
fn readiness_gate(g: &Group, t: &Target) -> Option<bool> {
    let ns = g.objects.workloads.iter().find(|w| w.name == t.name)?.namespace.clone();
    let n = g.objects.namespaces.iter().find(|n| n.name == ns)?;
    Some(
        n.labels
            .get("elbv2.k8s.aws/pod-readiness-gate-inject")
            .map(String::as_str)
            == Some("enabled"),
    )
}

/// The other way a NEG endpoint leaves the Google Cloud load balancer: its own health check of the
/// pod (GKE's defaults, the readiness probe, the BackendConfig; `scenario::gke`), with what it
/// assumed said once.
fn gclb_check(
    input: Option<&crate::scenario::LbInput>,
    t: &Target,
    assumptions: &mut Vec<String>,
) -> Option<super::Alternative> {
    let input = input?;
    for (key, value, why) in &input.assumed {
        let line = format!("{}: {key} = {value} assumed: {why}", input.name);
        if !assumptions.contains(&line) {
            assumptions.push(line);
        }
    }
    match crate::scenario::build_lb(input, &t.server) {
        Ok(spec) => Some(lb_controller::health_check_of_pod(t, &spec)),
        Err(e) => {
            assumptions.push(format!("{}: not modelled: {e}", input.name));
            None
        }
    }
}
