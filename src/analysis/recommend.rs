//! Faster-detection alternatives for one LB: the gentlest single change, within the provider's
//! accepted ranges, that passes the current shutdown delay with the required margin.

use crate::analysis::exact::extremes;
use crate::provider::{azure, Family, ProbeModel, Protocol, Relation, Schedule};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;

/// One alternative setting, e.g. `interval = 4s (timeout 4s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// The setting to change.
    pub key: &'static str,
    /// Its new value.
    pub value: String,
    /// Worst case with the change.
    pub worst: Micros,
}

fn passes(sc: &Scenario, m: &ProbeModel) -> Option<Micros> {
    let worst = extremes(&sc.server, m).worst.time;
    (worst + sc.min_margin <= sc.server.timeline().budget()).then_some(worst)
}

fn duration_range(lb: &LbSpec, key: &str, fallback: Micros) -> Micros {
    lb.limits.durations.get(key).map_or(fallback, |r| r[0])
}

/// Alternatives that pass, gentlest first: a lower threshold, then a shorter interval.
pub fn alternatives(sc: &Scenario, lb: &LbSpec) -> Vec<Alternative> {
    let mut out = Vec::new();
    if !lb.model.view.sees_readiness {
        return out;
    }
    let (thr_key, min_thr) = match lb.family {
        Family::Aws | Family::Gcp => (
            "unhealthy_threshold",
            lb.limits.counts.get("unhealthy_threshold").map_or(1, |r| r[0]),
        ),
        Family::Azure => ("probe_threshold", 1),
        Family::Haproxy => ("fall", 1),
    };
    for u in (min_thr..lb.model.threshold).rev() {
        let mut m = lb.model;
        m.threshold = u;
        if let Some(worst) = passes(sc, &m) {
            out.push(Alternative {
                key: thr_key,
                value: u.to_string(),
                worst,
            });
            break;
        }
    }
    match lb.model.schedule {
        Schedule::FixedRate { interval } => {
            let key = if lb.family == Family::Gcp {
                "check_interval"
            } else {
                "interval"
            };
            let min_i = duration_range(lb, key, Micros::from_secs(1));
            let min_t = duration_range(lb, "timeout", Micros::from_secs(1));
            let mut i = Micros::from_secs(interval.0 / 1_000_000 - 1);
            while i >= min_i && i > Micros::ZERO {
                let mut m = lb.model;
                m.schedule = Schedule::FixedRate { interval: i };
                m.view.timeout = match lb.family {
                    Family::Azure => {
                        azure::effective_timeout(lb.settings.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value), i)
                    }
                    _ => match lb.limits.timeout_vs_interval {
                        Some(Relation::LessThan) if m.view.timeout >= i => i - Micros::from_secs(1),
                        _ => m.view.timeout.min(i),
                    },
                };
                m.view.timeout_min = m.view.timeout;
                if m.view.timeout >= min_t && sc.server.response_time < m.view.timeout {
                    if let Some(worst) = passes(sc, &m) {
                        let value = if lb.family == Family::Azure {
                            i.to_string()
                        } else {
                            format!("{i} (timeout {})", m.view.timeout)
                        };
                        out.push(Alternative { key, value, worst });
                        break;
                    }
                }
                i = i - Micros::from_secs(1);
            }
        }
        Schedule::CompletionRelative {
            inter,
            fastinter,
            downinter,
            spread_pct,
        } => {
            let step = Micros::from_millis(100);
            let mut f = Micros::from_millis(fastinter.0 / 1_000 / 100 * 100) - step;
            while f >= step {
                let mut m = lb.model;
                m.schedule = Schedule::CompletionRelative {
                    inter,
                    fastinter: f,
                    downinter,
                    spread_pct,
                };
                if let Some(worst) = passes(sc, &m) {
                    out.push(Alternative {
                        key: "fastinter",
                        value: f.to_string(),
                        worst,
                    });
                    break;
                }
                f = f - step;
            }
        }
    }
    out
}
