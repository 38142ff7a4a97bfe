//! CLI tests on the real binary where the text is not the point: JSON fields, SARIF against its
//! schema, JUnit counts, `backend` serving HTTP(S), `calibrate` on generated logs, the fix that
//! binds. What a command prints, whole, is in tests/cmd/.

use crate::support::{check_json, fixture, graceline, sarif_schema_errors, tls_client};
use predicates::prelude::*;
use rustls::pki_types::ServerName;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn openshift_70s_on_aws_no_longer_passes_and_warning_threshold_exits_1() {
    // OpenShift on AWS, 70 s delay, NLB HTTPS /readyz 10 s/10 s/2 with a hanging /readyz:
    // detection 30 s + the NLB's typical propagation up to 40 s = 70 s >= 70 s.
    graceline()
        .arg("check")
        .arg(fixture("seed-openshift-aws-70s.toml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[GL001]").and(predicate::str::contains(
            "30s detection + 40s propagation, typical tier",
        )));
    // With the user's own measured propagation of 20 s: 50 s, margin 20 s; GL006 (NLB connection
    // termination) is a warning.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("own.toml");
    let text =
        std::fs::read_to_string(fixture("seed-openshift-aws-70s.toml")).unwrap() + "propagation_delay = \"20s\"\n";
    std::fs::write(&p, text).unwrap();
    graceline().arg("check").arg(&p).assert().code(0);
    graceline()
        .args(["check", "--fail-on", "warning"])
        .arg(&p)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning[GL006]"));
}

#[test]
fn openshift_70s_on_gcp_no_longer_passes() {
    // OpenShift on GCP, 70 s, 2 s/2 s/3 timeout mode: 8 s detection + 61 s propagation = 69 s,
    // margin 1 s < 5 s: WARN (GL002), exit 1 with --fail-on warning.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("gcp.toml");
    std::fs::write(
        &p,
        "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\ntermination_grace_period = \"135s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nname = \"api-int\"\nprofile = \"gcp\"\ncheck_interval = \"2s\"\ntimeout = \"2s\"\nunhealthy_threshold = 3\nprotocol = \"https\"\npath = \"/readyz\"\n",
    )
    .unwrap();
    graceline()
        .args(["check", "--fail-on", "warning"])
        .arg(&p)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning[GL002]").and(predicate::str::contains("WARN")));
}

#[test]
fn propagation_ranges_are_validated_with_file_line_column() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("seed-openshift-aws.toml")).unwrap();
    for (value, want) in [
        ("[\"40s\", \"20s\"]", "is reversed: low must be <= high"),
        ("[\"20s\"]", "a propagation range has two durations"),
        ("[\"10s\", \"20s\", \"30s\"]", "a propagation range has two durations"),
        ("\"-5s\"", "negative duration"),
        ("[\"1s\", \"1000000h\"]", "absurdly large"),
        ("35", "a duration such as"),
    ] {
        let p = tmp.path().join("bad.toml");
        std::fs::write(&p, format!("{base}propagation_delay = {value}\n")).unwrap();
        graceline()
            .arg("check")
            .arg(&p)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(
                predicate::str::contains("bad.toml:21:")
                    .and(predicate::str::contains("propagation_delay"))
                    .and(predicate::str::contains(want)),
            );
    }
    // A range is accepted: [20 s, 40 s] -> worst 30 + 40 = 70 s, best 20 + 20 = 40 s.
    let p = tmp.path().join("range.toml");
    std::fs::write(&p, format!("{base}propagation_delay = [\"20s\", \"40s\"]\n")).unwrap();
    let out = graceline()
        .args(["check", "--format", "json"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["results"][0]["worst_case_s"], 70.0);
    assert_eq!(v["results"][0]["best_case_s"], 40.0);
    assert_eq!(v["results"][0]["propagation_range_s"], serde_json::json!([20.0, 40.0]));
    assert!(v["results"][0]["propagation_source"]
        .as_str()
        .unwrap()
        .contains("your propagation_delay"));
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
    // Detection 30 s (best 20 s) + the NLB's typical propagation [0 s, 40 s] (the error tier).
    assert_eq!(r["worst_case_s"], 70.0);
    assert_eq!(r["best_case_s"], 20.0);
    assert_eq!(r["detection_worst_s"], 30.0);
    assert_eq!(r["propagation_s"], 40.0);
    assert_eq!(r["propagation_range_s"], serde_json::json!([0.0, 40.0]));
    assert_eq!(r["propagation_tier"], "typical");
    assert_eq!(r["budget_s"], 30.0);
    assert_eq!(r["margin_s"], -40.0);
    assert_eq!(r["verdict"], "fail");
    // Every tier: worst case, margin and the delay (with the grace period) that passes it.
    let t = &r["tiers"];
    assert_eq!(t["typical"]["worst_case_s"], 70.0);
    assert_eq!(t["typical"]["error_tier"], true);
    assert_eq!(t["typical"]["recommended_shutdown_delay_s"], 75.0);
    assert_eq!(t["typical"]["recommended_termination_grace_period_s"], 135.0);
    assert_eq!(t["vendor"]["worst_case_s"], 139.0);
    assert_eq!(t["vendor"]["evidence"], "vendor");
    // Cross-zone off (the NLB default): the tail reaches 240 s.
    assert_eq!(t["tail"]["worst_case_s"], 270.0);
    assert_eq!(t["tail"]["margin_s"], -240.0);
    assert_eq!(t["tail"]["recommended_shutdown_delay_s"], 275.0);
    assert_eq!(t["tail"]["recommended_termination_grace_period_s"], 335.0);
    assert_eq!(t["tail"]["verdict"], "fail");
    assert!(t["tail"]["caveats"].as_str().unwrap().contains("fail-open"));
    let f = &r["findings"][0];
    assert_eq!(f["rule"], "GL001");
    assert_eq!(f["severity"], "error");
    assert!(f["file"].as_str().unwrap().ends_with("seed-openshift-aws.toml"));
    assert_eq!(f["line"], 15);
    assert!(f["message"].as_str().unwrap().contains("1m10s"));
}

