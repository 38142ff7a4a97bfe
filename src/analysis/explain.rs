//! `explain`: the worst-case probe walk in words, event by event, replayed in the simulator.

use super::LbReport;
use crate::analysis::exact::Witness;
use crate::provider::Schedule;
use crate::scenario::{LbSpec, Scenario};
use crate::sim::{ProberPlan, Scripted, ScriptedLatency, Sim, SimError, TraceEvent, TraceKind, Until};
use crate::time::Micros;
use crate::timeline::{Outcome, Phase, ReadyzFailure};
use std::fmt::Write;

/// Replays a witness in the simulator with one prober (its failure mode, jitters, latencies and
/// hangs) until the removal, and returns the trace.
pub fn replay(sc: &Scenario, lb: &LbSpec, w: &Witness) -> Result<Vec<TraceEvent>, SimError> {
    replay_from(sc, lb, w, Micros(i64::MAX), Until::Removal)
}

/// Like [`replay`], starting whole probe periods earlier so the first probe is at or after `from`
/// (for charts), and running until `until`.
///
/// Probes before the witness's last pass all pass at full health, so starting whole periods
/// earlier (with zero jitter on the waits between them) leaves the witness run unchanged.
pub fn replay_from(
    sc: &Scenario,
    lb: &LbSpec,
    w: &Witness,
    from: Micros,
    until: Until,
) -> Result<Vec<TraceEvent>, SimError> {
    let mut model = lb.model;
    model.probers = 1;
    let server = sc.server.with_failure(w.failure);
    let sim = Sim::new(&server, &model);
    let last_pass = sim.timeline().e2 + w.last_pass;
    let pass_latency = w.latencies.first().copied().unwrap_or(server.response_time);
    let period = match model.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative { inter, .. } => inter + pass_latency,
    };
    let earlier = if last_pass > from && period > Micros::ZERO {
        (last_pass - from).0 / period.0
    } else {
        0
    };
    let mut jitters = vec![Micros::ZERO; earlier as usize];
    jitters.extend_from_slice(&w.jitters);
    let mut jitter = Scripted::new(&jitters).with_hangs(&w.hangs);
    let mut plans = [ProberPlan {
        first_start: last_pass - period.times(earlier),
        jitter: &mut jitter,
    }];
    let mut row = vec![pass_latency; earlier as usize];
    row.extend_from_slice(&w.latencies);
    let rows = [row];
    let mut latency = ScriptedLatency::new(&rows, server.response_time);
    let mut trace = Vec::new();
    sim.run_with_latency(&mut plans, &mut latency, until, Some(&mut trace))?;
    Ok(trace)
}

/// A duration in seconds with up to six decimals (`0.999999s`, `2.5s`, `90s`): every instant of
/// the walk in one unit, so `T+0.999999s` and `T+2.999999s` read alike.
pub fn seconds(d: Micros) -> String {
    let (whole, frac) = (d.0.unsigned_abs() / 1_000_000, d.0.unsigned_abs() % 1_000_000);
    let sign = if d.0 < 0 { "-" } else { "" };
    if frac == 0 {
        format!("{sign}{whole}s")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{whole}.{}s", f.trim_end_matches('0'))
    }
}

fn at(t: Micros, e1: Micros) -> String {
    let d = t - e1;
    if d < Micros::ZERO {
        format!("T-{}", seconds(-d))
    } else {
        format!("T+{}", seconds(d))
    }
}

/// The LB's effective check in one line: schedule, timeout, threshold, propagation (defaults and
/// derived values such as HAProxy's `fastinter = inter` resolved).
pub fn describe_schedule(lb: &LbSpec) -> String {
    if let Some(p) = lb.provider.passive(&lb.settings) {
        return format!("{} ({}): {}", lb.name, lb.profile, p.words);
    }
    let m = &lb.model;
    let sched = match m.schedule {
        Schedule::FixedRate { interval } => {
            format!("a probe starts every {interval} whatever the previous one did")
        }
        Schedule::CompletionRelative {
            inter,
            fastinter,
            spread_pct,
            ..
        } => {
            let mut s =
                format!("the next check starts {inter} after the previous one ends ({fastinter} after a failure)");
            if spread_pct > 0 {
                write!(s, ", each wait jittered by up to ±{spread_pct}%").ok();
            }
            s
        }
    };
    format!(
        "{} ({}): {sched}; probe timeout {}; marked down after {} consecutive failures; propagation {}",
        lb.name,
        lb.profile,
        if m.view.timeout_min == m.view.timeout {
            m.view.timeout.to_string()
        } else {
            format!("{} to {}", m.view.timeout_min, m.view.timeout)
        },
        m.threshold,
        m.propagation
    )
}

