//! Azure Load Balancer health probes (Standard and Basic SKU).
//!
//! Scheduling: one probe stream per backend, generated on the VM's host ("Each host where VMs
//! reside can be programmed to generate health probes", load-balancer-custom-probe-overview.md,
//! 2018), fixed rate at `intervalInSeconds`. There is no timeout knob: an HTTP(S) probe fails when
//! the endpoint "doesn't respond at all during the minimum of the probe interval and 30-second
//! timeout period"; a TCP probe fails once the next probe is sent, i.e. after one interval
//! (MicrosoftDocs/azure-docs load-balancer-custom-probe-overview.md @0147a273, 2023). The backend
//! is taken out of rotation after `probeThreshold` consecutive failures (REST spec
//! `ProbePropertiesFormat.probeThreshold`); `numberOfProbes` is ignored by the platform (Azure
//! Load Balancer "What's new", known issues, cited by kubernetes-sigs/cloud-provider-azure#3623:
//! "numberofprobes never works"; openshift/installer#9111).
//!
//! Answered failures of HTTP(S) probes mark the instance down at once: "Regardless of configured
//! time-out threshold, HTTP(S) load balancer health probes will automatically mark the instance as
//! down if the server returns any status code that isn't HTTP 200 OK or if the connection is
//! terminated via TCP reset" (MicrosoftDocs/azure-docs load-balancer-custom-probe-overview.md and
//! manage-probes-how-to); `probeThreshold` counts consecutive timeouts. So a 500 from `/readyz` or
//! a refused connection at E3 decides on the first HTTP(S) probe; only a hanging `/readyz` needs
//! `probeThreshold` probes. The sentence is about HTTP(S) probes: a TCP probe's reset counts like
//! any failure towards `probeThreshold`.
//!
//! Limits: the API takes any int32 interval (MicrosoftDocs/azure-docs#107019); cloud-provider-azure
//! refuses interval x probes >= 120 s for Service annotations
//! (pkg/provider/azure_loadbalancer_healthprobe.go), which graceline reports as an error for
//! Services and as a warning for Terraform and scenario files.

use super::{
    apply_setting, count_range, protocol_of, required, secs_range, Builtin, Grid, KnobValue, LbSettings,
    LimitViolation, Limits, ProbeModel, Protocol, Provider, Schedule, Setting,
};
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

own_knobs! {
    /// Azure's own settings: the probe's `probeThreshold`.
    pub struct Knobs {
        /// `probeThreshold`: consecutive failed probes that take the instance out.
        probe_threshold: u32 [AtLeastOne, Down],
    }
}

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
    let k = Knobs::of(s);
    let interval = required(&s.interval, "interval", at)?.value;
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    let timeout = effective_timeout(protocol, interval);
    let threshold = required(&k.probe_threshold, "probe_threshold", at)?.value;
    Ok(ProbeModel {
        schedule: Schedule::FixedRate { interval },
        view: super::probe_view(s, readiness_path, timeout, timeout),
        threshold,
        rise: threshold,
        probers: s.probers.as_ref().map_or(1, |v| v.value.hi),
        propagation: super::propagation_of(s),
        answered_marks_down: protocol != Protocol::Tcp,
    })
}

/// Largest fixed-rate interval the recommendation grid searches (the API accepts far more; no
/// such interval can pass a realistic delay).
pub const GRID_MAX: Micros = Micros::from_secs(300);

/// Azure Load Balancer health probes.
#[derive(Debug)]
pub struct Azure;

/// The Azure provider.
pub static AZURE: Azure = Azure;

