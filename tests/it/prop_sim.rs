//! Simulator invariants: the simulator never leaves the exact [best, worst] interval, reaches the
//! worst case within one microsecond at the witness phase, and always terminates within its bound.

use graceline::analysis::exact::{extremes, Extremes};
use graceline::provider::{ProbeModel, Propagation, Schedule};
use graceline::sim::{JitterSource, NoJitter, ProberPlan, Scripted, Sim, Until};
use graceline::time::Micros;
use graceline::timeline::{ProbeView, ReadyzFailure, ReadyzOnset, ServerSpec};
use proptest::prelude::*;

/// Uniform jitter from a seeded xorshift generator.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: i64) -> i64 {
        if n <= 0 {
            0
        } else {
            (self.next() % n as u64) as i64
        }
    }
}

impl JitterSource for Rand {
    fn draw(&mut self, bound: Micros) -> Micros {
        Micros(self.below(2 * bound.0 + 1) - bound.0)
    }

    fn draw_hang(&mut self, shortest: Micros, longest: Micros) -> Micros {
        shortest + Micros(self.below(longest.0 - shortest.0 + 1))
    }
}

fn ms(x: i64) -> Micros {
    Micros::from_millis(x)
}

fn server() -> impl Strategy<Value = ServerSpec> {
    (
        0i64..3_000,
        0i64..2_000,
        0i64..60_000,
        0i64..30_000,
        prop::bool::ANY,
        prop::bool::ANY,
        0i64..20,
        1i64..200_000,
        prop::bool::ANY,
    )
        .prop_map(
            |(prestop, fail_after, delay, grace, timeout, pre118, resp, tgp, sra)| ServerSpec {
                profile: "prop".into(),
                prestop_sleep: ms(prestop),
                readyz_fail_after: ms(fail_after),
                shutdown_delay: ms(delay) + Micros(delay % 7),
                request_grace: ms(grace),
                termination_grace_period: ms(tgp),
                readyz_failure: if timeout {
                    ReadyzFailure::Timeout
                } else {
                    ReadyzFailure::Error
                },
                readyz_onset: if pre118 {
                    ReadyzOnset::ListenerClose
                } else {
                    ReadyzOnset::ShutdownStart
                },
                readiness_path: "/readyz".into(),
                response_time: ms(resp),
                send_retry_after: sra,
            },
        )
}

fn model() -> impl Strategy<Value = ProbeModel> {
    let fixed = crate::support::fixed_rate_strategy();
    let completion = (
        100i64..10_000,
        10i64..=200,
        10i64..=200,
        0u32..=50,
        1u32..6,
        prop::bool::ANY,
        prop::option::of(25i64..5_000),
        10i64..=100,
        0u8..4,
    )
        .prop_map(|(inter, fpct, dpct, spread, fall, sees, tcheck, tmin_pct, flags)| {
            let inter = ms(inter);
            let timeout = tcheck.map_or(inter, ms);
            ProbeModel {
                schedule: Schedule::CompletionRelative {
                    inter,
                    fastinter: Micros(inter.0 * fpct / 100),
                    downinter: Micros(inter.0 * dpct / 100),
                    spread_pct: spread,
                },
                view: ProbeView {
                    sees_readiness: sees,
                    timeout,
                    // HAProxy 2.6: a silent check may end anywhere from `timeout check` up to the timer.
                    timeout_min: Micros(timeout.0 * tmin_pct / 100).max(ms(25)).min(timeout),
                    accepts_readyz_error: flags & 1 != 0,
                    fails_on_retry_after: flags & 2 != 0,
                },
                threshold: fall,
                rise: 2,
                probers: 1,
                propagation: Propagation::default(),
                answered_marks_down: false,
            }
        });
    prop_oneof![fixed, completion]
}

/// Upper bound on the start-to-start period of one prober while up.
fn period(m: &ProbeModel, s: &ServerSpec) -> Micros {
    match m.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative { inter, .. } => s.response_time + inter + m.schedule.jitter_bound(inter),
    }
}

/// The event bound stated in the simulator's module docs.
fn event_bound(m: &ProbeModel, pre: Micros) -> u64 {
    let min_step = match m.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative { inter, fastinter, .. } => {
            let g = inter.min(fastinter);
            g - m.schedule.jitter_bound(g)
        }
    };
    let steps = |d: Micros| (d.0 / min_step.0.max(1)) as u64 + 1;
    let per = steps(pre) + u64::from(m.threshold) + steps(m.view.timeout) + steps(m.propagation.hi) + 1;
    u64::from(m.probers) * per * 2 + 8
}

fn onset_abs(s: &ServerSpec, m: &ProbeModel) -> Micros {
    m.view.onset_at(s.readyz_failure, &s.timeline())
}

