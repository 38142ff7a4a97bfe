//! Terminations the kubelet starts on its own: node-pressure eviction (soft and hard thresholds),
//! graceful node shutdown, a liveness-probe restart and an OOM kill. The pod is not deleted, so
//! it gets no `deletionTimestamp`: the EndpointSlice keeps it ready (`ready = serving &&
//! !terminating`) until its Ready condition turns false, which takes a failing readiness probe
//! (probes keep running while the kubelet stops a pod, except during a node shutdown, which stops
//! every probe: kubernetes#105780, #116965) or the containers' exit. Every path's withdrawal then
//! starts only there: a preStop sleep delays it as much as the app's stop, so what can help is
//! the app failing readiness and keeping its listener open after that (its own shutdown delay),
//! and for a hard eviction, an OOM kill or a node shutdown nothing in the pod can.
//!
//! The grace period is the kubelet's: `min(evictionMaxPodGracePeriod, terminationGracePeriodSeconds)`
//! for a soft eviction (0 by default), 1 s for a hard one, `shutdownGracePeriod -
//! shutdownGracePeriodCriticalPods` (or the pod's, if shorter) for a node shutdown, the liveness
//! probe's own `terminationGracePeriodSeconds` for a restart; it applies before preStop, which
//! runs only with time left, and SIGKILL comes at least 2 s after SIGTERM (kubernetes
//! pkg/kubelet/eviction/eviction_manager.go, pkg/kubelet/nodeshutdown, pkg/kubelet/kuberuntime
//! kuberuntime_container.go `killContainer`). Chosen with `[paths] termination = ...` or
//! `--termination`.

use super::figures::figures;
use super::readiness::{probe, until_exit, until_readiness_fails, Fix, From};
use super::settings::Termination;
use super::{Path, Stage, Start};
use crate::analysis::findings::{Finding, Rule};
use crate::scenario::k8s::Probe;
use crate::scenario::k8s::{Prestop, Target};
use crate::scenario::k8s_added::AddedObjects;
use crate::time::Micros;

/// `immediateEvictionGracePeriodSeconds` of the eviction manager (a hard threshold).
pub const HARD_EVICTION_GRACE: Micros = Micros::from_secs(1);

/// The kubelet's minimum SIGTERM-to-SIGKILL window (`minimumGracePeriodInSeconds`).
pub const MINIMUM_WINDOW: Micros = Micros::from_secs(2);

/// True when the kubelet's own terminations apply to the target (an app workload's pod).
pub fn applies(t: &Target) -> bool {
    !t.apiserver && t.kind != "server"
}

/// How the kubelet stops one pod.
#[derive(Debug, Clone)]
pub struct Kill {
    /// The termination.
    pub termination: Termination,
    /// The grace period the kubelet uses (`None`: no grace at all, SIGKILL at once).
    pub grace: Option<Micros>,
    /// What sets it, in words, with where.
    pub grace_what: String,
    /// Every probe stops (graceful node shutdown).
    pub probes_stop: bool,
}

