//! The example reports under `reports/` are regenerated here and must match what is committed.

use crate::support::{fixture, graceline, root};
use std::path::{Path, PathBuf};

const CASES: [&str; 4] = ["openshift-aws", "kubeadm-haproxy", "gcp", "azure"];

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| ext.contains(&e.to_str().unwrap())))
        .collect();
    v.sort();
    v
}

#[test]
fn committed_reports_are_up_to_date() {
    let root = root();
    let update = std::env::var_os("UPDATE_REPORTS").is_some();
    let mut stale = Vec::new();
    for case in CASES {
        let dir = root.join("reports").join(case);
        let scenarios: Vec<String> = files(&dir, &["toml"])
            .iter()
            .map(|p| format!("reports/{case}/{}", p.file_name().unwrap().to_str().unwrap()))
            .collect();
        assert!(!scenarios.is_empty(), "{case}: no scenario files");
        let tmp = tempfile::tempdir().unwrap();
        let out = if update { dir.clone() } else { tmp.path().to_path_buf() };
        graceline()
            .arg("report")
            .args(&scenarios)
            .arg("--output-dir")
            .arg(&out)
            .args(["--trials", "100000"])
            .assert()
            .code(0);
        if update {
            continue;
        }
        let made = files(tmp.path(), &["md", "svg", "manifest"]);
        let committed = files(&dir, &["md", "svg", "manifest"]);
        let names = |v: &[PathBuf]| v.iter().map(|p| p.file_name().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(
            names(&made),
            names(&committed),
            "{case}: the set of report files changed"
        );
        for (m, c) in made.iter().zip(&committed) {
            if std::fs::read(m).unwrap() != std::fs::read(c).unwrap() {
                stale.push(c.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale reports: {stale:?}; regenerate with `UPDATE_REPORTS=1 cargo test --test it reports::` (see reports/README.md)"
    );
}

#[test]
fn report_rejects_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    graceline()
        .arg("report")
        .arg(fixture("bad-zero-interval.toml"))
        .arg("--output-dir")
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.join("report.md").exists());
    graceline().args(["report", "--output-dir"]).arg(&out).assert().code(2);
}

#[cfg(unix)]
#[test]
fn report_md_and_charts_get_the_same_mode() {
    // Load balancers only, then with Kubernetes paths (whose section once left report.md 0600).
    for input in [
        "tests/fixtures/seed-openshift-aws.toml",
        "tests/fixtures/inputs/kubernetes-paths/web-no-prestop.yaml",
    ] {
        report_modes(input);
    }
}

#[cfg(unix)]
fn report_modes(input: &str) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .args(["report", input, "--trials", "1000", "--output-dir"])
        .arg(tmp.path())
        .assert()
        .code(0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let md = mode(&tmp.path().join("report.md"));
    let svgs = files(tmp.path(), &["svg"]);
    assert!(!svgs.is_empty());
    for svg in svgs {
        assert_eq!(md, mode(&svg), "report.md {md:o} vs {}", svg.display());
    }
    assert_eq!(md & 0o600, 0o600);
    // The charts follow the umask (0644 with the usual 022), never tempfile's private 0600.
    assert_ne!(md, 0o600, "{input}: report.md is private");
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".graceline-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The report of `args` written to a fresh directory: (directory, report.md).
fn report_of(args: &[&str], trials: &str) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    graceline()
        .arg("report")
        .args(args)
        .arg("--output-dir")
        .arg(tmp.path())
        .args(["--trials", trials])
        .assert()
        .code(0);
    let md = std::fs::read_to_string(tmp.path().join("report.md")).unwrap();
    (tmp, md)
}

/// The Markdown section under `heading` (up to the next heading of the same or a higher level).
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md.find(heading).unwrap_or_else(|| panic!("no {heading:?}"));
    let level = heading.chars().take_while(|c| *c == '#').count();
    let rest = &md[start + heading.len()..];
    let end = rest
        .match_indices("\n#")
        .find(|(i, _)| rest[i + 1..].chars().take_while(|c| *c == '#').count() <= level)
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// The table rows (cells) of a Markdown section.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
        .skip(1)
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

fn secs(v: &serde_json::Value) -> graceline::time::Micros {
    graceline::time::Micros((v.as_f64().unwrap() * 1e6).round() as i64)
}

/// Done means (issue 17): the report's sections carry `check`'s verdicts and figures and
/// `simulate`'s sampled P on the same input, each assumed value says what it changes in the same
/// words as `simulate`, send-retry-after's clients see the 429 that GL001 names, and the header
/// names the version and the inputs' digest.
#[test]
fn report_sections_agree_with_check_and_simulate() {
    let inputs = ["reports/openshift-aws/seed.toml", "reports/openshift-aws/today.toml"];
    let (_dir, md) = report_of(&inputs, "20000");
    let check = crate::support::json_ok(
        graceline()
            .args(["check", "--format", "json", "--no-fail"])
            .args(inputs),
    );
    let sim = crate::support::json_ok(
        graceline()
            .args(["simulate", "--format", "json", "--trials", "20000"])
            .args(inputs),
    );
    let summary = rows(section(&md, "## Summary"));
    let results = check["results"].as_array().unwrap();
    assert_eq!(summary.len(), results.len(), "{summary:?}");
    for (row, r) in summary.iter().zip(results) {
        assert_eq!(row[1], r["lb"].as_str().unwrap());
        let verdict = match r["verdict"].as_str().unwrap() {
            "fail" => "FAIL",
            "warn" => "WARN",
            _ => "pass",
        };
        assert_eq!(row[2], verdict, "{row:?}");
        let (w, b, m) = (secs(&r["worst_case_s"]), secs(&r["budget_s"]), secs(&r["margin_s"]));
        assert_eq!(row[3], format!("{w} against {b} (margin {m})"), "{row:?}");
    }
    // The sampled P of every load balancer is simulate's, with its interval.
    for d in sim["results"].as_array().unwrap() {
        let p = graceline::analysis::report::Proportion::from_share(
            d["violation_probability"].as_f64().unwrap(),
            d["trials"].as_u64().unwrap(),
        );
        let scenario = format!("## {}\n", d["scenario"].as_str().unwrap());
        let line = md[md.find(&scenario).unwrap()..]
            .lines()
            .find(|l| l.starts_with(&format!("| {} | aws-nlb | ", d["lb"].as_str().unwrap())))
            .unwrap();
        assert!(line.contains(&format!("| {p} |")), "{line} vs {p}");
        // What each assumed value changes: simulate's words and the report's cell come from
        // one derivation.
        let sc = inputs
            .iter()
            .map(|f| graceline::scenario::load_file(&crate::support::root().join(f)).unwrap())
            .find(|s| s.name == d["scenario"].as_str().unwrap());
        let scenario_section = &md[md.find(&scenario).unwrap()..];
        for a in d["assumed"].as_array().unwrap() {
            let key = a["setting"].as_str().unwrap();
            let row = format!("| `{key}` | {} |", a["value"].as_str().unwrap());
            let line = scenario_section
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("{row}"));
            {
                let sc = sc.as_ref().unwrap();
                let lb = sc.lbs.iter().find(|l| l.name == d["lb"].as_str().unwrap()).unwrap();
                let e = graceline::analysis::sensitivity::effects(sc, lb)
                    .into_iter()
                    .find(|e| e.setting == key)
                    .unwrap();
                assert_eq!(a["effect"].as_str().unwrap(), e.words());
                assert!(line.ends_with(&format!("| {} |", e.short())), "{line} vs {}", e.short());
            }
        }
    }
    // The issue's contradictions: the values that change the worst case say so, the healthy
    // threshold and matcher that change nothing say that.
    let cell = |key: &str| -> Vec<&str> {
        md.lines()
            .filter(|l| l.starts_with(&format!("| `{key}` |")))
            .map(|l| l.trim_end_matches(" |").rsplit(" | ").next().unwrap())
            .collect()
    };
    assert!(cell("propagation_delay").contains(&"worst case, best case, sampled, re-admission"));
    assert!(
        cell("matcher").contains(&"none while it rejects 500"),
        "{:?}",
        cell("matcher")
    );
    assert!(cell("healthy_threshold").iter().all(|c| *c == "re-admission"));
    assert!(cell("interval").iter().all(|c| c.starts_with("worst case")));
    assert!(
        cell("timeout").contains(&"worst case, best case, sampled"),
        "{:?}",
        cell("timeout")
    );
    assert!(!md.contains("not the exact worst case"));
    let table = crate::support::stdout(graceline().args(["simulate", "--trials", "2000"]).args(inputs));
    // Propagation is said as the tier the verdict takes (issue 15), with every tier's P beside it.
    assert!(
        table.contains("propagation 0s-40s, the aws-nlb profile's typical tier"),
        "{table}"
    );
    assert!(
        table.contains("P(violation) by propagation tier: typical* 0s-40s"),
        "{table}"
    );
    assert!(!table.contains("changes every figure above"), "{table}");
    // Too few trials are said by simulate as by report, and percentiles carry no more digits than
    // the spread supports (about a minute of spread: tenths of a second at most).
    assert!(table.contains("WARNING: 2000 trials per load balancer"), "{table}");
    assert!(
        !regex::Regex::new(r"\dm\d+\.\d{2,}s").unwrap().is_match(&table),
        "{table}"
    );
    // One duration format: simulate's percentiles as check writes durations.
    assert!(
        regex::Regex::new(r"\b\d{3,}\.\d{3}s").unwrap().find(&table).is_none(),
        "{table}"
    );
    // Capacity under overlap: all out means none serving.
    for row in rows(section(&md, "### Rolling restart")) {
        if row[2] == "3 of 3" {
            assert!(row[3].starts_with("0 of 3: "), "{row:?}");
        }
    }
    // send-retry-after: what clients see says 429, like GL001 and the chart.
    let today = &md[md.find("## OpenShift on AWS: 129 s").unwrap()..];
    let clients = section(today, "### What clients see");
    assert!(clients.contains("is answered 429 with Retry-After"), "{clients}");
    // A finding two load balancers share is listed once, with both names, and What clients see
    // points to it instead of repeating it.
    let findings = section(today, "### Findings");
    assert_eq!(findings.matches("**GL019").count(), 1, "{findings}");
    // A location two grouped load balancers share is named once.
    assert!(
        findings.contains("(warning) `reports/openshift-aws/today.toml:43:1`: api-int, api-int-measured-40s"),
        "{findings}"
    );
    assert!(
        findings.contains("api-int, api-int-measured-40s: established keep-alive"),
        "{findings}"
    );
    assert_eq!(
        today.matches("kube-apiserver closes idle keep-alive").count(),
        1,
        "{today}"
    );
    // The delay the summary recommends is the one Recommendations and GL001 ask for (the seed
    // case fails in the typical tier: 30 s detection + 40 s propagation + 5 s margin).
    let row = summary
        .iter()
        .find(|r| r[0].contains("installer") && r[1] == "api-int")
        .unwrap();
    let delay = regex::Regex::new(r"shutdown_delay >= (\w+)").unwrap();
    let want = &delay.captures(&row[4]).unwrap()[1];
    assert_eq!(want, "1m15s", "{row:?}");
    let seed =
        &md[md.find("## OpenShift on AWS: the installer").unwrap()..md.find("## OpenShift on AWS: 129 s").unwrap()];
    let recs = &seed[seed.find("### Recommendations").unwrap()..seed.find("### Probe load").unwrap()];
    for text in [recs, section(seed, "### Findings")] {
        let said: Vec<&str> = delay.captures_iter(text).map(|c| c.get(1).unwrap().as_str()).collect();
        assert!(said.contains(&want), "{said:?} vs {want}");
    }
    // Sources once: no paragraph of the profile's propagation evidence outside the references.
    // What a longer delay buys, per evidence tier (issue 15's tiers): the error tier first, then
    // the vendor and tail tiers; a measured propagation replaces every tier.
    let buys = section(today, "### What a longer shutdown delay buys");
    for h in [
        "#### api-int (propagation 0s-40s, typical tier)",
        "#### api-int (propagation 0s-1m49s, vendor tier)",
        "#### api-int (propagation 1m23s-2m52s, tail tier)",
        "#### api-int-measured-40s (propagation 30s-40s, measured)",
    ] {
        assert!(buys.contains(h), "{h} missing: {buys}");
    }
    assert!(!buys.contains("#### api-int-measured-40s (propagation 0s"), "{buys}");
    // Each propagation tier's sources are one reference, cited from the tier table.
    let refs_part = &md[md.find("## References").unwrap()..];
    assert!(refs_part.contains("harness"), "the NLB tail's sources are listed");
    let tier_rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| api-int | tail |")).collect();
    assert!(
        !tier_rows.is_empty()
            && tier_rows
                .iter()
                .all(|l| regex::Regex::new(r"not documentation \[\d+\]").unwrap().is_match(l)),
        "{tier_rows:?}"
    );
    // Header: version and the inputs' digest.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for f in inputs {
        let bytes = std::fs::read(crate::support::root().join(f)).unwrap();
        ctx.update(f.as_bytes());
        ctx.update(&[0]);
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(&bytes);
    }
    let hex: String = ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert!(md.contains(&format!("graceline {}", env!("CARGO_PKG_VERSION"))));
    assert!(md.contains(&format!("SHA-256 of the inputs `{hex}`")), "{}", &md[..400]);
    assert!(!md.contains("**Warning**"));
}

