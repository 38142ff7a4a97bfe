//! The terminal on the real binary: completions, tables that fit `COLUMNS`, colour, `-q`, and
//! the first run's teaching matrix (the man page and misspelled settings: tests/cmd/).

use crate::support::{fixture_abs, graceline, stdout};
use predicates::prelude::*;

#[test]
/// The scripts are clap_complete's text (17-29 KB each): whole-output cases would churn with every
/// flag and say nothing about graceline, so they are checked here for what makes them work. An
/// unknown shell and the man page are cases in tests/cmd/.
fn completions_for_every_shell() {
    for (shell, needle) in [
        ("bash", "_graceline()"),
        ("zsh", "#compdef graceline"),
        ("fish", "complete -c graceline"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[graceline]"),
    ] {
        graceline()
            .args(["completions", shell])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(needle).and(predicate::str::contains("simulate")));
    }
}

#[test]
fn tables_fit_80_columns() {
    let inputs = [
        fixture_abs("inputs/kubeadm-ha/haproxy.cfg"),
        fixture_abs("inputs/kubeadm-ha/kube-apiserver.yaml"),
        fixture_abs("multi-lb.toml"),
        fixture_abs("inputs/aws/openshift-nlb.tfplan.json"),
    ];
    let out = stdout(
        graceline()
            .env("COLUMNS", "80")
            .args(["check", "--no-fail"])
            .args(&inputs),
    );
    let table: Vec<&str> = out.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞'])).collect();
    assert!(table.len() > 8, "{out}");
    for line in &table {
        assert!(line.chars().count() <= 80, "{} chars: {line}", line.chars().count());
    }
    // No path is broken mid-word: every LB name shows whole or split after a separator.
    assert!(out.contains("apiserverbackend/cp1"), "{out}");
    let wide = stdout(
        graceline()
            .env("COLUMNS", "200")
            .args(["check", "--no-fail"])
            .args(&inputs),
    );
    assert!(wide.contains("module.vpc.aws_lb_target_group.api_internal"), "{wide}");
}

#[test]
fn colour_on_request_never_into_a_pipe_or_with_no_color() {
    let seed = fixture_abs("seed-openshift-aws.toml");
    let plain = stdout(graceline().args(["check", &seed]));
    assert!(!plain.contains('\x1b'), "a pipe gets no colour");
    let coloured = stdout(graceline().args(["check", "--color", "always", &seed]));
    assert!(coloured.contains("\x1b[1;31merror[GL001]\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b["));
    let no_color = stdout(
        graceline()
            .env("NO_COLOR", "1")
            .args(["check", "--color", "auto", &seed]),
    );
    assert!(!no_color.contains('\x1b'));
    let never = stdout(graceline().args(["check", "--color", "never", &seed]));
    assert!(!never.contains('\x1b'));
}

#[test]
fn quiet_prints_only_findings() {
    let out = stdout(graceline().args(["check", "-q", &fixture_abs("seed-openshift-aws.toml")]));
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(
            line.starts_with("error[") || line.starts_with("warning[") || line.starts_with("note["),
            "{line}"
        );
    }
    graceline()
        .args(["check", "--quiet", &fixture_abs("seed-openshift-aws-70s.toml")])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("FAIL")
                .not()
                .and(predicate::str::contains("┌").not()),
        );
}

#[test]
fn the_first_run_teaches_compactly_and_says_what_to_do_next() {
    let tmp = tempfile::tempdir().unwrap();
    let out = stdout(graceline().current_dir(tmp.path()).env("COLUMNS", "80").arg("check"));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() < 60, "{} lines:\n{out}", lines.len());
    for line in &lines {
        assert!(line.chars().count() <= 80, "{line}");
    }
    // Each LB's default beside /readyz, some passing, some failing, findings grouped by rule.
    assert!(
        out.contains("aws-nlb default (TCP)") && out.contains("aws-nlb /readyz (HTTPS)"),
        "{out}"
    );
    assert!(out.contains("pass ") && out.contains("FAIL "));
    assert!(out.contains("error[GL003]") && out.contains(" x21 "), "{out}");
    assert_eq!(
        out.matches("error[GL001]").count(),
        1,
        "grouped, not one line per finding"
    );
    assert!(lines.iter().rev().take(8).any(|l| l.starts_with("Next:")), "{out}");
}

#[test]
fn durations_with_a_space_read_like_without() {
    let tmp = tempfile::tempdir().unwrap();
    let json = |interval: &str| {
        let path = tmp.path().join("s.toml");
        std::fs::write(
            &path,
            format!("[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nname = \"a\"\nprofile = \"aws-nlb\"\ninterval = \"{interval}\"\n"),
        )
        .unwrap();
        let out = stdout(graceline().args(["check", "--format", "json"]).arg(&path));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["results"][0]["worst_case_s"].clone()
    };
    assert_eq!(json("10 s"), json("10s"));
    assert_eq!(json("1m 30s"), json("90s"));
}

#[test]
fn backend_names_its_address_on_stderr() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_graceline"))
        .args([
            "backend",
            "127.0.0.1:0",
            "--shutdown-at",
            "0s",
            "--shutdown-delay",
            "0s",
            "--request-grace",
            "0s",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.wait().unwrap();
    assert!(
        line.starts_with("graceline backend: listening on http://127.0.0.1:"),
        "{line}"
    );
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "port 0 is resolved to the port actually bound");
}

#[test]
fn simulate_and_recommend_tables_fit_80_columns() {
    for args in [vec!["simulate", "--trials", "2000"], vec!["recommend"]] {
        let out = stdout(
            graceline()
                .env("COLUMNS", "80")
                .args(&args)
                .arg(fixture_abs("multi-lb.toml")),
        );
        let table: Vec<&str> = out.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞'])).collect();
        assert!(!table.is_empty(), "{args:?}: {out}");
        for line in table {
            assert!(line.chars().count() <= 80, "{args:?}: {line}");
        }
    }
}
