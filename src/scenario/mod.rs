//! Scenario files: a server timeline and the load balancers in front of it, loaded from TOML with
//! every value traced to its file, line and column.

pub mod gke;
pub mod group;
pub mod k8s;
pub mod k8s_added;
pub mod layout;
pub mod overrides;
pub mod path_figures;
pub mod path_settings;
pub mod select;
pub mod sources;
pub mod teaching;
pub mod words;

use crate::error::{Doc, InputError, Loc};
use crate::profiles::{self, LbProfile};
use crate::provider::latency::{self, Latency, LatencyRange};
use crate::provider::tiers::{PropagationTier, Tiers};
use crate::provider::{self, Check, LbRaw, LbSettings, Limits, Located, ProbeModel, ProberCount, Protocol, Provider};
use crate::time::{Micros, MAX_INPUT};
use crate::timeline::{ReadyzFailure, ServerRaw, ServerSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// Server profile used when a scenario names none.
pub const DEFAULT_SERVER_PROFILE: &str = "kube-apiserver";
/// Default minimum margin before GL002 warns.
pub const DEFAULT_MIN_MARGIN: Micros = Micros::from_secs(5);
/// Largest threshold or prober count accepted (larger is certainly a typo).
pub const MAX_COUNT: u32 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioRaw {
    name: Option<Spanned<String>>,
    server: Option<Spanned<ServerRaw>>,
    #[serde(default)]
    lb: Vec<Spanned<LbRaw>>,
    analysis: Option<AnalysisRaw>,
    traffic: Option<Spanned<TrafficRaw>>,
    rollout: Option<Spanned<RolloutRaw>>,
    /// `[paths]`: read by `crate::scenario::path_settings` (accepted here so the table is known).
    #[allow(dead_code)]
    paths: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolloutRaw {
    replicas: Option<Spanned<u32>>,
    max_unavailable: Option<Spanned<u32>>,
    startup_time: Option<Spanned<Micros>>,
    min_ready: Option<Spanned<Micros>>,
}

/// The `[rollout]` table: a rolling restart of every replica, for `report`'s rollout estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    /// Replicas restarted one wave after another.
    pub replicas: u32,
    /// Replicas restarted at once (a wave).
    pub max_unavailable: u32,
    /// From process exit until the replacement answers its readiness checks.
    pub startup_time: Micros,
    /// How long a ready replacement must stay ready before the next wave starts (Kubernetes
    /// `minReadySeconds`; 0 by default).
    pub min_ready: Micros,
    /// Line of the `[rollout]` table (for findings).
    pub line: u32,
    /// Column of the `[rollout]` table.
    pub column: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficRaw {
    requests_per_second: Option<Spanned<f64>>,
    backends: Option<Spanned<u32>>,
}

/// The `[traffic]` table: the request rate the LB spreads over the backends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    /// New requests per second through the LB, all backends together.
    pub requests_per_second: f64,
    /// Backends sharing them evenly.
    pub backends: u32,
}

impl Traffic {
    /// New requests per second one backend receives.
    pub fn per_backend(&self) -> f64 {
        self.requests_per_second / f64::from(self.backends)
    }
}

/// Probability that an `either` readiness failure hangs when the scenario gives none.
pub const DEFAULT_TIMEOUT_PROBABILITY: f64 = 0.5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalysisRaw {
    min_margin: Option<Spanned<Micros>>,
    propagation_tier: Option<Spanned<PropagationTier>>,
}

/// One load balancer of a scenario, resolved.
#[derive(Debug, Clone)]
pub struct LbSpec {
    /// Name in reports.
    pub name: String,
    /// Built-in profile it started from.
    pub profile: String,
    /// The provider whose rules interpret the settings (family and product).
    pub provider: &'static dyn Provider,
    /// The probe model the simulator and analysis use.
    pub model: ProbeModel,
    /// Merged settings with their locations.
    pub settings: LbSettings,
    /// The provider's accepted ranges.
    pub limits: Limits,
    /// Where this LB is declared.
    pub loc: Loc,
    /// What is known about the provider's propagation delay.
    pub propagation_note: Option<String>,
    /// The evidence behind the profile's typical propagation tier (ignored when the user set their
    /// own).
    pub propagation_evidence: profiles::Evidence,
    /// The profile's propagation tiers (typical, vendor, tail); the model carries the error tier's
    /// range ([`Scenario::set_propagation_tier`]).
    pub tiers: Tiers,
    /// Values assumed rather than read: (setting, value, source). The profile's assumptions the
    /// input did not override (e.g. the prober count) and the reader's defaults for a missing block.
    pub assumed: Vec<(String, String, String)>,
    /// Prober count, possibly a range (the model carries the largest).
    pub probers: ProberCount,
    /// Per-probe response latency, replacing the server's fixed `response_time` for this LB.
    pub latency: Option<Latency>,
    /// The Kubernetes Service (`namespace/name`) this load balancer belongs to, if any.
    pub service: Option<String>,
    /// What the health check really checks (the server, the pod, or the node).
    pub check: k8s::CheckTarget,
}

impl LbSpec {
    /// The latencies `check` ranges over for this LB: its `[lb.latency]` support, else the server's
    /// fixed response time.
    pub fn latency_range(&self, server: &ServerSpec) -> LatencyRange {
        self.latency
            .map_or_else(|| LatencyRange::fixed(server.response_time), |l| l.range())
    }
}

/// Where a scenario's server came from, so reports can say what was assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSource {
    /// A file path (scenario file or kube-apiserver manifest) or `builtin:<profile>`.
    pub origin: String,
    /// True when nothing named the server and graceline fell back to a default.
    pub assumed: bool,
    /// Why this server was chosen, in one line.
    pub reason: String,
}

