//! Output: one exporter per `check` format, and timeline charts (`chart`).

pub mod chart;
pub mod github;
pub mod json;
pub mod junit;
pub mod recommend;
pub mod report;
pub mod sarif;
pub mod simulate;
pub mod table;

use crate::analysis::findings::Severity;
use crate::analysis::LbReport;

/// What every exporter may need besides the reports.
#[derive(Debug, Clone, Default)]
pub struct ExportContext {
    /// Lowest severity that fails the run (`None` with `--no-fail`).
    pub fail_on: Option<Severity>,
    /// Load balancers read but not judged (scenario name, LB), listed with the reason.
    pub skipped: Vec<(String, crate::scenario::SkippedLb)>,
}

/// Renders a set of reports in one format.
pub trait Exporter {
    /// The whole output document.
    fn render(&self, reports: &[LbReport], ctx: &ExportContext) -> String;
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

/// A finding's file as a forward-slash path relative to the working directory when possible.
pub fn relative_uri(file: &str) -> String {
    let p = std::path::Path::new(file);
    let rel = match std::env::current_dir() {
        Ok(cwd) if p.is_absolute() => p
            .strip_prefix(&cwd)
            .map(|r| r.to_path_buf())
            .unwrap_or_else(|_| p.to_path_buf()),
        _ => p.to_path_buf(),
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map_or(s.clone(), str::to_string)
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
