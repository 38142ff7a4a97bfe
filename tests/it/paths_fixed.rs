//! The Kubernetes paths as Kubernetes runs them (issue 16, "wrong today"): each case on the real
//! binary, with the code or document it follows in a comment.

use crate::support::{check_json, graceline, k8s_fixture, rules_of};
use serde_json::Value;

fn paths(v: &Value) -> Vec<&Value> {
    v["kubernetes_paths"]["results"].as_array().unwrap().iter().collect()
}

fn path<'v>(v: &'v Value, name_part: &str) -> &'v Value {
    paths(v)
        .into_iter()
        .find(|p| p["path"].as_str().unwrap().contains(name_part))
        .unwrap_or_else(|| panic!("no path containing {name_part}: {v}"))
}

fn general(v: &Value) -> Vec<&Value> {
    v["kubernetes_paths"]["findings"].as_array().unwrap().iter().collect()
}

/// Point 2: publishNotReadyAddresses keeps terminating pods ready: `ready := publishNotReady ||
/// (serving && !terminating)` (staging/src/k8s.io/endpointslice/utils.go, podToEndpoint), so
/// kube-proxy sends until the Pod object is deleted: a failure no preStop fixes.
#[test]
fn publish_not_ready_addresses_is_never_withdrawn() {
    let v = check_json(&[&k8s_fixture("publish-not-ready.yaml")], 1);
    let p = path(&v, "via kube-proxy");
    assert_eq!(p["verdict"], "fail");
    assert_eq!(rules_of(p), ["GL041"]);
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
    let v = check_json(&[&k8s_fixture("last-replica.yaml")], 1);
    let db = paths(&v).into_iter().find(|p| p["workload"] == "default/db").unwrap();
    assert!(db["path"].as_str().unwrap().contains("last endpoint"));
    assert_eq!(db["last_send_worst_s"], 25.0);
    assert_eq!(db["app_stops_listening_s"], 10.0);
    assert_eq!(db["verdict"], "fail");
    assert_eq!(db["stages"][1]["id"], "readiness-probe");
    let api = paths(&v).into_iter().find(|p| p["workload"] == "default/api").unwrap();
    assert!(rules_of(api).contains(&"GL042".to_string()), "{api}");
    assert_eq!(api["verdict"], "warn");
}

/// Point 4: ingress-nginx: an IngressClass of controller `k8s.io/ingress-nginx` under another name is
/// ingress-nginx; `service-upstream: "true"` sends to the ClusterIP, so kube-proxy's path applies
/// (kubernetes/ingress-nginx docs/user-guide/nginx-configuration/annotations.md). The controller
/// stage is up to 1/0.3 s = 3.33 s (--sync-rate-limit, pkg/flags/flags.go).
#[test]
fn ingress_classes_and_service_upstream() {
    let v = check_json(&[&k8s_fixture("ingress-class.yaml")], 1);
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
    let file = k8s_fixture("proxy-config.yaml");
    let v = check_json(&[&file], 1);
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
    let v = check_json(&[&k8s_fixture("local-tcp-check.yaml")], 1);
    let p = path(&v, "externalTrafficPolicy Local");
    assert_eq!(rules_of(p), ["GL041"]);
    assert_eq!(p["last_send_worst_s"], Value::Null);
    assert_eq!(v["results"][0]["verdict"], "fail");
}

/// Point 7: A native sidecar (initContainers, restartPolicy Always) that serves the Service's port is
/// judged: it is stopped only after the app containers exit (KEP-753), so it listens through the
/// app's 25 s drain and then its own 12 s preStop. A port no container declares is said.
#[test]
fn native_sidecars_and_undeclared_ports() {
    let v = check_json(&[&k8s_fixture("sidecar.yaml")], 1);
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
    let v = check_json(&[&k8s_fixture("neg-standalone.yaml")], 1);
    let p = path(&v, "via GKE NEG");
    assert_eq!(p["family"], "gke-neg");
}

