//! Load-balancer health-check models: one module per provider family, each holding its scheduling
//! rules and their sources; the numbers (defaults, accepted ranges) live in `profiles/*.toml`.
//!
//! Everything the rest of graceline asks of a provider goes through the [`Provider`] trait; the
//! registry [`PROVIDERS`] is the only place that lists them, and [`of`] finds the one a profile
//! names by its `family` and `variant` (plain names the profile TOML states).
//!
//! A new provider is one module, one profile TOML and one line in [`PROVIDERS`]: the module
//! implements the trait, embeds its profile `profiles/<name>.toml` ([`Provider::profiles`]; the
//! built-in profile list is the providers' profiles in registry order) and declares the settings
//! only it has with `own_knobs!` (its `Knobs` struct; [`Provider::own`] hands it to the generic
//! code). [`LbSettings`] holds what every provider's model reads (interval, timeout, thresholds,
//! protocol, path, port, matcher, probers, propagation, latency) plus the provider's own settings
//! in a provider-neutral carrier ([`LbSettings::own`]), each value with its location: a scenario's
//! `[[lb]]` table and a profile's `[settings]` keep every other key as written ([`LbRaw::own`])
//! until the chosen provider types it, so an unknown key is refused with that provider's own list.
//! Each provider interprets the settings (knobs, validation, probe model, recommendation grid,
//! wording); readers build the shared settings and the provider's `Knobs` (`Knobs::onto`).

/// The [`Builtin`] of `profiles/<name>.toml`, embedded so the binary works anywhere.
macro_rules! builtin {
    ($name:literal) => {
        $crate::provider::Builtin {
            name: $name,
            text: include_str!(concat!("../../profiles/", $name, ".toml")),
        }
    };
}

