//! `Summary`: the model's table of layers and parameter counts, printed as Keras 3 prints it.

use crate::shape::keras_shape;
use std::fmt;

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The layer's name (`simple_rnn`).
    pub name: String,
    /// Keras' class name (`SimpleRNN`).
    pub class_name: String,
    /// Per-sample output shape (the batch axis left out).
    pub output_shape: Vec<usize>,
    /// Number of scalars in the layer's weights.
    pub params: usize,
    /// Whether the layer's weights are trainable.
    pub trainable: bool,
}

/// What `Sequential::summary` reports. `Display` prints Keras 3's table:
///
/// ```text
/// Model: "sequential"
/// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
/// ┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
/// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
/// │ embedding (Embedding)                │ (None, 500, 32)             │         320,000 │
/// ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
/// │ simple_rnn (SimpleRNN)               │ (None, 32)                  │           2,080 │
/// ├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
/// │ dense (Dense)                        │ (None, 1)                   │              33 │
/// └──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
///  Total params: 322,113 (1.23 MB)
///  Trainable params: 322,113 (1.23 MB)
///  Non-trainable params: 0 (0.00 B)
/// ```
///
/// A functional model that is not a simple chain adds Keras' "Connected to" column (each
/// layer's inputs as `layer[node][tensor]`), and lists its inputs as `InputLayer` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    model_name: String,
    layers: Vec<LayerSummary>,
    /// Each row's output shape as printed, when it is not `keras_shape(output_shape)` (a layer
    /// with several outputs).
    shape_texts: Vec<Option<String>>,
    /// Each row's "Connected to" cell, for a table with that column.
    connected: Option<Vec<String>>,
}

impl Summary {
    pub(crate) fn new(model_name: String, layers: Vec<LayerSummary>) -> Self {
        Summary { model_name, shape_texts: vec![None; layers.len()], layers, connected: None }
    }

    /// A functional model's summary: its rows with their printed output shapes, and the
    /// "Connected to" cells when the table has that column.
    pub(crate) fn functional(
        model_name: String,
        rows: Vec<(LayerSummary, Option<String>)>,
        connected: Option<Vec<String>>,
    ) -> Self {
        let (layers, shape_texts) = rows.into_iter().unzip();
        Summary { model_name, layers, shape_texts, connected }
    }

    /// Each row's "Connected to" cell (`input_layer[0][0]`, `-` for an input), for a
    /// functional model whose table has that column.
    pub fn connected_to(&self) -> Option<&[String]> {
        self.connected.as_deref()
    }

    /// The rows, one per layer.
    pub fn layers(&self) -> &[LayerSummary] {
        &self.layers
    }

    /// Number of scalars in all weights.
    pub fn total_params(&self) -> usize {
        self.layers.iter().map(|l| l.params).sum()
    }

    /// Number of scalars the optimizer updates.
    pub fn trainable_params(&self) -> usize {
        self.layers.iter().filter(|l| l.trainable).map(|l| l.params).sum()
    }

    /// Number of scalars in frozen layers.
    pub fn non_trainable_params(&self) -> usize {
        self.total_params() - self.trainable_params()
    }
}

/// `322113` → `322,113`.
pub(crate) fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras' `readable_memory_size` of `params` f32 weights: `1.23 MB`, `0.00 B` (powers of 1024).
fn memory_size(params: usize) -> String {
    let mut size = (params * 4) as f64;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

/// Column widths (inside the borders) of Keras' table for a `Sequential` model (and a
/// functional model that is a chain).
const WIDTHS: [usize; 3] = [38, 29, 17];

/// Column widths of Keras' table with a "Connected to" column.
const CONNECTED_WIDTHS: [usize; 4] = [31, 27, 17, 28];

fn rule(
    f: &mut fmt::Formatter<'_>,
    widths: &[usize],
    [left, fill, middle, right]: [char; 4],
) -> fmt::Result {
    let cells: Vec<String> = widths.iter().map(|&w| fill.to_string().repeat(w)).collect();
    writeln!(f, "{left}{}{right}", cells.join(&middle.to_string()))
}

/// One table row; a cell too long for its column wraps at spaces onto more lines, as Keras'
/// table does (`embedding_1` on one line, `(Embedding)` on the next). The third column
/// (`Param #`) is right-aligned, the others left-aligned.
fn row(f: &mut fmt::Formatter<'_>, widths: &[usize], border: char, cells: &[&str]) -> fmt::Result {
    let wrapped: Vec<Vec<String>> =
        cells.iter().zip(widths).map(|(cell, w)| wrap(cell, w - 2)).collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..lines {
        write!(f, "{border}")?;
        for (column, (cell, &w)) in wrapped.iter().zip(widths).enumerate() {
            let text = cell.get(i).map_or("", String::as_str);
            let w = w - 2;
            if column == 2 {
                write!(f, " {text:>w$} {border}")?;
            } else {
                write!(f, " {text:<w$} {border}")?;
            }
        }
        writeln!(f)?;
    }
    Ok(())
}

/// Greedy word wrap to `width` characters, as Keras' table (rich, overflow "ellipsis") wraps a
/// cell: a word longer than a line keeps a line of its own, cut to `width - 1` characters and
/// `…` (`global_average_pooling1d[…`).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits =
            line.chars().count() + usize::from(!line.is_empty()) + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    for line in &mut lines {
        if line.chars().count() > width {
            *line = line.chars().take(width.saturating_sub(1)).chain(['…']).collect();
        }
    }
    lines
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Model: \"{}\"", self.model_name)?;
        let widths: &[usize] = if self.connected.is_some() { &CONNECTED_WIDTHS } else { &WIDTHS };
        let header: &[&str] = if self.connected.is_some() {
            &["Layer (type)", "Output Shape", "Param #", "Connected to"]
        } else {
            &["Layer (type)", "Output Shape", "Param #"]
        };
        rule(f, widths, ['┏', '━', '┳', '┓'])?;
        row(f, widths, '┃', header)?;
        rule(f, widths, ['┡', '━', '╇', '┩'])?;
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                rule(f, widths, ['├', '─', '┼', '┤'])?;
            }
            let name = format!("{} ({})", layer.name, layer.class_name);
            let shape = match &self.shape_texts[i] {
                Some(text) => text.clone(),
                None => keras_shape(&layer.output_shape),
            };
            let params = thousands(layer.params);
            match &self.connected {
                Some(connected) => row(f, widths, '│', &[&name, &shape, &params, &connected[i]])?,
                None => row(f, widths, '│', &[&name, &shape, &params])?,
            }
        }
        rule(f, widths, ['└', '─', '┴', '┘'])?;
        let total = self.total_params();
        let trainable = self.trainable_params();
        let frozen = self.non_trainable_params();
        writeln!(f, " Total params: {} ({})", thousands(total), memory_size(total))?;
        writeln!(f, " Trainable params: {} ({})", thousands(trainable), memory_size(trainable))?;
        write!(f, " Non-trainable params: {} ({})", thousands(frozen), memory_size(frozen))
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_cells_wrap_at_spaces_and_end_long_words_with_an_ellipsis() {
        assert_eq!(wrap("dense (Dense)", 36), ["dense (Dense)"]);
        assert_eq!(
            wrap("layer_normalization (LayerNormalization)", 36),
            ["layer_normalization", "(LayerNormalization)"]
        );
        assert_eq!(wrap("abcdefgh ij", 4), ["abc…", "ij"]);
        assert_eq!(
            wrap("global_average_pooling1d[0][0], x[0][0]", 26),
            ["global_average_pooling1d[…", "x[0][0]"]
        );
    }
}
