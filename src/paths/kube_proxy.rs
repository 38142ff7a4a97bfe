//! ClusterIP, NodePort and load balancers that send to every node (`externalTrafficPolicy:
//! Cluster`, instance targets): the EndpointSlice controller marks the endpoint terminating, every
//! node's kube-proxy sees it and reprograms its rules. Established TCP connections are not cut
//! (kube-proxy clears only UDP conntrack entries), so keep-alive clients keep using the pod until
//! the app closes their connections.

use super::figures::{figures, Stage};
use super::{Path, PathKind, Start};
use crate::error::Loc;
use crate::profiles::Evidence;
use crate::scenario::k8s::ProxyMode;
use crate::scenario::k8s::Target;

/// What every path fed by the EndpointSlice controller starts with: the controller sees the
/// terminating pod and writes the slice (no batching by default).
pub fn endpointslice_stages() -> Vec<Stage> {
    let f = figures();
    vec![f.stage("pod-watch"), f.stage("endpointslice-batch")]
}

/// kube-proxy's part: its watch, its minimum sync period in `mode`, writing the rules.
pub fn kube_proxy_stages(mode: ProxyMode) -> Vec<Stage> {
    let f = figures();
    let sync = match mode {
        ProxyMode::Iptables => "kube-proxy-sync-iptables",
        ProxyMode::Ipvs => "kube-proxy-sync-ipvs",
        ProxyMode::Nftables => "kube-proxy-sync-nftables",
    };
    vec![
        f.stage("endpointslice-watch"),
        f.stage(sync),
        f.stage("rule-programming"),
    ]
}

/// What keep-alive clients see on every kube-proxy path.
pub fn conntrack_note() -> String {
    "established TCP connections are not cut (kube-proxy clears only UDP conntrack entries): keep-alive and HTTP/2 clients keep sending on them until the app closes them, so close idle keep-alive connections (Connection: close / GOAWAY) during the preStop sleep or right after SIGTERM".to_string()
}

/// The in-cluster path of a Service through kube-proxy.
pub fn path(service: &str, name: &str, loc: Loc, mode: ProxyMode) -> Path {
    let mut stages = endpointslice_stages();
    stages.extend(kube_proxy_stages(mode));
    Path {
        kind: PathKind::KubeProxy,
        name: format!("{name} via kube-proxy ({})", mode.name()),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        lbs: Vec::new(),
        alternative: None,
        notes: vec![conntrack_note()],
    }
}

/// The kube-proxy path of a pod that is its Service's last endpoint: kube-proxy keeps sending to
/// it while it is serving (KEP-1669), so the endpoint goes only when the readiness probe fails
/// after readiness does (E2), then through the EndpointSlice and kube-proxy stages as usual.
/// Without a readiness probe the pod is serving until its container exits: never withdrawn.
pub fn last_endpoint_path(service: &str, name: &str, loc: Loc, mode: ProxyMode, t: &Target, why: &str) -> Path {
    let mut p = path(service, &format!("{name}, last endpoint"), loc, mode);
    p.notes.push(format!(
        "{why}: when it terminates it is its Service's last endpoint, and kube-proxy keeps sending to serving-terminating endpoints (KEP-1669, GA 1.28, Cluster policy too)"
    ));
    let Some(probe) = &t.probe else {
        p.stages.clear();
        p.never_withdrawn = Some(format!(
            "{why} and has no readiness probe: it stays a serving endpoint until its container exits, and kube-proxy keeps sending to it meanwhile (KEP-1669); add a readiness probe that fails at SIGTERM, or run two replicas"
        ));
        return p;
    };
    let e2 = t.server.prestop_sleep + t.server.readyz_fail_after;
    let (lo, hi) = probe.detection();
    let mut stages = vec![
        Stage::computed(
            "until-readiness-fails",
            "preStop and the app's readiness delay until /ready can fail (E2)".to_string(),
            e2,
            e2,
            Evidence::Documented,
            "the pod spec (preStop) and the app's shutdown profile".to_string(),
        ),
        Stage::computed(
            "readiness-probe",
            format!(
                "the kubelet's readiness probe fails {} times, every {} (timeout {})",
                probe.failure_threshold, probe.period, probe.timeout
            ),
            lo,
            hi,
            Evidence::Documented,
            format!(
                "the container's readinessProbe at {} (periodSeconds x failureThreshold + timeoutSeconds; probes keep running while the pod terminates)",
                probe.loc
            ),
        ),
    ];
    stages.append(&mut p.stages);
    p.stages = stages;
    p
}
