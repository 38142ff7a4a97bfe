//! A directory argument walked as a repository, as kube-linter and checkov do: every YAML, JSON,
//! TOML and haproxy.cfg file under it (recursively, honouring `.gitignore`, `.ignore` and hidden
//! names through the `ignore` crate), bounded by `--max-depth` and `--exclude` globs.
//!
//! A repository holds files graceline has nothing to say about (CI workflows, `package.json`,
//! `Cargo.toml`, Helm templates); a walked file is read only when its content is one of graceline's
//! inputs, the rest are skipped and counted. The `*.cfg` files of one directory are one HAProxy
//! configuration, in name order, as `haproxy -f dir/` reads them.

use super::registry::{self, Family};
use super::InputKind;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a directory argument is walked.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Deepest level read below the directory (`--max-depth`; 1: its own files only).
    pub max_depth: Option<usize>,
    /// Globs of paths left out (`--exclude`), matched like .gitignore lines relative to the
    /// directory (`charts/`, `*.json`, `tests/**/bad.yaml`).
    pub exclude: Vec<String>,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked {
    /// Files read one by one (YAML, JSON, TOML), in path order.
    pub files: Vec<PathBuf>,
    /// HAProxy configurations: each directory's `*.cfg` files, in name order.
    pub haproxy: Vec<(PathBuf, Vec<PathBuf>)>,
    /// Files of a readable syntax whose content is none of graceline's inputs (skipped).
    pub skipped: usize,
    /// Helm chart templates (skipped: they must be rendered first).
    pub helm: usize,
}

/// Whether a walked file's content is one graceline reads (`kind` forces the family).
fn wanted(path: &Path, text: &str, kind: Option<InputKind>) -> Option<Family> {
    let by_name = registry::family_of_name(&path.display().to_string())?;
    if let Some(k) = kind {
        let fits = match k {
            InputKind::Haproxy => by_name == Family::Haproxy,
            InputKind::K8s | InputKind::Manifest => matches!(by_name, Family::Yaml | Family::Json),
            InputKind::Terraform => by_name == Family::Json,
            InputKind::Scenario => by_name == Family::Toml,
            InputKind::Nginx => by_name == Family::Nginx,
        };
        return fits.then_some(by_name);
    }
    let yes = match by_name {
        Family::Haproxy => registry::family_of_content(text) == Some(Family::Haproxy),
        // Kubernetes objects: a document with a kind or an apiVersion (a broken one is still
        // read, and reported); CI workflows, compose files and values.yaml are not.
        Family::Yaml => text.lines().any(|l| {
            let l = l.trim_start_matches("- ").trim_end();
            l.starts_with("kind:") || l.starts_with("apiVersion:")
        }),
        Family::Json => {
            let head: String = text.chars().take(4096).collect();
            head.contains("\"apiVersion\"") || head.contains("\"format_version\"")
        }
        // nginx: a main configuration only (`nginx.conf`, read with its includes); the files it
        // includes are not configurations on their own.
        Family::Nginx => {
            path.file_name().is_some_and(|n| n == "nginx.conf")
                && registry::family_of_content(text) == Some(Family::Nginx)
        }
        Family::Toml => match text.parse::<toml::Table>() {
            Ok(t) => !super::is_project(text) && (t.contains_key("lb") || t.contains_key("server")),
            Err(_) => text.contains("[[lb]]") || text.contains("[server]"),
        },
    };
    yes.then_some(by_name)
}

