//! What a timeline chart shows, in integer time: the server's phases, the E-markers, and per load
//! balancer the probes of the worst-case run replayed in the simulator, with its routing state.

use crate::analysis::explain::replay_from;
use crate::analysis::{analyze, findings::Severity, Verdict};
use crate::provider::Schedule;
use crate::scenario::{LbSpec, Scenario};
use crate::sim::{TraceEvent, TraceKind, Until};
use crate::time::Micros;
use crate::timeline::{Outcome, ReadyzFailure};
use std::collections::BTreeMap;

/// What the server is doing during one stretch of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The preStop hook runs; the server still listens and is ready.
    PreStop,
    /// Listening, `/readyz` passes.
    Ready,
    /// Listening, `/readyz` fails.
    ReadyzFailing,
    /// Listener closed, in-flight requests drain.
    Draining,
    /// The process exited on its own.
    Exited,
    /// The process was killed by SIGKILL.
    Killed,
}

/// One stretch `[from, to)` of the server lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start (absolute).
    pub from: Micros,
    /// End (absolute, exclusive).
    pub to: Micros,
    /// The state during it.
    pub state: ServerState,
}

/// A labelled vertical line across the whole chart (E1..E5, SIGKILL, preStop start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Instant (absolute).
    pub at: Micros,
    /// Short id, e.g. `E3`.
    pub id: &'static str,
    /// What happens, e.g. `stops listening`.
    pub what: String,
    /// SIGKILL is drawn in red.
    pub kill: bool,
}

/// One probe of the replayed worst-case run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Start (absolute).
    pub start: Micros,
    /// Result instant; `None` if it comes after the end of the chart.
    pub end: Option<Micros>,
    /// Its result.
    pub outcome: Outcome,
    /// Consecutive failures after it, when it is one of the failures that mark the server down.
    pub counts_toward_down: Option<u32>,
}

/// One load balancer's lane.
#[derive(Debug, Clone, PartialEq)]
pub struct LbLane {
    /// LB name.
    pub name: String,
    /// Built-in profile (provider).
    pub profile: String,
    /// Probe schedule in words.
    pub schedule: String,
    /// Consecutive failures that mark the server down.
    pub threshold: u32,
    /// Overall verdict of `check` for this LB.
    pub verdict: Verdict,
    /// Rule ids of its warnings and errors.
    pub rules: Vec<&'static str>,
    /// Exact worst case from E2 until no new request is routed.
    pub worst: Micros,
    /// E3 − E2.
    pub budget: Micros,
    /// Instant the last prober marks the server down in the worst case (absolute).
    pub detection: Micros,
    /// Instant from which no new request is routed in the worst case (absolute).
    pub removal: Micros,
    /// The probes of the worst-case run.
    pub probes: Vec<Probe>,
    /// This lane's own time window `[start, end)` when lanes are drawn on their own scales
    /// (see [`TimelineChart::own_scales`]); the chart's otherwise.
    pub window: (Micros, Micros),
    /// Steady-state start-to-start period of the probes (for the thinned-probes note).
    pub period: Micros,
    /// A server without `check`: no probes, never marked down; `removal` is when it is back.
    pub unchecked: bool,
}

impl LbLane {
    /// Budget minus worst case; negative or zero when new requests can reach a closed port.
    pub fn margin(&self) -> Micros {
        self.budget - self.worst
    }

    /// True when the LB can still route a new request at or after E3 (GL001).
    pub fn violates(&self) -> bool {
        self.worst >= self.budget
    }
}

/// Everything one timeline chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineChart {
    /// Scenario name.
    pub scenario: String,
    /// Worst verdict of the lanes shown.
    pub verdict: Verdict,
    /// The server in a line of words.
    pub server: String,
    /// Axis start (absolute).
    pub start: Micros,
    /// Axis end (absolute).
    pub end: Micros,
    /// Axis zero: SIGTERM (E1).
    pub origin: Micros,
    /// E2 (absolute).
    pub e2: Micros,
    /// E3 (absolute).
    pub e3: Micros,
    /// The server lane.
    pub segments: Vec<Segment>,
    /// Vertical markers, in time order.
    pub markers: Vec<Marker>,
    /// One lane per load balancer shown.
    pub lanes: Vec<LbLane>,
    /// True when the lanes' worst cases differ by more than [`OWN_SCALE_RATIO`] times, so each
    /// lane is drawn on its own time scale (its window) instead of the shared axis.
    pub own_scales: bool,
}

