//! Minimal HTTP/1.x connection handling: request heads, keep-alive, routing and responses.
//! It is generic over the byte stream, so plain TCP and TLS connections share every line of it.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::{Event, Phase, ReadyzFailure, Shared, TriggerSource};

/// Largest accepted request head; larger ones get 431.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body that is read and skipped; larger ones get 413.
const MAX_BODY: usize = 1024 * 1024;
/// Read timeout used to poll for the end of the run while waiting for bytes.
const READ_POLL: Duration = Duration::from_millis(50);
/// How long a connection may wait for a complete request (or TLS handshake) before it is closed.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest time a response write may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long unread input is drained before closing after an error response.
const LINGER: Duration = Duration::from_millis(100);
/// Cap on `?sleep=` plus the configured response delay.
const MAX_PAUSE: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest method or path written to the log.
const MAX_LOGGED: usize = 512;

const OK_BODY: &str = "ok\n";
const DATA_BODY: &str = "graceline backend data\n";
const READYZ_FAILED_BODY: &str = "[-]shutdown failed: process is shutting down\nreadyz check failed\n";
const SHUTTING_DOWN_BODY: &str = "server is shutting down\n";

/// A connection's byte stream: plain TCP or TLS over TCP.
pub(super) trait Transport: Read + Write {
    /// Ends the sending direction (TLS: `close_notify`, then TCP FIN) while reads go on.
    fn close_write(&mut self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn close_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// Sets the socket options every connection needs: no Nagle delay, blocking reads that wake every
/// [`READ_POLL`] to notice the end of the run, and bounded writes.
pub(super) fn prepare(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let _ = stream.set_nodelay(true);
    stream.set_read_timeout(Some(READ_POLL))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))
}

/// Serves requests on one prepared connection until it closes, fails, or the run is over.
pub(super) fn serve<S: Transport>(stream: S, peer: SocketAddr, shared: &Shared) {
    let mut conn = Conn {
        stream,
        peer,
        buf: Vec::new(),
        scanned: 0,
        write_closed: false,
    };
    while conn.serve_one(shared) {}
    conn.close_write();
}

/// Outcome of waiting for a request head.
enum Head {
    /// The head is `buf[..end]`.
    Complete(usize),
    TooLarge,
    Closed,
}

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    path: String,
    query: String,
    keep_alive: bool,
    content_length: usize,
    chunked: bool,
}

/// What to answer, decided at arrival from the phase.
#[derive(Debug, PartialEq, Eq)]
struct Reply {
    /// `None` means never answer and hold the connection.
    status: Option<u16>,
    body: &'static str,
    close: bool,
    allow: Option<&'static str>,
    trigger: bool,
    sleep: Duration,
}

impl Reply {
    fn new(status: u16, body: &'static str) -> Self {
        Reply {
            status: Some(status),
            body,
            close: false,
            allow: None,
            trigger: false,
            sleep: Duration::ZERO,
        }
    }
}

struct Conn<S> {
    stream: S,
    peer: SocketAddr,
    buf: Vec<u8>,
    scanned: usize,
    write_closed: bool,
}

impl<S: Transport> Conn<S> {
    /// Reads, answers and logs one request; returns whether to keep the connection.
    fn serve_one(&mut self, shared: &Shared) -> bool {
        let end = match self.read_head(shared) {
            Head::Complete(end) if end <= MAX_HEAD => end,
            Head::Complete(_) | Head::TooLarge => {
                self.reject(shared, 431, None);
                return false;
            }
            Head::Closed => return false,
        };
        let Some(req) = parse_head(&self.buf[..end]) else {
            self.reject(shared, 400, None);
            return false;
        };
        if req.content_length > MAX_BODY {
            self.reject(shared, 413, Some(&req));
            return false;
        }
        let total = end + req.content_length;
        let since = Instant::now();
        while self.buf.len() < total {
            if !self.read_more(shared, Some(since)) {
                return false;
            }
        }
        self.buf.drain(..total);
        self.scanned = 0;

        let (_, reply) = shared.record(|phase| {
            if phase == Phase::Done {
                return (None, None);
            }
            let reply = route(&req, phase, shared.readyz_failure);
            (Some(self.request_event(Some(&req), reply.status, phase)), Some(reply))
        });
        let Some(reply) = reply else {
            return false;
        };
        if reply.trigger {
            shared.trigger(TriggerSource::Admin);
        }
        let Some(status) = reply.status else {
            self.hold(shared);
            return false;
        };
        if !pause(shared, shared.response_delay.saturating_add(reply.sleep)) {
            return false;
        }
        let keep_alive = req.keep_alive && !req.chunked && !reply.close;
        let body = if req.method == "HEAD" { "" } else { reply.body };
        let head = response_head(status, reply.body.len(), keep_alive, reply.allow);
        let sent = self
            .stream
            .write_all(format!("{head}{body}").as_bytes())
            .and_then(|()| self.stream.flush());
        sent.is_ok() && keep_alive
    }

