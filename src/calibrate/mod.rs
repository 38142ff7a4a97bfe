//! `graceline calibrate`: detection times measured in a backend log (and an HAProxy log) next to
//! the model's exact `[t_best, t_worst]`.
//!
//! One measurement per shutdown (`readyz_failing` event, E2) in the backend log; a log may hold
//! several runs of the backend (restarts append). The instant the LB stopped routing is:
//! - with `--haproxy-log`: the first "Server B/S is DOWN" line at or after E2 and before the
//!   backend's next run. HAProxy removes the server from load balancing inside the check task
//!   that logs this line (src/server.c `srv_set_stopped()`), so it is compared with the model's
//!   detection time (no propagation).
//! - otherwise: the last data request (any path other than the probe paths and `/admin/*`) that
//!   reached the backend at or after E2 and before E3. That needs steady client traffic through the
//!   LB; the LB stopped routing within one inter-request gap `g` after it, so the measurement is
//!   compared with the model's full time (detection + propagation) widened by `g` below. If the
//!   last data request came within `2g` of E3, the LB was still routing at E3 and the measurement
//!   only says "at least the budget".
//!
//! The scenario gives the load balancer; the server's behaviour comes from the log: each shutdown
//! is modelled with its logged failure mode and its logged E3 − E2 (the scenario's values when the
//! log has no E3).

pub mod log;
pub mod paths;

use crate::analysis::exact::extremes;
use crate::output::term::{fit_painted, wrap_prose, Col, Paint, Term};
use crate::output::{secs, PlainFormat};
use crate::scenario::{self, LbSpec, Scenario};
use crate::time::Micros;
use crate::timeline::ReadyzFailure;
use anyhow::{anyhow, bail, Context, Result};
use log::{BackendEvent, DownLine, EventKind, Shutdown};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// How the instant the LB stopped routing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// HAProxy's "Server B/S is DOWN" log line.
    HaproxyDown,
    /// The last data request that reached the backend after E2.
    LastDataRequest,
}

/// One shutdown's measurement against the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// 1-based index of the shutdown in the log.
    pub index: usize,
    /// Line of its `readyz_failing` event.
    pub line: u32,
    /// E2, wall-clock microseconds since the Unix epoch.
    pub e2_unix_us: i64,
    /// Logged failure mode.
    pub mode: ReadyzFailure,
    /// E3 − E2 as logged.
    pub budget: Option<Micros>,
    /// From E2 until the LB stopped routing; `None` if the log does not show it.
    pub measured: Option<Micros>,
    /// True when the LB was still routing at E3 (last-data-request method): at least the budget.
    pub censored: bool,
    /// Model's best case for this shutdown.
    pub best: Micros,
    /// Model's worst case for this shutdown.
    pub worst: Micros,
    /// Extra slack below `best` (the inter-request gap for the last-data-request method).
    pub slack_below: Micros,
    /// Whether the measurement lies in `[best − tolerance − slack_below, worst + tolerance]`;
    /// `None` when nothing was measured and the observation window cannot rule it out.
    pub inside: Option<bool>,
    /// What else to know about this measurement.
    pub note: String,
    /// Model's detection range for this shutdown (best, worst), to separate propagation.
    pub detection: (Micros, Micros),
}

/// The propagation the measurements imply, as a range to paste (`propagation_delay = [lo, hi]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasuredPropagation {
    /// Smallest propagation consistent with every uncensored measurement.
    pub lo: Micros,
    /// Largest propagation consistent with them (the LB stopped within one request gap after the
    /// last data request, and detection took at least the model's best case).
    pub hi: Micros,
    /// True when some shutdown was still routing at E3: the real top may be higher.
    pub censored: bool,
}

