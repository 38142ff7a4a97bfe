//! CLI tests of the real binary on users' own configurations: haproxy.cfg, Kubernetes Services,
//! Terraform JSON, kube-apiserver manifests and graceline.toml: findings at their files, lines and
//! columns (bad inputs with their located errors: tests/cmd/check-bad-*, check-server-*).

use crate::support::{check_json, fixture, fixture_rel, graceline, root, stdout_ok, write_file};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A file of this module's folder, tests/fixtures/inputs/, relative to the root.
fn fx(name: &str) -> String {
    fixture_rel(&format!("inputs/{name}"))
}

fn findings(v: &Value) -> Vec<(String, String, u64, u64)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The findings of the Kubernetes paths: (rule, file, line, column).
fn path_findings(v: &Value) -> Vec<(String, String, u64, u64)> {
    let k = &v["kubernetes_paths"];
    k["results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["findings"].as_array().unwrap().iter())
        .chain(k["findings"].as_array().into_iter().flatten())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(v: &Value, rule: &str, file: &str, line: u64, column: u64) -> bool {
    findings(v)
        .iter()
        .any(|f| f.0 == rule && f.1 == file && f.2 == line && f.3 == column)
}

#[test]
fn kubeadm_haproxy_with_its_manifest_points_into_both_files() {
    let cfg = fx("kubeadm-ha/haproxy.cfg");
    let man = fx("kubeadm-ha/kube-apiserver.yaml");
    let v = check_json(&[&cfg, &man], 1);
    let r = &v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["lb"], "apiserverbackend/cp1");
    assert_eq!(r[0]["provider"], "haproxy");
    assert_eq!(r[0]["server"], man.as_str());
    assert_eq!(r[0]["server_source"]["origin"], man.as_str());
    assert_eq!(r[0]["server_source"]["assumed"], false);
    // The check of /healthz is blind to /readyz (the `http-check send ... uri /healthz` token).
    assert!(has(&v, "GL003", &cfg, 48, 34), "{:?}", findings(&v));
    // GL001 at the server line (no inter written), GL004 at the manifest's pod spec.
    assert!(has(&v, "GL001", &cfg, 54, 5), "{:?}", findings(&v));
    assert!(has(&v, "GL004", &man, 15, 1), "{:?}", findings(&v));
}

#[test]
fn without_a_server_the_output_says_which_was_assumed() {
    graceline()
        .args(["check", &fx("kubeadm-ha/haproxy.cfg")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "note: server assumed built-in profile kube-apiserver: no --server and no kube-apiserver manifest among the inputs (3 pairs)",
        ));
    let v = check_json(&[&fx("kubeadm-ha/haproxy.cfg")], 1);
    let s = &v["results"][0]["server_source"];
    assert_eq!(s["assumed"], true);
    assert_eq!(s["origin"], "builtin:kube-apiserver");
    let v = check_json(
        &[&fx("kubeadm-ha/haproxy.cfg"), "--server", "kube-apiserver-openshift"],
        1,
    );
    assert_eq!(v["results"][0]["server_source"]["assumed"], false);
    assert_eq!(v["results"][0]["server"], "kube-apiserver-openshift");
}

#[test]
fn openshift_aws_nlb_from_terraform_warns_in_the_tail_and_fails_with_the_tail_as_error_tier() {
    let plan = fx("aws/openshift-nlb.tfplan.json");
    let pod = fx("openshift/kube-apiserver-pod.yaml");
    // The operator-rendered pod pins its image by digest only: the release is unknown, so the
    // conservative pre-1.18 /readyz behaviour is assumed (budget 0) and the output says so.
    let v = check_json(&[&plan, "--server", &pod], 1);
    let r = &v["results"][0];
    assert_eq!(r["budget_s"], 0.0);
    assert_eq!(r["server_source"]["assumed"], true);
    assert!(
        r["server_source"]["reason"].as_str().unwrap().contains("digest only"),
        "{r}"
    );
    // With the OpenShift AWS profile (shutdown-delay 129 s, modern /readyz): HTTPS /readyz,
    // interval 10, threshold 2, timeout 10 (AWS default for HTTPS): 20 s detection + the NLB's
    // typical propagation up to 40 s = 60 s, margin 69 s; the tail (cross-zone off, the NLB
    // default: up to 240 s) does not pass 129 s: GL020, a warning.
    let v = check_json(&[&plan, "--server", "kube-apiserver-openshift-aws"], 0);
    let r = &v["results"][0];
    assert_eq!(r["lb"], "module.vpc.aws_lb_target_group.api_internal");
    assert_eq!(r["provider"], "aws-nlb");
    assert_eq!(r["detection_worst_s"], 20.0);
    assert_eq!(r["worst_case_s"], 60.0);
    assert_eq!(r["budget_s"], 129.0);
    assert_eq!(r["tiers"]["tail"]["worst_case_s"], 260.0);
    assert!(has(&v, "GL020", &plan, 24, 33), "{:?}", findings(&v));
    assert!(!findings(&v).iter().any(|f| f.0 == "GL001"), "{:?}", findings(&v));
    // With the tail as the error tier: GL001.
    let v = check_json(
        &[
            &plan,
            "--server",
            "kube-apiserver-openshift-aws",
            "--propagation",
            "tail",
        ],
        1,
    );
    assert_eq!(v["results"][0]["worst_case_s"], 260.0);
    assert!(has(&v, "GL001", &plan, 24, 33), "{:?}", findings(&v));
    let v = check_json(&[&plan, "--server", "kube-apiserver-openshift-aws"], 0);
    // With a propagation measured inside 129 - 20 - 5 s, it passes: the user's own figure in
    // graceline.toml replaces the profile's range for every LB of the check.
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("graceline.toml");
    std::fs::write(
        &project,
        format!(
            "[[check]]\nserver = \"kube-apiserver-openshift-aws\"\nlbs = [\"{}\"]\npropagation_delay = [\"30s\", \"40s\"]\n",
            root().join(&plan).display()
        ),
    )
    .unwrap();
    let out = graceline()
        .args(["check", "--format", "json"])
        .arg(&project)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let own: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(own["results"][0]["worst_case_s"], 60.0);
    assert!(own["results"][0]["propagation_source"]
        .as_str()
        .unwrap()
        .contains("graceline.toml:4:21"));
    std::fs::write(
        &project,
        format!(
            "[[check]]\nserver = \"kube-apiserver-openshift-aws\"\nlbs = [\"{}\"]\npropagation_delay = [\"40s\", \"30s\"]\n",
            root().join(&plan).display()
        ),
    )
    .unwrap();
    graceline()
        .arg("check")
        .arg(&project)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("graceline.toml:4:").and(predicates::str::contains("reversed")));
    // No target_health_state in the plan: AWS resets connections (GL006, a warning).
    assert!(has(&v, "GL006", &plan, 17, 25), "{:?}", findings(&v));
    graceline()
        .args([
            "check",
            "--fail-on",
            "warning",
            &plan,
            "--server",
            "kube-apiserver-openshift-aws",
        ])
        .assert()
        .code(1);
    // The same LB in front of upstream defaults (no delay) fails at the interval attribute.
    let v = check_json(&[&plan], 1);
    assert!(has(&v, "GL001", &plan, 24, 33), "{:?}", findings(&v));
}

