//! The capacity-planning report, computed once: every figure the Markdown and HTML reports show
//! (the run's outcome as `check` judges it, the sampled distributions as `simulate` draws them,
//! the recommendations, P(violation) and failed requests against the shutdown delay, the rolling
//! restart, the probe load, what each assumed value changes and every source once). The renderers
//! in `output::report` and `output::report_html` only lay this value out.

use super::failopen::{health_readmission, overlap, readmission_propagation};
use super::findings::{Finding, Severity};
use super::montecarlo::{LbDistribution, SimulateOptions};
use super::outcome::{self, Outcome};
use super::recommend::{recommend, Recommendation};
use super::sensitivity::{self, Effect};
use super::walk::{LbWalk, ServerWalk};
use super::{analyze, is_unchecked, LbReport, TimesFrom, Verdict};
use crate::paths::sample::PathDistribution;
use crate::paths::{PathReport, Start};
use crate::profiles;
use crate::provider::{Propagation, Row, Schedule};
use crate::scenario::group::Group;
use crate::scenario::{LbSpec, Rollout, Scenario, Traffic};
use crate::time::Micros;
use crate::timeline::{ServerSpec, Timeline};
use anyhow::{Context, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// How much sampling a report does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    /// Monte Carlo trials per load balancer (and per row of a delay sweep).
    pub trials: u64,
    /// Random seed (the same seed gives the same report).
    pub seed: u64,
}

/// Below this many trials the report warns: p99.9 then rests on fewer than 10 samples.
pub const FEW_TRIALS: u64 = 10_000;

/// What too few trials cost (`report` and `simulate` say it), or `None` from [`FEW_TRIALS`] on.
pub fn trials_warning(trials: u64) -> Option<String> {
    (trials < FEW_TRIALS).then(|| {
        format!(
            "{trials} trials per load balancer: p99.9 rests on fewer than 10 samples above it, and a P below {} cannot be told from 0; plan with --trials 100000 or more",
            bound(3.0 / trials as f64)
        )
    })
}

/// A sampled share with its trial count, for a 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proportion {
    /// Trials that hit.
    pub hits: u64,
    /// Trials run.
    pub trials: u64,
}

impl Proportion {
    /// The violation share of a distribution.
    pub fn of(d: &LbDistribution) -> Proportion {
        Proportion::from_share(d.violation_probability, d.trials)
    }

    /// A share of `trials` (rounded to the trial it counts).
    pub fn from_share(share: f64, trials: u64) -> Proportion {
        Proportion {
            hits: (share * trials as f64).round() as u64,
            trials,
        }
    }

    /// The point estimate.
    pub fn value(&self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.hits as f64 / self.trials as f64
        }
    }

    /// The 95% interval: the rule of three (`[0, 3/n]`, `[1 - 3/n, 1]`) when no trial (or every
    /// trial) hit, else Wilson's score interval.
    pub fn interval(&self) -> (f64, f64) {
        let n = self.trials.max(1) as f64;
        if self.hits == 0 {
            return (0.0, (3.0 / n).min(1.0));
        }
        if self.hits >= self.trials {
            return ((1.0 - 3.0 / n).max(0.0), 1.0);
        }
        let z = 1.959_963_984_540_054_f64;
        let p = self.value();
        let den = 1.0 + z * z / n;
        let mid = (p + z * z / (2.0 * n)) / den;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / den;
        ((mid - half).max(0.0), (mid + half).min(1.0))
    }

    /// `1 - (1 - p)^k` for `k` independent restarts, interval bounds mapped the same way.
    pub fn any_of(&self, k: u32) -> (f64, (f64, f64)) {
        let f = |p: f64| 1.0 - (1.0 - p).powi(k as i32);
        let (lo, hi) = self.interval();
        (f(self.value()), (f(lo), f(hi)))
    }
}

/// A share printed to the digits its interval supports.
pub fn share(p: f64, (lo, hi): (f64, f64)) -> String {
    let width = (hi - lo).max(1e-9);
    let decimals = ((-width.log10()).ceil() as i32 + 1).clamp(1, 6) as usize;
    let p = format!("{p:.decimals$}");
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    trim(p)
}

/// A lower bound just below 1, floored to the digits that tell it from 1 (at most six).
pub fn near_one(lo: f64) -> String {
    let gap = (1.0 - lo).max(1e-12);
    let d = ((-gap.log10()).ceil() as i32 + 1).clamp(1, 6);
    let scale = 10f64.powi(d);
    let v = (lo * scale).floor() / scale;
    format!("{v:.prec$}", prec = d as usize)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// A small bound in short form: `3e-5`, `0.0015`.
pub fn bound(x: f64) -> String {
    if x > 0.0 && x < 1e-3 {
        let e = x.log10().floor();
        let m = x / 10f64.powf(e);
        format!("{}e{}", (m * 10.0).ceil() / 10.0, e as i32).replace(".0e", "e")
    } else {
        format!("{:.4}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

impl fmt::Display for Proportion {
    /// `0 (< 3e-5)`, `1 (> 0.99997)`, `0.62 (0.61-0.62)`: the share with its 95% interval.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lo, hi) = self.interval();
        if self.hits == 0 {
            return write!(f, "0 (< {})", bound(hi));
        }
        if self.hits >= self.trials {
            return write!(f, "1 (> {})", near_one(lo));
        }
        write!(
            f,
            "{} ({}-{})",
            share(self.value(), (lo, hi)),
            share(lo, (lo, hi)),
            share(hi, (lo, hi))
        )
    }
}

/// An input file the report was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// As named on the command line (or found through the project file).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// graceline's version.
    pub version: &'static str,
    /// The inputs, in name order.
    pub inputs: Vec<InputFile>,
    /// SHA-256 over the inputs (each file's name, length and bytes, in name order), hex.
    pub digest: String,
    /// Trials per load balancer.
    pub trials: u64,
    /// Seed.
    pub seed: u64,
    /// Why the trial count is too small to plan with, if it is.
    pub trials_warning: Option<String>,
    /// One part per scenario (a server, or a workload's pod, and its load balancers).
    pub scenarios: Vec<ScenarioPart>,
    /// The Kubernetes paths.
    pub paths: Vec<PathPart>,
    /// Findings about workloads and Services as a whole.
    pub general: Vec<(String, Finding)>,
    /// What was assumed about the Kubernetes objects.
    pub k8s_assumptions: Vec<String>,
    /// Every source quoted, once; parts refer to them by index.
    pub references: Vec<String>,
    /// The `--set` overrides the model was judged with, each with its origin (set by the command
    /// that applied them; [`build`] leaves it empty).
    pub overrides: Vec<crate::scenario::overrides::Applied>,
}

/// A source's index in [`Report::references`].
pub type Ref = usize;

/// One setting as used, with where its value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingRow {
    /// Its name.
    pub key: String,
    /// Its value as an input spells it.
    pub value: String,
    /// `set at file:line:col`, or the profile's default.
    pub from: String,
    /// The profile's source for the default (when the default applied).
    pub source: Option<Ref>,
    /// What a different value would change (assumed values only).
    pub effect: Option<String>,
}

/// One event of the server's shutdown.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// What happens.
    pub what: String,
    /// When, from the row's origin (SIGTERM, or the pod's deletion for a workload).
    pub at: Micros,
    /// The setting that places it.
    pub from: String,
}

