//! Layers: the building blocks a [`Sequential`](crate::model::Sequential) model stacks.
//!
//! Every layer implements [`Layer`]: it is built from the per-sample shape of its input (the batch
//! axis left out, as Keras' `input_shape`), runs forward on a batch, and runs backward from the
//! gradient of the loss with respect to its output, accumulating the gradients of its weights.

mod bidirectional;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod gru;
mod lstm;
mod masking;
pub(crate) mod recurrent;
mod simple_rnn;

pub use bidirectional::{Bidirectional, MergeMode};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use gru::Gru;
pub use lstm::Lstm;
pub use masking::Masking;
pub use recurrent::Recurrent;
pub use simple_rnn::SimpleRnn;

use crate::activations::Activation;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, ArrayViewD};
use rand::rngs::StdRng;
use std::fmt::Debug;

/// Which timesteps of a batch hold data: `(batch, steps)`, `true` for a real step.
///
/// Produced by `Embedding::mask_zero(true)` and `Masking`, consumed by recurrent layers, which
/// carry their state unchanged through masked steps.
pub type Mask = Array2<bool>;

/// A weight of a layer with its accumulated gradient, named as in Keras (`kernel`, `bias`, ...).
#[derive(Clone, Debug)]
pub struct Param {
    name: &'static str,
    /// The weight's current value.
    pub value: ArrayD<f32>,
    /// dL/dvalue, accumulated by `backward` since the last reset.
    pub grad: ArrayD<f32>,
}

impl Param {
    /// A weight with a zero gradient of the same shape.
    pub fn new(name: &'static str, value: ArrayD<f32>) -> Self {
        let grad = ArrayD::zeros(value.raw_dim());
        Param { name, value, grad }
    }

    /// Keras' name of the weight (`"kernel"`, `"recurrent_kernel"`, `"bias"`, `"embeddings"`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Number of scalars in the weight.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the weight holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// A layer of a model: shapes, forward, backward and weights.
///
/// Layers are `f32`. A layer is built once from its input's per-sample shape; `forward` in
/// training mode keeps what `backward` needs, and `backward` adds the gradients of the layer's
/// weights into [`Param::grad`] and returns the gradient with respect to its input.
pub trait Layer: Debug + Send {
    /// Keras' class name, shown in the summary (`"SimpleRNN"`, `"Dense"`, ...).
    fn class_name(&self) -> &'static str;

    /// The layer's name (`"simple_rnn"`, `"dense_1"`); empty until set by the user or the model.
    fn name(&self) -> &str;

    /// Sets the layer's name; `Sequential::add` gives unnamed layers Keras-style unique names.
    fn set_name(&mut self, name: String);

    /// The per-sample input shape the layer declares itself (for example `Embedding`'s
    /// `input_length`), if any; lets a model build without an explicit input shape.
    fn declared_input_shape(&self) -> Option<Vec<usize>> {
        None
    }

    /// Creates the weights for inputs of per-sample shape `input_shape` and returns the
    /// per-sample output shape.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the layer cannot take inputs of that rank or size, and
    /// [`Error::InvalidArgument`] when a hyper-parameter is out of its domain.
    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>>;

    /// The per-sample output shape once built.
    fn output_shape(&self) -> Option<&[usize]>;

    /// Runs the layer on a batch. In training mode it keeps what `backward` needs. `mask`, when
    /// given, marks the real timesteps of the input (see [`Mask`]).
    ///
    /// # Shapes
    /// Input `(batch, ..input_shape)`, mask `(batch, steps)`; output `(batch, ..output_shape)`
    /// with the shapes of [`Layer::build`] and [`Layer::output_shape`].
    ///
    /// # Errors
    /// [`Error::NotBuilt`] before `build`, [`Error::ShapeMismatch`] for an input whose shape is
    /// not `(batch, ..input_shape)`, and layer-specific errors (ids out of range).
    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>>;

    /// The mask of this layer's output given its input and the input's mask. By default the
    /// mask passes through unchanged (Keras' `supports_masking`).
    ///
    /// # Errors
    /// Layer-specific errors (an `Embedding` checks its ids).
    fn compute_mask(
        &self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        let _ = input;
        Ok(mask.cloned())
    }

