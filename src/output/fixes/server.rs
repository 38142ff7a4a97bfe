//! Fixes of a server's shutdown where it was read: a scenario file's `[server]` keys or a
//! kube-apiserver static pod's `--shutdown-delay-duration` and grace period.

use super::*;

/// The edits that raise a scenario's shutdown delay to `delay` and its grace period to `grace`.
pub(super) fn edits_for(sc: &ServerOf, delay: Option<Micros>, grace: Option<Micros>, texts: &Texts) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut push = |key: &str, value: Micros| {
        let Some(loc) = sc.locs.get(key) else { return };
        if loc.file.starts_with("builtin:") || loc.file == crate::error::STDIN_NAME {
            return;
        }
        let Some(lines) = lines_of(&loc.file, texts) else {
            return;
        };
        let idx = (loc.line as usize).saturating_sub(1);
        let Some(at) = lines.get(idx) else { return };
        let edit = |line: usize, insert: bool, text: String| Edit::new(&loc.file, line, insert, text, &sc.name);
        let e = if syntax_of(&loc.file, texts) == Syntax::Yaml {
            match key {
                "shutdown_delay" if at.contains("--shutdown-delay-duration") => {
                    let start = at.find("--shutdown-delay-duration").unwrap_or(0);
                    Some(edit(
                        idx + 1,
                        false,
                        format!("{}--shutdown-delay-duration={value}", &at[..start]),
                    ))
                }
                // The flag is absent: added after the command's first word.
                "shutdown_delay" => lines
                    .iter()
                    .enumerate()
                    .skip(idx)
                    .find(|(_, l)| l.trim() == "- kube-apiserver")
                    .map(|(i, l)| {
                        edit(
                            i + 1,
                            true,
                            format!("{}- --shutdown-delay-duration={value}", indent_of(l)),
                        )
                    }),
                "termination_grace_period" if at.contains("terminationGracePeriodSeconds:") => Some(edit(
                    idx + 1,
                    false,
                    format!("{}terminationGracePeriodSeconds: {}", indent_of(at), ceil_secs(value)),
                )),
                // Absent: the finding points at `spec:`; added as its first field.
                "termination_grace_period" if at.trim_start().starts_with("spec:") => lines.get(idx + 1).map(|next| {
                    edit(
                        idx + 1,
                        true,
                        format!("{}terminationGracePeriodSeconds: {}", indent_of(next), ceil_secs(value)),
                    )
                }),
                _ => None,
            }
        } else if at.trim_start().starts_with(key)
            && at[at.find(key).unwrap_or(0) + key.len()..]
                .trim_start()
                .starts_with('=')
        {
            Some(edit(idx + 1, false, format!("{}{key} = \"{value}\"", indent_of(at))))
        } else {
            // A profile default: added under the file's [server] table, if it has one.
            lines
                .iter()
                .position(|l| l.trim() == "[server]")
                .map(|i| edit(i + 1, true, format!("{key} = \"{value}\"")))
        };
        out.extend(e);
    };
    if let Some(d) = delay.filter(|d| *d > sc.server.shutdown_delay) {
        push("shutdown_delay", d);
    }
    if let Some(g) = grace.filter(|g| *g > sc.server.termination_grace_period) {
        push("termination_grace_period", g);
    }
    // Both added under `[server]`: one edit (each place is changed once).
    let mut merged: Vec<Edit> = Vec::new();
    for e in out {
        match merged
            .iter_mut()
            .find(|m| m.insert && e.insert && m.file == e.file && m.line == e.line)
        {
            Some(m) => {
                m.text.push('\n');
                m.text.push_str(&e.text);
            }
            None => merged.push(e),
        }
    }
    merged
}
