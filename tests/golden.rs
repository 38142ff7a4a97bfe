//! Golden scenarios: the seed's hand analysis and one hand-worked case per provider.

use graceline::analysis::{analyze, findings::Rule, Verdict};
use graceline::scenario::load_str;
use graceline::time::Micros;

fn s(x: f64) -> Micros {
    Micros((x * 1e6).round() as i64)
}

/// (worst, best, verdict, rules) for the first LB of a scenario.
fn run(text: &str) -> (Micros, Micros, Verdict, Vec<Rule>) {
    let sc = load_str("golden.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let r = analyze(&sc, &sc.lbs[0]);
    (
        r.extremes.worst.time,
        r.extremes.best.time,
        r.verdict,
        r.findings.iter().map(|f| f.rule).collect(),
    )
}

fn scenario(server: &str, lb: &str) -> String {
    format!("[server]\nprofile = \"kube-apiserver\"\ntermination_grace_period = \"1h\"\n{server}\n[[lb]]\n{lb}\n")
}

#[test]
fn seed_aws_30s_is_flagged_with_equality() {
    // Detection as the installer's hand analysis has it: P1 passes just before E2; P2 starts at
    // E2+10s and times out at E2+20s; P3 starts at E2+20s and times out at E2+30s: detection 30 s
    // = E3 - E2, so with propagation pinned to 0, E2 + t >= E3 holds with equality.
    let seed = include_str!("fixtures/seed-openshift-aws.toml");
    let (w, b, v, rules) = run(&format!("{seed}propagation_delay = \"0s\"\n"));
    assert_eq!((w, b), (s(30.0), s(20.0)));
    assert_eq!(v, Verdict::Fail);
    assert_eq!(rules[0], Rule::GL001);
    // With the NLB profile's field range [30 s, 240 s]: worst 30 + 240 = 270 s, best 20 + 30 = 50 s.
    let (w, b, v, _) = run(seed);
    assert_eq!((w, b, v), (s(270.0), s(50.0), Verdict::Fail));
}

#[test]
fn openshift_on_aws_with_70s_no_longer_passes() {
    // OpenShift on AWS: NLB HTTPS /readyz 10 s/10 s/2, shutdown delay 70 s. Detection worst 30 s
    // (above); NLB propagation reaches 240 s in the field (profile aws-nlb), so the worst case is
    // 270 s >= 70 s: GL001. Even the low end of the field range (30-40 s, containers-roadmap#470)
    // gives 30 + 40 = 70 s >= 70 s.
    let sc = load_str("70.toml", include_str!("fixtures/seed-openshift-aws-70s.toml")).unwrap();
    let r = analyze(&sc, &sc.lbs[0]);
    assert_eq!(r.extremes.worst.time, s(270.0));
    assert_eq!(r.extremes.worst.detection, s(30.0));
    assert_eq!(r.margin, s(-200.0));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.findings.iter().any(|f| f.rule == Rule::GL001));
    // The user's own 40 s: 30 + 40 = 70 s = budget: still GL001 (equality).
    let text = format!(
        "{}propagation_delay = \"40s\"\n",
        include_str!("fixtures/seed-openshift-aws-70s.toml")
    );
    let (w, _, v, _) = run(&text);
    assert_eq!((w, v), (s(70.0), Verdict::Fail));
}

#[test]
fn openshift_on_gcp_with_70s_no_longer_passes() {
    // OpenShift on GCP: 2 s/2 s/3, timeout mode: detection [6 s, 8 s); GCP propagation [59 s, 61 s]
    // (OCPBUGS-61674): worst 8 + 61 = 69 s, best 6 + 59 = 65 s; budget 70 s, margin 1 s < 5 s: GL002.
    let lb = "profile = \"gcp\"\ncheck_interval = \"2s\"\ntimeout = \"2s\"\nunhealthy_threshold = 3\nprotocol = \"https\"\npath = \"/readyz\"";
    let (w, b, v, rules) = run(&scenario("shutdown_delay = \"70s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b), (s(69.0), s(65.0)));
    assert_eq!(v, Verdict::Warn);
    assert!(rules.contains(&Rule::GL002));
}

#[test]
fn aws_alb_controller_defaults() {
    // AWS Load Balancer Controller ingress defaults: interval 15 s, timeout 5 s, threshold 2.
    // /readyz answers 500 at once: the first failing probe starts in [E2, E2+15s), the second
    // 15 s later and fails at once: t in [15 s, 30 s). If it hangs: + 5 s timeout -> [20 s, 35 s).
    let lb = "profile = \"aws-alb\"\ninterval = \"15s\"\ntimeout = \"5s\"\nunhealthy_threshold = 2\npath = \"/readyz\"";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"60s\"", lb));
    assert_eq!((w, b), (s(30.0), s(15.0)));
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"60s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b), (s(35.0), s(20.0)));
}

