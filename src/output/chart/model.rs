//! What a timeline chart shows, in integer time, from values the analysis computed
//! ([`crate::analysis::walk`]): the server's phases and the E-markers from its timeline, and per
//! load balancer its lane as walked. No analysis is called here.

use crate::analysis::walk::{LbWalk, ServerWalk};
use crate::analysis::Verdict;
use crate::time::Micros;
use crate::timeline::ReadyzFailure;

/// What the server is doing during one stretch of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The preStop hook runs; the server still listens and is ready.
    PreStop,
    /// Listening, `/readyz` passes.
    Ready,
    /// Listening, `/readyz` fails.
    ReadyzFailing,
    /// send-retry-after: from E3 until the in-flight requests drain the listener stays open and
    /// new requests get 429 + Retry-After.
    RetryAfter,
    /// Listener closed, in-flight requests drain.
    Draining,
    /// The process exited on its own.
    Exited,
    /// The process was killed by SIGKILL.
    Killed,
}

/// One stretch `[from, to)` of the server lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start (absolute).
    pub from: Micros,
    /// End (absolute, exclusive).
    pub to: Micros,
    /// The state during it.
    pub state: ServerState,
}

/// A labelled vertical line across the whole chart (E1..E5, SIGKILL, preStop start, the listener
/// closing under send-retry-after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Instant (absolute).
    pub at: Micros,
    /// Short id, e.g. `E3`.
    pub id: &'static str,
    /// What happens, e.g. `stops listening`.
    pub what: String,
    /// SIGKILL is drawn in red.
    pub kill: bool,
}

/// Everything one timeline chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineChart {
    /// The title's scenario part (a scenario named after its file shows the file name only).
    pub scenario: String,
    /// Worst verdict of the lanes shown.
    pub verdict: Verdict,
    /// The server in a line of words.
    pub server: String,
    /// Axis start (absolute).
    pub start: Micros,
    /// Axis end (absolute).
    pub end: Micros,
    /// Axis zero: SIGTERM (E1).
    pub origin: Micros,
    /// E2 (absolute).
    pub e2: Micros,
    /// E3 (absolute).
    pub e3: Micros,
    /// The server lane.
    pub segments: Vec<Segment>,
    /// Vertical markers, in time order.
    pub markers: Vec<Marker>,
    /// One lane per load balancer shown.
    pub lanes: Vec<LbWalk>,
}

impl TimelineChart {
    /// Each lane's own span: from its last pass before the failure onset (or E2) to the later of
    /// its removal and E3; what a zoom inset must show.
    pub fn spans(&self) -> Vec<(Micros, Micros)> {
        self.lanes
            .iter()
            .map(|l| (l.last_pass.min(self.e2), l.removal.max(self.e3)))
            .collect()
    }
}

fn server_words(w: &ServerWalk) -> String {
    let s = &w.server;
    let mut out = format!("server {}: ", s.profile);
    if s.prestop_sleep > Micros::ZERO {
        out.push_str(&format!("preStop {}, ", s.prestop_sleep));
    }
    out.push_str(&format!(
        "shutdown_delay {}, request_grace {}, termination_grace_period {}, failing {} {}",
        s.shutdown_delay,
        s.request_grace,
        s.termination_grace_period,
        s.readiness_path,
        match s.readyz_failure {
            ReadyzFailure::Error => "answers an error",
            ReadyzFailure::Timeout => "never answers",
            ReadyzFailure::Either => "answers an error or never answers",
        }
    ));
    if s.send_retry_after {
        out.push_str(", send-retry-after");
    }
    out
}

/// The title's scenario part: the scenario's name, or the file's name alone when the scenario is
/// named after its file path (a chart title never shows directories).
pub fn title_name(name: &str, file: &str) -> String {
    let parts: Vec<String> = name
        .split(", ")
        .map(|n| {
            if n.contains('/') && (n == file || std::path::Path::new(n).extension().is_some()) {
                std::path::Path::new(n)
                    .file_name()
                    .map_or(n.to_string(), |f| f.to_string_lossy().into_owned())
            } else {
                n.to_string()
            }
        })
        .collect();
    parts.join(", ")
}

