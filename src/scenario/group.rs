//! One group of inputs (the command line's paths, or one `[[check]]` of graceline.toml) as the
//! readers found them, assembled into the model: every load balancer paired with what shuts down
//! behind it, and every Service port bound to the pods behind it.
//!
//! Who shuts down behind a load balancer:
//! - a Kubernetes Service's load balancer: each workload (or kube-apiserver pod) its selector
//!   selects among the inputs, with the pod's own preStop and grace period; an app Service is never
//!   judged as kube-apiserver unless it selects a kube-apiserver pod;
//! - a Service whose selector selects nothing among the inputs, a Service without a selector and
//!   every other load balancer (haproxy.cfg, Terraform): the group's server, i.e. the named server
//!   (`--server`, `server =`), else the one kube-apiserver manifest among the inputs, else a stated
//!   default (kube-apiserver, or an app that stops listening at SIGTERM when app workloads are
//!   among the inputs).
//!
//! The bindings (Service port → pod) are computed here once; the load balancers' scenarios and
//! the Kubernetes paths are both built from them.

use super::k8s::{AppServer, CheckTarget, Objects, Prestop, ServerInput, Target, APP_PROFILE};
use super::select::{self, Patterns, ServerPort};
use super::{
    build_lb_with, server_from_profile, LbInput, LbSpec, NamedServer, Scenario, ServerSource, DEFAULT_MIN_MARGIN,
    DEFAULT_SERVER_PROFILE, DEFAULT_TIMEOUT_PROBABILITY,
};
use crate::error::{InputError, Loc};
use crate::profiles;
use crate::provider::tiers::PropagationTier;
use crate::provider::{Located, Propagation};
use crate::time::Micros;
use anyhow::{anyhow, Result};
use std::collections::{BTreeMap, HashMap};

/// The load balancers one file (or one joined HAProxy configuration) holds.
#[derive(Debug, Clone)]
pub struct LbFile {
    /// The file's name in messages (or the joined files' names).
    pub file: String,
    /// Its load balancers, in file order.
    pub lbs: Vec<LbInput>,
}

/// What the readers found for one group of inputs, before anything is paired.
#[derive(Debug, Clone, Default)]
pub struct InputGroup {
    /// Scenario name (`name =` of a `[[check]]`).
    pub label: Option<String>,
    /// The inputs' names, for messages.
    pub files: Vec<String>,
    /// The named server (`--server`, `server =`), resolved by the readers.
    pub server: Option<NamedServer>,
    /// GL002's threshold.
    pub min_margin: Option<Micros>,
    /// `--lb` / `select =` patterns (empty: the default selection by the server's port).
    pub patterns: Patterns,
    /// The user's propagation figure for every load balancer of the group.
    pub propagation_delay: Option<Located<Propagation>>,
    /// The error tier named for the group (`--propagation`, `propagation_tier =`), over the
    /// scenario files' own.
    pub propagation_tier: Option<PropagationTier>,
    /// Load balancers, per file.
    pub lb_files: Vec<LbFile>,
    /// kube-apiserver manifests that may be the group's server.
    pub manifests: Vec<ServerInput>,
    /// Kubernetes objects.
    pub objects: Objects,
    /// Scenario files, already resolved.
    pub scenarios: Vec<Scenario>,
    /// An input with nothing to judge is not an error.
    pub allow_empty: bool,
    /// The `[paths]` settings (graceline.toml, scenario files, flags).
    pub paths: crate::scenario::path_settings::PathSettings,
}

/// A Service port bound to the pod (or server) that shuts down behind it.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The Service, `namespace/name`.
    pub service: String,
    /// Where the Service is declared.
    pub service_loc: Loc,
    /// `spec.type`.
    pub ty: String,
    /// The Service port.
    pub port: i64,
    /// Who shuts down behind it.
    pub target: Target,
    /// True when the target is the group's server because nothing among the inputs is selected.
    pub assumed_target: bool,
    /// `externalTrafficPolicy: Local`.
    pub local: bool,
    /// AWS Load Balancer Controller ip targets.
    pub ip_targets: bool,
    /// GKE NEG annotation.
    pub neg: bool,
    /// The target group's deregistration delay, when the annotation sets it.
    pub deregistration_delay: Option<Micros>,
    /// The cloud load balancers in front of this Service port: (name, what they check).
    pub lbs: Vec<(String, CheckTarget)>,
    /// `publishNotReadyAddresses: true`, with where: terminating pods stay ready endpoints.
    pub publish_not_ready: Option<Loc>,
    /// Whether the pod can be the Service's last endpoint when it terminates.
    pub last: LastEndpoint,
    /// With a NEG: the Google Cloud load balancer's own health check of the pod (GKE's defaults,
    /// the readiness probe, the Service's BackendConfig).
    pub gclb: Option<super::LbInput>,
}

/// Whether a terminating pod can be its Service's last endpoint: kube-proxy then keeps sending to
/// it while it is serving (KEP-1669, GA 1.28, for Cluster policy too: "When the traffic policy is
/// 'Cluster' and all endpoints are terminating, then traffic should be routed to any terminating
/// endpoint that is ready"), i.e. until its readiness probe fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastEndpoint {
    /// Other pods stay ready (or the count is unknown).
    No,
    /// Only when this single pod is deleted or evicted outside a rollout (a Deployment of one
    /// replica whose rollouts surge a replacement first): said in a warning.
    OnDeletion(String),
    /// Every time it goes (a bare Pod, a StatefulSet of one, `Recreate`, no surge): the path.
    Always(String),
}

/// An Ingress backend bound to the pod behind its Service.
#[derive(Debug, Clone)]
pub struct IngressBinding {
    /// The Ingress, `namespace/name`.
    pub ingress: String,
    /// Where the backend names the Service.
    pub loc: Loc,
    /// Ingress class (`ingressClassName` or the annotation).
    pub class: String,
    /// ALB ip targets.
    pub ip_targets: bool,
    /// The backend Service.
    pub service: String,
    /// Its NEG annotation.
    pub neg: bool,
    /// Who shuts down behind it.
    pub target: Target,
    /// ingress-nginx `service-upstream`: it sends to the Service's ClusterIP (kube-proxy's path).
    pub service_upstream: bool,
    /// The ALB target group's deregistration delay, when the Ingress sets it.
    pub deregistration_delay: Option<Micros>,
    /// A GKE Ingress: the Google Cloud load balancer's own health check of the pod.
    pub gclb: Option<super::LbInput>,
}

/// Something among the inputs that cannot be judged, with why (said once, at its line).
#[derive(Debug, Clone)]
pub struct Unjudged {
    /// What (`namespace/name` of the Service, Ingress or workload).
    pub subject: String,
    /// Where.
    pub loc: Loc,
    /// Why, in words.
    pub why: String,
}

