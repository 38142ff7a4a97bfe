//! Exact best and worst detection times, derived per scheduling class (no sampling).
//!
//! Times are relative to E2. `O` is the failure onset (0 for readiness probes, the budget `B = E3 − E2`
//! for probes that only see the listener). A probe that starts at `s` fails if `s >= O`; before E3
//! (`s < B`) its failure takes `H` (the 5xx response time, or the timeout for a server that never
//! answers), from E3 on it is refused and takes `R` (the response time). The server is fully up
//! before the onset, so the worst case is the phase where the last passing probe starts just before
//! the onset; the best case, where the first failing probe starts exactly at it.
//!
//! Fixed rate (AWS, GCP, Azure): with the first failing probe at `p` in `[O, O + I)`, probe `k` ends at
//! `p + k·I + dur(p + k·I)` and the server is marked down when the `U`-th failure arrives. Only
//! `p + k·I = B` changes a duration, so `[O, O + I)` splits into at most two segments on which the
//! detection time is `p + c`; the supremum is `segment end + c` (approached, not attained) and the
//! infimum `segment start + c` (attained).
//!
//! Completion-relative (HAProxy): `s₁ ∈ [O, O + R + inter + J(inter))`, then
//! `s_{k+1} = s_k + dur(s_k) + fastinter + j`, `j ∈ [−J, J]`, and detection is `s_F + dur(s_F)`. For each
//! choice of the first probe `m` that starts at or after E3, the reachable starts form half-open
//! intervals (sums and intersections of intervals), so the extremes are interval end points.
//!
//! Latency ranges: when each probe's answer (pass, 5xx, refusal) may take anywhere in `[Llo, Lhi]`
//! (below the timeout), every duration above becomes a range. Fixed rate: the `U`-th smallest end is
//! monotone in every duration, so the supremum takes `Lhi` everywhere and the infimum `Llo` (passes
//! cannot overtake failures because the loader keeps `Lhi` below the interval). Completion-relative:
//! the reachable starts are still intervals, the lower end moving by `Llo` and the upper by `Lhi`.
//! `readyz_failure = "either"`: the worse of both modes for the worst case, the better for the best.
//! A silent server's probe may itself take anywhere in `[timeout_min, timeout]` (HAProxy 2.6's check
//! timer, see `provider::haproxy`): the same interval reasoning applies, every hang at its longest for
//! the supremum and at its shortest for the infimum.
//!
//! The server's real end: a probe the server accepted (started before the listener closes) ends at
//! the latest at E5 (exit or SIGKILL resets it; tie rule: ending exactly at E5 counts as cut). Fixed
//! rate: the instants where a hang reaches E5 are extra segment break points, so every end stays
//! continuous and non-decreasing inside a segment. Completion-relative: only the last hanging check
//! can be cut (the next one starts after E5 and is refused), so its end interval is clamped at E5;
//! a supremum reached through a cut is attained.
//! send-retry-after: `B` is the listener's real close (E3 + drain) and a non-exempt HTTP path fails
//! from E3 on the 429. Azure (`answered_marks_down`): detection is the earlier of the threshold-th
//! failure and the first answered one (non-200 or reset), both non-decreasing in the phase.

pub use crate::provider::latency::LatencyRange;
use crate::provider::{ProbeModel, Schedule};
use crate::time::Micros;
use crate::timeline::{ReadyzFailure, ServerSpec};
use serde::Serialize;

/// A phase (and jitter) at which an extreme is reached, for replay in the simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// Start of the first failing probe, relative to E2.
    pub first_fail: Micros,
    /// Start of the last passing probe before it, relative to E2.
    pub last_pass: Micros,
    /// Completion-relative only: the jitter of each wait from the last pass on.
    pub jitters: Vec<Micros>,
    /// Response latency of each probe from the last pass on (past the end: the last value).
    pub latencies: Vec<Micros>,
    /// Completion-relative only: how long each probe of a silent server takes, in order (between
    /// the model's shortest and longest timeout).
    pub hangs: Vec<Micros>,
    /// The concrete readiness failure mode of this extreme (`readyz_failure = "either"` picks one).
    pub failure: ReadyzFailure,
    /// True if the extreme is reached at this phase; false if it is a supremum approached one
    /// microsecond short.
    pub attained: bool,
    /// The best case of a send-retry-after server that has nothing in flight: it drains at once,
    /// so the listener closes at E3 (and the process exits 2 s later); replay it against the
    /// server with `request_grace = 0`.
    pub idle_drain: bool,
}

