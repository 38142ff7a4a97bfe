//! What the client sees when the LB still routes after E3 (the failed-request model) and what
//! happens to established connections (GL019).
//!
//! HAProxy: a connection refused by the closed port is retried on the same server `retries` times
//! (default 3, configuration manual `retries`), each retry after HAProxy's turn-around of
//! min(`timeout connect`, 1 s), so a request routed after E3 fails after about `retries` seconds; with `option redispatch` (or
//! `redispatch <interval>`) the retry goes to another server and the request succeeds. Measured on
//! HAProxy 2.6.12 (reference notes routing-after-detection.md §9): without redispatch 40 failed
//! requests, each after about 3 s; with it 1. With a single backend there is nowhere to redispatch.
//!
//! L4 load balancers (AWS NLB, GCP passthrough, Azure LB) route connections, not requests: a
//! keep-alive or HTTP/2 connection keeps carrying requests after the LB stops new connections, until
//! the server closes it or the NLB resets it (`connection_termination`, default on; NLB guide).

use super::findings::{Finding, Rule, Severity};
use crate::provider::Family;
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;

/// The cap of HAProxy's wait before retrying a refused connection: "a turn-around timer of
/// min("timeout connect", one second) is applied before a retry occurs" (configuration manual,
/// `retries`). Measured: with retries 3, each failed request took about 3 s.
pub const HAPROXY_RETRY_TURNAROUND: Micros = Micros::from_secs(1);

/// What a client sees for the new requests the LB routes after E3.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    /// Share of the requests routed to the closed port that fail (0 when they are redispatched);
    /// under send-retry-after the 429s before the listener closes fail unless the client retries.
    pub failing_share: f64,
    /// How long such a request takes before the client sees the error (or the success).
    pub after: Micros,
    /// One line: what happens and why.
    pub summary: String,
    /// One line about established (keep-alive) connections, for L4 load balancers.
    pub connections: Option<String>,
}

/// The client view of one LB in a scenario.
pub fn client_view(sc: &Scenario, lb: &LbSpec) -> ClientView {
    let (failing_share, after, summary) = if lb.family == Family::Haproxy {
        let retries = lb.settings.retries.as_ref().map_or(3, |r| r.value);
        let redispatch = lb.settings.redispatch.as_ref().is_some_and(|r| r.value);
        let backends = sc.traffic.map_or(0, |t| t.backends);
        let turnaround = lb
            .settings
            .timeout_connect
            .as_ref()
            .map_or(HAPROXY_RETRY_TURNAROUND, |t| t.value.min(HAPROXY_RETRY_TURNAROUND));
        let waited = turnaround.times(i64::from(retries));
        if retries == 0 {
            (
                1.0,
                Micros::ZERO,
                "retries 0: each request HAProxy sends to the closed port fails at once".to_string(),
            )
        } else if redispatch && backends != 1 {
            (
                0.0,
                waited,
                format!(
                    "option redispatch: a request refused by the closed port is re-sent to another server, so the client sees a delay of up to {waited} instead of an error (measured on HAProxy 2.6.12: 1 failed request instead of 40)"
                ),
            )
        } else {
            let why = if redispatch {
                "option redispatch cannot help with a single backend"
            } else {
                "no option redispatch"
            };
            (
                1.0,
                waited,
                format!(
                    "retries {retries}, {why}: each request routed after E3 is retried on the same closed port and fails after about {waited} (measured on HAProxy 2.6.12: 40 failed requests, each after about 3 s)"
                ),
            )
        }
    } else {
        (
            1.0,
            Micros::ZERO,
            "each new request routed after E3 is refused at once (connection refused or reset)".to_string(),
        )
    };
    let tl = sc.server.timeline();
    let summary = if sc.server.send_retry_after && tl.listener_close > tl.e3 {
        // shutdown-send-retry-after: the listener stays open after E3 and answers 429 with
        // Retry-After until the drain ends (k8s.io/apiserver filters/with_retry_after.go); an L7
        // proxy passes the 429 on (HAProxy retries and redispatches refused connections only).
        format!(
            "each new request routed from E3 until the listener closes (E3 + {}) is answered 429 with Retry-After: it fails unless the client retries; {}",
            tl.listener_close - tl.e3,
            summary.replace("routed after E3", "routed after the listener closes")
        )
    } else {
        summary
    };
    ClientView {
        failing_share,
        after,
        summary,
        connections: connections(sc, lb),
    }
}