/// Point 12: a GKE BackendConfig's healthCheck is the Google Cloud load balancer's own check of the
/// NEG endpoint: NEG defaults (15 s, 15 s, unhealthy 2), then the readiness probe, then the
/// BackendConfig (kubernetes/ingress-gce pkg/translator/healthchecks.go, DefaultNEGHealthCheck,
/// ApplyProbeSettingsToHC, UpdateFromBackendConfig). By hand for HTTP /ready every 2 s, timeout 1 s,
/// unhealthy 2: the first failing probe starts p in [0, 2) after E2 (the 30 s preStop), the second
/// at p + 2, failing at once: marked down in [2 s, 4 s) after E2, then 59-61 s of propagation
/// (profiles/gcp.toml): 61..65 s; 30 + 61 = 91 s is later than the NEG detach chain, which keeps
/// the verdict. The Service-level NEG is judged once, as the Ingress's path.
#[test]
fn a_backend_config_health_check_is_the_negs_other_way_out() {
    let f = k8s_fixture("gke-backendconfig.yaml");
    let v = check_json(&[&f], 1);
    let negs: Vec<_> = paths(&v).into_iter().filter(|p| p["family"] == "gke-neg").collect();
    assert_eq!(negs.len(), 1, "one NEG path: {v}");
    let alt = &negs[0]["alternative"];
    assert!(
        alt["label"]
            .as_str()
            .unwrap()
            .contains("GKE load balancer of default/web"),
        "{alt}"
    );
    assert!(!alt["label"].as_str().unwrap().contains("blind"), "{alt}");
    assert_eq!(alt["stages"][0]["hi_s"], 30.0);
    // 2 s x 2 checks of the 503 (detection 2-4 s) + GCP's typical propagation 0-60 s.
    assert_eq!(alt["stages"][1]["lo_s"], 2.0);
    assert_eq!(alt["stages"][1]["hi_s"], 64.0);
    assert_eq!(negs[0]["last_send_worst_s"], 72.0, "the detach chain ends first");

    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::support::root().join(&f)).unwrap();
    let write = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    // A check of / while the readiness probe is /ready: blind to readiness.
    let root = write("root.yaml", text.replace("requestPath: /ready", "requestPath: /"));
    let v = check_json(&[&root], 1);
    let alt = &path(&v, "via GKE NEG")["alternative"];
    assert!(alt["label"].as_str().unwrap().contains("blind to readiness"), "{alt}");
    // No BackendConfig: the readiness probe's period 5 s and timeout 1 s; unhealthy 2 is GKE's
    // default and said. Marked down in [5 s, 10 s), + GCP's typical propagation 0-60 s: 5..70 s.
    let none = write(
        "none.yaml",
        text.replace("    cloud.google.com/backend-config: '{\"default\": \"web-hc\"}'\n", ""),
    );
    let v = check_json(&[&none], 1);
    let alt = &path(&v, "via GKE NEG")["alternative"];
    assert_eq!(alt["stages"][1]["lo_s"], 5.0);
    assert_eq!(alt["stages"][1]["hi_s"], 70.0);
    let assumed = v["kubernetes_paths"]["assumptions"].to_string();
    assert!(assumed.contains("unhealthy_threshold = 2 assumed"), "{assumed}");
    // What Google Cloud refuses, graceline refuses: a timeout longer than the interval, at its line.
    let bad = write("bad.yaml", text.replace("timeoutSec: 1", "timeoutSec: 5"));
    let out = graceline()
        .args(["check", &bad])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("bad.yaml:50:17: field `spec.healthCheck.timeoutSec`"),
        "{err}"
    );
    let typo = write(
        "typo.yaml",
        text.replace("{\"default\": \"web-hc\"}", "{\"defualt\": \"web-hc\"}"),
    );
    let out = graceline()
        .args(["check", &typo])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("unknown key \"defualt\""));
    // A BackendConfig that is not among the inputs is said, and the probe's settings are used.
    let missing = write(
        "missing.yaml",
        text.replace("\"default\": \"web-hc\"", "\"default\": \"other\""),
    );
    let v = check_json(&[&missing], 1);
    assert!(v
        .to_string()
        .contains("BackendConfig default/other named by default/web is not among the inputs"));
}

/// Point 11: The readiness gate comes from the Namespace label (aws-load-balancer-controller
/// docs/deploy/pod_readiness_gate.md); the ALB Ingress's deregistration delay is read; a preStop
/// longer than the grace period is cut there, SIGTERM then, SIGKILL 2 s later
/// (pkg/kubelet/kuberuntime/kuberuntime_container.go, minimumGracePeriodInSeconds).
#[test]
fn alb_ingress_gate_delay_and_a_prestop_past_the_grace_period() {
    let v = check_json(&[&k8s_fixture("alb-ingress.yaml")], 1);
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
    let v = check_json(&[&k8s_fixture("no-cloud.yaml")], 1);
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
