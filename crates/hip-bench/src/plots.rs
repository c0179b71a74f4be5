//! Plots with plotters, as SVG and PNG, using the bundled DejaVu Sans (no system fonts needed).

use std::path::Path;

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled font (idempotent).
pub fn init_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A line series: label, points, optional error bars, and whether it is a reference (grey, thin).
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Per point, the (low, high) ends of a vertical error bar (e.g. min and max of the timed
    /// runs); empty for none, else as long as `points`.
    pub spread: Vec<(f64, f64)>,
    /// Drawn as a reference curve.
    pub reference: bool,
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    series: &[Series],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let bar_ends =
        series.iter().flat_map(|s| s.points.iter().zip(&s.spread).flat_map(|(p, e)| [(p.0, e.0), (p.0, e.1)]));
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .chain(bar_ends)
        .filter(|p| p.0 > 0.0 && p.1 > 0.0)
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    let (x0, x1) = all.iter().fold((f64::INFINITY, 0.0f64), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = all.iter().fold((f64::INFINITY, 0.0f64), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), (y0 * 0.7..y1 * 1.5).log_scale())
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc(xl).y_desc(yl).label_style(("sans-serif", 14)).draw().map_err(|e| e.to_string())?;
    draw_series_lines(&mut chart, series, |p| p.0 > 0.0 && p.1 > 0.0)?;
    legend_and_present(&mut chart, &root)
}

/// Every series as a line with point markers (reference series grey and thin), points kept by
/// `keep` (log axes need positive values).
fn draw_series_lines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    series: &[Series],
    keep: impl Fn(&(f64, f64)) -> bool,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (k, s) in series.iter().enumerate() {
        let color = if s.reference { RGBColor(120, 120, 120) } else { COLORS[k % COLORS.len()] };
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| keep(p)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(if s.reference { 1 } else { 2 })))
            .map_err(|e| e.to_string())?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| e.to_string())?;
        let bars = s.points.iter().zip(&s.spread).filter(|(p, e)| keep(p) && keep(&(p.0, e.0)) && keep(&(p.0, e.1)));
        chart
            .draw_series(bars.map(|(p, e)| ErrorBar::new_vertical(p.0, e.0, p.1, e.1, color.stroke_width(1), 8)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Draws the legend (upper left) and writes the file: the last step of every plot.
fn legend_and_present<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn draw_profile<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    series: &[Series],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let all: Vec<(f64, f64)> =
        series.iter().flat_map(|s| s.points.iter().copied()).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    if all.is_empty() {
        return root.present().map_err(|e| e.to_string());
    }
    let (x0, x1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let (px, py) = (0.05 * (x1 - x0).max(1e-9), 0.1 * (y1 - y0).max(1e-9));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc(xl).y_desc(yl).label_style(("sans-serif", 14)).draw().map_err(|e| e.to_string())?;
    draw_series_lines(&mut chart, series, |p| p.0.is_finite() && p.1.is_finite())?;
    legend_and_present(&mut chart, &root)
}

/// Linear-axes line plot (e.g. a reaction energy profile) to `stem.svg` and `stem.png`.
pub fn profile_plot(stem: &Path, title: &str, xl: &str, yl: &str, series: &[Series]) -> Result<(), String> {
    init_fonts();
    atomic(&stem.with_extension("svg"), |p| {
        draw_profile(SVGBackend::new(p, (800, 560)).into_drawing_area(), title, xl, yl, series)
    })?;
    atomic(&stem.with_extension("png"), |p| {
        draw_profile(BitMapBackend::new(p, (800, 560)).into_drawing_area(), title, xl, yl, series)
    })
}

/// Renders one image file atomically (temporary file, then rename).
fn atomic(path: &Path, draw: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), String> {
    hip_core::io::atomic::produce(path, draw).map_err(|e| e.to_string())
}

/// Log–log line plot to `stem.svg` and `stem.png`.
pub fn line_plot(stem: &Path, title: &str, xl: &str, yl: &str, series: &[Series]) -> Result<(), String> {
    init_fonts();
    atomic(&stem.with_extension("svg"), |p| {
        draw_lines(SVGBackend::new(p, (800, 560)).into_drawing_area(), title, xl, yl, series)
    })?;
    atomic(&stem.with_extension("png"), |p| {
        draw_lines(BitMapBackend::new(p, (800, 560)).into_drawing_area(), title, xl, yl, series)
    })
}

fn draw_scatter<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    sets: &[(String, Vec<(f64, f64)>)],
    diagonal: bool,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let all: Vec<(f64, f64)> = sets.iter().flat_map(|s| s.1.iter().copied()).collect();
    if all.is_empty() {
        return Ok(());
    }
    let (mut x0, mut x1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (mut y0, mut y1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if diagonal {
        x0 = x0.min(y0);
        x1 = x1.max(y1);
        (y0, y1) = (x0, x1);
    }
    let pad = |a: f64, b: f64| ((b - a).abs() * 0.05).max(1e-9);
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc(xl).y_desc(yl).label_style(("sans-serif", 14)).draw().map_err(|e| e.to_string())?;
    if diagonal {
        chart
            .draw_series(LineSeries::new(vec![(x0, x0), (x1, x1)], BLACK.stroke_width(1)))
            .map_err(|e| e.to_string())?;
    }
    for (k, (label, pts)) in sets.iter().enumerate() {
        let c = COLORS[k % COLORS.len()];
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 2, c.mix(0.5).filled())))
            .map_err(|e| e.to_string())?
            .label(label.clone())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
    }
    legend_and_present(&mut chart, &root)
}

