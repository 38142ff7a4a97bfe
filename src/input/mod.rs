//! Reading what users already have: haproxy.cfg, Kubernetes Services, Terraform plans and states,
//! kube-apiserver manifests, scenario files and the `graceline.toml` project file; each turned into
//! scenarios whose load balancers are built by the same profile and provider machinery as
//! scenario files, with every location pointing into the user's own file.
//!
//! One module per input kind: [`haproxy`] (over the [`haproxy_cfg`] parser), [`k8s`],
//! [`terraform`], [`manifest`], [`project`]; [`yaml`] locates YAML nodes.

pub mod cluster;
pub mod gateway;
pub mod haproxy;
pub mod haproxy_cfg;
pub mod k8s;
pub mod manifest;
pub mod nginx;
pub mod nginx_cfg;
pub mod project;
pub mod registry;
pub mod suppressions;
pub mod terraform;
pub mod walk;
pub mod workload;
pub mod yaml;

use crate::error::{InputError, Loc};
use crate::profiles::{self, Profile};
use crate::scenario::group::{assemble, Group, InputGroup, LbFile};
use crate::scenario::select::Patterns;
use crate::scenario::sources::{InlineSuppression, Texts};
use crate::scenario::{self, ServerSource};
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
    /// nginx configuration (`nginx.conf` with its includes, or `nginx -T` output).
    Nginx,
    /// Kubernetes objects (YAML or JSON): Services (their load balancers when of type
    /// LoadBalancer), workloads, Ingresses, Gateway API routes; kube-apiserver pods are `manifest`.
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
            InputKind::Nginx => "nginx",
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
    /// The error tier of the propagation evidence (`--propagation`), over graceline.toml's and
    /// the scenario files'.
    pub propagation_tier: Option<crate::provider::tiers::PropagationTier>,
    /// `--termination`: what ends the pods of the Kubernetes paths (over `[paths] termination`).
    pub termination: Option<crate::scenario::path_settings::Termination>,
    /// `--dataplane`: what programs Services (over `[paths] dataplane` and a Cilium ConfigMap).
    pub dataplane: Option<crate::scenario::path_settings::Dataplane>,
    /// How directory arguments are walked (`--max-depth`, `--exclude`).
    pub walk: walk::WalkOptions,
    /// The rule ids a project file's `[[ignore]]` may name (the rule table, given by the command
    /// line: readers know no rules).
    pub rule_ids: Vec<&'static str>,
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
pub struct GroupSpec {
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
    /// The error tier (`propagation_tier =` of a check).
    pub propagation_tier: Option<crate::provider::tiers::PropagationTier>,
    /// `[paths]` of graceline.toml.
    pub paths: crate::scenario::path_settings::PathSettings,
}

fn whole_file(file: &str) -> Loc {
    Loc {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
}

pub use crate::error::{is_stdin, STDIN_NAME, STDIN_PATH};

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
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                // Said on stderr, so a user who typed `-` by mistake does not wait on silence.
                eprintln!(
                    "graceline: reading standard input ({STDIN_PATH}): type or paste the configuration, then Ctrl-D (Ctrl-Z Enter on Windows)"
                );
            }
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

/// True when a TOML text is a project file (`[[check]]` tables) rather than a scenario.
pub fn is_project(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("check"))
}

/// The server `--server` names, resolved (for the built-in matrix, which reads no input).
pub fn named_server(opts: &Options) -> Result<Option<scenario::NamedServer>> {
    opts.server
        .as_ref()
        .map(|s| {
            resolve_server(
                &ServerRef {
                    text: s.clone(),
                    base: PathBuf::new(),
                    at: None,
                    via: "--server".to_string(),
                },
                &mut Texts::default(),
            )
        })
        .transpose()
}