/// What an input reader hands over for one load balancer before the server is known: the settings
/// it read, each located in the user's own file (controller defaults are marked `from_profile`).
#[derive(Debug, Clone)]
pub struct LbInput {
    /// Name in reports (`backend/server`, `namespace/service`, a Terraform address).
    pub name: String,
    /// Built-in LB profile whose rules, limits and remaining defaults apply.
    pub profile: String,
    /// Settings read from the input.
    pub settings: LbSettings,
    /// Where the LB is declared.
    pub loc: Loc,
    /// Prefix of field names in error messages (e.g. `apiserver/cp1.`).
    pub field_prefix: String,
    /// Server ports the LB sends traffic to (empty: not known from the input); the default
    /// selection keeps the LBs whose ports include the server's port.
    pub ports: Vec<u16>,
    /// Why graceline cannot judge this LB (e.g. `option external-check`); an error only when the
    /// LB is selected, so an unrelated backend does not reject the whole file.
    pub refused: Option<InputError>,
    /// Values the reader assumed rather than read (provider defaults for a missing block):
    /// (setting, value, why); printed in the output.
    pub assumed: Vec<(String, String, String)>,
    /// The Kubernetes Service (`namespace/name`) this load balancer belongs to, if any.
    pub service: Option<String>,
    /// What the health check really checks (the server, the pod, or the node).
    pub check: k8s::CheckTarget,
}

/// A load balancer read from an input but not judged, with the reason (e.g. it fronts another port).
#[derive(Debug, Clone)]
pub struct SkippedLb {
    /// Name the LB would have in reports.
    pub name: String,
    /// Where it is declared.
    pub loc: Loc,
    /// Why it is not judged, in one line.
    pub reason: String,
}

/// A loaded scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name.
    pub name: String,
    /// File it came from.
    pub file: String,
    /// The server.
    pub server: ServerSpec,
    /// Where each server setting was given (profile defaults point at the `profile` line).
    pub server_locs: BTreeMap<&'static str, Loc>,
    /// The load balancers.
    pub lbs: Vec<LbSpec>,
    /// Minimum margin below which GL002 warns.
    pub min_margin: Micros,
    /// Which propagation tier is the error tier (`propagation_tier`, `--propagation`).
    pub propagation_tier: PropagationTier,
    /// With `readyz_failure = "either"`: the probability a failing `/readyz` hangs rather than answers 5xx.
    pub readyz_timeout_probability: f64,
    /// Request rate for expected-failure estimates, if given.
    pub traffic: Option<Traffic>,
    /// Rolling-restart parameters, when the scenario gives them.
    pub rollout: Option<Rollout>,
    /// Where the server came from.
    pub server_source: ServerSource,
    /// Load balancers of the input left out by the selection (`--lb`, `select =`, or the
    /// server-port rule), listed in the output with the reason.
    pub skipped: Vec<SkippedLb>,
    /// The Kubernetes pod (or server) that shuts down, when the scenario is a Service's workload.
    pub target: Option<k8s::Target>,
}

impl Scenario {
    /// Makes `tier` the error tier: every load balancer's model takes that tier's propagation range
    /// (the user's measured `propagation_delay` where given; the typical one where the evidence has
    /// no such tier), the NLB's tail as its layout decides (cross-zone, GL016).
    pub fn set_propagation_tier(&mut self, tier: PropagationTier) {
        self.propagation_tier = tier;
        let ranges: Vec<provider::Propagation> = self
            .lbs
            .iter()
            .map(|lb| {
                provider::tiers::pick(&layout::resolve(self, lb), tier.tier())
                    .figure
                    .range
            })
            .collect();
        for (lb, r) in self.lbs.iter_mut().zip(ranges) {
            lb.model.propagation = r;
        }
    }

    /// Where a server setting was given.
    pub fn server_loc(&self, field: &str) -> Loc {
        self.server_locs.get(field).cloned().unwrap_or_else(|| Loc {
            file: self.file.clone(),
            line: 1,
            column: 1,
        })
    }
}

/// Reads and loads a scenario file.
pub fn load_file(path: &Path) -> anyhow::Result<Scenario> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow::anyhow!("{name}:{line}: not UTF-8 text")
    })?;
    Ok(load_str(&name, &text)?)
}

