//! Cilium's eBPF kube-proxy replacement: the cilium agent on every node watches the
//! EndpointSlices and takes a terminating backend out of its eBPF service maps on the event
//! (no minimum sync period), keeping the backend for connections it already carries. It replaces
//! kube-proxy's stages (its `minSyncPeriod` and rule writing) in every path that goes through the
//! node's Service handling: ClusterIP/NodePort, `externalTrafficPolicy: Local` (Cilium answers the
//! healthCheckNodePort itself, `enable-health-check-nodeport`) and the `kubernetes` Service.
//! Chosen by a Cilium ConfigMap among the inputs (`kube-proxy-replacement: "true"`), `[paths]
//! dataplane = "cilium"` or `--dataplane cilium`.

use super::figures::figures;
use super::{Path, PathKind};

/// True for a stage kube-proxy contributes.
fn is_kube_proxy_stage(id: &str) -> bool {
    id.starts_with("kube-proxy-sync-") || id == "rule-programming"
}

/// Rewrites a path built for kube-proxy for Cilium: kube-proxy's sync and rule writing become
/// the agent's map update; a `kube-proxy` path becomes a `cilium` one.
pub fn swap(p: &mut Path) {
    let Some(at) = p.stages.iter().position(|s| is_kube_proxy_stage(&s.id)) else {
        return;
    };
    p.stages.retain(|s| !is_kube_proxy_stage(&s.id));
    p.stages.insert(at, figures().stage("cilium-service-update"));
    if let Some(i) = p.name.find(" via kube-proxy (") {
        let end = p.name[i..].find(')').map_or(p.name.len(), |j| i + j + 1);
        p.name
            .replace_range(i..end, " via Cilium eBPF (kube-proxy replacement)");
    } else if let Some(i) = p.name.find("kube-proxy (") {
        let end = p.name[i..].find(')').map_or(p.name.len(), |j| i + j + 1);
        p.name.replace_range(i..end, "Cilium eBPF (kube-proxy replacement)");
    }
    if p.kind == PathKind::KubeProxy {
        p.kind = PathKind::Cilium;
    }
    for n in &mut p.notes {
        if n.starts_with("established TCP connections are not cut (kube-proxy") {
            *n = "established connections keep their backend (Cilium removes a terminating endpoint for new connections only and lets active ones finish): keep-alive and HTTP/2 clients keep sending on them until the app closes them".to_string();
        }
    }
    if p.kind == PathKind::LocalTraffic {
        p.notes.push("Cilium answers the healthCheckNodePort itself (enable-health-check-nodeport); that it excludes terminating endpoints like kube-proxy is assumed, not verified".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Loc;
    use crate::paths::kube_proxy;
    use crate::scenario::k8s::ProxyMode;
    use crate::time::Micros;

    #[test]
    fn kube_proxys_stages_become_the_agents_map_update() {
        // kube-proxy (iptables): 1 + 0 + 1 + 1 + 1 = 4 s; Cilium: 1 + 0 + 1 + 1 = 3 s.
        let at = Loc {
            file: "s.yaml".into(),
            line: 1,
            column: 1,
        };
        let mut p = kube_proxy::path("default/web", "default/web:80 ClusterIP", at, ProxyMode::Iptables);
        swap(&mut p);
        assert_eq!(p.kind, PathKind::Cilium);
        let ids: Vec<&str> = p.stages.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "pod-watch",
                "endpointslice-batch",
                "endpointslice-watch",
                "cilium-service-update"
            ]
        );
        assert_eq!(p.worst(), Micros::from_secs(3));
        assert_eq!(
            p.name,
            "default/web:80 ClusterIP via Cilium eBPF (kube-proxy replacement)"
        );
        assert!(p.notes[0].contains("Cilium removes a terminating endpoint"));
    }
}
