//! Output of the Kubernetes paths (`crate::paths`) for every command: `check` in each format
//! (appended to the load-balancer document, so both live in one output), `explain` (the chain
//! walked stage by stage), `simulate` (sampled stage ranges) and `report` (a section per workload).

use super::{secs, ExportContext, Format};
use crate::analysis::findings::{Finding, Severity, PATH_RULES, RULES};
use crate::paths::sample::PathDistribution;
use crate::paths::{PathReport, PathVerdict, PathsAnalysis, Start};
use crate::time::Micros;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};
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

/// True when a path finding reaches `--fail-on`.
pub fn fails(a: &PathsAnalysis, fail_on: Option<Severity>) -> bool {
    fail_on.is_some_and(|min| a.findings().any(|f| f.severity >= min))
}

fn finding_line(f: &Finding) -> String {
    format!("{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message)
}

/// The paths as a table, their findings and assumptions (appended after the LB table).
pub fn table(a: &PathsAnalysis, width: Option<usize>) -> String {
    let mut out = String::new();
    if !a.reports.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        // The terminal's width (COLUMNS), else unbounded like the load-balancer table.
        if let Some(w) = width {
            t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
        }
        t.set_header(vec![
            "workload",
            "path",
            "slowest stage",
            "last send",
            "app stops",
            "margin",
            "rec. preStop",
            "rec. grace",
            "verdict",
        ]);
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        for r in &a.reports {
            let rec = match (r.recommended_prestop, r.recommended_shutdown_delay) {
                (Some(p), _) => p.to_string(),
                (_, Some(d)) => format!("delay {d}"),
                _ => "-".to_string(),
            };
            t.add_row(vec![
                Cell::new(&r.target.name),
                Cell::new(&r.path.name),
                Cell::new(r.path.slowest().map_or("-".to_string(), |s| {
                    format!("{} {}{}", s.id, s.hi, if s.unverified { " (unverified)" } else { "" })
                })),
                right(r.last_send_worst.map_or("never".to_string(), |m| m.to_string())),
                right(r.stop_listening.to_string()),
                right(opt(r.margin)),
                right(rec),
                right(opt(r.recommended_grace)),
                Cell::new(verdict(r.verdict)),
            ]);
        }
        writeln!(out, "\nKubernetes paths (times from the pod's deletion, when endpoint withdrawal and the pod's shutdown start together; kube-apiserver removes its endpoint from SIGTERM on):").ok();
        writeln!(out, "{t}").ok();
    }
    let mut any = false;
    for f in a.findings() {
        if !any {
            out.push('\n');
            any = true;
        }
        writeln!(out, "{}", finding_line(f)).ok();
    }
    for n in &a.assumptions {
        writeln!(out, "\nnote: {n}").ok();
    }
    if !a.reports.is_empty() {
        let count = |v: PathVerdict| a.reports.iter().filter(|r| r.verdict == v).count();
        writeln!(
            out,
            "\n{} paths: {} fail, {} warn, {} pass (last send: worst case until the last consumer of the endpoints stops sending new connections; app stops: when the app stops listening)",
            a.reports.len(),
            count(PathVerdict::Fail),
            count(PathVerdict::Warn),
            count(PathVerdict::Pass)
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
            "unverified": s.unverified, "source": s.source,
        })).collect::<Vec<_>>(),
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

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Adds the path rules and findings to a SARIF document rendered for the load balancers.
fn sarif(doc: &mut Value, a: &PathsAnalysis, ctx: &ExportContext) {
    let run = &mut doc["runs"][0];
    if let Some(rules) = run["tool"]["driver"]["rules"].as_array_mut() {
        for r in PATH_RULES {
            rules.push(json!({
                "id": r.id(),
                "name": r.name(),
                "shortDescription": { "text": r.short() },
                "fullDescription": { "text": r.full() },
                "help": { "text": r.help() },
                "defaultConfiguration": { "level": level(r.severity()) },
            }));
        }
    }
    let index = |rule| {
        RULES
            .iter()
            .chain(PATH_RULES.iter())
            .position(|x| *x == rule)
            .unwrap_or(0)
    };
    let subjects = a
        .reports
        .iter()
        .flat_map(|r| {
            r.findings
                .iter()
                .map(move |f| (format!("{}|{}", r.target.name, r.path.name), f))
        })
        .chain(a.general.iter().map(|(s, f)| (s.clone(), f)));
    let mut results = Vec::new();
    for (subject, f) in subjects {
        let (uri, relative) = ctx.root.artifact(&f.loc.file);
        let mut artifact = json!({ "uri": uri });
        if relative {
            artifact["uriBaseId"] = json!("%SRCROOT%");
        }
        results.push(json!({
            "ruleId": f.rule.id(),
            "ruleIndex": index(f.rule),
            "level": level(f.severity),
            "message": { "text": f.message },
            "locations": [{ "physicalLocation": {
                "artifactLocation": artifact,
                "region": { "startLine": f.loc.line.max(1), "startColumn": f.loc.column.max(1) },
            }}],
            "partialFingerprints": { "graceline/v1": format!("{}:{}", f.rule.id(), subject) },
            "properties": { "subject": subject },
        }));
    }
    if let Some(r) = run["results"].as_array_mut() {
        r.extend(results);
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit suites for the paths: one per path (GL030, GL031, GL032) and one per workload or Service
/// for the findings about it as a whole (GL004, GL033, GL034, GL035).
fn junit_suites(a: &PathsAnalysis, ctx: &ExportContext) -> (String, usize, usize) {
    let mut out = String::new();
    let (mut tests, mut failures) = (0, 0);
    let failing = |f: &Finding| ctx.fail_on.is_some_and(|m| f.severity >= m);
    let mut suite = |name: &str, file: &str, rules: &[crate::analysis::findings::Rule], findings: &[&Finding]| {
        let n_fail = rules
            .iter()
            .filter(|r| findings.iter().any(|f| f.rule == **r && failing(f)))
            .count();
        tests += rules.len();
        failures += n_fail;
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{n_fail}\" errors=\"0\" skipped=\"0\">",
            xml_escape(name),
            rules.len()
        )
        .ok();
        for r in rules {
            let case = format!(
                "    <testcase name=\"{} {} ({})\" classname=\"graceline.kubernetes\" file=\"{}\"",
                r.id(),
                r.name(),
                xml_escape(name),
                xml_escape(file)
            );
            let mine: Vec<&&Finding> = findings.iter().filter(|f| f.rule == *r).collect();
            if mine.is_empty() {
                writeln!(out, "{case}/>").ok();
                continue;
            }
            writeln!(out, "{case}>").ok();
            for f in mine {
                if failing(f) {
                    writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{}\n{}</failure>",
                        xml_escape(&f.message),
                        f.severity,
                        xml_escape(&finding_line(f)),
                        xml_escape(r.help())
                    )
                    .ok();
                } else {
                    writeln!(out, "      <system-out>{}</system-out>", xml_escape(&finding_line(f))).ok();
                }
            }
            writeln!(out, "    </testcase>").ok();
        }
        writeln!(out, "  </testsuite>").ok();
    };
    use crate::analysis::findings::Rule;
    for r in &a.reports {
        let f: Vec<&Finding> = r.findings.iter().collect();
        suite(
            &format!("{} / {}", r.target.name, r.path.name),
            &r.target.file,
            &[Rule::GL030, Rule::GL031, Rule::GL032],
            &f,
        );
    }
    let mut subjects: Vec<&str> = Vec::new();
    for (s, _) in &a.general {
        if !subjects.contains(&s.as_str()) {
            subjects.push(s);
        }
    }
    for s in subjects {
        let f: Vec<&Finding> = a.general.iter().filter(|(x, _)| x == s).map(|(_, f)| f).collect();
        let file = f.first().map_or(String::new(), |f| f.loc.file.clone());
        suite(s, &file, &[Rule::GL004, Rule::GL033, Rule::GL034, Rule::GL035], &f);
    }
    (out, tests, failures)
}

