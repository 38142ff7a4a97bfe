//! Gateway API objects (`gateway.networking.k8s.io`): GatewayClasses (which controller implements
//! them), Gateways (their class) and the HTTPRoutes and GRPCRoutes attached to them (parent
//! Gateways, backend Services), every value with its location. TCPRoute, TLSRoute and UDPRoute
//! are named as not read; Istio's own `networking.istio.io` Gateway is not a Gateway API object
//! and is told apart by its apiVersion.

use super::yaml::{self, Node, Text};
use crate::error::{InputError, Loc};
use crate::scenario::k8s_added::{AddedObjects, BackendRef, Gateway, GatewayClass, ParentRef, Route};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

fn kind<'n>(doc: &'n Node) -> Option<&'n str> {
    yaml::get(doc, "kind").and_then(yaml::as_str)
}

/// True when the document belongs to the Gateway API group.
pub fn is_gateway_api(doc: &Node) -> bool {
    yaml::get(doc, "apiVersion")
        .and_then(yaml::as_str)
        .is_some_and(|v| v.starts_with(&format!("{GROUP}/")))
}

/// `metadata.name` with its node, and the namespace (`default` when absent).
fn name_ns<'n, 'a>(t: &Text, doc: &'n Node<'a>, what: &str) -> Result<(String, String, Loc), InputError> {
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
    Ok((name.to_string(), ns, t.loc(node.unwrap_or(doc))))
}

/// A required string field of `n`, located.
fn required_str<'n>(t: &Text, n: &'n Node, key: &str, field: &str, what: &str) -> Result<(&'n str, Loc), InputError> {
    match yaml::get(n, key) {
        Some(v) => match yaml::as_str(v) {
            Some(s) if !s.is_empty() => Ok((s, t.loc(v))),
            _ => Err(InputError::new(
                t.loc(v),
                field,
                format!("must be a non-empty string, got {}", yaml::kind_of(v)),
            )),
        },
        None => Err(InputError::new(t.loc(n), field, format!("{what} needs {key}"))),
    }
}

fn gateway_class(t: &Text, doc: &Node) -> Result<GatewayClass, InputError> {
    let (name, _, loc) = name_ns(t, doc, "GatewayClass")?;
    let spec = yaml::get(doc, "spec").ok_or_else(|| {
        InputError::new(
            loc.clone(),
            "spec.controllerName",
            "a GatewayClass needs spec.controllerName",
        )
    })?;
    let (controller, loc) = required_str(t, spec, "controllerName", "spec.controllerName", "a GatewayClass")?;
    Ok(GatewayClass {
        name,
        controller: controller.to_string(),
        loc,
    })
}

fn gateway(t: &Text, doc: &Node) -> Result<Gateway, InputError> {
    let (name, ns, loc) = name_ns(t, doc, "Gateway")?;
    let spec = yaml::get(doc, "spec").ok_or_else(|| {
        InputError::new(
            loc.clone(),
            "spec.gatewayClassName",
            "a Gateway needs spec.gatewayClassName",
        )
    })?;
    let (class, class_loc) = required_str(t, spec, "gatewayClassName", "spec.gatewayClassName", "a Gateway")?;
    Ok(Gateway {
        name: format!("{ns}/{name}"),
        class: class.to_string(),
        class_loc,
        loc,
    })
}

/// `namespace/name` of a reference: its own `namespace`, else the route's.
fn reference(t: &Text, r: &Node, route_ns: &str, field: &str) -> Result<(String, Loc), InputError> {
    let (name, loc) = required_str(t, r, "name", &format!("{field}.name"), "a reference")?;
    let ns = yaml::get(r, "namespace").and_then(yaml::as_str).unwrap_or(route_ns);
    Ok((format!("{ns}/{name}"), loc))
}

fn route(t: &Text, doc: &Node, k: &str) -> Result<Route, InputError> {
    let (name, ns, loc) = name_ns(t, doc, k)?;
    let spec = yaml::get(doc, "spec");
    let mut parents = Vec::new();
    for p in spec
        .and_then(|s| yaml::get(s, "parentRefs"))
        .map(yaml::items)
        .unwrap_or_default()
    {
        let (parent, at) = reference(t, p, &ns, "spec.parentRefs[]")?;
        parents.push(ParentRef {
            kind: yaml::get(p, "kind")
                .and_then(yaml::as_str)
                .unwrap_or("Gateway")
                .to_string(),
            name: parent,
            loc: at,
        });
    }
    let mut backends: Vec<BackendRef> = Vec::new();
    for rule in spec
        .and_then(|s| yaml::get(s, "rules"))
        .map(yaml::items)
        .unwrap_or_default()
    {
        for b in yaml::get(rule, "backendRefs").map(yaml::items).unwrap_or_default() {
            let (backend, at) = reference(t, b, &ns, "spec.rules[].backendRefs[]")?;
            let port = match yaml::get(b, "port") {
                None => None,
                Some(n) => match yaml::as_int(n) {
                    Some(p) if (1..=65535).contains(&p) => Some(p),
                    _ => {
                        return Err(InputError::new(
                            t.loc(n),
                            "spec.rules[].backendRefs[].port",
                            "must be a port number (1-65535)",
                        ))
                    }
                },
            };
            let kind = yaml::get(b, "kind")
                .and_then(yaml::as_str)
                .unwrap_or("Service")
                .to_string();
            if !backends
                .iter()
                .any(|x| x.name == backend && x.port == port && x.kind == kind)
            {
                backends.push(BackendRef {
                    kind,
                    name: backend,
                    port,
                    loc: at,
                });
            }
        }
    }
    Ok(Route {
        kind: k.to_string(),
        name: format!("{ns}/{name}"),
        loc,
        parents,
        backends,
    })
}

