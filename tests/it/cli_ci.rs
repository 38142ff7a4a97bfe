//! CI formats on the real binary: SARIF locations relative to the repository root from any folder,
//! server-level findings once per server, the JSON summary, no demo matrix in machine formats.

use crate::support::{fixture, graceline};
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

/// A repository `repo/` (a real `git init` when git is installed, else a bare `.git` folder)
/// holding `deploy/haproxy/haproxy.cfg` and `deploy/manifests/kube-apiserver.yaml`.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let inited = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .status()
        .is_ok_and(|s| s.success());
    if !inited {
        std::fs::create_dir(tmp.path().join(".git")).unwrap();
    }
    for (from, to) in [
        ("kubeadm-ha/haproxy.cfg", "deploy/haproxy/haproxy.cfg"),
        ("kubeadm-ha/kube-apiserver.yaml", "deploy/manifests/kube-apiserver.yaml"),
    ] {
        let to = tmp.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture(&format!("inputs/{from}")), to).unwrap();
    }
    tmp
}

fn sarif(dir: &Path, args: &[&str]) -> Value {
    let out = graceline()
        .current_dir(dir)
        .args(["check", "--format", "sarif"])
        .args(args)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn uris(v: &Value) -> Vec<(String, Option<String>)> {
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap().to_string(),
                a["uriBaseId"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root_from_a_subfolder_and_for_absolute_paths() {
    let repo = repo();
    let sub = repo.path().join("deploy/haproxy");
    let abs_manifest = repo.path().join("deploy/manifests/kube-apiserver.yaml");
    let runs = [
        sarif(&sub, &["haproxy.cfg", "../manifests/kube-apiserver.yaml"]),
        sarif(&sub, &["haproxy.cfg", abs_manifest.to_str().unwrap()]),
        sarif(
            repo.path(),
            &["deploy/haproxy/haproxy.cfg", "deploy/manifests/kube-apiserver.yaml"],
        ),
    ];
    for v in &runs {
        let u = uris(v);
        assert!(!u.is_empty());
        for (uri, base) in &u {
            assert_eq!(base.as_deref(), Some("%SRCROOT%"), "{uri}");
            assert!(
                uri == "deploy/haproxy/haproxy.cfg" || uri == "deploy/manifests/kube-apiserver.yaml",
                "{uri}"
            );
        }
        assert!(u.iter().any(|(x, _)| x == "deploy/manifests/kube-apiserver.yaml"));
        let root = v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
        assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
        let canon = repo.path().canonicalize().unwrap();
        assert!(
            root.trim_end_matches('/')
                .ends_with(canon.file_name().unwrap().to_str().unwrap()),
            "{root}"
        );
    }
    // GitHub annotations carry the same repository-relative paths.
    graceline()
        .current_dir(&sub)
        .args([
            "check",
            "--format",
            "github",
            "haproxy.cfg",
            "../manifests/kube-apiserver.yaml",
        ])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("file=deploy/haproxy/haproxy.cfg,")
                .and(predicate::str::contains("file=deploy/manifests/kube-apiserver.yaml,")),
        );
}

#[test]
fn outside_a_repository_uris_are_relative_to_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("inputs/kubeadm-ha/haproxy.cfg"), tmp.path().join("haproxy.cfg")).unwrap();
    // (a temporary directory is not inside a git repository; the assumed server's GL004 points at
    // the built-in profile, a pseudo-file without a base)
    let v = sarif(tmp.path(), &["haproxy.cfg"]);
    let u = uris(&v);
    assert!(u.iter().any(|(u, _)| u == "haproxy.cfg"));
    for (uri, base) in u {
        if uri.starts_with("builtin") {
            assert_eq!(base, None);
        } else {
            assert_eq!((uri.as_str(), base.as_deref()), ("haproxy.cfg", Some("%SRCROOT%")));
        }
    }
}