/// Where the best case's first failing probe starts, in words, from the best witness itself (so an
/// HAProxy chain that crosses E3 names where it really starts, not the onset by rote).
fn best_placement(r: &LbReport) -> String {
    let tl = &r.timeline;
    let start = tl.e2 + r.extremes.best.witness.first_fail;
    let when = at(start, tl.e1);
    if tl.e2 == tl.e3 && start == tl.e3 {
        return format!("the first failing probe starts exactly at E2 = E3 ({when}) and is refused at once");
    }
    if start == tl.e2 {
        return format!("the first failing probe starts exactly at E2 ({when}), the onset");
    }
    if start == tl.e3 {
        return format!("the first failing probe starts exactly at E3 ({when}) and is refused at once");
    }
    if start < tl.e3 {
        format!(
            "the first failing probe starts at {when}, E2 + {} and {} before E3",
            seconds(start - tl.e2),
            seconds(tl.e3 - start)
        )
    } else {
        format!(
            "the first failing probe starts at {when}, {} after E3, and is refused at once",
            seconds(start - tl.e3)
        )
    }
}

/// Where an LB's propagation range comes from, in one line (for explain, reports and JSON): the
/// user's measurement, or the profile's tier the model carries (the error tier), its evidence and
/// what is known.
pub fn propagation_origin(lb: &LbSpec) -> String {
    let p = lb.model.propagation;
    match &lb.settings.propagation_delay {
        Some(v) if !v.from_profile => format!("{p}, your propagation_delay ({}), which replaces every tier", v.loc),
        _ => {
            let t = &lb.tiers;
            let (tier, evidence) = if t.typical.range == p {
                ("typical", t.typical.evidence)
            } else if let Some(x) = [&t.tail, &t.tail_cross_zone_off]
                .into_iter()
                .flatten()
                .find(|x| x.range == p)
            {
                ("tail", x.evidence)
            } else {
                ("typical", lb.propagation_evidence)
            };
            format!(
                "{p}, the {} profile's {tier} tier ({}){}",
                lb.profile,
                evidence.describe(),
                lb.propagation_note
                    .as_ref()
                    .map_or_else(String::new, |n| format!(": {n}"))
            )
        }
    }
}

/// Every propagation tier of a report in one line each (for explain and the table).
pub fn tier_lines(r: &LbReport) -> Vec<String> {
    r.tiers
        .iter()
        .map(|t| {
            format!(
                "{}{}: {} ({}) -> worst case {}, margin {}, {}{}{}",
                t.tier,
                if t.error_tier { " (error tier)" } else { "" },
                t.range,
                t.evidence.describe(),
                t.worst,
                t.margin,
                match t.verdict {
                    crate::analysis::Verdict::Pass => "pass",
                    crate::analysis::Verdict::Warn => "WARN",
                    crate::analysis::Verdict::Fail => "FAIL",
                },
                t.recommended_shutdown_delay.map_or_else(String::new, |d| format!(
                    "; shutdown_delay >= {d} with termination_grace_period >= {} passes it",
                    t.recommended_termination_grace_period.unwrap_or_default()
                )),
                t.why.as_ref().map_or_else(String::new, |w| format!(" ({w})"))
            )
        })
        .collect()
}

