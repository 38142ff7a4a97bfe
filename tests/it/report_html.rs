//! `report --format html` rendered in a real browser: Debian's headless Chromium takes a
//! screenshot of the file (decoded here: its size, the FAIL badge's colour, not blank) and dumps
//! the DOM after loading it (whole: every chart and the last reference are there); Chromium's
//! console log (`--enable-logging=stderr --v=0` prints each console message as `INFO:CONSOLE`)
//! must hold no message; printed to PDF it fills several pages. The file itself must reference
//! nothing outside it.
//!
//! Under CI (`CI=true`) a missing `chromium` fails the test; locally it is skipped.

use crate::support::{decode_png, graceline};
use graceline::output::report_html::FAIL_RGB;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `extra` flags in a fresh profile; (stdout, stderr).
fn run_chromium(bin: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    // At the lowest priority: Chromium's processes would otherwise take the CPU from the
    // real-HAProxy and real-nginx tests running beside it, whose timing they measure.
    let out = Command::new("nice")
        .args(["-n", "19"])
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn console_messages(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn the_html_report_renders_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .args([
            "report",
            "reports/openshift-aws/seed.toml",
            "reports/openshift-aws/today.toml",
            "--format",
            "html",
            "--trials",
            "5000",
            "--output-dir",
        ])
        .arg(tmp.path())
        .assert()
        .code(0);
    let page = tmp.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // One file: no chart beside it, nothing fetched, nothing run.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".svg") && !n.ends_with(".md")),
        "{names:?}"
    );
    for bad in [
        "<script",
        "<link",
        "@import",
        "url(",
        "src=\"http",
        "href=\"http",
        "<img",
        "@font-face",
    ] {
        assert!(!html.contains(bad), "{bad} in the HTML");
    }
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "two timelines and two delay charts inline"
    );
    assert!(html.contains("@media print"));

    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but no chromium in /usr/bin: .ci/run must install it");
        }
        eprintln!("skipped: no chromium (install the Debian package chromium; CI=true makes this a failure)");
        return;
    };
    // Not beside the real-server timing tests (see support::TIMING).
    let _quiet = crate::support::timing_exclusive();
    let shot = tmp.path().join("shot.png");
    let (_, log) = run_chromium(
        &bin,
        &page,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1200,3000"],
    );
    assert!(
        console_messages(&log).is_empty(),
        "console: {:?}",
        console_messages(&log)
    );
    let (info, px) = decode_png(&shot);
    assert_eq!((info.width, info.height), (1200, 3000));
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = px.chunks(channels).collect();
    let badge = pixels.iter().filter(|p| (p[0], p[1], p[2]) == FAIL_RGB).count();
    // The summary's and the scenarios' FAIL badges (the chart's red is another colour).
    assert!(badge > 500, "{badge} pixels of the FAIL badge's colour");
    let ink = pixels.iter().filter(|p| p[0] < 200 || p[1] < 200 || p[2] < 200).count();
    assert!(
        ink * 100 > pixels.len() * 5,
        "the page is nearly blank: {ink} of {} pixels",
        pixels.len()
    );

    let (dom, log) = run_chromium(&bin, &page, &["--dump-dom"]);
    assert!(
        console_messages(&log).is_empty(),
        "console: {:?}",
        console_messages(&log)
    );
    assert!(
        dom.trim_end().ends_with("</html>"),
        "{}",
        &dom[dom.len().saturating_sub(300)..]
    );
    assert_eq!(dom.matches("<svg").count(), 4);
    let last_ref = html.matches("<li id=\"ref-").count();
    assert!(last_ref > 3);
    assert!(
        dom.contains(&format!("id=\"ref-{last_ref}\"")),
        "the DOM ends before the references"
    );
    assert!(dom.contains("<h2>Summary</h2>"));

    // Printable: Chromium prints it to a PDF of several pages (the print style sheet applies).
    let pdf = tmp.path().join("report.pdf");
    let (_, log) = run_chromium(
        &bin,
        &page,
        &[&format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer"],
    );
    assert!(
        console_messages(&log).is_empty(),
        "console: {:?}",
        console_messages(&log)
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    let pages: u32 = regex::Regex::new(r"/Count (\d+)")
        .unwrap()
        .captures_iter(&text)
        .filter_map(|c| c[1].parse().ok())
        .max()
        .unwrap_or(0);
    assert!(pages >= 3, "{pages} pages printed");
}
