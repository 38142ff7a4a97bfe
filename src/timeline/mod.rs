//! The server side: a graceful-shutdown timeline (E1..E5, SIGKILL) and what a probe sees at any instant.
//!
//! Sources: kube-apiserver lifecycle in k8s.io/apiserver `pkg/server/genericapiserver.go`
//! (readyz fails at shutdown initiation since v1.18.0/v1.17.4/v1.16.8, kubernetes#88911) and
//! the OpenShift installer's `docs/dev/kube-apiserver-health-check.md` (E1..E5 naming).

use crate::time::Micros;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// How a probe of a failing `/readyz` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadyzFailure {
    /// The server answers at once with a 5xx (kube-apiserver answers HTTP 500).
    Error,
    /// The server accepts the connection but never answers; the probe fails at its timeout.
    Timeout,
    /// Unknown which of the two: `check` takes the worse of both for the worst case and the better
    /// for the best case; `simulate` draws one per restart (`readyz_timeout_probability`). The
    /// simulator itself needs a resolved mode ([`ServerSpec::with_failure`]); left unresolved it
    /// behaves as `Timeout`.
    Either,
}

impl ReadyzFailure {
    /// The concrete modes this one stands for.
    pub fn concrete(self) -> &'static [ReadyzFailure] {
        match self {
            ReadyzFailure::Error => &[ReadyzFailure::Error],
            ReadyzFailure::Timeout => &[ReadyzFailure::Timeout],
            ReadyzFailure::Either => &[ReadyzFailure::Error, ReadyzFailure::Timeout],
        }
    }
}

/// When `/readyz` starts failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadyzOnset {
    /// At `readyz_fail_after` past SIGTERM (kube-apiserver v1.18+).
    ShutdownStart,
    /// Only when the listener closes (kube-apiserver before v1.18, kubernetes#88911).
    ListenerClose,
}

/// A `[server]` table (or a server profile's `[settings]`) as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerRaw {
    /// Built-in server profile the values start from.
    pub profile: Option<Spanned<String>>,
    /// preStop sleep before SIGTERM.
    pub prestop_sleep: Option<Spanned<Micros>>,
    /// E2 − E1.
    pub readyz_fail_after: Option<Spanned<Micros>>,
    /// E3 − E2.
    pub shutdown_delay: Option<Spanned<Micros>>,
    /// E4 − E3 at most.
    pub request_grace: Option<Spanned<Micros>>,
    /// SIGKILL after this.
    pub termination_grace_period: Option<Spanned<Micros>>,
    /// `error` or `timeout`.
    pub readyz_failure: Option<Spanned<ReadyzFailure>>,
    /// `shutdown-start` or `listener-close`.
    pub readyz_onset: Option<Spanned<ReadyzOnset>>,
    /// Readiness endpoint path.
    pub readiness_path: Option<Spanned<String>>,
    /// Server response time to a probe.
    pub response_time: Option<Spanned<Micros>>,
    /// With `readyz_failure = "either"`: the probability that a failing `/readyz` hangs (else 5xx).
    pub readyz_timeout_probability: Option<Spanned<f64>>,
    /// kube-apiserver `--shutdown-send-retry-after`.
    pub send_retry_after: Option<Spanned<bool>>,
}

/// A resolved server: every field has a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSpec {
    /// Built-in profile the values started from.
    pub profile: String,
    /// preStop hook sleep: runs before SIGTERM while the grace-period clock already runs.
    pub prestop_sleep: Micros,
    /// E2 − E1.
    pub readyz_fail_after: Micros,
    /// E3 − E2 (kube-apiserver `--shutdown-delay-duration`).
    pub shutdown_delay: Micros,
    /// E4 − E3 at most (in-flight requests; kube-apiserver `--request-timeout`).
    pub request_grace: Micros,
    /// SIGKILL at this time after the grace period starts (pod `terminationGracePeriodSeconds`).
    pub termination_grace_period: Micros,
    /// How a failing readiness probe behaves.
    pub readyz_failure: ReadyzFailure,
    /// When readiness starts failing.
    pub readyz_onset: ReadyzOnset,
    /// The path whose failure announces the shutdown.
    pub readiness_path: String,
    /// Time the server takes to answer a probe (pass, 5xx or refused connection).
    pub response_time: Micros,
    /// kube-apiserver `--shutdown-send-retry-after=true`: after E3 the listener stays open until the
    /// in-flight requests drain (at most `request_grace`), new requests get 429 + Retry-After except
    /// the exempt paths ([`RETRY_AFTER_EXEMPT`]), then the server shuts down with a 2 s timeout
    /// (k8s.io/apiserver pkg/server/genericapiserver.go l.586-594, filters/with_retry_after.go).
    pub send_retry_after: bool,
}

