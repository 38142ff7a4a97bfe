//! The Kubernetes objects of the inputs, as the readers found them: workloads (their pod
//! template's grace period, preStop, readiness probe and ports), Services of every type (selector,
//! ports, traffic policy and what the cloud's load balancer really checks), Ingresses,
//! kube-apiserver pods and kube-proxy's mode. The readers fill them once; the scenarios of the
//! Service load balancers and the Kubernetes paths are both built from them, with the matching
//! rules (selector, target port) defined here once.

use super::ServerSource;
use crate::error::Loc;
use crate::time::Micros;
use crate::timeline::ServerSpec;
use serde::Serialize;
use std::collections::BTreeMap;

/// A server read from a kube-apiserver manifest.
#[derive(Debug, Clone)]
pub struct ServerInput {
    /// The resolved server.
    pub spec: ServerSpec,
    /// Where each setting was read (defaults point at the container or the pod spec).
    pub locs: BTreeMap<&'static str, Loc>,
    /// The manifest's path.
    pub origin: String,
    /// The pod's name.
    pub pod: String,
    /// `--secure-port` when the command sets it, with where.
    pub port: Option<(u16, Loc)>,
    /// Values assumed rather than read (e.g. the version of an image pinned by digest only).
    pub assumed: Vec<String>,
}

/// The pod's preStop hook as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prestop {
    /// No preStop hook.
    None,
    /// A sleep of known length (`exec` sleep or the `sleep` action).
    Sleep {
        /// How long.
        duration: Micros,
        /// Where.
        loc: Loc,
    },
    /// A hook whose duration graceline cannot know.
    Unknown {
        /// What it runs.
        what: String,
        /// The duration assumed (a sleep it starts with, else 0).
        assumed: Micros,
        /// Where.
        loc: Loc,
    },
}

impl Prestop {
    /// The duration the model uses.
    pub fn duration(&self) -> Micros {
        match self {
            Prestop::None => Micros::ZERO,
            Prestop::Sleep { duration, .. } => *duration,
            Prestop::Unknown { assumed, .. } => *assumed,
        }
    }

    /// Where the hook is written.
    pub fn loc(&self) -> Option<&Loc> {
        match self {
            Prestop::None => None,
            Prestop::Sleep { loc, .. } | Prestop::Unknown { loc, .. } => Some(loc),
        }
    }
}

/// kube-proxy's mode (`KubeProxyConfiguration.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// iptables (the Linux default).
    Iptables,
    /// IPVS.
    Ipvs,
    /// nftables (stable in 1.33).
    Nftables,
}

impl ProxyMode {
    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Nftables => "nftables",
        }
    }
}

/// `--endpoint-reconciler-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciler {
    /// Lease (the default since 1.11).
    Lease,
    /// The deprecated master-count reconciler, with `--apiserver-count`.
    MasterCount(u32),
    /// No reconciler.
    None,
}

/// One container of a pod template.
#[derive(Debug, Clone)]
pub struct Container {
    /// `name`.
    pub name: String,
    /// Where it is declared.
    pub loc: Loc,
    /// `ports`: (name, containerPort).
    pub ports: Vec<(Option<String>, i64)>,
    /// The preStop hook.
    pub prestop: Prestop,
    /// The readiness probe, described (`httpGet /readyz:8080`, `exec`, ...).
    pub readiness: Option<String>,
    /// The readiness probe's HTTP path, when it is an `httpGet` probe.
    pub readiness_path: Option<String>,
    /// The readiness probe's timing, when it has one.
    pub readiness_probe: Option<Probe>,
    /// A native sidecar (`initContainers` with `restartPolicy: Always`): it runs beside the app
    /// and stops after it.
    pub sidecar: bool,
}

/// A probe's timing (PodSpec defaults: period 10 s, timeout 1 s, failure threshold 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `periodSeconds`.
    pub period: Micros,
    /// `timeoutSeconds`.
    pub timeout: Micros,
    /// `failureThreshold`.
    pub failure_threshold: u32,
    /// Where the probe is declared.
    pub loc: Loc,
}

impl Probe {
    /// From the readiness failing to the kubelet marking the container not ready: the failing
    /// probes every `period`, the last one timing out at worst; the first may start at once.
    pub fn detection(&self) -> (Micros, Micros) {
        let n = i64::from(self.failure_threshold.max(1));
        (self.period.times(n - 1), self.period.times(n) + self.timeout)
    }
}

