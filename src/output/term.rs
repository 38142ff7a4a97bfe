//! The terminal a table is printed on: its width (`COLUMNS`, else the tty's) and whether to colour
//! (`--color`, `NO_COLOR`, a tty), and tables laid out to fit it, wrapping text cells at path and
//! word boundaries instead of mid-word.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
    TableComponent, Width,
};
use std::io::IsTerminal;

/// How output meets the terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Term {
    /// Widest line a table may take; `None`: unbounded (a pipe without `COLUMNS`).
    pub width: Option<usize>,
    /// Colour verdicts and severities.
    pub color: bool,
}

/// When to colour verdicts and severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// On a terminal, unless `NO_COLOR` is set to a non-empty value.
    Auto,
    /// Always (also into a pipe).
    Always,
    /// Never.
    Never,
}

impl Term {
    /// Width from `COLUMNS` (a positive number), else the terminal's when stdout is one; colour
    /// per `mode`: `Auto` colours a terminal unless `NO_COLOR` is set to a non-empty value.
    pub fn detect(mode: ColorMode) -> Term {
        let tty = std::io::stdout().is_terminal();
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&w| w > 0)
            .or_else(|| {
                if tty {
                    Table::new().width().map(usize::from)
                } else {
                    None
                }
            });
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match mode {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => tty && !no_color,
        };
        Term { width, color }
    }

    /// `text` in bold red, yellow, green or cyan when colouring.
    pub fn paint(&self, text: &str, color: Paint) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match color {
            Paint::Red => "1;31",
            Paint::Yellow => "33",
            Paint::Green => "32",
            Paint::Cyan => "36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The terminal width: `COLUMNS` (a positive number), else the terminal's when stdout is one.
pub fn width_from_env() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .or_else(|| {
            if std::io::stdout().is_terminal() {
                Table::new().width().map(usize::from)
            } else {
                None
            }
        })
}

/// The colours graceline uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Errors and failing verdicts.
    Red,
    /// Warnings.
    Yellow,
    /// Passing verdicts.
    Green,
    /// Notes.
    Cyan,
}

impl Paint {
    fn cell(self) -> Color {
        match self {
            Paint::Red => Color::Red,
            Paint::Yellow => Color::Yellow,
            Paint::Green => Color::Green,
            Paint::Cyan => Color::Cyan,
        }
    }
}

/// Display width of a line (one column per character; the table text is ASCII or narrow).
pub fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// Pieces of a text that a line may end after: after whitespace (dropped), `/`, `.`, `-`, `_`,
/// `:`, `,` or `+` (kept), so paths and names break at their own separators.
fn pieces(text: &str) -> Vec<(String, bool)> {
    split_pieces(text, |c, _| "/.-_:,+".contains(c))
}

/// Pieces of a figure: after a unit before the next number (`4m|26s`, `-3m|56s`), never inside a
/// number (`159.572s`, `1.0000` stay whole), and at whitespace.
fn number_pieces(text: &str) -> Vec<(String, bool)> {
    split_pieces(text, |c, next| {
        c.is_ascii_alphabetic() && next.is_some_and(|n| n.is_ascii_digit() || n == '-')
    })
}

/// Splits `text` at whitespace (dropped; the flag says a space followed) and after every
/// character `after(c, next)` accepts (kept).
fn split_pieces(text: &str, after: impl Fn(char, Option<char>) -> bool) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), true));
            } else if let Some(last) = out.last_mut() {
                last.1 = true;
            }
            continue;
        }
        cur.push(c);
        if after(c, chars.peek().copied()) {
            out.push((std::mem::take(&mut cur), false));
        }
    }
    if !cur.is_empty() {
        out.push((cur, false));
    }
    out
}

/// Wraps `text` into lines of at most `width` characters, breaking at word and path boundaries;
/// a piece longer than a line is cut (the only mid-word break, when nothing else fits).
pub fn wrap(text: &str, width: usize) -> String {
    wrap_pieces(text, width, pieces, true)
}

/// Wraps a figure at its unit boundaries (`1m` / `30.5s`), like [`wrap`] otherwise.
pub fn wrap_number(text: &str, width: usize) -> String {
    wrap_pieces(text, width, number_pieces, true)
}

