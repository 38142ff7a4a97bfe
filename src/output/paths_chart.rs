//! `timeline` for the Kubernetes paths, in the load-balancer chart's visual language: a verdict
//! badge and title, one lane per path with the pod's own band (preStop, listening, not listening),
//! the path's stages end to end at their worst-case (top of range) durations, each labelled, and
//! the consumer's band (sends new connections; red where they reach the closed port), the
//! instants SIGTERM and "stops listening" marked, and a legend. Every lane shares one axis from
//! the pod's deletion; a path more than [`axis::ZOOM_RATIO`] times shorter than that axis keeps
//! its place and gets a zoom inset, as in the LB chart. Laid out as a [`draw::Plan`] from the
//! precomputed [`PathReport`]s (no analysis here) and painted by the LB chart's routine.

use super::chart::axis::{self, Scale};
use super::chart::{draw, ensure_font, write_plan, ImageFormat};
use crate::analysis::findings::Severity;
use crate::analysis::Verdict;
use crate::paths::{PathReport, PathVerdict, Start};
use crate::time::Micros;
use anyhow::Result;
use draw::{
    ellipsize, hatch, keep_head, legend_rows, measure, tick_labels, Align, Canvas, Inset, Plan, Row, Swatch, BODY,
    GRID, HATCH_BG, INK, LANE_BG, MARKER, MUTED, PLOT_LEFT, PLOT_RIGHT, REMOVED, ROUTES, SMALL, TINY, VIOLATION,
};
use plotters::style::{RGBColor, WHITE};
use std::path::Path;

const WIDTH: u32 = draw::WIDTH;

const SIGTERM: RGBColor = RGBColor(110, 110, 110);
/// The pod's phases (the LB chart's server colours).
const PRESTOP: RGBColor = RGBColor(222, 240, 218);
const LISTENING: RGBColor = RGBColor(161, 217, 155);
const CLOSED: RGBColor = RGBColor(179, 205, 227);
const KILLED: RGBColor = RGBColor(70, 70, 70);
/// Light fills, so the black stage ids on them stay readable.
const FILLS: [RGBColor; 5] = [
    RGBColor(158, 202, 225),
    RGBColor(253, 208, 162),
    RGBColor(203, 201, 226),
    RGBColor(252, 187, 161),
    RGBColor(190, 186, 218),
];

/// Lines of the stage list under a lane, at most.
const LIST_ROWS: usize = 3;
/// Vertical distance between two lines of the stage list.
const LIST_ROW_H: i32 = 16;

/// The stage list of a path, numbered as its segments are, wrapped into at most [`LIST_ROWS`]
/// lines (the last ends in an ellipsis when even they are not enough).
fn stage_lines(r: &PathReport) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    if let Some(why) = &r.path.never_withdrawn {
        items.push(format!("none: {why}"));
    }
    for (k, st) in r.path.stages.iter().enumerate() {
        items.push(format!(
            "{} {} {}{}",
            k + 1,
            st.id,
            st.hi,
            if st.unverified { " (unverified)" } else { "" }
        ));
    }
    let max = WIDTH as i32 - 32;
    // Wrapped word by word (a long reason wraps too); the last line takes what is left.
    let text = format!("stages: {}", items.join(" → "));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let longer = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&longer, TINY) <= max || line.is_empty() || lines.len() + 1 == LIST_ROWS {
            line = longer;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    lines.push(line);
    lines.into_iter().map(|l| ellipsize(&l, TINY, max)).collect()
}

/// The vertical layout of one strip of a path lane.
#[derive(Debug, Clone, Copy)]
struct Strip {
    note_y: i32,
    pod: (i32, i32),
    stages: (i32, i32),
    consumer: (i32, i32),
}

impl Strip {
    fn at(top: i32) -> Strip {
        Strip {
            note_y: top,
            pod: (top + 10, top + 26),
            stages: (top + 32, top + 56),
            consumer: (top + 62, top + 80),
        }
    }
    fn bottom(&self) -> i32 {
        self.consumer.1
    }
}

fn verdict_of(v: PathVerdict) -> Verdict {
    match v {
        PathVerdict::Pass => Verdict::Pass,
        PathVerdict::Warn => Verdict::Warn,
        PathVerdict::Fail => Verdict::Fail,
    }
}