/// How a workload replaces its pods in a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// New pods come up before old ones go while `surge` allows it (Deployment `maxSurge` > 0).
    Rolling {
        /// True when a replacement is created (and can be ready) before the old pod goes.
        surge: bool,
    },
    /// Every old pod goes before a new one is created (Deployment `Recreate`).
    Recreate,
    /// Pods are replaced only when deleted by hand (StatefulSet/DaemonSet `OnDelete`).
    OnDelete,
}

/// A workload's pod template.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Kind (`Deployment`, ...).
    pub kind: String,
    /// `namespace/name`.
    pub name: String,
    /// Namespace (`default` when absent).
    pub namespace: String,
    /// The file.
    pub file: String,
    /// Where its name is.
    pub loc: Loc,
    /// The pod template's labels.
    pub labels: BTreeMap<String, String>,
    /// `terminationGracePeriodSeconds` with its location.
    pub grace: Option<(Micros, Loc)>,
    /// Where the pod spec starts (GL004 points here when the grace period is defaulted).
    pub spec_loc: Loc,
    /// Containers (native sidecars included, marked).
    pub containers: Vec<Container>,
    /// `spec.replicas` with where (`None`: absent, 1 by default; a bare Pod is one).
    pub replicas: Option<(u32, Loc)>,
    /// How a rollout replaces pods.
    pub strategy: Strategy,
}

impl Workload {
    /// The pods it runs when nothing scales it (DaemonSets: unknown, one per node).
    pub fn pods(&self) -> Option<u32> {
        match self.kind.as_str() {
            "DaemonSet" => None,
            "Pod" => Some(1),
            _ => Some(self.replicas.as_ref().map_or(1, |(n, _)| *n)),
        }
    }
}

/// A Service port's `targetPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    /// A number.
    Number(i64),
    /// A container port's name.
    Name(String),
}

/// One Service port.
#[derive(Debug, Clone)]
pub struct ServicePort {
    /// `port`.
    pub port: i64,
    /// `name`, if the port has one.
    pub name: Option<String>,
    /// `targetPort` (defaults to `port`).
    pub target: TargetPort,
    /// Where the port entry is.
    pub loc: Loc,
}

/// A Service of any type.
#[derive(Debug, Clone)]
pub struct Service {
    /// `namespace/name`.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Where its name is.
    pub loc: Loc,
    /// `spec.type` (ClusterIP when absent).
    pub ty: String,
    /// `clusterIP: None`.
    pub headless: bool,
    /// `spec.selector` (None: no selector).
    pub selector: Option<BTreeMap<String, String>>,
    /// Ports.
    pub ports: Vec<ServicePort>,
    /// `externalTrafficPolicy: Local`.
    pub local: bool,
    /// AWS Load Balancer Controller ip targets.
    pub ip_targets: bool,
    /// GKE NEG annotation.
    pub neg: bool,
    /// `deregistration_delay.timeout_seconds` from the target-group-attributes annotation.
    pub deregistration_delay: Option<Micros>,
    /// `publishNotReadyAddresses: true`, with where: terminating pods stay ready.
    pub publish_not_ready: Option<Loc>,
    /// The `cloud.google.com/backend-config` annotation: which BackendConfig configures the
    /// Google Cloud load balancer's health check of each port's NEG endpoints.
    pub backend_config: Option<BackendConfigRef>,
}

/// A Service's `cloud.google.com/backend-config` annotation (`{"default": "cfg"}` or
/// `{"ports": {"80": "cfg"}}`, keyed by port number or name).
#[derive(Debug, Clone)]
pub struct BackendConfigRef {
    /// The BackendConfig of every port not named in `ports`.
    pub default: Option<String>,
    /// (port number or name, BackendConfig).
    pub ports: Vec<(String, String)>,
    /// Where the annotation is.
    pub loc: Loc,
}

impl BackendConfigRef {
    /// The BackendConfig name for Service port `port` (by number or name), else the default.
    pub fn for_port(&self, port: &ServicePort) -> Option<&str> {
        self.ports
            .iter()
            .find(|(k, _)| *k == port.port.to_string() || port.name.as_deref() == Some(k.as_str()))
            .map(|(_, v)| v.as_str())
            .or(self.default.as_deref())
    }
}

