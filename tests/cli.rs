//! CLI tests on the real binary: every exit code, every command, every output format of `check`.

use assert_cmd::Command;
use predicates::prelude::*;
use rustls::pki_types::ServerName;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

mod support;
use support::tls_client;

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

#[test]
fn sarif_validates_against_the_2_1_0_schema_and_points_at_the_line() {
    // Schema: OASIS SARIF 2.1.0 (errata01) JSON schema, copied from shared/data/sarif-schema-2.1.0.json.
    let schema: serde_json::Value = serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    for fixture_name in [
        "seed-openshift-aws.toml",
        "seed-openshift-aws-70s.toml",
        "kubeadm-haproxy.toml",
    ] {
        let out = graceline()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "--no-fail", "--format", "sarif"])
            .arg(format!("tests/fixtures/{fixture_name}"))
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{fixture_name}: {errors:?}");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "graceline");
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 8);
        assert!(run["results"].is_array());
    }
    let out = graceline()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "sarif", "tests/fixtures/seed-openshift-aws.toml"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "GL001");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "tests/fixtures/seed-openshift-aws.toml");
    assert_eq!(loc["region"]["startLine"], 15);
    assert_eq!(loc["region"]["startColumn"], 12);
}

#[test]
fn junit_has_one_case_per_rule_and_fails_like_the_exit_code() {
    let out = graceline()
        .args(["check", "--format", "junit"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(
        xml.contains("<testsuites name=\"graceline\" tests=\"8\" failures=\"1\">"),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 8);
    assert!(xml.contains("<failure message=\"api-external: worst case 30s"));
    // With --fail-on warning, GL006 fails too.
    let out = graceline()
        .args(["check", "--format", "junit", "--fail-on", "warning"])
        .arg(fixture("seed-openshift-aws.toml"))
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("failures=\"2\""));
}

#[test]
fn github_annotations_point_at_file_and_line() {
    graceline()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "github", "tests/fixtures/seed-openshift-aws.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "::error file=tests/fixtures/seed-openshift-aws.toml,line=15,col=12,title=GL001 routes-to-closed-port::api-external: worst case 30s",
        ));
}

#[test]
fn backend_rejects_bad_flags_with_exit_2() {
    graceline()
        .args(["backend", "127.0.0.1:0", "--shutdown-delay=-5s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("negative"));
    graceline()
        .args(["backend", "not-an-address"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid listen address"));
}

#[test]
fn backend_logs_json_lines_and_stops_on_its_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("b.log");
    graceline()
        .args([
            "backend",
            "127.0.0.1:0",
            "--shutdown-at",
            "50ms",
            "--shutdown-delay",
            "30ms",
        ])
        .args(["--request-grace", "0s", "--log"])
        .arg(&log)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        events,
        ["listening", "trigger", "readyz_failing", "stopped_listening", "exit"]
    );
}

fn calibrate_inputs(dir: &std::path::Path, down_ms: i64) -> (PathBuf, PathBuf, PathBuf) {
    let scenario = dir.join("s.toml");
    std::fs::write(
        &scenario,
        "[server]\nshutdown_delay = \"700ms\"\n[[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\ninter = \"200ms\"\nfall = 3\nprotocol = \"http\"\npath = \"/readyz\"\n",
    )
    .unwrap();
    let e2 = 1_795_314_346_000_000i64;
    let log = dir.join("b.log");
    std::fs::write(
        &log,
        format!(
            "{{\"t_us\":{},\"mono_us\":0,\"event\":\"listening\",\"addr\":\"127.0.0.1:1\"}}\n{{\"t_us\":{e2},\"mono_us\":1,\"event\":\"readyz_failing\",\"mode\":\"error\"}}\n{{\"t_us\":{},\"mono_us\":2,\"event\":\"stopped_listening\"}}\n",
            e2 - 1_000_000,
            e2 + 700_000
        ),
    )
    .unwrap();
    let hlog = dir.join("h.log");
    std::fs::write(
        &hlog,
        format!(
            "2026-11-22T02:25:46.{:06}+00:00 Server be/srv is DOWN. 0 active and 0 backup servers left.\n",
            down_ms * 1000
        ),
    )
    .unwrap();
    (scenario, log, hlog)
}

#[test]
fn calibrate_judges_measurements_against_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, log, hlog) = calibrate_inputs(dir.path(), 500);
    let out = graceline()
        .arg("calibrate")
        .arg(&log)
        .arg("--scenario")
        .arg(&scenario)
        .arg("--haproxy-log")
        .arg(&hlog)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let m = &v["measurements"][0];
    assert_eq!(
        (m["measured_s"].as_f64(), m["best_s"].as_f64(), m["worst_s"].as_f64()),
        (Some(0.5), Some(0.4), Some(0.6))
    );
    assert_eq!(m["inside"], true);
    let (scenario, log, hlog) = calibrate_inputs(dir.path(), 650);
    graceline()
        .arg("calibrate")
        .arg(&log)
        .arg("--scenario")
        .arg(&scenario)
        .arg("--haproxy-log")
        .arg(&hlog)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("OUTSIDE").and(predicate::str::contains("1 of 1 measurements outside")));
}

