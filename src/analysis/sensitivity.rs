//! Which figure each assumed setting changes, derived from the model once for every output
//! (`simulate`, `report`): each numeric setting is moved both ways on the probe model it sets and
//! the figures are recomputed (exact worst and best case, probe load, re-admission, and a short
//! Monte Carlo run with the same seed for the sampled figures); a setting that only decides what
//! the check sees (protocol, path, matcher) is said with what it decides.

use super::exact::extremes_with;
use super::failopen::{health_readmission, readmission_propagation};
use super::montecarlo::{sample, SimulateOptions};
use crate::provider::Schedule;
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::ReadyzFailure;
use serde::Serialize;

/// A figure an assumed setting can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// The exact worst case (and with it the verdict).
    WorstCase,
    /// The exact best case.
    BestCase,
    /// The sampled figures: percentiles, P(violation), failed requests.
    Sampled,
    /// Probes per second on each backend.
    ProbeLoad,
    /// The time until a restarted replica is routed to again (rolling restart).
    Readmission,
}

impl Figure {
    fn words(self) -> &'static str {
        match self {
            Figure::WorstCase => "the exact worst case",
            Figure::BestCase => "the best case",
            Figure::Sampled => "the sampled figures",
            Figure::ProbeLoad => "the probe load",
            Figure::Readmission => "the re-admission time",
        }
    }

    /// The figure's name in a table cell.
    pub fn short(self) -> &'static str {
        match self {
            Figure::WorstCase => "worst case",
            Figure::BestCase => "best case",
            Figure::Sampled => "sampled",
            Figure::ProbeLoad => "probe load",
            Figure::Readmission => "re-admission",
        }
    }
}

/// What a setting that decides what the check sees decides here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decides {
    /// The check sees the readiness endpoint fail: no figure depends on the value while it does.
    Sees,
    /// The check is blind to it (GL003): every figure depends on the value.
    Blind,
    /// The readiness endpoint hangs when failing: the matcher is never consulted.
    NeverConsulted,
    /// The matcher rejects the failing status: no figure depends on it while it does.
    Rejects,
    /// The matcher accepts the failing status (GL003): every figure depends on it.
    Accepts,
}

/// One assumed value and what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effect {
    /// The setting's name.
    pub setting: String,
    /// Its value as used.
    pub value: String,
    /// Where the value comes from.
    pub source: String,
    /// The figures a different value would change (empty: none).
    pub changes: Vec<Figure>,
    /// For a setting that decides what the check sees: what it decides here.
    pub decides: Option<Decides>,
    /// The readiness path, for the words.
    #[serde(skip)]
    pub readiness_path: String,
}

impl Effect {
    /// What the value changes, in words (the same in every output).
    pub fn words(&self) -> String {
        let rp = &self.readiness_path;
        let status = crate::provider::matcher::READYZ_FAILURE_STATUS;
        match self.decides {
            Some(Decides::Sees) => {
                return format!("decides whether the check sees {rp} failing: it does, so no figure depends on it while that holds")
            }
            Some(Decides::Blind) => {
                return format!("decides whether the check sees {rp} failing: it does not (GL003), so every figure depends on it")
            }
            Some(Decides::NeverConsulted) => {
                return format!("changes no figure here: a failing {rp} never answers, so the matcher is never consulted")
            }
            Some(Decides::Rejects) => {
                return format!("changes no figure while it rejects the status a failing {rp} answers ({status})")
            }
            Some(Decides::Accepts) => {
                return format!("accepts the status a failing {rp} answers, so the check is blind to it (GL003) and every figure depends on it")
            }
            None => {}
        }
        match self.changes.as_slice() {
            [] => "changes no figure here".to_string(),
            [one] => format!("changes {}", one.words()),
            many => {
                let (last, rest) = many.split_last().expect("two or more");
                let rest: Vec<&str> = rest.iter().map(|f| f.words()).collect();
                format!("changes {} and {}", rest.join(", "), last.words())
            }
        }
    }

