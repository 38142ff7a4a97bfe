//! Fail-open: where a load balancer routes to servers it knows are unhealthy, because none of
//! their group is healthy, and rolling restarts that make every replica unhealthy at once: the
//! layout, re-admission and overlap figures that rules GL015-GL018 ([`super::rules::failopen`])
//! and the report use.
//!
//! Sources: ELBv2 routes to all targets when every target of a target group is unhealthy (ALB and
//! NLB guides, target-group-health-checks); with NLB cross-zone load balancing off (the NLB
//! default) the minimum-healthy thresholds apply per enabled AZ, so an AZ whose only target is
//! unhealthy fails open inside that AZ until DNS failover removes its address (60 s TTL; NLB guide
//! target-group-health.md). Fail-open is decided on health state: "If all targets fail health
//! checks at the same time in all enabled Availability Zones, the load balancer fails open" (NLB
//! guide, target-group-health-checks), and health returns after `healthy_threshold` passing checks
//! (the CCM-AWS harness saw the target group healthy ~20 s after /readyz returned 200 with 10 s/2
//! checks), not after routing propagated; so all-unhealthy (GL018) counts replicas by health
//! state, and the "routed again" figure (GL017) adds at most the typical propagation (NLBs even
//! route to a restarted target before it passes, OCPBUGS-86789). OpenShift added
//! `minReadySeconds` for the rolling case (cluster-kube-apiserver-operator#1091).

use crate::provider::tiers::Tier;
use crate::provider::{ProbeModel, Schedule};
use crate::scenario::{LbSpec, Rollout, Scenario};
use crate::time::Micros;

pub use crate::scenario::layout::{layout, zone_fails_open, Layout};

/// Time from a restarted replica answering its checks again until the LB holds it healthy: `rise`
/// passing checks, the first after up to one interval (the worst phase).
pub fn health_readmission(m: &ProbeModel, response: Micros) -> Micros {
    match m.schedule {
        Schedule::FixedRate { interval } => interval.times(i64::from(m.rise)) + response,
        Schedule::CompletionRelative {
            fastinter, downinter, ..
        } => downinter + fastinter.times(i64::from(m.rise) - 1) + response.times(i64::from(m.rise)),
    }
}

/// The propagation the "routed again" figure adds: the typical tier's top at most (the tail
/// evidence is about removal; re-admission follows health state), the user's measured range where
/// given.
pub fn readmission_propagation(sc: &Scenario, lb: &LbSpec) -> Micros {
    crate::provider::tiers::pick(&crate::analysis::tiers::resolve(sc, lb), Tier::Typical)
        .figure
        .range
        .hi
}

/// The rolling-restart overlap of one LB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutOverlap {
    /// From a replacement answering its checks until the LB routes to it again (worst): health
    /// returns, plus at most the typical propagation.
    pub readmission: Micros,
    /// From a replacement answering its checks until the LB holds it healthy again (worst).
    pub health: Micros,
    /// From a replacement answering its checks until the next replica's E2.
    pub to_next_e2: Micros,
    /// Replicas unhealthy at the same time by health state (at most all of them): what decides
    /// fail-open.
    pub out_at_once: u32,
    /// Replicas out of routing at the same time (health plus the typical propagation).
    pub routed_out_at_once: u32,
}

/// Waves overlap when a replica is still being re-admitted at the next replica's E2. Each replica
/// is out from its E2 until its replacement is back; waves start `exit + startup + min_ready`
/// apart, so ceil(out window / wave period) waves are out at once.
pub fn overlap(sc: &Scenario, lb: &LbSpec, r: &Rollout) -> RolloutOverlap {
    let tl = sc.server.timeline();
    let health = health_readmission(&lb.model, sc.server.response_time);
    let readmission = health + readmission_propagation(sc, lb);
    let period = tl.e5 + r.startup_time + r.min_ready;
    let waves = r.replicas.div_ceil(r.max_unavailable);
    let at_once = |back: Micros| {
        let window = tl.e5 + r.startup_time + back - tl.e2;
        let concurrent = if period.0 <= 0 {
            waves
        } else {
            u32::try_from((window.0 + period.0 - 1) / period.0)
                .unwrap_or(u32::MAX)
                .clamp(1, waves)
        };
        concurrent.saturating_mul(r.max_unavailable).min(r.replicas)
    };
    RolloutOverlap {
        readmission,
        health,
        to_next_e2: r.min_ready + tl.e2,
        out_at_once: at_once(health),
        routed_out_at_once: at_once(readmission),
    }
}
