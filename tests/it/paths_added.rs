//! CLI tests of issue 16's path families on the real binary: Gateway API, the Istio sidecar mesh,
//! Cilium, headless Services (DNS), MetalLB, terminations the kubelet starts and measured stage
//! figures (`[paths.stages]`), with their bad input. Self-contained but for the binary
//! (`support::graceline`).
//!
//! Golden figures, worked by hand from profiles/kubernetes-paths.toml (stage [lo, hi], s):
//! - Every consumer first needs pod-watch [0,1] + endpointslice-batch [0,0] + its own watch
//!   (endpointslice-watch [0,1]) = 2 s worst.
//! - app-stops-at-sigterm (assumed for app pods): stops listening at SIGTERM = the preStop's end,
//!   fails readiness then too (a refused check: no probe timeout on top), drains up to 25 s.
//! - Envoy Gateway (gateway-envoy.yaml, preStop 5 s): 2 + envoy-gateway-translate [0,1] + xds-push
//!   [0,1] = 4 s; margin 5 - 4 = 1 s < 5 s: WARN; preStop 4 + 5 = 9 s, grace 9 + 25 = 34 s.
//! - gateway-classes.yaml (preStop 20 s): Istio 2 + istiod-debounce [0.1,10] + istiod-push [0,1]
//!   = 13 s, margin 7 s, best 0.1 s (in the tail tier endpointslice-batch reaches 7 s: 20 s,
//!   margin 0: GL040, WARN); Contour 2 + contour-endpoints 0 + xds-push 1 = 3 s,
//!   margin 17 s; GKE 2 + neg-detach 10 + gclb-programming 60 = 72 s, margin -52 s, FAIL,
//!   preStop 72 + 5 = 77 s, grace 102 s.
//! - Istio sidecar (istio-sidecar.yaml, app preStop 10 s, grace 45 s): istio-proxy gets SIGTERM
//!   at 0 and exits at terminationDrainDuration 5 s: the pod stops accepting at min(10, 5) = 5 s.
//!   kube-proxy 4 s: margin 1 s, WARN, the drain it needs is 4 + 5 = 9 s; mesh clients (istiod)
//!   13 s: margin -8 s, FAIL, drain 13 + 5 = 18 s; GL037: the app drains until 10 + 25 = 35 s.
//!   With native sidecars: stop 10 s, kube-proxy margin 6 s (pass), mesh -3 s (FAIL, preStop 18 s).
//! - Cilium (cilium-kpr.yaml, preStop 10 s): 2 + cilium-service-update [0,1] = 3 s, margin 7 s;
//!   with --dataplane kube-proxy: 2 + sync 1 + rule-programming 1 = 4 s, margin 6 s.
//! - Headless (headless-dns.yaml): web (preStop 30 s): 2 + coredns-cache [0,5] +
//!   dns-client-cache [0,30] = 37 s, margin -7 s, FAIL, preStop 42 s, grace 67 s. zk
//!   (publishNotReadyAddresses): never withdrawn before the pod is gone (GL041), no fix in the pod.
//! - Probe detection (Probe::detection): (failureThreshold - 1) x period to failureThreshold x
//!   period + timeout (1 s).
//! - MetalLB L2, Local (metallb-l2.yaml, preStop 10 s, probe 5 s x 2): until-readiness-fails 10 +
//!   readiness-probe [5,11] + kubelet-status-update [0,1] + 2 + metallb-l2-failover [0,10] =
//!   34 s, margin -24 s; fix: keep listening 34 + 5 - 10 = 29 s after readiness fails, grace 10 +
//!   29 + 25 = 64 s. Its kube-proxy path: 4 s, margin 6 s, pass.
//! - Kubelet terminations (kubelet-config.yaml: preStop 10 s, grace 45 s, probe 2 s x 1,
//!   evictionMaxPodGracePeriod 60 s, shutdownGracePeriod 30 s minus critical 10 s, liveness
//!   grace 15 s), times from the kubelet's start, kube-proxy's own 4 s after the prefix.
//!   Eviction: grace min(60, 45) = 45 s, SIGTERM at 10 s; readiness 0 + probe [0,3] + status
//!   [0,1] + 4 = 8 s after SIGTERM, so 18 s; margin 10 - 18 = -8 s; fix: a delay of
//!   18 + 5 - 10 = 13 s, grace 10 + 13 + 25 = 48 s. Hard eviction: grace 1 s, preStop cut at
//!   1 s, SIGKILL at 1 + 2 = 3 s; 1 + 8 = 9 s, margin -8 s, nothing helps. Node shutdown: grace
//!   min(30 - 10, 45) = 20 s, SIGKILL at 20 s, exit at min(10 + 25, 20) = 20 s; until-exit 10 +
//!   status 1 + 4 = 15 s after SIGTERM, so 25 s, margin -15 s. Liveness restart: grace 15 s,
//!   SIGKILL at 15 s, last send 18 s. OOM kill: SIGKILL at 0, pleg-relist [0,1] + status [0,1] +
//!   4 = 6 s, margin -6 s.
//! - [paths.stages] pod-watch = 200ms, rule-programming = [0s, 5s] on web-prestop-10s.yaml:
//!   0.2 + 0 + 1 + 1 + 5 = 7.2 s, margin 10 - 7.2 = 2.8 s: WARN, preStop 13 s.

