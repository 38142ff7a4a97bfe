//! `graceline calibrate LOG --path FAMILY --prestop D`: a whole Kubernetes path measured end to
//! end. Run `graceline backend` as the pod (with `preStop: sleep D`, longer than the path), send
//! steady traffic to it through the path (an in-cluster client on the ClusterIP for
//! `kube-proxy`, a client through the Gateway for `gateway-*`, a mesh client for `istio-mesh`, a
//! client that resolves the headless name for `headless-dns`, ...) and delete the pod. The
//! kubelet runs the preStop at once and sends SIGTERM D later, so the deletion is at SIGTERM - D
//! (the backend's `trigger` event), and the last data request that reached the backend before
//! SIGTERM is when the path stopped sending (within one request gap). The kubelet's own watch
//! delay before it starts the hook is not seen: the measurement is short by it.
//!
//! Only a whole path can be measured this way, not one of its stages, and only for the families
//! whose chain depends neither on the pod nor on a load balancer's model
//! ([`crate::scenario::path_settings::MEASURABLE_FAMILIES`]); the result is printed as the
//! `"path:<family>"` line of `[paths.stages]` to paste, which replaces that family's chain.

use super::log::{self, BackendEvent, EventKind};
use super::Calibration;
use crate::error::Loc;
use crate::output::{secs, PlainFormat};
use crate::paths::gateway::{self, Implementation};
use crate::paths::{cilium, dns, ingress, kube_proxy, lb_controller, mesh, Path};
use crate::scenario::k8s::ProxyMode;
use crate::scenario::path_settings::{MEASURABLE_FAMILIES, PATH_PREFIX};
use crate::time::Micros;
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

/// The path a family's calibration is compared with, built from the data file's figures.
pub fn model_path(family: &str) -> Option<Path> {
    let at = Loc {
        file: "calibrate".to_string(),
        line: 1,
        column: 1,
    };
    let (s, n) = ("calibrated/service", "calibrated");
    let gw = |imp| gateway::path(imp, n, "calibrated/gateway", s, at.clone());
    Some(match family {
        "kube-proxy" => kube_proxy::path(s, n, at, ProxyMode::Iptables),
        "cilium" => {
            let mut p = kube_proxy::path(s, n, at, ProxyMode::Iptables);
            cilium::swap(&mut p);
            p
        }
        "lb-controller" => lb_controller::path(s, n, at, lb_controller::Lb::Nlb, None, None),
        "gke-neg" => ingress::neg_path(s, n, at),
        "ingress-nginx" => ingress::nginx_path(s, n, at),
        "gateway-envoy-gateway" => gw(Implementation::EnvoyGateway),
        "gateway-contour" => gw(Implementation::Contour),
        "gateway-istio" => gw(Implementation::Istio),
        "gateway-gke" => gw(Implementation::Gke),
        "istio-mesh" => mesh::path(s, n, at),
        "headless-dns" => dns::path(s, n, at),
        _ => return None,
    })
}

/// One deletion's measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeasurement {
    /// 1-based index of the shutdown in the log.
    pub index: usize,
    /// Line of its `trigger` event (SIGTERM).
    pub line: u32,
    /// From the deletion until the last data request (`None`: no data request after it).
    pub measured: Option<Micros>,
    /// The median gap between data requests: the path stopped within it after `measured`.
    pub gap: Option<Micros>,
    /// The path was still sending at SIGTERM: `measured` is only a lower bound (the preStop).
    pub censored: bool,
    /// Whether the measurement lies in the model's range (widened by the tolerance and the gap).
    pub inside: Option<bool>,
    /// What else to know.
    pub note: String,
}

/// The SIGTERMs (`trigger` events) of a backend log: (line, wall-clock µs).
fn triggers(text: &str) -> Vec<(u32, i64)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v.get("event")?.as_str()? == "trigger").then_some((i as u32 + 1, v.get("t_us")?.as_i64()?))
        })
        .collect()
}

fn median_gap(ts: &[i64]) -> Option<Micros> {
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(Micros(gaps[gaps.len() / 2]))
}

