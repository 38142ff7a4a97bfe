//! Layout and painting. [`plan`] turns a [`TimelineChart`] into a display list in pixels (placing
//! every label where it overlaps no other); [`paint`] draws that list on any plotters backend, so
//! SVG and PNG come from the same routine.

use super::model::{LbLane, ServerState, TimelineChart};
use super::FONT_FAMILY;
use crate::analysis::Verdict;
use crate::time::Micros;
use crate::timeline::Outcome;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontStyle};

/// Width of every chart in pixels; the height follows from the number of lanes and label rows.
pub const WIDTH: u32 = 1200;

const PLOT_LEFT: i32 = 128;
const PLOT_RIGHT: i32 = WIDTH as i32 - 28;
const GAP: i32 = 8;

const TITLE: f64 = 24.0;
const BODY: f64 = 16.0;
const SMALL: f64 = 14.0;
const TINY: f64 = 13.0;

/// Text colour, shared by every chart.
pub(crate) const INK: RGBColor = RGBColor(33, 33, 33);
/// Secondary text colour, shared by every chart.
pub(crate) const MUTED: RGBColor = RGBColor(90, 90, 90);
/// Grid lines, shared by every chart.
pub(crate) const GRID: RGBColor = RGBColor(232, 232, 232);
const MARKER: RGBColor = RGBColor(70, 70, 70);
const KILL: RGBColor = RGBColor(150, 0, 0);
const DETECT: RGBColor = RGBColor(33, 102, 172);
const VIOLATION: RGBColor = RGBColor(200, 30, 30);
const ROUTES: RGBColor = RGBColor(199, 233, 192);
const REMOVED: RGBColor = RGBColor(236, 236, 236);
const LANE_BG: RGBColor = RGBColor(250, 250, 250);

/// The shape at the end of a probe bar; outcomes differ in colour and in shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// Pass.
    Circle,
    /// Error status.
    Cross,
    /// Timeout.
    Triangle,
    /// Refused.
    Square,
}

/// One thing to draw, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled rectangle.
    Rect {
        /// Top-left and bottom-right corners.
        from: (i32, i32),
        /// Bottom-right corner.
        to: (i32, i32),
        /// Fill.
        fill: RGBAColor,
    },
    /// An unfilled rectangle.
    Frame {
        /// Top-left corner.
        from: (i32, i32),
        /// Bottom-right corner.
        to: (i32, i32),
        /// Stroke.
        color: RGBColor,
    },
    /// A straight line.
    Line {
        /// Start.
        from: (i32, i32),
        /// End.
        to: (i32, i32),
        /// Stroke.
        color: RGBColor,
        /// Stroke width.
        width: u32,
        /// Dashed instead of solid.
        dashed: bool,
    },
    /// A line of text, vertically centred on `at`.
    Text {
        /// Anchor point.
        at: (i32, i32),
        /// Horizontal alignment at the anchor.
        align: Align,
        /// The words.
        text: String,
        /// Font size (plotters units).
        size: f64,
        /// Colour.
        color: RGBColor,
    },
    /// A probe-end glyph centred on `at`.
    Glyph {
        /// Centre.
        at: (i32, i32),
        /// Which shape.
        glyph: Glyph,
        /// Colour.
        color: RGBColor,
    },
}

/// Horizontal text alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// The anchor is the left end.
    Left,
    /// The anchor is the middle.
    Center,
    /// The anchor is the right end.
    Right,
}

/// A laid-out chart: its size, what to draw, and the box of every text (for overlap tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// In painting order.
    pub shapes: Vec<Shape>,
    /// Bounding box `(x0, y0, x1, y1)` of every text, with the text.
    pub text_boxes: Vec<((i32, i32, i32, i32), String)>,
}

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
}

/// Width of `text` at `size` in pixels, from the embedded font's advances.
pub(crate) fn measure(text: &str, size: f64) -> i32 {
    font(size)
        .box_size(text)
        .map_or(text.chars().count() as i32 * size as i32, |(w, _)| w as i32)
}