#[test]
fn aws_clb_in_tree_defaults() {
    // cloud-provider-aws CLB defaults: interval 10 s, timeout 5 s, unhealthy 6 (aws_loadbalancer.go).
    // Error mode: 6 failing probes 10 s apart -> [50 s, 60 s); a 70 s delay leaves 10 s.
    // CLB propagation is unknown: 0 s with GL007 as a warning naming it.
    let lb = "profile = \"aws-clb\"\ninterval = \"10s\"\ntimeout = \"5s\"\nunhealthy_threshold = 6\nprotocol = \"https\"\npath = \"/readyz\"";
    let (w, b, v, rules) = run(&scenario("shutdown_delay = \"70s\"", lb));
    assert_eq!((w, b, v, rules), (s(60.0), s(50.0), Verdict::Warn, vec![Rule::GL007]));
    let (_, _, v, _) = run(&scenario(
        "shutdown_delay = \"70s\"",
        &format!("{lb}\npropagation_delay = \"0s\""),
    ));
    assert_eq!(v, Verdict::Pass);
}

#[test]
fn gcp_openshift_values_match_six_to_eight_seconds() {
    // OpenShift on GCP: interval 2 s, timeout 2 s, thresholds 3 -> "6-8s to notice failure"
    // (openshift/installer#3512). Error: [4 s, 6 s); timeout: [6 s, 8 s); + 10 s propagation.
    // Detection only: propagation pinned to 0 (the profile's 59-61 s is tested above).
    let lb =
        "profile = \"gcp\"\ncheck_interval = \"2s\"\ntimeout = \"2s\"\nunhealthy_threshold = 3\npath = \"/readyz\"\npropagation_delay = \"0s\"";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"", lb));
    assert_eq!((w, b), (s(6.0), s(4.0)));
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b), (s(8.0), s(6.0)));
    let (w, _, _, _) = run(&scenario(
        "shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"",
        &lb.replace("\"0s\"", "\"10s\""),
    ));
    assert_eq!(w, s(18.0));
}

