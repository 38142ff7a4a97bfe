//! Kubernetes workloads and what routes to them, for the paths of `src/paths`: Deployments,
//! StatefulSets, DaemonSets, ReplicaSets and Pods (their pod template: grace period, preStop,
//! readiness probe, container ports), Services of every type (selector, ports, traffic policy,
//! the AWS Load Balancer Controller's ip targets, GKE NEGs), Ingresses (class and backends),
//! kube-apiserver pods with `--endpoint-reconciler-type`, and kube-proxy's configuration (mode).
//! `kind: List` documents are read item by item. Every value keeps its location.

use super::manifest::{find_flag, is_apiserver};
use super::yaml::{self, Node, Text};
use crate::error::{InputError, Loc};
use crate::provider::annotations::{AWS, AWS_TARGET_GROUP_ATTRIBUTES};
use crate::scenario::k8s::{
    Apiserver, Backend, BackendConfig, BackendConfigRef, Container, GkeHealthCheck, Ingress, IngressClass, Namespace,
    Objects, Prestop, Probe, ProxyMode, Reconciler, Service, ServicePort, Strategy, TargetPort, Workload,
};
use crate::time::{Micros, MAX_INPUT};
use std::collections::BTreeMap;

/// Kinds whose pod template graceline reads.
pub const WORKLOAD_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"];

fn kind<'n>(doc: &'n Node) -> Option<&'n str> {
    yaml::get(doc, "kind").and_then(yaml::as_str)
}

/// Documents with `kind: List` expanded into their items.
fn flatten<'n, 'a>(docs: &'n [Node<'a>]) -> Vec<&'n Node<'a>> {
    let mut out = Vec::new();
    for d in docs {
        if kind(d).is_some_and(|k| k.ends_with("List")) {
            out.extend(yaml::get(d, "items").map(yaml::items).unwrap_or_default());
        } else {
            out.push(d);
        }
    }
    out
}

/// True when a YAML stream holds something a Kubernetes path starts from (a hook for the
/// "nothing to check" error of `input`).
pub fn has_path_inputs(docs: &[Node]) -> bool {
    flatten(docs)
        .iter()
        .any(|d| kind(d).is_some_and(|k| WORKLOAD_KINDS.contains(&k) || k == "Service" || k == "Ingress"))
}

/// True when a YAML stream holds an app workload (not a kube-apiserver pod).
pub fn has_workloads(docs: &[Node]) -> bool {
    flatten(docs).iter().any(|d| {
        kind(d).is_some_and(|k| WORKLOAD_KINDS.contains(&k))
            && !(kind(d) == Some("Pod")
                && yaml::get(d, "spec")
                    .and_then(|s| yaml::get(s, "containers"))
                    .is_some_and(|c| yaml::items(c).iter().any(is_apiserver)))
    })
}

fn name_ns(t: &Text, doc: &Node, what: &str) -> Result<(String, String, Loc), InputError> {
    let meta = yaml::get(doc, "metadata");
    let node = meta.and_then(|m| yaml::get(m, "name"));
    let Some(name) = node.and_then(yaml::as_str) else {
        return Err(InputError::new(
            t.loc(doc),
            "metadata.name",
            format!("a {what} needs a name"),
        ));
    };
    let ns = meta
        .and_then(|m| yaml::get(m, "namespace"))
        .and_then(yaml::as_str)
        .unwrap_or("default")
        .to_string();
    Ok((format!("{ns}/{name}"), ns, t.loc(node.unwrap_or(doc))))
}

fn string_map(t: &Text, n: Option<&Node>, field: &str) -> Result<BTreeMap<String, String>, InputError> {
    let mut out = BTreeMap::new();
    if let Some(n) = n {
        for (k, v) in yaml::entries(n) {
            let (Some(k), Some(v)) = (yaml::as_str(k), yaml::as_str(v)) else {
                return Err(InputError::new(
                    t.loc(v),
                    field,
                    format!(
                        "keys and values must be strings, got {} (the API server rejects it): quote it",
                        yaml::kind_of(v)
                    ),
                ));
            };
            out.insert(k.to_string(), v.to_string());
        }
    }
    Ok(out)
}

fn annotations<'n, 'a>(doc: &'n Node<'a>) -> Vec<(&'n str, &'n Node<'a>)> {
    yaml::get(doc, "metadata")
        .and_then(|m| yaml::get(m, "annotations"))
        .map(yaml::entries)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| yaml::as_str(k).map(|k| (k, v)))
        .collect()
}

fn int(t: &Text, n: &Node, field: &str) -> Result<i64, InputError> {
    yaml::as_int(n)
        .ok_or_else(|| InputError::new(t.loc(n), field, format!("must be an integer, got {}", yaml::kind_of(n))))
}

fn seconds(t: &Text, n: &Node, field: &str) -> Result<Micros, InputError> {
    let s = int(t, n, field)?;
    if s < 0 {
        return Err(InputError::new(
            t.loc(n),
            field,
            format!("must not be negative, got {s}"),
        ));
    }
    if s > MAX_INPUT.0 / 1_000_000 {
        return Err(InputError::new(
            t.loc(n),
            field,
            format!("{s} s is absurdly large (the limit is 30 days)"),
        ));
    }
    Ok(Micros::from_secs(s))
}

