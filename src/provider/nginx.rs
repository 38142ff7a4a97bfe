//! nginx open source in front of a server that goes away: passive checks only.
//!
//! nginx (open source) sends no health checks. It never sees `/readyz` fail at E2; it learns
//! that a server is gone only when connections to it fail, and hides each failure from the client
//! by passing the request to the next server (`proxy_next_upstream`). This module computes, in
//! integer time, what that costs the clients for one outage of one server: a restart (from the
//! listener's close, E3, connections are refused at once) or a black-holed host (a reboot or power
//! loss: connections time out after `proxy_connect_timeout`).
//!
//! Semantics, from nginx 1.22.1 (github:nginx/nginx tag release-1.22.1):
//! - Failure accounting, `ngx_http_upstream_free_round_robin_peer()` in
//!   src/http/ngx_http_upstream_round_robin.c (same in src/stream/ngx_stream_upstream_round_robin.c):
//!   a failed attempt does `fails++`, `accessed = checked = now`. `ngx_http_upstream_get_peer()`
//!   skips a peer while `fails >= max_fails && now - checked <= fail_timeout`, and when it picks a
//!   peer whose window has passed it sets `checked = now`, which keeps every other request away
//!   while that one trial runs: one trial connection per `fail_timeout`. A success after a trial
//!   (`accessed < checked`) resets `fails`. `now` is `ngx_time()`, whole seconds, so a marked peer
//!   comes back between `fail_timeout` and `fail_timeout` + 1 s after its last failure.
//!   `max_fails=0` turns the accounting off.
//! - One server (`peers->single`, no backup): no accounting at all and `pc->tries = 0` after a
//!   failure, so it is never marked down and a failure is never passed on.
//! - Without a `zone`, every worker process keeps its own copy of the peers, so each worker must
//!   see `max_fails` failures itself (https://nginx.org/en/docs/http/ngx_http_upstream_module.html#zone).
//! - Passing on: stream `ngx_stream_proxy_next_upstream()` (src/stream/ngx_stream_proxy_module.c)
//!   frees the peer as failed, then gives up if `tries == 0`, `proxy_next_upstream off`, or
//!   `proxy_next_upstream_timeout` has elapsed since the first attempt; http
//!   `ngx_http_upstream_next()` (src/http/ngx_http_upstream.c) does the same with the condition
//!   mask (a refused connection is `error`, a connect timeout `timeout`), and never passes on a
//!   POST, LOCK or PATCH once the request was sent unless `non_idempotent` is listed. Failures are
//!   counted toward `max_fails` whether or not they are passed on. `tries` starts at the number of
//!   servers that are not `down` (backups included) and `proxy_next_upstream_tries` caps it; each
//!   server is tried at most once per request (the `tried` bitmap).
//! - http `http_500`/`http_502`/`http_503`/`http_504`/`http_429` (`ngx_http_upstream_test_next()`)
//!   act on the status of a real response: kube-apiserver answers 500 only on `/readyz`, so ordinary
//!   requests see nothing before E3.
//!
//! Tie rules (integer µs): a connection attempt at exactly the instant the listener closes is
//! refused (the phase change is in force at its instant, as in [`crate::timeline`]); at one
//! instant nginx routes a new request before it counts a connect timeout that fires at that
//! instant (`ngx_process_events_and_timers()` in src/event/ngx_event.c handles I/O and accept
//! events before `ngx_event_expire_timers()`), so such a request still goes to the silent server.
//! Request arrivals are steady with an unknown phase: an interval of length L holds between
//! ⌊L·rate⌋ and ⌊L·rate⌋ + 1 of them.

use super::{
    Builtin, Grid, KnobValue, LbSettings, LimitViolation, Limits, Located, OwnKnobs, PassiveView, ProbeModel,
    Propagation, Protocol, Provider, Refusal, Schedule, Setting as ProbeSetting,
};
use crate::error::{InputError, Loc};
use crate::time::Micros;
use crate::timeline::ServerSpec;

/// The nginx module a proxy or upstream belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Module {
    /// `stream { }`: TCP/UDP proxying (ngx_stream_proxy_module).
    Stream,
    /// `http { }`: HTTP proxying (ngx_http_proxy_module).
    Http,
}

/// A `proxy_next_upstream` condition (http; the stream module has only on/off and passes on
/// errors and timeouts of the connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `error`: connect or I/O error (a refused or reset connection).
    Error,
    /// `timeout`: connect, send or read timeout.
    Timeout,
    /// `invalid_header`.
    InvalidHeader,
    /// `non_idempotent`: also pass on POST, LOCK, PATCH once sent.
    NonIdempotent,
    /// `http_500`.
    Http500,
    /// `http_502`.
    Http502,
    /// `http_503`.
    Http503,
    /// `http_504`.
    Http504,
    /// `http_403`.
    Http403,
    /// `http_404`.
    Http404,
    /// `http_429`.
    Http429,
    /// `updating` (cache only).
    Updating,
}

impl Condition {
    /// The condition's name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Error => "error",
            Condition::Timeout => "timeout",
            Condition::InvalidHeader => "invalid_header",
            Condition::NonIdempotent => "non_idempotent",
            Condition::Http500 => "http_500",
            Condition::Http502 => "http_502",
            Condition::Http503 => "http_503",
            Condition::Http504 => "http_504",
            Condition::Http403 => "http_403",
            Condition::Http404 => "http_404",
            Condition::Http429 => "http_429",
            Condition::Updating => "updating",
        }
    }

    /// All conditions, in nginx's order (`ngx_http_proxy_next_upstream_masks`).
    pub const ALL: [Condition; 12] = [
        Condition::Error,
        Condition::Timeout,
        Condition::InvalidHeader,
        Condition::NonIdempotent,
        Condition::Http500,
        Condition::Http502,
        Condition::Http503,
        Condition::Http504,
        Condition::Http403,
        Condition::Http404,
        Condition::Http429,
        Condition::Updating,
    ];
}

/// When a failed attempt is passed on to the next server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextUpstream {
    /// `off`: a failed attempt is the client's failure.
    Off,
    /// Passed on in these cases (stream `on`: `[Error, Timeout]` of the connect).
    On(Vec<Condition>),
}

impl NextUpstream {
    /// Whether a failure of this kind is passed on.
    pub fn passes(&self, c: Condition) -> bool {
        matches!(self, NextUpstream::On(v) if v.contains(&c))
    }
}

