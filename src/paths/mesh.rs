//! Istio sidecar meshes. Two things change for a pod in the mesh:
//! - its clients' sidecars route to it from istiod's EDS, not through kube-proxy: the path is the
//!   EndpointSlice, istiod's watch, its debounce (`PILOT_DEBOUNCE_AFTER` 100 ms, growing up to
//!   `PILOT_DEBOUNCE_MAX` 10 s while events keep coming) and its push (family `istio-mesh`);
//! - inbound traffic goes through the pod's own `istio-proxy`. Injected as a regular container,
//!   it has no preStop: the kubelet sends it SIGTERM at the deletion, pilot-agent drains its
//!   inbound listeners for `terminationDrainDuration` (5 s) and stops Envoy (pkg/envoy/agent.go
//!   `terminate`). The pod stops accepting when the sidecar exits if that comes before the app's
//!   own stop, whatever the app's preStop; in-flight requests through it are cut too (GL037). A
//!   native sidecar (init container with `restartPolicy: Always`) stops after the app.
//!
//! The sidecar's exit is on the target (`Target::sidecar`, set by `scenario::group`), so every
//! path's stop ([`super::stop_listening`]) takes it; [`apply`] rewrites the findings of a path
//! the sidecar decides.

use super::figures::figures;
use super::kube_proxy::endpointslice_stages;
use super::readiness::verdict_of;
use super::{Path, PathKind, PathReport, Start};
use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::scenario::group::MeshMember;
use crate::scenario::k8s::Target;
use crate::time::Micros;

/// The path of mesh clients (their sidecars) to the pods of a Service.
pub fn path(service: &str, label: &str, loc: Loc) -> Path {
    let f = figures();
    let mut stages = endpointslice_stages();
    stages.push(f.stage("endpointslice-watch"));
    stages.push(f.stage("istiod-debounce"));
    stages.push(f.stage("istiod-push"));
    Path {
        kind: PathKind::IstioMesh,
        name: format!("{label} via Istio sidecars (istiod EDS)"),
        service: service.to_string(),
        loc,
        stages,
        start: Start::Deletion,
        listener_waits_for_first_stage: false,
        never_withdrawn: None,
        notes: vec![
            "clients outside the mesh still go through kube-proxy (its own path); mesh clients' sidecars keep pooled connections to the pod, on which requests continue until the app (or its sidecar) closes them".to_string(),
        ],
        lbs: Vec::new(),
        alternative: None,
    }
}

/// What the sidecar does to the pod, in one line (for notes).
pub fn describe(m: &MeshMember) -> String {
    if m.native {
        format!(
            "{}: Istio sidecar from {} ({}): a native sidecar stops after the app, so the app's own stop counts",
            m.workload, m.how, m.native_why
        )
    } else {
        format!(
            "{}: Istio sidecar from {} ({}): it exits {} after its SIGTERM at the deletion (terminationDrainDuration, {}) and closes the pod's inbound port then",
            m.workload,
            m.how,
            m.native_why,
            m.prestop + m.drain.0,
            m.drain.1
        )
    }
}

/// True when the target's sidecar closes the pod before the app stops listening.
fn binds(t: &Target) -> Option<&crate::scenario::k8s_added::Sidecar> {
    let e3 = t.server.timeline().e3;
    t.istio_proxy.as_ref().filter(|s| s.exit < e3)
}

/// Rewrites a report whose stop the sidecar decides: its GL030/GL031 say so and recommend the
/// drain the sidecar needs; a preStop on the app does not help.
pub fn apply(r: &mut PathReport) {
    let Some(sc) = binds(&r.target).cloned() else { return };
    let Some(w) = r.last_send_worst else { return };
    let had = r.findings.iter().any(|f| matches!(f.rule, Rule::GL030 | Rule::GL031));
    r.findings.retain(|f| !matches!(f.rule, Rule::GL030 | Rule::GL031));
    let need = super::ceil_secs(w + r.min_margin);
    let app_stop = r.target.server.timeline().e3;
    let fix = format!(
        "fix: terminationDrainDuration >= {}s (annotation proxy.istio.io/config), or native sidecars (sidecar.istio.io/nativeSidecar: \"true\"); a preStop on the app does not keep istio-proxy{}",
        need.0 / 1_000_000,
        if app_stop < need {
            format!("; the app must keep listening that long too (it stops at {app_stop})")
        } else {
            String::new()
        }
    );
    let what = format!(
        "the pod's istio-proxy stops accepting at {} ({} from {}, drain {}, {}) before the app would ({})",
        sc.exit,
        sc.how,
        sc.loc,
        sc.drain,
        sc.drain_source,
        r.target.server.timeline().e3
    );
    let m = r.stop_listening - w;
    let t = &r.target;
    let finding = if m <= Micros::ZERO {
        Some(Finding::new(
            Rule::GL030,
            sc.loc.clone(),
            format!(
                "{} via {} ({}): worst case {w} until the last consumer stops sending new connections, but {what}; new connections can reach a closed port for up to {}; {fix}",
                t.name,
                r.path.kind.name(),
                r.path.name,
                w - r.stop_listening
            ),
        ))
    } else if m < r.min_margin {
        Some(Finding::new(
            Rule::GL031,
            sc.loc.clone(),
            format!(
                "{} via {} ({}): margin {m} (last consumer stops sending at {w} worst case) because {what}; below the minimum {}; {fix}",
                t.name,
                r.path.kind.name(),
                r.path.name,
                r.min_margin
            ),
        ))
    } else {
        None
    };
    if had || finding.is_some() {
        r.recommended_prestop = None;
        r.recommended_grace = None;
        r.recommended_shutdown_delay = None;
    }
    r.findings.extend(finding);
    r.findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    r.verdict = verdict_of(&r.findings);
}

