//! `simulate` output: percentiles per LB next to the exact extremes, as a table or JSON.

use super::{secs, PlainFormat};
use crate::analysis::montecarlo::LbDistribution;
use crate::scenario::Scenario;
use crate::time::Micros;
use serde_json::{json, Value};
use std::fmt::Write;

/// Seconds truncated to the millisecond, for tables: a sample one microsecond short of 30 s shows
/// as 29.999s, never as the worst case it only approaches.
pub fn short(m: Micros) -> String {
    if m.0 < 0 {
        return m.to_string();
    }
    format!("{}.{:03}s", m.0 / 1_000_000, m.0 % 1_000_000 / 1_000)
}

/// What was random for this LB, in words.
pub fn randomness(sc: &Scenario, lb_index: usize) -> String {
    let lb = &sc.lbs[lb_index];
    if let Some(t) = crate::analysis::unchecked_until(sc, lb) {
        return format!(
            "nothing: no check exists, every sample is E5 - E2 + startup = {t}; {}",
            crate::analysis::unchecked_words(lb)
        );
    }
    let mut parts = Vec::new();
    parts.push(if lb.probers.lo == lb.probers.hi {
        format!("phase of {} prober(s)", lb.probers.hi)
    } else {
        format!("{}-{} probers and their phases", lb.probers.lo, lb.probers.hi)
    });
    match &lb.latency {
        Some(l) => {
            let r = l.range();
            parts.push(format!("latency per probe ({} to {})", r.lo, r.hi));
        }
        None => parts.push(format!("latency fixed at {}", sc.server.response_time)),
    }
    if let crate::provider::Schedule::CompletionRelative { spread_pct, .. } = lb.model.schedule {
        if spread_pct > 0 {
            parts.push(format!("spread-checks jitter ±{spread_pct}%"));
        }
    }
    if lb.model.propagation.lo < lb.model.propagation.hi {
        parts.push(format!(
            "propagation uniform over {} to {}",
            lb.model.propagation.lo, lb.model.propagation.hi
        ));
    }
    if sc.server.readyz_failure == crate::timeline::ReadyzFailure::Either {
        parts.push(format!(
            "failure mode (timeout with p = {})",
            sc.readyz_timeout_probability
        ));
    }
    parts.join(", ")
}

/// The JSON object of one LB's distribution.
pub fn distribution_json(sc: &Scenario, lb_index: usize, d: &LbDistribution) -> Value {
    let e = &d.exact.extremes;
    json!({
        "scenario": sc.name,
        "lb": d.exact.lb,
        "provider": d.exact.provider,
        "trials": d.trials,
        "seed": d.seed,
        "p50_s": secs(d.p50),
        "p90_s": secs(d.p90),
        "p99_s": secs(d.p99),
        "p999_s": secs(d.p999),
        "max_s": secs(d.max),
        "min_s": secs(d.min),
        "mean_s": d.mean_s,
        "violation_probability": d.violation_probability,
        "mean_exposure_s": d.mean_exposure_s,
        "expected_failed_requests": d.expected_failed_requests,
        "requests_per_second_per_backend": sc.traffic.map(|t| t.per_backend()),
        "exact_worst_s": secs(e.worst.time),
        "exact_best_s": secs(e.best.time),
        "budget_s": secs(d.exact.budget),
        "random": randomness(sc, lb_index),
        "unchecked": crate::analysis::unchecked_until(sc, &sc.lbs[lb_index]).is_some(),
        "propagation_range_s": [secs(d.exact.propagation.lo), secs(d.exact.propagation.hi)],
        "propagation_source": d.exact.propagation_source,
        "assumed": d.exact.assumed.iter().map(|(k, v, src)| json!({"setting": k, "value": v, "source": src})).collect::<Vec<_>>(),
        "client_view": {
            "failing_share": d.client.failing_share,
            "after_s": secs(d.client.after),
            "summary": d.client.summary,
            "connections": d.client.connections,
        },
        "propagation_tier": d.exact.propagation_tier,
        "tiers": d.tiers.iter().map(|t| (t.tier.name().to_string(), json!({
            "propagation_range_s": [secs(t.range.lo), secs(t.range.hi)],
            "violation_probability": t.violation_probability,
            "mean_exposure_s": t.mean_exposure_s,
            "expected_failed_requests": t.expected_failed_requests,
        }))).collect::<serde_json::Map<String, Value>>(),
    })
}

/// One LB's P(violation) per propagation tier, in one line (empty without tiers).
pub fn tier_line(d: &LbDistribution) -> Option<String> {
    if d.tiers.is_empty() {
        return None;
    }
    let parts: Vec<String> = d
        .tiers
        .iter()
        .map(|t| {
            format!(
                "{}{} {}: {:.4}{}",
                t.tier,
                if t.tier == d.exact.propagation_tier.tier() {
                    "*"
                } else {
                    ""
                },
                t.range,
                t.violation_probability,
                t.expected_failed_requests
                    .map_or_else(String::new, |f| format!(" ({f:.2} failed req/restart)"))
            )
        })
        .collect();
    Some(format!("P(violation) by propagation tier: {}", parts.join("; ")))
}

/// One scenario's distributions, each with the index of its LB in the scenario.
pub type Section<'a> = (&'a Scenario, Vec<(usize, LbDistribution)>);

