//! End-to-end tests: a real backend on `127.0.0.1:0` driven by `std` `TcpStream` clients, or by
//! rustls clients that trust the backend's self-signed certificate. The shutdown scenarios run
//! over both (`<name>::http` and `<name>::https`) to show that TLS changes nothing else.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;

use super::*;

/// Runs a scenario `fn name(tls: bool)` as the tests `name::http` and `name::https`.
macro_rules! over_http_and_https {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn http() {
                super::$name(false);
            }

            #[test]
            fn https() {
                super::$name(true);
            }
        }
    )*};
}

over_http_and_https!(
    serves_all_endpoints_before_the_trigger,
    error_mode_fails_readyz_after_e2_while_healthz_stays_up,
    timeout_mode_accepts_readyz_but_never_answers,
    healthz_answers_until_e3_then_connections_are_refused,
    keep_alive_requests_after_e3_get_503_and_close,
    in_flight_request_started_before_e3_completes_after_it,
    keep_alive_pipelining_bodies_head_and_http10,
);

/// Signal tests take this exclusively; every other backend holds it shared.
static SIGNALS: RwLock<()> = RwLock::new(());

const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Backend {
    addr: SocketAddr,
    log: SharedLog,
    handle: JoinHandle<anyhow::Result<()>>,
    client: Client,
}

/// A test client's connection: plain TCP or TLS over TCP.
trait Stream: Read + Write + Send + std::fmt::Debug {
    fn tcp(&self) -> &TcpStream;
}

impl Stream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Stream for StreamOwned<ClientConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }
}

/// How test clients reach a backend.
#[derive(Clone)]
enum Client {
    Plain,
    /// TLS with this configuration, verifying the server as this name.
    Tls(Arc<ClientConfig>, ServerName<'static>),
}

/// A client configuration that trusts exactly `cert`.
fn trusting(cert: &rustls::pki_types::CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

impl Client {
    /// Connects and, over TLS, completes the handshake.
    fn connect(&self, addr: SocketAddr) -> io::Result<Box<dyn Stream>> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(WAIT))?;
        match self {
            Client::Plain => Ok(Box::new(stream)),
            Client::Tls(config, name) => {
                let conn = ClientConnection::new(Arc::clone(config), name.clone()).map_err(io::Error::other)?;
                let mut tls = StreamOwned::new(conn, stream);
                while tls.conn.is_handshaking() {
                    tls.conn.complete_io(&mut tls.sock)?;
                }
                Ok(Box::new(tls))
            }
        }
    }
}

fn config(trigger: Trigger, fail_after_ms: u64, delay_ms: u64, grace_ms: u64) -> BackendConfig {
    BackendConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        readyz_failure: ReadyzFailure::Error,
        readyz_fail_after: Duration::from_millis(fail_after_ms),
        shutdown_delay: Duration::from_millis(delay_ms),
        request_grace: Duration::from_millis(grace_ms),
        trigger,
        response_delay: Duration::ZERO,
        tls: None,
    }
}

fn shared_guard() -> RwLockReadGuard<'static, ()> {
    SIGNALS.read().unwrap_or_else(PoisonError::into_inner)
}

impl Backend {
    fn start(cfg: BackendConfig) -> Self {
        Self::start_limited(cfg, MAX_CONNECTIONS)
    }

    /// Starts over HTTPS with a fresh self-signed certificate when `tls`, else over HTTP.
    fn start_over(mut cfg: BackendConfig, tls: bool) -> Self {
        if tls {
            cfg.tls = Some(Tls::self_signed(cfg.listen).unwrap());
        }
        Self::start(cfg)
    }

