//! What the path families of issue 16 read from Kubernetes objects beyond what
//! [`super::workload`] reads: Namespaces (Istio's injection label, located), each workload's pod
//! template (annotations, an injected `istio-proxy`, the liveness probe's grace period),
//! Services (MetalLB annotations), Cilium's ConfigMap
//! (`kube-proxy-replacement`), MetalLB's advertisements and a `KubeletConfiguration` (graceful node
//! shutdown, soft-eviction grace). Every value keeps its location; a value the API server would
//! reject is a located error.

use super::workload::{prestop, WORKLOAD_KINDS};
use super::yaml::{self, Node, Text};
use crate::error::InputError;
use crate::scenario::k8s_added::{
    AddedObjects, CiliumConfig, IstioProxy, KubeletConfig, MetalLbMode, Namespace, PodExtras, ServiceExtras,
};
use crate::time::{Micros, MAX_INPUT};
use std::collections::BTreeMap;

/// The name of the container Istio's injector adds.
pub const ISTIO_PROXY: &str = "istio-proxy";

fn kind<'n>(doc: &'n Node) -> Option<&'n str> {
    yaml::get(doc, "kind").and_then(yaml::as_str)
}

fn api_group_is(doc: &Node, prefix: &str) -> bool {
    yaml::get(doc, "apiVersion")
        .and_then(yaml::as_str)
        .is_some_and(|v| v.starts_with(prefix))
}

fn name_ns(doc: &Node) -> Option<(String, String)> {
    let meta = yaml::get(doc, "metadata")?;
    let name = yaml::get(meta, "name").and_then(yaml::as_str)?;
    let ns = yaml::get(meta, "namespace").and_then(yaml::as_str).unwrap_or("default");
    Some((name.to_string(), ns.to_string()))
}

/// A whole number of seconds in `[min, 30 days]`, located.
fn secs(t: &Text, n: &Node, field: &str, min: i64) -> Result<Micros, InputError> {
    let v = yaml::as_int(n)
        .ok_or_else(|| InputError::new(t.loc(n), field, format!("must be an integer, got {}", yaml::kind_of(n))))?;
    if v < min || v > MAX_INPUT.0 / 1_000_000 {
        return Err(InputError::new(
            t.loc(n),
            field,
            format!("must be from {min} to 2592000 (30 days), got {v}"),
        ));
    }
    Ok(Micros::from_secs(v))
}

fn pod_extras(t: &Text, doc: &Node, k: &str) -> Result<Option<PodExtras>, InputError> {
    let Some((name, ns)) = name_ns(doc) else {
        // The workload reader reports the missing name.
        return Ok(None);
    };
    let (meta, spec) = if k == "Pod" {
        (yaml::get(doc, "metadata"), yaml::get(doc, "spec"))
    } else {
        let tpl = yaml::get(doc, "spec").and_then(|s| yaml::get(s, "template"));
        (
            tpl.and_then(|x| yaml::get(x, "metadata")),
            tpl.and_then(|x| yaml::get(x, "spec")),
        )
    };
    let Some(spec) = spec else { return Ok(None) };
    let mut annotations = BTreeMap::new();
    for (key, v) in meta
        .and_then(|m| yaml::get(m, "annotations"))
        .map(yaml::entries)
        .unwrap_or_default()
    {
        if let (Some(key), Some(value)) = (yaml::as_str(key), yaml::as_str(v)) {
            annotations.insert(key.to_string(), (value.to_string(), t.loc(v)));
        }
    }
    let mut labels = BTreeMap::new();
    for (key, v) in meta
        .and_then(|m| yaml::get(m, "labels"))
        .map(yaml::entries)
        .unwrap_or_default()
    {
        if let (Some(key), Some(value)) = (yaml::as_str(key), yaml::as_str(v)) {
            labels.insert(key.to_string(), value.to_string());
        }
    }
    let mut liveness_grace = Vec::new();
    let mut istio_proxy = None;
    for c in yaml::get(spec, "containers").map(yaml::items).unwrap_or_default() {
        let cname = yaml::get(c, "name").and_then(yaml::as_str).unwrap_or("").to_string();
        if let Some(n) = yaml::get(c, "livenessProbe").and_then(|p| yaml::get(p, "terminationGracePeriodSeconds")) {
            liveness_grace.push((
                cname.clone(),
                secs(t, n, "livenessProbe.terminationGracePeriodSeconds", 1)?,
                t.loc(n),
            ));
        }
        if cname == ISTIO_PROXY {
            istio_proxy = Some(IstioProxy {
                native: false,
                prestop: prestop(t, c)?,
                loc: t.loc(c),
            });
        }
    }
    for c in yaml::get(spec, "initContainers").map(yaml::items).unwrap_or_default() {
        let always = yaml::get(c, "restartPolicy").and_then(yaml::as_str) == Some("Always");
        if always && yaml::get(c, "name").and_then(yaml::as_str) == Some(ISTIO_PROXY) {
            istio_proxy = Some(IstioProxy {
                native: true,
                prestop: prestop(t, c)?,
                loc: t.loc(c),
            });
        }
    }
    Ok(Some(PodExtras {
        workload: format!("{ns}/{name}"),
        annotations,
        labels,
        istio_proxy,
        liveness_grace,
    }))
}