/// Sources cited by the findings.
pub mod sources {
    /// nginx docs: passive `max_fails`/`fail_timeout`.
    pub const MAX_FAILS_DOC: &str = "https://nginx.org/en/docs/http/ngx_http_upstream_module.html#max_fails";
    /// nginx docs: active checks are NGINX Plus only.
    pub const HEALTH_CHECK_DOC: &str = "https://nginx.org/en/docs/http/ngx_http_upstream_hc_module.html";
    /// nginx docs: http `proxy_next_upstream`.
    pub const HTTP_NEXT_DOC: &str = "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream";
    /// nginx docs: stream `proxy_next_upstream`.
    pub const STREAM_NEXT_DOC: &str =
        "https://nginx.org/en/docs/stream/ngx_stream_proxy_module.html#proxy_next_upstream";
    /// nginx docs: stream `proxy_connect_timeout`.
    pub const CONNECT_TIMEOUT_DOC: &str =
        "https://nginx.org/en/docs/stream/ngx_stream_proxy_module.html#proxy_connect_timeout";
    /// nginx docs: http upstream `keepalive`.
    pub const KEEPALIVE_DOC: &str = "https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive";
    /// nginx docs: upstream `zone` (shared peer state).
    pub const ZONE_DOC: &str = "https://nginx.org/en/docs/http/ngx_http_upstream_module.html#zone";
    /// nginx docs: stream `proxy_timeout`.
    pub const PROXY_TIMEOUT_DOC: &str = "https://nginx.org/en/docs/stream/ngx_stream_proxy_module.html#proxy_timeout";
    /// Failure accounting in the source.
    pub const ROUND_ROBIN_SRC: &str = "nginx src/http/ngx_http_upstream_round_robin.c ngx_http_upstream_get_peer(), ngx_http_upstream_free_round_robin_peer(); src/stream/ngx_stream_upstream_round_robin.c";
    /// Passing on in the source.
    pub const NEXT_SRC: &str = "nginx src/http/ngx_http_upstream.c ngx_http_upstream_next(), ngx_http_upstream_test_next(); src/stream/ngx_stream_proxy_module.c ngx_stream_proxy_next_upstream()";
    /// Cached upstream connections in the source.
    pub const KEEPALIVE_SRC: &str = "nginx src/http/modules/ngx_http_upstream_keepalive_module.c; ngx_http_upstream_next() gives a failed cached connection its try back (u->peer.tries++)";
}

/// A share of the requests as a fraction `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// Numerator.
    pub num: u64,
    /// Denominator (> 0).
    pub den: u64,
}

impl Share {
    /// All of them.
    pub const ALL: Share = Share { num: 1, den: 1 };
    /// None.
    pub const NONE: Share = Share { num: 0, den: 1 };
}

/// A steady request rate: `requests` every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests (new connections for stream) per `per`.
    pub requests: u64,
    /// The period (> 0).
    pub per: Micros,
}

impl Rate {
    /// A rate in requests per second, kept to a thousandth of a request.
    pub fn per_second(rps: f64) -> Rate {
        let milli = (rps.max(0.0) * 1000.0).round();
        Rate {
            requests: if milli.is_finite() { milli as u64 } else { 0 },
            per: Micros::from_secs(1000),
        }
    }

    /// Arrivals in an interval of length `len` with an unknown phase: `[⌊len·rate⌋, ⌊len·rate⌋ + 1]`.
    pub fn arrivals(&self, len: Micros) -> Range {
        if len.0 < 0 || self.per.0 <= 0 {
            return Range { lo: 0, hi: 0 };
        }
        let n = (len.0 as u128 * u128::from(self.requests) / self.per.0 as u128) as u64;
        Range { lo: n, hi: n + 1 }
    }

    /// The time `n` arrivals take at least (from one arrival to the n-th next).
    fn span_floor(&self, n: u64) -> Micros {
        if self.requests == 0 {
            return Micros(i64::MAX / 4);
        }
        let us = u128::from(n) * self.per.0 as u128 / u128::from(self.requests);
        Micros(i64::try_from(us).unwrap_or(i64::MAX / 4).min(i64::MAX / 4))
    }

    /// The time `n` arrivals take at most (from just after one arrival to the n-th next).
    fn span(&self, n: u64) -> Micros {
        if self.requests == 0 {
            return Micros(i64::MAX / 4);
        }
        let us = (u128::from(n) * self.per.0 as u128).div_ceil(u128::from(self.requests));
        Micros(i64::try_from(us).unwrap_or(i64::MAX / 4).min(i64::MAX / 4))
    }
}

/// An inclusive range of counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    /// Fewest.
    pub lo: u64,
    /// Most.
    pub hi: u64,
}

impl Range {
    /// Zero.
    pub const ZERO: Range = Range { lo: 0, hi: 0 };
}

/// How the picking of servers spreads requests over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Round-robin (and `least_conn` among equally loaded servers): exactly `weight / total`.
    Weighted,
    /// `least_conn`: from `weight / total` (short requests, ties broken round-robin) up to all of
    /// them (a server with no open connections is picked first).
    LeastConn,
    /// `hash`, `ip_hash`, `random`: anything from none to all of a client's requests.
    Keyed,
}

/// The nginx settings that decide what an outage of one server costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passive {
    /// `stream` or `http`.
    pub module: Module,
    /// Primary servers that are not `down`, the one going away included.
    pub peers: u32,
    /// `backup` servers that are not `down`.
    pub backups: u32,
    /// The going-away server's `weight`.
    pub weight: u32,
    /// Sum of the primary servers' weights.
    pub total_weight: u32,
    /// How requests spread over the servers.
    pub spread: Spread,
    /// `max_fails` of the server (0: never marked unavailable).
    pub max_fails: u32,
    /// `fail_timeout` of the server, whole seconds.
    pub fail_timeout: Micros,
    /// `proxy_connect_timeout`.
    pub connect_timeout: Micros,
    /// `proxy_next_upstream`.
    pub next_upstream: NextUpstream,
    /// `proxy_next_upstream_tries` (0: unlimited).
    pub tries: u32,
    /// `proxy_next_upstream_timeout` (0: unlimited).
    pub next_upstream_timeout: Micros,
    /// Processes that count failures separately: `worker_processes` without a `zone`, else 1.
    pub workers: u32,
    /// http `keepalive N` with `proxy_http_version 1.1`: connections reused across requests.
    pub keepalive: Option<u32>,
    /// Stream `proxy_timeout` / http `proxy_read_timeout`.
    pub session_timeout: Micros,
}

/// What goes wrong with the server: every new connection to it fails, from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Refused (the listener is closed, the host answers): the attempt fails after `answer`.
    Refused {
        /// How long a refused connect takes (a round trip).
        answer: Micros,
    },
    /// Silent (a rebooting, powered-off or filtered host): the attempt fails at the connect timeout.
    BlackHole,
}

/// One outage of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// When new connections start failing (E3 for a restart).
    pub start: Micros,
    /// When it accepts again (the window the counts cover).
    pub end: Micros,
    /// How they fail.
    pub failure: Failure,
}

/// What one outage costs the clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassiveOutcome {
    /// Connection attempts nginx makes to the gone server (each one fails and counts toward
    /// `max_fails`).
    pub attempts: Range,
    /// Of those, the ones the client sees fail (not passed on, or tries exhausted).
    pub failed_requests: Range,
    /// The longest extra wait of one client request: a refused connect or a connect timeout.
    pub worst_added_latency: Micros,
    /// When the first worker stops picking the server, from the outage start: `(earliest,
    /// latest)`; `latest` is `None` when the spread can starve it of requests. `None`: never
    /// (one server, or `max_fails=0`).
    pub marked_down: Option<(Micros, Option<Micros>)>,
    /// Whether a failed attempt is passed on to another server.
    pub passed_on: bool,
}

