//! Writing a check fix as Kubernetes Service annotations (AWS Load Balancer Controller and
//! in-tree AWS, cloud-provider-azure), in place or under `metadata.annotations`.

use super::*;
use crate::provider::annotations::{
    self, Cloud, AWS_TARGET_GROUP_ATTRIBUTES, CONNECTION_TERMINATION, DRAINING_INTERVAL,
};

/// A change of a Service's load balancer as its annotation, named by the table the Service reader
/// reads ([`annotations`]).
pub(super) fn service_ops(lb: &LbSpec, lines: &[String], c: &Change) -> Option<Vec<Op>> {
    let cloud = lb.provider.service_annotations()?;
    let quoted = |n: i64| format!("\"{n}\"");
    let whole = |v: &Micros| v.0 % 1_000_000 == 0;
    let (field, value) = match c {
        Change::Protocol(p) => {
            let v = match (p, cloud) {
                (Protocol::Https, Cloud::Aws) => "HTTPS",
                (Protocol::Http, Cloud::Aws) => "HTTP",
                (Protocol::Https, Cloud::Azure) => "Https",
                (Protocol::Http, Cloud::Azure) => "Http",
                _ => return None,
            };
            ("protocol", v.to_string())
        }
        Change::Path(p) => ("path", p.clone()),
        Change::Matcher => ("matcher", CODES.to_string()),
        Change::Interval(key, v) if whole(v) => (*key, quoted(v.0 / 1_000_000)),
        Change::Timeout(v) if whole(v) => ("timeout", quoted(v.0 / 1_000_000)),
        Change::Threshold(key, n) => (*key, quoted(i64::from(*n))),
        Change::NoReset(drain) if cloud == Cloud::Aws => return no_reset_ops(lb, lines, *drain),
        _ => return None,
    };
    // A setting the cloud sets by no annotation (Azure's timeout, AWS's probe_threshold) is not written.
    let key = match cloud {
        Cloud::Aws => annotations::aws(field)?,
        Cloud::Azure => {
            let port = lb
                .name
                .rsplit_once(':')
                .map(|(_, p)| p)
                .filter(|p| p.bytes().all(|b| b.is_ascii_digit()));
            annotations::azure(field, port)?
        }
    };
    // The annotation the value was read from, rewritten in place.
    if let Some((loc, false)) = loc_of(&lb.settings, field) {
        let line = lines.get((loc.line as usize).checked_sub(1)?)?;
        if loc.file == lb.loc.file && line.trim_start().starts_with(annotations::PREFIX) {
            return Some(vec![op(
                &loc.file,
                loc.line as usize,
                OpKind::Tail {
                    col: loc.column as usize,
                    text: value,
                },
            )]);
        }
        // Read from elsewhere (a port's appProtocol): only a port's own annotation overrides it.
        if !key.contains("/port_") {
            return None;
        }
    }
    annotation_ops(lb, lines, &key, &value)
}

/// The metadata of the Service whose `name:` is on 1-based `line`: its indentation and the
/// 0-based range of its lines.
pub(super) fn metadata_block(lines: &[String], line: usize) -> Option<(String, std::ops::Range<usize>)> {
    let idx = line.checked_sub(1)?;
    let name = lines.get(idx)?;
    if !name.trim_start().starts_with("name:") {
        return None;
    }
    let ind = indent_of(name).to_string();
    let inside = |l: &String| l.trim().is_empty() || l.trim_start().starts_with('#') || indent_of(l).len() >= ind.len();
    let start = (0..idx).rev().take_while(|&i| inside(&lines[i])).last().unwrap_or(idx);
    let end = (idx..lines.len())
        .take_while(|&i| inside(&lines[i]))
        .last()
        .map_or(idx + 1, |i| i + 1);
    Some((ind, start..end))
}

/// `key: value` as an annotation of the Service: the line of that key rewritten if it is there,
/// else added under `metadata.annotations` (which is added too when the Service has none).
pub(super) fn annotation_ops(lb: &LbSpec, lines: &[String], key: &str, value: &str) -> Option<Vec<Op>> {
    let file = lb.loc.file.as_str();
    let (ind, block) = metadata_block(lines, lb.loc.line as usize)?;
    let prefix = format!("{key}:");
    if let Some(i) = block.clone().find(|&i| lines[i].trim_start().starts_with(&prefix)) {
        let col = lines[i].chars().count() - lines[i].trim_start().chars().count() + prefix.chars().count() + 1;
        return Some(vec![op(
            file,
            i + 1,
            OpKind::Tail {
                col,
                text: format!(" {value}"),
            },
        )]);
    }
    let anns = block
        .clone()
        .find(|&i| indent_of(&lines[i]) == ind && lines[i].trim_start().starts_with("annotations:"));
    match anns {
        Some(i) => {
            if !lines[i].trim_start()["annotations:".len()..].trim().is_empty() {
                // Flow style (`annotations: {...}`): not rewritten.
                return None;
            }
            let child = lines
                .iter()
                .skip(i + 1)
                .find(|l| !l.trim().is_empty())
                .map(|l| indent_of(l).to_string())
                .filter(|c| c.len() > ind.len())
                .unwrap_or_else(|| format!("{ind}  "));
            Some(vec![op(
                file,
                i + 1,
                OpKind::Insert {
                    text: format!("{child}{key}: {value}"),
                },
            )])
        }
        None => {
            let at = lb.loc.line as usize;
            Some(vec![
                op(
                    file,
                    at,
                    OpKind::Insert {
                        text: format!("{ind}annotations:"),
                    },
                ),
                op(
                    file,
                    at,
                    OpKind::Insert {
                        text: format!("{ind}  {key}: {value}"),
                    },
                ),
            ])
        }
    }
}

/// GL006 in a Service: connection termination off in the target-group attributes, with an
/// unhealthy draining interval of `drain` seconds (unless one is there).
pub(super) fn no_reset_ops(lb: &LbSpec, lines: &[String], drain: i64) -> Option<Vec<Op>> {
    let key = AWS_TARGET_GROUP_ATTRIBUTES;
    let off = format!("{CONNECTION_TERMINATION}=false");
    let draining = format!("{DRAINING_INTERVAL}={drain}");
    if let Some((loc, false)) = loc_of(&lb.settings, "connection_termination") {
        let line = lines.get((loc.line as usize).checked_sub(1)?)?;
        let on = format!("{CONNECTION_TERMINATION}=true");
        if !line.contains(&on) {
            return None;
        }
        let mut ops = vec![op(&loc.file, loc.line as usize, OpKind::Sub { from: on, to: off })];
        if !line.contains(DRAINING_INTERVAL) {
            ops.push(op(
                &loc.file,
                loc.line as usize,
                OpKind::Append {
                    text: format!(",{draining}"),
                    quoted: true,
                },
            ));
        }
        return Some(ops);
    }
    let (_, block) = metadata_block(lines, lb.loc.line as usize)?;
    let prefix = format!("{key}:");
    match block.clone().find(|&i| lines[i].trim_start().starts_with(&prefix)) {
        Some(i) => {
            let extra = if lines[i].contains(DRAINING_INTERVAL) {
                String::new()
            } else {
                format!(",{draining}")
            };
            Some(vec![op(
                &lb.loc.file,
                i + 1,
                OpKind::Append {
                    text: format!(",{off}{extra}"),
                    quoted: true,
                },
            )])
        }
        None => annotation_ops(lb, lines, key, &format!("{off},{draining}")),
    }
}