/// Path prefixes kube-apiserver keeps answering under `--shutdown-send-retry-after`
/// (`pathPrefixesExemptFromRetryAfter`, k8s.io/apiserver pkg/server/filters/with_retry_after.go).
pub const RETRY_AFTER_EXEMPT: &[&str] = &["/readyz", "/livez", "/healthz", "/metrics"];

/// The shortest window the kubelet leaves between SIGTERM and SIGKILL after a preStop hook
/// (`minimumGracePeriodInSeconds`, pkg/kubelet/kuberuntime/kuberuntime_container.go).
pub const MIN_KILL_WINDOW: Micros = Micros::from_secs(2);

/// The hard-coded `server.Shutdown` timeout after the drain in send-retry-after mode
/// (k8s.io/apiserver pkg/server/genericapiserver.go l.586-594).
pub const RETRY_AFTER_SHUTDOWN_TIMEOUT: Micros = Micros::from_secs(2);

/// The instants of one shutdown, in microseconds from the start of the grace period (t = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// SIGTERM.
    pub e1: Micros,
    /// `/readyz` starts failing.
    pub e2: Micros,
    /// The server stops accepting new requests (kube-apiserver `NotAcceptingNewRequest`): without
    /// send-retry-after the listener closes here.
    pub e3: Micros,
    /// The listener really closes: E3, or with send-retry-after the end of the drain (its worst
    /// case, E3 + `request_grace`, clamped by SIGKILL). Connections are refused from here on.
    pub listener_close: Micros,
    /// In-flight requests are cut (or have finished).
    pub e4: Micros,
    /// The process exits.
    pub e5: Micros,
    /// SIGKILL from the kubelet.
    pub kill: Micros,
    /// True when SIGKILL comes before the drain would have ended on its own.
    pub killed: bool,
}

/// What the server is doing at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Listening, `/readyz` passes.
    Ready,
    /// Listening, `/readyz` fails.
    ReadyzFailing,
    /// Listener closed, in-flight requests draining.
    Draining,
    /// Process gone.
    Exited,
}

/// The outcome of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The check passed.
    Pass,
    /// The server answered with an error status.
    HttpError,
    /// No answer before the probe's timeout.
    Timeout,
    /// The connection was refused (listener closed).
    Refused,
}

impl Outcome {
    /// True for every failing outcome.
    pub fn is_failure(self) -> bool {
        self != Outcome::Pass
    }
}

impl ServerSpec {
    /// The same server with a failing `/readyz` behaving as `mode`.
    pub fn with_failure(&self, mode: ReadyzFailure) -> ServerSpec {
        ServerSpec {
            readyz_failure: mode,
            ..self.clone()
        }
    }

    /// The shutdown instants, clamped so that SIGKILL ends everything it pre-empts.
    pub fn timeline(&self) -> Timeline {
        // The kubelet runs the preStop hook for at most the grace period, then sends SIGTERM with
        // what is left of it, but never less than a 2 s window before SIGKILL
        // (pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer,
        // minimumGracePeriodInSeconds; pod-lifecycle.md "one-off grace period extension of 2 s").
        let grace = self.termination_grace_period;
        let e1 = self.prestop_sleep.min(grace);
        let kill = if self.prestop_sleep > Micros::ZERO {
            grace.max(e1 + MIN_KILL_WINDOW)
        } else {
            grace
        };
        let e3_planned = e1 + self.readyz_fail_after + self.shutdown_delay;
        let e2_planned = match self.readyz_onset {
            ReadyzOnset::ShutdownStart => e1 + self.readyz_fail_after,
            ReadyzOnset::ListenerClose => e3_planned,
        };
        let e3 = e3_planned.min(kill);
        let e2 = e2_planned.min(e3);
        let (listener_close, e4_planned) = if self.send_retry_after {
            let drained = e3_planned + self.request_grace;
            (drained.min(kill), drained + RETRY_AFTER_SHUTDOWN_TIMEOUT)
        } else {
            (e3, e3_planned + self.request_grace)
        };
        let e4 = e4_planned.min(kill);
        Timeline {
            e1: e1.min(kill),
            e2,
            e3,
            listener_close,
            e4,
            e5: e4,
            kill,
            killed: kill < e4_planned,
        }
    }
}