/// The span a path's lane must show: from the deletion to the later of its last send and the
/// app's stop (a never-withdrawn path: the stop).
fn span(r: &PathReport) -> (Micros, Micros) {
    let end = r
        .last_send_worst
        .unwrap_or(r.stop_listening)
        .max(r.stop_listening)
        .max(r.sigterm);
    (Micros::ZERO, end)
}

/// Lays out the chart in pixels.
pub fn plan(reports: &[PathReport]) -> Plan {
    let mut c = Canvas::default();
    let spans: Vec<_> = reports.iter().map(span).collect();
    let (start, end) = axis::axis_of(&spans, Micros::ZERO);
    let shared = Scale {
        start,
        end,
        left: PLOT_LEFT,
        right: PLOT_RIGHT,
    };
    let zoomed = axis::zoomed((start, end), &spans);

    // Title: the worst verdict, the workloads (names, never file paths); one path names it whole.
    let verdict = reports
        .iter()
        .map(|r| verdict_of(r.verdict))
        .max_by_key(|v| *v as u8)
        .unwrap_or(Verdict::Pass);
    let mut workloads: Vec<&str> = Vec::new();
    for r in reports {
        if !workloads.contains(&r.target.name.as_str()) {
            workloads.push(&r.target.name);
        }
    }
    let head = format!("Kubernetes paths, worst case: {}", workloads.join(", "));
    match reports {
        [one] if one.path.service != one.target.name => {
            draw::title_row(&mut c, verdict, &head, &format!(" / {}", one.path.service))
        }
        _ => draw::title_row(&mut c, verdict, &head, ""),
    }
    let sub = "from the pod's deletion (0s) until the last consumer stops sending new connections; every stage at the top of its range";
    c.text_raw(
        (16, 50),
        Align::Left,
        &ellipsize(sub, SMALL, WIDTH as i32 - 32),
        SMALL,
        MUTED,
        false,
    );

    // Geometry: a zoomed lane has its inset under its strip on the shared axis.
    struct Geom {
        top: i32,
        bottom: i32,
        strip: Strip,
        inset: Option<(Strip, Scale, i32, draw::PxBox)>,
        list_y: i32,
        list: Vec<String>,
    }
    let mut geoms = Vec::with_capacity(reports.len());
    let mut top = 84;
    for (k, s) in spans.iter().enumerate() {
        let strip = Strip::at(top + 32);
        let list = stage_lines(&reports[k]);
        let list_h = LIST_ROW_H * (list.len() as i32 - 1);
        if zoomed[k] {
            let window = axis::inset_window(*s, (start, end));
            let scale = Scale {
                start: window.0,
                end: window.1,
                left: PLOT_LEFT,
                right: PLOT_RIGHT,
            };
            let bracket_y = strip.bottom() + 8;
            let inset_top = bracket_y + 18;
            let inner = Strip::at(inset_top + 16);
            let frame = (PLOT_LEFT - 2, inset_top, PLOT_RIGHT + 2, inner.bottom() + 34);
            let list_y = frame.3 + 14;
            geoms.push(Geom {
                top,
                bottom: list_y + list_h + 10,
                strip,
                inset: Some((inner, scale, bracket_y, frame)),
                list_y,
                list,
            });
            top = list_y + list_h + 18;
        } else {
            let list_y = strip.bottom() + 14;
            geoms.push(Geom {
                top,
                bottom: list_y + list_h + 10,
                strip,
                inset: None,
                list_y,
                list,
            });
            top = list_y + list_h + 18;
        }
    }
    let axis_y = top + 2;
    for g in &geoms {
        c.rect((4, g.top + 1), (WIDTH as i32 - 4, g.bottom), LANE_BG);
    }
    let ticks = axis::ticks((start, end), Micros::ZERO);
    for g in &geoms {
        let bottom = g.inset.map_or(g.strip.bottom(), |(_, _, by, _)| by - 4);
        for &t in &ticks {
            let x = shared.x(t);
            c.line((x, g.top + 22), (x, bottom), GRID, 1, false);
        }
    }

    for ((r, g), &z) in reports.iter().zip(&geoms).zip(&zoomed) {
        // Header: the path (never cut) and its workload on the left, the verdict on the right.
        let (word, vcolor) = draw::verdict_style(verdict_of(r.verdict));
        let rules: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.rule.id())
            .collect();
        let rules = if rules.is_empty() {
            String::new()
        } else {
            format!(" ({})", rules.join(", "))
        };
        let right = match (r.last_send_worst, r.margin) {
            (Some(last), Some(m)) if m > Micros::ZERO => format!(
                "last send {last}, stops listening {}, margin {m}: {word}{rules}",
                r.stop_listening
            ),
            (Some(last), _) => format!("last send {last} ≥ stops listening {}: {word}{rules}", r.stop_listening),
            (None, _) => format!("never withdrawn, stops listening {}: {word}{rules}", r.stop_listening),
        };
        let room = WIDTH as i32 - 16 - 16 - 24 - measure(&right, BODY);
        let left = keep_head(
            &r.path.name,
            &format!(" ({} {})", r.target.kind, r.target.name),
            BODY,
            room,
        );
        c.text_raw((16, g.top + 12), Align::Left, &left, BODY, INK, false);
        c.text_raw(
            (WIDTH as i32 - 16, g.top + 12),
            Align::Right,
            &right,
            BODY,
            vcolor,
            false,
        );

        lay_strip(&mut c, r, &g.strip, &shared, !z, None);
        if let Some((inner, scale, bracket_y, frame)) = g.inset {
            let (b0, b1) = (shared.x_in(scale.start), shared.x_in(scale.end));
            c.line((b0, bracket_y - 6), (b0, bracket_y), MUTED, 1, false);
            c.line((b1, bracket_y - 6), (b1, bracket_y), MUTED, 1, false);
            c.line((b0, bracket_y), (b1, bracket_y), MUTED, 1, false);
            c.line((b0, bracket_y), (frame.0, frame.1), MUTED, 1, false);
            c.line((b1, bracket_y), (frame.2, frame.1), MUTED, 1, false);
            c.rect((frame.0, frame.1), (frame.2, frame.3), WHITE);
            c.frame((frame.0, frame.1), (frame.2, frame.3), MUTED);
            let factor = axis::factor_label((start, end), (scale.start, scale.end));
            c.text_raw(
                (PLOT_LEFT - 10, inner.note_y),
                Align::Right,
                &format!("zoom {factor}"),
                SMALL,
                INK,
                false,
            );
            c.insets.push(Inset {
                lane: r.path.name.clone(),
                window: (scale.start, scale.end),
                frame,
                bracket: (b0, b1, bracket_y),
                factor,
            });
            lay_strip(&mut c, r, &inner, &scale, true, Some(frame.3 - 20));
        }

        // Every stage named under the lane, numbered as on its segment, even those too short to
        // hold a label.
        for (i, line) in g.list.iter().enumerate() {
            c.text_raw(
                (16, g.list_y + LIST_ROW_H * i as i32),
                Align::Left,
                line,
                TINY,
                MUTED,
                false,
            );
        }
    }

    // Axis.
    c.line((PLOT_LEFT, axis_y), (PLOT_RIGHT, axis_y), MUTED, 1, false);
    for &t in &ticks {
        let x = shared.x(t);
        c.line((x, axis_y), (x, axis_y + 5), MUTED, 1, false);
    }
    tick_labels(&mut c, &shared, &ticks, Micros::ZERO, axis_y + 16);
    let caption = if zoomed.iter().any(|&z| z) {
        "time since the pod's deletion, one scale for every path; a framed inset magnifies the bracketed stretch above it"
    } else {
        "time since the pod's deletion, one scale for every path"
    };
    c.text_raw(
        ((PLOT_LEFT + PLOT_RIGHT) / 2, axis_y + 38),
        Align::Center,
        &ellipsize(caption, SMALL, WIDTH as i32 - 32),
        SMALL,
        MUTED,
        false,
    );

    // Legend: only what the chart shows.
    let any = |f: &dyn Fn(&PathReport) -> bool| reports.iter().any(f);
    let mut pod = vec![
        (Swatch::Fill(PRESTOP), "preStop hook (still listening)".to_string()),
        (Swatch::Fill(LISTENING), "listening".to_string()),
        (Swatch::Fill(CLOSED), "not listening".to_string()),
    ];
    if !any(&|r| r.stop_listening > r.sigterm) {
        pod.remove(1);
    }
    if !any(&|r| r.sigterm > Micros::ZERO) {
        pod.remove(0);
    }
    if any(&|r| r.kill < end) {
        pod.push((Swatch::Fill(KILLED), "killed by SIGKILL".to_string()));
    }
    if any(&|r| r.sigterm != r.stop_listening) {
        pod.push((Swatch::Dashed(SIGTERM), "SIGTERM".to_string()));
    }
    pod.push((Swatch::Solid(MARKER, 2), "the app stops listening".to_string()));
    let mut path = vec![(Swatch::Fill(FILLS[0]), "stage (its worst case)".to_string())];
    if any(&|r| r.path.stages.iter().any(|s| s.unverified)) {
        path.push((Swatch::Hatched, "stage with an unverified figure".to_string()));
    }
    let mut consumer = vec![(Swatch::Fill(ROUTES), "sends new connections".to_string())];
    if any(&|r| r.verdict == PathVerdict::Fail) {
        consumer.push((
            Swatch::Fill(VIOLATION),
            "sends new connections to the closed port: refused".to_string(),
        ));
    }
    if any(&|r| r.last_send_worst.is_some()) {
        consumer.push((Swatch::Fill(REMOVED), "stopped sending".to_string()));
    }
    if zoomed.iter().any(|&z| z) {
        consumer.push((
            Swatch::Bracket,
            "zoom: the bracketed stretch magnified in the frame below it, with its own ticks".to_string(),
        ));
    }
    let bottom = legend_rows(
        &mut c,
        axis_y + 66,
        vec![("pod", pod), ("path", path), ("consumer", consumer)],
    );
    c.finish(WIDTH, (bottom + 14) as u32)
}

