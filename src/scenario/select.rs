//! Which load balancers front the server: by default the ones that send traffic to the server's
//! port (kube-apiserver's `--secure-port`, 6443 unless the manifest says otherwise), so a
//! mixed-purpose input (OpenShift's UPI haproxy.cfg with the API on 6443, the machine-config
//! server on 22623 and ingress on 80/443) is judged on its API backends only; the others are
//! listed as skipped with the reason. Explicit patterns (`--lb`, `select =` in graceline.toml)
//! replace the default rule: a glob on the LB name (`*`, `?`, `[...]`).

use crate::scenario::{LbInput, SkippedLb};
use anyhow::{anyhow, Result};

/// The server's traffic port and where it comes from (for the skip reason).
#[derive(Debug, Clone)]
pub struct ServerPort {
    /// The port.
    pub port: u16,
    /// Where it was read or why it is assumed, e.g. "kube-apiserver's default --secure-port".
    pub source: String,
}

/// Compiled `--lb` / `select` patterns.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    pats: Vec<(String, glob::Pattern)>,
    /// Where the patterns were given, for messages (`--lb`, `select = in graceline.toml`).
    via: String,
}

impl Patterns {
    /// Compiles glob patterns; a malformed one is an error naming it.
    pub fn new(patterns: &[String], via: &str) -> Result<Self> {
        let mut pats = Vec::new();
        for p in patterns {
            let g = glob::Pattern::new(p).map_err(|e| anyhow!("{via} \"{p}\": bad glob pattern: {}", e.msg))?;
            pats.push((p.clone(), g));
        }
        Ok(Patterns {
            pats,
            via: via.to_string(),
        })
    }

    /// Whether no pattern was given (the default rule applies).
    pub fn is_empty(&self) -> bool {
        self.pats.is_empty()
    }

    /// True when one of the patterns matches `name`.
    pub fn matches(&self, name: &str) -> bool {
        self.pats.iter().any(|(_, g)| g.matches(name))
    }

    /// Patterns that matched none of `names` (a typo must not pass silently).
    pub fn unmatched<'a>(&'a self, names: &[&str]) -> Vec<&'a str> {
        self.pats
            .iter()
            .filter(|(_, g)| !names.iter().any(|n| g.matches(n)))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// The patterns as written, joined for messages.
    pub fn describe(&self) -> String {
        self.pats.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Splits LBs into judged and skipped: by the patterns when given, else by the server's port.
/// The judged ones are filtered in place, so a large haproxy.cfg's LBs are never held twice.
pub fn select(mut lbs: Vec<LbInput>, patterns: &Patterns, port: Option<&ServerPort>) -> (Vec<LbInput>, Vec<SkippedLb>) {
    let mut skipped = Vec::new();
    lbs.retain(|lb| {
        let reason = if !patterns.is_empty() {
            (!patterns.matches(&lb.name)).then(|| format!("not selected by {} {}", patterns.via, patterns.describe()))
        } else {
            port.filter(|p| !lb.ports.is_empty() && !lb.ports.contains(&p.port)).map(|p| {
                let ports: Vec<String> = lb.ports.iter().map(u16::to_string).collect();
                format!(
                    "sends traffic to port {}, not the server's port {} ({}); select it with --lb or select = to judge it",
                    ports.join(", "),
                    p.port,
                    p.source
                )
            })
        };
        match reason {
            None => true,
            Some(reason) => {
                skipped.push(SkippedLb {
                    name: lb.name.clone(),
                    loc: lb.loc.clone(),
                    reason,
                });
                false
            }
        }
    });
    (lbs, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Loc;

    fn lb(name: &str, ports: &[u16]) -> LbInput {
        LbInput {
            name: name.to_string(),
            profile: "haproxy".to_string(),
            settings: Default::default(),
            loc: Loc {
                file: "h.cfg".to_string(),
                line: 1,
                column: 1,
            },
            field_prefix: String::new(),
            ports: ports.to_vec(),
            refused: None,
            assumed: Vec::new(),
            service: None,
            check: crate::scenario::k8s::CheckTarget::Server,
        }
    }

    #[test]
    fn default_rule_keeps_the_servers_port_and_unknown_ports() {
        let port = ServerPort {
            port: 6443,
            source: "kube-apiserver's default --secure-port".to_string(),
        };
        let lbs = vec![lb("api/m0", &[6443]), lb("mcs/m0", &[22623]), lb("x/y", &[])];
        let (keep, skipped) = select(lbs, &Patterns::default(), Some(&port));
        let names: Vec<_> = keep.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["api/m0", "x/y"]);
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].reason.contains("port 22623, not the server's port 6443"),
            "{}",
            skipped[0].reason
        );
    }

    #[test]
    fn patterns_replace_the_default_rule() {
        let p = Patterns::new(&["mcs/*".to_string()], "--lb").unwrap();
        let lbs = vec![lb("api/m0", &[6443]), lb("mcs/m0", &[22623])];
        let (keep, skipped) = select(lbs, &p, None);
        assert_eq!(keep[0].name, "mcs/m0");
        assert!(skipped[0].reason.contains("not selected by --lb mcs/*"));
        assert_eq!(p.unmatched(&["api/m0"]), ["mcs/*"]);
        assert!(Patterns::new(&["[".to_string()], "--lb").is_err());
    }
}
