//! Findings: stable rule ids (GL001…) with severities, used by every output format.

use crate::error::Loc;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, never fails a run by default.
    Note,
    /// Risky; fails with `--fail-on warning`.
    Warning,
    /// New requests fail or the configuration is rejected.
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A rule graceline checks; ids never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
pub enum Rule {
    /// E2 + t_worst >= E3.
    GL001,
    /// Margin below the configured minimum.
    GL002,
    /// The health check cannot see readiness.
    GL003,
    /// SIGKILL before the drain ends.
    GL004,
    /// A setting outside what the provider accepts.
    GL005,
    /// An NLB resets established connections when the target turns unhealthy.
    GL006,
    /// No figure exists for the provider's propagation delay: 0 is assumed.
    GL007,
    /// An HAProxy server without `check`: never taken out of rotation.
    GL008,
    /// A Kubernetes Service's load balancer leaves the pod through a Kubernetes path (it checks
    /// the node, or deregisters ip targets): that path's verdict is the load balancer's.
    GL010,
    /// An ELBv2 target group with a single target fails open when it turns unhealthy.
    GL015,
    /// NLB with cross-zone off and one target in an AZ fails open inside that AZ.
    GL016,
    /// A rolling restart takes a replica out before the previous one is routed again.
    GL017,
    /// A rolling restart makes every replica unhealthy at once.
    GL018,
    /// What clients see: HAProxy retries without redispatch; keep-alive connections through L4 LBs.
    GL019,
    /// A Kubernetes path keeps sending new connections after the app stopped listening.
    GL030,
    /// A Kubernetes path stops sending with less margin than required.
    GL031,
    /// kube-apiserver's endpoint is never withdrawn (master-count, none).
    GL032,
    /// A Service (or Ingress backend) cannot be judged from the inputs.
    GL033,
    /// A preStop hook that is not a plain sleep: its duration is unknown.
    GL034,
    /// A crashed kube-apiserver stays in the `kubernetes` endpoints until its lease expires.
    GL035,
    /// The kubelet ends the pod on its own (eviction, node shutdown, liveness, OOM): it is not
    /// deleted, so its endpoints follow its readiness only.
    GL036,
    /// An Istio sidecar stops accepting inbound connections before the app has drained.
    GL037,
    /// In the tail of the evidence a Kubernetes path still sends after (or too close to) the app
    /// stopping.
    GL040,
    /// A Kubernetes path keeps sending new connections until the pod is gone.
    GL041,
    /// A single pod deleted outside a rollout stays its Service's last endpoint.
    GL042,
}

/// Every rule, in id order.
pub const RULES: [Rule; 14] = [
    Rule::GL001,
    Rule::GL002,
    Rule::GL003,
    Rule::GL004,
    Rule::GL005,
    Rule::GL006,
    Rule::GL007,
    Rule::GL008,
    Rule::GL010,
    Rule::GL015,
    Rule::GL016,
    Rule::GL017,
    Rule::GL018,
    Rule::GL019,
];

/// The rules of the Kubernetes paths (`crate::paths`), in id order; GL004 applies to them too.
pub const PATH_RULES: [Rule; 11] = [
    Rule::GL030,
    Rule::GL031,
    Rule::GL032,
    Rule::GL033,
    Rule::GL034,
    Rule::GL035,
    Rule::GL036,
    Rule::GL037,
    Rule::GL040,
    Rule::GL041,
    Rule::GL042,
];

impl Rule {
    /// True for a finding about the server alone (its grace period, its flags): the same for every
    /// load balancer in front of it, so CI formats report it once per server, not once per LB.
    pub fn server_level(self) -> bool {
        matches!(self, Rule::GL004)
    }

