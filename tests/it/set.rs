//! Issue 18 point 5 on the real binary: `--set` changes the loaded model on every command that
//! judges inputs, each override listed with its origin; bad keys and values exit 2 with a
//! did-you-mean.

use crate::support::{fixture_rel, graceline};
use serde_json::Value;

fn multi() -> String {
    fixture_rel("multi-lb.toml")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = graceline().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn worst(v: &Value, lb: &str) -> f64 {
    v["results"].as_array().unwrap().iter().find(|r| r["lb"] == lb).unwrap()["worst_case_s"]
        .as_f64()
        .unwrap()
}

#[test]
fn check_changes_the_model_and_lists_the_override() {
    let m = multi();
    let (_, plain, _) = run(&["check", &m, "--format", "json"]);
    let (code, set, err) = run(&["check", &m, "--format", "json", "--set", "lb[haproxy-*].inter=2s"]);
    assert_eq!(code, 1, "{err}");
    let (plain, set): (Value, Value) = (
        serde_json::from_str(&plain).unwrap(),
        serde_json::from_str(&set).unwrap(),
    );
    // haproxy-healthz checks /healthz, which fails at E3 (30 s): then fall 2 x inter 10 s = 50 s;
    // with inter 2 s, 34 s.
    assert_eq!(worst(&plain, "haproxy-healthz"), 50.0);
    assert_eq!(worst(&set, "haproxy-healthz"), 34.0);
    // Only the LB the pattern matches.
    assert_eq!(worst(&plain, "nlb-external"), worst(&set, "nlb-external"));
    let o = &set["overrides"];
    assert_eq!(o[0]["set"], "lb[haproxy-*].inter=2s");
    assert_eq!(o[0]["subject"], "haproxy-healthz");
    assert!(plain.get("overrides").is_none());
    // A server setting: the budget (E3 - E2) follows, the value it replaced is said.
    let (_, set, _) = run(&["check", &m, "--format", "json", "--set", "server.shutdown_delay=1m"]);
    let set: Value = serde_json::from_str(&set).unwrap();
    assert_eq!(set["results"][0]["budget_s"], 60.0);
    assert_eq!(plain["results"][0]["budget_s"], 30.0);
    assert_eq!(set["overrides"][0]["key"], "shutdown_delay");
    assert_eq!(set["overrides"][0]["was"], "30s");
    // SARIF carries it in the run's properties, and stays valid.
    let (_, sarif, _) = run(&["check", &m, "--format", "sarif", "--set", "lb[haproxy-*].inter=2s"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        sarif["runs"][0]["properties"]["overrides"][0]["set"],
        "lb[haproxy-*].inter=2s"
    );
    assert_eq!(crate::support::sarif_schema_errors(&sarif), Vec::<String>::new());
    // The table says it above the tables.
    let (_, table, _) = run(&["check", &m, "--set", "server.shutdown_delay=5m"]);
    assert!(
        table
            .starts_with("override: server.shutdown_delay=5m (shutdown_delay of server, was 30s; scenario multi-lb)\n"),
        "{table}"
    );
    // The teaching matrix takes it too.
    let (code, table, _) = run(&["check", "--set", "server.shutdown_delay=3m"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("override: server.shutdown_delay=3m"), "{table}");
}

#[test]
fn every_command_takes_set_and_says_it() {
    let m = multi();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("t.svg");
    let report = dir.path().join("r");
    let s = "lb[haproxy-*].inter=2s";
    let cases: Vec<Vec<String>> = vec![
        vec!["explain".into(), m.clone(), "--lb".into(), "haproxy-*".into()],
        vec![
            "simulate".into(),
            m.clone(),
            "--trials".into(),
            "2000".into(),
            "--format".into(),
            "json".into(),
        ],
        vec!["recommend".into(), m.clone(), "--format".into(), "json".into()],
        vec![
            "timeline".into(),
            m.clone(),
            "--lb".into(),
            "haproxy-*".into(),
            "--output".into(),
            svg.display().to_string(),
        ],
        vec![
            "report".into(),
            m.clone(),
            "--trials".into(),
            "2000".into(),
            "--output-dir".into(),
            report.display().to_string(),
        ],
        vec!["baseline".into(), m.clone()],
    ];
    for mut args in cases {
        args.extend(["--set".to_string(), s.to_string()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&refs);
        assert!(code == 0, "{args:?}: {code}\n{err}");
        assert!(
            err.contains("override: lb[haproxy-*].inter=2s (inter of haproxy-healthz; scenario multi-lb)"),
            "{args:?}: {err}"
        );
        if args[0] == "explain" {
            // The probe walk checks every 2 s.
            assert!(out.contains("2s"), "{out}");
        }
        if args[0] == "simulate" {
            let v: Value = serde_json::from_str(&out).unwrap();
            let r = v["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["lb"] == "haproxy-healthz")
                .unwrap();
            assert_eq!(r["exact_worst_s"].as_f64().unwrap(), 34.0, "{r}");
        }
    }
    // calibrate: fall 3 -> 6 moves the model's range past the measured 500 ms: exit 1.
    let cal = "tests/cmd/inputs/calibrate";
    let args = |extra: &[&str]| {
        let mut a = vec![
            "calibrate".to_string(),
            format!("{cal}/backend.log"),
            "--scenario".into(),
            format!("{cal}/scenario.toml"),
            "--haproxy-log".into(),
            format!("{cal}/haproxy.log"),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let plain = args(&[]);
    let refs: Vec<&str> = plain.iter().map(String::as_str).collect();
    assert_eq!(run(&refs).0, 0);
    let set = args(&["--set", "lb[hap].fall=6"]);
    let refs: Vec<&str> = set.iter().map(String::as_str).collect();
    let (code, out, err) = run(&refs);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("override: lb[hap].fall=6"), "{err}");
    assert!(out.contains("OUTSIDE"), "{out}");
}

#[test]
fn bad_keys_values_and_patterns_exit_2_in_words() {
    let m = multi();
    let cases = [
        ("server.shutdown_dela=90s", "did you mean \"shutdown_delay\""),
        ("sever.shutdown_delay=90s", "did you mean \"server\""),
        ("server.shutdown_delay=soon", "invalid duration \"soon\""),
        ("server.shutdown_delay=-5s", "negative duration"),
        ("lb[haproxy-*].interval=5s", "did you mean \"inter\""),
        ("lb[haproxy-*].fall=0", "haproxy-healthz: must be at least 1"),
        ("lb[nlb-*].intervall=10s", "did you mean \"interval\""),
        ("lb[db-*].fall=2", "no load balancer matches lb[db-*]"),
        ("server.shutdown_delay", "expected KEY=VALUE"),
    ];
    for (set, want) in cases {
        for cmd in ["check", "simulate"] {
            let (code, out, err) = run(&[cmd, &m, "--set", set]);
            assert_eq!(code, 2, "{cmd} --set {set}: {err}");
            assert!(out.is_empty(), "{out}");
            assert!(
                err.contains(&format!("error: --set {set}: ")) && err.contains(want),
                "{cmd} --set {set}: {err}"
            );
        }
    }
}

/// `check --format json` on a Kubernetes fixture: exit code, every rule raised and the
/// overrides listed.
fn paths_json(file: &str, sets: &[&str]) -> (i32, Vec<String>, Value) {
    let mut args = vec!["check".to_string(), fixture_rel(file), "--format".into(), "json".into()];
    for s in sets {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&refs);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, crate::support::rules_of(&v), v)
}

#[test]
/// Server settings reach the pods of the Kubernetes paths: `prestop_sleep` is the pod's preStop
/// sleep, `termination_grace_period` its terminationGracePeriodSeconds, `shutdown_delay` the
/// app's time from the end of the preStop until it stops listening (a kube-apiserver pod's
/// --shutdown-delay-duration); each pod changed is listed once, with the value it replaced.
fn server_settings_reach_the_kubernetes_paths() {
    // No preStop: kube-proxy sends for up to 4 s after the app stops at its deletion (GL030).
    let (code, rules, _) = paths_json("inputs/kubernetes-paths/web-no-prestop.yaml", &[]);
    assert_eq!(code, 1);
    assert!(rules.contains(&"GL030".to_string()), "{rules:?}");
    for (sets, stops) in [
        (
            ["server.prestop_sleep=20s", "server.termination_grace_period=50s"],
            20.0,
        ),
        (
            ["server.shutdown_delay=20s", "server.termination_grace_period=50s"],
            20.0,
        ),
    ] {
        let (code, rules, v) = paths_json("inputs/kubernetes-paths/web-no-prestop.yaml", &sets);
        assert_eq!((code, rules.clone()), (0, Vec::<String>::new()), "{sets:?}: {v}");
        let path = &v["kubernetes_paths"]["results"][0];
        assert_eq!(path["app_stops_listening_s"], stops, "{path}");
        assert_eq!(path["margin_s"], 16.0, "{path}");
        let o = v["overrides"].as_array().unwrap();
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(o[0]["set"], sets[0]);
        assert_eq!(o[0]["subject"], "Deployment shop/web (container web)");
        assert_eq!(o[0]["was"], "0s");
        assert_eq!(o[1]["key"], "terminationGracePeriodSeconds");
        assert_eq!(o[1]["was"], "30s");
    }
    // The reverse: a 10 s preStop passes; cut to 1 s it fails (GL030), and a grace period below
    // preStop + drain is GL004's SIGKILL.
    let (code, rules, _) = paths_json("inputs/kubernetes-paths/web-prestop-10s.yaml", &[]);
    assert_eq!(code, 0, "{rules:?}");
    let (code, rules, v) = paths_json(
        "inputs/kubernetes-paths/web-prestop-10s.yaml",
        &["server.prestop_sleep=1s"],
    );
    assert_eq!(code, 1);
    assert!(rules.contains(&"GL030".to_string()), "{rules:?}");
    assert_eq!(v["overrides"][0]["key"], "preStop sleep");
    assert_eq!(v["overrides"][0]["was"], "10s");
    let (code, rules, _) = paths_json(
        "inputs/kubernetes-paths/web-prestop-10s.yaml",
        &["server.termination_grace_period=20s"],
    );
    assert_eq!(code, 1);
    assert!(rules.contains(&"GL004".to_string()), "{rules:?}");
    // A kube-apiserver pod: --set on the 0 s manifest judges its path as the 70 s manifest does.
    let path_of = |v: &Value| {
        let r = &v["kubernetes_paths"]["results"][0];
        (
            r["app_stops_listening_s"].clone(),
            r["margin_s"].clone(),
            r["verdict"].clone(),
        )
    };
    let (_, _, seventy) = paths_json("inputs/kubernetes-paths/kube-apiserver-70s.yaml", &[]);
    let (code, _, set) = paths_json(
        "inputs/kubernetes-paths/kube-apiserver-0s.yaml",
        &["server.shutdown_delay=70s", "server.termination_grace_period=135s"],
    );
    assert_eq!(code, 0);
    assert_eq!(path_of(&set), path_of(&seventy));
    assert_eq!(set["overrides"][0]["was"], "0s");
    // The table says it above the paths, as it says an LB's.
    let (_, table, _) = run(&[
        "check",
        &fixture_rel("inputs/kubernetes-paths/web-no-prestop.yaml"),
        "--set",
        "server.prestop_sleep=20s",
    ]);
    assert!(
        table.starts_with(
            "override: server.prestop_sleep=20s (preStop sleep of Deployment shop/web (container web), was 0s; scenario tests/fixtures/inputs/kubernetes-paths/web-no-prestop.yaml)\n"
        ),
        "{table}"
    );
}

#[test]
/// report.md lists every override, with what it changed and the value it replaced, as check does.
fn report_md_lists_the_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "report",
        &multi(),
        &fixture_rel("inputs/kubernetes-paths/web-no-prestop.yaml"),
        "--allow-empty",
        "--trials",
        "2000",
        "--set",
        "server.shutdown_delay=1m",
        "--set",
        "lb[haproxy-*].inter=2s",
        "--output-dir",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    for row in [
        "| `server.shutdown_delay=1m` | shutdown_delay | server | 30s | multi-lb |",
        "| `server.shutdown_delay=1m` | shutdown_delay | Deployment shop/web (container web) | 0s | tests/fixtures/inputs/kubernetes-paths/web-no-prestop.yaml |",
        "| `lb[haproxy-*].inter=2s` | inter | haproxy-healthz | - | multi-lb |",
    ] {
        assert!(md.contains(row), "{row}\n{md}");
    }
    assert!(md.find("**What if**").unwrap() < md.find("## Summary").unwrap());
}