/// The sampled Kubernetes paths of a run: the paths and one distribution each (`None`: never
/// withdrawn).
pub type PathsSample<'a> = (
    &'a crate::paths::PathsAnalysis,
    &'a [Option<crate::paths::sample::PathDistribution>],
);

/// Renders `simulate` results of every scenario and, after them, the sampled Kubernetes paths.
pub fn render(sections: &[Section], paths: Option<PathsSample>, format: PlainFormat) -> String {
    match format {
        PlainFormat::Json => {
            let results: Vec<Value> = sections
                .iter()
                .flat_map(|(sc, dists)| dists.iter().map(move |(i, d)| distribution_json(sc, *i, d)))
                .collect();
            let parts = paths
                .map(|(k, d)| vec![("kubernetes_paths", super::paths::simulate_value(k, d))])
                .unwrap_or_default();
            super::envelope(results, parts)
        }
        PlainFormat::Table => {
            let mut out = sections
                .iter()
                .map(|(sc, dists)| table(sc, dists))
                .collect::<Vec<_>>()
                .join("\n");
            if let Some((k, d)) = paths {
                out.push_str(&super::paths::simulate_text(k, d));
            }
            out
        }
    }
}

/// One scenario's distributions as a table with the run's parameters under it.
fn table(sc: &Scenario, dists: &[(usize, LbDistribution)]) -> String {
    use super::term::{fit, width_from_env, Col, Term};
    let text = |header| Col { header, numeric: false };
    let num = |header| Col { header, numeric: true };
    let cols = [
        text("lb"),
        text("provider"),
        num("p50"),
        num("p90"),
        num("p99"),
        num("p99.9"),
        num("max"),
        num("mean"),
        num("exact worst"),
        num("exact best"),
        num("budget"),
        num("P(violation)"),
        num("failed req/restart"),
    ];
    let rows: Vec<Vec<String>> = dists
        .iter()
        .map(|(_, d)| {
            let e = &d.exact.extremes;
            vec![
                d.exact.lb.clone(),
                d.exact.provider.clone(),
                short(d.p50),
                short(d.p90),
                short(d.p99),
                short(d.p999),
                short(d.max),
                format!("{:.3}s", d.mean_s),
                e.worst.time.to_string(),
                e.best.time.to_string(),
                d.exact.budget.to_string(),
                format!("{:.4}", d.violation_probability),
                d.expected_failed_requests
                    .map_or_else(|| "-".to_string(), |v| format!("{v:.2}")),
            ]
        })
        .collect();
    let term = Term {
        width: width_from_env(),
        color: false,
    };
    let mut t = fit(&cols, &rows, &[], &term).to_string();
    let too_wide = |t: &str| term.width.is_some_and(|w| t.lines().any(|l| l.chars().count() > w));
    if too_wide(&t) {
        // One column per LB instead: thirteen numbers side by side do not fit a narrow terminal.
        let mut tcols = vec![Col {
            header: "",
            numeric: false,
        }];
        let heads: Vec<String> = rows.iter().map(|r| format!("{} ({})", r[0], r[1])).collect();
        tcols.extend(heads.iter().map(|h| Col {
            header: h.as_str(),
            numeric: true,
        }));
        let trows: Vec<Vec<String>> = cols[2..]
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut row = vec![c.header.to_string()];
                row.extend(rows.iter().map(|r| r[k + 2].clone()));
                row
            })
            .collect();
        t = fit(&tcols, &trows, &[], &term).to_string();
    }
    let mut out = format!("{t}\n");
    let trials = dists.first().map_or(0, |(_, d)| d.trials);
    let seed = dists.first().map_or(0, |(_, d)| d.seed);
    writeln!(
        out,
        "\n{} ({}): {trials} trials per LB, seed {seed}. t = time from E2 (/readyz failing) until no new request is routed.",
        sc.name, sc.file
    )
    .ok();
    for (i, d) in dists {
        writeln!(out, "  {}: random: {}", d.exact.lb, randomness(sc, *i)).ok();
        for (k, v, src) in &d.exact.assumed {
            writeln!(
                out,
                "  {}: ASSUMED {k} = {v} (changes every figure above): {src}",
                d.exact.lb
            )
            .ok();
        }
        if crate::analysis::unchecked_until(sc, &sc.lbs[*i]).is_none() {
            writeln!(out, "  {}: propagation {}", d.exact.lb, d.exact.propagation_source).ok();
        }
        if let Some(line) = tier_line(d) {
            writeln!(out, "  {}: {line}", d.exact.lb).ok();
        }
        writeln!(out, "  {}: clients: {}", d.exact.lb, d.client.summary).ok();
        if let Some(c) = &d.client.connections {
            writeln!(out, "  {}: connections: {c}", d.exact.lb).ok();
        }
    }
    if dists.iter().any(|(_, d)| !d.tiers.is_empty()) {
        writeln!(
            out,
            "By tier: the same detections with each tier's propagation uniform over its range (integrated, not drawn); * marks the error tier, whose figures the table shows. Tiers are kinds of evidence whose frequencies are unknown, so each P is conditional on its tier, never one draw across them."
        )
        .ok();
    }
    writeln!(
        out,
        "P(violation) = P(E2 + t >= E3). failed req/restart = requests/s per backend ([traffic]) x mean time the LB still routes after E3 x the share of those requests that fail (see clients){}.",
        if sc.traffic.is_none() {
            " (no [traffic] table: -)"
        } else {
            ""
        }
    )
    .ok();
    out
}
