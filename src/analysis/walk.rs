//! What a timeline chart draws of one shutdown, computed once on the analysis side: per load
//! balancer the worst-case run of `check` replayed in the simulator, its verdict and what a new
//! request routed in each stretch meets; for the server its timeline and the horizon every lane
//! covers. `output::chart` turns these values into a picture and calls no analysis itself.

use super::client::client_view;
use super::explain::replay_from;
use super::findings::Severity;
use super::{analyze, unchecked_until, LbReport, Verdict};
use crate::provider::Schedule;
use crate::scenario::{LbSpec, Scenario};
use crate::sim::{TraceEvent, TraceKind, Until};
use crate::time::Micros;
use crate::timeline::{Outcome, ServerSpec, Timeline};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;

/// Most probes one lane may hold: past this a chart is a smear and its SVG tens of megabytes.
pub const MAX_PROBES: i64 = 20_000;

/// The server side of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerWalk {
    /// Scenario name.
    pub scenario: String,
    /// The file the scenario was read from (a chart title never shows it as a path).
    pub file: String,
    /// The resolved server.
    pub server: ServerSpec,
    /// Its shutdown instants.
    pub timeline: Timeline,
    /// `[start, end)` every lane's probes cover: from before the earliest last passing probe (and
    /// SIGTERM, or the preStop start) to after the exit and the latest removal, each side padded
    /// by a thirtieth of the span.
    pub horizon: (Micros, Micros),
}

/// What a new request the load balancer routes during one stretch meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// Routed and served: before E3.
    Serves,
    /// Routed after E3 under send-retry-after: the listener is still open and answers 429 with
    /// Retry-After (k8s.io/apiserver filters/with_retry_after.go); such requests fail unless the
    /// client retries.
    RetryAfter,
    /// Routed to the closed port; what the client then sees.
    ClosedPort(ClientSees),
    /// No new request is routed (for a server without `check`: the process is back).
    Removed,
}

/// What a client sees of a request routed to the closed port (see `analysis::client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSees {
    /// It fails: refused at once, or after the LB's retries on the same port.
    Fails,
    /// HAProxy `option redispatch` with another backend: retried on another server, no failure.
    Redispatched,
}

/// One stretch `[from, to)` of a lane's routing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    /// Start (absolute).
    pub from: Micros,
    /// End (absolute, exclusive).
    pub to: Micros,
    /// What a new request routed in it meets.
    pub routing: Routing,
}

/// One probe of the replayed worst-case run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkProbe {
    /// Start (absolute).
    pub start: Micros,
    /// Result instant; `None` if it comes after the end of the horizon.
    pub end: Option<Micros>,
    /// Its result.
    pub outcome: Outcome,
    /// Consecutive failures after it, when it is one of the failures that mark the server down.
    pub counts_toward_down: Option<u32>,
}

/// One load balancer's worst case, as a chart draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct LbWalk {
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
    /// Start of the last probe that passes before the failure onset (absolute; E2 when unchecked).
    pub last_pass: Micros,
    /// Instant the last prober marks the server down in the worst case (absolute).
    pub detection: Micros,
    /// Instant from which no new request is routed in the worst case (absolute).
    pub removal: Micros,
    /// The probes of the worst-case run over the horizon.
    pub probes: Vec<WalkProbe>,
    /// The routing state over the horizon, in order, without gaps.
    pub routing: Vec<Stretch>,
    /// How long a client waits for a request routed to the closed port before it fails or
    /// succeeds (HAProxy retries; zero when refused at once).
    pub client_delay: Micros,
    /// Steady-state start-to-start period of the probes (for the thinned-probes note).
    pub period: Micros,
    /// A server without `check`: no probes, never marked down; `removal` is when it is back.
    pub unchecked: bool,
}

impl LbWalk {
    /// Budget minus worst case; negative or zero when new requests can reach a closed port.
    pub fn margin(&self) -> Micros {
        self.budget - self.worst
    }

    /// True when the LB can still route a new request at or after E3 (GL001).
    pub fn violates(&self) -> bool {
        self.worst >= self.budget
    }
}