/// One extreme: time from E2 until no new request is routed, and where it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bound {
    /// Detection plus propagation, from E2.
    pub time: Micros,
    /// Detection alone (the last prober marks the server down), from E2.
    pub detection: Micros,
    /// Phase that reaches (or approaches) it.
    pub witness: Witness,
}

/// Best and worst case of one LB against one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extremes {
    /// Supremum over every phase and jitter.
    pub worst: Bound,
    /// Infimum over every phase and jitter.
    pub best: Bound,
}

/// The inputs of the formulas, all relative to E2; durations are `(fastest, slowest)`.
/// `budget` is where probes start being refused (the listener's close); accepted failing probes
/// end at the latest at `end_cap` (E5: exit or SIGKILL resets them, as refused).
#[derive(Debug, Clone, Copy)]
struct Chain {
    onset: Micros,
    budget: Micros,
    hang: (Micros, Micros),
    refused: (Micros, Micros),
    end_cap: Micros,
    /// An accepted failing probe is answered (5xx, 429) rather than timing out.
    hang_answered: bool,
}

impl Chain {
    fn dur(&self, s: Micros) -> (Micros, Micros) {
        if s < self.budget {
            self.hang
        } else {
            self.refused
        }
    }
}

/// Instants relative to E2 that shape the probes: E3 (new requests refused or answered 429), the
/// listener's close and E5.
#[derive(Debug, Clone, Copy)]
struct Rel {
    e3: Micros,
    listener_close: Micros,
    e5: Micros,
}

/// Budget used for "as if the server never stopped listening".
const FOREVER: Micros = Micros(i64::MAX / 8);

/// Exact extremes of `model` against `server`, every probe answered after the server's `response_time`.
pub fn extremes(server: &ServerSpec, model: &ProbeModel) -> Extremes {
    extremes_with(server, model, LatencyRange::fixed(server.response_time))
}

/// Exact extremes when each probe's response latency may be anywhere in `lat` (chosen per probe).
///
/// Under send-retry-after the listener closes once the in-flight requests have drained
/// (k8s.io/apiserver genericapiserver.go stops the HTTP server on `drainedCh`): the worst case
/// takes the longest drain (`request_grace`), the best case an idle server that drains at once,
/// so its listener closes right after E3.
pub fn extremes_with(server: &ServerSpec, model: &ProbeModel, lat: LatencyRange) -> Extremes {
    let rel_of = |s: &ServerSpec| {
        let tl = s.timeline();
        Rel {
            e3: tl.e3 - tl.e2,
            listener_close: tl.listener_close - tl.e2,
            e5: tl.e5 - tl.e2,
        }
    };
    let mut e = extremes_with_budget(server, model, lat, rel_of(server));
    if server.send_retry_after && server.request_grace > Micros::ZERO {
        let idle = ServerSpec {
            request_grace: Micros::ZERO,
            ..server.clone()
        };
        let mut best = extremes_with_budget(&idle, model, lat, rel_of(&idle)).best;
        if best.time < e.best.time {
            best.witness.idle_drain = true;
            e.best = best;
        }
    }
    e
}

/// Worst case if the server never stopped listening: the smallest shutdown delay that passes is
/// one microsecond more than this (for readiness probes).
pub fn unbounded_worst(server: &ServerSpec, model: &ProbeModel) -> Micros {
    unbounded_worst_with(server, model, LatencyRange::fixed(server.response_time))
}

