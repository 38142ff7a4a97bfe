//! The k3s / RKE2 agent load balancer: the TCP proxy every k3s agent (and RKE2, which embeds the
//! same package) runs on 127.0.0.1 in front of the servers' supervisor and apiserver ports
//! (`k3s-agent-load-balancer`, `k3s-api-server-agent-load-balancer`; github:k3s-io/k3s
//! `pkg/agent/loadbalancer/`).
//!
//! How it picks and drops a server, from the source:
//! - **Picks one active server for every new connection** (`currentServerAddress`), not a
//!   per-connection balance (`loadbalancer.go`; k3s-io/k3s#11329 keeps one active server "as long
//!   as it passes health checks and can be dialed").
//! - **A failed dial moves on**: `dialContext()` tries the next server of its list at once and
//!   fails the client only when every server failed ("all servers failed"): a connection refused
//!   after E3 costs the client one refused round trip, no error, while another server answers.
//! - **Health check**: `runHealthChecks()` (`servers.go`) polls every server's check every second
//!   (`wait.Until(..., time.Second, ...)`) and on a healthy → unhealthy transition closes every
//!   connection to it. For the apiserver/supervisor balancer the check is the state of the agent's
//!   remotedialer tunnel to that server (`pkg/agent/tunnel/tunnel.go` `connect()`): failed once
//!   the websocket breaks. It never looks at `/readyz`.
//!
//! Modelled: blind to readiness; new connections leave the server from E3 within the 1-s poll
//! (a refused dial moves the active server at once, which can only be sooner), fixed rate 1 s,
//! one failure; a connection refused in that window is re-dialled elsewhere. Not modelled: when
//! the tunnel itself breaks (it may outlive the listener; the refused dial covers that), the
//! preference order after recovery, the fallback to the default server, and a black-holed server:
//! the dialer has no timeout (`net.Dialer{}`), so a silent server costs a connection the
//! operating system's connect timeout before it moves on.

use super::{
    constant_dialer_model, fixed_rate_values, fixed_rate_words, no_grid, Builtin, Grid, KnobValue, LbSettings, Limits,
    ProbeModel, Provider, Refusal, Setting, DIALER_KNOBS,
};
use crate::error::{InputError, Loc};
use crate::time::Micros;

/// The k3s / RKE2 agent load balancer.
#[derive(Debug)]
pub struct AgentLb;

/// The k3s agent load-balancer provider.
pub static AGENT_LB: AgentLb = AgentLb;

impl Provider for AgentLb {
    fn family(&self) -> &'static str {
        "k3s"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("k3s-agent-lb")]
    }

    fn knobs(&self) -> &'static [&'static str] {
        DIALER_KNOBS
    }

    fn validate(&self, _s: &LbSettings, _limits: &Limits, _profile: &str) -> Result<(), InputError> {
        Ok(())
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        constant_dialer_model(s, readiness_path, at)
    }

    fn grid(&self, _s: &LbSettings, _limits: &Limits) -> Grid {
        no_grid("none: the agent load balancer's timings are constants of k3s, not settings")
    }

    fn describe(&self, st: &Setting) -> String {
        fixed_rate_words("interval", st)
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        fixed_rate_values("interval", st)
    }

    fn all_unhealthy(&self) -> &'static str {
        "every server fails its check: the agent load balancer ignores the checks and dials them in turn, the default server last"
    }

    fn refusal(&self, _s: &LbSettings, backends: u32) -> Refusal {
        if backends == 1 {
            return Refusal {
                failing_share: 1.0,
                after: Micros::ZERO,
                summary: "one server: a refused dial has nowhere to go, the client's connection is closed (\"all servers failed\")".into(),
                fix: None,
            };
        }
        Refusal {
            failing_share: 0.0,
            after: Micros::ZERO,
            summary: "a dial refused by the closed port is re-dialled to the next server at once (dialContext() in pkg/agent/loadbalancer): the client sees a round trip more, no error".into(),
            fix: None,
        }
    }
}
