//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`, one per
//! finding (a server-level finding once per server), paths relative to the repository root.

use super::{reported, ExportContext, Exporter};
use crate::analysis::findings::Severity;
use crate::analysis::outcome::Outcome;
use std::io::Write;

/// GitHub workflow-command exporter.
pub struct GithubExporter;

/// Escapes a message as the runner expects (toolkit `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (toolkit `escapeProperty`).
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

impl Exporter for GithubExporter {
    fn write(&self, o: &Outcome, ctx: &ExportContext, out: &mut dyn Write) -> std::io::Result<()> {
        for x in reported(o) {
            let f = x.finding;
            let cmd = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let title = format!("{} {}", f.rule.id(), f.rule.name());
            writeln!(
                out,
                "::{cmd} file={},line={},col={},title={}::{}",
                prop(&ctx.root.display(&f.loc.file)),
                f.loc.line.max(1),
                f.loc.column.max(1),
                prop(&title),
                data(&x.message())
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(prop("a:b,c"), "a%3Ab%2Cc");
    }
}
