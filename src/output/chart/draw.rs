//! Layout and painting. [`plan`] turns a [`TimelineChart`] into a display list in pixels (placing
//! every label where it overlaps no other, and cutting every vertical line where it would cross a
//! text); [`paint`] draws that list on any plotters backend, so SVG and PNG come from the same
//! routine.

use super::axis::{self, Scale};
use super::model::{ServerState, TimelineChart};
pub use super::raster::Align;
use super::FONT_FAMILY;
use crate::analysis::walk::{ClientSees, LbWalk, Routing, Stretch};
use crate::analysis::Verdict;
use crate::time::Micros;
use crate::timeline::Outcome;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontStyle};

/// Width of every chart in pixels; the height follows from the number of lanes and label rows.
pub const WIDTH: u32 = 1200;

/// Left end of the time axis.
pub(crate) const PLOT_LEFT: i32 = 128;
/// Right end of the time axis.
pub(crate) const PLOT_RIGHT: i32 = WIDTH as i32 - 28;
const GAP: i32 = 8;

pub(crate) const TITLE: f64 = 24.0;
pub(crate) const BODY: f64 = 16.0;
pub(crate) const SMALL: f64 = 14.0;
pub(crate) const TINY: f64 = 13.0;

/// Text colour, shared by every chart.
pub(crate) const INK: RGBColor = RGBColor(33, 33, 33);
/// Secondary text colour, shared by every chart.
pub(crate) const MUTED: RGBColor = RGBColor(90, 90, 90);
/// Grid lines, shared by every chart.
pub(crate) const GRID: RGBColor = RGBColor(232, 232, 232);
/// E-marker lines and their ids.
pub(crate) const MARKER: RGBColor = RGBColor(70, 70, 70);
const KILL: RGBColor = RGBColor(150, 0, 0);
const DETECT: RGBColor = RGBColor(33, 102, 172);
/// New requests reach the closed port and fail.
pub(crate) const VIOLATION: RGBColor = RGBColor(200, 30, 30);
/// New requests reach the closed port and are retried on another server: no failure.
pub(crate) const REDISPATCHED: RGBColor = RGBColor(240, 178, 178);
/// New requests are answered 429 + Retry-After (send-retry-after): the listener is still open.
pub(crate) const RETRY_AFTER: RGBColor = RGBColor(244, 160, 40);
/// New requests are routed and served.
pub(crate) const ROUTES: RGBColor = RGBColor(199, 233, 192);
/// No new requests.
pub(crate) const REMOVED: RGBColor = RGBColor(236, 236, 236);
/// Lane backgrounds.
pub(crate) const LANE_BG: RGBColor = RGBColor(250, 250, 250);
/// Verdict colours.
pub(crate) const PASS_GREEN: RGBColor = RGBColor(0, 128, 60);
/// Verdict colours.
pub(crate) const WARN_AMBER: RGBColor = RGBColor(190, 110, 0);

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
        /// Top-left corner.
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
        /// Font size (plotters units: the SVG font size is `size / 1.24` pixels).
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

/// Background of an unverified stage's hatching (the paths chart's stages, the legend's swatch).
pub(crate) const HATCH_BG: RGBColor = RGBColor(214, 228, 246);
const HATCH: RGBColor = RGBColor(110, 150, 205);

/// Diagonal hatching (lines x + y = k every 8 px) clipped to a rectangle.
pub(crate) fn hatch(c: &mut Canvas, (x0, y0): (i32, i32), (x1, y1): (i32, i32)) {
    let mut k = x0 + y0 + 4;
    while k < x1 + y1 {
        let start = if k - y1 >= x0 { (k - y1, y1) } else { (x0, k - x0) };
        let end = if k - y0 <= x1 { (k - y0, y0) } else { (x1, k - x1) };
        c.line(start, end, HATCH, 2, false);
        k += 8;
    }
}

/// A pixel box `(x0, y0, x1, y1)`.
pub type PxBox = (i32, i32, i32, i32);

/// An `n/N` failure counter and the probe bar it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    /// The probe bar's horizontal extent (start to result) and its row's y.
    pub bar: (i32, i32, i32),
    /// The counter's text box.
    pub text_box: PxBox,
    /// `n/N`.
    pub text: String,
    /// Its colour (the probe outcome's).
    pub color: RGBColor,
}

/// A zoom inset: where it is, what it magnifies, and the bracket it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inset {
    /// The lane (LB or path) it magnifies.
    pub lane: String,
    /// The time window it shows (absolute).
    pub window: (Micros, Micros),
    /// Its frame.
    pub frame: PxBox,
    /// The bracket on the shared axis: x from, x to, y.
    pub bracket: (i32, i32, i32),
    /// The magnification as printed, e.g. `×11`.
    pub factor: String,
}

/// A laid-out chart: its size, what to draw, and what the tests need to check the layout rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// In painting order.
    pub shapes: Vec<Shape>,
    /// Bounding box of every text, with the text.
    pub text_boxes: Vec<(PxBox, String)>,
    /// Every piece of an E-marker line as drawn: `(x, y0, y1)`.
    pub marker_lines: Vec<(i32, i32, i32)>,
    /// Every `n/N` counter with its probe bar.
    pub counters: Vec<Counter>,
    /// The zoom insets.
    pub insets: Vec<Inset>,
    /// Pixel boxes of the stretches where new requests reach the closed port and fail (red).
    pub red_bands: Vec<PxBox>,
}

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
}

/// Width of `text` at `size` in pixels, from the embedded font's advances (a few per cent wider
/// than the text is drawn: boxes err on the safe side).
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

