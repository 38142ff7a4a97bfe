//! GL003: the health check cannot see the server's readiness (a TCP check, another path, or a
//! success matcher that accepts the 500 of a failing readiness endpoint), so it fails only once
//! the server stops listening.

use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::provider::matcher::READYZ_FAILURE_STATUS;
use crate::provider::Protocol;
use crate::timeline::ReadyzFailure;

/// GL003 with the reason (protocol, path, matcher), at the setting that causes it; a check sent to
/// another port (HAProxy `check port N`) is a warning of its own.
pub fn findings(c: &Case) -> Vec<Finding> {
    let mut out: Vec<Finding> = finding(c).into_iter().collect();
    let lb = c.lb;
    if let Some(p) = lb
        .settings
        .port
        .as_ref()
        .filter(|_| lb.provider.port_is_another_listener())
    {
        let mut f = Finding::new(
            Rule::GL003,
            p.loc.clone(),
            format!(
                "{}: the check goes to port {}, not the port traffic goes to: it watches another listener or process (a REST API such as Patroni's on 8008, a sidecar), so the verdict holds only if that fails with the server's {} and stops with it",
                lb.name, p.value, c.sc.server.readiness_path
            ),
        );
        f.severity = crate::analysis::findings::Severity::Warning;
        out.push(f);
    }
    out
}

/// GL003 with the reason (protocol, path, matcher), at the setting that causes it.
pub fn finding(c: &Case) -> Option<Finding> {
    let (server, lb) = (&c.sc.server, c.lb);
    let view = lb.model.view;
    let rp = &server.readiness_path;
    let fails_at = if server.send_retry_after {
        if view.fails_on_retry_after {
            "it fails only from E3, on the 429 of shutdown-send-retry-after".to_string()
        } else {
            "it keeps passing after E3 under shutdown-send-retry-after and fails only when the listener really closes (after the drain, up to request_grace later)".to_string()
        }
    } else {
        "it fails only when the server stops listening (E3)".to_string()
    };
    if !view.sees_readiness {
        let (loc, why) = match (&lb.settings.protocol, &lb.settings.path) {
            (Some(p), _) if p.value == Protocol::Tcp => (p.loc.clone(), "a TCP check".to_string()),
            (_, Some(path)) if path.value.contains("exclude=shutdown") => (
                path.loc.clone(),
                format!("an HTTP check of {} (the shutdown check is excluded)", path.value),
            ),
            (_, Some(path)) => (path.loc.clone(), format!("an HTTP check of {}", path.value)),
            _ => (lb.loc.clone(), "an HTTP check of /".to_string()),
        };
        return Some(Finding::new(
            Rule::GL003,
            loc,
            format!(
                "{}: {why} cannot see {rp} failing; {fails_at}; check {rp} over HTTP(S)",
                lb.name
            ),
        ));
    }
    let m = lb.settings.matcher.as_ref()?;
    if !(view.accepts_readyz_error && server.readyz_failure.concrete().contains(&ReadyzFailure::Error)) {
        return None;
    }
    Some(Finding::new(
        Rule::GL003,
        m.loc.clone(),
        format!(
            "{}: the success matcher \"{}\" accepts the HTTP {} a failing {rp} answers, so the check passes while readiness fails; {fails_at}; accept only 2xx/3xx (e.g. 200-399)",
            lb.name, m.value, READYZ_FAILURE_STATUS
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

    fn visibility(text: &str) -> Vec<Finding> {
        run(text, |c| finding(c).into_iter().collect())
    }

    #[test]
    fn another_path_or_a_matcher_accepting_500_is_blind() {
        let f = visibility(&SEED.replace("/readyz", "/healthz"));
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL003, 12));
        assert!(f[0].message.contains("an HTTP check of /healthz"), "{}", f[0].message);
        let text = SEED.replace("readyz_failure = \"timeout\"", "readyz_failure = \"error\"");
        let f = visibility(&format!("{text}matcher = \"200-599\"\n"));
        assert!(f[0].message.contains("accepts the HTTP 500"), "{}", f[0].message);
        assert!(visibility(SEED).is_empty());
        assert!(visibility(&format!("{text}matcher = \"200-399\"\n")).is_empty());
    }
}
