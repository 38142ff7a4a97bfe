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
    /// The provider's propagation delay is assumed to be zero.
    GL007,
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
}

/// Every rule, in id order.
pub const RULES: [Rule; 7] = [
    Rule::GL001,
    Rule::GL002,
    Rule::GL003,
    Rule::GL004,
    Rule::GL005,
    Rule::GL006,
    Rule::GL007,
];

/// The rules of the Kubernetes paths (`crate::paths`), in id order; GL004 applies to them too.
pub const PATH_RULES: [Rule; 6] = [
    Rule::GL030,
    Rule::GL031,
    Rule::GL032,
    Rule::GL033,
    Rule::GL034,
    Rule::GL035,
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
            Rule::GL030 => "GL030",
            Rule::GL031 => "GL031",
            Rule::GL032 => "GL032",
            Rule::GL033 => "GL033",
            Rule::GL034 => "GL034",
            Rule::GL035 => "GL035",
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
            Rule::GL007 => "propagation-delay-assumed-zero",
            Rule::GL030 => "path-routes-to-closed-port",
            Rule::GL031 => "path-thin-margin",
            Rule::GL032 => "stale-apiserver-endpoints",
            Rule::GL033 => "cannot-be-judged",
            Rule::GL034 => "prestop-not-a-sleep",
            Rule::GL035 => "crashed-apiserver-listed",
        }
    }

    /// Severity of every finding of this rule.
    pub fn severity(self) -> Severity {
        match self {
            Rule::GL001 | Rule::GL003 | Rule::GL004 | Rule::GL005 | Rule::GL030 | Rule::GL032 => Severity::Error,
            Rule::GL002 | Rule::GL006 | Rule::GL031 | Rule::GL033 | Rule::GL034 => Severity::Warning,
            Rule::GL007 | Rule::GL035 => Severity::Note,
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
            Rule::GL007 => "The provider's propagation delay is assumed to be zero",
            Rule::GL030 => "A Kubernetes path can still send new connections after the app stopped listening",
            Rule::GL031 => "A Kubernetes path stops sending with less margin than required",
            Rule::GL032 => "kube-apiserver's endpoint stays in the `kubernetes` Service after it goes",
            Rule::GL033 => "A Service or Ingress backend cannot be judged from the inputs",
            Rule::GL034 => "The preStop hook is not a plain sleep, so its duration is unknown",
            Rule::GL035 => "A crashed kube-apiserver stays listed until its lease expires",
        }
    }

    /// Longer description of what the rule checks.
    pub fn full(self) -> &'static str {
        match self {
            Rule::GL001 => "With the worst-case probe phase, the load balancer marks the server down only at or after E3 (the server stops listening), so new requests can reach a closed port: E2 + t_worst >= E3.",
            Rule::GL002 => "The load balancer stops routing before E3, but with less margin than the configured minimum (default 5 s), leaving no room for clock drift, slow control planes or probe jitter.",
            Rule::GL003 => "A TCP check, or an HTTP check of /healthz or /livez, only fails once the server stops listening (E3), so the load balancer can never remove the server before E3.",
            Rule::GL004 => "terminationGracePeriodSeconds is shorter than preStop + readiness delay + shutdown delay + request grace, so the kubelet kills the server while it still drains.",
            Rule::GL005 => "The provider rejects this value (range or relation between settings); the analysis still runs on it.",
            Rule::GL006 => "AWS NLB target groups terminate established connections when a target becomes unhealthy (target_health_state.unhealthy.connection_termination.enabled, default true), cutting requests the server would still drain.",
            Rule::GL007 => "The provider publishes no bound on the time from 'marked down' to 'no new requests'; graceline assumes the configured propagation_delay, which is 0.",
            Rule::GL030 => "When a pod is deleted, endpoint withdrawal (EndpointSlice, kube-proxy, LB controllers, ingress controllers) runs in parallel with preStop and SIGTERM; in the worst case the slowest consumer still sends new connections at or after the instant the app stops listening.",
            Rule::GL031 => "The last consumer of the endpoints stops sending before the app stops listening, but with less margin than the configured minimum (default 5 s).",
            Rule::GL032 => "With --endpoint-reconciler-type=master-count (or none), a departed kube-apiserver's IP stays in the `kubernetes` endpoints, so in-cluster clients keep being sent to it.",
            Rule::GL033 => "A Service whose selector matches no workload among the inputs, whose port does not resolve, or that has no selector: graceline cannot tell which pod shuts down behind it.",
            Rule::GL034 => "A preStop exec hook that is not `sleep N` (or an httpGet hook) takes an unknown time; graceline assumes the sleep it starts with, else 0 s.",
            Rule::GL035 => "With the lease reconciler a crashed kube-apiserver is removed only when its lease (TTL 15 s) expires and a peer reconciles (every 10 s).",
        }
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        match self {
            Rule::GL001 => "Raise shutdown_delay (kube-apiserver --shutdown-delay-duration) above the worst case plus margin, or detect faster: shorter interval, lower unhealthy threshold, fast-failing /readyz.",
            Rule::GL002 => "Raise shutdown_delay or detect faster so the margin reaches the minimum.",
            Rule::GL003 => "Use an HTTP(S) check of the readiness path (/readyz).",
            Rule::GL004 => "Raise terminationGracePeriodSeconds to at least preStop + readiness delay + shutdown delay + request grace.",
            Rule::GL005 => "Use a value inside the provider's accepted range.",
            Rule::GL006 => "Set target_health_state.unhealthy.connection_termination.enabled=false with an unhealthy draining interval (as cluster-api-provider-aws#5589 does).",
            Rule::GL007 => "Set propagation_delay to a measured value (graceline backend + calibrate), or keep extra margin.",
            Rule::GL030 => "Add (or lengthen) a preStop sleep to recommended_prestop_s and raise terminationGracePeriodSeconds to match; for kube-apiserver raise --shutdown-delay-duration.",
            Rule::GL031 => "Lengthen the preStop sleep (kube-apiserver: --shutdown-delay-duration) to reach the minimum margin.",
            Rule::GL032 => "Use --endpoint-reconciler-type=lease (the default since Kubernetes 1.11).",
            Rule::GL033 => "Pass the workload behind the Service, fix the selector or the targetPort name.",
            Rule::GL034 => "Use the sleep action (lifecycle.preStop.sleep.seconds) or `sleep N`, or keep a margin for the hook's own time.",
            Rule::GL035 => "Nothing to configure; keep client retries for refused connections to the `kubernetes` Service.",
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