impl Passive {
    /// `peers->single`: one primary server and no backup.
    pub fn single(&self) -> bool {
        self.peers <= 1 && self.backups == 0
    }

    /// Attempts one request may make: the live servers, capped by `proxy_next_upstream_tries`;
    /// 1 for a single server.
    pub fn tries_per_request(&self) -> u32 {
        if self.single() {
            return 1;
        }
        let all = self.peers + self.backups;
        if self.tries > 0 {
            all.min(self.tries)
        } else {
            all
        }
    }

    /// Whether a failed attempt of this kind, noticed `after` the request's first attempt began,
    /// is passed on to another server.
    pub fn passes_on(&self, failure: Failure) -> bool {
        let (cond, after) = match failure {
            Failure::Refused { answer } => (Condition::Error, answer),
            Failure::BlackHole => (Condition::Timeout, self.connect_timeout),
        };
        self.next_upstream.passes(cond)
            && self.tries_per_request() >= 2
            && (self.next_upstream_timeout == Micros::ZERO || after < self.next_upstream_timeout)
    }

    /// The going-away server's share of new requests while it is picked: `(least, most)`.
    pub fn share(&self) -> (Share, Share) {
        if self.single() {
            return (Share::ALL, Share::ALL);
        }
        let exact = Share {
            num: u64::from(self.weight),
            den: u64::from(self.total_weight.max(1)),
        };
        match self.spread {
            Spread::Weighted => (exact, exact),
            Spread::LeastConn => (exact, Share::ALL),
            Spread::Keyed => (Share::NONE, Share::ALL),
        }
    }

    /// Whether failures ever mark the server unavailable.
    pub fn marks_down(&self) -> bool {
        !self.single() && self.max_fails > 0
    }
}

/// Picks of the server among `n` requests at share `s` (round-robin keeps within one of exact).
fn picks(n: Range, lo: Share, hi: Share) -> Range {
    let down = |n: u64, s: Share| (u128::from(n) * u128::from(s.num) / u128::from(s.den)) as u64;
    let up = |n: u64, s: Share| (u128::from(n) * u128::from(s.num)).div_ceil(u128::from(s.den)) as u64;
    Range {
        lo: down(n.lo, lo).saturating_sub(u64::from(lo.num > 0 && lo.num < lo.den)),
        hi: up(n.hi, hi).min(n.hi),
    }
}

/// The cost of one outage.
pub fn outage(p: &Passive, o: &Outage, rate: Rate) -> PassiveOutcome {
    let len = (o.end - o.start).max(Micros::ZERO);
    let d = match o.failure {
        Failure::Refused { answer } => answer.max(Micros::ZERO),
        Failure::BlackHole => p.connect_timeout,
    };
    let (s_lo, s_hi) = p.share();
    let all = picks(rate.arrivals(len), s_lo, s_hi);
    let passed_on = p.passes_on(o.failure);
    let (attempts, marked_down) = if !p.marks_down() {
        (all, None)
    } else {
        let m = u64::from(p.max_fails);
        let ft = p.fail_timeout;
        // Upper bound: every worker makes its max_fails attempts, plus those that arrive while the
        // last one is still failing (d), plus one trial per window (each gap > fail_timeout + d).
        let pile_hi = picks(rate.arrivals(d), s_hi, s_hi).hi;
        let gap_lo = ft + d;
        let trials_hi = if gap_lo > Micros::ZERO && len > Micros::ZERO {
            u64::try_from((len.0 + gap_lo.0 - 1) / gap_lo.0 - 1).unwrap_or(0)
        } else {
            all.hi
        };
        let w = u64::from(p.workers.max(1));
        let hi = all.hi.min(w.saturating_mul(m + pile_hi + trials_hi));
        // Lower bound: one worker takes all the traffic (fewest attempts); its M-th pick comes
        // within ⌈M / share⌉ requests, then a trial at least every fail_timeout + 1 s (nginx's
        // whole-second clock) + one round of requests + d.
        let (lo, latest) = if s_lo.num == 0 || rate.requests == 0 {
            (0, None)
        } else {
            let round = u64::from(p.total_weight.max(1)).div_ceil(u64::from(p.weight.max(1)));
            let to_mark = rate.span((m * s_lo.den).div_ceil(s_lo.num) + 1) + d;
            let gap_hi = ft + Micros::from_secs(1) + rate.span(round + 1) + d;
            let trials_lo = if len > to_mark {
                u64::try_from((len - to_mark).0 / gap_hi.0.max(1)).unwrap_or(0)
            } else {
                0
            };
            // Round-robin keeps picking a silent server while its attempts hang (least_conn
            // avoids it: the hanging connections count as its load).
            let pile_lo = if p.spread == Spread::Weighted {
                picks(rate.arrivals(d), s_lo, s_lo).lo
            } else {
                0
            };
            (all.lo.min(m + pile_lo + trials_lo), Some(to_mark))
        };
        // Earliest: the first request arrives at the start and the server gets the most picks.
        let earliest = rate.span_floor(((m - 1) * s_hi.den).div_ceil(s_hi.num.max(1))) + d;
        (
            Range { lo, hi },
            Some((earliest.min(latest.unwrap_or(earliest)), latest)),
        )
    };
    let failed_requests = if passed_on { Range::ZERO } else { attempts };
    PassiveOutcome {
        attempts,
        failed_requests,
        worst_added_latency: if attempts.hi > 0 { d } else { Micros::ZERO },
        marked_down,
        passed_on,
    }
}

/// A graceful restart: new connections are refused from the listener's close (E3 without
/// send-retry-after) until `back` (absolute, when the server listens again); a refused connect
/// takes the server's `response_time`. With send-retry-after, the requests between E3 and the
/// listener's close are answered 429 by kube-apiserver; they are not counted here (an http
/// upstream listing `http_429` would pass them on and count them toward `max_fails`).
pub fn restart(p: &Passive, server: &ServerSpec, back: Micros, rate: Rate) -> PassiveOutcome {
    let tl = server.timeline();
    outage(
        p,
        &Outage {
            start: tl.listener_close,
            end: back.max(tl.listener_close),
            failure: Failure::Refused {
                answer: server.response_time,
            },
        },
        rate,
    )
}

