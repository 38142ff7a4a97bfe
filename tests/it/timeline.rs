//! Timeline charts: the SVG is deterministic (insta snapshot), the PNG decodes at the plan's size
//! times `--scale` and shows what the plan says where it says it (red closed-port bands, the
//! 429 band, the `n/N` counters), and `graceline timeline` exits 0 on success and 2 on bad paths,
//! formats, names or scales, writing either the whole image or nothing.

use crate::support::{fixture, graceline};
use graceline::analysis::walk::walk;
use graceline::output::chart::{self, draw::Plan, ImageFormat};
use graceline::scenario::{load_file, Scenario};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// The scenario as loaded from its fixture, named by its file name only (stable across machines).
fn scenario(name: &str) -> Scenario {
    let path = if name.starts_with("reports/") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
    } else {
        fixture(name)
    };
    let mut sc = load_file(&path).unwrap();
    sc.file = name.to_string();
    sc
}

fn svg(sc: &Scenario, lb: Option<&str>) -> String {
    let (server, lanes) = walk(sc, lb).unwrap();
    chart::svg(&server, &lanes).unwrap()
}

fn plan(sc: &Scenario, lb: Option<&str>) -> Plan {
    let (server, lanes) = walk(sc, lb).unwrap();
    chart::plan(&server, &lanes).unwrap()
}

fn write(sc: &Scenario, lb: Option<&str>, scale: u32, out: &Path) {
    let (server, lanes) = walk(sc, lb).unwrap();
    chart::write(&server, &lanes, ImageFormat::from_path(out).unwrap(), scale, out).unwrap();
}

/// A decoded PNG: size and RGB pixels.
struct Png {
    width: u32,
    height: u32,
    px: Vec<u8>,
}

impl Png {
    fn read(path: &Path) -> Png {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        assert!(buf.iter().any(|&b| b != 255), "the image is blank");
        Png {
            width: info.width,
            height: info.height,
            px: buf,
        }
    }
    fn at(&self, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }
    /// Horizontal runs of at least `len` pixels of exactly `rgb` below `from_y` (a band, never a
    /// letter's stroke).
    fn runs(&self, rgb: [u8; 3], len: u32, from_y: i32) -> usize {
        let mut n = 0;
        for y in from_y..self.height as i32 {
            let mut run = 0;
            for x in 0..self.width as i32 {
                if self.at(x, y) == rgb {
                    run += 1;
                    if run == len {
                        n += 1;
                    }
                } else {
                    run = 0;
                }
            }
        }
        n
    }
}

/// How much of `color` a pixel on white holds (antialiased text: white blended with the text's
/// colour by the glyph's coverage), or `None` when it is not a blend of the two.
fn ink_of(px: [u8; 3], color: [u8; 3]) -> Option<f32> {
    let shares: Vec<f32> = (0..3)
        .filter(|&i| color[i] < 215)
        .map(|i| (255.0 - f32::from(px[i])) / (255.0 - f32::from(color[i])))
        .collect();
    let (lo, hi) = shares
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
    (hi - lo < 0.2 && hi <= 1.1 && (0..3).all(|i| color[i] < 215 || px[i] >= 200)).then_some(hi)
}

const RED: [u8; 3] = [200, 30, 30];
const AMBER: [u8; 3] = [244, 160, 40];
const PINK: [u8; 3] = [240, 178, 178];

#[test]
fn seed_svg_is_deterministic() {
    let sc = scenario("seed-openshift-aws.toml");
    let text = svg(&sc, None);
    assert!(text.starts_with("<svg"));
    assert_eq!(text, svg(&sc, None));
    insta::assert_snapshot!("seed_timeline_svg", text);
}

#[test]
fn multi_lb_svg_is_deterministic() {
    let text = svg(&scenario("multi-lb.toml"), None);
    for lb in ["nlb-external", "gcp-internal", "azure-probe", "haproxy-healthz"] {
        assert!(text.contains(lb), "{lb} has no lane");
    }
    insta::assert_snapshot!("multi_lb_timeline_svg", text);
}

#[test]
fn openshift_send_retry_after_svg_is_deterministic() {
    let text = svg(&scenario("reports/openshift-aws/today.toml"), None);
    insta::assert_snapshot!("openshift_send_retry_after_timeline_svg", text);
}

