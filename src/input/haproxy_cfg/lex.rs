//! Lexing: HAProxy's word splitting (`parse_line`), timers, counts, names and `.` directives.

use super::{error, to_u32, Located, ParseError, Pos};

/// HAProxy refuses timers of 2^31 ms or more (section 2.5, `parse_time_err`).
pub(super) const MAX_TIMER_MS: u64 = 0x7fff_ffff;

/// HAProxy's `MAX_LINE_ARGS`: a line with more words is rejected.
pub(super) const MAX_LINE_ARGS: usize = 64;

/// One word of a configuration line after quote and escape processing.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) text: String,
    pub(super) pos: Pos,
    pub(super) env: bool,
}

impl Token {
    pub(super) fn located(&self) -> Located<String> {
        Located {
            value: self.text.clone(),
            pos: self.pos,
        }
    }
}

/// HAProxy's `isspace` separators, minus the line terminators handled separately.
pub(super) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}')
}

/// Splits one line into words as HAProxy's `parse_line` does (sections 2.1, 2.2 and 2.3).
///
/// Environment variables are expanded inside double quotes only, as HAProxy does: `"$VAR"`,
/// `"${VAR}"` and `"${VAR-default}"`; an undefined variable expands to nothing and a word left
/// empty by expansion is dropped (HAProxy 2.6 behaviour, checked with `haproxy -c`).
pub(super) fn tokenize(
    line: &str,
    line_no: u32,
    col_offset: usize,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let pos_at = |i: usize| Pos {
        file: 0,
        line: line_no,
        column: to_u32(col_offset.saturating_add(i).saturating_add(1)),
    };
    let mut tokens = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut start: Option<usize> = None;
    let mut in_arg = false;
    let mut squote = false;
    let mut dquote = false;
    let mut quote_at = 0;
    let mut empty_quote = false;
    let mut env = false;
    let mut i = 0;

    let push_char = |buf: &mut Vec<u8>, c: char| {
        let mut tmp = [0u8; 4];
        buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    };

    while let Some(&c) = chars.get(i) {
        match c {
            '\0' | '\n' | '\r' => break,
            '#' if !squote && !dquote => break,
            '"' if !squote => {
                start.get_or_insert(i);
                if dquote {
                    in_arg |= empty_quote;
                    dquote = false;
                } else {
                    dquote = true;
                    quote_at = i;
                    empty_quote = true;
                }
                i += 1;
            }
            '\'' if !dquote => {
                start.get_or_insert(i);
                if squote {
                    in_arg |= empty_quote;
                    squote = false;
                } else {
                    squote = true;
                    quote_at = i;
                    empty_quote = true;
                }
                i += 1;
            }
            '\\' if !squote => {
                start.get_or_insert(i);
                in_arg = true;
                empty_quote = false;
                match chars.get(i + 1).copied() {
                    Some(n @ (' ' | '\\' | '#' | '\'' | '"')) => {
                        push_char(&mut buf, n);
                        i += 2;
                    }
                    Some('$') if dquote => {
                        push_char(&mut buf, '$');
                        i += 2;
                    }
                    Some('t') => {
                        buf.push(b'\t');
                        i += 2;
                    }
                    Some('n') => {
                        buf.push(b'\n');
                        i += 2;
                    }
                    Some('r') => {
                        buf.push(b'\r');
                        i += 2;
                    }
                    Some('x') => {
                        let hex = |k: usize| chars.get(k).and_then(|h| h.to_digit(16));
                        match (hex(i + 2), hex(i + 3)) {
                            (Some(hi), Some(lo)) => {
                                buf.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                                i += 4;
                            }
                            _ => {
                                return error(pos_at(i), "truncated or invalid hexadecimal sequence");
                            }
                        }
                    }
                    _ => {
                        buf.push(b'\\');
                        i += 1;
                    }
                }
            }
            c if is_blank(c) && !squote && !dquote => {
                if in_arg {
                    tokens.push(finish_token(&mut buf, pos_at(start.unwrap_or(i)), env));
                }
                in_arg = false;
                env = false;
                start = None;
                i += 1;
            }
            '$' if dquote && expansion_starts(chars.get(i + 1).copied()) => {
                start.get_or_insert(i);
                let (name, default, next) = env_reference(&chars, i).or_else(|m| error(pos_at(i), m))?;
                let value = vars(&name).or(default).unwrap_or_default();
                buf.extend_from_slice(value.as_bytes());
                env = true;
                in_arg = true;
                empty_quote = false;
                i = next;
            }
            c => {
                start.get_or_insert(i);
                push_char(&mut buf, c);
                in_arg = true;
                empty_quote = false;
                i += 1;
            }
        }
    }
    if squote || dquote {
        return error(pos_at(quote_at), "unmatched quote");
    }
    if in_arg {
        tokens.push(finish_token(&mut buf, pos_at(start.unwrap_or(i)), env));
    }
    if let Some(extra) = tokens.get(MAX_LINE_ARGS) {
        return error(
            extra.pos,
            format!("too many words on one line (HAProxy accepts at most {MAX_LINE_ARGS})"),
        );
    }
    // A word emptied by an undefined variable disappears, as in HAProxy.
    tokens.retain(|t| !(t.env && t.text.is_empty()));
    if let Some((n, t)) = tokens.iter().enumerate().find(|(_, t)| t.text.is_empty()) {
        return error(t.pos, format!("argument number {n} is empty"));
    }
    Ok(tokens)
}

