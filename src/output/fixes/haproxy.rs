//! Writing a check fix in an haproxy.cfg: `server`/`default-server` keywords, `option httpchk`,
//! `http-check send`/`expect` (HAProxy configuration manual, section 5.2 and 4.2).

use super::*;

/// The whitespace-delimited token starting at character column `col` of `line`.
pub(super) fn token_at(line: &str, col: usize) -> Option<&str> {
    let start = line.char_indices().nth(col.checked_sub(1)?)?.0;
    line[start..].split_whitespace().next()
}

/// An HAProxy time: whole seconds as `5s`, else milliseconds.
pub(super) fn haproxy_time(v: Micros) -> Option<String> {
    if v.0 % 1_000_000 == 0 {
        Some(format!("{}s", v.0 / 1_000_000))
    } else if v.0 % 1_000 == 0 {
        Some(format!("{}ms", v.0 / 1_000))
    } else {
        None
    }
}

/// Keywords that open an HAProxy section (manual section 3 onwards).
pub(super) const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "resolvers",
    "peers",
    "userlist",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "crt-store",
    "traces",
];

pub(super) fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

/// The 1-based line of the `backend`/`listen` header of `section` above 1-based `line`.
pub(super) fn section_header(lines: &[String], line: usize, section: &str) -> Option<usize> {
    let i = (0..line.saturating_sub(1))
        .rev()
        .find(|&i| SECTIONS.contains(&first_word(&lines[i])))?;
    let mut words = lines[i].split_whitespace();
    let kind = words.next()?;
    (matches!(kind, "backend" | "listen") && words.next() == Some(section)).then_some(i + 1)
}

/// Whether the section from 1-based `header` already chooses its check type (another `option`
/// check, `http-check` or `tcp-check` rules), which an added `option httpchk` would fight.
pub(super) fn chooses_check(lines: &[String], header: usize) -> bool {
    lines
        .iter()
        .skip(header)
        .take_while(|l| !SECTIONS.contains(&first_word(l)))
        .any(|l| {
            let mut w = l.split_whitespace();
            match (w.next(), w.next()) {
                (Some("http-check" | "tcp-check"), _) => true,
                (Some("option"), Some(o)) => {
                    o == "httpchk" || o == "tcp-check" || o.ends_with("-chk") || o.ends_with("-check") || o == "smtpchk"
                }
                _ => false,
            }
        })
}

/// A change of an HAProxy load balancer in its configuration's syntax.
pub(super) fn haproxy_ops(lb: &LbSpec, lines: &[String], c: &Change, all: &[&Change]) -> Option<Vec<Op>> {
    let s = &lb.settings;
    let file = lb.loc.file.as_str();
    let server = lb.loc.line as usize;
    let server_words: Vec<&str> = lines
        .get(server.checked_sub(1)?)?
        .split('#')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tcp = crate::provider::protocol_of(s) == Protocol::Tcp;
    match c {
        Change::Protocol(p) => {
            let mut ops = Vec::new();
            if tcp {
                let path = all.iter().find_map(|c| match c {
                    Change::Path(p) => Some(p.clone()),
                    _ => None,
                })?;
                let (section, _) = lb.name.rsplit_once('/')?;
                let header = section_header(lines, server, section)?;
                if chooses_check(lines, header) {
                    return None;
                }
                let indent = lines
                    .get(header)
                    .map(|l| indent_of(l))
                    .filter(|i| !i.is_empty())
                    .unwrap_or("    ");
                ops.push(op(
                    file,
                    header,
                    OpKind::Insert {
                        text: format!("{indent}option httpchk GET {path}"),
                    },
                ));
            }
            if *p == Protocol::Https && !server_words.iter().any(|w| *w == "ssl" || *w == "check-ssl") {
                // A check over TLS verifies the certificate unless told not to; HAProxy refuses a
                // server that verifies without a CA file.
                let text = if server_words.contains(&"verify") {
                    " check-ssl"
                } else {
                    " check-ssl verify none"
                };
                ops.push(op(
                    file,
                    server,
                    OpKind::Append {
                        text: text.to_string(),
                        quoted: false,
                    },
                ));
            }
            Some(ops)
        }
        // Written with the `option httpchk` a TCP check gets.
        Change::Path(_) if tcp => Some(Vec::new()),
        Change::Path(p) => {
            // Read from another file of the configuration (`-f A -f B`): not rewritten here.
            let (loc, _) = loc_of(s, "path").filter(|(l, _)| l.file == lb.loc.file)?;
            let line = lines.get((loc.line as usize).checked_sub(1)?)?;
            let words: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
            let append = |text: String| {
                Some(vec![op(
                    &loc.file,
                    loc.line as usize,
                    OpKind::Append { text, quoted: false },
                )])
            };
            match words.as_slice() {
                ["option", "httpchk"] => append(format!(" GET {p}")),
                ["http-check", "send", rest @ ..] if !rest.contains(&"uri") => append(format!(" uri {p}")),
                _ => {
                    let tok = token_at(line, loc.column as usize)?;
                    (tok != "option" && tok != "http-check").then(|| {
                        vec![op(
                            &loc.file,
                            loc.line as usize,
                            OpKind::Token {
                                col: loc.column as usize,
                                text: p.clone(),
                            },
                        )]
                    })
                }
            }
        }
        Change::Matcher => {
            let (loc, _) = loc_of(s, "matcher").filter(|(l, _)| l.file == lb.loc.file)?;
            let line = lines.get((loc.line as usize).checked_sub(1)?)?;
            (first_word(line) == "http-check").then(|| {
                vec![op(
                    &loc.file,
                    loc.line as usize,
                    OpKind::Tail {
                        col: loc.column as usize,
                        text: format!("status {CODES}"),
                    },
                )]
            })
        }
        Change::Interval(key, v) => haproxy_value(lb, key, haproxy_time(*v)?),
        Change::Threshold(key, n) => haproxy_value(lb, key, n.to_string()),
        Change::Timeout(_) | Change::NoReset(_) => None,
    }
}

/// An HAProxy server keyword's value: the token replaced where the input wrote it (the server or
/// its `default-server` line), else the keyword added to the server line.
pub(super) fn haproxy_value(lb: &LbSpec, key: &str, value: String) -> Option<Vec<Op>> {
    Some(vec![match loc_of(&lb.settings, key) {
        Some((loc, false)) => op(
            &loc.file,
            loc.line as usize,
            OpKind::Token {
                col: loc.column as usize,
                text: value,
            },
        ),
        _ => op(
            &lb.loc.file,
            lb.loc.line as usize,
            OpKind::Append {
                text: format!(" {key} {value}"),
                quoted: false,
            },
        ),
    }])
}