fn service_extras(t: &Text, doc: &Node) -> Option<ServiceExtras> {
    let (name, ns) = name_ns(doc)?;
    let metallb = yaml::get(doc, "metadata")
        .and_then(|m| yaml::get(m, "annotations"))
        .map(yaml::entries)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| {
            yaml::as_str(k).is_some_and(|k| k.starts_with("metallb.universe.tf/") || k.starts_with("metallb.io/"))
        })
        .map(|(k, _)| t.loc(k));
    Some(ServiceExtras {
        service: format!("{ns}/{name}"),
        metallb,
    })
}

fn cilium(t: &Text, doc: &Node) -> Result<Option<CiliumConfig>, InputError> {
    if name_ns(doc).map(|(n, _)| n).as_deref() != Some("cilium-config") {
        return Ok(None);
    }
    let Some(n) = yaml::get(doc, "data").and_then(|d| yaml::get(d, "kube-proxy-replacement")) else {
        return Ok(None);
    };
    let value = yaml::as_str(n).unwrap_or("").to_string();
    let replaces = match value.as_str() {
        "true" | "strict" => true,
        "false" | "disabled" | "partial" | "probe" => false,
        other => {
            return Err(InputError::new(
                t.loc(n),
                "data.kube-proxy-replacement",
                format!("\"{other}\" is not a value Cilium accepts (true, false; before 1.14 also strict, partial, probe, disabled)"),
            ))
        }
    };
    Ok(Some(CiliumConfig {
        replaces_kube_proxy: replaces,
        value,
        loc: t.loc(n),
    }))
}

/// A Go duration (`30s`, `1m0s`) of a KubeletConfiguration field.
fn duration(t: &Text, n: &Node, field: &str) -> Result<Micros, InputError> {
    let s = yaml::as_str(n).ok_or_else(|| {
        InputError::new(
            t.loc(n),
            field,
            format!("must be a duration such as \"30s\", got {}", yaml::kind_of(n)),
        )
    })?;
    Micros::parse(s).map_err(|e| InputError::new(t.loc(n), field, e))
}

fn kubelet(t: &Text, doc: &Node) -> Result<KubeletConfig, InputError> {
    let mut k = KubeletConfig {
        loc: Some(t.loc(doc)),
        ..KubeletConfig::default()
    };
    if let Some(n) = yaml::get(doc, "shutdownGracePeriod") {
        k.shutdown_grace = Some((duration(t, n, "shutdownGracePeriod")?, t.loc(n)));
    }
    if let Some(n) = yaml::get(doc, "shutdownGracePeriodCriticalPods") {
        k.shutdown_grace_critical = Some((duration(t, n, "shutdownGracePeriodCriticalPods")?, t.loc(n)));
    }
    if let (Some((all, _)), Some((critical, at))) = (&k.shutdown_grace, &k.shutdown_grace_critical) {
        if critical > all {
            return Err(InputError::new(
                at.clone(),
                "shutdownGracePeriodCriticalPods",
                format!("{critical} is more than shutdownGracePeriod {all} (the kubelet refuses it)"),
            ));
        }
    }
    if let Some(n) = yaml::get(doc, "evictionMaxPodGracePeriod") {
        k.eviction_max_pod_grace = Some((secs(t, n, "evictionMaxPodGracePeriod", 0)?, t.loc(n)));
    }
    Ok(k)
}

/// True for a Service of type LoadBalancer with a selector that MetalLB announces rather than a
/// cloud: it has a MetalLB annotation, or carries no cloud's annotation or `loadBalancerClass`
/// while MetalLB's advertisements are among the same file's objects. Its pods' paths judge it
/// (`crate::paths::metallb`, or kube-proxy's under Cluster policy); one without a selector is
/// left to the cloud reader, which names MetalLB as not modelled.
pub fn announced_by_metallb(doc: &Node, added: &AddedObjects) -> bool {
    if kind(doc) != Some("Service") {
        return false;
    }
    let selector = yaml::get(doc, "spec")
        .and_then(|s| yaml::get(s, "selector"))
        .is_some_and(|s| !yaml::entries(s).is_empty());
    if !selector {
        return false;
    }
    let Some((name, ns)) = name_ns(doc) else { return false };
    if added
        .service(&format!("{ns}/{name}"))
        .is_some_and(|s| s.metallb.is_some())
    {
        return true;
    }
    let cloud = yaml::get(doc, "metadata")
        .and_then(|m| yaml::get(m, "annotations"))
        .map(yaml::entries)
        .unwrap_or_default()
        .iter()
        .any(|(k, _)| {
            yaml::as_str(k).is_some_and(|k| {
                ["service.beta.kubernetes.io/", "cloud.google.com/", "networking.gke.io/"]
                    .iter()
                    .any(|p| k.starts_with(p))
            })
        });
    let class = yaml::get(doc, "spec")
        .and_then(|s| yaml::get(s, "loadBalancerClass"))
        .is_some();
    !added.metallb.is_empty() && !cloud && !class
}

