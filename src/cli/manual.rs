//! Manual pages: graceline(1) and one page per subcommand (graceline-check(1), ...), rendered by
//! clap_mangen from the same definitions as `--help`, with the sections a manual page is expected
//! to have that `--help` lacks: EXIT STATUS, EXAMPLES (from each command's `--help` examples),
//! ENVIRONMENT, FILES and SEE ALSO.

use super::args::Cli;
use anyhow::{anyhow, Context, Result};
use std::io::Write;
use std::path::Path;

/// The whole command line as clap builds it (subcommands named `graceline-check`, ...).
fn built() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The subcommands that get a page, in the order `--help` lists them.
fn subcommands(cmd: &clap::Command) -> Vec<&clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect()
}

/// Quotes text for a roff line: backslashes doubled, a leading `.` or `'` protected, `-` as a
/// real hyphen-minus so commands can be copied from the rendered page.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The examples of a command's `--help` (its "Examples:" block): (command line, what it does).
pub fn examples(cmd: &clap::Command) -> Vec<(String, String)> {
    let Some(help) = cmd.get_after_help().map(|h| h.to_string()) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for line in help.lines().skip_while(|l| !l.starts_with("Examples:")).skip(1) {
        if let Some(what) = line.strip_prefix("      ") {
            if let Some(last) = out.last_mut() {
                last.1 = what.trim().to_string();
            }
        } else if let Some(c) = line.strip_prefix("  ") {
            out.push((c.trim().to_string(), String::new()));
        }
    }
    out
}

/// What the exit code of a command means.
fn exit_status(name: &str) -> &'static str {
    match name {
        "check" => "0: no finding at or above \\-\\-fail\\-on (default error), or \\-\\-no\\-fail.\n.br\n1: findings at or above \\-\\-fail\\-on (after suppressions and the baseline).\n.br\n2: usage error, bad input (the message names file, line, column and field) or I/O error; nothing is written to standard output, except when a walked directory holds a file that cannot be read: it is reported, the rest is judged and written, and the exit code is 2 at the end.",
        "calibrate" => "0: every measurement lies inside the model's range.\n.br\n1: a measurement lies outside it.\n.br\n2: usage error, bad input or I/O error.",
        "backend" => "0: the server shut down as configured (SIGTERM, then the timeline).\n.br\n2: usage error or the address cannot be bound.",
        "man" | "completions" | "profiles" | "rules" => "0: the text was written.\n.br\n2: usage error (an unknown name, with a suggestion) or I/O error.",
        _ => "0: the output was written, whatever the verdicts (check is the gate).\n.br\n2: usage error, bad input (file, line, column and field named) or I/O error; nothing is written to standard output or to the output file, except when a walked directory holds a file that cannot be read: it is reported, the rest is judged and written, and the exit code is 2 at the end.",
    }
}

const ENVIRONMENT: &str = ".TP\n\\fBCOLUMNS\\fR\nWidth tables and findings are wrapped to (a positive number); unset, the terminal's width, and no wrapping into a pipe.\n.TP\n\\fBNO_COLOR\\fR\nSet to a non\\-empty value, no colour (as \\-\\-color never); \\-\\-color always wins over it.\n.TP\n\\fBCOMPLETE\\fR\nbash, zsh, fish, elvish or powershell: instead of running a command, print that shell's script of completion computed at run time (source <(COMPLETE=bash graceline)), which calls graceline back on every Tab; it completes profile names for \\-\\-server and profiles, server settings for \\-\\-set, and for \\-\\-lb the load\\-balancer names of the inputs on the command line (or ./graceline.toml), read but never judged. graceline completions SHELL prints a static script without them.\n";

const FILES: &str = ".TP\n\\fBgraceline.toml\\fR\nThe project file every analysing command reads when no path is given: [[check]] groups (inputs, server, cloud, select, min_margin), [[ignore]] entries (rule, lb, reason, expires) and [paths] settings.\n.TP\n\\fB.gitignore\\fR, \\fB.ignore\\fR\nHonoured when a directory argument is walked.\n";

/// Writes the page of `name` (`None`: graceline(1)).
pub fn render(name: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let top = built();
    let names: Vec<&str> = subcommands(&top).iter().map(|c| c.get_name()).collect();
    let cmd = match name {
        None => top.clone(),
        Some(n) => top.find_subcommand(n).cloned().ok_or_else(|| {
            anyhow!(
                "no command \"{n}\"{}; pages: {}",
                crate::scenario::words::did_you_mean(&[n], &names),
                names.join(", ")
            )
        })?,
    };
    let mut buf = Vec::new();
    page(&top, &cmd, name, &mut buf)?;
    out.write_all(&buf).context("cannot write the manual page")
}

/// Writes every page into `dir` (created if missing); returns the files written.
pub fn write_all(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the directory", dir.display()))?;
    let top = built();
    let mut written = Vec::new();
    let mut pages: Vec<(Option<&str>, &clap::Command)> = vec![(None, &top)];
    pages.extend(subcommands(&top).into_iter().map(|c| (Some(c.get_name()), c)));
    for (name, cmd) in pages {
        let file = dir.join(format!("{}.1", cmd.get_display_name().unwrap_or(cmd.get_name())));
        let mut buf = Vec::new();
        page(&top, cmd, name, &mut buf)?;
        std::fs::write(&file, buf).with_context(|| format!("{}: cannot write", file.display()))?;
        written.push(file);
    }
    Ok(written)
}

/// A page into `out`; clap_mangen starts every section it renders with the same two-line
/// preamble, which the page keeps once.
fn page(top: &clap::Command, cmd: &clap::Command, name: Option<&str>, out: &mut Vec<u8>) -> Result<()> {
    let mut raw = Vec::new();
    sections(top, cmd, name, &mut raw)?;
    let text = String::from_utf8(raw).context("clap_mangen wrote non-UTF-8")?;
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let preamble = line.starts_with(".ie ") || line.starts_with(".el .ds Aq");
        if !preamble || seen.insert(line) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

fn sections(top: &clap::Command, cmd: &clap::Command, name: Option<&str>, out: &mut dyn Write) -> std::io::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("graceline {version}"))
        .manual("graceline manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if name.is_none() {
        man.render_subcommands_section(out)?;
    }
    let examples = examples(cmd);
    if !examples.is_empty() {
        writeln!(out, ".SH EXAMPLES")?;
        for (c, what) in examples {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(&c), roff(&what))?;
        }
    }
    writeln!(out, ".SH \"EXIT STATUS\"\n{}", exit_status(name.unwrap_or("check")))?;
    writeln!(out, ".SH ENVIRONMENT\n{ENVIRONMENT}.SH FILES\n{FILES}")?;
    let mut see: Vec<String> = Vec::new();
    if name.is_some() {
        see.push("\\fBgraceline\\fR(1)".into());
    }
    see.extend(
        subcommands(top)
            .iter()
            .filter(|c| Some(c.get_name()) != name)
            .map(|c| format!("\\fBgraceline\\-{}\\fR(1)", c.get_name())),
    );
    writeln!(out, ".SH \"SEE ALSO\"\n{}", see.join(", "))?;
    writeln!(out, ".SH VERSION\n{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_examples_in_its_help() {
        let top = built();
        assert!(!examples(&top).is_empty());
        for c in subcommands(&top) {
            let ex = examples(c);
            assert!(!ex.is_empty(), "{} has no examples", c.get_name());
            for (line, what) in ex {
                assert!(line.starts_with("graceline "), "{line}");
                assert!(!what.is_empty(), "{line}: no description");
            }
        }
    }
}
