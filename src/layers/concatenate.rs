//! `Concatenate`: joins a list of inputs along one axis.

use super::layer::ForwardCache;
use super::multi_input::{check_grads, check_inputs, takes_a_list};
use super::{Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::{keras_shape, NONE};
use crate::{Error, Result};
use ndarray::{concatenate, ArrayD, ArrayViewD, Axis, Zip};
use rand::rngs::StdRng;

/// Concatenates a list of inputs along `axis`, as Keras' `Concatenate(axis=-1)`: every input has
/// the same shape except along that axis, and the output's size along it is the sum of theirs.
///
/// `axis` counts the batch axis as Keras does (`1` is the steps of a `(batch, steps, features)`
/// input, `-1` the last axis); the batch axis itself cannot be joined.
///
/// Masks as Keras': when any input has a mask (inputs `(batch, steps, features)`), an input
/// without one counts as unmasked, and the output's mask is the masks joined along the steps
/// (`axis` 1) or, along the features, their logical or (a step is real when it is real in any
/// input). Without masks the output has none.
///
/// # Shapes
/// Inputs `(batch, ..., d_i, ...)`; output `(batch, ..., Σ d_i, ...)`.
///
/// # Examples
/// ```
/// use ndarray::{array, ArrayD};
/// use rand::{rngs::StdRng, SeedableRng};
/// use rnnkit::layers::{Concatenate, Layer};
/// # fn main() -> rnnkit::Result<()> {
/// let mut layer = Concatenate::new();
/// layer.build_multi(&[vec![2], vec![3]], &mut StdRng::seed_from_u64(0))?;
/// let a: ArrayD<f32> = array![[1.0, 2.0]].into_dyn();
/// let b: ArrayD<f32> = array![[3.0, 4.0, 5.0]].into_dyn();
/// let out = layer.forward_multi(&[a.view(), b.view()], &[None, None], false)?;
/// assert_eq!(out[0], array![[1.0, 2.0, 3.0, 4.0, 5.0]].into_dyn());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Concatenate {
    base: LayerBase,
    axis: isize,
    /// The per-sample shapes the layer was built for, one per input.
    input_shapes: Vec<Vec<usize>>,
    cache: Option<SplitCache>,
}

/// What a training-mode forward keeps: where each input sits along the axis.
#[derive(Clone, Debug)]
struct SplitCache {
    sizes: Vec<usize>,
    output_shape: Vec<usize>,
}

impl Default for Concatenate {
    fn default() -> Self {
        Concatenate::new()
    }
}

impl Concatenate {
    /// Concatenates along the last axis (Keras' default `axis=-1`).
    pub fn new() -> Self {
        Concatenate { base: LayerBase::new(), axis: -1, input_shapes: Vec::new(), cache: None }
    }

    /// The axis to join along, counting the batch axis as 0 (negative counts from the end).
    /// Default: -1.
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }

    /// The axis of a batched array of `rank` axes (1..rank), or the error for the batch axis or
    /// an axis out of range.
    fn resolved_axis(&self, rank: usize) -> Result<usize> {
        let axis = if self.axis < 0 { self.axis + rank as isize } else { self.axis };
        if axis < 1 || axis >= rank as isize {
            return Err(Error::invalid(
                "axis",
                format!(
                    "an axis of the inputs other than the batch axis (1..{rank} or -{}..-1) for \
                     layer '{}'",
                    rank - 1,
                    self.base.name
                ),
                self.axis,
            ));
        }
        Ok(axis as usize)
    }

    fn mismatch(&self, shapes: &[Vec<usize>]) -> Error {
        let found: Vec<String> = shapes.iter().map(|s| keras_shape(s)).collect();
        Error::ShapeMismatch {
            layer: self.base.name.clone(),
            expected: format!(
                "inputs with matching shapes except along the concatenation axis ({})",
                self.axis
            ),
            found: found.join(", "),
        }
    }
}

impl Layer for Concatenate {
    fn class_name(&self) -> &'static str {
        "Concatenate"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([("axis".to_string(), (self.axis as i64).into())]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, _input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        Err(takes_a_list(&self.base.name, self.class_name(), "at least one tensor"))
    }

    fn forward(
        &mut self,
        _input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        _training: bool,
    ) -> Result<ArrayD<f32>> {
        Err(takes_a_list(&self.base.name, self.class_name(), "at least one tensor"))
    }

