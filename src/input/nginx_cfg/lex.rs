//! Lexing: nginx's token rules (`ngx_conf_read_token()` in src/core/ngx_conf_file.c, 1.22.1) and
//! its time values (`ngx_parse_time()` in src/core/ngx_parse.c).

use super::{error, ParseError, Pos};

/// One word of a directive, after quote and escape processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// The word as nginx passes it to the directive's handler.
    pub(super) text: String,
    /// Where it starts (the opening quote for a quoted word).
    pub(super) pos: Pos,
}

/// How a statement ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// `;`: a simple directive.
    Semicolon,
    /// `{`: a block directive; its content follows until the matching [`End::Close`].
    Open,
    /// `}`: the end of the enclosing block (no words).
    Close,
}

/// A directive (its words) and what ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stmt {
    /// The words; empty for [`End::Close`].
    pub(super) words: Vec<Word>,
    /// The terminator.
    pub(super) end: End,
    /// Where the terminator is.
    pub(super) at: Pos,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Whether `{` at `i` opens a template expression (`{{`, `{%`, `{#`): Jinja2, Go templates, Helm.
fn template_at(chars: &[char], i: usize) -> bool {
    chars.get(i) == Some(&'{') && matches!(chars.get(i + 1), Some('{' | '%' | '#'))
}

/// Splits one file into statements as `ngx_conf_read_token()` does: words separated by blanks,
/// `"…"` and `'…'` quoting with `\"`, `\'`, `\\`, `\t`, `\r`, `\n` escapes, `#` comments at the
/// start of a word, `${…}` kept whole inside a word; `;`, `{` and `}` end a statement. A template
/// expression is refused with "render it first" rather than nginx's `unexpected "{"`.
pub(super) fn lex(text: &str, file: u32) -> Result<(Vec<Stmt>, Pos), ParseError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.first() == Some(&'\u{feff}') {
        return error(
            Pos { file, line: 1, column: 1 },
            "the file starts with a byte order mark (BOM, U+FEFF), which nginx reads as part of the first directive; save it without one",
        );
    }
    let mut out = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let (mut line, mut col) = (1u32, 0u32);
    let mut last_space = true;
    let mut need_space = false;
    let mut sharp_comment = false;
    let mut variable = false;
    let mut quoted = false;
    let mut s_quoted = false;
    let mut d_quoted = false;
    let mut start = 0usize;
    let mut start_pos = Pos {
        file,
        line: 1,
        column: 1,
    };
    let template = |p: Pos| -> Result<(Vec<Stmt>, Pos), ParseError> {
        error(
            p,
            "this is a template ('{{ }}' or '{% %}'), not an nginx configuration: render it first (ansible's template module, helm template, ...) or read the output of 'nginx -T'",
        )
    };
    for (i, &ch) in chars.iter().enumerate() {
        if ch == '\n' {
            line += 1;
            col = 0;
            sharp_comment = false;
        } else {
            col += 1;
        }
        let here = Pos {
            file,
            line,
            column: col.max(1),
        };
        if sharp_comment {
            continue;
        }
        if quoted {
            quoted = false;
            continue;
        }
        if need_space {
            if is_space(ch) {
                last_space = true;
                need_space = false;
                continue;
            }
            match ch {
                ';' | '{' => {
                    let end = if ch == ';' { End::Semicolon } else { End::Open };
                    out.push(Stmt {
                        words: std::mem::take(&mut words),
                        end,
                        at: here,
                    });
                    need_space = false;
                    last_space = true;
                    continue;
                }
                ')' => {
                    last_space = true;
                    need_space = false;
                }
                _ => return error(here, format!("unexpected \"{ch}\"")),
            }
        }
        if last_space {
            start = i;
            start_pos = here;
            if is_space(ch) {
                continue;
            }
            match ch {
                ';' | '{' => {
                    if ch == '{' && template_at(&chars, i) {
                        return template(here);
                    }
                    if words.is_empty() {
                        return error(here, format!("unexpected \"{ch}\""));
                    }
                    let end = if ch == ';' { End::Semicolon } else { End::Open };
                    out.push(Stmt {
                        words: std::mem::take(&mut words),
                        end,
                        at: here,
                    });
                }
                '}' => {
                    if !words.is_empty() {
                        return error(here, "unexpected \"}\"");
                    }
                    out.push(Stmt {
                        words: Vec::new(),
                        end: End::Close,
                        at: here,
                    });
                }
                '#' => sharp_comment = true,
                '\\' => {
                    quoted = true;
                    last_space = false;
                }
                '"' => {
                    start += 1;
                    d_quoted = true;
                    last_space = false;
                }
                '\'' => {
                    start += 1;
                    s_quoted = true;
                    last_space = false;
                }
                '$' => {
                    variable = true;
                    last_space = false;
                }
                _ => last_space = false,
            }
            continue;
        }
        if ch == '{' && variable {
            continue;
        }
        variable = false;
        if ch == '\\' {
            quoted = true;
            continue;
        }
        if ch == '$' {
            variable = true;
            continue;
        }
        let mut found = false;
        if d_quoted {
            if ch == '"' {
                d_quoted = false;
                need_space = true;
                found = true;
            }
        } else if s_quoted {
            if ch == '\'' {
                s_quoted = false;
                need_space = true;
                found = true;
            }
        } else if is_space(ch) || ch == ';' || ch == '{' {
            if ch == '{' && template_at(&chars, i) {
                return template(here);
            }
            last_space = true;
            found = true;
        }
        if found {
            words.push(Word {
                text: unescape(&chars[start..i]),
                pos: start_pos,
            });
            match ch {
                ';' => out.push(Stmt {
                    words: std::mem::take(&mut words),
                    end: End::Semicolon,
                    at: here,
                }),
                '{' => out.push(Stmt {
                    words: std::mem::take(&mut words),
                    end: End::Open,
                    at: here,
                }),
                _ => {}
            }
        }
    }
    if !words.is_empty() || !last_space {
        let at = words.first().map_or(start_pos, |w| w.pos);
        return error(at, "unexpected end of file, expecting \";\" or \"}\"");
    }
    Ok((
        out,
        Pos {
            file,
            line,
            column: col + 1,
        },
    ))
}

