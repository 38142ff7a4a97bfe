//! Advice that clears its own finding (issue 15, point 5): over random scenarios of every provider
//! and server profile (kube-apiserver variants and app workloads), at either error tier, applying
//! the values graceline prints for GL001/GL002 (the shutdown delay and, where it names it, the
//! grace period) and for GL020 (the tail's delay and grace period) to the input and checking again
//! gives no GL001, GL002 or GL004 at that tier and no error that was not there before; one second
//! less of the printed delay (or grace period) fails again. The text names the same values as
//! JSON, `recommend` asks for the same grace period, and the "detect faster" alternatives obey
//! `recommend`'s constraints.

use graceline::analysis::findings::{Rule, Severity};
use graceline::analysis::recommend::{alternatives, recommend, SINGLE_FAILURE_TIMEOUT};
use graceline::analysis::{analyze, LbReport};
use graceline::provider::tiers::Tier;
use graceline::scenario::load_str;
use graceline::time::Micros;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// A random scenario: the server's settings and one load balancer's.
#[derive(Debug, Clone)]
struct Case {
    server: &'static str,
    delay_s: i64,
    grace_s: i64,
    prestop_s: i64,
    request_grace_s: Option<i64>,
    hang: bool,
    send_retry_after: bool,
    tail: bool,
    min_margin_s: i64,
    lb: Lb,
}

#[derive(Debug, Clone)]
enum Lb {
    /// aws-nlb, aws-alb or aws-clb: interval, timeout, threshold, HTTPS /readyz or TCP, cross-zone.
    Aws(&'static str, i64, i64, u32, bool, Option<bool>),
    /// gcp: check_interval, timeout, threshold, HTTPS /readyz or TCP.
    Gcp(i64, i64, u32, bool),
    /// azure-lb: interval, threshold, HTTPS /readyz or TCP.
    Azure(i64, u32, bool),
    /// haproxy: inter (ms), fall, timeout check (ms), version, HTTP /readyz or TCP.
    Haproxy(i64, u32, Option<i64>, &'static str, bool),
}

fn lb() -> impl Strategy<Value = Lb> {
    prop_oneof![
        (
            prop_oneof![Just("aws-nlb"), Just("aws-alb"), Just("aws-clb")],
            5i64..=60,
            2i64..=60,
            2u32..=10,
            prop::bool::weighted(0.8),
            prop::option::of(prop::bool::ANY)
        )
            .prop_map(|(p, i, t, u, http, cz)| {
                // ALB and CLB need timeout < interval, the NLB timeout <= interval.
                let t = t.min(i - 1).max(2);
                Lb::Aws(p, i, t, u, http, if p == "aws-nlb" { cz } else { None })
            }),
        (1i64..=30, 1i64..=30, 1u32..=10, prop::bool::weighted(0.8)).prop_map(|(i, t, u, http)| Lb::Gcp(
            i,
            t.min(i),
            u,
            http
        )),
        (5i64..=30, 1u32..=3, prop::bool::weighted(0.8)).prop_map(|(i, u, http)| Lb::Azure(i, u, http)),
        (
            1i64..=20,
            1u32..=5,
            prop::option::of(1i64..=10),
            prop_oneof![Just("2.6"), Just("2.8.16"), Just("3.2.1")],
            prop::bool::weighted(0.8)
        )
            .prop_map(|(i, f, tc, v, http)| Lb::Haproxy(i * 500, f, tc.map(|t| t * 250), v, http)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop_oneof![
                Just("kube-apiserver"),
                Just("kube-apiserver-openshift"),
                Just("kube-apiserver-openshift-aws"),
                Just("kube-apiserver-openshift-gcp"),
                Just("kube-apiserver-pre-1.18"),
                Just("app-stops-at-sigterm"),
            ],
            prop_oneof![0i64..=150, 60i64..=300],
            1i64..=400,
            prop_oneof![Just(0i64), 0i64..=20],
            prop::option::of(0i64..=90),
        ),
        (
            prop::bool::ANY,
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.3),
            0i64..=10,
            lb(),
        ),
    )
        .prop_map(
            |(
                (server, delay_s, grace_s, prestop_s, request_grace_s),
                (hang, send_retry_after, tail, min_margin_s, lb),
            )| {
                Case {
                    server,
                    delay_s,
                    grace_s,
                    prestop_s,
                    request_grace_s,
                    hang,
                    send_retry_after,
                    tail,
                    min_margin_s,
                    lb,
                }
            },
        )
}

/// A case where the tail is likely to warn: an NLB or GCP check of /readyz at the typical tier with
/// a delay around their tails.
fn tail_case() -> impl Strategy<Value = Case> {
    (
        case(),
        prop::bool::ANY,
        60i64..=300,
        (5i64..=30, 2i64..=30, 2u32..=5, prop::option::of(prop::bool::ANY)),
    )
        .prop_map(|(mut c, nlb, delay, (i, t, u, cz))| {
            c.tail = false;
            c.delay_s = delay;
            c.lb = if nlb {
                Lb::Aws("aws-nlb", i, t.min(i), u, true, cz)
            } else {
                Lb::Gcp(i / 5, (t / 5).clamp(1, i / 5), u, true)
            };
            c
        })
}

/// The scenario file of `c` with the shutdown delay and grace period given in microseconds.
fn text(c: &Case, delay: Micros, grace: Micros) -> String {
    let mut t = format!(
        "[server]\nprofile = \"{}\"\nshutdown_delay = \"{}us\"\ntermination_grace_period = \"{}us\"\nprestop_sleep = \"{}s\"\nreadyz_failure = \"{}\"\nsend_retry_after = {}\n",
        c.server,
        delay.0,
        grace.0,
        c.prestop_s,
        if c.hang { "timeout" } else { "error" },
        c.send_retry_after
    );
    if let Some(r) = c.request_grace_s {
        t.push_str(&format!("request_grace = \"{r}s\"\n"));
    }
    t.push_str(&format!(
        "[analysis]\nmin_margin = \"{}s\"\npropagation_tier = \"{}\"\n[[lb]]\nname = \"lb\"\n",
        c.min_margin_s,
        if c.tail { "tail" } else { "typical" }
    ));
    let check = |http: bool, path: &str| {
        if http {
            format!("protocol = \"https\"\npath = \"{path}\"\n")
        } else {
            "protocol = \"tcp\"\n".to_string()
        }
    };
    match &c.lb {
        Lb::Aws(p, i, to, u, http, cz) => {
            t.push_str(&format!(
                "profile = \"{p}\"\ninterval = \"{i}s\"\ntimeout = \"{to}s\"\nunhealthy_threshold = {u}\n{}",
                check(*http, "/readyz")
            ));
            if let Some(cz) = cz {
                t.push_str(&format!("cross_zone = {cz}\n"));
            }
        }
        Lb::Gcp(i, to, u, http) => t.push_str(&format!(
            "profile = \"gcp\"\ncheck_interval = \"{i}s\"\ntimeout = \"{to}s\"\nunhealthy_threshold = {u}\n{}",
            check(*http, "/readyz")
        )),
        Lb::Azure(i, u, http) => t.push_str(&format!(
            "profile = \"azure-lb\"\ninterval = \"{i}s\"\nprobe_threshold = {u}\n{}",
            check(*http, "/readyz")
        )),
        Lb::Haproxy(i, f, tc, v, http) => {
            t.push_str(&format!(
                "profile = \"haproxy\"\ninter = \"{i}ms\"\nfall = {f}\nversion = \"{v}\"\n{}",
                if *http {
                    "protocol = \"http\"\npath = \"/readyz\"\n".to_string()
                } else {
                    "protocol = \"tcp\"\n".to_string()
                }
            ));
            if let Some(tc) = tc {
                t.push_str(&format!("timeout_check = \"{tc}ms\"\n"));
            }
        }
    }
    t
}

fn report(text: &str) -> Result<LbReport, TestCaseError> {
    let sc = load_str("advice.toml", text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    Ok(analyze(&sc, &sc.lbs[0]))
}

fn rules(r: &LbReport) -> Vec<Rule> {
    r.findings.iter().map(|f| f.rule).collect()
}

fn errors(r: &LbReport) -> Vec<Rule> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule)
        .collect()
}

