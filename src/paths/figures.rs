//! The sourced stage figures of `profiles/kubernetes-paths.toml`, embedded in the binary.

use crate::time::Micros;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The data file's name for `graceline profiles`.
pub const NAME: &str = "kubernetes-paths";

/// The data file's text (printed by `graceline profiles kubernetes-paths`).
pub const TEXT: &str = include_str!("../../profiles/kubernetes-paths.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageRaw {
    label: String,
    lo: String,
    hi: String,
    unverified: bool,
    /// The evidence class (issue 16's stages carry it; see [`EVIDENCE`]).
    evidence: Option<String>,
    source: String,
}

/// A path family: the stages it chains (`a|b` one of several by mode, `pod:`/`lb:` computed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyRaw {
    #[allow(dead_code)]
    label: String,
    stages: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRaw {
    #[allow(dead_code)]
    description: String,
    stages: BTreeMap<String, StageRaw>,
    #[serde(default)]
    families: BTreeMap<String, FamilyRaw>,
    sources: BTreeMap<String, String>,
}

/// The evidence classes a stage's figure can have: a project's documentation states it, a default
/// or constant read in its source code, reports from users, or a placeholder with a reason.
pub const EVIDENCE: [&str; 4] = ["documented", "code", "field", "unverified"];

/// One stage of a path: a sourced range of durations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Stable id (the key in the data file).
    pub id: String,
    /// What happens in this stage.
    pub label: String,
    /// Shortest duration.
    pub lo: Micros,
    /// Longest duration (the worst case takes it).
    pub hi: Micros,
    /// True when no primary source confirms the figure.
    pub unverified: bool,
    /// Where the figure comes from.
    pub source: String,
}

/// Every stage and general source of the data file.
#[derive(Debug)]
pub struct Figures {
    stages: BTreeMap<String, Stage>,
    evidence: BTreeMap<String, String>,
    /// General facts with their sources.
    pub sources: BTreeMap<String, String>,
}

fn parse(text: &str) -> Result<Figures, String> {
    let raw: FileRaw = toml::from_str(text).map_err(|e| format!("kubernetes-paths.toml: {e}"))?;
    let mut stages = BTreeMap::new();
    let mut evidence = BTreeMap::new();
    for (id, s) in raw.stages {
        if let Some(e) = &s.evidence {
            if !EVIDENCE.contains(&e.as_str()) {
                return Err(format!(
                    "stages.{id}.evidence: \"{e}\" is not one of {}",
                    EVIDENCE.join(", ")
                ));
            }
            if (e == "unverified") != s.unverified {
                return Err(format!(
                    "stages.{id}: evidence \"{e}\" contradicts unverified = {}",
                    s.unverified
                ));
            }
            evidence.insert(id.clone(), e.clone());
        }
        let lo = Micros::parse(&s.lo).map_err(|e| format!("stages.{id}.lo: {e}"))?;
        let hi = Micros::parse(&s.hi).map_err(|e| format!("stages.{id}.hi: {e}"))?;
        if lo > hi {
            return Err(format!("stages.{id}: lo {lo} > hi {hi}"));
        }
        stages.insert(
            id.clone(),
            Stage {
                id,
                label: s.label,
                lo,
                hi,
                unverified: s.unverified,
                source: s.source,
            },
        );
    }
    for (name, f) in &raw.families {
        for entry in &f.stages {
            if entry.starts_with("pod:") || entry.starts_with("lb:") {
                continue;
            }
            if let Some(id) = entry.split('|').find(|id| !stages.contains_key(*id)) {
                return Err(format!("families.{name}: unknown stage {id}"));
            }
        }
    }
    Ok(Figures {
        stages,
        evidence,
        sources: raw.sources,
    })
}