/// Resolves a named server: a built-in server profile, a scenario file's `[server]` or a manifest
/// (its text kept in `texts`).
pub(crate) fn resolve_server(
    r: &ServerRef,
    texts: &mut Texts,
) -> Result<(ServerSpec, BTreeMap<&'static str, Loc>, ServerSource)> {
    let err_at = |m: String| -> anyhow::Error {
        match &r.at {
            Some(l) => anyhow!(InputError::new(l.clone(), "server", m)),
            None => anyhow!("--server {}: {m}", r.text),
        }
    };
    if let Some(b) = profiles::find(&r.text) {
        return match b.parse().map_err(&err_at)? {
            Profile::Server(_) => {
                let builtin = format!("builtin:{}", r.text);
                // Named by a `server =` line: findings about the server point at that line.
                let at = r.at.clone().unwrap_or_else(|| whole_file(&builtin));
                let (spec, locs) = scenario::server_from_profile(&r.text, &at).map_err(&err_at)?;
                let source = ServerSource {
                    origin: builtin,
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
    let syntax = registry::family_of_name(&display).or_else(|| registry::family_of_content(&text));
    texts.insert(&display, &text, syntax);
    match syntax {
        Some(registry::Family::Toml) => {
            let (spec, locs) = scenario::load_server_str(&display, &text)?;
            Ok((spec, locs, source))
        }
        Some(registry::Family::Yaml | registry::Family::Json) => {
            registry::yaml_size(&display, &text)?;
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
/// `walked`: found by walking a directory, so a file that cannot be read is reported and the
/// others are still judged, and a file with nothing to judge is not an error.
enum Unit {
    File {
        path: PathBuf,
        walked: bool,
    },
    Haproxy {
        label: String,
        files: Vec<PathBuf>,
        walked: bool,
    },
}

/// What reading the inputs saw besides the model: the files read and the walked files that could
/// not be read.
#[derive(Debug, Default)]
pub struct Reading {
    /// Every input file read, as named in finding locations.
    pub files: Vec<String>,
    /// Their texts, and the server files' (for diagnostics and fixes).
    pub texts: Texts,
    /// Walked files that could not be read (each reported; the run exits 2 after judging the rest).
    pub bad: Vec<anyhow::Error>,
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

/// How haproxy.cfg files are read for one run: the environment and assumed HAProxy build, its
/// version from `--haproxy-version`, else from an HAProxy image among the group's other inputs
/// (`images`: the oldest, as the one whose check timer is the least exact).
fn haproxy_read_options(opts: &Options, images: &[((u32, u32, u32), String, Loc)]) -> Result<haproxy_cfg::ReadOptions> {
    let mut env: std::collections::HashMap<String, String> = std::env::vars().collect();
    for (k, v) in &opts.haproxy_env {
        env.insert(k.clone(), v.clone());
    }
    let mut build = haproxy_cfg::cond::Build::default();
    let mut version_from = None;
    if let Some(v) = &opts.haproxy_version {
        build.version = haproxy_cfg::cond::parse_version(v).ok_or_else(|| anyhow!(bad_haproxy_version(v)))?;
        version_from = Some(format!("--haproxy-version {v}"));
    } else if let Some((v, image, at)) = images.iter().min_by_key(|i| i.0) {
        build.version = *v;
        let others = images.iter().filter(|i| i.0 != *v).count();
        version_from = Some(format!(
            "the image {image} at {at}{}",
            if others > 0 {
                format!(" (the oldest of {} haproxy images among the inputs)", images.len())
            } else {
                String::new()
            }
        ));
    }
    Ok(haproxy_cfg::ReadOptions {
        env,
        build,
        version_from,
    })
}

/// The message for an `--haproxy-version` that does not parse.
pub fn bad_haproxy_version(v: &str) -> String {
    format!("--haproxy-version \"{v}\": expected a version such as 2.6, 2.8.16 or 3.2-dev1")
}

/// The HAProxy images (with a version tag) among a group's Kubernetes inputs; unreadable files
/// are left to their reader's error.
fn haproxy_images(units: &[Unit], kind: Option<InputKind>) -> Vec<((u32, u32, u32), String, Loc)> {
    let mut out = Vec::new();
    for u in units {
        let Unit::File { path, .. } = u else { continue };
        let display = display_name(path);
        let Ok(bytes) = read_bytes(path) else { continue };
        let Ok(text) = registry::decode(&display, bytes, kind) else {
            continue;
        };
        if !registry::is_kubernetes_text(&text) {
            continue;
        }
        let t = yaml::Text::new(&display, &text);
        let docs = yaml::load(&t).unwrap_or_default();
        out.extend(manifest::haproxy_images(&t, &docs));
    }
    out
}

thread_local! {
    /// The bytes of every file read while a [`ReadOnce`] is alive, by path: content sniffing, the
    /// directory walk, image tags and the readers all look at the same files, and each is read
    /// from disk once.
    static READ_ONCE: std::cell::RefCell<Option<std::collections::HashMap<PathBuf, Vec<u8>>>> =
        const { std::cell::RefCell::new(None) };
}

/// While alive, [`read_bytes`] reads each file from disk once (one load of the inputs); dropped,
/// the kept bytes are let go.
pub struct ReadOnce {
    outer: bool,
}

impl ReadOnce {
    /// Starts keeping what is read (nested loads share the outer one's files).
    pub fn start() -> ReadOnce {
        let outer = READ_ONCE.with(|c| {
            let mut c = c.borrow_mut();
            let outer = c.is_none();
            if outer {
                *c = Some(Default::default());
            }
            outer
        });
        ReadOnce { outer }
    }
}

impl Drop for ReadOnce {
    fn drop(&mut self) {
        if self.outer {
            READ_ONCE.with(|c| *c.borrow_mut() = None);
        }
    }
}

/// Reads a file's bytes, refusing files over [`MAX_FILE_BYTES`] before reading them; inside a
/// [`ReadOnce`], a file already read is not read again.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if is_stdin(path) {
        return stdin_bytes();
    }
    if let Some(bytes) = READ_ONCE.with(|c| c.borrow().as_ref().and_then(|m| m.get(path).cloned())) {
        return Ok(bytes);
    }
    let bytes = read_from_disk(path)?;
    READ_ONCE.with(|c| {
        if let Some(m) = c.borrow_mut().as_mut() {
            m.insert(path.to_path_buf(), bytes.clone());
        }
    });
    Ok(bytes)
}

/// [`read_bytes`] without the keeping.
fn read_from_disk(path: &Path) -> Result<Vec<u8>> {
    let name = path.display();
    if path.is_dir() {
        return Err(anyhow!("{name}: is a directory, where a file is expected here"));
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
    let by_name = registry::family_of_name(&display);
    if by_name.is_some_and(|f| f != registry::Family::Haproxy) {
        return Ok(false);
    }
    let bytes = read_bytes(path)?;
    let by_content = registry::family_of_content(&String::from_utf8_lossy(&bytes));
    // A .cfg whose content looks like another kind is left to the mismatch error of the registry.
    Ok(match by_name {
        Some(_) => by_content.is_none_or(|c| c == registry::Family::Haproxy),
        None => by_content == Some(registry::Family::Haproxy),
    })
}

/// The units of a group: directories become one HAProxy configuration each; with `join`, every
/// haproxy.cfg of the group becomes one configuration in the order given.
fn units(g: &GroupSpec, opts: &Options, kind: Option<InputKind>, join: bool) -> Result<Vec<Unit>> {
    let mut out: Vec<Unit> = Vec::new();
    let mut joined: Option<usize> = None;
    for path in &g.files {
        let (label, files) = if path.is_dir() {
            let nginx = path.join("nginx.conf");
            if nginx.is_file()
                && kind.is_none_or(|k| k == InputKind::Nginx)
                && !std::fs::read_dir(path)?
                    .flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "cfg"))
            {
                // A configuration prefix such as /etc/nginx: read as `nginx -p dir/ -c nginx.conf`.
                out.push(Unit::File {
                    path: nginx,
                    walked: false,
                });
                continue;
            }
            let w = walk::walk(path, kind, &opts.walk)?;
            if w.files.is_empty() && w.haproxy.is_empty() && !opts.allow_empty {
                let mut why = Vec::new();
                if w.skipped > 0 {
                    why.push(format!("{} YAML, JSON, TOML or .cfg files hold none", w.skipped));
                }
                if w.helm > 0 {
                    why.push(format!(
                        "{} Helm templates are skipped (render them with helm template)",
                        w.helm
                    ));
                }
                return Err(anyhow!(
                    "{}: the directory has no file graceline reads (Kubernetes YAML or JSON, terraform show -json, scenario TOML, haproxy *.cfg){}; pass --allow-empty if that is expected",
                    path.display(),
                    if why.is_empty() { String::new() } else { format!(": {}", why.join("; ")) }
                ));
            }
            if w.helm > 0 {
                eprintln!(
                    "note: {}: {} Helm chart templates skipped; render them (helm template RELEASE CHART > rendered.yaml) and check the rendered file",
                    path.display(),
                    w.helm
                );
            }
            for (dir, files) in w.haproxy {
                out.push(Unit::Haproxy {
                    label: display_name(&dir),
                    files,
                    walked: true,
                });
            }
            out.extend(w.files.into_iter().map(|path| Unit::File { path, walked: true }));
            continue;
        } else if is_haproxy_path(path, kind)? {
            (display_name(path), vec![path.clone()])
        } else {
            out.push(Unit::File {
                path: path.clone(),
                walked: false,
            });
            continue;
        };
        match (join, joined) {
            (true, Some(i)) => {
                if let Some(Unit::Haproxy { label: l, files: f, .. }) = out.get_mut(i) {
                    l.push_str(" + ");
                    l.push_str(&label);
                    f.extend(files);
                }
            }
            _ => {
                if join {
                    joined = Some(out.len());
                }
                out.push(Unit::Haproxy {
                    label,
                    files,
                    walked: false,
                });
            }
        }
    }
    Ok(out)
}

/// Reads every input of a group once, each file through the reader its kind selects.
pub fn read_group(g: &GroupSpec, opts: &Options) -> Result<InputGroup> {
    let mut reading = Reading::default();
    let group = read_group_noting(g, opts, &mut reading)?;
    match reading.bad.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(group),
    }
}

/// [`read_group`], adding the name of every file it reads to `reading` (for inline suppressions)
/// and the walked files it cannot read.
pub fn read_group_noting(g: &GroupSpec, opts: &Options, reading: &mut Reading) -> Result<InputGroup> {
    let kind = g.kind.or(opts.kind);
    let cloud = g.cloud.or(opts.cloud);
    let join = g.haproxy_join || opts.haproxy_join;
    let patterns = if !g.select.is_empty() {
        Patterns::new(&g.select, "select =")?
    } else {
        Patterns::new(&opts.lb_patterns, "--lb")?
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
    let server = named
        .as_ref()
        .map(|r| resolve_server(r, &mut reading.texts))
        .transpose()?;
    let mut out = InputGroup {
        label: g.label.clone(),
        files: g.files.iter().map(|f| f.display().to_string()).collect(),
        server,
        min_margin: g.min_margin,
        patterns,
        propagation_delay: g.propagation_delay.clone(),
        propagation_tier: opts.propagation_tier.or(g.propagation_tier),
        allow_empty: opts.allow_empty,
        ..InputGroup::default()
    };
    let mut haproxy_opts: Option<haproxy_cfg::ReadOptions> = None;
    // `[paths]`: graceline.toml, under the scenario files' (joined), under the flags.
    let mut scenario_paths = crate::scenario::path_settings::PathSettings::default();
    let units = units(g, opts, kind, join)?;
    // An `haproxy:` image tag among the inputs names the version HAProxy's check timer follows.
    let images = if units.iter().any(|u| matches!(u, Unit::Haproxy { .. })) && opts.haproxy_version.is_none() {
        haproxy_images(&units, kind)
    } else {
        Vec::new()
    };
    for unit in units {
        let walked = matches!(
            unit,
            Unit::File { walked: true, .. } | Unit::Haproxy { walked: true, .. }
        );
        if let Err(e) = read_unit(
            unit,
            &mut out,
            &mut scenario_paths,
            &mut haproxy_opts,
            opts,
            kind,
            cloud,
            reading,
            &images,
        ) {
            if !walked {
                return Err(e);
            }
            reading.bad.push(e);
        }
    }
    let mut paths = g.paths.clone();
    paths.overlay(scenario_paths);
    paths.overlay(paths_flags(opts));
    out.paths = paths;
    Ok(out)
}

/// Reads one unit into the group; a walked unit with nothing to judge is no error.
#[allow(clippy::too_many_arguments)]
fn read_unit(
    unit: Unit,
    out: &mut InputGroup,
    scenario_paths: &mut crate::scenario::path_settings::PathSettings,
    haproxy_opts: &mut Option<haproxy_cfg::ReadOptions>,
    opts: &Options,
    kind: Option<InputKind>,
    cloud: Option<Cloud>,
    reading: &mut Reading,
    images: &[((u32, u32, u32), String, Loc)],
) -> Result<()> {
    match unit {
        Unit::File { path, walked } => {
            let display = display_name(&path);
            reading.files.push(display.clone());
            let text = registry::decode(&display, read_bytes(&path)?, kind)?;
            let syntax = registry::family_of_name(&display).or_else(|| registry::family_of_content(&text));
            reading.texts.insert(&display, &text, syntax);
            let ctx = registry::ReadContext {
                kind,
                cloud,
                allow_empty: opts.allow_empty || walked,
                named: out.server.as_ref(),
            };
            let f = registry::read_file(&display, &text, &ctx)?;
            for (name, text) in &f.included {
                reading.texts.insert(name, text, syntax);
            }
            if let Some(p) = f.paths {
                scenario_paths.join(p).map_err(|e| anyhow!(e))?;
            }
            out.scenarios.extend(f.scenario);
            out.manifests
                .extend(f.objects.apiservers.iter().map(|a| a.server.clone()));
            out.objects.extend(f.objects);
            if !f.lbs.is_empty() {
                out.lb_files.push(LbFile {
                    file: display,
                    lbs: f.lbs,
                });
            }
        }
        Unit::Haproxy { label, files, walked } => {
            let ro = match haproxy_opts {
                Some(o) => o,
                None => haproxy_opts.insert(haproxy_read_options(opts, images)?),
            };
            let names: Vec<String> = files.iter().map(|f| display_name(f)).collect();
            reading.files.extend(names.iter().cloned());
            let mut texts = Vec::new();
            for (f, n) in files.iter().zip(&names) {
                let text = registry::decode_haproxy(n, read_bytes(f)?)?;
                reading.texts.insert(n, &text, Some(registry::Family::Haproxy));
                texts.push(text);
            }
            let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let lbs = haproxy::lbs_of(&name_refs, &text_refs, ro)?;
            if lbs.is_empty() && !opts.allow_empty && !walked {
                return Err(anyhow!(InputError::new(
                    whole_file(&label),
                    "",
                    "no server line with `check` in a backend or listen section: no load-balancer-to-server pair to check (pass --allow-empty if that is expected)"
                )));
            }
            if !lbs.is_empty() {
                out.lb_files.push(LbFile { file: label, lbs });
            }
        }
    }
    Ok(())
}

/// The `[paths]` settings the command line gives.
fn paths_flags(opts: &Options) -> crate::scenario::path_settings::PathSettings {
    use crate::scenario::path_settings::{PathSettings, Setting};
    PathSettings {
        termination: opts.termination.map(|value| Setting {
            value,
            at: "--termination".to_string(),
        }),
        dataplane: opts.dataplane.map(|value| Setting {
            value,
            at: "--dataplane".to_string(),
        }),
        ..PathSettings::default()
    }
}

/// The groups the command line's paths make: project files expand into their `[[check]]`s, every
/// other path joins one group checked against `--server`, a manifest among them, or the default.
pub fn group_specs(paths: &[PathBuf], opts: &Options) -> Result<Vec<GroupSpec>> {
    let mut cli = GroupSpec::default();
    let mut out = Vec::new();
    for p in paths {
        let is_toml = opts.kind.is_none()
            && (registry::family_of_name(&p.display().to_string()) == Some(registry::Family::Toml)
                || p.extension().is_none());
        if is_toml && p.is_file() {
            let text = read_text(p)?;
            if is_project(&text) {
                out.extend(project::groups_with(p, &text, opts.allow_empty)?);
                continue;
            }
        }
        cli.files.push(p.clone());
    }
    if !cli.files.is_empty() {
        out.push(cli);
    }
    Ok(out)
}

/// Reads the command line's paths and assembles the model: every load balancer paired with what
/// shuts down behind it, every Service port bound to its pods.
pub fn load(paths: &[PathBuf], opts: &Options) -> Result<Vec<Group>> {
    Ok(load_all(paths, opts)?.groups)
}

/// What a run read: the model, every file read (in the order read, each once) and the
/// `[[ignore]]` entries of the project files among the paths.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The model.
    pub groups: Vec<Group>,
    /// Every input file read, as named in finding locations.
    pub files: Vec<String>,
    /// The project files' `[[ignore]]` entries.
    pub ignores: Vec<project::Ignore>,
    /// Walked files that could not be read, each error in words; the rest was judged.
    pub bad: Vec<String>,
    /// The text of every file read (inputs, server files, project files), read once.
    pub texts: Texts,
    /// The suppressions written in the inputs (comments, annotations).
    pub in_source: Vec<InlineSuppression>,
    /// What `--set` changed (filled by the command line after loading).
    pub overrides: Vec<crate::scenario::overrides::Applied>,
}

/// [`load`], with the files read and the project files' `[[ignore]]` entries.
pub fn load_all(paths: &[PathBuf], opts: &Options) -> Result<Loaded> {
    let _once = ReadOnce::start();
    let mut out = Loaded::default();
    for p in paths.iter().filter(|p| p.is_file()) {
        let is_toml =
            opts.kind.is_none() && registry::family_of_name(&p.display().to_string()) == Some(registry::Family::Toml);
        if is_toml {
            let text = read_text(p)?;
            if is_project(&text) {
                out.texts.insert(&display_name(p), &text, Some(registry::Family::Toml));
                out.ignores.extend(project::ignores(p, &text, &opts.rule_ids)?);
            }
        }
    }
    for g in group_specs(paths, opts)? {
        let mut reading = Reading::default();
        let group = read_group_noting(&g, opts, &mut reading)?;
        out.files.extend(reading.files);
        out.texts.extend(reading.texts);
        let bad = !reading.bad.is_empty();
        out.bad.extend(reading.bad.iter().map(|e| format!("{e:#}")));
        match assemble(group) {
            Ok(g) => out.groups.push(g),
            // With bad files the group's error may be their doing: reported with them.
            Err(e) if bad => out.bad.push(format!("{e:#}")),
            Err(e) => return Err(e),
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.files.retain(|f| seen.insert(f.clone()));
    // Every file read, includes and server files too: a suppression may sit beside any finding.
    for (name, f) in out.texts.iter() {
        out.in_source.extend(suppressions::scan(name, &f.text, f.syntax));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_a_load_each_file_is_read_from_disk_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "first").unwrap();
        {
            let _once = ReadOnce::start();
            assert_eq!(read_bytes(&p).unwrap(), b"first");
            std::fs::write(&p, "second").unwrap();
            // Sniffing, walking and reading all see what was read first.
            assert_eq!(read_bytes(&p).unwrap(), b"first");
            {
                let _nested = ReadOnce::start();
                assert_eq!(read_text(&p).unwrap(), "first");
            }
            assert_eq!(read_bytes(&p).unwrap(), b"first");
        }
        // Outside a load, the disk is read again.
        assert_eq!(read_bytes(&p).unwrap(), b"second");
    }
}
