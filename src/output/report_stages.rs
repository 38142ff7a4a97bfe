//! Report sections for detection vs propagation, what clients see, and the rolling restart's
//! overlap (hooks called from `report.rs`).

use crate::analysis::failopen::overlap;
use crate::analysis::montecarlo::LbDistribution;
use crate::scenario::{LbSpec, Rollout, Scenario};
use std::fmt::Write;

/// Detection and propagation as separate stages, with where the propagation comes from.
pub fn stages(md: &mut String, lbs: &[(&LbSpec, &LbDistribution)]) {
    writeln!(md, "### Detection, then propagation\n").ok();
    writeln!(
        md,
        "| load balancer | detection (best - worst) | propagation (best - worst) | propagation source |"
    )
    .ok();
    writeln!(md, "|---|---|---|---|").ok();
    for (lb, d) in lbs {
        let e = &d.exact.extremes;
        if let Some(p) = lb.provider.passive(&lb.settings) {
            writeln!(
                md,
                "| {} | none: {}, routed to until the process is back (E5 - E2 + startup = {}) | - (marked after failed connections, tried again every fail_timeout) | - |",
                lb.name, p.label, e.worst.time
            )
            .ok();
            continue;
        }
        if crate::analysis::is_unchecked(lb) {
            writeln!(
                md,
                "| {} | none: never checked, routed to until the process is back (E5 - E2 + startup = {}) | - (never marked down) | - |",
                lb.name, e.worst.time
            )
            .ok();
            continue;
        }
        writeln!(
            md,
            "| {} | {} - {} | {} - {} | {} |",
            lb.name,
            e.best.detection,
            e.worst.detection,
            e.best.time - e.best.detection,
            e.worst.time - e.worst.detection,
            d.exact.propagation_source.replace('|', "/")
        )
        .ok();
    }
    writeln!(
        md,
        "\nDetection runs from E2 until the last prober marks the server down; propagation from then until no new request is routed. The exact worst case takes the top of the propagation range, the best case its bottom; Monte Carlo draws it uniformly in between (the sources give bounds, not frequencies).\n"
    )
    .ok();
    for (lb, d) in lbs {
        for (k, v, src) in &d.exact.assumed {
            writeln!(
                md,
                "- **assumed** for {}: `{k} = {v}` (changes the sampled figures and the probe load, not the exact worst case): {src}",
                lb.name
            )
            .ok();
        }
    }
    if lbs.iter().any(|(_, d)| !d.exact.assumed.is_empty()) {
        writeln!(md).ok();
    }
}

/// What clients see of requests routed after E3, and of established connections.
pub fn clients(md: &mut String, lbs: &[(&LbSpec, &LbDistribution)]) {
    writeln!(md, "### What clients see\n").ok();
    for (lb, d) in lbs {
        let failed = d
            .expected_failed_requests
            .map_or_else(|| "needs `[traffic]`".to_string(), |f| format!("{f:.2}"));
        writeln!(
            md,
            "- **{}**: {}. Expected failed requests per restart: {failed}.",
            lb.name, d.client.summary
        )
        .ok();
        if let Some(c) = &d.client.connections {
            writeln!(md, "  Connections: {c}.").ok();
        }
    }
    writeln!(md).ok();
}

/// One row of the rolling-restart table: re-added after (propagation included), replicas out at
/// once, and what all-unhealthy means for this LB.
pub fn rollout_row(sc: &Scenario, lb: &LbSpec, r: &Rollout) -> (String, String, String) {
    if crate::analysis::is_unchecked(lb) {
        return (
            format!(
                "never removed ({})",
                crate::analysis::unchecked_label(lb)
                    .trim_start_matches("none (")
                    .trim_end_matches(')')
            ),
            format!(
                "{} of {} processes down, still routed to",
                r.max_unavailable.min(r.replicas),
                r.replicas
            ),
            "no: never marked down, so new requests reach the stopped processes instead".to_string(),
        );
    }
    let o = overlap(sc, lb, r);
    let readd = o.readmission;
    let readd_text = format!(
        "{readd} ({} checks + {} propagation)",
        o.health,
        o.readmission - o.health
    );
    let out = format!("{} of {}", o.out_at_once, r.replicas);
    let all = if o.out_at_once >= r.replicas {
        format!("**yes**: {}", lb.provider.all_unhealthy())
    } else {
        "no".to_string()
    };
    (readd_text, out, all)
}