/// A finding two load balancers share (the server's grace period, GL004) is listed once, and too
/// few trials are said.
#[test]
fn a_shared_finding_is_listed_once_and_few_trials_warn() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"70s\"\ntermination_grace_period = \"60s\"\n[[lb]]\nname = \"a\"\nprofile = \"aws-nlb\"\nprotocol = \"https\"\npath = \"/readyz\"\n[[lb]]\nname = \"b\"\nprofile = \"aws-alb\"\nprotocol = \"https\"\npath = \"/readyz\"\n";
    let file = crate::support::write_file(tmp.path(), "two.toml", text);
    let (_dir, md) = report_of(&[file.to_str().unwrap()], "1000");
    let findings = section(&md, "### Findings");
    assert_eq!(findings.matches("**GL004").count(), 1, "{findings}");
    assert!(
        md.contains("**Warning**: 1000 trials per load balancer"),
        "{}",
        &md[..600]
    );
}

/// Done means: P(violation) against the delay never rises with the delay, its row at the current
/// delay is the report's P (and `simulate`'s), and it agrees with `check`: no sampled restart
/// reaches E3 where the exact worst case does not, the recommended value passes.
#[test]
fn the_delay_sweep_is_monotone_and_agrees_with_check() {
    use graceline::analysis::report::{build, ReportOptions};
    let opts = ReportOptions {
        trials: 20_000,
        seed: 0,
    };
    let mut cases: Vec<Vec<PathBuf>> = CASES
        .iter()
        .map(|c| files(&crate::support::root().join("reports").join(c), &["toml"]))
        .collect();
    cases.push(vec![fixture("inputs/kubernetes-paths/web-nlb-ip.yaml")]);
    cases.push(vec![fixture("inputs/kubernetes-paths/web-prestop-10s.yaml")]);
    let mut seen = 0;
    for paths in cases {
        let groups = graceline::input::load(&paths, &graceline::input::Options::default()).unwrap();
        let r = build(groups, &paths, &opts).unwrap();
        let sweeps = r
            .scenarios
            .iter()
            .flat_map(|s| s.lbs.iter().filter_map(|x| x.sweep.as_ref().map(|w| (Some(x), w))))
            .chain(r.paths.iter().filter_map(|p| p.sweep.as_ref().map(|w| (None, w))));
        for (lb, s) in sweeps {
            seen += 1;
            let what = format!("{paths:?} {:?}", lb.map(|x| &x.name));
            for w in s.rows.windows(2) {
                assert!(w[0].value < w[1].value, "{what}");
                assert!(
                    w[0].p.hits >= w[1].p.hits,
                    "{what}: P rises from {:?} to {:?}",
                    w[0],
                    w[1]
                );
                assert!(!w[0].exact_passes || w[1].exact_passes, "{what}");
            }
            for row in &s.rows {
                if !row.exact_reaches {
                    assert_eq!(
                        row.p.hits, 0,
                        "{what}: sampled past the exact worst case at {}",
                        row.value
                    );
                }
            }
            if let Some(rec) = s.recommended {
                let row = s.rows.iter().find(|x| x.value == rec).unwrap();
                assert!(row.exact_passes && row.p.hits == 0, "{what}");
            }
            let now = s.rows.iter().find(|x| x.value == s.current).unwrap();
            if let Some(x) = lb {
                assert_eq!(Some(now.p), x.p, "{what}");
                let gl001 = x.row.findings.iter().any(|f| f.rule.id() == "GL001");
                assert_eq!(now.exact_reaches, gl001, "{what}");
            }
        }
    }
    assert!(seen >= 8, "{seen} sweeps");
}

