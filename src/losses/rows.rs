//! One row's loss (the last axis) and its gradient, for every loss.

use super::{Loss, EPSILON};
use crate::activations::sigmoid;
use ndarray::{ArrayView1, ArrayViewMut1, Zip};

/// log 2, subtracted by Keras' log-cosh.
const LN_2: f32 = std::f32::consts::LN_2;

impl Loss {
    /// One row's loss times `scale`, writing its gradient (times `scale`) into `grad`. `values`
    /// are logits when `logit_form`, else the model's outputs.
    pub(super) fn row(
        self,
        logit_form: bool,
        values: ArrayView1<'_, f32>,
        targets: ArrayView1<'_, f32>,
        mut grad: ArrayViewMut1<'_, f32>,
        scale: f32,
    ) -> f32 {
        let classes = values.len() as f32;
        let mut loss = 0.0f32;
        let elementwise = |loss: &mut f32,
                           grad: &mut ArrayViewMut1<'_, f32>,
                           f: &dyn Fn(f32, f32) -> (f32, f32)| {
            Zip::from(grad).and(&values).and(&targets).for_each(|g, &p, &y| {
                let (value, derivative) = f(p, y);
                *loss += value;
                *g = derivative * scale / classes;
            });
        };
        match self {
            Loss::BinaryCrossentropy | Loss::BinaryCrossentropyWith { .. } => {
                let smoothing = self.label_smoothing();
                let smooth = |y: f32| y * (1.0 - smoothing) + 0.5 * smoothing;
                if logit_form {
                    // max(z, 0) − z·y + log(1 + e^{−|z|}); dL/dz = σ(z) − y.
                    elementwise(&mut loss, &mut grad, &|z, y| {
                        let y = smooth(y);
                        (z.max(0.0) - z * y + (-z.abs()).exp().ln_1p(), sigmoid(z) - y)
                    });
                } else {
                    elementwise(&mut loss, &mut grad, &|p, y| clipped_bce(p, smooth(y)));
                }
                loss / classes * scale
            }
            Loss::CategoricalCrossentropy
            | Loss::SparseCategoricalCrossentropy
            | Loss::CategoricalCrossentropyWith { .. } => {
                let smoothing = self.label_smoothing();
                let smooth = |y: f32| y * (1.0 - smoothing) + smoothing / classes;
                let y_sum: f32 = targets.iter().map(|&y| smooth(y)).sum();
                if logit_form {
                    // log_softmax(z) = z − max − log Σ e^{z − max}; dL/dz = p·Σy − y.
                    let max = values.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    let log_sum = values.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
                    Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &z, &y| {
                        let y = smooth(y);
                        let log_p = z - max - log_sum;
                        loss -= y * log_p;
                        *g = (log_p.exp() * y_sum - y) * scale;
                    });
                } else {
                    // Keras: p ← p / Σp, clipped to [ε, 1 − ε]; L = −Σ y·log p.
                    let sum = values.sum();
                    Zip::from(&mut grad).and(&values).and(&targets).for_each(|g, &p, &y| {
                        let y = smooth(y);
                        let q = p / sum;
                        loss -= y * q.clamp(EPSILON, 1.0 - EPSILON).ln();
                        let inside = q > EPSILON && q < 1.0 - EPSILON;
                        // d/dp of −Σ_c y_c·log(p_c / Σp) = −y/p + Σy/Σp.
                        *g = (if inside { -y / p } else { 0.0 } + y_sum / sum) * scale;
                    });
                }
                loss * scale
            }
            Loss::MeanSquaredError => {
                elementwise(&mut loss, &mut grad, &|p, y| ((p - y) * (p - y), 2.0 * (p - y)));
                loss / classes * scale
            }
            Loss::MeanAbsoluteError => {
                elementwise(&mut loss, &mut grad, &|p, y| ((p - y).abs(), sign(p - y)));
                loss / classes * scale
            }
            Loss::Huber { delta } => {
                elementwise(&mut loss, &mut grad, &|p, y| {
                    let error = p - y;
                    if error.abs() <= delta {
                        (0.5 * error * error, error)
                    } else {
                        (delta * error.abs() - 0.5 * delta * delta, delta * sign(error))
                    }
                });
                loss / classes * scale
            }
            Loss::LogCosh => {
                // x + softplus(−2x) − log 2, with d/dx = tanh(x).
                elementwise(&mut loss, &mut grad, &|p, y| {
                    let x = p - y;
                    (x + softplus(-2.0 * x) - LN_2, x.tanh())
                });
                loss / classes * scale
            }
            Loss::BinaryFocalCrossentropy {
                alpha,
                gamma,
                apply_class_balancing,
                label_smoothing,
                ..
            } => {
                elementwise(&mut loss, &mut grad, &|v, y| {
                    let y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing;
                    let p = if logit_form { sigmoid(v) } else { v };
                    let (bce, dbce) = clipped_bce(p, y);
                    let p_t = y * p + (1.0 - y) * (1.0 - p);
                    let focus = (1.0 - p_t).powf(gamma);
                    // d(1 − p_t)^γ/dp = −γ(1 − p_t)^{γ−1}·(2y − 1).
                    let dfocus = if gamma == 0.0 || 1.0 - p_t <= 0.0 {
                        0.0
                    } else {
                        -gamma * (1.0 - p_t).powf(gamma - 1.0) * (2.0 * y - 1.0)
                    };
                    let balance = if apply_class_balancing {
                        alpha * y + (1.0 - alpha) * (1.0 - y)
                    } else {
                        1.0
                    };
                    let dp = balance * (dfocus * bce + focus * dbce);
                    (balance * focus * bce, if logit_form { dp * p * (1.0 - p) } else { dp })
                });
                loss / classes * scale
            }
        }
    }

    /// The label smoothing of the cross-entropies (0 for the others).
    fn label_smoothing(self) -> f32 {
        match self {
            Loss::BinaryCrossentropyWith { label_smoothing, .. }
            | Loss::CategoricalCrossentropyWith { label_smoothing, .. }
            | Loss::BinaryFocalCrossentropy { label_smoothing, .. } => label_smoothing,
            _ => 0.0,
        }
    }
}

/// Binary cross-entropy of a probability clipped to [ε, 1 − ε], and its derivative (0 where
/// the clip bites), as Keras computes it on probabilities.
fn clipped_bce(p: f32, y: f32) -> (f32, f32) {
    let clipped = p.clamp(EPSILON, 1.0 - EPSILON);
    let value = -(y * clipped.ln() + (1.0 - y) * (1.0 - clipped).ln());
    let inside = p > EPSILON && p < 1.0 - EPSILON;
    (value, if inside { (p - y) / (p * (1.0 - p)) } else { 0.0 })
}

/// log(1 + eˣ), computed without overflow.
fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The sign of x, 0 at 0 (the derivative JAX takes for |x|).
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
