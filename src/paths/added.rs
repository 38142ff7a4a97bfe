//! Issue 16's path families in the judgement of a group ([`super::build::judge`] calls these):
//! [`extend`] adds the Gateway API, Istio mesh, headless-DNS and MetalLB paths, rewrites every
//! kube-proxy stage for Cilium when it replaces kube-proxy and says what is assumed or not
//! modelled; [`judge`] applies the measured stage figures of `[paths.stages]`, the termination
//! of `[paths] termination` and the pod's Istio sidecar to one path; [`target_findings`] adds what
//! the termination and the sidecar do to a workload as a whole (GL036, GL037).

use super::gateway::{self, Implementation};
use super::kubelet::{self, Kill};
use super::readiness::{self, Fix};
use super::settings::{Dataplane, PathSettings, Termination, PATH_PREFIX};
use super::Stage;
use super::{cilium, dns, mesh, metallb, Path, PathReport, PathsAnalysis};
use crate::analysis::findings::Finding;
use crate::profiles::Evidence;
use crate::scenario::group::Group;
use crate::scenario::k8s::{CheckTarget, Probe, Target};

/// The readiness probe of the target's container, when the inputs give one.
pub fn probe_of(t: &Target) -> Option<&Probe> {
    t.probe.as_ref()
}

fn note(out: &mut PathsAnalysis, n: String) {
    if !out.assumptions.contains(&n) {
        out.assumptions.push(n);
    }
}

/// Adds the paths of issue 16's families to `judged` and their notes to `out`.
pub fn extend(g: &Group, judged: &mut Vec<(Target, Path)>, out: &mut PathsAnalysis) {
    let a = &g.added;
    for b in &a.routes {
        if let Some(imp) = Implementation::of_controller(&b.controller) {
            judged.push((
                b.target.clone(),
                gateway::path(imp, &b.route, &b.gateway, &b.service, b.loc.clone()),
            ));
        }
    }
    let mut meshed: Vec<(String, String)> = Vec::new();
    for b in &g.bindings {
        let key = (b.service.clone(), b.target.name.clone());
        if a.member(&b.target.name).is_some() && !meshed.contains(&key) {
            meshed.push(key);
            judged.push((
                b.target.clone(),
                mesh::path(&b.service, &format!("{}:{}", b.service, b.port), b.service_loc.clone()),
            ));
        }
    }
    for m in &a.mesh {
        note(out, mesh::describe(m));
    }
    for b in &a.dns {
        let label = format!("{}:{}", b.service, b.port);
        let p = match &b.publish_not_ready {
            Some(at) => dns::path_publishing_not_ready(&b.service, &label, b.service_loc.clone(), at),
            None => dns::path(&b.service, &label, b.service_loc.clone()),
        };
        judged.push((b.target.clone(), p));
    }
    for b in &a.metallb {
        let label = format!("{}:{}", b.service, b.port);
        let (p, _) = metallb::path(
            &b.target,
            b.mode,
            &b.service,
            &label,
            b.service_loc.clone(),
            probe_of(&b.target),
        );
        judged.push((b.target.clone(), p));
    }
    if !g.objects.added.metallb.is_empty() {
        for s in g
            .objects
            .services
            .iter()
            .filter(|s| s.ty == "LoadBalancer" && !s.local && s.selector.is_some())
        {
            note(
                out,
                format!(
                    "{}: {}: MetalLB with externalTrafficPolicy Cluster announces the address from a node that forwards through kube-proxy to any ready pod: the kube-proxy path is the way out; the announcing node's own failure (memberlist failover) is not modelled",
                    s.loc, s.name
                ),
            );
        }
    }
    for lb in g
        .lbs()
        .filter(|l| matches!(l.check, CheckTarget::NodePort | CheckTarget::KubeProxyHealthz))
    {
        let kep = if lb.check == CheckTarget::KubeProxyHealthz {
            "its check of kube-proxy's /healthz (10256) fails once the node is tainted ToBeDeletedByClusterAutoscaler or deleted (KEP-3836), so it takes a draining node out"
        } else {
            "its check of the NodePort keeps passing on a draining node (kube-proxy forwards it to any ready pod), so only the node's removal from the target group takes it out"
        };
        note(
            out,
            format!(
                "{}: {}: draining or removing a node under externalTrafficPolicy Cluster is not modelled: {kep}; when the node stops forwarding depends on the cluster autoscaler's drain and the cloud's VM deletion, for which no figure exists",
                lb.loc, lb.name
            ),
        );
    }
    let s = &a.settings;
    if let Some(d) = s.dataplane.as_ref().filter(|d| d.value == Dataplane::Cilium) {
        for (_, p) in judged.iter_mut() {
            cilium::swap(p);
        }
        out.assumptions.retain(|n| !n.starts_with("kube-proxy mode assumed"));
        note(
            out,
            format!(
                "Services are programmed by Cilium's eBPF kube-proxy replacement ({}), not kube-proxy",
                d.at
            ),
        );
    }
    if let Some(t) = &s.termination {
        note(
            out,
            format!(
                "paths judged for termination {} ({}; times from the moment it starts): {}",
                t.value.name(),
                t.at,
                if t.value == Termination::Deletion {
                    "the pod is deleted".to_string()
                } else {
                    super::figures::figures().source("not_deleted").to_string()
                }
            ),
        );
    }
    for o in &s.stages {
        note(
            out,
            format!(
                "stage {} = {}..{}: measured, from [paths.stages] at {}",
                o.id, o.lo, o.hi, o.at
            ),
        );
    }
}

