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

use super::{
    fixed_rate_grid, fixed_rate_model, fixed_rate_values, fixed_rate_words, matcher, matcher_codes, required,
    whole_seconds, Builtin, Grid, KnobValue, LbSettings, Limits, Located, ProbeModel, ProberCount, Provider, Setting,
};
use crate::error::{InputError, Loc};

/// The ELB product a profile names (its `variant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// Network Load Balancer (ELBv2, layer 4).
    Nlb,
    /// Application Load Balancer (ELBv2, layer 7).
    Alb,
    /// Classic Load Balancer.
    Clb,
}

/// AWS Elastic Load Balancing target health, one product.
#[derive(Debug)]
pub struct Elb(pub Product);

/// The Network Load Balancer.
pub static NLB: Elb = Elb(Product::Nlb);
/// The Application Load Balancer.
pub static ALB: Elb = Elb(Product::Alb);
/// The Classic Load Balancer.
pub static CLB: Elb = Elb(Product::Clb);

/// Every AWS setting; the last one (`connection_termination`) exists only on NLB target groups and
/// the one before (`matcher`) only on ELBv2 (a CLB accepts only 200, elb-healthchecks.md).
const NLB_KNOBS: &[&str] = &[
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

/// Builds the probe model: fixed-rate at `interval`, failing probes time out after `timeout`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let interval = required(&s.interval, "interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let threshold = required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value;
    Ok(fixed_rate_model(s, interval, timeout, threshold, readiness_path))
}

own_knobs! {
    /// The ELB settings beyond the shared check settings: NLB connection termination and the
    /// target layout that decides fail-open.
    pub struct Knobs {
        /// NLB `deregistration_delay.connection_termination.enabled`.
        connection_termination: bool,
        /// Registered targets of the target group.
        targets: u32 [AtLeastOne, Hidden],
        /// Availability zones with targets (NLB).
        zones: u32 [AtLeastOne, Hidden],
        /// Cross-zone load balancing (NLB; off by default).
        cross_zone: bool [None, Hidden],
    }
}

impl Provider for Elb {
    fn family(&self) -> &'static str {
        "aws"
    }

    fn profiles(&self) -> &'static [Builtin] {
        match self.0 {
            Product::Nlb => &[builtin!("aws-nlb")],
            Product::Alb => &[builtin!("aws-alb")],
            Product::Clb => &[builtin!("aws-clb")],
        }
    }

    fn own(&self) -> super::OwnKnobs {
        Knobs::OWN
    }

    fn variant(&self) -> &'static str {
        match self.0 {
            Product::Nlb => "nlb",
            Product::Alb => "alb",
            Product::Clb => "clb",
        }
    }

    /// `nlb` adds `connection_termination`, ELBv2 `matcher`.
    fn knobs(&self) -> &'static [&'static str] {
        match self.0 {
            Product::Nlb => NLB_KNOBS,
            Product::Alb => &NLB_KNOBS[..NLB_KNOBS.len() - 1],
            Product::Clb => &NLB_KNOBS[..NLB_KNOBS.len() - 2],
        }
    }

    /// ELBv2 target count; NLB zones and cross-zone load balancing.
    fn layout_knobs(&self) -> &'static [&'static str] {
        match self.0 {
            Product::Nlb => &["targets", "zones", "cross_zone"],
            Product::Alb | Product::Clb => &["targets"],
        }
    }

    /// Whole seconds; ELB success matchers take only HTTP codes (`Matcher.HttpCode`), inside the
    /// profile's range.
    fn validate(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Result<(), InputError> {
        whole_seconds(s, profile, "interval")?;
        if let Some(m) = &s.matcher {
            if !matches!(m.value.test, matcher::Test::Status(_)) {
                return Err(InputError::new(
                    m.loc.clone(),
                    "matcher",
                    format!("{profile} takes HTTP codes such as 200,202-299, got \"{}\"", m.value),
                ));
            }
        }
        matcher_codes(s, limits, profile)
    }

    /// An NLB's prober count is one LB node per enabled AZ (the common, unverified reading; see
    /// the profile's `[sources]`): with `zones` given and `probers` not, the assumed count follows
    /// `zones`.
    fn settle(&self, mut s: LbSettings) -> LbSettings {
        let k = Knobs::of(&s);
        if self.0 == Product::Nlb {
            if let (Some(z), Some(p)) = (&k.zones, &s.probers) {
                if !z.from_profile && p.from_profile {
                    s.probers = Some(Located {
                        value: ProberCount {
                            lo: z.value,
                            hi: z.value,
                        },
                        loc: z.loc.clone(),
                        from_profile: true,
                    });
                }
            }
        }
        s
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        model(s, readiness_path, at).map(Some)
    }

    fn grid(&self, _s: &LbSettings, limits: &Limits) -> Grid {
        fixed_rate_grid(limits, "interval")
    }

    fn describe(&self, st: &Setting) -> String {
        fixed_rate_words("interval", st)
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        fixed_rate_values("interval", st)
    }

    /// `target_health_state.unhealthy.connection_termination.enabled` (NLB target groups, default
    /// on): the NLB sends a TCP RST on the target's client connections (NLB guide).
    fn resets_connections(&self, s: &LbSettings) -> Option<Located<bool>> {
        (self.0 == Product::Nlb)
            .then(|| Knobs::of(s).connection_termination)
            .flatten()
            .filter(|c| c.value)
    }

    /// A Service of type LoadBalancer sets an NLB's or CLB's check by annotations; an ALB comes
    /// from an Ingress.
    fn service_annotations(&self) -> Option<super::annotations::Cloud> {
        matches!(self.0, Product::Nlb | Product::Clb).then_some(super::annotations::Cloud::Aws)
    }

    /// ELBv2 routes to all targets when every target of a target group is unhealthy (ALB and
    /// NLB guides, target-group-health-checks); a CLB has no InService instance and answers 503.
    fn target_group_fails_open(&self) -> bool {
        matches!(self.0, Product::Nlb | Product::Alb)
    }

    /// With NLB cross-zone load balancing off (the NLB default) the minimum-healthy thresholds
    /// apply per enabled AZ (NLB guide target-group-health.md).
    fn zone_fails_open(&self) -> bool {
        self.0 == Product::Nlb
    }

    fn all_unhealthy(&self) -> &'static str {
        match self.0 {
            Product::Nlb | Product::Alb => {
                "the target group fails open and routes new requests to every target, including those that stopped listening"
            }
            Product::Clb => "the Classic Load Balancer has no InService instance and answers 503",
        }
    }

    /// The NLB routes connections, not requests: keep-alive connections outlive its decision
    /// until the server closes them or the NLB resets them (`connection_termination`).
    fn established_connections(&self, s: &LbSettings, until_server: &str) -> Option<String> {
        let k = Knobs::of(s);
        if self.0 != Product::Nlb {
            return None;
        }
        let termination = k.connection_termination.as_ref().map(|c| c.value);
        Some(if termination == Some(true) {
            "established keep-alive connections keep carrying requests after the NLB stops new connections, until the NLB resets them when the target turns unhealthy (connection_termination = true, see GL006): requests in flight on them then fail with a reset".to_string()
        } else {
            format!("established keep-alive connections keep carrying requests after the NLB stops new connections (connection_termination = false) {until_server}")
        })
    }
}
