//! Blocks and includes: the statements of every file assembled into one tree as `ngx_conf_parse()`
//! reads them, each directive checked against the context it appears in (`ngx_conf_handler()`),
//! `include` expanded in place (`ngx_conf_include()`, src/core/ngx_conf_file.c).

use super::directives::{self as dir, Directive};
use super::lex::{lex, End, Stmt, Word};
use super::{error, ParseError, Pos, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Blocks whose content is not directives but a handler's own table (`types`, `map`, `geo`,
/// `split_clients`, `charset_map`): lexed and kept, never checked against the directive table.
const CUSTOM: u16 = 0;

/// Deepest include nesting accepted (nginx has no limit and recurses until it runs out of files).
const MAX_INCLUDE_DEPTH: usize = 32;

/// One directive with its arguments and, for a block, its content.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// The directive name.
    pub(super) name: Word,
    /// Its arguments.
    pub(super) args: Vec<Word>,
    /// The content of a block directive (includes expanded), `None` for a simple one.
    pub(super) children: Option<Vec<Node>>,
    /// The `}` closing a block directive (where nginx reports errors found at the block's end).
    pub(super) close: Option<Pos>,
}

impl Node {
    /// The directive's name.
    pub(super) fn is(&self, name: &str) -> bool {
        self.name.text == name
    }
}

/// Where `include` reads from.
pub(super) enum Files {
    /// The file system: relative names are relative to the prefix (the main file's directory, as
    /// nginx's `conf_prefix` is the directory of `-c`).
    Disk {
        /// The directory of the main file.
        prefix: PathBuf,
    },
    /// The sections of an `nginx -T` dump, by the absolute path nginx printed.
    Dump {
        /// The directory of the first (main) file.
        prefix: PathBuf,
        /// Path → (section text, line of the section's first line in the dump minus one).
        sections: HashMap<String, (String, u32)>,
        /// The dump's own name, where positions point.
        shown: String,
    },
}

impl Files {
    fn prefix(&self) -> &Path {
        match self {
            Files::Disk { prefix } | Files::Dump { prefix, .. } => prefix,
        }
    }

    /// The files an include pattern names, in the order nginx reads them (glob(3) sorts).
    fn expand(&self, pattern: &str) -> Vec<String> {
        let full = self.prefix().join(pattern);
        let full = full.to_string_lossy().into_owned();
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        if !pattern.contains(['*', '?', '[']) {
            return vec![full];
        }
        let mut out: Vec<String> = match self {
            Files::Disk { .. } => glob::glob_with(&full, opts)
                .map(|paths| {
                    paths
                        .filter_map(Result::ok)
                        .filter(|p| !p.is_dir())
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            Files::Dump { sections, .. } => match glob::Pattern::new(&full) {
                Ok(p) => sections.keys().filter(|k| p.matches_with(k, opts)).cloned().collect(),
                Err(_) => Vec::new(),
            },
        };
        out.sort();
        out
    }

    /// Reads one file for `include`; the error is nginx's `open()` message.
    fn read(&self, path: &str) -> Result<(String, SourceFile, u32), String> {
        match self {
            Files::Disk { .. } => match std::fs::read(path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let source = SourceFile {
                        shown: path.to_string(),
                        path: path.to_string(),
                        text: Some(text.clone()),
                    };
                    Ok((text, source, 0))
                }
                Err(e) => Err(format!(
                    "open() \"{path}\" failed ({}: {})",
                    e.raw_os_error().unwrap_or(0),
                    os_message(&e)
                )),
            },
            Files::Dump { sections, shown, .. } => match sections.get(path) {
                Some((text, offset)) => Ok((
                    text.clone(),
                    SourceFile {
                        shown: shown.clone(),
                        path: path.to_string(),
                        text: None,
                    },
                    *offset,
                )),
                None => Err(format!(
                    "open() \"{path}\" failed: the file is not in this 'nginx -T' output (nginx prints every file it reads)"
                )),
            },
        }
    }
}

/// The OS error text without Rust's " (os error N)" suffix.
fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Builds the tree of a configuration.
pub(super) struct Builder<'a> {
    files: &'a Files,
    /// Every file read, indexed by [`Pos::file`].
    pub(super) sources: Vec<SourceFile>,
    depth: usize,
    /// `load_module` seen for the mail module: its blocks are then skipped, not refused.
    mail_loaded: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn new(files: &'a Files) -> Self {
        Builder {
            files,
            sources: Vec::new(),
            depth: 0,
            mail_loaded: false,
        }
    }