#[test]
fn lbc_service_annotations_are_the_locations() {
    let svc = fx("aws/service-lbc-nlb.yaml");
    let v = check_json(&[&svc], 1);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["lb"], "hcp-demo/kube-apiserver");
    // ip targets: the NLB checks the pod (HTTPS /readyz every 10 s, 2 failures: 20 s detection
    // + the typical propagation up to 40 s = 60 s from E2) and the controller deregisters it when
    // its endpoint goes (1 + 0 + 1 + 1 + 10 s, then the NLB's 180 s lag = 193 s from the deletion);
    // the earlier ends the path. E2 is the deletion here (kube-apiserver's upstream defaults).
    assert_eq!(r[0]["check"], "pod");
    assert_eq!(r[0]["route"]["kind"], "lb-controller");
    assert_eq!(r[0]["times_from"], "pod-deletion");
    assert_eq!(r[0]["worst_case_s"], 60.0);
    // The connection-termination attribute in the annotation, and no GL006 (it is disabled).
    assert!(has(&v, "GL019", &svc, 20, 75), "{:?}", findings(&v));
    assert!(!findings(&v).iter().any(|f| f.0 == "GL006" && f.2 < 30));
    // No pod-level GL001: the path carries the verdict, at the Service (no file holds the pods).
    assert!(!findings(&v).iter().any(|f| f.0 == "GL001"), "{:?}", findings(&v));
    assert!(
        path_findings(&v).iter().any(|f| f.0 == "GL030" && f.2 == 7),
        "{:?}",
        path_findings(&v)
    );
    // The in-tree NLB without annotations: instance targets under Cluster policy check the node's
    // NodePort, which kube-proxy answers from any ready pod: no GL003, kube-proxy's path instead.
    assert_eq!(r[1]["lb"], "hcp-demo/kube-apiserver-legacy");
    assert_eq!(r[1]["check"], "node-port");
    assert_eq!(r[1]["route"]["kind"], "kube-proxy");
    assert!(!findings(&v).iter().any(|f| f.0 == "GL003"), "{:?}", findings(&v));
    assert!(has(&v, "GL010", &svc, 35, 9), "{:?}", findings(&v));
    // Against OpenShift's 129 s: the health check's 60 s passes; in the tail of the NLB's
    // evidence (cross-zone off: 20 + 240 s) the deregistration's 193 s ends the path after the
    // app stops listening: the path's tail warning (GL040), the row's verdict WARN.
    let v = check_json(&[&svc, "--server", "kube-apiserver-openshift-aws", "--no-fail"], 0);
    assert_eq!(v["results"][0]["verdict"], "warn");
    assert!(
        path_findings(&v).iter().any(|f| f.0 == "GL040"),
        "{:?}",
        path_findings(&v)
    );
}

