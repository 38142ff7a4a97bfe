//! GL010: a Kubernetes Service's load balancer that checks the node (instance targets, or GCP
//! under `externalTrafficPolicy: Cluster`: kube-proxy answers from any ready pod; `Local`: the
//! healthCheckNodePort) or deregisters ip targets leaves the pod through a Kubernetes path, whose
//! verdict its row carries ([`crate::analysis::outcome`] joins the row and the path).

use crate::analysis::findings::{Finding, Rule};
use crate::paths::{PathReport, PathVerdict};
use crate::scenario::k8s::CheckTarget;
use crate::scenario::LbSpec;

/// Rules that judge the health check against the server's own shutdown: they do not apply when
/// the load balancer leaves the pod through a Kubernetes path (the path's GL030/GL031 do), and
/// the target's grace period is said once by the paths.
pub fn superseded(rule: Rule, check: CheckTarget) -> bool {
    match rule {
        // The path's verdict (and its tail, GL040) replaces the load balancer's own figures.
        Rule::GL001 | Rule::GL002 | Rule::GL003 | Rule::GL004 | Rule::GL020 => true,
        // The node stays healthy under Cluster policy: no reset, no propagation, no fail-open of
        // a pod; keep-alive clients are kube-proxy's path's note.
        Rule::GL006 | Rule::GL007 | Rule::GL015 | Rule::GL016 | Rule::GL017 | Rule::GL018 | Rule::GL019 => {
            matches!(check, CheckTarget::NodePort | CheckTarget::KubeProxyHealthz)
        }
        _ => false,
    }
}

/// GL010 for a load balancer that leaves the pod through the path `p`: how, with the path's
/// verdict and margin.
pub fn via_path(lb: &LbSpec, p: &PathReport) -> Finding {
    let blind = !lb.model.view.sees_readiness;
    let how = match lb.check {
        CheckTarget::Pod if blind => format!(
            "it checks the pod, but its check is blind to readiness, so only the controller's deregistration takes the pod out in time: {}",
            p.path.name
        ),
        CheckTarget::Pod => format!(
            "it checks the pod, and the controller also deregisters it when its endpoint goes; the earlier of the two ends the path {}",
            p.path.name
        ),
        c => format!(
            "it checks {}, so the pod leaves it through the path {}",
            c.describe(),
            p.path.name
        ),
    };
    let verdict = match p.verdict {
        PathVerdict::Pass => "pass",
        PathVerdict::Warn => "WARN",
        PathVerdict::Fail => "FAIL",
    };
    Finding::new(
        Rule::GL010,
        lb.loc.clone(),
        format!(
            "{}: {how} (verdict {verdict}, margin {}; see the Kubernetes paths)",
            lb.name,
            p.margin
                .map_or_else(|| "none: never withdrawn".to_string(), |m| m.to_string())
        ),
    )
}

/// GL010 for a Service's load balancer that checks the node but has no path to leave the pod by
/// (a Service without a selector): its health check says nothing about the pod's shutdown.
/// `None` when it checks the server or the pod itself.
pub fn without_path(lb: &LbSpec) -> Option<Finding> {
    lb.check.is_node().then(|| {
        Finding::new(
            Rule::GL010,
            lb.loc.clone(),
            format!(
                "{}: it checks {}, so one pod's shutdown never shows in its health check, and no workload among the inputs is behind it: when it stops sending to a pod is kube-proxy's path, which cannot be judged here (see GL033)",
                lb.name,
                lb.check.describe()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::scenario;
    use super::*;
    use crate::error::Loc;
    use crate::paths::{analyze, kube_proxy, Target};
    use crate::scenario::k8s::{Prestop, ProxyMode};
    use crate::scenario::{server_from_profile, ServerSource, DEFAULT_MIN_MARGIN};
    use crate::time::Micros;

    const NLB: &str =
        "[server]\nprofile = \"app-stops-at-sigterm\"\n[[lb]]\nname = \"shop/web\"\nprofile = \"aws-nlb\"\n";

    /// A pod with a 10 s preStop sleep behind kube-proxy's path (as the Kubernetes readers build it).
    fn kube_proxy_report() -> PathReport {
        let at = Loc {
            file: "web.yaml".into(),
            line: 20,
            column: 5,
        };
        let (mut server, _) = server_from_profile("app-stops-at-sigterm", &at).unwrap();
        server.prestop_sleep = Micros::from_secs(10);
        let target = Target {
            kind: "Deployment".into(),
            name: "shop/web".into(),
            file: "web.yaml".into(),
            container: "web".into(),
            container_loc: at.clone(),
            grace_loc: at.clone(),
            grace_defaulted: false,
            prestop: Prestop::Sleep {
                duration: Micros::from_secs(10),
                loc: at.clone(),
            },
            server,
            server_source: ServerSource {
                origin: "builtin:app-stops-at-sigterm".into(),
                assumed: true,
                reason: "assumed".into(),
            },
            delay_loc: None,
            apiserver: false,
            readiness: None,
            probe: None,
            sidecar: false,
            istio_proxy: None,
        };
        let path = kube_proxy::path("shop/web", "shop/web:80 via kube-proxy", at, ProxyMode::Iptables);
        analyze(&target, &path, DEFAULT_MIN_MARGIN)
    }

    #[test]
    fn a_node_checking_lb_carries_its_paths_verdict() {
        let mut sc = scenario(NLB);
        let lb = &mut sc.lbs[0];
        lb.check = CheckTarget::NodePort;
        let f = via_path(lb, &kube_proxy_report());
        assert_eq!((f.rule, f.loc.line), (Rule::GL010, 3));
        assert!(
            f.message.starts_with("shop/web: it checks the node's NodePort")
                && f.message.contains("(verdict WARN, margin 6s;"),
            "{}",
            f.message
        );
        assert!(without_path(lb).is_some());
        assert!(superseded(Rule::GL019, lb.check));
    }

    #[test]
    fn an_lb_checking_the_server_has_no_route() {
        let sc = scenario(NLB);
        assert_eq!(sc.lbs[0].check, CheckTarget::Server);
        assert!(without_path(&sc.lbs[0]).is_none());
        assert!(!superseded(Rule::GL019, CheckTarget::Pod));
        assert!(superseded(Rule::GL001, CheckTarget::Pod));
    }
}
