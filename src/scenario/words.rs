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

/// The candidates of an "expected one of `a`, `b`", "expected `a` or `b`" or "expected `a`"
/// message.
fn candidates(message: &str) -> Vec<&str> {
    let Some((_, list)) = message.split_once(", expected ") else {
        return Vec::new();
    };
    let list = list.strip_prefix("one of ").unwrap_or(list);
    list.split(", ")
        .flat_map(|c| c.split(" or "))
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty())
        .collect()
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

/// ` (did you mean "NAME"?)` for the option nearest each of `words` (see [`nearest`]), or nothing.
pub fn did_you_mean(words: &[&str], options: &[&str]) -> String {
    let near: Vec<String> = words
        .iter()
        .filter_map(|w| nearest(w, options))
        .map(|n| format!("\"{n}\""))
        .collect();
    if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(" or "))
    }
}

/// TOML syntax errors (the `toml` crate's phrases) and what to do about each.
const TOML_SYNTAX: &[(&str, &str)] = &[
    (
        "string values must be quoted",
        "a text value must be in double quotes (durations too: interval = \"10s\")",
    ),
    (
        "invalid basic string",
        "the text is not closed: end it with a double quote (\") on the same line",
    ),
    (
        "unclosed array table",
        "the [[table]] header is not closed: end it with ]]",
    ),
    ("unclosed table", "the [table] header is not closed: end it with ]"),
    (
        "unclosed array",
        "the list is not closed: end it with ] (items are separated by commas)",
    ),
    (
        "duplicate key",
        "this key is set twice in the same table: keep one of them",
    ),
    ("key with no value", "a key without a value: write key = value"),
    (
        "unexpected key or value",
        "one key = value per line: remove what follows the value (a trailing comma?) or start a new line",
    ),
    (
        "invalid table header",
        "a table header is [name] or [[name]] alone on its line",
    ),
    (
        "invalid inline table",
        "an inline table is { key = value, key = value } on one line",
    ),
];

/// YAML syntax errors (saphyr's phrases) and what to do about each.
const YAML_SYNTAX: &[(&str, &str)] = &[
    (
        "did not find expected key",
        "this line's indentation does not match the keys around it: indent the keys of one mapping by the same number of spaces",
    ),
    (
        "mapping values are not allowed in this context",
        "a second `: ` on one line: quote a value that contains `: `, or start the nested mapping on the next line",
    ),
    (
        "did not find expected ',' or '}'",
        "the { ... } mapping is not closed: end it with } (entries are separated by commas)",
    ),
    (
        "expected ',' or ']'",
        "the [ ... ] list is not closed: end it with ] (items are separated by commas)",
    ),
    ("found a tab", "YAML is indented with spaces, not tabs: replace the tab"),
    (
        "found unexpected end of stream",
        "the quoted text is not closed: add the closing quote",
    ),
    (
        "duplicated key in mapping",
        "this key appears twice in one mapping: keep one of them",
    ),
    (
        "found character that cannot start any token",
        "a value starts with a character YAML reserves (`@`, a backtick, `%` or a tab): put the value in quotes",
    ),
    ("could not find expected ':'", "a key without `:`: write key: value"),
    (
        "illegal placement of ':' indicator",
        "a `:` where YAML cannot take one: close a [ or { opened before, or quote a value that contains `:`",
    ),
    (
        "did not find expected '-' indicator",
        "a list item is indented differently from the items before it: align the `-` of one list",
    ),
];

/// JSON syntax errors (serde_json's phrases) and what to do about each.
const JSON_SYNTAX: &[(&str, &str)] = &[
    (
        "key must be a string",
        "a member name must be a quoted string: a comma too many, or a name without quotes",
    ),
    ("trailing comma", "a comma before the closing bracket: remove it"),
    (
        "EOF while parsing",
        "the text ends before the document is complete: a closing } or ] is missing",
    ),
    (
        "expected value",
        "a value is missing here (two commas in a row, or a comma before the end)",
    ),
    (
        "expected `,` or `}`",
        "a comma is missing between two members, or the object is closed too late",
    ),
    (
        "expected `,` or `]`",
        "a comma is missing between two items, or the list is closed too late",
    ),
    (
        "expected `:`",
        "a member name without `:` and value: write \"name\": value",
    ),
    (
        "control character",
        "a raw line break or tab inside a string: write it as \\n or \\t",
    ),
];

/// A JSON parser message with what to fix in words first (the parser's own words after it).
pub fn json_syntax(message: &str) -> String {
    match JSON_SYNTAX.iter().find(|(phrase, _)| message.contains(phrase)) {
        Some((_, words)) => format!("{words} (JSON parser: {message})"),
        None => message.to_string(),
    }
}

/// A YAML parser message with what to fix in words first (the parser's own words after it).
pub fn yaml_syntax(info: &str) -> String {
    match YAML_SYNTAX.iter().find(|(phrase, _)| info.contains(phrase)) {
        Some((_, words)) => format!("{words} (YAML parser: {info})"),
        None => info.to_string(),
    }
}

/// Rewrites one serde/TOML message in words.
pub fn humanize(message: &str) -> String {
    if let Some((_, words)) = TOML_SYNTAX.iter().find(|(phrase, _)| message.starts_with(phrase)) {
        return (*words).to_string();
    }
    for (kind, noun) in [("unknown field", "key"), ("unknown variant", "value")] {
        let Some(rest) = message.strip_prefix(kind) else {
            continue;
        };
        let word = rest.trim_start().split('`').nth(1).unwrap_or("");
        let options = candidates(message);
        let list = options.iter().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ");
        return match nearest(word, &options) {
            Some(near) => format!("unknown {noun} '{word}'; did you mean '{near}'?"),
            None if options.is_empty() => format!("unknown {noun} '{word}'"),
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
