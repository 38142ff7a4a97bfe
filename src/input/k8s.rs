//! Kubernetes `Service`s of type `LoadBalancer` (multi-document YAML): the health check each
//! cloud's controller configures, from the Service's annotations and the controller's defaults.
//!
//! Which controller: AWS annotations (`service.beta.kubernetes.io/aws-load-balancer-*`) or
//! `spec.loadBalancerClass: service.k8s.aws/nlb`; Azure annotations
//! (`service.beta.kubernetes.io/azure-*`, `service.beta.kubernetes.io/port_<port>_health-probe_*`);
//! GCP annotations (`cloud.google.com/*`, `networking.gke.io/*`) or a GKE load-balancer class.
//! A Service with none of these needs `--cloud` (or `cloud =` in graceline.toml).
//!
//! Defaults, with their sources:
//! - AWS Load Balancer Controller (`aws-load-balancer-type: external` or `nlb-ip`, or the class
//!   `service.k8s.aws/nlb`): TCP on the traffic port, interval 10 s, timeout 10 s, thresholds 3/3;
//!   instance targets with `externalTrafficPolicy: Local`: HTTP `/healthz` on the
//!   healthCheckNodePort, 10 s / 6 s / 2 / 2 (kubernetes-sigs/aws-load-balancer-controller
//!   pkg/service/model_builder.go; docs/guide/service/annotations.md). Its
//!   `healthcheck-success-codes` annotation is the check's success matcher (default 200-399 from
//!   the aws-nlb profile); the in-tree controllers have no such annotation.
//! - In-tree cloud-provider-aws NLB (`aws-load-balancer-type: nlb`): TCP, interval 30 s,
//!   thresholds 3/3; `Local`: HTTP `/healthz` on the healthCheckNodePort, 10 s, 2/2. It never sends
//!   the timeout, so AWS applies its own (6 s HTTP, 10 s TCP/HTTPS, from the aws-nlb profile's
//!   `[protocol_defaults]` like every reader) and the `-healthcheck-timeout`
//!   annotation has no effect (kubernetes/cloud-provider-aws pkg/providers/v1/aws.go
//!   `buildNLBHealthCheckConfiguration`, aws_loadbalancer.go `ensureTargetGroup`).
//! - In-tree Classic ELB (no type annotation): TCP (SSL with `aws-load-balancer-backend-protocol:
//!   https|ssl`), interval 10 s, timeout 5 s, healthy 2, unhealthy 6; `Local`: HTTP `/healthz`
//!   (aws_loadbalancer.go `defaultElbHC*`, aws.go `EnsureLoadBalancer`).
//! - Azure (kubernetes-sigs/cloud-provider-azure pkg/consts/consts.go, pkg/provider/
//!   azure_loadbalancer_healthprobe.go): interval 5 s, `num-of-probe` 2 (written to
//!   `probeThreshold`), protocol from the port annotation, else `appProtocol`, else the Service
//!   annotation, else TCP; path `/`; `Local`: HTTP `/healthz` on the healthCheckNodePort. The
//!   controller rejects an interval below 5, `num-of-probe` below 2 and interval × num-of-probe of
//!   120 or more.
//! - GCP: Services have no health-check annotations (BackendConfig and HealthCheckPolicy configure
//!   Ingress and Gateway backends, not Services of type LoadBalancer). The controller checks the
//!   nodes over HTTP `/healthz`: kube-proxy's port 10256 with `Cluster`, the healthCheckNodePort
//!   with `Local`; interval 8 s, timeout 1 s, healthy 1, unhealthy 3 (kubernetes/cloud-provider-gcp
//!   providers/gce/gce.go `gceHcCheckIntervalSeconds`…); the GKE L4 controller (subsetting ILB,
//!   `cloud.google.com/l4-rbs`, GKE classes) uses 3 s and unhealthy 2 with `Local`
//!   (kubernetes/ingress-gce pkg/healthchecksl4/healthchecksl4.go).
//!
//! Node health checks (`/healthz` of kube-proxy) cannot see the server's readiness endpoint:
//! graceline reports them as blind (GL003). With `Local` they follow pod readiness through the
//! kubelet and kube-proxy, with delays graceline does not model.

use super::yaml::{self, Node, Text};
use super::Cloud;
use crate::error::{InputError, Loc};
use crate::provider::{aws, azure, gcp, LbSettings, Located, Protocol};
use crate::scenario::k8s::CheckTarget;
use crate::scenario::LbInput;
use crate::time::Micros;

use crate::provider::annotations::{self, AWS, AWS_TARGET_GROUP_ATTRIBUTES, AZURE, AZURE_PORT, CONNECTION_TERMINATION};

/// The AWS annotation of a health-check setting ([`annotations::AWS_CHECK`] names them all).
fn aws_check(setting: &str) -> String {
    annotations::aws(setting).expect("a setting of annotations::AWS_CHECK")
}