/// Declares a provider module's own settings: `pub struct Knobs` (each field an
/// `Option<Located<T>>`), `Knobs::OWN` (names, checks and typing for the generic code), `Knobs::of`
/// (read from an [`LbSettings`]) and `Knobs::put` (write into one). A field may name its
/// [`Check`] and report [`Row`] in brackets (`inter: Micros [Positive, Interval]`; without:
/// `[None, Other]`).
macro_rules! own_knobs {
    (@knob $name:ident) => {
        $crate::provider::OwnKnob { name: stringify!($name), check: $crate::provider::Check::None, row: $crate::provider::Row::Other }
    };
    (@knob $name:ident $check:ident $row:ident) => {
        $crate::provider::OwnKnob { name: stringify!($name), check: $crate::provider::Check::$check, row: $crate::provider::Row::$row }
    };
    ($(#[$doc:meta])* pub struct Knobs { $($(#[$fdoc:meta])* $name:ident : $ty:ty $([$check:ident, $row:ident])?),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Knobs {
            $($(#[$fdoc])* pub $name: Option<$crate::provider::Located<$ty>>,)*
        }

        impl Knobs {
            /// These settings as the generic code sees them: names, checks and typing.
            pub const OWN: $crate::provider::OwnKnobs = $crate::provider::OwnKnobs {
                knobs: &[$(own_knobs!(@knob $name $($check $row)?)),*],
                type_value: |key, v| match key {
                    $(stringify!($name) => Some(<$ty as $crate::provider::OwnType>::from_toml(v)),)*
                    _ => None,
                },
            };

            /// This provider's settings, read from the carrier of `s`.
            pub fn of(s: &$crate::provider::LbSettings) -> Self {
                Knobs {
                    $($name: s.own_as(stringify!($name)),)*
                }
            }

            /// `s` with the settings set here (a reader's shared settings plus this provider's own).
            pub fn onto(self, mut s: $crate::provider::LbSettings) -> $crate::provider::LbSettings {
                self.put(&mut s);
                s
            }

            /// Writes the settings set here into `s` (replacing those of the same name).
            pub fn put(self, s: &mut $crate::provider::LbSettings) {
                $(if let Some(v) = self.$name {
                    s.set_own(stringify!($name), v);
                })*
            }
        }
    };
}

pub mod annotations;
pub mod aws;
pub mod azure;
pub mod gcp;
pub mod haproxy;
pub mod k3s;
pub mod latency;
pub mod matcher;
pub mod nginx;
pub mod talos;
pub mod tiers;

use crate::error::{Doc, InputError, Loc};
use crate::time::Micros;
use crate::timeline::ProbeView;
use latency::LatencyRaw;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// One embedded profile file (`profiles/<name>.toml`): the providers embed their own, the server
/// profiles are listed in `profiles.rs`.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Profile name.
    pub name: &'static str,
    /// The file's text, sources included.
    pub text: &'static str,
}

/// What graceline knows about one kind of load balancer, and the only place it is said: the
/// settings it takes, what its API refuses, how it schedules probes, which settings a
/// recommendation may propose and in what words, when it fails open or resets connections, and
/// what clients see of a refused request. Each family module implements it (AWS once per ELB
/// product); [`PROVIDERS`] lists them and [`of`] finds the one a profile names.
pub trait Provider: Sync + std::fmt::Debug {
    /// The family whose profiles name this provider (`family = "aws"` in its profile TOML).
    fn family(&self) -> &'static str;

    /// The product within the family, as profiles name it (`nlb`, `alb`, `clb`); empty when the
    /// family has one.
    fn variant(&self) -> &'static str {
        ""
    }

    /// The built-in profiles of this provider (`profiles/<name>.toml`), in the order `graceline
    /// profiles` lists them.
    fn profiles(&self) -> &'static [Builtin];

    /// The settings this provider owns beside the shared ones: its module's `Knobs::OWN`.
    fn own(&self) -> OwnKnobs {
        OwnKnobs::NONE
    }

    /// The provider's own settings whose profile default shapes the verdict, named as assumed
    /// when the input left them to the profile (HAProxy's `inter`, `fall`, `rise`).
    fn verdict_knobs(&self) -> &'static [&'static str] {
        &[]
    }

    /// Setting names an `[[lb]]` table of this provider accepts (besides `name` and `profile`),
    /// in the order its messages list them: shared settings and its own `Knobs` (a unit test
    /// holds the list and the struct together).
    fn knobs(&self) -> &'static [&'static str];

    /// Settings beyond the check knobs: the target layout that decides fail-open (ELBv2 target
    /// count, NLB zones and cross-zone) and what HAProxy does with a refused connection.
    fn layout_knobs(&self) -> &'static [&'static str] {
        &[]
    }

    /// The setting that holds the check interval, in the provider's words.
    fn interval_key(&self) -> &'static str {
        "interval"
    }

    /// The check interval when the provider holds it in a setting of its own (HAProxy's `inter`,
    /// GCP's `check_interval`: an own setting listed beside `interval`).
    fn own_interval(&self, s: &LbSettings) -> Option<Located<Micros>> {
        let key = self.interval_key();
        self.own()
            .knobs
            .iter()
            .any(|k| k.name == key && k.row == Row::Interval)
            .then(|| s.own_as(key))
            .flatten()
    }

    /// The setting that holds the consecutive failures that mark a server down.
    fn threshold_key(&self) -> &'static str {
        "unhealthy_threshold"
    }

    /// Refuses what the provider's API refuses before a model is built (field names without the
    /// input's prefix). By default: the cloud APIs' whole-second durations and the profile's
    /// success-code range.
    fn validate(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Result<(), InputError> {
        whole_seconds(s, profile, self.interval_key())?;
        matcher_codes(s, limits, profile)
    }

    /// Settings the provider derives from others once validated (the NLB's prober count follows
    /// its zones).
    fn settle(&self, s: LbSettings) -> LbSettings {
        s
    }

    /// The probe model of validated settings; `None` for a load balancer without active health
    /// checks (it only learns of a server's state from the requests it passes).
    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError>;

    /// The values the profile's `[limits]` refuse (rule GL005).
    fn limit_violations(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Vec<LimitViolation> {
        check_limits(s, limits, profile, "timeout", self.interval_key())
    }

    /// Every provider-valid setting of the checks a recommendation may propose.
    fn grid(&self, s: &LbSettings, limits: &Limits) -> Grid;

    /// `model` with the setting `st` applied.
    fn apply(&self, model: ProbeModel, st: &Setting) -> ProbeModel {
        apply_setting(model, st)
    }

    /// The probe timeout when a fixed-rate check's interval becomes `interval`: the current
    /// `timeout`, shortened to fit the provider's timeout/interval relation.
    fn timeout_at_interval(&self, _s: &LbSettings, limits: &Limits, timeout: Micros, interval: Micros) -> Micros {
        if limits.timeout_vs_interval == Some(Relation::LessThan) && timeout >= interval {
            interval - Micros::from_secs(1)
        } else {
            timeout.min(interval)
        }
    }

    /// A proposed interval (with the timeout it implies) in a finding's words.
    fn interval_words(&self, interval: Micros, timeout: Micros) -> String {
        format!("{interval} (timeout {timeout})")
    }

    /// A setting in the provider's own setting names, e.g. `interval = 10s, timeout = 10s,
    /// unhealthy_threshold = 2`.
    fn describe(&self, st: &Setting) -> String;

    /// A setting's values under the provider's setting names, in the order reports list them.
    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)>;

    /// The setting under which the load balancer resets established connections when a target
    /// turns unhealthy (rule GL006), if it is on.
    fn resets_connections(&self, _s: &LbSettings) -> Option<Located<bool>> {
        None
    }

    /// The cloud whose Kubernetes Service annotations set this load balancer's check (the reader
    /// reads them, a fix writes them); `None` when a Service does not set it.
    fn service_annotations(&self) -> Option<annotations::Cloud> {
        None
    }

    /// A target group whose every target is unhealthy routes to all of them (rule GL015).
    fn target_group_fails_open(&self) -> bool {
        false
    }

    /// With cross-zone load balancing off, health thresholds apply per zone, so a zone whose
    /// only target is unhealthy fails open inside that zone (rule GL016).
    fn zone_fails_open(&self) -> bool {
        false
    }

    /// What happens when every backend is unhealthy, in words.
    fn all_unhealthy(&self) -> &'static str;

    /// What a client sees of a new request routed to the closed port, with `backends` servers
    /// behind the load balancer (0: unknown). By default it is refused at once.
    fn refusal(&self, _s: &LbSettings, _backends: u32) -> Refusal {
        Refusal {
            failing_share: 1.0,
            after: Micros::ZERO,
            summary: "each new request routed after E3 is refused at once (connection refused or reset)".to_string(),
            fix: None,
        }
    }

    /// Whether a `port` setting means the check goes to another port than the traffic (HAProxy's
    /// `check port N` / `port N`: another listener or process), rather than the health-check port
    /// a cloud load balancer is given.
    fn port_is_another_listener(&self) -> bool {
        false
    }

    /// For a load balancer without active health checks (it learns of a server's state only
    /// from the requests it passes): what it does instead, in one line. Its report replaces the
    /// detection figures with "routed to until the server is back" and its own findings.
    fn passive(&self, _s: &LbSettings) -> Option<PassiveView> {
        None
    }

    /// Values the provider assumes for these settings beyond the profile's (setting, value, why):
    /// HAProxy's version when its check timer depends on it and nothing named one.
    fn assumed(&self, _s: &LbSettings) -> Vec<(String, String, String)> {
        Vec::new()
    }

    /// Established keep-alive connections through an L4 load balancer, in one line ending with
    /// `until_server` (how the server closes them) where that applies; `None` for proxies.
    fn established_connections(&self, _s: &LbSettings, _until_server: &str) -> Option<String> {
        None
    }
}

/// Every provider graceline models: a new provider is one module, one profile TOML and one line
/// here.
pub static PROVIDERS: [&dyn Provider; 10] = [
    &aws::NLB,
    &aws::ALB,
    &aws::CLB,
    &gcp::GCP,
    &azure::AZURE,
    &haproxy::HAPROXY,
    &nginx::NGINX,
    &nginx::NGINX_PLUS,
    &talos::KUBEPRISM,
    &k3s::AGENT_LB,
];

/// The provider a profile's `family` and `variant` name, if graceline models it.
pub fn of(family: &str, variant: &str) -> Option<&'static dyn Provider> {
    PROVIDERS
        .iter()
        .copied()
        .find(|p| p.family() == family && p.variant() == variant)
}

/// What a load balancer without active checks does instead ([`Provider::passive`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassiveView {
    /// What it is, in a few words (`passive checks only (nginx open source)`).
    pub label: &'static str,
    /// What new connections meet after E3 and what there is to tune, in one line.
    pub words: String,
}

