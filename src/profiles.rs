//! Built-in profiles: the TOML files under `profiles/`, embedded so the binary works anywhere.

use crate::provider::{LbRaw, Limits, Protocol};
use crate::timeline::ServerRaw;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The [`Builtin`] of the server profile `profiles/<name>.toml`.
macro_rules! server {
    ($name:literal) => {
        Builtin {
            name: $name,
            text: include_str!(concat!("../profiles/", $name, ".toml")),
        }
    };
}

pub use crate::provider::Builtin;

/// The server profiles, in the order `graceline profiles` lists them (after the load balancers).
const SERVERS: &[Builtin] = &[
    server!("kube-apiserver"),
    server!("kube-apiserver-openshift"),
    server!("kube-apiserver-openshift-aws"),
    server!("kube-apiserver-openshift-gcp"),
    server!("kube-apiserver-openshift-sno"),
    server!("kube-apiserver-pre-1.18"),
    server!("app-stops-at-sigterm"),
];

/// Every built-in profile: each provider's own (in [`crate::provider::PROVIDERS`] order), then the
/// server profiles.
pub static BUILTIN: std::sync::LazyLock<Vec<Builtin>> = std::sync::LazyLock::new(|| {
    crate::provider::PROVIDERS
        .iter()
        .flat_map(|p| p.profiles().iter().copied())
        .chain(SERVERS.iter().copied())
        .collect()
});

/// A load-balancer profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LbProfile {
    /// Profile name.
    pub name: String,
    /// Always `lb`.
    pub kind: String,
    /// Provider family whose rules apply, as its provider names it ([`crate::provider::Provider::family`]).
    pub family: String,
    /// Product within the family (e.g. `nlb`).
    #[serde(default)]
    pub variant: String,
    /// One-line description.
    pub description: String,
    /// The delay from "marked down" to "no new requests", in tiers of evidence (`[propagation]`).
    pub propagation: crate::provider::tiers::Tiers,
    /// Settings whose default here is an assumption rather than a documented or measured fact
    /// (named as assumed wherever they change a figure).
    #[serde(default)]
    pub assumed: Vec<String>,
    /// Default settings.
    pub settings: LbRaw,
    /// Defaults that depend on the health-check protocol (`tcp`, `http`, `https`), over `settings`.
    #[serde(default)]
    pub protocol_defaults: BTreeMap<String, LbRaw>,
    /// Accepted ranges.
    #[serde(default)]
    pub limits: Limits,
    /// Where each number comes from.
    pub sources: BTreeMap<String, String>,
}

pub use crate::provider::tiers::Evidence;

impl LbProfile {
    /// The default settings for a check of `protocol` (else the profile's own protocol): the
    /// protocol's defaults over the general ones. Every reader starts from these.
    pub fn settings_for(&self, protocol: Option<Protocol>) -> LbRaw {
        let p = protocol.or_else(|| self.settings.protocol.as_ref().map(|p| *p.get_ref()));
        let key = match p {
            Some(Protocol::Tcp) => "tcp",
            Some(Protocol::Http) => "http",
            Some(Protocol::Https) => "https",
            None => return self.settings.clone(),
        };
        self.protocol_defaults
            .get(key)
            .map_or_else(|| self.settings.clone(), |d| d.over(&self.settings))
    }
}

/// A server profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerProfile {
    /// Profile name.
    pub name: String,
    /// Always `server`.
    pub kind: String,
    /// One-line description.
    pub description: String,
    /// Default settings.
    pub settings: ServerRaw,
    /// Where each number comes from.
    pub sources: BTreeMap<String, String>,
}

/// A parsed built-in profile.
#[derive(Debug, Clone)]
pub enum Profile {
    /// Load balancer.
    Lb(Box<LbProfile>),
    /// Server.
    Server(Box<ServerProfile>),
}

#[derive(Deserialize)]
struct Head {
    kind: String,
}

/// Finds a built-in profile by name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTIN.iter().find(|b| b.name == name)
}

impl Builtin {
    /// Parses the embedded text (the test suite proves every built-in parses).
    pub fn parse(&self) -> Result<Profile, String> {
        let head: Head = toml::from_str(self.text).map_err(|e| format!("profile {}: {e}", self.name))?;
        match head.kind.as_str() {
            "lb" => toml::from_str(self.text).map(|p| Profile::Lb(Box::new(p))),
            "server" => toml::from_str(self.text).map(|p| Profile::Server(Box::new(p))),
            other => return Err(format!("profile {}: unknown kind {other}", self.name)),
        }
        .map_err(|e| format!("profile {}: {e}", self.name))
    }

    /// `lb` or `server`.
    pub fn kind(&self) -> &'static str {
        match self.parse() {
            Ok(Profile::Lb(_)) => "lb",
            _ => "server",
        }
    }

    /// The profile's one-line description.
    pub fn description(&self) -> String {
        match self.parse() {
            Ok(Profile::Lb(p)) => p.description,
            Ok(Profile::Server(p)) => p.description,
            Err(e) => e,
        }
    }
}

