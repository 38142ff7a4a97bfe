//! kube-apiserver static pod manifests (kubeadm's `/etc/kubernetes/manifests/kube-apiserver.yaml`,
//! OpenShift's pod.yaml): the server's shutdown timeline, located in the manifest.
//!
//! Read: `--shutdown-delay-duration` (E3 − E2), `--request-timeout` (E4 − E3 at most, the HTTP
//! server's ShutdownTimeout), `--shutdown-send-retry-after` (validated; see below),
//! `terminationGracePeriodSeconds` (SIGKILL), a `preStop` sleep, the readiness probe's `/readyz`
//! path and the image version (before v1.18.0/v1.17.4/v1.16.8 `/readyz` only failed at E3,
//! kubernetes#88911). Everything else starts from the `kube-apiserver` profile (upstream defaults:
//! k8s.io/apiserver pkg/server/config.go; PodSpec default grace 30 s).
//!
//! `--shutdown-send-retry-after=true` keeps the listener open after the delay until the in-flight
//! requests drain and answers new requests with 429 + Retry-After (exempt: `/readyz`, `/livez`,
//! `/healthz`, `/metrics`); graceline still counts E3 as the instant new requests are rejected,
//! while TCP and exempt-path checks keep passing until the listener really closes
//! (`ServerSpec::send_retry_after`).

use super::yaml::{self, Node, Text};
use crate::error::{InputError, Loc};
use crate::scenario::k8s::ServerInput;
use crate::scenario::server_from_profile;
use crate::time::{Micros, MAX_INPUT};
use crate::timeline::ReadyzOnset;

/// Profile whose values a manifest starts from.
const BASE_PROFILE: &str = "kube-apiserver";

/// Reads every kube-apiserver pod in a YAML stream (other documents are ignored).
pub fn servers(t: &Text, docs: &[Node]) -> Result<Vec<ServerInput>, InputError> {
    let mut out = Vec::new();
    for doc in docs {
        if yaml::get(doc, "kind").and_then(yaml::as_str) != Some("Pod") {
            continue;
        }
        let Some(spec) = yaml::get(doc, "spec") else { continue };
        let Some(container) = yaml::get(spec, "containers")
            .map(yaml::items)
            .unwrap_or_default()
            .iter()
            .find(|c| is_apiserver(c))
        else {
            continue;
        };
        out.push(server(t, doc, spec, container)?);
    }
    Ok(out)
}

/// True for a YAML stream that holds at least one kube-apiserver pod.
pub fn has_apiserver(docs: &[Node]) -> bool {
    docs.iter().any(|d| {
        yaml::get(d, "kind").and_then(yaml::as_str) == Some("Pod")
            && yaml::get(d, "spec")
                .and_then(|s| yaml::get(s, "containers"))
                .is_some_and(|c| yaml::items(c).iter().any(is_apiserver))
    })
}

pub(crate) fn is_apiserver(c: &Node) -> bool {
    yaml::get(c, "name").and_then(yaml::as_str) == Some("kube-apiserver")
        || ["command", "args"].iter().any(|k| {
            yaml::get(c, k)
                .map(yaml::items)
                .unwrap_or_default()
                .first()
                .and_then(yaml::as_str)
                .is_some_and(|s| s.split_whitespace().any(|w| w.ends_with("kube-apiserver")))
        })
}

/// One command-line flag found in `command`/`args`, with where its value is.
pub(crate) struct Flag {
    pub(crate) value: Option<String>,
    pub(crate) flag_loc: Loc,
    pub(crate) value_loc: Loc,
}

