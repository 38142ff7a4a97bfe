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
use crate::analysis::failopen::{layout, overlap, zone_fails_open};
use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::scenario::{LbSpec, Rollout, Scenario};

/// Fail-open and rolling-restart findings for one LB.
pub fn findings(c: &Case) -> Vec<Finding> {
    let (sc, lb) = (c.sc, c.lb);
    let mut out = Vec::new();
    let lay = layout(sc, lb);
    let loc_of = |v: Option<&Loc>| v.cloned().unwrap_or_else(|| lb.loc.clone());
    let k = crate::provider::aws::Knobs::of(&lb.settings);
    let targets_loc = loc_of(k.targets.as_ref().filter(|t| !t.from_profile).map(|t| &t.loc));
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
    if zone_fails_open(sc, lb) {
        if let (Some(n), Some(z)) = (lay.targets, lay.zones) {
            {
                let loc = loc_of(
                    k.cross_zone.as_ref().filter(|c| !c.from_profile).map(|c| &c.loc).or(k
                        .zones
                        .as_ref()
                        .filter(|c| !c.from_profile)
                        .map(|c| &c.loc)),
                );
                out.push(Finding::new(
                    Rule::GL016,
                    loc,
                    format!(
                        "{}: cross-zone load balancing is off{} and {n} target(s) over {z} zones leave an AZ with a single target; when it shuts down that AZ has no healthy target and its LB node fails open, routing to it until DNS failover removes the AZ's address (clients cache it up to the 60 s TTL); enable load_balancing.cross_zone.enabled or run at least 2 targets per AZ",
                        lb.name,
                        if k.cross_zone.as_ref().is_some_and(|c| c.from_profile) {
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
    let fix = format!(
        "fix: [rollout] min_ready (minReadySeconds) >= {}",
        o.readmission - sc.server.timeline().e2
    );
    let next = format!(
        "the next replica's /readyz fails {} after it answers its checks (min_ready + E2)",
        o.to_next_e2
    );
    Some(if o.out_at_once >= r.replicas {
        Finding::new(
            Rule::GL018,
            loc,
            format!(
                "{}: rolling restart reaches all-unhealthy: a restarted replica is healthy again {} after it answers its checks ({} passing checks), but {next}; by health state all {} replicas are unhealthy at once, so {}; {fix}",
                lb.name,
                o.health,
                lb.model.rise,
                r.replicas,
                lb.provider.all_unhealthy()
            ),
        )
    } else {
        Finding::new(
            Rule::GL017,
            loc,
            format!(
                "{}: rolling restart overlaps: a restarted replica is routed again {} after it answers its checks ({} passing checks + at most {} of typical propagation), but {next}; {} of {} replicas are out of the LB at once ({} unhealthy at once by health state, so no fail-open); {fix}",
                lb.name,
                o.readmission,
                lb.model.rise,
                o.readmission - o.health,
                o.routed_out_at_once,
                r.replicas,
                o.out_at_once
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
        // E2 = 0, E5 = 70 + 60 = 130 s; startup 20 s; healthy again after 2 x 10 s + 0 s response
        // = 20 s, routed again after + 20 s propagation = 40 s. Waves start 130 + 20 + min_ready
        // apart; a replica is out from E2 until 130 + 20 + 40 = 190 s. min_ready 0: period 150 s,
        // window 190 s -> ceil(190/150) = 2 of 3 replicas out at once (GL017). min_ready 40 s >=
        // 40 s - E2: no overlap.
        let text = format!("{NLB}\n[rollout]\nreplicas = 3\nstartup_time = \"20s\"\n");
        let sc = scenario(&text);
        let o = overlap(&sc, &sc.lbs[0], &sc.rollout.unwrap());
        assert_eq!(
            (o.health, o.readmission),
            (Micros::from_secs(20), Micros::from_secs(40))
        );
        assert_eq!((o.out_at_once, o.routed_out_at_once), (2, 2));
        assert!(rules(&text).contains(&(Rule::GL017, Severity::Warning)));
        let ok = text.replace("startup_time", "min_ready = \"40s\"\nstartup_time");
        assert!(!rules(&ok).iter().any(|r| r.0 == Rule::GL017 || r.0 == Rule::GL018));
        // Two replicas, one at a time: 2 of 2 unhealthy at once -> ELBv2 fails open (GL018).
        let two = text.replace("replicas = 3", "replicas = 2");
        assert!(rules(&two).contains(&(Rule::GL018, Severity::Error)));
        // The profile's tiers: re-admission adds at most the typical 40 s, whatever the tail, and
        // fail-open follows health state: 2 of 3 out, not all.
        let tiers = text.replace("propagation_delay = \"20s\"\n", "");
        let sc = scenario(&tiers);
        let o = overlap(&sc, &sc.lbs[0], &sc.rollout.unwrap());
        assert_eq!(o.readmission, Micros::from_secs(60));
        assert_eq!(o.out_at_once, 2);
        assert!(!rules(&tiers).iter().any(|r| r.0 == Rule::GL018));
    }

    #[test]
    fn openshift_on_aws_as_shipped_is_no_all_unhealthy_rollout() {
        // 129 s delay, send-retry-after (E5 = 129 + 60 + 2 = 191 s), 10 s/2 healthy checks,
        // startup 30 s: healthy 20 s after answering, period 221 s, window 241 s -> 2 of 3.
        let text = "[server]\nprofile = \"kube-apiserver-openshift-aws\"\n[[lb]]\nname = \"api-int\"\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\nzones = 3\ncross_zone = true\n[rollout]\nreplicas = 3\nstartup_time = \"30s\"\n";
        let r = rules(text);
        assert!(!r.iter().any(|r| r.0 == Rule::GL018), "{r:?}");
        assert!(r.contains(&(Rule::GL017, Severity::Warning)), "{r:?}");
    }
}
