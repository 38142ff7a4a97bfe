//! What-if without editing files: `--set server.shutdown_delay=90s`, `--set 'lb[api-*].interval=5s'`
//! (or `lb.KEY=VALUE` for every load balancer) change the loaded model before it is judged.
//!
//! A value is read as the same TOML value a scenario file takes (`5s` may be written unquoted);
//! the load balancers it touches are rebuilt through the same profile, limits and provider
//! validation as a scenario's `[[lb]]` table, so an out-of-range value is refused as it would be
//! in a file. An overridden setting keeps the location of the value it replaces (that is where
//! the change goes once it is decided); every override is listed in the output with its origin.

use super::k8s::{Apiserver, Prestop, Target};
use super::words;
use super::Scenario;
use crate::provider::LbRaw;
use crate::time::Micros;
use crate::timeline::ServerRaw;
use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

/// The pods of the Kubernetes paths a server setting changes besides the scenarios' servers.
#[derive(Default)]
pub struct Pods<'a> {
    /// The pods bound to Services, Ingresses, routes and MetalLB (each binding's copy).
    pub targets: Vec<&'a mut Target>,
    /// The kube-apiserver pods behind the `kubernetes` Service.
    pub apiservers: Vec<&'a mut Apiserver>,
}

/// One `--set` as parsed.
#[derive(Debug, Clone)]
pub struct Set {
    /// As written on the command line.
    pub text: String,
    /// `None`: the server; `Some(glob)`: the load balancers whose name it matches.
    pub lbs: Option<glob::Pattern>,
    /// The setting.
    pub key: String,
    /// `KEY = VALUE` as one TOML line.
    toml: String,
}

/// The server settings `--set server.KEY=VALUE` takes.
pub const SERVER_KEYS: &[&str] = &[
    "prestop_sleep",
    "readyz_fail_after",
    "shutdown_delay",
    "request_grace",
    "termination_grace_period",
    "readyz_failure",
    "readyz_onset",
    "readiness_path",
    "response_time",
    "send_retry_after",
];

/// What one `--set` changed, for the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The `--set` as written.
    pub set: String,
    /// Scenario it changed.
    pub scenario: String,
    /// `server` or the load balancer's name.
    pub subject: String,
    /// The setting.
    pub key: String,
    /// The value before, where known (server settings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "override: {} ({} of {}", self.set, self.key, self.subject)?;
        if let Some(w) = &self.was {
            write!(f, ", was {w}")?;
        }
        write!(f, "; scenario {})", self.scenario)
    }
}

/// Parses `server.KEY=VALUE`, `lb[GLOB].KEY=VALUE` or `lb.KEY=VALUE`.
pub fn parse(text: &str) -> Result<Set> {
    let fail = |why: String| anyhow!("--set {text}: {why}");
    let (lhs, value) = text
        .split_once('=')
        .ok_or_else(|| fail("expected KEY=VALUE, e.g. server.shutdown_delay=90s or 'lb[api-*].interval=5s'".into()))?;
    let (lhs, value) = (lhs.trim(), value.trim());
    if value.is_empty() {
        return Err(fail("the value is empty".into()));
    }
    let (lbs, key) = if let Some(key) = lhs.strip_prefix("server.") {
        (None, key)
    } else if let Some(key) = lhs.strip_prefix("lb.") {
        (Some(glob::Pattern::new("*").expect("a valid glob")), key)
    } else if let Some(rest) = lhs.strip_prefix("lb[") {
        let (pattern, key) = rest
            .split_once("].")
            .ok_or_else(|| fail("expected lb[PATTERN].KEY, e.g. lb[api-*].interval".into()))?;
        let glob =
            glob::Pattern::new(pattern).map_err(|e| fail(format!("lb[{pattern}]: not a valid glob: {}", e.msg)))?;
        (Some(glob), key)
    } else {
        let head = lhs.split(['.', '[']).next().unwrap_or(lhs);
        return Err(fail(format!(
            "\"{head}\" is neither server nor lb{}; write server.KEY=VALUE or lb[PATTERN].KEY=VALUE",
            words::did_you_mean(&[head], &["server", "lb"])
        )));
    };
    if lbs.is_none() && !SERVER_KEYS.contains(&key) {
        return Err(fail(format!(
            "\"{key}\" is not a server setting{}; server settings: {}",
            words::did_you_mean(&[key], SERVER_KEYS),
            SERVER_KEYS.join(", ")
        )));
    }
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(fail(format!("\"{key}\" is not a setting name")));
    }
    // A TOML value as a scenario file takes it; a bare word (5s, /readyz) is a string.
    let toml = match format!("{key} = {value}").parse::<toml::Table>() {
        Ok(_) => format!("{key} = {value}"),
        Err(_) => format!("{key} = {}", toml::Value::String(value.to_string())),
    };
    Ok(Set {
        text: text.to_string(),
        lbs,
        key: key.to_string(),
        toml,
    })
}

