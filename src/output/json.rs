//! Machine-readable JSON: one object per scenario × LB, times in seconds.

use super::{reported, secs, Counts, ExportContext, Exporter, Reported, Subject};
use crate::analysis::findings::Severity;
use crate::analysis::outcome::{Outcome, Route};
use crate::analysis::{LbReport, TimesFrom, Verdict};
use crate::paths::PathVerdict;
use crate::scenario::k8s::CheckTarget;
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Write;

/// JSON exporter.
pub struct JsonExporter;

/// The JSON object of one report, serialized straight from the report (no `Value` tree per pair).
/// Fields are in the order serde_json gives the keys of a whole-document `Value` (sorted), which
/// the output of earlier versions used.
#[derive(Serialize)]
struct ReportJson<'a> {
    assumed: Vec<AssumedJson<'a>>,
    best_case_s: f64,
    budget_s: f64,
    #[serde(skip_serializing_if = "is_server")]
    check: CheckTarget,
    detection_best_s: f64,
    detection_worst_s: f64,
    family: &'static str,
    file: &'a str,
    findings: Vec<FindingJson<'a>>,
    lb: &'a str,
    margin_s: f64,
    probes_per_second: f64,
    propagation_range_s: [f64; 2],
    propagation_s: f64,
    propagation_source: &'a str,
    propagation_tier: crate::provider::tiers::PropagationTier,
    provider: &'a str,
    recommended_fix_binds: Option<crate::analysis::Binds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended_prestop_s: Option<f64>,
    recommended_shutdown_delay_s: Option<f64>,
    recommended_termination_grace_period_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a Route>,
    scenario: &'a str,
    server: &'a str,
    server_source: ServerSourceJson<'a>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    tiers: std::collections::BTreeMap<&'static str, TierJson<'a>>,
    timeline_s: TimelineJson,
    #[serde(skip_serializing_if = "from_readyz")]
    times_from: TimesFrom,
    verdict: Verdict,
    worst_case_attained: bool,
    worst_case_s: f64,
}

fn is_server(c: &CheckTarget) -> bool {
    *c == CheckTarget::Server
}

fn from_readyz(t: &TimesFrom) -> bool {
    *t == TimesFrom::ReadyzFailing
}

/// A value assumed rather than read.
#[derive(Serialize)]
struct AssumedJson<'a> {
    setting: &'a str,
    source: &'a str,
    value: &'a str,
}

/// One finding of a report.
#[derive(Serialize)]
struct FindingJson<'a> {
    column: u32,
    file: &'a str,
    line: u32,
    message: &'a str,
    name: &'static str,
    rule: &'static str,
    scope: &'static str,
    severity: Severity,
}

/// One propagation tier's figures: worst case, margin and recommended delay with its top.
#[derive(Serialize)]
struct TierJson<'a> {
    caveats: Option<&'a str>,
    cite: &'a str,
    error_tier: bool,
    evidence: crate::profiles::Evidence,
    margin_s: f64,
    propagation_range_s: [f64; 2],
    recommended_shutdown_delay_s: Option<f64>,
    recommended_termination_grace_period_s: Option<f64>,
    source: &'a str,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    worst_case_s: f64,
}

/// Where the server came from.
#[derive(Serialize)]
struct ServerSourceJson<'a> {
    assumed: bool,
    origin: &'a str,
    reason: &'a str,
}

/// The server timeline in seconds.
#[derive(Serialize)]
struct TimelineJson {
    e1: f64,
    e2: f64,
    e3: f64,
    e4: f64,
    e5: f64,
    killed: bool,
    listener_close: f64,
    sigkill: f64,
}

