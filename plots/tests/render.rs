//! Renders every kind of chart to files and checks what a reader of the files would see.

mod common;

use std::path::PathBuf;

use common::TempDir;
use plots::{Chart, Kind, PlotError, Shade, cdf, png_bytes, svg_string, write_both, write_png, write_svg};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn sample(kind: Kind) -> Chart {
    let chart = Chart::new(format!("{kind:?} chart"), "offered load (tx/s)", "latency (ms)", kind);
    match kind {
        Kind::Bars => chart
            .series("hotstuff", vec![(0.0, 120.0), (1.0, 95.0), (2.0, 80.0)])
            .series("two-chain", vec![(0.0, 90.0), (1.0, 70.0), (2.0, 65.0)])
            .categories(["n=4", "n=16", "n=64"]),
        Kind::Step => chart
            .series("hotstuff", cdf(&[12.0, 15.0, 15.0, 18.0, 30.0, 42.0]))
            .series("two-chain", cdf(&[9.0, 11.0, 13.0, 14.0, 20.0])),
        Kind::Line | Kind::Points => chart
            .series("hotstuff", vec![(1000.0, 12.0), (2000.0, 14.0), (4000.0, 21.0), (8000.0, 55.0)])
            .series("two-chain", vec![(1000.0, 9.0), (2000.0, 10.5), (4000.0, 16.0), (8000.0, 40.0)]),
    }
}

fn check_files(chart: &Chart, paths: &[PathBuf]) {
    assert_eq!(paths.len(), 2);
    let svg = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(svg.starts_with("<svg"), "not an SVG document: {}", &svg[..40.min(svg.len())]);
    assert!(svg.contains(&chart.title), "SVG lacks the title {:?}", chart.title);
    for series in &chart.series {
        assert!(svg.contains(&series.name), "SVG lacks the series name {:?}", series.name);
    }
    let png = std::fs::read(&paths[1]).unwrap();
    assert!(png.len() > 1000, "PNG of {} bytes", png.len());
    assert_eq!(png[..8], PNG_SIGNATURE);
}

#[test]
fn each_kind_renders_svg_and_png() {
    let dir = TempDir::new("each_kind_renders_svg_and_png");
    for kind in [Kind::Line, Kind::Points, Kind::Step, Kind::Bars] {
        let chart = sample(kind);
        let paths = write_both(&chart, &dir, &format!("{kind:?}").to_lowercase()).unwrap();
        assert_eq!(paths, [dir.join(format!("{}.svg", format!("{kind:?}").to_lowercase())), paths[1].clone()]);
        assert_eq!(paths[1].extension().unwrap(), "png");
        check_files(&chart, &paths);
    }
}

#[test]
fn bars_svg_has_category_labels() {
    let svg = svg_string(&sample(Kind::Bars)).unwrap();
    for label in ["n=4", "n=16", "n=64"] {
        assert!(svg.contains(label), "SVG lacks the category {label:?}");
    }
}

#[test]
fn same_chart_gives_identical_files() {
    let dir = TempDir::new("same_chart_gives_identical_files");
    for kind in [Kind::Line, Kind::Points, Kind::Step, Kind::Bars] {
        let chart = sample(kind).y_log();
        write_svg(&chart, &dir.join("a.svg")).unwrap();
        write_svg(&chart, &dir.join("b.svg")).unwrap();
        assert_eq!(std::fs::read(dir.join("a.svg")).unwrap(), std::fs::read(dir.join("b.svg")).unwrap());
        write_png(&chart, &dir.join("a.png")).unwrap();
        write_png(&chart, &dir.join("b.png")).unwrap();
        assert_eq!(std::fs::read(dir.join("a.png")).unwrap(), std::fs::read(dir.join("b.png")).unwrap());
    }
}