    fn start_limited(cfg: BackendConfig, limit: usize) -> Self {
        let client = match &cfg.tls {
            None => Client::Plain,
            Some(tls) => Client::Tls(trusting(tls.certificate()), localhost()),
        };
        let log = SharedLog::default();
        let mut writer = log.clone();
        let handle = thread::spawn(move || run_limited(&cfg, &mut writer, limit));
        let mut backend = Backend {
            addr: "0.0.0.0:0".parse().unwrap(),
            log,
            handle,
            client,
        };
        let listening = backend.wait_event("listening");
        assert_eq!(listening["tls"], matches!(backend.client, Client::Tls(..)));
        backend.addr = listening["addr"].as_str().unwrap().parse().unwrap();
        backend
    }

    fn connect(&self) -> io::Result<Box<dyn Stream>> {
        self.client.connect(self.addr)
    }

    fn send(&self, raw: &str) -> io::Result<Response> {
        let mut stream = self.connect()?;
        stream.write_all(raw.as_bytes())?;
        read_response(&mut stream, raw.starts_with("HEAD"))
    }

    fn get(&self, path: &str) -> io::Result<Response> {
        self.send(&format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
    }

    fn admin_shutdown(&self) -> Response {
        let raw = "POST /admin/shutdown HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        self.send(raw).unwrap()
    }

    fn events(&self) -> Vec<Value> {
        Backend::parse(&self.log)
    }

    fn parse(log: &SharedLog) -> Vec<Value> {
        let bytes = lock(&log.0).clone();
        let text = String::from_utf8(bytes).expect("log is UTF-8");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("log line is JSON"))
            .collect()
    }

    fn wait_event(&self, name: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.events().into_iter().find(|e| e["event"] == name) {
                return e;
            }
            assert!(Instant::now() < deadline, "no {name} event in time");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn finish(self) -> Vec<Value> {
        let events = SharedLog::clone(&self.log);
        self.handle.join().unwrap().unwrap();
        Backend::parse(&events)
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// Reads one response with a Content-Length body from a stream.
fn read_response<R: Read + ?Sized>(stream: &mut R, head_only: bool) -> io::Result<Response> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0; if head_only { 0 } else { len }];
    stream.read_exact(&mut body)?;
    let body = String::from_utf8(body).unwrap();
    Ok(Response { status, head, body })
}

fn mono(event: &Value) -> u64 {
    event["mono_us"].as_u64().unwrap()
}

fn find<'a>(events: &'a [Value], name: &str) -> &'a Value {
    events.iter().find(|e| e["event"] == name).unwrap()
}

fn requests<'a>(events: &'a [Value], path: &'a str) -> impl Iterator<Item = &'a Value> {
    events
        .iter()
        .filter(move |e| e["event"] == "request" && e["path"] == path)
}