#[test]
fn png_decodes_at_the_plans_size_times_the_scale() {
    let dir = tempfile::tempdir().unwrap();
    for (name, lb, scale) in [
        ("seed-openshift-aws.toml", None, 1),
        ("multi-lb.toml", None, 1),
        ("multi-lb.toml", Some("gcp-internal"), 2),
        ("seed-openshift-aws.toml", None, 3),
    ] {
        let out = dir.path().join("chart.png");
        let sc = scenario(name);
        write(&sc, lb, scale, &out);
        let p = plan(&sc, lb);
        let png = Png::read(&out);
        assert_eq!(
            (png.width, png.height),
            (p.width * scale, p.height * scale),
            "{name} {lb:?} x{scale}"
        );
    }
    assert_eq!(plan(&scenario("seed-openshift-aws.toml"), None).height, 446);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["chart.png"], "no temporary file is left behind");
}

/// The PNG shows what the plan says where it says it: each red band is red at its place, each
/// `n/N` counter is drawn inside its box in its colour, under its own probe bar; at 1x and 2x.
#[test]
fn png_pixels_follow_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    for scale in [1, 2] {
        for (name, lb) in [
            ("seed-openshift-aws.toml", None),
            ("multi-lb.toml", None),
            ("reports/gcp/scenario.toml", None),
        ] {
            let sc = scenario(name);
            let out = dir.path().join(format!("{scale}.png"));
            write(&sc, lb, scale, &out);
            let png = Png::read(&out);
            let p = plan(&sc, lb);
            let k = scale as i32;
            for b in &p.red_bands {
                // Just inside its top edge (its words sit in the middle), at five places across
                // (a marker or detection line may cross one or two).
                let red = (1..=5)
                    .filter(|i| png.at((b.0 + (b.2 - b.0) * i / 6) * k, (b.1 + 2) * k) == RED)
                    .count();
                assert!(red >= 3, "{name} x{scale}: {b:?} is red at {red} of 5 places");
            }
            assert!(!p.counters.is_empty(), "{name}");
            for c in &p.counters {
                let (x0, y0, x1, y1) = c.text_box;
                let mut inked = 0;
                for y in y0 * k..y1 * k {
                    for x in x0 * k..x1 * k {
                        if ink_of(png.at(x, y), [c.color.0, c.color.1, c.color.2]).is_some_and(|a| a >= 0.4) {
                            inked += 1;
                        }
                    }
                }
                assert!(
                    inked >= 4 * k * k,
                    "{name} x{scale}: {} not drawn in its box: {inked}",
                    c.text
                );
                let (bx0, bx1, bar_y) = c.bar;
                assert!((bx0 - 1..=bx1 + 1).contains(&((x0 + x1) / 2)) && y0 > bar_y, "{c:?}");
            }
        }
    }
}

#[test]
fn png_colours_tell_the_client_story() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.png");
    // kubeadm, /healthz with option redispatch: past E3 but no failure: pink, never a red band.
    let kubeadm = scenario("reports/kubeadm-haproxy/scenario.toml");
    write(&kubeadm, Some("haproxy-healthz"), 1, &out);
    let png = Png::read(&out);
    assert_eq!(png.runs(RED, 20, 40), 0, "a red band for a redispatched lane");
    assert!(png.runs(PINK, 20, 40) > 0);
    // /readyz without redispatch: red.
    write(&kubeadm, Some("haproxy-readyz"), 1, &out);
    assert!(Png::read(&out).runs(RED, 20, 40) > 0);
    // OpenShift on AWS (send-retry-after): amber from E3 while the listener answers 429, red only
    // after it closes.
    // In the tail of the NLB's evidence, where it routes past E3 (the typical tier passes).
    let mut today = scenario("reports/openshift-aws/today.toml");
    today.set_propagation_tier(graceline::provider::tiers::PropagationTier::Tail);
    write(&today, Some("api-int"), 1, &out);
    let png = Png::read(&out);
    let p = plan(&today, Some("api-int"));
    assert!(png.runs(AMBER, 20, 40) > 0);
    assert_eq!(p.red_bands.len(), 1);
    let red = p.red_bands[0];
    // Left of the red band, in the same band: amber.
    assert_eq!(png.at(red.0 - 3, (red.1 + red.3) / 2), AMBER);
    // The measured NLB (1 m, margin 1m9s) routes nowhere past E3: no amber, no red band.
    write(&today, Some("api-int-measured-40s"), 1, &out);
    let png = Png::read(&out);
    assert_eq!((png.runs(AMBER, 20, 40), png.runs(RED, 20, 40)), (0, 0));
}

