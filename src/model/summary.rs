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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    model_name: String,
    layers: Vec<LayerSummary>,
}

impl Summary {
    pub(crate) fn new(model_name: String, layers: Vec<LayerSummary>) -> Self {
        Summary { model_name, layers }
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

/// Column widths (inside the borders) of Keras' table for a `Sequential` model.
const WIDTHS: [usize; 3] = [38, 29, 17];

fn rule(
    f: &mut fmt::Formatter<'_>,
    left: char,
    fill: char,
    middle: char,
    right: char,
) -> fmt::Result {
    let cells: Vec<String> = WIDTHS.iter().map(|&w| fill.to_string().repeat(w)).collect();
    writeln!(f, "{left}{}{right}", cells.join(&middle.to_string()))
}

/// One table row; a cell too long for its column wraps at spaces onto more lines, as Keras'
/// table does (`embedding_1` on one line, `(Embedding)` on the next).
fn row(f: &mut fmt::Formatter<'_>, border: char, cells: [&str; 3]) -> fmt::Result {
    let [w0, w1, w2] = WIDTHS.map(|w| w - 2);
    let [a, b, c] = [wrap(cells[0], w0), wrap(cells[1], w1), wrap(cells[2], w2)];
    let lines = a.len().max(b.len()).max(c.len());
    for i in 0..lines {
        let [a, b, c] = [&a, &b, &c].map(|cell| cell.get(i).map_or("", String::as_str));
        writeln!(f, "{border} {a:<w0$} {border} {b:<w1$} {border} {c:>w2$} {border}")?;
    }
    Ok(())
}

/// Greedy word wrap to `width` characters; a word longer than a line is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let fits = line.chars().count() + usize::from(!line.is_empty()) + word.len() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    lines.push(line);
    lines
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Model: \"{}\"", self.model_name)?;
        rule(f, '┏', '━', '┳', '┓')?;
        row(f, '┃', ["Layer (type)", "Output Shape", "Param #"])?;
        rule(f, '┡', '━', '╇', '┩')?;
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                rule(f, '├', '─', '┼', '┤')?;
            }
            let name = format!("{} ({})", layer.name, layer.class_name);
            row(f, '│', [&name, &keras_shape(&layer.output_shape), &thousands(layer.params)])?;
        }
        rule(f, '└', '─', '┴', '┘')?;
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
    fn long_cells_wrap_at_spaces_and_cut_long_words() {
        assert_eq!(wrap("dense (Dense)", 36), ["dense (Dense)"]);
        assert_eq!(
            wrap("layer_normalization (LayerNormalization)", 36),
            ["layer_normalization", "(LayerNormalization)"]
        );
        assert_eq!(wrap("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
    }
}
