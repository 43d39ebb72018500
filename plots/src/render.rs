//! Drawing a `Chart` on a plotters backend: layout, axis ranges, series, legend, encoders.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Band, Chart, Kind, Series, Shade};

const WIDTH_PX: u32 = 960;
const HEIGHT_PX: u32 = 540;
const TITLE_HEIGHT_PX: u32 = 44;
const FONT: &str = "sans-serif";
const TITLE_SIZE_PX: f64 = 22.0;
const LABEL_SIZE_PX: f64 = 16.0;
const TICK_SIZE_PX: f64 = 13.0;
const LEGEND_SIZE_PX: f64 = 14.0;
const LEGEND_ROW_PX: i32 = 24;
/// Fraction of the data span added on each side of an axis.
const MARGIN_FRACTION: f64 = 0.05;
/// Bars at x beyond this are skipped: a stray huge x must not ask for a billion ticks.
const CATEGORIES_MAX: f64 = 1000.0;

/// Tableau 10: distinct, colour-blind friendly hues; cycles after ten series.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

type Res<T> = Result<T, String>;

pub(crate) fn svg(chart: &Chart) -> Res<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

pub(crate) fn png(chart: &Chart) -> Res<Vec<u8>> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH_PX * HEIGHT_PX * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(err)?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH_PX, HEIGHT_PX);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(png)
}

/// plotters' `ab_glyph` backend knows only registered fonts; register DejaVu Sans once.
fn register_font() -> Res<()> {
    static REGISTERED: OnceLock<Res<()>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font is invalid".to_string())
        })
        .clone()
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Res<()> {
    root.fill(&WHITE).map_err(err)?;
    let (title_area, body) = root.split_vertically(TITLE_HEIGHT_PX);
    let title_style = (FONT, TITLE_SIZE_PX).into_font().into_text_style(root).pos(Pos::new(HPos::Center, VPos::Center));
    title_area.draw_text(&chart.title, &title_style, (WIDTH_PX as i32 / 2, TITLE_HEIGHT_PX as i32 / 2)).map_err(err)?;

    let legend_style = (FONT, LEGEND_SIZE_PX).into_font().into_text_style(root);
    let mut legend_width_px = 0;
    for name in chart.series.iter().map(|s| &s.name).chain(band_legend(chart).iter().map(|b| &b.name)) {
        let (text_width_px, _) = root.estimate_text_size(name, &legend_style).map_err(err)?;
        legend_width_px = legend_width_px.max(text_width_px + 56);
    }
    let (plot_area, legend_area) = body.split_horizontally(WIDTH_PX - legend_width_px.min(WIDTH_PX * 2 / 5));

    let points: Vec<Vec<(f64, f64)>> = chart.series.iter().map(|s| drawable(chart, s)).collect();
    let x = x_range(chart, &points);
    let y = y_range(chart, &points);
    match (chart.x_log && chart.kind != Kind::Bars, chart.y_log) {
        (false, false) => plot(&plot_area, chart, &points, linear(x), linear(y))?,
        (true, false) => plot(&plot_area, chart, &points, log(x), linear(y))?,
        (false, true) => plot(&plot_area, chart, &points, linear(x), log(y))?,
        (true, true) => plot(&plot_area, chart, &points, log(x), log(y))?,
    }
    draw_legend(&legend_area, chart, &legend_style)
}

fn linear((lo, hi): (f64, f64)) -> RangedCoordf64 {
    (lo..hi).into()
}

fn log((lo, hi): (f64, f64)) -> LogCoord<f64> {
    (lo..hi).log_scale().into()
}

