//! Monte Carlo: the distribution of the time from E2 until no new request is routed, over what is
//! random in a real restart.
//!
//! Per trial and LB: the readiness failure mode (`readyz_failure = "either"`: a hang with
//! `readyz_timeout_probability`, else a 5xx), the number of probers (uniform over `probers = [lo, hi]`),
//! each prober's phase relative to the failure onset (stationary: uniform over its period), each
//! probe's response latency (`[lb.latency]`, else the server's fixed `response_time`) and HAProxy's
//! `spread-checks` jitter, drawn as HAProxy draws it, and the propagation delay, uniform over the
//! LB's `propagation_delay` range (see [`draw_propagation`] for why uniform).
//!
//! Phase: a fixed-rate prober's last passing probe starts uniformly in `[onset − I, onset)`. A
//! completion-relative prober's cycle (latency + wait + jitter) varies, so the cycle that covers the
//! onset is drawn length-biased (by rejection) and the onset falls uniformly inside it: the
//! stationary phase of a renewal process, not an approximation that needs warm-up cycles.
//!
//! Semantics: [`Kernel`] computes a prober's "marked down" instant directly, without an event queue or
//! allocation; a proptest (`tests/prop_montecarlo.rs`) proves it bit-identical to
//! [`Sim::run_with_latency`](crate::sim::Sim::run_with_latency) for the same phases, jitters and
//! latencies. Preconditions (the loader enforces them): every latency below the probe timeout and,
//! for fixed-rate checks, below the interval, so a pass is answered before the next probe starts.
//!
//! Determinism: trials run in fixed chunks of [`CHUNK`]; chunk `c` of LB `l` draws from a PCG seeded
//! with `(seed, l, c)` and writes its own slice of the results, so the same seed gives
//! bit-identical output whatever the number of threads.

use crate::analysis::{analyze, LbReport};
use crate::provider::latency::LatencySampler;
use crate::provider::{ProbeModel, Schedule};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::{Outcome, ServerSpec, Timeline};
use rand::{Rng, RngExt};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Trials per chunk: the unit of seeding and of parallel work (independent of the thread count).
pub const CHUNK: u64 = 8192;
/// Most trials one run accepts (kept in memory up to `streaming::IN_MEMORY_TRIALS`, above in two
/// passes of bounded memory).
pub const MAX_TRIALS: u64 = 100_000_000;

/// How many trials and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulateOptions {
    /// Trials per LB.
    pub trials: u64,
    /// Seed; the same seed gives the same output.
    pub seed: u64,
}

/// One prober's deterministic walk from its first probe to "marked down", with latencies and
/// jitters supplied by the caller: the hot path of the Monte Carlo, equal to the simulator.
#[derive(Debug, Clone)]
pub struct Kernel {
    server: ServerSpec,
    tl: Timeline,
    model: ProbeModel,
    onset: Micros,
}

impl Kernel {
    /// A kernel for `model` against `server`, whose `readyz_failure` must be concrete (not `either`).
    pub fn new(server: &ServerSpec, model: &ProbeModel) -> Self {
        let tl = server.timeline();
        Kernel {
            server: server.clone(),
            tl,
            model: *model,
            onset: model.view.onset_at(server.readyz_failure, &tl),
        }
    }

