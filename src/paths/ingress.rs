//! Ingress data planes fed by endpoints: GKE container-native load balancing (NEG: the NEG
//! controller detaches the pod's IP:port, then Google's LB stops sending) and ingress-nginx (the
//! controller POSTs the new backend list; each NGINX worker re-reads it every second, no reload).

use super::figures::figures;
use super::kube_proxy::endpointslice_stages;
use super::{Path, PathKind, Start};
use crate::error::Loc;

/// GKE NEG path of a Service (`cloud.google.com/neg` annotation).
pub fn neg_path(service: &str, name: &str, loc: Loc) -> Path {
    consumer_path(
        PathKind::GkeNeg,
        format!("{name} via GKE NEG"),
        service,
        loc,
        &["neg-detach", "gclb-programming"],
        vec![
            "backend service connection draining (BackendConfig connectionDraining.drainingTimeoutSec, 0-3600 s) lets in-flight requests finish after the detach; it does not stop new connections sooner".to_string(),
            "the NEG readiness gate cloud.google.com/load-balancer-neg-ready paces rollouts, it does not delay the detach".to_string(),
        ],
    )
}

/// ingress-nginx path of a Service named as an Ingress backend.
pub fn nginx_path(service: &str, name: &str, loc: Loc) -> Path {
    consumer_path(
        PathKind::IngressNginx,
        format!("{name} via ingress-nginx"),
        service,
        loc,
        &["ingress-nginx-controller", "ingress-nginx-lua-sync"],
        vec![
            "NGINX keeps upstream keep-alive connections to the pod: requests on them continue until the app closes them".to_string(),
        ],
    )
}

/// A controller that watches EndpointSlices and then programs its own data plane: the
/// EndpointSlice stages, its watch, then `own` stages (ids in profiles/kubernetes-paths.toml).
fn consumer_path(kind: PathKind, name: String, service: &str, loc: Loc, own: &[&str], notes: Vec<String>) -> Path {
    let f = figures();
    let mut stages = endpointslice_stages();
    stages.push(f.stage("endpointslice-watch"));
    stages.extend(own.iter().map(|id| f.stage(id)));
    Path {
        kind,
        name,
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        lbs: Vec::new(),
        alternative: None,
        notes,
    }
}
