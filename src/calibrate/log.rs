//! Reading the logs `calibrate` compares: the backend's JSON lines and HAProxy's own log.

use crate::error::{InputError, Loc};
use crate::timeline::ReadyzFailure;
use serde_json::Value;

/// One event of a `graceline backend` log; `t_us` is wall-clock microseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendEvent {
    /// 1-based line in the log.
    pub line: u32,
    /// Wall-clock microseconds since the Unix epoch.
    pub t_us: i64,
    /// What happened.
    pub kind: EventKind,
}

/// Kinds of backend events that calibration uses (others are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A backend run started listening (each restart appends a new run to the same log).
    Listening,
    /// E2: `/readyz` started failing in this mode.
    ReadyzFailing(ReadyzFailure),
    /// E3: the listener closed.
    StoppedListening,
    /// A request arrived (health probes and data requests alike).
    Request {
        /// Path without the query.
        path: String,
    },
    /// Any other event (trigger, exit).
    Other,
}

fn loc(file: &str, line: u32, column: u32) -> Loc {
    Loc {
        file: file.to_string(),
        line,
        column,
    }
}

/// Parses a backend log; a malformed line is an error naming its line, column and field.
pub fn parse_backend_log(file: &str, text: &str) -> Result<Vec<BackendEvent>, InputError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(raw).map_err(|e| {
            InputError::new(
                loc(file, line, e.column() as u32),
                "",
                format!("not a JSON log line: {e}"),
            )
        })?;
        let column = |key: &str| raw.find(&format!("\"{key}\"")).map_or(1, |p| p as u32 + 1);
        let t_us = v
            .get("t_us")
            .and_then(Value::as_i64)
            .ok_or_else(|| InputError::new(loc(file, line, column("t_us")), "t_us", "missing or not an integer"))?;
        let event = v
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| InputError::new(loc(file, line, column("event")), "event", "missing or not a string"))?;
        let kind = match event {
            "listening" => EventKind::Listening,
            "readyz_failing" => match v.get("mode").and_then(Value::as_str) {
                Some("error") => EventKind::ReadyzFailing(ReadyzFailure::Error),
                Some("timeout") => EventKind::ReadyzFailing(ReadyzFailure::Timeout),
                _ => {
                    return Err(InputError::new(
                        loc(file, line, column("mode")),
                        "mode",
                        "must be \"error\" or \"timeout\"",
                    ))
                }
            },
            "stopped_listening" => EventKind::StoppedListening,
            "request" => EventKind::Request {
                path: v.get("path").and_then(Value::as_str).unwrap_or("").to_string(),
            },
            _ => EventKind::Other,
        };
        out.push(BackendEvent { line, t_us, kind });
    }
    Ok(out)
}

/// One shutdown found in a backend log: E2, E3 if logged, and the end of its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shutdown {
    /// Line of the `readyz_failing` event.
    pub line: u32,
    /// E2, wall-clock microseconds.
    pub e2: i64,
    /// E3, if the run logged it.
    pub e3: Option<i64>,
    /// How `/readyz` failed.
    pub mode: ReadyzFailure,
    /// Last instant covered by this shutdown's observation: the next run's start, or the log's last line.
    pub until: i64,
}

/// Every shutdown in a log (one per `readyz_failing`), in order.
pub fn shutdowns(events: &[BackendEvent]) -> Vec<Shutdown> {
    let end = events.iter().map(|e| e.t_us).max().unwrap_or(0);
    let mut out: Vec<Shutdown> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let EventKind::ReadyzFailing(mode) = e.kind {
            let rest = &events[i + 1..];
            let next_run = rest.iter().position(|x| x.kind == EventKind::Listening);
            let run = &rest[..next_run.unwrap_or(rest.len())];
            let e3 = run
                .iter()
                .find(|x| x.kind == EventKind::StoppedListening)
                .map(|x| x.t_us);
            let until = next_run.map_or(end, |p| rest[p].t_us);
            out.push(Shutdown {
                line: e.line,
                e2: e.t_us,
                e3,
                mode,
                until,
            });
        }
    }
    out
}

/// An HAProxy "Server B/S is DOWN" log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownLine {
    /// 1-based line in the log.
    pub line: u32,
    /// Wall-clock microseconds since the Unix epoch.
    pub t_us: i64,
    /// `backend/server`.
    pub server: String,
}

