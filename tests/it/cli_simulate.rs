//! CLI tests of `simulate` and `recommend` on the real binary: outputs, figures checked against
//! closed forms, determinism across thread counts, and exit code 2 on bad input.

use crate::support::{fixture, graceline, json_ok, write_file};
use predicates::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

/// The installer's seed with propagation pinned to 0: detection alone, for closed forms over phases.
fn seed_detection_only(dir: &tempfile::TempDir) -> PathBuf {
    let text = std::fs::read_to_string(fixture("seed-openshift-aws.toml")).unwrap() + "propagation_delay = \"0s\"\n";
    write_file(dir.path(), "seed-detection.toml", &text)
}

#[test]
fn simulate_seed_matches_the_closed_form_and_stays_below_the_worst_case() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_ok(
        graceline()
            .args(["simulate", "--trials", "200000", "--seed", "3", "--format", "json"])
            .arg(seed_detection_only(&dir)),
    );
    let r = &v["results"][0];
    for key in [
        "trials",
        "p50_s",
        "p90_s",
        "p99_s",
        "p999_s",
        "max_s",
        "mean_s",
        "violation_probability",
        "expected_failed_requests",
        "exact_worst_s",
        "exact_best_s",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["trials"], 200_000);
    assert_eq!(r["exact_worst_s"], 30.0);
    assert_eq!(r["exact_best_s"], 20.0);
    // Three probers, each marked down 20 s + U[0, 10 s) after E2: P(t <= 20 + x) = (x/10)^3.
    let q = |p: f64| 20.0 + 10.0 * p.cbrt();
    for (key, p) in [("p50_s", 0.5), ("p90_s", 0.9), ("p99_s", 0.99)] {
        let got = r[key].as_f64().unwrap();
        assert!((got - q(p)).abs() < 0.05, "{key} {got} vs {}", q(p));
    }
    let max = r["max_s"].as_f64().unwrap();
    assert!(max < 30.0 && max > 29.99, "max {max}");
    assert!((r["mean_s"].as_f64().unwrap() - 27.5).abs() < 0.02);
    assert_eq!(r["violation_probability"], 0.0);
    assert!(r["expected_failed_requests"].is_null());
}

#[test]
fn simulate_is_bit_identical_across_thread_counts_and_changes_with_the_seed() {
    let run = |threads: &str, seed: &str| {
        graceline()
            .env("RAYON_NUM_THREADS", threads)
            .args(["simulate", "--trials", "100000", "--seed", seed, "--format", "json"])
            .arg(fixture("seed-openshift-aws.toml"))
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone()
    };
    let one = run("1", "9");
    assert_eq!(one, run("4", "9"));
    assert_eq!(one, run("3", "9"));
    assert_ne!(one, run("1", "10"));
}

#[test]
fn expected_failed_requests_follow_the_traffic_table() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(seed_detection_only(&dir))
        .unwrap()
        .replace("shutdown_delay = \"30s\"", "shutdown_delay = \"25s\"")
        + "\n[traffic]\nrequests_per_second = 300\nbackends = 3\n";
    let p = write_file(dir.path(), "traffic.toml", &text);
    let v = json_ok(
        graceline()
            .args(["simulate", "--trials", "200000", "--format", "json"])
            .arg(&p),
    );
    let r = &v["results"][0];
    // P(t >= 25 s) = 1 - 0.5^3; E[max(0, t - 25 s)] = 5 - (10^4 - 5^4)/4000 = 2.65625 s; x 100 req/s.
    let pv = r["violation_probability"].as_f64().unwrap();
    assert!((pv - 0.875).abs() < 0.005, "{pv}");
    let efr = r["expected_failed_requests"].as_f64().unwrap();
    assert!((efr - 265.625).abs() < 3.0, "{efr}");
    assert_eq!(r["requests_per_second_per_backend"], 100.0);
}

