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
use super::readiness::{until_exit, From};
use super::{Path, PathKind, Start};
use crate::error::Loc;
use crate::scenario::k8s::Target;

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

/// The DNS path of a headless Service with `publishNotReadyAddresses: true`: the record goes only
/// after the pod has exited and its object is deleted.
pub fn path_publishing_not_ready(t: &Target, service: &str, label: &str, loc: Loc) -> Path {
    let f = figures();
    let mut stages = vec![until_exit(t, From::Zero), f.stage("kubelet-status-update")];
    stages.extend(endpointslice_stages());
    stages.extend(dns_tail());
    let mut n = notes();
    n.insert(
        0,
        "publishNotReadyAddresses: true keeps the terminating pod ready in the EndpointSlice, so CoreDNS answers it until the pod object is deleted after it exits".to_string(),
    );
    Path {
        kind: PathKind::HeadlessDns,
        name: format!("{label} (headless, publishNotReadyAddresses) via CoreDNS"),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        notes: n,
        lbs: Vec::new(),
        alternative: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::readiness::{analyze, Fix};
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
        // publishNotReadyAddresses, preStop 40 s: exit at 40 + 25 = 65 s, + status 1 + 37 s =
        // 103 s; the app stops listening at 40 s: margin -63 s, and nothing in the pod helps.
        let t = app(40, 90);
        let p = path_publishing_not_ready(&t, "db/pg", "db/pg:5432", at);
        let r = analyze(
            &t,
            &p,
            Micros::from_secs(5),
            &Fix::Nothing("x".into()),
            "the deletion",
            "y",
        );
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(103)));
        assert_eq!(r.margin, Some(Micros::from_secs(-63)));
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!((r.recommended_prestop, r.recommended_shutdown_delay), (None, None));
    }
}
