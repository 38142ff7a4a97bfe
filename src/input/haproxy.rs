//! haproxy.cfg: every `server` with `check` in a `backend` or `listen` section becomes one
//! load-balancer-to-server check named `section/server`; a `server` without `check` becomes one
//! marked `unchecked` (HAProxy never takes it out: GL008). HAProxy's knobs are located on the
//! user's lines (the `inter` value on the server line or its `default-server`, the `timeout check`
//! line, the `option httpchk` URI, the global `spread-checks`).
//!
//! Mapping: `option httpchk` / `http-check send` (or a `tcp-check` ruleset sending an HTTP request
//! line and expecting an answer) → HTTP with the request path, HTTPS when the check runs over TLS
//! (`check-ssl`, `ssl` without a check port, `http-check connect ssl`, `tcp-check connect ssl`);
//! any other check (plain `check`, `ssl-hello-chk`, …) → TCP. A server with `track` takes the
//! tracked server's check. Checks graceline cannot model (`option external-check`, a TCP check on
//! another port, 3.x `healthcheck`) are refused when the LB is judged. `http-check expect` rules →
//! the success matcher (all must match; without one HAProxy accepts 2xx and 3xx). `timeout check 0` and
//! `timeout connect 0` mean unset, as in HAProxy (`tick_add_ifset`).

use super::haproxy_cfg::{self, Pos, ReadOptions};
use crate::error::{InputError, Loc};
use crate::provider::{haproxy, LbSettings, Located, Protocol};
use crate::scenario::LbInput;
use crate::time::Micros;
use std::collections::HashMap;

