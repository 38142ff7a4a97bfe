//! Gateway API: an HTTPRoute or GRPCRoute sends requests to its backend Service's pods through
//! the data plane of the implementation the Gateway's class names (`spec.controllerName`). The
//! modelled ones all watch EndpointSlices and program their proxies themselves, so the pod's
//! Service's ClusterIP (kube-proxy) is not on the way:
//! - Envoy Gateway: one reconcile and translation of every resource, then xDS to Envoy; a
//!   terminating endpoint is sent as DRAINING (no new requests);
//! - Contour: endpoint changes go straight to the EDS cache (no DAG holdoff), then xDS;
//! - Istio: istiod debounces the events (100 ms up to 10 s), then pushes EDS;
//! - GKE: the NEG controller detaches the pod, then Google's load balancer stops sending.
//!
//! Any other controller is named as not modelled (GL033). The stage figures and their sources are
//! in `profiles/kubernetes-paths.toml` (families `gateway-*`).

use super::figures::figures;
use super::kube_proxy::endpointslice_stages;
use super::{Path, PathKind, Start};
use crate::error::Loc;

pub use crate::scenario::k8s_added::Implementation;

/// What each implementation's data plane does on the way out.
impl Implementation {
    fn kind(self) -> PathKind {
        match self {
            Implementation::EnvoyGateway => PathKind::GatewayEnvoyGateway,
            Implementation::Contour => PathKind::GatewayContour,
            Implementation::Istio => PathKind::GatewayIstio,
            Implementation::Gke => PathKind::GatewayGke,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Implementation::EnvoyGateway => "Envoy Gateway",
            Implementation::Contour => "Contour",
            Implementation::Istio => "Istio",
            Implementation::Gke => "GKE Gateway (NEG)",
        }
    }

    /// The implementation's own stages after its watch of the EndpointSlices.
    fn own_stages(self) -> &'static [&'static str] {
        match self {
            Implementation::EnvoyGateway => &["envoy-gateway-translate", "xds-push"],
            Implementation::Contour => &["contour-endpoints", "xds-push"],
            Implementation::Istio => &["istiod-debounce", "istiod-push"],
            Implementation::Gke => &["neg-detach", "gclb-programming"],
        }
    }

    fn notes(self) -> Vec<String> {
        let proxy_pool = "the proxy keeps upstream keep-alive connections to the pod: requests already on them continue until the app closes them (Connection: close / GOAWAY during its drain)".to_string();
        match self {
            Implementation::EnvoyGateway => vec![
                "a terminating endpoint reaches Envoy as DRAINING and gets no new request; with EnvoyProxy routingType: Service Envoy sends to the ClusterIP instead and kube-proxy's path applies".to_string(),
                proxy_pool,
            ],
            Implementation::Contour => vec![
                "Contour drops endpoints with ready=false from the cluster".to_string(),
                proxy_pool,
            ],
            Implementation::Istio => vec![
                "istiod marks an endpoint with ready=false unhealthy; the debounce grows towards PILOT_DEBOUNCE_MAX while events keep coming (busy clusters)".to_string(),
                proxy_pool,
            ],
            Implementation::Gke => vec![
                "backend service connection draining (GCPBackendPolicy / BackendConfig drainingTimeoutSec) lets in-flight requests finish after the detach; it does not stop new connections sooner".to_string(),
                "not modelled: the load balancer's own health check of the pod (a HealthCheckPolicy, or GKE's default check, https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources, HealthCheckPolicy) can take the pod out before the detach; graceline does not read HealthCheckPolicy, so this path counts the NEG detach only (the later way out)".to_string(),
            ],
        }
    }
}

/// The path of one route backend through its Gateway's implementation.
pub fn path(imp: Implementation, route: &str, gateway: &str, service: &str, loc: Loc) -> Path {
    let f = figures();
    let mut stages = endpointslice_stages();
    stages.push(f.stage("endpointslice-watch"));
    stages.extend(imp.own_stages().iter().map(|id| f.stage(id)));
    Path {
        kind: imp.kind(),
        name: format!("{route} -> {service} via Gateway {gateway} ({})", imp.name()),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        notes: imp.notes(),
        lbs: Vec::new(),
        alternative: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Micros;

    #[test]
    fn controllers_map_to_implementations() {
        assert_eq!(
            Implementation::of_controller("gateway.envoyproxy.io/gatewayclass-controller"),
            Some(Implementation::EnvoyGateway)
        );
        assert_eq!(
            Implementation::of_controller("projectcontour.io/gateway-controller"),
            Some(Implementation::Contour)
        );
        assert_eq!(
            Implementation::of_controller("istio.io/gateway-controller"),
            Some(Implementation::Istio)
        );
        assert_eq!(
            Implementation::of_controller("networking.gke.io/gateway"),
            Some(Implementation::Gke)
        );
        assert_eq!(
            Implementation::of_controller("gateway.nginx.org/nginx-gateway-controller"),
            None
        );
        assert_eq!(Implementation::of_controller("istio.io/mesh-controller"), None);
    }

    #[test]
    fn stage_sums_per_implementation() {
        // pod-watch 1 + batch 0 + watch 1 = 2 s before each implementation's own stages.
        let at = Loc {
            file: "r.yaml".into(),
            line: 1,
            column: 1,
        };
        let worst = |imp| path(imp, "HTTPRoute a/r", "a/g", "a/s", at.clone()).worst();
        // Envoy Gateway: translate 1 + xDS 1 = 4 s; Contour: 0 + 1 = 3 s; Istio: debounce 10 +
        // push 1 = 13 s; GKE: detach 10 + programming 60 = 72 s.
        assert_eq!(worst(Implementation::EnvoyGateway), Micros::from_secs(4));
        assert_eq!(worst(Implementation::Contour), Micros::from_secs(3));
        assert_eq!(worst(Implementation::Istio), Micros::from_secs(13));
        assert_eq!(worst(Implementation::Gke), Micros::from_secs(72));
        assert_eq!(
            path(Implementation::Istio, "r", "g", "s", at).best(),
            Micros::from_millis(100)
        );
    }
}
