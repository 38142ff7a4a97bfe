//! Output: one exporter per `check` format, and timeline charts (`chart`).

pub mod chart;
pub mod diagnostic;
pub mod fixes;
pub mod github;
pub mod json;
pub mod junit;
pub mod paths;
pub mod paths_chart;
pub mod recommend;
pub mod report;
pub mod report_chart;
pub mod report_html;
pub mod rules;
pub mod sarif;
pub mod simulate;
pub mod suppress;
pub mod table;
pub mod teach;
pub mod term;

use crate::analysis::findings::{Finding, Severity};
use crate::analysis::outcome::Outcome;
use crate::analysis::{LbReport, Verdict};
use crate::paths::PathReport;
use std::path::{Component, Path, PathBuf};

/// What every exporter may need besides the reports.
#[derive(Debug, Clone, Default)]
pub struct ExportContext {
    /// Lowest severity that fails the run (`None` with `--no-fail`).
    pub fail_on: Option<Severity>,
    /// What finding locations are made relative to.
    pub root: SourceRoot,
    /// Terminal width and colour (table format).
    pub term: term::Term,
    /// Only the findings (table format, `-q`).
    pub quiet: bool,
    /// Findings taken out of the outcome by a suppression or the baseline, with their reasons.
    pub suppressed: Vec<suppress::Suppressed>,
    /// What `--set` changed before judging.
    pub overrides: Vec<crate::scenario::overrides::Applied>,
    /// The paste-ready fixes of the findings (`fixes::for_finding` finds a finding's).
    pub fixes: fixes::Plan,
    /// The input files' texts as read (the source line under a diagnostic).
    pub texts: crate::scenario::sources::Texts,
}

/// Renders one outcome in one format.
pub trait Exporter {
    /// Writes the whole output document to `out`; the table and JSON formats write it piece by
    /// piece, so 50 000 pairs never wait in one string.
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn std::io::Write) -> std::io::Result<()>;

    /// The whole output document as one string.
    fn render(&self, o: &Outcome, ctx: &ExportContext) -> String {
        let mut buf = Vec::new();
        // Writing into memory cannot fail, and every exporter writes UTF-8 text.
        let _ = self.write(o, ctx, &mut buf);
        String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// The exporter for a format name.
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter),
        Format::Json => Box::new(json::JsonExporter),
        Format::Sarif => Box::new(sarif::SarifExporter),
        Format::Junit => Box::new(junit::JunitExporter),
        Format::Github => Box::new(github::GithubExporter),
    }
}

/// The directory finding locations are relative to in CI formats: the repository root (the
/// nearest ancestor of the working directory holding `.git`, a directory or a worktree's file),
/// else the working directory. GitHub code scanning and annotations resolve paths against the
/// repository root, whatever folder the job ran graceline in.
#[derive(Debug, Clone, Default)]
pub struct SourceRoot {
    /// The working directory relative input paths are resolved against.
    pub cwd: PathBuf,
    /// The repository root (or the working directory).
    pub root: PathBuf,
}