pub(crate) fn find_flag(t: &Text, container: &Node, name: &str) -> Option<Flag> {
    let words: Vec<(&str, &Node)> = ["command", "args"]
        .iter()
        .filter_map(|k| yaml::get(container, k))
        .flat_map(|list| yaml::items(list).iter())
        .filter_map(|item| yaml::as_str(item).map(|s| (s, item)))
        .flat_map(|(s, item)| s.split_whitespace().map(move |w| (w, item)))
        .collect();
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut found = None;
    for (i, (w, node)) in words.iter().enumerate() {
        let w = w.trim_matches(|c| c == '"' || c == '\'');
        if let Some(v) = w.strip_prefix(&with_eq) {
            let flag_loc = t.loc_within(node, &with_eq);
            let mut value_loc = flag_loc.clone();
            value_loc.column += u32::try_from(with_eq.chars().count()).unwrap_or(0);
            found = Some(Flag {
                value: Some(v.to_string()),
                flag_loc,
                value_loc,
            });
        } else if w == long {
            let flag_loc = t.loc_within(node, &long);
            let next = words.get(i + 1).filter(|(n, _)| !n.starts_with("--"));
            found = Some(Flag {
                value: next.map(|(n, _)| n.trim_matches(|c| c == '"' || c == '\'').to_string()),
                value_loc: next.map_or_else(|| flag_loc.clone(), |(n, node)| t.loc_within(node, n)),
                flag_loc,
            });
        }
    }
    found
}

fn server(t: &Text, pod: &Node, spec: &Node, container: &Node) -> Result<ServerInput, InputError> {
    let spec_loc = yaml::entry(pod, "spec").map_or_else(|| t.loc(pod), |(k, _)| t.loc(k));
    let container_loc = t.loc(container);
    let (mut s, mut locs) =
        server_from_profile(BASE_PROFILE, &container_loc).map_err(|m| InputError::new(container_loc.clone(), "", m))?;
    s.profile = t.file.to_string();
    locs.insert("termination_grace_period", spec_loc.clone());

    let duration = |name: &str| -> Result<Option<(Micros, Loc)>, InputError> {
        let Some(f) = find_flag(t, container, name) else {
            return Ok(None);
        };
        let Some(v) = f.value else {
            return Err(InputError::new(
                f.flag_loc,
                format!("--{name}"),
                "needs a value such as 70s",
            ));
        };
        let d = go_duration(&v).map_err(|m| InputError::new(f.value_loc.clone(), format!("--{name}"), m))?;
        Ok(Some((d, f.value_loc)))
    };
    if let Some((d, l)) = duration("shutdown-delay-duration")? {
        s.shutdown_delay = d;
        locs.insert("shutdown_delay", l);
    } else if let Some(f) = ["openshift-config", "config"]
        .iter()
        .find_map(|n| find_flag(t, container, n))
    {
        // OpenShift passes its shutdown flags in a config file graceline cannot see.
        return Err(InputError::new(
            f.flag_loc,
            "--shutdown-delay-duration",
            "the flags come from a config file graceline does not read, so the shutdown delay is unknown; name the server with --server (e.g. kube-apiserver-openshift-aws) or add --shutdown-delay-duration to the command",
        ));
    }
    if let Some((d, l)) = duration("request-timeout")? {
        s.request_grace = d;
        locs.insert("request_grace", l);
    }
    if let Some(f) = find_flag(t, container, "shutdown-send-retry-after") {
        let v = f.value.as_deref().unwrap_or("true");
        let Some(on) = go_bool(v) else {
            return Err(InputError::new(
                f.value_loc,
                "--shutdown-send-retry-after",
                format!("\"{v}\" is not a boolean (kube-apiserver accepts true, false, 1, 0, t, f)"),
            ));
        };
        s.send_retry_after = on;
        locs.insert("send_retry_after", f.flag_loc.clone());
    }
    if let Some(v) = yaml::get(spec, "terminationGracePeriodSeconds") {
        let l = t.loc(v);
        let secs = yaml::as_int(v).ok_or_else(|| {
            InputError::new(
                l.clone(),
                "spec.terminationGracePeriodSeconds",
                format!("must be an integer number of seconds, got {}", yaml::kind_of(v)),
            )
        })?;
        let d = seconds(secs).map_err(|m| InputError::new(l.clone(), "spec.terminationGracePeriodSeconds", m))?;
        s.termination_grace_period = d;
        locs.insert("termination_grace_period", l);
    }
    if let Some((sleep, l)) = prestop_sleep(t, container)? {
        s.prestop_sleep = sleep;
        locs.insert("prestop_sleep", l);
    }
    let path = yaml::get(container, "readinessProbe")
        .and_then(|p| yaml::get(p, "httpGet"))
        .and_then(|h| yaml::get(h, "path"));
    if let Some(p) = path {
        if let Some(v) = yaml::as_str(p) {
            let bare = v.split('?').next().unwrap_or(v);
            // kube-apiserver's readiness endpoint is /readyz whatever the kubelet probes; a probe
            // of /healthz or /livez does not change which endpoint fails at E2.
            if bare == "/readyz" {
                s.readiness_path = bare.to_string();
                locs.insert("readiness_path", t.loc(p));
            }
        }
    }
    let mut assumed = Vec::new();
    if let Some(img) = yaml::get(container, "image") {
        let reference = yaml::as_str(img).unwrap_or_default();
        match image_version(reference) {
            Some(v) => {
                if readyz_fails_only_at_listener_close(v) {
                    s.readyz_onset = ReadyzOnset::ListenerClose;
                    locs.insert("readyz_onset", t.loc(img));
                }
            }
            None => {
                // A digest alone (or a tag that is no version) hides the release: assume the
                // conservative behaviour, /readyz failing only at listener close (kubernetes#88911).
                s.readyz_onset = ReadyzOnset::ListenerClose;
                locs.insert("readyz_onset", t.loc(img));
                let l = t.loc(img);
                assumed.push(format!(
                    "{}:{}:{}: image \"{reference}\" names no version (pinned by digest only or an unversioned tag), so the kube-apiserver release is unknown: assumed the conservative pre-1.18 behaviour (/readyz fails only when the listener closes, kubernetes#88911)",
                    l.file, l.line, l.column
                ));
            }
        }
    }
    let name = yaml::get(pod, "metadata")
        .and_then(|m| yaml::get(m, "name"))
        .and_then(yaml::as_str)
        .unwrap_or("kube-apiserver")
        .to_string();
    let port = match find_flag(t, container, "secure-port") {
        None => None,
        Some(f) => {
            let v = f.value.unwrap_or_default();
            match v.parse::<u16>() {
                Ok(p) if p > 0 => Some((p, f.value_loc)),
                _ => {
                    return Err(InputError::new(
                        f.value_loc,
                        "--secure-port",
                        format!("\"{v}\" is not a port number (1..65535)"),
                    ))
                }
            }
        }
    };
    Ok(ServerInput {
        spec: s,
        locs,
        origin: t.file.to_string(),
        pod: name,
        port,
        assumed,
    })
}

