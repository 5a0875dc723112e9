//! `Masking`: marks the timesteps whose features all equal a padding value.

use super::{Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::expect_batch_of;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis, Ix3, Zip};
use rand::rngs::StdRng;

/// Masks every timestep whose features all equal `mask_value`, as Keras' `Masking`.
///
/// mask[b, t] = (some x[b, t, f] ≠ mask_value); the output is the input with masked steps set
/// to zero, and it carries the mask, which recurrent layers honour by carrying their state
/// through masked steps. This is how float sequences (not token ids) are padded.
///
/// # Shapes
/// Input and output `(batch, steps, features)`; the mask is `(batch, steps)`.
///
/// # Examples
/// Padding steps of −1 in front of a sequence do not change what the recurrent layer returns
/// (both models get the same weights from the same default seed):
/// ```
/// use ndarray::{array, s, Array3};
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let masked_model = |steps: usize| -> rnnkit::Result<Sequential> {
///     let mut model = Sequential::new();
///     model.add(Masking::new(-1.0));
///     model.add(SimpleRnn::new(3));
///     model.build(&[steps, 2])?;
///     Ok(model)
/// };
/// let sequence = array![[[0.5f32, -1.0], [1.0, 0.25], [-0.5, 2.0]]]; // (1, 3, 2)
/// let mut padded = Array3::<f32>::from_elem((1, 5, 2), -1.0);
/// padded.slice_mut(s![.., 2.., ..]).assign(&sequence);
/// let short = masked_model(3)?.predict_batched(&sequence, 1)?;
/// let long = masked_model(5)?.predict_batched(&padded, 1)?;
/// assert!(short.iter().zip(long.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Masking {
    base: LayerBase,
    mask_value: f32,
    cached_mask: Option<Mask>,
}

impl Masking {
    /// Masks steps whose features all equal `mask_value` (Keras' default is 0.0).
    pub fn new(mask_value: f32) -> Self {
        Masking { base: LayerBase::new(), mask_value, cached_mask: None }
    }

    fn step_mask(&self, input: &ArrayViewD<'_, f32>) -> Result<Mask> {
        let input =
            input.view().into_dimensionality::<Ix3>().map_err(|_| Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(batch, steps, features)".into(),
                found: crate::shape::array_shape(input.shape()),
            })?;
        Ok(input.map_axis(Axis(2), |features| features.iter().any(|&v| v != self.mask_value)))
    }
}

impl Layer for Masking {
    fn class_name(&self) -> &'static str {
        "Masking"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([(
            "mask_value".to_string(),
            crate::saving::f32_value(self.mask_value),
        )]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        if input_shape.len() != 2 {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, steps, features)".into(),
                found: crate::shape::keras_shape(input_shape),
            });
        }
        Ok(self.base.built(input_shape, input_shape.to_vec()))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let mask = self.step_mask(&input)?;
        let mut output = input.to_owned();
        zero_masked(&mut output, &mask);
        self.cached_mask = training.then_some(mask);
        Ok(output)
    }

    fn compute_mask(
        &self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        self.step_mask(&input).map(Some)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let mask = self
            .cached_mask
            .as_ref()
            .ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if !input_grad {
            return Ok(None);
        }
        let features = self.base.input_shape.last().copied().unwrap_or(0);
        let (batch, steps) = mask.dim();
        if grad_output.shape() != [batch, steps, features] {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: crate::shape::array_shape(&[batch, steps, features]),
                found: crate::shape::array_shape(grad_output.shape()),
            });
        }
        let mut grad = grad_output.to_owned();
        zero_masked(&mut grad, mask);
        Ok(Some(grad))
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        super::cache::take::<Self, _>(&mut self.cached_mask)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        super::cache::put::<Self, _>(&self.base.name, &mut self.cached_mask, cache)
    }
}

/// Sets every masked `(sample, step)` of a `(batch, steps, features)` array to zero.
fn zero_masked(values: &mut ArrayD<f32>, mask: &Mask) {
    for (mut sample, keep_row) in values.outer_iter_mut().zip(mask.outer_iter()) {
        Zip::from(sample.outer_iter_mut()).and(&keep_row).for_each(|mut step, &keep| {
            if !keep {
                step.fill(0.0);
            }
        });
    }
}