/// The embedded figures (parsed once; the data file is checked by a unit test).
pub fn figures() -> &'static Figures {
    static F: OnceLock<Figures> = OnceLock::new();
    F.get_or_init(|| {
        parse(TEXT).unwrap_or_else(|e| Figures {
            stages: BTreeMap::from([(
                "invalid".to_string(),
                Stage {
                    id: "invalid".to_string(),
                    label: e,
                    lo: Micros::ZERO,
                    hi: Micros::ZERO,
                    unverified: true,
                    source: String::new(),
                },
            )]),
            evidence: BTreeMap::new(),
            sources: BTreeMap::new(),
        })
    })
}

impl Figures {
    /// The stage with this id; an unknown id is a programming error caught by the unit tests.
    pub fn stage(&self, id: &str) -> Stage {
        self.stages.get(id).cloned().unwrap_or_else(|| Stage {
            id: id.to_string(),
            label: format!("unknown stage {id}"),
            lo: Micros::ZERO,
            hi: Micros::ZERO,
            unverified: true,
            source: "missing from profiles/kubernetes-paths.toml".to_string(),
        })
    }

    /// Every stage in id order.
    pub fn all(&self) -> impl Iterator<Item = &Stage> {
        self.stages.values()
    }

    /// True when the data file has a stage with this id.
    pub fn has(&self, id: &str) -> bool {
        self.stages.contains_key(id)
    }

    /// The evidence class of a stage, when the data file states one.
    pub fn evidence(&self, id: &str) -> Option<&str> {
        self.evidence.get(id).map(String::as_str)
    }

    /// A general source by key (empty when absent).
    pub fn source(&self, key: &str) -> &str {
        self.sources.get(key).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_every_stage_has_a_source() {
        let f = parse(TEXT).unwrap();
        assert!(f.all().count() >= 15);
        for s in f.all() {
            assert!(!s.source.is_empty() && s.lo <= s.hi, "{s:?}");
        }
        assert_eq!(f.stage("kube-proxy-sync-iptables").hi, Micros::from_secs(1));
        assert_eq!(f.stage("nlb-deregistration-lag").hi, Micros::from_secs(180));
        assert!(f.stage("neg-detach").unverified);
        assert!(parse("description = \"x\"\n[stages.a]\nlabel = \"a\"\nlo = \"2s\"\nhi = \"1s\"\nunverified = false\nsource = \"s\"\n[sources]\n").is_err());
    }

    #[test]
    fn issue_16_stages_carry_an_evidence_class_and_families_name_known_stages() {
        let f = parse(TEXT).unwrap();
        for id in [
            "envoy-gateway-translate",
            "contour-endpoints",
            "xds-push",
            "istiod-debounce",
            "istiod-push",
            "istio-termination-drain",
            "cilium-service-update",
            "coredns-cache",
            "dns-client-cache",
            "kubelet-status-update",
            "pleg-relist",
            "metallb-l2-failover",
            "metallb-bgp-withdraw",
        ] {
            let e = f.evidence(id).unwrap_or_else(|| panic!("{id} has no evidence class"));
            assert_eq!(e == "unverified", f.stage(id).unverified, "{id}");
        }
        assert_eq!(f.stage("istiod-debounce").lo, Micros::from_millis(100));
        assert_eq!(f.stage("istiod-debounce").hi, Micros::from_secs(10));
        let base = "description = \"x\"\n[stages.a]\nlabel = \"a\"\nlo = \"1s\"\nhi = \"1s\"\nunverified = false\nsource = \"s\"\n";
        assert!(parse(&format!("{base}evidence = \"rumour\"\n[sources]\n")).is_err());
        assert!(parse(&format!("{base}evidence = \"unverified\"\n[sources]\n")).is_err());
        assert!(parse(&format!(
            "{base}[families.f]\nlabel = \"f\"\nstages = [\"a|b\"]\n[sources]\n"
        ))
        .is_err());
        assert!(parse(&format!(
            "{base}[families.f]\nlabel = \"f\"\nstages = [\"a\", \"pod:x\"]\n[sources]\n"
        ))
        .is_ok());
    }
}