/// `lifecycle.preStop.sleep.seconds` (Kubernetes 1.29+) or an exec hook running `sleep N`.
fn prestop_sleep(t: &Text, container: &Node) -> Result<Option<(Micros, Loc)>, InputError> {
    let Some(pre) = yaml::get(container, "lifecycle").and_then(|l| yaml::get(l, "preStop")) else {
        return Ok(None);
    };
    if let Some(v) = yaml::get(pre, "sleep").and_then(|s| yaml::get(s, "seconds")) {
        let l = t.loc(v);
        let secs = yaml::as_int(v).ok_or_else(|| {
            InputError::new(
                l.clone(),
                "lifecycle.preStop.sleep.seconds",
                format!("must be an integer, got {}", yaml::kind_of(v)),
            )
        })?;
        let d = seconds(secs).map_err(|m| InputError::new(l.clone(), "lifecycle.preStop.sleep.seconds", m))?;
        return Ok(Some((d, l)));
    }
    let Some(cmd) = yaml::get(pre, "exec").and_then(|e| yaml::get(e, "command")) else {
        return Ok(None);
    };
    let words: Vec<(&str, &Node)> = yaml::items(cmd)
        .iter()
        .filter_map(|item| yaml::as_str(item).map(|s| (s, item)))
        .flat_map(|(s, item)| s.split_whitespace().map(move |w| (w, item)))
        .collect();
    for (i, (w, item)) in words.iter().enumerate() {
        if *w == "sleep" || w.ends_with("/sleep") {
            let n = words
                .get(i + 1)
                .and_then(|(a, _)| a.trim_end_matches('s').parse::<i64>().ok());
            if let Some(d) = n.and_then(|n| seconds(n).ok()) {
                return Ok(Some((d, t.loc(item))));
            }
        }
    }
    Ok(None)
}

