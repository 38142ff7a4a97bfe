//! Keywords HAProxy knows in the sections graceline reads (`defaults`, `backend`, `listen` and
//! their `server` / `default-server` lines), so a misspelling is refused at its token with the
//! nearest known keyword, as HAProxy does ("unknown keyword 'intr'; did you mean 'inter' maybe ?").
//!
//! Sources: `haproxy -dKcfg` of HAProxy 2.6.12 (registered server and proxy keywords), the
//! built-in keywords of `cfg_parse_listen()` in src/cfgparse-listen.c, and the 2.8–3.x manual
//! sections 4.1 (proxy keyword matrix), 4.2 (`option` list) and 5.2 (server keywords) for the
//! keywords added since 2.6. Keywords HAProxy removed (e.g. `reqadd`) are not listed: it refuses them.

use super::{error, ParseError, Pos};

/// Keywords of `defaults`, `backend` and `listen` sections (first word of a line).
pub(super) const PROXY: &[&str] = &[
    "acl",
    "backlog",
    "balance",
    "bind",
    "bind-process",
    "capture",
    "clitcpka-cnt",
    "clitcpka-idle",
    "clitcpka-intvl",
    "clitimeout",
    "compression",
    "contimeout",
    "cookie",
    "declare",
    "default-server",
    "default_backend",
    "description",
    "disabled",
    "dispatch",
    "dynamic-cookie-key",
    "email-alert",
    "enabled",
    "errorfile",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "error-log-format",
    "external-check",
    "filter",
    "force-persist",
    "fullconn",
    "guid",
    "hash-balance-factor",
    "hash-key",
    "hash-preserve-affinity",
    "hash-type",
    "http-after-response",
    "http-check",
    "http-error",
    "http-request",
    "http-response",
    "http-reuse",
    "http-send-name-header",
    "id",
    "ignore-persist",
    "load-server-state-from-file",
    "log",
    "log-format",
    "log-format-sd",
    "log-steps",
    "log-tag",
    "max-keep-alive-queue",
    "max-session-srv-conns",
    "maxconn",
    "mode",
    "monitor",
    "monitor-uri",
    "option",
    "persist",
    "quic-initial",
    "rate-limit",
    "redirect",
    "redispatch",
    "retries",
    "retry-on",
    "server",
    "server-state-file-name",
    "server-template",
    "source",
    "srvtcpka-cnt",
    "srvtcpka-idle",
    "srvtcpka-intvl",
    "srvtimeout",
    "stats",
    "stick",
    "stick-table",
    "tcp-check",
    "tcp-request",
    "tcp-response",
    "timeout",
    "transparent",
    "unique-id-format",
    "unique-id-header",
    "use-fcgi-app",
    "use-server",
    "use_backend",
];

/// `option` names (section 4.2), including the check-selecting ones.
pub(super) const OPTIONS: &[&str] = &[
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "accept-unsafe-violations-in-http-request",
    "accept-unsafe-violations-in-http-response",
    "allbackups",
    "checkcache",
    "clitcpka",
    "contstats",
    "disable-h2-upgrade",
    "dontlog-normal",
    "dontlognull",
    "external-check",
    "forwarded",
    "forwardfor",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "http-buffer-request",
    "http-drop-request-trailers",
    "http-drop-response-trailers",
    "http-ignore-probes",
    "http-keep-alive",
    "http-no-delay",
    "http-pretend-keepalive",
    "http-restrict-req-hdr-names",
    "http-server-close",
    "http-use-proxy-header",
    "http_proxy",
    "httpchk",
    "httpclose",
    "httplog",
    "httpslog",
    "idle-close-on-response",
    "independent-streams",
    "ldap-check",
    "log-health-checks",
    "log-separate-errors",
    "logasap",
    "mysql-check",
    "nolinger",
    "originalto",
    "persist",
    "pgsql-check",
    "prefer-last-server",
    "redis-check",
    "redispatch",
    "smtpchk",
    "socket-stats",
    "splice-auto",
    "splice-request",
    "splice-response",
    "spop-check",
    "srvtcpka",
    "ssl-hello-chk",
    "tcp-check",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "tcpka",
    "tcplog",
    "transparent",
    "use-small-buffers",
];

/// `timeout` names (section 4.2, "timeout").
pub(super) const TIMEOUTS: &[&str] = &[
    "check",
    "client",
    "client-fin",
    "client-hs",
    "connect",
    "handshake",
    "http-keep-alive",
    "http-request",
    "queue",
    "server",
    "server-fin",
    "tarpit",
    "tunnel",
];

/// Server and default-server keywords that take no argument (section 5.2); the ones taking one
/// are `SERVER_KW_ONE_ARG` in sections.rs.
pub(super) const SERVER_FLAGS: &[&str] = &[
    "agent-check",
    "allow-0rtt",
    "backup",
    "check",
    "check-reuse-pool",
    "check-send-proxy",
    "check-ssl",
    "check-via-socks4",
    "disabled",
    "enabled",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-reuse-pool",
    "no-check-send-proxy",
    "no-check-ssl",
    "no-renegotiate",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-strict-maxconn",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "non-stick",
    "renegotiate",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "ssl",
    "ssl-reuse",
    "stick",
    "strict-maxconn",
    "tfo",
    "tls-tickets",
];

/// The known keyword nearest to `word` (Damerau–Levenshtein distance at most 3), if any.
pub(super) fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The error for an unknown keyword, with HAProxy's "did you mean" suggestion.
pub(super) fn unknown<'a, T>(
    pos: Pos,
    word: &str,
    context: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Result<T, ParseError> {
    let hint = nearest(word, known).map_or_else(String::new, |k| format!("; did you mean '{k}'?"));
    error(
        pos,
        format!("unknown keyword '{word}' {context}{hint} (HAProxy refuses it)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_the_nearest_keyword() {
        let server = SERVER_FLAGS.iter().copied().chain(["inter", "fall", "rise"]);
        assert_eq!(nearest("intr", server.clone()), Some("inter"));
        assert_eq!(nearest("fal", server), Some("fall"));
        assert_eq!(nearest("optoin", PROXY.iter().copied()), Some("option"));
        assert_eq!(nearest("htttpchk", OPTIONS.iter().copied()), Some("httpchk"));
        assert_eq!(nearest("chekc", TIMEOUTS.iter().copied()), Some("check"));
        assert_eq!(nearest("zzzzzzzzzzzz", TIMEOUTS.iter().copied()), None);
    }
}
