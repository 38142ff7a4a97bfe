//! One model of every request path, on the real binary: a Service's load balancer is judged
//! through what the cloud really checks, and the load-balancer table and the Kubernetes paths are
//! two views of one result per (workload, load balancer).

use crate::support::{graceline, rules_of};
use serde_json::Value;

fn fx(name: &str) -> String {
    format!("tests/fixtures/inputs/{name}")
}

fn check(args: &[&str], stdin: Option<String>, code: i32) -> Value {
    let mut c = graceline();
    c.args(["check", "--format", "json"]).args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// The path a load balancer's row names, from the same document.
fn path_of<'v>(v: &'v Value, row: &Value) -> &'v Value {
    let name = row["route"]["path"].as_str().expect("the row names its path");
    v["kubernetes_paths"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == name && p["workload"] == row["scenario"])
        .unwrap_or_else(|| panic!("no path {name} in {v}"))
}

/// The sequence: graceline's own fix applied to an `externalTrafficPolicy: Local` NLB
/// (preStop 270 s, grace 300 s) passes, and the load-balancer row and its path say the same.
#[test]
fn following_the_fix_of_a_local_nlb_gives_one_verdict_in_both_tables() {
    let yaml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(fx("kubernetes-paths/local-traffic-aws.yaml")),
    )
    .unwrap()
    .replace("\"sleep\", \"30\"", "\"sleep\", \"69\"")
    .replace("terminationGracePeriodSeconds: 90", "terminationGracePeriodSeconds: 94");
    let v = check(&["-"], Some(yaml), 0);
    let row = &v["results"][0];
    assert_eq!(row["lb"], "default/edge");
    assert_eq!(row["check"], "health-check-node-port");
    assert_eq!(row["times_from"], "pod-deletion");
    let rs = rules_of(&row["findings"]);
    assert!(!rs.iter().any(|r| r == "GL001" || r == "GL003"), "{rs:?}");
    let path = path_of(&v, row);
    assert_eq!(path["family"], "local-traffic");
    assert_eq!(path["verdict"], row["verdict"]);
    // 1 + 0 + 1 + 1 + 1 s of kube-proxy, then the NLB's 10 s x 2 check of the 503 and its typical
    // propagation up to 40 s = 64 s; the app stops listening after its 69 s preStop (the fix
    // graceline prints for the 30 s preStop): margin 5 s, the minimum.
    assert_eq!(row["worst_case_s"], 64.0);
    assert_eq!(row["budget_s"], 69.0);
    assert_eq!(row["margin_s"], 5.0);
    assert_eq!(path["margin_s"], 5.0);
}

/// Instance targets and Cluster policy behind AWS, GCP and Azure: the load balancer checks the
/// node, so no pod-level GL001/GL003; the row says so and carries kube-proxy's path's verdict.
#[test]
fn node_checks_under_cluster_policy_leave_through_kube_proxy() {
    for (file, check_target) in [
        ("one-model/aws-instance-cluster.yaml", "node-port"),
        ("one-model/gcp-cluster.yaml", "kube-proxy-healthz"),
        ("one-model/azure-cluster.yaml", "node-port"),
    ] {
        let v = check(&[&fx(file)], None, 0);
        let row = &v["results"][0];
        assert_eq!(row["check"], check_target, "{file}");
        let rs = rules_of(&row["findings"]);
        assert!(!rs.iter().any(|r| r == "GL001" || r == "GL003"), "{file}: {rs:?}");
        let note = row["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "GL010")
            .unwrap_or_else(|| panic!("{file}: no GL010"));
        let text = note["message"].as_str().unwrap();
        assert!(
            text.contains("checks") && text.contains("via kube-proxy"),
            "{file}: {text}"
        );
        let path = path_of(&v, row);
        assert_eq!(path["family"], "kube-proxy", "{file}");
        assert_eq!(path["verdict"], row["verdict"], "{file}");
        // preStop 15 s against kube-proxy's 4 s: pass with 11 s of margin, from the pod's deletion.
        assert_eq!(row["worst_case_s"], 4.0, "{file}");
        assert_eq!(row["budget_s"], 15.0, "{file}");
    }
}

/// Local policy: one verdict, the node's health check of the healthCheckNodePort.
#[test]
fn local_policy_is_one_verdict_through_the_health_check_node_port() {
    let v = check(&[&fx("one-model/aws-instance-local.yaml")], None, 1);
    let rows = v["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["route"]["kind"], "local-traffic");
    let path = path_of(&v, row);
    assert_eq!(path["verdict"], row["verdict"]);
    assert_eq!(row["verdict"], "fail");
    assert!(rules_of(&path["findings"]).contains(&"GL030".to_string()));
}

/// An app's Service beside a kube-apiserver manifest is judged against the app (its preStop,
/// its grace period), never as fronting kube-apiserver.
#[test]
fn an_app_service_beside_a_kube_apiserver_manifest_is_judged_against_the_app() {
    let v = check(
        &[
            &fx("kubernetes-paths/web-nlb-ip.yaml"),
            &fx("kubernetes-paths/kube-apiserver-70s.yaml"),
            "--no-fail",
        ],
        None,
        0,
    );
    let row = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lb"] == "shop/web")
        .unwrap();
    assert_eq!(row["server"], "app-stops-at-sigterm");
    assert_eq!(row["scenario"], "shop/web");
    // Its own preStop (10 s) is when it stops listening.
    assert_eq!(row["timeline_s"]["e1"], 10.0);
    assert_eq!(row["budget_s"], 10.0);
}

/// Path findings reach every CI format through the same exporters as the load balancers'.
#[test]
fn path_findings_reach_every_format() {
    let input = fx("kubernetes-paths/web-no-prestop.yaml");
    let run = |format: &str| {
        let out = graceline()
            .args(["check", "--format", format, &input])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "GL030"), "{sarif}");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    let junit = run("junit");
    assert!(junit.contains("GL030 path-routes-to-closed-port") && junit.contains("<failure"));
    assert!(run("github").contains("title=GL030 path-routes-to-closed-port"));
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["summary"]["exit_code"], 1);
    assert!(json["kubernetes_paths"]["results"][0]["findings"][0]["rule"] == "GL030");
}

/// What cannot be judged is said once, at its line: a Service whose selector selects nothing, a
/// workload no Service selects, an Ingress naming a missing Service.
#[test]
fn what_cannot_be_judged_is_said_once_at_its_line() {
    let file = fx("one-model/unbound.yaml");
    let v = check(&[&file, "--allow-empty"], None, 0);
    let general = v["kubernetes_paths"]["findings"].as_array().unwrap();
    let at = |line: u64, what: &str| {
        general
            .iter()
            .filter(|f| f["rule"] == "GL033" && f["line"] == line && f["file"] == file.as_str())
            .filter(|f| f["message"].as_str().unwrap().contains(what))
            .count()
    };
    assert_eq!(at(6, "selector app=nothing-here matches no workload"), 1, "{general:?}");
    assert_eq!(
        at(17, "no Service among the inputs selects this Deployment"),
        1,
        "{general:?}"
    );
    assert_eq!(
        at(43, "backend Service web/missing is not among the inputs"),
        1,
        "{general:?}"
    );
    assert_eq!(general.len(), 3, "{general:?}");
    // Without --allow-empty the same three reasons, located, and exit 2.
    graceline()
        .args(["check", &file])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("{file}:6:9: web/orphan")))
        .stderr(predicates::str::contains(format!("{file}:17:9: web/lonely")))
        .stderr(predicates::str::contains(format!("{file}:43:19: web/front")));
}