/// One value of a check setting, for the recommendation's JSON (durations in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobValue {
    /// A duration.
    Duration(Micros),
    /// A count.
    Count(u32),
}

/// What a client sees of a new request the load balancer routes to the closed port (after E3).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Share of such requests that fail (0 when they are re-sent to another server).
    pub failing_share: f64,
    /// How long such a request takes before the client sees the error (or the success).
    pub after: Micros,
    /// One line: what happens and why.
    pub summary: String,
    /// The change that spares the clients, in words, with where it is set when the input set it
    /// (`None`: at the load balancer); `None` when no setting helps.
    pub fix: Option<(&'static str, Option<Loc>)>,
}

/// One provider-valid setting of the checks (the knobs that decide detection and probe load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Setting {
    /// Start-to-start period (fixed rate) or HAProxy `inter`.
    pub interval: Micros,
    /// Probe timeout (derived for Azure, `timeout check` or `inter` for HAProxy).
    pub timeout: Micros,
    /// Shortest a silent probe can take (below `timeout` only for HAProxy 2.6's check timer).
    pub timeout_min: Micros,
    /// Consecutive failures that mark the server down.
    pub threshold: u32,
    /// HAProxy `fastinter` (the interval itself for fixed-rate providers).
    pub fastinter: Micros,
}

/// The settings a recommendation evaluates, with how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// Every setting to evaluate.
    pub settings: Vec<Setting>,
    /// How the grid was chosen, in words (for reports).
    pub description: String,
}

/// `model` with the setting `st` applied: threshold, timeouts and the schedule's intervals.
pub fn apply_setting(mut m: ProbeModel, st: &Setting) -> ProbeModel {
    m.threshold = st.threshold;
    m.view.timeout = st.timeout;
    m.view.timeout_min = st.timeout_min;
    m.schedule = match m.schedule {
        Schedule::FixedRate { .. } => Schedule::FixedRate { interval: st.interval },
        Schedule::CompletionRelative {
            downinter, spread_pct, ..
        } => Schedule::CompletionRelative {
            inter: st.interval,
            fastinter: st.fastinter,
            downinter,
            spread_pct,
        },
    };
    m
}

/// The whole seconds of a duration range of the profile's `[limits]` (else `fallback`).
fn secs_range(limits: &Limits, key: &str, fallback: [Micros; 2]) -> std::ops::RangeInclusive<i64> {
    let [lo, hi] = limits.durations.get(key).copied().unwrap_or(fallback);
    (lo.0 + 999_999) / 1_000_000..=hi.0 / 1_000_000
}

/// A count range of the profile's `[limits]` (else `fallback`).
fn count_range(limits: &Limits, key: &str, fallback: [u32; 2]) -> std::ops::RangeInclusive<u32> {
    let [lo, hi] = limits.counts.get(key).copied().unwrap_or(fallback);
    lo..=hi
}

/// The fixed-rate grid of AWS and GCP: every whole-second interval (`ikey`), timeout and
/// unhealthy threshold within the profile's `[limits]` and its timeout/interval relation.
fn fixed_rate_grid(limits: &Limits, ikey: &str) -> Grid {
    let mut settings = Vec::new();
    let wide = [Micros::from_secs(1), Micros::from_secs(300)];
    let (ir, tr) = (secs_range(limits, ikey, wide), secs_range(limits, "timeout", wide));
    let ur = count_range(limits, "unhealthy_threshold", [1, 10]);
    for i in ir.clone() {
        for t in tr.clone() {
            let ok = match limits.timeout_vs_interval {
                Some(Relation::LessThan) => t < i,
                Some(Relation::AtMost) => t <= i,
                None => true,
            };
            if !ok {
                continue;
            }
            for u in ur.clone() {
                settings.push(Setting {
                    interval: Micros::from_secs(i),
                    timeout: Micros::from_secs(t),
                    timeout_min: Micros::from_secs(t),
                    threshold: u,
                    fastinter: Micros::from_secs(i),
                });
            }
        }
    }
    let rel = match limits.timeout_vs_interval {
        Some(Relation::LessThan) => ", timeout < interval",
        Some(Relation::AtMost) => ", timeout <= interval",
        None => "",
    };
    let description = format!(
        "every whole-second {ikey} {}-{} s, timeout {}-{} s{rel}, unhealthy_threshold {}-{}",
        ir.start(),
        ir.end(),
        tr.start(),
        tr.end(),
        ur.start(),
        ur.end()
    );
    Grid { settings, description }
}

/// AWS, GCP and Azure take their interval and timeout as whole seconds (`HealthCheckIntervalSeconds`,
/// `checkIntervalSec`, `intervalInSeconds`: integers in each API), so `"10.5s"` is refused as they
/// would refuse it.
fn whole_seconds(s: &LbSettings, profile: &str, interval_key: &str) -> Result<(), InputError> {
    let mut keys = vec!["interval"];
    if interval_key != "interval" {
        keys.push(interval_key);
    }
    keys.push("timeout");
    for name in keys {
        if let Some(v) = s.duration(name).filter(|v| v.value.0 % 1_000_000 != 0) {
            return Err(InputError::new(
                v.loc.clone(),
                name,
                format!(
                    "{} is not a whole number of seconds; {profile} takes whole seconds (e.g. \"{}s\")",
                    v.value,
                    v.value.0 / 1_000_000
                ),
            ));
        }
    }
    Ok(())
}

/// A success matcher's codes must lie in the profile's range (ALB 200-499, NLB 200-599).
fn matcher_codes(s: &LbSettings, limits: &Limits, profile: &str) -> Result<(), InputError> {
    let (Some(m), Some([lo, hi])) = (&s.matcher, limits.matcher_codes) else {
        return Ok(());
    };
    if let Some(&(a, b)) = m.value.codes_outside(lo, hi).first() {
        let got = if a == b { a.to_string() } else { format!("{a}-{b}") };
        return Err(InputError::new(
            m.loc.clone(),
            "matcher",
            format!("{profile} accepts success codes from {lo} to {hi}, got {got}"),
        ));
    }
    Ok(())
}

/// Fixed-rate settings in the provider's words: `interval = 10s, timeout = 10s, unhealthy_threshold = 2`.
fn fixed_rate_words(ikey: &str, st: &Setting) -> String {
    format!(
        "{ikey} = {}, timeout = {}, unhealthy_threshold = {}",
        st.interval, st.timeout, st.threshold
    )
}