/// GNU/busybox `sleep` arguments: a number (decimals allowed) with an optional s/m/h/d suffix.
pub fn sleep_arg(arg: &str) -> Option<Micros> {
    let arg = arg.trim_matches(|c| c == '"' || c == '\'');
    let (num, unit) = match arg.char_indices().last()? {
        (i, 's') => (&arg[..i], 1),
        (i, 'm') => (&arg[..i], 60),
        (i, 'h') => (&arg[..i], 3600),
        (i, 'd') => (&arg[..i], 86_400),
        _ => (arg, 1),
    };
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || whole.len() > 9
    {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    let us = (w * 1_000_000 + f).checked_mul(unit)?;
    (us <= MAX_INPUT.0).then_some(Micros(us))
}

/// A shell script that is exactly one sleep (`sleep 10`, `exec /bin/sleep 10;`): its length;
/// a script that starts with a sleep and does more: `Err(Some(sleep))`; anything else `Err(None)`.
fn script_sleep(script: &str) -> Result<Micros, Option<Micros>> {
    let s = script.trim().trim_end_matches(';').trim();
    let words: Vec<&str> = s.split_whitespace().collect();
    let words = if words.first() == Some(&"exec") {
        &words[1..]
    } else {
        &words[..]
    };
    let is_sleep = |w: &str| w == "sleep" || w.ends_with("/sleep");
    match words {
        [cmd, arg] if is_sleep(cmd) => sleep_arg(arg).ok_or(None),
        [cmd, arg, ..] if is_sleep(cmd) => {
            let arg = arg.trim_end_matches(';');
            Err(sleep_arg(arg))
        }
        _ => Err(None),
    }
}

/// Reads `lifecycle.preStop`: the `sleep` action, an `exec` sleep in its usual forms, or a hook of
/// unknown length (said, with what is assumed).
pub fn prestop(t: &Text, container: &Node) -> Result<Prestop, InputError> {
    let Some((key, pre)) = yaml::get(container, "lifecycle").and_then(|l| yaml::entry(l, "preStop")) else {
        return Ok(Prestop::None);
    };
    if let Some(v) = yaml::get(pre, "sleep").map(|s| yaml::get(s, "seconds").ok_or(s)) {
        let v = v.map_err(|s| {
            InputError::new(
                t.loc(s),
                "lifecycle.preStop.sleep.seconds",
                "the sleep action needs seconds",
            )
        })?;
        let d = seconds(t, v, "lifecycle.preStop.sleep.seconds")?;
        return Ok(Prestop::Sleep {
            duration: d,
            loc: t.loc(v),
        });
    }
    if let Some(cmd) = yaml::get(pre, "exec").map(|e| yaml::get(e, "command").ok_or(e)) {
        let cmd = cmd.map_err(|e| {
            InputError::new(
                t.loc(e),
                "lifecycle.preStop.exec.command",
                "an exec hook needs a command",
            )
        })?;
        let items = yaml::items(cmd);
        let mut words = Vec::new();
        for i in items {
            let Some(s) = yaml::as_str(i) else {
                return Err(InputError::new(
                    t.loc(i),
                    "lifecycle.preStop.exec.command",
                    format!("command items must be strings, got {}", yaml::kind_of(i)),
                ));
            };
            words.push(s);
        }
        let loc = t.loc(cmd);
        let what = format!("exec {:?}", words);
        let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
        let shells = ["sh", "bash", "ash", "dash", "zsh"];
        let found = match words.as_slice() {
            [s, arg] if base(s) == "sleep" => sleep_arg(arg).ok_or(None),
            [sh, flag, script]
                if shells.contains(&base(sh).as_str()) && flag.starts_with('-') && flag.ends_with('c') =>
            {
                script_sleep(script)
            }
            [s] => script_sleep(s),
            _ => Err(None),
        };
        return Ok(match found {
            Ok(d) => Prestop::Sleep { duration: d, loc },
            Err(assumed) => Prestop::Unknown {
                what: match assumed {
                    Some(d) => format!("{what}, a sleep of {d} followed by other commands"),
                    None => what,
                },
                assumed: assumed.unwrap_or(Micros::ZERO),
                loc,
            },
        });
    }
    for other in ["httpGet", "tcpSocket"] {
        if let Some(n) = yaml::get(pre, other) {
            return Ok(Prestop::Unknown {
                what: format!("a {other} hook"),
                assumed: Micros::ZERO,
                loc: t.loc(n),
            });
        }
    }
    Err(InputError::new(
        t.loc(key),
        "lifecycle.preStop",
        "needs exactly one of exec, httpGet, sleep (the API server rejects an empty handler)",
    ))
}

/// A whole number of seconds from a probe field, at least `min`, or the PodSpec default.
fn probe_seconds(t: &Text, probe: &Node, key: &str, default: i64, min: i64) -> Result<Micros, InputError> {
    match yaml::get(probe, key) {
        None => Ok(Micros::from_secs(default)),
        Some(n) => {
            let v = int(t, n, &format!("readinessProbe.{key}"))?;
            if v < min || v > 86_400 {
                return Err(InputError::new(
                    t.loc(n),
                    format!("readinessProbe.{key}"),
                    format!("must be from {min} to 86400, got {v} (the API server rejects it)"),
                ));
            }
            Ok(Micros::from_secs(v))
        }
    }
}

/// The readiness probe's timing (PodSpec defaults: period 10 s, timeout 1 s, failure threshold 3;
/// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Probe).
fn readiness_probe(t: &Text, c: &Node) -> Result<Option<Probe>, InputError> {
    let Some(p) = yaml::get(c, "readinessProbe") else {
        return Ok(None);
    };
    let threshold = probe_seconds(t, p, "failureThreshold", 3, 1)?.0 / 1_000_000;
    Ok(Some(Probe {
        period: probe_seconds(t, p, "periodSeconds", 10, 1)?,
        timeout: probe_seconds(t, p, "timeoutSeconds", 1, 1)?,
        failure_threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
        loc: t.loc(p),
    }))
}

fn container(t: &Text, c: &Node) -> Result<Container, InputError> {
    let name = yaml::get(c, "name").and_then(yaml::as_str).unwrap_or("").to_string();
    let mut ports = Vec::new();
    for p in yaml::get(c, "ports").map(yaml::items).unwrap_or_default() {
        let Some(n) = yaml::get(p, "containerPort") else {
            return Err(InputError::new(
                t.loc(p),
                "ports[].containerPort",
                "a container port needs containerPort",
            ));
        };
        let v = int(t, n, "ports[].containerPort")?;
        if !(1..=65535).contains(&v) {
            return Err(InputError::new(
                t.loc(n),
                "ports[].containerPort",
                format!("{v} is not a port (1-65535)"),
            ));
        }
        ports.push((yaml::get(p, "name").and_then(yaml::as_str).map(str::to_string), v));
    }
    let readiness = yaml::get(c, "readinessProbe").map(|p| {
        if let Some(h) = yaml::get(p, "httpGet") {
            let path = yaml::get(h, "path").and_then(yaml::as_str).unwrap_or("/");
            format!("httpGet {path}")
        } else {
            yaml::entries(p)
                .iter()
                .filter_map(|(k, _)| yaml::as_str(k))
                .find(|k| ["exec", "tcpSocket", "grpc"].contains(k))
                .unwrap_or("probe")
                .to_string()
        }
    });
    let readiness_path = yaml::get(c, "readinessProbe")
        .and_then(|p| yaml::get(p, "httpGet"))
        .map(|h| yaml::get(h, "path").and_then(yaml::as_str).unwrap_or("/").to_string())
        .filter(|p| p.starts_with('/'));
    Ok(Container {
        name,
        loc: t.loc(c),
        ports,
        prestop: prestop(t, c)?,
        readiness,
        readiness_path,
        readiness_probe: readiness_probe(t, c)?,
        sidecar: false,
    })
}

fn workload(t: &Text, doc: &Node, k: &str) -> Result<Option<Workload>, InputError> {
    let (name, namespace, loc) = name_ns(t, doc, k)?;
    let (meta, spec_entry) = if k == "Pod" {
        (yaml::get(doc, "metadata"), yaml::entry(doc, "spec"))
    } else {
        let tpl = yaml::get(doc, "spec").and_then(|s| yaml::get(s, "template"));
        let Some(tpl) = tpl else {
            return Err(InputError::new(
                loc,
                "spec.template",
                format!("a {k} needs a pod template"),
            ));
        };
        (yaml::get(tpl, "metadata"), yaml::entry(tpl, "spec"))
    };
    let Some((spec_key, spec)) = spec_entry else {
        return Err(InputError::new(loc, "spec", format!("{name}: no pod spec")));
    };
    let cs = yaml::get(spec, "containers").map(yaml::items).unwrap_or_default();
    if cs.iter().any(is_apiserver) {
        return Ok(None);
    }
    // Other control-plane static pods serve no Service of the inputs: they configure stages
    // (kube-controller-manager's flags), they are not workloads behind a path.
    let control_plane = ["kube-controller-manager", "kube-scheduler", "etcd"];
    if k == "Pod"
        && cs.iter().any(|c| {
            yaml::get(c, "name")
                .and_then(yaml::as_str)
                .is_some_and(|n| control_plane.contains(&n))
        })
    {
        return Ok(None);
    }
    let grace = match yaml::get(spec, "terminationGracePeriodSeconds") {
        Some(n) if !yaml::is_null(n) => Some((seconds(t, n, "spec.terminationGracePeriodSeconds")?, t.loc(n))),
        _ => None,
    };
    let mut containers = cs.iter().map(|c| container(t, c)).collect::<Result<Vec<_>, _>>()?;
    // Native sidecars (KEP-753, GA 1.33): init containers with restartPolicy Always run beside
    // the app, can serve a Service port, and stop after the app containers.
    for ic in yaml::get(spec, "initContainers").map(yaml::items).unwrap_or_default() {
        if yaml::get(ic, "restartPolicy").and_then(yaml::as_str) == Some("Always") {
            let mut c = container(t, ic)?;
            c.sidecar = true;
            containers.push(c);
        }
    }
    if containers.is_empty() {
        return Err(InputError::new(
            t.loc(spec_key),
            "spec.containers",
            format!("{name}: a pod needs a container"),
        ));
    }
    Ok(Some(Workload {
        kind: k.to_string(),
        name,
        namespace,
        file: t.file.to_string(),
        loc,
        labels: string_map(t, meta.and_then(|m| yaml::get(m, "labels")), "metadata.labels")?,
        grace,
        spec_loc: t.loc(spec_key),
        containers,
        replicas: replicas(t, doc, k)?,
        strategy: strategy(doc, k),
    }))
}

/// `spec.replicas` of a scaled workload, located (absent: `None`, 1 by default).
fn replicas(t: &Text, doc: &Node, kind: &str) -> Result<Option<(u32, Loc)>, InputError> {
    if !matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        return Ok(None);
    }
    let Some(n) = yaml::get(doc, "spec").and_then(|s| yaml::get(s, "replicas")) else {
        return Ok(None);
    };
    if yaml::is_null(n) {
        return Ok(None);
    }
    let v = int(t, n, "spec.replicas")?;
    let v = u32::try_from(v).map_err(|_| {
        InputError::new(
            t.loc(n),
            "spec.replicas",
            format!("must be a whole number from 0, got {v}"),
        )
    })?;
    Ok(Some((v, t.loc(n))))
}

