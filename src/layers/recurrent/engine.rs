//! The engine of the recurrent loop: forward and backward of a batch through the chunks of
//! `steps.rs`, and inference through a folded `Embedding` table.

use super::dropout::{ChunkDropout, DropoutMasks};
use super::steps::{chunk_rows, Chunk, ChunkInput};
use super::weights::{ChunkGradients, Packed};
use super::{Cell, Rnn};
use crate::kernels::{self, FlushDenormals};
use crate::layers::{not_built, Mask};
use crate::shape::{array_shape, expect_batch_of};
use crate::{Error, Result};
use ndarray::{s, Array3, ArrayD, ArrayView2, ArrayViewD, ArrayViewMut3, Axis, CowArray, Ix3};
use rayon::prelude::*;

/// What `forward` keeps for `backward`, and the buffers the next call reuses.
#[derive(Clone, Debug)]
pub(super) struct RnnCache {
    /// The input, `(batch, steps, input_dim)`; empty after an inference-mode forward.
    input: Array3<f32>,
    /// The buffers of each chunk of samples.
    chunks: Vec<Chunk>,
    mask: Option<Mask>,
    /// The dropout masks of the last training-mode forward (empty without dropout).
    dropout: DropoutMasks,
    /// The order in which the chunks took the samples ([`Rnn::chunk_order`]), if not as given;
    /// `input`, `mask` and the chunks' buffers are in that order.
    order: Option<Vec<usize>>,
    /// Whether `forward` ran in training mode.
    training: bool,
}