/// A TOML parse or type error as a one-line located input error.
pub fn toml_error(doc: &Doc, e: toml::de::Error) -> InputError {
    let at = e.span().map_or(0, |s| s.start);
    let message = one_line(e.message());
    let line_start = doc.text[..at.min(doc.text.len())].rfind('\n').map_or(0, |p| p + 1);
    let message = if doc.text[line_start..].trim_start().starts_with('[') {
        message.replacen("unknown key '", "unknown table '", 1)
    } else {
        message
    };
    InputError::new(doc.loc(at), doc.toml_field_at(at), message)
}

/// A server named outside the scenario (`--server`, `server =` in graceline.toml), replacing its
/// `[server]` table.
pub type NamedServer = (ServerSpec, BTreeMap<&'static str, Loc>, ServerSource);

/// Loads a scenario from TOML text; `file` names it in messages.
pub fn load_str(file: &str, text: &str) -> Result<Scenario, InputError> {
    load_str_with(file, text, None)
}

/// Loads a scenario, its load balancers checked against `named` instead of its own `[server]`
/// when given (the scenario's `[server]` table is still validated).
pub fn load_str_with(file: &str, text: &str, named: Option<&NamedServer>) -> Result<Scenario, InputError> {
    let doc = Doc { file, text };
    let raw: ScenarioRaw = toml::from_str(text).map_err(|e| toml_error(&doc, e))?;
    let whole = doc.loc(0);
    let (server, server_locs) = resolve_server(raw.server.as_ref(), &doc)?;
    let readyz_timeout_probability = resolve_probability(raw.server.as_ref(), &server, &doc)?;
    let (server, server_locs) = match named {
        Some((spec, locs, _)) => (spec.clone(), locs.clone()),
        None => (server, server_locs),
    };
    let readyz_timeout_probability = if named.is_some_and(|n| n.0.readyz_failure != ReadyzFailure::Either) {
        DEFAULT_TIMEOUT_PROBABILITY
    } else {
        readyz_timeout_probability
    };
    let traffic = raw.traffic.as_ref().map(|t| resolve_traffic(t, &doc)).transpose()?;
    let rollout = raw
        .rollout
        .as_ref()
        .map(|r| resolve_rollout(r, &doc, traffic))
        .transpose()?;
    if raw.lb.is_empty() {
        return Err(InputError::new(
            whole,
            "lb",
            "no [[lb]] table: a scenario needs at least one load balancer",
        ));
    }
    let mut lbs: Vec<LbSpec> = Vec::new();
    for (i, lb) in raw.lb.iter().enumerate() {
        let spec = resolve_lb(i, lb, &doc, &server)?;
        if let Some(other) = lbs.iter().find(|o| o.name == spec.name) {
            return Err(InputError::new(
                spec.loc.clone(),
                format!("lb[{i}].name"),
                format!(
                    "duplicate load balancer name \"{}\" (first at line {})",
                    spec.name, other.loc.line
                ),
            ));
        }
        lbs.push(spec);
    }
    let min_margin = raw
        .analysis
        .as_ref()
        .and_then(|a| a.min_margin.as_ref())
        .map_or(DEFAULT_MIN_MARGIN, |m| *m.get_ref());
    let propagation_tier = raw
        .analysis
        .as_ref()
        .and_then(|a| a.propagation_tier.as_ref())
        .map_or(PropagationTier::Typical, |t| *t.get_ref());
    let name = raw.name.map_or_else(
        || {
            Path::new(file)
                .file_stem()
                .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned())
        },
        |n| n.into_inner(),
    );
    let server_source = if let Some((_, _, src)) = named {
        let mut src = src.clone();
        src.reason.push_str(" (replaces the scenario's server)");
        src
    } else {
        ServerSource {
            origin: file.to_string(),
            assumed: raw.server.is_none(),
            reason: if raw.server.is_none() {
                format!("the scenario has no [server] table: built-in profile {DEFAULT_SERVER_PROFILE}")
            } else {
                "the scenario's [server] table".to_string()
            },
        }
    };
    let mut sc = Scenario {
        name,
        file: file.to_string(),
        server,
        server_locs,
        lbs,
        min_margin,
        propagation_tier,
        readyz_timeout_probability,
        traffic,
        rollout,
        skipped: Vec::new(),
        server_source,
        target: None,
    };
    sc.set_propagation_tier(propagation_tier);
    Ok(sc)
}

fn resolve_probability(raw: Option<&Spanned<ServerRaw>>, server: &ServerSpec, doc: &Doc) -> Result<f64, InputError> {
    let Some(p) = raw.and_then(|r| r.get_ref().readyz_timeout_probability.as_ref()) else {
        return Ok(DEFAULT_TIMEOUT_PROBABILITY);
    };
    let at = doc.loc(p.span().start);
    let field = "server.readyz_timeout_probability";
    if server.readyz_failure != ReadyzFailure::Either {
        return Err(InputError::new(
            at,
            field,
            "only applies with readyz_failure = \"either\"",
        ));
    }
    let v = *p.get_ref();
    if !(0.0..=1.0).contains(&v) {
        return Err(InputError::new(at, field, format!("must be between 0 and 1, got {v}")));
    }
    Ok(v)
}

