//! GL001 (the load balancer still routes new requests when the server stops listening) and GL002
//! (it stops in time, but with less than the required margin): the exact worst case from E2
//! against the budget E3 - E2, with the fix that helps (a longer shutdown delay, a longer grace
//! period when SIGKILL binds, or faster detection).

use super::grace::kill_fix;
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
    let needed = c.unbounded + sc.min_margin;
    if worst >= budget {
        let how = if !c.sees {
            "no shutdown delay helps: the check only fails once the server stops listening".to_string()
        } else if let Some(fix) = c.delay_helps.then(|| kill_fix(server, needed)).flatten() {
            fix
        } else if server.readyz_onset == ReadyzOnset::ListenerClose {
            "no shutdown delay helps: /readyz only fails when the listener closes (readyz_onset = listener-close)"
                .to_string()
        } else {
            let faster: Vec<String> = recommend::alternatives(sc, lb)
                .iter()
                .map(|a| format!("{} = {} (worst case {})", a.key, a.value, a.worst))
                .collect();
            format!(
                "fix: shutdown_delay >= {} (worst case {} + margin {}; anything above {} avoids failures), or detect faster{}",
                needed,
                c.unbounded,
                sc.min_margin,
                c.unbounded,
                if faster.is_empty() {
                    String::new()
                } else {
                    format!(": {}", faster.join(" or "))
                }
            )
        };
        return Some(Finding::new(
            Rule::GL001,
            c.lb_loc(),
            format!(
                "{}: worst case {} from readyz failing until no new request is routed ({} detection + {} propagation) >= budget {} (E3 - E2); {}; {how}",
                lb.name,
                worst,
                c.ext.worst.detection,
                lb.model.propagation.hi,
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
                "{}: margin {} (budget {} - worst case {}) is below the minimum {}; {}",
                lb.name,
                margin,
                budget,
                worst,
                sc.min_margin,
                kill_fix(server, needed).unwrap_or_else(|| format!("fix: shutdown_delay >= {needed}"))
            ),
        )
    })
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