/// Reads the Gateway API objects of a (flattened) YAML stream into `out`.
pub fn read(t: &Text, docs: &[Node], out: &mut AddedObjects) -> Result<(), InputError> {
    for doc in docs {
        let Some(k) = kind(doc) else { continue };
        if !is_gateway_api(doc) {
            if yaml::get(doc, "apiVersion")
                .and_then(yaml::as_str)
                .is_some_and(|v| v.starts_with("networking.istio.io/"))
                && ["Gateway", "VirtualService"].contains(&k)
            {
                out.unread_routes
                    .push((format!("Istio {k} (networking.istio.io)"), t.loc(doc)));
            }
            continue;
        }
        match k {
            "GatewayClass" => out.gateway_classes.push(gateway_class(t, doc)?),
            "Gateway" => out.gateways.push(gateway(t, doc)?),
            "HTTPRoute" | "GRPCRoute" => out.routes.push(route(t, doc, k)?),
            "TCPRoute" | "TLSRoute" | "UDPRoute" => {
                let (name, ns, loc) = name_ns(t, doc, k)?;
                out.unread_routes.push((format!("{k} {ns}/{name}"), loc));
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
        let t = Text::new("g.yaml", src);
        let docs = yaml::load(&t)?;
        let mut out = AddedObjects::default();
        read(&t, &docs, &mut out)?;
        Ok(out)
    }

    const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  parentRefs:\n  - name: public\n    namespace: infra\n  rules:\n  - backendRefs:\n    - name: web\n      port: 80\n    - name: web\n      port: 80\n";

    #[test]
    fn classes_gateways_and_routes_with_their_references() {
        let o = objects(&format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: eg\nspec:\n  controllerName: gateway.envoyproxy.io/gatewayclass-controller\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: public\n  namespace: infra\nspec:\n  gatewayClassName: eg\n---\n{ROUTE}"
        ))
        .unwrap();
        assert_eq!(
            o.gateway_classes[0].controller,
            "gateway.envoyproxy.io/gatewayclass-controller"
        );
        assert_eq!(o.gateway_classes[0].loc.line, 6);
        assert_eq!(o.gateways[0].name, "infra/public");
        assert_eq!(o.gateways[0].class, "eg");
        let r = &o.routes[0];
        assert_eq!((r.kind.as_str(), r.name.as_str()), ("HTTPRoute", "shop/web"));
        assert_eq!(r.parents[0].name, "infra/public");
        assert_eq!(r.parents[0].kind, "Gateway");
        assert_eq!(r.backends.len(), 1, "a repeated backend is kept once");
        assert_eq!(r.backends[0].name, "shop/web");
        assert_eq!(r.backends[0].port, Some(80));
        // Two documents of 6 and 7 lines and two separators before the route: its line 12 is 27.
        assert_eq!(r.backends[0].loc.line, 27);
    }

    #[test]
    fn other_groups_and_unmodelled_routes_are_told_apart() {
        let o = objects("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  selector: {istio: ingressgateway}\n---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata:\n  name: db\n").unwrap();
        assert!(o.gateways.is_empty());
        assert_eq!(o.unread_routes.len(), 2);
        assert!(o.unread_routes[1].0.contains("TCPRoute default/db"));
    }

    #[test]
    fn bad_references_are_located() {
        let e = objects(&ROUTE.replace("      port: 80\n    - name: web\n      port: 80\n", "      port: 0\n"))
            .unwrap_err();
        assert_eq!((e.loc.line, e.field.as_str()), (13, "spec.rules[].backendRefs[].port"));
        let e = objects(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  listeners: []\n",
        )
        .unwrap_err();
        assert!(e.message.contains("gatewayClassName"), "{e}");
        let e =
            objects(&ROUTE.replace("  - name: public\n    namespace: infra\n", "  - namespace: infra\n")).unwrap_err();
        assert_eq!(e.field, "spec.parentRefs[].name");
    }
}
