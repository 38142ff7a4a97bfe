//! TOML and serde error messages in words a user reads: type names become what to write
//! (`expected u32` -> "a whole number (0 or more)"), and an unknown key or value names the nearest
//! valid one (`did you mean 'interval'?`, by edit distance with strsim).

/// What to write instead of a Rust type name in "expected ..." messages.
const TYPES: &[(&str, &str)] = &[
    ("u8", "a whole number from 0"),
    ("u16", "a whole number from 0"),
    ("u32", "a whole number from 0"),
    ("u64", "a whole number from 0"),
    ("usize", "a whole number from 0"),
    ("i32", "a whole number"),
    ("i64", "a whole number"),
    ("f32", "a number such as 0.5"),
    ("f64", "a number such as 0.5"),
    ("a boolean", "true or false"),
];

/// The candidates of an "expected one of `a`, `b`" (or "expected `a` or `b`") message.
fn candidates(message: &str) -> Vec<&str> {
    if let Some((_, list)) = message.split_once("expected one of ") {
        return list.split(", ").map(|c| c.trim().trim_matches('`')).collect();
    }
    message
        .split_once("expected `")
        .map(|(_, rest)| {
            format!("`{rest}")
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|w| {
                    let start = rest.find(w).unwrap_or(0);
                    &rest[start..start + w.len()]
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The candidate nearest to `word` when it is close enough to be a typo: at most a third of its
/// letters differ (Damerau-Levenshtein, so a swapped pair counts once), or one contains the other.
pub fn nearest<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    options
        .iter()
        .map(|&o| (o, strsim::damerau_levenshtein(&w, &o.to_ascii_lowercase())))
        .filter(|&(o, d)| d * 3 <= o.len().max(w.len()) || (w.len() >= 4 && (o.contains(w.as_str()) || w.contains(o))))
        .min_by_key(|&(_, d)| d)
        .map(|(o, _)| o)
}

/// Rewrites one serde/TOML message in words.
pub fn humanize(message: &str) -> String {
    for (kind, noun) in [("unknown field", "key"), ("unknown variant", "value")] {
        let Some(rest) = message.strip_prefix(kind) else {
            continue;
        };
        let word = rest.trim_start().split('`').nth(1).unwrap_or("");
        let options = candidates(message);
        let list = options.iter().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ");
        return match nearest(word, &options) {
            Some(near) => format!("unknown {noun} '{word}'; did you mean '{near}'?"),
            None => format!("unknown {noun} '{word}'; valid: {list}"),
        };
    }
    let mut out = message.to_string();
    if let Some((head, expected)) = message.rsplit_once(", expected ") {
        if let Some((_, words)) = TYPES.iter().find(|(t, _)| *t == expected.trim()) {
            let head = head
                .replace("invalid type: ", "")
                .replace("invalid value: ", "")
                .replace("floating point", "the number")
                .replace("integer", "the number")
                .replace("string", "the text")
                .replace("boolean", "");
            out = format!("{} is not allowed here: expected {words}", head.trim());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_in_words() {
        assert_eq!(
            humanize("invalid type: floating point `2.5`, expected u32"),
            "the number `2.5` is not allowed here: expected a whole number from 0"
        );
        assert_eq!(
            humanize("invalid value: integer `-1`, expected u32"),
            "the number `-1` is not allowed here: expected a whole number from 0"
        );
        assert_eq!(
            humanize("invalid type: string \"x\", expected f64"),
            "the text \"x\" is not allowed here: expected a number such as 0.5"
        );
        assert_eq!(humanize("something else"), "something else");
    }

    #[test]
    fn unknown_keys_and_values_suggest_the_nearest() {
        let m = "unknown field `intervall`, expected one of `name`, `profile`, `interval`, `timeout`";
        assert_eq!(humanize(m), "unknown key 'intervall'; did you mean 'interval'?");
        let m = "unknown variant `timout`, expected one of `error`, `timeout`, `either`";
        assert!(humanize(m).starts_with("unknown value 'timout'; did you mean 'timeout'?"));
        let m = "unknown variant `worst`, expected `typical` or `tail`";
        assert_eq!(humanize(m), "unknown value 'worst'; valid: 'typical', 'tail'");
        let m = "unknown field `zzz`, expected one of `name`, `server`, `lbs`";
        assert_eq!(humanize(m), "unknown key 'zzz'; valid: 'name', 'server', 'lbs'");
        assert_eq!(nearest("lbz", &["name", "server", "lbs"]), Some("lbs"));
        assert_eq!(nearest("servr", &["name", "server", "lb"]), Some("server"));
        assert_eq!(
            nearest("unhealthy_treshold", &["unhealthy_threshold", "healthy_threshold"]),
            Some("unhealthy_threshold")
        );
    }
}