    /// Waits until `buf` holds a complete request head.
    fn read_head(&mut self, shared: &Shared) -> Head {
        let since = Instant::now();
        loop {
            if self.scanned == 0 {
                let blank = self.buf.iter().take_while(|b| matches!(b, b'\r' | b'\n'));
                let blank = blank.count();
                self.buf.drain(..blank);
            }
            if let Some(end) = head_end(&self.buf, self.scanned) {
                return Head::Complete(end);
            }
            if self.buf.len() > MAX_HEAD {
                return Head::TooLarge;
            }
            self.scanned = self.buf.len().saturating_sub(2);
            if !self.read_more(shared, Some(since)) {
                return Head::Closed;
            }
        }
    }

    /// Appends the next bytes to `buf`; false on EOF, error, idle timeout or end of the run.
    fn read_more(&mut self, shared: &Shared, idle_since: Option<Instant>) -> bool {
        let mut chunk = [0u8; 8192];
        loop {
            if shared.phase() == Phase::Done || idle_since.is_some_and(|since| since.elapsed() >= IDLE_TIMEOUT) {
                return false;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return false,
            }
        }
    }

    /// Keeps the connection open without answering until the peer leaves or the run ends.
    fn hold(&mut self, shared: &Shared) {
        while self.read_more(shared, None) {
            self.buf.clear();
        }
    }

    /// Logs and answers an unusable request with `status`, then closes gracefully.
    fn reject(&mut self, shared: &Shared, status: u16, req: Option<&Request>) {
        let (_, live) = shared.record(|phase| {
            if phase == Phase::Done {
                return (None, false);
            }
            (Some(self.request_event(req, Some(status), phase)), true)
        });
        if !live {
            return;
        }
        let body = reason(status);
        let head = response_head(status, body.len(), false, None);
        if self.stream.write_all(format!("{head}{body}").as_bytes()).is_err() {
            return;
        }
        self.close_write();
        let until = Instant::now() + LINGER;
        let mut sink = [0u8; 8192];
        let mut drained = 0;
        while Instant::now() < until && drained < MAX_BODY {
            match self.stream.read(&mut sink) {
                Ok(0) => return,
                Ok(n) => drained += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Ends the sending direction once; errors are moot as the connection is over.
    fn close_write(&mut self) {
        if !self.write_closed {
            self.write_closed = true;
            let _ = self.stream.close_write();
        }
    }

    fn request_event(&self, req: Option<&Request>, status: Option<u16>, phase: Phase) -> Event {
        Event::Request {
            method: req.map(|r| clip(&r.method)),
            path: req.map(|r| clip(&r.path)),
            peer: self.peer,
            status,
            phase,
        }
    }
}

/// Decides the answer to a request arriving in `phase`.
fn route(req: &Request, phase: Phase, failure: ReadyzFailure) -> Reply {
    if phase != Phase::Ready && phase != Phase::ReadyzFailing {
        return Reply {
            close: true,
            ..Reply::new(503, SHUTTING_DOWN_BODY)
        };
    }
    match req.path.as_str() {
        "/readyz" if phase == Phase::Ready => Reply::new(200, OK_BODY),
        "/readyz" => match failure {
            ReadyzFailure::Error => Reply::new(500, READYZ_FAILED_BODY),
            ReadyzFailure::Timeout => Reply {
                status: None,
                ..Reply::new(0, "")
            },
        },
        "/healthz" | "/livez" => Reply::new(200, OK_BODY),
        "/" | "/data" => Reply {
            sleep: sleep_param(&req.query),
            ..Reply::new(200, DATA_BODY)
        },
        "/admin/shutdown" if req.method == "POST" => Reply {
            trigger: true,
            ..Reply::new(202, "shutdown triggered\n")
        },
        "/admin/shutdown" => Reply {
            allow: Some("POST"),
            ..Reply::new(405, "method not allowed\n")
        },
        _ => Reply::new(404, "not found\n"),
    }
}

/// The `sleep=<ms>` query parameter, if present and valid.
fn sleep_param(query: &str) -> Duration {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("sleep="))
        .and_then(|ms| ms.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_millis)
}

/// Sleeps for `total` (capped), giving up early when the run ends; returns whether it completed.
fn pause(shared: &Shared, total: Duration) -> bool {
    let Some(end) = Instant::now().checked_add(total.min(MAX_PAUSE)) else {
        return false;
    };
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        if shared.phase() == Phase::Done {
            return false;
        }
        thread::sleep(left.min(READ_POLL));
    }
}

/// Index just past the blank line ending a head, searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| match buf[i..] {
        [b'\n', b'\n', ..] => Some(i + 2),
        [b'\n', b'\r', b'\n', ..] => Some(i + 3),
        _ => None,
    })
}

