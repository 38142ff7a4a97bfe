//! Reading what users already have: haproxy.cfg, Kubernetes Services, Terraform plans and states,
//! kube-apiserver manifests, scenario files and the `graceline.toml` project file; each turned into
//! scenarios whose load balancers are built by the same profile and provider machinery as
//! scenario files, with every location pointing into the user's own file.
//!
//! One module per input kind: [`haproxy`] (over the [`haproxy_cfg`] parser), [`k8s`],
//! [`terraform`], [`manifest`], [`project`]; [`yaml`] locates YAML nodes.

pub mod haproxy;
pub mod haproxy_cfg;
pub mod k8s;
pub mod manifest;
pub mod project;
pub mod terraform;
pub mod workload;
pub mod yaml;

use crate::error::{InputError, Loc};
use crate::profiles::{self, Profile};
use crate::scenario::{self, build_lb, LbInput, Scenario, ServerSource, DEFAULT_MIN_MARGIN, DEFAULT_SERVER_PROFILE};
use crate::time::Micros;
use crate::timeline::ServerSpec;
use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest input file graceline reads (64 MiB). Real haproxy.cfg, Service and manifest files are
/// kilobytes and `terraform show -json` of a large estate tens of megabytes; measured on one core,
/// the JSON reader takes about 1.4 s and 40 MB for 33 MB of plan, so a larger file is refused with
/// a clear error before it is read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Largest YAML file graceline parses (16 MiB): the YAML tree costs about 4 s and 400 MB per 30 MB
/// of Services on one core, so YAML gets a tighter bound than JSON.
pub const MAX_YAML_BYTES: usize = 16 * 1024 * 1024;

/// What an input file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// HAProxy configuration (`haproxy.cfg`).
    Haproxy,
    /// Kubernetes Services of type LoadBalancer (YAML, several documents allowed).
    K8s,
    /// `terraform show -json` output (plan or state).
    Terraform,
    /// kube-apiserver static pod manifest (YAML).
    Manifest,
    /// graceline scenario file (TOML).
    Scenario,
}

impl InputKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Haproxy => "haproxy",
            InputKind::K8s => "k8s",
            InputKind::Terraform => "terraform",
            InputKind::Manifest => "manifest",
            InputKind::Scenario => "scenario",
        }
    }
}

/// The cloud whose controller provisions a Service that carries no cloud-specific annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
}

impl Cloud {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

/// A server read from a kube-apiserver manifest.
#[derive(Debug, Clone)]
pub struct ServerInput {
    /// The resolved server.
    pub spec: ServerSpec,
    /// Where each setting was read (defaults point at the container or the pod spec).
    pub locs: BTreeMap<&'static str, Loc>,
    /// The manifest's path.
    pub origin: String,
    /// The pod's name.
    pub pod: String,
}

/// Options of one run, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read every path as this kind instead of detecting it.
    pub kind: Option<InputKind>,
    /// The server behind the load balancers: a built-in server profile, a scenario file or a manifest.
    pub server: Option<String>,
    /// Cloud of Services without a cloud-specific annotation.
    pub cloud: Option<Cloud>,
    /// An input without any load-balancer-to-server pair is not an error.
    pub allow_empty: bool,
    /// Glob patterns on LB names (`--lb`); empty = default selection.
    pub lb_patterns: Vec<String>,
}

/// Where a group's server is named.
#[derive(Debug, Clone)]
pub struct ServerRef {
    /// Profile name or path as written.
    pub text: String,
    /// Directory relative paths are resolved against.
    pub base: PathBuf,
    /// Where it was written (a `server =` line), `None` for `--server`.
    pub at: Option<Loc>,
    /// How to describe it in reports.
    pub via: String,
}

/// Inputs checked against one server: the command line's paths, or one `[[check]]`.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Scenario name for the reports (`name =` of a check); the file path when unset.
    pub label: Option<String>,
    /// Input files.
    pub files: Vec<PathBuf>,
    /// The server, when named.
    pub server: Option<ServerRef>,
    /// Forced input kind.
    pub kind: Option<InputKind>,
    /// Cloud of unannotated Services.
    pub cloud: Option<Cloud>,
    /// GL002 threshold.
    pub min_margin: Option<Micros>,
}

