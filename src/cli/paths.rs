//! The Kubernetes paths of a run's outcome in the commands that render more than `check`'s
//! formats: `explain` and `timeline` (`report` takes them from `analysis::report`). The paths are judged once, in the
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
