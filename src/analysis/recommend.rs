//! Recommendations for one LB: the gentlest single change that passes (used by GL001), the smallest
//! shutdown delay that passes as configured, and a parallel search of the provider's whole valid
//! grid of check settings for the least probe load that passes and the Pareto front of worst case
//! against probe load.

use crate::analysis::exact::{extremes_with, unbounded_worst_with};
pub use crate::provider::{Grid, Setting};
use crate::provider::{ProbeModel, Schedule};
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::ReadyzOnset;

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

fn passes(sc: &Scenario, lb: &LbSpec, m: &ProbeModel) -> Option<Micros> {
    let worst = extremes_with(&sc.server, m, lb.latency_range(&sc.server)).worst.time;
    (worst + sc.min_margin <= sc.server.timeline().budget()).then_some(worst)
}

fn duration_range(lb: &LbSpec, key: &str, fallback: Micros) -> Micros {
    lb.limits.durations.get(key).map_or(fallback, |r| r[0])
}

/// Largest `v` in `lo..=hi` whose `ok(v)` passes, by bisection: detection only gets slower as a
/// threshold or interval grows, so the passing values form a prefix. O(log(hi - lo)) evaluations.
fn largest(lo: i64, hi: i64, ok: impl Fn(i64) -> Option<Micros>) -> Option<(i64, Micros)> {
    if lo > hi {
        return None;
    }
    let (mut good, mut good_worst) = (lo, ok(lo)?);
    let mut bad = hi + 1;
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        match ok(mid) {
            Some(w) => (good, good_worst) = (mid, w),
            None => bad = mid,
        }
    }
    Some((good, good_worst))
}

/// Alternatives that pass, gentlest first: a lower threshold, then a shorter interval; only
/// settings `recommend` would propose with its default options (no threshold of 1 with a probe
/// timeout of 2 s or less, see [`RecommendOptions::admits`]).
pub fn alternatives(sc: &Scenario, lb: &LbSpec) -> Vec<Alternative> {
    alternatives_with(sc, lb, &RecommendOptions::default())
}

/// [`alternatives`] among the settings `opts` admits: the passing values of a threshold or an
/// interval form a prefix and the admitted ones a suffix, so the gentlest passing value is the
/// only candidate.
pub fn alternatives_with(sc: &Scenario, lb: &LbSpec, opts: &RecommendOptions) -> Vec<Alternative> {
    let mut out = Vec::new();
    if !lb.model.view.sees_readiness {
        return out;
    }
    let base = current_setting(lb);
    let thr_key = lb.provider.threshold_key();
    let min_thr = lb.limits.counts.get(thr_key).map_or(1, |r| r[0]);
    let threshold = |u: i64| {
        let mut m = lb.model;
        m.threshold = u as u32;
        passes(sc, lb, &m)
    };
    let min_thr = min_thr.max(opts.min_threshold);
    if let Some((u, worst)) = largest(i64::from(min_thr), i64::from(lb.model.threshold) - 1, threshold) {
        let st = Setting {
            threshold: u as u32,
            ..base
        };
        if opts.admits(&st) {
            out.push(Alternative {
                key: thr_key,
                value: u.to_string(),
                worst,
            });
        }
    }
    match lb.model.schedule {
        Schedule::FixedRate { interval } => {
            let key = lb.provider.interval_key();
            let min_i = duration_range(lb, key, Micros::from_secs(1));
            let min_t = duration_range(lb, "timeout", Micros::from_secs(1));
            let with_interval = |i: Micros| {
                let mut m = lb.model;
                m.schedule = Schedule::FixedRate { interval: i };
                m.view.timeout = lb
                    .provider
                    .timeout_at_interval(&lb.settings, &lb.limits, m.view.timeout, i);
                m.view.timeout_min = m.view.timeout;
                m
            };
            let valid = |m: &ProbeModel| m.view.timeout >= min_t && sc.server.response_time < m.view.timeout;
            let ok = |secs: i64| {
                let m = with_interval(Micros::from_secs(secs));
                if valid(&m) {
                    passes(sc, lb, &m)
                } else {
                    None
                }
            };
            let smallest = ((min_i.0 + 999_999) / 1_000_000).max(1);
            let smallest = (smallest..smallest + 3)
                .find(|&i| valid(&with_interval(Micros::from_secs(i))))
                .unwrap_or(smallest);
            if let Some((secs, worst)) = largest(smallest, interval.0 / 1_000_000 - 1, ok) {
                let m = with_interval(Micros::from_secs(secs));
                let st = Setting {
                    interval: Micros::from_secs(secs),
                    timeout: m.view.timeout,
                    ..base
                };
                if opts.admits(&st) {
                    let value = lb.provider.interval_words(Micros::from_secs(secs), m.view.timeout);
                    out.push(Alternative { key, value, worst });
                }
            }
        }
        Schedule::CompletionRelative {
            inter,
            fastinter,
            downinter,
            spread_pct,
        } => {
            let step = Micros::from_millis(100);
            let ok = |k: i64| {
                let mut m = lb.model;
                m.schedule = Schedule::CompletionRelative {
                    inter,
                    fastinter: step.times(k),
                    downinter,
                    spread_pct,
                };
                passes(sc, lb, &m)
            };
            let admitted = opts.admits(&base);
            if let Some((k, worst)) = largest(1, fastinter.0 / step.0 - 1, ok).filter(|_| admitted) {
                out.push(Alternative {
                    key: "fastinter",
                    value: step.times(k).to_string(),
                    worst,
                });
            }
        }
    }
    out
}

