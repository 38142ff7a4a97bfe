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
    let seed = include_str!("../fixtures/seed-openshift-aws.toml");
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
    let sc = load_str("70.toml", include_str!("../fixtures/seed-openshift-aws-70s.toml")).unwrap();
    let r = analyze(&sc, &sc.lbs[0]);
    assert_eq!(r.extremes.worst.time, s(270.0));
    assert_eq!(r.extremes.worst.detection, s(30.0));
    assert_eq!(r.margin, s(-200.0));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.findings.iter().any(|f| f.rule == Rule::GL001));
    // The user's own 40 s: 30 + 40 = 70 s = budget: still GL001 (equality).
    let text = format!(
        "{}propagation_delay = \"40s\"\n",
        include_str!("../fixtures/seed-openshift-aws-70s.toml")
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
    // Error mode with threshold 2 every 5 s: Azure marks the instance down on the first non-200
    // "regardless of configured time-out threshold" (probeThreshold counts timeouts), so the first
    // failing probe decides: it starts at p in [0 s, 5 s) after E2 and answers 500 at once
    // -> [0 s, 5 s) (the conservative reading gave [5 s, 10 s)).
    let lb5 =
        "profile = \"azure-lb\"\ninterval = \"5s\"\nprobe_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"", lb5));
    assert_eq!((w, b), (s(5.0), s(0.0)));
    // Timeout mode, same settings: the threshold counts the hangs (timeout min(5, 30) = 5 s): the
    // second hang ends at p + 5 + 5 < p + 10 -> [10 s, 15 s).
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"", lb5));
    assert_eq!((w, b), (s(15.0), s(10.0)));
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
    // silent check after 1 s to 2 s (its check timer, measured in tests/it/haproxy_real.rs):
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
    let (w, b, v, rules) = run(include_str!("../fixtures/kubeadm-haproxy.toml"));
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

fn findings_of(text: &str) -> Vec<graceline::analysis::findings::Finding> {
    let sc = load_str("golden.toml", text).unwrap_or_else(|e| panic!("{e}"));
    analyze(&sc, &sc.lbs[0]).findings
}

// The NLB cases below pin `propagation_delay = "0s"`: they check the detection arithmetic alone
// (the profile's field range, 30 s to 4 min, is added on top and tested above).
#[test]
fn nlb_http_default_timeout_is_six_seconds() {
    // NLB HTTP /readyz, interval 10 s, threshold 2, no timeout: AWS applies 6 s for HTTP (10 s only
    // for TCP/HTTPS). Timeout mode: the first failing probe starts at p in [0, 10) after E2 and
    // hangs until p + 6; the second starts at p + 10 and hangs until p + 16 -> [16 s, 26 s).
    let lb = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"http\"\npath = \"/readyz\"\nconnection_termination = false";
    let (w, b, _, rules) = run(&scenario("shutdown_delay = \"70s\"\nreadyz_failure = \"timeout\"", lb));
    assert_eq!((w, b), (s(26.0), s(16.0)));
    assert!(!rules.contains(&Rule::GL005), "{rules:?}");
    // HTTPS: 10 s -> the second probe hangs until p + 20 -> [20 s, 30 s).
    let (w, _, _, _) = run(&scenario(
        "shutdown_delay = \"70s\"\nreadyz_failure = \"timeout\"",
        &lb.replace("\"http\"", "\"https\""),
    ));
    assert_eq!(w, s(30.0));
    // Interval 6 s with the 6 s HTTP default: timeout <= interval holds, no GL005.
    let rules = run(&scenario("shutdown_delay = \"70s\"", &lb.replace("\"10s\"", "\"6s\""))).3;
    assert!(!rules.contains(&Rule::GL005), "{rules:?}");
}