/// `text` cut to fit `max` pixels at `size`, ending in an ellipsis when cut.
pub(crate) fn ellipsize(text: &str, size: f64, max: i32) -> String {
    if measure(text, size) <= max {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 0 {
        let cut: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if measure(&cut, size) <= max {
            return cut;
        }
        n -= 1;
    }
    "…".to_string()
}

/// Horizontal extent of a text of width `w` anchored at `x`.
fn extent(x: i32, w: i32, align: Align) -> (i32, i32) {
    match align {
        Align::Left => (x, x + w),
        Align::Center => (x - w / 2, x + w - w / 2),
        Align::Right => (x - w, x),
    }
}

/// Occupied horizontal intervals of one label row.
#[derive(Default, Clone)]
struct Row {
    used: Vec<(i32, i32)>,
}

impl Row {
    fn take(&mut self, a: i32, b: i32) {
        self.used.push((a, b));
    }
    /// Places `text` at the first candidate anchor where it fits; `None` if none does.
    fn place(&mut self, text: &str, size: f64, candidates: &[(i32, Align)]) -> Option<(i32, Align)> {
        self.place_with_gap(text, size, candidates, GAP)
    }
    /// Like [`Row::place`] with a small gap, for short numbers.
    fn place_tight(&mut self, text: &str, size: f64, candidates: &[(i32, Align)]) -> Option<(i32, Align)> {
        self.place_with_gap(text, size, candidates, 3)
    }
    fn place_with_gap(&mut self, text: &str, size: f64, candidates: &[(i32, Align)], gap: i32) -> Option<(i32, Align)> {
        let w = measure(text, size);
        for &(x, align) in candidates {
            let (a, b) = extent(x, w, align);
            let free =
                a >= PLOT_LEFT && b <= WIDTH as i32 - 4 && self.used.iter().all(|&(u, v)| b + gap <= u || v + gap <= a);
            if free {
                self.take(a, b);
                return Some((x, align));
            }
        }
        None
    }
}

/// The shapes and texts of a chart in pixels: texts are painted after every shape, and each text's
/// box is kept for the layout (and the tests that no two texts overlap). Shared by every chart.
#[derive(Default)]
pub(crate) struct Canvas {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) texts: Vec<Shape>,
    pub(crate) boxes: Vec<((i32, i32, i32, i32), String)>,
}

impl Canvas {
    /// A filled rectangle (nothing when empty).
    pub(crate) fn rect(&mut self, from: (i32, i32), to: (i32, i32), fill: impl Into<RGBAColor>) {
        if to.0 > from.0 && to.1 > from.1 {
            self.shapes.push(Shape::Rect {
                from,
                to,
                fill: fill.into(),
            });
        }
    }
    /// A straight line, dashed or solid.
    pub(crate) fn line(&mut self, from: (i32, i32), to: (i32, i32), color: RGBColor, width: u32, dashed: bool) {
        self.shapes.push(Shape::Line {
            from,
            to,
            color,
            width,
            dashed,
        });
    }
    /// A text painted after every shape; `bg` puts it on a white box (over lines and bands).
    pub(crate) fn text_raw(&mut self, at: (i32, i32), align: Align, text: &str, size: f64, color: RGBColor, bg: bool) {
        let w = measure(text, size);
        let (a, b) = extent(at.0, w, align);
        let h = (size * 0.9) as i32;
        let bx = (a, at.1 - h / 2, b, at.1 + h - h / 2);
        if bg {
            self.texts.push(Shape::Rect {
                from: (bx.0 - 3, bx.1 - 1),
                to: (bx.2 + 3, bx.3 + 1),
                fill: WHITE.mix(0.85),
            });
        }
        self.texts.push(Shape::Text {
            at,
            align,
            text: text.to_string(),
            size,
            color,
        });
        self.boxes.push((bx, text.to_string()));
    }
}

/// A [`Canvas`] with the time axis of one chart.
struct Painter {
    canvas: Canvas,
    start: Micros,
    end: Micros,
}

impl std::ops::Deref for Painter {
    type Target = Canvas;
    fn deref(&self) -> &Canvas {
        &self.canvas
    }
}

impl std::ops::DerefMut for Painter {
    fn deref_mut(&mut self) -> &mut Canvas {
        &mut self.canvas
    }
}

impl Painter {
    fn x(&self, t: Micros) -> i32 {
        let span = i128::from((self.end - self.start).0.max(1));
        let off = i128::from((t - self.start).0);
        let px = i128::from(PLOT_RIGHT - PLOT_LEFT);
        (i128::from(PLOT_LEFT) + (off * px + span / 2).div_euclid(span)) as i32
    }
    /// A text on a white box, painted after every other shape.
    fn text(&mut self, at: (i32, i32), align: Align, text: &str, size: f64, color: RGBColor) {
        self.text_raw(at, align, text, size, color, true);
    }
}

fn verdict_style(v: Verdict) -> (&'static str, RGBColor) {
    match v {
        Verdict::Pass => ("PASS", RGBColor(0, 128, 60)),
        Verdict::Warn => ("WARN", RGBColor(190, 110, 0)),
        Verdict::Fail => ("FAIL", VIOLATION),
    }
}

fn state_style(s: ServerState) -> (RGBColor, &'static str, RGBColor) {
    match s {
        ServerState::PreStop => (RGBColor(222, 240, 218), "preStop hook (still ready)", INK),
        ServerState::Ready => (RGBColor(161, 217, 155), "ready: listening, readiness passes", INK),
        ServerState::ReadyzFailing => (RGBColor(253, 204, 138), "readiness failing, still listening", INK),
        ServerState::Draining => (RGBColor(179, 205, 227), "not listening, draining in-flight", INK),
        ServerState::Exited => (RGBColor(210, 210, 210), "exited", INK),
        ServerState::Killed => (RGBColor(70, 70, 70), "killed by SIGKILL", WHITE),
    }
}

