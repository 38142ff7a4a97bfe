//! Talos KubePrism: the TCP load balancer every Talos node runs on `127.0.0.1:7445` in front of
//! the control-plane endpoints (siderolabs/talos `KubePrismController.startKubePrism()`, built on
//! github:siderolabs/go-loadbalancer).
//!
//! How it picks and drops a server, from the source (go-loadbalancer `upstream/upstream.go`,
//! `loadbalancer/target.go`; Talos `pkg/machinery/constants/constants.go`):
//! - **Health check**: a TCP dial of every upstream, one after the other, on a `time.Ticker` of
//!   `KubePrismHealthCheckInterval` = 20 s (fixed rate), each bounded by
//!   `KubePrismHealthCheckTimeout` = 15 s. Blind to `/readyz`: it sees the listener only.
//! - **Score**: each upstream starts at +1, a failed check (or failed client dial) subtracts 1, a
//!   passed one adds 1, clamped to [-3, +3]; an upstream is picked while its score is >= 0. From
//!   the steady +3, four failures drop it: the threshold is 4.
//! - **Picks** round-robin among usable upstreams of the lowest latency tier.
//! - **A failed dial is the client's failure**: the client's connection is closed (after marking the
//!   upstream down), not retried on another upstream; a black-holed upstream costs each client
//!   connection the dial timeout `KubePrismDialTimeout` = 15 s.
//!
//! Modelled: the check (fixed rate 20 s, timeout 15 s, 4 failures, TCP), and that a connection
//! sent to the closed port fails for the client. Not modelled: failed client dials counting
//! toward the score (they can only make detection faster than the checks alone), the latency
//! tiers, the checks of other upstreams delaying this one's within a round (a black-holed peer
//! holds the round up to 15 s), and the jitter option (Talos does not set it).

use super::{
    constant_dialer_model, fixed_rate_values, fixed_rate_words, no_grid, Builtin, Grid, KnobValue, LbSettings, Limits,
    ProbeModel, Provider, Refusal, Setting, DIALER_KNOBS,
};
use crate::error::{InputError, Loc};
use crate::time::Micros;

/// Talos KubePrism.
#[derive(Debug)]
pub struct KubePrism;

/// The KubePrism provider.
pub static KUBEPRISM: KubePrism = KubePrism;

impl Provider for KubePrism {
    fn family(&self) -> &'static str {
        "talos"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("talos-kubeprism")]
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
        no_grid("none: KubePrism's check timings are constants of Talos (pkg/machinery/constants), not settings")
    }

    fn describe(&self, st: &Setting) -> String {
        fixed_rate_words("interval", st)
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        fixed_rate_values("interval", st)
    }

    fn all_unhealthy(&self) -> &'static str {
        "no upstream has a score of 0 or more: KubePrism has no upstream to pick and closes every client connection"
    }

    fn refusal(&self, _s: &LbSettings, _backends: u32) -> Refusal {
        Refusal {
            failing_share: 1.0,
            after: Micros::ZERO,
            summary: "KubePrism closes the client's connection when its dial to the picked upstream fails (go-loadbalancer loadbalancer/target.go): each connection it sends to the closed port fails; a black-holed upstream costs each one the 15 s dial timeout first".into(),
            fix: None,
        }
    }
}