#[test]
fn no_path_teaches_in_a_table_refuses_in_machine_formats_or_reads_the_project_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    graceline()
        .current_dir(&dir)
        .args(["check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("aws-nlb").and(predicate::str::contains("haproxy")));
    // A CI job must never lint the demo: every machine format exits 2 and says what to pass.
    for format in ["json", "sarif", "github", "junit"] {
        graceline()
            .current_dir(&dir)
            .args(["check", "--format", format])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(
                predicate::str::contains("nothing to check")
                    .and(predicate::str::contains("graceline.toml"))
                    .and(predicate::str::contains("haproxy.cfg")),
            );
    }
    let text =
        std::fs::read_to_string(fixture("seed-openshift-aws-70s.toml")).unwrap() + "propagation_delay = \"20s\"\n";
    std::fs::write(dir.join("graceline.toml"), text).unwrap();
    graceline()
        .current_dir(&dir)
        .arg("check")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("openshift-installer-seed-70s"));
    graceline()
        .current_dir(&dir)
        .args(["check", "--format", "sarif"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("GL006"));
}

#[test]
fn sarif_validates_against_the_2_1_0_schema_and_points_at_the_line() {
    for fixture_name in [
        "seed-openshift-aws.toml",
        "seed-openshift-aws-70s.toml",
        "kubeadm-haproxy.toml",
    ] {
        let out = graceline()
            .args(["check", "--no-fail", "--format", "sarif"])
            .arg(format!("tests/fixtures/{fixture_name}"))
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let errors = sarif_schema_errors(&v);
        assert!(errors.is_empty(), "{fixture_name}: {errors:?}");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "graceline");
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            graceline::analysis::findings::RULES.len() + graceline::analysis::findings::PATH_RULES.len()
        );
        assert!(run["results"].is_array());
    }
    let out = graceline()
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
        xml.contains(&format!(
            "<testsuites name=\"graceline\" tests=\"{}\" failures=\"1\">",
            graceline::analysis::findings::RULES.len()
        )),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<testcase ").count(),
        graceline::analysis::findings::RULES.len()
    );
    assert!(
        xml.contains("<failure message=\"api-external: worst case 1m10s"),
        "{xml}"
    );
    // With --fail-on warning, GL006 fails too.
    let out = graceline()
        .args(["check", "--format", "junit", "--fail-on", "warning"])
        .arg(fixture("seed-openshift-aws.toml"))
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("failures=\"2\""));
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
fn calibrate_prints_the_measured_propagation_to_paste_and_it_fits() {
    // ALB, interval 5 s, timeout 2 s, threshold 2, /readyz answering 500: detection [5 s, 10 s).
    // Data requests every 10 ms reach the backend until E2 + 12.99 s (E3 at E2 + 30 s): the LB
    // routed 12.99 s, so propagation lies in [12.99 - 10, 12.99 + 0.01 - 5] = [2.99 s, 8 s]. With
    // the profile's unknown (0 s) propagation the measurement is outside; pasted, it fits.
    let dir = tempfile::tempdir().unwrap();
    let base = "[server]\nshutdown_delay = \"30s\"\nreadyz_failure = \"error\"\n[[lb]]\nname = \"alb\"\nprofile = \"aws-alb\"\ninterval = \"5s\"\ntimeout = \"2s\"\nunhealthy_threshold = 2\npath = \"/readyz\"\n";
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, base).unwrap();
    let e2 = 1_795_314_346_000_000i64;
    let mut log = format!(
        "{{\"t_us\":{},\"mono_us\":0,\"event\":\"listening\",\"addr\":\"127.0.0.1:1\"}}\n",
        e2 - 2_000_000
    );
    let mut t = e2 - 1_000_000;
    while t <= e2 + 12_990_000 {
        if t == e2 {
            log += &format!("{{\"t_us\":{e2},\"mono_us\":1,\"event\":\"readyz_failing\",\"mode\":\"error\"}}\n");
        }
        log += &format!("{{\"t_us\":{t},\"mono_us\":1,\"event\":\"request\",\"path\":\"/data\"}}\n");
        t += 10_000;
    }
    log += &format!(
        "{{\"t_us\":{},\"mono_us\":2,\"event\":\"stopped_listening\"}}\n",
        e2 + 30_000_000
    );
    let logp = dir.path().join("b.log");
    std::fs::write(&logp, log).unwrap();
    let out = graceline()
        .arg("calibrate")
        .arg(&logp)
        .arg("--scenario")
        .arg(&scenario)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("propagation_delay = "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line, "propagation_delay = [\"2990ms\", \"8000ms\"]");
    std::fs::write(&scenario, format!("{base}{line}\n")).unwrap();
    graceline()
        .arg("calibrate")
        .arg(&logp)
        .arg("--scenario")
        .arg(&scenario)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 of 1 measurements outside"));
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
fn json_fix_names_the_setting_that_binds() {
    // kube-apiserver (request_grace 60 s), NLB HTTPS /readyz 10 s/10 s/2, /readyz hangs,
    // propagation pinned to 0: worst 30 s, so the delay needed is 30 + margin 5 = 35 s. The grace
    // period a delay d needs is d + 60 s. SIGKILL binds when it comes before E3 at max(d, 35 s).
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // delay 70 s already suffices, but SIGKILL at 30 s ends the server before E3 = 70 s.
        ("70s", "30s", serde_json::json!("termination_grace_period"), 130.0),
        // delay 20 s is short, and the 35 s it needs would come after SIGKILL at 30 s.
        ("20s", "30s", serde_json::json!("both"), 95.0),
        // delay 20 s is short; SIGKILL at 135 s comes after E3 = 35 s.
        ("20s", "135s", serde_json::json!("shutdown_delay"), 95.0),
        // Passes (margin 40 s): nothing binds; the minimum delay is still 35 s (grace 70 + 60).
        ("70s", "135s", serde_json::Value::Null, 130.0),
    ];
    for (delay, grace, binds, grace_needed) in cases {
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            format!("[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"{delay}\"\ntermination_grace_period = \"{grace}\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\n"),
        )
        .unwrap();
        let out = graceline()
            .args(["check", "--format", "json", "--no-fail"])
            .arg(&path)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &v["results"][0];
        let case = format!("delay {delay}, grace {grace}: {r}");
        assert_eq!(r["recommended_fix_binds"], binds, "{case}");
        assert_eq!(r["recommended_shutdown_delay_s"], 35.0, "{case}");
        assert_eq!(r["recommended_termination_grace_period_s"], grace_needed, "{case}");
        let gl001 = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "GL001")
            .map(|f| f["message"].as_str().unwrap().to_string());
        match binds.as_str() {
            Some("termination_grace_period") => {
                let m = gl001.expect("GL001");
                assert!(
                    m.contains("fix: termination_grace_period (terminationGracePeriodSeconds) >= 2m10s"),
                    "{m}"
                );
                assert!(!m.contains("fix: shutdown_delay"), "{m}");
            }
            Some("both") => {
                let m = gl001.expect("GL001");
                assert!(
                    m.contains("fix: shutdown_delay >= 35s and termination_grace_period (terminationGracePeriodSeconds) >= 1m35s"),
                    "{m}"
                );
            }
            Some(_) => assert!(gl001.expect("GL001").contains("fix: shutdown_delay >= 35s"), "{case}"),
            None => assert!(gl001.is_none(), "{case}"),
        }
    }
}