#[test]
fn a_server_level_finding_is_reported_once_per_server() {
    let repo = repo();
    let args = ["deploy/haproxy/haproxy.cfg", "deploy/manifests/kube-apiserver.yaml"];
    // kubeadm: three HAProxy servers in front of one kube-apiserver whose grace period is short.
    let v = sarif(repo.path(), &args);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let gl004: Vec<_> = results.iter().filter(|r| r["ruleId"] == "GL004").collect();
    assert_eq!(gl004.len(), 1, "{gl004:?}");
    assert_eq!(gl004[0]["properties"]["lbs"].as_array().unwrap().len(), 3);
    let mut prints: Vec<_> = results
        .iter()
        .map(|r| r["partialFingerprints"]["graceline/v1"].as_str().unwrap().to_string())
        .collect();
    let n = prints.len();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), n, "every fingerprint once");
    // GitHub annotations, the JUnit server suite and the table say it once too.
    for (format, needle) in [
        ("github", "GL004"),
        ("table", "error[GL004]"),
        ("junit", "<failure message=\"termination_grace_period"),
    ] {
        let out = graceline()
            .current_dir(repo.path())
            .args(["check", "--format", format])
            .args(args)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches(needle).count(), 1, "{format}: {text}");
    }
}

#[test]
fn json_has_a_summary_beside_the_results() {
    let out = graceline()
        .args(["check", "--format", "json"])
        .arg(fixture("inputs/kubeadm-ha/haproxy.cfg"))
        .arg(fixture("inputs/kubeadm-ha/kube-apiserver.yaml"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let s = &v["summary"];
    assert_eq!(s["pairs"], 3);
    assert_eq!(s["verdicts"]["fail"], 3);
    assert_eq!(s["verdicts"]["pass"], 0);
    assert_eq!(s["exit_code"], 1);
    assert_eq!(s["fail_on"], "error");
    // 3 x GL001 (one line each) + GL003 once (the same line for the three LBs, one finding
    // naming them) + GL004 once for the one server.
    assert_eq!(s["findings"]["error"], 5);
    let grouped: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "GL003")
        .collect();
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0]["subjects"].as_array().unwrap().len(), 3);
    assert_eq!(grouped[0]["fingerprints"].as_array().unwrap().len(), 3);
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    let out = graceline()
        .args(["check", "--format", "json", "--no-fail"])
        .arg(fixture("inputs/kubeadm-ha/haproxy.cfg"))
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["exit_code"], 0);
    assert_eq!(v["summary"]["fail_on"], Value::Null);
}

#[test]
/// GL004 about a built-in server profile points at a file GitHub and SARIF can attach to: the
/// input that named the load balancer, or the `server =` line of graceline.toml; never a
/// `builtin:` pseudo-file.
fn a_builtin_server_finding_points_at_a_real_file() {
    let cfg = fixture("inputs/kubeadm-ha/haproxy.cfg");
    let out = graceline()
        .args(["check", "--format", "github", "--server", "kube-apiserver"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let gl004: Vec<&str> = text.lines().filter(|l| l.contains("GL004")).collect();
    assert_eq!(gl004.len(), 1, "{text}");
    assert!(
        gl004[0].contains("file=tests/fixtures/inputs/kubeadm-ha/haproxy.cfg,line="),
        "{text}"
    );
    assert!(!text.contains("builtin"), "{text}");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("graceline.toml"),
        format!(
            "[[check]]\nname = \"api\"\n\nserver = \"kube-apiserver\"\nlbs = [\"{}\"]\n",
            cfg.display()
        ),
    )
    .unwrap();
    let v = {
        let out = graceline()
            .current_dir(tmp.path())
            .args(["check", "--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL004")
        .unwrap()
        .clone();
    assert_eq!(
        (f["file"].as_str().unwrap(), f["line"].as_u64()),
        ("graceline.toml", Some(4)),
        "{f}"
    );
}
