//! The model against real HAProxy: `haproxy -f <generated> -db` on loopback in front of the real
//! `graceline backend`, with check intervals scaled down to hundreds of milliseconds.
//!
//! Each configuration runs in its own thread with its own HAProxy and backend. A trial waits until
//! HAProxy has the server at full health (`option log-health-checks` prints `status: F/F UP`),
//! takes the next `/readyz` probe seen by the backend as the phase anchor, and triggers the
//! shutdown (`POST /admin/shutdown`) at a stratified random offset into the check interval, so the
//! trials sweep the whole phase range. The measured detection time is HAProxy's
//! "Server be/srv is DOWN" log line (µs ISO timestamps) minus the backend's `readyz_failing`
//! event (µs wall clock, same machine clock). The backend then exits at E3 and is restarted on the
//! same port for the next trial; `graceline calibrate` reads the same two logs afterwards.
//!
//! Tolerance (why a few ms): the model uses response_time 0. Real HAProxy schedules the next check
//! at `now_ms + interval` in whole-millisecond ticks, off by up to 1 ms per wait either way; the
//! backend accepts connections by polling its listener every 1 ms, so each answered check (pass or
//! 500) takes up to ~1.3 ms; a check's timeout fires on the next tick (+1 ms). With F = fall waits
//! and F + 1 checks in the chain from the last pass to the DOWN, the band is
//! `[best - (F + 2) ms, worst + (3F + 4) ms]`.
//! A trial that falls outside the band while a 1 ms sleeper thread in this process saw more than
//! 5 ms of scheduling delay (another build running on the 2 cores) is discarded and repeated, at
//! most `trials / 2` times; an unperturbed trial outside the band fails the test.
//!
//! Under CI (`CI=true`) a missing `haproxy` binary fails the test; locally it is skipped.

use graceline::analysis::exact::extremes;
use graceline::calibrate::log::{parse_backend_log, parse_haproxy_log, BackendEvent, EventKind};
use graceline::scenario::load_str;
use graceline::time::Micros;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support;

const SERVER: &str = "be/srv";
/// Scheduling delay above which the machine counts as perturbed during a trial.
const PERTURBED_US: i64 = 5_000;

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64
}

/// Kills and reaps a child process when dropped, so no haproxy or backend outlives the test.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn haproxy_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// The installed HAProxy's version (`2.6.12` from "HAProxy version 2.6.12-1+deb12u4 ..."), which the
/// scenarios name so the model takes that version's check timer; `2.6` when it cannot be read.
fn installed_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        haproxy_binary()
            .and_then(|bin| std::process::Command::new(bin).arg("-v").output().ok())
            .and_then(|o| {
                let text = String::from_utf8_lossy(&o.stdout).to_string();
                let word = text.split_whitespace().nth(2)?.to_string();
                let v: String = word.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                graceline::provider::haproxy::parse_version(&v).map(|_| v)
            })
            .unwrap_or_else(|| "2.6".to_string())
    })
}

/// Records scheduling delays of a thread that sleeps 1 ms at a time.
fn canary() -> &'static Mutex<VecDeque<(i64, i64)>> {
    static LATE: OnceLock<Mutex<VecDeque<(i64, i64)>>> = OnceLock::new();
    LATE.get_or_init(|| {
        thread::spawn(|| loop {
            let before = Instant::now();
            thread::sleep(Duration::from_millis(1));
            let late = before.elapsed().as_micros() as i64 - 1_000;
            if late > 1_000 {
                let mut q = canary().lock().unwrap();
                q.push_back((now_us(), late));
                if q.len() > 100_000 {
                    q.pop_front();
                }
            }
        });
        Mutex::new(VecDeque::new())
    })
}

fn max_lateness(from: i64, to: i64) -> i64 {
    let q = canary().lock().unwrap();
    q.iter()
        .filter(|(t, _)| *t >= from && *t <= to + 2_000)
        .map(|(_, l)| *l)
        .max()
        .unwrap_or(0)
}