/// [`unbounded_worst`] with per-probe latencies anywhere in `lat`.
pub fn unbounded_worst_with(server: &ServerSpec, model: &ProbeModel, lat: LatencyRange) -> Micros {
    let rel = Rel {
        e3: FOREVER,
        listener_close: FOREVER,
        e5: FOREVER,
    };
    extremes_with_budget(server, model, lat, rel).worst.time
}

fn extremes_with_budget(server: &ServerSpec, model: &ProbeModel, lat: LatencyRange, rel: Rel) -> Extremes {
    let mut out: Option<Extremes> = None;
    for &mode in server.readyz_failure.concrete() {
        let e = concrete_extremes(model, lat, rel, mode);
        out = Some(match out {
            None => e,
            Some(mut o) => {
                if e.worst.time > o.worst.time {
                    o.worst = e.worst;
                }
                if e.best.time < o.best.time {
                    o.best = e.best;
                }
                o
            }
        });
    }
    out.expect("every failure mode stands for at least one concrete mode")
}

fn concrete_extremes(model: &ProbeModel, lat: LatencyRange, rel: Rel, mode: ReadyzFailure) -> Extremes {
    let t = model.view.timeout;
    let answer = (lat.lo.min(t), lat.hi.min(t));
    let sees = model.view.sees(mode);
    let chain = Chain {
        onset: if sees {
            Micros::ZERO
        } else if model.view.fails_on_retry_after {
            rel.e3.min(rel.listener_close)
        } else {
            rel.listener_close
        },
        budget: rel.listener_close,
        hang: match mode {
            ReadyzFailure::Timeout | ReadyzFailure::Either if sees => (model.view.timeout_min.min(t), t),
            _ => answer,
        },
        refused: answer,
        end_cap: rel.e5.max(rel.listener_close),
        hang_answered: !(sees && mode != ReadyzFailure::Error),
    };
    let (worst, best) = match model.schedule {
        Schedule::FixedRate { interval } => {
            fixed_rate(chain, interval, model.threshold, answer, model.answered_marks_down)
        }
        Schedule::CompletionRelative { inter, fastinter, .. } => completion_relative(
            chain,
            answer.1,
            inter,
            fastinter,
            model.schedule.jitter_bound(inter),
            model.schedule.jitter_bound(fastinter),
            model.threshold,
        ),
    };
    let wrap = |(detection, mut witness): (Micros, Witness), propagation: Micros| {
        witness.failure = mode;
        Bound {
            time: detection + propagation,
            detection,
            witness,
        }
    };
    Extremes {
        worst: wrap(worst, model.propagation.hi),
        best: wrap(best, model.propagation.lo),
    }
}

type Ext = (Micros, Witness);

fn fixed_rate(c: Chain, interval: Micros, threshold: u32, answer: (Micros, Micros), instant: bool) -> (Ext, Ext) {
    let u = threshold as usize;
    let probes = u + (c.hang.1 .0 / interval.0) as usize + 2;
    let mut bps = vec![c.onset, c.onset + interval];
    if c.onset < c.budget {
        let r = Micros((c.budget - c.onset).0 % interval.0);
        if r > Micros::ZERO {
            bps.push(c.onset + r);
        }
        // Where an accepted probe's end reaches E5 (it is cut from there on).
        for h in [c.hang.0, c.hang.1] {
            for k in 0..probes as i64 {
                let p = c.end_cap - h - interval.times(k);
                if p > c.onset && p < c.onset + interval {
                    bps.push(p);
                }
            }
        }
    }
    bps.sort_unstable();
    bps.dedup();
    let mut ends: Vec<(Micros, bool)> = Vec::with_capacity(probes);
    // Detection when the first failing probe starts at `p`, durations and cuts classified as at
    // `class` (the start of the segment): the threshold-th failure, or with `instant` the first
    // answered one (Azure). Continuous and non-decreasing in `p` inside a segment.
    let mut detect = |class: Micros, p: Micros, upper: bool| -> Micros {
        ends.clear();
        for k in 0..probes as i64 {
            let off = interval.times(k);
            let (lo, hi) = c.dur(class + off);
            let d = if upper { hi } else { lo };
            if class + off < c.budget {
                let cut = class + off + d >= c.end_cap;
                let end = if cut { c.end_cap } else { p + off + d };
                ends.push((end, cut || c.hang_answered));
            } else {
                ends.push((p + off + d, true));
            }
        }
        ends.sort_unstable();
        let kth = ends[u - 1].0;
        if instant {
            ends.iter().find(|e| e.1).map_or(kth, |e| e.0.min(kth))
        } else {
            kth
        }
    };
    let mut worst: Option<Ext> = None;
    let mut best: Option<Ext> = None;
    let witness = |p: Micros, lat: Micros, attained: bool| Witness {
        first_fail: p,
        last_pass: p - interval,
        jitters: vec![],
        latencies: vec![lat],
        hangs: vec![],
        failure: ReadyzFailure::Error,
        attained,
        idle_drain: false,
    };
    for w in bps.windows(2) {
        let (a, b) = (w[0], w[1]);
        let hi = detect(a, b, true);
        let at = detect(a, b - Micros::UNIT, true);
        if worst.as_ref().is_none_or(|(t, _)| hi > *t) {
            worst = Some((hi, witness(b - Micros::UNIT, answer.1, at == hi)));
        }
        let lo = detect(a, a, false);
        if best.as_ref().is_none_or(|(t, _)| lo < *t) {
            best = Some((lo, witness(a, answer.0, true)));
        }
    }
    (worst.expect("one segment"), best.expect("one segment"))
}

