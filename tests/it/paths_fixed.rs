//! The Kubernetes paths as Kubernetes runs them (issue 16, "wrong today"): each case on the real
//! binary, with the code or document it follows in a comment.

use crate::support::graceline;
use serde_json::Value;

fn fx(name: &str) -> String {
    format!("tests/fixtures/inputs/kubernetes-paths/{name}")
}

fn check(args: &[&str], code: i32) -> Value {
    let out = graceline()
        .args(["check", "--format", "json"])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn paths(v: &Value) -> Vec<&Value> {
    v["kubernetes_paths"]["results"].as_array().unwrap().iter().collect()
}

fn path<'v>(v: &'v Value, name_part: &str) -> &'v Value {
    paths(v)
        .into_iter()
        .find(|p| p["path"].as_str().unwrap().contains(name_part))
        .unwrap_or_else(|| panic!("no path containing {name_part}: {v}"))
}

fn rules(p: &Value) -> Vec<String> {
    p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn general(v: &Value) -> Vec<&Value> {
    v["kubernetes_paths"]["findings"].as_array().unwrap().iter().collect()
}

/// Point 2: publishNotReadyAddresses keeps terminating pods ready: `ready := publishNotReady ||
/// (serving && !terminating)` (staging/src/k8s.io/endpointslice/utils.go, podToEndpoint), so
/// kube-proxy sends until the Pod object is deleted: a failure no preStop fixes.
#[test]
fn publish_not_ready_addresses_is_never_withdrawn() {
    let v = check(&[&fx("publish-not-ready.yaml")], 1);
    let p = path(&v, "via kube-proxy");
    assert_eq!(p["verdict"], "fail");
    assert_eq!(rules(p), ["GL041"]);
    assert_eq!(p["last_send_worst_s"], Value::Null);
    assert_eq!(p["recommended_prestop_s"], Value::Null);
    assert!(p["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("publishNotReadyAddresses"));
}

/// Point 3: The last endpoint: when every endpoint is terminating kube-proxy keeps sending to the
/// serving ones, for Cluster policy too (KEP-1669, GA 1.28). A StatefulSet of one deletes its pod
/// before the replacement: the pod keeps receiving new connections until its readiness probe fails
/// (periodSeconds 5 x failureThreshold 2 + timeout 1 = 11 s after the app stops listening at its
/// 10 s preStop), then the EndpointSlice and kube-proxy stages (4 s): 10 + 11 + 4 = 25 s. A
/// Deployment of one surges its replacement in a rollout, but a drain deletes its pod: a warning.
#[test]
fn the_last_replica_keeps_receiving_until_its_readiness_probe_fails() {
    let v = check(&[&fx("last-replica.yaml")], 1);
    let db = paths(&v).into_iter().find(|p| p["workload"] == "default/db").unwrap();
    assert!(db["path"].as_str().unwrap().contains("last endpoint"));
    assert_eq!(db["last_send_worst_s"], 25.0);
    assert_eq!(db["app_stops_listening_s"], 10.0);
    assert_eq!(db["verdict"], "fail");
    assert_eq!(db["stages"][1]["id"], "readiness-probe");
    let api = paths(&v).into_iter().find(|p| p["workload"] == "default/api").unwrap();
    assert!(rules(api).contains(&"GL042".to_string()), "{api}");
    assert_eq!(api["verdict"], "warn");
}

/// Point 4: ingress-nginx: an IngressClass of controller `k8s.io/ingress-nginx` under another name is
/// ingress-nginx; `service-upstream: "true"` sends to the ClusterIP, so kube-proxy's path applies
/// (kubernetes/ingress-nginx docs/user-guide/nginx-configuration/annotations.md). The controller
/// stage is up to 1/0.3 s = 3.33 s (--sync-rate-limit, pkg/flags/flags.go).
#[test]
fn ingress_classes_and_service_upstream() {
    let v = check(&[&fx("ingress-class.yaml")], 1);
    let nginx = path(&v, "front -> default/shop via ingress-nginx");
    assert_eq!(nginx["family"], "ingress-nginx");
    assert_eq!(nginx["last_send_worst_s"], 6.333334);
    let upstream = path(&v, "service-upstream");
    assert_eq!(upstream["family"], "kube-proxy");
    assert_eq!(upstream["last_send_worst_s"], 4.0);
}

/// Point 5: KubeProxyConfiguration's `iptables.minSyncPeriod` and kube-controller-manager's
/// `--endpointslice-updates-batch-period` replace their stages, located where they are read:
/// 1 + 2 + 1 + 5 + 1 = 10 s.
#[test]
fn configured_sync_and_batch_periods_replace_their_stages() {
    let file = fx("proxy-config.yaml");
    let v = check(&[&file], 1);
    let p = path(&v, "via kube-proxy");
    assert_eq!(p["last_send_worst_s"], 10.0);
    let stages = p["stages"].as_array().unwrap();
    let sync = stages.iter().find(|s| s["id"] == "kube-proxy-sync-iptables").unwrap();
    assert_eq!(sync["hi_s"], 5.0);
    assert!(
        sync["source"].as_str().unwrap().contains(&format!("{file}:8:18")),
        "{sync}"
    );
    let batch = stages.iter().find(|s| s["id"] == "endpointslice-batch").unwrap();
    assert_eq!(batch["hi_s"], 2.0);
    // The controller-manager pod is configuration, not a workload to judge.
    assert!(general(&v)
        .iter()
        .all(|f| !f["message"].as_str().unwrap().contains("kube-controller-manager")));
}

/// Point 6: A TCP check of the healthCheckNodePort never ejects the node: kube-proxy's health server
/// accepts the connection whether it answers 200 or 503 (k/k pkg/proxy/healthcheck).
#[test]
fn a_tcp_check_of_the_health_check_node_port_never_ejects_the_node() {
    let v = check(&[&fx("local-tcp-check.yaml")], 1);
    let p = path(&v, "externalTrafficPolicy Local");
    assert_eq!(rules(p), ["GL041"]);
    assert_eq!(p["last_send_worst_s"], Value::Null);
    assert_eq!(v["results"][0]["verdict"], "fail");
}

/// Point 7: A native sidecar (initContainers, restartPolicy Always) that serves the Service's port is
/// judged: it is stopped only after the app containers exit (KEP-753), so it listens through the
/// app's 25 s drain and then its own 12 s preStop. A port no container declares is said.
#[test]
fn native_sidecars_and_undeclared_ports() {
    let v = check(&[&fx("sidecar.yaml")], 1);
    let proxied = path(&v, "mesh-app:80");
    assert_eq!(proxied["container"], "proxy");
    assert_eq!(proxied["app_stops_listening_s"], 37.0);
    let notes = v["kubernetes_paths"]["assumptions"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("targetPort 9090 is declared by no container")),
        "{notes:?}"
    );
}

/// Point 8: A standalone NEG (`cloud.google.com/neg` with `exposed_ports` on a ClusterIP Service) opens
/// the NEG path (https://cloud.google.com/kubernetes-engine/docs/how-to/standalone-neg).
#[test]
fn a_standalone_neg_opens_the_neg_path() {
    let v = check(&[&fx("neg-standalone.yaml")], 1);
    let p = path(&v, "via GKE NEG");
    assert_eq!(p["family"], "gke-neg");
}

/// Point 11: The readiness gate comes from the Namespace label (aws-load-balancer-controller
/// docs/deploy/pod_readiness_gate.md); the ALB Ingress's deregistration delay is read; a preStop
/// longer than the grace period is cut there, SIGTERM then, SIGKILL 2 s later
/// (pkg/kubelet/kuberuntime/kuberuntime_container.go, minimumGracePeriodInSeconds).
#[test]
fn alb_ingress_gate_delay_and_a_prestop_past_the_grace_period() {
    let v = check(&[&fx("alb-ingress.yaml")], 1);
    let p = path(&v, "ALB ip targets");
    let notes: Vec<&str> = p["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("deregistration_delay.timeout_seconds = 20s")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("pod readiness gate injected")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("the ALB closes them")), "{notes:?}");
    // SIGTERM at the grace period (30 s), not after the 40 s preStop.
    assert_eq!(p["sigterm_s"], 30.0);
    assert_eq!(p["sigkill_s"], 32.0);
    let gl004 = general(&v).into_iter().find(|f| f["rule"] == "GL004").unwrap();
    let m = gl004["message"].as_str().unwrap();
    assert!(m.contains("cuts it at 30s") && m.contains("SIGKILL 2s later"), "{m}");
}

/// Point 12: A LoadBalancer Service no annotation assigns to a cloud does not stop the rest of the file:
/// its load balancer is said as not judged (GL033), its pods' ClusterIP path is judged.
#[test]
fn a_load_balancer_without_a_cloud_leaves_the_rest_judged() {
    let v = check(&[&fx("no-cloud.yaml")], 1);
    assert_eq!(path(&v, "via kube-proxy")["verdict"], "pass");
    let g = general(&v);
    let f = g.iter().find(|f| f["rule"] == "GL033").unwrap();
    assert_eq!(f["line"], 28);
    assert!(f["message"].as_str().unwrap().contains("pass --cloud"));
}

/// Point 10: Every stage says its evidence class; the NLB's deregistration lag is field evidence.
#[test]
fn every_stage_says_its_evidence() {
    let out = graceline()
        .args(["profiles", "kubernetes-paths"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lag = text.split("[stages.nlb-deregistration-lag]").nth(1).unwrap();
    let lag = lag.split("[stages.").next().unwrap();
    assert!(lag.contains("evidence = \"field\""), "{lag}");
    let hook = text.split("[stages.apiserver-lease-hook]").nth(1).unwrap();
    assert!(hook.split("[stages.").next().unwrap().contains("tail = \"25s\""));
}