/// Colour, glyph and legend words of a probe outcome.
fn outcome_style(o: Outcome) -> (RGBColor, Glyph, &'static str) {
    match o {
        Outcome::Pass => (RGBColor(0, 140, 100), Glyph::Circle, "probe passes"),
        Outcome::HttpError => (RGBColor(230, 120, 0), Glyph::Cross, "fails: error status"),
        Outcome::Timeout => (RGBColor(120, 80, 180), Glyph::Triangle, "times out"),
        Outcome::Refused => (RGBColor(20, 20, 20), Glyph::Square, "refused (not listening)"),
    }
}

/// Time relative to SIGTERM, as printed in labels.
fn rel(t: Micros, origin: Micros) -> String {
    let d = t - origin;
    if d < Micros::ZERO {
        format!("-{}", -d)
    } else {
        d.to_string()
    }
}

/// A round tick step for about ten ticks: 1, 2 or 5 times a power of ten below a second, then
/// steps a clock reads well (10 s, 15 s, 30 s, 1 min, ..., 1 h, 6 h, 1 day, ...).
fn tick_step(span: Micros) -> Micros {
    const CLOCK_SECS: [i64; 16] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600];
    let raw = (span.0 / 10).max(1);
    if raw > 1_000_000 {
        let secs = CLOCK_SECS.iter().map(|&s| Micros::from_secs(s)).find(|s| s.0 >= raw);
        return secs.unwrap_or_else(|| {
            let day = Micros::from_secs(86_400);
            day.times((raw + day.0 - 1) / day.0)
        });
    }
    let mut mag = 1i64;
    loop {
        for m in [1, 2, 5] {
            if mag * m >= raw {
                return Micros(mag * m);
            }
        }
        mag *= 10;
    }
}

struct MarkerLabel {
    x: i32,
    text: String,
    kill: bool,
}

/// Places the marker labels in rows so that no label overlaps another and no marker line crosses
/// a label: a line starts at its own label and runs down, so every label it passes must be above.
fn place_markers(labels: &[MarkerLabel]) -> Vec<(usize, i32, Align)> {
    let mut out: Vec<(usize, i32, Align)> = Vec::with_capacity(labels.len());
    let mut spans: Vec<(i32, i32)> = Vec::with_capacity(labels.len());
    for l in labels {
        let w = measure(&l.text, SMALL);
        let mut chosen = None;
        'rows: for row in 0..8usize {
            for align in [Align::Left, Align::Right] {
                let ax = if align == Align::Left { l.x + 5 } else { l.x - 5 };
                let (a, b) = extent(ax, w, align);
                if a < 4 || b > WIDTH as i32 - 4 {
                    continue;
                }
                let ok = out
                    .iter()
                    .zip(&spans)
                    .zip(labels)
                    .all(|((&(r, _, _), &(pa, pb)), other)| {
                        let overlap = r == row && !(b + GAP <= pa || pb + GAP <= a);
                        let its_line_hits_me = r <= row && (a - 3..=b + 3).contains(&other.x);
                        let my_line_hits_it = r >= row && (pa - 3..=pb + 3).contains(&l.x);
                        !overlap && !its_line_hits_me && !my_line_hits_it
                    });
                if ok {
                    chosen = Some((row, ax, align, a, b));
                    break 'rows;
                }
            }
        }
        let (row, ax, align, a, b) = chosen.unwrap_or_else(|| {
            let row = out.iter().map(|p| p.0).max().map_or(0, |r| r + 1);
            let (a, b) = extent(l.x + 5, w, Align::Left);
            (row, l.x + 5, Align::Left, a, b)
        });
        out.push((row, ax, align));
        spans.push((a, b));
    }
    out
}