/// Fixed-rate settings' values under the provider's names.
fn fixed_rate_values(ikey: &'static str, st: &Setting) -> Vec<(&'static str, KnobValue)> {
    vec![
        (ikey, KnobValue::Duration(st.interval)),
        ("timeout", KnobValue::Duration(st.timeout)),
        ("unhealthy_threshold", KnobValue::Count(st.threshold)),
    ]
}

/// The protocol of the settings (TCP unless given).
pub fn protocol_of(s: &LbSettings) -> Protocol {
    s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value)
}

/// Health-check protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP connect only: sees the listener, never readiness.
    Tcp,
    /// HTTP request.
    Http,
    /// HTTPS request.
    Https,
}

/// When probes start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum Schedule {
    /// A probe starts every `interval` whatever the previous one did (AWS, GCP, Azure).
    FixedRate {
        /// Start-to-start period.
        interval: Micros,
    },
    /// The next check starts an interval after the previous one finished (HAProxy).
    CompletionRelative {
        /// Interval while fully up.
        inter: Micros,
        /// Interval while transitioning (after a failure while up).
        fastinter: Micros,
        /// Interval while fully down.
        downinter: Micros,
        /// `spread-checks` percentage: each wait is jittered by ±this share of the interval.
        spread_pct: u32,
    },
}

impl Schedule {
    /// Largest jitter HAProxy adds to a wait of `interval`: `interval_ms * spread / 100` whole ms
    /// (src/check.c `process_chk_conn()`); zero for fixed-rate schedules.
    pub fn jitter_bound(&self, interval: Micros) -> Micros {
        match *self {
            Schedule::FixedRate { .. } => Micros::ZERO,
            Schedule::CompletionRelative { spread_pct, .. } => {
                Micros::from_millis(interval.0 / 1_000 * i64::from(spread_pct) / 100)
            }
        }
    }
}

/// Everything the simulator and the exact analysis need to know about one LB's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeModel {
    /// When probes start.
    pub schedule: Schedule,
    /// What a probe can see and its effective timeout.
    pub view: ProbeView,
    /// Consecutive failures that mark the server down.
    pub threshold: u32,
    /// Consecutive passes that bring it back up.
    pub rise: u32,
    /// Independent probers (LB nodes, GCP probers), each with its own phase.
    pub probers: u32,
    /// From "marked down" to "no new request routed": a range where the evidence is one. The exact
    /// worst case takes `hi`, the best case `lo`; the simulator runs with `hi`.
    pub propagation: Propagation,
    /// An answered failure (a non-matching status, a refused or reset connection) marks the
    /// server down at once; `threshold` counts only timeouts (Azure Load Balancer).
    pub answered_marks_down: bool,
}

/// The delay from "marked down" until no new request is routed, as a closed range `[lo, hi]`
/// (`propagation_delay = "35s"` or `propagation_delay = ["20s", "40s"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Propagation {
    /// Shortest delay the evidence allows (the best case uses it).
    pub lo: Micros,
    /// Longest delay the evidence allows (the worst case uses it).
    pub hi: Micros,
}

impl Propagation {
    /// A single known delay.
    pub const fn fixed(d: Micros) -> Self {
        Propagation { lo: d, hi: d }
    }

    /// True when both ends are zero (no propagation modelled).
    pub fn is_zero(&self) -> bool {
        self.hi == Micros::ZERO
    }
}

impl std::fmt::Display for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.hi)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

impl<'de> Deserialize<'de> for Propagation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Propagation;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a duration such as \"35s\" or a range such as [\"20s\", \"40s\"]")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Propagation, E> {
                Micros::parse(v).map(Propagation::fixed).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Propagation, A::Error> {
                let len_err =
                    || serde::de::Error::custom("a propagation range has two durations, e.g. [\"20s\", \"40s\"]");
                let lo: Micros = seq.next_element()?.ok_or_else(len_err)?;
                let hi: Micros = seq.next_element()?.ok_or_else(len_err)?;
                if seq.next_element::<Micros>()?.is_some() {
                    return Err(len_err());
                }
                if lo > hi {
                    return Err(serde::de::Error::custom(format!(
                        "range [\"{lo}\", \"{hi}\"] is reversed: low must be <= high"
                    )));
                }
                Ok(Propagation { lo, hi })
            }
        }
        d.deserialize_any(V)
    }
}

/// The propagation range the settings give (none: zero).
pub fn propagation_of(s: &LbSettings) -> Propagation {
    s.propagation_delay.as_ref().map_or_else(Default::default, |v| v.value)
}

impl ProbeModel {
    /// Probes per second this LB sends to one backend (all probers).
    pub fn probes_per_second(&self, response_time: Micros) -> f64 {
        let period = match self.schedule {
            Schedule::FixedRate { interval } => interval,
            Schedule::CompletionRelative { inter, .. } => inter + response_time,
        };
        f64::from(self.probers) / period.as_secs_f64()
    }
}

/// How many independent probers check each backend: `probers = 3`, or `probers = [2, 6]` when it
/// varies (`simulate` draws a count uniformly from the range per restart; everything else uses the
/// largest, which bounds the probe load and never shortens the worst case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProberCount {
    /// Fewest probers.
    pub lo: u32,
    /// Most probers.
    pub hi: u32,
}

impl<'de> Deserialize<'de> for ProberCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ProberCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a count such as 3 or a range such as [2, 6]")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ProberCount, E> {
                let n = u32::try_from(v)
                    .map_err(|_| E::custom(format!("invalid count {v}: must be between 1 and 10000")))?;
                Ok(ProberCount { lo: n, hi: n })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ProberCount, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ProberCount, A::Error> {
                let len_err = || serde::de::Error::custom("a range of probers has two counts, e.g. [2, 6]");
                let lo: u32 = seq.next_element()?.ok_or_else(len_err)?;
                let hi: u32 = seq.next_element()?.ok_or_else(len_err)?;
                if seq.next_element::<u32>()?.is_some() {
                    return Err(len_err());
                }
                if lo > hi {
                    return Err(serde::de::Error::custom(format!("range [{lo}, {hi}] is reversed")));
                }
                Ok(ProberCount { lo, hi })
            }
        }
        d.deserialize_any(V)
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where the user set it; for profile defaults, the `profile = ...` line that chose them.
    pub loc: Loc,
    /// True when the value is a profile default rather than written by the user.
    pub from_profile: bool,
}

