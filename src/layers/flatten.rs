//! `Flatten`: joins every axis but the batch into one.

use super::{not_built, Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of, NONE};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rand::rngs::StdRng;

/// Reshapes `(batch, d1, d2, ...)` to `(batch, d1·d2·...)`, as Keras' `Flatten`. It has no
/// weights and drops any mask.
///
/// # Shapes
/// Input `(batch, ...)`; output `(batch, product of the other axes)`. Over a time axis of
/// unknown length ([`NONE`](crate::layers::NONE)) the output's size is unknown too, `(None,
/// None)`, as in Keras; a `Dense` after it then fails to build, since its kernel needs that size.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(SimpleRnn::new(32).return_sequences(true));
/// model.add(Flatten::new());
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// assert_eq!(model.summary()?.total_params(), 338_081);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    base: LayerBase,
    /// Values per sample of the output, once built.
    features: usize,
    cached_shape: Option<Vec<usize>>,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Flatten::default()
    }
}

impl Layer for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::new())
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        if input_shape.contains(&NONE) {
            self.features = NONE;
            return Ok(self.base.built(input_shape, vec![NONE]));
        }
        let Some(features) = input_shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "a shape whose size fits in memory".into(),
                found: crate::shape::keras_shape(input_shape),
            });
        };
        self.features = features;
        Ok(self.base.built(input_shape, vec![features]))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let batch = input.shape()[0];
        let features = input.len() / batch;
        let output = input
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&[batch, features]))
            .map_err(|_| not_built(&self.base.name))?;
        self.cached_shape = training.then(|| input.shape().to_vec());
        Ok(output)
    }

    fn compute_mask(
        &self,
        _input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        Ok(None)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let shape = self
            .cached_shape
            .as_ref()
            .ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if !input_grad {
            return Ok(None);
        }
        let grad = grad_output.as_standard_layout().into_owned();
        let found = array_shape(grad.shape());
        grad.into_shape_with_order(IxDyn(shape)).map(Some).map_err(|_| Error::ShapeMismatch {
            layer: format!("{} (backward)", self.base.name),
            expected: format!(
                "a gradient with {} values per sample",
                shape[1..].iter().product::<usize>()
            ),
            found,
        })
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        super::cache::take::<Self, _>(&mut self.cached_shape)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        super::cache::put::<Self, _>(&self.base.name, &mut self.cached_shape, cache)
    }
}
