//! [`Recurrent`]: Keras' `RNN` layer around a [`Cell`], the one recurrent layer behind
//! [`SimpleRnn`](super::SimpleRnn), [`Lstm`](super::Lstm) and [`Gru`](super::Gru).
//!
//! The cell says what one step computes; [`Rnn`] runs it over a batch (see
//! `recurrent/engine.rs`): the input projection x·W + b as products over many steps at once,
//! only h_{t−1}·U inside the time loop, masks as Keras (a masked step carries every state, and
//! the output, through unchanged), and BPTT whose weight gradients are reduced in a fixed order.

mod cell;
pub(crate) mod cells;
mod dropout;
mod engine;
mod shared_step;
mod steps;
mod weights;

use super::{FoldsLookup, ForwardCache, GeneratorState, Layer, LayerBase, Mask, Param};
use crate::initializers;
use crate::saving::Config;
use crate::shape::{keras_shape, NONE};
use crate::{Error, Result};
pub use cell::Cell;
pub(crate) use cell::{activate, derive};
use dropout::DropoutConfig;
use engine::RnnCache;
use ndarray::{ArrayD, ArrayView2, ArrayViewD, Ix2};
use rand::rngs::StdRng;
use weights::Packed;

/// A recurrent layer: Keras' `RNN` around the cell `C`, which says what one step computes.
///
/// Use it through its aliases, [`SimpleRnn`](super::SimpleRnn), [`Lstm`](super::Lstm) and
/// [`Gru`](super::Gru), which document each cell's formula and options;
/// [`Bidirectional`](super::Bidirectional) wraps any of them. The options below are the ones
/// every recurrent layer shares.
///
/// # Shapes
/// Input `(batch, steps, input_dim)`; output `(batch, units)`, or `(batch, steps, units)` with
/// `return_sequences(true)`. Built for a time axis of [`NONE`](crate::layers::NONE) (after an
/// `Embedding` without `input_length`), the layer runs on any number of steps per call and its
/// output sequence has a time axis of `None` too. With `go_backwards(true)` the sequence is read from its end, and the
/// returned sequence is in that reversed order (Keras' behaviour).
///
/// # States in and out
/// As Keras, a layer with [`Recurrent::return_state`] has several outputs, through
/// [`Layer::build_multi`] and [`Layer::forward_multi`]: the output, then the last states
/// (`[output, h]` for SimpleRNN and GRU, `[output, h, c]` for LSTM), each `(batch, units)`.
/// Called through [`Layer::forward_multi`] on `[x, h0]` (`[x, h0, c0]` for LSTM), the layer
/// starts from those states rather than from zeros (Keras' `initial_state`);
/// [`Layer::backward_multi`] then returns the gradients of the input and of each initial
/// state, and takes one gradient per output (those of the returned states included). With a
/// mask (given for the input only: the states carry none), a masked step carries the states,
/// so the returned states are those after each sample's last unmasked step; as Keras, the
/// output of the steps before a sample's first unmasked step is zero whatever the initial
/// states.
///
/// # Errors
/// `build` fails for `units == 0` or a dropout rate outside `[0, 1)`
/// ([`Error::InvalidArgument`]) and for inputs that are not `(steps, features)` sequences
/// ([`Error::ShapeMismatch`]); see [`Layer`] for the errors of `forward` and `backward`. With
/// `return_state`, the single-output `build`, `forward` and `backward` (what `Sequential` calls)
/// return [`Error::InvalidArgument`]: the layer has several outputs. Initial states of the wrong
/// count are an [`Error::InvalidArgument`], of the wrong shape an [`Error::ShapeMismatch`].
#[derive(Clone, Debug)]
pub struct Recurrent<C: Cell> {
    rnn: Rnn<C>,
}

impl<C: Cell> Recurrent<C> {
    /// An unbuilt layer of `units` state values around `cell`, with Keras' defaults.
    pub(crate) fn with_cell(units: usize, cell: C) -> Self {
        Recurrent { rnn: Rnn::new(units, cell) }
    }

    /// The cell, for the cell-specific setters.
    pub(crate) fn cell_mut(&mut self) -> &mut C {
        &mut self.rnn.cell
    }

    /// Returns every state h_0..h_T (many-to-many) instead of only the last (many-to-one).
    /// Default: `false`.
    pub fn return_sequences(mut self, return_sequences: bool) -> Self {
        self.rnn.return_sequences = return_sequences;
        self
    }