macro_rules! lb_fields {
    ($($name:ident : $ty:ty),* $(,)?) => {
        /// An `[[lb]]` table (or a profile's `[settings]`) as written, with byte spans: the shared
        /// settings typed, every other key kept as written for the provider to type
        /// ([`LbSettings::overlay`]) or refuse with its own list of settings.
        #[derive(Debug, Clone, Default)]
        pub struct LbRaw {
            /// Name of this LB in reports.
            pub name: Option<Spanned<String>>,
            /// Built-in profile the settings start from.
            pub profile: Option<Spanned<String>>,
            $(#[allow(missing_docs)] pub $name: Option<Spanned<$ty>>,)*
            /// Every other key: a provider's own settings (or a key no provider takes).
            pub own: BTreeMap<String, Spanned<toml::Value>>,
        }

        impl<'de> Deserialize<'de> for LbRaw {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = LbRaw;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        write!(f, "a table of load-balancer settings")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<LbRaw, A::Error> {
                        let mut raw = LbRaw::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                "name" => raw.name = Some(map.next_value()?),
                                "profile" => raw.profile = Some(map.next_value()?),
                                $(stringify!($name) => raw.$name = Some(map.next_value()?),)*
                                _ => {
                                    let v = map.next_value()?;
                                    raw.own.insert(key, v);
                                }
                            }
                        }
                        Ok(raw)
                    }
                }
                d.deserialize_map(V)
            }
        }

        /// Merged LB settings (user over profile), each with its location: the settings every
        /// provider's model reads, and the provider's own ones in a provider-neutral carrier
        /// (`own`; each provider module's `Knobs` reads and writes them).
        #[derive(Debug, Clone, Default)]
        pub struct LbSettings {
            $(#[allow(missing_docs)] pub $name: Option<Located<$ty>>,)*
            /// The provider's own settings by name, typed by its `Knobs` (`own_knobs!`).
            pub own: BTreeMap<&'static str, Located<Own>>,
        }

        impl LbSettings {
            /// The shared settings' names, as `[[lb]]` tables write them.
            pub const SHARED: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Overlays the user's table on a profile's defaults; `chosen` is where the profile was
            /// named. The provider types its own settings; a value of the wrong type is an error.
            pub fn overlay(
                provider: &dyn Provider,
                profile: &LbRaw,
                user: &LbRaw,
                udoc: &Doc,
                chosen: &Loc,
            ) -> Result<Self, OwnTypeError> {
                let mut s = LbSettings {
                    $($name: pick(&profile.$name, &user.$name, udoc, chosen),)*
                    own: BTreeMap::new(),
                };
                for (key, span, value) in user.own_typed(provider)? {
                    s.own.insert(key, Located { value, loc: udoc.loc(span.start), from_profile: false });
                }
                Ok(s.with_own_defaults(provider, profile, chosen))
            }

            /// Fills every setting the input left unset from a profile's defaults, located at `chosen`.
            pub fn with_defaults(self, provider: &dyn Provider, profile: &LbRaw, chosen: &Loc) -> Self {
                LbSettings {
                    $($name: self.$name.or_else(|| profile.$name.as_ref().map(|p| Located {
                        value: p.get_ref().clone(),
                        loc: chosen.clone(),
                        from_profile: true,
                    })),)*
                    own: self.own,
                }
                .with_own_defaults(provider, profile, chosen)
            }

            /// Sets what `user` has (`--set`), each value keeping the location of the one it
            /// replaces (where the change goes), or `at` when there was none.
            pub fn override_with(&mut self, provider: &dyn Provider, user: &LbRaw, at: &Loc) -> Result<(), OwnTypeError> {
                $(if let Some(v) = &user.$name {
                    let loc = self.$name.as_ref().map_or_else(|| at.clone(), |o| o.loc.clone());
                    self.$name = Some(Located { value: v.get_ref().clone(), loc, from_profile: false });
                })*
                for (key, _, value) in user.own_typed(provider)? {
                    let loc = self.own.get(key).map_or_else(|| at.clone(), |o| o.loc.clone());
                    self.own.insert(key, Located { value, loc, from_profile: false });
                }
                Ok(())
            }

            /// True when `key` holds the profile's default rather than a value the input gave.
            pub fn present_from_profile(&self, key: &str) -> bool {
                match key {
                    $(stringify!($name) => self.$name.as_ref().is_some_and(|v| v.from_profile),)*
                    _ => self.own.get(key).is_some_and(|v| v.from_profile),
                }
            }
        }

        impl LbRaw {
            /// This table's settings, each one it lacks taken from `base`.
            pub fn over(&self, base: &LbRaw) -> LbRaw {
                let mut own = base.own.clone();
                own.extend(self.own.clone());
                LbRaw {
                    name: self.name.clone().or_else(|| base.name.clone()),
                    profile: self.profile.clone().or_else(|| base.profile.clone()),
                    $($name: self.$name.clone().or_else(|| base.$name.clone()),)*
                    own,
                }
            }

            /// Names and spans of the settings present in this table, in the order written.
            pub fn present(&self) -> Vec<(&str, std::ops::Range<usize>)> {
                let mut out = Vec::new();
                $(if let Some(v) = &self.$name { out.push((stringify!($name), v.span())); })*
                out.extend(self.own.iter().map(|(k, v)| (k.as_str(), v.span())));
                out.sort_by_key(|(_, span)| span.start);
                out
            }
        }
    };
}

impl LbSettings {
    /// Every own setting of `provider` this lacks, from `profile` (validated when the profile
    /// was read: `profiles::lb`), located at `chosen`.
    fn with_own_defaults(mut self, provider: &dyn Provider, profile: &LbRaw, chosen: &Loc) -> Self {
        for (key, _, value) in profile.own_typed(provider).unwrap_or_default() {
            self.own.entry(key).or_insert_with(|| Located {
                value,
                loc: chosen.clone(),
                from_profile: true,
            });
        }
        self
    }

    /// A duration setting by name, shared (`interval`, `timeout`) or the provider's own.
    pub fn duration(&self, key: &str) -> Option<Located<Micros>> {
        match key {
            "interval" => self.interval.clone(),
            "timeout" => self.timeout.clone(),
            _ => self.own_as(key),
        }
    }

