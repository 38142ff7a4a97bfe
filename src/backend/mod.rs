//! A backend that mimics kube-apiserver's graceful shutdown on an exact timeline.
//! Put it behind a real load balancer and read its JSON log to see when traffic stopped.

// HTTP is hand-written on std::net instead of using an HTTP framework because the simulation needs
// exact control of the socket lifecycle: accept a /readyz probe and never answer it, and close the
// listening socket at a precise instant while already accepted connections keep being served.
// Framework servers hide both. The caller's thread only writes the log (the writer is not `Send`);
// a scheduler thread sleeps until absolute phase instants and polls the non-blocking listener, so
// it alone owns the listener and can drop it exactly at E3. Each connection gets its own thread.
// HTTPS is the same: the listener stays a plain TcpListener (so E3 is the same close), and each
// connection thread runs the rustls handshake before handing the stream to the same HTTP code.

mod http;
#[cfg(test)]
mod tests;
mod tls;

pub use tls::Tls;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context};
use serde::Serialize;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::SigId;

/// Connections served at once; further ones are closed right after accept.
const MAX_CONNECTIONS: usize = 1024;
/// Longest the scheduler sleeps between polls of the listener and of the signal flag.
const POLL: Duration = Duration::from_millis(1);
/// Stack size of a connection thread.
const CONN_STACK: usize = 256 * 1024;

/// How `/readyz` fails once the shutdown has reached E2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadyzFailure {
    /// Answer HTTP 500 at once.
    Error,
    /// Read the request, never answer, and hold the connection open.
    Timeout,
}

/// What starts the shutdown (E1); SIGTERM/SIGINT and `POST /admin/shutdown` are always armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Wait for SIGTERM or SIGINT (or the admin endpoint).
    Signal,
    /// Also trigger by itself this long after the backend starts.
    After(Duration),
    /// Wait for `POST /admin/shutdown` (or a signal).
    Admin,
}

/// Timeline and behaviour of the simulated backend.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Address to listen on; port 0 picks a free port, reported by the `listening` event.
    pub listen: SocketAddr,
    /// How `/readyz` fails from E2 on.
    pub readyz_failure: ReadyzFailure,
    /// From the trigger (E1) to `/readyz` failing (E2).
    pub readyz_fail_after: Duration,
    /// From E2 to closing the listening socket (E3).
    pub shutdown_delay: Duration,
    /// From E3 to `run` returning (E4), while in-flight requests may finish.
    pub request_grace: Duration,
    /// What starts the shutdown.
    pub trigger: Trigger,
    /// Artificial latency added to every answered request.
    pub response_delay: Duration,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<Tls>,
}

/// Serves until E4 of the shutdown timeline, writing one JSON event per line to `log`.
/// Connections still open at E4 are abandoned; the caller is expected to exit the process.
pub fn run(cfg: &BackendConfig, log: &mut dyn Write) -> anyhow::Result<()> {
    run_limited(cfg, log, MAX_CONNECTIONS)
}

/// Like [`run`], with a custom limit on concurrent connections.
fn run_limited(cfg: &BackendConfig, log: &mut dyn Write, max_connections: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let listener = TcpListener::bind(cfg.listen).with_context(|| format!("binding {}", cfg.listen))?;
    listener
        .set_nonblocking(true)
        .context("making the listener non-blocking")?;
    let addr = listener.local_addr().context("reading the bound address")?;
    // The resolved address (port 0 picks one) for the person at the terminal; the log has it too.
    eprintln!(
        "graceline backend: listening on {}://{addr}",
        if cfg.tls.is_some() { "https" } else { "http" }
    );
    let signals = Signals::register().context("registering SIGTERM/SIGINT handlers")?;
    let (tx, rx) = mpsc::channel();
    let shared = Arc::new(Shared {
        start,
        phase: AtomicU8::new(Phase::Ready as u8),
        trigger: Mutex::new(None),
        aborted: AtomicBool::new(false),
        readyz_failure: cfg.readyz_failure,
        response_delay: cfg.response_delay,
        tls: cfg.tls.clone(),
        connections: AtomicUsize::new(0),
        max_connections,
        log_tx: Mutex::new(tx),
    });
    let tls = cfg.tls.is_some();
    shared.record(|_| (Some(Event::Listening { addr, tls }), ()));
    let scheduler = {
        let shared = Arc::clone(&shared);
        let cfg = cfg.clone();
        let fired = Arc::clone(&signals.fired);
        thread::Builder::new()
            .name("backend-scheduler".into())
            .spawn(move || schedule(listener, &cfg, &shared, &fired))
            .context("spawning the scheduler thread")?
    };
    let written = write_log(&rx, log, &scheduler);
    shared.aborted.store(true, Ordering::SeqCst);
    let joined = scheduler.join();
    drop(signals);
    joined.map_err(|_| anyhow!("backend scheduler thread panicked"))?;
    written
}