impl Timeline {
    /// E3 − E2: how long the load balancer has to stop routing.
    pub fn budget(&self) -> Micros {
        self.e3 - self.e2
    }

    /// The server phase at `t`. Tie rule: a phase change at `t` is already in force at `t`.
    pub fn phase_at(&self, t: Micros) -> Phase {
        if t >= self.e5 {
            Phase::Exited
        } else if t >= self.e3 {
            Phase::Draining
        } else if t >= self.e2 {
            Phase::ReadyzFailing
        } else {
            Phase::Ready
        }
    }
}

/// How one load balancer's probes meet the server: the parts of the probe that matter to the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeView {
    /// The probe asks the readiness endpoint (else it only sees the listener: TCP, `/healthz`, `/livez`).
    pub sees_readiness: bool,
    /// The check's success matcher accepts the status a failing readiness endpoint answers (500
    /// for kube-apiserver): with `readyz_failure = "error"` the check is blind to readiness.
    pub accepts_readyz_error: bool,
    /// An HTTP check of a path kube-apiserver answers with 429 under send-retry-after (not one of
    /// [`RETRY_AFTER_EXEMPT`]) whose matcher rejects 429: it fails from E3 (only matters with
    /// `send_retry_after`).
    pub fails_on_retry_after: bool,
    /// The probe's effective timeout (the longest a probe of a silent server can take).
    pub timeout: Micros,
    /// The shortest a probe of a silent server can take; equals `timeout` except where the
    /// provider's timer is not deterministic (HAProxy 2.6 with `timeout check` below `inter`,
    /// see `provider::haproxy::effective_timeout`).
    pub timeout_min: Micros,
}

impl ProbeView {
    /// Outcome and duration of a probe that starts at `start`; the server state at the start decides.
    pub fn probe(&self, server: &ServerSpec, tl: &Timeline, start: Micros) -> (Outcome, Micros) {
        self.probe_with_latency(server, tl, start, server.response_time)
    }

    /// Like [`ProbeView::probe`], with this probe's response latency instead of the server's fixed
    /// `response_time`: the time a pass, a 5xx or a refusal takes to come back. An answer that
    /// would arrive at or after the timeout is a timeout (at the timeout).
    #[inline]
    pub fn probe_with_latency(
        &self,
        server: &ServerSpec,
        tl: &Timeline,
        start: Micros,
        latency: Micros,
    ) -> (Outcome, Micros) {
        Self::cut(tl, start, self.answer(server, tl, start, latency))
    }

    /// The outcome and duration of a probe as the server state at its start decides, before
    /// [`ProbeView::cut`] ends it with the process.
    #[inline]
    pub fn answer(&self, server: &ServerSpec, tl: &Timeline, start: Micros, latency: Micros) -> (Outcome, Micros) {
        let (outcome, dur) = if start >= tl.listener_close {
            (Outcome::Refused, latency)
        } else if start >= self.onset_at(server.readyz_failure, tl) {
            if self.sees(server.readyz_failure) {
                match server.readyz_failure {
                    ReadyzFailure::Error => (Outcome::HttpError, latency),
                    ReadyzFailure::Timeout | ReadyzFailure::Either => return (Outcome::Timeout, self.timeout),
                }
            } else {
                // 429 + Retry-After (send-retry-after, a non-exempt path).
                (Outcome::HttpError, latency)
            }
        } else {
            (Outcome::Pass, latency)
        };
        if dur >= self.timeout {
            (Outcome::Timeout, self.timeout)
        } else {
            (outcome, dur)
        }
    }

    /// A failing probe the server accepted (it started before the listener closed) ends at the
    /// latest when the process does: exit or SIGKILL resets the connection (E5), counted as refused.
    /// Tie rule: a probe that would end exactly at E5 is cut there (the exit is in force at its instant).
    /// Refused probes were never accepted and are left alone.
    #[inline]
    pub fn cut(tl: &Timeline, start: Micros, (outcome, dur): (Outcome, Micros)) -> (Outcome, Micros) {
        if outcome.is_failure() && start < tl.listener_close && start + dur >= tl.e5 {
            (Outcome::Refused, tl.e5 - start)
        } else {
            (outcome, dur)
        }
    }