    /// A count setting by name, shared (`unhealthy_threshold`, `healthy_threshold`) or the
    /// provider's own.
    pub fn count(&self, key: &str) -> Option<Located<u32>> {
        match key {
            "unhealthy_threshold" => self.unhealthy_threshold.clone(),
            "healthy_threshold" => self.healthy_threshold.clone(),
            _ => self.own_as(key),
        }
    }

    /// The provider's own setting `key` as its type, if set.
    pub fn own_as<T: OwnType>(&self, key: &str) -> Option<Located<T>> {
        let v = self.own.get(key)?;
        Some(Located {
            value: T::from_own(&v.value)?,
            loc: v.loc.clone(),
            from_profile: v.from_profile,
        })
    }

    /// Sets the provider's own setting `key`.
    pub fn set_own<T: OwnType>(&mut self, key: &'static str, v: Located<T>) {
        self.own.insert(
            key,
            Located {
                value: v.value.into_own(),
                loc: v.loc,
                from_profile: v.from_profile,
            },
        );
    }
}

impl LbRaw {
    /// The keys of this table that are `provider`'s own settings, typed, in the order written; an
    /// error for a value of the wrong type or a key that is neither shared nor the provider's.
    pub fn own_typed(&self, provider: &dyn Provider) -> Result<Vec<OwnValue>, OwnTypeError> {
        let own = provider.own();
        let mut out = Vec::new();
        for (key, v) in &self.own {
            let fail = |message: String| OwnTypeError {
                key: key.clone(),
                span: v.span(),
                message,
            };
            let Some(name) = own.knobs.iter().map(|k| k.name).find(|n| n == key) else {
                return Err(fail(format!("is not a setting of the {} provider", provider.family())));
            };
            let value = (own.type_value)(name, v.get_ref().clone())
                .ok_or_else(|| fail(format!("is not a setting of the {} provider", provider.family())))?
                .map_err(|e| fail(e.message().to_string()))?;
            out.push((name, v.span(), value));
        }
        out.sort_by_key(|(_, span, _)| span.start);
        Ok(out)
    }
}

/// One own setting of a raw table, typed: its name, the value's byte span and the value.
pub type OwnValue = (&'static str, std::ops::Range<usize>, Own);

/// A provider's own setting whose value it refuses ([`LbRaw::own_typed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTypeError {
    /// The key as written.
    pub key: String,
    /// The value's byte span in its file.
    pub span: std::ops::Range<usize>,
    /// What is wrong (a serde type error's message, or an unknown key).
    pub message: String,
}

/// The value of a provider's own setting in the provider-neutral carrier ([`LbSettings::own`]);
/// the provider's `Knobs` gives each its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Own {
    /// A duration (`"5s"`).
    Duration(Micros),
    /// A count.
    Count(u32),
    /// On or off.
    Flag(bool),
    /// A word or list in the provider's terms (`next_upstream`, `balancer`, `version`).
    Text(String),
}

impl std::fmt::Display for Own {
    /// As reports show it: durations and counts as written, words in backquotes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Own::Duration(d) => write!(f, "{d}"),
            Own::Count(n) => write!(f, "{n}"),
            Own::Flag(b) => write!(f, "{b}"),
            Own::Text(t) => write!(f, "`{t}`"),
        }
    }
}

/// A type a provider's own setting may have: how it is read from TOML and kept in [`Own`].
pub trait OwnType: Sized + serde::de::DeserializeOwned {
    /// Into the carrier.
    fn into_own(self) -> Own;
    /// Out of the carrier (`None`: another type, which the provider's own typing never stores).
    fn from_own(o: &Own) -> Option<Self>;
    /// A raw TOML value typed as `Self`, into the carrier.
    fn from_toml(v: toml::Value) -> Result<Own, toml::de::Error> {
        v.try_into::<Self>().map(Self::into_own)
    }
}

macro_rules! own_type {
    ($ty:ty, $variant:ident) => {
        impl OwnType for $ty {
            fn into_own(self) -> Own {
                Own::$variant(self)
            }
            fn from_own(o: &Own) -> Option<Self> {
                match o {
                    Own::$variant(v) => Some(v.clone()),
                    _ => None,
                }
            }
        }
    };
}
own_type!(Micros, Duration);
own_type!(u32, Count);
own_type!(bool, Flag);
own_type!(String, Text);

/// How `scenario::validate_values` checks a provider's own setting beside the shared ones (the
/// provider's `validate` refuses what its API refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Nothing beyond its type.
    None,
    /// A duration above zero and within the input limit.
    Positive,
    /// A count from 1 up to the count limit.
    AtLeastOne,
    /// A count up to the count limit.
    Bounded,
}

/// Where a report's settings table lists a provider's own setting: after the shared setting of
/// the same role (the check interval, the probe timeout, the thresholds down and up), after all
/// of them, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// After `interval`.
    Interval,
    /// After `timeout`.
    Timeout,
    /// After `unhealthy_threshold`.
    Down,
    /// After `healthy_threshold`.
    Up,
    /// After every shared setting.
    Other,
    /// Not listed (layout and version settings; their effects are listed where they apply).
    Hidden,
}

/// One own setting of a provider, as its `Knobs` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnKnob {
    /// Its name in `[[lb]]` tables, profiles and `--set`.
    pub name: &'static str,
    /// How it is checked beside the shared settings.
    pub check: Check,
    /// Where a report lists it.
    pub row: Row,
}

/// A provider's own settings as the generic code sees them (its `Knobs::OWN`, from
/// `own_knobs!`): their names with their checks and rows, and how a raw value is typed.
#[derive(Debug, Clone, Copy)]
pub struct OwnKnobs {
    /// In declaration order.
    pub knobs: &'static [OwnKnob],
    /// The raw value of `key` typed (`None`: not one of these settings).
    pub type_value: fn(&str, toml::Value) -> Option<Result<Own, toml::de::Error>>,
}

impl OwnKnobs {
    /// A provider with no settings of its own.
    pub const NONE: OwnKnobs = OwnKnobs {
        knobs: &[],
        type_value: |_, _| None,
    };
}

lb_fields! {
    interval: Micros,
    timeout: Micros,
    unhealthy_threshold: u32,
    healthy_threshold: u32,
    protocol: Protocol,
    path: String,
    port: u16,
    probers: ProberCount,
    propagation_delay: Propagation,
    latency: LatencyRaw,
    matcher: matcher::Matcher,
    unchecked: bool,
}

