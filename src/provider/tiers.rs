//! Propagation tiers: what the evidence says about the delay from "marked down" until no new
//! request is routed, kept apart by kind, each a range with its sources and evidence class.
//!
//! - `typical`: corroborated by two or more independent reports; its worst case is the verdict
//!   (GL001/GL002).
//! - `vendor`: a figure from the provider, even second-hand (a support statement relayed by a
//!   user); shown beside the others, never a finding of its own.
//! - `tail`: the largest credible field observation, its confounds stated; a warning of its own
//!   (GL020) that names the delay covering it. `--propagation tail` (or `propagation_tier =
//!   "tail"`) makes it the error tier for users who want zero risk.
//!
//! A user's measured `propagation_delay` replaces every tier. The NLB's tail depends on cross-zone
//! load balancing: with it off (the NLB default) or unknown, per-zone fail-open explains long
//! routing as well as propagation does, so the larger figure applies, unless GL016 already charges
//! that layout's fail-open (then the cross-zone-on figure, so the tail is not counted twice).

use super::{Located, Propagation};
use serde::{Deserialize, Serialize};

/// The kind of evidence behind a profile default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Nothing published or measured: the default is a placeholder (0 for propagation).
    #[default]
    None,
    /// Field measurements, not documentation.
    Field,
    /// A figure from the provider outside its documentation (a support statement, often relayed
    /// second-hand).
    Vendor,
    /// The provider's documentation.
    Documented,
    /// The provider's source code.
    Code,
}

impl Evidence {
    /// A few words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::None => "no published or measured figure",
            Evidence::Field => "field measurements, not documentation",
            Evidence::Vendor => "the provider's figure, relayed, not documentation",
            Evidence::Documented => "documented",
            Evidence::Code => "from the provider's source code",
        }
    }
}

/// A tier of the propagation evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Corroborated by two or more independent reports.
    Typical,
    /// A figure from the provider, even second-hand.
    Vendor,
    /// The largest credible field observation.
    Tail,
}

impl Tier {
    /// Every tier, in order.
    pub const ALL: [Tier; 3] = [Tier::Typical, Tier::Vendor, Tier::Tail];

    /// The tier's name (`typical`, `vendor`, `tail`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Typical => "typical",
            Tier::Vendor => "vendor",
            Tier::Tail => "tail",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The tier whose worst case is the error (`--propagation`, `propagation_tier`): the typical one by
/// default, the tail for users who want zero risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum PropagationTier {
    /// The typical tier is the verdict; the tail warns (GL020).
    #[default]
    Typical,
    /// The tail is the verdict.
    Tail,
}

impl PropagationTier {
    /// The tier it names.
    pub fn tier(self) -> Tier {
        match self {
            PropagationTier::Typical => Tier::Typical,
            PropagationTier::Tail => Tier::Tail,
        }
    }
}

/// One tier's figure as a profile writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierFigure {
    /// `["lo", "hi"]` or one duration.
    pub range: Propagation,
    /// What kind of evidence it rests on.
    pub evidence: Evidence,
    /// The sources in a few words, for findings (`aws/containers-roadmap#470, CAPA#5475, ...`).
    pub cite: String,
    /// What each source is and what it says.
    pub source: String,
    /// What else could explain the figure (tails).
    #[serde(default)]
    pub caveats: Option<String>,
}

/// The `[propagation]` table of a load-balancer profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// What is known, in one line.
    pub note: String,
    /// Corroborated by two or more independent reports.
    pub typical: TierFigure,
    /// The provider's own figure, if any.
    #[serde(default)]
    pub vendor: Option<TierFigure>,
    /// The largest credible field observation, if beyond the typical one.
    #[serde(default)]
    pub tail: Option<TierFigure>,
    /// The tail with cross-zone load balancing off or unknown (NLB), if it differs.
    #[serde(default)]
    pub tail_cross_zone_off: Option<TierFigure>,
}

impl Default for Tiers {
    fn default() -> Self {
        Tiers {
            note: "no published or measured figure".to_string(),
            typical: TierFigure {
                range: Propagation::default(),
                evidence: Evidence::None,
                cite: "no figure".to_string(),
                source: "no figure".to_string(),
                caveats: None,
            },
            vendor: None,
            tail: None,
            tail_cross_zone_off: None,
        }
    }
}

/// One tier as it applies to one load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Which tier.
    pub tier: Tier,
    /// Its range, evidence and sources.
    pub figure: TierFigure,
    /// Why this variant applies (cross-zone), if the profile has two.
    pub why: Option<String>,
}