/// A setting with its exact worst case and probe load.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The setting.
    pub setting: Setting,
    /// Exact worst case (detection + propagation) from E2.
    pub worst: Micros,
    /// Probes per second on one backend, all probers together.
    pub probes_per_second: f64,
    /// Steady-state start-to-start period of one prober (the load is `probers / period`).
    pub period: Micros,
}

/// Everything `recommend` says about one LB.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// LB name.
    pub lb: String,
    /// LB profile.
    pub provider: String,
    /// E3 − E2 with the current delay.
    pub budget: Micros,
    /// Required margin (`[analysis] min_margin`).
    pub min_margin: Micros,
    /// The current setting, its worst case and load.
    pub current: Candidate,
    /// Smallest `shutdown_delay` that passes with the margin, if a delay can help at all.
    pub min_shutdown_delay: Option<Micros>,
    /// `termination_grace_period` that this delay (or the current one, if longer) needs to drain:
    /// prestop + readyz_fail_after + delay + request_grace (+ 2 s under send-retry-after).
    pub termination_grace_period_needed: Option<Micros>,
    /// Why no delay or setting helps, if so.
    pub note: Option<String>,
    /// The grid searched.
    pub grid: String,
    /// Valid settings evaluated.
    pub evaluated: usize,
    /// Among settings that pass the current delay with the margin: the least probe load (ties: the
    /// smallest worst case).
    pub least_load: Option<Candidate>,
    /// Settings no other beats on both worst case and probe load, least load first.
    pub pareto: Vec<Candidate>,
    /// A server without `check`: nothing was searched, `current.worst` is when it is back.
    pub unchecked: bool,
}

/// The provider-valid grid for an LB (see each provider's [`crate::provider::Provider::grid`]): every whole-second
/// interval, timeout and threshold within the profile's `[limits]` and timeout/interval relation
/// (Azure: timeout derived, interval capped); HAProxy: `inter` and `fastinter` in 100 ms steps up
/// to 10 s, `fall` 1-10, `timeout check` as configured (else `inter`).
pub fn grid(lb: &LbSpec) -> Grid {
    lb.provider.grid(&lb.settings, &lb.limits)
}

/// The LB's probe model with `s` applied.
pub fn apply(lb: &LbSpec, s: &Setting) -> ProbeModel {
    lb.provider.apply(lb.model, s)
}

/// The current setting of an LB.
pub fn current_setting(lb: &LbSpec) -> Setting {
    let m = &lb.model;
    let (interval, fastinter) = match m.schedule {
        Schedule::FixedRate { interval } => (interval, interval),
        Schedule::CompletionRelative { inter, fastinter, .. } => (inter, fastinter),
    };
    Setting {
        interval,
        timeout: m.view.timeout,
        timeout_min: m.view.timeout_min,
        threshold: m.threshold,
        fastinter,
    }
}

