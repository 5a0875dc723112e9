//! `RepeatVector`: repeats a vector into a sequence.

use super::{not_built, Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis, Ix2, Ix3};
use rand::rngs::StdRng;

/// Repeats each sample's vector `n` times, as Keras' `RepeatVector(n)`: the bridge from an
/// encoder's summary vector to a decoder that reads one input per output step.
///
/// # Shapes
/// Input `(batch, features)`; output `(batch, n, features)`. The output carries no mask.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(RepeatVector::new(3));
/// model.build(&[2])?;
/// let y = model.predict(&array![[1.0f32, 2.0]])?;
/// assert_eq!(y.shape(), &[1, 3, 2]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RepeatVector {
    base: LayerBase,
    n: usize,
    /// Whether a training-mode `forward` ran, so that `backward` may.
    trained_forward: bool,
}

impl RepeatVector {
    /// Repeats the input `n` times.
    pub fn new(n: usize) -> Self {
        RepeatVector { base: LayerBase::new(), n, trained_forward: false }
    }
}

impl Layer for RepeatVector {
    fn class_name(&self) -> &'static str {
        "RepeatVector"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([("n".to_string(), self.n.into())]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.n == 0 {
            return Err(Error::invalid("n", "a positive integer", self.n));
        }
        match *input_shape {
            [features] => Ok(self.base.built(input_shape, vec![self.n, features])),
            _ => Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, features)".into(),
                found: keras_shape(input_shape),
            }),
        }
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let input = input.into_dimensionality::<Ix2>().map_err(|_| not_built(&self.base.name))?;
        let (batch, features) = input.dim();
        let output = input
            .insert_axis(Axis(1))
            .broadcast((batch, self.n, features))
            .ok_or_else(|| not_built(&self.base.name))?
            .to_owned();
        self.trained_forward = training;
        Ok(output.into_dyn())
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
        if !self.trained_forward {
            return Err(Error::NoForwardCache(self.base.name.clone()));
        }
        let found = array_shape(grad_output.shape());
        let grad = grad_output
            .into_dimensionality::<Ix3>()
            .ok()
            .filter(|g| Some(&g.shape()[1..]) == self.base.output_shape())
            .ok_or_else(|| Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: keras_shape(self.base.output_shape().unwrap_or(&[])),
                found,
            })?;
        Ok(input_grad.then(|| grad.sum_axis(Axis(1)).into_dyn()))
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        let mut trained = std::mem::take(&mut self.trained_forward).then_some(());
        super::cache::take::<Self, _>(&mut trained)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        let mut trained: Option<()> = None;
        super::cache::put::<Self, _>(&self.base.name, &mut trained, cache)?;
        self.trained_forward = trained.is_some();
        Ok(())
    }
}