/// A report from Kubernetes input runs on the workload's own pod: its preStop and grace period in
/// the server timeline, its replicas in the rolling restart, and `check`'s row (from the pod's
/// deletion, through the controller's path) in the summary.
#[test]
fn a_kubernetes_report_uses_the_workload() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(fixture("inputs/kubernetes-paths/web-nlb-ip.yaml"))
        .unwrap()
        .replace("replicas: 3", "replicas: 5");
    let file = crate::support::write_file(tmp.path(), "web.yaml", &yaml);
    let f = file.to_str().unwrap();
    let (_dir, md) = report_of(&[f], "5000");
    let timeline = section(&md, "### Server timeline");
    assert!(
        timeline.contains("| preStop hook starts (the pod's deletion; grace period begins) | 0s |"),
        "{timeline}"
    );
    assert!(timeline.contains("| E1 SIGTERM | 10s |"), "{timeline}");
    assert!(timeline.contains("| SIGKILL deadline | 45s |"), "{timeline}");
    let rollout = section(&md, "### Rolling restart");
    assert!(
        rollout.contains("Taken from Deployment shop/web: 5 replica(s)"),
        "{rollout}"
    );
    assert!(rollout.contains("5 replicas, 1 at a time (5 waves)"), "{rollout}");
    // The workload's readiness path, never the kube-apiserver's, wherever the report names it.
    let scenario = &md[md.find("## shop/web").unwrap()..md.find("## Kubernetes paths").unwrap()];
    assert!(scenario.contains("E2 `/ready` fails"), "{scenario}");
    assert!(
        scenario.contains("the failure mode is fixed (`/ready` answers an error status)"),
        "{scenario}"
    );
    assert!(!scenario.contains("`/readyz` answers"), "{scenario}");
    assert!(!md.contains("assumed: assumed"), "{md}");
    let check = crate::support::json_ok(graceline().args(["check", "--format", "json", "--no-fail", f]));
    let r = &check["results"][0];
    let row = &rows(section(&md, "## Summary"))[0];
    assert_eq!(
        row[3],
        format!(
            "{} against {} from the pod's deletion (margin {})",
            secs(&r["worst_case_s"]),
            secs(&r["budget_s"]),
            secs(&r["margin_s"])
        )
    );
    assert_eq!(row[2], "FAIL");
    assert!(row[4].starts_with("preStop sleep >= 3m18s"), "{row:?}");
}

