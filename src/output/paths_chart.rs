//! `timeline` for the Kubernetes paths: one lane per path, its stages as segments laid end to end
//! at their worst-case (top of range) durations from the pod's deletion, with the instants that
//! decide the verdict (SIGTERM, the app stops listening) marked on each lane. Laid out as a
//! [`draw::Plan`] and painted by the load-balancer chart's plotters routine, so SVG and PNG match.

use super::chart::{draw, ensure_font, write_plan, ImageFormat};
use crate::paths::{PathReport, PathVerdict, Start};
use crate::time::Micros;
use anyhow::Result;
use draw::{ellipsize, measure, Align, Canvas, Plan};
use plotters::style::{RGBColor, WHITE};
use std::path::Path;

const WIDTH: u32 = draw::WIDTH;
const LEFT: i32 = 24;
const RIGHT: i32 = WIDTH as i32 - 40;
const TOP: i32 = 76;
const LANE: i32 = 92;

const TITLE: f64 = 20.0;
const BODY: f64 = 15.0;
const SMALL: f64 = 13.0;

use draw::{GRID, INK, MUTED};
const STOP: RGBColor = RGBColor(198, 40, 40);
const SIGTERM: RGBColor = RGBColor(110, 110, 110);
const HATCH_BG: RGBColor = RGBColor(214, 228, 246);
const HATCH: RGBColor = RGBColor(110, 150, 205);
/// Light fills, so the black stage ids on them stay readable.
const FILLS: [RGBColor; 6] = [
    RGBColor(158, 202, 225),
    RGBColor(161, 217, 155),
    RGBColor(253, 208, 162),
    RGBColor(203, 201, 226),
    RGBColor(252, 187, 161),
    RGBColor(199, 233, 192),
];

/// Diagonal hatching (lines x + y = k every 8 px) clipped to a rectangle.
fn hatch(c: &mut Canvas, (x0, y0): (i32, i32), (x1, y1): (i32, i32)) {
    let mut k = x0 + y0 + 4;
    while k < x1 + y1 {
        let start = if k - y1 >= x0 { (k - y1, y1) } else { (x0, k - x0) };
        let end = if k - y0 <= x1 { (k - y0, y0) } else { (x1, k - x1) };
        c.line(start, end, HATCH, 2, false);
        k += 8;
    }
}

/// A round tick step giving at most about twelve ticks.
fn tick_step(span: Micros) -> Micros {
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
        .iter()
        .map(|s| Micros::from_secs(*s))
        .find(|s| span.0 / s.0.max(1) <= 12)
        .unwrap_or(Micros::from_secs(7200))
}

