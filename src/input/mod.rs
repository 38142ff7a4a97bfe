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
pub mod nginx_cfg;
pub mod project;
pub mod select;
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
    /// `--secure-port` when the command sets it, with where.
    pub port: Option<(u16, Loc)>,
    /// Values assumed rather than read (e.g. the version of an image pinned by digest only).
    pub assumed: Vec<String>,
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
    /// Glob patterns on LB names; empty = the default selection (LBs sending traffic to the
    /// server's port). When non-empty they replace the default selection.
    pub lb_patterns: Vec<String>,
    /// Environment variables for haproxy.cfg, over the process environment (`--haproxy-env`).
    pub haproxy_env: Vec<(String, String)>,
    /// HAProxy version assumed by `.if version_atleast(...)` (default [`haproxy_cfg::cond::DEFAULT_VERSION`]).
    pub haproxy_version: Option<String>,
    /// Read every haproxy.cfg input as one configuration, in the order given (`haproxy -f A -f B`).
    pub haproxy_join: bool,
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
    /// LB-name patterns (`select =`), replacing the default selection and `--lb`.
    pub select: Vec<String>,
    /// Read the group's haproxy.cfg files as one configuration (`haproxy_join = true`).
    pub haproxy_join: bool,
    /// The user's propagation figure for every LB of the group (`propagation_delay =` of a check).
    pub propagation_delay: Option<crate::provider::Located<crate::provider::Propagation>>,
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

/// Standard input's bytes, read once: several readers may look at `-` (content sniffing, then
/// parsing), and standard input cannot be read twice.
fn stdin_bytes() -> Result<Vec<u8>> {
    static STDIN: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    STDIN
        .get_or_init(|| {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{STDIN_NAME}: cannot read: {e}"))?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(format!(
                    "{STDIN_NAME}:1:1: over the {} MiB graceline reads",
                    MAX_FILE_BYTES / (1024 * 1024)
                ));
            }
            Ok(bytes)
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Reads a file (or standard input for `-`) as UTF-8 text, refusing files over
/// [`MAX_FILE_BYTES`] before reading them.
pub fn read_text(path: &Path) -> Result<String> {
    let name = display_name(path);
    String::from_utf8(read_bytes(path)?).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow!("{name}:{line}: not UTF-8 text (invalid byte at offset {})", valid.len())
    })
}

/// True when `text` (standard input, which has no file name) looks like Kubernetes objects: YAML,
/// or JSON that is not `terraform show -json`.
pub fn is_kubernetes_text(text: &str) -> bool {
    match family_of_content(text) {
        Some(Family::Yaml) => true,
        Some(Family::Json) => json_is_kubernetes(text),
        _ => false,
    }
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

/// Decodes a file's bytes for its kind, then reads it. A byte order mark is named in words (and
/// stripped for YAML and TOML, which allow it); bytes that are not UTF-8 are refused except in an
/// haproxy.cfg (HAProxy reads bytes; see [`decode_haproxy`]). With a named server, kube-apiserver
/// manifests among the inputs are not read as the server (`--server` takes precedence).
fn parse_bytes(
    file: &str,
    mut bytes: Vec<u8>,
    kind: Option<InputKind>,
    cloud: Option<Cloud>,
    opts: &Options,
    server_named: bool,
) -> Result<Parsed, InputError> {
    let family = kind
        .map(|k| match k {
            InputKind::Haproxy => Family::Haproxy,
            InputKind::K8s | InputKind::Manifest => Family::Yaml,
            InputKind::Terraform => Family::Json,
            InputKind::Scenario => Family::Toml,
        })
        .or_else(|| family_of_name(file))
        .or_else(|| family_of_content(&String::from_utf8_lossy(&bytes)));
    if bytes.starts_with(b"\xef\xbb\xbf") {
        match family {
            Some(Family::Haproxy) => {
                return Err(bom_error(
                    file,
                    "HAProxy reads it as part of the first keyword and refuses the file",
                ))
            }
            Some(Family::Json) => {
                return Err(bom_error(
                    file,
                    "JSON (RFC 8259) does not allow it and terraform show -json never writes it",
                ))
            }
            _ => {
                bytes.drain(..3);
            }
        }
    }
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if family == Some(Family::Haproxy) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(InputError::new(
                Loc {
                    file: file.to_string(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    column: 1,
                },
                "",
                format!("not UTF-8 text (invalid byte at offset {})", valid.len()),
            ));
        }
    };
    parse_file_as(file, &text, kind, cloud, opts.allow_empty, server_named)
}