/// One HAProxy configuration of the matrix (times in ms).
#[derive(Clone, Debug)]
struct Cfg {
    name: &'static str,
    mode: &'static str,
    inter: i64,
    fastinter: Option<i64>,
    downinter: Option<i64>,
    fall: u32,
    rise: u32,
    timeout_check: Option<i64>,
    timeout_connect: i64,
    spread: u32,
    trials: usize,
    /// Minimum measured spread as a fraction of the model's range (None: not asserted, stated why).
    coverage: Option<f64>,
    /// Shutdown delay E3 - E2 in ms; None = model worst + 150 ms (E3 after every DOWN).
    budget: Option<i64>,
    /// Drive client traffic through HAProxy and count failed requests.
    traffic: bool,
    /// The backend serves HTTPS (`--tls`) and HAProxy checks it with `check-ssl verify none`.
    tls: bool,
    /// `retries 1` + `option redispatch` with the spare as a second active server (else `retries 0`
    /// and the spare as a backup): refused requests are re-sent to the spare.
    redispatch: bool,
}

impl Cfg {
    fn new(name: &'static str) -> Self {
        Cfg {
            name,
            mode: "error",
            inter: 200,
            fastinter: None,
            downinter: None,
            fall: 3,
            rise: 2,
            timeout_check: None,
            timeout_connect: 1000,
            spread: 0,
            trials: 10,
            coverage: Some(0.5),
            budget: None,
            traffic: false,
            tls: false,
            redispatch: false,
        }
    }

    /// The model's share of the requests routed after E3 that the client sees fail (1 with
    /// `retries 0`, 0 with `option redispatch` and a second server).
    fn model_failing_share(&self) -> f64 {
        let mut text = self.scenario(self.budget_ms());
        if self.redispatch {
            text.push_str("retries = 1\nredispatch = true\n");
        } else {
            text.push_str("retries = 0\n");
        }
        text.push_str("[traffic]\nrequests_per_second = 100\nbackends = 2\n");
        let sc = load_str(&format!("{}.toml", self.name), &text).expect("scenario loads");
        graceline::analysis::client::client_view(&sc, &sc.lbs[0]).failing_share
    }

    fn scenario(&self, budget_ms: i64) -> String {
        let mut s = format!(
            "name = \"{}\"\n[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"{budget_ms}ms\"\nrequest_grace = \"0s\"\n\
             termination_grace_period = \"1h\"\nreadyz_failure = \"{}\"\nresponse_time = \"0s\"\n\
             [[lb]]\nname = \"{}\"\nprofile = \"haproxy\"\ninter = \"{}ms\"\nfall = {}\nrise = {}\nspread_checks = {}\n\
             protocol = \"http\"\npath = \"/readyz\"\ntimeout_connect = \"{}ms\"\nversion = \"{}\"\n",
            self.name,
            self.mode,
            self.name,
            self.inter,
            self.fall,
            self.rise,
            self.spread,
            self.timeout_connect,
            installed_version()
        );
        for (k, v) in [
            ("fastinter", self.fastinter),
            ("downinter", self.downinter),
            ("timeout_check", self.timeout_check),
        ] {
            if let Some(v) = v {
                writeln!(s, "{k} = \"{v}ms\"").unwrap();
            }
        }
        s
    }

    /// The model's detection range for a budget (E3 - E2).
    fn model(&self, budget_ms: i64) -> (Micros, Micros) {
        let sc = load_str(&format!("{}.toml", self.name), &self.scenario(budget_ms)).expect("scenario loads");
        let e = extremes(&sc.server, &sc.lbs[0].model);
        (e.best.detection, e.worst.detection)
    }

    /// The part of the model's range that comes from HAProxy 2.6's silent-check timer rather than
    /// the phase: `fall` checks each anywhere in [timeout_min, timeout] (timeout mode only).
    fn timer_range(&self, budget_ms: i64) -> Micros {
        let sc = load_str(&format!("{}.toml", self.name), &self.scenario(budget_ms)).expect("scenario loads");
        let m = &sc.lbs[0].model;
        if self.mode == "timeout" {
            (m.view.timeout - m.view.timeout_min).times(i64::from(m.threshold))
        } else {
            Micros::ZERO
        }
    }

    fn budget_ms(&self) -> i64 {
        self.budget.unwrap_or_else(|| self.model(3_600_000).1 .0 / 1000 + 150)
    }

    fn tolerance(&self) -> (Micros, Micros) {
        let f = i64::from(self.fall);
        (Micros::from_millis(f + 2), Micros::from_millis(3 * f + 4))
    }