/// The Azure annotation of a health-check setting, for one port or every port.
fn azure_check(setting: &str, port: Option<&str>) -> String {
    annotations::azure(setting, port).expect("a setting of annotations::AZURE_CHECK")
}
const LBC_CLASS: &str = "service.k8s.aws/nlb";
const GKE_CLASSES: &[&str] = &[
    "networking.gke.io/l4-regional-external",
    "networking.gke.io/l4-regional-internal",
];
/// The load-balancer attribute for cross-zone load balancing (`aws-load-balancer-attributes`).
const CROSS_ZONE: &str = "load_balancing.cross_zone.enabled";

/// True when the stream holds a `Service` of any type.
pub fn has_services(docs: &[Node]) -> bool {
    docs.iter()
        .any(|d| yaml::get(d, "kind").and_then(yaml::as_str) == Some("Service"))
}

/// An annotation with the locations of its key and value.
struct Ann<'n, 'a> {
    value: &'n str,
    node: &'n Node<'a>,
}

/// One Service being read.
struct Svc<'t, 'n, 'a> {
    t: &'t Text<'a>,
    name: String,
    loc: Loc,
    annotations: Vec<(&'n str, Ann<'n, 'a>)>,
    spec: &'n Node<'a>,
    local: bool,
}

impl<'n, 'a> Svc<'_, 'n, 'a> {
    fn ann(&self, key: &str) -> Option<&Ann<'n, 'a>> {
        self.annotations.iter().find(|(k, _)| *k == key).map(|(_, a)| a)
    }

    fn err(&self, at: &Node, field: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.t.loc(at), field, message)
    }

    fn located<T>(&self, value: T, at: &Node) -> Located<T> {
        Located {
            value,
            loc: self.t.loc(at),
            from_profile: false,
        }
    }

    fn default<T>(&self, value: T) -> Option<Located<T>> {
        Some(Located {
            value,
            loc: self.loc.clone(),
            from_profile: true,
        })
    }

    /// A whole number annotation (seconds or a count), at least `min`.
    fn int(&self, key: &str, min: u32) -> Result<Option<(u32, &'n Node<'a>)>, InputError> {
        let Some(a) = self.ann(key) else { return Ok(None) };
        let v = a.value.trim();
        match v.parse::<u32>() {
            Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) && n >= min => Ok(Some((n, a.node))),
            Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => {
                Err(self.err(a.node, key, format!("the controller rejects {n}: the minimum is {min}")))
            }
            _ => Err(self.err(
                a.node,
                key,
                format!("\"{}\" is not a whole number (write e.g. \"10\")", a.value),
            )),
        }
    }

    fn seconds(&self, key: &str, min: u32) -> Result<Option<Located<Micros>>, InputError> {
        Ok(self
            .int(key, min)?
            .map(|(n, node)| self.located(Micros::from_secs(i64::from(n)), node)))
    }

    fn count(&self, key: &str, min: u32) -> Result<Option<Located<u32>>, InputError> {
        Ok(self.int(key, min)?.map(|(n, node)| self.located(n, node)))
    }

    fn path(&self, key: &str) -> Result<Option<Located<String>>, InputError> {
        let Some(a) = self.ann(key) else { return Ok(None) };
        if !a.value.starts_with('/') {
            return Err(self.err(a.node, key, format!("\"{}\" must start with /", a.value)));
        }
        Ok(Some(self.located(a.value.to_string(), a.node)))
    }
}

/// Reads every `Service` of type `LoadBalancer`; `cloud` decides for Services without a
/// cloud-specific annotation.
pub fn lbs(t: &Text, docs: &[Node], cloud: Option<Cloud>) -> Result<Vec<LbInput>, InputError> {
    let (lbs, mut unknown) = lbs_with_unknown(t, docs, cloud)?;
    match unknown.is_empty() {
        true => Ok(lbs),
        false => Err(unknown.remove(0)),
    }
}