    fn backward(
        &mut self,
        _grad_output: ArrayViewD<'_, f32>,
        _input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        Err(takes_a_list(&self.base.name, self.class_name(), "at least one tensor"))
    }

    fn build_multi(
        &mut self,
        input_shapes: &[Vec<usize>],
        _rng: &mut StdRng,
    ) -> Result<Vec<Vec<usize>>> {
        let Some(first) = input_shapes.first() else {
            return Err(Error::invalid(
                format!("inputs of layer '{}'", self.base.name),
                "a list of at least one input",
                0,
            ));
        };
        let axis = self.resolved_axis(first.len() + 1)?;
        if input_shapes.iter().any(|s| s.len() != first.len()) {
            return Err(self.mismatch(input_shapes));
        }
        // The output takes the first input's sizes (Keras' shape, `None` included) and the sum
        // along the axis; the known sizes of every other axis must agree.
        let mut output = first.clone();
        let mut known = first.clone();
        for shape in &input_shapes[1..] {
            for (dim, ((out, seen), &d)) in output.iter_mut().zip(&mut known).zip(shape).enumerate()
            {
                if dim + 1 == axis {
                    *out = if *out == NONE || d == NONE { NONE } else { *out + d };
                } else if *seen == NONE {
                    *seen = d;
                } else if d != NONE && d != *seen {
                    return Err(self.mismatch(input_shapes));
                }
            }
        }
        self.input_shapes = input_shapes.to_vec();
        Ok(vec![self.base.built(first, output)])
    }

    fn forward_multi(
        &mut self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
        training: bool,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.base.built_input()?;
        check_inputs(&self.base.name, &self.input_shapes, inputs, masks)?;
        let axis = self.resolved_axis(inputs[0].ndim())?;
        let output = concatenate(Axis(axis), inputs).map_err(|_| {
            self.mismatch(&inputs.iter().map(|x| x.shape()[1..].to_vec()).collect::<Vec<_>>())
        })?;
        self.cache = training.then(|| SplitCache {
            sizes: inputs.iter().map(|x| x.shape()[axis]).collect(),
            output_shape: output.shape().to_vec(),
        });
        Ok(vec![output])
    }

    fn backward_multi(
        &mut self,
        grad_outputs: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        check_grads(&self.base.name, grad_outputs, &[&cache.output_shape])?;
        if !input_grads {
            return Ok(vec![None; cache.sizes.len()]);
        }
        let axis = self.resolved_axis(cache.output_shape.len())?;
        let mut start = 0;
        let grads = cache
            .sizes
            .iter()
            .map(|&size| {
                let part = grad_outputs[0].slice_axis(Axis(axis), (start..start + size).into());
                start += size;
                Some(part.to_owned())
            })
            .collect();
        Ok(grads)
    }

    fn compute_mask_multi(
        &self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        check_inputs(&self.base.name, &self.input_shapes, inputs, masks)?;
        if masks.iter().all(Option::is_none) {
            return Ok(vec![None]);
        }
        let axis = self.resolved_axis(inputs[0].ndim())?;
        let batch = inputs[0].shape()[0];
        let full = |input: &ArrayViewD<'_, f32>| Mask::from_elem((batch, input.shape()[1]), true);
        let mask = if axis == 1 {
            let parts: Vec<Mask> = masks
                .iter()
                .zip(inputs)
                .map(|(mask, input)| mask.map_or_else(|| full(input), |m| m.clone()))
                .collect();
            let views: Vec<_> = parts.iter().map(|m| m.view()).collect();
            concatenate(Axis(1), &views).map_err(|_| self.mismatch(&[]))?
        } else {
            let mut any = Mask::from_elem((batch, inputs[0].shape()[1]), false);
            for (mask, input) in masks.iter().zip(inputs) {
                match mask {
                    Some(mask) => Zip::from(&mut any).and(*mask).for_each(|a, &m| *a |= m),
                    None => any.assign(&full(input)),
                }
            }
            any
        };
        Ok(vec![Some(mask)])
    }

    fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        self.cache.take().map(|cache| Box::new(cache) as ForwardCache)
    }

    fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        let cache = cache
            .downcast::<SplitCache>()
            .map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        self.cache = Some(*cache);
        Ok(())
    }
}
