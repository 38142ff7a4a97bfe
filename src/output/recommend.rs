//! `recommend` output: per LB the smallest passing delay, the least-load passing setting and the
//! Pareto front of worst case against probe load, as text with tables or JSON.

use super::term::{fit, width_from_env, Col, Term};
use super::{secs, PlainFormat};
use crate::analysis::recommend::{Candidate, Recommendation, Setting};
use crate::provider::Family;
use crate::scenario::Scenario;
use serde_json::{json, Value};
use std::fmt::Write;

/// Most Pareto points the table shows (JSON lists all).
pub const TABLE_PARETO_ROWS: usize = 12;

/// A setting in the provider's own knob names, e.g. `interval = 10s, timeout = 10s, unhealthy_threshold = 2`.
pub fn describe(family: Family, s: &Setting) -> String {
    match family {
        Family::Aws => format!(
            "interval = {}, timeout = {}, unhealthy_threshold = {}",
            s.interval, s.timeout, s.threshold
        ),
        Family::Gcp => format!(
            "check_interval = {}, timeout = {}, unhealthy_threshold = {}",
            s.interval, s.timeout, s.threshold
        ),
        Family::Azure => format!(
            "interval = {}, probe_threshold = {} (timeout {})",
            s.interval, s.threshold, s.timeout
        ),
        Family::Haproxy => format!(
            "inter = {}, fastinter = {}, fall = {} (check timeout {})",
            s.interval, s.fastinter, s.threshold, s.timeout
        ),
    }
}

fn setting_json(family: Family, s: &Setting) -> Value {
    match family {
        Family::Aws => {
            json!({"interval_s": secs(s.interval), "timeout_s": secs(s.timeout), "unhealthy_threshold": s.threshold})
        }
        Family::Gcp => {
            json!({"check_interval_s": secs(s.interval), "timeout_s": secs(s.timeout), "unhealthy_threshold": s.threshold})
        }
        Family::Azure => {
            json!({"interval_s": secs(s.interval), "probe_threshold": s.threshold, "timeout_s": secs(s.timeout)})
        }
        Family::Haproxy => {
            json!({"inter_s": secs(s.interval), "fastinter_s": secs(s.fastinter), "fall": s.threshold, "timeout_s": secs(s.timeout)})
        }
    }
}

fn candidate_json(family: Family, c: &Candidate) -> Value {
    json!({
        "settings": setting_json(family, &c.setting),
        "worst_case_s": secs(c.worst),
        "probes_per_second": c.probes_per_second,
    })
}

/// The JSON object of one LB's recommendation.
pub fn recommendation_json(sc: &Scenario, family: Family, r: &Recommendation) -> Value {
    json!({
        "scenario": sc.name,
        "lb": r.lb,
        "provider": r.provider,
        "budget_s": secs(r.budget),
        "min_margin_s": secs(r.min_margin),
        "current": if r.unchecked {
            json!({"settings": null, "worst_case_s": secs(r.current.worst), "probes_per_second": 0.0})
        } else {
            candidate_json(family, &r.current)
        },
        "unchecked": r.unchecked,
        "min_shutdown_delay_s": r.min_shutdown_delay.map(secs),
        "termination_grace_period_needed_s": r.termination_grace_period_needed.map(secs),
        "note": r.note,
        "grid": r.grid,
        "evaluated": r.evaluated,
        "least_load": r.least_load.as_ref().map(|c| candidate_json(family, c)),
        "pareto": r.pareto.iter().map(|c| candidate_json(family, c)).collect::<Vec<_>>(),
    })
}

/// Evenly spread rows of the front, always with both ends and the least-load passing point.
pub fn thin<'a>(front: &'a [Candidate], keep: Option<&Candidate>) -> Vec<&'a Candidate> {
    if front.len() <= TABLE_PARETO_ROWS {
        return front.iter().collect();
    }
    let n = front.len() - 1;
    let mut idx: Vec<usize> = (0..TABLE_PARETO_ROWS)
        .map(|k| k * n / (TABLE_PARETO_ROWS - 1))
        .collect();
    if let Some(k) = keep.and_then(|c| front.iter().position(|f| f.setting == c.setting)) {
        idx.push(k);
    }
    idx.sort_unstable();
    idx.dedup();
    idx.into_iter().map(|i| &front[i]).collect()
}

