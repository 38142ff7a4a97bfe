//! Human-readable table (comfy-table, fitted to the terminal) followed by the findings as
//! diagnostics; `-q` prints the findings alone, one a line.

use super::diagnostic;
use super::term::{layout, wrap, write_table, Col, Paint};
use super::{reported, ExportContext, Exporter, Subject};
use crate::analysis::findings::Severity;
use crate::analysis::outcome::Outcome;
use crate::analysis::{LbReport, TimesFrom, Verdict};
use crate::scenario::sources::Texts;
use std::io::Write;

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

/// Writes the findings as diagnostics (see [`super::diagnostic`]), identical ones grouped; with
/// `-q` one line each. `which` keeps the load balancers' (`Some(true)`), the others'
/// (`Some(false)`) or all.
pub fn write_findings(
    o: &Outcome,
    which: Option<bool>,
    ctx: &ExportContext,
    sources: &Texts,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for x in reported(o) {
        let lb = matches!(x.subject, Subject::Lb { .. });
        if which.is_some_and(|w| w != lb) {
            continue;
        }
        if ctx.quiet {
            writeln!(out, "{}", diagnostic::one_line(&x, &ctx.term))?;
        } else {
            let fix: Vec<String> = super::fixes::for_finding(&ctx.fixes, &x)
                .into_iter()
                .map(super::fixes::Edit::paste)
                .collect();
            out.write_all(diagnostic::render(&x, &ctx.term, sources, &fix).as_bytes())?;
        }
    }
    Ok(())
}

impl Exporter for TableExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn Write) -> std::io::Result<()> {
        let sources = &ctx.texts;
        for a in &ctx.overrides {
            writeln!(out, "{a}")?;
        }
        if ctx.quiet {
            return write_findings(o, None, ctx, sources, out);
        }
        if !o.lbs.is_empty() || o.paths.is_empty() {
            write_lbs(o, ctx, sources, out)?;
        }
        let mut k = o.paths_analysis();
        // An assumption the load balancers' notes already said is not said twice.
        k.assumptions.retain(|a| {
            !o.lbs
                .iter()
                .any(|r| r.server_source.assumed && r.server_source.reason == *a)
        });
        if !(k.is_empty() && k.assumptions.is_empty()) {
            let mut findings = Vec::new();
            write_findings(o, Some(false), ctx, sources, &mut findings)?;
            let findings = String::from_utf8_lossy(&findings);
            out.write_all(super::paths::table(&k, ctx.term.width, findings.trim_end()).as_bytes())?;
        }
        if !ctx.suppressed.is_empty() {
            writeln!(
                out,
                "\nsuppressed ({}; listed, not counted toward the exit code):\n{}",
                ctx.suppressed.len(),
                super::suppress::table_lines(&ctx.suppressed)
            )?;
        }
        Ok(())
    }
}

/// A row's figure, or `-` when the row has none (a node check with no path to judge, or a path
/// that never stops sending).
fn figure(r: &LbReport, m: crate::time::Micros) -> String {
    if r.times_from == TimesFrom::NotJudged || r.route.as_ref().is_some_and(|x| x.never) {
        "-".to_string()
    } else {
        m.to_string()
    }
}

/// The load balancers' table, their findings, what was assumed and skipped, and the counts.
fn write_lbs(o: &Outcome, ctx: &ExportContext, sources: &Texts, out: &mut dyn Write) -> std::io::Result<()> {
    let reports = &o.lbs;
    {
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
                figure(r, r.extremes.worst.time),
                figure(r, r.extremes.best.time),
                figure(r, r.budget),
                figure(r, r.margin),
                verdict_cell(r.verdict).0.to_string(),
            ]
        };
        let all: Vec<Vec<String>> = reports.iter().map(row).collect();
        let layout = layout(&cols, &all, &ctx.term);
        drop(all);
        for (k, group) in reports
            .chunk_by(|a, b| a.scenario == b.scenario && a.server == b.server)
            .enumerate()
        {
            if k > 0 {
                out.write_all(b"\n")?;
            }
            let first = &group[0];
            let heading = if group.iter().any(|r| r.times_from == TimesFrom::PodDeletion) {
                format!(
                    "{} (server {}; times from the pod's deletion, like its Kubernetes paths)",
                    first.scenario, first.server
                )
            } else {
                format!("{} (server {})", first.scenario, first.server)
            };
            let heading = match ctx.term.width {
                Some(w) => wrap(&heading, w),
                None => heading,
            };
            writeln!(out, "{heading}")?;
            let cells = |i: usize| (row(&group[i]), Some(verdict_cell(group[i].verdict).1));
            write_table(&cols, group.len(), cells, &layout, &ctx.term, out)?;
        }
        if reports.iter().any(|r| !r.findings.is_empty()) {
            out.write_all(b"\n")?;
            let mut text = Vec::new();
            write_findings(o, Some(true), ctx, sources, &mut text)?;
            // The blank line after the last diagnostic is the next section's.
            out.write_all(String::from_utf8_lossy(&text).trim_end().as_bytes())?;
            out.write_all(b"\n")?;
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
            )?;
        }
        let with_assumed: Vec<&LbReport> = reports.iter().filter(|r| !r.assumed.is_empty()).collect();
        if !with_assumed.is_empty() {
            writeln!(
                out,
                "\nassumed, not read from the input (why: --format json or graceline report):"
            )?;
            for r in with_assumed {
                let list: Vec<String> = r.assumed.iter().map(|(k, v, _)| format!("{k} = {v}")).collect();
                writeln!(out, "  {} ({}): {}", r.lb, r.provider, list.join(", "))?;
            }
        }
        let tiered: Vec<&LbReport> = reports.iter().filter(|r| r.tiers.len() > 1).collect();
        if !tiered.is_empty() {
            writeln!(
                out,
                "\npropagation tiers (the error tier decides the verdict; --propagation tail makes it the tail; graceline explain names the sources):"
            )?;
            for r in tiered {
                let list: Vec<String> = r
                    .tiers
                    .iter()
                    .map(|t| {
                        format!(
                            "{}{} {}: {}, margin {}{}",
                            t.tier,
                            if t.error_tier { "*" } else { "" },
                            t.range,
                            verdict_cell(t.verdict).0,
                            t.margin,
                            match (t.verdict, t.recommended_shutdown_delay) {
                                (Verdict::Pass, _) | (_, None) => String::new(),
                                (_, Some(d)) => format!(" (shutdown_delay >= {d} covers it)"),
                            }
                        )
                    })
                    .collect();
                writeln!(out, "  {} ({}): {}", r.lb, r.provider, list.join("; "))?;
            }
        }
        if !o.skipped.is_empty() {
            writeln!(out, "\nskipped (not judged): {} load balancers", o.skipped.len())?;
            for (scenario, k) in &o.skipped {
                writeln!(out, "  {scenario}: {} at {}: {}", k.name, k.loc, k.reason)?;
            }
        }
        let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
        let from_deletion = if reports.iter().any(|r| r.times_from == TimesFrom::PodDeletion) {
            "; rows of a Service's pods: from the pod's deletion until no new request is routed, budget: when the app stops listening"
        } else {
            ""
        };
        writeln!(
            out,
            "\n{} pairs: {} fail, {} warn, {} pass (worst/best: time from /readyz failing until no new request is routed; budget: E3 - E2{from_deletion})",
            reports.len(),
            count(Verdict::Fail),
            count(Verdict::Warn),
            count(Verdict::Pass)
        )
    }
}