/// The rolling restart a scenario's figures assume.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutPlan {
    /// The figures.
    pub rollout: Rollout,
    /// Where they come from, in a sentence (the `[rollout]` table, a workload, or what was assumed).
    pub from: String,
    /// Waves.
    pub waves: u32,
    /// From the start of a replica's grace period until it exits.
    pub exit: Micros,
    /// Time between two waves' starts.
    pub period: Micros,
}

/// One scenario's part.
#[derive(Debug, Clone)]
pub struct ScenarioPart {
    /// Name.
    pub name: String,
    /// File it was read from.
    pub file: String,
    /// File-name-safe stem for its charts (unique in the report).
    pub slug: String,
    /// Server profile.
    pub server_profile: String,
    /// Why this server and whether it was assumed.
    pub server_reason: String,
    /// True when nothing named the server.
    pub server_assumed: bool,
    /// The server's shutdown as configured.
    pub server: ServerSpec,
    /// Its instants.
    pub timeline: Timeline,
    /// The events, from the origin below.
    pub events: Vec<EventRow>,
    /// Times are from the pod's deletion (a workload) rather than from SIGTERM.
    pub from_deletion: bool,
    /// GL002's threshold.
    pub min_margin: Micros,
    /// `[traffic]`.
    pub traffic: Option<Traffic>,
    /// The server's settings.
    pub server_settings: Vec<SettingRow>,
    /// The worst-case timeline chart's walks (load balancers that check the server or the pod).
    pub walk: Option<(ServerWalk, Vec<LbWalk>)>,
    /// The load balancers.
    pub lbs: Vec<LbPart>,
    /// Findings of every load balancer, each once, most severe first.
    pub findings: Vec<Finding>,
    /// The rolling restart.
    pub rollout: RolloutPlan,
    /// `readyz_timeout_probability` when the failure mode is drawn.
    pub timeout_probability: Option<f64>,
    /// How `/readyz` fails, in words.
    pub failure_words: &'static str,
}

/// A load balancer's part.
#[derive(Debug, Clone)]
pub struct LbPart {
    /// Name.
    pub name: String,
    /// Profile.
    pub profile: String,
    /// The profile's description.
    pub description: String,
    /// Its row as `check` judges it.
    pub row: LbReport,
    /// A server without `check`.
    pub unchecked: bool,
    /// Where its server line is, for a server without `check`.
    pub unchecked_at: Option<String>,
    /// What checks it instead, for a server without `check` ("none (no `check`)", or a passive
    /// load balancer's words).
    pub unchecked_label: String,
    /// The Kubernetes path its row takes its verdict from: (path name, index in [`Report::paths`]).
    pub route: Option<(String, Option<usize>)>,
    /// The health check's distribution (rows judged on their own health check).
    pub dist: Option<LbDistribution>,
    /// The sampled share of restarts that reach E3 (from `dist`, or the route's path).
    pub p: Option<Proportion>,
    /// Sampled p50, p90, p99, p99.9 of the row's time (from `dist` or the path).
    pub percentiles: Option<[Micros; 4]>,
    /// The grid search (rows judged on their own health check).
    pub rec: Option<Recommendation>,
    /// Each Pareto point's settings in the provider's words (parallel to `rec.pareto`).
    pub pareto_words: Vec<String>,
    /// The least-load passing setting in the provider's words.
    pub least_load_words: Option<String>,
    /// The Pareto front is worth a table (some setting passes at some delay).
    pub pareto_shown: bool,
    /// Name of an earlier load balancer whose Pareto front (shown) is identical.
    pub pareto_same_as: Option<String>,
    /// P(violation) against the shutdown delay.
    pub sweep: Option<Sweep>,
    /// The same sweep in the other evidence tiers (vendor, tail), each with its range.
    pub tier_sweeps: Vec<Sweep>,
    /// Every assumed value and what it changes.
    pub effects: Vec<Effect>,
    /// The settings as used.
    pub settings: Vec<SettingRow>,
    /// The effective check in one line.
    pub schedule_words: String,
    /// The propagation range and where it comes from.
    pub propagation_words: String,
    /// Its source.
    pub propagation_ref: Option<Ref>,
    /// Each propagation tier's sources (parallel to `row.tiers`).
    pub tier_refs: Vec<Ref>,
    /// What the sampled figures draw at random.
    pub randomness: String,
    /// Probe load.
    pub load: ProbeLoad,
    /// Its row of the rolling restart.
    pub rollout: RolloutRow,
    /// Why a FAIL verdict comes with P = 0, if it does.
    pub zero_p_fail: Option<String>,
}

/// Probe load of one load balancer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeLoad {
    /// Independent probers (LB nodes) per backend (0: never checked).
    pub probers: u32,
    /// True when the prober count is assumed.
    pub probers_assumed: bool,
    /// Start-to-start period of one prober.
    pub period: Micros,
    /// Probes per second on one backend.
    pub per_backend: f64,
    /// Backends checked (targets, replicas or `[traffic]` backends).
    pub backends: u32,
    /// Probes per second on all backends together.
    pub total: f64,
    /// Probes per second one prober (LB node) sends over all backends.
    pub per_prober: f64,
}

/// One load balancer's row of the rolling restart.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutRow {
    /// From a replacement answering its checks until routed to (`None`: not a health-check
    /// matter, or never removed).
    pub readmission: Option<Micros>,
    /// Of which propagation.
    pub readmission_propagation: Micros,
    /// Replicas out of the load balancer at once.
    pub out_at_once: u32,
    /// True when every replica is out at once.
    pub all_out: bool,
    /// What all-unhealthy means for this load balancer.
    pub all_out_means: String,
    /// Backends that receive new requests while the most waves are out.
    pub serving: u32,
    /// Rollout time.
    pub total: Micros,
    /// Rollout time with the recommended delay (or preStop).
    pub total_recommended: Option<Micros>,
    /// P(some restart of the rollout reaches E3) with its interval.
    pub p_any: Option<(f64, (f64, f64))>,
    /// Expected failed requests per rollout.
    pub failed: Option<f64>,
    /// Expected failed requests per rollout at the recommended delay.
    pub failed_recommended: Option<f64>,
}

