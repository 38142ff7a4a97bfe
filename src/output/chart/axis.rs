//! The time-axis rules every chart follows, as pure functions over times and pixels: one shared
//! axis for the server and every lane; a lane whose own span is more than [`ZOOM_RATIO`] times
//! shorter than that axis keeps its place on it and gets a zoom inset under it (the bracketed
//! stretch magnified, with its own ticks); round tick steps from the time origin.
//!
//! Why an inset rather than a broken axis or a scale per lane: lengths on the shared axis stay
//! comparable between lanes (20 s past E3 is always longer than 2.5 s past E3), and the magnified
//! copy is framed, bracketed to where it comes from and labelled with its factor, so it cannot be
//! read as the same scale. A broken axis would shorten exactly the long lane a reader compares.

use crate::time::Micros;

/// A lane's span shorter than the shared axis by more than this factor gets a zoom inset. At the
/// ratio a lane covers a quarter of the plot (about 260 px): room for its failing probes, their
/// `n/N` counters (about 25 px each) and a "marked down 2.5s after E2" label side by side; below
/// it they crowd into a smear.
pub const ZOOM_RATIO: i64 = 4;

/// The shortest span an inset magnifies: a thousandth of a second.
const MIN_SPAN: Micros = Micros(1_000);

/// A time window mapped onto a pixel range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Time at `left`.
    pub start: Micros,
    /// Time at `right`.
    pub end: Micros,
    /// Pixel of `start`.
    pub left: i32,
    /// Pixel of `end`.
    pub right: i32,
}

impl Scale {
    /// The pixel of `t` (rounded to the nearest; outside the window it extrapolates).
    pub fn x(&self, t: Micros) -> i32 {
        let span = i128::from((self.end - self.start).0.max(1));
        let off = i128::from((t - self.start).0);
        let px = i128::from(self.right - self.left);
        let v = i128::from(self.left) + (off * px + span / 2).div_euclid(span);
        v.clamp(i128::from(i32::MIN / 2), i128::from(i32::MAX / 2)) as i32
    }

    /// The pixel of `t`, held inside the window's pixels.
    pub fn x_in(&self, t: Micros) -> i32 {
        self.x(t).clamp(self.left, self.right)
    }
}

/// Which lanes get a zoom inset: those whose span is more than [`ZOOM_RATIO`] times shorter than
/// the axis. `spans` are `[from, to]` per lane.
pub fn zoomed(axis: (Micros, Micros), spans: &[(Micros, Micros)]) -> Vec<bool> {
    let len = (axis.1 - axis.0).0;
    spans
        .iter()
        .map(|&(a, b)| len > ZOOM_RATIO * (b - a).max(MIN_SPAN).0)
        .collect()
}

/// The window an inset shows for a lane's span: the span padded by a twelfth of its length each
/// side, inside the axis.
pub fn inset_window(span: (Micros, Micros), axis: (Micros, Micros)) -> (Micros, Micros) {
    let len = (span.1 - span.0).max(MIN_SPAN);
    let pad = Micros(len.0 / 12).max(Micros::UNIT);
    ((span.0 - pad).max(axis.0), (span.0 + len + pad).min(axis.1))
}

/// How many times an inset of `window` magnifies the axis, as printed: `×12`, `×4.5`.
pub fn factor_label(axis: (Micros, Micros), window: (Micros, Micros)) -> String {
    let (a, w) = ((axis.1 - axis.0).0 as f64, (window.1 - window.0).0.max(1) as f64);
    let f = a / w;
    if f >= 10.0 {
        format!("×{f:.0}")
    } else {
        format!("×{f:.1}")
    }
}

/// The window that holds every span, padded by a thirtieth of its length each side (at least 1 s
/// long, starting no later than `floor`).
pub fn axis_of(spans: &[(Micros, Micros)], floor: Micros) -> (Micros, Micros) {
    let lo = spans.iter().map(|s| s.0).min().unwrap_or(floor).min(floor);
    let hi = spans
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(lo)
        .max(lo + Micros::from_secs(1));
    let pad = Micros((hi - lo).0 / 30).max(Micros::UNIT);
    (lo - pad, hi + pad)
}

