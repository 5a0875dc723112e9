//! Losses: their value and their gradient, reduced as Keras' `sum_over_batch_size`, and the
//! weighting Keras 3 applies with masks, sample weights and class weights.

mod reduction;
mod rows;

pub use reduction::{class_weight_to_sample_weights, reduce_weighted_values};

use crate::activations::Activation;
use crate::param::Mask;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

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
///
/// The variants with fields take Keras' arguments (`Huber { delta: 1.0 }`); each field's
/// documentation gives Keras' default. [`Loss::value`] and [`Loss::value_and_gradient`] compute
/// a loss outside `fit`, as calling a Keras loss object does.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// |p − y|, averaged over the last axis (`MeanAbsoluteError`).
    MeanAbsoluteError,
    /// `Huber(delta)`: ½e² where |e| ≤ δ, δ·|e| − ½δ² elsewhere (e = p − y), averaged over the
    /// last axis.
    Huber {
        /// Where the loss turns from quadratic to linear. Keras' default: 1.0.
        delta: f32,
    },
    /// `LogCosh`: log(cosh(p − y)), computed as x + softplus(−2x) − log 2, averaged over the
    /// last axis.
    LogCosh,
    /// `BinaryCrossentropy(from_logits, label_smoothing)`: as
    /// [`Loss::BinaryCrossentropy`] on targets y·(1 − s) + s/2. With `from_logits`, the outputs
    /// are logits (a linear last layer) and the loss is computed in the stable logit form.
    BinaryCrossentropyWith {
        /// Whether the outputs are logits. Keras' default: false.
        from_logits: bool,
        /// s in [0, 1]. Keras' default: 0.
        label_smoothing: f32,
    },
    /// `CategoricalCrossentropy(from_logits, label_smoothing)`: as
    /// [`Loss::CategoricalCrossentropy`] on targets y·(1 − s) + s/C for C classes; with
    /// `from_logits`, −Σ y·log_softmax(z).
    CategoricalCrossentropyWith {
        /// Whether the outputs are logits. Keras' default: false.
        from_logits: bool,
        /// s in [0, 1]. Keras' default: 0.
        label_smoothing: f32,
    },
    /// `BinaryFocalCrossentropy`, for imbalanced classes: with smoothed targets y' (as binary
    /// cross-entropy), p = σ(z) when `from_logits`, p_t = y'p + (1 − y')(1 − p), the binary
    /// cross-entropy of the clipped p is scaled by (1 − p_t)^γ and, with
    /// `apply_class_balancing`, by α·y' + (1 − α)(1 − y'); averaged over the last axis.
    BinaryFocalCrossentropy {
        /// Weight of the positive class when balancing. Keras' default: 0.25.
        alpha: f32,
        /// Focusing exponent γ ≥ 0. Keras' default: 2.0.
        gamma: f32,
        /// Whether to weigh the classes by α. Keras' default: false.
        apply_class_balancing: bool,
        /// Whether the outputs are logits. Keras' default: false.
        from_logits: bool,
        /// s in [0, 1]. Keras' default: 0.
        label_smoothing: f32,
    },
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
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber { .. } => "huber_loss",
            Loss::LogCosh => "log_cosh",
            Loss::BinaryCrossentropyWith { .. } => "binary_crossentropy",
            Loss::CategoricalCrossentropyWith { .. } => "categorical_crossentropy",
            Loss::BinaryFocalCrossentropy { .. } => "binary_focal_crossentropy",
        }
    }

    /// Checks the arguments, as Keras' constructors do.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a `delta` that is not a positive finite number, a
    /// `label_smoothing` or `alpha` outside [0, 1], or a negative `gamma`.
    pub fn validate(self) -> Result<()> {
        let unit = |name: &str, value: f32| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid(name, "a number in [0, 1]", value))
            }
        };
        match self {
            Loss::Huber { delta } if !(delta.is_finite() && delta > 0.0) => {
                Err(Error::invalid("delta", "a positive finite number", delta))
            }
            Loss::BinaryCrossentropyWith { label_smoothing, .. }
            | Loss::CategoricalCrossentropyWith { label_smoothing, .. } => {
                unit("label_smoothing", label_smoothing)
            }
            Loss::BinaryFocalCrossentropy { alpha, gamma, label_smoothing, .. } => {
                unit("label_smoothing", label_smoothing)?;
                unit("alpha", alpha)?;
                if gamma.is_finite() && gamma >= 0.0 {
                    Ok(())
                } else {
                    Err(Error::invalid("gamma", "a finite number ≥ 0", gamma))
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether the model's outputs are read as logits (`from_logits`).
    fn reads_logits(self) -> bool {
        matches!(
            self,
            Loss::BinaryCrossentropyWith { from_logits: true, .. }
                | Loss::CategoricalCrossentropyWith { from_logits: true, .. }
                | Loss::BinaryFocalCrossentropy { from_logits: true, .. }
        )
    }

    /// The loss of `y_pred` against `y_true`, reduced over the batch as Keras'
    /// `sum_over_batch_size`: Keras' `loss(y_true, y_pred)` called on arrays. Probabilities
    /// are clipped to [1e-7, 1 − 1e-7] (the logit form applies inside `fit` only, or with
    /// `from_logits`).
    ///
    /// # Errors
    /// As [`Loss::value_and_gradient`].
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use rnnkit::losses::Loss;
    /// # fn main() -> rnnkit::Result<()> {
    /// let (y, p) = (array![[0.0f32], [2.0]], array![[0.5f32], [0.0]]);
    /// let huber = Loss::Huber { delta: 1.0 }.value(y.view().into_dyn(), p.view().into_dyn())?;
    /// assert_eq!(huber, (0.125 + 1.5) / 2.0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn value(self, y_true: ArrayViewD<'_, f32>, y_pred: ArrayViewD<'_, f32>) -> Result<f32> {
        self.value_and_gradient(y_true, y_pred, None).map(|(value, _)| value)
    }

    /// The loss (as [`Loss::value`]) and its gradient with respect to `y_pred`, with optional
    /// sample weights: shape `(batch,)` for a 2-D `y_pred`, `(batch, steps)` for a 3-D one.
    /// Weighted, the loss is Σ w·loss / (number of samples or steps): Keras 3 divides by the
    /// count, zero weights included, not by the weights' sum.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the arguments fail [`Loss::validate`];
    /// [`Error::ShapeMismatch`] when `y_true` or `sample_weight` does not fit `y_pred`;
    /// [`Error::EmptyInput`] for an empty batch.
    pub fn value_and_gradient(
        self,
        y_true: ArrayViewD<'_, f32>,
        y_pred: ArrayViewD<'_, f32>,
        sample_weight: Option<ArrayViewD<'_, f32>>,
    ) -> Result<(f32, ArrayD<f32>)> {
        self.validate()?;
        if y_pred.ndim() < 2 || y_pred.is_empty() {
            return Err(Error::EmptyInput("y_pred (a batch of at least one sample and one unit)"));
        }
        let y = self.conform_targets(y_true, &y_pred.shape()[1..])?;
        match self.value_and_grad_weighted(y_pred, None, y.view(), None, sample_weight)? {
            (value, LossGrad::Output(grad) | LossGrad::Logits(grad)) => Ok((value, grad)),
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
    /// and activation, when it keeps them) against conformed targets `y`, with optional sample
    /// weights over the output's leading axes.
    ///
    /// With a `mask` over the output's leading `(batch, steps)` axes, masked rows weigh 0 and
    /// the others `total / valid`, so the loss is the mean over unmasked rows, as Keras'
    /// `apply_mask` (`keras/src/losses/loss.py`); a mask that does not cover the rows is not
    /// applied. The weights combine with it as [`Loss::value_and_grad_weighted`] says.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the weights do not cover the output's rows.
    pub(crate) fn value_and_grad(
        self,
        output: ArrayViewD<'_, f32>,
        logits: Option<(Activation, ArrayViewD<'_, f32>)>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        sample_weight: Option<ArrayViewD<'_, f32>>,
    ) -> Result<(f32, LossGrad)> {
        let mask =
            mask.filter(|m| m.len() * output.len_of(Axis(output.ndim() - 1)) == output.len());
        self.value_and_grad_weighted(output, logits, y, mask, sample_weight)
    }

    /// [`Loss::value_and_grad`] with optional sample weights over the output's leading axes
    /// (`(batch,)` or `(batch, steps)`), combined with the mask as Keras 3's
    /// `reduce_weighted_values`: each row weighs w·mask·total/valid, and the sum is divided by
    /// the number of rows.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the weights or the mask do not cover the output's rows.
    pub(crate) fn value_and_grad_weighted(
        self,
        output: ArrayViewD<'_, f32>,
        logits: Option<(Activation, ArrayViewD<'_, f32>)>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        sample_weight: Option<ArrayViewD<'_, f32>>,
    ) -> Result<(f32, LossGrad)> {
        let last = Axis(output.ndim() - 1);
        let classes = output.len_of(last).max(1);
        let rows = (output.len() / classes).max(1);
        let leading = &output.shape()[..output.ndim() - 1];
        let row_weights = reduction::row_weights(leading, sample_weight, mask)?;
        let weight = |row: usize| row_weights.as_ref().map_or(1.0, |w| w[row]);
        let fit_logits = match (self, logits) {
            (
                Loss::BinaryCrossentropy | Loss::BinaryCrossentropyWith { from_logits: false, .. },
                Some((Activation::Sigmoid, z)),
            ) => Some(z),
            (
                Loss::CategoricalCrossentropy
                | Loss::CategoricalCrossentropyWith { from_logits: false, .. }
                | Loss::SparseCategoricalCrossentropy,
                Some((Activation::Softmax, z)),
            ) => Some(z),
            _ => None,
        };
        let logit_form = fit_logits.is_some() || self.reads_logits();
        let targets = self.dense_targets(y, classes);
        let source = fit_logits.as_ref().map_or_else(|| output.view(), |z| z.view());
        let mut grad = ArrayD::<f32>::zeros(source.raw_dim());
        let mut total = 0.0f64;
        let lanes =
            Zip::from(grad.lanes_mut(last)).and(source.lanes(last)).and(targets.lanes(last));
        let mut row = 0;
        lanes.for_each(|g, v, t| {
            // Each row's loss is scaled by 1/rows (sum_over_batch_size) and its weight.
            let scale = weight(row) / rows as f32;
            total += f64::from(self.row(logit_form, v, t, g, scale));
            row += 1;
        });
        let value = total as f32;
        Ok(if fit_logits.is_some() {
            (value, LossGrad::Logits(grad))
        } else {
            (value, LossGrad::Output(grad))
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn grad_of(result: (f32, LossGrad)) -> (f32, ArrayD<f32>) {
        match result {
            (value, LossGrad::Output(g) | LossGrad::Logits(g)) => (value, g),
        }
    }

    #[test]
    fn masked_weighted_loss_is_keras_reduction_of_the_step_losses() {
        let p = array![[[0.2f32], [0.9], [0.6]], [[0.3], [0.5], [0.8]]].into_dyn();
        let y = array![[[0.0f32], [1.0], [1.0]], [[1.0], [0.0], [1.0]]].into_dyn();
        let mask =
            Array2::from_shape_vec((2, 3), vec![false, true, true, true, true, false]).unwrap();
        let weights = array![[0.5f32, 2.0, 1.0], [0.0, 1.5, 3.0]].into_dyn();
        let loss = Loss::MeanSquaredError;
        let (value, grad) = grad_of(
            loss.value_and_grad_weighted(
                p.view(),
                None,
                y.view(),
                Some(&mask),
                Some(weights.view()),
            )
            .unwrap(),
        );
        let steps = (&p - &y).mapv(|e| e * e).remove_axis(Axis(2));
        let mask_d = mask.clone().into_dyn();
        let keras =
            reduce_weighted_values(steps.view(), Some(weights.view()), Some(&mask_d)).unwrap();
        assert!((value - keras).abs() < 1e-7);
        // Masked steps get no gradient; the others 2e·w·total/valid/rows.
        assert_eq!(grad[[0, 0, 0]], 0.0);
        let expected = 2.0 * (0.9 - 1.0) * 2.0 * (6.0 / 4.0) / 6.0;
        assert!((grad[[0, 1, 0]] - expected).abs() < 1e-7);
        let bad = array![1.0f32, 2.0].into_dyn();
        assert!(loss
            .value_and_grad_weighted(p.view(), None, y.view(), None, Some(bad.view()))
            .is_err());
    }

    #[test]
    fn the_fit_logit_path_agrees_with_probabilities_for_the_new_options() {
        let z = array![[0.3f32, -1.2], [2.0, 0.1]].into_dyn();
        let y = array![[1.0f32, 0.0], [0.0, 1.0]].into_dyn();
        let sigmoid_p = z.mapv(crate::activations::sigmoid);
        let bce = Loss::BinaryCrossentropyWith { from_logits: false, label_smoothing: 0.2 };
        let (by_logits, _) = grad_of(
            bce.value_and_grad(
                sigmoid_p.view(),
                Some((Activation::Sigmoid, z.view())),
                y.view(),
                None,
                None,
            )
            .unwrap(),
        );
        assert!((by_logits - bce.value(y.view(), sigmoid_p.view()).unwrap()).abs() < 1e-6);
        let e = z.mapv(f32::exp);
        let softmax = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        let cce = Loss::CategoricalCrossentropyWith { from_logits: false, label_smoothing: 0.2 };
        let (by_logits, _) = grad_of(
            cce.value_and_grad(
                softmax.view(),
                Some((Activation::Softmax, z.view())),
                y.view(),
                None,
                None,
            )
            .unwrap(),
        );
        assert!((by_logits - cce.value(y.view(), softmax.view()).unwrap()).abs() < 1e-6);
        // from_logits: the outputs themselves are the logits.
        let direct = Loss::BinaryCrossentropyWith { from_logits: true, label_smoothing: 0.2 };
        let (value, _) =
            grad_of(direct.value_and_grad(z.view(), None, y.view(), None, None).unwrap());
        assert!((value - bce.value(y.view(), sigmoid_p.view()).unwrap()).abs() < 1e-6);
    }
}
