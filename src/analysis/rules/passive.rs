//! GL021-GL024: a load balancer without active health checks (nginx open source, the model of
//! [`crate::provider::nginx`]): what a restart and a black-holed host cost the clients, with the
//! figures when the scenario gives `[traffic]`.

use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::provider::nginx::{self, FindingKind, Passive, PassiveOutcome, Range, Rate};
use crate::provider::Located;
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;

/// Where a finding about `v` points: the value when the input wrote it, else the load balancer.
fn at<T>(v: &Option<Located<T>>, lb: &Loc) -> Loc {
    v.as_ref()
        .filter(|v| !v.from_profile)
        .map_or_else(|| lb.clone(), |v| v.loc.clone())
}

fn range(r: Range) -> String {
    if r.lo == r.hi {
        r.lo.to_string()
    } else {
        format!("{}-{}", r.lo, r.hi)
    }
}

/// The outage figures in words: connection attempts, failed requests, worst added latency.
fn figures(o: &PassiveOutcome, what: &str, rps: f64) -> String {
    let marked = match o.marked_down {
        None => "never marked unavailable".to_string(),
        Some((lo, Some(hi))) => format!("marked unavailable {lo}-{hi} after it starts"),
        Some((lo, None)) => {
            format!("marked unavailable from {lo} after it starts (or never, when its share of requests is none)")
        }
    };
    format!(
        "at {rps} new connections/s, {what}: {} connections sent to the server, {} failed requests, worst added latency {}; {marked}",
        range(o.attempts),
        range(o.failed_requests),
        o.worst_added_latency
    )
}

/// Trials a marked server gets in an outage of `len`: one per `fail_timeout` (+ `d`, the time
/// a failed trial takes), at least (`fail_timeout` + 1 s of nginx's whole-second clock) apart.
fn trials(p: &Passive, len: Micros, d: Micros) -> (i64, i64) {
    let ft = p.fail_timeout;
    let most = len.0 / (ft + d).0.max(1);
    let least = len.0 / (ft + Micros::from_secs(1) + d).0.max(1);
    (least, most)
}

/// What a restart costs, without a request rate: who sees what from E3 until the server is back.
fn restart_words(p: &Passive, len: Micros, answer: Micros) -> String {
    let refused = nginx::Failure::Refused { answer };
    let how = if p.passes_on(refused) {
        "refused and passed to the next server (a round trip more, no error)"
    } else {
        "refused, and each is a failed request"
    };
    if !p.marks_down() {
        return format!("from E3 until the server listens again ({len}) every connection nginx sends to it is {how}");
    }
    let (lo, hi) = trials(p, len, answer);
    let per = if p.workers > 1 { " in each worker" } else { "" };
    let n = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
    format!(
        "from E3 until the server listens again ({len}) the connections nginx sends to it are {how}: {} of them{per} before it is skipped, then one trial per fail_timeout {} ({n} trials{per})",
        p.max_fails, p.fail_timeout
    )
}

/// What a black-holed host costs, without a request rate.
fn hole_words(p: &Passive) -> String {
    let fate = if p.passes_on(nginx::Failure::BlackHole) {
        "then passed to the next server"
    } else {
        "then failed"
    };
    if !p.marks_down() {
        return format!("every connection sent to it waits {} and is {fate}", p.connect_timeout);
    }
    format!(
        "each waits {} and is {fate}; once marked, one trial connection per fail_timeout {} waits {} again",
        p.connect_timeout, p.fail_timeout, p.connect_timeout
    )
}

/// Failed requests per restart by the passive model, the middle of its range, for the expected
/// figure of `simulate` and reports (the generic rate × exposure × failing share would count every
/// request routed after E3, where nginx stops after `max_fails` and one trial per `fail_timeout`).
/// `None` for a load balancer with active checks or a scenario without `[traffic]`.
pub fn expected_failed_requests(sc: &Scenario, lb: &LbSpec) -> Option<f64> {
    lb.provider.passive(&lb.settings)?;
    let p = Passive::from_settings(&lb.settings, &lb.loc).ok()?;
    let t = sc.traffic?;
    let tl = sc.server.timeline();
    let back = tl.e5 + sc.rollout.map_or(Micros::ZERO, |r| r.startup_time);
    let o = nginx::restart(&p, &sc.server, back, Rate::per_second(t.requests_per_second));
    Some((o.failed_requests.lo + o.failed_requests.hi) as f64 / 2.0)
}

/// The passive settings of the case's load balancer, if its provider has no active checks.
pub fn passive_of(c: &Case) -> Option<Passive> {
    c.lb.provider.passive(&c.lb.settings)?;
    Passive::from_settings(&c.lb.settings, &c.lb.loc).ok()
}

