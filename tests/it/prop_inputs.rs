//! Fuzzing every input reader with proptest: arbitrary text, mutated real fixtures and
//! structure-aware Services, plans and manifests must give a result or a located error, never
//! a panic, and whatever they accept must build and analyze without a panic either.
//! `PROPTEST_CASES=20000 cargo test --release --test it prop_inputs::` runs a long campaign; every
//! input that once crashed is kept in tests/fuzz_regressions/ and replayed by `regressions`.

use graceline::analysis::analyze;
use graceline::error::{InputError, Loc};
use graceline::input::{self, haproxy, k8s, manifest, project, terraform, yaml, Cloud};
use graceline::scenario::{build_lb, server_from_profile, LbInput, Scenario, ServerSource};
use proptest::prelude::*;
use std::path::Path;

const FIXTURES: &[(&str, &str)] = &[
    ("haproxy", include_str!("../fixtures/inputs/kubeadm-ha/haproxy.cfg")),
    (
        "yaml",
        include_str!("../fixtures/inputs/kubeadm-ha/kube-apiserver.yaml"),
    ),
    (
        "yaml",
        include_str!("../fixtures/inputs/openshift/kube-apiserver-pod.yaml"),
    ),
    ("yaml", include_str!("../fixtures/inputs/aws/service-lbc-nlb.yaml")),
    ("yaml", include_str!("../fixtures/inputs/azure/service.yaml")),
    ("yaml", include_str!("../fixtures/inputs/gcp/service.yaml")),
    ("json", include_str!("../fixtures/inputs/aws/openshift-nlb.tfplan.json")),
    (
        "json",
        include_str!("../fixtures/inputs/gcp/openshift-gcp.tfstate.json"),
    ),
    (
        "json",
        include_str!("../fixtures/inputs/azure/openshift-azure.tfplan.json"),
    ),
    ("toml", include_str!("../fixtures/inputs/project/graceline.toml")),
];

/// Every located error must point inside the file it names.
fn check_loc(e: &InputError, text: &str) {
    assert!(e.loc.line >= 1 && e.loc.column >= 1, "{e}");
    let b = text.as_bytes();
    let breaks = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count();
    assert!(e.loc.line as usize <= breaks + 2, "{e}");
}

/// Builds and analyzes whatever a reader accepted, against a short and a long server.
fn analyze_all(lbs: &[LbInput]) {
    for server in ["kube-apiserver", "kube-apiserver-openshift-aws"] {
        let at = Loc {
            file: "builtin".into(),
            line: 1,
            column: 1,
        };
        let (spec, locs) = server_from_profile(server, &at).unwrap();
        for i in lbs {
            if let Ok(lb) = build_lb(i, &spec) {
                let sc = Scenario {
                    name: "fuzz".into(),
                    file: "fuzz".into(),
                    server: spec.clone(),
                    server_locs: locs.clone(),
                    lbs: vec![lb.clone()],
                    min_margin: graceline::scenario::DEFAULT_MIN_MARGIN,
                    propagation_tier: Default::default(),
                    server_source: ServerSource {
                        origin: "builtin".into(),
                        assumed: false,
                        reason: "fuzz".into(),
                    },
                    readyz_timeout_probability: graceline::scenario::DEFAULT_TIMEOUT_PROBABILITY,
                    traffic: None,
                    rollout: None,
                    skipped: Vec::new(),
                    target: None,
                };
                let r = analyze(&sc, &lb);
                assert!(r.extremes.worst.time >= r.extremes.best.time);
            }
        }
    }
}

