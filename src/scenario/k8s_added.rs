//! The Kubernetes objects the path families of issue 16 read, next to [`super::k8s::Objects`]:
//! Gateway API objects (GatewayClass, Gateway, HTTPRoute, GRPCRoute), Namespaces (their
//! `istio-injection` label, with where), what a pod template says beyond its containers (Istio
//! annotations and an injected `istio-proxy`, the liveness probe's grace period), a Service's
//! MetalLB annotation, a Cilium ConfigMap, MetalLB's own objects
//! and a `KubeletConfiguration`. The readers (`crate::input::gateway`, `crate::input::cluster`)
//! fill them once with their locations.

use super::k8s::Prestop;
use crate::error::Loc;
use crate::time::Micros;
use std::collections::BTreeMap;

/// The Gateway API implementations graceline models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// Envoy Gateway (`gateway.envoyproxy.io/gatewayclass-controller`).
    EnvoyGateway,
    /// Contour (`projectcontour.io/gateway-controller`).
    Contour,
    /// Istio (`istio.io/gateway-controller`).
    Istio,
    /// GKE (`networking.gke.io/gateway`, `networking.gke.io/gateway-multicluster`).
    Gke,
}

impl Implementation {
    /// The implementation a GatewayClass's `controllerName` names. Envoy Gateway and Contour let
    /// the operator change the name inside their domain, so their prefixes are enough
    /// (envoyproxy/gateway api/v1alpha1/envoygateway_types.go `GatewayControllerName`;
    /// projectcontour/contour changelogs v1.21.0, v1.24.0; istio/istio's `istio.io/gateway-controller`;
    /// https://cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities).
    pub fn of_controller(controller: &str) -> Option<Implementation> {
        if controller.starts_with("gateway.envoyproxy.io/") {
            Some(Implementation::EnvoyGateway)
        } else if controller.starts_with("projectcontour.io/") {
            Some(Implementation::Contour)
        } else if controller == "istio.io/gateway-controller" {
            Some(Implementation::Istio)
        } else if controller == "networking.gke.io/gateway" || controller == "networking.gke.io/gateway-multicluster" {
            Some(Implementation::Gke)
        } else {
            None
        }
    }

    /// The modelled implementations, for messages.
    pub fn known() -> Vec<&'static str> {
        vec![
            "Envoy Gateway (gateway.envoyproxy.io/*)",
            "Contour (projectcontour.io/*)",
            "Istio (istio.io/gateway-controller)",
            "GKE (networking.gke.io/gateway)",
        ]
    }
}

/// A GatewayClass: which controller implements the Gateways of this class.
#[derive(Debug, Clone)]
pub struct GatewayClass {
    /// `metadata.name` (cluster-scoped).
    pub name: String,
    /// `spec.controllerName`.
    pub controller: String,
    /// Where `controllerName` is written.
    pub loc: Loc,
}

/// A Gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// `namespace/name`.
    pub name: String,
    /// `spec.gatewayClassName`.
    pub class: String,
    /// Where the class is named.
    pub class_loc: Loc,
    /// Where the Gateway's name is.
    pub loc: Loc,
}

/// A route's `parentRefs` entry.
#[derive(Debug, Clone)]
pub struct ParentRef {
    /// `kind` (Gateway when absent; Service for GAMMA mesh routes).
    pub kind: String,
    /// `namespace/name` (the route's namespace when absent).
    pub name: String,
    /// Where it is written.
    pub loc: Loc,
}

/// A route rule's `backendRefs` entry.
#[derive(Debug, Clone)]
pub struct BackendRef {
    /// `kind` (Service when absent).
    pub kind: String,
    /// `namespace/name` (the route's namespace when absent).
    pub name: String,
    /// `port`, when given.
    pub port: Option<i64>,
    /// Where the backend is named.
    pub loc: Loc,
}

/// An HTTPRoute or GRPCRoute.
#[derive(Debug, Clone)]
pub struct Route {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: String,
    /// `namespace/name`.
    pub name: String,
    /// Where its name is.
    pub loc: Loc,
    /// The Gateways (or Services) it attaches to.
    pub parents: Vec<ParentRef>,
    /// Every backend of every rule, once.
    pub backends: Vec<BackendRef>,
}

/// A Namespace's labels.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// `metadata.name`.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Where the name is.
    pub loc: Loc,
}

/// The `istio-proxy` container an Istio injector put into the pod template.
#[derive(Debug, Clone)]
pub struct IstioProxy {
    /// Declared as an init container with `restartPolicy: Always` (a native sidecar).
    pub native: bool,
    /// Its own preStop hook.
    pub prestop: Prestop,
    /// Where it is declared.
    pub loc: Loc,
}

/// What a workload's pod template says beyond its containers' ports and preStop hooks.
#[derive(Debug, Clone)]
pub struct PodExtras {
    /// The workload, `namespace/name`.
    pub workload: String,
    /// The pod template's annotations, with where each value is.
    pub annotations: BTreeMap<String, (String, Loc)>,
    /// The pod template's labels.
    pub labels: BTreeMap<String, String>,
    /// An injected `istio-proxy`.
    pub istio_proxy: Option<IstioProxy>,
    /// Each container's `livenessProbe.terminationGracePeriodSeconds`: (container, grace, where).
    pub liveness_grace: Vec<(String, Micros, Loc)>,
}

