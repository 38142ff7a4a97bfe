//! Suppressions and baselines on the real binary (issue 18 point 2): inline comments in an
//! haproxy.cfg, YAML and scenario TOML, the `graceline.io/ignore` annotation, `[[ignore]]` entries
//! of graceline.toml (live, expired, unused) over a Terraform plan too, SARIF `suppressions`
//! against the schema, the exit code without the suppressed findings, and a baseline round trip.

use crate::support::{fixture, graceline, sarif_schema_errors};
use serde_json::Value;

/// `graceline check ARGS` in `dir`: (exit code, stdout, stderr).
fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = graceline().current_dir(dir).arg("check").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn suppressed(v: &Value) -> Vec<(String, String, String, String)> {
    v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rule"].as_str().unwrap().to_string(),
                s["subjects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                s["kind"].as_str().unwrap().to_string(),
                s["justification"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn active(v: &Value, rule: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["subjects"].to_string())
        .collect()
}

#[test]
fn suppressions_in_every_input_kind_are_listed_with_their_reasons() {
    let dir = fixture("inputs/suppress");
    let (code, out, err) = run(&dir, &["--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let s = suppressed(&v);
    let has = |rule: &str, subjects: &str, kind: &str, why: &str| {
        assert!(
            s.iter()
                .any(|x| x.0 == rule && x.1 == subjects && x.2 == kind && x.3.contains(why)),
            "{rule} {subjects} {kind} {why}: {s:#?}"
        );
    };
    // haproxy.cfg: a comment above the finding's line, grouped over the three servers, and a
    // trailing comment on one server line.
    has(
        "GL003",
        "apiserverbackend/cp1,apiserverbackend/cp2,apiserverbackend/cp3",
        "inSource",
        "INC-42",
    );
    has("GL001", "apiserverbackend/cp2", "inSource", "drained by hand");
    // Scenario TOML: a comment above the [[lb]] table.
    has("GL007", "azure-probe", "inSource", "INC-77");
    // Kubernetes YAML: the annotation on the Service.
    has("GL019", "hcp-demo/kube-apiserver", "inSource", "GOAWAY");
    // graceline.toml [[ignore]]: over haproxy.cfg and over the Terraform plan.
    has("GL019", "apiserverbackend/cp1", "external", "INC-51");
    has(
        "GL019",
        "module.vpc.aws_lb_target_group.api_internal",
        "external",
        "reconnect on reset",
    );
    assert_eq!(v["summary"]["suppressed"], s.len());
    // What is suppressed is gone from the findings; what is not stays.
    assert!(active(&v, "GL003").is_empty(), "{out}");
    assert_eq!(
        active(&v, "GL001")
            .iter()
            .filter(|x| x.contains("apiserverbackend"))
            .count(),
        2
    );
    assert!(active(&v, "GL007").is_empty());
    // The expired entry suppresses nothing and says so; the GL006 findings are reported.
    assert_eq!(active(&v, "GL006").len(), 2, "{out}");
    assert!(
        err.contains(
            "graceline.toml:18:1: [[ignore]] GL006 for module.* expired on 2000-01-01: it no longer suppresses"
        ),
        "{err}"
    );
    // Suppressions that match nothing are said, naming their line.
    assert!(
        err.contains("haproxy.cfg:22:5: `graceline:ignore GL008` matches no finding (it covers lines 22-23)"),
        "{err}"
    );
    assert!(
        err.contains("service.yaml:10:26: `graceline:ignore GL006` matches no finding"),
        "{err}"
    );
    assert!(
        err.contains("graceline.toml:24:1: [[ignore]] GL016 matches no finding"),
        "{err}"
    );
    // The table lists them too.
    let (_, table, _) = run(&dir, &[]);
    assert!(
        table.contains("suppressed (9; listed, not counted toward the exit code):"),
        "{table}"
    );
    assert!(
        table.contains("error[GL003] apiserverbackend/cp1, cp2, cp3 at haproxy.cfg:15:34: the /healthz check is kept until the upgrade to 1.31 (INC-42) (haproxy.cfg:14:5)"),
        "{table}"
    );
}

#[test]
fn sarif_carries_suppressions_and_validates() {
    let dir = fixture("inputs/suppress");
    let (_, out, _) = run(&dir, &["--format", "sarif"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let errors = sarif_schema_errors(&v);
    assert!(errors.is_empty(), "{errors:?}");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let with: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(with.len(), 9);
    let kinds: Vec<&str> = with
        .iter()
        .map(|r| r["suppressions"][0]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"inSource") && kinds.contains(&"external"), "{kinds:?}");
    for r in &with {
        assert_eq!(r["suppressions"][0]["status"], "accepted");
        assert!(!r["suppressions"][0]["justification"].as_str().unwrap().is_empty());
    }
    // JUnit lists them as skipped cases.
    let (_, junit, _) = run(&dir, &["--format", "junit"]);
    assert!(junit.contains("<testsuite name=\"suppressed\" tests=\"9\""), "{junit}");
    assert_eq!(junit.matches("<skipped message=\"suppressed by ").count(), 9);
}

#[test]
fn suppressed_findings_do_not_count_toward_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    // GL001 (at the `inter` line, E2 + 6 s >= E3 with no delay) is all there is.
    let text = "[server]\nprofile = \"kube-apiserver\"\ntermination_grace_period = \"90s\"\n\n[[lb]]\nname = \"api\"\nprofile = \"haproxy\"\n# graceline:ignore GL001 accepted: drained by hand before every restart\ninter = \"2s\"\nprotocol = \"https\"\npath = \"/readyz\"\nredispatch = true\n";
    std::fs::write(tmp.path().join("s.toml"), text).unwrap();
    let (code, out, err) = run(tmp.path(), &["s.toml", "--fail-on", "note"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("suppressed (1;"), "{out}");
    let without = text.replace(
        "# graceline:ignore GL001 accepted: drained by hand before every restart\n",
        "",
    );
    std::fs::write(tmp.path().join("s.toml"), without).unwrap();
    let (code, _, _) = run(tmp.path(), &["s.toml"]);
    assert_eq!(code, 1);
}

#[test]
fn a_baseline_round_trip_fails_only_on_new_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("multi.toml");
    std::fs::copy(fixture("multi-lb.toml"), &scenario).unwrap();
    let out = graceline()
        .current_dir(tmp.path())
        .args(["baseline", "multi.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(tmp.path().join("baseline.json"), &out.stdout).unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = doc["findings"].as_array().unwrap().len();
    assert!(entries >= 8, "{doc}");
    // Today's findings are all in it: exit 0, every one listed as suppressed by the baseline.
    let (code, out, err) = run(
        tmp.path(),
        &["multi.toml", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["findings"].as_array().unwrap().is_empty(), "{out}");
    let fps: usize = v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fingerprints"].as_array().unwrap().len())
        .sum();
    assert_eq!(fps, entries);
    assert!(suppressed(&v)
        .iter()
        .all(|s| s.2 == "external" && s.3 == "in the baseline baseline.json"));
    assert!(err.is_empty(), "{err}");
    // A new load balancer's findings are new: they fail, the old ones stay suppressed.
    let mut text = std::fs::read_to_string(&scenario).unwrap();
    text.push_str("\n[[lb]]\nname = \"nlb-new\"\nprofile = \"aws-nlb\"\n");
    std::fs::write(&scenario, &text).unwrap();
    let (code, out, _) = run(tmp.path(), &["multi.toml", "--baseline", "baseline.json", "-q"]);
    assert_eq!(code, 1);
    assert!(!out.is_empty() && out.lines().all(|l| l.contains("nlb-new")), "{out}");
    // A fixed finding leaves its entry unmatched: said, so the baseline can be written again.
    let fixed = text.replace("[[lb]]\nname = \"nlb-new\"\nprofile = \"aws-nlb\"\n", "");
    let fixed = fixed.replacen("path = \"/healthz\"", "path = \"/readyz\"", 1);
    std::fs::write(&scenario, fixed).unwrap();
    let (code, _, err) = run(tmp.path(), &["multi.toml", "--baseline", "baseline.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("baseline.json: 1 baseline entry does not match") || err.contains("match no finding any more"),
        "{err}"
    );
    // Not a baseline: exit 2 with what to do.
    std::fs::write(tmp.path().join("bad.json"), "{\"x\": 1}").unwrap();
    let (code, _, err) = run(tmp.path(), &["multi.toml", "--baseline", "bad.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a graceline baseline") && err.contains("graceline baseline > bad.json"),
        "{err}"
    );
}

#[test]
fn an_ignore_entry_names_a_known_rule() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("graceline.toml"),
        format!(
            "[[check]]\nlbs = [\"{}\"]\n\n[[ignore]]\nrule = \"GL07\"\nreason = \"x\"\n",
            fixture("multi-lb.toml").display()
        ),
    )
    .unwrap();
    let (code, _, err) = run(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("graceline.toml:5:8: field `ignore[0].rule`: \"GL07\" is not a rule (did you mean"),
        "{err}"
    );
}

/// A suppression in a file an nginx `include` read (the files are read once, includes too) covers
/// the finding at its line, and the diagnostic shows that line from the text read.
#[test]
fn a_suppression_in_an_nginx_include_covers_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("inputs/nginx/http-upstream");
    std::fs::create_dir(tmp.path().join("conf.d")).unwrap();
    std::fs::copy(src.join("nginx.conf"), tmp.path().join("nginx.conf")).unwrap();
    let app = std::fs::read_to_string(src.join("conf.d/app.conf")).unwrap();
    let marked = app.replacen(
        "  server 10.0.1.21:8080 max_fails=3 fail_timeout=5s;",
        "  # graceline:ignore GL021 passive by design, see INC-7\n  server 10.0.1.21:8080 max_fails=3 fail_timeout=5s;",
        1,
    );
    assert_ne!(marked, app);
    std::fs::write(tmp.path().join("conf.d/app.conf"), marked).unwrap();
    let args = [
        "nginx.conf",
        "--server",
        "app-stops-at-sigterm",
        "--lb",
        "app/10.0.1.21*",
    ];
    let (_, out, err) = run(tmp.path(), &[&args[..], &["--format", "json"]].concat());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        suppressed(&v)
            .iter()
            .any(|(rule, _, kind, why)| rule == "GL021" && kind == "inSource" && why == "passive by design, see INC-7"),
        "{out}"
    );
    assert!(active(&v, "GL021").is_empty(), "{out}");
    assert!(!err.contains("matches no finding"), "{err}");
    // The table's diagnostics quote the include's lines from the text read once.
    let (_, table, _) = run(tmp.path(), &args);
    assert!(table.contains("|     proxy_connect_timeout 2s;"), "{table}");
}
