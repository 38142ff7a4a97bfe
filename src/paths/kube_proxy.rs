//! ClusterIP, NodePort and load balancers that send to every node (`externalTrafficPolicy:
//! Cluster`, instance targets): the EndpointSlice controller marks the endpoint terminating, every
//! node's kube-proxy sees it and reprograms its rules. Established TCP connections are not cut
//! (kube-proxy clears only UDP conntrack entries), so keep-alive clients keep using the pod until
//! the app closes their connections.

use super::figures::{figures, Stage};
use super::{Path, PathKind, Start};
use crate::error::Loc;
use crate::scenario::k8s::ProxyMode;

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