    /// The server timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.tl
    }

    /// Absolute instant from which probes fail (E2 for readiness checks, else E3).
    pub fn onset(&self) -> Micros {
        self.onset
    }

    /// When prober `prober`, whose first probe starts at `first_start`, marks the server down.
    /// `lat(prober, probe)` gives each probe's latency; `jit(prober, bound)` each wait's jitter
    /// (in `[-bound, bound]`), in the order the simulator draws them.
    #[inline]
    pub fn marked_down(
        &self,
        prober: u32,
        first_start: Micros,
        lat: &mut impl FnMut(u32, u32) -> Micros,
        jit: &mut impl FnMut(u32, Micros) -> Micros,
    ) -> Micros {
        match self.model.schedule {
            Schedule::FixedRate { interval } => self.fixed_rate(prober, first_start, interval, lat),
            Schedule::CompletionRelative {
                inter,
                fastinter,
                downinter,
                ..
            } => self.completion_relative(prober, first_start, [inter, fastinter, downinter], lat, jit),
        }
    }

    /// The absolute instant from which no new request is routed: the last prober's decision plus
    /// the propagation range's upper end (what `Sim::run` reports as `removal`).
    #[inline]
    pub fn removal(
        &self,
        first_starts: &[Micros],
        lat: &mut impl FnMut(u32, u32) -> Micros,
        jit: &mut impl FnMut(u32, Micros) -> Micros,
    ) -> Micros {
        let mut last = Micros(i64::MIN);
        for (i, &s) in first_starts.iter().enumerate() {
            last = last.max(self.marked_down(i as u32, s, lat, jit));
        }
        last + self.model.propagation.hi
    }

    /// Fixed rate: probes at `s0 + k·I`. Failing probes that start before E3 end at `start + d`
    /// (increasing in `k`, as every latency is below the interval), refused ones likewise, so the
    /// ends are two increasing runs and the threshold-th failure is found by merging them.
    #[inline]
    fn fixed_rate(
        &self,
        prober: u32,
        s0: Micros,
        interval: Micros,
        lat: &mut impl FnMut(u32, u32) -> Micros,
    ) -> Micros {
        let i = interval.0;
        // Probes before `first` pass; from `first_refused` on they start at or after E3.
        let ceil_div = |d: i64| {
            if d <= 0 {
                0
            } else if d <= i {
                1
            } else {
                (d + i - 1) / i
            }
        };
        let first = ceil_div((self.onset - s0).0);
        let first_refused = first + ceil_div(self.tl.listener_close.0 - (s0.0 + first * i));
        let instant = self.model.answered_marks_down;
        // End of probe `k` and whether it marks the server down at once (Azure: answered failures).
        let mut end_of = |k: i64| -> (Micros, bool) {
            let start = s0 + Micros(k * i);
            let l = lat(prober, k as u32);
            let (outcome, d) = self.model.view.probe_with_latency(&self.server, &self.tl, start, l);
            (start + d, instant && outcome != Outcome::Timeout)
        };
        let (mut kh, mut kr) = (first, first_refused);
        let mut hang = if kh < first_refused { Some(end_of(kh)) } else { None };
        let mut refused: Option<(Micros, bool)> = None;
        let mut count = 0u32;
        loop {
            let take_hang = match hang {
                // A refused probe ends no earlier than it starts: compare with its end only if needed.
                Some(h) => h.0 <= s0 + Micros(kr * i) || h.0 <= refused.get_or_insert_with(|| end_of(kr)).0,
                None => false,
            };
            let end = if take_hang {
                hang.expect("checked")
            } else {
                *refused.get_or_insert_with(|| end_of(kr))
            };
            count += 1;
            if count >= self.model.threshold || end.1 {
                return end.0;
            }
            if take_hang {
                kh += 1;
                hang = if kh < first_refused { Some(end_of(kh)) } else { None };
            } else {
                kr += 1;
                refused = None;
            }
        }
    }

    /// Completion-relative: the simulator's per-prober loop (src/check.c health counter, srv_getinter()).
    #[inline]
    fn completion_relative(
        &self,
        prober: u32,
        s0: Micros,
        [inter, fastinter, downinter]: [Micros; 3],
        lat: &mut impl FnMut(u32, u32) -> Micros,
        jit: &mut impl FnMut(u32, Micros) -> Micros,
    ) -> Micros {
        let m = &self.model;
        let full = m.rise + m.threshold - 1;
        let mut health = full;
        let mut down = false;
        let mut s = s0;
        let mut k = 0u32;
        loop {
            let (outcome, dur) = m.view.probe_with_latency(&self.server, &self.tl, s, lat(prober, k));
            k += 1;
            let end = s + dur;
            if outcome.is_failure() && m.answered_marks_down && outcome != Outcome::Timeout {
                return end;
            }
            if outcome.is_failure() {
                if health > 0 {
                    health -= 1;
                    if health < m.rise {
                        health = 0;
                    }
                }
                if health == 0 {
                    return end;
                }
            } else if health < full {
                health += 1;
                if health >= m.rise {
                    health = full;
                    down = false;
                }
            }
            let wait = if health == full {
                inter
            } else if down && health == 0 {
                downinter
            } else {
                fastinter
            };
            s = end + wait + jit(prober, m.schedule.jitter_bound(wait));
        }
    }
}

/// HAProxy's `spread-checks` draw: `rv = interval_ms * spread / 100`, then
/// `rv -= (int)(2 * rv * (prng / 4294967295.0))` (src/check.c), in whole milliseconds.
#[inline]
pub fn haproxy_jitter<R: Rng + ?Sized>(rng: &mut R, bound: Micros) -> Micros {
    let rv = bound.0 / 1_000;
    if rv == 0 {
        return Micros::ZERO;
    }
    let u = f64::from(rng.next_u32()) / 4_294_967_295.0;
    let k = (2.0 * rv as f64 * u) as i64;
    Micros::from_millis(rv - k)
}

