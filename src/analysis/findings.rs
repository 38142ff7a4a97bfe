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

/// A rule graceline checks; ids never change meaning. Its metadata is its row of [`TABLE`].
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
    /// In the tail of the propagation evidence the load balancer still routes when (or too close
    /// to when) the server stops listening.
    GL020,
    /// A load balancer without active health checks (nginx open source) never sees readiness:
    /// it sends new connections to the server after E3 until they fail.
    GL021,
    /// A passive load balancer does not pass a failed connection on: each one is a failed request.
    GL022,
    /// A black-holed host costs the connect timeout per new connection until it is marked.
    GL023,
    /// Connections to the upstream opened before E3 carry requests after it.
    GL024,
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

/// What a rule is about, which decides where CI formats report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One load balancer in front of one server.
    Lb,
    /// The server alone (its grace period, its flags): the same for every load balancer in front
    /// of it, so CI formats report it once per server, not once per LB.
    Server,
    /// One Kubernetes path from a pod's deletion to its last consumer.
    Path,
    /// A workload, Service or Ingress as a whole.
    General,
}

impl Scope {
    /// True for the scopes of a load balancer's report (`Lb`, `Server`).
    pub const fn of_lb_report(self) -> bool {
        matches!(self, Scope::Lb | Scope::Server)
    }
}

/// Everything graceline says about a rule besides its findings: the one table behind ids, names,
/// severities, SARIF descriptions and JUnit cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule.
    pub rule: Rule,
    /// Its stable id, e.g. `GL001`.
    pub id: &'static str,
    /// A short kebab-case name.
    pub name: &'static str,
    /// Severity of every finding of this rule (GL019 lowers its notes about connections).
    pub severity: Severity,
    /// What it is about.
    pub scope: Scope,
    /// One-line description.
    pub summary: &'static str,
    /// Longer description of what the rule checks.
    pub full: &'static str,
    /// How to fix it.
    pub help: &'static str,
}

