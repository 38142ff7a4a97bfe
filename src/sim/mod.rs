//! Discrete-event simulator: one load balancer's probers against one server timeline.
//!
//! Time is integer microseconds. Tie rule: events at the same instant are handled in this order:
//! server phase changes, then probe results, then probe starts, then load-balancer routing changes;
//! within a class, in the order they were scheduled. So a probe that starts exactly at E2 already
//! sees `/readyz` failing, one that starts exactly at E3 is refused, and a result that arrives at
//! the same instant as the next fixed-rate start is counted first.
//!
//! Termination: with [`Until::Removal`], every probe that starts at or after the failure onset
//! fails, so each prober is marked down after at most `threshold + ceil(timeout/period) + 1` probes
//! past the onset, and starts at most `ceil(propagation/period)` more while the removal propagates;
//! a run processes at most `probers × (probes before the onset + those bounds) × 2 + 8` events. [`MAX_EVENTS`] guards against a caller that asks for an unbounded horizon.

use crate::provider::{ProbeModel, Schedule};
use crate::time::Micros;
use crate::timeline::{Outcome, Phase, ServerSpec, Timeline};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Hard cap on processed events per run.
pub const MAX_EVENTS: u64 = 5_000_000;

/// Where the waits between completion-relative checks get their jitter.
pub trait JitterSource {
    /// A jitter in `[-bound, bound]` for the next wait.
    fn draw(&mut self, bound: Micros) -> Micros;

    /// How long a completion-relative probe of a silent server hangs, in `[shortest, longest]`
    /// (a range only where the provider's timer is not deterministic); the longest by default.
    fn draw_hang(&mut self, shortest: Micros, longest: Micros) -> Micros {
        let _ = shortest;
        longest
    }
}

/// No jitter at all.
pub struct NoJitter;

impl JitterSource for NoJitter {
    fn draw(&mut self, _bound: Micros) -> Micros {
        Micros::ZERO
    }
}

/// A fixed sequence of jitters (clamped to the bound), then zero, and of hang durations for
/// silent probes (clamped to their range), then the longest: replays an analysis witness.
pub struct Scripted<'a> {
    values: &'a [Micros],
    next: usize,
    hangs: &'a [Micros],
    next_hang: usize,
}

impl<'a> Scripted<'a> {
    /// Replays `values` in order; silent probes hang for their longest.
    pub fn new(values: &'a [Micros]) -> Self {
        Scripted {
            values,
            next: 0,
            hangs: &[],
            next_hang: 0,
        }
    }

    /// Makes the silent probes hang for `hangs`, in order.
    pub fn with_hangs(mut self, hangs: &'a [Micros]) -> Self {
        self.hangs = hangs;
        self
    }
}

impl JitterSource for Scripted<'_> {
    fn draw(&mut self, bound: Micros) -> Micros {
        let v = self.values.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        v.clamp(-bound, bound)
    }

    fn draw_hang(&mut self, shortest: Micros, longest: Micros) -> Micros {
        let h = self.hangs.get(self.next_hang).copied();
        self.next_hang += 1;
        h.map_or(longest, |h| h.clamp(shortest, longest))
    }
}

/// Where each probe gets its response latency (the time a pass, a 5xx or a refusal takes).
pub trait LatencySource {
    /// Latency of probe number `probe` (0 = its first) of prober `prober`. The simulator asks once
    /// per probe, at its start, in start order within each prober.
    fn latency(&mut self, prober: u32, probe: u32) -> Micros;
}

/// The same latency for every probe.
pub struct ConstLatency(pub Micros);

impl LatencySource for ConstLatency {
    fn latency(&mut self, _prober: u32, _probe: u32) -> Micros {
        self.0
    }
}

/// Latencies per prober and probe from a table; past the end of a row, its last value (or the
/// fallback for an empty or missing row). Replays witnesses and proptest cases.
pub struct ScriptedLatency<'a> {
    rows: &'a [Vec<Micros>],
    fallback: Micros,
}

impl<'a> ScriptedLatency<'a> {
    /// Replays `rows[prober][probe]`, else `fallback`.
    pub fn new(rows: &'a [Vec<Micros>], fallback: Micros) -> Self {
        ScriptedLatency { rows, fallback }
    }
}

impl LatencySource for ScriptedLatency<'_> {
    fn latency(&mut self, prober: u32, probe: u32) -> Micros {
        self.rows.get(prober as usize).map_or(self.fallback, |row| {
            row.get(probe as usize).or(row.last()).copied().unwrap_or(self.fallback)
        })
    }
}

/// How a prober starts: its first probe's start instant (absolute) and its jitter.
pub struct ProberPlan<'a> {
    /// Absolute start of this prober's first probe; must precede the failure onset for steady state.
    pub first_start: Micros,
    /// Jitter for completion-relative waits.
    pub jitter: &'a mut dyn JitterSource,
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// As soon as the LB routes no new request to the server.
    Removal,
    /// At this absolute instant (for charts); removal may or may not have happened.
    Time(Micros),
}