/// The per-trial randomness of one LB, ready to draw.
pub(crate) struct TrialGen {
    kernels: Vec<Kernel>,
    /// Probability of each concrete mode beyond the first (`either`: the hang).
    p_timeout: f64,
    probers: (u32, u32),
    latency: Option<LatencySampler>,
    fixed_latency: Micros,
    latency_hi: Micros,
    e2: Micros,
    /// A server without `check`: every trial is this figure (E5 - E2 + startup).
    fixed: Option<Micros>,
}

impl TrialGen {
    pub(crate) fn new(sc: &Scenario, lb: &LbSpec) -> Self {
        let kernels = sc
            .server
            .readyz_failure
            .concrete()
            .iter()
            .map(|&m| Kernel::new(&sc.server.with_failure(m), &lb.model))
            .collect();
        TrialGen {
            kernels,
            p_timeout: sc.readyz_timeout_probability,
            probers: (lb.probers.lo.min(lb.model.probers), lb.model.probers),
            latency: lb.latency.map(|l| l.sampler()),
            fixed_latency: sc.server.response_time,
            latency_hi: lb.latency_range(&sc.server).hi,
            e2: sc.server.timeline().e2,
            fixed: crate::analysis::unchecked_until(sc, lb),
        }
    }

    #[inline]
    fn latency<R: Rng>(&self, rng: &mut R) -> Micros {
        match &self.latency {
            Some(s) => s.draw(rng),
            None => self.fixed_latency,
        }
    }

    /// One trial: the time from E2 until no new request is routed.
    #[inline]
    pub(crate) fn trial<R: Rng>(&self, rng: &mut R) -> Micros {
        if let Some(t) = self.fixed {
            return t;
        }
        let d = self.detection(rng);
        d + draw_propagation(rng, self.kernels[0].model.propagation)
    }

    /// One trial's detection: the time from E2 until the last prober marks the server down
    /// (without propagation; a server without `check`: when it is back).
    #[inline]
    pub(crate) fn detection<R: Rng>(&self, rng: &mut R) -> Micros {
        if let Some(t) = self.fixed {
            return t;
        }
        let k = if self.kernels.len() > 1 && rng.random::<f64>() < self.p_timeout {
            &self.kernels[1]
        } else {
            &self.kernels[0]
        };
        let n = if self.probers.0 == self.probers.1 {
            self.probers.0
        } else {
            rng.random_range(self.probers.0..=self.probers.1)
        };
        let mut last = Micros(i64::MIN);
        for p in 0..n {
            let t = match k.model.schedule {
                Schedule::FixedRate { interval } => {
                    let s0 = k.onset - interval + Micros(rng.random_range(0..interval.0));
                    let mut lat = |_: u32, _: u32| self.latency(rng);
                    k.marked_down(p, s0, &mut lat, &mut |_, _| Micros::ZERO)
                }
                Schedule::CompletionRelative { inter, .. } => {
                    // Length-biased cycle covering the onset, by rejection; then a uniform position.
                    let j_max = k.model.schedule.jitter_bound(inter);
                    let (l0, j0, cycle) = loop {
                        let l0 = self.latency(rng);
                        let j0 = haproxy_jitter(rng, j_max);
                        let cycle = l0 + inter + j0;
                        let bound = (self.latency_hi + inter + j_max).0;
                        if rng.random_range(0..bound) < cycle.0 {
                            break (l0, j0, cycle);
                        }
                    };
                    let s0 = k.onset - cycle + Micros(rng.random_range(0..cycle.0));
                    let rng = std::cell::RefCell::new(&mut *rng);
                    let mut lat = |_: u32, probe: u32| {
                        if probe == 0 {
                            l0
                        } else {
                            self.latency(&mut **rng.borrow_mut())
                        }
                    };
                    let mut first_jitter = true;
                    let mut jit = |_: u32, bound: Micros| {
                        if std::mem::take(&mut first_jitter) {
                            j0
                        } else {
                            haproxy_jitter(&mut **rng.borrow_mut(), bound)
                        }
                    };
                    k.marked_down(p, s0, &mut lat, &mut jit)
                }
            };
            last = last.max(t);
        }
        last - self.e2
    }
}

/// One propagation delay from the model's range (the error tier's), uniform over `[lo, hi]` in
/// whole microseconds.
///
/// Uniform inside one tier because each tier's sources give bounds, not frequencies: it is the
/// maximum-entropy law on a bounded interval and invents no mode. Never uniform across tiers (see
/// [`super::tiers`]): the tail's frequency is unknown and far below a uniform law's share. A
/// user's own measured range (`graceline calibrate`) replaces every tier.
#[inline]
pub fn draw_propagation<R: Rng + ?Sized>(rng: &mut R, p: crate::provider::Propagation) -> Micros {
    if p.lo >= p.hi {
        p.hi
    } else {
        Micros(rng.random_range(p.lo.0..=p.hi.0))
    }
}