    /// Returns the last states after the output (Keras' `return_state`): `[output, h]` for
    /// SimpleRNN and GRU, `[output, h, c]` for LSTM, through [`Layer::forward_multi`]. Default:
    /// `false`.
    ///
    /// A layer with several outputs belongs in a functional model (Keras' `Sequential` refuses
    /// it too): its single-output [`Layer::build`] returns an error.
    ///
    /// # Examples
    /// An encoder's states start a decoder, as in a sequence-to-sequence model:
    /// ```
    /// use ndarray::{Array3, ArrayD};
    /// use rand::SeedableRng;
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let mut encoder = Lstm::new(8).return_state(true);
    /// let shapes = encoder.build_multi(&[vec![5, 3]], &mut rng)?;
    /// assert_eq!(shapes, [vec![8], vec![8], vec![8]]); // output, h, c
    /// let mut decoder = Lstm::new(8).return_sequences(true);
    /// decoder.build_multi(&[vec![4, 2], vec![8], vec![8]], &mut rng)?;
    ///
    /// let source = Array3::<f32>::ones((2, 5, 3)).into_dyn();
    /// let outputs = encoder.forward_multi(&[source.view()], &[None], false)?;
    /// let (h, c) = (outputs[1].view(), outputs[2].view());
    /// assert_eq!(outputs[0], outputs[1]); // LSTM's output is its last h
    /// let target = Array3::<f32>::ones((2, 4, 2)).into_dyn();
    /// let decoded: Vec<ArrayD<f32>> =
    ///     decoder.forward_multi(&[target.view(), h, c], &[None, None, None], false)?;
    /// assert_eq!(decoded[0].shape(), [2, 4, 8]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn return_state(mut self, return_state: bool) -> Self {
        self.rnn.return_state = return_state;
        self
    }

    /// Reads the sequence from its last step to its first. Default: `false`.
    ///
    /// As in Keras, with `return_sequences` the states come out in reading order (the state
    /// after the last input step first), and an input mask is passed on unreversed: Keras'
    /// behaviour, kept so that models ported from Keras give the same numbers.
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
        self.rnn.base.set_trainable(trainable);
        self
    }

    /// Fraction of the input features dropped while training (Keras' `dropout`). Default: 0.
    ///
    /// Each sample draws its mask once per batch and keeps it for every step; kept values are
    /// scaled by 1 / (1 − rate) (inverted dropout), and `predict` and `evaluate` use no mask.
    /// As Keras 3, every gate draws its own mask when `recurrent_dropout` is set too, and all
    /// gates share one otherwise. The rate must be in `[0, 1)`; the model's `build` returns
    /// [`Error::InvalidArgument`] if not.
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(10_000, 32).input_length(500));
    /// model.add(Lstm::new(32).dropout(0.2).recurrent_dropout(0.2));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    /// // Masks while training only: predicting twice gives the same numbers.
    /// let reviews = ndarray::Array2::<f32>::ones((2, 500));
    /// assert_eq!(model.predict(&reviews)?, model.predict(&reviews)?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dropout(mut self, rate: f32) -> Self {
        self.rnn.dropout.input = rate;
        self
    }

    /// Fraction of the state values h_{t−1} dropped before the recurrent kernel while training
    /// (Keras' `recurrent_dropout`), one mask per sample and gate, kept for every step.
    /// Default: 0. The carried state is not dropped: the next step still reads the whole
    /// h_{t−1} (and LSTM's c_{t−1}) outside the recurrent kernel.
    pub fn recurrent_dropout(mut self, rate: f32) -> Self {
        self.rnn.dropout.recurrent = rate;
        self
    }

    /// Seeds the generator of the dropout masks (Keras' `seed`). Default: a seed drawn from the
    /// model's generator when the layer is built with a dropout rate.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rnn.dropout.seed = Some(seed);
        self
    }

    /// Whether the layer returns its whole output sequence (`return_sequences`).
    pub fn returns_sequences(&self) -> bool {
        self.rnn.return_sequences
    }

    /// Whether the layer returns its last states after its output (`return_state`).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// assert!(Gru::new(4).return_state(true).returns_state());
    /// assert!(!Gru::new(4).returns_state());
    /// ```
    pub fn returns_state(&self) -> bool {
        self.rnn.return_state
    }

    /// Whether the layer reads its input from the last step to the first (`go_backwards`).
    pub fn reads_backwards(&self) -> bool {
        self.rnn.go_backwards
    }

    /// A copy of the layer that reads the sequence in the other direction, to be built anew.
    pub fn reversed(&self) -> Self {
        let mut copy = self.clone();
        copy.rnn.go_backwards = !copy.rnn.go_backwards;
        copy
    }
}

