//! How the user steers the Kubernetes paths beyond the objects: the `[paths]` table of
//! graceline.toml and of scenario files, and the `--termination` / `--dataplane` flags.
//!
//! ```toml
//! [paths]
//! termination = "eviction"          # deletion (default) | eviction | hard-eviction | node-shutdown | liveness-restart | oom-kill
//! dataplane = "cilium"              # kube-proxy (default) | cilium
//! istio_native_sidecars = true      # Istio injects istio-proxy as a native sidecar (Istio >= 1.27 default)
//!
//! [paths.stages]                    # measured figures replace the built-in ones
//! rule-programming = ["0s", "5s"]   # a range
//! istiod-debounce = "2s"            # or one value
//! "path:kube-proxy" = ["1s", "3s"]  # a whole path measured end to end (graceline calibrate --path)
//! ```
//!
//! Precedence: a flag over a scenario file over graceline.toml; two scenario files of one check
//! that set the same thing differently are an error. An unknown stage id, a computed stage (its
//! figures come from the inputs) and a range whose low end is above its high end are errors at
//! load (exit 2) with file, line and column. Every replaced stage says where its figure was
//! written (explain, JSON `stages[].source`).

use super::path_figures::{figures, Stage};
use crate::error::{Doc, InputError, Loc};
use crate::profiles::Evidence;
use crate::scenario::toml_error;
use crate::time::Micros;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// What ends the pod: a deletion (rollout, scale-down, `kubectl delete`, `kubectl drain` and every
/// API-initiated eviction delete the pod), or a termination the kubelet starts on its own, where
/// the pod object stays and its endpoints follow its readiness only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Termination {
    /// The pod is deleted (the default).
    Deletion,
    /// Node-pressure eviction at a soft threshold (grace: min(evictionMaxPodGracePeriod, the pod's)).
    Eviction,
    /// Node-pressure eviction at a hard threshold (grace 1 s).
    HardEviction,
    /// Graceful node shutdown (shutdownGracePeriod; every probe stops).
    NodeShutdown,
    /// A failed liveness probe restarts the container.
    LivenessRestart,
    /// The kernel's OOM killer: SIGKILL at once.
    OomKill,
}

impl Termination {
    /// Every value, in the order the README lists them.
    pub const ALL: [Termination; 6] = [
        Termination::Deletion,
        Termination::Eviction,
        Termination::HardEviction,
        Termination::NodeShutdown,
        Termination::LivenessRestart,
        Termination::OomKill,
    ];

    /// The name in settings and output.
    pub fn name(self) -> &'static str {
        match self {
            Termination::Deletion => "deletion",
            Termination::Eviction => "eviction",
            Termination::HardEviction => "hard-eviction",
            Termination::NodeShutdown => "node-shutdown",
            Termination::LivenessRestart => "liveness-restart",
            Termination::OomKill => "oom-kill",
        }
    }

    fn parse(s: &str) -> Option<Termination> {
        Termination::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// What programs Services on the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataplane {
    /// kube-proxy (iptables, IPVS or nftables; the default).
    KubeProxy,
    /// Cilium's eBPF kube-proxy replacement.
    Cilium,
}

impl Dataplane {
    /// The name in settings and output.
    pub fn name(self) -> &'static str {
        match self {
            Dataplane::KubeProxy => "kube-proxy",
            Dataplane::Cilium => "cilium",
        }
    }
}

/// A setting and where it was written (`graceline.toml:3:15`, `--termination`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub at: String,
}

/// A measured figure that replaces a stage's built-in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOverride {
    /// The stage id.
    pub id: String,
    /// Shortest.
    pub lo: Micros,
    /// Longest.
    pub hi: Micros,
    /// Where it was written.
    pub at: Loc,
}

/// The `[paths]` settings of one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathSettings {
    /// What ends the pod.
    pub termination: Option<Setting<Termination>>,
    /// What programs Services.
    pub dataplane: Option<Setting<Dataplane>>,
    /// Istio injects native sidecars.
    pub istio_native_sidecars: Option<Setting<bool>>,
    /// Measured stage figures.
    pub stages: Vec<StageOverride>,
}

/// Stage ids whose figures come from the inputs, not from the data file.
pub const COMPUTED_STAGES: [&str; 5] = [
    "lb-health-check",
    "until-readiness-fails",
    "until-exit",
    "readiness-probe",
    "sidecar-exit",
];

