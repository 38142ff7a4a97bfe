//! GL019: what clients see of the shutdown, where it is worth a line: HAProxy retrying a refused
//! connection on the same server (no redispatch) when requests can reach the closed port, and
//! keep-alive connections through an L4 load balancer (the client view: [`crate::analysis::client`]).

use super::Case;
use crate::analysis::client::client_view;
use crate::analysis::findings::{Finding, Rule, Severity};

/// GL019: what clients see, where it is worth a line: a setting that would spare the clients of
/// requests routed to the closed port (HAProxy's redispatch; warning), keep-alive connections
/// through an L4 LB (note).
pub fn findings(c: &Case) -> Vec<Finding> {
    let (sc, lb) = (c.sc, c.lb);
    let routes_after_e3 = c.worst() > c.budget;
    let v = client_view(sc, lb);
    let mut out = Vec::new();
    if let Some((fix, at)) = v.fix.as_ref().filter(|_| routes_after_e3 && v.failing_share > 0.0) {
        let loc = at.clone().unwrap_or_else(|| lb.loc.clone());
        out.push(Finding::new(
            Rule::GL019,
            loc,
            format!("{}: {}; {fix}", lb.name, v.summary),
        ));
    }
    if let Some(c) = v.connections {
        let loc = crate::provider::aws::Knobs::of(&lb.settings)
            .connection_termination
            .filter(|t| !t.from_profile)
            .map_or_else(|| lb.loc.clone(), |t| t.loc);
        let mut f = Finding::new(Rule::GL019, loc, format!("{}: {c}", lb.name));
        f.severity = Severity::Note;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::run;
    use super::*;

    const HAP: &str = "[server]\nprofile = \"kube-apiserver\"\n[traffic]\nrequests_per_second = 200\nbackends = 2\n[[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

    #[test]
    fn haproxy_without_redispatch_warns_when_requests_reach_the_closed_port() {
        // kube-apiserver's default delay 0 s: every worst case routes after E3.
        let f = run(HAP, findings);
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].loc.line),
            (Rule::GL019, Severity::Warning, 6)
        );
        assert!(f[0]
            .message
            .ends_with("add `option redispatch` to the backend (or defaults)"));
        assert!(run(&format!("{HAP}redispatch = true\n"), findings).is_empty());
    }

    #[test]
    fn l4_keep_alive_connections_are_a_note() {
        let nlb =
            "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-nlb\"\nconnection_termination = false\n";
        let f = run(nlb, findings);
        assert_eq!(
            (f[0].rule, f[0].severity, f[0].loc.line),
            (Rule::GL019, Severity::Note, 5)
        );
        let alb = nlb
            .replace("aws-nlb", "aws-alb")
            .replace("connection_termination = false\n", "");
        assert!(run(&alb, findings).is_empty());
    }
}