/// The points of `series` that can be drawn on `chart`'s axes, in the order to draw them.
fn drawable(chart: &Chart, series: &Series) -> Vec<(f64, f64)> {
    let x_log = chart.x_log && chart.kind != Kind::Bars;
    let mut points: Vec<(f64, f64)> = series
        .points
        .iter()
        .copied()
        .filter(|&(x, y)| x.is_finite() && y.is_finite())
        .filter(|&(x, y)| (!x_log || x > 0.0) && (!chart.y_log || y > 0.0))
        .filter(|&(x, _)| chart.kind != Kind::Bars || (0.0..CATEGORIES_MAX).contains(&x.round()))
        .collect();
    if chart.kind == Kind::Step {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    points
}

fn n_categories(chart: &Chart, points: &[Vec<(f64, f64)>]) -> usize {
    let max_idx = points.iter().flatten().map(|&(x, _)| x.round() as usize + 1).max().unwrap_or(0);
    max_idx.max(chart.x_categories.len()).max(1)
}

fn x_range(chart: &Chart, points: &[Vec<(f64, f64)>]) -> (f64, f64) {
    if chart.kind == Kind::Bars {
        return (-0.5, n_categories(chart, points) as f64 - 0.5);
    }
    let bands = drawable_bands(chart).flat_map(|b| [b.x_from, b.x_to]);
    let values = points.iter().flatten().map(|p| p.0).chain(bands);
    axis_range(values.filter(|&x| !chart.x_log || x > 0.0), chart.x_log)
}

/// The bands with finite ends, in the order given.
fn drawable_bands(chart: &Chart) -> impl Iterator<Item = &Band> {
    let finite = |b: &&Band| {
        b.x_from.is_finite() && b.x_to.is_finite() && b.y.is_none_or(|(lo, hi)| lo.is_finite() && hi.is_finite())
    };
    chart.bands.iter().filter(finite)
}

/// The first band of each name, for the legend.
fn band_legend(chart: &Chart) -> Vec<&Band> {
    let mut first: Vec<&Band> = Vec::new();
    for band in drawable_bands(chart) {
        if !first.iter().any(|b| b.name == band.name) {
            first.push(band);
        }
    }
    first
}

fn shade_color(shade: Shade) -> RGBAColor {
    match shade {
        Shade::Grey => RGBColor(80, 80, 80).mix(0.35),
        Shade::Amber => RGBColor(255, 179, 0).mix(0.18),
    }
}

fn y_range(chart: &Chart, points: &[Vec<(f64, f64)>]) -> (f64, f64) {
    let bounded = drawable_bands(chart).filter_map(|b| b.y).flat_map(|(lo, hi)| [lo, hi]);
    let bounded = bounded.filter(|&y| !chart.y_log || y > 0.0);
    let values = points.iter().flatten().map(|p| p.1).chain(bounded);
    if chart.kind != Kind::Bars || chart.y_log {
        return axis_range(values, chart.y_log);
    }
    // Bars rise from zero: zero is on the axis, and the axis ends at zero on the empty side.
    let (lo, hi) = axis_range(values.chain([0.0]), false);
    let (min, max) = points.iter().flatten().fold((0.0, 0.0), |(min, max): (f64, f64), p| (min.min(p.1), max.max(p.1)));
    (if min < 0.0 { lo } else { 0.0 }, if max > 0.0 || min == 0.0 { hi } else { 0.0 })
}

/// The data span plus a margin; a flat span is widened; no data gives `0..1` (`1..10` log).
fn axis_range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let scaled = values.map(|v| if log { v.log10() } else { v });
    let (lo, hi) = scaled.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if log { 0.5 } else { (lo.abs() * 0.1).max(1.0) };
        (lo - pad, hi + pad)
    } else {
        let pad = (hi - lo) * MARGIN_FRACTION;
        (lo - pad, hi + pad)
    };
    if log { (10f64.powf(lo), 10f64.powf(hi)) } else { (lo, hi) }
}

