//! CLI tests on the real binary: every exit code, every command, every output format of `check`.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn graceline() -> Command {
    Command::cargo_bin("graceline").unwrap()
}

#[test]
fn seed_case_exits_1_with_gl001() {
    graceline()
        .args(["check"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[GL001]").and(predicate::str::contains("FAIL")));
}

#[test]
fn openshift_70s_exits_0_and_warning_threshold_exits_1() {
    graceline()
        .arg("check")
        .arg(fixture("seed-openshift-aws-70s.toml"))
        .assert()
        .code(0);
    // GL006 (NLB connection termination) is a warning.
    graceline()
        .args(["check", "--fail-on", "warning"])
        .arg(fixture("seed-openshift-aws-70s.toml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning[GL006]"));
}

#[test]
fn no_fail_reports_only() {
    graceline()
        .args(["check", "--no-fail"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(0);
}

#[test]
fn json_has_the_documented_fields() {
    let out = graceline()
        .args(["check", "--format", "json"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["scenario"], "openshift-installer-seed");
    assert_eq!(r["lb"], "api-external");
    assert_eq!(r["provider"], "aws-nlb");
    assert_eq!(r["worst_case_s"], 30.0);
    assert_eq!(r["best_case_s"], 20.0);
    assert_eq!(r["budget_s"], 30.0);
    assert_eq!(r["margin_s"], 0.0);
    assert_eq!(r["verdict"], "fail");
    let f = &r["findings"][0];
    assert_eq!(f["rule"], "GL001");
    assert_eq!(f["severity"], "error");
    assert!(f["file"].as_str().unwrap().ends_with("seed-openshift-aws.toml"));
    assert_eq!(f["line"], 15);
    assert!(f["message"].as_str().unwrap().contains("30s"));
}

#[test]
fn bad_input_exits_2_naming_file_line_and_field() {
    graceline()
        .arg("check")
        .arg(fixture("bad-zero-interval.toml"))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "bad-zero-interval.toml:6:12: field `lb[0].interval`: must be positive",
        ));
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    graceline()
        .args(["check", "does-not-exist.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does-not-exist.toml"));
    graceline().args(["check", "--format", "yaml"]).assert().code(2);
    graceline().args(["frobnicate"]).assert().code(2);
    graceline().args(["explain"]).assert().code(2);
}

#[test]
fn no_path_runs_the_builtin_matrix_or_the_project_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    graceline()
        .current_dir(&dir)
        .args(["check", "--format", "json"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("\"aws-nlb / kube-apiserver\"")
                .and(predicate::str::contains("haproxy / app-stops-at-sigterm")),
        );
    std::fs::copy(fixture("seed-openshift-aws-70s.toml"), dir.join("graceline.toml")).unwrap();
    graceline()
        .current_dir(&dir)
        .arg("check")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("openshift-installer-seed-70s"));
}

#[test]
fn explain_walks_the_seed_case() {
    graceline()
        .arg("explain")
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("P2  T+9.999999s  starts")
                .and(predicate::str::contains("P3  T+29.999999s  times out (failure 2/2)"))
                .and(predicate::str::contains("Worst case t = 30s")),
        );
    graceline()
        .args(["explain", "--lb", "nope"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("api-external"));
}

#[test]
fn profiles_list_and_print_with_sources() {
    graceline()
        .arg("profiles")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("azure-lb").and(predicate::str::contains("kube-apiserver-pre-1.18")));
    graceline()
        .args(["profiles", "aws-nlb"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("[sources]").and(predicate::str::contains("b284de7")));
    graceline().args(["profiles", "nope"]).assert().code(2);
}