/// `path` with `.` and `..` resolved lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl SourceRoot {
    /// Finds the repository root above `cwd` (no git subprocess: a `.git` entry marks it).
    pub fn discover(cwd: &Path) -> SourceRoot {
        let root = cwd
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(cwd)
            .to_path_buf();
        SourceRoot {
            cwd: cwd.to_path_buf(),
            root,
        }
    }

    /// The root and the working directory of this process.
    pub fn current() -> SourceRoot {
        std::env::current_dir().map_or_else(|_| SourceRoot::default(), |d| SourceRoot::discover(&d))
    }

    /// The file's absolute, normalised path; `None` for pseudo-files (`builtin:…`, `<stdin>`).
    fn absolute(&self, file: &str) -> Option<PathBuf> {
        if file.starts_with("builtin:") || file == crate::error::STDIN_NAME {
            return None;
        }
        Some(normalize(&self.cwd.join(file)))
    }

    /// The file as a forward-slash path relative to the root, when it lies inside it.
    pub fn relative(&self, file: &str) -> Option<String> {
        let abs = self.absolute(file)?;
        let rel = abs.strip_prefix(&self.root).map(Path::to_path_buf).or_else(|_| {
            // Symlinked directories (a /tmp that is /private/tmp): compare real paths.
            let (a, r) = (
                abs.canonicalize().map_err(|_| ())?,
                self.root.canonicalize().map_err(|_| ())?,
            );
            a.strip_prefix(r).map(Path::to_path_buf).map_err(|_| ())
        });
        rel.ok().map(|r| r.to_string_lossy().replace('\\', "/"))
    }

    /// A path for humans and annotations: relative to the root when inside it, else as given.
    pub fn display(&self, file: &str) -> String {
        self.relative(file).unwrap_or_else(|| file.to_string())
    }

    /// The root as a `file://` URI ending in `/` (SARIF `originalUriBaseIds`).
    pub fn root_uri(&self) -> String {
        let mut s = file_uri(&self.root);
        if !s.ends_with('/') {
            s.push('/');
        }
        s
    }

    /// A SARIF artifact location: `(uri, true)` relative to the root (`%SRCROOT%`), else an
    /// absolute `file://` URI or the pseudo-file's name, percent-encoded, with `false`.
    pub fn artifact(&self, file: &str) -> (String, bool) {
        if let Some(rel) = self.relative(file) {
            return (encode_uri_path(&rel), true);
        }
        match self.absolute(file) {
            Some(abs) => (file_uri(&abs), false),
            None => (encode_uri_path(file), false),
        }
    }
}

/// Percent-encodes everything but unreserved characters and `/` (RFC 3986 path segments).
fn encode_uri_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An absolute path as a `file://` URI.
fn file_uri(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let s = if s.starts_with('/') { s } else { format!("/{s}") };
    format!("file://{}", encode_uri_path(&s))
}

/// What a finding is about.
#[derive(Debug, Clone)]
pub enum Subject<'a> {
    /// A load balancer's report (a server-level finding: the first of the LBs that share it).
    Lb {
        /// The report.
        report: &'a LbReport,
        /// Every LB the finding was found for (one for LB-level findings).
        lbs: Vec<&'a str>,
    },
    /// A Kubernetes path.
    Path(&'a PathReport),
    /// A workload, Service or Ingress as a whole.
    General(&'a str),
}

/// A finding as every format reports it: once, with what it is about. Identical findings (same
/// rule, place and evidence, i.e. the message without the subject's own name) about several load
/// balancers of one scenario and server are one finding naming them all; a server-level finding is
/// one per server, with every LB it was found for.
#[derive(Debug, Clone)]
pub struct Reported<'a> {
    /// The finding (the first of the group).
    pub finding: &'a Finding,
    /// What it is about.
    pub subject: Subject<'a>,
}

