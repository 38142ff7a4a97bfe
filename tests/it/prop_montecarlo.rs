//! Monte Carlo invariants: the allocation-free kernel is bit-identical to the simulator for the same
//! phases, jitters and latencies; sampled times never leave the exact [best, worst] interval of
//! `check` (latency ranges and `readyz_failure = "either"` included); the maximum approaches the
//! worst case; and the output does not depend on the number of threads.

use graceline::analysis::analyze;
use graceline::analysis::montecarlo::{sample, Kernel, SimulateOptions};
use graceline::analysis::streaming::simulate;
use graceline::provider::{ProbeModel, Propagation, Schedule};
use graceline::scenario::load_str;
use graceline::sim::{JitterSource, LatencySource, ProberPlan, Scripted, ScriptedLatency, Sim, Until};
use graceline::time::Micros;
use graceline::timeline::{ProbeView, ReadyzFailure, ReadyzOnset, ServerSpec};
use proptest::prelude::*;

fn ms(x: i64) -> Micros {
    Micros::from_millis(x)
}

/// Deterministic filler for latency and jitter tables.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n <= 0 {
            0
        } else {
            (self.0 % n as u64) as i64
        }
    }
}

fn server() -> impl Strategy<Value = ServerSpec> {
    (
        0i64..2_000,
        0i64..60_000,
        0i64..30_000,
        prop::bool::ANY,
        prop::bool::ANY,
        1i64..200_000,
        prop::bool::ANY,
    )
        .prop_map(|(fail_after, delay, grace, timeout, pre118, tgp, sra)| ServerSpec {
            profile: "prop".into(),
            prestop_sleep: Micros::ZERO,
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
            response_time: Micros::ZERO,
            send_retry_after: sra,
        })
}

fn model() -> impl Strategy<Value = ProbeModel> {
    let fixed = crate::support::fixed_rate_strategy();
    let completion = (
        100i64..10_000,
        10i64..=200,
        10i64..=200,
        0u32..=50,
        1u32..6,
        1u32..3,
        prop::bool::ANY,
        prop::option::of(25i64..5_000),
        0u8..4,
    )
        .prop_map(|(inter, fpct, dpct, spread, fall, n, sees, tcheck, flags)| {
            let inter = ms(inter);
            ProbeModel {
                schedule: Schedule::CompletionRelative {
                    inter,
                    fastinter: Micros(inter.0 * fpct / 100),
                    downinter: Micros(inter.0 * dpct / 100),
                    spread_pct: spread,
                },
                view: ProbeView {
                    sees_readiness: sees,
                    timeout: tcheck.map_or(inter, ms),
                    timeout_min: tcheck.map_or(inter, ms),
                    accepts_readyz_error: flags & 1 != 0,
                    fails_on_retry_after: flags & 2 != 0,
                },
                threshold: fall,
                rise: 2,
                probers: n,
                propagation: Propagation::default(),
                answered_marks_down: false,
            }
        });
    prop_oneof![fixed, completion]
}

