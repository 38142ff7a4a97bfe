//! The golden scenarios: every `tests/golden/*.toml` is a scenario worked by hand, its arithmetic
//! in comments and its expected figures in `#>` lines (format: tests/golden/README.md). Each file
//! is loaded, each load balancer analysed, and every expectation compared; a file whose
//! expectations are missing or malformed fails like a wrong figure.

use graceline::analysis::findings::RULES;
use graceline::analysis::{analyze, LbReport};
use graceline::scenario::load_str;
use graceline::time::Micros;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What one load balancer of a golden scenario must come out as.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Worst case t (detection + propagation), e.g. "30s", "3.3s", "4m30s".
    worst: String,
    /// Best case t.
    best: String,
    /// "pass", "warn" or "fail".
    verdict: String,
    /// Worst-case detection alone.
    detection_worst: Option<String>,
    /// Budget minus worst case; may be negative ("-200s").
    margin: Option<String>,
    /// Every finding's rule, most severe first, exactly.
    rules: Option<Vec<String>>,
    /// Rules that must be among the findings.
    #[serde(default)]
    rules_include: Vec<String>,
    /// Rules that must not be.
    #[serde(default)]
    rules_exclude: Vec<String>,
    /// Findings looked at closely: the first finding of each rule.
    #[serde(default)]
    finding: Vec<FindingExpect>,
}

/// The first finding of `rule`: its line and words in its message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingExpect {
    rule: String,
    line: Option<u32>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    excludes: Vec<String>,
}