fn pick<T: Clone>(
    profile: &Option<Spanned<T>>,
    user: &Option<Spanned<T>>,
    udoc: &Doc,
    chosen: &Loc,
) -> Option<Located<T>> {
    match (user, profile) {
        (Some(u), _) => Some(Located {
            value: u.get_ref().clone(),
            loc: udoc.loc(u.span().start),
            from_profile: false,
        }),
        (None, Some(p)) => Some(Located {
            value: p.get_ref().clone(),
            loc: chosen.clone(),
            from_profile: true,
        }),
        (None, None) => None,
    }
}

/// Settings an `[[lb]]` of a built-in dialer (Talos KubePrism, the k3s agent load balancer)
/// accepts: its timings are constants of the product, the profile's defaults, and may be restated.
pub const DIALER_KNOBS: &[&str] = &[
    "interval",
    "timeout",
    "unhealthy_threshold",
    "propagation_delay",
    "latency",
];

/// The probe model of a built-in dialer whose check timings are constants of its product
/// (Talos KubePrism, the k3s agent load balancer): a fixed-rate TCP dial at the profile's
/// interval, timeout and threshold, whatever protocol the settings name.
pub fn constant_dialer_model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
    let interval = required(&s.interval, "interval", at)?.value;
    let timeout = required(&s.timeout, "timeout", at)?.value;
    let threshold = required(&s.unhealthy_threshold, "unhealthy_threshold", at)?.value;
    let mut tcp = s.clone();
    tcp.protocol = None;
    Ok(Some(fixed_rate_model(
        &tcp,
        interval,
        timeout,
        threshold,
        readiness_path,
    )))
}

/// A grid with no setting to propose, saying why.
pub fn no_grid(why: &str) -> Grid {
    Grid {
        settings: Vec::new(),
        description: why.into(),
    }
}

/// Accepted ranges of a provider, from its profile's `[limits]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Inclusive ranges of duration settings.
    #[serde(default)]
    pub durations: BTreeMap<String, [Micros; 2]>,
    /// Inclusive ranges of count settings.
    #[serde(default)]
    pub counts: BTreeMap<String, [u32; 2]>,
    /// How the probe timeout must relate to the interval.
    pub timeout_vs_interval: Option<Relation>,
    /// Protocols the provider offers.
    pub protocols: Option<Vec<Protocol>>,
    /// Inclusive range of status codes a success matcher may name (ELBv2 `Matcher.HttpCode`).
    pub matcher_codes: Option<[u16; 2]>,
    /// `interval × threshold` must stay below this (Azure, cloud-provider-azure).
    pub interval_times_threshold_below: Option<Micros>,
}

/// A required relation between timeout and interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// timeout < interval (ALB, CLB).
    LessThan,
    /// timeout <= interval (NLB, GCP).
    AtMost,
}

/// A provider-range violation (becomes rule GL005).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitViolation {
    /// Where the offending value was set.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// Refused by a tool in front of the API (cloud-provider-azure for Service annotations), not
    /// by the provider's API itself: an error for that tool's input, a warning for the others.
    pub tool_only: bool,
}

/// Takes a required setting or reports that neither the user nor the profile gave it.
pub fn required<T: Clone>(v: &Option<Located<T>>, field: &str, at: &Loc) -> Result<Located<T>, InputError> {
    v.clone()
        .ok_or_else(|| InputError::new(at.clone(), field, "is required (the profile gives no default)"))
}

/// Checks the settings against the provider's ranges, relations and protocols.
pub fn check_limits(
    s: &LbSettings,
    limits: &Limits,
    profile: &str,
    timeout_key: &str,
    interval_key: &str,
) -> Vec<LimitViolation> {
    let mut out = check_ranges(s, limits, profile, timeout_key, interval_key);
    out.extend(check_protocol(s, limits, profile));
    out
}

/// The shared keys of a kind first, then the other keys the profile's `[limits]` range (a
/// provider's own settings), in name order.
fn limit_keys<'a, T>(shared: [&'a str; 2], ranged: &'a BTreeMap<String, T>) -> impl Iterator<Item = &'a str> {
    shared
        .into_iter()
        .chain(ranged.keys().map(String::as_str).filter(move |k| !shared.contains(k)))
}

/// Checks the settings against the ranges of the profile's `[limits]` and its timeout/interval
/// relation.
pub fn check_ranges(
    s: &LbSettings,
    limits: &Limits,
    profile: &str,
    timeout_key: &str,
    interval_key: &str,
) -> Vec<LimitViolation> {
    let mut out = Vec::new();
    for key in limit_keys(["interval", "timeout"], &limits.durations) {
        out.extend(out_of_range(profile, key, &s.duration(key), limits.durations.get(key)));
    }
    for key in limit_keys(["unhealthy_threshold", "healthy_threshold"], &limits.counts) {
        out.extend(out_of_range(profile, key, &s.count(key), limits.counts.get(key)));
    }
    let get = |key: &str| s.duration(key);
    if let (Some(rel), Some(t), Some(i)) = (limits.timeout_vs_interval, get(timeout_key), get(interval_key)) {
        let bad = match rel {
            Relation::LessThan => t.value >= i.value,
            Relation::AtMost => t.value > i.value,
        };
        if bad {
            let word = if rel == Relation::LessThan {
                "less than"
            } else {
                "at most"
            };
            let loc = if t.from_profile { i.loc.clone() } else { t.loc.clone() };
            out.push(LimitViolation {
                loc,
                message: format!(
                    "{profile} requires {timeout_key} ({}) to be {word} {interval_key} ({})",
                    t.value, i.value
                ),
                tool_only: false,
            });
        }
    }
    out
}

/// A protocol the profile's `[limits]` does not list.
pub fn check_protocol(s: &LbSettings, limits: &Limits, profile: &str) -> Option<LimitViolation> {
    let mut out = None;
    if let (Some(list), Some(p)) = (&limits.protocols, &s.protocol) {
        if !list.contains(&p.value) {
            out = Some(LimitViolation {
                loc: p.loc.clone(),
                message: format!("{profile} does not offer {:?} health checks", p.value).to_lowercase(),
                tool_only: false,
            });
        }
    }
    out
}