/// A GKE BackendConfig (cloud.google.com/v1): its `spec.healthCheck` sets the Google Cloud load
/// balancer's health check of the NEG endpoints, the pods (kubernetes/ingress-gce
/// pkg/translator/healthchecks.go `UpdateFromBackendConfig`).
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// `namespace/name`.
    pub name: String,
    /// Where its name is.
    pub loc: Loc,
    /// `spec.healthCheck`, when present.
    pub health_check: Option<GkeHealthCheck>,
}

/// The fields of a BackendConfig's `healthCheck` that graceline models, each with where it is.
#[derive(Debug, Clone, Default)]
pub struct GkeHealthCheck {
    /// `checkIntervalSec`.
    pub interval: Option<(Micros, Loc)>,
    /// `timeoutSec`.
    pub timeout: Option<(Micros, Loc)>,
    /// `healthyThreshold`.
    pub healthy: Option<(u32, Loc)>,
    /// `unhealthyThreshold`.
    pub unhealthy: Option<(u32, Loc)>,
    /// `type` (HTTP2 is checked over TLS).
    pub protocol: Option<(crate::provider::Protocol, Loc)>,
    /// `requestPath`.
    pub path: Option<(String, Loc)>,
    /// `port`: a fixed port instead of the serving port.
    pub port: Option<(u16, Loc)>,
}

/// An Ingress backend.
#[derive(Debug, Clone)]
pub struct Backend {
    /// `namespace/name` of the Service.
    pub service: String,
    /// `service.port.number` or `.name` (or `servicePort`), as written.
    pub port: Option<String>,
    /// Where it is named.
    pub loc: Loc,
}

/// An Ingress.
#[derive(Debug, Clone)]
pub struct Ingress {
    /// `namespace/name`.
    pub name: String,
    /// Where its name is.
    pub loc: Loc,
    /// `ingressClassName` or the `kubernetes.io/ingress.class` annotation.
    pub class: Option<String>,
    /// `alb.ingress.kubernetes.io/target-type: ip`.
    pub ip_targets: bool,
    /// Backends.
    pub backends: Vec<Backend>,
    /// `nginx.ingress.kubernetes.io/service-upstream: "true"`: ingress-nginx sends to the
    /// Service's ClusterIP (kube-proxy's path) instead of the pods.
    pub service_upstream: bool,
    /// `deregistration_delay.timeout_seconds` from `alb.ingress.kubernetes.io/target-group-attributes`.
    pub deregistration_delay: Option<Micros>,
}

/// An IngressClass: which controller serves the Ingresses of that class.
#[derive(Debug, Clone)]
pub struct IngressClass {
    /// `metadata.name`.
    pub name: String,
    /// `spec.controller`, e.g. `k8s.io/ingress-nginx`.
    pub controller: String,
}

/// A Namespace and its labels (the AWS Load Balancer Controller's readiness-gate injection).
#[derive(Debug, Clone)]
pub struct Namespace {
    /// `metadata.name`.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// A kube-apiserver pod and its endpoint reconciler.
#[derive(Debug, Clone)]
pub struct Apiserver {
    /// The server as `manifest` reads it.
    pub server: ServerInput,
    /// Where the container is declared.
    pub container_loc: Loc,
    /// `--endpoint-reconciler-type` (lease when absent).
    pub reconciler: Reconciler,
    /// Where the flag is.
    pub reconciler_loc: Option<Loc>,
    /// The pod's namespace (`default` when absent; static pods run in `kube-system`).
    pub namespace: String,
    /// The pod's labels, so a Service can select it.
    pub labels: BTreeMap<String, String>,
}

impl Apiserver {
    /// True when the Service selects this kube-apiserver pod.
    pub fn selected_by(&self, s: &Service) -> bool {
        s.namespace == self.namespace
            && s.selector
                .as_ref()
                .is_some_and(|sel| sel.iter().all(|(k, v)| self.labels.get(k) == Some(v)))
    }
}

/// Everything one file holds for the paths.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// Workloads.
    pub workloads: Vec<Workload>,
    /// Services.
    pub services: Vec<Service>,
    /// Ingresses.
    pub ingresses: Vec<Ingress>,
    /// kube-apiserver pods.
    pub apiservers: Vec<Apiserver>,
    /// kube-proxy's mode from a `KubeProxyConfiguration`.
    pub proxy_mode: Option<(ProxyMode, Loc)>,
    /// kube-proxy's minimum sync period from a `KubeProxyConfiguration`, with where.
    pub proxy_min_sync: Option<(Micros, Loc)>,
    /// kube-controller-manager's `--endpointslice-updates-batch-period`, with where.
    pub endpointslice_batch: Option<(Micros, Loc)>,
    /// IngressClasses.
    pub ingress_classes: Vec<IngressClass>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// GKE BackendConfigs.
    pub backend_configs: Vec<BackendConfig>,
    /// What was not read, said explicitly.
    pub notes: Vec<String>,
    /// Objects read but not turned into the model, each with where and why (said as GL033):
    /// (subject, location, why).
    pub unread: Vec<(String, Loc, String)>,
    /// The objects of issue 16's path families (Gateway API, mesh, DNS, MetalLB, kubelet).
    pub added: super::k8s_added::AddedObjects,
}

