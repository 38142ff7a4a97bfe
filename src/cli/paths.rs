//! The Kubernetes paths of a run's outcome in the commands that render more than `check`'s
//! formats: `explain`, `simulate`, `report` and `timeline`. The paths are judged once, in the
//! outcome; these functions only render them.

use crate::analysis::outcome::Outcome;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// `explain`: walks every path's chain after the load balancers' walks.
pub fn explain(o: &Outcome, after_lbs: bool, out: &mut dyn Write) -> Result<()> {
    for (i, r) in o.paths.iter().enumerate() {
        if after_lbs || i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(72))?;
        }
        out.write_all(crate::output::paths::explain(r).as_bytes())?;
    }
    Ok(())
}

/// `report`: appends a section per workload to `dir/report.md` (already written for the load
/// balancers) and draws the paths' chart; the chart's path.
pub fn report(o: &Outcome, dir: &Path, trials: u64, seed: u64) -> Result<Vec<std::path::PathBuf>> {
    let k = o.paths_analysis();
    if k.is_empty() {
        return Ok(Vec::new());
    }
    let dists: Vec<_> = o
        .paths
        .iter()
        .map(|r| crate::paths::sample::sample(r, trials, seed))
        .collect();
    let md = dir.join("report.md");
    let mut text = std::fs::read_to_string(&md).unwrap_or_default();
    text.push_str(&crate::output::paths::report_section(&k, &dists));
    let chart = dir.join("kubernetes-paths-timeline.svg");
    let mut written = Vec::new();
    if !o.paths.is_empty() {
        crate::output::paths_chart::write(&o.paths, &chart, 1)?;
        text.push_str("\n![Kubernetes paths](kubernetes-paths-timeline.svg)\n");
        written.push(chart);
    }
    // 0666 before the umask (0644 with the usual 022), like report.md without paths and the
    // charts, not tempfile's private 0600.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".graceline-").suffix(".md");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(&md)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {}", md.display(), e.error))?;
    Ok(written)
}

/// `timeline`: draws the paths (one lane each). With no load balancer among the inputs the chart
/// goes to `output` and `true` is returned; otherwise next to it as `<stem>-paths.svg` (or `.png`,
/// like `output`); `scale` multiplies a PNG's pixels.
pub fn timeline(o: &Outcome, any_lb: bool, output: &Path, scale: u32, out: &mut dyn Write) -> Result<bool> {
    if o.paths.is_empty() {
        return Ok(false);
    }
    let target = if !any_lb {
        output.to_path_buf()
    } else {
        let stem = output.file_stem().and_then(|s| s.to_str()).unwrap_or("timeline");
        let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("svg");
        output.with_file_name(format!("{stem}-paths.{ext}"))
    };
    crate::output::paths_chart::write(&o.paths, &target, scale)?;
    writeln!(out, "wrote {}", target.display())?;
    Ok(!any_lb)
}