fn check_witnesses(s: &ServerSpec, m: &ProbeModel, e: &Extremes) -> Result<(), TestCaseError> {
    let mut one = *m;
    one.probers = 1;
    for (bound, is_worst) in [(&e.worst, true), (&e.best, false)] {
        // The simulator runs with one propagation delay: the range's end this extreme takes.
        one.propagation = Propagation::fixed(if is_worst { m.propagation.hi } else { m.propagation.lo });
        // An idle send-retry-after server's best case: the listener closes at E3.
        let idle = ServerSpec {
            request_grace: Micros::ZERO,
            ..s.clone()
        };
        let sim = Sim::new(if bound.witness.idle_drain { &idle } else { s }, &one);
        let e2 = sim.timeline().e2;
        let mut j = Scripted::new(&bound.witness.jitters).with_hangs(&bound.witness.hangs);
        let mut plans = [ProberPlan {
            first_start: e2 + bound.witness.last_pass,
            jitter: &mut j,
        }];
        let r = sim.run(&mut plans, Until::Removal, None).unwrap();
        let got = r.removal.expect("removal") - e2;
        let want = if bound.witness.attained {
            bound.time
        } else {
            bound.time - Micros::UNIT
        };
        prop_assert_eq!(got, want, "worst={} witness={:?}", is_worst, bound.witness);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn simulator_stays_within_exact_extremes(s in server(), m in model(), seed in 1u64.., phases in prop::collection::vec(0.0f64..1.0, 4)) {
        prop_assume!(s.response_time < m.view.timeout_min);
        let e = extremes(&s, &m);
        prop_assert!(e.best.time <= e.worst.time);
        let sim = Sim::new(&s, &m);
        let e2 = sim.timeline().e2;
        let onset = onset_abs(&s, &m);
        let p = period(&m, &s);
        let mut rands: Vec<Rand> = (0..m.probers).map(|i| Rand(seed.wrapping_add(u64::from(i) * 7919) | 1)).collect();
        let mut plans: Vec<ProberPlan> = rands
            .iter_mut()
            .zip(&phases)
            .map(|(r, f)| ProberPlan {
                first_start: onset - p.times(2) + Micros((p.0 as f64 * f) as i64),
                jitter: r as &mut dyn JitterSource,
            })
            .collect();
        let r = sim.run(&mut plans, Until::Removal, None).unwrap();
        let t = r.removal.expect("every run ends in removal") - e2;
        prop_assert!(t >= e.best.time, "t={} best={}", t, e.best.time);
        prop_assert!(t <= e.worst.time, "t={} worst={}", t, e.worst.time);
        prop_assert!(r.events <= event_bound(&m, p.times(2)), "events {}", r.events);
    }

    #[test]
    fn witnesses_reach_the_extremes(s in server(), m in model()) {
        prop_assume!(s.response_time < m.view.timeout_min);
        let e = extremes(&s, &m);
        check_witnesses(&s, &m, &e)?;
    }

    #[test]
    fn fixed_rate_phase_scan_never_beats_the_supremum(s in server(), m in model(), steps in 50i64..400) {
        prop_assume!(s.response_time < m.view.timeout_min);
        let Schedule::FixedRate { interval } = m.schedule else { return Ok(()) };
        let mut one = m;
        one.probers = 1;
        let e = extremes(&s, &one);
        let sim = Sim::new(&s, &one);
        let e2 = sim.timeline().e2;
        let onset = onset_abs(&s, &one);
        let mut max = Micros(i64::MIN);
        for k in 0..steps {
            let phase = Micros(interval.0 * k / steps);
            let mut nj = NoJitter;
            let mut plans = [ProberPlan { first_start: onset - interval + phase, jitter: &mut nj }];
            let t = sim.run(&mut plans, Until::Removal, None).unwrap().removal.unwrap() - e2;
            prop_assert!(t <= e.worst.time && t >= e.best.time);
            max = max.max(t);
        }
        prop_assert!(max <= e.worst.time);
    }
}

#[test]
fn a_run_to_a_horizon_stops_there() {
    let s = ServerSpec {
        profile: "t".into(),
        prestop_sleep: Micros::ZERO,
        readyz_fail_after: Micros::ZERO,
        shutdown_delay: Micros::from_secs(30),
        request_grace: Micros::from_secs(60),
        termination_grace_period: Micros::from_secs(135),
        readyz_failure: ReadyzFailure::Error,
        readyz_onset: ReadyzOnset::ShutdownStart,
        readiness_path: "/readyz".into(),
        response_time: Micros::ZERO,
        send_retry_after: false,
    };
    let m = ProbeModel {
        schedule: Schedule::FixedRate {
            interval: Micros::from_secs(10),
        },
        view: ProbeView {
            sees_readiness: true,
            timeout: Micros::from_secs(5),
            timeout_min: Micros::from_secs(5),
            accepts_readyz_error: false,
            fails_on_retry_after: false,
        },
        threshold: 2,
        rise: 2,
        probers: 1,
        propagation: Propagation::default(),
        answered_marks_down: false,
    };
    let sim = Sim::new(&s, &m);
    let mut nj = NoJitter;
    let mut plans = [ProberPlan {
        first_start: Micros::ZERO,
        jitter: &mut nj,
    }];
    let mut trace = Vec::new();
    let r = sim
        .run(&mut plans, Until::Time(Micros::from_secs(90)), Some(&mut trace))
        .unwrap();
    assert_eq!(r.removal, Some(Micros::from_secs(10)));
    assert!(trace.iter().all(|e| e.at <= Micros::from_secs(90)));
    assert!(trace.len() > 10);
}
