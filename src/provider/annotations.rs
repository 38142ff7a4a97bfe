//! The Kubernetes Service annotations that set a cloud load balancer's health check, named once:
//! `input::k8s` reads them and `output::fixes` writes them.
//!
//! AWS: aws-load-balancer-controller `docs/guide/service/annotations.md` (the in-tree cloud
//! provider reads the same `healthcheck-*` keys). Azure: cloud-provider-azure
//! `site/content/en/topics/loadbalancer.md` ("Custom Load Balancer health probe": the
//! `azure-load-balancer-health-probe-*` keys for every port, `port_{port}_health-probe_*` for one).

/// Every Service annotation of a cloud provider starts with this.
pub const PREFIX: &str = "service.beta.kubernetes.io/";
/// AWS Load Balancer Controller and in-tree AWS annotations.
pub const AWS: &str = "service.beta.kubernetes.io/aws-load-balancer-";
/// cloud-provider-azure annotations.
pub const AZURE: &str = "service.beta.kubernetes.io/azure-";
/// cloud-provider-azure per-port annotations (`port_{port}_health-probe_*`).
pub const AZURE_PORT: &str = "service.beta.kubernetes.io/port_";

/// The AWS annotation that sets target-group attributes (`key=value` pairs, comma-separated).
pub const AWS_TARGET_GROUP_ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes";
/// The target-group attribute that resets established connections when a target turns unhealthy
/// (docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html).
pub const CONNECTION_TERMINATION: &str = "target_health_state.unhealthy.connection_termination.enabled";
/// The target-group attribute: how long an unhealthy target keeps its established connections.
pub const DRAINING_INTERVAL: &str = "target_health_state.unhealthy.draining_interval_seconds";

/// Which cloud's annotations set a Service's load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// `aws-load-balancer-healthcheck-*`.
    Aws,
    /// `azure-load-balancer-health-probe-*`, `port_{port}_health-probe_*`.
    Azure,
}

/// The AWS health-check settings and the suffix (after [`AWS`]) of the annotation that sets each.
pub const AWS_CHECK: &[(&str, &str)] = &[
    ("protocol", "healthcheck-protocol"),
    ("path", "healthcheck-path"),
    ("port", "healthcheck-port"),
    ("interval", "healthcheck-interval"),
    ("timeout", "healthcheck-timeout"),
    ("matcher", "healthcheck-success-codes"),
    ("healthy_threshold", "healthcheck-healthy-threshold"),
    ("unhealthy_threshold", "healthcheck-unhealthy-threshold"),
];

/// The Azure health-probe settings and the suffix of the annotation that sets each (after
/// `azure-load-balancer-health-probe-` or `port_{port}_health-probe_`).
pub const AZURE_CHECK: &[(&str, &str)] = &[
    ("protocol", "protocol"),
    ("path", "request-path"),
    ("port", "port"),
    ("interval", "interval"),
    ("probe_threshold", "num-of-probe"),
];

/// The suffix of the annotation that sets `setting` in `cloud`, if one does.
pub fn suffix(cloud: Cloud, setting: &str) -> Option<&'static str> {
    let table = match cloud {
        Cloud::Aws => AWS_CHECK,
        Cloud::Azure => AZURE_CHECK,
    };
    table.iter().find(|(s, _)| *s == setting).map(|(_, a)| *a)
}

/// The AWS annotation that sets `setting` (`interval` ->
/// `service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval`).
pub fn aws(setting: &str) -> Option<String> {
    suffix(Cloud::Aws, setting).map(|a| format!("{AWS}{a}"))
}

/// The Azure annotation that sets `setting`: for one port (`port_443_health-probe_interval`) or,
/// without one, for every port (`azure-load-balancer-health-probe-interval`).
pub fn azure(setting: &str, port: Option<&str>) -> Option<String> {
    let a = suffix(Cloud::Azure, setting)?;
    Some(match port {
        Some(p) => format!("{AZURE_PORT}{p}_health-probe_{a}"),
        None => format!("{AZURE}load-balancer-health-probe-{a}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_documented_ones() {
        assert_eq!(
            aws("interval").as_deref(),
            Some("service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval")
        );
        assert_eq!(
            aws("matcher").as_deref(),
            Some("service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes")
        );
        assert_eq!(
            azure("probe_threshold", None).as_deref(),
            Some("service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe")
        );
        assert_eq!(
            azure("path", Some("443")).as_deref(),
            Some("service.beta.kubernetes.io/port_443_health-probe_request-path")
        );
        assert_eq!(aws("probe_threshold"), None);
        assert_eq!(azure("timeout", None), None);
    }
}