fn whole_file(file: &str) -> Loc {
    Loc {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
}

/// The path that stands for standard input on the command line.
pub const STDIN_PATH: &str = "-";

/// How standard input is named in messages and finding locations.
pub const STDIN_NAME: &str = "<stdin>";

/// True for the path `-` (standard input).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH
}

/// The name of an input in messages and locations (`<stdin>` for `-`).
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads standard input as UTF-8 text under the same size limit as files.
fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow!("{STDIN_NAME}: cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(anyhow!(
            "{STDIN_NAME}:1:1: over the {} MiB graceline reads",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow!(
            "{STDIN_NAME}:{line}: not UTF-8 text (invalid byte at offset {})",
            valid.len()
        )
    })
}

/// Reads a file (or standard input for `-`) as UTF-8 text, refusing files over
/// [`MAX_FILE_BYTES`] before reading them.
pub fn read_text(path: &Path) -> Result<String> {
    if is_stdin(path) {
        return read_stdin();
    }
    let name = path.display();
    let f = std::fs::File::open(path).map_err(|e| anyhow!("{name}: cannot read: {e}"))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_FILE_BYTES {
        return Err(anyhow!(
            "{name}:1:1: the file is {} MiB, over the {} MiB graceline reads; real configurations are far smaller (is this the right file?)",
            len / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow!("{name}: cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(anyhow!(
            "{name}:1:1: the file is over the {} MiB graceline reads",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow!("{name}:{line}: not UTF-8 text (invalid byte at offset {})", valid.len())
    })
}

/// The syntax family a file's name or content points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Json,
    Yaml,
    Toml,
    Haproxy,
}

impl Family {
    fn describe(self) -> &'static str {
        match self {
            Family::Json => "JSON (terraform show -json)",
            Family::Yaml => "YAML (Kubernetes Service or kube-apiserver manifest)",
            Family::Toml => "TOML (scenario or graceline.toml)",
            Family::Haproxy => "an haproxy.cfg",
        }
    }
}

fn family_of_name(file: &str) -> Option<Family> {
    let lower = file.to_ascii_lowercase();
    let ext = Path::new(&lower).extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "json" => Some(Family::Json),
        "yaml" | "yml" => Some(Family::Yaml),
        "toml" => Some(Family::Toml),
        "cfg" => Some(Family::Haproxy),
        _ => None,
    }
}

const HAPROXY_SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "program",
    "cache",
    "ring",
    "http-errors",
];

fn family_of_content(text: &str) -> Option<Family> {
    let body = text.trim_start_matches('\u{feff}');
    let first = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    if first.starts_with('{') {
        return Some(Family::Json);
    }
    let word = first.split_whitespace().next().unwrap_or("");
    if HAPROXY_SECTIONS.contains(&word) && !first.contains(':') && !first.contains('=') {
        return Some(Family::Haproxy);
    }
    if first == "---"
        || body.lines().any(|l| {
            let l = l.trim_end();
            l.starts_with("kind:") || l.starts_with("apiVersion:")
        })
    {
        return Some(Family::Yaml);
    }
    if (first.starts_with('[') || first.contains('=')) && body.parse::<toml::Table>().is_ok() {
        return Some(Family::Toml);
    }
    None
}

/// True when a TOML text is a project file (`[[check]]` tables) rather than a scenario.
pub fn is_project(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("check"))
}