    /// Whether this check sees a failing readiness endpoint answering in `mode` (a 500 the
    /// matcher accepts is not seen; a hang always is).
    pub fn sees(&self, mode: ReadyzFailure) -> bool {
        self.sees_readiness && !(mode == ReadyzFailure::Error && self.accepts_readyz_error)
    }

    /// Absolute instant from which probes fail for a server failing in `mode`: E2 for a check that
    /// sees readiness; E3 for one answered 429 under send-retry-after; else the listener's close.
    pub fn onset_at(&self, mode: ReadyzFailure, tl: &Timeline) -> Micros {
        if self.sees(mode) {
            tl.e2
        } else if self.fails_on_retry_after {
            tl.e3
        } else {
            tl.listener_close
        }
    }

    /// Failure onset relative to E2 (see [`ProbeView::onset_at`]).
    pub fn onset(&self, server: &ServerSpec, tl: &Timeline) -> Micros {
        self.onset_at(server.readyz_failure, tl) - tl.e2
    }

    /// Longest duration of a failing probe that starts before E3 (a 5xx, or the timeout).
    pub fn hang(&self, server: &ServerSpec) -> Micros {
        match server.readyz_failure {
            ReadyzFailure::Error => server.response_time,
            ReadyzFailure::Timeout | ReadyzFailure::Either => self.timeout,
        }
    }

    /// Shortest duration of a failing probe that starts before E3.
    pub fn hang_min(&self, server: &ServerSpec) -> Micros {
        match server.readyz_failure {
            ReadyzFailure::Error => server.response_time,
            ReadyzFailure::Timeout | ReadyzFailure::Either => self.timeout_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerSpec {
        ServerSpec {
            profile: "t".into(),
            prestop_sleep: Micros::ZERO,
            readyz_fail_after: Micros::ZERO,
            shutdown_delay: Micros::from_secs(30),
            request_grace: Micros::from_secs(60),
            termination_grace_period: Micros::from_secs(135),
            readyz_failure: ReadyzFailure::Timeout,
            readyz_onset: ReadyzOnset::ShutdownStart,
            readiness_path: "/readyz".into(),
            response_time: Micros::ZERO,
            send_retry_after: false,
        }
    }

    #[test]
    fn seed_timeline() {
        let tl = server().timeline();
        assert_eq!(
            (tl.e1, tl.e2, tl.e3),
            (Micros::ZERO, Micros::ZERO, Micros::from_secs(30))
        );
        assert_eq!(tl.e5, Micros::from_secs(90));
        assert!(!tl.killed);
        assert_eq!(tl.budget(), Micros::from_secs(30));
    }

    #[test]
    fn sigkill_pre_empts_the_drain_and_the_listener() {
        let mut s = server();
        s.termination_grace_period = Micros::from_secs(20);
        let tl = s.timeline();
        assert!(tl.killed);
        assert_eq!(tl.e3, Micros::from_secs(20));
        assert_eq!(tl.e5, Micros::from_secs(20));
    }

    #[test]
    fn pre_118_readyz_fails_at_the_listener() {
        let mut s = server();
        s.readyz_onset = ReadyzOnset::ListenerClose;
        let tl = s.timeline();
        assert_eq!(tl.e2, tl.e3);
        assert_eq!(tl.budget(), Micros::ZERO);
    }

    #[test]
    fn tie_rule_phase_change_applies_at_its_instant() {
        let s = server();
        let tl = s.timeline();
        let v = ProbeView {
            sees_readiness: true,
            timeout: Micros::from_secs(10),
            timeout_min: Micros::from_secs(10),
            accepts_readyz_error: false,
            fails_on_retry_after: false,
        };
        assert_eq!(v.probe(&s, &tl, Micros(-1)).0, Outcome::Pass);
        assert_eq!(v.probe(&s, &tl, tl.e2).0, Outcome::Timeout);
        assert_eq!(v.probe(&s, &tl, tl.e3).0, Outcome::Refused);
        let tcp = ProbeView {
            sees_readiness: false,
            timeout: Micros::from_secs(10),
            timeout_min: Micros::from_secs(10),
            accepts_readyz_error: false,
            fails_on_retry_after: false,
        };
        assert_eq!(tcp.probe(&s, &tl, tl.e3 - Micros::UNIT).0, Outcome::Pass);
        assert_eq!(tl.phase_at(tl.e3), Phase::Draining);
    }
}