/// A duration as the expectations write it: an optional `-`, then numbers with units (`h`, `m`,
/// `s`, `ms`, `us`), decimals allowed (`3.3s`, `4m30s`, `1m 30s`); exact in microseconds.
fn duration(text: &str) -> Result<Micros, String> {
    let bad = || format!("{text:?} is not a duration such as \"30s\", \"3.3s\" or \"-4m30s\"");
    let (sign, mut rest) = match text.trim().strip_prefix('-') {
        Some(r) => (-1, r.trim_start()),
        None => (1, text.trim()),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let per: i64 = match unit {
            "h" => 3_600_000_000,
            "m" => 60_000_000,
            "s" => 1_000_000,
            "ms" => 1_000,
            "us" => 1,
            _ => return Err(bad()),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() || frac.contains('.') || (num.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let scale = 10i64.checked_pow(frac.len() as u32).ok_or_else(bad)?;
        let frac_us = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>().map_err(|_| bad())? * per
        };
        if frac_us % scale != 0 {
            return Err(format!("{text:?} is finer than a microsecond"));
        }
        total += int.parse::<i64>().map_err(|_| bad())? * per + frac_us / scale;
        rest = tail.trim_start();
    }
    Ok(Micros(sign * total))
}

/// The `#>` lines of a golden file, without their prefix, as one TOML document.
fn expectation_text(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix("#>"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every expectation of a golden file, by load-balancer name: top-level keys for a scenario with
/// one load balancer, an `[lb.<name>]` table per load balancer otherwise.
fn expectations(text: &str, lbs: &[String]) -> Result<BTreeMap<String, Expect>, String> {
    let doc = expectation_text(text);
    if doc.trim().is_empty() {
        return Err("no expectation: add `#> worst = ...`, `#> best = ...` and `#> verdict = ...` lines".into());
    }
    let mut table: toml::Table = toml::from_str(&doc).map_err(|e| format!("malformed `#>` lines: {e}"))?;
    let per_lb = table.remove("lb");
    let mut out = BTreeMap::new();
    match (per_lb, lbs) {
        (None, [only]) => {
            let e = Expect::deserialize(toml::Value::Table(table)).map_err(|e| format!("`#>` lines: {e}"))?;
            out.insert(only.clone(), e);
        }
        (None, _) => {
            return Err(format!(
                "{} load balancers: give each its expectations in an `#> [lb.<name>]` table",
                lbs.len()
            ))
        }
        (Some(per_lb), _) => {
            if let Some(k) = table.keys().next() {
                return Err(format!("`{k}` outside an `[lb.<name>]` table"));
            }
            let per_lb = per_lb.as_table().ok_or("`lb` must be a table of load-balancer names")?;
            for (name, v) in per_lb {
                if !lbs.contains(name) {
                    return Err(format!("[lb.{name}]: no load balancer of that name in {lbs:?}"));
                }
                let e = Expect::deserialize(v.clone()).map_err(|e| format!("[lb.{name}]: {e}"))?;
                out.insert(name.clone(), e);
            }
            if let Some(missing) = lbs.iter().find(|n| !out.contains_key(*n)) {
                return Err(format!("no expectation for load balancer {missing}"));
            }
        }
    }
    for (lb, e) in &out {
        let named = e
            .rules
            .iter()
            .flatten()
            .chain(&e.rules_include)
            .chain(&e.rules_exclude)
            .chain(e.finding.iter().map(|f| &f.rule));
        for r in named {
            if !RULES.iter().any(|known| known.id() == r) {
                return Err(format!("[lb.{lb}]: {r} is not a rule"));
            }
        }
        if !["pass", "warn", "fail"].contains(&e.verdict.as_str()) {
            return Err(format!("[lb.{lb}]: verdict {:?} is not pass, warn or fail", e.verdict));
        }
    }
    Ok(out)
}

/// Compares one load balancer's analysis with its expectation; one line per difference.
fn compare(r: &LbReport, e: &Expect) -> Result<Vec<String>, String> {
    let mut diffs = Vec::new();
    let mut figure = |what: &str, want: &str, got: Micros| -> Result<(), String> {
        if duration(want)? != got {
            diffs.push(format!("{what}: expected {want}, got {got}"));
        }
        Ok(())
    };
    figure("worst", &e.worst, r.extremes.worst.time)?;
    figure("best", &e.best, r.extremes.best.time)?;
    if let Some(want) = &e.detection_worst {
        figure("detection_worst", want, r.extremes.worst.detection)?;
    }
    if let Some(want) = &e.margin {
        figure("margin", want, r.margin)?;
    }
    let verdict = serde_json::to_value(r.verdict).unwrap();
    if verdict != e.verdict.as_str() {
        diffs.push(format!("verdict: expected {}, got {verdict}", e.verdict));
    }
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.id()).collect();
    if let Some(want) = &e.rules {
        if rules != *want {
            diffs.push(format!("rules: expected {want:?}, got {rules:?}"));
        }
    }
    for want in &e.rules_include {
        if !rules.contains(&want.as_str()) {
            diffs.push(format!("rules_include: no {want} among {rules:?}"));
        }
    }
    for not in &e.rules_exclude {
        if rules.contains(&not.as_str()) {
            diffs.push(format!("rules_exclude: {not} among {rules:?}"));
        }
    }
    for want in &e.finding {
        let Some(f) = r.findings.iter().find(|f| f.rule.id() == want.rule) else {
            diffs.push(format!("finding {}: none among {rules:?}", want.rule));
            continue;
        };
        if want.line.is_some_and(|l| l != f.loc.line) {
            diffs.push(format!(
                "finding {}: expected line {}, got {}",
                want.rule,
                want.line.unwrap(),
                f.loc.line
            ));
        }
        for w in &want.contains {
            if !f.message.contains(w.as_str()) {
                diffs.push(format!("finding {}: {w:?} not in {:?}", want.rule, f.message));
            }
        }
        for w in &want.excludes {
            if f.message.contains(w.as_str()) {
                diffs.push(format!("finding {}: {w:?} in {:?}", want.rule, f.message));
            }
        }
    }
    Ok(diffs)
}

/// Loads golden file `name` (text `text`), analyses every load balancer and compares it with its
/// expectations: the number of load balancers checked, or every problem found.
fn check(name: &str, text: &str) -> Result<usize, Vec<String>> {
    let sc = load_str(name, text).map_err(|e| vec![format!("not a valid scenario: {e}")])?;
    let names: Vec<String> = sc.lbs.iter().map(|lb| lb.name.clone()).collect();
    let expected = expectations(text, &names).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    for lb in &sc.lbs {
        let r = analyze(&sc, lb);
        match compare(&r, &expected[&lb.name]) {
            Ok(diffs) => problems.extend(diffs.into_iter().map(|d| format!("lb {}: {d}", lb.name))),
            Err(e) => problems.push(format!("lb {}: {e}", lb.name)),
        }
    }
    if problems.is_empty() {
        Ok(sc.lbs.len())
    } else {
        Err(problems)
    }
}

#[test]
fn every_golden_scenario_comes_out_as_worked_by_hand() {
    let dir = crate::support::root().join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "only {} golden files in {}",
        files.len(),
        dir.display()
    );
    let mut problems = Vec::new();
    let mut lbs = 0;
    for path in &files {
        let name = format!("tests/golden/{}", path.file_name().unwrap().to_str().unwrap());
        match check(&name, &std::fs::read_to_string(path).unwrap()) {
            Ok(n) => lbs += n,
            Err(p) => problems.extend(p.into_iter().map(|p| format!("{name}: {p}"))),
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    eprintln!("{} golden files, {lbs} load balancers", files.len());
}

/// A scenario with one load balancer for the checker's own tests: NLB HTTPS /readyz 10 s/10 s/2
/// with propagation pinned to 0, /readyz hanging, 30 s budget: worst 30 s, best 20 s, GL001.
const ONE: &str = "[server]\nprofile = \"kube-apiserver\"\nshutdown_delay = \"30s\"\ntermination_grace_period = \"1h\"\nreadyz_failure = \"timeout\"\n[[lb]]\nname = \"nlb\"\nprofile = \"aws-nlb\"\npropagation_delay = \"0s\"\ninterval = \"10s\"\ntimeout = \"10s\"\nprotocol = \"https\"\npath = \"/readyz\"\n";

#[test]
fn a_missing_malformed_or_wrong_expectation_fails() {
    let ok = "#> worst = \"30s\"\n#> best = \"20s\"\n#> verdict = \"fail\"\n#> rules_include = [\"GL001\"]\n";
    assert_eq!(check("ok.toml", &format!("{ONE}{ok}")), Ok(1));
    let fails = |expect: &str, says: &str| {
        let problems = check("bad.toml", &format!("{ONE}{expect}")).expect_err(expect);
        assert!(problems.iter().any(|p| p.contains(says)), "{expect}: {problems:?}");
    };
    fails("", "no expectation");
    fails("# worst = \"30s\"\n", "no expectation");
    fails("#> worst = 30s\n", "malformed `#>` lines");
    fails("#> best = \"20s\"\n#> verdict = \"fail\"\n", "missing field `worst`");
    fails(&ok.replace("worst", "wrost"), "unknown field `wrost`");
    fails(&ok.replace("\"30s\"", "\"30 parsecs\""), "is not a duration");
    fails(&ok.replace("\"30s\"", "\"30.0000001s\""), "finer than a microsecond");
    fails(&ok.replace("\"fail\"", "\"failed\""), "is not pass, warn or fail");
    fails(&ok.replace("GL001", "GL999"), "GL999 is not a rule");
    fails(&format!("{ok}#> [lb.nlb]\n"), "outside an `[lb.<name>]` table");
    fails(
        &ok.replacen("#> ", "#> [lb.elb]\n#> ", 1),
        "no load balancer of that name",
    );
    // Wrong figures, verdicts, rules and findings.
    fails(
        &ok.replace("\"30s\"", "\"29.999999s\""),
        "worst: expected 29.999999s, got 30s",
    );
    fails(&ok.replace("\"20s\"", "\"-20s\""), "best: expected -20s, got 20s");
    fails(
        &ok.replace("\"fail\"", "\"pass\""),
        "verdict: expected pass, got \"fail\"",
    );
    fails(&format!("{ok}#> rules = []\n"), "rules: expected []");
    fails(
        &ok.replace("rules_include", "rules_exclude"),
        "rules_exclude: GL001 among",
    );
    fails(&format!("{ok}#> margin = \"5s\"\n"), "margin: expected 5s, got 0s");
    fails(
        &format!("{ok}#> [[finding]]\n#> rule = \"GL003\"\n"),
        "finding GL003: none among",
    );
    let gl001 = format!("{ok}#> [[finding]]\n#> rule = \"GL001\"\n");
    fails(
        &format!("{gl001}#> line = 1\n"),
        "finding GL001: expected line 1, got 10",
    );
    fails(
        &format!("{gl001}#> contains = [\"nowhere\"]\n"),
        "finding GL001: \"nowhere\" not in",
    );
    fails(
        &format!("{gl001}#> excludes = [\"worst case\"]\n"),
        "finding GL001: \"worst case\" in",
    );
    assert_eq!(
        check(
            "ok.toml",
            &format!("{ONE}{gl001}#> line = 10\n#> contains = [\"worst case 30s\"]\n")
        ),
        Ok(1)
    );
    // Two load balancers: each needs its own table.
    let two = format!("{ONE}[[lb]]\nname = \"nlb2\"\nprofile = \"aws-nlb\"\n");
    let problems = check("two.toml", &format!("{two}{ok}")).unwrap_err();
    assert!(problems[0].contains("2 load balancers"), "{problems:?}");
    let one_table = ok.replace("#> worst", "#> [lb.nlb]\n#> worst");
    let problems = check("two.toml", &format!("{two}{one_table}")).unwrap_err();
    assert!(
        problems[0].contains("no expectation for load balancer nlb2"),
        "{problems:?}"
    );
    // A file that is no scenario.
    let problems = check("bad.toml", &format!("{ONE}interval = \"0s\"\n{ok}")).unwrap_err();
    assert!(problems[0].contains("not a valid scenario"), "{problems:?}");
}

#[test]
fn durations_are_read_exactly() {
    for (text, us) in [
        ("30s", 30_000_000),
        ("3.3s", 3_300_000),
        ("4m30s", 270_000_000),
        ("1m 30s", 90_000_000),
        ("500ms", 500_000),
        ("5.599999s", 5_599_999),
        ("-3m20s", -200_000_000),
        ("0s", 0),
        ("1h", 3_600_000_000),
    ] {
        assert_eq!(duration(text), Ok(Micros(us)), "{text}");
    }
    for bad in ["", "-", "30", "s", "3..3s", "3.s", ".5s", "30x", "1.0000001s"] {
        assert!(duration(bad).is_err(), "{bad:?}");
    }
}
