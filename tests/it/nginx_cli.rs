//! nginx configurations through the real binary: every output format carries a passive load
//! balancer's verdict, the other commands take it, and bad configurations are located errors.

use crate::support::{check_json, fixture_rel, graceline, sarif_schema_errors, stdout};
use serde_json::Value;

const KUBESPRAY: &str = "inputs/nginx/kubespray/nginx.conf";
const MANIFEST: &str = "inputs/kubeadm-ha/kube-apiserver.yaml";

#[test]
fn every_format_carries_the_passive_findings_of_kubespray_s_nginx() {
    let (conf, manifest) = (fixture_rel(KUBESPRAY), fixture_rel(MANIFEST));
    let v = check_json(&[&conf, &manifest], 1);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "one per control plane");
    for r in results {
        assert_eq!(r["provider"], "nginx");
        let rules = crate::support::rules_of(r);
        for id in ["GL021", "GL023", "GL024"] {
            assert!(rules.iter().any(|x| x == id), "{id} missing in {r}");
        }
        assert!(!rules.iter().any(|x| x == "GL001" || x == "GL003"), "{rules:?}");
    }
    let gl022 = results[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL023")
        .unwrap();
    assert_eq!(
        (gl022["file"].as_str(), gl022["line"].as_u64()),
        (Some(conf.as_str()), Some(32))
    );
    let run = |format: &str| stdout(graceline().args(["check", &conf, &manifest, "--format", format]));
    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    assert!(sarif_schema_errors(&sarif).is_empty());
    let ids: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"GL021") && ids.contains(&"GL023"), "{ids:?}");
    let junit = run("junit");
    assert!(
        junit.contains("GL021 passive-blind-to-readiness") && junit.contains("nginx.conf"),
        "{junit}"
    );
    let github = run("github");
    assert!(
        github.contains("::warning file=") && github.contains("GL023"),
        "{github}"
    );
}

#[test]
fn other_commands_take_an_nginx_configuration() {
    let (conf, manifest) = (fixture_rel(KUBESPRAY), fixture_rel(MANIFEST));
    for args in [
        vec!["explain", &conf, &manifest, "--lb", "*/10.0.0.11:6443"],
        vec!["simulate", &conf, &manifest, "--trials", "1000"],
        vec!["recommend", &conf, &manifest],
    ] {
        let out = graceline().args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("nginx open source sends no health checks"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn bad_configurations_are_located_errors_with_exit_code_2() {
    let dir = crate::support::fixture("inputs/nginx/bad");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let rel = format!(
            "tests/fixtures/inputs/nginx/bad/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let out = graceline().args(["check", &rel]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{rel}: {err}");
        assert!(err.contains(&format!("{rel}:")), "{rel}: {err}");
        n += 1;
    }
    assert!(n >= 10);
}