#[test]
fn gcp_state_and_service_use_documented_defaults() {
    let state = fx("gcp/openshift-gcp.tfstate.json");
    let v = check_json(&[&state, "--server", "kube-apiserver-openshift-gcp"], 0);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    // interval 2 s, threshold 3: 6 s detection when /readyz answers 500 at once, + GCP's typical
    // 60 s; in the tail (63 s) 69 s, still 26 s before OpenShift's 95 s.
    assert_eq!(r[0]["detection_worst_s"], 6.0);
    assert_eq!(r[0]["worst_case_s"], 66.0);
    assert_eq!(r[0]["tiers"]["tail"]["worst_case_s"], 69.0);
    // One-line JSON as terraform prints it: line 1, the column of the resource's values.
    assert!(findings(&v).iter().all(|f| f.1 == state && f.2 == 1 && f.3 > 100));
    // The GKE Service with externalTrafficPolicy Local: the LB checks kube-proxy's
    // healthCheckNodePort, never the pod's /readyz, so no GL003: the Local path judges it (1 + 0 +
    // 1 + 1 + 1 s of kube-proxy, then the 3 s x 2 check of the 503 and GCP's 60 s = 70 s).
    let svc = fx("gcp/service.yaml");
    let v = check_json(&[&svc, "--server", "kube-apiserver-openshift-gcp"], 0);
    assert!(!findings(&v).iter().any(|f| f.0 == "GL003"), "{:?}", findings(&v));
    assert!(has(&v, "GL010", &svc, 6, 9), "{:?}", findings(&v));
    assert_eq!(v["results"][0]["route"]["kind"], "local-traffic");
    assert_eq!(v["results"][0]["worst_case_s"], 70.0);
}

#[test]
fn azure_probe_and_service() {
    let plan = fx("azure/openshift-azure.tfplan.json");
    let svc = fx("azure/service.yaml");
    let v = check_json(&[&plan, &svc, "--server", "kube-apiserver-openshift"], 0);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["worst_case_s"], 5.0);
    assert_eq!(r[2]["lb"], "hcp-demo/kube-apiserver");
    // The Service's probe goes to the node's NodePort under Cluster policy: kube-proxy answers it
    // from any ready pod, so the pod leaves through kube-proxy's path (4 s from the deletion).
    assert_eq!(r[2]["check"], "node-port");
    assert_eq!(r[2]["worst_case_s"], 4.0);
    let v = check_json(&[&plan, &svc], 1);
    assert!(
        !findings(&v).iter().any(|f| f.0 == "GL001" && f.1 == svc),
        "{:?}",
        findings(&v)
    );
    assert!(has(&v, "GL010", &svc, 6, 9), "{:?}", findings(&v));
    assert!(has(&v, "GL001", &plan, 18, 40), "{:?}", findings(&v));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    copy_dir(&root().join(fx("project")), &dir);
    (tmp, dir)
}

