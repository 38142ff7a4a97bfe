//! The report as one self-contained HTML file: the same document as the Markdown, its charts
//! inline as SVG, one inline style sheet with print rules; no script, no font or any other file
//! fetched (the charts name the DejaVu Sans family with a sans-serif fallback).

use super::report::{Block, Doc};

/// Badge colours of the verdicts (the screenshot test looks for them).
pub const FAIL_RGB: (u8, u8, u8) = (0xc6, 0x28, 0x28);
/// WARN.
pub const WARN_RGB: (u8, u8, u8) = (0xb2, 0x6a, 0x00);
/// pass.
pub const PASS_RGB: (u8, u8, u8) = (0x1b, 0x7f, 0x3b);

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn style() -> String {
    format!(
        r#"
:root {{ color-scheme: light; }}
body {{ font: 15px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #212121; background: #fff; max-width: 1160px; margin: 0 auto; padding: 16px 20px 48px; }}
h1 {{ font-size: 26px; margin: 8px 0 4px; }}
h2 {{ font-size: 21px; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid #ddd; }}
h3 {{ font-size: 17px; margin: 24px 0 6px; }}
h4 {{ font-size: 15px; margin: 16px 0 4px; }}
p, li {{ max-width: 70em; }}
code {{ font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; background: #f3f3f3; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }}
table {{ border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }}
th, td {{ border: 1px solid #d0d0d0; padding: 4px 7px; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
tr:nth-child(even) td {{ background: #fafafa; }}
.wrap {{ overflow-x: auto; }}
figure {{ margin: 12px 0; }}
figure svg {{ max-width: 100%; height: auto; display: block; }}
.badge {{ display: inline-block; padding: 1px 8px; border-radius: 4px; color: #fff; font-weight: bold; }}
.verdict {{ font-size: 20px; padding: 4px 16px; margin: 4px 0 8px; }}
.fail {{ background: {fail}; }}
.warn {{ background: {warn}; }}
.pass {{ background: {pass}; }}
ol.refs li {{ font-size: 13px; margin-bottom: 4px; overflow-wrap: anywhere; }}
a {{ color: #0b57a4; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 11pt; }}
  h2 {{ break-before: page; border-top: none; }}
  h1 + p + h2, h1 + p + p + h2 {{ break-before: avoid; }}
  table, figure, .verdict {{ break-inside: avoid; }}
  h2, h3, h4 {{ break-after: avoid; }}
  .wrap {{ overflow: visible; }}
  table {{ font-size: 8.5pt; }}
  .badge {{ print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
  a {{ color: inherit; text-decoration: none; }}
}}
"#,
        fail = hex(FAIL_RGB),
        warn = hex(WARN_RGB),
        pass = hex(PASS_RGB)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline markup: `code`, **bold**, reference marks `[n]` as links; everything else escaped.
fn inline(s: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    let mut bold = false;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            i += 1;
            continue;
        }
        if !code && c == '*' && chars.get(i + 1) == Some(&'*') {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            i += 2;
            continue;
        }
        if !code && c == '[' {
            let digits: String = chars[i + 1..].iter().take_while(|d| d.is_ascii_digit()).collect();
            if !digits.is_empty() && chars.get(i + 1 + digits.len()) == Some(&']') {
                out.push_str(&format!("<a href=\"#ref-{digits}\">[{digits}]</a>"));
                i += digits.len() + 2;
                continue;
            }
        }
        out.push_str(&escape(&c.to_string()));
        i += 1;
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

fn badge_class(text: &str) -> Option<&'static str> {
    match text {
        "FAIL" => Some("fail"),
        "WARN" => Some("warn"),
        "pass" => Some("pass"),
        _ => None,
    }
}

fn td(text: &str) -> String {
    match badge_class(text) {
        Some(c) => format!("<td><span class=\"badge {c}\">{}</span></td>", escape(text)),
        None => format!("<td>{}</td>", inline(text)),
    }
}

/// The document as one HTML file.
pub fn html(doc: &Doc) -> String {
    let title = doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading(1, t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "graceline report".to_string());
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&title)));
    out.push_str(&format!("<style>{}</style>\n</head>\n<body>\n", style()));
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(text)));
            }
            Block::Para(text) => out.push_str(&format!("<p>{}</p>\n", inline(text))),
            Block::Verdict(v) => out.push_str(&format!(
                "<p><span class=\"badge verdict {}\">{}</span></p>\n",
                badge_class(v).unwrap_or("warn"),
                escape(v)
            )),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<div class=\"wrap\"><table>\n<thead><tr>");
                for h in head {
                    out.push_str(&format!("<th>{}</th>", inline(h)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        out.push_str(&td(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table></div>\n");
            }
            Block::Chart { file, alt } => {
                let svg = doc
                    .charts
                    .iter()
                    .find(|(n, _)| n == file)
                    .map_or("", |(_, s)| s.as_str());
                // The SVG's own XML declaration has no place inside HTML.
                let svg = svg.trim_start_matches(|c: char| c != '<');
                let svg = if svg.starts_with("<?xml") {
                    svg.split_once("?>").map_or(svg, |(_, rest)| rest)
                } else {
                    svg
                };
                out.push_str(&format!(
                    "<figure role=\"img\" aria-label=\"{}\">\n{}\n<figcaption>{}</figcaption></figure>\n",
                    escape(alt),
                    svg.trim(),
                    escape(alt)
                ));
            }
            Block::References(list) => {
                out.push_str("<ol class=\"refs\">\n");
                for (i, r) in list.iter().enumerate() {
                    out.push_str(&format!("<li id=\"ref-{}\">{}</li>\n", i + 1, inline(r)));
                }
                out.push_str("</ol>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup_is_escaped_and_linked() {
        assert_eq!(
            inline("**a** `<b>` [3] & [x]"),
            "<strong>a</strong> <code>&lt;b&gt;</code> <a href=\"#ref-3\">[3]</a> &amp; [x]"
        );
        assert_eq!(td("FAIL"), "<td><span class=\"badge fail\">FAIL</span></td>");
    }

    #[test]
    fn a_document_is_one_file_with_nothing_fetched() {
        let doc = Doc {
            blocks: vec![
                Block::Heading(1, "T".to_string()),
                Block::Verdict("FAIL".to_string()),
                Block::Chart {
                    file: "c.svg".to_string(),
                    alt: "chart".to_string(),
                },
            ],
            charts: vec![(
                "c.svg".to_string(),
                "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_string(),
            )],
        };
        let h = html(&doc);
        assert!(h.contains("<svg xmlns") && !h.contains("<?xml"));
        assert!(!h.contains("<script") && !h.contains("<link") && !h.contains("@import") && !h.contains("url("));
        assert!(h.contains("@media print"));
    }
}