/// How a rollout replaces pods: Deployment `strategy` (RollingUpdate with `maxSurge` 25 % by
/// default, so a replacement is up before the old pod goes), StatefulSet and DaemonSet
/// `updateStrategy` (RollingUpdate deletes the old pod first; a DaemonSet `maxSurge` may surge).
fn strategy(doc: &Node, kind: &str) -> Strategy {
    let spec = yaml::get(doc, "spec");
    let key = if kind == "Deployment" {
        "strategy"
    } else {
        "updateStrategy"
    };
    let st = spec.and_then(|s| yaml::get(s, key));
    let ty = st.and_then(|s| yaml::get(s, "type")).and_then(yaml::as_str);
    let surge = st
        .and_then(|s| yaml::get(s, "rollingUpdate"))
        .and_then(|r| yaml::get(r, "maxSurge"))
        .map(|m| match (yaml::as_int(m), yaml::as_str(m)) {
            (Some(n), _) => n > 0,
            (_, Some(p)) => p.trim_end_matches('%').trim().parse::<f64>().is_ok_and(|v| v > 0.0),
            _ => true,
        });
    match (kind, ty) {
        (_, Some("Recreate")) => Strategy::Recreate,
        (_, Some("OnDelete")) => Strategy::OnDelete,
        ("Deployment", _) => Strategy::Rolling {
            surge: surge.unwrap_or(true),
        },
        (_, _) => Strategy::Rolling {
            surge: surge.unwrap_or(false),
        },
    }
}