#[test]
fn project_file_checks_everything_from_the_repository_root() {
    let (_tmp, dir) = project();
    let out = graceline()
        .current_dir(&dir)
        .args(["check", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert!(r.iter().all(|x| x["scenario"] == "api"));
    assert!(r.iter().all(|x| x["server"] == "manifests/kube-apiserver.yaml"));
    assert!(has(&v, "GL001", "haproxy/apiserver.cfg", 54, 5), "{:?}", findings(&v));
    // The Service's NLB (ip targets) leaves the pod through the controller's path: its GL030
    // points at the manifest's delay flag, the GL010 of the row at the Service.
    assert!(has(&v, "GL010", "k8s/service-api.yaml", 7, 9), "{:?}", findings(&v));
    assert!(
        path_findings(&v)
            .iter()
            .any(|f| f.0 == "GL030" && f.1 == "manifests/kube-apiserver.yaml"),
        "{:?}",
        path_findings(&v)
    );
    assert!(
        has(&v, "GL004", "manifests/kube-apiserver.yaml", 15, 1),
        "{:?}",
        findings(&v)
    );
    // The same project named explicitly from elsewhere: paths relative to the working directory.
    graceline()
        .current_dir(dir.parent().unwrap())
        .args(["check", "repo/graceline.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("repo/haproxy/apiserver.cfg:54:5"));
}

#[test]
fn a_glob_matching_nothing_fails_unless_allowed() {
    let (_tmp, dir) = project();
    std::fs::write(
        dir.join("graceline.toml"),
        "[[check]]\nserver = \"kube-apiserver\"\nlbs = [\"haproxy/*.cfg\", \"tf/plan.json\"]\n",
    )
    .unwrap();
    graceline()
        .current_dir(&dir)
        .arg("check")
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("graceline.toml:3:25").and(predicate::str::contains("matches no file")));
    graceline()
        .current_dir(&dir)
        .args(["check", "--allow-empty"])
        .assert()
        .code(1);
}

#[test]
fn a_plain_scenario_graceline_toml_keeps_working() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("seed-openshift-aws.toml"), tmp.path().join("graceline.toml")).unwrap();
    graceline()
        .current_dir(tmp.path())
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("openshift-installer-seed"));
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("plan.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    graceline()
        .args(["check", big.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            ":1:1: the file is 100 MiB, over the 64 MiB graceline reads",
        ));
    let yaml = tmp.path().join("svc.yaml");
    std::fs::write(&yaml, format!("kind: Service\n#{}\n", "x".repeat(17 * 1024 * 1024))).unwrap();
    graceline()
        .args(["check", yaml.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("over the 16 MiB graceline parses"));
}

#[test]
fn many_files_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = std::fs::read_to_string(root().join(fx("azure/service.yaml"))).unwrap();
    let n: usize = std::env::var("GRACELINE_MANY_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    std::fs::create_dir(tmp.path().join("k8s")).unwrap();
    for i in 0..n {
        let text = svc.replace("name: kube-apiserver\n", &format!("name: api-{i}\n"));
        std::fs::write(tmp.path().join(format!("k8s/svc-{i:05}.yaml")), text).unwrap();
    }
    std::fs::write(
        tmp.path().join("graceline.toml"),
        "[[check]]\nserver = \"kube-apiserver-openshift\"\nlbs = [\"k8s/*.yaml\"]\n",
    )
    .unwrap();
    let out = graceline()
        .current_dir(tmp.path())
        .args(["check", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), n);
}

#[test]
fn server_applies_to_scenarios_and_the_builtin_matrix_or_fails() {
    let seed = fixture("seed-openshift-aws.toml");
    let seed = seed.to_str().unwrap();
    // The scenario's own server (delay 30 s, hanging /readyz): detection 30 s. With --server
    // kube-apiserver-openshift (/readyz answers 500 at once, delay 70 s) the same NLB 10/10/2
    // needs p + 10 -> 20 s and the server is the named one (the seed fails on the NLB's typical
    // propagation, up to 40 s; the named server's 70 s passes it, 20 + 40 = 60 s, and warns in
    // the tail).
    let v = check_json(&[seed], 1);
    assert_eq!(v["results"][0]["detection_worst_s"], 30.0);
    let v = check_json(&[seed, "--server", "kube-apiserver-openshift"], 0);
    assert_eq!(v["results"][0]["server"], "kube-apiserver-openshift");
    assert_eq!(v["results"][0]["detection_worst_s"], 20.0);
    // A name that is neither a profile nor a file: exit 2 for a scenario and the built-in matrix
    // alike (it is resolved before any input is read), with a suggestion for a near miss.
    for args in [
        vec!["check", seed, "--server", "no-such-server"],
        vec!["check", "--server", "no-such-server"],
    ] {
        graceline()
            .args(&args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("neither a built-in server profile nor a file"));
    }
    graceline()
        .args(["check", seed, "--server", "kube-apiserver-openshfit"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean \"kube-apiserver-openshift\""));
    // The built-in matrix with --server: every LB profile against that server only.
    let out = graceline()
        .args(["check", "--server", "kube-apiserver-openshift-gcp", "--format", "json"])
        .assert()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 10);
    assert!(r.iter().all(|x| x["server"] == "kube-apiserver-openshift-gcp"));
}

#[test]
fn a_server_typo_in_the_project_file_is_an_input_error() {
    let (_tmp, dir) = project();
    std::fs::copy(fixture("seed-openshift-aws.toml"), dir.join("seed.toml")).unwrap();
    std::fs::write(
        dir.join("graceline.toml"),
        "[[check]]\nserver = \"kube-apiserver-openshfit\"\nlbs = [\"seed.toml\"]\n",
    )
    .unwrap();
    graceline()
        .current_dir(&dir)
        .arg("check")
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("graceline.toml:2:")
                .and(predicate::str::contains("did you mean \"kube-apiserver-openshift\"")),
        );
}