/// A group assembled into the model.
#[derive(Debug, Clone)]
pub struct Group {
    /// Scenarios: a server (or a workload's pod) and the load balancers in front of it.
    pub scenarios: Vec<Scenario>,
    /// The Kubernetes objects.
    pub objects: Objects,
    /// Service ports bound to their pods.
    pub bindings: Vec<Binding>,
    /// Ingress backends bound to their pods.
    pub ingresses: Vec<IngressBinding>,
    /// What cannot be judged.
    pub unjudged: Vec<Unjudged>,
    /// How app pods shut down.
    pub app: AppServer,
    /// GL002's (and GL031's) threshold.
    pub min_margin: Micros,
    /// What was assumed rather than read, one line each.
    pub notes: Vec<String>,
    /// Issue 16's path families and the `[paths]` settings.
    pub added: AddedBindings,
}

impl Group {
    /// A group of scenarios with no Kubernetes object (the built-in matrices).
    pub fn of_scenarios(scenarios: Vec<Scenario>) -> Group {
        Group {
            scenarios,
            objects: Objects::default(),
            bindings: Vec::new(),
            ingresses: Vec::new(),
            unjudged: Vec::new(),
            app: AppServer::assumed(),
            min_margin: DEFAULT_MIN_MARGIN,
            notes: Vec::new(),
            added: AddedBindings::default(),
        }
    }

    /// The scenarios and every pod a path judges (each Service port's, Ingress backend's, route's,
    /// headless Service's and MetalLB Service's, and the kube-apiserver pods), for `--set` server
    /// settings ([`super::overrides::apply`]); a workload scenario's own pod is reached through
    /// its scenario.
    pub fn scenarios_and_pods_mut(&mut self) -> (Vec<&mut Scenario>, super::overrides::Pods<'_>) {
        let mut targets: Vec<&mut Target> = Vec::new();
        targets.extend(self.bindings.iter_mut().map(|b| &mut b.target));
        targets.extend(self.ingresses.iter_mut().map(|b| &mut b.target));
        targets.extend(self.added.routes.iter_mut().map(|b| &mut b.target));
        targets.extend(self.added.dns.iter_mut().map(|b| &mut b.target));
        targets.extend(self.added.metallb.iter_mut().map(|b| &mut b.target));
        let pods = super::overrides::Pods {
            targets,
            apiservers: self.objects.apiservers.iter_mut().collect(),
        };
        (self.scenarios.iter_mut().collect(), pods)
    }

    /// Every load balancer of the group.
    pub fn lbs(&self) -> impl Iterator<Item = &LbSpec> {
        self.scenarios.iter().flat_map(|s| &s.lbs)
    }
}

