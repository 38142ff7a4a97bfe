//! Success matchers: which answers a health check counts as healthy.
//!
//! Two spellings are read. ELBv2 `Matcher.HttpCode` (Terraform `matcher`, the AWS Load Balancer
//! Controller's `service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes`): codes
//! and inclusive ranges separated by commas, `"200"`, `"200,202"`, `"200-299"` (ELBv2 API
//! reference `Matcher`). HAProxy `http-check expect [!] status|rstatus|string|rstring <pattern>`
//! (configuration manual 2.6, "http-check expect"): `status` takes codes and ranges like ELBv2,
//! `rstatus`/`rstring` a regular expression on the status code text or the body, `string` a
//! substring of the body; `!` inverts the match. HAProxy compiles its regexes with PCRE; graceline
//! uses the `regex` crate, which refuses back-references and look-around that PCRE accepts.
//!
//! What a failing kube-apiserver `/readyz` answers: HTTP 500 (k8s.io/apiserver
//! pkg/server/healthz/healthz.go:313) with the per-check list as body, e.g. `[+]ping ok` lines and
//! `[-]shutdown failed: reason withheld`, then `readyz check failed` ([`FAILING_READYZ_BODY`]).
//! Under `--shutdown-send-retry-after` a non-exempt path answers 429 (filters/with_retry_after.go).
//! A matcher that accepts the failing answer makes the check blind to readiness (GL003).

use regex::Regex;
use serde::{Deserialize, Deserializer};

/// Status of a failing kube-apiserver `/readyz` (healthz.go:313).
pub const READYZ_FAILURE_STATUS: u16 = 500;
/// Status kube-apiserver answers non-exempt paths with under send-retry-after (with_retry_after.go).
pub const RETRY_AFTER_STATUS: u16 = 429;
/// The body of a failing `/readyz`: the verbose check list healthz.go writes on failure (shortened
/// to the lines a matcher could hit).
pub const FAILING_READYZ_BODY: &str =
    "[+]ping ok\n[+]log ok\n[+]etcd ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n";

/// What a matcher tests.
#[derive(Debug, Clone)]
pub enum Test {
    /// Status codes, inclusive ranges.
    Status(Vec<(u16, u16)>),
    /// A regular expression on the three-digit status code.
    StatusRegex(Regex),
    /// A substring of the body (the status is not looked at).
    Body(String),
    /// A regular expression on the body.
    BodyRegex(Regex),
    /// Several rules that must all match (HAProxy evaluates every `http-check expect` in turn).
    All(Vec<Matcher>),
}

/// A success matcher, possibly inverted, with the text it was read from.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// What is tested.
    pub test: Test,
    /// `!`: healthy when the test does not match.
    pub inverted: bool,
    /// As written.
    pub text: String,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Matcher {}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Matcher {
    /// Whether an answer with this status and body counts as healthy.
    pub fn accepts(&self, status: u16, body: &str) -> bool {
        let hit = match &self.test {
            Test::Status(ranges) => ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&status)),
            Test::StatusRegex(re) => re.is_match(&status.to_string()),
            Test::Body(s) => body.contains(s.as_str()),
            Test::BodyRegex(re) => re.is_match(body),
            Test::All(all) => all.iter().all(|m| m.accepts(status, body)),
        };
        hit != self.inverted
    }

    /// Whether a failing `/readyz` (500 with its check list) passes this check.
    pub fn accepts_failing_readyz(&self) -> bool {
        self.accepts(READYZ_FAILURE_STATUS, FAILING_READYZ_BODY)
    }

    /// Whether the 429 of send-retry-after passes this check. Its body is not modelled: a body
    /// matcher is taken to reject it (the status-only answer is the documented part).
    pub fn accepts_retry_after(&self) -> bool {
        match &self.test {
            Test::Body(_) | Test::BodyRegex(_) => self.inverted,
            Test::All(all) => all.iter().all(Matcher::accepts_retry_after) != self.inverted,
            _ => self.accepts(RETRY_AFTER_STATUS, ""),
        }
    }

    /// Every rule together: a check passes only if all of them match.
    pub fn all(rules: Vec<Matcher>) -> Option<Matcher> {
        match rules.len() {
            0 => None,
            1 => rules.into_iter().next(),
            _ => Some(Matcher {
                text: rules.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("; "),
                test: Test::All(rules),
                inverted: false,
            }),
        }
    }

    /// Status codes outside `[lo, hi]` that this matcher names (ELBv2 accepts only codes in the
    /// provider's range), as `(code, code)` ranges; empty for regex and body matchers.
    pub fn codes_outside(&self, lo: u16, hi: u16) -> Vec<(u16, u16)> {
        match &self.test {
            Test::Status(r) => r.iter().copied().filter(|&(a, b)| a < lo || b > hi).collect(),
            _ => Vec::new(),
        }
    }

    /// Parses ELBv2's `HttpCode` syntax: `200`, `200,202`, `200-299`.
    pub fn parse_codes(text: &str) -> Result<Self, String> {
        Ok(Matcher {
            test: Test::Status(parse_code_list(text, true)?),
            inverted: false,
            text: text.trim().to_string(),
        })
    }

    /// Parses the arguments of HAProxy's `http-check expect`: `[!] <match> <pattern>`.
    pub fn parse_haproxy(text: &str) -> Result<Self, String> {
        let mut words = text.split_whitespace();
        let mut first = words
            .next()
            .ok_or("needs a match type: status, rstatus, string or rstring")?;
        let mut inverted = false;
        if let Some(rest) = first.strip_prefix('!') {
            inverted = true;
            first = if rest.is_empty() {
                words.next().ok_or("needs a match type after !")?
            } else {
                rest
            };
        }
        let pattern = words.collect::<Vec<_>>().join(" ");
        if pattern.is_empty() {
            return Err(format!("'{first}' needs a pattern"));
        }
        let regex = |p: &str| Regex::new(p).map_err(|e| format!("bad regular expression \"{p}\": {}", first_line(&e)));
        let test = match first {
            "status" => Test::Status(parse_code_list(&pattern, false)?),
            "rstatus" => Test::StatusRegex(regex(&pattern)?),
            "string" => Test::Body(pattern.clone()),
            "rstring" => Test::BodyRegex(regex(&pattern)?),
            "hdr" | "fhdr" | "string-lf" | "rstring-lf" | "status-lf" => {
                return Err(format!(
                    "'{first}' matches graceline cannot evaluate against a failing /readyz; use status, rstatus, string or rstring"
                ))
            }
            other => {
                return Err(format!(
                    "unknown match type \"{other}\"; graceline reads status, rstatus, string and rstring"
                ))
            }
        };
        Ok(Matcher {
            test,
            inverted,
            text: text.trim().to_string(),
        })
    }

    /// Parses either spelling: HAProxy's when it starts with a match keyword or `!`, else ELBv2's.
    pub fn parse(text: &str) -> Result<Self, String> {
        let head = text.split_whitespace().next().unwrap_or("");
        if matches!(head, "!" | "status" | "rstatus" | "string" | "rstring") {
            Self::parse_haproxy(text)
        } else {
            Self::parse_codes(text)
        }
    }
}