fn serves_all_endpoints_before_the_trigger(tls: bool) {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 0, 0, 0), tls);
    for path in ["/readyz", "/healthz", "/livez"] {
        let r = backend.get(path).unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"), "{path}");
        assert!(r.head.contains("Connection: close"));
    }
    for path in ["/", "/data", "/data?sleep=5"] {
        assert_eq!(backend.get(path).unwrap().status, 200, "{path}");
    }
    assert_eq!(backend.get("/nope").unwrap().status, 404);
    assert!(backend.events().iter().all(|e| e["event"] != "trigger"));
    assert_eq!(backend.admin_shutdown().status, 202);
    let events = backend.finish();
    let readyz = requests(&events, "/readyz").next().unwrap();
    assert_eq!(readyz["method"], "GET");
    assert_eq!(readyz["status"], 200);
    assert_eq!(readyz["phase"], "ready");
    assert!(readyz["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
}

fn error_mode_fails_readyz_after_e2_while_healthz_stays_up(tls: bool) {
    let _g = shared_guard();
    // /healthz and /livez must be asked between E2 (150 ms) and E3: a 2 s delay leaves room for a
    // loaded CI machine (a 300 ms one failed once with every core busy).
    let backend = Backend::start_over(config(Trigger::Admin, 150, 2_000, 20), tls);
    let t0 = Instant::now();
    assert_eq!(backend.admin_shutdown().status, 202);
    let failed_at = loop {
        let r = backend.get("/readyz").unwrap();
        if r.status != 200 {
            assert_eq!(r.status, 500);
            assert!(r.body.contains("readyz check failed"));
            break t0.elapsed();
        }
        assert!(t0.elapsed() < WAIT);
        thread::sleep(Duration::from_millis(5));
    };
    assert!(failed_at >= Duration::from_millis(150), "{failed_at:?}");
    assert_eq!(backend.get("/healthz").unwrap().status, 200);
    assert_eq!(backend.get("/livez").unwrap().status, 200);
    let events = backend.finish();
    let last_ready = requests(&events, "/readyz").find(|e| e["status"] == 500);
    assert_eq!(last_ready.unwrap()["phase"], "readyz_failing");
    let healthz = requests(&events, "/healthz").last().unwrap();
    assert_eq!(healthz["phase"], "readyz_failing");
}

fn timeout_mode_accepts_readyz_but_never_answers(tls: bool) {
    let _g = shared_guard();
    let mut cfg = config(Trigger::Admin, 0, 600, 20);
    cfg.readyz_failure = ReadyzFailure::Timeout;
    let backend = Backend::start_over(cfg, tls);
    backend.admin_shutdown();
    backend.wait_event("readyz_failing");
    let mut stream = backend.connect().unwrap();
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    stream.tcp().set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).expect_err("readyz must not answer");
    assert!(matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ));
    let events = backend.events();
    let hung = requests(&events, "/readyz").next().unwrap();
    assert!(hung["status"].is_null());
    assert_eq!(hung["phase"], "readyz_failing");
    assert_eq!(backend.get("/healthz").unwrap().status, 200);
    let events = backend.finish();
    assert!(find(&events, "exit")["open_connections"].as_u64().unwrap() >= 1);
    stream.tcp().set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(stream.read(&mut buf).unwrap(), 0, "held connection closes after E4");
}

fn healthz_answers_until_e3_then_connections_are_refused(tls: bool) {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 50, 100, 100), tls);
    let t0 = Instant::now();
    backend.admin_shutdown();
    let mut statuses = Vec::new();
    let refused_at = loop {
        match backend.get("/healthz") {
            Ok(r) => statuses.push(r.status),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => break t0.elapsed(),
            Err(_) => statuses.push(0),
        }
        assert!(t0.elapsed() < WAIT);
        thread::sleep(Duration::from_millis(2));
    };
    assert!(refused_at >= Duration::from_millis(150), "{refused_at:?}");
    let (last, before) = statuses.split_last().unwrap();
    assert!(before.iter().all(|&s| s == 200), "{statuses:?}");
    assert!([200, 503, 0].contains(last), "{statuses:?}");
    backend.wait_event("stopped_listening");
    for _ in 0..3 {
        let err = backend.connect().expect_err("listener is closed after E3");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
    backend.finish();
}

fn keep_alive_requests_after_e3_get_503_and_close(tls: bool) {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 0, 50, 300), tls);
    let mut stream = backend.connect().unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    stream.write_all(request).unwrap();
    let r = read_response(&mut stream, false).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.head.contains("Connection: keep-alive"));
    backend.admin_shutdown();
    backend.wait_event("stopped_listening");
    stream.write_all(request).unwrap();
    let r = read_response(&mut stream, false).unwrap();
    assert_eq!(r.status, 503);
    assert!(r.head.contains("Connection: close"));
    assert_eq!(stream.read(&mut [0u8; 16]).unwrap(), 0);
    let events = backend.finish();
    let last = requests(&events, "/healthz").last().unwrap();
    assert_eq!(
        (last["status"].as_u64(), last["phase"].as_str()),
        (Some(503), Some("stopped"))
    );
}

