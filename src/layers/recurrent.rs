//! The recurrent loop shared by `SimpleRnn`, `Lstm` and `Gru`: Keras' `RNN` layer around a cell.
//!
//! A [`Cell`] says what one step computes; [`Rnn`] runs it over a batch the fast way (see
//! `recurrent/steps.rs`): fixed chunks of 8 samples in parallel, the input projection x·W + b as
//! products over many steps at once, only h_{t−1}·U inside the time loop, masks as Keras (a
//! masked step carries every state, and the output, through unchanged), and BPTT whose weight
//! gradients are products over many steps at once, reduced in chunk order.
//!
//! Those products run over blocks of 32 steps rather than the whole sequence: the rows a block
//! writes are still in cache when the recurrence reads them, which makes forward + backward of
//! `Lstm(32)` on 32 × 500 × 32 inputs about 15 % faster than whole-sequence products.

mod cell;
mod dropout;
mod steps;
mod weights;

use super::{not_built, Mask, Param};
use crate::initializers;
use crate::kernels;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
pub(crate) use cell::{activate, derive, Cell};
use dropout::{ChunkDropout, DropoutConfig, DropoutMasks};
use ndarray::{s, Array3, ArrayD, ArrayView2, ArrayViewD, ArrayViewMut3, Axis, CowArray, Ix3};
use rand::rngs::StdRng;
use rayon::prelude::*;
use steps::{Chunk, ChunkInput, CHUNK};
use weights::{ChunkGradients, Packed};

/// A recurrent layer: [`SimpleRnn`](super::SimpleRnn), [`Lstm`](super::Lstm) or
/// [`Gru`](super::Gru). [`Bidirectional`](super::Bidirectional) wraps any of them.
pub trait Recurrent: super::Layer + Clone {
    /// Whether the layer returns its whole output sequence (`return_sequences`).
    fn returns_sequences(&self) -> bool;

    /// Whether the layer reads its input from the last step to the first (`go_backwards`).
    fn reads_backwards(&self) -> bool;

    /// A copy of the layer that reads the sequence in the other direction (`go_backwards`
    /// flipped), to be built anew.
    fn reversed(&self) -> Self;
}

/// Keras' `RNN` layer: the configuration, weights and loop shared by the recurrent layers, around
/// the cell `C`.
#[derive(Clone, Debug)]
pub(crate) struct Rnn<C> {
    pub(crate) name: String,
    pub(crate) units: usize,
    pub(crate) cell: C,
    pub(crate) use_bias: bool,
    pub(crate) return_sequences: bool,
    pub(crate) go_backwards: bool,
    pub(crate) trainable: bool,
    pub(crate) dropout: DropoutConfig,
    weights: Vec<Param>,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    cache: Option<RnnCache>,
}

/// What `forward` keeps for `backward`, and the buffers the next call reuses.
#[derive(Clone, Debug)]
struct RnnCache {
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
    /// An unbuilt layer with Keras' defaults: bias on, `return_sequences` and `go_backwards` off.
    pub(crate) fn new(units: usize, cell: C) -> Self {
        Rnn {
            name: String::new(),
            units,
            cell,
            use_bias: true,
            return_sequences: false,
            go_backwards: false,
            trainable: true,
            dropout: DropoutConfig::default(),
            weights: Vec::new(),
            input_shape: Vec::new(),
            output_shape: Vec::new(),
            cache: None,
        }
    }