/// Whether `$` followed by this character starts a variable reference (`$NAME` or `${...}`).
fn expansion_starts(next: Option<char>) -> bool {
    next.is_some_and(|c| c == '{' || c == '_' || c.is_ascii_alphabetic())
}

/// Reads `$NAME`, `${NAME}` or `${NAME-default}` starting at the `$` at `i`; returns the name, the
/// default and the index after the reference.
fn env_reference(chars: &[char], i: usize) -> Result<(String, Option<String>, usize), String> {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    if chars.get(i + 1) != Some(&'{') {
        let name: String = chars[i + 1..].iter().take_while(|c| is_name(c)).collect();
        let next = i + 1 + name.chars().count();
        return Ok((name, None, next));
    }
    let body_start = i + 2;
    let Some(close) = chars[body_start..].iter().position(|c| *c == '}') else {
        return Err("missing '}' after '${'".to_string());
    };
    let body: String = chars[body_start..body_start + close].iter().collect();
    let name: String = body.chars().take_while(is_name).collect();
    let rest = &body[name.len()..];
    if name.is_empty() {
        return Err(format!("invalid environment variable reference '${{{body}}}'"));
    }
    let default = match rest {
        "" => None,
        "[*]" => {
            return Err(format!(
                "'${{{name}[*]}}' (a variable split into several words) is not supported by graceline; expand it before checking"
            ))
        }
        r => match r.strip_prefix('-') {
            Some(d) => Some(d.to_string()),
            None => return Err(format!("invalid environment variable reference '${{{body}}}'")),
        },
    };
    Ok((name, default, body_start + close + 1))
}

fn finish_token(buf: &mut Vec<u8>, pos: Pos, env: bool) -> Token {
    let bytes = std::mem::take(buf);
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Token { text, pos, env }
}

/// Parses a timer (section 2.5): digits plus optional `us`, `ms`, `s`, `m`, `h`, `d`;
/// no unit means milliseconds. Returns microseconds rounded up to a whole millisecond.
pub(super) fn parse_timer(tok: &Token, what: &str, positive: bool) -> Result<Located<u64>, ParseError> {
    let s = tok.text.as_str();
    let hint = if tok.env {
        " (after environment variable expansion)"
    } else {
        ""
    };
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits == 0 {
        return error(
            tok.pos,
            format!(
                "invalid time '{s}' for '{what}': expected an unsigned integer with an optional unit (us, ms, s, m, h, d){hint}"
            ),
        );
    }
    let (number, unit) = s.split_at(digits);
    let unit_us: u64 = match unit {
        "" | "ms" => 1_000,
        "us" => 1,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => {
            return error(
                tok.pos,
                format!("invalid time unit '{unit}' in '{s}' for '{what}': use us, ms, s, m, h or d{hint}"),
            );
        }
    };
    let ms = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_us))
        .map(|us| us.div_ceil(1_000))
        .filter(|ms| *ms <= MAX_TIMER_MS);
    let Some(ms) = ms else {
        return error(
            tok.pos,
            format!("timer overflow in '{s}' for '{what}': the maximum is {MAX_TIMER_MS} ms (about 24.8 days)"),
        );
    };
    if positive && ms == 0 {
        return error(tok.pos, format!("'{what}' expects a positive delay, got '{s}'"));
    }
    Ok(Located {
        value: ms * 1_000,
        pos: tok.pos,
    })
}

/// Parses `fall` / `rise` counts: a positive integer that fits HAProxy's `int`.
pub(super) fn parse_count(tok: &Token, what: &str) -> Result<Located<u32>, ParseError> {
    let s = tok.text.as_str();
    let value = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u32>().ok().filter(|n| (1..=0x7fff_ffff).contains(n))
    } else {
        None
    };
    match value {
        Some(value) => Ok(Located { value, pos: tok.pos }),
        None => error(tok.pos, format!("'{what}' expects a positive integer, got '{s}'")),
    }
}

/// Returns the argument following `args[i]`, or an error pointing at the keyword.
pub(super) fn arg_of<'a>(args: &'a [Token], i: usize, what: &str) -> Result<&'a Token, ParseError> {
    match args.get(i + 1) {
        Some(t) => Ok(t),
        None => error(args[i].pos, format!("'{what}' expects an argument")),
    }
}

/// Proxy names may only contain letters, digits, '-', '_', '.' and ':' (section 4).
pub(super) fn check_name(tok: &Token, what: &str) -> Result<(), ParseError> {
    match tok
        .text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        Some(c) => error(
            tok.pos,
            format!("character '{c}' is not permitted in {what} name '{}'", tok.text),
        ),
        None => Ok(()),
    }
}

/// Message directives (section 2.4); conditional blocks are handled in [`super::cond`].
pub(super) fn directive(tokens: &[Token]) -> Result<(), ParseError> {
    let kw = &tokens[0];
    match kw.text.as_str() {
        ".notice" | ".warning" | ".diag" | ".alert" => {
            if let Some(extra) = tokens.get(2) {
                return error(
                    extra.pos,
                    format!(
                        "unexpected argument '{}' for '{}'; quote the message",
                        extra.text, kw.text
                    ),
                );
            }
            if kw.text == ".alert" {
                let msg = tokens.get(1).map_or("", |t| t.text.as_str());
                return error(kw.pos, format!("'.alert' directive: {msg}"));
            }
            Ok(())
        }
        _ => error(kw.pos, format!("unknown directive '{}'", kw.text)),
    }
}