/// What a Service says for the MetalLB path.
#[derive(Debug, Clone)]
pub struct ServiceExtras {
    /// `namespace/name`.
    pub service: String,
    /// A MetalLB annotation (`metallb.universe.tf/` or `metallb.io/`), with where.
    pub metallb: Option<Loc>,
}

/// `kube-proxy-replacement` of a Cilium ConfigMap (`cilium-config`).
#[derive(Debug, Clone)]
pub struct CiliumConfig {
    /// True when Cilium replaces kube-proxy (`true`, `strict`).
    pub replaces_kube_proxy: bool,
    /// The value as written.
    pub value: String,
    /// Where it is written.
    pub loc: Loc,
}

/// How MetalLB announces a Service's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetalLbMode {
    /// Layer 2 (ARP/NDP from one leader node).
    L2,
    /// BGP (every eligible node announces a route).
    Bgp,
}

/// The graceful-termination settings of a `KubeletConfiguration`.
#[derive(Debug, Clone, Default)]
pub struct KubeletConfig {
    /// `shutdownGracePeriod`.
    pub shutdown_grace: Option<(Micros, Loc)>,
    /// `shutdownGracePeriodCriticalPods`.
    pub shutdown_grace_critical: Option<(Micros, Loc)>,
    /// `evictionMaxPodGracePeriod`.
    pub eviction_max_pod_grace: Option<(Micros, Loc)>,
    /// Where the object is.
    pub loc: Option<Loc>,
}

/// Everything the issue-16 readers found in the inputs.
#[derive(Debug, Clone, Default)]
pub struct AddedObjects {
    /// GatewayClasses.
    pub gateway_classes: Vec<GatewayClass>,
    /// Gateways.
    pub gateways: Vec<Gateway>,
    /// HTTPRoutes and GRPCRoutes.
    pub routes: Vec<Route>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Pod templates, one per workload.
    pub pods: Vec<PodExtras>,
    /// Services.
    pub services: Vec<ServiceExtras>,
    /// A Cilium ConfigMap.
    pub cilium: Option<CiliumConfig>,
    /// MetalLB's advertisements (L2Advertisement, BGPAdvertisement), with where.
    pub metallb: Vec<(MetalLbMode, Loc)>,
    /// A KubeletConfiguration.
    pub kubelet: Option<KubeletConfig>,
    /// Gateway API objects read but not modelled (TCPRoute, TLSRoute, UDPRoute), with where.
    pub unread_routes: Vec<(String, Loc)>,
}

impl AddedObjects {
    /// True when a file held something these families read (a file of GatewayClasses, a
    /// KubeletConfiguration or MetalLB's advertisements is an input, not an empty file).
    pub fn any(&self) -> bool {
        !(self.gateway_classes.is_empty()
            && self.gateways.is_empty()
            && self.routes.is_empty()
            && self.namespaces.is_empty()
            && self.cilium.is_none()
            && self.metallb.is_empty()
            && self.kubelet.is_none()
            && self.unread_routes.is_empty())
    }

    /// Appends another file's objects (the first Cilium ConfigMap and KubeletConfiguration win).
    pub fn extend(&mut self, o: AddedObjects) {
        self.gateway_classes.extend(o.gateway_classes);
        self.gateways.extend(o.gateways);
        self.routes.extend(o.routes);
        self.namespaces.extend(o.namespaces);
        self.pods.extend(o.pods);
        self.services.extend(o.services);
        if self.cilium.is_none() {
            self.cilium = o.cilium;
        }
        self.metallb.extend(o.metallb);
        if self.kubelet.is_none() {
            self.kubelet = o.kubelet;
        }
        self.unread_routes.extend(o.unread_routes);
    }

    /// The extras of a workload's pod template.
    pub fn pod(&self, workload: &str) -> Option<&PodExtras> {
        self.pods.iter().find(|p| p.workload == workload)
    }

    /// The extras of a Service.
    pub fn service(&self, name: &str) -> Option<&ServiceExtras> {
        self.services.iter().find(|s| s.service == name)
    }

    /// A Namespace by name.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }
}

/// An Istio `istio-proxy` that is a regular container: the kubelet sends it SIGTERM with every
/// other container (after its own preStop, usually none), it drains its inbound listeners for
/// `terminationDrainDuration` and then pilot-agent stops Envoy, so the pod's inbound port closes
/// then, whatever the app still does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// When it stops accepting inbound connections, from t = 0 (its preStop + the drain, capped by
    /// SIGKILL).
    pub exit: Micros,
    /// Its `terminationDrainDuration`.
    pub drain: Micros,
    /// Where the drain comes from (annotation, `[paths.stages]`, Istio's default).
    pub drain_source: String,
    /// Why the pod is taken to have one.
    pub how: String,
    /// Where that is written.
    pub loc: Loc,
}
