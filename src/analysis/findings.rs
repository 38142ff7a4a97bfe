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
    /// An HAProxy server without `check`: never taken out of rotation.
    GL008,
}

/// Every rule, in id order.
pub const RULES: [Rule; 8] = [
    Rule::GL001,
    Rule::GL002,
    Rule::GL003,
    Rule::GL004,
    Rule::GL005,
    Rule::GL006,
    Rule::GL007,
    Rule::GL008,
];

impl Rule {
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
            Rule::GL008 => "server-never-checked",
        }
    }

    /// Severity of every finding of this rule.
    pub fn severity(self) -> Severity {
        match self {
            Rule::GL001 | Rule::GL003 | Rule::GL004 | Rule::GL005 | Rule::GL008 => Severity::Error,
            Rule::GL002 | Rule::GL006 => Severity::Warning,
            Rule::GL007 => Severity::Note,
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
            Rule::GL008 => "An HAProxy server without health checks is never taken out of rotation",
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
            Rule::GL007 => "The provider publishes no bound on the time from 'marked down' to 'no new requests'; graceline assumes the configured propagation_delay, which is 0.",
            Rule::GL008 => "A `server` line without `check` in a backend that fronts the server is never marked down: HAProxy keeps sending it new connections after E3, which fail until the process is back.",
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
            Rule::GL007 => "Set propagation_delay to a measured value (graceline backend + calibrate), or keep extra margin.",
            Rule::GL008 => "Add `check` (with `option httpchk GET /readyz` and `check-ssl` for kube-apiserver) to the server line or its default-server.",
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