    /// The id, e.g. `GL001`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::GL001 => "GL001",
            Rule::GL002 => "GL002",
            Rule::GL003 => "GL003",
            Rule::GL004 => "GL004",
            Rule::GL005 => "GL005",
            Rule::GL006 => "GL006",
            Rule::GL007 => "GL007",
            Rule::GL008 => "GL008",
            Rule::GL010 => "GL010",
            Rule::GL015 => "GL015",
            Rule::GL016 => "GL016",
            Rule::GL017 => "GL017",
            Rule::GL018 => "GL018",
            Rule::GL019 => "GL019",
            Rule::GL030 => "GL030",
            Rule::GL031 => "GL031",
            Rule::GL032 => "GL032",
            Rule::GL033 => "GL033",
            Rule::GL034 => "GL034",
            Rule::GL035 => "GL035",
            Rule::GL036 => "GL036",
            Rule::GL037 => "GL037",
            Rule::GL040 => "GL040",
            Rule::GL041 => "GL041",
            Rule::GL042 => "GL042",
        }
    }

    /// A short kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::GL001 => "routes-to-closed-port",
            Rule::GL002 => "thin-margin",
            Rule::GL003 => "check-blind-to-readiness",
            Rule::GL004 => "sigkill-before-drain",
            Rule::GL005 => "setting-out-of-range",
            Rule::GL006 => "nlb-resets-connections",
            Rule::GL007 => "propagation-delay-unknown",
            Rule::GL008 => "server-never-checked",
            Rule::GL010 => "lb-via-kubernetes-path",
            Rule::GL015 => "target-group-fails-open",
            Rule::GL016 => "nlb-zone-fails-open",
            Rule::GL017 => "rollout-overlap",
            Rule::GL018 => "rollout-all-unhealthy",
            Rule::GL019 => "client-view",
            Rule::GL030 => "path-routes-to-closed-port",
            Rule::GL031 => "path-thin-margin",
            Rule::GL032 => "stale-apiserver-endpoints",
            Rule::GL033 => "cannot-be-judged",
            Rule::GL034 => "prestop-not-a-sleep",
            Rule::GL035 => "crashed-apiserver-listed",
            Rule::GL036 => "kubelet-termination",
            Rule::GL037 => "sidecar-exits-first",
            Rule::GL040 => "path-tail-reaches-closed-port",
            Rule::GL041 => "path-never-withdrawn",
            Rule::GL042 => "last-endpoint-on-deletion",
        }
    }

    /// Severity of every finding of this rule.
    pub fn severity(self) -> Severity {
        match self {
            Rule::GL001
            | Rule::GL003
            | Rule::GL004
            | Rule::GL005
            | Rule::GL008
            | Rule::GL015
            | Rule::GL016
            | Rule::GL018
            | Rule::GL030
            | Rule::GL032
            | Rule::GL037
            | Rule::GL041 => Severity::Error,
            Rule::GL002
            | Rule::GL006
            | Rule::GL007
            | Rule::GL017
            | Rule::GL019
            | Rule::GL031
            | Rule::GL033
            | Rule::GL034
            | Rule::GL040
            | Rule::GL042 => Severity::Warning,
            Rule::GL010 | Rule::GL035 | Rule::GL036 => Severity::Note,
        }
    }

    /// One-line description.
    pub fn short(self) -> &'static str {
        match self {
            Rule::GL001 => "The load balancer can still route new requests after the server stopped listening",
            Rule::GL002 => "The load balancer stops routing with less margin than required",
            Rule::GL003 => "The health check cannot see the readiness endpoint",
            Rule::GL004 => "SIGKILL arrives before the graceful drain ends",
            Rule::GL005 => "A setting is outside what the provider accepts",
            Rule::GL006 => "The NLB resets established connections when the target turns unhealthy",
            Rule::GL007 => "The provider's propagation delay is unknown and assumed to be zero",
            Rule::GL015 => "An ELBv2 target group whose only target turns unhealthy fails open",
            Rule::GL016 => "An NLB AZ with a single target fails open inside that AZ",
            Rule::GL017 => "A rolling restart takes the next replica out before the previous one is routed again",
            Rule::GL018 => "A rolling restart makes every replica unhealthy at once",
            Rule::GL019 => "What clients see of the shutdown (retries, redispatch, keep-alive connections)",
            Rule::GL008 => "An HAProxy server without health checks is never taken out of rotation",
            Rule::GL010 => "The load balancer stops sending to the pod through a Kubernetes path, not through its health check of the pod",
            Rule::GL030 => "A Kubernetes path can still send new connections after the app stopped listening",
            Rule::GL031 => "A Kubernetes path stops sending with less margin than required",
            Rule::GL032 => "kube-apiserver's endpoint stays in the `kubernetes` Service after it goes",
            Rule::GL033 => "A Service or Ingress backend cannot be judged from the inputs",
            Rule::GL034 => "The preStop hook is not a plain sleep, so its duration is unknown",
            Rule::GL035 => "A crashed kube-apiserver stays listed until its lease expires",
            Rule::GL036 => "The kubelet ends the pod on its own: its endpoints follow readiness only",
            Rule::GL037 => "The Istio sidecar stops accepting before the app has drained",
            Rule::GL040 => "In the tail of the evidence a Kubernetes path still sends new connections when the app stops listening",
            Rule::GL041 => "A Kubernetes path keeps sending new connections to the pod until it is gone",
            Rule::GL042 => "Deleted outside a rollout, a single pod stays its Service's last endpoint until its readiness probe fails",
        }
    }

    /// Longer description of what the rule checks.
    pub fn full(self) -> &'static str {
        match self {
            Rule::GL001 => "With the worst-case probe phase, the load balancer marks the server down only at or after E3 (the server stops listening), so new requests can reach a closed port: E2 + t_worst >= E3.",
            Rule::GL002 => "The load balancer stops routing before E3, but with less margin than the configured minimum (default 5 s), leaving no room for clock drift, slow control planes or probe jitter.",
            Rule::GL003 => "A TCP check, an HTTP check of /healthz, /livez or /readyz?exclude=shutdown, or one whose success matcher accepts the 500 of a failing /readyz (e.g. 200-599, rstatus ^[2345]) only fails once the server stops listening (E3, or later under shutdown-send-retry-after), so the load balancer can never remove the server before E3.",
            Rule::GL004 => "terminationGracePeriodSeconds is shorter than preStop + readiness delay + shutdown delay + request grace, so the kubelet kills the server while it still drains.",
            Rule::GL005 => "The provider rejects this value (range or relation between settings); the analysis still runs on it.",
            Rule::GL006 => "AWS NLB target groups terminate established connections when a target becomes unhealthy (target_health_state.unhealthy.connection_termination.enabled, default true), cutting requests the server would still drain.",
            Rule::GL015 => "When every target of an ELBv2 target group is unhealthy, the load balancer routes to all of them (fail open); with a single target, marking it unhealthy never stops traffic to it.",
            Rule::GL016 => "With NLB cross-zone load balancing off (the NLB default), health thresholds apply per enabled AZ: an AZ whose only target is unhealthy fails open inside that AZ until DNS failover removes its address (60 s TTL).",
            Rule::GL017 => "Re-admission (healthy threshold x interval, plus propagation) outlasts the time from a replacement answering its checks to the next replica's E2, so two waves are out of the load balancer at once.",
            Rule::GL018 => "The rolling restart's overlapping waves leave no healthy replica: ELBv2 and GCP passthrough LBs fail open to the stopped servers, proxies answer 503.",
            Rule::GL019 => "Warning: HAProxy retries a refused connection on the same server (retries, default 3) and the request fails after the retries unless option redispatch sends it elsewhere. Note: L4 load balancers (NLB, GCP passthrough, Azure) stop new connections, not requests on established keep-alive connections, which run until the server closes them or the NLB resets them.",
            Rule::GL007 => "Neither documentation nor field measurements give the time from 'marked down' to 'no new requests' for this provider (AWS ALB and CLB, Azure LB); graceline uses 0, so the worst case lacks that delay. Providers with field evidence (AWS NLB, GCP) carry a propagation range instead.",
            Rule::GL010 => "A cloud load balancer in front of a Kubernetes Service checks the node (instance targets or GCP with externalTrafficPolicy Cluster: kube-proxy answers from any ready pod, so one pod's shutdown never fails the check; with Local the healthCheckNodePort turns 503 once kube-proxy drops the pod) or deregisters ip targets when the endpoint goes: the pod leaves it through that Kubernetes path, whose verdict the load balancer's row carries.",
            Rule::GL008 => "A `server` line without `check` in a backend that fronts the server is never marked down: HAProxy keeps sending it new connections after E3, which fail until the process is back.",
            Rule::GL030 => "When a pod is deleted, endpoint withdrawal (EndpointSlice, kube-proxy, LB controllers, ingress controllers) runs in parallel with preStop and SIGTERM; in the worst case the slowest consumer still sends new connections at or after the instant the app stops listening.",
            Rule::GL031 => "The last consumer of the endpoints stops sending before the app stops listening, but with less margin than the configured minimum (default 5 s).",
            Rule::GL032 => "With --endpoint-reconciler-type=master-count (or none), a departed kube-apiserver's IP stays in the `kubernetes` endpoints, so in-cluster clients keep being sent to it.",
            Rule::GL033 => "A Service whose selector matches no workload among the inputs, whose port does not resolve, or that has no selector: graceline cannot tell which pod shuts down behind it.",
            Rule::GL034 => "A preStop exec hook that is not `sleep N` (or an httpGet hook) takes an unknown time; graceline assumes the sleep it starts with, else 0 s.",
            Rule::GL040 => "Stage figures come in two tiers: the typical range (the verdict, GL030/GL031) and the tail, the largest credible figure with its confounds (a timed-out hook, a stale cache, rule programming in a large cluster). With every stage at the top of its tail, the last consumer still stops sending at or too close to the instant the app stops listening.",
            Rule::GL041 => "The endpoint stays ready while the pod terminates, so nothing stops sending to it before it exits: publishNotReadyAddresses (terminating pods stay ready, staging/src/k8s.io/endpointslice/utils.go podToEndpoint), a TCP health check of kube-proxy's healthCheckNodePort (it accepts the connection whether it answers 200 or 503), or the last endpoint of a Service without a readiness probe (KEP-1669 keeps sending to serving-terminating endpoints).",
            Rule::GL042 => "When every endpoint of a Service is terminating, kube-proxy keeps sending to the serving ones (KEP-1669, GA 1.28, Cluster policy too). A Deployment of one replica surges its replacement in a rollout, but a deletion or eviction of its pod (a node drain) leaves it the last endpoint: new connections keep reaching it until its readiness probe fails.",
            Rule::GL035 => "With the lease reconciler a crashed kube-apiserver is removed only when its lease (TTL 15 s) expires and a peer reconciles (every 10 s).",
            Rule::GL036 => "Node-pressure eviction, graceful node shutdown, a liveness restart or an OOM kill stop the pod without deleting it: the EndpointSlice keeps it ready until its Ready condition turns false (a failing readiness probe, or the exit), the grace period is the kubelet's (evictionMaxPodGracePeriod, shutdownGracePeriod, the liveness probe's), and a preStop sleep delays the endpoint's removal as much as the app's stop.",
            Rule::GL037 => "An istio-proxy that is a regular container gets SIGTERM with the app, drains for terminationDrainDuration (5 s by default) and exits, closing the pod's inbound port while the app still drains or has not stopped listening.",
        }
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        match self {
            Rule::GL001 => "Raise shutdown_delay (kube-apiserver --shutdown-delay-duration) above the worst case plus margin, or detect faster: shorter interval, lower unhealthy threshold, fast-failing /readyz; when SIGKILL comes before E3, raise terminationGracePeriodSeconds instead.",
            Rule::GL002 => "Raise shutdown_delay or detect faster so the margin reaches the minimum.",
            Rule::GL003 => "Use an HTTP(S) check of the readiness path (/readyz, or /readyz/shutdown) whose success matcher rejects 5xx.",
            Rule::GL004 => "Raise terminationGracePeriodSeconds to at least preStop + readiness delay + shutdown delay + request grace.",
            Rule::GL005 => "Use a value inside the provider's accepted range.",
            Rule::GL006 => "Set target_health_state.unhealthy.connection_termination.enabled=false with an unhealthy draining interval (as cluster-api-provider-aws#5589 does).",
            Rule::GL015 => "Run at least two targets per target group.",
            Rule::GL016 => "Enable cross-zone load balancing (load_balancing.cross_zone.enabled=true) or run at least two targets per AZ.",
            Rule::GL017 => "Set minReadySeconds ([rollout] min_ready) at least to the re-admission time minus E2, or lower the healthy threshold.",
            Rule::GL018 => "Set minReadySeconds ([rollout] min_ready) at least to the re-admission time minus E2, restart fewer replicas at once, or lower the healthy threshold.",
            Rule::GL019 => "HAProxy: add option redispatch. L4 load balancers: make the server close keep-alive connections when it starts shutting down, or rely on connection termination.",
            Rule::GL007 => "Measure it (graceline backend behind the LB, then graceline calibrate prints propagation_delay to paste) and set propagation_delay, or keep extra margin.",
            Rule::GL010 => "Judge the pod's path (its preStop and grace period): the path's fix is the load balancer's.",
            Rule::GL008 => "Add `check` (with `option httpchk GET /readyz` and `check-ssl` for kube-apiserver) to the server line or its default-server.",
            Rule::GL030 => "Add (or lengthen) a preStop sleep to recommended_prestop_s and raise terminationGracePeriodSeconds to match; for kube-apiserver raise --shutdown-delay-duration.",
            Rule::GL031 => "Lengthen the preStop sleep (kube-apiserver: --shutdown-delay-duration) to reach the minimum margin.",
            Rule::GL032 => "Use --endpoint-reconciler-type=lease (the default since Kubernetes 1.11).",
            Rule::GL033 => "Pass the workload behind the Service, fix the selector or the targetPort name.",
            Rule::GL034 => "Use the sleep action (lifecycle.preStop.sleep.seconds) or `sleep N`, or keep a margin for the hook's own time.",
            Rule::GL035 => "Nothing to configure; keep client retries for refused connections to the `kubernetes` Service.",
            Rule::GL036 => "Make readiness fail first and keep serving after it (the app's own shutdown delay covering the probe and the path), or drain the node with `kubectl drain` (deletions) before it shuts down; clients must retry what nothing in the pod can prevent.",
            Rule::GL037 => "Raise terminationDrainDuration (annotation proxy.istio.io/config) to the app's exit, or inject native sidecars (sidecar.istio.io/nativeSidecar: \"true\", Kubernetes >= 1.29), which stop after the app.",
            Rule::GL041 => "Drop publishNotReadyAddresses from Services that serve clients, use an HTTP check of the healthCheckNodePort, or give the pod a readiness probe.",
            Rule::GL042 => "Run at least two replicas, or make the readiness probe fail at SIGTERM (a preStop that flips it) so the last endpoint stops serving before the app stops listening.",
            Rule::GL040 => "Raise the preStop sleep (or --shutdown-delay-duration) to the value the finding names, which covers the tail, or measure the stage ([paths.stages]) to replace the tail with your own figure.",
        }
    }
}

/// One finding about one LB × server pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// What is wrong here, with figures.
    pub message: String,
    /// Where to fix it.
    pub loc: Loc,
}

impl Finding {
    /// A finding of `rule` at `loc`.
    pub fn new(rule: Rule, loc: Loc, message: String) -> Self {
        Finding {
            rule,
            severity: rule.severity(),
            message,
            loc,
        }
    }
}
