//! Sections: `global`, `defaults` (with `from` inheritance), proxies, `default-server` and `server` lines.

use std::collections::{HashMap, HashSet};

use super::checks::{atol, http_check_keyword, option_keyword, tcp_check_keyword, Modifier, ProxyChecks};
use super::cond::{Build, Conditions};
use super::keywords;
use super::lex::{arg_of, check_name, directive, is_blank, parse_timer, tokenize, Token};
use super::{error, HaproxyConfig, Located, ParseError, Pos, ReadOptions, ServerCheck};

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
        /// Port ranges of its `bind` lines (frontend, listen).
        binds: Vec<(u16, u16)>,
        /// Backends it passes traffic to (`default_backend`, `use_backend`).
        routes: Vec<String>,
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
pub(super) struct Parser {
    section: Section,
    spread_checks: Option<Located<u32>>,
    last_defaults: ProxyChecks,
    named_defaults: HashMap<String, NamedDefaults>,
    frontend_names: HashSet<String>,
    backend_names: HashSet<String>,
    servers: Vec<ServerCheck>,
    /// Port ranges clients connect to, by the proxy name they reach (a listen section's own
    /// binds, and each frontend's or listen's binds for the backends it routes to).
    client_ports: HashMap<String, Vec<(u16, u16)>>,
    /// Index of the file being read.
    file: u32,
    env: HashMap<String, String>,
    build: Build,
    conds: Conditions,
}

impl Parser {
    pub(super) fn new(opts: &ReadOptions) -> Self {
        Parser {
            section: Section::None,
            spread_checks: None,
            last_defaults: ProxyChecks::default(),
            named_defaults: HashMap::new(),
            frontend_names: HashSet::new(),
            backend_names: HashSet::new(),
            servers: Vec::new(),
            client_ports: HashMap::new(),
            file: 0,
            env: opts.env.clone(),
            build: opts.build.clone(),
            conds: Conditions::default(),
        }
    }

    /// Starts reading the next file of the configuration.
    pub(super) fn start_file(&mut self, file: u32) {
        self.file = file;
    }

    /// Ends a file: its conditional blocks must be closed.
    pub(super) fn end_file(&mut self) -> Result<(), ParseError> {
        self.conds.finish()?;
        self.conds = Conditions::default();
        Ok(())
    }
}

impl Parser {
    pub(super) fn line(&mut self, raw: &str, line_no: u32) -> Result<(), ParseError> {
        // HAProxy skips leading `isspace` characters, then ignores `[scope]` lines.
        let skipped = raw.chars().take_while(|c| is_blank(*c) || *c == '\r').count();
        let rest: &str = raw.char_indices().nth(skipped).map_or("", |(byte, _)| &raw[byte..]);
        if rest.starts_with('[') {
            return Ok(());
        }
        let env = &self.env;
        let vars = |name: &str| env.get(name).cloned();
        let mut tokens = tokenize(rest, line_no, skipped, &vars).map_err(|mut e| {
            e.file = self.file;
            e
        })?;
        for t in &mut tokens {
            t.pos.file = self.file;
        }
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        if matches!(first.text.as_str(), ".if" | ".elif" | ".else" | ".endif") {
            let expr_text = tokens[1..]
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let expr = tokens.get(1).map(|t| (expr_text.as_str(), t.pos));
            return self.conds.directive(&first.text, first.pos, expr, &vars, &self.build);
        }
        if !self.conds.active() {
            return Ok(());
        }
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

        if let Section::Proxy {
            kind: ProxyKind::Frontend | ProxyKind::Listen,
            binds,
            routes,
            ..
        } = &mut self.section
        {
            match kw.text.as_str() {
                "bind" => binds.extend(args.get(1).map_or_else(Vec::new, |a| bind_ports(&a.text))),
                "default_backend" | "use_backend" => {
                    // A name built at run time (`%[...]`) names no section here.
                    if let Some(b) = args.get(1).filter(|b| !b.text.contains('%')) {
                        routes.push(b.text.clone());
                    }
                }
                _ => {}
            }
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
                    binds: Vec::new(),
                    routes: Vec::new(),
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
                kind,
                name,
                pos,
                checks,
                servers,
                binds,
                routes,
            } => {
                if kind == ProxyKind::Listen {
                    self.client_ports.entry(name).or_default().extend(binds.iter().copied());
                }
                for r in routes {
                    self.client_ports.entry(r).or_default().extend(binds.iter().copied());
                }
                let tcp_http = checks.tcp_http_check();
                let connect_ssl = checks.connect_ssl() || (tcp_http.is_some() && checks.tcp.ssl);
                let http_check = checks.http_check(pos).or(tcp_http);
                let external = checks.other.as_ref().filter(|o| o.value == "external-check").map(|o| Located {
                    value: "option external-check runs a command whose result graceline cannot model (it may or may not see /readyz); use option httpchk to check /readyz".to_string(),
                    pos: o.pos,
                });
                for mut server in servers {
                    server.http_check = http_check.clone();
                    server.check_ssl |= connect_ssl;
                    if server.refusal.is_none() {
                        server.refusal.clone_from(&external);
                    }
                    if server.check_port.is_none() && checks.other.as_ref().is_some_and(|o| o.value == "tcp-check") {
                        server.check_port.clone_from(&checks.tcp.port);
                    }
                    server.timeout_check = checks.timeout_check.clone();
                    server.timeout_connect = checks.timeout_connect.clone();
                    server.retries = checks.retries.clone();
                    server.redispatch = checks.redispatch.clone();
                    self.servers.push(server);
                }
            }
            Section::None | Section::Global | Section::Ignored => {}
        }
    }

    pub(super) fn finish(mut self) -> Result<HaproxyConfig, ParseError> {
        self.finish_section();
        for srv in &mut self.servers {
            let mut ports = self.client_ports.get(&srv.section).cloned().unwrap_or_default();
            ports.sort_unstable();
            ports.dedup();
            srv.client_ports = ports;
        }
        Ok(HaproxyConfig {
            spread_checks: self.spread_checks,
            servers: self.servers,
        })
    }
}

