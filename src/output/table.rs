//! Human-readable table (comfy-table, fitted to the terminal) followed by the findings, one per
//! line; `-q` prints the findings alone.

use super::term::{table_with, widths, wrap, Col, Paint, Term};
use super::{reported, ExportContext, Exporter};
use crate::analysis::findings::Severity;
use crate::analysis::{LbReport, Verdict};
use std::fmt::Write;

/// Table exporter.
pub struct TableExporter;

/// A severity's colour.
pub fn severity_paint(s: Severity) -> Paint {
    match s {
        Severity::Error => Paint::Red,
        Severity::Warning => Paint::Yellow,
        Severity::Note => Paint::Cyan,
    }
}

/// A verdict's word and colour.
pub fn verdict_cell(v: Verdict) -> (&'static str, Paint) {
    match v {
        Verdict::Pass => ("pass", Paint::Green),
        Verdict::Warn => ("WARN", Paint::Yellow),
        Verdict::Fail => ("FAIL", Paint::Red),
    }
}

/// The findings, one a line (a server-level finding once per server), severities coloured.
pub fn findings_lines(reports: &[LbReport], term: &Term) -> String {
    let mut out = String::new();
    for x in reported(reports) {
        let f = x.finding;
        let shared = if x.lbs.len() > 1 {
            format!(" (server {}, behind {} load balancers)", x.report.server, x.lbs.len())
        } else {
            String::new()
        };
        let tag = term.paint(&format!("{}[{}]", f.severity, f.rule.id()), severity_paint(f.severity));
        writeln!(out, "{tag} {}: {}{shared}", f.loc, f.message).ok();
    }
    out
}

impl Exporter for TableExporter {
    fn render(&self, reports: &[LbReport], ctx: &ExportContext) -> String {
        if ctx.quiet {
            return findings_lines(reports, &ctx.term);
        }
        // Rows are grouped by scenario and server, each group under a heading line: they are
        // often long paths, said once instead of in every row.
        let cols: Vec<Col> = ["lb", "provider"]
            .into_iter()
            .map(|header| Col { header, numeric: false })
            .chain(
                ["worst", "best", "budget", "margin"]
                    .into_iter()
                    .map(|header| Col { header, numeric: true }),
            )
            .chain(std::iter::once(Col {
                header: "verdict",
                numeric: false,
            }))
            .collect();
        let row = |r: &LbReport| {
            vec![
                r.lb.clone(),
                r.provider.clone(),
                r.extremes.worst.time.to_string(),
                r.extremes.best.time.to_string(),
                r.budget.to_string(),
                r.margin.to_string(),
                verdict_cell(r.verdict).0.to_string(),
            ]
        };
        let all: Vec<Vec<String>> = reports.iter().map(row).collect();
        let widths = widths(&cols, &all, &ctx.term);
        let mut out = String::new();
        for (k, group) in reports
            .chunk_by(|a, b| a.scenario == b.scenario && a.server == b.server)
            .enumerate()
        {
            if k > 0 {
                out.push('\n');
            }
            let first = &group[0];
            let heading = format!("{} (server {})", first.scenario, first.server);
            let heading = match ctx.term.width {
                Some(w) => wrap(&heading, w),
                None => heading,
            };
            let rows: Vec<Vec<String>> = group.iter().map(row).collect();
            let paint: Vec<Option<Paint>> = group.iter().map(|r| Some(verdict_cell(r.verdict).1)).collect();
            let t = table_with(&cols, &rows, &paint, &widths, &ctx.term);
            writeln!(out, "{heading}\n{t}").ok();
        }
        let findings = findings_lines(reports, &ctx.term);
        if !findings.is_empty() {
            out.push('\n');
            out.push_str(&findings);
        }
        let mut assumed: Vec<&str> = Vec::new();
        for r in reports.iter().filter(|r| r.server_source.assumed) {
            if !assumed.contains(&r.server_source.reason.as_str()) {
                assumed.push(&r.server_source.reason);
            }
        }
        for reason in assumed {
            let n = reports.iter().filter(|r| r.server_source.reason == reason).count();
            writeln!(
                out,
                "\nnote: server {reason} ({n} pairs); name it with --server NAME|PATH or server = in graceline.toml"
            )
            .ok();
        }
        for r in reports.iter().filter(|r| !r.assumed.is_empty()) {
            writeln!(out, "\nnote: {}: assumed, not read: {}", r.lb, r.assumed.join("; ")).ok();
        }
        if !ctx.skipped.is_empty() {
            writeln!(out, "\nskipped (not judged): {} load balancers", ctx.skipped.len()).ok();
            for (scenario, k) in &ctx.skipped {
                writeln!(out, "  {scenario}: {} at {}: {}", k.name, k.loc, k.reason).ok();
            }
        }
        let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
        writeln!(
            out,
            "\n{} pairs: {} fail, {} warn, {} pass (worst/best: time from /readyz failing until no new request is routed; budget: E3 - E2)",
            reports.len(),
            count(Verdict::Fail),
            count(Verdict::Warn),
            count(Verdict::Pass)
        )
        .ok();
        out
    }
}
