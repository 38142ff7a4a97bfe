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

mod checks;
pub mod cond;
mod keywords;
mod lex;
mod sections;
mod server;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use sections::Parser;

/// A 1-based source position; `column` counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Index of the file in the configuration (0 for the first `-f`).
    pub file: u32,
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
    /// Index of the file in the configuration.
    pub file: u32,
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
    /// The HTTP check request; `None` for a TCP-connect or other non-HTTP check. A `tcp-check`
    /// ruleset that sends an HTTP request line and expects an answer counts as HTTP.
    pub http_check: Option<HttpCheck>,
    /// `port N` on the server (or `tcp-check connect port N`): checks go to another port.
    pub check_port: Option<Located<u16>>,
    /// `track [<backend>/]<server>`: this server's state follows another server's checks.
    pub track: Option<Located<String>>,
    /// Why graceline cannot model this server's check (`option external-check`, a 3.x
    /// `healthcheck` section), with the keyword's position.
    pub refusal: Option<Located<String>>,
    /// `retries` of the backend (or its defaults).
    pub retries: Option<Located<u32>>,
    /// `option redispatch` of the backend (or its defaults).
    pub redispatch: Option<Located<bool>>,
    /// Port ranges clients connect to on the way to this server, sorted: its `listen` section's
    /// own `bind` lines and those of every frontend or listen whose `default_backend` or
    /// `use_backend` names its section. A server address without a port (or with a `+N`/`-N`
    /// offset) sends to the port the client connected to (manual 5.2, `server` <address>).
    pub client_ports: Vec<(u16, u16)>,
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
    /// The `http-check expect` rules of the ruleset, as `[!] <match> <pattern>`; all must match.
    /// None: HAProxy's default, any 2xx or 3xx status.
    pub expects: Vec<Located<String>>,
}

/// How the configuration is read: the environment and the HAProxy build it is read for.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Environment variables for `"${VAR}"` and `defined(VAR)`.
    pub env: HashMap<String, String>,
    /// Version and features for `.if` predicates.
    pub build: cond::Build,
    /// Where `build.version` comes from, in words (`--haproxy-version 2.8.16`, an image tag and
    /// its location); `None`: graceline's default. The checks' timer follows the version too.
    pub version_from: Option<String>,
}

/// Parses the text of one `haproxy.cfg` file with an empty environment.
pub fn parse(text: &str) -> Result<HaproxyConfig, ParseError> {
    parse_files(&[text], &ReadOptions::default())
}

/// Parses several files as one configuration, in order, as `haproxy -f A -f B` does: sections
/// and defaults carry over from one file to the next; positions carry the file's index.
pub fn parse_files(texts: &[&str], opts: &ReadOptions) -> Result<HaproxyConfig, ParseError> {
    let mut parser = Parser::new(opts);
    for (file, text) in texts.iter().enumerate() {
        missing_final_lf(to_u32(file), text)?;
        parser.start_file(to_u32(file));
        for (idx, raw) in text.split('\n').enumerate() {
            parser.line(raw, to_u32(idx.saturating_add(1)))?;
        }
        // A conditional block must close in the file that opened it (HAProxy 2.6).
        parser.end_file()?;
    }
    parser.finish()
}

/// HAProxy 2.6 refuses a file whose last line does not end with a line feed, even a comment
/// (`readcfgfile()` in src/cfgparse.c: "Missing LF on last line, file might have been truncated
/// at position N", N the 1-based position after the last character; checked with `haproxy -c`).
fn missing_final_lf(file: u32, text: &str) -> Result<(), ParseError> {
    if text.is_empty() || text.ends_with('\n') {
        return Ok(());
    }
    let last = text.rsplit('\n').next().unwrap_or_default();
    let line = to_u32(text.matches('\n').count().saturating_add(1));
    let column = to_u32(last.chars().count().saturating_add(1));
    error(
        Pos { file, line, column },
        format!(
            "Missing LF on last line, file might have been truncated at position {column}: HAProxy refuses a file that does not end with a newline"
        ),
    )
}

pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn error<T>(pos: Pos, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        file: pos.file,
        line: pos.line,
        column: pos.column,
        message: message.into(),
    })
}
