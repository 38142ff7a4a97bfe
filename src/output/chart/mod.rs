//! Timeline charts: one picture of a shutdown for a design review, as SVG or PNG.
//!
//! [`model`] decides what the chart shows (the worst-case run of every LB replayed in the
//! simulator), [`draw`] lays it out and paints it with plotters on either backend. Text uses the
//! embedded DejaVu Sans (assets/fonts/, Bitstream Vera licence) through plotters' `ab_glyph`
//! feature, so no system font is needed.

pub mod draw;
pub mod model;

use crate::scenario::Scenario;
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

/// Lays out the timeline of `sc` for the LB named `lb` (all LBs if `None`).
pub fn plan_timeline(sc: &Scenario, lb: Option<&str>) -> Result<draw::Plan> {
    ensure_font()?;
    let chart = model::build(sc, lb)?;
    Ok(draw::plan(&chart))
}

/// The timeline of `sc` as an SVG document.
pub fn timeline_svg(sc: &Scenario, lb: Option<&str>) -> Result<String> {
    let plan = plan_timeline(sc, lb)?;
    svg_of(&plan)
}

fn svg_of(plan: &draw::Plan) -> Result<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (plan.width, plan.height)).into_drawing_area();
        draw::paint(&area, plan).map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
        area.present().map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
    }
    Ok(out)
}

/// Draws the timeline of `sc` (the LB named `lb`, or all) and writes it to `path` in `format`.
///
/// The file appears whole or not at all: the image goes to a temporary file in the same
/// directory, which is then renamed over `path`.
pub fn render_timeline(sc: &Scenario, lb: Option<&str>, format: ImageFormat, path: &Path) -> Result<()> {
    let plan = plan_timeline(sc, lb)?;
    write_plan(&plan, format, path)
}

/// Paints a laid-out chart into `path` in `format`, whole or not at all (see [`render_timeline`]).
pub fn write_plan(plan: &draw::Plan, format: ImageFormat, path: &Path) -> Result<()> {
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
            let area = BitMapBackend::new(tmp.path(), (plan.width, plan.height)).into_drawing_area();
            draw::paint(&area, plan).map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
            area.present()
                .map_err(|e| anyhow!("{}: cannot write: {e}", path.display()))?;
        }
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("{}: cannot write: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(ImageFormat::from_path(Path::new("a/b.SVG")).unwrap(), ImageFormat::Svg);
        assert_eq!(ImageFormat::from_path(Path::new("b.png")).unwrap(), ImageFormat::Png);
        let e = ImageFormat::from_path(Path::new("b.jpg")).unwrap_err().to_string();
        assert!(e.contains(".jpg") && e.contains(".svg or .png"), "{e}");
        assert!(ImageFormat::from_path(Path::new("chart")).is_err());
    }

    fn assert_legible(name: &str, plan: &draw::Plan) {
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
        ] {
            let sc = crate::scenario::load_str(name, text).unwrap();
            assert_legible(name, &plan_timeline(&sc, None).unwrap());
        }
        let inline = [
            "name = \"pre-1.18, propagation at the edge\"\n[server]\nprofile = \"kube-apiserver-pre-1.18\"\n[[lb]]\nname = \"gcp\"\nprofile = \"gcp\"\n[[lb]]\nname = \"alb\"\nprofile = \"aws-alb\"\npropagation_delay = \"10s\"\n",
            "name = \"preStop, SIGKILL\"\n[server]\nprofile = \"kube-apiserver-openshift\"\nprestop_sleep = \"15s\"\nreadyz_fail_after = \"3s\"\ntermination_grace_period = \"120s\"\n[[lb]]\nname = \"clb\"\nprofile = \"aws-clb\"\ninterval = \"30s\"\ntimeout = \"5s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\npropagation_delay = \"10s\"\n",
        ];
        for text in inline {
            let sc = crate::scenario::load_str("inline.toml", text).unwrap();
            let plan = plan_timeline(&sc, None).unwrap();
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
        let plan = plan_timeline(&sc, None).unwrap();
        assert_legible("unchecked", &plan);
        let chart = model::build(&sc, Some("api/b")).unwrap();
        let lane = &chart.lanes[0];
        assert!(lane.unchecked && lane.probes.is_empty(), "{lane:?}");
        assert_eq!(lane.removal - chart.e2, crate::time::Micros::from_secs(30));
        for sc in crate::scenario::builtin_matrix() {
            let plan = plan_timeline(&sc, None).unwrap();
            assert_legible(&sc.name, &plan);
            assert!(svg_of(&plan).unwrap().ends_with("</svg>\n"), "{}", sc.name);
        }
    }
}
