//! Text in bitmaps, at the size and position the SVG gives the same text: every glyph placed at
//! its exact (fractional) pen position with the font's kerning and drawn with its own side bearing
//! and sub-pixel offset by `ab_glyph`. plotters' own `ab_glyph` path drops each glyph's left side
//! bearing and rounds every pen position down, so letters sit unevenly ("prob es", "rout ing").

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// Horizontal text alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// The anchor is the left end.
    Left,
    /// The anchor is the middle.
    Center,
    /// The anchor is the right end.
    Right,
}

/// The embedded font, parsed once (`None` only if the embedded bytes were not a font, which
/// `ensure_font` reports first).
fn font() -> Option<&'static FontRef<'static>> {
    static F: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(super::FONT).ok()).as_ref()
}

/// The em size in pixels of a text of plotters `size` (plotters' SVG writes `font-size: size / 1.24`).
fn em(size: f64) -> f32 {
    (size / 1.24) as f32
}

/// The glyphs of `text` at `size` with their pen positions from the text's left end, and the
/// text's width.
fn layout(font: &FontRef<'static>, text: &str, size: f64) -> (PxScale, Vec<(ab_glyph::GlyphId, f32)>, f32) {
    let upem = font.units_per_em().unwrap_or(2048.0);
    let scale = PxScale::from(em(size) * font.height_unscaled() / upem);
    let sf = font.as_scaled(scale);
    let mut x = 0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        glyphs.push((id, x));
        x += sf.h_advance(id);
        prev = Some(id);
    }
    (scale, glyphs, x)
}

/// The font's x-height as a share of the em (the SVG centres text with `dy="0.5ex"`).
fn x_height(font: &FontRef<'static>) -> f32 {
    let upem = font.units_per_em().unwrap_or(2048.0);
    font.outline(font.glyph_id('x'))
        .map_or(0.5, |o| (o.bounds.max.y - o.bounds.min.y).abs() / upem)
}

/// Draws `text` at `size` anchored at `at` (vertically centred like the SVG), blending each
/// pixel by the glyph's coverage.
pub fn draw_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    at: (i32, i32),
    align: Align,
    size: f64,
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let Some(font) = font() else {
        return Ok(());
    };
    let (scale, glyphs, w) = layout(font, text, size);
    let left = at.0 as f32
        - match align {
            Align::Left => 0.0,
            Align::Center => w / 2.0,
            Align::Right => w,
        };
    let baseline = at.1 as f32 + 0.5 * x_height(font) * em(size);
    for (id, x) in glyphs {
        let Some(outlined) = font.outline_glyph(id.with_scale_and_position(scale, point(left + x, baseline))) else {
            continue;
        };
        let b = outlined.px_bounds();
        let mut result = Ok(());
        outlined.draw(|px, py, coverage| {
            if result.is_ok() && coverage > 0.0 {
                let p = (b.min.x as i32 + px as i32, b.min.y as i32 + py as i32);
                result = area.draw_pixel(p, &color.mix(f64::from(coverage.min(1.0))));
            }
        });
        result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pen_positions_are_fractional_and_kerned() {
        let f = font().unwrap();
        let (_, glyphs, w) = layout(f, "probes routing", 14.0);
        // Not every advance is a whole pixel: the old path rounded each one down.
        assert!(glyphs.iter().any(|(_, x)| x.fract() != 0.0));
        assert!(glyphs.windows(2).all(|g| g[1].1 > g[0].1));
        // The SVG draws 14 / 1.24 = 11.3 px DejaVu Sans: "probes routing" is about 88 px wide.
        assert!((80.0..96.0).contains(&w), "{w}");
        // The layout's box (`measure`) never underestimates the drawn width.
        super::super::ensure_font().unwrap();
        assert!(super::super::draw::measure("probes routing", 14.0) as f32 >= w);
        // DejaVu Sans: x-height 1120 of 2048 units.
        assert!((x_height(f) - 1120.0 / 2048.0).abs() < 0.01, "{}", x_height(f));
    }
}