/// `names` said once: `backend/cp1, cp2, cp3` when they share everything up to their last `/`.
pub fn join_names(names: &[&str]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let prefix = first.rfind('/').map_or("", |i| &first[..=i]);
    let shared = !prefix.is_empty() && names.iter().all(|n| n.starts_with(prefix) && n.len() > prefix.len());
    names
        .iter()
        .enumerate()
        .map(|(i, n)| if i > 0 && shared { &n[prefix.len()..] } else { n })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Reported<'_> {
    /// A stable fingerprint: rule, scenario and LB; rule, file and server for a server-level
    /// finding (the same on every LB in front of it); rule and subject for the Kubernetes ones. A
    /// group of load balancers takes its first member's.
    pub fn fingerprint(&self, root: &SourceRoot) -> String {
        self.fingerprints(root).swap_remove(0)
    }

    /// The fingerprint of every member of the group (one per load balancer it names), in order.
    pub fn fingerprints(&self, root: &SourceRoot) -> Vec<String> {
        let f = self.finding;
        match &self.subject {
            Subject::Lb { report: r, .. } if f.rule.server_level() => {
                vec![format!("{}:{}:{}", f.rule.id(), root.display(&f.loc.file), r.server)]
            }
            Subject::Lb { report: r, lbs } => lbs
                .iter()
                .map(|lb| format!("{}:{}:{}:{}", f.rule.id(), r.scenario, lb, r.server))
                .collect(),
            Subject::Path(r) => vec![format!("{}:{}|{}", f.rule.id(), r.target.name, r.path.name)],
            Subject::General(s) => vec![format!("{}:{s}", f.rule.id())],
        }
    }

    /// The subject in a few words, for properties and suites (a group's names joined).
    pub fn subject_name(&self) -> String {
        match &self.subject {
            Subject::Lb { report, .. } if self.finding.rule.server_level() => format!("server {}", report.server),
            Subject::Lb { lbs, .. } => join_names(lbs),
            Subject::Path(r) => format!("{}|{}", r.target.name, r.path.name),
            Subject::General(s) => s.to_string(),
        }
    }

    /// Every subject the finding names (the load balancers of a group), for machine formats.
    pub fn subjects(&self) -> Vec<String> {
        match &self.subject {
            Subject::Lb { lbs, .. } => lbs.iter().map(|s| s.to_string()).collect(),
            _ => vec![self.subject_name()],
        }
    }

    /// The prefix the message starts with that names its own subject (`backend/cp1: `).
    fn own_prefix(&self) -> Option<String> {
        match &self.subject {
            Subject::Lb { report, .. } => Some(format!("{}: ", report.lb)),
            Subject::Path(r) => Some(format!(
                "{} via {} ({}): ",
                r.target.name,
                r.path.kind.name(),
                r.path.name
            )),
            Subject::General(s) => Some(format!("{s}: ")),
        }
    }

    /// The message without the subject's name it starts with: what is the same for every member.
    pub fn evidence(&self) -> &str {
        let m = self.finding.message.as_str();
        self.own_prefix().and_then(|p| m.strip_prefix(p.as_str())).unwrap_or(m)
    }

    /// The message, naming every member of a group (`backend/cp1, cp2, cp3: ...`).
    pub fn message(&self) -> String {
        match &self.subject {
            Subject::Lb { lbs, .. } if lbs.len() > 1 && !self.finding.rule.server_level() => {
                format!("{}: {}", join_names(lbs), self.evidence())
            }
            _ => self.finding.message.clone(),
        }
    }
}

/// Every finding of the outcome once, identical ones grouped (see [`Reported`]): the load
/// balancers', the paths', the general ones.
pub fn reported(o: &Outcome) -> Vec<Reported<'_>> {
    use std::collections::HashMap;
    type Key<'k> = (
        crate::analysis::findings::Rule,
        &'k crate::error::Loc,
        &'k str,
        &'k str,
        &'k str,
    );
    let mut out: Vec<Reported> = Vec::new();
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for r in &o.lbs {
        let prefix = format!("{}: ", r.lb);
        for f in &r.findings {
            let evidence = f.message.strip_prefix(prefix.as_str()).unwrap_or(&f.message);
            // A server-level finding is one per server, whatever scenario it was found in.
            let scenario = if f.rule.server_level() { "" } else { r.scenario.as_str() };
            let key = (f.rule, &f.loc, evidence, r.server.as_str(), scenario);
            if let Some(&i) = seen.get(&key) {
                if let Subject::Lb { lbs, .. } = &mut out[i].subject {
                    lbs.push(&r.lb);
                }
                continue;
            }
            seen.insert(key, out.len());
            out.push(Reported {
                finding: f,
                subject: Subject::Lb {
                    report: r,
                    lbs: vec![&r.lb],
                },
            });
        }
    }
    for r in &o.paths {
        out.extend(r.findings.iter().map(|f| Reported {
            finding: f,
            subject: Subject::Path(r),
        }));
    }
    out.extend(o.general.iter().map(|(s, f)| Reported {
        finding: f,
        subject: Subject::General(s),
    }));
    out
}

