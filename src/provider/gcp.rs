//! Google Cloud Load Balancing health checks (backend services, passthrough NLBs, legacy checks).
//!
//! Scheduling: fixed rate per prober. The check interval is "the time from the start of one probe
//! to the start of the next probe issued by the same prober" (GDC "Configure health checks", which
//! reuses the GCP text); several probers check each backend, each applying the interval, timeout
//! and thresholds (https://cloud.google.com/load-balancing/docs/health-check-concepts, "Multiple
//! probes and frequency"). How prober verdicts combine is undocumented; any k-of-N rule is bounded
//! by the slowest prober, whose worst case is the single-prober one. `timeoutSec` must not exceed
//! `checkIntervalSec` (Compute API `healthChecks` field description).

use super::{fixed_rate_model, required, LbSettings, ProbeModel};
use crate::error::{InputError, Loc};

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
    let threshold = required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value;
    Ok(fixed_rate_model(s, interval, timeout, threshold, readiness_path))
}