fn in_flight_request_started_before_e3_completes_after_it(tls: bool) {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 0, 100, 700), tls);
    let mut stream = backend.connect().unwrap();
    let sent = Instant::now();
    stream
        .write_all(b"GET /data?sleep=400 HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let log = backend.log.clone();
    let in_flight = thread::spawn(move || {
        let r = read_response(&mut stream, false).unwrap();
        let stopped_before = String::from_utf8(lock(&log.0).clone())
            .unwrap()
            .contains("\"stopped_listening\"");
        (r, sent.elapsed(), stopped_before)
    });
    while requests(&backend.events(), "/data").next().is_none() {
        thread::sleep(Duration::from_millis(1));
    }
    backend.admin_shutdown();
    let (r, took, stopped_before) = in_flight.join().unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "graceline backend data\n"));
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(stopped_before, "the response must arrive after E3");
    let events = backend.finish();
    assert_eq!(requests(&events, "/data").next().unwrap()["phase"], "ready");
}

#[test]
fn run_returns_after_request_grace_even_with_open_connections() {
    let _g = shared_guard();
    let backend = Backend::start(config(Trigger::Admin, 50, 50, 150));
    let mut slow = backend.connect().unwrap();
    slow.write_all(b"GET /data?sleep=5000 HTTP/1.1\r\n\r\n").unwrap();
    let _idle = backend.connect().unwrap();
    let t0 = Instant::now();
    backend.admin_shutdown();
    let events = backend.finish();
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    let exit = find(&events, "exit");
    assert!(exit["open_connections"].as_u64().unwrap() >= 1);
    let trigger = find(&events, "trigger");
    assert!(mono(exit) - mono(trigger) >= 250_000);
}

#[test]
fn log_lines_are_ordered_json_with_exact_phase_offsets() {
    let _g = shared_guard();
    let backend = Backend::start(config(Trigger::Admin, 100, 60, 40));
    backend.get("/readyz").unwrap();
    backend.admin_shutdown();
    let events = backend.finish();
    let mut last = 0;
    for e in &events {
        assert!(e["t_us"].as_u64().unwrap() > 1_600_000_000_000_000);
        assert!(mono(e) >= last, "mono_us decreased at {e}");
        last = mono(e);
    }
    let order: Vec<_> = events
        .iter()
        .filter(|e| e["event"] != "request")
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["listening", "trigger", "readyz_failing", "stopped_listening", "exit"]
    );
    assert_eq!(events.last().unwrap()["event"], "exit");
    let trigger = mono(find(&events, "trigger"));
    let offsets = [
        ("readyz_failing", 100_000),
        ("stopped_listening", 160_000),
        ("exit", 200_000),
    ];
    for (name, expected) in offsets {
        let offset = mono(find(&events, name)) - trigger;
        assert!(offset >= expected, "{name} at +{offset}us");
        assert!(offset < expected + 250_000, "{name} at +{offset}us");
    }
    assert_eq!(find(&events, "trigger")["source"], "admin");
    assert_eq!(find(&events, "readyz_failing")["mode"], "error");
}

#[test]
fn admin_endpoint_triggers_once_and_requires_post() {
    let _g = shared_guard();
    let backend = Backend::start(config(Trigger::Admin, 300, 50, 20));
    let r = backend.get("/admin/shutdown").unwrap();
    assert_eq!(r.status, 405);
    assert!(r.head.contains("Allow: POST"));
    assert!(backend.events().iter().all(|e| e["event"] != "trigger"));
    assert_eq!(backend.admin_shutdown().status, 202);
    assert_eq!(backend.admin_shutdown().status, 202);
    let events = backend.finish();
    let triggers: Vec<_> = events.iter().filter(|e| e["event"] == "trigger").collect();
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0]["source"], "admin");
    let admin = requests(&events, "/admin/shutdown").next().unwrap();
    assert!(mono(admin) <= mono(triggers[0]), "request is logged before its trigger");
}