/// What a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// The server's `shutdown_delay` (E3 - E2).
    ShutdownDelay,
    /// The pod's preStop sleep (a path that starts at the pod's deletion).
    PreStop,
}

impl Knob {
    /// The setting's name.
    pub fn name(self) -> &'static str {
        match self {
            Knob::ShutdownDelay => "shutdown_delay",
            Knob::PreStop => "preStop sleep",
        }
    }
}

/// A propagation tier a sweep runs on: the error tier (the model's own range, which the verdict
/// takes), or another evidence tier of the profile (vendor, tail) with its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Its name in the report.
    pub name: String,
    /// The propagation range it runs on (`None`: the model's own).
    pub propagation: Option<Propagation>,
}

/// The tiers a load balancer's sweeps run on: the error tier first (the model's own range), then
/// every other evidence tier of its verdict (`by_tier`, as `check` judged it) whose range differs
/// (none for a measured propagation, which replaces every tier).
pub fn tiers(lb: &LbSpec, by_tier: &[super::tiers::TierVerdict]) -> Vec<Tier> {
    let own = lb.model.propagation;
    let measured = super::tiers::measured(lb).is_some();
    let error = if measured {
        ", measured".to_string()
    } else {
        by_tier
            .iter()
            .find(|t| t.error_tier)
            .map(|t| format!(", {} tier", t.tier))
            .unwrap_or_default()
    };
    let mut out = vec![Tier {
        name: format!("propagation {own}{error}"),
        propagation: None,
    }];
    if !measured {
        for t in by_tier {
            if t.range != own && !out.iter().any(|x| x.propagation == Some(t.range)) {
                out.push(Tier {
                    name: format!("propagation {}, {} tier", t.range, t.tier),
                    propagation: Some(t.range),
                });
            }
        }
    }
    out
}

/// P(violation) and the failed requests at one value of the knob.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// The knob's value.
    pub value: Micros,
    /// The grace period the row runs with (raised to let the value run to the end of the drain).
    pub grace: Micros,
    /// The exact worst case reaches E3 (GL001 at this value).
    pub exact_reaches: bool,
    /// The exact worst case passes with the margin.
    pub exact_passes: bool,
    /// Sampled share of restarts that reach E3.
    pub p: Proportion,
    /// Mean time per restart the LB still routes after E3 (`None` for a Kubernetes path).
    pub exposure: Option<Micros>,
    /// Expected failed requests per restart (with `[traffic]`).
    pub failed: Option<f64>,
    /// Rollout time at this value.
    pub rollout: Option<Micros>,
}

/// P(violation) against the knob, in one tier.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// What varies.
    pub knob: Knob,
    /// The tier.
    pub tier: Tier,
    /// The current value.
    pub current: Micros,
    /// The smallest value that passes with the margin (`None`: none helps).
    pub recommended: Option<Micros>,
    /// Rows in increasing value.
    pub rows: Vec<SweepRow>,
    /// Why no value helps, if none does.
    pub helpless: Option<String>,
}

/// A Kubernetes path's part.
#[derive(Debug, Clone)]
pub struct PathPart {
    /// The path as judged.
    pub report: PathReport,
    /// Its sampled distribution (`None`: never withdrawn).
    pub dist: Option<PathDistribution>,
    /// P(new connection reaches a closed port).
    pub p: Option<Proportion>,
    /// P against the preStop (or the delay).
    pub sweep: Option<Sweep>,
    /// Each stage's source.
    pub stage_refs: Vec<Ref>,
}

/// Collects sources once.
#[derive(Default)]
struct Refs(Vec<String>);

impl Refs {
    fn add(&mut self, s: &str) -> Ref {
        let s = s.trim().to_string();
        match self.0.iter().position(|x| *x == s) {
            Some(i) => i,
            None => {
                self.0.push(s);
                self.0.len() - 1
            }
        }
    }
}

/// A file-name-safe form of a scenario name.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() {
        "scenario".to_string()
    } else {
        s
    }
}

/// The report a load balancer's probe walk is drawn and explained from: its row in the outcome,
/// or, for a row that carries a Kubernetes path's figures, its own health check's analysis with
/// the row's verdict and findings (the walk is the health check's; the verdict is the row's).
pub fn walk_report(o: &Outcome, sc: &Scenario, lb: &LbSpec) -> LbReport {
    match o.lbs.iter().find(|r| r.scenario == sc.name && r.lb == lb.name) {
        Some(r) if r.route.is_some() => LbReport {
            findings: r.findings.clone(),
            verdict: r.verdict,
            ..analyze(sc, lb)
        },
        Some(r) => r.clone(),
        None => analyze(sc, lb),
    }
}

/// The inputs' names, sizes and SHA-256 digest (each file's name, length and bytes in name order;
/// a directory by its files; standard input cannot be read twice and is named only).
pub fn digest_inputs(paths: &[PathBuf]) -> Result<(Vec<InputFile>, String)> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot read the directory", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for e in entries {
                walk(&e, out)?;
            }
        } else {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    let mut files = Vec::new();
    for p in paths {
        if crate::error::is_stdin(p) {
            continue;
        }
        walk(p, &mut files)?;
    }
    files.sort();
    files.dedup();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("{}: cannot read", f.display()))?;
        let name = f.display().to_string();
        ctx.update(name.as_bytes());
        ctx.update(&[0]);
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(&bytes);
        out.push(InputFile {
            name,
            bytes: bytes.len() as u64,
        });
    }
    if paths.iter().any(|p| crate::error::is_stdin(p)) {
        out.push(InputFile {
            name: "- (standard input, not in the digest)".to_string(),
            bytes: 0,
        });
    }
    let hex: String = ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok((out, hex))
}

/// Computes the report of `groups`, read from `inputs`.
pub fn build(groups: Vec<Group>, inputs: &[PathBuf], opts: &ReportOptions) -> Result<Report> {
    let (files, digest) = digest_inputs(inputs)?;
    let o = outcome::run(groups.clone());
    let mut refs = Refs::default();
    let paths: Vec<PathPart> = o.paths.iter().map(|r| path_part(r, &groups, opts, &mut refs)).collect();
    let mut scenarios = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for g in &groups {
        for sc in &g.scenarios {
            if sc.lbs.is_empty() {
                continue;
            }
            let mut name = slug(&sc.name);
            while !used.insert(name.clone()) {
                name.push('_');
            }
            scenarios.push(scenario_part(&o, g, sc, name, &paths, opts, &mut refs)?);
        }
    }
    Ok(Report {
        version: env!("CARGO_PKG_VERSION"),
        inputs: files,
        digest,
        trials: opts.trials,
        seed: opts.seed,
        trials_warning: trials_warning(opts.trials),
        scenarios,
        paths,
        general: o.general.clone(),
        k8s_assumptions: o.assumptions.clone(),
        references: refs.0,
        overrides: Vec::new(),
    })
}

