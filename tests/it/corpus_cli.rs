//! Issue 9's corpus on the real binary: real-world-shaped configurations (under
//! tests/fixtures/inputs/corpus/, each naming its upstream source in a comment) read the way
//! HAProxy, kubectl and Terraform read them: exit code, pairs judged and skipped, settings read.
//! `haproxy_accepts_every_corpus_file_graceline_reads` keeps the corpus honest against `haproxy -c`.

use crate::support::{check_json, fixture_rel, graceline, root};
use serde_json::Value;
use std::path::Path;

const C: &str = "tests/fixtures/inputs/corpus";

/// A file of the corpus, relative to the root.
fn fx(name: &str) -> String {
    fixture_rel(&format!("inputs/corpus/{name}"))
}

/// The stderr of a run that must exit 2.
fn refused(args: &[&str]) -> String {
    let out = graceline()
        .arg("check")
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty(), "no partial output on exit 2");
    String::from_utf8(out.stderr).unwrap()
}

fn lbs(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lb"].as_str().unwrap().to_string())
        .collect()
}

fn skipped(v: &Value) -> Vec<String> {
    v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lb"].as_str().unwrap().to_string())
        .collect()
}

fn result<'a>(v: &'a Value, lb: &str) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lb"] == lb)
        .unwrap_or_else(|| panic!("no result for {lb} in {v}"))
}

/// Case 1: OpenShift's UPI haproxy.cfg is judged on its API backend only, without flags; the
/// machine-config server and ingress backends are listed as skipped with the reason.
#[test]
fn mixed_haproxy_cfg_gives_the_api_backends_only() {
    let cfg = fx("openshift-upi/haproxy.cfg");
    let v = check_json(&[&cfg, "--server", "kube-apiserver-openshift", "--no-fail"], 0);
    let api: Vec<_> = ["bootstrap", "master0", "master1", "master2"]
        .iter()
        .map(|s| format!("api-server-6443/{s}"))
        .collect();
    assert_eq!(lbs(&v), api);
    let sk = skipped(&v);
    assert_eq!(sk.len(), 8, "{sk:?}");
    assert!(sk.iter().all(|s| !s.starts_with("api-server")));
    let reason = v["skipped"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("port 22623, not the server's port 6443"), "{reason}");
    assert_eq!(v["skipped"][0]["line"], 39);
    // inter 10s fall 2 over HTTPS /readyz: 10 s x 2 = 20 s worst (plus the probe's reply time).
    let m0 = result(&v, "api-server-6443/master0");
    assert!(m0["worst_case_s"].as_f64().unwrap() >= 20.0, "{m0}");
    // The table lists the skipped backends too.
    let out = graceline()
        .args(["check", &cfg, "--no-fail"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("skipped (not judged): 8 load balancers"), "{text}");
    // --lb replaces the default selection (repeatable, glob on the LB name).
    let v = check_json(
        &[
            &cfg,
            "--lb",
            "machine-config-server-22623/*",
            "--lb",
            "ingress-router-80/worker0",
            "--no-fail",
        ],
        0,
    );
    assert_eq!(lbs(&v).len(), 5);
    assert_eq!(skipped(&v).len(), 7);
    let e = refused(&[&cfg, "--lb", "nope/*"]);
    assert!(e.contains("nope/*") && e.contains("match no load balancer"), "{e}");
}

/// Case 1, k0s: konnectivity (8132) and the join API (9443) are skipped.
#[test]
fn k0s_gives_the_kube_api_backend_only() {
    let v = check_json(&[&fx("k0s/haproxy.cfg"), "--no-fail"], 0);
    assert_eq!(
        lbs(&v),
        ["kubeAPI_backend/k0s-controller1", "kubeAPI_backend/k0s-controller2"]
    );
    assert_eq!(skipped(&v).len(), 4);
}

/// Case 1, Terraform: the OpenShift installer's machine-config-server target group is skipped.
#[test]
fn openshift_installer_terraform_skips_the_mcs_target_group() {
    let v = check_json(&[&fx("terraform/openshift-installer-mcs.tfplan.json"), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["module.vpc.aws_lb_target_group.api_internal"]);
    assert_eq!(skipped(&v), ["module.vpc.aws_lb_target_group.services"]);
}

/// graceline.toml: `select =` picks LBs by name and `haproxy_join = true` reads split files as one.
#[test]
fn project_file_select_and_join() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[[check]]\nname = \"mcs\"\nlbs = [\"{0}/openshift-upi/haproxy.cfg\"]\nselect = [\"machine-config-server-22623/*\"]\n\n[[check]]\nname = \"split\"\nlbs = [\"{0}/split/00-defaults.cfg\", \"{0}/split/10-api.cfg\"]\nhaproxy_join = true\n",
        root().join(C).display()
    );
    let p = dir.path().join("graceline.toml");
    std::fs::write(&p, toml).unwrap();
    let v = check_json(&[p.to_str().unwrap(), "--no-fail"], 0);
    let names = lbs(&v);
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names[..4].iter().all(|n| n.starts_with("machine-config-server-22623/")));
    let cp1 = result(&v, "apiserverbackend/cp1");
    // Joined: defaults' option httpchk GET /readyz and default-server inter 5s fall 2 apply.
    assert_eq!(cp1["worst_case_s"].as_f64().unwrap().floor(), 10.0, "{cp1}");
}