fn seconds(secs: i64) -> Result<Micros, String> {
    if secs < 0 {
        return Err(format!("must not be negative, got {secs}"));
    }
    let d = Micros::from_secs(secs.min(MAX_INPUT.0 / 1_000_000 + 1));
    if d > MAX_INPUT {
        return Err(format!("{secs} s is absurdly large (the limit is 30 days)"));
    }
    Ok(d)
}

/// Go's `strconv.ParseBool`, which kube-apiserver's flag parsing uses.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `time.ParseDuration` (`70s`, `1m10s`, `1.5h`, `300ms`, `0`), as kube-apiserver parses its
/// duration flags; negative values are rejected as the apiserver's option validation does.
pub fn go_duration(text: &str) -> Result<Micros, String> {
    let bad = || format!("invalid duration \"{text}\" (Go syntax, e.g. 70s, 1m30s, 500ms)");
    let s = text.strip_prefix('+').unwrap_or(text);
    if s.starts_with('-') {
        return Err(format!("negative duration \"{text}\" is not allowed"));
    }
    if s == "0" {
        return Ok(Micros::ZERO);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    let mut total_ns: u128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("duration \"{text}\" needs a unit, e.g. \"{num}s\"")),
            _ => return Err(format!("unknown unit \"{unit}\" in duration \"{text}\"")),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let int: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let mut ns = int.checked_mul(unit_ns).ok_or_else(bad)?;
        let mut scale = unit_ns;
        for d in frac.chars().take(30) {
            scale /= 10;
            ns += u128::from(d.to_digit(10).unwrap_or(0)) * scale;
        }
        total_ns = total_ns.checked_add(ns).ok_or_else(bad)?;
        if total_ns > (MAX_INPUT.0 as u128) * 1_000 {
            return Err(format!("duration \"{text}\" is absurdly large (the limit is 30 days)"));
        }
        rest = tail;
    }
    if !total_ns.is_multiple_of(1_000) {
        return Err(format!("duration \"{text}\" is finer than a microsecond"));
    }
    Ok(Micros(i64::try_from(total_ns / 1_000).map_err(|_| bad())?))
}

/// `v1.29.3` from an image reference such as `registry.k8s.io/kube-apiserver:v1.29.3`, also when
/// a digest follows the tag (`...:v1.17.3@sha256:...`); `None` for a digest-only reference.
fn image_version(image: &str) -> Option<(u32, u32, u32)> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let tag = last.rsplit_once(':')?.1;
    let tag = tag.strip_prefix('v')?;
    let mut parts = tag.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.parse().ok()?;
    Some((major, minor, patch))
}

/// Repositories whose tag is HAProxy's own version: the Docker library image and HAProxy
/// Technologies' distributions (`haproxytech/haproxy-alpine` ...). Ingress controllers that embed
/// HAProxy (`haproxytech/kubernetes-ingress`, `jcmoraisjr/haproxy-ingress`) version themselves.
const HAPROXY_REPOSITORIES: &[&str] = &["haproxy", "haproxy-alpine", "haproxy-debian", "haproxy-ubuntu"];

/// Every container image of HAProxy itself in a YAML stream whose tag names a version: the
/// version, the image reference and where it is written (any mapping with `name` and `image`, so
/// Pods, workloads' pod templates and `kind: List` alike).
pub fn haproxy_images(t: &Text, docs: &[Node]) -> Vec<((u32, u32, u32), String, Loc)> {
    fn walk(t: &Text, n: &Node, out: &mut Vec<((u32, u32, u32), String, Loc)>) {
        if let (Some(img), Some(_)) = (yaml::get(n, "image"), yaml::get(n, "name")) {
            if let Some(v) = yaml::as_str(img).and_then(|r| haproxy_image_version(r).map(|v| (v, r))) {
                out.push((v.0, v.1.to_string(), t.loc(img)));
            }
        }
        for (_, child) in yaml::entries(n) {
            walk(t, child, out);
        }
        for child in yaml::items(n) {
            walk(t, child, out);
        }
    }
    let mut out = Vec::new();
    for d in docs {
        walk(t, d, &mut out);
    }
    out
}

