//! Shell completion computed at run time (clap_complete's `CompleteEnv`, behind its
//! `unstable-dynamic` feature): the shell's registration script (`COMPLETE=bash graceline`) calls
//! the binary back on every Tab, and the completers here offer what a static script cannot know:
//! the built-in profile names (`--server`, `profiles NAME`), the server settings of `--set`, and
//! for `--lb` the load-balancer names of the inputs already on the command line (or of
//! `./graceline.toml`), read as `check` reads them but never analysed.
//!
//! A completer never fails loudly: inputs that cannot be read give no candidates, nothing else.

use super::args::{Cli, InputArgs};
use super::inputs::{InputOptions, Sources};
use clap::{CommandFactory, FromArgMatches};
use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};
use std::ffi::{OsStr, OsString};

/// Answers the shell when `COMPLETE` names one (registration script or candidates) and exits;
/// returns at once otherwise. Called before the command line is parsed.
pub fn answer_shell() {
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
}

/// The candidates among `names` that start with what is typed, with a description each.
fn starting_with(
    current: &OsStr,
    names: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    names
        .into_iter()
        .filter(|(n, _)| n.starts_with(typed.as_ref()))
        .map(|(n, help)| CompletionCandidate::new(n).help(help.map(Into::into)))
        .collect()
}

fn profiles_of(kind: Option<&str>) -> Vec<(String, Option<String>)> {
    crate::profiles::BUILTIN
        .iter()
        .filter(|b| kind.is_none_or(|k| b.kind() == k))
        .map(|b| (b.name.to_string(), Some(b.description())))
        .collect()
}

/// `profiles NAME`: every built-in profile.
pub fn any_profile(current: &OsStr) -> Vec<CompletionCandidate> {
    starting_with(current, profiles_of(None))
}

/// `--server NAME|PATH`: the built-in server profiles, then files (a scenario or a manifest).
pub fn server(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut out = starting_with(current, profiles_of(Some("server")));
    out.extend(PathCompleter::any().complete(current));
    out
}

/// `--set KEY=VALUE`: `server.KEY=` for every server setting, and `lb[NAME].` for the load
/// balancers of the inputs on the command line (their keys depend on each LB's provider).
pub fn set(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut names: Vec<(String, Option<String>)> = crate::scenario::overrides::SERVER_KEYS
        .iter()
        .map(|k| (format!("server.{k}="), None))
        .collect();
    names.extend(
        lb_names_on_command_line()
            .into_iter()
            .map(|n| (format!("lb[{n}]."), None)),
    );
    starting_with(current, names)
}

/// `--lb PATTERN`: the load-balancer names of the inputs on the command line.
pub fn lb(current: &OsStr) -> Vec<CompletionCandidate> {
    starting_with(current, lb_names_on_command_line().into_iter().map(|n| (n, None)))
}

/// The words the shell passed (after `--`) without the value being completed: the words after
/// the cursor are on the command line too (`graceline check --lb <TAB> haproxy.cfg`).
fn words_around_cursor() -> Vec<OsString> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut words: Vec<OsString> = match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => return Vec::new(),
    };
    // bash, zsh and elvish say which word is being completed; fish and PowerShell complete the last.
    let index = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
        .unwrap_or(words.len().saturating_sub(1));
    if index >= words.len() {
        return words;
    }
    let current = words.remove(index);
    // `--lb <TAB>`: the flag goes with its value; `--lb=<TAB>` is one word.
    let flag_before = index > 0 && words[index - 1].to_string_lossy().starts_with('-');
    if !current.to_string_lossy().starts_with('-') && flag_before {
        words.remove(index - 1);
    }
    words
}

/// The load-balancer names of the inputs `check` would read with the other flags on the command
/// line; empty when they cannot be read. Standard input is never read.
fn lb_names_on_command_line() -> Vec<String> {
    let words = words_around_cursor();
    let Some(cwd) = std::env::current_dir().ok() else {
        return Vec::new();
    };
    let Ok(matches) = Cli::command().ignore_errors(true).try_get_matches_from(words) else {
        return Vec::new();
    };
    let Some((name, sub)) = matches.subcommand() else {
        return Vec::new();
    };
    let mut input = if name == "calibrate" {
        let Some(scenario) = sub.try_get_one::<std::path::PathBuf>("scenario").ok().flatten() else {
            return Vec::new();
        };
        InputArgs {
            paths: vec![scenario.clone()],
            ..InputArgs::default()
        }
    } else {
        match InputArgs::from_arg_matches(sub) {
            Ok(a) => a,
            Err(_) => return Vec::new(),
        }
    };
    input.paths.retain(|p| !crate::input::is_stdin(p));
    // Every LB, not only the default selection nor the ones already chosen.
    input.lb = vec!["*".to_string()];
    input.set.clear();
    input.allow_empty = true;
    let Ok(options) = InputOptions::from_cli_arguments(&input, &cwd) else {
        return Vec::new();
    };
    let Sources::Files(paths) = &options.sources else {
        return Vec::new();
    };
    let Ok(loaded) = crate::input::load_all(paths, &options.input) else {
        return Vec::new();
    };
    let mut names: Vec<String> = loaded
        .groups
        .iter()
        .flat_map(|g| g.lbs().map(|l| l.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}
