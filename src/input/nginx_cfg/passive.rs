//! What the nginx reader hands the passive-check model ([`crate::provider::nginx`]): one
//! upstream server's settings as a [`Passive`].

use super::{Balancer, NginxConfig, Proxy, Workers};
use crate::provider::nginx::{Passive, Spread};

impl Passive {
    /// The settings of `proxy` for the server at `server` of its upstream; `None` when the proxy's
    /// target is a variable. `worker_processes auto` counts as `auto_workers` processes.
    pub fn from_nginx(cfg: &NginxConfig, proxy: &Proxy, server: usize, auto_workers: u32) -> Option<Passive> {
        let u = cfg.upstreams.get(proxy.upstream?)?;
        let srv = u.servers.get(server)?;
        let live = |backup: bool| {
            u.servers
                .iter()
                .filter(move |s| s.down.is_none() && s.backup.is_some() == backup)
        };
        let workers = match (&u.zone, cfg.worker_processes.value) {
            (Some(_), _) => 1,
            (None, Workers::Count(n)) => n.max(1),
            (None, Workers::Auto) => auto_workers.max(1),
        };
        let spread = match u.balancer.value {
            Balancer::RoundRobin => Spread::Weighted,
            Balancer::LeastConn => Spread::LeastConn,
            Balancer::IpHash | Balancer::Hash { .. } | Balancer::Random { .. } => Spread::Keyed,
        };
        let keepalive = match (&proxy.http_version, &u.keepalive) {
            (Some(v), Some(k)) if v.value == "1.1" => Some(k.value),
            _ => None,
        };
        Some(Passive {
            module: proxy.module,
            peers: u32::try_from(live(false).count()).unwrap_or(u32::MAX),
            backups: u32::try_from(live(true).count()).unwrap_or(u32::MAX),
            weight: srv.weight.value,
            total_weight: live(false).map(|s| s.weight.value).sum(),
            spread,
            max_fails: srv.max_fails.value,
            fail_timeout: srv.fail_timeout.value,
            connect_timeout: proxy.connect_timeout.value,
            next_upstream: proxy.next_upstream.value.clone(),
            tries: proxy.next_upstream_tries.value,
            next_upstream_timeout: proxy.next_upstream_timeout.value,
            workers,
            keepalive,
            session_timeout: proxy.timeout.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Condition, Module, NextUpstream};
    use super::*;
    use crate::provider::nginx::Failure;
    use crate::time::Micros;

    #[test]
    fn settings_come_from_the_reader() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/nginx");
        let cfg = super::super::parse_file(&dir.join("kubespray/nginx.conf")).unwrap();
        let p = Passive::from_nginx(&cfg, &cfg.proxies[0], 0, 4).unwrap();
        assert_eq!(p.module, Module::Stream);
        assert_eq!(
            (p.peers, p.backups, p.weight, p.total_weight, p.workers),
            (3, 0, 1, 3, 2)
        );
        assert_eq!(
            (p.spread, p.max_fails, p.fail_timeout),
            (Spread::LeastConn, 1, Micros::from_secs(10))
        );
        assert_eq!(
            (p.connect_timeout, p.session_timeout),
            (Micros::from_secs(1), Micros::from_secs(600))
        );
        assert_eq!(
            p.next_upstream,
            NextUpstream::On(vec![Condition::Error, Condition::Timeout])
        );
        assert_eq!((p.tries, p.next_upstream_timeout, p.keepalive), (0, Micros::ZERO, None));
        let cfg = super::super::parse_file(&dir.join("http-upstream/nginx.conf")).unwrap();
        let p = Passive::from_nginx(&cfg, &cfg.proxies[0], 1, 4).unwrap();
        assert_eq!((p.peers, p.backups, p.workers, p.keepalive), (3, 1, 1, Some(16)));
        assert_eq!((p.max_fails, p.fail_timeout, p.tries), (3, Micros::from_secs(5), 3));
        assert_eq!(p.tries_per_request(), 3);
        // proxy_http_version 1.0 (the default) does not reuse upstream connections.
        let upload = Passive::from_nginx(&cfg, &cfg.proxies[1], 0, 4).unwrap();
        assert_eq!(upload.keepalive, None);
        assert!(!upload.passes_on(Failure::Refused { answer: Micros::ZERO }));
    }
}
