//! Machine-readable JSON: one object per scenario × LB, times in seconds.

use super::{fails, secs, Counts, ExportContext, Exporter};
use crate::analysis::LbReport;
use serde_json::{json, Value};

/// JSON exporter.
pub struct JsonExporter;

/// The JSON object of one report.
pub fn report_json(r: &LbReport) -> Value {
    let tl = &r.timeline;
    json!({
        "scenario": r.scenario,
        "file": r.file,
        "lb": r.lb,
        "provider": r.provider,
        "family": r.family,
        "server": r.server,
        "server_source": {
            "origin": r.server_source.origin,
            "assumed": r.server_source.assumed,
            "reason": r.server_source.reason,
        },
        "worst_case_s": secs(r.extremes.worst.time),
        "best_case_s": secs(r.extremes.best.time),
        "worst_case_attained": r.extremes.worst.witness.attained,
        "detection_worst_s": secs(r.extremes.worst.detection),
        "detection_best_s": secs(r.extremes.best.detection),
        "propagation_s": secs(r.extremes.worst.time - r.extremes.worst.detection),
        "propagation_range_s": [secs(r.propagation.lo), secs(r.propagation.hi)],
        "propagation_source": r.propagation_source,
        "assumed": r.assumed.iter().map(|(k, v, src)| json!({"setting": k, "value": v, "source": src})).collect::<Vec<_>>(),
        "budget_s": secs(r.budget),
        "margin_s": secs(r.margin),
        "verdict": r.verdict,
        "recommended_shutdown_delay_s": r.recommended_shutdown_delay.map(secs),
        "recommended_termination_grace_period_s": r.recommended_termination_grace_period.map(secs),
        "recommended_fix_binds": r.recommended_fix_binds,
        "probes_per_second": r.probes_per_second,
        "timeline_s": {
            "e1": secs(tl.e1), "e2": secs(tl.e2), "e3": secs(tl.e3), "e4": secs(tl.e4), "e5": secs(tl.e5),
            "sigkill": secs(tl.kill), "killed": tl.killed, "listener_close": secs(tl.listener_close),
        },
        "findings": r.findings.iter().map(|f| json!({
            "rule": f.rule.id(),
            "name": f.rule.name(),
            "severity": f.severity,
            "message": f.message,
            "file": f.loc.file,
            "line": f.loc.line,
            "column": f.loc.column,
            "scope": if f.rule.server_level() { "server" } else { "lb" },
        })).collect::<Vec<_>>(),
    })
}

/// Counts per verdict and per severity (a server-level finding counted once per server) and the
/// exit code `check` returns.
pub fn summary_json(reports: &[LbReport], ctx: &ExportContext) -> Value {
    let c = Counts::of(reports);
    json!({
        "pairs": reports.len(),
        "verdicts": { "pass": c.pass, "warn": c.warn, "fail": c.fail },
        "findings": { "error": c.errors, "warning": c.warnings, "note": c.notes },
        "fail_on": ctx.fail_on,
        "exit_code": if fails(reports, ctx.fail_on) { 1 } else { 0 },
    })
}

impl Exporter for JsonExporter {
    fn render(&self, reports: &[LbReport], ctx: &ExportContext) -> String {
        // The results are written one at a time (50 000 pairs would otherwise hold a JSON tree of
        // about 600 MB); the text is the same as pretty-printing the whole document, whose keys
        // serde_json sorts: "results", "skipped", "summary", "tool", "version".
        let rest = json!({
            "tool": "graceline",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": summary_json(reports, ctx),
            "skipped": ctx.skipped.iter().map(|(scenario, k)| json!({
                "scenario": scenario,
                "lb": k.name,
                "file": k.loc.file,
                "line": k.loc.line,
                "column": k.loc.column,
                "reason": k.reason,
            })).collect::<Vec<_>>(),
        });
        let mut s = String::from("{\n  \"results\": [");
        for (i, r) in reports.iter().enumerate() {
            s.push_str(if i == 0 { "\n" } else { ",\n" });
            let one = serde_json::to_string_pretty(&report_json(r)).expect("JSON values always serialize");
            for (j, line) in one.lines().enumerate() {
                if j > 0 {
                    s.push('\n');
                }
                s.push_str("    ");
                s.push_str(line);
            }
        }
        s.push_str(if reports.is_empty() { "]" } else { "\n  ]" });
        let rest = serde_json::to_string_pretty(&rest).expect("JSON values always serialize");
        s.push_str(",\n");
        s.push_str(rest.strip_prefix("{\n").unwrap_or(&rest));
        s.push('\n');
        s
    }
}
