//! HAProxy active health checks (`server ... check`), versions 2.6 to 3.x.
//!
//! Scheduling: completion-relative. After a check finishes, the next one is scheduled
//! `srv_getinter()` later, plus `spread-checks` jitter of ±`interval*spread/100` ms
//! (src/check.c `process_chk_conn()`). `srv_getinter()` (src/server.c) returns `inter` while fully
//! up, `fastinter` (else `inter`) while transitioning, `downinter` (else `inter`) while fully down;
//! it is evaluated after the health counter was updated, so the first failure already selects
//! `fastinter`. The health counter runs 0..rise+fall-1; from full health the server goes DOWN after
//! exactly `fall` consecutive failures (src/check.c `set_server_check_status()`).
//!
//! Timeout: without `timeout check` the whole check is bounded by the configured `inter` (never
//! `fastinter`); with it, the connect phase is bounded by min(`inter`, `timeout connect`) and, once
//! connected, the read by `timeout check` (src/tcpcheck.c `tcpcheck_eval_connect()`; doc
//! "timeout check", https://docs.haproxy.org/2.8/configuration.html#4.2-timeout%20check).
//! That is the documented intent; real HAProxy 2.6.12 (Debian 12) differs, measured in
//! tests/haproxy_real.rs ("timeout-check-below-inter": 814-950 ms detection where the documented
//! rule gives at most 800 ms; single checks took 300, 181, 302, 101 ms with `timeout check 100`,
//! `inter 300`). Cause: the check task sits in the timer tree at connect start + min(`inter`,
//! `timeout connect`); when the connection completes later in an I/O callback, `t->expire` is
//! moved to connect + `timeout check` but the task is not requeued, so the timeout fires at the
//! first event-loop pass after it, at the latest at the old timer. Fixed upstream by commit
//! 7c788f098 "BUG/MEDIUM: check: Requeue healthchecks on I/O events to handle check timeout"
//! (v3.3-dev1, June 2025, "must be backported to all stable versions"). So a check of a server
//! that accepts and never answers fails after `timeout check` at the earliest and
//! max(`timeout check`, min(`inter`, `timeout connect`)) at the latest on a version without the
//! fix, and after exactly `timeout check` on one with it ([`has_check_timer_fix`]).
//! `timeout connect` alone (without `timeout check`) does not bound anything here.
//!
//! Refused connections (what a client sees after E3): HAProxy retries a connection refused by the
//! closed port on the same server `retries` times (default 3, configuration manual `retries`),
//! each retry after HAProxy's turn-around of min(`timeout connect`, 1 s), so a request routed after
//! E3 fails after about `retries` seconds; with `option redispatch` (or `redispatch <interval>`)
//! the retry goes to another server and the request succeeds. Measured on HAProxy 2.6.12
//! (reference notes routing-after-detection.md §9): without redispatch 40 failed requests, each
//! after about 3 s; with it 1. With a single backend there is nowhere to redispatch.
//!
//! Steady state assumed: the server is fully up before E2 (a freshly reloaded HAProxy starts at
//! health = rise and goes down on the first failure; see doc "init-state").

use super::{
    matcher_codes, required, Builtin, Grid, KnobValue, LbSettings, Limits, ProbeModel, Provider, Refusal, Schedule,
    Setting,
};
use crate::error::{InputError, Loc};
use crate::time::Micros;

/// Settings accepted in an HAProxy `[[lb]]` table.
pub const KNOBS: &[&str] = &[
    "inter",
    "fastinter",
    "downinter",
    "fall",
    "rise",
    "timeout_check",
    "timeout_connect",
    "spread_checks",
    "protocol",
    "path",
    "port",
    "propagation_delay",
    "latency",
    "matcher",
    "version",
];