/// One thing that happened, for `explain` and charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// Absolute instant.
    pub at: Micros,
    /// What happened.
    pub kind: TraceKind,
}

/// Kinds of trace events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TraceKind {
    /// The server entered a phase.
    Phase {
        /// New phase.
        phase: Phase,
    },
    /// SIGKILL.
    Kill,
    /// A probe started.
    ProbeStart {
        /// Prober index.
        prober: u32,
        /// Probe number within the prober.
        probe: u32,
    },
    /// A probe finished.
    ProbeEnd {
        /// Prober index.
        prober: u32,
        /// Probe number within the prober.
        probe: u32,
        /// When it started.
        started: Micros,
        /// Its result.
        outcome: Outcome,
        /// Consecutive failures after counting this result.
        failures: u32,
    },
    /// A prober marked the server down.
    MarkedDown {
        /// Prober index.
        prober: u32,
    },
    /// A prober marked the server up again.
    MarkedUp {
        /// Prober index.
        prober: u32,
    },
    /// Every prober has decided and the propagation delay has passed: no new request is routed.
    Removed,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResult {
    /// Absolute instant from which no new request is routed, if reached.
    pub removal: Option<Micros>,
    /// Per prober, when it first marked the server down.
    pub marked_down: Vec<Option<Micros>>,
    /// Events processed.
    pub events: u64,
}

/// A run that could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// More than [`MAX_EVENTS`] events.
    Runaway,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulation exceeded {MAX_EVENTS} events; shorten the horizon")
    }
}

impl std::error::Error for SimError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Phase(PhaseEv),
    Result {
        prober: u32,
        probe: u32,
        started: Micros,
        outcome: Outcome,
    },
    Start {
        prober: u32,
    },
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PhaseEv {
    Phase(Phase),
    Kill,
}

impl Ev {
    fn class(&self) -> u8 {
        match self {
            Ev::Phase(_) => 0,
            Ev::Result { .. } => 1,
            Ev::Start { .. } => 2,
            Ev::Removed => 3,
        }
    }
}

struct ProberState {
    probes: u32,
    fails: u32,
    passes: u32,
    health: u32,
    down: bool,
    marked: Option<Micros>,
}

/// One LB's probers against one server.
pub struct Sim<'a> {
    server: &'a ServerSpec,
    tl: Timeline,
    model: &'a ProbeModel,
}

impl<'a> Sim<'a> {
    /// Prepares a run of `model` against `server`.
    pub fn new(server: &'a ServerSpec, model: &'a ProbeModel) -> Self {
        Sim {
            server,
            tl: server.timeline(),
            model,
        }
    }

    /// The server timeline this simulator uses.
    pub fn timeline(&self) -> &Timeline {
        &self.tl
    }