/// Rules of a `check --format json` document's load-balancer rows.
fn lb_rules(v: &serde_json::Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap().iter())
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// `check` of a scenario text on standard input, as JSON.
fn check_stdin(text: &str, args: &[&str]) -> serde_json::Value {
    let out = graceline()
        .args(["check", "-", "--format", "json", "--no-fail"])
        .args(args)
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn following_check_on_the_multi_lb_gcp_check_ends_without_gl004() {
    // Issue 15's first sequence: GL001's fix once named only the delay (1m26s), and following it
    // raised GL004. The fix names the delay and the grace period; both in the text and in JSON.
    let text = std::fs::read_to_string(fixture("multi-lb.toml")).unwrap();
    for tier in ["typical", "tail"] {
        let args = ["--lb", "gcp-internal", "--propagation", tier];
        let v = check_stdin(&text, &args);
        let r = &v["results"][0];
        assert!(lb_rules(&v).contains(&"GL001".to_string()), "{v}");
        let d = r["recommended_shutdown_delay_s"].as_f64().unwrap();
        let g = r["recommended_termination_grace_period_s"].as_f64().unwrap();
        assert!(g > 95.0, "the grace period must change too: {r}");
        let message = r["findings"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("termination_grace_period (terminationGracePeriodSeconds) >="),
            "{message}"
        );
        let fixed = text
            .replace("shutdown_delay = \"30s\"", &format!("shutdown_delay = \"{d}s\""))
            .replace(
                "termination_grace_period = \"95s\"",
                &format!("termination_grace_period = \"{g}s\""),
            );
        let rules = lb_rules(&check_stdin(&fixed, &args));
        assert!(
            !rules.iter().any(|r| ["GL001", "GL002", "GL004"].contains(&r.as_str())),
            "{tier}: {rules:?}"
        );
        // The delay alone leaves SIGKILL cutting the drain: what the old text led to.
        let delay_only = text.replace("shutdown_delay = \"30s\"", &format!("shutdown_delay = \"{d}s\""));
        assert!(lb_rules(&check_stdin(&delay_only, &args)).contains(&"GL004".to_string()));
    }
}

#[test]
fn following_recommend_on_openshift_aws_ends_without_gl004() {
    // Issue 15's second sequence: recommend once left send-retry-after's 2 s shutdown timeout out
    // of the grace period that check counts. With the tail as the error tier (the typical one
    // passes OpenShift's 129 s), recommend's delay and grace period pass check.
    let today = crate::support::root().join("reports/openshift-aws/today.toml");
    let v = crate::support::json_ok(
        graceline()
            .args([
                "recommend",
                "--format",
                "json",
                "--lb",
                "api-int",
                "--propagation",
                "tail",
            ])
            .arg(&today),
    );
    let r = &v["results"][0];
    let d = r["min_shutdown_delay_s"].as_f64().unwrap();
    let g = r["termination_grace_period_needed_s"].as_f64().unwrap();
    // 20 s of detection + the cross-zone-on tail's 172 s + 5 s of margin; the drain adds
    // request_grace 60 s and send-retry-after's 2 s.
    assert_eq!((d, g), (197.0, 259.0));
    let c = check_json(
        &[today.to_str().unwrap(), "--lb", "api-int", "--propagation", "tail"],
        1,
    );
    assert_eq!(c["results"][0]["recommended_shutdown_delay_s"], d);
    assert_eq!(c["results"][0]["recommended_termination_grace_period_s"], g);
    let text = std::fs::read_to_string(&today).unwrap().replace(
        "profile = \"kube-apiserver-openshift-aws\"",
        &format!("profile = \"kube-apiserver-openshift-aws\"\nshutdown_delay = \"{d}s\"\ntermination_grace_period = \"{g}s\""),
    );
    let rules = lb_rules(&check_stdin(&text, &["--lb", "api-int", "--propagation", "tail"]));
    assert!(
        !rules.iter().any(|r| ["GL001", "GL002", "GL004"].contains(&r.as_str())),
        "{rules:?}"
    );
}

#[test]
fn detect_faster_proposes_only_what_recommend_would() {
    // Issue 15's third sequence: GL001's alternatives once proposed a threshold of 1 with a 2 s
    // timeout, which recommend refuses without --allow-single-failure. A GCP check of 5 s x 3
    // with a 2 s timeout against a 70 s delay (15 s + 60 s): recommend's own alternatives only.
    let text = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\ntermination_grace_period = \"1h\"\n[[lb]]\nname = \"gcp\"\nprofile = \"gcp\"\ncheck_interval = \"5s\"\ntimeout = \"2s\"\nunhealthy_threshold = 3\nprotocol = \"https\"\npath = \"/readyz\"\n";
    let v = check_stdin(text, &[]);
    let message = v["results"][0]["findings"][0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("GL001") || v["results"][0]["findings"][0]["rule"] == "GL001",
        "{v}"
    );
    assert!(!message.contains("unhealthy_threshold = 1 "), "{message}");
    assert!(
        message.contains("or detect faster: check_interval = 1s (timeout 1s) (worst case 1m3s)"),
        "{message}"
    );
    // recommend refuses the same setting; with --allow-single-failure it may propose it.
    let out = graceline()
        .args(["recommend", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    let rec = String::from_utf8_lossy(&out.stdout);
    assert!(
        rec.contains("a threshold of 1 with a probe timeout of 2s or less left out"),
        "{rec}"
    );
}

#[test]
fn a_bad_tier_or_haproxy_version_is_a_located_error_exit_2() {
    // propagation_tier other than typical/tail: file, line, column and the valid values.
    let out = graceline()
        .args(["check", "-"])
        .write_stdin("[server]\nprofile = \"kube-apiserver\"\n[analysis]\npropagation_tier = \"worst\"\n[[lb]]\nprofile = \"haproxy\"\n")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("<stdin>:4:20") && err.contains("'typical', 'tail'"),
        "{err}"
    );
    // An HAProxy version that does not parse, in a scenario and on the command line.
    let out = graceline()
        .args(["check", "-"])
        .write_stdin("[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"haproxy\"\nversion = \"two\"\n")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("<stdin>:5:11") && err.contains("not an HAProxy version"),
        "{err}"
    );
    graceline()
        .args(["check", "--haproxy-version", "2.x"])
        .arg(fixture("kubeadm-haproxy.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--haproxy-version \"2.x\""));
    graceline()
        .args(["check", "--propagation", "worst"])
        .arg(fixture("seed-openshift-aws.toml"))
        .assert()
        .code(2);
}

#[test]
fn an_haproxy_image_among_the_inputs_names_the_version_of_its_check_timer() {
    // haproxy.cfg with timeout check 1s below inter 4s and timeout connect 5s: the check timer
    // depends on the version. An haproxy:2.8.16 image among the inputs makes it exact (15 s of
    // detection); without one graceline assumes 2.8.0 (no fix: up to 24 s) and says so.
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::support::write_file(
        dir.path(),
        "haproxy.cfg",
        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout check 1s\n  timeout client 30s\n  timeout server 30s\nbackend api\n  option httpchk GET /readyz\n  server a 10.0.0.1:6443 check inter 4s fall 3\n",
    );
    let pod = crate::support::write_file(
        dir.path(),
        "haproxy-pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: haproxy\nspec:\n  containers:\n  - name: haproxy\n    image: haproxy:2.8.16-alpine\n",
    );
    let (cfg, pod) = (cfg.to_str().unwrap(), pod.to_str().unwrap());
    // The seed's server: /readyz hangs once failing, so the check timer decides detection.
    let seed = fixture("seed-openshift-aws.toml");
    let base = [cfg, "--server", seed.to_str().unwrap(), "--no-fail"];
    let with = check_json(&[&base[..], &[pod]].concat(), 0);
    let without = check_json(&base, 0);
    let v26 = check_json(&[&base[..], &["--haproxy-version", "2.6"]].concat(), 0);
    let worst = |v: &serde_json::Value| v["results"][0]["detection_worst_s"].as_f64().unwrap();
    // inter 4 s, fall 3: exactly 1 s per silent check with the fix, up to 4 s without.
    assert_eq!((worst(&with), worst(&without)), (15.0, 24.0), "{with}\n{without}");
    assert_eq!(worst(&without), worst(&v26));
    let assumed = without["results"][0]["assumed"].to_string();
    assert!(assumed.contains("without the check-timer fix"), "{assumed}");
    let assumed = with["results"][0]["assumed"].to_string();
    assert!(assumed.contains("haproxy:2.8.16-alpine"), "{assumed}");
}