own_knobs! {
    /// HAProxy's own settings (`server ... check` keywords and the backend's `timeout`s,
    /// `retries`, `option redispatch`), in the order a report lists them.
    pub struct Knobs {
        /// `inter`: the check interval while the server is up.
        inter: Micros [Positive, Interval],
        /// `fastinter`: the interval while it is transitioning.
        fastinter: Micros [Positive, Interval],
        /// `downinter`: the interval while it is down.
        downinter: Micros [Positive, Interval],
        /// `spread-checks`: the jitter, in percent of the interval.
        spread_checks: u32 [None, Interval],
        /// `timeout check`: the read timeout of a check once connected.
        timeout_check: Micros [Positive, Timeout],
        /// `timeout connect`.
        timeout_connect: Micros [Positive, Timeout],
        /// `fall`: consecutive failed checks that mark the server down.
        fall: u32 [AtLeastOne, Down],
        /// `rise`: consecutive passed checks that bring it back.
        rise: u32 [AtLeastOne, Up],
        /// `retries`: connection attempts on a refused connection.
        retries: u32 [Bounded, Hidden],
        /// `option redispatch`: the last retry goes to another server.
        redispatch: bool [None, Hidden],
        /// The HAProxy version that reads the configuration (its check timer depends on it).
        version: String [None, Hidden],
    }
}

/// Largest `spread-checks` HAProxy accepts (src/cfgparse-global.c).
pub const MAX_SPREAD: u32 = 50;

/// Shortest and longest time a check takes against a server that accepted the connection and
/// never answers: `inter` without `timeout check`; with it, `timeout check` on a version with the
/// check-timer fix, else from `timeout check` up to the connect-phase timer min(`inter`,
/// `timeout connect`) that HAProxy may still be sleeping on.
pub fn effective_timeout(
    inter: Micros,
    timeout_check: Option<Micros>,
    timeout_connect: Option<Micros>,
    fixed: bool,
) -> (Micros, Micros) {
    match timeout_check {
        None => (inter, inter),
        Some(check) if fixed => (check, check),
        Some(check) => {
            let first_wake = timeout_connect.map_or(inter, |c| c.min(inter));
            (check, check.max(first_wake))
        }
    }
}

/// `inter` when unset: `DEF_CHKINTR` (include/haproxy/defaults.h).
pub const DEF_INTER: Micros = Micros::from_secs(2);

/// The HAProxy version graceline assumes when nothing names one: the manual its configuration
/// parser follows (2.8.0), a release without the check-timer fix.
pub const DEFAULT_VERSION: (u32, u32, u32) = (2, 8, 0);

/// Whether a release has commit 7c788f098 ("Requeue healthchecks on I/O events to handle check
/// timeout"), which makes `timeout check` below `inter` exact. Read in the release changelogs of
/// every maintained branch (essentialkaos/kaos-repo specs/haproxy/haproxy{26,28,30,32}.spec, which
/// copy HAProxy's CHANGELOG; Mageia advisory MGASA-2025-0242 for 2.8.16; git.haproxy.org
/// haproxy-2.8.git commit 2730bd2): 2.8.16, 3.0.12 and 3.2.1 have it, 3.3-dev1 and later are
/// built on it; 2.6 up to 2.6.23 (October 2025) does not. 3.1 could not be confirmed and counts
/// as without it, as do the ended branches (2.7, 2.9) and everything older.
pub fn has_check_timer_fix((major, minor, patch): (u32, u32, u32)) -> bool {
    match (major, minor) {
        (2, 8) => patch >= 16,
        (3, 0) => patch >= 12,
        (3, 2) => patch >= 1,
        (3, m) => m >= 3,
        (m, _) => m >= 4,
    }
}

/// The version a setting or `.if version_atleast()` names: `2.6`, `2.8.16` or `3.2-dev1` as
/// `(major, minor, patch)`.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let core = text.split(['-', '+', '~']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

/// Whether the check timer of these settings depends on the version: `timeout check` below the
/// connect-phase timer min(`inter`, `timeout connect`).
pub fn timer_depends_on_version(s: &LbSettings) -> bool {
    let k = Knobs::of(s);
    let Some(check) = &k.timeout_check else {
        return false;
    };
    let inter = k.inter.as_ref().map_or(DEF_INTER, |v| v.value);
    let t = |f: bool| effective_timeout(inter, Some(check.value), k.timeout_connect.as_ref().map(|v| v.value), f);
    t(true) != t(false)
}

