//! The capacity-planning report as a document (headings, paragraphs, tables, charts), laid out
//! from the precomputed [`Report`] and written as Markdown with SVG charts beside it, or as one
//! self-contained HTML file (`report_html`). Both formats carry the same content; nothing here
//! computes a figure.
//!
//! Files a run writes are listed in a manifest in the output directory; the next run of the same
//! format removes the files it wrote before and no longer writes (stale charts), and never any
//! other file.

use crate::analysis::report::{share, LbPart, PathPart, Report, ScenarioPart, SettingRow, Sweep};
use crate::analysis::Verdict;
use crate::paths::PathVerdict;
use crate::time::Micros;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One block of the document. Text may hold `code`, **bold** and reference marks `[n]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1 to 4.
    Heading(u8, String),
    /// A paragraph.
    Para(String),
    /// A verdict in large type (a badge in HTML).
    Verdict(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table.
    Table {
        /// Column headers.
        head: Vec<String>,
        /// Rows.
        rows: Vec<Vec<String>>,
    },
    /// A chart, by its file name (the SVG text is in [`Doc::charts`]).
    Chart {
        /// File name.
        file: String,
        /// Alternative text.
        alt: String,
    },
    /// The numbered references.
    References(Vec<String>),
}

/// The report laid out, with its charts as SVG text.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Blocks in order.
    pub blocks: Vec<Block>,
    /// `(file name, SVG)` of every chart.
    pub charts: Vec<(String, String)>,
}

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// `report.md` with SVG charts beside it.
    Markdown,
    /// One self-contained `report.html`.
    Html,
}

impl ReportFormat {
    fn tag(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
        }
    }
}

/// The manifest of the files `report` wrote in a directory, per format.
pub const MANIFEST: &str = "graceline-report.manifest";

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
    }
}

fn path_verdict(v: PathVerdict) -> &'static str {
    match v {
        PathVerdict::Pass => "pass",
        PathVerdict::Warn => "WARN",
        PathVerdict::Fail => "FAIL",
    }
}

/// A sampled time floored to a resolution that is not noise for its spread: whole seconds when
/// the figures spread over more than a minute, tenths over five seconds, else milliseconds
/// (floored, so a sample just short of the worst case never shows as it).
pub fn sampled(m: Micros, spread: Micros) -> String {
    let res = if spread >= Micros::from_secs(60) {
        1_000_000
    } else if spread >= Micros::from_secs(5) {
        100_000
    } else if spread >= Micros::from_millis(500) {
        10_000
    } else {
        1_000
    };
    if m.0 < 0 {
        return m.to_string();
    }
    Micros(m.0 / res * res).to_string()
}

/// A count with thousands separators and one decimal below 100.
pub fn count(x: f64) -> String {
    if x < 100.0 {
        let s = format!("{x:.1}");
        return if s == "0.0" && x > 0.0 { "< 0.1".to_string() } else { s };
    }
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A probability with its 95% interval, like a sampled share: `0 (< 9e-5)`, `1 (> 0.9999)`.
fn p_text(v: f64, (lo, hi): (f64, f64)) -> String {
    if v <= 0.0 {
        return format!("0 (< {})", crate::analysis::report::bound(hi));
    }
    if v >= 1.0 {
        return format!("1 (> {})", crate::analysis::report::near_one(lo));
    }
    format!(
        "{} ({}-{})",
        share(v, (lo, hi)),
        share(lo, (lo, hi)),
        share(hi, (lo, hi))
    )
}

fn signed(d: Micros) -> String {
    if d.0 >= 0 {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "/").replace('\n', " ")
}

fn refs(r: Option<usize>) -> String {
    r.map_or("-".to_string(), |i| format!("[{}]", i + 1))
}

/// Lays out the report.
pub fn layout(r: &Report) -> Result<Doc> {
    let mut b: Vec<Block> = Vec::new();
    let mut charts: Vec<(String, String)> = Vec::new();
    b.push(Block::Heading(1, "Graceful-shutdown report".to_string()));
    let inputs: Vec<String> = r.inputs.iter().map(|f| format!("`{}`", f.name)).collect();
    b.push(Block::Para(format!(
        "graceline {} · {} Monte Carlo trials per load balancer, seed {} · inputs {} · SHA-256 of the inputs `{}`",
        r.version,
        count(r.trials as f64),
        r.seed,
        inputs.join(", "),
        r.digest
    )));
    if let Some(w) = &r.trials_warning {
        b.push(Block::Para(format!("**Warning**: {w}.")));
    }
    overrides(&mut b, r);
    summary(&mut b, r);
    b.push(Block::Para(
        "How to read: E1 SIGTERM, E2 the readiness endpoint (`/readyz` for kube-apiserver) starts failing, E3 the server stops listening (or, with send-retry-after, answers 429), E5 exit. A load balancer's time runs from E2 until it routes no new request to the server: detection (until the last prober marks the server down), then propagation (until no new request is routed). The budget is E3 - E2; the exact worst case (over every probe phase, jitter and the top of the propagation range) decides the verdict, as `graceline check` does; the best case takes the bottom of the range. Sampled figures are Monte Carlo draws of the same model (propagation uniform over its range: the sources give bounds, not frequencies), with 95% intervals; percentiles are shown to a resolution their spread supports and never above the exact worst case. Rows of a Kubernetes Service's pods run from the pod's deletion, like their Kubernetes paths.".to_string(),
    ));
    for sc in &r.scenarios {
        scenario(&mut b, &mut charts, sc)?;
    }
    if !r.paths.is_empty() || !r.general.is_empty() {
        paths(&mut b, &mut charts, r)?;
    }
    if !r.references.is_empty() {
        b.push(Block::Heading(2, "References".to_string()));
        b.push(Block::References(r.references.clone()));
    }
    Ok(Doc { blocks: b, charts })
}

fn worst_against_budget(x: &LbPart) -> String {
    let row = &x.row;
    match (row.times_from, &x.route) {
        (crate::analysis::TimesFrom::NotJudged, _) => "not judged: it checks the node (GL010)".to_string(),
        (_, Some((path, _))) if row.route.as_ref().is_some_and(|r| r.never) => {
            format!("never withdrawn ({path})")
        }
        (crate::analysis::TimesFrom::PodDeletion, _) => format!(
            "{} against {} from the pod's deletion (margin {})",
            row.extremes.worst.time, row.budget, row.margin
        ),
        _ => format!(
            "{} against {} (margin {})",
            row.extremes.worst.time, row.budget, row.margin
        ),
    }
}

fn recommended_words(x: &LbPart, sc: &ScenarioPart) -> String {
    let row = &x.row;
    if let Some(p) = row.recommended_prestop {
        return format!(
            "preStop sleep >= {p}{}",
            row.recommended_termination_grace_period
                .map_or(String::new(), |g| format!(", terminationGracePeriodSeconds >= {g}"))
        );
    }
    match (row.recommended_shutdown_delay, &x.sweep) {
        (Some(d), _) if d <= sc.server.shutdown_delay && row.verdict != Verdict::Fail => {
            format!("shutdown_delay {} passes; >= {d} is enough", sc.server.shutdown_delay)
        }
        (Some(d), _) => format!(
            "shutdown_delay >= {d}{}",
            row.recommended_termination_grace_period
                .filter(|g| *g > sc.server.termination_grace_period)
                .map_or(String::new(), |g| format!(", termination_grace_period >= {g}"))
        ),
        (None, Some(s)) if s.helpless.is_some() => "no delay helps: see the findings".to_string(),
        _ if x.unchecked => "add `check` to the server line".to_string(),
        _ => "-".to_string(),
    }
}

/// The `--set` overrides, as check lists them: what each changed, in which scenario or pod, and
/// the value it replaced.
fn overrides(b: &mut Vec<Block>, r: &Report) {
    if r.overrides.is_empty() {
        return;
    }
    b.push(Block::Para(
        "**What if**: the model was judged with these `--set` overrides, not with the values in the inputs (findings point at the values in the files, where a change goes):".to_string(),
    ));
    b.push(Block::Table {
        head: ["--set", "setting", "of", "was", "scenario"].map(String::from).to_vec(),
        rows: r
            .overrides
            .iter()
            .map(|a| {
                vec![
                    format!("`{}`", cell(&a.set)),
                    cell(&a.key),
                    cell(&a.subject),
                    a.was.as_deref().map_or("-".to_string(), cell),
                    cell(&a.scenario),
                ]
            })
            .collect(),
    });
}

fn summary(b: &mut Vec<Block>, r: &Report) {
    b.push(Block::Heading(2, "Summary".to_string()));
    let mut rows = Vec::new();
    for sc in &r.scenarios {
        for x in &sc.lbs {
            let ro = &x.rollout;
            let at = x
                .sweep
                .as_ref()
                .and_then(|s| s.recommended)
                .or(x.row.recommended_prestop)
                .map_or("the recommendation".to_string(), |v| v.to_string());
            let rollout = match ro.total_recommended {
                Some(t) if t != ro.total => format!("{} now; {t} at {at} ({})", ro.total, signed(t - ro.total)),
                _ => ro.total.to_string(),
            };
            let p_any = ro.p_any.map_or("-".to_string(), |(p, i)| p_text(p, i));
            let failed = match ro.failed {
                Some(f) => match ro.failed_recommended {
                    Some(g) => format!("{} now; {} at {at}", count(f), count(g)),
                    None => count(f),
                },
                None if sc.traffic.is_none() => "- (needs `[traffic]`)".to_string(),
                None => "-".to_string(),
            };
            rows.push(vec![
                cell(&sc.name),
                cell(&x.name),
                verdict(x.row.verdict).to_string(),
                worst_against_budget(x),
                recommended_words(x, sc),
                rollout,
                p_any,
                failed,
            ]);
        }
    }
    for p in &r.paths {
        if r.scenarios
            .iter()
            .flat_map(|s| &s.lbs)
            .any(|x| x.route.as_ref().is_some_and(|(n, _)| *n == p.report.path.name))
        {
            continue;
        }
        let rep = &p.report;
        rows.push(vec![
            cell(&rep.target.name),
            cell(&format!("path {}", rep.path.name)),
            path_verdict(rep.verdict).to_string(),
            match (rep.last_send_worst, rep.margin) {
                (Some(w), Some(m)) => format!(
                    "{w} against {} from the pod's deletion (margin {m})",
                    rep.stop_listening
                ),
                _ => "never withdrawn".to_string(),
            },
            match (rep.recommended_prestop, rep.recommended_shutdown_delay) {
                (Some(p), _) => format!(
                    "preStop sleep >= {p}{}",
                    rep.recommended_grace
                        .map_or(String::new(), |g| format!(", terminationGracePeriodSeconds >= {g}"))
                ),
                (None, Some(d)) => format!("--shutdown-delay-duration >= {d}"),
                _ => "-".to_string(),
            },
            "-".to_string(),
            "-".to_string(),
            "-".to_string(),
        ]);
    }
    b.push(Block::Table {
        head: [
            "scenario",
            "load balancer",
            "verdict",
            "worst case against budget",
            "recommended",
            "rollout time",
            "P(a rollout reaches E3) now, 95%",
            "failed requests per rollout",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
}

fn scenario(b: &mut Vec<Block>, charts: &mut Vec<(String, String)>, sc: &ScenarioPart) -> Result<()> {
    b.push(Block::Heading(2, sc.name.clone()));
    let worst = sc.lbs.iter().map(|x| x.row.verdict).max().unwrap_or(Verdict::Pass);
    b.push(Block::Verdict(verdict(worst).to_string()));
    b.push(Block::Para(format!(
        "Scenario file `{}`; server `{}`{}: {}.",
        sc.file,
        sc.server_profile,
        if sc.server_assumed { " (assumed)" } else { "" },
        sc.server_reason.trim_end_matches('.')
    )));
    if let Some((server, lanes)) = &sc.walk {
        let file = format!("{}-timeline.svg", sc.slug);
        charts.push((file.clone(), crate::output::chart::svg(server, lanes)?));
        b.push(Block::Chart {
            file,
            alt: format!("worst-case timeline of {}", sc.name),
        });
    }
    b.push(Block::Heading(3, "Server timeline".to_string()));
    b.push(Block::Table {
        head: vec![
            "event".to_string(),
            if sc.from_deletion {
                "time after the pod's deletion".to_string()
            } else {
                "time after SIGTERM".to_string()
            },
            "from".to_string(),
        ],
        rows: sc
            .events
            .iter()
            .map(|e| vec![e.what.clone(), e.at.to_string(), e.from.clone()])
            .collect(),
    });
    b.push(Block::Para(format!(
        "Budget E3 - E2 = **{}**; required margin {}.",
        sc.timeline.budget(),
        sc.min_margin
    )));
    times(b, sc);
    tiers(b, sc);
    sweeps(b, charts, sc)?;
    findings(b, sc);
    clients(b, sc);
    recommendations(b, sc);
    probe_load(b, sc);
    rollout(b, sc);
    settings(b, sc);
    Ok(())
}

fn times(b: &mut Vec<Block>, sc: &ScenarioPart) {
    b.push(Block::Heading(
        3,
        "Time until no new request is routed (detection + propagation)".to_string(),
    ));
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for x in &sc.lbs {
        let row = &x.row;
        let e = &row.extremes;
        let spread = e.worst.time - e.best.time;
        let pct = |i: usize| x.percentiles.map_or("-".to_string(), |p| sampled(p[i], spread));
        let (det, prop) = if x.route.is_some() || row.times_from != crate::analysis::TimesFrom::ReadyzFailing {
            ("-".to_string(), "-".to_string())
        } else if x.unchecked {
            (
                format!(
                    "none: never checked, routed to until the process is back (E5 - E2 + startup = {})",
                    e.worst.time
                ),
                "- (never marked down)".to_string(),
            )
        } else {
            (
                format!("{} - {}", e.best.detection, e.worst.detection),
                format!(
                    "{} - {}",
                    e.best.time - e.best.detection,
                    e.worst.time - e.worst.detection
                ),
            )
        };
        rows.push(vec![
            cell(&x.name),
            x.profile.clone(),
            det,
            prop,
            e.best.time.to_string(),
            pct(0),
            pct(1),
            pct(2),
            pct(3),
            format!("**{}**", e.worst.time),
            row.budget.to_string(),
            row.margin.to_string(),
            x.p.map_or("-".to_string(), |p| p.to_string()),
            verdict(row.verdict).to_string(),
        ]);
        if let Some((path, _)) = &x.route {
            notes.push(format!(
                "**{}**: its row carries the Kubernetes path {path} (times from the pod's deletion; sampled figures are the path's; P against the preStop under the path), as `check` judges it.",
                x.name
            ));
        }
        if let Some(why) = &x.zero_p_fail {
            notes.push(format!(
                "**{}**: FAIL with no sampled restart reaching E3: {why}.",
                x.name
            ));
        }
        if row.times_from == crate::analysis::TimesFrom::NotJudged {
            notes.push(format!(
                "**{}**: it checks the node, so one pod's shutdown never shows in its health check; no figure (GL010).",
                x.name
            ));
        }
    }
    b.push(Block::Table {
        head: [
            "load balancer",
            "provider",
            "detection",
            "propagation",
            "best",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "worst (exact)",
            "budget",
            "margin",
            "P(reaches E3), 95%",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    if !notes.is_empty() {
        b.push(Block::List(notes));
    }
}

/// Per propagation tier (issue 15): the exact worst case, margin, verdict and the delay that
/// passes it, with P(violation) and failed requests of the same sampled detections under that
/// tier's propagation (integrated over its range); each P is conditional on its tier.
fn tiers(b: &mut Vec<Block>, sc: &ScenarioPart) {
    let tiered: Vec<&LbPart> = sc.lbs.iter().filter(|x| x.row.tiers.len() > 1).collect();
    if tiered.is_empty() {
        return;
    }
    b.push(Block::Heading(4, "By propagation tier".to_string()));
    let mut rows = Vec::new();
    for x in tiered {
        for (i, t) in x.row.tiers.iter().enumerate() {
            let risk = x
                .dist
                .as_ref()
                .and_then(|d| d.tiers.iter().find(|r| r.tier == t.tier).map(|r| (r, d.trials)));
            rows.push(vec![
                cell(&x.name),
                format!("{}{}", t.tier, if t.error_tier { " (error tier)" } else { "" }),
                t.range.to_string(),
                format!("{} {}", cell(t.evidence.describe()), refs(x.tier_refs.get(i).copied())),
                t.worst.to_string(),
                t.margin.to_string(),
                verdict(t.verdict).to_string(),
                t.recommended_shutdown_delay.map_or_else(
                    || "-".to_string(),
                    |d| {
                        format!(
                            "{d} (grace {})",
                            t.recommended_termination_grace_period.unwrap_or_default()
                        )
                    },
                ),
                risk.map_or_else(
                    || "-".to_string(),
                    |(r, n)| crate::analysis::report::Proportion::from_share(r.violation_probability, n).to_string(),
                ),
                risk.and_then(|(r, _)| r.expected_failed_requests)
                    .map_or_else(|| "-".to_string(), count),
            ]);
        }
    }
    b.push(Block::Table {
        head: [
            "load balancer",
            "tier",
            "propagation",
            "evidence",
            "worst (exact)",
            "margin",
            "verdict",
            "shutdown delay that passes",
            "P(reaches E3), 95%",
            "failed requests per restart",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    b.push(Block::Para(
        "The error tier decides the verdict (`--propagation tail` makes it the tail). Each P draws the same detections with that tier's propagation uniform over its range: the tiers are different kinds of evidence with unknown relative frequencies, so each P says what happens *if* propagation behaves as that tier's sources say, never one draw across them.".to_string(),
    ));
}

fn sweep_rows(s: &Sweep, traffic: bool) -> Block {
    let mut head = vec![
        s.knob.name().to_string(),
        "grace period".to_string(),
        "exact worst case".to_string(),
        "P(reaches E3), 95%".to_string(),
    ];
    let health = s.rows.iter().any(|r| r.exposure.is_some());
    if health {
        head.push("mean time routed after E3".to_string());
        head.push(if traffic {
            "failed requests per restart".to_string()
        } else {
            "failed requests per restart (needs `[traffic]`)".to_string()
        });
        head.push("rollout time".to_string());
    }
    // Past the first value that passes, a passing row only repeats it: the table keeps the
    // current and the recommended value there (the chart draws every value).
    let first_pass = s.rows.iter().position(|x| x.exact_passes);
    let rows = s
        .rows
        .iter()
        .enumerate()
        .filter(|(i, x)| {
            first_pass.is_none_or(|f| *i <= f)
                || !x.exact_passes
                || x.value == s.current
                || Some(x.value) == s.recommended
        })
        .map(|(_, x)| {
            let mut tags = Vec::new();
            if x.value == s.current {
                tags.push("now");
            }
            if Some(x.value) == s.recommended {
                tags.push("recommended");
            }
            let mut row = vec![
                if tags.is_empty() {
                    x.value.to_string()
                } else {
                    format!("**{}** ({})", x.value, tags.join(", "))
                },
                x.grace.to_string(),
                if x.exact_passes {
                    "passes".to_string()
                } else if x.exact_reaches {
                    "reaches E3".to_string()
                } else {
                    "below the margin".to_string()
                },
                x.p.to_string(),
            ];
            if health {
                row.push(x.exposure.map_or("-".to_string(), |e| sampled(e, e)));
                row.push(x.failed.map_or("-".to_string(), count));
                row.push(x.rollout.map_or("-".to_string(), |t| t.to_string()));
            }
            row
        })
        .collect();
    Block::Table { head, rows }
}

fn sweeps(b: &mut Vec<Block>, charts: &mut Vec<(String, String)>, sc: &ScenarioPart) -> Result<()> {
    let with: Vec<&LbPart> = sc.lbs.iter().filter(|x| x.sweep.is_some()).collect();
    if with.is_empty() {
        return Ok(());
    }
    b.push(Block::Heading(3, "What a longer shutdown delay buys".to_string()));
    let file = format!("{}-delay.svg", sc.slug);
    let lines: Vec<(&str, &Sweep)> = with
        .iter()
        .filter_map(|x| x.sweep.as_ref().map(|s| (x.name.as_str(), s)))
        .collect();
    if let Some(svg) = super::report_chart::sweep_svg(&sc.name, &lines, sc.traffic.is_some())? {
        charts.push((file.clone(), svg));
        b.push(Block::Chart {
            file,
            alt: format!(
                "P(violation) and failed requests against the shutdown delay, {}",
                sc.name
            ),
        });
    }
    b.push(Block::Para(format!(
        "Each row runs the same trials (seed and load balancer as above) with `shutdown_delay` at the row's value and the grace period raised where the delay needs it; the row at the current delay is the figure above. The chart and each load balancer's first table take the error tier (the propagation the verdict takes); the tables after it run the same delays with the profile's other evidence tiers (vendor, tail), each *if* propagation behaves as that tier's sources say{}.",
        if sc.traffic.is_some() {
            ""
        } else {
            "; failed requests need a `[traffic]` table, so the mean time the load balancer routes after E3 stands in"
        }
    )));
    for x in with {
        let s = x.sweep.as_ref().expect("filtered");
        b.push(Block::Heading(4, format!("{} ({})", x.name, s.tier.name)));
        if let Some(h) = &s.helpless {
            b.push(Block::Para(format!("No delay helps: {h}.")));
        }
        b.push(sweep_rows(s, sc.traffic.is_some()));
        for t in &x.tier_sweeps {
            b.push(Block::Heading(4, format!("{} ({})", x.name, t.tier.name)));
            if let Some(h) = &t.helpless {
                b.push(Block::Para(format!("No delay helps: {h}.")));
            }
            b.push(sweep_rows(t, sc.traffic.is_some()));
        }
    }
    Ok(())
}

fn findings(b: &mut Vec<Block>, sc: &ScenarioPart) {
    b.push(Block::Heading(3, "Findings".to_string()));
    if sc.findings.is_empty() {
        b.push(Block::Para("No findings.".to_string()));
        return;
    }
    // A finding that says the same of several load balancers (the message after "<lb>: ") is
    // listed once, with every location and every name.
    let mut items: Vec<(&crate::analysis::findings::Finding, Vec<String>, Vec<String>, &str)> = Vec::new();
    for f in &sc.findings {
        let (who, tail) = match sc.lbs.iter().find_map(|x| {
            f.message
                .strip_prefix(&format!("{}: ", x.name))
                .map(|t| (x.name.clone(), t))
        }) {
            Some((who, tail)) => (Some(who), tail),
            None => (None, f.message.as_str()),
        };
        let same = items
            .iter_mut()
            .find(|(g, names, _, t)| g.rule == f.rule && g.severity == f.severity && *t == tail && !names.is_empty());
        match (same, who) {
            (Some((_, names, locs, _)), Some(who)) => {
                names.push(who);
                // Two load balancers of one table share its location: name it once.
                let at = f.loc.to_string();
                if !locs.contains(&at) {
                    locs.push(at);
                }
            }
            (_, who) => items.push((f, who.into_iter().collect(), vec![f.loc.to_string()], tail)),
        }
    }
    b.push(Block::List(
        items
            .into_iter()
            .map(|(f, names, locs, tail)| {
                let locs: Vec<String> = locs.iter().map(|l| format!("`{l}`")).collect();
                let text = if names.is_empty() {
                    tail.to_string()
                } else {
                    format!("{}: {tail}", names.join(", "))
                };
                format!(
                    "**{} {}** ({}) {}: {text}",
                    f.rule.id(),
                    f.rule.name(),
                    f.severity,
                    locs.join(", ")
                )
            })
            .collect(),
    ));
}

fn clients(b: &mut Vec<Block>, sc: &ScenarioPart) {
    b.push(Block::Heading(3, "What clients see".to_string()));
    let mut items: Vec<(Vec<String>, String)> = Vec::new();
    for x in &sc.lbs {
        let Some(d) = &x.dist else { continue };
        let mut text = format!("{}.", d.client.summary);
        if let Some(c) = &d.client.connections {
            // GL019 already says it under Findings: point there instead of repeating it.
            let said = sc.findings.iter().any(|f| {
                f.rule.id() == "GL019" && f.message.strip_prefix(&format!("{}: ", x.name)) == Some(c.as_str())
            });
            if said {
                text.push_str(" Connections: as GL019 under Findings says.");
            } else {
                text.push_str(&format!(" Connections: {c}."));
            }
        }
        match items.iter_mut().find(|(_, t)| *t == text) {
            Some((names, _)) => names.push(x.name.clone()),
            None => items.push((vec![x.name.clone()], text)),
        }
    }
    let mut list: Vec<String> = items
        .into_iter()
        .map(|(names, text)| format!("**{}**: {text}", names.join(", ")))
        .collect();
    for x in &sc.lbs {
        if let Some(d) = &x.dist {
            list.push(format!(
                "**{}**: expected failed requests per restart: {}.",
                x.name,
                d.expected_failed_requests
                    .map_or("needs `[traffic]`".to_string(), count)
            ));
        }
    }
    if list.is_empty() {
        list.push("Rows carried by a Kubernetes path: see the path.".to_string());
    }
    b.push(Block::List(list));
}

fn recommendations(b: &mut Vec<Block>, sc: &ScenarioPart) {
    let with: Vec<&LbPart> = sc.lbs.iter().filter(|x| x.rec.is_some()).collect();
    if with.is_empty() {
        return;
    }
    b.push(Block::Heading(3, "Recommendations".to_string()));
    let mut grids: Vec<String> = Vec::new();
    for x in with {
        let r = x.rec.as_ref().expect("filtered");
        let mut items = Vec::new();
        if let Some(d) = r.min_shutdown_delay {
            let grace = r
                .termination_grace_period_needed
                .map_or(String::new(), |g| format!(" (then termination_grace_period >= {g})"));
            items.push(format!(
                "shutdown delay: `shutdown_delay >= {d}` passes with the current settings{grace}."
            ));
        }
        if let Some(note) = &r.note {
            items.push(format!("{note}."));
        }
        match &r.least_load {
            Some(c) => items.push(format!(
                "least probe load that passes the current delay: {} (worst case {}, {:.3} probes/s per backend; now {:.3}).",
                x.least_load_words.clone().unwrap_or_default(),
                c.worst,
                c.probes_per_second,
                r.current.probes_per_second
            )),
            None if r.note.is_none() && !r.unchecked => {
                items.push("no provider-valid setting passes the current delay; raise the delay.".to_string())
            }
            None => {}
        }
        if !r.unchecked {
            let grid = format!("searched: {} ({} valid settings).", r.grid, count(r.evaluated as f64));
            if grids.contains(&grid) {
                items.push("searched: the same grid as above.".to_string());
            } else {
                items.push(grid.clone());
                grids.push(grid);
            }
        }
        b.push(Block::Heading(4, format!("{} ({})", x.name, x.profile)));
        b.push(Block::List(items));
        if r.pareto.is_empty() || !x.pareto_shown {
            continue;
        }
        if let Some(same) = &x.pareto_same_as {
            b.push(Block::Para(format!("Pareto front: the same as {same}'s.")));
            continue;
        }
        let thin = thin(&r.pareto, r.least_load.as_ref());
        b.push(Block::Para(format!(
            "Pareto front, worst case against probe load ({} of {} points, evenly spread, with both ends and the least-load passing one):",
            thin.len(),
            r.pareto.len()
        )));
        b.push(Block::Table {
            head: ["settings", "worst case", "probes/s per backend", "current delay"]
                .map(String::from)
                .to_vec(),
            rows: thin
                .iter()
                .map(|c| {
                    let words = r
                        .pareto
                        .iter()
                        .position(|p| p.setting == c.setting)
                        .and_then(|i| x.pareto_words.get(i))
                        .cloned()
                        .unwrap_or_default();
                    vec![
                        words,
                        c.worst.to_string(),
                        format!("{:.3}", c.probes_per_second),
                        if c.worst + r.min_margin <= r.budget {
                            "passes".to_string()
                        } else {
                            "fails".to_string()
                        },
                    ]
                })
                .collect(),
        });
    }
}

/// Rows of a Pareto front shown in a report.
const PARETO_ROWS: usize = 6;

/// Evenly spread points of the front, always with both ends and the least-load passing point.
fn thin<'a>(
    front: &'a [crate::analysis::recommend::Candidate],
    keep: Option<&crate::analysis::recommend::Candidate>,
) -> Vec<&'a crate::analysis::recommend::Candidate> {
    if front.len() <= PARETO_ROWS {
        return front.iter().collect();
    }
    let n = front.len() - 1;
    let mut idx: Vec<usize> = (0..PARETO_ROWS).map(|k| k * n / (PARETO_ROWS - 1)).collect();
    if let Some(k) = keep.and_then(|c| front.iter().position(|f| f.setting == c.setting)) {
        idx.push(k);
    }
    idx.sort_unstable();
    idx.dedup();
    idx.into_iter().map(|i| &front[i]).collect()
}

fn probe_load(b: &mut Vec<Block>, sc: &ScenarioPart) {
    b.push(Block::Heading(3, "Probe load".to_string()));
    let mut rows = Vec::new();
    let (mut per_backend, mut total) = (0.0, 0.0);
    for x in &sc.lbs {
        let l = &x.load;
        per_backend += l.per_backend;
        total += l.total;
        if x.unchecked {
            rows.push(vec![
                cell(&x.name),
                cell(&x.unchecked_label),
                "-".to_string(),
                "0".to_string(),
                l.backends.to_string(),
                "0".to_string(),
                "-".to_string(),
            ]);
            continue;
        }
        rows.push(vec![
            cell(&x.name),
            format!("{}{}", l.probers, if l.probers_assumed { " (assumed)" } else { "" }),
            l.period.to_string(),
            format!("{:.3}", l.per_backend),
            l.backends.to_string(),
            format!("{:.3}", l.total),
            format!("{:.3}", l.per_prober),
        ]);
    }
    b.push(Block::Table {
        head: [
            "load balancer",
            "probers (LB nodes) per backend",
            "probe period",
            "probes/s per backend",
            "backends",
            "probes/s, all backends",
            "probes/s sent by each prober",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    b.push(Block::Para(format!(
        "Together: {per_backend:.3} probes/s on each backend and {total:.3} probes/s on all backends from {} load balancer(s).",
        sc.lbs.len()
    )));
}

fn rollout(b: &mut Vec<Block>, sc: &ScenarioPart) {
    let p = &sc.rollout;
    let r = &p.rollout;
    b.push(Block::Heading(3, "Rolling restart".to_string()));
    b.push(Block::Para(format!(
        "{} {} replicas, {} at a time ({} waves); each replica takes {} from the start of its grace period to exit, then {} to start; waves start {} apart (exit + startup + `min_ready` {}).",
        p.from,
        r.replicas,
        r.max_unavailable,
        p.waves,
        p.exit,
        r.startup_time,
        p.period,
        r.min_ready
    )));
    let rows = sc
        .lbs
        .iter()
        .map(|x| {
            let o = &x.rollout;
            let readd = match o.readmission {
                Some(t) => format!(
                    "{t} ({} checks + {} propagation)",
                    t - o.readmission_propagation,
                    o.readmission_propagation
                ),
                None if x.unchecked => "never removed (no `check`)".to_string(),
                None => "through its Kubernetes path (it checks the node)".to_string(),
            };
            let capacity = if o.all_out {
                format!("0 of {}: {}", r.replicas, o.all_out_means)
            } else {
                let share = f64::from(o.serving) / f64::from(r.replicas.max(1)) * 100.0;
                match sc.traffic {
                    Some(t) if o.serving > 0 => format!(
                        "{} of {} ({share:.0}%), {:.1} req/s each instead of {:.1}",
                        o.serving,
                        r.replicas,
                        t.requests_per_second / f64::from(o.serving),
                        t.requests_per_second / f64::from(r.replicas.max(1))
                    ),
                    _ => format!("{} of {} ({share:.0}%)", o.serving, r.replicas),
                }
            };
            vec![
                cell(&x.name),
                readd,
                format!("{} of {}", o.out_at_once, r.replicas),
                capacity,
                o.total.to_string(),
                o.p_any.map_or("-".to_string(), |(v, i)| p_text(v, i)),
                o.failed.map_or("-".to_string(), count),
            ]
        })
        .collect();
    b.push(Block::Table {
        head: [
            "load balancer",
            "re-added after (worst)",
            "out at once",
            "serving while they are out",
            "rollout time",
            "P(some restart reaches E3), 95%",
            "failed requests per rollout",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    b.push(Block::Para(
        "The next wave starts once the replacement is ready, not once the load balancer routes to it: while re-admission outlasts the time to the next replica's E2, more replicas are out at once (GL017), up to all (GL018). Rollout time = (waves - 1) x wave period + the last replica's exit, startup and re-admission; failed requests = replicas x the sampled mean per restart.".to_string(),
    ));
}

fn setting_rows(rows: &[SettingRow], effects: bool) -> Block {
    let mut head = ["setting", "value", "from", "source"].map(String::from).to_vec();
    if effects {
        head.push("a different value changes".to_string());
    }
    Block::Table {
        head,
        rows: rows
            .iter()
            .map(|s| {
                let mut row = vec![format!("`{}`", s.key), cell(&s.value), cell(&s.from), refs(s.source)];
                if effects {
                    row.push(s.effect.clone().map_or("-".to_string(), |e| cell(&e)));
                }
                row
            })
            .collect(),
    }
}

fn settings(b: &mut Vec<Block>, sc: &ScenarioPart) {
    b.push(Block::Heading(3, "Settings and what they change".to_string()));
    b.push(Block::Para(
        "\"A different value changes\" is derived from the model: the value is moved both ways and every figure recomputed (worst case: the exact worst case and with it the verdict; sampled: percentiles, P and failed requests; re-admission: the rolling restart's re-add time).".to_string(),
    ));
    b.push(Block::Para(format!("Server `{}`:", sc.server_profile)));
    b.push(setting_rows(&sc.server_settings, false));
    let mut random = Vec::new();
    match sc.timeout_probability {
        Some(p) => random.push(format!(
            "`readyz_timeout_probability` = {p}: the share of restarts whose `{}` hangs (the rest answer an error at once).",
            sc.server.readiness_path
        )),
        None => random.push(format!(
            "the failure mode is fixed (`{}` {}), not drawn.",
            sc.server.readiness_path, sc.failure_words
        )),
    }
    for x in &sc.lbs {
        b.push(Block::Para(format!(
            "Load balancer `{}` (profile `{}`): {}.",
            x.name,
            x.profile,
            x.description.trim_end_matches('.')
        )));
        if x.unchecked {
            b.push(Block::Para(format!(
                "The server line at `{}` has no `check`: HAProxy never checks it and no check setting applies; nothing to tune but adding `check`.",
                x.unchecked_at.as_deref().unwrap_or("?")
            )));
            random.push(format!("{}: {}.", x.name, x.randomness));
            continue;
        }
        // A second load balancer of the same profile lists only the settings that differ from
        // the first's (value, source or effect; where each was set is in `check`'s locations).
        let earlier = sc
            .lbs
            .iter()
            .take_while(|y| y.name != x.name)
            .find(|y| y.profile == x.profile && !y.unchecked);
        match earlier {
            Some(y) => {
                let same = |a: &SettingRow| {
                    y.settings
                        .iter()
                        .any(|b| b.key == a.key && b.value == a.value && b.source == a.source && b.effect == a.effect)
                };
                let differ: Vec<SettingRow> = x.settings.iter().filter(|a| !same(a)).cloned().collect();
                let left: Vec<String> = x
                    .settings
                    .iter()
                    .filter(|a| same(a))
                    .map(|a| format!("`{}`", a.key))
                    .collect();
                if !left.is_empty() {
                    b.push(Block::Para(format!(
                        "As `{}` (the same value, source and effect): {}.",
                        y.name,
                        left.join(", ")
                    )));
                }
                if !differ.is_empty() {
                    b.push(setting_rows(&differ, true));
                }
            }
            None => b.push(setting_rows(&x.settings, true)),
        }
        b.push(Block::Para(format!(
            "Effective check: {}. Propagation {}{}.",
            x.schedule_words,
            x.propagation_words,
            x.propagation_ref.map_or(String::new(), |i| format!(" [{}]", i + 1))
        )));
        random.push(format!("{}: {}.", x.name, x.randomness));
    }
    if let Some(t) = sc.traffic {
        random.push(format!(
            "`[traffic]`: {} requests per second over {} backends ({:.1} per backend), constant.",
            t.requests_per_second,
            t.backends,
            t.per_backend()
        ));
    }
    b.push(Block::Para("Drawn at random in the sampled figures:".to_string()));
    b.push(Block::List(random));
}

fn path_rows(b: &mut Vec<Block>, p: &PathPart) {
    let r = &p.report;
    b.push(Block::Heading(4, r.path.name.clone()));
    b.push(Block::Table {
        head: ["stage", "what", "lo", "hi", "source"].map(String::from).to_vec(),
        rows: r
            .path
            .stages
            .iter()
            .zip(&p.stage_refs)
            .map(|(s, i)| {
                vec![
                    s.id.to_string(),
                    cell(&s.label),
                    s.lo.to_string(),
                    format!("{}{}", s.hi, if s.unverified { " (unverified)" } else { "" }),
                    format!("[{}]", i + 1),
                ]
            })
            .collect(),
    });
    let opt = |m: Option<Micros>| m.map_or("-".to_string(), |m| m.to_string());
    let mut text = format!(
        "Worst case last send {}, app stops listening at {}, margin {}: **{}**. Recommended preStop {}, terminationGracePeriodSeconds {}{}.",
        opt(r.last_send_worst),
        r.stop_listening,
        opt(r.margin),
        path_verdict(r.verdict),
        opt(r.recommended_prestop),
        opt(r.recommended_grace),
        r.recommended_shutdown_delay
            .map_or(String::new(), |d| format!(", --shutdown-delay-duration {d}"))
    );
    if let (Some(d), Some(pr)) = (&p.dist, p.p) {
        let spread = r.last_send_worst.unwrap_or(Micros::ZERO) - r.last_send_best;
        text.push_str(&format!(
            " Sampled ({}): last send p50 {}, p99 {}; P(new connection reaches a closed port) {}.",
            d.distribution,
            sampled(d.last_send[0], spread),
            sampled(d.last_send[2], spread),
            pr
        ));
    }
    b.push(Block::Para(text));
    if let Some(s) = &p.sweep {
        if s.rows.len() > 1 {
            b.push(Block::Para(format!(
                "P against the {} (same trials every row; the grace period raised where it needs):",
                s.knob.name()
            )));
            b.push(sweep_rows(s, false));
        }
    }
    if !r.findings.is_empty() {
        b.push(Block::List(
            r.findings
                .iter()
                .map(|f| format!("`{}` {}", f.rule.id(), f.message))
                .collect(),
        ));
    }
}

fn paths(b: &mut Vec<Block>, charts: &mut Vec<(String, String)>, r: &Report) -> Result<()> {
    b.push(Block::Heading(2, "Kubernetes paths".to_string()));
    b.push(Block::Para(
        "Endpoint withdrawal runs in parallel with the pod's shutdown from its deletion on; a path fails when its last consumer can still send new connections when the app stops listening.".to_string(),
    ));
    if !r.paths.is_empty() {
        let reports: Vec<crate::paths::PathReport> = r.paths.iter().map(|p| p.report.clone()).collect();
        let file = "kubernetes-paths-timeline.svg".to_string();
        charts.push((file.clone(), super::report_chart::paths_svg(&reports)?));
        b.push(Block::Chart {
            file,
            alt: "Kubernetes paths".to_string(),
        });
    }
    let mut workloads: Vec<&str> = Vec::new();
    for p in &r.paths {
        if !workloads.contains(&p.report.target.name.as_str()) {
            workloads.push(&p.report.target.name);
        }
    }
    for w in workloads {
        b.push(Block::Heading(3, w.to_string()));
        for p in r.paths.iter().filter(|p| p.report.target.name == w) {
            path_rows(b, p);
        }
    }
    let mut list: Vec<String> = r
        .general
        .iter()
        .map(|(s, f)| format!("{s}: `{}` {}", f.rule.id(), f.message))
        .collect();
    // Some assumptions say "assumed:" themselves; the word once.
    list.extend(r.k8s_assumptions.iter().map(|n| {
        if n.starts_with("assumed") {
            n.clone()
        } else {
            format!("assumed: {n}")
        }
    }));
    if !list.is_empty() {
        b.push(Block::List(list));
    }
    Ok(())
}

/// The document as Markdown.
pub fn markdown(doc: &Doc) -> String {
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                out.push_str(&format!("{} {text}\n\n", "#".repeat(usize::from(*level))));
            }
            Block::Para(text) => out.push_str(&format!("{text}\n\n")),
            Block::Verdict(v) => out.push_str(&format!("Verdict: **{v}**\n\n")),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                out.push_str(&format!("| {} |\n", head.join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for r in rows {
                    out.push_str(&format!("| {} |\n", r.join(" | ")));
                }
                out.push('\n');
            }
            Block::Chart { file, alt } => out.push_str(&format!("![{alt}]({file})\n\n")),
            Block::References(list) => {
                for (i, r) in list.iter().enumerate() {
                    out.push_str(&format!("{}. {}\n", i + 1, r.replace('\n', " ")));
                }
                out.push('\n');
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Writes `bytes` to `path` whole or not at all (0666 before the umask, like the charts).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".graceline-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("{}: cannot write", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

/// The files a manifest lists, per format: `(format, file name)`.
fn read_manifest(dir: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(f, n)| (f.to_string(), n.to_string()))
        // Only plain names in the directory itself: a manifest never reaches elsewhere.
        .filter(|(_, n)| {
            !n.is_empty() && !n.contains('/') && !n.contains('\\') && n != ".." && n != "." && n != MANIFEST
        })
        .collect()
}

/// Writes the report into `dir` in `format` (Markdown: `report.md` and its SVG charts; HTML: one
/// `report.html`), removes the files an earlier run of the same format wrote and this one does
/// not, and records what it wrote in the manifest; returns the files written.
pub fn write(r: &Report, dir: &Path, format: ReportFormat) -> Result<Vec<PathBuf>> {
    // Everything is laid out before the first file is touched: an error leaves the directory as
    // it was.
    let doc = layout(r)?;
    let files: Vec<(String, Vec<u8>)> = match format {
        ReportFormat::Markdown => {
            let mut v: Vec<(String, Vec<u8>)> = doc
                .charts
                .iter()
                .map(|(n, svg)| (n.clone(), svg.clone().into_bytes()))
                .collect();
            v.push(("report.md".to_string(), markdown(&doc).into_bytes()));
            v
        }
        ReportFormat::Html => vec![("report.html".to_string(), super::report_html::html(&doc).into_bytes())],
    };
    if dir.exists() && !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the output directory", dir.display()))?;
    let before = read_manifest(dir);
    let mut written = Vec::new();
    for (name, bytes) in &files {
        let path = dir.join(name);
        write_atomically(&path, bytes)?;
        written.push(path);
    }
    let tag = format.tag();
    for (f, n) in &before {
        if f == tag && !files.iter().any(|(m, _)| m == n) {
            let stale = dir.join(n);
            if stale.is_file() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("{}: cannot remove the stale file", stale.display()))?;
            }
        }
    }
    let mut manifest = String::from(
        "# Files graceline report wrote here, per format; the next run removes the ones it no longer writes.\n",
    );
    let mut entries: Vec<(String, String)> = before.into_iter().filter(|(f, _)| f != tag).collect();
    entries.extend(files.iter().map(|(n, _)| (tag.to_string(), n.clone())));
    entries.sort();
    entries.dedup();
    for (f, n) in entries {
        manifest.push_str(&format!("{f} {n}\n"));
    }
    write_atomically(&dir.join(MANIFEST), manifest.as_bytes())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_times_keep_what_their_spread_supports() {
        let t = Micros(163_252_123);
        assert_eq!(sampled(t, Micros::from_secs(240)), "2m43s");
        assert_eq!(sampled(t, Micros::from_secs(20)), "2m43.2s");
        assert_eq!(sampled(t, Micros::from_secs(1)), "2m43.25s");
        assert_eq!(sampled(t, Micros::from_millis(100)), "2m43.252s");
        // Floored: just below the worst case never shows as it.
        assert_eq!(sampled(Micros(29_999_999), Micros::from_secs(10)), "29.9s");
    }

    #[test]
    fn counts_read_easily() {
        assert_eq!(count(39_853.4), "39,853");
        assert_eq!(count(12.34), "12.3");
        assert_eq!(count(0.0), "0.0");
        assert_eq!(count(0.01), "< 0.1");
        assert_eq!(count(1_234_567.0), "1,234,567");
    }

    #[test]
    fn a_manifest_never_names_a_file_outside_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            "markdown ../x.svg\nmarkdown a/b.svg\nmarkdown ok.svg\nmarkdown graceline-report.manifest\n",
        )
        .unwrap();
        assert_eq!(
            read_manifest(dir.path()),
            [("markdown".to_string(), "ok.svg".to_string())]
        );
    }
}