/// Walks `dir`: the files graceline reads under it, in path order.
pub fn walk(dir: &Path, kind: Option<InputKind>, opts: &WalkOptions) -> Result<Walked> {
    let name = dir.display();
    let mut overrides = ignore::overrides::OverrideBuilder::new(dir);
    for g in &opts.exclude {
        overrides
            .add(&format!("!{g}"))
            .map_err(|e| anyhow!("--exclude {g}: not a valid glob: {e}"))?;
    }
    let overrides = overrides
        .build()
        .map_err(|e| anyhow!("--exclude: not valid globs: {e}"))?;
    let mut builder = ignore::WalkBuilder::new(dir);
    builder
        .max_depth(opts.max_depth)
        .overrides(overrides)
        // .gitignore is honoured in a directory that is not (yet) a git checkout too.
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b));
    let mut out = Walked::default();
    let mut cfgs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| anyhow!("{name}: cannot walk the directory: {e}"))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if registry::family_of_name(&path.display().to_string()).is_none() {
            continue;
        }
        let bytes = super::read_bytes(path)?;
        let text = String::from_utf8_lossy(&bytes);
        match wanted(path, &text, kind) {
            Some(Family::Haproxy) => cfgs
                .entry(path.parent().unwrap_or(dir).to_path_buf())
                .or_default()
                .push(path.to_path_buf()),
            Some(_) if kind.is_none() && registry::helm_action(&text).is_some() => out.helm += 1,
            Some(_) => out.files.push(path.to_path_buf()),
            None => out.skipped += 1,
        }
    }
    for (d, mut files) in cfgs {
        files.sort_by(|a, b| {
            a.file_name()
                .map(|n| n.as_encoded_bytes())
                .cmp(&b.file_name().map(|n| n.as_encoded_bytes()))
        });
        out.haproxy.push((d, files));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_inputs_skips_the_rest_and_honours_gitignore_depth_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "k8s/svc.yaml", "apiVersion: v1\nkind: Service\n");
        write(r, "k8s/deep/more/svc.yaml", "apiVersion: v1\nkind: Service\n");
        write(r, ".github/workflows/ci.yaml", "on: push\njobs: {}\n");
        write(r, "compose.yaml", "services:\n  web: {}\n");
        write(r, "package.json", "{\"name\": \"x\"}\n");
        write(r, "plan.json", "{\"format_version\": \"1.2\"}\n");
        write(r, "Cargo.toml", "[package]\nname = \"x\"\n");
        write(r, "sc.toml", "[server]\nprofile = \"kube-apiserver\"\n");
        write(r, "graceline.toml", "[[check]]\nlbs = [\"k8s/*.yaml\"]\n");
        write(r, "lb/b.cfg", "backend b\n");
        write(r, "lb/a.cfg", "global\n");
        write(r, "setup.cfg", "[metadata]\nname = x\n");
        write(
            r,
            "chart/templates/svc.yaml",
            "apiVersion: v1\nkind: {{ .Values.kind }}\n",
        );
        write(r, "generated/svc.yaml", "apiVersion: v1\nkind: Service\n");
        write(r, ".gitignore", "generated/\n");
        let w = walk(r, None, &WalkOptions::default()).unwrap();
        let rel = |p: &PathBuf| p.strip_prefix(r).unwrap().display().to_string();
        let files: Vec<String> = w.files.iter().map(rel).collect();
        assert_eq!(
            files,
            ["k8s/deep/more/svc.yaml", "k8s/svc.yaml", "plan.json", "sc.toml"]
        );
        assert_eq!(w.haproxy.len(), 1);
        let cfgs: Vec<String> = w.haproxy[0].1.iter().map(rel).collect();
        assert_eq!(cfgs, ["lb/a.cfg", "lb/b.cfg"]);
        // compose.yaml, package.json, Cargo.toml, graceline.toml, setup.cfg (hidden dirs unseen).
        assert_eq!((w.skipped, w.helm), (5, 1));

        let shallow = walk(
            r,
            None,
            &WalkOptions {
                max_depth: Some(2),
                exclude: vec!["*.json".into(), "lb/".into()],
            },
        )
        .unwrap();
        let files: Vec<String> = shallow.files.iter().map(rel).collect();
        assert_eq!(files, ["k8s/svc.yaml", "sc.toml"]);
        assert!(shallow.haproxy.is_empty());
        assert!(walk(
            r,
            None,
            &WalkOptions {
                max_depth: None,
                exclude: vec!["a[".into()]
            }
        )
        .unwrap_err()
        .to_string()
        .contains("--exclude a["));
    }
}