/// The version of the settings (`version`), else [`DEFAULT_VERSION`]; an error at the setting when
/// it does not parse.
pub fn version_of(s: &LbSettings) -> Result<(u32, u32, u32), InputError> {
    let k = Knobs::of(s);
    match &k.version {
        None => Ok(DEFAULT_VERSION),
        Some(v) => parse_version(&v.value).ok_or_else(|| {
            InputError::new(
                v.loc.clone(),
                "version",
                format!(
                    "\"{}\" is not an HAProxy version; expected one such as \"2.6\", \"2.8.16\" or \"3.2-dev1\"",
                    v.value
                ),
            )
        }),
    }
}

/// The version in words for findings and the assumed values.
pub fn version_words(v: (u32, u32, u32)) -> String {
    format!(
        "{}.{}.{} ({} the check-timer fix 7c788f098: a silent check {})",
        v.0,
        v.1,
        v.2,
        if has_check_timer_fix(v) { "with" } else { "without" },
        if has_check_timer_fix(v) {
            "fails after exactly `timeout check`"
        } else {
            "may run until min(inter, timeout connect)"
        }
    )
}

/// Builds the probe model: completion-relative with `inter`/`fastinter`/`downinter`.
pub fn model(s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<ProbeModel, InputError> {
    let k = Knobs::of(s);
    let inter = required(&k.inter, "inter", at)?.value;
    let fastinter = k.fastinter.as_ref().map_or(inter, |v| v.value);
    let downinter = k.downinter.as_ref().map_or(inter, |v| v.value);
    let spread = k.spread_checks.as_ref().map_or(0, |v| v.value);
    if let Some(sp) = &k.spread_checks {
        if sp.value > MAX_SPREAD {
            return Err(InputError::new(
                sp.loc.clone(),
                "spread_checks",
                format!("HAProxy accepts spread-checks from 0 to {MAX_SPREAD}, got {}", sp.value),
            ));
        }
    }
    let fixed = has_check_timer_fix(version_of(s)?);
    let (timeout_min, timeout) = effective_timeout(
        inter,
        k.timeout_check.as_ref().map(|v| v.value),
        k.timeout_connect.as_ref().map(|v| v.value),
        fixed,
    );
    Ok(ProbeModel {
        schedule: Schedule::CompletionRelative {
            inter,
            fastinter,
            downinter,
            spread_pct: spread,
        },
        view: super::probe_view(s, readiness_path, timeout, timeout_min),
        threshold: k.fall.as_ref().map_or(3, |v| v.value),
        rise: k.rise.as_ref().map_or(2, |v| v.value),
        probers: 1,
        propagation: super::propagation_of(s),
        answered_marks_down: false,
    })
}

/// The cap of HAProxy's wait before retrying a refused connection: "a turn-around timer of
/// min("timeout connect", one second) is applied before a retry occurs" (configuration manual,
/// `retries`). Measured: with retries 3, each failed request took about 3 s.
pub const RETRY_TURNAROUND: Micros = Micros::from_secs(1);

/// Grid step for `inter` and `fastinter`.
pub const GRID_STEP: Micros = Micros::from_millis(100);
/// Largest `inter`/`fastinter` the recommendation grid searches.
pub const GRID_MAX: Micros = Micros::from_secs(10);
/// Largest `fall` the recommendation grid searches.
pub const GRID_MAX_FALL: u32 = 10;

/// HAProxy's active checks.
#[derive(Debug)]
pub struct Haproxy;

/// The HAProxy provider.
pub static HAPROXY: Haproxy = Haproxy;

impl Provider for Haproxy {
    fn family(&self) -> &'static str {
        "haproxy"
    }

    fn profiles(&self) -> &'static [Builtin] {
        &[builtin!("haproxy")]
    }

    fn own(&self) -> super::OwnKnobs {
        Knobs::OWN
    }

    fn verdict_knobs(&self) -> &'static [&'static str] {
        &["inter", "fall", "rise"]
    }

    fn knobs(&self) -> &'static [&'static str] {
        KNOBS
    }

    /// What HAProxy does with a connection the closed port refuses.
    fn layout_knobs(&self) -> &'static [&'static str] {
        &["retries", "redispatch"]
    }

    fn interval_key(&self) -> &'static str {
        "inter"
    }

    /// The reader sets `port` only for an HTTP check sent to a port traffic does not go to
    /// (`check port 8008`, as Patroni and Drill configurations do): manual 5.2 "port".
    fn port_is_another_listener(&self) -> bool {
        true
    }

    fn threshold_key(&self) -> &'static str {
        "fall"
    }

    /// HAProxy takes milliseconds: only the success codes are checked here.
    fn validate(&self, s: &LbSettings, limits: &Limits, profile: &str) -> Result<(), InputError> {
        matcher_codes(s, limits, profile)
    }

    fn model(&self, s: &LbSettings, readiness_path: &str, at: &Loc) -> Result<Option<ProbeModel>, InputError> {
        model(s, readiness_path, at).map(Some)
    }

    /// `inter` and `fastinter` in [`GRID_STEP`] steps up to [`GRID_MAX`], `fall` 1 to
    /// [`GRID_MAX_FALL`], `timeout check` as configured (else `inter`).
    fn grid(&self, s: &LbSettings, _limits: &Limits) -> Grid {
        let k = Knobs::of(s);
        let mut settings = Vec::new();
        let tcheck = k.timeout_check.as_ref().map(|v| v.value);
        let tconnect = k.timeout_connect.as_ref().map(|v| v.value);
        let fixed = version_of(s).is_ok_and(has_check_timer_fix);
        let steps = GRID_MAX.0 / GRID_STEP.0;
        for a in 1..=steps {
            let inter = GRID_STEP.times(a);
            for b in 1..=steps {
                for fall in 1..=GRID_MAX_FALL {
                    let (timeout_min, timeout) = effective_timeout(inter, tcheck, tconnect, fixed);
                    settings.push(Setting {
                        interval: inter,
                        timeout,
                        timeout_min,
                        threshold: fall,
                        fastinter: GRID_STEP.times(b),
                    });
                }
            }
        }
        let description = format!(
            "inter and fastinter {GRID_STEP}-{GRID_MAX} in {GRID_STEP} steps, fall 1-{GRID_MAX_FALL}, {}, spread-checks as configured",
            match tcheck {
                Some(t) => format!("timeout check {t}"),
                None => "timeout = inter (no timeout check)".to_string(),
            }
        );
        Grid { settings, description }
    }

    fn describe(&self, st: &Setting) -> String {
        format!(
            "inter = {}, fastinter = {}, fall = {} (check timeout {})",
            st.interval, st.fastinter, st.threshold, st.timeout
        )
    }

    fn setting_values(&self, st: &Setting) -> Vec<(&'static str, KnobValue)> {
        vec![
            ("inter", KnobValue::Duration(st.interval)),
            ("fastinter", KnobValue::Duration(st.fastinter)),
            ("fall", KnobValue::Count(st.threshold)),
            ("timeout", KnobValue::Duration(st.timeout)),
        ]
    }

    fn all_unhealthy(&self) -> &'static str {
        "the backend has no usable server and HAProxy answers 503"
    }

    /// The version, when the check timer depends on it and nothing named one.
    fn assumed(&self, s: &LbSettings) -> Vec<(String, String, String)> {
        let k = Knobs::of(s);
        if !timer_depends_on_version(s) || k.version.as_ref().is_some_and(|v| !v.from_profile) {
            return Vec::new();
        }
        vec![(
            "version".to_string(),
            version_words(DEFAULT_VERSION),
            "graceline's default HAProxy version (nothing named one: --haproxy-version, an haproxy image among the inputs, or version = in the [[lb]] table); `timeout check` below min(inter, timeout connect) is exact only from 2.8.16, 3.0.12 and 3.2.1 on".to_string(),
        )]
    }

    /// Retried on the same closed port `retries` times unless `option redispatch` sends it to
    /// another server (see the module's notes).
    fn refusal(&self, s: &LbSettings, backends: u32) -> Refusal {
        let k = Knobs::of(s);
        let retries = k.retries.as_ref().map_or(3, |r| r.value);
        let redispatch = k.redispatch.as_ref().is_some_and(|r| r.value);
        let turnaround = k
            .timeout_connect
            .as_ref()
            .map_or(RETRY_TURNAROUND, |t| t.value.min(RETRY_TURNAROUND));
        let waited = turnaround.times(i64::from(retries));
        let fix_at = k
            .redispatch
            .as_ref()
            .filter(|r| !r.from_profile)
            .map(|r| &r.loc)
            .or(k.retries.as_ref().filter(|r| !r.from_profile).map(|r| &r.loc))
            .cloned();
        let fix = Some(("add `option redispatch` to the backend (or defaults)", fix_at));
        if retries == 0 {
            Refusal {
                failing_share: 1.0,
                after: Micros::ZERO,
                summary: "retries 0: each request HAProxy sends to the closed port fails at once".to_string(),
                fix,
            }
        } else if redispatch && backends != 1 {
            Refusal {
                failing_share: 0.0,
                after: waited,
                summary: format!(
                    "option redispatch: a request refused by the closed port is re-sent to another server, so the client sees a delay of up to {waited} instead of an error (measured on HAProxy 2.6.12: 1 failed request instead of 40)"
                ),
                fix,
            }
        } else {
            let why = if redispatch {
                "option redispatch cannot help with a single backend"
            } else {
                "no option redispatch"
            };
            Refusal {
                failing_share: 1.0,
                after: waited,
                summary: format!(
                    "retries {retries}, {why}: each request routed after E3 is retried on the same closed port and fails after about {waited} (measured on HAProxy 2.6.12: 40 failed requests, each after about 3 s)"
                ),
                fix,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_check_and_the_2_6_timer() {
        let ms = Micros::from_millis;
        assert_eq!(
            effective_timeout(ms(2000), None, Some(ms(50)), false),
            (ms(2000), ms(2000))
        );
        // Above inter: the task re-sleeps until connect + timeout check.
        assert_eq!(
            effective_timeout(ms(150), Some(ms(400)), None, false),
            (ms(400), ms(400))
        );
        // Below inter: anywhere up to inter (measured 101..302 ms for 100 ms / inter 300 ms).
        assert_eq!(
            effective_timeout(ms(300), Some(ms(100)), Some(ms(1000)), false),
            (ms(100), ms(300))
        );
        // With the fix: exactly timeout check.
        assert_eq!(
            effective_timeout(ms(300), Some(ms(100)), Some(ms(1000)), true),
            (ms(100), ms(100))
        );
        // A timeout connect below timeout check makes the first wake-up early enough.
        assert_eq!(
            effective_timeout(ms(300), Some(ms(100)), Some(ms(50)), false),
            (ms(100), ms(100))
        );
    }

    #[test]
    fn the_fix_by_branch() {
        for (v, fixed) in [
            ("2.6.12", false),
            ("2.6.23", false),
            ("2.8.0", false),
            ("2.8.15", false),
            ("2.8.16", true),
            ("2.9.9", false),
            ("3.0.11", false),
            ("3.0.12", true),
            ("3.1.9", false),
            ("3.2.0", false),
            ("3.2.1", true),
            ("3.3-dev1", true),
            ("3.4.0", true),
            ("4.0", true),
        ] {
            assert_eq!(has_check_timer_fix(parse_version(v).unwrap()), fixed, "{v}");
        }
        assert!(!has_check_timer_fix(DEFAULT_VERSION));
    }
}
