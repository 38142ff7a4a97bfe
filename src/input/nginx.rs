//! nginx configuration (`nginx.conf` with its includes, or `nginx -T` output): every server of an
//! `upstream` that a `server`/`location` passes to becomes one load-balancer-to-server check
//! named `upstream/address` (with the location or listen port when several proxies pass to the
//! same upstream), profile `nginx`, its passive settings located on the user's lines
//! ([`nginx_cfg`] reads them with nginx 1.22.1's grammar and defaults). Backend selection is by
//! the server's port, as for HAProxy.

use super::nginx_cfg::{self, Balancer, NginxConfig, Pos, Proxy, Workers};
use crate::error::{InputError, Loc};
use crate::provider::nginx::{Module, NextUpstream};
use crate::provider::{nginx, LbSettings, Located, Protocol};
use crate::scenario::{k8s, LbInput};
use std::path::Path;

/// Worker processes assumed for `worker_processes auto` (one per CPU of a host graceline cannot
/// see): the smallest multi-core count, so per-worker failure accounting shows.
pub const AUTO_WORKERS: u32 = 2;

fn loc(cfg: &NginxConfig, p: Pos) -> Loc {
    Loc {
        file: cfg.file_of(p).to_string(),
        line: p.line,
        column: p.column,
    }
}

/// A value as read: located where written, else nginx's default located at `fallback` and marked
/// as not written (`from_profile`).
fn setting<T: Clone>(cfg: &NginxConfig, s: &nginx_cfg::Setting<T>, fallback: &Loc) -> Located<T> {
    Located {
        value: s.value.clone(),
        loc: s.pos.map_or_else(|| fallback.clone(), |p| loc(cfg, p)),
        from_profile: s.pos.is_none(),
    }
}

/// `value` located where `s` was written, else at `fallback` as a default.
fn as_read<T, U>(cfg: &NginxConfig, s: &nginx_cfg::Setting<T>, value: U, fallback: &Loc) -> Located<U> {
    Located {
        value,
        loc: s.pos.map_or_else(|| fallback.clone(), |p| loc(cfg, p)),
        from_profile: s.pos.is_none(),
    }
}

fn next_upstream_words(n: &NextUpstream, module: Module) -> String {
    match (n, module) {
        (NextUpstream::Off, _) => "off".into(),
        (NextUpstream::On(_), Module::Stream) => "on".into(),
        (NextUpstream::On(c), Module::Http) => c.iter().map(|c| c.name()).collect::<Vec<_>>().join(" "),
    }
}

fn balancer_name(b: &Balancer) -> &'static str {
    match b {
        Balancer::RoundRobin => "round_robin",
        Balancer::LeastConn => "least_conn",
        Balancer::IpHash => "ip_hash",
        Balancer::Hash { .. } => "hash",
        Balancer::Random { .. } => "random",
    }
}

/// A file an `include` read from disk: (name, text).
pub type Included = (String, String);

/// Reads one nginx configuration; `include`s are read relative to `prefix` (the directory of the
/// file, as nginx reads them relative to the directory of `-c`). Also returns the included files
/// read from disk.
pub fn lbs(file: &str, text: &str, prefix: &Path) -> Result<(Vec<LbInput>, Vec<Included>), InputError> {
    let cfg = nginx_cfg::parse_str(file, text, prefix).map_err(|e| {
        InputError::new(
            Loc {
                file: e.file.clone(),
                line: e.line,
                column: e.column,
            },
            "",
            e.message,
        )
    })?;
    let included = cfg
        .files
        .iter()
        .filter_map(|f| Some((f.shown.clone(), f.text.clone()?)))
        .collect();
    Ok((lbs_of(&cfg), included))
}

