//! Writing a check fix in a scenario file's `[[lb]]` table: the value replaced in place (its
//! comment kept), else `key = value` added after the table's `profile =` line.

use super::*;

/// A change of a scenario file's load balancer as a key of its `[[lb]]` table, typed as the
/// scenario reader takes it (`scenario::resolve_lb`: durations as strings like `"5s"`, counts as
/// integers, `protocol` lowercase, `matcher` in ELBv2's code syntax, `provider::matcher`): the
/// value replaced where the table writes the key (its indentation and comment kept), else
/// `key = value` added after the table's `profile =` line.
pub(super) fn toml_ops(lb: &LbSpec, lines: &[String], c: &Change) -> Option<Vec<Op>> {
    let duration = |v: &Micros| (Micros::parse(&v.to_string()).ok() == Some(*v)).then(|| toml_string(&v.to_string()));
    let (key, value) = match c {
        Change::Protocol(p) => (
            "protocol",
            toml_string(match p {
                Protocol::Tcp => "tcp",
                Protocol::Http => "http",
                Protocol::Https => "https",
            }),
        ),
        Change::Path(p) => ("path", toml_string(p)),
        Change::Matcher => ("matcher", toml_string(CODES)),
        Change::Interval(key, v) => (*key, duration(v)?),
        Change::Timeout(v) => ("timeout", duration(v)?),
        Change::Threshold(key, n) => (*key, n.to_string()),
        // The model's setting (the draining interval is no `[[lb]]` key: the drain is the server's).
        Change::NoReset(_) => ("connection_termination", "false".to_string()),
    };
    let file = lb.loc.file.as_str();
    let header = (lb.loc.line as usize).checked_sub(1)?;
    if !lines.get(header)?.trim_start().starts_with("[[lb]]") {
        return None;
    }
    // The table runs until the next table header (a `[lb.latency]` sub-table too).
    let end = (header + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let writes = |i: usize, k: &str| {
        lines[i]
            .trim_start()
            .strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    if let Some(i) = (header + 1..end).find(|&i| writes(i, key)) {
        let line = &lines[i];
        let eq = line.find('=')? + 1;
        let start = eq + (line[eq..].len() - line[eq..].trim_start().len());
        toml_value_len(&line[start..])?;
        return Some(vec![op(
            file,
            i + 1,
            OpKind::Value {
                col: line[..start].chars().count() + 1,
                text: value,
            },
        )]);
    }
    let at = (header + 1..end).find(|&i| writes(i, "profile"))?;
    Some(vec![op(
        file,
        at + 1,
        OpKind::Insert {
            text: format!("{}{key} = {value}", indent_of(&lines[at])),
        },
    )])
}

/// `text` as a TOML basic string, quoted and escaped.
pub(super) fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The length in bytes of the TOML value `s` starts with: a one-line basic or literal string, or
/// a bare number, boolean or date; `None` for a multi-line string, an array or an inline table.
pub(super) fn toml_value_len(s: &str) -> Option<usize> {
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        return None;
    }
    match s.chars().next()? {
        '"' => {
            let mut escaped = false;
            for (i, c) in s.char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => return Some(i + 1),
                    _ => {}
                }
            }
            None
        }
        '\'' => s[1..].find('\'').map(|i| i + 2),
        '[' | '{' => None,
        _ => {
            let n = s
                .find(|c: char| c.is_whitespace() || matches!(c, '#' | ',' | ']' | '}'))
                .unwrap_or(s.len());
            (n > 0).then_some(n)
        }
    }
}
