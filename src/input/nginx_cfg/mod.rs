//! Reader of nginx configuration (`nginx.conf` with its includes, or the output of `nginx -T`)
//! for the parts that decide what clients see when an upstream server goes away: the `stream`
//! and `http` `upstream` blocks and the `server`/`location` blocks that `proxy_pass` to them.
//!
//! nginx open source has no active health checks: it learns that a server is gone only from
//! failed connections (`max_fails` within `fail_timeout`), and hides a failure from the client by
//! trying the next server (`proxy_next_upstream`). So the output is the upstreams (each server
//! with `weight`, `max_fails`, `fail_timeout`, `backup`, `down`; the balancer; `keepalive`;
//! `zone`) and the proxies in front of them (listen ports, connect timeout, next-upstream policy,
//! tries, timeouts), every value with where it was written or, when not written, the default of
//! [`NGINX_VERSION`] (`pos: None`). `Passive::from_nginx` (passive.rs) hands one server's settings
//! to [`crate::provider::nginx`], which says what a restart or a black-holed host costs the clients.
//!
//! The grammar is nginx's own: `ngx_conf_read_token()` for words, the modules' `ngx_command_t`
//! tables for which directive is allowed where and with how many arguments, and the handlers'
//! messages for bad values, so a file is refused where `nginx -t` refuses it, with nginx's words
//! and a line and column (plus a "did you mean" for a misspelt directive). A template (`{{ }}`,
//! `{% %}`) is refused with "render it first".
//!
//! Defaults (nginx 1.22.1, src/stream/ngx_stream_proxy_module.c `ngx_stream_proxy_merge_srv_conf()`,
//! src/http/modules/ngx_http_proxy_module.c `ngx_http_proxy_merge_loc_conf()`,
//! src/http/ngx_http_upstream.c `ngx_http_upstream_server()`):
//! stream `proxy_next_upstream on`, `proxy_connect_timeout 60s`, `proxy_timeout 10m`; http
//! `proxy_next_upstream error timeout` (a non-idempotent request — POST, LOCK, PATCH — is not
//! passed on once sent, unless `non_idempotent`), `proxy_connect_timeout 60s`,
//! `proxy_read_timeout 60s`, `proxy_http_version 1.0`; both `proxy_next_upstream_tries 0` and
//! `proxy_next_upstream_timeout 0` (unlimited); `server … max_fails=1 fail_timeout=10s weight=1`;
//! `worker_processes 1`.

mod directives;
mod lex;
mod passive;
mod read;
#[cfg(test)]
mod tests;
mod tree;

pub use crate::provider::nginx::{Condition, Module, NextUpstream};
use crate::time::Micros;
use std::fmt;
use std::path::Path;

/// The nginx version whose grammar and defaults this reader applies (Debian 12's package).
pub const NGINX_VERSION: &str = "1.22.1";

/// A 1-based source position; `column` counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Index into [`NginxConfig::files`].
    pub file: u32,
    /// 1-based line (in an `nginx -T` dump, the dump's line).
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
}

/// A value with the position of the word it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where its word starts.
    pub pos: Pos,
}

/// A setting as nginx applies it: written at `pos`, or the default of [`NGINX_VERSION`] (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The effective value.
    pub value: T,
    /// Where it was written (its value word); `None` for the default.
    pub pos: Option<Pos>,
}

impl<T> Setting<T> {
    /// The default of [`NGINX_VERSION`].
    pub fn default_of(value: T) -> Self {
        Setting { value, pos: None }
    }

    /// A value written at `pos`.
    pub fn at(value: T, pos: Pos) -> Self {
        Setting { value, pos: Some(pos) }
    }
}

/// A configuration error, located as `nginx -t` locates it (plus the column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file to show (the dump for an `nginx -T` dump).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// What is wrong, in nginx's words where nginx has words for it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// One file the configuration was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Where positions in it point: the file itself, or the `nginx -T` dump holding it.
    pub shown: String,
    /// The path nginx knows it by (the `include` target, or the dump's `# configuration file`).
    pub path: String,
    /// The text of an `include` read from disk (`None` for the main file and a dump's sections,
    /// whose text the caller already holds), kept so no one reads it again.
    pub text: Option<String>,
}

