//! The scenario keys that describe uncertainty (`readyz_failure = "either"`, `[lb.latency]`,
//! `probers = [lo, hi]`, `[traffic]`): how `check` bounds them exactly, and their input errors.

use graceline::analysis::exact::{extremes, extremes_with, LatencyRange};
use graceline::analysis::{analyze, explain::explain};
use graceline::scenario::load_str;
use graceline::time::Micros;
use graceline::timeline::ReadyzFailure;

const BASE: &str = "[server]\nshutdown_delay = \"20s\"\nreadyz_failure = \"MODE\"\n[[lb]]\nname = \"h\"\nprofile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"1s\"\nfall = 3\ntimeout_check = \"5s\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

#[test]
fn either_is_the_worse_of_both_modes_for_the_worst_and_the_better_for_the_best() {
    let sc = load_str("e.toml", &BASE.replace("MODE", "either")).unwrap();
    let lb = &sc.lbs[0];
    let err = extremes(&sc.server.with_failure(ReadyzFailure::Error), &lb.model);
    let hang = extremes(&sc.server.with_failure(ReadyzFailure::Timeout), &lb.model);
    let r = analyze(&sc, lb);
    assert_eq!(r.extremes.worst.time, err.worst.time.max(hang.worst.time));
    assert_eq!(r.extremes.best.time, err.best.time.min(hang.best.time));
    assert_eq!(r.extremes.worst.witness.failure, ReadyzFailure::Timeout);
    assert_eq!(r.extremes.best.witness.failure, ReadyzFailure::Error);
    assert!(err.worst.time < hang.worst.time);
    let text = explain(&sc, lb, &graceline::analysis::analyze(&sc, lb)).unwrap();
    assert!(text.contains("it may answer 5xx or hang"), "{text}");
    assert!(
        text.contains(&format!("Worst case t = {}", r.extremes.worst.time)),
        "{text}"
    );
}

#[test]
fn a_latency_range_widens_the_exact_extremes() {
    let text =
        BASE.replace("MODE", "error") + "[lb.latency]\ndistribution = \"uniform\"\nmin = \"10ms\"\nmax = \"400ms\"\n";
    let sc = load_str("l.toml", &text).unwrap();
    let lb = &sc.lbs[0];
    let r = analyze(&sc, lb);
    let at = |m: i64| extremes(&sc.server.clone().with_latency(Micros::from_millis(m)), &lb.model);
    assert!(r.extremes.worst.time >= at(400).worst.time);
    assert!(r.extremes.best.time <= at(10).best.time);
    let range = LatencyRange {
        lo: Micros::from_millis(10),
        hi: Micros::from_millis(400),
    };
    assert_eq!(r.extremes, extremes_with(&sc.server, &lb.model, range));
    // HAProxy, 5xx mode, fall 3: s1 in [0, L + inter + 0) and two fastinter waits after answers
    // of up to 400 ms: sup = (0.4 + 2) + 2 * (0.4 + 1) + 0.4 = 5.6 s.
    assert_eq!(r.extremes.worst.time, Micros::from_millis(5_600));
    let explained = explain(&sc, lb, &graceline::analysis::analyze(&sc, lb)).unwrap();
    assert!(explained.contains("T+5.599999s"), "{explained}");
}

trait WithLatency {
    fn with_latency(self, m: Micros) -> Self;
}

impl WithLatency for graceline::timeline::ServerSpec {
    fn with_latency(mut self, m: Micros) -> Self {
        self.response_time = m;
        self
    }
}

fn err(text: &str) -> String {
    load_str("bad.toml", text).unwrap_err().to_string()
}

#[test]
fn uncertainty_keys_are_validated_with_file_line_and_field() {
    let either = BASE.replace("MODE", "either");
    assert!(
        err(&either.replace("[[lb]]", "readyz_timeout_probability = 1.5\n[[lb]]"))
            .starts_with("bad.toml:4:30: field `server.readyz_timeout_probability`: must be between 0 and 1")
    );
    assert!(err(&BASE
        .replace("MODE", "error")
        .replace("[[lb]]", "readyz_timeout_probability = 0.5\n[[lb]]"))
    .contains("only applies with readyz_failure = \"either\""));
    let lat = |body: &str| err(&format!("{either}[lb.latency]\n{body}"));
    assert!(lat("distribution = \"gamma\"\n")
        .contains("bad.toml:14:16: field `lb[0].latency.distribution`: unknown distribution"));
    assert!(lat("distribution = \"lognormal\"\nmedian = \"5ms\"\np99 = \"5ms\"\n")
        .contains("16:7: field `lb[0].latency.p99`: must be above the median"));
    assert!(lat("distribution = \"lognormal\"\nmedian = \"5ms\"\n").contains("field `lb[0].latency.p99`: is required"));
    assert!(lat("distribution = \"uniform\"\nmin = \"5ms\"\nmax = \"6s\"\n")
        .contains("field `lb[0].latency.max`: the slowest answer (6s) must be below the probe timeout (5s)"));
    assert!(lat("distribution = \"constant\"\nvalue = \"5ms\"\nmedian = \"1ms\"\n")
        .contains("is not a setting of distribution = \"constant\""));
    assert!(lat("distribution = \"constant\"\nvalu = \"5ms\"\n").contains("bad.toml:15:1"));
    let aws =
        "[server]\n[[lb]]\nprofile = \"aws-nlb\"\ninterval = \"10s\"\ntimeout = \"10s\"\nunhealthy_threshold = 2\n";
    assert!(err(&format!("{aws}probers = [4, 2]\n"))
        .contains("bad.toml:7:11: field `lb[0].probers`: range [4, 2] is reversed"));
    assert!(err(&format!("{aws}probers = [0, 2]\n")).contains("must be at least 1"));
    assert!(err(&format!("{aws}probers = [1, 2, 3]\n")).contains("two counts"));
    assert!(err(&format!("{aws}probers = -1\n")).contains("field `lb[0].probers`"));
    let ok = load_str(
        "ok.toml",
        &format!("{aws}probers = [2, 6]\n[traffic]\nrequests_per_second = 50.5\nbackends = 2\n"),
    )
    .unwrap();
    assert_eq!(
        (ok.lbs[0].probers.lo, ok.lbs[0].probers.hi, ok.lbs[0].model.probers),
        (2, 6, 6)
    );
    assert_eq!(ok.traffic.unwrap().per_backend(), 25.25);
    assert!(
        err(&format!("{aws}[traffic]\nrequests_per_second = 10\nbackends = 0\n"))
            .contains("bad.toml:9:12: field `traffic.backends`")
    );
    assert!(
        err(&format!("{aws}[traffic]\nbackends = 2\n")).contains("field `traffic.requests_per_second`: is required")
    );
    assert!(err(&format!("{aws}[traffic]\nrequests_per_second = -1\n")).contains("must be a rate"));
}