/// GL021-GL024 for a passive load balancer (empty for any other).
pub fn findings(c: &Case) -> Vec<Finding> {
    let Some(p) = passive_of(c) else {
        return Vec::new();
    };
    let (lb, k) = (c.lb, nginx::Knobs::of(&c.lb.settings));
    let server = &c.sc.server;
    let rate =
        c.sc.traffic
            .map(|t| (t.requests_per_second, Rate::per_second(t.requests_per_second)));
    let startup = c.sc.rollout.map_or(Micros::ZERO, |r| r.startup_time);
    let back = c.tl.e5 + startup;
    let outage_len = back - c.tl.listener_close;
    let restart = rate.map(|(rps, r)| {
        figures(
            &nginx::restart(&p, server, back, r),
            &format!("per restart (refused from E3 for {outage_len})"),
            rps,
        )
    });
    let hole = rate.map(|(rps, r)| {
        figures(
            &nginx::black_hole(&p, outage_len, r),
            &format!("per black-holed host (silent for {outage_len}, as long as a restart)"),
            rps,
        )
    });
    let model = nginx::findings(&p, server);
    let mut blind = Vec::new();
    let mut out = Vec::new();
    for f in model {
        match f.kind {
            FindingKind::BlindToReadiness
            | FindingKind::StatusConditionsBlindToReadiness { .. }
            | FindingKind::NeverMarkedDown { .. }
            | FindingKind::PerWorkerAccounting { .. } => blind.push(f.message),
            FindingKind::RetriesOff { .. } => {
                let loc = [
                    at(&k.next_upstream, &lb.loc),
                    at(&k.next_upstream_tries, &lb.loc),
                    at(&k.servers, &lb.loc),
                ]
                .into_iter()
                .find(|l| *l != lb.loc)
                .unwrap_or_else(|| lb.loc.clone());
                let r = restart
                    .clone()
                    .unwrap_or_else(|| restart_words(&p, outage_len, server.response_time));
                out.push(Finding::new(
                    Rule::GL022,
                    loc,
                    format!("{}: {}; {r}", lb.name, f.message),
                ));
            }
            FindingKind::SlowConnectTimeout { .. } => {
                let mut m = format!("{}: {}; {}", lb.name, f.message, hole_words(&p));
                if let Some(h) = &hole {
                    m.push_str(&format!("; {h}"));
                }
                out.push(Finding::new(Rule::GL023, at(&k.timeout_connect, &lb.loc), m));
            }
            FindingKind::KeepaliveOutlivesE3 { .. } => {
                out.push(Finding::new(
                    Rule::GL024,
                    at(&k.keepalive, &lb.loc),
                    format!("{}: {}", lb.name, f.message),
                ));
            }
            FindingKind::SessionsOutliveE3 { .. } => {
                out.push(Finding::new(
                    Rule::GL024,
                    at(&k.proxy_timeout, &lb.loc),
                    format!("{}: {}", lb.name, f.message),
                ));
            }
        }
    }
    let mut m = format!("{}: {}", lb.name, blind.join("; "));
    m.push_str(&format!("; {}", restart_words(&p, outage_len, server.response_time)));
    match &restart {
        Some(r) => m.push_str(&format!("; {r}")),
        None => m.push_str("; how many connections that is depends on the request rate (a scenario's [traffic] requests_per_second gives the counts)"),
    }
    out.insert(0, Finding::new(Rule::GL021, lb.loc.clone(), m));
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{rules, run};
    use super::*;

    const KUBESPRAY: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"135s\"\n[traffic]\nrequests_per_second = 100\nbackends = 3\n[[lb]]\nname = \"kube_apiserver/cp1\"\nprofile = \"nginx\"\nservers = 3\nbalancer = \"least_conn\"\ntimeout_connect = \"1s\"\nworkers = 2\n";

    #[test]
    fn kubespray_is_blind_slow_to_connect_and_keeps_sessions() {
        let f = run(KUBESPRAY, findings);
        assert_eq!(rules(&f), [Rule::GL021, Rule::GL023, Rule::GL024]);
        // Refused from E3 (30 s) until E5 (30 + 60 s request grace): 60 s at 100/s, worked by hand
        // in provider::nginx's kubespray_restart_worked_by_hand: 6-14 attempts, none failing.
        assert!(
            f[0].message
                .contains("6-14 connections sent to the server, 0 failed requests"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("passed to the next server"), "{}", f[0].message);
        // The black hole: kubespray_black_hole_worked_by_hand (5-214 attempts, 1 s each).
        assert!(
            f[1].message
                .contains("5-214 connections sent to the server, 0 failed requests, worst added latency 1s"),
            "{}",
            f[1].message
        );
        assert_eq!(f[1].loc.line, 13);
    }

    #[test]
    fn retries_off_is_an_error_at_its_setting() {
        let f = run(&format!("{KUBESPRAY}next_upstream = \"off\"\n"), findings);
        let off = f.iter().find(|f| f.rule == Rule::GL022).expect("GL022");
        assert_eq!(off.loc.line, 15);
        assert!(off.message.contains("proxy_next_upstream is off"), "{}", off.message);
        // Without [traffic] the figures are asked for, not made up.
        let quiet = KUBESPRAY.replace("[traffic]\nrequests_per_second = 100\nbackends = 3\n", "");
        let f = run(&quiet, findings);
        assert!(f[0].message.contains("depends on the request rate"), "{}", f[0].message);
    }

    #[test]
    fn simulate_s_expected_failures_come_from_the_passive_model() {
        use super::super::fixture::scenario;
        // kubespray passes every refused connection on: none fail.
        let sc = scenario(KUBESPRAY);
        assert_eq!(expected_failed_requests(&sc, &sc.lbs[0]), Some(0.0));
        // Retries off: the restart's attempts fail (tests/golden/nginx-retries-off-traffic.toml:
        // 6-8, worked by hand), so the middle, 7, not 5/s x 25 s = 125.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/nginx-retries-off-traffic.toml"
        ))
        .unwrap();
        let sc = scenario(&text);
        assert_eq!(expected_failed_requests(&sc, &sc.lbs[0]), Some(7.0));
        // An active checker keeps the generic estimate.
        let sc = scenario(super::super::fixture::SEED);
        assert_eq!(expected_failed_requests(&sc, &sc.lbs[0]), None);
    }

    #[test]
    fn an_active_checker_has_none() {
        assert!(run(super::super::fixture::SEED, findings).is_empty());
    }
}
