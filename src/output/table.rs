//! Human-readable table (comfy-table, fitted to the terminal) followed by the findings, one per
//! line; `-q` prints the findings alone.

use super::term::{widths, wrap, write_table, Col, Paint, Term};
use super::{reported, ExportContext, Exporter, Subject};
use crate::analysis::findings::Severity;
use crate::analysis::outcome::Outcome;
use crate::analysis::{LbReport, TimesFrom, Verdict};
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

/// Writes the findings, one a line (a server-level finding once per server), severities coloured;
/// `lbs_only` keeps the load balancers' (the paths' follow their own table).
pub fn write_findings(o: &Outcome, lbs_only: bool, term: &Term, out: &mut dyn Write) -> std::io::Result<()> {
    for x in reported(o) {
        let f = x.finding;
        let shared = match &x.subject {
            Subject::Lb { report, lbs } if lbs.len() > 1 => {
                format!(" (server {}, behind {} load balancers)", report.server, lbs.len())
            }
            Subject::Lb { .. } => String::new(),
            _ if lbs_only => continue,
            _ => String::new(),
        };
        let tag = term.paint(&format!("{}[{}]", f.severity, f.rule.id()), severity_paint(f.severity));
        writeln!(out, "{tag} {}: {}{shared}", f.loc, f.message)?;
    }
    Ok(())
}

impl Exporter for TableExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn Write) -> std::io::Result<()> {
        if ctx.quiet {
            return write_findings(o, false, &ctx.term, out);
        }
        if !o.lbs.is_empty() || o.paths.is_empty() {
            write_lbs(o, ctx, out)?;
        }
        let mut k = o.paths_analysis();
        // An assumption the load balancers' notes already said is not said twice.
        k.assumptions.retain(|a| {
            !o.lbs
                .iter()
                .any(|r| r.server_source.assumed && r.server_source.reason == *a)
        });
        if !(k.is_empty() && k.assumptions.is_empty()) {
            out.write_all(super::paths::table(&k, ctx.term.width).as_bytes())?;
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
fn write_lbs(o: &Outcome, ctx: &ExportContext, out: &mut dyn Write) -> std::io::Result<()> {
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
        let widths = widths(&cols, &all, &ctx.term);
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
            write_table(&cols, group.len(), cells, &widths, &ctx.term, out)?;
        }
        if reports.iter().any(|r| !r.findings.is_empty()) {
            out.write_all(b"\n")?;
            write_findings(o, true, &ctx.term, out)?;
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
