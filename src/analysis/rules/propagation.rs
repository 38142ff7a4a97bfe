//! GL007: neither documentation nor field measurements give the provider's delay from "marked
//! down" to "no new request routed", and the input did not set one: the worst case lacks it.

use super::Case;
use crate::analysis::findings::{Finding, Rule};
use crate::profiles::Evidence;

/// GL007 at the LB's declaration, unless the input set `propagation_delay` or the profile's
/// default rests on evidence.
pub fn finding(c: &Case) -> Option<Finding> {
    let lb = c.lb;
    let user_propagation = lb.settings.propagation_delay.as_ref().is_some_and(|p| !p.from_profile);
    (!user_propagation && lb.propagation_evidence == Evidence::None).then(|| {
        Finding::new(
            Rule::GL007,
            lb.loc.clone(),
            format!(
                "{}: the delay from 'marked down' until no new request is routed is unknown for {} ({}); graceline uses {}, so the worst case lacks that delay; measure it (graceline backend + calibrate) and set propagation_delay",
                lb.name,
                lb.profile,
                lb.propagation_note.as_deref().unwrap_or("no published or measured figure"),
                lb.model.propagation
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::run;
    use super::*;

    #[test]
    fn an_alb_without_a_measured_delay_is_gl007() {
        let alb = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"aws-alb\"\n";
        let f = run(alb, |c| finding(c).into_iter().collect());
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL007, 3));
        assert!(f[0].message.contains("graceline uses 0s"), "{}", f[0].message);
        let set = format!("{alb}propagation_delay = \"5s\"\n");
        assert!(run(&set, |c| finding(c).into_iter().collect()).is_empty());
        // The NLB's default rests on field evidence.
        let nlb = alb.replace("aws-alb", "aws-nlb");
        assert!(run(&nlb, |c| finding(c).into_iter().collect()).is_empty());
    }
}
