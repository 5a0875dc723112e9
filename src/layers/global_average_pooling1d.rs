//! `GlobalAveragePooling1D`: the mean of a sequence over its steps.

use super::{not_built, Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
use ndarray::{Array2, Array3, ArrayD, ArrayViewD, Ix2, Ix3};
use rand::rngs::StdRng;

/// Averages `(batch, steps, features)` over the steps, as Keras' `GlobalAveragePooling1D`.
///
/// With a mask only the real steps count: `y[b] = Σₜ mask[b, t]·x[b, t] / Σₜ mask[b, t]`. As in
/// Keras, a sample whose steps are all masked divides zero by zero and gives NaN. The output
/// carries no mask.
///
/// # Shapes
/// Input `(batch, steps, features)`; output `(batch, features)`.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(1000, 16).input_length(20).mask_zero(true));
/// model.add(GlobalAveragePooling1D::new());
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// assert_eq!(model.summary()?.total_params(), 16_017);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct GlobalAveragePooling1D {
    base: LayerBase,
    /// Per sample and step, the weight of the step in the mean (1/steps, or mask/count).
    cached_weights: Option<Array2<f32>>,
}

impl GlobalAveragePooling1D {
    /// A global average pooling over the steps.
    pub fn new() -> Self {
        GlobalAveragePooling1D::default()
    }

    /// The weight of each step in each sample's mean.
    fn step_weights(batch: usize, steps: usize, mask: Option<&Mask>) -> Array2<f32> {
        match mask {
            None => Array2::from_elem((batch, steps), 1.0 / steps as f32),
            Some(mask) => {
                let mut weights = mask.mapv(|real| if real { 1.0f32 } else { 0.0 });
                for mut row in weights.rows_mut() {
                    let count = row.sum();
                    row.mapv_inplace(|m| m / count);
                }
                weights
            }
        }
    }
}

impl Layer for GlobalAveragePooling1D {
    fn class_name(&self) -> &'static str {
        "GlobalAveragePooling1D"
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
        match *input_shape {
            [steps, features] if steps > 0 => Ok(self.base.built(input_shape, vec![features])),
            _ => Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, steps, features) with steps > 0".into(),
                found: keras_shape(input_shape),
            }),
        }
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let input = input.into_dimensionality::<Ix3>().map_err(|_| not_built(&self.base.name))?;
        let (batch, steps, features) = input.dim();
        if let Some(mask) = mask.filter(|m| m.dim() != (batch, steps)) {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (mask)", self.base.name),
                expected: array_shape(&[batch, steps]),
                found: array_shape(mask.shape()),
            });
        }
        let weights = Self::step_weights(batch, steps, mask);
        let mut output = Array2::<f32>::zeros((batch, features));
        for ((mut out, sample), w) in
            output.rows_mut().into_iter().zip(input.outer_iter()).zip(weights.rows())
        {
            // Masked steps are skipped, not multiplied by zero, so their values never matter.
            for (step, &w) in sample.outer_iter().zip(&w) {
                if w != 0.0 {
                    out.scaled_add(w, &step);
                }
            }
        }
        self.cached_weights = training.then_some(weights);
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
        let weights = self
            .cached_weights
            .as_ref()
            .ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let (batch, steps) = weights.dim();
        let features = self.base.output_shape().map_or(0, |s| s[0]);
        let found = array_shape(grad_output.shape());
        let grad = grad_output
            .into_dimensionality::<Ix2>()
            .ok()
            .filter(|g| g.dim() == (batch, features))
            .ok_or_else(|| Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: array_shape(&[batch, features]),
                found,
            })?;
        if !input_grad {
            return Ok(None);
        }
        let mut d_input = Array3::<f32>::zeros((batch, steps, features));
        for ((mut sample, g), w) in
            d_input.outer_iter_mut().zip(grad.outer_iter()).zip(weights.rows())
        {
            for (mut step, &w) in sample.outer_iter_mut().zip(&w) {
                if w != 0.0 {
                    step.scaled_add(w, &g);
                }
            }
        }
        Ok(Some(d_input.into_dyn()))
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        super::cache::take::<Self, _>(&mut self.cached_weights)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        super::cache::put::<Self, _>(&self.base.name, &mut self.cached_weights, cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_weights_follow_the_mask() {
        let mask = ndarray::arr2(&[[true, false, true, true], [false, false, false, false]]);
        let weights = GlobalAveragePooling1D::step_weights(2, 4, Some(&mask));
        assert_eq!(weights.row(0).to_vec(), vec![1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0]);
        assert!(weights.row(1).iter().all(|w| w.is_nan()));
        let plain = GlobalAveragePooling1D::step_weights(1, 4, None);
        assert!(plain.iter().all(|&w| w == 0.25));
    }
}
