//! Timeline charts: the SVG is deterministic (insta snapshot), the PNG decodes at the expected size,
//! and `graceline timeline` exits 0 on success and 2 on bad paths, formats or names, writing
//! either the whole image or nothing.

use crate::support::{decode_png, fixture, graceline};
use graceline::output::chart::{render_timeline, timeline_svg, ImageFormat};
use graceline::scenario::load_file;
use predicates::prelude::*;
use std::path::Path;

/// The scenario as loaded from its fixture, named by its file name only (stable across machines).
fn scenario(name: &str) -> graceline::scenario::Scenario {
    let mut sc = load_file(&fixture(name)).unwrap();
    sc.file = name.to_string();
    sc
}

fn png_size(path: &Path) -> (u32, u32) {
    let (info, buf) = decode_png(path);
    assert!(buf.iter().any(|&b| b != 255), "the image is blank");
    (info.width, info.height)
}

#[test]
fn seed_svg_is_deterministic() {
    let svg = timeline_svg(&scenario("seed-openshift-aws.toml"), None).unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(svg, timeline_svg(&scenario("seed-openshift-aws.toml"), None).unwrap());
    insta::assert_snapshot!("seed_timeline_svg", svg);
}

#[test]
fn multi_lb_svg_is_deterministic() {
    let svg = timeline_svg(&scenario("multi-lb.toml"), None).unwrap();
    for lb in ["nlb-external", "gcp-internal", "azure-probe", "haproxy-healthz"] {
        assert!(svg.contains(lb), "{lb} has no lane");
    }
    insta::assert_snapshot!("multi_lb_timeline_svg", svg);
}

#[test]
fn png_decodes_at_the_expected_size() {
    let dir = tempfile::tempdir().unwrap();
    for (name, lb, height) in [
        // The seed's NLB propagation (up to 4 min) stretches the axis: the probes wrap to two rows.
        ("seed-openshift-aws.toml", None, 466),
        ("multi-lb.toml", None, 948),
        ("multi-lb.toml", Some("gcp-internal"), 446),
    ] {
        let out = dir.path().join("chart.png");
        render_timeline(&scenario(name), lb, ImageFormat::Png, &out).unwrap();
        assert_eq!(png_size(&out), (1200, height), "{name} {lb:?}");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["chart.png"], "no temporary file is left behind");
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
    assert!(text.contains("routes new requests 4m past E3"));
    assert!(text.contains("+4m propagation"));
    assert!(text.contains("marked down 30s after E2") && text.contains("no new requests from 4m30s after E2"));
    let png = dir.path().join("haproxy.PNG");
    graceline()
        .arg("timeline")
        .arg(fixture("kubeadm-haproxy.toml"))
        .args(["-o"])
        .arg(&png)
        .args(["--lb", "haproxy-healthz"])
        .assert()
        .code(0);
    assert_eq!(png_size(&png), (1200, 446));
}

#[test]
fn cli_bad_output_path_format_or_lb_exits_2_and_writes_nothing() {
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
    let svg = timeline_svg(&sc, None).unwrap();
    assert!(svg.contains("…"), "an ellipsis marks the cut title");
    for needle in ["worst case 15s, budget 30s", "worst case 50s ≥ budget 30s"] {
        assert!(svg.contains(needle), "{needle}");
    }
}