    /// Lexes a file's text as file number `self.sources.len()`, shifting lines by `offset`.
    fn lex_file(&mut self, text: &str, source: SourceFile, offset: u32) -> Result<(Vec<Stmt>, Pos), ParseError> {
        let file = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        self.sources.push(source);
        let shift = |mut p: Pos| {
            p.line = p.line.saturating_add(offset);
            p
        };
        let (mut stmts, eof) = lex(text, file).map_err(|mut e| {
            e.line = e.line.saturating_add(offset);
            e
        })?;
        for s in &mut stmts {
            s.at = shift(s.at);
            for w in &mut s.words {
                w.pos = shift(w.pos);
            }
        }
        Ok((stmts, shift(eof)))
    }

    /// Parses the main file.
    pub(super) fn main(&mut self, text: &str, source: SourceFile, offset: u32) -> Result<Vec<Node>, ParseError> {
        let (stmts, eof) = self.lex_file(text, source, offset)?;
        let mut it = stmts.into_iter();
        self.block(&mut it, dir::MAIN, None, eof).map(|(nodes, _)| nodes)
    }

    /// Reads statements until the end of the file (`open` = None) or the `}` closing a block
    /// opened at `open`; returns the nodes and the closing `}`. `eof` is where the file ends.
    fn block(
        &mut self,
        it: &mut std::vec::IntoIter<Stmt>,
        context: u16,
        open: Option<Pos>,
        eof: Pos,
    ) -> Result<(Vec<Node>, Option<Pos>), ParseError> {
        let mut out = Vec::new();
        loop {
            let Some(stmt) = it.next() else {
                return match open {
                    None => Ok((out, None)),
                    Some(p) => error(
                        eof,
                        format!(
                            "unexpected end of file, expecting \"}}\" (the block opened at line {} is not closed)",
                            p.line
                        ),
                    ),
                };
            };
            if stmt.end == End::Close {
                return match open {
                    Some(_) => Ok((out, Some(stmt.at))),
                    None => error(stmt.at, "unexpected \"}\""),
                };
            }
            let mut words = stmt.words.into_iter();
            let Some(name) = words.next() else {
                return error(stmt.at, "unexpected \";\"");
            };
            let args: Vec<Word> = words.collect();
            if name.text == "include" {
                self.check(&name, &args, stmt.end, context)?;
                let included = self.include(&name, &args[0], context)?;
                out.extend(included);
                continue;
            }
            let d = if context == CUSTOM {
                None
            } else {
                if name.text == "load_module" && args.first().is_some_and(|a| a.text.contains("ngx_mail_module")) {
                    self.mail_loaded = true;
                }
                if name.text == "mail" && context == dir::MAIN && self.mail_loaded && stmt.end == End::Open {
                    self.block(it, CUSTOM, Some(stmt.at), eof)?;
                    continue;
                }
                Some(self.check(&name, &args, stmt.end, context)?)
            };
            let (children, close) = if stmt.end == End::Open {
                let inner = d.map_or(CUSTOM, |_| inner_context(&name.text, context));
                let (nodes, close) = self.block(it, inner, Some(stmt.at), eof)?;
                (Some(nodes), close)
            } else {
                (None, None)
            };
            out.push(Node {
                name,
                args,
                children,
                close,
            });
        }
    }