impl Kill {
    /// How the kubelet stops `t` for `termination`, from the KubeletConfiguration among the
    /// inputs (else its documented defaults, said in `grace_what`).
    pub fn new(t: &Target, termination: Termination, added: &AddedObjects) -> Kill {
        let pod = t.server.termination_grace_period;
        let kc = added.kubelet.as_ref();
        let (grace, grace_what, probes_stop) = match termination {
            Termination::Deletion => (Some(pod), "terminationGracePeriodSeconds".to_string(), false),
            Termination::Eviction => {
                let (max, at) = match kc.and_then(|k| k.eviction_max_pod_grace.clone()) {
                    Some((m, at)) => (m, format!("evictionMaxPodGracePeriod {m} at {at}")),
                    None => (
                        Micros::ZERO,
                        "evictionMaxPodGracePeriod 0 (the KubeletConfiguration default: no KubeletConfiguration among the inputs)".to_string(),
                    ),
                };
                (
                    Some(max.min(pod)),
                    format!("min({at}, terminationGracePeriodSeconds {pod})"),
                    false,
                )
            }
            Termination::HardEviction => (
                Some(HARD_EVICTION_GRACE),
                "a hard eviction threshold: immediateEvictionGracePeriodSeconds = 1 (pkg/kubelet/eviction/eviction_manager.go)".to_string(),
                false,
            ),
            Termination::NodeShutdown => {
                let all = kc.and_then(|k| k.shutdown_grace.clone());
                let critical = kc.and_then(|k| k.shutdown_grace_critical.clone());
                match all {
                    Some((a, at)) if a > Micros::ZERO => {
                        let c = critical.as_ref().map_or(Micros::ZERO, |(c, _)| *c);
                        let regular = a - c;
                        (
                            Some(regular.min(pod)),
                            format!(
                                "min(shutdownGracePeriod {a} at {at} - shutdownGracePeriodCriticalPods {c}, terminationGracePeriodSeconds {pod})"
                            ),
                            true,
                        )
                    }
                    _ => (
                        None,
                        "shutdownGracePeriod 0 (the default: graceful node shutdown is off; the pod dies with the node, taken as at once)".to_string(),
                        true,
                    ),
                }
            }
            Termination::LivenessRestart => {
                let own = added
                    .pod(&t.name)
                    .and_then(|p| p.liveness_grace.iter().find(|(c, _, _)| *c == t.container));
                match own {
                    Some((_, g, at)) => (
                        Some(*g),
                        format!("livenessProbe.terminationGracePeriodSeconds {g} at {at}"),
                        false,
                    ),
                    None => (
                        Some(pod),
                        format!(
                            "terminationGracePeriodSeconds {pod}{} (no livenessProbe.terminationGracePeriodSeconds)",
                            if t.grace_defaulted { ", the default" } else { "" }
                        ),
                        false,
                    ),
                }
            }
            Termination::OomKill => (None, "none: the OOM killer sends SIGKILL".to_string(), false),
        };
        Kill {
            termination,
            grace,
            grace_what,
            probes_stop,
        }
    }

    /// The target as the kubelet stops it: preStop cut to the grace (none without grace), SIGKILL
    /// at `preStop + max(grace - preStop, 2 s)`, or at once without grace; a sidecar is kept
    /// only when every container is stopped (not for a liveness restart or an OOM kill).
    pub fn target(&self, t: &Target) -> Target {
        let mut t2 = t.clone();
        let s = &mut t2.server;
        match self.grace {
            Some(g) => {
                let pre = if g > Micros::ZERO {
                    s.prestop_sleep.min(g)
                } else {
                    Micros::ZERO
                };
                s.prestop_sleep = pre;
                s.termination_grace_period = pre + (g - pre).max(MINIMUM_WINDOW);
            }
            None => {
                s.prestop_sleep = Micros::ZERO;
                s.termination_grace_period = Micros::ZERO;
            }
        }
        // The hook as it runs: cut, or not at all.
        let ran = t2.server.prestop_sleep;
        if ran != t.server.prestop_sleep {
            t2.prestop = match &t.prestop {
                _ if ran == Micros::ZERO => Prestop::None,
                Prestop::Sleep { loc, .. } => Prestop::Sleep {
                    duration: ran,
                    loc: loc.clone(),
                },
                Prestop::Unknown { what, loc, .. } => Prestop::Unknown {
                    what: what.clone(),
                    assumed: ran,
                    loc: loc.clone(),
                },
                Prestop::None => Prestop::None,
            };
        }
        match self.termination {
            Termination::LivenessRestart | Termination::OomKill => t2.istio_proxy = None,
            _ => {
                // istio-proxy has no preStop: its SIGKILL comes max(grace, 2 s) after its SIGTERM.
                let kill = self.grace.map_or(Micros::ZERO, |g| g.max(MINIMUM_WINDOW));
                if let Some(sc) = &mut t2.istio_proxy {
                    sc.exit = sc.exit.min(kill);
                }
            }
        }
        t2
    }

