//! Parser for HAProxy configuration files (`haproxy.cfg`, HAProxy 2.2–3.x syntax).
//!
//! It extracts the effective health-check settings of every `server` line, after
//! inheritance from `defaults` sections and `default-server` lines, together with
//! the 1-based source position of every value.
//!
//! Section numbers in comments refer to the HAProxy 2.8 configuration manual,
//! <https://docs.haproxy.org/2.8/configuration.html>.
//!
//! Written for graceline by a teammate as a standalone std-only crate (`haproxy_cfg`) and copied
//! in with its tests. Adapted here: `ServerCheck` also reports where `check` was enabled and
//! whether the check runs over TLS (`check-ssl`, `ssl` without a check `port`/`addr`,
//! `http-check connect ssl`), which graceline needs to tell HTTP from HTTPS checks.

use std::collections::{HashMap, HashSet};
use std::fmt;

/// A 1-based source position; `column` counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
}

/// A value together with the position of the token it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where its token starts.
    pub pos: Pos,
}

/// A configuration error at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The health-check relevant content of an HAProxy configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaproxyConfig {
    /// Global `spread-checks` percentage (0..50).
    pub spread_checks: Option<Located<u32>>,
    /// Every `server` of every `backend` and `listen` section, in file order.
    pub servers: Vec<ServerCheck>,
}

/// Effective health-check settings of one `server` (or `server-template`) line.
///
/// Times are in microseconds, rounded up to whole milliseconds as HAProxy does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCheck {
    /// Name of the `backend` or `listen` section.
    pub section: String,
    /// Server name (the name prefix for `server-template`).
    pub server: String,
    /// Address as written, e.g. `10.0.0.1:6443`.
    pub address: String,
    /// Position of the `server` keyword.
    pub pos: Pos,
    /// Whether health checks are enabled (`check`, possibly from `default-server`).
    pub check: bool,
    /// Position of the `check` keyword that enabled the checks (possibly on `default-server`).
    pub check_pos: Option<Pos>,
    /// Whether the check connects over TLS: `check-ssl`, or `ssl` on the server without a check
    /// `port`/`addr` (`init_srv_check()` in src/check.c), or `http-check connect ssl`.
    pub check_ssl: bool,
    /// `inter` delay in microseconds.
    pub inter: Option<Located<u64>>,
    /// `fastinter` delay in microseconds.
    pub fastinter: Option<Located<u64>>,
    /// `downinter` delay in microseconds.
    pub downinter: Option<Located<u64>>,
    /// `fall` count.
    pub fall: Option<Located<u32>>,
    /// `rise` count.
    pub rise: Option<Located<u32>>,
    /// Section-level `timeout check` in microseconds.
    pub timeout_check: Option<Located<u64>>,
    /// Section-level `timeout connect` in microseconds.
    pub timeout_connect: Option<Located<u64>>,
    /// The HTTP check request; `None` for a TCP-connect or other non-HTTP check.
    pub http_check: Option<HttpCheck>,
}

/// The request of an HTTP health check (`option httpchk`, `http-check send`).
///
/// `method` and `path` are empty when the effective ruleset sends no request (the check then times out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// HTTP method, `OPTIONS` unless configured.
    pub method: String,
    /// Request URI, `/` unless configured.
    pub path: String,
    /// Position of the URI token, or of the directive when the URI is defaulted.
    pub pos: Pos,
}

/// Parses the text of an `haproxy.cfg` file.
pub fn parse(text: &str) -> Result<HaproxyConfig, ParseError> {
    let mut parser = Parser::default();
    for (idx, raw) in text.split('\n').enumerate() {
        parser.line(raw, to_u32(idx.saturating_add(1)))?;
    }
    parser.finish()
}

/// HAProxy refuses timers of 2^31 ms or more (section 2.5, `parse_time_err`).
const MAX_TIMER_MS: u64 = 0x7fff_ffff;

/// HAProxy's `MAX_LINE_ARGS`: a line with more words is rejected.
const MAX_LINE_ARGS: usize = 64;

/// Section keywords accepted but ignored (section 3 and later chapters).
const IGNORED_SECTIONS: &[&str] = &[
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "log-forward",
    "log-profile",
    "crt-store",
    "traces",
    "acme",
    "fcgi-app",
    "namespace_list",
    "healthcheck",
];

/// Options that select a health-check protocol other than HTTP (section 4.2).
const OTHER_CHECK_OPTIONS: &[&str] = &[
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

/// Keywords that accept the `no` / `default` prefixes (HAProxy's `readcfgfile`).
const NEGATABLE: &[&str] = &[
    "option",
    "log",
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "numa-cpu-mapping",
];

/// Server and default-server keywords taking exactly one argument (section 5.2).
/// Every other keyword is treated as a flag.
const SERVER_KW_ONE_ARG: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-inter",
    "agent-port",
    "agent-send",
    "alpn",
    "ca-file",
    "cc",
    "check-alpn",
    "check-pool-conn-name",
    "check-proto",
    "check-sni",
    "ciphers",
    "ciphersuites",
    "client-sigalgs",
    "cookie",
    "crl-file",
    "crt",
    "curves",
    "error-limit",
    "guid",
    "hash-key",
    "healthcheck",
    "id",
    "idle-ping",
    "init-addr",
    "init-state",
    "interface",
    "ktls",
    "log-bufsize",
    "log-proto",
    "max-reuse",
    "maxconn",
    "maxqueue",
    "minconn",
    "namespace",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-conn-name",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "quic-cc-algo",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "set-proxy-v2-tlv-fmt",
    "shard",
    "sigalgs",
    "slowstart",
    "sni",
    "socks4",
    "source",
    "ssl-max-ver",
    "ssl-min-ver",
    "tcp-md5sig",
    "tcp-ut",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn error<T>(pos: Pos, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    })
}

/// One word of a configuration line after quote and escape processing.
#[derive(Debug, Clone)]
struct Token {
    text: String,
    pos: Pos,
    env: bool,
}

impl Token {
    fn located(&self) -> Located<String> {
        Located {
            value: self.text.clone(),
            pos: self.pos,
        }
    }
}

/// HAProxy's `isspace` separators, minus the line terminators handled separately.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}')
}