fn resolve_rollout(r: &Spanned<RolloutRaw>, doc: &Doc, traffic: Option<Traffic>) -> Result<Rollout, InputError> {
    let raw = r.get_ref();
    let count = |v: &Option<Spanned<u32>>, field: &str, default: u32| -> Result<u32, InputError> {
        match v {
            None => Ok(default),
            Some(c) if *c.get_ref() == 0 || *c.get_ref() > MAX_COUNT => Err(InputError::new(
                doc.loc(c.span().start),
                field,
                format!("must be between 1 and {MAX_COUNT}, got {}", c.get_ref()),
            )),
            Some(c) => Ok(*c.get_ref()),
        }
    };
    let replicas = count(&raw.replicas, "rollout.replicas", traffic.map_or(3, |t| t.backends))?;
    let max_unavailable = count(&raw.max_unavailable, "rollout.max_unavailable", 1)?;
    if max_unavailable > replicas {
        let at = raw
            .max_unavailable
            .as_ref()
            .map_or_else(|| doc.loc(r.span().start), |m| doc.loc(m.span().start));
        return Err(InputError::new(
            at,
            "rollout.max_unavailable",
            format!("contradicts rollout.replicas: {max_unavailable} unavailable of {replicas} replicas"),
        ));
    }
    let at = doc.loc(r.span().start);
    Ok(Rollout {
        replicas,
        max_unavailable,
        startup_time: raw.startup_time.as_ref().map_or(Micros::ZERO, |t| *t.get_ref()),
        min_ready: raw.min_ready.as_ref().map_or(Micros::ZERO, |t| *t.get_ref()),
        line: at.line,
        column: at.column,
    })
}

fn resolve_traffic(t: &Spanned<TrafficRaw>, doc: &Doc) -> Result<Traffic, InputError> {
    let r = t.get_ref();
    let table = doc.loc(t.span().start);
    let rps = r
        .requests_per_second
        .as_ref()
        .ok_or_else(|| InputError::new(table.clone(), "traffic.requests_per_second", "is required"))?;
    let v = *rps.get_ref();
    if !v.is_finite() || !(0.0..=1e12).contains(&v) {
        return Err(InputError::new(
            doc.loc(rps.span().start),
            "traffic.requests_per_second",
            format!("must be a rate from 0 to 1e12, got {v}"),
        ));
    }
    let backends = match &r.backends {
        None => 1,
        Some(b) if *b.get_ref() == 0 || *b.get_ref() > MAX_COUNT => {
            return Err(InputError::new(
                doc.loc(b.span().start),
                "traffic.backends",
                format!("must be between 1 and {MAX_COUNT}, got {}", b.get_ref()),
            ))
        }
        Some(b) => *b.get_ref(),
    };
    Ok(Traffic {
        requests_per_second: v,
        backends,
    })
}

/// Loads only the `[server]` table of a scenario file (for `--server FILE`); `[[lb]]` tables are
/// ignored and may be absent.
pub fn load_server_str(file: &str, text: &str) -> Result<(ServerSpec, BTreeMap<&'static str, Loc>), InputError> {
    let doc = Doc { file, text };
    let raw: ScenarioRaw = toml::from_str(text).map_err(|e| toml_error(&doc, e))?;
    if raw.server.is_none() {
        return Err(InputError::new(
            doc.loc(0),
            "server",
            "no [server] table to take the server from",
        ));
    }
    resolve_server(raw.server.as_ref(), &doc)
}

/// A built-in server profile resolved to a server, every setting located at `at`.
pub fn server_from_profile(name: &str, at: &Loc) -> Result<(ServerSpec, BTreeMap<&'static str, Loc>), String> {
    let doc = Doc {
        file: &at.file,
        text: "",
    };
    let raw = Spanned::new(
        0..0,
        ServerRaw {
            profile: Some(Spanned::new(0..0, name.to_string())),
            ..ServerRaw::default()
        },
    );
    let (spec, mut locs) = resolve_server(Some(&raw), &doc).map_err(|e| e.message)?;
    for l in locs.values_mut() {
        *l = at.clone();
    }
    Ok((spec, locs))
}

/// Builds a load balancer read from any input through the same profile, limits and provider model
/// as a scenario's `[[lb]]` table.
pub fn build_lb(input: &LbInput, server: &ServerSpec) -> Result<LbSpec, InputError> {
    let profile = profiles::lb(&input.profile).map_err(|m| InputError::new(input.loc.clone(), "profile", m))?;
    build_lb_with(input, &profile, server)
}

