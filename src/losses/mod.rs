//! Losses: their value and their gradient, reduced as Keras' `sum_over_batch_size`.

use crate::activations::{sigmoid, Activation};
use crate::layers::Mask;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, Axis, Zip};

/// Keras clips probabilities to [ε, 1 − ε] with ε = 1e-7 before taking logarithms.
const EPSILON: f32 = 1e-7;

/// A loss function, named as in Keras.
///
/// Each loss is averaged over the last axis (or summed over classes, for the cross-entropies),
/// then over every remaining element: Keras' `sum_over_batch_size` reduction.
///
/// When the model's last layer ends in a sigmoid (binary cross-entropy) or a softmax
/// (categorical cross-entropies), the loss is computed from that layer's logits, without
/// clipping, as Keras does inside `fit` and `evaluate` with the TensorFlow backend; it is also the
/// numerically stable form. Otherwise probabilities are clipped to [1e-7, 1 − 1e-7].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Loss {
    /// −[y·log p + (1 − y)·log(1 − p)], averaged over the last axis. Targets in [0, 1].
    BinaryCrossentropy,
    /// −Σ_c y_c·log p_c. Targets one-hot (or distributions) of the output's shape.
    CategoricalCrossentropy,
    /// −log p_y for an integer class `y`. Targets are class ids with one axis fewer than the
    /// output (a trailing axis of 1 is accepted).
    SparseCategoricalCrossentropy,
    /// (p − y)², averaged over the last axis.
    MeanSquaredError,
}

/// What the loss's gradient is taken with respect to.
#[derive(Debug)]
pub(crate) enum LossGrad {
    /// dL/doutput.
    Output(ArrayD<f32>),
    /// dL/dlogits of the last layer.
    Logits(ArrayD<f32>),
}