    /// `ngx_conf_handler()`: the directive must exist, be allowed here, end the right way and
    /// take this many arguments; an `on`/`off` flag must be one of the two.
    fn check(&self, name: &Word, args: &[Word], end: End, context: u16) -> Result<&'static Directive, ParseError> {
        if context == CUSTOM {
            // `include` inside a custom block: only its own arity matters.
            if args.len() != 1 {
                return error(
                    name.pos,
                    format!("invalid number of arguments in \"{}\" directive", name.text),
                );
            }
            return dir::named("include")
                .next()
                .map_or_else(|| error(name.pos, "include is not known"), Ok);
        }
        let n = name.text.as_str();
        let mut all = dir::named(n).peekable();
        if all.peek().is_none() {
            let hint = dir::nearest(n, context).map_or_else(String::new, |k| format!("; did you mean \"{k}\"?"));
            return error(name.pos, format!("unknown directive \"{n}\"{hint}"));
        }
        let Some(d) = all.find(|d| d.contexts & context != 0) else {
            return error(
                name.pos,
                format!("\"{n}\" directive is not allowed here{}", where_allowed(n)),
            );
        };
        if !d.is_block() && end != End::Semicolon {
            return error(name.pos, format!("directive \"{n}\" is not terminated by \";\""));
        }
        if d.is_block() && end != End::Open {
            return error(name.pos, format!("directive \"{n}\" has no opening \"{{\""));
        }
        if !d.takes(args.len()) {
            return error(name.pos, format!("invalid number of arguments in \"{n}\" directive"));
        }
        if d.args & dir::FLAG != 0 && !matches!(args[0].text.to_ascii_lowercase().as_str(), "on" | "off") {
            return error(
                args[0].pos,
                format!(
                    "invalid value \"{}\" in \"{n}\" directive, it must be \"on\" or \"off\"",
                    args[0].text
                ),
            );
        }
        Ok(d)
    }

    /// `include <file|glob>`: the files' directives in this context, in glob order. A glob that
    /// matches nothing is accepted, as nginx accepts it; a plain name that does not exist is not.
    fn include(&mut self, kw: &Word, pattern: &Word, context: u16) -> Result<Vec<Node>, ParseError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return error(
                kw.pos,
                format!(
                    "includes nested more than {MAX_INCLUDE_DEPTH} deep: does \"{}\" include itself?",
                    pattern.text
                ),
            );
        }
        let mut out = Vec::new();
        for path in self.files.expand(&pattern.text) {
            let (text, source, offset) = match self.files.read(&path) {
                Ok(x) => x,
                Err(m) => return error(pattern.pos, m),
            };
            let (stmts, eof) = self.lex_file(&text, source, offset)?;
            self.depth += 1;
            let mut it = stmts.into_iter();
            let nodes = self.block(&mut it, context, None, eof);
            self.depth -= 1;
            out.extend(nodes?.0);
        }
        Ok(out)
    }
}

/// The context a block directive opens.
fn inner_context(name: &str, outer: u16) -> u16 {
    match (name, outer) {
        ("events", dir::MAIN) => dir::EVENTS,
        ("http", dir::MAIN) => dir::HTTP,
        ("stream", dir::MAIN) => dir::STREAM,
        ("server", dir::HTTP) => dir::HTTP_SRV,
        ("upstream", dir::HTTP) => dir::HTTP_UPS,
        ("server", dir::STREAM) => dir::STREAM_SRV,
        ("upstream", dir::STREAM) => dir::STREAM_UPS,
        ("location", dir::HTTP_SRV | dir::HTTP_LOC) => dir::HTTP_LOC,
        ("if", dir::HTTP_SRV) => dir::HTTP_SIF,
        ("if", dir::HTTP_LOC) => dir::HTTP_LIF,
        ("limit_except", dir::HTTP_LOC) => dir::HTTP_LMT,
        _ => CUSTOM,
    }
}

/// " (allowed in: …)" naming the blocks a known directive belongs in.
fn where_allowed(name: &str) -> String {
    let names = [
        (dir::MAIN, "the top level"),
        (dir::EVENTS, "events"),
        (dir::HTTP, "http"),
        (dir::HTTP_SRV, "http server"),
        (dir::HTTP_LOC, "location"),
        (dir::HTTP_UPS, "http upstream"),
        (dir::STREAM, "stream"),
        (dir::STREAM_SRV, "stream server"),
        (dir::STREAM_UPS, "stream upstream"),
    ];
    let ctx = dir::named(name).fold(0, |acc, d| acc | d.contexts);
    let list: Vec<&str> = names.iter().filter(|(c, _)| ctx & c != 0).map(|(_, n)| *n).collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" (it belongs in: {})", list.join(", "))
    }
}

/// Splits an `nginx -T` dump into its files: each starts with a `# configuration file <path>:`
/// line (`ngx_dump_config` in src/core/nginx.c). Returns (path, text, line offset) in order.
pub(super) fn split_dump(text: &str) -> Option<Vec<(String, String, u32)>> {
    const HEAD: &str = "# configuration file ";
    let mut out: Vec<(String, String, u32)> = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let l = line.strip_suffix('\r').unwrap_or(line);
        if let Some(path) = l.strip_prefix(HEAD).and_then(|r| r.strip_suffix(':')) {
            out.push((
                path.to_string(),
                String::new(),
                u32::try_from(i + 1).unwrap_or(u32::MAX),
            ));
            continue;
        }
        match out.last_mut() {
            Some((_, t, _)) => {
                t.push_str(line);
                t.push('\n');
            }
            None if i == 0 => return None,
            None => {}
        }
    }
    (!out.is_empty()).then_some(out)
}
