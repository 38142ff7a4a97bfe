//! Check semantics: `option httpchk` and the other check options, `http-check` rulesets.

use super::keywords;
use super::lex::{arg_of, Token};
use super::server::ServerSettings;
use super::{error, HttpCheck, Located, ParseError, Pos};

/// The prefix of a keyword line: `no option ...`, `default option ...`, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Modifier {
    None,
    No,
    Default,
}

/// Options that select a health-check protocol other than HTTP (section 4.2).
pub(super) const OTHER_CHECK_OPTIONS: &[&str] = &[
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
];

/// The request part of an `option httpchk` or `http-check send` rule.
#[derive(Debug, Clone)]
pub(super) struct SendRequest {
    meth: Option<Located<String>>,
    uri: Option<Located<String>>,
    from_option: bool,
    pos: Pos,
}

impl SendRequest {
    fn overwrite_with(&mut self, new: SendRequest) {
        if new.meth.is_some() {
            self.meth = new.meth;
        }
        if new.uri.is_some() {
            self.uri = new.uri;
        }
    }
}

/// An `http-check` rule; comments and actions are dropped as HAProxy skips them here.
#[derive(Debug, Clone)]
pub(super) enum Rule {
    /// `http-check connect`; true when it has the `ssl` option.
    Connect(Pos, bool),
    Send(SendRequest),
    /// `http-check expect`: its position and its match, as `[!] <match> <pattern>`.
    Expect(Pos, Located<String>),
}