    /// The path as it runs for this termination: the consumer's own stages after what makes the
    /// pod unready (its readiness probe, its exit, or the kubelet noticing the OOM kill), timed
    /// from SIGTERM; with what can end it sooner and why it waits.
    pub fn path(&self, t2: &Target, p: &Path, readiness: Option<&Probe>) -> (Path, Fix, String) {
        let f = figures();
        let exit_only = p.stages.iter().any(|s| s.id == "until-exit");
        // The consumer's own stages: drop a pod-side prefix the path already had.
        let tail: Vec<Stage> = p
            .stages
            .iter()
            .filter(|s| {
                !matches!(
                    s.id.as_str(),
                    "until-readiness-fails" | "readiness-probe" | "until-exit" | "kubelet-status-update"
                )
            })
            .cloned()
            .collect();
        let status = f.stage("kubelet-status-update");
        let nothing_after_exit = || {
            Fix::Nothing(
                "the endpoint goes only after the pod has exited; drain the node with kubectl drain (which deletes the pods) before it shuts down, and have clients retry"
                    .to_string(),
            )
        };
        let (prefix, fix, why) = match (self.termination, readiness) {
            (Termination::OomKill, _) => (
                vec![f.stage("pleg-relist"), status],
                Fix::Nothing("the OOM killer stops the app at once, before anything can withdraw it; give the container the memory it needs, and have clients retry".to_string()),
                "an OOM kill: the endpoint goes when the kubelet notices the exit".to_string(),
            ),
            (_, _) if self.probes_stop => (
                vec![until_exit(t2, From::Sigterm), status],
                nothing_after_exit(),
                "a node shutdown stops every probe (kubernetes#105780, #116965), so the endpoint stays ready until the pod exits".to_string(),
            ),
            (_, _) if exit_only => (
                vec![until_exit(t2, From::Sigterm), status],
                Fix::Nothing("the Service publishes not-ready addresses, so the endpoint stays until the pod is gone".to_string()),
                "publishNotReadyAddresses: the endpoint stays ready until the pod exits".to_string(),
            ),
            (_, None) => (
                vec![until_exit(t2, From::Sigterm), status],
                Fix::Nothing("without a readiness probe the pod is ready while its containers run; add a readiness probe that fails when the app starts shutting down and keep listening after it fails".to_string()),
                "no readiness probe: the endpoint stays ready until the pod exits".to_string(),
            ),
            (Termination::HardEviction, Some(r)) => (
                vec![until_readiness_fails(t2, From::Sigterm), probe(r), status],
                Fix::Nothing(format!(
                    "a hard eviction kills {} after SIGTERM, before a readiness probe can take the pod out",
                    MINIMUM_WINDOW
                )),
                "the endpoint stays ready until the readiness probe fails (the pod is not deleted)".to_string(),
            ),
            (_, Some(r)) => (
                vec![until_readiness_fails(t2, From::Sigterm), probe(r), status],
                Fix::AppDelay {
                    grace: self.grace_what_to_raise(),
                },
                "the endpoint stays ready until the readiness probe fails (the pod is not deleted)".to_string(),
            ),
        };
        let mut stages = prefix;
        stages.extend(tail);
        let mut alternative = p.alternative.clone();
        if let Some(a) = &mut alternative {
            // The load balancer's own check of the pod, timed from SIGTERM like the path.
            if let Some(first) = a.stages.first_mut().filter(|s| s.id == "until-readiness-fails") {
                let d = t2.server.readyz_fail_after;
                first.lo = d;
                first.hi = d;
                first.label = "the app's readiness delay after SIGTERM until the check can fail (E2)".to_string();
            }
        }
        let mut notes = p.notes.clone();
        notes.push(format!(
            "termination: {} (grace: {}); {}",
            self.termination.name(),
            self.grace_what,
            figures().source("not_deleted")
        ));
        (
            Path {
                stages,
                start: Start::Sigterm,
                name: format!("{} [{}]", p.name, self.termination.name()),
                notes,
                alternative,
                ..p.clone()
            },
            fix,
            why,
        )
    }

    fn grace_what_to_raise(&self) -> String {
        match self.termination {
            Termination::Eviction => "evictionMaxPodGracePeriod and terminationGracePeriodSeconds".to_string(),
            Termination::LivenessRestart => {
                "livenessProbe.terminationGracePeriodSeconds (else terminationGracePeriodSeconds)".to_string()
            }
            _ => "terminationGracePeriodSeconds".to_string(),
        }
    }

