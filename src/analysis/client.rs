//! What the client sees when the LB still routes after E3 (the failed-request model) and what
//! happens to established connections (rule GL019: [`super::rules::client`]), as each provider
//! tells it ([`crate::provider::Provider::refusal`]; HAProxy's retries and redispatch in
//! `provider::haproxy`).
//!
//! L4 load balancers (AWS NLB, GCP passthrough, Azure LB) route connections, not requests: a
//! keep-alive or HTTP/2 connection keeps carrying requests after the LB stops new connections, until
//! the server closes it or the NLB resets it (`connection_termination`, default on; NLB guide).

use crate::error::Loc;
use crate::scenario::{LbSpec, Scenario};
use crate::time::Micros;

/// What a client sees for the new requests the LB routes after E3.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    /// Share of the requests routed after E3 that fail (0 when they are redispatched).
    pub failing_share: f64,
    /// How long such a request takes before the client sees the error (or the success).
    pub after: Micros,
    /// One line: what happens and why.
    pub summary: String,
    /// One line about established (keep-alive) connections, for L4 load balancers.
    pub connections: Option<String>,
    /// The change that spares the clients, with where it is set (`None`: at the LB), if any.
    pub fix: Option<(&'static str, Option<Loc>)>,
}

/// The client view of one LB in a scenario: the provider's account of a refused request and of
/// established connections.
pub fn client_view(sc: &Scenario, lb: &LbSpec) -> ClientView {
    let refusal = lb.provider.refusal(&lb.settings, sc.traffic.map_or(0, |t| t.backends));
    let tl = sc.server.timeline();
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
    ClientView {
        failing_share: refusal.failing_share,
        after: refusal.after,
        summary: refusal.summary,
        connections: lb.provider.established_connections(&lb.settings, &until_server),
        fix: refusal.fix,
    }
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
    fn l4_connections_are_described() {
        let nlb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-nlb\"\n";
        assert!(view(nlb).connections.unwrap().contains("the NLB resets them"));
        let off = format!("{nlb}connection_termination = false\n");
        assert!(view(&off).connections.unwrap().contains("until the server closes them"));
        let alb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-alb\"\n";
        assert!(view(alb).connections.is_none());
    }
}
