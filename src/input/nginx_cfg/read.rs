//! From the directive tree to upstreams and proxies: the directives' handlers (argument values,
//! duplicates, messages) and the inheritance of `proxy_*` settings (http → server → location,
//! stream → server) with the 1.22.1 defaults.

use super::lex::{parse_time, Word};
use super::tree::Node;
use super::{
    error, Balancer, Condition, Located, Module, NextUpstream, NginxConfig, ParseError, Pos, Proxy, Setting,
    SourceFile, Upstream, UpstreamServer, Workers, NGINX_VERSION,
};
use crate::time::Micros;
use std::collections::HashMap;

/// Stream `proxy_connect_timeout` and http `proxy_connect_timeout` default (60000 ms).
const CONNECT_TIMEOUT: Micros = Micros::from_secs(60);
/// Stream `proxy_timeout` default (10 × 60000 ms).
const STREAM_TIMEOUT: Micros = Micros::from_secs(600);
/// http `proxy_read_timeout` default (60000 ms).
const READ_TIMEOUT: Micros = Micros::from_secs(60);
/// `server … fail_timeout` default (10 s) and `max_fails` default (1).
const FAIL_TIMEOUT_S: i64 = 10;

/// Parameters an NGINX Plus `server` line takes that nginx open source refuses.
const PLUS_SERVER_PARAMS: &[&str] = &["resolve", "service=", "route=", "slow_start=", "drain", "max_queue="];

/// `ngx_atoi()`: decimal digits only, no sign, no overflow.
fn atoi(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok()
}

/// The `proxy_*` settings written at one level, each with its position.
#[derive(Debug, Clone, Default)]
struct Level {
    connect_timeout: Option<Setting<Micros>>,
    next_upstream: Option<Setting<NextUpstream>>,
    tries: Option<Setting<u32>>,
    next_timeout: Option<Setting<Micros>>,
    timeout: Option<Setting<Micros>>,
    http_version: Option<Setting<String>>,
}

impl Level {
    /// This level over its parent (`ngx_conf_merge_*_value`: the child's value when set).
    fn over(&self, parent: &Level) -> Level {
        Level {
            connect_timeout: self.connect_timeout.clone().or_else(|| parent.connect_timeout.clone()),
            next_upstream: self.next_upstream.clone().or_else(|| parent.next_upstream.clone()),
            tries: self.tries.clone().or_else(|| parent.tries.clone()),
            next_timeout: self.next_timeout.clone().or_else(|| parent.next_timeout.clone()),
            timeout: self.timeout.clone().or_else(|| parent.timeout.clone()),
            http_version: self.http_version.clone().or_else(|| parent.http_version.clone()),
        }
    }

