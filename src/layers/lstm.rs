//! `Lstm`: the long short-term memory layer, as Keras' `LSTM`.
//!
//! z_t = x_t·W + h_{t−1}·U + b, split into four blocks of `units` in Keras' gate order i, f, c, o:
//! i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o); c_t = f ⊙ c_{t−1} + i ⊙ g and
//! h_t = o ⊙ act(c_t), from h_{−1} = c_{−1} = 0 (keras/src/layers/rnn/lstm.py, `LSTMCell.call`).
//! The loop (chunks, masks, BPTT) is `recurrent.rs`'s; the step is
//! `recurrent/cells/lstm.rs`'s.

use super::recurrent::cells::LstmCell;
use super::recurrent::{recurrent_layer, Rnn};
use crate::activations::Activation;

/// A long short-term memory layer, as Keras' `LSTM`.
///
/// Keeps two states of `units` values, h (the output) and the cell c. Each step computes four
/// gates from z_t = x_t·W + h_{t−1}·U + b, in Keras' order input, forget, candidate, output:
/// i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o), then c_t = f ⊙ c_{t−1} + i ⊙ g and
/// h_t = o ⊙ act(c_t), from zero states; σ is the recurrent activation. The weights are Keras':
/// `kernel (input_dim, 4·units)`, `recurrent_kernel (units, 4·units)` and `bias (4·units)`, the
/// gates as consecutive blocks of `units` columns, so 4·(units·(units + input_dim) + units)
/// parameters. With a mask, a masked step carries both states (and the output) through unchanged.
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
/// model.add(Lstm::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// // 4·(units·(units + input_dim) + units) = 4·(32·(32 + 32) + 32)
/// assert_eq!(model.summary()?.layers()[1].params, 8_320);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Lstm {
    rnn: Rnn<LstmCell>,
}

impl Lstm {
    /// An LSTM layer with `units` state values. Defaults as Keras: tanh activation, sigmoid
    /// recurrent activation, bias on with the forget gate's initialised to 1
    /// (`unit_forget_bias`), `return_sequences` and `go_backwards` off, kernel glorot_uniform,
    /// recurrent kernel orthogonal.
    pub fn new(units: usize) -> Self {
        let cell = LstmCell {
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            unit_forget_bias: true,
        };
        Lstm { rnn: Rnn::new(units, cell) }
    }

    /// The activation `act` of the candidate g and of the cell in h_t = o ⊙ act(c_t).
    /// Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.rnn.cell.activation = activation;
        self
    }

    /// The activation σ of the input, forget and output gates. Default:
    /// [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.rnn.cell.recurrent_activation = recurrent_activation;
        self
    }

    /// Whether the forget gate's bias starts at 1 rather than 0 (Jozefowicz et al., 2015), so
    /// that the cell remembers by default. Default: `true`.
    pub fn unit_forget_bias(mut self, unit_forget_bias: bool) -> Self {
        self.rnn.cell.unit_forget_bias = unit_forget_bias;
        self
    }
}

recurrent_layer!(Lstm);
