//! From what the inputs hold to paths: Services matched to workloads by selector and port, the
//! paths each Service and Ingress opens, the `kubernetes` Service of every kube-apiserver pod, and
//! the app's shutdown (assumed to stop listening at SIGTERM unless a server is named). What cannot
//! be judged is said (GL033), never skipped.

use super::apiserver_service::{self, Reconciler};
use super::kube_proxy::{self, Mode};
use super::{analyze, ingress, lb_controller, local_traffic, target_findings, Path, PathsAnalysis, Target};
use crate::analysis::findings::{Finding, Rule};
use crate::error::Loc;
use crate::input::workload::{self, Objects, Service, TargetPort, Workload};
use crate::input::{self, yaml, Options, ServerRef};
use crate::scenario::{self, Scenario, ServerSource, DEFAULT_MIN_MARGIN};
use crate::time::Micros;
use crate::timeline::ServerSpec;
use anyhow::{anyhow, Result};
use std::path::{Path as FsPath, PathBuf};

/// The profile an app pod is assumed to shut down like.
pub const APP_PROFILE: &str = "app-stops-at-sigterm";

/// How app pods shut down: a named server, else the assumption.
#[derive(Debug, Clone)]
pub struct AppServer {
    /// The server's settings (preStop and grace period come from each pod).
    pub spec: ServerSpec,
    /// Where it came from.
    pub source: ServerSource,
}

impl AppServer {
    /// The stated assumption: the app stops listening at SIGTERM.
    pub fn assumed() -> Result<AppServer> {
        let at = Loc {
            file: format!("builtin:{APP_PROFILE}"),
            line: 1,
            column: 1,
        };
        let (spec, _) = scenario::server_from_profile(APP_PROFILE, &at).map_err(|e| anyhow!(e))?;
        Ok(AppServer {
            spec,
            source: ServerSource {
                origin: at.file,
                assumed: true,
                reason: format!(
                    "assumed: app pods stop listening at SIGTERM and drain for up to {} (profile {APP_PROFILE}, the Passenger case); name how your app shuts down with --server, server = in graceline.toml or a scenario [server]",
                    spec_request_grace(APP_PROFILE)
                ),
            },
        })
    }
}

fn spec_request_grace(profile: &str) -> Micros {
    let at = Loc {
        file: String::new(),
        line: 1,
        column: 1,
    };
    scenario::server_from_profile(profile, &at).map_or(Micros::ZERO, |(s, _)| s.request_grace)
}

/// A group of inputs judged together: files, the app server and the margin.
struct Group {
    files: Vec<PathBuf>,
    server: Option<ServerRef>,
    min_margin: Micros,
}

fn is_yaml(path: &FsPath, opts: &Options) -> bool {
    match opts.kind {
        Some(input::InputKind::K8s | input::InputKind::Manifest) => true,
        Some(_) => false,
        None => {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            ext == "yaml" || ext == "yml"
        }
    }
}

/// Reads the Kubernetes objects of a group's YAML files. Standard input (`-`, read once and cached
/// by `input`) counts when `--input-kind` or its content says Kubernetes, as it has no file name.
fn read_group(g: &Group, opts: &Options) -> Result<Objects> {
    let mut all = Objects::default();
    for p in &g.files {
        let text = if input::is_stdin(p) {
            // Not UTF-8: an haproxy.cfg the load-balancer reader accepted, or refused already.
            let Ok(text) = String::from_utf8(input::read_bytes(p)?) else {
                continue;
            };
            let k8s = match opts.kind {
                Some(_) => is_yaml(p, opts),
                None => input::is_kubernetes_text(&text),
            };
            if !k8s {
                continue;
            }
            text
        } else if is_yaml(p, opts) && p.is_file() {
            input::read_text(p)?
        } else {
            continue;
        };
        let name = input::display_name(p);
        let t = yaml::Text::new(&name, &text);
        let docs = yaml::load(&t)?;
        all.extend(workload::read(&t, &docs)?);
    }
    Ok(all)
}