fn plot<DB, X, Y>(area: &DrawingArea<DB, Shift>, chart: &Chart, points: &[Vec<(f64, f64)>], x: X, y: Y) -> Res<()>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let y_baseline = if chart.y_log { y.range().start } else { 0.0 };
    let (y_lo, y_hi) = (y.range().start, y.range().end);
    let mut ctx = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    let categories = n_categories(chart, points);
    let x_format = |v: &f64| match chart.kind {
        Kind::Bars => category_label(chart, *v),
        _ => format_tick(*v),
    };
    let y_format = |v: &f64| format_tick(*v);
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style((FONT, TICK_SIZE_PX))
        .axis_desc_style((FONT, LABEL_SIZE_PX))
        .max_light_lines(0);
    if chart.kind == Kind::Bars {
        mesh.x_labels(categories).disable_x_mesh();
    }
    mesh.draw().map_err(err)?;
    for band in drawable_bands(chart) {
        let (lo, hi) = band.y.unwrap_or((y_lo, y_hi));
        let (lo, hi) = (lo.clamp(y_lo, y_hi), hi.clamp(y_lo, y_hi));
        let rect = Rectangle::new([(band.x_from, lo), (band.x_to, hi)], shade_color(band.shade).filled());
        ctx.draw_series(std::iter::once(rect)).map_err(err)?;
    }

    let n_series = points.len();
    for (series_idx, series) in points.iter().enumerate() {
        let color = PALETTE[series_idx % PALETTE.len()];
        let line = color.stroke_width(2);
        match chart.kind {
            Kind::Line => ctx.draw_series(LineSeries::new(series.iter().copied(), line)).map(drop),
            Kind::Points => ctx.draw_series(series.iter().map(|&p| Circle::new(p, 3, color.filled()))).map(drop),
            Kind::Step => ctx.draw_series(LineSeries::new(staircase(series), line)).map(drop),
            Kind::Bars => ctx
                .draw_series(series.iter().map(|&(x, y)| {
                    let width = 0.8 / n_series as f64;
                    let left = x.round() - 0.4 + width * series_idx as f64;
                    Rectangle::new([(left, y_baseline), (left + width, y)], color.filled())
                }))
                .map(drop),
        }
        .map_err(err)?;
    }
    if points.iter().all(Vec::is_empty) {
        let pixels = ctx.plotting_area().strip_coord_spec();
        let (width_px, height_px) = pixels.dim_in_pixel();
        let style = (FONT, LABEL_SIZE_PX).into_font().color(&BLACK.mix(0.5)).pos(Pos::new(HPos::Center, VPos::Center));
        pixels.draw_text("no data", &style, (width_px as i32 / 2, height_px as i32 / 2)).map_err(err)?;
    }
    Ok(())
}

/// (x0, y0), (x1, y0), (x1, y1), (x2, y1), ...: flat until the next x.
fn staircase(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut steps = Vec::with_capacity(points.len() * 2);
    for &(x, y) in points {
        if let Some(&(_, y_prev)) = steps.last() {
            steps.push((x, y_prev));
        }
        steps.push((x, y));
    }
    steps
}

fn category_label(chart: &Chart, x: f64) -> String {
    if (x - x.round()).abs() > 1e-6 || x < -0.5 {
        return String::new();
    }
    let idx = x.round() as usize;
    chart.x_categories.get(idx).cloned().unwrap_or_else(|| idx.to_string())
}

