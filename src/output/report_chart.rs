//! The report's charts as SVG text: P(violation) and failed requests against the shutdown delay
//! (plotters, in the timeline charts' font and colours), and the Kubernetes paths chart.

use super::chart::draw::{GRID, INK, MARKER, MUTED};
use super::chart::{ensure_font, FONT_FAMILY};
use crate::analysis::report::Sweep;
use crate::paths::PathReport;
use crate::time::Micros;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Line colours, one per load balancer (colour-blind-safe Okabe-Ito hues).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
}

fn count_label(v: &f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The axes of both halves of the delay chart: the shutdown delay below (`x_label` words it),
/// `y_desc` at the side, in the report's muted style.
fn delay_axes<DB: DrawingBackend>(
    c: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    y_desc: &str,
    x_label: &dyn Fn(&f64) -> String,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    c.configure_mesh()
        .x_desc("shutdown_delay")
        .y_desc(y_desc)
        .x_label_formatter(x_label)
        .label_style(font(12.0).color(&MUTED))
        .axis_desc_style(font(12.0).color(&INK))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .y_label_formatter(&count_label)
        .draw()
}

/// P(reaches E3) with its 95% band (top) and failed requests per restart, or the mean time the
/// load balancer routes after E3 without `[traffic]` (bottom), against the shutdown delay, one
/// line per load balancer; the current delay and each recommended one marked. `None` when no
/// sweep has more than one row.
pub fn sweep_svg(title: &str, lines: &[(&str, &Sweep)], traffic: bool) -> Result<Option<String>> {
    let lines: Vec<&(&str, &Sweep)> = lines.iter().filter(|(_, s)| s.rows.len() > 1).collect();
    if lines.is_empty() {
        return Ok(None);
    }
    ensure_font()?;
    let secs = |m: Micros| m.as_secs_f64();
    let values = lines.iter().flat_map(|(_, s)| s.rows.iter().map(|r| secs(r.value)));
    let (x0, x1) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    // The delay axis counts in minutes past two minutes, so plotters' 1-2-5 ticks fall on round
    // durations (30s, 1m, 2m) rather than on 50 s steps read as 1m40s, 2m30s.
    let unit = if x1 - x0 >= 120.0 { 60.0 } else { 1.0 };
    let (x0, x1) = (x0 / unit, x1 / unit);
    let xs = |m: Micros| m.as_secs_f64() / unit;
    let label = |v: &f64| Micros((v * unit * 1e6).round() as i64).to_string();
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    // Room right of the last row, so its marker is not drawn on the frame.
    let x1 = x1 + (x1 - x0) * 0.04;
    let bottom_value = |r: &crate::analysis::report::SweepRow| -> f64 {
        if traffic {
            r.failed.unwrap_or(0.0)
        } else {
            r.exposure.map_or(0.0, secs)
        }
    };
    let ymax = lines
        .iter()
        .flat_map(|(_, s)| s.rows.iter().map(bottom_value))
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
    let current = lines[0].1.current;
    let err = |e: &dyn std::fmt::Debug| anyhow!("cannot draw the delay chart: {e:?}");
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (top, bottom) = root.split_vertically(320);
        let mut c = ChartBuilder::on(&top)
            .caption(
                format!("P(reaches E3) against the shutdown delay: {title}"),
                font(15.0).color(&INK),
            )
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, 0f64..1f64)
            .map_err(|e| err(&e))?;
        delay_axes(&mut c, "P(reaches E3), 95% band", &label).map_err(|e| err(&e))?;
        for (i, (name, s)) in lines.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let mut band: Vec<(f64, f64)> = s.rows.iter().map(|r| (xs(r.value), r.p.interval().1)).collect();
            band.extend(s.rows.iter().rev().map(|r| (xs(r.value), r.p.interval().0)));
            c.draw_series(std::iter::once(Polygon::new(band, color.mix(0.18))))
                .map_err(|e| err(&e))?;
            c.draw_series(std::iter::once(PathElement::new(
                s.rows.iter().map(|r| (xs(r.value), r.p.value())).collect::<Vec<_>>(),
                color.stroke_width(2),
            )))
            .map_err(|e| err(&e))?
            .label(name.to_string())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            c.draw_series(
                s.rows
                    .iter()
                    .map(|r| Circle::new((xs(r.value), r.p.value()), 3, color.filled())),
            )
            .map_err(|e| err(&e))?;
            if let Some(rec) = s.recommended {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(xs(rec), 0.0), (xs(rec), 1.0)],
                    color.mix(0.7).stroke_width(1),
                )))
                .map_err(|e| err(&e))?
                .label(format!("{name}: recommended {rec}"))
                .legend(move |(x, y)| PathElement::new(vec![(x + 9, y - 6), (x + 9, y + 6)], color.stroke_width(1)));
            }
        }
        c.draw_series(std::iter::once(PathElement::new(
            vec![(xs(current), 0.0), (xs(current), 1.0)],
            MARKER.stroke_width(2),
        )))
        .map_err(|e| err(&e))?
        .label(format!("now: {current}"))
        .legend(|(x, y)| PathElement::new(vec![(x + 9, y - 6), (x + 9, y + 6)], MARKER.stroke_width(2)));
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(font(12.0).color(&INK))
            .draw()
            .map_err(|e| err(&e))?;

        let what = if traffic {
            "failed requests per restart"
        } else {
            "mean time routed after E3 (s)"
        };
        let mut c = ChartBuilder::on(&bottom)
            .caption(format!("{what} against the shutdown delay"), font(15.0).color(&INK))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, 0f64..ymax)
            .map_err(|e| err(&e))?;
        delay_axes(&mut c, what, &label).map_err(|e| err(&e))?;
        for (i, (_, s)) in lines.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            c.draw_series(std::iter::once(PathElement::new(
                s.rows
                    .iter()
                    .map(|r| (xs(r.value), bottom_value(r)))
                    .collect::<Vec<_>>(),
                color.stroke_width(2),
            )))
            .map_err(|e| err(&e))?;
            c.draw_series(
                s.rows
                    .iter()
                    .map(|r| Circle::new((xs(r.value), bottom_value(r)), 3, color.filled())),
            )
            .map_err(|e| err(&e))?;
        }
        c.draw_series(std::iter::once(PathElement::new(
            vec![(xs(current), 0.0), (xs(current), ymax)],
            MARKER.stroke_width(2),
        )))
        .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(Some(out))
}

/// The Kubernetes paths chart as SVG text.
pub fn paths_svg(reports: &[PathReport]) -> Result<String> {
    ensure_font()?;
    super::chart::svg_of(&super::paths_chart::plan(reports))
}
