//! The terminal on the real binary: completions, man page, tables that fit `COLUMNS`, colour,
//! `-q`, and the first run's teaching matrix.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn fx(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

fn graceline() -> Command {
    let mut c = Command::cargo_bin("graceline").unwrap();
    c.env_remove("COLUMNS").env_remove("NO_COLOR");
    c
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
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
    graceline().args(["completions", "tcsh"]).assert().code(2);
    graceline()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH graceline 1").and(predicate::str::contains("completions")));
}

#[test]
fn tables_fit_80_columns() {
    let inputs = [
        fx("inputs/kubeadm-ha/haproxy.cfg"),
        fx("inputs/kubeadm-ha/kube-apiserver.yaml"),
        fx("multi-lb.toml"),
        fx("inputs/aws/openshift-nlb.tfplan.json"),
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
    let seed = fx("seed-openshift-aws.toml");
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
    let out = stdout(graceline().args(["check", "-q", &fx("seed-openshift-aws.toml")]));
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(
            line.starts_with("error[") || line.starts_with("warning[") || line.starts_with("note["),
            "{line}"
        );
    }
    graceline()
        .args(["check", "--quiet", &fx("seed-openshift-aws-70s.toml")])
        .assert()
        .code(0)
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
    assert!(out.contains("error[GL003]") && out.contains(" x18 "), "{out}");
    assert_eq!(
        out.matches("error[GL001]").count(),
        1,
        "grouped, not one line per finding"
    );
    assert!(lines.iter().rev().take(8).any(|l| l.starts_with("Next:")), "{out}");
}
