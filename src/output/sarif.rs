//! SARIF 2.1.0 for GitHub code scanning: the driver with every rule, one result per finding (a
//! server-level finding once per server) with a location relative to the repository root
//! (`%SRCROOT%` in `originalUriBaseIds`).

use super::{reported, ExportContext, Exporter};
use crate::analysis::findings::{Severity, RULES};
use crate::analysis::LbReport;
use serde_json::{json, Value};

/// The base id of repository-relative URIs, as GitHub code scanning expects.
const SRCROOT: &str = "%SRCROOT%";

/// SARIF exporter.
pub struct SarifExporter;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

impl SarifExporter {
    /// The whole SARIF document.
    fn document(&self, reports: &[LbReport], ctx: &ExportContext) -> String {
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
        let results: Vec<Value> = reported(reports)
            .iter()
            .map(|x| {
                let (f, r) = (x.finding, x.report);
                let (uri, relative) = ctx.root.artifact(&f.loc.file);
                let mut artifact = json!({ "uri": uri });
                if relative {
                    artifact["uriBaseId"] = json!(SRCROOT);
                }
                let properties = if f.rule.server_level() {
                    json!({ "scenario": r.scenario, "lbs": x.lbs, "server": r.server })
                } else {
                    json!({ "scenario": r.scenario, "lb": r.lb, "server": r.server })
                };
                json!({
                    "ruleId": f.rule.id(),
                    "ruleIndex": RULES.iter().position(|x| *x == f.rule).unwrap_or(0),
                    "level": level(f.severity),
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": { "startLine": f.loc.line.max(1), "startColumn": f.loc.column.max(1) },
                        }
                    }],
                    "partialFingerprints": { "graceline/v1": x.fingerprint(&ctx.root) },
                    "properties": properties,
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
                "originalUriBaseIds": { SRCROOT: { "uri": ctx.root.root_uri() } },
                "results": results,
            }],
        });
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
        s.push('\n');
        s
    }
}

impl Exporter for SarifExporter {
    fn write(&self, reports: &[LbReport], ctx: &ExportContext, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.document(reports, ctx).as_bytes())
    }
}