/// The first line of a TOML error (its position in the one-line snippet says nothing).
fn toml_words(e: &toml::de::Error) -> String {
    e.message().lines().next().unwrap_or("").trim().to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerTable {
    server: ServerRaw,
}

/// Applies every `--set` to the scenarios and the pods of the Kubernetes paths, in the order
/// given; an error (exit 2) for a value the setting does not take, a key the LB's provider does
/// not have, or a pattern matching no LB. A server setting changes every pod as [`set_pod`] maps
/// it; each pod changed is listed once, however many paths it is behind.
pub fn apply(sets: &[Set], scenarios: &mut [&mut Scenario], pods: &mut Pods) -> Result<Vec<Applied>> {
    let mut applied = Vec::new();
    for set in sets {
        let fail = |why: String| anyhow!("--set {}: {why}", set.text);
        match &set.lbs {
            None => {
                let t: ServerTable =
                    toml::from_str(&format!("[server]\n{}", set.toml)).map_err(|e| fail(toml_words(&e)))?;
                if t.server
                    .readiness_path
                    .as_ref()
                    .is_some_and(|p| !p.get_ref().starts_with('/'))
                {
                    bail!(fail("server.readiness_path must start with /".into()));
                }
                let pod = |target: &mut Target, applied: &mut Vec<Applied>| {
                    let a = set_pod(target, &t.server, set);
                    if !applied.contains(&a) {
                        applied.push(a);
                    }
                };
                for sc in scenarios.iter_mut() {
                    let was = server_value(&sc.server, &set.key);
                    set_server(&mut sc.server, &t.server);
                    // Load balancers are validated against the server (a probe timeout below its
                    // response time is refused): rebuilt with the new one.
                    let server = sc.server.clone();
                    for lb in sc.lbs.iter_mut() {
                        *lb = super::rebuild_lb(lb, lb.settings.clone(), &server)
                            .map_err(|e| fail(format!("{}: {}", lb.name, e.message)))?;
                    }
                    applied.push(Applied {
                        set: set.text.clone(),
                        scenario: sc.name.clone(),
                        subject: "server".into(),
                        key: set.key.clone(),
                        was,
                    });
                    if let Some(target) = sc.target.as_mut() {
                        pod(target, &mut applied);
                    }
                }
                for target in pods.targets.iter_mut() {
                    pod(target, &mut applied);
                }
                // The `kubernetes` Service's pods are built from the manifest when judged: changed
                // through the same mapping, kept as the manifest's server.
                for a in pods.apiservers.iter_mut() {
                    let mut target = Target::apiserver(a);
                    pod(&mut target, &mut applied);
                    a.server.spec = target.server;
                }
            }
            Some(glob) => {
                // Parsed once the key is known to be a setting of the LB it changes.
                let mut raw: Option<LbRaw> = None;
                let mut names = Vec::new();
                let mut hit = false;
                for sc in scenarios.iter_mut() {
                    let server = sc.server.clone();
                    for lb in sc.lbs.iter_mut() {
                        names.push(lb.name.clone());
                        if !glob.matches(&lb.name) {
                            continue;
                        }
                        hit = true;
                        let knobs = [lb.provider.knobs(), lb.provider.layout_knobs()].concat();
                        if !knobs.contains(&set.key.as_str()) {
                            bail!(fail(format!(
                                "\"{}\" is not a setting of {} (load balancer {}){}; {} takes: {}",
                                set.key,
                                lb.profile,
                                lb.name,
                                words::did_you_mean(&[set.key.as_str()], &knobs),
                                lb.profile,
                                knobs.join(", ")
                            )));
                        }
                        let raw = match &raw {
                            Some(r) => r,
                            None => raw.insert(toml::from_str(&set.toml).map_err(|e| fail(toml_words(&e)))?),
                        };
                        let mut settings = lb.settings.clone();
                        settings
                            .override_with(lb.provider, raw, &lb.loc)
                            .map_err(|e| fail(e.message.lines().next().unwrap_or("").trim().to_string()))?;
                        *lb = super::rebuild_lb(lb, settings, &server)
                            .map_err(|e| fail(format!("{}: {}", lb.name, e.message)))?;
                        applied.push(Applied {
                            set: set.text.clone(),
                            scenario: sc.name.clone(),
                            subject: lb.name.clone(),
                            key: set.key.clone(),
                            was: None,
                        });
                    }
                }
                if !hit {
                    let options: Vec<&str> = names.iter().map(String::as_str).collect();
                    bail!(fail(format!(
                        "no load balancer matches lb[{}]{}; the inputs have: {}",
                        glob.as_str(),
                        words::did_you_mean(&[glob.as_str()], &options),
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    )));
                }
            }
        }
    }
    Ok(applied)
}

/// A server setting applied to a pod of a Kubernetes path. The pod shuts down like the server:
/// deletion, its preStop, SIGTERM, then the server's own `readyz_fail_after` and `shutdown_delay`
/// until it stops listening, so `shutdown_delay` is the time from the end of the preStop to the
/// close (a kube-apiserver pod's `--shutdown-delay-duration`); `prestop_sleep` replaces the pod's
/// preStop sleep and `termination_grace_period` its `terminationGracePeriodSeconds`. A native
/// sidecar's SIGTERM waits for the app containers to exit (`Target::app`), so its start moves
/// with them. The pod's locations stay: that is where the change goes.
fn set_pod(t: &mut Target, raw: &ServerRaw, set: &Set) -> Applied {
    let before = t.server.clone();
    let (key, was) = match set.key.as_str() {
        "prestop_sleep" if t.sidecar => ("preStop sleep".to_string(), Some(t.prestop.duration().to_string())),
        "prestop_sleep" => ("preStop sleep".to_string(), Some(before.prestop_sleep.to_string())),
        "termination_grace_period" => (
            "terminationGracePeriodSeconds".to_string(),
            Some(before.termination_grace_period.to_string()),
        ),
        k => (k.to_string(), server_value(&before, k)),
    };
    set_server(&mut t.server, raw);
    let app_exit = |s: &crate::timeline::ServerSpec| s.readyz_fail_after + s.shutdown_delay + s.request_grace;
    match set.key.as_str() {
        "prestop_sleep" => {
            let v = t.server.prestop_sleep;
            match &mut t.prestop {
                Prestop::Sleep { duration, .. } => *duration = v,
                Prestop::Unknown { assumed, .. } => *assumed = v,
                // No hook in the file: the model sleeps, a fix still adds the hook.
                Prestop::None => {}
            }
            if t.sidecar {
                // Every container now sleeps v: the app containers exit at v + their drain, then
                // the sidecar's own preStop runs.
                t.server.prestop_sleep = v + app_exit(&before) + v;
            }
        }
        "termination_grace_period" => t.grace_defaulted = false,
        "readyz_fail_after" | "shutdown_delay" | "request_grace" if t.sidecar => {
            t.server.prestop_sleep = (before.prestop_sleep + app_exit(&t.server) - app_exit(&before)).max(Micros::ZERO);
        }
        _ => {}
    }
    Applied {
        set: set.text.clone(),
        scenario: t.file.clone(),
        subject: format!("{} {} (container {})", t.kind, t.name, t.container),
        key,
        was,
    }
}

fn server_value(s: &crate::timeline::ServerSpec, key: &str) -> Option<String> {
    Some(match key {
        "prestop_sleep" => s.prestop_sleep.to_string(),
        "readyz_fail_after" => s.readyz_fail_after.to_string(),
        "shutdown_delay" => s.shutdown_delay.to_string(),
        "request_grace" => s.request_grace.to_string(),
        "termination_grace_period" => s.termination_grace_period.to_string(),
        "response_time" => s.response_time.to_string(),
        "readiness_path" => s.readiness_path.clone(),
        "send_retry_after" => s.send_retry_after.to_string(),
        _ => return None,
    })
}

fn set_server(s: &mut crate::timeline::ServerSpec, raw: &ServerRaw) {
    macro_rules! set {
        ($($f:ident),*) => {$(if let Some(v) = &raw.$f { s.$f = v.get_ref().clone(); })*};
    }
    set!(
        prestop_sleep,
        readyz_fail_after,
        shutdown_delay,
        request_grace,
        termination_grace_period,
        readyz_failure,
        readyz_onset,
        readiness_path,
        response_time,
        send_retry_after
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms_and_refuses_the_rest_in_words() {
        let s = parse("server.shutdown_delay=90s").unwrap();
        assert!(s.lbs.is_none());
        assert_eq!(s.toml, "shutdown_delay = \"90s\"");
        let s = parse("lb[api-*].interval=5s").unwrap();
        assert_eq!(s.lbs.unwrap().as_str(), "api-*");
        assert_eq!(parse("lb.fall=3").unwrap().toml, "fall = 3");
        let e = |t: &str| parse(t).unwrap_err().to_string();
        assert!(e("server.shutdown_dela=90s").contains("did you mean \"shutdown_delay\""));
        assert!(e("sever.shutdown_delay=1s").contains("did you mean \"server\""));
        assert!(e("server.shutdown_delay").contains("expected KEY=VALUE"));
        assert!(e("server.shutdown_delay=").contains("empty"));
        assert!(e("lb[a[].interval=1s").contains("not a valid glob"));
        assert!(e("lb[api].interval").contains("expected KEY=VALUE"));
    }

    #[test]
    fn server_and_lb_values_change_the_model_and_are_validated() {
        let mut sc = crate::scenario::load_str(
            "t.toml",
            "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nname = \"api-a\"\nprofile = \"aws-nlb\"\n[[lb]]\nname = \"web\"\nprofile = \"haproxy\"\n",
        )
        .unwrap();
        let sets = [
            parse("server.shutdown_delay=90s").unwrap(),
            parse("lb[api-*].interval=10s").unwrap(),
        ];
        let applied = apply(&sets, &mut [&mut sc], &mut Pods::default()).unwrap();
        assert_eq!(sc.server.shutdown_delay, crate::time::Micros::from_secs(90));
        assert_eq!(applied.len(), 2);
        assert_eq!(applied[0].was.as_deref(), Some("0s")); // kube-apiserver's default --shutdown-delay-duration
        assert_eq!(applied[1].subject, "api-a");
        let interval = sc.lbs[0].settings.interval.as_ref().unwrap();
        assert_eq!(interval.value, crate::time::Micros::from_secs(10));
        let e = |t: &str, sc: &mut Scenario| {
            apply(&[parse(t).unwrap()], &mut [sc], &mut Pods::default())
                .unwrap_err()
                .to_string()
        };
        // A value the provider refuses outright; haproxy has no `interval`; no LB is called db.
        assert!(e("lb[api-*].interval=0s", &mut sc).contains("api-a: must be positive"));
        assert!(e("lb[web].interval=5s", &mut sc).contains("did you mean \"inter\""));
        assert!(e("lb[db].fall=2", &mut sc).contains("no load balancer matches lb[db]"));
        assert!(e("server.shutdown_delay=soon", &mut sc).contains("--set server.shutdown_delay=soon"));
        assert!(e("server.readiness_path=readyz", &mut sc).contains("must start with /"));
    }
}