/// Case 2: split configurations, as a directory (`-f dir/`) or joined files (`-f A -f B`).
#[test]
fn split_configurations_are_one_configuration() {
    // Read apart, the API file has no defaults: a plain TCP check, blind to /readyz (GL003).
    let v = check_json(&[&fx("split/10-api.cfg")], 1);
    let r = result(&v, "apiserverbackend/cp1");
    assert!(
        r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "GL003"),
        "{r}"
    );
    // Joined: HTTPS /readyz every 5 s, down after 2: 10 s worst, located in 00-defaults.cfg.
    let joined = check_json(
        &[
            "--haproxy-join",
            &fx("split/00-defaults.cfg"),
            &fx("split/10-api.cfg"),
            "--no-fail",
        ],
        0,
    );
    let dir = check_json(&[&fx("split/conf.d"), "--no-fail"], 0);
    for v in [&joined, &dir] {
        assert_eq!(lbs(v), ["apiserverbackend/cp1", "apiserverbackend/cp2"]);
        let r = result(v, "apiserverbackend/cp1");
        assert_eq!(r["worst_case_s"].as_f64().unwrap().floor(), 10.0, "{r}");
        assert!(
            !r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "GL003"),
            "{r}"
        );
    }
    // The directory's README.txt (not *.cfg) is not read, as haproxy -f dir/ skips it.
    assert!(!lbs(&dir).iter().any(|l| l.starts_with("ignored")));
    assert!(dir["results"][0]["scenario"].as_str().unwrap().ends_with("conf.d"));
}