/// Writes log lines as they arrive until the `exit` event.
fn write_log(rx: &Receiver<Line>, out: &mut dyn Write, scheduler: &JoinHandle<()>) -> anyhow::Result<()> {
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                let last = matches!(line.event, Event::Exit { .. });
                let mut bytes = serde_json::to_vec(&line).context("encoding a log line")?;
                bytes.push(b'\n');
                out.write_all(&bytes).context("writing the backend log")?;
                out.flush().context("flushing the backend log")?;
                if last {
                    return Ok(());
                }
            }
            Err(RecvTimeoutError::Timeout) if !scheduler.is_finished() => {}
            Err(_) => return Err(anyhow!("backend scheduler stopped before the exit event")),
        }
    }
}

/// Drives E1..E4 from absolute instants and accepts connections until E3.
fn schedule(listener: TcpListener, cfg: &BackendConfig, shared: &Arc<Shared>, fired: &AtomicBool) {
    let scheduled = match cfg.trigger {
        Trigger::After(after) => shared.start.checked_add(after),
        Trigger::Signal | Trigger::Admin => None,
    };
    let mut listener = Some(listener);
    loop {
        if shared.aborted.load(Ordering::SeqCst) {
            shared.set_phase(Phase::Done);
            return;
        }
        let now = Instant::now();
        let triggered = match shared.trigger_instant() {
            Some(at) => Some(at),
            None if fired.load(Ordering::SeqCst) => Some(shared.trigger(TriggerSource::Signal)),
            None if reached(scheduled, now) => Some(shared.trigger(TriggerSource::Schedule)),
            None => None,
        };
        let mut next = scheduled;
        if let Some(at) = triggered {
            let e2 = at.checked_add(cfg.readyz_fail_after);
            let e3 = e2.and_then(|e| e.checked_add(cfg.shutdown_delay));
            let e4 = e3.and_then(|e| e.checked_add(cfg.request_grace));
            let now = Instant::now();
            if shared.phase() == Phase::Ready && reached(e2, now) {
                shared.record(|_| {
                    shared.set_phase(Phase::ReadyzFailing);
                    let mode = cfg.readyz_failure;
                    (Some(Event::ReadyzFailing { mode }), ())
                });
            }
            if shared.phase() == Phase::ReadyzFailing && reached(e3, now) {
                shared.record(|_| {
                    shared.set_phase(Phase::Stopped);
                    listener = None;
                    (Some(Event::StoppedListening), ())
                });
            }
            if shared.phase() == Phase::Stopped && reached(e4, now) {
                shared.record(|_| {
                    shared.set_phase(Phase::Done);
                    let open_connections = shared.connections.load(Ordering::SeqCst);
                    (Some(Event::Exit { open_connections }), ())
                });
                return;
            }
            next = match shared.phase() {
                Phase::Ready => e2,
                Phase::ReadyzFailing => e3,
                Phase::Stopped | Phase::Done => e4,
            };
        }
        if let Some(listener) = &listener {
            accept_pending(listener, shared);
        }
        let wait = next.map_or(POLL, |n| n.saturating_duration_since(Instant::now()).min(POLL));
        if !wait.is_zero() {
            thread::sleep(wait);
        }
    }
}

/// Whether an optional deadline has passed.
fn reached(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| now >= d)
}