/// A host that goes silent for `duration` (a reboot): every connect to it waits the full
/// `proxy_connect_timeout`.
pub fn black_hole(p: &Passive, duration: Micros, rate: Rate) -> PassiveOutcome {
    outage(
        p,
        &Outage {
            start: Micros::ZERO,
            end: duration,
            failure: Failure::BlackHole,
        },
        rate,
    )
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// No active check: `/readyz` failing at E2 is never seen; only failed connections after E3.
    BlindToReadiness,
    /// A failed attempt is the client's failure: `off`, one try, one server, or the condition
    /// (`error`/`timeout`) not listed.
    RetriesOff {
        /// Why, in words.
        why: String,
    },
    /// A black-holed host costs `proxy_connect_timeout` per new connection until it is marked.
    SlowConnectTimeout {
        /// The connect timeout.
        connect_timeout: Micros,
    },
    /// Never marked unavailable (one server, or `max_fails=0`).
    NeverMarkedDown {
        /// Why, in words.
        why: String,
    },
    /// Without a `zone`, each worker learns on its own: `workers` × `max_fails` failed attempts.
    PerWorkerAccounting {
        /// Worker processes.
        workers: u32,
    },
    /// http keep-alive to the upstream: connections opened before E3 carry requests after it.
    KeepaliveOutlivesE3 {
        /// Cached connections per worker.
        keepalive: u32,
    },
    /// Stream sessions stay on their server for their whole life (idle up to `proxy_timeout`).
    SessionsOutliveE3 {
        /// `proxy_timeout`.
        timeout: Micros,
    },
    /// `http_5xx`-style conditions see the failing `/readyz` only if clients request `/readyz`.
    StatusConditionsBlindToReadiness {
        /// The status conditions listed.
        conditions: Vec<&'static str>,
    },
}

/// A finding to be, as plain data: the lead turns these into rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// One or two sentences for the user.
    pub message: String,
    /// Documentation URLs and source paths the statement rests on.
    pub sources: Vec<&'static str>,
}

/// Connect timeouts from this long on make a black-holed host cost "seconds per connection".
pub const SLOW_CONNECT: Micros = Micros::from_secs(1);

/// The findings these settings call for (the server's shutdown delay, E3 − E2, is what the
/// keep-alive and session findings compare against).
pub fn findings(p: &Passive, server: &ServerSpec) -> Vec<Finding> {
    use sources::*;
    let mut out = vec![Finding {
        kind: FindingKind::BlindToReadiness,
        message: "nginx open source sends no health checks: it never sees /readyz fail at E2 and stops picking the server only after connections to it fail (after E3)".into(),
        sources: vec![MAX_FAILS_DOC, HEALTH_CHECK_DOC, ROUND_ROBIN_SRC],
    }];
    let next_doc = match p.module {
        Module::Stream => STREAM_NEXT_DOC,
        Module::Http => HTTP_NEXT_DOC,
    };
    let why = if p.single() {
        Some("the upstream has one server (nginx neither counts its failures nor tries another)".to_string())
    } else if p.next_upstream == NextUpstream::Off {
        Some("proxy_next_upstream is off".to_string())
    } else if p.tries_per_request() < 2 {
        Some("proxy_next_upstream_tries 1 allows no second try".to_string())
    } else if !p.next_upstream.passes(Condition::Error) {
        Some("proxy_next_upstream does not list error, so a refused connection is not passed on".to_string())
    } else if !p.next_upstream.passes(Condition::Timeout) {
        Some("proxy_next_upstream does not list timeout, so a connect timeout is not passed on".to_string())
    } else if p.next_upstream_timeout > Micros::ZERO && p.next_upstream_timeout <= p.connect_timeout {
        Some(format!(
            "proxy_next_upstream_timeout {} is not longer than proxy_connect_timeout {}, so a timed-out connect is not passed on",
            p.next_upstream_timeout, p.connect_timeout
        ))
    } else {
        None
    };
    if let Some(why) = why {
        out.push(Finding {
            message: format!("every connection nginx sends to a stopped server is a failed request: {why}"),
            kind: FindingKind::RetriesOff { why },
            sources: vec![next_doc, NEXT_SRC],
        });
    }
    if !p.marks_down() {
        let why = if p.single() {
            "one server in the upstream".to_string()
        } else {
            "max_fails=0".to_string()
        };
        out.push(Finding {
            message: format!("nginx never marks the server unavailable ({why}): it keeps sending it new connections for the whole outage"),
            kind: FindingKind::NeverMarkedDown { why },
            sources: vec![MAX_FAILS_DOC, ROUND_ROBIN_SRC],
        });
    }
    if p.connect_timeout >= SLOW_CONNECT {
        out.push(Finding {
            message: format!(
                "a black-holed or rebooting host costs proxy_connect_timeout {} per new connection sent to it until {} of them fail{}",
                p.connect_timeout,
                p.max_fails,
                if p.workers > 1 { " in each worker" } else { "" }
            ),
            kind: FindingKind::SlowConnectTimeout {
                connect_timeout: p.connect_timeout,
            },
            sources: vec![CONNECT_TIMEOUT_DOC, MAX_FAILS_DOC, ROUND_ROBIN_SRC],
        });
    }
    if p.workers > 1 && p.marks_down() {
        out.push(Finding {
            message: format!(
                "without a zone each of the {} worker processes counts failures on its own: up to {} failed attempts before every worker skips the server",
                p.workers,
                u64::from(p.workers) * u64::from(p.max_fails)
            ),
            kind: FindingKind::PerWorkerAccounting { workers: p.workers },
            sources: vec![ZONE_DOC, ROUND_ROBIN_SRC],
        });
    }
    if let Some(k) = p.keepalive {
        out.push(Finding {
            message: format!(
                "keepalive {k}: requests reuse connections opened before E3, so they keep reaching the stopping server after its listener closed, until it closes them; a non-idempotent request cut on one is not retried"
            ),
            kind: FindingKind::KeepaliveOutlivesE3 { keepalive: k },
            sources: vec![KEEPALIVE_DOC, KEEPALIVE_SRC],
        });
    }
    if p.module == Module::Stream && p.session_timeout > server.shutdown_delay {
        out.push(Finding {
            message: format!(
                "a stream session stays on its server for its whole life (idle up to proxy_timeout {}): long-lived connections opened before E3 end only when the server closes them",
                p.session_timeout
            ),
            kind: FindingKind::SessionsOutliveE3 {
                timeout: p.session_timeout,
            },
            sources: vec![PROXY_TIMEOUT_DOC],
        });
    }
    if let NextUpstream::On(conds) = &p.next_upstream {
        let status: Vec<&'static str> = conds
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Condition::Http500
                        | Condition::Http502
                        | Condition::Http503
                        | Condition::Http504
                        | Condition::Http429
                )
            })
            .map(|c| c.name())
            .collect();
        if !status.is_empty() {
            out.push(Finding {
                message: format!(
                    "{} act on the status of real responses: the 500 of a failing /readyz is seen only by requests for /readyz, never before them, and ordinary requests succeed until E3",
                    status.join(", ")
                ),
                kind: FindingKind::StatusConditionsBlindToReadiness { conditions: status },
                sources: vec![HTTP_NEXT_DOC, NEXT_SRC],
            });
        }
    }
    out
}

/// The nginx provider: nginx open source in front of a server, judged by the passive model
/// above. Its knobs are the settings the model reads (the reader fills them from the
/// configuration, `profiles/nginx.toml` holds nginx 1.22.1's defaults with their sources).
#[derive(Debug)]
pub struct Nginx;

/// The nginx provider.
pub static NGINX: Nginx = Nginx;

