//! The project file `graceline.toml`: one `[[check]]` per server with the load-balancer inputs
//! behind it, as globs relative to the project file, so one `graceline check` in a repository
//! root checks everything.
//!
//! ```toml
//! [[check]]
//! name = "api"                                  # optional; the scenario name in reports
//! server = "manifests/kube-apiserver.yaml"      # a built-in server profile, a scenario file or a manifest
//! lbs = ["haproxy/*.cfg", "k8s/service-*.yaml", "tf/plan.json"]
//! kind = "k8s"                                  # optional: read every input as this kind
//! cloud = "aws"                                 # optional: cloud of Services without cloud annotations
//! min_margin = "5s"                             # optional: GL002 threshold
//! select = ["api-server/*"]                     # optional: LB-name globs to judge (default: the LBs on the server's port)
//! haproxy_join = true                           # optional: the haproxy.cfg inputs are one configuration (haproxy -f A -f B)
//! propagation_delay = ["20s", "40s"]            # optional: your measured propagation for every LB here
//! propagation_tier = "tail"                     # optional: the tail of the evidence is the error (default typical)
//!
//! [paths]                                       # optional, for every check: see crate::scenario::path_settings
//! termination = "eviction"
//! [paths.stages]
//! rule-programming = ["0s", "5s"]
//! ```
//!
//! An entry of `lbs` without glob characters may name a directory: its `*.cfg` files are one
//! HAProxy configuration, read in HAProxy's order (`haproxy -f dir/`).
//!
//! A glob that matches no file is an error (a typo must not pass silently) unless `--allow-empty`.
//! Globs use the `glob` crate (rust-lang/glob): `*`, `?`, `[...]` and `**` for any depth.

