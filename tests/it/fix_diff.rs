//! Issue 18 point 6 on the real binary: every GL001/GL004 finding whose fix is a server setting
//! read from a file carries the fix in that file's own syntax (table and JSON), and `check
//! --fix-diff` prints a unified diff that `git apply` takes, after which `check` is clean.
//! Locally skipped without `git`; with `CI=true` that is a failure.

use crate::support::{fixture, graceline};
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
    // A built-in server profile has no file to change.
    let (code, out, err) = check(
        &crate::support::root().join("tests/fixtures"),
        &["inputs/kubeadm-ha/haproxy.cfg", "--fix-diff"],
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
