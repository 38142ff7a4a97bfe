//! Findings as rustc prints its diagnostics: a short headline with the severity and rule
//! (`error[GL001]: api-external routes new requests 4m after the server stops listening`), the
//! location (`--> file:line:col`) with the source line and a mark under the setting, the
//! evidence in a few lines and `help:` with the fix, wrapped to the terminal; and the one-line
//! form of `check -q` (`file:line:col: error[GL001]: headline`) for grep.

use super::table::severity_paint;
use super::term::{width_of, wrap_prose, Term};
use super::{join_names, Reported, Subject};
use crate::analysis::findings::Rule;
use crate::scenario::sources::Texts;
use crate::time::Micros;

/// `text` with its first letter lower-case, unless it starts an acronym (`NLB`, `HAProxy`).
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            let mut s = a.to_lowercase().to_string();
            s.push(b);
            s.push_str(chars.as_str());
            s
        }
        _ => text.to_string(),
    }
}

/// The names a finding is about, in a few words (a group's names joined).
pub fn subject_words(x: &Reported) -> String {
    match &x.subject {
        Subject::Lb { report, .. } if x.finding.rule.server_level() => format!("server {}", report.server),
        Subject::Lb { lbs, .. } => join_names(lbs),
        Subject::Path(r) => format!("{} via {}", r.target.name, r.path.kind.name()),
        Subject::General(s) => s.to_string(),
    }
}

/// The finding in one short line: what happens to whom, with the figure that matters.
pub fn headline(x: &Reported) -> String {
    let who = subject_words(x);
    let f = x.finding;
    match (&x.subject, f.rule) {
        (Subject::Lb { report: r, .. }, Rule::GL001) => {
            let late = r.extremes.worst.time - r.budget;
            if late <= Micros::ZERO {
                format!("{who} routes new requests right up to the instant the server stops listening")
            } else {
                format!("{who} routes new requests {late} after the server stops listening")
            }
        }
        (Subject::Lb { report: r, .. }, Rule::GL002) => {
            format!(
                "{who} stops routing only {} before the server stops listening",
                r.margin
            )
        }
        (Subject::Lb { .. }, Rule::GL008) => {
            format!("{who} is never checked, so it keeps getting new connections after the server stops listening")
        }
        (Subject::Path(p), Rule::GL030) => match p.margin {
            Some(m) if m < Micros::ZERO => {
                format!(
                    "{who} sends new connections {} after the app stops listening",
                    Micros::ZERO - m
                )
            }
            _ => format!("{who} sends new connections right up to the instant the app stops listening"),
        },
        (Subject::Path(p), Rule::GL031) => match p.margin {
            Some(m) => format!("{who} stops sending only {m} before the app stops listening"),
            None => format!("{who}: {}", lower_first(f.rule.short())),
        },
        _ => format!("{who}: {}", lower_first(f.rule.short())),
    }
}

/// Where a message's fix begins (`fix: …`, after `; ` or at the start).
fn fix_at(m: &str) -> Option<usize> {
    if let Some(rest) = m.strip_prefix("fix: ") {
        return Some(m.len() - rest.len() - "fix: ".len());
    }
    m.find("; fix: ").map(|i| i + 2)
}

/// The evidence (the message without its subject's name and its fix) and the fix: the
/// message's own `fix: …` when it has one, else the rule's help.
pub fn evidence_and_help(x: &Reported) -> (String, String) {
    let m = x.evidence();
    match fix_at(m) {
        Some(i) => {
            let evidence = m[..i].trim_end().trim_end_matches(';').trim_end().to_string();
            let help = m[i + "fix: ".len()..].trim().to_string();
            (evidence, help)
        }
        None => (m.to_string(), lower_first(x.finding.rule.help())),
    }
}

/// The one-line form (`check -q`): `file:line:col: error[GL001]: headline`.
pub fn one_line(x: &Reported, term: &Term) -> String {
    let f = x.finding;
    let tag = term.paint(&format!("{}[{}]", f.severity, f.rule.id()), severity_paint(f.severity));
    format!("{}: {tag}: {}", f.loc, headline(x))
}