fn service(t: &Text, doc: &Node) -> Result<Service, InputError> {
    let (name, namespace, loc) = name_ns(t, doc, "Service")?;
    let spec = yaml::get(doc, "spec");
    let ty = spec
        .and_then(|s| yaml::get(s, "type"))
        .and_then(yaml::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    let selector = match spec.and_then(|s| yaml::get(s, "selector")) {
        Some(n) if !yaml::is_null(n) => Some(string_map(t, Some(n), "spec.selector")?).filter(|m| !m.is_empty()),
        _ => None,
    };
    let mut ports = Vec::new();
    for p in spec
        .and_then(|s| yaml::get(s, "ports"))
        .map(yaml::items)
        .unwrap_or_default()
    {
        let Some(pn) = yaml::get(p, "port") else {
            return Err(InputError::new(
                t.loc(p),
                "spec.ports[].port",
                "a Service port needs port",
            ));
        };
        let port = int(t, pn, "spec.ports[].port")?;
        if !(1..=65535).contains(&port) {
            return Err(InputError::new(
                t.loc(pn),
                "spec.ports[].port",
                format!("{port} is not a port (1-65535)"),
            ));
        }
        let target = match yaml::get(p, "targetPort") {
            None => TargetPort::Number(port),
            Some(n) => match (yaml::as_int(n), yaml::as_str(n)) {
                (Some(v), _) if (1..=65535).contains(&v) => TargetPort::Number(v),
                (_, Some(s)) if s.parse::<i64>().is_err() && !s.is_empty() => TargetPort::Name(s.to_string()),
                _ => {
                    return Err(InputError::new(
                        t.loc(n),
                        "spec.ports[].targetPort",
                        "must be a port number (1-65535) or a container port's name",
                    ))
                }
            },
        };
        ports.push(ServicePort {
            port,
            name: yaml::get(p, "name").and_then(yaml::as_str).map(str::to_string),
            target,
            loc: t.loc(p),
        });
    }
    let anns = annotations(doc);
    let ann = |k: &str| anns.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let ip_targets = ty == "LoadBalancer"
        && (ann(&format!("{AWS}nlb-target-type"))
            .and_then(yaml::as_str)
            .map(str::trim)
            == Some("ip")
            || ann(&format!("{AWS}type")).and_then(yaml::as_str).map(str::trim) == Some("nlb-ip"));
    let neg = ann("cloud.google.com/neg")
        .and_then(yaml::as_str)
        .is_some_and(|v| v.replace(' ', "").contains("\"ingress\":true") || v.contains("exposed_ports"));
    let mut deregistration_delay = None;
    if let Some(n) = ann(AWS_TARGET_GROUP_ATTRIBUTES) {
        if let Some(v) = yaml::as_str(n) {
            for kv in v.split(',') {
                if let Some(secs) = kv.trim().strip_prefix("deregistration_delay.timeout_seconds=") {
                    let d =
                        secs.trim()
                            .parse::<i64>()
                            .ok()
                            .filter(|s| (0..=3600).contains(s))
                            .ok_or_else(|| {
                                InputError::new(
                            t.loc_within(n, "deregistration_delay"),
                            "deregistration_delay.timeout_seconds",
                            format!("\"{secs}\" is not a whole number of seconds from 0 to 3600 (what ELBv2 accepts)"),
                        )
                            })?;
                    deregistration_delay = Some(Micros::from_secs(d));
                }
            }
        }
    }
    let headless = spec
        .and_then(|s| yaml::get(s, "clusterIP"))
        .and_then(yaml::as_str)
        .is_some_and(|v| v == "None");
    let local = spec
        .and_then(|s| yaml::get(s, "externalTrafficPolicy"))
        .and_then(yaml::as_str)
        == Some("Local");
    let publish_not_ready = spec
        .and_then(|s| yaml::get(s, "publishNotReadyAddresses"))
        .filter(|n| yaml::as_bool(n) == Some(true))
        .map(|n| t.loc(n));
    let backend_config = backend_config_ref(t, &anns)?;
    Ok(Service {
        backend_config,
        publish_not_ready,
        name,
        namespace,
        loc,
        ty,
        headless,
        selector,
        ports,
        local,
        ip_targets,
        neg,
        deregistration_delay,
    })
}

/// The Service annotation naming its BackendConfigs (`cloud.google.com/backend-config`, or the
/// older `beta.cloud.google.com/backend-config`): JSON `{"default": "cfg", "ports": {"80": "cfg"}}`
/// (https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#associating_backendconfig_with_your_ingress).
fn backend_config_ref(t: &Text, anns: &[(&str, &Node)]) -> Result<Option<BackendConfigRef>, InputError> {
    let Some((key, n)) = anns
        .iter()
        .find(|(k, _)| *k == "cloud.google.com/backend-config" || *k == "beta.cloud.google.com/backend-config")
    else {
        return Ok(None);
    };
    let bad = |why: String| InputError::new(t.loc(n), *key, why);
    let text =
        yaml::as_str(n).ok_or_else(|| bad("must be a JSON string such as '{\"default\": \"my-config\"}'".into()))?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "is not JSON ({e}); write e.g. '{{\"default\": \"my-config\"}}'"
        ))
    })?;
    let Some(obj) = v.as_object() else {
        return Err(bad("must be a JSON object with \"default\" and/or \"ports\"".into()));
    };
    let mut out = BackendConfigRef {
        default: None,
        ports: Vec::new(),
        loc: t.loc(n),
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("default", serde_json::Value::String(s)) => out.default = Some(s.clone()),
            ("ports", serde_json::Value::Object(m)) => {
                for (port, cfg) in m {
                    let cfg = cfg
                        .as_str()
                        .ok_or_else(|| bad(format!("ports.{port} must name a BackendConfig (a string)")))?;
                    out.ports.push((port.clone(), cfg.to_string()));
                }
            }
            ("default" | "ports", _) => {
                return Err(bad(format!(
                    "\"{k}\" must be {}",
                    if k == "default" {
                        "a BackendConfig name"
                    } else {
                        "an object of port to BackendConfig name"
                    }
                )))
            }
            (other, _) => {
                let hint = crate::scenario::words::nearest(other, &["default", "ports"])
                    .map(|w| format!("did you mean \"{w}\"? "))
                    .unwrap_or_default();
                return Err(bad(format!("unknown key \"{other}\"; {hint}valid: default, ports")));
            }
        }
    }
    Ok(Some(out))
}