    /// Creates kernel `(input_dim, GATES·units)` glorot_uniform, recurrent_kernel
    /// `(units, GATES·units)` orthogonal (the whole matrix, as Keras) and the cell's bias.
    pub(crate) fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.units == 0 {
            return Err(Error::invalid("units", "a positive integer", self.units));
        }
        self.dropout.check()?;
        let &[steps, input_dim] = input_shape else {
            return Err(Error::ShapeMismatch {
                layer: self.name.clone(),
                expected: "(None, steps, features)".into(),
                found: keras_shape(input_shape),
            });
        };
        if steps == 0 || input_dim == 0 {
            return Err(Error::ShapeMismatch {
                layer: self.name.clone(),
                expected: "(None, steps, features) with steps, features > 0".into(),
                found: keras_shape(input_shape),
            });
        }
        // A huge `units` is an error naming the layer, not an overflow or an aborted allocation.
        let (units, columns) = (self.units, self.units.saturating_mul(C::GATES));
        initializers::check_sizes(
            &self.name,
            "units",
            &[&[input_dim, columns], &[units.max(columns), columns]],
        )?;
        self.weights = vec![
            Param::new("kernel", initializers::glorot_uniform(input_dim, columns, rng)),
            Param::new("recurrent_kernel", initializers::orthogonal(units, columns, rng)),
        ];
        if self.use_bias {
            self.weights.push(Param::new("bias", self.cell.initial_bias(units)));
        }
        // After the weights: dropout does not change this layer's initial weights.
        self.dropout.seed_from(rng);
        self.cache = None;
        self.input_shape = input_shape.to_vec();
        self.output_shape = if self.return_sequences { vec![steps, units] } else { vec![units] };
        Ok(self.output_shape.clone())
    }

    pub(crate) fn class_name(&self) -> &'static str {
        C::CLASS_NAME
    }

    pub(crate) fn output_shape(&self) -> Option<&[usize]> {
        (!self.weights.is_empty()).then_some(self.output_shape.as_slice())
    }

    pub(crate) fn params(&self) -> Vec<&Param> {
        self.weights.iter().collect()
    }

    pub(crate) fn params_mut(&mut self) -> Vec<&mut Param> {
        self.weights.iter_mut().collect()
    }

    /// As Keras' `RNN.compute_mask`: the input mask passes on with the sequence, unreversed even
    /// with `go_backwards` (keras/src/layers/rnn/rnn.py).
    pub(crate) fn compute_mask(&self, mask: Option<&Mask>) -> Option<Mask> {
        if self.return_sequences {
            mask.cloned()
        } else {
            None
        }
    }

    pub(crate) fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
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
            Some(x) => self.run(&mut cache, &weights, ChunkInput::Features(x), mask, training),
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
        let features = self.input_shape.get(1).copied().unwrap_or(0);
        expect_batch_of(&self.name, &self.input_shape, &[batch, steps, features])?;
        let table_rows = table.len() / (C::GATES * self.units);
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
        let output = self.run(&mut cache, &weights, input, mask, false);
        let output = output.map(|output| restore_order(output, order.as_deref()));
        cache.order = order;
        self.finish(cache, mask, false);
        output
    }

    /// Values per row of a folded table: `GATES·units`.
    pub(crate) fn folded_width(&self) -> usize {
        C::GATES * self.units
    }

    /// An `Embedding`'s table `(input_dim, features)` folded into the input projection:
    /// `(input_dim, GATES·units)`, bias + E_v·W_g for each row v and gate g, computed as the
    /// loop computes it for a step whose input is E_v (see [`Rnn::forward_folded`]).
    pub(crate) fn fold(&self, table: ArrayView2<'_, f32>) -> Result<Vec<f32>> {
        if self.weights.is_empty() {
            return Err(not_built(&self.name));
        }
        let (input_dim, features) = table.dim();
        let weights = Packed::new::<C>(&self.name, &self.weights, features, self.units)?;
        let table = table.as_standard_layout();
        let table = table.as_slice().ok_or_else(|| not_built(&self.name))?;
        let (units, width) = (self.units, C::GATES * self.units);
        let mut folded = vec![0.0; input_dim * width];
        // Blocks of table rows in parallel; each row's values do not depend on the blocking.
        const ROWS: usize = 256;
        folded.par_chunks_mut(ROWS * width).zip(table.par_chunks(ROWS * features)).for_each(
            |(out, rows)| {
                for row in out.chunks_exact_mut(width) {
                    row.copy_from_slice(&weights.step_init[..width]);
                }
                let count = rows.len() / features;
                for g in 0..C::GATES {
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
        let sizes: Vec<usize> = (0..batch).step_by(CHUNK).map(|b| CHUNK.min(batch - b)).collect();
        let fits = cache.chunks.len() == sizes.len()
            && cache.chunks.iter().zip(&sizes).all(|(c, &rows)| c.fits(rows, steps, units));
        if !fits {
            cache.chunks = sizes.iter().map(|&rows| Chunk::new::<C>(rows, steps, units)).collect();
        }
        Ok((weights, cache))
    }

    /// Runs the recurrence of every chunk on its samples of `input` and returns the layer's
    /// output.
    fn run(
        &mut self,
        cache: &mut RnnCache,
        weights: &Packed,
        input: ChunkInput<'_>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        let batch: usize = cache.chunks.iter().map(Chunk::rows).sum();
        let (steps, units) = (self.input_shape[0], self.units);
        let features = self.input_shape.get(1).copied().unwrap_or(0);
        // Masks are drawn for the whole batch in sample order, before the parallel part.
        if training {
            self.dropout.draw(&mut cache.dropout, batch, features, units, C::GATES);
        }
        let dropout = &cache.dropout;
        let mut output = if self.return_sequences {
            ArrayD::zeros(vec![batch, steps, units])
        } else {
            ArrayD::zeros(vec![batch, units])
        };
        // Chunks of samples run in parallel; each chunk's arithmetic is independent of how many
        // threads there are, so results are too.
        let mut work: Vec<_> =
            cache.chunks.iter_mut().zip(output.axis_chunks_iter_mut(Axis(0), CHUNK)).collect();
        let this = &*self;
        work.par_iter_mut().enumerate().try_for_each(|(index, (chunk, out))| {
            let rows = index * CHUNK..index * CHUNK + chunk.rows();
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
        let mut d_input = input_grad.then(|| Array3::<f32>::zeros((batch, steps, features)));
        let mut d_input_chunks: Vec<Option<ArrayViewMut3<'_, f32>>> = match &mut d_input {
            Some(d) => d.axis_chunks_iter_mut(Axis(0), CHUNK).map(Some).collect(),
            None => cache.chunks.iter().map(|_| None).collect(),
        };
        let mut work: Vec<_> = cache
            .chunks
            .iter_mut()
            .zip(cache.input.axis_chunks_iter(Axis(0), CHUNK))
            .zip(grad_output.axis_chunks_iter(Axis(0), CHUNK))
            .zip(d_input_chunks.iter_mut())
            .enumerate()
            .collect();
        let mask = cache.mask.as_ref();
        let dropout = &cache.dropout;
        let this = &*self;
        let partials: Vec<Option<ChunkGradients>> = work
            .par_iter_mut()
            .map(|(index, (((chunk, x), grad), d_input))| {
                let rows = *index * CHUNK..*index * CHUNK + x.len_of(Axis(0));
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
            partial.add_into(&mut self.weights, units, C::GATES);
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

/// A recurrent layer that can read token ids through an `Embedding`'s table folded into its
/// input projection, for inference (see `model/folding.rs`).
pub(crate) trait FoldsLookup {
    /// Values per row of a folded table.
    fn folded_width(&self) -> usize;

    /// The table `(input_dim, features)` folded into the input projection.
    fn fold(&self, table: ArrayView2<'_, f32>) -> Result<Vec<f32>>;

    /// Inference on the table rows of a `(batch, steps)` batch of ids, through `folded`.
    fn forward_folded(
        &mut self,
        rows: &[usize],
        shape: (usize, usize),
        folded: &[f32],
        mask: Option<&Mask>,
    ) -> Result<ArrayD<f32>>;
}

/// The layer behind `layer` as a [`FoldsLookup`], when it is a `SimpleRnn`, `Lstm` or `Gru`.
pub(crate) fn folding(layer: &mut dyn std::any::Any) -> Option<&mut dyn FoldsLookup> {
    use super::{Gru, Lstm, SimpleRnn};
    if layer.is::<SimpleRnn>() {
        layer.downcast_mut::<SimpleRnn>().map(|l| l as &mut dyn FoldsLookup)
    } else if layer.is::<Lstm>() {
        layer.downcast_mut::<Lstm>().map(|l| l as &mut dyn FoldsLookup)
    } else {
        layer.downcast_mut::<Gru>().map(|l| l as &mut dyn FoldsLookup)
    }
}

/// Implements [`Layer`](crate::layers::Layer) and [`Recurrent`], and the options every recurrent
/// layer shares (`return_sequences`, `go_backwards`, `use_bias`, `trainable`, dropout), for a
/// layer type whose field `rnn` is an [`Rnn`], whose `class_name` is its cell's.
macro_rules! recurrent_layer {
    ($layer:ty) => {
        impl $layer {
            /// Returns every state h_0..h_T (many-to-many) instead of only the last
            /// (many-to-one). Default: `false`.
            pub fn return_sequences(mut self, return_sequences: bool) -> Self {
                self.rnn.return_sequences = return_sequences;
                self
            }

            /// Reads the sequence from its last step to its first. Default: `false`.
            ///
            /// As in Keras, with `return_sequences` the states come out in reading order (the
            /// state after the last input step first), and an input mask is passed on
            /// unreversed: Keras' behaviour, kept so that models ported from Keras give the same
            /// numbers.
            pub fn go_backwards(mut self, go_backwards: bool) -> Self {
                self.rnn.go_backwards = go_backwards;
                self
            }

            /// Whether the layer adds its bias (Keras' `use_bias`). Default: `true`.
            pub fn use_bias(mut self, use_bias: bool) -> Self {
                self.rnn.use_bias = use_bias;
                self
            }

            /// Whether the optimizer updates the weights. Default: `true`.
            pub fn trainable(mut self, trainable: bool) -> Self {
                self.rnn.trainable = trainable;
                self
            }

            /// Fraction of the input features dropped while training (Keras' `dropout`).
            /// Default: 0.
            ///
            /// Each sample draws its mask once per batch and keeps it for every step; kept
            /// values are scaled by 1 / (1 − rate) (inverted dropout), and `predict` and
            /// `evaluate` use no mask. As Keras 3, every gate draws its own mask when
            /// `recurrent_dropout` is set too, and all gates share one otherwise. The rate must
            /// be in `[0, 1)`; the model's `build` returns
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) if not.
            ///
            /// # Examples
            /// ```
            /// use rnnkit::prelude::*;
            /// # fn main() -> rnnkit::Result<()> {
            /// let mut model = Sequential::new();
            /// model.add(Embedding::new(10_000, 32).input_length(500));
            #[doc = concat!("model.add(", stringify!($layer), "::new(32).dropout(0.2).recurrent_dropout(0.2));")]
            /// model.add(Dense::new(1).activation(Activation::Sigmoid));
            /// model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
            /// // Masks while training only: predicting twice gives the same numbers.
            /// let reviews = ndarray::Array2::<f32>::ones((2, 500));
            /// assert_eq!(model.predict(&reviews, 32)?, model.predict(&reviews, 32)?);
            /// # Ok(())
            /// # }
            /// ```
            pub fn dropout(mut self, rate: f32) -> Self {
                self.rnn.dropout.input = rate;
                self
            }

            /// Fraction of the state values h_{t−1} dropped before the recurrent kernel while
            /// training (Keras' `recurrent_dropout`), one mask per sample and gate, kept for
            /// every step. Default: 0. The carried state is not dropped: the next step still
            /// reads the whole h_{t−1} (and LSTM's c_{t−1}) outside the recurrent kernel.
            pub fn recurrent_dropout(mut self, rate: f32) -> Self {
                self.rnn.dropout.recurrent = rate;
                self
            }

            /// Seeds the generator of the dropout masks (Keras' `seed`). Default: a seed
            /// drawn from the model's generator when the layer is built with a dropout rate.
            pub fn seed(mut self, seed: u64) -> Self {
                self.rnn.dropout.seed = Some(seed);
                self
            }
        }

        impl $crate::layers::Layer for $layer {
            fn class_name(&self) -> &'static str {
                self.rnn.class_name()
            }

            fn name(&self) -> &str {
                &self.rnn.name
            }

            fn set_name(&mut self, name: String) {
                self.rnn.name = name;
            }

            fn build(
                &mut self,
                input_shape: &[usize],
                rng: &mut rand::rngs::StdRng,
            ) -> $crate::Result<Vec<usize>> {
                self.rnn.build(input_shape, rng)
            }

            fn output_shape(&self) -> Option<&[usize]> {
                self.rnn.output_shape()
            }

            fn forward(
                &mut self,
                input: ndarray::ArrayViewD<'_, f32>,
                mask: Option<&$crate::layers::Mask>,
                training: bool,
            ) -> $crate::Result<ndarray::ArrayD<f32>> {
                self.rnn.forward(input, mask, training)
            }

            fn compute_mask(
                &self,
                _input: ndarray::ArrayViewD<'_, f32>,
                mask: Option<&$crate::layers::Mask>,
            ) -> $crate::Result<Option<$crate::layers::Mask>> {
                Ok(self.rnn.compute_mask(mask))
            }

            fn backward(
                &mut self,
                grad_output: ndarray::ArrayViewD<'_, f32>,
                input_grad: bool,
            ) -> $crate::Result<Option<ndarray::ArrayD<f32>>> {
                self.rnn.backward(grad_output, input_grad)
            }

            fn params(&self) -> Vec<&$crate::layers::Param> {
                self.rnn.params()
            }

            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }

            fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
                Some(self)
            }

            fn params_mut(&mut self) -> Vec<&mut $crate::layers::Param> {
                self.rnn.params_mut()
            }

            fn is_trainable(&self) -> bool {
                self.rnn.trainable
            }

            fn set_trainable(&mut self, trainable: bool) {
                self.rnn.trainable = trainable;
            }
        }

        impl $crate::layers::recurrent::FoldsLookup for $layer {
            fn folded_width(&self) -> usize {
                self.rnn.folded_width()
            }

            fn fold(&self, table: ndarray::ArrayView2<'_, f32>) -> $crate::Result<Vec<f32>> {
                self.rnn.fold(table)
            }

            fn forward_folded(
                &mut self,
                rows: &[usize],
                shape: (usize, usize),
                folded: &[f32],
                mask: Option<&$crate::layers::Mask>,
            ) -> $crate::Result<ndarray::ArrayD<f32>> {
                self.rnn.forward_folded(rows, shape, folded, mask)
            }
        }

        impl $crate::layers::Recurrent for $layer {
            fn returns_sequences(&self) -> bool {
                self.rnn.return_sequences
            }

            fn reads_backwards(&self) -> bool {
                self.rnn.go_backwards
            }

            fn reversed(&self) -> Self {
                let mut copy = self.clone();
                copy.rnn.go_backwards = !copy.rnn.go_backwards;
                copy
            }
        }
    };
}
pub(crate) use recurrent_layer;
