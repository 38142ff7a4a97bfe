//! YAML with positions: a thin layer over `saphyr`'s `MarkedYaml` that finds keys, reads typed
//! scalars and turns saphyr's markers into graceline `Loc`s (1-based line and column).
//!
//! Why saphyr: `serde_yaml` is deprecated and its maintained forks (`serde_yaml_ng`,
//! `serde_norway`) only locate errors, not values; `saphyr` (the maintained successor of
//! `yaml-rust2`) gives every node a span, loads multi-document streams, rejects duplicate keys
//! and bounds alias expansion ("billion laughs").

use crate::error::{InputError, Loc};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A YAML node with its span.
pub type Node<'a> = MarkedYaml<'a>;

/// The text of one YAML or JSON file with a line index, to locate nodes, substrings and byte offsets.
pub struct Text<'a> {
    /// Name shown in messages.
    pub file: &'a str,
    /// Full text.
    pub text: &'a str,
    line_starts: Vec<usize>,
    /// Characters before each 4 KiB block, so columns cost O(4 KiB) even on one-line JSON.
    block_chars: Vec<usize>,
}

const BLOCK: usize = 4096;

/// Characters in a byte range: bytes that do not continue a UTF-8 sequence.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

impl<'a> Text<'a> {
    /// Indexes `text` by line.
    pub fn new(file: &'a str, text: &'a str) -> Self {
        // Lines end at LF, CRLF or a lone CR, as in YAML and SARIF (saphyr counts lone CRs too).
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i + 1),
        );
        let mut block_chars = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut total = 0;
        for chunk in text.as_bytes().chunks(BLOCK) {
            block_chars.push(total);
            total += count_chars(chunk);
        }
        Text {
            file,
            text,
            line_starts,
            block_chars,
        }
    }

    /// A location from saphyr's 1-based line and 0-based character column.
    pub fn at(&self, line: usize, col: usize) -> Loc {
        Loc {
            file: self.file.to_string(),
            line: u32::try_from(line.max(1)).unwrap_or(u32::MAX),
            column: u32::try_from(col.saturating_add(1)).unwrap_or(u32::MAX),
        }
    }

    /// Where a node starts.
    pub fn loc(&self, n: &Node) -> Loc {
        self.at(n.span.start.line(), n.span.start.col())
    }

    /// Byte offset of saphyr's (line, column) position, clamped to the text.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let rest = &self.text[start..];
        rest.char_indices().nth(col).map_or(self.text.len(), |(i, _)| start + i)
    }

    /// Characters before a byte offset.
    fn chars_before(&self, offset: usize) -> usize {
        let b = offset / BLOCK;
        self.block_chars.get(b).copied().unwrap_or(0) + count_chars(&self.text.as_bytes()[b * BLOCK..offset])
    }

    /// The location of a byte offset.
    pub fn loc_of_offset(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        self.at(line, self.chars_before(offset) - self.chars_before(start))
    }

    /// Where `needle` first occurs in the source of a scalar node (for a flag inside a command
    /// string or block scalar); the node's start if it cannot be found.
    pub fn loc_within(&self, n: &Node, needle: &str) -> Loc {
        let start = self.offset(n.span.start.line(), n.span.start.col());
        let end = self.offset(n.span.end.line(), n.span.end.col()).max(start);
        let hay = &self.text[start..end.min(self.text.len())];
        match hay.find(needle) {
            Some(i) => self.loc_of_offset(start + i),
            None => self.loc(n),
        }
    }
}

/// Loads every document of a YAML stream; a syntax error names its line and column.
pub fn load<'a>(t: &Text<'a>) -> Result<Vec<Node<'a>>, InputError> {
    MarkedYaml::load_from_str(t.text).map_err(|e| {
        InputError::new(
            t.at(e.marker().line(), e.marker().col()),
            "",
            format!("malformed YAML: {}", crate::scenario::words::yaml_syntax(e.info())),
        )
    })
}

/// The value of `key` in a mapping node, with the key node (`None` if absent or not a mapping).
pub fn entry<'n, 'a>(map: &'n Node<'a>, key: &str) -> Option<(&'n Node<'a>, &'n Node<'a>)> {
    match &map.data {
        YamlData::Mapping(m) => m.iter().find(|(k, _)| as_str(k) == Some(key)),
        _ => None,
    }
}