/// A GKE BackendConfig and its `spec.healthCheck`, refused where Google Cloud refuses it:
/// interval and timeout 1-300 s with the timeout at most the interval, thresholds 1-10, type HTTP,
/// HTTPS or HTTP2 (https://cloud.google.com/load-balancing/docs/health-check-concepts,
/// https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#direct_health).
fn backend_config(t: &Text, doc: &Node) -> Result<BackendConfig, InputError> {
    let (name, _, loc) = name_ns(t, doc, "BackendConfig")?;
    let Some(hc) = yaml::get(doc, "spec").and_then(|s| yaml::get(s, "healthCheck")) else {
        return Ok(BackendConfig {
            name,
            loc,
            health_check: None,
        });
    };
    let field = |k: &str| format!("spec.healthCheck.{k}");
    let ranged = |k: &str, lo: i64, hi: i64| -> Result<Option<(i64, Loc)>, InputError> {
        let Some(n) = yaml::get(hc, k) else { return Ok(None) };
        let v = int(t, n, &field(k))?;
        if !(lo..=hi).contains(&v) {
            return Err(InputError::new(
                t.loc(n),
                field(k),
                format!("must be from {lo} to {hi}, got {v} (Google Cloud rejects it)"),
            ));
        }
        Ok(Some((v, t.loc(n))))
    };
    let secs = |k: &str| -> Result<Option<(Micros, Loc)>, InputError> {
        Ok(ranged(k, 1, 300)?.map(|(v, l)| (Micros::from_secs(v), l)))
    };
    let count = |k: &str| -> Result<Option<(u32, Loc)>, InputError> {
        Ok(ranged(k, 1, 10)?.map(|(v, l)| (u32::try_from(v).unwrap_or(u32::MAX), l)))
    };
    let interval = secs("checkIntervalSec")?;
    let timeout = secs("timeoutSec")?;
    if let (Some((i, _)), Some((to, l))) = (&interval, &timeout) {
        if to > i {
            return Err(InputError::new(
                l.clone(),
                field("timeoutSec"),
                format!("{to} is longer than checkIntervalSec {i} (Google Cloud rejects a timeout longer than the interval)"),
            ));
        }
    }
    let protocol = match yaml::get(hc, "type") {
        None => None,
        Some(n) => {
            let p = match yaml::as_str(n).unwrap_or("") {
                "HTTP" => crate::provider::Protocol::Http,
                "HTTPS" | "HTTP2" => crate::provider::Protocol::Https,
                other => {
                    return Err(InputError::new(
                        t.loc(n),
                        field("type"),
                        format!("\"{other}\" is not a BackendConfig health check type (HTTP, HTTPS, HTTP2)"),
                    ))
                }
            };
            Some((p, t.loc(n)))
        }
    };
    let path = match yaml::get(hc, "requestPath") {
        None => None,
        Some(n) => {
            let p = yaml::as_str(n).unwrap_or("");
            if !p.starts_with('/') {
                return Err(InputError::new(
                    t.loc(n),
                    field("requestPath"),
                    format!("\"{p}\" must start with / (Google Cloud rejects it)"),
                ));
            }
            Some((p.to_string(), t.loc(n)))
        }
    };
    let port = ranged("port", 1, 65535)?.map(|(v, l)| (u16::try_from(v).unwrap_or(u16::MAX), l));
    Ok(BackendConfig {
        name,
        loc,
        health_check: Some(GkeHealthCheck {
            interval,
            timeout,
            healthy: count("healthyThreshold")?,
            unhealthy: count("unhealthyThreshold")?,
            protocol,
            path,
            port,
        }),
    })
}

