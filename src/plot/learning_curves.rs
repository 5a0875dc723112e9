//! Learning curves: a [`History`] drawn as an SVG chart, one panel per metric.

use crate::model::History;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Size of the whole chart in pixels: one panel per metric, side by side.
const PANEL_WIDTH: u32 = 480;
const HEIGHT: u32 = 400;
/// Training values in blue, validation values in orange (matplotlib's first two colours).
const TRAINING: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const VALIDATION: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
const FONT: &str = "sans-serif";
/// Space above the highest value, as a fraction of the values' range, kept free for the legend.
const LEGEND_HEADROOM: f64 = 0.45;

impl History {
    /// Writes the learning curves, the recorded values by epoch, as an SVG chart to `path`.
    ///
    /// One panel per quantity (`loss`, `accuracy`, ...), each with the training values and,
    /// when `fit` had validation data, the validation values (`val_loss`, ...), labelled with
    /// their keys.
    ///
    /// The chart is drawn in memory, then written atomically (a temporary file, synced, then
    /// renamed), so a failed write never leaves half a chart behind. It needs no system fonts
    /// or libraries: text is left to the SVG viewer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a history without epochs (`History::default()`), and
    /// [`Error::Io`] naming `path` when the chart cannot be drawn or the file cannot be written.
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(20, 4).input_length(6));
    /// model.add(SimpleRnn::new(4));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    /// let x = Array2::from_shape_fn((40, 6), |(i, j)| ((i * 7 + j * 3) % 20) as f32);
    /// let y = Array1::from_shape_fn(40, |i| (i % 2) as f32);
    /// let config = FitConfig { epochs: 3, validation_split: 0.25, verbose: 0, ..FitConfig::default() };
    /// let history = model.fit(&x, &y, &config)?;
    ///
    /// let path = std::env::temp_dir().join("rnnkit-doc-learning-curves.svg");
    /// history.plot_svg(&path)?;
    /// assert!(std::fs::read_to_string(&path).map_or(false, |svg| svg.contains("val_accuracy")));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn plot_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if self.epochs() == 0 {
            return Err(Error::invalid(
                "history",
                "at least one recorded epoch (the History that `fit` returns)",
                "0 epochs",
            ));
        }
        let svg = self.render_svg().map_err(|message| {
            Error::io(path, std::io::Error::other(format!("drawing the chart failed: {message}")))
        })?;
        crate::atomic_write::write_atomic(path, svg.as_bytes())
    }

    /// Draws the chart into a string; the error is plotters' message.
    fn render_svg(&self) -> std::result::Result<String, String> {
        let panels = self.panels();
        let width = PANEL_WIDTH * panels.len().max(1) as u32;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let areas = root.split_evenly((1, panels.len().max(1)));
            for (area, panel) in areas.iter().zip(&panels) {
                draw_panel(area, panel, self.epochs()).map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }

    /// The recorded series grouped by quantity: `loss` with `val_loss`, and so on, in the order
    /// of the keys.
    fn panels(&self) -> Vec<Panel<'_>> {
        let mut panels: Vec<Panel<'_>> = Vec::new();
        for key in self.keys() {
            let (quantity, validation) = match key.strip_prefix("val_") {
                Some(quantity) => (quantity, true),
                None => (key, false),
            };
            let values = self.metric(key).unwrap_or_default();
            let index = match panels.iter().position(|p| p.quantity == quantity) {
                Some(index) => index,
                None => {
                    panels.push(Panel { quantity, series: Vec::new() });
                    panels.len() - 1
                }
            };
            let color = if validation { VALIDATION } else { TRAINING };
            panels[index].series.push(Series { key, values, color });
        }
        panels
    }
}

/// One panel of the chart: a quantity and its training and validation series.
struct Panel<'a> {
    quantity: &'a str,
    series: Vec<Series<'a>>,
}

/// One line: the history's key (its legend label), its values by epoch, and its colour.
struct Series<'a> {
    key: &'a str,
    values: &'a [f32],
    color: RGBColor,
}

type DrawResult = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    panel: &Panel<'_>,
    epochs: usize,
) -> DrawResult {
    let (low, high) = value_range(panel);
    let span = high - low;
    // Epochs count from 1; half an epoch of margin on each side keeps the end points visible.
    let x_range = 0.5..epochs as f64 + 0.5;
    let y_range = low - 0.05 * span..high + LEGEND_HEADROOM * span;
    let decimals = if span < 0.05 { 3 } else { 2 };
    let mut chart = ChartBuilder::on(area)
        .caption(panel.quantity, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(panel.quantity)
        // With at most `epochs.min(10) + 1` labels the steps are whole epochs.
        .x_labels(epochs.min(10) + 1)
        .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() })
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    for series in &panel.series {
        let points: Vec<(f64, f64)> = series
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(epoch, &v)| (epoch as f64 + 1.0, f64::from(v)))
            .collect();
        let color = series.color;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
            .label(series.key)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 18, y + 4)], color.filled()));
        chart.draw_series(points.iter().map(|&point| Circle::new(point, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()?;
    Ok(())
}

/// The smallest and largest finite values of a panel, widened when they coincide.
fn value_range(panel: &Panel<'_>) -> (f64, f64) {
    let finite = panel.series.iter().flat_map(|s| s.values.iter()).filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &v| {
        (low.min(f64::from(v)), high.max(f64::from(v)))
    });
    if low > high {
        (0.0, 1.0)
    } else if high - low < 1e-6 {
        let pad = (high.abs() * 0.05).max(0.05);
        (low - pad, high + pad)
    } else {
        (low, high)
    }
}
