//! Issue 18 point 7 on the real binary: one manual page per subcommand with EXIT STATUS,
//! EXAMPLES, ENVIRONMENT and FILES, rendered by `man -l` without a warning; every `--help` shows
//! examples. `man` (man-db) is installed by .ci/run; locally a missing `man` skips the rendering.

use crate::support::graceline;

const COMMANDS: [&str; 13] = [
    "check",
    "baseline",
    "explain",
    "profiles",
    "backend",
    "calibrate",
    "timeline",
    "report",
    "simulate",
    "recommend",
    "rules",
    "completions",
    "man",
];

fn have_man() -> bool {
    let ok = std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("CI").is_err(), "CI=true but `man` (man-db) is missing");
        eprintln!("skipped: no `man` command");
    }
    ok
}

/// `man --warnings -l FILE` at 100 columns: the rendered text, asserting groff said nothing.
fn render(page: &std::path::Path) -> String {
    let out = std::process::Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{}: {err}",
        page.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_subcommand_has_a_page_that_man_renders() {
    if !have_man() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in COMMANDS {
        let out = graceline().args(["man", name]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "man {name}");
        let page = dir.path().join(format!("graceline-{name}.1"));
        std::fs::write(&page, &out.stdout).unwrap();
        let text = render(&page);
        assert!(text.starts_with(&format!("graceline-{name}(1)")), "{text}");
        for section in [
            "NAME",
            "SYNOPSIS",
            "OPTIONS",
            "EXAMPLES",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == section),
                "graceline-{name}(1) lacks {section}:\n{text}"
            );
        }
        assert!(text.contains("COLUMNS") && text.contains("NO_COLOR") && text.contains("graceline.toml"));
        assert!(text.contains(&format!("graceline {name}")), "{text}");
    }
    let check = render(&dir.path().join("graceline-check.1"));
    assert!(check.contains("1: findings at or above --fail-on"), "{check}");
    assert!(
        check.contains("graceline check . --exclude 'charts/' --max-depth 4"),
        "{check}"
    );
}

#[test]
fn man_output_dir_writes_every_page_and_every_see_also_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = graceline()
        .args(["man", "--output-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut want: Vec<String> = COMMANDS.iter().map(|c| format!("graceline-{c}.1")).collect();
    want.push("graceline.1".into());
    want.sort();
    assert_eq!(files, want);
    // Every page a page links is among them.
    let top = std::fs::read_to_string(dir.path().join("graceline.1")).unwrap();
    for c in COMMANDS {
        assert!(top.contains(&format!("graceline\\-{c}\\fR(1)")), "{c}");
    }
    if have_man() {
        let text = render(&dir.path().join("graceline.1"));
        assert!(text.contains("SUBCOMMANDS") && text.contains("EXIT STATUS"), "{text}");
    }
    // An unknown page: exit 2 with a suggestion.
    let out = graceline().args(["man", "chek"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"check\""));
}

#[test]
fn every_help_shows_examples() {
    for name in COMMANDS {
        let out = graceline().args([name, "--help"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let ex = text
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{name} --help: no examples\n{text}"));
        assert!(ex.trim_start().starts_with("graceline "), "{name}: {ex}");
    }
    let out = graceline().arg("--help").output().unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("Examples:\n  graceline check"));
}
