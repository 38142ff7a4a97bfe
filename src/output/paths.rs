//! Output of the Kubernetes paths (`crate::paths`) for every command: `check` in each format
//! (appended to the load-balancer document, so both live in one output), `explain` (the chain
//! walked stage by stage), `simulate` (sampled stage ranges) and `report` (a section per workload).

use super::secs;
use super::term::{fit, Col, Term};
use crate::analysis::findings::Finding;
use crate::paths::sample::PathDistribution;
use crate::paths::{PathReport, PathVerdict, PathsAnalysis, Start};
use crate::time::Micros;
use serde_json::{json, Value};
use std::fmt::Write;

fn verdict(v: PathVerdict) -> &'static str {
    match v {
        PathVerdict::Pass => "pass",
        PathVerdict::Warn => "WARN",
        PathVerdict::Fail => "FAIL",
    }
}

fn opt(m: Option<Micros>) -> String {
    m.map_or_else(|| "-".to_string(), |m| m.to_string())
}

fn finding_line(f: &Finding) -> String {
    format!("{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message)
}

/// The paths as a table, their findings (`findings`: already rendered, e.g. as diagnostics) and
/// assumptions (appended after the LB table).
pub fn table(a: &PathsAnalysis, width: Option<usize>, findings: &str) -> String {
    let mut out = String::new();
    if !a.reports.is_empty() {
        let text = |header| Col { header, numeric: false };
        let num = |header| Col { header, numeric: true };
        let cols = [
            text("workload"),
            text("path"),
            text("slowest stage"),
            num("last send"),
            num("app stops"),
            num("margin"),
            num("rec. preStop"),
            num("rec. grace"),
            text("verdict"),
        ];
        let rows: Vec<Vec<String>> = a
            .reports
            .iter()
            .map(|r| {
                let rec = match (r.recommended_prestop, r.recommended_shutdown_delay) {
                    (Some(p), _) => p.to_string(),
                    (_, Some(d)) => format!("delay {d}"),
                    _ => "-".to_string(),
                };
                vec![
                    r.target.name.clone(),
                    r.path.name.clone(),
                    r.path.slowest().map_or("-".to_string(), |s| {
                        format!("{} {}{}", s.id, s.hi, if s.unverified { " (unverified)" } else { "" })
                    }),
                    r.last_send_worst.map_or("never".to_string(), |m| m.to_string()),
                    r.stop_listening.to_string(),
                    opt(r.margin),
                    rec,
                    opt(r.recommended_grace),
                    verdict(r.verdict).to_string(),
                ]
            })
            .collect();
        let t = fit(&cols, &rows, &[], &Term { width, color: false });
        let heading = "Kubernetes paths (times from the pod's deletion, when endpoint withdrawal and the pod's shutdown start together; kube-apiserver removes its endpoint from SIGTERM on):";
        writeln!(
            out,
            "\n{}",
            width.map_or_else(|| heading.to_string(), |w| super::term::wrap(heading, w))
        )
        .ok();
        writeln!(out, "{t}").ok();
    }
    if !findings.is_empty() {
        out.push('\n');
        out.push_str(findings);
        out.push('\n');
    }
    let wrapped = |text: String| width.map_or_else(|| text.clone(), |w| super::term::wrap(&text, w));
    for n in &a.assumptions {
        writeln!(out, "\n{}", wrapped(format!("note: {n}"))).ok();
    }
    if !a.reports.is_empty() {
        let count = |v: PathVerdict| a.reports.iter().filter(|r| r.verdict == v).count();
        writeln!(
            out,
            "\n{}",
            wrapped(format!(
                "{} paths: {} fail, {} warn, {} pass (last send: worst case until the last consumer of the endpoints stops sending new connections; app stops: when the app stops listening)",
                a.reports.len(),
                count(PathVerdict::Fail),
                count(PathVerdict::Warn),
                count(PathVerdict::Pass)
            ))
        )
        .ok();
    }
    out
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule.id(),
        "name": f.rule.name(),
        "severity": f.severity,
        "message": f.message,
        "file": f.loc.file,
        "line": f.loc.line,
        "column": f.loc.column,
    })
}

