//! The terminal a table is printed on: its width (`COLUMNS`, else the tty's) and whether to colour
//! (`--color`, `NO_COLOR`, a tty), and tables laid out to fit it, wrapping text cells at path and
//! word boundaries instead of mid-word.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width,
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

/// Narrowest a text column gets before its cells wrap harder.
const MIN_TEXT_WIDTH: usize = 8;

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
fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// Pieces of a text that a line may end after: after whitespace (dropped), `/`, `.`, `-`, `_`,
/// `:`, `,` or `+` (kept), so paths and names break at their own separators.
fn pieces(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), true));
            } else if let Some(last) = out.last_mut() {
                last.1 = true;
            }
            continue;
        }
        cur.push(c);
        if "/.-_:,+".contains(c) {
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
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut space_before = false;
        for (piece, space_after) in pieces(para) {
            let sep = if space_before && !line.is_empty() { " " } else { "" };
            if width_of(&line) + sep.len() + width_of(&piece) <= width {
                line.push_str(sep);
                line.push_str(&piece);
            } else {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let mut rest: Vec<char> = piece.chars().collect();
                while rest.len() > width {
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

/// A column of a fitted table.
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    /// Header text.
    pub header: &'a str,
    /// Right-aligned numbers that keep their width; text columns shrink and wrap.
    pub numeric: bool,
}

/// A table no wider than the terminal: numeric columns keep their width, the widest text column
/// shrinks first (never below its header's longest word or 8 characters), and text cells wrap at
/// word and path boundaries. `paint[row]` colours the last cell of a row.
pub fn fit(cols: &[Col], rows: &[Vec<String>], paint: &[Option<Paint>], term: &Term) -> Table {
    table_with(cols, rows, paint, &widths(cols, rows, term), term)
}

/// Column widths that fit `rows` into the terminal (see [`fit`]); several tables laid out with
/// the same widths line up.
pub fn widths(cols: &[Col], rows: &[Vec<String>], term: &Term) -> Vec<usize> {
    let n = cols.len();
    let mut widths: Vec<usize> = cols
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
    // First shrink no column below its longest path piece (at most 20 characters), so names break
    // at their separators; only when that cannot fit, down to the hard floor.
    let floor = |soft: bool| -> Vec<usize> {
        cols.iter()
            .enumerate()
            .map(|(i, c)| {
                let word = c.header.split_whitespace().map(width_of).max().unwrap_or(0);
                if c.numeric {
                    // Numbers never wrap; a long header wraps at its spaces.
                    let values = rows.iter().flat_map(|r| r[i].lines()).map(width_of).max().unwrap_or(0);
                    return values.max(word);
                }
                let piece = if soft {
                    rows.iter()
                        .flat_map(|r| pieces(&r[i]))
                        .map(|(p, _)| width_of(&p).min(20))
                        .max()
                        .unwrap_or(0)
                } else {
                    0
                };
                widths[i].min(MIN_TEXT_WIDTH.max(word).max(piece))
            })
            .collect()
    };
    // UTF8_FULL_CONDENSED: a border between and around the columns, one space of padding each side.
    let overhead = n + 1 + 2 * n;
    if let Some(limit) = term.width {
        let (soft, hard) = (floor(true), floor(false));
        let fits = |f: &[usize]| f.iter().sum::<usize>() + overhead <= limit;
        let floor = if fits(&soft) { soft } else { hard };
        while widths.iter().sum::<usize>() + overhead > limit {
            let Some(i) = (0..n).filter(|&i| widths[i] > floor[i]).max_by_key(|&i| widths[i]) else {
                break;
            };
            widths[i] -= 1;
        }
    }
    widths
}

/// A table of `rows` with text cells wrapped at `widths`.
pub fn table_with(cols: &[Col], rows: &[Vec<String>], paint: &[Option<Paint>], widths: &[usize], term: &Term) -> Table {
    let n = cols.len();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    if term.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(
        cols.iter()
            .enumerate()
            .map(|(i, c)| Cell::new(wrap(c.header, widths[i]))),
    );
    for (r, row) in rows.iter().enumerate() {
        let cells = row.iter().enumerate().map(|(i, text)| {
            let mut cell = if cols[i].numeric {
                Cell::new(text).set_alignment(CellAlignment::Right)
            } else {
                Cell::new(wrap(text, widths[i]))
            };
            if i + 1 == n && term.color {
                if let Some(p) = paint.get(r).copied().flatten() {
                    cell = cell.fg(p.cell());
                }
            }
            cell
        });
        t.add_row(cells);
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
    widths: &[usize],
    term: &Term,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let piece = |start: usize| -> Table {
        let (cells, paint): (Vec<Vec<String>>, Vec<Option<Paint>>) =
            (start..(start + PIECE_ROWS).min(rows)).map(&row).unzip();
        table_with(cols, &cells, &paint, widths, term)
    };
    if rows <= PIECE_ROWS {
        return writeln!(out, "{}", piece(0));
    }
    let mut content = vec![0u16; cols.len()];
    for start in (0..rows).step_by(PIECE_ROWS) {
        for (c, w) in content.iter_mut().zip(piece(start).column_max_content_widths()) {
            *c = (*c).max(w);
        }
    }
    for start in (0..rows).step_by(PIECE_ROWS) {
        let mut t = piece(start);
        // An absolute width includes the padding of one space on each side.
        t.set_constraints(
            content
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed(w.saturating_add(2)))),
        );
        let lines: Vec<String> = t.lines().collect();
        // Later pieces drop their top border and header (up to the header separator).
        let from = if start == 0 {
            0
        } else {
            lines.iter().position(|l| l.starts_with('╞')).map_or(0, |i| i + 1)
        };
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
            let w = widths(&cols, &rows, &term);
            let whole = format!("{}\n", table_with(&cols, &rows, &paint, &w, &term));
            let mut pieces = Vec::new();
            write_table(&cols, rows.len(), cell, &w, &term, &mut pieces).unwrap();
            assert_eq!(String::from_utf8(pieces).unwrap(), whole);
            assert!(whole.lines().count() > 2500);
        }
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