/// Adds the path suites to a JUnit document and updates the root's counts.
fn junit(doc: &str, a: &PathsAnalysis, ctx: &ExportContext) -> String {
    let (suites, tests, failures) = junit_suites(a, ctx);
    let Some(end) = doc.rfind("</testsuites>") else {
        return doc.to_string();
    };
    let mut out = doc[..end].to_string();
    out.push_str(&suites);
    out.push_str(&doc[end..]);
    // The root's totals: `tests="N" failures="M"` on the first <testsuites> element.
    let bump = |text: &mut String, attr: &str, add: usize| {
        let Some(root) = text.find("<testsuites") else { return };
        let key = format!("{attr}=\"");
        let Some(i) = text[root..].find(&key).map(|i| root + i + key.len()) else {
            return;
        };
        let Some(j) = text[i..].find('"').map(|j| i + j) else {
            return;
        };
        let n = text[i..j].parse::<usize>().unwrap_or(0) + add;
        text.replace_range(i..j, &n.to_string());
    };
    bump(&mut out, "tests", tests);
    bump(&mut out, "failures", failures);
    out
}

fn github(a: &PathsAnalysis, ctx: &ExportContext) -> String {
    let data = |s: &str| s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for f in a.findings() {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        writeln!(
            out,
            "::{cmd} file={},line={},col={},title={}::{}",
            prop(&ctx.root.display(&f.loc.file)),
            f.loc.line.max(1),
            f.loc.column.max(1),
            prop(&format!("{} {}", f.rule.id(), f.rule.name())),
            data(&f.message)
        )
        .ok();
    }
    out
}