fn ingress(t: &Text, doc: &Node) -> Result<Ingress, InputError> {
    let (name, namespace, loc) = name_ns(t, doc, "Ingress")?;
    let spec = yaml::get(doc, "spec");
    let anns = annotations(doc);
    let ann = |k: &str| {
        anns.iter()
            .find(|(key, _)| *key == k)
            .and_then(|(_, v)| yaml::as_str(v))
    };
    let class = spec
        .and_then(|s| yaml::get(s, "ingressClassName"))
        .and_then(yaml::as_str)
        .or_else(|| ann("kubernetes.io/ingress.class"))
        .map(str::to_string);
    let ip_targets = ann("alb.ingress.kubernetes.io/target-type").map(str::trim) == Some("ip");
    let service_upstream = ann("nginx.ingress.kubernetes.io/service-upstream").map(str::trim) == Some("true");
    let deregistration_delay = ann("alb.ingress.kubernetes.io/target-group-attributes")
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|kv| kv.trim().strip_prefix("deregistration_delay.timeout_seconds="))
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=3600).contains(s))
                .map(Micros::from_secs)
                .ok_or_else(|| {
                    InputError::new(
                        loc.clone(),
                        "alb.ingress.kubernetes.io/target-group-attributes",
                        format!("deregistration_delay.timeout_seconds \"{v}\" is not a whole number of seconds from 0 to 3600 (what ELBv2 accepts)"),
                    )
                })
        })
        .transpose()?;
    let mut backends = Vec::new();
    let mut push = |b: &Node| {
        let svc = yaml::get(b, "service")
            .and_then(|s| yaml::get(s, "name"))
            .or_else(|| yaml::get(b, "serviceName"));
        if let Some(n) = svc {
            if let Some(s) = yaml::as_str(n) {
                let service = format!("{namespace}/{s}");
                if !backends.iter().any(|x: &Backend| x.service == service) {
                    let port = yaml::get(b, "service")
                        .and_then(|s| yaml::get(s, "port"))
                        .and_then(|p| yaml::get(p, "number").or_else(|| yaml::get(p, "name")))
                        .or_else(|| yaml::get(b, "servicePort"))
                        .and_then(|p| {
                            yaml::as_int(p)
                                .map(|i| i.to_string())
                                .or_else(|| yaml::as_str(p).map(str::to_string))
                        });
                    backends.push(Backend {
                        service,
                        port,
                        loc: t.loc(n),
                    });
                }
            }
        }
    };
    if let Some(b) = spec.and_then(|s| yaml::get(s, "defaultBackend").or_else(|| yaml::get(s, "backend"))) {
        push(b);
    }
    for rule in spec
        .and_then(|s| yaml::get(s, "rules"))
        .map(yaml::items)
        .unwrap_or_default()
    {
        for p in yaml::get(rule, "http")
            .and_then(|h| yaml::get(h, "paths"))
            .map(yaml::items)
            .unwrap_or_default()
        {
            if let Some(b) = yaml::get(p, "backend") {
                push(b);
            }
        }
    }
    Ok(Ingress {
        name,
        loc,
        class,
        ip_targets,
        backends,
        service_upstream,
        deregistration_delay,
    })
}

fn apiserver_extras(t: &Text, container: &Node) -> Result<(Reconciler, Option<Loc>), InputError> {
    let count = match find_flag(t, container, "apiserver-count") {
        None => 1,
        Some(f) => f
            .value
            .as_deref()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| InputError::new(f.value_loc.clone(), "--apiserver-count", "must be a positive integer"))?,
    };
    let Some(f) = find_flag(t, container, "endpoint-reconciler-type") else {
        return Ok((Reconciler::Lease, None));
    };
    let r = match f.value.as_deref() {
        Some("lease") => Reconciler::Lease,
        Some("master-count") => Reconciler::MasterCount(count),
        Some("none") => Reconciler::None,
        other => {
            return Err(InputError::new(
                f.value_loc,
                "--endpoint-reconciler-type",
                format!(
                    "\"{}\" is not a reconciler kube-apiserver knows (master-count, lease, none)",
                    other.unwrap_or("")
                ),
            ))
        }
    };
    Ok((r, Some(f.flag_loc)))
}

