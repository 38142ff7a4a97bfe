//! Verdicts by propagation tier (see [`crate::provider::tiers`]): the exact worst case, margin and
//! recommended delay of one load balancer with each tier's propagation, and the Monte Carlo
//! probability that new requests reach a closed port, per tier.
//!
//! Detection does not depend on the propagation (it ends when the last prober marks the server
//! down), so a tier's worst case is the exact worst-case detection plus the tier's top, and its
//! recommended delay the unbounded worst-case detection plus that top plus the margin.
//!
//! Monte Carlo per tier rather than one uniform draw over [typical low, tail high]: the tiers are
//! different kinds of evidence with unknown relative frequencies, not one distribution's body and
//! tail. A uniform law over 0-240 s puts 46 % of the NLB's mass above 129 s and predicts that
//! OpenShift's 129 s delay fails 6 restarts in 10 (P 0.615), which years of OpenShift CI on 129 s
//! contradict. Each tier's P is the probability *if* propagation behaves as that tier's evidence
//! says (uniform inside the tier's range, see [`super::montecarlo::draw_propagation`]): near 0 for
//! the typical tier of a sound configuration, and what a tail event would cost.

use super::exact::unbounded_worst_with;
use super::montecarlo::{chunk_rng, SimulateOptions, TrialGen, CHUNK};
use super::rules::grace::grace_for;
use super::rules::Case;
use super::Verdict;
use crate::profiles::Evidence;
use crate::provider::tiers::{self, Tier};

use crate::provider::Propagation;
pub use crate::scenario::layout::{measured, resolve, resolve_lb, tier_layout as layout};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::ServerSpec;
use rayon::prelude::*;
use serde::Serialize;

/// One tier's figures for one load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierVerdict {
    /// The tier.
    pub tier: Tier,
    /// True for the error tier (its findings are GL001/GL002).
    pub error_tier: bool,
    /// Its propagation range.
    pub range: Propagation,
    /// What it rests on.
    pub evidence: Evidence,
    /// Its sources in a few words.
    pub cite: String,
    /// Its sources.
    pub source: String,
    /// What else could explain it.
    pub caveats: Option<String>,
    /// Why this variant applies (NLB cross-zone).
    pub why: Option<String>,
    /// Exact worst case from E2 with the tier's top.
    pub worst: Micros,
    /// Budget minus that worst case.
    pub margin: Micros,
    /// The smallest shutdown delay that passes this tier with the margin, when a delay helps.
    pub recommended_shutdown_delay: Option<Micros>,
    /// The grace period that delay needs (one drain formula: `rules::grace::full_drain`).
    pub recommended_termination_grace_period: Option<Micros>,
    /// Pass (margin at least the minimum), warn (below it) or fail (no margin).
    pub verdict: Verdict,
}

/// The verdict of a margin against the minimum.
pub fn verdict_of(margin: Micros, min_margin: Micros) -> Verdict {
    if margin <= Micros::ZERO {
        Verdict::Fail
    } else if margin < min_margin {
        Verdict::Warn
    } else {
        Verdict::Pass
    }
}

/// Every tier's figures for the load balancer of `c` (none for a server without checks: no
/// propagation shapes its figure).
pub fn by_tier(c: &Case) -> Vec<TierVerdict> {
    if super::is_unchecked(c.lb) {
        return Vec::new();
    }
    let (sc, lb) = (c.sc, c.lb);
    let error = sc.propagation_tier.tier();
    let resolved = resolve(sc, lb);
    let error_present = resolved.iter().any(|r| r.tier == error);
    let detection = c.ext.worst.detection;
    let unbounded_detection = c.unbounded - lb.model.propagation.hi;
    resolved
        .into_iter()
        .map(|r| {
            let hi = r.figure.range.hi;
            let worst = detection + hi;
            let margin = c.budget - worst;
            let rec = c.delay_helps.then(|| c.needed_for(unbounded_detection + hi));
            TierVerdict {
                tier: r.tier,
                error_tier: r.tier == error || (!error_present && r.tier == tiers::Tier::Typical),
                range: r.figure.range,
                evidence: r.figure.evidence,
                cite: r.figure.cite,
                source: r.figure.source,
                caveats: r.figure.caveats,
                why: r.why,
                worst,
                margin,
                recommended_shutdown_delay: rec,
                recommended_termination_grace_period: rec.map(|d| grace_for(&sc.server, d)),
                verdict: verdict_of(margin, sc.min_margin),
            }
        })
        .collect()
}

/// Monte Carlo figures of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierRisk {
    /// The tier.
    pub tier: Tier,
    /// Its propagation range (uniform inside it).
    pub range: Propagation,
    /// Share of restarts with `E2 + t >= E3`.
    pub violation_probability: f64,
    /// Mean time per restart that the LB still routes new requests after E3, in seconds.
    pub mean_exposure_s: f64,
    /// `[traffic]` requests per second per backend × `mean_exposure_s` × the share of those
    /// requests that fail, if a `[traffic]` table is given.
    pub expected_failed_requests: Option<f64>,
}

