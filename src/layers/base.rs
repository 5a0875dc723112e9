//! The state every layer shares ([`LayerBase`]) and the conveniences built on it
//! ([`LayerExt`]).

use super::Layer;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::ArrayD;

/// What every layer has, whatever it computes: its name, whether it trains, and its shapes.
///
/// A layer embeds one and returns it from [`Layer::base`]; the methods of [`LayerExt`] read it,
/// so a layer writes none of that bookkeeping itself (as Keras' base `Layer` owns `name`,
/// `trainable` and the built shapes).
#[derive(Clone, Debug)]
pub struct LayerBase {
    pub(crate) name: String,
    pub(crate) trainable: bool,
    /// The per-sample input shape the layer declares before it is built (`input_length`).
    pub(crate) declared_input_shape: Option<Vec<usize>>,
    /// The per-sample input shape the layer was built for; empty until built.
    pub(crate) input_shape: Vec<usize>,
    /// The per-sample output shape; `None` until built.
    pub(crate) output_shape: Option<Vec<usize>>,
}

impl Default for LayerBase {
    fn default() -> Self {
        LayerBase::new()
    }
}

impl LayerBase {
    /// An unnamed, trainable, unbuilt layer's state.
    pub fn new() -> Self {
        LayerBase {
            name: String::new(),
            trainable: true,
            declared_input_shape: None,
            input_shape: Vec::new(),
            output_shape: None,
        }
    }

    /// The layer's name (`"simple_rnn"`, `"dense_1"`); empty until set by the user or a model.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the layer's name.
    pub fn set_name(&mut self, name: String) {
        self.name = name;
    }

    /// Whether an optimizer updates the layer's weights. Default: `true`.
    pub fn is_trainable(&self) -> bool {
        self.trainable
    }

    /// Freezes (`false`) or unfreezes (`true`) the layer's weights.
    pub fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }

    /// The per-sample input shape the layer declares itself (for example `Embedding`'s
    /// `input_length`), if any; lets a model build without an explicit input shape.
    pub fn declared_input_shape(&self) -> Option<&[usize]> {
        self.declared_input_shape.as_deref()
    }

    /// Declares the per-sample input shape (Keras' `input_shape` argument of a first layer).
    pub fn declare_input_shape(&mut self, shape: Vec<usize>) {
        self.declared_input_shape = Some(shape);
    }

    /// The per-sample input shape the layer was built for; empty before `build`.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The per-sample output shape once built.
    pub fn output_shape(&self) -> Option<&[usize]> {
        self.output_shape.as_deref()
    }

    /// Records a successful `build`: the input shape it was built for and its output shape,
    /// which it returns (what [`Layer::build`] returns).
    pub fn built(&mut self, input_shape: &[usize], output_shape: Vec<usize>) -> Vec<usize> {
        self.input_shape = input_shape.to_vec();
        self.output_shape = Some(output_shape.clone());
        output_shape
    }

    /// The input shape once built, or the error for a layer used before it was built.
    pub(crate) fn built_input(&self) -> Result<&[usize]> {
        match self.output_shape {
            Some(_) => Ok(&self.input_shape),
            None => Err(super::not_built(&self.name)),
        }
    }
}

/// What every [`Layer`] offers without writing it: name, trainability, shapes and weights, read
/// from the layer's [`LayerBase`] and [`Layer::params`]. Implemented for every layer.
pub trait LayerExt: Layer {
    /// The layer's name (`"simple_rnn"`, `"dense_1"`); empty until set by the user or the model.
    fn name(&self) -> &str {
        self.base().name()
    }

    /// Sets the layer's name; `Sequential::add` gives unnamed layers Keras-style unique names.
    fn set_name(&mut self, name: String) {
        self.base_mut().set_name(name);
    }

    /// Whether an optimizer updates the layer's weights.
    fn is_trainable(&self) -> bool {
        self.base().is_trainable()
    }

    /// Freezes (`false`) or unfreezes (`true`) the layer's weights.
    fn set_trainable(&mut self, trainable: bool) {
        self.base_mut().set_trainable(trainable);
    }

    /// The per-sample output shape once built.
    fn output_shape(&self) -> Option<&[usize]> {
        self.base().output_shape()
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
                names: params.iter().map(|p| p.name()).collect::<Vec<_>>().join(", "),
            });
        }
        for (index, (param, weight)) in params.iter().zip(&weights).enumerate() {
            if param.value.shape() != weight.shape() {
                return Err(Error::WeightMismatch {
                    layer,
                    index,
                    expected: format!("{} {}", param.name(), array_shape(param.value.shape())),
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

impl<L: Layer + ?Sized> LayerExt for L {}
