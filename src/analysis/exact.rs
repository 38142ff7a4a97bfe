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
//! `s_{k+1} = s_k + dur(s_k) + fastinter + j`, `j ∈ [−J, J]`, and detection is `s_F + dur(s_F)`. A
//! hanging probe's duration may itself lie anywhere in `[H_min, H]` (HAProxy 2.6's check timer,
//! see `provider::haproxy`). For each choice of the first probe `m` that starts at or after E3,
//! the reachable starts form half-open intervals (sums and intersections of intervals), so the
//! extremes are interval end points: every hang at `H` for the worst case, at `H_min` for the best.

use crate::provider::{ProbeModel, Schedule};
use crate::time::Micros;
use crate::timeline::ServerSpec;
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
    /// Completion-relative only: how long each probe that starts before E3 takes, in order (a 5xx
    /// answer, or a timeout between the model's shortest and longest).
    pub hangs: Vec<Micros>,
    /// True if the extreme is reached at this phase; false if it is a supremum approached one
    /// microsecond short.
    pub attained: bool,
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

/// The inputs of the formulas, all relative to E2.
#[derive(Debug, Clone, Copy)]
struct Chain {
    onset: Micros,
    budget: Micros,
    hang: Micros,
    hang_min: Micros,
    refused: Micros,
}

impl Chain {
    fn dur(&self, s: Micros) -> Micros {
        if s < self.budget {
            self.hang
        } else {
            self.refused
        }
    }
}

/// Budget used for "as if the server never stopped listening".
const FOREVER: Micros = Micros(i64::MAX / 8);

/// Exact extremes of `model` against `server`.
pub fn extremes(server: &ServerSpec, model: &ProbeModel) -> Extremes {
    let tl = server.timeline();
    extremes_with_budget(server, model, tl.budget())
}

/// Worst case if the server never stopped listening: the smallest shutdown delay that passes is
/// one microsecond more than this (for readiness probes).
pub fn unbounded_worst(server: &ServerSpec, model: &ProbeModel) -> Micros {
    extremes_with_budget(server, model, FOREVER).worst.time
}

fn extremes_with_budget(server: &ServerSpec, model: &ProbeModel, budget: Micros) -> Extremes {
    let chain = Chain {
        onset: if model.view.sees_readiness {
            Micros::ZERO
        } else {
            budget
        },
        budget,
        hang: model.view.hang(server),
        hang_min: model.view.hang_min(server),
        refused: server.response_time,
    };
    let (worst, best) = match model.schedule {
        Schedule::FixedRate { interval } => fixed_rate(chain, interval, model.threshold),
        Schedule::CompletionRelative { inter, fastinter, .. } => completion_relative(
            chain,
            server.response_time,
            inter,
            fastinter,
            model.schedule.jitter_bound(inter),
            model.schedule.jitter_bound(fastinter),
            model.threshold,
        ),
    };
    let wrap = |(detection, witness): (Micros, Witness)| Bound {
        time: detection + model.propagation,
        detection,
        witness,
    };
    Extremes {
        worst: wrap(worst),
        best: wrap(best),
    }
}

type Ext = (Micros, Witness);

fn fixed_rate(c: Chain, interval: Micros, threshold: u32) -> (Ext, Ext) {
    let mut bps = vec![c.onset, c.onset + interval];
    if c.onset < c.budget {
        let r = Micros((c.budget - c.onset).0 % interval.0);
        if r > Micros::ZERO {
            bps.insert(1, c.onset + r);
        }
    }
    let u = threshold as usize;
    let probes = u + (c.hang.0 / interval.0) as usize + 2;
    let mut ends = Vec::with_capacity(probes);
    let mut worst: Option<Ext> = None;
    let mut best: Option<Ext> = None;
    for w in bps.windows(2) {
        let (a, b) = (w[0], w[1]);
        ends.clear();
        ends.extend((0..probes as i64).map(|k| {
            let off = interval.times(k);
            off + c.dur(a + off)
        }));
        ends.sort_unstable();
        let cst = ends[u - 1];
        let hi = b + cst;
        if worst.as_ref().is_none_or(|(t, _)| hi > *t) {
            let p = b - Micros::UNIT;
            worst = Some((
                hi,
                Witness {
                    first_fail: p,
                    last_pass: p - interval,
                    jitters: vec![],
                    hangs: vec![],
                    attained: false,
                },
            ));
        }
        let lo = a + cst;
        if best.as_ref().is_none_or(|(t, _)| lo < *t) {
            best = Some((
                lo,
                Witness {
                    first_fail: a,
                    last_pass: a - interval,
                    jitters: vec![],
                    hangs: vec![],
                    attained: true,
                },
            ));
        }
    }
    (worst.expect("one segment"), best.expect("one segment"))
}