/// The seed of one chunk: SplitMix64 over `(seed, lb, chunk)`, widened to PCG's 128-bit state.
pub(crate) fn chunk_rng(seed: u64, lb: u64, chunk: u64) -> Pcg64Mcg {
    let mut x = seed;
    let mut mix = |v: u64| {
        x = x.wrapping_add(v).wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let hi = mix(lb);
    let lo = mix(chunk);
    Pcg64Mcg::new((u128::from(hi) << 64) | u128::from(lo) | 1)
}

/// Sampled times of one LB (microseconds from E2), in trial order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Samples {
    /// Every trial's time from E2 until no new request is routed, in trial order (chunk by chunk).
    pub values: Vec<Micros>,
}

impl Samples {
    /// Nearest-rank percentiles for ascending `qs` in `[0, 1]` (each the smallest sample with at least
    /// that share of the samples at or below it), by successive selection rather than a full sort;
    /// reorders `values`.
    pub fn quantiles(&mut self, qs: &[f64]) -> Vec<Micros> {
        let n = self.values.len();
        let mut from = 0;
        let mut out = Vec::with_capacity(qs.len());
        for &q in qs {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            let rank = rank.max(from);
            let (_, v, _) = self.values[from..].select_nth_unstable(rank - from);
            out.push(*v);
            from = rank;
        }
        out
    }

    /// The largest sample.
    pub fn max(&self) -> Micros {
        self.values.iter().copied().max().expect("at least one trial")
    }

    /// The smallest sample.
    pub fn min(&self) -> Micros {
        self.values.iter().copied().min().expect("at least one trial")
    }

    /// Mean in seconds (summed exactly in integer microseconds).
    pub fn mean_s(&self) -> f64 {
        let sum: i128 = self.values.iter().map(|m| i128::from(m.0)).sum();
        sum as f64 / self.values.len() as f64 / 1e6
    }

    /// Share of samples at or above `t`.
    pub fn share_at_least(&self, t: Micros) -> f64 {
        self.values.iter().filter(|&&m| m >= t).count() as f64 / self.values.len() as f64
    }

    /// Mean of `max(0, sample − t)` in seconds: how long, on average, routing outlives `t`.
    pub fn mean_excess_s(&self, t: Micros) -> f64 {
        let sum: i128 = self.values.iter().map(|m| i128::from((m.0 - t.0).max(0))).sum();
        sum as f64 / self.values.len() as f64 / 1e6
    }
}

/// Runs `opts.trials` trials of LB number `lb_index` of `sc`, in parallel on the current rayon
/// pool; calls `progress(n)` after each chunk of `n` trials.
pub fn sample(sc: &Scenario, lb_index: usize, opts: &SimulateOptions, progress: &(dyn Fn(u64) + Sync)) -> Samples {
    let gen = TrialGen::new(sc, &sc.lbs[lb_index]);
    let mut values = vec![Micros::ZERO; usize::try_from(opts.trials).expect("trials fit in memory")];
    values.par_chunks_mut(CHUNK as usize).enumerate().for_each(|(c, out)| {
        let mut rng = chunk_rng(opts.seed, lb_index as u64, c as u64);
        for slot in out.iter_mut() {
            *slot = gen.trial(&mut rng);
        }
        progress(out.len() as u64);
    });
    Samples { values }
}

/// What `simulate` reports for one LB.
#[derive(Debug, Clone)]
pub struct LbDistribution {
    /// The exact analysis of the same LB (`check`), for comparison.
    pub exact: LbReport,
    /// Trials run.
    pub trials: u64,
    /// Seed used.
    pub seed: u64,
    /// Median time from E2 until no new request is routed.
    pub p50: Micros,
    /// 90th percentile.
    pub p90: Micros,
    /// 99th percentile.
    pub p99: Micros,
    /// 99.9th percentile.
    pub p999: Micros,
    /// Largest sample (never above the exact worst case).
    pub max: Micros,
    /// Smallest sample (never below the exact best case).
    pub min: Micros,
    /// Mean in seconds.
    pub mean_s: f64,
    /// Share of restarts with `E2 + t >= E3`: new requests can reach a closed port.
    pub violation_probability: f64,
    /// Mean time per restart that the LB still routes new requests after E3, in seconds.
    pub mean_exposure_s: f64,
    /// `[traffic]` requests per second per backend × `mean_exposure_s` × the share of those requests
    /// that fail (HAProxy with `option redispatch`: none), if a `[traffic]` table is given.
    pub expected_failed_requests: Option<f64>,
    /// What the client sees of the requests routed after E3 and of established connections.
    pub client: crate::analysis::client::ClientView,
    /// P(violation) and failed requests per propagation tier, from the same detections with each
    /// tier's propagation integrated exactly over its range (empty when the LB has one tier or
    /// no check: the figures above are its only ones). See [`crate::analysis::tiers`] for why not
    /// one draw across the tiers.
    pub tiers: Vec<crate::analysis::tiers::TierRisk>,
}