/// One scenario's recommendations, one per LB with the LB's provider family.
pub type Section<'a> = (&'a Scenario, Vec<(Family, Recommendation)>);

/// Renders `recommend` results of every scenario.
pub fn render(sections: &[Section], format: PlainFormat) -> String {
    match format {
        PlainFormat::Json => {
            let results: Vec<Value> = sections
                .iter()
                .flat_map(|(sc, recs)| recs.iter().map(move |(f, r)| recommendation_json(sc, *f, r)))
                .collect();
            super::envelope(results, Vec::new())
        }
        PlainFormat::Table => {
            let mut out = String::new();
            let all = sections
                .iter()
                .flat_map(|(sc, recs)| recs.iter().map(move |(f, r)| (*sc, f, r)));
            for (k, (sc, family, r)) in all.enumerate() {
                if k > 0 {
                    out.push('\n');
                }
                let o = &mut out;
                writeln!(
                    o,
                    "{} ({}) in {}: budget E3 - E2 = {}, required margin {}",
                    r.lb, r.provider, sc.name, r.budget, r.min_margin
                )
                .ok();
                let verdict = |c: &Candidate| {
                    if c.worst < r.budget && r.budget - c.worst >= r.min_margin {
                        "passes"
                    } else {
                        "fails"
                    }
                };
                if r.unchecked {
                    writeln!(
                        o,
                        "  now:        no check -> worst case {} (fails)\n  note:       {}",
                        r.current.worst,
                        r.note.as_deref().unwrap_or_default()
                    )
                    .ok();
                    continue;
                }
                writeln!(
                    o,
                    "  now:        {} -> worst case {}, {:.3} probes/s per backend ({})",
                    describe(*family, &r.current.setting),
                    r.current.worst,
                    r.current.probes_per_second,
                    verdict(&r.current)
                )
                .ok();
                if let Some(d) = r.min_shutdown_delay {
                    writeln!(
                        o,
                        "  delay:      shutdown_delay >= {d} passes with these settings (then termination_grace_period >= {})",
                        r.termination_grace_period_needed.unwrap_or(d)
                    )
                    .ok();
                }
                if let Some(c) = &r.least_load {
                    writeln!(
                        o,
                        "  least load: {} -> worst case {}, {:.3} probes/s per backend (passes the current delay)",
                        describe(*family, &c.setting),
                        c.worst,
                        c.probes_per_second
                    )
                    .ok();
                }
                if let Some(n) = &r.note {
                    writeln!(o, "  note:       {n}").ok();
                }
                writeln!(o, "  searched:   {} ({} valid settings)", r.grid, r.evaluated).ok();
                let cols = [
                    Col {
                        header: "settings",
                        numeric: false,
                    },
                    Col {
                        header: "worst case",
                        numeric: true,
                    },
                    Col {
                        header: "probes/s per backend",
                        numeric: true,
                    },
                    Col {
                        header: "current delay",
                        numeric: false,
                    },
                ];
                let rows = thin(&r.pareto, r.least_load.as_ref());
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|c| {
                        vec![
                            describe(*family, &c.setting),
                            c.worst.to_string(),
                            format!("{:.3}", c.probes_per_second),
                            verdict(c).to_string(),
                        ]
                    })
                    .collect();
                let term = Term {
                    width: width_from_env(),
                    color: false,
                };
                let t = fit(&cols, &cells, &[], &term);
                writeln!(
                    o,
                    "  Pareto front, worst case against probe load ({} of {} points{}):",
                    rows.len(),
                    r.pareto.len(),
                    if rows.len() < r.pareto.len() {
                        "; --format json lists all"
                    } else {
                        ""
                    }
                )
                .ok();
                writeln!(o, "{t}").ok();
            }
            out
        }
    }
}