/// How `/readyz` fails, in words.
fn failure_words(s: &ServerSpec) -> &'static str {
    use crate::timeline::ReadyzFailure::*;
    match s.readyz_failure {
        Error => "answers an error status",
        Timeout => "never answers",
        Either => "answers an error or never answers",
    }
}

/// A setting's value as the scenario file spells it.
fn spelled<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_string(),
    }
}

fn events(s: &ServerSpec, tl: &Timeline, from_deletion: bool) -> Vec<EventRow> {
    let origin = if from_deletion { Micros::ZERO } else { tl.e1 };
    let at = |t: Micros| t - origin;
    let mut out = Vec::new();
    let mut ev = |what: String, t: Micros, from: String| out.push(EventRow { what, at: at(t), from });
    if s.prestop_sleep > Micros::ZERO {
        ev(
            "preStop hook starts (the pod's deletion; grace period begins)".to_string(),
            Micros::ZERO,
            "`prestop_sleep`".to_string(),
        );
    }
    ev("E1 SIGTERM".to_string(), tl.e1, String::new());
    ev(
        format!("E2 `{}` fails ({})", s.readiness_path, failure_words(s)),
        tl.e2,
        "`readyz_fail_after`".to_string(),
    );
    if s.send_retry_after {
        ev(
            "E3 stops accepting requests (429 + Retry-After, send-retry-after)".to_string(),
            tl.e3,
            format!("`shutdown_delay` = {}", s.shutdown_delay),
        );
        ev(
            "listener closes after the drain".to_string(),
            tl.listener_close,
            format!("at most `request_grace` = {}", s.request_grace),
        );
        ev(
            "E4 in-flight requests cut or done".to_string(),
            tl.e4,
            format!("+ {} shutdown timeout", crate::timeline::RETRY_AFTER_SHUTDOWN_TIMEOUT),
        );
    } else {
        ev(
            "E3 stops listening".to_string(),
            tl.e3,
            format!("`shutdown_delay` = {}", s.shutdown_delay),
        );
        ev(
            "E4 in-flight requests cut or done".to_string(),
            tl.e4,
            format!("`request_grace` = {}", s.request_grace),
        );
    }
    ev("E5 exit".to_string(), tl.e5, String::new());
    ev(
        "SIGKILL deadline".to_string(),
        tl.kill,
        format!(
            "`termination_grace_period` = {}{}",
            s.termination_grace_period,
            if tl.killed { " (cuts the drain short)" } else { "" }
        ),
    );
    out
}

/// The server's settings in the order the timeline reads, each with its value and origin.
fn server_settings(sc: &Scenario, refs: &mut Refs) -> Vec<SettingRow> {
    let s = &sc.server;
    let profile = profiles::server(&s.profile).ok();
    let mut out = Vec::new();
    macro_rules! row {
        ($field:ident, $show:expr) => {{
            let key = stringify!($field);
            let value = $show(&s.$field);
            let default = profile
                .as_ref()
                .and_then(|p| p.settings.$field.as_ref())
                .map(|v| $show(v.get_ref()));
            if default.as_deref() == Some(value.as_str()) {
                let source = profile.as_ref().and_then(|p| p.sources.get(key)).map(|v| refs.add(v));
                out.push(SettingRow {
                    key: key.to_string(),
                    value,
                    from: format!("profile `{}` default", s.profile),
                    source,
                    effect: None,
                });
            } else {
                let at = sc
                    .server_locs
                    .get(key)
                    .map_or_else(|| sc.file.clone(), |l| l.to_string());
                let was = default.map_or(String::new(), |d| format!(" (profile default {d})"));
                out.push(SettingRow {
                    key: key.to_string(),
                    value,
                    from: format!("set at `{at}`{was}"),
                    source: None,
                    effect: None,
                });
            }
        }};
    }
    let dur = |m: &Micros| m.to_string();
    row!(prestop_sleep, dur);
    row!(readyz_fail_after, dur);
    row!(readiness_path, |p: &String| format!("`{p}`"));
    row!(readyz_failure, |v: &crate::timeline::ReadyzFailure| spelled(v));
    row!(readyz_onset, |v: &crate::timeline::ReadyzOnset| spelled(v));
    row!(response_time, dur);
    row!(shutdown_delay, dur);
    row!(request_grace, dur);
    row!(termination_grace_period, dur);
    row!(send_retry_after, |v: &bool| v.to_string());
    out
}

/// One load balancer's settings as used, with what each assumed one changes.
fn lb_settings(sc: &Scenario, lb: &LbSpec, effects: &[Effect], refs: &mut Refs) -> Vec<SettingRow> {
    let Ok(p) = profiles::lb(&lb.profile) else {
        return Vec::new();
    };
    let st = &lb.settings;
    let mut out = Vec::new();
    macro_rules! row {
        ($key:expr, $v:expr, $show:expr) => {{
            if let Some(v) = $v {
                let key: &str = $key;
                let value = $show(&v.value);
                let effect = effects
                    .iter()
                    .find(|e| e.setting == key)
                    .cloned()
                    .or_else(|| sensitivity::effect_of(sc, lb, key))
                    .map(|e| e.short());
                if v.from_profile {
                    out.push(SettingRow {
                        key: key.to_string(),
                        value,
                        from: format!("profile `{}` default", p.name),
                        source: p.sources.get(key).map(|s| refs.add(s)),
                        effect,
                    });
                } else {
                    out.push(SettingRow {
                        key: key.to_string(),
                        value,
                        from: format!("set at `{}`", v.loc),
                        source: None,
                        effect,
                    });
                }
            }
        }};
    }
    // The provider's own settings are listed after the shared one of the same role.
    let own = lb.provider.own();
    macro_rules! own_rows {
        ($row:ident) => {
            for k in own.knobs.iter().filter(|k| k.row == Row::$row) {
                row!(k.name, st.own.get(k.name), |v: &crate::provider::Own| v
                    .to_string());
            }
        };
    }
    let dur = |m: &Micros| m.to_string();
    let num = |n: &u32| n.to_string();
    row!("protocol", &st.protocol, |v: &crate::provider::Protocol| spelled(v));
    row!("path", &st.path, |v: &String| format!("`{v}`"));
    row!("port", &st.port, |v: &u16| v.to_string());
    row!("matcher", &st.matcher, |v: &crate::provider::matcher::Matcher| v
        .text
        .clone());
    row!("interval", &st.interval, dur);
    own_rows!(Interval);
    row!("timeout", &st.timeout, dur);
    own_rows!(Timeout);
    row!("unhealthy_threshold", &st.unhealthy_threshold, num);
    own_rows!(Down);
    row!("healthy_threshold", &st.healthy_threshold, num);
    own_rows!(Up);
    row!(
        "probers",
        &st.probers,
        |v: &crate::provider::ProberCount| if v.lo == v.hi {
            v.hi.to_string()
        } else {
            format!("{}-{}", v.lo, v.hi)
        }
    );
    row!("propagation_delay", &st.propagation_delay, |v: &Propagation| v
        .to_string());
    own_rows!(Other);
    // An assumed value the settings table does not list (a reader's own default).
    for e in effects {
        if !out.iter().any(|r| r.key == e.setting) {
            out.push(SettingRow {
                key: e.setting.clone(),
                value: e.value.clone(),
                from: "assumed".to_string(),
                source: Some(refs.add(&e.source)),
                effect: Some(e.short()),
            });
        }
    }
    out
}

