//! Analyses built on the model: exact extremes, findings and the per-LB verdict.

pub mod exact;
pub mod explain;
pub mod findings;
pub mod montecarlo;
pub mod recommend;
pub mod streaming;

use crate::error::Loc;
use crate::provider::{check_limits, Family};
use crate::scenario::{LbSpec, Scenario, ServerSource};
use crate::time::Micros;
use crate::timeline::{ReadyzOnset, Timeline};
use exact::Extremes;
use findings::{Finding, Rule, Severity};
use serde::Serialize;

/// Overall result for one LB × server pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    pub family: Family,
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
    /// Probes per second on one backend.
    pub probes_per_second: f64,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Values assumed rather than read from the input (e.g. provider defaults for a missing block).
    pub assumed: Vec<String>,
    /// Overall verdict.
    pub verdict: Verdict,
}

/// Analyzes every LB of every scenario.
pub fn analyze_all(scenarios: &[Scenario]) -> Vec<LbReport> {
    scenarios
        .iter()
        .flat_map(|s| s.lbs.iter().map(move |lb| analyze(s, lb)))
        .collect()
}

/// Analyzes one LB of a scenario.
pub fn analyze(sc: &Scenario, lb: &LbSpec) -> LbReport {
    let server = &sc.server;
    let tl = server.timeline();
    let budget = tl.budget();
    let lat = lb.latency_range(server);
    let ext = exact::extremes_with(server, &lb.model, lat);
    let worst = ext.worst.time;
    let margin = budget - worst;
    let sees = lb.model.view.sees_readiness;
    let delay_helps = sees && server.readyz_onset == ReadyzOnset::ShutdownStart;
    let unbounded = exact::unbounded_worst_with(server, &lb.model, lat);
    let recommended = delay_helps.then(|| unbounded + sc.min_margin);
    let mut findings = Vec::new();
    let lb_loc = key_loc(lb);

    if worst >= budget {
        let how = if !sees {
            "no shutdown delay helps: the check only fails once the server stops listening".to_string()
        } else if server.readyz_onset == ReadyzOnset::ListenerClose {
            "no shutdown delay helps: /readyz only fails when the listener closes (readyz_onset = listener-close)"
                .to_string()
        } else {
            let faster: Vec<String> = recommend::alternatives(sc, lb)
                .iter()
                .map(|a| format!("{} = {} (worst case {})", a.key, a.value, a.worst))
                .collect();
            format!(
                "fix: shutdown_delay >= {} (worst case {} + margin {}; anything above {} avoids failures), or detect faster{}",
                unbounded + sc.min_margin,
                unbounded,
                sc.min_margin,
                unbounded,
                if faster.is_empty() {
                    String::new()
                } else {
                    format!(": {}", faster.join(" or "))
                }
            )
        };
        findings.push(Finding::new(
            Rule::GL001,
            lb_loc.clone(),
            format!(
                "{}: worst case {} from readyz failing until no new request is routed ({} detection + {} propagation) >= budget {} (E3 - E2); {}; {how}",
                lb.name,
                worst,
                ext.worst.detection,
                lb.model.propagation,
                budget,
                if worst == budget {
                    "the LB can route new requests right up to the instant the server stops listening".to_string()
                } else {
                    format!("new requests can reach a closed port for up to {} after E3", worst - budget)
                }
            ),
        ));
    } else if margin < sc.min_margin {
        findings.push(Finding::new(
            Rule::GL002,
            lb_loc.clone(),
            format!(
                "{}: margin {} (budget {} - worst case {}) is below the minimum {}; fix: shutdown_delay >= {}",
                lb.name,
                margin,
                budget,
                worst,
                sc.min_margin,
                unbounded + sc.min_margin
            ),
        ));
    }
    if !sees {
        let (loc, why) = match (&lb.settings.protocol, &lb.settings.path) {
            (Some(p), _) if p.value == crate::provider::Protocol::Tcp => (p.loc.clone(), "a TCP check".to_string()),
            (_, Some(path)) => (path.loc.clone(), format!("an HTTP check of {}", path.value)),
            _ => (lb.loc.clone(), "an HTTP check of /".to_string()),
        };
        findings.push(Finding::new(
            Rule::GL003,
            loc,
            format!(
                "{}: {why} cannot see {} failing; it fails only when the server stops listening (E3); check {} over HTTP(S)",
                lb.name, server.readiness_path, server.readiness_path
            ),
        ));
    }
    let needed = server.prestop_sleep + server.readyz_fail_after + server.shutdown_delay + server.request_grace;
    if server.termination_grace_period < needed {
        findings.push(Finding::new(
            Rule::GL004,
            sc.server_loc("termination_grace_period"),
            format!(
                "termination_grace_period {} < prestop_sleep {} + readyz_fail_after {} + shutdown_delay {} + request_grace {} = {}; SIGKILL cuts the drain {} early",
                server.termination_grace_period,
                server.prestop_sleep,
                server.readyz_fail_after,
                server.shutdown_delay,
                server.request_grace,
                needed,
                needed - server.termination_grace_period
            ),
        ));
    }
    let (timeout_key, interval_key) = match lb.family {
        Family::Gcp => ("timeout", "check_interval"),
        _ => ("timeout", "interval"),
    };
    for v in check_limits(&lb.settings, &lb.limits, &lb.profile, timeout_key, interval_key) {
        findings.push(Finding::new(Rule::GL005, v.loc, format!("{}: {}", lb.name, v.message)));
    }
    if lb.family == Family::Aws && lb.variant == "nlb" {
        if let Some(ct) = lb.settings.connection_termination.as_ref().filter(|c| c.value) {
            let reset_from = ext.best.detection;
            if tl.e2 + reset_from < tl.e5 {
                findings.push(Finding::new(
                    Rule::GL006,
                    ct.loc.clone(),
                    format!(
                        "{}: from E2 + {} (at the latest E2 + {}) the NLB resets established connections, while the server would drain them until E2 + {}",
                        lb.name,
                        reset_from,
                        ext.worst.detection,
                        tl.e5 - tl.e2
                    ),
                ));
            }
        }
    }
    if lb.model.propagation == Micros::ZERO {
        if let Some(note) = &lb.propagation_note {
            let loc = lb
                .settings
                .propagation_delay
                .as_ref()
                .map_or_else(|| lb.loc.clone(), |p| p.loc.clone());
            findings.push(Finding::new(
                Rule::GL007,
                loc,
                format!("{}: propagation_delay is 0, but {note}", lb.name),
            ));
        }
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
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
        family: lb.family,
        server: server.profile.clone(),
        server_source: sc.server_source.clone(),
        timeline: tl,
        budget,
        extremes: ext,
        margin,
        recommended_shutdown_delay: recommended,
        probes_per_second: lb.model.probes_per_second(lat.lo),
        findings,
        verdict,
        assumed: lb.assumed.clone(),
    }
}

/// Where a finding about the LB as a whole points: its interval setting if the user wrote one.
fn key_loc(lb: &LbSpec) -> Loc {
    let s = &lb.settings;
    [&s.interval, &s.check_interval, &s.inter]
        .into_iter()
        .flatten()
        .find(|v| !v.from_profile)
        .map_or_else(|| lb.loc.clone(), |v| v.loc.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn report(text: &str) -> LbReport {
        let s = load_str("t.toml", text).unwrap();
        analyze(&s, &s.lbs[0])
    }

    const SEED: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"135s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\npropagation_delay = \"0s\"\n";

    #[test]
    fn seed_is_flagged_with_equality_and_openshift_passes_with_40s() {
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
