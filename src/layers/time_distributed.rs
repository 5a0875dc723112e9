//! `TimeDistributed`: applies one layer to every step of a sequence.

use super::{not_built, Layer, LayerBase, LayerExt, Mask, Param};
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use rand::rngs::StdRng;

/// Applies the same inner layer, with the same weights, to every step of a sequence, as Keras'
/// `TimeDistributed(layer)`: `(batch, steps, ...)` is read as `batch·steps` samples of shape
/// `(...)`. The inner layer's weights are the wrapper's; a mask passes through to the output.
///
/// # Shapes
/// Input `(batch, steps, ..inner input)`; output `(batch, steps, ..inner output)`.
///
/// # Examples
/// A per-step classifier over a recurrent layer's sequence:
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(100, 8).input_length(12));
/// model.add(Lstm::new(16).return_sequences(true));
/// model.add(TimeDistributed::new(Dense::new(5).activation(Activation::Softmax)));
/// let summary = model.summary()?;
/// assert_eq!(summary.total_params(), 800 + 1_600 + 85);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TimeDistributed {
    base: LayerBase,
    layer: Box<dyn Layer>,
    /// The shape of the last training-mode input, for `backward`.
    cached_shape: Option<Vec<usize>>,
}

impl TimeDistributed {
    /// Wraps `layer`, to be applied at every step.
    pub fn new(layer: impl Layer + 'static) -> Self {
        TimeDistributed::from_boxed(Box::new(layer))
    }

    /// Wraps a boxed `layer`, to be applied at every step.
    pub fn from_boxed(layer: Box<dyn Layer>) -> Self {
        TimeDistributed { base: LayerBase::new(), layer, cached_shape: None }
    }

    /// The wrapped layer.
    pub fn layer(&self) -> &dyn Layer {
        self.layer.as_ref()
    }

    /// Reads `(batch, steps, rest..)` as `(batch·steps, rest..)`, copying only a
    /// non-contiguous view.
    fn flattened<'a>(
        &self,
        array: &'a ArrayViewD<'_, f32>,
        shape: &[usize],
    ) -> Result<CowArray<'a, f32, IxDyn>> {
        array.to_shape(IxDyn(shape)).map_err(|_| not_built(&self.base.name))
    }

    /// Reshapes the inner layer's `(batch·steps, rest..)` back into `(batch, steps, rest..)`.
    fn unflattened(&self, array: ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>> {
        let array = if array.is_standard_layout() {
            array
        } else {
            array.as_standard_layout().into_owned()
        };
        array.into_shape_with_order(IxDyn(shape)).map_err(|_| not_built(&self.base.name))
    }
}

/// `(batch, steps, rest..)` → `(batch·steps, rest..)`.
fn merged(shape: &[usize]) -> Vec<usize> {
    std::iter::once(shape[0] * shape[1]).chain(shape[2..].iter().copied()).collect()
}

/// `(batch·steps, rest..)` → `(batch, steps, rest..)`.
fn split(batch: usize, steps: usize, shape: &[usize]) -> Vec<usize> {
    [batch, steps].into_iter().chain(shape[1..].iter().copied()).collect()
}

impl Layer for TimeDistributed {
    fn class_name(&self) -> &'static str {
        "TimeDistributed"
    }

    fn get_config(&self) -> Option<Config> {
        let layer = crate::saving::layer_config(self.layer.as_ref()).ok()?;
        Some(Config::from_iter([("layer".to_string(), layer)]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        let Some((&steps, inner)) = input_shape.split_first().filter(|(_, rest)| !rest.is_empty())
        else {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, steps, ...) with at least 3 axes".into(),
                found: keras_shape(input_shape),
            });
        };
        if self.layer.name().is_empty() {
            let name = super::snake_case(self.layer.class_name());
            self.layer.set_name(name);
        }
        let inner_output = self.layer.build(inner, rng)?;
        let output = std::iter::once(steps).chain(inner_output).collect();
        Ok(self.base.built(input_shape, output))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let shape = input.shape().to_vec();
        let output = {
            let flat = self.flattened(&input, &merged(&shape))?;
            self.layer.forward(flat.view(), None, training)?
        };
        let output_shape = split(shape[0], shape[1], output.shape());
        self.cached_shape = training.then_some(shape);
        self.unflattened(output, &output_shape)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let shape = self
            .cached_shape
            .clone()
            .ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if grad_output.ndim() < 2 || grad_output.shape()[..2] != shape[..2] {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: format!("a gradient of shape ({}, {}, ...)", shape[0], shape[1]),
                found: array_shape(grad_output.shape()),
            });
        }
        let flat_shape = merged(grad_output.shape());
        let grad = {
            let flat = self.flattened(&grad_output, &flat_shape)?;
            self.layer.backward(flat.view(), input_grad)?
        };
        grad.map(|grad| self.unflattened(grad, &shape)).transpose()
    }

    fn params(&self) -> Vec<&Param> {
        self.layer.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layer.params_mut()
    }

    /// The wrapped layer's cache with the input shape; `None` when the wrapped layer cannot
    /// hand its cache over.
    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        let inner = self.layer.take_forward_cache()?;
        let mut state = self.cached_shape.take().map(|shape| (shape, inner));
        super::cache::take::<Self, _>(&mut state)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        let mut state: Option<(Vec<usize>, super::ForwardCache)> = None;
        super::cache::put::<Self, _>(&self.base.name, &mut state, cache)?;
        self.cached_shape = match state {
            Some((shape, inner)) => {
                self.layer.put_forward_cache(inner)?;
                Some(shape)
            }
            None => None,
        };
        Ok(())
    }
}
