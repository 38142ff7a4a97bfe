//! HAProxy active health checks (`server ... check`), versions 2.6 to 3.x.
//!
//! Scheduling: completion-relative. After a check finishes, the next one is scheduled
//! `srv_getinter()` later, plus `spread-checks` jitter of ±`interval*spread/100` ms
//! (src/check.c `process_chk_conn()`). `srv_getinter()` (src/server.c) returns `inter` while fully
//! up, `fastinter` (else `inter`) while transitioning, `downinter` (else `inter`) while fully down;
//! it is evaluated after the health counter was updated, so the first failure already selects
//! `fastinter`. The health counter runs 0..rise+fall-1; from full health the server goes DOWN after
//! exactly `fall` consecutive failures (src/check.c `set_server_check_status()`).
//!
//! Timeout: without `timeout check` the whole check is bounded by the configured `inter` (never
//! `fastinter`); with it, the connect phase is bounded by min(`inter`, `timeout connect`) and, once
//! connected, the read by `timeout check` (src/tcpcheck.c `tcpcheck_eval_connect()`; doc
//! "timeout check", https://docs.haproxy.org/2.8/configuration.html#4.2-timeout%20check). A server
//! that accepts and never answers (our `timeout` mode) is connected at once, so the check fails
//! after `timeout check` when set, else after `inter`; `timeout connect` only matters for dropped
//! SYNs, which this model does not produce.
//!
//! Steady state assumed: the server is fully up before E2 (a freshly reloaded HAProxy starts at
//! health = rise and goes down on the first failure; see doc "init-state").

use super::{required, sees_readiness, LbSettings, ProbeModel, Protocol, Schedule};
use crate::error::{InputError, Loc};
use crate::time::Micros;
use crate::timeline::ProbeView;

/// Settings accepted in an HAProxy `[[lb]]` table.
pub const KNOBS: &[&str] = &[
    "inter",
    "fastinter",
    "downinter",
    "fall",
    "rise",
    "timeout_check",
    "timeout_connect",
    "spread_checks",
    "protocol",
    "path",
    "port",
    "propagation_delay",
    "latency",
];

/// Largest `spread-checks` HAProxy accepts (src/cfgparse-global.c).
pub const MAX_SPREAD: u32 = 50;

/// Effective timeout of a check against a server that accepted the connection.
pub fn effective_timeout(inter: Micros, timeout_check: Option<Micros>) -> Micros {
    timeout_check.unwrap_or(inter)
}

/// Builds the probe model: completion-relative with `inter`/`fastinter`/`downinter`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let inter = required(&s.inter, "inter", at)?.value;
    let fastinter = s.fastinter.as_ref().map_or(inter, |v| v.value);
    let downinter = s.downinter.as_ref().map_or(inter, |v| v.value);
    let spread = s.spread_checks.as_ref().map_or(0, |v| v.value);
    if let Some(sp) = &s.spread_checks {
        if sp.value > MAX_SPREAD {
            return Err(InputError::new(
                sp.loc.clone(),
                "spread_checks",
                format!("HAProxy accepts spread-checks from 0 to {MAX_SPREAD}, got {}", sp.value),
            ));
        }
    }
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    Ok(ProbeModel {
        schedule: Schedule::CompletionRelative {
            inter,
            fastinter,
            downinter,
            spread_pct: spread,
        },
        view: ProbeView {
            sees_readiness: sees_readiness(protocol, s.path.as_ref().map(|p| p.value.as_str()), readiness_path),
            timeout: effective_timeout(inter, s.timeout_check.as_ref().map(|v| v.value)),
        },
        threshold: s.fall.as_ref().map_or(3, |v| v.value),
        rise: s.rise.as_ref().map_or(2, |v| v.value),
        probers: 1,
        propagation: s.propagation_delay.as_ref().map_or_else(Default::default, |v| v.value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_check_replaces_inter_as_the_read_timeout() {
        assert_eq!(effective_timeout(Micros::from_secs(2), None), Micros::from_secs(2));
        assert_eq!(
            effective_timeout(Micros::from_secs(2), Some(Micros::from_secs(5))),
            Micros::from_secs(5)
        );
    }
}
