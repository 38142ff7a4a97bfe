//! Conditional blocks (`.if`, `.elif`, `.else`, `.endif`, section 2.4 of the manual) and the
//! predicates HAProxy 2.6+ evaluates: `defined`, `feature`, `streq`, `strneq`, `version_atleast`,
//! `version_before`; terms combine with `!`, `&&` (binding tighter) and `||`, and parentheses.
//! Behaviour checked against `haproxy -c` 2.6.12: an empty condition is false, a non-zero integer
//! true, any other bare word an "unparsable conditional expression".

use super::{error, ParseError, Pos};

/// What graceline assumes about the HAProxy binary that will read the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Version for `version_atleast` / `version_before`, as `(major, minor, patch)`.
    pub version: (u32, u32, u32),
    /// Build features for `feature(...)`, upper case (`OPENSSL`, `LUA`, ...).
    pub features: Vec<String>,
}

pub use crate::provider::haproxy::{parse_version, DEFAULT_VERSION};

/// Features of a standard Linux package build (Debian/Ubuntu `haproxy -vv`, "Feature list": `+` entries).
pub const DEFAULT_FEATURES: &[&str] = &[
    "ACCEPT4",
    "BACKTRACE",
    "CPU_AFFINITY",
    "CRYPT_H",
    "DL",
    "EPOLL",
    "GETADDRINFO",
    "LIBCRYPT",
    "LINUX_SPLICE",
    "LINUX_TPROXY",
    "LUA",
    "NETFILTER",
    "NS",
    "OPENSSL",
    "PCRE2",
    "PCRE2_JIT",
    "POLL",
    "PRCTL",
    "PROMEX",
    "RT",
    "SLZ",
    "SYSTEMD",
    "TFO",
    "THREAD",
    "THREAD_DUMP",
    "TPROXY",
];