#[test]
fn simulate_and_recommend_reject_bad_input_with_exit_2() {
    for cmd in ["simulate", "recommend"] {
        graceline()
            .arg(cmd)
            .arg(fixture("bad-zero-interval.toml"))
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "bad-zero-interval.toml:6:12: field `lb[0].interval`: must be positive",
            ));
        graceline().args([cmd, "missing.toml"]).assert().code(2);
        graceline()
            .arg(cmd)
            .arg(fixture("seed-openshift-aws.toml"))
            .args(["--lb", "nope"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("no load balancer matches --lb nope"));
        graceline().arg(cmd).assert().code(2);
    }
    for trials in ["0", "-5", "ten", "100000001"] {
        graceline()
            .args(["simulate", "--trials", trials])
            .arg(fixture("seed-openshift-aws.toml"))
            .assert()
            .code(2);
    }
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("seed-openshift-aws.toml")).unwrap()
        + "[lb.latency]\ndistribution = \"lognormal\"\nmedian = \"5ms\"\np99 = \"50ms\"\nmax = \"10s\"\n";
    let p = write_file(dir.path(), "latency.toml", &text);
    graceline()
        .arg("simulate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            ":25:7: field `lb[0].latency.max`: the slowest answer (10s) must be below the probe timeout",
        ));
}

#[test]
fn recommend_finds_the_least_load_setting_and_the_delay() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_ok(
        graceline()
            .args(["recommend", "--format", "json"])
            .arg(seed_detection_only(&dir)),
    );
    let r = &v["results"][0];
    assert_eq!(r["min_shutdown_delay_s"], 35.0);
    // Timeout mode, threshold 2: worst = 2 I + T; 2 I + 2 s + 5 s margin <= 30 s gives I = 11 s.
    assert_eq!(r["least_load"]["settings"]["interval_s"], 11.0);
    assert_eq!(r["least_load"]["settings"]["timeout_s"], 2.0);
    assert_eq!(r["least_load"]["worst_case_s"], 24.0);
    let front = r["pareto"].as_array().unwrap();
    assert_eq!(front.len(), 295);
    for w in front.windows(2) {
        assert!(w[1]["worst_case_s"].as_f64() < w[0]["worst_case_s"].as_f64());
        assert!(w[1]["probes_per_second"].as_f64() > w[0]["probes_per_second"].as_f64());
    }
    graceline()
        .arg("recommend")
        .arg(seed_detection_only(&dir))
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("least load: interval = 11s, timeout = 2s, unhealthy_threshold = 2")
                .and(predicate::str::contains("shutdown_delay >= 35s"))
                .and(predicate::str::contains("Pareto front")),
        );
}