/// Lays out the chart in pixels.
pub fn plan(reports: &[PathReport]) -> Plan {
    let end = reports
        .iter()
        .flat_map(|r| {
            [
                r.stop_listening,
                r.last_send_worst.unwrap_or(r.stop_listening),
                r.kill.min(r.stop_listening + Micros::from_secs(60)),
            ]
        })
        .max()
        .unwrap_or(Micros::from_secs(1))
        .max(Micros::from_secs(1));
    let span = Micros(end.0 + end.0 / 20);
    let x = |t: Micros| {
        let px = i128::from(RIGHT - LEFT);
        let off = i128::from(t.0.clamp(0, span.0)) * px / i128::from(span.0);
        LEFT + off as i32
    };
    let height = TOP + LANE * reports.len() as i32 + 40;
    let mut c = Canvas::default();
    let title = "Kubernetes paths: from the pod's deletion until the last consumer stops sending (worst case)";
    c.text_raw(
        (16, 20),
        Align::Left,
        &ellipsize(title, TITLE, WIDTH as i32 - 32),
        TITLE,
        INK,
        false,
    );
    let sub = "segments: stages at the top of their ranges (hatched: unverified figure); red line: the app stops listening; dashed grey: SIGTERM";
    c.text_raw(
        (16, 46),
        Align::Left,
        &ellipsize(sub, SMALL, WIDTH as i32 - 32),
        SMALL,
        MUTED,
        false,
    );

    // Grid and axis.
    let axis_y = TOP + LANE * reports.len() as i32 + 4;
    let step = tick_step(span);
    let mut t = Micros::ZERO;
    while t <= span {
        let tx = x(t);
        c.line((tx, TOP - 6), (tx, axis_y), GRID, 1, false);
        let label = t.to_string();
        let w = measure(&label, SMALL);
        if tx + w / 2 <= WIDTH as i32 - 4 {
            c.text_raw((tx, axis_y + 14), Align::Center, &label, SMALL, MUTED, false);
        }
        t += step;
    }

    for (i, r) in reports.iter().enumerate() {
        let top = TOP + LANE * i as i32;
        let (word, colour) = match r.verdict {
            PathVerdict::Pass => ("PASS", RGBColor(0, 128, 60)),
            PathVerdict::Warn => ("WARN", RGBColor(190, 110, 0)),
            PathVerdict::Fail => ("FAIL", STOP),
        };
        // Header: verdict and figures on the right, workload and path on the left.
        let right = format!(
            "{word}  margin {}  ·  last send {}  ·  stops listening {}",
            r.margin.map_or("none (never withdrawn)".to_string(), |m| m.to_string()),
            r.last_send_worst.map_or("never".to_string(), |t| t.to_string()),
            r.stop_listening
        );
        let rw = measure(&right, BODY);
        c.text_raw((WIDTH as i32 - 16, top + 8), Align::Right, &right, BODY, colour, false);
        let head = format!("{}  —  {}", r.target.name, r.path.name);
        let head = ellipsize(&head, BODY, WIDTH as i32 - 16 - rw - 16 - 16);
        c.text_raw((16, top + 8), Align::Left, &head, BODY, INK, false);

        // The stages, end to end.
        let (y0, y1) = (top + 22, top + 50);
        let mut at = match r.path.start {
            Start::Deletion => Micros::ZERO,
            Start::Sigterm => r.sigterm,
        };
        let mut list = Vec::new();
        if let Some(why) = &r.path.never_withdrawn {
            c.rect((x(at), y0), (x(end), y1), RGBColor(244, 199, 199));
            // The short label left of the red line if it fits there, else right of it.
            let label = "endpoint never withdrawn";
            let (w, stop) = (measure(label, SMALL), x(r.stop_listening));
            let lx = if x(at) + 4 + w + 6 <= stop { x(at) + 4 } else { stop + 6 };
            if lx + w <= x(end) - 4 {
                c.text_raw((lx, (y0 + y1) / 2), Align::Left, label, SMALL, INK, false);
            }
            list.push(format!("none: {why}"));
        }
        for (k, st) in r.path.stages.iter().enumerate() {
            let (x0, x1) = (x(at), x(at + st.hi).max(x(at) + 1));
            if st.unverified {
                c.rect((x0, y0), (x1, y1), HATCH_BG);
                hatch(&mut c, (x0, y0), (x1, y1));
            } else {
                c.rect((x0, y0), (x1, y1), FILLS[k % FILLS.len()]);
            }
            c.line((x1, y0), (x1, y1), WHITE, 1, false);
            if x1 - x0 >= measure(&st.id, SMALL) + 10 {
                c.text_raw((x0 + 5, (y0 + y1) / 2), Align::Left, &st.id, SMALL, INK, true);
            }
            list.push(format!(
                "{} {}{}",
                st.id,
                st.hi,
                if st.unverified { " (unverified)" } else { "" }
            ));
            at += st.hi;
        }
        // Every stage named under the bar, in order, even those too short to hold their id.
        let list = ellipsize(&format!("stages: {}", list.join(" → ")), SMALL, WIDTH as i32 - 32);
        c.text_raw((16, top + 64), Align::Left, &list, SMALL, MUTED, false);

        let sig = x(r.sigterm);
        c.line((sig, y0 - 4), (sig, y1 + 4), SIGTERM, 1, true);
        let stop = x(r.stop_listening);
        c.line((stop, y0 - 4), (stop, y1 + 4), STOP, 3, false);
    }
    let mut shapes = c.shapes;
    shapes.append(&mut c.texts);
    Plan {
        width: WIDTH,
        height: height as u32,
        shapes,
        text_boxes: c.boxes,
    }
}