own_knobs! {
    /// nginx's own settings (passive checks and what the proxy does with a failed connection),
    /// as the nginx reader reads them or an `[[lb]]` table writes them; declared in the order a
    /// report lists them.
    pub struct Knobs {
        /// `proxy_connect_timeout`: how long a connection to a silent server waits.
        timeout_connect: Micros [Positive, Timeout],
        /// Servers of the upstream that are not `down` or `backup`.
        servers: u32,
        /// `backup` servers of the upstream.
        backup_servers: u32,
        /// `weight=` of the server that shuts down.
        weight: u32,
        /// The balancing directive (`round_robin`, `least_conn`, `hash`, `ip_hash`, `random`).
        balancer: String,
        /// `max_fails=`: failures within `fail_timeout` that mark a server unavailable.
        max_fails: u32,
        /// `fail_timeout=`: the failure window and how long a marked server is skipped.
        fail_timeout: Micros,
        /// `proxy_next_upstream`: `on`/`off` (stream) or the conditions (http), in nginx's words.
        next_upstream: String,
        /// `proxy_next_upstream_tries` (0: no limit).
        next_upstream_tries: u32,
        /// `proxy_next_upstream_timeout` (0: no limit).
        next_upstream_timeout: Micros,
        /// Worker processes that each keep their own failure counts (1 with a `zone`).
        workers: u32,
        /// `keepalive` connections cached per worker (http).
        keepalive: u32,
        /// `proxy_timeout` (stream) or `proxy_read_timeout` (http).
        proxy_timeout: Micros,
        /// The sum of the live servers' weights.
        total_weight: u32 [None, Hidden],
    }
}

/// Settings an `[[lb]]` table with profile `nginx` accepts.
pub const KNOBS: &[&str] = &[
    "protocol",
    "max_fails",
    "fail_timeout",
    "timeout_connect",
    "next_upstream",
    "next_upstream_tries",
    "next_upstream_timeout",
    "servers",
    "backup_servers",
    "weight",
    "total_weight",
    "balancer",
    "workers",
    "keepalive",
    "proxy_timeout",
];

/// `balancer` values, as the directives are named (`round_robin`: no directive).
pub const BALANCERS: &[&str] = &["round_robin", "least_conn", "hash", "ip_hash", "random"];

fn bad(l: &Located<impl Sized>, field: &str, msg: String) -> InputError {
    InputError::new(l.loc.clone(), field, msg)
}

/// `next_upstream` as written: `on`/`off` (stream) or conditions (http), in nginx's words.
pub fn parse_next_upstream(text: &str, module: Module) -> Result<NextUpstream, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match (module, words.as_slice()) {
        (_, ["off"]) => Ok(NextUpstream::Off),
        (Module::Stream, ["on"]) => Ok(NextUpstream::On(vec![Condition::Error, Condition::Timeout])),
        (Module::Stream, _) => Err(format!("the stream module takes \"on\" or \"off\", got \"{text}\"")),
        (Module::Http, []) => Err("is empty; nginx takes \"off\" or conditions such as \"error timeout\"".into()),
        (Module::Http, ws) => {
            let mut out = Vec::new();
            for w in ws {
                let c = Condition::ALL.iter().find(|c| c.name() == *w).ok_or_else(|| {
                    format!(
                        "invalid value \"{w}\" (nginx takes off or {})",
                        Condition::ALL.map(Condition::name).join(", ")
                    )
                })?;
                out.push(*c);
            }
            Ok(NextUpstream::On(out))
        }
    }
}

fn module_of(s: &LbSettings) -> Module {
    match super::protocol_of(s) {
        Protocol::Tcp => Module::Stream,
        Protocol::Http | Protocol::Https => Module::Http,
    }
}

impl Passive {
    /// The passive settings of an `[[lb]]` (or what the nginx reader read), validated as nginx
    /// validates them; `total_weight` defaults to `servers × weight`.
    pub fn from_settings(s: &LbSettings, at: &Loc) -> Result<Passive, InputError> {
        let k = Knobs::of(s);
        let module = module_of(s);
        let count = |v: &Option<Located<u32>>, d: u32| v.as_ref().map_or(d, |v| v.value);
        let dur = |v: &Option<Located<Micros>>, d: Micros| v.as_ref().map_or(d, |v| v.value);
        let next_upstream = match &k.next_upstream {
            Some(n) => parse_next_upstream(&n.value, module).map_err(|m| bad(n, "next_upstream", m))?,
            None => match module {
                Module::Stream => NextUpstream::On(vec![Condition::Error, Condition::Timeout]),
                Module::Http => NextUpstream::On(vec![Condition::Error, Condition::Timeout]),
            },
        };
        let spread = match &k.balancer {
            None => Spread::Weighted,
            Some(b) => match b.value.as_str() {
                "round_robin" => Spread::Weighted,
                "least_conn" => Spread::LeastConn,
                "hash" | "ip_hash" | "random" => Spread::Keyed,
                other => {
                    return Err(bad(
                        b,
                        "balancer",
                        format!("unknown balancer \"{other}\" (nginx has {})", BALANCERS.join(", ")),
                    ))
                }
            },
        };
        let servers = count(&k.servers, 1);
        if servers == 0 {
            let l = k.servers.as_ref().map_or_else(|| at.clone(), |v| v.loc.clone());
            return Err(InputError::new(
                l,
                "servers",
                "an upstream needs at least one server (nginx: \"no servers are inside upstream\")",
            ));
        }
        let weight = count(&k.weight, 1);
        if let Some(w) = k.weight.as_ref().filter(|w| w.value == 0) {
            return Err(bad(
                w,
                "weight",
                "invalid parameter \"weight=0\" (nginx takes 1 or more)".into(),
            ));
        }
        let total_weight = count(&k.total_weight, servers.saturating_mul(weight));
        if let Some(t) = k.total_weight.as_ref().filter(|t| t.value < weight) {
            return Err(bad(
                t,
                "total_weight",
                format!("{} is below the server's own weight {weight}", t.value),
            ));
        }
        if let Some(f) = k.fail_timeout.as_ref().filter(|f| f.value.0 % 1_000_000 != 0) {
            return Err(bad(
                f,
                "fail_timeout",
                format!(
                    "{} is not whole seconds; nginx reads fail_timeout in seconds (invalid parameter)",
                    f.value
                ),
            ));
        }
        for (name, v) in [
            ("timeout_connect", &k.timeout_connect),
            ("proxy_timeout", &k.proxy_timeout),
        ] {
            if let Some(v) = v.as_ref().filter(|v| v.value <= Micros::ZERO) {
                return Err(bad(v, name, format!("must be positive, got {}", v.value)));
            }
        }
        if let Some(w) = k.workers.as_ref().filter(|w| w.value == 0) {
            return Err(bad(w, "workers", "must be 1 or more".into()));
        }
        if let (Some(k), Module::Stream) = (&k.keepalive, module) {
            return Err(bad(
                k,
                "keepalive",
                "\"keepalive\" is an http upstream directive; the stream module has none".into(),
            ));
        }
        Ok(Passive {
            module,
            peers: servers,
            backups: count(&k.backup_servers, 0),
            weight,
            total_weight,
            spread,
            max_fails: count(&k.max_fails, 1),
            fail_timeout: dur(&k.fail_timeout, Micros::from_secs(10)),
            connect_timeout: dur(&k.timeout_connect, Micros::from_secs(60)),
            next_upstream,
            tries: count(&k.next_upstream_tries, 0),
            next_upstream_timeout: dur(&k.next_upstream_timeout, Micros::ZERO),
            workers: count(&k.workers, 1),
            keepalive: k.keepalive.as_ref().map(|k| k.value).filter(|k| *k > 0),
            session_timeout: dur(
                &k.proxy_timeout,
                match module {
                    Module::Stream => Micros::from_secs(600),
                    Module::Http => Micros::from_secs(60),
                },
            ),
        })
    }
}

