//! JUnit XML for GitLab and Jenkins: one test suite per scenario × LB, one test case per rule;
//! a case fails when that rule has a finding at or above `--fail-on`.

use super::{ExportContext, Exporter};
use crate::analysis::findings::{Finding, Rule, RULES};
use crate::analysis::LbReport;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// JUnit exporter.
pub struct JunitExporter;

fn failing<'a>(r: &'a LbReport, rule: Rule, ctx: &'a ExportContext) -> impl Iterator<Item = &'a Finding> + 'a {
    r.findings
        .iter()
        .filter(move |f| f.rule == rule && ctx.fail_on.is_some_and(|min| f.severity >= min))
}

impl Exporter for JunitExporter {
    fn render(&self, reports: &[LbReport], ctx: &ExportContext) -> String {
        let fails = |r, rule| failing(r, rule, ctx);
        let total_failures: usize = reports
            .iter()
            .map(|r| RULES.iter().filter(|&&x| fails(r, x).next().is_some()).count())
            .sum();
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let io = "writing to memory cannot fail";
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect(io);
        let mut root = BytesStart::new("testsuites");
        let tests = (reports.len() * RULES.len()).to_string();
        let failures = total_failures.to_string();
        root.push_attribute(("name", "graceline"));
        root.push_attribute(("tests", tests.as_str()));
        root.push_attribute(("failures", failures.as_str()));
        w.write_event(Event::Start(root)).expect(io);
        for r in reports {
            let suite_name = format!("{} / {} / {}", r.scenario, r.lb, r.server);
            let suite_failures = RULES
                .iter()
                .filter(|&&x| fails(r, x).next().is_some())
                .count()
                .to_string();
            let rules = RULES.len().to_string();
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", suite_name.as_str()));
            suite.push_attribute(("tests", rules.as_str()));
            suite.push_attribute(("failures", suite_failures.as_str()));
            suite.push_attribute(("errors", "0"));
            suite.push_attribute(("skipped", "0"));
            w.write_event(Event::Start(suite)).expect(io);
            let classname = format!("graceline.{}.{}", r.scenario, r.lb);
            for rule in RULES {
                let name = format!("{} {} ({})", rule.id(), rule.name(), r.server);
                let mut case = BytesStart::new("testcase");
                case.push_attribute(("name", name.as_str()));
                case.push_attribute(("classname", classname.as_str()));
                case.push_attribute(("file", r.file.as_str()));
                let failing: Vec<_> = fails(r, rule).collect();
                let others: Vec<_> = r
                    .findings
                    .iter()
                    .filter(|f| f.rule == rule && !failing.contains(f))
                    .collect();
                if failing.is_empty() && others.is_empty() {
                    w.write_event(Event::Empty(case)).expect(io);
                    continue;
                }
                w.write_event(Event::Start(case)).expect(io);
                for f in &failing {
                    let mut fail = BytesStart::new("failure");
                    let sev = f.severity.to_string();
                    fail.push_attribute(("message", f.message.as_str()));
                    fail.push_attribute(("type", sev.as_str()));
                    w.write_event(Event::Start(fail)).expect(io);
                    let body = format!(
                        "{}[{}] {}: {}\n{}",
                        f.severity,
                        f.rule.id(),
                        f.loc,
                        f.message,
                        rule.help()
                    );
                    w.write_event(Event::Text(BytesText::new(&body))).expect(io);
                    w.write_event(Event::End(BytesEnd::new("failure"))).expect(io);
                }
                if !others.is_empty() {
                    let text: Vec<String> = others
                        .iter()
                        .map(|f| format!("{}[{}] {}: {}", f.severity, f.rule.id(), f.loc, f.message))
                        .collect();
                    w.write_event(Event::Start(BytesStart::new("system-out"))).expect(io);
                    w.write_event(Event::Text(BytesText::new(&text.join("\n")))).expect(io);
                    w.write_event(Event::End(BytesEnd::new("system-out"))).expect(io);
                }
                w.write_event(Event::End(BytesEnd::new("testcase"))).expect(io);
            }
            w.write_event(Event::End(BytesEnd::new("testsuite"))).expect(io);
        }
        w.write_event(Event::End(BytesEnd::new("testsuites"))).expect(io);
        let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
        s.push('\n');
        s
    }
}
