//! `graceline rules`: every rule explained through the real binary, its example raising it, the
//! README's rule section equal to the rule table, SARIF's helpUri at the README's headings.

use crate::support::{graceline, stdout_ok};
use graceline::analysis::findings::TABLE;

#[test]
fn every_rule_is_explained_with_its_example_raising_it() {
    for r in &TABLE {
        let out = stdout_ok(&["rules", r.id]);
        assert!(out.contains(&format!("{}[{}] {}", r.severity, r.id, r.name)), "{out}");
        let says = out.split(" says\n").nth(1).expect("the example's findings");
        assert!(
            says.contains(&format!("[{}]", r.id)),
            "the example of {} does not raise it:\n{out}",
            r.id
        );
    }
}

#[test]
fn the_readme_rule_section_is_the_rule_table() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).expect("README");
    let section = readme
        .split("<!-- rules:begin -->\n")
        .nth(1)
        .and_then(|s| s.split("<!-- rules:end -->").next())
        .expect("README holds the rule section between its markers");
    let generated = stdout_ok(&["rules", "--format", "markdown"]);
    assert!(
        section == generated,
        "README's rule section differs from `graceline rules --format markdown`; regenerate it"
    );
}

#[test]
fn sarif_rules_point_at_the_readme_headings() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).expect("README");
    let seed = crate::support::fixture_abs("seed-openshift-aws.toml");
    let out = graceline()
        .args(["check", &seed, "--format", "sarif"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF");
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), TABLE.len());
    for (rule, info) in rules.iter().zip(&TABLE) {
        let uri = rule["helpUri"].as_str().expect("helpUri");
        let anchor = uri.split_once("README.md#").expect("a README anchor").1;
        assert_eq!(anchor, format!("{}-{}", info.id.to_lowercase(), info.name));
        assert!(
            readme.contains(&format!("\n### {} {}\n", info.id, info.name)),
            "{anchor}"
        );
    }
}

#[test]
fn rules_json_lists_every_rule_with_its_parts() {
    let out = graceline().args(["rules", "--format", "json"]).output().expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), TABLE.len());
    for r in rules {
        for key in [
            "id", "name", "severity", "summary", "why", "help", "example", "sources", "help_uri",
        ] {
            assert!(!r[key].is_null(), "{key} in {r}");
        }
    }
}
