//! The reader registry: every input format graceline reads, how it is recognised (the file's
//! name, else its content, or `--input-kind`) and the function that reads it into the model's
//! inputs. A new format is one reader function plus one line in [`READERS`] (and its syntax in
//! [`Family`] when it is a new one).

use super::{cluster, gateway, haproxy, k8s, nginx, terraform, workload, yaml, Cloud, InputKind, MAX_YAML_BYTES};
use crate::error::{InputError, Loc};
use crate::scenario::k8s::{CheckTarget, Objects};
use crate::scenario::{self, LbInput, NamedServer, Scenario};
use std::path::Path;

fn whole_file(file: &str) -> Loc {
    Loc {
        file: file.to_string(),
        line: 1,
        column: 1,
    }
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

/// The syntax family a file's name or content points to (kept with each file's text).
pub use crate::scenario::sources::Syntax as Family;

impl Family {
    fn describe(self) -> &'static str {
        match self {
            Family::Json => "JSON (terraform show -json)",
            Family::Yaml => "YAML (Kubernetes Service or kube-apiserver manifest)",
            Family::Toml => "TOML (scenario or graceline.toml)",
            Family::Haproxy => "an haproxy.cfg",
            Family::Nginx => "an nginx configuration",
        }
    }
}

/// The syntax a file name points to, by its extension.
pub fn family_of_name(file: &str) -> Option<Family> {
    let lower = file.to_ascii_lowercase();
    let ext = Path::new(&lower).extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "json" => Some(Family::Json),
        "yaml" | "yml" => Some(Family::Yaml),
        "toml" => Some(Family::Toml),
        "cfg" => Some(Family::Haproxy),
        "conf" => Some(Family::Nginx),
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

/// Directives that open an nginx configuration (main context), as nginx's core, events, http
/// and stream modules name them.
const NGINX_MAIN: &[&str] = &[
    "user",
    "worker_processes",
    "worker_rlimit_nofile",
    "worker_shutdown_timeout",
    "worker_cpu_affinity",
    "error_log",
    "pid",
    "load_module",
    "include",
    "daemon",
    "master_process",
    "pcre_jit",
    "env",
    "events",
    "http",
    "stream",
    "thread_pool",
    "timer_resolution",
    "working_directory",
];

/// The syntax a text looks like (its first meaningful line, then its shape).
pub fn family_of_content(text: &str) -> Option<Family> {
    let body = text.trim_start_matches('\u{feff}');
    // `nginx -T` prints each file after a `# configuration file <path>:` line.
    if body.starts_with("# configuration file ") {
        return Some(Family::Nginx);
    }
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
    let nginx_word = word.trim_end_matches(['{', ';']);
    if NGINX_MAIN.contains(&nginx_word) && (first.ends_with(';') || first.ends_with('{')) {
        return Some(Family::Nginx);
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

pub(crate) fn yaml_size(file: &str, text: &str) -> Result<(), InputError> {
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

fn empty(file: &str, what: &str) -> InputError {
    InputError::new(
        whole_file(file),
        "",
        format!("{what}: no load-balancer-to-server pair to check (pass --allow-empty if that is expected)"),
    )
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
pub(crate) fn helm_action(text: &str) -> Option<(u32, u32)> {
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

/// Decodes one haproxy.cfg: HAProxy reads bytes, so bytes that are not UTF-8 (a Latin-1 comment)
/// are kept as U+FFFD, one column each; a leading byte order mark is refused as HAProxy does.
pub(crate) fn decode_haproxy(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
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

/// What one file yields.
#[derive(Debug, Default)]
pub struct FileInputs {
    /// Load balancers (haproxy.cfg servers, Terraform target groups, Services of type LoadBalancer).
    pub lbs: Vec<LbInput>,
    /// Kubernetes objects (workloads, Services, Ingresses, kube-apiserver pods, kube-proxy's mode).
    pub objects: Objects,
    /// A scenario file, resolved.
    pub scenario: Option<Scenario>,
    /// The scenario file's `[paths]` table.
    pub paths: Option<crate::scenario::path_settings::PathSettings>,
    /// Other files the reader read for this one (nginx `include`s), as (name, text).
    pub included: Vec<(String, String)>,
}

/// How one run reads its files.
#[derive(Debug, Clone, Copy)]
pub struct ReadContext<'a> {
    /// `--input-kind` (or `kind =`), if given.
    pub kind: Option<InputKind>,
    /// Cloud of Services without a cloud annotation.
    pub cloud: Option<Cloud>,
    /// A file with nothing to judge is not an error.
    pub allow_empty: bool,
    /// The named server, which replaces a scenario file's `[server]`.
    pub named: Option<&'a NamedServer>,
}

/// One input format: its syntax and the function that reads a file of it.
pub struct Reader {
    /// The syntax (file extensions and content sniffing select it).
    pub family: Family,
    /// Reads one file's text.
    pub read: fn(&str, &str, &ReadContext) -> Result<FileInputs, InputError>,
}

/// Every input format graceline reads.
pub const READERS: &[Reader] = &[
    Reader {
        family: Family::Haproxy,
        read: read_haproxy,
    },
    Reader {
        family: Family::Nginx,
        read: read_nginx,
    },
    Reader {
        family: Family::Json,
        read: read_json,
    },
    Reader {
        family: Family::Yaml,
        read: read_kubernetes,
    },
    Reader {
        family: Family::Toml,
        read: read_scenario,
    },
];

/// The syntax `--input-kind` selects.
fn family_of_kind(k: InputKind) -> Family {
    match k {
        InputKind::Haproxy => Family::Haproxy,
        InputKind::Nginx => Family::Nginx,
        InputKind::K8s | InputKind::Manifest => Family::Yaml,
        InputKind::Terraform => Family::Json,
        InputKind::Scenario => Family::Toml,
    }
}

/// The syntax of a file: `--input-kind`, else its name and content (a mismatch is an error).
fn family(file: &str, text: &str, kind: Option<InputKind>) -> Result<Family, InputError> {
    if let Some(k) = kind {
        return Ok(family_of_kind(k));
    }
    match (family_of_name(file), family_of_content(text)) {
        // JSON is YAML too: a .yaml file holding a JSON Service is fine.
        (Some(Family::Yaml), Some(Family::Json)) => Ok(Family::Yaml),
        (Some(n), Some(c)) if n != c => Err(InputError::new(
            whole_file(file),
            "",
            format!(
                "the file name says {}, but the content looks like {}; pass --input-kind to say which it is",
                n.describe(),
                c.describe()
            ),
        )),
        (Some(n), _) => Ok(n),
        (None, Some(c)) => Ok(c),
        (None, None) => Err(InputError::new(
            whole_file(file),
            "",
            "cannot tell what kind of input this is (not JSON, YAML, TOML, an haproxy.cfg or an nginx configuration); pass --input-kind haproxy|nginx|k8s|terraform|manifest|scenario",
        )),
    }
}

/// The syntax a file would be read as, before decoding (for the byte-order-mark rules).
fn family_of_bytes(file: &str, bytes: &[u8], kind: Option<InputKind>) -> Option<Family> {
    kind.map(family_of_kind)
        .or_else(|| family_of_name(file))
        .or_else(|| family_of_content(&String::from_utf8_lossy(bytes)))
}

/// Decodes a file's bytes for its syntax: a byte order mark is named in words (and stripped for
/// YAML and TOML, which allow it); bytes that are not UTF-8 are refused except in an haproxy.cfg
/// (HAProxy reads bytes; see [`decode_haproxy`]).
pub fn decode(file: &str, mut bytes: Vec<u8>, kind: Option<InputKind>) -> Result<String, InputError> {
    let family = family_of_bytes(file, &bytes, kind);
    if bytes.starts_with(b"\xef\xbb\xbf") {
        match family {
            Some(Family::Haproxy) => return decode_haproxy(file, bytes),
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
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) if family == Some(Family::Haproxy) => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(InputError::new(
                Loc {
                    file: file.to_string(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    column: 1,
                },
                "",
                format!("not UTF-8 text (invalid byte at offset {})", valid.len()),
            ))
        }
    }
}

/// Reads one decoded file through the reader its syntax selects.
pub fn read_file(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
    let family = family(file, text, ctx.kind)?;
    let reader = READERS
        .iter()
        .find(|r| r.family == family)
        .expect("every syntax family has a reader");
    (reader.read)(file, text, ctx)
}

fn read_haproxy(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
    let lbs = haproxy::lbs(file, text)?;
    if lbs.is_empty() && !ctx.allow_empty {
        return Err(empty(
            file,
            "no server line with `check` in a backend or listen section",
        ));
    }
    Ok(FileInputs {
        lbs,
        ..FileInputs::default()
    })
}

/// nginx: `include`s are read relative to the file's directory (standard input: the working
/// directory), as nginx reads them relative to the directory of `-c`.
fn read_nginx(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
    let prefix = match Path::new(file).parent() {
        Some(p) if file != "-" && !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let (lbs, included) = nginx::lbs(file, text, &prefix)?;
    if lbs.is_empty() && !ctx.allow_empty {
        return Err(empty(file, "no server/location that proxy_passes to an upstream"));
    }
    Ok(FileInputs {
        lbs,
        included,
        ..FileInputs::default()
    })
}

/// JSON: `kubectl get -o json` (Kubernetes objects) or `terraform show -json`, by content.
fn read_json(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
    if ctx.kind != Some(InputKind::Terraform) && json_is_kubernetes(text) {
        return read_kubernetes(file, text, ctx);
    }
    let t = yaml::Text::new(file, text);
    let lbs = terraform::lbs(&t)?;
    if lbs.is_empty() && !ctx.allow_empty {
        return Err(empty(
            file,
            "no aws_lb_target_group, aws_elb, google_compute_*health_check or azurerm_lb_probe in the plan or state",
        ));
    }
    Ok(FileInputs {
        lbs,
        ..FileInputs::default()
    })
}

/// Kubernetes YAML (or JSON): every object once (workloads, Services, Ingresses, kube-apiserver
/// pods, kube-proxy's mode) and the load balancer of every Service of type LoadBalancer.
/// `--input-kind manifest` reads no Service's load balancer; `--input-kind k8s` no kube-apiserver
/// pod as a server.
fn read_kubernetes(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
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
    let mut objects = workload::read(&t, &docs)?;
    // Issue 16: Gateway API objects and what the added path families read.
    gateway::read(&t, &docs, &mut objects.added)?;
    cluster::read(&t, &docs, &mut objects.added)?;
    if ctx.kind == Some(InputKind::K8s) {
        objects.apiservers.clear();
    }
    let lbs = if ctx.kind == Some(InputKind::Manifest) {
        Vec::new()
    } else {
        // A Service MetalLB announces has no cloud load balancer to read (paths::metallb); the
        // documents are copied only when there is one (large Service files stay as read).
        let (lbs, unknown) = if docs.iter().any(|d| cluster::announced_by_metallb(d, &objects.added)) {
            let cloud_docs: Vec<yaml::Node> = docs
                .iter()
                .filter(|d| !cluster::announced_by_metallb(d, &objects.added))
                .cloned()
                .collect();
            k8s::lbs_with_unknown(&t, &cloud_docs, ctx.cloud)?
        } else {
            k8s::lbs_with_unknown(&t, &docs, ctx.cloud)?
        };
        objects.unread.extend(unknown.into_iter().map(|e| {
            let subject = e.message.split(':').next().unwrap_or("").to_string();
            let why = e
                .message
                .split_once(": ")
                .map_or(e.message.as_str(), |(_, w)| w)
                .to_string();
            (subject, e.loc, format!("its load balancer is not judged: {why}"))
        }));
        lbs
    };
    // The load balancer's reader decides the target type (one place): the Service follows it.
    for s in &mut objects.services {
        s.ip_targets = lbs
            .iter()
            .any(|l| l.service.as_deref() == Some(s.name.as_str()) && l.check == CheckTarget::Pod);
    }
    let judged = !lbs.is_empty() || objects.any();
    if !judged && !ctx.allow_empty {
        let what = match ctx.kind {
            Some(InputKind::Manifest) => "no Pod with a kube-apiserver container",
            Some(_) => "no Service of type LoadBalancer",
            None if k8s::has_services(&docs) => "no Service of type LoadBalancer",
            None => "neither a Service of type LoadBalancer nor a kube-apiserver Pod",
        };
        return Err(empty(file, what));
    }
    Ok(FileInputs {
        lbs,
        objects,
        ..FileInputs::default()
    })
}

fn read_scenario(file: &str, text: &str, ctx: &ReadContext) -> Result<FileInputs, InputError> {
    if ctx.kind.is_none() && super::is_project(text) {
        return Err(InputError::new(
            whole_file(file),
            "check",
            "a graceline.toml project file cannot be listed inside another one",
        ));
    }
    Ok(FileInputs {
        scenario: Some(scenario::load_str_with(file, text, ctx.named)?),
        paths: crate::scenario::path_settings::PathSettings::from_toml(file, text)?,
        ..FileInputs::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(file: &str, text: &str, allow_empty: bool) -> Result<FileInputs, InputError> {
        read_file(
            file,
            text,
            &ReadContext {
                kind: None,
                cloud: None,
                allow_empty,
                named: None,
            },
        )
    }

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
        let e = parse("plan.json", "global\n  daemon\nbackend b\n", false)
            .err()
            .unwrap();
        assert!(e.message.contains("file name says JSON"), "{e}");
        let e = parse("x.bin", "\u{0}\u{1}", false).err().unwrap();
        assert!(e.message.contains("--input-kind"), "{e}");
        let e = parse("svc.yaml", "apiVersion: v1\nkind: ConfigMap\n", false)
            .err()
            .unwrap();
        assert!(e.message.contains("no load-balancer-to-server pair"), "{e}");
        assert!(parse("svc.yaml", "apiVersion: v1\nkind: ConfigMap\n", true).is_ok());
    }

    #[test]
    fn every_syntax_has_one_reader() {
        for f in [Family::Haproxy, Family::Nginx, Family::Json, Family::Yaml, Family::Toml] {
            assert_eq!(READERS.iter().filter(|r| r.family == f).count(), 1, "{f:?}");
        }
    }
}
