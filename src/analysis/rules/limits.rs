//! GL005: a setting outside what the provider accepts (a range of the profile's `[limits]`, or a
//! relation between settings); the analysis still runs on it. A limit that only a tool in front
//! of the API enforces (cloud-provider-azure's interval x probes < 120 s) is an error for that
//! tool's input (a Kubernetes Service) and a warning for the others (Terraform, scenario files).

use super::Case;
use crate::analysis::findings::{Finding, Rule, Severity};

/// One GL005 per violated range or relation, in the order the limits are checked.
pub fn findings(c: &Case) -> Vec<Finding> {
    let lb = c.lb;
    lb.provider
        .limit_violations(&lb.settings, &lb.limits, &lb.profile)
        .into_iter()
        .map(|v| {
            let mut f = Finding::new(Rule::GL005, v.loc, format!("{}: {}", lb.name, v.message));
            if v.tool_only && lb.service.is_none() {
                f.severity = Severity::Warning;
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{run, SEED};
    use super::*;

    #[test]
    fn an_interval_below_the_provider_range_is_gl005() {
        let f = run(&SEED.replace("interval = \"10s\"", "interval = \"3s\""), findings);
        assert_eq!((f[0].rule, f[0].loc.line), (Rule::GL005, 8));
        assert!(f[0].message.contains("from 5s to 5m"), "{}", f[0].message);
        assert!(run(SEED, findings).is_empty());
    }

    #[test]
    fn azure_product_limit_is_an_error_only_for_services() {
        let az = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"azure-lb\"\ninterval = \"60s\"\nprobe_threshold = 2\n";
        let f = run(az, findings);
        assert_eq!((f[0].rule, f[0].severity), (Rule::GL005, Severity::Warning), "{f:?}");
        assert!(f[0].message.contains("azure-docs#107019"), "{}", f[0].message);
        let sc = super::super::fixture::scenario(az);
        let mut lb = sc.lbs[0].clone();
        lb.service = Some("default/api".to_string());
        let f = findings(&super::Case::new(&sc, &lb));
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn gcp_relates_its_timeout_to_check_interval() {
        let gcp = "[server]\nprofile = \"kube-apiserver\"\n[[lb]]\nprofile = \"gcp\"\ncheck_interval = \"5s\"\ntimeout = \"6s\"\n";
        let f = run(gcp, findings);
        assert!(
            f.iter()
                .any(|f| f.message.contains("timeout (6s) to be at most check_interval (5s)")),
            "{f:?}"
        );
        assert!(run(&gcp.replace("\"6s\"", "\"5s\""), findings).is_empty());
    }
}
