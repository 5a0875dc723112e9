//! `SimpleRnn`: the fully-connected recurrent layer of the lesson.
//!
//! h_t = act(x_t·W + h_{t−1}·U + b), h_{−1} = 0, with `W = kernel (input_dim, units)`,
//! `U = recurrent_kernel (units, units)` and `b = bias (units)`: units·(units + input_dim) + units
//! parameters. The loop (chunks, masks, BPTT) is `recurrent.rs`'s; this file holds the step.

use super::recurrent::{activate, derive, recurrent_layer, Cell, Rnn};
use crate::activations::Activation;

/// A fully-connected recurrent layer, as Keras' `SimpleRNN`.
///
/// Reads a sequence step by step and keeps a state vector of `units` values:
/// h_t = act(x_t·W + h_{t−1}·U + b), starting from h_{−1} = 0. With a mask, a masked step carries
/// the state (and, with `return_sequences`, the output) through unchanged, as Keras does.
///
/// # Shapes
/// Input `(batch, steps, input_dim)`; output `(batch, units)`, or `(batch, steps, units)` with
/// `return_sequences(true)`. With `go_backwards(true)` the sequence is read from its end, and the
/// returned sequence is in that reversed order (Keras' behaviour).
///
/// # Errors
/// `build` fails for `units == 0` or a dropout rate outside `[0, 1)`
/// ([`Error::InvalidArgument`](crate::Error::InvalidArgument)) and for inputs that are not
/// `(steps, features)` sequences
/// ([`Error::ShapeMismatch`](crate::Error::ShapeMismatch)); see [`Layer`](super::Layer) for the
/// errors of `forward` and `backward`.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(SimpleRnn::new(32));
/// // units·(units + input_dim) + units = 32·(32 + 32) + 32
/// assert_eq!(model.summary()?.layers()[1].params, 2_080);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SimpleRnn {
    rnn: Rnn<SimpleRnnCell>,
}

/// The step h_t = act(z_t), z_t = x_t·W + b + h_{t−1}·U.
#[derive(Clone, Debug)]
pub(crate) struct SimpleRnnCell {
    activation: Activation,
}

impl SimpleRnn {
    /// A recurrent layer with `units` state values. Defaults as Keras: tanh activation, bias on,
    /// `return_sequences` and `go_backwards` off, weights glorot_uniform / orthogonal / zeros.
    pub fn new(units: usize) -> Self {
        SimpleRnn { rnn: Rnn::new(units, SimpleRnnCell { activation: Activation::Tanh }) }
    }

    /// The activation `act` of the update. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.rnn.cell.activation = activation;
        self
    }
}

/// One block per step: z_t on entry, h_t on exit; the gradient block is dL/dz_t.
impl Cell for SimpleRnnCell {
    const CLASS_NAME: &'static str = "SimpleRNN";
    const GATES: usize = 1;
    const STEP_BLOCKS: usize = 1;
    const RECURRENT_INTO: &'static [usize] = &[0];
    const GRAD_BLOCKS: usize = 1;
    const INPUT_GRAD: usize = 0;
    const RECURRENT_GRAD: &'static [usize] = &[0];
    const CARRY: bool = false;
    const RECURRENT_BIAS: bool = false;

    fn forward(
        &self,
        units: usize,
        step: &mut [f32],
        _h_prev: &[f32],
        _c_prev: &[f32],
        h: &mut [f32],
        _c: &mut [f32],
    ) {
        activate(self.activation, step, units);
        h.copy_from_slice(step);
    }

    fn backward(
        &self,
        units: usize,
        _step: &[f32],
        _h_prev: &[f32],
        _c_prev: &[f32],
        h: &[f32],
        dh: &mut [f32],
        _dc: &mut [f32],
        grad: &mut [f32],
    ) {
        // dz_t = dh_t ⊙ act'(z_t), written through h_t; all of dh_{t−1} goes through U.
        grad.copy_from_slice(dh);
        derive(self.activation, h, grad, units);
        dh.fill(0.0);
    }
}

recurrent_layer!(SimpleRnn);
