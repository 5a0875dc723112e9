//! The engine of the recurrent loop: forward and backward of a batch through the chunks of
//! `steps.rs`, and inference through a folded `Embedding` table.

use super::dropout::{ChunkDropout, DropoutMasks};
use super::shared_step::{self, SharedSteps};
use super::steps::{chunk_rows, inference_chunk_rows, Chunk, ChunkInput, Keep, StateRows};
use super::weights::{ChunkGradients, Packed, Pass};
use super::{Cell, Rnn};
use crate::kernels::{self, FlushDenormals};
use crate::layers::{not_built, Mask};
use crate::shape::{array_shape, expect_batch_of};
use crate::{Error, Result};
use ndarray::{
    s, Array2, Array3, ArrayD, ArrayView2, ArrayViewD, ArrayViewMut3, Axis, CowArray, Ix3,
};
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
    /// Whether `forward` started from given initial states (rather than zeros).
    from_states: bool,
}

/// What a backward returns: dL/dinput, and an entry per initial state of the forward (h, then
/// c), `None` where no gradient was asked for.
type Gradients = (Option<ArrayD<f32>>, Vec<Option<ArrayD<f32>>>);

/// The states of a batch in chunk order, one `(batch, units)` block per state (h, then c for a
/// cell that carries one; c empty otherwise), flattened.
struct BatchStates {
    h: Vec<f32>,
    c: Vec<f32>,
}

impl BatchStates {
    /// The rows of samples `rows` (`units` values each).
    fn rows(&self, rows: std::ops::Range<usize>, units: usize) -> StateRows<'_> {
        let span = rows.start * units..rows.end * units;
        StateRows {
            h: &self.h[span.clone()],
            c: if self.c.is_empty() { &[] } else { &self.c[span] },
        }
    }
}

impl<C: Cell> Rnn<C> {
    /// The number of states the cell carries: 1 (h), or 2 (h and c).
    pub(crate) fn state_count(&self) -> usize {
        1 + usize::from(C::LAYOUT.carry)
    }