/// Reads one file of the given kind (or the kind its name and content point to).
#[cfg(test)]
fn parse_file(
    file: &str,
    text: &str,
    kind: Option<InputKind>,
    cloud: Option<Cloud>,
    allow_empty: bool,
) -> Result<Parsed, InputError> {
    parse_file_as(file, text, kind, cloud, allow_empty, false)
}

/// Whether a JSON text is Kubernetes objects (`kubectl get -o json`) rather than `terraform show
/// -json`: decided by content, not by the file name.
fn json_is_kubernetes(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    let first_key = head
        .trim_start()
        .strip_prefix('{')
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('"'))
        .and_then(|r| r.split('"').next());
    match first_key {
        Some("format_version") => false,
        Some("apiVersion" | "kind" | "items" | "metadata" | "spec") => true,
        _ => !head.contains("\"format_version\"") && (head.contains("\"apiVersion\"") || head.contains("\"kind\"")),
    }
}

/// The position of a Helm template action (`{{ .Values.x }}`, `{{- if ... }}`), if the text has one.
fn helm_action(text: &str) -> Option<(u32, u32)> {
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(col) = line.find("{{") {
            let rest = line[col + 2..].trim_start_matches('-').trim_start();
            let helmish = rest.starts_with('.')
                || rest.starts_with('$')
                || [
                    "if ",
                    "else",
                    "end",
                    "range ",
                    "with ",
                    "include ",
                    "template ",
                    "define ",
                    "toYaml",
                    "tpl ",
                    "/*",
                ]
                .iter()
                .any(|k| rest.starts_with(k));
            if helmish && line[col..].contains("}}") {
                let column = line[..col].chars().count() + 1;
                return Some((
                    u32::try_from(i + 1).unwrap_or(u32::MAX),
                    u32::try_from(column).unwrap_or(u32::MAX),
                ));
            }
        }
    }
    None
}

/// `kind: List` (`kubectl get -o yaml|json`) and `*List` kinds hold their objects in `items`.
fn flatten_lists<'a>(docs: Vec<yaml::Node<'a>>) -> Vec<yaml::Node<'a>> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let is_list = yaml::get(&d, "kind")
            .and_then(yaml::as_str)
            .is_some_and(|k| k.ends_with("List"));
        match yaml::get(&d, "items") {
            Some(items) if is_list => out.extend(flatten_lists(yaml::items(items).to_vec())),
            _ => out.push(d),
        }
    }
    out
}