/// Case 3: `.if/.elif/.else/.endif` and `"${VAR-default}"`, with --haproxy-env overriding.
#[test]
fn conditions_and_environment_variables() {
    let cfg = fx("conditions/haproxy.cfg");
    // Defaults: inter 2s, fall 3, timeout check 3s; both servers (CLUSTER_SIZE defaults to 3).
    let v = check_json(&[&cfg, "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1", "api/cp2"]);
    let base = result(&v, "api/cp1")["worst_case_s"].as_f64().unwrap();
    assert!((6.0..7.0).contains(&base), "{base}");
    // CHECK_INTER=5s: 15 s; SINGLE_NODE drops cp2 through `.if !defined(SINGLE_NODE) && ...`.
    let v = check_json(
        &[
            &cfg,
            "--haproxy-env",
            "CHECK_INTER=5s",
            "--haproxy-env",
            "SINGLE_NODE=1",
            "--no-fail",
        ],
        0,
    );
    assert_eq!(lbs(&v), ["api/cp1"]);
    let slow = result(&v, "api/cp1")["worst_case_s"].as_f64().unwrap();
    assert!((15.0..16.0).contains(&slow), "{slow}");
    // The process environment counts too, as for HAProxy.
    let out = graceline()
        .env("CLUSTER_SIZE", "1")
        .args(["check", "--format", "json", &cfg, "--no-fail"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(lbs(&v), ["api/cp1"]);
    // An HAProxy older than 2.5 takes the .else branch with its .warning: still read.
    check_json(&[&cfg, "--haproxy-version", "2.4", "--no-fail"], 0);
    let e = refused(&[&cfg, "--haproxy-version", "two"]);
    assert!(e.contains("--haproxy-version"), "{e}");
    let e = refused(&[&cfg, "--haproxy-env", "CHECK_INTER=2sec"]);
    assert!(
        e.contains(":30:") && e.contains("2sec") && e.contains("after environment variable expansion"),
        "{e}"
    );
}

/// Case 4: `OPTIONS *` and `uri-lf` are read (as HTTP checks that cannot see /readyz); the API
/// backend next to them is judged.
#[test]
fn options_star_and_uri_lf_are_read() {
    let cfg = fx("checks/options-star.cfg");
    let v = check_json(&[&cfg, "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1"]);
    assert_eq!(skipped(&v), ["web/web1", "web-lf/web2"]);
    let v = check_json(&[&cfg, "--lb", "web*", "--no-fail"], 0);
    let web = result(&v, "web/web1");
    let msg = web["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL003")
        .unwrap();
    assert!(msg["message"].as_str().unwrap().contains("HTTP check of *"), "{msg}");
}

/// Case 5: misspelled keywords are refused at the token with the nearest keyword, as HAProxy does.
#[test]
fn misspelled_keywords_are_refused_with_a_suggestion() {
    for (file, at, word, hint) in [
        ("server-intr.cfg", ":11:34:", "'intr'", "'inter'"),
        ("default-server-intr.cfg", ":11:18:", "'intr'", "'inter'"),
        ("optoin.cfg", ":11:3:", "'optoin'", "'option'"),
        ("htttpchk.cfg", ":11:10:", "'htttpchk'", "'httpchk'"),
        ("timeout-chekc.cfg", ":11:11:", "'chekc'", "'check'"),
    ] {
        let e = refused(&[&fx(&format!("misspelled/{file}"))]);
        assert!(
            e.contains(&format!("{file}{at}")) && e.contains(word) && e.contains(&format!("did you mean {hint}")),
            "{file}: {e}"
        );
    }
    // `fal` on the same line is refused too once `intr` is fixed.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.cfg");
    std::fs::write(&p, "backend api\n  server cp1 10.0.0.1:6443 check inter 2s fal 5\n").unwrap();
    let e = refused(&[p.to_str().unwrap()]);
    assert!(e.contains(":2:43:") && e.contains("did you mean 'fall'"), "{e}");
}

/// Case 6: other check types, each modelled by what it sees or refused naming the keyword.
#[test]
fn other_check_types() {
    // tcp-check sending GET /readyz and expecting 200 is an HTTPS check of /readyz; cp2 tracks
    // cp1 and so leaves the rotation with it; agent-check beside check keeps the check's timing.
    let v = check_json(&[&fx("checks/tcp-check-http.cfg"), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1", "api/cp2", "api-agent/cp3"]);
    for lb in ["api/cp1", "api/cp2"] {
        let r = result(&v, lb);
        assert_eq!(r["worst_case_s"].as_f64().unwrap().floor(), 4.0, "{r}");
        assert!(
            !r["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "GL003"),
            "{r}"
        );
    }
    assert_eq!(
        result(&v, "api-agent/cp3")["worst_case_s"].as_f64().unwrap().floor(),
        9.0
    );
    let e = refused(&[&fx("checks/external-check.cfg")]);
    assert!(
        e.contains("external-check.cfg:14:10:") && e.contains("option external-check"),
        "{e}"
    );
    let e = refused(&[&fx("checks/check-port.cfg")]);
    assert!(e.contains("check-port.cfg:12:39:") && e.contains("port 10248"), "{e}");
    // HAProxy 3.x healthcheck sections (2.6 refuses them, so not in the haproxy -c corpus).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h3.cfg");
    std::fs::write(
        &p,
        "healthcheck api-readyz
  type httpchk GET /readyz
backend api
  server cp1 10.0.0.1:6443 check healthcheck api-readyz
",
    )
    .unwrap();
    let e = refused(&[p.to_str().unwrap()]);
    assert!(e.contains(":4:34:") && e.contains("healthcheck api-readyz"), "{e}");
    // A refused check in a backend that is not judged does not reject the file.
    std::fs::write(
        &p,
        "backend mcs
  option external-check
  server m 10.0.0.9:22623 check
backend api
  server cp1 10.0.0.1:6443 check
",
    )
    .unwrap();
    let v = check_json(&[p.to_str().unwrap(), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1"]);
    assert_eq!(skipped(&v), ["mcs/m"]);
}

/// Case 7: kubectl output: `kind: List` in YAML and JSON, JSON by content whatever the extension.
#[test]
fn kubectl_lists_and_json_services() {
    for f in [
        "k8s/kubectl-get-svc.yaml",
        "k8s/kubectl-get-svc.json",
        "k8s/kubectl-get-svc.txt",
    ] {
        let v = check_json(&[&fx(f), "--no-fail"], 0);
        assert_eq!(lbs(&v), ["hcp-demo/kube-apiserver"], "{f}");
        // HTTPS /readyz every 10 s, unhealthy after 2: 20 s of detection.
        assert_eq!(v["results"][0]["detection_worst_s"], 20.0, "{f}");
    }
}

/// Case 8: a Helm template is exit 2 saying to render it, with or without --allow-empty.
#[test]
fn helm_templates_are_refused() {
    let f = fx("k8s/helm-service.yaml");
    for args in [vec![f.as_str()], vec![f.as_str(), "--allow-empty"]] {
        let e = refused(&args);
        assert!(
            e.contains("helm-service.yaml:6:9:") && e.contains("helm template"),
            "{e}"
        );
    }
}

/// Case 9: Services of other clouds are named, never read with AWS semantics (even with --cloud).
#[test]
fn other_clouds_are_named() {
    for (f, who) in [
        ("ingress-nginx-do.yaml", "DigitalOcean"),
        ("ingress-nginx-scaleway.yaml", "Scaleway"),
        ("ingress-nginx-oracle.yaml", "Oracle"),
        ("ingress-nginx-exoscale.yaml", "Exoscale"),
        ("ingress-nginx-metallb.yaml", "MetalLB"),
    ] {
        for extra in [None, Some("--cloud=aws")] {
            let p = fx(&format!("k8s/{f}"));
            let mut args = vec![p.as_str()];
            args.extend(extra);
            let e = refused(&args);
            assert!(e.contains(who) && e.contains(":7:"), "{f}: {e}");
        }
    }
}

/// Case 10: `aws_elb` health checks are read; a target group without health_check says which
/// values were assumed.
#[test]
fn terraform_aws_elb_and_assumed_defaults() {
    let plan = fx("terraform/kops-elb.tfplan.json");
    // kops runs the API on 443: with its manifest the ELB is judged (HTTPS /readyz every 10 s,
    // unhealthy after 2: 20 s); without it the default port 6443 leaves nothing to judge.
    let v = check_json(&[&plan, &fx("terraform/kops-kube-apiserver.yaml"), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["aws_elb.api-mycluster-example-com"]);
    let r = &v["results"][0];
    assert_eq!(r["provider"], "aws-clb");
    assert_eq!(r["worst_case_s"], 20.0);
    // Only the profile's own assumptions are left: the unpublished LB node count and a
    // propagation of 0 for lack of any figure.
    assert!(
        r["assumed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["setting"] == "probers" || a["setting"] == "propagation_delay"),
        "{}",
        r["assumed"]
    );
    let e = refused(&[&plan]);
    assert!(e.contains("left out by the selection"), "{e}");
    let v = check_json(&[&plan, "--lb", "aws_elb.*", "--no-fail"], 0);
    assert_eq!(lbs(&v).len(), 1);
    // No health_check block: every value used is named as assumed.
    let v = check_json(
        &[&fx("terraform/target-group-no-health-check.tfplan.json"), "--no-fail"],
        0,
    );
    let assumed: Vec<String> = v["results"][0]["assumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} = {} ({})",
                a["setting"].as_str().unwrap(),
                a["value"].as_str().unwrap(),
                a["source"].as_str().unwrap()
            )
        })
        .collect();
    for field in [
        "interval",
        "timeout",
        "healthy_threshold",
        "unhealthy_threshold",
        "protocol",
    ] {
        assert!(
            assumed
                .iter()
                .any(|a| a.starts_with(field) && a.contains("profile's default")),
            "{field}: {assumed:?}"
        );
    }
    assert!(
        assumed
            .iter()
            .any(|a| a.starts_with("health_check = (no block)") && a.contains("no health_check block")),
        "{assumed:?}"
    );
}

/// Case 11: image tag + digest keeps the version; digest only is said and conservative;
/// --server takes precedence over a manifest among the inputs.
#[test]
fn manifest_images_and_server_precedence() {
    let lb = fx("manifests/haproxy-6443.cfg");
    // v1.17.3 (pinned with a digest too): /readyz fails only at listener close, budget 0: FAIL.
    let v = check_json(&[&lb, &fx("manifests/kube-apiserver-v1.17.3-digest.yaml")], 1);
    assert_eq!(v["results"][0]["budget_s"], 0.0);
    assert_eq!(v["results"][0]["server_source"]["assumed"], false);
    // v1.29.3: /readyz fails at SIGTERM, the 20 s delay covers 6 s: the LB passes. Its
    // `kubernetes` Service path passes typically (the hook's two API calls, up to 1 s, then 3 s of
    // kube-proxy: 4 s, margin 16 s) and warns in the tail: a hook that times out leaves the
    // endpoint to the lease's expiry and a peer's reconcile (25 s), 28 s with kube-proxy, while
    // the listener waits only the hook's 20 s bound (pkg/controlplane/controller/
    // kubernetesservice/controller.go, pkg/controlplane/instance.go).
    let v = check_json(&[&lb, &fx("manifests/kube-apiserver-v1.29.3.yaml")], 0);
    assert_eq!(v["results"][0]["budget_s"], 20.0);
    assert_eq!(v["results"][0]["verdict"], "pass");
    let p = &v["kubernetes_paths"]["results"][0];
    assert_eq!(p["margin_s"], 16.0);
    assert_eq!(p["verdict"], "warn");
    assert_eq!(p["tail"]["margin_s"], -8.0);
    assert_eq!(p["tail"]["recommended_shutdown_delay_s"], 33.0);
    // Digest only: version unknown, said, conservative.
    let v = check_json(&[&lb, &fx("manifests/kube-apiserver-digest-only.yaml")], 1);
    let src = &v["results"][0]["server_source"];
    assert_eq!(src["assumed"], true);
    assert!(src["reason"].as_str().unwrap().contains("digest only"), "{src}");
    assert_eq!(v["results"][0]["budget_s"], 0.0);
    // --server wins over the manifest among the inputs, even one graceline cannot read fully.
    let pod = "tests/fixtures/inputs/openshift/kube-apiserver-pod.yaml";
    let v = check_json(&[&lb, pod, "--server", "kube-apiserver-openshift", "--no-fail"], 0);
    assert_eq!(v["results"][0]["server"], "kube-apiserver-openshift");
    let v = check_json(
        &[
            &lb,
            &fx("manifests/kube-apiserver-v1.29.3.yaml"),
            "--server",
            "kube-apiserver-pre-1.18",
        ],
        1,
    );
    assert_eq!(v["results"][0]["server"], "kube-apiserver-pre-1.18");
}

/// Case 12: Latin-1 bytes in comments are read (HAProxy reads bytes); a BOM is named in words.
#[test]
fn encodings() {
    let v = check_json(&[&fx("encodings/latin1-comment.cfg"), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1"]);
    let e = refused(&[&fx("encodings/bom.cfg")]);
    assert!(e.contains("bom.cfg:1:1:") && e.contains("byte order mark (BOM"), "{e}");
    // A directory without any input is not "Is a directory".
    let dir = tempfile::tempdir().unwrap();
    let e = refused(&[dir.path().to_str().unwrap()]);
    assert!(e.contains("the directory has no file graceline reads"), "{e}");
    // --allow-empty never hides an unreadable file.
    let e = refused(&[&fx("encodings/bom.cfg"), "--allow-empty"]);
    assert!(e.contains("BOM"), "{e}");
}

/// Issue 19, point 6: HAProxy read as HAProxy 2.6 reads real files (each checked with `haproxy -c`
/// in `haproxy_accepts_every_corpus_file_graceline_reads`).
#[test]
fn haproxy_reading_fixes() {
    // A last line without a newline is refused as HAProxy refuses it, at the same position.
    let e = refused(&[&fx("encodings/no-final-newline.cfg")]);
    assert!(
        e.contains("no-final-newline.cfg:11:56:") && e.contains("Missing LF on last line") && e.contains("position 56"),
        "{e}"
    );
    // `tcp-check connect port N` with a port-less server: refused like the explicit-port case,
    // naming the port the client connected to (the listen's bind).
    let e = refused(&[&fx("checks/tcp-check-port-portless.cfg")]);
    assert!(
        e.contains("tcp-check-port-portless.cfg:13:26:") && e.contains("port 10248, not the traffic port 6443"),
        "{e}"
    );
    // Port-less servers take the client's port: the API backend is judged for 6443 through the
    // frontend's bind; ingress is skipped for its ports 80 and 443 (+8000 for w2); the 0.0.0.0
    // set-dst next hop is no server to judge and appears nowhere.
    let v = check_json(&[&fx("portless/haproxy.cfg"), "--no-fail"], 0);
    assert_eq!(lbs(&v), ["api/cp1", "api/cp2"]);
    assert_eq!(skipped(&v), ["ingress/w1", "ingress/w2"]);
    let reasons: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("port 80, 443,"), "{reasons:?}");
    assert!(reasons[1].contains("port 8080, 8443,"), "{reasons:?}");
    let all = check_json(&[&fx("portless/haproxy.cfg"), "--lb", "*", "--no-fail"], 0);
    assert!(!lbs(&all).iter().any(|l| l.starts_with("egress")), "{:?}", lbs(&all));
    // Servers without check keep the backend's retries (2, not the default 3).
    let v = check_json(&[&fx("retries/unchecked.cfg"), "--no-fail"], 0);
    let cp1 = result(&v, "api/cp1");
    let gl019 = cp1["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "GL019")
        .unwrap_or_else(|| panic!("{cp1}"));
    assert!(gl019["message"].as_str().unwrap().contains("retries 2,"), "{gl019}");
    assert_eq!(gl019["line"], 11, "{gl019}");
    assert!(
        !cp1["assumed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["setting"] == "retries"),
        "{cp1}"
    );
    // An HTTP check on another port (Patroni's REST API on 8008, traffic to PostgreSQL on 5432)
    // is read, not refused, and not taken for the traffic port: the reader hands the lead the
    // check's port as data for a finding.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(fx("checks/http-check-other-port.cfg"));
    let text = std::fs::read_to_string(&path).unwrap();
    let read = graceline::input::haproxy::lbs("patroni.cfg", &text).unwrap();
    assert_eq!(read.len(), 1);
    let lb = &read[0];
    assert_eq!(lb.ports, [5432]);
    let port = lb.settings.port.as_ref().expect("the check's other port");
    assert_eq!((port.value, port.loc.line, port.loc.column), (8008, 27, 76));
    assert!(lb.refused.is_none());
    // ... and said as a warning at that port: the check watches another listener or process.
    let v = check_json(
        &[&fx("checks/http-check-other-port.cfg"), "--lb", "batman/*", "--no-fail"],
        0,
    );
    let other = v["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("the check goes to port 8008"))
        .unwrap_or_else(|| panic!("no finding about the check's port: {v}"));
    assert_eq!(
        (other["rule"].as_str(), other["severity"].as_str()),
        (Some("GL003"), Some("warning"))
    );
    assert_eq!((other["line"].as_u64(), other["column"].as_u64()), (Some(27), Some(76)));
}

/// Every haproxy.cfg of the corpus graceline reads is accepted by `haproxy -c` (HAProxy 2.6, the
/// Debian package CI installs), and every one graceline refuses as HAProxy would is refused by it
/// too, so the corpus cannot drift from HAProxy's grammar. Under CI=true a missing haproxy fails.
#[test]
fn haproxy_accepts_every_corpus_file_graceline_reads() {
    let Some(bin) = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is not installed, but CI=true: install it (apt-get install haproxy)"
        );
        eprintln!("skipped: haproxy is not installed");
        return;
    };
    let corpus = root().join(C);
    let run = |files: &[&str]| -> (bool, String) {
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("-c");
        for f in files {
            cmd.arg("-f").arg(corpus.join(f));
        }
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let accepted: &[&[&str]] = &[
        &["openshift-upi/haproxy.cfg"],
        &["k0s/haproxy.cfg"],
        &["split/00-defaults.cfg", "split/10-api.cfg"],
        &["split/conf.d"],
        &["conditions/haproxy.cfg"],
        &["checks/options-star.cfg"],
        &["checks/tcp-check-http.cfg"],
        &["checks/external-check.cfg"],
        &["checks/check-port.cfg"],
        &["encodings/latin1-comment.cfg"],
        &["manifests/haproxy-6443.cfg"],
        &["checks/tcp-check-port-portless.cfg"],
        &["checks/http-check-other-port.cfg"],
        &["portless/haproxy.cfg"],
        &["retries/unchecked.cfg"],
    ];
    for files in accepted {
        let (ok, err) = run(files);
        assert!(ok, "haproxy -c refuses {files:?}: {err}");
    }
    let refused_too: &[&str] = &[
        "misspelled/server-intr.cfg",
        "misspelled/default-server-intr.cfg",
        "misspelled/optoin.cfg",
        "misspelled/htttpchk.cfg",
        "misspelled/timeout-chekc.cfg",
        "encodings/bom.cfg",
        "encodings/no-final-newline.cfg",
    ];
    for f in refused_too {
        let (ok, _) = run(&[f]);
        assert!(!ok, "haproxy -c accepts {f}, which graceline refuses");
    }
    // Every .cfg of the corpus is in one of the two lists.
    let mut all = Vec::new();
    for dir in std::fs::read_dir(&corpus).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "cfg") {
                all.push(f.strip_prefix(&corpus).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    for f in all {
        let listed = accepted.iter().any(|l| l.contains(&f.as_str())) || refused_too.contains(&f.as_str());
        assert!(listed, "{f} is in neither list of this test");
    }
}