fn whole_file(file: &str) -> Loc {
    Loc {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
}

/// The server the group's load balancers are judged against when nothing else is behind them.
#[derive(Debug, Clone)]
struct GroupServer {
    spec: crate::timeline::ServerSpec,
    locs: BTreeMap<&'static str, Loc>,
    source: ServerSource,
    port: Option<ServerPort>,
}

/// The server port the default selection uses, when the server is kube-apiserver.
fn server_port(
    server: &crate::timeline::ServerSpec,
    manifest_port: Option<&(u16, Loc)>,
    from_manifest: bool,
) -> Option<ServerPort> {
    if let Some((port, l)) = manifest_port {
        return Some(ServerPort {
            port: *port,
            source: format!("--secure-port at {l}"),
        });
    }
    (from_manifest || server.profile.starts_with("kube-apiserver")).then(|| ServerPort {
        port: 6443,
        source: "kube-apiserver's default --secure-port".to_string(),
    })
}

fn group_server(g: &InputGroup, app_workloads: bool) -> Result<GroupServer> {
    if let Some((spec, locs, source)) = &g.server {
        return Ok(GroupServer {
            port: server_port(spec, None, false),
            spec: spec.clone(),
            locs: locs.clone(),
            source: source.clone(),
        });
    }
    match g.manifests.as_slice() {
        [m] => {
            let mut reason = format!("the kube-apiserver manifest among the inputs (pod {})", m.pod);
            for a in &m.assumed {
                reason.push_str("; ");
                reason.push_str(a);
            }
            Ok(GroupServer {
                port: server_port(&m.spec, m.port.as_ref(), true),
                spec: m.spec.clone(),
                locs: m.locs.clone(),
                source: ServerSource {
                    origin: m.origin.clone(),
                    assumed: !m.assumed.is_empty(),
                    reason,
                },
            })
        }
        [] => {
            let (profile, why) = if app_workloads {
                (
                    APP_PROFILE,
                    " (app workloads among the inputs: an app assumed to stop listening at SIGTERM; a Service that selects a workload is judged against that workload's own preStop and grace period)",
                )
            } else {
                (DEFAULT_SERVER_PROFILE, "")
            };
            let at = whole_file(&format!("builtin:{profile}"));
            let (spec, locs) = server_from_profile(profile, &at).map_err(|e| anyhow!(e))?;
            Ok(GroupServer {
                port: server_port(&spec, None, false),
                spec,
                locs,
                source: ServerSource {
                    origin: at.file,
                    assumed: true,
                    reason: format!(
                        "assumed built-in profile {profile}: no --server and no kube-apiserver manifest among the inputs{why}"
                    ),
                },
            })
        }
        many => {
            let names: Vec<_> = many.iter().map(|m| m.origin.as_str()).collect();
            Err(anyhow!(
                "{} kube-apiserver manifests among the inputs ({}): name the server with --server (or server = in graceline.toml)",
                many.len(),
                names.join(", ")
            ))
        }
    }
}

/// The group's server as the target of a Service that selects nothing among the inputs.
fn server_target(gs: &GroupServer, name: &str, at: &Loc) -> Target {
    // A setting of a built-in profile has no line a user can edit: findings point at the Service.
    let real = |l: &Loc| !l.file.starts_with("builtin:");
    let loc = |k: &str| {
        gs.locs
            .get(k)
            .filter(|l| real(l))
            .cloned()
            .unwrap_or_else(|| at.clone())
    };
    let s = &gs.spec;
    Target {
        kind: "server".to_string(),
        name: name.to_string(),
        file: gs.source.origin.clone(),
        container: String::new(),
        container_loc: at.clone(),
        grace_loc: loc("termination_grace_period"),
        grace_defaulted: false,
        prestop: if s.prestop_sleep > Micros::ZERO {
            Prestop::Sleep {
                duration: s.prestop_sleep,
                loc: loc("prestop_sleep"),
            }
        } else {
            Prestop::None
        },
        server: s.clone(),
        server_source: gs.source.clone(),
        delay_loc: gs.locs.get("shutdown_delay").filter(|l| real(l)).cloned(),
        apiserver: s.profile.starts_with("kube-apiserver"),
        readiness: Some(format!("readiness path {}", s.readiness_path)),
        probe: None,
        sidecar: false,
        istio_proxy: None,
    }
}

/// How app pods shut down in this group: the named server, else the stated assumption.
fn app_server(g: &InputGroup) -> AppServer {
    match &g.server {
        Some((spec, _, source)) => AppServer {
            spec: spec.clone(),
            source: source.clone(),
        },
        None => AppServer::assumed(),
    }
}

/// Builds load balancers against `server`, each profile parsed once; duplicates are errors.
fn build_lbs(
    mut inputs: Vec<LbInput>,
    server: &crate::timeline::ServerSpec,
    propagation: Option<&Located<Propagation>>,
    cache: &mut HashMap<String, Box<profiles::LbProfile>>,
) -> Result<Vec<LbSpec>> {
    if let Some(e) = inputs.iter().find_map(|i| i.refused.clone()) {
        return Err(anyhow!(e));
    }
    let mut lbs: Vec<LbSpec> = Vec::with_capacity(inputs.len());
    let mut seen: HashMap<String, u32> = HashMap::new();
    // Taken in order from the end of the reversed list, which shrinks as it goes: a large
    // haproxy.cfg never holds all of its LBs both read and built.
    inputs.reverse();
    while let Some(mut i) = inputs.pop() {
        if inputs.len() < inputs.capacity() / 2 {
            inputs.shrink_to_fit();
        }
        if !cache.contains_key(&i.profile) {
            let p = profiles::lb(&i.profile).map_err(|m| InputError::new(i.loc.clone(), "profile", m))?;
            cache.insert(i.profile.clone(), p);
        }
        if let Some(p) = propagation {
            i.settings.propagation_delay = Some(p.clone());
        }
        let spec = build_lb_with(&i, &cache[&i.profile], server)?;
        if let Some(first_line) = seen.get(&spec.name) {
            return Err(anyhow!(InputError::new(
                spec.loc.clone(),
                "",
                format!("\"{}\" is declared twice (first at line {first_line})", spec.name)
            )));
        }
        seen.insert(spec.name.clone(), spec.loc.line);
        lbs.push(spec);
    }
    Ok(lbs)
}

/// The subjects a Service's selector selects among the inputs: app workloads (through the
/// container its first resolvable port reaches) and kube-apiserver pods.
fn subjects(
    objs: &Objects,
    svc: &super::k8s::Service,
    app: &AppServer,
    unjudged: &mut Vec<Unjudged>,
    notes: &mut Vec<String>,
) -> Vec<(Target, i64)> {
    let mut out = Vec::new();
    for w in objs.selected_by(svc) {
        let mut found = None;
        for p in &svc.ports {
            match w.container_for(&p.target) {
                Ok(c) => {
                    if let super::k8s::TargetPort::Number(n) = p.target {
                        let declared = w.containers.iter().any(|c| c.ports.iter().any(|(_, cp)| *cp == n));
                        if !declared && found.is_none() && w.containers.len() > 1 {
                            notes.push(format!(
                                "{}: {} port {}: targetPort {n} is declared by no container of {} {}, so graceline judges the first container ({}); declare the port on the container that serves it",
                                p.loc, svc.name, p.port, w.kind, w.name, c.name
                            ));
                        }
                    }
                    found.get_or_insert((c, p.port));
                }
                Err(why) => unjudged.push(Unjudged {
                    subject: svc.name.clone(),
                    loc: p.loc.clone(),
                    why: format!("port {}: {why}, so these pods get no endpoint on it", p.port),
                }),
            }
        }
        if let Some((c, port)) = found {
            out.push((Target::app(w, c, app), port));
        }
    }
    for a in objs.apiservers.iter().filter(|a| a.selected_by(svc)) {
        let port = svc.ports.first().map_or(6443, |p| p.port);
        out.push((Target::apiserver(a), port));
    }
    out
}

/// Assembles a group: pairs every load balancer with what shuts down behind it and binds every
/// Service port to its pods. An input with nothing to judge is an error unless `allow_empty`.
pub fn assemble(mut g: InputGroup) -> Result<Group> {
    let app = app_server(&g);
    let min_margin = g.min_margin.unwrap_or(DEFAULT_MIN_MARGIN);
    let mut notes: Vec<String> = std::mem::take(&mut g.objects.notes);
    let mut unjudged: Vec<Unjudged> = std::mem::take(&mut g.objects.unread)
        .into_iter()
        .map(|(subject, loc, why)| Unjudged { subject, loc, why })
        .collect();
    let app_workloads = !g.objects.workloads.is_empty();
    let mut scenarios = std::mem::take(&mut g.scenarios);

    if !g.patterns.is_empty() && !g.lb_files.is_empty() {
        let all: Vec<&str> = g
            .lb_files
            .iter()
            .flat_map(|f| f.lbs.iter().map(|x| x.name.as_str()))
            .collect();
        let unmatched = g.patterns.unmatched(&all);
        if !unmatched.is_empty() {
            let mut shown: Vec<&str> = all.iter().copied().take(20).collect();
            if all.len() > 20 {
                shown.push("...");
            }
            return Err(anyhow!(
                "load-balancer pattern(s) {} match no load balancer of the inputs{}; they have: {}",
                unmatched.join(", "),
                super::words::did_you_mean(&unmatched, &all),
                shown.join(", ")
            ));
        }
    }

    // Who each Service selects among the inputs, computed once for the load balancers and the paths.
    let selected: HashMap<String, Vec<(Target, i64)>> = g
        .objects
        .services
        .iter()
        .filter(|s| s.ty != "ExternalName" && !s.headless)
        .map(|s| (s.name.clone(), subjects(&g.objects, s, &app, &mut unjudged, &mut notes)))
        .collect();
    // Service load balancers with subjects among the inputs go to their subjects' scenarios; the
    // rest are judged against the group's server.
    let mut by_subject: Vec<(Target, Vec<LbInput>)> = Vec::new();
    let mut bound: Vec<(String, i64, Target, bool)> = Vec::new();
    let mut lone_files: Vec<LbFile> = Vec::new();
    let lb_files = std::mem::take(&mut g.lb_files);
    for f in lb_files {
        let mut rest = Vec::new();
        for lb in f.lbs {
            let svc = lb
                .service
                .as_ref()
                .and_then(|name| g.objects.services.iter().find(|s| &s.name == name));
            let Some(svc) = svc else {
                rest.push(lb);
                continue;
            };
            if !g.patterns.is_empty() && !g.patterns.matches(&lb.name) {
                rest.push(lb);
                continue;
            }
            let subs = selected.get(&svc.name).cloned().unwrap_or_default();
            if subs.is_empty() {
                rest.push(lb);
                continue;
            }
            for (t, port) in subs {
                if !bound.iter().any(|(s, _, b, _)| *s == svc.name && b.name == t.name) {
                    bound.push((svc.name.clone(), port, t.clone(), false));
                }
                match by_subject
                    .iter_mut()
                    .find(|(x, _)| x.name == t.name && x.container == t.container)
                {
                    Some((_, lbs)) => lbs.push(lb.clone()),
                    None => by_subject.push((t, vec![lb.clone()])),
                }
            }
        }
        if !rest.is_empty() {
            lone_files.push(LbFile {
                file: f.file,
                lbs: rest,
            });
        }
    }

    let mut cache = HashMap::new();
    let needs_server = !lone_files.is_empty()
        || g.objects
            .services
            .iter()
            .any(|s| s.ty == "LoadBalancer" && s.selector.is_some() && !bound.iter().any(|(n, ..)| *n == s.name));
    let gs = if needs_server {
        Some(group_server(&g, app_workloads)?)
    } else {
        None
    };
    if let Some(gs) = &gs {
        for f in lone_files {
            let (inputs, skipped) = select::select(f.lbs, &g.patterns, gs.port.as_ref());
            let name = g.label.clone().unwrap_or_else(|| f.file.clone());
            let lbs = build_lbs(inputs, &gs.spec, g.propagation_delay.as_ref(), &mut cache)?;
            // A Service judged against the group's server whose selector selects nothing here.
            for lb in &lbs {
                if let Some(svc) = lb
                    .service
                    .as_ref()
                    .and_then(|n| g.objects.services.iter().find(|s| &s.name == n))
                {
                    if svc.selector.is_some() && !bound.iter().any(|(n, ..)| *n == svc.name) {
                        notes.push(format!(
                            "{}: {}: selector {} selects no workload among the inputs, so its load balancer is judged against the group's server ({})",
                            svc.loc,
                            svc.name,
                            svc.selector_text(),
                            gs.source.reason
                        ));
                        let t = server_target(gs, &format!("{} pods", svc.name), &svc.loc);
                        bound.push((svc.name.clone(), svc.ports.first().map_or(0, |p| p.port), t, true));
                    }
                }
            }
            scenarios.push(Scenario {
                name,
                file: f.file,
                server: gs.spec.clone(),
                server_locs: gs.locs.clone(),
                lbs,
                min_margin,
                propagation_tier: PropagationTier::Typical,
                server_source: gs.source.clone(),
                readyz_timeout_probability: DEFAULT_TIMEOUT_PROBABILITY,
                traffic: None,
                rollout: None,
                skipped,
                target: None,
            });
        }
    }
    for (t, inputs) in by_subject {
        let lbs = build_lbs(inputs, &t.server, g.propagation_delay.as_ref(), &mut cache)?;
        let locs = t.server_locs();
        scenarios.push(Scenario {
            name: match &g.label {
                Some(l) => format!("{l} ({})", t.name),
                None => t.name.clone(),
            },
            file: t.file.clone(),
            server: t.server.clone(),
            server_locs: locs,
            lbs,
            min_margin,
            propagation_tier: PropagationTier::Typical,
            server_source: t.server_source.clone(),
            readyz_timeout_probability: DEFAULT_TIMEOUT_PROBABILITY,
            traffic: None,
            rollout: None,
            skipped: Vec::new(),
            target: Some(t),
        });
    }

    // The error tier: the group's (command line, project file) over each scenario file's own.
    for sc in &mut scenarios {
        let tier = g.propagation_tier.unwrap_or(sc.propagation_tier);
        sc.set_propagation_tier(tier);
    }
    let (mut bindings, mut ingresses) = bind(
        &g.objects,
        &app,
        &selected,
        &bound,
        &scenarios,
        &mut unjudged,
        &mut notes,
    );
    // Issue 16's families (the block at the end of this file).
    let mut added = bind_added(
        &g.objects,
        &app,
        std::mem::take(&mut g.paths),
        &mut unjudged,
        &mut notes,
        &mut bindings,
        &mut ingresses,
    )?;
    if !g.patterns.is_empty() {
        // `--lb` / `select =` narrow the paths too: by Service or workload name.
        bindings.retain(|b| g.patterns.matches(&b.service) || g.patterns.matches(&b.target.name));
        ingresses.retain(|b| g.patterns.matches(&b.service) || g.patterns.matches(&b.target.name));
        added
            .routes
            .retain(|b| g.patterns.matches(&b.service) || g.patterns.matches(&b.target.name));
        added
            .dns
            .retain(|b| g.patterns.matches(&b.service) || g.patterns.matches(&b.target.name));
        added
            .metallb
            .retain(|b| g.patterns.matches(&b.service) || g.patterns.matches(&b.target.name));
    }
    if g.objects.proxy_mode.is_none() && (!bindings.is_empty() || !g.objects.apiservers.is_empty()) {
        notes.push(
            "kube-proxy mode assumed iptables (minSyncPeriod 1s): no KubeProxyConfiguration among the inputs"
                .to_string(),
        );
    }
    if bindings.iter().any(|b| !b.target.apiserver && !b.assumed_target)
        || ingresses.iter().any(|b| !b.target.apiserver)
        || added.any()
    {
        notes.push(app.source.reason.clone());
    }

    let judged = scenarios.iter().any(|s| !s.lbs.is_empty())
        || !bindings.is_empty()
        || !ingresses.is_empty()
        || !g.objects.apiservers.is_empty()
        || added.any();
    if !judged && !g.allow_empty {
        let what = if g.files.is_empty() {
            "no input file".to_string()
        } else {
            g.files.join(", ")
        };
        let skipped: Vec<&str> = scenarios
            .iter()
            .flat_map(|s| s.skipped.iter().map(|k| k.name.as_str()))
            .take(10)
            .collect();
        if !skipped.is_empty() {
            return Err(anyhow!(
                "{what}: every load balancer was left out by the selection ({} skipped: {}); the server's port or the --lb/select patterns match none of them",
                scenarios.iter().map(|s| s.skipped.len()).sum::<usize>(),
                skipped.join(", ")
            ));
        }
        let why: Vec<String> = unjudged
            .iter()
            .map(|u| format!("{}: {}: {}", u.loc, u.subject, u.why))
            .collect();
        return Err(anyhow!(
            "{what}: no load-balancer-to-server pair and no Kubernetes path to check{}{} (a kube-apiserver manifest alone names the server, not a load balancer; pass --allow-empty if that is expected)",
            if why.is_empty() { "" } else { ": " },
            why.join("; ")
        ));
    }
    Ok(Group {
        scenarios,
        objects: g.objects,
        bindings,
        ingresses,
        unjudged,
        app,
        min_margin,
        notes,
        added,
    })
}

/// Binds every Service port and Ingress backend among the objects to the pods behind it; what
/// cannot be bound is said once in `unjudged`. `bound` holds the subjects already chosen for the
/// load balancers' Services (including the group's server for a Service that selects nothing).
fn bind(
    objs: &Objects,
    app: &AppServer,
    selected: &HashMap<String, Vec<(Target, i64)>>,
    bound: &[(String, i64, Target, bool)],
    scenarios: &[Scenario],
    unjudged: &mut Vec<Unjudged>,
    notes: &mut Vec<String>,
) -> (Vec<Binding>, Vec<IngressBinding>) {
    let mut gclb = |s: &super::k8s::Service, port: Option<&super::k8s::ServicePort>, t: &Target| {
        let (input, said) = super::gke::neg_health_check(objs, s, port, t);
        for n in said {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        input
    };
    let lbs_of = |svc: &str| -> Vec<(String, CheckTarget)> {
        scenarios
            .iter()
            .flat_map(|s| &s.lbs)
            .filter(|l| l.service.as_deref() == Some(svc))
            .map(|l| (l.name.clone(), l.check))
            .fold(Vec::new(), |mut v, x| {
                if !v.contains(&x) {
                    v.push(x);
                }
                v
            })
    };
    let mut out: Vec<Binding> = Vec::new();
    for s in &objs.services {
        let why = if s.ty == "ExternalName" {
            Some("an ExternalName Service routes to no pod".to_string())
        } else if s.selector.is_none() {
            Some("no selector: its endpoints are written by hand or by another controller, so no workload among the inputs is behind it".to_string())
        } else if s.headless {
            Some("a headless Service (clusterIP: None): clients find the pods through DNS, a path graceline does not model".to_string())
        } else if s.ports.is_empty() {
            Some("no ports".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            // A load balancer judged on its own health check needs no path; other Services are said.
            if lbs_of(&s.name).is_empty() || s.selector.is_none() {
                unjudged.push(Unjudged {
                    subject: s.name.clone(),
                    loc: s.loc.clone(),
                    why,
                });
            }
            continue;
        }
        let mut subs = selected.get(&s.name).cloned().unwrap_or_default();
        if subs.is_empty() {
            subs = bound
                .iter()
                .filter(|(n, ..)| *n == s.name)
                .map(|(_, p, t, _)| (t.clone(), *p))
                .collect();
        }
        if subs.is_empty() {
            unjudged.push(Unjudged {
                subject: s.name.clone(),
                loc: s.loc.clone(),
                why: format!(
                    "selector {} matches no workload among the inputs (namespace {})",
                    s.selector_text(),
                    s.namespace
                ),
            });
            continue;
        }
        let assumed = bound.iter().any(|(n, _, _, a)| *n == s.name && *a);
        let last = last_endpoint(&objs.selected_by(s));
        for (t, port) in subs {
            out.push(Binding {
                service: s.name.clone(),
                service_loc: s.loc.clone(),
                ty: s.ty.clone(),
                port,
                assumed_target: assumed,
                local: s.local,
                ip_targets: s.ip_targets,
                neg: s.neg,
                deregistration_delay: s.deregistration_delay,
                lbs: lbs_of(&s.name),
                publish_not_ready: s.publish_not_ready.clone(),
                last: last.clone(),
                gclb: s.neg.then(|| gclb(s, s.ports.iter().find(|p| p.port == port), &t)),
                target: t,
            });
        }
    }
    let mut ingresses = Vec::new();
    for ing in &objs.ingresses {
        for b in &ing.backends {
            let Some(s) = objs.services.iter().find(|s| s.name == b.service) else {
                unjudged.push(Unjudged {
                    subject: ing.name.clone(),
                    loc: b.loc.clone(),
                    why: format!("backend Service {} is not among the inputs", b.service),
                });
                continue;
            };
            for w in objs.selected_by(s) {
                let Some(c) = s.ports.iter().find_map(|p| w.container_for(&p.target).ok()) else {
                    continue;
                };
                let target = Target::app(w, c, app);
                let class = controller_of(objs, ing.class.as_deref().unwrap_or(""));
                let port = b.port.as_deref().and_then(|k| {
                    s.ports
                        .iter()
                        .find(|p| p.port.to_string() == k || p.name.as_deref() == Some(k))
                });
                ingresses.push(IngressBinding {
                    gclb: class.starts_with("gce").then(|| gclb(s, port, &target)),
                    ingress: ing.name.clone(),
                    loc: b.loc.clone(),
                    class,
                    ip_targets: ing.ip_targets,
                    service: s.name.clone(),
                    neg: s.neg,
                    target,
                    service_upstream: ing.service_upstream,
                    deregistration_delay: ing.deregistration_delay,
                });
            }
        }
    }
    for w in &objs.workloads {
        let served = out.iter().any(|b| b.target.name == w.name) || ingresses.iter().any(|b| b.target.name == w.name);
        if !served {
            unjudged.push(Unjudged {
                subject: w.name.clone(),
                loc: w.loc.clone(),
                why: format!(
                    "no Service among the inputs selects this {} (labels {}), so no request path to it can be judged; pass its Services",
                    w.kind,
                    if w.labels.is_empty() {
                        "none".to_string()
                    } else {
                        w.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
                    }
                ),
            });
        }
    }
    (out, ingresses)
}

/// Whether the one pod behind a Service can be its last endpoint when it terminates.
fn last_endpoint(selected: &[&super::k8s::Workload]) -> LastEndpoint {
    use super::k8s::Strategy;
    let pods: Option<u32> = selected.iter().map(|w| w.pods()).sum();
    let [w] = selected else { return LastEndpoint::No };
    if pods != Some(1) {
        return LastEndpoint::No;
    }
    let what = format!("{} {} runs one pod", w.kind, w.name);
    match (w.kind.as_str(), w.strategy) {
        ("Pod", _) => LastEndpoint::Always(format!("{what} (a bare Pod)")),
        ("Deployment", Strategy::Rolling { surge: true }) | ("ReplicaSet", _) => LastEndpoint::OnDeletion(what),
        (_, Strategy::Recreate) => {
            LastEndpoint::Always(format!("{what} and Recreate deletes it before its replacement"))
        }
        ("StatefulSet", _) => {
            LastEndpoint::Always(format!("{what} and a StatefulSet deletes it before its replacement"))
        }
        _ => LastEndpoint::Always(format!(
            "{what} and its rollout deletes it before its replacement (no surge)"
        )),
    }
}

/// The controller family an Ingress class names: an IngressClass among the inputs decides by its
/// `spec.controller` (`k8s.io/ingress-nginx` serves any class name, `ingress.k8s.aws/alb`),
/// else the well-known class names (`nginx`, `alb`, `gce`, `gce-internal`).
fn controller_of(objs: &Objects, class: &str) -> String {
    let by_object = objs
        .ingress_classes
        .iter()
        .find(|c| c.name == class)
        .and_then(|c| match c.controller.as_str() {
            "k8s.io/ingress-nginx" => Some("nginx"),
            "ingress.k8s.aws/alb" => Some("alb"),
            _ => None,
        });
    by_object.unwrap_or(class).to_string()
}

// ---------------------------------------------------------------------------------------------
// Issue 16: the bindings of the added path families (Gateway API routes, headless Services,
// MetalLB, Istio sidecars) and the `[paths]` settings, kept apart from `bind` above.

/// A Gateway API route's backend bound to the pod behind its Service.
#[derive(Debug, Clone)]
pub struct RouteBinding {
    /// `HTTPRoute shop/web`.
    pub route: String,
    /// The parent Gateway, `namespace/name`.
    pub gateway: String,
    /// The GatewayClass's `controllerName`.
    pub controller: String,
    /// Where the backend is named.
    pub loc: Loc,
    /// The backend Service.
    pub service: String,
    /// Who shuts down behind it.
    pub target: Target,
}

/// A headless Service bound to the pod behind it.
#[derive(Debug, Clone)]
pub struct DnsBinding {
    /// The Service.
    pub service: String,
    /// Where it is declared.
    pub service_loc: Loc,
    /// The Service port.
    pub port: i64,
    /// Who shuts down behind it.
    pub target: Target,
    /// `publishNotReadyAddresses: true`, with where.
    pub publish_not_ready: Option<Loc>,
}

/// A LoadBalancer Service with `externalTrafficPolicy: Local` announced by MetalLB.
#[derive(Debug, Clone)]
pub struct MetalLbBinding {
    /// The Service.
    pub service: String,
    /// Where it is declared.
    pub service_loc: Loc,
    /// The Service port.
    pub port: i64,
    /// How MetalLB announces it.
    pub mode: super::k8s_added::MetalLbMode,
    /// Who shuts down behind it.
    pub target: Target,
}

/// A workload whose pods run an Istio sidecar.
#[derive(Debug, Clone)]
pub struct MeshMember {
    /// The workload, `namespace/name`.
    pub workload: String,
    /// The sidecar is a native one (it stops after the app).
    pub native: bool,
    /// Why native or not.
    pub native_why: String,
    /// Its terminationDrainDuration and where it comes from.
    pub drain: (Micros, String),
    /// The sidecar's own preStop (an injected manifest may carry one).
    pub prestop: Micros,
    /// Why the pod is taken to have a sidecar.
    pub how: String,
    /// Where that is written.
    pub loc: Loc,
}

/// What issue 16's path families bound, with the `[paths]` settings of the group.
#[derive(Debug, Clone, Default)]
pub struct AddedBindings {
    /// `[paths]` of graceline.toml and scenario files, and the flags.
    pub settings: crate::scenario::path_settings::PathSettings,
    /// Gateway API route backends.
    pub routes: Vec<RouteBinding>,
    /// Headless Services.
    pub dns: Vec<DnsBinding>,
    /// MetalLB Services with `externalTrafficPolicy: Local`.
    pub metallb: Vec<MetalLbBinding>,
    /// Istio mesh members.
    pub mesh: Vec<MeshMember>,
}

impl AddedBindings {
    /// True when something is bound.
    pub fn any(&self) -> bool {
        !(self.routes.is_empty() && self.dns.is_empty() && self.metallb.is_empty())
    }

    /// The mesh membership of a workload.
    pub fn member(&self, workload: &str) -> Option<&MeshMember> {
        self.mesh.iter().find(|m| m.workload == workload)
    }
}

/// GatewayClass names whose controller is assumed when the class itself is not among the inputs
/// (each implementation's documented class name).
const WELL_KNOWN_CLASSES: &[(&str, &str)] = &[
    ("istio", "istio.io/gateway-controller"),
    ("eg", "gateway.envoyproxy.io/gatewayclass-controller"),
    ("envoy-gateway", "gateway.envoyproxy.io/gatewayclass-controller"),
    ("contour", "projectcontour.io/gateway-controller"),
];

/// Istio's default terminationDrainDuration, from the data file (overridable in `[paths.stages]`).
fn istio_default_drain(settings: &crate::scenario::path_settings::PathSettings) -> (Micros, String) {
    match settings.stages.iter().find(|o| o.id == "istio-termination-drain") {
        Some(o) => (o.hi, format!("[paths.stages] istio-termination-drain at {}", o.at)),
        None => (
            crate::scenario::path_figures::figures()
                .stage("istio-termination-drain")
                .hi,
            "Istio's default (ProxyConfig terminationDrainDuration)".to_string(),
        ),
    }
}

/// `terminationDrainDuration` in a `proxy.istio.io/config` annotation (YAML or JSON in a string).
fn drain_in_proxy_config(text: &str) -> Option<Result<Micros, String>> {
    let i = text.find("terminationDrainDuration")?;
    let rest = text[i + "terminationDrainDuration".len()..].trim_start_matches(['"', '\'']);
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let value: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ',' | '}' | '\n') && !c.is_whitespace())
        .collect();
    Some(Micros::parse(&value))
}

/// Whether a workload's pods run an Istio sidecar: an injected container, the pod's
/// `sidecar.istio.io/inject` label or annotation, another `sidecar.istio.io/*` annotation, or the
/// namespace's `istio-injection` / `istio.io/rev` label (Istio's injection docs:
/// https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/).
fn mesh_member(
    objs: &Objects,
    w: &super::k8s::Workload,
    settings: &crate::scenario::path_settings::PathSettings,
) -> Result<Option<MeshMember>, InputError> {
    let added = &objs.added;
    let pod = added.pod(&w.name);
    let ann = |k: &str| pod.and_then(|p| p.annotations.get(k));
    let label = pod.and_then(|p| p.labels.get("sidecar.istio.io/inject"));
    let opt_out =
        label.is_some_and(|v| v == "false") || ann("sidecar.istio.io/inject").is_some_and(|(v, _)| v == "false");
    let how: Option<(String, Loc)> = if let Some(p) = pod.and_then(|p| p.istio_proxy.as_ref()) {
        Some(("an injected istio-proxy container".to_string(), p.loc.clone()))
    } else if opt_out {
        None
    } else if label.is_some_and(|v| v == "true") {
        Some(("the pod label sidecar.istio.io/inject=true".to_string(), w.loc.clone()))
    } else if let Some((_, at)) = ann("sidecar.istio.io/inject").filter(|(v, _)| v == "true") {
        Some((
            "the annotation sidecar.istio.io/inject: \"true\"".to_string(),
            at.clone(),
        ))
    } else if let Some(ns) = added.namespace(&w.namespace).filter(|ns| {
        ns.labels.get("istio-injection").is_some_and(|v| v == "enabled") || ns.labels.contains_key("istio.io/rev")
    }) {
        Some((
            format!(
                "the namespace label of {} (istio-injection=enabled or istio.io/rev)",
                ns.name
            ),
            ns.loc.clone(),
        ))
    } else if let Some((k, (_, at))) =
        pod.and_then(|p| p.annotations.iter().find(|(k, _)| k.starts_with("sidecar.istio.io/")))
    {
        Some((format!("the annotation {k} (a sidecar is assumed)"), at.clone()))
    } else {
        None
    };
    let Some((how, loc)) = how else { return Ok(None) };
    let proxy = pod.and_then(|p| p.istio_proxy.as_ref());
    let (native, native_why) = if let Some(p) = proxy {
        (
            p.native,
            if p.native {
                "istio-proxy is an init container with restartPolicy: Always".to_string()
            } else {
                "istio-proxy is a regular container".to_string()
            },
        )
    } else if let Some((v, at)) = ann("sidecar.istio.io/nativeSidecar") {
        (v == "true", format!("sidecar.istio.io/nativeSidecar: \"{v}\" at {at}"))
    } else if let Some(s) = &settings.istio_native_sidecars {
        (s.value, format!("istio_native_sidecars = {} at {}", s.value, s.at))
    } else {
        (
            false,
            "assumed a regular container (istiod's ENABLE_NATIVE_SIDECARS defaulted to false before Istio 1.27; set [paths] istio_native_sidecars = true or the annotation sidecar.istio.io/nativeSidecar if yours injects native sidecars)".to_string(),
        )
    };
    let drain = match ann("proxy.istio.io/config") {
        Some((text, at)) => match drain_in_proxy_config(text) {
            Some(Ok(d)) => (d, format!("proxy.istio.io/config at {at}")),
            Some(Err(e)) => {
                return Err(InputError::new(
                    at.clone(),
                    "proxy.istio.io/config",
                    format!("terminationDrainDuration: {e}"),
                ))
            }
            None => istio_default_drain(settings),
        },
        None => istio_default_drain(settings),
    };
    Ok(Some(MeshMember {
        workload: w.name.clone(),
        native,
        native_why,
        drain,
        prestop: proxy.map_or(Micros::ZERO, |p| p.prestop.duration()),
        how,
        loc,
    }))
}

/// Gives a target its sidecar: a regular istio-proxy exits its preStop + drain after t = 0, at
/// the latest at SIGKILL; a native one stops after the app and changes nothing.
fn with_sidecar(t: &mut Target, mesh: &[MeshMember]) {
    let Some(m) = mesh.iter().find(|m| m.workload == t.name).filter(|m| !m.native) else {
        return;
    };
    t.istio_proxy = Some(super::k8s_added::Sidecar {
        exit: (m.prestop + m.drain.0).min(t.server.termination_grace_period),
        drain: m.drain.0,
        drain_source: m.drain.1.clone(),
        how: m.how.clone(),
        loc: m.loc.clone(),
    });
}

/// The pod behind a Service port (or the first port when `port` is `None`): `Err` says why none.
fn backend_target(
    objs: &Objects,
    svc: &super::k8s::Service,
    port: Option<i64>,
    app: &AppServer,
) -> Result<Vec<(Target, i64)>, String> {
    let sp = match port {
        Some(p) => svc
            .ports
            .iter()
            .find(|x| x.port == p)
            .ok_or_else(|| format!("port {p} is not a port of Service {}", svc.name))?,
        None => svc
            .ports
            .first()
            .ok_or_else(|| format!("Service {} has no ports", svc.name))?,
    };
    let ws = objs.selected_by(svc);
    if ws.is_empty() {
        return Err(format!(
            "Service {} selects no workload among the inputs (selector {})",
            svc.name,
            svc.selector_text()
        ));
    }
    let mut out = Vec::new();
    for w in ws {
        let c = w.container_for(&sp.target)?;
        out.push((Target::app(w, c, app), sp.port));
    }
    Ok(out)
}

/// Binds the route backends of every Gateway of a known class; what cannot be bound is said.
fn bind_routes(
    objs: &Objects,
    app: &AppServer,
    unjudged: &mut Vec<Unjudged>,
    notes: &mut Vec<String>,
) -> Vec<RouteBinding> {
    let added = &objs.added;
    let mut out = Vec::new();
    let mut said: Vec<String> = Vec::new();
    let mut say = |unjudged: &mut Vec<Unjudged>, subject: &str, loc: &Loc, why: String| {
        let key = format!("{loc} {why}");
        if !said.contains(&key) {
            said.push(key);
            unjudged.push(Unjudged {
                subject: subject.to_string(),
                loc: loc.clone(),
                why,
            });
        }
    };
    for r in &added.routes {
        let subject = format!("{} {}", r.kind, r.name);
        for p in &r.parents {
            if p.kind == "Service" {
                say(
                    unjudged,
                    &subject,
                    &p.loc,
                    format!("its parent is Service {} (a GAMMA mesh route): the mesh's own path is judged for the pods behind that Service (istio-mesh), this route's rules are not modelled", p.name),
                );
                continue;
            }
            if p.kind != "Gateway" {
                say(
                    unjudged,
                    &subject,
                    &p.loc,
                    format!("parent kind {} is not one graceline models (Gateway)", p.kind),
                );
                continue;
            }
            let Some(gw) = added.gateways.iter().find(|g| g.name == p.name) else {
                say(unjudged, &subject, &p.loc, format!("parent Gateway {} is not among the inputs, so its class (and implementation) is unknown; pass the Gateway and its GatewayClass", p.name));
                continue;
            };
            let controller = match added.gateway_classes.iter().find(|c| c.name == gw.class) {
                Some(c) => c.controller.clone(),
                None => match WELL_KNOWN_CLASSES.iter().find(|(n, _)| *n == gw.class) {
                    Some((_, c)) => {
                        let note = format!(
                            "{}: Gateway {}: GatewayClass \"{}\" is not among the inputs; assumed controller {c} (the class name that implementation documents)",
                            gw.class_loc, gw.name, gw.class
                        );
                        if !notes.contains(&note) {
                            notes.push(note);
                        }
                        (*c).to_string()
                    }
                    None if gw.class.starts_with("gke-l7-") => {
                        let note = format!(
                            "{}: Gateway {}: GatewayClass \"{}\" is not among the inputs; assumed GKE's controller networking.gke.io/gateway (GKE's gke-l7-* classes)",
                            gw.class_loc, gw.name, gw.class
                        );
                        if !notes.contains(&note) {
                            notes.push(note);
                        }
                        "networking.gke.io/gateway".to_string()
                    }
                    None => {
                        say(unjudged, &format!("Gateway {}", gw.name), &gw.class_loc, format!("GatewayClass \"{}\" is not among the inputs, so its controller is unknown; pass the GatewayClass", gw.class));
                        continue;
                    }
                },
            };
            if super::k8s_added::Implementation::of_controller(&controller).is_none() {
                let at = added
                    .gateway_classes
                    .iter()
                    .find(|c| c.name == gw.class)
                    .map_or(gw.class_loc.clone(), |c| c.loc.clone());
                say(
                    unjudged,
                    &format!("GatewayClass {}", gw.class),
                    &at,
                    format!(
                        "controller {controller} is not one graceline models ({}), so the routes of Gateway {}",
                        super::k8s_added::Implementation::known().join(", "),
                        gw.name
                    ),
                );
                continue;
            }
            for b in &r.backends {
                if b.kind != "Service" {
                    say(
                        unjudged,
                        &subject,
                        &b.loc,
                        format!("backend kind {} is not one graceline models (Service)", b.kind),
                    );
                    continue;
                }
                let Some(svc) = objs.services.iter().find(|s| s.name == b.name) else {
                    say(
                        unjudged,
                        &subject,
                        &b.loc,
                        format!("backend Service {} is not among the inputs", b.name),
                    );
                    continue;
                };
                match backend_target(objs, svc, b.port, app) {
                    Ok(ts) => {
                        for (t, _) in ts {
                            out.push(RouteBinding {
                                route: subject.clone(),
                                gateway: gw.name.clone(),
                                controller: controller.clone(),
                                loc: b.loc.clone(),
                                service: svc.name.clone(),
                                target: t,
                            });
                        }
                    }
                    Err(why) => say(unjudged, &subject, &b.loc, format!("backend: {why}")),
                }
            }
        }
    }
    for (what, loc) in &added.unread_routes {
        if what.starts_with("Istio ") {
            // Istio's own routing: the pods behind its destinations are judged through their
            // Services (istio-mesh), its rules are not read.
            let n = format!(
                "{loc}: {what}: its routing rules are not read; the pods behind its destinations are judged through their Services (istio-mesh for mesh members)"
            );
            if !notes.contains(&n) {
                notes.push(n);
            }
            continue;
        }
        say(
            unjudged,
            what,
            loc,
            "not modelled (graceline reads Gateway API HTTPRoute and GRPCRoute)".to_string(),
        );
    }
    out
}

/// Binds issue 16's path families and gives every bound target its Istio sidecar.
fn bind_added(
    objs: &Objects,
    app: &AppServer,
    mut settings: crate::scenario::path_settings::PathSettings,
    unjudged: &mut Vec<Unjudged>,
    notes: &mut Vec<String>,
    bindings: &mut [Binding],
    ingresses: &mut [IngressBinding],
) -> Result<AddedBindings> {
    use crate::scenario::path_settings::{Dataplane, Setting};
    let added = &objs.added;
    if let Some(c) = &added.cilium {
        if settings.dataplane.is_none() && c.replaces_kube_proxy {
            settings.dataplane = Some(Setting {
                value: Dataplane::Cilium,
                at: format!("kube-proxy-replacement: \"{}\" at {}", c.value, c.loc),
            });
        } else if !c.replaces_kube_proxy && c.value != "false" && c.value != "disabled" {
            notes.push(format!(
                "{}: Cilium kube-proxy-replacement \"{}\": kube-proxy keeps running and which of the two handles a connection depends on the features enabled; judged as kube-proxy (set [paths] dataplane = \"cilium\" or --dataplane cilium if Cilium handles your Services)",
                c.loc, c.value
            ));
        }
    }
    if settings
        .dataplane
        .as_ref()
        .is_some_and(|d| d.value == Dataplane::Cilium)
    {
        notes.retain(|n| !n.starts_with("kube-proxy mode assumed"));
    }
    let mut mesh = Vec::new();
    for w in &objs.workloads {
        if let Some(m) = mesh_member(objs, w, &settings)? {
            mesh.push(m);
        }
    }
    let mut routes = bind_routes(objs, app, unjudged, notes);
    let mut dns = Vec::new();
    let mut metallb = Vec::new();
    let announced: Vec<super::k8s_added::MetalLbMode> = {
        let mut m = Vec::new();
        for (mode, _) in &added.metallb {
            if !m.contains(mode) {
                m.push(*mode);
            }
        }
        m
    };
    for s in &objs.services {
        if s.headless && s.selector.is_some() && !s.ports.is_empty() {
            // This family judges the headless Service: `bind` said it could not.
            unjudged.retain(|u| !(u.subject == s.name && u.loc == s.loc));
            let publish_not_ready = s.publish_not_ready.clone();
            let subs = subjects(objs, s, app, unjudged, notes);
            if subs.is_empty() {
                unjudged.push(Unjudged {
                    subject: s.name.clone(),
                    loc: s.loc.clone(),
                    why: format!(
                        "selector {} matches no workload among the inputs (namespace {})",
                        s.selector_text(),
                        s.namespace
                    ),
                });
            }
            for (t, port) in subs {
                dns.push(DnsBinding {
                    service: s.name.clone(),
                    service_loc: s.loc.clone(),
                    port,
                    target: t,
                    publish_not_ready: publish_not_ready.clone(),
                });
            }
        }
        let metallb_service = added.service(&s.name).is_some_and(|x| x.metallb.is_some()) || !announced.is_empty();
        if s.ty == "LoadBalancer" && s.local && metallb_service && !s.headless && s.selector.is_some() {
            let modes = if announced.is_empty() {
                notes.push(format!(
                    "{}: {}: MetalLB annotation without an L2Advertisement or BGPAdvertisement among the inputs: layer 2 assumed",
                    s.loc, s.name
                ));
                vec![super::k8s_added::MetalLbMode::L2]
            } else {
                announced.clone()
            };
            let ws = objs.selected_by(s);
            for w in ws {
                let Some((c, port)) = s
                    .ports
                    .iter()
                    .find_map(|p| w.container_for(&p.target).ok().map(|c| (c, p.port)))
                else {
                    continue;
                };
                for mode in &modes {
                    metallb.push(MetalLbBinding {
                        service: s.name.clone(),
                        service_loc: s.loc.clone(),
                        port,
                        mode: *mode,
                        target: Target::app(w, c, app),
                    });
                }
            }
        }
    }
    // A workload these families reach is served after all (`bind` said no Service selects it).
    for w in &objs.workloads {
        let reached = routes.iter().any(|b| b.target.name == w.name)
            || dns.iter().any(|b| b.target.name == w.name)
            || metallb.iter().any(|b| b.target.name == w.name);
        if reached {
            unjudged.retain(|u| !(u.subject == w.name && u.loc == w.loc));
        }
    }
    for b in bindings.iter_mut() {
        with_sidecar(&mut b.target, &mesh);
    }
    for b in ingresses.iter_mut() {
        with_sidecar(&mut b.target, &mesh);
    }
    for b in &mut routes {
        with_sidecar(&mut b.target, &mesh);
    }
    for b in &mut dns {
        with_sidecar(&mut b.target, &mesh);
    }
    for b in &mut metallb {
        with_sidecar(&mut b.target, &mesh);
    }
    Ok(AddedBindings {
        settings,
        routes,
        dns,
        metallb,
        mesh,
    })
}
