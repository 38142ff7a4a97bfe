//! The Google Cloud load balancer's health check of a NEG endpoint (the pod), as GKE's Ingress
//! controller builds it (kubernetes/ingress-gce pkg/translator/healthchecks.go): its NEG defaults,
//! then the pod's readiness probe (`ApplyProbeSettingsToHC`), then the Service's BackendConfig
//! (`UpdateFromBackendConfig`). Every value it did not read is named with where it comes from.

use super::k8s::{Objects, Service, ServicePort, Target};
use super::LbInput;
use crate::error::Loc;
use crate::provider::{gcp, LbSettings, Located, Protocol};
use crate::time::Micros;

/// ingress-gce's own source of the defaults below.
const SOURCE: &str = "kubernetes/ingress-gce pkg/translator/healthchecks.go";

/// A value with where it comes from; `from_profile` marks a default graceline assumed.
fn located<T>(loc: &Loc, from_profile: bool, value: T) -> Option<Located<T>> {
    Some(Located {
        value,
        loc: loc.clone(),
        from_profile,
    })
}

/// The health check the Google Cloud load balancer runs against the pods of `svc`'s `port`, as an
/// LB input for the `gcp` profile (it checks the pod), with notes on what was not found.
pub fn neg_health_check(
    objs: &Objects,
    svc: &Service,
    port: Option<&ServicePort>,
    target: &Target,
) -> (LbInput, Vec<String>) {
    let mut notes = Vec::new();
    let mut assumed: Vec<(String, String, String)> = Vec::new();
    // DefaultNEGHealthCheck: interval 15 s, timeout 15 s, healthy 1, unhealthy 2, the serving
    // port, request path / (Compute's default).
    let mut k = gcp::Knobs {
        check_interval: located(&svc.loc, true, Micros::from_secs(15)),
    };
    let mut s = LbSettings {
        timeout: located(&svc.loc, true, Micros::from_secs(15)),
        healthy_threshold: located(&svc.loc, true, 1),
        unhealthy_threshold: located(&svc.loc, true, 2),
        protocol: located(&svc.loc, true, Protocol::Http),
        path: located(&svc.loc, true, "/".to_string()),
        ..LbSettings::default()
    };
    let mut from = "GKE's NEG defaults (interval 15 s, timeout 15 s, unhealthy 2, path /)".to_string();
    // ApplyProbeSettingsToHC: an httpGet readiness probe gives the path, its timeout and (NEG
    // mode) its period as the interval.
    let probe_path = target.readiness.as_deref().and_then(|d| d.strip_prefix("httpGet "));
    if let (Some(path), Some(p)) = (probe_path, &target.probe) {
        s.path = located(&p.loc, false, path.to_string());
        s.timeout = located(&p.loc, false, p.timeout);
        k.check_interval = located(&p.loc, false, p.period);
        from = format!("the readiness probe at {} (path, periodSeconds, timeoutSeconds)", p.loc);
    }
    let cfg_name = svc
        .backend_config
        .as_ref()
        .and_then(|r| port.and_then(|p| r.for_port(p)).or(r.default.as_deref()));
    let mut cfg_loc = None;
    if let Some(name) = cfg_name {
        let full = format!("{}/{name}", svc.namespace);
        match objs.backend_configs.iter().find(|b| b.name == full) {
            None => {
                notes.push(format!(
                "{}: BackendConfig {full} named by {} is not among the inputs; its health check is taken from {from}",
                svc.backend_config.as_ref().map(|r| r.loc.to_string()).unwrap_or_default(),
                svc.name
            ))
            }
            Some(b) => {
                cfg_loc = Some(b.loc.clone());
                if let Some(hc) = &b.health_check {
                    if let Some((v, l)) = &hc.interval {
                        k.check_interval = located(l, false, *v);
                    }
                    if let Some((v, l)) = &hc.timeout {
                        s.timeout = located(l, false, *v);
                    }
                    if let Some((v, l)) = &hc.healthy {
                        s.healthy_threshold = located(l, false, *v);
                    }
                    if let Some((v, l)) = &hc.unhealthy {
                        s.unhealthy_threshold = located(l, false, *v);
                    }
                    if let Some((v, l)) = &hc.protocol {
                        s.protocol = located(l, false, *v);
                    }
                    if let Some((v, l)) = &hc.path {
                        s.path = located(l, false, v.clone());
                    }
                    if let Some((v, l)) = &hc.port {
                        s.port = located(l, false, *v);
                    }
                }
            }
        }
    }
    // GCP rejects a timeout longer than the interval (a BackendConfig that shortens the interval
    // alone keeps the 15 s default timeout): ingress-gce's update then fails and the health check
    // keeps its previous settings, which graceline cannot know.
    if let (Some(i), Some(to)) = (&k.check_interval, &s.timeout) {
        if to.value > i.value {
            notes.push(format!(
                "{}: the GKE health check of {} would have timeout {} > interval {}, which Google Cloud refuses (the controller's update fails); set timeoutSec in the BackendConfig",
                to.loc, svc.name, to.value, i.value
            ));
        }
    }
    for (key, from_profile, value) in [
        (
            "check_interval",
            k.check_interval.as_ref().is_some_and(|v| v.from_profile),
            k.check_interval.as_ref().map(|v| v.value.to_string()),
        ),
        (
            "timeout",
            s.timeout.as_ref().is_some_and(|v| v.from_profile),
            s.timeout.as_ref().map(|v| v.value.to_string()),
        ),
        (
            "unhealthy_threshold",
            s.unhealthy_threshold.as_ref().is_some_and(|v| v.from_profile),
            s.unhealthy_threshold.as_ref().map(|v| v.value.to_string()),
        ),
        (
            "path",
            s.path.as_ref().is_some_and(|v| v.from_profile),
            s.path.as_ref().map(|v| v.value.clone()),
        ),
    ] {
        if from_profile {
            assumed.push((
                key.to_string(),
                value.unwrap_or_default(),
                format!("GKE's default for NEG backends ({SOURCE}); set it in a BackendConfig healthCheck"),
            ));
        }
    }
    k.put(&mut s);
    let name = format!("GKE load balancer of {}", svc.name);
    (
        LbInput {
            name,
            profile: "gcp".to_string(),
            settings: s,
            loc: cfg_loc.unwrap_or_else(|| svc.loc.clone()),
            field_prefix: String::new(),
            ports: Vec::new(),
            refused: None,
            assumed,
            service: Some(svc.name.clone()),
            check: super::k8s::CheckTarget::Pod,
        },
        notes,
    )
}