/// Reads one file of the given kind (or the kind its name and content point to).
fn parse_file_as(
    file: &str,
    text: &str,
    kind: Option<InputKind>,
    cloud: Option<Cloud>,
    allow_empty: bool,
    server_named: bool,
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
        Family::Json if kind != Some(InputKind::Terraform) && json_is_kubernetes(text) => {
            return parse_file_as(file, text, Some(InputKind::K8s), cloud, allow_empty, server_named).or_else(|e| {
                match kind {
                    // Without --input-kind the JSON may also hold a Pod: try it as a manifest.
                    None if e.message.contains("no Service of type LoadBalancer") => {
                        parse_file_as(file, text, Some(InputKind::Manifest), cloud, allow_empty, server_named)
                    }
                    _ => Err(e),
                }
            });
        }
        Family::Json => {
            let t = yaml::Text::new(file, text);
            out.lbs = terraform::lbs(&t)?;
            if out.lbs.is_empty() && !allow_empty {
                return Err(empty(
                    file,
                    "no aws_lb_target_group, aws_elb, google_compute_*health_check or azurerm_lb_probe in the plan or state",
                ));
            }
        }
        Family::Yaml => {
            yaml_size(file, text)?;
            if let Some((line, column)) = helm_action(text) {
                return Err(InputError::new(
                    Loc {
                        file: file.to_string(),
                        line,
                        column,
                    },
                    "",
                    "this is a Helm chart template ({{ ... }} actions), not a Kubernetes manifest: render it first (helm template RELEASE CHART [-f values.yaml] > rendered.yaml) and check the rendered file",
                ));
            }
            let t = yaml::Text::new(file, text);
            let docs = flatten_lists(yaml::load(&t)?);
            if kind != Some(InputKind::Manifest) {
                out.lbs = k8s::lbs(&t, &docs, cloud)?;
            }
            let superseded = server_named && manifest::has_apiserver(&docs);
            if kind != Some(InputKind::K8s) && !superseded {
                out.servers = manifest::servers(&t, &docs)?;
            }
            out.paths = !out.servers.is_empty() || superseded || workload::has_path_inputs(&docs);
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

/// The server `--server` names, resolved (for the built-in matrix, which reads no input).
pub fn named_server(opts: &Options) -> Result<Option<scenario::NamedServer>> {
    opts.server
        .as_ref()
        .map(|s| {
            resolve_server(&ServerRef {
                text: s.clone(),
                base: PathBuf::new(),
                at: None,
                via: "--server".to_string(),
            })
        })
        .transpose()
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
        let names = profiles::names("server");
        let near = names
            .iter()
            .map(|n| (strsim::damerau_levenshtein(&r.text, n), *n))
            .filter(|(d, n)| *d <= 3.max(n.len() / 5))
            .min();
        return Err(err_at(format!(
            "\"{}\" is neither a built-in server profile nor a file{}; server profiles: {}",
            r.text,
            near.map_or_else(String::new, |(_, n)| format!("; did you mean \"{n}\"?")),
            names.join(", ")
        )));
    }
    let display = display_name(&path);
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
                    let mut source = source;
                    for a in &s.assumed {
                        source.assumed = true;
                        source.reason.push_str("; ");
                        source.reason.push_str(a);
                    }
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

/// One configuration to read: a file, or several haproxy.cfg files read as one (a directory, or
/// files joined with `--haproxy-join` / `haproxy_join = true`).
enum Unit {
    File(PathBuf),
    Haproxy { label: String, files: Vec<PathBuf> },
}

/// The `*.cfg` files of a directory in HAProxy's order for `-f dir/`: regular files whose name
/// ends in `.cfg`, sorted by name byte by byte (`scandir(..., alphasort)` under the C locale,
/// src/haproxy.c `list_append_cfgfile` / `cfgfiles` loading, manual section 3 "-f").
pub fn haproxy_dir_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let name = dir.display();
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| anyhow!("{name}: cannot read the directory: {e}"))? {
        let e = e.map_err(|e| anyhow!("{name}: cannot read the directory: {e}"))?;
        let p = e.path();
        let is_cfg = p.extension().is_some_and(|x| x == "cfg") && p.file_name().is_some_and(|n| n.len() > 4);
        if is_cfg && p.is_file() {
            out.push(p);
        }
    }
    out.sort_by(|a, b| {
        a.file_name()
            .map(|n| n.as_encoded_bytes())
            .cmp(&b.file_name().map(|n| n.as_encoded_bytes()))
    });
    Ok(out)
}

