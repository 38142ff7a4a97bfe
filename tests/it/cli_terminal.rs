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

/// The candidates `COMPLETE=SHELL graceline` prints for `words` with the cursor on word `index`
/// (the program name is word 0), as the registration script of bash or zsh calls it; fish passes
/// no index and completes the last word.
fn candidates(shell: &str, index: Option<usize>, words: &[&str]) -> Vec<String> {
    let mut c = graceline();
    c.env("COMPLETE", shell).env("_CLAP_IFS", "\n").arg("--").args(words);
    if let Some(i) = index {
        c.env("_CLAP_COMPLETE_INDEX", i.to_string());
    }
    let out = c.assert().code(0).stderr("").get_output().stdout.clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        // fish and zsh append a description after a tab or a colon.
        .map(|l| l.split(['\t', ':']).next().unwrap().to_string())
        .collect()
}

#[test]
/// Run-time completion (`COMPLETE=bash graceline`, clap_complete's protocol): the registration
/// script for each shell, built-in profile names where a flag takes a profile, and for `--lb` the
/// names of the load balancers in the inputs already typed, before or after the cursor; inputs
/// that cannot be read give no candidate and no message.
fn dynamic_completion_offers_profiles_and_the_inputs_lb_names() {
    for (shell, needle) in [
        ("bash", "_clap_complete_graceline"),
        ("zsh", "#compdef graceline"),
        ("fish", "complete --keep-order --exclusive --command graceline"),
    ] {
        graceline()
            .env("COMPLETE", shell)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(needle).and(predicate::str::contains("COMPLETE=")));
    }
    let multi = crate::support::fixture_rel("multi-lb.toml");
    let lbs = ["azure-probe", "gcp-internal", "haproxy-healthz", "nlb-external"];
    assert_eq!(
        candidates("bash", Some(4), &["graceline", "check", &multi, "--lb", ""]),
        lbs
    );
    assert_eq!(
        candidates("zsh", Some(4), &["graceline", "simulate", &multi, "--lb"]),
        lbs
    );
    assert_eq!(
        candidates("bash", Some(3), &["graceline", "check", "--lb", "", &multi]),
        lbs
    );
    assert_eq!(
        candidates("bash", Some(2), &["graceline", "timeline", "--lb=h", &multi]),
        ["--lb=haproxy-healthz"]
    );
    assert_eq!(
        candidates("fish", None, &["graceline", "check", &multi, "--lb", "nlb"]),
        ["nlb-external"]
    );
    // Without a path: ./graceline.toml, as check reads it.
    let project = crate::support::fixture("inputs/project");
    let mut c = graceline();
    c.current_dir(&project)
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "3")
        .args(["--", "graceline", "check", "--lb", "apiserverbackend/"]);
    let out = String::from_utf8(c.assert().code(0).get_output().stdout.clone()).unwrap();
    assert!(
        out.contains("apiserverbackend/cp1") && !out.contains("hcp-demo"),
        "{out}"
    );
    // Unreadable inputs: nothing offered, nothing said, exit 0.
    assert!(candidates("bash", Some(4), &["graceline", "check", "no-such.toml", "--lb", ""]).is_empty());
    let bad = crate::support::fixture_rel("inputs/bad");
    assert!(candidates("bash", Some(4), &["graceline", "check", &bad, "--lb", ""]).is_empty());
    // Profiles: server profiles for --server (then files), every profile for `profiles NAME`.
    let servers = candidates(
        "bash",
        Some(3),
        &["graceline", "check", "--server", "kube-apiserver-openshift"],
    );
    assert_eq!(
        servers,
        [
            "kube-apiserver-openshift",
            "kube-apiserver-openshift-aws",
            "kube-apiserver-openshift-gcp",
            "kube-apiserver-openshift-sno"
        ]
    );
    assert!(
        candidates("bash", Some(3), &["graceline", "check", "--server", "aws"]).is_empty(),
        "LB profiles are not servers"
    );
    assert_eq!(
        candidates("fish", None, &["graceline", "profiles", "aws-"]),
        ["aws-nlb", "aws-alb", "aws-clb"]
    );
    assert_eq!(
        candidates(
            "bash",
            Some(4),
            &["graceline", "calibrate", "run.log", "--server", "kube-apiserver-pre"]
        ),
        ["kube-apiserver-pre-1.18"]
    );
    // --set: the server settings, and lb[NAME]. for the inputs' load balancers.
    let sets = candidates("bash", Some(4), &["graceline", "check", &multi, "--set", ""]);
    assert!(sets.contains(&"server.shutdown_delay=".to_string()), "{sets:?}");
    assert!(sets.contains(&"lb[nlb-external].".to_string()), "{sets:?}");
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
    let seed = fixture_abs("seed-openshift-aws.toml");
    let out = stdout(graceline().args(["check", "-q", &seed]));
    assert_eq!(out.lines().count(), 3, "{out}");
    // One line per finding for grep: file:line:col: severity[rule]: headline.
    for line in out.lines() {
        let rest = line
            .strip_prefix(&format!("{seed}:"))
            .unwrap_or_else(|| panic!("{line}"));
        let (_, tail) = rest.split_once(": ").unwrap();
        assert!(
            tail.starts_with("error[") || tail.starts_with("warning[") || tail.starts_with("note["),
            "{line}"
        );
    }
    assert!(
        out.contains(":15:12: error[GL001]: api-external routes new requests 40s after the server stops listening"),
        "{out}"
    );
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
    let out = String::from_utf8(
        graceline()
            .current_dir(tmp.path())
            .env("COLUMNS", "80")
            .arg("check")
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    // Seven tunable LB profiles (nginx-plus joined with issue 19), two rows each.
    assert!(lines.len() < 64, "{} lines:\n{out}", lines.len());
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
    // The cells explained, and next steps that work without any file of one's own.
    assert!(out.contains("WARN:") && out.contains("propagation"), "{out}");
    assert!(
        out.contains("Next:") && out.contains("graceline profiles aws-nlb"),
        "{out}"
    );
    assert!(!out.contains("tests/fixtures"), "no repository here: {out}");
    let here = stdout(graceline().env("COLUMNS", "80").arg("check"));
    assert!(
        here.contains("graceline check tests/fixtures/seed-openshift-aws.toml"),
        "{here}"
    );
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

/// Splits a token where a table may wrap it: after `/ . - _ : , +` and after a unit before the
/// next figure (`4m|26s`).
fn pieces(token: &str) -> Vec<String> {
    let chars: Vec<char> = token.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let next = chars.get(i + 1).copied();
        let unit_end = c.is_ascii_alphabetic() && next.is_some_and(|n| n.is_ascii_digit() || n == '-');
        if "/.-_:,+".contains(c) || unit_end {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The words inside the table lines of `out`.
fn table_tokens(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with(['│', '┌', '└', '╞', '├']))
        .flat_map(|l| {
            l.split(|c: char| c.is_whitespace() || "│┆╞╪╡═─┌┐└┘┬┴├┼┤".contains(c))
                // A cell may wrap a word in parentheses (simulate's `lb (provider)` headers).
                .map(|t| t.trim_matches(['(', ')']))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `graceline calibrate` on tests/cmd/inputs/calibrate, compared with HAProxy's DOWN line or
/// (without the HAProxy log) with the last data request.
fn calibrate_args(haproxy_log: bool) -> Vec<String> {
    let file = |name: &str| {
        crate::support::root()
            .join("tests/cmd/inputs/calibrate")
            .join(name)
            .display()
            .to_string()
    };
    let mut args = vec![
        "calibrate".into(),
        file("backend.log"),
        "--scenario".into(),
        file("scenario.toml"),
    ];
    if haproxy_log {
        args.extend(["--haproxy-log".into(), file("haproxy.log")]);
    }
    args
}

#[test]
/// The calibrate table and the lines around it fit COLUMNS=60 and 80 whole (it took 113 columns
/// before it was fitted like the other tables); its words are checked with the other tables.
fn calibrate_fits_60_and_80_columns() {
    for haproxy_log in [true, false] {
        for width in [60, 80] {
            let out = stdout(
                graceline()
                    .env("COLUMNS", width.to_string())
                    .args(calibrate_args(haproxy_log)),
            );
            assert!(out.contains("verdict") && out.contains('┌'), "{out}");
            for line in out.lines() {
                assert!(line.chars().count() <= width, "at {width}: {line}\n{out}");
            }
        }
    }
}

#[test]
/// Every table (load balancers, Kubernetes paths, simulate, recommend, calibrate, the first run's matrix) at
/// COLUMNS=60 and 80: no line wider than the terminal, and every word whole or split only where
/// the unwrapped table's words have a separator (a path's `/`, a name's `-`, a figure's unit).
fn tables_fit_60_and_80_columns_without_breaking_a_word() {
    let project = fixture_abs("inputs/project/graceline.toml");
    let multi = fixture_abs("multi-lb.toml");
    let kubeadm = [
        fixture_abs("inputs/kubeadm-ha/haproxy.cfg"),
        fixture_abs("inputs/kubeadm-ha/kube-apiserver.yaml"),
        fixture_abs("inputs/aws/openshift-nlb.tfplan.json"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<(Vec<String>, bool)> = vec![
        (vec!["check".into(), "--no-fail".into(), project.clone()], false),
        (vec!["check".into(), "--no-fail".into(), multi.clone()], false),
        (
            [vec!["check".to_string(), "--no-fail".into()], kubeadm.to_vec()].concat(),
            false,
        ),
        (
            vec!["simulate".into(), "--trials".into(), "2000".into(), multi.clone()],
            false,
        ),
        (
            vec!["simulate".into(), "--trials".into(), "2000".into(), project.clone()],
            false,
        ),
        (vec!["recommend".into(), multi.clone()], false),
        (vec!["check".into()], true),
        (calibrate_args(true), false),
        (calibrate_args(false), false),
    ];
    for (args, in_tmp) in runs {
        let run = |columns: Option<&str>| {
            let mut c = graceline();
            if in_tmp {
                c.current_dir(tmp.path());
            }
            if let Some(w) = columns {
                c.env("COLUMNS", w);
            }
            stdout(c.args(&args))
        };
        let wide = run(None);
        let mut allowed = std::collections::HashSet::new();
        for token in table_tokens(&wide) {
            let p = pieces(&token);
            for i in 0..p.len() {
                for j in i + 1..=p.len() {
                    allowed.insert(p[i..j].concat());
                }
            }
        }
        assert!(!allowed.is_empty(), "{args:?}: {wide}");
        for width in [60, 80] {
            let out = run(Some(&width.to_string()));
            for line in out.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞', '├'])) {
                assert!(line.chars().count() <= width, "{args:?} at {width}: {line}");
            }
            for token in table_tokens(&out) {
                assert!(
                    allowed.contains(&token),
                    "{args:?} at {width}: `{token}` is a word broken where it has no separator:\n{out}"
                );
            }
        }
    }
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

#[test]
/// `check -` on a terminal says on stderr that it reads standard input, so a user who typed `-`
/// by mistake does not wait on silence; `script` (util-linux) gives the command a pseudo-terminal
/// and passes the fixture as typed input, then its end. Locally skipped without `script`; with
/// `CI=true` that is a failure.
fn reading_standard_input_at_a_terminal_is_said() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but `script` (util-linux) is missing"
        );
        eprintln!("skipped: no `script` command");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_graceline");
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{bin}' check - --input-kind haproxy --no-fail"),
            "/dev/null",
        ])
        .stdin(std::fs::File::open(crate::support::fixture("inputs/kubeadm-ha/haproxy.cfg")).unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("graceline: reading standard input (-): type or paste the configuration, then Ctrl-D"),
        "{text}"
    );
    assert!(text.contains("apiserverbackend/cp1"), "{text}");
    // Into a pipe it says nothing (tests/cmd/check-stdin has an empty stderr).
}

#[test]
/// A finding's headline, evidence and help wrap at whitespace only: a dotted setting name
/// (`target_health_state.unhealthy.connection_termination.enabled=false` in GL006's help), a
/// path or a `key=value` is never split across lines, at any width; a line is wider than the
/// terminal only when one such word alone does not fit.
fn diagnostics_wrap_at_whitespace_never_inside_a_setting_name() {
    // The scenario of the worked example, and a Terraform plan that sets the attribute.
    for input in [
        fixture_abs("seed-openshift-aws.toml"),
        fixture_abs("inputs/aws/openshift-nlb.tfplan.json"),
    ] {
        diagnostics_keep_words_whole(&input);
    }
}

/// `check INPUT` at 40, 60 and 80 columns against its unwrapped output: GL006's setting whole.
fn diagnostics_keep_words_whole(input: &str) {
    let run = |columns: Option<&str>| {
        let mut c = graceline();
        if let Some(w) = columns {
            c.env("COLUMNS", w);
        }
        stdout(c.args(["check", "--no-fail", input]))
    };
    // The diagnostic blocks' lines (from `severity[rule]:` to the blank line), without the source
    // snippet (cut to the width) and the paste-ready `= fix:` lines (written as they are pasted).
    let prose = |out: &str| -> Vec<String> {
        let (mut inside, mut paste) = (false, false);
        out.lines()
            .filter(|l| {
                inside = (inside || ["error[", "warning[", "note["].iter().any(|s| l.starts_with(s))) && !l.is_empty();
                paste = inside && (paste || l.trim_start().starts_with("= fix:"));
                inside && !paste
            })
            .filter(|l| {
                !l.trim_start()
                    .split_once(" |")
                    .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            })
            .filter(|l| !l.trim_start().starts_with("-->"))
            .map(str::to_string)
            .collect()
    };
    let words = |lines: &[String]| -> std::collections::HashSet<String> {
        lines
            .iter()
            .flat_map(|l| l.split_whitespace().map(str::to_string))
            .collect()
    };
    let whole = words(&prose(&run(None)));
    let setting = "target_health_state.unhealthy.connection_termination.enabled=false";
    assert!(whole.contains(setting), "{whole:?}");
    for width in [40usize, 60, 80] {
        let out = run(Some(&width.to_string()));
        let lines = prose(&out);
        for line in &lines {
            for w in line.split_whitespace() {
                assert!(whole.contains(w), "at {width}: `{w}` is a piece of a word:\n{out}");
            }
            if line.chars().count() > width {
                let tokens: Vec<&str> = line
                    .split_whitespace()
                    .filter(|t| !["=", "help:"].contains(t) && !t.ends_with("]:"))
                    .collect();
                assert_eq!(
                    tokens.len(),
                    1,
                    "at {width}, wider than the terminal with room to break: {line}"
                );
            }
        }
        assert!(
            lines.iter().any(|l| l.split_whitespace().any(|w| w == setting)),
            "at {width}:\n{out}"
        );
    }
}