#[test]
fn azure_timeout_is_min_of_interval_and_30s() {
    // CAPZ API probe: HTTPS /readyz every 15 s, probeThreshold 1. A hanging probe fails after
    // min(15, 30) = 15 s: t in [15 s, 30 s) -> flagged against a 30 s budget (equality).
    let lb =
        "profile = \"azure-lb\"\ninterval = \"15s\"\nprobe_threshold = 1\nprotocol = \"https\"\npath = \"/readyz\"";
    let (w, b, v, _) = run(&scenario("shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b, v), (s(30.0), s(15.0), Verdict::Fail));
    // Interval 60 s: the timeout is capped at 30 s -> [30 s, 90 s).
    let lb60 = lb.replace("\"15s\"", "\"60s\"");
    let (w, b, _, _) = run(&scenario(
        "shutdown_delay = \"120s\"\nreadyz_failure = \"timeout\"",
        &lb60,
    ));
    assert_eq!((w, b), (s(90.0), s(30.0)));
    // Error mode with threshold 2 every 5 s: [5 s, 10 s).
    let lb5 =
        "profile = \"azure-lb\"\ninterval = \"5s\"\nprobe_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"", lb5));
    assert_eq!((w, b), (s(10.0), s(5.0)));
}

#[test]
fn haproxy_fastinter_and_spread_checks() {
    // inter 2 s, fastinter 500 ms, fall 3, /readyz 500 at once. The last pass ends just before E2,
    // the first failure starts up to 2 s later, then two more 500 ms apart: [1 s, 3 s).
    let lb = "profile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"500ms\"\nfall = 3\nprotocol = \"http\"\npath = \"/readyz\"";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"", lb));
    assert_eq!((w, b), (s(3.0), s(1.0)));
    // spread-checks 10: waits jitter by ±200 ms (inter) and ±50 ms (fastinter):
    // worst 2.2 + 2 × 0.55 = 3.3 s, best 2 × 0.45 = 0.9 s.
    let (w, b, _, _) = run(&scenario(
        "shutdown_delay = \"30s\"",
        &format!("{lb}\nspread_checks = 10"),
    ));
    assert_eq!((w, b), (s(3.3), s(0.9)));
    // timeout check 1 s below inter 2 s on a server that never answers: HAProxy 2.6 ends each
    // silent check after 1 s to 2 s (its check timer, measured in tests/haproxy_real.rs):
    // best 0 + 1 + 0.5 + 1 + 0.5 + 1 = 4 s, worst 2 + 2 + 0.5 + 2 + 0.5 + 2 = 9 s.
    let (w, b, _, _) = run(&scenario(
        "shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"",
        &format!("{lb}\ntimeout_check = \"1s\""),
    ));
    assert_eq!((w, b), (s(9.0), s(4.0)));
    // With timeout connect 500 ms the timer wakes before 1 s and each failure takes exactly 1 s:
    // s1 in [0, 2), +1 +0.5, +1 +0.5, +1 -> [4 s, 6 s).
    let (w, b, _, _) = run(&scenario(
        "shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"",
        &format!("{lb}\ntimeout_check = \"1s\"\ntimeout_connect = \"500ms\""),
    ));
    assert_eq!((w, b), (s(6.0), s(4.0)));
}

#[test]
fn haproxy_chain_crossing_e3() {
    // inter 2 s, fall 3, no timeout check (timeout = inter = 2 s), server never answers, E3 = E2 + 5 s.
    // s1 in [0, 2). s2 = s1 + 4: before E3 it hangs 2 s, after E3 it is refused at once.
    // s1 -> 1 s from below: s2 = 5 s - ε hangs until 7 s, s3 = 9 s - ε refused: sup 9 s.
    // s1 = 1 s: s2 = 5 s refused, s3 = 7 s refused: 7 s, the minimum (s1 = 0 gives 8 s).
    let lb = "profile = \"haproxy\"\ninter = \"2s\"\nfall = 3\nprotocol = \"http\"\npath = \"/readyz\"";
    let (w, b, v, _) = run(&scenario("shutdown_delay = \"5s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b, v), (s(9.0), s(7.0), Verdict::Fail));
}

#[test]
fn kubeadm_haproxy_healthz_cannot_see_readiness() {
    // /healthz passes until E3; with no shutdown delay E3 = E2. From E3 checks are refused at
    // once: first within 10 s, second 10 s later (fastinter unset = inter): [10 s, 20 s).
    let (w, b, v, rules) = run(include_str!("fixtures/kubeadm-haproxy.toml"));
    assert_eq!((w, b, v), (s(20.0), s(10.0), Verdict::Fail));
    assert!(rules.contains(&Rule::GL001) && rules.contains(&Rule::GL003) && rules.contains(&Rule::GL004));
}

#[test]
fn pre_118_apiserver_and_app_stopping_at_sigterm_always_fail() {
    let lb =
        "profile = \"gcp\"\ncheck_interval = \"2s\"\ntimeout = \"2s\"\nunhealthy_threshold = 3\npath = \"/readyz\"\npropagation_delay = \"0s\"";
    for server in ["kube-apiserver-pre-1.18", "app-stops-at-sigterm"] {
        // A 70 s delay cannot help: /readyz fails only when the listener closes (pre-1.18), or the
        // server stops listening at SIGTERM.
        let delay = if server == "kube-apiserver-pre-1.18" {
            "shutdown_delay = \"70s\""
        } else {
            ""
        };
        let text = format!("[server]\nprofile = \"{server}\"\n{delay}\n[[lb]]\n{lb}\n");
        let (w, _, v, rules) = run(&text);
        assert_eq!(v, Verdict::Fail, "{server}");
        assert!(rules.contains(&Rule::GL001), "{server}");
        if server == "kube-apiserver-pre-1.18" {
            assert_eq!(w, s(6.0));
        }
    }
}