/// The rolling restart: the scenario's `[rollout]`, else the workload's replicas, else assumed.
fn rollout_plan(g: &Group, sc: &Scenario) -> RolloutPlan {
    let assumed = |replicas: u32| Rollout {
        replicas,
        max_unavailable: 1,
        startup_time: Micros::ZERO,
        min_ready: Micros::ZERO,
        line: 1,
        column: 1,
    };
    let (rollout, from) = match (sc.rollout, &sc.target) {
        (Some(r), _) => (r, "Taken from the scenario's `[rollout]` table.".to_string()),
        (None, Some(t)) => match g.objects.workloads.iter().find(|w| w.name == t.name) {
            Some(w) => match w.pods() {
                Some(n) => (
                    assumed(n.max(1)),
                    format!(
                        "Taken from {} {}: {} replica(s){}; one pod at a time and a 0s startup time assumed (its maxUnavailable and startup are not read).",
                        w.kind,
                        w.name,
                        n,
                        w.replicas
                            .as_ref()
                            .map_or(" (replicas absent: 1)".to_string(), |(_, l)| format!(" at `{l}`"))
                    ),
                ),
                None => (
                    assumed(3),
                    format!(
                        "{} {} runs one pod per node: 3 nodes, one pod at a time and a 0s startup time assumed.",
                        w.kind, w.name
                    ),
                ),
            },
            None => (
                assumed(3),
                format!("{}: no workload among the inputs; 3 replicas, one at a time and a 0s startup time assumed.", t.name),
            ),
        },
        (None, None) => {
            let n = sc.traffic.map_or(3, |t| t.backends);
            (
                assumed(n),
                format!(
                    "No `[rollout]` table: {n} replicas{}, one at a time and a 0s startup time assumed (set `[rollout] replicas`, `max_unavailable`, `startup_time`).",
                    if sc.traffic.is_some() { " (the `[traffic]` backends)" } else { "" }
                ),
            )
        }
    };
    let tl = sc.server.timeline();
    let exit = tl.e5;
    RolloutPlan {
        waves: rollout.replicas.div_ceil(rollout.max_unavailable.max(1)),
        period: exit + rollout.startup_time + rollout.min_ready,
        exit,
        rollout,
        from,
    }
}

/// Rollout time for a server: `(waves - 1) x period + the last replica's exit, startup and
/// re-admission`.
fn rollout_time(server: &ServerSpec, r: &Rollout, readmit: Micros) -> Micros {
    let exit = server.timeline().e5;
    let period = exit + r.startup_time + r.min_ready;
    let waves = r.replicas.div_ceil(r.max_unavailable.max(1));
    period.times(i64::from(waves) - 1) + exit + r.startup_time + readmit
}

/// The server with the knob at `value` and the grace period raised to let it run to the end.
fn with_knob(server: &ServerSpec, knob: Knob, value: Micros) -> ServerSpec {
    let mut s = server.clone();
    match knob {
        Knob::ShutdownDelay => s.shutdown_delay = value,
        Knob::PreStop => s.prestop_sleep = value,
    }
    s.termination_grace_period = server.termination_grace_period.max(super::rules::grace::full_drain(&s));
    s
}

/// Round values from `lo` to `hi` (about eight), with `must` added.
fn sweep_values(lo: Micros, hi: Micros, must: &[Micros]) -> Vec<Micros> {
    let lo = lo.max(Micros::ZERO);
    let span = (hi - lo).max(Micros::from_secs(1));
    let raw = span.0 / 7;
    let steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1_800, 3_600].map(Micros::from_secs);
    let step = steps
        .iter()
        .copied()
        .find(|s| s.0 >= raw)
        .unwrap_or(Micros::from_secs(3_600));
    let mut out: Vec<Micros> = Vec::new();
    let mut v = Micros(lo.0 / step.0 * step.0);
    while v <= hi {
        out.push(v);
        v += step;
    }
    out.extend(must.iter().copied().filter(|m| *m >= Micros::ZERO));
    out.sort();
    out.dedup();
    out
}

/// P(violation) and failed requests of a health-check row against the shutdown delay, in one
/// tier; every row draws the same trials (the same seed and LB index, so the same phases and
/// propagation draws), which keeps P monotone where the draws do not depend on the delay.
pub fn delay_sweep(
    sc: &Scenario,
    lb_index: usize,
    tier: &Tier,
    rollout: &Rollout,
    opts: &ReportOptions,
) -> Option<Sweep> {
    let lb = &sc.lbs[lb_index];
    if is_unchecked(lb) {
        return None;
    }
    let mut base = sc.clone();
    if let Some(p) = tier.propagation {
        base.lbs[lb_index].model.propagation = p;
    }
    let lbx = &base.lbs[lb_index];
    let lat = lbx.latency_range(&sc.server);
    let ext = super::exact::extremes_with(&sc.server, &lbx.model, lat);
    let current = sc.server.shutdown_delay;
    let view = lbx.model.view;
    let sees = sc.server.readyz_failure.concrete().iter().all(|&m| view.sees(m));
    let helps = sees && sc.server.readyz_onset == crate::timeline::ReadyzOnset::ShutdownStart;
    let unbounded = super::exact::unbounded_worst_with(&sc.server, &lbx.model, lat);
    let recommended = helps.then_some(unbounded + sc.min_margin);
    let values = match recommended {
        Some(r) => sweep_values(ext.best.time.min(current), r.max(current), &[current, r, unbounded]),
        None => vec![current],
    };
    let sim = SimulateOptions {
        trials: opts.trials,
        seed: opts.seed,
    };
    let readmit = health_readmission(&lbx.model, sc.server.response_time) + readmission_propagation(sc, lbx);
    let rows = values
        .into_iter()
        .map(|v| {
            let mut s = base.clone();
            if v != current {
                s.server = with_knob(&sc.server, Knob::ShutdownDelay, v);
            }
            let d = super::streaming::distribution(&s, lb_index, &sim, &|_| {});
            let worst = super::exact::extremes_with(&s.server, &s.lbs[lb_index].model, lat)
                .worst
                .time;
            let budget = s.server.timeline().budget();
            SweepRow {
                value: v,
                grace: s.server.termination_grace_period,
                exact_reaches: worst >= budget,
                exact_passes: worst < budget && budget - worst >= sc.min_margin,
                p: Proportion::of(&d),
                exposure: Some(Micros((d.mean_exposure_s * 1e6).round() as i64)),
                failed: d.expected_failed_requests,
                rollout: Some(rollout_time(&s.server, rollout, readmit)),
            }
        })
        .collect();
    Some(Sweep {
        knob: Knob::ShutdownDelay,
        tier: tier.clone(),
        current,
        recommended,
        rows,
        helpless: (!helps).then(|| {
            if !sees {
                "the check only fails once the server stops listening (GL003), so no delay changes P".to_string()
            } else {
                "/readyz only fails when the listener closes (readyz_onset = listener-close), so no delay changes P"
                    .to_string()
            }
        }),
    })
}