/// How haproxy.cfg files are read for one run: the environment and assumed HAProxy build.
fn haproxy_read_options(opts: &Options) -> Result<haproxy_cfg::ReadOptions> {
    let mut env: std::collections::HashMap<String, String> = std::env::vars().collect();
    for (k, v) in &opts.haproxy_env {
        env.insert(k.clone(), v.clone());
    }
    let mut build = haproxy_cfg::cond::Build::default();
    if let Some(v) = &opts.haproxy_version {
        build.version = haproxy_cfg::cond::parse_version(v)
            .ok_or_else(|| anyhow!("--haproxy-version \"{v}\": expected a version such as 2.6 or 2.8.12"))?;
    }
    Ok(haproxy_cfg::ReadOptions { env, build })
}

/// Decodes one haproxy.cfg: HAProxy reads bytes, so bytes that are not UTF-8 (a Latin-1 comment)
/// are kept as U+FFFD, one column each; a leading byte order mark is refused as HAProxy does.
fn decode_haproxy(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        return Err(bom_error(
            name,
            "HAProxy reads it as part of the first keyword and refuses the file",
        ));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn bom_error(name: &str, why: &str) -> InputError {
    InputError::new(
        whole_file(name),
        "",
        format!(
            "the file starts with a UTF-8 byte order mark (BOM, bytes EF BB BF): {why}; save it as UTF-8 without BOM"
        ),
    )
}

/// Reads a file's bytes, refusing files over [`MAX_FILE_BYTES`] before reading them.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if is_stdin(path) {
        return stdin_bytes();
    }
    let name = path.display();
    if path.is_dir() {
        return Err(anyhow!(
            "{name}: is a directory; graceline reads a directory as one HAProxy configuration (its *.cfg files, as haproxy -f dir/), and this one has none"
        ));
    }
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
    Ok(bytes)
}

/// Whether a path is read as an haproxy.cfg: forced kind, `.cfg` name, or content.
fn is_haproxy_path(path: &Path, kind: Option<InputKind>) -> Result<bool> {
    if let Some(k) = kind {
        return Ok(k == InputKind::Haproxy);
    }
    let display = display_name(path);
    let by_name = family_of_name(&display);
    if by_name.is_some_and(|f| f != Family::Haproxy) {
        return Ok(false);
    }
    let bytes = read_bytes(path)?;
    let by_content = family_of_content(&String::from_utf8_lossy(&bytes));
    // A .cfg whose content looks like another kind is left to the mismatch error of parse_file.
    Ok(match by_name {
        Some(_) => by_content.is_none_or(|c| c == Family::Haproxy),
        None => by_content == Some(Family::Haproxy),
    })
}

/// The units of a group: directories become one HAProxy configuration each; with `join`, every
/// haproxy.cfg of the group becomes one configuration in the order given.
fn units(g: &Group, kind: Option<InputKind>, join: bool, allow_empty: bool) -> Result<Vec<Unit>> {
    let mut out: Vec<Unit> = Vec::new();
    let mut joined: Option<usize> = None;
    for path in &g.files {
        let (label, files) = if path.is_dir() {
            if let Some(k) = kind.filter(|k| *k != InputKind::Haproxy) {
                return Err(anyhow!(
                    "{}: is a directory, which graceline reads only as one HAProxy configuration, not as --input-kind {}",
                    path.display(),
                    k.name()
                ));
            }
            let files = haproxy_dir_files(path)?;
            if files.is_empty() {
                if allow_empty {
                    continue;
                }
                return Err(anyhow!(
                    "{}: is a directory without *.cfg files (graceline reads a directory as HAProxy does with -f dir/: its *.cfg files in name order)",
                    path.display()
                ));
            }
            (display_name(path), files)
        } else if is_haproxy_path(path, kind)? {
            (display_name(path), vec![path.clone()])
        } else {
            out.push(Unit::File(path.clone()));
            continue;
        };
        match (join, joined) {
            (true, Some(i)) => {
                if let Some(Unit::Haproxy { label: l, files: f }) = out.get_mut(i) {
                    l.push_str(" + ");
                    l.push_str(&label);
                    f.extend(files);
                }
            }
            _ => {
                if join {
                    joined = Some(out.len());
                }
                out.push(Unit::Haproxy { label, files });
            }
        }
    }
    Ok(out)
}

