//! JUnit XML for GitLab and Jenkins: one test suite per scenario × LB with a test case per
//! LB-level rule, one suite per server with its server-level rules (GL004); a case fails when
//! that rule has a finding at or above `--fail-on`.

use super::{reported, ExportContext, Exporter, Subject};
use crate::analysis::findings::{rules_in, Finding, Rule, Scope};
use crate::analysis::outcome::Outcome;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// JUnit exporter.
pub struct JunitExporter;

const IO: &str = "writing to memory cannot fail";

/// One test case: `rule` fails with the findings at or above `--fail-on`; lower ones are printed.
fn write_case(
    w: &mut Writer<Vec<u8>>,
    rule: Rule,
    name: &str,
    classname: &str,
    file: &str,
    findings: &[&Finding],
    ctx: &ExportContext,
) {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", name));
    case.push_attribute(("classname", classname));
    case.push_attribute(("file", file));
    let (failing, others): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .filter(|f| f.rule == rule)
        .partition(|f| ctx.fail_on.is_some_and(|min| f.severity >= min));
    if failing.is_empty() && others.is_empty() {
        w.write_event(Event::Empty(case)).expect(IO);
        return;
    }
    w.write_event(Event::Start(case)).expect(IO);
    for f in &failing {
        let mut fail = BytesStart::new("failure");
        let sev = f.severity.to_string();
        fail.push_attribute(("message", f.message.as_str()));
        fail.push_attribute(("type", sev.as_str()));
        w.write_event(Event::Start(fail)).expect(IO);
        let body = format!(
            "{}[{}] {}: {}\n{}",
            f.severity,
            f.rule.id(),
            f.loc,
            f.message,
            rule.help()
        );
        w.write_event(Event::Text(BytesText::new(&body))).expect(IO);
        w.write_event(Event::End(BytesEnd::new("failure"))).expect(IO);
    }
    if !others.is_empty() {
        let text: Vec<String> = others
            .iter()
            .map(|f| format!("{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message))
            .collect();
        w.write_event(Event::Start(BytesStart::new("system-out"))).expect(IO);
        w.write_event(Event::Text(BytesText::new(&text.join("\n")))).expect(IO);
        w.write_event(Event::End(BytesEnd::new("system-out"))).expect(IO);
    }
    w.write_event(Event::End(BytesEnd::new("testcase"))).expect(IO);
}

/// A JUnit test suite: the rules it has a case for, its names and the findings its cases judge.
struct Suite<'a> {
    name: String,
    rules: Vec<Rule>,
    classname: String,
    file: String,
    case_suffix: String,
    findings: Vec<&'a Finding>,
}

impl Suite<'_> {
    fn failures(&self, ctx: &ExportContext) -> usize {
        self.rules
            .iter()
            .filter(|&&rule| {
                self.findings
                    .iter()
                    .any(|f| f.rule == rule && ctx.fail_on.is_some_and(|min| f.severity >= min))
            })
            .count()
    }
}

/// One suite per scenario × LB with the LB-level rules, then one per server with the server-level
/// rules (reported once, whatever the number of LBs in front of it), then one per Kubernetes path
/// (GL030-GL032) and one per workload, Service or Ingress for the findings about it as a whole.
fn suites(o: &Outcome) -> Vec<Suite<'_>> {
    let reports = &o.lbs;
    let lb_rules = rules_in(&[Scope::Lb]);
    let server_rules = rules_in(&[Scope::Server]);
    let mut out: Vec<Suite> = reports
        .iter()
        .map(|r| Suite {
            name: format!("{} / {} / {}", r.scenario, r.lb, r.server),
            rules: lb_rules.clone(),
            classname: format!("graceline.{}.{}", r.scenario, r.lb),
            file: r.file.clone(),
            case_suffix: r.server.clone(),
            findings: r.findings.iter().filter(|f| !f.rule.server_level()).collect(),
        })
        .collect();
    let mut servers: Vec<Suite> = Vec::new();
    for r in reports {
        if !servers.iter().any(|s| s.case_suffix == r.server) {
            servers.push(Suite {
                name: format!("server {}", r.server),
                rules: server_rules.clone(),
                classname: format!("graceline.server.{}", r.server),
                file: r.server_source.origin.clone(),
                case_suffix: r.server.clone(),
                findings: Vec::new(),
            });
        }
    }
    for x in reported(o) {
        if let Subject::Lb { report, .. } = x.subject {
            if x.finding.rule.server_level() {
                if let Some(s) = servers.iter_mut().find(|s| s.case_suffix == report.server) {
                    s.findings.push(x.finding);
                }
            }
        }
    }
    out.extend(servers);
    for r in &o.paths {
        let name = format!("{} / {}", r.target.name, r.path.name);
        out.push(Suite {
            rules: rules_in(&[Scope::Path]),
            classname: "graceline.kubernetes".to_string(),
            file: r.target.file.clone(),
            case_suffix: name.clone(),
            name,
            findings: r.findings.iter().collect(),
        });
    }
    let mut subjects: Vec<&str> = Vec::new();
    for (s, _) in &o.general {
        if !subjects.contains(&s.as_str()) {
            subjects.push(s);
        }
    }
    for s in subjects {
        let findings: Vec<&Finding> = o.general.iter().filter(|(x, _)| x == s).map(|(_, f)| f).collect();
        out.push(Suite {
            name: s.to_string(),
            rules: rules_in(&[Scope::Server, Scope::General]),
            classname: "graceline.kubernetes".to_string(),
            file: findings.first().map_or(String::new(), |f| f.loc.file.clone()),
            case_suffix: s.to_string(),
            findings,
        });
    }
    out
}