    /// GL036: what this termination does to the pod, once per workload.
    pub fn finding(&self, t: &Target, t2: &Target, readiness: Option<&Probe>) -> Finding {
        let tl = t2.server.timeline();
        let prestop = if t.server.prestop_sleep == Micros::ZERO {
            "no preStop".to_string()
        } else if t2.server.prestop_sleep == Micros::ZERO {
            format!("its preStop ({}) does not run", t.server.prestop_sleep)
        } else if t2.server.prestop_sleep < t.server.prestop_sleep {
            format!("its preStop is cut at {}", t2.server.prestop_sleep)
        } else {
            format!(
                "its preStop runs {} and delays the endpoint's removal as much as the app's stop",
                t2.server.prestop_sleep
            )
        };
        let follows = match (self.termination, readiness) {
            (Termination::OomKill, _) => "the kubelet notices the exit".to_string(),
            (Termination::NodeShutdown, _) => "the pod exits (every probe stops during a node shutdown)".to_string(),
            (_, Some(r)) => format!("its readiness probe ({}) fails", r.loc),
            (_, None) => "its containers exit (no readiness probe)".to_string(),
        };
        Finding::new(
            Rule::GL036,
            t.container_loc.clone(),
            format!(
                "{}: termination {}: the pod is not deleted, so its endpoints stay ready until {follows}; grace {}, {prestop}, SIGTERM at {}, SIGKILL at {}",
                t.name,
                self.termination.name(),
                self.grace_what,
                tl.e1,
                tl.kill
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::readiness::analyze;
    use crate::paths::tests::app;
    use crate::paths::{kube_proxy, PathVerdict};
    use crate::scenario::k8s::ProxyMode;
    use crate::scenario::k8s_added::KubeletConfig;

    fn timing(period: i64, n: u32) -> Probe {
        Probe {
            period: Micros::from_secs(period),
            failure_threshold: n,
            timeout: Micros::from_secs(1),
            loc: crate::error::Loc {
                file: "d.yaml".into(),
                line: 20,
                column: 9,
            },
        }
    }

    fn kubelet(eviction_max: i64) -> AddedObjects {
        AddedObjects {
            kubelet: Some(KubeletConfig {
                eviction_max_pod_grace: Some((
                    Micros::from_secs(eviction_max),
                    crate::error::Loc {
                        file: "k.yaml".into(),
                        line: 4,
                        column: 28,
                    },
                )),
                ..KubeletConfig::default()
            }),
            ..AddedObjects::default()
        }
    }

    fn kp(t: &Target) -> Path {
        kube_proxy::path(
            "shop/web",
            "shop/web:80 ClusterIP",
            t.container_loc.clone(),
            ProxyMode::Iptables,
        )
    }

    #[test]
    fn a_soft_eviction_waits_for_readiness_and_a_prestop_does_not_help() {
        // preStop 10 s, grace 45 s, evictionMaxPodGracePeriod 60 s: grace min(60, 45) = 45 s;
        // SIGTERM at 10 s; the app stops and fails readiness at 10 s. Path from SIGTERM:
        // until-readiness-fails 0 + probe [0, 3] (period 2 s x 1, timeout 1 s) + status 1 +
        // kube-proxy 4 = 8 s, last send 10 + 8 = 18 s, app stops at 10 s: margin -8 s. Fix:
        // delay >= 18 + 5 - 10 = 13 s, grace 10 + 13 + 25 = 48 s.
        let t = app(10, 45);
        let k = Kill::new(&t, Termination::Eviction, &kubelet(60));
        assert_eq!(k.grace, Some(Micros::from_secs(45)));
        let t2 = k.target(&t);
        let (p, fix, why) = k.path(&t2, &kp(&t), Some(&timing(2, 1)));
        let r = analyze(&t2, &p, Micros::from_secs(5), &fix, "the kubelet's kill", &why);
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(18)));
        assert_eq!(r.margin, Some(Micros::from_secs(-8)));
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.recommended_prestop, None);
        assert_eq!(r.recommended_shutdown_delay, Some(Micros::from_secs(13)));
        assert_eq!(r.recommended_grace, Some(Micros::from_secs(48)));
        assert!(p.name.ends_with("[eviction]"));
    }