/// [`build_lb`] with the LB profile already parsed (readers of large inputs parse it once).
pub fn build_lb_with(input: &LbInput, profile: &LbProfile, server: &ServerSpec) -> Result<LbSpec, InputError> {
    let defaults = profile.settings_for(input.settings.protocol.as_ref().map(|p| p.value));
    let field = |f: &str| format!("{}{f}", input.field_prefix);
    let provider = provider_of(profile, &input.loc, &field("profile"))?;
    let s = input.settings.clone().with_defaults(provider, &defaults, &input.loc);
    let mut spec = finish_lb(
        input.name.clone(),
        &input.profile,
        profile,
        provider,
        s,
        input.loc.clone(),
        server,
        &field,
        None,
    )?;
    spec.assumed.extend(input.assumed.iter().cloned());
    spec.service.clone_from(&input.service);
    spec.check = input.check;
    Ok(spec)
}

fn resolve_server(
    raw: Option<&Spanned<ServerRaw>>,
    doc: &Doc,
) -> Result<(ServerSpec, BTreeMap<&'static str, Loc>), InputError> {
    let empty = ServerRaw::default();
    let user = raw.map_or(&empty, |r| r.get_ref());
    let table_loc = raw.map_or_else(|| doc.loc(0), |r| doc.loc(r.span().start));
    let (pname, chosen) = match &user.profile {
        Some(p) => (p.get_ref().clone(), doc.loc(p.span().start)),
        None => (DEFAULT_SERVER_PROFILE.to_string(), table_loc.clone()),
    };
    let profile = profiles::server(&pname).map_err(|m| InputError::new(chosen.clone(), "server.profile", m))?;
    let p = &profile.settings;
    let mut locs = BTreeMap::new();
    macro_rules! take {
        ($f:ident) => {{
            match (&user.$f, &p.$f) {
                (Some(v), _) => {
                    locs.insert(stringify!($f), doc.loc(v.span().start));
                    v.get_ref().clone()
                }
                (None, Some(v)) => {
                    locs.insert(stringify!($f), chosen.clone());
                    v.get_ref().clone()
                }
                (None, None) => {
                    return Err(InputError::new(
                        table_loc.clone(),
                        concat!("server.", stringify!($f)),
                        format!("is required (profile {pname} gives no default)"),
                    ))
                }
            }
        }};
    }
    let spec = ServerSpec {
        profile: pname.clone(),
        prestop_sleep: take!(prestop_sleep),
        readyz_fail_after: take!(readyz_fail_after),
        shutdown_delay: take!(shutdown_delay),
        request_grace: take!(request_grace),
        termination_grace_period: take!(termination_grace_period),
        readyz_failure: take!(readyz_failure),
        readyz_onset: take!(readyz_onset),
        readiness_path: take!(readiness_path),
        response_time: take!(response_time),
        send_retry_after: match (&user.send_retry_after, &p.send_retry_after) {
            (Some(v), _) => {
                locs.insert("send_retry_after", doc.loc(v.span().start));
                *v.get_ref()
            }
            (None, Some(v)) => {
                locs.insert("send_retry_after", chosen.clone());
                *v.get_ref()
            }
            // Off unless a profile or the scenario says so: the upstream default (server_run_options.go:136).
            (None, None) => false,
        },
    };
    if !spec.readiness_path.starts_with('/') {
        return Err(InputError::new(
            locs["readiness_path"].clone(),
            "server.readiness_path",
            "must start with /",
        ));
    }
    Ok((spec, locs))
}

fn resolve_lb(i: usize, lb: &Spanned<LbRaw>, doc: &Doc, server: &ServerSpec) -> Result<LbSpec, InputError> {
    let user = lb.get_ref();
    let table_loc = doc.loc(lb.span().start);
    let field = |f: &str| format!("lb[{i}].{f}");
    let Some(pspan) = &user.profile else {
        return Err(InputError::new(
            table_loc,
            field("profile"),
            format!("is required; built-in: {}", profiles::names("lb").join(", ")),
        ));
    };
    let pname = pspan.get_ref().clone();
    let chosen = doc.loc(pspan.span().start);
    let profile = profiles::lb(&pname).map_err(|m| InputError::new(chosen.clone(), field("profile"), m))?;
    let provider = provider_of(&profile, &chosen, &field("profile"))?;
    let all = [provider.knobs(), provider.layout_knobs()].concat();
    for (key, span) in user.present() {
        if !all.contains(&key) {
            return Err(InputError::new(
                doc.loc(span.start),
                field(key),
                format!(
                    "is not a setting of {pname};{} {pname} takes: {}",
                    words::nearest(key, &all).map_or_else(String::new, |n| format!(" did you mean '{n}'?")),
                    all.join(", ")
                ),
            ));
        }
    }
    let defaults = profile.settings_for(user.protocol.as_ref().map(|p| *p.get_ref()));
    let s = LbSettings::overlay(provider, &defaults, user, doc, &chosen).map_err(|e| own_error(doc, &e, &field))?;
    let name = user
        .name
        .as_ref()
        .map_or_else(|| format!("{pname}#{i}"), |n| n.get_ref().clone());
    let latency = user.latency.as_ref().map(|l| (l, doc));
    finish_lb(name, &pname, &profile, provider, s, table_loc, server, &field, latency)
}

