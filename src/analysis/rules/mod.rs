//! The rules a load balancer's report runs, one file per family: each takes the [`Case`] of one
//! load balancer in front of one server and returns its findings, with a small scenario beside it
//! that triggers it and one that does not. Their metadata (name, severity, scope, descriptions)
//! is the one table [`super::findings::TABLE`]; the Kubernetes paths compute GL030-GL035 in
//! `crate::paths` from the same table.

pub mod client;
pub mod detection;
pub mod docs;
pub mod failopen;
pub mod grace;
pub mod limits;
pub mod passive;
pub mod propagation;
pub mod reset;
pub mod route;
pub mod unchecked;
pub mod visibility;

use super::exact::{self, Extremes};
use super::findings::Finding;
use crate::error::Loc;
use crate::provider::latency::LatencyRange;
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::{ReadyzOnset, Timeline};

/// One load balancer in front of one server, with what every rule reads: the timeline, the budget
/// and the exact extremes.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// The scenario (server, rollout, traffic, minimum margin).
    pub sc: &'a Scenario,
    /// The load balancer.
    pub lb: &'a LbSpec,
    /// The server's timeline.
    pub tl: Timeline,
    /// E3 - E2.
    pub budget: Micros,
    /// The probe latencies the extremes range over.
    pub lat: LatencyRange,
    /// Exact best and worst case from E2.
    pub ext: Extremes,
    /// The worst case with no SIGKILL or listener close to cut it (what a longer delay must beat).
    pub unbounded: Micros,
    /// The check sees readiness fail in every failure mode of the server.
    pub sees: bool,
    /// A longer shutdown delay helps: the check sees readiness, which fails at shutdown start.
    pub delay_helps: bool,
}

impl<'a> Case<'a> {
    /// Computes the timeline and the exact extremes of `lb` in front of `sc`'s server.
    pub fn new(sc: &'a Scenario, lb: &'a LbSpec) -> Self {
        let server = &sc.server;
        let tl = server.timeline();
        let lat = lb.latency_range(server);
        let sees = server.readyz_failure.concrete().iter().all(|&m| lb.model.view.sees(m));
        Case {
            sc,
            lb,
            budget: tl.budget(),
            tl,
            lat,
            ext: exact::extremes_with(server, &lb.model, lat),
            unbounded: exact::unbounded_worst_with(server, &lb.model, lat),
            sees,
            delay_helps: sees && server.readyz_onset == ReadyzOnset::ShutdownStart,
        }
    }

    /// The worst case from E2 until no new request is routed.
    pub fn worst(&self) -> Micros {
        self.ext.worst.time
    }

    /// The smallest shutdown delay that passes with the required margin (at least one
    /// microsecond, so a margin of 0 still needs the worst case strictly before E3), for a worst
    /// case of `unbounded` with no listener close to cut it.
    pub fn needed_for(&self, unbounded: Micros) -> Micros {
        unbounded + self.sc.min_margin.max(Micros::UNIT)
    }

    /// Where a finding about the LB as a whole points: its interval setting if the input wrote
    /// one, else the LB's declaration.
    pub fn lb_loc(&self) -> Loc {
        let s = &self.lb.settings;
        [s.interval.clone(), self.lb.provider.own_interval(s)]
            .into_iter()
            .flatten()
            .find(|v| !v.from_profile)
            .map_or_else(|| self.lb.loc.clone(), |v| v.loc)
    }
}

/// Every finding of one load balancer's own rules, in the order the families run (the report
/// sorts them by severity, then rule id). GL008 (a server without checks) is applied afterwards by
/// [`unchecked::apply`], since it replaces the figures too.
pub fn findings(c: &Case) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(detection::finding(c));
    out.extend(visibility::findings(c));
    out.extend(grace::finding(c));
    out.extend(limits::findings(c));
    out.extend(reset::finding(c));
    out.extend(propagation::finding(c));
    out.extend(propagation::tail_finding(c));
    out.extend(failopen::findings(c));
    out.extend(client::findings(c));
    out
}

/// Sorts findings as every report lists them: most severe first, then by rule id (stable, so a
/// rule's own findings keep their order).
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Scenarios the rule families' tests share.

    use crate::analysis::findings::{Finding, Rule};
    use crate::scenario::{load_str, Scenario};

    /// The seed: an NLB checking /readyz every 10 s, 2 failures, no propagation, against a
    /// kube-apiserver with a 30 s shutdown delay (worst case 30 s = the budget: GL001).
    pub const SEED: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"135s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\npropagation_delay = \"0s\"\n";

    /// Loads a test scenario.
    pub fn scenario(text: &str) -> Scenario {
        load_str("t.toml", text).unwrap()
    }

    /// The findings of `rules` (one family) for the first LB of `text`.
    pub fn run(text: &str, rules: impl Fn(&super::Case) -> Vec<Finding>) -> Vec<Finding> {
        let sc = scenario(text);
        rules(&super::Case::new(&sc, &sc.lbs[0]))
    }

    /// The rules of `findings`.
    pub fn rules(findings: &[Finding]) -> Vec<Rule> {
        findings.iter().map(|f| f.rule).collect()
    }
}
