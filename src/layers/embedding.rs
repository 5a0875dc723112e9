//! `Embedding`: turns token ids into dense vectors by looking up rows of a table.

use super::{not_built, Layer, LayerBase, LookupTable, Mask, Param};
use crate::initializers;
use crate::kernels::for_each_flushed;
use crate::saving::Config;
use crate::shape::expect_batch_of;
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, IxDyn};
use rand::rngs::StdRng;
use rayon::prelude::*;

/// Parts of the table whose gradients are scattered in parallel.
const SCATTER_PARTS: usize = 4;

/// The positions of `rows` whose row falls in each part of `part_rows` rows of the table, in
/// order: a part then reads only its own positions' gradients.
fn positions_by_part(rows: &[usize], part_rows: usize) -> [Vec<usize>; SCATTER_PARTS] {
    let mut by_part: [Vec<usize>; SCATTER_PARTS] = Default::default();
    for (position, &row) in rows.iter().enumerate() {
        by_part[row / part_rows].push(position);
    }
    by_part
}

/// Maps each id `i` of its input to row `i` of a trainable table `embeddings (input_dim,
/// output_dim)`, as Keras' `Embedding`.
///
/// output[b, t] = embeddings[ids[b, t]]. The gradient of the table is dense: row `i` receives
/// the sum of dL/doutput over every position that read it (as Keras' JAX and PyTorch backends;
/// TensorFlow keeps per-occurrence slices instead). With `mask_zero(true)`, id 0 marks padding.
///
/// Ids arrive as `f32` (the model's input type); each must be an integer in `0..input_dim`.
///
/// # Shapes
/// Input `(batch, steps)`; output `(batch, steps, output_dim)`; with `mask_zero`, a `(batch,
/// steps)` mask. Without [`Embedding::input_length`] the first layer of a model takes
/// sequences of any length, a time axis of `None` (Keras' `Input(shape=(None,))`): the
/// summary shows `(None, None, output_dim)`, and `fit`, `evaluate`, `predict` and
/// `train_on_batch` take any number of steps per call. Inside a model, any rank works.
///
/// # Errors
/// `build` returns [`Error::InvalidArgument`] for a zero `input_dim` or `output_dim`, and
/// [`Error::ShapeMismatch`] for `mask_zero` on input that is not `(batch, steps)`. `forward`
/// returns [`Error::IdOutOfRange`] for an id that is negative, fractional, not finite or not
/// below `input_dim`, instead of reading outside the table.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500).mask_zero(true));
/// assert_eq!(model.summary()?.total_params(), 320_000);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Embedding {
    base: LayerBase,
    input_dim: usize,
    output_dim: usize,
    mask_zero: bool,
    embeddings: Option<Param>,
    /// The table to start from instead of random weights (`Embedding::embeddings`).
    initial: Option<Array2<f32>>,
    /// Row of the table read for each input position, kept for the backward scatter.
    cached_ids: Option<Vec<usize>>,
}

impl Embedding {
    /// An embedding of `input_dim` ids (the vocabulary size) into vectors of `output_dim`, for
    /// sequences of any length (a time axis of [`NONE`](crate::layers::NONE)) unless
    /// [`Embedding::input_length`] fixes it. Weights are initialised uniformly in ±0.05 (Keras'
    /// `"uniform"`).
    pub fn new(input_dim: usize, output_dim: usize) -> Self {
        let mut base = LayerBase::new();
        base.declare_input_shape(vec![crate::shape::NONE]);
        Embedding {
            base,
            input_dim,
            output_dim,
            mask_zero: false,
            embeddings: None,
            initial: None,
            cached_ids: None,
        }
    }

    /// Declares the length of the input sequences (Keras 2's `input_length`): the model then
    /// takes only sequences of `steps` ids. Default: any length (`None`).
    pub fn input_length(mut self, steps: usize) -> Self {
        self.base.declare_input_shape(vec![steps]);
        self
    }

    /// Treats id 0 as padding: the output carries a mask that recurrent layers honour.
    /// Default: `false`.
    pub fn mask_zero(mut self, mask_zero: bool) -> Self {
        self.mask_zero = mask_zero;
        self
    }

    /// Starts the table as `matrix` (pretrained word vectors, row `i` for id `i`) instead of
    /// random weights, as Keras' `weights=[matrix]` or
    /// `embeddings_initializer=Constant(matrix)`. With `.trainable(false)` the table stays as
    /// given. `build` returns [`Error::WeightMismatch`] when `matrix` is not `(input_dim,
    /// output_dim)`.
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let matrix = array![[0.0, 0.0], [0.1, 0.2], [0.3, 0.4]];
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(3, 2).input_length(4).embeddings(matrix.clone()).trainable(false));
    /// model.build(&[4])?;
    /// assert_eq!(model.get_weights()[0], matrix.into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    pub fn embeddings(mut self, matrix: Array2<f32>) -> Self {
        self.initial = Some(matrix);
        self
    }

    /// Whether the optimizer updates the table. Default: `true`.
    pub fn trainable(mut self, trainable: bool) -> Self {
        self.base.trainable = trainable;
        self
    }

    /// Checks every id and converts it to a row index.
    fn row_indices(&self, ids: &ArrayViewD<'_, f32>) -> Result<Vec<usize>> {
        let limit = self.input_dim as f32;
        let mut rows = Vec::with_capacity(ids.len());
        for &id in ids.iter() {
            // Rejects NaN, infinities, negatives, fractions and ids past the table in one test.
            if !(id >= 0.0 && id < limit && id.fract() == 0.0) {
                return Err(Error::IdOutOfRange {
                    layer: self.base.name.clone(),
                    value: id,
                    input_dim: self.input_dim,
                });
            }
            rows.push(id as usize);
        }
        Ok(rows)
    }
}