/// A duration as Go's `time.ParseDuration` writes it in component configs (`1s`, `500ms`, `1m30s`).
fn go_duration(t: &Text, n: &Node, field: &str) -> Result<Micros, InputError> {
    let v = yaml::as_str(n).ok_or_else(|| {
        InputError::new(
            t.loc(n),
            field,
            format!("must be a duration such as \"1s\", got {}", yaml::kind_of(n)),
        )
    })?;
    let d = Micros::parse(v).map_err(|e| InputError::new(t.loc(n), field, e))?;
    if d < Micros::ZERO || d > MAX_INPUT {
        return Err(InputError::new(t.loc(n), field, format!("{d} is out of range")));
    }
    Ok(d)
}

/// kube-proxy's minimum sync period for `mode`: `<mode>.minSyncPeriod`, or the mode-independent
/// `minSyncPeriod` of newer configs (v1alpha2), located (k/k pkg/proxy/apis/config/types.go).
fn proxy_min_sync(t: &Text, doc: &Node, mode: ProxyMode) -> Result<Option<(Micros, Loc)>, InputError> {
    let own = yaml::get(doc, mode.name()).and_then(|m| yaml::get(m, "minSyncPeriod"));
    let field = format!("{}.minSyncPeriod", mode.name());
    if let Some(n) = own {
        return Ok(Some((go_duration(t, n, &field)?, t.loc(n))));
    }
    yaml::get(doc, "minSyncPeriod")
        .map(|n| Ok((go_duration(t, n, "minSyncPeriod")?, t.loc(n))))
        .transpose()
}

/// `--endpointslice-updates-batch-period` of a kube-controller-manager pod among the documents.
fn endpointslice_batch(t: &Text, docs: &[Node]) -> Result<Option<(Micros, Loc)>, InputError> {
    for d in docs.iter().filter(|d| kind(d) == Some("Pod")) {
        let containers = yaml::get(d, "spec")
            .and_then(|s| yaml::get(s, "containers"))
            .map(yaml::items)
            .unwrap_or_default();
        for c in containers {
            let is_kcm = yaml::get(c, "name").and_then(yaml::as_str) == Some("kube-controller-manager");
            if !is_kcm {
                continue;
            }
            if let Some(f) = find_flag(t, c, "endpointslice-updates-batch-period") {
                let v = f.value.as_deref().unwrap_or("");
                let d = Micros::parse(v)
                    .map_err(|e| InputError::new(f.value_loc.clone(), "--endpointslice-updates-batch-period", e))?;
                return Ok(Some((d, f.flag_loc)));
            }
        }
    }
    Ok(None)
}

/// The first `{{` outside a comment (a Helm template), located.
fn helm_marker(t: &Text) -> Option<Loc> {
    let mut offset = 0;
    for line in t.text.split_inclusive('\n') {
        let code = line.split(" #").next().unwrap_or(line);
        if !line.trim_start().starts_with('#') {
            if let Some(i) = code.find("{{") {
                return Some(t.loc_of_offset(offset + i));
            }
        }
        offset += line.len();
    }
    None
}