/// What can end a path that waits for the pod (MetalLB with Local), after a deletion, and what it
/// waits for.
fn deletion_fix(p: &Path) -> (Fix, String) {
    if p.stages.iter().any(|s| s.id == "until-exit") {
        (
            Fix::Nothing(
                "without a readiness probe the endpoint stays serving until the pod exits; add one that fails when the app starts shutting down, and keep listening after it fails".to_string(),
            ),
            "MetalLB keeps announcing the node while its terminating pod is serving: here until it exits (no readiness probe)".to_string(),
        )
    } else {
        (
            Fix::AppDelay {
                grace: "terminationGracePeriodSeconds".to_string(),
            },
            "MetalLB keeps announcing the node while its terminating pod is serving: until its readiness probe fails"
                .to_string(),
        )
    }
}

/// Replaces a path's stages by its measured figures: the whole chain when `"path:<family>"` is set
/// in `[paths.stages]` (one measured stage), else each overridden stage.
pub fn apply_measured(s: &PathSettings, p: &mut Path) {
    let id = format!("{PATH_PREFIX}{}", p.kind.name());
    if let Some(o) = s.stages.iter().find(|o| o.id == id) {
        let built = format!(
            "{}..{} built from {}",
            p.best(),
            p.worst(),
            p.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(" + ")
        );
        p.stages = vec![Stage::computed(
            &id,
            "the whole path, measured end to end".to_string(),
            o.lo,
            o.hi,
            Evidence::Field,
            format!(
                "measured: [paths.stages] {} = {}..{} at {} (replaces {built})",
                o.id, o.lo, o.hi, o.at
            ),
        )];
    } else {
        s.apply(&mut p.stages);
    }
    if let Some(a) = &mut p.alternative {
        s.apply(&mut a.stages);
    }
}

/// Judges one path with the group's `[paths]` settings and the pod's sidecar.
pub fn judge(g: &Group, t: &Target, mut p: Path) -> PathReport {
    let s = &g.added.settings;
    apply_measured(s, &mut p);
    let term = s.termination();
    let mut r = if p.never_withdrawn.is_some() {
        // Never withdrawn before the pod is gone, whatever stops it (GL041).
        let t2 = if term != Termination::Deletion && kubelet::applies(t) {
            Kill::new(t, term, &g.objects.added).target(t)
        } else {
            t.clone()
        };
        super::analyze(&t2, &p, g.min_margin)
    } else if term != Termination::Deletion && kubelet::applies(t) {
        let k = Kill::new(t, term, &g.objects.added);
        let t2 = k.target(t);
        let (mut p2, fix, why) = k.path(&t2, &p, probe_of(t));
        s.apply(&mut p2.stages);
        let origin = if term == Termination::OomKill {
            "the OOM kill"
        } else {
            "the kubelet's SIGTERM"
        };
        readiness::analyze(&t2, &p2, g.min_margin, &fix, origin, &why)
    } else if readiness::depends_on_pod(&p) {
        let (fix, why) = deletion_fix(&p);
        readiness::analyze(t, &p, g.min_margin, &fix, "the pod's deletion", &why)
    } else {
        super::analyze(t, &p, g.min_margin)
    };
    mesh::apply(&mut r);
    r
}

/// What the termination (GL036) and the Istio sidecar (GL037) do to a workload as a whole.
pub fn target_findings(g: &Group, t: &Target) -> Vec<Finding> {
    let term = g.added.settings.termination();
    if term != Termination::Deletion && kubelet::applies(t) {
        let k = Kill::new(t, term, &g.objects.added);
        let t2 = k.target(t);
        let mut out = vec![k.finding(t, &t2, probe_of(t))];
        out.extend(mesh::target_findings(&t2));
        out
    } else {
        mesh::target_findings(t)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Loc;
    use crate::paths::settings::PathSettings;
    use crate::paths::PathKind;
    use crate::time::Micros;

    #[test]
    fn a_whole_path_measured_end_to_end_replaces_its_chain() {
        let s = PathSettings::from_toml(
            "g.toml",
            "[paths.stages]\n\"path:kube-proxy\" = [\"1s\", \"3s\"]\npod-watch = \"9s\"\n",
        )
        .unwrap()
        .unwrap();
        let at = Loc {
            file: "s.yaml".into(),
            line: 1,
            column: 1,
        };
        let mut p =
            crate::paths::kube_proxy::path("a/b", "a/b:80", at.clone(), crate::scenario::k8s::ProxyMode::Iptables);
        super::apply_measured(&s, &mut p);
        assert_eq!(p.stages.len(), 1);
        assert_eq!((p.best(), p.worst()), (Micros::from_secs(1), Micros::from_secs(3)));
        assert!(
            p.stages[0].source.contains("replaces 0s..4s built from pod-watch"),
            "{}",
            p.stages[0].source
        );
        // Another family keeps its stages, with the stage figure.
        let mut n = crate::paths::ingress::nginx_path("a/b", "i", at);
        super::apply_measured(&s, &mut n);
        assert_eq!(n.stages[0].hi, Micros::from_secs(9));
    }

    #[test]
    fn every_family_has_one_name_in_text_and_json() {
        for k in [
            PathKind::KubeProxy,
            PathKind::LocalTraffic,
            PathKind::LbController,
            PathKind::GkeNeg,
            PathKind::IngressNginx,
            PathKind::KubernetesService,
            PathKind::GatewayEnvoyGateway,
            PathKind::GatewayContour,
            PathKind::GatewayIstio,
            PathKind::GatewayGke,
            PathKind::IstioMesh,
            PathKind::Cilium,
            PathKind::HeadlessDns,
            PathKind::MetalLbL2,
            PathKind::MetalLbBgp,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name(), "{k:?}");
            // Every family is listed with its stages in profiles/kubernetes-paths.toml.
            assert!(
                super::super::figures::TEXT.contains(&format!("[families.{}]", k.name())),
                "{k:?}"
            );
        }
    }
}