/// One strip of a path lane on `scale`: the pod's band, the stages, the consumer's band, the
/// SIGTERM and stop lines; with `full` their labels; with `own_axis` (an inset) its ticks.
fn lay_strip(c: &mut Canvas, r: &PathReport, s: &Strip, scale: &Scale, full: bool, own_axis: Option<i32>) {
    let x = |t: Micros| scale.x_in(t);
    let (w0, w1) = (scale.start, scale.end);
    for (y, text) in [
        ((s.pod.0 + s.pod.1) / 2, "pod"),
        ((s.stages.0 + s.stages.1) / 2, "path"),
        ((s.consumer.0 + s.consumer.1) / 2, "consumer"),
    ] {
        c.text_raw((PLOT_LEFT - 10, y), Align::Right, text, SMALL, INK, false);
    }
    if let Some(axis_y) = own_axis {
        c.line((scale.left, axis_y), (scale.right, axis_y), MUTED, 1, false);
        let ticks = axis::ticks((w0, w1), Micros::ZERO);
        for &t in &ticks {
            c.line((scale.x(t), axis_y), (scale.x(t), axis_y + 4), MUTED, 1, false);
        }
        tick_labels(c, scale, &ticks, Micros::ZERO, axis_y + 12);
    }

    // The pod: preStop, listening, not listening, killed.
    let mut pod_row = Row::within(scale.left, scale.right);
    let pod_mid = (s.pod.0 + s.pod.1) / 2;
    for (a, b, fill, words, ink) in [
        (Micros::ZERO, r.sigterm, PRESTOP, "preStop", INK),
        (r.sigterm, r.stop_listening, LISTENING, "listening", INK),
        (r.stop_listening, r.kill, CLOSED, "not listening", INK),
        (r.kill, w1, KILLED, "killed", WHITE),
    ] {
        let (xa, xb) = (x(a.max(w0)), x(b.min(w1)));
        if xb <= xa {
            continue;
        }
        c.rect((xa, s.pod.0), (xb, s.pod.1), fill);
        if full
            && measure(words, TINY) + 10 <= xb - xa
            && pod_row.place(words, TINY, &[((xa + xb) / 2, Align::Center)]).is_some()
        {
            c.text_raw(((xa + xb) / 2, pod_mid), Align::Center, words, TINY, ink, false);
        }
    }

    // The stages end to end from the path's start, each labelled where it fits.
    let mut at = match r.path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => r.sigterm,
    };
    let stage_mid = (s.stages.0 + s.stages.1) / 2;
    if r.path.never_withdrawn.is_some() {
        let (xa, xb) = (x(at), scale.right);
        c.rect((xa, s.stages.0), (xb, s.stages.1), REMOVED);
        let label = "no stage withdraws the endpoint";
        if full && measure(label, SMALL) + 12 <= xb - xa {
            c.text_raw((xa + 6, stage_mid), Align::Left, label, SMALL, INK, false);
        }
    }
    let mut stage_row = Row::within(scale.left, scale.right);
    for (k, st) in r.path.stages.iter().enumerate() {
        let (a, b) = (at, at + st.hi);
        at = b;
        if b < w0 || a > w1 {
            continue;
        }
        let (x0, x1) = (x(a), x(b).max(x(a) + 1));
        if st.unverified {
            c.rect((x0, s.stages.0), (x1, s.stages.1), HATCH_BG);
            hatch(c, (x0, s.stages.0), (x1, s.stages.1));
        } else {
            c.rect((x0, s.stages.0), (x1, s.stages.1), FILLS[k % FILLS.len()]);
        }
        c.line((x1, s.stages.0), (x1, s.stages.1), WHITE, 1, false);
        if full {
            let words = [
                format!("{} {} {}", k + 1, st.id, st.hi),
                format!("{} {}", k + 1, st.id),
                (k + 1).to_string(),
            ];
            if let Some(w) = words.iter().find(|w| {
                measure(w, SMALL) + 8 <= x1 - x0
                    && stage_row.place(w, SMALL, &[((x0 + x1) / 2, Align::Center)]).is_some()
            }) {
                c.text(((x0 + x1) / 2, stage_mid), Align::Center, w, SMALL, INK);
            }
        }
    }

    // The consumer: sends until its last send, red from the app's stop; then stopped.
    let cons_mid = (s.consumer.0 + s.consumer.1) / 2;
    let stop = r.stop_listening;
    let last = r.last_send_worst;
    let sends_until = last.unwrap_or(w1.max(stop));
    let (xs, x_stop, x_last) = (x(w0.max(Micros::ZERO)), x(stop), x(sends_until));
    let mut cons_row = Row::within(scale.left, scale.right);
    c.rect((xs, s.consumer.0), (x_last.min(x_stop), s.consumer.1), ROUTES);
    if sends_until >= stop {
        let xb = x_last.max(x_stop + 4);
        c.rect((x_stop, s.consumer.0), (xb, s.consumer.1), VIOLATION);
        c.red_bands.push((x_stop, s.consumer.0, xb, s.consumer.1));
        if full {
            let words = match last {
                Some(l) if l > stop => vec![
                    format!(
                        "sends new connections {} after the app stops listening: refused",
                        l - stop
                    ),
                    format!("{} to the closed port: refused", l - stop),
                    format!("{} refused", l - stop),
                ],
                Some(_) => vec!["sends right up to the app's stop (0s margin)".to_string()],
                None => vec![
                    "never stops sending: new connections reach the closed port".to_string(),
                    "never stops: refused".to_string(),
                ],
            };
            let inside = words.iter().find(|w| {
                measure(w, SMALL) + 12 <= xb - x_stop
                    && cons_row
                        .place(w, SMALL, &[((x_stop + xb) / 2, Align::Center)])
                        .is_some()
            });
            if let Some(w) = inside {
                c.text_raw(((x_stop + xb) / 2, cons_mid), Align::Center, w, SMALL, WHITE, false);
            } else if let Some((w, (ax, al))) = words.iter().find_map(|w| {
                cons_row
                    .place(w, SMALL, &[(xb + 8, Align::Left), (x_stop - 8, Align::Right)])
                    .map(|p| (w, p))
            }) {
                c.text((ax, cons_mid), al, w, SMALL, VIOLATION);
            }
        }
    }
    if let Some(l) = last {
        c.rect((x(l), s.consumer.0), (scale.right, s.consumer.1), REMOVED);
        if l < stop {
            let text = format!("margin {}", stop - l);
            c.line((x_last, cons_mid), (x_stop, cons_mid), INK, 1, false);
            for xx in [x_last, x_stop] {
                c.line((xx, cons_mid - 6), (xx, cons_mid + 6), INK, 1, false);
            }
            if full {
                let w = measure(&text, SMALL);
                let cands = [
                    ((x_last + x_stop) / 2, Align::Center),
                    (x_stop + 8, Align::Left),
                    (x_last - 8, Align::Right),
                ];
                let cands = if x_stop - x_last >= w + 16 {
                    &cands[..]
                } else {
                    &cands[1..]
                };
                if let Some((ax, al)) = cons_row.place(&text, SMALL, cands) {
                    c.text((ax, cons_mid), al, &text, SMALL, INK);
                }
            }
        }
        if full {
            let (xa, xb) = (x(l).max(x_stop), scale.right);
            let text = "stopped sending";
            if measure(text, SMALL) + 16 <= xb - xa
                && cons_row.place(text, SMALL, &[((xa + xb) / 2, Align::Center)]).is_some()
            {
                c.text_raw(((xa + xb) / 2, cons_mid), Align::Center, text, SMALL, MUTED, false);
            }
        }
    }
    if full && x_last.min(x_stop) - xs >= measure("sends new connections", SMALL) + 16 {
        let mid = (xs + x_last.min(x_stop)) / 2;
        if cons_row
            .place("sends new connections", SMALL, &[(mid, Align::Center)])
            .is_some()
        {
            c.text_raw(
                (mid, cons_mid),
                Align::Center,
                "sends new connections",
                SMALL,
                MUTED,
                false,
            );
        }
    }

    // SIGTERM and the app's stop: lines through the strip, labelled in its note row.
    let mut note_row = Row::within(scale.left, WIDTH as i32 - 4);
    let bottom = own_axis.unwrap_or(s.bottom() + 4);
    let mut lines = vec![(stop, format!("stops listening ({stop})"), MARKER, true)];
    if r.sigterm != stop {
        lines.push((r.sigterm, format!("SIGTERM ({})", r.sigterm), SIGTERM, false));
    }
    for (t, text, color, solid) in lines {
        if t < w0 || t > w1 {
            continue;
        }
        let xt = scale.x(t);
        if solid {
            c.marker_rule(xt, (s.note_y - 8, bottom), color, 2);
        } else {
            c.vrule(xt, (s.note_y - 8, bottom), color, 1, true);
        }
        if full {
            if let Some((ax, al)) = note_row.place(&text, TINY, &[(xt + 4, Align::Left), (xt - 4, Align::Right)]) {
                c.text((ax, s.note_y), al, &text, TINY, color);
            }
        }
    }
    if let (true, Some(l)) = (full, last) {
        if (w0..=w1).contains(&l) {
            let text = format!("last send {l}");
            let xl = scale.x(l);
            if let Some((ax, al)) = note_row.place(&text, TINY, &[(xl + 4, Align::Left), (xl - 4, Align::Right)]) {
                c.text((ax, s.note_y), al, &text, TINY, MUTED);
            }
        }
    }
}

