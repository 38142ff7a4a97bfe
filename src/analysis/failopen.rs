//! Fail-open: where a load balancer routes to servers it knows are unhealthy, because none of
//! their group is healthy, and rolling restarts that make every replica unhealthy at once: the
//! layout, re-admission and overlap figures that rules GL015-GL018 ([`super::rules::failopen`])
//! and the report use.
//!
//! Sources: ELBv2 routes to all targets when every target of a target group is unhealthy (ALB and
//! NLB guides, target-group-health-checks); with NLB cross-zone load balancing off (the NLB
//! default) the minimum-healthy thresholds apply per enabled AZ, so an AZ whose only target is
//! unhealthy fails open inside that AZ until DNS failover removes its address (60 s TTL; NLB guide
//! target-group-health.md). Re-admission takes `healthy_threshold` passing checks plus the
//! propagation (profiles/*.toml `[sources]`); OpenShift added `minReadySeconds` for the rolling
//! case (cluster-kube-apiserver-operator#1091).

use crate::provider::{ProbeModel, Schedule};
use crate::scenario::{LbSpec, Rollout, Scenario};
use crate::time::Micros;

/// Time from a restarted replica answering its checks again until the LB routes to it: `rise`
/// passing checks (worst phase), then the propagation range's upper end.
pub fn readmission(m: &ProbeModel, response: Micros) -> Micros {
    let checks = match m.schedule {
        Schedule::FixedRate { interval } => interval.times(i64::from(m.rise)) + response,
        Schedule::CompletionRelative {
            fastinter, downinter, ..
        } => downinter + fastinter.times(i64::from(m.rise) - 1) + response.times(i64::from(m.rise)),
    };
    checks + m.propagation.hi
}

/// How targets are registered behind an LB, as far as the inputs say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Targets in the target group (`targets`, else `[rollout] replicas`, else `[traffic] backends`).
    pub targets: Option<u32>,
    /// Enabled availability zones (`zones`).
    pub zones: Option<u32>,
    /// NLB cross-zone load balancing.
    pub cross_zone: Option<bool>,
}

/// The layout of one LB.
pub fn layout(sc: &Scenario, lb: &LbSpec) -> Layout {
    let s = &lb.settings;
    Layout {
        targets: s
            .targets
            .as_ref()
            .map(|t| t.value)
            .or(sc.rollout.map(|r| r.replicas))
            .or(sc.traffic.map(|t| t.backends)),
        zones: s.zones.as_ref().map(|z| z.value),
        cross_zone: s.cross_zone.as_ref().map(|c| c.value),
    }
}

/// The rolling-restart overlap of one LB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutOverlap {
    /// From a replacement answering its checks until the LB routes to it (worst).
    pub readmission: Micros,
    /// From a replacement answering its checks until the next replica's E2.
    pub to_next_e2: Micros,
    /// Replicas out of the LB at the same time (at most all of them).
    pub out_at_once: u32,
}

/// Waves overlap when a replica is still being re-admitted at the next replica's E2. Each replica
/// is out from its E2 until its replacement is re-admitted; waves start `exit + startup + min_ready`
/// apart, so ceil(out window / wave period) waves are out at once.
pub fn overlap(sc: &Scenario, lb: &LbSpec, r: &Rollout) -> RolloutOverlap {
    let tl = sc.server.timeline();
    let readmission = readmission(&lb.model, sc.server.response_time);
    let period = tl.e5 + r.startup_time + r.min_ready;
    let window = tl.e5 + r.startup_time + readmission - tl.e2;
    let waves = r.replicas.div_ceil(r.max_unavailable);
    let concurrent = if period.0 <= 0 {
        waves
    } else {
        u32::try_from((window.0 + period.0 - 1) / period.0)
            .unwrap_or(u32::MAX)
            .clamp(1, waves)
    };
    RolloutOverlap {
        readmission,
        to_next_e2: r.min_ready + tl.e2,
        out_at_once: concurrent.saturating_mul(r.max_unavailable).min(r.replicas),
    }
}