/// Applies a printed fix (a delay and a grace period, each only where it is raised) and checks
/// that `cleared` is gone with no GL001/GL002/GL004 and no new error, and that one second less
/// of what was raised brings a finding back.
fn follow(c: &Case, before: &LbReport, delay: Micros, grace: Micros, cleared: Rule) -> Result<(), TestCaseError> {
    let (d0, g0) = (Micros::from_secs(c.delay_s), Micros::from_secs(c.grace_s));
    let (d1, g1) = (d0.max(delay), g0.max(grace));
    let fixed_text = text(c, d1, g1);
    let after = report(&fixed_text)?;
    let now = rules(&after);
    for r in [cleared, Rule::GL001, Rule::GL002, Rule::GL004] {
        prop_assert!(
            !now.contains(&r),
            "{r:?} after following the fix for {cleared:?} (delay {d1}, grace {g1}): {:?}\nbefore: {:?}\n{fixed_text}",
            after.findings,
            before.findings
        );
    }
    let old = errors(before);
    prop_assert!(
        errors(&after).iter().all(|e| old.contains(e)),
        "a new error after following the fix: {:?}\n{fixed_text}",
        after.findings
    );
    let second = Micros::from_secs(1);
    if d1 > d0 {
        let less = report(&text(c, d1 - second, g1))?;
        prop_assert!(
            rules(&less)
                .iter()
                .any(|r| [cleared, Rule::GL001, Rule::GL002].contains(r)),
            "a delay 1 s below the printed {d1} passes: {:?}\n{fixed_text}",
            less.findings
        );
    }
    if g1 > g0 {
        let less = report(&text(c, d1, g1 - second))?;
        prop_assert!(
            rules(&less)
                .iter()
                .any(|r| [cleared, Rule::GL001, Rule::GL002, Rule::GL004].contains(r)),
            "a grace period 1 s below the printed {g1} passes: {:?}\n{fixed_text}",
            less.findings
        );
    }
    Ok(())
}