use crate::support::{check_json, graceline, k8s_fixture, rules_of};
use serde_json::Value;
use std::path::Path;

fn results(v: &Value) -> &Vec<Value> {
    v["kubernetes_paths"]["results"].as_array().unwrap()
}

fn family<'a>(v: &'a Value, family: &str) -> Vec<&'a Value> {
    results(v).iter().filter(|p| p["family"] == family).collect()
}

fn one<'a>(v: &'a Value, fam: &str) -> &'a Value {
    let f = family(v, fam);
    assert_eq!(f.len(), 1, "one {fam} path expected in {v:#}");
    f[0]
}

fn general<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["kubernetes_paths"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn stage_ids(p: &Value) -> Vec<String> {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn assumptions(v: &Value) -> String {
    v["kubernetes_paths"]["assumptions"].to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn manifest(name: &str) -> String {
    format!("{}/{}", env!("CARGO_MANIFEST_DIR"), k8s_fixture(name))
}

#[test]
fn an_httproute_through_envoy_gateway() {
    let v = check_json(&[&k8s_fixture("gateway-envoy.yaml")], 0);
    let p = one(&v, "gateway-envoy-gateway");
    assert_eq!(
        stage_ids(p),
        [
            "pod-watch",
            "endpointslice-batch",
            "endpointslice-watch",
            "envoy-gateway-translate",
            "xds-push"
        ]
    );
    assert_eq!(p["last_send_worst_s"], 4.0);
    assert_eq!(p["app_stops_listening_s"], 5.0);
    assert_eq!(p["margin_s"], 1.0);
    assert_eq!(p["verdict"], "warn");
    assert_eq!(p["recommended_prestop_s"], 9.0);
    assert_eq!(p["recommended_termination_grace_period_s"], 34.0);
    assert_eq!(rules_of(p), ["GL031"]);
    assert!(p["path"]
        .as_str()
        .unwrap()
        .contains("via Gateway default/eg (Envoy Gateway)"));
    assert!(p["notes"].to_string().contains("DRAINING"), "{}", p["notes"]);
    // The translate stage cites Envoy Gateway's code.
    assert!(p["stages"][3]["source"]
        .as_str()
        .unwrap()
        .contains("envoyproxy/gateway"));
}

#[test]
fn gateway_implementations_and_what_cannot_be_judged() {
    let v = check_json(&[&k8s_fixture("gateway-classes.yaml")], 1);
    let istio = one(&v, "gateway-istio");
    assert_eq!(istio["last_send_worst_s"], 13.0);
    assert_eq!(istio["last_send_best_s"], 0.1);
    assert_eq!(istio["margin_s"], 7.0);
    // The tail tier: endpointslice-batch up to 7 s on a failed sync: 13 + 7 = 20 s, margin 0.
    assert_eq!(istio["verdict"], "warn");
    assert_eq!(rules_of(istio), ["GL040"]);
    let gke = one(&v, "gateway-gke");
    assert_eq!(gke["last_send_worst_s"], 72.0);
    assert_eq!(gke["margin_s"], -52.0);
    assert_eq!(gke["verdict"], "fail");
    assert_eq!(gke["recommended_prestop_s"], 77.0);
    assert_eq!(gke["recommended_termination_grace_period_s"], 102.0);
    // The HTTPRoute and the GRPCRoute both reach the Contour Gateway.
    let contour = family(&v, "gateway-contour");
    assert_eq!(contour.len(), 2);
    assert!(contour
        .iter()
        .all(|p| p["last_send_worst_s"] == 3.0 && p["margin_s"] == 17.0));
    assert!(contour
        .iter()
        .any(|p| p["path"].as_str().unwrap().starts_with("GRPCRoute shop/api")));
    // Nothing through the NGINX or the unknown class.
    assert_eq!(results(&v).len(), 1 + 1 + 1 + 2);
    let g33 = general(&v, "GL033");
    let at = |line: u64| {
        g33.iter()
            .find(|f| f["line"] == line)
            .unwrap_or_else(|| panic!("no GL033 at line {line}: {g33:#?}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The unknown controller is named at its GatewayClass's controllerName.
    assert!(at(21).contains("controller gateway.nginx.org/nginx-gateway-controller is not one graceline models"));
    // A Gateway whose class is neither among the inputs nor well known.
    assert!(at(77).contains("GatewayClass \"acme-lb\" is not among the inputs"));
    // A route to a missing Service, at its backendRef.
    assert!(at(104).contains("backend Service shop/legacy is not among the inputs"));
    // Classes that are not among the inputs but well known are assumed, and said.
    let a = assumptions(&v);
    assert!(a.contains("gateway-classes.yaml:29:21: Gateway shop/istio-gw: GatewayClass \\\"istio\\\" is not among the inputs; assumed controller istio.io/gateway-controller"), "{a}");
    assert!(a.contains("assumed GKE's controller networking.gke.io/gateway"), "{a}");
    // The workload is reached: no "no Service selects" statement.
    assert!(!v.to_string().contains("no Service among the inputs selects"));
}

#[test]
fn a_route_whose_gateway_is_missing_is_said_at_its_parent_ref() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(manifest("gateway-envoy.yaml"))
        .unwrap()
        .replace("    - name: eg\n  hostnames:", "    - name: other\n  hostnames:");
    let f = write(dir.path(), "r.yaml", &text);
    let v = check_json(&[&f], 0);
    assert!(family(&v, "gateway-envoy-gateway").is_empty());
    let g = general(&v, "GL033");
    assert!(
        g.iter().any(|f| f["line"] == 29
            && f["message"]
                .as_str()
                .unwrap()
                .contains("parent Gateway default/other is not among the inputs")),
        "{g:#?}"
    );
}

#[test]
fn an_istio_sidecar_closes_the_pod_before_the_apps_prestop_ends() {
    let v = check_json(&[&k8s_fixture("istio-sidecar.yaml")], 1);
    let kp = one(&v, "kube-proxy");
    assert_eq!(kp["app_stops_listening_s"], 5.0);
    assert_eq!(kp["margin_s"], 1.0);
    assert_eq!(kp["verdict"], "warn");
    assert_eq!(kp["recommended_prestop_s"], Value::Null);
    let m = kp["findings"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("istio-proxy stops accepting at 5s") && m.contains("terminationDrainDuration >= 9s"),
        "{m}"
    );
    let mesh = one(&v, "istio-mesh");
    assert_eq!(
        stage_ids(mesh),
        [
            "pod-watch",
            "endpointslice-batch",
            "endpointslice-watch",
            "istiod-debounce",
            "istiod-push"
        ]
    );
    assert_eq!(mesh["last_send_worst_s"], 13.0);
    assert_eq!(mesh["margin_s"], -8.0);
    assert_eq!(mesh["verdict"], "fail");
    assert!(mesh["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("terminationDrainDuration >= 18s"));
    // The finding points at the namespace label that injects the sidecar.
    assert_eq!(mesh["findings"][0]["line"], 9);
    let g37 = general(&v, "GL037");
    assert_eq!(g37.len(), 1);
    assert_eq!(g37[0]["severity"], "error");
    assert!(
        g37[0]["message"].as_str().unwrap().contains("drains until 35s"),
        "{}",
        g37[0]["message"]
    );

    // A longer drain in the pod's proxy.istio.io/config: 20 s > 13 + 5, the app's 10 s binds.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(manifest("istio-sidecar.yaml")).unwrap().replace(
        "        prometheus.io/scrape: \"true\"\n",
        "        prometheus.io/scrape: \"true\"\n        proxy.istio.io/config: '{\"terminationDrainDuration\": \"40s\"}'\n",
    );
    let f = write(dir.path(), "drain.yaml", &text);
    let v = check_json(&[&f], 1);
    assert_eq!(one(&v, "kube-proxy")["app_stops_listening_s"], 10.0);
    assert_eq!(one(&v, "kube-proxy")["margin_s"], 6.0);
    // Only warnings that are not this path's typical figures are left: the tail tier (GL040) and
    // the single replica's KEP-1669 case (GL042).
    assert_eq!(rules_of(one(&v, "kube-proxy")), ["GL040", "GL042"]);
    assert_eq!(one(&v, "istio-mesh")["margin_s"], -3.0);
    assert_eq!(one(&v, "istio-mesh")["recommended_prestop_s"], 18.0);
    assert!(general(&v, "GL037").is_empty());

    // Native sidecars (istio_native_sidecars in graceline.toml): the app's own stop counts.
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!(
            "[paths]\nistio_native_sidecars = true\n\n[[check]]\nlbs = [\"{}\"]\n",
            manifest("istio-sidecar.yaml")
        ),
    );
    let v = check_json(&[&project], 1);
    assert_eq!(one(&v, "kube-proxy")["margin_s"], 6.0);
    assert_eq!(one(&v, "istio-mesh")["margin_s"], -3.0);
    assert!(general(&v, "GL037").is_empty());
    assert!(assumptions(&v).contains("native sidecar stops after the app"));

    // A bad terminationDrainDuration is a located input error.
    let bad = write(
        dir.path(),
        "bad.yaml",
        &text
            .replace("\\\"40s\\\"", "\\\"soon\\\"")
            .replace("\"40s\"", "\"soon\""),
    );
    let out = graceline()
        .args(["check", &bad])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("bad.yaml:") && err.contains("terminationDrainDuration"),
        "{err}"
    );
}

#[test]
fn cilium_replaces_the_kube_proxy_stages_chosen_by_its_configmap_or_the_flag() {
    let v = check_json(&[&k8s_fixture("cilium-kpr.yaml")], 0);
    let p = one(&v, "cilium");
    assert_eq!(
        stage_ids(p),
        [
            "pod-watch",
            "endpointslice-batch",
            "endpointslice-watch",
            "cilium-service-update"
        ]
    );
    assert_eq!(p["last_send_worst_s"], 3.0);
    assert_eq!(p["margin_s"], 7.0);
    let a = assumptions(&v);
    assert!(
        a.contains("Cilium's eBPF kube-proxy replacement") && a.contains("cilium-kpr.yaml:11:27"),
        "{a}"
    );
    assert!(!a.contains("kube-proxy mode assumed"), "{a}");
    // The flag wins over the ConfigMap.
    let v = check_json(&[&k8s_fixture("cilium-kpr.yaml"), "--dataplane", "kube-proxy"], 0);
    assert_eq!(one(&v, "kube-proxy")["last_send_worst_s"], 4.0);
    // And chooses Cilium without a ConfigMap.
    let v = check_json(&[&k8s_fixture("web-prestop-10s.yaml"), "--dataplane", "cilium"], 0);
    assert_eq!(one(&v, "cilium")["last_send_worst_s"], 3.0);
    assert!(assumptions(&v).contains("(--dataplane)"));
}

#[test]
fn headless_services_through_coredns() {
    let v = check_json(&[&k8s_fixture("headless-dns.yaml")], 1);
    let dns = family(&v, "headless-dns");
    assert_eq!(dns.len(), 2);
    let web = dns.iter().find(|p| p["workload"] == "default/web").unwrap();
    assert_eq!(
        stage_ids(web),
        [
            "pod-watch",
            "endpointslice-batch",
            "endpointslice-watch",
            "coredns-cache",
            "dns-client-cache"
        ]
    );
    assert_eq!(web["last_send_worst_s"], 37.0);
    assert_eq!(web["margin_s"], -7.0);
    assert_eq!(web["recommended_prestop_s"], 42.0);
    assert_eq!(web["recommended_termination_grace_period_s"], 67.0);
    let zk = dns.iter().find(|p| p["workload"] == "default/zk").unwrap();
    assert!(stage_ids(zk).is_empty());
    assert_eq!(zk["last_send_worst_s"], Value::Null);
    assert_eq!(zk["verdict"], "fail");
    assert_eq!(rules_of(zk), ["GL041"]);
    assert_eq!(zk["recommended_prestop_s"], Value::Null);
    assert_eq!(zk["recommended_shutdown_delay_s"], Value::Null);
    assert!(zk["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("set it to false"));
    // Judged, so not "headless: not modelled", and the StatefulSets are reached.
    assert!(general(&v, "GL033").is_empty(), "{:#?}", general(&v, "GL033"));
    // Measured client caches replace the JDK's 30 s: Go clients cache nothing.
    let dir = tempfile::tempdir().unwrap();
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!(
            "[[check]]\nlbs = [\"{}\"]\n\n[paths.stages]\ndns-client-cache = \"0s\"\n",
            manifest("headless-dns.yaml")
        ),
    );
    let v = check_json(&[&project], 1);
    let web = family(&v, "headless-dns")
        .into_iter()
        .find(|p| p["workload"] == "default/web")
        .unwrap();
    assert_eq!(web["last_send_worst_s"], 7.0);
    assert_eq!(web["verdict"], "pass");
}

#[test]
fn metallb_local_waits_for_the_readiness_probe() {
    let v = check_json(&[&k8s_fixture("metallb-l2.yaml")], 1);
    let p = one(&v, "metallb-l2");
    assert_eq!(
        stage_ids(p),
        [
            "until-readiness-fails",
            "readiness-probe",
            "kubelet-status-update",
            "pod-watch",
            "endpointslice-batch",
            "endpointslice-watch",
            "metallb-l2-failover"
        ]
    );
    assert_eq!(p["last_send_worst_s"], 34.0);
    assert_eq!(p["margin_s"], -24.0);
    assert_eq!(p["recommended_prestop_s"], Value::Null);
    assert_eq!(p["recommended_shutdown_delay_s"], 29.0);
    assert_eq!(p["recommended_termination_grace_period_s"], 64.0);
    assert!(p["notes"].to_string().contains("EndpointCanServe"));
    assert_eq!(one(&v, "kube-proxy")["margin_s"], 6.0);
    assert!(!rules_of(one(&v, "kube-proxy"))
        .iter()
        .any(|r| r == "GL030" || r == "GL031"));
    // The MetalLB Service is not read as a cloud load balancer (no exit 2, no LB row).
    assert!(v["results"].as_array().unwrap().is_empty());
    // A BGPAdvertisement instead: the withdrawal [0, 1] replaces the failover [0, 10]: 25 s.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(manifest("metallb-l2.yaml"))
        .unwrap()
        .replace("kind: L2Advertisement", "kind: BGPAdvertisement");
    let v = check_json(&[&write(dir.path(), "bgp.yaml", &text)], 1);
    assert_eq!(one(&v, "metallb-bgp")["last_send_worst_s"], 25.0);
    assert!(one(&v, "metallb-bgp")["notes"].to_string().contains("rehashes"));
}

#[test]
fn terminations_the_kubelet_starts() {
    let run = |t: &str| check_json(&[&k8s_fixture("kubelet-config.yaml"), "--termination", t], 1);
    let v = run("eviction");
    let p = one(&v, "kube-proxy");
    assert_eq!(
        stage_ids(p)[..3],
        ["until-readiness-fails", "readiness-probe", "kubelet-status-update"]
    );
    assert_eq!(p["starts_at"], "sigterm");
    assert_eq!(p["sigterm_s"], 10.0);
    assert_eq!(p["last_send_worst_s"], 18.0);
    assert_eq!(p["margin_s"], -8.0);
    assert_eq!(p["recommended_prestop_s"], Value::Null);
    assert_eq!(p["recommended_shutdown_delay_s"], 13.0);
    assert_eq!(p["recommended_termination_grace_period_s"], 48.0);
    let g36 = general(&v, "GL036");
    assert_eq!(g36.len(), 1);
    assert_eq!(g36[0]["severity"], "note");
    assert!(g36[0]["message"]
        .as_str()
        .unwrap()
        .contains("evictionMaxPodGracePeriod 1m at"));

    let p = one(&run("hard-eviction"), "kube-proxy").clone();
    assert_eq!(
        (p["sigterm_s"].as_f64(), p["sigkill_s"].as_f64()),
        (Some(1.0), Some(3.0))
    );
    assert_eq!(p["last_send_worst_s"], 9.0);
    assert_eq!(p["margin_s"], -8.0);
    assert_eq!(p["recommended_shutdown_delay_s"], Value::Null);

    let v = run("node-shutdown");
    let p = one(&v, "kube-proxy");
    assert_eq!(stage_ids(p)[0], "until-exit");
    assert_eq!(p["sigkill_s"], 20.0);
    assert_eq!(p["last_send_worst_s"], 25.0);
    assert_eq!(p["margin_s"], -15.0);
    assert!(p["findings"][0]["message"].as_str().unwrap().contains("kubectl drain"));

    let p = one(&run("liveness-restart"), "kube-proxy").clone();
    assert_eq!(p["sigkill_s"], 15.0);
    assert_eq!(p["last_send_worst_s"], 18.0);

    let p = one(&run("oom-kill"), "kube-proxy").clone();
    assert_eq!(stage_ids(&p)[..2], ["pleg-relist", "kubelet-status-update"]);
    assert_eq!(
        (p["sigterm_s"].as_f64(), p["sigkill_s"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(p["last_send_worst_s"], 6.0);
    assert_eq!(p["margin_s"], -6.0);

    // The same from graceline.toml; a deletion (the default) keeps the plain kube-proxy chain.
    let dir = tempfile::tempdir().unwrap();
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!(
            "[paths]\ntermination = \"eviction\"\n\n[[check]]\nlbs = [\"{}\"]\n",
            manifest("kubelet-config.yaml")
        ),
    );
    let v = check_json(&[&project], 1);
    assert_eq!(one(&v, "kube-proxy")["last_send_worst_s"], 18.0);
    assert!(assumptions(&v).contains("termination eviction (") && assumptions(&v).contains("graceline.toml:2:15"));
    let v = check_json(&[&k8s_fixture("kubelet-config.yaml")], 0);
    assert_eq!(one(&v, "kube-proxy")["last_send_worst_s"], 4.0);
    assert!(general(&v, "GL036").is_empty());
}

#[test]
fn measured_stages_replace_the_built_in_figures_and_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!(
            "[paths.stages]\nrule-programming = [\"0s\", \"5s\"]\npod-watch = \"200ms\"\n\n[[check]]\nlbs = [\"{}\"]\n",
            manifest("web-prestop-10s.yaml")
        ),
    );
    let v = check_json(&[&project], 0);
    let p = one(&v, "kube-proxy");
    assert_eq!(p["last_send_worst_s"], 7.2);
    assert_eq!(p["margin_s"], 2.8);
    assert_eq!(p["verdict"], "warn");
    assert_eq!(p["recommended_prestop_s"], 13.0);
    let rp = &p["stages"][4];
    assert_eq!(
        (rp["id"].as_str(), rp["hi_s"].as_f64()),
        (Some("rule-programming"), Some(5.0))
    );
    assert_eq!(rp["unverified"], false);
    assert!(rp["source"].as_str().unwrap().contains("graceline.toml:2:20"), "{rp}");
    let out = graceline()
        .args(["explain", &project])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("measured: [paths.stages] pod-watch = 200ms..200ms at ") && text.contains("graceline.toml:3:13"),
        "{text}"
    );

    // A scenario file among the inputs carries [paths.stages] too.
    let scenario = write(
        dir.path(),
        "lb.toml",
        "[server]\nprofile = \"app-stops-at-sigterm\"\n\n[[lb]]\nname = \"hap\"\nprofile = \"haproxy\"\n\n[paths.stages]\nrule-programming = \"3s\"\n",
    );
    // (its HAProxy in front of an app that stops listening at SIGTERM fails on its own: exit 1)
    let v = check_json(&[&k8s_fixture("web-prestop-10s.yaml"), &scenario], 1);
    assert_eq!(one(&v, "kube-proxy")["last_send_worst_s"], 6.0);
}

#[test]
fn bad_stage_overrides_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lbs = format!("\n[[check]]\nlbs = [\"{}\"]\n", manifest("web-prestop-10s.yaml"));
    for (stages, expect) in [
        (
            "rule-programing = \"1s\"",
            ":2:19: field `paths.stages.rule-programing`: unknown stage id",
        ),
        (
            "pod-watch = [\"3s\", \"1s\"]",
            ":2:13: field `paths.stages.pod-watch`: range [\"3s\", \"1s\"] is reversed",
        ),
        ("readiness-probe = \"1s\"", "computed from the inputs"),
        ("pod-watch = \"-1s\"", "negative duration"),
    ] {
        let project = write(
            dir.path(),
            "graceline.toml",
            &format!("[paths.stages]\n{stages}\n{lbs}"),
        );
        let out = graceline()
            .args(["check", &project])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        assert!(
            err.contains("graceline.toml") && err.contains(expect),
            "{stages}: {err}"
        );
    }
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!("[paths]\ntermination = \"reboot\"\n{lbs}"),
    );
    let out = graceline()
        .args(["check", &project])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("graceline.toml:2:15"));
    // Two scenario files of one check that disagree.
    let s = "[server]\nprofile = \"app-stops-at-sigterm\"\n\n[[lb]]\nname = \"NAME\"\nprofile = \"haproxy\"\n\n[paths.stages]\npod-watch = \"VALUE\"\n";
    let a = write(dir.path(), "a.toml", &s.replace("NAME", "a").replace("VALUE", "1s"));
    let b = write(dir.path(), "b.toml", &s.replace("NAME", "b").replace("VALUE", "2s"));
    let out = graceline()
        .args(["check", &a, &b])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("b.toml:9:13: paths.stages.pod-watch contradicts the figure at"),
        "{err}"
    );
}