impl<'a> ReportJson<'a> {
    fn of(r: &'a LbReport) -> Self {
        let tl = &r.timeline;
        ReportJson {
            assumed: r
                .assumed
                .iter()
                .map(|(k, v, src)| AssumedJson {
                    setting: k,
                    source: src,
                    value: v,
                })
                .collect(),
            best_case_s: secs(r.extremes.best.time),
            budget_s: secs(r.budget),
            check: r.check,
            detection_best_s: secs(r.extremes.best.detection),
            detection_worst_s: secs(r.extremes.worst.detection),
            family: r.family,
            file: &r.file,
            findings: r
                .findings
                .iter()
                .map(|f| FindingJson {
                    column: f.loc.column,
                    file: &f.loc.file,
                    line: f.loc.line,
                    message: &f.message,
                    name: f.rule.name(),
                    rule: f.rule.id(),
                    scope: if f.rule.server_level() { "server" } else { "lb" },
                    severity: f.severity,
                })
                .collect(),
            lb: &r.lb,
            margin_s: secs(r.margin),
            probes_per_second: r.probes_per_second,
            propagation_range_s: [secs(r.propagation.lo), secs(r.propagation.hi)],
            propagation_s: secs(r.extremes.worst.time - r.extremes.worst.detection),
            propagation_source: &r.propagation_source,
            propagation_tier: r.propagation_tier,
            provider: &r.provider,
            recommended_fix_binds: r.recommended_fix_binds,
            recommended_prestop_s: r.recommended_prestop.map(secs),
            route: r.route.as_ref(),
            recommended_shutdown_delay_s: r.recommended_shutdown_delay.map(secs),
            recommended_termination_grace_period_s: r.recommended_termination_grace_period.map(secs),
            scenario: &r.scenario,
            server: &r.server,
            server_source: ServerSourceJson {
                assumed: r.server_source.assumed,
                origin: &r.server_source.origin,
                reason: &r.server_source.reason,
            },
            tiers: r
                .tiers
                .iter()
                .map(|t| {
                    (
                        t.tier.name(),
                        TierJson {
                            caveats: t.caveats.as_deref(),
                            cite: &t.cite,
                            error_tier: t.error_tier,
                            evidence: t.evidence,
                            margin_s: secs(t.margin),
                            propagation_range_s: [secs(t.range.lo), secs(t.range.hi)],
                            recommended_shutdown_delay_s: t.recommended_shutdown_delay.map(secs),
                            recommended_termination_grace_period_s: t.recommended_termination_grace_period.map(secs),
                            source: &t.source,
                            verdict: t.verdict,
                            why: t.why.as_deref(),
                            worst_case_s: secs(t.worst),
                        },
                    )
                })
                .collect(),
            timeline_s: TimelineJson {
                e1: secs(tl.e1),
                e2: secs(tl.e2),
                e3: secs(tl.e3),
                e4: secs(tl.e4),
                e5: secs(tl.e5),
                killed: tl.killed,
                listener_close: secs(tl.listener_close),
                sigkill: secs(tl.kill),
            },
            times_from: r.times_from,
            verdict: r.verdict,
            worst_case_attained: r.extremes.worst.witness.attained,
            worst_case_s: secs(r.extremes.worst.time),
        }
    }
}

/// The JSON object of one report.
pub fn report_json(r: &LbReport) -> Value {
    serde_json::to_value(ReportJson::of(r)).expect("JSON values always serialize")
}

/// Counts per verdict and per severity (a server-level finding counted once per server) and the
/// exit code `check` returns.
pub fn summary_json(o: &Outcome, ctx: &ExportContext) -> Value {
    let c = Counts::of(o);
    let mut v = json!({
        "pairs": o.lbs.len(),
        "verdicts": { "pass": c.pass, "warn": c.warn, "fail": c.fail },
        "findings": { "error": c.errors, "warning": c.warnings, "note": c.notes },
        "suppressed": ctx.suppressed.len(),
        "fail_on": ctx.fail_on,
        "exit_code": if o.fails(ctx.fail_on) { 1 } else { 0 },
    });
    if has_paths(o) {
        let count = |x: PathVerdict| o.paths.iter().filter(|r| r.verdict == x).count();
        let k = o.paths_analysis();
        let sev = |x: Severity| k.findings().filter(|f| f.severity == x).count();
        v["kubernetes_paths"] = json!({
            "paths": o.paths.len(),
            "verdicts": { "pass": count(PathVerdict::Pass), "warn": count(PathVerdict::Warn), "fail": count(PathVerdict::Fail) },
            "findings": { "error": sev(Severity::Error), "warning": sev(Severity::Warning), "note": sev(Severity::Note) },
        });
    }
    v
}

/// True when the outcome has a Kubernetes side to print.
fn has_paths(o: &Outcome) -> bool {
    !(o.paths.is_empty() && o.general.is_empty() && o.assumptions.is_empty())
}

/// One finding of the run as every format reports it (identical ones grouped): the top-level
/// `findings` array.
#[derive(Serialize)]
struct ReportedJson<'a> {
    column: u32,
    file: &'a str,
    fingerprints: Vec<String>,
    /// Paste-ready fixes in the input's own syntax (`output::fixes::for_finding`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fix: Vec<FixJson<'a>>,
    headline: String,
    help: String,
    line: u32,
    message: String,
    name: &'static str,
    rule: &'static str,
    scope: &'static str,
    severity: Severity,
    subjects: Vec<String>,
}

/// One edit of a paste-ready fix.
#[derive(Serialize)]
struct FixJson<'a> {
    file: &'a str,
    line: usize,
    /// `replace` the line, `insert_after` it, or `none`: a fix `--fix-diff` cannot write (`text`
    /// says why).
    action: &'static str,
    text: &'a str,
}