    /// Reads the `proxy_*` directives among `nodes` (this level only).
    fn read(nodes: &[Node], module: Module) -> Result<Level, ParseError> {
        let mut l = Level::default();
        let mut http_next: Option<(Vec<Condition>, bool, Pos)> = None;
        for n in nodes {
            let name = n.name.text.as_str();
            match name {
                "proxy_connect_timeout" => set_once(&mut l.connect_timeout, n, msec(n)?)?,
                "proxy_next_upstream_timeout" => set_once(&mut l.next_timeout, n, msec(n)?)?,
                "proxy_timeout" if module == Module::Stream => set_once(&mut l.timeout, n, msec(n)?)?,
                "proxy_read_timeout" if module == Module::Http => set_once(&mut l.timeout, n, msec(n)?)?,
                "proxy_next_upstream_tries" => {
                    let v = atoi(&n.args[0].text).map_or_else(
                        || error(n.args[0].pos, format!("\"{name}\" directive invalid number")),
                        Ok,
                    )?;
                    set_once(&mut l.tries, n, v)?;
                }
                "proxy_http_version" if module == Module::Http => {
                    let v = n.args[0].text.clone();
                    if v != "1.0" && v != "1.1" {
                        return error(n.args[0].pos, format!("invalid value \"{v}\" in \"{name}\" directive"));
                    }
                    set_once(&mut l.http_version, n, v)?;
                }
                "proxy_next_upstream" if module == Module::Stream => {
                    let on = n.args[0].text.eq_ignore_ascii_case("on");
                    let v = if on {
                        NextUpstream::On(vec![Condition::Error, Condition::Timeout])
                    } else {
                        NextUpstream::Off
                    };
                    set_once(&mut l.next_upstream, n, v)?;
                }
                "proxy_next_upstream" => {
                    // ngx_conf_set_bitmask_slot(): repeated directives add up; names are
                    // case-insensitive; an unknown one is refused.
                    let (conds, off, _) = http_next.get_or_insert_with(|| (Vec::new(), false, n.args[0].pos));
                    for a in &n.args {
                        let t = a.text.to_ascii_lowercase();
                        if t == "off" {
                            *off = true;
                            continue;
                        }
                        match Condition::ALL.iter().find(|c| c.name() == t) {
                            Some(c) if !conds.contains(c) => conds.push(*c),
                            Some(_) => {}
                            None => return error(a.pos, format!("invalid value \"{}\"", a.text)),
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((conds, off, pos)) = http_next {
            // ngx_http_proxy_merge_loc_conf(): `off` anywhere in the list wins.
            let v = if off {
                NextUpstream::Off
            } else {
                NextUpstream::On(conds)
            };
            l.next_upstream = Some(Setting::at(v, pos));
        }
        Ok(l)
    }
}

/// `ngx_conf_set_msec_slot()`: a time in milliseconds, `"x" directive invalid value`.
fn msec(n: &Node) -> Result<Micros, ParseError> {
    let a = &n.args[0];
    match parse_time(&a.text, false) {
        Some(ms) => Ok(Micros::from_millis(
            i64::try_from(ms).unwrap_or(i64::MAX / 1000).min(i64::MAX / 1000),
        )),
        None => error(a.pos, format!("\"{}\" directive invalid value", n.name.text)),
    }
}

/// A slot set once per block: a second one is `"x" directive is duplicate`.
fn set_once<T>(slot: &mut Option<Setting<T>>, n: &Node, v: T) -> Result<(), ParseError> {
    if slot.is_some() {
        return error(n.name.pos, format!("\"{}\" directive is duplicate", n.name.text));
    }
    *slot = Some(Setting::at(v, n.args[0].pos));
    Ok(())
}

/// Host and port of an address (`ngx_parse_url()` shapes): `None` port when absent; `Err` with
/// nginx's `u->err` text.
fn host_port(addr: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("invalid host");
        };
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("invalid host"),
        };
        (format!("[{}]", &rest[..end]), port)
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (addr.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err("no host");
    }
    match port {
        None => Ok((host, None)),
        Some(p) => match atoi(p) {
            Some(n) if (1..=65535).contains(&n) => Ok((host, u16::try_from(n).ok())),
            _ => Err("invalid port"),
        },
    }
}

fn is_ip_literal(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>().is_ok()
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
        || host == "localhost"
        || host == "*"
}

/// Which `server` parameters the balancer accepts (`uscf->flags`).
#[derive(Debug, Clone, Copy)]
struct Flags {
    backup: bool,
}

/// Reads one `upstream` block.
fn upstream(node: &Node, module: Module) -> Result<Upstream, ParseError> {
    let name = &node.args[0];
    let mut flags = Flags { backup: true };
    let mut balancer = Setting::default_of(Balancer::RoundRobin);
    let mut keepalive = None;
    let mut zone = None;
    let mut servers = Vec::new();
    for c in node.children.as_deref().unwrap_or_default() {
        let kw = c.name.text.as_str();
        match kw {
            "server" => servers.push(server(c, module, flags)?),
            "least_conn" => {
                balancer = Setting::at(Balancer::LeastConn, c.name.pos);
            }
            "ip_hash" => {
                balancer = Setting::at(Balancer::IpHash, c.name.pos);
                flags.backup = false;
            }
            "hash" => {
                let consistent = match c.args.get(1) {
                    None => false,
                    Some(a) if a.text == "consistent" => true,
                    Some(a) => return error(a.pos, format!("invalid parameter \"{}\"", a.text)),
                };
                balancer = Setting::at(
                    Balancer::Hash {
                        key: c.args[0].text.clone(),
                        consistent,
                    },
                    c.name.pos,
                );
                flags.backup = false;
            }
            "random" => {
                let two = match c.args.as_slice() {
                    [] => None,
                    [t, rest @ ..] if t.text == "two" => match rest {
                        [] => Some("least_conn".to_string()),
                        [m] if m.text == "least_conn" => Some(m.text.clone()),
                        [m, ..] => return error(m.pos, format!("invalid parameter \"{}\"", m.text)),
                    },
                    [t, ..] => return error(t.pos, format!("invalid parameter \"{}\"", t.text)),
                };
                balancer = Setting::at(Balancer::Random { two }, c.name.pos);
                flags.backup = false;
            }
            "keepalive" => {
                let a = &c.args[0];
                match atoi(&a.text).filter(|n| *n > 0) {
                    Some(v) => keepalive = Some(Located { value: v, pos: a.pos }),
                    None => return error(a.pos, format!("invalid value \"{}\" in \"{kw}\" directive", a.text)),
                }
            }
            "zone" => {
                zone = Some(Located {
                    value: c.args[0].text.clone(),
                    pos: c.args[0].pos,
                });
            }
            _ => {}
        }
    }
    if servers.is_empty() {
        // nginx finds it at the block's closing brace.
        return error(
            node.close.unwrap_or(node.name.pos),
            format!("no servers are inside upstream \"{}\"", name.text),
        );
    }
    Ok(Upstream {
        module,
        name: name.text.clone(),
        pos: Some(node.name.pos),
        balancer,
        keepalive,
        zone,
        servers,
        unresolved: false,
    })
}

/// `ngx_http_upstream_server()` / `ngx_stream_upstream_server()`.
fn server(node: &Node, module: Module, flags: Flags) -> Result<UpstreamServer, ParseError> {
    let addr = &node.args[0];
    let mut s = UpstreamServer {
        address: Located {
            value: addr.text.clone(),
            pos: addr.pos,
        },
        port: None,
        weight: Setting::default_of(1),
        max_fails: Setting::default_of(1),
        fail_timeout: Setting::default_of(Micros::from_secs(FAIL_TIMEOUT_S)),
        backup: None,
        down: None,
    };
    for p in &node.args[1..] {
        let t = p.text.as_str();
        let invalid = || -> Result<(), ParseError> {
            let plus = PLUS_SERVER_PARAMS
                .iter()
                .any(|k| t == *k || (k.ends_with('=') && t.starts_with(k)));
            let hint = if plus {
                format!(" (an NGINX Plus parameter; nginx {NGINX_VERSION} open source refuses it)")
            } else {
                String::new()
            };
            error(p.pos, format!("invalid parameter \"{t}\"{hint}"))
        };
        if let Some(v) = t.strip_prefix("weight=") {
            match atoi(v).filter(|n| *n > 0) {
                Some(n) => s.weight = Setting::at(n, p.pos),
                None => invalid()?,
            }
        } else if let Some(v) = t.strip_prefix("max_conns=") {
            if atoi(v).is_none() {
                invalid()?;
            }
        } else if let Some(v) = t.strip_prefix("max_fails=") {
            match atoi(v) {
                Some(n) => s.max_fails = Setting::at(n, p.pos),
                None => invalid()?,
            }
        } else if let Some(v) = t.strip_prefix("fail_timeout=") {
            match parse_time(v, true) {
                Some(secs) => {
                    s.fail_timeout =
                        Setting::at(Micros::from_secs(i64::try_from(secs.min(1 << 40)).unwrap_or(0)), p.pos)
                }
                None => invalid()?,
            }
        } else if t == "backup" {
            if !flags.backup {
                return error(p.pos, format!("balancing method does not support parameter \"{t}\""));
            }
            s.backup = Some(p.pos);
        } else if t == "down" {
            s.down = Some(p.pos);
        } else {
            invalid()?;
        }
    }
    if let Some(path) = addr.text.strip_prefix("unix:") {
        if path.is_empty() {
            return error(
                addr.pos,
                format!("no path in the unix domain socket in upstream \"{}\"", addr.text),
            );
        }
        return Ok(s);
    }
    match host_port(&addr.text) {
        Ok((_, Some(port))) => s.port = Some(port),
        Ok((_, None)) if module == Module::Http => s.port = Some(80),
        Ok((_, None)) => return error(addr.pos, format!("no port in upstream \"{}\"", addr.text)),
        Err(m) => return error(addr.pos, format!("{m} in upstream \"{}\"", addr.text)),
    }
    Ok(s)
}

/// `listen` parameters after the address (`ngx_http_core_listen()`, `ngx_stream_core_listen()`):
/// flags, and `name=value` ones by their prefix.
const LISTEN_FLAGS: &[&str] = &[
    "default_server",
    "default",
    "ssl",
    "http2",
    "spdy",
    "proxy_protocol",
    "deferred",
    "bind",
    "reuseport",
    "udp",
];
const LISTEN_VALUED: &[&str] = &[
    "setfib=",
    "fastopen=",
    "backlog=",
    "rcvbuf=",
    "sndbuf=",
    "accept_filter=",
    "ipv6only=",
    "so_keepalive=",
];

/// The port of a `listen` address (`listen 6443`, `127.0.0.1:6443`, `[::]:443`, `*:80`).
fn listen(node: &Node, module: Module) -> Result<Option<Setting<u16>>, ParseError> {
    let a = &node.args[0];
    for p in &node.args[1..] {
        let t = p.text.as_str();
        let known = LISTEN_FLAGS.contains(&t) || LISTEN_VALUED.iter().any(|k| t.starts_with(k));
        let allowed = !matches!(
            (module, t),
            (Module::Stream, "default_server" | "default" | "http2" | "spdy") | (Module::Http, "udp")
        );
        if !known || !allowed {
            return match module {
                Module::Http => error(p.pos, format!("invalid parameter \"{t}\"")),
                Module::Stream => error(p.pos, format!("the invalid \"{t}\" parameter")),
            };
        }
    }
    if a.text.starts_with("unix:") {
        return Ok(None);
    }
    let text = a.text.as_str();
    let port = if atoi(text).is_some() {
        atoi(text).filter(|n| (1..=65535).contains(n)).map(|n| n as u16)
    } else {
        match host_port(text) {
            Ok((_, Some(p))) => Some(p),
            Ok((_, None)) if module == Module::Http => Some(80),
            Ok((_, None)) => {
                return error(a.pos, format!("no port in \"{text}\" of the \"listen\" directive"));
            }
            Err(m) => return error(a.pos, format!("{m} in \"{text}\" of the \"listen\" directive")),
        }
    };
    match port {
        Some(p) => Ok(Some(Setting::at(p, a.pos))),
        None => error(a.pos, format!("invalid port in \"{text}\" of the \"listen\" directive")),
    }
}

/// A `proxy_pass` waiting for every upstream block to be known (nginx resolves them at the end).
#[derive(Debug)]
struct Pending {
    module: Module,
    server_pos: Pos,
    location: Option<Located<String>>,
    listen: Vec<Setting<u16>>,
    pass: Word,
    level: Level,
}

/// Reads the whole tree.
pub(super) fn read(nodes: &[Node], files: Vec<SourceFile>) -> Result<NginxConfig, ParseError> {
    let mut workers = Setting::default_of(Workers::Count(1));
    let mut upstreams: Vec<Upstream> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut seen_main: HashMap<&str, Pos> = HashMap::new();
    for n in nodes {
        let name = n.name.text.as_str();
        if matches!(name, "events" | "http" | "stream" | "worker_processes")
            && seen_main.insert(name, n.name.pos).is_some()
        {
            return error(n.name.pos, format!("\"{name}\" directive is duplicate"));
        }
        match name {
            "worker_processes" => {
                let a = &n.args[0];
                workers = if a.text == "auto" {
                    Setting::at(Workers::Auto, a.pos)
                } else {
                    match atoi(&a.text) {
                        Some(c) => Setting::at(Workers::Count(c), a.pos),
                        None => return error(a.pos, "\"worker_processes\" directive invalid value"),
                    }
                };
            }
            "stream" => block(n, Module::Stream, &mut upstreams, &mut pending)?,
            "http" => block(n, Module::Http, &mut upstreams, &mut pending)?,
            _ => {}
        }
    }
    if !seen_main.contains_key("events") {
        let p = nodes.first().map_or(
            Pos {
                file: 0,
                line: 1,
                column: 1,
            },
            |n| n.name.pos,
        );
        return error(p, "no \"events\" section in configuration");
    }
    let mut proxies = Vec::new();
    for p in pending {
        let upstream = resolve(&p, &mut upstreams)?;
        let l = &p.level;
        let (conds, timeout) = match p.module {
            Module::Stream => (vec![Condition::Error, Condition::Timeout], STREAM_TIMEOUT),
            Module::Http => (vec![Condition::Error, Condition::Timeout], READ_TIMEOUT),
        };
        proxies.push(Proxy {
            module: p.module,
            server_pos: p.server_pos,
            location: p.location,
            listen: p.listen,
            pass: Located {
                value: p.pass.text.clone(),
                pos: p.pass.pos,
            },
            upstream,
            connect_timeout: l
                .connect_timeout
                .clone()
                .unwrap_or(Setting::default_of(CONNECT_TIMEOUT)),
            next_upstream: l
                .next_upstream
                .clone()
                .unwrap_or(Setting::default_of(NextUpstream::On(conds))),
            next_upstream_tries: l.tries.clone().unwrap_or(Setting::default_of(0)),
            next_upstream_timeout: l.next_timeout.clone().unwrap_or(Setting::default_of(Micros::ZERO)),
            timeout: l.timeout.clone().unwrap_or(Setting::default_of(timeout)),
            http_version: (p.module == Module::Http)
                .then(|| l.http_version.clone().unwrap_or(Setting::default_of("1.0".to_string()))),
        });
    }
    Ok(NginxConfig {
        version: NGINX_VERSION,
        files,
        worker_processes: workers,
        upstreams,
        proxies,
    })
}

/// A `stream { }` or `http { }` block: its upstreams, then its servers.
fn block(
    node: &Node,
    module: Module,
    upstreams: &mut Vec<Upstream>,
    pending: &mut Vec<Pending>,
) -> Result<(), ParseError> {
    let children = node.children.as_deref().unwrap_or_default();
    let top = Level::read(children, module)?;
    for c in children.iter().filter(|c| c.is("upstream")) {
        let u = upstream(c, module)?;
        if upstreams
            .iter()
            .any(|o| o.module == module && o.pos.is_some() && o.name == u.name)
        {
            return error(c.args[0].pos, format!("duplicate upstream \"{}\"", u.name));
        }
        upstreams.push(u);
    }
    for srv in children.iter().filter(|c| c.is("server")) {
        let inner = srv.children.as_deref().unwrap_or_default();
        let mut ports = Vec::new();
        for l in inner.iter().filter(|c| c.is("listen")) {
            ports.extend(listen(l, module)?);
        }
        if ports.is_empty() {
            match module {
                Module::Stream => {
                    return error(srv.name.pos, "no \"listen\" is defined for server");
                }
                // ngx_http_core_server(): `listen *:80` (8000 when not run as root).
                Module::Http => ports.push(Setting::default_of(80)),
            }
        }
        let level = Level::read(inner, module)?.over(&top);
        match module {
            Module::Stream => {
                let passes: Vec<&Node> = inner.iter().filter(|c| c.is("proxy_pass")).collect();
                if let Some(dup) = passes.get(1) {
                    return error(dup.name.pos, "\"proxy_pass\" directive is duplicate");
                }
                if let Some(p) = passes.first() {
                    pending.push(Pending {
                        module,
                        server_pos: srv.name.pos,
                        location: None,
                        listen: ports.clone(),
                        pass: p.args[0].clone(),
                        level,
                    });
                }
            }
            Module::Http => {
                for loc in inner.iter().filter(|c| c.is("location")) {
                    locations(loc, srv.name.pos, &ports, &level, pending)?;
                }
            }
        }
    }
    Ok(())
}

/// An http `location` (and the `location`, `if` and `limit_except` blocks inside it).
fn locations(
    loc: &Node,
    server_pos: Pos,
    ports: &[Setting<u16>],
    parent: &Level,
    pending: &mut Vec<Pending>,
) -> Result<(), ParseError> {
    let inner = loc.children.as_deref().unwrap_or_default();
    let level = Level::read(inner, Module::Http)?.over(parent);
    let path = Located {
        value: loc.args.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join(" "),
        pos: loc.args.first().map_or(loc.name.pos, |a| a.pos),
    };
    let passes: Vec<&Node> = inner.iter().filter(|c| c.is("proxy_pass")).collect();
    if let Some(dup) = passes.get(1) {
        return error(dup.name.pos, "\"proxy_pass\" directive is duplicate");
    }
    if let Some(p) = passes.first() {
        pending.push(Pending {
            module: Module::Http,
            server_pos,
            location: Some(path.clone()),
            listen: ports.to_vec(),
            pass: p.args[0].clone(),
            level: level.clone(),
        });
    }
    for c in inner {
        if c.is("location") {
            locations(c, server_pos, ports, &level, pending)?;
        } else if c.is("if") || c.is("limit_except") {
            // Their own location configuration, inheriting this one's.
            let sub = c.children.as_deref().unwrap_or_default();
            let sub_level = Level::read(sub, Module::Http)?.over(&level);
            if let Some(p) = sub.iter().find(|n| n.is("proxy_pass")) {
                pending.push(Pending {
                    module: Module::Http,
                    server_pos,
                    location: Some(path.clone()),
                    listen: ports.to_vec(),
                    pass: p.args[0].clone(),
                    level: sub_level,
                });
            }
        }
    }
    Ok(())
}

/// The upstream a `proxy_pass` names: an `upstream` block of the same module, or an implicit
/// one-server upstream for an address; `None` when the target holds variables.
fn resolve(p: &Pending, upstreams: &mut Vec<Upstream>) -> Result<Option<usize>, ParseError> {
    let w = &p.pass;
    if w.text.contains('$') {
        return Ok(None);
    }
    let (target, default_port) = match p.module {
        Module::Stream => (w.text.clone(), None),
        Module::Http => {
            let lower = w.text.to_ascii_lowercase();
            let (rest, port) = if lower.starts_with("http://") {
                (&w.text[7..], 80)
            } else if lower.starts_with("https://") {
                (&w.text[8..], 443)
            } else {
                return error(w.pos, format!("invalid URL prefix in \"{}\"", w.text));
            };
            let hostport = rest.split('/').next().unwrap_or_default();
            (hostport.to_string(), Some(port))
        }
    };
    let block_named = |name: &str| {
        upstreams
            .iter()
            .position(|u| u.module == p.module && u.pos.is_some() && u.name == name)
    };
    if let Some(i) = block_named(&target) {
        return Ok(Some(i));
    }
    let hint = |name: &str| -> String {
        let names = upstreams
            .iter()
            .filter(|u| u.module == p.module && u.pos.is_some())
            .map(|u| u.name.as_str());
        let near = names
            .map(|n| (strsim::damerau_levenshtein(name, n), n))
            .filter(|(d, _)| *d <= 3)
            .min_by_key(|(d, _)| *d);
        let module = match p.module {
            Module::Stream => "stream",
            Module::Http => "http",
        };
        match near {
            Some((_, n)) => format!("; no {module} upstream block is named \"{name}\"; did you mean \"{n}\"?"),
            None => format!("; no {module} upstream block is named \"{name}\""),
        }
    };
    if target.starts_with("unix:") {
        return Ok(Some(implicit(p.module, &target, None, w.pos, upstreams)));
    }
    let (host, port) = match host_port(&target) {
        Ok(hp) => hp,
        Err(m) => return error(w.pos, format!("{m} in upstream \"{target}\"")),
    };
    if let (Some(_), Some(port)) = (block_named(&host), port) {
        return error(w.pos, format!("upstream \"{host}\" may not have port {port}"));
    }
    let port = match (port, default_port) {
        (Some(p), _) => p,
        (None, Some(d)) => d,
        (None, None) => return error(w.pos, format!("no port in upstream \"{target}\"{}", hint(&target))),
    };
    if !is_ip_literal(&host) && !host.contains('.') {
        // A bare name that is no upstream block: nginx would look it up in DNS at start.
        return error(
            w.pos,
            format!(
                "host not found in upstream \"{host}\"{} (graceline does not resolve host names)",
                hint(&host)
            ),
        );
    }
    let i = implicit(p.module, &format!("{host}:{port}"), Some(port), w.pos, upstreams);
    upstreams[i].unresolved = !is_ip_literal(&host);
    Ok(Some(i))
}

/// The implicit upstream of an address (one per distinct address, as `ngx_*_upstream_add()`).
fn implicit(module: Module, address: &str, port: Option<u16>, pos: Pos, upstreams: &mut Vec<Upstream>) -> usize {
    if let Some(i) = upstreams
        .iter()
        .position(|u| u.module == module && u.pos.is_none() && u.name == address)
    {
        return i;
    }
    upstreams.push(Upstream {
        module,
        name: address.to_string(),
        pos: None,
        balancer: Setting::default_of(Balancer::RoundRobin),
        keepalive: None,
        zone: None,
        servers: vec![UpstreamServer {
            address: Located {
                value: address.to_string(),
                pos,
            },
            port,
            weight: Setting::default_of(1),
            max_fails: Setting::default_of(1),
            fail_timeout: Setting::default_of(Micros::from_secs(FAIL_TIMEOUT_S)),
            backup: None,
            down: None,
        }],
        unresolved: false,
    });
    upstreams.len() - 1
}