/// A provider's own setting whose value has the wrong type, as [`toml_error`] words a shared one.
fn own_error(doc: &Doc, e: &provider::OwnTypeError, field: &dyn Fn(&str) -> String) -> InputError {
    InputError::new(doc.loc(e.span.start), field(&e.key), one_line(&e.message))
}

/// A parser's (possibly multi-line) message as one line of words: lines trimmed, blank ones
/// dropped, each humanized, joined with `; `.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(words::humanize)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The provider a profile names; an input error at `at` if graceline models none.
fn provider_of(profile: &LbProfile, at: &Loc, field: &str) -> Result<&'static dyn Provider, InputError> {
    provider::of(&profile.family, &profile.variant).ok_or_else(|| {
        InputError::new(
            at.clone(),
            field,
            format!(
                "profile {} names family \"{}\" variant \"{}\", which no provider models",
                profile.name, profile.family, profile.variant
            ),
        )
    })
}

/// Validates merged settings and builds the probe model (shared by scenario files and inputs):
/// generic sanity first, then what the provider's API refuses, then the provider's model.
#[allow(clippy::too_many_arguments)]
fn finish_lb(
    name: String,
    pname: &str,
    profile: &LbProfile,
    provider: &'static dyn Provider,
    s: LbSettings,
    table_loc: Loc,
    server: &ServerSpec,
    field: &dyn Fn(&str) -> String,
    latency: Option<(&Spanned<latency::LatencyRaw>, &Doc)>,
) -> Result<LbSpec, InputError> {
    validate_values(&s, &provider.own(), field)?;
    let in_field = |mut e: InputError| {
        e.field = field(&e.field);
        e
    };
    provider.validate(&s, &profile.limits, pname).map_err(in_field)?;
    let s = provider.settle(s);
    let model = provider
        .model(&s, &server.readiness_path, &table_loc)
        .map_err(in_field)?
        .ok_or_else(|| {
            InputError::new(
                table_loc.clone(),
                field("profile"),
                format!("{pname} has no active health checks; graceline judges a load balancer by its active checks"),
            )
        })?;
    if server.response_time >= model.view.timeout_min {
        // The timeout, else the provider's first own timeout setting, else the interval.
        let own_timeout = provider.own().knobs.iter().find(|k| k.row == provider::Row::Timeout);
        let timeout_loc = s
            .timeout
            .clone()
            .or_else(|| own_timeout.and_then(|k| s.duration(k.name)))
            .or_else(|| s.duration(provider.interval_key()))
            .or_else(|| s.interval.clone())
            .map_or_else(|| table_loc.clone(), |v| v.loc);
        return Err(InputError::new(
            timeout_loc,
            field("timeout"),
            format!(
                "contradicts server.response_time: every probe would time out (response time {} >= probe timeout {})",
                server.response_time, model.view.timeout_min
            ),
        ));
    }
    // The typical tier until the scenario names its error tier; a measured range replaces all.
    let mut model = model;
    if s.propagation_delay.as_ref().is_none_or(|p| p.from_profile) {
        model.propagation = profile.propagation.typical.range;
    }
    let latency = latency
        .map(|(l, doc)| latency::resolve(l, &model, doc, &field("latency")))
        .transpose()?;
    Ok(LbSpec {
        name,
        profile: pname.to_string(),
        provider,
        model,
        limits: profile.limits.clone(),
        loc: table_loc,
        propagation_note: Some(profile.propagation.note.clone()),
        propagation_evidence: profile.propagation.typical.evidence,
        tiers: profile.propagation.clone(),
        assumed: profile
            .assumed
            .iter()
            .filter(|k| s.present_from_profile(k))
            .map(|k| {
                let value = match (k.as_str(), &s.probers) {
                    ("probers", Some(p)) if p.value.lo == p.value.hi => p.value.hi.to_string(),
                    ("probers", Some(p)) => format!("{}-{}", p.value.lo, p.value.hi),
                    _ => "(profile default)".to_string(),
                };
                let source = profile.sources.get(k.as_str()).cloned().unwrap_or_default();
                (k.clone(), value, source)
            })
            .chain(provider.assumed(&s))
            .collect(),
        probers: s.probers.as_ref().map_or(ProberCount { lo: 1, hi: 1 }, |p| p.value),
        latency,
        settings: s,
        service: None,
        check: k8s::CheckTarget::Server,
    })
}

/// `lb` rebuilt with `settings` against `server` (a `--set`): the same validation and model as
/// its input gave, keeping what the reader said about it (service, check target, assumptions).
pub fn rebuild_lb(lb: &LbSpec, settings: LbSettings, server: &ServerSpec) -> Result<LbSpec, InputError> {
    let profile = profiles::lb(&lb.profile).map_err(|m| InputError::new(lb.loc.clone(), "profile", m))?;
    let field = |f: &str| f.to_string();
    let mut spec = finish_lb(
        lb.name.clone(),
        &lb.profile,
        &profile,
        lb.provider,
        settings,
        lb.loc.clone(),
        server,
        &field,
        None,
    )?;
    spec.latency = lb.latency;
    spec.assumed.clone_from(&lb.assumed);
    spec.service.clone_from(&lb.service);
    spec.check = lb.check;
    spec.propagation_note.clone_from(&lb.propagation_note);
    Ok(spec)
}