use super::{Cloud, GroupSpec, InputKind, ServerRef};
use crate::error::{Doc, InputError};
use crate::scenario::toml_error;
use crate::time::Micros;
use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectRaw {
    check: Vec<Spanned<CheckRaw>>,
    #[serde(default)]
    ignore: Vec<Spanned<IgnoreRaw>>,
    /// `[paths]`: read by `crate::scenario::path_settings`, for every check.
    #[allow(dead_code)]
    paths: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreRaw {
    rule: Spanned<String>,
    lb: Option<Spanned<String>>,
    reason: Spanned<String>,
    expires: Option<Spanned<toml::value::Datetime>>,
}

pub use crate::scenario::sources::Ignore;

/// The `[[ignore]]` entries of a project file; an unknown rule, a bad glob or a date that is not
/// a calendar day is an error at its line.
pub fn ignores(path: &Path, text: &str, ids: &[&'static str]) -> Result<Vec<Ignore>> {
    let file = path.display().to_string();
    let doc = Doc { file: &file, text };
    let raw: ProjectRaw = toml::from_str(text).map_err(|e| toml_error(&doc, e))?;
    let mut out = Vec::new();
    for (i, e) in raw.ignore.iter().enumerate() {
        let r = e.get_ref();
        let rule = r.rule.get_ref().trim().to_ascii_uppercase();
        if !ids.contains(&rule.as_str()) {
            return Err(anyhow!(InputError::new(
                doc.loc(r.rule.span().start),
                format!("ignore[{i}].rule"),
                format!(
                    "\"{}\" is not a rule{}; rules: {}",
                    r.rule.get_ref(),
                    crate::scenario::words::did_you_mean(&[rule.as_str()], ids),
                    ids.join(", ")
                )
            )));
        }
        if let Some(lb) = &r.lb {
            glob::Pattern::new(lb.get_ref()).map_err(|g| {
                anyhow!(InputError::new(
                    doc.loc(lb.span().start),
                    format!("ignore[{i}].lb"),
                    format!("bad glob \"{}\": {}", lb.get_ref(), g.msg)
                ))
            })?;
        }
        if r.reason.get_ref().trim().is_empty() {
            return Err(anyhow!(InputError::new(
                doc.loc(r.reason.span().start),
                format!("ignore[{i}].reason"),
                "is empty: say why the finding is accepted (it is shown wherever the finding is)"
            )));
        }
        let expires = match &r.expires {
            None => None,
            Some(d) => match (d.get_ref().date, d.get_ref().time) {
                (Some(day), None) => Some((i32::from(day.year), u32::from(day.month), u32::from(day.day))),
                _ => {
                    return Err(anyhow!(InputError::new(
                        doc.loc(d.span().start),
                        format!("ignore[{i}].expires"),
                        "expected a date such as 2026-06-30 (unquoted, without a time)"
                    )))
                }
            },
        };
        out.push(Ignore {
            loc: doc.loc(e.span().start),
            rule,
            lb: r.lb.as_ref().map(|l| l.get_ref().clone()),
            reason: r.reason.get_ref().trim().to_string(),
            expires,
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRaw {
    name: Option<Spanned<String>>,
    server: Option<Spanned<String>>,
    lbs: Spanned<Vec<Spanned<String>>>,
    kind: Option<Spanned<InputKind>>,
    cloud: Option<Spanned<Cloud>>,
    min_margin: Option<Spanned<Micros>>,
    select: Option<Vec<String>>,
    haproxy_join: Option<bool>,
    propagation_delay: Option<Spanned<crate::provider::Propagation>>,
    propagation_tier: Option<Spanned<crate::provider::tiers::PropagationTier>>,
}

/// The groups of a project file; `path` is the project file (globs are relative to its folder).
pub fn groups(path: &Path, text: &str) -> Result<Vec<GroupSpec>> {
    groups_with(path, text, false)
}

/// Like [`groups`]; with `allow_empty` a glob matching nothing is not an error.
pub fn groups_with(path: &Path, text: &str, allow_empty: bool) -> Result<Vec<GroupSpec>> {
    let file = path.display().to_string();
    let doc = Doc { file: &file, text };
    let raw: ProjectRaw = toml::from_str(text).map_err(|e| toml_error(&doc, e))?;
    if raw.check.is_empty() {
        return Err(anyhow!(InputError::new(doc.loc(0), "check", "no [[check]] table")));
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let paths = crate::scenario::path_settings::PathSettings::from_toml(&file, text)?.unwrap_or_default();
    let mut out = Vec::new();
    for (i, c) in raw.check.iter().enumerate() {
        let c = c.get_ref();
        if c.lbs.get_ref().is_empty() {
            return Err(anyhow!(InputError::new(
                doc.loc(c.lbs.span().start),
                format!("check[{i}].lbs"),
                "lists no input: name the load-balancer files to check"
            )));
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for pat in c.lbs.get_ref() {
            let at = doc.loc(pat.span().start);
            let matched = expand(&base, pat.get_ref())
                .map_err(|m| anyhow!(InputError::new(at.clone(), format!("check[{i}].lbs"), m)))?;
            if matched.is_empty() && !allow_empty {
                return Err(anyhow!(InputError::new(
                    at,
                    format!("check[{i}].lbs"),
                    format!(
                        "\"{}\" matches no file (relative to {}); pass --allow-empty if that is expected",
                        pat.get_ref(),
                        if base.as_os_str().is_empty() {
                            "."
                        } else {
                            base.to_str().unwrap_or("the project folder")
                        }
                    )
                )));
            }
            for m in matched {
                if !files.contains(&m) {
                    files.push(m);
                }
            }
        }
        out.push(GroupSpec {
            label: c.name.as_ref().map(|n| n.get_ref().clone()),
            files,
            server: c.server.as_ref().map(|s| ServerRef {
                text: s.get_ref().clone(),
                base: base.clone(),
                at: Some(doc.loc(s.span().start)),
                via: format!("server = in {file}"),
            }),
            kind: c.kind.as_ref().map(|k| *k.get_ref()),
            cloud: c.cloud.as_ref().map(|k| *k.get_ref()),
            min_margin: c.min_margin.as_ref().map(|m| *m.get_ref()),
            select: c.select.clone().unwrap_or_default(),
            haproxy_join: c.haproxy_join.unwrap_or(false),
            propagation_delay: c.propagation_delay.as_ref().map(|p| crate::provider::Located {
                value: *p.get_ref(),
                loc: doc.loc(p.span().start),
                from_profile: false,
            }),
            propagation_tier: c.propagation_tier.as_ref().map(|t| *t.get_ref()),
            paths: paths.clone(),
        });
    }
    Ok(out)
}

/// Files matching a glob relative to `base`, in sorted order.
fn expand(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = if Path::new(pattern).is_absolute() || base.as_os_str().is_empty() {
        pattern.to_string()
    } else {
        let b = glob::Pattern::escape(&base.to_string_lossy());
        format!("{b}/{pattern}")
    };
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let paths = glob::glob_with(&full, opts).map_err(|e| format!("bad glob \"{pattern}\": {}", e.msg))?;
    let mut out = Vec::new();
    for p in paths {
        let p = p.map_err(|e| format!("cannot read {}: {}", e.path().display(), e.error()))?;
        let literal_dir = !pattern.contains(['*', '?', '[']) && p.is_dir();
        if p.is_file() || literal_dir {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_expand_globs_relative_to_the_project_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("k8s")).unwrap();
        std::fs::write(root.join("k8s/service-a.yaml"), "").unwrap();
        std::fs::write(root.join("k8s/service-b.yaml"), "").unwrap();
        std::fs::write(root.join("k8s/other.yaml"), "").unwrap();
        let text = "[[check]]\nname = \"api\"\nserver = \"kube-apiserver-openshift\"\nlbs = [\"k8s/service-*.yaml\", \"k8s/service-a.yaml\"]\ncloud = \"aws\"\n";
        let g = groups(&root.join("graceline.toml"), text).unwrap();
        assert_eq!(g.len(), 1);
        let names: Vec<_> = g[0]
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["service-a.yaml", "service-b.yaml"]);
        assert_eq!(g[0].cloud, Some(Cloud::Aws));
        assert_eq!(g[0].server.as_ref().unwrap().at.as_ref().unwrap().line, 3);
    }

    #[test]
    fn empty_globs_and_bad_tables_are_located_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("graceline.toml");
        let e = groups(&p, "[[check]]\nlbs = [\"nope/*.cfg\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("graceline.toml:2:8") && e.contains("matches no file"), "{e}");
        assert!(groups_with(&p, "[[check]]\nlbs = [\"nope/*.cfg\"]\n", true).is_ok());
        let e = groups(&p, "[[check]]\nlbs = [\"[\"]\n").unwrap_err().to_string();
        assert!(e.contains("bad glob"), "{e}");
        let e = groups(&p, "[[check]]\nlbz = []\n").unwrap_err().to_string();
        assert!(e.contains(":2:1"), "{e}");
        let e = groups(&p, "[[check]]\nlbs = [\"a\"]\nkind = \"caddy\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:8"), "{e}");
        let e = groups(&p, "[[check]]\nlbs = []\n").unwrap_err().to_string();
        assert!(e.contains("lists no input"), "{e}");
        let e = groups_with(&p, "[[check]]\nlbs = [\"a\"]\npropagation_tier = \"worst\"\n", true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("graceline.toml:3:20") && e.contains("typical"), "{e}");
        let g = groups_with(&p, "[[check]]\nlbs = [\"a\"]\npropagation_tier = \"tail\"\n", true).unwrap();
        assert_eq!(
            g[0].propagation_tier,
            Some(crate::provider::tiers::PropagationTier::Tail)
        );
    }
}