/// Separates propagation from detection in last-data-request measurements: the LB stopped routing
/// in `[t, t + gap]` after E2 and detection took `[best, worst]`, so propagation lies in
/// `[t - worst, t + gap - best]` (clipped at 0); the range covers every shutdown. `None` without an
/// uncensored measurement (HAProxy's DOWN line measures detection only: HAProxy has none).
pub fn measured_propagation(ms: &[Measurement]) -> Option<MeasuredPropagation> {
    let mut out: Option<MeasuredPropagation> = None;
    for m in ms.iter().filter(|m| !m.censored) {
        let Some(t) = m.measured else { continue };
        let lo = (t - m.detection.1).max(Micros::ZERO);
        let hi = (t + m.slack_below - m.detection.0).max(lo);
        out = Some(match out {
            None => MeasuredPropagation {
                lo,
                hi,
                censored: false,
            },
            Some(o) => MeasuredPropagation {
                lo: o.lo.min(lo),
                hi: o.hi.max(hi),
                censored: false,
            },
        });
    }
    out.map(|mut o| {
        o.censored = ms.iter().any(|m| m.censored);
        o
    })
}

/// A duration in whole milliseconds, rounded down or up, in the form the loader reads.
fn paste_ms(m: Micros, up: bool) -> String {
    let ms = if up { (m.0 + 999) / 1_000 } else { m.0 / 1_000 };
    format!("{ms}ms")
}

/// The line to paste into the scenario's `[[lb]]` table (or a `[[check]]` of graceline.toml).
pub fn paste_line(p: &MeasuredPropagation) -> String {
    format!(
        "propagation_delay = [\"{}\", \"{}\"]",
        paste_ms(p.lo, false),
        paste_ms(p.hi, true)
    )
}

/// Measures every shutdown of `events` against `lb` of `sc`.
pub fn measure(
    sc: &Scenario,
    lb: &LbSpec,
    events: &[BackendEvent],
    downs: Option<&[DownLine]>,
    tolerance: Micros,
) -> Vec<Measurement> {
    let list = log::shutdowns(events);
    let probe_paths = [
        sc.server.readiness_path.as_str(),
        "/healthz",
        "/livez",
        lb.settings.path.as_ref().map_or("/", |p| p.value.as_str()),
    ];
    let is_data = |p: &str| !probe_paths.contains(&p) && !p.starts_with("/admin/");
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let (best, worst) = model_range(sc, lb, s, downs.is_some());
            let detection = model_range(sc, lb, s, true);
            let mut m = Measurement {
                index: i + 1,
                line: s.line,
                e2_unix_us: s.e2,
                mode: s.mode,
                budget: s.e3.map(|e3| Micros(e3 - s.e2)),
                measured: None,
                censored: false,
                best,
                worst,
                slack_below: Micros::ZERO,
                inside: None,
                note: String::new(),
                detection,
            };
            let end = list.get(i + 1).map_or(s.until, |n| n.e2.min(s.until));
            match downs {
                Some(d) => match d.iter().find(|x| x.t_us >= s.e2 && x.t_us < end.max(s.e2 + 1)) {
                    Some(x) => {
                        let t = Micros(x.t_us - s.e2);
                        m.measured = Some(t);
                        m.inside = Some(t >= best - tolerance && t <= worst + tolerance);
                        m.note = format!("DOWN at HAProxy log line {}", x.line);
                    }
                    None => {
                        let window = Micros(end - s.e2);
                        m.inside = (window > worst + tolerance).then_some(false);
                        m.note = format!("no DOWN line within {window} after E2");
                    }
                },
                None => {
                    let stop = s.e3.unwrap_or(end);
                    let data: Vec<i64> = events
                        .iter()
                        .filter(|e| matches!(&e.kind, EventKind::Request { path } if is_data(path)))
                        .map(|e| e.t_us)
                        .filter(|&t| t >= s.e2 - 1_000_000 && t < stop)
                        .collect();
                    let gap = median_gap(&data);
                    match (data.iter().rev().find(|&&t| t >= s.e2), gap) {
                        (Some(&last), Some(g)) => {
                            m.slack_below = g;
                            if s.e3.is_some_and(|e3| Micros(e3 - last) < g.times(2)) {
                                let b = Micros(stop - s.e2);
                                m.censored = true;
                                m.measured = Some(b);
                                m.inside = Some(worst + tolerance >= b);
                                m.note = format!(
                                    "still routing at E3 (last data request {} before it)",
                                    Micros(stop - last)
                                );
                            } else {
                                let t = Micros(last - s.e2);
                                m.measured = Some(t);
                                m.inside = Some(t >= best - tolerance - g && t <= worst + tolerance);
                                m.note = format!("last data request; median request gap {g}");
                            }
                        }
                        _ => {
                            m.note = "no steady data traffic after E2: send requests through the LB during the shutdown"
                                .to_string()
                        }
                    }
                }
            }
            m
        })
        .collect()
}