/// How an upstream picks a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balancer {
    /// Weighted round-robin (the default).
    RoundRobin,
    /// `least_conn`: fewest active connections (weighted), round-robin among ties.
    LeastConn,
    /// `ip_hash` (http only): by the client address.
    IpHash,
    /// `hash <key> [consistent]`.
    Hash {
        /// The key expression.
        key: String,
        /// `consistent` (ketama).
        consistent: bool,
    },
    /// `random [two [<method>]]`.
    Random {
        /// `two`: the better of two random picks, by this method (`least_conn` by default).
        two: Option<String>,
    },
}

/// One `server` line of an upstream (or the address of a `proxy_pass` without an upstream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamServer {
    /// The address as written (`10.0.0.1:6443`, `unix:/run/s.sock`, `api.example:443`).
    pub address: Located<String>,
    /// The port connections go to: written, or 80 for an http upstream server without one;
    /// `None` for a UNIX socket.
    pub port: Option<u16>,
    /// `weight=` (1).
    pub weight: Setting<u32>,
    /// `max_fails=` (1; 0 turns failure accounting off).
    pub max_fails: Setting<u32>,
    /// `fail_timeout=` (10 s; whole seconds, as nginx reads it).
    pub fail_timeout: Setting<Micros>,
    /// `backup`: used only when every primary server is unavailable.
    pub backup: Option<Pos>,
    /// `down`: never used.
    pub down: Option<Pos>,
}

/// An `upstream` block, or the implicit one-server upstream of `proxy_pass <address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `stream` or `http`.
    pub module: Module,
    /// The block's name, or the address for an implicit upstream.
    pub name: String,
    /// The `upstream` keyword; `None` for an implicit upstream.
    pub pos: Option<Pos>,
    /// How it picks a server.
    pub balancer: Setting<Balancer>,
    /// `keepalive N` (http): idle connections to the servers each worker keeps for reuse.
    pub keepalive: Option<Located<u32>>,
    /// `zone <name>`: the peers' state (fail counts) is shared by all workers.
    pub zone: Option<Located<String>>,
    /// Its servers, in order.
    pub servers: Vec<UpstreamServer>,
    /// An implicit upstream to a host name nginx resolves at start (one peer per address).
    pub unresolved: bool,
}

/// `worker_processes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// A fixed count.
    Count(u32),
    /// `auto`: one per CPU of the host (unknown here).
    Auto,
}

/// A `server` (stream) or `location` (http) that passes connections or requests to an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `stream` or `http`.
    pub module: Module,
    /// The enclosing `server` keyword.
    pub server_pos: Pos,
    /// The http `location` (its path as written); `None` for stream.
    pub location: Option<Located<String>>,
    /// The ports clients connect to (`listen`); http without `listen` listens on 80.
    pub listen: Vec<Setting<u16>>,
    /// The `proxy_pass` argument.
    pub pass: Located<String>,
    /// Index into [`NginxConfig::upstreams`]; `None` when the target holds variables (resolved
    /// per request).
    pub upstream: Option<usize>,
    /// `proxy_connect_timeout` (60 s): how long a connect to a silent (black-holed) server waits.
    pub connect_timeout: Setting<Micros>,
    /// `proxy_next_upstream`.
    pub next_upstream: Setting<NextUpstream>,
    /// `proxy_next_upstream_tries` (0: as many as the upstream has servers).
    pub next_upstream_tries: Setting<u32>,
    /// `proxy_next_upstream_timeout` (0: unlimited).
    pub next_upstream_timeout: Setting<Micros>,
    /// Stream `proxy_timeout` (10 m) or http `proxy_read_timeout` (60 s).
    pub timeout: Setting<Micros>,
    /// http `proxy_http_version` (`1.0`; upstream keep-alive needs `1.1`); `None` for stream.
    pub http_version: Option<Setting<String>>,
}

