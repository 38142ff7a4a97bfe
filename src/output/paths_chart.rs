//! `timeline` for the Kubernetes paths: one lane per path, its stages as segments laid end to end
//! at their worst-case (top of range) durations from the pod's deletion, with the instants that
//! decide the verdict (SIGTERM, the app stops listening) marked on each lane. Laid out as a
//! [`draw::Plan`] and painted by the load-balancer chart's plotters routine, so SVG and PNG match.

use super::chart::{draw, ensure_font, write_plan, ImageFormat};
use crate::paths::{PathReport, PathVerdict, Start};
use crate::time::Micros;
use anyhow::Result;
use draw::{ellipsize, measure, Align, Canvas, Plan};
use plotters::style::{RGBColor, WHITE};
use std::path::Path;

const WIDTH: u32 = draw::WIDTH;
const LEFT: i32 = 24;
const RIGHT: i32 = WIDTH as i32 - 40;
const TOP: i32 = 76;
const LANE: i32 = 92;

const TITLE: f64 = 20.0;
const BODY: f64 = 15.0;
const SMALL: f64 = 13.0;

use draw::{GRID, INK, MUTED};
const STOP: RGBColor = RGBColor(198, 40, 40);
const SIGTERM: RGBColor = RGBColor(110, 110, 110);
const HATCH_BG: RGBColor = RGBColor(214, 228, 246);
const HATCH: RGBColor = RGBColor(110, 150, 205);
/// Light fills, so the black stage ids on them stay readable.
const FILLS: [RGBColor; 6] = [
    RGBColor(158, 202, 225),
    RGBColor(161, 217, 155),
    RGBColor(253, 208, 162),
    RGBColor(203, 201, 226),
    RGBColor(252, 187, 161),
    RGBColor(199, 233, 192),
];

/// Diagonal hatching (lines x + y = k every 8 px) clipped to a rectangle.
fn hatch(c: &mut Canvas, (x0, y0): (i32, i32), (x1, y1): (i32, i32)) {
    let mut k = x0 + y0 + 4;
    while k < x1 + y1 {
        let start = if k - y1 >= x0 { (k - y1, y1) } else { (x0, k - x0) };
        let end = if k - y0 <= x1 { (k - y0, y0) } else { (x1, k - x1) };
        c.line(start, end, HATCH, 2, false);
        k += 8;
    }
}

/// A round tick step giving at most about twelve ticks.
fn tick_step(span: Micros) -> Micros {
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
        .iter()
        .map(|s| Micros::from_secs(*s))
        .find(|s| span.0 / s.0.max(1) <= 12)
        .unwrap_or(Micros::from_secs(7200))
}