#[test]
fn an_unchecked_server_is_named_in_an_error() {
    // kubeadm-like backend: `a` is checked over HTTPS /readyz, `b` has no `check`. HAProxy never
    // takes `b` out: with the upstream server (delay 0 s, request grace 60 s, SIGKILL at 30 s, so
    // E5 = min(0 + 60, 30) = E2 + 30 s) new connections reach it until the process is back, 30 s
    // after E2 (no rollout startup given).
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("haproxy.cfg");
    std::fs::write(
        &cfg,
        "backend api\n  option httpchk GET /readyz\n  http-check expect status 200\n  server a 10.0.0.1:6443 check check-ssl\n  server b 10.0.0.2:6443\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let v = check_json(&[cfg], 1);
    assert!(has(&v, "GL008", cfg, 5, 3), "{:?}", findings(&v));
    let r = v["results"].as_array().unwrap();
    let b = r.iter().find(|x| x["lb"] == "api/b").unwrap();
    assert_eq!(b["worst_case_s"], 30.0);
    let msg = findings(&v);
    assert!(msg.iter().any(|f| f.0 == "GL008"), "{msg:?}");
}

/// The kubeadm-like backend of `an_unchecked_server_is_named_in_an_error`: `a` checked, `b` not.
const UNCHECKED_CFG: &str = "backend api\n  option httpchk GET /readyz\n  http-check expect status 200\n  server a 10.0.0.1:6443 check check-ssl\n  server b 10.0.0.2:6443\n";

fn unchecked_cfg(dir: &Path, text: &str) -> String {
    write_file(dir, "haproxy.cfg", text).display().to_string()
}

#[test]
fn simulate_gives_an_unchecked_server_its_one_deterministic_figure() {
    // `b` has no check: every trial is E5 - E2 + startup = min(0 + 60, 30) - 0 + 0 = 30 s (no
    // probe phase, no jitter), so every percentile is 30 s and P(E2 + t >= E3 = E2 + 0 s) = 1. The
    // defaulted TCP check model (inter 2 s, fall 3) would give at most 6 s.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = unchecked_cfg(tmp.path(), UNCHECKED_CFG);
    let out = stdout_ok(&["simulate", "--trials", "3000", "--format", "json", &cfg]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = v["results"].as_array().unwrap();
    let b = r.iter().find(|x| x["lb"] == "api/b").unwrap();
    for k in [
        "p50_s",
        "p90_s",
        "p99_s",
        "p999_s",
        "max_s",
        "min_s",
        "mean_s",
        "exact_worst_s",
        "exact_best_s",
    ] {
        assert_eq!(b[k], 30.0, "{k}: {b}");
    }
    assert_eq!(b["violation_probability"], 1.0);
    assert_eq!(b["unchecked"], true);
    assert!(b["random"].as_str().unwrap().contains("no check exists"), "{b}");
    assert_eq!(
        b["assumed"].as_array().unwrap().len(),
        0,
        "no check setting is used: {b}"
    );
    let a = r.iter().find(|x| x["lb"] == "api/a").unwrap();
    assert_eq!(a["unchecked"], false);
    assert!(a["max_s"].as_f64().unwrap() <= 6.0, "{a}");
    let table = stdout_ok(&["simulate", "--trials", "3000", &cfg]);
    assert!(
        table.contains("api/b: random: nothing: no check exists, every sample is E5 - E2 + startup = 30s"),
        "{table}"
    );
    assert!(!table.contains("api/b: ASSUMED"), "{table}");
}

#[test]
fn timeline_draws_an_unchecked_server_without_probes() {
    // Only `b`, without check: its lane says it is never checked, carries no probes (no "n/3"
    // failure counts, which a checked lane with fall 3 shows) and ends routing when the process is
    // back, 30 s after E2.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = unchecked_cfg(
        tmp.path(),
        "backend api\n  option httpchk GET /readyz\n  server b 10.0.0.2:6443\n",
    );
    let svg_path = tmp.path().join("t.svg");
    graceline()
        .args(["timeline", "-o", svg_path.to_str().unwrap(), &cfg])
        .assert()
        .code(0);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("never checked: routed to until the process is back"));
    assert!(svg.contains("never marked down: routed to until the process is back, 30s after E2"));
    for n in ["1/3", "2/3", "3/3"] {
        assert!(!svg.contains(n), "a probe count {n} in an unchecked lane");
    }
    // The same backend with `check`: a probed lane, with its failure counts.
    let checked = unchecked_cfg(
        tmp.path(),
        "backend api\n  option httpchk GET /readyz\n  server b 10.0.0.2:6443 check\n",
    );
    graceline()
        .args(["timeline", "-o", svg_path.to_str().unwrap(), &checked])
        .assert()
        .code(0);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("3/3") && !svg.contains("never checked"));
}

