//! One source of truth for defaults: the same effective health-check settings give the same
//! result whether they come from a scenario file, a Kubernetes Service's annotations, a Terraform
//! plan (AWS NLB) or an haproxy.cfg (HAProxy), every unset value taking the same profile default.

use graceline::analysis::{analyze, findings::Rule};
use graceline::input::{self, Options};
use graceline::time::Micros;
use proptest::prelude::*;
use std::path::PathBuf;

/// What every reader is given, for an NLB target group.
#[derive(Debug, Clone)]
struct Nlb {
    interval: u32,
    timeout: Option<u32>,
    unhealthy: u32,
    healthy: u32,
    protocol: &'static str,
    path: &'static str,
    matcher: Option<&'static str>,
}

fn nlb() -> impl Strategy<Value = Nlb> {
    (
        5u32..=20,
        prop::option::of(2u32..=20),
        2u32..=10,
        2u32..=10,
        prop::sample::select(vec!["TCP", "HTTP", "HTTPS"]),
        prop::sample::select(vec![
            "/readyz",
            "/healthz",
            "/readyz?exclude=shutdown",
            "/readyz/shutdown",
        ]),
        prop::option::of(prop::sample::select(vec!["200-399", "200-599", "200,429"])),
    )
        .prop_map(|(interval, timeout, unhealthy, healthy, protocol, path, matcher)| Nlb {
            interval,
            timeout,
            unhealthy,
            healthy,
            protocol,
            path,
            matcher,
        })
}

/// (worst, best, rules) of the only LB of the inputs, checked against `server`.
fn result(files: &[(&str, String)], server: &str) -> (Micros, Micros, Vec<Rule>) {
    let dir = tempfile::tempdir().unwrap();
    // A server whose failing /readyz hangs, so that the timeout counts.
    let server = if server == "hanging" {
        let p = dir.path().join("server.toml");
        std::fs::write(
            &p,
            "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"40s\"\ntermination_grace_period = \"2m\"\nreadyz_failure = \"timeout\"\n",
        )
        .unwrap();
        p.display().to_string()
    } else {
        server.to_string()
    };
    let server = server.as_str();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let opts = Options {
        server: Some(server.to_string()),
        ..Options::default()
    };
    let groups = input::load(&paths, &opts).unwrap_or_else(|e| panic!("{e:#}\n{}", files[0].1));
    let scenarios: Vec<_> = groups.into_iter().flat_map(|g| g.scenarios).collect();
    let sc = &scenarios[0];
    assert_eq!(sc.lbs.len(), 1);
    let r = analyze(sc, &sc.lbs[0]);
    let mut rules: Vec<Rule> = r.findings.iter().map(|f| f.rule).collect();
    rules.sort();
    (r.extremes.worst.time, r.extremes.best.time, rules)
}

fn scenario(n: &Nlb) -> String {
    let mut t = format!(
        "[[lb]]\nname = \"api\"\nprofile = \"aws-nlb\"\ninterval = \"{}s\"\nunhealthy_threshold = {}\nhealthy_threshold = {}\nprotocol = \"{}\"\nport = 6443\n",
        n.interval,
        n.unhealthy,
        n.healthy,
        n.protocol.to_lowercase()
    );
    if let Some(to) = n.timeout {
        t.push_str(&format!("timeout = \"{to}s\"\n"));
    }
    if n.protocol != "TCP" {
        t.push_str(&format!("path = \"{}\"\n", n.path));
    }
    if let Some(m) = n.matcher {
        t.push_str(&format!("matcher = \"{m}\"\n"));
    }
    t
}

/// The Service that configures these settings: the AWS Load Balancer Controller sends a timeout
/// (its own default 10 s when unannotated), so an unset timeout needs the in-tree NLB controller,
/// which never sends one (and reads no success codes): `None` when no Service can say it.
fn service(n: &Nlb) -> Option<String> {
    let a = "    service.beta.kubernetes.io/aws-load-balancer-";
    let controller = match (n.timeout, n.matcher) {
        (Some(_), _) => format!("{a}type: external\n{a}nlb-target-type: ip\n"),
        (None, None) => format!("{a}type: nlb\n"),
        (None, Some(_)) => return None,
    };
    let mut t = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: ns\n  annotations:\n{controller}{a}healthcheck-interval: \"{}\"\n{a}healthcheck-unhealthy-threshold: \"{}\"\n{a}healthcheck-healthy-threshold: \"{}\"\n{a}healthcheck-protocol: {}\n",
        n.interval, n.unhealthy, n.healthy, n.protocol
    );
    if let Some(to) = n.timeout {
        t.push_str(&format!("{a}healthcheck-timeout: \"{to}\"\n"));
    }
    if n.protocol != "TCP" {
        t.push_str(&format!("{a}healthcheck-path: \"{}\"\n", n.path));
    }
    if let Some(m) = n.matcher {
        t.push_str(&format!("{a}healthcheck-success-codes: \"{m}\"\n"));
    }
    t.push_str("spec:\n  type: LoadBalancer\n  ports:\n  - port: 6443\n");
    Some(t)
}