/// Largest latency the loader accepts for this model: below the timeout and a fixed-rate interval.
fn latency_cap(m: &ProbeModel) -> Micros {
    let cap = match m.schedule {
        Schedule::FixedRate { interval } => m.view.timeout.min(interval),
        Schedule::CompletionRelative { .. } => m.view.timeout,
    };
    cap - Micros::UNIT
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn kernel_is_bit_identical_to_the_simulator(
        s in server(),
        m in model(),
        seed in 1u64..,
        lat_pct in (0i64..=100, 0i64..=100),
        offsets in prop::collection::vec((0i64..3, 0.0f64..1.0), 4),
    ) {
        let sim = Sim::new(&s, &m);
        let tl = *sim.timeline();
        let onset = m.view.onset_at(s.readyz_failure, &tl);
        let cap = latency_cap(&m);
        let (a, b) = (cap.0 * lat_pct.0.min(lat_pct.1) / 100, cap.0 * lat_pct.0.max(lat_pct.1) / 100);
        let mut x = XorShift(seed | 1);
        let n = m.probers as usize;
        let lat_rows: Vec<Vec<Micros>> = (0..n)
            .map(|_| (0..48).map(|_| Micros(a + x.below(b - a + 1))).collect())
            .collect();
        let jit_rows: Vec<Vec<Micros>> = (0..n)
            .map(|_| (0..48).map(|_| Micros(x.below(2_000_001) - 1_000_000)).collect())
            .collect();
        let period = match m.schedule {
            Schedule::FixedRate { interval } => interval,
            Schedule::CompletionRelative { inter, .. } => inter + Micros(b),
        };
        let starts: Vec<Micros> = offsets
            .iter()
            .take(n)
            .map(|(k, f)| onset - period.times(*k) + Micros((period.0 as f64 * f) as i64) - Micros::UNIT)
            .collect();

        let mut scripted: Vec<Scripted> = jit_rows.iter().map(|r| Scripted::new(r)).collect();
        let mut plans: Vec<ProberPlan> = scripted
            .iter_mut()
            .zip(&starts)
            .map(|(j, &first_start)| ProberPlan { first_start, jitter: j as &mut dyn JitterSource })
            .collect();
        let mut lat = ScriptedLatency::new(&lat_rows, s.response_time);
        let want = sim.run_with_latency(&mut plans, &mut lat, Until::Removal, None).unwrap().removal.unwrap();

        let kernel = Kernel::new(&s, &m);
        let mut lat = ScriptedLatency::new(&lat_rows, s.response_time);
        let mut jitters: Vec<Scripted> = jit_rows.iter().map(|r| Scripted::new(r)).collect();
        let got = kernel.removal(
            &starts,
            &mut |p, k| lat.latency(p, k),
            &mut |p, bound| jitters[p as usize].draw(bound),
        );
        prop_assert_eq!(got, want);
    }
}

fn scenario_text(case: &McCase) -> String {
    let failure = ["error", "timeout", "either"][case.failure];
    let mut t = format!(
        "[server]\nshutdown_delay = \"{}ms\"\nreadyz_failure = \"{failure}\"\ntermination_grace_period = \"600s\"\n",
        case.delay_ms
    );
    if case.failure == 2 {
        t.push_str(&format!("readyz_timeout_probability = {}\n", case.p_timeout));
    }
    if case.haproxy {
        t.push_str(&format!(
            "[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"{}ms\"\nfastinter = \"{}ms\"\nfall = {}\nspread_checks = {}\nprotocol = \"https\"\npath = \"/readyz\"\n",
            case.interval_ms, case.fast_ms, case.threshold, case.spread
        ));
    } else {
        t.push_str(&format!(
            "[[lb]]\nname = \"a\"\nprofile = \"aws-nlb\"\ninterval = \"{}ms\"\ntimeout = \"{}ms\"\nunhealthy_threshold = {}\nprotocol = \"https\"\npath = \"/readyz\"\nprobers = [{}, {}]\n",
            case.interval_ms,
            case.timeout_ms,
            case.threshold,
            case.probers.0,
            case.probers.0 + case.probers.1
        ));
    }
    let cap = case.timeout_ms.min(case.interval_ms) - 1;
    match case.latency {
        0 => {}
        1 => t.push_str(&format!(
            "[lb.latency]\ndistribution = \"uniform\"\nmin = \"0ms\"\nmax = \"{}ms\"\n",
            cap * case.lat_pct / 100
        )),
        _ => t.push_str(&format!(
            "[lb.latency]\ndistribution = \"lognormal\"\nmedian = \"{}us\"\np99 = \"{}us\"\nmax = \"{}ms\"\n",
            cap * 10 * case.lat_pct / 100 + 1,
            cap * 100 * case.lat_pct / 100 + 2,
            cap
        )),
    }
    t
}