/// [`lbs`], with the Services whose controller no annotation names (and no `--cloud` decides)
/// returned as located reasons instead of failing the file: the file's workloads and other
/// Services are still judged, and those load balancers are said as not judged.
pub fn lbs_with_unknown(
    t: &Text,
    docs: &[Node],
    cloud: Option<Cloud>,
) -> Result<(Vec<LbInput>, Vec<InputError>), InputError> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for doc in docs {
        if yaml::get(doc, "kind").and_then(yaml::as_str) != Some("Service") {
            continue;
        }
        let Some(spec) = yaml::get(doc, "spec") else { continue };
        let Some(ty) = yaml::get(spec, "type") else { continue };
        if yaml::as_str(ty) != Some("LoadBalancer") {
            continue;
        }
        let meta = yaml::get(doc, "metadata");
        let name_node = meta.and_then(|m| yaml::get(m, "name"));
        let Some(name) = name_node.and_then(yaml::as_str) else {
            return Err(InputError::new(t.loc(doc), "metadata.name", "a Service needs a name"));
        };
        let ns = meta
            .and_then(|m| yaml::get(m, "namespace"))
            .and_then(yaml::as_str)
            .unwrap_or("default");
        let mut annotations = Vec::new();
        if let Some(anns) = meta.and_then(|m| yaml::get(m, "annotations")) {
            for (k, v) in yaml::entries(anns) {
                let Some(key) = yaml::as_str(k) else {
                    return Err(InputError::new(
                        t.loc(k),
                        "metadata.annotations",
                        "annotation keys must be strings",
                    ));
                };
                let Some(value) = yaml::as_str(v) else {
                    return Err(InputError::new(
                        t.loc(v),
                        key,
                        format!(
                            "annotation values must be strings, got {} (the API server rejects it): quote it",
                            yaml::kind_of(v)
                        ),
                    ));
                };
                annotations.push((key, Ann { value, node: v }));
            }
        }
        let etp = yaml::get(spec, "externalTrafficPolicy");
        let local = match etp.map(|n| (yaml::as_str(n), n)) {
            None | Some((Some("Cluster"), _)) => false,
            Some((Some("Local"), _)) => true,
            Some((_, n)) => {
                return Err(InputError::new(
                    t.loc(n),
                    "spec.externalTrafficPolicy",
                    "must be Cluster or Local",
                ))
            }
        };
        let svc = Svc {
            t,
            name: format!("{ns}/{name}"),
            loc: t.loc(name_node.unwrap_or(doc)),
            annotations,
            spec,
            local,
        };
        let class = yaml::get(spec, "loadBalancerClass");
        let class_str = class.and_then(yaml::as_str);
        let has = |p: &str| svc.annotations.iter().any(|(k, _)| k.starts_with(p));
        let mut clouds = Vec::new();
        if has(AWS) || class_str == Some(LBC_CLASS) {
            clouds.push(Cloud::Aws);
        }
        if has(AZURE) || svc.annotations.iter().any(|(k, _)| is_azure_port_key(k)) {
            clouds.push(Cloud::Azure);
        }
        if has("cloud.google.com/") || has("networking.gke.io/") || class_str.is_some_and(|c| GKE_CLASSES.contains(&c))
        {
            clouds.push(Cloud::Gcp);
        }
        if let (Some(c), Some(n)) = (class_str, class) {
            if c != LBC_CLASS && !GKE_CLASSES.contains(&c) {
                return Err(InputError::new(
                    t.loc(n),
                    "spec.loadBalancerClass",
                    format!(
                        "\"{c}\" is handled by a controller graceline does not know (known: {LBC_CLASS}, {})",
                        GKE_CLASSES.join(", ")
                    ),
                ));
            }
        }
        // Controllers graceline has no model for: named, never read with another cloud's semantics.
        if clouds.is_empty() {
            let other = OTHER_CONTROLLERS.iter().find(|(_, prefixes)| {
                svc.annotations
                    .iter()
                    .find(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
                    .is_some()
                    || class_str.is_some_and(|c| prefixes.iter().any(|p| c.starts_with(p)))
            });
            if let Some((who, prefixes)) = other {
                let (key, node) = svc
                    .annotations
                    .iter()
                    .find(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
                    .map_or(("spec.loadBalancerClass", class.unwrap_or(ty)), |(k, a)| (*k, a.node));
                return Err(InputError::new(
                    t.loc(node),
                    key,
                    format!(
                        "{}: this Service is provisioned by {who}, whose health checks graceline does not model (it models AWS, GCP, Azure and HAProxy); --cloud / cloud = do not apply to it, leave the file out or check the LB in front of it",
                        svc.name
                    ),
                ));
            }
        }
        let cloud = match (clouds.as_slice(), cloud) {
            ([one], _) => *one,
            ([], Some(c)) => c,
            ([], None) => {
                unknown.push(InputError::new(
                    t.loc(ty),
                    "spec.type",
                    format!(
                        "{}: no cloud-specific annotation or loadBalancerClass says which controller provisions this load balancer; pass --cloud aws|gcp|azure (or cloud = \"...\" in graceline.toml)",
                        svc.name
                    ),
                ));
                continue;
            }
            (many, _) => {
                return Err(InputError::new(
                    t.loc(ty),
                    "metadata.annotations",
                    format!(
                        "{}: annotations of several clouds ({}) on one Service",
                        svc.name,
                        many.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        let first = out.len();
        match cloud {
            Cloud::Aws => out.push(aws(&svc, class_str == Some(LBC_CLASS))?),
            Cloud::Gcp => out.push(gcp(&svc, class_str.is_some_and(|c| GKE_CLASSES.contains(&c)))?),
            Cloud::Azure => out.extend(azure(&svc)?),
        }
        let ports = target_ports(spec);
        for lb in &mut out[first..] {
            lb.ports.clone_from(&ports);
            lb.service = Some(svc.name.clone());
        }
    }
    Ok((out, unknown))
}

/// Load-balancer controllers of other clouds and bare-metal, by annotation prefix or
/// `loadBalancerClass` prefix (sources: each controller's documentation, e.g.
/// docs.digitalocean.com/products/kubernetes/how-to/configure-load-balancers,
/// github.com/scaleway/scaleway-cloud-controller-manager/docs/loadbalancer-annotations.md,
/// github.com/oracle/oci-cloud-controller-manager/docs/load-balancer-annotations.md,
/// community.exoscale.com/documentation/sks/loadbalancer-ingress, metallb.universe.tf/usage,
/// github.com/hetznercloud/hcloud-cloud-controller-manager, github.com/linode/linode-cloud-controller-manager).
const OTHER_CONTROLLERS: &[(&str, &[&str])] = &[
    (
        "DigitalOcean's cloud controller",
        &[
            "service.beta.kubernetes.io/do-loadbalancer-",
            "kubernetes.digitalocean.com/",
        ],
    ),
    (
        "Scaleway's cloud controller",
        &["service.beta.kubernetes.io/scw-loadbalancer-"],
    ),
    (
        "Oracle Cloud's (OCI) cloud controller",
        &[
            "service.beta.kubernetes.io/oci-load-balancer-",
            "oci.oraclecloud.com/",
            "oci-network-load-balancer.",
        ],
    ),
    (
        "Exoscale's cloud controller",
        &["service.beta.kubernetes.io/exoscale-loadbalancer-"],
    ),
    ("MetalLB", &["metallb.universe.tf/", "metallb.io/"]),
    ("Hetzner's cloud controller", &["load-balancer.hetzner.cloud/"]),
    (
        "Linode's cloud controller",
        &["service.beta.kubernetes.io/linode-loadbalancer-"],
    ),
    (
        "Alibaba Cloud's controller",
        &[
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-",
            "service.beta.kubernetes.io/alicloud-loadbalancer-",
        ],
    ),
    (
        "IBM Cloud's controller",
        &["service.kubernetes.io/ibm-load-balancer-cloud-provider-"],
    ),
    (
        "OpenStack's cloud controller (Octavia)",
        &[
            "loadbalancer.openstack.org/",
            "service.beta.kubernetes.io/openstack-internal-load-balancer",
        ],
    ),
];

fn is_azure_port_key(k: &str) -> bool {
    k.strip_prefix(AZURE_PORT)
        .and_then(|r| r.split_once('_'))
        .is_some_and(|(port, rest)| port.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("health-probe_"))
}

fn protocol_value(svc: &Svc, key: &str, allowed: &[(&str, Protocol)]) -> Result<Option<Located<Protocol>>, InputError> {
    let Some(a) = svc.ann(key) else { return Ok(None) };
    match allowed.iter().find(|(n, _)| n.eq_ignore_ascii_case(a.value.trim())) {
        Some((_, p)) => Ok(Some(svc.located(*p, a.node))),
        None => Err(svc.err(
            a.node,
            key,
            format!(
                "unknown health-check protocol \"{}\"; accepted: {}",
                a.value,
                allowed.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AwsController {
    Lbc { ip_targets: bool },
    InTreeNlb,
    InTreeClb,
}

fn aws(svc: &Svc, lbc_class: bool) -> Result<LbInput, InputError> {
    let type_key = format!("{AWS}type");
    let controller = match svc.ann(&type_key) {
        None if lbc_class => AwsController::Lbc { ip_targets: false },
        None => AwsController::InTreeClb,
        Some(a) => match a.value.trim() {
            "nlb" if !lbc_class => AwsController::InTreeNlb,
            "nlb" | "external" => AwsController::Lbc { ip_targets: false },
            "nlb-ip" => AwsController::Lbc { ip_targets: true },
            other => {
                return Err(svc.err(
                    a.node,
                    &type_key,
                    format!("unknown load-balancer type \"{other}\"; accepted: nlb (in-tree), external or nlb-ip (AWS Load Balancer Controller)"),
                ))
            }
        },
    };
    let controller = match controller {
        AwsController::Lbc { ip_targets: false } => {
            let key = format!("{AWS}nlb-target-type");
            match svc.ann(&key) {
                None => controller,
                Some(a) => match a.value.trim() {
                    "instance" => AwsController::Lbc { ip_targets: false },
                    "ip" => AwsController::Lbc { ip_targets: true },
                    other => {
                        return Err(svc.err(
                            a.node,
                            &key,
                            format!("unknown target type \"{other}\"; accepted: instance, ip"),
                        ))
                    }
                },
            }
        }
        c => c,
    };
    let node_check = svc.local && controller != AwsController::Lbc { ip_targets: true };
    let mut s = LbSettings::default();
    // Controller defaults (module doc for sources).
    let (interval, timeout, healthy, unhealthy) = match (controller, node_check) {
        (AwsController::Lbc { .. }, false) => (10, Some(10), 3, 3),
        (AwsController::Lbc { .. }, true) => (10, Some(6), 2, 2),
        (AwsController::InTreeNlb, false) => (30, None, 3, 3),
        (AwsController::InTreeNlb, true) => (10, None, 2, 2),
        (AwsController::InTreeClb, false) => (10, Some(5), 2, 6),
        (AwsController::InTreeClb, true) => (10, Some(5), 2, 6),
    };
    let clb = controller == AwsController::InTreeClb;
    let backend_tls = svc
        .ann(&format!("{AWS}backend-protocol"))
        .is_some_and(|a| matches!(a.value.trim().to_ascii_lowercase().as_str(), "https" | "ssl"));
    s.protocol = svc.default(if node_check { Protocol::Http } else { Protocol::Tcp });
    if node_check {
        s.path = svc.default("/healthz".to_string());
    } else if clb && backend_tls {
        // SSL ping: a TLS handshake only, as blind to /readyz as TCP.
        s.protocol = svc.default(Protocol::Tcp);
    }
    let mut accepted = vec![
        ("TCP", Protocol::Tcp),
        ("HTTP", Protocol::Http),
        ("HTTPS", Protocol::Https),
    ];
    if clb {
        accepted.push(("SSL", Protocol::Tcp));
    }
    if let Some(p) = protocol_value(svc, &aws_check("protocol"), &accepted)? {
        s.protocol = Some(p);
    }
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    if protocol != Protocol::Tcp {
        if s.path.is_none() {
            s.path = svc.default("/".to_string());
        }
        if let Some(p) = svc.path(&aws_check("path"))? {
            s.path = Some(p);
        }
    } else {
        s.path = None;
    }
    if let Some(a) = svc.ann(&aws_check("port")) {
        let v = a.value.trim();
        if v != "traffic-port" {
            let port = v.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                svc.err(
                    a.node,
                    &aws_check("port"),
                    format!("\"{v}\" is not a port number or traffic-port"),
                )
            })?;
            s.port = Some(svc.located(port, a.node));
        }
    }
    s.interval = svc
        .seconds(&aws_check("interval"), 1)?
        .or_else(|| svc.default(Micros::from_secs(interval)));
    s.timeout = match timeout {
        Some(d) => svc
            .seconds(&aws_check("timeout"), 1)?
            .or_else(|| svc.default(Micros::from_secs(d))),
        // In-tree NLB: the annotation is validated but AWS's protocol default applies (from the
        // aws-nlb profile, like every reader).
        None => {
            svc.seconds(&aws_check("timeout"), 1)?;
            None
        }
    };
    if matches!(controller, AwsController::Lbc { .. }) {
        let key = aws_check("matcher");
        if let Some(a) = svc.ann(&key) {
            let m = crate::provider::matcher::Matcher::parse_codes(a.value).map_err(|e| svc.err(a.node, &key, e))?;
            s.matcher = Some(svc.located(m, a.node));
        }
    }
    s.healthy_threshold = svc
        .count(&aws_check("healthy_threshold"), 1)?
        .or_else(|| svc.default(healthy));
    s.unhealthy_threshold = svc
        .count(&aws_check("unhealthy_threshold"), 1)?
        .or_else(|| svc.default(unhealthy));
    let attr_key = AWS_TARGET_GROUP_ATTRIBUTES;
    if let Some(a) = svc.ann(attr_key) {
        for pair in a.value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(svc.err(a.node, attr_key, format!("\"{pair}\" is not key=value")));
            };
            if k.trim() == CONNECTION_TERMINATION {
                if clb {
                    return Err(svc.err(
                        a.node,
                        attr_key,
                        "target-group attributes do not apply to a Classic ELB",
                    ));
                }
                let on = match v.trim() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(svc.err(
                            a.node,
                            attr_key,
                            format!("{CONNECTION_TERMINATION} must be true or false, got \"{other}\""),
                        ))
                    }
                };
                aws::Knobs {
                    connection_termination: Some(Located {
                        value: on,
                        loc: svc.t.loc_within(a.node, CONNECTION_TERMINATION),
                        from_profile: false,
                    }),
                    ..Default::default()
                }
                .put(&mut s);
            }
        }
    }
    // AWS Load Balancer Controller load-balancer attributes: cross-zone load balancing (off by
    // default for NLB; the aws-nlb profile's `cross_zone` source), read for the fail-open rules.
    let lb_attr_key = format!("{AWS}attributes");
    if let (Some(a), false) = (svc.ann(&lb_attr_key), clb) {
        for pair in a.value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(svc.err(a.node, &lb_attr_key, format!("\"{pair}\" is not key=value")));
            };
            if k.trim() == CROSS_ZONE {
                let on = match v.trim() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(svc.err(
                            a.node,
                            &lb_attr_key,
                            format!("{CROSS_ZONE} must be true or false, got \"{other}\""),
                        ))
                    }
                };
                aws::Knobs {
                    cross_zone: Some(Located {
                        value: on,
                        loc: svc.t.loc_within(a.node, CROSS_ZONE),
                        from_profile: false,
                    }),
                    ..Default::default()
                }
                .put(&mut s);
            }
        }
    }
    Ok(LbInput {
        name: svc.name.clone(),
        profile: if clb { "aws-clb" } else { "aws-nlb" }.to_string(),
        settings: s,
        loc: svc.loc.clone(),
        field_prefix: String::new(),
        ports: Vec::new(),
        refused: None,
        assumed: Vec::new(),
        service: None,
        check: if controller == (AwsController::Lbc { ip_targets: true }) {
            CheckTarget::Pod
        } else if svc.local {
            CheckTarget::HealthCheckNodePort
        } else {
            CheckTarget::NodePort
        },
    })
}

/// The pod ports a Service sends traffic to: each port's numeric `targetPort`, else its `port`
/// (a named `targetPort` is unknown here, so the Service is then not filtered by port).
fn target_ports(spec: &Node) -> Vec<u16> {
    let mut out = Vec::new();
    for p in yaml::get(spec, "ports").map(yaml::items).unwrap_or_default() {
        let target = yaml::get(p, "targetPort");
        let n = match target {
            Some(t) => match yaml::as_int(t) {
                Some(n) => n,
                None => return Vec::new(),
            },
            None => match yaml::get(p, "port").and_then(yaml::as_int) {
                Some(n) => n,
                None => continue,
            },
        };
        if let Ok(n) = u16::try_from(n) {
            out.push(n);
        }
    }
    out
}

fn gcp(svc: &Svc, gke_class: bool) -> Result<LbInput, InputError> {
    let mut l4 = gke_class;
    for (key, allowed) in [
        ("networking.gke.io/load-balancer-type", &["Internal"][..]),
        (
            "cloud.google.com/load-balancer-type",
            &["Internal", "internal", "External", "external"][..],
        ),
        ("cloud.google.com/l4-rbs", &["enabled"][..]),
    ] {
        if let Some(a) = svc.ann(key) {
            if !allowed.contains(&a.value.trim()) {
                return Err(svc.err(
                    a.node,
                    key,
                    format!("unknown value \"{}\"; accepted: {}", a.value, allowed.join(", ")),
                ));
            }
            l4 |= key != "cloud.google.com/load-balancer-type";
        }
    }
    let (interval, unhealthy) = if l4 && svc.local { (3, 2) } else { (8, 3) };
    let s = gcp::Knobs {
        check_interval: svc.default(Micros::from_secs(interval)),
    }
    .onto(LbSettings {
        timeout: svc.default(Micros::from_secs(1)),
        healthy_threshold: svc.default(1),
        unhealthy_threshold: svc.default(unhealthy),
        protocol: svc.default(Protocol::Http),
        path: svc.default("/healthz".to_string()),
        ..LbSettings::default()
    });
    Ok(LbInput {
        name: svc.name.clone(),
        profile: "gcp".to_string(),
        settings: s,
        loc: svc.loc.clone(),
        field_prefix: String::new(),
        ports: Vec::new(),
        refused: None,
        assumed: Vec::new(),
        service: None,
        check: if svc.local {
            CheckTarget::HealthCheckNodePort
        } else {
            CheckTarget::KubeProxyHealthz
        },
    })
}

fn azure(svc: &Svc) -> Result<Vec<LbInput>, InputError> {
    let global = |setting: &str| azure_check(setting, None);
    let accepted = [
        ("Tcp", Protocol::Tcp),
        ("Http", Protocol::Http),
        ("Https", Protocol::Https),
    ];
    let ports: Vec<&Node> = yaml::get(svc.spec, "ports")
        .map(yaml::items)
        .unwrap_or_default()
        .iter()
        .collect();
    let tcp_ports: Vec<(i64, &Node)> = ports
        .iter()
        .filter(|p| matches!(yaml::get(p, "protocol").and_then(yaml::as_str), None | Some("TCP")))
        .filter_map(|p| yaml::get(p, "port").and_then(yaml::as_int).map(|n| (n, *p)))
        .collect();
    if tcp_ports.is_empty() {
        return Err(InputError::new(
            svc.loc.clone(),
            "spec.ports",
            format!("{}: no TCP port, so Azure creates no health probe", svc.name),
        ));
    }
    let mut out = Vec::new();
    for (port, pnode) in &tcp_ports {
        let port_text = port.to_string();
        let key = |setting: &str| azure_check(setting, Some(&port_text));
        let own_port = svc.ann(&key("port")).is_some();
        let node_check = svc.local && !own_port;
        let mut s = LbSettings::default();
        if node_check {
            s.protocol = svc.default(Protocol::Http);
            s.path = svc.default("/healthz".to_string());
        } else {
            let app = yaml::get(pnode, "appProtocol").and_then(|n| {
                let v = yaml::as_str(n)?;
                // The controller falls back to TCP for any other appProtocol.
                let p = accepted
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(v))
                    .map_or(Protocol::Tcp, |(_, p)| *p);
                Some(svc.located(p, n))
            });
            s.protocol = match protocol_value(svc, &key("protocol"), &accepted)? {
                Some(p) => Some(p),
                None => match app {
                    Some(p) => Some(p),
                    None => protocol_value(svc, &global("protocol"), &accepted)?.or_else(|| svc.default(Protocol::Tcp)),
                },
            };
            if s.protocol.as_ref().is_some_and(|p| p.value != Protocol::Tcp) {
                s.path = match svc.path(&key("path"))? {
                    Some(p) => Some(p),
                    None => svc.path(&global("path"))?.or_else(|| svc.default("/".to_string())),
                };
            }
        }
        s.interval = match svc.seconds(&key("interval"), 5)? {
            Some(v) => Some(v),
            None => svc
                .seconds(&global("interval"), 5)?
                .or_else(|| svc.default(Micros::from_secs(5))),
        };
        let probe_threshold = match svc.count(&key("probe_threshold"), 2)? {
            Some(v) => Some(v),
            None => svc.count(&global("probe_threshold"), 2)?.or_else(|| svc.default(2)),
        };
        azure::Knobs {
            probe_threshold: probe_threshold.clone(),
        }
        .put(&mut s);
        if let (Some(i), Some(n)) = (&s.interval, &probe_threshold) {
            if i.value.0 / 1_000_000 * i64::from(n.value) >= 120 {
                let at = if n.from_profile { &i.loc } else { &n.loc };
                return Err(InputError::new(
                    at.clone(),
                    "health-probe",
                    format!(
                        "interval {} x num-of-probe {} must stay under 120 s (the controller rejects it)",
                        i.value, n.value
                    ),
                ));
            }
        }
        out.push(LbInput {
            name: if tcp_ports.len() == 1 {
                svc.name.clone()
            } else {
                format!("{}:{port}", svc.name)
            },
            profile: "azure-lb".to_string(),
            settings: s,
            loc: svc.loc.clone(),
            field_prefix: String::new(),
            ports: Vec::new(),
            refused: None,
            assumed: Vec::new(),
            service: None,
            check: if node_check {
                CheckTarget::HealthCheckNodePort
            } else {
                CheckTarget::NodePort
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str, cloud: Option<Cloud>) -> Result<Vec<LbInput>, InputError> {
        let t = Text::new("s.yaml", src);
        let docs = yaml::load(&t)?;
        lbs(&t, &docs, cloud)
    }

    fn svc(annotations: &str, spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: ns\n  annotations:\n{annotations}spec:\n  type: LoadBalancer\n  ports:\n  - port: 6443\n{spec}"
        )
    }

    fn secs(v: &Option<Located<Micros>>) -> i64 {
        v.as_ref().unwrap().value.0 / 1_000_000
    }

    #[test]
    fn aws_annotations_override_controller_defaults() {
        let y = svc(
            "    service.beta.kubernetes.io/aws-load-balancer-type: external\n    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol: HTTPS\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-path: /readyz\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: \"10\"\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: \"2\"\n    service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: deregistration_delay.timeout_seconds=120,target_health_state.unhealthy.connection_termination.enabled=false\n",
            "",
        );
        let lb = &read(&y, None).unwrap()[0];
        assert_eq!((lb.name.as_str(), lb.profile.as_str()), ("ns/api", "aws-nlb"));
        let s = &lb.settings;
        assert_eq!(s.protocol.as_ref().unwrap().value, Protocol::Https);
        assert_eq!(s.path.as_ref().unwrap().value, "/readyz");
        assert_eq!((secs(&s.interval), secs(&s.timeout)), (10, 10));
        let i = s.interval.as_ref().unwrap();
        assert_eq!((i.loc.line, i.loc.column, i.from_profile), (11, 72, false));
        assert!(s.timeout.as_ref().unwrap().from_profile);
        assert_eq!(s.unhealthy_threshold.as_ref().unwrap().value, 2);
        assert_eq!(s.healthy_threshold.as_ref().unwrap().value, 3);
        let ct = aws::Knobs::of(s).connection_termination.unwrap();
        assert!(!ct.value);
        assert_eq!(ct.loc.line, 13);
    }

    #[test]
    fn aws_cross_zone_attribute_is_read() {
        let y = svc(
            "    service.beta.kubernetes.io/aws-load-balancer-type: external\n    service.beta.kubernetes.io/aws-load-balancer-attributes: load_balancing.cross_zone.enabled=true\n",
            "",
        );
        let cz = aws::Knobs::of(&read(&y, None).unwrap()[0].settings).cross_zone.unwrap();
        assert!(cz.value && !cz.from_profile);
        let bad = svc(
            "    service.beta.kubernetes.io/aws-load-balancer-type: external\n    service.beta.kubernetes.io/aws-load-balancer-attributes: load_balancing.cross_zone.enabled=yes\n",
            "",
        );
        assert!(read(&bad, None).unwrap_err().message.contains("must be true or false"));
    }

    #[test]
    fn aws_in_tree_defaults_differ_from_the_controller() {
        let clb = &read(
            &svc(
                "    service.beta.kubernetes.io/aws-load-balancer-internal: \"true\"\n",
                "",
            ),
            None,
        )
        .unwrap()[0];
        assert_eq!(clb.profile, "aws-clb");
        assert_eq!((secs(&clb.settings.interval), secs(&clb.settings.timeout)), (10, 5));
        assert_eq!(clb.settings.unhealthy_threshold.as_ref().unwrap().value, 6);
        let nlb = &read(
            &svc(
                "    service.beta.kubernetes.io/aws-load-balancer-type: nlb\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout: \"3\"\n",
                "  externalTrafficPolicy: Local\n",
            ),
            None,
        )
        .unwrap()[0];
        // The in-tree controller sends no timeout: AWS's HTTP default (6 s) comes from the profile.
        assert!(nlb.settings.timeout.is_none());
        let at = nlb.loc.clone();
        let (server, _) = crate::scenario::server_from_profile("kube-apiserver", &at).unwrap();
        let built = crate::scenario::build_lb(nlb, &server).unwrap();
        let t = built.settings.timeout.as_ref().unwrap();
        assert_eq!((t.value, t.from_profile), (Micros::from_secs(6), true));
        assert_eq!(secs(&nlb.settings.interval), 10);
        assert_eq!(nlb.settings.path.as_ref().unwrap().value, "/healthz");
        let lbc = &read(
            &svc(
                "    x: y\n",
                "  loadBalancerClass: service.k8s.aws/nlb\n  externalTrafficPolicy: Local\n",
            ),
            None,
        )
        .unwrap()[0];
        assert_eq!((secs(&lbc.settings.interval), secs(&lbc.settings.timeout)), (10, 6));
    }

    #[test]
    fn unknown_values_are_errors_at_the_value() {
        let e = read(
            &svc("    service.beta.kubernetes.io/aws-load-balancer-type: alb\n", ""),
            None,
        )
        .unwrap_err();
        assert_eq!((e.loc.line, e.loc.column), (7, 56));
        assert!(e.message.contains("unknown load-balancer type"), "{e}");
        let e = read(
            &svc(
                "    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: 10s\n",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("whole number"), "{e}");
        let e = read(
            &svc(
                "    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: 10\n",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("must be strings"), "{e}");
        let e = read(
            &svc(
                "    service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol: grpc\n",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("accepted: TCP, HTTP, HTTPS"), "{e}");
        let e = read(
            &svc(
                "    service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol: tcpp\n",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert_eq!(e.loc.line, 7);
        let e = read(&svc("    a: b\n", ""), None).unwrap_err();
        assert!(e.message.contains("--cloud"), "{e}");
        assert_eq!(e.loc.line, 9);
        let e = read(
            &svc(
                "    service.beta.kubernetes.io/azure-load-balancer-health-probe-interval: \"30\"\n    service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe: \"4\"\n",
                "",
            ),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("120"), "{e}");
        assert_eq!(e.loc.line, 8);
    }

    #[test]
    fn azure_port_annotations_app_protocol_and_defaults() {
        let y = svc(
            "    service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path: /readyz\n    service.beta.kubernetes.io/port_6443_health-probe_protocol: Https\n    service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe: \"3\"\n",
            "  - port: 80\n    appProtocol: http\n  - port: 53\n    protocol: UDP\n",
        );
        let lbs = read(&y, None).unwrap();
        assert_eq!(lbs.len(), 2);
        assert_eq!(lbs[0].name, "ns/api:6443");
        let s = &lbs[0].settings;
        assert_eq!(s.protocol.as_ref().unwrap().value, Protocol::Https);
        assert_eq!(s.path.as_ref().unwrap().value, "/readyz");
        assert_eq!(azure::Knobs::of(s).probe_threshold.unwrap().value, 3);
        assert_eq!(secs(&s.interval), 5);
        assert_eq!(lbs[1].settings.protocol.as_ref().unwrap().value, Protocol::Http);
    }

    #[test]
    fn gcp_has_only_controller_defaults() {
        let lb = &read(
            &svc(
                "    networking.gke.io/load-balancer-type: Internal\n",
                "  externalTrafficPolicy: Local\n",
            ),
            None,
        )
        .unwrap()[0];
        assert_eq!(lb.profile, "gcp");
        assert_eq!(secs(&gcp::Knobs::of(&lb.settings).check_interval), 3);
        assert_eq!(lb.settings.unhealthy_threshold.as_ref().unwrap().value, 2);
        let lb = &read(&svc("    x: y\n", ""), Some(Cloud::Gcp)).unwrap()[0];
        assert_eq!(secs(&gcp::Knobs::of(&lb.settings).check_interval), 8);
        assert_eq!(lb.settings.path.as_ref().unwrap().value, "/healthz");
        assert_eq!(
            read(&svc("    x: y\n", "").replace("LoadBalancer", "ClusterIP"), None)
                .unwrap()
                .len(),
            0
        );
    }
}
