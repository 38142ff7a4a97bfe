//! Golden SARIF and JUnit outputs for realistic inputs (kubeadm + HAProxy, OpenShift's AWS NLB plan),
//! as insta snapshots: a change in what CI systems receive shows up as a reviewed diff.

use crate::support::{graceline, root, sarif_schema_errors};

fn run(args: &[&str]) -> String {
    let out = graceline().arg("check").args(args).output().unwrap();
    assert!(out.status.code() == Some(1) || out.status.code() == Some(0), "{out:?}");
    // The repository root's absolute URI (SARIF originalUriBaseIds) differs per checkout.
    let root = format!("file://{}/", root().display());
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(&root, "file:///REPOSITORY-ROOT/")
}

const KUBEADM: [&str; 2] = [
    "tests/fixtures/inputs/kubeadm-ha/haproxy.cfg",
    "tests/fixtures/inputs/kubeadm-ha/kube-apiserver.yaml",
];
const AWS: [&str; 3] = [
    "tests/fixtures/inputs/aws/openshift-nlb.tfplan.json",
    "--server",
    "kube-apiserver-openshift-aws",
];

/// Asserts the SARIF 2.1.0 schema (tests/fixtures/sarif-schema-2.1.0.json) accepts `text`.
fn valid_sarif(text: &str) -> &str {
    let errors = sarif_schema_errors(&serde_json::from_str(text).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    text
}

#[test]
fn sarif_kubeadm_haproxy() {
    insta::assert_snapshot!(valid_sarif(&run(&[&KUBEADM[..], &["--format", "sarif"]].concat())));
}

#[test]
fn junit_kubeadm_haproxy() {
    insta::assert_snapshot!(run(&[&KUBEADM[..], &["--format", "junit"]].concat()));
}

#[test]
fn sarif_openshift_aws_plan() {
    insta::assert_snapshot!(valid_sarif(&run(&[
        &AWS[..],
        &["--format", "sarif", "--fail-on", "warning"]
    ]
    .concat())));
}

#[test]
fn junit_openshift_aws_plan() {
    insta::assert_snapshot!(run(&[&AWS[..], &["--format", "junit", "--fail-on", "warning"]].concat()));
}