/// Wraps prose (a finding's headline, evidence and help) at whitespace only: a setting name
/// (`connection_termination.enabled`), a path, a URL or a `key=value` is copied from the output,
/// so it stays whole on one line even when that line is then wider than `width`.
pub fn wrap_prose(text: &str, width: usize) -> String {
    wrap_pieces(text, width, |t| split_pieces(t, |_, _| false), false)
}

fn wrap_pieces(text: &str, width: usize, split: fn(&str) -> Vec<(String, bool)>, cut_long: bool) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut space_before = false;
        for (piece, space_after) in split(para) {
            let sep = if space_before && !line.is_empty() { " " } else { "" };
            if width_of(&line) + sep.len() + width_of(&piece) <= width {
                line.push_str(sep);
                line.push_str(&piece);
            } else {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let mut rest: Vec<char> = piece.chars().collect();
                while cut_long && rest.len() > width {
                    lines.push(rest.drain(..width).collect());
                }
                line = rest.into_iter().collect();
            }
            space_before = space_after;
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// Wraps `text` to `width` with every line after the first indented by `indent` spaces (the
/// first line's own prefix is the caller's).
pub fn wrap_indented(text: &str, width: Option<usize>, indent: usize) -> String {
    match width {
        Some(w) => wrap(text, w.saturating_sub(indent).max(20)).replace('\n', &format!("\n{}", " ".repeat(indent))),
        None => text.to_string(),
    }
}

/// A column of a fitted table.
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    /// Header text.
    pub header: &'a str,
    /// Right-aligned figures that wrap only at their unit boundaries; text columns wrap at word
    /// and path boundaries.
    pub numeric: bool,
}

/// How a table meets the terminal's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One space of padding on each side of every cell.
    Normal,
    /// One space after each cell only: the narrowest table whose words stay whole.
    Compact,
    /// Too many columns for the width: one record per row, the headers down the left and the
    /// values beside them (as `psql \x` shows wide rows).
    Expanded,
}

/// Column widths (content only, without padding) and the style they were computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Content width of each column (two columns, names and values, when expanded).
    pub widths: Vec<usize>,
    /// How the table is drawn.
    pub style: Style,
}

impl Layout {
    fn padding(&self) -> (u16, u16) {
        match self.style {
            Style::Compact => (0, 1),
            _ => (1, 1),
        }
    }
}

/// A table no wider than the terminal (see [`layout`]). `paint[row]` colours the last cell of a
/// row.
pub fn fit(cols: &[Col], rows: &[Vec<String>], paint: &[Option<Paint>], term: &Term) -> Table {
    table_with(cols, rows, paint, &layout(cols, rows, term), term)
}

/// True when the table fits the terminal as a table (not expanded record by record).
pub fn fits(cols: &[Col], rows: &[Vec<String>], term: &Term) -> bool {
    layout(cols, rows, term).style != Style::Expanded
}

/// Lays out a table to fit the terminal without breaking a word: text columns shrink first
/// (widest first), down to their longest piece between separators (and the header's), then
/// figures shrink down to their longest unit piece; if that is still too wide the padding before
/// each cell goes ([`Style::Compact`]); if that is still too wide every row becomes a record
/// ([`Style::Expanded`]). Several tables laid out with the same layout line up.
pub fn layout(cols: &[Col], rows: &[Vec<String>], term: &Term) -> Layout {
    let n = cols.len();
    let natural: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .flat_map(|r| r[i].lines())
                .chain(std::iter::once(c.header))
                .map(width_of)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let Some(limit) = term.width else {
        return Layout {
            widths: natural,
            style: Style::Normal,
        };
    };
    let floor: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let head = pieces(c.header).iter().map(|(p, _)| width_of(p)).max().unwrap_or(0);
            let split = if c.numeric { number_pieces } else { pieces };
            let cell = rows
                .iter()
                .flat_map(|r| split(&r[i]))
                .map(|(p, _)| width_of(&p))
                .max()
                .unwrap_or(0);
            natural[i].min(head.max(cell))
        })
        .collect();
    for style in [Style::Normal, Style::Compact] {
        let pad = if style == Style::Normal { 2 } else { 1 };
        // UTF8_FULL_CONDENSED: a border between and around the columns, plus the padding.
        let overhead = n + 1 + pad * n;
        if floor.iter().sum::<usize>() + overhead > limit {
            continue;
        }
        let mut widths = natural.clone();
        // Small tables: each step takes a character from the column whose wrapping adds the
        // fewest lines to the table (ties: the widest); large ones: from the widest.
        let mut lines = (rows.len() <= SMART_ROWS).then(|| Lines::new(cols, rows, &widths));
        for numeric in [false, true] {
            while widths.iter().sum::<usize>() + overhead > limit {
                let candidates = (0..n).filter(|&i| cols[i].numeric == numeric && widths[i] > floor[i]);
                let pick = match &lines {
                    Some(l) => {
                        candidates.min_by_key(|&i| (l.cost(cols, rows, i, widths[i] - 1), usize::MAX - widths[i]))
                    }
                    None => candidates.max_by_key(|&i| widths[i]),
                };
                let Some(i) = pick else {
                    break;
                };
                widths[i] -= 1;
                if let Some(l) = &mut lines {
                    l.set(cols, rows, i, widths[i]);
                }
            }
        }
        return Layout { widths, style };
    }
    // Expanded: the names as wide as the longest header (at most a third of the width), the
    // values the rest.
    let names = cols.iter().map(|c| width_of(c.header)).max().unwrap_or(0);
    let name_floor = cols
        .iter()
        .flat_map(|c| pieces(c.header))
        .map(|(p, _)| width_of(&p))
        .max()
        .unwrap_or(0);
    let names = names.min((limit / 3).max(name_floor)).max(1);
    let values = limit.saturating_sub(names + 7).max(1);
    Layout {
        widths: vec![names, values],
        style: Style::Expanded,
    }
}