/// Finds the "Server B/S is DOWN" lines of an HAProxy log written with microsecond timestamps
/// (`log ... format iso` or `format rfc5424`); other lines are skipped.
pub fn parse_haproxy_log(file: &str, text: &str) -> Result<Vec<DownLine>, InputError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let Some(at) = raw.find("Server ") else { continue };
        let rest = &raw[at + 7..];
        let Some((server, tail)) = rest.split_once(' ') else {
            continue;
        };
        if !(tail.starts_with("is DOWN") && server.contains('/')) {
            continue;
        }
        let t_us = raw[..at]
            .split_whitespace()
            .find_map(parse_iso_us)
            .ok_or_else(|| {
                InputError::new(
                    loc(file, line, 1),
                    "timestamp",
                    "no ISO-8601 timestamp with fractional seconds before \"Server\" (use `log ... format iso` or `format rfc5424`)",
                )
            })?;
        out.push(DownLine {
            line,
            t_us,
            server: server.to_string(),
        });
    }
    Ok(out)
}

/// Parses `YYYY-MM-DDTHH:MM:SS.ffffff` followed by `Z` or `±HH:MM` into Unix microseconds;
/// fractional seconds are required (a whole-second log cannot calibrate anything).
pub fn parse_iso_us(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let digits = s[20..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let frac = &s[20..20 + digits];
    let mut us: i64 = frac.get(..digits.min(6))?.parse().ok()?;
    for _ in digits..6 {
        us *= 10;
    }
    let zone = &s[20 + digits..];
    let offset = match zone.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let v = num(21 + digits..23 + digits)? * 3600 + num(24 + digits..26 + digits)? * 60;
            if *sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(secs * 1_000_000 + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_with_offsets() {
        assert_eq!(parse_iso_us("1970-01-01T00:00:00.000001Z"), Some(1));
        assert_eq!(
            parse_iso_us("2026-11-22T02:25:47.154655+00:00"),
            Some(1_795_314_347_154_655)
        );
        assert_eq!(
            parse_iso_us("2026-11-22T03:25:47.154655+01:00"),
            Some(1_795_314_347_154_655)
        );
        assert_eq!(parse_iso_us("2024-02-29T12:00:00.5Z"), Some(1_709_208_000_500_000));
        assert_eq!(parse_iso_us("2026-11-22T02:25:47+00:00"), None);
        assert_eq!(parse_iso_us("<134>1"), None);
        assert_eq!(parse_iso_us("2026-13-22T02:25:47.1Z"), None);
    }

    #[test]
    fn haproxy_down_lines_in_iso_and_rfc5424() {
        let text = "2026-11-22T02:25:47.154608+00:00 Health check for server be/srv failed, status: 0/2 DOWN.\n\
                    2026-11-22T02:25:47.154655+00:00 Server be/srv is DOWN. 0 active and 0 backup servers left.\n\
                    <129>1 2026-11-22T02:25:48.000001+00:00 host haproxy 77 - - Server be/other is DOWN, reason: x\n\
                    2026-11-22T02:25:49.000000+00:00 Server be/srv is UP\n";
        let d = parse_haproxy_log("h.log", text).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].line, d[0].t_us, d[0].server.as_str()),
            (2, 1_795_314_347_154_655, "be/srv")
        );
        assert_eq!(d[1].server, "be/other");
        let err = parse_haproxy_log("h.log", "[WARNING]  (1) : Server be/srv is DOWN.\n").unwrap_err();
        assert_eq!((err.loc.line, err.field.as_str()), (1, "timestamp"));
    }

    #[test]
    fn backend_runs_and_shutdowns() {
        let text = r#"{"t_us":100,"mono_us":0,"event":"listening","addr":"127.0.0.1:1"}
{"t_us":200,"mono_us":1,"event":"readyz_failing","mode":"error"}
{"t_us":250,"mono_us":1,"event":"request","method":"GET","path":"/readyz","peer":"127.0.0.1:2","status":500,"phase":"readyz_failing"}
{"t_us":300,"mono_us":2,"event":"stopped_listening"}
{"t_us":400,"mono_us":0,"event":"listening","addr":"127.0.0.1:1"}
{"t_us":500,"mono_us":1,"event":"readyz_failing","mode":"timeout"}
"#;
        let ev = parse_backend_log("b.log", text).unwrap();
        let s = shutdowns(&ev);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].e2, s[0].e3, s[0].until, s[0].line), (200, Some(300), 400, 2));
        assert_eq!((s[1].e2, s[1].e3, s[1].mode), (500, None, ReadyzFailure::Timeout));
        let err = parse_backend_log("b.log", "{\"t_us\":1}\n{\"t_us\":\"x\",\"event\":\"exit\"}\n").unwrap_err();
        assert_eq!((err.loc.line, err.field.as_str()), (1, "event"));
        let err = parse_backend_log("b.log", "{\"t_us\":\"x\",\"event\":\"exit\"}\n").unwrap_err();
        assert_eq!((err.loc.line, err.loc.column, err.field.as_str()), (1, 2, "t_us"));
        let err = parse_backend_log("b.log", "{oops\n").unwrap_err();
        assert_eq!(err.loc.line, 1);
    }
}