impl Objects {
    /// True when the file has something a path starts from.
    pub fn any(&self) -> bool {
        !(self.workloads.is_empty()
            && self.services.is_empty()
            && self.ingresses.is_empty()
            && self.apiservers.is_empty()
            && !self.added.any())
    }

    /// Appends another file's objects.
    pub fn extend(&mut self, o: Objects) {
        self.workloads.extend(o.workloads);
        self.services.extend(o.services);
        self.ingresses.extend(o.ingresses);
        self.apiservers.extend(o.apiservers);
        if self.proxy_mode.is_none() {
            self.proxy_mode = o.proxy_mode;
        }
        if self.proxy_min_sync.is_none() {
            self.proxy_min_sync = o.proxy_min_sync;
        }
        if self.endpointslice_batch.is_none() {
            self.endpointslice_batch = o.endpointslice_batch;
        }
        self.ingress_classes.extend(o.ingress_classes);
        self.namespaces.extend(o.namespaces);
        self.backend_configs.extend(o.backend_configs);
        self.notes.extend(o.notes);
        self.unread.extend(o.unread);
        self.added.extend(o.added);
    }
}

/// What a cloud load balancer in front of a Service really health-checks: the pod itself, or the
/// node, where kube-proxy answers for the Service's pods. Sources: AWS Load Balancer Controller
/// docs/guide/service/nlb.md (instance vs ip targets), kubernetes/cloud-provider-aws
/// pkg/providers/v1/aws.go (`buildNLBHealthCheckConfiguration`: traffic port = NodePort, or
/// healthCheckNodePort `/healthz` with `Local`), kubernetes/cloud-provider-gcp
/// providers/gce/gce_loadbalancer_external.go (`/healthz` on kube-proxy's 10256 with `Cluster`),
/// kubernetes-sigs/cloud-provider-azure pkg/provider/azure_loadbalancer_healthprobe.go (probe on
/// the NodePort, or the healthCheckNodePort with `Local`), kubernetes/kubernetes
/// pkg/proxy/healthcheck (the health check node port answers 503 once a node has no ready local
/// endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckTarget {
    /// The server itself (haproxy.cfg, Terraform, scenario files): the check sees its shutdown.
    Server,
    /// The pod's own IP and port (AWS Load Balancer Controller ip targets).
    Pod,
    /// The node's NodePort (instance targets, `externalTrafficPolicy: Cluster`): kube-proxy forwards
    /// the check to any ready pod of the Service, so one pod's shutdown never fails it.
    NodePort,
    /// kube-proxy's healthCheckNodePort (`externalTrafficPolicy: Local`): it answers 503 once the
    /// node has no ready local endpoint of the Service.
    HealthCheckNodePort,
    /// kube-proxy's own `/healthz` on port 10256 (GCP with `Cluster`): it reports the node, never a
    /// pod.
    KubeProxyHealthz,
}

impl CheckTarget {
    /// True when the check is of the node rather than of the server or pod that shuts down.
    pub fn is_node(self) -> bool {
        matches!(
            self,
            CheckTarget::NodePort | CheckTarget::HealthCheckNodePort | CheckTarget::KubeProxyHealthz
        )
    }

    /// What the load balancer checks, in words.
    pub fn describe(self) -> &'static str {
        match self {
            CheckTarget::Server => "the server",
            CheckTarget::Pod => "the pod (ip targets)",
            CheckTarget::NodePort => "the node's NodePort, which kube-proxy answers from any ready pod of the Service",
            CheckTarget::HealthCheckNodePort => {
                "kube-proxy's healthCheckNodePort on the node (503 once the node has no ready local endpoint)"
            }
            CheckTarget::KubeProxyHealthz => "kube-proxy's /healthz on port 10256, which reports the node, not a pod",
        }
    }
}

