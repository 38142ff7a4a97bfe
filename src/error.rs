//! Source locations and input errors: every bad input names its file, line, column and field.

use serde::Serialize;
use std::fmt;

/// How standard input is named in messages and finding locations (`Loc::file`).
pub const STDIN_NAME: &str = "<stdin>";

/// The path that stands for standard input on the command line.
pub const STDIN_PATH: &str = "-";

/// True for the path `-` (standard input).
pub fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == STDIN_PATH
}

/// A place in an input file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// Path as the user gave it, or `builtin:<profile>` for built-in profiles.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A problem with user input (exit code 2): file, line, column, field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Where the problem is.
    pub loc: Loc,
    /// Dotted field path, e.g. `lb[0].interval`; empty when the whole file is at fault.
    pub field: String,
    /// What is wrong, in one line.
    pub message: String,
}

impl InputError {
    /// Builds an error at `loc` for `field`.
    pub fn new(loc: Loc, field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            loc,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.loc, self.message)
        } else {
            write!(f, "{}: field `{}`: {}", self.loc, self.field, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// A text document with a name, able to turn byte offsets into line and column.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    /// Name shown in messages.
    pub file: &'a str,
    /// Full text.
    pub text: &'a str,
}

impl Doc<'_> {
    /// Location of a byte offset (clamped to the text).
    pub fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u32 + 1;
        Loc {
            file: self.file.to_string(),
            line,
            column,
        }
    }

    /// Dotted path of the TOML key on the line at `offset`, with its table header (`lb[1].interval`).
    pub fn toml_field_at(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |p| p + 1);
        let line_end = self.text[offset..].find('\n').map_or(self.text.len(), |p| offset + p);
        let line = &self.text[line_start..line_end];
        // A table header is its own field (`[cheks]` is the table `cheks`, not a key of the one
        // before it).
        if let Some(name) = line
            .trim()
            .strip_prefix('[')
            .map(|r| r.trim_start_matches('['))
            .and_then(|r| r.split(']').next())
        {
            return name.trim().to_string();
        }
        let key = line
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"').to_string())
            .filter(|k| !k.is_empty() && !k.starts_with('['))
            .unwrap_or_default();
        let mut header = String::new();
        let mut counts: std::collections::HashMap<String, usize> = Default::default();
        for l in self.text[..line_start].lines() {
            let t = l.trim();
            if let Some(name) = t
                .strip_prefix("[[")
                .and_then(|r| r.split_once("]]"))
                .map(|(n, _)| n.trim())
            {
                let n = counts.entry(name.to_string()).or_insert(0);
                header = format!("{name}[{n}]");
                *n += 1;
            } else if let Some(name) = t
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(n, _)| n.trim())
            {
                header = name.to_string();
            }
        }
        match (header.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => header,
            (false, false) => format!("{header}.{key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_columns_and_fields() {
        let text = "[server]\nshutdown_delay = \"30s\"\n\n[[lb]]\nname = \"a\"\n[[lb]]\ninterval = \"0s\"\n";
        let d = Doc { file: "s.toml", text };
        let off = text.find("\"0s\"").unwrap();
        assert_eq!(
            d.loc(off),
            Loc {
                file: "s.toml".into(),
                line: 7,
                column: 12
            }
        );
        assert_eq!(d.toml_field_at(off), "lb[1].interval");
        assert_eq!(d.toml_field_at(text.find("\"30s\"").unwrap()), "server.shutdown_delay");
    }
}