/// One path as JSON (times in seconds).
pub fn report_json(r: &PathReport) -> Value {
    let t = &r.target;
    json!({
        "workload": t.name,
        "kind": t.kind,
        "container": t.container,
        "file": t.file,
        "path": r.path.name,
        "family": r.path.kind,
        "service": r.path.service,
        "starts_at": r.path.start,
        "stages": r.path.stages.iter().map(|s| json!({
            "id": s.id, "label": s.label, "lo_s": secs(s.lo), "hi_s": secs(s.hi),
            "unverified": s.unverified, "evidence": s.evidence_word(), "source": s.source,
            "tail_s": s.tail.map(secs), "tail_source": s.tail_source,
        })).collect::<Vec<_>>(),
        "alternative": r.path.alternative.as_ref().map(|a| json!({
            "label": a.label,
            "stages": a.stages.iter().map(|s| json!({
                "id": s.id, "label": s.label, "lo_s": secs(s.lo), "hi_s": secs(s.hi),
                "evidence": s.evidence_word(), "source": s.source,
            })).collect::<Vec<_>>(),
        })),
        "slowest_stage": r.path.slowest().map(|s| s.id.clone()),
        "never_withdrawn": r.path.never_withdrawn,
        "readiness_probe": t.readiness,
        "prestop_s": secs(t.server.prestop_sleep),
        "sigterm_s": secs(r.sigterm),
        "app_stops_listening_s": secs(r.stop_listening),
        "sigkill_s": secs(r.kill),
        "last_send_worst_s": r.last_send_worst.map(secs),
        "last_send_best_s": secs(r.last_send_best),
        "margin_s": r.margin.map(secs),
        "min_margin_s": secs(r.min_margin),
        "verdict": r.verdict,
        "recommended_prestop_s": r.recommended_prestop.map(secs),
        "recommended_termination_grace_period_s": r.recommended_grace.map(secs),
        "recommended_shutdown_delay_s": r.recommended_shutdown_delay.map(secs),
        "tail": r.tail.map(|x| json!({
            "stage": r.path.tail_stage().map(|s| s.id.clone()),
            "last_send_worst_s": secs(x.last_send),
            "app_stops_listening_s": secs(x.stop_listening),
            "margin_s": secs(x.margin),
            "recommended_prestop_s": x.recommended_prestop.map(secs),
            "recommended_termination_grace_period_s": x.recommended_grace.map(secs),
            "recommended_shutdown_delay_s": x.recommended_shutdown_delay.map(secs),
        })),
        "server_source": {
            "origin": t.server_source.origin,
            "assumed": t.server_source.assumed,
            "reason": t.server_source.reason,
        },
        "notes": r.path.notes,
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

/// The paths' part of the JSON document.
pub fn json_value(a: &PathsAnalysis) -> Value {
    json!({
        "results": a.reports.iter().map(report_json).collect::<Vec<_>>(),
        "findings": a.general.iter().map(|(subject, f)| {
            let mut v = finding_json(f);
            v["subject"] = json!(subject);
            v
        }).collect::<Vec<_>>(),
        "assumptions": a.assumptions,
    })
}

/// `explain` for one path: the chain walked stage by stage with cumulative worst-case times.
pub fn explain(r: &PathReport) -> String {
    let t = &r.target;
    let mut out = String::new();
    if t.container.is_empty() {
        writeln!(out, "{} (the {} of {}): {}", t.name, t.kind, t.file, r.path.name).ok();
    } else {
        writeln!(
            out,
            "{} ({} {}, container {}): {}",
            t.name, t.kind, t.file, t.container, r.path.name
        )
        .ok();
    }
    writeln!(out, "  how the app shuts down: {}", t.server_source.reason).ok();
    // Paths that wait for the pod (paths::readiness): its readiness or exit is what they follow.
    let waits = crate::paths::readiness::depends_on_pod(&r.path);
    writeln!(
        out,
        "  readiness probe: {} ({})",
        t.readiness.as_deref().unwrap_or("none"),
        if waits {
            "this path waits for the pod: its endpoint goes only when the pod turns unready or exits"
        } else {
            "it does not speed up removal: a terminating pod's endpoint is ready=false from the deletion on, KEP-1672"
        }
    )
    .ok();
    writeln!(
        out,
        "  T+0s  {}",
        if waits && r.path.start == Start::Sigterm && !t.apiserver {
            "the kubelet starts stopping the pod (it is not deleted: its endpoints follow its readiness)"
        } else {
            "the pod is deleted: endpoint withdrawal and the pod's shutdown start together"
        }
    )
    .ok();
    match &t.prestop {
        crate::scenario::k8s::Prestop::None => writeln!(out, "  T+0s  no preStop hook: SIGTERM at once").ok(),
        crate::scenario::k8s::Prestop::Sleep { duration, loc } => {
            writeln!(out, "  T+0s  preStop sleeps {duration} ({loc})").ok()
        }
        crate::scenario::k8s::Prestop::Unknown { what, assumed, loc } => writeln!(
            out,
            "  T+0s  preStop runs {what} ({loc}): duration unknown, assumed {assumed}"
        )
        .ok(),
    };
    // Every event with its worst-case instant, in time order (pod events first at equal times).
    let mut events: Vec<(Micros, u8, String)> = vec![
        (r.sigterm, 0, "SIGTERM".to_string()),
        (r.stop_listening, 1, "the app stops listening".to_string()),
        (r.kill, 3, "SIGKILL at the latest".to_string()),
    ];
    let mut at = match r.path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => r.sigterm,
    };
    if let Some(why) = &r.path.never_withdrawn {
        writeln!(out, "  never  the endpoint is not withdrawn: {why}").ok();
    }
    for s in &r.path.stages {
        let end = at + s.hi;
        events.push((
            end,
            2,
            format!(
                "{} done (from T+{at}; {}, {}..{}{}) [{}]",
                s.id,
                s.label,
                s.lo,
                s.hi,
                match s.evidence {
                    crate::profiles::Evidence::None => ", unverified",
                    crate::profiles::Evidence::Field => ", field evidence",
                    _ => "",
                },
                s.source
            ),
        ));
        at = end;
    }
    if let Some(alt) = &r.path.alternative {
        let mut at = Micros::ZERO;
        for s in &alt.stages {
            let end = at + s.hi;
            events.push((
                end,
                2,
                format!(
                    "or: {} done (from T+{at}; {}, {}..{}{}) [{}]",
                    s.id,
                    s.label,
                    s.lo,
                    s.hi,
                    if s.unverified { ", unverified" } else { "" },
                    s.source
                ),
            ));
            at = end;
        }
        writeln!(
            out,
            "  the other way out, whichever ends first: {} (lines marked \"or:\")",
            alt.label
        )
        .ok();
    }
    if let Some(w) = r.last_send_worst {
        events.push((
            w,
            2,
            format!(
                "the last consumer stops sending new connections (worst case; best case T+{})",
                r.last_send_best
            ),
        ));
    }
    events.sort_by_key(|e| (e.0, e.1));
    for (t, _, text) in events {
        writeln!(out, "  T+{t}  {text}").ok();
    }
    for n in &r.path.notes {
        writeln!(out, "  note: {n}").ok();
    }
    let rec = match (r.recommended_prestop, r.recommended_grace, r.recommended_shutdown_delay) {
        (Some(p), Some(g), _) => format!("recommended preStop {p}, terminationGracePeriodSeconds {g}"),
        (_, _, Some(d)) if t.apiserver => {
            format!("recommended --shutdown-delay-duration {d} (a preStop sleep does not help)")
        }
        (_, _, Some(d)) => format!(
            "recommended: keep listening {d} after readiness starts failing (the app's own shutdown delay; a preStop sleep does not help){}",
            r.recommended_grace
                .map_or(String::new(), |g| format!(", grace period {g}"))
        ),
        _ => "no preStop or delay helps".to_string(),
    };
    writeln!(
        out,
        "  verdict: {} (margin {}, minimum {}); {rec}",
        verdict(r.verdict),
        opt(r.margin),
        r.min_margin
    )
    .ok();
    if let (Some(x), Some(st)) = (&r.tail, r.path.tail_stage()) {
        writeln!(
            out,
            "  tail: with {} at {} (instead of {}; {}), the last consumer stops sending at T+{} and the app stops listening at T+{}: margin {}",
            st.id,
            st.tail_hi(),
            st.hi,
            st.tail_source.as_deref().unwrap_or_default(),
            x.last_send,
            x.stop_listening,
            x.margin
        )
        .ok();
    }
    for f in &r.findings {
        writeln!(out, "  {}", finding_line(f)).ok();
    }
    out
}

/// The sampled paths as JSON (`simulate --format json`'s `kubernetes_paths`).
pub fn simulate_value(a: &PathsAnalysis, dists: &[Option<PathDistribution>]) -> Value {
    Value::Array(
        a.reports
            .iter()
            .zip(dists)
            .map(|(r, d)| {
                json!({
                    "workload": r.target.name,
                    "path": r.path.name,
                    "distribution": crate::paths::sample::DISTRIBUTION,
                    "trials": d.as_ref().map(|d| d.trials),
                    "last_send_p50_s": d.as_ref().map(|d| secs(d.last_send[0])),
                    "last_send_p90_s": d.as_ref().map(|d| secs(d.last_send[1])),
                    "last_send_p99_s": d.as_ref().map(|d| secs(d.last_send[2])),
                    "last_send_p999_s": d.as_ref().map(|d| secs(d.last_send[3])),
                    "app_stops_listening_s": secs(r.stop_listening),
                    "p_fail": d.as_ref().map_or(1.0, |d| d.p_fail),
                })
            })
            .collect(),
    )
}

/// The sampled paths as text, after the load balancers' tables.
pub fn simulate_text(a: &PathsAnalysis, dists: &[Option<PathDistribution>]) -> String {
    let mut out = format!(
        "\nKubernetes paths, sampled ({}):\n",
        crate::paths::sample::DISTRIBUTION
    );
    for (r, d) in a.reports.iter().zip(dists) {
        match d {
            Some(d) => writeln!(
                out,
                "  {} via {}: last send p50 {} p90 {} p99 {} p99.9 {} ({} trials); app stops listening at {}; P(new connection reaches a closed port) = {:.4}",
                r.target.name, r.path.name, d.last_send[0], d.last_send[1], d.last_send[2], d.last_send[3], d.trials, r.stop_listening, d.p_fail
            )
            .ok(),
            None => writeln!(out, "  {} via {}: never withdrawn, P = 1", r.target.name, r.path.name).ok(),
        };
    }
    out
}

/// `report`: a section per workload with its paths, stage tables and recommendation.
pub fn report_section(a: &PathsAnalysis, dists: &[Option<PathDistribution>]) -> String {
    let mut out = String::new();
    if a.is_empty() {
        return out;
    }
    writeln!(out, "\n## Kubernetes paths\n").ok();
    writeln!(out, "Endpoint withdrawal runs in parallel with the pod's shutdown from its deletion on; a path fails when its last consumer can still send new connections when the app stops listening.\n").ok();
    let mut workloads: Vec<&str> = Vec::new();
    for r in &a.reports {
        if !workloads.contains(&r.target.name.as_str()) {
            workloads.push(&r.target.name);
        }
    }
    for w in workloads {
        writeln!(out, "### {w}\n").ok();
        for (r, d) in a.reports.iter().zip(dists).filter(|(r, _)| r.target.name == w) {
            writeln!(out, "#### {}\n", r.path.name).ok();
            writeln!(out, "| stage | what | lo | hi | source |\n|---|---|---|---|---|").ok();
            for s in &r.path.stages {
                writeln!(
                    out,
                    "| {} | {} | {} | {}{} | {} |",
                    s.id,
                    s.label,
                    s.lo,
                    s.hi,
                    if s.unverified { " (unverified)" } else { "" },
                    s.source.replace('|', "/")
                )
                .ok();
            }
            writeln!(
                out,
                "\nWorst case last send {}, app stops listening at {}, margin {}: **{}**. Recommended preStop {}, terminationGracePeriodSeconds {}{}.",
                opt(r.last_send_worst),
                r.stop_listening,
                opt(r.margin),
                verdict(r.verdict),
                opt(r.recommended_prestop),
                opt(r.recommended_grace),
                r.recommended_shutdown_delay.map_or(String::new(), |d| if r.target.apiserver {
                    format!(", --shutdown-delay-duration {d}")
                } else {
                    format!(", the app's own delay after failing readiness {d}")
                })
            )
            .ok();
            if let Some(d) = d {
                writeln!(
                    out,
                    "Sampled ({}): p50 {}, p99 {}, P(fail) {:.4}.",
                    d.distribution, d.last_send[0], d.last_send[2], d.p_fail
                )
                .ok();
            }
            for f in &r.findings {
                writeln!(out, "\n- `{}` {}", f.rule.id(), f.message).ok();
            }
            writeln!(out).ok();
        }
    }
    for (s, f) in &a.general {
        writeln!(out, "- {s}: `{}` {}", f.rule.id(), f.message).ok();
    }
    for n in &a.assumptions {
        writeln!(out, "- assumed: {n}").ok();
    }
    out
}