/// Charts an earlier run wrote and this one does not are removed; files the report never wrote
/// stay, and a manifest naming a file elsewhere is not followed.
#[test]
fn stale_charts_go_and_other_files_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = |args: &[&str]| {
        graceline()
            .arg("report")
            .args(args)
            .arg("--output-dir")
            .arg(&out)
            .args(["--trials", "1000"])
            .assert()
            .code(0);
    };
    run(&["reports/openshift-aws/seed.toml", "reports/openshift-aws/today.toml"]);
    let stale = out.join("openshift-on-aws-the-installer-document-s-case-30-s-timeline.svg");
    assert!(stale.is_file());
    std::fs::write(out.join("mine.svg"), "<svg/>").unwrap();
    std::fs::write(tmp.path().join("outside.svg"), "<svg/>").unwrap();
    let manifest = out.join("graceline-report.manifest");
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("markdown ../outside.svg\n");
    std::fs::write(&manifest, m).unwrap();
    run(&["reports/openshift-aws/today.toml"]);
    assert!(!stale.exists(), "a stale chart was left");
    assert!(out
        .join("openshift-on-aws-129-s-delay-nlb-propagation-timeline.svg")
        .is_file());
    assert!(out.join("mine.svg").is_file() && tmp.path().join("outside.svg").is_file());
    // The HTML format leaves the Markdown files alone (each format its own entries).
    graceline()
        .args([
            "report",
            "reports/openshift-aws/today.toml",
            "--format",
            "html",
            "--trials",
            "1000",
            "--output-dir",
        ])
        .arg(&out)
        .assert()
        .code(0);
    assert!(out.join("report.md").is_file() && out.join("report.html").is_file());
    let m = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        m.contains("html report.html\n") && m.contains("markdown report.md\n"),
        "{m}"
    );
}