impl JunitExporter {
    /// The whole JUnit XML document.
    fn document(&self, o: &Outcome, ctx: &ExportContext) -> String {
        let suites = suites(o);
        let total_failures: usize = suites.iter().map(|s| s.failures(ctx)).sum();
        let total_tests: usize = suites.iter().map(|s| s.rules.len()).sum();
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect(IO);
        let mut root = BytesStart::new("testsuites");
        let tests = total_tests.to_string();
        let failures = total_failures.to_string();
        root.push_attribute(("name", "graceline"));
        root.push_attribute(("tests", tests.as_str()));
        root.push_attribute(("failures", failures.as_str()));
        w.write_event(Event::Start(root)).expect(IO);
        for s in &suites {
            let suite_failures = s.failures(ctx).to_string();
            let rules = s.rules.len().to_string();
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", s.name.as_str()));
            suite.push_attribute(("tests", rules.as_str()));
            suite.push_attribute(("failures", suite_failures.as_str()));
            suite.push_attribute(("errors", "0"));
            suite.push_attribute(("skipped", "0"));
            w.write_event(Event::Start(suite)).expect(IO);
            for &rule in &s.rules {
                let name = format!("{} {} ({})", rule.id(), rule.name(), s.case_suffix);
                write_case(&mut w, rule, &name, &s.classname, &s.file, &s.findings, ctx);
            }
            w.write_event(Event::End(BytesEnd::new("testsuite"))).expect(IO);
        }
        // Suppressed findings: one skipped case each, with the reason, so a CI report lists them.
        if !ctx.suppressed.is_empty() {
            let n = ctx.suppressed.len().to_string();
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", "suppressed"));
            suite.push_attribute(("tests", n.as_str()));
            suite.push_attribute(("failures", "0"));
            suite.push_attribute(("errors", "0"));
            suite.push_attribute(("skipped", n.as_str()));
            w.write_event(Event::Start(suite)).expect(IO);
            for x in &ctx.suppressed {
                let f = &x.finding;
                let name = format!("{} {} ({})", f.rule.id(), f.rule.name(), x.subject());
                let mut case = BytesStart::new("testcase");
                case.push_attribute(("name", name.as_str()));
                case.push_attribute(("classname", "graceline.suppressed"));
                case.push_attribute(("file", f.loc.file.as_str()));
                w.write_event(Event::Start(case)).expect(IO);
                let why = format!(
                    "suppressed by {}: {}",
                    x.suppression.origin, x.suppression.justification
                );
                let mut skipped = BytesStart::new("skipped");
                skipped.push_attribute(("message", why.as_str()));
                w.write_event(Event::Empty(skipped)).expect(IO);
                w.write_event(Event::End(BytesEnd::new("testcase"))).expect(IO);
            }
            w.write_event(Event::End(BytesEnd::new("testsuite"))).expect(IO);
        }
        w.write_event(Event::End(BytesEnd::new("testsuites"))).expect(IO);
        let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
        s.push('\n');
        s
    }
}

impl Exporter for JunitExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.document(o, ctx).as_bytes())
    }
}
