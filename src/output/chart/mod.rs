//! Timeline charts: one picture of a shutdown for a design review, as SVG or PNG.
//!
//! The analysis computes what a chart shows ([`crate::analysis::walk`]: the worst-case run of every
//! LB replayed in the simulator, its verdict and routing state); here [`model`] turns those values
//! into the server's phases and markers, [`axis`] holds the time-axis rules, [`draw`] lays the
//! chart out and paints it with plotters on either backend. No analysis is called here. Text uses
//! the embedded DejaVu Sans (assets/fonts/, Bitstream Vera licence): plotters' `ab_glyph` feature
//! measures it and the SVG names it; bitmaps rasterise it with `ab_glyph` directly (see `raster`).

pub mod axis;
pub mod draw;
pub mod model;
mod raster;

use crate::analysis::walk::{LbWalk, ServerWalk};
use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

/// The family name the embedded font is registered under (also the SVG `font-family`).
pub const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        bail!("the embedded font could not be loaded")
    }
}

/// Image formats a timeline can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics (text stays text).
    Svg,
    /// A bitmap.
    Png,
}

impl ImageFormat {
    /// The format a file name asks for, by its extension (`.svg` or `.png`, any case).
    pub fn from_path(path: &Path) -> Result<ImageFormat> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            Some(other) => bail!(
                "{}: unknown image format \".{other}\"; the file name must end in .svg or .png",
                path.display()
            ),
            None => bail!(
                "{}: no image format; the file name must end in .svg or .png",
                path.display()
            ),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            ImageFormat::Svg => ".svg",
            ImageFormat::Png => ".png",
        }
    }
}

/// The largest `--scale` of a PNG: 4 draws a 1200-pixel-wide chart 4800 pixels wide.
pub const MAX_SCALE: u32 = 4;

/// The most pixels a PNG may have (about 120 MB of memory while it is drawn).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Lays out the timeline of `lanes` (precomputed by [`crate::analysis::walk::walk`]) against the
/// server walk they were computed with.
pub fn plan(server: &ServerWalk, lanes: &[LbWalk]) -> Result<draw::Plan> {
    ensure_font()?;
    if lanes.is_empty() {
        bail!("{}: no load balancer to draw", server.file);
    }
    Ok(draw::plan(&model::build(server, lanes)))
}

/// The timeline of `lanes` against `server` as an SVG document.
pub fn svg(server: &ServerWalk, lanes: &[LbWalk]) -> Result<String> {
    svg_of(&plan(server, lanes)?)
}

/// Draws the timeline of `lanes` against `server` and writes it to `path` in `format`; `scale`
/// multiplies a PNG's pixels (1 to [`MAX_SCALE`]; an SVG takes 1 only).
///
/// The file appears whole or not at all: the image goes to a temporary file in the same
/// directory, which is then renamed over `path`.
pub fn write(server: &ServerWalk, lanes: &[LbWalk], format: ImageFormat, scale: u32, path: &Path) -> Result<()> {
    check_scale(format, scale, path)?;
    write_plan(&plan(server, lanes)?, format, scale, path)
}

/// Refuses a scale out of range, or any scale but 1 for an SVG (it has no pixels to multiply).
pub fn check_scale(format: ImageFormat, scale: u32, path: &Path) -> Result<()> {
    if !(1..=MAX_SCALE).contains(&scale) {
        bail!(
            "{}: --scale {scale} is out of range: a PNG is drawn at 1 to {MAX_SCALE} times its size",
            path.display()
        );
    }
    if format == ImageFormat::Svg && scale != 1 {
        bail!(
            "{}: --scale {scale} applies to PNG only; an SVG scales in the viewer",
            path.display()
        );
    }
    Ok(())
}

fn svg_of(plan: &draw::Plan) -> Result<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (plan.width, plan.height)).into_drawing_area();
        let opts = draw::PaintOptions {
            scale: 1,
            raster_text: false,
        };
        draw::paint(&area, plan, opts).map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
        area.present().map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
    }
    Ok(out)
}