    #[test]
    fn the_default_eviction_grace_skips_the_prestop() {
        // No KubeletConfiguration: evictionMaxPodGracePeriod 0 -> grace 0: no preStop, SIGTERM at
        // 0, SIGKILL 2 s later.
        let t = app(10, 45);
        let k = Kill::new(&t, Termination::Eviction, &AddedObjects::default());
        let t2 = k.target(&t);
        let tl = t2.server.timeline();
        assert_eq!((tl.e1, tl.kill), (Micros::ZERO, Micros::from_secs(2)));
        let f = k.finding(&t, &t2, None);
        assert_eq!(f.rule, Rule::GL036);
        assert!(f.message.contains("does not run"), "{}", f.message);
    }

    #[test]
    fn hard_eviction_oom_and_node_shutdown_leave_nothing_to_fix() {
        let t = app(10, 45);
        // Hard eviction: grace 1 s, preStop cut at 1 s, SIGKILL at 1 + 2 = 3 s.
        let k = Kill::new(&t, Termination::HardEviction, &AddedObjects::default());
        let t2 = k.target(&t);
        assert_eq!(t2.server.timeline().kill, Micros::from_secs(3));
        let (p, fix, why) = k.path(&t2, &kp(&t), Some(&timing(2, 1)));
        let r = analyze(&t2, &p, Micros::from_secs(5), &fix, "the kubelet's kill", &why);
        assert_eq!(r.verdict, PathVerdict::Fail);
        assert_eq!(r.recommended_shutdown_delay, None);
        // OOM: SIGKILL at 0; pleg 1 + status 1 + kube-proxy 4 = 6 s after the app stopped.
        let k = Kill::new(&t, Termination::OomKill, &AddedObjects::default());
        let t2 = k.target(&t);
        let (p, fix, why) = k.path(&t2, &kp(&t), Some(&timing(2, 1)));
        let r = analyze(&t2, &p, Micros::from_secs(5), &fix, "the kubelet's kill", &why);
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(6)));
        assert_eq!(r.margin, Some(Micros::from_secs(-6)));
        // Node shutdown, shutdownGracePeriod 30 s: grace min(30, 45) = 30 s; preStop 10 s, the
        // app stops at 10 s and exits at 10 + 25 = 35 -> capped by SIGKILL at 30 s; from SIGTERM:
        // until-exit 20 + status 1 + kube-proxy 4: last send 35 s, margin -25 s.
        let added = AddedObjects {
            kubelet: Some(KubeletConfig {
                shutdown_grace: Some((Micros::from_secs(30), t.container_loc.clone())),
                ..KubeletConfig::default()
            }),
            ..AddedObjects::default()
        };
        let k = Kill::new(&t, Termination::NodeShutdown, &added);
        let t2 = k.target(&t);
        let (p, fix, why) = k.path(&t2, &kp(&t), Some(&timing(2, 1)));
        let r = analyze(&t2, &p, Micros::from_secs(5), &fix, "the kubelet's kill", &why);
        assert_eq!(r.last_send_worst, Some(Micros::from_secs(35)));
        assert_eq!(r.margin, Some(Micros::from_secs(-25)));
        assert!(matches!(fix, Fix::Nothing(_)));
    }

    #[test]
    fn the_sidecar_stops_with_the_kubelets_grace_and_stays_for_a_restart() {
        let mut t = app(10, 45);
        t.istio_proxy = Some(crate::scenario::k8s_added::Sidecar {
            exit: Micros::from_secs(5),
            drain: Micros::from_secs(5),
            drain_source: "default".into(),
            how: "test".into(),
            loc: t.container_loc.clone(),
        });
        // Hard eviction: istio-proxy (no preStop) gets SIGKILL max(1, 2) = 2 s after SIGTERM.
        let k = Kill::new(&t, Termination::HardEviction, &AddedObjects::default());
        assert_eq!(k.target(&t).istio_proxy.unwrap().exit, Micros::from_secs(2));
        // A liveness restart or an OOM kill stops only the app container: the sidecar stays.
        for term in [Termination::LivenessRestart, Termination::OomKill] {
            let k = Kill::new(&t, term, &AddedObjects::default());
            assert!(k.target(&t).istio_proxy.is_none(), "{term:?}");
        }
    }
}