/// Lays out `chart` in pixels.
pub fn plan(chart: &TimelineChart) -> Plan {
    let mut p = Painter {
        canvas: Canvas::default(),
        start: chart.start,
        end: chart.end,
    };

    // Title and subtitle.
    let (word, color) = verdict_style(chart.verdict);
    let badge = measure(word, TITLE) + 20;
    p.rect((16, 8), (16 + badge, 36), color);
    p.text_raw((16 + badge / 2, 22), Align::Center, word, TITLE, WHITE, false);
    let title = match chart.lanes.as_slice() {
        [one] => format!("graceful shutdown, worst case: {} / {}", chart.scenario, one.name),
        _ => format!("graceful shutdown, worst case: {}", chart.scenario),
    };
    let title = ellipsize(&title, TITLE, WIDTH as i32 - 16 - (16 + badge + 14));
    p.text_raw((16 + badge + 14, 22), Align::Left, &title, TITLE, INK, false);
    let server = ellipsize(&chart.server, SMALL, WIDTH as i32 - 32);
    p.text_raw((16, 50), Align::Left, &server, SMALL, MUTED, false);

    // Marker labels: markers at the same instant share one label.
    let mut labels: Vec<MarkerLabel> = Vec::new();
    let mut i = 0;
    while i < chart.markers.len() {
        let at = chart.markers[i].at;
        let group: Vec<_> = chart.markers[i..].iter().take_while(|m| m.at == at).collect();
        i += group.len();
        let ids: Vec<_> = group.iter().map(|m| m.id).collect();
        let whats: Vec<_> = group
            .iter()
            .map(|m| m.what.as_str())
            .filter(|w| !w.is_empty())
            .collect();
        let mut text = ids.join("/");
        if !whats.is_empty() {
            text.push(' ');
            text.push_str(&whats.join(", "));
        }
        text.push_str(&format!(" ({})", rel(at, chart.origin)));
        labels.push(MarkerLabel {
            x: p.x(at),
            text,
            kill: group.iter().any(|m| m.kill),
        });
    }
    let placement = place_markers(&labels);
    let rows = placement.iter().map(|p| p.0).max().map_or(1, |r| r + 1) as i32;
    let marker_top = 70;
    let row_h = 20;
    let lanes_top = marker_top + rows * row_h + 6;

    // Lane geometry. With a time scale per lane, the shared axis sits under the server band (the
    // markers' scale) and every lane gets its own ticks.
    let server_band = (lanes_top, lanes_top + 32);
    let own = chart.own_scales;
    let lane_h = if own { 150 } else { 128 };
    let first_lane = server_band.1 + if own { 62 } else { 14 };
    let lanes_bottom = first_lane + lane_h * chart.lanes.len() as i32;
    let axis_y = if own { server_band.1 + 2 } else { lanes_bottom + 2 };

    // Grid and ticks.
    let step = tick_step(chart.end - chart.start);
    let mut t = Micros((chart.start - chart.origin).0.div_euclid(step.0) * step.0) + chart.origin;
    let mut ticks = Vec::new();
    while t <= chart.end {
        if t >= chart.start {
            ticks.push(t);
        }
        t += step;
    }
    for &t in &ticks {
        let x = p.x(t);
        p.line((x, lanes_top), (x, axis_y), GRID, 1, false);
    }

    // Server lane.
    p.text_raw(
        (PLOT_LEFT - 10, (server_band.0 + server_band.1) / 2),
        Align::Right,
        "server",
        BODY,
        INK,
        false,
    );
    let mut band_row = Row::default();
    for s in &chart.segments {
        let (fill, words, ink) = state_style(s.state);
        let (x0, x1) = (p.x(s.from), p.x(s.to));
        p.rect((x0, server_band.0), (x1, server_band.1), fill);
        let short = match s.state {
            ServerState::PreStop => "preStop",
            ServerState::Ready => "ready",
            ServerState::ReadyzFailing => "readiness failing",
            ServerState::Draining => "not listening, draining",
            ServerState::Exited => "exited",
            ServerState::Killed => "killed",
        };
        let mid = (x0 + x1) / 2;
        for text in [words, short] {
            if measure(text, SMALL) + 12 <= x1 - x0 && band_row.place(text, SMALL, &[(mid, Align::Center)]).is_some() {
                p.text_raw(
                    (mid, (server_band.0 + server_band.1) / 2),
                    Align::Center,
                    text,
                    SMALL,
                    ink,
                    false,
                );
                break;
            }
        }
    }

    // Load balancer lanes, each on its window (the chart's unless `own_scales`).
    for (k, lane) in chart.lanes.iter().enumerate() {
        let top = first_lane + lane_h * k as i32;
        (p.start, p.end) = lane.window;
        lay_lane(&mut p, chart, lane, top, lane_h);
        (p.start, p.end) = (chart.start, chart.end);
    }

    // Marker lines and labels (after the lanes so that they run over the lane backgrounds).
    for (l, &(row, ax, align)) in labels.iter().zip(&placement) {
        let y = marker_top + row as i32 * row_h + row_h / 2;
        let color = if l.kill { KILL } else { MARKER };
        p.line((l.x, y - 8), (l.x, axis_y), color, if l.kill { 2 } else { 1 }, false);
        p.text((ax, y), align, &l.text, SMALL, color);
    }

    // Axis.
    p.line((PLOT_LEFT, axis_y), (PLOT_RIGHT, axis_y), MUTED, 1, false);
    let mut tick_row = Row::default();
    for &t in &ticks {
        let x = p.x(t);
        p.line((x, axis_y), (x, axis_y + 5), MUTED, 1, false);
        let text = rel(t, chart.origin);
        if tick_row.place(&text, TINY, &[(x, Align::Center)]).is_some() {
            p.text_raw((x, axis_y + 16), Align::Center, &text, TINY, MUTED, false);
        }
    }
    let caption = if own {
        format!(
            "time since SIGTERM (E1). Worst cases differ more than {}x: each load balancer below has its own time scale",
            super::model::OWN_SCALE_RATIO
        )
    } else {
        "time since SIGTERM (E1)".to_string()
    };
    p.text_raw(
        ((PLOT_LEFT + PLOT_RIGHT) / 2, axis_y + 38),
        Align::Center,
        &caption,
        SMALL,
        MUTED,
        false,
    );

    // Legend.
    let legend_top = if own { lanes_bottom + 30 } else { axis_y + 66 };
    let bottom = lay_legend(&mut p, chart, legend_top);

    let Canvas {
        mut shapes,
        mut texts,
        boxes,
    } = p.canvas;
    shapes.append(&mut texts);
    Plan {
        width: WIDTH,
        height: (bottom + 14) as u32,
        shapes,
        text_boxes: boxes,
    }
}