/// Paints a laid-out chart into `path` in `format` at `scale`, whole or not at all (see [`write`]).
pub fn write_plan(plan: &draw::Plan, format: ImageFormat, scale: u32, path: &Path) -> Result<()> {
    check_scale(format, scale, path)?;
    let (w, h) = (plan.width * scale, plan.height * scale);
    if format == ImageFormat::Png && u64::from(w) * u64::from(h) > MAX_PIXELS {
        bail!(
            "{}: a {w} x {h} PNG is too large to draw (at most {MAX_PIXELS} pixels); use a smaller --scale, fewer load balancers (--lb), or .svg",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".graceline-").suffix(format.suffix());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot write: {}", path.display(), dir.display()))?;
    match format {
        ImageFormat::Svg => {
            let svg = svg_of(plan)?;
            tmp.write_all(svg.as_bytes())
                .and_then(|()| tmp.flush())
                .with_context(|| format!("{}: cannot write", path.display()))?;
        }
        ImageFormat::Png => {
            let area = BitMapBackend::new(tmp.path(), (w, h)).into_drawing_area();
            let opts = draw::PaintOptions {
                scale,
                raster_text: true,
            };
            draw::paint(&area, plan, opts).map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
            area.present()
                .map_err(|e| anyhow!("{}: cannot write: {e}", path.display()))?;
        }
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("{}: cannot write: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(ImageFormat::from_path(Path::new("a/b.SVG")).unwrap(), ImageFormat::Svg);
        assert_eq!(ImageFormat::from_path(Path::new("b.png")).unwrap(), ImageFormat::Png);
        let e = ImageFormat::from_path(Path::new("b.jpg")).unwrap_err().to_string();
        assert!(e.contains(".jpg") && e.contains(".svg or .png"), "{e}");
        assert!(ImageFormat::from_path(Path::new("chart")).is_err());
    }

    /// The plan of `sc` (the LB named `lb`, or all), walked by the analysis first.
    pub(crate) fn plan_of(sc: &crate::scenario::Scenario, lb: Option<&str>) -> draw::Plan {
        let (server, lanes) = crate::analysis::walk::walk(sc, lb).unwrap();
        plan(&server, &lanes).unwrap()
    }

    /// No text leaves the picture or touches another; no E-marker line runs through a text; every
    /// `n/N` counter sits under its own probe bar.
    pub(crate) fn assert_legible(name: &str, plan: &draw::Plan) {
        let b = &plan.text_boxes;
        for (i, (p, pt)) in b.iter().enumerate() {
            assert!(
                p.0 >= 0 && p.2 <= plan.width as i32 && p.1 >= 0 && p.3 <= plan.height as i32,
                "{name}: \"{pt}\" leaves the picture"
            );
            for (q, qt) in &b[i + 1..] {
                let apart = p.2 <= q.0 || q.2 <= p.0 || p.3 <= q.1 || q.3 <= p.1;
                assert!(apart, "{name}: \"{pt}\" {p:?} overlaps \"{qt}\" {q:?}");
            }
            for &(x, y0, y1) in &plan.marker_lines {
                let crosses = p.0 <= x && x <= p.2 && y0 < p.3 && p.1 < y1;
                assert!(
                    !crosses,
                    "{name}: the marker line at x {x} ({y0}..{y1}) runs through \"{pt}\" {p:?}"
                );
            }
        }
        for c in &plan.counters {
            let (x0, x1, bar_y) = c.bar;
            let mid = (c.text_box.0 + c.text_box.2) / 2;
            assert!(
                (x0 - 1..=x1 + 1).contains(&mid),
                "{name}: {} centred at {mid}, its bar runs {x0}..{x1}",
                c.text
            );
            assert!(c.text_box.1 > bar_y, "{name}: {} above its bar", c.text);
        }
        for inset in &plan.insets {
            let f = inset.frame;
            for &(x, y0, y1) in &plan.marker_lines {
                // Only the inset's own lines (drawn on its scale) run inside its frame.
                if f.0 < x && x < f.2 && y0 < f.3 && f.1 < y1 {
                    assert!(
                        y0 > f.1 && y1 < f.3,
                        "{name}: a chart-wide marker line at {x} enters the inset of {}",
                        inset.lane
                    );
                }
            }
        }
    }

    #[test]
    fn no_text_overlaps_another_in_the_fixtures_or_the_builtin_matrix() {
        for (name, text) in [
            ("seed", include_str!("../../../tests/fixtures/seed-openshift-aws.toml")),
            (
                "seed-70s",
                include_str!("../../../tests/fixtures/seed-openshift-aws-70s.toml"),
            ),
            (
                "haproxy",
                include_str!("../../../tests/fixtures/haproxy-many-probes.toml"),
            ),
            ("kubeadm", include_str!("../../../tests/fixtures/kubeadm-haproxy.toml")),
            ("multi", include_str!("../../../tests/fixtures/multi-lb.toml")),
            ("today", include_str!("../../../reports/openshift-aws/today.toml")),
            ("gcp", include_str!("../../../reports/gcp/scenario.toml")),
            ("azure", include_str!("../../../reports/azure/scenario.toml")),
            (
                "kubeadm-report",
                include_str!("../../../reports/kubeadm-haproxy/scenario.toml"),
            ),
        ] {
            let sc = crate::scenario::load_str(name, text).unwrap();
            assert_legible(name, &plan_of(&sc, None));
            for lb in &sc.lbs {
                assert_legible(&format!("{name} / {}", lb.name), &plan_of(&sc, Some(&lb.name)));
            }
        }
        let inline = [
            "name = \"pre-1.18, propagation at the edge\"\n[server]\nprofile = \"kube-apiserver-pre-1.18\"\n[[lb]]\nname = \"gcp\"\nprofile = \"gcp\"\n[[lb]]\nname = \"alb\"\nprofile = \"aws-alb\"\npropagation_delay = \"10s\"\n",
            "name = \"preStop, SIGKILL\"\n[server]\nprofile = \"kube-apiserver-openshift\"\nprestop_sleep = \"15s\"\nreadyz_fail_after = \"3s\"\ntermination_grace_period = \"120s\"\n[[lb]]\nname = \"clb\"\nprofile = \"aws-clb\"\ninterval = \"30s\"\ntimeout = \"5s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\npropagation_delay = \"10s\"\n",
        ];
        for text in inline {
            let sc = crate::scenario::load_str("inline.toml", text).unwrap();
            let plan = plan_of(&sc, None);
            assert_legible(&sc.name, &plan);
            let texts = plan
                .text_boxes
                .iter()
                .map(|b| b.1.as_str())
                .collect::<Vec<_>>()
                .join("|");
            assert!(texts.contains("no new requests from 1m10s"), "{texts}");
        }
        // An HAProxy server without `check` next to a checked one (as the haproxy.cfg reader marks
        // it): a lane with no probes.
        let mut sc = crate::scenario::load_str(
            "haproxy.cfg",
            "[[lb]]\nname = \"api/a\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n[[lb]]\nname = \"api/b\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n",
        )
        .unwrap();
        let at = sc.lbs[1].loc.clone();
        sc.lbs[1].settings.unchecked = Some(crate::provider::Located {
            value: true,
            loc: at,
            from_profile: false,
        });
        assert_legible("unchecked", &plan_of(&sc, None));
        let (server, lanes) = crate::analysis::walk::walk(&sc, Some("api/b")).unwrap();
        let lane = &lanes[0];
        assert!(lane.unchecked && lane.probes.is_empty(), "{lane:?}");
        assert_eq!(lane.removal - server.timeline.e2, crate::time::Micros::from_secs(30));
        for sc in crate::scenario::builtin_matrix() {
            let plan = plan_of(&sc, None);
            assert_legible(&sc.name, &plan);
            assert!(svg_of(&plan).unwrap().ends_with("</svg>\n"), "{}", sc.name);
        }
    }

    fn load(path: &str) -> crate::scenario::Scenario {
        crate::scenario::load_file(Path::new(&format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))).unwrap()
    }

    fn texts(plan: &draw::Plan) -> String {
        plan.text_boxes
            .iter()
            .map(|b| b.1.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn lanes_share_one_axis_and_short_ones_get_an_inset() {
        // multi-lb in the tail of the propagation evidence: nlb 4m26s and gcp 1m23s share the
        // axis as they are; azure (30 s to E3) and haproxy (50 s) are more than 4x shorter than
        // the 4m44s axis: each gets an inset.
        let mut sc = load("tests/fixtures/multi-lb.toml");
        sc.set_propagation_tier(crate::provider::tiers::PropagationTier::Tail);
        let plan = plan_of(&sc, None);
        let zoomed: Vec<_> = plan.insets.iter().map(|i| i.lane.as_str()).collect();
        assert_eq!(zoomed, ["azure-probe", "haproxy-healthz"]);
        for inset in &plan.insets {
            // The bracket lies on the shared axis where the window is, and the frame under it.
            assert!(inset.bracket.0 < inset.bracket.1 && inset.bracket.2 < inset.frame.1);
            assert!(inset.factor.starts_with('×'));
            assert!(texts(&plan).contains(&format!("zoom {}", inset.factor)));
        }
        // The server band and every lane's band start at the same pixel: one axis.
        let t = texts(&plan);
        assert!(t.contains("one scale for the server and every lane") && t.contains("framed inset"));
        // The seed alone: no inset.
        assert!(plan_of(&load("tests/fixtures/seed-openshift-aws.toml"), None)
            .insets
            .is_empty());
        // kubeadm: the 2.5 s /readyz lane next to the 30 s exit is zoomed; /healthz (20 s) is not.
        let plan = plan_of(&load("reports/kubeadm-haproxy/scenario.toml"), None);
        let zoomed: Vec<_> = plan.insets.iter().map(|i| i.lane.as_str()).collect();
        assert_eq!(zoomed, ["haproxy-readyz"]);
    }

    #[test]
    fn send_retry_after_is_drawn_as_its_own_phase() {
        // In the tail of the propagation evidence, where the NLB routes past the listener's close.
        let mut sc = load("reports/openshift-aws/today.toml");
        sc.set_propagation_tier(crate::provider::tiers::PropagationTier::Tail);
        let plan = plan_of(&sc, None);
        let t = texts(&plan);
        assert!(t.contains("E3 429 + Retry-After (2m9s)"), "{t}");
        assert!(t.contains("listener closes (3m9s)"), "{t}");
        assert!(t.contains("429 + Retry-After"), "{t}");
        assert!(
            !t.contains("stops listening") && !t.contains("hit a closed port"),
            "{t}"
        );
        // The closed port (red) only from the listener's close, not from E3.
        assert_eq!(plan.red_bands.len(), 1, "{:?}", plan.red_bands);
        let legend = t.contains("routed after E3, answered 429 + Retry-After");
        assert!(legend, "{t}");
    }

    #[test]
    fn redispatch_is_no_failure_and_not_red() {
        let sc = load("reports/kubeadm-haproxy/scenario.toml");
        let plan = plan_of(&sc, Some("haproxy-healthz"));
        let t = texts(&plan);
        assert!(
            t.contains("retried on another server") && t.contains("no failure"),
            "{t}"
        );
        assert!(plan.red_bands.is_empty(), "{:?}", plan.red_bands);
        let plan = plan_of(&sc, Some("haproxy-readyz"));
        assert!(!plan.red_bands.is_empty());
        assert!(texts(&plan).contains("they fail"));
    }

    #[test]
    fn every_failure_counter_is_at_its_own_probe() {
        // gcp: 6 probers every 2 s, 3 failures; the 1/3 used to be left out.
        let plan = plan_of(&load("reports/gcp/scenario.toml"), None);
        let counts: Vec<_> = plan.counters.iter().map(|c| c.text.as_str()).collect();
        for n in ["1/3", "2/3", "3/3", "1/6", "2/6", "3/6", "4/6", "5/6", "6/6"] {
            assert!(counts.contains(&n), "{n} missing: {counts:?}");
        }
        // A timeout as long as the interval: the counter sits under the middle of its own bar,
        // not at its end (where the next probe starts).
        let plan = plan_of(&load("tests/fixtures/seed-openshift-aws.toml"), None);
        for c in &plan.counters {
            let (x0, x1, _) = c.bar;
            assert!(x1 - x0 > 30, "{c:?}");
            let mid = (c.text_box.0 + c.text_box.2) / 2;
            assert!((mid - (x0 + x1) / 2).abs() <= 1, "{c:?}");
        }
        assert_eq!(plan.counters.len(), 2);
    }

    #[test]
    fn titles_keep_the_lb_name_and_drop_directories() {
        let mut sc = load("tests/fixtures/multi-lb.toml");
        sc.name = "tests/fixtures/inputs/kubernetes-paths/a-very-long-file-name-that-goes-on-and-on-and-on.yaml".into();
        sc.lbs[0].name = "default/a-long-service-name:443".into();
        let name = sc.lbs[0].name.clone();
        let plan = plan_of(&sc, Some(&name));
        let title = &plan.text_boxes[1].1;
        assert!(!title.contains("tests/fixtures"), "{title}");
        assert!(title.ends_with(" / default/a-long-service-name:443"), "{title}");
        // Lane headers keep the name whole too.
        assert!(texts(&plan).contains("|default/a-long-service-name:443 (aws-nlb): "));
    }

    #[test]
    fn scales_out_of_range_and_svg_scales_are_refused() {
        let p = Path::new("x.png");
        assert!(check_scale(ImageFormat::Png, 1, p).is_ok());
        assert!(check_scale(ImageFormat::Png, MAX_SCALE, p).is_ok());
        let e = check_scale(ImageFormat::Png, 0, p).unwrap_err().to_string();
        assert!(e.contains("--scale 0") && e.contains("1 to 4"), "{e}");
        assert!(check_scale(ImageFormat::Png, MAX_SCALE + 1, p).is_err());
        let e = check_scale(ImageFormat::Svg, 2, Path::new("x.svg"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("PNG only"), "{e}");
    }
}

#[cfg(test)]
mod prop {
    use super::tests::{assert_legible, plan_of};
    use proptest::prelude::*;

    fn lb(name: &str, kind: u8, interval: u32, threshold: u32, propagation: u32) -> String {
        match kind % 4 {
            0 => format!("[[lb]]\nname = \"{name}\"\nprofile = \"aws-nlb\"\ninterval = \"{}s\"\ntimeout = \"{}s\"\nunhealthy_threshold = {}\nprotocol = \"https\"\npath = \"/readyz\"\npropagation_delay = \"{propagation}s\"\n", 10 + interval % 21, 2 + interval % 9, 2 + threshold % 9),
            1 => format!("[[lb]]\nname = \"{name}\"\nprofile = \"haproxy\"\ninter = \"{}ms\"\nfall = {}\nprotocol = \"https\"\npath = \"/readyz\"\nredispatch = {}\n", 500 + 500 * (interval % 20), 1 + threshold % 5, propagation.is_multiple_of(2)),
            2 => format!("[[lb]]\nname = \"{name}\"\nprofile = \"gcp\"\ncheck_interval = \"{}s\"\ntimeout = \"{}s\"\nunhealthy_threshold = {}\npropagation_delay = \"{propagation}s\"\n", 1 + interval % 30, 1 + interval % 5, 1 + threshold % 10),
            _ => format!("[[lb]]\nname = \"{name}\"\nprofile = \"azure-lb\"\ninterval = \"{}s\"\nprobe_threshold = {}\nprotocol = \"https\"\npath = \"/readyz\"\n", 5 + interval % 20, 1 + threshold % 4),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
        /// Whatever the servers and checks, no text of the chart overlaps another or leaves the
        /// picture, no marker line runs through a text, and every counter sits under its bar.
        #[test]
        fn any_chart_is_legible(
            profile in prop::sample::select(vec!["kube-apiserver", "kube-apiserver-openshift", "kube-apiserver-openshift-aws", "kube-apiserver-pre-1.18"]),
            delay in 0u32..200,
            prestop in prop::sample::select(vec![0u32, 5, 30]),
            lbs in prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>(), 0u32..300), 1..4),
        ) {
            let mut text = format!("name = \"prop\"\n[server]\nprofile = \"{profile}\"\nshutdown_delay = \"{delay}s\"\nprestop_sleep = \"{prestop}s\"\ntermination_grace_period = \"{}s\"\n", delay + prestop + 90);
            for (i, (kind, interval, threshold, propagation)) in lbs.iter().enumerate() {
                text.push_str(&lb(&format!("lb{i}"), *kind, *interval, *threshold, *propagation));
            }
            let sc = crate::scenario::load_str("prop.toml", &text).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            assert_legible(&text, &plan_of(&sc, None));
        }
    }
}