#[test]
fn every_path_family_and_its_evidence_in_the_profile() {
    let out = graceline()
        .args(["profiles", "kubernetes-paths"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for fam in [
        "kube-proxy",
        "local-traffic",
        "lb-controller",
        "gke-neg",
        "ingress-nginx",
        "kubernetes-service",
        "gateway-envoy-gateway",
        "gateway-contour",
        "gateway-istio",
        "gateway-gke",
        "istio-mesh",
        "cilium",
        "headless-dns",
        "metallb-l2",
        "metallb-bgp",
        "kubelet-readiness",
        "kubelet-exit",
        "kubelet-oom",
    ] {
        assert!(text.contains(&format!("[families.{fam}]")), "{fam}");
    }
    for ev in [
        "evidence = \"documented\"",
        "evidence = \"code\"",
        "evidence = \"none\"",
    ] {
        assert!(text.contains(ev), "{ev}");
    }
}

#[test]
fn sarif_lists_the_new_rules() {
    let out = graceline()
        .args(["check", "--format", "sarif", &k8s_fixture("istio-sidecar.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"GL036") && rules.contains(&"GL037"), "{rules:?}");
    assert!(v.to_string().contains("\"ruleId\":\"GL037\""));
}

#[test]
fn calibrate_measures_a_whole_path_end_to_end() {
    // graceline backend as the pod, preStop 20 s, steady requests every 100 ms through the
    // ClusterIP until 2.5 s after the deletion (SIGTERM at 30 s - 20 s = 10 s). kube-proxy's
    // model: 0..4 s; the path stopped within [2.5 s, 2.6 s]: inside, and the line to paste.
    let dir = tempfile::tempdir().unwrap();
    let base = 1_700_000_000_000_000i64;
    let mut log =
        format!("{{\"t_us\":{base},\"mono_us\":0,\"event\":\"listening\",\"addr\":\"127.0.0.1:1\",\"tls\":false}}\n");
    for i in 0..=125 {
        log.push_str(&format!(
            "{{\"t_us\":{},\"mono_us\":0,\"event\":\"request\",\"method\":\"GET\",\"path\":\"/data\",\"peer\":\"127.0.0.1:2\",\"status\":200,\"phase\":\"serving\"}}\n",
            base + i * 100_000
        ));
    }
    log.push_str(&format!(
        "{{\"t_us\":{},\"mono_us\":0,\"event\":\"trigger\",\"source\":\"signal\"}}\n",
        base + 30_000_000
    ));
    let f = write(dir.path(), "backend.log", &log);
    let out = graceline()
        .args([
            "calibrate",
            &f,
            "--path",
            "kube-proxy",
            "--prestop",
            "20s",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["measurements"][0]["measured_s"], 2.5);
    assert_eq!(v["measurements"][0]["inside"], true);
    assert_eq!(v["model_worst_s"], 4.0);
    let paste = v["paths_stages"].as_str().unwrap();
    assert_eq!(paste, "\"path:kube-proxy\" = [\"2500ms\", \"2600ms\"]");
    // The pasted line replaces the kube-proxy chain: 2.6 s, margin 10 - 2.6 = 7.4 s.
    let project = write(
        dir.path(),
        "graceline.toml",
        &format!(
            "[paths.stages]\n{paste}\n\n[[check]]\nlbs = [\"{}\"]\n",
            manifest("web-prestop-10s.yaml")
        ),
    );
    let v = check_json(&[&project], 0);
    let p = one(&v, "kube-proxy");
    assert_eq!(stage_ids(p), ["path:kube-proxy"]);
    assert_eq!(p["margin_s"], 7.4);
    // A family whose chain depends on the pod cannot be measured this way; --prestop is needed.
    let out = graceline()
        .args(["calibrate", &f, "--path", "metallb-l2", "--prestop", "20s"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("measures a whole path for kube-proxy"));
    graceline()
        .args(["calibrate", &f, "--path", "kube-proxy"])
        .assert()
        .code(2);
}