/// A path as it would be with the knob at `value` (the pod's health-check alternative rebuilt).
fn path_at(r: &PathReport, knob: Knob, value: Micros, lbs: &[&LbSpec]) -> PathReport {
    let mut p = r.clone();
    p.target.server = with_knob(&r.target.server, knob, value);
    if let Some(alt) = &mut p.path.alternative {
        if let Some(lb) = lbs.iter().find(|l| alt.label.starts_with(&format!("{} (", l.name))) {
            *alt = crate::paths::lb_controller::health_check_of_pod(&p.target, lb);
        }
    }
    p
}

/// P(new connection reaches a closed port) of a path against its preStop (paths from the pod's
/// deletion) or its delay (kube-apiserver's, from SIGTERM).
fn path_sweep(r: &PathReport, lbs: &[&LbSpec], opts: &ReportOptions) -> Option<Sweep> {
    r.last_send_worst?;
    let (knob, current, recommended) = match r.path.start {
        Start::Deletion => (Knob::PreStop, r.target.server.prestop_sleep, r.recommended_prestop),
        Start::Sigterm => (
            Knob::ShutdownDelay,
            r.target.server.shutdown_delay,
            r.recommended_shutdown_delay,
        ),
    };
    let offset = match knob {
        Knob::PreStop => r.target.app_delay(),
        Knob::ShutdownDelay => r.sigterm,
    };
    let values = match recommended {
        Some(rec) => sweep_values(
            (r.last_send_best - offset).min(current),
            rec.max(current),
            &[current, rec],
        ),
        None => vec![current],
    };
    let rows = values
        .into_iter()
        .map(|v| {
            let p = if v == current {
                r.clone()
            } else {
                path_at(r, knob, v, lbs)
            };
            let d = crate::paths::sample::sample(&p, opts.trials, opts.seed);
            let (worst, stop) = path_worst(&p);
            SweepRow {
                value: v,
                grace: p.target.server.termination_grace_period,
                exact_reaches: worst >= stop,
                exact_passes: worst < stop && stop - worst >= r.min_margin,
                p: d.as_ref().map_or(Proportion { hits: 1, trials: 1 }, |d| {
                    Proportion::from_share(d.p_fail, d.trials)
                }),
                exposure: None,
                failed: None,
                rollout: None,
            }
        })
        .collect();
    Some(Sweep {
        knob,
        tier: Tier {
            name: "each stage's typical range".to_string(),
            propagation: None,
        },
        current,
        recommended,
        rows,
        helpless: recommended
            .is_none()
            .then(|| "the path starts at SIGTERM or never ends, so no preStop changes P".to_string()),
    })
}

/// A path's worst last send and the app's stop in that case, from its stages (every stage at the
/// top of its typical range; the earlier of the chain and its alternative).
fn path_worst(p: &PathReport) -> (Micros, Micros) {
    let start = match p.path.start {
        Start::Deletion => Micros::ZERO,
        Start::Sigterm => p.sigterm,
    };
    let main = p.path.stages.iter().fold(start, |x, s| x + s.hi);
    let worst = match &p.path.alternative {
        Some(a) => main.min(a.stages.iter().fold(start, |x, s| x + s.hi)),
        None => main,
    };
    let hook = p.path.stages.first().map_or(Micros::ZERO, |s| s.hi);
    let stop = crate::paths::stop_listening(&p.target, &p.path, p.target.server.prestop_sleep, hook);
    (worst, stop)
}

fn path_part(r: &PathReport, groups: &[Group], opts: &ReportOptions, refs: &mut Refs) -> PathPart {
    let lbs: Vec<&LbSpec> = groups.iter().flat_map(|g| g.lbs()).collect();
    let dist = crate::paths::sample::sample(r, opts.trials, opts.seed);
    PathPart {
        p: dist.as_ref().map(|d| Proportion::from_share(d.p_fail, d.trials)),
        sweep: path_sweep(r, &lbs, opts),
        stage_refs: r.path.stages.iter().map(|s| refs.add(&s.source)).collect(),
        report: r.clone(),
        dist,
    }
}

/// Why an LB fails although no sampled restart reached E3, in one line; `None` otherwise.
fn zero_probability_fail(r: &LbReport, p: Option<Proportion>) -> Option<String> {
    if r.verdict != Verdict::Fail || p.is_none_or(|p| p.hits > 0) {
        return None;
    }
    let w = &r.extremes.worst;
    if r.route.is_none() && w.time >= r.budget && !w.witness.attained {
        return Some(format!(
            "the worst case {} is a supremum, approached as the last passing probe starts ever closer before the onset but never reached, so sampled restarts (probability 0 of that exact phase) stay below E3 while the exact check flags E2 + t >= E3",
            w.time
        ));
    }
    let rules: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule.id())
        .collect();
    Some(format!(
        "the verdict comes from {} (not from the sampled time, which stays below the budget in every sampled restart)",
        rules.join(", ")
    ))
}

/// Backends one load balancer checks: its targets, else the rollout's replicas.
fn backends(lb: &LbSpec, plan: &RolloutPlan) -> u32 {
    crate::provider::aws::Knobs::of(&lb.settings)
        .targets
        .map_or(plan.rollout.replicas, |t| t.value)
        .max(1)
}

