//! Headless Services (`clusterIP: None`): clients resolve the Service's name (or a StatefulSet
//! pod's own name) through CoreDNS and connect to the pod's IP directly, so kube-proxy is not on
//! the way. CoreDNS answers only ready endpoints from its watch of the EndpointSlices, its
//! answers carry the kubernetes plugin's TTL (5 s) and are cached that long, and the client's
//! resolver may cache again (the JDK 30 s; glibc without nscd and Go not at all). A client that
//! holds connections or a resolved address list (connection pools, gRPC's DNS resolver between
//! re-resolutions) does not look again until a connection fails.
//!
//! With `publishNotReadyAddresses: true` the terminating pod stays ready in the EndpointSlice
//! (`ready = publishNotReadyAddresses || (serving && !terminating)`, kubernetes
//! staging/src/k8s.io/endpointslice/utils.go `podToEndpoint`) and so in DNS until the pod object
//! is gone, after it exits: nothing in the pod makes DNS drop it sooner.

use super::figures::figures;
use super::kube_proxy::endpointslice_stages;
use super::{Path, PathKind, Start};
use crate::error::Loc;

fn dns_tail() -> Vec<super::Stage> {
    let f = figures();
    vec![
        f.stage("endpointslice-watch"),
        f.stage("coredns-cache"),
        f.stage("dns-client-cache"),
    ]
}

fn notes() -> Vec<String> {
    vec![
        "clients that keep connections or a resolved address list (connection pools, gRPC's DNS resolver between re-resolutions) do not resolve again until a connection fails: they keep using the pod until the app closes their connections".to_string(),
        "dns-client-cache takes the JDK's 30 s default; set it to your clients' figure in [paths.stages] (0s for Go and for glibc without nscd)".to_string(),
    ]
}

/// The DNS path of a headless Service.
pub fn path(service: &str, label: &str, loc: Loc) -> Path {
    let mut stages = endpointslice_stages();
    stages.extend(dns_tail());
    Path {
        kind: PathKind::HeadlessDns,
        name: format!("{label} (headless) via CoreDNS"),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        notes: notes(),
        lbs: Vec::new(),
        alternative: None,
    }
}

/// The DNS path of a headless Service with `publishNotReadyAddresses: true` (written at `at`):
/// the record stays until the pod object is deleted after it exits, so the path never ends
/// before the pod is gone (GL041, like every path of such a Service).
pub fn path_publishing_not_ready(service: &str, label: &str, loc: Loc, at: &Loc) -> Path {
    Path {
        kind: PathKind::HeadlessDns,
        name: format!("{label} (headless, publishNotReadyAddresses) via CoreDNS"),
        service: service.to_string(),
        loc,
        stages: Vec::new(),
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: Some(format!(
            "publishNotReadyAddresses: true ({at}) keeps the terminating pod's endpoint ready (staging/src/k8s.io/endpointslice/utils.go, podToEndpoint), so CoreDNS keeps answering its address until the Pod object is deleted, after the app exits; no preStop fixes it: set it to false (StatefulSet peers that need each other's names before they are ready can use a second, publishing Service), or have clients retry other addresses"
        )),
        notes: notes(),
        lbs: Vec::new(),
        alternative: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::tests::app;
    use crate::paths::PathVerdict;
    use crate::time::Micros;

    #[test]
    fn dns_chain_and_publish_not_ready() {
        // pod-watch 1 + batch 0 + watch 1 + CoreDNS cache 5 + client cache 30 = 37 s.
        let at = Loc {
            file: "s.yaml".into(),
            line: 1,
            column: 1,
        };
        assert_eq!(path("db/pg", "db/pg:5432", at.clone()).worst(), Micros::from_secs(37));
        // publishNotReadyAddresses: never withdrawn before the pod is gone (GL041), no fix in the pod.
        let t = app(40, 90);
        let p = path_publishing_not_ready("db/pg", "db/pg:5432", at.clone(), &at);
        let r = crate::paths::analyze(&t, &p, Micros::from_secs(5));
        assert_eq!(r.last_send_worst, None);
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.findings[0].rule, crate::analysis::findings::Rule::GL041);
        assert_eq!((r.recommended_prestop, r.recommended_shutdown_delay), (None, None));
    }
}