/// The value of `key` in a mapping node.
pub fn get<'n, 'a>(map: &'n Node<'a>, key: &str) -> Option<&'n Node<'a>> {
    entry(map, key).map(|(_, v)| v)
}

/// Entries of a mapping node (empty for anything else).
pub fn entries<'n, 'a>(map: &'n Node<'a>) -> Vec<(&'n Node<'a>, &'n Node<'a>)> {
    match &map.data {
        YamlData::Mapping(m) => m.iter().collect(),
        _ => Vec::new(),
    }
}

/// Items of a sequence node (empty for anything else).
pub fn items<'n, 'a>(seq: &'n Node<'a>) -> &'n [Node<'a>] {
    match &seq.data {
        YamlData::Sequence(s) => s,
        _ => &[],
    }
}

/// A string scalar (a quoted number is a string; a plain `10` is an integer and gives `None`).
pub fn as_str<'n>(n: &'n Node) -> Option<&'n str> {
    match &n.data {
        YamlData::Value(Scalar::String(s)) => Some(s),
        _ => None,
    }
}

/// An integer scalar.
pub fn as_int(n: &Node) -> Option<i64> {
    match &n.data {
        YamlData::Value(Scalar::Integer(i)) => Some(*i),
        _ => None,
    }
}

/// A boolean scalar.
pub fn as_bool(n: &Node) -> Option<bool> {
    match &n.data {
        YamlData::Value(Scalar::Boolean(b)) => Some(*b),
        _ => None,
    }
}

/// True for a null scalar (`~`, `null`, or nothing).
pub fn is_null(n: &Node) -> bool {
    matches!(&n.data, YamlData::Value(Scalar::Null))
}

/// A short description of a node's type for messages.
pub fn kind_of(n: &Node) -> &'static str {
    match &n.data {
        YamlData::Value(Scalar::String(_)) => "a string",
        YamlData::Value(Scalar::Integer(_)) => "an integer",
        YamlData::Value(Scalar::FloatingPoint(_)) => "a number",
        YamlData::Value(Scalar::Boolean(_)) => "a boolean",
        YamlData::Value(Scalar::Null) => "null",
        YamlData::Mapping(_) => "a mapping",
        YamlData::Sequence(_) => "a list",
        _ => "an unsupported YAML node",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_values_keys_and_substrings() {
        let src = "a: \"10\"\nb: 10\né: x\n---\nlist:\n  - |\n    exec foo --y=2\n";
        let t = Text::new("f.yaml", src);
        let docs = load(&t).unwrap();
        assert_eq!(docs.len(), 2);
        let a = get(&docs[0], "a").unwrap();
        assert_eq!(as_str(a), Some("10"));
        assert_eq!((t.loc(a).line, t.loc(a).column), (1, 4));
        let b = get(&docs[0], "b").unwrap();
        assert_eq!((as_str(b), as_int(b)), (None, Some(10)));
        assert_eq!(t.loc(get(&docs[0], "é").unwrap()).column, 4);
        let block = &items(get(&docs[1], "list").unwrap())[0];
        let l = t.loc_within(block, "--y");
        assert_eq!((l.line, l.column), (7, 14));
    }

    #[test]
    fn syntax_errors_and_duplicate_keys_are_located() {
        let e = load(&Text::new("f.yaml", "a: [1\nb: 2")).unwrap_err();
        assert_eq!(e.loc.line, 2);
        assert!(e.message.contains("malformed YAML"), "{e}");
        let e = load(&Text::new("f.yaml", "a: 1\na: 2\n")).unwrap_err();
        assert_eq!((e.loc.line, e.loc.column), (2, 1));
        assert!(e.message.contains("duplicated key"), "{e}");
    }

    #[test]
    fn offsets_of_multibyte_lines() {
        let t = Text::new("f", "ab\nçd e\n");
        assert_eq!(t.offset(2, 3), 3 + 4);
        let l = t.loc_of_offset(7);
        assert_eq!((l.line, l.column), (2, 4));
        let long = format!("a\n{}x", "é".repeat(5000));
        let t = Text::new("f", &long);
        let l = t.loc_of_offset(2 + 10_000);
        assert_eq!((l.line, l.column), (2, 5001));
        let t = Text::new("f", "a\rb\r\nc\nd");
        assert_eq!(t.loc_of_offset(2).line, 2);
        assert_eq!(t.loc_of_offset(5).line, 3);
        assert_eq!(t.loc_of_offset(7).line, 4);
    }
}
