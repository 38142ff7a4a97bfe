//! `timeline` for the Kubernetes paths: one lane per path, its stages as segments laid end to end
//! at their worst-case (top of range) durations from the pod's deletion, with the instants that
//! decide the verdict (SIGTERM, the app stops listening, SIGKILL) marked on each lane. SVG only.

use crate::paths::{PathReport, PathVerdict, Start};
use crate::time::Micros;
use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::Path;

const LEFT: f64 = 330.0;
const WIDTH: f64 = 1100.0;
const LANE: f64 = 56.0;
const TOP: f64 = 60.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as SVG text.
pub fn svg(reports: &[PathReport]) -> String {
    let end = reports
        .iter()
        .flat_map(|r| {
            [
                r.stop_listening,
                r.last_send_worst.unwrap_or(r.stop_listening),
                r.kill.min(r.stop_listening + Micros::from_secs(60)),
            ]
        })
        .max()
        .unwrap_or(Micros::from_secs(1))
        .max(Micros::from_secs(1));
    let span = end.0 as f64 * 1.05;
    let x = |t: Micros| LEFT + (WIDTH - LEFT - 20.0) * (t.0 as f64 / span);
    let height = TOP + LANE * reports.len() as f64 + 50.0;
    let mut s = String::new();
    writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, sans-serif" font-size="11">"#).ok();
    writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#).ok();
    writeln!(s, r#"<text x="10" y="20" font-size="14" font-weight="bold">Kubernetes paths: from the pod's deletion until the last consumer stops sending (worst case)</text>"#).ok();
    writeln!(s, r##"<text x="10" y="38" fill="#555">segments: stages at the top of their ranges (hatched: unverified figure); red line: the app stops listening; grey: SIGTERM</text>"##).ok();
    // Axis ticks every "nice" step.
    let step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600]
        .iter()
        .map(|s| Micros::from_secs(*s))
        .find(|s| span / (s.0 as f64) <= 12.0)
        .unwrap_or(Micros::from_secs(1800));
    let mut t = Micros::ZERO;
    let axis_y = TOP + LANE * reports.len() as f64 + 10.0;
    while (t.0 as f64) <= span {
        writeln!(s, r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{axis_y}" stroke="#eee"/><text x="{0:.1}" y="{1}" text-anchor="middle" fill="#555">{t}</text>"##, x(t), axis_y + 14.0).ok();
        t += step;
    }
    writeln!(s, r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfe0f5"/><line x1="0" y1="0" x2="0" y2="6" stroke="#7fa7d9" stroke-width="2"/></pattern></defs>"##).ok();
    let colours = [
        "#4e79a7", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    ];
    for (i, r) in reports.iter().enumerate() {
        let y = TOP + LANE * i as f64;
        let verdict = match r.verdict {
            PathVerdict::Pass => ("pass", "#2e7d32"),
            PathVerdict::Warn => ("WARN", "#ef6c00"),
            PathVerdict::Fail => ("FAIL", "#c62828"),
        };
        writeln!(
            s,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 18.0,
            esc(&r.target.name)
        )
        .ok();
        let mut name = r.path.name.clone();
        if name.chars().count() > 52 {
            name = name.chars().take(51).collect::<String>() + "…";
        }
        writeln!(
            s,
            r##"<text x="10" y="{:.1}" fill="#333">{}</text>"##,
            y + 32.0,
            esc(&name)
        )
        .ok();
        writeln!(
            s,
            r#"<text x="10" y="{:.1}" fill="{}">{} margin {}</text>"#,
            y + 46.0,
            verdict.1,
            verdict.0,
            r.margin.map_or("none (never withdrawn)".to_string(), |m| m.to_string())
        )
        .ok();
        let mut at = match r.path.start {
            Start::Deletion => Micros::ZERO,
            Start::Sigterm => r.sigterm,
        };
        if r.path.never_withdrawn.is_some() {
            writeln!(s, r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="22" fill="#c62828" opacity="0.25"/><text x="{:.1}" y="{:.1}">endpoint never withdrawn</text>"##, x(at), y + 8.0, x(end) - x(at), x(at) + 4.0, y + 23.0).ok();
        }
        for (k, st) in r.path.stages.iter().enumerate() {
            let (x0, x1) = (x(at), x(at + st.hi));
            let fill = if st.unverified {
                "url(#hatch)".to_string()
            } else {
                colours[k % colours.len()].to_string()
            };
            writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="22" fill="{fill}" stroke="white"><title>{}: {} ({}..{}) {}</title></rect>"#,
                y + 8.0,
                (x1 - x0).max(0.5),
                esc(&st.id),
                esc(&st.label),
                st.lo,
                st.hi,
                esc(&st.source)
            )
            .ok();
            if x1 - x0 > 7.0 * st.id.len() as f64 {
                writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" fill="black">{}</text>"#,
                    x0 + 3.0,
                    y + 23.0,
                    esc(&st.id)
                )
                .ok();
            }
            at += st.hi;
        }
        let sig = x(r.sigterm);
        writeln!(
            s,
            r##"<line x1="{sig:.1}" y1="{:.1}" x2="{sig:.1}" y2="{:.1}" stroke="#777" stroke-dasharray="3,2"/>"##,
            y + 4.0,
            y + 50.0
        )
        .ok();
        let stop = x(r.stop_listening);
        writeln!(s, r##"<line x1="{stop:.1}" y1="{:.1}" x2="{stop:.1}" y2="{:.1}" stroke="#c62828" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#c62828">stops listening {}</text>"##, y + 4.0, y + 50.0, stop + 3.0, y + 46.0, r.stop_listening).ok();
    }
    writeln!(s, "</svg>").ok();
    s
}

/// Writes the chart to `path` (a temporary file renamed into place, so a failure leaves nothing).
pub fn write(reports: &[PathReport], path: &Path) -> Result<()> {
    if path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
        != Some("svg")
    {
        bail!(
            "{}: the Kubernetes paths chart is drawn as SVG only; name a .svg file",
            path.display()
        );
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("{}: cannot write", path.display()))?;
    std::io::Write::write_all(&mut tmp, svg(reports).as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {}", path.display(), e.error))?;
    Ok(())
}