/// Established connections through an L4 load balancer, in one line (None for L7 proxies).
fn connections(sc: &Scenario, lb: &LbSpec) -> Option<String> {
    let tl = sc.server.timeline();
    let l4 = matches!(
        (lb.family, lb.variant.as_str()),
        (Family::Aws, "nlb") | (Family::Gcp, _) | (Family::Azure, _)
    );
    if !l4 {
        return None;
    }
    // An app pod is not kube-apiserver: what it does with keep-alive connections is its own.
    let app =
        sc.target.as_ref().is_some_and(|t| !t.apiserver) || sc.server.profile == crate::scenario::k8s::APP_PROFILE;
    let until_server = if app {
        format!(
            "until the app closes them: unless it answers Connection: close (or HTTP/2 GOAWAY) once it starts shutting down, requests on them fail when it stops listening at E3 (E2 + {})",
            tl.e3 - tl.e2
        )
    } else {
        format!(
            "until the server closes them: kube-apiserver closes idle keep-alive connections and sends GOAWAY / Connection: close on busy ones from E3 (E2 + {}), so requests already on them are served and later ones reconnect through the LB",
            tl.e3 - tl.e2
        )
    };
    let termination = lb.settings.connection_termination.as_ref().map(|c| c.value);
    Some(if lb.family == Family::Aws && termination == Some(true) {
        "established keep-alive connections keep carrying requests after the NLB stops new connections, until the NLB resets them when the target turns unhealthy (connection_termination = true, see GL006): requests in flight on them then fail with a reset".to_string()
    } else if lb.family == Family::Aws {
        format!("established keep-alive connections keep carrying requests after the NLB stops new connections (connection_termination = false) {until_server}")
    } else if lb.family == Family::Azure {
        format!("established flows to a down instance are kept by Azure Standard LB (Basic terminates them only when all probes are down; unverified detail): keep-alive connections keep carrying requests {until_server}")
    } else {
        format!("established keep-alive connections keep carrying requests after the passthrough LB stops new connections {until_server}")
    })
}

/// GL019: what clients see, where it is worth a line: HAProxy without redispatch when requests can
/// reach the closed port (warning), keep-alive connections through an L4 LB (note).
pub fn findings(sc: &Scenario, lb: &LbSpec, routes_after_e3: bool) -> Vec<Finding> {
    let v = client_view(sc, lb);
    let mut out = Vec::new();
    if lb.family == Family::Haproxy && routes_after_e3 && v.failing_share > 0.0 {
        let loc = lb
            .settings
            .redispatch
            .as_ref()
            .filter(|r| !r.from_profile)
            .map(|r| &r.loc)
            .or(lb.settings.retries.as_ref().filter(|r| !r.from_profile).map(|r| &r.loc))
            .map_or_else(|| lb.loc.clone(), Clone::clone);
        out.push(Finding::new(
            Rule::GL019,
            loc,
            format!(
                "{}: {}; add `option redispatch` to the backend (or defaults)",
                lb.name, v.summary
            ),
        ));
    }
    if let Some(c) = v.connections {
        let loc = lb
            .settings
            .connection_termination
            .as_ref()
            .filter(|t| !t.from_profile)
            .map_or_else(|| lb.loc.clone(), |t| t.loc.clone());
        let mut f = Finding::new(Rule::GL019, loc, format!("{}: {c}", lb.name));
        f.severity = Severity::Note;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    const HAP: &str = "[server]\nprofile = \"kube-apiserver\"\n[traffic]\nrequests_per_second = 200\nbackends = 2\n[[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

    fn view(text: &str) -> ClientView {
        let sc = load_str("c.toml", text).unwrap();
        client_view(&sc, &sc.lbs[0])
    }

    #[test]
    fn haproxy_retries_and_redispatch() {
        // Defaults: retries 3, no redispatch: every request routed after E3 fails after ~3 s.
        let v = view(HAP);
        assert_eq!((v.failing_share, v.after), (1.0, Micros::from_secs(3)));
        assert!(v.connections.is_none());
        // option redispatch with two backends: re-sent elsewhere, none fail.
        let v = view(&format!("{HAP}redispatch = true\n"));
        assert_eq!(v.failing_share, 0.0);
        // retries 0: fail at once, redispatch or not.
        let v = view(&format!("{HAP}retries = 0\nredispatch = true\n"));
        assert_eq!((v.failing_share, v.after), (1.0, Micros::ZERO));
        // The turn-around is min(timeout connect, 1 s): 200 ms x 3.
        let v = view(&format!("{HAP}timeout_connect = \"200ms\"\n"));
        assert_eq!(v.after, Micros::from_millis(600));
        // A single backend: nowhere to redispatch to.
        let v = view(&format!(
            "{}redispatch = true\n",
            HAP.replace("backends = 2", "backends = 1")
        ));
        assert_eq!(v.failing_share, 1.0);
    }

    #[test]
    fn send_retry_after_answers_429_before_the_port_closes() {
        // The case: OpenShift on AWS answers 429 for request_grace after E3, then closes.
        let text = "[server]\nprofile = \"kube-apiserver-openshift-aws\"\n[[lb]]\nprofile = \"aws-nlb\"\nprotocol = \"https\"\npath = \"/readyz\"\n";
        let v = view(text);
        assert!(
            v.summary.starts_with(
                "each new request routed from E3 until the listener closes (E3 + 1m) is answered 429 with Retry-After"
            ),
            "{}",
            v.summary
        );
        assert!(
            v.summary.ends_with("refused at once (connection refused or reset)"),
            "{}",
            v.summary
        );
        assert!(!view(nlb_plain()).summary.contains("429"));
    }

    fn nlb_plain() -> &'static str {
        "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-nlb\"\n"
    }

    #[test]
    fn l4_connections_are_described() {
        let nlb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-nlb\"\n";
        assert!(view(nlb).connections.unwrap().contains("the NLB resets them"));
        let off = format!("{nlb}connection_termination = false\n");
        assert!(view(&off).connections.unwrap().contains("until the server closes them"));
        let alb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-alb\"\n";
        assert!(view(alb).connections.is_none());
    }
}