#[test]
fn schedule_trigger_fires_after_its_delay() {
    let _g = shared_guard();
    let after = Trigger::After(Duration::from_millis(100));
    let backend = Backend::start(config(after, 20, 20, 20));
    assert_eq!(backend.get("/readyz").unwrap().status, 200);
    let events = backend.finish();
    let trigger = find(&events, "trigger");
    assert_eq!(trigger["source"], "schedule");
    assert!(mono(trigger) >= 100_000);
    assert!(mono(find(&events, "exit")) - mono(trigger) >= 60_000);
}

#[test]
fn signal_trigger_starts_the_shutdown() {
    let _exclusive = SIGNALS.write().unwrap_or_else(PoisonError::into_inner);
    let backend = Backend::start(config(Trigger::Signal, 10, 10, 10));
    signal_hook::low_level::raise(SIGTERM).unwrap();
    let events = backend.finish();
    assert_eq!(find(&events, "trigger")["source"], "signal");
}

#[test]
fn malformed_and_oversized_requests_get_errors_without_panicking() {
    let _g = shared_guard();
    let backend = Backend::start(config(Trigger::Admin, 0, 0, 0));
    let garbage = backend.send("\x00\x01\x7fgarbage\r\n\r\n").unwrap();
    assert_eq!(garbage.status, 400);
    assert!(garbage.head.contains("Connection: close"));
    assert_eq!(backend.send("GET / HTTP/9.9\r\n\r\n").unwrap().status, 400);
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(70 * 1024));
    assert_eq!(backend.send(&huge).unwrap().status, 431);
    let huge_complete = format!("{huge}\r\n");
    assert_eq!(backend.send(&huge_complete).unwrap().status, 431);
    let too_long = "POST /data HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
    assert_eq!(backend.send(too_long).unwrap().status, 413);
    drop(backend.connect().unwrap());
    let mut half = backend.connect().unwrap();
    half.write_all(b"GET /heal").unwrap();
    drop(half);
    assert_eq!(backend.get("/healthz").unwrap().status, 200);
    backend.admin_shutdown();
    let events = backend.finish();
    let rejected = events.iter().filter(|e| e["event"] == "request");
    let statuses: Vec<_> = rejected.map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(&statuses[..5], [400, 400, 431, 431, 413]);
}

fn keep_alive_pipelining_bodies_head_and_http10(tls: bool) {
    let _g = shared_guard();
    let mut cfg = config(Trigger::Admin, 0, 0, 200);
    cfg.response_delay = Duration::from_millis(30);
    let backend = Backend::start_over(cfg, tls);
    let mut stream = backend.connect().unwrap();
    let t0 = Instant::now();
    stream
        .write_all(
            b"POST /data HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\r\n\
              HEAD /data HTTP/1.1\r\n\r\nGET /livez HTTP/1.1\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let first = read_response(&mut stream, false).unwrap();
    assert_eq!((first.status, first.body.as_str()), (200, "graceline backend data\n"));
    let head = read_response(&mut stream, true).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.head.contains("Content-Length: 23"));
    let last = read_response(&mut stream, false).unwrap();
    assert_eq!((last.status, last.body.as_str()), (200, "ok\n"));
    assert!(t0.elapsed() >= Duration::from_millis(90), "response_delay applies");
    assert_eq!(stream.read(&mut [0u8; 16]).unwrap(), 0);
    let old = backend.send("GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    assert!(old.head.contains("Connection: close"));
    backend.admin_shutdown();
    let events = backend.finish();
    let methods: Vec<_> = requests(&events, "/data").map(|e| e["method"].clone()).collect();
    assert_eq!(methods, ["POST", "HEAD"]);
}

#[test]
fn connections_beyond_the_limit_are_closed() {
    let _g = shared_guard();
    let backend = Backend::start_limited(config(Trigger::Admin, 0, 0, 0), 2);
    let first = backend.connect().unwrap();
    let second = backend.connect().unwrap();
    thread::sleep(Duration::from_millis(50));
    let mut third = backend.connect().unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\n\r\n").ok();
    assert!(matches!(third.read(&mut [0u8; 16]), Ok(0) | Err(_)));
    drop((first, second));
    let deadline = Instant::now() + WAIT;
    while backend.get("/healthz").map(|r| r.status).ok() != Some(200) {
        assert!(Instant::now() < deadline, "slots are freed when connections close");
        thread::sleep(Duration::from_millis(10));
    }
    backend.admin_shutdown();
    backend.finish();
}

#[test]
fn bind_failure_is_an_error() {
    let _g = shared_guard();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = config(Trigger::Admin, 0, 0, 0);
    cfg.listen = taken.local_addr().unwrap();
    let err = run(&cfg, &mut io::sink()).unwrap_err();
    assert!(format!("{err:#}").contains("binding"));
}

fn handshake_failures(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "tls_handshake_failed").collect()
}