/// Evaluates one setting: `None` when the server's answers could not fit in its timeout (or
/// interval), which the loader would reject.
pub fn evaluate(sc: &Scenario, lb: &LbSpec, s: &Setting) -> Option<Candidate> {
    if !evaluate_ok(sc, lb, s) {
        return None;
    }
    let lat = lb.latency_range(&sc.server);
    let m = apply(lb, s);
    let period = match m.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative { inter, .. } => inter + lat.lo,
    };
    Some(Candidate {
        setting: *s,
        worst: extremes_with(&sc.server, &m, lat).worst.time,
        probes_per_second: m.probes_per_second(lat.lo),
        period,
    })
}

fn passes_with_margin(sc: &Scenario, worst: Micros) -> bool {
    let budget = sc.server.timeline().budget();
    worst < budget && budget - worst >= sc.min_margin
}

/// Which thresholds `recommend` may propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecommendOptions {
    /// Smallest unhealthy threshold proposed (`--min-threshold`).
    pub min_threshold: u32,
    /// Also propose a threshold of 1 with a probe timeout of 2 s or less (`--allow-single-failure`):
    /// one slow probe would then take a healthy server out.
    pub allow_single_failure: bool,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        RecommendOptions {
            min_threshold: 1,
            allow_single_failure: false,
        }
    }
}

/// Longest probe timeout at which a single failure is not proposed by default.
pub const SINGLE_FAILURE_TIMEOUT: Micros = Micros::from_secs(2);

impl RecommendOptions {
    /// True when `s` may be proposed.
    pub fn admits(&self, s: &Setting) -> bool {
        s.threshold >= self.min_threshold
            && (self.allow_single_failure || s.threshold > 1 || s.timeout > SINGLE_FAILURE_TIMEOUT)
    }

    /// What the options leave out, in words (empty when nothing).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.min_threshold > 1 {
            parts.push(format!(
                "thresholds below {} left out (--min-threshold)",
                self.min_threshold
            ));
        }
        if !self.allow_single_failure && self.min_threshold <= 1 {
            parts.push(format!(
                "a threshold of 1 with a probe timeout of {SINGLE_FAILURE_TIMEOUT} or less left out: one slow probe would take a healthy server out (--allow-single-failure proposes it)"
            ));
        }
        parts.join("; ")
    }
}

/// Searches the LB's whole valid grid in parallel: the least-load passing setting and the Pareto
/// front of worst case against probe load; plus the smallest shutdown delay that passes as is.
pub fn recommend(sc: &Scenario, lb: &LbSpec) -> Recommendation {
    recommend_with(sc, lb, &RecommendOptions::default())
}

/// [`recommend`] over the settings `opts` admits.
pub fn recommend_with(sc: &Scenario, lb: &LbSpec, opts: &RecommendOptions) -> Recommendation {
    if let Some(back) = crate::analysis::unchecked_until(sc, lb) {
        // No check, so no timing setting exists to search: the only fix is adding `check`.
        return Recommendation {
            lb: lb.name.clone(),
            provider: lb.profile.clone(),
            budget: sc.server.timeline().budget(),
            min_margin: sc.min_margin,
            current: Candidate {
                setting: current_setting(lb),
                worst: back,
                probes_per_second: 0.0,
                period: Micros::ZERO,
            },
            termination_grace_period_needed: None,
            min_shutdown_delay: None,
            note: Some(match lb.provider.passive(&lb.settings) {
                Some(p) => format!("{} (E5 - E2 + startup = {back})", p.words),
                None => format!(
                    "{} (E5 - E2 + startup = {back}); add `check` (and an HTTP(S) check of {}), then run recommend again",
                    crate::analysis::UNCHECKED_WORDS,
                    sc.server.readiness_path
                ),
            }),
            grid: match lb.provider.passive(&lb.settings) {
                Some(p) => format!("none: {}", p.label),
                None => "none: the server has no check".to_string(),
            },
            evaluated: 0,
            least_load: None,
            pareto: Vec::new(),
            unchecked: true,
        };
    }
    let mut g = grid(lb);
    g.settings.retain(|s| opts.admits(s));
    let left_out = opts.describe();
    if !left_out.is_empty() {
        g.description = format!("{}; {left_out}", g.description);
    }
    recommend_on(sc, lb, &g)
}