impl Loss {
    /// Keras' name of the loss (`"binary_crossentropy"`, ...).
    pub fn keras_name(self) -> &'static str {
        match self {
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
        }
    }

    /// Checks that targets `y` fit predictions of per-sample shape `output` and returns the
    /// targets in the shape the loss reads (a `(batch,)` target for a `(batch, 1)` output gets
    /// its trailing axis back).
    pub(crate) fn conform_targets(
        self,
        y: ArrayViewD<'_, f32>,
        output: &[usize],
    ) -> Result<ArrayD<f32>> {
        let per_sample = &y.shape()[1.min(y.ndim())..];
        let mismatch = |expected: String| Error::ShapeMismatch {
            layer: format!("{} targets", self.keras_name()),
            expected,
            found: array_shape(y.shape()),
        };
        if y.ndim() == 0 {
            return Err(mismatch(crate::shape::keras_shape(output)));
        }
        let batch = y.shape()[0];
        match self {
            Loss::SparseCategoricalCrossentropy => {
                let ids_shape = &output[..output.len().saturating_sub(1)];
                let with_one: Vec<usize> = ids_shape.iter().copied().chain([1]).collect();
                if per_sample != ids_shape && per_sample != with_one.as_slice() {
                    return Err(mismatch(format!(
                        "class ids of shape {}",
                        crate::shape::keras_shape(ids_shape)
                    )));
                }
                let classes = output.last().copied().unwrap_or(0) as f32;
                if let Some(&bad) =
                    y.iter().find(|&&c| !(c >= 0.0 && c < classes && c.fract() == 0.0))
                {
                    return Err(Error::invalid(
                        "y",
                        format!("integer class ids in 0..{classes}"),
                        bad,
                    ));
                }
                let shape: Vec<usize> =
                    [batch].into_iter().chain(ids_shape.iter().copied()).collect();
                Ok(y.to_shape(shape).map_err(|_| mismatch(String::new()))?.into_owned())
            }
            _ => {
                let full: Vec<usize> = [batch].into_iter().chain(output.iter().copied()).collect();
                if per_sample == output {
                    Ok(y.to_owned())
                } else if output.last() == Some(&1) && per_sample == &output[..output.len() - 1] {
                    Ok(y.to_shape(full).map_err(|_| mismatch(String::new()))?.into_owned())
                } else {
                    Err(mismatch(crate::shape::keras_shape(output)))
                }
            }
        }
    }

    /// The loss value and its gradient for predictions `output` (and the last layer's logits
    /// and activation, when it keeps them) against conformed targets `y`.
    ///
    /// With a `mask` over the output's leading `(batch, steps)` axes, masked rows weigh 0 and
    /// the others `total / valid`, so the loss is the mean over unmasked rows, as Keras'
    /// `apply_mask` (`keras/src/losses/loss.py`).
    pub(crate) fn value_and_grad(
        self,
        output: ArrayViewD<'_, f32>,
        logits: Option<(Activation, ArrayViewD<'_, f32>)>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> (f32, LossGrad) {
        let last = Axis(output.ndim() - 1);
        let classes = output.len_of(last).max(1);
        let rows = (output.len() / classes).max(1);
        let row_weights = mask.filter(|m| m.len() == rows).map(|m| {
            let valid = m.iter().filter(|&&keep| keep).count() as f32;
            let scale = rows as f32 / (valid + EPSILON);
            m.iter().map(|&keep| if keep { scale } else { 0.0 }).collect::<Vec<f32>>()
        });
        let weight = |row: usize| row_weights.as_ref().map_or(1.0, |w| w[row]);
        let from_logits = match (self, logits) {
            (Loss::BinaryCrossentropy, Some((Activation::Sigmoid, z))) => Some(z),
            (
                Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy,
                Some((Activation::Softmax, z)),
            ) => Some(z),
            _ => None,
        };
        let targets = self.dense_targets(y, classes);
        let source = from_logits.as_ref().map_or_else(|| output.view(), |z| z.view());
        let mut grad = ArrayD::<f32>::zeros(source.raw_dim());
        let mut total = 0.0f64;
        let lanes =
            Zip::from(grad.lanes_mut(last)).and(source.lanes(last)).and(targets.lanes(last));
        let mut row = 0;
        lanes.for_each(|g, v, t| {
            // Each row's loss is scaled by 1/rows (sum_over_batch_size) and its mask weight.
            let scale = weight(row) / rows as f32;
            total += f64::from(self.row(from_logits.is_some(), v, t, g, scale));
            row += 1;
        });
        let value = total as f32;
        if from_logits.is_some() {
            (value, LossGrad::Logits(grad))
        } else {
            (value, LossGrad::Output(grad))
        }
    }

    /// One row's loss times `scale`, writing its gradient (times `scale`) into `grad`. `values`
    /// are logits when `from_logits`, else the model's outputs.
    fn row(
        self,
        from_logits: bool,
        values: ArrayView1<'_, f32>,
        targets: ArrayView1<'_, f32>,
        mut grad: ArrayViewMut1<'_, f32>,
        scale: f32,
    ) -> f32 {
        let classes = values.len() as f32;
        let mut loss = 0.0f32;
        match (self, from_logits) {
            (Loss::BinaryCrossentropy, true) => {
                // max(z, 0) − z·y + log(1 + e^{−|z|}), averaged over the last axis; dL/dz = σ(z) − y.
                Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &z, &y| {
                    loss += z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
                    *g = (sigmoid(z) - y) * scale / classes;
                });
                loss / classes * scale
            }
            (Loss::BinaryCrossentropy, false) => {
                Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &p, &y| {
                    let clipped = p.clamp(EPSILON, 1.0 - EPSILON);
                    loss -= y * clipped.ln() + (1.0 - y) * (1.0 - clipped).ln();
                    let inside = p > EPSILON && p < 1.0 - EPSILON;
                    *g = if inside { (p - y) / (p * (1.0 - p)) * scale / classes } else { 0.0 };
                });
                loss / classes * scale
            }
            (_, true) => {
                // log_softmax(z) = z − max − log Σ e^{z − max}; dL/dz = p·Σy − y.
                let max = values.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let log_sum = values.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
                let y_sum = targets.sum();
                Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &z, &y| {
                    let log_p = z - max - log_sum;
                    loss -= y * log_p;
                    *g = (log_p.exp() * y_sum - y) * scale;
                });
                loss * scale
            }
            (Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy, false) => {
                // Keras: p ← p / Σp, clipped to [ε, 1 − ε]; L = −Σ y·log p.
                let sum = values.sum();
                let y_sum = targets.sum();
                Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &p, &y| {
                    let q = p / sum;
                    loss -= y * q.clamp(EPSILON, 1.0 - EPSILON).ln();
                    let inside = q > EPSILON && q < 1.0 - EPSILON;
                    // d/dp of −Σ_c y_c·log(p_c / Σp) = −y/p + Σy/Σp.
                    *g = (if inside { -y / p } else { 0.0 } + y_sum / sum) * scale;
                });
                loss * scale
            }
            (Loss::MeanSquaredError, _) => {
                Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &p, &y| {
                    let diff = p - y;
                    loss += diff * diff;
                    *g = 2.0 * diff * scale / classes;
                });
                loss / classes * scale
            }
        }
    }

    /// Targets as distributions over the last axis (one-hot for class ids).
    fn dense_targets(self, y: ArrayViewD<'_, f32>, classes: usize) -> ArrayD<f32> {
        if self != Loss::SparseCategoricalCrossentropy {
            return y.to_owned();
        }
        let mut shape = y.shape().to_vec();
        shape.push(classes);
        let mut one_hot = ArrayD::zeros(shape);
        for (mut row, &class) in one_hot.lanes_mut(Axis(y.ndim())).into_iter().zip(y.iter()) {
            row[class as usize] = 1.0;
        }
        one_hot
    }
}
