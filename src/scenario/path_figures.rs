//! The sourced stage figures of `profiles/kubernetes-paths.toml`, embedded in the binary.

use crate::profiles::Evidence;
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
    /// What kind of evidence the range rests on (default: documented, or none when unverified).
    evidence: Option<Evidence>,
    /// The largest credible figure beyond `hi` (the tail tier), with what it rests on.
    tail: Option<String>,
    tail_source: Option<String>,
    source: String,
}

/// A path family: the stages it chains (`a|b` one of several by mode, `pod:`/`lb:` computed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyRaw {
    #[allow(dead_code)]
    label: String,
    stages: Vec<String>,
    /// The family's data-file stages by evidence class (checked against the stages at load).
    evidence: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRaw {
    #[allow(dead_code)]
    description: String,
    stages: BTreeMap<String, StageRaw>,
    /// Every path family with the stages it chains (`graceline profiles kubernetes-paths`).
    #[serde(default)]
    families: BTreeMap<String, FamilyRaw>,
    sources: BTreeMap<String, String>,
}

/// One stage of a path: a sourced range of durations, in two tiers. The typical tier `[lo, hi]`
/// is what the verdict (GL030/GL031) and the exact worst case take; the tail tier reaches `tail`
/// (the largest credible figure, its confound stated in `tail_source`) and raises a warning
/// (GL040) of its own, never the error; a path's tail takes one stage at the top of its tail at a
/// time (see `Path::worst_tail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Stable id (the key in the data file).
    pub id: String,
    /// What happens in this stage.
    pub label: String,
    /// Shortest duration.
    pub lo: Micros,
    /// Longest typical duration (the worst case takes it).
    pub hi: Micros,
    /// True when no primary source confirms the figure.
    pub unverified: bool,
    /// What kind of evidence the typical range rests on.
    pub evidence: Evidence,
    /// The tail tier's top, when the evidence has one beyond `hi`.
    pub tail: Option<Micros>,
    /// What the tail rests on and its confounds.
    pub tail_source: Option<String>,
    /// Where the figure comes from.
    pub source: String,
}

impl Stage {
    /// A stage computed rather than read from the data file (no tail).
    pub fn computed(id: &str, label: String, lo: Micros, hi: Micros, evidence: Evidence, source: String) -> Stage {
        Stage {
            id: id.to_string(),
            label,
            lo,
            hi,
            unverified: evidence == Evidence::None,
            evidence,
            tail: None,
            tail_source: None,
            source,
        }
    }

    /// The top of the tail tier (`hi` when there is no tail).
    pub fn tail_hi(&self) -> Micros {
        self.tail.map_or(self.hi, |t| t.max(self.hi))
    }

    /// The evidence in a word or two for tables and explain (`unverified`, `field`, ...).
    pub fn evidence_word(&self) -> &'static str {
        match self.evidence {
            Evidence::None => "unverified",
            Evidence::Field => "field",
            Evidence::Vendor => "vendor",
            Evidence::Documented => "documented",
            Evidence::Code => "code",
        }
    }
}

/// Every stage and general source of the data file.
#[derive(Debug)]
pub struct Figures {
    stages: BTreeMap<String, Stage>,
    /// General facts with their sources.
    pub sources: BTreeMap<String, String>,
}

