//! Attention weights drawn as a heatmap: one square per weight, darker for less attention.

use crate::{Error, Result};
use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Side of a cell, in pixels.
const CELL: i32 = 22;
/// Width of one character of a label, in pixels, to size the label margin.
const CHAR_WIDTH: i32 = 9;
/// Space above the grid (column labels) and around the picture.
const TOP: i32 = 30;
const MARGIN: i32 = 10;
/// The colour bar: its width, its distance from the grid, the room for its labels, and the
/// number of slices it is drawn with.
const BAR_WIDTH: i32 = 12;
const BAR_GAP: i32 = 14;
const BAR_LABELS: i32 = 48;
const BAR_SLICES: i32 = 32;
const FONT: &str = "sans-serif";
/// Matplotlib's viridis colour map at 0, ¼, ½, ¾ and 1 (its default for `matshow`).
const VIRIDIS: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// Writes `weights` as an SVG heatmap to `path`: row `i`, column `j` is a square coloured by
/// `weights[[i, j]]` on matplotlib's viridis scale, from 0 (dark purple) to the largest weight
/// (yellow), with a colour bar; `row_labels` are written left of the rows and `col_labels`
/// above the columns.
///
/// For an attention layer's scores (Keras' `return_attention_scores`, `(batch, Tq, Tv)`), pass
/// one sample's `(Tq, Tv)` matrix: rows are the output steps (queries), columns the input
/// steps (values), and each row sums to 1. The chart is drawn in memory, then written
/// atomically (a temporary file, synced, then renamed).
///
/// # Errors
/// [`Error::EmptyInput`] for no weight; [`Error::InvalidArgument`] for a weight that is
/// negative or not finite, or labels whose number differs from the rows' or the columns';
/// [`Error::Io`] naming `path` when the chart cannot be drawn or written.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use rnnkit::plot::attention_heatmap;
/// # fn main() -> rnnkit::Result<()> {
/// let weights = array![[0.9f32, 0.1, 0.0], [0.2, 0.3, 0.5]];
/// let path = std::env::temp_dir().join("rnnkit-doc-heatmap.svg");
/// attention_heatmap(&path, weights.view(), &["x", "y"], &["a", "b", "c"])?;
/// assert!(std::fs::read_to_string(&path).map_or(false, |svg| svg.contains("<rect")));
/// # std::fs::remove_file(&path).ok();
/// # Ok(())
/// # }
/// ```
pub fn attention_heatmap<S: AsRef<str>>(
    path: impl AsRef<Path>,
    weights: ArrayView2<'_, f32>,
    row_labels: &[S],
    col_labels: &[S],
) -> Result<()> {
    let path = path.as_ref();
    let (rows, cols) = weights.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::EmptyInput("weights"));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(Error::invalid("weights", "finite values ≥ 0", bad));
    }
    for (name, labels, count) in
        [("row_labels", row_labels, rows), ("col_labels", col_labels, cols)]
    {
        if labels.len() != count {
            return Err(Error::invalid(
                name,
                format!("{count} labels (the weights are {rows} × {cols})"),
                labels.len(),
            ));
        }
    }
    let svg = render(weights, row_labels, col_labels).map_err(|message| {
        Error::io(path, std::io::Error::other(format!("drawing the heatmap failed: {message}")))
    })?;
    crate::atomic_write::write_atomic(path, svg.as_bytes())
}