fn groups(paths: &[PathBuf], opts: &Options) -> Result<Vec<Group>> {
    let mut out = Vec::new();
    let mut cli = Vec::new();
    for p in paths {
        let is_toml = opts.kind.is_none() && p.extension().is_some_and(|e| e == "toml") && p.is_file();
        if is_toml {
            let text = input::read_text(p)?;
            if input::is_project(&text) {
                for g in input::project::groups_with(p, &text, true)? {
                    out.push(Group {
                        files: g.files,
                        server: g.server,
                        min_margin: g.min_margin.unwrap_or(DEFAULT_MIN_MARGIN),
                    });
                }
                continue;
            }
        }
        cli.push(p.clone());
    }
    if !cli.is_empty() {
        out.push(Group {
            files: cli,
            server: opts.server.as_ref().map(|s| ServerRef {
                text: s.clone(),
                base: PathBuf::new(),
                at: None,
                via: "--server".to_string(),
            }),
            min_margin: DEFAULT_MIN_MARGIN,
        });
    }
    Ok(out)
}

/// Loads the Kubernetes objects among `paths` and judges every path; `scenarios` are the load
/// balancers `check` already read (an `externalTrafficPolicy: Local` path uses its Service's).
pub fn run(paths: &[PathBuf], opts: &Options, scenarios: &[Scenario]) -> Result<PathsAnalysis> {
    let mut out = PathsAnalysis::default();
    for g in groups(paths, opts)? {
        let objs = read_group(&g, opts)?;
        if !objs.any() {
            out.assumptions.extend(objs.notes);
            continue;
        }
        let app = match &g.server {
            Some(r) => {
                let (spec, _, source) = input::resolve_server(r)?;
                AppServer { spec, source }
            }
            None => AppServer::assumed()?,
        };
        let lbs: Vec<&crate::scenario::LbSpec> = scenarios.iter().flat_map(|s| &s.lbs).collect();
        let mut a = judge(&objs, &app, &lbs, g.min_margin);
        // A kube-apiserver manifest that is also the server of the load balancers already has
        // its GL004 in their results: report it once.
        a.general.retain(|(_, f)| {
            !(f.rule == Rule::GL004
                && scenarios
                    .iter()
                    .any(|s| !s.lbs.is_empty() && s.server_source.origin == f.loc.file))
        });
        out.reports.append(&mut a.reports);
        out.general.append(&mut a.general);
        for x in a.assumptions {
            if !out.assumptions.contains(&x) {
                out.assumptions.push(x);
            }
        }
    }
    Ok(out)
}

fn app_target(w: &Workload, c: &workload::Container, app: &AppServer) -> Target {
    let mut server = app.spec.clone();
    server.prestop_sleep = c.prestop.duration();
    let (grace, grace_loc) = match &w.grace {
        Some((g, l)) => (*g, l.clone()),
        None => (Micros::from_secs(30), w.spec_loc.clone()),
    };
    server.termination_grace_period = grace;
    Target {
        kind: w.kind.clone(),
        name: w.name.clone(),
        file: w.file.clone(),
        container: c.name.clone(),
        container_loc: c.loc.clone(),
        grace_loc,
        grace_defaulted: w.grace.is_none(),
        prestop: c.prestop.clone(),
        server,
        server_source: app.source.clone(),
        delay_loc: None,
        apiserver: false,
        readiness: c.readiness.clone(),
    }
}

/// The container a Service port reaches, or why it reaches none.
fn resolve_port<'w>(w: &'w Workload, target: &TargetPort) -> Result<&'w workload::Container, String> {
    match target {
        TargetPort::Name(n) => w
            .containers
            .iter()
            .find(|c| c.ports.iter().any(|(name, _)| name.as_deref() == Some(n)))
            .ok_or_else(|| format!("targetPort \"{n}\" names no container port of {} {}", w.kind, w.name)),
        TargetPort::Number(p) => Ok(w
            .containers
            .iter()
            .find(|c| c.ports.iter().any(|(_, cp)| cp == p))
            .unwrap_or(&w.containers[0])),
    }
}

fn is_lb_svc(s: &Service, lbs: &[&crate::scenario::LbSpec]) -> bool {
    s.ty == "LoadBalancer"
        && lbs
            .iter()
            .any(|l| l.name == s.name || l.name.starts_with(&format!("{}:", s.name)))
}

