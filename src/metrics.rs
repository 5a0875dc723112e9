//! Metrics reported by `fit` and `evaluate`.

use ndarray::{ArrayViewD, Axis, Zip};

/// A metric, named as in Keras.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Metric {
    /// Keras' `"accuracy"`: resolved from the shapes as Keras does — binary (threshold 0.5) for
    /// one output unit, sparse categorical when targets are class ids, categorical (argmax)
    /// otherwise.
    Accuracy,
}

impl Metric {
    /// The name under which the metric appears in `History` and `Scores`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
        }
    }

    /// Sum of the per-sample metric values and their count, for a batch of predictions and
    /// targets that `Loss::conform_targets` accepted. Epoch values are the ratio of the sums.
    pub(crate) fn batch_totals(
        self,
        output: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
    ) -> (f64, usize) {
        match self {
            Metric::Accuracy => accuracy_totals(output, y),
        }
    }
}

fn accuracy_totals(output: ArrayViewD<'_, f32>, y: ArrayViewD<'_, f32>) -> (f64, usize) {
    let last = Axis(output.ndim() - 1);
    let classes = output.len_of(last);
    let mut correct = 0.0f64;
    let mut count = 0usize;
    if classes == 1 {
        // binary_accuracy: (p > 0.5) == y, averaged over the last axis.
        let y = y.to_shape(output.raw_dim());
        if let Ok(y) = y {
            Zip::from(&output).and(&y).for_each(|&p, &y| {
                correct += f64::from(u8::from(f32::from(u8::from(p > 0.5)) == y));
                count += 1;
            });
        }
    } else if y.ndim() < output.ndim() {
        // sparse_categorical_accuracy: y == argmax(p).
        Zip::from(output.lanes(last)).and(&y).for_each(|p, &y| {
            correct += f64::from(u8::from(argmax(p) as f32 == y));
            count += 1;
        });
    } else {
        // categorical_accuracy: argmax(y) == argmax(p).
        Zip::from(output.lanes(last)).and(y.lanes(last)).for_each(|p, y| {
            correct += f64::from(u8::from(argmax(p) == argmax(y)));
            count += 1;
        });
    }
    (correct, count)
}

/// Index of the first maximum, as NumPy's argmax.
fn argmax(values: ndarray::ArrayView1<'_, f32>) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