#[test]
fn report_and_recommend_tell_the_unchecked_story() {
    // `b`: never checked, 30 s from E2 until the process is back (see above); nothing to search.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = unchecked_cfg(tmp.path(), UNCHECKED_CFG);
    let dir = tmp.path().join("rep");
    graceline()
        .args([
            "report",
            "--trials",
            "2000",
            "--output-dir",
            dir.to_str().unwrap(),
            &cfg,
        ])
        .assert()
        .code(0);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for want in [
        "| api/b | haproxy | none: never checked, routed to until the process is back (E5 - E2 + startup = 30s) | - (never marked down) | 30s |",
        "| api/b | none (no `check`) | - | 0 |",
        "| api/b | never removed (no `check`) |",
        "Load balancer `api/b` (profile `haproxy`): ",
        "The server line at `",
        "- api/b: nothing: no check exists",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    assert!(!md.contains("Effective check: api/b"));
    assert!(!md
        .lines()
        .any(|l| l.starts_with("| `inter` | 2s |") && l.contains("api/b")));
    let rec = stdout_ok(&["recommend", "--format", "json", &cfg]);
    let v: Value = serde_json::from_str(&rec).unwrap();
    let r = v["results"].as_array().unwrap();
    let b = r.iter().find(|x| x["lb"] == "api/b").unwrap();
    assert_eq!(b["unchecked"], true);
    assert_eq!(b["current"]["worst_case_s"], 30.0);
    assert_eq!(b["current"]["settings"], Value::Null);
    assert_eq!(
        (b["evaluated"].as_u64(), b["pareto"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    assert_eq!(b["least_load"], Value::Null);
    assert_eq!(b["min_shutdown_delay_s"], Value::Null);
    assert!(
        b["note"]
            .as_str()
            .unwrap()
            .contains("nothing to tune but adding `check`"),
        "{b}"
    );
    let a = r.iter().find(|x| x["lb"] == "api/a").unwrap();
    assert!(a["evaluated"].as_u64().unwrap() > 0);
    let table = stdout_ok(&["recommend", &cfg]);
    assert!(
        table.contains("now:        no check -> worst case 30s (fails)"),
        "{table}"
    );
    let v = check_json(&[&cfg], 1);
    let b = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["lb"] == "api/b")
        .unwrap()
        .clone();
    assert_eq!(
        (b["probes_per_second"].as_f64(), b["assumed"].as_array().map(Vec::len)),
        (Some(0.0), Some(0))
    );
}

#[test]
fn terraform_target_groups_take_aws_defaults_for_their_protocol() {
    // ALB (HTTPS target group) with a health_check block but no timeout: AWS applies 5 s for
    // ALB, below the 10 s interval, so no GL005 (reading it as 10 s gave a false "timeout must be
    // less than interval"). An NLB (TCP) target group without any health_check block: Terraform
    // sends nothing and AWS's NLB defaults apply (TCP, 30 s, timeout 10 s, thresholds 5/2), each
    // named as assumed.
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {"root_module": {"resources": [
  {"address": "aws_lb_target_group.alb", "mode": "managed", "type": "aws_lb_target_group", "name": "alb",
   "values": {"protocol": "HTTPS", "port": 6443,
              "health_check": [{"interval": 10, "healthy_threshold": 2, "unhealthy_threshold": 2, "protocol": "HTTPS", "path": "/readyz", "matcher": "200"}]}},
  {"address": "aws_lb_target_group.nlb", "mode": "managed", "type": "aws_lb_target_group", "name": "nlb",
   "values": {"protocol": "TCP", "port": 6443}}
]}}}"#,
    )
    .unwrap();
    let plan = plan.to_str().unwrap();
    let v = check_json(&[plan, "--server", "kube-apiserver-openshift"], 1);
    let r = v["results"].as_array().unwrap();
    let alb = r.iter().find(|x| x["lb"] == "aws_lb_target_group.alb").unwrap();
    assert!(
        !alb["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "GL005"),
        "{alb}"
    );
    assert!(settings(alb).contains(&"timeout = 5s".to_string()), "{alb}");
    let nlb = r.iter().find(|x| x["lb"] == "aws_lb_target_group.nlb").unwrap();
    let assumed = settings(nlb);
    for want in [
        "interval = 30s",
        "timeout = 10s",
        "unhealthy_threshold = 2",
        "healthy_threshold = 5",
        "protocol = tcp",
    ] {
        assert!(assumed.contains(&want.to_string()), "{want} not in {assumed:?}");
    }
    // The table names them too.
    graceline()
        .args(["check", plan, "--server", "kube-apiserver-openshift"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("assumed, not read from the input")
                .and(predicate::str::contains("aws_lb_target_group.alb (aws-alb):"))
                .and(predicate::str::contains("timeout = 5s")),
        );
}

#[test]
fn bad_success_codes_in_annotations_and_plans_exit_2_at_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = tmp.path().join("svc.yaml");
    std::fs::write(
        &svc,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-type: external\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes: \"200-\"\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 6443\n",
    )
    .unwrap();
    graceline()
        .args(["check", svc.to_str().unwrap(), "--server", "kube-apiserver"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("svc.yaml:7:").and(predicate::str::contains("not an HTTP status code")));
    // ALB accepts 200-499 only: a plan asking for 200-599 is refused at the matcher.
    let plan = tmp.path().join("plan.json");
    std::fs::write(
        &plan,
        "{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\", \"planned_values\": {\"root_module\": {\"resources\": [\n{\"address\": \"aws_lb_target_group.alb\", \"mode\": \"managed\", \"type\": \"aws_lb_target_group\", \"name\": \"alb\", \"values\": {\"protocol\": \"HTTPS\", \"port\": 6443,\n\"health_check\": [{\"interval\": 10, \"protocol\": \"HTTPS\", \"path\": \"/readyz\", \"matcher\": \"200-599\"}]}}\n]}}}",
    )
    .unwrap();
    graceline()
        .args(["check", plan.to_str().unwrap(), "--server", "kube-apiserver"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("plan.json:3:").and(predicate::str::contains("from 200 to 499")));
}

/// A result's assumed values as "setting = value".
fn settings(r: &Value) -> Vec<String> {
    r["assumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} = {}", a["setting"].as_str().unwrap(), a["value"].as_str().unwrap()))
        .collect()
}
