//! GL006: a load balancer that resets established connections when the target turns unhealthy
//! (an NLB with connection termination on), while the server would still drain them (until E5).

use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::paths::PathReport;
use crate::scenario::LbSpec;

/// GL006 at the `connection_termination` setting, when the earliest reset comes before E5.
pub fn finding(c: &Case) -> Option<Finding> {
    let lb = c.lb;
    let ct = lb.provider.resets_connections(&lb.settings)?;
    let reset_from = c.ext.best.detection;
    (c.tl.e2 + reset_from < c.tl.e5).then(|| {
        Finding::new(
            Rule::GL006,
            ct.loc.clone(),
            format!(
                "{}: from E2 + {} (at the latest E2 + {}) the NLB resets established connections, while the server would drain them until E2 + {}",
                lb.name,
                reset_from,
                c.ext.worst.detection,
                c.tl.e5 - c.tl.e2
            ),
        )
    })
}

/// GL006 behind `externalTrafficPolicy: Local`: the NLB resets established connections when it
/// marks the node down (its check of the healthCheckNodePort, the path's last stage without the
/// propagation), while the pod would still drain them until it exits; the finding's instants come
/// from the path, from the pod's deletion, not from the pod's own E2. Dropped when the node is
/// marked down only after the pod exits.
pub fn behind_node(findings: &mut Vec<Finding>, lb: &LbSpec, p: &PathReport) {
    let Some(f) = findings.iter_mut().find(|f| f.rule == Rule::GL006) else {
        return;
    };
    let stages = &p.path.stages;
    let Some((check, before)) = stages.split_last() else {
        return;
    };
    let prop = lb.model.propagation;
    let lo = before.iter().fold(check.lo - prop.lo, |a, s| a + s.lo);
    let hi = before.iter().fold(check.hi - prop.hi, |a, s| a + s.hi);
    let exit = p.target.server.timeline().e5;
    if lo >= exit {
        let rule = f.rule;
        findings.retain(|x| x.rule != rule);
        return;
    }
    f.message = format!(
        "{}: from the pod's deletion + {lo} (at the latest + {hi}) the NLB marks the node down and resets established connections to it, while the pod would drain them until it exits at + {exit}",
        lb.name
    );
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

    #[test]
    fn connection_termination_before_the_exit_is_gl006() {
        let on = SEED.replace("connection_termination = false", "connection_termination = true");
        let f = run(&on, |c| finding(c).into_iter().collect());
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL006, 13));
        // Best detection 20 s (two failures), worst 30 s; the server drains until E2 + 90 s.
        assert!(
            f[0].message.contains("from E2 + 20s (at the latest E2 + 30s)"),
            "{}",
            f[0].message
        );
        assert!(run(SEED, |c| finding(c).into_iter().collect()).is_empty());
    }
}