/// The model's range for one logged shutdown: detection alone for HAProxy's DOWN line, detection
/// plus propagation for the last data request.
fn model_range(sc: &Scenario, lb: &LbSpec, s: &Shutdown, detection_only: bool) -> (Micros, Micros) {
    let mut server = sc.server.clone();
    server.readyz_failure = s.mode;
    if let Some(e3) = s.e3 {
        server.shutdown_delay = Micros(e3 - s.e2);
    }
    let needed = server.prestop_sleep + server.readyz_fail_after + server.shutdown_delay + server.request_grace;
    server.termination_grace_period = server.termination_grace_period.max(needed + Micros::UNIT);
    let e = extremes(&server, &lb.model);
    if detection_only {
        (e.best.detection, e.worst.detection)
    } else {
        (e.best.time, e.worst.time)
    }
}

fn median_gap(ts: &[i64]) -> Option<Micros> {
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(Micros(gaps[gaps.len() / 2]))
}

/// What `calibrate` compares, resolved from the command line.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// The backend's JSON log; several runs may be appended.
    pub log: PathBuf,
    /// Scenario whose load balancer the measurements are compared with.
    pub scenario: PathBuf,
    /// Load balancer of the scenario: a glob on its name that must select exactly one; needed
    /// when the scenario has several.
    pub lb: Option<String>,
    /// The server (a built-in profile, a scenario file or a kube-apiserver manifest) replacing
    /// the scenario's [server], as `--server` of the other commands.
    pub server: Option<String>,
    /// HAProxy's own log: its "Server B/S is DOWN" line is then the instant routing stopped.
    pub haproxy_log: Option<PathBuf>,
    /// With `haproxy_log`: only DOWN lines of this server (`backend/server`).
    pub haproxy_server: Option<String>,
    /// The model's range is widened by this much on both sides before judging a measurement.
    pub tolerance: Micros,
    /// Output format.
    pub format: PlainFormat,
    /// `--set` overrides applied to the scenario (each said on stderr).
    pub sets: Vec<scenario::overrides::Set>,
    /// The terminal the table is fitted to.
    pub term: Term,
}

/// What a calibration found: how many shutdowns were measured and how many fell outside the
/// model's range (the command line turns any into exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// Shutdowns (`readyz_failing` events) compared.
    pub measurements: usize,
    /// Measurements outside the model's range.
    pub outside: usize,
}

