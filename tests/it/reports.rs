//! The example reports under `reports/` are regenerated here and must match what is committed.

use crate::support::{fixture, graceline, root};
use std::path::{Path, PathBuf};

const CASES: [&str; 4] = ["openshift-aws", "kubeadm-haproxy", "gcp", "azure"];

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| ext.contains(&e.to_str().unwrap())))
        .collect();
    v.sort();
    v
}

#[test]
fn committed_reports_are_up_to_date() {
    let root = root();
    let update = std::env::var_os("UPDATE_REPORTS").is_some();
    let mut stale = Vec::new();
    for case in CASES {
        let dir = root.join("reports").join(case);
        let scenarios: Vec<String> = files(&dir, &["toml"])
            .iter()
            .map(|p| format!("reports/{case}/{}", p.file_name().unwrap().to_str().unwrap()))
            .collect();
        assert!(!scenarios.is_empty(), "{case}: no scenario files");
        let tmp = tempfile::tempdir().unwrap();
        let out = if update { dir.clone() } else { tmp.path().to_path_buf() };
        graceline()
            .arg("report")
            .args(&scenarios)
            .arg("--output-dir")
            .arg(&out)
            .args(["--trials", "100000"])
            .assert()
            .code(0);
        if update {
            continue;
        }
        let made = files(tmp.path(), &["md", "svg"]);
        let committed = files(&dir, &["md", "svg"]);
        let names = |v: &[PathBuf]| v.iter().map(|p| p.file_name().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(
            names(&made),
            names(&committed),
            "{case}: the set of report files changed"
        );
        for (m, c) in made.iter().zip(&committed) {
            if std::fs::read(m).unwrap() != std::fs::read(c).unwrap() {
                stale.push(c.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale reports: {stale:?}; regenerate with `UPDATE_REPORTS=1 cargo test --test it reports::` (see reports/README.md)"
    );
}

#[test]
fn report_rejects_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    graceline()
        .arg("report")
        .arg(fixture("bad-zero-interval.toml"))
        .arg("--output-dir")
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.join("report.md").exists());
    graceline().args(["report", "--output-dir"]).arg(&out).assert().code(2);
}

#[cfg(unix)]
#[test]
fn report_md_and_charts_get_the_same_mode() {
    // Load balancers only, then with Kubernetes paths (whose section once left report.md 0600).
    for input in [
        "tests/fixtures/seed-openshift-aws.toml",
        "tests/fixtures/inputs/kubernetes-paths/web-no-prestop.yaml",
    ] {
        report_modes(input);
    }
}

#[cfg(unix)]
fn report_modes(input: &str) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .args(["report", input, "--trials", "1000", "--output-dir"])
        .arg(tmp.path())
        .assert()
        .code(0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let md = mode(&tmp.path().join("report.md"));
    let svgs = files(tmp.path(), &["svg"]);
    assert!(!svgs.is_empty());
    for svg in svgs {
        assert_eq!(md, mode(&svg), "report.md {md:o} vs {}", svg.display());
    }
    assert_eq!(md & 0o600, 0o600);
    // The charts follow the umask (0644 with the usual 022), never tempfile's private 0600.
    assert_ne!(md, 0o600, "{input}: report.md is private");
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".graceline-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