impl Layer for Embedding {
    fn class_name(&self) -> &'static str {
        "Embedding"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([
            ("input_dim".to_string(), self.input_dim.into()),
            ("output_dim".to_string(), self.output_dim.into()),
            ("mask_zero".to_string(), self.mask_zero.into()),
        ]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.input_dim == 0 {
            return Err(Error::invalid("input_dim", "a positive integer", self.input_dim));
        }
        if self.output_dim == 0 {
            return Err(Error::invalid("output_dim", "a positive integer", self.output_dim));
        }
        if self.mask_zero && input_shape.len() != 1 {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, steps) with mask_zero".into(),
                found: crate::shape::keras_shape(input_shape),
            });
        }
        initializers::check_sizes(
            &self.base.name,
            "input_dim/output_dim",
            &[&[self.input_dim, self.output_dim]],
        )?;
        let table = match &self.initial {
            Some(matrix) if matrix.dim() != (self.input_dim, self.output_dim) => {
                return Err(Error::WeightMismatch {
                    layer: self.base.name.clone(),
                    index: 0,
                    expected: format!(
                        "embeddings ({}, {}) (input_dim, output_dim)",
                        self.input_dim, self.output_dim
                    ),
                    found: crate::shape::array_shape(matrix.shape()),
                })
            }
            Some(matrix) => matrix.clone().into_dyn(),
            None => initializers::uniform(&[self.input_dim, self.output_dim], rng),
        };
        self.embeddings = Some(Param::new("embeddings", table));
        let output_shape = input_shape.iter().copied().chain([self.output_dim]).collect();
        Ok(self.base.built(input_shape, output_shape))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        let rows = self.checked_rows(&input)?;
        let table = &self.embeddings.as_ref().ok_or_else(|| not_built(&self.base.name))?.value;
        let mut out_shape = input.shape().to_vec();
        out_shape.push(self.output_dim);
        let mut output = ArrayD::zeros(IxDyn(&out_shape));
        let flat = output.as_slice_mut().ok_or_else(|| not_built(&self.base.name))?;
        let table = table.as_slice().ok_or_else(|| not_built(&self.base.name))?;
        let width = self.output_dim;
        flat.par_chunks_exact_mut(width).zip(rows.par_iter()).for_each(|(chunk, &row)| {
            chunk.copy_from_slice(&table[row * width..(row + 1) * width]);
        });
        self.cached_ids = if training { Some(rows) } else { None };
        Ok(output)
    }

    fn lookup_table(&self) -> Option<&dyn LookupTable> {
        Some(self)
    }

    fn compute_mask(
        &self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        if !self.mask_zero {
            return Ok(mask.cloned());
        }
        let found = crate::shape::array_shape(input.shape());
        let ids =
            input.into_dimensionality::<ndarray::Ix2>().map_err(|_| Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(batch, steps) with mask_zero".into(),
                found,
            })?;
        Ok(Some(ids.mapv(|id| id != 0.0)))
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        _input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let rows = self
            .cached_ids
            .as_ref()
            .ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let param = self.embeddings.as_mut().ok_or_else(|| not_built(&self.base.name))?;
        let width = self.output_dim;
        if grad_output.len() != rows.len() * width {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: format!("a gradient with {} values", rows.len() * width),
                found: crate::shape::array_shape(grad_output.shape()),
            });
        }
        // Scatter-add: each position adds its gradient into the row it read.
        let grad_output = grad_output.as_standard_layout();
        let (Some(grads), Some(table_grad)) = (grad_output.as_slice(), param.grad.as_slice_mut())
        else {
            return Err(not_built(&self.base.name));
        };
        // Parts of the table are updated in parallel, each from its own positions in order:
        // the sums do not depend on the thread count.
        let part_rows = self.input_dim.div_ceil(SCATTER_PARTS).max(1);
        let by_part = positions_by_part(rows, part_rows);
        let parts = table_grad.par_chunks_mut(part_rows * width).zip(by_part.par_iter());
        for_each_flushed(parts, |(target, positions)| {
            for &position in positions {
                let local = rows[position] % part_rows;
                let g = &grads[position * width..(position + 1) * width];
                let target = &mut target[local * width..(local + 1) * width];
                target.iter_mut().zip(g).for_each(|(t, g)| *t += g);
            }
        });
        Ok(None)
    }

    fn params(&self) -> Vec<&Param> {
        self.embeddings.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.embeddings.iter_mut().collect()
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        super::cache::take::<Self, _>(&mut self.cached_ids)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        super::cache::put::<Self, _>(&self.base.name, &mut self.cached_ids, cache)
    }
}

impl LookupTable for Embedding {
    fn table(&self) -> Option<ArrayView2<'_, f32>> {
        self.embeddings.as_ref()?.value.view().into_dimensionality().ok()
    }

    fn checked_rows(&self, ids: &ArrayViewD<'_, f32>) -> Result<Vec<usize>> {
        if self.embeddings.is_none() {
            return Err(not_built(&self.base.name));
        }
        expect_batch_of(&self.base.name, &self.base.input_shape, ids.shape())?;
        self.row_indices(ids)
    }
}
