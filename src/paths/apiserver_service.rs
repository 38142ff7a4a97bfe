//! kube-apiserver's own `kubernetes` Service (`default/kubernetes`), which in-cluster clients
//! reach through kube-proxy. At a graceful shutdown the apiserver removes its own endpoint at the
//! start of its shutdown (a pre-shutdown hook, usually well under a second, bounded 20 s) in
//! parallel with `--shutdown-delay-duration`, whatever the reconciler (lease or master-count);
//! the listener closes only after both. A hook that times out removed nothing: the endpoint goes
//! when the lease expires and a peer reconciles (the hook stage's tail). `none` maintains no
//! endpoints at all. A crashed apiserver stays listed until its lease expires and a peer
//! reconciles (lease), or for good (master-count, until the live count reaches
//! `--apiserver-count`).

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
    // At a graceful shutdown the pre-shutdown hook calls RemoveEndpoints whatever the reconciler
    // (the master-count reconciler deletes its own IP, pkg/controlplane/reconcilers/
    // instancecount.go); only `none` maintains no endpoints at all. A crashed apiserver is another
    // story (crash_finding).
    let never = match reconciler {
        Reconciler::Lease | Reconciler::MasterCount(_) => None,
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

/// What a crash (not a graceful shutdown) leaves behind, by reconciler: the lease's bounded
/// window (a note), master-count's never-reclaimed IP (an error: in-cluster clients keep being
/// sent to a dead apiserver), nothing more for `none` (its path is never withdrawn anyway).
pub fn crash_finding(pod: &str, reconciler: Reconciler) -> Option<(crate::analysis::findings::Rule, String)> {
    use crate::analysis::findings::Rule;
    match reconciler {
        Reconciler::Lease => Some((
            Rule::GL035,
            format!(
                "{pod}: if this kube-apiserver crashes instead of shutting down, it stays in the `kubernetes` endpoints for up to {} (lease TTL + a peer's reconcile) and in-cluster clients get refused connections meanwhile",
                crash_window()
            ),
        )),
        Reconciler::MasterCount(n) => Some((
            Rule::GL032,
            format!(
                "{pod}: --endpoint-reconciler-type=master-count removes this apiserver's IP at a graceful shutdown, but if it crashes the IP stays in the `kubernetes` endpoints for good (a departed IP is reclaimed only when the live count reaches --apiserver-count={n}; pkg/controlplane/reconcilers/instancecount.go), so in-cluster clients keep being sent to a dead apiserver; use the lease reconciler (the default since 1.11)"
            ),
        )),
        Reconciler::None => None,
    }
}