fn yaml_size(file: &str, text: &str) -> Result<(), InputError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(InputError::new(
            whole_file(file),
            "",
            format!(
                "{} MiB of YAML is over the {} MiB graceline parses (Service and manifest files are kilobytes); split the file",
                text.len() / (1024 * 1024),
                MAX_YAML_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// What one file yielded.
#[derive(Default)]
struct Parsed {
    lbs: Vec<LbInput>,
    servers: Vec<ServerInput>,
    scenario: Option<Scenario>,
    /// Kubernetes objects a path starts from (workloads, Services, kube-apiserver pods): `check`
    /// judges them in `crate::paths`, so the file is not empty.
    paths: bool,
    /// App workloads (Deployments, Pods, ...) among the documents: the server of their load
    /// balancers is assumed to be an app that stops listening at SIGTERM, not kube-apiserver.
    workloads: bool,
}

fn empty(file: &str, what: &str) -> InputError {
    InputError::new(
        whole_file(file),
        "",
        format!("{what}: no load-balancer-to-server pair to check (pass --allow-empty if that is expected)"),
    )
}

/// Reads one file of the given kind (or the kind its name and content point to).
fn parse_file(
    file: &str,
    text: &str,
    kind: Option<InputKind>,
    cloud: Option<Cloud>,
    allow_empty: bool,
) -> Result<Parsed, InputError> {
    let family = match kind {
        Some(InputKind::Haproxy) => Family::Haproxy,
        Some(InputKind::K8s | InputKind::Manifest) => Family::Yaml,
        Some(InputKind::Terraform) => Family::Json,
        Some(InputKind::Scenario) => Family::Toml,
        None => {
            let by_name = family_of_name(file);
            let by_content = family_of_content(text);
            match (by_name, by_content) {
                (Some(n), Some(c)) if n != c => {
                    // JSON is YAML too: a .yaml file holding a JSON Service is fine.
                    if !(n == Family::Yaml && c == Family::Json) {
                        return Err(InputError::new(
                            whole_file(file),
                            "",
                            format!(
                                "the file name says {}, but the content looks like {}; pass --input-kind to say which it is",
                                n.describe(),
                                c.describe()
                            ),
                        ));
                    }
                    n
                }
                (Some(n), _) => n,
                (None, Some(c)) => c,
                (None, None) => {
                    return Err(InputError::new(
                        whole_file(file),
                        "",
                        "cannot tell what kind of input this is (not JSON, YAML, TOML or an haproxy.cfg); pass --input-kind haproxy|k8s|terraform|manifest|scenario",
                    ))
                }
            }
        }
    };
    let mut out = Parsed::default();
    match family {
        Family::Haproxy => {
            out.lbs = haproxy::lbs(file, text)?;
            if out.lbs.is_empty() && !allow_empty {
                return Err(empty(
                    file,
                    "no server line with `check` in a backend or listen section",
                ));
            }
        }
        Family::Json => {
            let t = yaml::Text::new(file, text);
            out.lbs = terraform::lbs(&t)?;
            if out.lbs.is_empty() && !allow_empty {
                return Err(empty(
                    file,
                    "no aws_lb_target_group, google_compute_*health_check or azurerm_lb_probe in the plan or state",
                ));
            }
        }
        Family::Yaml => {
            yaml_size(file, text)?;
            let t = yaml::Text::new(file, text);
            let docs = yaml::load(&t)?;
            if kind != Some(InputKind::Manifest) {
                out.lbs = k8s::lbs(&t, &docs, cloud)?;
            }
            if kind != Some(InputKind::K8s) {
                out.servers = manifest::servers(&t, &docs)?;
            }
            out.paths = !out.servers.is_empty() || workload::has_path_inputs(&docs);
            out.workloads = workload::has_workloads(&docs);
            if out.lbs.is_empty() && !out.paths && !allow_empty {
                let what = match kind {
                    Some(InputKind::Manifest) => "no Pod with a kube-apiserver container",
                    Some(_) => "no Service of type LoadBalancer",
                    None if k8s::has_services(&docs) => "no Service of type LoadBalancer",
                    None => "neither a Service of type LoadBalancer nor a kube-apiserver Pod",
                };
                return Err(empty(file, what));
            }
        }
        Family::Toml => {
            if kind.is_none() && is_project(text) {
                return Err(InputError::new(
                    whole_file(file),
                    "check",
                    "a graceline.toml project file cannot be listed inside another one",
                ));
            }
            out.scenario = Some(scenario::load_str(file, text)?);
        }
    }
    Ok(out)
}

/// Resolves a named server: a built-in server profile, a scenario file's `[server]` or a manifest.
pub(crate) fn resolve_server(r: &ServerRef) -> Result<(ServerSpec, BTreeMap<&'static str, Loc>, ServerSource)> {
    let err_at = |m: String| -> anyhow::Error {
        match &r.at {
            Some(l) => anyhow!(InputError::new(l.clone(), "server", m)),
            None => anyhow!("--server {}: {m}", r.text),
        }
    };
    if let Some(b) = profiles::find(&r.text) {
        return match b.parse().map_err(&err_at)? {
            Profile::Server(_) => {
                let at = whole_file(&format!("builtin:{}", r.text));
                let (spec, locs) = scenario::server_from_profile(&r.text, &at).map_err(&err_at)?;
                let source = ServerSource {
                    origin: at.file.clone(),
                    assumed: false,
                    reason: format!("built-in profile named by {}", r.via),
                };
                Ok((spec, locs, source))
            }
            Profile::Lb(_) => Err(err_at(format!(
                "\"{}\" is a load-balancer profile; server profiles: {}",
                r.text,
                profiles::names("server").join(", ")
            ))),
        };
    }
    let path = r.base.join(&r.text);
    if !path.is_file() {
        return Err(err_at(format!(
            "is neither a built-in server profile ({}) nor a file",
            profiles::names("server").join(", ")
        )));
    }
    let display = path.display().to_string();
    let text = read_text(&path)?;
    let source = ServerSource {
        origin: display.clone(),
        assumed: false,
        reason: format!("named by {}", r.via),
    };
    match family_of_name(&display).or_else(|| family_of_content(&text)) {
        Some(Family::Toml) => {
            let (spec, locs) = scenario::load_server_str(&display, &text)?;
            Ok((spec, locs, source))
        }
        Some(Family::Yaml | Family::Json) => {
            yaml_size(&display, &text)?;
            let t = yaml::Text::new(&display, &text);
            let docs = yaml::load(&t)?;
            let mut servers = manifest::servers(&t, &docs)?;
            match servers.len() {
                1 => {
                    let s = servers.remove(0);
                    Ok((s.spec, s.locs, source))
                }
                0 => Err(anyhow!(InputError::new(
                    whole_file(&display),
                    "",
                    "no Pod with a kube-apiserver container to take the server from"
                ))),
                n => Err(anyhow!(InputError::new(
                    whole_file(&display),
                    "",
                    format!("{n} kube-apiserver Pods: name one file per server")
                ))),
            }
        }
        _ => Err(err_at(format!(
            "{display} is neither a scenario file (TOML) nor a kube-apiserver manifest (YAML)"
        ))),
    }
}

/// Loads every input of a group and builds one scenario per file with load balancers.
pub fn load_group(g: &Group, opts: &Options) -> Result<Vec<Scenario>> {
    let kind = g.kind.or(opts.kind);
    let cloud = g.cloud.or(opts.cloud);
    let mut scenarios = Vec::new();
    let mut lb_files: Vec<(String, Vec<LbInput>)> = Vec::new();
    let mut manifests: Vec<ServerInput> = Vec::new();
    let mut any_paths = false;
    let mut any_workloads = false;
    for path in &g.files {
        let display = display_name(path);
        let text = read_text(path)?;
        let p = parse_file(&display, &text, kind, cloud, opts.allow_empty)?;
        scenarios.extend(p.scenario);
        any_paths |= p.paths;
        any_workloads |= p.workloads;
        manifests.extend(p.servers);
        if !p.lbs.is_empty() {
            lb_files.push((display, p.lbs));
        }
    }
    let named = g.server.clone().or_else(|| {
        opts.server.as_ref().map(|s| ServerRef {
            text: s.clone(),
            base: PathBuf::new(),
            at: None,
            via: "--server".to_string(),
        })
    });
    if !lb_files.is_empty() {
        let (server, locs, source) = match (&named, manifests.len()) {
            (Some(r), _) => resolve_server(r)?,
            (None, 1) => {
                let m = manifests.remove(0);
                let source = ServerSource {
                    origin: m.origin.clone(),
                    assumed: false,
                    reason: format!("the kube-apiserver manifest among the inputs (pod {})", m.pod),
                };
                (m.spec, m.locs, source)
            }
            (None, 0) => {
                let (profile, why) = if any_workloads {
                    (
                        crate::paths::build::APP_PROFILE,
                        " (app workloads among the inputs: an app assumed to stop listening at SIGTERM; the Kubernetes paths use each pod's own preStop and grace period)",
                    )
                } else {
                    (DEFAULT_SERVER_PROFILE, "")
                };
                let at = whole_file(&format!("builtin:{profile}"));
                let (spec, locs) = scenario::server_from_profile(profile, &at).map_err(|e| anyhow!(e))?;
                let source = ServerSource {
                    origin: at.file,
                    assumed: true,
                    reason: format!(
                        "assumed built-in profile {profile}: no --server and no kube-apiserver manifest among the inputs{why}"
                    ),
                };
                (spec, locs, source)
            }
            (None, n) => {
                let names: Vec<_> = manifests.iter().map(|m| m.origin.as_str()).collect();
                return Err(anyhow!(
                    "{n} kube-apiserver manifests among the inputs ({}): name the server with --server (or server = in graceline.toml)",
                    names.join(", ")
                ));
            }
        };
        for (file, inputs) in lb_files {
            let mut lbs: Vec<scenario::LbSpec> = Vec::with_capacity(inputs.len());
            for i in &inputs {
                let spec = build_lb(i, &server)?;
                if let Some(first) = lbs.iter().find(|o| o.name == spec.name) {
                    return Err(anyhow!(InputError::new(
                        spec.loc.clone(),
                        "",
                        format!("\"{}\" is declared twice (first at line {})", spec.name, first.loc.line)
                    )));
                }
                lbs.push(spec);
            }
            scenarios.push(Scenario {
                name: g.label.clone().unwrap_or_else(|| file.clone()),
                file,
                server: server.clone(),
                server_locs: locs.clone(),
                lbs,
                min_margin: g.min_margin.unwrap_or(DEFAULT_MIN_MARGIN),
                server_source: source.clone(),
                readyz_timeout_probability: scenario::DEFAULT_TIMEOUT_PROBABILITY,
                traffic: None,
                rollout: None,
            });
        }
    }
    if scenarios.iter().all(|s| s.lbs.is_empty()) && !opts.allow_empty && !any_paths {
        let what = if g.files.is_empty() {
            "no input file".to_string()
        } else {
            g.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(anyhow!(
            "{what}: no load-balancer-to-server pair to check (a kube-apiserver manifest alone names the server, not a load balancer; pass --allow-empty if that is expected)"
        ));
    }
    Ok(scenarios)
}

/// Loads the command line's paths: project files expand into their `[[check]]`s, every other path
/// is an input checked against `--server`, a manifest among them, or the default server.
pub fn load(paths: &[PathBuf], opts: &Options) -> Result<Vec<Scenario>> {
    let mut cli = Group::default();
    let mut out = Vec::new();
    for p in paths {
        let is_toml = opts.kind.is_none()
            && (family_of_name(&p.display().to_string()) == Some(Family::Toml) || p.extension().is_none());
        if is_toml && p.is_file() {
            let text = read_text(p)?;
            if is_project(&text) {
                for g in project::groups_with(p, &text, opts.allow_empty)? {
                    out.extend(load_group(&g, opts)?);
                }
                continue;
            }
        }
        cli.files.push(p.clone());
    }
    if !cli.files.is_empty() {
        out.extend(load_group(&cli, opts)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_name_and_content() {
        assert_eq!(family_of_content("{\"format_version\": \"1.2\"}"), Some(Family::Json));
        assert_eq!(family_of_content("# c\nglobal\n  daemon\n"), Some(Family::Haproxy));
        assert_eq!(family_of_content("apiVersion: v1\nkind: Service\n"), Some(Family::Yaml));
        assert_eq!(family_of_content("---\nfoo: bar\n"), Some(Family::Yaml));
        assert_eq!(family_of_content("[server]\nprofile = \"x\"\n"), Some(Family::Toml));
        assert_eq!(family_of_content("hello world\n"), None);
        assert_eq!(family_of_name("a/plan.JSON"), Some(Family::Json));
        assert_eq!(family_of_name("haproxy.cfg"), Some(Family::Haproxy));
    }

    #[test]
    fn a_file_that_is_not_what_its_name_says_is_an_error() {
        let e = parse_file("plan.json", "global\n  daemon\nbackend b\n", None, None, false)
            .err()
            .unwrap();
        assert!(e.message.contains("file name says JSON"), "{e}");
        let e = parse_file("x.bin", "\u{0}\u{1}", None, None, false).err().unwrap();
        assert!(e.message.contains("--input-kind"), "{e}");
        let e = parse_file("svc.yaml", "apiVersion: v1\nkind: ConfigMap\n", None, None, false)
            .err()
            .unwrap();
        assert!(e.message.contains("no load-balancer-to-server pair"), "{e}");
        assert!(parse_file("svc.yaml", "apiVersion: v1\nkind: ConfigMap\n", None, None, true).is_ok());
    }
}
