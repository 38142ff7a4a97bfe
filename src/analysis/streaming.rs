//! Monte Carlo summaries in bounded memory: exact nearest-rank percentiles for any trial count.
//!
//! Up to [`IN_MEMORY_TRIALS`] trials per LB the samples are kept (8 bytes each) and the
//! percentiles selected from them. Above, two passes over the same trials (the same seed gives
//! bit-identical chunks, see [`super::montecarlo`]): the first counts the samples in a histogram
//! of [`BINS`] bins over the exact `[best, worst]` range (which every sample lies in) and sums what
//! the mean and the violation share need; the second collects, per distinct value, only the
//! samples in the bins that hold a wanted rank, and selects the exact sample there. The result is
//! identical to sorting all samples; memory is one histogram per worker thread plus the distinct
//! values of at most four bins (each bin spans `(worst - best) / BINS` microseconds); time doubles.

use super::montecarlo::{chunk_rng, sample, LbDistribution, SimulateOptions, TrialGen, CHUNK};
use crate::analysis::analyze;
use crate::scenario::Scenario;
use crate::time::Micros;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Largest trial count whose samples are kept in memory (80 MB per LB).
pub const IN_MEMORY_TRIALS: u64 = 10_000_000;

/// Histogram bins of the two-pass method (2 MiB of counts per worker thread).
pub const BINS: usize = 1 << 18;

/// The percentiles `simulate` reports.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

/// How many passes over the trials a run of `trials` makes (for progress bars).
pub fn passes(trials: u64) -> u64 {
    if trials <= IN_MEMORY_TRIALS {
        1
    } else {
        2
    }
}

/// What the first pass adds up.
#[derive(Clone)]
struct Tally {
    counts: Vec<u64>,
    min: Micros,
    max: Micros,
    sum: i128,
    at_least_budget: u64,
    excess: i128,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            counts: vec![0; BINS],
            min: Micros(i64::MAX),
            max: Micros(i64::MIN),
            sum: 0,
            at_least_budget: 0,
            excess: 0,
        }
    }

    fn merge(mut self, o: Tally) -> Tally {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
        self.at_least_budget += o.at_least_budget;
        self.excess += o.excess;
        self
    }
}

/// Maps samples in `[lo, hi]` to bins.
#[derive(Clone, Copy)]
struct Binning {
    lo: i64,
    width: i64,
}

impl Binning {
    fn new(lo: Micros, hi: Micros) -> Binning {
        let span = (hi.0 - lo.0).max(0) + 1;
        Binning {
            lo: lo.0,
            width: (span + BINS as i64 - 1) / BINS as i64,
        }
    }

    fn bin(&self, v: Micros) -> usize {
        (((v.0 - self.lo) / self.width).max(0) as usize).min(BINS - 1)
    }
}

/// Runs every trial of LB `lb_index` chunk by chunk in parallel, folding each sample into a `T`.
fn fold<T: Send + Clone>(
    sc: &Scenario,
    lb_index: usize,
    opts: &SimulateOptions,
    progress: &(dyn Fn(u64) + Sync),
    init: impl Fn() -> T + Sync + Send,
    add: impl Fn(&mut T, Micros) + Sync + Send,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    let gen = TrialGen::new(sc, &sc.lbs[lb_index]);
    let chunks = opts.trials.div_ceil(CHUNK);
    (0..chunks)
        .into_par_iter()
        .fold(&init, |mut acc, c| {
            let n = CHUNK.min(opts.trials - c * CHUNK);
            let mut rng = chunk_rng(opts.seed, lb_index as u64, c);
            for _ in 0..n {
                add(&mut acc, gen.trial(&mut rng));
            }
            progress(n);
            acc
        })
        .reduce(&init, merge)
}