#[test]
fn self_signed_backend_verifies_for_its_names_only() {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 0, 0, 0), true);
    let Client::Tls(trust, _) = backend.client.clone() else {
        panic!("the backend serves HTTPS");
    };
    for name in ["localhost", "127.0.0.1", "::1"] {
        let client = Client::Tls(Arc::clone(&trust), ServerName::try_from(name.to_owned()).unwrap());
        let mut stream = client.connect(backend.addr).unwrap();
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut stream, false).unwrap().status, 200, "{name}");
    }
    let wrong = Client::Tls(trust, ServerName::try_from("example.com").unwrap());
    let err = wrong
        .connect(backend.addr)
        .expect_err("the name is not in the certificate");
    assert!(err.to_string().contains("not valid for name \"example.com\""), "{err}");
    assert_eq!(backend.get("/healthz").unwrap().status, 200);
    backend.admin_shutdown();
    let events = backend.finish();
    let failed = handshake_failures(&events);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("BadCertificate"),
        "{}",
        failed[0]
    );
    assert_eq!(requests(&events, "/readyz").count(), 3);
}

#[test]
fn plain_http_and_tcp_checks_on_the_tls_port_are_logged_and_harmless() {
    let _g = shared_guard();
    let backend = Backend::start_over(config(Trigger::Admin, 0, 0, 0), true);
    let mut plain = TcpStream::connect(backend.addr).unwrap();
    plain.set_read_timeout(Some(WAIT)).unwrap();
    plain.write_all(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        answer.first().is_none_or(|&b| b == 0x15),
        "at most a TLS alert record: {answer:?}"
    );
    drop(TcpStream::connect(backend.addr).unwrap());
    let deadline = Instant::now() + WAIT;
    while handshake_failures(&backend.events()).len() < 2 {
        assert!(Instant::now() < deadline, "both failures are logged");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(backend.get("/readyz").unwrap().status, 200);
    backend.admin_shutdown();
    let events = backend.finish();
    let failed = handshake_failures(&events);
    assert_eq!(failed.len(), 2, "{failed:?}");
    for e in &failed {
        assert!(e["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
        assert_eq!(e["phase"], "ready");
        assert!(e["t_us"].as_u64().is_some() && e["mono_us"].as_u64().is_some());
    }
    assert!(
        failed[0]["error"].as_str().unwrap().contains("corrupt message"),
        "{}",
        failed[0]
    );
    assert_eq!(failed[1]["error"], "connection closed during the handshake");
    let readyz: Vec<_> = requests(&events, "/readyz").collect();
    assert_eq!(readyz.len(), 1, "plain HTTP never reaches the HTTP code");
    assert_eq!(readyz[0]["status"], 200);
}

#[test]
fn user_certificate_from_pem_files_is_served() {
    let _g = shared_guard();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let tls = Tls::from_pem_files(&dir.join("cert.pem"), &dir.join("key.pem")).unwrap();
    let mut cfg = config(Trigger::Admin, 0, 0, 0);
    cfg.tls = Some(tls);
    let backend = Backend::start(cfg);
    assert_eq!(backend.get("/readyz").unwrap().status, 200);
    backend.admin_shutdown();
    backend.finish();
}