/// Accepts every queued connection, each onto its own thread.
fn accept_pending(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => spawn_connection(stream, peer, shared),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Starts a connection thread, or closes the connection when the limit is reached.
fn spawn_connection(stream: TcpStream, peer: SocketAddr, shared: &Arc<Shared>) {
    if shared.connections.fetch_add(1, Ordering::SeqCst) >= shared.max_connections {
        shared.connections.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let guard = ConnectionSlot(Arc::clone(shared));
    // A failed spawn drops the closure, which closes the stream and frees the slot.
    let _ = thread::Builder::new()
        .name("backend-conn".into())
        .stack_size(CONN_STACK)
        .spawn(move || serve_connection(stream, peer, &guard.0));
}

/// Serves one accepted connection: plain HTTP, or HTTP after a TLS handshake.
fn serve_connection(stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    if http::prepare(&stream).is_err() {
        return;
    }
    match &shared.tls {
        None => http::serve(stream, peer, shared),
        Some(identity) => {
            if let Some(stream) = tls::handshake(stream, peer, identity, shared) {
                http::serve(stream, peer, shared);
            }
        }
    }
}

/// Counts one live connection thread; releases the slot when dropped.
struct ConnectionSlot(Arc<Shared>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Shutdown phase; `Done` is after E4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Ready = 0,
    ReadyzFailing = 1,
    Stopped = 2,
    Done = 3,
}

/// What started the shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum TriggerSource {
    Signal,
    Schedule,
    Admin,
}

/// One log event; `t_us` and `mono_us` are added by [`Line`].
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Listening {
        addr: SocketAddr,
        tls: bool,
    },
    Trigger {
        source: TriggerSource,
    },
    ReadyzFailing {
        mode: ReadyzFailure,
    },
    StoppedListening,
    Exit {
        open_connections: usize,
    },
    Request {
        method: Option<String>,
        path: Option<String>,
        peer: SocketAddr,
        status: Option<u16>,
        phase: Phase,
    },
    /// A connection to the HTTPS port that never completed its TLS handshake (plain HTTP, a
    /// TCP-only health check, an untrusting client); it was closed without an HTTP answer.
    TlsHandshakeFailed {
        peer: SocketAddr,
        error: String,
        phase: Phase,
    },
}

/// One log line: wall-clock and monotonic timestamps plus the event.
#[derive(Debug, Serialize)]
struct Line {
    t_us: u64,
    mono_us: u64,
    #[serde(flatten)]
    event: Event,
}

/// State shared by the scheduler and the connection threads.
struct Shared {
    start: Instant,
    phase: AtomicU8,
    trigger: Mutex<Option<Instant>>,
    aborted: AtomicBool,
    readyz_failure: ReadyzFailure,
    response_delay: Duration,
    tls: Option<Tls>,
    connections: AtomicUsize,
    max_connections: usize,
    log_tx: Mutex<Sender<Line>>,
}

impl Shared {
    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::SeqCst) {
            0 => Phase::Ready,
            1 => Phase::ReadyzFailing,
            2 => Phase::Stopped,
            _ => Phase::Done,
        }
    }

    fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// Runs `f` with the current phase under the log lock, then stamps and queues its event.
    /// Phase changes and phase reads happen under this lock, so log order matches causality.
    fn record<T>(&self, f: impl FnOnce(Phase) -> (Option<Event>, T)) -> (Instant, T) {
        let tx = lock(&self.log_tx);
        let (event, out) = f(self.phase());
        let now = Instant::now();
        if let Some(event) = event {
            let line = Line {
                t_us: micros(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()),
                mono_us: micros(now.duration_since(self.start)),
                event,
            };
            // The receiver is gone only after `run` returned; late lines are dropped on purpose.
            let _ = tx.send(line);
        }
        (now, out)
    }

    /// Records E1 if it has not happened yet; returns the instant of E1 either way.
    fn trigger(&self, source: TriggerSource) -> Instant {
        let mut slot = lock(&self.trigger);
        if let Some(at) = *slot {
            return at;
        }
        let (at, ()) = self.record(|_| (Some(Event::Trigger { source }), ()));
        *slot = Some(at);
        at
    }

    fn trigger_instant(&self) -> Option<Instant> {
        *lock(&self.trigger)
    }
}

/// Locks a mutex, ignoring poisoning (the guarded data stays consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whole microseconds of a duration, saturating.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// SIGTERM/SIGINT handlers: the first signal sets `fired`, a second one exits at once.
struct Signals {
    fired: Arc<AtomicBool>,
    ids: Vec<SigId>,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        let mut signals = Signals {
            fired: Arc::new(AtomicBool::new(false)),
            ids: Vec::new(),
        };
        for signal in [SIGTERM, SIGINT] {
            let flag = Arc::clone(&signals.fired);
            let exit = signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, flag)?;
            signals.ids.push(exit);
            let flag = Arc::clone(&signals.fired);
            signals.ids.push(signal_hook::flag::register(signal, flag)?);
        }
        Ok(signals)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
