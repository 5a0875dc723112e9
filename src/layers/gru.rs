//! `Gru`: the gated recurrent unit, as Keras 3's `GRU` (with its default `reset_after=True`).
//!
//! From x_t·W + b_in and h_{t−1}·U + b_rec, split into blocks of `units` in Keras' gate order
//! z (update), r (reset), h: z = σ(x_z + r_z), r = σ(x_r + r_r), h̃ = act(x_h + r ⊙ r_h) and
//! h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃, from h_{−1} = 0 (keras/src/layers/rnn/gru.py, `GRUCell.call`
//! with `reset_after`). The loop (chunks, masks, BPTT) is `recurrent.rs`'s; the step is
//! `recurrent/cells/gru.rs`'s.

use super::recurrent::cells::GruCell;
use super::recurrent::{recurrent_layer, Rnn};
use crate::activations::Activation;

/// A gated recurrent unit layer, as Keras 3's `GRU` with its default `reset_after=True` (the
/// formulation of cuDNN, where the reset gate applies after the recurrent product).
///
/// Keeps a state h of `units` values. Each step computes, with x = x_t·W + b_in and
/// ρ = h_{t−1}·U + b_rec split into Keras' gate order update, reset, candidate:
/// z = σ(x_z + ρ_z), r = σ(x_r + ρ_r), h̃ = act(x_h + r ⊙ ρ_h) and
/// h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃, from h_{−1} = 0; σ is the recurrent activation. The weights
/// are Keras': `kernel (input_dim, 3·units)`, `recurrent_kernel (units, 3·units)` and
/// `bias (2, 3·units)` (row 0 b_in, row 1 b_rec), so 3·(units·(units + input_dim) + 2·units)
/// parameters. With a mask, a masked step carries the state (and the output) through unchanged.
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
/// model.add(Gru::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// // 3·(units·(units + input_dim) + 2·units) = 3·(32·(32 + 32) + 64)
/// assert_eq!(model.summary()?.layers()[1].params, 6_336);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Gru {
    rnn: Rnn<GruCell>,
}

impl Gru {
    /// A GRU layer with `units` state values. Defaults as Keras 3: tanh activation, sigmoid
    /// recurrent activation, `reset_after`, bias on (zeros), `return_sequences` and
    /// `go_backwards` off, kernel glorot_uniform, recurrent kernel orthogonal.
    pub fn new(units: usize) -> Self {
        let cell =
            GruCell { activation: Activation::Tanh, recurrent_activation: Activation::Sigmoid };
        Gru { rnn: Rnn::new(units, cell) }
    }

    /// The activation `act` of the candidate h̃. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.rnn.cell.activation = activation;
        self
    }

    /// The activation σ of the update and reset gates. Default: [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.rnn.cell.recurrent_activation = recurrent_activation;
        self
    }
}

recurrent_layer!(Gru);