fn lay_lane(p: &mut Painter, chart: &TimelineChart, lane: &LbLane, top: i32, lane_h: i32) {
    let header_y = top + 12;
    let note_y = top + 32;
    let band = (top + 42, top + 62);
    let rows_y = [top + 76, top + 95];
    let count_y = top + 112;
    let bottom = top + lane_h - 8;
    p.rect((4, top + 1), (WIDTH as i32 - 4, bottom), LANE_BG);

    // Header: name and settings on the left, verdict on the right.
    let (word, vcolor) = verdict_style(lane.verdict);
    let rules = if lane.rules.is_empty() {
        String::new()
    } else {
        format!(" ({})", lane.rules.join(", "))
    };
    let right_full = if lane.violates() {
        format!(
            "worst case {} ≥ budget {} (E3 − E2): {word}{rules}",
            lane.worst, lane.budget
        )
    } else {
        format!(
            "worst case {}, budget {}, margin {}: {word}{rules}",
            lane.worst,
            lane.budget,
            lane.margin()
        )
    };
    let left_full = format!("{} ({}): {}", lane.name, lane.profile, lane.schedule);
    // The verdict's numbers (worst case, budget) always stay; the settings on the left give way,
    // abbreviated with an ellipsis rather than dropped silently.
    let room = WIDTH as i32 - 16 - 16 - 24 - measure(&right_full, BODY);
    let left_owned = ellipsize(&left_full, BODY, room.max(measure("…", BODY)));
    let (left, right) = (&left_owned, &right_full);
    p.text((16, header_y), Align::Left, left, BODY, INK);
    p.text((WIDTH as i32 - 16, header_y), Align::Right, right, BODY, vcolor);

    let marker_ids = if chart.own_scales {
        lane_scale(p, chart, top, bottom)
    } else {
        Vec::new()
    };
    p.text_raw(
        (PLOT_LEFT - 10, (band.0 + band.1) / 2),
        Align::Right,
        "routing",
        SMALL,
        INK,
        false,
    );
    p.text_raw(
        (PLOT_LEFT - 10, (rows_y[0] + rows_y[1]) / 2),
        Align::Right,
        "probes",
        SMALL,
        INK,
        false,
    );
    p.text_raw((PLOT_LEFT - 10, count_y), Align::Right, "failures", TINY, MUTED, false);

    // Routing band: routes until the removal, removed after it; red where it routes after E3.
    let (w0, w1) = lane.window;
    let clamp = |x: i32| x.clamp(PLOT_LEFT, PLOT_RIGHT);
    let (xs, xr, xe, x3) = (
        clamp(p.x(w0)),
        clamp(p.x(lane.removal)),
        clamp(p.x(w1)),
        clamp(p.x(chart.e3)),
    );
    p.rect((xs, band.0), (xr, band.1), ROUTES);
    p.rect((xr, band.0), (xe, band.1), REMOVED);
    let mut band_row = Row::default();
    let mut note_row = Row::default();
    let band_mid = (band.0 + band.1) / 2;
    let det = p.x(lane.detection);
    if lane.violates() {
        let (v0, v1) = (x3, xr.max(x3 + 4));
        p.rect((v0, top + 22), (v1, bottom), VIOLATION.mix(0.16));
        p.rect((v0, band.0), (v1, band.1), VIOLATION);
        let text = if lane.worst == lane.budget {
            "routes new requests right up to E3 (0s margin)".to_string()
        } else {
            format!("routes new requests {} past E3", lane.worst - lane.budget)
        };
        let w = measure(&text, SMALL);
        let inside = v1 - v0 >= w + 12;
        // Inside the red stretch when it fits, else over the green "routes" band left of E3 (never
        // over the grey "removed" band, which says the opposite), else in the note row above.
        let band_cands = [((v0 + v1) / 2, Align::Center), (v0 - 8, Align::Right)];
        let band_cands = if inside { &band_cands[..] } else { &band_cands[1..] };
        if let Some((x, align)) = band_row.place(&text, SMALL, band_cands) {
            if align == Align::Center {
                p.text_raw((x, band_mid), align, &text, SMALL, WHITE, false);
            } else {
                p.text((x, band_mid), align, &text, SMALL, VIOLATION);
            }
        } else if let Some((x, align)) = note_row.place(&text, SMALL, &[(v0 - 8, Align::Right), (v1 + 8, Align::Left)])
        {
            p.text((x, note_y), align, &text, SMALL, VIOLATION);
        }
    } else {
        let text = format!("margin {}", lane.margin());
        p.line((xr, band_mid), (x3, band_mid), INK, 1, false);
        for x in [xr, x3] {
            p.line((x, band_mid - 6), (x, band_mid + 6), INK, 1, false);
        }
        let w = measure(&text, SMALL);
        let cands = [
            ((xr + x3) / 2, Align::Center),
            (x3 + 8, Align::Left),
            (xr - 8, Align::Right),
        ];
        let cands = if x3 - xr >= w + 16 { &cands[..] } else { &cands[1..] };
        if let Some((x, align)) = band_row.place(&text, SMALL, cands) {
            p.text((x, band_mid), align, &text, SMALL, INK);
        }
    }
    for (a, b, text) in [
        (xs, xr.min(x3), "routes new requests"),
        (xr.max(x3), xe, if lane.unchecked { "process back" } else { "removed" }),
    ] {
        let mid = (a + b) / 2;
        if measure(text, SMALL) + 16 <= b - a && band_row.place(text, SMALL, &[(mid, Align::Center)]).is_some() {
            p.text_raw((mid, band_mid), Align::Center, text, SMALL, MUTED, false);
        }
    }

    // Detection: a dashed line through the lane and its label in the note row.
    let (right_of, left_of) = ((det + 6, Align::Left), (det - 6, Align::Right));
    let det_text = format!("marked down {} after E2", lane.detection - chart.e2);
    if lane.unchecked {
        // Never checked, never marked down: the band ends when the process is back.
        p.line((xr, note_y - 8), (xr, band.1), MUTED, 1, true);
        let text = format!(
            "never marked down: routed to until the process is back, {} after E2",
            lane.worst
        );
        if let Some((x, align)) = note_row.place(&text, SMALL, &[left_of, right_of]) {
            p.text((x, note_y), align, &text, SMALL, MUTED);
        }
    } else if lane.removal == lane.detection {
        p.line((det, note_y - 8), (det, rows_y[1] + 9), DETECT, 2, true);
        if let Some((x, align)) = note_row.place(&det_text, SMALL, &[right_of, left_of]) {
            p.text((x, note_y), align, &det_text, SMALL, DETECT);
        }
    } else {
        // With a propagation delay: the detection label left, the removal label right, or both
        // in one label when they do not fit apart.
        p.line((det, note_y - 8), (det, rows_y[1] + 9), DETECT, 2, true);
        p.line((xr, note_y - 8), (xr, band.1), MUTED, 1, true);
        let removal_text = format!("no new requests from {} after E2", lane.worst);
        let mut apart = note_row.clone();
        let d = apart.place(&det_text, SMALL, &[left_of, right_of]);
        let r = apart.place(&removal_text, SMALL, &[(xr + 6, Align::Left), (xr - 6, Align::Right)]);
        if let (Some((dx, da)), Some((rx, ra))) = (d, r) {
            p.text((dx, note_y), da, &det_text, SMALL, DETECT);
            p.text((rx, note_y), ra, &removal_text, SMALL, MUTED);
            // Later labels of the row (the E-marker ids) must see these two.
            note_row = apart;
        } else {
            let both = format!("{det_text}, no new requests from {}", lane.worst);
            if let Some((x, align)) = note_row.place(&both, SMALL, &[left_of, right_of, (xr - 6, Align::Right)]) {
                p.text((x, note_y), align, &both, SMALL, DETECT);
            }
        }
    }

    // Probes: alternate rows so that a probe that ends as the next starts stays readable. Where
    // probes come closer than a glyph (after the exit, a fast check on a long axis) only every
    // few are drawn and a thin line marks the run, with one note saying so.
    let mut last_x: [Option<i32>; 2] = [None, None];
    let mut thinned: [Option<(i32, i32)>; 2] = [None, None];
    for (i, probe) in lane.probes.iter().enumerate() {
        if probe.start >= w1 || probe.end.is_some_and(|e| e < w0) {
            continue;
        }
        let r = i % 2;
        let y = rows_y[r];
        let (color, glyph, _) = outcome_style(probe.outcome);
        let x0 = p.x(probe.start).max(PLOT_LEFT);
        let end_in = probe.end.filter(|&e| e < w1);
        let x1 = end_in.map_or(xe, |e| p.x(e));
        let decisive = probe.counts_toward_down.is_some() || probe.start < chart.e2;
        if !decisive && last_x[r].is_some_and(|l| x1 - l < 10) {
            let run = thinned[r].get_or_insert((x0, x1));
            run.1 = x1;
            continue;
        }
        if x1 - x0 >= 3 || end_in.is_none() {
            p.rect((x0, y - 3), (x1, y + 3), color);
            p.line((x0, y - 7), (x0, y + 7), color, 2, false);
        }
        if end_in.is_some() {
            p.shapes.push(Shape::Glyph {
                at: (x1, y),
                glyph,
                color,
            });
        }
        last_x[r] = Some(x1);
    }
    let mut any_thinned = false;
    for (r, run) in thinned.iter().enumerate() {
        if let Some((a, b)) = *run {
            p.line((a, rows_y[r]), (b, rows_y[r]), MUTED, 1, true);
            any_thinned = true;
        }
    }
    if any_thinned {
        let text = format!("probes every {} or more: not every one drawn", lane.period);
        if let Some((x, align)) = note_row.place(&text, SMALL, &[(xe - 4, Align::Right), (xe + 4, Align::Left)]) {
            p.text((x, note_y), align, &text, SMALL, MUTED);
        }
    }
    // The lane's own E-marker ids, where the note row has room.
    for (x, text) in &marker_ids {
        if let Some((ax, align)) = note_row.place(text, TINY, &[(x + 3, Align::Left), (x - 3, Align::Right)]) {
            p.text((ax, note_y), align, text, TINY, MARKER);
        }
    }
    // Failure counts up to the one that marks the server down, under the probes (the decisive
    // one first, then the others where they touch no other count).
    let mut counts = Row::default();
    for probe in lane.probes.iter().rev() {
        let (Some(n), Some(end)) = (probe.counts_toward_down, probe.end) else {
            continue;
        };
        let x = p.x(end);
        let text = format!("{n}/{}", lane.threshold);
        let cands = if n == lane.threshold {
            vec![(x + 5, Align::Left), (x, Align::Center)]
        } else {
            vec![(x, Align::Center)]
        };
        if let Some((x, align)) = counts.place_tight(&text, TINY, &cands) {
            let (color, _, _) = outcome_style(probe.outcome);
            p.text((x, count_y), align, &text, TINY, color);
        }
    }
}

