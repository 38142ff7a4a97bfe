//! GL001 (the load balancer still routes new requests when the server stops listening) and GL002
//! (it stops in time, but with less than the required margin): the exact worst case from E2
//! against the budget E3 - E2, with the fix that helps (a longer shutdown delay, a longer grace
//! period when SIGKILL binds, or faster detection).

use super::grace::{fix_text, kill_fix};
use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::analysis::recommend;
use crate::time::Micros;
use crate::timeline::{ReadyzOnset, ServerSpec, Timeline};

/// GL001 when the worst case reaches the budget, GL002 when the margin is below the minimum.
pub fn finding(c: &Case) -> Option<Finding> {
    let (sc, lb) = (c.sc, c.lb);
    let server = &sc.server;
    let (worst, budget) = (c.worst(), c.budget);
    let needed = c.needed_for(c.unbounded);
    if worst >= budget {
        let how = if !c.sees {
            "no shutdown delay helps: the check only fails once the server stops listening".to_string()
        } else if server.readyz_onset == ReadyzOnset::ListenerClose || !c.delay_helps {
            "no shutdown delay helps: /readyz only fails when the listener closes (readyz_onset = listener-close)"
                .to_string()
        } else if let Some(fix) = kill_fix(server, needed) {
            fix
        } else {
            let why = format!(
                " (worst case {} + margin {}; anything above {} avoids failures)",
                c.unbounded, sc.min_margin, c.unbounded
            );
            let fix = fix_text(server, needed, &why).unwrap_or_else(|| format!("fix: shutdown_delay >= {needed}{why}"));
            let faster: Vec<String> = recommend::alternatives(sc, lb)
                .iter()
                .map(|a| format!("{} = {} (worst case {})", a.key, a.value, a.worst))
                .collect();
            // Only settings recommend would propose; none passes when the propagation alone
            // exceeds the budget, and then the delay is the only fix.
            if faster.is_empty() {
                fix
            } else {
                format!("{fix}, or detect faster: {}", faster.join(" or "))
            }
        };
        return Some(Finding::new(
            Rule::GL001,
            c.lb_loc(),
            format!(
                "{}: worst case {} from readyz failing until no new request is routed ({} detection + {} propagation{}) >= budget {} (E3 - E2); {}; {how}",
                lb.name,
                worst,
                c.ext.worst.detection,
                lb.model.propagation.hi,
                tier_words(c),
                budget,
                after_e3(server, &c.tl, worst)
            ),
        ));
    }
    let margin = budget - worst;
    (margin < sc.min_margin).then(|| {
        Finding::new(
            Rule::GL002,
            c.lb_loc(),
            format!(
                "{}: margin {} (budget {} - worst case {}: {} detection + {} propagation{}) is below the minimum {}; {}",
                lb.name,
                margin,
                budget,
                worst,
                c.ext.worst.detection,
                lb.model.propagation.hi,
                tier_words(c),
                sc.min_margin,
                fix_text(server, needed, "").unwrap_or_else(|| format!("fix: shutdown_delay >= {needed}"))
            ),
        )
    })
}

/// Which propagation tier the figure takes, in a few words (empty for no propagation at all).
fn tier_words(c: &Case) -> String {
    let lb = c.lb;
    if crate::analysis::tiers::measured(lb).is_some() {
        return ", your measured propagation_delay".to_string();
    }
    let resolved = crate::analysis::tiers::resolve(c.sc, lb);
    if resolved.len() < 2 {
        // One tier (HAProxy's code, the providers without a figure): nothing to choose between.
        return String::new();
    }
    let t = crate::provider::tiers::pick(&resolved, c.sc.propagation_tier.tier());
    format!(", {} tier", t.tier)
}

/// What new requests meet between E3 and the LB's removal, `worst` after E2.
fn after_e3(server: &ServerSpec, tl: &Timeline, worst: Micros) -> String {
    let budget = tl.budget();
    if worst == budget {
        return "the LB can route new requests right up to the instant the server stops listening".to_string();
    }
    let closed = tl.listener_close - tl.e2;
    if server.send_retry_after {
        let answered = worst.min(closed) - budget;
        let mut out = format!(
            "new requests routed up to {answered} after E3 are answered 429 with Retry-After (shutdown-send-retry-after) instead of a refused connection; they fail unless the client retries"
        );
        if worst > closed {
            out.push_str(&format!(
                ", and after the listener closes (E3 + {}) they reach a closed port for up to {}",
                closed - budget,
                worst - closed
            ));
        }
        out
    } else {
        format!(
            "new requests can reach a closed port for up to {} after E3",
            worst - budget
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

    fn detection(text: &str) -> Vec<Finding> {
        run(text, |c| finding(c).into_iter().collect())
    }

    #[test]
    fn worst_case_equal_to_the_budget_is_gl001() {
        // 2 failures 10 s apart after a probe that started just before E2: 30 s = E3 - E2.
        let f = detection(SEED);
        assert_eq!(f[0].rule, Rule::GL001);
        assert!(f[0].message.contains("right up to the instant"), "{}", f[0].message);
        assert_eq!(f[0].loc.line, 8, "the interval the input wrote");
    }

    #[test]
    fn a_thin_margin_is_gl002_and_a_wide_one_nothing() {
        let f = detection(&SEED.replace("\"30s\"", "\"33s\""));
        assert_eq!(f[0].rule, Rule::GL002);
        assert!(f[0].message.contains("margin 3s"), "{}", f[0].message);
        assert!(detection(&SEED.replace("\"30s\"", "\"70s\"")).is_empty());
    }
}
