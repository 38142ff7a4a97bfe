//! Loader robustness: any input gives a scenario or a located error, never a panic or a hang,
//! and every scenario that loads can be analyzed.

use graceline::analysis::analyze;
use graceline::scenario::load_str;
use proptest::prelude::*;

const BASE: &str = include_str!("../fixtures/seed-openshift-aws.toml");

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"0s\"".to_string()),
        Just("\"-5s\"".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("\"99999999h\"".to_string()),
        Just("\"1m30s\"".to_string()),
        Just("\"500ms\"".to_string()),
        Just("true".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("\"\"".to_string()),
        Just("\"tcp\"".to_string()),
        Just("\"/healthz\"".to_string()),
        (1u64..100_000).prop_map(|n| n.to_string()),
        (1u64..100_000).prop_map(|n| format!("\"{n}ms\"")),
        "[a-z0-9/\"]{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        if let Err(e) = load_str("fuzz.toml", &text) {
            prop_assert!(e.loc.line >= 1 && e.loc.column >= 1);
            prop_assert!(!e.to_string().contains('\n'), "one-line error: {e}");
        }
    }

    #[test]
    fn every_value_of_every_line_is_handled(line in 0usize..20, v in value(), key in "[a-z_]{1,20}", rename in prop::bool::ANY) {
        let lines: Vec<&str> = BASE.lines().collect();
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            match (i == line % lines.len(), l.split_once(" = ")) {
                (true, Some(_)) if rename => out.push(format!("{key} = {v}")),
                (true, Some((k, _))) => out.push(format!("{k} = {v}")),
                _ => out.push(l.to_string()),
            }
        }
        let text = out.join("\n");
        match load_str("mut.toml", &text) {
            Ok(sc) => {
                for lb in &sc.lbs {
                    let r = analyze(&sc, lb);
                    prop_assert!(r.extremes.best.time <= r.extremes.worst.time);
                }
            }
            Err(e) => {
                prop_assert!(e.loc.line as usize <= out.len() + 1);
                prop_assert!(!e.to_string().contains('\n'), "one-line error: {e}");
            }
        }
    }

    #[test]
    fn random_valid_settings_load_and_analyze(
        interval in 1u32..400, timeout in 1u32..400, u in 0u32..12, delay in 0u32..400, grace in 0u32..600,
        mode in prop::bool::ANY, profile in prop::sample::select(vec!["aws-nlb", "aws-alb", "aws-clb"]),
    ) {
        let text = format!(
            "[server]\nshutdown_delay = \"{delay}s\"\ntermination_grace_period = \"{grace}s\"\nreadyz_failure = \"{}\"\n[[lb]]\nprofile = \"{profile}\"\ninterval = \"{interval}s\"\ntimeout = \"{timeout}s\"\nunhealthy_threshold = {u}\nprotocol = \"https\"\npath = \"/readyz\"\n",
            if mode { "timeout" } else { "error" }
        );
        match load_str("gen.toml", &text) {
            Ok(sc) => {
                let r = analyze(&sc, &sc.lbs[0]);
                prop_assert!(r.extremes.best.time <= r.extremes.worst.time);
                prop_assert_eq!(r.margin, r.budget - r.extremes.worst.time);
            }
            Err(e) => prop_assert!(u == 0, "unexpected error {e}"),
        }
    }
}