#[test]
fn cdf_of_small_sample() {
    assert_eq!(cdf(&[3.0, 1.0, 2.0, 2.0]), vec![(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]);
    assert_eq!(cdf(&[5.0, f64::NAN, f64::INFINITY, 7.0]), vec![(5.0, 0.5), (7.0, 1.0)]);
    assert_eq!(cdf(&[]), vec![]);
    assert_eq!(cdf(&[f64::NAN]), vec![]);
}

#[test]
fn log_axes_skip_non_positive_values() {
    let dir = TempDir::new("log_axes_skip_non_positive_values");
    let chart = Chart::new("Log axes", "x", "y", Kind::Line)
        .series("mixed", vec![(-1.0, 5.0), (0.0, 5.0), (1.0, 0.0), (1.0, -3.0), (10.0, 100.0), (1000.0, 1e4)])
        .x_log()
        .y_log();
    let paths = write_both(&chart, &dir, "log").unwrap();
    check_files(&chart, &paths);
    // Only (10, 100) and (1000, 1e4) are drawable: the same as a chart without the others.
    let positive = Chart { series: Vec::new(), ..chart.clone() }.series("mixed", vec![(10.0, 100.0), (1000.0, 1e4)]);
    assert_eq!(svg_string(&chart).unwrap(), svg_string(&positive).unwrap());
    // Log tick labels are powers of ten across the two decades of x.
    let svg = svg_string(&chart).unwrap();
    assert!(svg.contains("\n100\n") && svg.contains("\n1000\n"), "no decade ticks in {svg}");
}

#[test]
fn non_finite_points_are_skipped() {
    let with_nan = Chart::new("NaN", "x", "y", Kind::Points)
        .series("s", vec![(1.0, 1.0), (f64::NAN, 2.0), (2.0, f64::INFINITY), (3.0, 2.0)]);
    let clean = Chart::new("NaN", "x", "y", Kind::Points).series("s", vec![(1.0, 1.0), (3.0, 2.0)]);
    assert_eq!(svg_string(&with_nan).unwrap(), svg_string(&clean).unwrap());
}

#[test]
fn empty_charts_render_a_frame_with_no_data() {
    let dir = TempDir::new("empty_charts_render_a_frame_with_no_data");
    for kind in [Kind::Line, Kind::Points, Kind::Step, Kind::Bars] {
        let stem = format!("{kind:?}").to_lowercase();
        let no_series = Chart::new("Nothing yet", "x", "y", kind);
        let paths = write_both(&no_series, &dir, &format!("{stem}-none")).unwrap();
        check_files(&no_series, &paths);
        assert!(std::fs::read_to_string(&paths[0]).unwrap().contains("no data"));

        let empty_series = Chart::new("Empty series", "x", "y", kind).series("idle", vec![]).y_log();
        let paths = write_both(&empty_series, &dir, &format!("{stem}-empty")).unwrap();
        check_files(&empty_series, &paths);
        assert!(std::fs::read_to_string(&paths[0]).unwrap().contains("no data"));
    }
}

#[test]
fn single_point_and_flat_series_render() {
    let chart =
        Chart::new("Flat", "x", "y", Kind::Line).series("one", vec![(5.0, 3.0)]).series("flat", vec![(5.0, 3.0)]);
    assert!(png_bytes(&chart).unwrap().starts_with(&PNG_SIGNATURE));
    assert!(svg_string(&chart).unwrap().contains("flat"));
}

#[test]
fn errors_name_the_file_and_the_reason() {
    let dir = TempDir::new("errors_name_the_file_and_the_reason");
    let missing = dir.join("no-such-dir");
    let error: PlotError = write_both(&sample(Kind::Line), &missing, "chart").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("Line chart"), "{message}");
    assert!(message.contains(&missing.join("chart.svg").display().to_string()), "{message}");
    assert!(!error.reason.is_empty() && message.ends_with(&error.reason), "{message}");
}

#[test]
fn svg_text_is_escaped() {
    let chart = Chart::new("p50 < p99 & \"tails\"", "x", "y", Kind::Line).series("a<b", vec![(0.0, 1.0), (1.0, 2.0)]);
    let svg = svg_string(&chart).unwrap();
    assert!(svg.contains("p50 &lt; p99 &amp;"), "{svg}");
    assert!(!svg.contains("a<b"));
}

#[test]
fn bands_are_drawn_behind_the_series_with_their_legend() {
    let plain = Chart::new("views", "t (s)", "view", Kind::Step).series("replica 0", vec![(0.0, 1.0), (2.0, 3.0)]);
    let banded = plain.clone().band("crashed", 0.5, 1.0, Some((0.8, 1.2)), Shade::Grey).band(
        "partition",
        1.0,
        1.5,
        None,
        Shade::Amber,
    );
    let (plain_svg, svg) = (plots::svg_string(&plain).expect("svg"), plots::svg_string(&banded).expect("svg"));
    assert!(!plain_svg.contains("crashed") && svg.contains("crashed") && svg.contains("partition"));
    let opacity = |text: &str, value: &str| text.matches(&format!("opacity=\"{value}\"")).count();
    assert!(opacity(&svg, "0.35") >= 2 && opacity(&plain_svg, "0.35") == 0, "the grey band and its legend swatch");
    assert!(opacity(&svg, "0.18") >= 2, "the amber band and its legend swatch");
    assert!(!plots::png_bytes(&banded).expect("png").is_empty());
}
