//! `graceline rules`: the rule catalogue, and one rule explained with its example run through the
//! same reading and analysis as `check`.

use super::args::{RulesArgs, RulesFormat};
use crate::analysis::findings::{Rule, TABLE};
use crate::analysis::outcome;
use crate::analysis::rules::docs::doc;
use crate::cli::Exit;
use crate::output::term::Term;
use crate::output::{reported, rules as render};
use anyhow::{bail, Context, Result};
use std::io::Write;

/// The rule an id (`GL001`, `gl001`) or name (`routes-to-closed-port`) names.
pub fn find(word: &str) -> Result<Rule> {
    if let Some(r) = TABLE
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(word) || r.name.eq_ignore_ascii_case(word))
    {
        return Ok(r.rule);
    }
    let words: Vec<&str> = TABLE.iter().flat_map(|r| [r.id, r.name]).collect();
    let hint = match crate::scenario::words::nearest(word, &words) {
        Some(w) => format!("; did you mean {w}?"),
        None => String::new(),
    };
    bail!("unknown rule \"{word}\"{hint} (graceline rules lists them)")
}

/// The findings of `rule` that `check` reports for the rule's example, one line each, located in
/// the example's own file name.
pub fn example_findings(rule: Rule) -> Result<Vec<String>> {
    let ex = doc(rule).example;
    let dir = tempfile::tempdir().context("cannot create a directory for the rule's example")?;
    let path = dir.path().join(ex.file);
    for f in std::iter::once(&ex).chain(ex.beside) {
        let p = dir.path().join(f.file);
        std::fs::write(&p, f.text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let opts = crate::input::Options {
        allow_empty: true,
        rule_ids: super::inputs::rule_ids(),
        ..Default::default()
    };
    let groups = crate::input::load(std::slice::from_ref(&path), &opts)
        .with_context(|| format!("the example of {} does not read", rule.id()))?;
    let o = outcome::run(groups);
    let prefix = format!("{}/", dir.path().display());
    Ok(reported(&o)
        .iter()
        .filter(|x| x.finding.rule == rule)
        .map(|x| {
            let f = x.finding;
            let loc = f.loc.to_string().replace(&prefix, "");
            format!(
                "{}[{}] {loc}: {}",
                f.severity,
                f.rule.id(),
                f.message.replace(&prefix, "")
            )
        })
        .collect())
}

/// Runs `graceline rules`.
pub fn run(a: &RulesArgs, term: &Term, out: &mut dyn Write) -> Result<Exit> {
    let one = a.rule.as_deref().map(find).transpose()?;
    let text = match (a.format, one) {
        (RulesFormat::Json, Some(r)) => render::json(&[r]),
        (RulesFormat::Json, None) => render::json(&TABLE.iter().map(|r| r.rule).collect::<Vec<_>>()),
        (RulesFormat::Markdown, _) => render::markdown(),
        (RulesFormat::Table, None) => render::table(term),
        (RulesFormat::Table, Some(r)) => render::explain(r, &example_findings(r)?, term),
    };
    out.write_all(text.as_bytes())?;
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rules_example_raises_it() {
        for r in &TABLE {
            let lines = example_findings(r.rule).unwrap_or_else(|e| panic!("{}: {e:#}", r.id));
            assert!(!lines.is_empty(), "the example of {} does not raise it", r.id);
        }
    }

    #[test]
    fn ids_and_names_find_their_rule_and_typos_get_a_hint() {
        assert_eq!(find("gl003").unwrap(), Rule::GL003);
        assert_eq!(find("routes-to-closed-port").unwrap(), Rule::GL001);
        let e = find("GL0O1").unwrap_err().to_string();
        assert!(e.contains("did you mean GL001"), "{e}");
    }
}