fn parse(text: &str) -> Result<Figures, String> {
    let raw: FileRaw = toml::from_str(text).map_err(|e| format!("kubernetes-paths.toml: {e}"))?;
    let mut stages = BTreeMap::new();
    for (id, s) in raw.stages {
        let lo = Micros::parse(&s.lo).map_err(|e| format!("stages.{id}.lo: {e}"))?;
        let hi = Micros::parse(&s.hi).map_err(|e| format!("stages.{id}.hi: {e}"))?;
        if lo > hi {
            return Err(format!("stages.{id}: lo {lo} > hi {hi}"));
        }
        let tail = s
            .tail
            .as_deref()
            .map(|t| Micros::parse(t).map_err(|e| format!("stages.{id}.tail: {e}")))
            .transpose()?;
        if tail.is_some_and(|t| t < hi) {
            return Err(format!("stages.{id}: tail below hi {hi}"));
        }
        if tail.is_some() != s.tail_source.is_some() {
            return Err(format!(
                "stages.{id}: a tail needs its tail_source and the other way round"
            ));
        }
        let evidence = s.evidence.unwrap_or(if s.unverified {
            Evidence::None
        } else {
            Evidence::Documented
        });
        stages.insert(
            id.clone(),
            Stage {
                id,
                label: s.label,
                lo,
                hi,
                unverified: evidence == Evidence::None,
                evidence,
                tail,
                tail_source: s.tail_source,
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
        let want = family_evidence(&f.stages, &stages);
        if f.evidence != want {
            return Err(format!(
                "families.{name}.evidence: the stages say {want:?}, the file says {:?}",
                f.evidence
            ));
        }
    }
    Ok(Figures {
        stages,
        sources: raw.sources,
    })
}

/// A family's data-file stages grouped by the evidence class of their figures, in chain order.
fn family_evidence(chain: &[String], stages: &BTreeMap<String, Stage>) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in chain.iter().filter(|e| !e.starts_with("pod:") && !e.starts_with("lb:")) {
        for id in entry.split('|') {
            let class = match stages[id].evidence {
                Evidence::Code => "code",
                Evidence::Documented => "documented",
                Evidence::Field => "field",
                Evidence::Vendor => "vendor",
                Evidence::None => "none",
            };
            by.entry(class.to_string()).or_default().push(id.to_string());
        }
    }
    by
}

/// The embedded figures (parsed once; the data file is checked by a unit test).
pub fn figures() -> &'static Figures {
    static F: OnceLock<Figures> = OnceLock::new();
    F.get_or_init(|| {
        parse(TEXT).unwrap_or_else(|e| Figures {
            stages: BTreeMap::from([(
                "invalid".to_string(),
                Stage::computed("invalid", e, Micros::ZERO, Micros::ZERO, Evidence::None, String::new()),
            )]),
            sources: BTreeMap::new(),
        })
    })
}

impl Figures {
    /// The stage with this id; an unknown id is a programming error caught by the unit tests.
    pub fn stage(&self, id: &str) -> Stage {
        self.stages.get(id).cloned().unwrap_or_else(|| {
            Stage::computed(
                id,
                format!("unknown stage {id}"),
                Micros::ZERO,
                Micros::ZERO,
                Evidence::None,
                "missing from profiles/kubernetes-paths.toml".to_string(),
            )
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
    fn issue_16_stages_carry_their_evidence_and_families_name_known_stages() {
        let f = parse(TEXT).unwrap();
        for (id, e) in [
            ("envoy-gateway-translate", Evidence::None),
            ("contour-endpoints", Evidence::Code),
            ("xds-push", Evidence::None),
            ("istiod-debounce", Evidence::Code),
            ("istiod-push", Evidence::None),
            ("istio-termination-drain", Evidence::Documented),
            ("cilium-service-update", Evidence::None),
            ("coredns-cache", Evidence::Documented),
            ("dns-client-cache", Evidence::Documented),
            ("kubelet-status-update", Evidence::None),
            ("pleg-relist", Evidence::Code),
            ("metallb-l2-failover", Evidence::Documented),
            ("metallb-bgp-withdraw", Evidence::None),
        ] {
            assert_eq!(f.stage(id).evidence, e, "{id}");
        }
        assert_eq!(f.stage("istiod-debounce").lo, Micros::from_millis(100));
        assert_eq!(f.stage("istiod-debounce").hi, Micros::from_secs(10));
        let base = "description = \"x\"\n[stages.a]\nlabel = \"a\"\nlo = \"1s\"\nhi = \"1s\"\nunverified = false\nsource = \"s\"\n";
        assert!(parse(&format!(
            "{base}[families.f]\nlabel = \"f\"\nstages = [\"a|b\"]\nevidence = {{ documented = [\"a\"] }}\n[sources]\n"
        ))
        .is_err_and(|e| e == "families.f: unknown stage b"));
        assert!(parse(&format!(
            "{base}[families.f]\nlabel = \"f\"\nstages = [\"a\", \"pod:x\"]\nevidence = {{ documented = [\"a\"] }}\n[sources]\n"
        ))
        .is_ok());
        // A family's evidence summary that disagrees with its stages is refused.
        let err = parse(&format!(
            "{base}[families.f]\nlabel = \"f\"\nstages = [\"a\"]\nevidence = {{ code = [\"a\"] }}\n[sources]\n"
        ))
        .unwrap_err();
        assert!(err.starts_with("families.f.evidence:"), "{err}");
    }
}