/// Every rule, in id order (the order of [`Rule`]'s variants: `TABLE[rule as usize]` is its row).
pub const TABLE: [RuleInfo; 30] = [
    RuleInfo {
        rule: Rule::GL001,
        id: "GL001",
        name: "routes-to-closed-port",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "The load balancer can still route new requests after the server stopped listening",
        full: "With the worst-case probe phase and the error tier's propagation (the typical tier unless --propagation tail), the load balancer stops routing only at or after E3 (the server stops listening), so new requests can reach a closed port: E2 + t_worst >= E3.",
        help: "Raise shutdown_delay (kube-apiserver --shutdown-delay-duration) above the worst case plus margin and terminationGracePeriodSeconds with it (the finding names both), or detect faster: shorter interval, lower unhealthy threshold, fast-failing /readyz; when SIGKILL comes before E3, raise terminationGracePeriodSeconds instead.",
    },
    RuleInfo {
        rule: Rule::GL002,
        id: "GL002",
        name: "thin-margin",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "The load balancer stops routing with less margin than required",
        full: "The load balancer stops routing before E3, but with less margin than the configured minimum (default 5 s), leaving no room for clock drift, slow control planes or probe jitter.",
        help: "Raise shutdown_delay or detect faster so the margin reaches the minimum.",
    },
    RuleInfo {
        rule: Rule::GL003,
        id: "GL003",
        name: "check-blind-to-readiness",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "The health check cannot see the readiness endpoint",
        full: "A TCP check, an HTTP check of /healthz, /livez or /readyz?exclude=shutdown, or one whose success matcher accepts the 500 of a failing /readyz (e.g. 200-599, rstatus ^[2345]) only fails once the server stops listening (E3, or later under shutdown-send-retry-after), so the load balancer can never remove the server before E3.",
        help: "Use an HTTP(S) check of the readiness path (/readyz, or /readyz/shutdown) whose success matcher rejects 5xx.",
    },
    RuleInfo {
        rule: Rule::GL004,
        id: "GL004",
        name: "sigkill-before-drain",
        severity: Severity::Error,
        scope: Scope::Server,
        summary: "SIGKILL arrives before the graceful drain ends",
        full: "terminationGracePeriodSeconds is shorter than preStop + readiness delay + shutdown delay + request grace, so the kubelet kills the server while it still drains.",
        help: "Raise terminationGracePeriodSeconds to at least preStop + readiness delay + shutdown delay + request grace.",
    },
    RuleInfo {
        rule: Rule::GL005,
        id: "GL005",
        name: "setting-out-of-range",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "A setting is outside what the provider accepts",
        full: "The provider rejects this value (range or relation between settings); the analysis still runs on it.",
        help: "Use a value inside the provider's accepted range.",
    },
    RuleInfo {
        rule: Rule::GL006,
        id: "GL006",
        name: "nlb-resets-connections",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "The NLB resets established connections when the target turns unhealthy",
        full: "AWS NLB target groups terminate established connections when a target becomes unhealthy (target_health_state.unhealthy.connection_termination.enabled, default true), cutting requests the server would still drain.",
        help: "Set target_health_state.unhealthy.connection_termination.enabled=false with an unhealthy draining interval (as cluster-api-provider-aws#5589 does).",
    },
    RuleInfo {
        rule: Rule::GL007,
        id: "GL007",
        name: "propagation-delay-unknown",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "The provider's propagation delay is unknown and assumed to be zero",
        full: "Neither documentation nor field measurements give the time from 'marked down' to 'no new requests' for this provider (AWS ALB and CLB, Azure LB); graceline uses 0, so the worst case lacks that delay. Providers with evidence (AWS NLB, GCP) carry propagation tiers instead (typical, vendor, tail).",
        help: "Measure it (graceline backend behind the LB, then graceline calibrate prints propagation_delay to paste) and set propagation_delay, or keep extra margin.",
    },
    RuleInfo {
        rule: Rule::GL008,
        id: "GL008",
        name: "server-never-checked",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "An HAProxy server without health checks is never taken out of rotation",
        full: "A `server` line without `check` in a backend that fronts the server is never marked down: HAProxy keeps sending it new connections after E3, which fail until the process is back.",
        help: "Add `check` (with `option httpchk GET /readyz` and `check-ssl` for kube-apiserver) to the server line or its default-server.",
    },
    RuleInfo {
        rule: Rule::GL010,
        id: "GL010",
        name: "lb-via-kubernetes-path",
        severity: Severity::Note,
        scope: Scope::Lb,
        summary: "The load balancer stops sending to the pod through a Kubernetes path, not through its health check of the pod",
        full: "A cloud load balancer in front of a Kubernetes Service checks the node (instance targets or GCP with externalTrafficPolicy Cluster: kube-proxy answers from any ready pod, so one pod's shutdown never fails the check; with Local the healthCheckNodePort turns 503 once kube-proxy drops the pod) or deregisters ip targets when the endpoint goes: the pod leaves it through that Kubernetes path, whose verdict the load balancer's row carries.",
        help: "Judge the pod's path (its preStop and grace period): the path's fix is the load balancer's.",
    },
    RuleInfo {
        rule: Rule::GL015,
        id: "GL015",
        name: "target-group-fails-open",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "An ELBv2 target group whose only target turns unhealthy fails open",
        full: "When every target of an ELBv2 target group is unhealthy, the load balancer routes to all of them (fail open); with a single target, marking it unhealthy never stops traffic to it.",
        help: "Run at least two targets per target group.",
    },
    RuleInfo {
        rule: Rule::GL016,
        id: "GL016",
        name: "nlb-zone-fails-open",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "An NLB AZ with a single target fails open inside that AZ",
        full: "With NLB cross-zone load balancing off (the NLB default), health thresholds apply per enabled AZ: an AZ whose only target is unhealthy fails open inside that AZ until DNS failover removes its address (60 s TTL).",
        help: "Enable cross-zone load balancing (load_balancing.cross_zone.enabled=true) or run at least two targets per AZ.",
    },
    RuleInfo {
        rule: Rule::GL017,
        id: "GL017",
        name: "rollout-overlap",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "A rolling restart takes the next replica out before the previous one is routed again",
        full: "Re-admission (healthy threshold x interval, plus at most the typical propagation) outlasts the time from a replacement answering its checks to the next replica's E2, so two waves are out of the load balancer at once.",
        help: "Set minReadySeconds ([rollout] min_ready) at least to the re-admission time minus E2, or lower the healthy threshold.",
    },
    RuleInfo {
        rule: Rule::GL018,
        id: "GL018",
        name: "rollout-all-unhealthy",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "A rolling restart makes every replica unhealthy at once",
        full: "By health state (a replica is healthy again after the healthy threshold of passing checks, whatever the routing propagation), the rolling restart's overlapping waves leave no healthy replica: ELBv2 and GCP passthrough LBs fail open to the stopped servers, proxies answer 503.",
        help: "Set minReadySeconds ([rollout] min_ready) at least to the re-admission time minus E2, restart fewer replicas at once, or lower the healthy threshold.",
    },
    RuleInfo {
        rule: Rule::GL019,
        id: "GL019",
        name: "client-view",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "What clients see of the shutdown (retries, redispatch, keep-alive connections)",
        full: "Warning: HAProxy retries a refused connection on the same server (retries, default 3) and the request fails after the retries unless option redispatch sends it elsewhere. Note: L4 load balancers (NLB, GCP passthrough, Azure) stop new connections, not requests on established keep-alive connections, which run until the server closes them or the NLB resets them.",
        help: "HAProxy: add option redispatch. L4 load balancers: make the server close keep-alive connections when it starts shutting down, or rely on connection termination.",
    },
    RuleInfo {
        rule: Rule::GL020,
        id: "GL020",
        name: "tail-propagation-reaches-closed-port",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "In the tail of the propagation evidence the load balancer still routes new requests when the server stops listening",
        full: "Propagation figures come in tiers: the typical range (corroborated by two or more independent reports) is the verdict (GL001/GL002); the tail is the largest credible field observation, its confounds stated. With the tail's top, the load balancer still routes at or too close to the instant the server stops listening. `--propagation tail` (propagation_tier = \"tail\") makes the tail the error tier.",
        help: "Raise shutdown_delay (and the grace period with it) to the value the finding names, which covers the tail, or measure the propagation (graceline backend + calibrate) to replace every tier with your own figure.",
    },
    RuleInfo {
        rule: Rule::GL021,
        id: "GL021",
        name: "passive-blind-to-readiness",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "A load balancer without active health checks never sees readiness fail",
        full: "nginx open source sends no health checks: it never sees /readyz fail at E2 and keeps sending new connections to the server until they fail after E3 (max_fails within fail_timeout), then tries it again once per fail_timeout until the server listens again. With proxy_next_upstream a refused connection is passed to the next server: clients see a round trip more, no error. http_5xx-style conditions act on real responses only.",
        help: "Keep proxy_next_upstream on (stream) or error timeout (http) with more than one server, give the upstream a zone so workers share what they learn, or use an active check (NGINX Plus health_check uri=/readyz, or another load balancer) to stop routing before E3.",
    },
    RuleInfo {
        rule: Rule::GL022,
        id: "GL022",
        name: "passive-retries-off",
        severity: Severity::Error,
        scope: Scope::Lb,
        summary: "A failed connection to the stopped server is the client's failed request",
        full: "With proxy_next_upstream off, proxy_next_upstream_tries 1, a single-server upstream, or the error/timeout condition not listed, nginx does not pass a refused or timed-out connection to another server: every connection it sends to the stopped server after E3 fails for the client, until max_fails failures mark it (then one trial per fail_timeout).",
        help: "Turn proxy_next_upstream on (stream) or list error and timeout (http), allow at least 2 tries, and put more than one server in the upstream.",
    },
    RuleInfo {
        rule: Rule::GL023,
        id: "GL023",
        name: "passive-slow-connect-timeout",
        severity: Severity::Warning,
        scope: Scope::Lb,
        summary: "A black-holed host costs seconds per connection",
        full: "A rebooting, powered-off or filtered host answers nothing: every new connection nginx sends to it waits proxy_connect_timeout before it is passed on (or fails), until max_fails of them mark the host unavailable (in each worker without a zone), and again once per fail_timeout.",
        help: "Lower proxy_connect_timeout to a few hundred milliseconds (a connect on a LAN takes well under that), and give the upstream a zone.",
    },
    RuleInfo {
        rule: Rule::GL024,
        id: "GL024",
        name: "upstream-connections-outlive-e3",
        severity: Severity::Note,
        scope: Scope::Lb,
        summary: "Connections to the upstream opened before E3 carry requests after it",
        full: "http upstream keepalive reuses connections opened before E3 for later requests; a stream session stays on its server for its whole life (idle up to proxy_timeout). Both end only when the server closes them; a non-idempotent request cut on a reused connection is not retried.",
        help: "Make the server close idle connections when it starts shutting down (kube-apiserver sends GOAWAY / Connection: close from E3), or lower keepalive_timeout / proxy_timeout.",
    },
    RuleInfo {
        rule: Rule::GL030,
        id: "GL030",
        name: "path-routes-to-closed-port",
        severity: Severity::Error,
        scope: Scope::Path,
        summary: "A Kubernetes path can still send new connections after the app stopped listening",
        full: "When a pod is deleted, endpoint withdrawal (EndpointSlice, kube-proxy, LB controllers, ingress controllers) runs in parallel with preStop and SIGTERM; in the worst case the slowest consumer still sends new connections at or after the instant the app stops listening.",
        help: "Add (or lengthen) a preStop sleep to recommended_prestop_s and raise terminationGracePeriodSeconds to match; for kube-apiserver raise --shutdown-delay-duration.",
    },
    RuleInfo {
        rule: Rule::GL031,
        id: "GL031",
        name: "path-thin-margin",
        severity: Severity::Warning,
        scope: Scope::Path,
        summary: "A Kubernetes path stops sending with less margin than required",
        full: "The last consumer of the endpoints stops sending before the app stops listening, but with less margin than the configured minimum (default 5 s).",
        help: "Lengthen the preStop sleep (kube-apiserver: --shutdown-delay-duration) to reach the minimum margin.",
    },
    RuleInfo {
        rule: Rule::GL032,
        id: "GL032",
        name: "stale-apiserver-endpoints",
        severity: Severity::Error,
        scope: Scope::Path,
        summary: "kube-apiserver's endpoint stays in the `kubernetes` Service after it goes",
        full: "With --endpoint-reconciler-type=none nothing removes a departed kube-apiserver's IP from the `kubernetes` endpoints; with master-count the pre-shutdown hook removes it at a graceful shutdown (pkg/controlplane/reconcilers/instancecount.go), but a crashed apiserver's IP stays until the live count reaches --apiserver-count. In-cluster clients keep being sent to it.",
        help: "Use --endpoint-reconciler-type=lease (the default since Kubernetes 1.11).",
    },
    RuleInfo {
        rule: Rule::GL033,
        id: "GL033",
        name: "cannot-be-judged",
        severity: Severity::Warning,
        scope: Scope::General,
        summary: "A Service, Ingress backend or Gateway API route cannot be judged from the inputs",
        full: "A Service whose selector matches no workload among the inputs, whose port does not resolve, or that has no selector; or a Gateway API route whose Gateway, GatewayClass or backend Service is missing, or whose controller graceline does not model: graceline cannot tell which pod shuts down behind it, or how its endpoints are withdrawn.",
        help: "Pass the workload behind the Service, fix the selector or the targetPort name; pass the Gateway and GatewayClass of a route (or name the class of a modelled implementation).",
    },
    RuleInfo {
        rule: Rule::GL034,
        id: "GL034",
        name: "prestop-not-a-sleep",
        severity: Severity::Warning,
        scope: Scope::General,
        summary: "The preStop hook is not a plain sleep, so its duration is unknown",
        full: "A preStop exec hook that is not `sleep N` (or an httpGet hook) takes an unknown time; graceline assumes the sleep it starts with, else 0 s.",
        help: "Use the sleep action (lifecycle.preStop.sleep.seconds) or `sleep N`, or keep a margin for the hook's own time.",
    },
    RuleInfo {
        rule: Rule::GL035,
        id: "GL035",
        name: "crashed-apiserver-listed",
        severity: Severity::Note,
        scope: Scope::General,
        summary: "A crashed kube-apiserver stays listed until its lease expires",
        full: "With the lease reconciler a crashed kube-apiserver is removed only when its lease (TTL 15 s) expires and a peer reconciles (every 10 s).",
        help: "Nothing to configure; keep client retries for refused connections to the `kubernetes` Service.",
    },
    RuleInfo {
        rule: Rule::GL036,
        id: "GL036",
        name: "kubelet-termination",
        severity: Severity::Note,
        scope: Scope::General,
        summary: "The kubelet ends the pod on its own: its endpoints follow readiness only",
        full: "Node-pressure eviction, graceful node shutdown, a liveness restart or an OOM kill stop the pod without deleting it: the EndpointSlice keeps it ready until its Ready condition turns false (a failing readiness probe, or the exit), the grace period is the kubelet's (evictionMaxPodGracePeriod, shutdownGracePeriod, the liveness probe's), and a preStop sleep delays the endpoint's removal as much as the app's stop.",
        help: "Make readiness fail first and keep serving after it (the app's own shutdown delay covering the probe and the path), or drain the node with `kubectl drain` (deletions) before it shuts down; clients must retry what nothing in the pod can prevent.",
    },
    RuleInfo {
        rule: Rule::GL037,
        id: "GL037",
        name: "sidecar-exits-first",
        severity: Severity::Error,
        scope: Scope::General,
        summary: "The Istio sidecar stops accepting before the app has drained",
        full: "An istio-proxy that is a regular container gets SIGTERM with the app, drains for terminationDrainDuration (5 s by default) and exits, closing the pod's inbound port while the app still drains or has not stopped listening.",
        help: "Raise terminationDrainDuration (annotation proxy.istio.io/config) to the app's exit, or inject native sidecars (sidecar.istio.io/nativeSidecar: \"true\", Kubernetes >= 1.29), which stop after the app.",
    },
    RuleInfo {
        rule: Rule::GL040,
        id: "GL040",
        name: "path-tail-reaches-closed-port",
        severity: Severity::Warning,
        scope: Scope::Path,
        summary: "In the tail of the evidence a Kubernetes path still sends new connections when the app stops listening",
        full: "Stage figures come in two tiers: the typical range (the verdict, GL030/GL031) and the tail, the largest credible figure with its confounds (a timed-out hook, a stale cache, rule programming in a large cluster). With the stage whose tail reaches furthest at the top of it, the last consumer still stops sending at or too close to the instant the app stops listening.",
        help: "Raise the preStop sleep (or --shutdown-delay-duration) to the value the finding names, which covers the tail, or measure the stage to replace the tail with your own figure.",
    },
    RuleInfo {
        rule: Rule::GL041,
        id: "GL041",
        name: "path-never-withdrawn",
        severity: Severity::Error,
        scope: Scope::Path,
        summary: "A Kubernetes path keeps sending new connections to the pod until it is gone",
        full: "The endpoint stays ready while the pod terminates, so nothing stops sending to it before it exits: publishNotReadyAddresses (terminating pods stay ready, staging/src/k8s.io/endpointslice/utils.go podToEndpoint), a TCP health check of kube-proxy's healthCheckNodePort (it accepts the connection whether it answers 200 or 503), or the last endpoint of a Service without a readiness probe (KEP-1669 keeps sending to serving-terminating endpoints).",
        help: "Drop publishNotReadyAddresses from Services that serve clients, use an HTTP check of the healthCheckNodePort, or give the pod a readiness probe.",
    },
    RuleInfo {
        rule: Rule::GL042,
        id: "GL042",
        name: "last-endpoint-on-deletion",
        severity: Severity::Warning,
        scope: Scope::Path,
        summary: "Deleted outside a rollout, a single pod stays its Service's last endpoint until its readiness probe fails",
        full: "When every endpoint of a Service is terminating, kube-proxy keeps sending to the serving ones (KEP-1669, GA 1.28, Cluster policy too). A Deployment of one replica surges its replacement in a rollout, but a deletion or eviction of its pod (a node drain) leaves it the last endpoint: new connections keep reaching it until its readiness probe fails.",
        help: "Run at least two replicas, or make the readiness probe fail at SIGTERM (a preStop that flips it) so the last endpoint stops serving before the app stops listening.",
    },
];

