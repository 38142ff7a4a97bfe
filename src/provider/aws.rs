//! AWS Elastic Load Balancing health checks (NLB, ALB, CLB target health).
//!
//! Scheduling: fixed rate. "Each health check request is independent and lasts the entire
//! interval. The time it takes for the instance to respond does not affect the interval for the
//! next health check." (CLB guide `elb-healthchecks.md`; ALB guide `target-group-health-checks.md`
//! @fb24293; https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-healthchecks.html).
//! The NLB guide only says checks are "distributed and use a consensus mechanism"; we assume the
//! same fixed-rate rule per LB node (openshift/installer docs/dev/kube-apiserver-health-check.md
//! does the same). Marked unhealthy on reaching `UnhealthyThresholdCount` consecutive failures
//! (ELBv2 API reference). Each LB node probes on its own phase; traffic stops everywhere only
//! once the slowest node has decided, so more nodes never shorten the worst case.

use super::{required, sees_readiness, LbSettings, ProbeModel, Protocol, Schedule};
use crate::error::{InputError, Loc};
use crate::timeline::ProbeView;

const COMMON: &[&str] = &[
    "interval",
    "timeout",
    "unhealthy_threshold",
    "healthy_threshold",
    "protocol",
    "path",
    "port",
    "probers",
    "propagation_delay",
    "latency",
];

const NLB: &[&str] = &[
    "interval",
    "timeout",
    "unhealthy_threshold",
    "healthy_threshold",
    "protocol",
    "path",
    "port",
    "probers",
    "propagation_delay",
    "connection_termination",
    "latency",
];

/// Settings accepted for a variant (`nlb` adds `connection_termination`).
pub fn knobs(variant: &str) -> &'static [&'static str] {
    if variant == "nlb" {
        NLB
    } else {
        COMMON
    }
}

/// Builds the probe model: fixed-rate at `interval`, failing probes time out after `timeout`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let interval = required(&s.interval, "interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    Ok(ProbeModel {
        schedule: Schedule::FixedRate { interval },
        view: ProbeView {
            sees_readiness: sees_readiness(protocol, s.path.as_ref().map(|p| p.value.as_str()), readiness_path),
            timeout,
        },
        threshold: required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value,
        rise: s.healthy_threshold.as_ref().map_or(2, |v| v.value),
        probers: s.probers.as_ref().map_or(1, |v| v.value.hi),
        propagation: s.propagation_delay.as_ref().map_or_else(Default::default, |v| v.value),
    })
}