/// Writes the chart to `path` as SVG or PNG by its extension, a PNG at `scale` (a temporary file
/// renamed into place, so a failure leaves nothing).
pub fn write(reports: &[PathReport], path: &Path, scale: u32) -> Result<()> {
    let format = ImageFormat::from_path(path)?;
    ensure_font()?;
    write_plan(&plan(reports), format, scale, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Loc;
    use crate::paths::{analyze, apiserver_service, ingress, kube_proxy, lb_controller};
    use crate::scenario::k8s::{Prestop, ProxyMode, Reconciler, Target};
    use crate::scenario::{server_from_profile, ServerSource, DEFAULT_MIN_MARGIN};

    fn at(file: &str, line: u32) -> Loc {
        Loc {
            file: file.into(),
            line,
            column: 5,
        }
    }

    /// A workload's pod as the Kubernetes readers describe it: the app's shutdown profile with the
    /// pod's own preStop and grace period.
    fn pod(kind: &str, name: &str, file: &str, prestop: Prestop, grace_s: i64) -> Target {
        let profile = "app-stops-at-sigterm";
        let (mut server, _) = server_from_profile(profile, &at(file, 1)).unwrap();
        server.prestop_sleep = prestop.duration();
        server.termination_grace_period = Micros::from_secs(grace_s);
        Target {
            kind: kind.into(),
            name: name.into(),
            file: file.into(),
            container: "app".into(),
            container_loc: at(file, 12),
            grace_loc: at(file, 10),
            grace_defaulted: false,
            prestop,
            server,
            server_source: ServerSource {
                origin: format!("builtin:{profile}"),
                assumed: true,
                reason: "assumed".into(),
            },
            delay_loc: None,
            apiserver: false,
            readiness: Some("httpGet /ready".into()),
            probe: None,
            sidecar: false,
            istio_proxy: None,
        }
    }

    /// A kube-apiserver static pod with `--shutdown-delay-duration=<delay_s>s`.
    fn apiserver(file: &str, delay_s: i64) -> Target {
        let mut t = pod("Pod (kube-apiserver)", "kube-apiserver-cp1", file, Prestop::None, 135);
        let (mut server, _) = server_from_profile("kube-apiserver", &at(file, 1)).unwrap();
        server.shutdown_delay = Micros::from_secs(delay_s);
        t.server = server;
        t.delay_loc = Some(at(file, 14));
        t.apiserver = true;
        t.readiness = Some("httpGet /readyz".into());
        t
    }

    fn sleep(file: &str, s: i64) -> Prestop {
        Prestop::Sleep {
            duration: Micros::from_secs(s),
            loc: at(file, 20),
        }
    }

    /// The reports of three sets of inputs, built without the readers: an NLB with ip targets
    /// (its long deregistration lag, its own health check as the alternative) beside a
    /// kube-apiserver; a master-count kube-apiserver (never withdrawn); ingress-nginx over IPVS,
    /// a preStop script of unknown length and a pod without preStop.
    fn report_sets() -> Vec<(&'static str, Vec<PathReport>)> {
        let nlb = crate::scenario::load_str(
            "web.yaml",
            "[server]\nprofile = \"app-stops-at-sigterm\"\n[[lb]]\nname = \"shop/web\"\nprofile = \"aws-nlb\"\nprotocol = \"http\"\npath = \"/ready\"\n",
        )
        .unwrap();
        let web = pod(
            "Deployment",
            "shop/web",
            "web-nlb-ip.yaml",
            sleep("web-nlb-ip.yaml", 10),
            45,
        );
        let mut ip = lb_controller::path(
            "shop/web",
            "shop/web:80 LoadBalancer",
            at("web-nlb-ip.yaml", 30),
            lb_controller::Lb::Nlb,
            None,
            Some(false),
        );
        ip.lbs = vec!["shop/web".into()];
        ip.alternative = Some(lb_controller::health_check_of_pod(&web, &nlb.lbs[0]));
        let web_proxy = kube_proxy::path(
            "shop/web",
            "shop/web:80 LoadBalancer",
            at("web-nlb-ip.yaml", 30),
            ProxyMode::Iptables,
        );
        let api = apiserver("kube-apiserver-70s.yaml", 70);
        let api_path = |file: &str, reconciler| {
            apiserver_service::path("kube-apiserver-cp1", at(file, 10), reconciler, ProxyMode::Iptables)
        };
        let first = vec![
            analyze(&web, &web_proxy, DEFAULT_MIN_MARGIN),
            analyze(&web, &ip, DEFAULT_MIN_MARGIN),
            analyze(
                &api,
                &api_path("kube-apiserver-70s.yaml", Reconciler::Lease),
                DEFAULT_MIN_MARGIN,
            ),
        ];
        let mc = apiserver("kube-apiserver-master-count.yaml", 70);
        let second = vec![analyze(
            &mc,
            &api_path("kube-apiserver-master-count.yaml", Reconciler::MasterCount(3)),
            DEFAULT_MIN_MARGIN,
        )];
        let shop = pod(
            "Deployment",
            "default/shop",
            "ingress-nginx-ipvs.yaml",
            sleep("ingress-nginx-ipvs.yaml", 5),
            30,
        );
        let script = Prestop::Unknown {
            what: "/bin/sh -c sleep 5; nginx -s quit".into(),
            assumed: Micros::from_secs(5),
            loc: at("prestop-script.yaml", 17),
        };
        let nginx = pod("StatefulSet", "default/nginx", "prestop-script.yaml", script, 60);
        let bare = pod("Deployment", "shop/web", "web-no-prestop.yaml", Prestop::None, 30);
        let ipvs =
            |service: &str, name: &str, file: &str| kube_proxy::path(service, name, at(file, 30), ProxyMode::Ipvs);
        let third = vec![
            analyze(
                &shop,
                &ipvs("default/shop", "default/shop:80 ClusterIP", "ingress-nginx-ipvs.yaml"),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &nginx,
                &ipvs("default/nginx", "default/nginx:80 NodePort", "prestop-script.yaml"),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &bare,
                &ipvs("shop/web", "shop/web:80 ClusterIP", "web-no-prestop.yaml"),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &shop,
                &ingress::nginx_path(
                    "default/shop",
                    "default/shop -> default/shop",
                    at("ingress-nginx-ipvs.yaml", 40),
                ),
                DEFAULT_MIN_MARGIN,
            ),
        ];
        vec![
            ("web-nlb-ip + kube-apiserver-70s", first),
            ("kube-apiserver-master-count", second),
            ("ingress-nginx-ipvs + prestop-script + web-no-prestop", third),
        ]
    }

    /// The reports of one fixture's pods, taken from [`report_sets`] (built without the readers).
    fn reports(files: &[&str]) -> Vec<PathReport> {
        report_sets()
            .into_iter()
            .flat_map(|(_, r)| r)
            .filter(|r| files.iter().any(|f| r.target.file == *f) && !r.target.apiserver)
            .collect()
    }

    fn texts(plan: &Plan) -> String {
        plan.text_boxes
            .iter()
            .map(|b| b.1.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }

    /// Every text inside the picture and apart from every other, no marker line through a text, on
    /// lanes with a long stage, a never-withdrawn endpoint and a hook starting at SIGTERM; every
    /// stage named under its lane.
    #[test]
    fn texts_stay_inside_and_apart() {
        ensure_font().unwrap();
        for (files, r) in report_sets() {
            assert!(!r.is_empty(), "{files:?}");
            let plan = plan(&r);
            crate::output::chart::tests::assert_legible(&format!("{files:?}"), &plan);
            let b = &plan.text_boxes;
            for rep in &r {
                let first = &rep
                    .path
                    .stages
                    .first()
                    .map_or("none: ".to_string(), |s| format!("1 {}", s.id));
                assert!(
                    b.iter()
                        .any(|(_, t)| t.starts_with("stages: ") && t.contains(first.as_str())),
                    "{files:?}: {first}"
                );
            }
        }
    }

    #[test]
    fn the_closed_port_window_is_red_and_short_paths_are_zoomed() {
        ensure_font().unwrap();
        // kube-proxy path (PASS, 4 s) beside the NLB ip-target path (FAIL, 3m13s): one red band,
        // on the failing lane; the 4 s path gets an inset.
        let r = reports(&["web-nlb-ip.yaml"]);
        let plan = plan(&r);
        let t = texts(&plan);
        assert_eq!(plan.red_bands.len(), 1, "{:?}", plan.red_bands);
        assert!(t.contains("after the app stops listening: refused"), "{t}");
        let zoomed: Vec<_> = plan.insets.iter().map(|i| i.lane.as_str()).collect();
        assert_eq!(zoomed, [r[0].path.name.as_str()]);
        // The kube-proxy path passes typically (it warns on its tail); the NLB path fails.
        assert!(r[0].verdict != PathVerdict::Fail && r[1].verdict == PathVerdict::Fail);
        // Badge, legend, labelled stages.
        assert!(t.starts_with("FAIL|Kubernetes paths, worst case: shop/web"), "{t}");
        assert!(t.contains("|sends new connections to the closed port: refused|"), "{t}");
        assert!(t.contains("|6 nlb-deregistration-lag 3m|"), "{t}");
        // No file path anywhere in the title.
        assert!(!t.contains(".yaml"), "{t}");
    }

    #[test]
    fn a_lone_short_path_fills_the_axis() {
        ensure_font().unwrap();
        // web-no-prestop under IPVS: 3 s of stages, the app stops at 0 s. The axis ends just after
        // 3 s (no 87 % empty plot up to SIGKILL) and nothing needs an inset.
        let r = reports(&["web-no-prestop.yaml"]);
        let plan = plan(&r);
        assert!(plan.insets.is_empty());
        let t = texts(&plan);
        assert!(t.contains("|3s|") && !t.contains("|10s|"), "{t}");
        assert_eq!(plan.red_bands.len(), 1);
        // The Service is the workload's name: said once.
        assert!(t.contains("|Kubernetes paths, worst case: shop/web|"), "{t}");
    }
}