fn out_of_range<T: PartialOrd + std::fmt::Display>(
    profile: &str,
    key: &str,
    v: &Option<Located<T>>,
    range: Option<&[T; 2]>,
) -> Option<LimitViolation> {
    let (v, [lo, hi]) = (v.as_ref()?, range?);
    (v.value < *lo || v.value > *hi).then(|| LimitViolation {
        loc: v.loc.clone(),
        message: format!("{profile} accepts {key} from {lo} to {hi}, got {}", v.value),
        tool_only: false,
    })
}

/// Builds a fixed-rate model (AWS, GCP): `interval` start-to-start, `timeout` for a hanging probe.
pub fn fixed_rate_model(
    s: &LbSettings,
    interval: Micros,
    timeout: Micros,
    threshold: u32,
    readiness_path: &str,
) -> ProbeModel {
    ProbeModel {
        schedule: Schedule::FixedRate { interval },
        view: probe_view(s, readiness_path, timeout, timeout),
        threshold,
        rise: s.healthy_threshold.as_ref().map_or(2, |v| v.value),
        probers: s.probers.as_ref().map_or(1, |v| v.value.hi),
        propagation: propagation_of(s),
        answered_marks_down: false,
    }
}

/// What a check of these settings sees of a shutting-down kube-apiserver: its path (see
/// [`sees_readiness`]), whether its success matcher accepts the failing `/readyz` (500) and, for a
/// path that is not exempt from send-retry-after, whether it rejects the 429. Without a matcher
/// only 200 passes (GCP, Azure, CLB; AWS's defaults 200 and 200-399 come from the profiles).
pub fn probe_view(s: &LbSettings, readiness_path: &str, timeout: Micros, timeout_min: Micros) -> ProbeView {
    let protocol = s.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value);
    let path = s.path.as_ref().map(|p| p.value.as_str());
    let http = protocol != Protocol::Tcp;
    let m = s.matcher.as_ref().map(|m| &m.value);
    let bare = path.unwrap_or("/");
    let bare = bare.split('?').next().unwrap_or(bare);
    let exempt = crate::timeline::RETRY_AFTER_EXEMPT.iter().any(|p| bare.starts_with(p));
    ProbeView {
        sees_readiness: sees_readiness(protocol, path, readiness_path),
        accepts_readyz_error: http && m.is_some_and(|m| m.accepts_failing_readyz()),
        fails_on_retry_after: http && !exempt && !m.is_some_and(|m| m.accepts_retry_after()),
        timeout,
        timeout_min,
    }
}

/// Whether a check of this protocol and path fails when readiness does (E2), as kube-apiserver
/// serves its paths (k8s.io/apiserver pkg/server/healthz/healthz.go): the readiness path with any
/// query except one that excludes the `shutdown` check (`?exclude=shutdown`), and the per-check
/// endpoint `<readiness path>/shutdown` (it is the shutdown check itself). `/livez`, `/healthz`
/// and every other path keep passing until the listener closes.
pub fn sees_readiness(protocol: Protocol, path: Option<&str>, readiness_path: &str) -> bool {
    match protocol {
        Protocol::Tcp => false,
        Protocol::Http | Protocol::Https => {
            let p = path.unwrap_or("/");
            let (bare, query) = p.split_once('?').unwrap_or((p, ""));
            let excludes_shutdown = query.split('&').any(|kv| {
                kv.split_once('=')
                    .is_some_and(|(k, v)| k == "exclude" && v == "shutdown")
            });
            (bare == readiness_path && !excludes_shutdown) || bare == format!("{readiness_path}/shutdown")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_visibility() {
        assert!(sees_readiness(Protocol::Https, Some("/readyz"), "/readyz"));
        assert!(sees_readiness(Protocol::Https, Some("/readyz?verbose"), "/readyz"));
        assert!(sees_readiness(Protocol::Https, Some("/readyz?exclude=etcd"), "/readyz"));
        assert!(!sees_readiness(
            Protocol::Https,
            Some("/readyz?exclude=shutdown"),
            "/readyz"
        ));
        assert!(!sees_readiness(
            Protocol::Https,
            Some("/readyz?verbose&exclude=shutdown"),
            "/readyz"
        ));
        assert!(sees_readiness(Protocol::Https, Some("/readyz/shutdown"), "/readyz"));
        assert!(!sees_readiness(Protocol::Https, Some("/readyz/etcd"), "/readyz"));
        assert!(!sees_readiness(Protocol::Https, Some("/healthz"), "/readyz"));
        assert!(!sees_readiness(Protocol::Http, Some("/livez"), "/readyz"));
        assert!(!sees_readiness(Protocol::Tcp, Some("/readyz"), "/readyz"));
    }

    #[test]
    fn every_key_a_provider_takes_is_shared_or_its_own_and_every_own_one_is_taken() {
        let shared = LbSettings::SHARED;
        for p in PROVIDERS {
            let own = p.own();
            let takes = [p.knobs(), p.layout_knobs()].concat();
            for key in &takes {
                let is_own = own.knobs.iter().any(|k| k.name == *key);
                assert!(shared.contains(key) != is_own, "{p:?}: {key}");
            }
            // Each own setting is taken by this provider or a sibling of its family (an ALB
            // shares the NLB's Knobs, without the NLB-only ones).
            for k in own.knobs {
                assert!(
                    PROVIDERS
                        .iter()
                        .filter(|q| q.family() == p.family())
                        .any(|q| q.knobs().contains(&k.name) || q.layout_knobs().contains(&k.name)),
                    "{p:?}: {}",
                    k.name
                );
                assert!(!shared.contains(&k.name), "{p:?}: {} is also shared", k.name);
            }
        }
    }

    #[test]
    fn every_provider_names_its_keys_among_its_knobs() {
        for p in PROVIDERS {
            let knobs = p.knobs();
            assert!(knobs.contains(&p.interval_key()), "{p:?}");
            assert!(knobs.contains(&p.threshold_key()), "{p:?}");
            assert!(p.layout_knobs().iter().all(|k| !knobs.contains(k)), "{p:?}");
        }
    }

    #[test]
    fn haproxy_jitter_is_whole_milliseconds() {
        let s = Schedule::CompletionRelative {
            inter: Micros::from_secs(2),
            fastinter: Micros::from_secs(2),
            downinter: Micros::from_secs(2),
            spread_pct: 5,
        };
        assert_eq!(s.jitter_bound(Micros::from_millis(2_000)), Micros::from_millis(100));
        assert_eq!(s.jitter_bound(Micros(1_999_999)), Micros::from_millis(99));
    }
}