fn validate_values(s: &LbSettings, own: &provider::OwnKnobs, field: &dyn Fn(&str) -> String) -> Result<(), InputError> {
    let own_of = |check: Check| own.knobs.iter().filter(move |k| k.check == check).map(|k| k.name);
    let bounded = own_of(Check::Bounded).map(|k| (k, s.own_as::<u32>(k)));
    for (key, r) in bounded {
        if let Some(r) = r {
            if r.value > MAX_COUNT {
                return Err(InputError::new(
                    r.loc.clone(),
                    field(key),
                    format!("{} is absurdly large (the limit is {MAX_COUNT})", r.value),
                ));
            }
        }
    }
    let positive = [("interval", s.interval.clone()), ("timeout", s.timeout.clone())]
        .into_iter()
        .chain(own_of(Check::Positive).map(|k| (k, s.own_as::<Micros>(k))));
    for (key, v) in positive {
        if let Some(v) = v {
            if v.value <= Micros::ZERO {
                return Err(InputError::new(v.loc.clone(), field(key), "must be positive, got 0s"));
            }
            if v.value > MAX_INPUT {
                return Err(InputError::new(
                    v.loc.clone(),
                    field(key),
                    format!("{} is absurdly large (the limit is 30 days)", v.value),
                ));
            }
        }
    }
    let probers = s.probers.as_ref().map(|p| Located {
        value: p.value.lo,
        loc: p.loc.clone(),
        from_profile: p.from_profile,
    });
    let probers_hi = s.probers.as_ref().map(|p| Located {
        value: p.value.hi,
        loc: p.loc.clone(),
        from_profile: p.from_profile,
    });
    let counts = own_of(Check::AtLeastOne).map(|k| (k, s.own_as::<u32>(k))).chain([
        ("unhealthy_threshold", s.unhealthy_threshold.clone()),
        ("healthy_threshold", s.healthy_threshold.clone()),
        ("probers", probers),
        ("probers", probers_hi),
    ]);
    for (key, v) in counts {
        if let Some(v) = v {
            if v.value == 0 {
                return Err(InputError::new(v.loc.clone(), field(key), "must be at least 1, got 0"));
            }
            if v.value > MAX_COUNT {
                return Err(InputError::new(
                    v.loc.clone(),
                    field(key),
                    format!("{} is absurdly large (the limit is {MAX_COUNT})", v.value),
                ));
            }
        }
    }
    if let Some(p) = &s.path {
        // `*` is the asterisk-form of `OPTIONS * HTTP/1.1` (RFC 9112 section 3.2.4), a documented
        // HAProxy check request; it never names the readiness path.
        if !p.value.starts_with('/') && p.value != "*" {
            return Err(InputError::new(
                p.loc.clone(),
                field("path"),
                "must start with / (or be * for OPTIONS *)",
            ));
        }
    }
    Ok(())
}

/// Every LB profile with its defaults against one named server (`check --server X` without inputs).
pub fn builtin_matrix_for(named: &NamedServer) -> Result<Vec<Scenario>, InputError> {
    profiles::names("lb")
        .into_iter()
        .map(|lb| {
            let text = format!(
                "name = \"{lb} / {}\"\n[[lb]]\nname = \"{lb}\"\nprofile = \"{lb}\"\n",
                named.0.profile
            );
            load_str_with(&format!("builtin:{lb}"), &text, Some(named))
        })
        .collect()
}

/// The built-in default matrix: every LB profile against every server profile, with defaults.
pub fn builtin_matrix() -> Vec<Scenario> {
    let mut out = Vec::new();
    for server in profiles::names("server") {
        for lb in profiles::names("lb") {
            let text = format!("name = \"{lb} / {server}\"\n[server]\nprofile = \"{server}\"\n[[lb]]\nname = \"{lb}\"\nprofile = \"{lb}\"\n");
            let file = format!("builtin:{lb}+{server}");
            out.push(load_str(&file, &text).expect("built-in profiles always load"));
        }
    }
    out
}