/// Worst cases differing by more than this factor get a time scale per lane: on one shared axis
/// the fast lane would be a smear.
pub const OWN_SCALE_RATIO: i64 = 5;

/// Most probes one lane may hold: past this a chart is a smear and its SVG tens of megabytes.
pub const MAX_PROBES: i64 = 20_000;

/// The shortest time between two probe starts of one prober.
fn min_period(lb: &LbSpec, response_time: Micros) -> Micros {
    let p = match lb.model.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative {
            inter,
            fastinter,
            downinter,
            spread_pct,
        } => {
            let wait = inter.min(fastinter).min(downinter);
            Micros(wait.0 * i64::from(100 - spread_pct.min(100)) / 100) + response_time
        }
    };
    p.max(Micros::UNIT)
}

fn schedule_words(lb: &LbSpec) -> String {
    let m = &lb.model;
    let mut s = match m.schedule {
        Schedule::FixedRate { interval } => format!("a probe every {interval}"),
        Schedule::CompletionRelative {
            inter,
            fastinter,
            spread_pct,
            ..
        } => {
            let mut s = format!("next check {inter} after the last ends");
            if fastinter != inter {
                s.push_str(&format!(" ({fastinter} after a failure)"));
            }
            if spread_pct > 0 {
                s.push_str(&format!(" ±{spread_pct}%"));
            }
            s
        }
    };
    s.push_str(&format!(
        ", timeout {}, down after {} failure{}",
        m.view.timeout,
        m.threshold,
        if m.threshold == 1 { "" } else { "s" }
    ));
    if !m.propagation.is_zero() {
        s.push_str(&format!(", +{} propagation", m.propagation.hi));
    }
    if m.probers > 1 {
        s.push_str(&format!(", {} probers in phase", m.probers));
    }
    s
}

fn probes_from(trace: &[TraceEvent], lb: &LbSpec, sc: &Scenario) -> Vec<Probe> {
    let tl = sc.server.timeline();
    let mut probes: BTreeMap<u32, Probe> = BTreeMap::new();
    let mut down = false;
    for ev in trace {
        match ev.kind {
            TraceKind::ProbeStart { probe, .. } => {
                let outcome = lb.model.view.probe(&sc.server, &tl, ev.at).0;
                probes.insert(
                    probe,
                    Probe {
                        start: ev.at,
                        end: None,
                        outcome,
                        counts_toward_down: None,
                    },
                );
            }
            TraceKind::ProbeEnd {
                probe,
                outcome,
                failures,
                ..
            } => {
                if let Some(p) = probes.get_mut(&probe) {
                    p.end = Some(ev.at);
                    p.outcome = outcome;
                    if outcome.is_failure() && !down {
                        p.counts_toward_down = Some(failures);
                    }
                }
            }
            TraceKind::MarkedDown { .. } => down = true,
            _ => {}
        }
    }
    probes.into_values().collect()
}

fn server_words(sc: &Scenario) -> String {
    let s = &sc.server;
    let mut w = format!("server {}: ", s.profile);
    if s.prestop_sleep > Micros::ZERO {
        w.push_str(&format!("preStop {}, ", s.prestop_sleep));
    }
    w.push_str(&format!(
        "shutdown_delay {}, request_grace {}, termination_grace_period {}, failing {} {}",
        s.shutdown_delay,
        s.request_grace,
        s.termination_grace_period,
        s.readiness_path,
        match s.readyz_failure {
            ReadyzFailure::Error => "answers an error",
            ReadyzFailure::Timeout => "never answers",
            ReadyzFailure::Either => "answers an error or never answers",
        }
    ));
    w
}

