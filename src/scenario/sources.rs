//! What the outputs need of the input files besides the model, kept from the one reading: each
//! file's text and syntax (for the source line under a diagnostic and the lines a fix changes),
//! the suppressions written in the files, graceline.toml's `[[ignore]]` entries and a baseline.
//! The readers fill these; the outputs apply them and never read an input again.

use crate::error::Loc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The marker of an inline suppression comment (`# graceline:ignore GL007 reason`).
pub const MARKER: &str = "graceline:ignore";

/// The Kubernetes annotation of a suppression (`graceline.io/ignore: "GL003: reason"`).
pub const ANNOTATION: &str = "graceline.io/ignore";

/// The syntax family of an input file, from its name or content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON: `terraform show -json`, or Kubernetes objects from `kubectl get -o json`.
    Json,
    /// YAML: Kubernetes objects and kube-apiserver manifests.
    Yaml,
    /// TOML: scenario files and graceline.toml.
    Toml,
    /// An haproxy.cfg.
    Haproxy,
    /// An nginx configuration (`nginx.conf`, `*.conf`, `nginx -T` output).
    Nginx,
}

/// One input file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Its text (decoded as its reader decoded it).
    pub text: String,
    /// Its syntax, when its name or content told it.
    pub syntax: Option<Syntax>,
    /// Byte offset of each line's start, so a diagnostic finds its line without scanning the file.
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Line `line` (1-based), without its line ending.
    pub fn line(&self, line: u32) -> Option<&str> {
        let n = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(n)?;
        let end = self.line_starts.get(n + 1).map_or(self.text.len(), |e| e - 1);
        let l = &self.text[start..end];
        // The text's final line ending starts no line of its own (as `str::lines`).
        (start < self.text.len()).then(|| l.trim_end_matches('\r'))
    }
}

/// Every input file a run read, by the name findings give it (`<stdin>` for standard input).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    files: BTreeMap<String, SourceFile>,
}

impl Texts {
    /// Keeps a file's text; a file read twice keeps its first reading.
    pub fn insert(&mut self, name: &str, text: &str, syntax: Option<Syntax>) {
        self.files.entry(name.to_string()).or_insert_with(|| SourceFile {
            text: text.to_string(),
            syntax,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        });
    }

    /// The file named `name`, if the run read it.
    pub fn get(&self, name: &str) -> Option<&SourceFile> {
        self.files.get(name)
    }

    /// Line `line` (1-based) of `name`, without its line ending.
    pub fn line(&self, name: &str, line: u32) -> Option<&str> {
        self.get(name)?.line(line)
    }

    /// Every file, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SourceFile)> {
        self.files.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// Adds every file of `other` this one lacks.
    pub fn extend(&mut self, other: Texts) {
        for (name, f) in other.files {
            self.files.entry(name).or_insert(f);
        }
    }
}

/// A suppression written in an input: a `# graceline:ignore GLxxx reason` comment or a
/// `graceline.io/ignore` annotation, with the lines of its file it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSuppression {
    /// Where it is written.
    pub loc: Loc,
    /// Covered lines of `loc.file`, inclusive.
    pub lines: (u32, u32),
    /// The rule ids it names (upper case).
    pub rules: Vec<String>,
    /// The reason given (may be empty).
    pub reason: String,
    /// `comment` or `annotation`, for messages.
    pub what: &'static str,
}

/// An `[[ignore]]` entry of graceline.toml: findings of `rule` (about the subjects `lb` matches,
/// all when unset) are suppressed with `reason`, until `expires` has passed.
///
/// ```toml
/// [[ignore]]
/// rule = "GL007"
/// lb = "azure-*"            # optional: a glob on the load balancer (or workload, path) name
/// reason = "propagation measured by hand, see INC-123"
/// expires = 2026-06-30      # optional: from the day after, the entry stops suppressing
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The `[[ignore]]` header.
    pub loc: Loc,
    /// The rule id.
    pub rule: String,
    /// The subject glob, as written.
    pub lb: Option<String>,
    /// Why.
    pub reason: String,
    /// The last day the entry suppresses: (year, month, day).
    pub expires: Option<(i32, u32, u32)>,
}

/// A baseline file: the fingerprints of the findings it accepts.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The file, as named on the command line.
    pub file: String,
    /// Its fingerprints.
    pub fingerprints: HashSet<String>,
}

/// One entry of a baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The finding's fingerprint (what is matched).
    pub fingerprint: String,
    /// Its rule.
    pub rule: String,
    /// What it is about.
    pub subject: String,
    /// Where it was (for a reader; not matched).
    pub file: String,
    /// Its line (for a reader; not matched).
    pub line: u32,
}

/// A baseline file as `graceline baseline` writes it.
#[derive(Debug, Serialize, Deserialize)]
pub struct BaselineDoc {
    /// Always `graceline`.
    pub tool: String,
    /// The version that wrote it.
    pub version: String,
    /// Its findings, by fingerprint.
    pub findings: Vec<BaselineEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_lose_their_ending() {
        let mut t = Texts::default();
        t.insert("a.cfg", "one\r\ntwo\n", Some(Syntax::Haproxy));
        t.insert("a.cfg", "other", None);
        assert_eq!(t.line("a.cfg", 1), Some("one"));
        assert_eq!(t.line("a.cfg", 2), Some("two"));
        assert_eq!(t.line("a.cfg", 0), None);
        assert_eq!(t.line("a.cfg", 3), None);
        t.insert("b.cfg", "x\n\nlast", None);
        assert_eq!(
            (t.line("b.cfg", 2), t.line("b.cfg", 3), t.line("b.cfg", 4)),
            (Some(""), Some("last"), None)
        );
        assert_eq!(t.line("c.cfg", 1), None);
        assert_eq!(t.get("a.cfg").and_then(|f| f.syntax), Some(Syntax::Haproxy));
    }
}
