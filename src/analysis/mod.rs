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
pub mod sensitivity;
pub mod streaming;
pub mod walk;

use crate::error::Loc;
use crate::provider::{check_limits, Family};
use crate::scenario::{LbSpec, Scenario, ServerSource};
use crate::time::Micros;
use crate::timeline::{ReadyzFailure, ReadyzOnset, ServerSpec, Timeline, RETRY_AFTER_SHUTDOWN_TIMEOUT};
use exact::Extremes;
use findings::{Finding, Rule, Severity};
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

/// Analyzes one LB of a scenario.
pub fn analyze(sc: &Scenario, lb: &LbSpec) -> LbReport {
    let server = &sc.server;
    let tl = server.timeline();
    let budget = tl.budget();
    let lat = lb.latency_range(server);
    let ext = exact::extremes_with(server, &lb.model, lat);
    let worst = ext.worst.time;
    let margin = budget - worst;
    let view = lb.model.view;
    let modes = server.readyz_failure.concrete();
    let sees = modes.iter().all(|&m| view.sees(m));
    let delay_helps = sees && server.readyz_onset == ReadyzOnset::ShutdownStart;
    let unbounded = exact::unbounded_worst_with(server, &lb.model, lat);
    let recommended = delay_helps.then(|| unbounded + sc.min_margin);
    let mut findings = Vec::new();
    let lb_loc = key_loc(lb);

    if worst >= budget {
        let how = if !sees {
            "no shutdown delay helps: the check only fails once the server stops listening".to_string()
        } else if let Some(fix) = delay_helps
            .then(|| kill_fix(server, unbounded + sc.min_margin))
            .flatten()
        {
            fix
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
                lb.model.propagation.hi,
                budget,
                after_e3(server, &tl, worst)
            ),
        ));
    } else if margin < sc.min_margin {
        findings.push(Finding::new(
            Rule::GL002,
            lb_loc.clone(),
            format!(
                "{}: margin {} (budget {} - worst case {}) is below the minimum {}; {}",
                lb.name,
                margin,
                budget,
                worst,
                sc.min_margin,
                kill_fix(server, unbounded + sc.min_margin)
                    .unwrap_or_else(|| format!("fix: shutdown_delay >= {}", unbounded + sc.min_margin))
            ),
        ));
    }
    if let Some(f) = blind_finding(sc, lb) {
        findings.push(f);
    }
    let needed = full_drain(server);
    if tl.kill < needed {
        findings.push(Finding::new(
            Rule::GL004,
            sc.server_loc("termination_grace_period"),
            format!(
                "termination_grace_period {} < prestop_sleep {} + readyz_fail_after {} + shutdown_delay {} + request_grace {}{} = {}; SIGKILL cuts the drain {} early",
                server.termination_grace_period,
                server.prestop_sleep,
                server.readyz_fail_after,
                server.shutdown_delay,
                server.request_grace,
                if server.send_retry_after {
                    format!(" + {RETRY_AFTER_SHUTDOWN_TIMEOUT} (send-retry-after shutdown timeout)")
                } else {
                    String::new()
                },
                needed,
                needed - tl.kill
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
    let user_propagation = lb.settings.propagation_delay.as_ref().is_some_and(|p| !p.from_profile);
    if !user_propagation && lb.propagation_evidence == crate::profiles::Evidence::None {
        findings.push(Finding::new(
            Rule::GL007,
            lb.loc.clone(),
            format!(
                "{}: the delay from 'marked down' until no new request is routed is unknown for {} ({}); graceline uses {}, so the worst case lacks that delay; measure it (graceline backend + calibrate) and set propagation_delay",
                lb.name,
                lb.profile,
                lb.propagation_note.as_deref().unwrap_or("no published or measured figure"),
                lb.model.propagation
            ),
        ));
    }
    findings.extend(failopen::findings(sc, lb));
    findings.extend(client::findings(sc, lb, worst > budget));
    let unchecked = unchecked_until(sc, lb).is_some();
    let (ext, margin, recommended) = match lb.settings.unchecked.as_ref().filter(|u| u.value) {
        Some(u) => {
            // Never checked: routed to until the process is back; the detection and re-admission
            // findings do not apply.
            findings.retain(|f| {
                !matches!(
                    f.rule,
                    Rule::GL001 | Rule::GL002 | Rule::GL003 | Rule::GL005 | Rule::GL007 | Rule::GL017 | Rule::GL018
                )
            });
            let startup = sc.rollout.map_or(Micros::ZERO, |r| r.startup_time);
            let back = tl.e5 - tl.e2 + startup;
            let mut e = ext;
            for b in [&mut e.worst, &mut e.best] {
                b.time = back;
                b.detection = back;
            }
            findings.push(Finding::new(
                Rule::GL008,
                u.loc.clone(),
                format!(
                    "{}: the server has no `check`, so HAProxy never takes it out: new connections keep reaching it after E3 until the process is back (E5 + startup {} = E2 + {}), failing for {}",
                    lb.name,
                    startup,
                    back,
                    back - budget
                ),
            ));
            (e, budget - back, None)
        }
        None => (ext, margin, recommended),
    };
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
        recommended_termination_grace_period: recommended.map(|d| grace_for(server, d)),
        recommended_fix_binds: recommended
            .filter(|_| margin < sc.min_margin || margin <= Micros::ZERO)
            .and_then(|d| fix_binds(server, d)),
        probes_per_second: if unchecked {
            0.0
        } else {
            lb.model.probes_per_second(lat.lo)
        },
        findings,
        verdict,
        propagation: lb.model.propagation,
        propagation_source: explain::propagation_origin(lb),
        // An unchecked server's figure is E5 - E2 + startup: no check setting shapes it.
        assumed: if unchecked { Vec::new() } else { assumed_values(lb) },
        check: lb.check,
        route: None,
        times_from: TimesFrom::ReadyzFailing,
        recommended_prestop: None,
    }
}

/// For a server without `check` (HAProxy never takes it out): the time from E2 until it is back,
/// E5 - E2 + the rollout's startup time. Every command reports this one deterministic figure.
pub fn unchecked_until(sc: &Scenario, lb: &LbSpec) -> Option<Micros> {
    if !is_unchecked(lb) {
        return None;
    }
    let tl = sc.server.timeline();
    Some(tl.e5 - tl.e2 + sc.rollout.map_or(Micros::ZERO, |r| r.startup_time))
}

/// True for a server without `check` (rule GL008): HAProxy never takes it out.
pub fn is_unchecked(lb: &LbSpec) -> bool {
    lb.settings.unchecked.as_ref().is_some_and(|u| u.value)
}

/// What a server without `check` leaves to tune, in one line (`simulate`, `recommend`, charts).
pub const UNCHECKED_WORDS: &str =
    "never checked (no `check` on the server line): routed to until the process is back; nothing to tune but adding `check`";

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
    take!(
        interval,
        timeout,
        unhealthy_threshold,
        healthy_threshold,
        check_interval,
        probe_threshold
    );
    take!(inter, fall, rise, propagation_delay);
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

/// From the start of the grace period until the server has drained and exited on its own (one
/// formula for the load balancers' GL004 and fixes and the Kubernetes paths').
pub fn full_drain(server: &ServerSpec) -> Micros {
    let base = server.prestop_sleep + server.readyz_fail_after + server.shutdown_delay + server.request_grace;
    if server.send_retry_after {
        base + RETRY_AFTER_SHUTDOWN_TIMEOUT
    } else {
        base
    }
}

/// Which setting a fix must change when a longer shutdown delay helps (JSON `recommended_fix_binds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binds {
    /// The delay is too short; SIGKILL comes after E3 even with the delay needed.
    ShutdownDelay,
    /// The delay is long enough, but SIGKILL comes before E3: only the grace period helps.
    TerminationGracePeriod,
    /// Both: the delay needed would only take effect with a longer grace period.
    Both,
}

/// Which setting binds for a fix needing `needed_delay`: SIGKILL binds when it comes before the E3
/// of the longer of the current and the needed delay (ties: E3 first, as in the timeline).
/// `None` when neither needs changing.
pub fn fix_binds(server: &ServerSpec, needed_delay: Micros) -> Option<Binds> {
    let delay_short = server.shutdown_delay < needed_delay;
    let e3 = server.prestop_sleep + server.readyz_fail_after + server.shutdown_delay.max(needed_delay);
    match (delay_short, server.termination_grace_period < e3) {
        (true, false) => Some(Binds::ShutdownDelay),
        (false, true) => Some(Binds::TerminationGracePeriod),
        (true, true) => Some(Binds::Both),
        (false, false) => None,
    }
}

/// The grace period that lets a delay of at least `needed_delay` (or the current, if longer) run to
/// the end of the drain.
pub fn grace_for(server: &ServerSpec, needed_delay: Micros) -> Micros {
    full_drain(&ServerSpec {
        shutdown_delay: server.shutdown_delay.max(needed_delay),
        ..server.clone()
    })
}

/// When SIGKILL comes before E3 (now, or with the delay needed), a longer shutdown delay alone
/// changes nothing: the fix names the grace period (and the delay only if it is also too short).
/// `None` when SIGKILL does not bind.
fn kill_fix(server: &ServerSpec, needed_delay: Micros) -> Option<String> {
    let grace = grace_for(server, needed_delay);
    match fix_binds(server, needed_delay)? {
        Binds::ShutdownDelay => None,
        Binds::TerminationGracePeriod => Some(format!(
            "fix: termination_grace_period (terminationGracePeriodSeconds) >= {grace}: SIGKILL at {} ends the server before its shutdown delay ({}) is over, so a longer delay does not help",
            server.termination_grace_period, server.shutdown_delay
        )),
        Binds::Both => Some(format!(
            "fix: shutdown_delay >= {needed_delay} and termination_grace_period (terminationGracePeriodSeconds) >= {grace}: SIGKILL at {} comes before E3 at that delay ({})",
            server.termination_grace_period,
            server.prestop_sleep + server.readyz_fail_after + needed_delay
        )),
    }
}

/// What new requests meet between E3 and the LB's removal, `worst` after E2.
fn after_e3(server: &ServerSpec, tl: &Timeline, worst: Micros) -> String {
    let budget = tl.budget();
    if worst == budget {
        return "the LB can route new requests right up to the instant the server stops listening".to_string();
    }
    let closed = tl.listener_close - tl.e2;
    if server.send_retry_after {
        let answered = worst.min(closed) - budget;
        let mut out = format!(
            "new requests routed up to {answered} after E3 are answered 429 with Retry-After (shutdown-send-retry-after) instead of a refused connection; they fail unless the client retries"
        );
        if worst > closed {
            out.push_str(&format!(
                ", and after the listener closes (E3 + {}) they reach a closed port for up to {}",
                closed - budget,
                worst - closed
            ));
        }
        out
    } else {
        format!(
            "new requests can reach a closed port for up to {} after E3",
            worst - budget
        )
    }
}

/// GL003: the check cannot see the server's readiness, with the reason (protocol, path, matcher).
fn blind_finding(sc: &Scenario, lb: &LbSpec) -> Option<Finding> {
    let server = &sc.server;
    let view = lb.model.view;
    let rp = &server.readiness_path;
    let fails_at = if server.send_retry_after {
        if view.fails_on_retry_after {
            "it fails only from E3, on the 429 of shutdown-send-retry-after".to_string()
        } else {
            "it keeps passing after E3 under shutdown-send-retry-after and fails only when the listener really closes (after the drain, up to request_grace later)".to_string()
        }
    } else {
        "it fails only when the server stops listening (E3)".to_string()
    };
    if !view.sees_readiness {
        let (loc, why) = match (&lb.settings.protocol, &lb.settings.path) {
            (Some(p), _) if p.value == crate::provider::Protocol::Tcp => (p.loc.clone(), "a TCP check".to_string()),
            (_, Some(path)) if path.value.contains("exclude=shutdown") => (
                path.loc.clone(),
                format!("an HTTP check of {} (the shutdown check is excluded)", path.value),
            ),
            (_, Some(path)) => (path.loc.clone(), format!("an HTTP check of {}", path.value)),
            _ => (lb.loc.clone(), "an HTTP check of /".to_string()),
        };
        return Some(Finding::new(
            Rule::GL003,
            loc,
            format!(
                "{}: {why} cannot see {rp} failing; {fails_at}; check {rp} over HTTP(S)",
                lb.name
            ),
        ));
    }
    let m = lb.settings.matcher.as_ref()?;
    if !(view.accepts_readyz_error && server.readyz_failure.concrete().contains(&ReadyzFailure::Error)) {
        return None;
    }
    Some(Finding::new(
        Rule::GL003,
        m.loc.clone(),
        format!(
            "{}: the success matcher \"{}\" accepts the HTTP {} a failing {rp} answers, so the check passes while readiness fails; {fails_at}; accept only 2xx/3xx (e.g. 200-399)",
            lb.name,
            m.value,
            crate::provider::matcher::READYZ_FAILURE_STATUS
        ),
    ))
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
