//! SARIF 2.1.0 for GitHub code scanning: the driver with every rule, one result per finding with a
//! repository-relative physical location.

use super::{relative_uri, ExportContext, Exporter};
use crate::analysis::findings::{Severity, RULES};
use crate::analysis::LbReport;
use serde_json::{json, Value};

/// SARIF exporter.
pub struct SarifExporter;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

impl Exporter for SarifExporter {
    fn render(&self, reports: &[LbReport], _ctx: &ExportContext) -> String {
        let rules: Vec<Value> = RULES
            .iter()
            .map(|r| {
                json!({
                    "id": r.id(),
                    "name": r.name(),
                    "shortDescription": { "text": r.short() },
                    "fullDescription": { "text": r.full() },
                    "help": { "text": r.help() },
                    "defaultConfiguration": { "level": level(r.severity()) },
                })
            })
            .collect();
        let results: Vec<Value> = reports
            .iter()
            .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
            .map(|(r, f)| {
                json!({
                    "ruleId": f.rule.id(),
                    "ruleIndex": RULES.iter().position(|x| *x == f.rule).unwrap_or(0),
                    "level": level(f.severity),
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": relative_uri(&f.loc.file) },
                            "region": { "startLine": f.loc.line.max(1), "startColumn": f.loc.column.max(1) },
                        }
                    }],
                    "partialFingerprints": {
                        "graceline/v1": format!("{}:{}:{}:{}", f.rule.id(), r.scenario, r.lb, r.server),
                    },
                    "properties": { "scenario": r.scenario, "lb": r.lb, "server": r.server },
                })
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "graceline",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
            }],
        });
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
        s.push('\n');
        s
    }
}