fn matches(s: &Service, w: &Workload) -> bool {
    s.namespace == w.namespace
        && s.selector
            .as_ref()
            .is_some_and(|sel| sel.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
}

fn unjudged(out: &mut PathsAnalysis, subject: &str, loc: &Loc, why: String) {
    out.general.push((
        subject.to_string(),
        Finding::new(
            Rule::GL033,
            loc.clone(),
            format!("{subject}: {why}; it cannot be judged"),
        ),
    ));
}

/// Judges every path the objects open.
pub fn judge(objs: &Objects, app: &AppServer, lbs: &[&crate::scenario::LbSpec], min_margin: Micros) -> PathsAnalysis {
    let mut out = PathsAnalysis::default();
    out.assumptions.extend(objs.notes.iter().cloned());
    let mode = match &objs.proxy_mode {
        Some((m, _)) => *m,
        None => {
            if objs
                .services
                .iter()
                .any(|s| !is_lb_svc(s, lbs) || objs.workloads.iter().any(|w| matches(s, w)))
                || !objs.apiservers.is_empty()
            {
                out.assumptions.push(
                    "kube-proxy mode assumed iptables (minSyncPeriod 1s): no KubeProxyConfiguration among the inputs"
                        .to_string(),
                );
            }
            Mode::Iptables
        }
    };
    let mut judged: Vec<(Target, Path)> = Vec::new();
    // LoadBalancer Services already checked for their health checks, with nothing to judge behind
    // them among the inputs: said once in a note, not as one warning each.
    let mut lb_only: Vec<&str> = Vec::new();
    let is_lb = |s: &Service| is_lb_svc(s, lbs);
    for s in &objs.services {
        if is_lb(s) && (s.selector.is_none() || !objs.workloads.iter().any(|w| matches(s, w))) {
            lb_only.push(&s.name);
            continue;
        }
        if s.ty == "ExternalName" {
            unjudged(
                &mut out,
                &s.name,
                &s.loc,
                "an ExternalName Service routes to no pod".to_string(),
            );
            continue;
        }
        if s.selector.is_none() {
            unjudged(&mut out, &s.name, &s.loc, "no selector: its endpoints are written by hand or by another controller, so no workload among the inputs is behind it".to_string());
            continue;
        }
        let matched: Vec<&Workload> = objs.workloads.iter().filter(|w| matches(s, w)).collect();
        if matched.is_empty() {
            let sel = s
                .selector
                .iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            unjudged(
                &mut out,
                &s.name,
                &s.loc,
                format!(
                    "selector {sel} matches no workload among the inputs (namespace {})",
                    s.namespace
                ),
            );
            continue;
        }
        if s.headless {
            unjudged(&mut out, &s.name, &s.loc, "a headless Service (clusterIP: None): clients find the pods through DNS, a path graceline does not model".to_string());
            continue;
        }
        for w in matched {
            let mut container = None;
            for p in &s.ports {
                match resolve_port(w, &p.target) {
                    Ok(c) => {
                        container.get_or_insert((c, p.port));
                    }
                    Err(why) => unjudged(
                        &mut out,
                        &s.name,
                        &p.loc,
                        format!("port {}: {why}, so these pods get no endpoint on it", p.port),
                    ),
                }
            }
            if s.ports.is_empty() {
                unjudged(&mut out, &s.name, &s.loc, "no ports".to_string());
            }
            let Some((c, port)) = container else { continue };
            let t = app_target(w, c, app);
            let label = format!("{}:{port} {}", s.name, s.ty);
            judged.push((t.clone(), kube_proxy::path(&s.name, &label, s.loc.clone(), mode)));
            if s.ty != "LoadBalancer" {
                continue;
            }
            if s.ip_targets {
                let gate = w.labels.keys().any(|k| k.starts_with("elbv2.k8s.aws"));
                judged.push((
                    t.clone(),
                    lb_controller::path(
                        &s.name,
                        &label,
                        s.loc.clone(),
                        lb_controller::Lb::Nlb,
                        s.deregistration_delay,
                        gate,
                    ),
                ));
            } else if s.local {
                let lb = lbs
                    .iter()
                    .find(|l| l.name == s.name || l.name.starts_with(&format!("{}:", s.name)));
                match lb {
                    Some(lb) => judged.push((t.clone(), local_traffic::path(&s.name, &label, s.loc.clone(), mode, lb))),
                    None => unjudged(&mut out, &s.name, &s.loc, "externalTrafficPolicy Local, but no load balancer was read for it (pass --cloud or a cloud annotation)".to_string()),
                }
            }
            if s.neg {
                judged.push((t.clone(), ingress::neg_path(&s.name, &label, s.loc.clone())));
            }
        }
    }
    for ing in &objs.ingresses {
        let class = ing.class.as_deref().unwrap_or("");
        for b in &ing.backends {
            let Some(s) = objs.services.iter().find(|s| s.name == b.service) else {
                unjudged(
                    &mut out,
                    &ing.name,
                    &b.loc,
                    format!("backend Service {} is not among the inputs", b.service),
                );
                continue;
            };
            for w in objs.workloads.iter().filter(|w| matches(s, w)) {
                let Some(c) = s.ports.iter().find_map(|p| resolve_port(w, &p.target).ok()) else {
                    continue;
                };
                let t = app_target(w, c, app);
                let label = format!("{} -> {}", ing.name, s.name);
                let path = match class {
                    "nginx" => ingress::nginx_path(&s.name, &label, b.loc.clone()),
                    "alb" if ing.ip_targets => {
                        lb_controller::path(&s.name, &label, b.loc.clone(), lb_controller::Lb::Alb, None, false)
                    }
                    "alb" => kube_proxy::path(&s.name, &format!("{label} (ALB instance targets)"), b.loc.clone(), mode),
                    "gce" | "gce-internal" => ingress::neg_path(&s.name, &label, b.loc.clone()),
                    other => {
                        unjudged(
                            &mut out,
                            &ing.name,
                            &ing.loc,
                            format!("ingress class \"{other}\" is not one graceline models (nginx, alb, gce)"),
                        );
                        break;
                    }
                };
                if class.starts_with("gce") && !s.neg {
                    out.assumptions.push(format!(
                        "{}: GKE Ingress assumed container-native (NEG, the default on VPC-native clusters) for {}",
                        ing.name, s.name
                    ));
                }
                judged.push((t, path));
            }
        }
    }
    for a in &objs.apiservers {
        let s = &a.server;
        let t = Target {
            kind: "Pod (kube-apiserver)".to_string(),
            name: s.pod.clone(),
            file: s.origin.clone(),
            container: "kube-apiserver".to_string(),
            container_loc: a.container_loc.clone(),
            grace_loc: s
                .locs
                .get("termination_grace_period")
                .cloned()
                .unwrap_or_else(|| a.container_loc.clone()),
            grace_defaulted: false,
            prestop: Prestop::from_apiserver(s),
            server: s.spec.clone(),
            server_source: ServerSource {
                origin: s.origin.clone(),
                assumed: false,
                reason: format!("the kube-apiserver manifest (pod {})", s.pod),
            },
            delay_loc: s.locs.get("shutdown_delay").filter(|l| **l != a.container_loc).cloned(),
            apiserver: true,
            readiness: Some(format!("httpGet {}", s.spec.readiness_path)),
        };
        let loc = a.reconciler_loc.clone().unwrap_or_else(|| a.container_loc.clone());
        if a.reconciler_loc.is_none() {
            out.assumptions.push(format!(
                "{}: --endpoint-reconciler-type not set: lease (the default since 1.11)",
                s.origin
            ));
        }
        judged.push((t, apiserver_service::path(&s.pod, loc, a.reconciler, mode)));
        if a.reconciler == Reconciler::Lease {
            out.general.push((
                s.pod.clone(),
                Finding::new(
                    Rule::GL035,
                    a.container_loc.clone(),
                    format!(
                        "{}: if this kube-apiserver crashes instead of shutting down, it stays in the `kubernetes` endpoints for up to {} (lease TTL + a peer's reconcile) and in-cluster clients get refused connections meanwhile",
                        s.pod,
                        apiserver_service::crash_window()
                    ),
                ),
            ));
        }
    }
    if !lb_only.is_empty() {
        let shown: Vec<&str> = lb_only.iter().take(5).copied().collect();
        out.assumptions.push(format!(
            "{} LoadBalancer Service(s) ({}{}) checked for their health checks only: no workload among the inputs matches their selector, so their Kubernetes paths cannot be judged (pass the workloads behind them)",
            lb_only.len(),
            shown.join(", "),
            if lb_only.len() > shown.len() { ", ..." } else { "" }
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for (t, p) in judged {
        let key = format!("{}/{}", t.name, t.container);
        if !seen.contains(&key) {
            seen.push(key);
            for f in target_findings(&t) {
                out.general.push((t.name.clone(), f));
            }
        }
        out.reports.push(analyze(&t, &p, min_margin));
    }
    if out.reports.iter().any(|r| !r.target.apiserver) {
        out.assumptions.push(app.source.reason.clone());
    }
    out
}

use super::Prestop;

impl Prestop {
    /// The preStop of a kube-apiserver pod as `manifest` read it.
    fn from_apiserver(s: &input::ServerInput) -> Prestop {
        match s.locs.get("prestop_sleep") {
            Some(loc) if s.spec.prestop_sleep > Micros::ZERO => Prestop::Sleep {
                duration: s.spec.prestop_sleep,
                loc: loc.clone(),
            },
            _ => Prestop::None,
        }
    }
}