/// What to say when `name` is not a built-in profile of `kind` (`lb` or `server`).
fn not_found(name: &str, kind: &str, found: Option<Result<Profile, String>>) -> String {
    let what = |k: &str| if k == "lb" { "load-balancer" } else { "server" };
    match found {
        Some(Err(e)) => e,
        Some(Ok(_)) => {
            let other = if kind == "lb" { "server" } else { "lb" };
            format!(
                "\"{name}\" is a {} profile; {} profiles: {}",
                what(other),
                what(kind),
                names(kind).join(", ")
            )
        }
        None => format!(
            "unknown {} profile \"{name}\"; built-in: {}",
            what(kind),
            names(kind).join(", ")
        ),
    }
}

/// The built-in load-balancer profile `name`, or a message naming the ones that exist.
pub fn lb(name: &str) -> Result<Box<LbProfile>, String> {
    match find(name).map(|b| b.parse()) {
        Some(Ok(Profile::Lb(p))) => typed(p),
        other => Err(not_found(name, "lb", other)),
    }
}

/// The profile once every setting of its `[settings]` and `[protocol_defaults.*]` that is not a
/// shared one is its provider's own and has that setting's type (the readers rely on it).
fn typed(p: Box<LbProfile>) -> Result<Box<LbProfile>, String> {
    let Some(provider) = crate::provider::of(&p.family, &p.variant) else {
        return Ok(p);
    };
    let tables = std::iter::once(("settings".to_string(), &p.settings)).chain(
        p.protocol_defaults
            .iter()
            .map(|(k, t)| (format!("protocol_defaults.{k}"), t)),
    );
    for (table, raw) in tables {
        if let Err(e) = raw.own_typed(provider) {
            return Err(format!("profile {}: {table}.{}: {}", p.name, e.key, e.message));
        }
    }
    Ok(p)
}

/// The built-in server profile `name`, or a message naming the ones that exist.
pub fn server(name: &str) -> Result<Box<ServerProfile>, String> {
    match find(name).map(|b| b.parse()) {
        Some(Ok(Profile::Server(p))) => Ok(p),
        other => Err(not_found(name, "server", other)),
    }
}

/// The built-in load-balancer profiles whose health check the user configures and can point at
/// `/readyz` (a `path` setting): not a passive load balancer (nginx open source) nor one whose
/// check is fixed in code (Talos KubePrism, the k3s agent load balancer). The ones whose check
/// settings can be compared and tuned.
pub fn tunable_lb_names() -> Vec<&'static str> {
    names("lb")
        .into_iter()
        .filter(|n| {
            lb(n).ok().is_some_and(|p| {
                crate::provider::of(&p.family, &p.variant).is_some_and(|q| {
                    q.passive(&crate::provider::LbSettings::default()).is_none() && q.knobs().contains(&"path")
                })
            })
        })
        .collect()
}

/// Names of the built-in profiles of one kind.
pub fn names(kind: &str) -> Vec<&'static str> {
    BUILTIN.iter().filter(|b| b.kind() == kind).map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_names_itself() {
        for b in BUILTIN.iter() {
            match b.parse().unwrap() {
                Profile::Lb(p) => assert_eq!(p.name, b.name),
                Profile::Server(p) => assert_eq!(p.name, b.name),
            }
        }
        assert_eq!(names("lb").len(), 10);
        assert_eq!(names("server").len(), 7);
    }

    #[test]
    fn every_lb_profile_names_exactly_one_provider() {
        use crate::provider::{of, PROVIDERS};
        for name in names("lb") {
            let p = lb(name).unwrap();
            let found = PROVIDERS
                .iter()
                .filter(|q| q.family() == p.family && q.variant() == p.variant)
                .count();
            assert_eq!(found, 1, "{name}");
            assert!(of(&p.family, &p.variant).is_some(), "{name}");
        }
        assert!(of("aws", "glb").is_none());
    }

    #[test]
    fn every_profile_setting_is_shared_or_its_provider_s_own() {
        for name in names("lb") {
            let p = lb(name).unwrap();
            let q = crate::provider::of(&p.family, &p.variant).unwrap();
            for raw in std::iter::once(&p.settings).chain(p.protocol_defaults.values()) {
                let typed = raw.own_typed(q).unwrap();
                assert_eq!(typed.len(), raw.own.len(), "{name}");
                for (key, _, _) in typed {
                    assert!(q.own().knobs.iter().any(|k| k.name == key), "{name}: {key}");
                }
            }
        }
    }

    #[test]
    fn every_provider_embeds_the_profiles_that_name_it() {
        use crate::provider::PROVIDERS;
        for q in PROVIDERS {
            assert!(!q.profiles().is_empty(), "{q:?}");
            for b in q.profiles() {
                let p = lb(b.name).unwrap();
                assert_eq!(
                    (p.family.as_str(), p.variant.as_str()),
                    (q.family(), q.variant()),
                    "{}",
                    b.name
                );
            }
        }
    }
}