/// The names of the files of one configuration, indexed by [`Pos::file`].
type Files<'a> = &'a [&'a str];

fn at(files: Files, p: Pos) -> Loc {
    Loc {
        file: files.get(p.file as usize).copied().unwrap_or_default().to_string(),
        line: p.line,
        column: p.column,
    }
}

fn located<T>(file: Files, v: T, p: Pos) -> Located<T> {
    Located {
        value: v,
        loc: at(file, p),
        from_profile: false,
    }
}

fn micros(file: Files, v: &Option<haproxy_cfg::Located<u64>>) -> Option<Located<Micros>> {
    v.as_ref()
        .filter(|l| l.value > 0)
        .map(|l| located(file, Micros(i64::try_from(l.value).unwrap_or(i64::MAX)), l.pos))
}

/// The port of a server address (`10.0.0.1:6443`, `[::1]:6443`, `ipv4@host:6443`); none when the
/// address has no port or a `+N`/`-N` offset (the port then comes from the client's connection).
pub fn port_of(address: &str) -> Option<u16> {
    let (_, port) = address.rsplit_once(':')?;
    if port.starts_with(['+', '-']) || address.ends_with(']') {
        return None;
    }
    port.parse::<u16>().ok().filter(|p| *p > 0)
}

/// The host part of a server address, without an `ipv4@`-style prefix or brackets.
fn host_of(address: &str) -> &str {
    let a = address.rsplit_once('@').map_or(address, |(_, a)| a);
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match a.rsplit_once(':') {
        Some((h, _)) if !h.contains(':') => h,
        Some(_) => a,
        None => a,
    }
}

/// Whether the address is a UNIX socket (`/path`, `unix@...`, `abns@...`): no port at all.
fn is_socket(address: &str) -> bool {
    address.starts_with('/')
        || ["unix@", "abns@", "sockpair@", "fd@"]
            .iter()
            .any(|p| address.starts_with(p))
}

/// `0.0.0.0` / `*` / `::`: HAProxy connects to the destination the client connected to, or the
/// one `set-dst` chose (manual 5.2, `server` <address>; 4.2 `http-request set-dst`): a dynamic
/// next hop, not a server graceline can judge.
pub fn is_dynamic_next_hop(address: &str) -> bool {
    matches!(host_of(address), "0.0.0.0" | "*" | "::")
}

/// The largest number of client ports a port-less server is selected by (bigger bind ranges
/// leave its ports unknown).
const MAX_CLIENT_PORTS: usize = 1024;

/// The ports traffic reaches a server on: the address's port, or for a port-less address (or a
/// `+N`/`-N` offset) the ports clients connect to on the binds that lead to it, shifted by the
/// offset. Empty when unknown.
pub fn traffic_ports(address: &str, client_ports: &[(u16, u16)]) -> Vec<u16> {
    if let Some(p) = port_of(address) {
        return vec![p];
    }
    if is_socket(address) {
        return Vec::new();
    }
    let offset: i32 = match address.rsplit_once(':') {
        Some((_, p)) if p.starts_with(['+', '-']) && !address.ends_with(']') => p.parse().unwrap_or(0),
        _ => 0,
    };
    let total: usize = client_ports.iter().map(|(lo, hi)| usize::from(hi - lo) + 1).sum();
    if total > MAX_CLIENT_PORTS {
        return Vec::new();
    }
    let mut out: Vec<u16> = client_ports
        .iter()
        .flat_map(|&(lo, hi)| lo..=hi)
        .filter_map(|p| u16::try_from(i32::from(p) + offset).ok().filter(|p| *p > 0))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Reads the checks of one haproxy.cfg with an empty environment.
pub fn lbs(file: &str, text: &str) -> Result<Vec<LbInput>, InputError> {
    lbs_of(&[file], &[text], &ReadOptions::default())
}

/// Reads several files as one configuration (`haproxy -f A -f B`), `names[i]` naming `texts[i]`.
pub fn lbs_of(names: &[&str], texts: &[&str], opts: &ReadOptions) -> Result<Vec<LbInput>, InputError> {
    let file = names;
    let cfg = haproxy_cfg::parse_files(texts, opts).map_err(|e| {
        InputError::new(
            Loc {
                file: names.get(e.file as usize).copied().unwrap_or_default().to_string(),
                line: e.line,
                column: e.column,
            },
            "",
            e.message,
        )
    })?;
    let mut out: Vec<LbInput> = Vec::new();
    // Index of every server by `backend/server`, for duplicates and `track` (linear in servers).
    let mut by_name: HashMap<String, usize> = HashMap::with_capacity(cfg.servers.len());
    for (i, srv) in cfg.servers.iter().enumerate() {
        let name = format!("{}/{}", srv.section, srv.server);
        if let Some(&first) = by_name.get(&name) {
            if srv.check || cfg.servers[first].check {
                return Err(InputError::new(
                    at(file, srv.pos),
                    "server",
                    format!(
                        "server '{}' is declared twice in '{}' (first at line {}); HAProxy refuses this",
                        srv.server, srv.section, cfg.servers[first].pos.line
                    ),
                ));
            }
        }
        by_name.insert(name, i);
    }
    // Every server: one without `check` (nor `track`) is never taken out, which GL008 reports.
    for own in &cfg.servers {
        let name = format!("{}/{}", own.section, own.server);
        let loc = at(file, own.pos);
        if is_dynamic_next_hop(&own.address) {
            // Not a server: where it sends depends on each connection (transparent or set-dst).
            continue;
        }
        let ports = traffic_ports(&own.address, &own.client_ports);
        let portless = port_of(&own.address).is_none() && !is_socket(&own.address);
        if own.check && own.track.is_none() && portless && own.check_port.is_none() {
            // HAProxy 2.6: "proxy 'p': server 's' has neither service port nor check port."
            return Err(InputError::new(
                loc,
                "server",
                format!(
                    "proxy '{}': server '{}' has neither service port nor check port; HAProxy refuses this (give the address a port, or the server 'port N')",
                    own.section, own.server
                ),
            ));
        }
        // `track`: the state follows the tracked server's checks (manual 5.2, "track"), so its
        // settings are the ones that decide when this server leaves the rotation.
        let srv = match &own.track {
            None => own,
            Some(t) => {
                let target = if t.value.contains('/') {
                    t.value.clone()
                } else {
                    format!("{}/{}", own.section, t.value)
                };
                match by_name.get(&target).map(|&i| &cfg.servers[i]) {
                    Some(s) if s.check && s.track.is_none() => s,
                    Some(s) if s.track.is_some() => {
                        return Err(InputError::new(
                            at(file, t.pos),
                            "track",
                            format!("{name}: tracks '{target}', which itself tracks another server; graceline follows one level of track"),
                        ))
                    }
                    Some(_) => {
                        return Err(InputError::new(
                            at(file, t.pos),
                            "track",
                            format!("{name}: the tracked server '{target}' has no 'check'; HAProxy refuses this"),
                        ))
                    }
                    None => {
                        return Err(InputError::new(
                            at(file, t.pos),
                            "track",
                            format!("{name}: no server '{target}' to track; HAProxy refuses this"),
                        ))
                    }
                }
            }
        };
        let mut refused = srv
            .refusal
            .as_ref()
            .map(|r| InputError::new(at(file, r.pos), "", format!("{name}: {}", r.value)));
        if let (Some(cp), None) = (&srv.check_port, &srv.http_check) {
            if !ports.contains(&cp.value) && refused.is_none() {
                let traffic = match ports.as_slice() {
                    [] => "the port the client connected to (no bind leads here)".to_string(),
                    [p] => format!("the traffic port {p}"),
                    many => format!(
                        "the traffic ports {}",
                        many.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                    ),
                };
                refused = Some(InputError::new(
                    at(file, cp.pos),
                    "port",
                    format!(
                        "{name}: the TCP check connects to port {}, not {traffic}: it sees neither /readyz nor this listener closing, so graceline cannot model when the server leaves the rotation",
                        cp.value
                    ),
                ));
            }
        }
        // An HTTP check sent to another port watches another listener or process (Patroni's
        // REST API on 8008, Drill's web port): the settings carry that port, never the traffic's.
        let other_port = srv
            .check_port
            .as_ref()
            .filter(|cp| srv.http_check.is_some() && !ports.contains(&cp.value))
            .map(|cp| located(file, cp.value, cp.pos));
        if !srv.check {
            // Never checked, so never taken out: reported as such (GL008) when it fronts the server.
            out.push(LbInput {
                field_prefix: format!("{name}."),
                name,
                profile: "haproxy".to_string(),
                settings: haproxy::Knobs {
                    // What HAProxy does with a refused connection applies whether or not it checks.
                    retries: srv.retries.as_ref().map(|l| located(file, l.value, l.pos)),
                    redispatch: srv.redispatch.as_ref().map(|l| located(file, l.value, l.pos)),
                    ..Default::default()
                }
                .onto(LbSettings {
                    unchecked: Some(located(file, true, srv.pos)),
                    ..LbSettings::default()
                }),
                loc,
                ports,
                refused: None,
                assumed: Vec::new(),
                service: None,
                check: crate::scenario::k8s::CheckTarget::Server,
            });
            continue;
        }
        let check_loc = srv.check_pos.unwrap_or(srv.pos);
        let (protocol, path) = match &srv.http_check {
            Some(h) if h.path.is_empty() => {
                return Err(InputError::new(
                    at(file, h.pos),
                    "http-check",
                    format!("{name}: the http-check ruleset sends no request, so every check of this server fails"),
                ))
            }
            Some(h) => (
                located(
                    file,
                    if srv.check_ssl { Protocol::Https } else { Protocol::Http },
                    h.pos,
                ),
                Some(located(file, h.path.clone(), h.pos)),
            ),
            None => (located(file, Protocol::Tcp, check_loc), None),
        };
        let mut rules = Vec::new();
        for e in srv.http_check.iter().flat_map(|h| &h.expects) {
            let m = crate::provider::matcher::Matcher::parse_haproxy(&e.value)
                .map_err(|m| InputError::new(at(file, e.pos), "http-check expect", m))?;
            rules.push((m, e.pos));
        }
        let first_pos = rules.first().map(|r| r.1);
        let matcher = crate::provider::matcher::Matcher::all(rules.into_iter().map(|r| r.0).collect())
            .zip(first_pos)
            .map(|(m, p)| located(file, m, p));
        let s = haproxy::Knobs {
            inter: micros(file, &srv.inter),
            fastinter: micros(file, &srv.fastinter),
            downinter: micros(file, &srv.downinter),
            fall: srv.fall.as_ref().map(|l| located(file, l.value, l.pos)),
            rise: srv.rise.as_ref().map(|l| located(file, l.value, l.pos)),
            timeout_check: micros(file, &srv.timeout_check),
            timeout_connect: micros(file, &srv.timeout_connect),
            spread_checks: cfg.spread_checks.as_ref().map(|l| located(file, l.value, l.pos)),
            retries: srv.retries.as_ref().map(|l| located(file, l.value, l.pos)),
            redispatch: srv.redispatch.as_ref().map(|l| located(file, l.value, l.pos)),
            version: opts.version_from.as_ref().map(|_| Located {
                value: format!(
                    "{}.{}.{}",
                    opts.build.version.0, opts.build.version.1, opts.build.version.2
                ),
                loc: loc.clone(),
                from_profile: false,
            }),
        }
        .onto(LbSettings {
            matcher,
            protocol: Some(protocol),
            path,
            port: other_port,
            ..LbSettings::default()
        });
        // The version decides the check timer only with `timeout check` below the connect phase's.
        let assumed = match &opts.version_from {
            Some(from) if crate::provider::haproxy::timer_depends_on_version(&s) => vec![(
                "version".to_string(),
                crate::provider::haproxy::version_words(opts.build.version),
                format!("the HAProxy that reads this configuration, from {from}"),
            )],
            _ => Vec::new(),
        };
        out.push(LbInput {
            field_prefix: format!("{name}."),
            name,
            profile: "haproxy".to_string(),
            settings: s,
            loc,
            ports,
            refused,
            assumed,
            service: None,
            check: crate::scenario::k8s::CheckTarget::Server,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_with_check_become_lbs() {
        let cfg = "global\n  spread-checks 5\ndefaults\n  timeout check 0\nbackend api\n  option httpchk GET /readyz\n  server a 10.0.0.1:6443 check check-ssl inter 1s fall 2\n  server b 10.0.0.2:6443\nlisten l\n  server c 10.0.0.3:6443 check\n";
        let lbs = lbs("h.cfg", cfg).unwrap();
        assert_eq!(lbs.len(), 3);
        assert!(lbs[1].settings.unchecked.as_ref().is_some_and(|u| u.value));
        let a = &lbs[0];
        assert_eq!(a.name, "api/a");
        let s = &a.settings;
        assert_eq!(s.protocol.as_ref().unwrap().value, Protocol::Https);
        assert_eq!(s.path.as_ref().unwrap().value, "/readyz");
        let i = haproxy::Knobs::of(s).inter.unwrap();
        assert_eq!((i.value, i.loc.line, i.loc.column), (Micros::from_secs(1), 7, 48));
        assert!(haproxy::Knobs::of(s).timeout_check.is_none());
        assert_eq!(haproxy::Knobs::of(s).spread_checks.unwrap().value, 5);
        let c = &lbs[2];
        assert_eq!(c.settings.protocol.as_ref().unwrap().value, Protocol::Tcp);
        assert_eq!(c.settings.protocol.as_ref().unwrap().loc.column, 26);
    }

    #[test]
    fn retries_and_redispatch_are_read_as_haproxy_reads_them() {
        // Defaults inherit; a backend overrides; `no option redispatch` and interval 0 turn it off;
        // HAProxy reads `retries` with atol (measured on 2.6.12: `retries 2x` and `abc` are accepted).
        let cfg = "defaults\n  retries 5\n  option redispatch\nbackend a\n  server s 10.0.0.1:6443 check\nbackend b\n  retries 2x\n  no option redispatch\n  server s 10.0.0.2:6443 check\nbackend c\n  retries abc\n  option redispatch 0\n  server s 10.0.0.3:6443 check\n";
        let read = lbs("h.cfg", cfg).unwrap();
        let get = |i: usize| {
            let s = &read[i].settings;
            (
                haproxy::Knobs::of(s).retries.unwrap().value,
                haproxy::Knobs::of(s).redispatch.unwrap().value,
            )
        };
        assert_eq!(get(0), (5, true));
        assert_eq!(get(1), (2, false));
        assert_eq!(get(2), (0, false));
        let r = haproxy::Knobs::of(&read[1].settings).retries.unwrap();
        assert_eq!((r.loc.line, r.loc.column), (7, 11));
        // HAProxy 2.6 refuses the pre-2.1 keyword and a bare `retries`.
        let e = lbs("h.cfg", "backend b\n  redispatch 1\n  server s 1.2.3.4:80 check\n").unwrap_err();
        assert!(
            e.message.contains("not supported anymore since HAProxy 2.1"),
            "{}",
            e.message
        );
        let e = lbs("h.cfg", "backend b\n  retries\n  server s 1.2.3.4:80 check\n").unwrap_err();
        assert!(e.message.contains("expects an integer"), "{}", e.message);
    }

    #[test]
    fn port_less_servers_take_the_client_s_port() {
        assert_eq!(traffic_ports("10.0.0.1:6443", &[(80, 80)]), [6443]);
        assert_eq!(traffic_ports("10.0.0.1", &[(6443, 6443)]), [6443]);
        assert_eq!(traffic_ports("10.0.0.1:", &[(80, 80), (443, 443)]), [80, 443]);
        assert_eq!(traffic_ports("10.0.0.1:+1000", &[(80, 81)]), [1080, 1081]);
        assert_eq!(traffic_ports("[::1]", &[(80, 80)]), [80]);
        assert_eq!(traffic_ports("/run/api.sock", &[(80, 80)]), Vec::<u16>::new());
        assert!(traffic_ports("10.0.0.1", &[(1, 65535)]).is_empty());
        assert!(
            is_dynamic_next_hop("0.0.0.0:0")
                && is_dynamic_next_hop("0.0.0.0")
                && is_dynamic_next_hop("ipv4@0.0.0.0:80")
        );
        assert!(!is_dynamic_next_hop("10.0.0.1:0") && !is_dynamic_next_hop("[::1]:80"));
        let cfg = "frontend fe\n  bind :6443,:7443\n  use_backend api if TRUE\nbackend api\n  server a 10.0.0.1 check port 6443\n  server b 10.0.0.2\nbackend nowhere\n  server c 10.0.0.3\n  server d 0.0.0.0:0\n";
        let read = lbs("h.cfg", cfg).unwrap();
        let ports: Vec<(&str, Vec<u16>)> = read.iter().map(|l| (l.name.as_str(), l.ports.clone())).collect();
        assert_eq!(
            ports,
            [
                ("api/a", vec![6443, 7443]),
                ("api/b", vec![6443, 7443]),
                ("nowhere/c", vec![])
            ]
        );
        // HAProxy 2.6 refuses a checked server with neither a port nor a check port.
        let e = lbs("h.cfg", "listen l\n  bind :6443\n  server a 10.0.0.1: check\n").unwrap_err();
        assert!(e.message.contains("has neither service port nor check port"), "{e}");
        assert_eq!((e.loc.line, e.loc.column), (3, 3));
        // ... but not one whose tcp-check connects to a port.
        let cfg =
            "listen l\n  bind :6443\n  option tcp-check\n  tcp-check connect port 6443\n  server a 10.0.0.1 check\n";
        let read = lbs("h.cfg", cfg).unwrap();
        assert!(read[0].refused.is_none() && read[0].ports == [6443]);
    }

    #[test]
    fn unchecked_servers_keep_the_backend_s_retries_and_other_check_ports_are_data() {
        let cfg = "backend b\n  retries 2\n  option redispatch\n  server s 10.0.0.1:6443\n";
        let read = lbs("h.cfg", cfg).unwrap();
        let s = &read[0].settings;
        assert_eq!(
            haproxy::Knobs::of(s).retries.map(|r| (r.value, r.loc.line)),
            Some((2, 2))
        );
        assert_eq!(haproxy::Knobs::of(s).redispatch.map(|r| r.value), Some(true));
        let cfg = "backend b\n  option httpchk GET /health\n  server s 10.0.0.1:5432 check port 8008\n  server t 10.0.0.2:5432 check port 5432\n";
        let read = lbs("h.cfg", cfg).unwrap();
        let p = read[0].settings.port.as_ref().unwrap();
        assert_eq!((p.value, p.loc.line, p.loc.column), (8008, 3, 37));
        assert!(read[0].refused.is_none());
        assert!(read[1].settings.port.is_none());
    }

    #[test]
    fn errors_keep_the_position() {
        let e = lbs("h.cfg", "backend b\n  server s 1.2.3.4:80 check inter 2sec\n").unwrap_err();
        assert_eq!((e.loc.file.as_str(), e.loc.line, e.loc.column), ("h.cfg", 2, 35));
        let e = lbs(
            "h.cfg",
            "backend b\n  server s 1.2.3.4:80 check\n  server s 1.2.3.5:80 check\n",
        )
        .unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e = lbs(
            "h.cfg",
            "defaults\n  option httpchk GET /healthz\nbackend b\n  http-check expect status 200\n  server s 1.2.3.4:80 check\n",
        )
        .unwrap_err();
        assert!(e.message.contains("sends no request"), "{e}");
        assert_eq!(e.loc.line, 4);
    }

    #[test]
    fn unchecked_servers_and_expect_rules_are_read() {
        let cfg = "backend api\n  option httpchk GET /readyz\n  http-check expect rstatus ^[2345]\n  server a 10.0.0.1:6443 check\n  server b 10.0.0.2:6443\n";
        let lbs = lbs("h.cfg", cfg).unwrap();
        assert_eq!(lbs.len(), 2);
        let m = lbs[0].settings.matcher.as_ref().unwrap();
        assert!(m.value.accepts_failing_readyz());
        assert_eq!((m.loc.line, m.loc.column), (3, 21));
        let u = lbs[1].settings.unchecked.as_ref().unwrap();
        assert!(u.value);
        assert_eq!((u.loc.line, u.loc.column), (5, 3));
        assert!(lbs[0].settings.unchecked.is_none());
        // Several expect rules must all match: adding `status 200` makes the 500 fail again.
        let two = cfg.replace(
            "  http-check expect rstatus ^[2345]\n",
            "  http-check send meth GET uri /readyz\n  http-check expect rstatus ^[2345]\n  http-check expect status 200\n",
        );
        let read2 = super::lbs("h.cfg", &two).unwrap();
        assert!(!read2[0]
            .settings
            .matcher
            .as_ref()
            .unwrap()
            .value
            .accepts_failing_readyz());
    }

    #[test]
    fn expect_rules_haproxy_refuses_are_refused() {
        // Each refused by `haproxy -c` 2.6.12 (invalid character, invalid range, bad regex,
        // extra argument); `status 1000` and `! rstatus ^5` are accepted by both.
        for (rule, col) in [
            ("status abc", 21),
            ("status 200-", 21),
            ("status 399-200", 21),
            ("rstatus (", 21),
            ("status 200 300", 32),
        ] {
            let cfg = format!("backend api\n  option httpchk GET /readyz\n  http-check expect {rule}\n  server a 10.0.0.1:6443 check\n");
            let e = lbs("h.cfg", &cfg).unwrap_err();
            assert_eq!((e.loc.line, e.loc.column), (3, col), "{rule}: {e}");
        }
        for rule in ["status 1000", "! rstatus ^5", "comment x string ok"] {
            let cfg = format!("backend api\n  option httpchk GET /readyz\n  http-check expect {rule}\n  server a 10.0.0.1:6443 check\n");
            assert!(lbs("h.cfg", &cfg).is_ok(), "{rule}");
        }
    }
}