    /// Back-propagates `grad_output` (dL/doutput of the last training-mode `forward`): adds the
    /// weights' gradients into their [`Param::grad`] and, when `input_grad` is true, returns
    /// dL/dinput.
    ///
    /// # Shapes
    /// `grad_output` has the shape of the last training-mode output; the returned gradient has
    /// the shape of that call's input.
    ///
    /// # Errors
    /// [`Error::NoForwardCache`] without a preceding training-mode `forward`, and
    /// [`Error::ShapeMismatch`] when `grad_output` does not have the output's shape.
    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>>;

    /// The activation applied last by the layer; a loss reads it to work from logits when it
    /// is a sigmoid or softmax (as Keras does inside `fit`).
    fn output_activation(&self) -> Activation {
        Activation::Linear
    }

    /// The pre-activation output of the last training-mode `forward`, for layers that keep it.
    fn last_logits(&self) -> Option<ArrayViewD<'_, f32>> {
        None
    }

    /// As [`Layer::backward`], from the gradient with respect to the pre-activation output.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] for layers that do not keep their logits (see
    /// [`Layer::last_logits`]), and the errors of `backward`.
    fn backward_logits(
        &mut self,
        grad_logits: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let _ = (grad_logits, input_grad);
        Err(Error::NotBuilt(format!("layer '{}' does not keep its logits", self.name())))
    }

    /// The layer's weights, in Keras' order.
    fn params(&self) -> Vec<&Param>;

    /// The layer's weights, mutable, in Keras' order.
    fn params_mut(&mut self) -> Vec<&mut Param>;

    /// Whether an optimizer updates the layer's weights.
    fn is_trainable(&self) -> bool;

    /// Freezes (`false`) or unfreezes (`true`) the layer's weights.
    fn set_trainable(&mut self, trainable: bool);

    /// The layer as [`Any`](std::any::Any), to downcast it to its type
    /// (`layer.as_any()?.downcast_ref::<Lstm>()`); `None` for layers that do not offer it.
    /// `Embedding` and the recurrent layers do: `predict` and `evaluate` use it to fold an
    /// `Embedding`'s table into the recurrent layer after it.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// As [`Layer::as_any`], mutable.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }

    /// Number of scalars in the layer's weights.
    fn count_params(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }

    /// Copies of the weights in Keras' layout and order (`layer.get_weights()`).
    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.params().iter().map(|p| p.value.clone()).collect()
    }

    /// Replaces the weights, in Keras' layout and order (`layer.set_weights()`).
    ///
    /// # Errors
    /// [`Error::WeightCount`] when the count differs and [`Error::WeightMismatch`] when a shape
    /// differs; the weights are then left unchanged.
    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        let layer = self.name().to_string();
        let mut params = self.params_mut();
        if params.len() != weights.len() {
            return Err(Error::WeightCount {
                layer,
                expected: params.len(),
                found: weights.len(),
                names: params.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
            });
        }
        for (index, (param, weight)) in params.iter().zip(&weights).enumerate() {
            if param.value.shape() != weight.shape() {
                return Err(Error::WeightMismatch {
                    layer,
                    index,
                    expected: format!("{} {}", param.name, array_shape(param.value.shape())),
                    found: array_shape(weight.shape()),
                });
            }
        }
        for (param, weight) in params.iter_mut().zip(weights) {
            param.value = weight.as_standard_layout().into_owned();
        }
        Ok(())
    }
}

/// Keras' default name stem for a class: `SimpleRNN` → `simple_rnn`, `Dense` → `dense`.
pub(crate) fn snake_case(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && chars[i - 1].is_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The error for a layer used before it was built.
pub(crate) fn not_built(layer: &str) -> Error {
    Error::NotBuilt(format!(
        "layer '{layer}' is not built; add it to a model and call `build(&input_shape)` (or give \
         the first layer an input length) first"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_matches_keras() {
        assert_eq!(super::snake_case("SimpleRNN"), "simple_rnn");
        assert_eq!(super::snake_case("Dense"), "dense");
        assert_eq!(super::snake_case("LSTM"), "lstm");
        assert_eq!(super::snake_case("Embedding"), "embedding");
    }
}