#[derive(Clone, Copy)]
struct Span {
    lo: Micros,
    hi: Micros,
    dur_lo: Micros,
    dur_hi: Micros,
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
    let mut worst: Option<(Micros, Vec<Span>)> = None;
    let mut best: Option<(Micros, Vec<Span>)> = None;
    for m in 1..=f + 1 {
        let (mut lo, mut hi) = first;
        let mut spans = Vec::with_capacity(f);
        let mut feasible = true;
        for k in 1..=f {
            let (dur_lo, dur_hi) = if k < m {
                hi = hi.min(c.budget);
                (c.hang_min, c.hang)
            } else {
                if k == m {
                    lo = lo.max(c.budget);
                }
                (c.refused, c.refused)
            };
            if lo >= hi {
                feasible = false;
                break;
            }
            spans.push(Span {
                lo,
                hi,
                dur_lo,
                dur_hi,
                hanging: k < m,
            });
            if k < f {
                lo = lo + dur_lo + fastinter - j_fast;
                hi = hi + dur_hi + fastinter + j_fast;
            }
        }
        if !feasible {
            continue;
        }
        let last = spans[f - 1];
        let sup = last.hi + last.dur_hi;
        let inf = last.lo + last.dur_lo;
        if worst.as_ref().is_none_or(|(t, _)| sup > *t) {
            worst = Some((sup, spans.clone()));
        }
        if best.as_ref().is_none_or(|(t, _)| inf < *t) {
            best = Some((inf, spans));
        }
    }
    // Walks back from the last start: each earlier start is the extreme one (latest for the
    // supremum, earliest for the infimum) from which `next` is reachable, and the gap is split into
    // a hang duration and a jitter that both lie in their ranges.
    let replay = |spans: &[Span], last: Micros, upper: bool| -> Witness {
        let last_span = spans[spans.len() - 1];
        let mut starts = vec![last];
        let mut durs = vec![if upper { last_span.dur_hi } else { last_span.dur_lo }];
        for k in (0..spans.len() - 1).rev() {
            let next = *starts.last().expect("non-empty");
            let sp = spans[k];
            let lo = (next - fastinter - sp.dur_hi - j_fast).max(sp.lo);
            let hi = (next - fastinter - sp.dur_lo + j_fast).min(sp.hi - Micros::UNIT);
            let start = if upper { hi } else { lo };
            durs.push((next - start - fastinter).clamp(sp.dur_lo, sp.dur_hi));
            starts.push(start);
        }
        starts.reverse();
        durs.reverse();
        let mut jitters = vec![j_inter];
        for k in 1..starts.len() {
            jitters.push(starts[k] - starts[k - 1] - durs[k - 1] - fastinter);
        }
        Witness {
            first_fail: starts[0],
            last_pass: starts[0] - pass - inter - j_inter,
            jitters,
            hangs: spans
                .iter()
                .zip(&durs)
                .filter(|(sp, _)| sp.hanging)
                .map(|(_, d)| *d)
                .collect(),
            attained: !upper,
        }
    };
    let (wt, wspans) = worst.expect("m = 1 or m = fall + 1 is always feasible");
    let (bt, bspans) = best.expect("feasible");
    let w_last = wspans[f - 1].hi - Micros::UNIT;
    let b_last = bspans[f - 1].lo;
    (
        (wt, replay(&wspans, w_last, true)),
        (bt, replay(&bspans, b_last, false)),
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
            },
            threshold: u,
            rise: 2,
            probers: 1,
            propagation: Micros::ZERO,
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
            },
            threshold: 3,
            rise: 2,
            probers: 1,
            propagation: Micros::ZERO,
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
            },
            threshold: 2,
            rise: 2,
            probers: 1,
            propagation: Micros::ZERO,
        };
        let e = extremes(&server(60, ReadyzFailure::Timeout), &m);
        assert_eq!((e.best.time, e.worst.time), (ms(500), ms(1200)));
        assert_eq!(e.best.witness.hangs, [ms(100), ms(100)]);
        assert_eq!(e.worst.witness.hangs, [ms(300), ms(300)]);
    }
}