impl<C: Cell> Layer for Recurrent<C> {
    fn class_name(&self) -> &'static str {
        self.rnn.class_name()
    }

    fn base(&self) -> &LayerBase {
        &self.rnn.base
    }

    fn get_config(&self) -> Option<Config> {
        Some(crate::saving::recurrent_config(&self.rnn))
    }

    fn generator_states(&self) -> Vec<GeneratorState> {
        self.rnn.dropout.generator_states()
    }

    fn set_generator_states(&mut self, states: Vec<GeneratorState>) -> Result<()> {
        let expected = usize::from(self.rnn.dropout.has_generator());
        super::layer::expect_generators(&self.rnn.base.name, expected, &states)?;
        self.rnn.dropout.set_generator(states.first());
        Ok(())
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.rnn.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        self.single_output()?;
        self.rnn.build(input_shape, rng)
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        self.single_output()?;
        self.rnn.forward(input, mask, training)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        self.single_output()?;
        self.rnn.backward(grad_output, input_grad)
    }

    fn build_multi(
        &mut self,
        input_shapes: &[Vec<usize>],
        rng: &mut StdRng,
    ) -> Result<Vec<Vec<usize>>> {
        self.expect_inputs(input_shapes.len())?;
        let units = self.rnn.units;
        if let Some(shape) = input_shapes[1..].iter().find(|shape| shape.as_slice() != [units]) {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (initial state)", self.rnn.name),
                expected: keras_shape(&[units]),
                found: keras_shape(shape),
            });
        }
        let output = self.rnn.build(&input_shapes[0], rng)?;
        Ok(std::iter::once(output).chain(self.state_shapes()).collect())
    }

    fn forward_multi(
        &mut self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
        training: bool,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.expect_inputs(inputs.len())?;
        let mask = self.input_mask(masks, inputs.len())?;
        let states = self.matrices("initial state", &inputs[1..])?;
        let return_state = self.rnn.return_state;
        let (output, states) =
            self.rnn.forward_from(inputs[0].view(), mask, &states, training, return_state)?;
        Ok(std::iter::once(output).chain(states).collect())
    }

    fn backward_multi(
        &mut self,
        grad_outputs: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let expected = 1 + self.returned_states();
        if grad_outputs.len() != expected {
            return Err(Error::InvalidArgument {
                name: format!("output gradients of layer '{}'", self.rnn.name),
                expected: format!("{expected}, one per output"),
                got: grad_outputs.len().to_string(),
            });
        }
        let grad_states = self.matrices("state gradient", &grad_outputs[1..])?;
        let (d_input, d_states) =
            self.rnn.backward_from(grad_outputs[0].view(), &grad_states, input_grads)?;
        Ok(std::iter::once(d_input).chain(d_states).collect())
    }

    fn compute_mask_multi(
        &self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        self.expect_inputs(inputs.len())?;
        let mask = self.input_mask(masks, inputs.len())?;
        let states = std::iter::repeat_n(None, self.returned_states());
        Ok(std::iter::once(self.rnn.compute_mask(mask)).chain(states).collect())
    }

    fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        Some(self.rnn.take_cache())
    }

    fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        self.rnn.put_cache(cache)
    }

    fn compute_mask(
        &self,
        _input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        Ok(self.rnn.compute_mask(mask))
    }

    fn params(&self) -> Vec<&Param> {
        self.rnn.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.rnn.params_mut()
    }

    fn folds_lookup(&mut self) -> Option<&mut dyn FoldsLookup> {
        Some(self)
    }
}

impl<C: Cell> Recurrent<C> {
    /// Refuses the single-output calls of a layer with `return_state`.
    fn single_output(&self) -> Result<()> {
        if self.rnn.return_state {
            return Err(Error::InvalidArgument {
                name: format!("return_state of layer '{}'", self.rnn.name),
                expected: "false for a layer with one output (with return_state the layer \
                           returns its output and its states: call it with forward_multi, in \
                           a functional model)"
                    .into(),
                got: "true".into(),
            });
        }
        Ok(())
    }

    /// Outputs after the first: the states with `return_state`, none otherwise.
    fn returned_states(&self) -> usize {
        if self.rnn.return_state {
            self.rnn.state_count()
        } else {
            0
        }
    }

    /// The per-sample shapes of the returned states.
    fn state_shapes(&self) -> impl Iterator<Item = Vec<usize>> {
        std::iter::repeat_n(vec![self.rnn.units], self.returned_states())
    }

