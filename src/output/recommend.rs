//! `recommend` output: per LB the smallest passing delay, the least-load passing setting and the
//! Pareto front of worst case against probe load, as text with tables or JSON.

use super::term::{fit, width_from_env, Col, Term};
use super::{secs, PlainFormat};
use crate::analysis::recommend::{Candidate, Recommendation, Setting};
use crate::provider::{KnobValue, Provider};
use crate::scenario::Scenario;
use serde_json::{json, Value};
use std::fmt::Write;

/// Most Pareto points the table shows (JSON lists all).
pub const TABLE_PARETO_ROWS: usize = 12;

/// A setting's values under the provider's setting names, durations in seconds (`interval_s`).
fn setting_json(provider: &dyn Provider, s: &Setting) -> Value {
    let mut out = serde_json::Map::new();
    for (key, v) in provider.setting_values(s) {
        match v {
            KnobValue::Duration(d) => out.insert(format!("{key}_s"), json!(secs(d))),
            KnobValue::Count(n) => out.insert(key.to_string(), json!(n)),
        };
    }
    Value::Object(out)
}

fn candidate_json(provider: &dyn Provider, c: &Candidate) -> Value {
    json!({
        "settings": setting_json(provider, &c.setting),
        "worst_case_s": secs(c.worst),
        "probes_per_second": c.probes_per_second,
    })
}

/// The JSON object of one LB's recommendation.
pub fn recommendation_json(sc: &Scenario, provider: &dyn Provider, r: &Recommendation) -> Value {
    json!({
        "scenario": sc.name,
        "lb": r.lb,
        "provider": r.provider,
        "budget_s": secs(r.budget),
        "min_margin_s": secs(r.min_margin),
        "current": if r.unchecked {
            json!({"settings": null, "worst_case_s": secs(r.current.worst), "probes_per_second": 0.0})
        } else {
            candidate_json(provider, &r.current)
        },
        "unchecked": r.unchecked,
        "min_shutdown_delay_s": r.min_shutdown_delay.map(secs),
        "termination_grace_period_needed_s": r.termination_grace_period_needed.map(secs),
        "note": r.note,
        "grid": r.grid,
        "evaluated": r.evaluated,
        "least_load": r.least_load.as_ref().map(|c| candidate_json(provider, c)),
        "pareto": r.pareto.iter().map(|c| candidate_json(provider, c)).collect::<Vec<_>>(),
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

/// One scenario's recommendations, one per LB with the LB's provider.
pub type Section<'a> = (&'a Scenario, Vec<(&'static dyn Provider, Recommendation)>);

/// Renders `recommend` results of every scenario.
pub fn render(sections: &[Section], format: PlainFormat) -> String {
    match format {
        PlainFormat::Json => {
            let results: Vec<Value> = sections
                .iter()
                .flat_map(|(sc, recs)| recs.iter().map(move |(p, r)| recommendation_json(sc, *p, r)))
                .collect();
            super::envelope(results, Vec::new())
        }
        PlainFormat::Table => {
            let mut out = String::new();
            let all = sections
                .iter()
                .flat_map(|(sc, recs)| recs.iter().map(move |(p, r)| (*sc, *p, r)));
            for (k, (sc, provider, r)) in all.enumerate() {
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
                    provider.describe(&r.current.setting),
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
                        provider.describe(&c.setting),
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
                            provider.describe(&c.setting),
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