    /// The same in a table cell: the figures it changes, or what it decides.
    pub fn short(&self) -> String {
        let status = crate::provider::matcher::READYZ_FAILURE_STATUS;
        match self.decides {
            Some(Decides::Sees) => format!("none while the check sees {} fail", self.readiness_path),
            Some(Decides::Blind) | Some(Decides::Accepts) => "all: the check is blind (GL003)".to_string(),
            Some(Decides::NeverConsulted) => "none: never consulted".to_string(),
            Some(Decides::Rejects) => format!("none while it rejects {status}"),
            None if self.changes.is_empty() => "none".to_string(),
            None => self.changes.iter().map(|f| f.short()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// Trials of the Monte Carlo run that tells whether the sampled figures move.
const PROBE_TRIALS: u64 = 2_048;

/// Every assumed value of `lb` (the profile's declared assumptions and its defaults used) with
/// what it changes in `sc`.
pub fn effects(sc: &Scenario, lb: &LbSpec) -> Vec<Effect> {
    // A server without `check`: no check setting shapes any figure (as `check` says).
    if super::is_unchecked(lb) {
        return Vec::new();
    }
    super::assumed_values(lb)
        .into_iter()
        .map(|(setting, value, source)| {
            let decides = decides(sc, lb, &setting);
            Effect {
                changes: if decides.is_some() {
                    Vec::new()
                } else {
                    changes(sc, lb, &setting)
                },
                setting,
                value,
                source,
                decides,
                readiness_path: sc.server.readiness_path.clone(),
            }
        })
        .collect()
}

/// What a different value of `key` would change, for any setting the model holds (`None` for a
/// setting it does not vary, such as `connection_termination`).
pub fn effect_of(sc: &Scenario, lb: &LbSpec, key: &str) -> Option<Effect> {
    let decides = decides(sc, lb, key);
    if decides.is_none() && variants(lb, key).is_empty() {
        return None;
    }
    Some(Effect {
        setting: key.to_string(),
        value: String::new(),
        source: String::new(),
        changes: if decides.is_some() {
            Vec::new()
        } else {
            changes(sc, lb, key)
        },
        decides,
        readiness_path: sc.server.readiness_path.clone(),
    })
}

/// The figures that move when `key` is moved both ways on the model.
pub fn changes(sc: &Scenario, lb: &LbSpec, key: &str) -> Vec<Figure> {
    if super::is_unchecked(lb) {
        return Vec::new();
    }
    let lat = lb.latency_range(&sc.server);
    let base = extremes_with(&sc.server, &lb.model, lat);
    let response = sc.server.response_time;
    let base_samples = samples(sc, lb);
    let mut out = Vec::new();
    for v in variants(lb, key) {
        // A variant the loader would refuse (an answer that no longer fits) proves nothing.
        if lat.hi >= v.model.view.timeout
            || matches!(v.model.schedule, Schedule::FixedRate { interval } if lat.hi >= interval)
        {
            continue;
        }
        let e = extremes_with(&sc.server, &v.model, lat);
        let sampled_known = out.contains(&Figure::Sampled);
        let mut add = |f: Figure, moved: bool| {
            if moved && !out.contains(&f) {
                out.push(f);
            }
        };
        add(Figure::WorstCase, e.worst.time != base.worst.time);
        add(Figure::BestCase, e.best.time != base.best.time);
        add(
            Figure::ProbeLoad,
            v.model.probes_per_second(lat.lo) != lb.model.probes_per_second(lat.lo),
        );
        add(
            Figure::Readmission,
            health_readmission(&v.model, response) + readmission_propagation(sc, &v)
                != health_readmission(&lb.model, response) + readmission_propagation(sc, lb),
        );
        add(Figure::Sampled, !sampled_known && samples(sc, &v) != base_samples);
    }
    out.sort();
    out
}

/// A short Monte Carlo run of `lb` against the scenario's server, the same seed every time.
fn samples(sc: &Scenario, lb: &LbSpec) -> Vec<Micros> {
    let one = Scenario {
        lbs: vec![lb.clone()],
        ..sc.clone()
    };
    let opts = SimulateOptions {
        trials: PROBE_TRIALS,
        seed: 0,
    };
    sample(&one, 0, &opts, &|_| {}).values
}

/// The load balancer with `key` moved up and down on its model (a duration doubled and halved, a
/// count one more and one less); none for a key the model does not hold.
fn variants(lb: &LbSpec, key: &str) -> Vec<LbSpec> {
    let m = lb.model;
    let durations = |d: Micros| [Micros(d.0 * 2), Micros((d.0 / 2).max(1_000))];
    let counts = |n: u32| [n + 1, n.saturating_sub(1).max(1)];
    let with = |f: &dyn Fn(&mut LbSpec)| {
        let mut v = lb.clone();
        f(&mut v);
        v
    };
    let mut out = Vec::new();
    match key {
        "interval" | "check_interval" | "inter" | "fastinter" | "downinter" => {
            for k in [0, 1] {
                out.push(with(&|v: &mut LbSpec| {
                    v.model.schedule = match m.schedule {
                        Schedule::FixedRate { interval } => Schedule::FixedRate {
                            interval: durations(interval)[k],
                        },
                        Schedule::CompletionRelative {
                            inter,
                            fastinter,
                            downinter,
                            spread_pct,
                        } => {
                            let pick = |name: &str, d: Micros| if key == name { durations(d)[k] } else { d };
                            // Without `timeout check` HAProxy's probe timeout is `inter`.
                            if key == "inter" && m.view.timeout == inter {
                                v.model.view.timeout = durations(inter)[k];
                                v.model.view.timeout_min = v.model.view.timeout.min(m.view.timeout_min);
                            }
                            Schedule::CompletionRelative {
                                inter: pick("inter", inter),
                                fastinter: pick("fastinter", fastinter),
                                downinter: pick("downinter", downinter),
                                spread_pct,
                            }
                        }
                    };
                }));
            }
        }
        "timeout" | "timeout_check" | "timeout_connect" => {
            for t in durations(m.view.timeout) {
                out.push(with(&|v: &mut LbSpec| {
                    v.model.view.timeout = t;
                    v.model.view.timeout_min = if m.view.timeout_min == m.view.timeout {
                        t
                    } else {
                        m.view.timeout_min.min(t)
                    };
                }));
            }
        }
        "unhealthy_threshold" | "probe_threshold" | "fall" => {
            for n in counts(m.threshold) {
                // Through the provider, which knows what else a threshold sets (Azure: rise).
                out.push(with(&|v: &mut LbSpec| {
                    let mut st = super::recommend::current_setting(lb);
                    st.threshold = n;
                    v.model = super::recommend::apply(lb, &st);
                }));
            }
        }
        "healthy_threshold" | "rise" => {
            for n in counts(m.rise) {
                out.push(with(&|v: &mut LbSpec| v.model.rise = n));
            }
        }
        "probers" | "zones" => {
            for n in counts(m.probers) {
                out.push(with(&|v: &mut LbSpec| {
                    v.model.probers = n;
                    v.probers.hi = n;
                    v.probers.lo = v.probers.lo.min(n);
                }));
            }
        }
        "propagation_delay" => {
            let p = m.propagation;
            let grow = |d: Micros| {
                if d == Micros::ZERO {
                    Micros::from_secs(1)
                } else {
                    Micros(d.0 * 2)
                }
            };
            for (lo, hi) in [(p.lo, grow(p.hi)), (grow(p.lo), p.hi.max(grow(p.lo)))] {
                out.push(with(&|v: &mut LbSpec| {
                    // As if measured: a measured figure replaces every tier, so the re-admission
                    // (which takes the typical tier) follows it too.
                    let range = crate::provider::Propagation { lo, hi };
                    v.model.propagation = range;
                    v.settings.propagation_delay = Some(crate::provider::Located {
                        value: range,
                        loc: v.loc.clone(),
                        from_profile: false,
                    });
                }));
            }
        }
        _ => {}
    }
    out
}

/// What a setting that decides what the check sees decides here (`None` for the others).
fn decides(sc: &Scenario, lb: &LbSpec, key: &str) -> Option<Decides> {
    let view = lb.model.view;
    let modes = sc.server.readyz_failure.concrete();
    let sees = modes.iter().all(|&m| view.sees(m));
    match key {
        "protocol" | "path" | "port" => Some(if sees { Decides::Sees } else { Decides::Blind }),
        "matcher" if !modes.contains(&ReadyzFailure::Error) => Some(Decides::NeverConsulted),
        "matcher" if view.accepts_readyz_error => Some(Decides::Accepts),
        "matcher" => Some(Decides::Rejects),
        _ => None,
    }
}

/// What the Monte Carlo draws at random for LB `lb_index` of `sc`, in words (`simulate`, `report`).
pub fn randomness(sc: &Scenario, lb_index: usize) -> String {
    let lb = &sc.lbs[lb_index];
    if let Some(t) = crate::analysis::unchecked_until(sc, lb) {
        return format!(
            "nothing: no check exists, every sample is E5 - E2 + startup = {t}; {}",
            crate::analysis::unchecked_words(lb)
        );
    }
    let mut parts = Vec::new();
    parts.push(if lb.probers.lo == lb.probers.hi {
        format!("phase of {} prober(s)", lb.probers.hi)
    } else {
        format!("{}-{} probers and their phases", lb.probers.lo, lb.probers.hi)
    });
    match &lb.latency {
        Some(l) => {
            let r = l.range();
            parts.push(format!("latency per probe ({} to {})", r.lo, r.hi));
        }
        None => parts.push(format!("latency fixed at {}", sc.server.response_time)),
    }
    if let crate::provider::Schedule::CompletionRelative { spread_pct, .. } = lb.model.schedule {
        if spread_pct > 0 {
            parts.push(format!("spread-checks jitter ±{spread_pct}%"));
        }
    }
    if lb.model.propagation.lo < lb.model.propagation.hi {
        parts.push(format!(
            "propagation uniform over {} to {}",
            lb.model.propagation.lo, lb.model.propagation.hi
        ));
    }
    if sc.server.readyz_failure == crate::timeline::ReadyzFailure::Either {
        parts.push(format!(
            "failure mode (timeout with p = {})",
            sc.readyz_timeout_probability
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn effect(text: &str, key: &str) -> Effect {
        let sc = load_str("t.toml", text).unwrap();
        effects(&sc, &sc.lbs[0])
            .into_iter()
            .find(|e| e.setting == key)
            .or_else(|| effect_of(&sc, &sc.lbs[0], key))
            .unwrap_or_else(|| panic!("{key} neither assumed nor varied"))
    }

    const NLB: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\ntermination_grace_period = \"200s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

    #[test]
    fn each_assumed_value_says_what_it_changes() {
        use Figure::*;
        // The examples: propagation, interval and timeout change the worst case; the
        // prober count only the sampled figures and the load; the healthy threshold only the
        // re-admission; the matcher nothing while it rejects the failing status.
        assert_eq!(
            effect(NLB, "propagation_delay").changes,
            [WorstCase, BestCase, Sampled, Readmission]
        );
        assert_eq!(
            effect(NLB, "interval").changes,
            [WorstCase, BestCase, Sampled, ProbeLoad, Readmission]
        );
        // A hanging /readyz: every failing probe lasts the timeout.
        assert!(effect(NLB, "timeout").changes.contains(&WorstCase));
        assert_eq!(effect(NLB, "probers").changes, [Sampled, ProbeLoad]);
        assert_eq!(effect(NLB, "healthy_threshold").changes, [Readmission]);
        assert_eq!(effect(NLB, "unhealthy_threshold").changes[0], WorstCase);
        let m = effect(&NLB.replace("\"timeout\"", "\"error\""), "matcher");
        assert!(m.changes.is_empty());
        assert!(
            m.words().starts_with("changes no figure while it rejects"),
            "{}",
            m.words()
        );
        assert!(effect(NLB, "matcher").words().contains("never consulted"));
        assert_eq!(
            effect(NLB, "healthy_threshold").words(),
            "changes the re-admission time"
        );
        assert_eq!(
            effect(NLB, "probers").words(),
            "changes the sampled figures and the probe load"
        );
    }

    #[test]
    fn an_error_answer_makes_the_timeout_irrelevant_to_detection() {
        // /readyz answers 500 at once: no failing probe waits for the timeout.
        let text = NLB.replace("\"timeout\"", "\"error\"");
        let t = effect(&text, "timeout");
        assert!(!t.changes.contains(&Figure::WorstCase), "{:?}", t.changes);
    }
}
