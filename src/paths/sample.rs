//! Monte Carlo over a path's stage ranges: each stage's duration is drawn uniformly (in whole
//! microseconds) from its typical [lo, hi], independently (an alternative chain is drawn too and
//! the earlier ends the path); the app's stop is recomputed when the listener waits for the first
//! stage (kube-apiserver's hook). No distribution is published for any stage, so uniform is the
//! stated assumption, not a measurement; the tail tier is a worst case (GL040), not sampled.

use super::{stop_listening, PathReport, Start};
use crate::time::Micros;
use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

/// The sampled distribution of one path.
#[derive(Debug, Clone, Serialize)]
pub struct PathDistribution {
    /// Trials drawn.
    pub trials: u64,
    /// Percentiles of "last consumer stops sending", from the deletion: p50, p90, p99, p99.9.
    pub last_send: [Micros; 4],
    /// Fraction of trials where new connections reach a closed port.
    pub p_fail: f64,
    /// The distribution drawn, in words.
    pub distribution: &'static str,
}

/// What `simulate` says about the distribution.
pub const DISTRIBUTION: &str = "each stage uniform on its [lo, hi] range, stages independent";

/// Samples `trials` shutdowns of one path (`None` when the path never ends).
pub fn sample(r: &PathReport, trials: u64, seed: u64) -> Option<PathDistribution> {
    r.last_send_worst?;
    let trials = trials.max(1);
    let mut rng = Pcg64Mcg::new(u128::from(seed) << 1 | 1);
    let start = match r.path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => r.sigterm,
    };
    let mut sends = Vec::with_capacity(usize::try_from(trials).unwrap_or(0));
    let mut fails = 0u64;
    let mut draw = |s: &super::Stage| {
        if s.hi > s.lo {
            Micros(rng.random_range(s.lo.0..=s.hi.0))
        } else {
            s.lo
        }
    };
    for _ in 0..trials {
        let mut total = start;
        let mut first = Micros::ZERO;
        for (i, s) in r.path.stages.iter().enumerate() {
            let d = draw(s);
            if i == 0 {
                first = d;
            }
            total += d;
        }
        // An independent second way out (an ip target's own health check): the earlier ends it.
        if let Some(alt) = &r.path.alternative {
            let other = alt.stages.iter().fold(start, |a, s| a + draw(s));
            total = total.min(other);
        }
        let stop = stop_listening(&r.target, &r.path, r.target.server.prestop_sleep, first);
        if total >= stop {
            fails += 1;
        }
        sends.push(total);
    }
    sends.sort_unstable();
    let q = |p: f64| {
        let idx = ((p * sends.len() as f64).ceil() as usize).clamp(1, sends.len()) - 1;
        sends[idx]
    };
    Some(PathDistribution {
        trials,
        last_send: [q(0.5), q(0.9), q(0.99), q(0.999)],
        p_fail: fails as f64 / trials as f64,
        distribution: DISTRIBUTION,
    })
}
