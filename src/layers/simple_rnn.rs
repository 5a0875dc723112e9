//! `SimpleRnn`: the fully-connected recurrent layer of the lesson.
//!
//! h_t = act(x_t·W + h_{t−1}·U + b), h_{−1} = 0, with `W = kernel (input_dim, units)`,
//! `U = recurrent_kernel (units, units)` and `b = bias (units)`: units·(units + input_dim) + units
//! parameters. The loop (chunks, masks, BPTT) is `recurrent.rs`'s; the step is
//! `recurrent/cells/simple_rnn.rs`'s.

use super::recurrent::cells::SimpleRnnCell;
use super::recurrent::{recurrent_layer, Rnn};
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

recurrent_layer!(SimpleRnn);
