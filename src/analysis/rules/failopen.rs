//! GL015 and GL016 (a target group or an NLB zone that fails open when its only target turns
//! unhealthy) and GL017 and GL018 (a rolling restart that takes the next replica out before the
//! previous one is routed again, or every replica at once).
//!
//! Sources: ELBv2 routes to all targets when every target of a target group is unhealthy (ALB and
//! NLB guides, target-group-health-checks); with NLB cross-zone load balancing off (the NLB
//! default) the minimum-healthy thresholds apply per enabled AZ, so an AZ whose only target is
//! unhealthy fails open inside that AZ until DNS failover removes its address (60 s TTL; NLB guide
//! target-group-health.md). Re-admission takes `healthy_threshold` passing checks plus the
//! propagation (profiles/*.toml `[sources]`); OpenShift added `minReadySeconds` for the rolling
//! case (cluster-kube-apiserver-operator#1091).

use super::Case;
use crate::analysis::failopen::{layout, overlap};
use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::scenario::{LbSpec, Rollout, Scenario};

/// Fail-open and rolling-restart findings for one LB.
pub fn findings(c: &Case) -> Vec<Finding> {
    let (sc, lb) = (c.sc, c.lb);
    let mut out = Vec::new();
    let lay = layout(sc, lb);
    let loc_of = |v: Option<&Loc>| v.cloned().unwrap_or_else(|| lb.loc.clone());
    let targets_loc = loc_of(lb.settings.targets.as_ref().filter(|t| !t.from_profile).map(|t| &t.loc));
    if lb.provider.target_group_fails_open() && lay.targets == Some(1) {
        out.push(Finding::new(
            Rule::GL015,
            targets_loc.clone(),
            format!(
                "{}: the target group has 1 target; once it turns unhealthy every target is unhealthy and the target group fails open, routing new requests to it anyway until it stops listening and beyond; run at least 2 targets",
                lb.name
            ),
        ));
    }
    if lb.provider.zone_fails_open() && lay.cross_zone == Some(false) {
        if let (Some(n), Some(z)) = (lay.targets, lay.zones) {
            if n >= 1 && n < 2 * z {
                let loc = loc_of(
                    lb.settings
                        .cross_zone
                        .as_ref()
                        .filter(|c| !c.from_profile)
                        .map(|c| &c.loc)
                        .or(lb.settings.zones.as_ref().filter(|c| !c.from_profile).map(|c| &c.loc)),
                );
                out.push(Finding::new(
                    Rule::GL016,
                    loc,
                    format!(
                        "{}: cross-zone load balancing is off{} and {n} target(s) over {z} zones leave an AZ with a single target; when it shuts down that AZ has no healthy target and its LB node fails open, routing to it until DNS failover removes the AZ's address (clients cache it up to the 60 s TTL); enable load_balancing.cross_zone.enabled or run at least 2 targets per AZ",
                        lb.name,
                        if lb.settings.cross_zone.as_ref().is_some_and(|c| c.from_profile) {
                            " (the NLB default)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
    }
    if let Some(r) = sc.rollout {
        out.extend(rollout_finding(sc, lb, &r));
    }
    out
}

fn rollout_finding(sc: &Scenario, lb: &LbSpec, r: &Rollout) -> Option<Finding> {
    let o = overlap(sc, lb, r);
    if o.readmission <= o.to_next_e2 {
        return None;
    }
    let loc = Loc {
        file: sc.file.clone(),
        line: r.line,
        column: r.column,
    };
    let why = format!(
        "a restarted replica is routed again {} after it answers its checks ({} passing checks + {} propagation), but the next replica's /readyz fails {} after that (min_ready + E2)",
        o.readmission,
        lb.model.rise,
        lb.model.propagation.hi,
        o.to_next_e2
    );
    let fix = format!(
        "fix: [rollout] min_ready (minReadySeconds) >= {}",
        o.readmission - sc.server.timeline().e2
    );
    Some(if o.out_at_once >= r.replicas {
        Finding::new(
            Rule::GL018,
            loc,
            format!(
                "{}: rolling restart reaches all-unhealthy: {why}; all {} replicas are out of the LB at once, so {}; {fix}",
                lb.name,
                r.replicas,
                lb.provider.all_unhealthy()
            ),
        )
    } else {
        Finding::new(
            Rule::GL017,
            loc,
            format!(
                "{}: rolling restart overlaps: {why}; {} of {} replicas are out of the LB at once; {fix}",
                lb.name, o.out_at_once, r.replicas
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, scenario};
    use super::*;
    use crate::analysis::findings::Severity;
    use crate::time::Micros;

    const NLB: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\nrequest_grace = \"60s\"\ntermination_grace_period = \"135s\"\n[[lb]]\nname = \"nlb\"\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\npropagation_delay = \"20s\"\n";

    fn rules(text: &str) -> Vec<(Rule, Severity)> {
        run(text, findings).iter().map(|f| (f.rule, f.severity)).collect()
    }

    #[test]
    fn single_target_and_one_target_per_zone_fail_open() {
        assert!(rules(&format!("{NLB}targets = 1\ncross_zone = true\n")).contains(&(Rule::GL015, Severity::Error)));
        assert!(!rules(&format!("{NLB}targets = 2\ncross_zone = true\n"))
            .iter()
            .any(|r| r.0 == Rule::GL015));
        // Cross-zone off (the profile's default), 3 targets over 3 zones: one per AZ.
        assert!(rules(&format!("{NLB}targets = 3\nzones = 3\n")).contains(&(Rule::GL016, Severity::Error)));
        // 6 targets over 3 zones: two per AZ; cross-zone on: the thresholds span the zones.
        assert!(!rules(&format!("{NLB}targets = 6\nzones = 3\n"))
            .iter()
            .any(|r| r.0 == Rule::GL016));
        assert!(!rules(&format!("{NLB}targets = 3\nzones = 3\ncross_zone = true\n"))
            .iter()
            .any(|r| r.0 == Rule::GL016));
        // Zones unknown: no finding.
        assert!(!rules(&format!("{NLB}targets = 3\n")).iter().any(|r| r.0 == Rule::GL016));
    }

    #[test]
    fn rolling_restart_overlap_by_hand() {
        // E2 = 0, E5 = 70 + 60 = 130 s; startup 20 s; re-admission = 2 x 10 s + 0 s response + 20 s
        // propagation = 40 s. Waves start 130 + 20 + min_ready apart; a replica is out from E2 until
        // 130 + 20 + 40 = 190 s. min_ready 0: period 150 s, window 190 s -> ceil(190/150) = 2 of 3
        // replicas out at once (GL017). min_ready 40 s >= 40 s - E2: no overlap.
        let text = format!("{NLB}\n[rollout]\nreplicas = 3\nstartup_time = \"20s\"\n");
        let sc = scenario(&text);
        let o = overlap(&sc, &sc.lbs[0], &sc.rollout.unwrap());
        assert_eq!(o.readmission, Micros::from_secs(40));
        assert_eq!(o.out_at_once, 2);
        assert!(rules(&text).contains(&(Rule::GL017, Severity::Warning)));
        let ok = text.replace("startup_time", "min_ready = \"40s\"\nstartup_time");
        assert!(!rules(&ok).iter().any(|r| r.0 == Rule::GL017 || r.0 == Rule::GL018));
        // Two replicas, one at a time: 2 of 2 out at once -> all unhealthy, ELBv2 fails open (GL018).
        let two = text.replace("replicas = 3", "replicas = 2");
        assert!(rules(&two).contains(&(Rule::GL018, Severity::Error)));
        // The profile's field propagation (240 s): re-admission 260 s, window 410 s over a 150 s
        // period -> 3 waves out: all 3 replicas unhealthy.
        let field = text.replace("propagation_delay = \"20s\"\n", "");
        let sc = scenario(&field);
        assert_eq!(overlap(&sc, &sc.lbs[0], &sc.rollout.unwrap()).out_at_once, 3);
        assert!(rules(&field).contains(&(Rule::GL018, Severity::Error)));
    }
}