/// The port ranges of a `bind` address list (`:6443`, `*:80,[::]:80`, `ipv4@10.0.0.1:443`,
/// `:8000-8010`); UNIX sockets, file descriptors and unparsable entries give none.
fn bind_ports(list: &str) -> Vec<(u16, u16)> {
    list.split(',')
        .filter_map(|a| {
            let (_, port) = a.rsplit_once(':')?;
            if a.starts_with('/')
                || a.contains("unix@")
                || a.contains("fd@")
                || a.contains("sockpair@")
                || a.ends_with(']')
            {
                return None;
            }
            let (lo, hi) = port.split_once('-').unwrap_or((port, port));
            let (lo, hi) = (lo.parse::<u16>().ok()?, hi.parse::<u16>().ok()?);
            (lo > 0 && lo <= hi).then_some((lo, hi))
        })
        .collect()
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
        "tcp-check" => tcp_check_keyword(args, checks),
        "timeout" => {
            let Some(which) = args.get(1) else {
                return Ok(());
            };
            let slot = match which.text.as_str() {
                "check" => &mut checks.timeout_check,
                "connect" => &mut checks.timeout_connect,
                t if keywords::TIMEOUTS.contains(&t) => return Ok(()),
                t => return keywords::unknown(which.pos, t, "after 'timeout'", keywords::TIMEOUTS.iter().copied()),
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
        "retries" => {
            // HAProxy: `'retries' expects an integer argument`, then atol (negative: no retry).
            let Some(v) = args.get(1) else {
                return error(
                    kw.pos,
                    "'retries' expects an integer argument (dispatch counts for one).",
                );
            };
            let n = u32::try_from(atol(&v.text).max(0)).unwrap_or(u32::MAX);
            checks.retries = Some(Located { value: n, pos: v.pos });
            Ok(())
        }
        "redispatch" | "redisp" => error(
            kw.pos,
            format!(
                "keyword '{}' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
                kw.text
            ),
        ),
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
                check_port: settings.check_port,
                track: settings.track,
                refusal: settings.healthcheck.map(|h| Located {
                    value: format!(
                        "server keyword 'healthcheck {}' (an HAProxy 3.x healthcheck section) is not modelled by graceline; describe the check with option httpchk / http-check in the backend",
                        h.value
                    ),
                    pos: h.pos,
                }),
                retries: None,
                redispatch: None,
                client_ports: Vec::new(),
            });
            Ok(())
        }
        k if keywords::PROXY.contains(&k) => Ok(()),
        k => keywords::unknown(
            kw.pos,
            k,
            "in a 'defaults', 'backend' or 'listen' section",
            keywords::PROXY.iter().copied(),
        ),
    }
}