/// A lane on its own time scale: the E-markers inside its window as thin lines, and its own ticks
/// under the failure counts; returns the markers' ids and x for the note row.
fn lane_scale(p: &mut Painter, chart: &TimelineChart, top: i32, bottom: i32) -> Vec<(i32, String)> {
    let (w0, w1) = (p.start, p.end);
    let mut ids: Vec<(Micros, String)> = Vec::new();
    for m in chart.markers.iter().filter(|m| m.at >= w0 && m.at < w1) {
        match ids.iter_mut().find(|(at, _)| *at == m.at) {
            Some((_, text)) => {
                text.push('/');
                text.push_str(m.id);
            }
            None => ids.push((m.at, m.id.to_string())),
        }
    }
    let mut out = Vec::new();
    for (at, text) in ids {
        let x = p.x(at);
        p.line((x, top + 40), (x, bottom - 22), MARKER, 1, false);
        out.push((x, text));
    }
    let axis = bottom - 20;
    p.line((PLOT_LEFT, axis), (PLOT_RIGHT, axis), MUTED, 1, false);
    let step = tick_step(w1 - w0);
    let mut t = Micros((w0 - chart.origin).0.div_euclid(step.0) * step.0) + chart.origin;
    let mut ticks = Row::default();
    while t < w1 {
        if t >= w0 {
            let x = p.x(t);
            p.line((x, axis), (x, axis + 4), MUTED, 1, false);
            let text = rel(t, chart.origin);
            if ticks.place(&text, TINY, &[(x, Align::Center)]).is_some() {
                p.text_raw((x, axis + 12), Align::Center, &text, TINY, MUTED, false);
            }
        }
        t += step;
    }
    out
}

