//! kube-apiserver's own `kubernetes` Service (`default/kubernetes`), which in-cluster clients
//! reach through kube-proxy. With the lease reconciler the apiserver removes its own endpoint at
//! the start of its shutdown (a pre-shutdown hook, bounded 20 s) in parallel with
//! `--shutdown-delay-duration`; the listener closes only after both. `master-count` leaves the
//! endpoint of a departed apiserver in place; `none` maintains no endpoints at all. A crashed
//! apiserver stays listed until its lease expires and a peer reconciles.

use super::figures::figures;
use super::kube_proxy::{conntrack_note, kube_proxy_stages};
use super::{Path, PathKind, Start};
use crate::error::Loc;
use crate::scenario::k8s::{ProxyMode, Reconciler};
use crate::time::Micros;

/// The in-cluster path to one kube-apiserver through the `kubernetes` Service.
pub fn path(pod: &str, loc: Loc, reconciler: Reconciler, mode: ProxyMode) -> Path {
    let f = figures();
    let mut stages = vec![f.stage("apiserver-lease-hook")];
    stages.extend(kube_proxy_stages(mode));
    let never = match reconciler {
        Reconciler::Lease => None,
        Reconciler::MasterCount(n) => Some(format!(
            "--endpoint-reconciler-type=master-count leaves this apiserver's IP in the `kubernetes` endpoints after it goes (each apiserver manages only its own IP; a departed IP is reclaimed only when the live count reaches --apiserver-count={n}), so in-cluster clients keep being sent to it; use the lease reconciler (the default since 1.11)"
        )),
        Reconciler::None => Some(
            "--endpoint-reconciler-type=none: nothing removes this apiserver from the `kubernetes` endpoints when it shuts down, so in-cluster clients keep being sent to it; use the lease reconciler".to_string(),
        ),
    };
    Path {
        kind: PathKind::KubernetesService,
        name: format!("default/kubernetes:443 to {pod} via kube-proxy ({})", mode.name()),
        service: "default/kubernetes".to_string(),
        loc,
        stages: if never.is_some() { Vec::new() } else { stages },
        start: Start::Sigterm,
        listener_waits_for_first_stage: never.is_none(),
        never_withdrawn: never,
        lbs: Vec::new(),
        alternative: None,
        notes: {
            let mut n = vec![conntrack_note().replace(
                "the app closes them",
                "the apiserver closes them at the end of its drain (watches reconnect through a fresh DNAT)",
            )];
            if reconciler == Reconciler::Lease {
                n.push(format!(
                    "a crashed apiserver stays in the endpoints up to {} (lease TTL {} + a peer's reconcile {}, arithmetic, not measured), plus kube-proxy's {}",
                    crash_window(),
                    f.stage("lease-ttl").hi,
                    f.stage("lease-reconcile").hi,
                    kube_proxy_stages(mode).iter().fold(Micros::ZERO, |a, s| a + s.hi)
                ));
            }
            n
        },
    }
}

/// How long a crashed apiserver can stay listed: lease TTL + reconcile interval.
pub fn crash_window() -> Micros {
    let f = figures();
    f.stage("lease-ttl").hi + f.stage("lease-reconcile").hi
}