    /// Checks a call's number of inputs: the sequence, then no state or every state.
    fn expect_inputs(&self, found: usize) -> Result<()> {
        let states = self.rnn.state_count();
        if found == 1 || found == 1 + states {
            return Ok(());
        }
        let names = if states == 2 { "[x, h0, c0]" } else { "[x, h0]" };
        Err(Error::InvalidArgument {
            name: format!("inputs of layer '{}'", self.rnn.name),
            expected: format!("the sequence alone, or with its initial states: {names}"),
            got: format!("{found} input(s)"),
        })
    }

    /// The sequence's mask, from one mask per input (the states' are not read, as Keras).
    fn input_mask<'m>(
        &self,
        masks: &[Option<&'m Mask>],
        inputs: usize,
    ) -> Result<Option<&'m Mask>> {
        if masks.len() != inputs {
            return Err(Error::InvalidArgument {
                name: format!("masks of layer '{}'", self.rnn.name),
                expected: format!("one per input ({inputs})"),
                got: masks.len().to_string(),
            });
        }
        Ok(masks[0])
    }

    /// `arrays` as `(batch, units)` matrices; `what` names them in errors.
    fn matrices<'a>(
        &self,
        what: &str,
        arrays: &[ArrayViewD<'a, f32>],
    ) -> Result<Vec<ArrayView2<'a, f32>>> {
        arrays
            .iter()
            .map(|array| {
                array.clone().into_dimensionality::<Ix2>().map_err(|_| Error::ShapeMismatch {
                    layer: format!("{} ({what})", self.rnn.name),
                    expected: format!("(batch, {})", self.rnn.units),
                    found: crate::shape::array_shape(array.shape()),
                })
            })
            .collect()
    }
}

impl<C: Cell> FoldsLookup for Recurrent<C> {
    fn folded_width(&self) -> usize {
        self.rnn.folded_width()
    }

    fn fold(&self, table: ArrayView2<'_, f32>) -> Result<Vec<f32>> {
        self.rnn.fold(table)
    }

    fn forward_folded(
        &mut self,
        rows: &[usize],
        shape: (usize, usize),
        folded: &[f32],
        mask: Option<&Mask>,
    ) -> Result<ArrayD<f32>> {
        self.rnn.forward_folded(rows, shape, folded, mask)
    }
}

/// The engine-facing part of a [`Recurrent`] layer: its configuration, weights and cache, which
/// `recurrent/engine.rs` runs.
#[derive(Clone, Debug)]
pub(crate) struct Rnn<C> {
    /// The layer's name, trainability and shapes; the engine reads `self.name` and
    /// `self.input_shape` through [`Deref`](std::ops::Deref).
    pub(crate) base: LayerBase,
    pub(crate) units: usize,
    pub(crate) cell: C,
    pub(crate) use_bias: bool,
    pub(crate) return_sequences: bool,
    pub(crate) return_state: bool,
    pub(crate) go_backwards: bool,
    pub(crate) dropout: DropoutConfig,
    weights: Vec<Param>,
    /// The forward pass's layout of `weights`, kept for the next call while they do not
    /// change: [`Rnn::params_mut`] drops it.
    layout: Option<Packed>,
    cache: Option<RnnCache>,
}

impl<C: Cell> Rnn<C> {
    /// An unbuilt layer with Keras' defaults: bias on, `return_sequences`, `return_state` and
    /// `go_backwards` off.
    pub(crate) fn new(units: usize, cell: C) -> Self {
        Rnn {
            base: LayerBase::new(),
            units,
            cell,
            use_bias: true,
            return_sequences: false,
            return_state: false,
            go_backwards: false,
            dropout: DropoutConfig::default(),
            weights: Vec::new(),
            layout: None,
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
        if steps == 0 || input_dim == 0 || input_dim == NONE {
            return Err(Error::ShapeMismatch {
                layer: self.name.clone(),
                expected: "(None, steps, features) with steps > 0 (or None, any length) and a \
                           known number of features > 0"
                    .into(),
                found: keras_shape(input_shape),
            });
        }
        // A huge `units` is an error naming the layer, not an overflow or an aborted allocation.
        let (units, columns) = (self.units, self.units.saturating_mul(C::LAYOUT.gates));
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
        self.layout = None;
        self.cache = None;
        let output_shape = if self.return_sequences { vec![steps, units] } else { vec![units] };
        Ok(self.base.built(input_shape, output_shape))
    }

    pub(crate) fn class_name(&self) -> &'static str {
        C::CLASS_NAME
    }

    pub(crate) fn params(&self) -> Vec<&Param> {
        self.weights.iter().collect()
    }

    /// The weights, to change: their laid-out copy is dropped.
    pub(crate) fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layout = None;
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
}

impl<C> std::ops::Deref for Rnn<C> {
    type Target = LayerBase;

    fn deref(&self) -> &LayerBase {
        &self.base
    }
}