/// Splits one line into words as HAProxy's `parse_line` does (sections 2.1 and 2.2).
///
/// Environment variables are not expanded: `"$VAR"` stays literal.
fn tokenize(line: &str, line_no: u32, col_offset: usize) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let pos_at = |i: usize| Pos {
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
            c => {
                start.get_or_insert(i);
                env |= c == '$' && dquote;
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
    if let Some((n, t)) = tokens.iter().enumerate().find(|(_, t)| t.text.is_empty()) {
        return error(t.pos, format!("argument number {n} is empty"));
    }
    Ok(tokens)
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
fn parse_timer(tok: &Token, what: &str, positive: bool) -> Result<Located<u64>, ParseError> {
    let s = tok.text.as_str();
    let hint = if tok.env {
        " (environment variables are not expanded)"
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
                format!("invalid time unit '{unit}' in '{s}' for '{what}': use us, ms, s, m, h or d"),
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
fn parse_count(tok: &Token, what: &str) -> Result<Located<u32>, ParseError> {
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
fn arg_of<'a>(args: &'a [Token], i: usize, what: &str) -> Result<&'a Token, ParseError> {
    match args.get(i + 1) {
        Some(t) => Ok(t),
        None => error(args[i].pos, format!("'{what}' expects an argument")),
    }
}

/// Proxy names may only contain letters, digits, '-', '_', '.' and ':' (section 4).
fn check_name(tok: &Token, what: &str) -> Result<(), ParseError> {
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

/// Settings carried by `default-server` and copied into each later `server` (section 5.2).
#[derive(Debug, Clone, Default)]
struct ServerSettings {
    check: bool,
    check_pos: Option<Pos>,
    /// `check-ssl` (true) or `no-check-ssl` (false).
    check_ssl: Option<bool>,
    /// `ssl` (true) or `no-ssl` (false) for the production traffic.
    ssl: Option<bool>,
    /// A check `port` or `addr` was given: checks then do not inherit the server's `ssl`.
    check_port_or_addr: bool,
    inter: Option<Located<u64>>,
    fastinter: Option<Located<u64>>,
    downinter: Option<Located<u64>>,
    fall: Option<Located<u32>>,
    rise: Option<Located<u32>>,
}

impl ServerSettings {
    /// Applies server keywords; unknown keywords are treated as flags.
    fn apply(&mut self, params: &[Token]) -> Result<(), ParseError> {
        let mut i = 0;
        while let Some(tok) = params.get(i) {
            let kw = tok.text.split('(').next().unwrap_or_default();
            match kw {
                "check" => {
                    self.check = true;
                    self.check_pos = Some(tok.pos);
                }
                "no-check" => self.check = false,
                "check-ssl" => self.check_ssl = Some(true),
                "no-check-ssl" => self.check_ssl = Some(false),
                "ssl" => self.ssl = Some(true),
                "no-ssl" => self.ssl = Some(false),
                "port" | "addr" => {
                    self.check_port_or_addr = true;
                    i += 1;
                }
                "inter" | "fastinter" | "downinter" => {
                    let value = parse_timer(arg_of(params, i, kw)?, kw, true)?;
                    match kw {
                        "inter" => self.inter = Some(value),
                        "fastinter" => self.fastinter = Some(value),
                        _ => self.downinter = Some(value),
                    }
                    i += 1;
                }
                "fall" | "rise" => {
                    let value = parse_count(arg_of(params, i, kw)?, kw)?;
                    if kw == "fall" {
                        self.fall = Some(value);
                    } else {
                        self.rise = Some(value);
                    }
                    i += 1;
                }
                "from" => {
                    if params.get(i + 1).is_some_and(|t| t.text == "none") {
                        *self = ServerSettings::default();
                    }
                    i += 1;
                }
                // A missing trailing value is left for HAProxy to judge (it accepts some).
                _ if SERVER_KW_ONE_ARG.contains(&kw) => i += 1,
                _ => {}
            }
            i += 1;
        }
        Ok(())
    }
}

/// The request part of an `option httpchk` or `http-check send` rule.
#[derive(Debug, Clone)]
struct SendRequest {
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
enum Rule {
    /// `http-check connect`; true when it has the `ssl` option.
    Connect(Pos, bool),
    Send(SendRequest),
    Expect(Pos),
}

impl Rule {
    fn pos(&self) -> Pos {
        match self {
            Rule::Connect(p, _) | Rule::Expect(p) => *p,
            Rule::Send(s) => s.pos,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum CheckMode {
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
struct ProxyChecks {
    mode: CheckMode,
    own_active: bool,
    inherited_rules: Vec<Rule>,
    own_rules: Vec<Rule>,
    timeout_check: Option<Located<u64>>,
    timeout_connect: Option<Located<u64>>,
    default_server: ServerSettings,
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
    fn child(&self) -> ProxyChecks {
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
        }
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
                    (Rule::Send(_), Rule::Expect(_) | Rule::Send(_)) => Some(("send", "connect")),
                    (Rule::Expect(_), Rule::Connect(..)) => Some(("expect", "send")),
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
    fn connect_ssl(&self) -> bool {
        self.mode == CheckMode::Http && self.active_rules().iter().any(|r| matches!(r, Rule::Connect(_, true)))
    }

    fn http_check(&self, fallback: Pos) -> Option<HttpCheck> {
        if self.mode != CheckMode::Http {
            return None;
        }
        let rules = self.active_rules();
        let send = rules.iter().find_map(|r| match r {
            Rule::Send(s) => Some(s),
            _ => None,
        });
        Some(match send {
            Some(s) => HttpCheck {
                method: s
                    .meth
                    .as_ref()
                    .map_or_else(|| "OPTIONS".to_string(), |m| m.value.clone()),
                path: s.uri.as_ref().map_or_else(|| "/".to_string(), |u| u.value.clone()),
                pos: s.uri.as_ref().map_or(s.pos, |u| u.pos),
            },
            None => HttpCheck {
                method: String::new(),
                path: String::new(),
                pos: rules.first().map_or(fallback, Rule::pos),
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

#[derive(Debug)]
enum Section {
    None,
    Global,
    Defaults {
        name: Option<String>,
        replaces_earlier: bool,
        checks: ProxyChecks,
    },
    Proxy {
        kind: ProxyKind,
        name: String,
        pos: Pos,
        checks: ProxyChecks,
        servers: Vec<ServerCheck>,
    },
    Ignored,
}

#[derive(Debug)]
struct NamedDefaults {
    checks: ProxyChecks,
    referenced: bool,
    ambiguous: bool,
}

#[derive(Debug)]
struct Parser {
    section: Section,
    spread_checks: Option<Located<u32>>,
    last_defaults: ProxyChecks,
    named_defaults: HashMap<String, NamedDefaults>,
    frontend_names: HashSet<String>,
    backend_names: HashSet<String>,
    servers: Vec<ServerCheck>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            section: Section::None,
            spread_checks: None,
            last_defaults: ProxyChecks::default(),
            named_defaults: HashMap::new(),
            frontend_names: HashSet::new(),
            backend_names: HashSet::new(),
            servers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    None,
    No,
    Default,
}

impl Parser {
    fn line(&mut self, raw: &str, line_no: u32) -> Result<(), ParseError> {
        // HAProxy skips leading `isspace` characters, then ignores `[scope]` lines.
        let skipped = raw.chars().take_while(|c| is_blank(*c) || *c == '\r').count();
        let rest: &str = raw.char_indices().nth(skipped).map_or("", |(byte, _)| &raw[byte..]);
        if rest.starts_with('[') {
            return Ok(());
        }
        let tokens = tokenize(rest, line_no, skipped)?;
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        if first.text.starts_with('.') {
            return directive(&tokens);
        }

        let (modifier, args) = match first.text.as_str() {
            "no" => (Modifier::No, &tokens[1..]),
            "default" => (Modifier::Default, &tokens[1..]),
            _ => (Modifier::None, &tokens[..]),
        };
        let Some(kw) = args.first() else {
            return error(first.pos, format!("'{}' expects a keyword", first.text));
        };
        if modifier != Modifier::None && !NEGATABLE.contains(&kw.text.as_str()) {
            return error(
                first.pos,
                format!(
                    "'{}' is only supported before options, log, busy-polling, set-dumpable, \
                     strict-limits, insecure-fork-wanted and numa-cpu-mapping",
                    first.text
                ),
            );
        }

        match kw.text.as_str() {
            "global" | "defaults" | "frontend" | "backend" | "listen" => {
                return self.start_section(args);
            }
            s if IGNORED_SECTIONS.contains(&s) => {
                self.finish_section();
                self.section = Section::Ignored;
                return Ok(());
            }
            _ => {}
        }

        match &mut self.section {
            Section::None => error(kw.pos, format!("unknown keyword '{}' out of section", kw.text)),
            Section::Global => self.global_keyword(args),
            Section::Defaults { checks, .. } => proxy_keyword(args, modifier, checks, None),
            Section::Proxy {
                kind: ProxyKind::Frontend,
                ..
            } => {
                if matches!(kw.text.as_str(), "server" | "default-server" | "server-template") {
                    return error(kw.pos, format!("'{}' is not allowed in a 'frontend' section", kw.text));
                }
                Ok(())
            }
            Section::Proxy {
                name, checks, servers, ..
            } => proxy_keyword(args, modifier, checks, Some((name.as_str(), servers))),
            Section::Ignored => Ok(()),
        }
    }

    /// `global` keywords (section 3); only `spread-checks` (section 3.2) matters here.
    fn global_keyword(&mut self, args: &[Token]) -> Result<(), ParseError> {
        if args[0].text != "spread-checks" {
            return Ok(());
        }
        let value = arg_of(args, 0, "spread-checks")?;
        if let Some(extra) = args.get(2) {
            return error(
                extra.pos,
                format!("'spread-checks' takes one argument, unexpected '{}'", extra.text),
            );
        }
        // HAProxy ignores (with an alert) a second non-zero `spread-checks`.
        if self.spread_checks.as_ref().is_some_and(|s| s.value != 0) {
            return Ok(());
        }
        let s = value.text.as_str();
        let parsed = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u32>().ok().filter(|n| *n <= 50)
        } else {
            None
        };
        match parsed {
            Some(v) => {
                self.spread_checks = Some(Located {
                    value: v,
                    pos: value.pos,
                });
                Ok(())
            }
            None => error(
                value.pos,
                format!("'spread-checks' needs a value in range 0..50, got '{s}'"),
            ),
        }
    }

    /// Starts `global`, `defaults`, `frontend`, `backend` or `listen` (section 4).
    fn start_section(&mut self, args: &[Token]) -> Result<(), ParseError> {
        self.finish_section();
        let kw = &args[0];
        self.section = match kw.text.as_str() {
            "global" => Section::Global,
            "defaults" => {
                let (name, from) = match args.get(1..).unwrap_or_default() {
                    [] => (None, None),
                    [f, from] if f.text == "from" => (None, Some(from)),
                    [name] => (Some(name), None),
                    [name, f, from] if f.text == "from" => (Some(name), Some(from)),
                    [_, bad, ..] => {
                        return error(
                            bad.pos,
                            format!(
                                "unexpected '{}': expected 'defaults [<name>] [from <defaults>]'",
                                bad.text
                            ),
                        );
                    }
                };
                // A defaults section never inherits implicitly; only with `from`.
                let checks = match from {
                    Some(from) => self.lookup_defaults(from)?.child(),
                    None => ProxyChecks::default(),
                };
                let earlier = name.and_then(|n| self.named_defaults.get(&n.text).map(|old| (n, old.referenced)));
                let replaces_earlier = match earlier {
                    Some((n, true)) => {
                        return error(
                            n.pos,
                            format!(
                                "defaults section '{}' was already referenced with 'from' and cannot be redefined",
                                n.text
                            ),
                        );
                    }
                    Some((_, false)) => true,
                    None => false,
                };
                Section::Defaults {
                    name: name.map(|n| n.text.clone()),
                    replaces_earlier,
                    checks,
                }
            }
            _ => {
                let kind = match kw.text.as_str() {
                    "frontend" => ProxyKind::Frontend,
                    "backend" => ProxyKind::Backend,
                    _ => ProxyKind::Listen,
                };
                let Some(name) = args.get(1) else {
                    return error(kw.pos, format!("'{}' expects a name", kw.text));
                };
                check_name(name, &kw.text)?;
                let from = match args.get(2..).unwrap_or_default() {
                    [] => None,
                    [f, from] if f.text == "from" => Some(from),
                    [bad, ..] => {
                        return error(
                            bad.pos,
                            format!(
                                "unexpected '{}': expected '{} <name> [from <defaults>]'",
                                bad.text, kw.text
                            ),
                        );
                    }
                };
                let mut taken = false;
                if kind != ProxyKind::Backend {
                    taken |= !self.frontend_names.insert(name.text.clone());
                }
                if kind != ProxyKind::Frontend {
                    taken |= !self.backend_names.insert(name.text.clone());
                }
                if taken {
                    return error(name.pos, format!("a proxy named '{}' is already defined", name.text));
                }
                let checks = match from {
                    Some(from) => self.lookup_defaults(from)?.child(),
                    None => self.last_defaults.child(),
                };
                Section::Proxy {
                    kind,
                    name: name.text.clone(),
                    pos: kw.pos,
                    checks,
                    servers: Vec::new(),
                }
            }
        };
        Ok(())
    }

    fn lookup_defaults(&mut self, from: &Token) -> Result<&ProxyChecks, ParseError> {
        check_name(from, "defaults section")?;
        match self.named_defaults.get_mut(&from.text) {
            None => error(from.pos, format!("defaults section '{}' not found", from.text)),
            Some(d) if d.ambiguous => error(from.pos, format!("ambiguous defaults section name '{}'", from.text)),
            Some(d) => {
                d.referenced = true;
                Ok(&d.checks)
            }
        }
    }

    /// Closes the current section; proxy-level settings apply to all its servers.
    fn finish_section(&mut self) {
        match std::mem::replace(&mut self.section, Section::None) {
            Section::Defaults {
                name,
                replaces_earlier,
                checks,
            } => {
                // Any defaults section, named or not, becomes the implicit one (section 4).
                self.last_defaults = checks.clone();
                if let Some(name) = name {
                    self.named_defaults.insert(
                        name,
                        NamedDefaults {
                            checks,
                            referenced: false,
                            ambiguous: replaces_earlier,
                        },
                    );
                }
            }
            Section::Proxy {
                pos, checks, servers, ..
            } => {
                let http_check = checks.http_check(pos);
                let connect_ssl = checks.connect_ssl();
                for mut server in servers {
                    server.http_check = http_check.clone();
                    server.check_ssl |= connect_ssl;
                    server.timeout_check = checks.timeout_check.clone();
                    server.timeout_connect = checks.timeout_connect.clone();
                    self.servers.push(server);
                }
            }
            Section::None | Section::Global | Section::Ignored => {}
        }
    }

    fn finish(mut self) -> Result<HaproxyConfig, ParseError> {
        self.finish_section();
        Ok(HaproxyConfig {
            spread_checks: self.spread_checks,
            servers: self.servers,
        })
    }
}

/// Config directives (section 2.4). Conditional blocks are rejected rather than guessed.
fn directive(tokens: &[Token]) -> Result<(), ParseError> {
    let kw = &tokens[0];
    match kw.text.as_str() {
        ".if" | ".elif" | ".else" | ".endif" => error(
            kw.pos,
            format!("conditional block directive '{}' is not supported", kw.text),
        ),
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

/// Keywords of `defaults`, `backend` and `listen`; `servers` is `None` in `defaults`.
fn proxy_keyword(
    args: &[Token],
    modifier: Modifier,
    checks: &mut ProxyChecks,
    servers: Option<(&str, &mut Vec<ServerCheck>)>,
) -> Result<(), ParseError> {
    let kw = &args[0];
    match kw.text.as_str() {
        "option" => option_keyword(args, modifier, checks),
        "http-check" => http_check_keyword(args, checks),
        "timeout" => {
            let Some(which) = args.get(1) else {
                return Ok(());
            };
            let slot = match which.text.as_str() {
                "check" => &mut checks.timeout_check,
                "connect" => &mut checks.timeout_connect,
                _ => return Ok(()),
            };
            let what = format!("timeout {}", which.text);
            let value = arg_of(args, 1, &what)?;
            if let Some(extra) = args.get(3) {
                return error(
                    extra.pos,
                    format!("'{what}': unexpected extra argument '{}'", extra.text),
                );
            }
            *slot = Some(parse_timer(value, &what, false)?);
            Ok(())
        }
        "contimeout" | "clitimeout" | "srvtimeout" => error(
            kw.pos,
            format!("'{}' is not supported since HAProxy 2.1; use 'timeout ...'", kw.text),
        ),
        // `default-server` only affects `server` lines that follow it (section 5.2).
        "default-server" => {
            if args.get(1).is_some_and(|t| t.text == "name") {
                // Named default-server instances (3.5+) only apply through `from`.
                return Ok(());
            }
            checks.default_server.apply(&args[1..])
        }
        "server" | "server-template" => {
            let Some((section, servers)) = servers else {
                return error(kw.pos, format!("'{}' is not allowed in a 'defaults' section", kw.text));
            };
            let template = kw.text == "server-template";
            let addr_idx = if template { 3 } else { 2 };
            let (Some(name), Some(addr)) = (args.get(1), args.get(addr_idx)) else {
                let expected = if template {
                    "<prefix> <num|range> <fqdn>[:<port>]"
                } else {
                    "<name> and <addr>[:<port>]"
                };
                return error(kw.pos, format!("'{}' expects {expected}", kw.text));
            };
            check_name(name, "server")?;
            let mut settings = checks.default_server.clone();
            settings.apply(&args[addr_idx + 1..])?;
            servers.push(ServerCheck {
                section: section.to_string(),
                server: name.text.clone(),
                address: addr.text.clone(),
                pos: kw.pos,
                check: settings.check,
                check_pos: settings.check_pos,
                check_ssl: settings.check_ssl.unwrap_or(false)
                    || (settings.check_ssl.is_none() && !settings.check_port_or_addr && settings.ssl == Some(true)),
                inter: settings.inter,
                fastinter: settings.fastinter,
                downinter: settings.downinter,
                fall: settings.fall,
                rise: settings.rise,
                timeout_check: None,
                timeout_connect: None,
                http_check: None,
            });
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `option httpchk` and the other check-selecting options (section 4.2).
fn option_keyword(args: &[Token], modifier: Modifier, checks: &mut ProxyChecks) -> Result<(), ParseError> {
    let Some(name) = args.get(1) else {
        return Ok(());
    };
    let is_httpchk = name.text == "httpchk";
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
        return Ok(());
    }
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
fn http_check_keyword(args: &[Token], checks: &mut ProxyChecks) -> Result<(), ParseError> {
    let kw = &args[0];
    let Some(sub) = args.get(1) else {
        return error(kw.pos, "'http-check' expects a directive such as 'send' or 'expect'");
    };
    let rule = match sub.text.as_str() {
        "disable-on-404" | "send-state" | "comment" => return Ok(()),
        s if s.starts_with("set-var") || s.starts_with("unset-var") => return Ok(()),
        "connect" => Rule::Connect(kw.pos, args[2..].iter().any(|a| a.text == "ssl")),
        "expect" => Rule::Expect(kw.pos),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pos(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }

    fn ok(text: &str) -> HaproxyConfig {
        match parse(text) {
            Ok(cfg) => cfg,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn err(text: &str) -> ParseError {
        match parse(text) {
            Ok(cfg) => panic!("expected an error, got {cfg:?}"),
            Err(e) => e,
        }
    }

    fn server<'a>(cfg: &'a HaproxyConfig, name: &str) -> &'a ServerCheck {
        match cfg.servers.iter().find(|s| s.server == name) {
            Some(s) => s,
            None => panic!("no server {name} in {cfg:?}"),
        }
    }

    fn us(v: &Option<Located<u64>>) -> Option<u64> {
        v.as_ref().map(|l| l.value)
    }

    fn n(v: &Option<Located<u32>>) -> Option<u32> {
        v.as_ref().map(|l| l.value)
    }

    fn http(s: &ServerCheck) -> Option<(&str, &str)> {
        s.http_check.as_ref().map(|h| (h.method.as_str(), h.path.as_str()))
    }

    const KUBEADM: &str = "\
# /etc/haproxy/haproxy.cfg
global
    log /dev/log local0
    log /dev/log local1 notice
    daemon

defaults
    mode                    http
    log                     global
    option                  httplog
    option                  dontlognull
    option http-server-close
    option forwardfor       except 127.0.0.0/8
    option                  redispatch
    retries                 1
    timeout http-request    10s
    timeout queue           20s
    timeout connect         5s
    timeout client          20s
    timeout server          20s
    timeout http-keep-alive 10s
    timeout check           10s

frontend apiserver
    bind *:6443
    mode tcp
    option tcplog
    default_backend apiserver

backend apiserver
    option httpchk GET /healthz
    http-check expect status 200
    mode tcp
    balance     roundrobin
    default-server inter 10s downinter 5s rise 2 fall 2 slowstart 60s maxconn 250 maxqueue 256 weight 100
    server cp1 10.0.0.11:6443 check check-ssl verify none
    server cp2 10.0.0.12:6443 check check-ssl verify none
    server cp3 10.0.0.13:6443 check check-ssl verify none
";

    #[test]
    fn kubeadm_apiserver() {
        let cfg = ok(KUBEADM);
        assert_eq!(cfg.spread_checks, None);
        assert_eq!(cfg.servers.len(), 3);
        let s = server(&cfg, "cp2");
        assert_eq!(s.section, "apiserver");
        assert_eq!(s.address, "10.0.0.12:6443");
        assert_eq!(s.pos, pos(37, 5));
        assert!(s.check);
        assert_eq!(us(&s.inter), Some(10_000_000));
        assert_eq!(s.inter.as_ref().map(|l| l.pos), Some(pos(35, 26)));
        assert_eq!(us(&s.downinter), Some(5_000_000));
        assert_eq!(us(&s.fastinter), None);
        assert_eq!(n(&s.rise), Some(2));
        assert_eq!(n(&s.fall), Some(2));
        assert_eq!(s.fall.as_ref().map(|l| l.pos), Some(pos(35, 55)));
        assert_eq!(us(&s.timeout_check), Some(10_000_000));
        assert_eq!(s.timeout_check.as_ref().map(|l| l.pos), Some(pos(22, 29)));
        assert_eq!(us(&s.timeout_connect), Some(5_000_000));
        assert_eq!(
            s.http_check,
            Some(HttpCheck {
                method: "GET".into(),
                path: "/healthz".into(),
                pos: pos(31, 24),
            })
        );
    }

    #[test]
    fn check_position_and_tls() {
        let cfg = ok(KUBEADM);
        let s = server(&cfg, "cp2");
        assert_eq!(s.check_pos, Some(pos(37, 31)));
        assert!(s.check_ssl);
        let cfg = ok("\
backend a
    default-server check ssl
    server inherit 10.0.0.1:443
    server own_port 10.0.0.2:443 port 8080
    server no_check_ssl 10.0.0.3:443 no-check-ssl
    server forced 10.0.0.4:80 no-ssl check-ssl port 6443
    server plain 10.0.0.5:80 no-ssl
backend b
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /readyz
    server s 10.0.0.6:6443 check
backend c
    option httpchk GET /readyz
    server s 10.0.0.7:6443 check
");
        let tls: Vec<_> = cfg.servers.iter().map(|s| (s.server.as_str(), s.check_ssl)).collect();
        assert_eq!(
            tls,
            vec![
                ("inherit", true),
                ("own_port", false),
                ("no_check_ssl", false),
                ("forced", true),
                ("plain", false),
                ("s", true),
                ("s", false),
            ]
        );
        assert_eq!(cfg.servers[0].check_pos, Some(pos(2, 20)));
    }

    #[test]
    fn kubeadm_newer_http_check_send_form() {
        let cfg = ok("\
backend apiserverbackend
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200
    mode tcp
    server cp1 ${HOST1_ADDRESS}:${APISERVER_SRC_PORT} check verify none
");
        let s = &cfg.servers[0];
        assert_eq!(s.server, "cp1");
        assert_eq!(s.address, "${HOST1_ADDRESS}:${APISERVER_SRC_PORT}");
        assert_eq!(http(s), Some(("GET", "/healthz")));
        assert_eq!(s.http_check.as_ref().map(|h| h.pos), Some(pos(4, 34)));
    }

    #[test]
    fn openshift_readyz() {
        let cfg = ok("\
global
  spread-checks 5
defaults
  timeout connect 10s
  timeout check 10s
listen api-server-6443
  bind *:6443
  mode tcp
  option httpchk GET /readyz HTTP/1.0
  option log-health-checks
  balance roundrobin
  server bootstrap 192.168.1.10:6443 verify none check check-ssl inter 1s fall 2 rise 3 backup
  server master-0 192.168.1.11:6443 verify none check check-ssl inter 1s fall 2 rise 3
");
        assert_eq!(
            cfg.spread_checks,
            Some(Located {
                value: 5,
                pos: pos(2, 17)
            })
        );
        assert_eq!(cfg.servers.len(), 2);
        for s in &cfg.servers {
            assert_eq!(s.section, "api-server-6443");
            assert!(s.check);
            assert_eq!(us(&s.inter), Some(1_000_000));
            assert_eq!(n(&s.fall), Some(2));
            assert_eq!(n(&s.rise), Some(3));
            assert_eq!(http(s), Some(("GET", "/readyz")));
        }
        assert_eq!(
            server(&cfg, "master-0").inter.as_ref().map(|l| l.pos),
            Some(pos(13, 71))
        );
    }

    #[test]
    fn named_defaults_with_from() {
        let cfg = ok("\
defaults base
    option httpchk GET /healthz
    timeout check 2s
defaults other
    timeout check 7s
    default-server inter 3s
backend a from base
    server a1 10.0.0.1:80 check
backend b
    server b1 10.0.0.2:80 check
defaults derived from base
    timeout connect 1s
backend c from derived
    server c1 10.0.0.3:80 check
");
        let a1 = server(&cfg, "a1");
        assert_eq!(http(a1), Some(("GET", "/healthz")));
        assert_eq!(us(&a1.timeout_check), Some(2_000_000));
        assert_eq!(us(&a1.inter), None);
        // Without `from`, the latest defaults section (named or not) applies.
        let b1 = server(&cfg, "b1");
        assert_eq!(http(b1), None);
        assert_eq!(us(&b1.timeout_check), Some(7_000_000));
        assert_eq!(us(&b1.inter), Some(3_000_000));
        let c1 = server(&cfg, "c1");
        assert_eq!(http(c1), Some(("GET", "/healthz")));
        assert_eq!(us(&c1.timeout_check), Some(2_000_000));
        assert_eq!(us(&c1.timeout_connect), Some(1_000_000));
    }

    #[test]
    fn defaults_from_unknown_or_ambiguous_is_an_error() {
        let e = err("backend a from nope\n");
        assert_eq!((e.line, e.column), (1, 16));
        let e = err("defaults x\ndefaults x\nbackend a from x\n");
        assert_eq!((e.line, e.column), (3, 16));
        let e = err("defaults x\nbackend a from x\ndefaults x\n");
        assert_eq!((e.line, e.column), (3, 10));
    }

    #[test]
    fn http_check_send_overrides_option() {
        let cfg = ok("\
backend a
    option httpchk
    http-check send meth GET uri /readyz
    server s 10.0.0.1:6443 check
");
        assert_eq!(http(&cfg.servers[0]), Some(("GET", "/readyz")));
    }

    #[test]
    fn option_after_send_overwrites_only_given_fields() {
        let cfg = ok("\
backend a
    http-check send meth GET uri /readyz
    option httpchk
    server s 10.0.0.1:80 check
backend b
    http-check send meth GET uri /readyz
    option httpchk /x
    server s 10.0.0.1:80 check
");
        assert_eq!(http(&cfg.servers[0]), Some(("GET", "/readyz")));
        assert_eq!(http(&cfg.servers[1]), Some(("GET", "/x")));
    }

    #[test]
    fn option_httpchk_forms() {
        let cfg = ok("\
backend a
    option httpchk
    server s 1.1.1.1:80 check
backend b
    option httpchk /health
    server s 1.1.1.1:80 check
backend c
    option httpchk HEAD /h HTTP/1.1\\r\\nHost:\\ example.com
    server s 1.1.1.1:80 check
backend d
    option httpchk GET /h HTTP/1.1 example.com
    server s 1.1.1.1:80 check
");
        let got: Vec<_> = cfg.servers.iter().map(http).collect();
        assert_eq!(
            got,
            vec![
                Some(("OPTIONS", "/")),
                Some(("OPTIONS", "/health")),
                Some(("HEAD", "/h")),
                Some(("GET", "/h")),
            ]
        );
        assert_eq!(cfg.servers[0].http_check.as_ref().map(|h| h.pos), Some(pos(2, 5)));
        let e = err("backend a\n    option httpchk GET / HTTP/1.1 host extra\n");
        assert_eq!((e.line, e.column), (2, 40));
    }

    #[test]
    fn http_check_send_without_option_is_unused() {
        let cfg = ok("\
backend a
    http-check send meth GET uri /readyz
    server s 10.0.0.1:80 check
");
        assert_eq!(http(&cfg.servers[0]), None);
    }

    #[test]
    fn inherited_option_is_replaced_by_own_http_check_rules() {
        // HAProxy 2.2+: the backend's own http-check ruleset replaces the inherited one.
        let cfg = ok("\
defaults
    option httpchk GET /healthz
backend send_only
    http-check send uri /readyz
    server s 10.0.0.1:80 check
backend expect_only
    http-check expect status 200
    server s 10.0.0.1:80 check
backend inherit
    server s 10.0.0.1:80 check
");
        assert_eq!(http(&cfg.servers[0]), Some(("OPTIONS", "/readyz")));
        assert_eq!(http(&cfg.servers[1]), Some(("", "")));
        assert_eq!(cfg.servers[1].http_check.as_ref().map(|h| h.pos), Some(pos(7, 5)));
        assert_eq!(http(&cfg.servers[2]), Some(("GET", "/healthz")));
    }

    #[test]
    fn other_check_options_disable_http() {
        let cfg = ok("\
defaults
    option httpchk GET /healthz
backend a
    option ssl-hello-chk
    server s 10.0.0.1:443 check
backend b
    option tcp-check
    http-check send uri /x
    server s 10.0.0.1:443 check
backend c
    option mysql-check user haproxy
    option httpchk /back
    server s 10.0.0.1:443 check
");
        assert_eq!(http(&cfg.servers[0]), None);
        assert_eq!(http(&cfg.servers[1]), None);
        assert_eq!(http(&cfg.servers[2]), Some(("OPTIONS", "/back")));
    }

    #[test]
    fn no_option_httpchk_is_rejected_like_haproxy() {
        let e = err("backend a\n    no option httpchk\n");
        assert_eq!((e.line, e.column), (2, 15));
        assert!(e.message.contains("not supported"), "{e}");
        ok("defaults\n    no option redispatch\n    no log\n");
        let e = err("backend a\n  no timeout check\n");
        assert_eq!((e.line, e.column), (2, 3));
    }

    #[test]
    fn default_server_applies_only_to_later_servers() {
        let cfg = ok("\
defaults
    default-server fall 5
backend a
    server early 10.0.0.1:80 check
    default-server inter 2s rise 4
    server late 10.0.0.2:80
    default-server check
    server later 10.0.0.3:80 no-check inter 3s
    server last 10.0.0.4:80
");
        let early = server(&cfg, "early");
        assert_eq!(
            (us(&early.inter), n(&early.rise), n(&early.fall)),
            (None, None, Some(5))
        );
        assert!(early.check);
        let late = server(&cfg, "late");
        assert_eq!(us(&late.inter), Some(2_000_000));
        assert_eq!(n(&late.rise), Some(4));
        assert_eq!(n(&late.fall), Some(5));
        assert_eq!(late.fall.as_ref().map(|l| l.pos), Some(pos(2, 25)));
        assert!(!late.check);
        let later = server(&cfg, "later");
        assert!(!later.check);
        assert_eq!(us(&later.inter), Some(3_000_000));
        assert!(server(&cfg, "last").check);
    }

    #[test]
    fn proxy_settings_apply_regardless_of_order() {
        let cfg = ok("\
backend a
    server s 10.0.0.1:80 check
    timeout check 3s
    option httpchk GET /late
");
        assert_eq!(us(&cfg.servers[0].timeout_check), Some(3_000_000));
        assert_eq!(http(&cfg.servers[0]), Some(("GET", "/late")));
    }

    #[test]
    fn server_argument_skipping() {
        let cfg = ok("\
backend a
    server s 10.0.0.1:80 cookie check weight 10 agent-inter 5s source 1.2.3.4 usesrc clientip maxconn 10 inter 4s set-proxy-v2-tlv-fmt(0x20) %[fc_pp_tlv(0x20)] fall 3 unknown-flag
    server t 10.0.0.1:80 agent-send check
");
        let s = server(&cfg, "s");
        assert!(!s.check, "'check' was the cookie value");
        assert_eq!(us(&s.inter), Some(4_000_000));
        assert_eq!(n(&s.fall), Some(3));
        assert!(!server(&cfg, "t").check);
        assert!(ok("backend a\n    server s 10.0.0.1:80 check weight\n").servers[0].check);
        let e = err("backend a\n    server s 10.0.0.1:80 check fall\n");
        assert_eq!((e.line, e.column), (2, 32));
    }

    #[test]
    fn time_units() {
        let cases: &[(&str, u64)] = &[
            ("500", 500_000),
            ("500ms", 500_000),
            ("2s", 2_000_000),
            ("1m", 60_000_000),
            ("1h", 3_600_000_000),
            ("1d", 86_400_000_000),
            ("100us", 1_000),
            ("1500us", 2_000),
            ("2000us", 2_000),
            ("2147483647", 2_147_483_647_000),
            ("24d", 24 * 86_400_000_000),
        ];
        for (text, expected) in cases {
            let cfg = ok(&format!("backend a\n  server s 1.2.3.4:80 check inter {text}\n"));
            assert_eq!(us(&cfg.servers[0].inter), Some(*expected), "{text}");
        }
    }

    #[test]
    fn invalid_times_point_at_the_token() {
        let text = "\
global
    daemon
defaults
    timeout check 5s
backend be
    option httpchk
    server s1 10.0.0.1:80 check inter 2sec
";
        let e = err(text);
        assert_eq!((e.line, e.column), (7, 39));
        assert!(e.message.contains("2sec"), "{e}");
        assert_eq!(e.to_string(), format!("line 7, column 39: {}", e.message));
        for bad in [
            "1.5s",
            "-1",
            "2sec",
            "s",
            "0",
            "0us",
            "2147483648",
            "25d",
            "99999999999999999999999",
            "1x",
        ] {
            let e = err(&format!("backend a\n  server s 1.2.3.4:80 fastinter {bad}\n"));
            assert_eq!((e.line, e.column), (2, 33), "{bad}: {e}");
        }
        let e = err("backend a\n  server s 1.2.3.4:80 inter\n");
        assert_eq!((e.line, e.column), (2, 23));
    }

    #[test]
    fn timeouts_accept_zero_and_validate() {
        let cfg = ok("backend a\n  timeout check 0\n  timeout connect 100us\n  server s x:1\n");
        assert_eq!(us(&cfg.servers[0].timeout_check), Some(0));
        assert_eq!(us(&cfg.servers[0].timeout_connect), Some(1_000));
        let e = err("defaults\n\ttimeout connect 5 s\n");
        assert_eq!((e.line, e.column), (2, 20));
        let e = err("defaults\n\ttimeout\tcheck\t2q\n");
        assert_eq!((e.line, e.column), (2, 16));
        let e = err("defaults\n  contimeout 5000\n");
        assert_eq!((e.line, e.column), (2, 3));
    }

    #[test]
    fn fall_and_rise_must_be_positive_integers() {
        for bad in ["0", "-1", "1.5", "x", "2x", "4294967296", "2147483648"] {
            let e = err(&format!("backend a\n  server s 1.2.3.4:80 rise {bad}\n"));
            assert_eq!((e.line, e.column), (2, 28), "{bad}");
        }
    }

    #[test]
    fn spread_checks_range() {
        let e = err("global\n    spread-checks 60\n");
        assert_eq!((e.line, e.column), (2, 19));
        assert!(e.message.contains("0..50"), "{e}");
        err("global\n    spread-checks -1\n");
        err("global\n    spread-checks\n");
        err("global\n    spread-checks 5 6\n");
        let cfg = ok("global\n    spread-checks 50\n");
        assert_eq!(cfg.spread_checks.map(|s| s.value), Some(50));
        let cfg = ok("global\n    spread-checks 3\nglobal\n    spread-checks 60\n");
        assert_eq!(cfg.spread_checks.map(|s| s.value), Some(3));
    }

    #[test]
    fn sections_and_out_of_section_keywords() {
        let e = err("# comment\n\n   server s 1.2.3.4:80\n");
        assert_eq!((e.line, e.column), (3, 4));
        let cfg = ok("\
userlist admins
    user admin password $6$xyz
peers mypeers
    server s1 10.0.0.1:1024
resolvers dns
    nameserver ns1 10.0.0.2:53
ring myring
    server r 127.0.0.1:514
cache c
    total-max-size 4
program p
    command /bin/true
http-errors e
log-forward lf
crt-store cs
traces
mailers m
    mailer smtp1 192.168.0.1:587
backend b
    server s 1.2.3.4:80 check
");
        assert_eq!(cfg.servers.len(), 1);
        assert_eq!(cfg.servers[0].section, "b");
        let e = err("frontend f\n    server s 1.2.3.4:80\n");
        assert_eq!((e.line, e.column), (2, 5));
        let e = err("defaults\n    server s 1.2.3.4:80\n");
        assert_eq!((e.line, e.column), (2, 5));
        let e = err("backend\n");
        assert_eq!((e.line, e.column), (1, 1));
        let e = err("backend a\nbackend a\n");
        assert_eq!((e.line, e.column), (2, 9));
        let e = err("backend a/b\n");
        assert_eq!((e.line, e.column), (1, 9));
        ok("frontend a\nbackend a\n");
    }

    #[test]
    fn server_template_and_missing_address() {
        let cfg = ok("backend b\n  server-template web 1-3 web.svc.local:80 check inter 2s\n");
        let s = &cfg.servers[0];
        assert_eq!((s.server.as_str(), s.address.as_str()), ("web", "web.svc.local:80"));
        assert_eq!(us(&s.inter), Some(2_000_000));
        let e = err("backend b\n  server onlyname\n");
        assert_eq!((e.line, e.column), (2, 3));
        let e = err("backend b\n  server web/1 1.2.3.4:80\n");
        assert_eq!((e.line, e.column), (2, 10));
    }

    #[test]
    fn tokenizer_quotes_escapes_comments_and_crlf() {
        let cfg = ok(
            "backend b\r\n\tserver \"my-srv\" 'a b:80' check inter \"2s\" # inter 9s\r\n  server x\\x79 1.2.3.4:80 fall\\x20 3#c\r\n",
        );
        let s = &cfg.servers[0];
        assert_eq!(s.server, "my-srv");
        assert_eq!(s.address, "a b:80");
        assert_eq!(us(&s.inter), Some(2_000_000));
        assert_eq!(s.inter.as_ref().map(|l| l.pos), Some(pos(2, 39)));
        let t = &cfg.servers[1];
        assert_eq!(t.server, "xy");
        assert!(!t.check);
        // "fall\x20" is one word ("fall "), an unknown flag; "3#c" ends at the comment.
        assert_eq!(n(&t.fall), None);

        let toks = tokenize(r#"a\#b "c\"d" 'e\f' "$HOME" \x41 g\q"#, 1, 0).unwrap_or_default();
        let words: Vec<_> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(words, vec!["a#b", "c\"d", "e\\f", "$HOME", "A", "g\\q"]);
        assert!(toks[3].env);
    }

    #[test]
    fn tokenizer_errors() {
        let e = err("backend b\n  server s \"1.2.3.4:80 check\n");
        assert_eq!((e.line, e.column), (2, 12));
        let e = err("backend b\n  server s 1.2.3.4:80 \\xZZ\n");
        assert_eq!((e.line, e.column), (2, 23));
        let e = err("backend b\n  server s \"\" 1.2.3.4:80\n");
        assert_eq!((e.line, e.column), (2, 12));
        assert!(e.message.contains("empty"), "{e}");
        let long = format!("backend b\n  server s 1.2.3.4:80{}\n", " backup".repeat(62));
        let e = err(&long);
        assert_eq!(e.line, 2);
        ok(&format!("backend b\n  server s 1.2.3.4:80{}\n", " backup".repeat(61)));
    }

    #[test]
    fn directives_and_scopes() {
        ok("[scope]\nglobal\n  .notice \"hello\"\n  .warning hi\n");
        let e = err("global\n  .if defined(FOO)\n");
        assert_eq!((e.line, e.column), (2, 3));
        let e = err(".alert \"stop here\"\n");
        assert!(e.message.contains("stop here"), "{e}");
        err(".bogus\n");
    }

    #[test]
    fn http_check_rule_order_errors() {
        let e = err("backend b\n  option httpchk\n  http-check send uri /a\n  http-check send uri /b\n");
        assert_eq!((e.line, e.column), (4, 14));
        let e = err("backend b\n  option httpchk\n  http-check send uri /a\n  http-check send bogus\n");
        assert_eq!((e.line, e.column), (4, 19));
        let e = err("backend b\n  http-check frobnicate\n");
        assert_eq!((e.line, e.column), (2, 14));
        ok(
            "backend b\n  option httpchk\n  http-check send-state\n  http-check disable-on-404\n  http-check comment hi\n  http-check set-var(check.x) int(1)\n",
        );
    }

    #[test]
    fn server_without_check_is_listed() {
        let cfg = ok("listen l\n  bind :80\n  server s 1.2.3.4:80\n");
        assert_eq!(cfg.servers.len(), 1);
        assert!(!cfg.servers[0].check);
        assert_eq!(cfg.servers[0].section, "l");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "",
            "\n",
            "\r",
            "\0",
            "#",
            "\"",
            "'",
            "\\",
            "\\x",
            "\\x4",
            "no",
            "default",
            "no option",
            "global\nspread-checks",
            "backend b\nserver",
            "backend b\ndefault-server from",
            "backend b\nhttp-check",
            "backend b\nhttp-check send hdr x",
            "\u{feff}global",
            "é\tü",
            "defaults from",
            "defaults a from",
            "backend b from",
        ] {
            let _ = parse(text);
        }
    }

    #[test]
    fn huge_inputs() {
        let mut text = String::from("global\n    spread-checks 2\nbackend b\n");
        for i in 0..1_000_000 {
            if i % 100_000 == 0 {
                text.push_str("    server s 10.0.0.1:80 check inter 1s\n");
            } else if i % 2 == 0 {
                text.push_str("    timeout check 5s # comment\n");
            } else {
                text.push('\n');
            }
        }
        let cfg = ok(&text);
        assert_eq!(cfg.servers.len(), 10);
        let long_word = "x".repeat(2_000_000);
        let cfg = ok(&format!("backend b\n    server s {long_word} check\n"));
        assert_eq!(cfg.servers[0].address.len(), 2_000_000);
        let e = err(&format!("backend b\n    server s {long_word} inter 2sec\n"));
        assert_eq!(e.column, 2_000_000 + 21);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_strings_never_panic(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn config_alphabet_never_panics(
            text in "[ a-z0-9\\t\\n\\r#\"'\\\\$.:/()-]{0,600}",
        ) {
            let _ = parse(&text);
        }

        #[test]
        fn shuffled_lines_never_panic(
            lines in Just(KUBEADM.lines().collect::<Vec<_>>()).prop_shuffle(),
            keep in proptest::collection::vec(any::<bool>(), 40),
        ) {
            let all = lines.join("\n");
            let _ = parse(&all);
            let some: Vec<&str> = lines
                .iter()
                .zip(keep.iter().cycle())
                .filter(|(_, k)| **k)
                .map(|(l, _)| *l)
                .collect();
            let _ = parse(&some.join("\r\n"));
        }

        #[test]
        fn mutated_realistic_config_never_panics(
            idx in 0..KUBEADM.len(),
            insert in "[ -~\\t\\r\\n]{0,8}",
        ) {
            let mut text = KUBEADM.to_string();
            let mut at = idx;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &insert);
            let _ = parse(&text);
        }
    }
}