    pub(crate) fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        self.forward_from(input, mask, &[], training, false).map(|(output, _)| output)
    }

    /// As [`Rnn::forward`], from the states `initial` (`(batch, units)` each, h then c; none:
    /// zeros), and with the last states after the output when `return_states` is true.
    pub(crate) fn forward_from(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        initial: &[ArrayView2<'_, f32>],
        training: bool,
        return_states: bool,
    ) -> Result<(ArrayD<f32>, Vec<ArrayD<f32>>)> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
        let _flush = FlushDenormals::new();
        expect_batch_of(&self.name, &self.input_shape, input.shape())?;
        let input = input.into_dimensionality::<Ix3>().map_err(|_| not_built(&self.name))?;
        let (batch, steps, features) = input.dim();
        let (weights, mut cache) = self.prepare(batch, steps, features, mask, training)?;
        let order = self.chunk_order(mask);
        let initial = match self.batch_states("initial state", initial, batch, order.as_deref()) {
            Ok(initial) => initial,
            Err(error) => {
                // The buffers stay for the next call, but no backward may read them: `prepare`
                // may have laid them out anew for this call.
                cache.training = false;
                self.cache = Some(cache);
                return Err(error);
            }
        };
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
                let x = ChunkInput::Features(x);
                self.run(&mut cache, &weights, x, steps, mask, initial.as_ref(), training)
            }
            None => Err(not_built(&self.name)),
        };
        drop(input);
        cache.input = kept;
        let result = output.map(|mut output| {
            if let (Some(mask), true) = (mask, initial.is_some()) {
                self.zero_unstarted(output.view_mut(), mask);
            }
            let states = if return_states { self.last_states(&cache) } else { Vec::new() };
            let restore = |values| restore_order(values, order.as_deref());
            (restore(output), states.into_iter().map(restore).collect())
        });
        cache.order = order;
        cache.from_states = initial.is_some();
        self.finish(cache, weights, mask, training);
        result
    }

    /// Checks `states` (none, or one `(batch, units)` array per state of the cell) and lays
    /// them out in the chunks' order; `what` names them in errors. `None` for no states.
    fn batch_states(
        &self,
        what: &str,
        states: &[ArrayView2<'_, f32>],
        batch: usize,
        order: Option<&[usize]>,
    ) -> Result<Option<BatchStates>> {
        if states.is_empty() {
            return Ok(None);
        }
        if states.len() != self.state_count() {
            return Err(Error::InvalidArgument {
                name: format!("{what}s of layer '{}'", self.name),
                expected: format!("{} array(s), one per state", self.state_count()),
                got: states.len().to_string(),
            });
        }
        if let Some(state) = states.iter().find(|state| state.dim() != (batch, self.units)) {
            return Err(Error::ShapeMismatch {
                layer: format!("{} ({what})", self.name),
                expected: array_shape(&[batch, self.units]),
                found: array_shape(state.shape()),
            });
        }
        let flat = |state: &ArrayView2<'_, f32>| -> Vec<f32> {
            match order {
                Some(order) => {
                    order.iter().flat_map(|&sample| state.row(sample)).copied().collect()
                }
                None => state.iter().copied().collect(),
            }
        };
        Ok(Some(BatchStates {
            h: flat(&states[0]),
            c: states.get(1).map(flat).unwrap_or_default(),
        }))
    }

    /// The states after the last step of the last forward, `(batch, units)` each, in the
    /// chunks' order.
    fn last_states(&self, cache: &RnnCache) -> Vec<ArrayD<f32>> {
        let units = self.units;
        let batch: usize = cache.chunks.iter().map(Chunk::rows).sum();
        let mut h = Array2::<f32>::zeros((batch, units));
        let mut c = Array2::<f32>::zeros((if C::LAYOUT.carry { batch } else { 0 }, units));
        let (h_rows, c_rows) = (h.as_slice_mut(), c.as_slice_mut());
        if let (Some(h_rows), Some(c_rows)) = (h_rows, c_rows) {
            let mut start = 0;
            for chunk in &cache.chunks {
                let end = start + chunk.rows() * units;
                let c_part = if c_rows.is_empty() { &mut [][..] } else { &mut c_rows[start..end] };
                chunk.write_states(self.go_backwards, &mut h_rows[start..end], c_part);
                start = end;
            }
        }
        let mut states = vec![h.into_dyn()];
        if C::LAYOUT.carry {
            states.push(c.into_dyn());
        }
        states
    }

    /// Zeros the outputs of the steps before each sample's first unmasked step (in reading
    /// order), as Keras: its masked steps repeat the previous output, which starts as zeros
    /// whatever the initial states. `values` is an output or its gradient, in the mask's order.
    /// Only needed from initial states: from zeros, those outputs are zero states already.
    fn zero_unstarted(&self, mut values: ndarray::ArrayViewMutD<'_, f32>, mask: &Mask) {
        let steps = mask.ncols();
        for (sample, row) in mask.rows().into_iter().enumerate() {
            let step = |k: usize| if self.go_backwards { steps - 1 - k } else { k };
            let unstarted = (0..steps).take_while(|&k| !row[step(k)]).count();
            let mut values = values.index_axis_mut(Axis(0), sample);
            if self.return_sequences {
                values.slice_axis_mut(Axis(0), ndarray::Slice::from(..unstarted)).fill(0.0);
            } else if unstarted == steps {
                values.fill(0.0);
            }
        }
    }

    /// The order in which the chunks take a batch's samples when a mask pads the first steps
    /// (in reading order) of some: by the number of such steps, fewest first, so that the samples
    /// of a chunk pad alike and the chunk skips nearly as many steps as each of them could,
    /// rather than as few as the longest of its samples in any order. `None` without a mask, or
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
        let (weights, mut cache) = self.prepare(batch, steps, features, mask, false)?;
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
        let output = self.run(&mut cache, &weights, input, steps, mask, None, false);
        let output = output.map(|output| restore_order(output, order.as_deref()));
        cache.order = order;
        self.finish(cache, weights, mask, false);
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
        let weights =
            Packed::new::<C>(&self.name, &self.weights, features, self.units, Pass::Fold)?;
        let table = table.as_standard_layout();
        let table = table.as_slice().ok_or_else(|| not_built(&self.name))?;
        let (units, width) = (self.units, C::LAYOUT.gates * self.units);
        let mut folded = kernels::zeroed_table(input_dim * width);
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
                    let kernel = weights.kernel_panels(g);
                    let into = &mut out[g * units..];
                    kernels::add_matmul_packed(count, rows, features, kernel, into, width);
                }
            },
        );
        Ok(folded)
    }

    /// Checks the mask and the weights, and takes the weights' layout (the last call's while
    /// the weights have not changed) and the cache with buffers for chunks of a `(batch, steps)`
    /// batch, in training or in inference.
    fn prepare(
        &mut self,
        batch: usize,
        steps: usize,
        features: usize,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<(Packed, RnnCache)> {
        let weights = match self.layout.take() {
            Some(layout) if layout.serves(features) => layout,
            _ => Packed::new::<C>(&self.name, &self.weights, features, self.units, Pass::Forward)?,
        };
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
        let mut cache = self.cache.take().unwrap_or_else(empty_cache);
        let chunk = if training {
            chunk_rows(units, batch)
        } else {
            inference_chunk_rows(units, batch, rayon::current_num_threads())
        };
        let sizes: Vec<usize> = (0..batch).step_by(chunk).map(|b| chunk.min(batch - b)).collect();
        let fits = cache.chunks.len() == sizes.len()
            && cache.chunks.iter().zip(&sizes).all(|(c, &rows)| c.fits(rows, steps, units));
        if !fits {
            cache.chunks = sizes.iter().map(|&rows| Chunk::new::<C>(rows, steps, units)).collect();
        }
        Ok((weights, cache))
    }

    /// Runs the recurrence of every chunk on its samples of `input` (`steps` long: this call's
    /// length, which a layer built for sequences of any length does not fix), from the states
    /// `initial` or zeros, and returns the layer's output.
    #[allow(clippy::too_many_arguments)] // The buffers, the weights, the input and its masks.
    fn run(
        &mut self,
        cache: &mut RnnCache,
        weights: &Packed,
        input: ChunkInput<'_>,
        steps: usize,
        mask: Option<&Mask>,
        initial: Option<&BatchStates>,
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
        let chunk_len = cache.chunk_len();
        let mut work: Vec<_> =
            cache.chunks.iter_mut().zip(output.axis_chunks_iter_mut(Axis(0), chunk_len)).collect();
        let keep = match (training, self.return_sequences) {
            (true, _) => Keep::Everything,
            (false, true) => Keep::States,
            (false, false) => Keep::Last,
        };
        let this = &*self;
        let share = shared_step::pays::<C>(weights, Pass::Forward, work.len(), chunk_len);
        work.par_iter_mut().enumerate().try_for_each(|(index, (chunk, out))| {
            let _flush = FlushDenormals::new();
            let rows = index * chunk_len..index * chunk_len + chunk.rows();
            let masks = if training { dropout.rows(rows.clone()) } else { ChunkDropout::NONE };
            let input = input.samples(rows.clone(), steps, features);
            let mask = mask.map(|m| m.slice(s![rows.clone(), ..]));
            let out = out.as_slice_mut().ok_or_else(|| not_built(&this.name))?;
            let initial = initial.map(|states| states.rows(rows, units));
            let mut forward = |shared: Option<&SharedSteps<'_>>| {
                chunk.forward(
                    &this.cell,
                    weights,
                    this.go_backwards,
                    input,
                    mask,
                    masks,
                    initial,
                    keep,
                    shared,
                )
            };
            if share && !masks.drops_state() {
                SharedSteps::run(weights, Pass::Forward, |shared| forward(Some(shared)));
            } else {
                forward(None);
            }
            chunk.write_output(this.go_backwards, this.return_sequences, out);
            Ok(())
        })?;
        Ok(output)
    }

    /// Keeps the cache (buffers, and what `backward` needs after a training-mode pass).
    /// Keeps `cache` for a backward (after a training forward) and, with the weights' layout,
    /// for the next call.
    fn finish(&mut self, mut cache: RnnCache, layout: Packed, mask: Option<&Mask>, training: bool) {
        cache.mask = mask.cloned();
        cache.training = training;
        self.cache = Some(cache);
        self.layout = Some(layout);
    }

    pub(crate) fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        self.backward_from(grad_output, &[], input_grad).map(|(d_input, _)| d_input)
    }

    /// As [`Rnn::backward`], with the gradients of the last states `grad_states` (none, or one
    /// `(batch, units)` array per state). Returns dL/dinput and, after a forward from initial
    /// states, an entry per state (h then c) holding its gradient; all `None` without
    /// `input_grad`.
    pub(crate) fn backward_from(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        grad_states: &[ArrayView2<'_, f32>],
        input_grad: bool,
    ) -> Result<Gradients> {
        let mut cache = match self.cache.take() {
            Some(cache) if cache.training => cache,
            other => {
                self.cache = other;
                return Err(Error::NoForwardCache(self.name.clone()));
            }
        };
        let _flush = FlushDenormals::new();
        let result = self.backward_with(&mut cache, grad_output, grad_states, input_grad);
        self.cache = Some(cache);
        result
    }

    fn backward_with(
        &mut self,
        cache: &mut RnnCache,
        grad_output: ArrayViewD<'_, f32>,
        grad_states: &[ArrayView2<'_, f32>],
        input_grad: bool,
    ) -> Result<Gradients> {
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
        let order = cache.order.as_deref();
        let grad_states = self.batch_states("state gradient", grad_states, batch, order)?;
        let weights = Packed::new::<C>(&self.name, &self.weights, features, units, Pass::Backward)?;
        let mut grad_output = match &cache.order {
            Some(order) => CowArray::from(grad_output.select(Axis(0), order)),
            None => grad_output.as_standard_layout(),
        };
        if let (Some(mask), true) = (&cache.mask, cache.from_states) {
            // The outputs Keras zeros take no gradient.
            let mut owned = grad_output.into_owned();
            self.zero_unstarted(owned.view_mut(), mask);
            grad_output = CowArray::from(owned);
        }
        let chunk_len = cache.chunk_len();
        let d_states = input_grad && cache.from_states;
        let carry = if C::LAYOUT.carry { batch * units } else { 0 };
        let mut d_h = vec![0.0f32; if d_states { batch * units } else { 0 }];
        let mut d_c = vec![0.0f32; if d_states { carry } else { 0 }];
        let mut d_state_chunks: Vec<Option<(&mut [f32], &mut [f32])>> = if d_states {
            let c_chunks: Vec<&mut [f32]> = if carry > 0 {
                d_c.chunks_mut(chunk_len * units).collect()
            } else {
                cache.chunks.iter().map(|_| &mut [][..]).collect()
            };
            d_h.chunks_mut(chunk_len * units).zip(c_chunks).map(Some).collect()
        } else {
            cache.chunks.iter().map(|_| None).collect()
        };
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
            .zip(d_state_chunks.iter_mut())
            .enumerate()
            .collect();
        let mask = cache.mask.as_ref();
        let dropout = &cache.dropout;
        let this = &*self;
        let share = shared_step::pays::<C>(&weights, Pass::Backward, work.len(), chunk_len);
        let partials: Vec<Option<ChunkGradients>> = work
            .par_iter_mut()
            .map(|(index, ((((chunk, x), grad), d_input), d_state))| {
                let _flush = FlushDenormals::new();
                let rows = *index * chunk_len..*index * chunk_len + x.len_of(Axis(0));
                let masks = dropout.rows(rows.clone());
                let states = grad_states.as_ref().map(|g| g.rows(rows.clone(), units));
                let mask = mask.map(|m| m.slice(s![rows, ..]));
                let d_input = match d_input {
                    Some(d) => Some(d.as_slice_mut()?),
                    None => None,
                };
                let d_state = d_state.as_mut().map(|(h, c)| (&mut **h, &mut **c));
                let (x, grad) = (x.as_slice()?, grad.as_slice()?);
                let backward = |shared: Option<&SharedSteps<'_>>| {
                    chunk.backward(
                        &this.cell,
                        &weights,
                        this.go_backwards,
                        this.return_sequences,
                        x,
                        mask,
                        masks,
                        grad,
                        states,
                        d_input,
                        d_state,
                        shared,
                    )
                };
                Some(if share && !masks.drops_state() {
                    SharedSteps::run(&weights, Pass::Backward, |shared| backward(Some(shared)))
                } else {
                    backward(None)
                })
            })
            .collect();
        drop(work);

        // Reduce the chunks' weight gradients in chunk order: the sum does not depend on the
        // number of threads.
        let partials: Option<Vec<ChunkGradients>> = partials.into_iter().collect();
        let partials = partials.ok_or_else(|| not_built(&self.name))?;
        ChunkGradients::reduce_into(&partials, &mut self.weights, units, C::LAYOUT.gates);
        drop(d_state_chunks);
        let order = cache.order.as_deref();
        let mut d_initial = Vec::new();
        if cache.from_states {
            for values in [d_h, d_c].into_iter().take(self.state_count()) {
                let values = match d_states {
                    true => Some(
                        ArrayD::from_shape_vec(vec![batch, units], values)
                            .map_err(|_| not_built(&self.name))?,
                    ),
                    false => None,
                };
                d_initial.push(values.map(|values| restore_order(values, order)));
            }
        }
        Ok((d_input.map(|d| restore_order(d.into_dyn(), order)), d_initial))
    }
}

impl<C> Rnn<C> {
    /// Moves the cache out (buffers and what backward needs).
    pub(crate) fn take_cache(&mut self) -> crate::layers::ForwardCache {
        Box::new(self.cache.take())
    }

    /// Puts back a cache [`Rnn::take_cache`] moved out.
    pub(crate) fn put_cache(&mut self, cache: crate::layers::ForwardCache) -> Result<()> {
        let cache = cache
            .downcast::<Option<RnnCache>>()
            .map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        self.cache = *cache;
        Ok(())
    }
}

/// A cache without buffers.
impl RnnCache {
    /// Samples per chunk, as `prepare` laid them out: every chunk but the last has the first's.
    fn chunk_len(&self) -> usize {
        self.chunks.first().map_or(1, Chunk::rows)
    }
}

fn empty_cache() -> RnnCache {
    RnnCache {
        input: Array3::zeros((0, 0, 0)),
        chunks: Vec::new(),
        mask: None,
        dropout: DropoutMasks::default(),
        order: None,
        training: false,
        from_states: false,
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