/// The distribution of LB `lb_index` of `sc` over `opts.trials` trials: kept in memory up to
/// [`IN_MEMORY_TRIALS`], else by the two-pass exact method; the same figures either way.
pub fn distribution(
    sc: &Scenario,
    lb_index: usize,
    opts: &SimulateOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> LbDistribution {
    let lb = &sc.lbs[lb_index];
    let mut d = if opts.trials <= IN_MEMORY_TRIALS {
        LbDistribution::from_samples(sc, lb, &mut sample(sc, lb_index, opts, progress), opts)
    } else {
        two_pass(sc, lb_index, opts, progress)
    };
    if d.exact.tiers.len() > 1 {
        d.tiers = crate::analysis::tiers::risks_by_tier(sc, lb_index, opts);
    }
    d
}

/// Runs every LB of a scenario (one after the other, each in parallel).
pub fn simulate(sc: &Scenario, opts: &SimulateOptions, progress: &(dyn Fn(u64) + Sync)) -> Vec<LbDistribution> {
    (0..sc.lbs.len()).map(|i| distribution(sc, i, opts, progress)).collect()
}

/// The two-pass exact method (public for tests that compare it with the in-memory one).
pub fn two_pass(
    sc: &Scenario,
    lb_index: usize,
    opts: &SimulateOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> LbDistribution {
    let lb = &sc.lbs[lb_index];
    let exact = analyze(sc, lb);
    let budget = exact.budget;
    let binning = Binning::new(exact.extremes.best.time, exact.extremes.worst.time);
    let tally = fold(
        sc,
        lb_index,
        opts,
        progress,
        Tally::new,
        |t, v| {
            t.counts[binning.bin(v)] += 1;
            t.min = t.min.min(v);
            t.max = t.max.max(v);
            t.sum += i128::from(v.0);
            if v >= budget {
                t.at_least_budget += 1;
                t.excess += i128::from(v.0 - budget.0);
            }
        },
        Tally::merge,
    );
    let n = opts.trials;
    // Nearest rank (0-based) of each quantile, as `Samples::quantiles` computes it.
    let ranks: Vec<u64> = QUANTILES
        .iter()
        .map(|&q| ((q * n as f64).ceil() as u64).clamp(1, n) - 1)
        .collect();
    let mut wanted: Vec<(usize, u64)> = Vec::with_capacity(ranks.len());
    for &r in &ranks {
        let (mut cum, mut b) = (0u64, 0usize);
        while cum + tally.counts[b] <= r {
            cum += tally.counts[b];
            b += 1;
        }
        wanted.push((b, r - cum));
    }
    let bins: Vec<usize> = {
        let mut v: Vec<usize> = wanted.iter().map(|w| w.0).collect();
        v.dedup();
        v
    };
    let values = fold(
        sc,
        lb_index,
        opts,
        progress,
        BTreeMap::<Micros, u64>::new,
        |m, v| {
            if bins.contains(&binning.bin(v)) {
                *m.entry(v).or_insert(0) += 1;
            }
        },
        |mut a, b| {
            for (k, c) in b {
                *a.entry(k).or_insert(0) += c;
            }
            a
        },
    );
    let pick = |(bin, mut rank): (usize, u64)| -> Micros {
        for (&v, &c) in values.iter().filter(|(v, _)| binning.bin(**v) == bin) {
            if rank < c {
                return v;
            }
            rank -= c;
        }
        unreachable!("the second pass sees the same samples as the first")
    };
    let q: Vec<Micros> = wanted.into_iter().map(pick).collect();
    let mean_exposure_s = tally.excess as f64 / n as f64 / 1e6;
    let client = crate::analysis::client::client_view(sc, &sc.lbs[lb_index]);
    LbDistribution {
        trials: n,
        seed: opts.seed,
        p50: q[0],
        p90: q[1],
        p99: q[2],
        p999: q[3],
        max: tally.max,
        min: tally.min,
        mean_s: tally.sum as f64 / n as f64 / 1e6,
        violation_probability: tally.at_least_budget as f64 / n as f64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn two_passes_give_exactly_the_in_memory_figures() {
        for text in [
            include_str!("../../tests/fixtures/seed-openshift-aws.toml"),
            include_str!("../../tests/fixtures/multi-lb.toml"),
            include_str!("../../reports/kubeadm-haproxy/scenario.toml"),
        ] {
            let sc = load_str("s.toml", text).unwrap();
            for i in 0..sc.lbs.len() {
                let opts = SimulateOptions {
                    trials: 50_001,
                    seed: 7,
                };
                let a = LbDistribution::from_samples(&sc, &sc.lbs[i], &mut sample(&sc, i, &opts, &|_| {}), &opts);
                let b = two_pass(&sc, i, &opts, &|_| {});
                assert_eq!(
                    (a.p50, a.p90, a.p99, a.p999),
                    (b.p50, b.p90, b.p99, b.p999),
                    "{}",
                    sc.lbs[i].name
                );
                assert_eq!((a.min, a.max, a.trials), (b.min, b.max, b.trials));
                assert_eq!(a.violation_probability, b.violation_probability);
                assert!((a.mean_s - b.mean_s).abs() < 1e-12);
                assert!((a.mean_exposure_s - b.mean_exposure_s).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn bins_cover_the_range() {
        let b = Binning::new(Micros(10), Micros(10));
        assert_eq!((b.bin(Micros(10)), b.width), (0, 1));
        let b = Binning::new(Micros(0), Micros(300_000_000));
        // width = ceil(300_000_001 / 262_144) = 1145 us; the top sample is in bin 300_000_000 / 1145.
        assert_eq!(b.width, 1145);
        assert_eq!(b.bin(Micros(300_000_000)), 262_008);
        assert_eq!(b.bin(Micros(0)), 0);
        assert_eq!(passes(IN_MEMORY_TRIALS), 1);
        assert_eq!(passes(IN_MEMORY_TRIALS + 1), 2);
    }
}