fn first_line(e: &regex::Error) -> String {
    e.to_string().lines().last().unwrap_or("").trim().to_string()
}

/// `200`, `200,202`, `200-299`: HTTP status codes 100-599 (`strict`, ELBv2) or any number
/// (HAProxy 2.6 accepts `status 1000`), ranges not reversed.
fn parse_code_list(text: &str, strict: bool) -> Result<Vec<(u16, u16)>, String> {
    let code = |s: &str| -> Result<u16, String> {
        let s = s.trim();
        let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match s.parse::<u16>() {
            Ok(c) if digits && (!strict || ((100..=599).contains(&c) && s.len() == 3)) => Ok(c),
            _ if strict => Err(format!("\"{s}\" is not an HTTP status code (100 to 599)")),
            _ => Err(format!("\"{s}\" is not a status code")),
        }
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!(
                "\"{}\" has an empty entry; write codes like 200,202-299",
                text.trim()
            ));
        }
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (code(a)?, code(b)?),
            None => (code(part)?, code(part)?),
        };
        if lo > hi {
            return Err(format!("range {part} is reversed"));
        }
        out.push((lo, hi));
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Matcher::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_ranges() {
        let m = Matcher::parse("200-599").unwrap();
        assert!(m.accepts_failing_readyz() && m.accepts_retry_after());
        let m = Matcher::parse("200-399").unwrap();
        assert!(!m.accepts_failing_readyz() && !m.accepts_retry_after());
        let m = Matcher::parse("200,202,429").unwrap();
        assert!(!m.accepts_failing_readyz() && m.accepts_retry_after());
        assert_eq!(m.codes_outside(200, 499), vec![]);
        assert_eq!(
            Matcher::parse("200-599").unwrap().codes_outside(200, 499),
            vec![(200, 599)]
        );
        for bad in ["200-", "abc", "", "300-200", "20", "2000", "200,,201", "-200"] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
        assert!(Matcher::parse("300-200").unwrap_err().contains("reversed"));
    }

    #[test]
    fn haproxy_expect() {
        let m = Matcher::parse("rstatus ^[2345]").unwrap();
        assert!(m.accepts_failing_readyz());
        let m = Matcher::parse("rstatus ^2").unwrap();
        assert!(!m.accepts_failing_readyz());
        let m = Matcher::parse("! rstatus ^5").unwrap();
        assert!(!m.accepts_failing_readyz() && m.accepts_retry_after());
        let m = Matcher::parse("status 200-399").unwrap();
        assert!(!m.accepts_failing_readyz());
        // The failing body lists the passing checks as "[+]... ok": a body match on "ok" is blind.
        assert!(Matcher::parse("string ok").unwrap().accepts_failing_readyz());
        assert!(!Matcher::parse("! string failed").unwrap().accepts_failing_readyz());
        assert!(!Matcher::parse("rstring ^ok$").unwrap().accepts_failing_readyz());
        for bad in ["rstatus (", "status", "!", "hdr name", "rstring ^a(?=b)"] {
            assert!(Matcher::parse_haproxy(bad).is_err(), "{bad}");
        }
    }
}