/// nginx's escape processing of a finished word: `\"`, `\'`, `\\` drop the backslash, `\t`, `\r`,
/// `\n` become the control character; any other backslash stays.
fn unescape(raw: &[char]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c == '\\' {
            match raw.get(i + 1) {
                Some(&n @ ('"' | '\'' | '\\')) => {
                    out.push(n);
                    i += 2;
                    continue;
                }
                Some('t') => {
                    out.push('\t');
                    i += 2;
                    continue;
                }
                Some('r') => {
                    out.push('\r');
                    i += 2;
                    continue;
                }
                Some('n') => {
                    out.push('\n');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `ngx_parse_time()`: a sum of `<n><unit>` parts in decreasing units (`1h30m`), units `y M w d
/// h m s ms` (`ms` only when `is_sec` is false), a bare number meaning seconds. Returns
/// milliseconds, or whole seconds when `is_sec`; `None` where nginx returns `NGX_ERROR`.
pub(super) fn parse_time(s: &str, is_sec: bool) -> Option<u64> {
    #[derive(PartialEq, PartialOrd, Clone, Copy)]
    enum Step {
        Start,
        Year,
        Month,
        Week,
        Day,
        Hour,
        Min,
        Sec,
        Msec,
        Last,
    }
    const MAX: u64 = i64::MAX as u64;
    let b = s.as_bytes();
    let mut step = if is_sec { Step::Start } else { Step::Month };
    let (mut value, mut total, mut valid, mut p) = (0u64, 0u64, false, 0usize);
    while p < b.len() {
        let c = b[p];
        p += 1;
        if c.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            if value > MAX {
                return None;
            }
            valid = true;
            continue;
        }
        // Each unit must come after larger ones only: nginx's `step >= st_<unit>` checks.
        let (next, scale, refused): (Step, u64, bool) = match c {
            b'y' => (Step::Year, 365 * 86_400, step > Step::Start),
            b'M' => (Step::Month, 30 * 86_400, step >= Step::Month),
            b'w' => (Step::Week, 7 * 86_400, step >= Step::Week),
            b'd' => (Step::Day, 86_400, step >= Step::Day),
            b'h' => (Step::Hour, 3_600, step >= Step::Hour),
            b'm' if b.get(p) == Some(&b's') => {
                p += 1;
                (Step::Msec, 1, is_sec || step >= Step::Msec)
            }
            b'm' => (Step::Min, 60, step >= Step::Min),
            b's' => (Step::Sec, 1, step >= Step::Sec),
            b' ' => (Step::Last, 1, step >= Step::Sec),
            _ => return None,
        };
        if refused {
            return None;
        }
        step = next;
        let scale = if step != Step::Msec && !is_sec {
            scale * 1000
        } else {
            scale
        };
        let part = value.checked_mul(scale).filter(|v| *v <= MAX)?;
        total = total.checked_add(part).filter(|v| *v <= MAX)?;
        value = 0;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
    }
    if !valid {
        return None;
    }
    if !is_sec {
        value = value.checked_mul(1000)?;
    }
    total.checked_add(value).filter(|v| *v <= MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        lex(text, 0)
            .unwrap()
            .0
            .into_iter()
            .map(|s| s.words.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn tokens_follow_ngx_conf_read_token() {
        assert_eq!(
            words("a b;c{ d \"e f\" 'g\\'h';}\n"),
            vec![vec!["a", "b"], vec!["c"], vec!["d", "e f", "g'h"], vec![]]
        );
        // `#` starts a comment only at the start of a word; `}` inside a word is part of it.
        assert_eq!(words("a b#c; # x;\n"), vec![vec!["a", "b#c"]]);
        assert_eq!(words("a ${x}y;"), vec![vec!["a", "${x}y"]]);
        assert_eq!(words("a \\t\\q;"), vec![vec!["a", "\t\\q"]]);
        let (s, eof) = lex("  server  10.0.0.1:6443;\n", 0).unwrap();
        assert_eq!((eof.line, eof.column), (2, 1));
        assert_eq!((s[0].words[1].pos.line, s[0].words[1].pos.column), (1, 11));
        assert_eq!((s[0].at.line, s[0].at.column), (1, 24));
    }

    #[test]
    fn errors_are_nginx_s() {
        let e = |t: &str| lex(t, 0).unwrap_err();
        assert_eq!(e("a \"b\"c;").message, "unexpected \"c\"");
        assert_eq!(e(";").message, "unexpected \";\"");
        assert_eq!(e("a }").message, "unexpected \"}\"");
        let eof = e("events {}\nworker_processes 2");
        assert_eq!((eof.line, eof.column), (2, 1));
        assert!(eof.message.contains("unexpected end of file"));
        let t = e("upstream u {\n  server {{ ip }}:6443;\n}\n");
        assert_eq!((t.line, t.column), (2, 10));
        assert!(t.message.contains("render it first"), "{}", t.message);
        let t = e("  {% for h in hosts %}\n");
        assert_eq!((t.line, t.column), (1, 3));
        let t = e("listen 127.0.0.1:{{ port }};");
        assert!(t.message.contains("render it first"));
        // Quoted braces are text.
        assert_eq!(words("return 200 '{{x}}';"), vec![vec!["return", "200", "{{x}}"]]);
        assert!(e("\u{feff}events {}").message.contains("byte order mark"));
    }

    #[test]
    fn times_follow_ngx_parse_time() {
        assert_eq!(parse_time("1s", false), Some(1_000));
        assert_eq!(parse_time("10m", false), Some(600_000));
        assert_eq!(parse_time("500ms", false), Some(500));
        assert_eq!(parse_time("1m30s", false), Some(90_000));
        assert_eq!(parse_time("1h 30m", false), Some(5_400_000));
        assert_eq!(parse_time("60", false), Some(60_000));
        assert_eq!(parse_time("0", false), Some(0));
        assert_eq!(parse_time("10s", true), Some(10));
        assert_eq!(parse_time("1m", true), Some(60));
        assert_eq!(parse_time("1y", true), Some(365 * 86_400));
        for bad in ["", "s", "1x", "1s1m", "1ss", "-1s", "1.5s", "99999999999999999999s"] {
            assert_eq!(parse_time(bad, false), None, "{bad}");
        }
        // Milliseconds are refused where nginx wants seconds (fail_timeout=500ms).
        assert_eq!(parse_time("500ms", true), None);
        // Years and months are only for second values.
        assert_eq!(parse_time("1y", false), None);
        assert_eq!(parse_time("1M", false), None);
    }
}