#[test]
fn recommend_explains_when_nothing_helps_and_is_thread_independent() {
    let run = |threads: &str| {
        graceline()
            .env("RAYON_NUM_THREADS", threads)
            .args(["recommend", "--format", "json"])
            .arg(fixture("kubeadm-haproxy.toml"))
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let v: Value = serde_json::from_slice(&one).unwrap();
    let r = &v["results"][0];
    assert!(r["least_load"].is_null());
    assert!(r["min_shutdown_delay_s"].is_null());
    assert!(r["note"].as_str().unwrap().contains("cannot see /readyz"));
    assert!(r["grid"].as_str().unwrap().contains("100ms steps"));
}

#[test]
fn simulate_samples_the_nlb_propagation_range_and_names_assumptions() {
    // The seed with the NLB's typical propagation [0 s, 40 s] (the error tier): detection is the
    // largest of three 20 s + U[0, 10 s) (mean 27.5 s), propagation U[0, 40 s] (mean 20 s): mean
    // 47.5 s; every sample within [20 + 0, 30 + 40] = [20 s, 70 s]. Budget 30 s: P(d + U >= 30 s)
    // = E[(40 - (30 - d)) / 40] = (10 + 27.5) / 40 = 0.9375. Per tier, from the same detections:
    // the tail (cross-zone off, [83 s, 240 s]) always violates.
    let v = json_ok(
        graceline()
            .args(["simulate", "--trials", "200000", "--seed", "5", "--format", "json"])
            .arg(fixture("seed-openshift-aws.toml")),
    );
    let r = &v["results"][0];
    assert_eq!(r["exact_worst_s"], 70.0);
    assert_eq!(r["exact_best_s"], 20.0);
    let mean = r["mean_s"].as_f64().unwrap();
    assert!((mean - 47.5).abs() < 0.5, "mean {mean}");
    assert!(r["min_s"].as_f64().unwrap() >= 20.0 && r["max_s"].as_f64().unwrap() < 70.0);
    let p = r["violation_probability"].as_f64().unwrap();
    assert!((p - 0.9375).abs() < 0.005, "P {p}");
    assert_eq!(r["propagation_range_s"], serde_json::json!([0.0, 40.0]));
    assert_eq!(r["propagation_tier"], "typical");
    let typical = r["tiers"]["typical"]["violation_probability"].as_f64().unwrap();
    assert!((typical - 0.9375).abs() < 0.005, "typical {typical}");
    assert_eq!(
        r["tiers"]["tail"]["propagation_range_s"],
        serde_json::json!([83.0, 240.0])
    );
    assert_eq!(r["tiers"]["tail"]["violation_probability"], 1.0);
    assert!(r["propagation_source"].as_str().unwrap().contains("field measurements"));
    assert_eq!(r["assumed"][0]["setting"], "probers");
    assert_eq!(r["assumed"][0]["value"], "3");
    // The table names both: tests/cmd/simulate-seed.toml.
}

#[test]
fn haproxy_redispatch_changes_what_clients_see() {
    // kubeadm + HAProxy with a 0 s delay: requests reach the closed port. Without redispatch they
    // fail after retries x 1 s; with it, none fail (measured 40 -> 1 on HAProxy 2.6.12).
    let dir = tempfile::tempdir().unwrap();
    let base = "[server]\nprofile = \"kube-apiserver\"\n[traffic]\nrequests_per_second = 200\nbackends = 2\n[[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\n";
    let run = |text: &str, name: &str| {
        let p = write_file(dir.path(), name, text);
        json_ok(
            graceline()
                .args(["simulate", "--trials", "20000", "--format", "json"])
                .arg(&p),
        )
    };
    let without = run(base, "without.toml");
    let r = &without["results"][0];
    assert_eq!(r["client_view"]["failing_share"], 1.0);
    assert_eq!(r["client_view"]["after_s"], 3.0);
    assert!(r["expected_failed_requests"].as_f64().unwrap() > 100.0);
    let with = run(&format!("{base}redispatch = true\n"), "with.toml");
    let r = &with["results"][0];
    assert_eq!(r["client_view"]["failing_share"], 0.0);
    assert_eq!(r["expected_failed_requests"], 0.0);
    assert!(r["client_view"]["summary"]
        .as_str()
        .unwrap()
        .contains("option redispatch"));
    let p = write_file(dir.path(), "c.toml", base);
    graceline()
        .arg("check")
        .arg(&p)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning[GL019]").and(predicate::str::contains("no option redispatch")));
}

#[test]
fn simulate_of_openshift_129s_prints_p_per_tier_the_typical_one_near_0() {
    // OpenShift on AWS as shipped: 20 s of detection at most; the typical tier (0-40 s) never
    // reaches 129 s, the vendor tier (0-109 s) does only at its very top, the cross-zone-on tail
    // (83-172 s) in most restarts. Main's single uniform draw over 30-240 s gave 0.615.
    let today = crate::support::root().join("reports/openshift-aws/today.toml");
    let v = json_ok(
        graceline()
            .args([
                "simulate", "--trials", "20000", "--seed", "3", "--format", "json", "--lb", "api-int",
            ])
            .arg(&today),
    );
    let t = &v["results"][0]["tiers"];
    let p = |tier: &str| t[tier]["violation_probability"].as_f64().unwrap();
    assert_eq!(p("typical"), 0.0, "{t}");
    assert!(p("vendor") < 0.01, "{t}");
    assert!(p("tail") > 0.5 && p("tail") < 0.9, "{t}");
    let text = crate::support::stdout(
        graceline()
            .args(["simulate", "--trials", "2000", "--lb", "api-int"])
            .arg(&today),
    );
    assert!(
        text.contains("api-int: P(violation) by propagation tier: typical* 0s-40s: 0.0000"),
        "{text}"
    );
}