/// Reads what the issue-16 path families need from a (flattened) YAML stream into `out`.
pub fn read(t: &Text, docs: &[Node], out: &mut AddedObjects) -> Result<(), InputError> {
    for doc in docs {
        let Some(k) = kind(doc) else { continue };
        match k {
            _ if WORKLOAD_KINDS.contains(&k) => out.pods.extend(pod_extras(t, doc, k)?),
            "Service" => out.services.extend(service_extras(t, doc)),
            "Namespace" => {
                if let Some((name, _)) = name_ns(doc) {
                    let meta = yaml::get(doc, "metadata");
                    let labels = meta
                        .and_then(|m| yaml::get(m, "labels"))
                        .map(yaml::entries)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| Some((yaml::as_str(k)?.to_string(), yaml::as_str(v)?.to_string())))
                        .collect();
                    out.namespaces.push(Namespace {
                        name,
                        labels,
                        loc: t.loc(meta.and_then(|m| yaml::get(m, "name")).unwrap_or(doc)),
                    });
                }
            }
            "ConfigMap" => {
                if let Some(c) = cilium(t, doc)? {
                    out.cilium.get_or_insert(c);
                }
            }
            "L2Advertisement" if api_group_is(doc, "metallb.io/") => out.metallb.push((MetalLbMode::L2, t.loc(doc))),
            "BGPAdvertisement" if api_group_is(doc, "metallb.io/") => out.metallb.push((MetalLbMode::Bgp, t.loc(doc))),
            "KubeletConfiguration" => {
                let c = kubelet(t, doc)?;
                out.kubelet.get_or_insert(c);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(src: &str) -> Result<AddedObjects, InputError> {
        let t = Text::new("c.yaml", src);
        let docs = yaml::load(&t)?;
        let mut out = AddedObjects::default();
        read(&t, &docs, &mut out)?;
        Ok(out)
    }

    const POD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      annotations:\n        proxy.istio.io/config: '{\"terminationDrainDuration\": \"20s\"}'\n    spec:\n      containers:\n      - name: web\n        readinessProbe:\n          periodSeconds: 2\n          failureThreshold: 1\n          httpGet: {path: /ready, port: 8080}\n        livenessProbe:\n          terminationGracePeriodSeconds: 7\n      - name: istio-proxy\n        image: istio/proxyv2\n";

    #[test]
    fn pod_templates_give_annotations_the_liveness_grace_and_the_injected_proxy() {
        let o = objects(POD).unwrap();
        let p = o.pod("shop/web").unwrap();
        assert_eq!(p.liveness_grace[0].1, Micros::from_secs(7));
        assert!(p.annotations["proxy.istio.io/config"].0.contains("20s"));
        let proxy = p.istio_proxy.as_ref().unwrap();
        assert!(!proxy.native);
        let o = objects(&POD.replace(
            "      - name: istio-proxy\n        image: istio/proxyv2\n",
            "      initContainers:\n      - name: istio-proxy\n        restartPolicy: Always\n",
        ))
        .unwrap();
        assert!(o.pod("shop/web").unwrap().istio_proxy.as_ref().unwrap().native);
    }

    #[test]
    fn cilium_metallb_kubelet_and_namespaces() {
        let o = objects("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cilium-config\n  namespace: kube-system\ndata:\n  kube-proxy-replacement: \"true\"\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata:\n  name: l2\n---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nshutdownGracePeriod: 30s\nshutdownGracePeriodCriticalPods: 10s\nevictionMaxPodGracePeriod: 60\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n").unwrap();
        let c = o.cilium.unwrap();
        assert!(c.replaces_kube_proxy);
        assert_eq!(c.loc.line, 7);
        assert_eq!(o.metallb[0].0, MetalLbMode::L2);
        let k = o.kubelet.unwrap();
        assert_eq!(k.shutdown_grace.unwrap().0, Micros::from_secs(30));
        assert_eq!(k.eviction_max_pod_grace.unwrap().0, Micros::from_secs(60));
        assert_eq!(o.namespaces[0].labels["istio-injection"], "enabled");
    }

    #[test]
    fn bad_values_are_located() {
        let e =
            objects(&POD.replace("terminationGracePeriodSeconds: 7", "terminationGracePeriodSeconds: 0")).unwrap_err();
        assert_eq!(
            (e.loc.line, e.field.as_str()),
            (19, "livenessProbe.terminationGracePeriodSeconds")
        );
        let e = objects("kind: ConfigMap\nmetadata:\n  name: cilium-config\ndata:\n  kube-proxy-replacement: maybe\n")
            .unwrap_err();
        assert!(e.message.contains("not a value Cilium accepts"), "{e}");
        let e = objects("kind: KubeletConfiguration\nshutdownGracePeriod: 10s\nshutdownGracePeriodCriticalPods: 20s\n")
            .unwrap_err();
        assert_eq!(e.loc.line, 3);
    }
}