    fn haproxy_cfg(&self, fe_port: u16, port: u16, spare: Option<u16>) -> String {
        let mut s = String::from("global\n    nbthread 1\n    log stdout format iso local0\n");
        if self.spread > 0 {
            writeln!(s, "    spread-checks {}", self.spread).unwrap();
        }
        write!(
            s,
            "defaults\n    mode http\n    log global\n    option log-health-checks\n    option httpclose\n    http-reuse never\n    {}\n    timeout client 10s\n    timeout server 10s\n    timeout connect {}ms\n",
            if self.redispatch {
                "retries 1\n    option redispatch"
            } else {
                "retries 0"
            },
            self.timeout_connect
        )
        .unwrap();
        if let Some(t) = self.timeout_check {
            writeln!(s, "    timeout check {t}ms").unwrap();
        }
        write!(
            s,
            "frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be\nbackend be\n    option httpchk GET /readyz\n    server srv 127.0.0.1:{port} check inter {} fall {} rise {}",
            self.inter, self.fall, self.rise
        )
        .unwrap();
        if let Some(v) = self.fastinter {
            write!(s, " fastinter {v}").unwrap();
        }
        if let Some(v) = self.downinter {
            write!(s, " downinter {v}").unwrap();
        }
        if self.tls {
            s.push_str(" check-ssl verify none");
        }
        s.push('\n');
        if let Some(p) = spare {
            let role = if self.redispatch { "" } else { " backup" };
            writeln!(s, "    server spare 127.0.0.1:{p}{role}").unwrap();
        }
        s
    }
}

fn matrix() -> Vec<Cfg> {
    vec![
        Cfg::new("defaults"),
        Cfg {
            fall: 2,
            ..Cfg::new("fall-2")
        },
        Cfg {
            fall: 5,
            trials: 8,
            ..Cfg::new("fall-5")
        },
        Cfg {
            inter: 300,
            fastinter: Some(60),
            ..Cfg::new("fastinter-below-inter")
        },
        Cfg {
            downinter: Some(100),
            ..Cfg::new("downinter")
        },
        Cfg {
            mode: "timeout",
            inter: 300,
            fall: 2,
            timeout_check: Some(100),
            trials: 8,
            // Coverage is judged on the phase part of the range (see `timer_range`).
            coverage: Some(0.3),
            ..Cfg::new("timeout-check-below-inter")
        },
        Cfg {
            mode: "timeout",
            inter: 150,
            fall: 2,
            timeout_check: Some(400),
            trials: 8,
            ..Cfg::new("timeout-check-above-inter")
        },
        Cfg {
            mode: "timeout",
            inter: 300,
            fall: 2,
            timeout_check: Some(100),
            timeout_connect: 50,
            trials: 8,
            ..Cfg::new("short-timeout-connect")
        },
        Cfg {
            mode: "timeout",
            fall: 2,
            trials: 8,
            ..Cfg::new("timeout-no-check-timeout")
        },
        Cfg {
            spread: 30,
            // Random jitter rarely reaches the extremes at every step: the spread is not asserted.
            coverage: None,
            ..Cfg::new("spread-checks-30")
        },
        Cfg {
            budget: Some(200),
            traffic: true,
            trials: 8,
            ..Cfg::new("traffic-across-e3")
        },
        Cfg {
            fall: 2,
            trials: 8,
            tls: true,
            ..Cfg::new("https-check-ssl")
        },
        Cfg {
            budget: Some(200),
            traffic: true,
            redispatch: true,
            trials: 6,
            ..Cfg::new("traffic-redispatch")
        },
    ]
}

/// Reads a growing backend log incrementally.
struct Tail {
    path: PathBuf,
    offset: u64,
    partial: String,
    events: Vec<BackendEvent>,
}

impl Tail {
    fn new(path: &Path) -> Self {
        Tail {
            path: path.to_path_buf(),
            offset: 0,
            partial: String::new(),
            events: Vec::new(),
        }
    }