impl Provider for Nginx {
    fn family(&self) -> &'static str {
        "nginx"
    }

    fn own(&self) -> OwnKnobs {
        Knobs::OWN
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("nginx")]
    }

    fn knobs(&self) -> &'static [&'static str] {
        KNOBS
    }

    fn interval_key(&self) -> &'static str {
        "fail_timeout"
    }

    fn threshold_key(&self) -> &'static str {
        "max_fails"
    }

    fn validate(&self, s: &LbSettings, _limits: &Limits, _profile: &str) -> Result<(), InputError> {
        let at = Loc {
            file: String::new(),
            line: 0,
            column: 0,
        };
        Passive::from_settings(s, &at).map(|_| ())
    }

    /// nginx sends no probes: the "check" is the traffic itself, which sees only the listener
    /// (a TCP view, failing at E3), marks the server after `max_fails` failures and tries it again
    /// once per `fail_timeout`. Reports of a passive provider replace the detection figures (see
    /// [`Provider::passive`]), so this model only carries those settings to the simulator's
    /// inputs and the charts.
    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        let p = Passive::from_settings(s, at)?;
        let mut tcp = s.clone();
        tcp.protocol = None;
        Ok(Some(ProbeModel {
            schedule: Schedule::FixedRate {
                interval: p.fail_timeout.max(Micros::from_secs(1)),
            },
            view: super::probe_view(&tcp, readiness_path, p.connect_timeout, p.connect_timeout),
            threshold: p.max_fails.max(1),
            rise: 1,
            probers: p.workers,
            propagation: Propagation::default(),
            answered_marks_down: false,
        }))
    }

    fn limit_violations(&self, _s: &LbSettings, _limits: &Limits, _profile: &str) -> Vec<LimitViolation> {
        Vec::new()
    }

    fn grid(&self, _s: &LbSettings, _limits: &Limits) -> Grid {
        Grid {
            settings: Vec::new(),
            description: "none: nginx open source has no active check whose timing could be searched".into(),
        }
    }

    fn describe(&self, st: &ProbeSetting) -> String {
        format!("max_fails = {}, fail_timeout = {}", st.threshold, st.interval)
    }

    fn setting_values(&self, st: &ProbeSetting) -> Vec<(&'static str, KnobValue)> {
        vec![
            ("max_fails", KnobValue::Count(st.threshold)),
            ("fail_timeout", KnobValue::Duration(st.interval)),
        ]
    }

    fn all_unhealthy(&self) -> &'static str {
        "every server is marked unavailable: nginx answers 502 (no live upstreams) or closes the connection until a fail_timeout passes, unless backup servers take over"
    }

    fn refusal(&self, s: &LbSettings, _backends: u32) -> Refusal {
        let at = Loc {
            file: String::new(),
            line: 0,
            column: 0,
        };
        let Ok(p) = Passive::from_settings(s, &at) else {
            return Refusal {
                failing_share: 1.0,
                after: Micros::ZERO,
                summary: "each new connection nginx sends to the closed port is refused".into(),
                fix: None,
            };
        };
        if p.passes_on(Failure::Refused { answer: Micros::ZERO }) {
            Refusal {
                failing_share: 0.0,
                after: Micros::ZERO,
                summary: "a connection refused by the closed port is passed to the next server (proxy_next_upstream): the client sees a round trip more, no error, while another server is up".into(),
                fix: None,
            }
        } else {
            Refusal {
                failing_share: 1.0,
                after: Micros::ZERO,
                summary: "each new connection nginx sends to the closed port is the client's failure (not passed to another server)".into(),
                fix: None,
            }
        }
    }

    fn passive(&self, _s: &LbSettings) -> Option<PassiveView> {
        Some(PassiveView {
            label: "passive checks only (nginx open source)",
            words: "nginx open source sends no health checks: from E3 it sends new connections to the closed port until they fail max_fails times, then tries it again once per fail_timeout until the server listens again; nothing to tune but the passive settings (or NGINX Plus `health_check uri=/readyz`)".into(),
        })
    }
}

/// NGINX Plus active checks (`health_check` in a location, commercial build; nginx open source
/// refuses the directive). From the documentation only, NOT VALIDATED against a running NGINX
/// Plus: https://nginx.org/en/docs/http/ngx_http_upstream_hc_module.html (`interval` 5 s, `fails`
/// 1, `passes` 1, `uri` /, default match 2xx/3xx) and
/// https://nginx.org/en/docs/stream/ngx_stream_upstream_hc_module.html (`health_check_timeout`
/// 5 s). Whether `interval` runs from a check's start or its end is not documented: the model
/// takes the conservative reading, completion-relative (the next check `interval` after the
/// previous one ended), as the reference notes advise; `jitter` is not modelled.
#[derive(Debug)]
pub struct NginxPlus;

/// The NGINX Plus provider.
pub static NGINX_PLUS: NginxPlus = NginxPlus;

/// Settings an `[[lb]]` with profile `nginx-plus` accepts (`health_check` parameters in
/// graceline's names: `unhealthy_threshold` is `fails=`, `healthy_threshold` `passes=`, `path`
/// `uri=`).
pub const PLUS_KNOBS: &[&str] = &[
    "interval",
    "timeout",
    "unhealthy_threshold",
    "healthy_threshold",
    "protocol",
    "path",
    "matcher",
    "propagation_delay",
    "latency",
];

/// The grid a recommendation searches for NGINX Plus: whole-second intervals 1-30 s, fails 1-5.
const PLUS_GRID_MAX: i64 = 30;

