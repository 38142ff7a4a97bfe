//! `externalTrafficPolicy: Local` behind a cloud load balancer: the LB sends only to nodes whose
//! kube-proxy health check (healthCheckNodePort) answers 200. kube-proxy turns it to 503 in the
//! same sync that drops the terminating endpoint (terminating endpoints do not count), then the
//! LB's own health checks (the provider models of `src/provider`) must notice the 503 and
//! propagate: a second, serial stage. Until then kube-proxy keeps forwarding the LB's traffic to
//! the serving-terminating local pod (KEP-1669), so the pod itself keeps receiving it.

use super::figures::{figures, Stage};
use super::kube_proxy::{endpointslice_stages, kube_proxy_stages};
use super::{Path, PathKind, Start};
use crate::analysis::exact::{extremes_with, unbounded_worst_with, LatencyRange};
use crate::error::Loc;
use crate::scenario::k8s::ProxyMode;
use crate::scenario::LbSpec;
use crate::time::{Micros, MAX_INPUT};
use crate::timeline::{ReadyzFailure, ReadyzOnset, ServerSpec};

/// The LB's health check of the healthCheckNodePort as one stage: from the 503 until the LB
/// routes no new connection to the node, from the provider model (detection + propagation).
pub fn lb_stage(lb: &LbSpec) -> Stage {
    let node = ServerSpec {
        profile: "healthCheckNodePort".to_string(),
        prestop_sleep: Micros::ZERO,
        readyz_fail_after: Micros::ZERO,
        shutdown_delay: MAX_INPUT,
        request_grace: Micros::ZERO,
        termination_grace_period: MAX_INPUT + MAX_INPUT,
        // kube-proxy answers 503 at once.
        readyz_failure: ReadyzFailure::Error,
        readyz_onset: ReadyzOnset::ShutdownStart,
        readiness_path: "/healthz".to_string(),
        response_time: Micros::ZERO,
        send_retry_after: false,
    };
    let mut model = lb.model;
    // The node health check follows the node's local ready endpoints, so it does see the pod go.
    model.view.sees_readiness = true;
    let lat = LatencyRange::fixed(Micros::ZERO);
    let worst = unbounded_worst_with(&node, &model, lat);
    let best = extremes_with(&node, &model, lat).best.time;
    super::lb_controller::with_lb_tail(
        Stage::computed(
            "lb-health-check",
            format!(
                "{} ({}) health check of the healthCheckNodePort marks the node down, + propagation {}",
                lb.name, lb.profile, model.propagation
            ),
            best.min(worst),
            worst,
            super::lb_controller::propagation_evidence(lb),
            format!(
                "graceline's {} model with the Service's settings (src/provider, profiles/{}.toml); {}",
                lb.profile,
                lb.profile,
                figures().source("health_check_node_port")
            ),
        ),
        lb,
    )
}

/// The external path of an `externalTrafficPolicy: Local` Service behind `lb`.
pub fn path(service: &str, name: &str, loc: Loc, mode: ProxyMode, lb: &LbSpec) -> Path {
    let mut stages = endpointslice_stages();
    stages.extend(kube_proxy_stages(mode));
    stages.push(lb_stage(lb));
    // kube-proxy's health server accepts the TCP connection whether it then answers 200 or 503
    // (k/k pkg/proxy/healthcheck/service_health.go): a TCP check never sees the node drain; the AWS
    // Load Balancer Controller docs say not to use TCP with Local (docs/guide/service/annotations.md).
    let tcp = crate::scenario::protocol_of(lb) == crate::provider::Protocol::Tcp;
    let never_withdrawn = tcp.then(|| {
        stages.clear();
        format!(
            "{} checks the healthCheckNodePort over TCP: kube-proxy's health server accepts the connection whether it answers 200 or 503, so the node is never ejected and the LB keeps sending to it (and kube-proxy to the terminating pod) until the pod is gone; check it over HTTP (/healthz)",
            lb.name
        )
    });
    Path {
        kind: PathKind::LocalTraffic,
        name: format!("{name} externalTrafficPolicy Local via {} ({})", lb.name, lb.profile),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn,
        lbs: vec![lb.name.clone()],
        alternative: None,
        notes: vec![
            figures().source("terminating_fallback").to_string(),
            "the LB's health check is of kube-proxy's healthCheckNodePort, not of the app's readiness: a pod that fails readiness early does not shorten it".to_string(),
        ],
    }
}