/// Builds the chart of `sc` for the named load balancer, or for all of them.
pub fn build(sc: &Scenario, lb: Option<&str>) -> anyhow::Result<TimelineChart> {
    let lbs: Vec<&LbSpec> = match lb {
        Some(name) => {
            let found = sc.lbs.iter().find(|l| l.name == name).ok_or_else(|| {
                let names: Vec<_> = sc.lbs.iter().map(|l| l.name.as_str()).collect();
                anyhow::anyhow!(
                    "{}: no load balancer named \"{name}\"; the scenario has: {}",
                    sc.file,
                    names.join(", ")
                )
            })?;
            vec![found]
        }
        None => sc.lbs.iter().collect(),
    };
    if lbs.is_empty() {
        anyhow::bail!("{}: the scenario has no load balancer to draw", sc.file);
    }
    let tl = sc.server.timeline();
    let reports: Vec<_> = lbs.iter().map(|l| analyze(sc, l)).collect();
    let first_probe = lbs
        .iter()
        .zip(&reports)
        .map(|(l, r)| match crate::analysis::unchecked_until(sc, l) {
            Some(_) => tl.e2,
            None => tl.e2 + r.extremes.worst.witness.last_pass,
        })
        .min()
        .unwrap_or(tl.e1);
    let last_removal = reports
        .iter()
        .map(|r| tl.e2 + r.extremes.worst.time)
        .max()
        .unwrap_or(tl.e5);
    let lo = first_probe.min(Micros::ZERO);
    let hi = tl.e5.max(last_removal).max(lo + Micros::from_secs(1));
    let pad = Micros((hi - lo).0 / 30).max(Micros::UNIT);
    let (start, end) = (lo - pad, hi + pad);

    let mut lanes = Vec::with_capacity(lbs.len());
    for (spec, r) in lbs.iter().zip(&reports) {
        let unchecked = crate::analysis::unchecked_until(sc, spec).is_some();
        let probes = (end - start).0 / min_period(spec, sc.server.response_time).0;
        if probes > MAX_PROBES && !unchecked {
            anyhow::bail!(
                "{}: {}: up to {probes} probes in the {} from SIGTERM to exit, too many to draw (at most {MAX_PROBES}); chart a shorter shutdown",
                sc.file,
                spec.name,
                hi - tl.e1
            );
        }
        let w = &r.extremes.worst;
        let trace = if unchecked {
            Vec::new()
        } else {
            replay_from(sc, spec, &w.witness, start, Until::Time(end))?
        };
        // Its own window: from the chart start until E3 or the removal, whichever is later, padded.
        let lane_hi = (tl.e2 + w.time).max(tl.e3).max(lo + Micros::from_secs(1));
        let lane_pad = Micros((lane_hi - lo).0 / 12).max(Micros::UNIT);
        let window = (lo - lane_pad, (lane_hi + lane_pad).min(end));
        lanes.push(LbLane {
            name: spec.name.clone(),
            profile: spec.profile.clone(),
            schedule: if unchecked {
                "never checked: routed to until the process is back".to_string()
            } else {
                schedule_words(spec)
            },
            threshold: spec.model.threshold,
            verdict: r.verdict,
            rules: r
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .map(|f| f.rule.id())
                .collect(),
            worst: w.time,
            budget: r.budget,
            detection: tl.e2 + w.detection,
            removal: tl.e2 + w.time,
            probes: probes_from(&trace, spec, sc),
            window,
            period: min_period(spec, sc.server.response_time),
            unchecked,
        });
    }
    let worsts: Vec<i64> = lanes.iter().map(|l| l.worst.0.max(1)).collect();
    let own_scales = lanes.len() > 1
        && worsts.iter().max().copied().unwrap_or(1) > OWN_SCALE_RATIO * worsts.iter().min().copied().unwrap_or(1);
    if !own_scales {
        for l in &mut lanes {
            l.window = (start, end);
        }
    }

    let mut segments = Vec::new();
    let mut seg = |from: Micros, to: Micros, state| {
        let (from, to) = (from.max(start), to.min(end));
        if from < to {
            segments.push(Segment { from, to, state });
        }
    };
    seg(start, Micros::ZERO.min(tl.e1), ServerState::Ready);
    seg(Micros::ZERO, tl.e1, ServerState::PreStop);
    seg(tl.e1, tl.e2, ServerState::Ready);
    seg(tl.e2, tl.e3, ServerState::ReadyzFailing);
    seg(tl.e3, tl.e4, ServerState::Draining);
    seg(
        tl.e5,
        end,
        if tl.killed {
            ServerState::Killed
        } else {
            ServerState::Exited
        },
    );

    let path = &sc.server.readiness_path;
    let mut markers = Vec::new();
    if tl.e1 > Micros::ZERO {
        markers.push(Marker {
            at: Micros::ZERO,
            id: "preStop",
            what: "hook starts".into(),
            kill: false,
        });
    }
    markers.push(Marker {
        at: tl.e1,
        id: "E1",
        what: "SIGTERM".into(),
        kill: false,
    });
    markers.push(Marker {
        at: tl.e2,
        id: "E2",
        what: format!("{path} fails"),
        kill: false,
    });
    markers.push(Marker {
        at: tl.e3,
        id: "E3",
        what: "stops listening".into(),
        kill: false,
    });
    markers.push(Marker {
        at: tl.e4,
        id: "E4",
        what: if tl.killed {
            "in-flight cut".into()
        } else {
            "in-flight done".into()
        },
        kill: false,
    });
    markers.push(Marker {
        at: tl.e5,
        id: "E5",
        what: "exit".into(),
        kill: false,
    });
    if tl.killed {
        markers.push(Marker {
            at: tl.kill,
            id: "SIGKILL",
            what: String::new(),
            kill: true,
        });
    }
    markers.sort_by_key(|m| m.at);

    Ok(TimelineChart {
        scenario: sc.name.clone(),
        verdict: reports
            .iter()
            .map(|r| r.verdict)
            .max_by_key(|v| *v as u8)
            .unwrap_or(Verdict::Pass),
        server: server_words(sc),
        start,
        end,
        origin: tl.e1,
        e2: tl.e2,
        e3: tl.e3,
        segments,
        markers,
        lanes,
        own_scales,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{builtin_matrix, load_str};

    // The installer's hand analysis counts detection only: propagation pinned to 0 here.
    const SEED: &str = concat!(
        include_str!("../../../tests/fixtures/seed-openshift-aws.toml"),
        "propagation_delay = \"0s\"\n"
    );

    #[test]
    fn seed_worst_case_run() {
        let sc = load_str("seed.toml", SEED).unwrap();
        let c = build(&sc, None).unwrap();
        assert_eq!(c.verdict, Verdict::Fail);
        let lane = &c.lanes[0];
        assert_eq!(lane.worst, Micros::from_secs(30));
        assert_eq!(lane.detection, Micros::from_secs(30));
        assert!(lane.violates());
        // The last pass just before E2, then two timeouts that mark the server down.
        let p = &lane.probes;
        assert_eq!((p[0].start, p[0].outcome), (Micros(-1), Outcome::Pass));
        assert!(
            c.start > Micros::from_secs(-10),
            "no earlier probe fits before the axis start"
        );
        assert_eq!(p[1].outcome, Outcome::Timeout);
        assert_eq!(p[1].counts_toward_down, Some(1));
        assert_eq!(p[2].counts_toward_down, Some(2));
        assert_eq!(p[2].end, Some(Micros::from_secs(30) - Micros::UNIT));
        // Probes go on after the removal until the chart ends, refused once the listener is closed.
        assert!(p.len() > 8);
        assert!(p[4..]
            .iter()
            .all(|q| q.outcome == Outcome::Refused && q.counts_toward_down.is_none()));
        assert!(c.end > Micros::from_secs(90));
        assert_eq!(
            c.markers.iter().map(|m| m.id).collect::<Vec<_>>(),
            ["E1", "E2", "E3", "E4", "E5"]
        );
    }

    #[test]
    fn the_replay_marks_down_where_the_exact_analysis_says() {
        for sc in builtin_matrix() {
            let c = build(&sc, None).unwrap();
            for lane in &c.lanes {
                let last = lane.probes.iter().rfind(|p| p.counts_toward_down.is_some());
                let down = last.and_then(|p| p.end).expect("marked down inside the chart");
                let gap = lane.detection - down;
                assert!(
                    gap == Micros::ZERO || gap == Micros::UNIT,
                    "{}: replay marks down at {down}, exact {}",
                    sc.name,
                    lane.detection
                );
                assert!(lane.removal < c.end && c.start <= lane.probes[0].start);
                assert!(lane
                    .probes
                    .iter()
                    .take_while(|p| p.start < c.e2)
                    .all(|p| p.outcome == Outcome::Pass));
            }
        }
    }

    #[test]
    fn sigkill_and_prestop_show_up() {
        let text = SEED.replace(
            "termination_grace_period = \"135s\"",
            "termination_grace_period = \"60s\"\nprestop_sleep = \"10s\"",
        );
        let sc = load_str("k.toml", &text).unwrap();
        let c = build(&sc, None).unwrap();
        assert!(c
            .markers
            .iter()
            .any(|m| m.id == "SIGKILL" && m.at == Micros::from_secs(60)));
        assert_eq!(c.markers[0].id, "preStop");
        assert_eq!(c.origin, Micros::from_secs(10));
        let states: Vec<_> = c.segments.iter().map(|s| s.state).collect();
        assert!(states.contains(&ServerState::PreStop) && states.contains(&ServerState::Killed));
        assert!(!states.contains(&ServerState::Exited));
    }

    #[test]
    fn an_absurd_horizon_is_refused_not_drawn() {
        let text = SEED
            .replace("shutdown_delay = \"30s\"", "shutdown_delay = \"20days\"")
            .replace("\"135s\"", "\"25days\"");
        let sc = load_str("huge.toml", &text).unwrap();
        let e = build(&sc, None).unwrap_err().to_string();
        assert!(
            e.contains("huge.toml: api-external") && e.contains("too many to draw"),
            "{e}"
        );
    }

    #[test]
    fn probes_from_e3_on_are_refused_at_once_as_the_model_says() {
        let text = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"5s\"\nreadyz_failure = \"timeout\"\nrequest_grace = \"3s\"\n[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfall = 3\nprotocol = \"https\"\npath = \"/readyz\"\n";
        let mut all = builtin_matrix();
        all.push(load_str("t.toml", text).unwrap());
        for sc in &all {
            let c = build(sc, None).unwrap();
            let tl = sc.server.timeline();
            for (lane, spec) in c.lanes.iter().zip(&sc.lbs) {
                for p in &lane.probes {
                    let (outcome, took) = spec.model.view.probe(&sc.server, &tl, p.start);
                    if p.start >= tl.listener_close {
                        assert_eq!(p.outcome, Outcome::Refused, "{}: probe at {}", sc.name, p.start);
                        assert!(took < spec.model.view.timeout_min, "{}", sc.name);
                    }
                    if let Some(end) = p.end {
                        assert_eq!((p.outcome, end - p.start), (outcome, took), "{}: {}", sc.name, p.start);
                    }
                }
            }
        }
    }

    #[test]
    fn lanes_get_their_own_scale_when_worst_cases_differ_over_5x() {
        let text = "[server]\nprofile = \"kube-apiserver-openshift\"\n[[lb]]\nname = \"slow\"\nprofile = \"aws-clb\"\ninterval = \"30s\"\nunhealthy_threshold = 10\n[[lb]]\nname = \"fast\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfall = 2\nprotocol = \"https\"\npath = \"/readyz\"\n";
        let sc = load_str("m.toml", text).unwrap();
        let c = build(&sc, None).unwrap();
        assert!(c.own_scales);
        let (slow, fast) = (&c.lanes[0], &c.lanes[1]);
        assert!(fast.window.1 - fast.window.0 < slow.window.1 - slow.window.0);
        assert!(fast.window.1 > c.e3 && fast.window.1 > fast.removal);
        let c = build(&load_str("s.toml", SEED).unwrap(), None).unwrap();
        assert!(!c.own_scales);
        assert_eq!(c.lanes[0].window, (c.start, c.end));
    }

    #[test]
    fn unknown_lb_names_the_known_ones() {
        let sc = load_str("seed.toml", SEED).unwrap();
        let e = build(&sc, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("api-external"), "{e}");
    }
}