impl Provider for NginxPlus {
    fn family(&self) -> &'static str {
        "nginx"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("nginx-plus")]
    }

    fn variant(&self) -> &'static str {
        "plus"
    }

    fn knobs(&self) -> &'static [&'static str] {
        PLUS_KNOBS
    }

    fn validate(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Result<(), InputError> {
        super::matcher_codes(s, limits, profile)
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        let interval = super::required(&s.interval, "interval", at)?.value;
        let timeout = super::required(&s.timeout, "timeout", at)?.value;
        Ok(Some(ProbeModel {
            schedule: Schedule::CompletionRelative {
                inter: interval,
                fastinter: interval,
                downinter: interval,
                spread_pct: 0,
            },
            view: super::probe_view(s, readiness_path, timeout, timeout),
            threshold: s.unhealthy_threshold.as_ref().map_or(1, |v| v.value),
            rise: s.healthy_threshold.as_ref().map_or(1, |v| v.value),
            probers: 1,
            propagation: super::propagation_of(s),
            answered_marks_down: false,
        }))
    }

    fn grid(&self, s: &LbSettings, _limits: &Limits) -> Grid {
        let timeout = s.timeout.as_ref().map_or(Micros::from_secs(5), |t| t.value);
        let mut settings = Vec::new();
        for i in 1..=PLUS_GRID_MAX {
            for fails in 1..=5 {
                let interval = Micros::from_secs(i);
                settings.push(ProbeSetting {
                    interval,
                    timeout,
                    timeout_min: timeout,
                    threshold: fails,
                    fastinter: interval,
                });
            }
        }
        Grid {
            settings,
            description: format!("health_check interval 1-{PLUS_GRID_MAX} s, fails 1-5, timeout {timeout}"),
        }
    }

    fn describe(&self, st: &ProbeSetting) -> String {
        format!(
            "health_check interval={} fails={} (timeout {})",
            st.interval, st.threshold, st.timeout
        )
    }

    fn setting_values(&self, st: &ProbeSetting) -> Vec<(&'static str, KnobValue)> {
        vec![
            ("interval", KnobValue::Duration(st.interval)),
            ("unhealthy_threshold", KnobValue::Count(st.threshold)),
            ("timeout", KnobValue::Duration(st.timeout)),
        ]
    }

    fn all_unhealthy(&self) -> &'static str {
        "no server passes its health checks: NGINX Plus answers 502 (no live upstreams) unless backup servers take over"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{ReadyzFailure, ReadyzOnset};
    use proptest::prelude::*;

    fn kubespray() -> Passive {
        Passive {
            module: Module::Stream,
            peers: 3,
            backups: 0,
            weight: 1,
            total_weight: 3,
            spread: Spread::LeastConn,
            max_fails: 1,
            fail_timeout: Micros::from_secs(10),
            connect_timeout: Micros::from_secs(1),
            next_upstream: NextUpstream::On(vec![Condition::Error, Condition::Timeout]),
            tries: 0,
            next_upstream_timeout: Micros::ZERO,
            workers: 2,
            keepalive: None,
            session_timeout: Micros::from_secs(600),
        }
    }

    fn server() -> ServerSpec {
        ServerSpec {
            profile: "t".into(),
            prestop_sleep: Micros::ZERO,
            readyz_fail_after: Micros::ZERO,
            shutdown_delay: Micros::from_secs(30),
            request_grace: Micros::from_secs(60),
            termination_grace_period: Micros::from_secs(135),
            readyz_failure: ReadyzFailure::Error,
            readyz_onset: ReadyzOnset::ShutdownStart,
            readiness_path: "/readyz".into(),
            response_time: Micros::ZERO,
            send_retry_after: false,
        }
    }

    fn rps(n: u64) -> Rate {
        Rate {
            requests: n,
            per: Micros::from_secs(1),
        }
    }

    #[test]
    fn kubespray_restart_worked_by_hand() {
        // 60 s refused from E3 (30 s) to 90 s, 100 requests/s, least_conn over 3 servers, 2 workers:
        // share 1/3..1 of 6000..6001 requests; each worker: 1 attempt, then one trial per 10-11 s.
        // hi: 2 workers x (1 + 1 arriving at the same instant + ceil(60/10) - 1 = 5 trials) = 14.
        // lo: one worker, marked within 4 requests (40 ms), trials every <= 10 + 1 + 0.04 s: 5.
        let o = restart(&kubespray(), &server(), Micros::from_secs(90), rps(100));
        assert_eq!(o.attempts, Range { lo: 6, hi: 14 });
        assert_eq!(o.failed_requests, Range::ZERO);
        assert!(o.passed_on);
        assert_eq!(o.worst_added_latency, Micros::ZERO);
        assert_eq!(o.marked_down, Some((Micros::ZERO, Some(Micros::from_millis(40)))));
    }

    #[test]
    fn kubespray_black_hole_worked_by_hand() {
        // Each connect waits 1 s. hi: 2 x (1 + 101 arriving during the wait + ceil(60/11) - 1 = 5).
        // lo: least_conn avoids the server while its connects hang; trials every <= 12.04 s: 4.
        let o = black_hole(&kubespray(), Micros::from_secs(60), rps(100));
        assert_eq!(o.attempts, Range { lo: 5, hi: 214 });
        assert_eq!(o.failed_requests, Range::ZERO);
        assert_eq!(o.worst_added_latency, Micros::from_secs(1));
        // Round-robin keeps sending every third request to it while the first connect hangs.
        let rr = Passive {
            spread: Spread::Weighted,
            workers: 1,
            ..kubespray()
        };
        let o = black_hole(&rr, Micros::from_secs(60), rps(100));
        // lo: 1 + 32 (100 arrivals in 1 s at 1/3 = 33, less one for the unknown round-robin
        // phase) + 4 trials; hi: 1 + 34 (101 at 1/3, rounded up) + 5.
        assert_eq!(o.attempts, Range { lo: 37, hi: 40 });
    }

    #[test]
    fn retries_off_turns_every_attempt_into_a_failure() {
        let p = Passive {
            spread: Spread::Weighted,
            next_upstream: NextUpstream::Off,
            max_fails: 3,
            fail_timeout: Micros::from_secs(5),
            workers: 1,
            ..kubespray()
        };
        // 8 s refused at 100/s: 3 attempts, 1 arriving with the third, ceil(8/5) - 1 = 1 trial.
        let o = outage(
            &p,
            &Outage {
                start: Micros::ZERO,
                end: Micros::from_secs(8),
                failure: Failure::Refused { answer: Micros::ZERO },
            },
            rps(100),
        );
        assert_eq!(o.attempts, Range { lo: 4, hi: 5 });
        assert_eq!(o.failed_requests, o.attempts);
        assert!(!o.passed_on);
        let f = findings(&p, &server());
        assert!(f
            .iter()
            .any(|f| matches!(&f.kind, FindingKind::RetriesOff { why } if why.contains("off"))));
    }

    #[test]
    fn one_server_is_never_marked_and_never_retried() {
        let p = Passive {
            peers: 1,
            total_weight: 1,
            ..kubespray()
        };
        assert!(p.single() && !p.marks_down());
        assert_eq!(p.tries_per_request(), 1);
        // Every request of the 10 s outage fails.
        let o = restart(&p, &server(), Micros::from_secs(40), rps(100));
        assert_eq!(o.attempts, Range { lo: 1000, hi: 1001 });
        assert_eq!(o.failed_requests, o.attempts);
        assert_eq!(o.marked_down, None);
        let kinds: Vec<_> = findings(&p, &server()).into_iter().map(|f| f.kind).collect();
        assert!(kinds.iter().any(|k| matches!(k, FindingKind::NeverMarkedDown { .. })));
        // A backup makes it a group again (peers->single = 0).
        let with_backup = Passive { backups: 1, ..p };
        assert!(with_backup.marks_down() && with_backup.passes_on(Failure::Refused { answer: Micros::ZERO }));
    }

    #[test]
    fn conditions_tries_and_next_upstream_timeout() {
        let http = |conds: Vec<Condition>| Passive {
            module: Module::Http,
            next_upstream: NextUpstream::On(conds),
            ..kubespray()
        };
        let refused = Failure::Refused { answer: Micros::ZERO };
        // http's default `error timeout` passes both on.
        let p = http(vec![Condition::Error, Condition::Timeout]);
        assert!(p.passes_on(refused) && p.passes_on(Failure::BlackHole));
        // Without `timeout` a silent host is the client's failure after the connect timeout.
        let p = http(vec![Condition::Error, Condition::Http503]);
        assert!(p.passes_on(refused) && !p.passes_on(Failure::BlackHole));
        let o = black_hole(&p, Micros::from_secs(5), rps(10));
        assert_eq!(o.failed_requests, o.attempts);
        assert_eq!(o.worst_added_latency, Micros::from_secs(1));
        let f = findings(&p, &server());
        assert!(f.iter().any(|f| matches!(&f.kind, FindingKind::StatusConditionsBlindToReadiness { conditions } if conditions == &["http_503"])));
        // tries 1: nothing is passed on.
        let p = Passive {
            tries: 1,
            ..kubespray()
        };
        assert!(!p.passes_on(refused));
        // A next-upstream timeout not longer than the connect timeout stops the second try.
        let p = Passive {
            next_upstream_timeout: Micros::from_secs(1),
            ..kubespray()
        };
        assert!(p.passes_on(refused) && !p.passes_on(Failure::BlackHole));
        let p = Passive {
            next_upstream_timeout: Micros::from_millis(1_001),
            ..kubespray()
        };
        assert!(p.passes_on(Failure::BlackHole));
    }

    #[test]
    fn findings_for_kubespray_and_an_http_keepalive_upstream() {
        let kinds: Vec<FindingKind> = findings(&kubespray(), &server()).into_iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                FindingKind::BlindToReadiness,
                FindingKind::SlowConnectTimeout {
                    connect_timeout: Micros::from_secs(1)
                },
                FindingKind::PerWorkerAccounting { workers: 2 },
                FindingKind::SessionsOutliveE3 {
                    timeout: Micros::from_secs(600)
                },
            ]
        );
        let p = Passive {
            module: Module::Http,
            keepalive: Some(16),
            workers: 1,
            connect_timeout: Micros::from_millis(500),
            session_timeout: Micros::from_secs(30),
            ..kubespray()
        };
        let kinds: Vec<FindingKind> = findings(&p, &server()).into_iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                FindingKind::BlindToReadiness,
                FindingKind::KeepaliveOutlivesE3 { keepalive: 16 }
            ]
        );
        for f in findings(&kubespray(), &server()) {
            assert!(!f.sources.is_empty() && !f.message.is_empty());
        }
    }

    fn arb_passive() -> impl Strategy<Value = Passive> {
        (
            1u32..6,
            0u32..3,
            1u32..4,
            0u32..5,
            0i64..20,
            1i64..5_000,
            prop::bool::ANY,
            0u32..5,
            1u32..5,
            0usize..3,
        )
            .prop_map(
                |(peers, backups, weight, max_fails, ft, ct_ms, on, tries, workers, spread)| Passive {
                    module: Module::Stream,
                    peers,
                    backups,
                    weight,
                    total_weight: weight * peers,
                    spread: [Spread::Weighted, Spread::LeastConn, Spread::Keyed][spread],
                    max_fails,
                    fail_timeout: Micros::from_secs(ft),
                    connect_timeout: Micros::from_millis(ct_ms),
                    next_upstream: if on {
                        NextUpstream::On(vec![Condition::Error, Condition::Timeout])
                    } else {
                        NextUpstream::Off
                    },
                    tries,
                    next_upstream_timeout: Micros::ZERO,
                    workers,
                    keepalive: None,
                    session_timeout: Micros::from_secs(600),
                },
            )
    }

    fn arb_outage() -> impl Strategy<Value = (Outage, Rate)> {
        (0i64..120_000, prop::bool::ANY, 0i64..50, 0u64..500).prop_map(|(len_ms, bh, answer_ms, r)| {
            (
                Outage {
                    start: Micros::from_secs(30),
                    end: Micros::from_secs(30) + Micros::from_millis(len_ms),
                    failure: if bh {
                        Failure::BlackHole
                    } else {
                        Failure::Refused {
                            answer: Micros::from_millis(answer_ms),
                        }
                    },
                },
                rps(r),
            )
        })
    }

    proptest! {
        #[test]
        fn ranges_are_ordered_and_failures_are_attempts((p, (o, r)) in (arb_passive(), arb_outage())) {
            let out = outage(&p, &o, r);
            prop_assert!(out.attempts.lo <= out.attempts.hi);
            prop_assert!(out.failed_requests.lo <= out.attempts.lo && out.failed_requests.hi <= out.attempts.hi);
            prop_assert!(out.failed_requests == Range::ZERO || out.failed_requests == out.attempts);
            // Never more attempts than requests.
            prop_assert!(out.attempts.hi <= r.arrivals(o.end - o.start).hi);
            if let Some((lo, Some(hi))) = out.marked_down {
                prop_assert!(lo <= hi);
            }
        }

        #[test]
        fn more_tries_never_more_failures((p, (o, r)) in (arb_passive(), arb_outage()), extra in 1u32..4) {
            let base = outage(&p, &o, r);
            // 0 means unlimited: compare finite counts against it too.
            let more = Passive { tries: if p.tries == 0 { 0 } else { p.tries + extra }, ..p.clone() };
            let unlimited = Passive { tries: 0, ..p.clone() };
            for q in [more, unlimited] {
                let o2 = outage(&q, &o, r);
                prop_assert!(o2.failed_requests.hi <= base.failed_requests.hi);
                prop_assert!(o2.failed_requests.lo <= base.failed_requests.lo);
            }
        }

        #[test]
        fn no_failures_while_another_server_is_up_and_tries_are_left((p, (o, r)) in (arb_passive(), arb_outage())) {
            let p = Passive {
                next_upstream: NextUpstream::On(vec![Condition::Error, Condition::Timeout]),
                peers: p.peers.max(2),
                total_weight: p.weight * p.peers.max(2),
                tries: if p.tries == 1 { 0 } else { p.tries },
                ..p
            };
            prop_assert_eq!(outage(&p, &o, r).failed_requests, Range::ZERO);
        }

        #[test]
        fn a_longer_connect_timeout_never_costs_less((p, (o, r)) in (arb_passive(), arb_outage()), more_ms in 1i64..3_000) {
            let o = Outage { failure: Failure::BlackHole, ..o };
            let a = outage(&p, &o, r);
            let q = Passive { connect_timeout: p.connect_timeout + Micros::from_millis(more_ms), ..p.clone() };
            let b = outage(&q, &o, r);
            prop_assert!(b.worst_added_latency >= a.worst_added_latency);
        }
    }
}
