//! Paths that wait for the pod itself: where a consumer keeps an endpoint until the pod fails its
//! readiness probe (MetalLB counts a serving-terminating endpoint; a pod the kubelet stops is not
//! deleted) or until the pod exits (node shutdown stops every probe; a pod without a readiness
//! probe is ready while it runs; `publishNotReadyAddresses`). Such a path's worst case moves with
//! the pod's own shutdown, so a preStop sleep delays its end as much as the app's stop: what
//! helps is keeping the listener open after readiness fails (the app's own shutdown delay), or
//! nothing in the pod. The stages computed here come from the pod spec; their analysis replaces
//! [`super::analyze`]'s recommended preStop accordingly.

use super::{ceil_secs, stop_listening, Path, PathReport, PathVerdict, Stage, Start, Tail};
use crate::analysis::findings::{Finding, Rule, Severity};
use crate::profiles::Evidence;
use crate::scenario::k8s::{Probe, Target};
use crate::time::Micros;

/// Where the pod-side stages are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// From t = 0 (the deletion, or the kubelet's kill).
    Zero,
    /// From SIGTERM (after any preStop).
    Sigterm,
}

fn origin(t: &Target, from: From) -> Micros {
    match from {
        From::Zero => Micros::ZERO,
        From::Sigterm => t.server.timeline().e1,
    }
}

/// From `from` until the app starts failing its readiness check (E2).
pub fn until_readiness_fails(t: &Target, from: From) -> Stage {
    let tl = t.server.timeline();
    let d = tl.e2 - origin(t, from);
    Stage::computed(
        "until-readiness-fails",
        match from {
            From::Zero => "preStop and the app's readiness delay until its readiness check can fail (E2)",
            From::Sigterm => "the app's readiness delay after SIGTERM until its readiness check can fail (E2)",
        }
        .to_string(),
        d,
        d,
        Evidence::Documented,
        format!(
            "the pod spec (preStop {}) and how the app shuts down ({})",
            t.server.prestop_sleep, t.server_source.reason
        ),
    )
}

/// The kubelet's readiness probe notices the failure: the first failing probe comes within one
/// period, the pod turns unready after `failureThreshold` failures in a row, the last one timing
/// out at worst ([`Probe::detection`]).
pub fn probe(p: &Probe) -> Stage {
    let (lo, hi) = p.detection();
    Stage::computed(
        "readiness-probe",
        format!(
            "the readiness probe fails {} time(s) in a row (periodSeconds {}, timeoutSeconds {})",
            p.failure_threshold, p.period, p.timeout
        ),
        lo,
        hi,
        Evidence::Documented,
        format!(
            "the pod's readinessProbe at {}: (failureThreshold - 1) x periodSeconds to failureThreshold x periodSeconds + timeoutSeconds (Probe API defaults 10 s, 3, 1 s: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Probe)",
            p.loc
        ),
    )
}

/// From `from` until the app has exited (E5, capped by SIGKILL).
pub fn until_exit(t: &Target, from: From) -> Stage {
    let tl = t.server.timeline();
    let d = tl.e5 - origin(t, from);
    Stage::computed(
        "until-exit",
        "the app drains and exits (or is killed)".to_string(),
        d,
        d,
        Evidence::Documented,
        format!(
            "the pod spec (grace period {}) and how the app shuts down ({}); the pod turns unready only when its containers have stopped",
            t.server.termination_grace_period, t.server_source.reason
        ),
    )
}

/// True when a path's stages depend on the pod's own shutdown.
pub fn depends_on_pod(p: &Path) -> bool {
    p.stages.iter().any(super::follows_prestop)
}

/// What can end such a path sooner than the app stops listening.
#[derive(Debug, Clone)]
pub enum Fix {
    /// Keep listening after readiness fails: the app's own shutdown delay; `grace` names what
    /// sets SIGKILL for this termination.
    AppDelay {
        /// What sets the grace period (e.g. `terminationGracePeriodSeconds`).
        grace: String,
    },
    /// Nothing in the pod helps, and why.
    Nothing(String),
}

/// The verdict of a set of findings.
pub fn verdict_of(findings: &[Finding]) -> PathVerdict {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => PathVerdict::Fail,
        Some(Severity::Warning) => PathVerdict::Warn,
        _ => PathVerdict::Pass,
    }
}