/// The finding's text names every setting that must change, with the values JSON gives.
fn names(message: &str, delay: bool, d: Micros, grace: bool, g: Micros, t: &str) -> Result<(), TestCaseError> {
    if delay {
        prop_assert!(
            message.contains(&format!("shutdown_delay >= {d}")),
            "the text does not name the delay {d}: {message}\n{t}"
        );
    }
    if grace {
        prop_assert!(
            message.contains(&format!("(terminationGracePeriodSeconds) >= {g}")),
            "the text does not name the grace period {g}: {message}\n{t}"
        );
    }
    Ok(())
}

/// How often each kind of fix was followed (the property must exercise all of them).
#[derive(Debug, Default)]
struct Followed {
    error_tier: u32,
    grace_only: u32,
    tail: u32,
}

/// The property for one case.
fn check_case(c: &Case, n: &mut Followed) -> Result<(), TestCaseError> {
    let (d0, g0) = (Micros::from_secs(c.delay_s), Micros::from_secs(c.grace_s));
    let t = text(c, d0, g0);
    let r = report(&t)?;
    let has = |rule: Rule| r.findings.iter().find(|f| f.rule == rule);
    // GL001/GL002 at the error tier: the delay and grace period of JSON, named in the text.
    if let Some(f) = has(Rule::GL001).or_else(|| has(Rule::GL002)) {
        if let Some(d) = r.recommended_shutdown_delay {
            let g = r
                .recommended_termination_grace_period
                .expect("a grace period with the delay");
            names(&f.message, d > d0, d, g > g0, g, &t)?;
            follow(c, &r, d, g, f.rule)?;
            n.error_tier += 1;
        }
    } else if has(Rule::GL004).is_some() {
        // The drain alone: the grace period JSON gives for the current delay.
        if let Some(g) = r.recommended_termination_grace_period {
            follow(c, &r, d0, g, Rule::GL004)?;
            n.grace_only += 1;
        }
    }
    // GL020: the tail's delay and grace period, from the tier's JSON figures.
    if let Some(f) = has(Rule::GL020) {
        let tail = r
            .tiers
            .iter()
            .find(|t| t.tier == Tier::Tail)
            .expect("GL020 has a tail tier");
        if let (Some(d), Some(g)) = (
            tail.recommended_shutdown_delay,
            tail.recommended_termination_grace_period,
        ) {
            names(&f.message, d > d0, d, g > g0, g, &t)?;
            follow(c, &r, d, g, Rule::GL020)?;
            n.tail += 1;
        }
    }
    // "Detect faster" never proposes what recommend refuses by default: a threshold of 1 with a
    // probe timeout of 2 s or less.
    let sc = load_str("advice.toml", &t).unwrap();
    let lb = &sc.lbs[0];
    for a in alternatives(&sc, lb) {
        if a.key == lb.provider.threshold_key() && a.value == "1" {
            prop_assert!(lb.model.view.timeout > SINGLE_FAILURE_TIMEOUT, "{a:?}\n{t}");
        }
    }
    Ok(())
}

#[test]
fn following_the_printed_fix_clears_its_finding() {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let n = std::cell::RefCell::new(Followed::default());
    runner
        .run(&prop_oneof![3 => case(), 1 => tail_case()], |c| {
            check_case(&c, &mut n.borrow_mut())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let n = n.into_inner();
    // Each kind of fix is followed in a fair share of the cases, so the property is exercised.
    assert!(n.error_tier >= 30 && n.grace_only >= 3 && n.tail >= 3, "{n:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// `recommend` asks for the same delay and grace period as `check` (one drain formula,
    /// send-retry-after's 2 s included).
    #[test]
    fn recommend_and_check_ask_for_the_same_grace_period(c in case()) {
        let t = text(&c, Micros::from_secs(c.delay_s), Micros::from_secs(c.grace_s));
        let r = report(&t)?;
        let sc = load_str("advice.toml", &t).unwrap();
        let rec = recommend(&sc, &sc.lbs[0]);
        prop_assert_eq!(rec.min_shutdown_delay, r.recommended_shutdown_delay, "{}", t);
        prop_assert_eq!(rec.termination_grace_period_needed, r.recommended_termination_grace_period, "{}", t);
    }
}
