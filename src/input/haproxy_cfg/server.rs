//! `server` and `default-server` keywords (section 5.2): the check settings a server line carries.

use super::keywords;
use super::lex::{arg_of, parse_count, parse_timer, Token};
use super::{error, Located, ParseError, Pos};

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

/// Settings carried by `default-server` and copied into each later `server` (section 5.2).
#[derive(Debug, Clone, Default)]
pub(super) struct ServerSettings {
    pub(super) check: bool,
    pub(super) check_pos: Option<Pos>,
    /// `check-ssl` (true) or `no-check-ssl` (false).
    pub(super) check_ssl: Option<bool>,
    /// `ssl` (true) or `no-ssl` (false) for the production traffic.
    pub(super) ssl: Option<bool>,
    /// A check `port` or `addr` was given: checks then do not inherit the server's `ssl`.
    pub(super) check_port_or_addr: bool,
    pub(super) inter: Option<Located<u64>>,
    pub(super) fastinter: Option<Located<u64>>,
    pub(super) downinter: Option<Located<u64>>,
    pub(super) fall: Option<Located<u32>>,
    pub(super) rise: Option<Located<u32>>,
    /// `port N`: the port checks connect to.
    pub(super) check_port: Option<Located<u16>>,
    /// `track [<backend>/]<server>`: the state follows another server's checks.
    pub(super) track: Option<Located<String>>,
    /// `healthcheck <name>` (HAProxy 3.x `healthcheck` sections).
    pub(super) healthcheck: Option<Located<String>>,
}

impl ServerSettings {
    /// Applies server keywords; unknown keywords are treated as flags.
    pub(super) fn apply(&mut self, params: &[Token]) -> Result<(), ParseError> {
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
                    if kw == "port" {
                        let v = arg_of(params, i, kw)?;
                        match v.text.parse::<u16>() {
                            Ok(p) if p > 0 => self.check_port = Some(Located { value: p, pos: v.pos }),
                            _ => return error(v.pos, format!("'port' expects a port number, got '{}'", v.text)),
                        }
                    }
                    i += 1;
                }
                "track" | "healthcheck" => {
                    let v = arg_of(params, i, kw)?.located();
                    if kw == "track" {
                        self.track = Some(v);
                    } else {
                        // Located at the keyword, which is what graceline refuses.
                        self.healthcheck = Some(Located {
                            value: v.value,
                            pos: tok.pos,
                        });
                    }
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
                _ if keywords::SERVER_FLAGS.contains(&kw) => {}
                _ => {
                    let known = keywords::SERVER_FLAGS.iter().chain(SERVER_KW_ONE_ARG).copied().chain([
                        "inter",
                        "fastinter",
                        "downinter",
                        "fall",
                        "rise",
                    ]);
                    return keywords::unknown(tok.pos, &tok.text, "on a server line", known);
                }
            }
            i += 1;
        }
        Ok(())
    }
}