/// Runs one text through every reader of its kind.
fn read_all(kind: &str, text: &str) {
    match kind {
        "haproxy" => match haproxy::lbs("f.cfg", text) {
            Ok(lbs) => analyze_all(&lbs),
            Err(e) => check_loc(&e, text),
        },
        "yaml" => {
            let t = yaml::Text::new("f.yaml", text);
            match yaml::load(&t) {
                Ok(docs) => {
                    for cloud in [None, Some(Cloud::Aws), Some(Cloud::Gcp), Some(Cloud::Azure)] {
                        match k8s::lbs(&t, &docs, cloud) {
                            Ok(lbs) => analyze_all(&lbs),
                            Err(e) => check_loc(&e, text),
                        }
                    }
                    if let Err(e) = manifest::servers(&t, &docs) {
                        check_loc(&e, text);
                    }
                }
                Err(e) => check_loc(&e, text),
            }
        }
        "json" => {
            let t = yaml::Text::new("f.json", text);
            match terraform::lbs(&t) {
                Ok(lbs) => analyze_all(&lbs),
                Err(e) => check_loc(&e, text),
            }
            let _ = terraform::looks_like(text);
        }
        "toml" => {
            let _ = input::is_project(text);
            let _ = project::groups_with(Path::new("/nonexistent/graceline.toml"), text, true);
        }
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn regressions() {
    let dir = crate::support::root().join("tests/fuzz_regressions");
    let mut n = 0;
    for kind in ["haproxy", "yaml", "json", "toml"] {
        let Ok(entries) = std::fs::read_dir(dir.join(kind)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            read_all(kind, &text);
            n += 1;
        }
    }
    assert!(n > 0, "the regression corpus is empty");
}

fn mutated() -> impl Strategy<Value = (&'static str, String)> {
    (
        0..FIXTURES.len(),
        proptest::collection::vec(
            (
                any::<prop::sample::Index>(),
                0usize..6,
                "[ -~\\t\\n\\r\"'{}\\[\\]:,#-]{0,6}",
            ),
            1..5,
        ),
    )
        .prop_map(|(f, edits)| {
            let (kind, base) = FIXTURES[f];
            let mut text = base.to_string();
            for (idx, delete, insert) in edits {
                let mut at = idx.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + delete).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, &insert);
            }
            (kind, text)
        })
}

const ANNOTATION_KEYS: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-type",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path",
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
    "service.beta.kubernetes.io/azure-load-balancer-health-probe-interval",
    "service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe",
    "service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol",
    "service.beta.kubernetes.io/port_6443_health-probe_interval",
    "networking.gke.io/load-balancer-type",
];

const VALUES: &[&str] = &[
    "\"10\"",
    "\"0\"",
    "\"1\"",
    "\"4294967295\"",
    "\"99999999999\"",
    "\"-5\"",
    "10",
    "true",
    "~",
    "\"\"",
    "nlb",
    "external",
    "nlb-ip",
    "ip",
    "HTTPS",
    "Https",
    "tcp",
    "/readyz",
    "readyz",
    "Internal",
    "target_health_state.unhealthy.connection_termination.enabled=maybe",
    "\"a=b,c\"",
];

fn service() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec((0..ANNOTATION_KEYS.len(), 0..VALUES.len()), 0..6),
        prop_oneof![Just("Cluster"), Just("Local"), Just("Nope")],
        prop_oneof![Just("6443"), Just("\"x\""), Just("80\n  - port: 443\n    appProtocol: https")],
    )
        .prop_map(|(anns, etp, port)| {
            let mut seen = std::collections::HashSet::new();
            let mut a = String::new();
            for (k, v) in anns {
                if seen.insert(k) {
                    a.push_str(&format!("    {}: {}\n", ANNOTATION_KEYS[k], VALUES[v]));
                }
            }
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  annotations:\n{a}spec:\n  type: LoadBalancer\n  externalTrafficPolicy: {etp}\n  ports:\n  - port: {port}\n"
            )
        })
}