impl Rule {
    fn pos(&self) -> Pos {
        match self {
            Rule::Connect(p, _) | Rule::Expect(p, _) => *p,
            Rule::Send(s) => s.pos,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum CheckMode {
    #[default]
    Connect,
    Http,
    Other,
}

/// Health-check state of a `defaults`, `backend` or `listen` section.
///
/// This mirrors HAProxy's tcpcheck rulesets: a proxy uses the ruleset inherited
/// from its defaults until it declares any `http-check` rule or `option httpchk`
/// of its own, from which point only its own rules count (an inherited
/// `option httpchk` line is then lost, as HAProxy 2.2+ does).
#[derive(Debug, Clone, Default)]
pub(super) struct ProxyChecks {
    mode: CheckMode,
    own_active: bool,
    inherited_rules: Vec<Rule>,
    own_rules: Vec<Rule>,
    pub(super) timeout_check: Option<Located<u64>>,
    pub(super) timeout_connect: Option<Located<u64>>,
    pub(super) default_server: ServerSettings,
    /// The non-HTTP check option in force (`option tcp-check`, `option external-check`, ...).
    pub(super) other: Option<Located<String>>,
    /// `tcp-check` rules, as far as they show what the check sees.
    pub(super) tcp: TcpRules,
    /// `retries` (connection attempts after the first; HAProxy reads it with `atol`).
    pub(super) retries: Option<Located<u32>>,
    /// `option redispatch` (true), `no option redispatch` / `option redispatch 0` (false).
    pub(super) redispatch: Option<Located<bool>>,
}

/// What a `tcp-check` ruleset (section 4.2, "tcp-check") sends and expects: a ruleset that sends
/// an HTTP request line and expects an answer checks that URI as an HTTP check does.
#[derive(Debug, Clone, Default)]
pub(super) struct TcpRules {
    /// Whether the section declared its own rules (inherited ones are then dropped).
    own: bool,
    /// The data of the first `tcp-check send` / `send-lf`.
    send: Option<Located<String>>,
    /// Whether an `expect` rule follows the send.
    expect: bool,
    /// `tcp-check connect ssl`.
    pub(super) ssl: bool,
    /// `tcp-check connect port N`.
    pub(super) port: Option<Located<u16>>,
}

/// `tcp-check` directives: `connect [port N] [ssl]`, `send`/`send-lf`, `expect`; others kept silent.
pub(super) fn tcp_check_keyword(args: &[Token], checks: &mut ProxyChecks) -> Result<(), ParseError> {
    let kw = &args[0];
    let Some(sub) = args.get(1) else {
        return error(
            kw.pos,
            "'tcp-check' expects a directive such as 'connect', 'send' or 'expect'",
        );
    };
    if !checks.tcp.own {
        checks.tcp = TcpRules {
            own: true,
            ..TcpRules::default()
        };
    }
    match sub.text.as_str() {
        "connect" => {
            let mut i = 2;
            while let Some(t) = args.get(i) {
                match t.text.as_str() {
                    "ssl" => checks.tcp.ssl = true,
                    "port" => {
                        let v = arg_of(args, i, "port")?;
                        let port = v.text.parse::<u16>().ok().filter(|p| *p > 0);
                        let Some(port) = port else {
                            return error(
                                v.pos,
                                format!("'tcp-check connect port' expects a port, got '{}'", v.text),
                            );
                        };
                        checks.tcp.port = Some(Located {
                            value: port,
                            pos: v.pos,
                        });
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        "send" | "send-lf" => {
            let data = arg_of(args, 1, &format!("tcp-check {}", sub.text))?;
            if checks.tcp.send.is_none() {
                checks.tcp.send = Some(data.located());
            }
        }
        "send-binary" | "send-binary-lf" => {}
        "expect" => checks.tcp.expect |= checks.tcp.send.is_some(),
        "comment" => {}
        s if s.starts_with("set-var") || s.starts_with("unset-var") => {}
        other => {
            let known = [
                "comment",
                "connect",
                "expect",
                "send",
                "send-binary",
                "send-binary-lf",
                "send-lf",
                "set-var",
                "unset-var",
            ];
            return keywords::unknown(sub.pos, other, "after 'tcp-check'", known);
        }
    }
    Ok(())
}

impl ProxyChecks {
    fn active_rules(&self) -> &[Rule] {
        if self.own_active {
            &self.own_rules
        } else {
            &self.inherited_rules
        }
    }

    /// Settings a proxy starts from when it uses this section as its defaults (section 4).
    pub(super) fn child(&self) -> ProxyChecks {
        ProxyChecks {
            mode: self.mode,
            own_active: false,
            inherited_rules: if self.mode == CheckMode::Http {
                self.active_rules().to_vec()
            } else {
                Vec::new()
            },
            own_rules: Vec::new(),
            timeout_check: self.timeout_check.clone(),
            timeout_connect: self.timeout_connect.clone(),
            default_server: self.default_server.clone(),
            other: self.other.clone(),
            tcp: TcpRules {
                own: false,
                ..self.tcp.clone()
            },
            retries: self.retries.clone(),
            redispatch: self.redispatch.clone(),
        }
    }

    /// The HTTP request a `tcp-check` ruleset sends and expects an answer to (`tcp-check send
    /// "GET /readyz HTTP/1.1\r\n..."` + `tcp-check expect ...`), as an HTTP check.
    pub(super) fn tcp_http_check(&self) -> Option<HttpCheck> {
        if self.mode != CheckMode::Other || self.other.as_ref().is_none_or(|o| o.value != "tcp-check") {
            return None;
        }
        let send = self.tcp.send.as_ref().filter(|_| self.tcp.expect)?;
        let line = send.value.lines().next()?;
        let mut words = line.split(' ');
        let (method, uri) = (words.next()?, words.next()?);
        let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
        let is_uri = uri.starts_with('/') || uri == "*";
        (is_method && is_uri && words.next().is_some_and(|v| v.starts_with("HTTP/"))).then(|| HttpCheck {
            method: method.to_string(),
            path: uri.to_string(),
            pos: send.pos,
            // A `tcp-check expect` matches the raw response, not a status: taken as HAProxy's
            // HTTP default (2xx or 3xx), which is what such rulesets check for.
            expects: Vec::new(),
        })
    }

    /// `option httpchk`: its implicit send rule replaces a previous implicit one,
    /// or is merged into the first explicit `http-check send` rule.
    fn option_httpchk(&mut self, req: SendRequest) {
        let rules = &mut self.own_rules;
        let idx = usize::from(matches!(rules.first(), Some(Rule::Connect(..))));
        match rules.get_mut(idx) {
            Some(Rule::Send(existing)) if !existing.from_option => existing.overwrite_with(req),
            Some(Rule::Send(_)) => {
                rules.remove(idx);
                rules.insert(0, Rule::Send(req));
            }
            _ => rules.insert(0, Rule::Send(req)),
        }
        self.mode = CheckMode::Http;
        self.own_active = true;
    }

    /// An explicit `http-check connect|send|expect` rule (section 4.2, "http-check").
    fn http_check_rule(&mut self, rule: Rule) -> Result<(), String> {
        if self.mode != CheckMode::Http {
            // HAProxy keeps such rules unused until `option httpchk` enables them.
            self.own_rules.push(rule);
            return Ok(());
        }
        self.own_active = true;
        let rules = &mut self.own_rules;
        match rules.last() {
            None => {}
            Some(Rule::Send(last)) if last.from_option => {}
            Some(last) => {
                let missing = match (&rule, last) {
                    (Rule::Send(_), Rule::Expect(..) | Rule::Send(_)) => Some(("send", "connect")),
                    (Rule::Expect(..), Rule::Connect(..)) => Some(("expect", "send")),
                    (Rule::Connect(..), Rule::Connect(..) | Rule::Send(_)) => Some(("connect", "expect")),
                    _ => None,
                };
                if let Some((what, need)) = missing {
                    return Err(format!(
                        "unable to add http-check {what} rule (missing {need} rule before it)"
                    ));
                }
            }
        }
        // The first explicit send absorbs a leading implicit one from `option httpchk`.
        match (rule, rules.first()) {
            (Rule::Send(new), Some(Rule::Send(first))) if first.from_option => {
                let mut merged = first.clone();
                merged.overwrite_with(new);
                merged.from_option = false;
                rules.remove(0);
                rules.push(Rule::Send(merged));
            }
            (rule, _) => rules.push(rule),
        }
        Ok(())
    }

    /// Whether the active HTTP ruleset connects with `http-check connect ssl`.
    pub(super) fn connect_ssl(&self) -> bool {
        self.mode == CheckMode::Http && self.active_rules().iter().any(|r| matches!(r, Rule::Connect(_, true)))
    }

    pub(super) fn http_check(&self, fallback: Pos) -> Option<HttpCheck> {
        if self.mode != CheckMode::Http {
            return None;
        }
        let rules = self.active_rules();
        let send = rules.iter().find_map(|r| match r {
            Rule::Send(s) => Some(s),
            _ => None,
        });
        let expects: Vec<Located<String>> = rules
            .iter()
            .filter_map(|r| match r {
                Rule::Expect(_, m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        Some(match send {
            Some(s) => HttpCheck {
                method: s
                    .meth
                    .as_ref()
                    .map_or_else(|| "OPTIONS".to_string(), |m| m.value.clone()),
                path: s.uri.as_ref().map_or_else(|| "/".to_string(), |u| u.value.clone()),
                pos: s.uri.as_ref().map_or(s.pos, |u| u.pos),
                expects,
            },
            None => HttpCheck {
                method: String::new(),
                path: String::new(),
                pos: rules.first().map_or(fallback, Rule::pos),
                expects,
            },
        })
    }
}

/// C's `atol` as HAProxy applies it to `retries` and the redispatch interval: optional blanks and
/// sign, then leading digits; anything else ends the number (`abc` is 0, `2x` is 2).
pub(super) fn atol(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).take(18).collect();
    let v = digits.parse::<i64>().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// `option httpchk` and the other check-selecting options (section 4.2).
pub(super) fn option_keyword(args: &[Token], modifier: Modifier, checks: &mut ProxyChecks) -> Result<(), ParseError> {
    let Some(name) = args.get(1) else {
        return Ok(());
    };
    let is_httpchk = name.text == "httpchk";
    if !keywords::OPTIONS.contains(&name.text.as_str()) {
        return keywords::unknown(
            name.pos,
            &name.text,
            "after 'option'",
            keywords::OPTIONS.iter().copied(),
        );
    }
    if name.text == "redispatch" {
        // `option redispatch [<interval>]`: 0 disables it; `no`/`default` turn it off (the default).
        let interval = args.get(2).map_or(-1, |t| atol(&t.text));
        checks.redispatch = Some(Located {
            value: modifier == Modifier::None && interval != 0,
            pos: name.pos,
        });
        return Ok(());
    }
    if !is_httpchk && !OTHER_CHECK_OPTIONS.contains(&name.text.as_str()) {
        return Ok(());
    }
    if modifier != Modifier::None {
        // HAProxy rejects `no option httpchk`: switch protocols with another option instead.
        return error(
            name.pos,
            format!("negation/default is not supported for option '{}'", name.text),
        );
    }
    if !is_httpchk {
        checks.mode = CheckMode::Other;
        checks.other = Some(name.located());
        return Ok(());
    }
    checks.other = None;
    // option httpchk [[<method>] <uri> [<version> [<host>]]]
    if let Some(extra) = args.get(6) {
        return error(
            extra.pos,
            format!(
                "'option httpchk' takes at most 4 arguments, unexpected '{}'",
                extra.text
            ),
        );
    }
    let (meth, uri) = match (args.get(2), args.get(3)) {
        (Some(uri), None) => (None, Some(uri.located())),
        (Some(meth), Some(uri)) => (Some(meth.located()), Some(uri.located())),
        _ => (None, None),
    };
    checks.option_httpchk(SendRequest {
        meth,
        uri,
        from_option: true,
        pos: args[0].pos,
    });
    Ok(())
}

/// `http-check` directives (section 4.2): `send` sets the request, `connect` and
/// `expect` shape the ruleset, flags and comments are ignored.
pub(super) fn http_check_keyword(args: &[Token], checks: &mut ProxyChecks) -> Result<(), ParseError> {
    let kw = &args[0];
    let Some(sub) = args.get(1) else {
        return error(kw.pos, "'http-check' expects a directive such as 'send' or 'expect'");
    };
    let rule = match sub.text.as_str() {
        "disable-on-404" | "send-state" | "comment" => return Ok(()),
        s if s.starts_with("set-var") || s.starts_with("unset-var") => return Ok(()),
        "connect" => Rule::Connect(kw.pos, args[2..].iter().any(|a| a.text == "ssl")),
        "expect" => Rule::Expect(kw.pos, expect_rule(args)?),
        "send" => {
            let mut req = SendRequest {
                meth: None,
                uri: None,
                from_option: false,
                pos: kw.pos,
            };
            let mut i = 2;
            while let Some(tok) = args.get(i) {
                let name = tok.text.as_str();
                match name {
                    "meth" | "uri" | "uri-lf" | "ver" | "body" | "body-lf" | "comment" => {
                        let value = arg_of(args, i, name)?.located();
                        match name {
                            "meth" => req.meth = Some(value),
                            "uri" | "uri-lf" => req.uri = Some(value),
                            _ => {}
                        }
                        i += 2;
                    }
                    "hdr" => {
                        if args.get(i + 2).is_none() {
                            return error(tok.pos, "'hdr' expects a name and a value");
                        }
                        i += 3;
                    }
                    _ => {
                        return error(
                            tok.pos,
                            format!(
                                "'http-check send' expects meth, uri, uri-lf, ver, hdr, body, body-lf or comment, got '{name}'"
                            ),
                        );
                    }
                }
            }
            Rule::Send(req)
        }
        other => {
            return error(sub.pos, format!("unknown 'http-check' directive '{other}'"));
        }
    };
    checks.http_check_rule(rule).or_else(|msg| error(sub.pos, msg))
}

/// `http-check expect [min-recv <n>] [comment <msg>] [ok-status <st>] [error-status <st>]
/// [tout-status <st>] [on-success <fmt>] [on-error <fmt>] [status-code <expr>] [!] <match> <pattern>`
/// (configuration manual 2.6): the options are skipped, the match is validated as HAProxy does
/// (a bad status list, a reversed range or a regex that does not compile is refused) and kept
/// as `[!] <match> <pattern>`.
fn expect_rule(args: &[Token]) -> Result<Located<String>, ParseError> {
    const WITH_VALUE: &[&str] = &[
        "min-recv",
        "comment",
        "ok-status",
        "error-status",
        "tout-status",
        "on-success",
        "on-error",
        "status-code",
    ];
    let mut i = 2;
    while let Some(tok) = args.get(i) {
        if WITH_VALUE.contains(&tok.text.as_str()) {
            arg_of(args, i, &tok.text)?;
            i += 2;
        } else {
            break;
        }
    }
    let Some(first) = args.get(i) else {
        return error(args[1].pos, "'http-check expect' needs a match such as 'status 200'");
    };
    let mut words: Vec<&str> = args[i..].iter().map(|t| t.text.as_str()).collect();
    let need = if words[0] == "!" { 3 } else { 2 };
    if let Some(extra) = args.get(i + need) {
        return error(
            extra.pos,
            format!("'http-check expect' takes one pattern, unexpected '{}'", extra.text),
        );
    }
    words.truncate(need);
    let text = words.join(" ");
    crate::provider::matcher::Matcher::parse_haproxy(&text).map_err(|m| ParseError {
        file: first.pos.file,
        line: first.pos.line,
        column: first.pos.column,
        message: format!("'http-check expect': {m}"),
    })?;
    Ok(Located {
        value: text,
        pos: first.pos,
    })
}
