//! The rule catalogue as `graceline rules` prints it: a table of every rule, one rule explained
//! (what, why, example, fix, sources), the README's rule section (Markdown, kept equal by a test)
//! and JSON; SARIF's `helpUri` points at the README anchors written here.

use super::table::severity_paint;
use super::term::{fit, wrap, Col, Term};
use crate::analysis::findings::{Rule, RuleInfo, Scope, TABLE};
use crate::analysis::rules::docs::doc;
use serde_json::json;

/// Where the README lives on the web: the base of every rule's `helpUri`.
pub const README_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/README.md");

/// The README heading anchor of a rule (GitHub's: lower case, spaces to dashes).
pub fn anchor(r: &RuleInfo) -> String {
    format!("{}-{}", r.id.to_lowercase(), r.name)
}

/// The web address of a rule's explanation in the README.
pub fn help_uri(r: &RuleInfo) -> String {
    format!("{README_URL}#{}", anchor(r))
}

/// What a scope is, in words.
pub fn scope_words(s: Scope) -> &'static str {
    match s {
        Scope::Lb => "one load balancer in front of one server",
        Scope::Server => "the server alone, once per server",
        Scope::Path => "one Kubernetes path",
        Scope::General => "a workload, Service or Ingress",
    }
}

/// Every rule, one row each: id, name, severity, one line.
pub fn table(term: &Term) -> String {
    let cols = [
        Col {
            header: "rule",
            numeric: false,
        },
        Col {
            header: "name",
            numeric: false,
        },
        Col {
            header: "severity",
            numeric: false,
        },
        Col {
            header: "summary",
            numeric: false,
        },
    ];
    let rows: Vec<Vec<String>> = TABLE
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.name.to_string(),
                r.severity.to_string(),
                r.summary.to_string(),
            ]
        })
        .collect();
    let paint: Vec<_> = TABLE.iter().map(|_| None).collect();
    format!(
        "{}\nExplain one (why, an example, the fix, sources): graceline rules GL001\n",
        fit(&cols, &rows, &paint, term)
    )
}

/// One rule explained for the terminal; `example_findings` are the lines `check` prints for the
/// rule's example.
pub fn explain(rule: Rule, example_findings: &[String], term: &Term) -> String {
    let r = rule.info();
    let d = doc(rule);
    let width = term.width.unwrap_or(100).clamp(40, 100);
    let body = |text: &str| -> String {
        wrap(text, width - 2)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    };
    let tag = term.paint(&format!("{}[{}]", r.severity, r.id), severity_paint(r.severity));
    let mut s = format!("{tag} {}: {}\n  about {}\n\n", r.name, r.summary, scope_words(r.scope));
    s += "What it checks\n";
    s += &body(r.full);
    s += "\nWhy it matters\n";
    s += &body(d.why);
    for ex in std::iter::once(&d.example).chain(d.example.beside) {
        s += &format!("\nExample ({})\n", ex.file);
        for l in ex.text.lines() {
            s += &format!("  | {l}\n").replace("| \n", "|\n");
        }
    }
    s += &format!("\ngraceline check {} says\n", d.example.file);
    for f in example_findings {
        s += &body(f);
    }
    s += "\nFix\n";
    s += &body(r.help);
    s += "\nSources\n";
    for src in d.sources {
        s += &format!("  - {src}\n");
    }
    s += &format!("\nOnline: {}\n", help_uri(r));
    s
}

/// The README's rule section: a table linking to one heading per rule.
pub fn markdown() -> String {
    let mut s = String::from("| rule | name | severity | summary |\n|---|---|---|---|\n");
    for r in &TABLE {
        s += &format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            r.id,
            anchor(r),
            r.name,
            r.severity,
            r.summary
        );
    }
    for r in &TABLE {
        let d = doc(r.rule);
        s += &format!("\n### {} {}\n\n", r.id, r.name);
        s += &format!("*{}, about {}.* {}\n\n", r.severity, scope_words(r.scope), r.full);
        s += &format!("Why: {}\n\n", d.why);
        s += &format!(
            "Fix: {}\n\nExample: {} (`graceline rules {}` runs it). Sources: {}.\n",
            r.help,
            std::iter::once(&d.example)
                .chain(d.example.beside)
                .map(|e| format!("[`{}`](src/analysis/rules/examples/{})", e.file, e.file))
                .collect::<Vec<_>>()
                .join(" with "),
            r.id,
            d.sources
                .iter()
                .map(|x| if x.starts_with("http") {
                    format!("<{x}>")
                } else {
                    format!("`{x}`")
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

/// Every rule as JSON (one object per rule), or the one asked for.
pub fn json(rules: &[Rule]) -> String {
    let items: Vec<_> = rules
        .iter()
        .map(|rule| {
            let r = rule.info();
            let d = doc(*rule);
            json!({
                "id": r.id,
                "name": r.name,
                "severity": r.severity,
                "scope": r.scope,
                "summary": r.summary,
                "full": r.full,
                "why": d.why,
                "help": r.help,
                "example": { "file": d.example.file, "text": d.example.text },
                "example_beside": d.example.beside.iter().map(|e| json!({ "file": e.file, "text": e.text })).collect::<Vec<_>>(),
                "sources": d.sources,
                "help_uri": help_uri(r),
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({ "rules": items })).expect("rules serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_githubs_for_the_headings() {
        let r = Rule::GL001.info();
        assert_eq!(anchor(r), "gl001-routes-to-closed-port");
        assert!(markdown().contains("\n### GL001 routes-to-closed-port\n"));
        assert!(help_uri(r).starts_with("https://"));
    }

    #[test]
    fn explain_has_every_part() {
        let s = explain(Rule::GL003, &["error[GL003] x".into()], &Term::default());
        for part in [
            "What it checks",
            "Why it matters",
            "Example (GL003.toml)",
            "says",
            "Fix",
            "Sources",
        ] {
            assert!(s.contains(part), "{part} in {s}");
        }
    }
}
