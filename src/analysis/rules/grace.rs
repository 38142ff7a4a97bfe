//! GL004: SIGKILL (the end of the grace period) comes before the server has drained, and the
//! fixes that must change the grace period because SIGKILL would cut a longer shutdown delay.

use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::time::Micros;
use crate::timeline::{ServerSpec, RETRY_AFTER_SHUTDOWN_TIMEOUT};
use serde::Serialize;

/// GL004 when the grace period ends before preStop, the readiness delay, the shutdown delay and
/// the request grace (and send-retry-after's shutdown timeout) have run.
pub fn finding(c: &Case) -> Option<Finding> {
    let server = &c.sc.server;
    let needed = full_drain(server);
    // SIGKILL as the timeline has it: the grace period, or 2 s after a preStop cut at it.
    let kill = server.timeline().kill;
    (kill < needed).then(|| {
        Finding::new(
            Rule::GL004,
            c.sc.server_loc("termination_grace_period"),
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
                needed - kill
            ),
        )
    })
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
    /// Only the delay is too short; the grace period already lets the longer delay drain.
    ShutdownDelay,
    /// The delay is long enough, but SIGKILL comes before E3 (or before the drain ends): only the
    /// grace period must change.
    TerminationGracePeriod,
    /// Both: the delay needed would be cut by SIGKILL, or leave no time to drain, with the
    /// current grace period.
    Both,
}

/// Which settings a fix needing `needed_delay` must change: the delay when it is shorter, the
/// grace period when it is shorter than the drain at the longer of both delays ([`grace_for`], the
/// one drain formula), so that following the fix raises no GL004. `None` when neither changes.
pub fn fix_binds(server: &ServerSpec, needed_delay: Micros) -> Option<Binds> {
    let delay_short = server.shutdown_delay < needed_delay;
    let grace_short = server.termination_grace_period < grace_for(server, needed_delay);
    match (delay_short, grace_short) {
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

/// The drain formula in words for a delay of `delay` (what [`full_drain`] adds up).
fn drain_words(server: &ServerSpec, delay: Micros) -> String {
    let mut parts = Vec::new();
    if server.prestop_sleep > Micros::ZERO {
        parts.push(format!("prestop_sleep {}", server.prestop_sleep));
    }
    if server.readyz_fail_after > Micros::ZERO {
        parts.push(format!("readyz_fail_after {}", server.readyz_fail_after));
    }
    parts.push(format!("shutdown_delay {delay}"));
    parts.push(format!("request_grace {}", server.request_grace));
    if server.send_retry_after {
        parts.push(format!(
            "{RETRY_AFTER_SHUTDOWN_TIMEOUT} send-retry-after shutdown timeout"
        ));
    }
    parts.join(" + ")
}

/// The fix for a finding that needs a shutdown delay of at least `needed_delay`, naming every
/// setting that must change (the same ones JSON's `recommended_fix_binds` names), with
/// `why_delay` after the delay (e.g. its arithmetic; empty for none). `None` when nothing must
/// change.
pub fn fix_text(server: &ServerSpec, needed_delay: Micros, why_delay: &str) -> Option<String> {
    let grace = grace_for(server, needed_delay);
    let delay = server.shutdown_delay.max(needed_delay);
    let e3 = server.prestop_sleep + server.readyz_fail_after + delay;
    let kill_before_e3 = server.termination_grace_period < e3;
    let grace_words =
        |reason: String| format!("termination_grace_period (terminationGracePeriodSeconds) >= {grace} ({reason})");
    Some(match fix_binds(server, needed_delay)? {
        Binds::ShutdownDelay => format!("fix: shutdown_delay >= {needed_delay}{why_delay}"),
        Binds::TerminationGracePeriod if kill_before_e3 => format!(
            "fix: {}: SIGKILL at {} ends the server before its shutdown delay ({}) is over, so a longer delay does not help",
            grace_words(drain_words(server, delay)),
            server.termination_grace_period,
            server.shutdown_delay
        ),
        Binds::TerminationGracePeriod => format!(
            "fix: {}: SIGKILL at {} cuts the drain",
            grace_words(drain_words(server, delay)),
            server.termination_grace_period
        ),
        Binds::Both => format!(
            "fix: shutdown_delay >= {needed_delay}{why_delay} and {}{}",
            grace_words(drain_words(server, delay)),
            if kill_before_e3 {
                format!(
                    ": SIGKILL at {} comes before E3 at that delay ({e3})",
                    server.termination_grace_period
                )
            } else {
                String::new()
            }
        ),
    })
}

/// When SIGKILL comes before E3 (now, or with the delay needed), a longer shutdown delay alone
/// changes nothing: the fix names the grace period (and the delay only if it is also too short).
/// `None` when SIGKILL does not bind.
pub fn kill_fix(server: &ServerSpec, needed_delay: Micros) -> Option<String> {
    let delay = server.shutdown_delay.max(needed_delay);
    let e3 = server.prestop_sleep + server.readyz_fail_after + delay;
    (server.termination_grace_period < e3)
        .then(|| fix_text(server, needed_delay, ""))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

    #[test]
    fn every_fix_names_the_grace_period_the_longer_delay_needs() {
        let sc = super::super::fixture::scenario(SEED);
        let s = &sc.server;
        // Delay 30 s, grace 135 s: a 60 s delay drains by 60 + 60 = 120 s, within the grace.
        assert_eq!(
            fix_text(s, Micros::from_secs(60), "").unwrap(),
            "fix: shutdown_delay >= 1m"
        );
        // A 86 s delay needs 146 s of grace.
        let t = fix_text(s, Micros::from_secs(86), "").unwrap();
        assert!(
            t.starts_with("fix: shutdown_delay >= 1m26s and termination_grace_period (terminationGracePeriodSeconds) >= 2m26s (shutdown_delay 1m26s + request_grace 1m)"),
            "{t}"
        );
        assert_eq!(fix_binds(s, Micros::from_secs(86)), Some(Binds::Both));
        assert_eq!(fix_text(s, Micros::from_secs(20), ""), None);
    }

    #[test]
    fn sigkill_before_the_drain_ends_is_gl004() {
        // kube-apiserver: readyz_fail_after 0 + delay 30 s + request grace 60 s = 90 s > 60 s.
        let f = run(&SEED.replace("\"135s\"", "\"60s\""), |c| {
            finding(c).into_iter().collect()
        });
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL004, 4));
        assert!(
            f[0].message.ends_with("SIGKILL cuts the drain 30s early"),
            "{}",
            f[0].message
        );
        assert!(run(SEED, |c| finding(c).into_iter().collect()).is_empty());
    }
}