/// `P(d + U >= budget)` and `E[max(0, d + U - budget)]` (µs) for a detection `d` and a
/// propagation `U` uniform over the whole microseconds of `p`: exact, no draw.
fn excess(d: Micros, p: Propagation, budget: Micros) -> (f64, f64) {
    let x = (budget - d).0;
    let (lo, hi) = (p.lo.0, p.hi.0);
    if hi < x {
        return (0.0, 0.0);
    }
    let a = lo.max(x);
    let n = (hi - lo + 1) as f64;
    let k = (hi - a + 1) as f64;
    // Sum over u = a..=hi of (u - x) = k * ((a + hi) / 2 - x).
    let sum = k * ((a as f64 + hi as f64) / 2.0 - x as f64);
    (k / n, sum / n)
}

/// Per-tier P(violation) and exposure over `opts.trials` restarts of LB `lb_index` of `sc`: each
/// trial draws the detection as `simulate` does (phases, probers, latencies, jitter, failure mode)
/// and every tier's propagation is integrated exactly over its range, so the tiers share their
/// detections and differ only by their evidence.
pub fn risks(sc: &Scenario, lb_index: usize, ranges: &[(Tier, Propagation)], opts: &SimulateOptions) -> Vec<TierRisk> {
    let lb = &sc.lbs[lb_index];
    let gen = TrialGen::new(sc, lb);
    let budget = sc.server.timeline().budget();
    let chunks = opts.trials.div_ceil(CHUNK);
    let zero = || vec![(0.0f64, 0.0f64); ranges.len()];
    let sums = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = chunk_rng(opts.seed, lb_index as u64, c);
            let n = CHUNK.min(opts.trials - c * CHUNK);
            let mut acc = zero();
            for _ in 0..n {
                let d = gen.detection(&mut rng);
                for (a, (_, r)) in acc.iter_mut().zip(ranges) {
                    let (p, e) = excess(d, *r, budget);
                    a.0 += p;
                    a.1 += e;
                }
            }
            acc
        })
        .reduce(zero, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                x.0 += y.0;
                x.1 += y.1;
            }
            a
        });
    let client = super::client::client_view(sc, lb);
    let trials = opts.trials as f64;
    ranges
        .iter()
        .zip(sums)
        .map(|(&(tier, range), (p, e))| {
            let mean_exposure_s = e / trials / 1e6;
            TierRisk {
                tier,
                range,
                violation_probability: p / trials,
                mean_exposure_s,
                expected_failed_requests: sc
                    .traffic
                    .map(|t| t.per_backend() * mean_exposure_s * client.failing_share),
            }
        })
        .collect()
}

/// The Monte Carlo figures of every tier of LB `lb_index` of `sc` as it is.
pub fn risks_by_tier(sc: &Scenario, lb_index: usize, opts: &SimulateOptions) -> Vec<TierRisk> {
    let ranges: Vec<(Tier, Propagation)> = resolve(sc, &sc.lbs[lb_index])
        .iter()
        .map(|r| (r.tier, r.figure.range))
        .collect();
    risks(sc, lb_index, &ranges, opts)
}

/// P(violation) and failed requests of LB `lb_index` of `sc` in tier `tier` (the typical one
/// where the evidence has no such tier) with the shutdown delay set to `delay` and the grace
/// period raised to what that delay needs (one drain formula, `rules::grace::grace_for`): the
/// figure of a P-against-delay sweep. `None` when `lb_index` is out of range.
pub fn violation_at(
    sc: &Scenario,
    lb_index: usize,
    tier: Tier,
    delay: Micros,
    opts: &SimulateOptions,
) -> Option<TierRisk> {
    let lb = sc.lbs.get(lb_index)?;
    let range = tiers::pick(&resolve(sc, lb), tier).figure.range;
    let mut with = sc.clone();
    with.server = ServerSpec {
        shutdown_delay: delay,
        ..sc.server.clone()
    };
    let grace = grace_for(&with.server, delay).max(sc.server.termination_grace_period);
    with.server.termination_grace_period = grace;
    risks(&with, lb_index, &[(tier, range)], opts).pop()
}

/// The smallest shutdown delay that passes tier `tier` with the margin, when a delay helps:
/// the unbounded worst-case detection plus the tier's top plus the margin.
pub fn needed_delay(sc: &Scenario, lb: &LbSpec, tier: Tier) -> Micros {
    let range = tiers::pick(&resolve(sc, lb), tier).figure.range;
    let lat = lb.latency_range(&sc.server);
    unbounded_worst_with(&sc.server, &lb.model, lat) - lb.model.propagation.hi
        + range.hi
        + sc.min_margin.max(Micros::UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_uniform_excess() {
        let s = Micros::from_secs;
        let p = Propagation { lo: s(0), hi: s(40) };
        // d = 20 s, budget 70 s: U must reach 50 s, beyond the range.
        assert_eq!(excess(s(20), p, s(70)), (0.0, 0.0));
        // d = 50 s: U >= 20 s, about half the range; mean excess about 10 s / 2 = 5 s.
        let (pr, e) = excess(s(50), p, s(70));
        assert!((pr - 0.5).abs() < 1e-6, "{pr}");
        assert!((e / 1e6 - 5.0).abs() < 1e-3, "{e}");
        // A fixed propagation: a step.
        let f = Propagation::fixed(s(10));
        assert_eq!(excess(s(60), f, s(70)).0, 1.0);
        assert_eq!(excess(s(59), f, s(70)).0, 0.0);
    }
}