/// The path families whose whole chain can be replaced by one end-to-end measurement
/// (`"path:<family>"` in `[paths.stages]`, what `graceline calibrate --path` measures): their
/// stages do not depend on the pod or on a load balancer's model.
pub const MEASURABLE_FAMILIES: [&str; 11] = [
    "kube-proxy",
    "cilium",
    "lb-controller",
    "gke-neg",
    "ingress-nginx",
    "gateway-envoy-gateway",
    "gateway-contour",
    "gateway-istio",
    "gateway-gke",
    "istio-mesh",
    "headless-dns",
];

/// The prefix of a whole-path measurement's id.
pub const PATH_PREFIX: &str = "path:";

/// A value or a `[lo, hi]` range of durations, checked after parsing so an error is located at it.
#[derive(Debug, Clone, Copy)]
struct RangeRaw(Micros, Micros);

impl<'de> Deserialize<'de> for RangeRaw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RangeRaw;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a duration such as \"2s\" or a range such as [\"0s\", \"5s\"]")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RangeRaw, E> {
                let m = Micros::parse(v).map_err(E::custom)?;
                Ok(RangeRaw(m, m))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<RangeRaw, A::Error> {
                let len = || serde::de::Error::custom("a stage range has two durations, e.g. [\"0s\", \"5s\"]");
                let lo: Micros = seq.next_element()?.ok_or_else(len)?;
                let hi: Micros = seq.next_element()?.ok_or_else(len)?;
                if seq.next_element::<Micros>()?.is_some() {
                    return Err(len());
                }
                Ok(RangeRaw(lo, hi))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsRaw {
    termination: Option<Spanned<String>>,
    dataplane: Option<Spanned<String>>,
    istio_native_sidecars: Option<Spanned<bool>>,
    #[serde(default)]
    stages: BTreeMap<String, Spanned<RangeRaw>>,
}

/// The whole file, of which only `[paths]` is read here (the scenario and project loaders read
/// the rest and accept `paths` as a known table).
#[derive(Debug, Deserialize)]
struct FileRaw {
    paths: Option<PathsRaw>,
}

fn one_of<T: Copy>(
    doc: &Doc,
    v: &Spanned<String>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<Setting<T>, InputError> {
    let at = doc.loc(v.span().start);
    match parse(v.get_ref()) {
        Some(value) => Ok(Setting {
            value,
            at: at.to_string(),
        }),
        None => Err(InputError::new(
            at,
            field,
            format!("\"{}\" is not one of {}", v.get_ref(), names.join(", ")),
        )),
    }
}

impl PathSettings {
    /// The `[paths]` table of a TOML file (graceline.toml or a scenario), `None` without one.
    pub fn from_toml(file: &str, text: &str) -> Result<Option<PathSettings>, InputError> {
        let doc = Doc { file, text };
        let raw: FileRaw = toml::from_str(text).map_err(|e| toml_error(&doc, e))?;
        let Some(p) = raw.paths else { return Ok(None) };
        let mut out = PathSettings::default();
        if let Some(v) = &p.termination {
            let names: Vec<&str> = Termination::ALL.iter().map(|t| t.name()).collect();
            out.termination = Some(one_of(&doc, v, "paths.termination", Termination::parse, &names)?);
        }
        if let Some(v) = &p.dataplane {
            out.dataplane = Some(one_of(
                &doc,
                v,
                "paths.dataplane",
                |s| match s {
                    "kube-proxy" => Some(Dataplane::KubeProxy),
                    "cilium" => Some(Dataplane::Cilium),
                    _ => None,
                },
                &["kube-proxy", "cilium"],
            )?);
        }
        if let Some(v) = &p.istio_native_sidecars {
            out.istio_native_sidecars = Some(Setting {
                value: *v.get_ref(),
                at: doc.loc(v.span().start).to_string(),
            });
        }
        for (id, r) in &p.stages {
            let at = doc.loc(r.span().start);
            let field = format!("paths.stages.{id}");
            check_id(id).map_err(|m| InputError::new(at.clone(), &field, m))?;
            let RangeRaw(lo, hi) = *r.get_ref();
            if lo > hi {
                return Err(InputError::new(
                    at,
                    field,
                    format!("range [\"{lo}\", \"{hi}\"] is reversed: low must be <= high"),
                ));
            }
            out.stages.push(StageOverride {
                id: id.clone(),
                lo,
                hi,
                at,
            });
        }
        Ok(Some(out))
    }

    /// Lays `over` on these settings: what `over` sets wins (a flag over a file).
    pub fn overlay(&mut self, over: PathSettings) {
        if over.termination.is_some() {
            self.termination = over.termination;
        }
        if over.dataplane.is_some() {
            self.dataplane = over.dataplane;
        }
        if over.istio_native_sidecars.is_some() {
            self.istio_native_sidecars = over.istio_native_sidecars;
        }
        for s in over.stages {
            self.stages.retain(|x| x.id != s.id);
            self.stages.push(s);
        }
    }

    /// Joins the settings of another file of the same rank (two scenario files of one check):
    /// the same setting given two different values is an error at the second.
    pub fn join(&mut self, other: PathSettings) -> Result<(), String> {
        fn same<T: PartialEq + Clone + std::fmt::Debug>(
            a: &mut Option<Setting<T>>,
            b: Option<Setting<T>>,
            what: &str,
        ) -> Result<(), String> {
            match (a.as_ref(), b) {
                (Some(x), Some(y)) if x.value != y.value => Err(format!(
                    "{}: paths.{what} contradicts the value at {} ({:?} vs {:?}); set it once",
                    y.at, x.at, y.value, x.value
                )),
                (None, Some(y)) => {
                    *a = Some(y);
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        same(&mut self.termination, other.termination, "termination")?;
        same(&mut self.dataplane, other.dataplane, "dataplane")?;
        same(
            &mut self.istio_native_sidecars,
            other.istio_native_sidecars,
            "istio_native_sidecars",
        )?;
        for s in other.stages {
            match self.stages.iter().find(|x| x.id == s.id) {
                Some(x) if (x.lo, x.hi) != (s.lo, s.hi) => {
                    return Err(format!(
                        "{}: paths.stages.{} contradicts the figure at {}; set it once",
                        s.at, s.id, x.at
                    ))
                }
                Some(_) => {}
                None => self.stages.push(s),
            }
        }
        Ok(())
    }

    /// The termination the paths are judged for (deletion when unset).
    pub fn termination(&self) -> Termination {
        self.termination.as_ref().map_or(Termination::Deletion, |s| s.value)
    }

    /// Replaces the figures of every overridden stage in `stages` with the measured ones.
    pub fn apply(&self, stages: &mut [Stage]) {
        for s in stages.iter_mut() {
            if let Some(o) = self.stages.iter().find(|o| o.id == s.id) {
                *s = overridden(s, o);
            }
        }
    }
}

/// A stage with a measured figure in place of its built-in one (typical range and tail alike:
/// the measurement is the evidence now, `field`), saying where it was written.
pub fn overridden(s: &Stage, o: &StageOverride) -> Stage {
    Stage::computed(
        &s.id,
        s.label.clone(),
        o.lo,
        o.hi,
        Evidence::Field,
        format!(
            "measured: [paths.stages] {} = {}..{} at {} (replaces the built-in {}..{}{}: {})",
            o.id,
            o.lo,
            o.hi,
            o.at,
            s.lo,
            s.hi,
            s.tail.map_or(String::new(), |t| format!(", tail {t}")),
            s.source
        ),
    )
}

/// Whether a stage id can be overridden: a stage of the data file, not one computed from inputs.
fn check_id(id: &str) -> Result<(), String> {
    if let Some(family) = id.strip_prefix(PATH_PREFIX) {
        if MEASURABLE_FAMILIES.contains(&family) {
            return Ok(());
        }
        return Err(format!(
            "\"{id}\": a whole path can be measured for {} (the other families depend on the pod or a load balancer's model: measure their stages)",
            MEASURABLE_FAMILIES.join(", ")
        ));
    }
    if COMPUTED_STAGES.contains(&id) {
        return Err(format!(
            "stage {id} is computed from the inputs (the pod's probe and shutdown, the load balancer's model); it has no figure to replace"
        ));
    }
    let f = figures();
    if f.has(id) {
        return Ok(());
    }
    let known: Vec<&str> = f.all().map(|s| s.id.as_str()).collect();
    let near = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(id, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 5))
        .min();
    Err(format!(
        "unknown stage id \"{id}\"{}; stage ids: {} (graceline profiles kubernetes-paths)",
        near.map_or_else(String::new, |(_, k)| format!(" (did you mean \"{k}\"?)")),
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paths_table_reads_values_ranges_and_where_they_are() {
        let text = "[[check]]\nlbs = [\"x\"]\n\n[paths]\ntermination = \"eviction\"\ndataplane = \"cilium\"\n\n[paths.stages]\nrule-programming = [\"0s\", \"5s\"]\nistiod-debounce = \"2s\"\n";
        let s = PathSettings::from_toml("graceline.toml", text).unwrap().unwrap();
        assert_eq!(s.termination(), Termination::Eviction);
        assert_eq!(s.termination.as_ref().unwrap().at, "graceline.toml:5:15");
        assert_eq!(s.dataplane.as_ref().unwrap().value, Dataplane::Cilium);
        let rp = s.stages.iter().find(|o| o.id == "rule-programming").unwrap();
        assert_eq!((rp.lo, rp.hi, rp.at.line), (Micros::ZERO, Micros::from_secs(5), 9));
        let mut stages = vec![figures().stage("rule-programming"), figures().stage("pod-watch")];
        s.apply(&mut stages);
        assert_eq!(stages[0].hi, Micros::from_secs(5));
        assert!(!stages[0].unverified);
        assert!(stages[0].source.contains("graceline.toml:9:20"), "{}", stages[0].source);
        assert_eq!(stages[1], figures().stage("pod-watch"));
        assert!(PathSettings::from_toml("g.toml", "[[check]]\nlbs = []\n")
            .unwrap()
            .is_none());
    }

    #[test]
    fn unknown_ids_computed_stages_reversed_ranges_and_bad_values_are_located_errors() {
        let e = PathSettings::from_toml("g.toml", "[paths.stages]\nrule-programing = \"1s\"\n").unwrap_err();
        assert_eq!((e.loc.line, e.field.as_str()), (2, "paths.stages.rule-programing"));
        assert!(e.message.contains("did you mean \"rule-programming\""), "{e}");
        let e = PathSettings::from_toml("g.toml", "[paths.stages]\nlb-health-check = \"1s\"\n").unwrap_err();
        assert!(e.message.contains("computed from the inputs"), "{e}");
        let e =
            PathSettings::from_toml("g.toml", "[paths]\n\n[paths.stages]\npod-watch = [\"3s\", \"1s\"]\n").unwrap_err();
        assert_eq!((e.loc.line, e.loc.column), (4, 13));
        assert!(e.message.contains("reversed"), "{e}");
        let e = PathSettings::from_toml("g.toml", "[paths.stages]\npod-watch = [\"-1s\", \"1s\"]\n").unwrap_err();
        assert!(e.message.contains("negative"), "{e}");
        let e = PathSettings::from_toml("g.toml", "[paths.stages]\npod-watch = [\"1s\"]\n").unwrap_err();
        assert!(e.message.contains("two durations"), "{e}");
        let e = PathSettings::from_toml("g.toml", "[paths]\ntermination = \"reboot\"\n").unwrap_err();
        assert!(e.message.contains("deletion, eviction, hard-eviction"), "{e}");
        let e = PathSettings::from_toml("g.toml", "[paths]\nterminatoin = \"eviction\"\n").unwrap_err();
        assert_eq!(e.loc.line, 2);
        let e = PathSettings::from_toml("g.toml", "[paths.stages]\n\"path:metallb-l2\" = \"1s\"\n").unwrap_err();
        assert!(e.message.contains("depend on the pod"), "{e}");
    }

    #[test]
    fn precedence_and_contradictions() {
        let a = PathSettings::from_toml(
            "a.toml",
            "[paths]\ntermination = \"eviction\"\n[paths.stages]\npod-watch = \"1s\"\n",
        )
        .unwrap()
        .unwrap();
        let b = PathSettings::from_toml(
            "b.toml",
            "[paths]\ntermination = \"oom-kill\"\n[paths.stages]\npod-watch = \"2s\"\n",
        )
        .unwrap()
        .unwrap();
        let mut joined = a.clone();
        let e = joined.join(b.clone()).unwrap_err();
        assert!(e.starts_with("b.toml:2:15: paths.termination contradicts"), "{e}");
        let mut over = a.clone();
        over.overlay(b);
        assert_eq!(over.termination(), Termination::OomKill);
        assert_eq!(over.stages.len(), 1);
        assert_eq!(over.stages[0].lo, Micros::from_secs(2));
        let mut same = a.clone();
        assert!(same.join(a).is_ok());
    }
}