/// Lays out the chart in pixels.
pub fn plan(reports: &[PathReport]) -> Plan {
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
    let span = Micros(end.0 + end.0 / 20);
    let x = |t: Micros| {
        let px = i128::from(RIGHT - LEFT);
        let off = i128::from(t.0.clamp(0, span.0)) * px / i128::from(span.0);
        LEFT + off as i32
    };
    let height = TOP + LANE * reports.len() as i32 + 40;
    let mut c = Canvas::default();
    let title = "Kubernetes paths: from the pod's deletion until the last consumer stops sending (worst case)";
    c.text_raw(
        (16, 20),
        Align::Left,
        &ellipsize(title, TITLE, WIDTH as i32 - 32),
        TITLE,
        INK,
        false,
    );
    let sub = "segments: stages at the top of their ranges (hatched: unverified figure); red line: the app stops listening; dashed grey: SIGTERM";
    c.text_raw(
        (16, 46),
        Align::Left,
        &ellipsize(sub, SMALL, WIDTH as i32 - 32),
        SMALL,
        MUTED,
        false,
    );

    // Grid and axis.
    let axis_y = TOP + LANE * reports.len() as i32 + 4;
    let step = tick_step(span);
    let mut t = Micros::ZERO;
    while t <= span {
        let tx = x(t);
        c.line((tx, TOP - 6), (tx, axis_y), GRID, 1, false);
        let label = t.to_string();
        let w = measure(&label, SMALL);
        if tx + w / 2 <= WIDTH as i32 - 4 {
            c.text_raw((tx, axis_y + 14), Align::Center, &label, SMALL, MUTED, false);
        }
        t += step;
    }

    for (i, r) in reports.iter().enumerate() {
        let top = TOP + LANE * i as i32;
        let (word, colour) = match r.verdict {
            PathVerdict::Pass => ("PASS", RGBColor(0, 128, 60)),
            PathVerdict::Warn => ("WARN", RGBColor(190, 110, 0)),
            PathVerdict::Fail => ("FAIL", STOP),
        };
        // Header: verdict and figures on the right, workload and path on the left.
        let right = format!(
            "{word}  margin {}  ·  last send {}  ·  stops listening {}",
            r.margin.map_or("none (never withdrawn)".to_string(), |m| m.to_string()),
            r.last_send_worst.map_or("never".to_string(), |t| t.to_string()),
            r.stop_listening
        );
        let rw = measure(&right, BODY);
        c.text_raw((WIDTH as i32 - 16, top + 8), Align::Right, &right, BODY, colour, false);
        let head = format!("{}  —  {}", r.target.name, r.path.name);
        let head = ellipsize(&head, BODY, WIDTH as i32 - 16 - rw - 16 - 16);
        c.text_raw((16, top + 8), Align::Left, &head, BODY, INK, false);

        // The stages, end to end.
        let (y0, y1) = (top + 22, top + 50);
        let mut at = match r.path.start {
            Start::Deletion => Micros::ZERO,
            Start::Sigterm => r.sigterm,
        };
        let mut list = Vec::new();
        if let Some(why) = &r.path.never_withdrawn {
            c.rect((x(at), y0), (x(end), y1), RGBColor(244, 199, 199));
            // The short label left of the red line if it fits there, else right of it.
            let label = "endpoint never withdrawn";
            let (w, stop) = (measure(label, SMALL), x(r.stop_listening));
            let lx = if x(at) + 4 + w + 6 <= stop { x(at) + 4 } else { stop + 6 };
            if lx + w <= x(end) - 4 {
                c.text_raw((lx, (y0 + y1) / 2), Align::Left, label, SMALL, INK, false);
            }
            list.push(format!("none: {why}"));
        }
        for (k, st) in r.path.stages.iter().enumerate() {
            let (x0, x1) = (x(at), x(at + st.hi).max(x(at) + 1));
            if st.unverified {
                c.rect((x0, y0), (x1, y1), HATCH_BG);
                hatch(&mut c, (x0, y0), (x1, y1));
            } else {
                c.rect((x0, y0), (x1, y1), FILLS[k % FILLS.len()]);
            }
            c.line((x1, y0), (x1, y1), WHITE, 1, false);
            if x1 - x0 >= measure(&st.id, SMALL) + 10 {
                c.text_raw((x0 + 5, (y0 + y1) / 2), Align::Left, &st.id, SMALL, INK, true);
            }
            list.push(format!(
                "{} {}{}",
                st.id,
                st.hi,
                if st.unverified { " (unverified)" } else { "" }
            ));
            at += st.hi;
        }
        // Every stage named under the bar, in order, even those too short to hold their id.
        let list = ellipsize(&format!("stages: {}", list.join(" → ")), SMALL, WIDTH as i32 - 32);
        c.text_raw((16, top + 64), Align::Left, &list, SMALL, MUTED, false);

        let sig = x(r.sigterm);
        c.line((sig, y0 - 4), (sig, y1 + 4), SIGTERM, 1, true);
        let stop = x(r.stop_listening);
        c.line((stop, y0 - 4), (stop, y1 + 4), STOP, 3, false);
    }
    let mut shapes = c.shapes;
    shapes.append(&mut c.texts);
    Plan {
        width: WIDTH,
        height: height as u32,
        shapes,
        text_boxes: c.boxes,
    }
}

/// Writes the chart to `path` as SVG or PNG by its extension (a temporary file renamed into
/// place, so a failure leaves nothing).
pub fn write(reports: &[PathReport], path: &Path) -> Result<()> {
    let format = ImageFormat::from_path(path)?;
    ensure_font()?;
    write_plan(&plan(reports), format, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn reports(files: &[&str]) -> Vec<PathReport> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/kubernetes-paths");
        let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        let groups = crate::input::load(&paths, &crate::input::Options::default()).unwrap();
        crate::analysis::outcome::run(groups).paths
    }

    /// Every text inside the picture and apart from every other, on lanes with a long stage, a
    /// never-withdrawn endpoint and a hook starting at SIGTERM; every stage named under its lane.
    #[test]
    fn texts_stay_inside_and_apart() {
        ensure_font().unwrap();
        for files in [
            &["web-nlb-ip.yaml", "kube-apiserver-70s.yaml"][..],
            &["kube-apiserver-master-count.yaml"][..],
            &["ingress-nginx-ipvs.yaml", "prestop-script.yaml", "web-no-prestop.yaml"][..],
        ] {
            let r = reports(files);
            assert!(!r.is_empty(), "{files:?}");
            let plan = plan(&r);
            assert_eq!(plan.height, (TOP + LANE * r.len() as i32 + 40) as u32);
            let b = &plan.text_boxes;
            for (i, (p, pt)) in b.iter().enumerate() {
                assert!(
                    p.0 >= 0 && p.2 <= plan.width as i32 && p.1 >= 0 && p.3 <= plan.height as i32,
                    "{files:?}: \"{pt}\" leaves the picture"
                );
                for (q, qt) in &b[i + 1..] {
                    let apart = p.2 <= q.0 || q.2 <= p.0 || p.3 <= q.1 || q.3 <= p.1;
                    assert!(apart, "{files:?}: \"{pt}\" {p:?} overlaps \"{qt}\" {q:?}");
                }
            }
            for rep in &r {
                let first = &rep.path.stages.first().map_or("none: ".to_string(), |s| s.id.clone());
                assert!(
                    b.iter()
                        .any(|(_, t)| t.starts_with("stages: ") && t.contains(first.as_str())),
                    "{files:?}: {first}"
                );
            }
        }
    }
}
