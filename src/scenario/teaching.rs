//! The first-run matrix `check` shows with nothing to read: every built-in LB profile with its
//! provider default (a TCP or `/` check) beside the same LB checking `/readyz`, against a few
//! kube-apiserver shutdowns, so the point (a check must see readiness, and the delay must outlast
//! detection) is visible at a glance.

use super::{load_str, Scenario};
use crate::profiles;

/// One server timeline of the matrix: its column title and the `[server]` table.
pub struct Timeline {
    /// Column title.
    pub title: &'static str,
    /// `[server]` keys.
    pub server: &'static str,
}

/// The server timelines, from no delay to OpenShift's 70 s.
pub const TIMELINES: &[Timeline] = &[
    Timeline {
        title: "kube-apiserver, no delay",
        server: "profile = \"kube-apiserver\"",
    },
    Timeline {
        title: "shutdown delay 15s",
        server: "profile = \"kube-apiserver\"\nshutdown_delay = \"15s\"\ntermination_grace_period = \"90s\"",
    },
    Timeline {
        title: "OpenShift, delay 70s",
        server: "profile = \"kube-apiserver-openshift\"",
    },
];

/// The two checks of every LB profile: the provider default and an HTTPS `/readyz` check.
pub const CHECKS: &[(&str, &str)] = &[
    ("default", ""),
    ("/readyz", "protocol = \"https\"\npath = \"/readyz\"\n"),
];

/// Name of the matrix LB for a profile and a check.
pub fn lb_name(profile: &str, check: &str) -> String {
    format!("{profile} {check}")
}

/// One scenario per server timeline, each with every LB profile whose check the user configures
/// twice (default, `/readyz`).
pub fn teaching_matrix() -> Vec<Scenario> {
    TIMELINES
        .iter()
        .map(|t| {
            let mut text = format!("name = \"{}\"\n[server]\n{}\n", t.title, t.server);
            for lb in profiles::tunable_lb_names() {
                for (check, keys) in CHECKS {
                    text.push_str(&format!(
                        "[[lb]]\nname = \"{}\"\nprofile = \"{lb}\"\n{keys}",
                        lb_name(lb, check)
                    ));
                }
            }
            load_str(&format!("builtin:teaching/{}", t.title), &text).expect("built-in profiles always load")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_twice_against_every_timeline() {
        let m = teaching_matrix();
        assert_eq!(m.len(), TIMELINES.len());
        for sc in &m {
            assert_eq!(sc.lbs.len(), profiles::tunable_lb_names().len() * CHECKS.len());
        }
    }
}
