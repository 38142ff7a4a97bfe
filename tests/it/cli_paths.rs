//! CLI tests of the Kubernetes paths on the real binary: workloads behind Services, the AWS Load
//! Balancer Controller's ip targets, kube-apiserver's `kubernetes` Service, bad input.
//!
//! Golden figures, worked by hand from profiles/kubernetes-paths.toml (stage [lo, hi]):
//! - kube-proxy chain (iptables): pod-watch [0,1] + endpointslice-batch [0,0] + endpointslice-watch
//!   [0,1] + kube-proxy-sync-iptables [0,1] + rule-programming [0,1] = worst 4 s, best 0 s.
//!   IPVS: sync [0,0], so 3 s. ingress-nginx: pod-watch 1 + batch 0 + watch 1 + controller 1 +
//!   Lua sync 1 = 4 s.
//! - app-stops-at-sigterm: stops listening at SIGTERM = the preStop's end; drain 25 s.
//! - No preStop: stops at 0 s, margin 0 - 4 = -4 s: FAIL. Recommended preStop = worst 4 s plus
//!   margin 5 s minus the app's delay 0 s = 9 s; grace it needs = 9 + 0 + 25 = 34 s.
//! - preStop 10 s: margin 10 - 4 = 6 s >= 5 s: pass; 10 + 25 = 35 s <= grace 45 s, no GL004.
//! - NLB ip targets: pod-watch 1 + batch 0 + watch 1 + lbc-reconcile 1 + deregister-targets-api
//!   10 + nlb-deregistration-lag 180 = 193 s; preStop 10 s: margin -183 s, FAIL; recommended
//!   preStop 193 + 5 = 198 s, grace 198 + 25 = 223 s.
//! - kube-apiserver, lease: the hook [0,20] starts at SIGTERM (no preStop: 0 s), then kube-proxy
//!   watch 1 + sync 1 + programming 1: last send 23 s. Listener closes at max(delay, hook 20 s):
//!   delay 0 s -> 20 s, margin -3 s, FAIL, recommended delay 23 + 5 = 28 s; delay 70 s -> margin
//!   70 - 23 = 47 s, pass.
//! - externalTrafficPolicy Local, in-tree NLB (HTTP /healthz, interval 10 s, threshold 2, 503 at
//!   once): kube-proxy 4 s, then the NLB's detection of a failing check: worst 2 x 10 = 20 s, best
//!   10 s, then the NLB's field propagation range 30 s to 240 s (profiles/aws-nlb.toml): last send
//!   worst 4 + 20 + 240 = 264 s, best 0 + 10 + 30 = 40 s; preStop 30 s: margin -234 s, FAIL,
//!   recommended preStop 264 + 5 = 269 s.

use crate::support::{check_json, decode_png, fixture_rel, graceline, rules_of};
use serde_json::Value;

/// A file of this module's folder, tests/fixtures/inputs/kubernetes-paths/, relative to the root.
fn fx(name: &str) -> String {
    fixture_rel(&format!("inputs/kubernetes-paths/{name}"))
}

fn paths(v: &Value) -> &Vec<Value> {
    v["kubernetes_paths"]["results"].as_array().unwrap()
}

fn path<'a>(v: &'a Value, family: &str) -> &'a Value {
    paths(v)
        .iter()
        .find(|p| p["family"] == family)
        .unwrap_or_else(|| panic!("no {family} path in {v:#}"))
}