#[test]
fn matchers_that_accept_500_are_blind() {
    // kube-apiserver's failing /readyz answers 500; a matcher of 200-599 counts it as healthy, so
    // the check fails only at E3 (refused): the worst case is the budget 30 s plus one interval's
    // phase, 30 + 10 = 40 s (two refused probes at 30 + p and 40 + p... the first at the first
    // start >= E3, the second an interval later: [40 s, 50 s) with threshold 2) -> GL001 + GL003.
    let lb = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\nmatcher = \"200-599\"";
    let (w, b, v, rules) = run(&scenario("shutdown_delay = \"30s\"", lb));
    assert_eq!((w, b), (s(50.0), s(40.0)));
    assert_eq!(v, Verdict::Fail);
    assert!(rules.contains(&Rule::GL003), "{rules:?}");
    let f = findings_of(&scenario("shutdown_delay = \"30s\"", lb));
    let g = f.iter().find(|f| f.rule == Rule::GL003).unwrap();
    assert!(
        g.message.contains("200-599") && g.message.contains("500"),
        "{}",
        g.message
    );
    assert_eq!(g.loc.line, 13);
    // 200-399 rejects the 500: the check sees readiness; error mode, threshold 2: the second
    // failing probe answers at p + 10 -> worst 20 s.
    let (w, _, _, rules) = run(&scenario("shutdown_delay = \"30s\"", &lb.replace("200-599", "200-399")));
    assert_eq!(w, s(20.0));
    assert!(!rules.contains(&Rule::GL003));
    // HAProxy `http-check expect rstatus ^[2345]` accepts 500 as well.
    let hap = "profile = \"haproxy\"\nprotocol = \"https\"\npath = \"/readyz\"\nmatcher = \"rstatus ^[2345]\"";
    let rules = run(&scenario("shutdown_delay = \"30s\"", hap)).3;
    assert!(rules.contains(&Rule::GL003), "{rules:?}");
    let rules = run(&scenario("shutdown_delay = \"30s\"", &hap.replace("^[2345]", "^[23]"))).3;
    assert!(!rules.contains(&Rule::GL003), "{rules:?}");
    // A hanging /readyz still fails the check whatever the matcher: not blind in timeout mode.
    let rules = run(&scenario("shutdown_delay = \"30s\"\nreadyz_failure = \"timeout\"", hap)).3;
    assert!(!rules.contains(&Rule::GL003), "{rules:?}");
}

#[test]
fn bad_matchers_are_input_errors() {
    for (m, want) in [
        ("200-", "not an HTTP status code"),
        ("abc", "not an HTTP status code"),
        ("399-200", "reversed"),
        ("rstatus ^[2345]", "takes HTTP codes"),
    ] {
        let lb = format!("profile = \"aws-nlb\"\npropagation_delay = \"0s\"\nprotocol = \"https\"\npath = \"/readyz\"\nmatcher = \"{m}\"");
        let e = load_str("golden.toml", &scenario("", &lb)).unwrap_err();
        assert!(e.message.contains(want), "{m}: {e}");
        assert_eq!((e.loc.line, e.field.as_str()), (10, "lb[0].matcher"), "{m}: {e}");
    }
    // ALB accepts 200-499 only, NLB 200-599.
    let alb = "profile = \"aws-alb\"\ninterval = \"10s\"\npath = \"/readyz\"\nmatcher = \"200-599\"";
    let e = load_str("golden.toml", &scenario("", alb)).unwrap_err();
    assert!(e.message.contains("from 200 to 499"), "{e}");
    // GCP and Azure accept only 200: no matcher setting.
    let gcp = "profile = \"gcp\"\nmatcher = \"200\"";
    let e = load_str("golden.toml", &scenario("", gcp)).unwrap_err();
    assert!(e.message.contains("is not a gcp setting"), "{e}");
}

#[test]
fn readiness_paths_as_kube_apiserver_serves_them() {
    // /readyz/shutdown is the shutdown check itself: it fails at E2 like /readyz (error mode,
    // 10 s interval, threshold 2: p + 10 -> 20 s worst); /readyz?exclude=shutdown never fails
    // before E3 (refused from E3 = 30 s: [40 s, 50 s)).
    let lb = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz/shutdown\"\nconnection_termination = false";
    let (w, _, _, rules) = run(&scenario("shutdown_delay = \"30s\"", lb));
    assert_eq!(w, s(20.0));
    assert!(!rules.contains(&Rule::GL003));
    let (w, _, v, rules) = run(&scenario(
        "shutdown_delay = \"30s\"",
        &lb.replace("/readyz/shutdown", "/readyz?exclude=shutdown"),
    ));
    assert_eq!((w, v), (s(50.0), Verdict::Fail));
    assert!(rules.contains(&Rule::GL003));
    let f = findings_of(&scenario(
        "shutdown_delay = \"30s\"",
        &lb.replace("/readyz/shutdown", "/readyz?exclude=shutdown"),
    ));
    assert!(f
        .iter()
        .any(|f| f.rule == Rule::GL003 && f.message.contains("shutdown check is excluded")));
}

