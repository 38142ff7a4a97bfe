//! Probe response latency per load balancer (`[lb.latency]`): how long a pass, a 5xx or a refused
//! connection takes to come back to the prober. `check` ranges over its whole support; `simulate`
//! draws one latency per probe.
//!
//! ```toml
//! [lb.latency]
//! distribution = "lognormal"   # or "constant" (value) or "uniform" (min, max)
//! median = "5ms"
//! p99 = "50ms"
//! max = "1s"                   # optional: draws above are clamped to it (default: the 99.99th percentile)
//! ```

use super::{ProbeModel, Schedule};
use crate::error::{Doc, InputError};
use crate::time::Micros;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, LogNormal, Normal};
use toml::Spanned;

/// An `[lb.latency]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyRaw {
    /// `constant`, `uniform` or `lognormal`.
    pub distribution: Option<Spanned<String>>,
    /// `constant`: the latency.
    pub value: Option<Spanned<Micros>>,
    /// `uniform`: the fastest answer.
    pub min: Option<Spanned<Micros>>,
    /// `uniform`: the slowest answer; `lognormal`: the clamp for the tail.
    pub max: Option<Spanned<Micros>>,
    /// `lognormal`: the median.
    pub median: Option<Spanned<Micros>>,
    /// `lognormal`: the 99th percentile.
    pub p99: Option<Spanned<Micros>>,
}

/// The inclusive range of probe response latencies (pass, 5xx or refusal) the extremes range over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatencyRange {
    /// Fastest answer.
    pub lo: Micros,
    /// Slowest answer.
    pub hi: Micros,
}

impl LatencyRange {
    /// Every probe answered after exactly `m`.
    pub fn fixed(m: Micros) -> Self {
        LatencyRange { lo: m, hi: m }
    }
}

/// Quantile that bounds a log-normal's tail when `max` is not given.
pub const DEFAULT_TAIL_QUANTILE: f64 = 0.9999;

/// A resolved latency distribution, in whole microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always the same.
    Constant(Micros),
    /// Uniform over whole microseconds in `[min, max]`.
    Uniform {
        /// Fastest.
        min: Micros,
        /// Slowest.
        max: Micros,
    },
    /// Log-normal in microseconds (`ln L ~ N(mu, sigma²)`), rounded, clamped to `max`.
    LogNormal {
        /// Location (ln of the median in µs).
        mu: f64,
        /// Scale.
        sigma: f64,
        /// Clamp for the tail.
        max: Micros,
    },
}

impl Latency {
    /// The support `[fastest, slowest]` that `check` ranges over.
    pub fn range(&self) -> LatencyRange {
        match *self {
            Latency::Constant(v) => LatencyRange::fixed(v),
            Latency::Uniform { min, max } => LatencyRange { lo: min, hi: max },
            Latency::LogNormal { max, .. } => LatencyRange {
                lo: Micros::ZERO,
                hi: max,
            },
        }
    }

    /// A sampler that draws one latency per call.
    pub fn sampler(&self) -> LatencySampler {
        LatencySampler {
            spec: *self,
            lognormal: match *self {
                Latency::LogNormal { mu, sigma, .. } => {
                    Some(LogNormal::new(mu, sigma).expect("validated: sigma > 0 and finite"))
                }
                _ => None,
            },
        }
    }
}

/// Draws latencies from a [`Latency`] (statrs' ziggurat for the log-normal).
#[derive(Debug, Clone)]
pub struct LatencySampler {
    spec: Latency,
    lognormal: Option<LogNormal>,
}

impl LatencySampler {
    /// One latency.
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        match self.spec {
            Latency::Constant(v) => v,
            Latency::Uniform { min, max } => Micros(rng.random_range(min.0..=max.0)),
            Latency::LogNormal { max, .. } => {
                let d = self.lognormal.as_ref().expect("built with the spec");
                let x: f64 = rand::distr::Distribution::sample(d, rng);
                // Saturating float-to-int cast; then clamp to the tail bound.
                Micros((x.round() as i64).clamp(0, max.0))
            }
        }
    }
}