/// The protocol a spec's checks use.
pub fn protocol_of(lb: &LbSpec) -> Protocol {
    provider::protocol_of(&lb.settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
[server]
profile = "kube-apiserver"
shutdown_delay = "30s"
request_grace = "60s"
termination_grace_period = "135s"
readyz_failure = "timeout"

[[lb]]
name = "api-external"
profile = "aws-nlb"
interval = "10s"
timeout = "10s"
unhealthy_threshold = 2
protocol = "https"
path = "/readyz"
"#;

    #[test]
    fn loads_the_seed_scenario() {
        let s = load_str("seed.toml", SEED).unwrap();
        assert_eq!(s.name, "seed");
        assert_eq!(s.server.shutdown_delay, Micros::from_secs(30));
        assert_eq!(s.lbs[0].name, "api-external");
        assert!(s.lbs[0].model.view.sees_readiness);
        assert_eq!(s.lbs[0].settings.interval.as_ref().unwrap().loc.line, 12);
        assert!(s.lbs[0].settings.healthy_threshold.as_ref().unwrap().from_profile);
    }

    fn err(text: &str) -> InputError {
        load_str("bad.toml", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_column_and_field() {
        let e = err(&SEED.replace("interval = \"10s\"", "interval = \"0s\""));
        assert_eq!((e.loc.line, e.field.as_str()), (12, "lb[0].interval"));
        let e = err(&SEED.replace("interval = \"10s\"", "interval = \"-3s\""));
        assert!(e.message.contains("negative"), "{e}");
        assert_eq!(e.field, "lb[0].interval");
        let e = err(&SEED.replace("interval = \"10s\"", "interval = 10"));
        assert_eq!(e.field, "lb[0].interval");
        let e = err(&SEED.replace("unhealthy_threshold = 2", "unhealthy_threshold = 0"));
        assert!(e.message.contains("at least 1"));
        let e = err(&SEED.replace("unhealthy_threshold = 2", "unhealthy_threshold = -2"));
        assert_eq!(e.field, "lb[0].unhealthy_threshold");
        let e = err(&SEED.replace("unhealthy_threshold = 2", "unhealthy_threshold = 99999999999"));
        assert_eq!(e.field, "lb[0].unhealthy_threshold");
        let e = err(&SEED.replace("interval = \"10s\"", "inter = \"10s\""));
        assert!(e.message.contains("not a setting of aws-nlb"), "{e}");
        assert_eq!((e.loc.line, e.loc.column), (12, 9));
        let e = err(&SEED.replace("interval = \"10s\"", "intervall = \"10s\""));
        assert_eq!(e.loc.line, 12);
        assert!(e.message.contains("did you mean 'interval'?"), "{e}");
        let e = err(&SEED.replace("profile = \"aws-nlb\"", "profile = \"aws-nlbx\""));
        assert!(e.message.contains("unknown load-balancer profile"));
        let e = err(&SEED.replace("shutdown_delay = \"30s\"", "shutdown_delay = \"1000000h\""));
        assert_eq!(e.field, "server.shutdown_delay");
        let e = err("[server]\n[[lb]\n");
        assert_eq!(e.loc.line, 2);
        let e = err("[server]\nprofile = \"kube-apiserver\"\n");
        assert!(e.message.contains("no [[lb]]"));
    }

    #[test]
    fn a_provider_s_own_settings_are_typed_and_refused_where_written() {
        let hap = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"haproxy\"\n";
        let e = err(&format!("{hap}fall = \"x\"\n"));
        assert_eq!((e.loc.line, e.loc.column, e.field.as_str()), (5, 8, "lb[0].fall"));
        assert!(e.message.contains("expected a whole number"), "{e}");
        let e = err(&format!("{hap}fall = 0\n"));
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("lb[0].fall", "must be at least 1, got 0")
        );
        // A key no provider takes names the chosen provider's own settings.
        let e = err(&format!("{hap}falls = 3\n"));
        assert_eq!((e.loc.line, e.field.as_str()), (5, "lb[0].falls"));
        assert!(
            e.message.contains("not a setting of haproxy; did you mean 'fall'?"),
            "{e}"
        );
        assert!(e.message.contains("retries, redispatch"), "{e}");
        let sc = load_str("f.toml", &format!("{hap}fall = 5\n")).unwrap();
        let fall = crate::provider::haproxy::Knobs::of(&sc.lbs[0].settings).fall.unwrap();
        assert_eq!((fall.value, fall.loc.line, fall.from_profile), (5, 5, false));
        assert!(
            crate::provider::haproxy::Knobs::of(&sc.lbs[0].settings)
                .rise
                .unwrap()
                .from_profile
        );
    }

    #[test]
    fn contradictory_response_time_is_an_error() {
        let e = err(&SEED.replace("readyz_failure = \"timeout\"", "response_time = \"10s\""));
        assert!(e.message.contains("contradicts"), "{e}");
        assert_eq!(e.loc.line, 13);
    }

    #[test]
    fn nlb_probers_follow_zones_and_stay_assumed() {
        let nlb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nname = \"nlb\"\nprofile = \"aws-nlb\"\n";
        let sc = load_str("f.toml", &format!("{nlb}zones = 2\n")).unwrap();
        assert_eq!(sc.lbs[0].model.probers, 2);
        assert_eq!(sc.lbs[0].assumed[0].0, "probers");
    }

    #[test]
    fn the_builtin_matrix_loads() {
        assert_eq!(builtin_matrix().len(), 10 * 7);
    }
}
