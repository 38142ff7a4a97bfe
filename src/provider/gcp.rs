//! Google Cloud Load Balancing health checks (backend services, passthrough NLBs, legacy checks).
//!
//! Scheduling: fixed rate per prober. The check interval is "the time from the start of one probe
//! to the start of the next probe issued by the same prober" (GDC "Configure health checks", which
//! reuses the GCP text); several probers check each backend, each applying the interval, timeout
//! and thresholds (https://cloud.google.com/load-balancing/docs/health-check-concepts, "Multiple
//! probes and frequency"). How prober verdicts combine is undocumented; any k-of-N rule is bounded
//! by the slowest prober, whose worst case is the single-prober one. `timeoutSec` must not exceed
//! `checkIntervalSec` (Compute API `healthChecks` field description).

use super::{
    fixed_rate_grid, fixed_rate_model, fixed_rate_values, fixed_rate_words, required, Builtin, Grid, KnobValue,
    LbSettings, Limits, ProbeModel, Provider, Setting,
};
use crate::error::{InputError, Loc};
use crate::time::Micros;

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

own_knobs! {
    /// GCP's own settings: the health check's `checkIntervalSec` under its own name.
    pub struct Knobs {
        /// `checkIntervalSec`.
        check_interval: Micros [Positive, Interval],
    }
}

/// Builds the probe model: each prober fixed-rate at `check_interval`, timeout `timeout`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let k = Knobs::of(s);
    let interval = required(&k.check_interval, "check_interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let threshold = required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value;
    Ok(fixed_rate_model(s, interval, timeout, threshold, readiness_path))
}

/// Google Cloud Load Balancing health checks.
#[derive(Debug)]
pub struct Gcp;

/// The GCP provider.
pub static GCP: Gcp = Gcp;

impl Provider for Gcp {
    fn family(&self) -> &'static str {
        "gcp"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("gcp")]
    }

    fn own(&self) -> super::OwnKnobs {
        Knobs::OWN
    }

    fn verdict_knobs(&self) -> &'static [&'static str] {
        &["check_interval"]
    }

    fn knobs(&self) -> &'static [&'static str] {
        KNOBS
    }

    fn interval_key(&self) -> &'static str {
        "check_interval"
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        model(s, readiness_path, at).map(Some)
    }

    fn grid(&self, _s: &LbSettings, limits: &Limits) -> Grid {
        fixed_rate_grid(limits, "check_interval")
    }

    fn describe(&self, st: &Setting) -> String {
        fixed_rate_words("check_interval", st)
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        fixed_rate_values("check_interval", st)
    }

    fn all_unhealthy(&self) -> &'static str {
        "a passthrough NLB without a failover policy sends traffic to all VMs (fail open), a proxy LB answers 503"
    }

    /// A passthrough LB routes connections, not requests.
    fn established_connections(&self, _s: &LbSettings, until_server: &str) -> Option<String> {
        Some(format!("established keep-alive connections keep carrying requests after the passthrough LB stops new connections {until_server}"))
    }
}