/// Resolves and validates an `[lb.latency]` table against the LB's probe model; `field` is the
/// table's dotted name (`lb[0].latency`).
pub fn resolve(raw: &Spanned<LatencyRaw>, model: &ProbeModel, doc: &Doc, field: &str) -> Result<Latency, InputError> {
    let r = raw.get_ref();
    let table = doc.loc(raw.span().start);
    let err = |span: Option<std::ops::Range<usize>>, key: &str, msg: String| {
        InputError::new(
            span.map_or_else(|| table.clone(), |s| doc.loc(s.start)),
            format!("{field}.{key}"),
            msg,
        )
    };
    let need = |v: &Option<Spanned<Micros>>, key: &str, kind: &str| {
        v.as_ref()
            .map(|v| *v.get_ref())
            .ok_or_else(|| err(None, key, format!("is required for distribution = \"{kind}\"")))
    };
    let forbid = |pairs: &[(&Option<Spanned<Micros>>, &str)], kind: &str| -> Result<(), InputError> {
        for (v, key) in pairs {
            if let Some(v) = v {
                return Err(err(
                    Some(v.span()),
                    key,
                    format!("is not a setting of distribution = \"{kind}\""),
                ));
            }
        }
        Ok(())
    };
    let Some(dist) = &r.distribution else {
        return Err(err(
            None,
            "distribution",
            "is required: \"constant\", \"uniform\" or \"lognormal\"".into(),
        ));
    };
    let (spec, slowest_key, slowest_span) = match dist.get_ref().as_str() {
        "constant" => {
            forbid(
                &[(&r.min, "min"), (&r.max, "max"), (&r.median, "median"), (&r.p99, "p99")],
                "constant",
            )?;
            let v = need(&r.value, "value", "constant")?;
            (Latency::Constant(v), "value", r.value.as_ref().map(|v| v.span()))
        }
        "uniform" => {
            forbid(
                &[(&r.value, "value"), (&r.median, "median"), (&r.p99, "p99")],
                "uniform",
            )?;
            let min = need(&r.min, "min", "uniform")?;
            let max = need(&r.max, "max", "uniform")?;
            if max < min {
                return Err(err(
                    r.max.as_ref().map(|v| v.span()),
                    "max",
                    format!("must be at least min ({min}), got {max}"),
                ));
            }
            (Latency::Uniform { min, max }, "max", r.max.as_ref().map(|v| v.span()))
        }
        "lognormal" => {
            forbid(&[(&r.value, "value"), (&r.min, "min")], "lognormal")?;
            let median = need(&r.median, "median", "lognormal")?;
            let p99 = need(&r.p99, "p99", "lognormal")?;
            if median <= Micros::ZERO {
                return Err(err(
                    r.median.as_ref().map(|v| v.span()),
                    "median",
                    "must be positive, got 0s".into(),
                ));
            }
            if p99 <= median {
                return Err(err(
                    r.p99.as_ref().map(|v| v.span()),
                    "p99",
                    format!("must be above the median ({median}), got {p99}"),
                ));
            }
            let z99 = Normal::standard().inverse_cdf(0.99);
            let mu = (median.0 as f64).ln();
            let sigma = ((p99.0 as f64).ln() - mu) / z99;
            let max = match &r.max {
                Some(m) => {
                    if *m.get_ref() < p99 {
                        return Err(err(
                            Some(m.span()),
                            "max",
                            format!("must be at least p99 ({p99}), got {}", m.get_ref()),
                        ));
                    }
                    *m.get_ref()
                }
                None => {
                    let z = Normal::standard().inverse_cdf(DEFAULT_TAIL_QUANTILE);
                    Micros((mu + sigma * z).exp().ceil() as i64)
                }
            };
            (
                Latency::LogNormal { mu, sigma, max },
                if r.max.is_some() { "max" } else { "p99" },
                r.max.as_ref().or(r.p99.as_ref()).map(|v| v.span()),
            )
        }
        other => {
            return Err(err(
                Some(dist.span()),
                "distribution",
                format!("unknown distribution \"{other}\"; use \"constant\", \"uniform\" or \"lognormal\""),
            ))
        }
    };
    let slowest = spec.range().hi;
    let timeout = model.view.timeout;
    if slowest >= timeout {
        return Err(err(
            slowest_span,
            slowest_key,
            format!(
                "the slowest answer ({slowest}) must be below the probe timeout ({timeout}); a slower answer is a timeout, not a latency"
            ),
        ));
    }
    if let Schedule::FixedRate { interval } = model.schedule {
        if slowest >= interval {
            return Err(err(
                slowest_span,
                slowest_key,
                format!("the slowest answer ({slowest}) must be below the interval ({interval})"),
            ));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let z99 = Normal::standard().inverse_cdf(0.99);
        let mu = 5_000f64.ln();
        let sigma = (50_000f64.ln() - mu) / z99;
        let l = Latency::LogNormal {
            mu,
            sigma,
            max: Micros::from_secs(1),
        };
        let s = l.sampler();
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut v: Vec<i64> = (0..200_000).map(|_| s.draw(&mut rng).0).collect();
        v.sort_unstable();
        let median = v[v.len() / 2] as f64;
        let p99 = v[v.len() * 99 / 100] as f64;
        assert!((median / 5_000.0 - 1.0).abs() < 0.02, "median {median}");
        assert!((p99 / 50_000.0 - 1.0).abs() < 0.05, "p99 {p99}");
        assert!(v.iter().all(|&x| (0..=1_000_000).contains(&x)));
    }

    #[test]
    fn uniform_and_constant_stay_in_range() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        let u = Latency::Uniform {
            min: Micros(10),
            max: Micros(20),
        }
        .sampler();
        let v: Vec<i64> = (0..1000).map(|_| u.draw(&mut rng).0).collect();
        assert!(v.iter().all(|x| (10..=20).contains(x)));
        assert!(v.contains(&10) && v.contains(&20));
        assert_eq!(Latency::Constant(Micros(7)).sampler().draw(&mut rng), Micros(7));
    }
}