    /// Runs the probers from their first starts until `until`; records every event in `trace` if given.
    /// Every probe takes the server's fixed `response_time` to be answered.
    pub fn run(
        &self,
        probers: &mut [ProberPlan<'_>],
        until: Until,
        trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<SimResult, SimError> {
        self.run_with_latency(probers, &mut ConstLatency(self.server.response_time), until, trace)
    }

    /// Like [`Sim::run`], with each probe's response latency drawn from `latency`.
    pub fn run_with_latency(
        &self,
        probers: &mut [ProberPlan<'_>],
        latency: &mut dyn LatencySource,
        until: Until,
        mut trace: Option<&mut Vec<TraceEvent>>,
    ) -> Result<SimResult, SimError> {
        let m = self.model;
        let full = m.rise + m.threshold - 1;
        let mut heap: BinaryHeap<Reverse<(Micros, u8, u64, Ev)>> = BinaryHeap::with_capacity(16 + 2 * probers.len());
        let mut seq = 0u64;
        let mut push = |heap: &mut BinaryHeap<_>, at: Micros, ev: Ev| {
            seq += 1;
            heap.push(Reverse((at, ev.class(), seq, ev)));
        };
        let tl = self.tl;
        let earliest = probers.iter().map(|p| p.first_start).min().unwrap_or(tl.e1);
        for (at, ph) in [
            (tl.e2, Phase::ReadyzFailing),
            (tl.e3, Phase::Draining),
            (tl.e5, Phase::Exited),
        ] {
            if at >= earliest {
                push(&mut heap, at, Ev::Phase(PhaseEv::Phase(ph)));
            }
        }
        if tl.killed {
            push(&mut heap, tl.kill, Ev::Phase(PhaseEv::Kill));
        }
        let mut st: Vec<ProberState> = probers
            .iter()
            .map(|_| ProberState {
                probes: 0,
                fails: 0,
                passes: 0,
                health: full,
                down: false,
                marked: None,
            })
            .collect();
        for (i, p) in probers.iter().enumerate() {
            push(&mut heap, p.first_start, Ev::Start { prober: i as u32 });
        }
        let mut down_count = 0usize;
        let mut removal = None;
        let mut events = 0u64;
        while let Some(Reverse((at, _, _, ev))) = heap.pop() {
            if let Until::Time(end) = until {
                if at > end {
                    break;
                }
            }
            events += 1;
            if events > MAX_EVENTS {
                return Err(SimError::Runaway);
            }
            let mut record = |kind: TraceKind| {
                if let Some(t) = trace.as_deref_mut() {
                    t.push(TraceEvent { at, kind });
                }
            };
            match ev {
                Ev::Phase(PhaseEv::Phase(phase)) => record(TraceKind::Phase { phase }),
                Ev::Phase(PhaseEv::Kill) => record(TraceKind::Kill),
                Ev::Start { prober } => {
                    let s = &mut st[prober as usize];
                    let probe = s.probes;
                    s.probes += 1;
                    record(TraceKind::ProbeStart { prober, probe });
                    let lat = latency.latency(prober, probe);
                    let (outcome, mut dur) = m.view.answer(self.server, &tl, at, lat);
                    if outcome == Outcome::Timeout && matches!(m.schedule, Schedule::CompletionRelative { .. }) {
                        dur = probers[prober as usize]
                            .jitter
                            .draw_hang(m.view.timeout_min, m.view.timeout);
                    }
                    let (outcome, dur) = crate::timeline::ProbeView::cut(&tl, at, (outcome, dur));
                    push(
                        &mut heap,
                        at + dur,
                        Ev::Result {
                            prober,
                            probe,
                            started: at,
                            outcome,
                        },
                    );
                    if let Schedule::FixedRate { interval } = m.schedule {
                        push(&mut heap, at + interval, Ev::Start { prober });
                    }
                }
                Ev::Result {
                    prober,
                    probe,
                    started,
                    outcome,
                } => {
                    let s = &mut st[prober as usize];
                    let was_down = s.down;
                    match m.schedule {
                        Schedule::FixedRate { .. } => {
                            if outcome.is_failure() {
                                s.fails += 1;
                                s.passes = 0;
                                let at_once = m.answered_marks_down && outcome != Outcome::Timeout;
                                if !s.down && (s.fails >= m.threshold || at_once) {
                                    s.down = true;
                                }
                            } else {
                                s.passes += 1;
                                s.fails = 0;
                                if s.down && s.passes >= m.rise {
                                    s.down = false;
                                }
                            }
                        }
                        Schedule::CompletionRelative { .. } => {
                            // src/check.c set_server_check_status(): the health counter.
                            if outcome.is_failure() {
                                s.fails += 1;
                                if s.health > 0 {
                                    s.health -= 1;
                                    if s.health < m.rise {
                                        s.health = 0;
                                    }
                                }
                                if m.answered_marks_down && outcome != Outcome::Timeout {
                                    s.health = 0;
                                }
                                if s.health == 0 {
                                    s.down = true;
                                }
                            } else {
                                s.fails = 0;
                                if s.health < full {
                                    s.health += 1;
                                    if s.health >= m.rise {
                                        s.health = full;
                                        s.down = false;
                                    }
                                }
                            }
                        }
                    }
                    record(TraceKind::ProbeEnd {
                        prober,
                        probe,
                        started,
                        outcome,
                        failures: s.fails,
                    });
                    if s.down && !was_down {
                        record(TraceKind::MarkedDown { prober });
                        if s.marked.is_none() {
                            s.marked = Some(at);
                            down_count += 1;
                            if down_count == st.len() && removal.is_none() {
                                removal = Some(at + m.propagation.hi);
                                push(&mut heap, at + m.propagation.hi, Ev::Removed);
                            }
                        }
                    } else if was_down && !s.down {
                        record(TraceKind::MarkedUp { prober });
                    }
                    if let Schedule::CompletionRelative {
                        inter,
                        fastinter,
                        downinter,
                        ..
                    } = m.schedule
                    {
                        let s = &st[prober as usize];
                        // src/server.c srv_getinter()
                        let wait = if s.health == full {
                            inter
                        } else if s.down && s.health == 0 {
                            downinter
                        } else {
                            fastinter
                        };
                        let j = probers[prober as usize].jitter.draw(m.schedule.jitter_bound(wait));
                        push(&mut heap, at + wait + j, Ev::Start { prober });
                    }
                }
                Ev::Removed => {
                    record(TraceKind::Removed);
                    if until == Until::Removal {
                        break;
                    }
                }
            }
        }
        Ok(SimResult {
            removal,
            marked_down: st.iter().map(|s| s.marked).collect(),
            events,
        })
    }
}
