//! The Kubernetes paths of a command's inputs (`crate::paths`), next to the load balancers the
//! same inputs hold: one small entry point each command calls.

use super::inputs::{InputOptions, Sources};
use crate::paths::PathsAnalysis;
use crate::scenario::Scenario;
use anyhow::Result;

/// Judges the Kubernetes paths among the inputs; `scenarios` are the load balancers already read.
/// Inputs with neither a load-balancer pair nor a path that can be judged are an error (exit 2)
/// unless `--allow-empty`, naming why each Service could not be judged.
pub fn analyze(i: &InputOptions, scenarios: &[Scenario]) -> Result<PathsAnalysis> {
    let Sources::Files(paths) = &i.sources else {
        return Ok(PathsAnalysis::default());
    };
    let mut k = crate::paths::build::run(paths, &i.input, scenarios)?;
    if !i.input.lb_patterns.is_empty() {
        // `--lb` narrows the paths too: by Service or workload name.
        let globs: Vec<glob::Pattern> = i
            .input
            .lb_patterns
            .iter()
            .filter_map(|p| glob::Pattern::new(p).ok())
            .collect();
        k.reports.retain(|r| {
            globs
                .iter()
                .any(|g| g.matches(&r.path.service) || g.matches(&r.target.name))
        });
    }
    if k.reports.is_empty() && scenarios.iter().all(|s| s.lbs.is_empty()) && !i.input.allow_empty {
        let files: Vec<String> = paths.iter().map(|p| crate::input::display_name(p)).collect();
        let why: Vec<String> = k
            .general
            .iter()
            .map(|(_, f)| format!("{}: {}", f.loc, f.message))
            .chain(k.assumptions.iter().cloned())
            .collect();
        anyhow::bail!(
            "{}: no load-balancer-to-server pair and no Kubernetes path to check{}{} (pass --allow-empty if that is expected)",
            files.join(", "),
            if why.is_empty() { "" } else { ": " },
            why.join("; ")
        );
    }
    Ok(k)
}

use super::args::InputArgs;
use crate::output::PlainFormat;
use std::io::Write;
use std::path::Path;

/// The paths of a command's raw input flags, narrowed to `--lb` (matched against the Service and
/// the workload) when patterns are given.
fn of_args(a: &InputArgs, scenarios: &[Scenario]) -> Result<PathsAnalysis> {
    let i = InputOptions::from_cli_arguments(a, &super::cwd()?)?;
    analyze(&i, scenarios)
}

/// `explain`: walks every path's chain after the load balancers' walks.
pub fn explain(a: &InputArgs, scenarios: &[Scenario], after_lbs: bool, out: &mut dyn Write) -> Result<()> {
    let k = of_args(a, scenarios)?;
    for (i, r) in k.reports.iter().enumerate() {
        if after_lbs || i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(72))?;
        }
        out.write_all(crate::output::paths::explain(r).as_bytes())?;
    }
    Ok(())
}

/// `simulate`: samples every path's stage ranges and merges them into the load balancers' output.
pub fn simulate(
    a: &InputArgs,
    scenarios: &[Scenario],
    lb_text: String,
    trials: u64,
    seed: u64,
    format: PlainFormat,
) -> Result<String> {
    let k = of_args(a, scenarios)?;
    if k.reports.is_empty() {
        return Ok(lb_text);
    }
    let dists: Vec<_> = k
        .reports
        .iter()
        .map(|r| crate::paths::sample::sample(r, trials, seed))
        .collect();
    Ok(match format {
        PlainFormat::Table => {
            let mut t = if scenarios.iter().any(|s| !s.lbs.is_empty()) {
                lb_text
            } else {
                String::new()
            };
            t.push_str(&crate::output::paths::simulate(&k, &dists, false));
            t
        }
        PlainFormat::Json => {
            let mut doc: serde_json::Value = serde_json::from_str(&lb_text).unwrap_or_else(|_| serde_json::json!({}));
            let paths: serde_json::Value = serde_json::from_str(&crate::output::paths::simulate(&k, &dists, true))?;
            doc["kubernetes_paths"] = paths["kubernetes_paths"].clone();
            let mut s = serde_json::to_string_pretty(&doc)?;
            s.push('\n');
            s
        }
    })
}

/// `report`: appends a section per workload to `dir/report.md` (already written for the load
/// balancers) and draws the paths' chart; the chart's path.
pub fn report(
    a: &InputArgs,
    scenarios: &[Scenario],
    dir: &Path,
    trials: u64,
    seed: u64,
) -> Result<Vec<std::path::PathBuf>> {
    let k = of_args(a, scenarios)?;
    if k.is_empty() {
        return Ok(Vec::new());
    }
    let dists: Vec<_> = k
        .reports
        .iter()
        .map(|r| crate::paths::sample::sample(r, trials, seed))
        .collect();
    let md = dir.join("report.md");
    let mut text = std::fs::read_to_string(&md).unwrap_or_default();
    text.push_str(&crate::output::paths::report_section(&k, &dists));
    let chart = dir.join("kubernetes-paths-timeline.svg");
    let mut written = Vec::new();
    if !k.reports.is_empty() {
        crate::output::paths_chart::write(&k.reports, &chart, 1)?;
        text.push_str("\n![Kubernetes paths](kubernetes-paths-timeline.svg)\n");
        written.push(chart);
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(&md)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {}", md.display(), e.error))?;
    Ok(written)
}

/// `timeline`: draws the paths (one lane each). With no load balancer among the inputs the chart
/// goes to `output` and `true` is returned; otherwise next to it as `<stem>-paths.svg` (or `.png`,
/// like `output`); `scale` multiplies a PNG's pixels.
pub fn timeline(a: &InputArgs, scenarios: &[Scenario], output: &Path, scale: u32, out: &mut dyn Write) -> Result<bool> {
    let k = of_args(a, scenarios)?;
    if k.reports.is_empty() {
        return Ok(false);
    }
    let alone = scenarios.iter().all(|s| s.lbs.is_empty());
    let target = if alone {
        output.to_path_buf()
    } else {
        let stem = output.file_stem().and_then(|s| s.to_str()).unwrap_or("timeline");
        let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("svg");
        output.with_file_name(format!("{stem}-paths.{ext}"))
    };
    crate::output::paths_chart::write(&k.reports, &target, scale)?;
    writeln!(out, "wrote {}", target.display())?;
    Ok(alone)
}