#[test]
fn clusterip_without_prestop_fails_and_gets_a_recommended_prestop() {
    let v = check_json(&[&fx("web-no-prestop.yaml")], 1);
    let p = path(&v, "kube-proxy");
    assert_eq!(p["last_send_worst_s"], 4.0);
    assert_eq!(p["app_stops_listening_s"], 0.0);
    assert_eq!(p["margin_s"], -4.0);
    assert_eq!(p["verdict"], "fail");
    assert_eq!(p["recommended_prestop_s"], 9.0);
    assert_eq!(p["recommended_termination_grace_period_s"], 34.0);
    assert_eq!(rules_of(p), ["GL030"]);
    assert_eq!(p["server_source"]["assumed"], true);
    assert_eq!(p["readiness_probe"], "httpGet /ready");
    assert_eq!(v["summary"]["kubernetes_paths"]["verdicts"]["fail"], 1);
    assert_eq!(v["summary"]["exit_code"], 1);
    // No preStop: the finding points at the container line.
    assert_eq!(p["findings"][0]["line"], 18);
    let text = graceline()
        .args(["check", &fx("web-no-prestop.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("help: preStop sleep >= 9s (terminationGracePeriodSeconds >= 34s)"),
        "{text}"
    );
    assert!(text.contains("app pods stop listening at SIGTERM"), "{text}");
}

#[test]
fn a_prestop_sleep_above_the_kube_proxy_chain_passes() {
    let v = check_json(&[&fx("web-prestop-10s.yaml")], 0);
    let p = path(&v, "kube-proxy");
    assert_eq!(p["prestop_s"], 10.0);
    assert_eq!(p["margin_s"], 6.0);
    // Typical: pass. The tail tier (the EndpointSlice controller's 1 + 2 + 4 s of retries after a
    // failed sync, pkg/controller/endpointslice/endpointslice_controller.go) reaches 11 s, past the
    // 10 s preStop: a warning (GL040) naming the preStop that covers it, 16 s.
    assert_eq!(p["verdict"], "warn");
    assert_eq!(rules_of(p), ["GL040"]);
    assert_eq!(p["tail"]["last_send_worst_s"], 11.0);
    assert_eq!(p["tail"]["recommended_prestop_s"], 16.0);
    assert!(v["kubernetes_paths"]["findings"].as_array().unwrap().is_empty());
}

#[test]
fn workloads_on_standard_input_are_judged_like_a_file() {
    // Same figures as the files: no preStop, margin 0 - 4 = -4 s, FAIL, preStop 9 s; preStop 10 s
    // passes with 6 s. Without --input-kind the content (apiVersion:/kind:) says YAML.
    for kind in [None, Some("k8s")] {
        let mut c = graceline();
        c.args(["check", "--format", "json", "-"]);
        if let Some(k) = kind {
            c.args(["--input-kind", k]);
        }
        let out = c
            .write_stdin(std::fs::read(fx("web-no-prestop.yaml")).unwrap())
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let p = path(&v, "kube-proxy");
        assert_eq!(p["file"], "<stdin>");
        assert_eq!(p["margin_s"], -4.0);
        assert_eq!(p["verdict"], "fail");
        assert_eq!(p["recommended_prestop_s"], 9.0);
        assert_eq!(p["findings"][0]["line"], 18);
        assert!(!v.to_string().contains("load balancers only"), "{v}");
    }
    let text = graceline()
        .args(["check", "-"])
        .write_stdin(std::fs::read(fx("web-prestop-10s.yaml")).unwrap())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("1 paths: 0 fail, 1 warn, 0 pass"), "{text}");
}

#[test]
fn the_same_pod_behind_an_nlb_with_ip_targets_fails_on_the_deregistration_path() {
    let v = check_json(&[&fx("web-nlb-ip.yaml")], 1);
    // Typical pass with a 10 s preStop; the 11 s tail warns (GL040).
    assert_eq!(path(&v, "kube-proxy")["verdict"], "warn");
    // --lb narrows the paths by Service or workload name too.
    let narrowed = check_json(&[&fx("web-nlb-ip.yaml"), "--lb", "shop/*"], 1);
    assert_eq!(paths(&narrowed).len(), 2);
    // The NLB's own check of the pod ends the path first: E2 at the end of the 10 s preStop,
    // 3 x 10 s of detection and the typical propagation up to 40 s = 80 s, before the
    // deregistration's 1 + 0 + 1 + 1 + 10 + 180 = 193 s; the app stops listening at 10 s.
    let p = path(&v, "lb-controller");
    assert_eq!(p["last_send_worst_s"], 80.0);
    assert_eq!(p["margin_s"], -70.0);
    assert_eq!(p["verdict"], "fail");
    assert_eq!(p["slowest_stage"], "lb-health-check");
    // A longer preStop delays the health check's E2 as much as the listener's close, so only the
    // deregistration can end the path in time: 193 s + the 5 s margin = 198 s (following the old
    // advice of 85 s left the path failing at 2m35s; see prestop_needed).
    assert_eq!(p["recommended_prestop_s"], 198.0);
    assert_eq!(p["recommended_termination_grace_period_s"], 223.0);
    assert_eq!(rules_of(p), ["GL030"]);
    // The finding points at the preStop command.
    assert_eq!(
        (p["findings"][0]["line"].as_u64(), p["findings"][0]["column"].as_u64()),
        (Some(27), Some(24))
    );
    assert!(p["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("lb-health-check"));
    // The LB health check of the same Service is judged against the app, not kube-apiserver.
    assert_eq!(v["results"][0]["server"], "app-stops-at-sigterm");
}

#[test]
fn kube_apiserver_without_a_shutdown_delay_fails_for_in_cluster_clients_and_70s_passes() {
    let v = check_json(&[&fx("kube-apiserver-0s.yaml")], 1);
    let p = path(&v, "kubernetes-service");
    // Typical: the pre-shutdown hook's two API calls (up to 1 s) + kube-proxy 1 + 1 + 1 s = 4 s
    // after SIGTERM; with no delay the listener closes when the hook is done (1 s): margin -3 s,
    // fix 4 + 5 = 9 s.
    assert_eq!(p["last_send_worst_s"], 4.0);
    assert_eq!(p["app_stops_listening_s"], 1.0);
    assert_eq!(p["margin_s"], -3.0);
    assert_eq!(p["verdict"], "fail");
    assert_eq!(p["recommended_shutdown_delay_s"], 9.0);
    assert_eq!(p["recommended_prestop_s"], Value::Null);
    assert_eq!(rules_of(p), ["GL030"]);
    // Tail: a hook that times out removed nothing; the lease (TTL 15 s) expires and a peer's
    // reconcile (10 s) rewrites the endpoints: 25 s + 3 s of kube-proxy = 28 s, while the listener
    // waited only the hook's 20 s bound; the delay that covers it is 28 + 5 = 33 s
    // (pkg/controlplane/controller/kubernetesservice/controller.go, pkg/controlplane/instance.go).
    assert_eq!(p["tail"]["last_send_worst_s"], 28.0);
    assert_eq!(p["tail"]["app_stops_listening_s"], 20.0);
    assert_eq!(p["tail"]["recommended_shutdown_delay_s"], 33.0);
    let v = check_json(&[&fx("kube-apiserver-70s.yaml")], 0);
    let p = path(&v, "kubernetes-service");
    // 70 s of delay against 4 s typical (and 28 s in the tail).
    assert_eq!(p["margin_s"], 66.0);
    assert_eq!(p["verdict"], "pass");
}

#[test]
fn master_count_is_flagged() {
    // At a graceful shutdown the pre-shutdown hook removes the IP whatever the reconciler
    // (RemoveEndpoints; the master-count reconciler deletes its own IP:
    // pkg/controlplane/reconcilers/instancecount.go): the path passes with the 70 s delay. A crash
    // leaves the IP for good: GL032, an error, at the --endpoint-reconciler-type flag.
    let v = check_json(&[&fx("kube-apiserver-master-count.yaml")], 1);
    let p = path(&v, "kubernetes-service");
    assert_eq!(p["last_send_worst_s"], 4.0);
    assert_eq!(p["verdict"], "pass");
    let general = v["kubernetes_paths"]["findings"].as_array().unwrap();
    let crash = general.iter().find(|f| f["rule"] == "GL032").unwrap();
    assert_eq!(crash["line"], 17);
    assert!(crash["message"].as_str().unwrap().contains("if it crashes"));
    assert!(crash["message"].as_str().unwrap().contains("--apiserver-count=3"));
}

#[test]
fn local_traffic_uses_the_lb_model_and_ingress_nginx_reads_kube_proxy_mode() {
    let v = check_json(&[&fx("local-traffic-aws.yaml")], 1);
    let p = path(&v, "local-traffic");
    // 1 + 0 + 1 + 1 + 1 s of kube-proxy, the NLB's 10 s x 2 check of the 503 and its typical
    // propagation up to 40 s = 64 s (best: 0 s of kube-proxy, the first probe at once and the
    // second 10 s later, no propagation).
    assert_eq!(p["last_send_worst_s"], 64.0);
    assert_eq!(p["last_send_best_s"], 10.0);
    assert_eq!(p["verdict"], "fail");
    assert_eq!(p["recommended_prestop_s"], 69.0);
    // ingress-nginx syncs through a token bucket of --sync-rate-limit 0.3/s, burst 1
    // (kubernetes/ingress-nginx pkg/flags/flags.go, internal/ingress/controller/nginx.go): the
    // controller stage is up to 3.33 s, so a 5 s preStop fails: 1 + 0 + 1 + 3.333334 + 1 =
    // 6.333334 s. IPVS syncs at once: kube-proxy's path is 3 s.
    let v = check_json(&[&fx("ingress-nginx-ipvs.yaml")], 1);
    assert_eq!(path(&v, "kube-proxy")["last_send_worst_s"], 3.0);
    assert_eq!(path(&v, "ingress-nginx")["last_send_worst_s"], 6.333334);
    assert_eq!(path(&v, "ingress-nginx")["verdict"], "fail");
    assert_eq!(path(&v, "ingress-nginx")["recommended_prestop_s"], 12.0);
}

#[test]
fn bad_input_is_said_or_refused() {
    let v = check_json(&[&fx("bad-selector.yaml")], 0);
    let f: Vec<&str> = v["kubernetes_paths"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        f.iter().any(|m| m.contains("selector app=api matches no workload")),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|m| m.contains("targetPort \"grpc\" names no container port")),
        "{f:?}"
    );
    graceline()
        .args(["check", "--fail-on", "warning", &fx("bad-selector.yaml")])
        .assert()
        .code(1);
    let v = check_json(&[&fx("prestop-script.yaml")], 0);
    let general = v["kubernetes_paths"]["findings"].as_array().unwrap();
    assert!(general
        .iter()
        .any(|f| f["rule"] == "GL034" && f["message"].as_str().unwrap().contains("assumed 5s")));
    let out = graceline()
        .args(["check", &fx("bad-grace.yaml")])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad-grace.yaml:8:34: field `spec.terminationGracePeriodSeconds`"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // A Helm template: a located error (exit 2), from the input reader, with or without other files.
    for args in [
        vec![fx("helm-template.yaml")],
        vec![fx("web-prestop-10s.yaml"), fx("helm-template.yaml")],
    ] {
        let out = graceline()
            .arg("check")
            .args(&args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("helm-template.yaml:4:10: this is a Helm chart template"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    // A Service with nothing to judge behind it and no load balancer: exit 2 with the reason.
    let out = graceline()
        .args(["check", "tests/fixtures/inputs/bad/no-lb.yaml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no Kubernetes path to check") && err.contains("default/api: no selector"),
        "{err}"
    );
}

#[test]
fn ci_formats_point_at_the_prestop_line() {
    let out = graceline()
        .args(["check", "--format", "sarif", &fx("web-nlb-ip.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "GL030").unwrap();
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 27);
    let idx = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][idx]["id"], "GL030");
    let out = graceline()
        .args(["check", "--format", "junit", &fx("web-nlb-ip.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let x = String::from_utf8(out).unwrap();
    assert!(
        x.contains(
            "GL030 path-routes-to-closed-port (shop/web / shop/web:80 LoadBalancer via AWS Load Balancer Controller"
        ),
        "{x}"
    );
    assert!(x.trim_end().ends_with("</testsuites>"));
    let out = graceline()
        .args(["check", "--format", "github", &fx("web-no-prestop.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let g = String::from_utf8(out).unwrap();
    assert!(
        g.contains("::error file=tests/fixtures/inputs/kubernetes-paths/web-no-prestop.yaml,line=18,col=9,title=GL030"),
        "{g}"
    );
}

/// Decodes a PNG and returns its size, checking that it shows a red closed-port band (RGB 200, 30,
/// 30) on a white background: the lanes were drawn, not a blank picture.
fn png_lanes(path: &std::path::Path) -> (u32, u32) {
    let (info, buf) = decode_png(path);
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    let px: Vec<&[u8]> = buf.chunks(3).collect();
    assert_eq!(px[0], [255, 255, 255], "white background");
    assert!(
        px.iter().any(|p| *p == [200, 30, 30]),
        "{}: no red band",
        path.display()
    );
    (info.width, info.height)
}

#[test]
fn explain_simulate_timeline_and_report_follow() {
    let out = graceline()
        .args(["explain", &fx("web-nlb-ip.yaml")])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("T+3m13s  nlb-deregistration-lag done (from T+13s;")
            && text.contains("T+1m20s  or: lb-health-check done (from T+10s;"),
        "{text}"
    );
    let stop = text.find("T+10s  the app stops listening").unwrap();
    assert!(
        stop < text.find("nlb-deregistration-lag done").unwrap(),
        "time order: {text}"
    );
    assert!(text.contains("recommended preStop 3m18s"), "{text}");
    let out = graceline()
        .args([
            "simulate",
            "--trials",
            "20000",
            "--format",
            "json",
            &fx("kube-apiserver-0s.yaml"),
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let p = &v["kubernetes_paths"][0];
    assert!(p["distribution"].as_str().unwrap().contains("uniform"));
    // Listener closes at max(0, hook) = hook; the kube-proxy stages (each up to 1 s) come after the
    // hook, so every sample fails unless all three are 0: P(fail) = 1 in practice.
    assert!(p["p_fail"].as_f64().unwrap() > 0.99, "{p}");
    assert!(p["last_send_p999_s"].as_f64().unwrap() <= 23.0);
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("paths.svg");
    graceline()
        .args([
            "timeline",
            &fx("web-nlb-ip.yaml"),
            &fx("kube-apiserver-70s.yaml"),
            "--output",
        ])
        .arg(&svg)
        .assert()
        .code(0);
    let lb_chart = std::fs::read_to_string(&svg).unwrap();
    assert!(lb_chart.contains("<svg"));
    let lanes = std::fs::read_to_string(dir.path().join("paths-paths.svg")).unwrap();
    assert!(lanes.contains("nlb-deregistration-lag") && lanes.contains("apiserver-lease-hook"));
    // PNG through the same drawing: with load balancers the lanes go next to the chart as
    // `<stem>-paths.png`; alone they are the picture, at the height the layout gives them.
    // The same layout as the SVG: the PNG has the height the SVG says.
    let height = |svg: &std::path::Path| -> u32 {
        let text = std::fs::read_to_string(svg).unwrap();
        let h = text.split("height=\"").nth(1).unwrap();
        h[..h.find('"').unwrap()].parse().unwrap()
    };
    let png = dir.path().join("paths.png");
    graceline()
        .args([
            "timeline",
            &fx("web-nlb-ip.yaml"),
            &fx("kube-apiserver-70s.yaml"),
            "--output",
        ])
        .arg(&png)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("paths-paths.png"));
    assert_eq!(
        png_lanes(&dir.path().join("paths-paths.png")),
        (1200, height(&dir.path().join("paths-paths.svg")))
    );
    assert!(png.is_file(), "the load-balancer chart");
    let alone = dir.path().join("x.PNG");
    graceline()
        .args(["timeline", &fx("kube-apiserver-0s.yaml"), "--output"])
        .arg(&alone)
        .assert()
        .code(0);
    let alone_svg = dir.path().join("x.svg");
    graceline()
        .args(["timeline", &fx("kube-apiserver-0s.yaml"), "--output"])
        .arg(&alone_svg)
        .assert()
        .code(0);
    assert_eq!(png_lanes(&alone), (1200, height(&alone_svg)));
    graceline()
        .args(["timeline", &fx("kube-apiserver-0s.yaml"), "--output"])
        .arg(dir.path().join("x.gif"))
        .assert()
        .code(2);
    assert!(!dir.path().join("x.gif").exists());
    let rep = dir.path().join("rep");
    graceline()
        .args(["report", &fx("web-no-prestop.yaml"), "--trials", "2000", "--output-dir"])
        .arg(&rep)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(
        md.contains("## Kubernetes paths") && md.contains("### shop/web"),
        "{md}"
    );
    assert!(
        md.contains("Recommended preStop 9s, terminationGracePeriodSeconds 34s"),
        "{md}"
    );
    assert!(rep.join("kubernetes-paths-timeline.svg").is_file());
}