/// Reads every object of a YAML stream that a Kubernetes path needs.
pub fn read(t: &Text, docs: &[Node]) -> Result<Objects, InputError> {
    let mut out = Objects::default();
    if let Some(at) = helm_marker(t) {
        out.notes.push(format!(
            "{at}: looks like a Helm template (`{{{{`); its workloads and Services are not read for the Kubernetes paths: render it with `helm template` and pass the output"
        ));
        return Ok(out);
    }
    for doc in flatten(docs) {
        let Some(k) = kind(doc) else { continue };
        match k {
            _ if WORKLOAD_KINDS.contains(&k) => out.workloads.extend(workload(t, doc, k)?),
            "Service" => out.services.push(service(t, doc)?),
            "Ingress" => out.ingresses.push(ingress(t, doc)?),
            "KubeProxyConfiguration" => {
                let m = yaml::get(doc, "mode");
                let mode = match m.and_then(yaml::as_str).unwrap_or("") {
                    "" | "iptables" => ProxyMode::Iptables,
                    "ipvs" => ProxyMode::Ipvs,
                    "nftables" => ProxyMode::Nftables,
                    other => {
                        return Err(InputError::new(
                            t.loc(m.unwrap_or(doc)),
                            "mode",
                            format!("\"{other}\" is not a kube-proxy mode graceline models (iptables, ipvs, nftables)"),
                        ))
                    }
                };
                out.proxy_mode = Some((mode, t.loc(m.unwrap_or(doc))));
                out.proxy_min_sync = proxy_min_sync(t, doc, mode)?;
            }
            "IngressClass" => {
                let name = yaml::get(doc, "metadata")
                    .and_then(|m| yaml::get(m, "name"))
                    .and_then(yaml::as_str)
                    .unwrap_or("")
                    .to_string();
                let controller = yaml::get(doc, "spec")
                    .and_then(|s| yaml::get(s, "controller"))
                    .and_then(yaml::as_str)
                    .unwrap_or("")
                    .to_string();
                out.ingress_classes.push(IngressClass { name, controller });
            }
            "Namespace" => {
                let meta = yaml::get(doc, "metadata");
                out.namespaces.push(Namespace {
                    name: meta
                        .and_then(|m| yaml::get(m, "name"))
                        .and_then(yaml::as_str)
                        .unwrap_or("")
                        .to_string(),
                    labels: string_map(t, meta.and_then(|m| yaml::get(m, "labels")), "metadata.labels")?,
                });
            }
            "BackendConfig" => out.backend_configs.push(backend_config(t, doc)?),
            _ => {}
        }
    }
    out.endpointslice_batch = endpointslice_batch(t, docs)?;
    let servers = super::manifest::servers(t, docs)?;
    let pods: Vec<(&Node, &Node)> = docs
        .iter()
        .filter(|d| kind(d) == Some("Pod"))
        .filter_map(|d| {
            yaml::get(d, "spec")
                .and_then(|s| yaml::get(s, "containers"))
                .map(yaml::items)
                .unwrap_or_default()
                .iter()
                .find(|c| is_apiserver(c))
                .map(|c| (d, c))
        })
        .collect();
    for (server, (pod, c)) in servers.into_iter().zip(pods) {
        let (reconciler, reconciler_loc) = apiserver_extras(t, c)?;
        let meta = yaml::get(pod, "metadata");
        out.apiservers.push(Apiserver {
            server,
            container_loc: t.loc(c),
            reconciler,
            reconciler_loc,
            namespace: meta
                .and_then(|m| yaml::get(m, "namespace"))
                .and_then(yaml::as_str)
                .unwrap_or("default")
                .to_string(),
            labels: string_map(t, meta.and_then(|m| yaml::get(m, "labels")), "metadata.labels")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(src: &str) -> Result<Objects, InputError> {
        let t = Text::new("w.yaml", src);
        let docs = yaml::load(&t)?;
        read(&t, &docs)
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      terminationGracePeriodSeconds: 45\n      containers:\n      - name: web\n        ports:\n        - name: http\n          containerPort: 8080\n        lifecycle:\n          preStop:\n            exec:\n              command: PRESTOP\n";

    fn prestop_of(cmd: &str) -> Prestop {
        let o = objects(&DEPLOY.replace("PRESTOP", cmd)).unwrap();
        o.workloads[0].containers[0].prestop.clone()
    }

    #[test]
    fn prestop_sleep_forms() {
        let ten = Micros::from_secs(10);
        for cmd in [
            "[\"sleep\", \"10\"]",
            "[\"/bin/sleep\", \"10\"]",
            "[\"sh\", \"-c\", \"sleep 10\"]",
            "[\"/bin/sh\", \"-c\", \"exec sleep 10;\"]",
            "[\"sleep\", \"10s\"]",
            "[\"sleep 10\"]",
        ] {
            assert_eq!(prestop_of(cmd).duration(), ten, "{cmd}");
            assert!(matches!(prestop_of(cmd), Prestop::Sleep { .. }), "{cmd}");
        }
        assert_eq!(sleep_arg("1.5"), Some(Micros::from_millis(1500)));
        assert_eq!(sleep_arg("2m"), Some(Micros::from_secs(120)));
        assert_eq!(sleep_arg("x"), None);
        match prestop_of("[\"sh\", \"-c\", \"sleep 5 && nginx -s quit\"]") {
            Prestop::Unknown { assumed, .. } => assert_eq!(assumed, Micros::from_secs(5)),
            p => panic!("{p:?}"),
        }
        match prestop_of("[\"/app/drain\"]") {
            Prestop::Unknown { assumed, loc, .. } => {
                assert_eq!(assumed, Micros::ZERO);
                assert_eq!(loc.line, 20);
            }
            p => panic!("{p:?}"),
        }
        let o = objects(&DEPLOY.replace(
            "exec:\n              command: PRESTOP",
            "sleep:\n              seconds: 7",
        ))
        .unwrap();
        assert_eq!(o.workloads[0].containers[0].prestop.duration(), Micros::from_secs(7));
    }

    #[test]
    fn bad_values_are_located() {
        let e = objects(&DEPLOY.replace("45", "-1").replace("PRESTOP", "[\"sleep\", \"1\"]")).unwrap_err();
        assert_eq!(
            (e.loc.line, e.field.as_str()),
            (11, "spec.terminationGracePeriodSeconds")
        );
        let e = objects(&DEPLOY.replace("exec:\n              command: PRESTOP", "{}")).unwrap_err();
        assert!(e.message.contains("exactly one of"), "{e}");
        let e = objects("kind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    targetPort: 0\n")
            .unwrap_err();
        assert_eq!(e.loc.line, 7);
        let e = objects("kind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --endpoint-reconciler-type=bogus]\n").unwrap_err();
        assert!(e.message.contains("master-count, lease, none"), "{e}");
    }

    #[test]
    fn services_ingresses_lists_and_helm() {
        let o = objects("kind: List\nitems:\n- kind: Service\n  metadata:\n    name: s\n    annotations:\n      service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n      service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: deregistration_delay.timeout_seconds=30\n  spec:\n    type: LoadBalancer\n    selector: {app: web}\n    ports:\n    - port: 80\n      targetPort: http\n").unwrap();
        let s = &o.services[0];
        assert!(s.ip_targets);
        assert_eq!(s.deregistration_delay, Some(Micros::from_secs(30)));
        assert_eq!(s.ports[0].target, TargetPort::Name("http".into()));
        let o = objects("kind: Ingress\nmetadata:\n  name: i\nspec:\n  ingressClassName: nginx\n  rules:\n  - http:\n      paths:\n      - backend:\n          service:\n            name: web\n").unwrap();
        assert_eq!(o.ingresses[0].backends[0].service, "default/web");
        let o = objects("kind: Service\nmetadata:\n  name: {{ .Values.name }}\n").unwrap_or_default();
        assert!(o.services.is_empty());
    }
}