/// The full text of `graceline explain` for one LB, with its report from the run's outcome.
pub fn explain(sc: &Scenario, lb: &LbSpec, r: &LbReport) -> Result<String, SimError> {
    let tl = r.timeline;
    if super::is_unchecked(lb) {
        // No check, no probe walk: HAProxy (without `check`) or a passive load balancer routes to
        // it until the process is back.
        let mut out = format!("Scenario {} ({}), server {}\n", sc.name, sc.file, sc.server.profile);
        if lb.provider.passive(&lb.settings).is_some() {
            writeln!(out, "Load balancer {}", describe_schedule(lb)).ok();
        }
        for f in &r.findings {
            writeln!(out, "{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message).ok();
        }
        return Ok(out);
    }
    let w = &r.extremes.worst.witness;
    let trace = replay(sc, lb, w)?;
    let mut out = String::new();
    let o = &mut out;
    writeln!(o, "Scenario {} ({}), server {}", sc.name, sc.file, sc.server.profile).ok();
    writeln!(o, "Load balancer {}", describe_schedule(lb)).ok();
    if lb.model.probers > 1 {
        writeln!(
            o,
            "{} probers check independently; in the worst case they all share the phase below.",
            lb.model.probers
        )
        .ok();
    }
    let failing = match (sc.server.readyz_failure, w.failure) {
        _ if !lb.model.view.sees_readiness => {
            "this check does not look at it: its probes keep passing until the server stops listening at E3"
        }
        (ReadyzFailure::Either, ReadyzFailure::Error) => {
            "it may answer 5xx or hang; the worse here: probes get an error status at once"
        }
        (ReadyzFailure::Either, _) => {
            "it may answer 5xx or hang; the worse here: probes get no answer and fail at their timeout"
        }
        (_, ReadyzFailure::Error) => "probes get an error status at once",
        _ => "probes get no answer and fail at their timeout",
    };
    writeln!(o, "\nWorst case, event by event (T = SIGTERM):").ok();
    let mut lines: Vec<(Micros, u8, String)> = vec![(tl.e1, 0, format!("E1  {}  SIGTERM", at(tl.e1, tl.e1)))];
    if tl.e2 != tl.e3 {
        lines.push((
            tl.e2,
            0,
            format!(
                "E2  {}  {} starts failing ({failing})",
                at(tl.e2, tl.e1),
                sc.server.readiness_path
            ),
        ));
    }
    let mut names = std::collections::BTreeMap::new();
    let mut prev_end: Option<(usize, Micros)> = None;
    // Probes that start after the server is marked down only run while the removal propagates:
    // they are counted in one line instead of listed.
    let marked_at = trace
        .iter()
        .find(|e| matches!(e.kind, TraceKind::MarkedDown { .. }))
        .map(|e| e.at);
    let mut during_propagation = 0usize;
    for ev in &trace {
        let t = ev.at;
        if let (TraceKind::ProbeStart { .. } | TraceKind::ProbeEnd { .. }, Some(m)) = (&ev.kind, marked_at) {
            let started = match ev.kind {
                TraceKind::ProbeEnd { started, .. } => started,
                _ => t,
            };
            if started > m {
                if matches!(ev.kind, TraceKind::ProbeStart { .. }) {
                    during_propagation += 1;
                }
                continue;
            }
        }
        match ev.kind {
            TraceKind::Phase { phase: Phase::Draining } => {
                let extra = if tl.e2 == tl.e3 {
                    format!(" and {} starts failing", sc.server.readiness_path)
                } else {
                    String::new()
                };
                let what = if sc.server.send_retry_after {
                    format!(
                        "the server stops accepting requests{extra}; new ones get 429 + Retry-After (send-retry-after), the listener stays open until {}",
                        at(tl.listener_close, tl.e1)
                    )
                } else {
                    format!("the server stops listening{extra}; new connections are refused")
                };
                lines.push((t, 0, format!("E3  {}  {what}", at(t, tl.e1))));
            }
            TraceKind::ProbeStart { probe, .. } => {
                let n = names.len() + 1;
                names.insert(probe, n);
            }
            TraceKind::ProbeEnd {
                probe,
                started,
                outcome,
                failures,
                ..
            } => {
                let n = names[&probe];
                // Past the threshold the server is already marked down: say so instead of "3/2".
                let count = if failures > lb.model.threshold {
                    "already marked down".to_string()
                } else {
                    format!("failure {failures}/{}", lb.model.threshold)
                };
                let what = match outcome {
                    Outcome::Pass => "passes".to_string(),
                    Outcome::HttpError => format!("fails with an error status ({count})"),
                    Outcome::Timeout => format!("times out ({count})"),
                    Outcome::Refused => format!("is refused ({count})"),
                };
                let note = if outcome == Outcome::Pass && started == tl.e2 + w.last_pass {
                    ": the last probe to pass before the failure onset"
                } else {
                    ""
                };
                let after = match (lb.model.schedule, prev_end) {
                    (Schedule::CompletionRelative { .. }, Some((k, end))) => {
                        format!(", {} after P{k} ended", started - end)
                    }
                    _ => String::new(),
                };
                prev_end = Some((n, t));
                lines.push((started, 2, format!("P{n}  {}  starts{after}", at(started, tl.e1))));
                let class = if started == t { 3 } else { 1 };
                lines.push((t, class, format!("P{n}  {}  {what}{note}", at(t, tl.e1))));
            }
            TraceKind::MarkedDown { .. } => {
                lines.push((
                    t,
                    3,
                    format!("    {}  the unhealthy threshold is met: marked down", at(t, tl.e1)),
                ));
            }
            TraceKind::Removed => {
                lines.push((
                    t,
                    4,
                    format!(
                        "    {}  no new request is routed to the server any more ({} of propagation after marked down{})",
                        at(t, tl.e1),
                        lb.model.propagation.hi,
                        if during_propagation > 0 {
                            format!("; {during_propagation} more probes meanwhile, not listed")
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
            _ => {}
        }
    }
    lines.sort_by_key(|(t, c, _)| (*t, *c));
    for (_, _, l) in &lines {
        writeln!(o, "  {l}").ok();
    }
    let worst = &r.extremes.worst;
    let best = &r.extremes.best;
    writeln!(o).ok();
    if worst.witness.attained {
        writeln!(o, "Worst case t = {} from E2 (reached at this phase).", worst.time).ok();
    } else {
        writeln!(
            o,
            "Worst case t = {} from E2: a supremum, approached but never reached; this walk at the critical phase is {} short of it.",
            worst.time,
            seconds(Micros::UNIT)
        )
        .ok();
    }
    writeln!(o, "Best case t = {} from E2: {}.", best.time, best_placement(r)).ok();
    writeln!(
        o,
        "Stages (worst case): detection {} (E2 until the last prober marks the server down), then propagation {} (until no new request is routed); best case: detection {}, propagation {}.",
        worst.detection,
        worst.time - worst.detection,
        best.detection,
        best.time - best.detection
    )
    .ok();
    writeln!(o, "Propagation: {}.", propagation_origin(lb)).ok();
    if r.tiers.len() > 1 {
        writeln!(o, "By propagation tier:").ok();
        for line in tier_lines(r) {
            writeln!(o, "  {line}").ok();
        }
    }
    writeln!(o, "Budget E3 - E2 = {}; margin = {}.", r.budget, r.margin).ok();
    if r.findings.is_empty() {
        writeln!(o, "No findings.").ok();
    }
    for f in &r.findings {
        writeln!(o, "{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message).ok();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::scenario::load_str;

    #[test]
    fn seconds_in_one_unit() {
        assert_eq!(seconds(Micros(999_999)), "0.999999s");
        assert_eq!(seconds(Micros(2_999_999)), "2.999999s");
        assert_eq!(seconds(Micros(2_500_000)), "2.5s");
        assert_eq!(seconds(Micros(90_000_000)), "90s");
        assert_eq!(seconds(Micros(-1)), "-0.000001s");
    }

    const BASE: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"1s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"500ms\"\nfall = 3\nprotocol = \"https\"\n";

    #[test]
    fn a_blind_check_does_not_fail_at_e2() {
        let sc = load_str("s.toml", &format!("{BASE}path = \"/healthz\"\n")).unwrap();
        let text = explain(&sc, &sc.lbs[0], &analyze(&sc, &sc.lbs[0])).unwrap();
        let e2 = text.lines().find(|l| l.trim_start().starts_with("E2")).unwrap();
        assert!(!e2.contains("timeout"), "{e2}");
        assert!(e2.contains("does not look at it"), "{e2}");
    }

    #[test]
    fn the_best_case_names_the_witness_placement_and_units_agree() {
        // /readyz hangs from E2 = T+0; E3 = T+1s refuses. A probe starting at E2 would hang until
        // T+2s; one starting at E3 is refused at once, then fastinter 500ms twice: T+1s + 1s = 2s
        // from E2, below 2s + 2 x 500ms = 3s. The best witness is the chain starting at E3.
        let sc = load_str("s.toml", &format!("{BASE}path = \"/readyz\"\n")).unwrap();
        let r = analyze(&sc, &sc.lbs[0]);
        let text = explain(&sc, &sc.lbs[0], &analyze(&sc, &sc.lbs[0])).unwrap();
        let best = text.lines().find(|l| l.starts_with("Best case")).unwrap();
        let start = r.timeline.e2 + r.extremes.best.witness.first_fail;
        assert!(best.contains(&at(start, r.timeline.e1)), "{best}");
        assert!(!best.contains("exactly at E2") || start == r.timeline.e2, "{best}");
        // The best case above, hand-checked: refused at T+1s, then two fastinter waits of 500ms.
        assert_eq!(r.extremes.best.time, Micros::from_secs(2));
        let micros_unit = text
            .as_bytes()
            .windows(3)
            .any(|w| w[0].is_ascii_digit() && &w[1..] == b"us");
        assert!(!micros_unit, "one unit for instants: {text}");
    }
}