/// [`recommend`] over a given grid.
pub fn recommend_on(sc: &Scenario, lb: &LbSpec, g: &Grid) -> Recommendation {
    use rayon::prelude::*;
    let server = &sc.server;
    let lat = lb.latency_range(server);
    let current = evaluate(sc, lb, &current_setting(lb)).unwrap_or_else(|| Candidate {
        setting: current_setting(lb),
        worst: extremes_with(server, &lb.model, lat).worst.time,
        probes_per_second: lb.model.probes_per_second(lat.lo),
        period: Micros::ZERO,
    });
    // Per steady-state period, the setting with the smallest worst case (ties: the smallest setting):
    // both the least-load passing setting and the Pareto front are among these.
    let key = |c: &Candidate| (c.worst, c.setting);
    let per_period: std::collections::BTreeMap<Micros, Candidate> = g
        .settings
        .par_iter()
        .filter_map(|s| evaluate(sc, lb, s))
        .fold(
            std::collections::BTreeMap::new,
            |mut acc: std::collections::BTreeMap<Micros, Candidate>, c| {
                match acc.get(&c.period) {
                    Some(b) if key(b) <= key(&c) => {}
                    _ => {
                        acc.insert(c.period, c);
                    }
                }
                acc
            },
        )
        .reduce(std::collections::BTreeMap::new, |mut a, b| {
            for (p, c) in b {
                match a.get(&p) {
                    Some(x) if key(x) <= key(&c) => {}
                    _ => {
                        a.insert(p, c);
                    }
                }
            }
            a
        });
    let evaluated = g.settings.par_iter().filter(|s| evaluate_ok(sc, lb, s)).count();
    let least_load = per_period
        .values()
        .rev()
        .find(|c| passes_with_margin(sc, c.worst))
        .cloned();
    let mut pareto: Vec<Candidate> = Vec::new();
    for c in per_period.values().rev() {
        if pareto.last().is_none_or(|p| c.worst < p.worst) {
            pareto.push(c.clone());
        }
    }
    let sees = lb.model.view.sees_readiness;
    let delay_helps = sees && server.readyz_onset == ReadyzOnset::ShutdownStart;
    let min_shutdown_delay = delay_helps.then(|| {
        let w = unbounded_worst_with(server, &lb.model, lat);
        w + sc.min_margin.max(Micros::UNIT)
    });
    let note = if !sees {
        Some(format!(
            "the check cannot see {} failing (TCP or another path): no delay and no timing setting helps; check {} over HTTP(S)",
            server.readiness_path, server.readiness_path
        ))
    } else if !delay_helps {
        Some("/readyz only fails when the listener closes (readyz_onset = listener-close): no delay and no timing setting helps".to_string())
    } else if least_load.is_none() {
        Some(format!(
            "no provider-valid setting passes the current delay with the {} margin; raise shutdown_delay",
            sc.min_margin
        ))
    } else {
        None
    };
    Recommendation {
        lb: lb.name.clone(),
        provider: lb.profile.clone(),
        budget: server.timeline().budget(),
        min_margin: sc.min_margin,
        current,
        // One drain formula for every output (rules::grace::full_drain, send-retry-after's 2 s
        // shutdown timeout included), so following it raises no GL004.
        termination_grace_period_needed: min_shutdown_delay.map(|d| crate::analysis::grace_for(server, d)),
        min_shutdown_delay,
        note,
        grid: g.description.clone(),
        evaluated,
        least_load,
        pareto,
        unchecked: false,
    }
}