#[allow(clippy::too_many_arguments)]
fn scenario_part(
    o: &Outcome,
    g: &Group,
    sc: &Scenario,
    slug: String,
    paths: &[PathPart],
    opts: &ReportOptions,
    refs: &mut Refs,
) -> Result<ScenarioPart> {
    let tl = sc.server.timeline();
    let from_deletion = sc.target.is_some();
    let plan = rollout_plan(g, sc);
    // Sampled like `simulate`: the load balancers that check the node leave its scenario, so the
    // others keep the LB index (and the draws) simulate gives them.
    let mut sampled = sc.clone();
    sampled.lbs.retain(|lb| !lb.check.is_node());
    let chart_reports: Vec<LbReport> = sampled.lbs.iter().map(|lb| walk_report(o, sc, lb)).collect();
    let walk = if sampled.lbs.is_empty() {
        None
    } else {
        Some(super::walk::walk_reports(&sampled, &chart_reports)?)
    };
    let sim = SimulateOptions {
        trials: opts.trials,
        seed: opts.seed,
    };
    let mut lbs: Vec<LbPart> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    for lb in &sc.lbs {
        let row = o
            .lbs
            .iter()
            .find(|r| r.scenario == sc.name && r.lb == lb.name)
            .cloned()
            .unwrap_or_else(|| analyze(sc, lb));
        for f in &row.findings {
            if !findings
                .iter()
                .any(|x| x.rule == f.rule && x.loc == f.loc && x.message == f.message)
            {
                findings.push(f.clone());
            }
        }
        let index = sampled.lbs.iter().position(|l| l.name == lb.name);
        let route = row.route.as_ref().map(|r| {
            (
                r.path.clone(),
                paths.iter().position(|p| {
                    p.report.path.name == r.path && sc.target.as_ref().is_none_or(|t| t.name == p.report.target.name)
                }),
            )
        });
        let own = route.is_none() && row.times_from == TimesFrom::ReadyzFailing;
        let dist = match index {
            Some(i) if own => Some(super::streaming::distribution(&sampled, i, &sim, &|_| {})),
            _ => None,
        };
        let path = route.as_ref().and_then(|(_, i)| i.map(|i| &paths[i]));
        let (p, percentiles) = match (&dist, path) {
            (Some(d), _) => (Some(Proportion::of(d)), Some([d.p50, d.p90, d.p99, d.p999])),
            (None, Some(pp)) => (pp.p, pp.dist.as_ref().map(|d| d.last_send)),
            _ => (None, None),
        };
        let rec = own.then(|| recommend(sc, lb));
        // A front where no setting passes at any delay (a blind check) says nothing to choose from.
        let pareto_shown = rec
            .as_ref()
            .is_some_and(|r| r.min_shutdown_delay.is_some() || r.least_load.is_some());
        let pareto_same_as = rec.as_ref().filter(|_| pareto_shown).and_then(|r| {
            lbs.iter()
                .filter(|x| x.pareto_shown)
                .find(|x| {
                    x.rec
                        .as_ref()
                        .is_some_and(|y| !r.pareto.is_empty() && y.pareto == r.pareto)
                })
                .map(|x| x.name.clone())
        });
        let (sweep, tier_sweeps) = match index {
            Some(i) if own => {
                let ts = tiers(lb, &row.tiers);
                let mut all = ts
                    .iter()
                    .filter_map(|t| delay_sweep(&sampled, i, t, &plan.rollout, opts));
                let first = all.next();
                (first, all.collect())
            }
            _ => (None, Vec::new()),
        };
        let effects = sensitivity::effects(sc, lb);
        let settings = lb_settings(sc, lb, &effects, refs);
        let propagation_ref = profiles::lb(&lb.profile)
            .ok()
            .and_then(|p| p.sources.get("propagation_delay").cloned())
            .filter(|_| lb.settings.propagation_delay.as_ref().is_none_or(|p| p.from_profile))
            .map(|s| refs.add(&s));
        let tier_refs = row.tiers.iter().map(|t| refs.add(&t.source)).collect();
        let unchecked = is_unchecked(lb);
        let load = probe_load(sc, lb, &row, &plan);
        let rollout = rollout_row(sc, lb, &row, &plan, dist.as_ref(), sweep.as_ref(), p);
        lbs.push(LbPart {
            name: lb.name.clone(),
            profile: lb.profile.clone(),
            description: profiles::lb(&lb.profile)
                .map(|p| p.description.clone())
                .unwrap_or_default(),
            unchecked,
            unchecked_label: super::unchecked_label(lb),
            unchecked_at: lb
                .settings
                .unchecked
                .as_ref()
                .filter(|u| u.value)
                .map(|u| u.loc.to_string()),
            route,
            p,
            percentiles,
            zero_p_fail: zero_probability_fail(&row, p),
            pareto_words: rec.as_ref().map_or_else(Vec::new, |r| {
                r.pareto.iter().map(|c| lb.provider.describe(&c.setting)).collect()
            }),
            least_load_words: rec
                .as_ref()
                .and_then(|r| r.least_load.as_ref())
                .map(|c| lb.provider.describe(&c.setting)),
            rec,
            pareto_shown,
            pareto_same_as,
            sweep,
            tier_sweeps,
            effects,
            settings,
            schedule_words: super::explain::describe_schedule(lb),
            propagation_words: propagation_words(lb),
            propagation_ref,
            tier_refs,
            randomness: sensitivity::randomness(sc, sc.lbs.iter().position(|l| l.name == lb.name).unwrap_or(0)),
            load,
            rollout,
            dist,
            row,
        });
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    Ok(ScenarioPart {
        name: sc.name.clone(),
        file: sc.file.clone(),
        slug,
        server_profile: sc.server.profile.clone(),
        server_reason: sc.server_source.reason.clone(),
        server_assumed: sc.server_source.assumed,
        events: events(&sc.server, &tl, from_deletion),
        from_deletion,
        server: sc.server.clone(),
        timeline: tl,
        min_margin: sc.min_margin,
        traffic: sc.traffic,
        server_settings: server_settings(sc, refs),
        walk,
        lbs,
        findings,
        rollout: plan,
        timeout_probability: (sc.server.readyz_failure == crate::timeline::ReadyzFailure::Either)
            .then_some(sc.readyz_timeout_probability),
        failure_words: failure_words(&sc.server),
    })
}

/// The propagation range and where it comes from, in a line (the evidence itself is a reference).
fn propagation_words(lb: &LbSpec) -> String {
    let p = lb.model.propagation;
    match &lb.settings.propagation_delay {
        Some(v) if !v.from_profile => format!("{p}, your propagation_delay (`{}`)", v.loc),
        _ => format!(
            "{p}, the {} profile's default ({})",
            lb.profile,
            lb.propagation_evidence.describe()
        ),
    }
}

fn probe_load(sc: &Scenario, lb: &LbSpec, row: &LbReport, plan: &RolloutPlan) -> ProbeLoad {
    let n = backends(lb, plan);
    if is_unchecked(lb) {
        return ProbeLoad {
            probers: 0,
            probers_assumed: false,
            period: Micros::ZERO,
            per_backend: 0.0,
            backends: n,
            total: 0.0,
            per_prober: 0.0,
        };
    }
    let m = &lb.model;
    let lat = lb.latency_range(&sc.server);
    let period = match m.schedule {
        Schedule::FixedRate { interval } => interval,
        Schedule::CompletionRelative { inter, .. } => inter + lat.lo,
    };
    let per_backend = row.probes_per_second;
    ProbeLoad {
        probers: m.probers,
        probers_assumed: row.assumed.iter().any(|(k, _, _)| k == "probers"),
        period,
        per_backend,
        backends: n,
        total: per_backend * f64::from(n),
        per_prober: per_backend * f64::from(n) / f64::from(m.probers.max(1)),
    }
}

fn rollout_row(
    sc: &Scenario,
    lb: &LbSpec,
    row: &LbReport,
    plan: &RolloutPlan,
    dist: Option<&LbDistribution>,
    sweep: Option<&Sweep>,
    p: Option<Proportion>,
) -> RolloutRow {
    let r = &plan.rollout;
    let replicas = r.replicas;
    let at_recommended = sweep.and_then(|s| {
        let rec = s.recommended?;
        s.rows.iter().find(|x| x.value == rec)
    });
    let failed_of = |per_restart: Option<f64>| per_restart.map(|f| f * f64::from(replicas));
    if is_unchecked(lb) {
        return RolloutRow {
            readmission: None,
            readmission_propagation: Micros::ZERO,
            out_at_once: r.max_unavailable.min(replicas),
            all_out: false,
            all_out_means: "never marked down, so new requests reach the stopped processes instead".to_string(),
            serving: replicas.saturating_sub(r.max_unavailable),
            total: rollout_time(&sc.server, r, Micros::ZERO),
            total_recommended: None,
            p_any: p.map(|p| p.any_of(replicas)),
            failed: failed_of(dist.and_then(|d| d.expected_failed_requests)),
            failed_recommended: None,
        };
    }
    let node = lb.check.is_node();
    let (readmit, out_at_once) = if node {
        // A node check: the pod comes back through its Kubernetes path when ready, not through
        // this health check; a wave is out for its own restart only.
        (None, r.max_unavailable.min(replicas))
    } else {
        let ov = overlap(sc, lb, r);
        (Some(ov.readmission), ov.out_at_once)
    };
    let readd = readmit.unwrap_or(Micros::ZERO);
    let total_recommended = match (row.route.is_some(), at_recommended) {
        (false, Some(x)) => x.rollout,
        (true, _) => row.recommended_prestop.map(|p| {
            let s = with_knob(&sc.server, Knob::PreStop, p);
            rollout_time(&s, r, readd)
        }),
        _ => None,
    };
    RolloutRow {
        readmission: readmit,
        readmission_propagation: readmission_propagation(sc, lb),
        out_at_once,
        all_out: out_at_once >= replicas,
        all_out_means: lb.provider.all_unhealthy().to_string(),
        serving: replicas.saturating_sub(out_at_once),
        total: rollout_time(&sc.server, r, readd),
        total_recommended,
        p_any: p.map(|p| p.any_of(replicas)),
        failed: failed_of(dist.and_then(|d| d.expected_failed_requests)),
        failed_recommended: failed_of(at_recommended.and_then(|x| x.failed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions_carry_their_interval() {
        let zero = Proportion {
            hits: 0,
            trials: 100_000,
        };
        assert_eq!(zero.to_string(), "0 (< 3e-5)");
        let all = Proportion {
            hits: 100_000,
            trials: 100_000,
        };
        assert_eq!(all.to_string(), "1 (> 0.99997)");
        let some = Proportion {
            hits: 61_530,
            trials: 100_000,
        };
        let (lo, hi) = some.interval();
        assert!(lo < 0.6153 && 0.6153 < hi && hi - lo < 0.007, "{lo} {hi}");
        assert_eq!(some.to_string(), "0.6153 (0.6123-0.6183)");
        // Wilson at 1 of 10: 0.018-0.404.
        let (lo, hi) = Proportion { hits: 1, trials: 10 }.interval();
        assert!((lo - 0.0179).abs() < 1e-3 && (hi - 0.4042).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(Proportion { hits: 0, trials: 2_000 }.to_string(), "0 (< 0.0015)");
    }

    #[test]
    fn sweep_values_are_round_and_keep_the_must_haves() {
        let v = sweep_values(
            Micros::from_secs(40),
            Micros::from_secs(265),
            &[Micros::from_secs(129), Micros::from_secs(265)],
        );
        assert!(v[0] <= Micros::from_secs(40), "{v:?}");
        assert!(v.contains(&Micros::from_secs(129)) && v.contains(&Micros::from_secs(265)));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert!(v.len() <= 12, "{v:?}");
    }

    #[test]
    fn every_lb_profile_reports_against_a_server_profile() {
        let scenarios: Vec<Scenario> = crate::scenario::builtin_matrix()
            .into_iter()
            .filter(|s| s.server.profile == "kube-apiserver-openshift")
            .collect();
        assert_eq!(scenarios.len(), 10);
        let r = build(
            vec![Group::of_scenarios(scenarios)],
            &[],
            &ReportOptions { trials: 2_000, seed: 1 },
        )
        .unwrap();
        let lbs: Vec<&str> = r
            .scenarios
            .iter()
            .flat_map(|s| s.lbs.iter().map(|x| x.profile.as_str()))
            .collect();
        for lb in [
            "aws-nlb",
            "aws-alb",
            "aws-clb",
            "gcp",
            "azure-lb",
            "haproxy",
            "nginx",
            "nginx-plus",
            "talos-kubeprism",
            "k3s-agent-lb",
        ] {
            assert!(lbs.contains(&lb), "{lb} missing from the report");
        }
        for s in &r.scenarios {
            assert!(s.rollout.from.starts_with("No `[rollout]` table"), "{}", s.rollout.from);
            for x in &s.lbs {
                // Every row has its sampled P and a sweep whose current row is that P; a load
                // balancer without active checks (nginx) routes until the server is back,
                // whatever the delay: no sweep.
                let Some(sweep) = x.sweep.as_ref() else {
                    assert!(x.unchecked, "{} has no sweep", x.name);
                    continue;
                };
                let now = sweep.rows.iter().find(|row| row.value == sweep.current).unwrap();
                assert_eq!(Some(now.p), x.p, "{}", x.name);
            }
        }
        assert!(r.trials_warning.is_some());
        assert!(r.inputs.is_empty());
    }

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("OpenShift on AWS / 70s"), "openshift-on-aws-70s");
        assert_eq!(slug("///"), "scenario");
    }
}
