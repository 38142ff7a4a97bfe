//! Reading the suppressions written in the inputs (`# graceline:ignore GLxxx reason` comments and
//! `graceline.io/ignore` annotations) and a baseline file, once, into the model's
//! [`crate::scenario::sources`] types; `output::suppress` applies them.

use super::yaml;
use crate::error::Loc;
use crate::scenario::sources::{Baseline, BaselineDoc, InlineSuppression, Syntax};
use std::path::Path;

use crate::scenario::sources::{ANNOTATION, MARKER};

/// The suppressions written in one file: comments (JSON has none), and the annotations of its
/// objects when it holds Kubernetes YAML or JSON.
pub fn scan(file: &str, text: &str, syntax: Option<Syntax>) -> Vec<InlineSuppression> {
    let mut out = Vec::new();
    if !text.contains(MARKER) && !text.contains(ANNOTATION) {
        return out;
    }
    if syntax != Some(Syntax::Json) {
        out.extend(comments(file, text));
    }
    if matches!(syntax, Some(Syntax::Yaml | Syntax::Json)) {
        out.extend(annotations(file, text));
    }
    out
}

/// Reads a baseline written by `graceline baseline`.
pub fn read_baseline(path: &Path) -> anyhow::Result<Baseline> {
    let file = path.display().to_string();
    let text = super::read_text(path)?;
    let doc: BaselineDoc = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{file}:{}:{}: not a graceline baseline ({}); write one with `graceline baseline > {file}`",
            e.line(),
            e.column(),
            crate::scenario::words::json_syntax(&e.to_string())
        )
    })?;
    if doc.tool != "graceline" {
        anyhow::bail!("{file}: a baseline of \"{}\", not of graceline", doc.tool);
    }
    Ok(Baseline {
        file,
        fingerprints: doc.findings.into_iter().map(|e| e.fingerprint).collect(),
    })
}

/// The rule ids at the start of `text` (`GL003,GL019`, `GL003 GL019`) and the rest, the reason
/// (after an optional `:` or `-`).
fn rules_and_reason(text: &str) -> (Vec<String>, String) {
    let mut rules = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let up = word.to_ascii_uppercase();
        if up.len() == 5 && up.starts_with("GL") && up[2..].chars().all(|c| c.is_ascii_digit()) {
            rules.push(up);
            rest = rest[word.len()..].trim_start_matches([',', ' ', '\t']);
        } else {
            break;
        }
    }
    let reason = rest.trim_start_matches([':', '-', ' ', '\t']).trim().to_string();
    (rules, reason)
}

/// The inline suppressions of one file's text: `# graceline:ignore ...` on a line with code
/// covers that line; alone on its line, the next line that is neither blank nor a comment.
fn comments(file: &str, text: &str) -> Vec<InlineSuppression> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(hash) = line.find('#') else {
            continue;
        };
        let comment = &line[hash + 1..];
        let Some(at) = comment.find(MARKER) else {
            continue;
        };
        let (rules, reason) = rules_and_reason(&comment[at + MARKER.len()..]);
        let own_line = line[..hash].trim().is_empty();
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let covered = if own_line {
            let next = lines[i + 1..]
                .iter()
                .position(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                })
                .map_or(n, |k| n + u32::try_from(k + 1).unwrap_or(0));
            (n, next)
        } else {
            (n, n)
        };
        out.push(InlineSuppression {
            loc: Loc {
                file: file.to_string(),
                line: n,
                column: u32::try_from(line[..hash].chars().count() + 1).unwrap_or(1),
            },
            lines: covered,
            rules,
            reason,
            what: "comment",
        });
    }
    out
}

/// The `graceline.io/ignore` annotations of a YAML file's objects, each covering its object.
fn annotations(file: &str, text: &str) -> Vec<InlineSuppression> {
    if !text.contains(ANNOTATION) {
        return Vec::new();
    }
    let t = yaml::Text::new(file, text);
    let Ok(docs) = yaml::load(&t) else {
        return Vec::new();
    };
    let mut objects: Vec<&yaml::Node> = Vec::new();
    fn walk<'n, 'a>(n: &'n yaml::Node<'a>, out: &mut Vec<&'n yaml::Node<'a>>) {
        out.push(n);
        if let Some(items) = yaml::get(n, "items") {
            for i in yaml::items(items) {
                walk(i, out);
            }
        }
    }
    for d in &docs {
        walk(d, &mut objects);
    }
    let mut out = Vec::new();
    for o in objects {
        let Some(value) = yaml::get(o, "metadata")
            .and_then(|m| yaml::get(m, "annotations"))
            .and_then(|a| yaml::get(a, ANNOTATION))
        else {
            continue;
        };
        let Some(text) = yaml::as_str(value) else {
            continue;
        };
        let from = u32::try_from(o.span.start.line()).unwrap_or(1);
        let to = u32::try_from(o.span.end.line()).unwrap_or(u32::MAX).max(from);
        for entry in text.split(';').filter(|e| !e.trim().is_empty()) {
            let (rules, reason) = rules_and_reason(entry);
            out.push(InlineSuppression {
                loc: t.loc(value),
                lines: (from, to),
                rules,
                reason,
                what: "annotation",
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cover_their_line_or_the_next_one() {
        let text = "backend b\n  # graceline:ignore GL003,GL019: measured\n\n  option httpchk GET /healthz\n  server a 1.2.3.4:6443 check # graceline:ignore gl001 - known\n  # not a marker\n";
        let c = comments("h.cfg", text);
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].lines, c[0].rules.clone(), c[0].reason.as_str()),
            ((2, 4), vec!["GL003".to_string(), "GL019".to_string()], "measured")
        );
        assert_eq!(
            (c[1].lines, c[1].rules.clone(), c[1].reason.as_str()),
            ((5, 5), vec!["GL001".to_string()], "known")
        );
        assert_eq!(
            rules_and_reason(" reason only"),
            (Vec::new(), "reason only".to_string())
        );
    }

    #[test]
    fn annotations_cover_their_object() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    graceline.io/ignore: \"GL003: node check by design; GL019: fine\"\nspec:\n  type: LoadBalancer\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let a = annotations("s.yaml", text);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].rules, vec!["GL003".to_string()]);
        assert_eq!(a[0].reason, "node check by design");
        assert_eq!(a[1].rules, vec!["GL019".to_string()]);
        assert!(
            a[0].lines.0 <= 3 && a[0].lines.1 >= 8 && a[0].lines.1 < 10,
            "{:?}",
            a[0].lines
        );
    }

    #[test]
    fn json_has_no_comments_but_its_objects_have_annotations() {
        let json = "{\"kind\": \"Service\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"graceline.io/ignore\": \"GL003: why\"}}, \"x\": \"# graceline:ignore GL001\"}";
        let s = scan("s.json", json, Some(Syntax::Json));
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].what, s[0].rules.clone()),
            ("annotation", vec!["GL003".to_string()])
        );
        assert!(scan("h.cfg", "backend b\n", Some(Syntax::Haproxy)).is_empty());
    }
}
