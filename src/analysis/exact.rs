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
    dur: Micros,
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
                feasible = false;
                break;
            }
            spans.push(Span { lo, hi, dur });
            if k < f {
                lo = lo + dur + fastinter - j_fast;
                hi = hi + dur + fastinter + j_fast;
            }
        }
        if !feasible {
            continue;
        }
        let last = spans[f - 1];
        let sup = last.hi + last.dur;
        let inf = last.lo + last.dur;
        if worst.as_ref().is_none_or(|(t, _)| sup > *t) {
            worst = Some((sup, spans.clone()));
        }
        if best.as_ref().is_none_or(|(t, _)| inf < *t) {
            best = Some((inf, spans));
        }
    }
    let step = |s: &Span| s.dur + fastinter;
    let replay = |spans: &[Span], last: Micros, upper: bool| -> Witness {
        let mut starts = vec![last];
        for k in (0..spans.len() - 1).rev() {
            let next = *starts.last().expect("non-empty");
            let base = next - step(&spans[k]);
            let (lo, hi) = (
                (base - j_fast).max(spans[k].lo),
                (base + j_fast).min(spans[k].hi - Micros::UNIT),
            );
            starts.push(if upper { hi } else { lo });
        }
        starts.reverse();
        let mut jitters = vec![j_inter];
        for k in 1..starts.len() {
            jitters.push(starts[k] - starts[k - 1] - step(&spans[k - 1]));
        }
        Witness {
            first_fail: starts[0],
            last_pass: starts[0] - pass - inter - j_inter,
            jitters,
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
}