/// Measures every deletion of a log whose pod slept `prestop` before SIGTERM, against the model's
/// `[best, worst]`.
pub fn measure(
    events: &[BackendEvent],
    sigterms: &[(u32, i64)],
    prestop: Micros,
    model: (Micros, Micros),
    tolerance: Micros,
) -> Vec<PathMeasurement> {
    let is_data = |p: &str| !["/readyz", "/healthz", "/livez"].contains(&p) && !p.starts_with("/admin/");
    let data: Vec<i64> = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Request { path } if is_data(path)))
        .map(|e| e.t_us)
        .collect();
    sigterms
        .iter()
        .enumerate()
        .map(|(i, &(line, e1))| {
            let deletion = e1 - prestop.0;
            let window: Vec<i64> = data
                .iter()
                .copied()
                .filter(|&t| t >= deletion - prestop.0.max(1_000_000) && t < e1)
                .collect();
            let gap = median_gap(&window);
            let last = window.iter().copied().filter(|&t| t >= deletion).max();
            let mut m = PathMeasurement {
                index: i + 1,
                line,
                measured: None,
                gap,
                censored: false,
                inside: None,
                note: String::new(),
            };
            match (last, gap) {
                (Some(last), Some(g)) if Micros(e1 - last) < g.times(2) => {
                    m.censored = true;
                    m.measured = Some(prestop);
                    m.inside = Some(model.1 + tolerance >= prestop);
                    m.note = format!(
                        "still sending at SIGTERM (last data request {} before it): lengthen the preStop to measure",
                        Micros(e1 - last)
                    );
                }
                (Some(last), Some(g)) => {
                    let t = Micros(last - deletion);
                    m.measured = Some(t);
                    m.inside = Some(t + g + tolerance >= model.0 && t <= model.1 + tolerance);
                    m.note = format!("last data request; median request gap {g}");
                }
                _ => {
                    m.note = "no steady data traffic after the deletion: send requests through the path while the pod is deleted".to_string();
                }
            }
            m
        })
        .collect()
}

/// The `[paths.stages]` line the uncensored measurements give: the path stopped within
/// `[measured, measured + gap]` each time.
pub fn paste_line(family: &str, ms: &[PathMeasurement]) -> Option<String> {
    let spans: Vec<(Micros, Micros)> = ms
        .iter()
        .filter(|m| !m.censored)
        .filter_map(|m| Some((m.measured?, m.measured? + m.gap?)))
        .collect();
    let lo = spans.iter().map(|s| s.0).min()?;
    let hi = spans.iter().map(|s| s.1).max()?;
    Some(format!(
        "\"{PATH_PREFIX}{family}\" = [\"{}ms\", \"{}ms\"]",
        lo.0 / 1_000,
        (hi.0 + 999) / 1_000
    ))
}

/// What `calibrate --path` compares, resolved from the command line.
#[derive(Debug, Clone)]
pub struct PathCalibrateOptions {
    /// The backend's JSON log; several runs may be appended.
    pub log: std::path::PathBuf,
    /// The path family measured (one of [`MEASURABLE_FAMILIES`]).
    pub family: String,
    /// The pod's preStop sleep: the deletion is SIGTERM minus it.
    pub prestop: Option<Micros>,
    /// The model's range is widened by this much on both sides before judging a measurement.
    pub tolerance: Micros,
    /// Output format.
    pub format: PlainFormat,
}