/// Parses a request line and headers; `None` for anything malformed.
fn parse_head(head: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let valid_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_graphic());
    let valid_target = !target.is_empty() && !target.bytes().any(|b| b.is_ascii_control());
    if parts.next().is_some() || !valid_method || !valid_target {
        return None;
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let (mut close, mut keep, mut length, mut chunked) = (false, false, None, false);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: usize = value.parse().ok()?;
            if length.is_some_and(|l| l != n) {
                return None;
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                close |= token.eq_ignore_ascii_case("close");
                keep |= token.eq_ignore_ascii_case("keep-alive");
            }
        }
    }
    if chunked && length.is_some() {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        keep_alive: !close && (!http10 || keep),
        content_length: length.unwrap_or(0),
        chunked,
    })
}

/// Status line and headers of a plain-text response.
fn response_head(status: u16, len: usize, keep_alive: bool, allow: Option<&str>) -> String {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let allow = allow.map_or(String::new(), |a| format!("Allow: {a}\r\n"));
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {len}\r\nConnection: {connection}\r\n{allow}\r\n",
        reason(status)
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// At most [`MAX_LOGGED`] characters of `s`.
fn clip(s: &str) -> String {
    s.chars().take(MAX_LOGGED).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_finds_crlf_and_lf_terminators() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n", 0), None);
        assert_eq!(head_end(b"", 0), None);
    }

    #[test]
    fn parse_head_reads_method_path_query_and_connection() {
        let req = parse_head(b"GET /data?sleep=20&x=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/data");
        assert_eq!(sleep_param(&req.query), Duration::from_millis(20));
        assert!(req.keep_alive);
        let req = parse_head(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(!req.keep_alive);
        let req = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!req.keep_alive);
        let req = parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(req.keep_alive);
        let req = parse_head(b"POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\n").unwrap();
        assert_eq!(req.content_length, 12);
    }

    #[test]
    fn parse_head_rejects_malformed_heads() {
        for bad in [
            &b"\x00\x01\x02garbage\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn sleep_param_ignores_invalid_values() {
        assert_eq!(sleep_param(""), Duration::ZERO);
        assert_eq!(sleep_param("sleep=abc"), Duration::ZERO);
        assert_eq!(sleep_param("a=1&sleep=7"), Duration::from_millis(7));
    }

    #[test]
    fn route_follows_the_phases() {
        let get = |path: &str| parse_head(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes());
        let readyz = get("/readyz").unwrap();
        let healthz = get("/healthz").unwrap();
        let err = ReadyzFailure::Error;
        assert_eq!(route(&readyz, Phase::Ready, err).status, Some(200));
        assert_eq!(route(&readyz, Phase::ReadyzFailing, err).status, Some(500));
        let hang = route(&readyz, Phase::ReadyzFailing, ReadyzFailure::Timeout);
        assert_eq!(hang.status, None);
        assert_eq!(route(&healthz, Phase::ReadyzFailing, err).status, Some(200));
        let stopped = route(&healthz, Phase::Stopped, err);
        assert_eq!((stopped.status, stopped.close), (Some(503), true));
        assert_eq!(route(&get("/nope").unwrap(), Phase::Ready, err).status, Some(404));
        let admin = parse_head(b"POST /admin/shutdown HTTP/1.1\r\n\r\n").unwrap();
        let reply = route(&admin, Phase::Ready, err);
        assert_eq!((reply.status, reply.trigger), (Some(202), true));
        let reply = route(&get("/admin/shutdown").unwrap(), Phase::Ready, err);
        assert_eq!((reply.status, reply.trigger), (Some(405), false));
    }
}