    fn poll(&mut self) -> &[BackendEvent] {
        use std::io::{Seek, SeekFrom};
        if let Ok(mut f) = std::fs::File::open(&self.path) {
            if f.seek(SeekFrom::Start(self.offset)).is_ok() {
                let mut buf = String::new();
                if let Ok(n) = f.read_to_string(&mut buf) {
                    self.offset += n as u64;
                    self.partial.push_str(&buf);
                    if let Some(end) = self.partial.rfind('\n') {
                        let lines: String = self.partial.drain(..=end).collect();
                        self.events
                            .extend(parse_backend_log("backend.log", &lines).expect("backend log parses"));
                    }
                }
            }
        }
        &self.events
    }

    fn wait_for<T>(&mut self, what: &str, deadline: Instant, mut f: impl FnMut(&[BackendEvent]) -> Option<T>) -> T {
        loop {
            if let Some(v) = f(self.poll()) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} in {}",
                self.path.display()
            );
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// HAProxy's stdout, collected by a reader thread and mirrored to a file for `calibrate`.
struct HaproxyLog(Arc<Mutex<Vec<String>>>);

impl HaproxyLog {
    fn wait_for<T>(&self, what: &str, deadline: Instant, f: impl FnMut(&[String]) -> Option<T>) -> T {
        self.try_wait_for(deadline, f)
            .unwrap_or_else(|| panic!("timed out waiting for {what} in the HAProxy log"))
    }

    /// Like `wait_for`, but `None` at the deadline: for waits that a loaded machine may stretch.
    fn try_wait_for<T>(&self, deadline: Instant, mut f: impl FnMut(&[String]) -> Option<T>) -> Option<T> {
        loop {
            if let Some(v) = f(&self.0.lock().unwrap()) {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// The last `n` health-check lines, for a message that says what HAProxy saw.
    fn last_checks(&self, n: usize) -> Vec<String> {
        let lines = self.0.lock().unwrap();
        let mut last: Vec<String> = lines
            .iter()
            .rev()
            .filter(|l| l.contains("be/srv"))
            .take(n)
            .cloned()
            .collect();
        last.reverse();
        last
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_backend(addr: &str, mode: &str, budget_ms: i64, log: &Path, tls: bool) -> Guard {
    Guard(
        Command::new(env!("CARGO_BIN_EXE_graceline"))
            .args([
                "backend",
                addr,
                "--readyz-failure",
                mode,
                "--request-grace",
                "0s",
                "--log",
            ])
            .arg(log)
            .args(["--shutdown-delay", &format!("{budget_ms}ms")])
            .args(tls.then_some("--tls"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("graceline backend starts"),
    )
}

fn listening_port(tail: &mut Tail, runs_before: usize) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    tail.wait_for("the backend's listening event", deadline, |ev| {
        (ev.iter().filter(|e| e.kind == EventKind::Listening).count() > runs_before).then_some(())
    });
    let text = std::fs::read_to_string(&tail.path).unwrap();
    let line = text.lines().rfind(|l| l.contains("\"listening\"")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["addr"].as_str().unwrap().parse::<SocketAddr>().unwrap().port()
}

fn spawn_haproxy(bin: &Path, dir: &Path, text: &str) -> Option<(Guard, HaproxyLog)> {
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, text).unwrap();
    let mut child = Command::new(bin)
        .arg("-f")
        .arg(&cfg)
        .arg("-db")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy starts");
    let out = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let mut file = std::fs::File::create(dir.join("haproxy.log")).unwrap();
    thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = writeln!(file, "{line}");
            sink.lock().unwrap().push(line);
        }
    });
    thread::sleep(Duration::from_millis(150));
    if child.try_wait().unwrap().is_some() {
        return None;
    }
    Some((Guard(child), HaproxyLog(lines)))
}

fn admin_shutdown(port: u16, tls: bool) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("admin connect");
    let request = b"POST /admin/shutdown HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let mut buf = [0u8; 12];
    if tls {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(support::tls_client(None), name).unwrap();
        let mut s = rustls::StreamOwned::new(conn, s);
        s.write_all(request).unwrap();
        let _ = s.read(&mut buf);
    } else {
        let mut s = s;
        s.write_all(request).unwrap();
        let _ = s.read(&mut buf);
    }
}

/// One client request through HAProxy: send instant and whether it got a 200.
type Sent = (i64, bool);

fn drive_traffic(fe_port: u16, gap: Duration, stop: Arc<AtomicBool>) -> thread::JoinHandle<Vec<Sent>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let start = Instant::now();
        let mut k = 0u32;
        while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(15) {
            let due = start + gap * k;
            if let Some(w) = due.checked_duration_since(Instant::now()) {
                thread::sleep(w);
            }
            k += 1;
            let at = now_us();
            let ok = (|| -> std::io::Result<bool> {
                let mut s = TcpStream::connect(("127.0.0.1", fe_port))?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                s.write_all(b"GET /data HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")?;
                let mut head = [0u8; 12];
                s.read_exact(&mut head)?;
                Ok(&head[9..12] == b"200")
            })()
            .unwrap_or(false);
            out.push((at, ok));
        }
        out
    })
}