/// What decides which NLB tail applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    /// Cross-zone load balancing on (`Some(true)`), off (`Some(false)`, also the profile's default
    /// for the NLB) or unknown.
    pub cross_zone: Option<bool>,
    /// True when the profile's default says it (not the input).
    pub cross_zone_defaulted: bool,
    /// GL016 charges this layout's per-zone fail-open already.
    pub zone_fail_open: bool,
}

impl Tiers {
    /// The tiers of one load balancer: the user's measured range alone when given (it replaces
    /// every tier), else the profile's, with the tail chosen by `layout`.
    pub fn resolve(&self, measured: Option<&Located<Propagation>>, layout: Layout) -> Vec<Resolved> {
        if let Some(m) = measured {
            return vec![Resolved {
                tier: Tier::Typical,
                figure: TierFigure {
                    range: m.value,
                    evidence: Evidence::Field,
                    cite: format!("your propagation_delay ({})", m.loc),
                    source: format!("your propagation_delay ({}), which replaces every tier", m.loc),
                    caveats: None,
                },
                why: None,
            }];
        }
        let mut out = vec![Resolved {
            tier: Tier::Typical,
            figure: self.typical.clone(),
            why: None,
        }];
        if let Some(v) = &self.vendor {
            out.push(Resolved {
                tier: Tier::Vendor,
                figure: v.clone(),
                why: None,
            });
        }
        let tail = match (&self.tail, &self.tail_cross_zone_off) {
            (Some(on), Some(off)) => Some(if layout.cross_zone == Some(true) {
                (on, Some("cross-zone load balancing is on".to_string()))
            } else if layout.zone_fail_open {
                (
                    on,
                    Some("the cross-zone-on figure: GL016 already charges this layout's per-zone fail-open, which the cross-zone-off figure would count again".to_string()),
                )
            } else {
                (
                    off,
                    Some(
                        if layout.cross_zone == Some(false) && layout.cross_zone_defaulted {
                            "cross-zone load balancing is off (the NLB default; set cross_zone = true if yours is on)"
                        } else if layout.cross_zone == Some(false) {
                            "cross-zone load balancing is off"
                        } else {
                            "cross-zone load balancing is unknown"
                        }
                        .to_string(),
                    ),
                )
            }),
            (Some(t), None) | (None, Some(t)) => Some((t, None)),
            (None, None) => None,
        };
        if let Some((t, why)) = tail {
            out.push(Resolved {
                tier: Tier::Tail,
                figure: t.clone(),
                why,
            });
        }
        out
    }
}

/// The resolved tier `t`, falling back to the typical one when the evidence has no such tier.
pub fn pick(resolved: &[Resolved], t: Tier) -> &Resolved {
    resolved.iter().find(|r| r.tier == t).unwrap_or_else(|| &resolved[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Micros;

    fn fig(lo: i64, hi: i64) -> TierFigure {
        TierFigure {
            range: Propagation {
                lo: Micros::from_secs(lo),
                hi: Micros::from_secs(hi),
            },
            evidence: Evidence::Field,
            cite: "s".to_string(),
            source: "s".to_string(),
            caveats: None,
        }
    }

    #[test]
    fn the_tail_follows_cross_zone_and_never_counts_gl016_twice() {
        let t = Tiers {
            tail: Some(fig(80, 170)),
            tail_cross_zone_off: Some(fig(80, 240)),
            ..Tiers::default()
        };
        let hi = |l: Layout| pick(&t.resolve(None, l), Tier::Tail).figure.range.hi;
        let on = Layout {
            cross_zone: Some(true),
            ..Layout::default()
        };
        assert_eq!(hi(on), Micros::from_secs(170));
        assert_eq!(hi(Layout::default()), Micros::from_secs(240));
        let off_charged = Layout {
            cross_zone: Some(false),
            zone_fail_open: true,
            ..Layout::default()
        };
        assert_eq!(hi(off_charged), Micros::from_secs(170));
        // No vendor tier: the typical one stands in.
        assert_eq!(pick(&t.resolve(None, on), Tier::Vendor).tier, Tier::Typical);
    }

    #[test]
    fn a_measurement_replaces_every_tier() {
        let t = Tiers {
            tail: Some(fig(80, 170)),
            ..Tiers::default()
        };
        let m = Located {
            value: Propagation::fixed(Micros::from_secs(35)),
            loc: crate::error::Loc {
                file: "f".to_string(),
                line: 3,
                column: 1,
            },
            from_profile: false,
        };
        let r = t.resolve(Some(&m), Layout::default());
        assert_eq!(r.len(), 1);
        assert_eq!(pick(&r, Tier::Tail).figure.range.hi, Micros::from_secs(35));
    }
}