const fn count_of(lb_report: bool) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < TABLE.len() {
        if TABLE[i].scope.of_lb_report() == lb_report {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn rules_of<const N: usize>(lb_report: bool) -> [Rule; N] {
    let mut out = [Rule::GL001; N];
    let (mut i, mut k) = (0, 0);
    while i < TABLE.len() {
        if TABLE[i].scope.of_lb_report() == lb_report {
            out[k] = TABLE[i].rule;
            k += 1;
        }
        i += 1;
    }
    out
}

/// The rules of a load balancer's report (scopes `Lb` and `Server`), in id order.
pub const RULES: [Rule; count_of(true)] = rules_of(true);

/// The rules of the Kubernetes paths (`crate::paths`; scopes `Path` and `General`), in id order;
/// GL004 applies to them too.
pub const PATH_RULES: [Rule; count_of(false)] = rules_of(false);

/// The rules whose scope is one of `scopes`, in id order.
pub fn rules_in(scopes: &[Scope]) -> Vec<Rule> {
    TABLE
        .iter()
        .filter(|i| scopes.contains(&i.scope))
        .map(|i| i.rule)
        .collect()
}

impl Rule {
    /// This rule's row of [`TABLE`].
    pub fn info(self) -> &'static RuleInfo {
        &TABLE[self as usize]
    }

    /// True for a finding about the server alone (its grace period, its flags): the same for every
    /// load balancer in front of it, so CI formats report it once per server, not once per LB.
    pub fn server_level(self) -> bool {
        self.info().scope == Scope::Server
    }

    /// The id, e.g. `GL001`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// A short kebab-case name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Severity of every finding of this rule.
    pub fn severity(self) -> Severity {
        self.info().severity
    }

    /// One-line description.
    pub fn short(self) -> &'static str {
        self.info().summary
    }

    /// Longer description of what the rule checks.
    pub fn full(self) -> &'static str {
        self.info().full
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        self.info().help
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, listed through an exhaustive match: a new rule does not compile until it is
    /// listed here, and then the table must hold it.
    fn every_rule() -> Vec<Rule> {
        use Rule::*;
        let all = [
            GL001, GL002, GL003, GL004, GL005, GL006, GL007, GL008, GL010, GL015, GL016, GL017, GL018, GL019, GL020,
            GL021, GL022, GL023, GL024, GL030, GL031, GL032, GL033, GL034, GL035, GL036, GL037, GL040, GL041, GL042,
        ];
        for r in all {
            match r {
                GL001 | GL002 | GL003 | GL004 | GL005 | GL006 | GL007 | GL008 | GL010 | GL015 | GL016 | GL017
                | GL018 | GL019 | GL020 | GL021 | GL022 | GL023 | GL024 | GL030 | GL031 | GL032 | GL033 | GL034
                | GL035 | GL036 | GL037 | GL040 | GL041 | GL042 => {}
            }
        }
        all.to_vec()
    }

    #[test]
    fn the_table_covers_every_rule_exactly_once_in_id_order() {
        let all = every_rule();
        assert_eq!(TABLE.len(), all.len());
        for r in &all {
            assert_eq!(TABLE.iter().filter(|i| i.rule == *r).count(), 1, "{r:?}");
            assert_eq!(r.info().rule, *r, "row of {r:?}");
            assert_eq!(r.id(), format!("{r:?}"));
        }
        assert!(TABLE.windows(2).all(|w| w[0].id < w[1].id));
        let mut names: Vec<&str> = TABLE.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len(), "names are unique");
    }

    #[test]
    fn lb_and_path_rules_split_the_table() {
        assert_eq!(RULES.len() + PATH_RULES.len(), TABLE.len());
        assert!(RULES.iter().all(|r| r.info().scope.of_lb_report()));
        assert!(PATH_RULES.iter().all(|r| !r.info().scope.of_lb_report()));
        assert_eq!(
            RULES.iter().filter(|r| r.server_level()).collect::<Vec<_>>(),
            [&Rule::GL004]
        );
    }
}