enum Swatch {
    Fill(RGBColor),
    Probe(Outcome),
    Dashed(RGBColor),
    /// Two short bars on two rows.
    Rows,
}

fn lay_legend(p: &mut Painter, chart: &TimelineChart, top: i32) -> i32 {
    let mut server: Vec<(Swatch, String)> = Vec::new();
    for s in [
        ServerState::PreStop,
        ServerState::Ready,
        ServerState::ReadyzFailing,
        ServerState::Draining,
        ServerState::Exited,
        ServerState::Killed,
    ] {
        if chart.segments.iter().any(|g| g.state == s) {
            let (fill, words, _) = state_style(s);
            server.push((Swatch::Fill(fill), words.to_string()));
        }
    }
    let mut lb = vec![
        (Swatch::Fill(ROUTES), "routes new requests".to_string()),
        (Swatch::Fill(REMOVED), "removed: no new requests".to_string()),
    ];
    if chart.lanes.iter().any(LbLane::violates) {
        lb.push((
            Swatch::Fill(VIOLATION),
            "routes after E3: requests hit a closed port".to_string(),
        ));
    }
    lb.push((Swatch::Dashed(DETECT), "marked down".to_string()));
    let mut probes: Vec<(Swatch, String)> = [Outcome::Pass, Outcome::HttpError, Outcome::Timeout, Outcome::Refused]
        .into_iter()
        .map(|o| (Swatch::Probe(o), outcome_style(o).2.to_string()))
        .collect();
    probes.push((
        Swatch::Rows,
        "consecutive probes alternate between two rows, so one that ends as the next starts stays readable; n/N: failure n of the N that mark it down".to_string(),
    ));
    let mut y = top;
    for (caption, items) in [("server", server), ("load balancer", lb), ("probes", probes)] {
        p.text_raw((PLOT_LEFT - 10, y), Align::Right, caption, SMALL, MUTED, false);
        let mut x = PLOT_LEFT;
        for (swatch, words) in items {
            let w = 26 + measure(&words, SMALL);
            if x + w > PLOT_RIGHT && x > PLOT_LEFT {
                x = PLOT_LEFT;
                y += 22;
            }
            match swatch {
                Swatch::Fill(c) => {
                    p.rect((x, y - 7), (x + 18, y + 7), c);
                    p.shapes.push(Shape::Frame {
                        from: (x, y - 7),
                        to: (x + 18, y + 7),
                        color: RGBColor(160, 160, 160),
                    });
                }
                Swatch::Probe(o) => {
                    let (color, glyph, _) = outcome_style(o);
                    p.rect((x, y - 3), (x + 14, y + 3), color);
                    p.shapes.push(Shape::Glyph {
                        at: (x + 14, y),
                        glyph,
                        color,
                    });
                }
                Swatch::Dashed(c) => p.line((x + 9, y - 9), (x + 9, y + 9), c, 2, true),
                Swatch::Rows => {
                    p.rect((x, y - 7), (x + 10, y - 3), MUTED);
                    p.rect((x + 8, y + 3), (x + 18, y + 7), MUTED);
                }
            }
            p.text_raw((x + 26, y), Align::Left, &words, SMALL, INK, false);
            x += w + 22;
        }
        y += 24;
    }
    y
}