/// Judges a path that waits for the pod: `origin` names its t = 0 in messages, `why` says what
/// the endpoint waits for.
pub fn analyze(t: &Target, path: &Path, min_margin: Micros, fix: &Fix, origin: &str, why: &str) -> PathReport {
    let tl = t.server.timeline();
    let start = match path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => tl.e1,
    };
    let stop = stop_listening(t, path, t.server.prestop_sleep, Micros::ZERO);
    let worst = path.never_withdrawn.is_none().then(|| start + path.worst());
    let best = start + path.best();
    let margin = worst.map(|w| stop - w);
    let (mut rec_delay, mut rec_grace) = (None, None);
    let fix_text = match (fix, worst) {
        (Fix::AppDelay { grace }, Some(w)) => {
            let d = ceil_secs(w + min_margin - tl.e2);
            let g = ceil_secs(tl.e2 + d + t.server.request_grace);
            rec_delay = Some(d);
            rec_grace = Some(g);
            format!(
                "fix: keep listening >= {}s after readiness starts failing (the app's own shutdown delay; a preStop sleep moves this path's end as much as the app's stop), with {grace} >= {}s",
                d.0 / 1_000_000,
                g.0 / 1_000_000
            )
        }
        (Fix::Nothing(why_not), _) => format!("no preStop or delay in the pod helps: {why_not}"),
        (_, None) => String::new(),
    };
    let slowest = path
        .slowest()
        .map(|s| {
            format!(
                "slowest stage: {} ({}, up to {}{})",
                s.id,
                s.label,
                s.hi,
                if s.unverified { ", unverified figure" } else { "" }
            )
        })
        .unwrap_or_default();
    let own = match &t.istio_proxy {
        Some(sc) if sc.exit < tl.e3 => format!("its istio-proxy sidecar exits at {}", sc.exit),
        _ => format!("preStop {} + the app's own delay {}", tl.e1, t.app_delay()),
    };
    let loc = t.finding_loc();
    let mut findings = Vec::new();
    match (worst, margin) {
        (Some(w), Some(m)) if m <= Micros::ZERO => findings.push(Finding::new(
            Rule::GL030,
            loc,
            format!(
                "{} via {} ({}): worst case {w} from {origin} until the last consumer stops sending new connections ({why}; {slowest}), but the app stops listening at {stop} ({own}); new connections can reach a closed port for up to {}; {fix_text}",
                t.name,
                path.kind.name(),
                path.name,
                w - stop
            ),
        )),
        (Some(w), Some(m)) if m < min_margin => findings.push(Finding::new(
            Rule::GL031,
            loc,
            format!(
                "{} via {} ({}): margin {m} (app stops listening at {stop}, last consumer stops sending at {w} worst case; {why}; {slowest}) is below the minimum {min_margin}; {fix_text}",
                t.name,
                path.kind.name(),
                path.name
            ),
        )),
        _ => {}
    }
    // The tail tier (stages whose evidence reaches beyond their typical range): a warning of its
    // own (GL040) when only the tail comes too close, with the delay that covers it.
    let tail = (worst.is_some() && path.has_tail()).then(|| {
        let w = start + path.worst_tail();
        let d = match fix {
            Fix::AppDelay { .. } => Some(ceil_secs(w + min_margin - tl.e2)),
            Fix::Nothing(_) => None,
        };
        Tail {
            last_send: w,
            stop_listening: stop,
            margin: stop - w,
            recommended_prestop: None,
            recommended_grace: d.map(|d| ceil_secs(tl.e2 + d + t.server.request_grace)),
            recommended_shutdown_delay: d,
        }
    });
    if let Some(x) = tail
        .as_ref()
        .filter(|x| x.margin < min_margin && margin.is_some_and(|m| m >= min_margin))
    {
        let s = path.tail_stage();
        findings.push(Finding::new(
            Rule::GL040,
            t.finding_loc(),
            format!(
                "{} via {} ({}): in the tail of the evidence ({}) the last consumer stops sending at {}, {} the app stops listening at {}; {}",
                t.name,
                path.kind.name(),
                path.name,
                s.map_or(String::new(), |s| format!(
                    "{} up to {} instead of {}: {}",
                    s.id,
                    s.tail_hi(),
                    s.hi,
                    s.tail_source.as_deref().unwrap_or_default()
                )),
                x.last_send,
                if x.margin <= Micros::ZERO { "after" } else { "too close before" },
                x.stop_listening,
                x.recommended_shutdown_delay.map_or_else(
                    || "nothing in the pod covers it".to_string(),
                    |d| format!("keep listening >= {}s after readiness starts failing (covers the tail)", d.0 / 1_000_000)
                )
            ),
        ));
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    let verdict = verdict_of(&findings);
    PathReport {
        target: t.clone(),
        path: path.clone(),
        sigterm: tl.e1,
        stop_listening: stop,
        kill: tl.kill,
        last_send_worst: worst,
        last_send_best: best,
        margin,
        min_margin,
        recommended_prestop: None,
        recommended_grace: rec_grace,
        recommended_shutdown_delay: rec_delay,
        tail,
        findings,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::figures::figures;
    use crate::paths::tests::app;
    use crate::paths::PathKind;

    fn timing(period: i64, n: u32) -> Probe {
        Probe {
            period: Micros::from_secs(period),
            failure_threshold: n,
            timeout: Micros::from_secs(1),
            loc: crate::error::Loc {
                file: "d.yaml".into(),
                line: 9,
                column: 9,
            },
        }
    }

    #[test]
    fn probe_detection_bounds() {
        // (n - 1) x period to n x period + timeout (Probe::detection).
        let s = probe(&timing(10, 3));
        assert_eq!((s.lo, s.hi), (Micros::from_secs(20), Micros::from_secs(31)));
        let s = probe(&timing(2, 1));
        assert_eq!((s.lo, s.hi), (Micros::ZERO, Micros::from_secs(3)));
    }

    #[test]
    fn a_readiness_driven_path_recommends_the_apps_delay_not_a_prestop() {
        // preStop 10 s, app stops at SIGTERM: E2 = E3 = 10 s. Path: until-readiness-fails 10 +
        // probe [0, 3] + kubelet-status-update [0, 1] + pod-watch [0, 1] = worst 15 s; margin
        // 10 - 15 = -5 s. Fix: delay >= 15 + 5 - 10 = 10 s; grace 10 + 10 + 25 = 45 s.
        let t = app(10, 30);
        let mk = |t: &Target| {
            let f = figures();
            Path {
                kind: PathKind::MetalLbL2,
                name: "x".into(),
                service: "default/web".into(),
                loc: t.container_loc.clone(),
                stages: vec![
                    until_readiness_fails(t, From::Zero),
                    probe(&timing(2, 1)),
                    f.stage("kubelet-status-update"),
                    f.stage("pod-watch"),
                ],
                start: Start::Deletion,
                listener_waits_for_first_stage: false,
                never_withdrawn: None,
                notes: Vec::new(),
                lbs: Vec::new(),
                alternative: None,
            }
        };
        let path = mk(&t);
        assert!(depends_on_pod(&path));
        let fix = Fix::AppDelay {
            grace: "terminationGracePeriodSeconds".into(),
        };
        let r = analyze(&t, &path, Micros::from_secs(5), &fix, "the deletion", "test");
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(15)));
        assert_eq!(r.margin, Some(Micros::from_secs(-5)));
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.recommended_prestop, None);
        assert_eq!(r.recommended_shutdown_delay, Some(Micros::from_secs(10)));
        assert_eq!(r.recommended_grace, Some(Micros::from_secs(45)));
        // The recommendation passes: delay 10 s keeps the listener until 20 s = 15 + 5.
        let mut fixed = t.clone();
        fixed.server.shutdown_delay = Micros::from_secs(10);
        fixed.server.termination_grace_period = Micros::from_secs(45);
        let r = analyze(&fixed, &mk(&fixed), Micros::from_secs(5), &fix, "the deletion", "test");
        assert_eq!(r.verdict, PathVerdict::Pass);
        // A longer preStop moves both ends: still -4 s.
        let longer = app(20, 60);
        let r = analyze(
            &longer,
            &mk(&longer),
            Micros::from_secs(5),
            &fix,
            "the deletion",
            "test",
        );
        assert_eq!(r.margin, Some(Micros::from_secs(-5)));
    }

    proptest::proptest! {
        /// A path that waits for the pod's readiness moves with the pod: a preStop sleep shifts
        /// its end and the app's stop alike, so the margin does not change (SIGKILL far away).
        #[test]
        fn a_prestop_sleep_does_not_move_a_readiness_driven_margin(
            pre in 0u32..600,
            delay in 0i64..120,
            period in 1i64..30,
            n in 1u32..6,
        ) {
            let with = |pre: u32| {
                let mut t = app(pre, 10_000);
                t.server.shutdown_delay = Micros::from_secs(delay);
                let (p, fix) = crate::paths::metallb::path(
                    &t,
                    crate::scenario::k8s_added::MetalLbMode::L2,
                    "a/b",
                    "a/b:80",
                    t.container_loc.clone(),
                    Some(&timing(period, n)),
                );
                analyze(&t, &p, Micros::from_secs(5), &fix, "the deletion", "test")
            };
            let (a, b) = (with(0), with(pre));
            proptest::prop_assert_eq!(a.margin, b.margin);
            proptest::prop_assert_eq!(a.recommended_shutdown_delay, b.recommended_shutdown_delay);
            proptest::prop_assert_eq!(b.recommended_prestop, None);
        }
    }
}
