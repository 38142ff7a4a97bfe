//! Output formats for `check`: one exporter per format.

pub mod json;
pub mod recommend;
pub mod simulate;
pub mod table;

use crate::analysis::LbReport;

/// Renders a set of reports in one format.
pub trait Exporter {
    /// The whole output document.
    fn render(&self, reports: &[LbReport]) -> String;
}

/// The exporter for a format name.
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter),
        Format::Json => Box::new(json::JsonExporter),
    }
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table and findings.
    Table,
    /// Machine-readable JSON.
    Json,
}

/// Seconds as a float for output (computed from integer microseconds).
pub fn secs(m: crate::time::Micros) -> f64 {
    m.as_secs_f64()
}