/// GL037 for a target whose sidecar exits before the app has drained (its E5).
pub fn target_findings(t: &Target) -> Vec<Finding> {
    let Some(sc) = &t.istio_proxy else { return Vec::new() };
    let tl = t.server.timeline();
    if sc.exit >= tl.e5 {
        return Vec::new();
    }
    vec![Finding::new(
        Rule::GL037,
        sc.loc.clone(),
        format!(
            "{}: its istio-proxy ({}) exits at {} (no preStop; terminationDrainDuration {}, {}) while the app {} and drains until {}: inbound connections are refused and requests in flight through it are cut from {}; raise terminationDrainDuration to >= {}s or use native sidecars",
            t.name,
            sc.how,
            sc.exit,
            sc.drain,
            sc.drain_source,
            if sc.exit < tl.e3 {
                format!("still listens until {}", tl.e3)
            } else {
                format!("stopped listening at {}", tl.e3)
            },
            tl.e5,
            sc.exit,
            super::ceil_secs(tl.e5).0 / 1_000_000
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::tests::app;
    use crate::paths::{analyze, kube_proxy, PathVerdict};
    use crate::scenario::k8s::ProxyMode;
    use crate::scenario::k8s_added::Sidecar;

    fn with_sidecar(mut t: Target, exit: i64) -> Target {
        t.istio_proxy = Some(Sidecar {
            exit: Micros::from_secs(exit),
            drain: Micros::from_secs(exit),
            drain_source: "Istio's default".into(),
            how: "an injected istio-proxy container".into(),
            loc: t.container_loc.clone(),
        });
        t
    }

    #[test]
    fn the_sidecar_closes_the_pod_before_the_apps_prestop_ends() {
        // App preStop 10 s (alone: kube-proxy worst 4 s, margin 6 s, pass). istio-proxy exits at
        // 5 s: stop 5 s, margin 1 s < 5 s: GL031, and the drain it needs is 4 + 5 = 9 s.
        let t = with_sidecar(app(10, 45), 5);
        let p = kube_proxy::path(
            "default/web",
            "default/web:80 ClusterIP",
            t.container_loc.clone(),
            ProxyMode::Iptables,
        );
        let mut r = analyze(&t, &p, Micros::from_secs(5));
        assert_eq!(r.stop_listening, Micros::from_secs(5));
        apply(&mut r);
        assert_eq!(r.verdict, PathVerdict::Warn);
        assert_eq!(r.findings[0].rule, Rule::GL031);
        assert!(
            r.findings[0].message.contains("terminationDrainDuration >= 9s"),
            "{}",
            r.findings[0].message
        );
        assert_eq!(r.recommended_prestop, None);
        // GL037: the app drains until 10 + 25 = 35 s, the sidecar is gone at 5 s.
        let g = target_findings(&t);
        assert_eq!(g[0].rule, Rule::GL037);
        assert!(g[0].message.contains(">= 35s"), "{}", g[0].message);
        // A sidecar that outlives the app changes nothing.
        let late = with_sidecar(app(10, 45), 40);
        let mut r = analyze(&late, &p, Micros::from_secs(5));
        apply(&mut r);
        let alone = analyze(&app(10, 45), &p, Micros::from_secs(5));
        assert_eq!((r.verdict, r.margin), (alone.verdict, alone.margin));
        assert_eq!(r.margin, Some(Micros::from_secs(6)));
        assert!(target_findings(&late).is_empty());
    }

    #[test]
    fn the_mesh_path_is_istiods_chain() {
        // pod-watch 1 + batch 0 + watch 1 + debounce 10 + push 1 = 13 s; best: debounce 100 ms.
        let p = path(
            "default/web",
            "default/web:80",
            Loc {
                file: "s.yaml".into(),
                line: 1,
                column: 1,
            },
        );
        assert_eq!(p.worst(), Micros::from_secs(13));
        assert_eq!(p.best(), Micros::from_millis(100));
    }
}