/// What the reader extracts from one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxConfig {
    /// The version whose grammar and defaults were applied ([`NGINX_VERSION`]).
    pub version: &'static str,
    /// Every file read, indexed by [`Pos::file`].
    pub files: Vec<SourceFile>,
    /// `worker_processes` (1): without a `zone`, each worker counts failures on its own.
    pub worker_processes: Setting<Workers>,
    /// Upstream blocks and implicit upstreams, in order of appearance.
    pub upstreams: Vec<Upstream>,
    /// Every proxying `server`/`location`, in order of appearance.
    pub proxies: Vec<Proxy>,
}

impl NginxConfig {
    /// The file a position points into.
    pub fn file_of(&self, pos: Pos) -> &str {
        self.files.get(pos.file as usize).map_or("", |f| f.shown.as_str())
    }

    /// The proxies that pass to upstream `index`.
    pub fn proxies_of(&self, index: usize) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(move |p| p.upstream == Some(index))
    }

    /// Backend selection by the server's port, as for HAProxy: the indexes of the upstreams with a
    /// (non-`down`) server on `port`.
    pub fn upstreams_with_port(&self, port: u16) -> Vec<usize> {
        self.upstreams
            .iter()
            .enumerate()
            .filter(|(_, u)| u.servers.iter().any(|s| s.down.is_none() && s.port == Some(port)))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Reads a configuration file from disk: `include`s are read relative to its directory, as nginx
/// reads them relative to the directory of `-c`. An `nginx -T` dump (it starts with
/// `# configuration file <path>:`) is read from its own sections instead.
pub fn parse_file(path: &Path) -> Result<NginxConfig, ParseError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        file: shown.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let prefix = path
        .parent()
        .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
    parse_str(&shown, &text, &prefix)
}

/// Reads a configuration from text named `name`; a plain file's `include`s are read from disk
/// relative to `prefix`; an `nginx -T` dump is read from its own sections.
pub fn parse_str(name: &str, text: &str, prefix: &Path) -> Result<NginxConfig, ParseError> {
    let (files, main, main_source, offset) = match tree::split_dump(text) {
        Some(sections) => {
            let (first_path, first_text, first_offset) = sections[0].clone();
            let prefix = Path::new(&first_path)
                .parent()
                .map_or_else(|| prefix.to_path_buf(), Path::to_path_buf);
            let map = sections.into_iter().map(|(p, t, o)| (p, (t, o))).collect();
            (
                tree::Files::Dump {
                    prefix,
                    sections: map,
                    shown: name.to_string(),
                },
                first_text,
                SourceFile {
                    shown: name.to_string(),
                    path: first_path,
                    text: None,
                },
                first_offset,
            )
        }
        None => (
            tree::Files::Disk {
                prefix: prefix.to_path_buf(),
            },
            text.to_string(),
            SourceFile {
                shown: name.to_string(),
                path: name.to_string(),
                text: None,
            },
            0,
        ),
    };
    let mut b = tree::Builder::new(&files);
    let nodes = b.main(&main, main_source, offset);
    let sources = std::mem::take(&mut b.sources);
    let locate = |e: ParseError| locate(&sources, e);
    let nodes = nodes.map_err(locate)?;
    read::read(&nodes, sources.clone()).map_err(locate)
}

/// Turns an internal error (whose `file` is an index) into one naming the file; in a dump, the
/// original file and its own line are named too, as nginx names them.
fn locate(sources: &[SourceFile], mut e: ParseError) -> ParseError {
    let idx: usize = e.file.parse().unwrap_or(0);
    if let Some(src) = sources.get(idx) {
        if src.shown != src.path {
            e.message = format!("{} (in {})", e.message, src.path);
        }
        e.file.clone_from(&src.shown);
    }
    e
}

/// An internal error at `pos` (its file as an index until [`locate`] names it).
pub(super) fn error<T>(pos: Pos, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        file: pos.file.to_string(),
        line: pos.line,
        column: pos.column,
        message: message.into(),
    })
}