fn evaluate_ok(sc: &Scenario, lb: &LbSpec, s: &Setting) -> bool {
    let lat = lb.latency_range(&sc.server);
    // A fixed-rate probe's answer must come back before the next probe starts (the loader's rule).
    let fixed_rate = matches!(lb.model.schedule, Schedule::FixedRate { .. });
    lat.hi < s.timeout && !(lb.latency.is_some() && fixed_rate && lat.hi >= s.interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn a_single_failure_with_a_short_timeout_is_proposed_only_when_asked() {
        let sc = load_str("k.toml", include_str!("../../reports/kubeadm-haproxy/scenario.toml")).unwrap();
        let lb = sc.lbs.iter().find(|l| l.name == "haproxy-readyz").unwrap();
        let short_single = |r: &Recommendation| {
            r.pareto
                .iter()
                .chain(r.least_load.as_ref())
                .any(|c| c.setting.threshold == 1 && c.setting.timeout <= SINGLE_FAILURE_TIMEOUT)
        };
        let r = recommend(&sc, lb);
        assert!(!short_single(&r), "{:?}", r.pareto);
        assert!(r.grid.contains("--allow-single-failure"));
        let asked = RecommendOptions {
            allow_single_failure: true,
            ..RecommendOptions::default()
        };
        assert!(short_single(&recommend_with(&sc, lb, &asked)));
        let min3 = RecommendOptions {
            min_threshold: 3,
            ..RecommendOptions::default()
        };
        let r = recommend_with(&sc, lb, &min3);
        assert!(r.pareto.iter().all(|c| c.setting.threshold >= 3));
    }

    #[test]
    fn the_grace_period_needed_is_checks_full_drain() {
        // OpenShift on AWS as shipped: send-retry-after drains request_grace, then the 2 s
        // shutdown timeout. The typical tier needs a 65 s delay (1m worst + 5 s margin); the grace
        // period drains the longer of that and today's 129 s: 129 s + 1m + 2 s = 191 s, as the
        // one drain formula (rules::grace::full_drain) that GL001's and GL020's fixes use.
        let sc = load_str("t.toml", include_str!("../../reports/openshift-aws/today.toml")).unwrap();
        let lb = sc.lbs.iter().find(|l| l.name == "api-int").unwrap();
        let r = recommend(&sc, lb);
        assert_eq!(r.min_shutdown_delay, Some(Micros::from_secs(65)));
        assert_eq!(r.termination_grace_period_needed, Some(Micros::from_secs(191)));
        let plain = load_str("k.toml", include_str!("../../reports/kubeadm-haproxy/scenario.toml")).unwrap();
        for lb in &plain.lbs {
            let r = recommend(&plain, lb);
            if let Some(d) = r.min_shutdown_delay {
                assert_eq!(r.termination_grace_period_needed, Some(d + plain.server.request_grace));
            }
        }
    }

    #[test]
    fn every_lb_profile_gets_a_passing_least_load_setting_and_a_sorted_front() {
        for profile in crate::profiles::tunable_lb_names() {
            let text = format!(
                "[server]\nprofile = \"kube-apiserver-openshift\"\n[[lb]]\nprofile = \"{profile}\"\nprotocol = \"https\"\npath = \"/readyz\"\npropagation_delay = \"0s\"\n"
            );
            let sc = load_str("r.toml", &text).unwrap();
            let lb = &sc.lbs[0];
            let g = grid(lb);
            let r = recommend_on(&sc, lb, &g);
            let best = r
                .least_load
                .as_ref()
                .unwrap_or_else(|| panic!("{profile}: {:?}", r.note));
            assert!(passes_with_margin(&sc, best.worst), "{profile}");
            // No valid setting with a longer period (less load) passes.
            assert!(
                g.settings
                    .iter()
                    .filter_map(|s| evaluate(&sc, lb, s))
                    .filter(|c| c.period > best.period)
                    .all(|c| !passes_with_margin(&sc, c.worst)),
                "{profile}"
            );
            assert!(r
                .pareto
                .windows(2)
                .all(|w| w[1].worst < w[0].worst && w[1].period < w[0].period));
            assert_eq!(
                r.min_shutdown_delay,
                Some(
                    unbounded_worst_with(&sc.server, &lb.model, lb.latency_range(&sc.server))
                        + sc.min_margin.max(Micros::UNIT)
                )
            );
        }
    }
}