/// Compact tick labels: at most 3 decimals, exponents outside 1e-3..1e6, no trailing zeros.
pub(crate) fn format_tick(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e6).contains(&magnitude) {
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    trim_zeros(&format!("{v:.3}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { text }
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, style: &TextStyle) -> Res<()> {
    let style = style.pos(Pos::new(HPos::Left, VPos::Center));
    for (series_idx, series) in chart.series.iter().enumerate() {
        let color = PALETTE[series_idx % PALETTE.len()];
        let y = 24 + LEGEND_ROW_PX * series_idx as i32;
        match chart.kind {
            Kind::Line | Kind::Step => area.draw(&PathElement::new([(8, y), (32, y)], color.stroke_width(2))),
            Kind::Points => area.draw(&Circle::new((20, y), 4, color.filled())),
            Kind::Bars => area.draw(&Rectangle::new([(12, y - 6), (28, y + 6)], color.filled())),
        }
        .map_err(err)?;
        area.draw_text(&series.name, &style, (40, y)).map_err(err)?;
    }
    for (band_idx, band) in band_legend(chart).into_iter().enumerate() {
        let y = 24 + LEGEND_ROW_PX * (chart.series.len() + band_idx) as i32;
        area.draw(&Rectangle::new([(10, y - 7), (30, y + 7)], shade_color(band.shade).filled())).map_err(err)?;
        area.draw_text(&band.name, &style, (40, y)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_compact() {
        let labels: Vec<String> =
            [0.0, -0.0, 0.1 + 0.2, 2.5, 1000.0, 123456.0, 1e6, 2.5e-4, -3e7].map(format_tick).into();
        assert_eq!(labels, ["0", "0", "0.3", "2.5", "1000", "123456", "1e6", "2.5e-4", "-3e7"]);
    }

    #[test]
    fn staircase_holds_each_value_until_the_next_x() {
        let steps = staircase(&[(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]);
        assert_eq!(steps, [(1.0, 0.25), (2.0, 0.25), (2.0, 0.75), (3.0, 0.75), (3.0, 1.0)]);
        assert_eq!(staircase(&[]), []);
    }

    #[test]
    fn axis_ranges_have_margins() {
        assert_eq!(axis_range([0.0, 10.0].into_iter(), false), (-0.5, 10.5));
        assert_eq!(axis_range([5.0].into_iter(), false), (4.0, 6.0));
        assert_eq!(axis_range(std::iter::empty(), false), (0.0, 1.0));
        assert_eq!(axis_range(std::iter::empty(), true), (1.0, 10.0));
        let (lo, hi) = axis_range([10.0, 1000.0].into_iter(), true);
        assert!((lo - 10f64.powf(0.9)).abs() < 1e-9 && (hi - 10f64.powf(3.1)).abs() < 1e-9, "{lo} {hi}");
    }

    #[test]
    fn bands_widen_the_axes_and_share_a_legend_entry_per_name() {
        let chart = Chart::new("v", "x", "y", Kind::Step)
            .series("s", vec![(1.0, 1.0), (2.0, 2.0)])
            .band("crashed", 0.0, 1.5, Some((1.5, 3.0)), Shade::Grey)
            .band("crashed", 1.8, 1.9, Some((1.0, 1.2)), Shade::Grey)
            .band("partition", 2.0, 4.0, None, Shade::Amber)
            .band("bad", f64::NAN, 1.0, None, Shade::Amber);
        let points: Vec<_> = chart.series.iter().map(|s| drawable(&chart, s)).collect();
        assert_eq!(x_range(&chart, &points), (-0.2, 4.2));
        assert_eq!(y_range(&chart, &points), (0.9, 3.1));
        let legend: Vec<&str> = band_legend(&chart).iter().map(|b| b.name.as_str()).collect();
        assert_eq!(legend, ["crashed", "partition"]);
        assert_eq!(drawable_bands(&chart).count(), 3);
    }

    #[test]
    fn bars_start_at_zero_and_steps_sort_by_x() {
        let bars =
            Chart::new("b", "x", "y", Kind::Bars).series("s", vec![(0.0, 2.0), (2.0, 4.0), (-1.0, 9.0), (1e12, 1.0)]);
        let points: Vec<_> = bars.series.iter().map(|s| drawable(&bars, s)).collect();
        assert_eq!(points[0], [(0.0, 2.0), (2.0, 4.0)]);
        assert_eq!(x_range(&bars, &points), (-0.5, 2.5));
        assert_eq!(y_range(&bars, &points), (0.0, 4.2));
        let negative = Chart::new("b", "x", "y", Kind::Bars).series("s", vec![(0.0, -2.0)]);
        assert_eq!(y_range(&negative, &[drawable(&negative, &negative.series[0])]), (-2.1, 0.0));
        let step = Chart::new("s", "x", "y", Kind::Step).series("s", vec![(3.0, 1.0), (1.0, 0.5)]);
        assert_eq!(drawable(&step, &step.series[0]), [(1.0, 0.5), (3.0, 1.0)]);
    }
}