/// What one trial measured (wall-clock µs).
#[derive(Debug, Clone)]
struct Trial {
    e2: i64,
    e3: Option<i64>,
    down: i64,
    perturbed: bool,
    failed: usize,
    must_fail: usize,
    may_fail: usize,
    model_fail: (usize, usize),
}

impl Trial {
    fn detection(&self) -> Micros {
        Micros(self.down - self.e2)
    }
}

struct Outcome {
    cfg: Cfg,
    best: Micros,
    worst: Micros,
    kept: Vec<Trial>,
    discarded: usize,
    calibrate_json: Option<serde_json::Value>,
    calibrate_traffic_json: Option<serde_json::Value>,
}

fn run_config(cfg: Cfg, haproxy: PathBuf, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let budget = cfg.budget_ms();
    let (best, worst) = cfg.model(budget);
    let (tol_lo, tol_hi) = cfg.tolerance();
    let be_log = dir.path().join("backend.log");
    let mut tail = Tail::new(&be_log);
    let mut backend = spawn_backend("127.0.0.1:0", cfg.mode, budget, &be_log, cfg.tls);
    let port = listening_port(&mut tail, 0);
    let addr = format!("127.0.0.1:{port}");
    let spare_log = dir.path().join("spare.log");
    let spare = cfg.traffic.then(|| {
        let g = spawn_backend("127.0.0.1:0", "error", 3_600_000, &spare_log, false);
        let p = listening_port(&mut Tail::new(&spare_log), 0);
        (g, p)
    });
    // HAProxy on a free frontend port; tried again on another port when it exits at start-up (the
    // port taken between `free_port` and its bind).
    let start_haproxy = || {
        (0..5)
            .find_map(|_| {
                let fe_port = free_port();
                let text = cfg.haproxy_cfg(fe_port, port, spare.as_ref().map(|s| s.1));
                spawn_haproxy(&haproxy, dir.path(), &text).map(|(g, l)| (fe_port, g, l))
            })
            .expect("haproxy stays up with the generated configuration")
    };
    let (mut fe_port, mut haproxy_guard, mut hlog) = start_haproxy();
    let mut restarts = 0;
    let full = format!("status: {}/{} UP", cfg.fall, cfg.fall);
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 1_000_000) as f64 / 1e6
    };
    let mut kept = Vec::new();
    let mut discarded = 0;
    let mut seen_lines = 0;
    let mut runs = 1;
    let mut stratum = 0;
    while kept.len() < cfg.trials {
        assert!(
            discarded <= cfg.trials / 2,
            "{}: {discarded} trials perturbed by scheduling delays over {PERTURBED_US}us; the machine is too loaded; HAProxy's last checks: {:#?}",
            cfg.name,
            hlog.last_checks(4)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        // Full health: the last health-check line since the previous DOWN says F/F UP.
        // On a loaded 2-core CI machine a short `timeout check` can keep failing healthy probes for
        // a while; no shutdown has happened yet, so waiting longer counts as a perturbed trial.
        let Some(healthy_at) = hlog.try_wait_for(deadline, |lines| {
            let fresh = &lines[seen_lines.min(lines.len())..];
            let last = fresh.iter().rfind(|l| l.contains("Health check for server be/srv"))?;
            if !last.contains(&full) {
                return None;
            }
            last.split_whitespace()
                .next()
                .and_then(graceline::calibrate::log::parse_iso_us)
        }) else {
            // On a loaded machine HAProxy can start slower than `spawn_haproxy` waits and then exit
            // (its frontend port taken meanwhile): no check was ever logged. Started again, not a
            // perturbed trial; three times at most.
            if restarts < 3 && haproxy_guard.0.try_wait().unwrap().is_some() {
                restarts += 1;
                eprintln!("{}: HAProxy exited after start-up; started again", cfg.name);
                (fe_port, haproxy_guard, hlog) = start_haproxy();
                seen_lines = 0;
                continue;
            }
            discarded += 1;
            eprintln!(
                "{}: no full health within 20 s; HAProxy's last checks: {:#?}",
                cfg.name,
                hlog.last_checks(4)
            );
            continue;
        };
        let anchor = tail.wait_for("a probe after full health", deadline, |ev| {
            ev.iter()
                .find(|e| e.t_us > healthy_at && matches!(&e.kind, EventKind::Request { path } if path == "/readyz"))
                .map(|e| e.t_us)
        });
        let u = (stratum as f64 + next()) / cfg.trials as f64;
        stratum = (stratum + 1) % cfg.trials;
        let period = cfg.inter * 1000;
        let mut target = anchor + (u * period as f64) as i64;
        while target < now_us() + 2_000 {
            target += period;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let traffic = cfg
            .traffic
            .then(|| drive_traffic(fe_port, Duration::from_millis(10), Arc::clone(&stop)));
        thread::sleep(Duration::from_micros((target - now_us()).max(0) as u64));
        admin_shutdown(port, cfg.tls);
        let e2 = tail.wait_for("E2", deadline, |ev| {
            ev.iter()
                .rev()
                .find(|e| matches!(e.kind, EventKind::ReadyzFailing(_)) && e.t_us > anchor)
                .map(|e| e.t_us)
        });
        let down_deadline = Instant::now() + Duration::from_micros(worst.0 as u64) + Duration::from_secs(5);
        let (down, down_idx) = hlog.wait_for("Server be/srv is DOWN", down_deadline, |lines| {
            lines.iter().enumerate().skip(seen_lines).find_map(|(i, l)| {
                let d = parse_haproxy_log("haproxy.log", l).ok()?.pop()?;
                (d.server == SERVER && d.t_us >= e2).then_some((d.t_us, i))
            })
        });
        seen_lines = down_idx + 1;
        let sends = traffic.map(|h| {
            thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::SeqCst);
            h.join().unwrap()
        });
        // The backend exits at E3 (request grace 0); restart it on the same port.
        let exit_deadline = Instant::now() + Duration::from_millis(budget as u64) + Duration::from_secs(5);
        while backend.0.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < exit_deadline,
                "{}: the backend did not exit after E3",
                cfg.name
            );
            thread::sleep(Duration::from_millis(2));
        }
        let e3 = tail
            .poll()
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::StoppedListening && e.t_us > e2)
            .map(|e| e.t_us);
        backend = spawn_backend(&addr, cfg.mode, budget, &be_log, cfg.tls);
        listening_port(&mut tail, runs);
        runs += 1;
        let t = Micros(down - e2);
        let perturbed = max_lateness(e2 - period, down) > PERTURBED_US;
        let mut trial = Trial {
            e2,
            e3,
            down,
            perturbed,
            failed: 0,
            must_fail: 0,
            may_fail: 0,
            model_fail: (0, 0),
        };
        if let (Some(sends), Some(e3)) = (sends, e3) {
            // Routing continues until the DOWN; from E3 on the server refuses connections. A request
            // is timestamped when the client sends it and meets the listener later (client -> HAProxy
            // -> backend connect): a clean-clone CI run on the loaded 2-core machine saw one sent
            // 3.3 ms before E3 fail, so the edge allows 10 ms of transit.
            let edge = 10_000;
            let count = |a: i64, b: i64| sends.iter().filter(|(s, _)| *s >= a && *s < b).count();
            trial.failed = sends.iter().filter(|(_, ok)| !ok).count();
            trial.must_fail = count(e3 + edge, down - edge);
            trial.may_fail = count(e3 - edge, down + edge);
            trial.model_fail = (
                count(e3 + edge, e2 + best.0 - edge),
                count(e3 - edge, e2 + worst.0 + edge),
            );
            for (s, ok) in &sends {
                assert!(
                    *ok || (*s >= e3 - edge && *s < down + edge),
                    "{}: a request sent at E2{:+}us failed outside [E3, DOWN) = [E2+{}us, E2+{}us)",
                    cfg.name,
                    s - e2,
                    e3 - e2,
                    down - e2
                );
            }
        }
        let inside = t >= best - tol_lo && t <= worst + tol_hi;
        if !inside && perturbed {
            discarded += 1;
            eprintln!("{}: discarded a perturbed trial measuring {t}", cfg.name);
            continue;
        }
        kept.push(trial);
    }
    drop(backend);
    let calibrate = |extra: &[&str]| -> serde_json::Value {
        let scen = dir.path().join("scenario.toml");
        std::fs::write(&scen, cfg.scenario(budget)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_graceline"))
            .arg("calibrate")
            .arg(&be_log)
            .arg("--scenario")
            .arg(&scen)
            .args(["--format", "json", "--tolerance", &format!("{}ms", tol_hi.0 / 1000)])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}: calibrate failed: {out:?}",
            cfg.name
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let hpath = dir.path().join("haproxy.log");
    let calibrate_json = Some(calibrate(&[
        "--haproxy-log",
        hpath.to_str().unwrap(),
        "--haproxy-server",
        SERVER,
    ]));
    // With a second active server, the backend log sees only its share of the traffic.
    let calibrate_traffic_json = (cfg.traffic && !cfg.redispatch).then(|| calibrate(&[]));
    Outcome {
        cfg,
        best,
        worst,
        kept,
        discarded,
        calibrate_json,
        calibrate_traffic_json,
    }
}