#[test]
fn calibrate_bad_log_line_names_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, log, _) = calibrate_inputs(dir.path(), 500);
    std::fs::write(
        &log,
        "{\"t_us\":1,\"event\":\"listening\"}\n{\"t_us\":\"soon\",\"event\":\"readyz_failing\"}\n",
    )
    .unwrap();
    graceline()
        .arg("calibrate")
        .arg(&log)
        .arg("--scenario")
        .arg(&scenario)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("b.log:2:2: field `t_us`"));
}

/// GET over HTTPS with `Connection: close`; returns the whole response text.
fn https_get(addr: &str, path: &str, config: Arc<rustls::ClientConfig>) -> String {
    let sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    tls.read_to_string(&mut text).unwrap();
    text
}

/// Starts `graceline backend ARGS` logging to stdout; returns the child, its stdout lines and
/// the `listening` event.
fn spawn_backend(args: &[&str]) -> (std::process::Child, impl Iterator<Item = String>, serde_json::Value) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_graceline"))
        .arg("backend")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap);
    let listening: serde_json::Value = serde_json::from_str(&lines.next().unwrap()).unwrap();
    assert_eq!(listening["event"], "listening");
    (child, lines, listening)
}

#[test]
fn backend_tls_serves_https_with_a_generated_certificate_and_exits_0() {
    let (mut child, lines, listening) = spawn_backend(&[
        "127.0.0.1:0",
        "--tls",
        "--shutdown-at",
        "300ms",
        "--readyz-fail-after",
        "1s",
        "--shutdown-delay",
        "0s",
        "--request-grace",
        "0s",
    ]);
    assert_eq!(listening["tls"], true);
    let addr = listening["addr"].as_str().unwrap().to_owned();
    let response = https_get(&addr, "/readyz", tls_client(None));
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nok\n"), "{response}");
    let events: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(&l).unwrap()).collect();
    assert!(child.wait().unwrap().success());
    let (requests, phases): (Vec<_>, Vec<_>) = events.iter().partition(|e| e["event"] == "request");
    let names: Vec<_> = phases.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["trigger", "readyz_failing", "stopped_listening", "exit"]);
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = (requests[0]["path"].as_str(), requests[0]["status"].as_u64());
    assert_eq!(request, (Some("/readyz"), Some(200)));
}

#[test]
fn backend_serves_https_with_user_pem_files() {
    let (cert, key) = (fixture("tls/cert.pem"), fixture("tls/key.pem"));
    let (mut child, _lines, listening) = spawn_backend(&[
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--shutdown-at",
        "2s",
        "--shutdown-delay",
        "0s",
        "--request-grace",
        "0s",
    ]);
    assert_eq!(listening["tls"], true);
    let addr = listening["addr"].as_str().unwrap().to_owned();
    let response = https_get(&addr, "/healthz", tls_client(Some(&cert)));
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn backend_rejects_unusable_tls_flags_with_exit_2() {
    graceline()
        .args(["backend", "127.0.0.1:0", "--tls-cert"])
        .arg(fixture("tls/cert.pem"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--tls-key"));
    graceline()
        .args(["backend", "127.0.0.1:0", "--tls", "--tls-cert"])
        .arg(fixture("tls/cert.pem"))
        .arg("--tls-key")
        .arg(fixture("tls/key.pem"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    let other = fixture("tls/other-key.pem");
    graceline()
        .args(["backend", "127.0.0.1:0", "--tls-cert"])
        .arg(fixture("tls/cert.pem"))
        .arg("--tls-key")
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: field `--tls-key`: does not fit the certificate",
            other.display()
        )));
}