impl LbDistribution {
    /// Summarises samples against the exact analysis (reorders them).
    pub fn from_samples(sc: &Scenario, lb: &LbSpec, s: &mut Samples, opts: &SimulateOptions) -> Self {
        let exact = analyze(sc, lb);
        let client = crate::analysis::client::client_view(sc, lb);
        let budget = exact.budget;
        let mean_exposure_s = s.mean_excess_s(budget);
        let q = s.quantiles(&[0.5, 0.9, 0.99, 0.999]);
        LbDistribution {
            trials: s.values.len() as u64,
            seed: opts.seed,
            p50: q[0],
            p90: q[1],
            p99: q[2],
            p999: q[3],
            max: s.max(),
            min: s.min(),
            mean_s: s.mean_s(),
            violation_probability: s.share_at_least(budget),
            mean_exposure_s,
            expected_failed_requests: crate::analysis::rules::passive::expected_failed_requests(sc, lb).or_else(|| {
                sc.traffic
                    .map(|t| t.per_backend() * mean_exposure_s * client.failing_share)
            }),
            client,
            exact,
            tiers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    // The installer's hand analysis counts detection only: propagation pinned to 0 here.
    const SEED: &str = concat!(
        include_str!("../../tests/fixtures/seed-openshift-aws.toml"),
        "propagation_delay = \"0s\"\n"
    );

    #[test]
    fn haproxy_jitter_is_whole_ms_within_the_bound() {
        let mut rng = chunk_rng(1, 2, 3);
        let b = Micros::from_millis(100);
        let v: Vec<Micros> = (0..10_000).map(|_| haproxy_jitter(&mut rng, b)).collect();
        assert!(v.iter().all(|j| j.0 % 1_000 == 0 && j.0.abs() <= b.0));
        assert!(v.contains(&b) && v.contains(&Micros::from_millis(-99)));
        assert_eq!(haproxy_jitter(&mut rng, Micros(999)), Micros::ZERO);
    }

    #[test]
    fn seed_case_samples_stay_within_the_exact_extremes() {
        let sc = load_str("seed.toml", SEED).unwrap();
        let opts = SimulateOptions {
            trials: 20_000,
            seed: 1,
        };
        let d = &LbDistribution::from_samples(&sc, &sc.lbs[0], &mut sample(&sc, 0, &opts, &|_| {}), &opts);
        assert_eq!(d.trials, 20_000);
        assert!(d.max <= d.exact.extremes.worst.time && d.min >= d.exact.extremes.best.time);
        // 3 probers, each uniform over one 10 s period: P(t >= 30 s) is 0, P(t > 29 s) = 1 - 0.9^3.
        assert_eq!(d.violation_probability, 0.0);
        assert!(d.max > Micros::from_secs(29) + Micros::from_millis(990));
        // Each prober marks down at 20 s + its phase p ~ U[0, 10 s); t is the largest of three:
        // P(t <= 20 s + x) = (x / 10 s)^3, so the mean is 27.5 s and the median 20 s + 10 s * 0.5^(1/3).
        assert!((d.mean_s - 27.5).abs() < 0.05, "mean {}", d.mean_s);
        let median = 20.0 + 10.0 * 0.5f64.cbrt();
        assert!((d.p50.as_secs_f64() - median).abs() < 0.06, "p50 {}", d.p50);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut s = Samples {
            values: (1..=1000).rev().map(Micros).collect(),
        };
        assert_eq!(
            s.quantiles(&[0.0, 0.5, 0.9, 0.999, 1.0]),
            [1, 500, 900, 999, 1000].map(Micros).to_vec()
        );
        assert_eq!((s.min(), s.max()), (Micros(1), Micros(1000)));
        assert_eq!(s.share_at_least(Micros(991)), 0.01);
        assert!((s.mean_excess_s(Micros(998)) - 3.0 / 1000.0 / 1e6).abs() < 1e-15);
    }
}