/// Tables up to this many rows are shrunk by the lines each column's wrapping costs.
const SMART_ROWS: usize = 200;

/// Lines each cell (and header) takes at the current widths, to price a narrower column.
struct Lines {
    /// `cells[col][row]`, the header last.
    cells: Vec<Vec<usize>>,
}

impl Lines {
    fn count(col: &Col, text: &str, width: usize) -> usize {
        cell_text(col, text, width).lines().count().max(1)
    }

    fn column(cols: &[Col], rows: &[Vec<String>], i: usize, width: usize) -> Vec<usize> {
        rows.iter()
            .map(|r| Self::count(&cols[i], &r[i], width))
            .chain(std::iter::once(wrap(cols[i].header, width).lines().count().max(1)))
            .collect()
    }

    fn new(cols: &[Col], rows: &[Vec<String>], widths: &[usize]) -> Lines {
        Lines {
            cells: (0..cols.len())
                .map(|i| Self::column(cols, rows, i, widths[i]))
                .collect(),
        }
    }

    /// The table's height with column `i` at `width`.
    fn cost(&self, cols: &[Col], rows: &[Vec<String>], i: usize, width: usize) -> usize {
        let narrower = Self::column(cols, rows, i, width);
        (0..=rows.len())
            .map(|r| {
                (0..cols.len())
                    .map(|c| if c == i { narrower[r] } else { self.cells[c][r] })
                    .max()
                    .unwrap_or(1)
            })
            .sum()
    }

    fn set(&mut self, cols: &[Col], rows: &[Vec<String>], i: usize, width: usize) {
        self.cells[i] = Self::column(cols, rows, i, width);
    }
}

/// A cell's text wrapped to its column: figures at unit boundaries, text at separators.
fn cell_text(col: &Col, text: &str, width: usize) -> String {
    if col.numeric {
        wrap_number(text, width)
    } else {
        wrap(text, width)
    }
}

/// A table of `rows` laid out by `layout`; `paint[row]` colours the last cell of a row.
pub fn table_with(cols: &[Col], rows: &[Vec<String>], paint: &[Option<Paint>], layout: &Layout, term: &Term) -> Table {
    let n = cols.len();
    let colour = |r: usize, i: usize| {
        if i + 1 == n {
            paint.get(r).copied().flatten()
        } else {
            None
        }
    };
    table_painted(cols, rows, &colour, layout, term)
}

/// A table no wider than the terminal whose cells are coloured by `paint(row, column)`.
pub fn fit_painted(
    cols: &[Col],
    rows: &[Vec<String>],
    paint: &dyn Fn(usize, usize) -> Option<Paint>,
    term: &Term,
) -> Table {
    table_painted(cols, rows, paint, &layout(cols, rows, term), term)
}