#[test]
fn probes_end_with_the_process() {
    // Delay 15 s, request grace 2 s: E3 = 15 s, E5 = 17 s. NLB 10/10/2, /readyz hangs. First
    // failing probe at p in [0, 10). p < 5: the second starts at p + 10 < 15, hangs and is reset at
    // E5 = 17 s -> 17 s. p >= 5: the first ends at min(p + 10, 17) and the second starts at or
    // after E3, refused at p + 10 -> [15 s, 20 s). Without the cut p < 5 ran to p + 20 -> 25 s.
    let lb = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false";
    let (w, b, _, _) = run(&scenario(
        "shutdown_delay = \"15s\"\nrequest_grace = \"2s\"\nreadyz_failure = \"timeout\"",
        lb,
    ));
    assert_eq!((w, b), (s(20.0), s(15.0)));
}

#[test]
fn sigkill_fix_names_the_grace_period() {
    // Delay 70 s, but SIGKILL at 30 s: E3 = 30 s. NLB 10/10/2 timeout mode needs 30 s + margin 5 s;
    // the delay already suffices, so the fix is terminationGracePeriodSeconds >= 70 + 60 = 130 s.
    let text = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\ntermination_grace_period = \"30s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"\nconnection_termination = false\n";
    let f = findings_of(text);
    let g = f.iter().find(|f| f.rule == Rule::GL001).expect("GL001");
    assert!(
        g.message
            .contains("termination_grace_period (terminationGracePeriodSeconds) >= 2m10s"),
        "{}",
        g.message
    );
    assert!(!g.message.contains("fix: shutdown_delay"), "{}", g.message);
}

#[test]
fn send_retry_after_keeps_listener_checks_passing() {
    // send-retry-after: after E3 (30 s) the listener stays open until the drain ends, at most
    // request_grace 60 s later (E3 + 60 = 90 s). A TCP check (10 s, threshold 2) therefore fails
    // first at the first start >= 90 s: [100 s, 110 s) after E2, where without the mode it was
    // [40 s, 50 s).
    let lb = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"tcp\"\nconnection_termination = false";
    let (w, b, _, _) = run(&scenario("shutdown_delay = \"30s\"", lb));
    assert_eq!((w, b), (s(50.0), s(40.0)));
    let (w, b, v, rules) = run(&scenario("shutdown_delay = \"30s\"\nsend_retry_after = true", lb));
    assert_eq!((w, b, v), (s(110.0), s(100.0), Verdict::Fail));
    assert!(rules.contains(&Rule::GL003));
    let f = findings_of(&scenario("shutdown_delay = \"30s\"\nsend_retry_after = true", lb));
    let g = f.iter().find(|f| f.rule == Rule::GL001).unwrap();
    assert!(g.message.contains("429 with Retry-After"), "{}", g.message);
    // A check of a non-exempt path whose matcher rejects 429 fails from E3: [40 s, 50 s) again.
    let http = "profile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\nprotocol = \"https\"\npath = \"/version\"\nconnection_termination = false";
    let (w, _, _, _) = run(&scenario("shutdown_delay = \"30s\"\nsend_retry_after = true", http));
    assert_eq!(w, s(50.0));
    // /readyz keeps failing with 500 through the drain: unchanged 20 s worst (error mode).
    let readyz = http.replace("/version", "/readyz");
    assert_eq!(
        run(&scenario("shutdown_delay = \"30s\"\nsend_retry_after = true", &readyz)).0,
        s(20.0)
    );
}

#[test]
fn azure_limits_are_sourced() {
    // cloud-provider-azure refuses interval x probes >= 120 s: 60 s x 2 = 120 s is GL005; the
    // interval minimum is 5 s; 119 s x 1 is accepted.
    let lb =
        "profile = \"azure-lb\"\ninterval = \"60s\"\nprobe_threshold = 2\nprotocol = \"https\"\npath = \"/readyz\"";
    let f = findings_of(&scenario("shutdown_delay = \"300s\"", lb));
    let g = f.iter().find(|f| f.rule == Rule::GL005).expect("GL005");
    assert!(g.message.contains("below 2m"), "{}", g.message);
    let rules = run(&scenario("shutdown_delay = \"300s\"", &lb.replace("\"60s\"", "\"4s\""))).3;
    assert!(rules.contains(&Rule::GL005));
    let ok = lb
        .replace("\"60s\"", "\"119s\"")
        .replace("probe_threshold = 2", "probe_threshold = 1");
    assert!(!run(&scenario("shutdown_delay = \"300s\"", &ok))
        .3
        .contains(&Rule::GL005));
}
