//! Charts from plain data, rendered to SVG and PNG files with `plotters`.
//!
//! The crate knows nothing of the simulator: a [`Chart`] is a title, axis labels, a [`Kind`]
//! and named [`Series`] of `(x, y)` points. Rendering is deterministic: the same chart gives
//! byte-identical SVG and PNG files.
//!
//! Decisions:
//! - A chart with no series, or with no drawable point, is not an error: it renders its frame,
//!   title, axis labels and legend, with "no data" in the plotting area, so a report keeps its
//!   layout when a run produced nothing to plot. Errors are I/O and rendering failures only.
//! - A point with a NaN or infinite coordinate is skipped, and so is a point with a
//!   non-positive coordinate on a log axis.
//! - PNG text is drawn with DejaVu Sans, embedded from the `dejavu` crate and registered with
//!   plotters' `ab_glyph` backend, so no system font is needed. SVG text stays `<text>`
//!   elements in the `sans-serif` family.

mod html;
mod render;

pub use html::{Figure, Html, escape, write_figures};

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

/// One named sequence of `(x, y)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// How a chart draws its series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Points joined in the order given.
    Line,
    /// Unjoined markers.
    Points,
    /// A staircase through the points sorted by x: flat until the next x, then up or down
    /// (an empirical CDF from [`cdf`]).
    Step,
    /// Grouped bars: a point `(i, y)` is a bar of height `y` in category `i` (x = 0, 1, 2..,
    /// labelled by [`Chart::x_categories`]); each series is one bar in every group.
    /// `x_log` is ignored; with `y_log` bars rise from the bottom of the axis. A bar at x < 0 or
    /// x >= 1000 (rounded) is skipped.
    Bars,
}

/// How a [`Band`] is shaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shade {
    /// Dark grey, half transparent (e.g. a crashed replica).
    Grey,
    /// Light amber (e.g. a network partition).
    Amber,
}

/// A shaded rectangle drawn behind the series: from `x_from` to `x_to`, and over `y` (data
/// coordinates) or, when `y` is `None`, the whole height of the plot. Bands of one `name` share
/// one legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub name: String,
    pub x_from: f64,
    pub x_to: f64,
    pub y: Option<(f64, f64)>,
    pub shade: Shade,
}

/// A chart: what to draw and how to label it.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub kind: Kind,
    pub series: Vec<Series>,
    pub x_log: bool,
    pub y_log: bool,
    /// For [`Kind::Bars`]: the label of category x = i. Empty otherwise.
    pub x_categories: Vec<String>,
    /// Shaded bands behind the series (their x ends, and bounded bands' y ends, widen the
    /// axes). A band with a non-finite end is skipped.
    pub bands: Vec<Band>,
}

impl Chart {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>, kind: Kind) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            kind,
            series: Vec::new(),
            x_log: false,
            y_log: false,
            x_categories: Vec::new(),
            bands: Vec::new(),
        }
    }

    /// Adds a shaded band from `x_from` to `x_to`, over `y` or the whole height (builder style).
    pub fn band(
        mut self,
        name: impl Into<String>,
        x_from: f64,
        x_to: f64,
        y: Option<(f64, f64)>,
        shade: Shade,
    ) -> Chart {
        self.bands.push(Band { name: name.into(), x_from, x_to, y, shade });
        self
    }

    /// Adds a series (builder style).
    pub fn series(mut self, name: impl Into<String>, points: impl Into<Vec<(f64, f64)>>) -> Chart {
        self.series.push(Series { name: name.into(), points: points.into() });
        self
    }

    /// Makes the x axis logarithmic (builder style).
    pub fn x_log(mut self) -> Chart {
        self.x_log = true;
        self
    }

    /// Makes the y axis logarithmic (builder style).
    pub fn y_log(mut self) -> Chart {
        self.y_log = true;
        self
    }

    /// Sets the category labels of a [`Kind::Bars`] chart (builder style).
    pub fn categories<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Chart {
        self.x_categories = labels.into_iter().map(Into::into).collect();
        self
    }
}

/// A chart that could not be rendered or written: which chart, which file, and why.
#[derive(Debug)]
pub struct PlotError {
    /// The chart's title.
    pub title: String,
    /// The file being written; `None` when rendering to memory.
    pub path: Option<PathBuf>,
    pub reason: String,
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "cannot write chart {:?} to {}: {}", self.title, path.display(), self.reason),
            None => write!(f, "cannot render chart {:?}: {}", self.title, self.reason),
        }
    }
}

impl Error for PlotError {}

/// Renders `chart` as an SVG document in memory (for inlining in HTML reports).
pub fn svg_string(chart: &Chart) -> Result<String, PlotError> {
    render::svg(chart).map_err(|reason| error(chart, None, reason))
}

/// Renders `chart` as PNG file bytes in memory.
pub fn png_bytes(chart: &Chart) -> Result<Vec<u8>, PlotError> {
    render::png(chart).map_err(|reason| error(chart, None, reason))
}

/// Writes `chart` as an SVG file at `path`.
pub fn write_svg(chart: &Chart, path: &Path) -> Result<(), PlotError> {
    let svg = render::svg(chart).map_err(|reason| error(chart, Some(path), reason))?;
    std::fs::write(path, svg).map_err(|e| error(chart, Some(path), e.to_string()))
}

/// Writes `chart` as a PNG file at `path`.
pub fn write_png(chart: &Chart, path: &Path) -> Result<(), PlotError> {
    let png = render::png(chart).map_err(|reason| error(chart, Some(path), reason))?;
    std::fs::write(path, png).map_err(|e| error(chart, Some(path), e.to_string()))
}

/// Writes `dir/stem.svg` and `dir/stem.png`; returns both paths, SVG first.
/// `dir` must exist.
pub fn write_both(chart: &Chart, dir: &Path, stem: &str) -> Result<Vec<PathBuf>, PlotError> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    write_svg(chart, &svg_path)?;
    write_png(chart, &png_path)?;
    Ok(vec![svg_path, png_path])
}

/// The empirical CDF of `values`: one point per distinct finite value, sorted by value, with
/// the fraction of values at or below it (0..=1]. NaN and infinite values are skipped;
/// no finite value gives no point. Plot it with [`Kind::Step`].
pub fn cdf(values: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n_values = sorted.len() as f64;
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (idx, &value) in sorted.iter().enumerate() {
        let fraction = (idx + 1) as f64 / n_values;
        match points.last_mut() {
            // -0.0 and 0.0 are one value.
            Some(last) if last.0 == value => last.1 = fraction,
            _ => points.push((value, fraction)),
        }
    }
    points
}

fn error(chart: &Chart, path: Option<&Path>, reason: String) -> PlotError {
    PlotError { title: chart.title.clone(), path: path.map(Path::to_path_buf), reason }
}