#[derive(Clone, Copy)]
struct Span {
    lo: Micros,
    hi: Micros,
    dur: (Micros, Micros),
    hanging: bool,
}

fn completion_relative(
    c: Chain,
    pass: Micros,
    inter: Micros,
    fastinter: Micros,
    j_inter: Micros,
    j_fast: Micros,
    fall: u32,
) -> (Ext, Ext) {
    let f = fall as usize;
    let first = (c.onset, c.onset + pass + inter + j_inter);
    // Ends of accepted failing probes whose starts fill `[lo, hi)`: `[lo', hi')`, each end cut at
    // E5 (then E5 itself is reached, so the exclusive bound is E5 + 1 µs).
    let ends = |lo: Micros, hi: Micros| {
        (
            (lo + c.hang.0).min(c.end_cap),
            (hi + c.hang.1).min(c.end_cap + Micros::UNIT),
        )
    };
    let cut_hi = |hi: Micros| hi + c.hang.1 >= c.end_cap + Micros::UNIT;
    // The start intervals of probes 1..=f when probe `m` is the first to start at or after E3
    // (`m = f + 1`: none does); `None` when that choice is infeasible. O(f).
    let spans_for = |m: usize| -> Option<Vec<Span>> {
        let (mut lo, mut hi) = first;
        let mut spans = Vec::with_capacity(f);
        for k in 1..=f {
            let dur = if k < m {
                hi = hi.min(c.budget);
                c.hang
            } else {
                if k == m {
                    lo = lo.max(c.budget);
                }
                c.refused
            };
            if lo >= hi {
                return None;
            }
            spans.push(Span {
                lo,
                hi,
                dur,
                hanging: k < m,
            });
            if k < f {
                let (elo, ehi) = if k < m { ends(lo, hi) } else { (lo + dur.0, hi + dur.1) };
                lo = elo + fastinter - j_fast;
                hi = ehi + fastinter + j_fast;
            }
        }
        Some(spans)
    };
    // One pass over every choice of `m`: the hanging prefix is shared, and after `m` every step
    // adds the same refused duration, so each candidate's extremes are closed-form. O(f) in all.
    // A supremum reached through a probe cut at E5 is attained: the time is the exclusive bound
    // minus 1 µs.
    let mut worst: Option<(Micros, usize, bool)> = None;
    let mut best: Option<(Micros, usize)> = None;
    let (mut lo, mut hi) = first;
    let mut capped = false;
    for m in 1..=f + 1 {
        let (extremes, go_on) = if m <= f {
            let rest = (f - m) as i64;
            let (mlo, mhi) = (lo.max(c.budget), hi);
            let cand = (mlo < mhi).then(|| {
                let sup = mhi + (c.refused.1 + fastinter + j_fast).times(rest) + c.refused.1;
                let inf = mlo + (c.refused.0 + fastinter - j_fast).times(rest) + c.refused.0;
                (sup, inf, capped)
            });
            hi = hi.min(c.budget);
            let feasible = lo < hi;
            if feasible && m < f {
                capped = cut_hi(hi);
                let (elo, ehi) = ends(lo, hi);
                lo = elo + fastinter - j_fast;
                hi = ehi + fastinter + j_fast;
            }
            (cand, feasible)
        } else {
            let (elo, ehi) = ends(lo, hi);
            ((lo < hi).then(|| (ehi, elo, cut_hi(hi))), false)
        };
        if let Some((sup, inf, cut)) = extremes {
            let (sup, attained) = if cut { (sup - Micros::UNIT, true) } else { (sup, false) };
            if worst.is_none_or(|(t, _, _)| sup > t) {
                worst = Some((sup, m, attained));
            }
            if best.is_none_or(|(t, _)| inf < t) {
                best = Some((inf, m));
            }
        }
        if !go_on && m <= f {
            break;
        }
    }
    let worst = worst.map(|(t, m, attained)| (t, attained, spans_for(m).expect("the scan found this choice feasible")));
    let best = best.map(|(t, m)| (t, spans_for(m).expect("the scan found this choice feasible")));
    let replay = |spans: &[Span], last: Micros, upper: bool, attained: bool| -> Witness {
        let mut starts = vec![last];
        for k in (0..spans.len() - 1).rev() {
            let next = *starts.last().expect("non-empty");
            let (dlo, dhi) = spans[k].dur;
            let x = next - fastinter;
            // With a cut at E5 every start whose end reaches E5 leads to the same next start.
            let top = if spans[k].hanging && c.end_cap <= x + j_fast {
                spans[k].hi - Micros::UNIT
            } else {
                (x - dlo + j_fast).min(spans[k].hi - Micros::UNIT)
            };
            let (lo, hi) = ((x - dhi - j_fast).max(spans[k].lo), top);
            starts.push(if upper { hi } else { lo });
        }
        starts.reverse();
        let mut jitters = vec![j_inter];
        let mut latencies = vec![pass];
        let mut hangs = Vec::new();
        for k in 0..starts.len() {
            let (dlo, dhi) = spans[k].dur;
            let d = if k + 1 < starts.len() {
                let gap = starts[k + 1] - starts[k] - fastinter;
                let to_cap = c.end_cap - starts[k];
                if spans[k].hanging && dhi >= to_cap {
                    // Cut at E5: the probe takes `to_cap` whatever it would have taken.
                    let eff = gap.clamp(dlo.min(to_cap), to_cap);
                    jitters.push(gap - eff);
                    if eff == to_cap {
                        dlo.max(to_cap)
                    } else {
                        eff
                    }
                } else {
                    let d = gap.clamp(dlo, dhi);
                    jitters.push(gap - d);
                    d
                }
            } else if upper {
                dhi
            } else {
                dlo
            };
            latencies.push(d);
            if spans[k].hanging {
                hangs.push(d);
            }
        }
        Witness {
            first_fail: starts[0],
            last_pass: starts[0] - pass - inter - j_inter,
            jitters,
            latencies,
            hangs,
            failure: ReadyzFailure::Error,
            attained,
            idle_drain: false,
        }
    };
    let (wt, wattained, wspans) = worst.expect("m = 1 or m = fall + 1 is always feasible");
    let (bt, bspans) = best.expect("feasible");
    let w_last = wspans[f - 1].hi - Micros::UNIT;
    let b_last = bspans[f - 1].lo;
    (
        (wt, replay(&wspans, w_last, true, wattained)),
        (bt, replay(&bspans, b_last, false, true)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{ProbeView, ReadyzFailure, ReadyzOnset};

    fn server(delay: i64, mode: ReadyzFailure) -> ServerSpec {
        ServerSpec {
            profile: "t".into(),
            prestop_sleep: Micros::ZERO,
            readyz_fail_after: Micros::ZERO,
            shutdown_delay: Micros::from_secs(delay),
            request_grace: Micros::from_secs(60),
            termination_grace_period: Micros::from_secs(10_000),
            readyz_failure: mode,
            readyz_onset: ReadyzOnset::ShutdownStart,
            readiness_path: "/readyz".into(),
            response_time: Micros::ZERO,
            send_retry_after: false,
        }
    }

    fn fixed(i: i64, t: i64, u: u32) -> ProbeModel {
        ProbeModel {
            schedule: Schedule::FixedRate {
                interval: Micros::from_secs(i),
            },
            view: ProbeView {
                sees_readiness: true,
                timeout: Micros::from_secs(t),
                timeout_min: Micros::from_secs(t),
                accepts_readyz_error: false,
                fails_on_retry_after: false,
            },
            threshold: u,
            rise: 2,
            probers: 1,
            propagation: Default::default(),
            answered_marks_down: false,
        }
    }

    #[test]
    fn seed_aws_case_is_thirty_seconds() {
        let e = extremes(&server(30, ReadyzFailure::Timeout), &fixed(10, 10, 2));
        assert_eq!(e.worst.time, Micros::from_secs(30));
        assert_eq!(e.best.time, Micros::from_secs(20));
        assert!(!e.worst.witness.attained);
    }

    #[test]
    fn the_listener_closing_cuts_hanging_probes_short() {
        // Hand-worked: I = T = 10, U = 2, B = 15. p < 5: second probe hangs, ends p + 20 -> sup 25.
        // p >= 5: second probe starts after E3, refused at p + 10 -> at most 20.
        let e = extremes(&server(15, ReadyzFailure::Timeout), &fixed(10, 10, 2));
        assert_eq!(e.worst.time, Micros::from_secs(25));
        assert_eq!(e.worst.witness.first_fail, Micros::from_secs(5) - Micros::UNIT);
        assert_eq!(
            unbounded_worst(&server(15, ReadyzFailure::Timeout), &fixed(10, 10, 2)),
            Micros::from_secs(30)
        );
    }

    #[test]
    fn haproxy_defaults_match_the_notes() {
        // inter 2s, fall 3, no fastinter: error mode 6s worst, 4s best; timeout mode 2 + 2·2 + 3·2 = 12s.
        let m = ProbeModel {
            schedule: Schedule::CompletionRelative {
                inter: Micros::from_secs(2),
                fastinter: Micros::from_secs(2),
                downinter: Micros::from_secs(2),
                spread_pct: 0,
            },
            view: ProbeView {
                sees_readiness: true,
                timeout: Micros::from_secs(2),
                timeout_min: Micros::from_secs(2),
                accepts_readyz_error: false,
                fails_on_retry_after: false,
            },
            threshold: 3,
            rise: 2,
            probers: 1,
            propagation: Default::default(),
            answered_marks_down: false,
        };
        let e = extremes(&server(60, ReadyzFailure::Error), &m);
        assert_eq!(
            (e.worst.time, e.best.time),
            (Micros::from_secs(6), Micros::from_secs(4))
        );
        let e = extremes(&server(60, ReadyzFailure::Timeout), &m);
        assert_eq!(
            (e.worst.time, e.best.time),
            (Micros::from_secs(12), Micros::from_secs(10))
        );
    }

    #[test]
    fn haproxy_2_6_timer_widens_the_timeout_mode_range() {
        // Measured on HAProxy 2.6.12 (tests/haproxy_real.rs, "timeout-check-below-inter"):
        // timeout check 100ms, inter 300ms, fall 2: a silent check ends after 100 to 300ms.
        let ms = Micros::from_millis;
        let m = ProbeModel {
            schedule: Schedule::CompletionRelative {
                inter: ms(300),
                fastinter: ms(300),
                downinter: ms(300),
                spread_pct: 0,
            },
            view: ProbeView {
                sees_readiness: true,
                timeout: ms(300),
                timeout_min: ms(100),
                accepts_readyz_error: false,
                fails_on_retry_after: false,
            },
            threshold: 2,
            rise: 2,
            probers: 1,
            propagation: Default::default(),
            answered_marks_down: false,
        };
        let e = extremes(&server(60, ReadyzFailure::Timeout), &m);
        assert_eq!((e.best.time, e.worst.time), (ms(500), ms(1200)));
        assert_eq!(e.best.witness.hangs, [ms(100), ms(100)]);
        assert_eq!(e.worst.witness.hangs, [ms(300), ms(300)]);
    }

    #[test]
    fn a_huge_fall_is_linear_work() {
        // fall 10 000, inter 2 s, /readyz 500 at once, never-closing listener: the failures run
        // 2 s apart after a first one within 2 s of E2: [19 998 s, 20 000 s).
        let m = ProbeModel {
            schedule: Schedule::CompletionRelative {
                inter: Micros::from_secs(2),
                fastinter: Micros::from_secs(2),
                downinter: Micros::from_secs(2),
                spread_pct: 0,
            },
            view: ProbeView {
                sees_readiness: true,
                timeout: Micros::from_secs(2),
                timeout_min: Micros::from_secs(2),
                accepts_readyz_error: false,
                fails_on_retry_after: false,
            },
            threshold: 10_000,
            rise: 2,
            probers: 1,
            propagation: Default::default(),
            answered_marks_down: false,
        };
        let e = extremes(&server(100_000, ReadyzFailure::Error), &m);
        assert_eq!(
            (e.best.time, e.worst.time),
            (Micros::from_secs(19_998), Micros::from_secs(20_000))
        );
        // With E3 at 30 s every later probe is refused at once: the same spacing, so the same range.
        let e = extremes(&server(30, ReadyzFailure::Error), &m);
        assert_eq!(
            (e.best.time, e.worst.time),
            (Micros::from_secs(19_998), Micros::from_secs(20_000))
        );
    }

    #[test]
    fn a_hanging_check_ends_with_the_process() {
        // HAProxy inter 2 s (bounds the check), fall 3, /readyz hangs; E3 = 3 s, E5 = 3.5 s.
        // First failing check at s in [0, 2): it hangs until s + 2, the next two start at s + 4 and
        // s + 6, both after E3, refused at once -> s + 6. From s = 1.5 s the hang is cut at E5 =
        // 3.5 s, so the chain is 3.5 + 2 + 2 = 7.5 s for every s in [1.5, 2): attained, not the
        // 8 s supremum of the uncut chain.
        let mut srv = server(3, ReadyzFailure::Timeout);
        srv.request_grace = Micros::from_millis(500);
        let m = ProbeModel {
            schedule: Schedule::CompletionRelative {
                inter: Micros::from_secs(2),
                fastinter: Micros::from_secs(2),
                downinter: Micros::from_secs(2),
                spread_pct: 0,
            },
            view: ProbeView {
                sees_readiness: true,
                timeout: Micros::from_secs(2),
                timeout_min: Micros::from_secs(2),
                accepts_readyz_error: false,
                fails_on_retry_after: false,
            },
            threshold: 3,
            rise: 2,
            probers: 1,
            propagation: Default::default(),
            answered_marks_down: false,
        };
        let e = extremes(&srv, &m);
        assert_eq!(
            (e.best.time, e.worst.time),
            (Micros::from_secs(6), Micros::from_millis(7_500))
        );
        assert!(e.worst.witness.attained);
        let sim = crate::sim::Sim::new(&srv, &m);
        let e2 = sim.timeline().e2;
        let mut j = crate::sim::Scripted::new(&e.worst.witness.jitters).with_hangs(&e.worst.witness.hangs);
        let mut plans = [crate::sim::ProberPlan {
            first_start: e2 + e.worst.witness.last_pass,
            jitter: &mut j,
        }];
        let r = sim.run(&mut plans, crate::sim::Until::Removal, None).unwrap();
        assert_eq!(r.removal.unwrap() - e2, Micros::from_millis(7_500));
    }
}
