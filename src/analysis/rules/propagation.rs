//! GL007: neither documentation nor field measurements give the provider's delay from "marked
//! down" to "no new request routed", and the input did not set one: the worst case lacks it.
//! GL020: in the tail of the propagation evidence the load balancer still routes when (or too
//! close to when) the server stops listening, while the error tier passes.

use super::grace::fix_text;
use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::analysis::tiers::by_tier;
use crate::profiles::Evidence;
use crate::provider::tiers::{PropagationTier, Tier};
use crate::time::Micros;

/// GL020 when the error tier is the typical one, passes with the margin, and the tail does not.
pub fn tail_finding(c: &Case) -> Option<Finding> {
    if c.sc.propagation_tier != PropagationTier::Typical {
        return None;
    }
    let tiers = by_tier(c);
    let typical = tiers.iter().find(|t| t.tier == Tier::Typical)?;
    let tail = tiers.iter().find(|t| t.tier == Tier::Tail)?;
    let min = c.sc.min_margin;
    if typical.margin < min || tail.margin >= min {
        return None;
    }
    let fix = tail
        .recommended_shutdown_delay
        .and_then(|d| fix_text(&c.sc.server, d, ""))
        .map_or_else(
            || "no shutdown delay helps (see the check's visibility)".to_string(),
            |f| format!("{f} (covers the tail)"),
        );
    Some(Finding::new(
        Rule::GL020,
        c.lb_loc(),
        format!(
            "{}: in the tail of the propagation evidence ({} instead of the typical {}{}; {}{}) the worst case is {} ({} detection + {} propagation), {} the budget {} (E3 - E2), margin {}; {fix}; or measure the propagation (graceline backend + calibrate) and set propagation_delay",
            c.lb.name,
            tail.range,
            typical.range,
            tail.why.as_ref().map_or_else(String::new, |w| format!(", {w}")),
            tail.cite,
            tail.caveats
                .as_ref()
                .map_or_else(String::new, |k| format!("; caveats: {k}")),
            tail.worst,
            c.ext.worst.detection,
            tail.range.hi,
            if tail.margin <= Micros::ZERO {
                "at or after"
            } else {
                "too close before"
            },
            c.budget,
            tail.margin,
        ),
    ))
}

/// GL007 at the LB's declaration, unless the input set `propagation_delay` or the profile's
/// default rests on evidence.
pub fn finding(c: &Case) -> Option<Finding> {
    let lb = c.lb;
    let user_propagation = lb.settings.propagation_delay.as_ref().is_some_and(|p| !p.from_profile);
    (!user_propagation && lb.propagation_evidence == Evidence::None).then(|| {
        Finding::new(
            Rule::GL007,
            lb.loc.clone(),
            format!(
                "{}: the delay from 'marked down' until no new request is routed is unknown for {} ({}); graceline uses {}, so the worst case lacks that delay; measure it (graceline backend + calibrate) and set propagation_delay",
                lb.name,
                lb.profile,
                lb.propagation_note.as_deref().unwrap_or("no published or measured figure"),
                lb.model.propagation
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::run;
    use super::*;

    #[test]
    fn the_nlb_tail_warns_where_the_typical_tier_passes() {
        // The installer's check with a hanging /readyz: detection 30 s. 129 s: typical 30 + 40 =
        // 70 s passes, the tail (cross-zone off: 240 s) does not.
        let seed = include_str!("../../../tests/fixtures/seed-openshift-aws.toml")
            .replace("shutdown_delay = \"30s\"", "shutdown_delay = \"129s\"")
            .replace(
                "termination_grace_period = \"135s\"",
                "termination_grace_period = \"194s\"",
            );
        let f = run(&seed, |c| tail_finding(c).into_iter().collect());
        assert_eq!(f[0].rule, Rule::GL020, "{f:?}");
        assert!(
            f[0].message.contains("4m30s (30s detection + 4m propagation)"),
            "{}",
            f[0].message
        );
        // Cross-zone on: the tail is 172 s; 240 s covers it.
        let on = seed.replace("\"129s\"", "\"240s\"").replace("\"194s\"", "\"305s\"") + "cross_zone = true\n";
        assert!(run(&on, |c| tail_finding(c).into_iter().collect()).is_empty());
    }

    #[test]
    fn an_alb_without_a_measured_delay_is_gl007() {
        let alb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-alb\"\n";
        let f = run(alb, |c| finding(c).into_iter().collect());
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL007, 3));
        assert!(f[0].message.contains("graceline uses 0s"), "{}", f[0].message);
        let set = format!("{alb}propagation_delay = \"5s\"\n");
        assert!(run(&set, |c| finding(c).into_iter().collect()).is_empty());
        // The NLB's default rests on field evidence.
        let nlb = alb.replace("aws-alb", "aws-nlb");
        assert!(run(&nlb, |c| finding(c).into_iter().collect()).is_empty());
    }
}
