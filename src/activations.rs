//! Element-wise activations, applied in place, with derivatives written in terms of the output.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, Zip};
use std::fmt;
use std::str::FromStr;

/// An activation function, named as in Keras.
///
/// Every derivative is expressed through the activation's output `y`, so layers only keep their
/// outputs for the backward pass.
///
/// # Examples
/// Keras' names parse and print:
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let activation: Activation = "sigmoid".parse()?;
/// assert_eq!(activation, Activation::Sigmoid);
/// assert_eq!(activation.to_string(), "sigmoid");
/// assert!("gelu".parse::<Activation>().is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `y = x` (Keras' `"linear"`, the default of `Dense`).
    #[default]
    Linear,
    /// `y = 1 / (1 + e^{-x})`.
    Sigmoid,
    /// `y = tanh(x)` (the default of `SimpleRnn`).
    Tanh,
    /// `y = max(x, 0)`.
    Relu,
    /// `y_i = e^{x_i} / Σ_j e^{x_j}` over the last axis.
    Softmax,
}

impl Activation {
    /// Keras' name of the activation (`"tanh"`, ...).
    pub fn keras_name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Softmax => "softmax",
        }
    }

    /// Applies the activation in place; softmax works along the last axis.
    pub(crate) fn apply(self, mut z: ArrayViewMutD<'_, f32>) {
        match self {
            Activation::Linear => {}
            Activation::Sigmoid => z.mapv_inplace(sigmoid),
            Activation::Tanh => match z.as_slice_memory_order_mut() {
                Some(values) => crate::kernels::tanh_inplace(values),
                None => z.mapv_inplace(f32::tanh),
            },
            Activation::Relu => z.mapv_inplace(|v| v.max(0.0)),
            Activation::Softmax => {
                let last = Axis(z.ndim() - 1);
                for mut row in z.lanes_mut(last) {
                    let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|v| v / sum);
                }
            }
        }
    }

    /// Applies the activation in place to contiguous rows of `width` values.
    pub(crate) fn apply_rows(self, z: &mut [f32], width: usize) {
        match self {
            Activation::Linear => {}
            Activation::Sigmoid => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Tanh => crate::kernels::tanh_inplace(z),
            Activation::Relu => z.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Softmax => {
                for row in z.chunks_exact_mut(width) {
                    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    row.iter_mut().for_each(|v| *v = (*v - max).exp());
                    let sum: f32 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= sum);
                }
            }
        }
    }

    /// As [`Activation::backward`] for one row: `grad` (dL/dy) becomes dL/dz, given `y`.
    pub(crate) fn backward_row(self, y: &[f32], grad: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Sigmoid => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= y * (1.0 - y)),
            Activation::Tanh => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= 1.0 - y * y),
            Activation::Relu => grad.iter_mut().zip(y).for_each(|(g, &y)| {
                if y <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::Softmax => {
                let dot: f32 = grad.iter().zip(y).map(|(g, y)| g * y).sum();
                grad.iter_mut().zip(y).for_each(|(g, &y)| *g = y * (*g - dot));
            }
        }
    }

    /// Turns `grad` (dL/dy) into dL/dz in place, given the activation's output `y`.
    pub(crate) fn backward(self, y: ArrayViewD<'_, f32>, mut grad: ArrayViewMutD<'_, f32>) {
        match self {
            Activation::Linear => {}
            Activation::Sigmoid => {
                Zip::from(&mut grad).and(&y).for_each(|g, &y| *g *= y * (1.0 - y))
            }
            Activation::Tanh => Zip::from(&mut grad).and(&y).for_each(|g, &y| *g *= 1.0 - y * y),
            Activation::Relu => Zip::from(&mut grad).and(&y).for_each(|g, &y| {
                if y <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::Softmax => {
                // dL/dz_i = y_i · (g_i − Σ_j g_j y_j)
                let last = Axis(y.ndim() - 1);
                Zip::from(grad.lanes_mut(last)).and(y.lanes(last)).for_each(|mut g, y| {
                    let dot: f32 = g.iter().zip(y.iter()).map(|(g, y)| g * y).sum();
                    Zip::from(&mut g).and(&y).for_each(|g, &y| *g = y * (*g - dot));
                });
            }
        }
    }
}

/// The logistic function, stable for large |x|.
pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keras_name())
    }
}

impl FromStr for Activation {
    type Err = crate::Error;

    /// Parses Keras' name of an activation (`"tanh"`, `"sigmoid"`, ...).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for any other name, listing
    /// the names it accepts.
    fn from_str(name: &str) -> crate::Result<Self> {
        Ok(match name {
            "linear" => Activation::Linear,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "softmax" => Activation::Softmax,
            other => {
                return Err(crate::Error::invalid(
                    "activation",
                    "one of linear, sigmoid, tanh, relu, softmax",
                    other,
                ))
            }
        })
    }
}
