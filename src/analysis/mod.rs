//! Analyses built on the model: exact extremes, findings and the per-LB verdict.

pub mod client;
pub mod exact;
pub mod explain;
pub mod failopen;
pub mod findings;
pub mod montecarlo;
pub mod outcome;
pub mod recommend;
pub mod report;
pub mod rules;
pub mod sensitivity;
pub mod streaming;
pub mod tiers;
pub mod walk;

use crate::scenario::{LbSpec, Scenario, ServerSource};
use crate::time::Micros;
use crate::timeline::Timeline;
use exact::Extremes;
use findings::{Finding, Severity};
pub use rules::grace::{fix_binds, grace_for, Binds};
pub use rules::unchecked::{is_unchecked, unchecked_label, unchecked_until, unchecked_words, UNCHECKED_WORDS};
use serde::Serialize;

/// Overall result for one LB × server pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding above note.
    Pass,
    /// Warnings only.
    Warn,
    /// At least one error.
    Fail,
}

/// Everything `check` knows about one LB in one scenario.
#[derive(Debug, Clone)]
pub struct LbReport {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: String,
    /// LB name.
    pub lb: String,
    /// LB profile (provider).
    pub provider: String,
    /// Provider family.
    pub family: &'static str,
    /// Server profile (or the manifest it was read from).
    pub server: String,
    /// Where the server came from and whether it was assumed.
    pub server_source: ServerSource,
    /// Server timeline.
    pub timeline: Timeline,
    /// E3 − E2.
    pub budget: Micros,
    /// Exact best and worst case.
    pub extremes: Extremes,
    /// Budget minus worst case (negative: requests reach a closed port).
    pub margin: Micros,
    /// Smallest shutdown delay with the required margin, when a delay can help at all.
    pub recommended_shutdown_delay: Option<Micros>,
    /// The grace period that delay (or the current, if longer) needs to run to the end of the drain.
    pub recommended_termination_grace_period: Option<Micros>,
    /// With GL001/GL002 raised and a delay helping: which setting the fix must change.
    pub recommended_fix_binds: Option<Binds>,
    /// Probes per second on one backend.
    pub probes_per_second: f64,
    /// Settings graceline took from the LB profile's defaults rather than from the input, as
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Overall verdict.
    pub verdict: Verdict,
    /// Propagation range used (the worst case takes `hi`, the best case `lo`).
    pub propagation: crate::provider::Propagation,
    /// Where that range comes from, in one line.
    pub propagation_source: String,
    /// Values the profile assumed rather than the input gave: (setting, value, source).
    pub assumed: Vec<(String, String, String)>,
    /// What the health check checks (the server, the pod, or the node).
    pub check: crate::scenario::k8s::CheckTarget,
    /// The Kubernetes path whose verdict and figures this row carries, if any.
    pub route: Option<outcome::Route>,
    /// What `worst`, `best`, `budget` and `margin` are measured from.
    pub times_from: TimesFrom,
    /// With a Kubernetes path: the smallest whole-second preStop sleep that passes.
    pub recommended_prestop: Option<Micros>,
    /// The error tier of the propagation evidence (`--propagation`, `propagation_tier`).
    pub propagation_tier: crate::provider::tiers::PropagationTier,
    /// Worst case, margin and recommended delay per propagation tier (empty for a server without
    /// checks, and for a row that carries a Kubernetes path's figures).
    pub tiers: Vec<tiers::TierVerdict>,
}

/// What a row's times are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimesFrom {
    /// From E2 (readiness failing): worst and best are detection plus propagation, the budget is
    /// E3 - E2.
    ReadyzFailing,
    /// From the pod's deletion, like the Kubernetes paths: worst and best are when the load
    /// balancer stops sending, the budget is when the app stops listening.
    PodDeletion,
    /// No figure: the health check says nothing about this shutdown (it checks the node and no
    /// path could be judged).
    NotJudged,
}

/// Analyzes every LB of every scenario.
pub fn analyze_all(scenarios: &[Scenario]) -> Vec<LbReport> {
    scenarios
        .iter()
        .flat_map(|s| s.lbs.iter().map(move |lb| analyze(s, lb)))
        .collect()
}

/// [`analyze_all`] for a caller done with the load balancers: each is dropped once judged (the
/// scenarios keep no LB), so a large input never holds every LB and every report at once.
pub fn analyze_all_consuming(scenarios: &mut [Scenario]) -> Vec<LbReport> {
    let mut out = Vec::with_capacity(scenarios.iter().map(|s| s.lbs.len()).sum());
    for sc in scenarios.iter_mut() {
        // Taken in order from the end of the reversed list, which shrinks as it goes.
        let mut lbs = std::mem::take(&mut sc.lbs);
        lbs.reverse();
        while let Some(lb) = lbs.pop() {
            if lbs.len() < lbs.capacity() / 2 {
                lbs.shrink_to_fit();
            }
            out.push(analyze(sc, &lb));
        }
    }
    out
}