fn ms(m: Micros) -> String {
    format!("{:.1}", m.0 as f64 / 1000.0)
}

#[test]
fn haproxy_detection_times_lie_inside_the_model_range() {
    let _quiet = crate::support::timing_shared();
    let Some(haproxy) = haproxy_binary() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but no haproxy binary on PATH or in /usr/sbin: .ci/run must install it");
        }
        eprintln!("skipped: no haproxy binary (install the Debian package haproxy; CI=true makes this a failure)");
        return;
    };
    canary();
    let seed = now_us() as u64;
    let handles: Vec<_> = matrix()
        .into_iter()
        .enumerate()
        .map(|(i, cfg)| {
            let h = haproxy.clone();
            let name = cfg.name;
            (
                name,
                thread::spawn(move || run_config(cfg, h, seed.wrapping_add(i as u64 * 7919))),
            )
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut panics = Vec::new();
    for (name, h) in handles {
        match h.join() {
            Ok(o) => outcomes.push(o),
            Err(e) => panics.push(format!(
                "{name}: {}",
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| format!("{:?}", e.downcast_ref::<&str>()))
            )),
        }
    }
    let mut report = String::from(
        "\nconfiguration               | n  | min ms  | median  | max ms  | best ms | worst ms | band ms          | spread/range | failed requests (law; model)\n",
    );
    let mut errors = panics;
    for o in &outcomes {
        let mut d: Vec<Micros> = o.kept.iter().map(Trial::detection).collect();
        d.sort();
        let (min, med, max) = (d[0], d[d.len() / 2], d[d.len() - 1]);
        let (tl, th) = o.cfg.tolerance();
        // Non-vacuity is judged on the phase-driven part of the range: the timer part depends on
        // where HAProxy's event loop wakes, which trials do not control.
        let range = (o.worst - o.best - o.cfg.timer_range(o.cfg.budget_ms())).0.max(1);
        let cover = (max - min).0 as f64 / range as f64;
        let fails = if o.cfg.traffic {
            o.kept
                .iter()
                .map(|t| {
                    format!(
                        "{}∈[{},{}];[{},{}]",
                        t.failed, t.must_fail, t.may_fail, t.model_fail.0, t.model_fail.1
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        };
        writeln!(
            report,
            "{:<27} | {:<2} | {:>7} | {:>7} | {:>7} | {:>7} | {:>8} | [{:>6}, {:>6}] | {:>5.0}%{} | {fails}",
            o.cfg.name,
            d.len(),
            ms(min),
            ms(med),
            ms(max),
            ms(o.best),
            ms(o.worst),
            ms(o.best - tl),
            ms(o.worst + th),
            cover * 100.0,
            if o.discarded > 0 {
                format!(" ({} discarded)", o.discarded)
            } else {
                String::new()
            }
        )
        .unwrap();
        for t in &o.kept {
            let x = t.detection();
            if x < o.best - tl || x > o.worst + th {
                errors.push(format!(
                    "{}: detection {x} (E2 at {}us, DOWN at {}us, E3 {:?}) outside the model's [{}, {}] widened by -{tl}/+{th}",
                    o.cfg.name, t.e2, t.down, t.e3, o.best, o.worst
                ));
            }
            if o.cfg.traffic && o.cfg.redispatch {
                // The model (GL019, client view): with option redispatch and a second server no
                // request routed after E3 fails. The real LB wins: HAProxy 2.6.12 was measured to
                // lose at most one at the edge, and round-robin sends about half of the requests
                // between E3 and the DOWN to the stopped server, so there were some to lose.
                if o.cfg.model_failing_share() != 0.0 || t.failed > 1 || t.may_fail < 10 {
                    errors.push(format!(
                        "{}: {} failed requests of {} sent between E3 and the DOWN (model: share {} fails)",
                        o.cfg.name,
                        t.failed,
                        t.may_fail,
                        o.cfg.model_failing_share()
                    ));
                }
            } else if o.cfg.traffic {
                if o.cfg.model_failing_share() != 1.0 {
                    errors.push(format!(
                        "{}: with retries 0 the model must fail every request",
                        o.cfg.name
                    ));
                }
                if t.failed < t.must_fail || t.failed > t.may_fail {
                    errors.push(format!(
                        "{}: {} failed requests, but {}..={} were sent between E3 and the DOWN",
                        o.cfg.name, t.failed, t.must_fail, t.may_fail
                    ));
                }
                if t.failed < t.model_fail.0 || t.failed > t.model_fail.1 {
                    errors.push(format!(
                        "{}: {} failed requests outside the model's {}..={}",
                        o.cfg.name, t.failed, t.model_fail.0, t.model_fail.1
                    ));
                }
            }
            let _ = t.perturbed;
        }
        if let Some(min_cover) = o.cfg.coverage {
            if cover < min_cover {
                errors.push(format!(
                    "{}: measured spread {} covers {:.0}% of the model's range {}..{} (< {:.0}%): the model is vacuous here",
                    o.cfg.name,
                    max - min,
                    cover * 100.0,
                    o.best,
                    o.worst,
                    min_cover * 100.0
                ));
            }
        }
        for (label, json) in [
            ("haproxy log", &o.calibrate_json),
            ("traffic", &o.calibrate_traffic_json),
        ] {
            let Some(json) = json else { continue };
            let rows = json["measurements"].as_array().unwrap();
            let ours: Vec<i64> = o.kept.iter().map(|t| t.e2).collect();
            let matched = rows
                .iter()
                .filter(|r| ours.contains(&r["e2_unix_us"].as_i64().unwrap()))
                .count();
            if matched != o.kept.len() {
                errors.push(format!(
                    "{}: calibrate ({label}) found {matched} of {} trials",
                    o.cfg.name,
                    o.kept.len()
                ));
            }
            for r in rows
                .iter()
                .filter(|r| ours.contains(&r["e2_unix_us"].as_i64().unwrap()))
            {
                let t = o
                    .kept
                    .iter()
                    .find(|t| t.e2 == r["e2_unix_us"].as_i64().unwrap())
                    .unwrap();
                if label == "haproxy log" {
                    let m = (r["measured_s"].as_f64().unwrap() * 1e6).round() as i64;
                    if m != t.detection().0 || r["inside"] != serde_json::Value::Bool(true) {
                        errors.push(format!("{}: calibrate disagrees with the test: {r}", o.cfg.name));
                    }
                } else if r["censored"] != serde_json::Value::Bool(true) || r["inside"] != serde_json::Value::Bool(true)
                {
                    errors.push(format!(
                        "{}: calibrate (last data request) should see routing at E3: {r}",
                        o.cfg.name
                    ));
                }
            }
        }
    }
    eprintln!("{report}");
    assert!(errors.is_empty(), "{}\n{report}", errors.join("\n"));
}
