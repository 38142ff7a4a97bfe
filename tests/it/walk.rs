//! Issue 18 point 4 on the real binary: a directory argument walked as a repository (YAML, JSON,
//! TOML and haproxy configs, recursively, honouring .gitignore), a bad file reported while the
//! rest is judged and exit code 2 at the end, `--max-depth` and `--exclude`.

use crate::support::{fixture, graceline};
use serde_json::Value;
use std::path::Path;

fn copy(rel: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixture(rel), to).unwrap();
}

/// A repository: a Service (two levels down), an haproxy.cfg, a broken Service, a CI workflow, a
/// package.json, a Cargo.toml and a git-ignored broken file.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("repo");
    copy("inputs/aws/service-lbc-nlb.yaml", &r.join("deploy/aws/svc.yaml"));
    copy("inputs/kubeadm-ha/haproxy.cfg", &r.join("lb/haproxy.cfg"));
    let broken = "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\n spec: [\n";
    std::fs::write(r.join("deploy/broken.yaml"), broken).unwrap();
    std::fs::create_dir_all(r.join("build/out")).unwrap();
    std::fs::write(r.join("build/out/svc.yaml"), broken).unwrap();
    std::fs::write(r.join(".gitignore"), "build/\n").unwrap();
    std::fs::create_dir_all(r.join(".github/workflows")).unwrap();
    std::fs::write(r.join(".github/workflows/ci.yaml"), "on: push\njobs: {}\n").unwrap();
    std::fs::write(r.join("package.json"), "{\"name\": \"web\"}\n").unwrap();
    std::fs::write(r.join("Cargo.toml"), "[package]\nname = \"web\"\n").unwrap();
    tmp
}

fn run(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = graceline()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), v, String::from_utf8(out.stderr).unwrap())
}

fn lbs(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["file"].as_str().unwrap_or(""), r["lb"].as_str().unwrap()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_directory_is_walked_and_a_bad_file_is_reported_while_the_rest_is_judged() {
    let tmp = repo();
    let (code, v, err) = run(tmp.path(), &["repo"]);
    assert_eq!(code, 2, "{err}");
    // The bad file, at its line, once; the git-ignored copy of it is never read.
    assert!(
        err.contains("error: repo/deploy/broken.yaml:5:2: malformed YAML"),
        "{err}"
    );
    assert!(!err.contains("build/out"), "{err}");
    assert!(
        err.contains("1 input file could not be read (above); the others were judged"),
        "{err}"
    );
    // The rest is judged and written: the haproxy.cfg's servers and the Service's LBs.
    let names = lbs(&v);
    assert!(names.iter().any(|n| n.contains("apiserverbackend/cp1")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("hcp-demo/kube-apiserver")), "{names:?}");
    let files: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(files.contains(&"repo/lb/haproxy.cfg"), "{files:?}");

    // Excluding the bad file: exit 1 (findings), nothing on stderr about files.
    let (code, v2, err) = run(tmp.path(), &["repo", "--exclude", "broken.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(lbs(&v2), names);
    assert!(!err.contains("error"), "{err}");
    // --exclude a whole directory, relative to the walked one.
    let (code, v3, _) = run(tmp.path(), &["repo", "--exclude", "deploy/"]);
    assert_eq!(code, 1);
    assert!(lbs(&v3).iter().all(|n| !n.contains("hcp-demo")), "{:?}", lbs(&v3));

    // --max-depth 2 reaches repo/lb/haproxy.cfg and repo/deploy/broken.yaml, not deploy/aws/.
    let (code, v4, err) = run(tmp.path(), &["repo", "--max-depth", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(lbs(&v4).iter().all(|n| !n.contains("hcp-demo")), "{:?}", lbs(&v4));
    assert!(err.contains("broken.yaml"), "{err}");

    // A .gitignore line is honoured without git: un-ignoring build/ reads the second bad file.
    std::fs::write(tmp.path().join("repo/.gitignore"), "").unwrap();
    let (code, _, err) = run(tmp.path(), &["repo"]);
    assert_eq!(code, 2);
    assert!(err.contains("2 input files could not be read"), "{err}");
}

#[test]
fn a_directory_with_nothing_to_read_and_bad_flags_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("package.json"), "{\"name\": \"web\"}\n").unwrap();
    let (code, _, err) = run(tmp.path(), &["."]);
    assert_eq!(code, 2);
    assert!(err.contains("the directory has no file graceline reads"), "{err}");
    assert!(err.contains("1 YAML, JSON, TOML or .cfg files hold none"), "{err}");
    let (code, _, err) = run(tmp.path(), &[".", "--allow-empty"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(tmp.path(), &[".", "--exclude", "a["]);
    assert_eq!(code, 2);
    assert!(err.contains("--exclude a["), "{err}");
    let (code, _, err) = run(tmp.path(), &[".", "--max-depth", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--max-depth"), "{err}");
    // Only bad files: exit 2 with each reported, no output judged.
    std::fs::write(tmp.path().join("svc.yaml"), "apiVersion: v1\nkind: Service\n  x: [\n").unwrap();
    let (code, _, err) = run(tmp.path(), &["."]);
    assert_eq!(code, 2);
    assert!(
        err.contains("svc.yaml:") && err.contains("nothing else was left to judge"),
        "{err}"
    );
}