/// Runs `graceline calibrate`: writes the comparison to `out` and returns what it found.
pub fn run(a: &CalibrateOptions, out: &mut dyn Write) -> Result<Calibration> {
    let named = crate::input::named_server(&crate::input::Options {
        server: a.server.clone(),
        ..Default::default()
    })
    .map_err(|e| match &a.server {
        Some(s) if s.contains('/') && !std::path::Path::new(s).exists() => {
            anyhow!("{e:#} (the HAProxy server whose DOWN lines --haproxy-log reads is --haproxy-server {s})")
        }
        _ => e,
    })?;
    let sc = {
        let file = a.scenario.display().to_string();
        let text = crate::input::read_text(&a.scenario)?;
        let mut sc = scenario::load_str_with(&file, &text, named.as_ref())?;
        for a in scenario::overrides::apply(&a.sets, &mut [&mut sc], &mut Default::default())? {
            eprintln!("{a}");
        }
        sc
    };
    let names: Vec<&str> = sc.lbs.iter().map(|l| l.name.as_str()).collect();
    let lb = match &a.lb {
        Some(pattern) => {
            let glob = glob::Pattern::new(pattern)
                .map_err(|e| anyhow!("--lb {pattern}: not a valid glob pattern: {}", e.msg))?;
            let matched: Vec<&scenario::LbSpec> = sc.lbs.iter().filter(|l| glob.matches(&l.name)).collect();
            match matched.as_slice() {
                [one] => *one,
                [] => bail!(
                    "{}: no load balancer matches --lb {pattern}{}; the scenario has: {}",
                    sc.file,
                    crate::scenario::words::did_you_mean(&[pattern.as_str()], &names),
                    names.join(", ")
                ),
                many => bail!(
                    "{}: --lb {pattern} matches {} load balancers ({}); calibrate compares one",
                    sc.file,
                    many.len(),
                    many.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        None if sc.lbs.len() == 1 => &sc.lbs[0],
        None => bail!(
            "{}: choose the load balancer with --lb; the scenario has: {}",
            sc.file,
            names.join(", ")
        ),
    };
    let name = a.log.display().to_string();
    let text = std::fs::read_to_string(&a.log).with_context(|| format!("{name}: cannot read"))?;
    let events = log::parse_backend_log(&name, &text)?;
    if !events.iter().any(|e| matches!(e.kind, EventKind::ReadyzFailing(_))) {
        bail!("{name}: no readyz_failing event: the backend never started a shutdown");
    }
    let downs = match &a.haproxy_log {
        Some(p) => {
            let hname = p.display().to_string();
            let htext = std::fs::read_to_string(p).with_context(|| format!("{hname}: cannot read"))?;
            let mut d = log::parse_haproxy_log(&hname, &htext)?;
            match &a.haproxy_server {
                Some(s) => d.retain(|x| &x.server == s),
                None => {
                    let mut names: Vec<&str> = d.iter().map(|x| x.server.as_str()).collect();
                    names.sort_unstable();
                    names.dedup();
                    if names.len() > 1 {
                        bail!(
                            "{hname}: several servers go DOWN ({}); choose one with --haproxy-server",
                            names.join(", ")
                        );
                    }
                }
            }
            Some(d)
        }
        None => None,
    };
    let method = if downs.is_some() {
        Method::HaproxyDown
    } else {
        Method::LastDataRequest
    };
    let ms = measure(&sc, lb, &events, downs.as_deref(), a.tolerance);
    let text = match a.format {
        PlainFormat::Table => render_table(&sc, lb, method, a.tolerance, &ms, &a.term),
        PlainFormat::Json => render_json(&sc, lb, method, a.tolerance, &ms),
    };
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Calibration {
        measurements: ms.len(),
        outside: ms.iter().filter(|m| m.inside == Some(false)).count(),
    })
}

/// A measurement's verdict: a lower bound (the LB still routed at E3) that the model's range
/// reaches is "inconclusive", not "inside": the true time may lie above the worst case.
fn verdict(m: &Measurement) -> &'static str {
    match m.inside {
        Some(true) if m.censored => "inconclusive",
        Some(true) => "inside",
        Some(false) => "OUTSIDE",
        None => "unmeasured",
    }
}

/// The comparison as a table fitted to the terminal (`term`: wrapped at separators, figures
/// shrunk before anything overflows, as the other tables) between prose lines wrapped at spaces.
fn render_table(sc: &Scenario, lb: &LbSpec, method: Method, tol: Micros, ms: &[Measurement], term: &Term) -> String {
    let col = |header, numeric| Col { header, numeric };
    let cols = [
        col("#", true),
        col("E2 line", true),
        col("mode", false),
        col("E3 - E2", true),
        col("measured", true),
        col("model best", true),
        col("model worst", true),
        col("verdict", false),
        col("note", false),
    ];
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            let measured = m.measured.map_or("-".to_string(), |x| {
                if m.censored {
                    format!(">= {x}")
                } else {
                    x.to_string()
                }
            });
            vec![
                m.index.to_string(),
                m.line.to_string(),
                format!("{:?}", m.mode).to_lowercase(),
                m.budget.map_or("-".to_string(), |b| b.to_string()),
                measured,
                m.best.to_string(),
                m.worst.to_string(),
                verdict(m).to_string(),
                m.note.clone(),
            ]
        })
        .collect();
    let paint = |r: usize, c: usize| -> Option<Paint> {
        (c == 7).then(|| match verdict(&ms[r]) {
            "inside" => Paint::Green,
            "OUTSIDE" => Paint::Red,
            _ => Paint::Yellow,
        })
    };
    let t = fit_painted(&cols, &rows, &paint, term);
    let prose = |text: String| match term.width {
        Some(w) => format!("{}\n", wrap_prose(&text, w)),
        None => format!("{text}\n"),
    };
    let outside = ms.iter().filter(|m| m.inside == Some(false)).count();
    let inconclusive = ms.iter().filter(|m| verdict(m) == "inconclusive").count();
    let what = match method {
        Method::HaproxyDown => "E2 -> HAProxy DOWN line vs model detection",
        Method::LastDataRequest => "E2 -> last data request vs model detection + propagation",
    };
    let mut text = prose(format!(
        "{} / {} ({}): {what}; tolerance {tol}",
        sc.name, lb.name, lb.profile
    ));
    text.push_str(&format!("{t}\n"));
    text.push_str(&prose(format!(
        "{} of {} measurements outside the model range{}",
        outside,
        ms.len(),
        if inconclusive > 0 {
            format!(
                "; {inconclusive} inconclusive (only a lower bound: the LB still routed at E3, so the time may exceed the model's worst case; lengthen E3 - E2 to measure it)"
            )
        } else {
            String::new()
        }
    )));
    match (method, measured_propagation(ms)) {
        (Method::HaproxyDown, _) => text.push_str(&prose(
            "propagation: not measured by HAProxy's DOWN line (HAProxy stops choosing the server in the same step: 0 s)".into(),
        )),
        (_, Some(p)) => {
            text.push_str(&prose(
                "measured propagation (last data request minus the model's detection, one request gap of slack): paste into the [[lb]] table:".into(),
            ));
            // The line to paste, as written (never wrapped).
            text.push_str(&format!("{}\n", paste_line(&p)));
            if p.censored {
                text.push_str(&prose("note: a shutdown was still routing at E3, so the real top may be higher: lengthen shutdown_delay and measure again".into()));
            }
        }
        (_, None) => text.push_str(&prose("propagation: no uncensored measurement to derive it from".into())),
    }
    text
}