/// A round tick step for about ten ticks: 1, 2 or 5 times a power of ten below a second, then
/// steps a clock reads well (10 s, 15 s, 30 s, 1 min, ..., 1 h, 6 h, 1 day, ...).
pub fn tick_step(span: Micros) -> Micros {
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

/// The ticks of `window`: every multiple of [`tick_step`] counted from `origin` inside it.
pub fn ticks(window: (Micros, Micros), origin: Micros) -> Vec<Micros> {
    let step = tick_step(window.1 - window.0);
    let mut t = Micros((window.0 - origin).0.div_euclid(step.0) * step.0) + origin;
    let mut out = Vec::new();
    while t <= window.1 {
        if t >= window.0 {
            out.push(t);
        }
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: i64, b: i64) -> (Micros, Micros) {
        (Micros::from_secs(a), Micros::from_secs(b))
    }

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
    fn ticks_count_from_the_origin_and_stay_inside() {
        // A preStop of 10 s: SIGTERM at 10 s is tick 0; ticks every 10 s from there.
        let t = ticks(s(-3, 95), Micros::from_secs(10));
        assert_eq!(t.first(), Some(&Micros::ZERO));
        assert_eq!(t.last(), Some(&Micros::from_secs(90)));
        assert!(t.windows(2).all(|w| w[1] - w[0] == Micros::from_secs(10)));
        assert!(t.contains(&Micros::from_secs(10)));
        // The ends are ticks when they fall on one.
        assert_eq!(ticks(s(0, 100), Micros::ZERO).len(), 11);
    }

    #[test]
    fn a_lane_is_zoomed_only_past_the_ratio() {
        // Axis 100 s: a 25 s span is exactly 4x shorter (kept), 24.9 s is past it (zoomed).
        let axis = s(0, 100);
        let spans = [
            s(0, 100),
            s(0, 25),
            (Micros::ZERO, Micros::from_millis(24_900)),
            s(40, 42),
        ];
        assert_eq!(zoomed(axis, &spans), [false, false, true, true]);
        // One lane on its own can be zoomed too (a 2.5 s HAProxy check on a 30 s exit).
        assert_eq!(zoomed(s(-1, 31), &[(Micros::ZERO, Micros::from_millis(2500))]), [true]);
        // A span of zero is magnified as a millisecond, never divided by.
        assert_eq!(zoomed(s(0, 1), &[(Micros::ZERO, Micros::ZERO)]), [true]);
    }

    #[test]
    fn the_multi_lb_lanes_that_get_insets() {
        // tests/fixtures/multi-lb.toml: axis about -9 s .. 4m35s; lanes from their last pass to
        // the later of removal and E3 (30 s).
        let axis = (Micros::from_secs(-9), Micros::from_secs(275));
        let spans = [s(-1, 266), s(-5, 81), s(0, 30), s(0, 50)];
        assert_eq!(zoomed(axis, &spans), [false, false, true, true]);
    }

    #[test]
    fn inset_windows_pad_a_twelfth_inside_the_axis() {
        let axis = s(-1, 31);
        let w = inset_window((Micros::ZERO, Micros::from_millis(2400)), axis);
        assert_eq!(w, (Micros::from_millis(-200), Micros::from_millis(2600)));
        // Clipped by the axis.
        assert_eq!(inset_window(s(-1, 5), axis).0, Micros::from_secs(-1));
        assert_eq!(factor_label(axis, w), "×11");
        assert_eq!(factor_label(s(0, 90), s(0, 20)), "×4.5");
    }

    #[test]
    fn scales_map_ends_to_ends_and_round() {
        let sc = Scale {
            start: Micros::ZERO,
            end: Micros::from_secs(10),
            left: 100,
            right: 1100,
        };
        assert_eq!(sc.x(Micros::ZERO), 100);
        assert_eq!(sc.x(Micros::from_secs(10)), 1100);
        assert_eq!(sc.x(Micros::from_millis(2505)), 351);
        assert_eq!(sc.x(Micros::from_secs(-1)), 0);
        assert_eq!(sc.x_in(Micros::from_secs(-1)), 100);
    }

    #[test]
    fn the_axis_holds_every_span() {
        let a = axis_of(&[s(0, 10), s(0, 190)], Micros::ZERO);
        assert_eq!(a, (Micros(-6_333_333), Micros(196_333_333)));
        assert_eq!(axis_of(&[], Micros::ZERO), (Micros(-33_333), Micros(1_033_333)));
    }
}
