//! The command-line cases of `tests/cmd/` (format: tests/cmd/README.md), run by trycmd: each
//! `<case>.toml` gives the arguments, working directory, environment, standard input and exit
//! code of one `graceline` run; `<case>.stdout` and `<case>.stderr` hold its whole output.
//!
//! After a deliberate change of output, regenerate the expected files and review the diff:
//!
//! ```sh
//! TRYCMD=overwrite cargo test --test it cmd::
//! git diff tests/cmd
//! ```
//!
//! One case: `cargo test --test it -- cmd::cases trycmd=<part of its file name>`.

use crate::support::root;
use std::path::{Path, PathBuf};

#[test]
fn cases() {
    trycmd::TestCases::new()
        .register_bin("graceline", PathBuf::from(env!("CARGO_BIN_EXE_graceline")))
        .timeout(std::time::Duration::from_secs(120))
        // The crate's version (the man page, SARIF and JSON name it). trycmd itself writes the
        // working directory as [CWD] (SARIF's originalUriBaseIds) and a sandbox as [ROOT].
        .insert_var("[VERSION]", env!("CARGO_PKG_VERSION"))
        .unwrap()
        .case("tests/cmd/*.toml")
        .run();
}

/// What a case file must say so that its output is stable and wholly checked: the binary, the
/// terminal (`COLUMNS`, `NO_COLOR`), and an expected-output file for each stream (trycmd checks
/// no stream without one, and `TRYCMD=overwrite` creates none).
#[test]
fn every_case_pins_the_terminal_and_checks_both_streams() {
    let dir = root().join("tests/cmd");
    let mut cases = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => {
                cases += 1;
                problems.extend(case_problems(&path).into_iter().map(|p| format!("{name}: {p}")));
            }
            Some("stdout" | "stderr" | "stdin" | "in" | "out") if path.with_extension("toml").is_file() => {}
            _ if name == "README.md" || name == "inputs" => {}
            _ => problems.push(format!("{name}: not a case file, nor beside one")),
        }
    }
    assert!(cases >= 40, "only {cases} cases in {}", dir.display());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

fn case_problems(path: &Path) -> Vec<String> {
    let case: toml::Table = match toml::from_str(&std::fs::read_to_string(path).unwrap()) {
        Ok(t) => t,
        Err(e) => return vec![e.to_string()],
    };
    let mut problems = Vec::new();
    if case.get("bin").and_then(|b| b.get("name")).and_then(|n| n.as_str()) != Some("graceline") {
        problems.push("bin.name must be \"graceline\"".to_string());
    }
    let env = case.get("env").and_then(|e| e.get("add"));
    for var in ["COLUMNS", "NO_COLOR"] {
        if env.and_then(|e| e.get(var)).is_none() {
            problems.push(format!("[env.add] must set {var}"));
        }
    }
    for stream in ["stdout", "stderr"] {
        if !path.with_extension(stream).is_file() {
            problems.push(format!("no .{stream} file (an empty one says: no output)"));
        }
    }
    problems
}