/// Paints a plan on any plotters backend: the one drawing routine behind SVG and PNG.
pub fn paint<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.fill(&WHITE)?;
    for shape in &plan.shapes {
        match shape {
            Shape::Rect { from, to, fill } => area.draw(&Rectangle::new([*from, *to], fill.filled()))?,
            Shape::Frame { from, to, color } => area.draw(&Rectangle::new([*from, *to], color.stroke_width(1)))?,
            Shape::Line {
                from,
                to,
                color,
                width,
                dashed,
            } => {
                let style = color.stroke_width(*width);
                if *dashed {
                    area.draw(&plotters::element::DashedPathElement::new(
                        vec![*from, *to],
                        5,
                        4,
                        style,
                    ))?;
                } else {
                    area.draw(&PathElement::new(vec![*from, *to], style))?;
                }
            }
            Shape::Text {
                at,
                align,
                text,
                size,
                color,
            } => {
                let h = match align {
                    Align::Left => HPos::Left,
                    Align::Center => HPos::Center,
                    Align::Right => HPos::Right,
                };
                let style = font(*size).color(color).pos(Pos::new(h, VPos::Center));
                area.draw(&Text::new(text.as_str(), *at, style))?;
            }
            Shape::Glyph { at, glyph, color } => {
                let (x, y) = *at;
                match glyph {
                    Glyph::Circle => area.draw(&Circle::new((x, y), 5, color.filled()))?,
                    Glyph::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], color.filled()))?,
                    Glyph::Triangle => area.draw(&Polygon::new(
                        vec![(x - 6, y + 5), (x + 6, y + 5), (x, y - 6)],
                        color.filled(),
                    ))?,
                    Glyph::Cross => {
                        let s = color.stroke_width(3);
                        area.draw(&PathElement::new(vec![(x - 5, y - 5), (x + 5, y + 5)], s))?;
                        area.draw(&PathElement::new(vec![(x - 5, y + 5), (x + 5, y - 5)], s))?;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(Micros::from_secs(100)), Micros::from_secs(10));
        assert_eq!(tick_step(Micros::from_secs(130)), Micros::from_secs(15));
        assert_eq!(tick_step(Micros::from_secs(9 * 3600)), Micros::from_secs(3600));
        assert_eq!(tick_step(Micros::from_secs(40 * 86_400)), Micros::from_secs(4 * 86_400));
        assert_eq!(tick_step(Micros::from_millis(900)), Micros::from_millis(100));
        assert_eq!(tick_step(Micros(5)), Micros(1));
    }

    #[test]
    fn marker_labels_never_overlap_nor_cross_a_line() {
        super::super::ensure_font().unwrap();
        let labels: Vec<MarkerLabel> = [200, 230, 260, 600, 1150]
            .iter()
            .map(|&x| MarkerLabel {
                x,
                text: "E3 stops listening (30s)".into(),
                kill: false,
            })
            .collect();
        let placed = place_markers(&labels);
        for (i, &(ri, xi, ai)) in placed.iter().enumerate() {
            let (a, b) = extent(xi, measure(&labels[i].text, SMALL), ai);
            assert!(a >= 4 && b <= WIDTH as i32 - 4, "label {i} off the page");
            for (j, &(rj, xj, aj)) in placed.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (c, d) = extent(xj, measure(&labels[j].text, SMALL), aj);
                assert!(ri != rj || b <= c || d <= a, "labels {i} and {j} overlap");
                if (a..=b).contains(&labels[j].x) {
                    assert!(rj > ri, "the line of {j} crosses label {i}");
                }
            }
        }
        assert_eq!(placed[0].0, 0);
        assert!(placed[1].0 > 0 && placed[2].0 > placed[1].0);
    }
}
