//! GL008: an HAProxy server without `check` is never taken out of rotation: new connections keep
//! reaching it after E3 until the process is back. Its figure replaces the detection analysis.

use super::Case;
use crate::analysis::exact::Extremes;
use crate::analysis::findings::{Finding, Rule};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;

/// True for a server no active check takes out: an HAProxy server without `check` (rule GL008),
/// or any server behind a load balancer without active checks (nginx open source, GL021).
pub fn is_unchecked(lb: &LbSpec) -> bool {
    lb.settings.unchecked.as_ref().is_some_and(|u| u.value) || lb.provider.passive(&lb.settings).is_some()
}

/// What an unchecked server leaves to tune, in one line: [`UNCHECKED_WORDS`], or the passive
/// load balancer's own words.
pub fn unchecked_words(lb: &LbSpec) -> String {
    lb.provider
        .passive(&lb.settings)
        .map_or_else(|| UNCHECKED_WORDS.to_string(), |p| p.words)
}

/// How an unchecked server is checked, in a table cell: `none (no `check`)` or the passive load
/// balancer's label.
pub fn unchecked_label(lb: &LbSpec) -> String {
    lb.provider
        .passive(&lb.settings)
        .map_or_else(|| "none (no `check`)".to_string(), |p| format!("none ({})", p.label))
}

/// For a server without `check` (HAProxy never takes it out): the time from E2 until it is back,
/// E5 - E2 + the rollout's startup time. Every command reports this one deterministic figure.
pub fn unchecked_until(sc: &Scenario, lb: &LbSpec) -> Option<Micros> {
    if !is_unchecked(lb) {
        return None;
    }
    let tl = sc.server.timeline();
    Some(tl.e5 - tl.e2 + sc.rollout.map_or(Micros::ZERO, |r| r.startup_time))
}

/// What a server without `check` leaves to tune, in one line (`simulate`, `recommend`, charts).
pub const UNCHECKED_WORDS: &str =
    "never checked (no `check` on the server line): routed to until the process is back; nothing to tune but adding `check`";

/// For a server without `check`: drops the findings about detection and re-admission, which do not
/// apply, adds GL008 and returns the extremes it stands for (routed to until it is back, best and
/// worst alike). `None` for a checked server (the findings are left alone).
pub fn apply(c: &Case, findings: &mut Vec<Finding>) -> Option<Extremes> {
    let lb = c.lb;
    let passive = lb.provider.passive(&lb.settings).is_some();
    let u = lb.settings.unchecked.as_ref().filter(|u| u.value);
    if u.is_none() && !passive {
        return None;
    }
    findings.retain(|f| {
        !matches!(
            f.rule,
            Rule::GL001 | Rule::GL002 | Rule::GL003 | Rule::GL005 | Rule::GL007 | Rule::GL017 | Rule::GL018
        )
    });
    let startup = c.sc.rollout.map_or(Micros::ZERO, |r| r.startup_time);
    let back = c.tl.e5 - c.tl.e2 + startup;
    let mut e = c.ext.clone();
    for b in [&mut e.worst, &mut e.best] {
        b.time = back;
        b.detection = back;
    }
    let Some(u) = u.filter(|_| !passive) else {
        findings.extend(super::passive::findings(c));
        return Some(e);
    };
    findings.push(Finding::new(
        Rule::GL008,
        u.loc.clone(),
        format!(
            "{}: the server has no `check`, so HAProxy never takes it out: new connections keep reaching it after E3 until the process is back (E5 + startup {} = E2 + {}), failing for {}",
            lb.name,
            startup,
            back,
            back - c.budget
        ),
    ));
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{rules, scenario};
    use super::*;
    use crate::provider::Located;

    const HAP: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"135s\"\n[rollout]\nstartup_time = \"20s\"\n[[lb]]\nname = \"api/b\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

    #[test]
    fn a_server_without_check_is_gl008_until_it_is_back() {
        let mut sc = scenario(HAP);
        let at = sc.lbs[0].loc.clone();
        sc.lbs[0].settings.unchecked = Some(Located {
            value: true,
            loc: at,
            from_profile: false,
        });
        let c = Case::new(&sc, &sc.lbs[0]);
        let mut f = super::super::findings(&c);
        let e = apply(&c, &mut f).unwrap();
        // E5 - E2 = 30 s delay + 60 s request grace; + 20 s startup.
        assert_eq!(e.worst.time, Micros::from_secs(110));
        assert_eq!(unchecked_until(&sc, &sc.lbs[0]), Some(Micros::from_secs(110)));
        assert!(rules(&f).contains(&Rule::GL008), "{f:?}");
        assert!(!rules(&f).contains(&Rule::GL001));
    }

    #[test]
    fn a_checked_server_is_left_alone() {
        let sc = scenario(HAP);
        let c = Case::new(&sc, &sc.lbs[0]);
        let mut f = super::super::findings(&c);
        let before = f.clone();
        assert!(apply(&c, &mut f).is_none());
        assert_eq!(f, before);
        assert_eq!(unchecked_until(&sc, &sc.lbs[0]), None);
    }
}