fn plan() -> impl Strategy<Value = String> {
    let num = prop_oneof![
        Just("10".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("4294967295".to_string()),
        Just("1e3".to_string()),
        Just("\"10\"".to_string()),
        Just("null".to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
    ];
    let proto = prop_oneof![
        Just("\"TCP\""),
        Just("\"HTTP\""),
        Just("\"HTTPS\""),
        Just("\"GENEVE\""),
        Just("\"Tcp\""),
        Just("\"Https\""),
        Just("null"),
        Just("7")
    ];
    (num.clone(), num.clone(), num, proto.clone(), proto, 0..4usize).prop_map(|(i, t, u, p1, p2, ty)| {
        let res = match ty {
            0 => format!(
                r#"{{"address":"aws_lb_target_group.a","mode":"managed","type":"aws_lb_target_group","values":{{"protocol":{p1},"health_check":[{{"interval":{i},"timeout":{t},"unhealthy_threshold":{u},"protocol":{p2},"path":"/readyz"}}]}}}}"#
            ),
            1 => format!(
                r#"{{"address":"google_compute_health_check.a","mode":"managed","type":"google_compute_health_check","values":{{"check_interval_sec":{i},"timeout_sec":{t},"unhealthy_threshold":{u},"https_health_check":[{{"request_path":"/readyz"}}]}}}}"#
            ),
            2 => format!(
                r#"{{"address":"google_compute_http_health_check.a","mode":"managed","type":"google_compute_http_health_check","values":{{"check_interval_sec":{i},"timeout_sec":{t},"unhealthy_threshold":{u}}}}}"#
            ),
            _ => format!(
                r#"{{"address":"azurerm_lb_probe.a","mode":"managed","type":"azurerm_lb_probe","values":{{"interval_in_seconds":{i},"probe_threshold":{u},"protocol":{p1},"request_path":"/readyz"}}}}"#
            ),
        };
        format!(r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[{res}]}}}}}}"#)
    })
}

/// HAProxy lines with valid and invalid knobs. Accepted `fall` values stay at or below 100 and
/// `fastinter` at or below 1 h: the analysis (src/analysis/exact.rs `completion_relative`,
/// src/analysis/recommend.rs) is quadratic in `fall` and scans `fastinter` in 100 ms steps, so
/// `fall 10000` or `fastinter 24d` take 10 s to minutes per LB (also from scenario files).
fn haproxy_cfg() -> impl Strategy<Value = String> {
    let timer = prop_oneof![
        Just("1"),
        Just("0"),
        Just("2s"),
        Just("1ms"),
        Just("1h"),
        Just("1x"),
        Just("100us"),
        Just("2147483648")
    ];
    let timeout = prop_oneof![Just("0"), Just("5s"), Just("24d"), Just("2147483647"), Just("25d")];
    let count = prop_oneof![
        Just("1"),
        Just("0"),
        Just("100"),
        Just("10001"),
        Just("2147483647"),
        Just("x")
    ];
    (timer.clone(), timer, timeout, count.clone(), count, 0u32..60, any::<bool>()).prop_map(
        |(inter, fast, tc, fall, rise, spread, http)| {
            let chk = if http { "    option httpchk GET /readyz\n" } else { "" };
            format!(
                "global\n    spread-checks {spread}\ndefaults\n    timeout check {tc}\nbackend b\n{chk}    server s 10.0.0.1:6443 check check-ssl inter {inter} fastinter {fast} fall {fall} rise {rise}\n"
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_text_never_panics(kind in prop_oneof![Just("haproxy"), Just("yaml"), Just("json"), Just("toml")], text in any::<String>()) {
        read_all(kind, &text);
    }

    #[test]
    fn mutated_fixtures_never_panic((kind, text) in mutated()) {
        read_all(kind, &text);
    }

    #[test]
    fn structured_services_never_panic(text in service()) {
        read_all("yaml", &text);
    }

    #[test]
    fn structured_plans_never_panic(text in plan()) {
        read_all("json", &text);
    }

    #[test]
    fn structured_haproxy_never_panics(text in haproxy_cfg()) {
        read_all("haproxy", &text);
    }
}