/// Analyzes one LB of a scenario: its exact extremes, the findings of every rule family
/// ([`rules`]) and the recommended fix.
pub fn analyze(sc: &Scenario, lb: &LbSpec) -> LbReport {
    let server = &sc.server;
    let c = rules::Case::new(sc, lb);
    let mut findings = rules::findings(&c);
    let (ext, margin, recommended) = match rules::unchecked::apply(&c, &mut findings) {
        // Never checked: routed to until the process is back; nothing to recommend but `check`.
        Some(e) => {
            let margin = c.budget - e.worst.time;
            (e, margin, None)
        }
        None => (
            c.ext.clone(),
            c.budget - c.worst(),
            c.delay_helps.then(|| c.needed_for(c.unbounded)),
        ),
    };
    let unchecked = is_unchecked(lb);
    let by_tier = tiers::by_tier(&c);
    rules::sort(&mut findings);
    let verdict = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Verdict::Fail,
        Some(Severity::Warning) => Verdict::Warn,
        _ => Verdict::Pass,
    };
    LbReport {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        lb: lb.name.clone(),
        provider: lb.profile.clone(),
        family: lb.provider.family(),
        server: server.profile.clone(),
        server_source: sc.server_source.clone(),
        timeline: c.tl,
        budget: c.budget,
        extremes: ext,
        margin,
        recommended_shutdown_delay: recommended,
        recommended_termination_grace_period: recommended.map(|d| grace_for(server, d)),
        recommended_fix_binds: recommended
            .filter(|_| margin < sc.min_margin || margin <= Micros::ZERO)
            .and_then(|d| fix_binds(server, d)),
        probes_per_second: if unchecked {
            0.0
        } else {
            lb.model.probes_per_second(c.lat.lo)
        },
        findings,
        verdict,
        propagation: lb.model.propagation,
        propagation_source: explain::propagation_origin(lb),
        // An unchecked server's figure is E5 - E2 + startup: no check setting shapes it; a passive
        // load balancer's findings rest on its settings, so their assumed values are said.
        assumed: if unchecked && lb.provider.passive(&lb.settings).is_none() {
            Vec::new()
        } else {
            assumed_values(lb)
        },
        check: lb.check,
        route: None,
        times_from: TimesFrom::ReadyzFailing,
        recommended_prestop: None,
        propagation_tier: sc.propagation_tier,
        tiers: by_tier,
    }
}

/// Every value the verdict runs on that was assumed rather than read: (setting, value, source).
/// The reader's own assumptions and the profile's declared ones (e.g. the prober count) come with
/// their reasons; any other profile default used is named with the profile.
pub fn assumed_values(lb: &LbSpec) -> Vec<(String, String, String)> {
    let mut out = lb.assumed.clone();
    for (k, v) in profile_defaults_used(lb) {
        if !out.iter().any(|(a, _, _)| a == k) {
            out.push((k.to_string(), v, format!("the {} profile's default", lb.profile)));
        }
    }
    out
}

/// An own setting's value as [`profile_defaults_used`] words it (as written, no quotes).
fn own_words(v: &crate::provider::Own) -> String {
    match v {
        crate::provider::Own::Text(t) => t.clone(),
        other => other.to_string(),
    }
}

/// The settings that shape the verdict and came from the profile's defaults: (setting, value).
fn profile_defaults_used(lb: &LbSpec) -> Vec<(&'static str, String)> {
    let s = &lb.settings;
    let mut out = Vec::new();
    macro_rules! take {
        ($($f:ident),*) => {$(
            if let Some(v) = s.$f.as_ref().filter(|v| v.from_profile) {
                out.push((stringify!($f), v.value.to_string()));
            }
        )*};
    }
    take!(interval, timeout, unhealthy_threshold, healthy_threshold);
    for key in lb.provider.verdict_knobs() {
        if let Some(v) = s.own.get(key).filter(|v| v.from_profile) {
            out.push((*key, own_words(&v.value)));
        }
    }
    take!(propagation_delay);
    if let Some(p) = s.protocol.as_ref().filter(|v| v.from_profile) {
        out.push(("protocol", format!("{:?}", p.value).to_lowercase()));
    }
    // Path and matcher only matter for HTTP(S) checks.
    if crate::scenario::protocol_of(lb) != crate::provider::Protocol::Tcp {
        if let Some(p) = s.path.as_ref().filter(|v| v.from_profile) {
            out.push(("path", p.value.clone()));
        }
        take!(matcher);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::findings::Rule;
    use crate::scenario::load_str;

    fn report(text: &str) -> LbReport {
        let s = load_str("t.toml", text).unwrap();
        analyze(&s, &s.lbs[0])
    }

    const SEED: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"135s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\npropagation_delay = \"0s\"\n";

    #[test]
    fn seed_is_flagged_with_equality_and_70s_passes_only_with_propagation_pinned_to_0() {
        let r = report(SEED);
        assert_eq!(r.extremes.worst.time, Micros::from_secs(30));
        assert_eq!(r.margin, Micros::ZERO);
        assert_eq!(r.findings[0].rule, Rule::GL001);
        assert_eq!(r.verdict, Verdict::Fail);
        let r = report(&SEED.replace("\"30s\"", "\"70s\""));
        assert_eq!(r.margin, Micros::from_secs(40));
        assert!(
            r.findings.iter().all(|f| f.severity == Severity::Note),
            "{:?}",
            r.findings
        );
        assert_eq!(r.verdict, Verdict::Pass);
    }

    #[test]
    fn thin_margin_warns() {
        let r = report(&SEED.replace("\"30s\"", "\"33s\""));
        assert_eq!(r.findings[0].rule, Rule::GL002);
        assert_eq!(r.verdict, Verdict::Warn);
    }

    #[test]
    fn blind_checks_sigkill_and_ranges() {
        let r = report(&SEED.replace("/readyz", "/healthz"));
        assert!(r.findings.iter().any(|f| f.rule == Rule::GL003 && f.loc.line == 12));
        let r = report(&SEED.replace("\"135s\"", "\"60s\""));
        assert!(r.findings.iter().any(|f| f.rule == Rule::GL004 && f.loc.line == 4));
        let r = report(&SEED.replace("interval = \"10s\"", "interval = \"3s\""));
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == Rule::GL005 && f.message.contains("from 5s to 5m")),
            "{:?}",
            r.findings
        );
        let r = report(&SEED.replace("connection_termination = false", "connection_termination = true"));
        assert!(r.findings.iter().any(|f| f.rule == Rule::GL006 && f.loc.line == 13));
    }
}