/// Lines of `text` wrapped to `width` (none: one line) at whitespace only (a setting name, path,
/// URL or `key=value` stays whole), the first after `first`, the others after `rest`.
fn block(text: &str, first: &str, rest: &str, width: Option<usize>) -> String {
    let body = match width {
        Some(w) => wrap_prose(text, w.saturating_sub(width_of(first)).max(20)),
        None => text.to_string(),
    };
    let mut out = String::new();
    for (i, line) in body.lines().enumerate() {
        out.push_str(if i == 0 { first } else { rest });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The source line and a mark under the token at the finding's column, cut to the width
/// around the column when the line is longer (one-line JSON).
fn snippet(line_no: u32, column: u32, source: &str, width: Option<usize>) -> String {
    let gutter = line_no.to_string().len();
    let chars: Vec<char> = source.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    let col = usize::try_from(column.max(1) - 1).unwrap_or(0).min(chars.len());
    let room = width.map_or(usize::MAX, |w| w.saturating_sub(gutter + 3).max(20));
    let (from, to) = if chars.len() <= room {
        (0, chars.len())
    } else {
        let from = col.saturating_sub(room / 3);
        (from, (from + room).min(chars.len()))
    };
    let mut shown: String = chars[from..to].iter().collect();
    let mut mark_at = col - from;
    if from > 0 {
        shown = format!("…{}", shown.chars().skip(1).collect::<String>());
    }
    if to < chars.len() {
        shown = format!("{}…", shown.chars().take(to - from - 1).collect::<String>());
    }
    let token = chars[col..to]
        .iter()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '#'))
        .count()
        .clamp(1, 40);
    if mark_at > shown.chars().count() {
        mark_at = shown.chars().count();
    }
    let pad = " ".repeat(gutter);
    format!(
        "{pad} |\n{line_no} | {}\n{pad} | {}{}\n",
        shown.trim_end(),
        " ".repeat(mark_at),
        "^".repeat(token.min(shown.chars().count().saturating_sub(mark_at).max(1)))
    )
}

/// One finding as a diagnostic block (ending in a blank line).
pub fn render(x: &Reported, term: &Term, sources: &Texts, extra_help: &[String]) -> String {
    let f = x.finding;
    let tag = term.paint(&format!("{}[{}]", f.severity, f.rule.id()), severity_paint(f.severity));
    let width = term.width;
    let mut out = block(&headline(x), &format!("{tag}: "), "  ", width);
    let gutter = " ".repeat(f.loc.line.to_string().len());
    out.push_str(&format!("{gutter}--> {}\n", f.loc));
    if let Some(source) = sources.line(&f.loc.file, f.loc.line) {
        out.push_str(&snippet(f.loc.line, f.loc.column, source, width));
    }
    let (evidence, help) = evidence_and_help(x);
    let first = format!("{gutter} = ");
    let rest = format!("{gutter}   ");
    out.push_str(&block(&evidence, &first, &rest, width));
    out.push_str(&block(
        &help,
        &format!("{gutter} = help: "),
        &format!("{gutter}         "),
        width,
    ));
    // Paste-ready lines: the first after `= `, the rest as written (never wrapped).
    for h in extra_help {
        let mut lines = h.lines();
        if let Some(first) = lines.next() {
            out.push_str(&format!("{gutter} = {first}\n"));
        }
        for l in lines {
            out.push_str(&format!("{gutter}       {l}\n"));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_is_split_from_the_evidence() {
        assert_eq!(fix_at("a; b; fix: c"), Some(6));
        assert_eq!(fix_at("fix: c"), Some(0));
        assert_eq!(fix_at("no fix here"), None);
    }

    #[test]
    fn lower_first_keeps_acronyms() {
        assert_eq!(lower_first("The check"), "the check");
        assert_eq!(lower_first("NLB resets"), "NLB resets");
        assert_eq!(lower_first("An HAProxy server"), "an HAProxy server");
        assert_eq!(lower_first("kube-apiserver's"), "kube-apiserver's");
        assert_eq!(lower_first("A Service"), "a Service");
    }

    #[test]
    fn a_long_source_line_is_cut_around_the_column() {
        let line = format!("{}\"interval\": 10{}", "x".repeat(500), "y".repeat(500));
        let s = snippet(1, 501, &line, Some(60));
        for l in s.lines() {
            assert!(l.chars().count() <= 60, "{l}");
        }
        assert!(s.contains("\"interval\": 10"), "{s}");
        let caret = s.lines().nth(2).unwrap();
        let src = s.lines().nth(1).unwrap();
        let at = caret.chars().position(|c| c == '^').unwrap();
        assert_eq!(src.chars().nth(at), Some('"'), "{s}");
    }
}