fn table_painted(
    cols: &[Col],
    rows: &[Vec<String>],
    paint: &dyn Fn(usize, usize) -> Option<Paint>,
    layout: &Layout,
    term: &Term,
) -> Table {
    let widths = &layout.widths;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    if term.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    if layout.style == Style::Expanded {
        // Records separated by a line.
        t.set_style(TableComponent::LeftBorderIntersections, '├')
            .set_style(TableComponent::HorizontalLines, '─')
            .set_style(TableComponent::MiddleIntersections, '┼')
            .set_style(TableComponent::RightBorderIntersections, '┤');
        for row in rows {
            let (mut names, mut values) = (Vec::new(), Vec::new());
            for (i, text) in row.iter().enumerate() {
                let name = wrap(cols[i].header, widths[0]);
                let value = cell_text(&cols[i], text, widths[1]);
                let lines = name.lines().count().max(value.lines().count()).max(1);
                let pad = |s: String| {
                    let k = s.lines().count().max(1);
                    let mut s = if s.is_empty() { String::new() } else { s };
                    for _ in k..lines {
                        s.push('\n');
                    }
                    s
                };
                names.push(pad(name));
                values.push(pad(value));
            }
            t.add_row(vec![Cell::new(names.join("\n")), Cell::new(values.join("\n"))]);
        }
        return t;
    }
    t.set_header(
        cols.iter()
            .enumerate()
            .map(|(i, c)| Cell::new(wrap(c.header, widths[i]))),
    );
    for (r, row) in rows.iter().enumerate() {
        let cells = row.iter().enumerate().map(|(i, text)| {
            let mut cell = Cell::new(cell_text(&cols[i], text, widths[i]));
            if cols[i].numeric {
                cell = cell.set_alignment(CellAlignment::Right);
            }
            if term.color {
                if let Some(p) = paint(r, i) {
                    cell = cell.fg(p.cell());
                }
            }
            cell
        });
        t.add_row(cells);
    }
    let padding = layout.padding();
    for c in t.column_iter_mut() {
        c.set_padding(padding);
    }
    t
}

/// Rows per piece when a long table is written piece by piece.
const PIECE_ROWS: usize = 1024;