impl Service {
    /// True when the Service's selector selects the workload's pods (same namespace, every
    /// selector label present with its value).
    pub fn selects(&self, w: &Workload) -> bool {
        self.namespace == w.namespace
            && self
                .selector
                .as_ref()
                .is_some_and(|sel| sel.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
    }

    /// The selector as written, `k=v,k2=v2`.
    pub fn selector_text(&self) -> String {
        self.selector
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Workload {
    /// The container a Service port's `targetPort` reaches, or why it reaches none. A number that
    /// no container declares reaches the first container (Kubernetes does not require declared
    /// ports).
    pub fn container_for(&self, target: &TargetPort) -> Result<&Container, String> {
        match target {
            TargetPort::Name(n) => self
                .containers
                .iter()
                .find(|c| c.ports.iter().any(|(name, _)| name.as_deref() == Some(n)))
                .ok_or_else(|| {
                    format!(
                        "targetPort \"{n}\" names no container port of {} {}",
                        self.kind, self.name
                    )
                }),
            TargetPort::Number(p) => Ok(self
                .containers
                .iter()
                .find(|c| c.ports.iter().any(|(_, cp)| cp == p))
                .unwrap_or(&self.containers[0])),
        }
    }
}

impl Objects {
    /// The workloads a Service selects, in input order.
    pub fn selected_by<'o>(&'o self, s: &Service) -> Vec<&'o Workload> {
        self.workloads.iter().filter(|w| s.selects(w)).collect()
    }
}

/// The pod side of a path: a workload's pod template (or a kube-apiserver pod) and how it shuts down.
#[derive(Debug, Clone)]
pub struct Target {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Pod`.
    pub kind: String,
    /// `namespace/name`.
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// The container that serves the path.
    pub container: String,
    /// Where the container is declared.
    pub container_loc: Loc,
    /// Where `terminationGracePeriodSeconds` is (or the pod spec when absent).
    pub grace_loc: Loc,
    /// True when `terminationGracePeriodSeconds` was absent (30 s default).
    pub grace_defaulted: bool,
    /// The preStop hook.
    pub prestop: Prestop,
    /// How the app shuts down (prestop_sleep and termination_grace_period from the pod).
    pub server: ServerSpec,
    /// Where the app's shutdown behaviour comes from and whether it was assumed.
    pub server_source: ServerSource,
    /// Where a finding about the app's own delay points (kube-apiserver: the flag).
    pub delay_loc: Option<Loc>,
    /// A kube-apiserver pod.
    pub apiserver: bool,
    /// The container's readiness probe, described (`httpGet /ready`), if any.
    pub readiness: Option<String>,
    /// The readiness probe's timing (when it has one).
    pub probe: Option<Probe>,
    /// A native sidecar: its SIGTERM comes after the app containers exit (in `server.prestop_sleep`).
    pub sidecar: bool,
    /// An Istio `istio-proxy` (a regular container) that stops accepting inbound connections on
    /// its own clock (`crate::paths::mesh`); `None` without one or for a native one.
    pub istio_proxy: Option<super::k8s_added::Sidecar>,
}

impl Target {
    /// Where a finding about this target's path points: the preStop line, else the app's delay
    /// flag (kube-apiserver), else the container.
    pub fn finding_loc(&self) -> Loc {
        self.prestop
            .loc()
            .or(self.delay_loc.as_ref())
            .unwrap_or(&self.container_loc)
            .clone()
    }

    /// The app's own delay from SIGTERM until it stops listening.
    pub fn app_delay(&self) -> Micros {
        self.server.readyz_fail_after + self.server.shutdown_delay
    }
}

/// The profile an app pod is assumed to shut down like when no server is named.
pub const APP_PROFILE: &str = "app-stops-at-sigterm";

/// How app pods shut down: a named server, else the stated assumption; each pod's own preStop and
/// grace period replace the profile's.
#[derive(Debug, Clone)]
pub struct AppServer {
    /// The server's settings.
    pub spec: ServerSpec,
    /// Where it came from.
    pub source: ServerSource,
}

impl AppServer {
    /// The stated assumption: the app stops listening at SIGTERM (profile [`APP_PROFILE`]).
    pub fn assumed() -> AppServer {
        let at = Loc {
            file: format!("builtin:{APP_PROFILE}"),
            line: 1,
            column: 1,
        };
        let (spec, _) = super::server_from_profile(APP_PROFILE, &at).expect("the built-in app profile loads");
        let reason = format!(
            "assumed: app pods stop listening at SIGTERM and drain for up to {} (profile {APP_PROFILE}, the Passenger case); name how your app shuts down with --server, server = in graceline.toml or a scenario [server]",
            spec.request_grace
        );
        AppServer {
            spec,
            source: ServerSource {
                origin: at.file,
                assumed: true,
                reason,
            },
        }
    }
}

/// The default grace period of a pod spec without `terminationGracePeriodSeconds` (PodSpec API).
pub const DEFAULT_GRACE: Micros = Micros::from_secs(30);

impl Target {
    /// The pod of an app workload behind `c`, shutting down like `app` with the pod's own preStop
    /// and grace period.
    pub fn app(w: &Workload, c: &Container, app: &AppServer) -> Target {
        let mut server = app.spec.clone();
        server.prestop_sleep = c.prestop.duration();
        if c.sidecar {
            // A native sidecar gets its preStop and SIGTERM only once the app containers have
            // exited (KEP-753; https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/):
            // it keeps listening through the app's preStop, delay and drain.
            let main_exit = w
                .containers
                .iter()
                .filter(|m| !m.sidecar)
                .map(|m| {
                    let mut s = app.spec.clone();
                    s.prestop_sleep = m.prestop.duration();
                    s.prestop_sleep + s.readyz_fail_after + s.shutdown_delay + s.request_grace
                })
                .max()
                .unwrap_or(Micros::ZERO);
            server.prestop_sleep = main_exit + c.prestop.duration();
        }
        // The pod's own readiness endpoint is what a check must look at.
        if let Some(p) = &c.readiness_path {
            server.readiness_path.clone_from(p);
        }
        let (grace, grace_loc) = match &w.grace {
            Some((g, l)) => (*g, l.clone()),
            None => (DEFAULT_GRACE, w.spec_loc.clone()),
        };
        server.termination_grace_period = grace;
        Target {
            kind: w.kind.clone(),
            name: w.name.clone(),
            file: w.file.clone(),
            container: c.name.clone(),
            container_loc: c.loc.clone(),
            grace_loc,
            grace_defaulted: w.grace.is_none(),
            prestop: c.prestop.clone(),
            server,
            server_source: app.source.clone(),
            delay_loc: None,
            apiserver: false,
            readiness: c.readiness.clone(),
            probe: c.readiness_probe.clone(),
            sidecar: c.sidecar,
            istio_proxy: None,
        }
    }

    /// A kube-apiserver pod as its manifest reads.
    pub fn apiserver(a: &Apiserver) -> Target {
        let s = &a.server;
        Target {
            kind: "Pod (kube-apiserver)".to_string(),
            name: s.pod.clone(),
            file: s.origin.clone(),
            container: "kube-apiserver".to_string(),
            container_loc: a.container_loc.clone(),
            grace_loc: s
                .locs
                .get("termination_grace_period")
                .cloned()
                .unwrap_or_else(|| a.container_loc.clone()),
            grace_defaulted: false,
            prestop: match s.locs.get("prestop_sleep") {
                Some(loc) if s.spec.prestop_sleep > Micros::ZERO => Prestop::Sleep {
                    duration: s.spec.prestop_sleep,
                    loc: loc.clone(),
                },
                _ => Prestop::None,
            },
            server: s.spec.clone(),
            server_source: ServerSource {
                origin: s.origin.clone(),
                assumed: false,
                reason: format!("the kube-apiserver manifest (pod {})", s.pod),
            },
            delay_loc: s.locs.get("shutdown_delay").filter(|l| **l != a.container_loc).cloned(),
            apiserver: true,
            readiness: Some(format!("httpGet {}", s.spec.readiness_path)),
            probe: None,
            sidecar: false,
            istio_proxy: None,
        }
    }

    /// Where each setting of the target's server is written (for findings about the server).
    pub fn server_locs(&self) -> BTreeMap<&'static str, Loc> {
        let mut locs = BTreeMap::new();
        for key in [
            "readyz_fail_after",
            "shutdown_delay",
            "request_grace",
            "readyz_failure",
            "readyz_onset",
            "readiness_path",
            "response_time",
            "send_retry_after",
        ] {
            locs.insert(
                key,
                self.delay_loc.clone().unwrap_or_else(|| self.container_loc.clone()),
            );
        }
        locs.insert(
            "prestop_sleep",
            self.prestop
                .loc()
                .cloned()
                .unwrap_or_else(|| self.container_loc.clone()),
        );
        locs.insert("termination_grace_period", self.grace_loc.clone());
        locs
    }
}