impl Default for Build {
    fn default() -> Self {
        Build {
            version: DEFAULT_VERSION,
            features: DEFAULT_FEATURES.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

/// One open `.if` block.
#[derive(Debug, Clone)]
struct Frame {
    /// Whether the enclosing block is active.
    parent_active: bool,
    /// Whether a branch of this block has already been taken.
    taken: bool,
    /// Whether the current branch is active.
    active: bool,
    /// Whether `.else` was seen.
    in_else: bool,
    /// Where the `.if` is.
    pos: Pos,
}

/// The stack of open conditional blocks.
#[derive(Debug, Default)]
pub(super) struct Conditions {
    stack: Vec<Frame>,
}

impl Conditions {
    /// Whether lines are currently read (every enclosing branch taken).
    pub(super) fn active(&self) -> bool {
        self.stack.last().is_none_or(|f| f.active)
    }

    /// Handles `.if`, `.elif`, `.else`, `.endif`; `expr` is the condition text with its position.
    pub(super) fn directive(
        &mut self,
        kw: &str,
        kw_pos: Pos,
        expr: Option<(&str, Pos)>,
        vars: &dyn Fn(&str) -> Option<String>,
        build: &Build,
    ) -> Result<(), ParseError> {
        match kw {
            ".if" => {
                let parent_active = self.active();
                // As HAProxy, a condition inside a skipped block is not evaluated.
                let value = if parent_active { eval(expr, vars, build)? } else { false };
                self.stack.push(Frame {
                    parent_active,
                    taken: value,
                    active: parent_active && value,
                    in_else: false,
                    pos: kw_pos,
                });
            }
            ".elif" | ".else" => {
                let Some(top) = self.stack.last() else {
                    return error(kw_pos, format!("'{kw}' without a matching '.if'"));
                };
                if top.in_else {
                    return error(
                        kw_pos,
                        format!("'{kw}' after '.else' in the block opened at line {}", top.pos.line),
                    );
                }
                let (parent_active, taken) = (top.parent_active, top.taken);
                let value = if kw == ".else" {
                    if let Some((text, pos)) = expr {
                        return error(pos, format!("unexpected argument '{text}' after '.else'"));
                    }
                    true
                } else if parent_active && !taken {
                    eval(expr, vars, build)?
                } else {
                    false
                };
                if let Some(top) = self.stack.last_mut() {
                    top.active = parent_active && !taken && value;
                    top.taken |= value;
                    top.in_else = kw == ".else";
                }
            }
            _ => {
                if let Some((text, pos)) = expr {
                    return error(pos, format!("unexpected argument '{text}' after '.endif'"));
                }
                if self.stack.pop().is_none() {
                    return error(kw_pos, "'.endif' without a matching '.if'");
                }
            }
        }
        Ok(())
    }

    /// At the end of the configuration: an open block is an error, as in HAProxy.
    pub(super) fn finish(&self) -> Result<(), ParseError> {
        match self.stack.last() {
            Some(f) => error(
                f.pos,
                "'.if' block is not closed: missing '.endif' at the end of the file",
            ),
            None => Ok(()),
        }
    }
}

fn eval(expr: Option<(&str, Pos)>, vars: &dyn Fn(&str) -> Option<String>, build: &Build) -> Result<bool, ParseError> {
    let Some((text, pos)) = expr else {
        return Ok(false);
    };
    let chars: Vec<char> = text.chars().collect();
    let mut p = ExprParser {
        chars: &chars,
        i: 0,
        vars,
        build,
    };
    let fail = |p: &ExprParser, m: String| {
        let column = pos.column.saturating_add(u32::try_from(p.i).unwrap_or(0));
        error(
            Pos { column, ..pos },
            format!(
                "unparsable conditional expression '{text}' at position {}: {m}",
                p.i + 1
            ),
        )
    };
    let v = match p.or_expr() {
        Ok(v) => v,
        Err(m) => return fail(&p, m),
    };
    p.skip_blank();
    if p.i < chars.len() {
        return fail(&p, "unexpected text after the expression".to_string());
    }
    Ok(v)
}

struct ExprParser<'a> {
    chars: &'a [char],
    i: usize,
    vars: &'a dyn Fn(&str) -> Option<String>,
    build: &'a Build,
}

impl ExprParser<'_> {
    fn skip_blank(&mut self) {
        while self.chars.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_blank();
        let n = s.chars().count();
        if self
            .chars
            .get(self.i..self.i + n)
            .is_some_and(|w| w.iter().copied().eq(s.chars()))
        {
            self.i += n;
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self) -> Result<bool, String> {
        let mut v = self.and_expr()?;
        while self.eat("||") {
            let r = self.and_expr()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and_expr(&mut self) -> Result<bool, String> {
        let mut v = self.term()?;
        while self.eat("&&") {
            let r = self.term()?;
            v = v && r;
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<bool, String> {
        if self.eat("!") {
            return Ok(!self.term()?);
        }
        if self.eat("(") {
            let v = self.or_expr()?;
            if !self.eat(")") {
                return Err("missing ')'".to_string());
            }
            return Ok(v);
        }
        self.skip_blank();
        let start = self.i;
        while self
            .chars
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            self.i += 1;
        }
        let word: String = self.chars[start..self.i].iter().collect();
        if word.is_empty() {
            return Err("expected a predicate, a number, '!' or '('".to_string());
        }
        if word.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(word.bytes().any(|b| b != b'0'));
        }
        if !self.eat("(") {
            self.i = start;
            return Err(format!("unknown term '{word}'"));
        }
        let args = self.args()?;
        self.predicate(&word, &args).inspect_err(|_| self.i = start)
    }

    /// Comma-separated arguments up to the closing parenthesis, trimmed.
    fn args(&mut self) -> Result<Vec<String>, String> {
        let mut args = Vec::new();
        let mut cur = String::new();
        loop {
            match self.chars.get(self.i) {
                None => return Err("missing ')'".to_string()),
                Some(')') => {
                    self.i += 1;
                    break;
                }
                Some(',') => {
                    args.push(cur.trim().to_string());
                    cur.clear();
                    self.i += 1;
                }
                Some(c) => {
                    cur.push(*c);
                    self.i += 1;
                }
            }
        }
        if !cur.trim().is_empty() || !args.is_empty() {
            args.push(cur.trim().to_string());
        }
        Ok(args)
    }

    fn predicate(&self, name: &str, args: &[String]) -> Result<bool, String> {
        let want = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("'{name}' expects {n} argument(s), got {}", args.len()))
            }
        };
        let version = |s: &str| parse_version(s).ok_or_else(|| format!("'{s}' is not a version such as 2.6.12"));
        match name {
            "defined" => {
                want(1)?;
                Ok((self.vars)(&args[0]).is_some())
            }
            "feature" => {
                want(1)?;
                Ok(self.build.features.iter().any(|f| f == &args[0]))
            }
            "streq" | "strneq" => {
                want(2)?;
                Ok((args[0] == args[1]) == (name == "streq"))
            }
            "version_atleast" => {
                want(1)?;
                Ok(self.build.version >= version(&args[0])?)
            }
            "version_before" => {
                want(1)?;
                Ok(self.build.version < version(&args[0])?)
            }
            "enabled" | "ssllib_name_startswith" | "openssl_version_atleast" | "openssl_version_before" => Err(format!(
                "predicate '{name}' is not in HAProxy 2.6 (graceline evaluates defined, feature, streq, strneq, version_atleast, version_before)"
            )),
            _ => Err(format!(
                "unknown predicate '{name}' (HAProxy 2.6 has defined, feature, streq, strneq, version_atleast, version_before)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(text: &str) -> Result<bool, ParseError> {
        let vars = |n: &str| (n == "HOME").then(|| "/root".to_string());
        let p = Pos {
            file: 0,
            line: 1,
            column: 5,
        };
        eval(Some((text, p)), &vars, &Build::default())
    }

    /// Each expected value is what `haproxy -c` 2.6.12 printed for `.if <expr>` (see the module doc).
    #[test]
    fn expressions_evaluate_as_haproxy_does() {
        assert!(!ev("1 && 0").unwrap());
        assert!(ev("0 || 1").unwrap());
        assert!(ev("defined(HOME)").unwrap());
        assert!(ev("!defined(NOPE)").unwrap());
        assert!(!ev("streq(a, b)").unwrap());
        assert!(ev("strneq(a, b)").unwrap());
        assert!(ev("( 1 && 0 ) || 1").unwrap());
        assert!(!ev("feature(ZLIB)").unwrap());
        assert!(ev("feature(OPENSSL)").unwrap());
        assert!(ev("version_atleast(2.6.12)").unwrap());
        assert!(!ev("version_before(2.8)").unwrap());
        assert!(ev("version_before(3.0)").unwrap());
        assert!(ev("2").unwrap());
        assert!(!ev("1 && 1 && 0 || 0").unwrap());
        for bad in [
            "foo",
            "true",
            "defined(NOPE) ||",
            "nosuch(x)",
            "(1",
            "version_atleast(x.y)",
        ] {
            let e = ev(bad).unwrap_err();
            assert!(e.message.contains("unparsable conditional expression"), "{bad}: {e}");
        }
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("2.6"), Some((2, 6, 0)));
        assert_eq!(parse_version("2.6.12"), Some((2, 6, 12)));
        assert_eq!(parse_version("3.1-dev4"), Some((3, 1, 0)));
        assert_eq!(parse_version("x"), None);
    }
}
