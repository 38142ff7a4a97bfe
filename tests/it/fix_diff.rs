//! Issue 18 point 6 on the real binary: every finding whose fix is a setting read from a file (the
//! server's shutdown, a workload's preStop and grace period, an HAProxy check, a Service's
//! annotations, a scenario file's `[[lb]]` keys) carries the fix in that file's own syntax (table and JSON), and `check
//! --fix-diff` prints a unified diff that `git apply` takes, after which `check` is clean.
//! Locally skipped without `git`; with `CI=true` that is a failure.

use crate::support::{fixture, graceline, rules_of};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn have_git() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("CI").is_err(), "CI=true but `git` is missing");
        eprintln!("skipped: no `git` command");
    }
    ok
}

/// The rules of the findings `check INPUTS --format json` still reports in `dir`.
fn rules_left(dir: &Path, inputs: &[&str]) -> Vec<String> {
    let (_, json, _) = check(dir, &[inputs, &["--format", "json"]].concat());
    rules_of(&serde_json::from_str(&json).unwrap())
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = graceline().current_dir(dir).arg("check").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A git repository holding `files` (fixture path, name in the repository), committed.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (from, to) in files {
        std::fs::copy(fixture(from), tmp.path().join(to)).unwrap();
    }
    git(tmp.path(), &["init", "-q", "."]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-qm", "inputs", "--allow-empty"]);
    tmp
}

/// Fails, prints a diff, the diff applies with `git apply`, and the same check is then clean.
fn round_trip(dir: &Path, inputs: &[&str]) -> String {
    let (code, _, err) = check(dir, inputs);
    assert_eq!(code, 1, "{err}");
    let mut args = inputs.to_vec();
    args.push("--fix-diff");
    let (code, diff, err) = check(dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(diff.starts_with("--- a/"), "{diff}");
    std::fs::write(dir.join("fix.diff"), &diff).unwrap();
    git(dir, &["apply", "--check", "fix.diff"]);
    git(dir, &["apply", "fix.diff"]);
    let (code, out, err) = check(dir, inputs);
    assert_eq!(code, 0, "after the diff:\n{out}{err}\n{diff}");
    // Nothing left to change.
    let (_, again, err) = check(dir, &args);
    assert!(again.is_empty() && err.contains("nothing to change"), "{again}{err}");
    diff
}

#[test]
fn a_scenario_files_server_is_fixed_in_place() {
    if !have_git() {
        return;
    }
    let tmp = repo(&[("seed-openshift-aws.toml", "seed.toml")]);
    let diff = round_trip(tmp.path(), &["seed.toml"]);
    // The typical tier: 30 s detection + 40 s propagation + 5 s margin; the 135 s grace period
    // already drains 1m15s + 60 s, so it stays.
    assert!(
        diff.contains("-shutdown_delay = \"30s\"\n+shutdown_delay = \"1m15s\"\n"),
        "{diff}"
    );
    assert!(!diff.contains("+termination_grace_period"), "{diff}");
}

#[test]
fn a_kube_apiserver_manifest_gets_the_flag_and_the_grace_period() {
    if !have_git() {
        return;
    }
    let tmp = repo(&[
        ("inputs/corpus/conditions/haproxy.cfg", "haproxy.cfg"),
        ("inputs/kubeadm-ha/kube-apiserver.yaml", "kube-apiserver.yaml"),
    ]);
    let inputs = ["haproxy.cfg", "kube-apiserver.yaml"];
    // The paste-ready fix beside each finding, in the manifest's own syntax.
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains(
            "= fix: add after line 18 of kube-apiserver.yaml:\n             - --shutdown-delay-duration=11s\n"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "= fix: add after line 15 of kube-apiserver.yaml:\n           terminationGracePeriodSeconds: 71\n"
        ),
        "{table}"
    );
    let (_, json, _) = check(tmp.path(), &["haproxy.cfg", "kube-apiserver.yaml", "--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let gl001 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL001")
        .unwrap();
    assert_eq!(gl001["fix"][0]["file"], "kube-apiserver.yaml");
    assert_eq!(gl001["fix"][0]["action"], "insert_after");
    assert_eq!(gl001["fix"][0]["text"], "    - --shutdown-delay-duration=11s");
    let diff = round_trip(tmp.path(), &inputs);
    assert!(diff.contains("+  terminationGracePeriodSeconds: 71\n"), "{diff}");
    assert!(
        diff.contains("     - kube-apiserver\n+    - --shutdown-delay-duration=11s\n"),
        "{diff}"
    );
}

#[test]
fn fix_diff_needs_inputs_and_says_when_nothing_can_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = check(dir.path(), &["--fix-diff"]);
    assert_eq!(code, 2);
    assert!(err.contains("--fix-diff changes your files"), "{err}");
    // A built-in server profile has no file to change, and a GCP Service no health-check
    // annotation.
    let (code, out, err) = check(
        &crate::support::root().join("tests/fixtures"),
        &["inputs/gcp/service.yaml", "--fix-diff"],
    );
    assert_eq!(code, 0);
    assert!(out.is_empty() && err.contains("nothing to change"), "{out}{err}");
}

#[test]
fn a_deployment_gets_its_prestop_sleep_and_grace_period() {
    if !have_git() {
        return;
    }
    // No preStop: a lifecycle.preStop.sleep is added to the container, the grace period to the pod.
    let tmp = repo(&[("inputs/kubernetes-paths/web-no-prestop.yaml", "web.yaml")]);
    let (_, table, _) = check(tmp.path(), &["web.yaml"]);
    assert!(table.contains("= fix: add after line 18 of web.yaml:\n"), "{table}");
    let diff = round_trip(tmp.path(), &["web.yaml"]);
    assert!(
        diff.contains(
            "       - name: web\n+        lifecycle:\n+          preStop:\n+            sleep:\n+              seconds: 9\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("     spec:\n+      terminationGracePeriodSeconds: 34\n"),
        "{diff}"
    );
    // A preStop sleep too short and a grace period too short: both numbers replaced in place.
    let tmp = repo(&[]);
    let text = std::fs::read_to_string(fixture("inputs/kubernetes-paths/web-prestop-10s.yaml"))
        .unwrap()
        .replace("sleep 10", "sleep 2")
        .replace("terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 20");
    std::fs::write(tmp.path().join("web.yaml"), text).unwrap();
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-qm", "short"]);
    let diff = round_trip(tmp.path(), &["web.yaml"]);
    assert!(
        diff.contains("-              command: [\"sh\", \"-c\", \"sleep 2\"]\n+              command: [\"sh\", \"-c\", \"sleep 9\"]\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-      terminationGracePeriodSeconds: 20\n+      terminationGracePeriodSeconds: 34\n"),
        "{diff}"
    );
}

/// A git repository holding `files` (name, text), committed.
fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = repo(&[]);
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-qm", "inputs"]);
    tmp
}

/// The fixture `from` with each `(old, new)` replaced (every old must be there).
fn fixture_with(from: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(fixture(from)).unwrap();
    for (old, new) in edits {
        assert!(text.contains(old), "{from}: {old}");
        text = text.replace(old, new);
    }
    text
}

/// The first Service of the AWS fixture without its selector (no workload behind it, so the NLB's
/// own check of the pod decides) and without its health-check annotations: TCP checks every 10 s.
fn nlb_without_selector(annotations: &[(&str, &str)]) -> String {
    let text = std::fs::read_to_string(fixture("inputs/aws/service-lbc-nlb.yaml")).unwrap();
    let first = text.split("\n---\n").next().unwrap().to_string();
    let mut out: Vec<String> = Vec::new();
    for l in first.lines() {
        if l.contains("aws-load-balancer-healthcheck-") || l.contains("target-group-attributes") {
            continue;
        }
        if l.trim() == "selector:" || l.trim() == "app: kube-apiserver" {
            continue;
        }
        out.push(l.to_string());
        if l.contains("nlb-target-type: ip") {
            for (k, v) in annotations {
                out.push(format!("    service.beta.kubernetes.io/aws-load-balancer-{k}: {v}"));
            }
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn an_nlb_service_with_tcp_checks_gets_https_readyz_annotations() {
    if !have_git() {
        return;
    }
    let tmp = repo_with(&[("svc.yaml", &nlb_without_selector(&[]))]);
    let inputs = ["svc.yaml", "--server", "kube-apiserver-openshift-aws"];
    // GL003 (and the GL001 it causes, and GL006) carry the annotations in the Service's syntax.
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains("= fix: add after line 9 of svc.yaml:\n            service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol: HTTPS\n            service.beta.kubernetes.io/aws-load-balancer-healthcheck-path: /readyz\n"),
        "{table}"
    );
    let diff = round_trip(tmp.path(), &inputs);
    assert_eq!(
        diff,
        "--- a/svc.yaml\n+++ b/svc.yaml\n@@ -7,6 +7,9 @@\n   name: kube-apiserver\n   namespace: hcp-demo\n   annotations:\n+    service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol: HTTPS\n+    service.beta.kubernetes.io/aws-load-balancer-healthcheck-path: /readyz\n+    service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: target_health_state.unhealthy.connection_termination.enabled=false,target_health_state.unhealthy.draining_interval_seconds=191\n     service.beta.kubernetes.io/aws-load-balancer-type: external\n     service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n     service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing\n"
    );
    // Nothing of GL001/GL003/GL006 is left (GL020, the tail's warning, and GL033 may be).
    let rules = rules_left(tmp.path(), &inputs);
    assert!(
        !rules.iter().any(|r| ["GL001", "GL003", "GL006"].contains(&r.as_str())),
        "{rules:?}"
    );
}

#[test]
fn an_nlb_service_too_slow_to_detect_gets_the_printed_threshold() {
    if !have_git() {
        return;
    }
    let svc = nlb_without_selector(&[
        ("healthcheck-protocol", "HTTPS"),
        ("healthcheck-path", "/readyz"),
        ("healthcheck-interval", "\"30\""),
        ("healthcheck-unhealthy-threshold", "\"3\""),
        (
            "target-group-attributes",
            "target_health_state.unhealthy.connection_termination.enabled=false",
        ),
    ]);
    let tmp = repo_with(&[("svc.yaml", &svc)]);
    // A built-in server has no file: the fix is the first alternative GL001 prints.
    let inputs = ["svc.yaml", "--server", "kube-apiserver-openshift-aws"];
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains("or detect faster: unhealthy_threshold = 2 (worst case 1m40s)")
            && table.contains("= fix: replace line 15 of svc.yaml:\n             service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: \"2\"\n"),
        "{table}"
    );
    let diff = round_trip(tmp.path(), &inputs);
    assert!(
        diff.contains("-    service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: \"3\"\n+    service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: \"2\"\n"),
        "{diff}"
    );
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    assert_eq!(added, 1, "{diff}");
}

#[test]
fn an_azure_service_checks_the_node_so_the_pods_prestop_is_the_fix() {
    if !have_git() {
        return;
    }
    // cloud-provider-azure probes the node (NodePort under Cluster policy): the pod leaves the
    // load balancer through kube-proxy's path, whose fix is the pod's, never an annotation.
    let text = fixture_with(
        "inputs/one-model/azure-cluster.yaml",
        &[
            ("seconds: 15", "seconds: 2"),
            ("terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: 20"),
        ],
    );
    let tmp = repo_with(&[("shop.yaml", &text)]);
    let diff = round_trip(tmp.path(), &["shop.yaml"]);
    assert!(
        diff.contains("-              seconds: 2\n+              seconds: 9\n"),
        "{diff}"
    );
    assert!(!diff.contains("azure-load-balancer"), "{diff}");
}

#[test]
fn an_haproxy_tcp_check_gets_option_httpchk_and_check_ssl() {
    if !have_git() {
        return;
    }
    let tmp = repo(&[("inputs/corpus/split/10-api.cfg", "haproxy.cfg")]);
    let inputs = ["haproxy.cfg", "--server", "kube-apiserver-openshift"];
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains("= fix: add after line 5 of haproxy.cfg:\n          option httpchk GET /readyz\n  = fix: replace line 7 of haproxy.cfg:\n          server cp1 192.168.0.11:6443 check check-ssl verify none\n"),
        "{table}"
    );
    let diff = round_trip(tmp.path(), &inputs);
    assert_eq!(
        diff,
        "--- a/haproxy.cfg\n+++ b/haproxy.cfg\n@@ -3,6 +3,7 @@\n   bind *:8443\n   default_backend apiserverbackend\n backend apiserverbackend\n+  option httpchk GET /readyz\n   balance roundrobin\n-  server cp1 192.168.0.11:6443 check\n-  server cp2 192.168.0.12:6443 check\n+  server cp1 192.168.0.11:6443 check check-ssl verify none\n+  server cp2 192.168.0.12:6443 check check-ssl verify none\n"
    );
}

#[test]
fn a_slow_haproxy_check_gets_the_printed_fall_on_its_default_server_line() {
    if !have_git() {
        return;
    }
    let cfg = fixture_with(
        "inputs/corpus/conditions/haproxy.cfg",
        &[
            ("inter \"${CHECK_INTER-2s}\" fall 3\n.if", "inter 20s fall 5\n.if"),
            ("inter \"${CHECK_INTER-2s}\" fall 3\n.endif", "inter 20s fall 5\n.endif"),
        ],
    );
    let tmp = repo_with(&[("haproxy.cfg", &cfg)]);
    let inputs = ["haproxy.cfg", "--server", "kube-apiserver-openshift"];
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(table.contains("or detect faster: fall = 3 (worst case 1m)"), "{table}");
    let diff = round_trip(tmp.path(), &inputs);
    // One edit per server line: the fall token replaced where it was written.
    assert!(
        diff.contains("-  server cp1 10.0.0.1:6443 check check-ssl verify none inter 20s fall 5\n+  server cp1 10.0.0.1:6443 check check-ssl verify none inter 20s fall 3\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+  server cp2 10.0.0.2:6443 check check-ssl verify none inter 20s fall 3\n"),
        "{diff}"
    );
}

#[test]
fn a_shell_prestop_gets_its_sleep_and_another_hook_is_said_not_written() {
    if !have_git() {
        return;
    }
    // `sh -c` without a sleep: `sleep N; ` is put in front of the script.
    let text = fixture_with(
        "inputs/kubernetes-paths/prestop-script.yaml",
        &[("sleep 5; nginx -s quit", "nginx -s quit")],
    );
    let tmp = repo_with(&[("nginx.yaml", &text)]);
    let diff = round_trip(tmp.path(), &["nginx.yaml"]);
    assert!(
        diff.contains("-              command: [\"/bin/sh\", \"-c\", \"nginx -s quit\"]\n+              command: [\"/bin/sh\", \"-c\", \"sleep 9; nginx -s quit\"]\n"),
        "{diff}"
    );
    // An httpGet hook: the finding says the diff cannot write it, and the diff leaves it alone.
    let text = fixture_with(
        "inputs/kubernetes-paths/prestop-script.yaml",
        &[(
            "exec:\n              command: [\"/bin/sh\", \"-c\", \"sleep 5; nginx -s quit\"]",
            "httpGet:\n              path: /drain\n              port: 80",
        )],
    );
    let tmp = repo_with(&[("nginx.yaml", &text)]);
    let (code, table, _) = check(tmp.path(), &["nginx.yaml"]);
    assert_eq!(code, 1, "{table}");
    assert!(
        table.contains("= fix: not in --fix-diff (line 22 of nginx.yaml): the preStop hook is not a shell script"),
        "{table}"
    );
    let (code, diff, err) = check(tmp.path(), &["nginx.yaml", "--fix-diff"]);
    assert_eq!(code, 0);
    assert!(!diff.contains("httpGet") && !diff.contains("preStop"), "{diff}{err}");
}

#[test]
fn a_blind_haproxy_check_and_its_kube_apiserver_are_fixed_together() {
    if !have_git() {
        return;
    }
    // The TCP check sees readiness once it is `option httpchk GET /readyz` over TLS; the delay the
    // manifest then needs is judged against that check (2 s x 3 + margin: 11 s).
    let tmp = repo(&[
        ("inputs/corpus/split/10-api.cfg", "haproxy.cfg"),
        ("inputs/kubeadm-ha/kube-apiserver.yaml", "kube-apiserver.yaml"),
    ]);
    let inputs = ["haproxy.cfg", "kube-apiserver.yaml"];
    let (_, json, _) = check(tmp.path(), &["haproxy.cfg", "kube-apiserver.yaml", "--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let gl001 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL001")
        .unwrap();
    let texts: Vec<&str> = gl001["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"    - --shutdown-delay-duration=11s") && texts.contains(&"  option httpchk GET /readyz"),
        "{texts:?}"
    );
    let diff = round_trip(tmp.path(), &inputs);
    assert!(
        diff.contains(" backend apiserverbackend\n+  option httpchk GET /readyz\n")
            && diff.contains("+  server cp2 192.168.0.12:6443 check check-ssl verify none\n")
            && diff.contains("     - kube-apiserver\n+    - --shutdown-delay-duration=11s\n")
            && diff.contains("+  terminationGracePeriodSeconds: 71\n"),
        "{diff}"
    );
}

#[test]
fn an_haproxy_matcher_accepting_500_gets_status_200_399() {
    if !have_git() {
        return;
    }
    let cfg = fixture_with(
        "inputs/corpus/conditions/haproxy.cfg",
        &[(
            "  option httpchk GET /readyz\n",
            "  option httpchk GET /readyz\n  http-check expect rstatus ^[2345]\n",
        )],
    );
    let tmp = repo_with(&[("haproxy.cfg", &cfg)]);
    // The 500 of a failing /readyz passes the check (GL003, and the GL001 it causes): one edit
    // fixes both.
    let inputs = ["haproxy.cfg", "--server", "kube-apiserver-openshift"];
    let (_, json, _) = check(
        tmp.path(),
        &[
            "haproxy.cfg",
            "--server",
            "kube-apiserver-openshift",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    for rule in ["GL001", "GL003"] {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap();
        assert_eq!(f["fix"][0]["text"], "  http-check expect status 200-399", "{f}");
        assert_eq!(f["fix"][0]["action"], "replace", "{f}");
    }
    let diff = round_trip(tmp.path(), &inputs);
    assert!(
        diff.contains("-  http-check expect rstatus ^[2345]\n+  http-check expect status 200-399\n"),
        "{diff}"
    );
}

/// A scenario file's NLB that checks over TCP, its server named by a built-in profile (no file to
/// change).
const TCP_SCENARIO: &str = "name = \"tcp\"

[[lb]]
name = \"nlb\"
profile = \"aws-nlb\"
protocol = \"tcp\"   # plain TCP
interval = \"10s\"
";

#[test]
fn a_scenario_lb_table_with_a_tcp_check_gets_https_readyz() {
    if !have_git() {
        return;
    }
    let tmp = repo_with(&[("tcp.toml", TCP_SCENARIO)]);
    let inputs = ["tcp.toml", "--server", "kube-apiserver-openshift-aws"];
    // GL003 (and the GL001 it causes) carry the keys in TOML: the value replaced in place (its
    // comment kept), the profile's path added after `profile =` (with GL006's key beside it).
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains("= fix: replace line 6 of tcp.toml:\n        protocol = \"https\"   # plain TCP\n  = fix: add after line 5 of tcp.toml:\n        path = \"/readyz\"\n        connection_termination = false\n"),
        "{table}"
    );
    let (_, json, _) = check(tmp.path(), &[inputs.as_slice(), &["--format", "json"]].concat());
    let v: Value = serde_json::from_str(&json).unwrap();
    let gl003 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL003")
        .unwrap();
    assert_eq!(gl003["fix"][0]["action"], "replace", "{gl003}");
    assert_eq!(gl003["fix"][0]["text"], "protocol = \"https\"   # plain TCP", "{gl003}");
    let diff = round_trip(tmp.path(), &inputs);
    assert_eq!(
        diff,
        "--- a/tcp.toml\n+++ b/tcp.toml\n@@ -3,5 +3,7 @@\n [[lb]]\n name = \"nlb\"\n profile = \"aws-nlb\"\n-protocol = \"tcp\"   # plain TCP\n+path = \"/readyz\"\n+connection_termination = false\n+protocol = \"https\"   # plain TCP\n interval = \"10s\"\n"
    );
    // Nothing of GL001/GL003/GL006 is left.
    let rules = rules_left(tmp.path(), &inputs);
    assert!(
        !rules.iter().any(|r| ["GL001", "GL003", "GL006"].contains(&r.as_str())),
        "{rules:?}"
    );
}

#[test]
fn a_slow_scenario_lb_table_gets_the_printed_threshold() {
    if !have_git() {
        return;
    }
    let text = "# An NLB checking /readyz slowly: 30 s x 3 before the target turns unhealthy.
name = \"slow\"

[[lb]]
  name = \"nlb\"
  profile = \"aws-nlb\"
  protocol = \"https\"
  path = \"/readyz\"
  interval = \"30s\"
  unhealthy_threshold = 3 # set by hand
  connection_termination = false
";
    let tmp = repo_with(&[("slow.toml", text)]);
    // A built-in server has no file: the fix is the first alternative GL001 prints.
    let inputs = ["slow.toml", "--server", "kube-apiserver-openshift-aws"];
    let (_, table, _) = check(tmp.path(), &inputs);
    assert!(
        table.contains("or detect faster: unhealthy_threshold = 2 (worst case 1m40s)")
            && table
                .contains("= fix: replace line 10 of slow.toml:\n          unhealthy_threshold = 2 # set by hand\n"),
        "{table}"
    );
    let diff = round_trip(tmp.path(), &inputs);
    assert!(
        diff.contains("-  unhealthy_threshold = 3 # set by hand\n+  unhealthy_threshold = 2 # set by hand\n"),
        "{diff}"
    );
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    assert_eq!(added, 1, "{diff}");
}

#[test]
fn a_scenario_files_haproxy_table_and_server_are_fixed_together() {
    if !have_git() {
        return;
    }
    // HAProxy checks /healthz (GL003): the table's path replaced; the server's delay, judged
    // against the fixed check, and the grace period it needs are both added under `[server]`.
    let tmp = repo(&[("kubeadm-haproxy.toml", "kubeadm-haproxy.toml")]);
    let diff = round_trip(tmp.path(), &["kubeadm-haproxy.toml"]);
    assert!(
        diff.contains(
            " [server]\n+shutdown_delay = \"25s\"\n+termination_grace_period = \"1m25s\"\n profile = \"kube-apiserver\"\n"
        ),
        "{diff}"
    );
    assert!(diff.contains("-path = \"/healthz\"\n+path = \"/readyz\"\n"), "{diff}");
    assert!(!diff.contains("inter ") && !diff.contains("fall 3"), "{diff}");
}