/// HAProxy's version from an image reference such as `haproxy:2.8.16-alpine` or
/// `docker.io/haproxytech/haproxy-debian:3.2.1`; `None` for another repository, a digest-only
/// reference or a tag that is no version (`lts`, `latest`).
pub fn haproxy_image_version(image: &str) -> Option<(u32, u32, u32)> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let (repo, tag) = last.split_once(':')?;
    if !HAPROXY_REPOSITORIES.contains(&repo) {
        return None;
    }
    crate::provider::haproxy::parse_version(tag)
}

/// Before kubernetes#88911 (v1.18.0, back-ported to v1.17.4 and v1.16.8) `/readyz` only failed once
/// the shutdown delay had elapsed.
fn readyz_fails_only_at_listener_close((major, minor, patch): (u32, u32, u32)) -> bool {
    major == 1 && (minor < 16 || (minor == 16 && patch < 8) || (minor == 17 && patch < 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("70s").unwrap(), Micros::from_secs(70));
        assert_eq!(go_duration("1m10s").unwrap(), Micros::from_secs(70));
        assert_eq!(go_duration("1.5h").unwrap(), Micros::from_secs(5400));
        assert_eq!(go_duration("300ms").unwrap(), Micros::from_millis(300));
        assert_eq!(go_duration("0").unwrap(), Micros::ZERO);
        assert_eq!(go_duration("2µs").unwrap(), Micros(2));
        for bad in [
            "70",
            "-5s",
            "",
            "1d",
            "s",
            "1..2s",
            "5 s",
            "1ns",
            "999999999999h",
            "1e3s",
        ] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_versions_decide_the_readyz_onset() {
        assert!(readyz_fails_only_at_listener_close(
            image_version("k8s.gcr.io/kube-apiserver:v1.17.3").unwrap()
        ));
        assert!(readyz_fails_only_at_listener_close(
            image_version("k8s.gcr.io/kube-apiserver:v1.16.7").unwrap()
        ));
        assert!(!readyz_fails_only_at_listener_close(
            image_version("k8s.gcr.io/kube-apiserver:v1.17.4").unwrap()
        ));
        assert!(!readyz_fails_only_at_listener_close(
            image_version("registry.k8s.io/kube-apiserver:v1.31.0").unwrap()
        ));
        assert_eq!(image_version("quay.io/openshift@sha256:abc"), None);
        assert_eq!(
            image_version("k8s.gcr.io/kube-apiserver:v1.17.3@sha256:0123456789abcdef").unwrap(),
            (1, 17, 3)
        );
        assert_eq!(image_version("localhost:5000/kube-apiserver@sha256:abc"), None);
        assert_eq!(image_version("localhost:5000/kube-apiserver"), None);
        assert_eq!(haproxy_image_version("haproxy:2.8.16-alpine"), Some((2, 8, 16)));
        assert_eq!(
            haproxy_image_version("docker.io/haproxytech/haproxy-debian:3.2.1"),
            Some((3, 2, 1))
        );
        assert_eq!(haproxy_image_version("haproxy:2.6"), Some((2, 6, 0)));
        assert_eq!(haproxy_image_version("haproxy:lts"), None);
        assert_eq!(haproxy_image_version("haproxytech/kubernetes-ingress:3.1.0"), None);
        assert_eq!(
            haproxy_image_version("quay.io/jcmoraisjr/haproxy-ingress:v0.14.5"),
            None
        );
    }

    fn load(src: &str) -> Result<Vec<ServerInput>, InputError> {
        let t = Text::new("m.yaml", src);
        let docs = yaml::load(&t)?;
        servers(&t, &docs)
    }

    const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.11
    - --shutdown-delay-duration=70s
    - --request-timeout
    - 90s
    image: registry.k8s.io/kube-apiserver:v1.31.0
    name: kube-apiserver
    readinessProbe:
      httpGet:
        path: /readyz
        port: 6443
        scheme: HTTPS
  terminationGracePeriodSeconds: 135
";

    #[test]
    fn flags_and_grace_period_with_locations() {
        let s = &load(POD).unwrap()[0];
        assert_eq!(s.spec.shutdown_delay, Micros::from_secs(70));
        assert_eq!(s.spec.request_grace, Micros::from_secs(90));
        assert_eq!(s.spec.termination_grace_period, Micros::from_secs(135));
        assert_eq!(s.spec.readyz_onset, ReadyzOnset::ShutdownStart);
        let l = &s.locs["shutdown_delay"];
        assert_eq!((l.line, l.column), (11, 33));
        assert_eq!(s.locs["request_grace"].line, 13);
        assert_eq!(s.locs["termination_grace_period"].line, 21);
        assert_eq!(s.locs["readiness_path"].line, 18);
        assert_eq!(s.spec.profile, "m.yaml");
    }

    #[test]
    fn defaults_shell_scripts_and_old_images() {
        let s = &load("kind: Pod\nspec:\n  containers:\n  - name: kube-apiserver\n    image: k8s.gcr.io/kube-apiserver:v1.17.2\n    command: [\"/bin/bash\", \"-ec\"]\n    args:\n    - |\n      exec hyperkube kube-apiserver --openshift-config=/x.yaml \\\n        --shutdown-delay-duration=95s -v=2\n    lifecycle:\n      preStop:\n        sleep:\n          seconds: 5\n").unwrap()[0];
        assert_eq!(s.spec.shutdown_delay, Micros::from_secs(95));
        assert_eq!(
            (s.locs["shutdown_delay"].line, s.locs["shutdown_delay"].column),
            (10, 35)
        );
        assert_eq!(s.spec.termination_grace_period, Micros::from_secs(30));
        assert_eq!(s.locs["termination_grace_period"].line, 2);
        assert_eq!(s.spec.prestop_sleep, Micros::from_secs(5));
        assert_eq!(s.spec.readyz_onset, ReadyzOnset::ListenerClose);
    }

    #[test]
    fn bad_values_are_located() {
        let e = load(&POD.replace("=70s", "=70")).unwrap_err();
        assert_eq!(
            (e.loc.line, e.loc.column, e.field.as_str()),
            (11, 33, "--shutdown-delay-duration")
        );
        let e = load(&POD.replace("135", "\"135\"")).unwrap_err();
        assert_eq!(e.loc.line, 21);
        assert!(e.message.contains("integer"), "{e}");
        let e = load(&POD.replace("135", "-1")).unwrap_err();
        assert!(e.message.contains("negative"), "{e}");
        let e = load(&POD.replace(
            "    - --request-timeout\n    - 90s\n",
            "    - --shutdown-send-retry-after=maybe\n",
        ))
        .unwrap_err();
        assert!(e.message.contains("boolean"), "{e}");
        assert_eq!(
            load("kind: Pod\nspec:\n  containers:\n  - name: etcd\n").unwrap().len(),
            0
        );
        let e = load(
            "kind: Pod\nspec:\n  containers:\n  - name: kube-apiserver\n    args: [\"--openshift-config=/c.yaml\"]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("config file"), "{e}");
        assert_eq!((e.loc.line, e.loc.column), (5, 13));
    }

    #[test]
    fn send_retry_after_is_read_into_the_server() {
        let y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.0\n    command:\n    - kube-apiserver\n    - --shutdown-delay-duration=70s\n    - --shutdown-send-retry-after=true\n";
        let t = Text::new("m.yaml", y);
        let docs = yaml::load(&t).unwrap();
        let s = &servers(&t, &docs).unwrap()[0];
        assert!(s.spec.send_retry_after);
        assert_eq!(s.locs["send_retry_after"].line, 12);
        let off = y.replace("retry-after=true", "retry-after=false");
        let t = Text::new("m.yaml", &off);
        let docs = yaml::load(&t).unwrap();
        assert!(!servers(&t, &docs).unwrap()[0].spec.send_retry_after);
    }
}