/// The walks of `sc` for the LB named `lb` (all LBs if `None`): the server and one lane each.
pub fn walk(sc: &Scenario, lb: Option<&str>) -> Result<(ServerWalk, Vec<LbWalk>)> {
    let lbs: Vec<&LbSpec> = match lb {
        Some(name) => {
            let found = sc.lbs.iter().find(|l| l.name == name).ok_or_else(|| {
                let names: Vec<_> = sc.lbs.iter().map(|l| l.name.as_str()).collect();
                anyhow!(
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
        bail!("{}: the scenario has no load balancer to draw", sc.file);
    }
    let reports: Vec<_> = lbs.iter().map(|l| analyze(sc, l)).collect();
    walk_of(sc, &lbs, &reports)
}

/// Every LB of `sc` walked from the reports a run already has (one per LB, in order): nothing is
/// analysed again.
pub fn walk_reports(sc: &Scenario, reports: &[LbReport]) -> Result<(ServerWalk, Vec<LbWalk>)> {
    let lbs: Vec<&LbSpec> = sc.lbs.iter().collect();
    if lbs.is_empty() || lbs.len() != reports.len() {
        bail!("{}: the scenario has no load balancer to draw", sc.file);
    }
    walk_of(sc, &lbs, reports)
}

fn walk_of(sc: &Scenario, lbs: &[&LbSpec], reports: &[LbReport]) -> Result<(ServerWalk, Vec<LbWalk>)> {
    let tl = sc.server.timeline();
    let ends: Vec<(Micros, Micros)> = lbs
        .iter()
        .zip(reports)
        .map(|(l, r)| (last_pass_of(sc, l, r), tl.e2 + r.extremes.worst.time))
        .collect();
    let horizon = horizon(&tl, &ends);
    let lanes = lbs
        .iter()
        .zip(reports)
        .map(|(spec, r)| lane(sc, spec, r, horizon))
        .collect::<Result<Vec<_>>>()?;
    let server = ServerWalk {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        server: sc.server.clone(),
        timeline: tl,
        horizon,
    };
    Ok((server, lanes))
}

/// The absolute start of the last probe that passes before the failure onset in `r`'s worst case
/// (E2 for a server without `check`).
fn last_pass_of(sc: &Scenario, lb: &LbSpec, r: &LbReport) -> Micros {
    let e2 = sc.server.timeline().e2;
    if unchecked_until(sc, lb).is_some() {
        e2
    } else {
        e2 + r.extremes.worst.witness.last_pass
    }
}

/// The horizon every lane of one chart covers, from each lane's `(last pass, removal)`: from the
/// earliest last pass (and SIGTERM, or the preStop start) to the later of the exit and the latest
/// removal, padded by a thirtieth of the span each side.
pub fn horizon(tl: &Timeline, lanes: &[(Micros, Micros)]) -> (Micros, Micros) {
    let lo = lanes.iter().map(|l| l.0).min().unwrap_or(tl.e1).min(Micros::ZERO);
    let last_removal = lanes.iter().map(|l| l.1).max().unwrap_or(tl.e5);
    let hi = tl.e5.max(last_removal).max(lo + Micros::from_secs(1));
    let pad = Micros((hi - lo).0 / 30).max(Micros::UNIT);
    (lo - pad, hi + pad)
}

/// One LB's lane from its `check` report `r`, its worst case replayed over `horizon`.
pub fn lane(sc: &Scenario, spec: &LbSpec, r: &LbReport, (start, end): (Micros, Micros)) -> Result<LbWalk> {
    let tl = sc.server.timeline();
    let unchecked = unchecked_until(sc, spec).is_some();
    let period = min_period(spec, sc.server.response_time);
    let probes = (end - start).0 / period.0;
    if probes > MAX_PROBES && !unchecked {
        bail!(
            "{}: {}: up to {probes} probes in the {} from SIGTERM to exit, too many to draw (at most {MAX_PROBES}); chart a shorter shutdown",
            sc.file,
            spec.name,
            end - tl.e1
        );
    }
    let w = &r.extremes.worst;
    let trace = if unchecked {
        Vec::new()
    } else {
        replay_from(sc, spec, &w.witness, start, Until::Time(end))?
    };
    let removal = tl.e2 + w.time;
    let client = client_view(sc, spec);
    let sees = if client.failing_share == 0.0 {
        ClientSees::Redispatched
    } else {
        ClientSees::Fails
    };
    Ok(LbWalk {
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
        last_pass: last_pass_of(sc, spec, r),
        detection: tl.e2 + w.detection,
        removal,
        probes: probes_from(&trace, spec, sc),
        routing: routing(&sc.server, &tl, removal, (start, end), sees),
        client_delay: client.after,
        period,
        unchecked,
    })
}

/// The routing state over `horizon`: served until E3, then (send-retry-after) answered 429 until
/// the listener closes, then the closed port, until the removal; removed after it.
pub fn routing(
    server: &ServerSpec,
    tl: &Timeline,
    removal: Micros,
    (start, end): (Micros, Micros),
    sees: ClientSees,
) -> Vec<Stretch> {
    let closed = if server.send_retry_after {
        tl.listener_close
    } else {
        tl.e3
    };
    let mut out: Vec<Stretch> = Vec::new();
    let mut push = |from: Micros, to: Micros, routing| {
        let (from, to) = (from.max(start), to.min(end));
        if from < to {
            out.push(Stretch { from, to, routing });
        }
    };
    push(start, removal.min(tl.e3), Routing::Serves);
    push(tl.e3, removal.min(closed), Routing::RetryAfter);
    push(closed.max(tl.e3), removal, Routing::ClosedPort(sees));
    push(removal, end, Routing::Removed);
    out
}

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

fn probes_from(trace: &[TraceEvent], lb: &LbSpec, sc: &Scenario) -> Vec<WalkProbe> {
    let tl = sc.server.timeline();
    let mut probes: BTreeMap<u32, WalkProbe> = BTreeMap::new();
    let mut down = false;
    for ev in trace {
        match ev.kind {
            TraceKind::ProbeStart { probe, .. } => {
                let outcome = lb.model.view.probe(&sc.server, &tl, ev.at).0;
                probes.insert(
                    probe,
                    WalkProbe {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{builtin_matrix, load_str};

    // The installer's hand analysis counts detection only: propagation pinned to 0 here.
    const SEED: &str = concat!(
        include_str!("../../tests/fixtures/seed-openshift-aws.toml"),
        "propagation_delay = \"0s\"\n"
    );

    #[test]
    fn seed_worst_case_run() {
        let sc = load_str("seed.toml", SEED).unwrap();
        let (server, lanes) = walk(&sc, None).unwrap();
        let lane = &lanes[0];
        assert_eq!(lane.verdict, Verdict::Fail);
        assert_eq!(lane.worst, Micros::from_secs(30));
        assert_eq!(lane.detection, Micros::from_secs(30));
        assert!(lane.violates());
        // The last pass just before E2, then two timeouts that mark the server down.
        let p = &lane.probes;
        assert_eq!((p[0].start, p[0].outcome), (Micros(-1), Outcome::Pass));
        assert_eq!(lane.last_pass, Micros(-1));
        assert!(
            server.horizon.0 > Micros::from_secs(-10),
            "no earlier probe fits before the horizon"
        );
        assert_eq!(p[1].outcome, Outcome::Timeout);
        assert_eq!(p[1].counts_toward_down, Some(1));
        assert_eq!(p[2].counts_toward_down, Some(2));
        assert_eq!(p[2].end, Some(Micros::from_secs(30) - Micros::UNIT));
        // Probes go on after the removal until the horizon ends, refused once the listener is closed.
        assert!(p.len() > 8);
        assert!(p[4..]
            .iter()
            .all(|q| q.outcome == Outcome::Refused && q.counts_toward_down.is_none()));
        assert!(server.horizon.1 > Micros::from_secs(90));
        // Removed exactly at E3 (0 margin): no stretch to the closed port, served until E3.
        assert_eq!(
            lane.routing.iter().map(|s| s.routing).collect::<Vec<_>>(),
            [Routing::Serves, Routing::Removed]
        );
    }

    #[test]
    fn the_replay_marks_down_where_the_exact_analysis_says() {
        // A passive load balancer has no probes to replay.
        for sc in builtin_matrix()
            .into_iter()
            .filter(|sc| unchecked_until(sc, &sc.lbs[0]).is_none())
        {
            let (server, lanes) = walk(&sc, None).unwrap();
            for lane in &lanes {
                let last = lane.probes.iter().rfind(|p| p.counts_toward_down.is_some());
                let down = last.and_then(|p| p.end).expect("marked down inside the horizon");
                let gap = lane.detection - down;
                assert!(
                    gap == Micros::ZERO || gap == Micros::UNIT,
                    "{}: replay marks down at {down}, exact {}",
                    sc.name,
                    lane.detection
                );
                assert!(lane.removal < server.horizon.1 && server.horizon.0 <= lane.probes[0].start);
                assert!(lane
                    .probes
                    .iter()
                    .take_while(|p| p.start < server.timeline.e2)
                    .all(|p| p.outcome == Outcome::Pass));
                // The stretches tile the horizon.
                assert_eq!(lane.routing.first().unwrap().from, server.horizon.0);
                assert_eq!(lane.routing.last().unwrap().to, server.horizon.1);
                assert!(lane.routing.windows(2).all(|w| w[0].to == w[1].from));
            }
        }
    }

    #[test]
    fn an_absurd_horizon_is_refused_not_replayed() {
        let text = SEED
            .replace("shutdown_delay = \"30s\"", "shutdown_delay = \"20days\"")
            .replace("\"135s\"", "\"25days\"");
        let sc = load_str("huge.toml", &text).unwrap();
        let e = walk(&sc, None).unwrap_err().to_string();
        assert!(
            e.contains("huge.toml: api-external") && e.contains("too many to draw"),
            "{e}"
        );
    }

    #[test]
    fn probes_from_the_listener_close_on_are_refused_at_once_as_the_model_says() {
        let text = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"5s\"\nreadyz_failure = \"timeout\"\nrequest_grace = \"3s\"\n[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfall = 3\nprotocol = \"https\"\npath = \"/readyz\"\n";
        let mut all = builtin_matrix();
        all.push(load_str("t.toml", text).unwrap());
        for sc in &all {
            let (_, lanes) = walk(sc, None).unwrap();
            let tl = sc.server.timeline();
            for (lane, spec) in lanes.iter().zip(&sc.lbs) {
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
    fn send_retry_after_answers_429_until_the_listener_closes() {
        // OpenShift on AWS as shipped: E3 at 2m9s, the listener open until E3 + 1m, an NLB that
        // in the tail of the evidence (cross-zone on) routes for up to 20 s + 2m52s after E2.
        let mut sc = crate::scenario::load_file(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/reports/openshift-aws/today.toml"
        )))
        .unwrap();
        sc.set_propagation_tier(crate::provider::tiers::PropagationTier::Tail);
        let (server, lanes) = walk(&sc, Some("api-int")).unwrap();
        let tl = server.timeline;
        assert!(server.server.send_retry_after && tl.listener_close == tl.e3 + Micros::from_secs(60));
        let r: Vec<_> = lanes[0].routing.iter().map(|s| (s.from, s.to, s.routing)).collect();
        assert_eq!(
            r,
            [
                (server.horizon.0, tl.e3, Routing::Serves),
                (tl.e3, tl.listener_close, Routing::RetryAfter),
                (
                    tl.listener_close,
                    lanes[0].removal,
                    Routing::ClosedPort(ClientSees::Fails)
                ),
                (lanes[0].removal, server.horizon.1, Routing::Removed),
            ]
        );
    }

    #[test]
    fn redispatch_means_no_failure_at_the_closed_port() {
        let sc = crate::scenario::load_file(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/reports/kubeadm-haproxy/scenario.toml"
        )))
        .unwrap();
        let (_, lanes) = walk(&sc, None).unwrap();
        let closed = |l: &LbWalk| {
            l.routing
                .iter()
                .find_map(|s| match s.routing {
                    Routing::ClosedPort(c) => Some(c),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(closed(&lanes[0]), ClientSees::Redispatched, "haproxy-healthz");
        assert_eq!(lanes[0].client_delay, Micros::from_secs(1));
        assert_eq!(closed(&lanes[1]), ClientSees::Fails, "haproxy-readyz");
    }

    #[test]
    fn unknown_lb_names_the_known_ones() {
        let sc = load_str("seed.toml", SEED).unwrap();
        let e = walk(&sc, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("api-external"), "{e}");
    }
}