impl<'a> ReportedJson<'a> {
    fn of(x: &Reported<'a>, ctx: &'a ExportContext) -> Self {
        let f = x.finding;
        let fix = super::fixes::for_finding(&ctx.fixes, x)
            .into_iter()
            .map(|e| FixJson {
                file: &e.file,
                line: e.line,
                action: match (e.written, e.insert) {
                    (false, _) => "none",
                    (true, true) => "insert_after",
                    (true, false) => "replace",
                },
                text: &e.text,
            })
            .collect();
        ReportedJson {
            fix,
            column: f.loc.column,
            file: &f.loc.file,
            fingerprints: x.fingerprints(&ctx.root),
            headline: super::diagnostic::headline(x),
            help: super::diagnostic::evidence_and_help(x).1,
            line: f.loc.line,
            message: x.message(),
            name: f.rule.name(),
            rule: f.rule.id(),
            scope: match x.subject {
                Subject::Lb { .. } if f.rule.server_level() => "server",
                Subject::Lb { .. } => "lb",
                Subject::Path(_) => "path",
                Subject::General(_) => "object",
            },
            severity: f.severity,
            subjects: x.subjects(),
        }
    }
}

/// Writes `items` as the pretty-printed JSON array `key` one level inside the document, one item
/// at a time.
fn write_array<T: Serialize>(out: &mut dyn Write, key: &str, items: impl Iterator<Item = T>) -> std::io::Result<()> {
    write!(out, "  \"{key}\": [")?;
    let mut one = Vec::new();
    let mut empty = true;
    for item in items {
        out.write_all(if empty { b"\n" } else { b",\n" })?;
        empty = false;
        one.clear();
        serde_json::to_writer_pretty(&mut one, &item).map_err(std::io::Error::other)?;
        // Indented one level deeper (a JSON text has no raw newline inside a string).
        for (j, line) in one.split(|&b| b == b'\n').enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"    ")?;
            out.write_all(line)?;
        }
    }
    out.write_all(if empty { b"]" } else { b"\n  ]" })
}

/// The members of a JSON object, one level inside the document, without its braces.
fn members(v: &Value) -> String {
    let text = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    text.strip_prefix("{\n")
        .and_then(|p| p.strip_suffix("\n}"))
        .unwrap_or(&text)
        .to_string()
}

impl Exporter for JsonExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn Write) -> std::io::Result<()> {
        // The arrays are written one item at a time (50 000 pairs would otherwise hold a JSON tree
        // of about 600 MB, or a 150 MB string); the text is the same as pretty-printing the whole
        // document, whose keys serde_json sorts: "findings", "kubernetes_paths", "results",
        // "skipped", "summary", "suppressed", "tool", "version".
        let reports = &o.lbs;
        let mut before = serde_json::Map::new();
        if !ctx.overrides.is_empty() {
            before.insert("overrides".to_string(), json!(ctx.overrides));
        }
        if has_paths(o) {
            before.insert(
                "kubernetes_paths".to_string(),
                super::paths::json_value(&o.paths_analysis()),
            );
        }
        let after = json!({
            "suppressed": ctx.suppressed.iter().map(|x| json!({
                "rule": x.finding.rule.id(),
                "name": x.finding.rule.name(),
                "severity": x.finding.severity,
                "message": x.finding.message,
                "file": x.finding.loc.file,
                "line": x.finding.loc.line,
                "column": x.finding.loc.column,
                "subjects": x.subjects,
                "fingerprints": x.fingerprints,
                "kind": x.suppression.kind,
                "justification": x.suppression.justification,
                "origin": x.suppression.origin,
            })).collect::<Vec<_>>(),
            "tool": "graceline",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": summary_json(o, ctx),
            "skipped": o.skipped.iter().map(|(scenario, k)| json!({
                "scenario": scenario,
                "lb": k.name,
                "file": k.loc.file,
                "line": k.loc.line,
                "column": k.loc.column,
                "reason": k.reason,
            })).collect::<Vec<_>>(),
        });
        out.write_all(b"{\n")?;
        write_array(out, "findings", reported(o).iter().map(|x| ReportedJson::of(x, ctx)))?;
        out.write_all(b",\n")?;
        if !before.is_empty() {
            out.write_all(members(&Value::Object(before)).as_bytes())?;
            out.write_all(b",\n")?;
        }
        write_array(out, "results", reports.iter().map(ReportJson::of))?;
        out.write_all(b",\n")?;
        out.write_all(members(&after).as_bytes())?;
        out.write_all(b"\n}\n")
    }
}
