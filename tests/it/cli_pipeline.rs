//! One input pipeline for every command, on the real binary: every analysing command reads an
//! haproxy.cfg + kube-apiserver manifest, `-` reads standard input, `--lb` globs select LBs.

use crate::support::{fixture_abs, graceline};
use predicates::prelude::*;

/// kubeadm HA: three `apiserverbackend/cpN` servers checked by HAProxy, against the manifest.
fn kubeadm() -> [String; 2] {
    [
        fixture_abs("inputs/kubeadm-ha/haproxy.cfg"),
        fixture_abs("inputs/kubeadm-ha/kube-apiserver.yaml"),
    ]
}

#[test]
fn every_command_reads_an_haproxy_cfg_and_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .arg("check")
        .args(kubeadm())
        .assert()
        .stdout(predicate::str::contains("apiserverbackend/cp1"));
    graceline()
        .arg("explain")
        .args(kubeadm())
        .args(["--lb", "*/cp2"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("apiserverbackend/cp2").and(predicate::str::contains("cp1").not()));
    graceline()
        .args(["simulate", "--trials", "2000", "--format", "json"])
        .args(kubeadm())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("apiserverbackend/cp3"));
    graceline()
        .args(["recommend", "--format", "json", "--lb", "apiserverbackend/cp1"])
        .args(kubeadm())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("apiserverbackend/cp1").and(predicate::str::contains("cp2").not()));
    let svg = tmp.path().join("t.svg");
    graceline()
        .arg("timeline")
        .args(kubeadm())
        .arg("--output")
        .arg(&svg)
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("apiserverbackend/cp1"));
    let dir = tmp.path().join("report");
    graceline()
        .args(["report", "--trials", "2000", "--output-dir"])
        .arg(&dir)
        .args(kubeadm())
        .assert()
        .code(0);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("apiserverbackend/cp1"), "{md}");
}

#[test]
fn timeline_of_an_haproxy_cfg_is_not_a_toml_error() {
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .args(["timeline", &fixture_abs("inputs/kubeadm-ha/haproxy.cfg"), "--output"])
        .arg(tmp.path().join("x.png"))
        .assert()
        .code(0);
}

#[test]
/// `timeline` reads the project file when no path is given (`simulate` and `explain` do too:
/// tests/cmd/simulate-project-file.toml, explain-project-file.toml).
fn timeline_reads_the_project_file_when_no_path_is_given() {
    let project = fixture_abs("inputs/project");
    // One [[check]] over an haproxy.cfg and a Service against one server: one picture.
    let tmp = tempfile::tempdir().unwrap();
    let svg = tmp.path().join("api.svg");
    graceline()
        .current_dir(&project)
        .arg("timeline")
        .arg("-o")
        .arg(&svg)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("apiserverbackend/cp1") && text.contains("hcp-demo/kube-apiserver"));
}

#[test]
fn dash_reads_standard_input() {
    let cfg = std::fs::read_to_string(fixture_abs("inputs/kubeadm-ha/haproxy.cfg")).unwrap();
    graceline()
        .args(["check", "-", "--input-kind", "haproxy", "--format", "json", "--no-fail"])
        .write_stdin(cfg.clone())
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("\"file\": \"<stdin>\"").and(predicate::str::contains("apiserverbackend/cp1")),
        );
    // Without --input-kind, a recognisable text is read by its content...
    graceline()
        .args(["explain", "-", "--lb", "*/cp1"])
        .write_stdin(cfg)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("apiserverbackend/cp1"));
    // ...and an unrecognisable one says to pass --input-kind.
    graceline()
        .args(["check", "-"])
        .write_stdin("hello\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>").and(predicate::str::contains("--input-kind")));
    graceline()
        .args(["check", "-", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only once"));
}

#[test]
fn lb_globs_are_repeatable_and_say_what_exists() {
    let out = graceline()
        .args([
            "check",
            "--format",
            "json",
            "--no-fail",
            "--lb",
            "*/cp1",
            "--lb",
            "*/cp3",
        ])
        .args(kubeadm())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let lbs: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lb"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lbs, ["apiserverbackend/cp1", "apiserverbackend/cp3"]);
    graceline()
        .args(["simulate", "--lb", "nope"])
        .args(kubeadm())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope").and(predicate::str::contains("apiserverbackend/cp2")));
}
