//! haproxy.cfg: every `server` with `check` in a `backend` or `listen` section becomes one
//! load-balancer-to-server check named `section/server`, with HAProxy's knobs located on the
//! user's lines (the `inter` value on the server line or its `default-server`, the `timeout check`
//! line, the `option httpchk` URI, the global `spread-checks`).
//!
//! Mapping: `option httpchk` / `http-check send` → HTTP with the request path, HTTPS when the
//! check runs over TLS (`check-ssl`, `ssl` without a check port, `http-check connect ssl`); any
//! other check (plain `check`, `tcp-check`, `ssl-hello-chk`, …) → TCP. `timeout check 0` and
//! `timeout connect 0` mean unset, as in HAProxy (`tick_add_ifset`).

use super::haproxy_cfg::{self, Pos, ReadOptions};
use crate::error::{InputError, Loc};
use crate::provider::{LbSettings, Located, Protocol};
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
    for own in cfg.servers.iter().filter(|s| s.check || s.track.is_some()) {
        let name = format!("{}/{}", own.section, own.server);
        let loc = at(file, own.pos);
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
        if let (Some(cp), None, Some(traffic)) = (&srv.check_port, &srv.http_check, port_of(&own.address)) {
            if cp.value != traffic && refused.is_none() {
                refused = Some(InputError::new(
                    at(file, cp.pos),
                    "port",
                    format!(
                        "{name}: the TCP check connects to port {}, not the traffic port {traffic}: it sees neither /readyz nor this listener closing, so graceline cannot model when the server leaves the rotation",
                        cp.value
                    ),
                ));
            }
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
        let s = LbSettings {
            inter: micros(file, &srv.inter),
            fastinter: micros(file, &srv.fastinter),
            downinter: micros(file, &srv.downinter),
            fall: srv.fall.as_ref().map(|l| located(file, l.value, l.pos)),
            rise: srv.rise.as_ref().map(|l| located(file, l.value, l.pos)),
            timeout_check: micros(file, &srv.timeout_check),
            timeout_connect: micros(file, &srv.timeout_connect),
            spread_checks: cfg.spread_checks.as_ref().map(|l| located(file, l.value, l.pos)),
            protocol: Some(protocol),
            path,
            ..LbSettings::default()
        };
        out.push(LbInput {
            field_prefix: format!("{name}."),
            name,
            profile: "haproxy".to_string(),
            settings: s,
            loc,
            ports: port_of(&own.address).into_iter().collect(),
            refused,
            assumed: Vec::new(),
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
        assert_eq!(lbs.len(), 2);
        let a = &lbs[0];
        assert_eq!(a.name, "api/a");
        let s = &a.settings;
        assert_eq!(s.protocol.as_ref().unwrap().value, Protocol::Https);
        assert_eq!(s.path.as_ref().unwrap().value, "/readyz");
        let i = s.inter.as_ref().unwrap();
        assert_eq!((i.value, i.loc.line, i.loc.column), (Micros::from_secs(1), 7, 48));
        assert!(s.timeout_check.is_none());
        assert_eq!(s.spread_checks.as_ref().unwrap().value, 5);
        let c = &lbs[1];
        assert_eq!(c.settings.protocol.as_ref().unwrap().value, Protocol::Tcp);
        assert_eq!(c.settings.protocol.as_ref().unwrap().loc.column, 26);
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
}
