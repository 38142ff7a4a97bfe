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
pub fn kill_fix(server: &ServerSpec, needed_delay: Micros) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

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