impl<C: Cell> Rnn<C> {
    pub(crate) fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
        let _flush = FlushDenormals::new();
        expect_batch_of(&self.name, &self.input_shape, input.shape())?;
        let input = input.into_dimensionality::<Ix3>().map_err(|_| not_built(&self.name))?;
        let (batch, steps, features) = input.dim();
        let (weights, mut cache) = self.prepare(batch, steps, features, mask)?;
        let order = self.chunk_order(mask);
        let reordered_mask = order.as_ref().zip(mask).map(|(order, m)| m.select(Axis(0), order));
        let mask = reordered_mask.as_ref().or(mask);
        // Backward needs the input, kept (in the chunks' order) in the cache's buffer; inference
        // reads it in place unless the samples are reordered.
        let mut kept = std::mem::replace(&mut cache.input, Array3::zeros((0, 0, 0)));
        let input = if training || order.is_some() {
            if kept.dim() != input.dim() {
                kept = Array3::zeros(input.dim());
            }
            match &order {
                Some(order) => {
                    for (position, &sample) in order.iter().enumerate() {
                        let row = input.index_axis(Axis(0), sample);
                        kept.index_axis_mut(Axis(0), position).assign(&row);
                    }
                }
                None => kept.assign(&input),
            }
            CowArray::from(kept.view())
        } else {
            input.as_standard_layout()
        };
        let output = match input.as_slice() {
            Some(x) => {
                self.run(&mut cache, &weights, ChunkInput::Features(x), steps, mask, training)
            }
            None => Err(not_built(&self.name)),
        };
        drop(input);
        cache.input = kept;
        let output = output.map(|output| restore_order(output, order.as_deref()));
        cache.order = order;
        self.finish(cache, mask, training);
        output
    }

    /// The order in which the chunks take a batch's samples when a mask pads the first steps
    /// (in reading order) of some: by the number of such steps, fewest first, so that the samples
    /// of a chunk pad alike and the chunk skips nearly as many steps as each of them could,
    /// rather than as few as the longest of 8 samples in any order. `None` without a mask, or
    /// when the batch is in that order already.
    fn chunk_order(&self, mask: Option<&Mask>) -> Option<Vec<usize>> {
        let mask = mask?;
        let steps = mask.ncols();
        let padded: Vec<usize> = mask
            .rows()
            .into_iter()
            .map(|row| {
                let step = |k: usize| if self.go_backwards { steps - 1 - k } else { k };
                (0..steps).take_while(|&k| !row[step(k)]).count()
            })
            .collect();
        let mut order: Vec<usize> = (0..padded.len()).collect();
        // Longest first: the chunks with the most steps to run start first, which balances
        // the threads. Stable: samples that pad alike keep their order.
        order.sort_by_key(|&sample| padded[sample]);
        order.iter().enumerate().any(|(position, &sample)| position != sample).then_some(order)
    }

    /// Inference on token ids through an `Embedding`'s table folded by [`Rnn::fold`]: `rows`
    /// holds the table row of each id of a `(batch, steps)` batch. Gives the same output, bit
    /// for bit, as `forward` on the Embedding's output, without the input projection's products.
    pub(crate) fn forward_folded(
        &mut self,
        rows: &[usize],
        (batch, steps): (usize, usize),
        table: &[f32],
        mask: Option<&Mask>,
    ) -> Result<ArrayD<f32>> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
        let _flush = FlushDenormals::new();
        let features = self.input_shape.get(1).copied().unwrap_or(0);
        expect_batch_of(&self.name, &self.input_shape, &[batch, steps, features])?;
        let table_rows = table.len() / (C::LAYOUT.gates * self.units);
        if rows.len() != batch * steps || rows.iter().any(|&row| row >= table_rows) {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (folded input)", self.name),
                expected: format!("{} rows below {table_rows}", batch * steps),
                found: array_shape(&[rows.len()]),
            });
        }
        let (weights, mut cache) = self.prepare(batch, steps, features, mask)?;
        let order = self.chunk_order(mask);
        let reordered_mask = order.as_ref().zip(mask).map(|(order, m)| m.select(Axis(0), order));
        let mask = reordered_mask.as_ref().or(mask);
        let reordered_rows: Option<Vec<usize>> = order.as_ref().map(|order| {
            order
                .iter()
                .flat_map(|&sample| &rows[sample * steps..(sample + 1) * steps])
                .copied()
                .collect()
        });
        let rows = reordered_rows.as_deref().unwrap_or(rows);
        let input = ChunkInput::Folded { rows, table };
        let output = self.run(&mut cache, &weights, input, steps, mask, false);
        let output = output.map(|output| restore_order(output, order.as_deref()));
        cache.order = order;
        self.finish(cache, mask, false);
        output
    }

    /// Values per row of a folded table: `GATES·units`.
    pub(crate) fn folded_width(&self) -> usize {
        C::LAYOUT.gates * self.units
    }

    /// An `Embedding`'s table `(input_dim, features)` folded into the input projection:
    /// `(input_dim, GATES·units)`, bias + E_v·W_g for each row v and gate g, computed as the
    /// loop computes it for a step whose input is E_v (see [`Rnn::forward_folded`]).
    pub(crate) fn fold(&self, table: ArrayView2<'_, f32>) -> Result<Vec<f32>> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
        let _flush = FlushDenormals::new();
        let (input_dim, features) = table.dim();
        let weights = Packed::new::<C>(&self.name, &self.weights, features, self.units)?;
        let table = table.as_standard_layout();
        let table = table.as_slice().ok_or_else(|| not_built(&self.name))?;
        let (units, width) = (self.units, C::LAYOUT.gates * self.units);
        let mut folded = vec![0.0; input_dim * width];
        // Blocks of table rows in parallel; each row's values do not depend on the blocking.
        const ROWS: usize = 256;
        folded.par_chunks_mut(ROWS * width).zip(table.par_chunks(ROWS * features)).for_each(
            |(out, rows)| {
                let _flush = FlushDenormals::new();
                for row in out.chunks_exact_mut(width) {
                    row.copy_from_slice(&weights.step_init[..width]);
                }
                let count = rows.len() / features;
                for g in 0..C::LAYOUT.gates {
                    let kernel = weights.kernel_gate(g);
                    let into = &mut out[g * units..];
                    kernels::add_matmul(
                        count, features, units, rows, features, kernel, into, width,
                    );
                }
            },
        );
        Ok(folded)
    }

    /// Checks the mask and the weights, and takes the cache with buffers for chunks of a
    /// `(batch, steps)` batch.
    fn prepare(
        &mut self,
        batch: usize,
        steps: usize,
        features: usize,
        mask: Option<&Mask>,
    ) -> Result<(Packed, RnnCache)> {
        let weights = Packed::new::<C>(&self.name, &self.weights, features, self.units)?;
        if let Some(mask) = mask {
            if mask.dim() != (batch, steps) {
                return Err(Error::ShapeMismatch {
                    layer: format!("{} (mask)", self.name),
                    expected: array_shape(&[batch, steps]),
                    found: array_shape(mask.shape()),
                });
            }
        }
        let units = self.units;
        // Buffers of the previous call are reused when the batch shape repeats.
        let mut cache = match self.cache.take() {
            Some(cache) => cache,
            None => RnnCache {
                input: Array3::zeros((0, steps, features)),
                chunks: Vec::new(),
                mask: None,
                dropout: DropoutMasks::default(),
                order: None,
                training: false,
            },
        };
        let chunk = chunk_rows(units);
        let sizes: Vec<usize> = (0..batch).step_by(chunk).map(|b| chunk.min(batch - b)).collect();
        let fits = cache.chunks.len() == sizes.len()
            && cache.chunks.iter().zip(&sizes).all(|(c, &rows)| c.fits(rows, steps, units));
        if !fits {
            cache.chunks = sizes.iter().map(|&rows| Chunk::new::<C>(rows, steps, units)).collect();
        }
        Ok((weights, cache))
    }

    /// Runs the recurrence of every chunk on its samples of `input` (`steps` long: this call's
    /// length, which a layer built for sequences of any length does not fix) and returns the
    /// layer's output.
    fn run(
        &mut self,
        cache: &mut RnnCache,
        weights: &Packed,
        input: ChunkInput<'_>,
        steps: usize,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        let batch: usize = cache.chunks.iter().map(Chunk::rows).sum();
        let units = self.units;
        let features = self.input_shape.get(1).copied().unwrap_or(0);
        // Masks are drawn for the whole batch in sample order, before the parallel part.
        if training {
            self.dropout.draw(&mut cache.dropout, batch, features, units, C::LAYOUT.gates);
        }
        let dropout = &cache.dropout;
        let mut output = if self.return_sequences {
            ArrayD::zeros(vec![batch, steps, units])
        } else {
            ArrayD::zeros(vec![batch, units])
        };
        // Chunks of samples run in parallel; each chunk's arithmetic is independent of how many
        // threads there are, so results are too.
        let chunk_len = chunk_rows(units);
        let mut work: Vec<_> =
            cache.chunks.iter_mut().zip(output.axis_chunks_iter_mut(Axis(0), chunk_len)).collect();
        let this = &*self;
        work.par_iter_mut().enumerate().try_for_each(|(index, (chunk, out))| {
            let _flush = FlushDenormals::new();
            let rows = index * chunk_len..index * chunk_len + chunk.rows();
            let masks = if training { dropout.rows(rows.clone()) } else { ChunkDropout::NONE };
            let input = input.samples(rows.clone(), steps, features);
            let mask = mask.map(|m| m.slice(s![rows, ..]));
            let out = out.as_slice_mut().ok_or_else(|| not_built(&this.name))?;
            chunk.forward(&this.cell, weights, this.go_backwards, input, mask, masks);
            chunk.write_output(this.go_backwards, this.return_sequences, out);
            Ok(())
        })?;
        Ok(output)
    }

    /// Keeps the cache (buffers, and what `backward` needs after a training-mode pass).
    fn finish(&mut self, mut cache: RnnCache, mask: Option<&Mask>, training: bool) {
        cache.mask = mask.cloned();
        cache.training = training;
        self.cache = Some(cache);
    }

    pub(crate) fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let mut cache = match self.cache.take() {
            Some(cache) if cache.training => cache,
            other => {
                self.cache = other;
                return Err(Error::NoForwardCache(self.name.clone()));
            }
        };
        let _flush = FlushDenormals::new();
        let result = self.backward_with(&mut cache, grad_output, input_grad);
        self.cache = Some(cache);
        result
    }

    fn backward_with(
        &mut self,
        cache: &mut RnnCache,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let (batch, steps, features) = cache.input.dim();
        let units = self.units;
        let expected: &[usize] =
            if self.return_sequences { &[batch, steps, units] } else { &[batch, units] };
        if grad_output.shape() != expected {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.name),
                expected: array_shape(expected),
                found: array_shape(grad_output.shape()),
            });
        }
        let weights = Packed::new::<C>(&self.name, &self.weights, features, units)?;
        let grad_output = match &cache.order {
            Some(order) => CowArray::from(grad_output.select(Axis(0), order)),
            None => grad_output.as_standard_layout(),
        };
        let chunk_len = chunk_rows(units);
        let mut d_input = input_grad.then(|| Array3::<f32>::zeros((batch, steps, features)));
        let mut d_input_chunks: Vec<Option<ArrayViewMut3<'_, f32>>> = match &mut d_input {
            Some(d) => d.axis_chunks_iter_mut(Axis(0), chunk_len).map(Some).collect(),
            None => cache.chunks.iter().map(|_| None).collect(),
        };
        let mut work: Vec<_> = cache
            .chunks
            .iter_mut()
            .zip(cache.input.axis_chunks_iter(Axis(0), chunk_len))
            .zip(grad_output.axis_chunks_iter(Axis(0), chunk_len))
            .zip(d_input_chunks.iter_mut())
            .enumerate()
            .collect();
        let mask = cache.mask.as_ref();
        let dropout = &cache.dropout;
        let this = &*self;
        let partials: Vec<Option<ChunkGradients>> = work
            .par_iter_mut()
            .map(|(index, (((chunk, x), grad), d_input))| {
                let _flush = FlushDenormals::new();
                let rows = *index * chunk_len..*index * chunk_len + x.len_of(Axis(0));
                let masks = dropout.rows(rows.clone());
                let mask = mask.map(|m| m.slice(s![rows, ..]));
                let d_input = match d_input {
                    Some(d) => Some(d.as_slice_mut()?),
                    None => None,
                };
                Some(chunk.backward(
                    &this.cell,
                    &weights,
                    this.go_backwards,
                    this.return_sequences,
                    x.as_slice()?,
                    mask,
                    masks,
                    grad.as_slice()?,
                    d_input,
                ))
            })
            .collect();
        drop(work);

        // Reduce the chunks' weight gradients in chunk order: the sum does not depend on the
        // number of threads.
        for partial in partials {
            let partial = partial.ok_or_else(|| not_built(&self.name))?;
            partial.add_into(&mut self.weights, units, C::LAYOUT.gates);
        }
        Ok(d_input.map(|d| restore_order(d.into_dyn(), cache.order.as_deref())))
    }
}

/// `values` (samples along the first axis) in the order of the batch, from the chunks' order
/// `order` ([`Rnn::chunk_order`]).
fn restore_order(values: ArrayD<f32>, order: Option<&[usize]>) -> ArrayD<f32> {
    let Some(order) = order else { return values };
    let mut position_of = vec![0; order.len()];
    for (position, &sample) in order.iter().enumerate() {
        position_of[sample] = position;
    }
    values.select(Axis(0), &position_of)
}