/// Runs `graceline calibrate LOG --path FAMILY --prestop D`: writes the comparison to `out` and
/// returns what it found.
pub fn run(a: &PathCalibrateOptions, out: &mut dyn Write) -> Result<Calibration> {
    let family = a.family.as_str();
    let model = model_path(family).ok_or_else(|| {
        anyhow!(
            "--path {family}: graceline measures a whole path for {} (the other families depend on the pod or a load balancer's model)",
            MEASURABLE_FAMILIES.join(", ")
        )
    })?;
    let prestop = a.prestop.ok_or_else(|| {
        anyhow!("--path needs --prestop: the pod's preStop sleep, which dates the deletion (SIGTERM - preStop)")
    })?;
    if prestop == Micros::ZERO {
        bail!("--prestop 0s: the pod must keep serving after its deletion (a preStop sleep longer than the path) for the path's end to show");
    }
    let name = a.log.display().to_string();
    let text = std::fs::read_to_string(&a.log).with_context(|| format!("{name}: cannot read"))?;
    let events = log::parse_backend_log(&name, &text)?;
    let sigterms = triggers(&text);
    if sigterms.is_empty() {
        bail!("{name}: no trigger event: the backend never got SIGTERM");
    }
    let range = (model.best(), model.worst());
    let ms = measure(&events, &sigterms, prestop, range, a.tolerance);
    let paste = paste_line(family, &ms);
    let text = match a.format {
        PlainFormat::Table => {
            let mut s = format!(
                "{family}: whole path measured end to end from each deletion (SIGTERM - preStop {prestop}; the kubelet's watch delay before the hook is not seen); model {}..{} from {}\n",
                range.0,
                range.1,
                model.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(" + ")
            );
            for m in &ms {
                s.push_str(&format!(
                    "  #{} (SIGTERM at line {}): {} {}\n",
                    m.index,
                    m.line,
                    m.measured.map_or("-".to_string(), |t| if m.censored {
                        format!(">= {t}")
                    } else {
                        t.to_string()
                    }),
                    match m.inside {
                        Some(true) if m.censored => "inconclusive",
                        Some(true) => "inside",
                        Some(false) => "OUTSIDE",
                        None => "unmeasured",
                    }
                ));
                s.push_str(&format!("     {}\n", m.note));
            }
            if let Some(p) = &paste {
                s.push_str(&format!("\npaste into graceline.toml:\n[paths.stages]\n{p}\n"));
            }
            s
        }
        PlainFormat::Json => {
            let v = serde_json::json!({
                "family": family,
                "prestop_s": secs(prestop),
                "model_best_s": secs(range.0),
                "model_worst_s": secs(range.1),
                "measurements": ms.iter().map(|m| serde_json::json!({
                    "index": m.index,
                    "line": m.line,
                    "measured_s": m.measured.map(secs),
                    "gap_s": m.gap.map(secs),
                    "censored": m.censored,
                    "inside": m.inside,
                    "note": m.note,
                })).collect::<Vec<_>>(),
                "paths_stages": paste,
            });
            format!("{}\n", serde_json::to_string_pretty(&v)?)
        }
    };
    out.write_all(text.as_bytes()).context("cannot write the output")?;
    Ok(Calibration {
        measurements: ms.len(),
        outside: ms.iter().filter(|m| m.inside == Some(false)).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(data_until_ms: i64, sigterm_ms: i64) -> String {
        // A run, steady requests every 100 ms from 0 to `data_until_ms`, SIGTERM at `sigterm_ms`.
        let base = 1_700_000_000_000_000i64;
        let mut s = format!(
            "{{\"t_us\":{base},\"mono_us\":0,\"event\":\"listening\",\"addr\":\"127.0.0.1:1\",\"tls\":false}}\n"
        );
        let mut t = 0;
        while t <= data_until_ms {
            s.push_str(&format!(
                "{{\"t_us\":{},\"mono_us\":0,\"event\":\"request\",\"method\":\"GET\",\"path\":\"/data\",\"peer\":\"127.0.0.1:2\",\"status\":200,\"phase\":\"serving\"}}\n",
                base + t * 1_000
            ));
            t += 100;
        }
        s.push_str(&format!(
            "{{\"t_us\":{},\"mono_us\":0,\"event\":\"trigger\",\"source\":\"signal\"}}\n",
            base + sigterm_ms * 1_000
        ));
        s
    }

    #[test]
    fn the_last_request_after_the_deletion_dates_the_paths_end() {
        // Deletion at 10 s (SIGTERM at 30 s - preStop 20 s); requests until 12.5 s: the path
        // stopped 2.5 s after the deletion, within one 100 ms gap. kube-proxy's model: 0..4 s.
        let text = log(12_500, 30_000);
        let events = log::parse_backend_log("b.log", &text).unwrap();
        let model = model_path("kube-proxy").unwrap();
        assert_eq!((model.best(), model.worst()), (Micros::ZERO, Micros::from_secs(4)));
        let ms = measure(
            &events,
            &triggers(&text),
            Micros::from_secs(20),
            (model.best(), model.worst()),
            Micros::from_millis(10),
        );
        assert_eq!(ms[0].measured, Some(Micros::from_millis(2_500)));
        assert_eq!(ms[0].gap, Some(Micros::from_millis(100)));
        assert_eq!(ms[0].inside, Some(true));
        assert_eq!(
            paste_line("kube-proxy", &ms).unwrap(),
            "\"path:kube-proxy\" = [\"2500ms\", \"2600ms\"]"
        );
        // Still sending at SIGTERM: only a lower bound, no line to paste.
        let text = log(30_000, 30_000);
        let events = log::parse_backend_log("b.log", &text).unwrap();
        let ms = measure(
            &events,
            &triggers(&text),
            Micros::from_secs(20),
            (Micros::ZERO, Micros::from_secs(4)),
            Micros::ZERO,
        );
        assert!(ms[0].censored);
        assert_eq!(ms[0].inside, Some(false));
        assert_eq!(paste_line("kube-proxy", &ms), None);
        // Families that depend on the pod or an LB model are not measurable this way.
        assert!(model_path("metallb-l2").is_none());
        for f in MEASURABLE_FAMILIES {
            assert!(model_path(f).is_some(), "{f}");
        }
    }
}