/// Draws the heatmap into a string; the error is plotters' message.
fn render<S: AsRef<str>>(
    weights: ArrayView2<'_, f32>,
    row_labels: &[S],
    col_labels: &[S],
) -> std::result::Result<String, String> {
    let (rows, cols) = (weights.nrows() as i32, weights.ncols() as i32);
    let widest = row_labels.iter().map(|l| l.as_ref().chars().count()).max().unwrap_or(0);
    let left = MARGIN + CHAR_WIDTH * widest as i32 + 6;
    let (grid_width, grid_height) = (cols * CELL, rows * CELL);
    let width = left + grid_width + BAR_GAP + BAR_WIDTH + BAR_LABELS;
    let height = TOP + grid_height + MARGIN;
    let largest = weights.iter().copied().fold(0.0f32, f32::max);
    let scale = if largest > 0.0 { f64::from(largest) } else { 1.0 };
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let draw = |element| root.draw(&element).map_err(|e| e.to_string());
        for ((i, j), &weight) in weights.indexed_iter() {
            let (x, y) = (left + j as i32 * CELL, TOP + i as i32 * CELL);
            let color = viridis(f64::from(weight) / scale);
            draw(Rectangle::new([(x, y), (x + CELL, y + CELL)], color.filled()))?;
        }
        let label = |text: &str, (x, y), h_pos| {
            let style = TextStyle::from((FONT, 14)).pos(Pos::new(h_pos, VPos::Center));
            root.draw(&Text::new(text.to_string(), (x, y), style)).map_err(|e| e.to_string())
        };
        for (i, text) in row_labels.iter().enumerate() {
            label(text.as_ref(), (left - 6, TOP + i as i32 * CELL + CELL / 2), HPos::Right)?;
        }
        for (j, text) in col_labels.iter().enumerate() {
            label(text.as_ref(), (left + j as i32 * CELL + CELL / 2, TOP - 10), HPos::Center)?;
        }
        // The colour bar: the largest weight at the top, 0 at the bottom.
        let bar_x = left + grid_width + BAR_GAP;
        for slice in 0..BAR_SLICES {
            let y0 = TOP + grid_height * slice / BAR_SLICES;
            let y1 = TOP + grid_height * (slice + 1) / BAR_SLICES;
            let level = 1.0 - (f64::from(slice) + 0.5) / f64::from(BAR_SLICES);
            draw(Rectangle::new([(bar_x, y0), (bar_x + BAR_WIDTH, y1)], viridis(level).filled()))?;
        }
        let bar_label =
            |value: f64, y| label(&format!("{value:.2}"), (bar_x + BAR_WIDTH + 4, y), HPos::Left);
        bar_label(scale, TOP)?;
        bar_label(0.0, TOP + grid_height)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The viridis colour of `level` in [0, 1] (clamped), interpolated between its five stops.
fn viridis(level: f64) -> RGBColor {
    let position = level.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let low = (position.floor() as usize).min(VIRIDIS.len() - 2);
    let t = position - low as f64;
    let (a, b) = (VIRIDIS[low], VIRIDIS[low + 1]);
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// The `<rect>` elements of `svg` as (x, y, width, height, fill).
    fn rects(svg: &str) -> Vec<(i32, i32, i32, i32, String)> {
        svg.split("<rect")
            .skip(1)
            .map(|rest| {
                let element = &rest[..rest.find("/>").expect("a self-closed <rect/>")];
                let attribute = |name: &str| {
                    let start = element.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
                    element[start..].split('"').next().unwrap().to_string()
                };
                let number = |name: &str| attribute(name).parse::<i32>().unwrap();
                (number("x"), number("y"), number("width"), number("height"), attribute("fill"))
            })
            .collect()
    }

    fn green(fill: &str) -> u8 {
        u8::from_str_radix(&fill[3..5], 16).unwrap()
    }

    #[test]
    fn each_weight_is_a_cell_whose_colour_follows_the_weight() {
        let dir = std::env::temp_dir().join(format!("rnnkit-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("attention.svg");
        // Distinct weights, the largest at (1, 3), a zero at (2, 0).
        let weights = Array2::from_shape_fn((3, 5), |(i, j)| ((i * 5 + j) * 7 % 15) as f32 / 20.0);
        let rows = ["2", "0", "<"];
        let cols = ["M", "a", "r", " ", "&"];
        attention_heatmap(&path, weights.view(), &rows, &cols).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(svg.contains("\n&lt;\n</text>") && svg.contains("\n&amp;\n</text>"), "{svg}");

        let cells: Vec<_> =
            rects(&svg).into_iter().filter(|r| r.2 == CELL && r.3 == CELL).collect();
        assert_eq!(cells.len(), 15);
        let (x0, y0) = (cells[0].0, cells[0].1);
        let largest = weights.iter().copied().fold(0.0, f32::max);
        for (i, j) in (0..3).flat_map(|i| (0..5).map(move |j| (i, j))) {
            let cell = cells.iter().find(|c| (c.0, c.1) == (x0 + j * CELL, y0 + i * CELL));
            let fill = &cell.expect("a cell at each grid position").4;
            let weight = weights[[i as usize, j as usize]];
            if weight == largest {
                assert_eq!(fill, "#FDE725", "the largest weight takes the top of the scale");
            }
            if weight == 0.0 {
                assert_eq!(fill, "#440154", "zero takes the bottom of the scale");
            }
        }
        // Viridis' green channel grows with the level: more weight, greener cell.
        let mut by_weight: Vec<_> = cells
            .iter()
            .map(|c| {
                (weights[[((c.1 - y0) / CELL) as usize, ((c.0 - x0) / CELL) as usize]], green(&c.4))
            })
            .collect();
        by_weight.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(by_weight.windows(2).all(|w| w[0].1 < w[1].1), "{by_weight:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_weights_and_labels_are_refused() {
        let path = std::env::temp_dir().join("rnnkit-heatmap-never-written.svg");
        let weights = Array2::<f32>::zeros((2, 3));
        let message = attention_heatmap(&path, weights.view(), &["a"], &["x", "y", "z"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("row_labels") && message.contains("2 labels"), "{message}");
        let message =
            attention_heatmap(&path, weights.view(), &["a", "b"], &["x"]).unwrap_err().to_string();
        assert!(message.contains("col_labels") && message.contains("3 labels"), "{message}");
        let mut negative = weights.clone();
        negative[[1, 1]] = -0.5;
        assert!(attention_heatmap(&path, negative.view(), &["a", "b"], &["x", "y", "z"]).is_err());
        let empty = Array2::<f32>::zeros((0, 3));
        assert!(attention_heatmap(&path, empty.view(), &[] as &[&str], &["x", "y", "z"]).is_err());
        assert!(!path.exists());
        let missing = Path::new("/nonexistent-rnnkit-folder/heatmap.svg");
        let message = attention_heatmap(missing, weights.view(), &["a", "b"], &["x", "y", "z"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent-rnnkit-folder/heatmap.svg"), "{message}");
    }
}
