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

use super::{fixed_rate_model, required, LbSettings, ProbeModel};
use crate::error::{InputError, Loc};

/// Every AWS setting; the last one (`connection_termination`) exists only on NLB target groups and
/// the one before (`matcher`) only on ELBv2 (a CLB accepts only 200, elb-healthchecks.md).
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
    "latency",
    "matcher",
    "connection_termination",
];

/// Settings accepted for a variant (`nlb` adds `connection_termination`, ELBv2 `matcher`).
pub fn knobs(variant: &str) -> &'static [&'static str] {
    match variant {
        "nlb" => NLB,
        "alb" => &NLB[..NLB.len() - 1],
        _ => &NLB[..NLB.len() - 2],
    }
}

/// Builds the probe model: fixed-rate at `interval`, failing probes time out after `timeout`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let interval = required(&s.interval, "interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let threshold = required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value;
    Ok(fixed_rate_model(s, interval, timeout, threshold, readiness_path))
}
