//! SARIF 2.1.0 for GitHub code scanning: the driver with every rule, one result per finding (a
//! server-level finding once per server) with a location relative to the repository root
//! (`%SRCROOT%` in `originalUriBaseIds`).

use super::{reported, ExportContext, Exporter, Subject};
use crate::analysis::findings::{Rule, Severity, TABLE};
use crate::analysis::outcome::Outcome;
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
    fn document(&self, o: &Outcome, ctx: &ExportContext) -> String {
        let all: Vec<Rule> = TABLE.iter().map(|r| r.rule).collect();
        let rules: Vec<Value> = TABLE
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.name,
                    "shortDescription": { "text": r.summary },
                    "fullDescription": { "text": r.full },
                    "help": { "text": r.help },
                    "helpUri": super::rules::help_uri(r),
                    "defaultConfiguration": { "level": level(r.severity) },
                })
            })
            .collect();
        let results: Vec<Value> = reported(o)
            .iter()
            .map(|x| {
                let f = x.finding;
                let (uri, relative) = ctx.root.artifact(&f.loc.file);
                let mut artifact = json!({ "uri": uri });
                if relative {
                    artifact["uriBaseId"] = json!(SRCROOT);
                }
                let properties = match &x.subject {
                    Subject::Lb { report: r, lbs } if f.rule.server_level() => {
                        json!({ "scenario": r.scenario, "lbs": lbs, "server": r.server })
                    }
                    Subject::Lb { report: r, lbs } if lbs.len() > 1 => {
                        json!({ "scenario": r.scenario, "lbs": lbs, "server": r.server })
                    }
                    Subject::Lb { report: r, .. } => json!({ "scenario": r.scenario, "lb": r.lb, "server": r.server }),
                    _ => json!({ "subject": x.subject_name() }),
                };
                json!({
                    "ruleId": f.rule.id(),
                    "ruleIndex": all.iter().position(|x| *x == f.rule).unwrap_or(0),
                    "level": level(f.severity),
                    "message": { "text": x.message() },
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
        // Suppressed findings stay in the log, each with its suppression (SARIF 2.1.0 §3.35):
        // code scanning shows them as dismissed, never silently gone.
        let suppressed = ctx.suppressed.iter().map(|x| {
            let f = &x.finding;
            let (uri, relative) = ctx.root.artifact(&f.loc.file);
            let mut artifact = json!({ "uri": uri });
            if relative {
                artifact["uriBaseId"] = json!(SRCROOT);
            }
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": all.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": { "startLine": f.loc.line.max(1), "startColumn": f.loc.column.max(1) },
                    }
                }],
                "partialFingerprints": { "graceline/v1": x.fingerprints[0] },
                "suppressions": [{
                    "kind": x.suppression.kind,
                    "status": "accepted",
                    "justification": x.suppression.justification,
                }],
                "properties": { "subjects": x.subjects, "suppressedBy": x.suppression.origin },
            })
        });
        let results: Vec<Value> = results.into_iter().chain(suppressed).collect();
        let mut doc = json!({
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
        // What `--set` changed, so a code-scanning alert says it judged a what-if.
        if !ctx.overrides.is_empty() {
            doc["runs"][0]["properties"] = json!({ "overrides": ctx.overrides });
        }
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
        s.push('\n');
        s
    }
}

impl Exporter for SarifExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.document(o, ctx).as_bytes())
    }
}
