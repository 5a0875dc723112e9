//! What a metric reads from one row (the last axis) of a batch: targets' shapes and the
//! per-row functions that Keras wraps in `MeanMetricWrapper`.

use super::Metric;
use crate::shape::array_shape;
use crate::{Error, Result};

/// A per-row metric function, resolved from the metric and the shapes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RowFn {
    /// `(p > threshold) == y`, averaged over the row.
    Binary(f32),
    /// `argmax(p) == argmax(y)`.
    Categorical,
    /// `argmax(p) == y` for one class id per row.
    Sparse,
    /// The target class (argmax of y) is in the top k of p.
    TopK(usize),
    /// |p − y| averaged over the row.
    AbsError,
    /// (p − y)² averaged over the row.
    SquaredError,
    /// Elementwise confusion counts (Precision, Recall, AUC): no row function.
    Confusion,
}

impl RowFn {
    /// Resolves `metric` for outputs of `output` shape and targets of `y` shape, as Keras'
    /// `get_metric` resolves `"accuracy"` (`keras/src/trainers/compile_utils.py`).
    pub(super) fn resolve(metric: Metric, output: &[usize], y: &[usize]) -> RowFn {
        match metric {
            Metric::Accuracy => {
                let units = output.last().copied().unwrap_or(1);
                let sparse = y.len() < output.len() || (y.last() == Some(&1) && units > 1);
                if units == 1 {
                    RowFn::Binary(0.5)
                } else if sparse {
                    RowFn::Sparse
                } else {
                    RowFn::Categorical
                }
            }
            Metric::BinaryAccuracy { threshold } => RowFn::Binary(threshold),
            Metric::CategoricalAccuracy => RowFn::Categorical,
            Metric::SparseCategoricalAccuracy => RowFn::Sparse,
            Metric::TopKCategoricalAccuracy { k } => RowFn::TopK(k),
            Metric::MeanAbsoluteError => RowFn::AbsError,
            Metric::MeanSquaredError | Metric::RootMeanSquaredError => RowFn::SquaredError,
            Metric::Precision { .. } | Metric::Recall { .. } | Metric::Auc(_) => RowFn::Confusion,
        }
    }

    /// Checks that targets of shape `y` fit outputs of shape `output` (batch axis included).
    pub(super) fn check_targets(self, metric: Metric, output: &[usize], y: &[usize]) -> Result<()> {
        let leading = &output[..output.len().saturating_sub(1)];
        let fits = if self == RowFn::Sparse {
            y == leading || (y.len() == output.len() && y.split_last() == Some((&1, leading)))
        } else {
            y == output || (output.last() == Some(&1) && y == leading)
        };
        if fits && !output.is_empty() {
            return Ok(());
        }
        let expected = if self == RowFn::Sparse {
            format!("class ids of shape {}", array_shape(leading))
        } else {
            format!("targets of the outputs' shape {}", array_shape(output))
        };
        Err(Error::ShapeMismatch {
            layer: format!("metric {}", metric.name()),
            expected,
            found: array_shape(y),
        })
    }

    /// The row's value, from its outputs `p` and its targets `y` (one id for `Sparse`).
    pub(super) fn value(self, p: &[f32], y: &[f32]) -> f64 {
        let units = p.len().max(1) as f64;
        match self {
            RowFn::Binary(threshold) => {
                let correct = p
                    .iter()
                    .zip(y)
                    .filter(|&(&p, &y)| f32::from(u8::from(p > threshold)) == y)
                    .count();
                correct as f64 / units
            }
            RowFn::Categorical => f64::from(u8::from(argmax(p) == argmax(y))),
            RowFn::Sparse => f64::from(u8::from(y.first() == Some(&(argmax(p) as f32)))),
            RowFn::TopK(k) => {
                let target = p[argmax(y)];
                let target = if target.is_nan() { f32::NEG_INFINITY } else { target };
                let rank = 1 + p.iter().filter(|&&v| v > target).count();
                f64::from(u8::from(rank <= k))
            }
            RowFn::AbsError => {
                p.iter().zip(y).map(|(&p, &y)| f64::from((p - y).abs())).sum::<f64>() / units
            }
            RowFn::SquaredError => {
                p.iter().zip(y).map(|(&p, &y)| f64::from((p - y) * (p - y))).sum::<f64>() / units
            }
            RowFn::Confusion => 0.0,
        }
    }
}

/// Index of the first maximum, as NumPy's and JAX's argmax.
pub(super) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
