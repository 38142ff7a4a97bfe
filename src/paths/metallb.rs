//! MetalLB with `externalTrafficPolicy: Local`: the speakers announce a Service's address only
//! from nodes with an endpoint that can serve, and MetalLB counts a serving endpoint even while
//! it terminates (internal/k8s/epslices/endpoint_slices.go `EndpointCanServe`; speaker
//! layer2_controller.go `nodesWithEndpoint`, bgp_controller.go `hasHealthyEndpoint`). So a node
//! whose only pod is terminating keeps being announced until that pod fails its readiness probe
//! (or exits, without one), and kube-proxy on that node keeps forwarding to it meanwhile
//! (KEP-1669's fallback for Local). Then, in layer 2, the next leader announces the address
//! (gratuitous ARP/NDP; "within a few seconds", a bug past about 10 s); in BGP the speaker
//! withdraws the route and the router drops the next hop (rehashing most established
//! connections). With `externalTrafficPolicy: Cluster` the announcing node forwards through
//! kube-proxy to any ready pod: the kube-proxy path is the way out and nothing is added.

use super::figures::figures;
use super::kube_proxy::endpointslice_stages;
use super::readiness::{probe, until_exit, until_readiness_fails, Fix, From};
use super::{Path, PathKind, Start};
use crate::error::Loc;
use crate::scenario::k8s::Probe;
use crate::scenario::k8s::Target;
use crate::scenario::k8s_added::MetalLbMode;

/// The path of a MetalLB Local Service to one pod, and what can end it sooner.
pub fn path(
    t: &Target,
    mode: MetalLbMode,
    service: &str,
    label: &str,
    loc: Loc,
    readiness: Option<&Probe>,
) -> (Path, Fix) {
    let f = figures();
    let (mut stages, fix) = match readiness {
        Some(p) => (
            vec![until_readiness_fails(t, From::Zero), probe(p), f.stage("kubelet-status-update")],
            Fix::AppDelay {
                grace: "terminationGracePeriodSeconds".to_string(),
            },
        ),
        None => (
            vec![until_exit(t, From::Zero), f.stage("kubelet-status-update")],
            Fix::Nothing(
                "without a readiness probe the endpoint stays serving until the pod exits; add one that fails when the app starts shutting down, and keep listening after it fails".to_string(),
            ),
        ),
    };
    stages.extend(endpointslice_stages());
    stages.push(f.stage("endpointslice-watch"));
    let (kind, last, how) = match mode {
        MetalLbMode::L2 => (PathKind::MetalLbL2, "metallb-l2-failover", "layer 2"),
        MetalLbMode::Bgp => (PathKind::MetalLbBgp, "metallb-bgp-withdraw", "BGP"),
    };
    stages.push(f.stage(last));
    let mut notes = vec![
        f.source("metallb_serving").to_string(),
        f.source("terminating_fallback").to_string(),
    ];
    notes.push(match mode {
        MetalLbMode::L2 => "layer 2 sends all of the address's traffic to one node; clients that ignore gratuitous ARP keep the old node until their neighbour cache expires (MetalLB's layer 2 concepts page)".to_string(),
        MetalLbMode::Bgp => "the route withdrawal rehashes the router's ECMP: most established connections to the address break once (MetalLB's BGP concepts page, Limitations)".to_string(),
    });
    (
        Path {
            kind,
            name: format!("{label} externalTrafficPolicy Local via MetalLB {how}"),
            service: service.to_string(),
            loc,
            stages,
            start: Start::Deletion,
            listener_waits_for_first_stage: false,
            never_withdrawn: None,
            notes,
            lbs: Vec::new(),
            alternative: None,
        },
        fix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::readiness::analyze;
    use crate::paths::tests::app;
    use crate::paths::PathVerdict;
    use crate::time::Micros;

    #[test]
    fn metallb_waits_for_readiness() {
        // preStop 10 s, app stops at SIGTERM: E2 = 10 s; probe period 5 s x 2, timeout 1 s:
        // [5, 11]; status [0, 1]; pod-watch 1 + batch 0 + the speaker's watch 1; L2 failover
        // [0, 10]: worst 10 + 11 + 1 + 2 + 10 = 34 s; the app stops at 10 s: margin -24 s. Fix:
        // delay >= 34 + 5 - 10 = 29 s, grace 10 + 29 + 25 = 64 s.
        let t = app(10, 45);
        let p = Probe {
            period: Micros::from_secs(5),
            failure_threshold: 2,
            timeout: Micros::from_secs(1),
            loc: t.container_loc.clone(),
        };
        let (path, fix) = path(
            &t,
            MetalLbMode::L2,
            "default/web",
            "default/web:80",
            t.container_loc.clone(),
            Some(&p),
        );
        let r = analyze(&t, &path, Micros::from_secs(5), &fix, "the deletion", "why");
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(34)));
        assert_eq!(r.margin, Some(Micros::from_secs(-24)));
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.recommended_shutdown_delay, Some(Micros::from_secs(29)));
        assert_eq!(r.recommended_grace, Some(Micros::from_secs(64)));
        let (bgp, _) = super::path(
            &t,
            MetalLbMode::Bgp,
            "default/web",
            "default/web:80",
            t.container_loc.clone(),
            Some(&p),
        );
        // BGP withdraw [0, 1] instead of the L2 failover [0, 10]: 25 s.
        assert_eq!(bgp.worst(), Micros::from_secs(25));
    }
}