fn plan(n: &Nlb) -> String {
    let mut hc = format!(
        "\"interval\": {}, \"healthy_threshold\": {}, \"unhealthy_threshold\": {}, \"protocol\": \"{}\", \"port\": \"6443\"",
        n.interval, n.healthy, n.unhealthy, n.protocol
    );
    if let Some(to) = n.timeout {
        hc.push_str(&format!(", \"timeout\": {to}"));
    }
    if n.protocol != "TCP" {
        hc.push_str(&format!(", \"path\": \"{}\"", n.path));
    }
    if let Some(m) = n.matcher {
        hc.push_str(&format!(", \"matcher\": \"{m}\""));
    }
    format!(
        "{{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\", \"planned_values\": {{\"root_module\": {{\"resources\": [{{\"address\": \"aws_lb_target_group.api\", \"mode\": \"managed\", \"type\": \"aws_lb_target_group\", \"name\": \"api\", \"values\": {{\"protocol\": \"TCP\", \"port\": 6443, \"health_check\": [{{{hc}}}]}}}}]}}}}}}"
    )
}

/// HAProxy settings written both ways.
#[derive(Debug, Clone)]
struct Hap {
    inter_ms: u32,
    fastinter_ms: Option<u32>,
    fall: u32,
    rise: u32,
    path: Option<&'static str>,
    expect: Option<&'static str>,
}

fn hap() -> impl Strategy<Value = Hap> {
    (
        100u32..5_000,
        prop::option::of(100u32..5_000),
        1u32..6,
        1u32..6,
        prop::option::of(prop::sample::select(vec![
            "/readyz",
            "/healthz",
            "/readyz?exclude=shutdown",
        ])),
        prop::option::of(prop::sample::select(vec![
            "status 200",
            "rstatus ^[2345]",
            "! rstatus ^5",
        ])),
    )
        .prop_map(|(inter_ms, fastinter_ms, fall, rise, path, expect)| Hap {
            inter_ms,
            fastinter_ms,
            fall,
            rise,
            path,
            expect,
        })
}

fn hap_scenario(h: &Hap) -> String {
    let mut t = format!(
        "[[lb]]\nname = \"api/s\"\nprofile = \"haproxy\"\ninter = \"{}ms\"\nfall = {}\nrise = {}\n",
        h.inter_ms, h.fall, h.rise
    );
    if let Some(f) = h.fastinter_ms {
        t.push_str(&format!("fastinter = \"{f}ms\"\n"));
    }
    match h.path {
        Some(p) => {
            t.push_str(&format!("protocol = \"http\"\npath = \"{p}\"\n"));
            if let Some(e) = h.expect {
                t.push_str(&format!("matcher = \"{e}\"\n"));
            }
        }
        None => t.push_str("protocol = \"tcp\"\n"),
    }
    t
}

fn hap_cfg(h: &Hap) -> String {
    let mut t = "backend api\n".to_string();
    if let Some(p) = h.path {
        t.push_str(&format!("  option httpchk GET {p}\n"));
        if let Some(e) = h.expect {
            t.push_str(&format!("  http-check expect {e}\n"));
        }
    }
    t.push_str(&format!(
        "  server s 10.0.0.1:6443 check inter {}ms fall {} rise {}",
        h.inter_ms, h.fall, h.rise
    ));
    if let Some(f) = h.fastinter_ms {
        t.push_str(&format!(" fastinter {f}ms"));
    }
    t.push('\n');
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn nlb_settings_mean_the_same_in_every_reader(n in nlb(), server in prop::sample::select(vec!["kube-apiserver", "kube-apiserver-openshift", "hanging"])) {
        let from_scenario = result(&[("s.toml", scenario(&n))], server);
        if let Some(svc) = service(&n) {
            let from_service = result(&[("svc.yaml", svc)], server);
            prop_assert_eq!(&from_scenario, &from_service, "{:?}", n);
        }
        let from_plan = result(&[("plan.json", plan(&n))], server);
        prop_assert_eq!(&from_scenario, &from_plan, "{:?}", n);
    }

    #[test]
    fn haproxy_settings_mean_the_same_in_a_scenario_and_a_cfg(h in hap(), server in prop::sample::select(vec!["kube-apiserver", "kube-apiserver-openshift", "hanging"])) {
        let from_scenario = result(&[("s.toml", hap_scenario(&h))], server);
        let from_cfg = result(&[("haproxy.cfg", hap_cfg(&h))], server);
        prop_assert_eq!(from_scenario, from_cfg, "{:?}", h);
    }
}
