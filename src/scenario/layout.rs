//! What the inputs say about how targets sit behind a load balancer (targets, zones, cross-zone)
//! and which propagation tiers that layout selects: facts of the resolved model that both the
//! model (choosing the error tier) and the analysis (fail-open rules) read. The layout settings
//! are the ELB provider's own ([`crate::provider::aws::Knobs`]); other providers have none.

use super::{LbSpec, Scenario};
use crate::provider::tiers::{self, Resolved};
use crate::provider::{aws, Located, Propagation};

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
    let s = aws::Knobs::of(&lb.settings);
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

/// With cross-zone load balancing off, `targets` over `zones` leave an AZ with a single target,
/// which fails open inside its AZ when that target turns unhealthy (rule GL016). False when the
/// provider has no zones, cross-zone is on or unknown, or the layout is not known.
pub fn zone_fails_open(sc: &Scenario, lb: &LbSpec) -> bool {
    let lay = layout(sc, lb);
    lb.provider.zone_fails_open()
        && lay.cross_zone == Some(false)
        && matches!((lay.targets, lay.zones), (Some(n), Some(z)) if n >= 1 && n < 2 * z)
}

/// The user's measured `propagation_delay`, which replaces every tier.
pub fn measured(lb: &LbSpec) -> Option<&Located<Propagation>> {
    lb.settings.propagation_delay.as_ref().filter(|p| !p.from_profile)
}

/// What decides the NLB's tail for this load balancer.
pub fn tier_layout(sc: &Scenario, lb: &LbSpec) -> tiers::Layout {
    tiers::Layout {
        cross_zone: aws::Knobs::of(&lb.settings).cross_zone.map(|c| c.value),
        cross_zone_defaulted: aws::Knobs::of(&lb.settings).cross_zone.is_some_and(|c| c.from_profile),
        zone_fail_open: zone_fails_open(sc, lb),
    }
}

/// The tiers that apply to `lb` in `sc`.
pub fn resolve(sc: &Scenario, lb: &LbSpec) -> Vec<Resolved> {
    lb.tiers.resolve(measured(lb), tier_layout(sc, lb))
}

/// The tiers of `lb` from its own settings alone (a Service's load balancer on a Kubernetes path:
/// its targets and zones as its settings give them).
pub fn resolve_lb(lb: &LbSpec) -> Vec<Resolved> {
    let s = aws::Knobs::of(&lb.settings);
    let cross_zone = s.cross_zone.as_ref().map(|c| c.value);
    let zone_fail_open = lb.provider.zone_fails_open()
        && cross_zone == Some(false)
        && matches!((&s.targets, &s.zones), (Some(n), Some(z)) if n.value >= 1 && n.value < 2 * z.value);
    lb.tiers.resolve(
        measured(lb),
        tiers::Layout {
            cross_zone,
            cross_zone_defaulted: s.cross_zone.as_ref().is_some_and(|c| c.from_profile),
            zone_fail_open,
        },
    )
}
