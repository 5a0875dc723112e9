//! The sweep as an SVG chart: test accuracy by sequence length, one line per layer.

use super::experiment::{kind_name, MemoryTable};
use plotters::prelude::*;
use rnnkit::{Error, Result};
use std::path::Path;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 440;
const FONT: &str = "sans-serif";
/// matplotlib's first colours, one per layer in the table's order.
const COLORS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
];
const GRAY: RGBColor = RGBColor(0x99, 0x99, 0x99);

impl MemoryTable {
    /// Writes the table as an SVG chart to `path`: test accuracy against sequence length (on a
    /// logarithmic axis), one line per layer, a legend, and the 0.5 of guessing as a dashed
    /// line.
    ///
    /// The chart is drawn in memory, then written atomically (a temporary file, synced, then
    /// renamed). It needs no system fonts or libraries: text is left to the SVG viewer.
    ///
    /// # Errors
    /// [`Error::Io`] naming `path` when the chart cannot be drawn or the file cannot be written.
    pub fn plot_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let svg = self.render_svg().map_err(|message| {
            Error::io(path, std::io::Error::other(format!("drawing the chart failed: {message}")))
        })?;
        std::fs::write(path, svg.as_bytes()).map_err(|e| Error::io(path, e))
    }

    /// Draws the chart into a string; the error is plotters' message.
    fn render_svg(&self) -> std::result::Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> std::result::Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let shortest = self.lengths.iter().copied().min().unwrap_or(1).max(1) as f64;
        let longest = self.lengths.iter().copied().max().unwrap_or(1).max(1) as f64;
        // A margin of a quarter of a decade on each side keeps the end points off the frame.
        // Ticks at the measured lengths only.
        let ticks: Vec<f64> = self.lengths.iter().map(|&steps| steps as f64).collect();
        let x_range = (shortest / 1.35..longest * 1.35).log_scale().with_key_points(ticks);
        let mut chart = ChartBuilder::on(root)
            .caption("Label decided by the first token: test accuracy", (FONT, 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range, 0.4f64..1.04)?;
        chart
            .configure_mesh()
            .x_desc("sequence length in steps (log scale)")
            .y_desc("test accuracy")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        let chance = [(shortest / 1.35, 0.5), (longest * 1.35, 0.5)];
        chart
            .draw_series(DashedLineSeries::new(chance, 6, 4, GRAY.stroke_width(1)))?
            .label("chance (0.5)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], GRAY.stroke_width(1)));
        for (index, &kind) in self.kinds.iter().enumerate() {
            let color = COLORS[index % COLORS.len()];
            let points: Vec<(f64, f64)> = self
                .lengths
                .iter()
                .filter_map(|&steps| Some((steps as f64, f64::from(self.accuracy(kind, steps)?))))
                .filter(|(_, accuracy)| accuracy.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
                .label(kind_name(kind))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 18, y + 4)], color.filled())
                });
            chart.draw_series(points.iter().map(|&point| Circle::new(point, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xbb, 0xbb, 0xbb))
            .draw()?;
        Ok(())
    }
}