/// Writes the chart to `path` as SVG or PNG by its extension (a temporary file renamed into
/// place, so a failure leaves nothing).
pub fn write(reports: &[PathReport], path: &Path) -> Result<()> {
    let format = ImageFormat::from_path(path)?;
    ensure_font()?;
    write_plan(&plan(reports), format, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Loc;
    use crate::paths::{analyze, apiserver_service, ingress, kube_proxy, lb_controller};
    use crate::scenario::k8s::{Prestop, ProxyMode, Reconciler, Target};
    use crate::scenario::{server_from_profile, ServerSource, DEFAULT_MIN_MARGIN};

    fn at(file: &str, line: u32) -> Loc {
        Loc {
            file: file.into(),
            line,
            column: 5,
        }
    }

    /// A workload's pod as the Kubernetes readers describe it: the app's shutdown profile with the
    /// pod's own preStop and grace period.
    fn pod(kind: &str, name: &str, file: &str, prestop: Prestop, grace_s: i64) -> Target {
        let profile = "app-stops-at-sigterm";
        let (mut server, _) = server_from_profile(profile, &at(file, 1)).unwrap();
        server.prestop_sleep = prestop.duration();
        server.termination_grace_period = Micros::from_secs(grace_s);
        Target {
            kind: kind.into(),
            name: name.into(),
            file: file.into(),
            container: "app".into(),
            container_loc: at(file, 12),
            grace_loc: at(file, 10),
            grace_defaulted: false,
            prestop,
            server,
            server_source: ServerSource {
                origin: format!("builtin:{profile}"),
                assumed: true,
                reason: "assumed".into(),
            },
            delay_loc: None,
            apiserver: false,
            readiness: Some("httpGet /ready".into()),
        }
    }

    /// A kube-apiserver static pod with `--shutdown-delay-duration=<delay_s>s`.
    fn apiserver(file: &str, delay_s: i64) -> Target {
        let mut t = pod("Pod (kube-apiserver)", "kube-apiserver-cp1", file, Prestop::None, 135);
        let (mut server, _) = server_from_profile("kube-apiserver", &at(file, 1)).unwrap();
        server.shutdown_delay = Micros::from_secs(delay_s);
        t.server = server;
        t.delay_loc = Some(at(file, 14));
        t.apiserver = true;
        t.readiness = Some("httpGet /readyz".into());
        t
    }

    fn sleep(file: &str, s: i64) -> Prestop {
        Prestop::Sleep {
            duration: Micros::from_secs(s),
            loc: at(file, 20),
        }
    }

    /// The reports of three sets of inputs, built without the readers: an NLB with ip targets
    /// (its long deregistration lag, its own health check as the alternative) beside a
    /// kube-apiserver; a master-count kube-apiserver (never withdrawn); ingress-nginx over IPVS,
    /// a preStop script of unknown length and a pod without preStop.
    fn report_sets() -> Vec<(&'static str, Vec<PathReport>)> {
        let nlb = crate::scenario::load_str(
            "web.yaml",
            "[server]\nprofile = \"app-stops-at-sigterm\"\n[[lb]]\nname = \"shop/web\"\nprofile = \"aws-nlb\"\nprotocol = \"http\"\npath = \"/ready\"\n",
        )
        .unwrap();
        let web = pod(
            "Deployment",
            "shop/web",
            "web-nlb-ip.yaml",
            sleep("web-nlb-ip.yaml", 10),
            45,
        );
        let mut ip = lb_controller::path(
            "shop/web",
            "shop/web:80 LoadBalancer via AWS Load Balancer Controller (NLB ip targets)",
            at("web-nlb-ip.yaml", 30),
            lb_controller::Lb::Nlb,
            None,
            false,
        );
        ip.lbs = vec!["shop/web".into()];
        ip.alternative = Some(lb_controller::health_check_of_pod(&web, &nlb.lbs[0]));
        let web_proxy = kube_proxy::path(
            "shop/web",
            "shop/web:80 LoadBalancer via kube-proxy (iptables)",
            at("web-nlb-ip.yaml", 30),
            ProxyMode::Iptables,
        );
        let api = apiserver("kube-apiserver-70s.yaml", 70);
        let api_path = |file: &str, reconciler| {
            apiserver_service::path("kube-apiserver-cp1", at(file, 10), reconciler, ProxyMode::Iptables)
        };
        let first = vec![
            analyze(&web, &web_proxy, DEFAULT_MIN_MARGIN),
            analyze(&web, &ip, DEFAULT_MIN_MARGIN),
            analyze(
                &api,
                &api_path("kube-apiserver-70s.yaml", Reconciler::Lease),
                DEFAULT_MIN_MARGIN,
            ),
        ];
        let mc = apiserver("kube-apiserver-master-count.yaml", 70);
        let second = vec![analyze(
            &mc,
            &api_path("kube-apiserver-master-count.yaml", Reconciler::MasterCount(3)),
            DEFAULT_MIN_MARGIN,
        )];
        let shop = pod(
            "Deployment",
            "default/shop",
            "ingress-nginx-ipvs.yaml",
            sleep("ingress-nginx-ipvs.yaml", 5),
            30,
        );
        let script = Prestop::Unknown {
            what: "/bin/sh -c sleep 5; nginx -s quit".into(),
            assumed: Micros::from_secs(5),
            loc: at("prestop-script.yaml", 17),
        };
        let nginx = pod("StatefulSet", "default/nginx", "prestop-script.yaml", script, 60);
        let bare = pod("Deployment", "shop/web", "web-no-prestop.yaml", Prestop::None, 30);
        let ipvs =
            |service: &str, name: &str, file: &str| kube_proxy::path(service, name, at(file, 30), ProxyMode::Ipvs);
        let third = vec![
            analyze(
                &shop,
                &ipvs(
                    "default/shop",
                    "default/shop:80 ClusterIP via kube-proxy (ipvs)",
                    "ingress-nginx-ipvs.yaml",
                ),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &nginx,
                &ipvs(
                    "default/nginx",
                    "default/nginx:80 NodePort via kube-proxy (ipvs)",
                    "prestop-script.yaml",
                ),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &bare,
                &ipvs(
                    "shop/web",
                    "shop/web:80 ClusterIP via kube-proxy (ipvs)",
                    "web-no-prestop.yaml",
                ),
                DEFAULT_MIN_MARGIN,
            ),
            analyze(
                &shop,
                &ingress::nginx_path(
                    "default/shop",
                    "default/shop -> default/shop",
                    at("ingress-nginx-ipvs.yaml", 40),
                ),
                DEFAULT_MIN_MARGIN,
            ),
        ];
        vec![
            ("web-nlb-ip + kube-apiserver-70s", first),
            ("kube-apiserver-master-count", second),
            ("ingress-nginx-ipvs + prestop-script + web-no-prestop", third),
        ]
    }

    /// Every text inside the picture and apart from every other, on lanes with a long stage, a
    /// never-withdrawn endpoint and a hook starting at SIGTERM; every stage named under its lane.
    #[test]
    fn texts_stay_inside_and_apart() {
        ensure_font().unwrap();
        for (files, r) in report_sets() {
            assert!(!r.is_empty(), "{files:?}");
            let plan = plan(&r);
            assert_eq!(plan.height, (TOP + LANE * r.len() as i32 + 40) as u32);
            let b = &plan.text_boxes;
            for (i, (p, pt)) in b.iter().enumerate() {
                assert!(
                    p.0 >= 0 && p.2 <= plan.width as i32 && p.1 >= 0 && p.3 <= plan.height as i32,
                    "{files:?}: \"{pt}\" leaves the picture"
                );
                for (q, qt) in &b[i + 1..] {
                    let apart = p.2 <= q.0 || q.2 <= p.0 || p.3 <= q.1 || q.3 <= p.1;
                    assert!(apart, "{files:?}: \"{pt}\" {p:?} overlaps \"{qt}\" {q:?}");
                }
            }
            for rep in &r {
                let first = &rep.path.stages.first().map_or("none: ".to_string(), |s| s.id.clone());
                assert!(
                    b.iter()
                        .any(|(_, t)| t.starts_with("stages: ") && t.contains(first.as_str())),
                    "{files:?}: {first}"
                );
            }
        }
    }
}
