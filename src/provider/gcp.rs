//! Google Cloud Load Balancing health checks (backend services, passthrough NLBs, legacy checks).
//!
//! Scheduling: fixed rate per prober. The check interval is "the time from the start of one probe
//! to the start of the next probe issued by the same prober" (GDC "Configure health checks", which
//! reuses the GCP text); several probers check each backend, each applying the interval, timeout
//! and thresholds (https://cloud.google.com/load-balancing/docs/health-check-concepts, "Multiple
//! probes and frequency"). How prober verdicts combine is undocumented; any k-of-N rule is bounded
//! by the slowest prober, whose worst case is the single-prober one. `timeoutSec` must not exceed
//! `checkIntervalSec` (Compute API `healthChecks` field description).

use super::{required, sees_readiness, LbSettings, ProbeModel, Protocol, Schedule};
use crate::error::{InputError, Loc};
use crate::timeline::ProbeView;

/// Settings accepted in a GCP `[[lb]]` table.
pub const KNOBS: &[&str] = &[
    "check_interval",
    "timeout",
    "unhealthy_threshold",
    "healthy_threshold",
    "protocol",
    "path",
    "port",
    "probers",
    "propagation_delay",
    "latency",
];

/// Builds the probe model: each prober fixed-rate at `check_interval`, timeout `timeout`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let interval = required(&s.check_interval, "check_interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    Ok(ProbeModel {
        schedule: Schedule::FixedRate { interval },
        view: ProbeView {
            sees_readiness: sees_readiness(protocol, s.path.as_ref().map(|p| p.value.as_str()), readiness_path),
            timeout,
        },
        threshold: required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value,
        rise: s.healthy_threshold.as_ref().map_or(2, |v| v.value),
        probers: s.probers.as_ref().map_or(1, |v| v.value.hi),
        propagation: s.propagation_delay.as_ref().map_or_else(Default::default, |v| v.value),
    })
}