/// Writes the table [`table_with`] builds from `rows` rows (`row(i)`: the cells and verdict colour
/// of row `i`), then a newline, holding at most [`PIECE_ROWS`] rows at a time: every piece is laid
/// out at the content widths of the whole table (measured by comfy-table in a first pass), and
/// only the first keeps the top border and header, only the last the bottom border, so the text
/// is the whole table's.
pub fn write_table(
    cols: &[Col],
    rows: usize,
    row: impl Fn(usize) -> (Vec<String>, Option<Paint>),
    layout: &Layout,
    term: &Term,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let piece = |start: usize| -> Table {
        let (cells, paint): (Vec<Vec<String>>, Vec<Option<Paint>>) =
            (start..(start + PIECE_ROWS).min(rows)).map(&row).unzip();
        table_with(cols, &cells, &paint, layout, term)
    };
    if rows <= PIECE_ROWS {
        return writeln!(out, "{}", piece(0));
    }
    let width_count = layout.widths.len();
    let mut content = vec![0u16; width_count];
    for start in (0..rows).step_by(PIECE_ROWS) {
        for (c, w) in content.iter_mut().zip(piece(start).column_max_content_widths()) {
            *c = (*c).max(w);
        }
    }
    let (left, right) = layout.padding();
    let expanded = layout.style == Style::Expanded;
    let mut separator = String::new();
    for start in (0..rows).step_by(PIECE_ROWS) {
        let mut t = piece(start);
        // An absolute width includes the padding.
        t.set_constraints(
            content
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed(w.saturating_add(left + right)))),
        );
        let lines: Vec<String> = t.lines().collect();
        // Later pieces drop their top border and header (up to the header separator); expanded
        // records are joined by a row line.
        let from = if start == 0 {
            0
        } else if expanded {
            out.write_all(separator.as_bytes())?;
            1
        } else {
            lines.iter().position(|l| l.starts_with('╞')).map_or(0, |i| i + 1)
        };
        if start == 0 && expanded {
            separator = format!("{}\n", lines[0].replace('┌', "├").replace('┬', "┼").replace('┐', "┤"));
        }
        let to = if start + PIECE_ROWS >= rows {
            lines.len()
        } else {
            lines.len().saturating_sub(1)
        };
        for l in &lines[from..to] {
            out.write_all(l.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_table_written_in_pieces_is_the_whole_table() {
        let cols = [
            Col {
                header: "lb name",
                numeric: false,
            },
            Col {
                header: "worst",
                numeric: true,
            },
            Col {
                header: "verdict",
                numeric: false,
            },
        ];
        // 2 500 rows (three pieces); the widest cell of each column is in a later piece, and
        // one lb name wraps onto a second line.
        let cell = |i: usize| -> (Vec<String>, Option<Paint>) {
            let name = match i {
                1500 => "backend-with-a-long-name/server-with-a-long-name".to_string(),
                _ => format!("api{}/s{}", i / 10, i % 10),
            };
            let worst = if i == 2300 {
                "1h2m3.456789s".to_string()
            } else {
                format!("{}s", i % 60)
            };
            let paint = if i.is_multiple_of(3) { Paint::Red } else { Paint::Green };
            (vec![name, worst, "FAIL".to_string()], Some(paint))
        };
        for term in [
            Term {
                width: None,
                color: false,
            },
            Term {
                width: Some(40),
                color: true,
            },
        ] {
            let (rows, paint): (Vec<_>, Vec<_>) = (0..2500).map(cell).unzip();
            let w = layout(&cols, &rows, &term);
            let whole = format!("{}\n", table_with(&cols, &rows, &paint, &w, &term));
            let mut pieces = Vec::new();
            write_table(&cols, rows.len(), cell, &w, &term, &mut pieces).unwrap();
            assert_eq!(String::from_utf8(pieces).unwrap(), whole);
            assert!(whole.lines().count() > 2500);
        }
    }

    #[test]
    fn prose_wraps_at_whitespace_only_and_keeps_long_words_whole() {
        let help = "set target_health_state.unhealthy.connection_termination.enabled=false with a draining interval";
        assert_eq!(
            wrap_prose(help, 30),
            "set\ntarget_health_state.unhealthy.connection_termination.enabled=false\nwith a draining interval"
        );
        assert_eq!(
            wrap_prose("see https://example.com/a/b now", 12),
            "see\nhttps://example.com/a/b\nnow"
        );
        assert_eq!(wrap_prose("one two three", 7), "one two\nthree");
        assert_eq!(wrap_prose("a\nb c", 80), "a\nb c");
    }

    #[test]
    fn wraps_at_separators_not_mid_word() {
        assert_eq!(
            wrap("tests/fixtures/inputs/kubeadm-ha/haproxy.cfg", 20),
            "tests/fixtures/\ninputs/kubeadm-ha/\nhaproxy.cfg"
        );
        assert_eq!(wrap("aws-nlb / kube-apiserver", 12), "aws-nlb /\nkube-\napiserver");
        assert_eq!(wrap("short", 10), "short");
        assert_eq!(wrap("abcdefghij", 4), "abcd\nefgh\nij");
        for w in 1..30 {
            for line in wrap("module.vpc.aws_lb_target_group.api_internal and more", w).lines() {
                assert!(width_of(line) <= w, "{w}: {line:?}");
            }
        }
    }

    #[test]
    fn a_fitted_table_is_no_wider_than_the_terminal() {
        let cols = [
            Col {
                header: "scenario",
                numeric: false,
            },
            Col {
                header: "lb",
                numeric: false,
            },
            Col {
                header: "worst",
                numeric: true,
            },
            Col {
                header: "verdict",
                numeric: false,
            },
        ];
        let rows = vec![vec![
            "tests/fixtures/inputs/kubeadm-ha/haproxy.cfg".to_string(),
            "module.vpc.aws_lb_target_group.api_internal".to_string(),
            "1m30.5s".to_string(),
            "FAIL".to_string(),
        ]];
        for width in [45, 60, 80] {
            let term = Term {
                width: Some(width),
                color: false,
            };
            let t = fit(&cols, &rows, &[Some(Paint::Red)], &term).to_string();
            for line in t.lines() {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
            assert!(t.contains("1m30.5s"));
        }
        let colored = fit(
            &cols,
            &rows,
            &[Some(Paint::Red)],
            &Term {
                width: None,
                color: true,
            },
        )
        .to_string();
        assert!(colored.contains("\x1b["), "{colored}");
    }
}