/// Counts per verdict of the pairs and per severity of the (deduplicated) findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Pairs that pass.
    pub pass: usize,
    /// Pairs with warnings only.
    pub warn: usize,
    /// Pairs with an error.
    pub fail: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Notes.
    pub notes: usize,
}

impl Counts {
    /// Counts the load balancers' pairs and findings.
    pub fn of(o: &Outcome) -> Counts {
        let mut c = Counts::default();
        for r in &o.lbs {
            match r.verdict {
                Verdict::Pass => c.pass += 1,
                Verdict::Warn => c.warn += 1,
                Verdict::Fail => c.fail += 1,
            }
        }
        for x in reported(o).iter().filter(|x| matches!(x.subject, Subject::Lb { .. })) {
            match x.finding.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Note => c.notes += 1,
            }
        }
        c
    }
}

/// The JSON document of the measuring commands (`simulate`, `recommend`): the tool, its version,
/// the results and the command's other parts, keys sorted as serde_json sorts them.
pub fn envelope(results: Vec<serde_json::Value>, parts: Vec<(&str, serde_json::Value)>) -> String {
    let mut doc = serde_json::json!({
        "tool": "graceline",
        "version": env!("CARGO_PKG_VERSION"),
        "results": results,
    });
    for (k, v) in parts {
        doc[k] = v;
    }
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
    s.push('\n');
    s
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table and findings.
    Table,
    /// Machine-readable JSON.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML (GitLab, Jenkins).
    Junit,
    /// GitHub Actions workflow commands.
    Github,
}

impl Format {
    /// Whether the format prints each finding's paste-ready fix (so the fixes are worth planning).
    pub fn shows_fixes(self) -> bool {
        matches!(self, Format::Table | Format::Json)
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
        }
    }
}

/// Output formats of commands that report measurements rather than findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlainFormat {
    /// Human-readable table.
    Table,
    /// Machine-readable JSON.
    Json,
}

/// Seconds as a float for output (computed from integer microseconds).
pub fn secs(m: crate::time::Micros) -> f64 {
    m.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_repository_root() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
        std::fs::create_dir_all(tmp.path().join("a/b")).unwrap();
        let root = SourceRoot::discover(&tmp.path().join("a/b"));
        assert_eq!(root.root, tmp.path());
        assert_eq!(root.relative("x.cfg").as_deref(), Some("a/b/x.cfg"));
        assert_eq!(root.relative("../c/./y.yaml").as_deref(), Some("a/c/y.yaml"));
        let abs = tmp.path().join("z dir/w.json");
        assert_eq!(
            root.artifact(abs.to_str().unwrap()),
            ("z%20dir/w.json".to_string(), true)
        );
        assert_eq!(root.relative("/elsewhere/f.cfg"), None);
        assert_eq!(
            root.artifact("/elsewhere/f.cfg"),
            ("file:///elsewhere/f.cfg".to_string(), false)
        );
        assert_eq!(
            root.artifact("builtin:haproxy"),
            ("builtin%3Ahaproxy".to_string(), false)
        );
        assert!(root.root_uri().starts_with("file:///") && root.root_uri().ends_with('/'));
    }

    #[test]
    fn without_a_repository_the_working_directory_is_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = SourceRoot::discover(tmp.path());
        // (unless the temporary directory itself lies in a repository)
        if !tmp.path().ancestors().any(|d| d.join(".git").exists()) {
            assert_eq!(root.root, tmp.path());
            assert_eq!(root.relative("x.cfg").as_deref(), Some("x.cfg"));
        }
    }
}