/// `head` whole, then as much of `tail` as fits in `max` pixels (an ellipsis marks the cut): a
/// name never gives way to the words after it; a name longer than `max` itself is cut, so it never
/// runs into what stands beside it.
pub(crate) fn keep_head(head: &str, tail: &str, size: f64, max: i32) -> String {
    let full = format!("{head}{tail}");
    if measure(&full, size) <= max {
        return full;
    }
    let room = max - measure(head, size);
    if room < measure("…", size) {
        return ellipsize(head, size, max);
    }
    format!("{head}{}", ellipsize(tail, size, room))
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
#[derive(Debug, Clone)]
pub(crate) struct Row {
    used: Vec<(i32, i32)>,
    min: i32,
    max: i32,
}

impl Default for Row {
    fn default() -> Self {
        Row {
            used: Vec::new(),
            min: PLOT_LEFT,
            max: WIDTH as i32 - 4,
        }
    }
}

impl Row {
    /// A row whose texts must stay within `[min, max]`.
    pub(crate) fn within(min: i32, max: i32) -> Row {
        Row {
            used: Vec::new(),
            min,
            max,
        }
    }
    /// Marks `[a, b]` as taken.
    pub(crate) fn take(&mut self, a: i32, b: i32) {
        self.used.push((a, b));
    }
    /// Places `text` at the first candidate anchor where it fits; `None` if none does.
    pub(crate) fn place(&mut self, text: &str, size: f64, candidates: &[(i32, Align)]) -> Option<(i32, Align)> {
        self.place_with_gap(text, size, candidates, GAP)
    }
    fn place_with_gap(&mut self, text: &str, size: f64, candidates: &[(i32, Align)], gap: i32) -> Option<(i32, Align)> {
        let w = measure(text, size);
        for &(x, align) in candidates {
            let (a, b) = extent(x, w, align);
            let free = a >= self.min && b <= self.max && self.used.iter().all(|&(u, v)| b + gap <= u || v + gap <= a);
            if free {
                self.take(a, b);
                return Some((x, align));
            }
        }
        None
    }
}

/// A vertical line that gives way to text: cut wherever it would cross a text box.
#[derive(Debug, Clone, Copy)]
struct Rule {
    x: i32,
    y0: i32,
    y1: i32,
    color: RGBColor,
    width: u32,
    dashed: bool,
    marker: bool,
}

/// The shapes and texts of a chart in pixels: texts are painted after every shape, and each text's
/// box is kept for the layout (and the tests that no two texts overlap). Shared by every chart.
#[derive(Default)]
pub(crate) struct Canvas {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) texts: Vec<Shape>,
    pub(crate) boxes: Vec<(PxBox, String)>,
    rules: Vec<Rule>,
    pub(crate) counters: Vec<Counter>,
    pub(crate) insets: Vec<Inset>,
    pub(crate) red_bands: Vec<PxBox>,
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
    /// An unfilled rectangle.
    pub(crate) fn frame(&mut self, from: (i32, i32), to: (i32, i32), color: RGBColor) {
        self.shapes.push(Shape::Frame { from, to, color });
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
    /// A vertical line from `y0` to `y1` at `x`, cut around every text (painted after the shapes
    /// laid so far, before the texts).
    pub(crate) fn vrule(&mut self, x: i32, (y0, y1): (i32, i32), color: RGBColor, width: u32, dashed: bool) {
        self.rules.push(Rule {
            x,
            y0,
            y1,
            color,
            width,
            dashed,
            marker: false,
        });
    }
    /// Like [`Canvas::vrule`] for an E-marker line (recorded in the plan for the tests).
    pub(crate) fn marker_rule(&mut self, x: i32, (y0, y1): (i32, i32), color: RGBColor, width: u32) {
        self.rules.push(Rule {
            x,
            y0,
            y1,
            color,
            width,
            dashed: false,
            marker: true,
        });
    }
    /// A text painted after every shape; `bg` puts it on a white box (over lines and bands).
    pub(crate) fn text_raw(&mut self, at: (i32, i32), align: Align, text: &str, size: f64, color: RGBColor, bg: bool) {
        let bx = Self::text_box(at, align, text, size);
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
    /// The box a text anchored at `at` takes.
    pub(crate) fn text_box(at: (i32, i32), align: Align, text: &str, size: f64) -> PxBox {
        let w = measure(text, size);
        let (a, b) = extent(at.0, w, align);
        let h = (size * 0.9) as i32;
        (a, at.1 - h / 2, b, at.1 + h - h / 2)
    }
    /// The finished plan: shapes, then the lines cut around the texts, then the texts.
    pub(crate) fn finish(self, width: u32, height: u32) -> Plan {
        let Canvas {
            mut shapes,
            mut texts,
            boxes,
            rules,
            counters,
            insets,
            red_bands,
        } = self;
        let mut marker_lines = Vec::new();
        for r in rules {
            let mut cuts: Vec<(i32, i32)> = boxes
                .iter()
                .filter(|(b, _)| b.0 - 2 <= r.x && r.x <= b.2 + 2 && b.1 - 2 < r.y1 && r.y0 < b.3 + 2)
                .map(|(b, _)| (b.1 - 2, b.3 + 2))
                .collect();
            cuts.sort_unstable();
            let mut y = r.y0;
            let mut pieces = Vec::new();
            for (c0, c1) in cuts {
                if c0 > y {
                    pieces.push((y, c0.min(r.y1)));
                }
                y = y.max(c1);
            }
            if y < r.y1 {
                pieces.push((y, r.y1));
            }
            for (a, b) in pieces.into_iter().filter(|(a, b)| b - a >= 2) {
                shapes.push(Shape::Line {
                    from: (r.x, a),
                    to: (r.x, b),
                    color: r.color,
                    width: r.width,
                    dashed: r.dashed,
                });
                if r.marker {
                    marker_lines.push((r.x, a, b));
                }
            }
        }
        shapes.append(&mut texts);
        Plan {
            width,
            height,
            shapes,
            text_boxes: boxes,
            marker_lines,
            counters,
            insets,
            red_bands,
        }
    }
}

/// The colour and word of a verdict, shared by every chart.
pub(crate) fn verdict_style(v: Verdict) -> (&'static str, RGBColor) {
    match v {
        Verdict::Pass => ("PASS", PASS_GREEN),
        Verdict::Warn => ("WARN", WARN_AMBER),
        Verdict::Fail => ("FAIL", VIOLATION),
    }
}

/// A verdict badge at the top left and the title beside it, the title cut (at its head) to fit.
pub(crate) fn title_row(c: &mut Canvas, verdict: Verdict, head: &str, keep: &str) {
    let (word, color) = verdict_style(verdict);
    let badge = measure(word, TITLE) + 20;
    c.rect((16, 8), (16 + badge, 36), color);
    c.text_raw((16 + badge / 2, 22), Align::Center, word, TITLE, WHITE, false);
    let room = WIDTH as i32 - 16 - (16 + badge + 14);
    let title = if measure(&format!("{head}{keep}"), TITLE) <= room {
        format!("{head}{keep}")
    } else {
        format!("{}{keep}", ellipsize(head, TITLE, room - measure(keep, TITLE)))
    };
    c.text_raw((16 + badge + 14, 22), Align::Left, &title, TITLE, INK, false);
}

fn state_style(s: ServerState) -> (RGBColor, &'static str, &'static str, RGBColor) {
    match s {
        ServerState::PreStop => (RGBColor(222, 240, 218), "preStop hook (still ready)", "preStop", INK),
        ServerState::Ready => (
            RGBColor(161, 217, 155),
            "ready: listening, readiness passes",
            "ready",
            INK,
        ),
        ServerState::ReadyzFailing => (
            RGBColor(253, 204, 138),
            "readiness failing, still listening",
            "readiness failing",
            INK,
        ),
        ServerState::RetryAfter => (
            RGBColor(250, 226, 120),
            "429 + Retry-After, still listening (send-retry-after)",
            "429 + Retry-After",
            INK,
        ),
        ServerState::Draining => (
            RGBColor(179, 205, 227),
            "not listening, draining in-flight",
            "not listening",
            INK,
        ),
        ServerState::Exited => (RGBColor(210, 210, 210), "exited", "exited", INK),
        ServerState::Killed => (RGBColor(70, 70, 70), "killed by SIGKILL", "killed", WHITE),
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

/// Fill, text colour on it, and legend words of a routing state.
fn routing_style(r: Routing, unchecked: bool) -> (RGBColor, RGBColor, &'static str) {
    match r {
        Routing::Serves => (ROUTES, MUTED, "routes new requests"),
        Routing::RetryAfter => (
            RETRY_AFTER,
            INK,
            "routed after E3, answered 429 + Retry-After: they fail unless the client retries",
        ),
        Routing::ClosedPort(ClientSees::Fails) => (VIOLATION, WHITE, "routed to the closed port: they fail"),
        Routing::ClosedPort(ClientSees::Redispatched) => (
            REDISPATCHED,
            INK,
            "routed to the closed port: retried on another server (option redispatch), no failure",
        ),
        Routing::Removed if unchecked => (REMOVED, MUTED, "process back: routed to again"),
        Routing::Removed => (REMOVED, MUTED, "removed: no new requests"),
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
        // Nowhere free of lines: a row of its own under every other, on the side that stays in
        // the picture (a line from above is then cut around it, never drawn through it).
        let (row, ax, align, a, b) = chosen.unwrap_or_else(|| {
            let row = out.iter().map(|p| p.0).max().map_or(0, |r| r + 1);
            let (ax, align) = if l.x + 5 + w <= WIDTH as i32 - 4 {
                (l.x + 5, Align::Left)
            } else {
                (l.x - 5, Align::Right)
            };
            let (a, b) = extent(ax, w, align);
            (row, ax, align, a, b)
        });
        out.push((row, ax, align));
        spans.push((a, b));
    }
    out
}

/// A placed `n/N` counter: its row, its x, its probe bar's x-extent, its text and colour.
type PlacedCount = (usize, i32, (i32, i32), String, RGBColor);

/// Rows of `n/N` counters a lane may stack before one is left out.
const COUNT_ROWS: usize = 3;
/// Vertical distance between two rows of counters.
const COUNT_ROW_H: i32 = 14;

/// Where the `n/N` counters of `lane` go on `scale`: each centred on its own probe bar (start to
/// result), in the first of [`COUNT_ROWS`] rows where it touches no other. Counters that find no
/// row are left out, except the one that marks the server down, which always stays (the others
/// give way to it).
fn place_counters(scale: &Scale, lane: &LbWalk) -> Vec<PlacedCount> {
    let counted: Vec<_> = lane
        .probes
        .iter()
        .filter_map(|p| Some((p.counts_toward_down?, p.start, p.end?, p.outcome)))
        .filter(|&(_, s, e, _)| s < scale.end && e >= scale.start)
        .collect();
    let mut rows: Vec<Row> = (0..COUNT_ROWS)
        .map(|_| Row::within(scale.left - 20, WIDTH as i32 - 4))
        .collect();
    let mut out = Vec::new();
    // The decisive counter first, so it always has a place; then the others in time order.
    let mut order: Vec<usize> = (0..counted.len()).collect();
    order.sort_by_key(|&i| (counted[i].0 != lane.threshold, i));
    for i in order {
        let (n, s, e, outcome) = counted[i];
        let (x0, x1) = (scale.x_in(s), scale.x_in(e));
        let mid = (x0 + x1) / 2;
        let text = format!("{n}/{}", lane.threshold);
        for (r, row) in rows.iter_mut().enumerate() {
            if row.place_with_gap(&text, TINY, &[(mid, Align::Center)], 3).is_some() {
                out.push((r, mid, (x0, x1), text, outcome_style(outcome).0));
                break;
            }
        }
    }
    out
}

/// The vertical layout of one strip of a lane (its band, probes and counters on one scale).
#[derive(Debug, Clone, Copy)]
struct Strip {
    note_y: i32,
    band: (i32, i32),
    rows_y: [i32; 2],
    count_y: i32,
    count_rows: i32,
    /// Top and bottom of the lane shading where it routes after E3.
    shade: (i32, i32),
}

impl Strip {
    fn at(top: i32, count_rows: i32) -> Strip {
        let count_y = top + 80;
        Strip {
            note_y: top,
            band: (top + 10, top + 30),
            rows_y: [top + 44, top + 63],
            count_y,
            count_rows,
            shade: (top - 10, count_y + COUNT_ROW_H * (count_rows - 1) + 8),
        }
    }
    fn bottom(&self) -> i32 {
        self.count_y + COUNT_ROW_H * (self.count_rows - 1) + 8
    }
}

/// Where one lane goes.
struct LaneGeom {
    top: i32,
    bottom: i32,
    strip: Strip,
    scale: Scale,
    inset: Option<(Strip, Scale, i32, PxBox)>,
}

/// Lays out `chart` in pixels.
pub fn plan(chart: &TimelineChart) -> Plan {
    let mut p = Canvas::default();
    let axis = Scale {
        start: chart.start,
        end: chart.end,
        left: PLOT_LEFT,
        right: PLOT_RIGHT,
    };

    // Title and subtitle; a chart of one LB names it whole.
    match chart.lanes.as_slice() {
        [one] => title_row(
            &mut p,
            chart.verdict,
            &format!("graceful shutdown, worst case: {}", chart.scenario),
            &format!(" / {}", one.name),
        ),
        _ => title_row(
            &mut p,
            chart.verdict,
            &format!("graceful shutdown, worst case: {}", chart.scenario),
            "",
        ),
    }
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
            x: axis.x(at),
            text,
            kill: group.iter().any(|m| m.kill),
        });
    }
    let placement = place_markers(&labels);
    let rows = placement.iter().map(|p| p.0).max().map_or(1, |r| r + 1) as i32;
    let marker_top = 70;
    let row_h = 20;
    let lanes_top = marker_top + rows * row_h + 6;
    let server_band = (lanes_top, lanes_top + 32);
    let ticks = axis::ticks((chart.start, chart.end), chart.origin);
    // With more than one lane, or an inset, the ticks also sit under the server band.
    let spans = chart.spans();
    let zoomed = axis::zoomed((chart.start, chart.end), &spans);
    let top_ticks = chart.lanes.len() > 1 || zoomed.iter().any(|&z| z);
    let first_lane = server_band.1 + if top_ticks { 30 } else { 14 };

    // Lane geometry: a zoomed lane has its inset under its strip on the shared axis.
    let mut geoms = Vec::with_capacity(chart.lanes.len());
    let mut top = first_lane;
    for (k, lane) in chart.lanes.iter().enumerate() {
        if zoomed[k] {
            let window = axis::inset_window(spans[k], (chart.start, chart.end));
            let scale = Scale {
                start: window.0,
                end: window.1,
                left: PLOT_LEFT,
                right: PLOT_RIGHT,
            };
            let count_rows = place_counters(&scale, lane)
                .iter()
                .map(|c| c.0 as i32 + 1)
                .max()
                .unwrap_or(1);
            let strip = Strip::at(top + 32, 1);
            let bracket_y = strip.rows_y[1] + 12;
            let inset_top = bracket_y + 18;
            let inner = Strip::at(inset_top + 16, count_rows);
            let inset_bottom = inner.bottom() + 26;
            let frame = (PLOT_LEFT - 2, inset_top, PLOT_RIGHT + 2, inset_bottom);
            geoms.push(LaneGeom {
                top,
                bottom: inset_bottom + 8,
                strip: Strip {
                    count_rows: 0,
                    shade: (strip.shade.0, strip.rows_y[1] + 9),
                    ..strip
                },
                scale: axis,
                inset: Some((inner, scale, bracket_y, frame)),
            });
            top = inset_bottom + 16;
        } else {
            let count_rows = place_counters(&axis, lane)
                .iter()
                .map(|c| c.0 as i32 + 1)
                .max()
                .unwrap_or(1);
            let strip = Strip::at(top + 32, count_rows);
            geoms.push(LaneGeom {
                top,
                bottom: strip.bottom(),
                strip,
                scale: axis,
                inset: None,
            });
            top = strip.bottom() + 8;
        }
    }
    let axis_y = top + 2;

    // Lane backgrounds, then the grid over them (never through an inset: other scale).
    for g in &geoms {
        p.rect((4, g.top + 1), (WIDTH as i32 - 4, g.bottom), LANE_BG);
    }
    let keep_out: Vec<(i32, i32)> = geoms
        .iter()
        .flat_map(|g| {
            let header = (g.top + 1, g.top + 22);
            let inset = g.inset.map(|(_, _, by, f)| (by - 4, f.3 + 2));
            std::iter::once(header).chain(inset)
        })
        .collect();
    let open = |y0: i32, y1: i32| -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        let mut y = y0;
        let mut cuts = keep_out.clone();
        cuts.sort_unstable();
        for (a, b) in cuts {
            if b <= y || a >= y1 {
                continue;
            }
            if a > y {
                out.push((y, a));
            }
            y = y.max(b);
        }
        if y < y1 {
            out.push((y, y1));
        }
        out
    };
    for &t in &ticks {
        let x = axis.x(t);
        for (a, b) in open(lanes_top, axis_y) {
            p.line((x, a), (x, b), GRID, 1, false);
        }
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
        let (fill, words, short, ink) = state_style(s.state);
        let (x0, x1) = (axis.x(s.from), axis.x(s.to));
        p.rect((x0, server_band.0), (x1, server_band.1), fill);
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
    if top_ticks {
        tick_labels(&mut p, &axis, &ticks, chart.origin, server_band.1 + 12);
    }

    for (lane, g) in chart.lanes.iter().zip(&geoms) {
        lay_lane(&mut p, chart, lane, g);
    }

    // Marker lines and labels: each line from its label down to the axis, never through a lane
    // header, an inset (another scale) or a text.
    for (l, &(row, ax, align)) in labels.iter().zip(&placement) {
        let y = marker_top + row as i32 * row_h + row_h / 2;
        let color = if l.kill { KILL } else { MARKER };
        for (a, b) in open(y - 8, axis_y) {
            p.marker_rule(l.x, (a, b), color, if l.kill { 2 } else { 1 });
        }
        p.text((ax, y), align, &l.text, SMALL, color);
    }

    // Axis.
    p.line((PLOT_LEFT, axis_y), (PLOT_RIGHT, axis_y), MUTED, 1, false);
    for &t in &ticks {
        let x = axis.x(t);
        p.line((x, axis_y), (x, axis_y + 5), MUTED, 1, false);
    }
    tick_labels(&mut p, &axis, &ticks, chart.origin, axis_y + 16);
    let caption = if zoomed.iter().any(|&z| z) {
        "time since SIGTERM (E1), one scale for the server and every lane; a framed inset magnifies the bracketed stretch above it"
    } else {
        "time since SIGTERM (E1), one scale for the server and every lane"
    };
    let caption = ellipsize(caption, SMALL, WIDTH as i32 - 32);
    p.text_raw(
        ((PLOT_LEFT + PLOT_RIGHT) / 2, axis_y + 38),
        Align::Center,
        &caption,
        SMALL,
        MUTED,
        false,
    );

    let bottom = lay_legend(&mut p, chart, axis_y + 66, !geoms.iter().all(|g| g.inset.is_none()));
    p.finish(WIDTH, (bottom + 14) as u32)
}

impl Canvas {
    /// A text on a white box, painted after every other shape.
    pub(crate) fn text(&mut self, at: (i32, i32), align: Align, text: &str, size: f64, color: RGBColor) {
        self.text_raw(at, align, text, size, color, true);
    }
}

/// Tick labels of `ticks` on `scale` at `y`, skipping those that would touch a neighbour.
pub(crate) fn tick_labels(p: &mut Canvas, scale: &Scale, ticks: &[Micros], origin: Micros, y: i32) {
    let mut row = Row::within(scale.left - 40, WIDTH as i32 - 4);
    for &t in ticks {
        let x = scale.x(t);
        let text = rel(t, origin);
        if row.place(&text, TINY, &[(x, Align::Center)]).is_some() {
            p.text_raw((x, y), Align::Center, &text, TINY, MUTED, false);
        }
    }
}

fn lay_lane(p: &mut Canvas, chart: &TimelineChart, lane: &LbWalk, g: &LaneGeom) {
    let header_y = g.top + 12;
    // Header: name and settings on the left, verdict on the right.
    let (word, vcolor) = verdict_style(lane.verdict);
    let rules = if lane.rules.is_empty() {
        String::new()
    } else {
        format!(" ({})", lane.rules.join(", "))
    };
    let right = if lane.violates() {
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
    // The verdict's numbers (worst case, budget) always stay, and so does the LB's name; the
    // settings give way, abbreviated with an ellipsis rather than dropped silently.
    let room = WIDTH as i32 - 16 - 16 - 24 - measure(&right, BODY);
    let left = keep_head(
        &lane.name,
        &format!(" ({}): {}", lane.profile, lane.schedule),
        BODY,
        room,
    );
    p.text_raw((16, header_y), Align::Left, &left, BODY, INK, false);
    p.text_raw((WIDTH as i32 - 16, header_y), Align::Right, &right, BODY, vcolor, false);

    let full = g.inset.is_none();
    lay_strip(p, chart, lane, &g.strip, &g.scale, full, None);
    if let Some((inner, scale, bracket_y, frame)) = g.inset {
        // The bracket on the shared axis, the connectors to the frame, and the frame.
        let (b0, b1) = (g.scale.x_in(scale.start), g.scale.x_in(scale.end));
        p.line((b0, bracket_y - 6), (b0, bracket_y), MUTED, 1, false);
        p.line((b1, bracket_y - 6), (b1, bracket_y), MUTED, 1, false);
        p.line((b0, bracket_y), (b1, bracket_y), MUTED, 1, false);
        p.line((b0, bracket_y), (frame.0, frame.1), MUTED, 1, false);
        p.line((b1, bracket_y), (frame.2, frame.1), MUTED, 1, false);
        p.rect((frame.0, frame.1), (frame.2, frame.3), WHITE);
        p.frame((frame.0, frame.1), (frame.2, frame.3), MUTED);
        let factor = axis::factor_label((chart.start, chart.end), (scale.start, scale.end));
        p.text_raw(
            (PLOT_LEFT - 10, inner.note_y),
            Align::Right,
            &format!("zoom {factor}"),
            SMALL,
            INK,
            false,
        );
        p.insets.push(Inset {
            lane: lane.name.clone(),
            window: (scale.start, scale.end),
            frame,
            bracket: (b0, b1, bracket_y),
            factor,
        });
        let axis_y = frame.3 - 20;
        lay_strip(p, chart, lane, &inner, &scale, true, Some(axis_y));
    }
}

/// One strip of a lane on `scale`: routing band, probes, and with `full` the labels, the
/// detection note and the `n/N` counters; with `own_axis` (an inset) its own E-marker lines, ids
/// and ticks.
fn lay_strip(
    p: &mut Canvas,
    chart: &TimelineChart,
    lane: &LbWalk,
    s: &Strip,
    scale: &Scale,
    full: bool,
    own_axis: Option<i32>,
) {
    let (w0, w1) = (scale.start, scale.end);
    let labels = [
        ((s.band.0 + s.band.1) / 2, "routing", SMALL, INK),
        ((s.rows_y[0] + s.rows_y[1]) / 2, "probes", SMALL, INK),
    ];
    for (y, text, size, color) in labels {
        p.text_raw((PLOT_LEFT - 10, y), Align::Right, text, size, color, false);
    }
    if full && s.count_rows > 0 && lane.probes.iter().any(|p| p.counts_toward_down.is_some()) {
        p.text_raw(
            (PLOT_LEFT - 10, s.count_y),
            Align::Right,
            "failures",
            TINY,
            MUTED,
            false,
        );
    }
    let mut note_row = Row::within(scale.left, WIDTH as i32 - 4);
    let mut band_row = Row::within(scale.left, scale.right);
    let band_mid = (s.band.0 + s.band.1) / 2;

    // Own E-marker lines (an inset): ids in the note row, lines down to its axis.
    let mut own_ids: Vec<(i32, String)> = Vec::new();
    if let Some(axis_y) = own_axis {
        for m in chart.markers.iter().filter(|m| m.at >= w0 && m.at <= w1) {
            let x = scale.x(m.at);
            match own_ids.iter_mut().find(|(ox, _)| *ox == x) {
                Some((_, text)) => {
                    text.push('/');
                    text.push_str(m.id);
                }
                None => own_ids.push((x, m.id.to_string())),
            }
        }
        p.line((scale.left, axis_y), (scale.right, axis_y), MUTED, 1, false);
        let ticks = axis::ticks((w0, w1), chart.origin);
        for &t in &ticks {
            let x = scale.x(t);
            p.line((x, axis_y), (x, axis_y + 4), MUTED, 1, false);
        }
        tick_labels(p, scale, &ticks, chart.origin, axis_y + 12);
    }

    // Routing band, stretch by stretch; the lane shaded where it routes after E3.
    let x3 = scale.x_in(chart.e3);
    for st in &lane.routing {
        if st.to <= w0 || st.from >= w1 {
            continue;
        }
        let (fill, _, _) = routing_style(st.routing, lane.unchecked);
        let (a, b) = (scale.x_in(st.from), scale.x_in(st.to));
        let shade = match st.routing {
            Routing::RetryAfter => Some(RETRY_AFTER.mix(0.16)),
            Routing::ClosedPort(ClientSees::Fails) => Some(VIOLATION.mix(0.16)),
            Routing::ClosedPort(ClientSees::Redispatched) => Some(REDISPATCHED.mix(0.25)),
            _ => None,
        };
        if let Some(shade) = shade {
            p.rect((a, s.shade.0), (b, s.shade.1), shade);
        }
        p.rect((a, s.band.0), (b, s.band.1), fill);
        if st.routing == Routing::ClosedPort(ClientSees::Fails) && b > a {
            p.red_bands.push((a, s.band.0, b, s.band.1));
        }
    }
    // Right up to E3: a sliver at E3 says so.
    let sliver = lane.violates() && lane.removal == chart.e3 && (w0..=w1).contains(&chart.e3);
    if sliver {
        p.rect((x3, s.band.0), (x3 + 4, s.band.1), VIOLATION);
        p.red_bands.push((x3, s.band.0, x3 + 4, s.band.1));
    }
    // Labels of the stretches after E3 first (they carry the verdict), then the others.
    let mut after: Vec<&Stretch> = lane
        .routing
        .iter()
        .filter(|st| matches!(st.routing, Routing::RetryAfter | Routing::ClosedPort(_)))
        .collect();
    after.sort_by_key(|st| st.from);
    for st in after {
        let (a, b) = (scale.x_in(st.from), scale.x_in(st.to));
        let (fill, ink, _) = routing_style(st.routing, lane.unchecked);
        let words = stretch_words(chart, lane, st);
        let mid = (a + b) / 2;
        let inside = words
            .iter()
            .find(|w| measure(w, SMALL) + 12 <= b - a && band_row.place(w, SMALL, &[(mid, Align::Center)]).is_some());
        if let Some(w) = inside {
            p.text_raw((mid, band_mid), Align::Center, w, SMALL, ink, false);
            continue;
        }
        if !full {
            continue;
        }
        // Else over the green "routes" band left of it (never over the grey "removed" band, which
        // says the opposite), else in the note row above.
        let color = if fill == REDISPATCHED { INK } else { darker(fill) };
        let spilled = words
            .iter()
            .find_map(|w| band_row.place(w, SMALL, &[(a - 8, Align::Right)]).map(|x| (w, x)));
        if let Some((w, (x, align))) = spilled {
            p.text((x, band_mid), align, w, SMALL, color);
        } else if let Some((w, (x, align))) = words.iter().find_map(|w| {
            note_row
                .place(w, SMALL, &[(a - 8, Align::Right), (b + 8, Align::Left)])
                .map(|x| (w, x))
        }) {
            p.text((x, s.note_y), align, w, SMALL, color);
        }
    }
    if sliver && full {
        let text = "routes new requests right up to E3 (0s margin)";
        if let Some((x, align)) = band_row.place(text, SMALL, &[(x3 - 8, Align::Right)]) {
            p.text((x, band_mid), align, text, SMALL, VIOLATION);
        } else if let Some((x, align)) = note_row.place(text, SMALL, &[(x3 - 8, Align::Right), (x3 + 12, Align::Left)])
        {
            p.text((x, s.note_y), align, text, SMALL, VIOLATION);
        }
    }
    let xr = scale.x_in(lane.removal);
    if !lane.violates() {
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
        if full {
            if let Some((x, align)) = band_row.place(&text, SMALL, cands) {
                p.text((x, band_mid), align, &text, SMALL, INK);
            }
        }
    }
    for st in &lane.routing {
        if !matches!(st.routing, Routing::Serves | Routing::Removed) {
            continue;
        }
        let (mut a, b) = (scale.x_in(st.from), scale.x_in(st.to));
        if st.routing == Routing::Removed && !lane.violates() {
            // The margin's line and label run from the removal to E3: the word goes after E3.
            a = a.max(x3);
        }
        let text = match st.routing {
            Routing::Serves => "routes new requests",
            _ if lane.unchecked => "process back",
            _ => "removed",
        };
        let mid = (a + b) / 2;
        if measure(text, SMALL) + 16 <= b - a && band_row.place(text, SMALL, &[(mid, Align::Center)]).is_some() {
            p.text_raw((mid, band_mid), Align::Center, text, SMALL, MUTED, false);
        }
    }

    // Detection: a dashed line through the lane, and with `full` its label in the note row.
    let det = scale.x(lane.detection);
    let det_in = (w0..=w1).contains(&lane.detection);
    let rem_in = (w0..=w1).contains(&lane.removal);
    let line_span = (s.note_y - 8, s.rows_y[1] + 9);
    let (right_of, left_of) = ((det + 6, Align::Left), (det - 6, Align::Right));
    let det_text = format!("marked down {} after E2", lane.detection - chart.e2);
    if lane.unchecked {
        // Never checked, never marked down: the band ends when the process is back.
        if rem_in {
            p.vrule(xr, (s.note_y - 8, s.band.1), MUTED, 1, true);
        }
        let text = format!(
            "never marked down: routed to until the process is back, {} after E2",
            lane.worst
        );
        if full {
            if let Some((x, align)) = note_row.place(&text, SMALL, &[(xr - 6, Align::Right), (xr + 6, Align::Left)]) {
                p.text((x, s.note_y), align, &text, SMALL, MUTED);
            }
        }
    } else if lane.removal == lane.detection {
        if det_in {
            p.vrule(det, line_span, DETECT, 2, true);
        }
        if full {
            if let Some((x, align)) = note_row.place(&det_text, SMALL, &[right_of, left_of]) {
                p.text((x, s.note_y), align, &det_text, SMALL, DETECT);
            }
        }
    } else {
        // With a propagation delay: the detection label left, the removal label right, or both
        // in one label when they do not fit apart.
        if det_in {
            p.vrule(det, line_span, DETECT, 2, true);
        }
        if rem_in {
            p.vrule(xr, (s.note_y - 8, s.band.1), MUTED, 1, true);
        }
        if full {
            let removal_text = format!("no new requests from {} after E2", lane.worst);
            let mut apart = note_row.clone();
            let d = apart.place(&det_text, SMALL, &[left_of, right_of]);
            let r = apart.place(&removal_text, SMALL, &[(xr + 6, Align::Left), (xr - 6, Align::Right)]);
            if let (Some((dx, da)), Some((rx, ra))) = (d, r) {
                p.text((dx, s.note_y), da, &det_text, SMALL, DETECT);
                p.text((rx, s.note_y), ra, &removal_text, SMALL, MUTED);
                note_row = apart;
            } else {
                let both = format!("{det_text}, no new requests from {}", lane.worst);
                if let Some((x, align)) = note_row.place(&both, SMALL, &[left_of, right_of, (xr - 6, Align::Right)]) {
                    p.text((x, s.note_y), align, &both, SMALL, DETECT);
                }
            }
        }
    }

    lay_probes(p, lane, s, scale, chart.e2, full, &mut note_row);

    // The inset's own E-marker lines, with their ids in the note row where it has room.
    if let Some(axis_y) = own_axis {
        for (x, text) in &own_ids {
            if let Some((ax, align)) = note_row.place(text, TINY, &[(x + 3, Align::Left), (x - 3, Align::Right)]) {
                p.text((ax, s.note_y), align, text, TINY, MARKER);
            }
            p.marker_rule(*x, (s.note_y - 8, axis_y), MARKER, 1);
        }
    }

    // Failure counts, each under its own probe bar.
    if full {
        for (row, x, (x0, x1), text, color) in place_counters(scale, lane) {
            let y = s.count_y + COUNT_ROW_H * row as i32;
            let bar_y = s.rows_y[lane_row_of(lane, x0, x1, scale)];
            p.text((x, y), Align::Center, &text, TINY, color);
            let text_box = Canvas::text_box((x, y), Align::Center, &text, TINY);
            p.counters.push(Counter {
                bar: (x0, x1, bar_y),
                text_box,
                text,
                color,
            });
        }
    }
}

/// The probe row (0 or 1) of the counted probe drawn from `x0` to `x1`.
fn lane_row_of(lane: &LbWalk, x0: i32, x1: i32, scale: &Scale) -> usize {
    lane.probes
        .iter()
        .position(|p| {
            p.counts_toward_down.is_some() && scale.x_in(p.start) == x0 && p.end.is_some_and(|e| scale.x_in(e) == x1)
        })
        .map_or(0, |i| i % 2)
}

/// A darker shade of a fill, for text in that colour on a light background.
fn darker(c: RGBColor) -> RGBColor {
    if c == RETRY_AFTER {
        WARN_AMBER
    } else {
        c
    }
}

/// The words of a stretch after E3, longest first: how long, and what the client sees.
fn stretch_words(chart: &TimelineChart, lane: &LbWalk, st: &Stretch) -> Vec<String> {
    let d = st.to.min(lane.removal) - st.from;
    let past = st.from == chart.e3;
    match st.routing {
        Routing::RetryAfter => vec![
            format!("routes new requests {d} past E3: answered 429 + Retry-After, they fail unless the client retries"),
            format!("{d} past E3: answered 429 + Retry-After"),
            format!("{d} past E3: 429 + Retry-After"),
            "429 + Retry-After".to_string(),
            "429".to_string(),
        ],
        Routing::ClosedPort(ClientSees::Fails) if past => {
            let mut words = vec![
                format!("routes new requests {d} past E3: they fail"),
                format!("{d} past E3: they fail"),
                format!("{d} past E3"),
            ];
            if lane.client_delay > Micros::ZERO {
                // HAProxy retries the closed port before it gives up (analysis::client).
                words.insert(
                    0,
                    format!(
                        "routes new requests {d} past E3: they fail after about {} of retries",
                        lane.client_delay
                    ),
                );
            }
            words
        }
        Routing::ClosedPort(ClientSees::Fails) => vec![
            format!("routes new requests to the closed port for {d}: they fail"),
            format!("closed port {d}: they fail"),
            format!("closed port {d}"),
        ],
        Routing::ClosedPort(ClientSees::Redispatched) => {
            let delay = if lane.client_delay > Micros::ZERO {
                format!(" (up to {} later)", lane.client_delay)
            } else {
                String::new()
            };
            let lead = if past {
                format!("routes new requests {d} past E3")
            } else {
                format!("closed port {d}")
            };
            vec![
                format!("{lead}: retried on another server{delay}, no failure"),
                format!("{lead}: retried on another server, no failure"),
                format!("{d}: retried elsewhere, no failure"),
                "no failure".to_string(),
            ]
        }
        _ => Vec::new(),
    }
}

/// The probes of `lane` inside `scale`, alternating between two rows so that a probe that ends as
/// the next starts stays readable. Where probes come closer than a glyph (after the exit, a fast
/// check on a long axis) only every few are drawn and a thin line marks the run, with one note.
fn lay_probes(p: &mut Canvas, lane: &LbWalk, s: &Strip, scale: &Scale, e2: Micros, full: bool, note_row: &mut Row) {
    let (w0, w1) = (scale.start, scale.end);
    let xe = scale.right;
    let mut last_x: [Option<i32>; 2] = [None, None];
    let mut thinned: [Option<(i32, i32)>; 2] = [None, None];
    for (i, probe) in lane.probes.iter().enumerate() {
        if probe.start >= w1 || probe.end.is_some_and(|e| e < w0) || (probe.end.is_none() && probe.start < w0) {
            continue;
        }
        let r = i % 2;
        let y = s.rows_y[r];
        let (color, glyph, _) = outcome_style(probe.outcome);
        let x0 = scale.x_in(probe.start);
        let end_in = probe.end.filter(|&e| e < w1);
        let x1 = end_in.map_or(xe, |e| scale.x(e));
        let decisive = probe.counts_toward_down.is_some() || probe.start < e2;
        if !decisive && last_x[r].is_some_and(|l| x1 - l < 10) {
            let run = thinned[r].get_or_insert((x0, x1));
            run.1 = x1;
            continue;
        }
        if x1 - x0 >= 3 || end_in.is_none() {
            p.rect((x0, y - 3), (x1, y + 3), color);
            if probe.start >= w0 {
                p.line((x0, y - 7), (x0, y + 7), color, 2, false);
            }
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
            p.line((a, s.rows_y[r]), (b, s.rows_y[r]), MUTED, 1, true);
            any_thinned = true;
        }
    }
    if any_thinned && full {
        let text = format!("probes every {} or more: not every one drawn", lane.period);
        if let Some((x, align)) = note_row.place(&text, SMALL, &[(xe - 4, Align::Right), (xe + 4, Align::Left)]) {
            p.text((x, s.note_y), align, &text, SMALL, MUTED);
        }
    }
}

/// A legend swatch.
pub(crate) enum Swatch {
    /// A filled box.
    Fill(RGBColor),
    /// A probe bar and its end glyph.
    Probe(Outcome),
    /// A dashed vertical line.
    Dashed(RGBColor),
    /// A solid vertical line.
    Solid(RGBColor, u32),
    /// Hatching (unverified figure).
    Hatched,
    /// Two short bars on two rows.
    Rows,
    /// A bracket with its connectors (a zoom inset).
    Bracket,
}

/// Lays out legend rows from `top`: a caption on the left, then swatches with their words,
/// wrapping; returns the y under the last row.
pub(crate) fn legend_rows(p: &mut Canvas, top: i32, rows: Vec<(&str, Vec<(Swatch, String)>)>) -> i32 {
    let mut y = top;
    for (caption, items) in rows {
        p.text_raw((PLOT_LEFT - 10, y), Align::Right, caption, SMALL, MUTED, false);
        let mut x = PLOT_LEFT;
        for (swatch, words) in items {
            let w = 26 + measure(&words, SMALL);
            if x + w > PLOT_RIGHT && x > PLOT_LEFT {
                x = PLOT_LEFT;
                y += 22;
            }
            let words = ellipsize(&words, SMALL, PLOT_RIGHT - x - 26);
            match swatch {
                Swatch::Fill(c) => {
                    p.rect((x, y - 7), (x + 18, y + 7), c);
                    p.frame((x, y - 7), (x + 18, y + 7), RGBColor(160, 160, 160));
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
                Swatch::Solid(c, w) => p.line((x + 9, y - 9), (x + 9, y + 9), c, w, false),
                Swatch::Hatched => {
                    p.rect((x, y - 7), (x + 18, y + 7), HATCH_BG);
                    hatch(p, (x, y - 7), (x + 18, y + 7));
                }
                Swatch::Rows => {
                    p.rect((x, y - 7), (x + 10, y - 3), MUTED);
                    p.rect((x + 8, y + 3), (x + 18, y + 7), MUTED);
                }
                Swatch::Bracket => {
                    p.line((x + 4, y - 8), (x + 4, y - 4), MUTED, 1, false);
                    p.line((x + 14, y - 8), (x + 14, y - 4), MUTED, 1, false);
                    p.line((x + 4, y - 4), (x + 14, y - 4), MUTED, 1, false);
                    p.line((x + 4, y - 4), (x, y + 2), MUTED, 1, false);
                    p.line((x + 14, y - 4), (x + 18, y + 2), MUTED, 1, false);
                    p.frame((x, y + 2), (x + 18, y + 8), MUTED);
                }
            }
            p.text_raw((x + 26, y), Align::Left, &words, SMALL, INK, false);
            x += w + 22;
        }
        y += 24;
    }
    y
}

fn lay_legend(p: &mut Canvas, chart: &TimelineChart, top: i32, insets: bool) -> i32 {
    let mut server: Vec<(Swatch, String)> = Vec::new();
    for s in [
        ServerState::PreStop,
        ServerState::Ready,
        ServerState::ReadyzFailing,
        ServerState::RetryAfter,
        ServerState::Draining,
        ServerState::Exited,
        ServerState::Killed,
    ] {
        if chart.segments.iter().any(|g| g.state == s) {
            let (fill, words, _, _) = state_style(s);
            server.push((Swatch::Fill(fill), words.to_string()));
        }
    }
    let mut lb: Vec<(Swatch, String)> = Vec::new();
    let unchecked = chart.lanes.iter().all(|l| l.unchecked);
    for r in [
        Routing::Serves,
        Routing::RetryAfter,
        Routing::ClosedPort(ClientSees::Fails),
        Routing::ClosedPort(ClientSees::Redispatched),
        Routing::Removed,
    ] {
        let present = chart.lanes.iter().any(|l| l.routing.iter().any(|s| s.routing == r))
            || (r == Routing::ClosedPort(ClientSees::Fails)
                && chart.lanes.iter().any(|l| l.violates() && l.removal == chart.e3));
        if present {
            let (fill, _, words) = routing_style(r, unchecked);
            lb.push((Swatch::Fill(fill), words.to_string()));
        }
    }
    lb.push((Swatch::Dashed(DETECT), "marked down".to_string()));
    if insets {
        lb.push((
            Swatch::Bracket,
            "zoom: the bracketed stretch magnified in the frame below it, with its own ticks".to_string(),
        ));
    }
    let mut probes: Vec<(Swatch, String)> = [Outcome::Pass, Outcome::HttpError, Outcome::Timeout, Outcome::Refused]
        .into_iter()
        .map(|o| (Swatch::Probe(o), outcome_style(o).2.to_string()))
        .collect();
    probes.push((
        Swatch::Rows,
        "consecutive probes alternate between two rows, so one that ends as the next starts stays readable; n/N under a probe: failure n of the N that mark it down".to_string(),
    ));
    legend_rows(
        p,
        top,
        vec![("server", server), ("load balancer", lb), ("probes", probes)],
    )
}

/// How [`paint`] draws: the pixel scale (HiDPI) and whether texts are rasterised here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaintOptions {
    /// Every coordinate, stroke and font size is multiplied by this.
    pub scale: u32,
    /// Rasterise texts with the embedded font (a bitmap) instead of handing them to the backend
    /// (an SVG keeps text as text).
    pub raster_text: bool,
}

/// Paints a plan on any plotters backend: the one drawing routine behind SVG and PNG.
pub fn paint<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plan: &Plan,
    opts: PaintOptions,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let k = opts.scale.max(1) as i32;
    let pt = |(x, y): (i32, i32)| (x * k, y * k);
    area.fill(&WHITE)?;
    for shape in &plan.shapes {
        match shape {
            Shape::Rect { from, to, fill } => area.draw(&Rectangle::new([pt(*from), pt(*to)], fill.filled()))?,
            Shape::Frame { from, to, color } => {
                area.draw(&Rectangle::new([pt(*from), pt(*to)], color.stroke_width(k as u32)))?
            }
            Shape::Line {
                from,
                to,
                color,
                width,
                dashed,
            } => {
                let style = color.stroke_width(*width * k as u32);
                if *dashed {
                    area.draw(&plotters::element::DashedPathElement::new(
                        vec![pt(*from), pt(*to)],
                        5 * k as u32,
                        4 * k as u32,
                        style,
                    ))?;
                } else {
                    area.draw(&PathElement::new(vec![pt(*from), pt(*to)], style))?;
                }
            }
            Shape::Text {
                at,
                align,
                text,
                size,
                color,
            } => {
                if opts.raster_text {
                    super::raster::draw_text(area, text, pt(*at), *align, *size * f64::from(k), *color)?;
                } else {
                    let h = match align {
                        Align::Left => HPos::Left,
                        Align::Center => HPos::Center,
                        Align::Right => HPos::Right,
                    };
                    let style = font(*size * f64::from(k)).color(color).pos(Pos::new(h, VPos::Center));
                    area.draw(&Text::new(text.as_str(), pt(*at), style))?;
                }
            }
            Shape::Glyph { at, glyph, color } => {
                let (x, y) = pt(*at);
                match glyph {
                    Glyph::Circle => area.draw(&Circle::new((x, y), 5 * k, color.filled()))?,
                    Glyph::Square => area.draw(&Rectangle::new(
                        [(x - 4 * k, y - 4 * k), (x + 4 * k, y + 4 * k)],
                        color.filled(),
                    ))?,
                    Glyph::Triangle => area.draw(&Polygon::new(
                        vec![(x - 6 * k, y + 5 * k), (x + 6 * k, y + 5 * k), (x, y - 6 * k)],
                        color.filled(),
                    ))?,
                    Glyph::Cross => {
                        let s = color.stroke_width(3 * k as u32);
                        area.draw(&PathElement::new(
                            vec![(x - 5 * k, y - 5 * k), (x + 5 * k, y + 5 * k)],
                            s,
                        ))?;
                        area.draw(&PathElement::new(
                            vec![(x - 5 * k, y + 5 * k), (x + 5 * k, y - 5 * k)],
                            s,
                        ))?;
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

    #[test]
    fn lines_give_way_to_text() {
        super::super::ensure_font().unwrap();
        let mut c = Canvas::default();
        c.text_raw((100, 50), Align::Left, "a label", SMALL, INK, false);
        c.marker_rule(110, (0, 100), MARKER, 1);
        c.marker_rule(20, (0, 100), MARKER, 1);
        let plan = c.finish(200, 100);
        let (b, _) = plan.text_boxes[0];
        assert_eq!(plan.marker_lines.len(), 3, "{:?}", plan.marker_lines);
        assert!(plan.marker_lines.contains(&(20, 0, 100)));
        for &(x, y0, y1) in &plan.marker_lines {
            assert!(
                !(b.0 <= x && x <= b.2 && y0 < b.3 && b.1 < y1),
                "{x} {y0}..{y1} crosses {b:?}"
            );
        }
    }

    #[test]
    fn heads_are_kept_whole() {
        super::super::ensure_font().unwrap();
        let s = keep_head("api-int", " (aws-nlb): a probe every 10s, timeout 10s", BODY, 120);
        assert!(s.starts_with("api-int") && s.ends_with('…'), "{s}");
        // A head wider than the room is cut itself rather than run into its neighbour.
        let cut = keep_head("a-very-long-name-of-a-path", " (x)", BODY, 100);
        assert!(cut.starts_with("a-very") && cut.ends_with('…'), "{cut}");
        assert!(measure(&cut, BODY) <= 100, "{cut}");
    }
}