#[test]
fn cli_writes_svg_and_png_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("seed.svg");
    graceline()
        .arg("timeline")
        .arg(fixture("seed-openshift-aws.toml"))
        .arg("--output")
        .arg(&svg)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("seed.svg"));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    // 30 s of detection + the NLB's typical propagation up to 40 s, against a 30 s budget.
    assert!(text.contains("routes new requests 40s past E3: they fail"));
    assert!(text.contains("+40s propagation"));
    assert!(text.contains("marked down 30s after E2") && text.contains("no new requests from 1m10s after E2"));
    let png = dir.path().join("haproxy.PNG");
    graceline()
        .arg("timeline")
        .arg(fixture("kubeadm-haproxy.toml"))
        .args(["-o"])
        .arg(&png)
        .args(["--lb", "haproxy-healthz", "--scale", "2"])
        .assert()
        .code(0);
    let mut sc = scenario("kubeadm-haproxy.toml");
    sc.lbs.retain(|l| l.name == "haproxy-healthz");
    let p = plan(&sc, None);
    let decoded = Png::read(&png);
    assert_eq!((decoded.width, decoded.height), (2 * p.width, 2 * p.height));
}

#[test]
fn cli_bad_output_path_format_lb_or_scale_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fixture("seed-openshift-aws.toml");

    let jpg = dir.path().join("chart.jpg");
    graceline()
        .arg("timeline")
        .arg(&seed)
        .arg("--output")
        .arg(&jpg)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("unknown image format \".jpg\"").and(predicate::str::contains(".svg or .png")),
        );
    assert!(!jpg.exists());

    // A parent that is a file, and an output that is a directory: both unwritable, even for root.
    let file = dir.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    graceline()
        .arg("timeline")
        .arg(&seed)
        .arg("--output")
        .arg(file.join("chart.png"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("chart.png: cannot write"));
    let taken = dir.path().join("taken.svg");
    std::fs::create_dir(&taken).unwrap();
    graceline()
        .arg("timeline")
        .arg(&seed)
        .arg("--output")
        .arg(&taken)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("taken.svg: cannot write"));

    // An unknown LB leaves an existing file as it was.
    let existing = dir.path().join("existing.png");
    std::fs::write(&existing, "old").unwrap();
    graceline()
        .arg("timeline")
        .arg(&seed)
        .arg("--output")
        .arg(&existing)
        .args(["--lb", "nope"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no load balancer matches --lb nope")
                .and(predicate::str::contains("api-external")),
        );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "old");

    // Bad scales: zero, negative, not a number, absurd, fractional; and any scale but 1 for SVG.
    for (scale, out, says) in [
        ("0", "s.png", "0 is not in 1..=4"),
        ("-2", "s.png", "unexpected argument '-2'"),
        ("two", "s.png", "invalid digit"),
        ("1000000", "s.png", "1000000 is not in 1..=4"),
        ("5", "s.png", "5 is not in 1..=4"),
        ("1.5", "s.png", "invalid digit"),
        ("2", "s.svg", "applies to PNG only"),
    ] {
        graceline()
            .arg("timeline")
            .arg(&seed)
            .arg("--output")
            .arg(dir.path().join(out))
            .args(["--scale", scale])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(says));
    }
    graceline()
        .arg("timeline")
        .arg(&seed)
        .arg("--output")
        .arg(dir.path().join("s.png"))
        .arg("--scale=-2")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-2"));

    // Bad scenario input names the file and field.
    graceline()
        .arg("timeline")
        .arg(fixture("bad-zero-interval.toml"))
        .arg("--output")
        .arg(dir.path().join("bad.svg"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-zero-interval.toml:6:12"));
    graceline().args(["timeline"]).arg(&seed).assert().code(2);

    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["existing.png", "file.txt", "taken.svg"],
        "nothing partial is left behind"
    );
}

#[test]
fn an_lb_chart_shows_that_lbs_verdict_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gcp.svg");
    graceline()
        .arg("timeline")
        .arg(fixture("multi-lb.toml"))
        .args(["--lb", "azure-probe", "--output"])
        .arg(&out)
        .assert()
        .code(0);
    let svg = std::fs::read_to_string(&out).unwrap();
    // multi-lb fails (nlb-external, gcp-internal, haproxy-healthz), but azure-probe only warns
    // (15 s of 30 s; its propagation is unknown, GL007): the badge is the LB's.
    assert!(svg.contains(">\nWARN\n<") && !svg.contains("FAIL"), "badge");
    assert!(svg.contains("multi-lb / azure-probe"));
}

#[test]
fn long_titles_end_in_an_ellipsis_and_lane_headers_keep_the_numbers() {
    let mut sc = scenario("multi-lb.toml");
    sc.name = "a very long scenario name that goes on and on about load balancers and servers and never stops".into();
    for lb in &mut sc.lbs {
        lb.name = format!("{}-with-a-long-name-that-crowds-the-header", lb.name);
    }
    let text = svg(&sc, None);
    assert!(text.contains("…"), "an ellipsis marks the cut title");
    for needle in [
        "worst case 15s, budget 30s",
        "worst case 50s ≥ budget 30s",
        "haproxy-healthz-with-a-long-name-that-crowds-the-header (haproxy)",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}