#[derive(Debug, Clone)]
struct McCase {
    haproxy: bool,
    interval_ms: i64,
    timeout_ms: i64,
    fast_ms: i64,
    threshold: u32,
    spread: u32,
    probers: (u32, u32),
    delay_ms: i64,
    failure: usize,
    p_timeout: f64,
    latency: usize,
    lat_pct: i64,
}

fn mc_case() -> impl Strategy<Value = McCase> {
    (
        (prop::bool::ANY, 5i64..20, 20i64..=100, 20i64..=150, 2u32..5, 0u32..=50),
        (
            1u32..3,
            0u32..3,
            0i64..60_000,
            0usize..3,
            0.0f64..=1.0,
            0usize..3,
            0i64..=100,
        ),
    )
        .prop_map(
            |((haproxy, i, tpct, fpct, u, spread), (lo, extra, delay, failure, p, latency, lat_pct))| {
                let interval_ms = if haproxy { i * 200 } else { i * 1000 };
                McCase {
                    haproxy,
                    interval_ms,
                    timeout_ms: if haproxy {
                        interval_ms
                    } else {
                        // AWS takes whole seconds (the loader refuses 2.08s as the API would).
                        (interval_ms * tpct / 100 / 1000 * 1000).max(2000)
                    },
                    fast_ms: interval_ms * fpct / 100,
                    threshold: u,
                    spread,
                    probers: (lo, extra),
                    delay_ms: delay,
                    failure,
                    p_timeout: p,
                    latency,
                    lat_pct,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn samples_stay_within_the_exact_extremes_of_check(case in mc_case(), seed in 0u64..1000) {
        let text = scenario_text(&case);
        let sc = load_str("mc.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let r = analyze(&sc, &sc.lbs[0]);
        let s = sample(&sc, 0, &SimulateOptions { trials: 600, seed }, &|_| {});
        prop_assert!(s.min() >= r.extremes.best.time, "min {} < best {}\n{}", s.min(), r.extremes.best.time, text);
        let max = s.max();
        prop_assert!(max <= r.extremes.worst.time, "max {} > worst {}\n{}", max, r.extremes.worst.time, text);
    }
}

/// With `N` trials of `n` probers whose phases are uniform over a period `P`, and a worst case
/// approached as one phase tends to the end of a segment of length at least `w` (the critical
/// segment), P(max < worst − δ) <= (1 − δ/P)^(n·N) <= exp(−δ·n·N/P). Taking δ = P·ln(10⁹)/(n·N)
/// bounds a spurious failure of the test by 10⁻⁹, as long as δ <= w.
fn tolerance(period: Micros, probers: u32, trials: u64) -> Micros {
    Micros((period.0 as f64 * (1e9f64).ln() / (f64::from(probers) * trials as f64)).ceil() as i64)
}

#[test]
fn the_maximum_approaches_the_worst_case() {
    // Propagation pinned to 0: the bound below is about prober phases (a sampled propagation
    // range reaches its top with probability 0).
    let cases = [
        (
            concat!(include_str!("../fixtures/seed-openshift-aws.toml"), "propagation_delay = \"0s\"\n"),
            Micros::from_secs(10),
            3,
        ),
        (include_str!("../fixtures/kubeadm-haproxy.toml"), Micros::from_secs(10), 1),
        (
            "[server]\nshutdown_delay = \"40s\"\n[[lb]]\nprofile = \"gcp\"\npath = \"/readyz\"\npropagation_delay = \"0s\"\nprobers = 3\n",
            Micros::from_secs(5),
            3,
        ),
    ];
    let trials = 200_000;
    for (text, period, probers) in cases {
        let sc = load_str("approach.toml", text).unwrap();
        let r = analyze(&sc, &sc.lbs[0]);
        let s = sample(&sc, 0, &SimulateOptions { trials, seed: 42 }, &|_| {});
        let max = s.max();
        let tol = tolerance(period, probers, trials);
        assert!(max <= r.extremes.worst.time);
        assert!(
            r.extremes.worst.time - max <= tol,
            "{}: max {max} is more than {tol} below the worst case {}",
            sc.name,
            r.extremes.worst.time
        );
    }
}

#[test]
fn output_is_identical_on_one_and_four_threads() {
    let text = "[server]\nshutdown_delay = \"10s\"\nreadyz_failure = \"either\"\nreadyz_timeout_probability = 0.3\n[traffic]\nrequests_per_second = 100\nbackends = 4\n[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"500ms\"\nfall = 3\nspread_checks = 20\nprotocol = \"https\"\npath = \"/readyz\"\n[lb.latency]\ndistribution = \"lognormal\"\nmedian = \"5ms\"\np99 = \"50ms\"\n[[lb]]\nname = \"a\"\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nprobers = [2, 6]\n";
    let sc = load_str("threads.toml", text).unwrap();
    let opts = SimulateOptions {
        trials: 50_000,
        seed: 7,
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            (0..sc.lbs.len())
                .map(|i| sample(&sc, i, &opts, &|_| {}))
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    let four = run(4);
    assert_eq!(one, four);
    let d = simulate(&sc, &opts, &|_| {});
    assert_eq!(d[0].trials, 50_000);
    assert!(d[0].expected_failed_requests.is_some());
    assert_ne!(
        one[0],
        sample(
            &sc,
            0,
            &SimulateOptions {
                trials: 50_000,
                seed: 8
            },
            &|_| {}
        )
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// The exact extremes over a latency range (and `either`) are reached in the simulator by their
    /// witnesses: the best exactly, the worst (a supremum) one microsecond short.
    #[test]
    fn latency_range_witnesses_reach_the_extremes(
        s in server(),
        m in model(),
        either in prop::bool::ANY,
        lat_pct in (0i64..=100, 0i64..=100),
    ) {
        let mut s = s;
        if either {
            s.readyz_failure = ReadyzFailure::Either;
        }
        let mut one = m;
        one.probers = 1;
        let cap = latency_cap(&one);
        let range = graceline::analysis::exact::LatencyRange {
            lo: Micros(cap.0 * lat_pct.0.min(lat_pct.1) / 100),
            hi: Micros(cap.0 * lat_pct.0.max(lat_pct.1) / 100),
        };
        let e = graceline::analysis::exact::extremes_with(&s, &one, range);
        prop_assert!(e.best.time <= e.worst.time);
        for (bound, p) in [(&e.worst, m.propagation.hi), (&e.best, m.propagation.lo)] {
            let w = &bound.witness;
            prop_assert!(w.latencies.iter().all(|l| *l >= range.lo && *l <= range.hi.max(one.view.timeout)));
            let mut server = s.with_failure(w.failure);
            if w.idle_drain {
                // An idle send-retry-after server's best case: the listener closes at E3.
                server.request_grace = Micros::ZERO;
            }
            // The simulator runs with one propagation delay: the range's end this extreme takes.
            one.propagation = Propagation::fixed(p);
            let sim = Sim::new(&server, &one);
            let e2 = sim.timeline().e2;
            let mut j = Scripted::new(&w.jitters);
            let mut plans = [ProberPlan { first_start: e2 + w.last_pass, jitter: &mut j }];
            let rows = [w.latencies.clone()];
            let mut lat = ScriptedLatency::new(&rows, range.hi);
            let r = sim.run_with_latency(&mut plans, &mut lat, Until::Removal, None).unwrap();
            let got = r.removal.unwrap() - e2;
            let want = if w.attained { bound.time } else { bound.time - Micros::UNIT };
            prop_assert_eq!(got, want, "witness {:?}", w);
        }
    }
}

#[test]
fn every_builtin_pair_samples_within_its_exact_extremes() {
    for sc in graceline::scenario::builtin_matrix() {
        let r = analyze(&sc, &sc.lbs[0]);
        let s = sample(&sc, 0, &SimulateOptions { trials: 2_000, seed: 5 }, &|_| {});
        assert!(s.min() >= r.extremes.best.time, "{}", sc.name);
        assert!(s.max() <= r.extremes.worst.time, "{}", sc.name);
    }
}
