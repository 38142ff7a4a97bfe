//! Human-readable table (comfy-table) followed by the findings, one per line.

use super::{ExportContext, Exporter};
use crate::analysis::{LbReport, Verdict};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

/// Table exporter.
pub struct TableExporter;

impl Exporter for TableExporter {
    fn render(&self, reports: &[LbReport], ctx: &ExportContext) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(140);
        t.set_header(vec![
            "scenario", "lb", "provider", "server", "worst", "best", "budget", "margin", "verdict",
        ]);
        for r in reports {
            let verdict = match r.verdict {
                Verdict::Pass => "pass",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
            t.add_row(vec![
                Cell::new(&r.scenario),
                Cell::new(&r.lb),
                Cell::new(&r.provider),
                Cell::new(&r.server),
                right(r.extremes.worst.time.to_string()),
                right(r.extremes.best.time.to_string()),
                right(r.budget.to_string()),
                right(r.margin.to_string()),
                Cell::new(verdict),
            ]);
        }
        let mut out = format!("{t}\n");
        let mut any = false;
        for r in reports {
            for f in &r.findings {
                if !any {
                    out.push('\n');
                    any = true;
                }
                writeln!(out, "{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message).ok();
            }
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
        let with_defaults: Vec<&LbReport> = reports.iter().filter(|r| !r.assumed.is_empty()).collect();
        if !with_defaults.is_empty() {
            writeln!(out, "\nassumed (profile defaults, not in the input):").ok();
            for r in with_defaults {
                writeln!(out, "  {} ({}): {}", r.lb, r.provider, r.assumed.join(", ")).ok();
            }
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