/// Scatter (parity when `diagonal`) plot to `stem.svg` and `stem.png`.
pub fn scatter_plot(
    stem: &Path,
    title: &str,
    xl: &str,
    yl: &str,
    sets: &[(String, Vec<(f64, f64)>)],
    diagonal: bool,
) -> Result<(), String> {
    init_fonts();
    atomic(&stem.with_extension("svg"), |p| {
        draw_scatter(SVGBackend::new(p, (700, 640)).into_drawing_area(), title, xl, yl, sets, diagonal)
    })?;
    atomic(&stem.with_extension("png"), |p| {
        draw_scatter(BitMapBackend::new(p, (700, 640)).into_drawing_area(), title, xl, yl, sets, diagonal)
    })
}

/// Quartiles `(min, q1, median, q3, max)` of `v` (linear interpolation; `None` when empty).
pub fn five_numbers(v: &[f64]) -> Option<[f64; 5]> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let t = p * (s.len() - 1) as f64;
        let (i, f) = (t.floor() as usize, t - t.floor());
        if i + 1 < s.len() { s[i] + f * (s[i + 1] - s[i]) } else { s[i] }
    };
    Some([s[0], q(0.25), q(0.5), q(0.75), s[s.len() - 1]])
}

/// `(min, median, max)` of `v`'s finite values ([`five_numbers`]; `None` when there are none):
/// the columns of the benchmarks' timing rows.
pub fn min_median_max(v: &[f64]) -> Option<[f64; 3]> {
    five_numbers(v).map(|q| [q[0], q[2], q[4]])
}

fn draw_boxes<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    yl: &str,
    groups: &[(String, Vec<f64>)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let stats: Vec<Option<[f64; 5]>> = groups.iter().map(|(_, v)| five_numbers(v)).collect();
    let y1 = stats.iter().flatten().map(|s| s[4]).fold(1.0f64, f64::max);
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0.0f64..y1 * 1.1)
        .map_err(|e| e.to_string())?;
    let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x: &f64| {
            let k = x.round();
            if (x - k).abs() < 1e-6 && k >= 0.0 {
                names.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(yl)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, s) in stats.iter().enumerate() {
        let Some([lo, q1, med, q3, hi]) = *s else { continue };
        let (x, c) = (k as f64, COLORS[k % COLORS.len()]);
        let w = 0.3;
        let lines = [
            vec![(x, lo), (x, q1)],
            vec![(x, q3), (x, hi)],
            vec![(x - w / 2.0, lo), (x + w / 2.0, lo)],
            vec![(x - w / 2.0, hi), (x + w / 2.0, hi)],
            vec![(x - w, med), (x + w, med)],
        ];
        chart
            .draw_series([Rectangle::new([(x - w, q1), (x + w, q3)], c.mix(0.3).filled())])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([Rectangle::new([(x - w, q1), (x + w, q3)], c.stroke_width(2))])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(lines.into_iter().map(|l| PathElement::new(l, c.stroke_width(2))))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Box plot (min, quartiles, median, max) of each group to `stem.svg` and `stem.png`.
pub fn box_plot(stem: &Path, title: &str, yl: &str, groups: &[(String, Vec<f64>)]) -> Result<(), String> {
    init_fonts();
    atomic(&stem.with_extension("svg"), |p| {
        draw_boxes(SVGBackend::new(p, (900, 560)).into_drawing_area(), title, yl, groups)
    })?;
    atomic(&stem.with_extension("png"), |p| {
        draw_boxes(BitMapBackend::new(p, (900, 560)).into_drawing_area(), title, yl, groups)
    })
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    yl: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let top = series.iter().flat_map(|s| s.1.iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.15;
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)
        .map_err(|e| e.to_string())?;
    let cats = categories.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(categories.len().max(1))
        .x_label_formatter(&move |x: &f64| {
            let k = x.round();
            if (x - k).abs() < 1e-6 && k >= 0.0 {
                cats.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(yl)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let width = 0.8 / series.len().max(1) as f64;
    for (j, (label, values)) in series.iter().enumerate() {
        let c = COLORS[j % COLORS.len()];
        let x0 = -0.4 + j as f64 * width;
        chart
            .draw_series(
                values.iter().enumerate().map(|(k, &v)| {
                    Rectangle::new([(k as f64 + x0, 0.0), (k as f64 + x0 + width * 0.9, v)], c.filled())
                }),
            )
            .map_err(|e| e.to_string())?
            .label(label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    legend_and_present(&mut chart, &root)
}

/// Grouped bar chart to `stem.svg` and `stem.png`: one group per category, one bar per series
/// (`series[j].1[k]` is series `j`'s value for category `k`).
pub fn bar_plot(
    stem: &Path,
    title: &str,
    yl: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<(), String> {
    init_fonts();
    if let Some((label, v)) = series.iter().find(|s| s.1.len() != categories.len()) {
        return Err(format!("bar plot: series {label} has {} values for {} categories", v.len(), categories.len()));
    }
    atomic(&stem.with_extension("svg"), |p| {
        draw_bars(SVGBackend::new(p, (900, 560)).into_drawing_area(), title, yl, categories, series)
    })?;
    atomic(&stem.with_extension("png"), |p| {
        draw_bars(BitMapBackend::new(p, (900, 560)).into_drawing_area(), title, yl, categories, series)
    })
}
