//! Issue 18 point 8: the README starts with its two commands, its table of contents names every
//! section and every link in it lands on a heading, the install section's Rust version is
//! Cargo.toml's `rust-version`, and every quick-start command runs on the repository's fixtures.

use crate::support::{graceline, root};

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn starts_with_the_two_commands_and_the_contents_match_the_sections() {
    let text = readme();
    let start: Vec<&str> = text.lines().take(5).collect();
    assert_eq!(start[0], "# graceline");
    assert_eq!(start[2], "```sh");
    assert!(start[3].starts_with("cargo run --release -- check"), "{start:?}");
    assert!(start[4].starts_with("cargo test"), "{start:?}");

    let headings: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    let anchors: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with("##"))
        })
        .map(anchor)
        .collect();
    let contents = text
        .split("## Contents\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    for h in headings.iter().filter(|h| **h != "Contents") {
        assert!(contents.contains(&format!("(#{})", anchor(h))), "the contents lack {h}");
    }
    for link in contents.split("](#").skip(1) {
        let target = link.split(')').next().unwrap();
        assert!(anchors.iter().any(|a| a == target), "#{target} is no heading");
    }
}

#[test]
fn install_names_the_rust_version_cargo_toml_sets() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let text = readme();
    let install = text
        .split("## Install\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    assert!(install.contains("cargo install --path ."), "{install}");
    assert!(install.contains(&format!("with Rust {version} or newer")), "{install}");
}

#[test]
fn every_quick_start_command_runs_on_the_fixtures() {
    let text = readme();
    let quick = text
        .split("## Quick start\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let block = quick.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    // Lines continued with a backslash are one command; comments dropped.
    let joined = block.replace("\\\n", " ");
    let mut n = 0;
    for line in joined.lines() {
        let cmd = line.split(" # ").next().unwrap().trim();
        let args: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(args[0], "graceline", "{line}");
        let out = graceline().args(&args[1..]).output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code == 0 || code == 1,
            "{cmd}: exit {code}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{cmd}: no output");
        n += 1;
    }
    assert!(n >= 5, "{n} commands");
}