/// The server port the default selection uses, when the server is kube-apiserver.
fn server_port(
    server: &ServerSpec,
    manifest_port: Option<(u16, Loc)>,
    from_manifest: bool,
) -> Option<select::ServerPort> {
    if let Some((port, l)) = manifest_port {
        return Some(select::ServerPort {
            port,
            source: format!("--secure-port at {l}"),
        });
    }
    (from_manifest || server.profile.starts_with("kube-apiserver")).then(|| select::ServerPort {
        port: 6443,
        source: "kube-apiserver's default --secure-port".to_string(),
    })
}

/// Loads every input of a group and builds one scenario per file (or joined configuration) with
/// load balancers; LBs that do not front the server are kept in `skipped`.
pub fn load_group(g: &Group, opts: &Options) -> Result<Vec<Scenario>> {
    let kind = g.kind.or(opts.kind);
    let cloud = g.cloud.or(opts.cloud);
    let join = g.haproxy_join || opts.haproxy_join;
    let patterns = if !g.select.is_empty() {
        select::Patterns::new(&g.select, "select =")?
    } else {
        select::Patterns::new(&opts.lb_patterns, "--lb")?
    };
    let named = g.server.clone().or_else(|| {
        opts.server.as_ref().map(|s| ServerRef {
            text: s.clone(),
            base: PathBuf::new(),
            at: None,
            via: "--server".to_string(),
        })
    });
    // A named server is resolved before anything else, so a bad name is an error whatever the
    // inputs are; scenario files are then checked against it too.
    let resolved = named.as_ref().map(resolve_server).transpose()?;
    let mut scenarios = Vec::new();
    let mut lb_files: Vec<(String, Vec<LbInput>)> = Vec::new();
    let mut manifests: Vec<ServerInput> = Vec::new();
    let mut any_paths = false;
    let mut any_workloads = false;
    let mut haproxy_opts: Option<haproxy_cfg::ReadOptions> = None;
    for unit in units(g, kind, join, opts.allow_empty)? {
        match unit {
            Unit::File(path) => {
                let display = display_name(&path);
                let bytes = read_bytes(&path)?;
                let p = parse_bytes(&display, bytes, kind, cloud, opts, named.is_some())?;
                match (&resolved, p.scenario) {
                    (Some(r), Some(_)) => {
                        let text = read_text(&path)?;
                        scenarios.push(scenario::load_str_with(&display, &text, Some(r))?);
                    }
                    (_, sc) => scenarios.extend(sc),
                }
                any_paths |= p.paths;
                any_workloads |= p.workloads;
                manifests.extend(p.servers);
                if !p.lbs.is_empty() {
                    lb_files.push((display, p.lbs));
                }
            }
            Unit::Haproxy { label, files } => {
                let ro = match &haproxy_opts {
                    Some(o) => o,
                    None => haproxy_opts.insert(haproxy_read_options(opts)?),
                };
                let names: Vec<String> = files.iter().map(|f| display_name(f)).collect();
                let mut texts = Vec::new();
                for (f, n) in files.iter().zip(&names) {
                    texts.push(decode_haproxy(n, read_bytes(f)?)?);
                }
                let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let lbs = haproxy::lbs_of(&name_refs, &text_refs, ro)?;
                if lbs.is_empty() && !opts.allow_empty {
                    return Err(anyhow!(empty(
                        &label,
                        "no server line with `check` in a backend or listen section"
                    )));
                }
                if !lbs.is_empty() {
                    lb_files.push((label, lbs));
                }
            }
        }
    }
    if !lb_files.is_empty() {
        let (server, locs, source, port) = match (&resolved, manifests.len()) {
            (Some((spec, locs, source)), _) => {
                let (spec, locs, source) = (spec.clone(), locs.clone(), source.clone());
                let port = server_port(&spec, None, false);
                (spec, locs, source, port)
            }
            (None, 1) => {
                let m = manifests.remove(0);
                let mut reason = format!("the kube-apiserver manifest among the inputs (pod {})", m.pod);
                for a in &m.assumed {
                    reason.push_str("; ");
                    reason.push_str(a);
                }
                let source = ServerSource {
                    origin: m.origin.clone(),
                    assumed: !m.assumed.is_empty(),
                    reason,
                };
                let port = server_port(&m.spec, m.port.clone(), true);
                (m.spec, m.locs, source, port)
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
                let port = server_port(&spec, None, false);
                (spec, locs, source, port)
            }
            (None, n) => {
                let names: Vec<_> = manifests.iter().map(|m| m.origin.as_str()).collect();
                return Err(anyhow!(
                    "{n} kube-apiserver manifests among the inputs ({}): name the server with --server (or server = in graceline.toml)",
                    names.join(", ")
                ));
            }
        };
        if !patterns.is_empty() {
            let all: Vec<&str> = lb_files
                .iter()
                .flat_map(|(_, l)| l.iter().map(|x| x.name.as_str()))
                .collect();
            let unmatched = patterns.unmatched(&all);
            if !unmatched.is_empty() {
                let mut shown: Vec<&str> = all.iter().copied().take(20).collect();
                if all.len() > 20 {
                    shown.push("...");
                }
                return Err(anyhow!(
                    "load-balancer pattern(s) {} match no load balancer of the inputs; they have: {}",
                    unmatched.join(", "),
                    shown.join(", ")
                ));
            }
        }
        let mut profile_cache: std::collections::HashMap<String, Box<profiles::LbProfile>> =
            std::collections::HashMap::new();
        for (file, inputs) in lb_files {
            let (mut inputs, skipped) = select::select(inputs, &patterns, port.as_ref());
            if let Some(e) = inputs.iter().find_map(|i| i.refused.clone()) {
                return Err(anyhow!(e));
            }
            let mut lbs: Vec<scenario::LbSpec> = Vec::with_capacity(inputs.len());
            let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
            // Taken in order from the end of the reversed list, which shrinks as it goes: a large
            // haproxy.cfg never holds all of its LBs both read and built.
            inputs.reverse();
            while let Some(i) = inputs.pop() {
                if inputs.len() < inputs.capacity() / 2 {
                    inputs.shrink_to_fit();
                }
                let i = &i;
                // Parse each LB profile once per run: a large haproxy.cfg has thousands of LBs.
                if !profile_cache.contains_key(&i.profile) {
                    let p = profiles::lb(&i.profile).map_err(|m| InputError::new(i.loc.clone(), "profile", m))?;
                    profile_cache.insert(i.profile.clone(), p);
                }
                let with_own;
                let i = match &g.propagation_delay {
                    Some(p) => {
                        let mut own = i.clone();
                        own.settings.propagation_delay = Some(p.clone());
                        with_own = own;
                        &with_own
                    }
                    None => i,
                };
                let spec = match profile_cache.get(&i.profile) {
                    Some(p) => scenario::build_lb_with(i, p, &server)?,
                    None => build_lb(i, &server)?,
                };
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
                skipped,
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
        let skipped: usize = scenarios.iter().map(|s| s.skipped.len()).sum();
        if skipped > 0 {
            let names: Vec<&str> = scenarios
                .iter()
                .flat_map(|s| s.skipped.iter().map(|k| k.name.as_str()))
                .take(10)
                .collect();
            return Err(anyhow!(
                "{what}: every load balancer was left out by the selection ({skipped} skipped: {}); the server's port or the --lb/select patterns match none of them",
                names.join(", ")
            ));
        }
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