/// The chart of `lanes` against `server`, over the server walk's horizon.
pub fn build(server: &ServerWalk, lanes: &[LbWalk]) -> TimelineChart {
    let tl = server.timeline;
    let (start, end) = server.horizon;
    let mut segments = Vec::new();
    let mut seg = |from: Micros, to: Micros, state| {
        let (from, to) = (from.max(start), to.min(end));
        if from < to {
            segments.push(Segment { from, to, state });
        }
    };
    seg(start, Micros::ZERO.min(tl.e1), ServerState::Ready);
    seg(Micros::ZERO, tl.e1, ServerState::PreStop);
    seg(tl.e1, tl.e2, ServerState::Ready);
    seg(tl.e2, tl.e3, ServerState::ReadyzFailing);
    seg(tl.e3, tl.listener_close, ServerState::RetryAfter);
    seg(tl.listener_close.max(tl.e3), tl.e4, ServerState::Draining);
    seg(
        tl.e5,
        end,
        if tl.killed {
            ServerState::Killed
        } else {
            ServerState::Exited
        },
    );

    let path = &server.server.readiness_path;
    let mut markers = Vec::new();
    let mut mark = |at: Micros, id: &'static str, what: &str, kill: bool| {
        markers.push(Marker {
            at,
            id,
            what: what.to_string(),
            kill,
        });
    };
    if tl.e1 > Micros::ZERO {
        mark(Micros::ZERO, "preStop", "hook starts", false);
    }
    mark(tl.e1, "E1", "SIGTERM", false);
    mark(tl.e2, "E2", &format!("{path} fails"), false);
    let retry_after = tl.listener_close > tl.e3;
    mark(
        tl.e3,
        "E3",
        if retry_after {
            "429 + Retry-After"
        } else {
            "stops listening"
        },
        false,
    );
    mark(
        tl.e4,
        "E4",
        if tl.killed { "in-flight cut" } else { "in-flight done" },
        false,
    );
    mark(tl.e5, "E5", "exit", false);
    if tl.killed {
        mark(tl.kill, "SIGKILL", "", true);
    }
    // The listener's close has its own line only where no other marker says it already.
    if retry_after && ![tl.e4, tl.e5, tl.kill].contains(&tl.listener_close) {
        mark(tl.listener_close, "listener", "closes", false);
    }
    markers.sort_by_key(|m| m.at);

    TimelineChart {
        scenario: title_name(&server.scenario, &server.file),
        verdict: lanes
            .iter()
            .map(|l| l.verdict)
            .max_by_key(|v| *v as u8)
            .unwrap_or(Verdict::Pass),
        server: server_words(server),
        start,
        end,
        origin: tl.e1,
        e2: tl.e2,
        e3: tl.e3,
        segments,
        markers,
        lanes: lanes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::walk::walk;
    use crate::scenario::load_str;

    const SEED: &str = include_str!("../../../tests/fixtures/seed-openshift-aws.toml");

    fn chart(text: &str) -> TimelineChart {
        let sc = load_str("k.toml", text).unwrap();
        let (server, lanes) = walk(&sc, None).unwrap();
        build(&server, &lanes)
    }

    #[test]
    fn sigkill_and_prestop_show_up() {
        let text = SEED.replace(
            "termination_grace_period = \"135s\"",
            "termination_grace_period = \"60s\"\nprestop_sleep = \"10s\"",
        );
        let c = chart(&text);
        assert!(c
            .markers
            .iter()
            .any(|m| m.id == "SIGKILL" && m.at == Micros::from_secs(60)));
        assert_eq!(c.markers[0].id, "preStop");
        assert_eq!(c.origin, Micros::from_secs(10));
        let states: Vec<_> = c.segments.iter().map(|s| s.state).collect();
        assert!(states.contains(&ServerState::PreStop) && states.contains(&ServerState::Killed));
        assert!(!states.contains(&ServerState::Exited));
    }

    #[test]
    fn send_retry_after_is_its_own_phase_until_the_listener_closes() {
        let text = SEED.replace("[[lb]]", "send_retry_after = true\n[[lb]]");
        let c = chart(&text);
        let seg = |s: ServerState| c.segments.iter().find(|g| g.state == s).copied();
        let ra = seg(ServerState::RetryAfter).expect("a 429 phase");
        // E3 at 30 s, the listener open for the drain (request_grace 60 s), then the 2 s shutdown.
        assert_eq!((ra.from, ra.to), (Micros::from_secs(30), Micros::from_secs(90)));
        let dr = seg(ServerState::Draining).unwrap();
        assert_eq!((dr.from, dr.to), (Micros::from_secs(90), Micros::from_secs(92)));
        let e3 = c.markers.iter().find(|m| m.id == "E3").unwrap();
        assert!(e3.what.contains("429") && !e3.what.contains("stops listening"));
        assert!(c
            .markers
            .iter()
            .any(|m| m.id == "listener" && m.at == Micros::from_secs(90)));
        // Without it: E3 stops listening, no 429 phase, no listener marker.
        let c = chart(SEED);
        assert!(c.segments.iter().all(|g| g.state != ServerState::RetryAfter));
        assert!(c.markers.iter().all(|m| m.id != "listener"));
        assert_eq!(c.markers.iter().find(|m| m.id == "E3").unwrap().what, "stops listening");
    }

    #[test]
    fn titles_never_show_a_directory() {
        assert_eq!(
            title_name("tests/fixtures/inputs/kubernetes-paths/web-nlb-ip.yaml", "x"),
            "web-nlb-ip.yaml"
        );
        assert_eq!(title_name("a/b.cfg", "a/b.cfg"), "b.cfg");
        assert_eq!(title_name("cp/one, a/b.yaml", "a/b.yaml"), "cp/one, b.yaml");
        assert_eq!(title_name("OpenShift on AWS", "seed.toml"), "OpenShift on AWS");
        assert_eq!(title_name("api/web", "f.yaml"), "api/web");
    }

    #[test]
    fn lane_spans_run_from_the_last_pass_to_the_later_of_removal_and_e3() {
        let c = chart(SEED);
        let l = &c.lanes[0];
        assert_eq!(c.spans(), [(l.last_pass, l.removal.max(c.e3))]);
    }
}
