//! The results as an SVG chart: a training panel above an inference panel, rnnkit's and PyTorch's samples
//! per second side by side for every row (log scale), the ratio above each pair.
//!
//! Input: the `summary.json` that `summarize.py` writes,
//! `{"title": .., "note": .., "rows": [{"label": .., "train": [rnnkit, torch],
//! "inference": [rnnkit, torch]}, ..]}`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 340;
const TITLE_HEIGHT: u32 = 34;
const FOOTER_HEIGHT: u32 = 30;
const FONT: &str = "sans-serif";
const RNNKIT: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const TORCH: RGBColor = RGBColor(0xee, 0x4c, 0x2c);

/// One row's label and its two medians (rnnkit, PyTorch) in one panel.
struct Bar {
    label: String,
    rnnkit: f64,
    torch: f64,
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// The chart as SVG text.
pub fn render(summary: &Value) -> Result<String, String> {
    let rows = summary["rows"].as_array().ok_or("summary: no \"rows\" array")?;
    let panel = |key: &str| -> Result<Vec<Bar>, String> {
        rows.iter()
            .map(|row| {
                let pair = |i: usize| row[key][i].as_f64().unwrap_or(f64::NAN);
                let label = row["label"].as_str().ok_or("summary: a row without a label")?;
                Ok(Bar { label: label.to_string(), rnnkit: pair(0), torch: pair(1) })
            })
            .collect()
    };
    let panels = [("training", panel("train")?), ("inference", panel("inference")?)];
    let title = summary["title"].as_str().unwrap_or("");
    let note = summary["note"].as_str().unwrap_or("");
    let mut svg = String::new();
    {
        let height = TITLE_HEIGHT + 2 * PANEL_HEIGHT + FOOTER_HEIGHT;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let draw = || -> DrawResult {
            root.fill(&WHITE)?;
            let root = root.titled(title, (FONT, 20))?;
            let (body, footer) = root.split_vertically(2 * PANEL_HEIGHT);
            footer.draw_text(note, &(FONT, 13).into_text_style(&footer), (12, 8))?;
            for (area, (name, bars)) in body.split_evenly((2, 1)).iter().zip(&panels) {
                draw_panel(area, name, bars)?;
            }
            root.present()
        };
        draw().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn draw_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, name: &str, bars: &[Bar]) -> DrawResult {
    let values =
        bars.iter().flat_map(|b| [b.rnnkit, b.torch]).filter(|v| v.is_finite() && *v > 0.0);
    let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let (low, high) = if high > 0.0 { (low / 2.0, high * 3.0) } else { (1.0, 10.0) };
    let count = bars.len();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{name}, samples/s (log scale)"), (FONT, 17))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..count as f64, (low..high).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // With at most `2 * count + 1` labels the steps are halves: a label at each bar pair's
        // centre.
        .x_labels(2 * count + 1)
        .x_label_formatter(&|x| {
            let index = x - 0.5;
            if index.fract() == 0.0 && index >= 0.0 {
                bars.get(index as usize).map(|b| b.label.clone()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .label_style((FONT, 12))
        .draw()?;
    let bar = |i: usize, side: f64, value: f64, color: RGBColor| {
        let left = i as f64 + 0.5 + side * 0.36;
        Rectangle::new(
            [(left.min(i as f64 + 0.5), low), (left.max(i as f64 + 0.5), value)],
            color.filled(),
        )
    };
    let finite = |v: f64| v.is_finite() && v > 0.0;
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| finite(b.rnnkit))
                .map(|(i, b)| bar(i, -1.0, b.rnnkit, RNNKIT)),
        )?
        .label("rnnkit")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], RNNKIT.filled()));
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| finite(b.torch))
                .map(|(i, b)| bar(i, 1.0, b.torch, TORCH)),
        )?
        .label("PyTorch")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], TORCH.filled()));
    let ratio_style = (FONT, 12).into_text_style(area).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(
        bars.iter().enumerate().filter(|(_, b)| finite(b.rnnkit) && finite(b.torch)).map(
            |(i, b)| {
                let top = b.rnnkit.max(b.torch) * 1.12;
                Text::new(
                    format!("{:.2}×", b.rnnkit / b.torch),
                    (i as f64 + 0.5, top),
                    ratio_style.clone(),
                )
            },
        ),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()?;
    Ok(())
}
