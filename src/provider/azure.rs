//! Azure Load Balancer health probes (Standard and Basic SKU).
//!
//! Scheduling: one probe stream per backend, generated on the VM's host ("Each host where VMs
//! reside can be programmed to generate health probes", load-balancer-custom-probe-overview.md,
//! 2018), fixed rate at `intervalInSeconds`. There is no timeout knob: an HTTP(S) probe fails when
//! the endpoint "doesn't respond at all during the minimum of the probe interval and 30-second
//! timeout period"; a TCP probe fails once the next probe is sent, i.e. after one interval
//! (MicrosoftDocs/azure-docs load-balancer-custom-probe-overview.md @0147a273, 2023). The backend
//! is taken out of rotation after `probeThreshold` consecutive failures (REST spec
//! `ProbePropertiesFormat.probeThreshold`); `numberOfProbes` is ignored by the platform
//! (openshift/installer#9111; azure-docs PR #97561: "we only send 1 probe").
//!
//! Answered failures mark the instance down at once: "Regardless of configured time-out threshold,
//! ... any status code that isn't HTTP 200 OK" or a TCP reset takes it out immediately
//! (MicrosoftDocs/azure-docs load-balancer health probe overview and manage-probes-how-to; the 2018
//! probe doc says the same); `probeThreshold` counts consecutive timeouts. So a 500 from `/readyz`
//! or a refused connection at E3 decides on the first probe; only a hanging `/readyz` needs
//! `probeThreshold` probes.

use super::{required, LbSettings, ProbeModel, Protocol, Schedule};
use crate::error::{InputError, Loc};
use crate::time::Micros;

/// Settings accepted in an Azure `[[lb]]` table.
pub const KNOBS: &[&str] = &[
    "interval",
    "probe_threshold",
    "protocol",
    "path",
    "port",
    "probers",
    "propagation_delay",
    "latency",
];

/// cloud-provider-azure refuses `interval × probeThreshold >= 120` s
/// (pkg/provider/azure_loadbalancer_healthprobe.go); the older Azure docs cap the total at 120 s.
pub const MAX_INTERVAL_TIMES_THRESHOLD: Micros = Micros::from_secs(120);

/// Azure's built-in HTTP(S) probe timeout.
pub const HTTP_TIMEOUT_CAP: Micros = Micros::from_secs(30);

/// The platform-fixed timeout: min(interval, 30 s) for HTTP(S), the interval for TCP.
pub fn effective_timeout(protocol: Protocol, interval: Micros) -> Micros {
    match protocol {
        Protocol::Tcp => interval,
        Protocol::Http | Protocol::Https => interval.min(HTTP_TIMEOUT_CAP),
    }
}

/// Builds the probe model: fixed-rate at `interval`, timeout fixed by the platform.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let interval = required(&s.interval, "interval", at)?.value;
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    let timeout = effective_timeout(protocol, interval);
    let threshold = required(&s.probe_threshold, "probe_threshold", at)?.value;
    Ok(ProbeModel {
        schedule: Schedule::FixedRate { interval },
        view: super::probe_view(s, readiness_path, timeout, timeout),
        threshold,
        rise: threshold,
        probers: s.probers.as_ref().map_or(1, |v| v.value.hi),
        propagation: super::propagation_of(s),
        answered_marks_down: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_is_fixed_by_the_platform() {
        assert_eq!(
            effective_timeout(Protocol::Https, Micros::from_secs(5)),
            Micros::from_secs(5)
        );
        assert_eq!(
            effective_timeout(Protocol::Https, Micros::from_secs(60)),
            Micros::from_secs(30)
        );
        assert_eq!(
            effective_timeout(Protocol::Tcp, Micros::from_secs(60)),
            Micros::from_secs(60)
        );
    }
}