fn render_json(sc: &Scenario, lb: &LbSpec, method: Method, tol: Micros, ms: &[Measurement]) -> String {
    let rows: Vec<_> = ms
        .iter()
        .map(|m| {
            serde_json::json!({
                "index": m.index,
                "line": m.line,
                "e2_unix_us": m.e2_unix_us,
                "mode": m.mode,
                "budget_s": m.budget.map(secs),
                "measured_s": m.measured.map(secs),
                "censored": m.censored,
                "best_s": secs(m.best),
                "worst_s": secs(m.worst),
                "slack_below_s": secs(m.slack_below),
                "inside": m.inside,
                "verdict": verdict(m),
                "note": m.note,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "tool": "graceline",
        "version": env!("CARGO_PKG_VERSION"),
        "scenario": sc.name,
        "lb": lb.name,
        "provider": lb.profile,
        "method": method,
        "tolerance_s": secs(tol),
        "measurements": rows,
        "outside": ms.iter().filter(|m| m.inside == Some(false)).count(),
        "measured_propagation": match (method, measured_propagation(ms)) {
            (Method::LastDataRequest, Some(p)) => serde_json::json!({
                "lo_s": secs(p.lo),
                "hi_s": secs(p.hi),
                "censored": p.censored,
                "paste": paste_line(&p),
            }),
            _ => serde_json::Value::Null,
        },
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"700ms\"\nreadyz_failure = \"error\"\n\
        [[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\ninter = \"200ms\"\nfall = 3\nprotocol = \"http\"\npath = \"/readyz\"\n";

    fn backend_log(e2s: &[i64], data_until: Option<i64>) -> String {
        let mut s = String::new();
        for &e2 in e2s {
            s += &format!("{{\"t_us\":{},\"event\":\"listening\"}}\n", e2 - 5_000_000);
            if let Some(until) = data_until {
                let mut t = e2 - 500_000;
                while t < e2 + until {
                    s += &format!("{{\"t_us\":{t},\"event\":\"request\",\"path\":\"/data\"}}\n");
                    t += 10_000;
                }
            }
            s += &format!("{{\"t_us\":{e2},\"event\":\"readyz_failing\",\"mode\":\"error\"}}\n");
            s += &format!("{{\"t_us\":{},\"event\":\"stopped_listening\"}}\n", e2 + 700_000);
        }
        s
    }

    #[test]
    fn haproxy_down_lines_are_judged_against_detection() {
        let sc = scenario::load_str("s.toml", SCENARIO).unwrap();
        let ev = log::parse_backend_log("b", &backend_log(&[10_000_000, 20_000_000], None)).unwrap();
        let downs = [
            DownLine {
                line: 1,
                t_us: 10_500_000,
                server: "be/srv".into(),
            },
            DownLine {
                line: 2,
                t_us: 20_650_000,
                server: "be/srv".into(),
            },
        ];
        let ms = measure(&sc, &sc.lbs[0], &ev, Some(&downs), Micros::from_millis(10));
        assert_eq!(ms.len(), 2);
        assert_eq!(
            (ms[0].best, ms[0].worst),
            (Micros::from_millis(400), Micros::from_millis(600))
        );
        assert_eq!(ms[0].measured, Some(Micros::from_millis(500)));
        assert_eq!(ms[0].inside, Some(true));
        assert_eq!(ms[1].inside, Some(false), "650ms > 600ms + 10ms");
        let ms = measure(&sc, &sc.lbs[0], &ev, Some(&downs[..1]), Micros::from_millis(10));
        assert_eq!(
            ms[1].inside,
            Some(false),
            "the log covers 700ms after E2 without a DOWN line"
        );
        assert!(ms[1].note.contains("no DOWN line"));
    }

    #[test]
    fn last_data_request_and_censoring() {
        let sc = scenario::load_str("s.toml", SCENARIO).unwrap();
        let ev = log::parse_backend_log("b", &backend_log(&[10_000_000], Some(450_000))).unwrap();
        let ms = measure(&sc, &sc.lbs[0], &ev, None, Micros::from_millis(10));
        assert_eq!(ms[0].measured, Some(Micros::from_millis(440)));
        assert_eq!(ms[0].slack_below, Micros::from_millis(10));
        assert_eq!(ms[0].inside, Some(true));
        // Detection [400 ms, 600 ms], last request at 440 ms, gap 10 ms: propagation in
        // [max(0, 440 - 600), 440 + 10 - 400] = [0 ms, 50 ms].
        let p = measured_propagation(&ms).unwrap();
        assert_eq!((p.lo, p.hi, p.censored), (Micros::ZERO, Micros::from_millis(50), false));
        assert_eq!(paste_line(&p), "propagation_delay = [\"0ms\", \"50ms\"]");
        let pasted = format!("{SCENARIO}{}\n", paste_line(&p));
        let with = scenario::load_str("s.toml", &pasted).unwrap();
        assert_eq!(with.lbs[0].model.propagation.hi, Micros::from_millis(50));
        let ev = log::parse_backend_log("b", &backend_log(&[10_000_000], Some(700_000))).unwrap();
        let ms = measure(&sc, &sc.lbs[0], &ev, None, Micros::from_millis(10));
        assert!(ms[0].censored);
        assert_eq!(
            ms[0].inside,
            Some(false),
            "routing past E3 contradicts a 600ms worst case"
        );
        assert_eq!(verdict(&ms[0]), "OUTSIDE");
        // A lower bound the worst case still reaches proves nothing either way.
        let bound = Measurement {
            inside: Some(true),
            ..ms[0].clone()
        };
        assert_eq!(verdict(&bound), "inconclusive");
        let plain = Measurement {
            censored: false,
            ..bound.clone()
        };
        assert_eq!(verdict(&plain), "inside");
    }
}
