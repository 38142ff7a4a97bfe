//! The first run: `check` with nothing to read shows the teaching matrix (see
//! [`crate::scenario::teaching`]) as one compact table, LB checks down and server timelines across,
//! the findings grouped by rule with counts, and the next step to take.

use super::reported;
use super::table::verdict_cell;
use super::term::{fit_painted, wrap, Col, Paint, Term};
use crate::analysis::findings::RULES;
use crate::analysis::outcome::Outcome;
use crate::provider::Protocol;
use crate::scenario::{protocol_of, Scenario};
use std::fmt::Write;

/// A row label: the LB, its check and what the check looks at (`aws-alb default (HTTP /)`).
fn label(lb: &crate::scenario::LbSpec) -> String {
    let protocol = match protocol_of(lb) {
        Protocol::Tcp => "TCP",
        Protocol::Http => "HTTP",
        Protocol::Https => "HTTPS",
    };
    match &lb.settings.path {
        Some(p) if protocol != "TCP" && !lb.name.ends_with(p.value.as_str()) => {
            format!("{} ({protocol} {})", lb.name, p.value)
        }
        _ => format!("{} ({protocol})", lb.name),
    }
}

/// Renders the teaching matrix: `o` is the outcome of `scenarios`, one scenario per column.
pub fn render(scenarios: &[Scenario], o: &Outcome, term: &Term) -> String {
    let reports = &o.lbs;
    let mut out = String::new();
    let text_width = term.width.unwrap_or(100).min(100);
    let para = |text: &str| format!("{}\n", wrap(text, text_width));
    out.push_str(&para(
        "No input and no ./graceline.toml, so here is what graceline checks, on its built-in profiles: every load balancer's provider default beside the same LB checking /readyz, against three kube-apiserver shutdowns. A cell is the verdict and the worst-case time t from /readyz failing until the LB routes no new request: detection (failed probes until the LB marks the server down) plus propagation (from marked down until the LB's data plane stops routing: field figures for the AWS NLB and GCP, 0 where none is known). t must stay below the budget (E3 - E2). FAIL: new requests can reach the closed port; WARN: t stays below the budget, but by less than the 5s margin, or the LB warns otherwise (its propagation is unknown, so t may be longer); pass: neither.",
    ));
    out.push('\n');
    let Some(first) = scenarios.first() else {
        return out;
    };
    let labels: Vec<String> = first.lbs.iter().map(label).collect();
    let headers: Vec<String> = scenarios
        .iter()
        .map(|sc| format!("{}, budget {}", sc.name, sc.server.timeline().budget()))
        .collect();
    let mut cols = vec![Col {
        header: "load balancer check",
        numeric: false,
    }];
    cols.extend(headers.iter().map(|h| Col {
        header: h.as_str(),
        numeric: false,
    }));
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut paints: Vec<Vec<Option<Paint>>> = Vec::new();
    for (i, text) in labels.iter().enumerate() {
        let (mut row, mut paint) = (vec![text.clone()], vec![None]);
        for sc in scenarios {
            match reports.iter().find(|r| r.file == sc.file && r.lb == sc.lbs[i].name) {
                Some(r) => {
                    let (word, p) = verdict_cell(r.verdict);
                    row.push(format!("{word} {}", r.extremes.worst.time));
                    paint.push(Some(p));
                }
                None => {
                    row.push("-".to_string());
                    paint.push(None);
                }
            }
        }
        rows.push(row);
        paints.push(paint);
    }
    let t = fit_painted(&cols, &rows, &|r, c| paints[r][c], term);
    writeln!(out, "{t}\n").ok();
    let found = reported(o);
    writeln!(out, "Findings by rule:").ok();
    for rule in RULES {
        // Pairs, not groups: a finding shared by several load balancers counts for each.
        let n: usize = found
            .iter()
            .filter(|x| x.finding.rule == rule)
            .map(|x| match &x.subject {
                super::Subject::Lb { lbs, .. } if !rule.server_level() => lbs.len(),
                _ => 1,
            })
            .sum();
        if n > 0 {
            let tag = format!("{:<14}", format!("{}[{}]", rule.severity(), rule.id()));
            let tag = term.paint(&tag, super::table::severity_paint(rule.severity()));
            let indent = 2 + 14 + 1 + 5;
            let body = wrap(
                &format!("{}: {}", rule.name(), rule.short()),
                text_width.saturating_sub(indent).max(20),
            )
            .replace('\n', &format!("\n{}", " ".repeat(indent)));
            writeln!(out, "  {tag} x{n:<3} {body}").ok();
        }
    }
    let pass = reports
        .iter()
        .filter(|r| r.verdict == crate::analysis::Verdict::Pass)
        .count();
    out.push('\n');
    out.push_str(&para(&format!(
        "{} pairs, {pass} pass: only a check of /readyz can take the server out before it stops listening, and only when the shutdown delay outlasts the LB's worst-case detection.",
        reports.len()
    )));
    out.push('\n');
    out.push_str(&para(
        "This judged nothing of yours (exit code 0). Next: the settings behind a row, with the source of every number, and every LB profile against the server you run:",
    ));
    out.push_str("  graceline profiles aws-nlb\n");
    out.push_str("  graceline check --server kube-apiserver-openshift-aws\n");
    // In a checkout of graceline's repository its fixtures are there to try.
    let seed = "tests/fixtures/seed-openshift-aws.toml";
    if std::path::Path::new(seed).is_file() {
        out.push_str(&para("Try the repository's examples:"));
        out.push_str(&format!("  graceline check {seed}\n"));
        out.push_str("  graceline check tests/fixtures/inputs/project/graceline.toml\n");
        out.push_str(&format!("  graceline explain {seed}   (why, probe by probe)\n"));
    }
    out.push_str(&para(
        "Then check your own files (haproxy.cfg, Kubernetes YAML, `terraform show -json` output, kube-apiserver manifests, or a directory of them), e.g. `graceline check haproxy.cfg manifests/kube-apiserver.yaml`, and list them in a graceline.toml so that `graceline check` runs the same in CI.",
    ));
    out
}