/// The load balancers of a configuration read by [`nginx_cfg`].
pub fn lbs_of(cfg: &NginxConfig) -> Vec<LbInput> {
    let mut out = Vec::new();
    for p in &cfg.proxies {
        let Some(ui) = p.upstream else {
            let at = loc(cfg, p.pass.pos);
            out.push(LbInput {
                name: format!("proxy_pass {}", p.pass.value),
                profile: "nginx".into(),
                settings: LbSettings::default(),
                loc: at.clone(),
                field_prefix: String::new(),
                ports: Vec::new(),
                refused: Some(InputError::new(
                    at,
                    "proxy_pass",
                    format!(
                        "proxy_pass {} holds variables, resolved per request: graceline cannot tell which servers it reaches",
                        p.pass.value
                    ),
                )),
                assumed: Vec::new(),
                service: None,
                check: k8s::CheckTarget::Server,
            });
            continue;
        };
        let u = &cfg.upstreams[ui];
        let shared = cfg.proxies_of(ui).count() > 1;
        for srv in u.servers.iter().filter(|s| s.down.is_none()) {
            out.push(one(cfg, p, ui, srv, shared));
        }
    }
    out
}

fn one(cfg: &NginxConfig, p: &Proxy, ui: usize, srv: &nginx_cfg::UpstreamServer, shared: bool) -> LbInput {
    let u = &cfg.upstreams[ui];
    let at = loc(cfg, srv.address.pos);
    let upstream_at = u.pos.map_or_else(|| loc(cfg, p.pass.pos), |q| loc(cfg, q));
    let mut name = format!("{}/{}", u.name, srv.address.value);
    if shared {
        match (&p.location, p.listen.first()) {
            (Some(l), _) => name.push_str(&format!(" location {}", l.value)),
            (None, Some(l)) => name.push_str(&format!(" listen {}", l.value)),
            (None, None) => {}
        }
    }
    let live = |backup: bool| {
        u.servers
            .iter()
            .filter(move |s| s.down.is_none() && s.backup.is_some() == backup)
    };
    let fixed = |v: u32| Located {
        value: v,
        loc: upstream_at.clone(),
        from_profile: false,
    };
    let mut assumed = Vec::new();
    let workers = match (&u.zone, cfg.worker_processes.value) {
        (Some(z), _) => Located {
            value: 1,
            loc: loc(cfg, z.pos),
            from_profile: false,
        },
        (None, Workers::Count(n)) => as_read(cfg, &cfg.worker_processes, n.max(1), &at),
        (None, Workers::Auto) => {
            assumed.push((
                "workers".to_string(),
                AUTO_WORKERS.to_string(),
                "worker_processes auto starts one worker per CPU of the host, which the configuration does not say"
                    .to_string(),
            ));
            as_read(cfg, &cfg.worker_processes, AUTO_WORKERS, &at)
        }
    };
    let keepalive = match (&p.http_version, &u.keepalive) {
        (Some(v), Some(k)) if v.value == "1.1" => Some(Located {
            value: k.value,
            loc: loc(cfg, k.pos),
            from_profile: false,
        }),
        _ => None,
    };
    let next = setting(cfg, &p.next_upstream, &at);
    for (name, s) in [
        (
            "max_fails",
            srv.max_fails.pos.is_none().then(|| srv.max_fails.value.to_string()),
        ),
        (
            "fail_timeout",
            srv.fail_timeout
                .pos
                .is_none()
                .then(|| srv.fail_timeout.value.to_string()),
        ),
        (
            "proxy_connect_timeout",
            p.connect_timeout
                .pos
                .is_none()
                .then(|| p.connect_timeout.value.to_string()),
        ),
        (
            "proxy_next_upstream",
            p.next_upstream
                .pos
                .is_none()
                .then(|| next_upstream_words(&next.value, p.module)),
        ),
    ] {
        if let Some(v) = s {
            assumed.push((
                name.to_string(),
                v,
                format!("not written: nginx {}'s default", cfg.version),
            ));
        }
    }
    let settings = nginx::Knobs {
        servers: Some(fixed(u32::try_from(live(false).count()).unwrap_or(u32::MAX))),
        backup_servers: Some(fixed(u32::try_from(live(true).count()).unwrap_or(u32::MAX))),
        weight: Some(setting(cfg, &srv.weight, &at)),
        total_weight: Some(fixed(live(false).map(|s| s.weight.value).sum())),
        balancer: Some(as_read(
            cfg,
            &u.balancer,
            balancer_name(&u.balancer.value).to_string(),
            &upstream_at,
        )),
        max_fails: Some(setting(cfg, &srv.max_fails, &at)),
        fail_timeout: Some(setting(cfg, &srv.fail_timeout, &at)),
        timeout_connect: Some(setting(cfg, &p.connect_timeout, &at)),
        next_upstream: Some(Located {
            value: next_upstream_words(&next.value, p.module),
            loc: next.loc,
            from_profile: next.from_profile,
        }),
        next_upstream_tries: Some(setting(cfg, &p.next_upstream_tries, &at)),
        next_upstream_timeout: Some(setting(cfg, &p.next_upstream_timeout, &at)),
        workers: Some(workers),
        keepalive,
        proxy_timeout: Some(setting(cfg, &p.timeout, &at)),
    }
    .onto(LbSettings {
        protocol: Some(Located {
            value: match p.module {
                Module::Stream => Protocol::Tcp,
                Module::Http => Protocol::Http,
            },
            loc: loc(cfg, p.server_pos),
            from_profile: false,
        }),
        ..LbSettings::default()
    });
    LbInput {
        field_prefix: format!("{name}."),
        name,
        profile: "nginx".into(),
        settings,
        loc: at,
        ports: srv.port.into_iter().collect(),
        refused: None,
        assumed,
        service: None,
        check: k8s::CheckTarget::Server,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::nginx::Passive;

    fn fixture(rel: &str) -> Vec<LbInput> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/nginx");
        let p = dir.join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        lbs(&p.display().to_string(), &text, p.parent().unwrap()).unwrap().0
    }

    #[test]
    fn kubespray_gives_one_lb_per_control_plane_with_its_settings_located() {
        let l = fixture("kubespray/nginx.conf");
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kube_apiserver/10.0.0.11:6443",
                "kube_apiserver/10.0.0.12:6443",
                "kube_apiserver/10.0.0.13:6443"
            ]
        );
        assert_eq!(l[0].ports, [6443]);
        let s = &l[0].settings;
        let ct = nginx::Knobs::of(s).timeout_connect.unwrap();
        assert_eq!((ct.loc.line, ct.from_profile), (32, false));
        assert!(nginx::Knobs::of(s).max_fails.unwrap().from_profile);
        assert_eq!(nginx::Knobs::of(s).workers.unwrap().loc.line, 10);
        // The model gets what Passive::from_nginx gives (passive.rs of the reader).
        let p = Passive::from_settings(s, &l[0].loc).unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/nginx/kubespray/nginx.conf");
        let cfg = nginx_cfg::parse_file(&dir).unwrap();
        assert_eq!(Some(p), Passive::from_nginx(&cfg, &cfg.proxies[0], 0, AUTO_WORKERS));
        assert!(l[0].assumed.iter().any(|(k, v, _)| k == "max_fails" && v == "1"));
    }

    #[test]
    fn an_http_upstream_names_its_locations_and_keeps_backups() {
        let l = fixture("http-upstream/nginx.conf");
        assert_eq!(l.len(), 8);
        assert_eq!(l[0].name, "app/10.0.1.21:8080 location /");
        assert_eq!(l[7].name, "app/10.0.1.29:8080 location /upload");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/nginx/http-upstream/nginx.conf");
        let cfg = nginx_cfg::parse_file(&dir).unwrap();
        for (i, lb) in l.iter().enumerate() {
            let p = Passive::from_settings(&lb.settings, &lb.loc).unwrap();
            assert_eq!(
                Some(p),
                Passive::from_nginx(&cfg, &cfg.proxies[i / 4], i % 4, AUTO_WORKERS),
                "{}",
                lb.name
            );
        }
        assert!(
            nginx::Knobs::of(&l[0].settings).keepalive.is_some()
                && nginx::Knobs::of(&l[4].settings).keepalive.is_none()
        );
    }

    #[test]
    fn variables_in_proxy_pass_are_refused_when_judged() {
        let l = lbs(
            "v.conf",
            "events {}\nhttp {\n  server {\n    location / {\n      proxy_pass http://$host;\n    }\n  }\n}\n",
            Path::new("."),
        )
        .unwrap()
        .0;
        assert_eq!(l.len(), 1);
        assert!(l[0].refused.as_ref().unwrap().message.contains("variables"));
    }
}