impl Provider for Azure {
    fn family(&self) -> &'static str {
        "azure"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("azure-lb")]
    }

    fn own(&self) -> super::OwnKnobs {
        Knobs::OWN
    }

    fn verdict_knobs(&self) -> &'static [&'static str] {
        &["probe_threshold"]
    }

    fn knobs(&self) -> &'static [&'static str] {
        KNOBS
    }

    fn service_annotations(&self) -> Option<super::annotations::Cloud> {
        Some(super::annotations::Cloud::Azure)
    }

    fn threshold_key(&self) -> &'static str {
        "probe_threshold"
    }

    /// The profile's ranges, then cloud-provider-azure's cap on interval x probe_threshold, then
    /// the protocol.
    fn limit_violations(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Vec<LimitViolation> {
        let mut out = super::check_ranges(s, limits, profile, "timeout", self.interval_key());
        let k = Knobs::of(s);
        if let (Some(max), Some(i), Some(t)) = (limits.interval_times_threshold_below, &s.interval, &k.probe_threshold)
        {
            if i.value.times(i64::from(t.value)) >= max {
                let loc = if i.from_profile { t.loc.clone() } else { i.loc.clone() };
                out.push(LimitViolation {
                    loc,
                    message: format!(
                        "cloud-provider-azure requires interval x probe_threshold below {max} for Service annotations (pkg/provider/azure_loadbalancer_healthprobe.go), got {} x {} = {}; the Azure API itself accepts it (MicrosoftDocs/azure-docs#107019)",
                        i.value,
                        t.value,
                        i.value.times(i64::from(t.value))
                    ),
                    tool_only: true,
                });
            }
        }
        out.extend(super::check_protocol(s, limits, profile));
        out
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        model(s, readiness_path, at).map(Some)
    }

    /// Every whole-second interval up to [`GRID_MAX`] and threshold with their product below the
    /// platform's cap; the timeout follows the interval.
    fn grid(&self, s: &LbSettings, limits: &Limits) -> Grid {
        let protocol = protocol_of(s);
        let mut settings = Vec::new();
        let ir = secs_range(limits, "interval", [Micros::from_secs(5), GRID_MAX]);
        let ir = *ir.start()..=(*ir.end()).min(GRID_MAX.0 / 1_000_000);
        let ur = count_range(limits, "probe_threshold", [1, 100]);
        let product_below = limits.interval_times_threshold_below;
        for i in ir.clone() {
            let interval = Micros::from_secs(i);
            for u in ur.clone() {
                if product_below.is_some_and(|max| interval.times(i64::from(u)) >= max) {
                    continue;
                }
                let timeout = effective_timeout(protocol, interval);
                settings.push(Setting {
                    interval,
                    timeout,
                    timeout_min: timeout,
                    threshold: u,
                    fastinter: interval,
                });
            }
        }
        let description = format!(
            "every whole-second interval {}-{} s, probe_threshold {}-{}{}, timeout fixed by the platform",
            ir.start(),
            ir.end(),
            ur.start(),
            ur.end(),
            product_below.map_or_else(String::new, |m| format!(" with interval x probe_threshold below {m}"))
        );
        Grid { settings, description }
    }

    /// Passes needed to come back equal the failures that take a backend out (`probeThreshold`).
    fn apply(&self, model: ProbeModel, st: &Setting) -> ProbeModel {
        let mut m = apply_setting(model, st);
        m.rise = st.threshold;
        m
    }

    fn timeout_at_interval(&self, s: &LbSettings, _limits: &Limits, _timeout: Micros, interval: Micros) -> Micros {
        effective_timeout(protocol_of(s), interval)
    }

    /// The platform fixes the timeout: only the interval is proposed.
    fn interval_words(&self, interval: Micros, _timeout: Micros) -> String {
        interval.to_string()
    }

    fn describe(&self, st: &Setting) -> String {
        format!(
            "interval = {}, probe_threshold = {} (timeout {})",
            st.interval, st.threshold, st.timeout
        )
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        vec![
            ("interval", KnobValue::Duration(st.interval)),
            ("probe_threshold", KnobValue::Count(st.threshold)),
            ("timeout", KnobValue::Duration(st.timeout)),
        ]
    }

    fn all_unhealthy(&self) -> &'static str {
        "no backend is healthy, so new flows fail"
    }

    /// Azure LB routes flows, not requests.
    fn established_connections(&self, _s: &LbSettings, until_server: &str) -> Option<String> {
        Some(format!("established flows to a down instance are kept by Azure Standard LB (Basic terminates them only when all probes are down: \"Probe down behavior\" in the Azure LB health-probe documentation): keep-alive connections keep carrying requests {until_server}"))
    }
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