/// True when the paths add to `check`'s output (else the load balancers' document is all of it,
/// and `check` writes it as it is rendered).
pub fn adds_to_check(a: &PathsAnalysis) -> bool {
    !(a.is_empty() && a.assumptions.is_empty())
}

/// `check`'s whole output: the load balancers' document (`lb_doc`, rendered by their exporter)
/// with the paths added in the same format. With no load balancer, only the paths' table.
pub fn merge_check(format: Format, lb_doc: String, has_lbs: bool, a: &PathsAnalysis, ctx: &ExportContext) -> String {
    if !adds_to_check(a) {
        return lb_doc;
    }
    match format {
        Format::Table => {
            let mut out = if has_lbs || a.reports.is_empty() {
                lb_doc
            } else {
                String::new()
            };
            out.push_str(&table(a, ctx.term.width));
            out
        }
        Format::Json => {
            let Ok(mut doc) = serde_json::from_str::<Value>(&lb_doc) else {
                return lb_doc;
            };
            doc["kubernetes_paths"] = json_value(a);
            let count = |v: PathVerdict| a.reports.iter().filter(|r| r.verdict == v).count();
            let sev = |s: Severity| a.findings().filter(|f| f.severity == s).count();
            doc["summary"]["kubernetes_paths"] = json!({
                "paths": a.reports.len(),
                "verdicts": { "pass": count(PathVerdict::Pass), "warn": count(PathVerdict::Warn), "fail": count(PathVerdict::Fail) },
                "findings": { "error": sev(Severity::Error), "warning": sev(Severity::Warning), "note": sev(Severity::Note) },
            });
            if let Some(code) = doc["summary"]["exit_code"].as_i64() {
                if code == 0 && fails(a, ctx.fail_on) {
                    doc["summary"]["exit_code"] = json!(1);
                }
            }
            let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
            s.push('\n');
            s
        }
        Format::Sarif => {
            let Ok(mut doc) = serde_json::from_str::<Value>(&lb_doc) else {
                return lb_doc;
            };
            sarif(&mut doc, a, ctx);
            let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
            s.push('\n');
            s
        }
        Format::Junit => junit(&lb_doc, a, ctx),
        Format::Github => {
            let mut out = lb_doc;
            out.push_str(&github(a, ctx));
            out
        }
    }
}

/// `explain` for one path: the chain walked stage by stage with cumulative worst-case times.
pub fn explain(r: &PathReport) -> String {
    let t = &r.target;
    let mut out = String::new();
    writeln!(
        out,
        "{} ({} {}, container {}): {}",
        t.name, t.kind, t.file, t.container, r.path.name
    )
    .ok();
    writeln!(out, "  how the app shuts down: {}", t.server_source.reason).ok();
    writeln!(
        out,
        "  readiness probe: {} (it does not speed up removal: a terminating pod's endpoint is ready=false from the deletion on, KEP-1672)",
        t.readiness.as_deref().unwrap_or("none")
    )
    .ok();
    writeln!(
        out,
        "  T+0s  the pod is deleted: endpoint withdrawal and the pod's shutdown start together"
    )
    .ok();
    match &t.prestop {
        crate::paths::Prestop::None => writeln!(out, "  T+0s  no preStop hook: SIGTERM at once").ok(),
        crate::paths::Prestop::Sleep { duration, loc } => {
            writeln!(out, "  T+0s  preStop sleeps {duration} ({loc})").ok()
        }
        crate::paths::Prestop::Unknown { what, assumed, loc } => writeln!(
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
                if s.unverified { ", unverified" } else { "" },
                s.source
            ),
        ));
        at = end;
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
        (_, _, Some(d)) => format!("recommended --shutdown-delay-duration {d} (a preStop sleep does not help)"),
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
    for f in &r.findings {
        writeln!(out, "  {}", finding_line(f)).ok();
    }
    out
}

/// `simulate` for the paths: sampled percentiles of the last send and P(fail) per path.
pub fn simulate(a: &PathsAnalysis, dists: &[Option<PathDistribution>], json_format: bool) -> String {
    if json_format {
        let v: Vec<Value> = a
            .reports
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
            .collect();
        let mut s =
            serde_json::to_string_pretty(&json!({ "kubernetes_paths": v })).expect("JSON values always serialize");
        s.push('\n');
        return s;
    }
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
                r.recommended_shutdown_delay
                    .map_or(String::new(), |d| format!(", --shutdown-delay-duration {d}"))
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
