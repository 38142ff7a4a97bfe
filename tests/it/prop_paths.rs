//! Property tests of the Kubernetes paths: the recommended preStop passes and one second less
//! does not; sampled last sends stay inside [best, worst]; a passing path never fails in samples.

use graceline::error::Loc;
use graceline::paths::figures::Stage;
use graceline::paths::{analyze, sample, Path, PathKind, PathVerdict, Start, Target};
use graceline::scenario::k8s::Prestop;
use graceline::scenario::{server_from_profile, ServerSource};
use graceline::time::Micros;
use proptest::prelude::*;

fn at() -> Loc {
    Loc {
        file: "p.yaml".into(),
        line: 1,
        column: 1,
    }
}

fn target(prestop: Micros, delay: Micros, grace: Micros) -> Target {
    let (mut server, _) = server_from_profile("app-stops-at-sigterm", &at()).unwrap();
    server.prestop_sleep = prestop;
    server.shutdown_delay = delay;
    server.termination_grace_period = grace;
    Target {
        kind: "Deployment".into(),
        name: "ns/app".into(),
        file: "p.yaml".into(),
        container: "app".into(),
        container_loc: at(),
        grace_loc: at(),
        grace_defaulted: false,
        prestop: Prestop::Sleep {
            duration: prestop,
            loc: at(),
        },
        server,
        server_source: ServerSource {
            origin: "test".into(),
            assumed: true,
            reason: "test".into(),
        },
        delay_loc: None,
        apiserver: false,
        readiness: None,
        probe: None,
        sidecar: false,
        istio_proxy: None,
    }
}

fn path(ranges: &[(i64, i64)]) -> Path {
    Path {
        kind: PathKind::KubeProxy,
        name: "p".into(),
        service: "ns/svc".into(),
        loc: at(),
        stages: ranges
            .iter()
            .enumerate()
            .map(|(i, &(lo, len))| {
                Stage::computed(
                    &format!("s{i}"),
                    "stage".into(),
                    Micros::from_millis(lo),
                    Micros::from_millis(lo + len),
                    graceline::profiles::Evidence::Documented,
                    "test".into(),
                )
            })
            .collect(),
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        lbs: Vec::new(),
        alternative: None,
        notes: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn recommended_prestop_passes_and_one_second_less_does_not(
        ranges in prop::collection::vec((0i64..60_000, 0i64..200_000), 1..7),
        delay_ms in 0i64..60_000,
        margin_ms in 0i64..30_000,
    ) {
        let p = path(&ranges);
        let delay = Micros::from_millis(delay_ms);
        let margin = Micros::from_millis(margin_ms);
        let r = analyze(&target(Micros::ZERO, delay, Micros::from_secs(100_000)), &p, margin);
        let rec = r.recommended_prestop.unwrap();
        let grace = r.recommended_grace.unwrap();
        let ok = analyze(&target(rec, delay, grace), &p, margin);
        prop_assert_eq!(ok.verdict, PathVerdict::Pass, "{:?}", ok.findings);
        prop_assert!(ok.margin.unwrap() >= margin);
        prop_assert!(graceline::paths::target_findings(&ok.target).is_empty());
        if rec >= Micros::from_secs(1) {
            let less = analyze(&target(rec - Micros::from_secs(1), delay, grace), &p, margin);
            prop_assert_ne!(less.verdict, PathVerdict::Pass);
        }
    }

    #[test]
    fn samples_stay_inside_the_exact_range(
        ranges in prop::collection::vec((0i64..10_000, 0i64..20_000), 1..6),
        prestop_s in 0i64..60,
        seed in 0u64..1000,
    ) {
        let p = path(&ranges);
        let r = analyze(&target(Micros::from_secs(prestop_s), Micros::ZERO, Micros::from_secs(600)), &p, Micros::from_secs(5));
        let d = sample::sample(&r, 2_000, seed).unwrap();
        for q in d.last_send {
            prop_assert!(q >= r.last_send_best && q <= r.last_send_worst.unwrap());
        }
        if r.verdict == PathVerdict::Pass {
            prop_assert_eq!(d.p_fail, 0.0);
        }
        if r.last_send_best >= r.stop_listening {
            prop_assert_eq!(d.p_fail, 1.0);
        }
    }
}
